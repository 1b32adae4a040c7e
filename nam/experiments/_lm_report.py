"""The tables and the figure of `nam astrosnn lm` (`nam.experiments.AstroSNNLM`): the summary over seeds
(`summarise_lm`), its text (`format_lm`) and its figure (`write_lm_figure`)."""

import numpy as np

from .._data import CORPORA
from ..astrosnn._training import LM_MODELS


def _spread(values):
    values = np.asarray(values, dtype=float)
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if values.size > 1 else None,
        "min": float(values.min()),
        "max": float(values.max()),
        "n": int(values.size),
    }


def summarise_lm(runs: dict) -> dict:
    """Per corpus and model: the seeds, the mean, sample sd, min and max of the validation nats/char over
    seeds, mean params, spike rate and training seconds; per corpus the paired comparisons (over the seeds
    both models ran): `astrosnn_minus_lif` and the like, and the share of astrosnn-membrane's gap to the
    LSTM that astrosnn closes: `gap_closed` = 1 - gap(astrosnn) / gap(astrosnn-membrane) from the seed means,
    and `gap_closed_per_seed` from each seed's three runs."""
    out = {}
    corpora = {r["corpus"] for r in runs.values()}
    for corpus in [c for c in CORPORA if c in corpora] + sorted(corpora - set(CORPORA)):
        rows = {}
        mine = [r for r in runs.values() if r["corpus"] == corpus]
        for name in sorted({r["model"] for r in mine}, key=lambda m: (LM_MODELS + (m,)).index(m)):
            rs = sorted((r for r in mine if r["model"] == name), key=lambda r: r["seed"])
            rates = [r["spike_rate"] for r in rs if r.get("spike_rate") is not None]
            row = {
                "seeds": [r["seed"] for r in rs],
                "val_nats": _spread([r["val_nats"] for r in rs]),
                "per_seed": [r["val_nats"] for r in rs],
                "params": int(np.mean([r["params"] for r in rs])),
                "spike_rate": float(np.mean(rates)) if rates else None,
                "train_seconds": float(np.mean([r["train_seconds"] for r in rs])),
            }
            if all("read_removed_val_nats" in r for r in rs):
                row["read_costs"] = _spread([r["read_removed_val_nats"] - r["val_nats"] for r in rs])
            rows[name] = row
        comparisons = {}
        by = {m: {r["seed"]: r["val_nats"] for r in mine if r["model"] == m} for m in rows}  # model -> seed -> nats
        by.update({m: {} for m in ("astrosnn", "astrosnn-membrane", "lif", "lstm") if m not in by})

        def paired(a, b):
            both = sorted(set(by[a]) & set(by[b]))
            return _spread([by[a][x] - by[b][x] for x in both]) if both else None

        for variant in ("astrosnn", "astrosnn-membrane"):
            diff = paired(variant, "lif")
            if diff:
                comparisons[f"{variant}_minus_lif"] = diff
            diff = paired(variant, "lstm")
            if diff:
                comparisons[f"{variant}_minus_lstm"] = diff
        new, old = comparisons.get("astrosnn_minus_lstm"), comparisons.get("astrosnn-membrane_minus_lstm")
        if new and old and old["mean"] > 0:
            comparisons["gap_closed"] = 1.0 - new["mean"] / old["mean"]
            both = sorted(set(by["astrosnn"]) & set(by["astrosnn-membrane"]) & set(by["lstm"]))
            comparisons["gap_closed_per_seed"] = {
                str(x): 1.0 - (by["astrosnn"][x] - by["lstm"][x]) / (by["astrosnn-membrane"][x] - by["lstm"][x])
                for x in both
                if by["astrosnn-membrane"][x] > by["lstm"][x]
            }
        out[corpus] = {"models": rows, "comparisons": comparisons}
    return out


def _pm(s):
    return f"{s['mean']:.3f}" + (f" ± {s['sd']:.3f}" if s.get("sd") is not None else "")


def format_lm(results: dict) -> str:
    """The lm tables: per corpus, every model's validation nats/char over seeds (mean ± sample sd, and each
    seed), spike rate and training time; the paired comparisons; the astrocyte measurements."""
    lines = []
    for corpus, part in results["summary"].items():
        lines.append(f"{corpus}: validation nats/char (mean ± sd over seeds; each seed)")
        lines.append(
            f"  {'model':<19}{'params':>8}  {'val nats/char':<16}{'seeds':<26}{'spike rate':>11}{'train s':>9}"
        )
        for name, r in part["models"].items():
            rate = "-" if r["spike_rate"] is None else f"{r['spike_rate']:.3f}"
            seeds = " ".join(f"{x:.3f}" for x in r["per_seed"])
            lines.append(
                f"  {name:<19}{r['params']:>8}  {_pm(r['val_nats']):<16}{seeds:<26}{rate:>11}{r['train_seconds']:>9.0f}"
            )
        for key, c in part["comparisons"].items():
            if key == "gap_closed":
                per = part["comparisons"].get("gap_closed_per_seed", {})
                lines.append(
                    f"  share of astrosnn-membrane's gap to the LSTM closed by astrosnn: {c:.0%} (seed means; "
                    + ", ".join(f"seed {x}: {v:.0%}" for x, v in per.items())
                    + ")"
                )
            elif key == "gap_closed_per_seed":
                continue
            else:
                lines.append(f"  {key.replace('_minus_', ' - ')}: {_pm(c)} nats/char (paired over {c['n']} seeds)")
        traced = [(name, r) for name, r in results["runs"].items() if r["corpus"] == corpus and "trace" in r]
        if traced:
            lines.append(
                "  astrocytes (mean over blocks; first seed of each model): loss with the read removed, "
                "spikes flipped by the read, read's share of the stream, k/q mean (the rate when "
                "spiking), key units written per head and token, silent writes"
            )
            for model in (m for m in part["models"] if any(r["model"] == m for _, r in traced)):
                r = min((r for _, r in traced if r["model"] == model), key=lambda r: r["seed"])
                t = {k: float(np.mean([b[k] for b in r["trace"]])) for k in r["trace"][0] if k != "decays"}
                lines.append(
                    f"    {model:<19} {r['read_removed_val_nats'] - r['val_nats']:+.3f} nats  "
                    f"{t['spikes_flipped']:.3f}  {t['residual_share']:.3f}  {t['k_rate']:.3f}/"
                    f"{t['q_rate']:.3f}  {t['writes_per_token']:.2f}  {t['silent_writes']:.3f}"
                )
    return "\n".join(lines)


def write_lm_figure(results: dict, path: str) -> str:
    """Validation nats/char per model and corpus: each seed a dot, the mean a bar."""
    from matplotlib.figure import Figure

    parts = results["summary"]
    fig = Figure(figsize=(4.5 * len(parts), 3.4))
    axes = fig.subplots(1, len(parts), squeeze=False)[0]
    for ax, (corpus, part) in zip(axes, parts.items()):
        names = list(part["models"])
        for i, name in enumerate(names):
            r = part["models"][name]
            ax.bar(i, r["val_nats"]["mean"], color="C0" if name.startswith("astrosnn") else "C7", alpha=0.6)
            ax.plot([i] * len(r["per_seed"]), r["per_seed"], "k.")
        lo = min(min(r["per_seed"]) for r in part["models"].values())
        hi = max(max(r["per_seed"]) for r in part["models"].values())
        ax.set_ylim(lo - 0.1, hi + 0.05)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylabel("validation nats/char")
        ax.set_title(f"{corpus}: each seed a dot, the mean a bar", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
