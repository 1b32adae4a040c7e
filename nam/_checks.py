"""Argument checks shared by every entry point: raised at construction/trace time, before compute.

One mechanism for the whole package: a wrong type raises `ArgumentTypeError` (a TypeError), a wrong
value (shape, size, range, NaN/inf, unknown name) a ValueError; the message names the public argument
and what was expected. Integers are Python or NumPy integers, never bools (`is_integer`); instances are
checked by `check_instance`, which names the class as users import it (`public_name`); names from a fixed
set by `check_choice` (one) and `check_choices` (a non-empty sequence).

Shape and dtype checks always run. Value checks (finite, +-1, positive, symmetric) run only when the
value is concrete; a model built inside `jax.jit` from traced arrays skips them (the caller vouched for
the values when they were concrete).
"""

import math
import os
import sys
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._io import atomic_write


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (e.g. a bool or a complex number where a real number is expected, a
    list where an array is). A TypeError; also a ValueError, so code written when nam raised ValueError
    for every bad argument keeps catching it."""


def is_concrete(x: Any) -> bool:
    """True when `x` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def _type_name(x: Any) -> str:
    return "None" if x is None else type(x).__name__


def is_integer(value: Any) -> bool:
    """True for a Python or NumPy integer; False for a bool (True is not the integer 1 here) and for
    anything else (floats, 0-d arrays)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def public_name(cls: type) -> str:
    """The name users reach `cls` by: the shortest public module path that exports it, e.g.
    "nam.spiking.GordleevaNetwork" for the class defined in `nam/spiking/_network.py`, "nam.SolverConfig"
    for the one in `nam/dynamics/_config.py`, "optax.GradientTransformation"; the bare name for builtins."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    parts = cls.__module__.split(".")
    for i in range(1, len(parts) + 1):
        if parts[i - 1].startswith("_"):
            break
        module = sys.modules.get(".".join(parts[:i]))
        if module is not None and getattr(module, cls.__qualname__, None) is cls:
            return f"{module.__name__}.{cls.__qualname__}"
    return cls.__qualname__


def check_instance(name: str, value: Any, types: type | tuple[type, ...], expected: str | None = None) -> Any:
    """`value` itself if it is an instance of `types` (a class or a tuple of classes); otherwise an
    `ArgumentTypeError` naming `name` and what was expected: `expected`, or by default the public name of
    each class (`public_name`), e.g. "`network` must be a nam.spiking.GordleevaNetwork, got dict"."""
    if not isinstance(value, types):
        if expected is None:
            expected = " or ".join(f"a {public_name(t)}" for t in (types if isinstance(types, tuple) else (types,)))
        raise ArgumentTypeError(f"`{name}` must be {expected}, got {_type_name(value)}")
    return value


def _check_real_dtype(name: str, dtype: Any) -> None:
    if dtype == jnp.bool_:
        raise ArgumentTypeError(
            f"`{name}` must be a real (float or integer) array, got booleans; "
            "convert with .astype(float) if 0/1 is meant"
        )
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise ArgumentTypeError(f"`{name}` must be real, got complex dtype {dtype}")
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
        raise ArgumentTypeError(f"`{name}` must be a real array, got dtype {dtype}")


def as_float_array(name: str, x: Any, ndim: int | None = None) -> jax.Array:
    """Convert to a floating JAX array, checking the number of dimensions. Integers are converted; None,
    strings, objects, booleans and complex numbers are refused (`ArgumentTypeError`)."""
    if x is None or isinstance(x, (str, bytes)):
        raise ArgumentTypeError(f"`{name}` must be a real array, got {_type_name(x)}")
    try:
        arr = x if isinstance(x, jax.Array) else jnp.asarray(x)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"`{name}` must be a real array, got {_type_name(x)}") from e
    _check_real_dtype(name, arr.dtype)
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimension(s), got shape {arr.shape}")
    return arr


def as_float64_numpy(name: str, x: Any) -> np.ndarray:
    """A real number or array as a float64 NumPy array, whatever JAX's precision (for numerical work done in
    NumPy); refuses what `as_float_array` refuses (`ArgumentTypeError`). Values are not checked."""
    if x is None or isinstance(x, (str, bytes)):
        raise ArgumentTypeError(f"`{name}` must be a real number or array, got {_type_name(x)}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"`{name}` must be a real number or array, got {_type_name(x)}") from e
    _check_real_dtype(name, arr.dtype)
    return arr.astype(np.float64)


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
    """A real scalar as a 0-d float array (an array, so changing it never recompiles).

    **Arguments:** `name`: the argument's name, for the error message; `x`: the value given;
    `positive`, `nonnegative`: require x > 0 or x >= 0.

    **Returns:** the 0-d float array. **Raises:** TypeError or ValueError naming `name`.
    """
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
    """Memories as a (K, N) float array; K >= 1, N >= 2; +-1 entries when `binary`.

    **Arguments:** `name`: the argument's name, for the error message; `patterns`: the value given;
    `binary`: require +-1 entries.

    **Returns:** the (K, N) float array. **Raises:** TypeError (not a real array) or ValueError (shape,
    non-finite, not +-1), naming `name`.
    """
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
    """A finite (n,) float vector.

    **Arguments:** `name`: the argument's name, for the error message; `x`: the value given; `n`: its length.

    **Returns:** the (n,) float array. **Raises:** TypeError or ValueError naming `name`.
    """
    arr = as_float_array(name, x)
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},), got {arr.shape}")
    check_finite(name, arr)
    return arr


def check_square(name: str, x: Any, n: int, *, symmetric: bool) -> jax.Array:
    """A finite (n, n) float matrix, symmetric when `symmetric`.

    **Arguments:** `name`: the argument's name, for the error message; `x`: the value given; `n`: its
    side; `symmetric`: require x == x^T.

    **Returns:** the (n, n) float array. **Raises:** TypeError or ValueError naming `name`.
    """
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
    """An optional input vector; None means zeros.

    **Arguments:** `name`: the argument's name, for the error message; `x`: the value or None; `n`: its length.

    **Returns:** the (n,) float array (zeros for None). **Raises:** as `check_vector`.
    """
    return jnp.zeros((n,)) if x is None else check_vector(name, x, n)


def optional_square(name: str, x: Any, n: int) -> jax.Array:
    """An optional symmetric input matrix; None means zeros.

    **Arguments:** `name`: the argument's name, for the error message; `x`: the value or None; `n`: its side.

    **Returns:** the (n, n) float array (zeros for None). **Raises:** as `check_square`.
    """
    return jnp.zeros((n, n)) if x is None else check_square(name, x, n, symmetric=True)


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """`value` as an int: `ArgumentTypeError` unless it is an integer (bools and floats are refused),
    ValueError naming `name` if it lies outside [minimum, maximum]."""
    expected = (
        "a positive integer"
        if minimum == 1 and maximum is None
        else (f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]")
    )
    if not is_integer(value):
        raise ArgumentTypeError(f"`{name}` must be {expected}, got {_type_name(value)} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"`{name}` must be {expected}, got {value!r}")
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: int | float | None = None,
    maximum: int | float | None = None,
    open_min: bool = False,
    open_max: bool = False,
) -> float:
    """A finite real number (Python or NumPy/JAX scalar) as a float: `ArgumentTypeError` for bools,
    complex numbers, strings, None and arrays of other shapes; ValueError for NaN, inf or a value outside
    [minimum, maximum] (an open end with `open_min` / `open_max`)."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None or isinstance(value, complex):
        raise ArgumentTypeError(f"`{name}` must be a real number, got {_type_name(value)} {value!r}")
    if not isinstance(value, (int, float, np.integer, np.floating)):
        arr = np.asarray(value) if isinstance(value, (jax.Array, np.ndarray)) and is_concrete(value) else None
        if (
            arr is None
            or arr.shape != ()
            or arr.dtype == bool
            or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer))
        ):
            raise ArgumentTypeError(f"`{name}` must be a real number, got {_type_name(value)} {value!r}")
        value = arr.item()
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    lo = minimum is not None and (value <= minimum if open_min else value < minimum)
    hi = maximum is not None and (value >= maximum if open_max else value > maximum)
    if lo or hi:
        left = "(" if open_min else "["
        right = ")" if open_max else "]"
        raise ValueError(
            f"`{name}` must lie in {left}{'-inf' if minimum is None else f'{minimum:g}'}, "
            f"{'inf' if maximum is None else f'{maximum:g}'}{right}, got {value:g}"
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"`{name}` must be True or False, got {_type_name(value)} {value!r}")
    return bool(value)


def check_callable(name: str, value: Any) -> Any:
    if not callable(value):
        raise ArgumentTypeError(f"`{name}` must be callable, got {_type_name(value)}")
    return value


def check_key(name: str, key: Any) -> jax.Array:
    """A JAX PRNG key: a typed key (`jax.random.key`) or a raw uint32 key of shape (2,) (`PRNGKey`)."""
    if not isinstance(key, (jax.Array, np.ndarray)):
        raise ArgumentTypeError(f"`{name}` must be a JAX PRNG key (jax.random.key(seed)), got {_type_name(key)}")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"`{name}` must be a single PRNG key, got a key array of shape {key.shape}")
        return jnp.asarray(key)
    if key.dtype != jnp.uint32 or key.shape != (2,):
        raise ArgumentTypeError(
            f"`{name}` must be a JAX PRNG key (jax.random.key(seed)): uint32 of shape "
            f"(2,), got {key.dtype} of shape {key.shape}"
        )
    return jnp.asarray(key)


def available_memory() -> tuple[int, str]:
    """The one memory query: (bytes a computation may use, where they are). The physical memory of this
    machine ("RAM"), and no more than the default device's limit when JAX reports one (a GPU's memory)."""
    limit, where = 1 << 40, "memory"
    try:
        limit, where = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "RAM"
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    try:
        device = jax.devices()[0]
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory stats (CPU)
        stats = {}
    if stats.get("bytes_limit") and int(stats["bytes_limit"]) < limit:
        limit, where = int(stats["bytes_limit"]), f"{device.device_kind} memory"
    return int(limit), where


def _bytes(n: int | float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def check_memory(names: str, nbytes: int | float, what: str) -> None:
    """Refuse, before allocating anything, a computation whose estimated memory `nbytes` exceeds the
    memory available (`available_memory`); `names` are the arguments that set the size, `what` says what
    would be allocated."""
    limit, _ = available_memory()
    if nbytes > limit:
        raise ValueError(
            f"{names}: {what} needs about {_bytes(nbytes)}, more than the {_bytes(limit)} of memory "
            "available; choose smaller sizes"
        )


def float_bytes(count: int | float) -> float:
    """Bytes of `count` floating-point numbers at JAX's default float precision (4, or 8 with x64), for the
    estimates given to `check_memory`."""
    return float(count) * jnp.dtype(jnp.result_type(float)).itemsize


def check_path(name: str, path: Any) -> str:
    """A file or folder path to read (`str` or `os.PathLike`) as a string: `ArgumentTypeError` for anything
    else (an int would be taken by `open` and `os.path` as a file descriptor), ValueError for ''."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"`{name}` must be a path (a str or os.PathLike), got {_type_name(path)}")
    path = os.fspath(path)
    if not path:
        raise ValueError(f"`{name}` must be a path, got ''")
    return path


def check_output_dir(name: str, path: Any) -> str:
    """A folder that output will be written to: created if missing, then checked writable by creating
    and removing a file in it. ValueError naming `name` (e.g. `--out`) if it is a file, lies under a file,
    or cannot be written."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"{name} must be a folder path, got {_type_name(path)}")
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{name} must be a folder path, got ''")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name} {path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".nam-write-test-{os.getpid()}")
        atomic_write(probe, "")
        os.remove(probe)
    except OSError as e:
        raise ValueError(f"{name} {path} is not a writable folder ({e.strerror or e})") from None
    return path


def check_output_file(name: str, path: Any) -> str:
    """A file that output will be written to: its folder is `check_output_dir`-ed, and the path itself
    must not be a folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"`{name}` must be a file path, got {_type_name(path)}")
    path = os.fspath(path)
    if not path or os.path.isdir(path):
        raise ValueError(f"`{name}` must be a file path, got {path!r}" + (" (a folder)" if path else ""))
    check_output_dir(f"the folder of `{name}`", os.path.dirname(os.path.abspath(path)))
    return path


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One name from `choices`: `ArgumentTypeError` unless a string, ValueError if not among them."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"`{name}` must be one of {list(choices)}, got {_type_name(value)} {value!r}")
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}, got {value!r}")
    return value


def check_choices(name: str, values: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    """A non-empty sequence of names from `choices`, as a tuple: `ArgumentTypeError` for a single string
    (not a sequence of names), anything that is not iterable, or an entry that is not a string;
    ValueError for an empty sequence or a name not among `choices`."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ArgumentTypeError(
            f"`{name}` must be a sequence of names from {list(choices)} (a list or tuple), "
            f"got {_type_name(values)} {values!r}"
        )
    values = tuple(values)
    if not values:
        raise ValueError(f"`{name}` must name at least one of {list(choices)}, got {values!r}")
    return tuple(check_choice(name, v, choices) for v in values)


def check_mask(name: str, mask: Any, k: int) -> jax.Array:
    """A boolean (K,) selection of active memories (None: all); at least one must be active.

    **Arguments:** `name`: the argument's name, for the error message; `mask`: the value or None;
    `k`: the number of memories.

    **Returns:** the (K,) boolean array. **Raises:** TypeError or ValueError naming `name`.
    """
    if mask is None:
        return jnp.ones((k,), bool)
    try:
        arr = mask if isinstance(mask, jax.Array) else jnp.asarray(mask)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"`{name}` must be a boolean array of shape ({k},), got {_type_name(mask)}") from e
    if arr.shape != (k,):
        raise ValueError(f"`{name}` must have shape ({k},) (one flag per memory), got {arr.shape}")
    if arr.dtype != bool:
        raise ArgumentTypeError(f"`{name}` must be boolean, got dtype {arr.dtype}")
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
