"""Locating a capacity K*: the load at which a retrieval fraction crosses a level (50% by default).

The fraction f(K) is measured at a few loads only, chosen adaptively: start at a guess (the theory
value), double or halve K until f brackets the level, then bisect in log K. K* is where a logistic
regression of all measurements, logit f = a + b log K (weighted by trials, fitted by iteratively
reweighted least squares), crosses the level. Its confidence interval is a bootstrap over the
measurements: every measured fraction is redrawn as Binomial(trials, f_hat) / trials and the fit
repeated. When a measurement's trials come in clusters that share their memories (the sweep's memory
sets, several cues per set), `evaluate` also returns the successes per cluster, and the bootstrap
resamples the clusters of each load with replacement instead (a cluster bootstrap: trials of one set
are not independent, and treating them as such would understate the interval). (Holding the final
bracket fixed would understate the error: the bisection's own decisions
near the crossing are noisy, so the truth often lies just outside the last bracket.)

`find_crossing` takes the measurement as a callable, so the same search serves any model, criterion and
engine; it asks for each load at most once and in a deterministic order, so a resumed sweep that
replays stored measurements takes exactly the same path.
"""

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._checks import check_callable, check_int, check_number, is_integer


class CrossingResult(NamedTuple):
    """Outcome of `find_crossing`.

    - `k_star`: the interpolated crossing load (NaN when the level was not bracketed).
    - `ci`: (low, high) bootstrap interval of `k_star` at the requested level (NaN when not bracketed).
    - `bracket`: (k_lo, k_hi) with f(k_lo) >= level > f(k_hi), adjacent or within `rel_tol`.
    - `points`: every measurement as (K, successes, trials), in the order they were made.
    - `status`: "bracketed", "below_range" (f < level already at k_min), "above_range" (f >= level
      still at k_max) or "budget_exhausted" (`max_evals` measurements did not reach a bracket).

    **Fields:** as listed above.
    """

    k_star: float
    ci: tuple[float, float]
    bracket: tuple[int, int] | None
    points: tuple[tuple[int, int, int], ...]
    status: str


def _logistic_crossing(
    logk: np.ndarray, frac: np.ndarray, trials: np.ndarray, level: float, iters: int = 50
) -> np.ndarray:
    """log K where logit f = a + b log K crosses logit(level), for each row of `frac` (B, P).

    Weighted IRLS (Newton's method on the binomial log-likelihood), vectorised over rows. A row whose fit
    does not decrease (b >= 0) or does not converge (perfectly separated data) gets NaN.

    Why it is written here rather than taken from a library: the bootstrap fits the same two-parameter
    model to `n_boot` (2000) resampled rows at once, and this loop does all of them in one set of numpy
    array operations (about 10 iterations of a 2 x 2 solve per row). scipy has no vectorised logistic
    regression (`scipy.optimize.minimize` would be 2000 separate Python-level optimisations, each far
    slower), and statsmodels or scikit-learn would be a new dependency for a 2 x 2 Newton step.
    `tests/test_capacity_search.py` checks it against `scipy.optimize.minimize` of the same likelihood.
    """
    x = logk - logk.mean()
    a = np.zeros(frac.shape[0])
    b = np.zeros(frac.shape[0])
    eps = 1e-9
    for _ in range(iters):
        eta = a[:, None] + b[:, None] * x[None, :]
        p = np.clip(1.0 / (1.0 + np.exp(-eta)), eps, 1.0 - eps)
        w = trials[None, :] * p * (1.0 - p)
        z = eta + (frac - p) / (p * (1.0 - p))
        sw, swx, swxx = w.sum(1), (w * x).sum(1), (w * x * x).sum(1)
        swz, swxz = (w * z).sum(1), (w * x * z).sum(1)
        det = sw * swxx - swx * swx
        with np.errstate(divide="ignore", invalid="ignore"):
            a_new = (swxx * swz - swx * swxz) / det
            b_new = (sw * swxz - swx * swz) / det
        done = np.all(np.abs(a_new - a) < 1e-10) and np.all(np.abs(b_new - b) < 1e-10)
        a, b = a_new, b_new
        if done:
            break
    logit = math.log(level / (1.0 - level))
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (logit - a) / b + logk.mean()
    ok = np.isfinite(cross) & (b < 0) & (np.abs(b) < 1e6)
    return np.where(ok, cross, np.nan)


def find_crossing(
    evaluate: Callable[[int], tuple[int, int]],
    k0: int,
    *,
    level: float = 0.5,
    k_min: int = 1,
    k_max: int = 10**7,
    rel_tol: float = 0.05,
    max_evals: int = 40,
    ci_level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> CrossingResult:
    """Find K* where the fraction evaluate(K) = (successes, trials) crosses `level` from above.

    `evaluate(K)` may also return (successes, trials, per_cluster): the successes of equal-sized clusters
    of correlated trials (summing to `successes`), which the interval's bootstrap then resamples.

    Doubling/halving from `k0` to a bracket within [k_min, k_max], then bisection in log K until
    k_hi - k_lo <= max(1, rel_tol * k_lo) or `max_evals` measurements.

    **Arguments:**

    - `evaluate`: K -> (successes, trials) or (successes, trials, per_cluster).
    - `k0`: the first load, in [k_min, k_max]; `level`: the crossing level in (0, 1).
    - `k_min`, `k_max`: the loads allowed; `rel_tol`: the bracket's relative width at which to stop.
    - `max_evals`: measurements at most; `ci_level`, `n_boot`, `seed`: the bootstrap interval.

    **Returns:** a `CrossingResult`.
    """
    check_callable("evaluate", evaluate)
    for name, count in (("k0", k0), ("k_min", k_min), ("k_max", k_max), ("max_evals", max_evals), ("n_boot", n_boot)):
        check_int(name, count)
    check_int("seed", seed, 0)
    if not k_min <= k0 <= k_max:
        raise ValueError(f"`k0` must lie in [k_min, k_max] = [{k_min}, {k_max}], got {k0}")
    for name, value in (("level", level), ("ci_level", ci_level)):
        check_number(name, value, minimum=0.0, maximum=1.0, open_min=True, open_max=True)
    check_number("rel_tol", rel_tol, minimum=0.0)

    m = _Measurements(evaluate, max_evals)
    frac = m.frac

    def result(bracket, status):
        return _result(m, bracket, status, level, ci_level, n_boot, seed)

    bracketed = False
    try:
        k = k0
        if frac(k) >= level:
            lo = k
            while True:
                if lo >= k_max:
                    return result(None, "above_range")
                hi = min(2 * lo, k_max)
                if frac(hi) < level:
                    break
                lo = hi
        else:
            hi = k
            while True:
                if hi <= k_min:
                    return result(None, "below_range")
                lo = max(hi // 2, k_min)
                if frac(lo) >= level:
                    break
                hi = lo
        bracketed = True
        while hi - lo > max(1.0, rel_tol * lo):
            mid = int(round(math.sqrt(lo * hi)))
            mid = min(max(mid, lo + 1), hi - 1)
            if frac(mid) >= level:
                lo = mid
            else:
                hi = mid
    except _Budget:
        if not bracketed:
            return result(None, "budget_exhausted")
    return result((lo, hi), "bracketed")


class _Measurements:
    """The loads measured by a search, in order: (successes, trials) per load, and the per-cluster successes of
    the loads whose trials are clustered; `frac(k)` measures `k` once (checking what `evaluate` returns)."""

    def __init__(self, evaluate: Callable, max_evals: int):
        self.evaluate, self.max_evals = evaluate, max_evals
        self.measured: dict[int, tuple[int, int]] = {}
        self.clusters: dict[int, np.ndarray] = {}
        self.order: list[int] = []

    def frac(self, k: int) -> float:
        if k not in self.measured:
            if len(self.order) >= self.max_evals:
                raise _Budget
            out = self.evaluate(k)
            if not isinstance(out, (tuple, list)) or len(out) not in (2, 3):
                raise ValueError(
                    f"`evaluate({k})` must return (successes, trials) or (successes, trials, "
                    f"per-cluster successes), got {out!r}"
                )
            s, t = out[:2]
            if not (is_integer(t) and t >= 1 and 0 <= s <= t):
                raise ValueError(
                    f"`evaluate({k})` must return (successes, trials) with 0 <= successes <= "
                    f"trials and trials >= 1, got {out}"
                )
            if len(out) == 3:
                c = np.asarray(out[2], dtype=np.int64)
                if (
                    c.ndim != 1
                    or c.size < 1
                    or t % c.size
                    or np.any(c < 0)
                    or np.any(c > t // c.size)
                    or int(c.sum()) != s
                ):
                    raise ValueError(
                        f"`evaluate({k})`: the successes per cluster must be equal-sized clusters "
                        f"summing to {s} of {t} trials, got {out[2]}"
                    )
                self.clusters[k] = c
            self.measured[k] = (int(s), int(t))
            self.order.append(k)
        s, t = self.measured[k]
        return s / t


def _result(
    m: _Measurements, bracket, status: str, level: float, ci_level: float, n_boot: int, seed: int
) -> CrossingResult:
    """K* from a logistic fit of the measured fractions against log K, its bootstrap interval (binomial
    resampling per load; clustered loads resample their clusters), and the search's bracket and status."""
    order, measured = m.order, m.measured
    points = tuple((k, *measured[k]) for k in order)
    if bracket is None:
        return CrossingResult(math.nan, (math.nan, math.nan), None, points, status)
    ks = np.array(order, dtype=float)
    succ = np.array([measured[k][0] for k in order], dtype=float)
    tri = np.array([measured[k][1] for k in order], dtype=float)
    logk = np.log(ks)
    est = _logistic_crossing(logk, (succ / tri)[None, :], tri, level)[0]
    lo, hi = bracket
    if not np.isfinite(est):  # separated data: the crossing lies between the bracketing loads
        est = 0.5 * (math.log(lo) + math.log(hi))
    rng = np.random.default_rng(seed)
    boot = rng.binomial(tri.astype(np.int64)[None, :], (succ / tri)[None, :], (n_boot, len(order))) / tri
    for j, k in enumerate(order):  # clustered loads: resample their clusters (memory sets)
        if k in m.clusters:
            c = m.clusters[k]
            boot[:, j] = c[rng.integers(0, c.size, (n_boot, c.size))].sum(axis=1) / tri[j]
    cross = _logistic_crossing(logk, boot, tri, level)
    cross = np.where(np.isfinite(cross), cross, est)
    alpha = 0.5 * (1.0 - ci_level)
    ci = (float(np.exp(np.quantile(cross, alpha))), float(np.exp(np.quantile(cross, 1.0 - alpha))))
    return CrossingResult(float(math.exp(est)), ci, bracket, points, status)


class _Budget(Exception):
    """The measurement budget ran out; the search stops with the current bracket."""
