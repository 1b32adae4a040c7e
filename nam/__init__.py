"""nam: neuron-astrocyte associative memory and its neighbours as JAX energy models.

Models are frozen equinox Modules with an `energy` and a vector field derived from it; dynamics are
diffrax solves (continuous) or jitted lax loops (binary), single-sample and batched with jax.vmap.
"""

from ._lagrangians import (
    AbstractLagrangian as AbstractLagrangian,
    Exponential as Exponential,
    Identity as Identity,
    LogCosh as LogCosh,
    LogSumExp as LogSumExp,
    RectifiedPower as RectifiedPower,
    Softplus as Softplus,
    SphericalNorm as SphericalNorm,
)
from . import capacity as capacity
from . import learning as learning
from . import astrosnn as astrosnn
from . import spiking as spiking
from ._patterns import flip_bits as flip_bits, overlap as overlap, random_patterns as random_patterns
from .dynamics._binary import BinaryRetrieval as BinaryRetrieval, retrieve_binary as retrieve_binary
from .dynamics._config import SolverConfig as SolverConfig
from .dynamics._retrieve import (
    Retrieval as Retrieval,
    retrieve as retrieve,
    retrieve_batch as retrieve_batch,
    settle as settle,
)
from .dynamics._status import Status as Status, status_ok as status_ok
from .models._astrocyte_tensor import (
    AbstractAstrocyteTensor as AbstractAstrocyteTensor,
    DenseTensor as DenseTensor,
    HebbianTensor as HebbianTensor,
    KroneckerTensor as KroneckerTensor,
)
from .models._base import AbstractBinaryModel as AbstractBinaryModel, AbstractEnergyModel as AbstractEnergyModel
from .models._dense import DenseAssociativeMemory as DenseAssociativeMemory
from .models._hidden import HiddenNeuronDAM as HiddenNeuronDAM, HiddenState as HiddenState
from .models._hopfield import ClassicalHopfield as ClassicalHopfield
from .models._neuron_astrocyte import (
    NeuronAstrocyte as NeuronAstrocyte,
    NeuronAstrocyteEffective as NeuronAstrocyteEffective,
    NeuronAstrocyteState as NeuronAstrocyteState,
)
from .models._separation import (
    AbstractSeparation as AbstractSeparation,
    ExponentialSeparation as ExponentialSeparation,
    Polynomial as Polynomial,
    RectifiedPolynomial as RectifiedPolynomial,
)

from .sweep._engine import (
    SpecMismatch as SpecMismatch,
    SweepInterrupted as SweepInterrupted,
    SweepResult as SweepResult,
    load_sweep as load_sweep,
    merge_sweeps as merge_sweeps,
    run_sweep as run_sweep,
    shard_pairs as shard_pairs,
)
from .sweep._distributed import initialize_distributed as initialize_distributed
from .sweep._plan import format_plan as format_plan, plan_sweep as plan_sweep
from .sweep._report import format_summary as format_summary, write_figures as write_figures
from .sweep._spec import SweepSpec as SweepSpec, preset as preset

__version__ = "0.1.0"
