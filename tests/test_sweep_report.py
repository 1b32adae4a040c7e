"""The sweep's tables and figures explain themselves (issue 24 items 5, 6, 9): fixed-width columns that never
run together, every drawn line named in its legend, tick labels on every panel across the drawn range, smooth
theory curves, plotting functions that take `ax=` and return the figure; `SweepResult.to_pandas`; the
engine's messages go through `logging`."""

import logging
import math
import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import nam
from nam.sweep._figures import plot_bit_errors, plot_capacity, plot_collapse, plot_per_unit
from nam.sweep._registry import REGISTRY
from nam.sweep._report import format_table

MODELS = {
    "hopfield": (128, 256, 512),
    "dam3": (24, 32),
    "dam4": (16, 24, 32, 64),
    "hidden_dam": (16, 24, 32),
    "na_effective": (16, 24, 26, 32),
    "na_effective_distinct": (16, 24),
    "dam_exp": (8, 16),
    "na_full": (8, 16),
}


def _result(criterion="retrieved"):
    """A synthetic sweep result (no measuring): K* near the theory, fractions falling through 50% at K*,
    K* >= 1e3 for some rows (the table's widest numbers)."""
    rows, summary, fits = [], [], []
    for name, ns in MODELS.items():
        sm = REGISTRY[name]
        for n in ns:
            k_star = 1.3 * sm.theory(n, 0.1)  # (the full network's theory is only its search's start scale)
            for k in sorted({max(1, int(k_star * f)) for f in (0.5, 0.8, 1.0, 1.25, 2.0)}):
                frac = 1.0 / (1.0 + (k / k_star) ** 4)
                rows.append(
                    {
                        "model": name,
                        "n": n,
                        "k": k,
                        "rho": 0.1,
                        "trials": 32,
                        "retrieved": round(32 * frac),
                        "fixed_points": round(32 * frac),
                        "stable_bits": 1.0 - 0.01 * k / k_star,
                    }
                )
            units = sm.units(n, k_star)
            summary.append(
                {
                    "model": name,
                    "n": n,
                    "k_star": k_star,
                    "ci_low": 0.9 * k_star,
                    "ci_high": 1.1 * k_star,
                    "theory": sm.theory_k(n, 0.1),
                    "theory_fixed_point": sm.fixed_point_k(n),
                    "units": units,
                    "k_star_per_unit": k_star / units,
                    "per_unit_low": 0.9 * k_star / units,
                    "per_unit_high": 1.1 * k_star / units,
                    "no_steady": 0.0,
                    "status": "bracketed",
                    "criterion": criterion,
                }
            )
        fits.append(
            {
                "model": name,
                "law": sm.fit,
                "exponent": 2.0,
                "ci_low": 1.9,
                "ci_high": 2.1,
                "theory_exponent_same_n": 2.0,
                "theory_fixed_point_exponent_same_n": 2.1,
                "asymptotic_exponent": sm.asymptotic,
            }
        )
    return nam.SweepResult(rows=rows, summary=summary, fits=fits, out_dir=None)


@pytest.fixture(scope="module")
def figures():
    res = _result()
    return {
        "capacity": plot_capacity(res),
        "collapse": plot_collapse(res),
        "bit_errors": plot_bit_errors(res),
        "per_unit": plot_per_unit(res),
    }


def _axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def _line_labels(ax):
    """The label each drawn Line2D is known by: its errorbar's label for the lines of an errorbar."""
    owner = {}
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            for child in c.get_children():
                owner[id(child)] = c.get_label()
    return [(line, owner.get(id(line), line.get_label())) for line in ax.lines]


def test_format_table_columns_never_run_together():
    rows = [
        ["dam4", "64", "2.17e+03", "[2.03e+03, 2.27e+03]", "bracketed"],
        ["na_effective_distinct", "8", "13.8", "[10.5, 56.6]", "wide_interval"],
    ]
    lines = format_table(["model", "N", "K*", "95% CI", "status"], rows, align="lrrrl")
    for line, row in zip(lines[2:], rows):
        assert re.split(r"\s{2,}", line) == row  # every cell apart from its neighbours by two spaces or more
    assert len({len(line) for line in lines[:2]}) == 1
    # right-aligned columns end in the same place on every line
    ends = [[m.end() for m in re.finditer(r"\S+(?: \S+)*", line)] for line in (lines[0], *lines[2:])]
    assert ends[0][1:4] == ends[1][1:4] == ends[2][1:4]
    with pytest.raises(ValueError, match="columns"):
        format_table(["a", "b"], [["x"]])


@pytest.mark.parametrize("criterion", ["retrieved", "fixed_point"])
def test_summary_table_keeps_wide_numbers_apart(criterion):
    text = nam.format_summary(_result(criterion))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("model") and " K* " in line)
    body = [line for line in lines[start + 2 :] if line.strip()][: len(_result().summary)]
    assert any("e+03" in line for line in body)  # K* >= 1e3 occurs
    for line in body:
        cells = re.split(r"\s{2,}", line)
        assert len(cells) == 10, line  # model, N, K*, CI, theory, fp 50%, units, K*/unit, unsettled, status
        assert cells[3].startswith("[") and cells[3].endswith("]")
    fit_start = next(i for i, line in enumerate(lines) if line.startswith("model") and " law " in line)
    for line in lines[fit_start + 2 : fit_start + 2 + len(MODELS)]:
        assert len(re.split(r"\s{2,}", line)) == 6, line


def test_every_line_is_named_in_its_legend(figures):
    for name, fig in figures.items():
        for ax in _axes(fig):
            legend = ax.get_legend()
            assert legend is not None, f"{name}: a panel without a legend"
            texts = {t.get_text() for t in legend.get_texts()}
            assert not any("see the summary" in t for t in texts), name
            for _line, label in _line_labels(ax):
                assert not label.startswith("_"), f"{name}: a line with no label ({label!r})"
                assert label in texts, f"{name}: line {label!r} is not in the legend"


def test_every_panel_has_tick_labels_across_the_drawn_range(figures):
    for name, fig in figures.items():
        FigureCanvasAgg(fig).draw()
        for ax in _axes(fig):
            for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
                lo, hi = min(lo, hi), max(lo, hi)
                ticks = [t for t in axis.get_majorticklocs() if lo <= t <= hi]
                labels = [s for s in axis.get_major_formatter().format_ticks(ticks) if s.strip()]
                assert len(labels) >= 2, f"{name}: panel {ax.get_title()!r} has {labels} on one axis"


def _small_n(res, below=64):
    res.summary = [s for s in res.summary if s["n"] < below]
    res.rows = [r for r in res.rows if r["n"] < below]
    return res


def test_per_unit_ticks_reach_the_theory_range():
    """The per-unit theory runs to the predicted crossover (N ~ 350) beyond the measured N (< 64 here): ticks
    label that part of the axis too."""
    ax = plot_per_unit(_small_n(_result())).axes[0]
    measured = 32
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.xaxis.get_majorticklocs() if lo <= t <= hi]
    assert hi > 300 and max(ticks) > 0.6 * hi and any(measured < t < hi for t in ticks)
    assert any("passes hidden_dam in theory" in t.get_text() for t in ax.get_legend().get_texts())


def test_no_crossover_line_without_the_hidden_dam():
    res = _small_n(_result())
    res.summary = [s for s in res.summary if s["model"] != "hidden_dam"]
    res.rows = [r for r in res.rows if r["model"] != "hidden_dam"]
    ax = plot_per_unit(res).axes[0]
    assert not any("passes" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_xlim()[1] < 100  # drawn to the measured N only


def test_theory_curves_are_smooth(figures):
    """Dotted theory lines are drawn on a dense grid of real N: no staircase (equal neighbours) and, since
    every theory K*(N) grows with N, no zig-zag (the eq. 10 self-coupling load with its integer flip count)."""
    ax = figures["capacity"].axes[0]
    theory = [line for line, label in _line_labels(ax) if line.get_linestyle() == ":" and len(line.get_xdata())]
    assert len(theory) >= 6
    for line in theory:
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert len(np.unique(x)) >= 50
        assert np.all(np.diff(y) > 0), line.get_label()


def test_symbols_are_defined_where_they_are_drawn(figures):
    title = figures["bit_errors"]._suptitle.get_text()
    assert "criterion 1" not in title
    assert "S = signal-to-noise ratio" in title and "standard normal CDF" in title
    legend = " ".join(t.get_text() for t in figures["capacity"].axes[0].get_legend().get_texts())
    assert "no-error load N^(n-1)" in legend and "self-coupling" in legend


def test_plotting_functions_take_ax_and_return_the_figure():
    res = _result()
    fig = Figure()
    ax = fig.subplots()
    assert plot_capacity(res, ax=ax) is fig and ax.lines
    fig = Figure()
    ax = fig.subplots()
    assert plot_per_unit(res, ax=ax) is fig and ax.lines
    fig = Figure()
    axes = fig.subplots(3, 3).ravel()
    assert plot_collapse(res, axes=axes) is fig and all(a.lines for a in axes[: len(MODELS)])
    with pytest.raises(ValueError, match="`axes`"):
        plot_collapse(res, axes=axes[:2])
    assert plot_bit_errors(nam.SweepResult(rows=[], summary=[], fits=[], out_dir=None)) is None


def test_write_sweep_figures_writes_what_the_plot_functions_draw(tmp_path):
    paths = nam.write_sweep_figures(_result(), str(tmp_path))
    assert [p.rsplit("/", 1)[1] for p in paths] == ["capacity.png", "collapse.png", "bit_errors.png", "per_unit.png"]
    assert all((tmp_path / p.rsplit("/", 1)[1]).stat().st_size > 10_000 for p in paths)


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    res = _result()
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == len(res.summary) and "k_star" in df.columns
    assert len(res.to_pandas("rows")) == len(res.rows) and list(res.to_pandas("fits")["model"]) == list(MODELS)
    with pytest.raises(ValueError, match="`table`"):
        res.to_pandas("other")


def test_to_pandas_without_pandas_says_how_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        _result().to_pandas()


def test_the_engine_logs_instead_of_printing(tmp_path, caplog, capsys):
    spec = nam.SweepSpec(n_grid={"hopfield": (16,)}, trials=8, batch=8)
    with caplog.at_level(logging.INFO, logger="nam.sweep"):
        nam.run_sweep(spec, str(tmp_path), progress=False)
    records = [r for r in caplog.records if r.name == "nam.sweep._engine"]
    assert records and "rows measured" in records[-1].getMessage()
    assert capsys.readouterr().out == ""
    assert math.isfinite(float(records[-1].getMessage().rsplit(",", 1)[1].split()[0]))
