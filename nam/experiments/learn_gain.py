"""Demonstration 3 of learning: a few scalar parameters (here the neurons' gain beta) trained by the
gradient of a retrieval loss through the dynamics, to show the gradient is usable.

Random memories (K = 40, N = 64) in the effective neuron-astrocyte network with the Hebbian tensor
(1/N^3) and activation tanh(beta x). At beta = 1.5 the quartic field cannot hold a memory against
the leak, and every cue with 25 % flipped bits decays towards x = 0; raising beta restores the
memories. Only beta is trained (as log beta, so it stays positive), by Adam on the steady-state hinge
loss of `retrieval_loss`.
"""

import dataclasses
import os
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._checks import check_choice, check_instance, check_int, check_memory, check_number
from .._io import write_json
from .._lagrangians import LogCosh
from .._patterns import flip_bits, random_patterns
from ..dynamics._config import SolverConfig
from ..learning._loss import retrieval_loss
from ..learning._train import NonFiniteLoss, make_optimizer, train
from ..models._astrocyte_tensor import HebbianTensor
from ._base import AbstractExperiment, option
from .learn_digits import LearnResult


class Gain(eqx.Module):
    """The trainable scalar: beta = exp(log_beta)."""

    log_beta: Float[Array, ""]


@dataclasses.dataclass(frozen=True)
class LearnGain(AbstractExperiment):
    """`nam learn gain`: the neurons' gain beta alone, trained through the dynamics (see the module docstring);
    no checkpoint; writes results.json and gain.png."""

    command: ClassVar[str] = "learn gain"
    summary: ClassVar[str] = "train the neurons' gain beta alone through the dynamics (a scalar gradient check)"
    errors: ClassVar[tuple[type[BaseException], ...]] = (ValueError, NonFiniteLoss)

    steps: int = option(60, "Adam steps")
    learning_rate: float = option(5e-2, "learning rate", flag="--lr")
    batch: int = option(32, "cues per step")
    adjoint: str = option(
        "recursive",
        "gradients by backpropagation through the solve or implicitly at the steady state",
        choices=("recursive", "implicit"),
    )
    trials: int | None = option(None, "held-out cues in all (default: --batch)")
    seed: int = option(0, "random seed")
    out: str = option("nam_output/learn_gain", "output folder")

    def __post_init__(self):
        check_int("steps", self.steps)
        make_optimizer("adam", self.learning_rate)  # checks the learning rate
        check_int("batch", self.batch)
        check_choice("adjoint", self.adjoint, ("recursive", "implicit"))
        if self.trials is not None:
            check_int("trials", self.trials)
        check_int("seed", self.seed, 0)
        check_instance("out", self.out, str, "a folder path")

    def describe(self) -> tuple[str, dict]:
        return self.command, {
            "model": "effective neuron-astrocyte network, Hebbian T, 40 random memories in N = 64 neurons, "
            "activation tanh(beta x) from beta = 1.5",
            "training": f"beta alone, {self.steps} Adam steps of {self.batch} cues (25% of bits flipped), learning "
            f"rate {self.learning_rate:g}, {self.adjoint} gradients, seed {self.seed}",
            "evaluation": f"{self.trials or self.batch} held-out cues",
            "output": self.out,
        }

    def run(self, *, progress: bool = True) -> LearnResult:
        trials = self.trials or self.batch
        beta, history = fit_gain(
            steps=self.steps,
            learning_rate=self.learning_rate,
            batch=self.batch,
            seed=self.seed,
            adjoint=self.adjoint,
            trials=trials,
            progress=progress,
        )
        settings = {
            "task": "gain",
            "steps": self.steps,
            "learning_rate": self.learning_rate,
            "batch": self.batch,
            "adjoint": self.adjoint,
            "trials": trials,
            "seed": self.seed,
        }
        return LearnResult({"settings": settings, "beta": beta, "history": history})

    def format(self, result: LearnResult) -> str:
        return format_gain(result.data["beta"], result.data["history"])

    def write(self, result: LearnResult, out_dir: str | None) -> list[str]:
        out_dir = self.out if out_dir is None else out_dir
        path = os.path.join(out_dir, "results.json")
        write_json(path, result.data)
        return [path, write_gain_figure(result.data["history"], out_dir)]

    def resume_hint(self, error: BaseException) -> str:
        return "the gain task keeps no checkpoint, nothing was saved; run it again"


def fit_gain(
    *,
    n: int = 64,
    k: int = 40,
    beta0: float = 1.5,
    rho: float = 0.25,
    steps: int = LearnGain.steps,
    learning_rate: float = LearnGain.learning_rate,
    batch: int = LearnGain.batch,
    seed: int = LearnGain.seed,
    progress: bool = False,
    adjoint: str = LearnGain.adjoint,
    trials: int | None = None,
):
    """Train beta from `beta0`; returns (final beta, the held-out "exact" and "beta" at steps 0, 10, ...
    and at the end). Gradients by backpropagation through the solve or implicitly at the steady state
    (`adjoint`, as `nam.SolverConfig`); "exact" is measured on `trials` held-out cues (default: `batch`)."""
    n, k, batch, seed = check_int("n", n, 2), check_int("k", k), check_int("batch", batch), check_int("seed", seed, 0)
    trials = batch if trials is None else check_int("trials", trials)
    beta0 = check_number("beta0", beta0, minimum=0.0, open_min=True)
    rho = check_number("rho", rho, minimum=0.0, maximum=1.0)
    check_choice("adjoint", adjoint, ("recursive", "implicit"))
    # the loss runs `batch` (or `trials`) cues of N neurons through a 2000-step solve, reverse-mode checkpoints
    check_memory(
        "`batch`, `trials`, `n`", float(max(batch, trials)) * n * 8 * 70 * 4, "the retrieval loss of one batch"
    )
    xi = random_patterns(jr.PRNGKey(seed), k, n)
    config = SolverConfig("tsit5", t1=100.0, max_steps=2000, adjoint=adjoint)
    tensor = HebbianTensor(xi)

    def loss_fn(p, b):
        return retrieval_loss(tensor, *b, lagrangian=LogCosh(jnp.exp(p.log_beta)), config=config, kind="hinge")

    def sample(key, size=batch):
        k1, k2 = jr.split(key)
        mu = jr.randint(k1, (size,), 0, k)
        return jax.vmap(lambda kk, m: flip_bits(kk, xi[m], rho))(jr.split(k2, size), mu), xi[mu]

    held_out = sample(jr.PRNGKey(seed + 10**6), trials)

    def evaluate(p):
        _, aux = loss_fn(p, held_out)
        return {"exact": aux.exact, "beta": jnp.exp(p.log_beta)}

    start = Gain(jnp.log(jnp.asarray(beta0)))
    params, history = train(
        start,
        loss_fn,
        make_optimizer("adam", learning_rate),
        sample,
        steps=steps,
        seed=seed,
        eval_fn=evaluate,
        eval_every=10,
        progress=progress,
    )
    return float(jnp.exp(params.log_beta)), [h for h in history if "exact" in h]


def format_gain(beta: float, history) -> str:
    lines = [
        "learning the gain beta of tanh(beta x) (Hebbian T, K = 40 random memories, N = 64, 25 % flipped):",
        f"{'step':>5} {'beta':>6} {'retrieved':>10}",
    ]
    lines += [f"{h['step']:>5} {h['beta']:>6.2f} {h['exact']:>10.3f}" for h in history]
    return "\n".join(lines)


def write_gain_figure(history, out_dir: str) -> str:
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["beta"] for h in history], "o-", label="gain beta of tanh(beta x)")
    ax.set_xlabel("training step (Adam updates)")
    ax.set_ylabel("gain beta (dimensionless)")
    bx = ax.twinx()
    bx.plot(
        steps,
        [h["exact"] for h in history],
        "s--",
        color="C1",
        label="effective neuron-astrocyte, held-out cues retrieved",
    )
    bx.set_ylabel("fraction of held-out cues retrieved exactly")
    ax.set_title("gradient through the dynamics trains the neurons' gain", fontsize=9)
    (h1, l1), (h2, l2) = ax.get_legend_handles_labels(), bx.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="center right")
    fig.tight_layout()
    path = os.path.join(out_dir, "gain.png")
    fig.savefig(path, dpi=100)
    return path
