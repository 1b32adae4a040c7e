"""The attention limit of the neuron-astrocyte network (Kozachkov, Slotine & Krotov, Appendix C; Kozachkov,
Kastanenka & Krotov, PNAS 2023): the dynamical system, its closed-form fixed point (linear attention), the
positive random features that make it approximate softmax attention, and an attention layer. A namespace of
`nam` (`nam.attention.<name>`).
"""

from ._features import (
    AbstractPositiveFeatures as AbstractPositiveFeatures,
    LearnedPositiveFeatures as LearnedPositiveFeatures,
    PositiveRandomFeatures as PositiveRandomFeatures,
    softmax_kernel as softmax_kernel,
)
from ._linear import (
    astrocyte_attention as astrocyte_attention,
    linear_attention as linear_attention,
    softmax_attention as softmax_attention,
)
from ._layer import AstrocyteAttention as AstrocyteAttention
from ._network import (
    AttentionNetwork as AttentionNetwork,
    AttentionState as AttentionState,
    NetworkSolution as NetworkSolution,
    hebbian_write as hebbian_write,
    read_init as read_init,
    solve_network as solve_network,
)
