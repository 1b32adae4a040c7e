"""The sweep's figures (`nam.sweep.plot_capacity`, `plot_collapse`, `plot_bit_errors`, `plot_per_unit`,
`write_sweep_figures`): each plot function draws on the axes it is given (or a new figure) and returns the
figure; the tables are `_report.py`'s."""

import math
import os

import numpy as np

from .._checks import check_output_dir
from ..capacity._theory import bit_error_probability
from ._registry import CLAIM_MODELS, CLAIM_REFERENCE, REGISTRY
from ._report import _CRITERION_TEXT, _check_result, _criterion, claim_table, crossover_n


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
        ticks = [m * 10.0**e for e in decades for m in steps if lo <= m * 10.0**e <= hi]
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
    ax.legend(
        [h for h, _ in entries],
        [lab for _, lab in entries],
        fontsize=fontsize,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        **kw,
    )


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
    for ax in axes[len(names) :]:
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
        entries = [
            draw(
                ax, sm, n, [r for r in result.rows if r["model"] == name and r["n"] == n], cmap(j / max(1, len(ns) - 1))
            )
            for j, n in enumerate(ns)
        ]
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


_THEORY_TEXT = (
    "theory K*(N) (dotted):\n binary F=z^n and hidden DAM: no-error load N^(n-1) / (2 (2n-3)!! ln N)"
    "\n distinct-index T: N^3 / (12 ln N); eq. 10 T: self-coupling load c N^2\n F=exp: Demircigil's "
    "lower bound; full network: none"
)


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
        (("-.", "fixed-point load: (1 - P_err)^N = 1/2 (dash-dot)"),) if criterion == "fixed_point" else ()
    ):
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
        result,
        names,
        collapse,
        "fraction vs load over the theory load K*(N) (the summary's theory column): curves collapse if the "
        "theory's N-scaling holds",
        xlabel="K / theory K*(N)",
        ylabel="fraction retrieved" if criterion == "retrieved" else "fraction fixed points",
        axes=axes,
    )
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
    names = [
        m for m in dict.fromkeys(r["model"] for r in result.rows) if REGISTRY[m].kind == "binary" and REGISTRY[m].degree
    ]

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
        result,
        names,
        bit_errors,
        r"per-bit one-step error of a stored memory: measured (points) and theory $P_{err} = \Phi(-\sqrt{S})$ "
        "(lines);\nS = signal-to-noise ratio of one bit's field (exact at finite N), "
        r"$\Phi$ = standard normal CDF; errors below $10^{-6}$ drawn at $10^{-6}$",
        xlabel="stored memories K",
        ylabel="per-bit one-step error",
        axes=axes,
    )
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
    with_units = [
        m for m in models if any(math.isfinite(s["k_star_per_unit"]) for s in result.summary if s["model"] == m)
    ]
    if not with_units:
        return None
    fig, ax = _figure(ax, (11.0, 5.2))
    crosses = {m: crossover_n(rho, m) for m in CLAIM_MODELS if m in with_units} if CLAIM_REFERENCE in with_units else {}
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
        handles = [
            ax.errorbar(n, y, yerr=np.maximum([y - lo, hi - y], 0), fmt="o", ms=4, capsize=2, color=colors[name])
        ]
        k_theory = sm.theory_smooth(grid, rho)
        if np.any(np.isfinite(k_theory)):
            units = np.array([sm.units(g, k) for g, k in zip(grid, k_theory)])
            handles += ax.plot(grid, k_theory / units, ":", lw=1.2, color=colors[name])
        entries.append((tuple(handles), sm.label))
    entries.append((ax.plot([], [], "k:", lw=1.2)[0], "theory K*(N) / units (dotted; theory as in capacity.png)"))
    entries.append(
        (
            ax.errorbar([], [], yerr=[], fmt="o", ms=4, capsize=2, color="k"),
            "measured K* / units, 95% bootstrap interval",
        )
    )
    for m, c in crosses.items():
        if math.isfinite(c):
            entries.append(
                (
                    ax.axvline(c, color=colors[m], lw=0.8, ls="--"),
                    f"{m} passes {CLAIM_REFERENCE} in theory at N = {c:.0f} (dashed)",
                )
            )
    first_held = {}
    for c in claim_table(result.summary):
        if c["holds"]:
            first_held.setdefault(c["model"], c)
    for c in first_held.values():
        ax.annotate(
            f"measured: {c['model']} above {CLAIM_REFERENCE}\nat N = {c['n']} (95% intervals apart)",
            (c["n"], c["per_unit"]),
            fontsize=7,
            ha="right",
            va="bottom",
            xytext=(-4, 8),
            textcoords="offset points",
            color=colors[c["model"]],
            arrowprops=dict(arrowstyle="->", color=colors[c["model"]], lw=0.7),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_lo / 1.08, n_hi * 1.08)
    ax.set_xlabel("neurons N")
    ax.set_ylabel("memories per compute unit, K* / units")
    ax.set_title("memories per compute unit (units: neurons + synapses + processes, or + hidden neurons)", fontsize=9)
    # ticks at the measured N and at round N across the rest of the drawn range
    _n_ticks(
        ax, list(all_n) + [m for m in (128, 192, 256, 384, 512, 768, 1024, 2048, 4096) if max(all_n) < m <= n_hi * 1.08]
    )
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
    for name, plot, dpi in (
        ("capacity.png", plot_capacity, 110),
        ("collapse.png", plot_collapse, 100),
        ("bit_errors.png", plot_bit_errors, 100),
        ("per_unit.png", plot_per_unit, 110),
    ):
        fig = plot(result)
        if fig is not None:
            path = os.path.join(out_dir, name)
            fig.savefig(path, dpi=dpi)
            paths.append(path)
    return paths
