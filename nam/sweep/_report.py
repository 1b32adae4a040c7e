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
from ..capacity._theory import bit_error_probability
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


def format_table(headers: list[str], rows: list[list[str]], *, align: str | None = None, gap: int = 2) -> list[str]:
    """Fixed-width text columns that never run together: each column is as wide as its widest cell or
    header, and columns are separated by at least `gap` spaces, whatever the numbers (K* >= 1e3 too).

    **Arguments:** `headers`: the column titles; `rows`: lists of cell strings, as many as `headers`;
    `align`: one letter per column, "l" (left, names) or "r" (right, numbers); default: the first column
    left, the others right; `gap`: the spaces between columns.

    **Returns:** the lines of the table (without trailing spaces).
    """
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers) or any(len(r) != len(headers) for r in rows):
        raise ValueError(f"every row and `align` need {len(headers)} columns, one per header")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    sep = " " * gap

    def line(cells):
        return sep.join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    head = line(headers)
    return [head, "-" * len(head)] + [line(r) for r in rows]


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
    legend explaining every column and status word. Columns are as wide as their widest cell
    (`format_table`), so they never run together.

    **Arguments:** `result`: a `nam.SweepResult`.

    **Returns:** the tables and their legend, as one string.
    """
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
    table = []
    for s in result.summary:
        theory = s["theory_fixed_point"] if fixed_point else s["theory"]
        table.append([s["model"], str(s["n"]), _fmt(s["k_star"]), f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]",
                      _fmt(theory), _fmt(s["theory_fixed_point"]), _units(s["units"]), _fmt(s["k_star_per_unit"]),
                      _percent(s.get("no_steady", math.nan)), s["status"]])
    lines += format_table(["model", "N", "K*", "95% CI", "theory", "fp 50%", "units", "K*/unit", "unsettled",
                           "status"], table, align="lrrrrrrrrl")
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
    table = []
    for f in result.fits:
        if math.isfinite(f["ci_low"]):
            ci = f"[{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]"
        else:
            ci = "2 points: no CI"
        law = "K ~ N^a" if f["law"] == "power" else "K ~ e^(a N)"
        table.append([f["model"], law, _fmt(f["exponent"]), ci, _fmt(f[theory_key]), _fmt(f["asymptotic_exponent"])])
    if table:
        lines += [""] + format_table(["model", "law", "exponent", "95% CI", "theory, same N", "asymptotic"], table,
                                     align="llrrrr")
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


def _log_ticks(axis, lo: float, hi: float) -> None:
    """Labelled ticks on a log axis across [lo, hi], at round values (1, 2, 5 per decade), so that even a
    range inside one decade (no power of ten in it) has at least two labelled ticks."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return
    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    ticks = []
    for steps in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7)):
        ticks = [m * 10.0 ** e for e in decades for m in steps if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:
        ticks = [float(f"{lo:.2g}"), float(f"{hi:.2g}")]
    if len(ticks) > 8:  # at most about 8 labels
        ticks = ticks[:: math.ceil(len(ticks) / 8)]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(lambda x, pos: f"{x:g}")
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _figure(ax, figsize):
    """`ax` and its figure, or a new figure (object API: no pyplot state, no backend switch) and its axes."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _legend(ax, entries, *, outside: bool = False, fontsize: float | int = 7):
    """A legend of (handle or tuple of handles, label) entries; every line in a tuple gets the entry's label,
    so each drawn line is named in the legend (tuples are drawn over one another)."""
    from matplotlib.legend_handler import HandlerTuple

    for handles, label in entries:
        for h in handles if type(handles) is tuple else (handles,):  # (an ErrorbarContainer is a tuple too)
            h.set_label(label)
    kw = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0) if outside else {}
    ax.legend([h for h, _ in entries], [lab for _, lab in entries], fontsize=fontsize,
              handler_map={tuple: HandlerTuple(ndivide=1)}, **kw)


def _panels(names, axes=None):
    if axes is not None:
        axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if len(axes) < len(names):
            raise ValueError(f"`axes` must hold at least {len(names)} axes (one per model), got {len(axes)}")
        return axes[0].figure, axes
    from matplotlib.figure import Figure

    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(4.4 * cols, 3.5 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(names):]:
        ax.set_visible(False)
    return fig, axes


def _per_model_panels(result, names, draw, title, *, xlabel, ylabel, axes=None):
    """One log-x panel per model, one curve per N (viridis by N): `draw(ax, sweep_model, n, rows, color)`
    plots the rows of one (model, N) and returns its legend entry (handle or tuple of handles, label).
    Returns the figure and its axes, or (None, None) when `names` is empty."""
    import matplotlib

    if not names:
        return None, None
    fig, axes = _panels(names, axes)
    cmap = matplotlib.colormaps["viridis"]
    for ax, name in zip(axes, names):
        sm = REGISTRY[name]
        ns = sorted({r["n"] for r in result.rows if r["model"] == name})
        entries = [draw(ax, sm, n, [r for r in result.rows if r["model"] == name and r["n"] == n],
                        cmap(j / max(1, len(ns) - 1))) for j, n in enumerate(ns)]
        ax.set_xscale("log")
        xs = np.concatenate([np.asarray(line.get_xdata(), float) for line in ax.lines] or [np.ones(1)])
        xs = xs[np.isfinite(xs) & (xs > 0)]
        if xs.size:
            _log_ticks(ax.xaxis, xs.min(), xs.max())
        ax.set_title(sm.label, fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax._nam_entries = entries  # the caller adds its own entries, then draws the legend
    if title:
        fig.suptitle(title, fontsize=9)
    return fig, axes


_THEORY_TEXT = ("theory K*(N) (dotted):\n binary F=z^n and hidden DAM: no-error load N^(n-1) / (2 (2n-3)!! ln N)"
                "\n distinct-index T: N^3 / (12 ln N); eq. 10 T: self-coupling load c N^2\n F=exp: Demircigil's "
                "lower bound; full network: none")


def plot_capacity(result, *, ax=None):
    """K* against N for every model of a sweep, on log-log axes: the measured K* with its 95% bootstrap
    interval (points), the fitted law (solid) and the theory load (dotted; with `criterion="fixed_point"`
    also the fixed-point load, dash-dot), one colour and one legend entry per model.

    **Arguments:** `result`: a `nam.SweepResult`; `ax`: a matplotlib Axes to draw on (None: a new figure).

    **Returns:** the matplotlib `Figure` holding the axes.
    """
    _check_result(result)
    criterion = _criterion(result)
    colors = _colors()
    rho = result.rows[0]["rho"] if result.rows else 0.1
    fig, ax = _figure(ax, (11.0, 5.4))
    entries = []
    all_n = []
    for name in dict.fromkeys(s["model"] for s in result.summary):
        sm = REGISTRY[name]
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star"])]
        if not pts:
            continue
        n = np.array([s["n"] for s in pts], float)
        all_n += list(n)
        k = np.array([s["k_star"] for s in pts])
        err = np.array([[s["k_star"] - s["ci_low"], s["ci_high"] - s["k_star"]] for s in pts]).T
        c = colors[name]
        fit = next((f for f in result.fits if f["model"] == name), None)
        label = sm.label
        if fit:
            a = fit["exponent"]
            label += f": K ~ N^{a:.2f}" if fit["law"] == "power" else f": K ~ e^({a:.2f} N)"
        handles = [ax.errorbar(n, k, yerr=np.maximum(err, 0), fmt="o", ms=4, color=c, capsize=2)]
        grid = np.geomspace(n.min(), n.max(), 60) if n.size > 1 else n
        if fit:
            x, gx = (np.log(n), np.log(grid)) if fit["law"] == "power" else (n, grid)
            handles += ax.plot(grid, np.exp(np.log(k).mean() + fit["exponent"] * (gx - x.mean())), "-", color=c, lw=1)
        theory = sm.theory_smooth(grid, rho)
        if np.any(np.isfinite(theory)):
            handles += ax.plot(grid, theory, ":", color=c, lw=1.2)
        if criterion == "fixed_point" and sm.degree and sm.theory_applies:
            ints = np.unique(np.round(grid))
            handles += ax.plot(ints, [sm.fixed_point_k(int(g)) for g in ints], "-.", color=c, lw=1)
        entries.append((tuple(handles), label))
    for style, text in (("-", "least-squares fit of the measured K* (solid)"), (":", _THEORY_TEXT)) + (
            (("-.", "fixed-point load: (1 - P_err)^N = 1/2 (dash-dot)"),) if criterion == "fixed_point" else ()):
        entries.append((ax.plot([], [], "k", ls=style, lw=1)[0], text))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons N")
    ax.set_ylabel(f"K* (memories at {_CRITERION_TEXT[criterion]})")
    ax.set_title("capacity K* vs N (points: measured, error bars: 95% bootstrap interval)", fontsize=9)
    if all_n:
        _n_ticks(ax, all_n)
    _legend(ax, entries, outside=True, fontsize=6.5)
    fig.tight_layout()
    return fig


def plot_collapse(result, *, axes=None):
    """One panel per model: the criterion's fraction against K over the model's theory load K*(N), one
    curve per N (viridis by N), the 50% level as a line. The curves collapse onto one if the theory's
    N-scaling holds. A model without a theory (the full network) is drawn against K itself.

    **Arguments:** `result`: a `nam.SweepResult`; `axes`: a sequence of matplotlib Axes, one per model
    with rows (None: a new figure).

    **Returns:** the matplotlib `Figure`, or None when the result has no rows.
    """
    _check_result(result)
    criterion = _criterion(result)
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[criterion]
    rho = result.rows[0]["rho"] if result.rows else 0.1
    names = list(dict.fromkeys(r["model"] for r in result.rows))

    def collapse(ax, sm, n, rows, color):
        ks = sorted({r["k"] for r in rows})
        frac = [sum(r[column] for r in rows if r["k"] == k) / sum(r["trials"] for r in rows if r["k"] == k) for k in ks]
        scale = sm.theory_k(n, rho) if sm.theory_applies else 1.0  # no theory: the load itself
        return ax.plot(np.array(ks) / scale, frac, "o-", ms=3, lw=1, color=color)[0], f"N = {n}"

    fig, axes = _per_model_panels(
        result, names, collapse,
        "fraction vs load over the theory load K*(N) (the summary's theory column): curves collapse if the "
        "theory's N-scaling holds", xlabel="K / theory K*(N)",
        ylabel="fraction retrieved" if criterion == "retrieved" else "fraction fixed points", axes=axes)
    if fig is None:
        return None
    for ax, name in zip(axes, names):
        if not REGISTRY[name].theory_applies:
            ax.set_xlabel("stored memories K (no theory to scale by)", fontsize=8)
        ax._nam_entries.append((ax.axhline(0.5, color="k", lw=0.5), "50% level (K*)"))
        _legend(ax, ax._nam_entries, fontsize=6)
    fig.tight_layout()
    return fig


def plot_bit_errors(result, *, axes=None):
    """One panel per binary model with a degree: the measured per-bit one-step error of a stored memory
    (points) against the theory P_err = Phi(-sqrt(S)) at the exact finite-N signal-to-noise ratio S (lines),
    one colour per N.

    **Arguments:** `result`: a `nam.SweepResult`; `axes`: a sequence of matplotlib Axes, one per such model
    (None: a new figure).

    **Returns:** the matplotlib `Figure`, or None when the result has no binary model with a degree.
    """
    _check_result(result)
    names = [m for m in dict.fromkeys(r["model"] for r in result.rows)
             if REGISTRY[m].kind == "binary" and REGISTRY[m].degree]

    def bit_errors(ax, sm, n, rows, color):
        ks = sorted({r["k"] for r in rows})
        err = [1.0 - np.nanmean([r["stable_bits"] for r in rows if r["k"] == k]) for k in ks]
        points = ax.plot(ks, np.maximum(err, 1e-6), "o", ms=3, color=color)[0]
        grid = np.geomspace(max(2, min(ks)), max(ks), 60)
        line = ax.plot(grid, bit_error_probability(n, grid, sm.degree, finite_size=True), "-", lw=1, color=color)[0]
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1)
        return (points, line), f"N = {n}"

    fig, axes = _per_model_panels(
        result, names, bit_errors,
        r"per-bit one-step error of a stored memory: measured (points) and theory $P_{err} = \Phi(-\sqrt{S})$ "
        "(lines);\nS = signal-to-noise ratio of one bit's field (exact at finite N), "
        r"$\Phi$ = standard normal CDF; errors below $10^{-6}$ drawn at $10^{-6}$",
        xlabel="stored memories K", ylabel="per-bit one-step error", axes=axes)
    if fig is None:
        return None
    for ax, _ in zip(axes, names):
        _legend(ax, ax._nam_entries, fontsize=6)
    fig.tight_layout()
    return fig


def plot_per_unit(result, *, ax=None):
    """Memories per compute unit, K* / units, against N for every model with compute units: measured
    (points, 95% interval) and theory (dotted, smooth in N), the theory drawn out to the predicted
    crossover with the hidden-neuron DAM (dashed vertical line, only when that model was swept), and the
    first measured N where the claim holds (annotation).

    **Arguments:** `result`: a `nam.SweepResult`; `ax`: a matplotlib Axes to draw on (None: a new figure).

    **Returns:** the matplotlib `Figure`, or None when no model has compute units and a measured K*.
    """
    _check_result(result)
    colors = _colors()
    rho = result.rows[0]["rho"] if result.rows else 0.1
    models = list(dict.fromkeys(s["model"] for s in result.summary))
    all_n = [s["n"] for s in result.summary]
    with_units = [m for m in models if any(math.isfinite(s["k_star_per_unit"]) for s in result.summary
                                           if s["model"] == m)]
    if not with_units:
        return None
    fig, ax = _figure(ax, (11.0, 5.2))
    crosses = ({m: crossover_n(rho, m) for m in CLAIM_MODELS if m in with_units}
               if CLAIM_REFERENCE in with_units else {})
    cross = max([c for c in crosses.values() if math.isfinite(c)], default=math.nan)
    n_lo = min(all_n)
    n_hi = max(max(all_n), 1.3 * cross if math.isfinite(cross) else 0)
    grid = np.geomspace(n_lo, n_hi, 120)
    entries = []
    for name in with_units:
        sm = REGISTRY[name]
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star_per_unit"])]
        n = np.array([s["n"] for s in pts], float)
        y = np.array([s["k_star_per_unit"] for s in pts])
        lo = np.array([s["per_unit_low"] for s in pts])
        hi = np.array([s["per_unit_high"] for s in pts])
        handles = [ax.errorbar(n, y, yerr=np.maximum([y - lo, hi - y], 0), fmt="o", ms=4, capsize=2,
                               color=colors[name])]
        k_theory = sm.theory_smooth(grid, rho)
        if np.any(np.isfinite(k_theory)):
            units = np.array([sm.units(g, k) for g, k in zip(grid, k_theory)])
            handles += ax.plot(grid, k_theory / units, ":", lw=1.2, color=colors[name])
        entries.append((tuple(handles), sm.label))
    entries.append((ax.plot([], [], "k:", lw=1.2)[0], "theory K*(N) / units (dotted; theory as in capacity.png)"))
    entries.append((ax.errorbar([], [], yerr=[], fmt="o", ms=4, capsize=2, color="k"),
                    "measured K* / units, 95% bootstrap interval"))
    for m, c in crosses.items():
        if math.isfinite(c):
            entries.append((ax.axvline(c, color=colors[m], lw=0.8, ls="--"),
                            f"{m} passes {CLAIM_REFERENCE} in theory at N = {c:.0f} (dashed)"))
    first_held = {}
    for c in claim_table(result.summary):
        if c["holds"]:
            first_held.setdefault(c["model"], c)
    for c in first_held.values():
        ax.annotate(f"measured: {c['model']} above {CLAIM_REFERENCE}\nat N = {c['n']} (95% intervals apart)",
                    (c["n"], c["per_unit"]), fontsize=7, ha="right", va="bottom", xytext=(-4, 8),
                    textcoords="offset points", color=colors[c["model"]],
                    arrowprops=dict(arrowstyle="->", color=colors[c["model"]], lw=0.7))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_lo / 1.08, n_hi * 1.08)
    ax.set_xlabel("neurons N")
    ax.set_ylabel("memories per compute unit, K* / units")
    ax.set_title("memories per compute unit (units: neurons + synapses + processes, or + hidden neurons)",
                 fontsize=9)
    # ticks at the measured N and at round N across the rest of the drawn range
    _n_ticks(ax, list(all_n) + [m for m in (128, 192, 256, 384, 512, 768, 1024, 2048, 4096)
                                if max(all_n) < m <= n_hi * 1.08])
    _legend(ax, entries, outside=True)
    fig.tight_layout()
    return fig


def write_sweep_figures(result, out_dir: str) -> list[str]:
    """Draw the sweep's figures and save them as PNG in `out_dir` (created if missing): capacity.png
    (`plot_capacity`), collapse.png (`plot_collapse`), bit_errors.png (binary models, `plot_bit_errors`)
    and per_unit.png (models with compute units, `plot_per_unit`).

    **Arguments:** `result`: a `nam.SweepResult`; `out_dir`: the folder.

    **Returns:** the paths written, in that order (a figure with nothing to draw is not written).
    """
    _check_result(result)
    out_dir = check_output_dir("`out_dir`", out_dir)
    paths = []
    for name, plot, dpi in (("capacity.png", plot_capacity, 110), ("collapse.png", plot_collapse, 100),
                            ("bit_errors.png", plot_bit_errors, 100), ("per_unit.png", plot_per_unit, 110)):
        fig = plot(result)
        if fig is not None:
            path = os.path.join(out_dir, name)
            fig.savefig(path, dpi=dpi)
            paths.append(path)
    return paths
