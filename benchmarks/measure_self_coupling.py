#!/usr/bin/env python
"""Measurement (issue 12): K* of the neuron-astrocyte memory with the Hebbian tensor of eq. 10 as printed
(repeated indices kept) and on pairwise distinct indices, effective and full model, against the binary
quartic DAM and the theory (Kozachkov, Slotine & Krotov, eqs. 6, 8, 10).

K* is the load at which half of the cues are retrieved exactly: every trial draws its own K random +-1
memories (padded to a power-of-two bucket and masked, so one compiled program serves a bucket), picks a
memory, flips exactly round(rho N) of its bits (`nam.flip_bits`), runs the dynamics and compares the
sign read-out with the memory. `nam.capacity.find_crossing` brackets and bisects in log K and fits the
crossing (bootstrap interval).

Models (N neurons, tanh(5 x) activations everywhere, T / N^3):
- dam4: `nam.DenseAssociativeMemory(xi, nam.Polynomial(4))`, asynchronous sign dynamics (`nam.retrieve_binary`);
- effective, effective_distinct: `nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi[, distinct_indices=True]))`;
- full, full_distinct: `nam.NeuronAstrocyte(T, lam=1, alpha=0, gamma=0)`, the setting in which its fixed
  points are the effective model's (eqs. 7-9), started at Appendix D's clamped fixed point;
- full_leaky, full_leaky_distinct: the same with the default leaks lam = alpha = gamma = 1 (the authors'
  tutorial; the `na_full` sweep model); not in the default set (`--models` adds them).
Continuous models: Tsit5, PID steps, stop at a steady state or t1 = 100 (`nam.SolverConfig`); the
status counts of every load are recorded (the leak-free full model never settles: its synapses and
processes drift to saturation, see the "status" fields).

Theory columns: `nam.capacity.self_coupling_capacity` (mean-field K* of eq. 10 with self-coupling),
`no_error_capacity(n, 4[, distinct_indices=True])` (N^3 / (30 ln N), N^3 / (12 ln N)) and
`fixed_point_capacity(n, 4[, distinct_indices=True])`.

Usage:
    python benchmarks/measure_self_coupling.py                   # the default grid, ~20 min on 2 shared cores
    python benchmarks/measure_self_coupling.py --quick           # N = 8, 12, 16, fewer cues
    python benchmarks/measure_self_coupling.py --out path.json
"""

import argparse
import math
import sys
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from _harness import environment, result_path, write_result

import nam

CONFIG = dict(solver="tsit5", t1=100.0, max_steps=4000)


def _tensor(distinct):
    return lambda xi, mask: nam.HebbianTensor(xi, mask=mask, distinct_indices=distinct)


MODELS = {
    "dam4": (True, lambda xi, mask: nam.DenseAssociativeMemory(xi, nam.Polynomial(4), mask=mask)),
    "effective": (False, lambda xi, mask: nam.NeuronAstrocyteEffective(_tensor(False)(xi, mask))),
    "effective_distinct": (False, lambda xi, mask: nam.NeuronAstrocyteEffective(_tensor(True)(xi, mask))),
    "full": (False, lambda xi, mask: nam.NeuronAstrocyte(_tensor(False)(xi, mask), lam=1.0, alpha=0.0, gamma=0.0)),
    "full_distinct": (
        False,
        lambda xi, mask: nam.NeuronAstrocyte(_tensor(True)(xi, mask), lam=1.0, alpha=0.0, gamma=0.0),
    ),
    "full_leaky": (False, lambda xi, mask: nam.NeuronAstrocyte(_tensor(False)(xi, mask))),
    "full_leaky_distinct": (False, lambda xi, mask: nam.NeuronAstrocyte(_tensor(True)(xi, mask))),
}
DEFAULT_MODELS = ("dam4", "effective", "effective_distinct", "full", "full_distinct")
_PROGRAMS = {}


def _program(name, n, bucket, trials):
    """(key, k, rho) -> (exact (trials,), status (trials,)), jitted once per (model, N, bucket, trials)."""
    key_ = (name, n, bucket, trials)
    if key_ in _PROGRAMS:
        return _PROGRAMS[key_]
    binary, build = MODELS[name]
    config = nam.SolverConfig(**CONFIG)

    def one(key, k, rho):
        kx, kmu, kc = jr.split(key, 3)
        xi = nam.random_patterns(kx, bucket, n)
        model = build(xi, jnp.arange(bucket) < k)
        mu = jr.randint(kmu, (), 0, k)
        if binary:
            out = nam.capacity.retrieval_outcome(model, mu, kc, rho)
            return out.exact, out.status
        out = nam.retrieve(model, nam.flip_bits(kc, xi[mu], rho), config=config)
        return jnp.all(out.pattern == xi[mu]), out.status

    _PROGRAMS[key_] = jax.jit(jax.vmap(one, in_axes=(0, None, None)))
    return _PROGRAMS[key_]


def _bucket(k):
    return max(8, 1 << (int(k) - 1).bit_length())


def measure(name, n, rho, trials, seed, k0, k_max):
    log = []

    def evaluate(k):
        t0 = time.perf_counter()
        keys = jr.split(jr.fold_in(jr.fold_in(jr.PRNGKey(seed), n), k), trials)
        exact, status = jax.device_get(_program(name, n, _bucket(k), trials)(keys, jnp.asarray(k), jnp.asarray(rho)))
        log.append(
            {
                "k": k,
                "retrieved": int(np.sum(exact)),
                "trials": trials,
                "status": {nam.Status(s).name: int(c) for s, c in zip(*np.unique(status, return_counts=True))},
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        print(
            f"  {name:>20} N={n:<3} K={k:<5} {int(np.sum(exact)):>4}/{trials}  {log[-1]['status']}"
            f"  {log[-1]['seconds']:.1f}s",
            flush=True,
        )
        return int(np.sum(exact)), trials

    res = nam.capacity.find_crossing(evaluate, max(1, min(k0, k_max)), k_max=k_max, rel_tol=0.05)
    return {"k_star": res.k_star, "ci": list(res.ci), "status": res.status, "loads": log}


def theory(n, rho):
    return {
        "self_coupling_capacity": float(nam.capacity.self_coupling_capacity(n, rho=rho)),
        "no_error_capacity": float(nam.capacity.no_error_capacity(n, 4)),
        "no_error_capacity_distinct": float(nam.capacity.no_error_capacity(n, 4, distinct_indices=True)),
        "fixed_point_capacity": float(nam.capacity.fixed_point_capacity(n, 4)),
        "fixed_point_capacity_distinct": float(nam.capacity.fixed_point_capacity(n, 4, distinct_indices=True)),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rho", type=float, default=0.125, help="fraction of flipped bits (default 0.125)")
    ap.add_argument("--n-effective", default="8,12,16,24,32", help="N for dam4 and the effective models")
    ap.add_argument("--n-full", default="8,12,16,24", help="N for the full models")
    ap.add_argument("--trials", type=int, default=128, help="cues per load, dam4 and effective (default 128)")
    ap.add_argument("--trials-full", type=int, default=48, help="cues per load, full models (default 48)")
    ap.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated subset of {','.join(MODELS)} (default {','.join(DEFAULT_MODELS)})",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="N = 8, 12, 16; 64 / 32 cues")
    ap.add_argument("--out", default=result_path("self_coupling.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.n_effective, args.n_full, args.trials, args.trials_full = "8,12,16", "8,12,16", 64, 32
    n_eff = [int(x) for x in args.n_effective.split(",")]
    n_full = [int(x) for x in args.n_full.split(",")]
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in names:
        if m not in MODELS:
            raise SystemExit(f"unknown model {m!r}; choose from {list(MODELS)}")

    t_start = time.perf_counter()
    out = {
        "command": "python benchmarks/measure_self_coupling.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "rho": args.rho,
        "criterion": "exact retrieval of 50 % of cues (round(rho N) flipped bits)",
        "solver": CONFIG,
        "seed": args.seed,
        "machine": environment(),
        "theory": {str(n): theory(n, args.rho) for n in sorted(set(n_eff + n_full))},
        "models": {},
    }
    for name in names:
        full = name.startswith("full")
        grid, trials = (n_full, args.trials_full) if full else (n_eff, args.trials)
        out["models"][name] = {"trials": trials, "n": grid, "results": {}}
        for n in grid:
            th = out["theory"][str(n)]
            guess = (
                th["self_coupling_capacity"]
                if name in ("effective", "full", "full_leaky")
                else (th["fixed_point_capacity_distinct"] if "distinct" in name else th["no_error_capacity"])
            )
            k_max = _bucket(8 * guess)
            t0 = time.perf_counter()
            r = measure(name, n, args.rho, trials, args.seed, int(round(guess)), k_max)
            r["seconds"] = round(time.perf_counter() - t0, 1)
            out["models"][name]["results"][str(n)] = r
            print(
                f"{name:>20} N={n:<3} K* = {r['k_star']:.1f} [{r['ci'][0]:.1f}, {r['ci'][1]:.1f}] "
                f"({r['status']}, {r['seconds']:.0f}s)",
                flush=True,
            )
        ks = [out["models"][name]["results"][str(n)]["k_star"] for n in grid]
        if len(grid) >= 2 and all(np.isfinite(ks)) and all(k > 0 for k in ks):
            fit = nam.capacity.fit_power_law(grid, ks)
            out["models"][name]["exponent"] = {"slope": fit.slope, "low": fit.slope_low, "high": fit.slope_high}
        write_result(args.out, out, indent=1)
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    write_result(args.out, out, indent=1)
    print(f"\n{'K*':>29} " + " ".join(f"{'N=' + str(n):>9}" for n in sorted(set(n_eff + n_full))) + "  exponent")
    for name, m in out["models"].items():
        row = {int(n): r["k_star"] for n, r in m["results"].items()}
        exp = m.get("exponent", {}).get("slope", math.nan)
        print(
            f"{name:>29} "
            + " ".join(f"{row.get(n, math.nan):>9.1f}" for n in sorted(set(n_eff + n_full)))
            + f"  {exp:.2f}"
        )
    for key in (
        "self_coupling_capacity",
        "fixed_point_capacity",
        "fixed_point_capacity_distinct",
        "no_error_capacity",
        "no_error_capacity_distinct",
    ):
        print(f"{key:>29} " + " ".join(f"{out['theory'][str(n)][key]:>9.1f}" for n in sorted(set(n_eff + n_full))))
    print(f"wrote {args.out} ({out['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
