#!/usr/bin/env python
"""Measurement: the full neuron-synapse-astrocyte network (Kozachkov, Slotine & Krotov, eq. 6) against its
fast-glia reduction (eqs. 7-11). Numbers for docs/full-network.md, written to
benchmarks/results/full_network_regimes.json.

Three parts:

1. `stability` (float64, seconds): at zero leak (alpha = gamma = 0, lambda = 1, tanh(5 z) everywhere, T of
   eq. 10 over N^3, K = 2), a fixed point x* of the effective model reached from a memory with 12.5% of its
   bits flipped, lifted to the full state `init_state(x*)` (psi = -phi phi^T, g = T(phi phi^T)): the full
   vector field there, and the spectra of both Jacobians (`nam.jacobian_spectrum`, on all entries and on
   symmetric s, p), next to the number of negative eigenvalues of the energy's Hessian (eqs. 13-14).
2. `lock_in` (float64, seconds): default leaks (alpha = gamma = 1), N = 16. From a cue (K = 4): the mean
   |g - sign(phi phi^T)| and |psi - sign(phi phi^T)| along the way. From 16 random +-1 states with the glia
   at their locked values (s = 2 sigma sigma^T, p = sigma sigma^T; K = 20): how many the full network keeps,
   against the effective model started at the same states.
3. `regimes` (float32, minutes): K* -- the load at which half of the cues are retrieved exactly -- of the
   integrated full network for leaks alpha = gamma in {1, 0.3, 0.1, 0}, glial time constants
   tau_s = tau_p in {0.1, 1, 10}, T of eq. 10 or on distinct indices (`HebbianTensor(distinct_indices=True)`),
   and the glia started at Appendix D's fast-glia values (`init_state`) or at zero; next to the effective
   model on the same memories and cues. lambda = tau_n = 1 throughout. The two regimes closest to the
   effective model (mean K*_full / K*_effective) are also run at the extra sizes (default N = 32, 48). A
   control with nearly frozen glia (tau_s = tau_p = 1000, alpha = gamma = 1, fast-glia start; also at the
   extra sizes for the tensor of the best regimes): the neurons then run in the synapses
   g0 = T(phi0 phi0^T) set by the cue.

K* protocol: per N, one set of K_max random memories (K uses the first K: `HebbianTensor(mask=...)`, padded
to a power of 4 so that a handful of programs serve every load) and C cues, each a memory chosen by a fixed
uniform u_c (memory floor(u_c K)) with a fixed set of round(0.125 N) bits flipped -- the same memories and
cues for every regime and the effective model. Tsit5 with PID steps (rtol 1e-4, atol 1e-6), stop at a steady
state or at t1 (100; 300 for tau_s = tau_p = 10). A cue counts as retrieved when the run CONVERGED or reached
t1 (TIME_LIMIT: the zero-leak network never settles, its glia drift to saturation) and the sign read-out
equals the memory exactly; any other status counts as not retrieved (all are recorded, with the fraction
whose read-out is the cue itself, i.e. nothing was corrected). The loads lie on a
grid of factor sqrt 2 (1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, ...): starting at about N, the search steps by
a factor 2 until the retrieved fraction crosses 1/2, then tries the load in between; K* is interpolated
linearly in log K between the last load at or above 1/2 and the first below (a coarse estimate: about
+-20%).

Usage (one core, as the measurement was made):
    taskset -c 1 python benchmarks/full_network_regimes.py                  # everything, ~10 min
    taskset -c 1 python benchmarks/full_network_regimes.py --only stability # parts 1 and 2, seconds
    python benchmarks/full_network_regimes.py --quick                       # N = 16 only, 32 cues, a few regimes
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _harness import environment, loadavg, result_path, write_result  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

import nam  # noqa: E402

FLIP = 0.125
LEAKS = (1.0, 0.3, 0.1, 0.0)
TAUS = (0.1, 1.0, 10.0)
TENSORS = ("eq10", "distinct")
INITS = ("fast_glia", "zero")
# control: glia so slow (tau = 1000, t1 = 100) that they stay near their start g0 = T(phi0 phi0^T)
CONTROLS = ((1.0, 1000.0, "eq10", "fast_glia"), (1.0, 1000.0, "distinct", "fast_glia"))
GRID = sorted({round(2 ** (j / 2)) for j in range(0, 25)})  # 1 .. 4096, factor sqrt 2


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------------------------------------- stability


def _max_abs(tree):
    return max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(tree))


def _symmetric_hessian_negatives(model, state):
    """The number of negative eigenvalues of the energy's Hessian in the states, on symmetric s and p (in the
    orthonormal coordinates E_ii, (E_ij + E_ji) / sqrt 2 of `nam.jacobian_spectrum(..., symmetric=True)`)."""
    n = model.n
    flat, unravel = ravel_pytree(state)
    cols = []
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            e[i, j] = e[j, i] = 1.0 if i == j else np.sqrt(0.5)
            cols.append(e.ravel())
    b = np.stack(cols, axis=1)
    m = b.shape[1]
    q = np.zeros((flat.size, n + 2 * m))
    q[:n, :n] = np.eye(n)
    q[n : n + n * n, n : n + m] = b
    q[n + n * n :, n + m :] = b
    h = q.T @ np.asarray(jax.jit(jax.hessian(lambda y: model.energy(unravel(y))))(flat)) @ q
    return int(np.sum(np.linalg.eigvalsh(h) < -1e-9))


def stability(sizes=(8, 12, 16)):
    out = []
    tight = nam.SolverConfig("tsit5", rtol=1e-10, atol=1e-12, steady_rtol=1e-10, steady_atol=1e-11, t1=500.0)
    for n in sizes:
        key = jr.PRNGKey(2024)
        xi = nam.random_patterns(jr.fold_in(key, n), 2, n)
        full = nam.NeuronAstrocyte(nam.HebbianTensor(xi), lam=1.0, alpha=0.0, gamma=0.0)
        eff = full.effective()
        cue = nam.flip_bits(jr.fold_in(key, 1), xi[0], FLIP)
        r = nam.retrieve(eff, cue, config=tight)
        state = full.init_state(r.state)
        se = nam.jacobian_spectrum(eff, r.state)
        sf = nam.jacobian_spectrum(full, state)
        ss = nam.jacobian_spectrum(full, state, symmetric=True)
        wrong = nam.NeuronAstrocyteState(state.x, state.s, -state.p)
        rec = dict(
            n=n,
            k=2,
            effective_status=nam.Status.names(r.status),
            effective_retrieved=bool(jnp.all(r.pattern == xi[0])),
            residual_full_at_lift=_max_abs(full.vector_field(state)),
            residual_with_psi_sign_flipped=_max_abs(full.vector_field(wrong)),
            effective_max_real=se.max_real,
            effective_unstable=se.num_unstable,
            full_dim=int(sf.jacobian.shape[0]),
            full_max_real=sf.max_real,
            full_unstable=sf.num_unstable,
            symmetric_dim=int(ss.jacobian.shape[0]),
            symmetric_max_real=ss.max_real,
            symmetric_unstable=ss.num_unstable,
            symmetric_max_abs_imag=float(np.max(np.abs(ss.eigenvalues.imag))),
            hessian_negative_symmetric=_symmetric_hessian_negatives(full, state),
            full_top_eigenvalues=[float(v) for v in sf.eigenvalues.real[:4]],
            block_max_real={b: s.max_real for b, s in sf.blocks.items()},
        )
        out.append(rec)
        log(
            f"  N={n:3d}: |f_full(lift)|={rec['residual_full_at_lift']:.1e} (psi sign flipped: "
            f"{rec['residual_with_psi_sign_flipped']:.2f}); effective max Re={se.max_real:.4f} "
            f"({se.num_unstable} unstable); full max Re={sf.max_real:.4f}, unstable {sf.num_unstable}/{rec['full_dim']}"
            f" (symmetric {ss.num_unstable}/{rec['symmetric_dim']}, Hessian negatives "
            f"{rec['hessian_negative_symmetric']})"
        )
    return out


def lock_in():
    n = 16
    key = jr.PRNGKey(7)
    xi = nam.random_patterns(jr.fold_in(key, 4), 4, n)
    full = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    cue = nam.flip_bits(jr.fold_in(key, 1), xi[0], FLIP)
    trace = []
    for t1 in (0.5, 1.0, 2.0, 5.0, 10.0):
        r = nam.retrieve(full, cue, config=nam.SolverConfig("tsit5", t1=t1, steady_state=False))
        a = full.activations(r.state)
        locked = jnp.sign(jnp.outer(a.x, a.x))
        trace.append(
            dict(
                t=t1,
                g_distance=float(jnp.mean(jnp.abs(a.s - locked))),
                psi_distance=float(jnp.mean(jnp.abs(a.p - locked))),
                retrieved=bool(jnp.all(r.pattern == xi[0])),
                mean_abs_x=float(jnp.mean(jnp.abs(r.state.x))),
            )
        )
        log(
            f"  t={t1:4.1f}: mean|g - sign(phi phi^T)|={trace[-1]['g_distance']:.2e}, "
            f"mean|psi - sign|={trace[-1]['psi_distance']:.2e}, read-out = memory: {trace[-1]['retrieved']}"
        )

    k = 20
    xi = nam.random_patterns(jr.fold_in(key, k), k, n)
    full = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    eff = full.effective()
    sigma = jnp.where(jr.bernoulli(jr.fold_in(key, 2), 0.5, (16, n)), 1.0, -1.0)
    config = nam.SolverConfig("tsit5", t1=50.0)

    def locked_run(s):
        o = jnp.outer(s, s)
        return nam.retrieve(full, state0=nam.NeuronAstrocyteState(s, 2.0 * o, o), config=config)

    rf = jax.vmap(locked_run)(sigma)
    re = nam.retrieve_batch(eff, sigma, config=config)
    spec = nam.jacobian_spectrum(full, jax.tree.map(lambda a: a[0], rf.state))
    random = dict(
        n=n,
        k=k,
        states=int(sigma.shape[0]),
        kept_full=int(jnp.sum(jnp.all(rf.pattern == sigma, axis=1) & rf.ok())),
        kept_effective=int(jnp.sum(jnp.all(re.pattern == sigma, axis=1) & re.ok())),
        locked_state_max_real=spec.max_real,
        locked_state_unstable=spec.num_unstable,
    )
    log(
        f"  random +-1 states kept (N={n}, K={k}): full with locked glia {random['kept_full']}/16, effective "
        f"{random['kept_effective']}/16; at a locked state max Re={spec.max_real:.3f} ({spec.num_unstable} unstable)"
    )
    return dict(n=n, k_cue=4, trace=trace, random_states=random)


# ---------------------------------------------------------------------------------------------- regimes


def _bucket(k):
    b = 16
    while b < k:
        b *= 4
    return b


def _tensor(xi, mask, distinct):
    return nam.HebbianTensor(xi, mask=mask, distinct_indices=distinct)


@eqx.filter_jit
def _run_full(xi, mask, cues, targets, alpha, tau, zero_init, t1, distinct, config):
    full = nam.NeuronAstrocyte(_tensor(xi, mask, distinct), lam=1.0, alpha=alpha, gamma=alpha, tau_s=tau, tau_p=tau)
    config = eqx.tree_at(lambda c: c.t1, config, t1)

    def one(cue):
        s0 = full.init_state(cue)
        s0 = nam.NeuronAstrocyteState(cue, jnp.where(zero_init, 0.0, s0.s), jnp.where(zero_init, 0.0, s0.p))
        return nam.retrieve(full, state0=s0, config=config)

    r = jax.vmap(one)(cues)
    return jnp.all(r.pattern == targets, axis=1), jnp.all(r.pattern == cues, axis=1), r.status, r.num_steps


@eqx.filter_jit
def _run_effective(xi, mask, cues, targets, distinct, config):
    eff = nam.NeuronAstrocyteEffective(_tensor(xi, mask, distinct))
    r = jax.vmap(lambda c: nam.retrieve(eff, c, config=config))(cues)
    return jnp.all(r.pattern == targets, axis=1), jnp.all(r.pattern == cues, axis=1), r.status, r.num_steps


class Problem:
    """Memories and cues of one size N, shared by every regime."""

    def __init__(self, n, cues, seed, k_max):
        key = jr.PRNGKey(seed + n)
        self.n, self.cues = n, cues
        self.xi = nam.random_patterns(jr.fold_in(key, 0), k_max, n)
        self.u = jr.uniform(jr.fold_in(key, 1), (cues,))
        ones = jnp.ones((n,))
        self.flips = jnp.stack([nam.flip_bits(jr.fold_in(key, 100 + c), ones, FLIP) for c in range(cues)])

    def load(self, k):
        pad = _bucket(k)
        mu = jnp.floor(self.u * k).astype(jnp.int32)
        targets = self.xi[mu]
        return self.xi[:pad], jnp.arange(pad) < k, targets * self.flips, targets


def _summarise(k, hit, kept, status, steps, seconds):
    """One load: the fraction retrieved (exact read-out, CONVERGED or TIME_LIMIT), the fraction whose read-out
    is the cue itself (nothing corrected), the fraction CONVERGED, the status counts, the mean step count."""
    status = np.asarray(status)
    counted = (status == nam.Status.CONVERGED) | (status == nam.Status.TIME_LIMIT)
    names, counts = np.unique(nam.Status.names(status), return_counts=True)
    return dict(
        k=int(k),
        fraction=float(np.mean(np.asarray(hit) & counted)),
        kept_cue=float(np.mean(np.asarray(kept) & counted)),
        converged=float(np.mean(status == nam.Status.CONVERGED)),
        status={str(a): int(b) for a, b in zip(names, counts)},
        mean_steps=float(np.mean(steps)),
        seconds=round(seconds, 3),
    )


def _search(evaluate, start_k):
    """Coarse K* on GRID: step by a factor 2 from `start_k` until the fraction crosses 1/2, then the load in
    between; returns (k_star, lo, hi, curve). k_star is None with lo = None (below the grid) or hi = None
    (above it)."""
    cache = {}

    def f(i):
        if i not in cache:
            cache[i] = evaluate(GRID[i])
        return cache[i]["fraction"]

    i = min(range(len(GRID)), key=lambda j: abs(GRID[j] - start_k))
    lo = hi = None
    if f(i) >= 0.5:
        lo = i
        while hi is None and lo < len(GRID) - 1:
            j = min(lo + 2, len(GRID) - 1)
            if f(j) >= 0.5:
                lo = j
            else:
                hi = j
    else:
        hi = i
        while lo is None and hi > 0:
            j = max(hi - 2, 0)
            if f(j) < 0.5:
                hi = j
            else:
                lo = j
    if lo is not None and hi is not None and hi - lo == 2:
        if f(lo + 1) >= 0.5:
            lo += 1
        else:
            hi -= 1
    curve = [cache[j] for j in sorted(cache)]
    if lo is None or hi is None:
        return None, None if lo is None else GRID[lo], None if hi is None else GRID[hi], curve
    flo, fhi = cache[lo]["fraction"], cache[hi]["fraction"]
    w = (flo - 0.5) / (flo - fhi)
    k_star = math.exp(math.log(GRID[lo]) + w * (math.log(GRID[hi]) - math.log(GRID[lo])))
    return round(k_star, 1), GRID[lo], GRID[hi], curve


def _config(max_steps):
    return nam.SolverConfig("tsit5", rtol=1e-4, atol=1e-6, t1=100.0, max_steps=max_steps)


def search_effective(problem, tensor, config):
    def evaluate(k):
        xi, mask, cues, targets = problem.load(k)
        t0 = time.perf_counter()
        out = jax.block_until_ready(_run_effective(xi, mask, cues, targets, tensor == "distinct", config))
        return _summarise(k, *out, time.perf_counter() - t0)

    t0 = time.perf_counter()
    k_star, lo, hi, curve = _search(evaluate, 2 * problem.n)
    return dict(
        model="effective",
        tensor=tensor,
        n=problem.n,
        k_star=k_star,
        k_lo=lo,
        k_hi=hi,
        curve=curve,
        seconds=round(time.perf_counter() - t0, 1),
    )


def search_full(problem, regime, config):
    alpha, tau, tensor, init = regime
    t1 = 300.0 if 1.0 < tau <= 10.0 else 100.0

    def evaluate(k):
        xi, mask, cues, targets = problem.load(k)
        t0 = time.perf_counter()
        out = jax.block_until_ready(
            _run_full(
                xi,
                mask,
                cues,
                targets,
                jnp.asarray(alpha, jnp.float32),
                jnp.asarray(tau, jnp.float32),
                jnp.asarray(init == "zero"),
                jnp.asarray(t1, jnp.float32),
                tensor == "distinct",
                config,
            )
        )
        return _summarise(k, *out, time.perf_counter() - t0)

    t0 = time.perf_counter()
    k_star, lo, hi, curve = _search(evaluate, problem.n)
    return dict(
        model="full",
        alpha=alpha,
        tau_glia=tau,
        tensor=tensor,
        init=init,
        t1=t1,
        n=problem.n,
        k_star=k_star,
        k_lo=lo,
        k_hi=hi,
        curve=curve,
        seconds=round(time.perf_counter() - t0, 1),
    )


def _fmt(k):
    return "-" if k is None else f"{k:.0f}"


def _fmt_rec(rec):
    """K* of a search record; "< K" when even the smallest load tried failed, "> K" above the grid."""
    if rec is None:
        return "-"
    if rec["k_star"] is None:
        return f"< {rec['k_hi']}" if rec["k_lo"] is None else f"> {rec['k_lo']}"
    return _fmt(rec["k_star"])


def regimes(sizes, extra_sizes, cues, seed, grid, best, max_steps):
    config = _config(max_steps)
    problems = {n: Problem(n, cues, seed, k_max=4096) for n in sorted(set(sizes) | set(extra_sizes))}
    effective, full = [], []
    for n in sizes:
        for tensor in TENSORS:
            rec = search_effective(problems[n], tensor, config)
            effective.append(rec)
            log(
                f"  effective {tensor:8s} N={n}: K* = {_fmt(rec['k_star'])} [{rec['k_lo']}, {rec['k_hi']}] "
                f"({rec['seconds']} s)"
            )
    for regime in grid:
        for n in sizes:
            rec = search_full(problems[n], regime, config)
            full.append(rec)
            log(
                f"  full alpha=gamma={regime[0]:<4} tau_s=tau_p={regime[1]:<4} {regime[2]:8s} {regime[3]:9s} N={n}: "
                f"K* = {_fmt(rec['k_star'])} [{rec['k_lo']}, {rec['k_hi']}] ({rec['seconds']} s)"
            )
    # the regimes closest to the effective model (mean of K*_full / K*_effective over the sizes), at larger N
    eff_k = {(r["tensor"], r["n"]): r["k_star"] for r in effective}

    def score(regime):
        ratios = [
            r["k_star"] / eff_k[(r["tensor"], r["n"])]
            for r in full
            if (r["alpha"], r["tau_glia"], r["tensor"], r["init"]) == regime
            and r["k_star"] is not None
            and eff_k.get((r["tensor"], r["n"]))
        ]
        return sum(ratios) / len(sizes) if ratios else 0.0

    ranked = sorted(grid, key=score, reverse=True)[:best]
    controls = []
    for regime in CONTROLS:
        for n in sizes:
            rec = search_full(problems[n], regime, config)
            controls.append(rec)
            log(f"  control (frozen glia) {regime} N={n}: K* = {_fmt(rec['k_star'])} ({rec['seconds']} s)")
    tensors = sorted({r[2] for r in ranked})
    for n in extra_sizes:
        for tensor in tensors:
            rec = search_effective(problems[n], tensor, config)
            effective.append(rec)
            log(f"  effective {tensor:8s} N={n}: K* = {_fmt(rec['k_star'])} ({rec['seconds']} s)")
        for regime in ranked + [c for c in CONTROLS if c[2] in tensors]:
            rec = search_full(problems[n], regime, config)
            (controls if regime in CONTROLS else full).append(rec)
            log(f"  full {regime} N={n}: K* = {_fmt(rec['k_star'])} ({rec['seconds']} s)")
    best = [
        dict(alpha=r[0], tau_glia=r[1], tensor=r[2], init=r[3], mean_ratio_to_effective=round(score(r), 3))
        for r in ranked
    ]
    return dict(effective=effective, full=full, controls=controls, best=best)


def table(result):
    reg = result["regimes"]
    sizes = sorted({r["n"] for r in reg["full"]})
    eff = {(r["tensor"], r["n"]): r for r in reg["effective"]}
    head = f"{'model':9s} {'tensor':8s} {'init':9s} {'alpha':>5s} {'tau':>5s} " + " ".join(f"N={n:<5d}" for n in sizes)
    lines = [head]
    for tensor in TENSORS:
        lines.append(
            f"{'effective':9s} {tensor:8s} {'-':9s} {'-':>5s} {'-':>5s} "
            + " ".join(f"{_fmt_rec(eff.get((tensor, n))):7s}" for n in sizes)
        )
    rows = {}
    for r in reg["full"] + reg["controls"]:
        rows.setdefault((r["tensor"], r["init"], r["alpha"], r["tau_glia"]), {})[r["n"]] = r
    for (tensor, init, alpha, tau), ks in sorted(
        rows.items(), key=lambda kv: (TENSORS.index(kv[0][0]), INITS.index(kv[0][1]), -kv[0][2], kv[0][3])
    ):
        lines.append(
            f"{'full':9s} {tensor:8s} {init:9s} {alpha:5g} {tau:5g} "
            + " ".join(f"{_fmt_rec(ks.get(n)):7s}" for n in sizes)
        )
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("stability", "regimes", "all"), default="all")
    p.add_argument("--quick", action="store_true", help="N = 16, 32 cues, leaks 1 and 0, tau 1, eq. 10, fast glia")
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 24])
    p.add_argument(
        "--extra-sizes",
        type=int,
        nargs="*",
        default=[32, 48],
        help="sizes run for the best regimes and the frozen-glia control only (default 32 48)",
    )
    p.add_argument("--best", type=int, default=2, help="how many regimes the extra sizes run")
    p.add_argument("--cues", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=10_000)
    p.add_argument("--out", default=result_path("full_network_regimes.json"))
    args = p.parse_args(argv)
    grid = list(itertools.product(LEAKS, TAUS, TENSORS, INITS))
    if args.quick:
        args.sizes, args.extra_sizes, args.cues = [16], [], 32
        grid = [(a, 1.0, "eq10", "fast_glia") for a in (1.0, 0.0)]
    t0 = time.perf_counter()
    result = dict(
        env=environment(loadavg_start=loadavg(), argv=sys.argv[1:]),
        settings=dict(
            flip=FLIP,
            cues=args.cues,
            seed=args.seed,
            sizes=args.sizes,
            extra_sizes=args.extra_sizes,
            solver="tsit5",
            rtol=1e-4,
            atol=1e-6,
            t1="100 (300 for tau_s = tau_p = 10)",
            max_steps=args.max_steps,
            grid=GRID,
            counted="CONVERGED or TIME_LIMIT with an exact sign read-out",
            scale="1/N^3 (eq. 10), 1/((N-1)(N-2)(N-3)) (distinct indices)",
        ),
    )
    if args.only in ("stability", "all"):
        log("stability at zero leak (float64):")
        with jax.enable_x64(True):
            result["stability"] = stability()
            log("glial lock-in with the default leaks (float64):")
            result["lock_in"] = lock_in()
    if args.only in ("regimes", "all"):
        log(f"regimes ({len(grid)} x sizes {args.sizes}, {args.cues} cues, float32):")
        result["regimes"] = regimes(args.sizes, args.extra_sizes, args.cues, args.seed, grid, args.best, args.max_steps)
        log(table(result))
    result["total_wall_s"] = time.perf_counter() - t0
    result["env"]["loadavg_end"] = loadavg()
    write_result(args.out, result)
    log(f"wrote {args.out} ({result['total_wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
