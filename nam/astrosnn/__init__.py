"""AstroSNN (Shen et al., arXiv 2312.07625): the astrocyte-modulated spiking unit, reconstructed from the
paper's Figure 1 (see `_amsu.py` for the assumptions), with surrogate-gradient spikes (`_surrogate.py`).
Work in progress: the AM-SU layer and its two forms; the network, baselines and tasks are not built yet."""

from ._amsu import AMSU as AMSU
from ._surrogate import SURROGATES as SURROGATES, spike as spike, surrogate_derivative as surrogate_derivative
