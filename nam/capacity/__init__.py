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

from ._criteria import (
    RetrievalOutcome as RetrievalOutcome,
    is_fixed_point as is_fixed_point,
    one_step_stable_bits as one_step_stable_bits,
    retrieval_outcome as retrieval_outcome,
)
from ._search import CrossingResult as CrossingResult, find_crossing as find_crossing
from ._self_coupling import self_coupling_capacity as self_coupling_capacity
from ._theory import (
    BootstrapCI as BootstrapCI,
    PowerLawFit as PowerLawFit,
    amit_capacity as amit_capacity,
    bit_error_probability as bit_error_probability,
    bootstrap_ci as bootstrap_ci,
    double_factorial as double_factorial,
    fit_power_law as fit_power_law,
    fixed_point_capacity as fixed_point_capacity,
    fixed_point_fraction as fixed_point_fraction,
    fixed_point_fraction_at_no_error_load as fixed_point_fraction_at_no_error_load,
    no_error_capacity as no_error_capacity,
    normal_cdf as normal_cdf,
    snr as snr,
    student_t_quantile as student_t_quantile,
)
