"""AstroSNN (Shen et al.) against LIF-SNN, LSTM and transformer baselines (`nam astrosnn`), with the
interface of `nam.experiments`; one spec class per task:

- `RetentionSpec`: accuracy against delay on associative recall and delayed copy
  (`nam.astrosnn._experiments.run_retention`; `out/retention.json` and a checkpoint per model, a re-run
  resumes);
- `LMSpec`: character language models on Tiny Shakespeare and a held-out corpus of Python source, several
  seeds (`run_lm`; a results file per run in `out/runs`, `out/lm.json` with the summary, samples, figure);
- `GenerateSpec`: text sampled from a checkpoint written by the lm task.
"""

import dataclasses
import os

from .._data import CORPORA
from .._io import atomic_write
from ..astrosnn import _experiments as ex
from ..astrosnn import _training as tr
from ..astrosnn._models import MODEL_KINDS

ERRORS = (ValueError, FileNotFoundError, RuntimeError, KeyError)  # RuntimeError: NonFiniteLoss, md5
BASELINES = ex.BASELINES


@dataclasses.dataclass(frozen=True)
class RetentionSpec:
    """The options of `nam astrosnn retention` (`models`: any of `nam.astrosnn.MODEL_KINDS`)."""

    tasks: tuple = ("recall", "copy")
    models: tuple = BASELINES
    max_delay: int = 256
    d: int = 64
    steps: int = 1000
    decay: str = "retnet"
    seed: int = 0
    out: str = "nam_output/astrosnn_retention"
    restart: bool = False


@dataclasses.dataclass(frozen=True)
class LMSpec:
    """The options of `nam astrosnn lm` (`models`: names of `nam.astrosnn.LM_MODELS`; `corpora`: of
    `nam.astrosnn.CORPORA`; every model at the width nearest `params` parameters)."""

    models: tuple = ex.LM_BASELINES
    corpora: tuple = tuple(CORPORA)
    seeds: tuple = (0, 1, 2)
    params: int = 500_000
    layers: int = 4
    steps: int = 1000
    batch: int = 16
    length: int = 128
    learning_rate: float = 2e-3
    out: str = "nam_output/astrosnn_lm"
    restart: bool = False


@dataclasses.dataclass(frozen=True)
class GenerateSpec:
    """The options of `nam astrosnn generate`: `checkpoint` written by the lm task; writes nothing."""

    checkpoint: str
    prompt: str = "ROMEO:\n"
    chars: int = 300
    temperature: float = 0.8
    seed: int = 0
    out: None = None


@dataclasses.dataclass(frozen=True)
class AstroSNNResult:
    """`task` ("retention", "lm" or "generate"); `results`: per model, as written to retention.json or
    lm.json (empty for generate); `text`: the generated text (generate only)."""

    task: str
    results: dict
    text: str = ""


def check_models(models, known=MODEL_KINDS) -> tuple:
    """`models` as a tuple of names of `known` (ValueError naming the valid ones)."""
    models = tuple(models)
    for x in models:
        if x not in known:
            raise ValueError(f"--models: unknown model {x!r}; expected {', '.join(known)}")
    return models


def check(spec) -> None:
    pass


def describe(spec):
    if isinstance(spec, RetentionSpec):
        return "astrosnn retention", {
            "tasks": ", ".join(spec.tasks), "models": ", ".join(spec.models),
            "sizes": f"AstroSNN width d = {spec.d}, the others matched to its parameter count; delays 0 to "
                     f"{spec.max_delay} tokens",
            "training": f"{spec.steps} steps per model and task, seed {spec.seed}, decays {spec.decay}",
            "output": spec.out}
    if isinstance(spec, LMSpec):
        return "astrosnn lm", {
            "corpora": ", ".join(spec.corpora), "models": ", ".join(spec.models),
            "seeds": ", ".join(map(str, spec.seeds)),
            "sizes": f"every model at the width nearest {spec.params:,} parameters, {spec.layers} blocks",
            "training": f"{spec.steps} steps of {spec.batch} x {spec.length} characters, peak learning rate "
                        f"{spec.learning_rate:g}",
            "runs": f"{len(spec.corpora) * len(spec.models) * len(spec.seeds)} (finished ones in {spec.out}/runs are "
                    "reused)",
            "output": spec.out}
    return None


def run(spec, *, progress: bool = True) -> AstroSNNResult:
    if isinstance(spec, RetentionSpec):
        res = ex.run_retention(spec.out, tasks=spec.tasks, models=spec.models, max_delay=spec.max_delay, d=spec.d,
                               steps=spec.steps, seed=spec.seed, progress=progress, decay=spec.decay,
                               restart=spec.restart)
        return AstroSNNResult("retention", res)
    if isinstance(spec, LMSpec):
        res = ex.run_lm(spec.out, models=spec.models, corpora=spec.corpora, seeds=spec.seeds, params=spec.params,
                        layers=spec.layers, steps=spec.steps, batch=spec.batch, length=spec.length,
                        learning_rate=spec.learning_rate, progress=progress, restart=spec.restart)
        return AstroSNNResult("lm", res)
    if isinstance(spec, GenerateSpec):
        from ..astrosnn._text import Vocab

        model, config = tr.load_model(spec.checkpoint)
        if "vocab" not in config:
            raise ValueError(f"{spec.checkpoint} is not a character model (no vocabulary in its config)")
        vocab = Vocab(config["vocab"])  # the characters the checkpoint was trained on
        text = spec.prompt + tr.sample_text(model, vocab, spec.prompt, spec.chars, seed=spec.seed,
                                            temperature=spec.temperature)
        return AstroSNNResult("generate", {}, text)
    raise TypeError(f"`spec` must be a RetentionSpec, LMSpec or GenerateSpec, got {type(spec).__name__}")


def format(result: AstroSNNResult) -> str:
    if result.task == "retention":
        return ex.format_retention(result.results)
    if result.task == "lm":
        return ex.format_lm(result.results)
    return result.text


def write(result: AstroSNNResult, out_dir: str | None) -> list[str]:
    """retention: retention.png; lm: samples.txt and lm.png; generate: nothing. (retention.json, lm.json, the
    runs' results and the checkpoints are written by `run` as each model finishes.)"""
    if result.task == "retention":
        return [ex.write_retention_figure(result.results, os.path.join(out_dir, "retention.png"))]
    if result.task == "lm":
        samples = os.path.join(out_dir, "samples.txt")
        atomic_write(samples, "".join(f"=== {r['corpus']}, {r['model']}, seed {r['seed']} ({r['params']} parameters, "
                                      f"val nats/char {r['val_nats']:.3f}) ===\n{r['sample']}\n\n"
                                      for r in result.results["runs"].values()))
        return [samples, ex.write_lm_figure(result.results, os.path.join(out_dir, "lm.png"))]
    return []


def resume_hint(spec, error: BaseException) -> str:
    if isinstance(spec, GenerateSpec):
        return "nothing was saved; run it again"
    saved = f"{error}; " if str(error) else ""
    again = "again without --restart" if spec.restart else "the same command again"
    return f"{saved}finished models are kept in {spec.out}; run {again} to resume"
