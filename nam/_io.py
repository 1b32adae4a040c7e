"""Files written so that an interrupted run never leaves a half-written one behind."""

import os


def atomic_write(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file and `os.replace` (atomic on POSIX)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
