"""Learning astrocyte tensors (and other parameters) by differentiating through the dynamics.

`_tensors.py`: learnable tensors that keep T's symmetries for every parameter value;
`_loss.py`: retrieval losses computed by running the network (BPTT or implicit gradients, chosen by
`nam.SolverConfig(adjoint=...)`); `_train.py`: the optax training loop with checkpoints and resume;
`_digits.py`: the correlated-digits demonstration (`nam learn`).
"""

from ._digits import digit_patterns as digit_patterns
from ._loss import LossAux as LossAux, build_model as build_model, retrieval_loss as retrieval_loss
from ._tensors import (
    SymmetricKronecker as SymmetricKronecker,
    SymmetrizedDense as SymmetrizedDense,
    parameter_count as parameter_count,
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
