"""Character language models (`nam astrosnn lm`): AstroSNN (Shen et al.) and its baselines on Tiny Shakespeare
and a held-out corpus of Python source, several seeds, every model at the width nearest a parameter count; a
results file per run in `out/runs`, `out/lm.json` with the summary, samples and a figure."""

import dataclasses
import os
import time
from typing import ClassVar

import numpy as np

from .._checks import ArgumentTypeError, check_bool, check_choices, check_instance, check_int, check_output_dir
from .._data import CORPORA
from .._io import atomic_write, write_json
from ..astrosnn._diagnostics import astrocyte_trace, remove_astrocyte_read
from ..astrosnn._text import CharData, load_text
from ..astrosnn._training import (
    LM_MODELS,
    bits_per_char,
    check_sizes,
    lm_assumptions,
    lm_variant,
    sample_text,
    train_lm,
)
from ..learning._train import NonFiniteLoss
from ._base import AbstractExperiment, option
from ._resume import check_options, load_json
from .astrosnn_retention import AstroSNNResult

LM_BASELINES = ("astrosnn", "astrosnn-membrane", "lif", "lstm")


@dataclasses.dataclass(frozen=True)
class AstroSNNLM(AbstractExperiment):
    """`nam astrosnn lm`: character language models, every model of `models` (names of `LM_MODELS`) on every
    corpus and seed, each at the width nearest `params` parameters (see `run_lm`)."""

    command: ClassVar[str] = "astrosnn lm"
    summary: ClassVar[str] = (
        "character language models on Tiny Shakespeare and held-out Python source, several "
        "seeds: validation nats per char, astrocyte ablation, spike rates"
    )
    errors: ClassVar[tuple[type[BaseException], ...]] = (
        ValueError,
        FileNotFoundError,
        RuntimeError,
        KeyError,
        NonFiniteLoss,
    )

    models: tuple[str, ...] = option(
        LM_BASELINES,
        f"comma-separated subset of {','.join(LM_MODELS)} "
        "(astrosnn-membrane is Figure 1's membrane read, the earlier default)",
    )
    corpus: tuple[str, ...] = option(tuple(CORPORA), f"comma-separated subset of {','.join(CORPORA)}")
    seeds: tuple[int, ...] = option((0, 1, 2), "comma-separated seeds")
    params: int = option(500_000, "parameter count every model is matched to by its width")
    layers: int = option(4, "blocks / layers")
    steps: int = option(1000, "training steps per model")
    batch: int = option(16, "sequences per step")
    length: int = option(128, "training sequence length")
    learning_rate: float = option(2e-3, "peak learning rate", flag="--lr")
    out: str = option("nam_output/astrosnn_lm", "output folder; finished runs in it are reused")
    restart: bool = option(
        False, "start afresh: retrain the runs asked for (otherwise a run in --out made with other options is refused)"
    )

    def __post_init__(self):
        if not self.models:
            raise ValueError("`models` must name at least one model")
        check_choices("models", self.models, LM_MODELS)
        if not self.corpus:
            raise ValueError("`corpus` must name at least one corpus")
        check_choices("corpus", self.corpus, tuple(CORPORA))
        _check_seeds(self.seeds)
        for name in ("params", "layers", "steps", "batch", "length"):
            check_int(name, getattr(self, name))
        check_instance("out", self.out, str, "a folder path")

    def describe(self) -> tuple[str, dict]:
        return self.command, {
            "corpora": ", ".join(self.corpus),
            "models": ", ".join(self.models),
            "seeds": ", ".join(map(str, self.seeds)),
            "sizes": f"every model at the width nearest {self.params:,} parameters, {self.layers} blocks",
            "training": f"{self.steps} steps of {self.batch} x {self.length} characters, peak learning rate "
            f"{self.learning_rate:g}",
            "runs": f"{len(self.corpus) * len(self.models) * len(self.seeds)} (finished ones in {self.out}/runs "
            "are reused)",
            "output": self.out,
        }

    def run(self, *, progress: bool = True) -> AstroSNNResult:
        return AstroSNNResult(
            run_lm(
                self.out,
                models=self.models,
                corpora=self.corpus,
                seeds=self.seeds,
                params=self.params,
                layers=self.layers,
                steps=self.steps,
                batch=self.batch,
                length=self.length,
                learning_rate=self.learning_rate,
                progress=progress,
                restart=self.restart,
            )
        )

    def format(self, result: AstroSNNResult) -> str:
        return format_lm(result.results)

    def write(self, result: AstroSNNResult, out_dir: str | None) -> list[str]:
        """samples.txt and lm.png (lm.json, the runs' results and checkpoints are written by `run`)."""
        out_dir = self.out if out_dir is None else out_dir
        samples = os.path.join(out_dir, "samples.txt")
        atomic_write(
            samples,
            "".join(
                f"=== {r['corpus']}, {r['model']}, seed {r['seed']} ({r['params']} "
                f"parameters, val nats/char {r['val_nats']:.3f}) ===\n{r['sample']}\n\n"
                for r in result.results["runs"].values()
            ),
        )
        return [samples, write_lm_figure(result.results, os.path.join(out_dir, "lm.png"))]

    def resume_hint(self, error: BaseException) -> str:
        saved = f"{error}; " if str(error) else ""
        again = "again without --restart" if self.restart else "the same command again"
        return f"{saved}finished runs are kept in {self.out}; run {again} to resume"


def _check_seeds(seeds) -> tuple[int, ...]:
    if not isinstance(seeds, (list, tuple)):
        raise ArgumentTypeError(f"`seeds` must be a list or tuple of integers >= 0, got {type(seeds).__name__}")
    seeds = tuple(check_int("seeds", x, 0) for x in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must be distinct integers >= 0, at least one, got {seeds!r}")
    return seeds


def _run_name(corpus, model, seed):
    return f"{corpus}_{model}_seed{seed}"


def _check_numbers(result, path):
    """A run read back must hold finite numbers; ValueError naming the file and the number otherwise."""
    for key in ("val_nats", "val_bpc", "params", "train_seconds"):
        value = result.get(key)
        if not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"{path} holds a non-finite or missing {key} ({value!r}); delete it or use --restart")
    return result


def _read_run(path, options, restart):
    """A finished run read back and verified (its options, finite numbers), or None if there is none."""
    if restart or not os.path.exists(path):
        return None
    result = load_json(path)
    check_options({os.path.basename(path): result}, options, path)
    return _check_numbers(result, path)


def _corpus_data(corpora):
    """{name: CharData}: names of the embedded corpora, or a mapping of names to CharData (custom text)."""
    if isinstance(corpora, dict):
        for name, data in corpora.items():
            check_instance(f"corpora[{name!r}]", data, CharData, "a nam.astrosnn.CharData")
        return dict(corpora)
    names = check_choices("corpora", corpora, tuple(CORPORA))
    return {name: None for name in dict.fromkeys(names)}


def run_lm(
    out: str,
    *,
    models=LM_BASELINES,
    corpora=tuple(CORPORA),
    seeds=(0, 1, 2),
    params: int = AstroSNNLM.params,
    layers: int = AstroSNNLM.layers,
    steps: int = AstroSNNLM.steps,
    batch: int = AstroSNNLM.batch,
    length: int = AstroSNNLM.length,
    learning_rate: float = AstroSNNLM.learning_rate,
    eval_every: int = 0,
    sample_chars: int = 300,
    progress: bool = True,
    restart: bool = False,
    diagnose_windows: int = 16,
) -> dict:
    """Character language models: every model of `models` (names of `LM_MODELS`) on every corpus (names of
    `nam.astrosnn.CORPORA`, or a mapping of names to `CharData`) and seed, every one at the width whose
    parameter count is nearest `params`, the same steps, batch and length. Validation nats per character
    over the whole validation split (consecutive windows, each from a fresh state), spike rates, wall time,
    a sample; for AstroSNN models, the loss with the astrocyte read removed and `astrocyte_trace` on
    `diagnose_windows` validation windows.

    Each run is written to `out/runs/<corpus>_<model>_seed<s>.json` as it finishes (its checkpoint beside
    it), so a re-run resumes and runs of other models or seeds started in other processes into the same
    folder add up; `out/lm.json` holds every run of the folder made with these options and the summary
    (`summarise_lm`). Runs made with other options are refused unless `restart` (retrain them)."""
    sample_chars, diagnose_windows = (
        check_int("sample_chars", sample_chars),
        check_int("diagnose_windows", diagnose_windows),
    )
    models = check_choices("models", models, LM_MODELS)
    data_of = _corpus_data(corpora)
    seeds = _check_seeds(seeds)
    check_int("params", params)
    check_bool("restart", restart)
    out = check_output_dir("`out`", out)
    runs_dir = os.path.join(out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    options = {
        "params": params,
        "layers": layers,
        "steps": steps,
        "batch": batch,
        "length": length,
        "learning_rate": learning_rate,
    }
    todo = _pending(
        models, data_of, seeds, options, runs_dir, restart, layers=layers, batch=batch, length=length, params=params
    )
    for corpus, name, seed, run, kind, build, run_options in todo:
        _train_run(
            corpus,
            name,
            seed,
            run,
            kind,
            build,
            run_options,
            data_of[corpus],
            runs_dir,
            layers=layers,
            params=params,
            steps=steps,
            batch=batch,
            length=length,
            learning_rate=learning_rate,
            eval_every=eval_every,
            progress=progress,
            restart=restart,
            sample_chars=sample_chars,
            diagnose_windows=diagnose_windows,
        )
    summary = _collect(runs_dir, options)
    write_json(os.path.join(out, "lm.json"), summary)
    return summary


def _pending(models, data_of, seeds, options, runs_dir, restart, *, layers, batch, length, params) -> list:
    """The runs still to train: every earlier result is read back and checked, and every size checked,
    before anything is trained."""
    todo = []
    assumptions = {name: lm_assumptions(name) for name in models}
    for corpus in data_of:
        for name in models:
            for seed in seeds:
                run = _run_name(corpus, name, seed)
                kind, build = lm_variant(name)
                run_options = {**options, "model_options": build, "assumptions": assumptions[name]}
                if _read_run(os.path.join(runs_dir, run + ".json"), run_options, restart) is None:
                    todo.append((corpus, name, seed, run, kind, build, run_options))
    for corpus, _name, _seed, _run, kind, _build, _options in todo:  # every size checked before any training
        if data_of[corpus] is None:
            data_of[corpus] = CharData(load_text(corpus=corpus))
        check_sizes(
            "`params`, `layers`, `batch`, `length`",
            kind,
            len(data_of[corpus].vocab),
            8,
            layers,
            4,
            64,
            batch,
            length,
            params,
        )
    return todo


def _train_run(
    corpus,
    name,
    seed,
    run,
    kind,
    build,
    run_options,
    data,
    runs_dir,
    *,
    layers,
    params,
    steps,
    batch,
    length,
    learning_rate,
    eval_every,
    progress,
    restart,
    sample_chars,
    diagnose_windows,
) -> None:
    """Train one (corpus, model, seed) run, measure it (validation nats per character, spike rates, wall time, a
    sample; for AstroSNN the read ablation and trace) and write `runs_dir/<run>.json`."""
    if progress:
        print(f"[{corpus} {name} seed {seed}] training {steps} steps", flush=True)
    start = time.perf_counter()
    model, history, config = train_lm(
        kind,
        data,
        layers=layers,
        target_params=params,
        steps=steps,
        batch=batch,
        length=length,
        learning_rate=learning_rate,
        seed=seed,
        checkpoint=os.path.join(runs_dir, run + ".eqx"),
        eval_every=eval_every,
        progress=progress,
        restart=restart,
        model_options=build,
    )
    seconds = time.perf_counter() - start
    final = bits_per_char(model, data, length=length)
    result = {
        "corpus": corpus,
        "model": name,
        "kind": kind,
        "seed": seed,
        "options": run_options,
        "params": config["params"],
        "d": config["d"],
        "train_seconds": seconds,
        **final,
        "curve": [{"step": h["step"], "val_bpc": h["val_bpc"]} for h in history if "val_bpc" in h],
        "train_loss": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h][::25],
    }
    if kind == "astrosnn":
        without = bits_per_char(remove_astrocyte_read(model), data, length=length)["val_nats"]
        x, _ = data.val_windows(length, diagnose_windows)
        result["read_removed_val_nats"] = without
        result["trace"] = astrocyte_trace(model, x)
    prompt = data.vocab.decode(data.val[:16])
    result["sample"] = prompt + sample_text(model, data.vocab, prompt, sample_chars, seed=seed)
    for key in ("val_nats", "val_bpc"):
        if not np.isfinite(result[key]):
            raise RuntimeError(f"{run}: the validation {key} is {result[key]} (non-finite); nothing was written")
    write_json(os.path.join(runs_dir, run + ".json"), result)


def _collect(runs_dir, options):
    """Every run in `runs_dir` made with `options` (whatever model or seed), and their summary."""
    runs, assumptions = {}, {}
    for file in sorted(os.listdir(runs_dir)):
        if not file.endswith(".json"):
            continue
        path = os.path.join(runs_dir, file)
        result = load_json(path)
        saved = result.get("options", {})
        if {k: v for k, v in saved.items() if k not in ("model_options", "assumptions")} != options:
            continue
        name = result.get("model")
        if name not in LM_MODELS:
            continue
        if name not in assumptions:
            assumptions[name] = lm_assumptions(name)
        if saved.get("model_options") == lm_variant(name)[1] and saved.get("assumptions") == assumptions[name]:
            runs[file[:-5]] = _check_numbers(result, path)
    return {"options": options, "runs": runs, "summary": summarise_lm(runs)}


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
