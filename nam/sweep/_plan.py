"""What a sweep will cost, before running it: work, peak memory and compiled programs per (model, N).

The estimate follows the engine (`nam/sweep/_engine.py`) with typical search and dynamics figures:
- a K* search measures about `LOADS` loads, between half and twice the first guess (mean load about
  1.2 times the guess), each with `trials` trials;
- binary models: work in memory-spin updates, (sweeps + 1) N K per trial with about `SWEEPS` sweeps
  (the dynamics from the cue, plus one stability sweep from the memory);
- continuous models: work in vector-field evaluations times K N (the row's `work` column), about
  `STEPS` Euler steps per run, two runs per trial (from the cue, and from the memory);
- memory: the program's largest arrays at its capacity (binary: the packed memories, 4 W B cap bytes,
  and the int32 overlaps, 4 B cap; continuous: the float32 memories of the batch, 4 B cap N, with the
  staged copies, and the states).
The guess is the model's search start (`SweepModel.start_k`); `tests/test_sweep_plan.py` checks the
estimate against measured rows within a factor of 3. `seconds` divides the work by `RATES`, the
rates measured on the 2-core development machine (rows' work / seconds of the default sweep): a
rough guide to the run time, and what `shard_pairs` balances job-array shards by.
"""

import os

from ._engine import _cap, _first_load, _ladder, words_for
from ._registry import REGISTRY
from ._spec import SweepSpec

LOADS = 6
SWEEPS = 2.5
STEPS = {"hidden_dam": 110}
DEFAULT_STEPS = 30
# work units per second of one worker thread, measured on the 2-core development machine (rows' work /
# seconds of the default sweep, two workers): `seconds` below is a rough guide, and what shards balance
RATES = {"hopfield": 2.9e8, "dam3": 6.3e8, "dam4": 6.6e8, "dam_exp": 1.4e8, "na_effective": 6.8e7,
         "na_effective_distinct": 1.1e8, "na_full": 1.4e7, "na_full_distinct": 1.4e7, "hidden_dam": 2.1e8}
DEFAULT_RATE = {"binary": 3e8, "continuous": 5e7}  # a model not measured yet


def _state_size(name: str, n: int, k: int) -> int:
    if name.startswith("na_full"):
        return n + 2 * n * n
    if name == "hidden_dam":
        return n + k
    return n


def available_memory() -> tuple[int | None, str]:
    """(bytes, where): the default device's memory when it reports one, else this machine's RAM."""
    import jax

    try:
        stats = jax.devices()[0].memory_stats() or {}
        if stats.get("bytes_limit"):
            return int(stats["bytes_limit"]), f"{jax.devices()[0].device_kind} memory"
    except Exception:  # noqa: BLE001 - CPU devices report none
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "RAM"
    except (ValueError, OSError, AttributeError):
        return None, "memory"


def plan_sweep(spec: SweepSpec) -> list[dict]:
    """One row per (model, N): the first guess K0, the capacity of its program, estimated loads, work
    (the unit of the row's `work` column), peak bytes of its program, and the programs it adds."""
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"`spec` must be a nam.SweepSpec, got {type(spec).__name__}")
    rows = []
    for name, ns in spec.n_grid.items():
        sm = REGISTRY[name]
        words = words_for(max(ns))
        seen: set = set()
        for n in ns:
            k0 = max(1.0, sm.start_k(n, spec.rho))
            k_mean = 1.2 * k0
            cap = _cap(name, _ladder(spec, name, n, _first_load(spec, name, n)), int(round(2 * k0)))
            b = spec.batch
            if sm.kind == "binary":
                work = spec.trials * LOADS * (SWEEPS + 1) * n * k_mean
                peak = (4 * words + 8) * b * cap + 4 * b * 32 * words
                programs = 0 if cap in seen else 1  # one per capacity rung, shared by every N
                seen.add(cap)
            else:
                steps = STEPS.get(name, DEFAULT_STEPS)
                work = spec.trials * LOADS * 2 * (steps + 1) * n * k_mean
                state = _state_size(name, n, cap)
                peak = 4 * b * cap * n * (1 + 1 / 4 + 1 / 16) + 4 * words * b * cap + 4 * 2 * b * state * 6
                programs = 1
            rows.append({"model": name, "n": n, "k_guess": round(k0, 1), "cap": cap, "loads": LOADS,
                         "work": float(work), "seconds": float(work) / RATES.get(name, DEFAULT_RATE[sm.kind]),
                         "peak_bytes": int(peak), "programs": programs,
                         "work_unit": "memory-spin updates" if sm.kind == "binary" else "field evaluations x K N"})
    return rows


def format_plan(spec: SweepSpec, rows: list[dict]) -> str:
    """The plan as a table, with totals and whether the largest program fits in this device's memory."""
    avail, where = available_memory()
    lines = [f"{'model':<22} {'N':>5} {'K guess':>9} {'capacity':>9} {'work':>10} {'unit':<24} {'peak MiB':>9} "
             f"{'~s (2 CPU)':>10}", "-" * 106]
    for r in rows:
        lines.append(f"{r['model']:<22} {r['n']:>5} {r['k_guess']:>9.4g} {r['cap']:>9} {r['work']:>10.3g} "
                     f"{r['work_unit']:<24} {r['peak_bytes'] / 2**20:>9.1f} {r['seconds']:>10.1f}")
    peak = max((r["peak_bytes"] for r in rows), default=0)
    programs = sum(r["programs"] for r in rows)
    lines.append("")
    lines.append(f"about {sum(r['seconds'] for r in rows):.0f} s of running for one worker thread of the 2-core "
                 "development CPU, plus compilation (a rough guide: the rates are that machine's)")
    lines.append(f"{programs} compiled programs (binary models: one per capacity rung, shared by every N; continuous: "
                 f"one per N, more if a search runs past its capacity); {spec.trials} trials per load in batches of "
                 f"{spec.batch}")
    if avail is not None:
        verdict = "fits" if peak <= 0.8 * avail else "DOES NOT FIT"
        lines.append(f"largest program: {peak / 2**30:.2f} GiB of {avail / 2**30:.1f} GiB {where}: {verdict}"
                     + ("" if verdict == "fits" else " (lower --batch, or drop the largest N)"))
    return "\n".join(lines)


def check_fits(spec: SweepSpec) -> None:
    """Raise MemoryError (before anything is allocated) when the plan's largest program needs more than
    80% of the device's memory."""
    avail, where = available_memory()
    if avail is None:
        return
    rows = plan_sweep(spec)
    worst = max(rows, key=lambda r: r["peak_bytes"])
    if worst["peak_bytes"] > 0.8 * avail:
        raise MemoryError(f"{worst['model']} at N = {worst['n']} needs about {worst['peak_bytes'] / 2**30:.1f} GiB "
                          f"(batch {spec.batch}, capacity {worst['cap']}), more than 80% of the {avail / 2**30:.1f} GiB "
                          f"of {where}; lower `batch` or the largest N (see `nam sweep --plan`)")

