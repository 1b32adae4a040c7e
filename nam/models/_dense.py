"""Dense Associative Memory (Krotov & Hopfield, NeurIPS 2016), binary and continuous."""

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import check_instance, check_mask, check_patterns, check_scalar, optional_vector
from .._lagrangians import AbstractLagrangian, LogCosh, check_lagrangian
from ._base import AbstractBinaryModel, AbstractSingleLayerModel
from ._separation import AbstractSeparation, Polynomial


class DenseAssociativeMemory(AbstractSingleLayerModel, AbstractBinaryModel):
    """E = -sum_mu F(xi_mu . sigma) (Krotov & Hopfield 2016, eq. 2).

    Binary: the flip-difference update (eq. 3) sigma_i <- sign[sum_mu F(xi_mu,i + h_mu,i) - F(-xi_mu,i + h_mu,i)]
    with h_mu,i = sum_{j != i} xi_mu,j sigma_j (ties keep sigma_i), driven asynchronously or synchronously
    by `nam.retrieve_binary`.

    Continuous (the Lagrangian form of Krotov & Hopfield 2021):
        E(x) = [sum_i x_i g_i - L(x)] - scale * S(Xi g) - b.g,
        tau dx/dt = -x + scale * Xi^T S'(Xi g) + b,
    with S = sum_mu F (see `nam.Polynomial`, `nam.RectifiedPolynomial`, `nam.ExponentialSeparation`).
    `scale` defaults to `separation.default_scale(N)` (1 / (n N^(n-1)) for the polynomials, so the field
    is O(1); 1 for the exponential); it does not change binary dynamics. `mask` (K,) bool selects the
    active memories: rows where it is False are padding and change nothing (so K can be bucketed
    without recompiling).

    **Arguments:**

    - `patterns`: (K, N) memories of +-1.
    - `separation`: F, a `nam.AbstractSeparation` (default `Polynomial(3)`).
    - `lagrangian`: the neurons' `nam.AbstractLagrangian` (default `LogCosh(5.0)`).
    - `scale`: the energy's scale (default `separation.default_scale(N)`).
    - `tau`: the time constant, > 0; `b`: (N,) input current or None; `mask`: (K,) bool or None.
    """

    patterns: Float[Array, "k n"]
    mask: Bool[Array, " k"]
    separation: AbstractSeparation
    lagrangian: AbstractLagrangian
    scale: Float[Array, ""]
    tau: Float[Array, ""]
    b: Float[Array, " n"]

    def __init__(
        self,
        patterns,
        separation: AbstractSeparation | None = None,
        lagrangian: AbstractLagrangian | None = None,
        *,
        scale=None,
        tau=1.0,
        b=None,
        mask=None,
    ):
        self.patterns = check_patterns("patterns", patterns, binary=True)
        k, n = self.patterns.shape
        self.mask = check_mask("mask", mask, k)
        self.separation = check_instance(
            "separation", Polynomial(3) if separation is None else separation, AbstractSeparation
        )
        self.lagrangian = check_lagrangian("lagrangian", lagrangian, LogCosh(5.0))
        self.scale = check_scalar("scale", self.separation.default_scale(n) if scale is None else scale, positive=True)
        self.tau = check_scalar("tau", tau, positive=True)
        self.b = optional_vector("b", b, n)

    # continuous
    def interaction_energy(self, g):
        """U(g) = -scale * S(Xi g)."""
        return -self.scale * self.separation(self.patterns @ g, self.mask)

    def interaction_field(self, g):
        """-dU/dg = scale * Xi^T S'(Xi g)."""
        return self.scale * (self.patterns.T @ self.separation.weights(self.patterns @ g, self.mask))

    # binary
    def binary_energy(self, sigma):
        return -self.separation(self.patterns @ sigma, self.mask)

    def propose(self, m, sigma, i):
        xi = self.patterns[:, i]
        rest = m - xi * sigma[i]
        gain = self.separation.difference(rest + xi, rest - xi, self.mask)
        return jnp.where(gain > 0, 1.0, jnp.where(gain < 0, -1.0, sigma[i]))
