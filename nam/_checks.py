"""Argument checks shared by every model: raised at construction/trace time, before compute.

Shape checks always run. Value checks (finite, +-1, positive, symmetric) run only when the value
is concrete; a model built inside `jax.jit` from traced arrays skips them (the caller vouched for
the values when they were concrete).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when `x` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def as_float_array(name: str, x: Any, ndim: int | None = None) -> jax.Array:
    """Convert to a floating JAX array, checking the number of dimensions."""
    try:
        arr = jnp.asarray(x)
    except TypeError as e:
        raise ValueError(f"`{name}` must be array-like, got {type(x).__name__}") from e
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s), got shape {arr.shape}")
    return arr


def check_finite(name: str, x: jax.Array) -> None:
    if is_concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f"`{name}` must be finite everywhere, got NaN or inf")


def check_positive(name: str, x: jax.Array) -> None:
    check_finite(name, x)
    if is_concrete(x) and not bool(np.all(np.asarray(x) > 0)):
        raise ValueError(f"`{name}` must be > 0, got {np.asarray(x)}")


def check_nonnegative(name: str, x: jax.Array) -> None:
    check_finite(name, x)
    if is_concrete(x) and not bool(np.all(np.asarray(x) >= 0)):
        raise ValueError(f"`{name}` must be >= 0, got {np.asarray(x)}")


def check_scalar(name: str, x: Any, *, positive: bool = False, nonnegative: bool = False) -> jax.Array:
    """A real scalar as a 0-d float array (an array, so changing it never recompiles)."""
    arr = as_float_array(name, x)
    if arr.shape != ():
        raise ValueError(f"`{name}` must be a scalar, got shape {arr.shape}")
    if positive:
        check_positive(name, arr)
    elif nonnegative:
        check_nonnegative(name, arr)
    else:
        check_finite(name, arr)
    return arr


def check_patterns(name: str, patterns: Any, *, binary: bool) -> jax.Array:
    """Memories as a (K, N) float array; K >= 1, N >= 2; +-1 entries when `binary`."""
    arr = as_float_array(name, patterns)
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must have shape (K, N) (one memory per row), got shape {arr.shape}")
    k, n = arr.shape
    if k < 1:
        raise ValueError(f"`{name}` must hold at least one memory (K >= 1), got K = {k}")
    if n < 2:
        raise ValueError(f"`{name}` must have N >= 2 neurons per memory, got N = {n}")
    check_finite(name, arr)
    if binary and is_concrete(arr):
        a = np.asarray(arr)
        if not bool(np.all(np.abs(a) == 1)):
            bad = a[np.abs(a) != 1].ravel()[:3]
            raise ValueError(f"`{name}` must contain only +1 and -1 entries, found e.g. {bad.tolist()}")
    return arr


def check_vector(name: str, x: Any, n: int) -> jax.Array:
    arr = as_float_array(name, x)
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},), got {arr.shape}")
    check_finite(name, arr)
    return arr


def check_square(name: str, x: Any, n: int, *, symmetric: bool) -> jax.Array:
    arr = as_float_array(name, x)
    if arr.shape != (n, n):
        raise ValueError(f"`{name}` must have shape ({n}, {n}), got {arr.shape}")
    check_finite(name, arr)
    if symmetric and is_concrete(arr):
        a = np.asarray(arr)
        if not np.allclose(a, a.T, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(a).max(initial=0.0)))):
            raise ValueError(f"`{name}` must be symmetric (x[i, j] == x[j, i])")
    return arr


def optional_vector(name: str, x: Any, n: int) -> jax.Array:
    """An optional input vector; None means zeros."""
    return jnp.zeros((n,)) if x is None else check_vector(name, x, n)


def optional_square(name: str, x: Any, n: int) -> jax.Array:
    """An optional symmetric input matrix; None means zeros."""
    return jnp.zeros((n, n)) if x is None else check_square(name, x, n, symmetric=True)


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """`value` as an int (bools refused), or a ValueError naming `name` if it is below `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"`{name}` must be {expected}, got {value!r}")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}, got {value!r}")
    return value


def check_mask(name: str, mask: Any, k: int) -> jax.Array:
    """A boolean (K,) selection of active memories (None: all); at least one must be active."""
    if mask is None:
        return jnp.ones((k,), bool)
    arr = jnp.asarray(mask)
    if arr.shape != (k,):
        raise ValueError(f"`{name}` must have shape ({k},) (one flag per memory), got {arr.shape}")
    if arr.dtype != bool:
        raise ValueError(f"`{name}` must be boolean, got dtype {arr.dtype}")
    if is_concrete(arr) and not bool(np.any(np.asarray(arr))):
        raise ValueError(f"`{name}` must select at least one memory")
    return arr


def check_four_index(name: str, x: Any) -> jax.Array:
    """A finite (N, N, N, N) float array with N >= 2 (a dense astrocyte tensor)."""
    arr = as_float_array(name, x, ndim=4)
    n = arr.shape[0]
    if arr.shape != (n, n, n, n) or n < 2:
        raise ValueError(f"`{name}` must have shape (N, N, N, N) with N >= 2, got {arr.shape}")
    check_finite(name, arr)
    return arr
