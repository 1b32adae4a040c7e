"""Storage capacity of the binary associative memories: theory and per-trial retrieval criteria.

`_theory.py` holds the closed-form predictions (signal-to-noise ratio of one bit's local field, bit
error probability, the no-error capacity of McEliece et al. 1987 and Krotov & Hopfield 2016, the
Amit-Gutfreund-Sompolinsky 0.138 N) and the statistics a capacity sweep needs (a power-law fit with
a t-distribution interval, a percentile bootstrap). `_criteria.py` holds the single-sample retrieval
criteria (one-step bit stability, exact fixed points, retrieval from a corrupted cue), which jit and
vmap; `_search.py` the adaptive K* search; `_self_coupling.py` the mean-field K* ~ N^2 of the continuous
neuron-astrocyte memory whose Hebbian tensor keeps its repeated indices (eq. 10 as printed). The theory
functions take `distinct_indices=True` for the memory on pairwise distinct indices
(`nam.HebbianTensor(xi, distinct_indices=True)`), whose no-error load is N^3 / (12 ln N). Use them as
`nam.capacity.<name>`.
"""

from ._criteria import RetrievalOutcome as RetrievalOutcome
from ._criteria import is_fixed_point as is_fixed_point
from ._criteria import one_step_stable_bits as one_step_stable_bits
from ._criteria import retrieval_outcome as retrieval_outcome
from ._search import CrossingResult as CrossingResult
from ._search import find_crossing as find_crossing
from ._self_coupling import self_coupling_capacity as self_coupling_capacity
from ._stats import BootstrapCI as BootstrapCI
from ._stats import PowerLawFit as PowerLawFit
from ._stats import bootstrap_ci as bootstrap_ci
from ._stats import fit_power_law as fit_power_law
from ._stats import student_t_quantile as student_t_quantile
from ._theory import amit_capacity as amit_capacity
from ._theory import bit_error_probability as bit_error_probability
from ._theory import double_factorial as double_factorial
from ._theory import fixed_point_capacity as fixed_point_capacity
from ._theory import fixed_point_fraction as fixed_point_fraction
from ._theory import fixed_point_fraction_at_no_error_load as fixed_point_fraction_at_no_error_load
from ._theory import no_error_capacity as no_error_capacity
from ._theory import normal_cdf as normal_cdf
from ._theory import snr as snr
