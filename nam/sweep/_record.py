"""The run record (`run.json`): what a sweep run measured and how long it took, kept as a history so that
no measured record is lost when a sweep is resumed or repeated (`_write_record`), and read back verified."""

import json
import os
import platform
import resource
import sys

import jax

from .._io import atomic_write


def _read_record(out_dir: str) -> dict | None:
    """The run record in `out_dir/run.json` (None when there is none); ValueError naming the file when it is
    not a JSON object."""
    path = os.path.join(out_dir, "run.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a readable run record ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("history", []), list):
        raise ValueError(f"{path} is not a readable run record (expected a JSON object)")
    return record


def _write_record(out_dir: str, record: dict) -> dict:
    """Write run.json so that no measured record is lost: its top level is the record of the latest run that
    measured rows (a resumed or repeated run that measured none keeps the record before it), and `history`
    lists every run's own record in order. Returns what was written."""
    old = _read_record(out_dir)
    history = [] if old is None else list(old.get("history", [{k: v for k, v in old.items() if k != "history"}]))
    history.append(dict(record))
    top = (
        record
        if (old is None or record.get("rows_measured", 0) > 0)
        else {k: v for k, v in old.items() if k != "history"}
    )
    out = {**top, "history": history}
    atomic_write(os.path.join(out_dir, "run.json"), json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


def _record(wall: float, stats: dict) -> dict:
    """The run record: versions, devices, this run's wall/compile/run seconds and programs (`stats`), peak
    memory of the process (and of the device where it reports one)."""
    from .. import __version__

    devices = jax.devices()
    peak = None
    try:
        peak = (devices[0].memory_stats() or {}).get("peak_bytes_in_use")
    except Exception:  # noqa: BLE001 - not every backend reports memory
        peak = None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {
        "nam_version": __version__,
        "jax_version": jax.__version__,
        "python": platform.python_version(),
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "wall_seconds": round(wall, 2),
        "compile_seconds": round(stats["compile_seconds"], 2),
        "run_seconds": round(stats["run_seconds"], 2),
        "programs": stats["programs"],
        "peak_rss_bytes": rss,
        "peak_device_bytes": peak,
    }
