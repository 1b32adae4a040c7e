"""Summary table and figures of a capacity sweep.

Why finite-N slopes sit below n - 1: the no-error capacity K = N^(n-1) / (2 (2n-3)!! ln N) has the
local log-log slope d log K / d log N = (n - 1) - 1 / ln N, e.g. 0.78 for classical Hopfield between
N = 50 and 200. A fitted exponent is therefore compared with the same fit of the theory curve over the
same N (`theory_exponent_same_n`), not with n - 1.

Memories per compute unit and the crossover: the neuron-astrocyte network stores K ~ N^3 / (30 ln N)
memories (quartic law) in N + 2 N^2 units, so K / units ~ N / (60 ln N) grows without bound; the
hidden-neuron DAM with the same quartic capacity uses N + K units (one hidden neuron per memory), so
its K / units stays below 1. The two curves cross where K(N) = 2 N^2, N = 60 ln N, about N = 350
(`crossover_n`). With the eq. 10 tensor as printed, the continuous network's self-coupling caps K at
~c N^2 and its K / units at ~c / 2: no crossover.
"""

import math
import os

import numpy as np

from .._checks import check_instance, check_output_dir
from .._plotting import save_figure
from ..capacity._theory import bit_error_probability, fixed_point_capacity
from ._registry import CLAIM_MODELS, CLAIM_REFERENCE, REGISTRY

STATUS_TEXT = {
    "bracketed": "the 50% crossing was bracketed between two measured loads and interpolated",
    "wide_interval": "bracketed, but the 95% interval reaches below one memory or is wider than the range of "
                     "loads measured: K* is not well determined (measure more trials)",
    "below_range": "below 50% already at K = 1 (no capacity in range)",
    "above_range": "still above 50% at the largest load allowed (k_max)",
    "budget_exhausted": "max_evals loads measured without bracketing the crossing",
}
_CRITERION_TEXT = {"retrieved": "50% exact retrieval from the cue",
                   "fixed_point": "50% of stored memories exact one-step fixed points"}


def _fmt(x, digits=3):
    if isinstance(x, float):
        return f"{x:.{digits}g}" if math.isfinite(x) else "-"
    return str(x)


def _percent(x) -> str:
    return f"{100 * x:.0f}%" if isinstance(x, float) and math.isfinite(x) else "-"


def claim_table(summary: list[dict], against: str = CLAIM_REFERENCE) -> list[dict]:
    """Per (model, N) measured for both a model with compute units and `against` (the hidden-neuron DAM):
    K* per unit with its 95% interval, the same for `against`, and `holds`: the model's interval lies
    entirely above the other's (the paper's claim at that N, measured)."""
    ref = {s["n"]: s for s in summary if s["model"] == against and math.isfinite(s.get("k_star_per_unit", math.nan))}
    out = []
    for s in summary:
        if s["model"] == against or s["n"] not in ref or not math.isfinite(s.get("k_star_per_unit", math.nan)):
            continue
        h = ref[s["n"]]
        low, high = s.get("per_unit_low", math.nan), s.get("per_unit_high", math.nan)
        out.append({"model": s["model"], "n": s["n"], "per_unit": s["k_star_per_unit"], "low": low, "high": high,
                    "hidden": h["k_star_per_unit"], "hidden_low": h.get("per_unit_low", math.nan),
                    "hidden_high": h.get("per_unit_high", math.nan),
                    "holds": bool(low > h.get("per_unit_high", math.nan))})
    return out


def _units(x) -> str:
    return f"{int(round(x))}" if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def _criterion(result) -> str:
    return result.summary[0]["criterion"] if result.summary else "retrieved"


def _check_result(result):
    from ._engine import SweepResult  # the engine imports this module

    check_instance("result", result, SweepResult)


def format_summary(result) -> str:
    """The run line (compile and run time), K* per model and N with its bootstrap interval and theory,
    memories per compute unit, the fitted law per model beside the same fit of the theory, and a
    legend explaining every column and status word."""
    _check_result(result)
    lines = []
    fixed_point = _criterion(result) == "fixed_point"  # the theory columns show the criterion's own theory
    theory_key = "theory_fixed_point_exponent_same_n" if fixed_point else "theory_exponent_same_n"
    rec = getattr(result, "record", None) or {}
    if rec:
        compile_s, run_s, workers = rec.get("compile_seconds", math.nan), rec.get("run_seconds", math.nan), \
            rec.get("workers", 1)
        busy = compile_s + run_s
        share = f" ({100 * compile_s / busy:.0f}% compiling)" if busy > 0 else ""
        split = (f"{compile_s:.1f} s compiling {rec.get('programs', 0)} programs + {run_s:.1f} s running"
                 + (f", summed over {workers} worker threads" if workers > 1 else "") + share)
        if workers > 1 and "compile_wall_seconds" in rec:
            wall_s = rec.get("wall_seconds", math.nan)
            split += (f"; something was compiling during {rec['compile_wall_seconds']:.1f} s of the wall "
                      f"({100 * rec['compile_wall_seconds'] / wall_s:.0f}%)")
        lines.append(f"run: {rec.get('wall_seconds', math.nan):.1f} s wall{' =' if workers == 1 else ';'} {split}; "
                     f"{rec.get('backend', '?')} x{rec.get('device_count', '?')}; "
                     f"{rec.get('rows_measured', 0)} rows measured, {rec.get('rows_reused', 0)} reused")
        lines.append("")
    lines += [f"{'model':<22} {'N':>5} {'K*':>9} {'95% CI':>21} {'theory':>9} {'fp 50%':>9} {'units':>7} "
              f"{'K*/unit':>8} {'unsettled':>9}  status", "-" * 116]
    for s in result.summary:
        ci = f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]"
        theory = s["theory_fixed_point"] if fixed_point else s["theory"]
        lines.append(f"{s['model']:<22} {s['n']:>5} {_fmt(s['k_star']):>9} {ci:>21} {_fmt(theory):>9} "
                     f"{_fmt(s['theory_fixed_point']):>9} {_units(s['units']):>7} {_fmt(s['k_star_per_unit']):>8} "
                     f"{_percent(s.get('no_steady', math.nan)):>9}  {s['status']}")
    claims = claim_table(result.summary)
    if claims:
        lines += ["", "the claim: more memories per compute unit than the hidden-neuron DAM at the same N, 95% "
                  "intervals apart"]
        for model in dict.fromkeys(c["model"] for c in claims):
            rows = [c for c in claims if c["model"] == model]
            first = next((c["n"] for c in rows if c["holds"]), None)
            verdict = (f"first holds at measured N = {first}" if first is not None
                       else "holds at no measured N")
            lines.append(f"  {model}: {verdict}; " + "; ".join(
                f"N={c['n']}: {_fmt(c['per_unit'])} [{_fmt(c['low'])}, {_fmt(c['high'])}] vs "
                f"{_fmt(c['hidden'])} [{_fmt(c['hidden_low'])}, {_fmt(c['hidden_high'])}]" for c in rows))
    if result.fits:
        lines += ["", f"{'model':<22} {'law':<12} {'exponent':>9} {'95% CI':>18} {'theory, same N':>15} "
                  f"{'asymptotic':>11}", "-" * 92]
    for f in result.fits:
        if math.isfinite(f["ci_low"]):
            ci = f"[{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]"
        else:
            ci = "2 points: no CI"
        law = "K ~ N^a" if f["law"] == "power" else "K ~ e^(a N)"
        lines.append(f"{f['model']:<22} {law:<12} {_fmt(f['exponent']):>9} {ci:>18} "
                     f"{_fmt(f[theory_key]):>15} {_fmt(f['asymptotic_exponent']):>11}")
    lines += ["", f"K* = the load at {_CRITERION_TEXT[_criterion(result)]}, from a logistic fit of the measured "
              "fractions; 95% CI by bootstrap (binomial per load; memory sets resampled where cues share them).",
              ("theory = the fixed-point load, (1 - P_err)^N = 1/2 with the exact finite-N P_err, the theory of "
               "this criterion (the same as fp 50%); - = none defined or no theory applies." if fixed_point else
               "theory = no-error load N^(n-1) / (2 (2n-3)!! ln N) (binary rules, hidden DAM; N^3 / (12 ln N) for "
               "the distinct-index tensor); self-coupling load c N^2 (eq. 10 tensor, continuous); exp DAM: "
               "Demircigil's lower bound; - = no theory applies (full network: docs/full-network.md)."),
              "fp 50% = load where (1 - P_err)^N = 1/2, the theory of --criterion fixed_point. units = neurons + "
              "synapses + processes (or hidden neurons); - = none defined.",
              "unsettled = share of cue runs at the two loads bracketing K* that ended without a steady state "
              "(step or sweep limit, non-finite); they count as not retrieved.",
              "exponent: least squares of log K* on log N (exp DAM: on N, a rate per neuron); CI: t interval.",
              "status: " + "; ".join(f"{k} = {v}" for k, v in STATUS_TEXT.items()) + "."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- figures


def per_unit_theory(name: str, n, rho: float = 0.1) -> np.ndarray:
    """The theory K / units of a sweep model at each N (NaN where the model has no units)."""
    sm = REGISTRY[name]
    out = []
    for m in np.atleast_1d(np.asarray(n, float)):
        k = sm.theory_k(int(round(m)), rho)
        out.append(k / sm.units(m, k))
    return np.asarray(out)


def crossover_n(rho: float = 0.1, a: str = CLAIM_MODELS[0], b: str = CLAIM_REFERENCE) -> float:
    """The N where the theory memories per unit of model `a` first exceed those of model `b` (NaN if
    not below N = 10^5): by default the quartic neuron-astrocyte network (binary rule) against the
    hidden-neuron DAM, where N^3 / (30 ln N) = 2 N^2, about N = 350; for the continuous network with
    the distinct-index tensor (N^3 / (12 ln N) = 2 N^2) about N = 110."""
    grid = np.unique(np.round(np.geomspace(8, 1e5, 600)))
    diff = per_unit_theory(a, grid, rho) - per_unit_theory(b, grid, rho)
    idx = np.nonzero(diff > 0)[0]
    if not idx.size or idx[0] == 0:
        return math.nan
    i = idx[0]
    lo, hi = grid[i - 1], grid[i]
    d0, d1 = diff[i - 1], diff[i]
    return float(lo + (hi - lo) * (-d0) / (d1 - d0))


def _colors():
    import matplotlib

    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: cycle[i % len(cycle)] for i, name in enumerate(REGISTRY)}


def _n_ticks(ax, ns):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ticks = []
    for n in sorted(set(int(n) for n in ns)):  # no two labels closer than a factor 1.25
        if not ticks or n >= 1.25 * ticks[-1]:
            ticks.append(n)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(lambda x, pos: f"{int(round(x))}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _panels(names):
    from matplotlib.figure import Figure

    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(names):]:
        ax.set_visible(False)
    return fig, axes


def _per_model_panels(result, names, draw, path, title, *, xlabel, ylabel):
    """One log-x panel per model, one curve per N (viridis by N): `draw(ax, sweep_model, n, rows, color)`
    plots the rows of one (model, N). Returns (figure, axes, path), or None when `names` is empty."""
    import matplotlib
    from matplotlib.ticker import NullFormatter

    if not names:
        return None
    fig, axes = _panels(names)
    cmap = matplotlib.colormaps["viridis"]
    for ax, name in zip(axes, names):
        sm = REGISTRY[name]
        ns = sorted({r["n"] for r in result.rows if r["model"] == name})
        for j, n in enumerate(ns):
            draw(ax, sm, n, [r for r in result.rows if r["model"] == name and r["n"] == n],
                 cmap(j / max(1, len(ns) - 1)))
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short log range overlap
        ax.set_title(sm.label, fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig, axes, path


def write_sweep_figures(result, out_dir: str) -> list[str]:
    """capacity.png (K* vs N with intervals, fits and theory, one legend entry per model), collapse.png
    (one panel per model: the criterion's fraction vs K over the model's theory scale, N by colour),
    bit_errors.png (binary models: measured per-bit one-step error against Phi(-sqrt(S))), per_unit.png
    (K* per compute unit vs N for every model on one axis, theory out to the predicted crossover)."""
    import matplotlib
    from matplotlib.figure import Figure  # object API: no pyplot state, no backend switch

    _check_result(result)
    out_dir = check_output_dir("`out_dir`", out_dir)
    paths = []
    criterion = _criterion(result)
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[criterion]
    colors = _colors()
    rho = result.rows[0]["rho"] if result.rows else 0.1
    models = list(dict.fromkeys(s["model"] for s in result.summary))
    all_n = [s["n"] for s in result.summary]

    # capacity.png
    fig = Figure(figsize=(7.5, 5.2))
    ax = fig.subplots()
    for name in models:
        sm = REGISTRY[name]
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star"])]
        if not pts:
            continue
        n = np.array([s["n"] for s in pts], float)
        k = np.array([s["k_star"] for s in pts])
        err = np.array([[s["k_star"] - s["ci_low"], s["ci_high"] - s["k_star"]] for s in pts]).T
        c = colors[name]
        fit = next((f for f in result.fits if f["model"] == name), None)
        label = sm.label
        if fit:
            label += (f": K ~ N^{fit['exponent']:.2f}" if fit["law"] == "power" else f": K ~ e^({fit['exponent']:.2f} N)")
        ax.errorbar(n, k, yerr=np.maximum(err, 0), fmt="o", ms=4, color=c, label=label, capsize=2)
        grid = np.geomspace(n.min(), n.max(), 50)
        if fit:
            x, gx = (np.log(n), np.log(grid)) if fit["law"] == "power" else (n, grid)
            ax.plot(grid, np.exp(np.log(k).mean() + fit["exponent"] * (gx - x.mean())), "-", color=c, lw=1)
        ax.plot(grid, [sm.theory_k(int(round(g)), rho) for g in grid], ":", color=c, lw=1)
        if criterion == "fixed_point" and sm.degree:
            ax.plot(n, fixed_point_capacity(n, sm.degree), "-.", color=c, lw=1)
    ax.plot([], [], "k-", lw=1, label="least-squares fit (solid)")
    ax.plot([], [], "k:", lw=1, label="theory (dotted; see the summary's legend)")
    paths.append(save_figure(fig, ax, os.path.join(out_dir, "capacity.png"), xlabel="neurons N",
                             ylabel=f"K* (memories at {_CRITERION_TEXT[criterion]})",
                             title="capacity K* vs N (error bars: 95% bootstrap CI)", loglog=True, dpi=110))
    _n_ticks(ax, all_n)
    fig.savefig(paths[-1], dpi=110)

    # collapse.png
    names = list(dict.fromkeys(r["model"] for r in result.rows))

    def collapse(ax, sm, n, rows, color):
        ks = sorted({r["k"] for r in rows})
        frac = [sum(r[column] for r in rows if r["k"] == k) / sum(r["trials"] for r in rows if r["k"] == k) for k in ks]
        ax.plot(np.array(ks) / sm.theory_k(n, rho), frac, "o-", ms=3, lw=1, color=color, label=f"N={n}")

    path = _per_model_panels(result, names, collapse, os.path.join(out_dir, "collapse.png"),
                             "fraction vs load over the theory load: curves collapse if the theory's N-scaling holds",
                             xlabel="K / theory K*(N)",
                             ylabel="fraction retrieved" if criterion == "retrieved" else "fraction fixed points")
    if path:
        for ax in path[1]:
            ax.axhline(0.5, color="k", lw=0.5)
        path[0].savefig(path[2], dpi=100)
        paths.append(path[2])

    # bit_errors.png
    names = [m for m in dict.fromkeys(r["model"] for r in result.rows)
             if REGISTRY[m].kind == "binary" and REGISTRY[m].degree]

    def bit_errors(ax, sm, n, rows, color):
        ks = sorted({r["k"] for r in rows})
        err = [1.0 - np.nanmean([r["stable_bits"] for r in rows if r["k"] == k]) for k in ks]
        ax.plot(ks, np.maximum(err, 1e-6), "o", ms=3, color=color, label=f"N={n}")
        grid = np.geomspace(max(2, min(ks)), max(ks), 40)
        ax.plot(grid, bit_error_probability(n, grid, sm.degree, finite_size=True), "-", lw=1, color=color)
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1)

    path = _per_model_panels(result, names, bit_errors, os.path.join(out_dir, "bit_errors.png"),
                             "criterion 1: measured (points) and Phi(-sqrt(S)), exact finite-N S (lines)",
                             xlabel="stored memories K", ylabel="per-bit one-step error")
    if path:
        path[0].savefig(path[2], dpi=100)
        paths.append(path[2])

    # per_unit.png (only when some model has compute units and a measured K*)
    with_units = [m for m in models if any(math.isfinite(s["k_star_per_unit"]) for s in result.summary
                                           if s["model"] == m)]
    if not with_units:
        return paths
    fig = Figure(figsize=(7.5, 5.2))
    ax = fig.subplots()
    crosses = ({m: crossover_n(rho, m) for m in CLAIM_MODELS if m in with_units}
               if CLAIM_REFERENCE in with_units else {})
    cross = max([c for c in crosses.values() if math.isfinite(c)], default=math.nan)
    n_lo = min(all_n) if all_n else 8
    n_hi = max(max(all_n) if all_n else 8, 1.3 * cross if math.isfinite(cross) else 0)
    grid = np.unique(np.round(np.geomspace(n_lo, n_hi, 80)))
    for name in with_units:
        sm = REGISTRY[name]
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star_per_unit"])]
        n = np.array([s["n"] for s in pts], float)
        y = np.array([s["k_star_per_unit"] for s in pts])
        lo = np.array([s["per_unit_low"] for s in pts])
        hi = np.array([s["per_unit_high"] for s in pts])
        ax.errorbar(n, y, yerr=np.maximum([y - lo, hi - y], 0), fmt="o", ms=4, capsize=2, color=colors[name],
                    label=f"{sm.label} (measured)")
        ax.plot(grid, per_unit_theory(name, grid, rho), ":", lw=1, color=colors[name])
    ax.plot([], [], "k:", lw=1, label="theory K / units (dotted)")
    for m, c in crosses.items():
        if math.isfinite(c):
            ax.axvline(c, color=colors[m], lw=0.8, ls="--",
                       label=f"{m} passes {CLAIM_REFERENCE} in theory at N = {c:.0f}")
    first_held = {}
    for c in claim_table(result.summary):
        if c["holds"]:
            first_held.setdefault(c["model"], c)
    for c in first_held.values():
        ax.annotate(f"measured: {c['model']} above {CLAIM_REFERENCE}\nat N = {c['n']} (95% intervals apart)",
                    (c["n"], c["per_unit"]), fontsize=7, ha="right", va="bottom", xytext=(-4, 8),
                    textcoords="offset points", color=colors[c["model"]],
                    arrowprops=dict(arrowstyle="->", color=colors[c["model"]], lw=0.7))
    paths.append(save_figure(fig, ax, os.path.join(out_dir, "per_unit.png"), xlabel="neurons N",
                             ylabel="memories per compute unit, K* / units",
                             title="memories per compute unit (units: neurons + synapses + processes, "
                                   "or + hidden neurons)", loglog=True, dpi=110))
    # the legend beside the axes, where it hides no point
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    # ticks at the measured N and at round N across the rest of the drawn range
    _n_ticks(ax, list(all_n) + [m for m in (256, 384, 512, 768, 1024, 2048) if max(all_n) < m <= n_hi])
    fig.set_size_inches(11.0, 5.2)
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    return paths
