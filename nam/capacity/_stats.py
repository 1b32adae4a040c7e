"""Statistics of the capacity measurements: the Student-t quantile, the power-law fit of K*(N) with its
confidence interval, and bootstrap intervals (`nam.capacity.fit_power_law`, `bootstrap_ci`)."""

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from .._checks import ArgumentTypeError, as_float64_numpy, check_callable, check_int, check_number, is_integer
from ._theory import _check_level, _Real, _real_array


def student_t_quantile(q: float | int, dof: float | int) -> float:
    """The q-quantile of Student's t distribution with `dof` > 0 degrees of freedom
    (`scipy.special.stdtrit`). Examples: t_{0.975, 1} = 12.706, t_{0.975, 5} = 2.571,
    t_{0.975, 30} = 2.042.

    **Arguments:** `q`: a probability in (0, 1); `dof`: the degrees of freedom, > 0.

    **Returns:** the quantile, a float.

    **Raises:** `TypeError`/`ValueError` for a `q` or `dof` out of range.
    """
    from scipy.special import stdtrit

    q = check_number("q", q, minimum=0.0, maximum=1.0, open_min=True, open_max=True)
    dof = check_number("dof", dof, minimum=0.0, open_min=True)
    if q == 0.5:
        return 0.0
    if q < 0.5:  # computed from the upper quantile, so t_q = -t_(1-q) exactly
        return -float(stdtrit(dof, 1.0 - q))
    return float(stdtrit(dof, q))


# --------------------------------------------------------------------------------------------------
# fits and intervals


class PowerLawFit(NamedTuple):
    """log K* = intercept + slope log N (natural logs), with a `level` confidence interval
    [slope_low, slope_high] for the slope from Student's t with `dof` = points - 2.

    **Fields:** `slope`, `intercept`, `slope_low`, `slope_high`, `slope_stderr` (floats), `dof` (int),
    `level` (float).
    """

    slope: float
    intercept: float
    slope_low: float
    slope_high: float
    slope_stderr: float
    dof: int
    level: float


def fit_power_law(n: _Real, k_star: _Real, level: float | int = 0.95) -> PowerLawFit:
    """Ordinary least squares of log K* = a + b log N, and a t interval for the exponent b.

    b_hat = S_xy / S_xx, se(b) = sqrt(SSR / ((m - 2) S_xx)), interval b_hat -+ t_{(1+level)/2, m-2} se(b)
    over m points (the textbook regression interval, errors assumed independent and equal in log K*).
    With two points the line is exact and there is no error estimate: the interval is (-inf, inf).

    The fitted b of a theory curve K* = c N^(degree-1) / ln N is below degree - 1 at every finite N
    (d log K*/d log N = (degree - 1) - 1/ln N; see the module docstring), so a measured slope should be
    compared with the same fit applied to `no_error_capacity` over the same N.

    **Arguments:** `n`, `k_star`: the measured N and K* (1-d, the same length, at least 2 points,
    positive); `level`: the interval's coverage.

    **Returns:** a `PowerLawFit`.
    """
    level = _check_level(level)
    n_arr, k_arr = _real_array("n", n, 2.0), _real_array("k_star", k_star, 0.0)
    if n_arr.ndim != 1:
        raise ValueError(f"`n` must be a 1-d array of sizes, got shape {n_arr.shape}")
    if k_arr.ndim != 1:
        raise ValueError(f"`k_star` must be a 1-d array of capacities, got shape {k_arr.shape}")
    if n_arr.shape != k_arr.shape:
        raise ValueError(f"`n` and `k_star` must have the same length, got {n_arr.shape[0]} and {k_arr.shape[0]}")
    if n_arr.shape[0] < 2:
        raise ValueError(f"`n` must hold at least 2 points for a fit, got {n_arr.shape[0]}")
    if not np.all(k_arr > 0):
        raise ValueError(f"`k_star` must be > 0 (it is fitted in log space), got {k_star!r}")
    x, y = np.log(n_arr), np.log(k_arr)
    sxx = float(np.sum((x - x.mean()) ** 2))
    if sxx == 0.0:
        raise ValueError("`n` must hold at least 2 distinct sizes for a fit")
    slope = float(np.sum((x - x.mean()) * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * x.mean())
    dof = n_arr.shape[0] - 2
    if dof == 0:
        return PowerLawFit(slope, intercept, -math.inf, math.inf, math.inf, 0, level)
    ssr = float(np.sum((y - intercept - slope * x) ** 2))
    se = math.sqrt(ssr / (dof * sxx))
    half = student_t_quantile(0.5 * (1.0 + level), dof) * se
    return PowerLawFit(slope, intercept, slope - half, slope + half, se, dof, level)


class BootstrapCI(NamedTuple):
    """A statistic of the sample (`estimate`) and its percentile-bootstrap interval [low, high].

    **Fields:** `estimate`, `low`, `high` (floats).
    """

    estimate: float
    low: float
    high: float


def _generator(key_or_seed: Any) -> np.random.Generator:
    if is_integer(key_or_seed):
        if key_or_seed < 0:
            raise ValueError(f"`key_or_seed` must be a non-negative integer seed or a JAX key, got {key_or_seed!r}")
        return np.random.default_rng(int(key_or_seed))
    if isinstance(key_or_seed, jax.Array):
        if jax.dtypes.issubdtype(key_or_seed.dtype, jax.dtypes.prng_key):
            key_or_seed = jax.random.key_data(key_or_seed)
        if key_or_seed.dtype == np.uint32:
            return np.random.default_rng(np.asarray(key_or_seed).ravel().tolist())
    raise ArgumentTypeError(f"`key_or_seed` must be a non-negative integer seed or a JAX key, got {key_or_seed!r}")


def bootstrap_ci(
    samples: _Real,
    statistic: Callable[[np.ndarray], Any],
    key_or_seed: Any,
    n_boot: int = 1000,
    level: float | int = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap (Efron 1979): resample the 1-d `samples` with replacement `n_boot` times,
    apply `statistic` (a function of a 1-d numpy array returning a scalar), and return the
    (1 - level)/2 and (1 + level)/2 quantiles of the replicates.

    Deterministic: the resampling draws from numpy's default Generator seeded by `key_or_seed` (an
    integer, or a JAX PRNG key whose key data seeds it).

    **Arguments:** `samples`: a 1-d array; `statistic`: a function of a 1-d numpy array returning a
    scalar; `key_or_seed`: an integer or a JAX PRNG key; `n_boot`: replicates; `level`: the interval's
    coverage in (0, 1).

    **Returns:** a `BootstrapCI` (estimate, low, high).
    """
    level = _check_level(level)
    n_boot = check_int("n_boot", n_boot, 2)
    check_callable("statistic", statistic)
    x = as_float64_numpy("samples", samples)
    if x.ndim != 1:
        raise ValueError(f"`samples` must be 1-d, got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"`samples` must hold at least 2 values, got {x.shape[0]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("`samples` must be finite")
    rng = _generator(key_or_seed)
    idx = rng.integers(0, x.shape[0], size=(int(n_boot), x.shape[0]))
    reps = np.array([float(statistic(x[row])) for row in idx])
    low, high = np.quantile(reps, [0.5 * (1.0 - level), 0.5 * (1.0 + level)])
    return BootstrapCI(float(statistic(x)), float(low), float(high))
