"""Demonstration 1 of learning: correlated memories (the digits), Hebbian T against a learned T.

The ten digit images that ship with nam (`nam._data.digit_patterns`, the images of Gordleeva et al.),
resized to 8 x 8 and binarised, are N = 64 memories of +-1 with large overlaps (mean |xi_mu . xi_nu|
/ N = 0.48, up to 0.76: every digit is mostly background). With the Hebbian tensor of eq. 10 the
effective neuron-astrocyte network sends every cue, even an uncorrupted memory, to one of two
spurious mixture states. A tensor of the same form, T = scale sum_r c_r (u_r u_r^T) (x) (u_r u_r^T)
with R = 10 (650 numbers against the 640 of the Hebbian patterns), started at the Hebbian tensor and
trained by backpropagation through the dynamics, retrieves them. The Hebbian tensor on pairwise distinct
indices (`nam.HebbianTensor(xi, distinct_indices=True)`, no self-coupling) is the second baseline: the
self-coupling of eq. 10 is not what fails here (it fails as well, on the correlations).

Training: cues are memories with a uniformly random fraction in [0, `rho_train`] of their bits
flipped (exact counts); the loss is the hinge mean relu(0.5 - target * x*) on the neurons' steady
state (the mean-squared error of tanh(5 x*) has vanishing gradients at the saturated mixture states);
Adam. Evaluation: exact retrieval (sign of the read-out equals the memory) from held-out corruptions
(keys disjoint from training) at each flip fraction.
"""

import dataclasses
import os
from typing import Any, ClassVar

import jax
import jax.random as jr
import numpy as np

from .._checks import check_choice, check_instance, check_int, check_memory, check_number
from .._data import digit_patterns
from .._io import write_json
from .._patterns import flip_bits
from .._plotting import plot_loss
from ..dynamics._config import SolverConfig
from ..learning._loss import retrieval_loss
from ..learning._tensors import SymmetricKronecker, tensor_parameter_count
from ..learning._train import NonFiniteLoss, make_optimizer, train
from ..models._astrocyte_tensor import HebbianTensor
from ._base import AbstractExperiment, option

CONFIG: dict[str, Any] = dict(solver="tsit5", t1=100.0, max_steps=2000)
EVAL_RHOS = tuple(round(0.05 * i, 2) for i in range(9))


def _batch_sampler(patterns, batch: int, rho_train: float):
    k = patterns.shape[0]

    def sample(key):
        k1, k2, k3 = jr.split(key, 3)
        mu = jr.randint(k1, (batch,), 0, k)
        rho = jr.uniform(k2, (batch,), maxval=rho_train)
        cues = jax.vmap(lambda kk, m, r: flip_bits(kk, patterns[m], r))(jr.split(k3, batch), mu, rho)
        return cues, patterns[mu]

    return sample


def retrieval_curve(tensor, patterns, *, rhos=EVAL_RHOS, trials: int = 200, seed: int = 10**6, config=None):
    """Fraction of held-out corrupted cues retrieved exactly, per flip fraction (one array per rho)."""
    config = SolverConfig(**CONFIG) if config is None else config
    k = patterns.shape[0]
    out = []
    for i, rho in enumerate(rhos):
        key = jr.fold_in(jr.PRNGKey(seed), i)
        mu = jr.randint(key, (trials,), 0, k)
        cues = jax.vmap(lambda kk, m: flip_bits(kk, patterns[m], rho))(jr.split(jr.fold_in(key, 1), trials), mu)
        _, aux = retrieval_loss(tensor, cues, patterns[mu], config=config)
        out.append(float(aux.exact))
    return out


@dataclasses.dataclass(frozen=True)
class LearnResult:
    """`data`: what results.json holds; `model`: the trained tensor or network (None for the gain task)."""

    data: dict
    model: object = None


def _resume_hint(restart: bool, checkpoint: str, error: BaseException) -> str:
    saved = f"{error}; " if str(error) else f"the checkpoint {checkpoint} holds the completed steps; "
    return f"{saved}run {'again without --restart' if restart else 'the same command again'} to resume"


@dataclasses.dataclass(frozen=True)
class LearnDigits(AbstractExperiment):
    """`nam learn digits`: a learned astrocyte tensor against the Hebbian one on 10 correlated digits (see the
    module docstring); `out/checkpoint.eqx` makes a re-run resume; writes results.json and digits.png."""

    command: ClassVar[str] = "learn digits"
    summary: ClassVar[str] = (
        "learned vs Hebbian astrocyte tensor on 10 correlated digit memories, by differentiating through the dynamics"
    )
    errors: ClassVar[tuple[type[BaseException], ...]] = (ValueError, NonFiniteLoss)

    steps: int = option(300, "Adam steps")
    learning_rate: float = option(1e-2, "learning rate", flag="--lr")
    batch: int = option(32, "cues per step")
    adjoint: str = option(
        "recursive",
        "gradients by backpropagation through the solve or implicitly at the steady state",
        choices=("recursive", "implicit"),
    )
    trials: int = option(200, "held-out cues per flip level")
    seed: int = option(0, "random seed")
    out: str = option("nam_output/learn", "output folder; its checkpoint makes a re-run resume")
    restart: bool = option(
        False, "start afresh over a checkpoint in --out written with other options (otherwise such a run is refused)"
    )

    def __post_init__(self):
        _check_options(self.steps, self.learning_rate, self.batch, self.adjoint, self.trials, self.seed)
        check_instance("out", self.out, str, "a folder path")

    @property
    def checkpoint(self) -> str:
        return os.path.join(self.out, "checkpoint.eqx")

    def describe(self) -> tuple[str, dict]:
        return self.command, {
            "model": "effective neuron-astrocyte network, 10 digit memories of N = 64 bits (8 x 8), learnable "
            "astrocyte tensor (SymmetricKronecker, R = 10) against Hebbian",
            "training": f"{self.steps} Adam steps of {self.batch} cues, learning rate {self.learning_rate:g}, "
            f"{self.adjoint} gradients, seed {self.seed}",
            "evaluation": f"{self.trials} held-out cues per flip level",
            "output": f"{self.out} (resumes from {self.checkpoint})",
        }

    def run(self, *, progress: bool = True) -> LearnResult:
        result, learned = run_digits(
            steps=self.steps,
            learning_rate=self.learning_rate,
            batch=self.batch,
            adjoint=self.adjoint,
            seed=self.seed,
            trials=self.trials,
            progress=progress,
            checkpoint=self.checkpoint,
            restart=self.restart,
        )
        return LearnResult(result, learned)

    def format(self, result: LearnResult) -> str:
        return format_digits(result.data)

    def write(self, result: LearnResult, out_dir: str | None) -> list[str]:
        """results.json (the settings of the run whose checkpoint it used, and what it measured), digits.png."""
        out_dir = self.out if out_dir is None else out_dir
        path = os.path.join(out_dir, "results.json")
        write_json(path, result.data)
        return [path, write_digits_figure(result.data, out_dir)]

    def resume_hint(self, error: BaseException) -> str:
        return _resume_hint(self.restart, self.checkpoint, error)


def _check_options(steps, learning_rate, batch, adjoint, trials, seed, rho_train=0.3):
    """The options of `run_digits` checked (one place for the experiment and the function)."""
    steps, seed = check_int("steps", steps), check_int("seed", seed, 0)
    batch, trials = check_int("batch", batch), check_int("trials", trials)
    make_optimizer("adam", learning_rate)  # checks the learning rate
    rho_train = check_number("rho_train", rho_train, minimum=0.0, maximum=0.5, open_max=True)
    check_choice("adjoint", adjoint, ("recursive", "implicit"))
    # the retrieval losses run `batch` (or `trials`) cues of the 64 neurons through a 2000-step solve,
    # with reverse-mode checkpoints: about 64 numbers x (62 checkpoints + 7 stages) per cue
    check_memory("`batch`, `trials`", max(batch, trials) * 64 * 8 * 70 * 4, "the retrieval loss of one batch")
    return steps, batch, trials, rho_train, seed


def run_digits(
    *,
    steps: int = LearnDigits.steps,
    learning_rate: float = LearnDigits.learning_rate,
    batch: int = LearnDigits.batch,
    rho_train: float = 0.3,
    adjoint: str = LearnDigits.adjoint,
    seed: int = LearnDigits.seed,
    checkpoint: str | None = None,
    trials: int = LearnDigits.trials,
    progress: bool = True,
    restart: bool = False,
):
    """Train the learned tensor and measure the three curves (Hebbian, Hebbian on distinct indices, learned).
    Returns a dict of results (and the tensor).
    `checkpoint` makes a re-run resume; one written with other settings is refused unless `restart`."""
    steps, batch, trials, rho_train, seed = _check_options(
        steps, learning_rate, batch, adjoint, trials, seed, rho_train
    )
    xi = digit_patterns()
    config = SolverConfig(**CONFIG, adjoint=adjoint)
    start = SymmetricKronecker.from_patterns(xi)
    settings = dict(
        steps=steps, learning_rate=learning_rate, batch=batch, rho_train=rho_train, adjoint=adjoint, seed=seed
    )
    loss_fn = lambda t, b: retrieval_loss(t, *b, config=config, kind="hinge", state_margin=0.5)
    learned, history = train(
        start,
        loss_fn,
        make_optimizer("adam", learning_rate),
        _batch_sampler(xi, batch, rho_train),
        steps=steps,
        seed=seed,
        checkpoint=checkpoint,
        progress=progress,
        config={"task": "digits", **settings},
        restart=restart,
    )
    hebbian = HebbianTensor(xi)
    hebbian_distinct = HebbianTensor(xi, distinct_indices=True)
    overlaps = np.asarray(xi @ xi.T) / xi.shape[1]
    off = overlaps[~np.eye(xi.shape[0], dtype=bool)]
    return {
        "rhos": list(EVAL_RHOS),
        "trials": trials,
        "hebbian": retrieval_curve(hebbian, xi, trials=trials),
        "hebbian_distinct": retrieval_curve(hebbian_distinct, xi, trials=trials),
        "learned": retrieval_curve(learned, xi, trials=trials),
        "history": history,
        "parameters_learned": tensor_parameter_count(learned),
        "parameters_hebbian": int(xi.size),
        "mean_abs_overlap": float(np.abs(off).mean()),
        "max_overlap": float(off.max()),
        "settings": settings,
    }, learned


def format_digits(result) -> str:
    lines = [
        f"correlated memories: 10 digits, N = 64 (mean |overlap| {result['mean_abs_overlap']:.2f}, "
        f"max {result['max_overlap']:.2f}); exact retrieval from {result['trials']} held-out cues per level",
        f"{'flipped':>8} {'Hebbian':>8} {'distinct':>8} {'learned':>8}   "
        "(Hebbian: eq. 10; distinct: eq. 10 on pairwise distinct indices)",
    ]
    for r, h, d, l in zip(result["rhos"], result["hebbian"], result["hebbian_distinct"], result["learned"]):
        lines.append(f"{r:>8.2f} {h:>8.3f} {d:>8.3f} {l:>8.3f}")
    hist = result["history"]
    lines.append(
        f"parameters: learned {result['parameters_learned']}, Hebbian {result['parameters_hebbian']}; "
        f"training loss {hist[0]['loss']:.4f} -> {hist[-1]['loss']:.4f} over {len(hist)} steps"
    )
    return "\n".join(lines)


def write_digits_figure(result, out_dir: str) -> str:
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    fig = Figure(figsize=(10, 4))
    ax, bx = fig.subplots(1, 2)
    ax.plot(result["rhos"], result["hebbian"], "o-", label="effective neuron-astrocyte, Hebbian T (eq. 10)")
    ax.plot(
        result["rhos"],
        result["hebbian_distinct"],
        "^--",
        label="effective neuron-astrocyte, Hebbian T on distinct indices",
    )
    ax.plot(result["rhos"], result["learned"], "s-", label="effective neuron-astrocyte, learned T (same budget)")
    ax.set_xlabel("fraction of bits flipped in the cue (exact count)")
    ax.set_ylabel("fraction of held-out cues retrieved exactly")
    ax.set_title("10 correlated digits, N = 64", fontsize=9)
    ax.legend(fontsize=8)
    steps = [h["step"] for h in result["history"]]
    plot_loss(
        bx,
        steps,
        [h["loss"] for h in result["history"]],
        label="learned T (effective neuron-astrocyte)",
        ylabel="hinge loss on the steady state (dimensionless)",
    )
    bx.set_title("training loss", fontsize=9)
    fig.tight_layout()
    path = os.path.join(out_dir, "digits.png")
    fig.savefig(path, dpi=100)
    return path
