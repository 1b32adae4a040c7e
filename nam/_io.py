"""The one writer of files: written so that an interrupted run never leaves a half-written one behind
(`atomic_write`), and JSON that strict parsers read (`write_json`; RFC 8259 has no NaN or Infinity: a
non-finite number is written as null). Every result, table and checkpoint nam writes goes through here;
figures are written by matplotlib's `savefig`."""

import json
import math
import os


def atomic_write(path: str, data: str | bytes, *, before_replace=None, sync_dir: bool = False) -> None:
    """Write `data` (text, or bytes written as they are) to `path` through a temporary file in the same
    folder and `os.replace` (atomic on POSIX): a reader sees the old file or the new one, never a part.

    `before_replace(tmp)`, if given, is called with the temporary file's path once it is on disk and before
    it replaces `path` (e.g. to read it back and verify it); if it raises, `path` is left as it was.
    `sync_dir`: also fsync the folder, so the rename itself survives a power cut. The temporary file is
    removed if anything fails."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if sync_dir:
        _fsync_dir(os.path.dirname(os.path.abspath(path)))


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _finite_or_null(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_null(v) for v in obj]
    return obj


def write_json(path: str, obj, *, indent: int | None = 1) -> None:
    """Write `obj` to `path` as strict JSON, atomically (`atomic_write`): NaN and +-inf (Python or NumPy
    floats, at any depth of dicts, lists and tuples) become null, so every JSON parser reads the file.
    Read it back with `null_to_nan` where a null stands for a number."""
    atomic_write(path, json.dumps(_finite_or_null(obj), indent=indent, allow_nan=False))


def null_to_nan(obj):
    """`obj` (read from JSON) with every None, at any depth of dicts and lists, replaced by NaN: the inverse
    of `write_json` for results whose values are all numbers."""
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: null_to_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [null_to_nan(v) for v in obj]
    return obj
