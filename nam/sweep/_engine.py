"""The sweep engine: one compiled program per (model, N); rows written incrementally; a run record.

Each measured row is one batch of trials at one load: (model, N, K, rho, seed, batch index). A trial
(see `nam/sweep/_kernels.py`) draws its own K random memories and a cue with exactly round(rho N)
flipped bits of memory 0, and records the four criteria:

1. the fraction of the memory's bits that the dynamics leave unchanged when started from the memory
   itself (binary: one flip-difference update per bit; continuous: the read-out after the dynamics);
2. whether the memory is an exact fixed point (all of 1);
3. whether the read-out after the dynamics from the cue equals the memory;
4. the final overlap with the memory;

plus the dynamics' status counts, the work done (memory-spin updates, or vector-field evaluations
times K N) and the run time. **Counts are gated on status**: a trial counts as retrieved, and enters
the overlap mean, only when its run CONVERGED; for continuous models criteria 1-2 count only when the
run from the memory converged. Every other outcome is counted in its status column and nowhere else.
A non-finite neuron reads out as 0, never +-1.

**Compilation.** A program's shapes are (model, N, capacity, trial batch): every K up to the capacity
reuses it (the binary kernel visits only ceil(K / chunk) chunks of memories, so the work is that of
K; continuous models mask the padding rows). The capacity is fixed per (model, N) from the search's
first guess, so a search compiles one program unless it runs past four times its guess. The first
guess comes from theory for a model's first N and from the previous N's measured K*, scaled by the
model's asymptotic law, for the others.

Random keys derive from (seed, model, N, K, batch index) alone, so a row is the same whatever order
rows are computed in, and a resumed sweep replays stored rows to take the same adaptive path as an
uninterrupted one. The trial batch is sharded over `jax.devices()` when its size divides evenly;
trials are independent, so the table does not depend on the number of devices.
"""

import csv
import dataclasses
import io
import json
import math
import os
import platform
import resource
import sys
import time
import zlib

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm import tqdm

from .._io import atomic_write
from ..capacity._search import find_crossing
from ..capacity._theory import fit_power_law
from ..dynamics._status import Status
from . import _kernels
from ._registry import REGISTRY
from ._spec import SweepSpec

ROW_FIELDS = ("model", "n", "k", "cap", "rho", "seed", "batch_index", "trials", "stable_bits",
              "fixed_points", "retrieved", "overlap", "converged", "sweep_limit", "cycle", "time_limit",
              "max_steps", "non_finite", "work", "seconds")
KEY_FIELDS = ("model", "n", "k", "rho", "seed", "batch_index")
_INT_FIELDS = {"n", "k", "cap", "seed", "batch_index", "trials", "fixed_points", "retrieved", "converged",
               "sweep_limit", "cycle", "time_limit", "max_steps", "non_finite", "work"}
STATUS_COLUMNS = {"converged": Status.CONVERGED, "sweep_limit": Status.SWEEP_LIMIT, "cycle": Status.CYCLE,
                  "time_limit": Status.TIME_LIMIT, "max_steps": Status.MAX_STEPS, "non_finite": Status.NON_FINITE}
MAX_SWEEPS = 100
STAGES = (1, 4)  # continuous batches shrink to a quarter of their samples when no more are active
TRACES: dict = {}  # program key -> number of traces, for the no-recompile test
_COMPILED: dict = {}  # program key -> compiled executable
STATS = {"programs": 0, "compile_seconds": 0.0, "run_seconds": 0.0}  # of this process


class SpecMismatch(ValueError):
    """The output folder holds a sweep with a different specification."""


class SweepInterrupted(RuntimeError):
    """Raised by `run_sweep(..., max_new_rows=...)` (tests simulate a kill with it)."""


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


# -------------------------------------------------------------------------------------------- programs


def _binary_program(name: str, words: int, cap: int, batch: int):
    """B trials of a binary model at any N <= 32 `words` and any K <= `cap` (both traced)."""
    sm = REGISTRY[name]
    kind = "exp" if sm.degree is None else "poly"
    chunk = chunk_for(cap)
    opts = dict(kind=kind, degree=sm.degree or 0, beta=sm.beta, chunk=chunk)

    def run(bits, flips, n, k):
        TRACES[(name, words, cap, batch)] = TRACES.get((name, words, cap, batch), 0) + 1
        target = _kernels.memory_zero(bits, n)
        cue = jnp.where(flips, -target, target)
        sigma, sweeps, status = _kernels.run_async(bits, cue, n, k, max_sweeps=MAX_SWEEPS, **opts)
        keep = _kernels.stable_bits(bits, target, n, k, **opts)  # True at the padding spins
        nf = n.astype(jnp.float32)
        stable = (jnp.sum(keep, axis=1).astype(jnp.float32) - (keep.shape[1] - nf)) / nf
        exact = jnp.all(sigma == target, axis=1)
        overlap = jnp.sum(sigma * target, axis=1).astype(jnp.float32) / nf
        work = (sweeps + 1) * n  # memory-spin updates / K: sweeps and the stability sweep, N spins each
        return stable, jnp.all(keep, axis=1), exact, overlap, status, jnp.full_like(status, Status.CONVERGED), work

    return run


def _continuous_program(name: str, n: int, cap: int, batch: int):
    """B trials of a continuous model at N neurons and any K <= `cap` (traced; padding rows masked)."""
    sm = REGISTRY[name]

    def run(bits, flips, n_arr, k):
        del n_arr  # static here
        TRACES[(name, n, cap, batch)] = TRACES.get((name, n, cap, batch), 0) + 1
        spins = jnp.arange(n)
        xi = (bits[spins >> 5] >> (spins & 31).astype(jnp.uint32)[:, None, None]) & jnp.uint32(1)  # (N, B, cap)
        xi = jnp.transpose(xi, (1, 2, 0)).astype(jnp.float32) * 2.0 - 1.0  # (B, cap, N)
        mask = jnp.arange(cap) < k
        target = xi[:, 0, :]
        cue = jnp.where(flips[:, :n], -target, target)
        models = jax.vmap(lambda p: sm.build(p, mask))(xi)
        starts = jnp.stack([cue, target], axis=1)  # (B, 2, N): the cue, and the memory itself
        y0 = jax.vmap(lambda m, s: jax.vmap(m.init_state)(s))(models, starts)
        flat = lambda tree: jax.tree.map(lambda a: a.reshape((2 * batch,) + a.shape[2:]), tree)  # noqa: E731
        pair = lambda tree: jax.tree.map(lambda a: a.reshape((batch, 2) + a.shape[1:]), tree)  # noqa: E731

        def vector_field(y):
            return flat(jax.vmap(lambda m, s: jax.vmap(m.vector_field)(s))(models, pair(y)))

        def sub_vector_field(idx):
            sub_models = jax.tree.map(lambda a: a[idx // 2], models)  # gathered once per stage
            return lambda y: jax.vmap(lambda m, s: m.vector_field(s))(sub_models, y)

        taus = jax.tree.map(lambda t: jnp.asarray(t)[0], models.time_constants())  # shared by the batch
        y, steps, status = _kernels.integrate_steady(vector_field, sub_vector_field, taus, flat(y0), dt=sm.dt,
                                                 max_steps=sm.max_steps, stages=STAGES, method=sm.method)
        act = jax.vmap(lambda m, s: jax.vmap(m.neuron_activation)(s))(models, pair(y))  # (B, 2, N)
        read = _kernels.sign_readout(act.reshape(2 * batch, n)).reshape(batch, 2, n)  # 0: dead or non-finite
        status = status.reshape(batch, 2)
        t = target.astype(jnp.int32)
        still = read[:, 1] == t
        exact = jnp.all(read[:, 0] == t, axis=1)
        overlap = jnp.sum(read[:, 0] * t, axis=1).astype(jnp.float32) / n
        work = jnp.sum(steps.reshape(batch, 2) + 1, axis=1) * n  # vector-field evaluations x N (x K below)
        return (jnp.mean(still.astype(jnp.float32), axis=1), jnp.all(still, axis=1), exact, overlap, status[:, 0],
                status[:, 1], work)

    return run


def _get_program(key: tuple, args):
    if key not in _COMPILED:  # compile ahead of time, so `seconds` is run time only
        name = key[0]
        build = _continuous_program if REGISTRY[name].continuous else _binary_program
        t0 = time.perf_counter()
        _COMPILED[key] = jax.jit(build(*key)).lower(*args).compile()
        STATS["compile_seconds"] += time.perf_counter() - t0
        STATS["programs"] += 1
    return _COMPILED[key]


# ------------------------------------------------------------------------------------------------ rows


def _row_entropy(spec: SweepSpec, name: str, n: int, k: int, batch_index: int) -> tuple:
    return (spec.seed, zlib.crc32(name.encode()), n, k, batch_index)


def _shard(*arrays, axes):
    devices = jax.devices()
    batch = arrays[0].shape[axes[0]]
    if len(devices) > 1 and batch % len(devices) == 0:
        mesh = Mesh(np.array(devices), ("trials",))
        out = []
        for a, ax in zip(arrays, axes):
            spec = [None] * a.ndim
            spec[ax] = "trials"
            out.append(jax.device_put(a, NamedSharding(mesh, PartitionSpec(*spec))))
        return out
    return [jnp.asarray(a) for a in arrays]


def measure_row(spec: SweepSpec, name: str, n: int, k: int, batch_index: int, cap: int | None = None,
                words: int | None = None) -> dict:
    """Run one batch of trials at load K and return its row (status-gated counts, means, status counts,
    work, seconds). `cap`: the program's memory capacity (>= K; default the one for a search from K);
    `words`: 32-bit words per memory of the binary program (>= ceil(N / 32); default that)."""
    sm = REGISTRY[name]
    cap = capacity_for(name, k) if cap is None else cap
    if k > cap:
        raise ValueError(f"load K = {k} exceeds the program capacity {cap}")
    words = words_for(n) if (words is None or sm.continuous) else words
    if sm.kind == "binary" and sm.degree is not None and not _kernels.int32_safe(sm.degree, n, k):
        raise ValueError(f"{name} at N = {n}, K = {k} is beyond the exact int32 range of the binary kernel")
    bits, flips = _kernels.draw_trials(_row_entropy(spec, name, n, k, batch_index), spec.batch, n, k, cap, words,
                                       spec.rho)
    bits, flips = _shard(bits, flips, axes=(1, 0))
    args = (bits, flips, jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    key = (name, n, cap, spec.batch) if sm.continuous else (name, words, cap, spec.batch)
    program = _get_program(key, args)
    t0 = time.perf_counter()
    stable, fixed, exact, overlap, status, status_mem, work = jax.device_get(program(*args))
    seconds = time.perf_counter() - t0
    STATS["run_seconds"] += seconds
    ok = status == Status.CONVERGED
    ok_mem = status_mem == Status.CONVERGED
    row = {
        "model": name, "n": n, "k": k, "cap": cap, "rho": spec.rho, "seed": spec.seed,
        "batch_index": batch_index, "trials": spec.batch,
        "stable_bits": float(np.mean(stable[ok_mem])) if ok_mem.any() else math.nan,
        "fixed_points": int(np.sum(fixed & ok_mem)), "retrieved": int(np.sum(exact & ok)),
        "overlap": float(np.mean(overlap[ok])) if ok.any() else math.nan,
    }
    row.update({col: int(np.sum(status == code)) for col, code in STATUS_COLUMNS.items()})
    row["work"] = int(np.sum(work.astype(np.int64))) * k
    row["seconds"] = round(seconds, 4)
    return row


def _csv(rows, fields=ROW_FIELDS) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_rows(path: str) -> list[dict]:
    """The rows of a results table, with numbers parsed. A malformed table (a truncated line, a missing
    or non-numeric field, a header from another version) raises ValueError naming the file and line."""
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or tuple(reader.fieldnames) != ROW_FIELDS:
            raise ValueError(f"{path}: line 1: expected the header {','.join(ROW_FIELDS)}, got "
                             f"{','.join(reader.fieldnames or [])!r}")
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise ValueError(f"{path}: line {line}: expected {len(ROW_FIELDS)} fields (a truncated or corrupt row)")
            try:
                parsed = {key: (int(v) if key in _INT_FIELDS else v if key == "model" else float(v))
                          for key, v in row.items()}
            except ValueError as e:
                raise ValueError(f"{path}: line {line}: {e}") from None
            if parsed["model"] not in REGISTRY:
                raise ValueError(f"{path}: line {line}: unknown model {parsed['model']!r}")
            rows.append(parsed)
    return rows


@dataclasses.dataclass
class SweepResult:
    """`rows`: every measured batch; `summary`: K* per (model, N); `fits`: the law per model;
    `record`: the run record (versions, devices, wall/compile/run seconds, programs, peak memory)."""

    rows: list
    summary: list
    fits: list
    out_dir: str | None
    record: dict = dataclasses.field(default_factory=dict)


def _open_output(spec: SweepSpec, out_dir: str | None, write: bool = True) -> list[dict]:
    if out_dir is None:
        return []
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"output folder {out_dir} is a file")
    os.makedirs(out_dir, exist_ok=True)
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(f"output folder {out_dir} is not writable")
    spec_path = os.path.join(out_dir, "spec.json")
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            try:
                stored = SweepSpec.from_json(f.read())
            except (ValueError, TypeError) as e:
                raise SpecMismatch(f"{spec_path} is not a readable sweep specification ({e})") from None
        if stored != spec:
            diff = spec.differences(stored)
            raise SpecMismatch(f"{out_dir} holds a sweep with a different specification ({spec_path}): "
                               f"{diff}; use another output folder or delete it to start over")
    elif write:
        atomic_write(spec_path, spec.to_json())
    rows_path = os.path.join(out_dir, "rows.csv")
    return read_rows(rows_path) if os.path.exists(rows_path) else []


def _next_guess(name: str, n: int, rho: float, previous: list[tuple[int, float]]) -> float:
    """The search's first load at N: theory for a model's first N; else the last measured K* scaled by
    the model's law (N^a power, or exp(a N) for the exponential DAM with a from the last two points)."""
    sm = REGISTRY[name]
    done = [(m, k) for m, k in previous if math.isfinite(k) and k > 0]
    if not done:
        return sm.theory_k(n, rho)
    m0, k0 = done[-1]
    if sm.fit == "exponential":
        rate = math.log(done[-1][1] / done[-2][1]) / (done[-1][0] - done[-2][0]) if len(done) >= 2 else 0.35
        return k0 * math.exp(max(rate, 0.05) * (n - m0))
    theory_ratio = sm.theory_k(n, rho) / sm.theory_k(m0, rho)
    return k0 * theory_ratio


def _model_guess(spec: SweepSpec, name: str) -> float:
    """The theory load at the model's largest N: sizes the binary model's one program."""
    return REGISTRY[name].theory_k(max(spec.n_grid[name]), spec.rho)


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
        "nam_version": __version__, "jax_version": jax.__version__, "python": platform.python_version(),
        "backend": jax.default_backend(), "device_kind": devices[0].device_kind, "device_count": len(devices),
        "wall_seconds": round(wall, 2), "compile_seconds": round(stats["compile_seconds"], 2),
        "run_seconds": round(stats["run_seconds"], 2), "programs": stats["programs"],
        "peak_rss_bytes": rss, "peak_device_bytes": peak,
    }


def run_sweep(spec: SweepSpec, out_dir: str | None = None, *, progress: bool = True,
              max_new_rows: int | None = None) -> SweepResult:
    """Measure K*(N) for every model and N of `spec`, writing rows to `out_dir/rows.csv` as they come.

    Re-running with the same spec and folder resumes: stored rows are reused, not recomputed, and the
    result equals an uninterrupted run. A different spec in the same folder raises `SpecMismatch`
    naming the fields that differ. Writes `summary.csv`, `fits.csv` and `run.json` (the run record)
    at the end.

    **Raises:** `TypeError` for a `spec` that is not a `nam.SweepSpec`; `MemoryError` (before anything
    is allocated) when the largest program would not fit in the device's memory; `SpecMismatch`;
    `ValueError` for a corrupt `rows.csv`, naming the file and line.
    """
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"`spec` must be a nam.SweepSpec, got {type(spec).__name__}")
    if out_dir is not None and not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"`out_dir` must be a folder path or None, got {type(out_dir).__name__}")
    from ._plan import check_fits

    check_fits(spec)
    return _run(spec, None if out_dir is None else os.fspath(out_dir), progress=progress,
                max_new_rows=max_new_rows, write=True)


def load_sweep(out_dir) -> SweepResult:
    """The result of the finished sweep stored in `out_dir` (its spec.json and rows.csv), recomputed from
    the stored rows without measuring anything: the same summary and fits as the run that wrote them,
    and its run record (run.json). Raises FileNotFoundError when the folder holds no sweep, ValueError
    when its rows are incomplete (resume it with `nam sweep --out FOLDER` and the same options)."""
    out_dir = os.fspath(out_dir)
    spec_path = os.path.join(out_dir, "spec.json")
    if not os.path.exists(spec_path):
        raise FileNotFoundError(f"{out_dir} holds no sweep (no spec.json)")
    with open(spec_path) as f:
        try:
            spec = SweepSpec.from_json(f.read())
        except (ValueError, TypeError) as e:
            raise ValueError(f"{spec_path} is not a readable sweep specification ({e})") from None
    try:
        result = _run(spec, out_dir, progress=False, max_new_rows=0, write=False)
    except SweepInterrupted:
        raise ValueError(f"the sweep in {out_dir} is incomplete; resume it with `nam sweep --out {out_dir}` and the "
                         "options that started it") from None
    run_path = os.path.join(out_dir, "run.json")
    if os.path.exists(run_path):
        with open(run_path) as f:
            result.record = json.load(f)
    return result


def _run(spec: SweepSpec, out_dir: str | None, *, progress: bool, max_new_rows: int | None,
         write: bool) -> SweepResult:
    t_start = time.perf_counter()
    stats0 = dict(STATS)
    rows = _open_output(spec, out_dir, write)
    cache = {tuple(r[f] for f in KEY_FIELDS): r for r in rows}
    new_rows = 0
    n_batches = spec.trials // spec.batch
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[spec.criterion]

    def get_row(name, n, k, b, cap, words):
        nonlocal new_rows
        key = (name, n, k, spec.rho, spec.seed, b)
        if key not in cache:
            if max_new_rows is not None and new_rows >= max_new_rows:
                raise SweepInterrupted(f"stopped after {new_rows} new rows")
            row = measure_row(spec, name, n, k, b, cap=cap, words=words)
            cache[key] = row
            rows.append(row)
            new_rows += 1
            if out_dir is not None and write:
                atomic_write(os.path.join(out_dir, "rows.csv"), _csv(rows))
        return cache[key]

    summary = []
    pairs = [(name, n) for name, ns in spec.n_grid.items() for n in ns]
    bar = tqdm(pairs, desc="sweep", disable=not progress, unit="N")
    measured: dict[str, list[tuple[int, float]]] = {}
    caps_of: dict = {}  # binary: one capacity list per model (N is traced); continuous: per (model, N)
    for name, n in bar:
        bar.set_description(f"sweep {name} N={n}")
        sweep_model = REGISTRY[name]
        guess = _next_guess(name, n, spec.rho, measured.get(name, []))
        k0 = max(1, int(round(guess)))
        caps = caps_of.setdefault((name, None if sweep_model.kind == "binary" else n),
                                  [capacity_for(name, _model_guess(spec, name))
                                   if sweep_model.kind == "binary" else capacity_for(name, k0)])
        words = words_for(max(spec.n_grid[name]))

        def evaluate(k, name=name, n=n, caps=caps, words=words):
            if k > caps[-1]:
                caps.append(max(capacity_for(name, k), caps[-1] * (1 if sweep_model.continuous else 4)))
            cap = next(c for c in caps if c >= k)
            batch_rows = [get_row(name, n, k, b, cap, words) for b in range(n_batches)]
            return sum(r[column] for r in batch_rows), sum(r["trials"] for r in batch_rows)

        res = find_crossing(evaluate, k0, level=spec.level, rel_tol=spec.rel_tol, max_evals=spec.max_evals,
                            k_max=spec.k_max, seed=spec.seed)
        measured.setdefault(name, []).append((n, res.k_star))
        units = sweep_model.units(n, res.k_star)
        summary.append({
            "model": name, "n": n, "k_star": res.k_star, "ci_low": res.ci[0], "ci_high": res.ci[1],
            "status": res.status, "loads_measured": len(res.points), "criterion": spec.criterion,
            "theory": sweep_model.theory_k(n, spec.rho),
            "theory_fixed_point": sweep_model.fixed_point_k(n),
            "units": units, "k_star_per_unit": res.k_star / units,
        })
    fits = fit_laws(summary, spec.rho)
    wall = time.perf_counter() - t_start
    record = _record(wall, {key: STATS[key] - stats0[key] for key in STATS})
    record["rows_measured"] = new_rows
    record["rows_reused"] = len(rows) - new_rows
    if out_dir is not None and write:
        for fname, table in (("summary.csv", summary), ("fits.csv", fits)):
            if table:
                atomic_write(os.path.join(out_dir, fname), _csv(table, list(table[0])))
        atomic_write(os.path.join(out_dir, "run.json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
    return SweepResult(rows=rows, summary=summary, fits=fits, out_dir=out_dir, record=record)


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
        theory_fp = fit_power_law(ns, [sm.fixed_point_k(m) for m in ns]).slope if sm.degree else math.nan
        if sm.fit == "exponential":
            fit = fit_power_law(np.exp(np.asarray(ns, float)), ks)  # log K* against N
            theory = math.nan
        else:
            fit = fit_power_law(ns, ks)
            theory = fit_power_law(ns, [sm.theory_k(m, rho) for m in ns]).slope
        finite_ci = math.isfinite(fit.slope_low) and math.isfinite(fit.slope_high)
        fits.append({"model": name, "law": sm.fit, "exponent": fit.slope,
                     "ci_low": fit.slope_low if finite_ci else math.nan,
                     "ci_high": fit.slope_high if finite_ci else math.nan,
                     "points": len(pts), "theory_exponent_same_n": theory,
                     "theory_fixed_point_exponent_same_n": theory_fp, "asymptotic_exponent": sm.asymptotic})
    return fits
