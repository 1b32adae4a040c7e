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
from ._lm_report import format_lm, summarise_lm, write_lm_figure
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
