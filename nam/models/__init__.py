"""Energy models: Lagrangians' partners, the single-layer models, the neuron-astrocyte networks, astrocyte
tensors and separation functions. A namespace of `nam` (`nam.models.<name>`); its names are also flat in
`nam` (`nam.<name>`), like the rest of the core (dynamics, sweeps).

**Extending.** A model of your own subclasses one of the abstract bases here (`AbstractSingleLayerModel`,
`AbstractEnergyModel`, `AbstractBinaryModel`, `AbstractAstrocyteTensor`, `AbstractDenseTensor`,
`AbstractSeparation`) and checks its arguments with the validation helpers exported here (`check_patterns`,
`check_scalar`, `check_vector`, `optional_vector`, `check_square`, `optional_square`, `check_mask`,
`check_lagrangian`): the same ones nam's own models call (docs/adding-a-model.md).
"""

from .._checks import check_mask as check_mask
from .._checks import check_patterns as check_patterns
from .._checks import check_scalar as check_scalar
from .._checks import check_square as check_square
from .._checks import check_vector as check_vector
from .._checks import optional_square as optional_square
from .._checks import optional_vector as optional_vector
from .._lagrangians import check_lagrangian as check_lagrangian
from ._astrocyte_tensor import AbstractAstrocyteTensor as AbstractAstrocyteTensor
from ._astrocyte_tensor import AbstractDenseTensor as AbstractDenseTensor
from ._astrocyte_tensor import DenseTensor as DenseTensor
from ._astrocyte_tensor import HebbianTensor as HebbianTensor
from ._astrocyte_tensor import KroneckerTensor as KroneckerTensor
from ._base import AbstractBinaryModel as AbstractBinaryModel
from ._base import AbstractEnergyModel as AbstractEnergyModel
from ._base import AbstractSingleLayerModel as AbstractSingleLayerModel
from ._dense import DenseAssociativeMemory as DenseAssociativeMemory
from ._hidden import HiddenNeuronDAM as HiddenNeuronDAM
from ._hidden import HiddenState as HiddenState
from ._hopfield import ClassicalHopfield as ClassicalHopfield
from ._neuron_astrocyte import NeuronAstrocyte as NeuronAstrocyte
from ._neuron_astrocyte import NeuronAstrocyteEffective as NeuronAstrocyteEffective
from ._neuron_astrocyte import NeuronAstrocyteState as NeuronAstrocyteState
from ._separation import AbstractSeparation as AbstractSeparation
from ._separation import ExponentialSeparation as ExponentialSeparation
from ._separation import Polynomial as Polynomial
from ._separation import RectifiedPolynomial as RectifiedPolynomial
