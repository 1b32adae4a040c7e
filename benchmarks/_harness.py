"""The pieces every benchmark in this folder shares: timing, memory, the machine, the result file.

Importing this module puts the repository root on `sys.path` once, so that `import nam` finds this
checkout when a script runs as `python benchmarks/<script>.py`. Its module level imports only the standard
library; jax, numpy and nam are imported by the functions that need them, because `bench_gordleeva.py`'s
Brian2 worker imports this module under a Python that has neither jax nor nam, and its float64 worker has
to enable x64 before nam is imported.

- `interleaved` times several callables round-robin (so all of them see the same machine load), after an
  optional warm-up, each result passed to `jax.block_until_ready`; `medians` and `ratios` summarise it.
- `compile_timed` lowers and compiles a jitted function; `memory_analysis` reads XLA's memory analysis of
  the compiled program (the same object that is timed).
- `peak_rss_mib` and `loadavg`: the process's peak resident memory and the machine's load.
- `environment`: the record of the machine and versions every result file starts with.
- `write_result`: the result JSON, atomically and strict (`nam._io.write_json`: NaN and inf become null).
"""

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
MiB = 2.0**20

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def result_path(name: str) -> str:
    """`benchmarks/results/<name>`: where a benchmark writes by default."""
    return str(RESULTS / name)


# ---------------------------------------------------------------------------------------------- timing


def interleaved(
    fns: dict[Hashable, Callable[[], Any]],
    repeats: int | dict[Hashable, int],
    *,
    calls: int | dict[Hashable, int] = 1,
    warmup: bool = True,
) -> dict[Hashable, list[float]]:
    """Wall-clock seconds of zero-argument callables, timed round-robin.

    **Arguments:**

    - `fns`: name -> callable; each call's result is passed to `jax.block_until_ready` inside the timing.
    - `repeats`: the rounds each callable takes part in (one count for all, or one per name). In round r
      every callable with more than r repeats runs, in the order of `fns`, so all of them see the same
      machine load.
    - `calls`: how many times in a row a callable runs in each of its rounds, each call timed on its own
      (one count for all, or one per name).
    - `warmup`: call each callable once, untimed, before the first round.

    **Returns:** name -> list of seconds, `repeats[name] * calls[name]` of them.
    """
    import jax

    reps = repeats if isinstance(repeats, dict) else dict.fromkeys(fns, repeats)
    per = calls if isinstance(calls, dict) else dict.fromkeys(fns, calls)
    if warmup:
        for fn in fns.values():
            jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for r in range(max(reps.values(), default=0)):
        for name, fn in fns.items():
            if r >= reps[name]:
                continue
            for _ in range(per[name]):
                t0 = time.perf_counter()
                jax.block_until_ready(fn())
                times[name].append(time.perf_counter() - t0)
    return times


def medians(times: dict[Hashable, list[float]]) -> dict[Hashable, float]:
    """name -> the median of its seconds."""
    return {name: float(statistics.median(v)) for name, v in times.items()}


def ratios(med: dict[Hashable, float], peer: Hashable) -> dict[Hashable, float]:
    """name -> med[name] / med[peer] for every name but the peer: how many times the peer's time each took
    (with times, the peer's speed-up over each)."""
    return {name: m / med[peer] for name, m in med.items() if name != peer}


def compile_timed(jitted: Callable, *args) -> tuple[Any, float]:
    """`jitted.lower(*args).compile()` (a `jax.jit` or `equinox.filter_jit` function) and the seconds it took."""
    t0 = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- memory


def memory_analysis(compiled) -> dict:
    """XLA's memory analysis of a compiled program (from `compile_timed`, jax's or equinox's): bytes of
    temporaries (the working memory), arguments, outputs, aliased buffers and generated code; an "error"
    entry instead on a backend without the analysis."""
    compiled = getattr(compiled, "compiled", compiled)  # equinox's Compiled wraps jax's
    try:
        ma = compiled.memory_analysis()
    except (AttributeError, NotImplementedError, RuntimeError) as e:
        return {"error": repr(e)}
    if ma is None:
        return {"error": "memory_analysis() returned None"}
    return {
        "temp_bytes": int(ma.temp_size_in_bytes),
        "argument_bytes": int(ma.argument_size_in_bytes),
        "output_bytes": int(ma.output_size_in_bytes),
        "alias_bytes": int(ma.alias_size_in_bytes),
        "generated_code_bytes": int(ma.generated_code_size_in_bytes),
    }


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (ru_maxrss; it includes compilation), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def loadavg() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------------------------- record


def _git_state() -> dict:
    """The checkout measured: its commit and whether nam/ had uncommitted changes ({} outside git)."""

    def run(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout

    try:
        return {
            "git_commit": run("rev-parse", "HEAD").strip(),
            "nam_dirty": bool(run("status", "--porcelain", "--", "nam").strip()),
        }
    except (OSError, subprocess.SubprocessError):
        return {}


def environment(**extra) -> dict:
    """The machine and versions a result was measured with: machine and processor, platform, Python, CPU
    count, jax, its backend, devices and device kind, whether a GPU was there, numpy, nam, and the git
    commit; `extra` (peer versions, load averages, options) is added last."""
    import jax
    import numpy as np

    import nam

    devices = jax.devices()
    return {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "device_kind": devices[0].device_kind,
        "gpu_available": any(d.platform == "gpu" for d in devices),
        "numpy": np.__version__,
        "nam": getattr(nam, "__version__", None),
        **_git_state(),
        **extra,
    }


def _plain(x):
    """NumPy and jax scalars and arrays as Python numbers and lists, at any depth of dicts, lists, tuples."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (str, bool, int, float)) or x is None:
        return x
    if hasattr(x, "__array__"):  # numpy / jax arrays and numpy scalars
        import numpy as np

        return np.asarray(x).tolist()
    return x


def write_result(path: str, result: dict, *, indent: int = 2) -> None:
    """Write `result` to `path` (its folder made if missing) as strict JSON, atomically: NumPy and jax
    numbers become Python ones, NaN and inf become null (`nam._io.write_json`)."""
    from nam._io import write_json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_json(str(path), _plain(result), indent=indent)
