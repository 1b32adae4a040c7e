#!/usr/bin/env python
"""Benchmark: the sweep engine's batched trials against a per-trial Python loop with the same math.

One capacity-sweep trial (nam/sweep/_engine.py, `_batch_program`'s inner `one(key, k, rho)`): draw a
K-memory set padded to a power-of-two bucket (masked), pick a memory mu, evaluate criteria 1-2 (one
flip-difference update from mu) and criteria 3-4 (a cue with exactly round(rho N) flipped bits,
asynchronous sign dynamics to convergence).

- batched: `nam.sweep._engine.measure_row(spec, name, n, k, batch_index)` with
  `SweepSpec(n_grid={name: (n,)}, trials=B, batch=B)`: one compiled, vmapped program runs B trials.
  Warmed up (compiled) first; each timed call uses a new batch_index (same shapes, no recompile).
- loop: the same single-trial function (`one` below, a copy of the engine's) under `jax.jit` without
  vmap, compiled once, called in a Python loop over the same B keys. Dispatch is asynchronous, so the
  loop blocks once at the end (`jax.block_until_ready` on all outputs), then fetches them to the host,
  as `measure_row` does. Both timings include splitting the row key into B trial keys.

The two sides of a configuration are timed interleaved (batched, loop, batched, loop, ...) so that
their ratio sees the same machine load; the reported figure is the median over repeats.

Correctness: for one batch per configuration the per-trial outputs of the engine's compiled program
(stable bits, fixed point, exact retrieval, overlap, status) are compared with the loop's for the same
keys (exact array equality), and every timed repeat also checks that the row aggregates agree.

Usage:
    python benchmarks/bench_sweep.py              # B = 64 and 256, 7 repeats
    python benchmarks/bench_sweep.py --quick      # B = 64 only, 2 repeats
    python benchmarks/bench_sweep.py --out results.json
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import nam  # noqa: E402
from nam._patterns import random_patterns  # noqa: E402
from nam.capacity._criteria import is_fixed_point, one_step_stable_bits, retrieval_outcome  # noqa: E402
from nam.dynamics._status import Status  # noqa: E402
from nam.sweep import _engine  # noqa: E402
from nam.sweep._registry import REGISTRY  # noqa: E402

CONFIGS = [("hopfield", 100, 10), ("hopfield", 400, 40), ("dam3", 32, 60), ("dam4", 16, 30), ("dam_exp", 14, 200)]
TARGET = 20.0  # the target: batched sweeps >= 20x a per-trial loop on CPU
FIELDS = ("stable_bits", "fixed_point", "exact", "overlap", "status")


def make_one(name: str, n: int, bucket: int):
    """The engine's single trial (`_batch_program`'s `one`), without the trace counter."""
    sweep_model = REGISTRY[name]

    def one(key, k, rho):
        kx, kmu, kcue = jr.split(key, 3)
        xi = random_patterns(kx, bucket, n)
        model = sweep_model.build(xi, jnp.arange(bucket) < k)
        mu = jr.randint(kmu, (), 0, k)
        outcome = retrieval_outcome(model, mu, kcue, rho)
        return (one_step_stable_bits(model, mu), is_fixed_point(model, mu), outcome.exact, outcome.overlap,
                outcome.status)

    return one


def trial_keys(spec, name, n, k, batch_index):
    """The per-trial keys `measure_row` uses (single device: `_shard` is the identity)."""
    return jr.split(_engine._row_key(spec, name, n, k, batch_index), spec.batch)


def run_loop(single, spec, name, n, k, batch_index):
    """The straightforward loop: one jitted call per trial, one block at the end, outputs to host."""
    keys = trial_keys(spec, name, n, k, batch_index)
    k_arr, rho_arr = jnp.asarray(k), jnp.asarray(spec.rho)
    outs = [single(key, k_arr, rho_arr) for key in keys]
    jax.block_until_ready(outs)
    return [np.stack(col) for col in zip(*jax.device_get(outs))]


def row_from_trials(cols):
    stable, fixed, exact, overlap, status = cols
    return {"stable_bits": float(np.mean(stable)), "fixed_points": int(np.sum(fixed)),
            "retrieved": int(np.sum(exact)), "overlap": float(np.mean(overlap)),
            "converged": int(np.sum(status == Status.CONVERGED)),
            "sweep_limit": int(np.sum(status == Status.SWEEP_LIMIT)), "cycle": int(np.sum(status == Status.CYCLE))}


def bench_config(name, n, k, batch, reps):
    spec = nam.SweepSpec(n_grid={name: (n,)}, trials=batch, batch=batch)
    bucket = _engine.bucket_size(k)
    single = jax.jit(make_one(name, n, bucket))

    # Warm up (compile) both sides; the engine's own `seconds` of its first call includes the compile.
    t0 = time.perf_counter()
    first_row = _engine.measure_row(spec, name, n, k, 0)
    compile_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop_cols = run_loop(single, spec, name, n, k, 0)
    compile_loop = time.perf_counter() - t0

    # Per-trial equality for batch 0: the engine's compiled program on the same keys.
    program = _engine._batch_program(name, n, bucket, batch)
    keys = _engine._shard(trial_keys(spec, name, n, k, 0))
    batched_cols = [np.asarray(a) for a in jax.device_get(program(keys, jnp.asarray(k), jnp.asarray(spec.rho)))]
    mismatched = [f for f, a, b in zip(FIELDS, batched_cols, loop_cols) if not np.array_equal(a, b)]
    agg_keys = list(row_from_trials(loop_cols))
    rows_agree = all(first_row[c] == row_from_trials(loop_cols)[c] for c in agg_keys)

    t_batched, t_loop, engine_seconds = [], [], []
    for r in range(reps):
        b = r + 1  # a new batch index per repeat: same shapes, new keys
        t0 = time.perf_counter()
        row = _engine.measure_row(spec, name, n, k, b)
        t_batched.append(time.perf_counter() - t0)
        engine_seconds.append(row["seconds"])
        t0 = time.perf_counter()
        cols = run_loop(single, spec, name, n, k, b)
        t_loop.append(time.perf_counter() - t0)
        loop_row = row_from_trials(cols)
        rows_agree &= all(row[c] == loop_row[c] for c in agg_keys)

    mb, ml = statistics.median(t_batched), statistics.median(t_loop)
    status = batched_cols[4]
    return {
        "model": name, "n": n, "k": k, "bucket": bucket, "batch": batch, "repeats": reps,
        "batched_s": t_batched, "loop_s": t_loop, "engine_row_seconds": engine_seconds,
        "batched_median_s": mb, "loop_median_s": ml,
        "batched_trials_per_s": batch / mb, "loop_trials_per_s": batch / ml, "ratio": ml / mb,
        "warmup_batched_s": compile_batched, "warmup_loop_s": compile_loop,
        "engine_first_row_seconds": first_row["seconds"],
        "per_trial_equal": not mismatched, "mismatched_fields": mismatched, "row_aggregates_equal": rows_agree,
        "retrieved_fraction_batch0": float(np.mean(batched_cols[2])),
        "status_counts_batch0": {s.name: int(np.sum(status == s)) for s in Status if np.any(status == s)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="B = 64 only, 2 repeats")
    ap.add_argument("--reps", type=int, default=None, help="timed repeats per configuration")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "sweep.json"))
    args = ap.parse_args()
    batches = (64,) if args.quick else (64, 256)
    reps = args.reps or (2 if args.quick else 7)

    devices = jax.devices()
    gpu = any(d.platform == "gpu" for d in devices)
    print(f"jax {jax.__version__}, devices: {devices} (GPU available: {gpu}); os.cpu_count() = {os.cpu_count()}")
    print("loop side: jitted single trial (no vmap), called per key; blocks once at the end "
          "(jax.block_until_ready on all outputs)\n")

    t_start = time.perf_counter()
    results = []
    for batch in batches:
        for name, n, k in CONFIGS:
            res = bench_config(name, n, k, batch, reps)
            results.append(res)
            print(f"  {name} N={n} K={k} B={batch}: batched {res['batched_trials_per_s']:.0f}/s, "
                  f"loop {res['loop_trials_per_s']:.0f}/s, ratio {res['ratio']:.2f}x; per-trial outputs equal: "
                  f"{res['per_trial_equal']} {res['mismatched_fields'] or ''}; row aggregates equal: "
                  f"{res['row_aggregates_equal']}", flush=True)
    wall = time.perf_counter() - t_start
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    print("\n| model | N | K (bucket) | B | batched trials/s | loop trials/s | batched/loop | "
          "per-trial equal | retrieved (batch 0) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['model']} | {r['n']} | {r['k']} ({r['bucket']}) | {r['batch']} | "
              f"{r['batched_trials_per_s']:.0f} | {r['loop_trials_per_s']:.0f} | {r['ratio']:.1f}x | "
              f"{'yes' if r['per_trial_equal'] and r['row_aggregates_equal'] else 'NO'} | "
              f"{r['retrieved_fraction_batch0']:.2f} |")
    ratios = [r["ratio"] for r in results]
    met = all(x >= TARGET for x in ratios)
    all_equal = all(r["per_trial_equal"] and r["row_aggregates_equal"] for r in results)
    print(f"\nratio range {min(ratios):.1f}x - {max(ratios):.1f}x; target >= {TARGET:.0f}x met in "
          f"{sum(x >= TARGET for x in ratios)}/{len(ratios)} rows -> {'MET' if met else 'NOT MET'}")
    print(f"all per-trial outcomes equal: {all_equal}")
    print(f"peak resident memory (ru_maxrss): {maxrss_mib:.0f} MiB; wall {wall:.0f} s; "
          f"GPU available: {gpu} (CPU only)")

    out = {
        "env": {"jax": jax.__version__, "devices": [str(d) for d in devices], "gpu_available": gpu,
                "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                "loadavg_start_end": None},
        "method": {"batched": "nam.sweep._engine.measure_row, SweepSpec(trials=B, batch=B), warmed up, new "
                              "batch_index per repeat, wall time of the whole call",
                   "loop": "jax.jit(single trial, no vmap) called per key in Python, block_until_ready once "
                           "at the end, then device_get",
                   "interleaved": True, "statistic": "median", "repeats": reps, "quick": args.quick},
        "target_ratio": TARGET, "target_met": met, "all_outcomes_equal": all_equal,
        "results": results, "peak_rss_mib": maxrss_mib, "total_wall_s": wall,
    }
    out["env"]["loadavg_start_end"] = [LOAD0, list(os.getloadavg())]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


LOAD0 = list(os.getloadavg())

if __name__ == "__main__":
    main()
