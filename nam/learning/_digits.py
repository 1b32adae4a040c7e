"""Demonstration 1 of learning: correlated memories (the digits), Hebbian T against a learned T.

The ten digit images that ship with nam (`nam/spiking/data/digits`, the images of Gordleeva et al.),
resized to 8 x 8 and binarised, are N = 64 memories of +-1 with large overlaps (mean |xi_mu . xi_nu|
/ N = 0.48, up to 0.76: every digit is mostly background). With the Hebbian tensor of eq. 10 the
effective neuron-astrocyte network sends every cue, even an uncorrupted memory, to one of two
spurious mixture states. A tensor of the same form, T = scale sum_r c_r (u_r u_r^T) (x) (u_r u_r^T)
with R = 10 (650 numbers against the 640 of the Hebbian patterns), started at the Hebbian tensor and
trained by backpropagation through the dynamics, retrieves them.

Training: cues are memories with a uniformly random fraction in [0, `rho_train`] of their bits
flipped (exact counts); the loss is the hinge mean relu(0.5 - target * x*) on the neurons' steady
state (the mean-squared error of tanh(5 x*) has vanishing gradients at the saturated mixture states);
Adam. Evaluation: exact retrieval (sign of the read-out equals the memory) from held-out corruptions
(keys disjoint from training) at each flip fraction.
"""

import os

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._patterns import flip_bits
from ..dynamics._config import SolverConfig
from ..models._astrocyte_tensor import HebbianTensor
from ._loss import retrieval_loss
from ._tensors import SymmetricKronecker, parameter_count
from ._train import make_optimizer, train

CONFIG = dict(solver="tsit5", t1=100.0, max_steps=2000)
EVAL_RHOS = tuple(round(0.05 * i, 2) for i in range(9))


def digit_patterns(side: int = 8) -> jax.Array:
    """The ten digits as (10, side^2) memories of +-1 (pixel on = +1)."""
    from ..spiking._protocol import load_digit

    return jnp.asarray(np.stack([load_digit(d, side=side) for d in range(10)]).reshape(10, -1) * 2.0 - 1.0)


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


def run_digits(*, steps: int = 300, learning_rate: float = 1e-2, batch: int = 32, rho_train: float = 0.3,
               adjoint: str = "recursive", seed: int = 0, checkpoint: str | None = None, trials: int = 200,
               progress: bool = True):
    """Train the learned tensor and measure both curves. Returns a dict of results (and the tensor)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"`batch` must be a positive integer, got {batch!r}")
    if not 0.0 <= rho_train < 0.5:
        raise ValueError(f"`rho_train` must be in [0, 0.5), got {rho_train}")
    xi = digit_patterns()
    config = SolverConfig(**CONFIG, adjoint=adjoint)
    start = SymmetricKronecker.from_patterns(xi)
    loss_fn = lambda t, b: retrieval_loss(t, *b, config=config, kind="hinge", state_margin=0.5)
    learned, history = train(start, loss_fn, make_optimizer("adam", learning_rate), _batch_sampler(xi, batch, rho_train),
                             steps=steps, seed=seed, checkpoint=checkpoint, progress=progress)
    hebbian = HebbianTensor(xi)
    overlaps = np.asarray(xi @ xi.T) / xi.shape[1]
    off = overlaps[~np.eye(xi.shape[0], dtype=bool)]
    return {
        "rhos": list(EVAL_RHOS), "trials": trials,
        "hebbian": retrieval_curve(hebbian, xi, trials=trials),
        "learned": retrieval_curve(learned, xi, trials=trials),
        "history": history, "parameters_learned": parameter_count(learned),
        "parameters_hebbian": int(xi.size), "mean_abs_overlap": float(np.abs(off).mean()),
        "max_overlap": float(off.max()), "settings": dict(steps=steps, learning_rate=learning_rate, batch=batch,
                                                          rho_train=rho_train, adjoint=adjoint, seed=seed),
    }, learned


def format_digits(result) -> str:
    lines = [f"correlated memories: 10 digits, N = 64 (mean |overlap| {result['mean_abs_overlap']:.2f}, "
             f"max {result['max_overlap']:.2f}); exact retrieval from {result['trials']} held-out cues per level",
             f"{'flipped':>8} {'Hebbian':>8} {'learned':>8}"]
    for r, h, l in zip(result["rhos"], result["hebbian"], result["learned"]):
        lines.append(f"{r:>8.2f} {h:>8.3f} {l:>8.3f}")
    hist = result["history"]
    lines.append(f"parameters: learned {result['parameters_learned']}, Hebbian {result['parameters_hebbian']}; "
                 f"training loss {hist[0]['loss']:.4f} -> {hist[-1]['loss']:.4f} over {len(hist)} steps")
    return "\n".join(lines)


def write_digits_figure(result, out_dir: str) -> str:
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    fig = Figure(figsize=(10, 4))
    ax, bx = fig.subplots(1, 2)
    ax.plot(result["rhos"], result["hebbian"], "o-", label="Hebbian T (eq. 10)")
    ax.plot(result["rhos"], result["learned"], "s-", label="learned T, same form and budget")
    ax.set_xlabel("fraction of bits flipped in the cue")
    ax.set_ylabel("fraction retrieved exactly")
    ax.set_title("10 correlated digits, N = 64", fontsize=9)
    ax.legend(fontsize=8)
    steps = [h["step"] for h in result["history"]]
    bx.plot(steps, [h["loss"] for h in result["history"]], lw=0.8)
    bx.set_xlabel("training step")
    bx.set_ylabel("hinge loss on the steady state")
    bx.set_yscale("log")
    fig.tight_layout()
    path = os.path.join(out_dir, "digits.png")
    fig.savefig(path, dpi=100)
    return path
