"""Retention (`nam astrosnn retention`): accuracy against delay on associative recall and delayed copy for
AstroSNN (Shen et al.) and its baselines at a matched parameter count; `out/retention.json` and a checkpoint
per model, a re-run resumes."""

import dataclasses
import os
from typing import ClassVar

import equinox as eqx
import jax.random as jr
import numpy as np

from .._checks import check_choice, check_choices, check_instance, check_int
from .._io import write_json
from ..astrosnn._models import MODEL_KINDS, build_model, parameter_count
from ..astrosnn._tasks import RetentionTask
from ..astrosnn._training import check_sizes, decay_label, retention_accuracy, train_retention
from ..learning._train import NonFiniteLoss
from ._base import AbstractExperiment, option
from ._resume import start

BASELINES = ("astrosnn", "lif", "lstm", "transformer")
DELAYS = (0, 16, 32, 64, 128, 192, 256)


@dataclasses.dataclass(frozen=True)
class AstroSNNResult:
    """`results`: per model, as written to retention.json or lm.json."""

    results: dict


@dataclasses.dataclass(frozen=True)
class AstroSNNRetention(AbstractExperiment):
    """`nam astrosnn retention`: accuracy against delay (0..`max_delay` tokens) on associative recall and delayed
    copy; AstroSNN of width `d` the reference, every other model at its parameter count."""

    command: ClassVar[str] = "astrosnn retention"
    summary: ClassVar[str] = "accuracy vs delay (0..256) on associative recall and delayed copy"
    errors: ClassVar[tuple[type[BaseException], ...]] = (
        ValueError,
        FileNotFoundError,
        RuntimeError,
        KeyError,
        NonFiniteLoss,
    )

    tasks: tuple[str, ...] = option(("recall", "copy"), "comma-separated subset of recall,copy")
    models: tuple[str, ...] = option(BASELINES, f"comma-separated subset of {','.join(MODEL_KINDS)}")
    max_delay: int = option(256, "longest delay in tokens")
    d: int = option(64, "AstroSNN width; the others match its parameter count")
    steps: int = option(1000, "training steps per model")
    decay: str = option(
        "retnet", "start of the astrocyte decays: retnet (0.969-0.999) or wide (0.5-0.998)", choices=("retnet", "wide")
    )
    seed: int = option(0, "random seed")
    out: str = option("nam_output/astrosnn_retention", "output folder; a re-run resumes")
    restart: bool = option(
        False,
        "start afresh: discard the results and checkpoints in --out (otherwise a run with other options is refused)",
    )

    def __post_init__(self):
        check_choices("tasks", self.tasks, ("recall", "copy"))
        if not self.models:
            raise ValueError("`models` must name at least one model")
        check_choices("models", self.models, MODEL_KINDS)
        check_int("max_delay", self.max_delay, 0)
        check_int("d", self.d)
        check_int("steps", self.steps)
        check_choice("decay", self.decay, ("retnet", "wide"))
        check_int("seed", self.seed, 0)
        check_instance("out", self.out, str, "a folder path")

    def describe(self) -> tuple[str, dict]:
        return self.command, {
            "tasks": ", ".join(self.tasks),
            "models": ", ".join(self.models),
            "sizes": f"AstroSNN width d = {self.d}, the others matched to its parameter count; delays 0 to "
            f"{self.max_delay} tokens",
            "training": f"{self.steps} steps per model and task, seed {self.seed}, decays {self.decay}",
            "output": self.out,
        }

    def run(self, *, progress: bool = True) -> AstroSNNResult:
        return AstroSNNResult(
            run_retention(
                self.out,
                tasks=self.tasks,
                models=self.models,
                max_delay=self.max_delay,
                d=self.d,
                steps=self.steps,
                seed=self.seed,
                progress=progress,
                decay=self.decay,
                restart=self.restart,
            )
        )

    def format(self, result: AstroSNNResult) -> str:
        return format_retention(result.results)

    def write(self, result: AstroSNNResult, out_dir: str | None) -> list[str]:
        """retention.png (retention.json and the checkpoints are written by `run` as each model finishes)."""
        out_dir = self.out if out_dir is None else out_dir
        return [write_retention_figure(result.results, os.path.join(out_dir, "retention.png"))]

    def resume_hint(self, error: BaseException) -> str:
        saved = f"{error}; " if str(error) else ""
        again = "again without --restart" if self.restart else "the same command again"
        return f"{saved}finished models are kept in {self.out}; run {again} to resume"


def run_retention(
    out: str,
    *,
    tasks=AstroSNNRetention.tasks,
    models=BASELINES,
    max_delay: int = AstroSNNRetention.max_delay,
    d: int = AstroSNNRetention.d,
    layers: int = 2,
    steps: int = 1000,
    batch: int = 32,
    learning_rate: float = 3e-3,
    delays=DELAYS,
    trials: int = 512,
    seed: int = 0,
    progress: bool = True,
    decay="retnet",
    restart: bool = False,
) -> dict:
    """Accuracy vs delay for every task and model, AstroSNN of width `d` the reference and every other model
    at its parameter count. Results go to `out/retention.json` as each model finishes; a re-run resumes
    (finished models are skipped, an interrupted one continues from its checkpoint). Results or
    checkpoints made with other options are refused, unless `restart` (start afresh, overwrite them)."""
    tasks = check_choices("tasks", tasks, ("recall", "copy"))
    max_delay, trials = check_int("max_delay", max_delay, 0), check_int("trials", trials)
    delays = [check_int("delays", x, 0) for x in delays]
    options = {
        "max_delay": max_delay,
        "d": d,
        "layers": layers,
        "steps": steps,
        "batch": batch,
        "learning_rate": learning_rate,
        "trials": trials,
        "seed": seed,
        "decay": decay_label(decay),
    }
    path, results, models = start(out, "retention.json", options, restart, models)
    for task_kind in tasks:
        task = RetentionTask(task_kind, max_delay)
        check_sizes(
            "`d`, `layers`, `batch`, `max_delay`", "astrosnn", task.vocab, d, layers, 4, 32, batch, task.length, None
        )
        reference = parameter_count(
            eqx.filter_eval_shape(build_model, "astrosnn", task.vocab, d, layers, key=jr.PRNGKey(seed))
        )
        for kind in models:
            name = f"{task_kind}/{kind}"
            if name in results:
                continue
            if progress:
                print(f"[{name}] training {steps} steps", flush=True)
            model, history, config = train_retention(
                kind,
                task,
                d=d,
                layers=layers,
                target_params=None if kind == "astrosnn" else reference,
                steps=steps,
                batch=batch,
                learning_rate=learning_rate,
                seed=seed,
                progress=progress,
                decay=decay,
                checkpoint=os.path.join(out, f"{task_kind}_{kind}.eqx"),
                restart=restart,
            )
            acc = retention_accuracy(model, task, [x for x in delays if x <= max_delay], trials=trials)
            results[name] = {
                "task": task_kind,
                "model": kind,
                "options": options,
                "params": config["params"],
                "d": config["d"],
                "steps": steps,
                "chance": task.chance,
                "accuracy": acc,
                "final_loss": float(np.mean([h["loss"] for h in history[-50:] if "loss" in h])),
            }
            write_json(path, results)
    return results


def _accuracy(result) -> dict:
    """{delay: accuracy} with int delays (results read back from JSON have string keys)."""
    return {int(k): v for k, v in result["accuracy"].items()}


def format_retention(results: dict) -> str:
    lines = []
    for task_kind in sorted({r["task"] for r in results.values()}):
        rows = [r for r in results.values() if r["task"] == task_kind]
        delays = sorted({x for r in rows for x in _accuracy(r)})
        lines.append(f"{task_kind} (chance {rows[0]['chance']:.3f}): accuracy vs delay")
        lines.append(f"  {'model':<12}{'params':>8}" + "".join(f"{x:>7}" for x in delays))
        for r in rows:
            acc = _accuracy(r)
            lines.append(f"  {r['model']:<12}{r['params']:>8}" + "".join(f"{acc[x]:>7.3f}" for x in delays))
    return "\n".join(lines)


def write_retention_figure(results: dict, path: str) -> str:
    """One panel per task (accuracy against delay, every model, chance), saved once to `path` (PNG)."""
    from matplotlib.figure import Figure

    from .._plotting import label_axes

    tasks = sorted({r["task"] for r in results.values()})
    fig = Figure(figsize=(4.5 * len(tasks), 3.4))
    axes = fig.subplots(1, len(tasks), squeeze=False)[0]
    for ax, task_kind in zip(axes, tasks):
        for r in (r for r in results.values() if r["task"] == task_kind):
            acc = _accuracy(r)
            xs = sorted(acc)
            ax.plot(xs, [acc[x] for x in xs], "o-", label=f"{r['model']} ({r['params'] / 1e3:.0f}k)")
        ax.axhline(r["chance"], color="grey", lw=0.8, ls=":", label="chance")
        ax.set_ylim(0, 1.02)
        label_axes(ax, xlabel="delay (tokens)", ylabel="accuracy", title=f"{task_kind}: retention")
    fig.tight_layout()
    fig.savefig(path, dpi=100)  # once, with every task's panel drawn
    return path
