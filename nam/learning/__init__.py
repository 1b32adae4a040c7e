"""Learning astrocyte tensors (and other parameters) by differentiating through the dynamics.

`_tensors.py`: learnable tensors that keep T's symmetries for every parameter value;
`_loss.py`: retrieval losses computed by running the network (BPTT or implicit gradients, chosen by
`nam.SolverConfig(adjoint=...)`); `_train.py`: the optax training loop with checkpoints and resume;
`_digits.py`: the correlated-digits demonstration (`nam learn`).
"""

from ._digits import digit_patterns as digit_patterns
from ._loss import LossAux as LossAux, build_energy_model as build_energy_model, retrieval_loss as retrieval_loss
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

_RENAMED = {"build_model": "build_energy_model", "parameter_count": "tensor_parameter_count"}


def __getattr__(name):
    if name in _RENAMED:  # names that clashed with nam.astrosnn's
        raise AttributeError(f"`nam.learning.{name}` was renamed `nam.learning.{_RENAMED[name]}` (see CHANGELOG.md)")
    raise AttributeError(f"module 'nam.learning' has no attribute {name!r}")
