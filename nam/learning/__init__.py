"""Learning astrocyte tensors (and other parameters) by differentiating through the dynamics.

`_tensors.py`: learnable tensors that keep T's symmetries for every parameter value;
`_loss.py`: retrieval losses computed by running the network (BPTT or implicit gradients, chosen by
`nam.SolverConfig(adjoint=...)`); `_train.py`: the optax training loop with checkpoints and resume, and the one optimizer factory;
`_reduced.py`: the reduced non-symmetric model of Appendix E, `_inpainting.py`: its image patches and masks.
The demonstrations (`nam learn digits|inpainting|gain`) are `nam.experiments.LearnDigits`, `LearnInpainting`
and `LearnGain`.
"""

from .._data import digit_patterns as digit_patterns
from .._deprecation import moved_getattr as _moved_getattr
from ._inpainting import (
    image_patches as image_patches,
    masked_input as masked_input,
    masked_rms as masked_rms,
    mean_fill as mean_fill,
    random_masks as random_masks,
)
from ._loss import LossAux as LossAux, build_energy_model as build_energy_model, retrieval_loss as retrieval_loss
from ._reduced import ReducedAstrocyteNet as ReducedAstrocyteNet
from ._tensors import (
    SymmetricKronecker as SymmetricKronecker,
    SymmetrizedDense as SymmetrizedDense,
    tensor_parameter_count as tensor_parameter_count,
)
from ._train import (
    CheckpointError as CheckpointError,
    NonFiniteLoss as NonFiniteLoss,
    TrainInterrupted as TrainInterrupted,
    TrainState as TrainState,
    checkpoint_config as checkpoint_config,
    load_checkpoint as load_checkpoint,
    make_optimizer as make_optimizer,
    train as train,
)

__getattr__ = _moved_getattr("nam.learning", {
    "build_model": "nam.learning.build_energy_model",
    "parameter_count": "nam.learning.tensor_parameter_count",
})
