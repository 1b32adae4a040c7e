"""Memories and cues: random +-1 patterns, corruption by an exact number of flipped bits, overlaps."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._checks import (
    ArgumentTypeError,
    as_float_array,
    check_finite,
    check_instance,
    check_int,
    check_key,
    check_memory,
    is_concrete,
)


def random_patterns(key: PRNGKeyArray, k: int, n: int) -> Float[Array, "k n"]:
    """K independent, unbiased +-1 patterns of N bits (the setting of every capacity theory).

    **Arguments:** `key`: a JAX PRNG key (`jax.random.key(seed)`); `k`: the number of patterns K >= 1;
    `n`: the number of bits N >= 2.

    **Returns:** (K, N) float array of +-1.

    **Raises:** TypeError for a key that is not a JAX PRNG key or sizes that are not integers; ValueError
    for K < 1, N < 2, or K x N patterns that cannot fit in memory (refused before allocating).
    """
    key = check_key("key", key)
    k, n = check_int("k", k), check_int("n", n, 2)
    itemsize = jnp.dtype(jnp.result_type(float)).itemsize
    # the random bits (4 bytes), the booleans (1) and the patterns (itemsize) per entry
    check_memory("`k`, `n`", float(k) * n * (5 + itemsize), f"{k} x {n} random patterns")
    return jnp.where(jr.bernoulli(key, 0.5, (k, n)), 1.0, -1.0)


def _check_fraction(fraction) -> Array:
    if isinstance(fraction, bool) or fraction is None or isinstance(fraction, (str, complex)):
        raise ArgumentTypeError(f"`fraction` must be a real number in [0, 1], got {fraction!r}")
    arr = jnp.asarray(fraction)
    real = jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)
    if arr.dtype == jnp.bool_ or not real:
        raise ArgumentTypeError(f"`fraction` must be a real number in [0, 1], got dtype {arr.dtype}")
    if arr.shape != ():
        raise ValueError(f"`fraction` must be a scalar (vmap for several), got shape {arr.shape}")
    if is_concrete(arr):
        value = float(arr)
        if not 0.0 <= value <= 1.0:  # also refuses NaN
            raise ValueError(f"`fraction` must be a fraction of bits in [0, 1], got {value}")
    return arr


def flip_bits(key: PRNGKeyArray, pattern: Float[Array, " n"], fraction) -> Float[Array, " n"]:
    """Flip exactly round(fraction * N) distinct bits of a +-1 `pattern` (N,), chosen uniformly (not
    independent coin flips).

    Works under jit and vmap (the fraction may be traced; values are checked when concrete).

    **Arguments:**

    - `key`: a JAX PRNG key (`jax.random.key(seed)`).
    - `pattern`: (N,) +-1 array.
    - `fraction`: the fraction of bits to flip, in [0, 1] (a number or a 0-d array).

    **Returns:** (N,) the pattern with round(fraction * N) of its bits flipped.

    **Raises:** TypeError for a key that is not a JAX PRNG key, a pattern that is not a real array, or a
    fraction that is not a real number; ValueError for a pattern that is not 1-d or not +-1, and a
    fraction outside [0, 1] (or NaN).
    """
    key = check_key("key", key)
    check_instance("pattern", pattern, (Array, np.ndarray), "a JAX or NumPy array of +-1")
    pattern = as_float_array("pattern", pattern)
    if pattern.ndim != 1 or pattern.shape[0] < 1:
        raise ValueError(f"`pattern` must have shape (N,) with N >= 1 (vmap for batches), got {pattern.shape}")
    if is_concrete(pattern) and not bool(np.all(np.abs(np.asarray(pattern)) == 1)):
        raise ValueError("`pattern` must contain only +1 and -1 entries")
    fraction = _check_fraction(fraction)
    n = pattern.shape[-1]
    ranks = jnp.argsort(jr.uniform(key, (n,)))
    n_flip = jnp.round(fraction * n).astype(ranks.dtype)
    flip = ranks < n_flip
    return jnp.where(flip, -pattern, pattern)


def overlap(a: Float[Array, " n"], b: Float[Array, " n"]) -> Float[Array, ""]:
    """The overlap m = a.b / N, in [-1, 1] for +-1 patterns.

    **Arguments:** `a`, `b`: (N,) real arrays of the same shape.

    **Returns:** a 0-d float array."""
    a, b = as_float_array("a", a, ndim=1), as_float_array("b", b, ndim=1)
    if a.shape != b.shape or a.shape[0] < 1:
        raise ValueError(f"`a` and `b` must have the same shape (N,) with N >= 1, got {a.shape} and {b.shape}")
    check_finite("a", a)
    check_finite("b", b)
    return jnp.dot(a, b) / a.shape[-1]
