"""The two cell models of the spiking neuron-astrocyte memory (Gordleeva et al. 2021, eqs. 1-2).

- `Izhikevich`: the quadratic integrate-and-fire neuron of Izhikevich (2003), time in ms, V in mV.
- `LiRinzel`: the Li & Rinzel (1994) reduction of the De Young-Keizer IP3-receptor model with IP3
  production (PLC-delta) and relaxation, time in s, concentrations in uM.

Both are frozen Modules whose parameters are 0-d arrays (changing one never recompiles), with a
`vector_field` for one cell (or any array of cells: every operation is elementwise) and, for the
neuron, the spike-and-reset Euler `step`.
"""

import functools
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import check_scalar


class Izhikevich(eqx.Module):
    """Izhikevich (2003) neuron, Gordleeva et al. 2021 eq. 1 (time in ms):

        dV/dt = 0.04 V^2 + 5 V + 140 - U + I,     dU/dt = a (b V - U),
        if V >= v_peak:  V <- c,  U <- U + d.

    Defaults a = 0.1, b = 0.25, c = -65, d = 2, v_peak = 30 mV (the paper's values).
    """

    a: Float[Array, ""]
    b: Float[Array, ""]
    c: Float[Array, ""]
    d: Float[Array, ""]
    v_peak: Float[Array, ""]

    def __init__(self, a=0.1, b=0.25, c=-65.0, d=2.0, v_peak=30.0):
        self.a = check_scalar("a", a, positive=True)
        self.b = check_scalar("b", b)
        self.c = check_scalar("c", c)
        self.d = check_scalar("d", d)
        self.v_peak = check_scalar("v_peak", v_peak)

    def vector_field(self, v, u, current):
        """(dV/dt, dU/dt) in mV/ms, elementwise over any array shape."""
        return 0.04 * v * v + 5.0 * v + 140.0 - u + current, self.a * (self.b * v - u)

    def step(self, v, u, current, dt) -> tuple[Array, Array, Bool[Array, "..."]]:
        """One forward-Euler step of `dt` ms, then the spike reset. Returns (v, u, spiked)."""
        dv, du = self.vector_field(v, u, current)
        v = v + dt * dv
        u = u + dt * du
        spiked = v >= self.v_peak
        return jnp.where(spiked, self.c, v), jnp.where(spiked, u + self.d, u), spiked

    def rest_state(self) -> tuple[float, float]:
        """The stable rest point with no input, V* the lower root of 0.04 V^2 + (5 - b) V + 140 = 0,
        U* = b V*. Raises if there is none (then the cell fires tonically without input)."""
        b = float(self.b)
        disc = (5.0 - b) ** 2 - 4 * 0.04 * 140.0
        if disc < 0:
            raise ValueError(f"`b` = {b}: the Izhikevich neuron has no rest state (it fires without input)")
        v = (-(5.0 - b) - math.sqrt(disc)) / 0.08
        return v, b * v

    def max_stable_dt(self) -> float:
        """The largest forward-Euler step (ms) that is linearly stable at the rest point: 2 / |lambda|
        for the stiffest eigenvalue of the 2x2 Jacobian there (about 6.3 ms for the defaults; the
        network refuses steps above `MAX_DT_MS`, which is set by spike-time accuracy, not stability)."""
        v, _ = self.rest_state()
        a, b = float(self.a), float(self.b)
        jac = np.array([[0.08 * v + 5.0, -1.0], [a * b, -a]])
        eig = np.linalg.eigvals(jac)
        # Euler is stable for each eigenvalue with |1 + dt lambda| < 1
        bounds = [-2.0 * lam.real / abs(lam) ** 2 for lam in eig if lam.real < 0]
        return float(min(bounds)) if bounds else 0.0


class LiRinzel(eqx.Module):
    """Li-Rinzel astrocyte with IP3 dynamics, Gordleeva et al. 2021 eq. 2 (time in s, uM):

        dCa/dt  = J_ER - J_pump + J_leak,
        dh/dt   = (h_inf - h) / tau_h,
        dIP3/dt = (IP3* - IP3) / tau_r + J_PLC + I_neuro,

        J_ER   = c1 v1 (IP3 / (IP3 + d1))^3 (Ca / (Ca + d5))^3 h^3 ((c0 - Ca) / c1 - Ca),
        J_leak = c1 v2 ((c0 - Ca) / c1 - Ca),
        J_pump = v3 Ca^2 / (Ca^2 + k3^2),
        Q2 = d2 (IP3 + d1) / (IP3 + d3),   h_inf = Q2 / (Q2 + Ca),   tau_h = 1 / (a2 (Q2 + Ca)),
        J_PLC  = v4 (Ca + (1 - alpha) k4) / (Ca + k4).

    Departures from the printed equations, following the authors' published model code and the
    standard Li-Rinzel form:
    - the paper writes the IP3 relaxation as (IP3* - IP3) tau_r; we use the rate 1/tau_r = 0.14 /s
      (tau_r = 7.143 s), as in the code;
    - the paper's parameter list omits v4; the code uses v4 = 0.3 uM/s;
    - the printed leak c1 v2 (c0 - Ca)/c1 lacks the "- Ca" of the ER-to-cytosol gradient; we use the
      standard c1 v2 ((c0 - Ca)/c1 - Ca), the same gradient as J_ER;
    - the printed dh/dt = (H - h)/tau_n is h_inf = H and tau_h = tau_n as written here.
    With these values the rest state is Ca = 0.0604, h = 0.896, IP3 = 0.678 (`rest_state`).
    """

    c0: Float[Array, ""]
    c1: Float[Array, ""]
    v1: Float[Array, ""]
    v2: Float[Array, ""]
    v3: Float[Array, ""]
    v4: Float[Array, ""]
    k3: Float[Array, ""]
    a2: Float[Array, ""]
    d1: Float[Array, ""]
    d2: Float[Array, ""]
    d3: Float[Array, ""]
    d5: Float[Array, ""]
    alpha: Float[Array, ""]
    k4: Float[Array, ""]
    tau_r: Float[Array, ""]
    ip3_star: Float[Array, ""]

    def __init__(
        self,
        c0=2.0,
        c1=0.185,
        v1=6.0,
        v2=0.11,
        v3=2.2,
        v4=0.3,
        k3=0.1,
        a2=0.14,
        d1=0.13,
        d2=1.049,
        d3=0.9434,
        d5=0.082,
        alpha=0.8,
        k4=1.1,
        tau_r=1.0 / 0.14,
        ip3_star=0.16,
    ):
        for name, value in dict(
            c0=c0, c1=c1, v1=v1, v2=v2, v3=v3, k3=k3, a2=a2, d1=d1, d2=d2, d3=d3, d5=d5, k4=k4, tau_r=tau_r
        ).items():
            setattr(self, name, check_scalar(name, value, positive=True))
        self.v4 = check_scalar("v4", v4, nonnegative=True)
        self.alpha = check_scalar("alpha", alpha, nonnegative=True)
        self.ip3_star = check_scalar("ip3_star", ip3_star, nonnegative=True)

    def vector_field(self, ca, h, ip3, i_neuro=0.0):
        """(dCa/dt, dh/dt, dIP3/dt) per second, elementwise; `i_neuro` in uM/s."""
        gradient = (self.c0 - ca) / self.c1 - ca
        j_er = self.c1 * self.v1 * (ip3 / (ip3 + self.d1)) ** 3 * (ca / (ca + self.d5)) ** 3 * h**3 * gradient
        j_leak = self.c1 * self.v2 * gradient
        j_pump = self.v3 * ca**2 / (ca**2 + self.k3**2)
        q2 = self.d2 * (ip3 + self.d1) / (ip3 + self.d3)
        h_inf = q2 / (q2 + ca)
        rate_h = self.a2 * (q2 + ca)  # 1 / tau_h
        j_plc = self.v4 * (ca + (1.0 - self.alpha) * self.k4) / (ca + self.k4)
        return (j_er - j_pump + j_leak, (h_inf - h) * rate_h, (self.ip3_star - ip3) / self.tau_r + j_plc + i_neuro)

    def rest_state(self) -> tuple[float, float, float]:
        """The rest point with no input, by Newton's method in float64 on the host, started from a
        long relaxation (cached per parameter set). Raises if the cell has no stable rest (it oscillates)."""
        p = {
            k: float(getattr(self, k))
            for k in (
                "c0",
                "c1",
                "v1",
                "v2",
                "v3",
                "v4",
                "k3",
                "a2",
                "d1",
                "d2",
                "d3",
                "d5",
                "alpha",
                "k4",
                "tau_r",
                "ip3_star",
            )
        }
        return _li_rinzel_rest(tuple(sorted(p.items())))


@functools.lru_cache(maxsize=64)
def _li_rinzel_rest(items: tuple) -> tuple[float, float, float]:
    """`LiRinzel.rest_state` for a sorted tuple of (name, value) parameters."""
    p = dict(items)

    def f(y):
        ca, h, ip3 = y
        g = (p["c0"] - ca) / p["c1"] - ca
        q2 = p["d2"] * (ip3 + p["d1"]) / (ip3 + p["d3"])
        return np.array(
            [
                p["c1"] * p["v1"] * (ip3 / (ip3 + p["d1"])) ** 3 * (ca / (ca + p["d5"])) ** 3 * h**3 * g
                - p["v3"] * ca**2 / (ca**2 + p["k3"] ** 2)
                + p["c1"] * p["v2"] * g,
                (q2 / (q2 + ca) - h) * p["a2"] * (q2 + ca),
                (p["ip3_star"] - ip3) / p["tau_r"] + p["v4"] * (ca + (1 - p["alpha"]) * p["k4"]) / (ca + p["k4"]),
            ]
        )

    y = np.array([0.07, 0.8, p["ip3_star"]])
    for _ in range(20000):  # 200 s of Euler at 10 ms: lands near a stable rest
        y = y + 1e-2 * f(y)
    for _ in range(50):
        jac = np.empty((3, 3))
        for j in range(3):
            e = np.zeros(3)
            e[j] = 1e-7 * max(1.0, abs(y[j]))
            jac[:, j] = (f(y + e) - f(y - e)) / (2 * e[j])
        y = y - np.linalg.solve(jac, f(y))
    if not np.all(np.isfinite(y)) or np.max(np.abs(f(y))) > 1e-9 or np.any(np.linalg.eigvals(jac).real >= 0):
        raise ValueError("these Li-Rinzel parameters have no stable rest state (the cell oscillates)")
    return float(y[0]), float(y[1]), float(y[2])
