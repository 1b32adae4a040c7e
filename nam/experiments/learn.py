"""Learning through the dynamics (`nam learn`): three tasks with the interface of `nam.experiments`.

- "digits": a learned astrocyte tensor against the Hebbian one on 10 correlated digits
  (`nam.learning._digits.run_digits`), with a checkpoint that makes a re-run resume;
- "inpainting": the Appendix E model trained by BPTT to fill masked patches
  (`nam.learning._inpainting.run_inpainting`), with a checkpoint;
- "gain": the neurons' gain beta alone (`nam.learning._scalars.fit_gain`), no checkpoint.

Each writes `out/results.json` (strict JSON, atomically) and one figure.
"""

import dataclasses
import os

from .._io import write_json
from ..learning import _digits, _inpainting, _scalars
from ..learning._train import NonFiniteLoss, make_optimizer

ERRORS = (ValueError, NonFiniteLoss)
TASKS = ("digits", "inpainting", "gain")
# per task: steps, learning rate, batch, output folder
_DEFAULTS = {"digits": (300, 1e-2, 32, "nam_output/learn"),
             "inpainting": (2000, 3e-3, 64, "nam_output/learn_inpainting"),
             "gain": (60, 5e-2, 32, "nam_output/learn_gain")}


@dataclasses.dataclass(frozen=True)
class Spec:
    """The options of `nam learn`; None takes the task's default (see `nam learn --help`). `adjoint` and
    `trials` do not apply to "inpainting" (BPTT through its Euler steps, tested on every held-out patch).
    Checked and completed when made (ValueError)."""

    task: str = "digits"
    steps: int | None = None
    learning_rate: float | None = None
    batch: int | None = None
    adjoint: str | None = None
    trials: int | None = None
    seed: int = 0
    out: str | None = None
    restart: bool = False

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"`task` must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.task == "inpainting":
            given = [name for name in ("adjoint", "trials") if getattr(self, name) is not None]
            if given:
                raise ValueError(f"`{given[0]}` does not apply to the inpainting task; it applies to digits and gain")
        steps, lr, batch, out = _DEFAULTS[self.task]
        fill = {"steps": steps, "learning_rate": lr, "batch": batch, "out": out}
        if self.task != "inpainting":
            # held-out cues: per flip level for digits; in all for gain, as many as a batch by default
            fill.update(adjoint="recursive", trials=(self.batch or batch) if self.task == "gain" else 200)
        for name, value in fill.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @property
    def checkpoint(self) -> str | None:
        return None if self.task == "gain" else os.path.join(self.out, "checkpoint.eqx")


@dataclasses.dataclass(frozen=True)
class LearnResult:
    """`task`; `data`: what results.json holds; `model`: the trained tensor or network (None for gain)."""

    task: str
    data: dict
    model: object = None


def check(spec: Spec) -> None:
    make_optimizer("adam", spec.learning_rate)  # checks the learning rate before any work


def describe(spec: Spec):
    out = spec.out
    if spec.task == "gain":
        return "learn --task gain", {
            "model": "effective neuron-astrocyte network, Hebbian T, 40 random memories in N = 64 neurons, "
                     "activation tanh(beta x) from beta = 1.5",
            "training": f"beta alone, {spec.steps} Adam steps of {spec.batch} cues (25% of bits flipped), learning "
                        f"rate {spec.learning_rate:g}, {spec.adjoint} gradients, seed {spec.seed}",
            "evaluation": f"{spec.trials} held-out cues",
            "output": out}
    if spec.task == "digits":
        return "learn --task digits", {
            "model": "effective neuron-astrocyte network, 10 digit memories of N = 64 bits (8 x 8), learnable "
                     "astrocyte tensor (SymmetricKronecker, R = 10) against Hebbian",
            "training": f"{spec.steps} Adam steps of {spec.batch} cues, learning rate {spec.learning_rate:g}, "
                        f"{spec.adjoint} gradients, seed {spec.seed}",
            "evaluation": f"{spec.trials} held-out cues per flip level",
            "output": f"{out} (resumes from {out}/checkpoint.eqx)"}
    return "learn --task inpainting", {
        "model": "Appendix E neuron-astrocyte model, N = 256 (16 x 16 grey patches), 20 Euler steps "
                 "of dt = 0.1",
        "training": f"{spec.steps} Adam steps of {spec.batch} patches, learning rate {spec.learning_rate:g}, BPTT, "
                    f"seed {spec.seed}",
        "output": f"{out} (resumes from {out}/checkpoint.eqx)"}


def run(spec: Spec, *, progress: bool = True) -> LearnResult:
    if spec.task == "gain":
        beta, history = _scalars.fit_gain(steps=spec.steps, learning_rate=spec.learning_rate, batch=spec.batch,
                                          seed=spec.seed, adjoint=spec.adjoint, trials=spec.trials, progress=progress)
        settings = {"task": "gain", "steps": spec.steps, "learning_rate": spec.learning_rate, "batch": spec.batch,
                    "adjoint": spec.adjoint, "trials": spec.trials, "seed": spec.seed}
        return LearnResult("gain", {"settings": settings, "beta": beta, "history": history})
    if spec.task == "digits":
        result, learned = _digits.run_digits(steps=spec.steps, learning_rate=spec.learning_rate, batch=spec.batch,
                                             adjoint=spec.adjoint, seed=spec.seed, trials=spec.trials,
                                             progress=progress, checkpoint=spec.checkpoint, restart=spec.restart)
        return LearnResult("digits", result, learned)
    result, net = _inpainting.run_inpainting(steps=spec.steps, learning_rate=spec.learning_rate, batch=spec.batch,
                                             seed=spec.seed, progress=progress, checkpoint=spec.checkpoint,
                                             restart=spec.restart)
    return LearnResult("inpainting", result, net)


def format(result: LearnResult) -> str:
    if result.task == "gain":
        return _scalars.format_gain(result.data["beta"], result.data["history"])
    if result.task == "digits":
        return _digits.format_digits(result.data)
    return _inpainting.format_inpainting(result.data)


def write(result: LearnResult, out_dir: str) -> list[str]:
    """results.json (the settings of the run whose checkpoint it used, and what it measured) and the figure."""
    path = os.path.join(out_dir, "results.json")
    write_json(path, result.data)
    if result.task == "gain":
        figure = _scalars.write_gain_figure(result.data["history"], out_dir)
    elif result.task == "digits":
        figure = _digits.write_digits_figure(result.data, out_dir)
    else:
        figure = _inpainting.write_inpainting_figure(result.data, result.model, out_dir)
    return [path, figure]


def resume_hint(spec: Spec, error: BaseException) -> str:
    if spec.task == "gain":
        return "the gain task keeps no checkpoint, nothing was saved; run it again"
    saved = f"{error}; " if str(error) else f"the checkpoint {spec.checkpoint} holds the completed steps; "
    again = "again without --restart" if spec.restart else "the same command again"
    return f"{saved}run {again} to resume"
