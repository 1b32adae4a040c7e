"""Classical Hopfield network (Hopfield 1982, 1984) with the Hebbian rule J = (1/N) sum_mu xi xi^T."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import check_bool, check_mask, check_patterns, check_scalar, optional_vector
from .._lagrangians import AbstractLagrangian, LogCosh, check_lagrangian
from ._base import AbstractBinaryModel, AbstractSingleLayerModel


class ClassicalHopfield(AbstractSingleLayerModel, AbstractBinaryModel):
    """Hopfield network with Hebbian couplings J = (1/N) Xi^T Xi (diagonal zeroed by default).

    Continuous (Hopfield 1984, in the Lagrangian form of Krotov & Hopfield 2021):
        E(x) = [sum_i x_i g_i - L(x)] - 1/2 g^T J g - b.g,     tau dx/dt = -x + J g + b,
    with g = dL/dx (default tanh(5 x)). Binary (Hopfield 1982): E(sigma) = -1/2 sigma^T J sigma,
    sigma_i <- sign(sum_j J_ij sigma_j) (ties keep sigma_i).

    J is never stored: J g = (1/N) Xi^T (Xi g) - (K/N) g (zero diagonal), O(K N).

    **Arguments:**

    - `patterns`: (K, N) memories of +-1.
    - `lagrangian`: the neurons' `nam.AbstractLagrangian` (default `LogCosh(5.0)`, tanh(5 x)).
    - `zero_diagonal`: drop the self-couplings J_ii (default True).
    - `tau`: the time constant, > 0.
    - `b`: (N,) input current, or None (zero).
    - `mask`: (K,) bool of active memories (False rows are padding and change nothing), or None (all).
    """

    patterns: Float[Array, "k n"]
    mask: Bool[Array, " k"]
    lagrangian: AbstractLagrangian
    tau: Float[Array, ""]
    b: Float[Array, " n"]
    zero_diagonal: bool = eqx.field(static=True)

    def __init__(
        self,
        patterns,
        lagrangian: AbstractLagrangian | None = None,
        *,
        zero_diagonal: bool = True,
        tau=1.0,
        b=None,
        mask=None,
    ):
        self.patterns = check_patterns("patterns", patterns, binary=True)
        k, n = self.patterns.shape
        self.mask = check_mask("mask", mask, k)
        self.lagrangian = check_lagrangian("lagrangian", lagrangian, LogCosh(5.0))
        self.zero_diagonal = check_bool("zero_diagonal", zero_diagonal)
        self.tau = check_scalar("tau", tau, positive=True)
        self.b = optional_vector("b", b, n)

    def _active(self):
        return jnp.where(self.mask[:, None], self.patterns, 0.0), jnp.sum(self.mask)

    def couple(self, g: Float[Array, " n"]) -> Float[Array, " n"]:
        """J g, without forming J."""
        n = self.n
        xi, k = self._active()
        out = xi.T @ (xi @ g) / n
        return out - (k / n) * g if self.zero_diagonal else out

    # continuous
    def interaction_energy(self, g):
        """U(g) = -1/2 g^T J g."""
        return -0.5 * jnp.dot(g, self.couple(g))

    def interaction_field(self, g):
        """-dU/dg = J g (J symmetric)."""
        return self.couple(g)

    # binary
    def binary_energy(self, sigma):
        return -0.5 * jnp.dot(sigma, self.couple(sigma))

    def propose(self, m, sigma, i):
        # N h_i = xi_i . m - K sigma_i (zero diagonal) is an exact integer for +-1 memories; compare it
        # with 0 before any division, so a tie stays a tie (keep sigma_i) under every compiler.
        h = jnp.dot(jnp.where(self.mask, self.patterns[:, i], 0.0), m)
        if self.zero_diagonal:
            h = h - jnp.sum(self.mask).astype(h.dtype) * sigma[i]
        return jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, sigma[i]))
