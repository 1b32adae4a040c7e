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
from ._lagrangians import AbstractLagrangian as AbstractLagrangian
from ._lagrangians import Exponential as Exponential
from ._lagrangians import Identity as Identity
from ._lagrangians import LogCosh as LogCosh
from ._lagrangians import LogSumExp as LogSumExp
from ._lagrangians import RectifiedPower as RectifiedPower
from ._lagrangians import Softplus as Softplus
from ._lagrangians import SphericalNorm as SphericalNorm
from ._patterns import flip_bits as flip_bits
from ._patterns import overlap as overlap
from ._patterns import random_patterns as random_patterns
from .dynamics import BinaryRetrieval as BinaryRetrieval
from .dynamics import BlockSpectrum as BlockSpectrum
from .dynamics import JacobianSpectrum as JacobianSpectrum
from .dynamics import Retrieval as Retrieval
from .dynamics import SolverConfig as SolverConfig
from .dynamics import Status as Status
from .dynamics import euler_trajectory as euler_trajectory
from .dynamics import jacobian_spectrum as jacobian_spectrum
from .dynamics import retrieve as retrieve
from .dynamics import retrieve_batch as retrieve_batch
from .dynamics import retrieve_binary as retrieve_binary
from .dynamics import settle as settle
from .dynamics import status_ok as status_ok
from .models import AbstractAstrocyteTensor as AbstractAstrocyteTensor
from .models import AbstractBinaryModel as AbstractBinaryModel
from .models import AbstractDenseTensor as AbstractDenseTensor
from .models import AbstractEnergyModel as AbstractEnergyModel
from .models import AbstractSeparation as AbstractSeparation
from .models import AbstractSingleLayerModel as AbstractSingleLayerModel
from .models import ClassicalHopfield as ClassicalHopfield
from .models import DenseAssociativeMemory as DenseAssociativeMemory
from .models import DenseTensor as DenseTensor
from .models import ExponentialSeparation as ExponentialSeparation
from .models import HebbianTensor as HebbianTensor
from .models import HiddenNeuronDAM as HiddenNeuronDAM
from .models import HiddenState as HiddenState
from .models import KroneckerTensor as KroneckerTensor
from .models import NeuronAstrocyte as NeuronAstrocyte
from .models import NeuronAstrocyteEffective as NeuronAstrocyteEffective
from .models import NeuronAstrocyteState as NeuronAstrocyteState
from .models import Polynomial as Polynomial
from .models import RectifiedPolynomial as RectifiedPolynomial
from .models import check_lagrangian as check_lagrangian
from .models import check_mask as check_mask
from .models import check_patterns as check_patterns
from .models import check_scalar as check_scalar
from .models import check_square as check_square
from .models import check_vector as check_vector
from .models import optional_square as optional_square
from .models import optional_vector as optional_vector
from .sweep import REGISTRY as REGISTRY
from .sweep import SpecMismatch as SpecMismatch
from .sweep import SweepInterrupted as SweepInterrupted
from .sweep import SweepModel as SweepModel
from .sweep import SweepResult as SweepResult
from .sweep import SweepSpec as SweepSpec
from .sweep import format_plan as format_plan
from .sweep import format_summary as format_summary
from .sweep import initialize_distributed as initialize_distributed
from .sweep import load_sweep as load_sweep
from .sweep import merge_sweeps as merge_sweeps
from .sweep import plan_sweep as plan_sweep
from .sweep import plot_bit_errors as plot_bit_errors
from .sweep import plot_capacity as plot_capacity
from .sweep import plot_collapse as plot_collapse
from .sweep import plot_per_unit as plot_per_unit
from .sweep import preset as preset
from .sweep import register_sweep_model as register_sweep_model
from .sweep import run_sweep as run_sweep
from .sweep import shard_pairs as shard_pairs
from .sweep import write_sweep_figures as write_sweep_figures

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
