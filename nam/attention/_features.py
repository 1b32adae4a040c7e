"""Positive random features for the softmax kernel (FAVOR+, Choromanski et al., ICLR 2021, Lemma 1).

    phi(x) = exp(W x - |x|^2 / 2) / sqrt(M),   rows w_m of W drawn from N(0, I_d),

so that E_W[phi(x) . phi(y)] = exp(x . y) exactly, for every x and y. The features are positive, which
is what the neuron-astrocyte attention limit needs (Kozachkov, Slotine & Krotov, Appendix C): the
initial calcium p_ij(0) = Q~_j sum_s K~_sj is then non-negative, and so is the normaliser
sum_ij p_ij(0) that the processes conserve; every term of the denominator sum_s phi(q) . phi(k_s) is
positive, so it cannot cancel to a small or negative number the way sin/cos (trigonometric) features
can, and the estimate of softmax attention stays a convex combination of the values.
"""

import abc
import math

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._checks import as_float_array, check_bool, check_finite, check_instance, check_int


class AbstractPositiveFeatures(eqx.Module):
    """A positive feature map phi(x) = exp(W x - |x|^2 / 2) / sqrt(M) given by its projections W (M, d);
    subclasses say where W comes from (`weights`) and give `dim` (d) and `num_features` (M)."""

    @abc.abstractmethod
    def weights(self) -> Float[Array, "m d"]:
        """W (M, d)."""

    def log_features(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        """log phi(x) = W x - |x|^2 / 2 - log(M) / 2, over the last axis of `x`."""
        w = self.weights().astype(x.dtype)
        sq = 0.5 * jnp.sum(x * x, axis=-1, keepdims=True)
        return x @ w.T - sq - 0.5 * math.log(w.shape[0])

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        """phi(x), over the last axis of `x` (no stabilisation: see `astrocyte_attention` for the stable
        form used in the layer)."""
        return jnp.exp(self.log_features(x))


class PositiveRandomFeatures(AbstractPositiveFeatures):
    """The positive random-feature map of the softmax kernel exp(x . y) (FAVOR+, Choromanski et al. 2021,
    Lemma 1): phi(x) = exp(W x - |x|^2 / 2) / sqrt(M), with M rows of W ~ N(0, I_d).

    The draw of W is configuration, not a parameter: it is regenerated from `seed` (a Python int) on
    every call, so it is never trained, never counted as a parameter and costs M d normal draws per call.

    **Arguments:**

    - `dim`: d, the length of the vectors mapped.
    - `num_features`: M.
    - `seed`: the seed of W.
    - `orthogonal`: draw the rows of W in orthogonal blocks of d (Gaussian blocks orthogonalised by QR,
      each row rescaled to the length of an independent Gaussian vector): still unbiased, with lower
      variance (Choromanski et al. 2021, Theorem 2).
    """

    dim: int = eqx.field(static=True)
    num_features: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    orthogonal: bool = eqx.field(static=True)

    def __init__(self, dim: int, num_features: int, *, seed: int = 0, orthogonal: bool = False):
        self.dim = check_int("dim", dim)
        self.num_features = check_int("num_features", num_features)
        self.seed = check_int("seed", seed, 0)
        self.orthogonal = check_bool("orthogonal", orthogonal)

    def weights(self) -> Float[Array, "m d"]:
        """W (M, d), the projections (the same array on every call)."""
        key = jr.PRNGKey(self.seed)
        m, d = self.num_features, self.dim
        if not self.orthogonal:
            return jr.normal(key, (m, d))
        blocks = -(-m // d)
        k1, k2 = jr.split(key)
        gauss = jr.normal(k1, (blocks, d, d))
        q = jnp.linalg.qr(gauss)[0]  # (blocks, d, d), orthonormal columns
        rows = jnp.swapaxes(q, 1, 2).reshape(blocks * d, d)[:m]
        norms = jnp.linalg.norm(jr.normal(k2, (m, d)), axis=1)
        return rows * norms[:, None]


class LearnedPositiveFeatures(AbstractPositiveFeatures):
    """Positive features with trained projections W (M, d), initialised from another feature map (e.g. a
    `PositiveRandomFeatures` draw). Still positive, so still a valid read of the neuron-astrocyte network
    (eq. 25 holds for any positive phi), but no longer an unbiased estimate of exp(x . y): the kernel is
    whatever training makes it (cf. learnable random features in linear attention)."""

    w: Float[Array, "m d"]

    def __init__(self, init: AbstractPositiveFeatures):
        check_instance("init", init, AbstractPositiveFeatures, "a nam.attention feature map")
        self.w = init.weights()

    @property
    def dim(self) -> int:
        return self.w.shape[1]

    @property
    def num_features(self) -> int:
        return self.w.shape[0]

    def weights(self) -> Float[Array, "m d"]:
        return self.w


def softmax_kernel(x: Float[Array, "*batch d"], y: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
    """exp(x . y), the kernel the features estimate."""
    x, y = as_float_array("x", x), as_float_array("y", y)
    check_finite("x", x)
    check_finite("y", y)
    if x.ndim < 1 or x.shape != y.shape:
        raise ValueError(f"`x` and `y` must be vectors (or batches of them) of one shape, got {x.shape} and {y.shape}")
    return jnp.exp(jnp.sum(x * y, axis=-1))
