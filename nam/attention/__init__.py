"""The attention limit of the neuron-astrocyte network (Kozachkov, Slotine & Krotov, Appendix C; Kozachkov,
Kastanenka & Krotov, PNAS 2023): the dynamical system, its closed-form fixed point (linear attention), the
positive random features that make it approximate softmax attention, and an attention layer. A namespace of
`nam` (`nam.attention.<name>`).
"""

from ._features import AbstractPositiveFeatures as AbstractPositiveFeatures
from ._features import LearnedPositiveFeatures as LearnedPositiveFeatures
from ._features import PositiveRandomFeatures as PositiveRandomFeatures
from ._features import softmax_kernel as softmax_kernel
from ._layer import AstrocyteAttention as AstrocyteAttention
from ._linear import astrocyte_attention as astrocyte_attention
from ._linear import linear_attention as linear_attention
from ._linear import softmax_attention as softmax_attention
from ._network import AttentionNetwork as AttentionNetwork
from ._network import AttentionState as AttentionState
from ._network import NetworkSolution as NetworkSolution
from ._network import hebbian_write as hebbian_write
from ._network import read_init as read_init
from ._network import solve_network as solve_network
