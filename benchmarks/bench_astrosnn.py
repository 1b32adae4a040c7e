#!/usr/bin/env python
"""Benchmark: AstroSNN's parallel against recurrent training form, and its generation cost against a KV-cache transformer.

Models: `nam.astrosnn.build_model("astrosnn", 65, d=128, layers=2, heads=4, chunk=C, **LM_ASSUMPTIONS)`
(the language-model assumptions `train_lm` uses: the read enters the residual stream, real-valued keys and
queries, keys from the previous token, short decays, RMS-normalised read-outs); float32;
parameters and inputs fixed by seeds (random tokens: the cost does not depend on their values).

1. Training throughput. One full training step, one jitted program: the model split by `eqx.partition`,
   `jax.value_and_grad` of `sequence_loss(model, x, y, form=...)` w.r.t. its arrays, an `optax.adam(1e-3)`
   update and `optax.apply_updates`; batch B = 8 of length T, for T = 256 and 1024: form="parallel"
   (chunk C = 32, 64, 128) and form="recurrent". tokens/s = B T / median step time. Also the forward pass
   alone (`sequence_loss`, jitted; chunk 64 and recurrent), and the same step for the LIF-SNN
   (`build_model("lif", ...)`: the AM-SU without its astrocyte, so the LIF neuron scan, the current
   projection, the spiking feed-forward, norms, read-out, loss and adam only). Every part of the LIF-SNN
   step is also in both AstroSNN forms, so its time is a floor for either: recurrent / LIF-SNN bounds the
   speed-up a faster astrocyte read could give. Memory: XLA's compiled memory analysis (temp bytes) of
   each step program; the losses of the two forms are compared.
2. Where the time goes at T = 1024 (one AM-SU layer, block 0, batch B vmapped): on the real (T, heads,
   d_head) keys, values and queries of `unit._projections(LN(embed(x)))`, the astrocyte read alone,
   `AMSU.read_recurrent` against `AMSU.read_parallel(chunk C)`, forward and forward + backward (the
   gradient of <o, g> for a fixed random cotangent g w.r.t. the layer's parameters (the decays) and k, v,
   q); and the LIF neuron scan alone (`unit._neurons(current, o)`), forward and forward + backward (w.r.t.
   beta, theta, the current and the read-out); and the four input projections (`unit._projections`: I, k,
   v, q), forward and forward + backward. These small programs get three times the repeats of 1.
3. Generation, for context lengths L = 128, 512, 2048, 8192: one token of `model.step` at position
   L - 1, AstroSNN against the transformer baseline (`build_model("transformer", ...)`) of matched
   parameter count (`match_width("transformer", 65, parameter_count(astro), layers)`). The transformer's
   state is `init_state(capacity=L)` with its KV caches filled with random normals (the step's cost does
   not depend on the values; note it attends over all `capacity` slots under a mask) and its position
   set to L - 1; AstroSNN's state is the real one after feeding L - 1 random tokens through `step` (and
   its logits are checked against `model(tokens, "recurrent")` and `"parallel"` at the last position).
   - latency per token, "call": `jax.jit(step, donate the state)` compiled beforehand and called from
     Python one token at a time (each call blocked on; the state fed back, the position held at L - 1);
     the median over all calls (dispatch overhead included: what a Python generation loop sees);
   - latency per token, "scan": K = 32 greedy tokens (argmax fed back) in one compiled `lax.scan` of
     `step` (as `nam.astrosnn.generate` runs it), the transformer starting at position L - K so that the
     last token sees L - 1 earlier ones; 5 scans per model per repeat, median time / K;
   - memory per sequence: the bytes of the state pytree (sum of leaf nbytes), and XLA's compiled memory
     analysis of the step program (temp, argument, output bytes).

Timing: every program compiled beforehand (`.lower(...).compile()`; compilation excluded), one warm-up
call, then the compared variants interleaved within each repeat (the machine is shared; in generation
every repeat runs every context length and both models, so load drift hits every point alike), median,
`jax.block_until_ready`. The JSON records the platform, the jax version, the devices and the load average;
"notes" holds sentences computed from the numbers; the figure (two log-log panels: latency per token and
bytes per sequence against L) goes beside the JSON as astrosnn_generation.png.

Usage:
    python benchmarks/bench_astrosnn.py            # T = 256, 1024; chunks 32/64/128; L up to 8192; 9 repeats
    python benchmarks/bench_astrosnn.py --quick    # chunk 64 only, L = 128, 512, 2048; 2 repeats
    python benchmarks/bench_astrosnn.py --out results.json
"""

import argparse
import os
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from _harness import (
    MiB,
    compile_timed,
    environment,
    interleaved,
    loadavg,
    medians,
    memory_analysis,
    peak_rss_mib,
    result_path,
    write_result,
)

from nam.astrosnn import LM_ASSUMPTIONS, TransformerLM, build_model, match_width, parameter_count, sequence_loss

VOCAB = 65
D = 128
LAYERS = 2
HEADS = 4
BATCH = 8
LENGTHS = (256, 1024)
CHUNKS = (32, 64, 128)
QUICK_CHUNKS = (64,)
DEFAULT_CHUNK = 64
CONTEXTS = (128, 512, 2048, 8192)
QUICK_CONTEXTS = (128, 512, 2048)
SCAN_TOKENS = 32
SCAN_RUNS = 5  # scans per model per repeat in the per-token latency
CALLS = 40  # Python calls per repeat in the per-call latency


def astro(chunk=DEFAULT_CHUNK, kind="astrosnn"):
    options = dict(LM_ASSUMPTIONS) if kind == "astrosnn" else {}
    return build_model(kind, VOCAB, D, LAYERS, key=jr.PRNGKey(0), heads=HEADS, chunk=chunk, **options)


# --- 1. training throughput -------------------------------------------------------------------------------


def train_programs(T, chunks, opt):
    """name -> (compiled, args, meta) for the step and forward programs at length T."""
    tok = jr.randint(jr.PRNGKey(T), (BATCH, T + 1), 0, VOCAB)
    x, y = tok[:, :-1], tok[:, 1:]

    def make(model, form):
        params, static = eqx.partition(model, eqx.is_array)
        opt_state = opt.init(params)

        def loss(p, x, y):
            return sequence_loss(eqx.combine(p, static), x, y, form=form)

        def step(p, s, x, y):
            (l, _), g = jax.value_and_grad(loss, has_aux=True)(p, x, y)
            updates, s = opt.update(g, s, p)
            return optax.apply_updates(p, updates), s, l

        c_step, t_step = compile_timed(jax.jit(step), params, opt_state, x, y)
        c_fwd, t_fwd = compile_timed(jax.jit(loss), params, x, y)
        return (c_step, (params, opt_state, x, y), t_step), (c_fwd, (params, x, y), t_fwd)

    progs = {}
    for c in chunks:
        s, f = make(astro(c), "parallel")
        progs[f"parallel_c{c}"] = s
        if c == DEFAULT_CHUNK:
            progs[f"fwd_parallel_c{c}"] = f
    s, f = make(astro(), "recurrent")
    progs["recurrent"], progs["fwd_recurrent"] = s, f
    s, f = make(astro(kind="lif"), "parallel")  # no astrocyte: the two forms are the same computation
    progs["lif"], progs["fwd_lif"] = s, f
    return progs


def bench_training(T, chunks, reps, opt):
    progs = train_programs(T, chunks, opt)
    calls = {name: (lambda c=c, a=a: c(*a)) for name, (c, a, _) in progs.items()}
    # losses: the parallel and recurrent forms must agree (same parameters, same batch)
    losses = {name: float(c(*a)[-1] if not name.startswith("fwd") else c(*a)[0]) for name, (c, a, _) in progs.items()}
    times = interleaved(calls, reps)
    med = medians(times)
    tps = {name: BATCH * T / m for name, m in med.items()}
    par = [f"parallel_c{c}" for c in chunks]
    best = max(par, key=lambda n: tps[n])
    res = {
        "T": T,
        "batch": BATCH,
        "repeats": reps,
        "times_s": times,
        "median_s": med,
        "tokens_per_s": tps,
        "compile_s": {name: t for name, (_, _, t) in progs.items()},
        "memory": {name: memory_analysis(c) for name, (c, _, _) in progs.items()},
        "loss": losses,
        "best_chunk": int(best.split("_c")[1]),
        "train_ratio_parallel_over_recurrent_best_chunk": tps[best] / tps["recurrent"],
        f"train_ratio_parallel_over_recurrent_chunk{DEFAULT_CHUNK}": tps[f"parallel_c{DEFAULT_CHUNK}"]
        / tps["recurrent"],
        "train_ratio_per_chunk": {int(n.split("_c")[1]): tps[n] / tps["recurrent"] for n in par},
        f"forward_ratio_parallel_over_recurrent_chunk{DEFAULT_CHUNK}": tps[f"fwd_parallel_c{DEFAULT_CHUNK}"]
        / tps["fwd_recurrent"],
        "lif_step_over_recurrent_step": med["lif"] / med["recurrent"],
        "lif_step_over_parallel_best_step": med["lif"] / med[best],
        "amdahl_bound_recurrent_over_lif": med["recurrent"] / med["lif"],
        "loss_rel_diff_parallel_vs_recurrent": abs(losses[f"parallel_c{DEFAULT_CHUNK}"] - losses["recurrent"])
        / abs(losses["recurrent"]),
        "peak_rss_mib_after": peak_rss_mib(),
    }
    del progs
    return res


# --- 2. where the time goes -------------------------------------------------------------------------------


def bench_parts(T, chunks, reps):
    model = astro()
    block = model.blocks[0]
    unit = block.unit
    tok = jr.randint(jr.PRNGKey(7), (BATCH, T), 0, VOCAB)
    h = jax.vmap(jax.vmap(block.norm1))(model.embed[tok])
    current, k, v, q = jax.vmap(unit._projections)(h)  # (B, T, d), (B, T, heads, d_head) x 3
    ct = jr.normal(jr.PRNGKey(8), current.shape)
    params, static = eqx.partition(unit, eqx.is_array)

    def read_rec(p, k, v, q):
        return jax.vmap(eqx.combine(p, static).read_recurrent)(k, v, q)

    def read_par(c):
        return lambda p, k, v, q: jax.vmap(lambda a, b, e: eqx.combine(p, static).read_parallel(a, b, e, c))(k, v, q)

    def grad_of(f):
        return lambda p, k, v, q: jax.grad(lambda pp, a, b, e: jnp.vdot(f(pp, a, b, e), ct), argnums=(0, 1, 2, 3))(
            p, k, v, q
        )

    o = jax.vmap(unit._to_neuron)(read_rec(params, k, v, q))

    def neurons(p, cur, o):
        return jax.vmap(eqx.combine(p, static)._neurons)(cur, o)

    def neurons_grad(p, cur, o):
        return jax.grad(lambda pp, a, b: jnp.vdot(neurons(pp, a, b), ct), argnums=(0, 1, 2))(p, cur, o)

    fns = {
        "read_recurrent_fwd": (read_rec, (params, k, v, q)),
        "read_recurrent_fwd_bwd": (grad_of(read_rec), (params, k, v, q)),
    }
    for c in chunks:
        fns[f"read_parallel_c{c}_fwd"] = (read_par(c), (params, k, v, q))
        fns[f"read_parallel_c{c}_fwd_bwd"] = (grad_of(read_par(c)), (params, k, v, q))
    cts = (ct, *(jr.normal(jr.PRNGKey(9 + i), k.shape) for i in range(3)))

    def projections(p, h):
        return jax.vmap(eqx.combine(p, static)._projections)(h)

    def projections_grad(p, h):
        return jax.grad(lambda pp, a: sum(jnp.vdot(y, c) for y, c in zip(projections(pp, a), cts)), argnums=(0, 1))(
            p, h
        )

    fns["projections_ikvq_fwd"] = (projections, (params, h))
    fns["projections_ikvq_fwd_bwd"] = (projections_grad, (params, h))
    fns["lif_neuron_scan_fwd"] = (neurons, (params, current, o))
    fns["lif_neuron_scan_fwd_bwd"] = (neurons_grad, (params, current, o))
    compiled = {name: compile_timed(jax.jit(f), *a) for name, (f, a) in fns.items()}
    calls = {name: (lambda c=c, a=fns[name][1]: c(*a)) for name, (c, _) in compiled.items()}
    # agreement of the two reads on these inputs
    r_rec = np.asarray(calls["read_recurrent_fwd"]())
    agree = {
        c: float(
            np.max(np.abs(np.asarray(calls[f"read_parallel_c{c}_fwd"]()) - r_rec)) / max(np.max(np.abs(r_rec)), 1e-30)
        )
        for c in chunks
    }
    times = interleaved(calls, reps)
    med = medians(times)
    return {
        "T": T,
        "batch": BATCH,
        "layer": "blocks[0].unit",
        "heads": unit.heads,
        "d_head": int(k.shape[-1]),
        "repeats": reps,
        "times_s": times,
        "median_s": med,
        "compile_s": {name: t for name, (_, t) in compiled.items()},
        "read_parallel_max_rel_diff_vs_recurrent": agree,
    }


# --- 3. generation --------------------------------------------------------------------------------------


def state_bytes(state):
    return int(sum(np.asarray(x).nbytes for x in jax.tree.leaves(state)))


def gen_programs(model, state, tok, k):
    """(step, K-token scan), both compiled with the state donated. The transformer's state (caches, pos) is
    passed as two arguments and only the caches are donated (the position is reused by the caller)."""
    params, static = eqx.partition(model, eqx.is_array)
    split = isinstance(model, TransformerLM)

    def step(p, *args):
        *s, t = args
        logits, new = eqx.combine(p, static).step(tuple(s) if split else s[0], t)
        return logits, (new[0] if split else new)

    def scan(p, *args):
        *s, t = args
        m = eqx.combine(p, static)

        def body(carry, _):
            st, tk = carry
            logits, st = m.step(st, tk)
            tk = jnp.argmax(logits).astype(tk.dtype)
            return (st, tk), tk

        (new, _), toks = jax.lax.scan(body, (tuple(s) if split else s[0], t), None, length=k)
        return toks, (new[0] if split else new)

    args = (params, *state, tok) if split else (params, state, tok)
    c_step, t_step = compile_timed(jax.jit(step, donate_argnums=(1,)), *args)
    c_scan, t_scan = compile_timed(jax.jit(scan, donate_argnums=(1,)), *args)
    return params, c_step, c_scan, t_step + t_scan


def tf_state(model, L, pos, key):
    caches, _ = model.init_state(L)
    ks = jr.split(key, 2 * len(caches))
    caches = [
        (jr.normal(ks[2 * i], kc.shape, kc.dtype), jr.normal(ks[2 * i + 1], vc.shape, vc.dtype))
        for i, (kc, vc) in enumerate(caches)
    ]
    return (caches, jnp.asarray(pos, jnp.int32))


def fresh(tree):
    return jax.tree.map(lambda a: jnp.array(a, copy=True), tree)


def bench_generation(contexts, reps, calls_per_rep):
    am = astro()
    pc = parameter_count(am)
    d_t = match_width("transformer", VOCAB, pc, LAYERS, heads=HEADS)
    tm = build_model("transformer", VOCAB, d_t, LAYERS, key=jr.PRNGKey(0), heads=HEADS)
    tok = jnp.asarray(3, jnp.int32)
    seq = jr.randint(jr.PRNGKey(11), (max(contexts),), 0, VOCAB)

    # AstroSNN: feed L - 1 real tokens through `step` (one compiled loop, dynamic trip count)
    a_params, a_static = eqx.partition(am, eqx.is_array)

    @jax.jit
    def feed(p, s, toks, n):
        m = eqx.combine(p, a_static)
        return jax.lax.fori_loop(0, n, lambda i, st: m.step(st, toks[i])[1], s)

    @jax.jit
    def last_logits(p, toks):
        m = eqx.combine(p, a_static)
        return m(toks, "recurrent")[0][-1], m(toks, "parallel")[0][-1]

    a_p, a_step, a_scan, a_compile = gen_programs(am, am.init_state(), tok, SCAN_TOKENS)
    a_mem = memory_analysis(a_step)
    a_scan_mem = memory_analysis(a_scan)

    # set-up of every context first (states, compiled transformer programs, agreement checks) ...
    setup = {}
    for L in contexts:
        a_state = feed(a_params, am.init_state(), seq, L - 1)
        # agreement: step after L - 1 tokens then token L - 1, against the full forms on the L tokens
        step_logits = a_step(a_p, fresh(a_state), seq[L - 1])[0]
        rec_l, par_l = last_logits(a_params, seq[:L])
        scale = float(jnp.max(jnp.abs(rec_l)))
        agree = {
            "step_vs_recurrent": float(jnp.max(jnp.abs(step_logits - rec_l))) / scale,
            "step_vs_parallel": float(jnp.max(jnp.abs(step_logits - par_l))) / scale,
        }
        t_state = tf_state(tm, L, L - 1, jr.PRNGKey(L))
        t_p, t_step, t_scan, t_compile = gen_programs(tm, t_state, tok, SCAN_TOKENS)
        setup[L] = {
            "a_state": a_state,
            "t_state": t_state,
            "t_step": t_step,
            "t_scan": t_scan,
            "t_compile": t_compile,
            "agree": agree,
            # the donated states, fed back call after call (the transformer: its caches only)
            "box": {"astrosnn": fresh(a_state), "transformer": fresh(t_state[0])},
            "pos_call": jnp.asarray(L - 1, jnp.int32),
            "pos_scan": jnp.asarray(L - SCAN_TOKENS, jnp.int32),
        }

    def progs(L):
        st, box = setup[L], setup[L]["box"]

        def call_astro():
            logits, box["astrosnn"] = a_step(a_p, box["astrosnn"], tok)
            return logits

        def call_tf():
            logits, box["transformer"] = st["t_step"](t_p, box["transformer"], st["pos_call"], tok)
            return logits

        def scan_astro():
            toks, box["astrosnn"] = a_scan(a_p, box["astrosnn"], tok)
            return toks

        def scan_tf():
            toks, box["transformer"] = st["t_scan"](t_p, box["transformer"], st["pos_scan"], tok)
            return toks

        return {"astrosnn": (call_astro, scan_astro), "transformer": (call_tf, scan_tf)}

    fns = {
        (L, name, kind): fn
        for L in contexts
        for name, pair in progs(L).items()
        for kind, fn in zip(("call", "scan"), pair)
    }
    # ... then every repeat runs every context and both models (`calls_per_rep` calls, then `SCAN_RUNS` scans,
    # each timed), so load drift hits every point alike
    times = interleaved(fns, reps, calls={key: calls_per_rep if key[2] == "call" else SCAN_RUNS for key in fns})
    call_t = {L: {name: times[L, name, "call"] for name in ("astrosnn", "transformer")} for L in contexts}
    scan_t = {
        L: {name: [t / SCAN_TOKENS for t in times[L, name, "scan"]] for name in ("astrosnn", "transformer")}
        for L in contexts
    }

    rows = []
    for L in contexts:
        st = setup[L]
        agree = st["agree"]
        row = {
            "L": L,
            "latency_call_s": medians(call_t[L]),
            "latency_scan_s_per_token": medians(scan_t[L]),
            "latency_call_all_s": call_t[L],
            "latency_scan_all_s_per_token": scan_t[L],
            "state_bytes": {"astrosnn": state_bytes(st["a_state"]), "transformer": state_bytes(st["t_state"])},
            "xla_step_memory": {"astrosnn": a_mem, "transformer": memory_analysis(st["t_step"])},
            "xla_scan_memory": {"astrosnn": a_scan_mem, "transformer": memory_analysis(st["t_scan"])},
            "compile_s": {"astrosnn": a_compile if L == contexts[0] else 0.0, "transformer": st["t_compile"]},
            "astrosnn_logits_rel_diff": agree,
        }
        rows.append(row)
        lc, ls, sb = row["latency_call_s"], row["latency_scan_s_per_token"], row["state_bytes"]
        print(
            f"  L={L}: per call astro {lc['astrosnn'] * 1e6:.0f} us, tf {lc['transformer'] * 1e6:.0f} us; scan "
            f"astro {ls['astrosnn'] * 1e6:.0f} us/token, tf {ls['transformer'] * 1e6:.0f} us/token; state astro "
            f"{sb['astrosnn']} B, tf {sb['transformer']} B; logits rel diff step/rec "
            f"{agree['step_vs_recurrent']:.1e} step/par {agree['step_vs_parallel']:.1e}",
            flush=True,
        )

    # the transformer's own step against its forward, at the first context (real cache, fed token by token)
    L0 = contexts[0]
    t_params, t_static = eqx.partition(tm, eqx.is_array)

    @jax.jit
    def tf_check(p, toks):
        m = eqx.combine(p, t_static)
        st = m.init_state(L0)
        st = jax.lax.fori_loop(0, L0 - 1, lambda i, s: m.step(s, toks[i])[1], st)
        return m.step(st, toks[L0 - 1])[0], m(toks)[0][-1]

    s_l, f_l = tf_check(t_params, seq[:L0])
    tf_agree = float(jnp.max(jnp.abs(s_l - f_l)) / jnp.max(jnp.abs(f_l)))
    return {
        "astrosnn": {"d": D, "layers": LAYERS, "heads": HEADS, "parameters": pc},
        "transformer": {"d": d_t, "layers": LAYERS, "heads": HEADS, "parameters": parameter_count(tm)},
        "scan_tokens": SCAN_TOKENS,
        "scans_per_repeat": SCAN_RUNS,
        "calls_per_repeat": calls_per_rep,
        "repeats": reps,
        "transformer_step_vs_forward_rel_diff_at_L0": tf_agree,
        "rows": rows,
    }


# --- figure, notes, summary -------------------------------------------------------------------------------


def figure(gen, path):
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    Ls = [r["L"] for r in gen["rows"]]
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    styles = {"astrosnn": ("tab:red", "AstroSNN"), "transformer": ("tab:blue", "transformer (KV cache)")}
    for name, (color, label) in styles.items():
        p = gen[name]["parameters"]
        ax1.plot(
            Ls,
            [r["latency_call_s"][name] * 1e6 for r in gen["rows"]],
            "o-",
            color=color,
            label=f"{label}, {p / 1e3:.0f}k params: one jitted call per token",
        )
        ax1.plot(
            Ls,
            [r["latency_scan_s_per_token"][name] * 1e6 for r in gen["rows"]],
            "s--",
            color=color,
            label=f"{label}: {gen['scan_tokens']}-token lax.scan, per token",
        )
        ax2.plot(Ls, [r["state_bytes"][name] for r in gen["rows"]], "o-", color=color, label=f"{label}: state")
        temp = [r["xla_step_memory"][name].get("temp_bytes") for r in gen["rows"]]
        if all(t is not None and t > 0 for t in temp):
            ax2.plot(Ls, temp, "s:", color=color, label=f"{label}: XLA temp of one step")
    for ax, ylabel, title in (
        (ax1, "latency per token (us)", "generation latency per token vs context"),
        (ax2, "bytes per sequence", "memory per sequence vs context"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("context length L (tokens)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(f"AstroSNN vs transformer, batch 1, {jax.devices()[0].platform}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def notes(train, parts, gen, target=5.0):
    lines = []
    for r in train:
        T, tps = r["T"], r["tokens_per_s"]
        best = f"parallel_c{r['best_chunk']}"
        lines.append(
            f"T={T}: training step parallel (best chunk {r['best_chunk']}) {tps[best]:.0f} tokens/s vs recurrent "
            f"{tps['recurrent']:.0f} tokens/s: {r['train_ratio_parallel_over_recurrent_best_chunk']:.2f}x "
            f"(chunks: "
            + ", ".join(f"{c}: {x:.2f}x" for c, x in r["train_ratio_per_chunk"].items())
            + f"); forward only (chunk {DEFAULT_CHUNK}) {r[f'forward_ratio_parallel_over_recurrent_chunk{DEFAULT_CHUNK}']:.2f}x; "
            f"the LIF-SNN step (no astrocyte) takes {r['median_s']['lif'] * 1e3:.0f} ms = "
            f"{r['lif_step_over_parallel_best_step']:.0%} of the parallel step, so even a free astrocyte read would "
            f"make the parallel form at most {r['amdahl_bound_recurrent_over_lif']:.2f}x faster than the recurrent "
            f"one here."
        )
    long = max(train, key=lambda r: r["T"])
    ratio = long["train_ratio_parallel_over_recurrent_best_chunk"]
    verdict = "met" if ratio >= target else "NOT met"
    lines.append(
        f"Target (parallel >= {target:.0f}x recurrent at T={long['T']}): {verdict} on this device ({ratio:.2f}x)."
    )
    m = parts["median_s"]
    chunks = sorted(
        int(k.split("_c")[1].split("_")[0]) for k in m if k.startswith("read_parallel") and k.endswith("_fwd")
    )
    best_c = min(chunks, key=lambda c: m[f"read_parallel_c{c}_fwd_bwd"])
    rr, rp = m["read_recurrent_fwd_bwd"], m[f"read_parallel_c{best_c}_fwd_bwd"]
    nn = m["lif_neuron_scan_fwd_bwd"]
    lines.append(
        f"One AM-SU layer at T={parts['T']}, batch {parts['batch']} (forward + backward): astrocyte read recurrent "
        f"{rr * 1e3:.0f} ms vs parallel (chunk {best_c}) {rp * 1e3:.0f} ms ({rr / rp:.1f}x; forward only "
        f"{m['read_recurrent_fwd'] * 1e3:.0f} vs {m[f'read_parallel_c{best_c}_fwd'] * 1e3:.0f} ms, "
        f"{m['read_recurrent_fwd'] / m[f'read_parallel_c{best_c}_fwd']:.1f}x); the LIF neuron scan alone "
        f"{nn * 1e3:.1f} ms (forward {m['lif_neuron_scan_fwd'] * 1e3:.1f} ms), sequential in both forms; the four "
        f"input projections (I, k, v, q; the LIF-SNN has only I) {m['projections_ikvq_fwd_bwd'] * 1e3:.1f} ms."
    )
    # a decomposition of the step at the longest T: neuron scans + astrocyte reads + the rest (dense work)
    if long["T"] == parts["T"]:
        med = long["median_s"]
        par_name = f"parallel_c{long['best_chunk']}"
        par_s = med[par_name]
        scans = LAYERS * nn
        rest = med["lif"] - scans  # projections (no k, v, q), FFN, norms, head, loss, adam: a lower bound
        pred_rec = rest + LAYERS * (nn + rr)
        pred_par = rest + LAYERS * (nn + rp)
        bound = med["recurrent"] / med["lif"]
        share = lambda t, tot: f"{t / tot:.0%}"
        lines.append(
            f"Decomposition of the T={long['T']} training step ({LAYERS} layers): neuron scans {LAYERS} x {nn * 1e3:.1f} = "
            f"{scans * 1e3:.0f} ms; astrocyte reads recurrent {LAYERS} x {rr * 1e3:.0f} = {LAYERS * rr * 1e3:.0f} ms, "
            f"parallel {LAYERS} x {rp * 1e3:.0f} = {LAYERS * rp * 1e3:.0f} ms; everything else (the LIF-SNN step minus "
            f"its neuron scans: projections, spiking FFN d->{4 * D}->d, norms, read-out and loss over {VOCAB} "
            f"classes, adam) ~{rest * 1e3:.0f} ms. Predicted step recurrent ~{pred_rec * 1e3:.0f} ms (measured "
            f"{med['recurrent'] * 1e3:.0f}), parallel ~{pred_par * 1e3:.0f} ms (measured "
            f"{par_s * 1e3:.0f}); the remainder ({(med['recurrent'] - pred_rec) * 1e3:.0f} and "
            f"{(par_s - pred_par) * 1e3:.0f} ms) is what the LIF-SNN lacks besides the read (k, v, q projections and "
            f"their gradients, ~{LAYERS * 0.75 * m['projections_ikvq_fwd_bwd'] * 1e3:.0f} ms; the read norm; key "
            f"shift) and the reads' cost inside the full program (XLA temp: recurrent "
            f"{long['memory']['recurrent'].get('temp_bytes', 0) / MiB:.0f} MiB, parallel "
            f"{long['memory'][par_name].get('temp_bytes', 0) / MiB:.0f} MiB). The neuron scan is "
            f"{share(scans, med['recurrent'])} of the recurrent step and {share(scans, par_s)} "
            f"of the parallel one; the dense work that both forms share is "
            f"{share(rest, par_s)} of the parallel step. Even with a free astrocyte read the parallel form could be at most "
            f"{bound:.2f}x faster than the recurrent one on this device"
            + (
                (
                    f", so the {target:.0f}x target is out of reach here, limited by "
                    + (
                        "the dense work both forms share rather than by the LIF neuron scan."
                        if scans < rest
                        else "the LIF neuron scan and the shared dense work."
                    )
                )
                if bound < target
                else "."
            )
        )
    rows = gen["rows"]
    first, last = rows[0], rows[-1]
    growth = lambda name, key: last[key][name] / first[key][name]
    lines.append(
        f"Generation from L={first['L']} to L={last['L']} ({last['L'] // first['L']}x longer context): AstroSNN's "
        f"state stays {first['state_bytes']['astrosnn']} B (x{growth('astrosnn', 'state_bytes'):.2f}), the "
        f"transformer's KV cache grows {first['state_bytes']['transformer']} -> {last['state_bytes']['transformer']} B "
        f"(x{growth('transformer', 'state_bytes'):.0f}); latency per token (scan) AstroSNN "
        f"x{growth('astrosnn', 'latency_scan_s_per_token'):.2f}, transformer "
        f"x{growth('transformer', 'latency_scan_s_per_token'):.2f}; per jitted call AstroSNN "
        f"x{growth('astrosnn', 'latency_call_s'):.2f}, transformer x{growth('transformer', 'latency_call_s'):.2f} "
        "(the per-call figure includes the Python dispatch of one jitted call)."
    )
    cross = [r["L"] for r in rows if r["state_bytes"]["transformer"] > r["state_bytes"]["astrosnn"]]
    per_tok = rows[0]["state_bytes"]["transformer"] / rows[0]["L"]
    lines.append(
        f"The transformer's cache costs {per_tok:.0f} B per token of context, so it outgrows AstroSNN's "
        f"{rows[0]['state_bytes']['astrosnn']} B state beyond ~{rows[0]['state_bytes']['astrosnn'] / per_tok:.0f} "
        f"tokens (larger at L = {cross})."
    )
    if not any(d.platform == "gpu" for d in jax.devices()):
        lines.append(
            f"No GPU was available to this run: every figure is from the CPU ({os.cpu_count()} cores, shared "
            "with other jobs); GPU figures were not measured."
        )
    return lines


def summary(train, parts, gen):
    print("\nTraining step (value_and_grad + adam), batch", BATCH)
    print("| T | form | chunk | ms/step | tokens/s | parallel/recurrent | XLA temp MiB |")
    print("|---|---|---|---|---|---|---|")
    for r in train:
        names = [n for n in r["median_s"] if not n.startswith("fwd")]
        for n in names:
            form, chunk = (
                ("parallel", n.split("_c")[1])
                if n.startswith("parallel")
                else (n if n == "recurrent" else "lif (no astrocyte)", "-")
            )
            ratio = r["tokens_per_s"][n] / r["tokens_per_s"]["recurrent"]
            temp = r["memory"][n].get("temp_bytes", float("nan")) / MiB
            print(
                f"| {r['T']} | {form} | {chunk} | {r['median_s'][n] * 1e3:.1f} | {r['tokens_per_s'][n]:.0f} | "
                f"{ratio:.2f}x | {temp:.1f} |"
            )
        f = r[f"forward_ratio_parallel_over_recurrent_chunk{DEFAULT_CHUNK}"]
        print(
            f"| {r['T']} | forward only parallel c{DEFAULT_CHUNK} / recurrent / lif | | "
            f"{r['median_s'][f'fwd_parallel_c{DEFAULT_CHUNK}'] * 1e3:.1f} / {r['median_s']['fwd_recurrent'] * 1e3:.1f}"
            f" / {r['median_s']['fwd_lif'] * 1e3:.1f} | | {f:.2f}x | |"
        )
    print(f"\nOne AM-SU layer at T={parts['T']}, batch {parts['batch']} (ms, median)")
    print("| part | forward | forward + backward |")
    print("|---|---|---|")
    m = parts["median_s"]
    for base in dict.fromkeys(k.rsplit("_fwd", 1)[0] for k in m):
        print(f"| {base} | {m[base + '_fwd'] * 1e3:.1f} | {m[base + '_fwd_bwd'] * 1e3:.1f} |")
    print(
        f"\nGeneration, batch 1 (AstroSNN d={gen['astrosnn']['d']}, {gen['astrosnn']['parameters']} params; "
        f"transformer d={gen['transformer']['d']}, {gen['transformer']['parameters']} params)"
    )
    print(
        "| L | astro us/call | tf us/call | astro us/token (scan) | tf us/token (scan) | astro state B | tf state B |"
        " astro XLA temp B | tf XLA temp B |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in gen["rows"]:
        lc, ls, sb, xm = r["latency_call_s"], r["latency_scan_s_per_token"], r["state_bytes"], r["xla_step_memory"]
        print(
            f"| {r['L']} | {lc['astrosnn'] * 1e6:.0f} | {lc['transformer'] * 1e6:.0f} | {ls['astrosnn'] * 1e6:.0f} | "
            f"{ls['transformer'] * 1e6:.0f} | {sb['astrosnn']} | {sb['transformer']} | "
            f"{xm['astrosnn'].get('temp_bytes')} | {xm['transformer'].get('temp_bytes')} |"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="chunk 64 only, L = 128, 512, 2048, fewer repeats")
    ap.add_argument("--reps", type=int, default=None, help="timed repeats per configuration")
    ap.add_argument("--out", default=result_path("astrosnn.json"))
    ap.add_argument("--figure", default=None, help="PNG path (default: astrosnn_generation.png beside --out)")
    args = ap.parse_args()
    chunks = QUICK_CHUNKS if args.quick else CHUNKS
    contexts = QUICK_CONTEXTS if args.quick else CONTEXTS
    reps = args.reps or (2 if args.quick else 9)
    fig_path = args.figure or str(Path(args.out).parent / "astrosnn_generation.png")

    env = environment(equinox=eqx.__version__, optax=optax.__version__)
    print(
        f"jax {jax.__version__}, equinox {eqx.__version__}, optax {optax.__version__}, devices: {jax.devices()} "
        f"(GPU available: {env['gpu_available']}); os.cpu_count() = {env['cpu_count']}; loadavg {loadavg()}"
    )
    load0 = loadavg()
    t_start = time.perf_counter()
    opt = optax.adam(1e-3)

    train = []
    for T in LENGTHS:
        r = bench_training(T, chunks, reps, opt)
        train.append(r)
        tps = r["tokens_per_s"]
        print(
            f"  T={T}: tokens/s "
            + ", ".join(f"{n} {v:.0f}" for n, v in tps.items())
            + f"; parallel/recurrent (best chunk {r['best_chunk']}) "
            f"{r['train_ratio_parallel_over_recurrent_best_chunk']:.2f}x; loss rel diff "
            f"{r['loss_rel_diff_parallel_vs_recurrent']:.1e}; RSS {r['peak_rss_mib_after']:.0f} MiB",
            flush=True,
        )
    parts = bench_parts(max(LENGTHS), chunks, 3 * reps)  # cheap programs: more repeats
    print("  parts (ms): " + ", ".join(f"{n} {v * 1e3:.1f}" for n, v in parts["median_s"].items()), flush=True)
    gen = bench_generation(contexts, reps, CALLS if not args.quick else CALLS // 2)
    wall = time.perf_counter() - t_start

    summary(train, parts, gen)
    note_lines = notes(train, parts, gen)
    print("\nNotes:")
    for line in note_lines:
        print(f"- {line}")
    Path(fig_path).parent.mkdir(parents=True, exist_ok=True)
    figure(gen, fig_path)
    out = {
        "env": {**env, "loadavg_start_end": [load0, loadavg()]},
        "method": {
            "model": f"build_model('astrosnn', {VOCAB}, d={D}, layers={LAYERS}, heads={HEADS}, chunk=C), "
            f"**{LM_ASSUMPTIONS}, float32 (the language-model assumptions)",
            "train_step": "jax.value_and_grad(sequence_loss) + optax.adam(1e-3) update, one jitted program",
            "batch": BATCH,
            "lengths": list(LENGTHS),
            "chunks": list(chunks),
            "generation": "model.step at position L-1, batch 1; per-call (jit, state donated, blocked on "
            f"each call) and per-token in a {SCAN_TOKENS}-token lax.scan",
            "timing": "lower().compile() beforehand (compile excluded), one warm-up, variants interleaved "
            "within each repeat, median, block_until_ready",
            "statistic": "median",
            "repeats": reps,
            "quick": args.quick,
        },
        "training": train,
        "parts": parts,
        "generation": gen,
        "notes": note_lines,
        "headline": {
            f"T{r['T']}": {
                "parallel_tokens_per_s": r["tokens_per_s"][f"parallel_c{r['best_chunk']}"],
                "recurrent_tokens_per_s": r["tokens_per_s"]["recurrent"],
                "best_chunk": r["best_chunk"],
                "ratio": r["train_ratio_parallel_over_recurrent_best_chunk"],
            }
            for r in train
        },
        "figure": os.path.relpath(fig_path, Path(args.out).parent),
        "peak_rss_mib": peak_rss_mib(),
        "total_wall_s": wall,
    }
    write_result(args.out, out)
    print(f"\nwall {wall:.0f} s; peak RSS {peak_rss_mib():.0f} MiB; loadavg start {load0}, end {loadavg()}")
    print(f"wrote {args.out} and {fig_path}")


if __name__ == "__main__":
    main()
