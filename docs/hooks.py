"""MkDocs hook: the benchmark tables of the docs are read from `benchmarks/results/*.json` at build time.

A page writes `<!-- results:NAME -->`; the build replaces it with the tables of
`benchmarks/results/NAME.json` and the machine they were measured on (`<!-- results:NAME:PART -->`: one
of them, for a renderer that names its parts in `PARTS`). A file that is missing, or whose layout a
renderer does not know, becomes a visible note on the page (never a stale number copied by hand).
"""

import json
import logging
import math
import os
import re
import statistics

log = logging.getLogger("mkdocs.hooks.nam_results")
MARKER = re.compile(r"<!--\s*results:([A-Za-z0-9_]+)(?::([A-Za-z0-9_]+))?\s*-->")


# ---------------------------------------------------------------------------------------------- formatting
def _num(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "-" if math.isnan(x) else str(x)
        return f"{x:,.0f}" if abs(x) >= 10**digits else f"{x:.{digits}g}"
    return str(x)


def _ms(seconds):
    return "-" if seconds is None else f"{_num(1e3 * seconds)} ms"


def _ratio(x):
    return "-" if x is None else f"{x:.2g}x" if x < 10 else f"{x:.3g}x"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _env(data):
    env = data.get("env") or {}
    keys = (
        "platform",
        "cpu_count",
        "devices",
        "jax",
        "torch",
        "python",
        "git_commit",
        "loadavg_start",
        "loadavg_start_end",
    )
    parts = [f"{k} `{env[k]}`" for k in keys if k in env]
    wall = data.get("total_wall_s")
    if wall is not None:
        parts.append(f"benchmark wall time {wall:.0f} s")
    return ("Measured on: " + ", ".join(parts) + ".") if parts else ""


# ---------------------------------------------------------------------------------------------- renderers
def _neuron_astrocyte(d):
    out = []
    rows = []
    for r in d["full"]:
        rows.append(
            [
                r["n"],
                r["k"],
                _ms(r.get("nam_single_s")),
                _ms(r.get("torch_single_s")),
                _ratio(r.get("speedup_single")),
                _num(r.get("nam_batch_traj_per_s")),
                _num(r.get("torch_seq_traj_per_s")),
                _num(r.get("torch_batched_traj_per_s")),
                _ratio(r.get("speedup_batch_vs_torch_seq")),
                _ratio(r.get("speedup_batch_vs_torch_batched")),
            ]
        )
    out.append(
        "**Full network, Euler dt = 0.05 for 1000 steps, against a PyTorch loop of the same equations**\n\n"
        + _table(
            [
                "N",
                "K",
                "nam, one cue",
                "torch loop, one cue",
                "ratio",
                "nam batch traj/s",
                "torch loop traj/s",
                "torch batched traj/s",
                "nam / torch loop",
                "nam / torch batched",
            ],
            rows,
        )
    )
    rows = []
    for r in d.get("effective", []):
        a, f = r["tsit5_adaptive_steady"], r["euler_fixed_1000"]
        rows.append(
            [
                r["n"],
                r["k"],
                r.get("batch", "-"),
                f"{_ms(a['batch_s'])} ({a['mean_steps']:.0f} steps)",
                _ms(f["batch_s"]),
                _ratio(r.get("speedup_adaptive_vs_fixed")),
                f"{a['exact_fraction']:.2f} / {f['exact_fraction']:.2f}",
            ]
        )
    if rows:
        out.append(
            "**Effective network: adaptive Tsit5 with a steady-state stop against 1000 fixed Euler steps** "
            "(one batch)\n\n"
            + _table(
                [
                    "N",
                    "K",
                    "batch",
                    "Tsit5 + steady-state stop",
                    "Euler, 1000 steps",
                    "speed-up",
                    "retrieved exactly (Tsit5 / Euler)",
                ],
                rows,
            )
        )
    targets = d.get("targets") or {}
    if targets:
        out.append(
            _table(
                ["target", "measured", "asked for", "met"],
                [[k, _ratio(v.get("value")), _ratio(v.get("target")), _num(v.get("met"))] for k, v in targets.items()],
            )
        )
    agreement = d.get("agreement") or {}
    if agreement:
        out.append(
            f"Agreement check at N = {agreement.get('n')}: same read-out "
            f"{_num(agreement.get('same_pattern'))}, max |x_nam - x_torch| = "
            f"{_num(agreement.get('max_abs_diff_x'))}, max |S| difference "
            f"{_num(agreement.get('max_abs_diff_S'))}, all checks passed {_num(agreement.get('ok'))}."
        )
    return out


def _sweep(d):
    rows = [
        [
            r["model"],
            r["n"],
            r["k"],
            r["batch"],
            f"{1e3 * r['seconds']['new']:.1f} ms",
            f"{1e3 * r['seconds']['previous']:.1f} ms",
            _ratio(r["speedup_vs_previous"]),
            f"{1e3 * r['seconds']['loop']:.1f} ms",
            _ratio(r["speedup_vs_loop"]),
            f"{r['memory_spin_updates_per_s'] / 1e9:.2f}",
            _num(r.get("outputs_equal")),
        ]
        for r in d["engines"]
    ]
    out = [
        _table(
            [
                "model",
                "N",
                "K",
                "batch",
                "new engine",
                "previous engine",
                "speed-up",
                "per-trial loop",
                "speed-up",
                "G memory-spin updates/s",
                "same outputs",
            ],
            rows,
        )
    ]
    out.append(
        f"Measured int32 vector rate of the machine: {d['int32_vector_rate_per_s'] / 1e9:.2f} G elements/s "
        "(x * 3 + 1 on a cache-resident array)."
    )
    t = d.get("targets") or {}
    if t:
        out.append(
            f"Targets for dam4 at N = 64: >= {_ratio(t.get('dam4_n64_vs_previous'))} the previous engine "
            f"(met: {_num(t.get('met_previous'))}), >= {_ratio(t.get('dam4_n64_vs_loop'))} the per-trial loop "
            f"(met: {_num(t.get('met_loop'))})."
        )
    for label, rec in (d.get("nam_sweep") or {}).items():
        workers = rec.get("workers", 1)
        out.append(
            f"`nam sweep` {label.replace('_', ' ')}: {rec['wall_seconds']} s sweep wall with {workers} worker "
            f"thread(s); {rec['compile_seconds']} s compiling {rec['programs']} programs and "
            f"{rec['run_seconds']} s running, summed over the workers ({100 * rec['compile_share']:.0f} % of the "
            "workers' time compiling"
            + (
                f"; something was compiling during {100 * rec['compile_wall_share']:.0f} % of the wall time"
                if "compile_wall_share" in rec
                else ""
            )
            + ")."
        )
    return out


def _gordleeva(d):
    res = d["results"]
    nam = res["nam"]
    rows = [
        [
            "nam (JAX, float32, jit)",
            f"{nam['single_trial_median_s']:.3f} s",
            "1",
            f"{nam['single_trials_per_s']:.3g} (batch of {nam.get('batch')}: {nam['batch_trials_per_s']:.3g})",
            "-",
        ]
    ]
    for key, label in (("brian2_auto", "Brian2, default target"), ("brian2_numpy", "Brian2, numpy target")):
        b = res.get(key)
        if not b:
            continue
        rows.append(
            [
                f"{label} ({', '.join(b.get('codeobject_classes', []))})",
                f"{b['run_median_s']:.3f} s",
                _ratio(b.get("single_ratio_brian2_over_nam")),
                f"{b['trials_per_s']:.3g}",
                _ratio(b.get("batch_ratio_nam_over_brian2")),
            ]
        )
    out = [_table(["simulator", "one 1 s trial", "time / nam's", "trials/s", "nam batch throughput / this"], rows)]
    agree = []
    for key, per in (d.get("agreement") or {}).items():
        if not isinstance(per, dict):
            continue
        for which, a in per.items():
            if isinstance(a, dict) and "neurons" in a:
                agree.append(
                    [
                        f"{which} ({key})",
                        f"{a['neurons_with_equal_counts']} / {a['neurons']}",
                        a.get("steps_with_different_population_spikes"),
                        _num(a.get("within_tolerance")),
                    ]
                )
    if agree:
        out.append(
            _table(
                [
                    "comparison",
                    "neurons with equal spike counts",
                    "steps with different population count",
                    "within tolerance",
                ],
                agree,
            )
        )
    return out


def _learning(d):
    rows = []
    for r in d["results"]:
        m, mem = r["median_s"], r.get("memory", {})
        mib = lambda k: f"{mem[k]['temp_bytes'] / 2**20:.3g} MiB" if k in mem else "-"  # noqa: E731
        rows.append(
            [
                r["model"],
                r["n"],
                r.get("state_size", "-"),
                _ms(m["forward"]),
                f"{_ms(m['bptt'])} ({_ratio(r.get('bptt_over_forward'))})",
                f"{_ms(m['implicit'])} ({_ratio(r.get('implicit_over_forward'))})",
                mib("bptt"),
                mib("implicit"),
            ]
        )
    return [
        _table(
            [
                "model",
                "N",
                "state size",
                "forward",
                "BPTT gradient (x forward)",
                "implicit gradient (x forward)",
                "BPTT temp memory",
                "implicit temp memory",
            ],
            rows,
        )
    ]


def _astrosnn(d):
    out = []
    head = d.get("headline") or {}
    if head:
        out.append(
            "**Training step, parallel against recurrent form**\n\n"
            + _table(
                ["sequence length", "parallel tokens/s (best chunk)", "recurrent tokens/s", "parallel / recurrent"],
                [
                    [
                        k.lstrip("T"),
                        f"{_num(v['parallel_tokens_per_s'], 5)} (chunk {v.get('best_chunk')})",
                        _num(v["recurrent_tokens_per_s"], 5),
                        _ratio(v["ratio"]),
                    ]
                    for k, v in head.items()
                ],
            )
        )
    gen = d.get("generation") or {}
    if gen.get("rows"):
        out.append(
            "**Generation, one token at context length L: AstroSNN state against a transformer's KV cache**"
            "\n\n"
            + _table(
                ["context L", "AstroSNN us/token", "transformer us/token", "AstroSNN state", "transformer KV cache"],
                [
                    [
                        r["L"],
                        f"{1e6 * r['latency_scan_s_per_token']['astrosnn']:.0f}",
                        f"{1e6 * r['latency_scan_s_per_token']['transformer']:.0f}",
                        f"{r['state_bytes']['astrosnn']:,} B",
                        f"{r['state_bytes']['transformer']:,} B",
                    ]
                    for r in gen["rows"]
                ],
            )
        )
    return out


def _astrosnn_retention(d):
    out = []
    tasks = sorted({v["task"] for v in d.values()})
    for task in tasks:
        runs = [v for v in d.values() if v["task"] == task]
        delays = sorted({int(k) for v in runs for k in v["accuracy"]})
        rows = [
            [v["model"], f"{v['params']:,}"] + [f"{v['accuracy'].get(str(t), math.nan):.3f}" for t in delays]
            for v in runs
        ]
        chance = runs[0].get("chance")
        out.append(
            f"**{task}** (chance {chance:.3f}): accuracy against delay (tokens)\n\n"
            + _table(["model", "parameters"] + [str(t) for t in delays], rows)
        )
    return out


def _pm(s):
    return f"{s['mean']:.3f}" + (f" ± {s['sd']:.3f}" if s.get("sd") is not None else "")


def _astrosnn_lm(d):
    out = []
    for corpus, part in d["summary"].items():
        rows = [
            [
                name,
                f"{r['params']:,}",
                _pm(r["val_nats"]),
                " / ".join(f"{x:.3f}" for x in r["per_seed"]),
                _num(r.get("spike_rate")),
                f"{r['train_seconds'] / 60:.1f} min",
            ]
            for name, r in part["models"].items()
        ]
        text = f"**{corpus}**: validation nats per character, mean ± sample sd over seeds\n\n" + _table(
            ["model", "parameters", "val nats/char", "each seed", "spike rate", "training wall time"], rows
        )
        comp = part["comparisons"]
        lines = [
            f"- {k.replace('_minus_', ' − ')}: {_pm(c)} nats/char (paired over {c['n']} seeds)"
            for k, c in comp.items()
            if not k.startswith("gap_closed")
        ]
        if "gap_closed" in comp:
            per = comp.get("gap_closed_per_seed", {})
            lines.append(
                "- share of astrosnn-membrane's gap to the LSTM that astrosnn closes: "
                f"{comp['gap_closed']:.0%} from the seed means"
                + ("; per seed " + ", ".join(f"{v:.0%}" for v in per.values()) if per else "")
            )
        out.append(text + "\n\n" + "\n".join(lines))
    traced = [r for r in d["runs"].values() if "trace" in r]
    if traced:
        rows = []
        for r in sorted(traced, key=lambda r: (r["corpus"], r["model"], r["seed"])):
            t = {k: sum(b[k] for b in r["trace"]) / len(r["trace"]) for k in r["trace"][0] if k != "decays"}
            rows.append(
                [
                    r["corpus"],
                    r["model"],
                    r["seed"],
                    f"{r['read_removed_val_nats'] - r['val_nats']:+.3f}",
                    f"{t['spikes_flipped']:.3f}",
                    f"{t['residual_share']:.3f}",
                    f"{t['stream_share']:.3f}",
                    f"{t['k_rate']:.2f} / {t['q_rate']:.2f}",
                    f"{t['writes_per_token']:.1f}",
                    f"{t['silent_writes']:.3f}",
                    ", ".join(f"{x:.2f}" for x in r["trace"][0]["decays"]),
                ]
            )
        out.append(
            "**What the astrocyte read contributes** (`nam.astrosnn.astrocyte_trace` on 16 validation "
            "windows, averaged over blocks; decays of the first block)\n\n"
            + _table(
                [
                    "corpus",
                    "model",
                    "seed",
                    "loss added by removing the read",
                    "spikes flipped by the read",
                    "read's share of the stream",
                    "spikes' share of the stream",
                    "k / q mean",
                    "key units written per head and token",
                    "silent writes",
                    "learned decays (block 1)",
                ],
                rows,
            )
        )
    return out


def _astrosnn_lm_candidates(d):
    s = d["settings"]
    rows = [
        [
            r["candidate"],
            ", ".join(f"{k}={v}" for k, v in r["options"].items()) or "-",
            f"{r['params']:,}",
            f"{r['val_nats']:.3f}",
            "-" if r.get("minus_lif") is None else f"{r['minus_lif']:+.3f}",
            _num(r.get("spike_rate")),
        ]
        for r in sorted(d["rows"], key=lambda r: r["val_nats"])
    ]
    return [
        f"{s['corpus']}, seed {s['seed']}, {s['steps']} steps of {s['batch']} x {s['length']}, "
        f"{s['params']:,} parameters\n\n"
        + _table(["candidate", "options", "parameters", "val nats/char", "− LIF-SNN", "spike rate"], rows)
    ]


def _k_star(r):
    """K* of a search record of benchmarks/full_network_regimes.py ("< K": even the smallest load tried
    failed; "> K": above the largest)."""
    if r is None:
        return "-"
    if r["k_star"] is None:
        return f"< {r['k_hi']}" if r["k_lo"] is None else f"> {r['k_lo']}"
    return f"{r['k_star']:.0f}"


def _full_network_regimes(d):
    """Three parts (`PARTS`): the zero-leak stability, the glial lock-in, the regime search; a part the file
    lacks is a note."""
    out = []
    stab = d.get("stability") or []
    if stab:
        rows = [
            [
                r["n"],
                f"{r['residual_full_at_lift']:.1e}",
                f"{r['residual_with_psi_sign_flipped']:.2f}",
                f"{r['effective_max_real']:.3f}",
                r["effective_unstable"],
                f"{r['full_max_real']:.3f}",
                f"{r['full_unstable']} / {r['full_dim']}",
                f"{r['symmetric_unstable']} / {r['symmetric_dim']}",
                r["hessian_negative_symmetric"],
            ]
            for r in stab
        ]
        out.append(
            "**Zero leak: the effective fixed point lifted to the full network** (K = 2, float64)\n\n"
            + _table(
                [
                    "N",
                    "max abs field of the full network there",
                    "same with the sign of psi flipped",
                    "effective: largest Re",
                    "effective: unstable",
                    "full: largest Re",
                    "full: unstable / dimension",
                    "symmetric s, p: unstable / dimension",
                    "negative eigenvalues of the energy Hessian (symmetric)",
                ],
                rows,
            )
        )
    else:
        out.append("*The zero-leak stability was not measured in this file.*")
    lock = d.get("lock_in")
    if lock:
        rows = [
            [
                f"{t['t']:g}",
                f"{t['g_distance']:.2e}",
                f"{t['psi_distance']:.2e}",
                _num(t["retrieved"]),
                f"{t['mean_abs_x']:.2f}",
            ]
            for t in lock["trace"]
        ]
        rnd = lock["random_states"]
        out.append(
            f"**Default leaks: glial lock-in from a cue** (N = {lock['n']}, K = {lock['k_cue']}, float64)\n\n"
            + _table(
                [
                    "time",
                    "mean abs(g - sign(phi phi^T))",
                    "mean abs(psi - sign(phi phi^T))",
                    "read-out = memory",
                    "mean abs(x)",
                ],
                rows,
            )
            + f"\n\nRandom +-1 states kept (N = {rnd['n']}, K = {rnd['k']}): full network with locked glia "
            f"{rnd['kept_full']} / {rnd['states']}, effective model {rnd['kept_effective']} / {rnd['states']}; "
            f"at a locked state the largest real part of the Jacobian is {rnd['locked_state_max_real']:.3f} "
            f"({rnd['locked_state_unstable']} unstable directions)."
        )
    else:
        out.append("*The lock-in was not measured in this file.*")
    reg = d.get("regimes")
    if reg:
        sizes = sorted({r["n"] for r in reg["full"] + reg["effective"]})
        eff = {(r["tensor"], r["n"]): r for r in reg["effective"]}

        def cell(r, tensor, n):
            e = eff.get((tensor, n))
            ratio = (
                f" ({r['k_star'] / e['k_star']:.2f})"
                if r is not None and r["k_star"] and e is not None and e["k_star"]
                else ""
            )
            return _k_star(r) + ratio

        rows = [
            ["effective", tensor, "-", "-", "-"] + [_k_star(eff.get((tensor, n))) for n in sizes]
            for tensor in ("eq10", "distinct")
        ]
        groups = {}
        for r in reg["full"] + reg.get("controls", []):
            groups.setdefault((r["tensor"], r["init"], r["alpha"], r["tau_glia"]), {})[r["n"]] = r
        zero = {k: v for k, v in groups.items() if k[1] == "zero"}
        all_zero_fail = bool(zero) and all(
            r["k_star"] is None and r["k_lo"] is None for v in zero.values() for r in v.values()
        )
        for (tensor, init, alpha, tau), per in sorted(
            groups.items(), key=lambda kv: (kv[0][0] != "eq10", kv[0][1], -kv[0][2], kv[0][3])
        ):
            if all_zero_fail and init == "zero":
                continue
            rows.append(
                ["full", tensor, init.replace("_", " "), f"{alpha:g}", f"{tau:g}"]
                + [cell(per.get(n), tensor, n) for n in sizes]
            )
        s = d["settings"]
        text = (
            f"**K\\* of the full network by regime** ({s['cues']} cues per load, {100 * s['flip']:.1f}% of the "
            "bits flipped, sign read-out, counted when CONVERGED or TIME_LIMIT; in brackets K\\*_full / K\\*_effective "
            'with the same tensor; "< 1": not even one memory is retrieved from half of the cues)\n\n'
            + _table(
                ["model", "tensor", "glia start", "alpha = gamma", "tau_s = tau_p"] + [f"N = {n}" for n in sizes], rows
            )
        )
        if all_zero_fail:
            kept = min(c["kept_cue"] for v in zero.values() for r in v.values() for c in r["curve"])
            share = "every read-out is" if kept == 1.0 else f"at least {100 * kept:.0f}% of the read-outs are"
            text += (
                f"\n\nGlia started at zero: K\\* < 1 in all {len(zero)} regimes at every N; at every load tried "
                f"{share} the cue itself, errors included."
            )
        best = reg.get("best") or []
        if best:
            text += (
                "\n\nClosest to the effective model (mean K\\*_full / K\\*_effective at N = "
                + ", ".join(str(n) for n in s["sizes"])
                + "): "
                + "; ".join(
                    f"alpha = gamma = {b['alpha']:g}, tau_s = tau_p = {b['tau_glia']:g}, {b['tensor']}, "
                    f"{b['init'].replace('_', ' ')} ({b['mean_ratio_to_effective']:.2f})"
                    for b in best
                )
                + "."
            )
        out.append(text)
    else:
        out.append("*The regime search was not run for this file.*")
    return out


def _attention_approximation(d):
    rows = [
        [
            r["regime"],
            r["T"],
            r["d"],
            "orthogonal" if r["orthogonal"] else "iid",
            " / ".join(f"{e:.3g}" for e in (r["error"][0], r["error"][len(r["error"]) // 2], r["error"][-1])),
            f"{r['slope']:+.3f}",
        ]
        for r in d["rows"]
    ]
    ms = d["rows"][0]["M"]
    s = d["summary"]
    return [
        _table(
            ["inputs", "T", "d", "features", f"error at M = {ms[0]} / {ms[len(ms) // 2]} / {ms[-1]}", "fitted slope"],
            rows,
        ),
        f"Slopes of the sphere regime: {s['slope_min']:+.3f} to {s['slope_max']:+.3f} over M = {s['M_range'][0]} to "
        f"{s['M_range'][1]} (target {s['target'][0]} to {s['target'][1]}: "
        f"{'met' if s['within_target'] else 'missed'}); error = RMS over {d['seeds']} feature seeds of the relative "
        "Frobenius error.",
    ]


def _attention_throughput(d):
    rows = [
        [
            ("causal" if r["causal"] else "full"),
            r["T"],
            _ms(r["astrocyte_s"]),
            _ms(r["softmax_s"]),
            _ratio(r["softmax_over_astrocyte"]),
        ]
        for r in d["rows"]
    ]
    z = d["sizes"]
    return [
        _table(
            [
                "attention",
                "T",
                "astrocyte (closed form)",
                "jax.nn.dot_product_attention",
                "softmax time / astrocyte time",
            ],
            rows,
        ),
        f"Batch {z['batch']}, {z['heads']} heads of {z['head_dim']}, M = {z['features']} features, {z['dtype']}, "
        f"median of {z['repeats']} interleaved repeats, forward only. The astrocyte layer is faster from "
        f"T = {d['crossover_full']} (full) and T = {d['crossover_causal']} (causal) on.",
    ]


RENDERERS = {
    "neuron_astrocyte": _neuron_astrocyte,
    "sweep": _sweep,
    "gordleeva": _gordleeva,
    "learning": _learning,
    "astrosnn": _astrosnn,
    "astrosnn_retention": _astrosnn_retention,
    "astrosnn_lm": _astrosnn_lm,
    "astrosnn_lm_candidates": _astrosnn_lm_candidates,
    "full_network_regimes": _full_network_regimes,
    "attention_approximation": _attention_approximation,
    "attention_throughput": _attention_throughput,
    "attention_lm": _astrosnn_lm,
}
# renderers with named parts, in the order they return them (`<!-- results:NAME:PART -->`)
PARTS = {"full_network_regimes": ("stability", "lock_in", "regimes")}


def render(name: str, root: str, part: str | None = None) -> str:
    """The markdown for `<!-- results:name -->`: tables, the machine, and where the numbers come from."""
    rel = f"benchmarks/results/{name}.json"
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        return f'!!! note "Not measured yet"\n    `{rel}` is not in this checkout.\n'
    with open(path) as f:
        data = json.load(f)
    renderer = RENDERERS.get(name)
    try:
        if renderer is None:
            raise KeyError(f"no renderer for {name!r}")
        parts = renderer(data)
        if part is not None:
            parts = [parts[PARTS[name].index(part)]]
    except (KeyError, TypeError, ValueError, AttributeError, statistics.StatisticsError) as e:
        log.info("results table %s not rendered: %r", rel, e)
        return (
            f'!!! warning "Table not rendered"\n    The layout of `{rel}` is not one the docs know '
            f"({type(e).__name__}: {e}); see the file itself.\n"
        )
    env = _env(data) if isinstance(data, dict) else ""
    return "\n\n".join(parts + ([env] if env else []) + [f"*Source: `{rel}`, read when these docs were built.*"]) + "\n"


def on_page_markdown(markdown, page, config, files):
    root = os.path.dirname(os.path.abspath(config["config_file_path"]))
    return MARKER.sub(lambda m: render(m.group(1), root, m.group(2)), markdown)
