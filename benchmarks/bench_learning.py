#!/usr/bin/env python
"""Benchmark: one training step of a learned astrocyte tensor, BPTT against implicit gradients, as N grows.

Problem per (model, N): K = max(2, N // 10) random memories (`nam.random_patterns`), the learnable tensor
`SymmetricKronecker.from_patterns(xi, noise=0.1, key=...)` (form "outer": K (N + 1) parameters), a batch
of B = 8 cues (memories mu = b mod K with exactly 10 % of their bits flipped, `nam.flip_bits`), and the
loss `retrieval_loss(tensor, cues, targets, model=..., kind="hinge", state_margin=m,
config=nam.SolverConfig("tsit5", adjoint=..., t1=T1, max_steps=MAX_STEPS))` (float32, the other solver
settings at their defaults). Models: the effective neuron model (state N) and the full
neuron-synapse-process model (state N + 2 N^2, leaks alpha = gamma = 1 as `build_energy_model` makes it).

The margin m: at the start tensor the cues settle at x* with target * x* ~ 1 (effective) or ~ N (full),
so the house margin 0.5 gives a zero hinge loss and a zero gradient, which makes the implicit backward
pass trivial. m is therefore set from a preliminary solve to 1.5 x max_b,i target * x*, so every hinge
term is active and the gradient is that of -mean(target * x*), nonzero.

Measured (interleaved: forward, BPTT, implicit, forward, ... so the three see the same machine load):
- forward: `eqx.filter_jit(loss)`, one batch; the loss with adjoint="recursive" (the primal computation of
  the two adjoints is the same solve);
- gradient: `eqx.filter_jit(eqx.filter_value_and_grad(loss, has_aux=True))` with adjoint="recursive"
  (backprop through diffrax's RecursiveCheckpointAdjoint, which stores about sqrt(2 max_steps)
  checkpoints) and adjoint="implicit" (implicit function theorem at the steady state, GMRES on J^T);
- the median of the repeats after one warm-up call (compiled beforehand), `jax.block_until_ready`;
- memory: XLA's compiled memory analysis of each program (`.lower(...).compile()`, the same compiled
  object that is timed): temp bytes (the working memory: checkpoints, solver stages, GMRES Krylov basis),
  plus argument and output bytes; and the process's peak RSS (ru_maxrss) after each configuration, a
  coarse, monotone check (it includes compilation);
- agreement: relative 2-norm difference of the flattened BPTT and implicit gradients; loss values;
- solver: accepted steps and status of every sample (preliminary `retrieve`, same config);
- implicit diagnostics (the implicit backward pass's own linear solve, `_adjoint_solve`, per sample, outside
  the timed program): GMRES iterations, whether lineax reports success at the configured adjoint tolerances,
  and the relative residual ||J^T lambda + g|| / ||g||;
- for the largest N of each model (not with --quick): BPTT's temp memory again at max_steps=20000 (the
  SolverConfig default), compile only, to show how its memory follows the step budget.

Usage:
    python benchmarks/bench_learning.py            # effective N = 32..256, full N = 16..128, 7 repeats
    python benchmarks/bench_learning.py --quick    # effective N = 32, 64; full N = 16, 32; 3 repeats
    python benchmarks/bench_learning.py --out results.json
"""

import argparse
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import lineax as lx
import numpy as np
from _harness import (
    MiB,
    compile_timed,
    environment,
    interleaved,
    loadavg,
    medians,
    memory_analysis,
    peak_rss_mib,
    ratios,
    result_path,
    write_result,
)
from jax.flatten_util import ravel_pytree

import nam
from nam import Status
from nam.dynamics._retrieve import _adjoint_solve
from nam.learning import SymmetricKronecker, build_energy_model, retrieval_loss, tensor_parameter_count

GRID = {"effective": (32, 64, 128, 256), "full": (16, 32, 64, 128)}
QUICK_GRID = {"effective": (32, 64), "full": (16, 32)}
BATCH = 8
FLIP = 0.1
T1 = 100.0
MAX_STEPS = 2000
BIG_MAX_STEPS = 20_000
LX_RESULTS = ("successful", "breakdown", "stagnation", "max_steps_reached", "singular")


def bptt_checkpoints(max_steps: int) -> int:
    """The checkpoint count equinox's checkpointed while loop uses when none is given (O(sqrt(max_steps)))."""
    return 1 if max_steps == 1 else math.floor(-1.5 + math.sqrt(2 * max_steps + 0.25)) + 1


def problem(model: str, n: int):
    k = max(2, n // 10)
    k1, k2, k3 = jr.split(jr.PRNGKey(1000 * n + (model == "full")), 3)
    xi = nam.random_patterns(k1, k, n)
    tensor = SymmetricKronecker.from_patterns(xi, noise=0.1, key=k2)
    mu = jnp.arange(BATCH) % k
    cues = jax.vmap(lambda kk, m: nam.flip_bits(kk, xi[m], FLIP))(jr.split(k3, BATCH), mu)
    return k, tensor, cues, xi[mu]


def config(adjoint: str, max_steps: int = MAX_STEPS):
    return nam.SolverConfig("tsit5", adjoint=adjoint, t1=T1, max_steps=max_steps)


def neuron_x(state):
    return state.x if hasattr(state, "x") else state


def gmres_diagnostics(model, tensor, states, targets, margin):
    """The implicit backward pass's linear solve (`nam.dynamics._retrieve._adjoint_solve`, the one
    `_implicit_bwd` runs), per sample, with its stats, and its relative residual ||J^T lambda + g|| / ||g||."""
    cfg = config("implicit")
    net = build_energy_model(tensor, model=model)
    x_of = lambda s: neuron_x(s)
    # the cotangent of the loss at the steady states (all blocks; zero outside the neurons)
    g = jax.grad(lambda s: jnp.mean(jax.nn.relu(margin - targets * x_of(s))))(states)

    def one(y_star, g1):
        sol = _adjoint_solve(net, y_star, g1, cfg)
        _, vjp_y = jax.vjp(net.vector_field, y_star)  # J^T lambda, for the residual
        rel = ravel_pytree(jax.tree.map(jnp.add, vjp_y(sol.value)[0], g1))[0]
        ref = ravel_pytree(g1)[0]
        code = jnp.argmax(jnp.stack([sol.result == getattr(lx.RESULTS, r) for r in LX_RESULTS] + [True]))
        return sol.stats["num_steps"], code, jnp.linalg.norm(rel) / jnp.maximum(jnp.linalg.norm(ref), 1e-300)

    steps, code, rel = jax.jit(jax.vmap(one))(states, g)
    names = [(LX_RESULTS + ("other",))[int(c)] for c in np.asarray(code)]
    return {
        "gmres_iterations": np.asarray(steps).tolist(),
        "gmres_result": names,
        "gmres_success": [r == "successful" for r in names],
        "cotangent_norm": float(np.linalg.norm(np.asarray(ravel_pytree(g)[0]))),
        "gmres_rel_residual": np.asarray(rel).tolist(),
        "adjoint_rtol": cfg.adjoint_rtol,
        "adjoint_atol": cfg.adjoint_atol,
        "adjoint_max_steps": cfg.adjoint_max_steps,
    }


def bench_config(model, n, reps, big_max_steps):
    k, tensor, cues, targets = problem(model, n)
    state_size = n if model == "effective" else n + 2 * n * n

    # preliminary solve: steps, statuses, and the steady states that set the margin
    net = build_energy_model(tensor, model=model)
    pre = jax.jit(jax.vmap(lambda c: nam.retrieve(net, c, config=config("recursive"))))(cues)
    tx = np.asarray(targets * neuron_x(pre.state))
    margin = float(f"{1.5 * tx.max():.2g}")
    status = np.asarray(pre.status)

    def loss_fn(adjoint, max_steps=MAX_STEPS):
        return lambda t: retrieval_loss(
            t, cues, targets, model=model, kind="hinge", state_margin=margin, config=config(adjoint, max_steps)
        )

    fwd, c_fwd = compile_timed(eqx.filter_jit(loss_fn("recursive")), tensor)
    bptt, c_bptt = compile_timed(eqx.filter_jit(eqx.filter_value_and_grad(loss_fn("recursive"), has_aux=True)), tensor)
    impl, c_impl = compile_timed(eqx.filter_jit(eqx.filter_value_and_grad(loss_fn("implicit"), has_aux=True)), tensor)
    progs = {"forward": fwd, "bptt": bptt, "implicit": impl}

    # warm-up (and the outputs compared below)
    outs = {name: jax.block_until_ready(p(tensor)) for name, p in progs.items()}
    times = interleaved({name: (lambda p=p: p(tensor)) for name, p in progs.items()}, reps, warmup=False)
    med = medians(times)
    over_forward = ratios(med, "forward")

    (l_b, aux_b), g_b = outs["bptt"]
    (l_i, aux_i), g_i = outs["implicit"]
    vb = np.asarray(ravel_pytree(eqx.filter(g_b, eqx.is_array))[0], dtype=np.float64)
    vi = np.asarray(ravel_pytree(eqx.filter(g_i, eqx.is_array))[0], dtype=np.float64)
    nb, ni = float(np.linalg.norm(vb)), float(np.linalg.norm(vi))
    rel_diff = float(np.linalg.norm(vb - vi) / max(nb, ni)) if max(nb, ni) > 0 else 0.0
    cos = float(vb @ vi / (nb * ni)) if nb > 0 and ni > 0 else float("nan")
    steps = np.asarray(pre.num_steps)
    # rough cost of one vector-field evaluation: the forward's time over its 6 tsit5 stages per step
    # (the vmapped while loop runs to the slowest sample)
    vf_eval_s = med["forward"] / (6 * int(steps.max()))
    itemsize = jnp.dtype(cues.dtype).itemsize
    ck = bptt_checkpoints(MAX_STEPS)
    memory = {name: memory_analysis(p) for name, p in progs.items()}

    res = {
        "model": model,
        "n": n,
        "k": k,
        "batch": BATCH,
        "state_size": state_size,
        "parameters": tensor_parameter_count(tensor),
        "state_margin": margin,
        "repeats": reps,
        "times_s": times,
        "median_s": med,
        "bptt_over_forward": over_forward["bptt"],
        "implicit_over_forward": over_forward["implicit"],
        "bptt_over_implicit": ratios(med, "implicit")["bptt"],
        "compile_s": {"forward": c_fwd, "bptt": c_bptt, "implicit": c_impl},
        "memory": memory,
        "loss": {"forward": float(outs["forward"][0]), "bptt": float(l_b), "implicit": float(l_i)},
        "grad_norm": {"bptt": nb, "implicit": ni},
        "grad_rel_diff": rel_diff,
        "grad_rel_diff_definition": "||g_bptt - g_implicit|| / max(||g_bptt||, ||g_implicit||)",
        "grad_cosine": cos,
        "gradient_degenerate": bool(min(nb, ni) <= 1e-3 * max(nb, ni)),
        "vf_eval_s_estimate": vf_eval_s,
        "bptt_backward_in_vf_evals": (med["bptt"] - med["forward"]) / vf_eval_s,
        "implicit_backward_in_vf_evals": (med["implicit"] - med["forward"]) / vf_eval_s,
        "bptt_checkpoints": ck,
        "bptt_temp_per_checkpoint_in_batch_states": memory["bptt"]["temp_bytes"] / (ck * BATCH * state_size * itemsize),
        "solver_steps": steps.tolist(),
        "t_final": np.asarray(pre.t_final).tolist(),
        "status_counts": {s.name: int(np.sum(status == s)) for s in Status if np.any(status == s)},
        "all_converged": bool(
            np.all(status == Status.CONVERGED)
            and np.all(np.asarray(aux_b.status) == Status.CONVERGED)
            and np.all(np.asarray(aux_i.status) == Status.CONVERGED)
        ),
        "implicit_backward": gmres_diagnostics(model, tensor, pre.state, targets, margin),
    }
    if big_max_steps:
        prog, c_big = compile_timed(
            eqx.filter_jit(eqx.filter_value_and_grad(loss_fn("recursive", BIG_MAX_STEPS), has_aux=True)), tensor
        )
        res["bptt_big_max_steps"] = {
            "max_steps": BIG_MAX_STEPS,
            "checkpoints": bptt_checkpoints(BIG_MAX_STEPS),
            "compile_s": c_big,
            "memory": memory_analysis(prog),
        }
        del prog
    res["peak_rss_mib_after"] = peak_rss_mib()
    return res


def _ns(rows):
    return ", ".join(str(r["n"]) for r in rows) or "none"


def where_each_wins(results):
    """Sentences computed from the rows (no fixed conclusions)."""
    lines = []
    for model in dict.fromkeys(r["model"] for r in results):
        rows = [r for r in results if r["model"] == model]
        speed = [r["bptt_over_implicit"] for r in rows]
        mem = [r["memory"]["bptt"]["temp_bytes"] / max(r["memory"]["implicit"]["temp_bytes"], 1) for r in rows]
        impl_fast = [r for r in rows if r["bptt_over_implicit"] > 1.0]
        bptt_fast = [r for r in rows if r["bptt_over_implicit"] <= 1.0]
        impl_small = [r for r, m in zip(rows, mem) if m > 1.0]
        bptt_small = [r for r, m in zip(rows, mem) if m <= 1.0]
        trend = "grows" if speed[-1] > speed[0] else "does not grow"
        lines.append(
            f"{model} model (N = {_ns(rows)}): step time - implicit wins at N = {_ns(impl_fast)}, BPTT at N = "
            f"{_ns(bptt_fast)} (BPTT/implicit {min(speed):.2f}x-{max(speed):.2f}x; the gap {trend} with N; "
            f"BPTT costs {min(r['bptt_over_forward'] for r in rows):.1f}x-{max(r['bptt_over_forward'] for r in rows):.1f}x "
            f"a forward solve, implicit {min(r['implicit_over_forward'] for r in rows):.1f}x-"
            f"{max(r['implicit_over_forward'] for r in rows):.1f}x); temp memory - implicit smaller at N = "
            f"{_ns(impl_small)}, BPTT at N = {_ns(bptt_small)} (BPTT/implicit {min(mem):.1f}x-{max(mem):.1f}x)."
        )
        good = [r for r in rows if not r["gradient_degenerate"]]
        bad = [r for r in rows if r["gradient_degenerate"]]
        if good:
            its = max(max(r["implicit_backward"]["gmres_iterations"]) for r in good)
            # GMRES iterations the implicit backward could afford before matching BPTT's backward (rough:
            # its measured backward cost per GMRES iteration, scaled)
            afford = min(
                r["bptt_backward_in_vf_evals"]
                / max(r["implicit_backward_in_vf_evals"], 1e-9)
                * max(r["implicit_backward"]["gmres_iterations"])
                for r in good
            )
            lines.append(
                f"{model} model: the two gradients agree to {min(r['grad_rel_diff'] for r in good):.1e}-"
                f"{max(r['grad_rel_diff'] for r in good):.1e} (relative) at N = {_ns(good)}; GMRES took at most "
                f"{its} iterations; charging the whole implicit backward cost to those iterations, it could take at "
                f"least ~{afford:.0f} before the implicit backward pass cost as much as BPTT's."
            )
        if bad:
            afford_bad = min(
                r["bptt_backward_in_vf_evals"]
                / max(r["implicit_backward_in_vf_evals"], 1e-9)
                * max(r["implicit_backward"]["gmres_iterations"])
                for r in bad
            )
            lines.append(
                f"{model} model at N = {_ns(bad)}: the gradient w.r.t. the tensor is degenerate (|grad| BPTT "
                f"{max(r['grad_norm']['bptt'] for r in bad):.1e}, implicit "
                f"{max(r['grad_norm']['implicit'] for r in bad):.1e}: the steady state is saturated, so it does not "
                f"depend on T in float32 and BPTT only sees the unconverged transient); the rel. diff there means "
                f"nothing and the implicit GMRES solve is trivially easy ({max(max(r['implicit_backward']['gmres_iterations']) for r in bad)} "
                f"iterations), so its timings are a lower bound; charging its whole backward cost to those iterations, "
                f"GMRES could take at least ~{afford_bad:.0f} before matching BPTT's backward pass."
            )
        big = [r["bptt_big_max_steps"] for r in rows if "bptt_big_max_steps" in r]
        per_ck = [r["bptt_temp_per_checkpoint_in_batch_states"] for r in rows]
        impl_states = [r["memory"]["implicit"]["temp_bytes"] / (r["batch"] * r["state_size"] * 4) for r in rows]
        mem_line = (
            f"{model} model memory: BPTT temp = {min(per_ck):.0f}-{max(per_ck):.0f} batch states per checkpoint x "
            f"{rows[0]['bptt_checkpoints']} checkpoints (max_steps {MAX_STEPS})"
        )
        if big:
            b, r_last = big[-1], rows[-1]
            mem_line += (
                f"; at max_steps {b['max_steps']} ({b['checkpoints']} checkpoints) N = {r_last['n']} needs "
                f"{b['memory']['temp_bytes'] / MiB:.0f} MiB instead of {r_last['memory']['bptt']['temp_bytes'] / MiB:.0f}"
            )
        mem_line += (
            f"; implicit temp = {min(impl_states):.0f}-{max(impl_states):.0f} batch states "
            "(GMRES Krylov basis, restart 50), independent of max_steps."
        )
        lines.append(mem_line)
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="effective N = 32, 64; full N = 16, 32; 3 repeats")
    ap.add_argument("--reps", type=int, default=None, help="timed repeats per configuration")
    ap.add_argument("--out", default=result_path("learning.json"))
    args = ap.parse_args()
    grid = QUICK_GRID if args.quick else GRID
    reps = args.reps or (3 if args.quick else 7)

    env = environment(equinox=eqx.__version__)
    gpu = env["gpu_available"]
    print(
        f"jax {jax.__version__}, equinox {eqx.__version__}, devices: {jax.devices()} (GPU available: {gpu}); "
        f"os.cpu_count() = {env['cpu_count']}; loadavg {loadavg()}"
    )
    print(f"tsit5, t1 = {T1}, max_steps = {MAX_STEPS}, batch {BATCH}, {FLIP:.0%} flipped, float32\n")

    load0 = loadavg()
    t_start = time.perf_counter()
    results = []
    for model, ns in grid.items():
        for n in ns:
            res = bench_config(model, n, reps, big_max_steps=(not args.quick and n == ns[-1]))
            results.append(res)
            med, mem, ib = res["median_s"], res["memory"], res["implicit_backward"]
            print(
                f"  {model} N={n} (K={res['k']}): fwd {med['forward'] * 1e3:.1f} ms, BPTT {med['bptt'] * 1e3:.1f} ms, implicit "
                f"{med['implicit'] * 1e3:.1f} ms; temp MiB fwd {mem['forward']['temp_bytes'] / MiB:.2f}, BPTT "
                f"{mem['bptt']['temp_bytes'] / MiB:.2f}, implicit {mem['implicit']['temp_bytes'] / MiB:.2f}; "
                f"grad rel diff {res['grad_rel_diff']:.2e}; steps {min(res['solver_steps'])}-"
                f"{max(res['solver_steps'])}, {res['status_counts']}; GMRES its "
                f"{min(ib['gmres_iterations'])}-{max(ib['gmres_iterations'])}, {sorted(set(ib['gmres_result']))}, rel resid <= {max(ib['gmres_rel_residual']):.1e}; "
                f"compile s {res['compile_s']['forward']:.1f}/{res['compile_s']['bptt']:.1f}/"
                f"{res['compile_s']['implicit']:.1f}; RSS {res['peak_rss_mib_after']:.0f} MiB",
                flush=True,
            )
            if "bptt_big_max_steps" in res:
                b = res["bptt_big_max_steps"]
                print(
                    f"    BPTT temp at max_steps={b['max_steps']}: {b['memory']['temp_bytes'] / MiB:.2f} MiB "
                    f"(vs {mem['bptt']['temp_bytes'] / MiB:.2f} at {MAX_STEPS})",
                    flush=True,
                )
    wall = time.perf_counter() - t_start

    print(
        "\n| model | N | state size | forward ms | BPTT grad ms (x fwd) | implicit grad ms (x fwd) | "
        "fwd temp MiB | BPTT temp MiB | implicit temp MiB | abs(grad) BPTT / implicit | grad rel. diff | "
        "solver steps | GMRES its |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        med, mem, ib = r["median_s"], r["memory"], r["implicit_backward"]
        conv = "" if r["all_converged"] else " (NOT all converged)"
        print(
            f"| {r['model']} | {r['n']} | {r['state_size']} | {med['forward'] * 1e3:.1f} | "
            f"{med['bptt'] * 1e3:.1f} ({r['bptt_over_forward']:.1f}x) | "
            f"{med['implicit'] * 1e3:.1f} ({r['implicit_over_forward']:.1f}x) | "
            f"{mem['forward']['temp_bytes'] / MiB:.2f} | {mem['bptt']['temp_bytes'] / MiB:.2f} | "
            f"{mem['implicit']['temp_bytes'] / MiB:.2f} | {r['grad_norm']['bptt']:.2g} / "
            f"{r['grad_norm']['implicit']:.2g} | {r['grad_rel_diff']:.1e}{' (degenerate)' if r['gradient_degenerate'] else ''} | "
            f"{min(r['solver_steps'])}-{max(r['solver_steps'])}{conv} | "
            f"{min(ib['gmres_iterations'])}-{max(ib['gmres_iterations'])} |"
        )
    print("\nWhere each method wins:")
    wins = where_each_wins(results)
    for line in wins:
        print(f"- {line}")
    all_conv = all(r["all_converged"] for r in results)
    gmres_ok = all(all(r["implicit_backward"]["gmres_success"]) for r in results)
    gmres_results = sorted({x for r in results for x in r["implicit_backward"]["gmres_result"]})
    worst_resid = max(max(r["implicit_backward"]["gmres_rel_residual"]) for r in results)
    print(
        f"\nall samples converged: {all_conv}; GMRES (adjoint_rtol 1e-8) results seen: {gmres_results}, largest "
        f"relative residual ||J^T lambda + g|| / ||g|| = {worst_resid:.1e}"
    )
    print(
        f"peak resident memory (ru_maxrss): {peak_rss_mib():.0f} MiB; wall {wall:.0f} s; loadavg start {load0}, "
        f"end {loadavg()}; GPU available: {gpu}"
    )

    out = {
        "env": {**env, "loadavg_start_end": [load0, loadavg()]},
        "method": {
            "solver": "tsit5",
            "t1": T1,
            "max_steps": MAX_STEPS,
            "batch": BATCH,
            "flip_fraction": FLIP,
            "dtype": "float32",
            "loss": "retrieval_loss kind='hinge', state_margin = 1.5 x max target*x* (every hinge term active)",
            "tensor": "SymmetricKronecker.from_patterns(xi, noise=0.1), form 'outer'",
            "k": "max(2, N // 10)",
            "timing": "compiled once (lower().compile()), one warm-up call, interleaved forward/BPTT/"
            "implicit, median of repeats, block_until_ready",
            "memory": "XLA compiled memory_analysis of the same compiled programs; ru_maxrss coarse",
            "statistic": "median",
            "repeats": reps,
            "quick": args.quick,
        },
        "results": results,
        "where_each_wins": wins,
        "all_converged": all_conv,
        "gmres_success_everywhere": gmres_ok,
        "gmres_results_seen": gmres_results,
        "gmres_worst_rel_residual": worst_resid,
        "peak_rss_mib": peak_rss_mib(),
        "total_wall_s": wall,
    }
    write_result(args.out, out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
