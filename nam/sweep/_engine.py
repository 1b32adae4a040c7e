"""The sweep engine: `run_sweep`, `load_sweep` and `merge_sweeps`, a spec's way through the sweep's modules.

A sweep is a pipeline of single-job modules, each importing only those before it:

- `_spec`: what to measure (`SweepSpec`, the presets); `_registry`: everything model-specific;
- `_plan`: the capacity ladder of each search, the memory and time estimates (`plan_sweep`);
- `_kernels`: the compiled kernels (binary flip dynamics, fixed-step Runge-Kutta to a steady state);
- `_programs`: one program per (model, N, capacity, batch), compiled once per process;
- `_store`: the output folder (rows.csv written as rows come, resume, shard records, verified reading);
- `_measure`: one row, a batch of trials at one load, status-gated counts;
- `_scheduler`: which thread or job-array shard runs which (model, N) search;
- this module: the searches (`nam.capacity.find_crossing` over stored or measured rows), the summary,
  the fitted laws and the run record; `_report` formats and draws them.

Each measured row is one batch of trials at one load: (model, N, K, rho, seed, batch index). A trial draws
K random memories (continuous models: `cues_per_set` trials share a set of K memories, each cued from a
different memory of it) and a cue with exactly round(rho N) flipped bits of its memory, and records the
four criteria:

1. the fraction of the memory's bits that the dynamics leave unchanged when started from the memory
   itself (binary: one flip-difference update per bit; continuous: the read-out after the dynamics);
2. whether the memory is an exact fixed point (all of 1);
3. whether the read-out after the dynamics from the cue equals the memory;
4. the final overlap with the memory;

plus the dynamics' status counts, the work done and the run time (`_measure`).

Random inputs derive from (seed, model, N, K, batch index) alone, so a resumed sweep that replays stored
rows takes the same adaptive path as an uninterrupted one, and shards of a job array take the same path
as one run. With several processes (`jax.distributed`, see `initialize_distributed`) every process takes
the same path, computes its share of every batch, and process 0 alone writes; `merge_sweeps` combines
the folders of a job array's shards into the table one run would have written.
"""

import dataclasses
import logging
import math
import os
import threading
import time

import jax
import numpy as np

from .._checks import check_bool, check_choice, check_int, check_path
from .._io import atomic_write
from ..capacity._search import find_crossing
from ..capacity._stats import fit_power_law
from ._measure import measure_row
from ._plan import check_fits, first_load, ladder, program_words, rung
from ._programs import STATS, compile_wall, precompile
from ._record import _read_record, _record, _write_record
from ._registry import REGISTRY
from ._scheduler import default_workers, run_searches, shard_pairs
from ._spec import SweepSpec
from ._store import KEY_FIELDS, broadcast_rows, check_shard, open_output, read_shard, read_spec, rows_csv, set_counts

logger = logging.getLogger(__name__)


class SweepInterrupted(RuntimeError):
    """Raised by `run_sweep(..., max_new_rows=...)` (tests simulate a kill with it)."""


@dataclasses.dataclass
class SweepResult:
    """What `nam.run_sweep`, `nam.load_sweep` and `nam.merge_sweeps` return.

    **Fields:**

    - `rows`: every measured batch, one dict per row (the columns of `rows.csv`);
    - `summary`: K* per (model, N), one dict each (the columns of `summary.csv`);
    - `fits`: the fitted law per model (the columns of `fits.csv`);
    - `out_dir`: the folder the sweep was written to, or None;
    - `record`: the run record (versions, devices, wall/compile/run seconds, programs, peak memory).
    """

    rows: list
    summary: list
    fits: list
    out_dir: str | None
    record: dict = dataclasses.field(default_factory=dict)

    def to_pandas(self, table: str = "summary"):
        """One of the tables as a `pandas.DataFrame` (pandas is optional: `pip install pandas`).

        **Arguments:** `table`: "summary" (default), "rows" or "fits".

        **Returns:** a `pandas.DataFrame` with one row per dict of that list and one column per key.

        **Raises:** `ImportError` (saying how to install it) when pandas is not installed; `ValueError`
        for another `table`.
        """
        table = check_choice("table", table, ("summary", "rows", "fits"))
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(
                "SweepResult.to_pandas needs pandas, which is not installed: `pip install pandas` "
                "(or the [notebooks] extra of nam-astro)"
            ) from e
        return pd.DataFrame(list(getattr(self, table)))


def run_sweep(
    spec: SweepSpec,
    out_dir: str | None = None,
    *,
    progress: bool = True,
    max_new_rows: int | None = None,
    shard: tuple | None = None,
    workers: int | None = None,
) -> SweepResult:
    """Measure K*(N) for every model and N of `spec`, writing rows to `out_dir/rows.csv` as they come.

    Re-running with the same spec and folder resumes: stored rows are reused, not recomputed, and the
    result equals an uninterrupted run. A different spec in the same folder raises `SpecMismatch`
    naming the fields that differ. Writes `summary.csv`, `fits.csv` and `run.json` (the run record)
    at the end.

    `shard=(I, M)` (1 <= I <= M) measures only shard I's share of the (model, N) searches
    (`shard_pairs`), for one task of a job array: its folder gets rows, summary and run record but no
    fits (they need every N); combine the M folders with `merge_sweeps`. With several processes
    (`initialize_distributed`), every process must call this with the same arguments; each computes
    its share of every batch, and process 0 alone writes.

    **Arguments:**

    - `spec`: a `nam.SweepSpec`.
    - `out_dir`: the folder for rows.csv, summary.csv, fits.csv, run.json and spec.json; None keeps
      everything in memory.
    - `progress`: show a progress bar.
    - `max_new_rows`: stop with `nam.SweepInterrupted` after measuring this many new rows (tests).
    - `shard`: (I, M) to measure shard I of M, or None.
    - `workers`: threads running the independent (model, N) searches at once (default
      `default_workers()`: the CPU count on a CPU backend, else 1); the tables do not depend on it.

    **Returns:** a `nam.SweepResult` (rows, summary, fits, run record).

    **Raises:** `TypeError` for a `spec` that is not a `nam.SweepSpec`; `MemoryError` (before anything
    is allocated) when the largest program would not fit in the device's memory; `SpecMismatch`;
    `ValueError` for a corrupt `rows.csv`, naming the file and line, for a bad `shard`, or for a batch
    the processes' devices do not divide.
    """
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"`spec` must be a nam.SweepSpec, got {type(spec).__name__}")
    if out_dir is not None and not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"`out_dir` must be a folder path or None, got {type(out_dir).__name__}")
    if shard is not None:
        shard = check_shard(shard)
    check_bool("progress", progress)
    if max_new_rows is not None:
        max_new_rows = check_int("max_new_rows", max_new_rows, 0)
    if workers is None:
        workers = default_workers()
    workers = check_int("workers", workers)
    if jax.process_count() > 1 and spec.batch % jax.device_count():
        raise ValueError(
            f"`batch` ({spec.batch}) must be a multiple of the {jax.device_count()} devices of the "
            f"{jax.process_count()} processes (each process computes an equal share of every batch)"
        )
    check_fits(spec)
    return _run(
        spec,
        None if out_dir is None else os.fspath(out_dir),
        progress=progress,
        max_new_rows=max_new_rows,
        write=True,
        shard=shard,
        workers=workers,
    )


def load_sweep(out_dir) -> SweepResult:
    """The result of the finished sweep stored in `out_dir` (its spec.json and rows.csv), recomputed from
    the stored rows without measuring anything: the same summary and fits as the run that wrote them,
    and its run record (run.json).

    **Arguments:** `out_dir`: the folder a sweep wrote.

    **Returns:** a `nam.SweepResult`.

    **Raises:** `FileNotFoundError` when the folder holds no sweep; `ValueError` when its rows are
    incomplete (resume it with `nam sweep --out FOLDER` and the same options).
    """
    out_dir = check_path("out_dir", out_dir)
    if not os.path.exists(os.path.join(out_dir, "spec.json")):
        raise FileNotFoundError(f"{out_dir} holds no sweep (no spec.json)")
    spec = read_spec(out_dir)
    shard = read_shard(out_dir)
    try:
        result = _run(spec, out_dir, progress=False, max_new_rows=0, write=False, shard=shard)
    except SweepInterrupted:
        raise ValueError(
            f"the sweep in {out_dir} is incomplete; resume it with `nam sweep --out {out_dir}` and the "
            "options that started it"
        ) from None
    result.record = _read_record(out_dir) or {}
    return result


class _Rows:
    """The rows of one sweep run, shared by its worker threads: stored rows are reused, a new row is measured
    once (its slot reserved first, so `max_new_rows` holds across workers) and the table is rewritten as each
    one finishes."""

    def __init__(self, spec: SweepSpec, rows: list, out_dir: str | None, write: bool, max_new_rows: int | None):
        self.spec, self.out_dir, self.write, self.max_new_rows = spec, out_dir, write, max_new_rows
        self.cache = {tuple(r[f] for f in KEY_FIELDS): r for r in rows}
        self.rows = list(rows)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.new = 0

    def get(self, name: str, n: int, k: int, b: int, cap: int, words: int, order: dict) -> dict:
        key = (name, n, k, self.spec.rho, self.spec.seed, b)
        with self.lock:
            stored = self.cache.get(key)
            if stored is None:
                if self.stop.is_set():
                    raise SweepInterrupted("stopped")
                if self.max_new_rows is not None and self.new >= self.max_new_rows:
                    raise SweepInterrupted(f"stopped after {self.new} new rows")
                self.new += 1  # reserved before measuring, so the limit holds across workers
        if stored is None:
            row = measure_row(self.spec, name, n, k, b, cap=cap, words=words)
            with self.lock:
                self.cache[key] = stored = row
                self.rows.append(row)
                if self.out_dir is not None and self.write:
                    atomic_write(os.path.join(self.out_dir, "rows.csv"), rows_csv(self.rows))
        order.setdefault(key)
        return stored


def _summary_row(spec: SweepSpec, name: str, n: int, res, read: list, near: list) -> dict:
    """One (model, N)'s line of summary.csv from its search result and the rows it read."""
    sweep_model = REGISTRY[name]
    units = sweep_model.units(n, res.k_star)
    return {
        "model": name,
        "n": n,
        "k_star": res.k_star,
        "ci_low": res.ci[0],
        "ci_high": res.ci[1],
        "status": _credible(res),
        "loads_measured": len(res.points),
        "criterion": spec.criterion,
        "theory": sweep_model.theory_k(n, spec.rho),
        "theory_fixed_point": sweep_model.fixed_point_k(n),
        "units": units,
        "k_star_per_unit": res.k_star / units,
        "per_unit_low": res.ci[0] / sweep_model.units(n, res.ci[0]),
        "per_unit_high": res.ci[1] / sweep_model.units(n, res.ci[1]),
        # cue runs that ended without their steady state (step or sweep limit, non-finite): over the two
        # loads bracketing K*, and over every load of the search
        "no_steady": _unsettled(near),
        "no_steady_all": _unsettled(read),
    }


def _search(spec: SweepSpec, rows: _Rows, pair: tuple[str, int]) -> tuple[dict, list]:
    """One (model, N)'s search for K*: its summary line and the keys of the rows it read, in its order."""
    name, n = pair
    k0 = first_load(spec, name, n)
    base, words = ladder(spec, name, n, k0), program_words(spec, name, n)
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[spec.criterion]
    order: dict = {}  # the rows this search read, in its order

    def evaluate(k):
        cap = rung(name, base, k)
        batch_rows = [rows.get(name, n, k, b, cap, words, order) for b in range(spec.trials // spec.batch)]
        hits, trials = sum(r[column] for r in batch_rows), sum(r["trials"] for r in batch_rows)
        clusters = [c for r in batch_rows for c in set_counts(r, column)]
        # trials sharing memories are resampled by memory set in the interval's bootstrap
        return (hits, trials, clusters) if clusters else (hits, trials)

    res = find_crossing(
        evaluate, k0, level=spec.level, rel_tol=spec.rel_tol, max_evals=spec.max_evals, k_max=spec.k_max, seed=spec.seed
    )
    read = [rows.cache[key] for key in order]
    near = [r for r in read if res.bracket is not None and r["k"] in res.bracket]
    return _summary_row(spec, name, n, res, read, near), list(order)


def _write_tables(out_dir: str, cache: dict, order: dict, summary: list, fits: list) -> None:
    """rows.csv (the rows the searches read, in the order one uninterrupted one-worker run measures them, then
    any others the folder held), summary.csv and fits.csv (removed when empty: an earlier run's table would no
    longer describe this folder)."""
    ordered = [cache[key] for key in order] + [r for key, r in cache.items() if key not in order]
    atomic_write(os.path.join(out_dir, "rows.csv"), rows_csv(ordered))
    for fname, table in (("summary.csv", summary), ("fits.csv", fits)):
        path = os.path.join(out_dir, fname)
        if table:
            atomic_write(path, rows_csv(table, list(table[0])))
        elif os.path.exists(path):
            os.remove(path)


def _run(
    spec: SweepSpec,
    out_dir: str | None,
    *,
    progress: bool,
    max_new_rows: int | None,
    write: bool,
    shard: tuple[int, int] | None = None,
    rows: list | None = None,
    workers: int = 1,
) -> SweepResult:
    """The sweep loop. `rows`: use these stored rows instead of the folder's (merging). With several
    processes, process 0 reads the folder and sends its rows to the others, and alone writes.

    `workers` threads run the (model, N) searches, costliest first (each search is sequential and
    depends on nothing else); the tables are assembled in the spec's order whatever order they finish
    in, so they equal a one-worker run's."""
    t_start = time.perf_counter()
    stats0 = dict(STATS)
    lead = jax.process_index() == 0
    write = write and lead
    if jax.process_count() > 1:
        workers = 1
    if rows is None:
        rows = broadcast_rows(lambda: open_output(spec, out_dir, write, shard)) if out_dir is not None else []
    table = _Rows(spec, rows, out_dir, write, max_new_rows)
    pairs = [(name, n) for name, ns in spec.n_grid.items() for n in ns] if shard is None else shard_pairs(spec, *shard)
    if max_new_rows != 0 and workers > 1:
        precompile(spec, pairs, table.cache, workers)
    results = run_searches(
        spec,
        pairs,
        lambda pair: _search(spec, table, pair),
        workers=workers,
        progress=progress and lead,
        stop=table.stop,
    )
    summary = [results[p][0] for p in pairs]
    order = {key: None for p in pairs for key in results[p][1]}
    fits = fit_laws(summary, spec.rho) if shard is None else []
    wall = time.perf_counter() - t_start
    record = _record(wall, {key: STATS[key] - stats0[key] for key in STATS})
    record |= {
        "compile_wall_seconds": round(compile_wall(t_start), 2),
        "rows_measured": table.new,
        "rows_reused": len(order) - table.new,
        "processes": jax.process_count(),
        "workers": workers,
    }
    logger.info(
        "sweep: %d (model, N) searches, %d rows measured, %d reused%s, %.1f s wall",
        len(pairs),
        table.new,
        len(order) - table.new,
        f" from {out_dir}" if out_dir is not None else "",
        wall,
    )
    if shard is not None:
        record["shard"] = f"{shard[0]}/{shard[1]}"
    if out_dir is not None and write:
        _write_tables(out_dir, table.cache, order, summary, fits)
        record = _write_record(out_dir, record)
    return SweepResult(
        rows=[table.cache[key] for key in order], summary=summary, fits=fits, out_dir=out_dir, record=record
    )


def _credible(res) -> str:
    """The search's status, with "bracketed" turned into "wide_interval" when K*'s 95% interval is not one a
    reader can use: its lower end below one memory, or wider than the whole range of loads measured."""
    if res.status != "bracketed":
        return res.status
    ks = [p[0] for p in res.points]
    low, high = res.ci
    if not (low >= 1.0 and high - low <= max(ks) - min(ks)):
        return "wide_interval"
    return res.status


def _unsettled(rows: list[dict]) -> float:
    """The share of cue runs in `rows` that did not end CONVERGED (NaN for no rows)."""
    trials = sum(r["trials"] for r in rows)
    return (trials - sum(r["converged"] for r in rows)) / trials if trials else math.nan


def fit_laws(summary: list[dict], rho: float) -> list[dict]:
    """The law of each model's K*(N): a power law (log K* on log N) with the theory's slope over the same
    N, or for the exponential DAM an exponential (log K* on N, the rate per neuron). Fits need >= 2 N
    with a finite K*; with exactly 2 the line is exact and has no interval (`ci_low`/`ci_high` NaN)."""
    fits = []
    for name in dict.fromkeys(s["model"] for s in summary):
        sm = REGISTRY[name]
        pts = [(s["n"], s["k_star"]) for s in summary if s["model"] == name and math.isfinite(s["k_star"])]
        if len({p[0] for p in pts}) < 2:
            continue
        ns, ks = [p[0] for p in pts], [p[1] for p in pts]
        theory_fp = (
            fit_power_law(ns, [sm.fixed_point_k(m) for m in ns]).slope if sm.degree and sm.theory_applies else math.nan
        )
        if sm.fit == "exponential":
            fit = fit_power_law(np.exp(np.asarray(ns, float)), ks)  # log K* against N
            theory = math.nan
        else:
            fit = fit_power_law(ns, ks)
            theory = fit_power_law(ns, [sm.theory_k(m, rho) for m in ns]).slope if sm.theory_applies else math.nan
        finite_ci = math.isfinite(fit.slope_low) and math.isfinite(fit.slope_high)
        fits.append(
            {
                "model": name,
                "law": sm.fit,
                "exponent": fit.slope,
                "ci_low": fit.slope_low if finite_ci else math.nan,
                "ci_high": fit.slope_high if finite_ci else math.nan,
                "points": len(pts),
                "theory_exponent_same_n": theory,
                "theory_fixed_point_exponent_same_n": theory_fp,
                "asymptotic_exponent": sm.asymptotic,
            }
        )
    return fits
