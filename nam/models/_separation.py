"""Separation functions F of a Dense Associative Memory, E = -sum_mu F(xi_mu . sigma).

Krotov & Hopfield, "Dense Associative Memory for Pattern Recognition" (NeurIPS 2016), eq. 2.
Each separation computes the interaction S(z) = sum_mu F(z_mu) over the overlaps z = Xi sigma of
the memories selected by a boolean `mask` (padding rows are masked out and contribute nothing),
or, for the exponential, a strictly increasing function of it, so that comparisons between two
states (the binary flip-difference update) and all gradients' directions are unchanged while
float32 cannot overflow.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import check_int, check_scalar


class AbstractSeparation(eqx.Module):
    """S(z) = sum_mu F(z_mu) (or an increasing function of it) and its gradient."""

    @abc.abstractmethod
    def __call__(self, z: Float[Array, " k"], mask: Bool[Array, " k"]) -> Float[Array, ""]:
        """The interaction S(z) over the overlaps z of the memories where `mask` is True."""

    @abc.abstractmethod
    def weights(self, z: Float[Array, " k"], mask: Bool[Array, " k"]) -> Float[Array, " k"]:
        """dS/dz: how strongly each memory pulls (F'(z) for the polynomials; 0 where masked out)."""

    @abc.abstractmethod
    def default_scale(self, n: int) -> float:
        """The factor multiplying S so that the continuous field is O(1) at N neurons."""

    @abc.abstractmethod
    def difference(self, a: Float[Array, " k"], b: Float[Array, " k"], mask: Bool[Array, " k"]) -> Float[Array, ""]:
        """S(a) - S(b), summed term by term where S is a sum so that large equal parts cancel exactly first
        (`difference_of_calls` is the plain S(a) - S(b))."""


def difference_of_calls(
    separation: AbstractSeparation, a: Float[Array, " k"], b: Float[Array, " k"], mask: Bool[Array, " k"]
) -> Float[Array, ""]:
    """S(a) - S(b) as two calls of `separation`, for a separation with no term-by-term form."""
    return separation(a, mask) - separation(b, mask)


class Polynomial(AbstractSeparation):
    """F(z) = z^n (Krotov & Hopfield 2016, eq. 3). n = 2 is the classical Hopfield network.

    **Arguments:** `degree`: the integer power n >= 2 (default 3)."""

    degree: int = eqx.field(static=True)

    def __init__(self, degree=3):
        self.degree = check_int("degree", degree, 2)

    def __call__(self, z, mask):
        return jnp.sum(jnp.where(mask, jax.lax.integer_pow(z, self.degree), 0.0))

    def weights(self, z, mask):
        return jnp.where(mask, self.degree * jax.lax.integer_pow(z, self.degree - 1), 0.0)

    def difference(self, a, b, mask):
        n = self.degree
        return jnp.sum(jnp.where(mask, jax.lax.integer_pow(a, n) - jax.lax.integer_pow(b, n), 0.0))

    def default_scale(self, n: int) -> float:
        return 1.0 / (self.degree * float(n) ** (self.degree - 1))


class RectifiedPolynomial(AbstractSeparation):
    """F(z) = ReLU(z)^n (Krotov & Hopfield 2016, the rectified polynomial).

    **Arguments:** `degree`: the integer power n >= 2 (default 3)."""

    degree: int = eqx.field(static=True)

    def __init__(self, degree=3):
        self.degree = check_int("degree", degree, 2)

    def __call__(self, z, mask):
        return jnp.sum(jnp.where(mask, jax.lax.integer_pow(jnp.maximum(z, 0.0), self.degree), 0.0))

    def weights(self, z, mask):
        return jnp.where(mask, self.degree * jax.lax.integer_pow(jnp.maximum(z, 0.0), self.degree - 1), 0.0)

    def difference(self, a, b, mask):
        n = self.degree
        diff = jax.lax.integer_pow(jnp.maximum(a, 0.0), n) - jax.lax.integer_pow(jnp.maximum(b, 0.0), n)
        return jnp.sum(jnp.where(mask, diff, 0.0))

    def default_scale(self, n: int) -> float:
        return 1.0 / (self.degree * float(n) ** (self.degree - 1))


class ExponentialSeparation(AbstractSeparation):
    """F(z) = exp(beta z), held as S(z) = (1/beta) log sum_mu exp(beta z_mu).

    **Arguments:** `beta`: the inverse temperature, > 0 (default 1).

    The log is increasing, so the binary flip-difference update of Krotov & Hopfield 2016 is
    identical to the one with sum exp, and logsumexp keeps float32 finite at any N. In the
    continuous model this is the modern-Hopfield energy -(1/beta) lse(beta Xi g) (Ramsauer et al.
    2020; Krotov & Hopfield 2021, model C), whose field is Xi^T softmax(beta Xi g).
    """

    beta: Float[Array, ""]

    def __init__(self, beta=1.0):
        self.beta = check_scalar("beta", beta, positive=True)

    def __call__(self, z, mask):
        return jax.nn.logsumexp(jnp.where(mask, self.beta * z, -jnp.inf)) / self.beta

    def weights(self, z, mask):
        return jax.nn.softmax(jnp.where(mask, self.beta * z, -jnp.inf))

    def difference(self, a, b, mask):
        return difference_of_calls(self, a, b, mask)

    def default_scale(self, n: int) -> float:
        return 1.0
