"""Learning astrocyte tensors (and other parameters) by differentiating through the dynamics.

`_tensors.py`: learnable tensors that keep T's symmetries for every parameter value;
`_loss.py`: retrieval losses computed by running the network (BPTT or implicit gradients, chosen by
`nam.SolverConfig(adjoint=...)`); `_train.py`: the optax training loop with checkpoints and resume, and the
one optimizer factory;
`_reduced.py`: the reduced non-symmetric model of Appendix E, `_inpainting.py`: its image patches and masks.
The demonstrations (`nam learn digits|inpainting|gain`) are `nam.experiments.LearnDigits`, `LearnInpainting`
and `LearnGain`.
"""

from .._data import digit_patterns as digit_patterns
from .._deprecation import moved_getattr as _moved_getattr
from ._inpainting import image_patches as image_patches
from ._inpainting import masked_input as masked_input
from ._inpainting import masked_rms as masked_rms
from ._inpainting import mean_fill as mean_fill
from ._inpainting import random_masks as random_masks
from ._loss import LossAux as LossAux
from ._loss import build_energy_model as build_energy_model
from ._loss import retrieval_loss as retrieval_loss
from ._reduced import ReducedAstrocyteNet as ReducedAstrocyteNet
from ._tensors import SymmetricKronecker as SymmetricKronecker
from ._tensors import SymmetrizedDense as SymmetrizedDense
from ._tensors import tensor_parameter_count as tensor_parameter_count
from ._train import CheckpointError as CheckpointError
from ._train import NonFiniteLoss as NonFiniteLoss
from ._train import TrainInterrupted as TrainInterrupted
from ._train import TrainState as TrainState
from ._train import checkpoint_config as checkpoint_config
from ._train import load_checkpoint as load_checkpoint
from ._train import make_optimizer as make_optimizer
from ._train import train as train

__getattr__ = _moved_getattr(
    "nam.learning",
    {"build_model": "nam.learning.build_energy_model", "parameter_count": "nam.learning.tensor_parameter_count"},
)
