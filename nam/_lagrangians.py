"""Lagrangians: convex scalar functions whose gradient is a layer's activation.

Krotov & Hopfield, "Large associative memory problem in neurobiology and machine learning"
(ICLR 2021), eqs. 1-3; Kozachkov, Slotine & Krotov (arXiv 2311.08135), eq. 12. A layer with state
x and Lagrangian L has activation g = dL/dx, and contributes the Legendre term x.g - L(x) to the
energy. A Lagrangian acts on an array of any shape, treating all its entries as one vector
(so a synapse matrix s of shape (N, N) uses the same classes as a neuron vector).

Every gain is a 0-d array field, so sweeping it never recompiles.
"""

import abc
from typing import NoReturn

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_instance, check_scalar, is_concrete


class AbstractLagrangian(eqx.Module):
    """A convex Lagrangian L(x) with activation g(x) = dL/dx (closed form, tested against jax.grad)."""

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "..."]) -> Float[Array, ""]:
        """The Lagrangian L(x), a scalar."""

    @abc.abstractmethod
    def activation(self, x: Float[Array, "..."]) -> Float[Array, "..."]:
        """The activation g(x) = dL/dx, same shape as x."""

    def legendre(self, x: Float[Array, "..."]) -> Float[Array, ""]:
        """The Legendre energy term sum(x * g(x)) - L(x) (Krotov & Hopfield 2021, eq. 2)."""
        return jnp.sum(x * self.activation(x)) - self(x)

    @abc.abstractmethod
    def inverse_activation(self, y: Float[Array, "..."]) -> Float[Array, "..."]:
        """x with g(x) = y, for elementwise invertible activations. Values on or past the edge of the
        activation's range are clipped to the largest representable pre-activation. A Lagrangian whose
        activation is not elementwise invertible raises `NotImplementedError` (`no_inverse_activation`)."""


def no_inverse_activation(lagrangian: AbstractLagrangian) -> NoReturn:
    """Raise the `NotImplementedError` of `inverse_activation` for a Lagrangian whose activation has no
    elementwise inverse (`NeuronAstrocyte.init_state` turns it into a ValueError)."""
    raise NotImplementedError(f"{type(lagrangian).__name__} has no elementwise inverse activation")


def _open_unit(y):
    eps = jnp.finfo(jnp.result_type(y)).eps
    return jnp.clip(y, -1.0 + eps, 1.0 - eps)


def _logcosh(z):
    a = jnp.abs(z)
    return a + jnp.log1p(jnp.exp(-2.0 * a)) - jnp.log(2.0)


class LogCosh(AbstractLagrangian):
    """L(x) = (1/beta) sum log cosh(beta x); activation tanh(beta x).

    **Arguments:** `beta`: the gain, > 0 (a number or a 0-d array; default 1).
    """

    beta: Float[Array, ""]

    def __init__(self, beta=1.0):
        self.beta = check_scalar("beta", beta, positive=True)

    def __call__(self, x):
        return jnp.sum(_logcosh(self.beta * x)) / self.beta

    def activation(self, x):
        return jnp.tanh(self.beta * x)

    def inverse_activation(self, y):
        return jnp.arctanh(_open_unit(y)) / self.beta


class Identity(AbstractLagrangian):
    """L(x) = 1/2 sum x^2; linear activation g(x) = x.

    **Arguments:** none.
    """

    def __call__(self, x):
        return 0.5 * jnp.sum(x * x)

    def activation(self, x):
        return x

    def inverse_activation(self, y):
        return y


class RectifiedPower(AbstractLagrangian):
    """L(x) = (1/n) sum ReLU(x)^n; activation ReLU(x)^(n-1). Convex and C^1 for n >= 2.

    **Arguments:** `n`: the power, >= 2 (default 2).

    As the hidden-layer Lagrangian of `HiddenNeuronDAM` it gives the rectified polynomial
    Dense Associative Memory F(z) = ReLU(z)^n / n (Krotov & Hopfield 2021, model B).
    """

    n: Float[Array, ""]

    def __init__(self, n=2.0):
        self.n = check_scalar("n", n)
        if is_concrete(self.n) and not bool(self.n >= 2):
            raise ValueError(f"`n` must be >= 2 for a convex, differentiable Lagrangian, got {self.n}")

    def __call__(self, x):
        return jnp.sum(jnp.maximum(x, 0.0) ** self.n) / self.n

    def activation(self, x):
        return jnp.maximum(x, 0.0) ** (self.n - 1.0)

    def inverse_activation(self, y):
        no_inverse_activation(self)


class Softplus(AbstractLagrangian):
    """L(x) = (1/beta) sum softplus(beta x); activation sigmoid(beta x).

    **Arguments:** `beta`: the gain, > 0 (default 1).
    """

    beta: Float[Array, ""]

    def __init__(self, beta=1.0):
        self.beta = check_scalar("beta", beta, positive=True)

    def __call__(self, x):
        return jnp.sum(jax.nn.softplus(self.beta * x)) / self.beta

    def activation(self, x):
        return jax.nn.sigmoid(self.beta * x)

    def inverse_activation(self, y):
        y = 0.5 + 0.5 * _open_unit(2.0 * y - 1.0)
        return (jnp.log(y) - jnp.log1p(-y)) / self.beta


class Exponential(AbstractLagrangian):
    """L(x) = (1/beta) sum exp(beta x); activation exp(beta x).

    **Arguments:** `beta`: the gain, > 0 (default 1).
    """

    beta: Float[Array, ""]

    def __init__(self, beta=1.0):
        self.beta = check_scalar("beta", beta, positive=True)

    def __call__(self, x):
        return jnp.sum(jnp.exp(self.beta * x)) / self.beta

    def activation(self, x):
        return jnp.exp(self.beta * x)

    def inverse_activation(self, y):
        return jnp.log(jnp.maximum(y, jnp.finfo(jnp.result_type(y)).tiny)) / self.beta


class LogSumExp(AbstractLagrangian):
    """L(x) = (1/beta) log sum exp(beta x), a collective Lagrangian; activation softmax(beta x).

    **Arguments:** `beta`: the inverse temperature, > 0 (default 1).

    With this Lagrangian on the hidden layer, `HiddenNeuronDAM` is the modern Hopfield network
    (Krotov & Hopfield 2021, model C).
    """

    beta: Float[Array, ""]

    def __init__(self, beta=1.0):
        self.beta = check_scalar("beta", beta, positive=True)

    def __call__(self, x):
        return jax.nn.logsumexp(self.beta * x) / self.beta

    def activation(self, x):
        return jax.nn.softmax(self.beta * x.ravel()).reshape(x.shape)

    def inverse_activation(self, y):
        no_inverse_activation(self)


class SphericalNorm(AbstractLagrangian):
    """L(x) = sqrt(sum x^2 + eps); activation x / sqrt(sum x^2 + eps) (spherical normalisation).

    **Arguments:** `eps` (default 1e-12) keeps L smooth at the origin; the activation has unit norm
    elsewhere.
    """

    eps: Float[Array, ""]

    def __init__(self, eps=1e-12):
        self.eps = check_scalar("eps", eps, positive=True)

    def __call__(self, x):
        return jnp.sqrt(jnp.sum(x * x) + self.eps)

    def activation(self, x):
        return x / jnp.sqrt(jnp.sum(x * x) + self.eps)

    def inverse_activation(self, y):
        no_inverse_activation(self)


def check_lagrangian(name: str, value, default: AbstractLagrangian) -> AbstractLagrangian:
    """A model's Lagrangian argument: `default` when `value` is None, else `value` if it is an
    `AbstractLagrangian` (a TypeError naming `name` otherwise).

    **Arguments:** `name`: the argument's name, for the error message; `value`: the value given or None;
    `default`: the Lagrangian to use for None.

    **Returns:** an `AbstractLagrangian`.
    """
    return check_instance(name, default if value is None else value, AbstractLagrangian)
