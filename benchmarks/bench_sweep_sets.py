#!/usr/bin/env python
"""Benchmark: the sweep's continuous engine with shared memory sets against the engine before it (every
trial its own memories), on identical memories and cues, and against this machine's float32 matmul rate.

One measured load of the continuous distinct-index effective network (`na_effective_distinct`, the model
that carries the quartic law) at N = 96, K = 20000, 64 trials, drawn once with
`nam.sweep._kernels.draw_trials(..., cues=16)`: 4 memory sets of 16 cues, each cue from a different
memory of its set. Two compiled programs of `nam/sweep/_programs.py` run it:

- shared: `cues_per_set=16`, the default: the 32 runs of a set (16 cues and their 16 memories) are
  integrated together (`_kernels.integrate_steady_sets`), so the field is a matrix-matrix product;
- per-trial (the engine before, kept as `cues_per_set=1`): every trial gets its own copy of its set's
  memories, and its two runs are matrix-vector products (`_kernels.integrate_steady`, compacting over
  the batch), memory-bound.

Both get the same memories, cues and targets; their per-trial outputs (exact retrieval, overlap, status
of both runs, stable bits) are compared. Timings are interleaved and the median of the repeats is
reported, with the ratio. The shared engine's useful arithmetic (8 K N flops per field evaluation of the
distinct-index field, 4 evaluations per RK4 step, the steps the runs took) per second is compared with
this machine's float32 matmul rate, measured in the same run on a (K, N) x (N, 32) product (the shape of
one set's field) and on a 2048 x 2048 square one.

Usage:
    python benchmarks/bench_sweep_sets.py            # writes benchmarks/results/sweep_sets.json
    python benchmarks/bench_sweep_sets.py --quick    # fewer repeats, N = 64, K = 5000
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from _harness import compile_timed, environment, interleaved, medians, ratios, result_path, write_result

from nam.sweep import _kernels, _programs

TARGET = 8.0  # shared over per-trial at N = 96, 64 trials


def _inputs(n: int, k: int, cap: int, batch: int, cues: int, seed: int = 0):
    words = -(-n // 32)
    bits, flips = _kernels.draw_trials((seed, n, k), batch, n, k, cap, words, 0.125, cues)
    targets = _kernels.trial_targets(batch, cues, k)
    return bits, flips, targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=result_path("sweep_sets.json"))
    args = parser.parse_args()
    name = "na_effective_distinct"
    n, k = (64, 5000) if args.quick else (96, 20000)
    batch, cues = 64, 16
    repeats = 2 if args.quick else 3
    cap = 32 * -(-k // 32)
    bits, flips, targets = _inputs(n, k, cap, batch, cues)
    owned = bits[:, np.arange(batch) // cues, :]  # trial b gets its own copy of set b // cues
    scal = (jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    progs, compile_s = {}, {}
    for label, c, b in (("shared", cues, bits), ("per_trial", 1, owned)):
        fn = jax.jit(_programs.continuous_program(name, n, cap, batch, c))
        a = (jnp.asarray(b), jnp.asarray(flips), jnp.asarray(targets)) + scal
        compiled, compile_s[label] = compile_timed(fn, *a)
        progs[label] = (compiled, a)
    outs = {label: [np.asarray(x) for x in c(*a)] for label, (c, a) in progs.items()}
    fields = ("stable_bits", "fixed", "exact", "overlap", "status", "status_memory", "work")
    agree = {
        f: bool(np.array_equal(outs["shared"][i], outs["per_trial"][i])) for i, f in enumerate(fields) if f != "work"
    }
    readouts_differ = int(
        np.sum(outs["shared"][2] != outs["per_trial"][2]) + np.sum(outs["shared"][3] != outs["per_trial"][3])
    )
    times = interleaved({label: (lambda c=c, a=a: c(*a)) for label, (c, a) in progs.items()}, repeats, warmup=False)
    med = medians(times)

    # useful arithmetic of the shared run: steps of every run (cue and memory) x 4 RK4 evaluations x 8 K N
    steps = outs["shared"][6].astype(np.float64) / n - 2  # (steps_cue + steps_mem) per trial
    flops = float(np.sum(steps + 2)) * 4 * 8 * k * n
    xi = jax.random.normal(jax.random.key(0), (cap, n), jnp.float32)
    phi = jax.random.normal(jax.random.key(1), (n, 2 * cues), jnp.float32)
    big = jax.random.normal(jax.random.key(2), (2048, 2048), jnp.float32)
    mm_set = jax.jit(lambda a, b: (a @ b, a.T @ (a @ b)))
    mm_big = jax.jit(lambda a: a @ a)
    mt = medians(
        interleaved(
            {"set": lambda: mm_set(xi, phi), "square": lambda: mm_big(big)}, 10 if not args.quick else 4, calls=3
        )
    )
    rate_set = 2 * (2 * cap * n * 2 * cues) / mt["set"]
    rate_square = 2 * 2048**3 / mt["square"]
    shared_rate = flops / med["shared"]
    result = {
        "environment": environment(),
        "config": {"model": name, "n": n, "k": k, "cap": cap, "trials": batch, "cues_per_set": cues, "rho": 0.125},
        "compile_seconds": compile_s,
        "median_seconds": med,
        "times": times,
        "speedup_shared_over_per_trial": ratios(med, "shared")["per_trial"],
        "target_speedup": TARGET,
        "identical_outputs": agree,
        "readouts_differing": readouts_differ,
        "retrieved": {label: int(np.sum(o[2] & (o[4] == 0))) for label, o in outs.items()},
        "status_counts": {label: np.bincount(o[4], minlength=8).tolist() for label, o in outs.items()},
        "shared_useful_flops": flops,
        "shared_gflops": shared_rate / 1e9,
        "matmul_gflops_set_shape": rate_set / 1e9,
        "matmul_gflops_square_2048": rate_square / 1e9,
        "fraction_of_set_matmul_rate": shared_rate / rate_set,
        "fraction_of_square_matmul_rate": shared_rate / rate_square,
    }
    write_result(args.out, result)
    print(f"{name} N={n} K={k}, {batch} trials ({batch // cues} sets of {cues}):")
    print(
        f"  shared {med['shared']:.3f} s, per-trial {med['per_trial']:.3f} s: "
        f"{result['speedup_shared_over_per_trial']:.1f}x (target {TARGET}x)"
    )
    print(f"  outputs identical: {agree}; retrieved {result['retrieved']}")
    print(
        f"  shared: {shared_rate / 1e9:.1f} GFLOP/s useful; matmul {rate_set / 1e9:.1f} GFLOP/s on the set's shape "
        f"({100 * result['fraction_of_set_matmul_rate']:.0f}%), {rate_square / 1e9:.1f} GFLOP/s square "
        f"({100 * result['fraction_of_square_matmul_rate']:.0f}%)"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
