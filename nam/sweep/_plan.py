"""A sweep's plan: the capacity ladder of every (model, N) search, and what the sweep will cost before it
runs (work, peak memory and compiled programs per (model, N)).

**Capacity ladder.** A compiled program's memory capacity is fixed per (model, N) from the search's first
load (`first_load`, the model's `start_k`), so a search compiles one program unless it runs past its
capacity (`ladder`, `rung`); binary models share one program over their N while it fits
(`ONE_PROGRAM_BYTES`). Everything here is a function of the spec, so shards and resumed runs compile
and pad like one run.

**Cost.** What a sweep will cost, before running it: work, peak memory and compiled programs per (model, N).

The estimate follows the engine (`nam/sweep/_engine.py`) with typical search and dynamics figures:
- a K* search measures about `LOADS` loads, between half and twice the first guess (mean load about
  1.2 times the guess), each with `trials` trials;
- binary models: work in memory-spin updates, (sweeps + 1) N K per trial with about `SWEEPS` sweeps
  (the dynamics from the cue, plus one stability sweep from the memory);
- continuous models: work in vector-field evaluations times K N (the row's `work` column), about
  `SweepModel.plan_steps` steps per run, two runs per trial (from the cue, and from the memory);
- memory: the program's largest arrays at its capacity (binary: the packed memories, 4 W B cap bytes,
  and the int32 overlaps, 4 B cap; continuous: the float32 memories of the batch's B / cues_per_set
  memory sets, 4 (B / cues_per_set) cap N, with temporaries, and the states of the 2 B runs).
The guess is the model's search start (`SweepModel.start_k`); `tests/test_sweep_plan.py` checks the
estimate against measured rows within a factor of 3. `seconds` divides the work by each registry entry's `rate`,
measured on the 2-core development machine (rows' work / seconds of the default sweep): a
rough guide to the run time, and what `shard_pairs` balances job-array shards by.
"""

import math

from .._checks import ArgumentTypeError, available_memory, check_instance
from ._registry import REGISTRY
from ._spec import SweepSpec

LOADS = 6
SWEEPS = 2.5


# ------------------------------------------------------------------------------------ capacity ladder


def capacity_for(name: str, k_guess: float | int) -> int:
    """The memory capacity of a program whose search starts at `k_guess`. Binary models (whose kernel
    visits only the chunks it needs): a power of two >= 4 k_guess, at least 16. Continuous models (whose
    padding rows cost work at every step): 2.2 k_guess rounded up to a multiple of 32, so a search that
    doubles past it compiles a second program rather than paying for unused rows at every load."""
    if REGISTRY[name].continuous:
        return max(32, 32 * int(math.ceil(2.2 * max(k_guess, 1.0) / 32)))
    return max(16, 1 << (int(math.ceil(4.0 * max(k_guess, 1.0))) - 1).bit_length())


def chunk_for(cap: int) -> int:
    """Memories per chunk of the binary kernel: a sixteenth of the capacity, at least 256 (or all)."""
    return min(cap, max(256, cap // 16))


def words_for(n: int) -> int:
    """32-bit words per memory of N bits."""
    return -(-int(n) // 32)


def cues_for(spec: SweepSpec, name: str) -> int:
    """Trials per shared memory set: `spec.cues_per_set` for continuous models, 1 for binary ones (whose
    integer kernel gives every trial its own memories)."""
    return int(spec.cues_per_set or 1) if REGISTRY[name].continuous else 1


def first_load(spec: SweepSpec, name: str, n: int) -> int:
    """The K* search's first load at N (`SweepModel.start_k`)."""
    return max(1, int(round(REGISTRY[name].start_k(n, spec.rho))))


def program_words(spec: SweepSpec, name: str, n: int) -> int:
    """32-bit words per memory of the program: for N itself (continuous), or for the model's largest N, which
    one binary program serves at every N."""
    return words_for(n if REGISTRY[name].continuous else max(spec.n_grid[name]))


ONE_PROGRAM_BYTES = 2**30  # a binary model gets one program for all its N while its memories fit in this


def ladder(spec: SweepSpec, name: str, n: int, k0: int) -> int:
    """The base of the capacity ladder of a search. Binary models (N traced): one program for every N,
    sized from the start load at the model's largest N, while its packed memories take at most
    `ONE_PROGRAM_BYTES`; beyond that (large N, the accelerator preset) rungs 4x apart from the start
    load at its smallest N, so every load gets a program at most 4x its size and a row fits in a few GB.
    Continuous models: one ladder per (model, N) from k0."""
    sm = REGISTRY[name]
    if sm.kind == "binary":
        top = capacity_for(name, sm.start_k(max(spec.n_grid[name]), spec.rho))
        if 4 * program_words(spec, name, n) * spec.batch * top <= ONE_PROGRAM_BYTES:
            return top
        return max(16, 1 << (first_load(spec, name, min(spec.n_grid[name])) - 1).bit_length())
    return capacity_for(name, k0)


def rung(name: str, base: int, k: int) -> int:
    """The program capacity for load K: the smallest rung base * step^j >= K (binary: step 4, one rung
    per factor 4 of load; continuous: step 2, which a doubling search from k0 climbs one rung per
    doubling). A function of (spec, model, N, K) alone, so shards compile and pad like one run."""
    step = 2 if REGISTRY[name].continuous else 4
    cap = base
    while cap < k:
        cap *= step
    return cap


# ----------------------------------------------------------------------------------------------- plan


DEFAULT_RATE = {"binary": 3e8, "continuous": 5e7}  # a model whose registry entry has no measured rate


def plan_sweep(spec: SweepSpec) -> list[dict]:
    """One row per (model, N): the first guess K0, the capacity of its program, estimated loads, work
    (the unit of the row's `work` column), peak bytes of its program, and the programs it adds.

    **Arguments:** `spec`: a `nam.SweepSpec`.

    **Returns:** a list of dicts, one per (model, N) of the spec, in its order (measures nothing).

    **Raises:** `TypeError` for a `spec` that is not a `nam.SweepSpec`.
    """
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
            cap = rung(name, ladder(spec, name, n, first_load(spec, name, n)), int(round(2 * k0)))
            b = spec.batch
            if sm.kind == "binary":
                work = spec.trials * LOADS * (SWEEPS + 1) * n * k_mean
                peak = (4 * words + 8) * b * cap + 4 * b * 32 * words
                programs = 0 if cap in seen else 1  # one per capacity rung, shared by every N
                seen.add(cap)
            else:
                steps = sm.plan_steps
                work = spec.trials * LOADS * 2 * (steps + 1) * n * k_mean
                state = sm.state_size(n, cap)
                sets = b // (spec.cues_per_set or 1)
                peak = 4 * sets * cap * n * 1.5 + 4 * words * sets * cap + 4 * 2 * b * state * 6
                programs = 1
            rows.append(
                {
                    "model": name,
                    "n": n,
                    "k_guess": round(k0, 1),
                    "cap": cap,
                    "loads": LOADS,
                    "work": float(work),
                    "seconds": float(work) / (sm.rate if sm.rate == sm.rate else DEFAULT_RATE[sm.kind]),
                    "peak_bytes": int(peak),
                    "programs": programs,
                    "work_unit": "memory-spin updates" if sm.kind == "binary" else "field evaluations x K N",
                }
            )
    return rows


def format_plan(spec: SweepSpec, rows: list[dict]) -> str:
    """The plan as a table, with totals and whether the largest program fits in this device's memory.

    **Arguments:** `spec`: the `nam.SweepSpec`; `rows`: its `nam.plan_sweep(spec)`.

    **Returns:** the table as a string.
    """
    check_instance("spec", spec, SweepSpec)
    needed = ("model", "n", "k_guess", "cap", "work", "work_unit", "peak_bytes", "seconds")
    if not isinstance(rows, (list, tuple)) or not all(
        isinstance(r, dict) and all(k in r for k in needed) for r in rows
    ):
        raise ArgumentTypeError(
            f"`rows` must be the list of dicts `nam.plan_sweep(spec)` returns, got {type(rows).__name__}"
        )
    avail, where = available_memory()
    lines = [
        f"{'model':<22} {'N':>5} {'K guess':>9} {'capacity':>9} {'work':>10} {'unit':<24} {'peak MiB':>9} "
        f"{'~s (2 CPU)':>10}",
        "-" * 106,
    ]
    for r in rows:
        lines.append(
            f"{r['model']:<22} {r['n']:>5} {r['k_guess']:>9.4g} {r['cap']:>9} {r['work']:>10.3g} "
            f"{r['work_unit']:<24} {r['peak_bytes'] / 2**20:>9.1f} {r['seconds']:>10.1f}"
        )
    peak = max((r["peak_bytes"] for r in rows), default=0)
    programs = sum(r["programs"] for r in rows)
    lines.append("")
    lines.append(
        f"about {sum(r['seconds'] for r in rows):.0f} s of running for one worker thread of the 2-core "
        "development CPU, plus compilation (a rough guide: the rates are that machine's)"
    )
    lines.append(
        f"{programs} compiled programs (binary models: one per capacity rung, shared by every N; continuous: "
        f"one per N, more if a search runs past its capacity); {spec.trials} trials per load in batches of "
        f"{spec.batch}"
    )
    if avail is not None:
        verdict = "fits" if peak <= 0.8 * avail else "DOES NOT FIT"
        lines.append(
            f"largest program: {peak / 2**30:.2f} GiB of {avail / 2**30:.1f} GiB {where}: {verdict}"
            + ("" if verdict == "fits" else " (lower --batch, or drop the largest N)")
        )
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
        raise MemoryError(
            f"{worst['model']} at N = {worst['n']} needs about {worst['peak_bytes'] / 2**30:.1f} GiB "
            f"(batch {spec.batch}, capacity {worst['cap']}), more than 80% of the {avail / 2**30:.1f} GiB "
            f"of {where}; lower `batch` or the largest N (see `nam sweep --plan`)"
        )
