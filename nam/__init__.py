"""nam: neuron-astrocyte associative memory and its neighbours as JAX energy models.

Models are frozen equinox Modules with an `energy` and a vector field tested against it; dynamics are
diffrax solves (continuous) or jitted lax loops (binary), single-sample and batched with jax.vmap.

**One export convention** (the optax way): every subpackage is a namespace that re-exports its own
public names (`nam.models`, `nam.dynamics`, `nam.sweep`, `nam.capacity`, `nam.learning`,
`nam.spiking`, `nam.astrosnn`, `nam.attention`, `nam.experiments`); the core ones (models, dynamics, sweeps) and the
Lagrangians and pattern helpers are also flat here, `nam.<name>`. No public name is defined twice.
"""

from . import astrosnn as astrosnn
from . import attention as attention
from . import capacity as capacity
from . import dynamics as dynamics
from . import experiments as experiments
from . import learning as learning
from . import models as models
from . import spiking as spiking
from . import sweep as sweep
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
from ._patterns import flip_bits as flip_bits, overlap as overlap, random_patterns as random_patterns
from .dynamics import (
    BinaryRetrieval as BinaryRetrieval,
    BlockSpectrum as BlockSpectrum,
    JacobianSpectrum as JacobianSpectrum,
    Retrieval as Retrieval,
    SolverConfig as SolverConfig,
    Status as Status,
    jacobian_spectrum as jacobian_spectrum,
    retrieve as retrieve,
    retrieve_batch as retrieve_batch,
    retrieve_binary as retrieve_binary,
    settle as settle,
    status_ok as status_ok,
)
from .models import (
    AbstractAstrocyteTensor as AbstractAstrocyteTensor,
    AbstractDenseTensor as AbstractDenseTensor,
    AbstractBinaryModel as AbstractBinaryModel,
    AbstractEnergyModel as AbstractEnergyModel,
    AbstractSeparation as AbstractSeparation,
    AbstractSingleLayerModel as AbstractSingleLayerModel,
    ClassicalHopfield as ClassicalHopfield,
    DenseAssociativeMemory as DenseAssociativeMemory,
    DenseTensor as DenseTensor,
    ExponentialSeparation as ExponentialSeparation,
    HebbianTensor as HebbianTensor,
    HiddenNeuronDAM as HiddenNeuronDAM,
    HiddenState as HiddenState,
    KroneckerTensor as KroneckerTensor,
    NeuronAstrocyte as NeuronAstrocyte,
    NeuronAstrocyteEffective as NeuronAstrocyteEffective,
    NeuronAstrocyteState as NeuronAstrocyteState,
    Polynomial as Polynomial,
    RectifiedPolynomial as RectifiedPolynomial,
)
from .sweep import (
    SpecMismatch as SpecMismatch,
    SweepInterrupted as SweepInterrupted,
    SweepResult as SweepResult,
    SweepSpec as SweepSpec,
    format_plan as format_plan,
    format_summary as format_summary,
    initialize_distributed as initialize_distributed,
    load_sweep as load_sweep,
    merge_sweeps as merge_sweeps,
    plan_sweep as plan_sweep,
    preset as preset,
    run_sweep as run_sweep,
    shard_pairs as shard_pairs,
    write_sweep_figures as write_sweep_figures,
)

__version__ = "0.1.0"

_RENAMED = {"write_figures": "write_sweep_figures"}  # names that clashed across subpackages


def __getattr__(name):
    if name in _RENAMED:
        raise AttributeError(f"`nam.{name}` was renamed `nam.{_RENAMED[name]}` (see CHANGELOG.md)")
    raise AttributeError(f"module 'nam' has no attribute {name!r}")
