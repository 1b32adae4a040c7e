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

Random inputs derive from (seed, model, N, K, batch index) alone, so a row is the same whatever order
rows are computed in, and a resumed sweep replays stored rows to take the same adaptive path as an
uninterrupted one. Every (model, N) search is independent of the others: its first load comes from
the model's start estimate (`SweepModel.start_k`) and its programs' capacities from the spec alone.

**Beyond one device.** The trial batch is sharded over `jax.devices()` when its size divides evenly;
trials are independent, so the table does not depend on the number of devices. With several
processes (`jax.distributed`, see `initialize_distributed`), every process draws the row's inputs,
places its own slice with `jax.make_array_from_process_local_data`, computes its share of the batch,
and gathers the results, so all processes take the same adaptive path; process 0 alone writes. A
job array splits the (model, N) searches instead (`shard=(I, M)`, `shard_pairs`), each shard into its
own folder, and `merge_sweeps` combines them into the table one run would have written.
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
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm import tqdm

from .._checks import ArgumentTypeError, check_int, is_integer
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
COMPILE_SPANS: list = []  # (start, end) perf_counter times of every compilation of this process


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
        with _LOCK:
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
        with _LOCK:
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

        first = jax.tree.map(lambda a: a[0], models)  # tau is shared by the batch (the same build for every trial)
        taus = first.time_constants()
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


_LOCK = threading.Lock()  # guards _COMPILED's keys, STATS and TRACES across worker threads
_KEY_LOCKS: dict = {}  # program key -> lock: one thread compiles a program, the others wait for it


def _get_program(key: tuple, args):
    with _LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        if key not in _COMPILED:  # compile ahead of time, so `seconds` is run time only
            name = key[0]
            build = _continuous_program if REGISTRY[name].continuous else _binary_program
            t0 = time.perf_counter()
            compiled = jax.jit(build(*key)).lower(*args).compile()
            with _LOCK:
                _COMPILED[key] = compiled
                t1 = time.perf_counter()
                STATS["compile_seconds"] += t1 - t0
                STATS["programs"] += 1
                COMPILE_SPANS.append((t0, t1))
    return _COMPILED[key]


# ------------------------------------------------------------------------------------------------ rows


def _row_entropy(spec: SweepSpec, name: str, n: int, k: int, batch_index: int) -> tuple:
    return (spec.seed, zlib.crc32(name.encode()), n, k, batch_index)


def _place(*arrays, axes):
    """Put the row's host arrays on the devices, the trial axis (`axes`) split over every device of every
    process when the batch divides evenly (else on the default device, one process only). With several
    processes each one passes only its own slice (`jax.make_array_from_process_local_data`)."""
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    batch = arrays[0].shape[axes[0]]
    if len(devices) == 1 or batch % len(devices):
        if jax.process_count() > 1:
            raise ValueError(f"`batch` ({batch}) must be a multiple of the {len(devices)} devices of the "
                             f"{jax.process_count()} processes")
        return [jnp.asarray(a) for a in arrays]
    mesh = Mesh(np.array(devices), ("trials",))
    out = []
    for a, ax in zip(arrays, axes):
        spec = [None] * a.ndim
        spec[ax] = "trials"
        sharding = NamedSharding(mesh, PartitionSpec(*spec))
        if jax.process_count() == 1:
            out.append(jax.device_put(a, sharding))
            continue
        slices = sharding.addressable_devices_indices_map(a.shape).values()
        lo = min(s[ax].start or 0 for s in slices)
        hi = max(a.shape[ax] if s[ax].stop is None else s[ax].stop for s in slices)
        local = np.take(a, np.arange(lo, hi), axis=ax)
        out.append(jax.make_array_from_process_local_data(sharding, local, a.shape))
    return out


def _gather(outputs):
    """The program's outputs as host arrays, whole on every process."""
    if jax.process_count() == 1:
        return jax.device_get(outputs)
    return [np.asarray(x) for x in multihost_utils.process_allgather(outputs, tiled=True)]


def _program_key(name: str, n: int, words: int, cap: int, batch: int) -> tuple:
    """A compiled program's key: continuous models have one per N; binary ones one per word count (N traced)."""
    return (name, n, cap, batch) if REGISTRY[name].continuous else (name, words, cap, batch)


def _first_load(spec: SweepSpec, name: str, n: int) -> int:
    """The K* search's first load at N (`SweepModel.start_k`)."""
    return max(1, int(round(REGISTRY[name].start_k(n, spec.rho))))


def _words(spec: SweepSpec, name: str, n: int) -> int:
    """32-bit words per memory of the program: for N itself (continuous), or for the model's largest N, which
    one binary program serves at every N."""
    return words_for(n if REGISTRY[name].continuous else max(spec.n_grid[name]))


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
    bits, flips = _place(bits, flips, axes=(1, 0))
    args = (bits, flips, jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    program = _get_program(_program_key(name, n, words, cap, spec.batch), args)
    t0 = time.perf_counter()
    stable, fixed, exact, overlap, status, status_mem, work = _gather(program(*args))
    seconds = time.perf_counter() - t0
    with _LOCK:
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
    with open(path, newline="") as f:
        return parse_rows(f.read(), path)


def parse_rows(text: str, where: str) -> list[dict]:
    """The rows of CSV text in the layout of rows.csv, numbers parsed; ValueError naming `where` and the
    line for a malformed table."""
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or tuple(reader.fieldnames) != ROW_FIELDS:
        raise ValueError(f"{where}: line 1: expected the header {','.join(ROW_FIELDS)}, got "
                         f"{','.join(reader.fieldnames or [])!r}")
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise ValueError(f"{where}: line {line}: expected {len(ROW_FIELDS)} fields (a truncated or corrupt row)")
        try:
            parsed = {key: (int(v) if key in _INT_FIELDS else v if key == "model" else float(v))
                      for key, v in row.items()}
        except ValueError as e:
            raise ValueError(f"{where}: line {line}: {e}") from None
        if parsed["model"] not in REGISTRY:
            raise ValueError(f"{where}: line {line}: unknown model {parsed['model']!r}")
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


def _read_spec(out_dir: str, error=ValueError) -> SweepSpec:
    spec_path = os.path.join(out_dir, "spec.json")
    with open(spec_path) as f:
        try:
            return SweepSpec.from_json(f.read())
        except (ValueError, TypeError) as e:
            raise error(f"{spec_path} is not a readable sweep specification ({e})") from None


def _read_shard(out_dir: str) -> tuple[int, int] | None:
    path = os.path.join(out_dir, "shard.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        try:
            d = json.load(f)
            shard = (int(d["index"]), int(d["count"]))
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"{path} is not a readable shard record ({e})") from None
    check_shard(shard)
    return shard


def _open_output(spec: SweepSpec, out_dir: str | None, write: bool = True,
                 shard: tuple[int, int] | None = None) -> list[dict]:
    if out_dir is None:
        return []
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"output folder {out_dir} is a file")
    if write:
        os.makedirs(out_dir, exist_ok=True)
        if not os.access(out_dir, os.W_OK):
            raise PermissionError(f"output folder {out_dir} is not writable")
    spec_path = os.path.join(out_dir, "spec.json")
    if os.path.exists(spec_path):
        stored = _read_spec(out_dir, SpecMismatch)
        if stored != spec:
            diff = spec.differences(stored)
            raise SpecMismatch(f"{out_dir} holds a sweep with a different specification ({spec_path}): "
                               f"{diff}; use another output folder or delete it to start over")
        stored_shard = _read_shard(out_dir)
        if stored_shard != shard and (write or shard is not None):
            def name(sh):
                return "the whole sweep" if sh is None else f"shard {sh[0]}/{sh[1]}"
            raise SpecMismatch(f"{out_dir} holds {name(stored_shard)}, not {name(shard)}; use another output folder")
    elif write:
        atomic_write(spec_path, spec.to_json())
        if shard is not None:
            atomic_write(os.path.join(out_dir, "shard.json"),
                         json.dumps({"index": shard[0], "count": shard[1]}, indent=2) + "\n")
    rows_path = os.path.join(out_dir, "rows.csv")
    return read_rows(rows_path) if os.path.exists(rows_path) else []


def _broadcast_rows(load):
    """`load()` on process 0 (the stored rows, or the error it raised), the same rows on every process."""
    if jax.process_count() == 1:
        return load()
    payload = b""
    if jax.process_index() == 0:
        try:
            payload = b"R" + _csv(load()).encode()
        except Exception as e:  # noqa: BLE001 - re-raised on every process below
            payload = b"E" + f"{type(e).__name__}\x00{e}".encode()
    size = int(multihost_utils.broadcast_one_to_all(np.int64(len(payload))))
    buf = np.zeros(size, np.uint8)
    if jax.process_index() == 0:
        buf[:] = np.frombuffer(payload, np.uint8)
    data = bytes(np.asarray(multihost_utils.broadcast_one_to_all(buf)))
    if data[:1] == b"E":
        kind, _, message = data[1:].decode().partition("\x00")
        errors = {"SpecMismatch": SpecMismatch, "NotADirectoryError": NotADirectoryError,
                  "PermissionError": PermissionError, "ValueError": ValueError}
        raise errors.get(kind, RuntimeError)(message)
    return parse_rows(data[1:].decode(), "rows broadcast from process 0")


def check_shard(shard) -> tuple[int, int]:
    """A shard (I, M) with 1 <= I <= M; TypeError for non-integers, ValueError otherwise."""
    try:
        index, count = shard
    except (TypeError, ValueError):
        raise ValueError(f"`shard` must be a pair (I, M) with 1 <= I <= M, got {shard!r}") from None
    for name, v in (("I", index), ("M", count)):
        if not is_integer(v):
            raise ArgumentTypeError(f"`shard` {name} must be an integer, got {v!r}")
    if not 1 <= index <= count:
        raise ValueError(f"`shard` must satisfy 1 <= I <= M, got I = {index}, M = {count}")
    return int(index), int(count)


def shard_pairs(spec: SweepSpec, index: int, count: int) -> list[tuple[str, int]]:
    """The (model, N) searches of shard `index` of `count` (1-based): the searches, largest estimated
    cost first, each given to the shard with the least estimated cost so far (ties: the lower index),
    then listed in the spec's order. Costs are `nam.plan_sweep`'s estimated seconds; every shard
    computes the same split from the spec alone."""
    from ._plan import plan_sweep

    index, count = check_shard((index, count))
    plan = plan_sweep(spec)
    order = sorted(range(len(plan)), key=lambda i: (-plan[i]["seconds"], i))
    load = [0.0] * count
    owner = {}
    for i in order:
        j = min(range(count), key=lambda j: (load[j], j))
        owner[i] = j
        load[j] += plan[i]["seconds"]
    return [(plan[i]["model"], plan[i]["n"]) for i in range(len(plan)) if owner[i] == index - 1]


def _compile_wall(since: float) -> float:
    """Wall seconds since `since` during which at least one program was compiling (the union of the
    compile spans): with several worker threads, compile seconds summed over threads overcount it."""
    spans = sorted((max(a, since), b) for a, b in COMPILE_SPANS if b > since)
    total, end = 0.0, since
    for a, b in spans:
        if b > end:
            total += b - max(a, end)
            end = b
    return total


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


ONE_PROGRAM_BYTES = 2**30  # a binary model gets one program for all its N while its memories fit in this


def _ladder(spec: SweepSpec, name: str, n: int, k0: int) -> int:
    """The base of the capacity ladder of a search. Binary models (N traced): one program for every N,
    sized from the start load at the model's largest N, while its packed memories take at most
    `ONE_PROGRAM_BYTES`; beyond that (large N, the accelerator preset) rungs 4x apart from the start
    load at its smallest N, so every load gets a program at most 4x its size and a row fits in a few GB.
    Continuous models: one ladder per (model, N) from k0."""
    sm = REGISTRY[name]
    if sm.kind == "binary":
        top = capacity_for(name, sm.start_k(max(spec.n_grid[name]), spec.rho))
        if 4 * _words(spec, name, n) * spec.batch * top <= ONE_PROGRAM_BYTES:
            return top
        return max(16, 1 << (_first_load(spec, name, min(spec.n_grid[name])) - 1).bit_length())
    return capacity_for(name, k0)


def _cap(name: str, base: int, k: int) -> int:
    """The program capacity for load K: the smallest rung base * step^j >= K (binary: step 4, one rung
    per factor 4 of load; continuous: step 2, which a doubling search from k0 climbs one rung per
    doubling). A function of (spec, model, N, K) alone, so shards compile and pad like one run."""
    step = 2 if REGISTRY[name].continuous else 4
    cap = base
    while cap < k:
        cap *= step
    return cap


def run_sweep(spec: SweepSpec, out_dir: str | None = None, *, progress: bool = True,
              max_new_rows: int | None = None, shard: tuple | None = None,
              workers: int | None = None) -> SweepResult:
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

    `workers`: threads running the independent (model, N) searches at once (default
    `default_workers()`: the CPU count on a CPU backend, else 1); the tables do not depend on it.

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
    if workers is None:
        workers = default_workers()
    workers = check_int("workers", workers)
    if jax.process_count() > 1 and spec.batch % jax.device_count():
        raise ValueError(f"`batch` ({spec.batch}) must be a multiple of the {jax.device_count()} devices of the "
                         f"{jax.process_count()} processes (each process computes an equal share of every batch)")
    from ._plan import check_fits

    check_fits(spec)
    return _run(spec, None if out_dir is None else os.fspath(out_dir), progress=progress,
                max_new_rows=max_new_rows, write=True, shard=shard, workers=workers)


def load_sweep(out_dir) -> SweepResult:
    """The result of the finished sweep stored in `out_dir` (its spec.json and rows.csv), recomputed from
    the stored rows without measuring anything: the same summary and fits as the run that wrote them,
    and its run record (run.json). Raises FileNotFoundError when the folder holds no sweep, ValueError
    when its rows are incomplete (resume it with `nam sweep --out FOLDER` and the same options)."""
    out_dir = os.fspath(out_dir)
    if not os.path.exists(os.path.join(out_dir, "spec.json")):
        raise FileNotFoundError(f"{out_dir} holds no sweep (no spec.json)")
    spec = _read_spec(out_dir)
    shard = _read_shard(out_dir)
    try:
        result = _run(spec, out_dir, progress=False, max_new_rows=0, write=False, shard=shard)
    except SweepInterrupted:
        raise ValueError(f"the sweep in {out_dir} is incomplete; resume it with `nam sweep --out {out_dir}` and the "
                         "options that started it") from None
    run_path = os.path.join(out_dir, "run.json")
    if os.path.exists(run_path):
        with open(run_path) as f:
            result.record = json.load(f)
    return result


def merge_sweeps(out_dir, shard_dirs) -> SweepResult:
    """Combine the folders of the M shards of one sweep (`run_sweep(..., shard=(I, M))`, I = 1..M) into
    `out_dir`: the rows, summary, fits and run record one unsharded run would have written (rows in the
    order that run measures them). Computes nothing.

    **Raises:** `ValueError`, naming the folders, when a folder holds no sweep or no shard record, when
    the specifications differ (naming the fields), when two folders hold the same shard or disagree on a
    row, when shards are missing, or when a shard is incomplete; `SpecMismatch` when `out_dir` already
    holds a different sweep.
    """
    dirs = [os.fspath(d) for d in shard_dirs]
    if not dirs:
        raise ValueError("merge needs at least one shard folder")
    out_dir = os.fspath(out_dir)
    spec = count = None
    shards: dict = {}
    for d in dirs:
        if not os.path.exists(os.path.join(d, "spec.json")):
            raise ValueError(f"{d} holds no sweep (no spec.json)")
        if os.path.abspath(d) == os.path.abspath(out_dir):
            raise ValueError(f"the merged folder {out_dir} is also a shard folder; choose another")
        this, shard = _read_spec(d), _read_shard(d)
        if shard is None:
            raise ValueError(f"{d} holds a whole sweep, not a shard (no shard.json)")
        if spec is None:
            spec, count = this, shard[1]
        if this != spec:
            raise ValueError(f"{d} and {dirs[0]} hold different sweeps: {spec.differences(this)}")
        if shard[1] != count:
            raise ValueError(f"{d} is a shard of {shard[1]}, {dirs[0]} of {count}")
        if shard[0] in shards:
            raise ValueError(f"{shards[shard[0]]} and {d} both hold shard {shard[0]}/{shard[1]}")
        shards[shard[0]] = d
    missing = [i for i in range(1, count + 1) if i not in shards]
    if missing:
        raise ValueError(f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing from the folders given")
    union, source = {}, {}
    records = []
    for i in sorted(shards):
        d = shards[i]
        try:
            part = load_sweep(d)  # complete, and its rows (those its searches read) and run record
        except ValueError as e:
            raise ValueError(f"shard {i}/{count}: {e}") from None
        for row in part.rows:
            key = tuple(row[f] for f in KEY_FIELDS)
            if key in union and {k: v for k, v in union[key].items() if k != "seconds"} != \
                    {k: v for k, v in row.items() if k != "seconds"}:
                raise ValueError(f"{source[key]} and {d} disagree on the row {dict(zip(KEY_FIELDS, key))}")
            union.setdefault(key, row)
            source.setdefault(key, d)
        if part.record:
            records.append({"shard": f"{i}/{count}", "folder": d, **part.record})
    _open_output(spec, out_dir, write=True)
    result = _run(spec, out_dir, progress=False, max_new_rows=0, write=True, rows=list(union.values()))
    record = dict(result.record)
    for key in ("wall_seconds", "compile_seconds", "run_seconds", "programs"):
        record[key] = round(sum(r.get(key, 0) for r in records), 2)
    record["rows_measured"] = sum(r.get("rows_measured", 0) for r in records)
    record["rows_reused"] = sum(r.get("rows_reused", 0) for r in records)
    record["merged_from"] = records
    atomic_write(os.path.join(out_dir, "run.json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
    result.record = record
    return result


def _precompile(spec: SweepSpec, pairs: list, cache: dict, workers: int) -> None:
    """Compile the first program of every search that has rows left to measure, `workers` at a time, before
    any search runs: compilation then overlaps other compilation, not the searches (the total is the same).
    One device only (the programs are lowered from shapes, without a sharding); later capacity rungs compile
    when a search reaches them."""
    if len(jax.devices()) > 1:
        return
    todo = {}
    for name, n in pairs:
        k0 = _first_load(spec, name, n)
        if (name, n, k0, spec.rho, spec.seed, 0) in cache:
            continue
        cap, words = _cap(name, _ladder(spec, name, n, k0), k0), _words(spec, name, n)
        todo[_program_key(name, n, words, cap, spec.batch)] = (words, cap)

    def compile_one(item):
        key, (words, cap) = item
        args = (jax.ShapeDtypeStruct((words, spec.batch, cap), jnp.uint32),
                jax.ShapeDtypeStruct((spec.batch, 32 * words), jnp.bool_),
                jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jnp.int32))
        _get_program(key, args)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nam-compile") as pool:
        list(pool.map(compile_one, todo.items()))


def default_workers() -> int:
    """Worker threads for a sweep's independent (model, N) searches: the CPU count on a CPU backend
    (XLA runs each small program on the calling thread, so one search per core uses the machine), 1 on
    an accelerator or with several processes (whose collectives must run in the same order)."""
    if jax.process_count() > 1 or jax.default_backend() != "cpu":
        return 1
    return max(1, os.cpu_count() or 1)


def _run(spec: SweepSpec, out_dir: str | None, *, progress: bool, max_new_rows: int | None,
         write: bool, shard: tuple[int, int] | None = None, rows: list | None = None,
         workers: int = 1) -> SweepResult:
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
        rows = _broadcast_rows(lambda: _open_output(spec, out_dir, write, shard)) if out_dir is not None else []
    cache = {tuple(r[f] for f in KEY_FIELDS): r for r in rows}
    rows = list(rows)
    lock = threading.Lock()
    stop = threading.Event()
    counter = {"new": 0}
    n_batches = spec.trials // spec.batch
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[spec.criterion]

    def get_row(name, n, k, b, cap, words, order):
        key = (name, n, k, spec.rho, spec.seed, b)
        with lock:
            stored = cache.get(key)
            if stored is None:
                if stop.is_set():
                    raise SweepInterrupted("stopped")
                if max_new_rows is not None and counter["new"] >= max_new_rows:
                    raise SweepInterrupted(f"stopped after {counter['new']} new rows")
                counter["new"] += 1  # reserved before measuring, so the limit holds across workers
        if stored is None:
            row = measure_row(spec, name, n, k, b, cap=cap, words=words)
            with lock:
                cache[key] = stored = row
                rows.append(row)
                if out_dir is not None and write:
                    atomic_write(os.path.join(out_dir, "rows.csv"), _csv(rows))
        order.setdefault(key)
        return stored

    def search(pair):
        name, n = pair
        sweep_model = REGISTRY[name]
        k0 = _first_load(spec, name, n)
        base, words = _ladder(spec, name, n, k0), _words(spec, name, n)
        order: dict = {}  # the rows this search read, in its order

        def evaluate(k):
            cap = _cap(name, base, k)
            batch_rows = [get_row(name, n, k, b, cap, words, order) for b in range(n_batches)]
            return sum(r[column] for r in batch_rows), sum(r["trials"] for r in batch_rows)

        res = find_crossing(evaluate, k0, level=spec.level, rel_tol=spec.rel_tol, max_evals=spec.max_evals,
                            k_max=spec.k_max, seed=spec.seed)
        units = sweep_model.units(n, res.k_star)
        return {
            "model": name, "n": n, "k_star": res.k_star, "ci_low": res.ci[0], "ci_high": res.ci[1],
            "status": res.status, "loads_measured": len(res.points), "criterion": spec.criterion,
            "theory": sweep_model.theory_k(n, spec.rho),
            "theory_fixed_point": sweep_model.fixed_point_k(n),
            "units": units, "k_star_per_unit": res.k_star / units,
        }, list(order)

    pairs = ([(name, n) for name, ns in spec.n_grid.items() for n in ns] if shard is None
             else shard_pairs(spec, *shard))
    results: dict = {}
    if max_new_rows != 0 and workers > 1:
        _precompile(spec, pairs, cache, workers)
    bar = tqdm(total=len(pairs), desc="sweep", disable=not (progress and lead), unit="N")
    try:
        if workers <= 1:
            for pair in pairs:
                bar.set_description(f"sweep {pair[0]} N={pair[1]}")
                results[pair] = search(pair)
                bar.update()
        else:
            from ._plan import plan_sweep

            cost = {(r["model"], r["n"]): r["seconds"] for r in plan_sweep(spec)}
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nam-sweep") as pool:
                futures = {pool.submit(search, p): p for p in sorted(pairs, key=lambda p: -cost[p])}
                try:
                    for future in as_completed(futures):
                        pair = futures[future]
                        results[pair] = future.result()
                        bar.set_description(f"sweep {pair[0]} N={pair[1]} done")
                        bar.update()
                except BaseException:
                    stop.set()  # the other searches stop at their next new row
                    for f in futures:
                        f.cancel()
                    raise
    finally:
        bar.close()
    summary = [results[p][0] for p in pairs]
    order = {key: None for p in pairs for key in results[p][1]}
    new_rows = counter["new"]
    fits = fit_laws(summary, spec.rho) if shard is None else []
    wall = time.perf_counter() - t_start
    record = _record(wall, {key: STATS[key] - stats0[key] for key in STATS})
    record["compile_wall_seconds"] = round(_compile_wall(t_start), 2)
    record["rows_measured"] = new_rows
    record["rows_reused"] = len(order) - new_rows
    record["processes"] = jax.process_count()
    record["workers"] = workers
    if shard is not None:
        record["shard"] = f"{shard[0]}/{shard[1]}"
    if out_dir is not None and write:
        # the rows the searches read, in the order one uninterrupted one-worker run measures them, then any
        # others the folder held
        ordered = [cache[key] for key in order] + [r for key, r in cache.items() if key not in order]
        atomic_write(os.path.join(out_dir, "rows.csv"), _csv(ordered))
        for fname, table in (("summary.csv", summary), ("fits.csv", fits)):
            path = os.path.join(out_dir, fname)
            if table:
                atomic_write(path, _csv(table, list(table[0])))
            elif os.path.exists(path):
                os.remove(path)  # an earlier run's table would no longer describe this folder
        atomic_write(os.path.join(out_dir, "run.json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
    return SweepResult(rows=[cache[key] for key in order], summary=summary, fits=fits, out_dir=out_dir,
                       record=record)


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
