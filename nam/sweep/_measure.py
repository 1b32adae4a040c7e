"""One measured row: a batch of trials at one load, drawn, placed on the devices, run and counted.

A row is (model, N, K, rho, seed, batch index). Its random inputs derive from those alone
(`row_entropy`), so a row is the same whatever order rows are computed in. The trial batch is sharded
over `jax.devices()` when its memory sets divide evenly; with several processes each places its own
slice and the results are gathered on every process. **Counts are gated on status**: a trial counts as
retrieved, and enters the overlap mean, only when its run CONVERGED; for continuous models criteria 1-2
count only when the run from the memory converged. Every other outcome is counted in its status column.
"""

import math
import time
import zlib

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..dynamics._status import Status
from . import _kernels
from ._plan import capacity_for, cues_for, words_for
from ._programs import _LOCK, STATS, get_program, program_key
from ._registry import REGISTRY
from ._spec import SweepSpec
from ._store import STATUS_COLUMNS


def row_entropy(spec: SweepSpec, name: str, n: int, k: int, batch_index: int) -> tuple:
    return (spec.seed, zlib.crc32(name.encode()), n, k, batch_index)


def _place(*arrays, axes):
    """Put the row's host arrays on the devices, the trial axis (`axes`) split over every device of every
    process when the batch divides evenly (else on the default device, one process only). With several
    processes each one passes only its own slice (`jax.make_array_from_process_local_data`)."""
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    batch = arrays[0].shape[axes[0]]
    if len(devices) == 1 or batch % len(devices):
        if jax.process_count() > 1:
            raise ValueError(
                f"`batch` ({batch}) must be a multiple of the {len(devices)} devices of the "
                f"{jax.process_count()} processes"
            )
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


def measure_row(
    spec: SweepSpec, name: str, n: int, k: int, batch_index: int, cap: int | None = None, words: int | None = None
) -> dict:
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
    cues = cues_for(spec, name)
    bits, flips = _kernels.draw_trials(
        row_entropy(spec, name, n, k, batch_index), spec.batch, n, k, cap, words, spec.rho, cues
    )
    if sm.continuous:
        targets = _kernels.trial_targets(spec.batch, cues, k)
        bits, flips, targets = _place(bits, flips, targets, axes=(1, 0, 0))
        args: tuple = (bits, flips, targets, jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    else:
        bits, flips = _place(bits, flips, axes=(1, 0))
        args = (bits, flips, jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    program = get_program(program_key(spec, name, n, words, cap), args)
    t0 = time.perf_counter()
    stable, fixed, exact, overlap, status, status_mem, work = _gather(program(*args))
    seconds = time.perf_counter() - t0
    with _LOCK:
        STATS["run_seconds"] += seconds
    ok = status == Status.CONVERGED
    ok_mem = status_mem == Status.CONVERGED
    row = {
        "model": name,
        "n": n,
        "k": k,
        "cap": cap,
        "rho": spec.rho,
        "seed": spec.seed,
        "batch_index": batch_index,
        "trials": spec.batch,
        "stable_bits": float(np.mean(stable[ok_mem])) if ok_mem.any() else math.nan,
        "fixed_points": int(np.sum(fixed & ok_mem)),
        "retrieved": int(np.sum(exact & ok)),
        "overlap": float(np.mean(overlap[ok])) if ok.any() else math.nan,
    }
    row.update({col: int(np.sum(status == code)) for col, code in STATUS_COLUMNS.items()})
    row["work"] = int(np.sum(work.astype(np.int64))) * k
    sets = spec.batch // cues
    by_set = lambda hit: " ".join(str(int(c)) for c in hit.reshape(sets, cues).sum(axis=1)) if cues > 1 else ""  # noqa: E731
    row["retrieved_by_set"] = by_set(exact & ok)
    row["fixed_points_by_set"] = by_set(fixed & ok_mem)
    row["seconds"] = round(seconds, 4)
    return row
