"""Summary table and figures of a capacity sweep.

Why finite-N slopes sit below n - 1: the no-error capacity K = N^(n-1) / (2 (2n-3)!! ln N) has the
local log-log slope d log K / d log N = (n - 1) - 1 / ln N, e.g. 0.78 for classical Hopfield between
N = 50 and 200. A fitted exponent is therefore compared with the same fit of a theory curve over the
same N, not with n - 1: the no-error load (`theory_exponent_same_n`) and, for `criterion="fixed_point"`,
the load where half the memories are exact fixed points, (1 - P_err)^N = 1/2
(`theory_fixed_point_exponent_same_n`, `nam.capacity.fixed_point_capacity`), which is the theory of that
criterion's K* and matches it (tests/test_capacity_scaling.py).
"""

import math
import os

import numpy as np

from .._plotting import save_figure
from ..capacity._theory import amit_capacity, bit_error_probability, fixed_point_capacity, no_error_capacity
from ._registry import REGISTRY


def _fmt(x, digits=3):
    if isinstance(x, float):
        return f"{x:.{digits}g}" if math.isfinite(x) else str(x)  # nan, inf, -inf
    return str(x)


_CRITERION_TEXT = {"retrieved": "50% exact retrieval from the cue",
                   "fixed_point": "50% of stored memories exact one-step fixed points"}


def _criterion(result) -> str:
    return result.summary[0]["criterion"] if result.summary else "retrieved"


def format_summary(result) -> str:
    """K* per model and N (with its bootstrap interval, the no-error load and the 50%-fixed-point load of
    theory), memories per compute unit, fitted exponents beside the same fits of both theory curves."""
    lines = [f"{'model':<13} {'N':>5} {'K*':>8} {'95% CI':>17} {'no-error':>9} {'fp 50%':>8} {'units':>7} "
             f"{'K*/unit':>9}  status", "-" * 92]
    for s in result.summary:
        ci = f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]"
        lines.append(f"{s['model']:<13} {s['n']:>5} {_fmt(s['k_star']):>8} {ci:>17} {_fmt(s['theory_no_error']):>9} "
                     f"{_fmt(s['theory_fixed_point']):>8} {_fmt(s['units'], 5):>7} {_fmt(s['k_star_per_unit']):>9}  "
                     f"{s['status']}")
    lines += ["", f"{'model':<13} {'exponent':>9} {'95% CI':>19} {'no-error, same N':>17} {'fp 50%, same N':>15} "
              f"{'asymptotic':>11}", "-" * 91]
    for f in result.fits:
        ci = f"[{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]"
        lines.append(f"{f['model']:<13} {_fmt(f['exponent']):>9} {ci:>19} {_fmt(f['theory_exponent_same_n']):>17} "
                     f"{_fmt(f['theory_fixed_point_exponent_same_n']):>15} {_fmt(f['asymptotic_exponent']):>11}")
    lines.append(f"(K* = {_CRITERION_TEXT[_criterion(result)]}; no-error = N^(n-1) / (2 (2n-3)!! ln N); fp 50% = "
                 "the load where (1 - P_err)^N = 1/2, the theory for --criterion fixed_point; two-point fits have "
                 "no interval)")
    return "\n".join(lines)


def _finish(fig, ax, path, ylabel, title, xlabel="neurons N") -> str:
    """Log-log axes, labels, legend, saved as PNG."""
    return save_figure(fig, ax, path, xlabel=xlabel, ylabel=ylabel, title=title, loglog=True, dpi=110)


def write_figures(result, out_dir: str) -> list[str]:
    """capacity.png (K* vs N, log-log, fits and theory), collapse.png (the criterion's fraction vs
    K (2n-3)!! / N^(n-1)), bit_errors.png (criterion 1, the measured per-bit one-step error against
    Phi(-sqrt(S)), binary models), per_unit.png (K* per compute unit vs N)."""
    import matplotlib
    from matplotlib.figure import Figure  # object API: no pyplot state, no backend switch

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    criterion = _criterion(result)
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[criterion]
    colors = dict(zip(REGISTRY, matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]))

    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    for name in dict.fromkeys(s["model"] for s in result.summary):
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star"])]
        if not pts:
            continue
        n = np.array([s["n"] for s in pts], float)
        k = np.array([s["k_star"] for s in pts])
        err = np.array([[s["k_star"] - s["ci_low"], s["ci_high"] - s["k_star"]] for s in pts]).T
        c = colors.get(name)
        ax.errorbar(n, k, yerr=err, fmt="o", color=c, label=REGISTRY[name].label, capsize=3)
        fit = next((f for f in result.fits if f["model"] == name), None)
        grid = np.geomspace(n.min(), n.max(), 50)
        if fit:
            line = np.exp(np.log(k).mean() + fit["exponent"] * (np.log(grid) - np.log(n).mean()))
            ax.plot(grid, line, "-", color=c, lw=1, label=f"  fit: slope {fit['exponent']:.2f}")
        degree = REGISTRY[name].degree
        if degree:
            ax.plot(grid, no_error_capacity(grid, degree), ":", color=c, lw=1)
            if criterion == "fixed_point":
                ax.plot(n, fixed_point_capacity(n, degree), "-.", color=c, lw=1)
        if name == "hopfield" and criterion == "retrieved":
            ax.plot(grid, amit_capacity(grid), "--", color=c, lw=1, label="  0.138 N")
    paths.append(_finish(fig, ax, os.path.join(out_dir, "capacity.png"), f"K* ({_CRITERION_TEXT[criterion]})",
                         "capacity vs N (dotted: N^(n-1) / (2 (2n-3)!! ln N)"
                         + ("; dash-dot: (1 - P_err)^N = 1/2)" if criterion == "fixed_point" else ")")))

    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    for name in dict.fromkeys(r["model"] for r in result.rows):
        scale_n = REGISTRY[name].retrieval_theory
        for n in sorted({r["n"] for r in result.rows if r["model"] == name}):
            rs = sorted((r for r in result.rows if r["model"] == name and r["n"] == n), key=lambda r: r["k"])
            ks = sorted({r["k"] for r in rs})
            frac = [sum(r[column] for r in rs if r["k"] == k) / sum(r["trials"] for r in rs if r["k"] == k)
                    for k in ks]
            scale = scale_n(n)
            x = np.array(ks) / scale if math.isfinite(scale) else np.array(ks, float)
            ax.plot(x, frac, "o-", ms=3, color=colors.get(name), alpha=0.4 + 0.6 * n / max(
                r["n"] for r in result.rows if r["model"] == name), label=f"{name} N={n}")
    ax.set_xscale("log")
    ax.set_xlabel("K (2n-3)!! / N^(n-1)   (exp DAM: K)")
    ax.set_ylabel({"retrieved": "fraction retrieved exactly", "fixed_point": "fraction of exact fixed points"}[criterion])
    ax.axhline(0.5, color="k", lw=0.5)
    ax.set_title("retrieval vs scaled load: curves collapse if the scaling holds")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "collapse.png"))
    fig.savefig(paths[-1], dpi=110)

    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    for name in dict.fromkeys(r["model"] for r in result.rows):
        sweep_model = REGISTRY[name]
        if sweep_model.continuous:  # criterion 1 is a one-step rule; continuous models have none
            continue
        ns = sorted({r["n"] for r in result.rows if r["model"] == name})
        for n in ns:
            ks = sorted({r["k"] for r in result.rows if r["model"] == name and r["n"] == n})
            err = [1.0 - np.mean([r["stable_bits"] for r in result.rows
                                  if r["model"] == name and r["n"] == n and r["k"] == k]) for k in ks]
            shade = 0.4 + 0.6 * n / max(ns)
            ax.plot(ks, np.maximum(err, 1e-6), "o", ms=3, color=colors.get(name), alpha=shade,
                    label=f"{name} N={n}")
            if sweep_model.degree:
                grid = np.geomspace(max(2, min(ks)), max(ks), 40)
                ax.plot(grid, bit_error_probability(n, grid, sweep_model.degree, finite_size=True), "-",
                        lw=1, color=colors.get(name), alpha=shade)
    ax.set_ylim(1e-5, 1)
    paths.append(_finish(fig, ax, os.path.join(out_dir, "bit_errors.png"), "per-bit one-step error 1 - stable bits",
                         "criterion 1: measured (points) and Phi(-sqrt(S)) with exact finite-N S (lines)",
                         xlabel="stored memories K"))

    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    for name in dict.fromkeys(s["model"] for s in result.summary):
        pts = [s for s in result.summary if s["model"] == name and math.isfinite(s["k_star_per_unit"])]
        if pts:
            ax.plot([s["n"] for s in pts], [s["k_star_per_unit"] for s in pts], "o-", color=colors.get(name),
                    label=REGISTRY[name].label)
    paths.append(_finish(fig, ax, os.path.join(out_dir, "per_unit.png"), "memories per compute unit, K* / units",
                         "memories per compute unit (units defined in nam/sweep/_registry.py)"))
    return paths
