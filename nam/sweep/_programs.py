"""The sweep's compiled programs: one batch of capacity trials of one model as one XLA program, and the
process-wide cache that compiles each program once.

A program's shapes are (model, N, capacity, trial batch): every K up to the capacity reuses it (the binary
kernel visits only ceil(K / chunk) chunks of memories, so the work is that of K; continuous models mask the
padding rows). `program_key` names a program by its builder's arguments. `get_program` compiles a key once,
ahead of time, so that a row's `seconds` is run time only; worker threads that need the same program wait
for the one compiling it; `precompile` compiles the searches' first programs up front, several at a time.
`STATS` and `COMPILE_SPANS` record this process's compilations (the run record), `TRACES` counts traces per
key (the no-recompile test).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import equinox as eqx
import jax
import jax.numpy as jnp

from ..dynamics._status import Status
from . import _kernels
from ._plan import chunk_for, cues_for, first_load, ladder, program_words, rung
from ._registry import REGISTRY
from ._spec import SweepSpec

MAX_SWEEPS = 100
STAGES = (1, 4)  # continuous batches shrink to a quarter of their samples when no more are active
SET_STAGES = ((1, 1), (1, 4), (2, 4), (4, 4))  # shared sets, as (set divisor, run divisor): each set's runs
# shrink to a quarter once no more are moving, then the sets with runs still moving to a half and a quarter (a
# matrix product over 8 or 2 columns is memory-bound alike, so the last slow runs cost what their sets'
# memories cost to read)
COMPACT_SIZE = 2**20  # ... but only where a set's memories (capacity x N numbers) are this large: below it a
# step is cheap, and the compaction stage costs more compile time than it saves (the default preset: 72 s wall
# without it, 66 s with it, but 42% of the wall compiling against 23%)
TRACES: dict = {}  # program key -> number of traces, for the no-recompile test
COMPILED: dict = {}  # program key -> compiled executable
STATS = {"programs": 0, "compile_seconds": 0.0, "run_seconds": 0.0}  # of this process
COMPILE_SPANS: list = []  # (start, end) perf_counter times of every compilation of this process
_LOCK = threading.Lock()  # guards COMPILED's keys, STATS and TRACES across worker threads
KEY_LOCKS: dict = {}  # program key -> lock: one thread compiles a program, the others wait for it


def _float32(tree):
    """Every floating array of `tree` as float32 (the sweep's integration precision)."""
    return jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, tree)


def binary_program(name: str, words: int, cap: int, batch: int):
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


def continuous_program(name: str, n: int, cap: int, batch: int, cues: int = 1, step_factor: float = 1.0):
    """B trials of a continuous model at N neurons and any K <= `cap` (traced; padding rows masked), in
    B / `cues` memory sets of `cues` trials each.

    Each set's model is built once, and the 2 `cues` runs of the set (every cue, and every cue's target
    memory itself) are integrated together: their field is a matrix-matrix product over the set's memories
    (`_kernels.integrate_steady_sets`, compacting within sets). With `cues=1` every trial owns its memory
    set and the runs are batched as independent samples (`_kernels.integrate_steady`, compacting over the
    whole batch): the engine before memory sets were shared, kept as the reference.
    `step_factor` multiplies the model's step limit (checking that K* is not set by it)."""
    sm = REGISTRY[name]
    sets = batch // cues
    max_steps = int(round(sm.max_steps * step_factor))

    def run(bits, flips, targets, n_arr, k):
        del n_arr  # static here
        with _LOCK:
            key = (name, n, cap, batch, cues, step_factor)
            TRACES[key] = TRACES.get(key, 0) + 1
        spins = jnp.arange(n)
        xi = (bits[spins >> 5] >> (spins & 31).astype(jnp.uint32)[:, None, None]) & jnp.uint32(1)  # (N, S, cap)
        xi = jnp.transpose(xi, (1, 2, 0)).astype(jnp.float32) * 2.0 - 1.0  # (S, cap, N)
        mask = jnp.arange(cap, dtype=jnp.int32) < k
        target = jnp.take_along_axis(xi, targets.reshape(sets, cues)[:, :, None], axis=1)  # (S, C, N)
        cue = jnp.where(flips[:, :n].reshape(sets, cues, n), -target, target)
        # the sweep integrates in float32: every floating parameter of the model too (under x64 its scalars
        # would be float64, and mixing them into the float32 state is refused under strict promotion)
        models = jax.vmap(lambda p: _float32(sm.build(p, mask)))(xi)
        starts = jnp.concatenate([cue, target], axis=1)  # (S, 2C, N): the cues, then their memories
        y0 = jax.vmap(lambda m, s: jax.vmap(m.init_state)(s))(models, starts)
        first = jax.tree.map(lambda a: a[0], models)  # tau is shared by the batch (the same build for every set)
        taus = first.time_constants()
        opts = dict(dt=sm.dt, max_steps=max_steps, method=sm.method)
        if cues == 1:
            flat = lambda tree: jax.tree.map(lambda a: a.reshape((2 * batch,) + a.shape[2:]), tree)  # noqa: E731
            pair = lambda tree: jax.tree.map(lambda a: a.reshape((batch, 2) + a.shape[1:]), tree)  # noqa: E731

            def vector_field(y):
                return flat(jax.vmap(lambda m, s: jax.vmap(m.vector_field)(s))(models, pair(y)))

            def sub_vector_field(idx):
                sub_models = jax.tree.map(lambda a: a[idx // 2], models)  # gathered once per stage
                return lambda y: jax.vmap(lambda m, s: m.vector_field(s))(sub_models, y)

            y, steps, status = _kernels.integrate_steady(
                vector_field, sub_vector_field, taus, flat(y0), stages=STAGES, **opts
            )
            y, steps, status = pair(y), steps.reshape(batch, 2), status.reshape(batch, 2)
        else:

            def set_vector_field(mods, y):
                return jax.vmap(lambda m, s: jax.vmap(m.vector_field)(s))(mods, y)

            stages = SET_STAGES if cap * n >= COMPACT_SIZE else ((1, 1),)
            y, steps, status = _kernels.integrate_steady_sets(set_vector_field, models, taus, y0, stages=stages, **opts)
        act = jax.vmap(lambda m, s: jax.vmap(m.neuron_activation)(s))(models, y)  # (S, 2C, N) (or (B, 2, N))
        read = _kernels.sign_readout(act.reshape(-1, n)).reshape(sets, 2 * cues, n)  # 0: dead or non-finite
        cue_read, mem_read = read[:, :cues].reshape(batch, n), read[:, cues:].reshape(batch, n)
        status = status.reshape(sets, 2 * cues)
        cue_status, mem_status = status[:, :cues].reshape(batch), status[:, cues:].reshape(batch)
        steps = steps.reshape(sets, 2 * cues)
        t = target.reshape(batch, n).astype(jnp.int32)
        still = mem_read == t
        exact = jnp.all(cue_read == t, axis=1)
        overlap = jnp.sum(cue_read * t, axis=1).astype(jnp.float32) / n
        work = (steps[:, :cues] + steps[:, cues:] + 2).reshape(batch) * n  # field evaluations x N (x K below)
        return (
            jnp.mean(still.astype(jnp.float32), axis=1),
            jnp.all(still, axis=1),
            exact,
            overlap,
            cue_status,
            mem_status,
            work,
        )

    return run


def program_key(spec: SweepSpec, name: str, n: int, words: int, cap: int) -> tuple:
    """A compiled program's key, the arguments of its builder: continuous models have one per N (and memory-set
    layout and step limit); binary ones one per word count (N traced)."""
    if REGISTRY[name].continuous:
        return (name, n, cap, spec.batch, cues_for(spec, name), float(spec.step_factor))
    return (name, words, cap, spec.batch)


def compiler_options(key: tuple) -> dict | None:
    """XLA options of a program: a continuous program whose memory sets are small (capacity x N below
    `COMPACT_SIZE`) compiles at backend optimisation level 1, which halves its compile time, while its
    steps are cheap whatever the level; every other program at XLA's default."""
    if REGISTRY[key[0]].continuous and key[2] * key[1] < COMPACT_SIZE:
        return {"xla_backend_optimization_level": 1}
    return None


def get_program(key: tuple, args):
    with _LOCK:
        key_lock = KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        if key not in COMPILED:  # compile ahead of time, so `seconds` is run time only
            name = key[0]
            build = continuous_program if REGISTRY[name].continuous else binary_program
            t0 = time.perf_counter()
            compiled = jax.jit(build(*key)).lower(*args).compile(compiler_options=compiler_options(key))
            with _LOCK:
                COMPILED[key] = compiled
                t1 = time.perf_counter()
                STATS["compile_seconds"] += t1 - t0
                STATS["programs"] += 1
                COMPILE_SPANS.append((t0, t1))
    return COMPILED[key]


def precompile(spec: SweepSpec, pairs: list, cache: dict, workers: int) -> None:
    """Compile the first program of every search that has rows left to measure, `workers` at a time, before
    any search runs: compilation then overlaps other compilation, not the searches (the total is the same).
    One device only (the programs are lowered from shapes, without a sharding); later capacity rungs compile
    when a search reaches them."""
    if len(jax.devices()) > 1:
        return
    todo = {}
    for name, n in pairs:
        k0 = first_load(spec, name, n)
        if (name, n, k0, spec.rho, spec.seed, 0) in cache:
            continue
        cap, words = rung(name, ladder(spec, name, n, k0), k0), program_words(spec, name, n)
        todo[program_key(spec, name, n, words, cap)] = (words, cap, cues_for(spec, name))

    def compile_one(item):
        key, (words, cap, cues) = item
        scalars = (jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jnp.int32))
        args = (
            jax.ShapeDtypeStruct((words, spec.batch // cues, cap), jnp.uint32),
            jax.ShapeDtypeStruct((spec.batch, 32 * words), jnp.bool_),
        )
        if REGISTRY[key[0]].continuous:
            args += (jax.ShapeDtypeStruct((spec.batch,), jnp.int32),)
        get_program(key, args + scalars)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nam-compile") as pool:
        list(pool.map(compile_one, todo.items()))


def compile_wall(since: float) -> float:
    """Wall seconds since `since` during which at least one program was compiling (the union of the
    compile spans): with several worker threads, compile seconds summed over threads overcount it."""
    spans = sorted((max(a, since), b) for a, b in COMPILE_SPANS if b > since)
    total, end = 0.0, since
    for a, b in spans:
        if b > end:
            total += b - max(a, end)
            end = b
    return total
