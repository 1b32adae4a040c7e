#!/usr/bin/env python
"""Benchmark: nam's neuron-astrocyte network against a PyTorch Euler loop (the authors' tutorial style).

Equations (Kozachkov, Slotine & Krotov 2023, eq. 6, tutorial setting: all activations tanh(5 z),
tau = 1, no leaks other than the unit ones, T = (1/N^3) sum_mu xi_mu xi_mu xi_mu xi_mu):

    dx/dt = -x + g(S) @ phi(x)
    dS/dt = -S + outer(phi, phi) + psi(P)
    dP/dt = -P + (1/N^3) sum_mu xi_mu xi_mu^T (xi_mu^T psi xi_mu) + g(S)

integrated by forward Euler, dt = 0.05, 1000 steps, from nam's `NeuronAstrocyte.init_state(cue)`
(x0 = cue, psi0 = -phi0 phi0^T, g0 = -T(psi0), P0 = atanh(psi0)/5, S0 = atanh(g0)/5).

Sections:
  1. full model, one cue: nam.retrieve vs a Python-loop eager torch Euler integrator;
  2. full model, a batch of cues: nam.retrieve_batch vs the torch loop run cue after cue, and vs a
     batched torch integrator (leading batch axis, bmm);
  3. achieved GFLOP/s of nam (analytic FLOP count) against this machine's jitted float32 matmul rate;
  4. the effective (fast-glia, quartic DAM) model: adaptive Tsit5 + steady-state stop against the
     fixed 1000-step Euler descent, at equal final accuracy.

Usage:
    python benchmarks/bench_neuron_astrocyte.py            # full run (N = 100 and 500, batch 64)
    python benchmarks/bench_neuron_astrocyte.py --quick    # N = 100 only, batch 8, fewer repeats
    python benchmarks/bench_neuron_astrocyte.py --out results.json

The torch rows are skipped (with a message) if torch cannot be imported. Timings are medians of
repeats; the nam and torch measurements of one row are interleaved, so the ratios in a row see the
same machine load.

Peer threading: torch runs with `--torch-threads` (default: all cores, as JAX's CPU backend) and, unless
the caller set it, OMP_WAIT_POLICY=PASSIVE. On a shared machine where another process holds a core,
torch's default OpenMP spin-wait makes each multi-threaded op wait milliseconds at its barrier (the
N=100 loop measured ~100x slower), which would flatter nam; passive waiting removes that. The single-cue
loop is also timed with 1 thread, and the faster of the two settings is the headline torch number.
"""

import argparse
import os
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from _harness import environment, interleaved, loadavg, medians, result_path, write_result

import nam

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see the module docstring (must precede torch import)

try:
    import torch

    TORCH_ERROR = None
except Exception as e:  # pragma: no cover - depends on the environment
    torch = None
    TORCH_ERROR = f"{type(e).__name__}: {e}"

BETA = 5.0  # tanh(5 z) for neurons, synapses and processes
DT = 0.05
STEPS = 1000
K = 10
FLIP = 0.1

TARGET_SINGLE = 20.0  # issue: >= 20x single-cue speed vs the torch loop at N = 500
TARGET_BATCH = 50.0  # issue: >= 50x throughput with a batch


# ---------------------------------------------------------------------------------------------- timing
# The sections time with `interleaved(..., warmup=False)`: each compiles and runs its programs once before
# timing them (a batch at N=500 is too slow to run once more untimed).


def _fmt_ms(s):
    return f"{1e3 * s:.1f} ms" if s < 10 else f"{s:.2f} s"


# ---------------------------------------------------------------------------------------------- set-up


def make_problem(n, k, batch, seed=0):
    """K memories, one cue (memory 0 with 10% of its bits flipped) and `batch` cues (memory i mod K)."""
    key = jax.random.PRNGKey(seed)
    kp, kc, kb = jax.random.split(key, 3)
    xi = nam.random_patterns(kp, k, n)
    cue = nam.flip_bits(kc, xi[0], FLIP)
    targets = xi[jnp.arange(batch) % k]
    cues = jax.vmap(lambda kk, p: nam.flip_bits(kk, p, FLIP))(jax.random.split(kb, batch), targets)
    return xi, cue, cues, targets


def warm_config(cfg):
    """Same static structure as `cfg` (so the same compiled program), but t1 = one step: compiles
    `nam.retrieve` without paying for a full 1000-step trajectory (t1 is an array, not static)."""
    return eqx.tree_at(lambda c: c.t1, cfg, jnp.asarray(DT, jnp.float32))


def exact_fraction(patterns, targets):
    return float(jnp.mean(jnp.all(patterns == targets, axis=-1)))


# ---------------------------------------------------------------------------------------------- torch peer
# Forward Euler of eq. 6 in the authors' tutorial style: a Python for-loop over the steps, eager torch
# ops, float32. The Hebbian contraction sum_kl T_ijkl psi_kl goes through the K patterns in O(K N^2)
# (q_mu = xi_mu^T psi xi_mu; T psi = (1/N^3) Xi^T diag(q) Xi), never through an N^4 tensor or a
# 5-index einsum. Updates are in place to avoid allocations.


def torch_init(cue, xi):
    """nam's `NeuronAstrocyte.init_state` written in torch: psi0 = -phi phi^T, g0 = -T(psi0)."""
    n = cue.shape[-1]
    eps = torch.finfo(cue.dtype).eps
    phi = torch.tanh(BETA * cue)
    psi0 = -torch.outer(phi, phi)
    q = ((xi @ psi0) * xi).sum(1)
    g0 = -((xi.T * q) @ xi) / n**3
    p0 = torch.atanh(psi0.clamp(-1 + eps, 1 - eps)) / BETA
    s0 = torch.atanh(g0.clamp(-1 + eps, 1 - eps)) / BETA
    return cue.clone(), s0, p0


def torch_euler(x, s, p, xi, steps=STEPS, dt=DT):
    """One trajectory. x (N,), s and p (N, N); modified in place and returned."""
    n = x.shape[-1]
    scale = 1.0 / n**3
    xi_t = xi.T.contiguous()
    for _ in range(steps):
        phi = torch.tanh(BETA * x)
        g = torch.tanh(BETA * s)
        psi = torch.tanh(BETA * p)
        q = ((xi @ psi) * xi).sum(1)  # (K,)
        tpsi = (xi_t * q) @ xi  # (N, N), times scale below
        dx = torch.mv(g, phi).sub_(x)
        ds = torch.outer(phi, phi).add_(psi).sub_(s)
        dp = tpsi.mul_(scale).add_(g).sub_(p)
        x.add_(dx, alpha=dt)
        s.add_(ds, alpha=dt)
        p.add_(dp, alpha=dt)
    return x, s, p


def torch_retrieve(cue, xi):
    x, s, p = torch_euler(*torch_init(cue, xi), xi)
    return torch.where(torch.tanh(BETA * x) >= 0, 1.0, -1.0), x


def torch_retrieve_sequential(cues, xi):
    """The tutorial style for many cues: one trajectory after another."""
    return torch.stack([torch_retrieve(c, xi)[0] for c in cues])


def torch_init_batched(cues, xi):
    n = cues.shape[-1]
    eps = torch.finfo(cues.dtype).eps
    phi = torch.tanh(BETA * cues)
    psi0 = -(phi[:, :, None] * phi[:, None, :])
    q = ((xi @ psi0) * xi).sum(-1)  # (B, K)
    g0 = -((xi.T * q[:, None, :]) @ xi) / n**3
    p0 = torch.atanh(psi0.clamp(-1 + eps, 1 - eps)) / BETA
    s0 = torch.atanh(g0.clamp(-1 + eps, 1 - eps)) / BETA
    return cues.clone(), s0, p0


def torch_euler_batched(x, s, p, xi, steps=STEPS, dt=DT):
    """B trajectories at once: x (B, N), s and p (B, N, N); batched matmuls."""
    n = x.shape[-1]
    scale = 1.0 / n**3
    xi_t = xi.T.contiguous()
    for _ in range(steps):
        phi = torch.tanh(BETA * x)
        g = torch.tanh(BETA * s)
        psi = torch.tanh(BETA * p)
        q = ((xi @ psi) * xi).sum(-1)  # (B, K)
        tpsi = (xi_t * q[:, None, :]) @ xi  # (B, N, N)
        dx = torch.bmm(g, phi[:, :, None]).squeeze(-1).sub_(x)
        ds = (phi[:, :, None] * phi[:, None, :]).add_(psi).sub_(s)
        dp = tpsi.mul_(scale).add_(g).sub_(p)
        x.add_(dx, alpha=dt)
        s.add_(ds, alpha=dt)
        p.add_(dp, alpha=dt)
    return x, s, p


def torch_retrieve_batched(cues, xi, steps=STEPS):
    x, _, _ = torch_euler_batched(*torch_init_batched(cues, xi), xi, steps)
    return torch.where(torch.tanh(BETA * x) >= 0, 1.0, -1.0)


def with_threads(nt, fn):
    """`fn` run with torch.set_num_threads(nt), restoring the previous setting."""

    def run():
        old = torch.get_num_threads()
        torch.set_num_threads(nt)
        try:
            return fn()
        finally:
            torch.set_num_threads(old)

    return run


def _t(a):
    return torch.from_numpy(np.array(a, dtype=np.float32))


# ---------------------------------------------------------------------------------------------- checks


def agreement_check(n=100, seed=0):
    """nam vs torch on the same cue and the same initial state (nam's init_state), and torch's own init."""
    xi, cue, cues, targets = make_problem(n, K, 4, seed)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    cfg = nam.SolverConfig.fixed_euler(DT, STEPS)
    r = nam.retrieve(model, cue, config=cfg)
    st0 = model.init_state(cue)
    out = {"n": n}
    with torch.no_grad():
        txi = _t(xi)
        # the torch init against nam's
        tx0, ts0, tp0 = torch_init(_t(cue), txi)
        out["init_max_abs_diff_S0"] = float(np.max(np.abs(ts0.numpy() - np.asarray(st0.s))))
        out["init_max_abs_diff_P0"] = float(np.max(np.abs(tp0.numpy() - np.asarray(st0.p))))
        # the same initial state (nam's, copied) through the torch loop
        x, s, p = torch_euler(_t(st0.x), _t(st0.s), _t(st0.p), txi)
        pat = np.where(np.tanh(BETA * x.numpy()) >= 0, 1.0, -1.0)
        out["same_pattern"] = bool(np.array_equal(pat, np.asarray(r.pattern)))
        out["max_abs_diff_x"] = float(np.max(np.abs(x.numpy() - np.asarray(r.state.x))))
        out["max_abs_x"] = float(np.max(np.abs(np.asarray(r.state.x))))
        out["max_abs_diff_S"] = float(np.max(np.abs(s.numpy() - np.asarray(r.state.s))))
        out["max_abs_diff_P"] = float(np.max(np.abs(p.numpy() - np.asarray(r.state.p))))
        # torch's own init, end to end
        tpat, _ = torch_retrieve(_t(cue), txi)
        out["same_pattern_own_init"] = bool(np.array_equal(tpat.numpy(), np.asarray(r.pattern)))
        out["retrieved_memory"] = bool(np.array_equal(np.asarray(r.pattern), np.asarray(xi[0])))
        # batched torch vs sequential torch vs nam batch
        rb = nam.retrieve_batch(model, cues, config=cfg)
        tb = torch_retrieve_batched(_t(cues), txi).numpy()
        ts = torch_retrieve_sequential(_t(cues), txi).numpy()
        out["batched_eq_sequential"] = bool(np.array_equal(tb, ts))
        out["batched_eq_nam_batch"] = bool(np.array_equal(tb, np.asarray(rb.pattern)))
    out["ok"] = (
        out["same_pattern"]
        and out["same_pattern_own_init"]
        and out["batched_eq_sequential"]
        and out["batched_eq_nam_batch"]
        and out["max_abs_diff_x"] <= 1e-3 * max(1.0, out["max_abs_x"])
    )
    return out


# ---------------------------------------------------------------------------------------------- FLOPs


def flops_per_step(n, k):
    """FLOPs of one Euler step of the full model with a Hebbian T, counted analytically:

    matmuls: xi @ psi                       2 K N^2
             (xi^T * q) @ xi                 2 K N^2   (the outer-product sum over the K memories)
             g @ phi                         2 N^2
    elementwise (N^2 each, counting tanh as 1 FLOP, which undercounts it by ~10-20x on a CPU):
             5*S, tanh, 5*P, tanh            4
             outer(phi, phi)                 1
             -S + outer + psi                2
             scale*Tpsi + g - P              3
             divide by tau (S, P blocks)     2
             y + dt * f (S, P blocks)        4
             => c = 16
    lower order (O(K N), O(N)) terms are dropped.  Total: (4K + 2 + 16) N^2 = (4K + 18) N^2.
    """
    return (4 * k + 2 + 16) * n * n


def matmul_rate(repeats):
    a = jax.random.normal(jax.random.PRNGKey(1), (1024, 1024), jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(2), (1024, 1024), jnp.float32)
    f = jax.jit(jnp.dot)
    t = medians(interleaved({"mm": lambda: f(a, b)}, repeats))["mm"]
    return 2 * 1024**3 / t / 1e9, t


# ---------------------------------------------------------------------------------------------- sections


def bench_full(n, batch, reps, seed=0):
    """Sections 1-2 at one N. `reps`: dict of repeat counts."""
    xi, cue, cues, targets = make_problem(n, K, batch, seed)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    cfg = nam.SolverConfig.fixed_euler(DT, STEPS)
    wcfg = warm_config(cfg)

    t0 = time.perf_counter()
    jax.block_until_ready(nam.retrieve(model, cue, config=wcfg))
    compile_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(nam.retrieve_batch(model, cues, config=wcfg))
    compile_batch = time.perf_counter() - t0

    res = {
        "n": n,
        "k": K,
        "batch": batch,
        "steps": STEPS,
        "dt": DT,
        "nam_compile_single_s": compile_single,
        "nam_compile_batch_s": compile_batch,
    }

    def nam_single():
        return jax.block_until_ready(nam.retrieve(model, cue, config=cfg))

    last = {}  # results of the timed calls (a batch at N=500 is too slow to run once more untimed)

    def nam_batch():
        last["nam_batch"] = jax.block_until_ready(nam.retrieve_batch(model, cues, config=cfg))

    r1 = nam_single()
    res["nam_single_retrieved"] = bool(jnp.all(r1.pattern == xi[0]))

    if torch is None:
        ts = interleaved({"nam": nam_single}, reps["nam_single"], warmup=False)
        res["nam_single_s"] = medians(ts)["nam"]
        tb = interleaved({"nam": nam_batch}, reps["nam_batch"], warmup=False)
        res["nam_batch_s"] = medians(tb)["nam"]
        res["nam_batch_traj_per_s"] = batch / res["nam_batch_s"]
        res["nam_batch_exact_fraction"] = exact_fraction(last["nam_batch"].pattern, targets)
        return res

    txi, tcue, tcues = _t(xi), _t(cue), _t(cues)
    with torch.no_grad():
        torch_retrieve(tcue, txi)  # warm-up (allocator, MKL)

        def torch_single():
            return torch_retrieve(tcue, txi)

        def torch_seq():
            return torch_retrieve_sequential(tcues, txi)

        bsteps = reps.get("torch_batched_steps", STEPS)

        def torch_bat():
            last["torch_batched"] = torch_retrieve_batched(tcues, txi, bsteps)

        nt = torch.get_num_threads()
        fns = {"nam": nam_single, "torch": torch_single}
        rp = {"nam": reps["nam_single"], "torch": reps["torch_single"]}
        if nt != 1:
            fns["torch_1t"] = with_threads(1, torch_single)
            rp["torch_1t"] = reps["torch_single"]
        ts = interleaved(fns, rp, warmup=False)
        med = medians(ts)
        res["nam_single_s"] = med["nam"]
        res["nam_single_all_s"] = ts["nam"]
        res[f"torch_single_{nt}t_s"] = med["torch"]
        res[f"torch_single_{nt}t_all_s"] = ts["torch"]
        best_nt, best = nt, med["torch"]
        if nt != 1:
            res["torch_single_1t_s"] = med["torch_1t"]
            res["torch_single_1t_all_s"] = ts["torch_1t"]
            if res["torch_single_1t_s"] < best:
                best_nt, best = 1, res["torch_single_1t_s"]
        res["torch_single_s"] = best
        res["torch_single_threads"] = best_nt  # the faster setting; the loop over cues uses it too
        torch_seq = with_threads(best_nt, torch_seq)

        fns = {"nam": nam_batch, "torch_batched": torch_bat}
        rp = {"nam": reps["nam_batch"], "torch_batched": reps["torch_batched"]}
        if reps["torch_seq"] > 0:
            fns["torch_seq"] = torch_seq
            rp["torch_seq"] = reps["torch_seq"]
        tb = interleaved(fns, rp, warmup=False)
        med = medians(tb)
        res["nam_batch_s"] = med["nam"]
        # per-step cost is constant (fixed steps, no early stop): a truncated run scales exactly
        res["torch_batched_s"] = med["torch_batched"] * STEPS / bsteps
        res["torch_batched_steps_timed"] = bsteps
        res["nam_batch_all_s"] = tb["nam"]
        res["torch_batched_all_s"] = tb["torch_batched"]
        if reps["torch_seq"] > 0:
            res["torch_seq_s"] = med["torch_seq"]
            res["torch_seq_estimated"] = False
        else:
            res["torch_seq_s"] = batch * res["torch_single_s"]
            res["torch_seq_estimated"] = True
        res["nam_batch_exact_fraction"] = exact_fraction(last["nam_batch"].pattern, targets)
        if bsteps == STEPS:
            res["torch_batched_exact_fraction"] = exact_fraction(jnp.asarray(last["torch_batched"].numpy()), targets)

    res["nam_batch_traj_per_s"] = batch / res["nam_batch_s"]
    res["nam_single_rate_traj_per_s"] = 1.0 / res["nam_single_s"]  # nam.retrieve called cue after cue
    res["torch_seq_traj_per_s"] = batch / res["torch_seq_s"]
    res["torch_batched_traj_per_s"] = batch / res["torch_batched_s"]
    res["speedup_single"] = res["torch_single_s"] / res["nam_single_s"]
    res["speedup_batch_vs_torch_seq"] = res["nam_batch_traj_per_s"] / res["torch_seq_traj_per_s"]
    res["speedup_batch_vs_torch_batched"] = res["nam_batch_traj_per_s"] / res["torch_batched_traj_per_s"]
    # nam batch throughput against the torch loop's single-trajectory rate (the "with a batch")
    res["nam_batch_vs_torch_single_rate"] = res["nam_batch_traj_per_s"] * res["torch_single_s"]
    return res


def bench_effective(n, k, batch, reps, seed=0):
    """Section 4: the effective model, adaptive Tsit5 + steady-state stop vs fixed 1000-step Euler."""
    xi, _, cues, targets = make_problem(n, k, batch, seed)
    model = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi))
    cfgs = {
        "tsit5_adaptive_steady": nam.SolverConfig("tsit5"),
        "euler_fixed_1000": nam.SolverConfig.fixed_euler(DT, STEPS),
    }
    fns, out = {}, {"n": n, "k": k, "batch": batch}
    for name, cfg in cfgs.items():
        r = jax.block_until_ready(nam.retrieve_batch(model, cues, config=cfg))  # compile + first run
        steps = np.asarray(r.num_steps)
        status = np.asarray(r.status)
        out[name] = {
            "mean_steps": float(steps.mean()),
            "max_steps": int(steps.max()),
            "mean_t_final": float(np.asarray(r.t_final).mean()),
            "exact_fraction": exact_fraction(r.pattern, targets),
            "status_counts": {nam.Status(int(s)).name: int((status == s).sum()) for s in np.unique(status)},
        }
        fns[name] = lambda cfg=cfg: jax.block_until_ready(nam.retrieve_batch(model, cues, config=cfg))
    for name, t in medians(interleaved(fns, reps, warmup=False)).items():
        out[name]["batch_s"] = t
    out["speedup_adaptive_vs_fixed"] = out["euler_fixed_1000"]["batch_s"] / out["tsit5_adaptive_steady"]["batch_s"]
    return out


# ---------------------------------------------------------------------------------------------- report


def report(results):
    lines = []
    env = results["env"]
    lines.append(
        f"## nam NeuronAstrocyte vs PyTorch Euler loop  ({env['cpu_count']} CPU cores, "
        f"jax {env['jax']}, torch {env.get('torch') or 'n/a'}, torch threads {env.get('torch_threads')})"
    )
    lines.append("")
    lines.append(
        f"Euler dt={DT}, {STEPS} steps, K={K}, cue = memory with {int(FLIP * 100)}% bits flipped. "
        "Single cue: time per trajectory; batch: trajectories/s. Speed-up = nam / torch."
    )
    lines.append("")
    chk = results.get("agreement")
    if chk is not None:
        lines.append(
            f"Agreement at N={chk['n']} (same cue, same initial state): same read-out pattern "
            f"{chk['same_pattern']}, max|x_nam - x_torch| = {chk['max_abs_diff_x']:.2e} "
            f"(max|x| = {chk['max_abs_x']:.2f}), max|dS| = {chk['max_abs_diff_S']:.2e}, "
            f"max|dP| = {chk['max_abs_diff_P']:.2e}; torch init vs nam init: "
            f"max|dS0| = {chk['init_max_abs_diff_S0']:.2e}, max|dP0| = {chk['init_max_abs_diff_P0']:.2e}; "
            f"torch own-init pattern equal {chk['same_pattern_own_init']}; torch batched == torch "
            f"sequential {chk['batched_eq_sequential']}; == nam batch {chk['batched_eq_nam_batch']}. "
            f"=> {'OK' if chk['ok'] else 'MISMATCH'}"
        )
        lines.append("")
    elif results.get("torch_skipped"):
        lines.append(f"**torch rows skipped**: {results['torch_skipped']}")
        lines.append("")

    lines.append("| N | measurement | nam | torch loop | torch batched | nam / torch loop | nam / torch batched |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in results["full"]:
        n = r["n"]
        if "torch_single_s" in r:
            alt = "; ".join(
                f"{k.split('_')[2]}: {_fmt_ms(v)}"
                for k, v in r.items()
                if k.startswith("torch_single_") and k.endswith("t_s")
            )
            lines.append(
                f"| {n} | single cue, time/trajectory | {_fmt_ms(r['nam_single_s'])} | "
                f"{_fmt_ms(r['torch_single_s'])} (best of {alt}) | - | "
                f"**{r['speedup_single']:.1f}x** | - |"
            )
            best = (
                f" (est. from {r['torch_batched_steps_timed']} steps x {STEPS // r['torch_batched_steps_timed']})"
                if r["torch_batched_steps_timed"] != STEPS
                else ""
            )
            est = (" (est. = B x single)" if r["torch_seq_estimated"] else "") + f" [{r['torch_single_threads']}t]"
            lines.append(
                f"| {n} | batch {r['batch']}, trajectories/s | {r['nam_batch_traj_per_s']:.1f} | "
                f"{r['torch_seq_traj_per_s']:.2f}{est} | {r['torch_batched_traj_per_s']:.2f}{best} | "
                f"**{r['speedup_batch_vs_torch_seq']:.1f}x** | "
                f"**{r['speedup_batch_vs_torch_batched']:.1f}x** |"
            )
        else:
            lines.append(f"| {n} | single cue, time/trajectory | {_fmt_ms(r['nam_single_s'])} | skipped | - | - | - |")
            lines.append(
                f"| {n} | batch {r['batch']}, trajectories/s | {r['nam_batch_traj_per_s']:.1f} | "
                "skipped | skipped | - | - |"
            )
    lines.append("")
    for r in results["full"]:
        lines.append(
            f"N={r['n']}: nam retrieved memory (single) {r['nam_single_retrieved']}; batch exact-retrieval "
            f"fraction nam {r['nam_batch_exact_fraction']:.2f}"
            + (
                f", torch batched {r['torch_batched_exact_fraction']:.2f}"
                if "torch_batched_exact_fraction" in r
                else ""
            )
            + f"; nam compile {r['nam_compile_single_s']:.1f} s (single), "
            f"{r['nam_compile_batch_s']:.1f} s (batch), not in the timings; nam.retrieve called cue "
            f"after cue would give {1 / r['nam_single_s']:.1f} trajectories/s."
        )
    lines.append("")

    tg = results.get("targets")
    if tg:
        lines.append(
            "Targets (issue): "
            + "; ".join(
                f"{k}: {v['value']:.1f}x vs >= {v['target']:.0f}x -> {'MET' if v['met'] else 'NOT met'}"
                for k, v in tg.items()
            )
        )
        lines.append("")

    f = results["flops"]
    lines.append(
        f"### FLOP rate (Euler step = (4K + 18) N^2 FLOPs, tanh counted as 1 FLOP)  -- "
        f"jitted 1024^2 f32 matmul: {f['matmul_gflops']:.1f} GFLOP/s"
    )
    lines.append("")
    lines.append("| N | mode | FLOPs/step | nam GFLOP/s | fraction of matmul rate |")
    lines.append("|---|---|---|---|---|")
    for row in f["rows"]:
        lines.append(
            f"| {row['n']} | {row['mode']} | {row['flops_per_step']:.3g} | {row['gflops']:.2f} | "
            f"{100 * row['fraction_of_matmul']:.1f}% |"
        )
    lines.append("")

    lines.append(
        "### Effective model (quartic DAM, tanh(5x)): adaptive Tsit5 + steady-state stop vs fixed "
        f"{STEPS}-step Euler dt={DT}, batch of cues via nam.retrieve_batch"
    )
    lines.append("")
    lines.append(
        "| N | K | batch | solver | wall/batch | mean steps (max) | exact retrieval | status | speed-up adaptive |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in results["effective"]:
        for name in ("tsit5_adaptive_steady", "euler_fixed_1000"):
            e = r[name]
            sp = f"**{r['speedup_adaptive_vs_fixed']:.1f}x**" if name == "tsit5_adaptive_steady" else ""
            st = ", ".join(f"{k} {v}" for k, v in e["status_counts"].items())
            lines.append(
                f"| {r['n']} | {r['k']} | {r['batch']} | {name} | {_fmt_ms(e['batch_s'])} | "
                f"{e['mean_steps']:.0f} ({e['max_steps']}) | {e['exact_fraction']:.2f} | {st} | {sp} |"
            )
    lines.append("")
    lines.append(
        f"load average before/after: {env['loadavg_start']} / {env['loadavg_end']}; "
        f"total wall {results['total_wall_s']:.0f} s"
    )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N=100 only, batch 8, fewer repeats")
    ap.add_argument("--out", default=result_path("neuron_astrocyte.json"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--torch-threads", type=int, default=None, help="torch threads (default: all cores)")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    ncpu = os.cpu_count() or 1
    # "jax_backend": the key of earlier neuron_astrocyte.json files
    env = environment(jax_backend=jax.default_backend(), loadavg_start=loadavg(), quick=args.quick)
    results = {"env": env}
    if torch is None:
        msg = f"torch is not importable ({TORCH_ERROR}); install the peer with `pip install torch==2.13.0`"
        print(f"[bench] skipping the torch rows: {msg}", file=sys.stderr)
        results["torch_skipped"] = msg
    else:
        torch.set_num_threads(args.torch_threads or ncpu)  # default: the cores JAX's CPU backend uses
        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY")

    if args.quick:
        sizes, batch = [100], 8
        reps = {100: dict(nam_single=5, torch_single=2, nam_batch=3, torch_seq=1, torch_batched=2)}
        eff = [(100, K)]
        eff_reps = 3
    else:
        sizes, batch = [100, 500], 64
        reps = {
            100: dict(nam_single=15, torch_single=5, nam_batch=5, torch_seq=1, torch_batched=3),
            # N=500: the sequential torch loop over 64 cues is estimated as 64 x the single-cue time
            500: dict(nam_single=5, torch_single=3, nam_batch=2, torch_seq=0, torch_batched=1, torch_batched_steps=200),
        }  # batched torch timed over 200 steps, scaled x5
        eff = [(100, K), (500, K), (100, 100 * 100 // 50)]
        eff_reps = 5

    if torch is not None:
        print("[bench] agreement check at N=100 ...", file=sys.stderr)
        results["agreement"] = agreement_check(100, args.seed)
        print(f"[bench]   {results['agreement']}", file=sys.stderr)

    results["full"] = []
    for n in sizes:
        print(f"[bench] full model N={n} ...", file=sys.stderr)
        results["full"].append(bench_full(n, batch, reps[n], args.seed))

    targets = {}
    big = [r for r in results["full"] if r["n"] == max(sizes) and "speedup_single" in r]
    if big:
        r = big[0]
        tag = f"N={r['n']}"
        targets[f"single cue vs torch loop ({tag})"] = dict(value=r["speedup_single"], target=TARGET_SINGLE)
        targets[f"batch throughput vs torch loop ({tag})"] = dict(
            value=r["speedup_batch_vs_torch_seq"], target=TARGET_BATCH
        )
        targets[f"batch throughput vs torch batched ({tag})"] = dict(
            value=r["speedup_batch_vs_torch_batched"], target=TARGET_BATCH
        )
        for v in targets.values():
            v["met"] = v["value"] >= v["target"]
    results["targets"] = targets

    print("[bench] matmul rate ...", file=sys.stderr)
    gf, mm_s = matmul_rate(10 if args.quick else 30)
    rows = []
    for r in results["full"]:
        fps = flops_per_step(r["n"], K)
        for mode, secs, count in (
            ("single", r["nam_single_s"], 1),
            (f"batch {r['batch']}", r["nam_batch_s"], r["batch"]),
        ):
            g = fps * STEPS * count / secs / 1e9
            rows.append(dict(n=r["n"], mode=mode, flops_per_step=fps, gflops=g, fraction_of_matmul=g / gf))
    results["flops"] = {
        "matmul_gflops": gf,
        "matmul_1024_s": mm_s,
        "rows": rows,
        "count": "per Euler step: 4 K N^2 (two Hebbian matmuls) + 2 N^2 (g @ phi) + 16 N^2 elementwise (tanh = 1 FLOP)",
    }

    results["effective"] = []
    for n, k in eff:
        print(f"[bench] effective model N={n} K={k} ...", file=sys.stderr)
        results["effective"].append(bench_effective(n, k, batch, eff_reps, args.seed))

    env["loadavg_end"] = loadavg()
    results["total_wall_s"] = time.perf_counter() - t_start
    text = report(results)
    print(text)
    write_result(args.out, results)
    print(f"\n[bench] wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
