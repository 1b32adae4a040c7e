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

import numpy as np

from .._checks import check_instance
from ._registry import CLAIM_MODELS, CLAIM_REFERENCE, REGISTRY

STATUS_TEXT = {
    "bracketed": "the 50% crossing was bracketed between two measured loads and interpolated",
    "wide_interval": "bracketed, but the 95% interval reaches below one memory or is wider than the range of "
    "loads measured: K* is not well determined (measure more trials)",
    "below_range": "below 50% already at K = 1 (no capacity in range)",
    "above_range": "still above 50% at the largest load allowed (k_max)",
    "budget_exhausted": "max_evals loads measured without bracketing the crossing",
}
_CRITERION_TEXT = {
    "retrieved": "50% exact retrieval from the cue",
    "fixed_point": "50% of stored memories exact one-step fixed points",
}


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
        out.append(
            {
                "model": s["model"],
                "n": s["n"],
                "per_unit": s["k_star_per_unit"],
                "low": low,
                "high": high,
                "hidden": h["k_star_per_unit"],
                "hidden_low": h.get("per_unit_low", math.nan),
                "hidden_high": h.get("per_unit_high", math.nan),
                "holds": bool(low > h.get("per_unit_high", math.nan)),
            }
        )
    return out


def _units(x) -> str:
    return f"{int(round(x))}" if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def _criterion(result) -> str:
    return result.summary[0]["criterion"] if result.summary else "retrieved"


def _check_result(result):
    from ._engine import SweepResult  # the engine imports this module

    check_instance("result", result, SweepResult)


def _run_line(rec: dict) -> list[str]:
    """The run line of the summary (wall, compile and run time, devices, rows), or nothing without a record."""
    lines: list[str] = []
    if rec:
        compile_s, run_s, workers = (
            rec.get("compile_seconds", math.nan),
            rec.get("run_seconds", math.nan),
            rec.get("workers", 1),
        )
        busy = compile_s + run_s
        share = f" ({100 * compile_s / busy:.0f}% compiling)" if busy > 0 else ""
        split = (
            f"{compile_s:.1f} s compiling {rec.get('programs', 0)} programs + {run_s:.1f} s running"
            + (f", summed over {workers} worker threads" if workers > 1 else "")
            + share
        )
        if workers > 1 and "compile_wall_seconds" in rec:
            wall_s = rec.get("wall_seconds", math.nan)
            split += (
                f"; something was compiling during {rec['compile_wall_seconds']:.1f} s of the wall "
                f"({100 * rec['compile_wall_seconds'] / wall_s:.0f}%)"
            )
        lines.append(
            f"run: {rec.get('wall_seconds', math.nan):.1f} s wall{' =' if workers == 1 else ';'} {split}; "
            f"{rec.get('backend', '?')} x{rec.get('device_count', '?')}; "
            f"{rec.get('rows_measured', 0)} rows measured, {rec.get('rows_reused', 0)} reused"
        )
        lines.append("")
    return lines


def _claim_lines(summary: list[dict]) -> list[str]:
    """The claim's lines: per quartic model, where its memories per unit first pass the hidden-neuron DAM's."""
    lines: list[str] = []
    claims = claim_table(summary)
    if claims:
        lines += [
            "",
            "the claim: more memories per compute unit than the hidden-neuron DAM at the same N, 95% intervals apart",
        ]
        for model in dict.fromkeys(c["model"] for c in claims):
            rows = [c for c in claims if c["model"] == model]
            first = next((c["n"] for c in rows if c["holds"]), None)
            verdict = f"first holds at measured N = {first}" if first is not None else "holds at no measured N"
            lines.append(
                f"  {model}: {verdict}; "
                + "; ".join(
                    f"N={c['n']}: {_fmt(c['per_unit'])} [{_fmt(c['low'])}, {_fmt(c['high'])}] vs "
                    f"{_fmt(c['hidden'])} [{_fmt(c['hidden_low'])}, {_fmt(c['hidden_high'])}]"
                    for c in rows
                )
            )
    return lines


def _legend(result, fixed_point: bool) -> list[str]:
    """The legend under the tables: every column and status word."""
    lines: list[str] = []
    lines += [
        "",
        f"K* = the load at {_CRITERION_TEXT[_criterion(result)]}, from a logistic fit of the measured "
        "fractions; 95% CI by bootstrap (binomial per load; memory sets resampled where cues share them).",
        (
            "theory = the fixed-point load, (1 - P_err)^N = 1/2 with the exact finite-N P_err, the theory of "
            "this criterion (the same as fp 50%); - = none defined or no theory applies."
            if fixed_point
            else "theory = no-error load N^(n-1) / (2 (2n-3)!! ln N) (binary rules, hidden DAM; N^3 / (12 ln N) for "
            "the distinct-index tensor); self-coupling load c N^2 (eq. 10 tensor, continuous); exp DAM: "
            "Demircigil's lower bound; - = no theory applies (full network: docs/full-network.md)."
        ),
        "fp 50% = load where (1 - P_err)^N = 1/2, the theory of --criterion fixed_point. units = neurons + "
        "synapses + processes (or hidden neurons); - = none defined.",
        "unsettled = share of cue runs at the two loads bracketing K* that ended without a steady state "
        "(step or sweep limit, non-finite); they count as not retrieved.",
        "exponent: least squares of log K* on log N (exp DAM: on N, a rate per neuron); CI: t interval.",
        "status: " + "; ".join(f"{k} = {v}" for k, v in STATUS_TEXT.items()) + ".",
    ]
    return lines


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
    lines += _run_line(getattr(result, "record", None) or {})
    table = []
    for s in result.summary:
        theory = s["theory_fixed_point"] if fixed_point else s["theory"]
        table.append(
            [
                s["model"],
                str(s["n"]),
                _fmt(s["k_star"]),
                f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]",
                _fmt(theory),
                _fmt(s["theory_fixed_point"]),
                _units(s["units"]),
                _fmt(s["k_star_per_unit"]),
                _percent(s.get("no_steady", math.nan)),
                s["status"],
            ]
        )
    lines += format_table(
        ["model", "N", "K*", "95% CI", "theory", "fp 50%", "units", "K*/unit", "unsettled", "status"],
        table,
        align="lrrrrrrrrl",
    )
    lines += _claim_lines(result.summary)
    table = []
    for f in result.fits:
        if math.isfinite(f["ci_low"]):
            ci = f"[{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]"
        else:
            ci = "2 points: no CI"
        law = "K ~ N^a" if f["law"] == "power" else "K ~ e^(a N)"
        table.append([f["model"], law, _fmt(f["exponent"]), ci, _fmt(f[theory_key]), _fmt(f["asymptotic_exponent"])])
    if table:
        lines += [""] + format_table(
            ["model", "law", "exponent", "95% CI", "theory, same N", "asymptotic"], table, align="llrrrr"
        )
    lines += _legend(result, fixed_point)
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
