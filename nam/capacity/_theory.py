"""Capacity theory of binary associative memories, and the statistics a capacity sweep needs.

Setting: K independent unbiased +-1 memories of N bits stored in a Dense Associative Memory with
F(z) = z^n (`nam.DenseAssociativeMemory(xi, nam.Polynomial(n))`, Krotov & Hopfield 2016, eq. 2-3);
n = 2 is the classical Hopfield network with zero diagonal (`nam.ClassicalHopfield`, Hopfield 1982).
Start the network at memory xi_1. Bit i keeps its value under one flip-difference update iff its
stability field

    G_i = xi_1i sum_mu [F(h_mu + xi_mu,i) - F(h_mu - xi_mu,i)],   h_mu = sum_{j != i} xi_mu,j xi_1,j,

is >= 0 (a tie keeps the bit). The mu = 1 term is the signal, D(N - 1) with D(h) = (h+1)^n - (h-1)^n
~ 2n N^(n-1); the K - 1 other terms are independent, symmetric, with variance E[D(h)^2] ~
4 n^2 (2n-3)!! N^(n-1) (h is a sum of N - 1 random signs, E h^(2n-2) ~ (2n-3)!! N^(n-1)). Their ratio
is the signal-to-noise ratio of Krotov & Hopfield 2016, sec. 2,

    S = N^(n-1) / (K (2n-3)!!),

and in the Gaussian approximation of the noise one bit is unstable with probability
P_err = Phi(-sqrt(S)). Requiring K N P_err -> 0 gives the no-error capacity
K = N^(n-1) / (2 (2n-3)!! ln N) (McEliece, Posner, Rodemich & Venkatesh 1987: N / (2 ln N) for n = 2;
N^3 / (30 ln N) for n = 4). Amit, Gutfreund & Sompolinsky 1985 give the larger 0.138 N for Hopfield
retrieval with a small fraction of wrong bits allowed.

Why fitted slopes sit below n - 1: log K* = (n-1) log N - log ln N + const, so
d log K* / d log N = (n - 1) - 1 / ln N. Over N = 100..1000 the local slope of Hopfield's N / (2 ln N)
runs from 0.78 to 0.86. A fit over N1..N2 measures a slope between these (with two points, the
secant (n - 1) - ln(ln N2 / ln N1) / ln(N2 / N1)), not n - 1. Compare fits with the fit of the theory curve
over the same N, not with the bare exponent.

Finite N, three corrections, each measured in tests/test_capacity_theory.py:
- The leading-order S replaces N - 1 by N and K - 1 by K. At the loads a test can reach the K - 1
  matters (Hopfield at N = 200, K = 20: S = 10.0 against the exact-moment 199/19 = 10.47, a 30 %
  change in P_err), so `snr(..., finite_size=True)` uses the exact first two moments of G_i.
- The crosstalk is a sum of K - 1 terms D(h), not a Gaussian. For Hopfield it is a binomial, and
  Phi(-sqrt(S)) with the exact moments is its normal approximation (within 2 % at N = 200 when K is
  odd, where it is the continuity-corrected one; 3 % when K is even).
  For n >= 3 the terms are heavy-tailed (D(h) ~ h^(n-1)), the excess kurtosis of the sum is
  ~ (E h^(4n-4) / E[h^(2n-2)]^2 - 3) / K, and the Gaussian underestimates P_err (17 % at n = 3,
  N = 60, K = 120; 5 % at N = 100, K = 362).
- The N bits of one memory are not independent: every field G_i is built from the same overlaps
  m_mu = xi_mu . xi_1 of xi_1 with the other memories (N G_i = (N - 1) - (K - 1) + sum_mu c_mu,i m_mu
  for Hopfield, c_mu,i = xi_mu,i xi_1,i). The fraction of exact fixed points is E_m[(1 - p(m))^N], above
  (1 - E_m p(m))^N because (1 - p)^N is convex: 0.928 against 0.921 for Hopfield at N = 400, K = 33.
  The per-bit error rate is unaffected.

Distinct indices (`distinct_indices=True`): the energy -sum_mu n! e_n(xi_mu * sigma) keeps only
the products of n pairwise distinct bits (e_n the elementary symmetric polynomial), as the
neuron-astrocyte network does with `nam.HebbianTensor(xi, distinct_indices=True)` (Kozachkov, Slotine
& Krotov, eq. 10 restricted to distinct i, j, k, l; then n = 4). Bit i's stability field is then
xi_1i sum_mu xi_mu,i (n-1)! e_(n-1)(a_mu without a_i), a_mu = xi_mu * sigma: no term contains bit i,
and the crosstalk of memory mu is (n-1)! e_(n-1) of N - 1 random signs, whose products of distinct
signs are orthonormal, so E[noise^2] = ((n-1)!)^2 C(N-1, n-1) exactly. With the signal
(n-1)! C(N-1, n-1), the exact first two moments give S = C(N-1, n-1) / (K - 1), to leading order

    S = N^(n-1) / (K (n-1)!),      no-error capacity N^(n-1) / (2 (n-1)! ln N)   (N^3 / (12 ln N), n = 4).

The plain rule's F(h + 1) - F(h - 1) keeps the terms of h^(n-1) in which some bit j != i repeats:
they carry no signal but add crosstalk ((2n-3)!! against (n-1)!: 15 against 6 for n = 4), so the
distinct-index memory's no-error load is 2.5 times larger at n = 4 (both are the Hopfield network at
n = 2). For
degree 4 the lattice form is exact: with h the sum of the N - 1 signs, 6 e_3 = h^3 - (3N - 5) h.

Functions take numpy scalars or arrays for N and K and return numpy values; none of them jits.
"""

import math
from typing import Any

import numpy as np
from jaxtyping import ArrayLike

from .._checks import ArgumentTypeError, as_float64_numpy, check_bool, check_int, check_number, is_integer

# numbers, numpy or JAX arrays, or lists / tuples of numbers
_Real = ArrayLike | list | tuple

# --------------------------------------------------------------------------------------------------
# validation


def _check_degree(degree: Any) -> int:
    return check_int("degree", degree, 2)


def _real_array(name: str, x: Any, minimum: float) -> np.ndarray:
    arr = as_float64_numpy(name, x)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {x!r}")
    if not np.all(arr >= minimum):
        raise ValueError(f"`{name}` must be >= {minimum:g}, got {x!r}")
    return arr


def _check_level(level: Any) -> float:
    return check_number("level", level, minimum=0.0, maximum=1.0, open_min=True, open_max=True)


def _scalar_or_array(x: np.ndarray | np.generic) -> np.ndarray | float:
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


# --------------------------------------------------------------------------------------------------
# formulas


MAX_EXACT_N = 10**6  # the largest N of the exact finite-N theory (fixed_point_capacity)


def double_factorial(m: int) -> int:
    """m!! = m (m-2) (m-4) ... down to 1 or 2, exactly; 1 for m <= 0 (so (2n-3)!! = 1 for n = 2).

    Used with odd m: (2n-3)!! = E[g^(2n-2)] for a standard normal g, the moment behind the DAM noise.

    **Arguments:** `m`: an integer >= -1.

    **Returns:** m!!, an int.

    **Raises:** `ValueError` for m < -1.
    """
    if not is_integer(m):
        raise ArgumentTypeError(f"`m` must be an integer, got {m!r}")
    if m < -1:
        raise ValueError(f"`m` must be >= -1 (m!! is 1 for m = -1 and 0, undefined below), got {m}")
    return math.prod(range(int(m), 0, -2)) if m > 0 else 1


def _rademacher_sum_pmf(n_terms: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and probabilities of a sum of `n_terms` independent +-1 signs (float64 via lgamma)."""
    b = np.arange(n_terms + 1, dtype=np.float64)
    logp = (
        math.lgamma(n_terms + 1)
        - np.vectorize(math.lgamma)(b + 1)
        - np.vectorize(math.lgamma)(n_terms - b + 1)
        - n_terms * math.log(2.0)
    )
    return 2.0 * b - n_terms, np.exp(logp)


def _flip_difference(h: np.ndarray | float, degree: int) -> np.ndarray | float:
    """D(h) = (h+1)^n - (h-1)^n = 2 sum_{j odd} C(n, j) h^(n-j), without the cancellation."""
    return 2.0 * sum(math.comb(degree, j) * h ** (degree - j) for j in range(1, degree + 1, 2))


def _exact_moment_ratio(n: int, degree: int) -> float:
    """D(N-1)^2 / E[D(h)^2] with h a sum of N - 1 random signs: S (K - 1) at finite N."""
    h, p = _rademacher_sum_pmf(n - 1)
    signal = _flip_difference(np.float64(n - 1), degree)
    return float(signal**2 / np.sum(p * _flip_difference(h, degree) ** 2))


def _noise_moment(degree: int, distinct_indices: bool) -> int:
    """E[noise^2] / N^(degree-1) to leading order: (2 degree - 3)!!, or (degree - 1)! on distinct indices."""
    distinct_indices = check_bool("distinct_indices", distinct_indices)
    return math.factorial(degree - 1) if distinct_indices else double_factorial(2 * degree - 3)


def snr(
    n: _Real, k: _Real, degree: int = 2, *, finite_size: bool = False, distinct_indices: bool = False
) -> np.ndarray | float:
    """Signal-to-noise ratio S of one bit's stability field at a stored memory.

    Leading order (Krotov & Hopfield 2016, sec. 2; Hopfield 1982 for degree 2):

        S = N^(degree-1) / (K (2 degree - 3)!!),        S = N / K for classical Hopfield.

    With `finite_size=True`, the exact ratio mean^2 / variance of the field G_i defined in the module
    docstring, for the self-excluded rule of `nam.DenseAssociativeMemory(xi, nam.Polynomial(degree))`
    and `nam.ClassicalHopfield(xi)` (zero diagonal): S = D(N-1)^2 / ((K-1) E[D(h)^2]); for degree 2
    this is (N - 1) / (K - 1). It needs integer N and is infinite at K = 1 (no crosstalk).

    With `distinct_indices=True`, the memory on pairwise distinct indices (see the module docstring;
    `nam.HebbianTensor(xi, distinct_indices=True)` for degree 4): S = N^(degree-1) / (K (degree-1)!),
    exactly C(N-1, degree-1) / (K - 1) with `finite_size=True`.

    `n` (>= 2) and `k` (>= 1) broadcast as numpy arrays; returns a float or an array.

    **Arguments:** `n`, `k`: neurons N >= 2 and memories K >= 1; `degree`: the interaction order;
    `finite_size`: the exact finite-N moments instead of the leading order; `distinct_indices`: the
    tensor on distinct indices.

    **Returns:** S, a float or an array.
    """
    degree = _check_degree(degree)
    finite_size = check_bool("finite_size", finite_size)
    moment = _noise_moment(degree, distinct_indices)
    n_arr = _real_array("n", n, 2.0)
    k_arr = _real_array("k", k, 1.0)
    if not finite_size:
        return _scalar_or_array(n_arr ** (degree - 1) / (k_arr * moment))
    if not np.all(n_arr == np.round(n_arr)):
        raise ValueError(f"`n` must be integer-valued with finite_size=True, got {n!r}")
    if distinct_indices:
        if not np.all(n_arr >= degree):
            raise ValueError(f"`n` must be >= degree = {degree} with distinct_indices=True, got {n!r}")
        ratio = np.vectorize(lambda m: float(math.comb(int(m) - 1, degree - 1)), otypes=[np.float64])(n_arr)
    else:
        ratio = np.vectorize(lambda m: _exact_moment_ratio(int(m), degree), otypes=[np.float64])(n_arr)
    with np.errstate(divide="ignore"):
        return _scalar_or_array(np.where(k_arr > 1, ratio / np.maximum(k_arr - 1.0, 0.0), np.inf))


def normal_cdf(x: _Real) -> np.ndarray | float:
    """Phi(x), the standard normal CDF (`scipy.special.ndtr`, accurate in the far lower tail: no
    1 - erf cancellation).

    **Arguments:** `x`: a real number or array.

    **Returns:** Phi(x), a float for a scalar `x`, else an array of its shape.
    """
    from scipy.special import ndtr

    x_arr = as_float64_numpy("x", x)
    if np.any(np.isnan(x_arr)):
        raise ValueError("`x` must not be NaN")
    return _scalar_or_array(ndtr(x_arr))


def bit_error_probability(
    n: _Real, k: _Real, degree: int = 2, *, finite_size: bool = False, distinct_indices: bool = False
) -> np.ndarray | float:
    """P_err = Phi(-sqrt(S)): the probability that one bit of a stored memory flips in one update,
    in the Gaussian approximation of the crosstalk (Krotov & Hopfield 2016, sec. 2). See `snr`.

    **Arguments:** `n`, `k`: neurons N and memories K (broadcasting); `degree`: the interaction order;
    `finite_size`, `distinct_indices`: as for `snr`.

    **Returns:** P_err, a float or an array.
    """
    s = np.asarray(snr(n, k, degree, finite_size=finite_size, distinct_indices=distinct_indices))
    return normal_cdf(-np.sqrt(s))


def fixed_point_fraction(
    n: _Real, k: _Real, degree: int = 2, *, finite_size: bool = False, distinct_indices: bool = False
) -> np.ndarray | float:
    """(1 - P_err)^N: the predicted fraction of stored memories that are exact one-step fixed points,
    treating the N bits as independent.

    They are not quite: all N fields of a memory share its overlaps with the other memories, and a
    memory with larger overlaps has more unstable bits. Averaging (1 - p)^N over the overlaps gives a
    larger fraction than (1 - P_err)^N (Jensen); the gap is 0.008 for Hopfield at N = 400, K = 33 with
    the exact P_err. It vanishes only slowly with N: for Hopfield the noise variance of a memory's bits
    is sum_mu m_mu^2, whose relative spread is sqrt(2 / (K - 1)) (see the module docstring).
    `distinct_indices`: see `snr`.

    **Arguments:** `n`, `k`: neurons N and memories K (broadcasting); `degree`; `finite_size`,
    `distinct_indices`: as for `snr`.

    **Returns:** (1 - P_err)^N, a float or an array.
    """
    n_arr = _real_array("n", n, 2.0)
    p = np.asarray(bit_error_probability(n, k, degree, finite_size=finite_size, distinct_indices=distinct_indices))
    return _scalar_or_array(np.exp(n_arr * np.log1p(-p)))


def no_error_capacity(n: _Real, degree: int = 2, *, distinct_indices: bool = False) -> np.ndarray | float:
    """K = N^(degree-1) / (2 (2 degree - 3)!! ln N): the load at which S = 2 ln N.

    McEliece, Posner, Rodemich & Venkatesh 1987 (N / (2 ln N) for Hopfield); Krotov & Hopfield 2016,
    sec. 2 (N^3 / (30 ln N) for F = z^4). At this load N P_err -> 0 only as 1/sqrt(ln N): a
    fraction exp(-1/sqrt(4 pi ln N)) of the memories are exact fixed points (see
    `fixed_point_fraction_at_no_error_load`), not all of them.

    With `distinct_indices=True`: K = N^(degree-1) / (2 (degree-1)! ln N), N^3 / (12 ln N) for the
    neuron-astrocyte tensor on distinct indices (degree 4; see `snr` and the module docstring).

    **Arguments:** `n`: neurons N (a number or an array, >= 2); `degree`: the interaction order n >= 2;
    `distinct_indices`: the tensor on distinct indices.

    **Returns:** the load K, a float or an array like `n`.
    """
    degree = _check_degree(degree)
    moment = _noise_moment(degree, distinct_indices)
    n_arr = _real_array("n", n, 2.0)
    return _scalar_or_array(n_arr ** (degree - 1) / (2.0 * moment * np.log(n_arr)))


def fixed_point_capacity(
    n: _Real, degree: int = 2, *, level: float = 0.5, finite_size: bool = True, distinct_indices: bool = False
) -> np.ndarray | float:
    """The load K at which `fixed_point_fraction(N, K, degree)` falls to `level` (default 0.5): the
    theory for the K* a sweep measures with `criterion="fixed_point"`.

    This, not the no-error load, is what a measured K* and its fitted exponent should be compared with
    at finite N: the no-error load keeps P_err N -> 0, while the 50 % crossing sits at N P_err = ln 2,
    and the two scale differently over a finite N range (for Hopfield on N = 100..400, local slopes
    0.73 against 0.81). Solved by bisection in log K (K real, > 1); `n` may be an array.
    `distinct_indices`: see `snr`.

    **Arguments:** `n`: neurons N (a number or an array); `degree`: the interaction order; `level`: the
    fraction; `finite_size`, `distinct_indices`: as for `snr`.

    **Returns:** the load K, a float or an array like `n`.
    """
    finite_size = check_bool("finite_size", finite_size)
    degree = _check_degree(degree)
    level = _check_level(level)
    _noise_moment(degree, distinct_indices)
    n_arr = _real_array("n", n, 2.0)
    if np.any(n_arr > MAX_EXACT_N):
        raise ValueError(
            f"`n` must be <= {MAX_EXACT_N:.0e} for fixed_point_capacity (its exact finite-N crosstalk "
            f"distribution costs O(N) per evaluation), got {np.max(n_arr):.3g}"
        )

    def solve(m: float) -> float:
        frac = lambda k: float(
            fixed_point_fraction(m, k, degree, finite_size=finite_size, distinct_indices=distinct_indices)
        )
        lo, hi = 1.0 + 1e-9, 2.0
        while frac(hi) > level:
            lo, hi = hi, 2.0 * hi
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if frac(mid) > level else (lo, mid)
            if hi / lo < 1.0 + 1e-12:
                break
        return math.sqrt(lo * hi)

    return _scalar_or_array(np.vectorize(solve, otypes=[np.float64])(n_arr))


def amit_capacity(n: _Real) -> np.ndarray | float:
    """K = 0.138 N (Amit, Gutfreund & Sompolinsky 1985): the load beyond which a Hopfield network's
    retrieval states (overlap 0.967 at that load, ~1.6 % of the bits wrong) disappear.

    **Arguments:** `n`: neurons N (a number or an array).

    **Returns:** 0.138 N, a float or an array like `n`.
    """
    return _scalar_or_array(0.138 * _real_array("n", n, 2.0))


def fixed_point_fraction_at_no_error_load(n: _Real) -> np.ndarray | float:
    """exp(-1 / sqrt(4 pi ln N)): the asymptotic fraction of memories that are exact fixed points at
    K = `no_error_capacity(N, degree)`, for every degree.

    At that load S = 2 ln N, so by the Mills ratio Phi(-x) ~ exp(-x^2/2) / (x sqrt(2 pi)),
        P_err = Phi(-sqrt(2 ln N)) ~ exp(-ln N) / sqrt(4 pi ln N) = 1 / (N sqrt(4 pi ln N)),
    and with the N bits nearly independent the chance that all of them are stable is
        (1 - P_err)^N ~ exp(-N P_err) = exp(-1 / sqrt(4 pi ln N)).
    At finite N each step is an approximation, and they do not cancel: the Mills ratio overstates
    P_err by ~ 1 / (1 - 1/(2 ln N)); rounding K and the K - 1 of the exact moments move S; and the
    bits of one memory are correlated through its overlaps (see `fixed_point_fraction`). For Hopfield
    at N = 400, K = 33 the formula gives 0.891, the exact Phi with the leading S 0.905, with the exact
    S 0.921, and the measured fraction is 0.928. Use it as the large-N limit, not as a finite-N
    prediction.

    **Arguments:** `n`: neurons N >= 2 (a number or an array).

    **Returns:** exp(-1 / sqrt(4 pi ln N)), a float or an array.
    """
    n_arr = _real_array("n", n, 2.0)
    return _scalar_or_array(np.exp(-1.0 / np.sqrt(4.0 * np.pi * np.log(n_arr))))
