"""nam: neuron-astrocyte associative memory and its neighbours as JAX energy models.

Models are frozen equinox Modules with an `energy` and a vector field tested against it; dynamics are
diffrax solves (continuous) or jitted lax loops (binary), single-sample and batched with jax.vmap.

**One export convention** (the optax way): every subpackage is a namespace that re-exports its own
public names (`nam.models`, `nam.dynamics`, `nam.sweep`, `nam.capacity`, `nam.learning`,
`nam.spiking`, `nam.astrosnn`, `nam.attention`, `nam.experiments`, the last five imported on first use); the
core ones (models, dynamics, sweeps) and the Lagrangians and pattern helpers are also flat here, `nam.<name>`.
No public name is defined twice.
"""

import importlib as _importlib

from . import capacity as capacity
from . import dynamics as dynamics
from . import models as models
from . import sweep as sweep
from ._deprecation import moved_getattr as _moved_getattr
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
    euler_trajectory as euler_trajectory,
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
    check_lagrangian as check_lagrangian,
    check_mask as check_mask,
    check_patterns as check_patterns,
    check_scalar as check_scalar,
    check_square as check_square,
    check_vector as check_vector,
    optional_square as optional_square,
    optional_vector as optional_vector,
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
    REGISTRY as REGISTRY,
    SweepModel as SweepModel,
    register_sweep_model as register_sweep_model,
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
    plot_bit_errors as plot_bit_errors,
    plot_capacity as plot_capacity,
    plot_collapse as plot_collapse,
    plot_per_unit as plot_per_unit,
    write_sweep_figures as write_sweep_figures,
)

__version__ = "0.1.0"

# imported on first use (`nam.astrosnn` holds the LSTM and transformer baselines, `nam.experiments` every
# command's figures and files): `import nam` loads the core alone
_LAZY = ("astrosnn", "attention", "experiments", "learning", "spiking")
_moved = _moved_getattr("nam", {"write_figures": "nam.write_sweep_figures"})


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f"{__name__}.{name}")
    return _moved(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
