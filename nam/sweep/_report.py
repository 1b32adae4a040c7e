"""Summary table and figures of a capacity sweep.

Why finite-N slopes sit below n - 1: the no-error capacity K = N^(n-1) / (2 (2n-3)!! ln N) has the
local log-log slope d log K / d log N = (n - 1) - 1 / ln N, e.g. 0.78 for classical Hopfield between
N = 50 and 200. A fitted exponent is therefore compared with the same fit of the theory curve over the
same N (`theory_exponent_same_n`), not with n - 1.
"""

import math
import os

import numpy as np

from ..capacity._theory import amit_capacity, no_error_capacity
from ._registry import REGISTRY


def _fmt(x, digits=3):
    if isinstance(x, float):
        return f"{x:.{digits}g}" if math.isfinite(x) else str(x)  # nan, inf, -inf
    return str(x)


def format_summary(result) -> str:
    """K* per model and N (with its bootstrap interval), memories per compute unit, fitted exponents."""
    lines = [f"{'model':<13} {'N':>5} {'K*':>8} {'95% CI':>17} {'theory':>8} {'units':>7} {'K*/unit':>9}  status",
             "-" * 83]
    for s in result.summary:
        ci = f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]"
        lines.append(f"{s['model']:<13} {s['n']:>5} {_fmt(s['k_star']):>8} {ci:>17} {_fmt(s['theory_no_error']):>8} "
                     f"{_fmt(s['units'], 5):>7} {_fmt(s['k_star_per_unit']):>9}  {s['status']}")
    lines += ["", f"{'model':<13} {'exponent':>9} {'95% CI':>19} {'theory, same N':>15} {'asymptotic':>11}", "-" * 73]
    for f in result.fits:
        ci = f"[{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]"
        lines.append(f"{f['model']:<13} {_fmt(f['exponent']):>9} {ci:>19} {_fmt(f['theory_exponent_same_n']):>15} "
                     f"{_fmt(f['asymptotic_exponent']):>11}")
    lines.append("(theory = no-error load N^(n-1) / (2 (2n-3)!! ln N); K* = 50% exact retrieval from the cue;"
                 " two-point fits have no interval)")
    return "\n".join(lines)


def _finish(fig, ax, path, ylabel, title) -> str:
    """Log-log axes against N, labels, legend, saved as PNG."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons N")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_figures(result, out_dir: str) -> list[str]:
    """capacity.png (K* vs N, log-log, fits and theory), collapse.png (retrieval fraction vs
    K (2n-3)!! / N^(n-1)), per_unit.png (K* per compute unit vs N)."""
    import matplotlib
    from matplotlib.figure import Figure  # object API: no pyplot state, no backend switch

    os.makedirs(out_dir, exist_ok=True)
    paths = []
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
        if name == "hopfield":
            ax.plot(grid, amit_capacity(grid), "--", color=c, lw=1, label="  0.138 N")
    paths.append(_finish(fig, ax, os.path.join(out_dir, "capacity.png"), "capacity K* (50% exact retrieval)",
                         "capacity vs N (dotted: N^(n-1) / (2 (2n-3)!! ln N))"))

    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    for name in dict.fromkeys(r["model"] for r in result.rows):
        scale_n = REGISTRY[name].retrieval_theory
        for n in sorted({r["n"] for r in result.rows if r["model"] == name}):
            rs = sorted((r for r in result.rows if r["model"] == name and r["n"] == n), key=lambda r: r["k"])
            ks = sorted({r["k"] for r in rs})
            frac = [sum(r["retrieved"] for r in rs if r["k"] == k) / sum(r["trials"] for r in rs if r["k"] == k)
                    for k in ks]
            scale = scale_n(n)
            x = np.array(ks) / scale if math.isfinite(scale) else np.array(ks, float)
            ax.plot(x, frac, "o-", ms=3, color=colors.get(name), alpha=0.4 + 0.6 * n / max(
                r["n"] for r in result.rows if r["model"] == name), label=f"{name} N={n}")
    ax.set_xscale("log")
    ax.set_xlabel("K (2n-3)!! / N^(n-1)   (exp DAM: K)")
    ax.set_ylabel("fraction retrieved exactly")
    ax.axhline(0.5, color="k", lw=0.5)
    ax.set_title("retrieval vs scaled load: curves collapse if the scaling holds")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "collapse.png"))
    fig.savefig(paths[-1], dpi=110)

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
