"""Energy models: Lagrangians' partners, the single-layer models, the neuron-astrocyte networks, astrocyte
tensors and separation functions. A namespace of `nam` (`nam.models.<name>`); its names are also flat in
`nam` (`nam.<name>`), like the rest of the core (dynamics, sweeps)."""

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
