"""Memories and cues: random +-1 patterns, corruption by an exact number of flipped bits, overlaps."""

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray


def random_patterns(key: PRNGKeyArray, k: int, n: int) -> Float[Array, "k n"]:
    """K independent, unbiased +-1 patterns of N bits (the setting of every capacity theory)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}")
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"`n` must be an integer >= 2, got {n!r}")
    return jnp.where(jr.bernoulli(key, 0.5, (k, n)), 1.0, -1.0)


def flip_bits(key: PRNGKeyArray, pattern: Float[Array, " n"], fraction) -> Float[Array, " n"]:
    """Flip exactly round(fraction * N) distinct bits, chosen uniformly (not independent coin flips).

    Works under jit and vmap (the fraction may be traced).
    """
    n = pattern.shape[-1]
    fraction = jnp.asarray(fraction)
    n_flip = jnp.round(fraction * n).astype(jnp.int32)
    ranks = jnp.argsort(jr.uniform(key, (n,)))
    flip = ranks < n_flip
    return jnp.where(flip, -pattern, pattern)


def overlap(a: Float[Array, " n"], b: Float[Array, " n"]) -> Float[Array, ""]:
    """m = a.b / N, in [-1, 1] for +-1 patterns."""
    return jnp.dot(a, b) / a.shape[-1]
