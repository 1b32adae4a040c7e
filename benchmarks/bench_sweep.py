#!/usr/bin/env python
"""Benchmark: the sweep's binary engine against the engine it replaced and against a per-trial loop,
and the default `nam sweep` cold and warm.

Part 1, one batch of B capacity trials on identical inputs (the same memories and cues, drawn once
with `nam.sweep._kernels.draw_trials`), three ways:

- new: the sweep's compiled program (`nam/sweep/_programs.py`: int8-free packed memories, int32
  overlaps, closed-form flip differences, chunked memories, N and K traced);
- previous: the engine this one replaced (kept here as `previous_trial`): `nam.retrieve_binary`,
  `nam.capacity.one_step_stable_bits` and `is_fixed_point` on a masked
  `nam.DenseAssociativeMemory` / `nam.ClassicalHopfield` padded to a power-of-two K bucket, vmapped
  over the batch and jitted (as the old engine ran it, minus its in-program random draws, which
  only made it slower);
- loop: the same single-trial function jitted without vmap and called in a Python loop.

All three are compiled before timing; their outputs (final exactness, overlap, status, stable bits)
are compared for equality. Timings are interleaved (new, previous, loop, new, ...) and the median of
the repeats is reported, with ratios. The new engine's rate is reported in memory-spin updates per
second (sum over trials of (sweeps + 1) N K, the work the dynamics needs) beside the machine's
measured int32 vector rate (a fused multiply-add loop over a cache-resident array, elements/s).

Part 2: `nam sweep` (the default preset) in a fresh process into a new folder, twice: cold (empty
persistent compilation cache) and warm (the cache the first run filled), with compile share from
each run's run.json.

Usage:
    python benchmarks/bench_sweep.py                 # everything, writes benchmarks/results/sweep.json
    python benchmarks/bench_sweep.py --skip-cli      # part 1 only
    python benchmarks/bench_sweep.py --quick         # fewer repeats, no CLI runs
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
from _harness import compile_timed, environment, interleaved, medians, ratios, result_path, write_result

import nam
from nam.sweep import _kernels, _plan, _programs
from nam.sweep._registry import REGISTRY

CONFIGS = [("hopfield", 800, 90), ("dam3", 64, 260), ("dam4", 64, 2300), ("dam4", 96, 8000), ("dam_exp", 14, 280)]
TARGET_PREVIOUS, TARGET_LOOP = 8.0, 20.0  # dam4 at N = 64


def _bucket(k: int) -> int:
    return max(8, 1 << (int(k) - 1).bit_length())


def _model(name, xi, mask):
    sm = REGISTRY[name]
    if sm.degree == 2:
        return nam.ClassicalHopfield(xi, mask=mask)
    sep = nam.ExponentialSeparation(sm.beta) if sm.degree is None else nam.Polynomial(sm.degree)
    return nam.DenseAssociativeMemory(xi, sep, mask=mask)


def previous_trial(name: str, k: int):
    """The replaced engine's single trial on given memories (bucket, N) float32 and a cue."""
    bucket = _bucket(k)

    def one(xi, cue):
        model = _model(name, xi, jnp.arange(bucket) < k)
        r = nam.retrieve_binary(model, cue)
        target = xi[0]
        return (
            nam.capacity.one_step_stable_bits(model, 0),
            nam.capacity.is_fixed_point(model, 0),
            jnp.all(r.pattern == target),
            jnp.dot(r.pattern, target) / xi.shape[1],
            r.status,
        )

    return one


def _inputs(name, n, k, batch, seed=0):
    cap = _plan.capacity_for(name, k)
    words = _plan.words_for(n)
    bits, flips = _kernels.draw_trials((seed, n, k), batch, n, k, cap, words, 0.125)
    i = np.arange(n)
    xi = ((bits[i >> 5][:, :, :k] >> (i & 31).astype(np.uint32)[:, None, None]) & 1).astype(np.float32)
    xi = np.transpose(xi, (1, 2, 0)) * 2 - 1
    bucket = _bucket(k)
    xi_b = np.ones((batch, bucket, n), np.float32)
    xi_b[:, :k] = xi
    cue = np.where(flips[:, :n], -xi[:, 0], xi[:, 0]).astype(np.float32)
    return cap, words, bits, flips, xi_b, cue


def int32_vector_rate(repeats: int = 5) -> float:
    """int32 elements/s of x <- x * 3 + 1 over a 256 KiB array (cache-resident), 200 passes per call."""
    x = jnp.arange(65536, dtype=jnp.int32)
    f = jax.jit(lambda x: jax.lax.fori_loop(0, 200, lambda i, x: x * 3 + 1, x))
    return 200 * x.size / medians(interleaved({"rate": lambda: f(x)}, repeats))["rate"]


def bench_engines(repeats: int, batch: int) -> list[dict]:
    out = []
    for name, n, k in CONFIGS:
        cap, words, bits, flips, xi_b, cue = _inputs(name, n, k, batch)
        args = (jnp.asarray(bits), jnp.asarray(flips), jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
        new, _ = compile_timed(jax.jit(_programs.binary_program(name, words, cap, batch)), *args)
        one = previous_trial(name, k)
        prev, _ = compile_timed(jax.jit(jax.vmap(one)), jnp.asarray(xi_b), jnp.asarray(cue))
        single, _ = compile_timed(jax.jit(one), jnp.asarray(xi_b[0]), jnp.asarray(cue[0]))
        xs, cs = [jnp.asarray(x) for x in xi_b], [jnp.asarray(c) for c in cue]

        def run_new():
            return jax.device_get(new(*args))

        def run_prev():
            return jax.device_get(prev(jnp.asarray(xi_b), jnp.asarray(cue)))

        def run_loop():
            outs = [single(x, c) for x, c in zip(xs, cs)]
            jax.block_until_ready(outs)
            return jax.device_get(outs)

        a, b, c = run_new(), run_prev(), run_loop()
        stable, fixed, exact, overlap, status, _, work = a
        loop = [np.array([o[i] for o in c]) for i in range(5)]
        equal = (
            np.array_equal(exact, b[2])
            and np.array_equal(status, b[4])
            and np.allclose(overlap, b[3])
            and np.allclose(stable, b[0])
            and np.array_equal(fixed, b[1])
            and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(b, loop))
        )
        # the calls above were the warm-up
        med = medians(interleaved({"new": run_new, "previous": run_prev, "loop": run_loop}, repeats, warmup=False))
        speedup = ratios(med, "new")
        updates = float(np.sum(work.astype(np.int64))) * k
        row = {
            "model": name,
            "n": n,
            "k": k,
            "batch": batch,
            "cap": cap,
            "outputs_equal": bool(equal),
            "retrieved": int(np.sum(exact & (status == 0))),
            "seconds": {key: round(v, 5) for key, v in med.items()},
            "speedup_vs_previous": round(speedup["previous"], 2),
            "speedup_vs_loop": round(speedup["loop"], 2),
            "memory_spin_updates_per_s": updates / med["new"],
        }
        out.append(row)
        print(
            f"{name:<9} N={n:<5} K={k:<6} new {med['new'] * 1e3:8.2f} ms  previous {med['previous'] * 1e3:8.2f} ms "
            f"({row['speedup_vs_previous']:5.1f}x)  loop {med['loop'] * 1e3:9.2f} ms ({row['speedup_vs_loop']:6.1f}x)  "
            f"{row['memory_spin_updates_per_s'] / 1e9:.2f} G updates/s  equal={equal}",
            flush=True,
        )
    return out


def bench_cli() -> dict:
    """`nam sweep` (default preset) in fresh processes: cold with the default worker threads (one per CPU),
    warm (a second run, new folder, the persistent compilation cache the first filled), and cold with one
    worker. compile_share = compile seconds / (wall x workers): the share of the workers' time spent
    compiling; compile_wall_share: the share of the wall time during which something was compiling."""
    cache = tempfile.mkdtemp(prefix="nam_jax_cache_")
    runs = {}
    for label, extra, use_cache in (
        ("cold", [], True),
        ("warm", [], True),
        ("cold_one_worker", ["--workers", "1"], False),
    ):
        out = tempfile.mkdtemp(prefix=f"nam_sweep_{label}_")
        env = {**os.environ, "NAM_COMPILATION_CACHE": cache if use_cache else ""}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "nam", "sweep", "--no-progress", "--out", out, *extra],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"nam sweep failed: {proc.stderr[-2000:]}")
        with open(os.path.join(out, "run.json")) as f:
            rec = json.load(f)
        rec["process_wall_seconds"] = round(wall, 2)
        workers = rec.get("workers", 1)
        rec["compile_share"] = round(rec["compile_seconds"] / (rec["wall_seconds"] * workers), 3)
        # the share of the wall time during which at least one program was compiling
        compile_wall = rec.get("compile_wall_seconds", rec["compile_seconds"])
        rec["compile_wall_share"] = round(compile_wall / rec["wall_seconds"], 3)
        runs[label] = rec
        print(
            f"nam sweep {label}: {wall:.1f} s process wall, sweep wall {rec['wall_seconds']} s with {workers} "
            f"worker(s), compile {rec['compile_seconds']} s ({100 * rec['compile_share']:.0f}% of worker time, "
            f"{100 * rec['compile_wall_share']:.0f}% of the wall), run "
            f"{rec['run_seconds']} s, {rec['programs']} programs",
            flush=True,
        )
    return runs


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip-cli", action="store_true")
    p.add_argument("--out", default=result_path("sweep.json"))
    args = p.parse_args()
    repeats = 2 if args.quick else args.repeats
    rate = int32_vector_rate()
    print(f"int32 vector rate: {rate / 1e9:.2f} G elements/s (x * 3 + 1, cache-resident)")
    engines = bench_engines(repeats, args.batch)
    dam4 = next(r for r in engines if r["model"] == "dam4" and r["n"] == 64)
    result = {
        "env": environment(cpus=os.cpu_count()),  # "cpus": the key of earlier sweep.json files
        "int32_vector_rate_per_s": rate,
        "engines": engines,
        "targets": {
            "dam4_n64_vs_previous": TARGET_PREVIOUS,
            "dam4_n64_vs_loop": TARGET_LOOP,
            "met_previous": dam4["speedup_vs_previous"] >= TARGET_PREVIOUS,
            "met_loop": dam4["speedup_vs_loop"] >= TARGET_LOOP,
        },
    }
    if not (args.quick or args.skip_cli):
        result["nam_sweep"] = bench_cli()
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
