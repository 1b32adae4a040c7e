"""Energy models: Lagrangians' partners, the single-layer models, the neuron-astrocyte networks, astrocyte
tensors and separation functions. A namespace of `nam` (`nam.models.<name>`); its names are also flat in
`nam` (`nam.<name>`), like the rest of the core (dynamics, sweeps).

**Extending.** A model of your own subclasses one of the abstract bases here (`AbstractSingleLayerModel`,
`AbstractEnergyModel`, `AbstractBinaryModel`, `AbstractAstrocyteTensor`, `AbstractDenseTensor`,
`AbstractSeparation`) and checks its arguments with the validation helpers exported here (`check_patterns`,
`check_scalar`, `check_vector`, `optional_vector`, `check_square`, `optional_square`, `check_mask`,
`check_lagrangian`): the same ones nam's own models call (docs/adding-a-model.md).
"""

from .._checks import (
    check_mask as check_mask,
    check_patterns as check_patterns,
    check_scalar as check_scalar,
    check_square as check_square,
    check_vector as check_vector,
    optional_square as optional_square,
    optional_vector as optional_vector,
)
from .._lagrangians import check_lagrangian as check_lagrangian

from ._astrocyte_tensor import (
    AbstractAstrocyteTensor as AbstractAstrocyteTensor,
    AbstractDenseTensor as AbstractDenseTensor,
    DenseTensor as DenseTensor,
    HebbianTensor as HebbianTensor,
    KroneckerTensor as KroneckerTensor,
)
from ._base import (
    AbstractBinaryModel as AbstractBinaryModel,
    AbstractEnergyModel as AbstractEnergyModel,
    AbstractSingleLayerModel as AbstractSingleLayerModel,
)
from ._dense import DenseAssociativeMemory as DenseAssociativeMemory
from ._hidden import HiddenNeuronDAM as HiddenNeuronDAM, HiddenState as HiddenState
from ._hopfield import ClassicalHopfield as ClassicalHopfield
from ._neuron_astrocyte import (
    NeuronAstrocyte as NeuronAstrocyte,
    NeuronAstrocyteEffective as NeuronAstrocyteEffective,
    NeuronAstrocyteState as NeuronAstrocyteState,
)
from ._separation import (
    AbstractSeparation as AbstractSeparation,
    ExponentialSeparation as ExponentialSeparation,
    Polynomial as Polynomial,
    RectifiedPolynomial as RectifiedPolynomial,
)
