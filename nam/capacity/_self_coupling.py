"""Capacity of the continuous neuron-astrocyte memory with the Hebbian tensor of eq. 10 as printed:
the self-coupling of repeated indices limits it to K* ~ N^2 (Kozachkov, Slotine & Krotov, eqs. 8, 10).

Setting: the effective model (eq. 8), tau x_i' = -x_i + sum_jkl T_ijkl phi_j phi_k phi_l, with
T_ijkl = scale sum_mu xi_i xi_j xi_k xi_l (eq. 10; `nam.HebbianTensor(xi, scale)`), activation
phi = tanh(beta x) (`nam.LogCosh(beta)`, the default of `nam.NeuronAstrocyteEffective` is beta = 5),
cue x(0) = memory xi_1 with n_f = round(rho N) bits flipped (`nam.flip_bits`). Write sigma = scale N^3
(1 for the default scale 1/N^3), kappa = K / N^2 and m_mu = xi_mu . phi.

Field on bit i. The field is scale sum_mu xi_mu,i m_mu^3. Split m_mu = xi_mu,i phi_i + h_mu (h_mu
without bit i) in the K - 1 terms mu != 1:

    xi_mu,i m_mu^3 = xi_mu,i h_mu^3 + 3 xi_mu,i h_mu phi_i^2 + 3 h_mu^2 phi_i + phi_i^3.

The first two are crosstalk (zero mean). The third is not: E[h_mu^2] = sum_{j != i} phi_j^2 = N q,
so the K - 1 memories add up to a self-excitation 3 scale K N q phi_i = 3 sigma kappa q phi_i
(q the mean of phi^2), O(1) once K ~ N^2, while the crosstalk has variance 15 sigma^2 kappa q^3 / N
and vanishes as N grows. These are the terms with j, k or l equal to i; the tensor on distinct
indices has none (`nam.HebbianTensor(xi, distinct_indices=True)`).

Mean field (N -> infinity at fixed kappa). All flipped bits behave alike; the correct bits only
strengthen (their self-excitation has their own sign), so they saturate at phi = xi_1 (valid when
beta sigma (signal + self) >> 1). A flipped bit in the units y = beta xi_1i x_i (y < 0: wrong; it
starts at y = -beta) with activation -tanh(t), t = -y > 0, feels

    dy/dt ~ beta sigma [m(t)^3 - 3 kappa q(t) tanh t] + t,
    m(t) = 1 - rho - rho tanh t    (the overlap with xi_1, every flipped bit at -tanh t),
    q(t) = 1 - rho + rho tanh^2 t   (mean phi^2).

It is held wrong iff the drift vanishes at some t in (0, beta], i.e. iff

    kappa >= kappa*(nu, rho) = min_{0 < t <= beta} [m(t)^3 + t / nu] / [3 q(t) tanh t],    nu = beta sigma,

so K* = kappa* N^2. The minimiser t* (~1.6 at beta = 5, rho = 0.1) lies below beta for any gain worth
using, and then K*/N^2 depends on the gain and the normalisation only through their product
nu = beta * scale * N^3. Limits: nu, beta -> infinity give kappa* -> (1 - 2 rho)^3 / 3 (every flipped
bit held at its sign as soon as the self-excitation beats the signal); a smaller gain makes the stuck
state shallower and raises kappa*. At beta = 5, rho = 0.125: kappa* = 0.279; beta = 2: 0.440;
beta = 25: 0.177.

Finite N: the crosstalk (relative size sqrt(15 kappa / N), 0.3-0.5 at N = 16-32) leaves some flipped
bits stuck below kappa*, so a measured K* (50 % of cues retrieved exactly) approaches K* from below:
in tests/test_distinct_tensor.py it sits at 0.87-0.91 of it for N = 16-32, rho = 0.1, and
benchmarks/measure_self_coupling.py (rho = 0.125) measures 65.6, 141.5, 258.7 at N = 16, 24, 32 against
71.5, 161.0, 286.2 (0.92, 0.88, 0.90).
"""

import math

import numpy as np

from .._checks import check_bool, check_number
from ._theory import _Real, _real_array, _scalar_or_array


def _kappa_star(nu: float, rho: float, t_max: float) -> float:
    """min over t in (0, t_max] of (m^3 + t/nu) / (3 q tanh t): a coarse grid, then golden section."""

    def f(t):
        th = np.tanh(t)
        m = 1.0 - rho - rho * th
        q = 1.0 - rho + rho * th * th
        return (m**3 + t / nu) / (3.0 * q * th)

    grid = np.linspace(t_max / 4000.0, t_max, 4000)
    i = int(np.argmin(f(grid)))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(100):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if f(a) <= f(b):
            hi = b
        else:
            lo = a
    return float(min(f(0.5 * (lo + hi)), f(grid[i])))


def self_coupling_capacity(
    n: _Real, *, beta: float | int = 5.0, scale: _Real | None = None, rho: float | int = 0.1, exact_flips: bool = True
) -> np.ndarray | float:
    """Mean-field K* of the effective neuron-astrocyte memory with the Hebbian tensor of eq. 10 as
    printed (self-coupling included): K* = kappa*(beta * scale * N^3, rho_N) N^2.

    See the module docstring for the derivation: kappa* = min_{0 < t <= beta} (m^3 + t/nu) / (3 q tanh t),
    m = 1 - rho - rho tanh t, q = 1 - rho + rho tanh^2 t, nu = beta * scale * N^3.

    **Arguments:**

    - `n`: neurons N (>= 2, a number or an array).
    - `beta`: gain of the activation tanh(beta x) (`nam.LogCosh(beta)`; default 5, the model's default).
    - `scale`: the tensor's normalisation, a number or an array broadcasting with `n` (None: 1 / N^3,
      `nam.HebbianTensor`'s default).
    - `rho`: fraction of flipped bits in the cue. The cue has round(rho N) flipped bits exactly
      (`nam.flip_bits`), and the theory uses rho_N = round(rho N) / N.
    - `exact_flips`: True (default): rho_N = round(rho N) / N, the flip fraction of the cues a sweep
      measures, which makes K* jump where round(rho N) steps up; False: rho_N = rho, a curve smooth in N
      (the same value wherever rho N is an integer), for drawing the theory between measured N.

    **Returns:** K* (float, or an array like `n`); inf where round(rho N) = 0 (no wrong bit to hold).

    **Raises:** `TypeError` for a beta, rho, n or scale that is not a real number; `ValueError` for beta <= 0,
    scale <= 0 or rho outside [0, 0.5).
    """
    n_arr = _real_array("n", n, 2.0)
    beta = check_number("beta", beta, minimum=0.0, open_min=True)
    if scale is None:
        sigma = np.ones_like(n_arr)
    else:
        scale_arr = _real_array("scale", scale, 0.0)
        if not np.all(scale_arr > 0):
            raise ValueError(f"`scale` must be > 0, got {scale!r}")
        sigma = scale_arr * n_arr**3
    rho = check_number("rho", rho, minimum=0.0, maximum=0.5, open_max=True)
    check_bool("exact_flips", exact_flips)

    def one(m: float, sig: float) -> float:
        # as nam.flip_bits (round half to even), or the fraction itself for a smooth curve
        flipped = float(np.round(float(rho) * m)) if exact_flips else float(rho) * m
        if flipped == 0:
            return math.inf
        return _kappa_star(beta * sig, flipped / m, beta) * m * m

    return _scalar_or_array(np.vectorize(one, otypes=[np.float64])(n_arr, sigma))
