"""Learning demonstration 2 (`nam learn inpainting`): the reduced non-symmetric neuron-astrocyte model of
Appendix E (`nam.learning.ReducedAstrocyteNet`) trained by backpropagation through its Euler steps to fill
masked patches of the photograph that ships with matplotlib, against filling each masked pixel with the mean of
the patch's visible pixels (the patches, masks and baseline: `nam.learning`'s inpainting helpers)."""

import dataclasses
import math
import os
from typing import ClassVar

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._checks import check_instance, check_int, check_memory, check_number
from .._io import write_json
from ..learning._inpainting import image_patches, masked_input, masked_rms, mean_fill, random_masks
from ..learning._reduced import ReducedAstrocyteNet
from ..learning._train import NonFiniteLoss, make_optimizer, train
from ._base import AbstractExperiment, option
from .learn_digits import LearnResult, _resume_hint


@dataclasses.dataclass(frozen=True)
class LearnInpainting(AbstractExperiment):
    """`nam learn inpainting` (see the module docstring); `out/checkpoint.eqx` makes a re-run resume; writes
    results.json and inpainting.png. Trained by backpropagation through its Euler steps and tested on every
    held-out patch, so it has no --adjoint or --trials."""

    command: ClassVar[str] = "learn inpainting"
    summary: ClassVar[str] = "the Appendix E model trained by BPTT to fill masked image patches"
    errors: ClassVar[tuple[type[BaseException], ...]] = (ValueError, NonFiniteLoss)

    steps: int = option(2000, "Adam steps")
    learning_rate: float = option(3e-3, "learning rate", flag="--lr")
    batch: int = option(64, "patches per step")
    seed: int = option(0, "random seed")
    out: str = option("nam_output/learn_inpainting", "output folder; its checkpoint makes a re-run resume")
    restart: bool = option(
        False, "start afresh over a checkpoint in --out written with other options (otherwise such a run is refused)"
    )

    def __post_init__(self):
        _check_options(self.steps, self.learning_rate, self.batch, self.seed)
        check_instance("out", self.out, str, "a folder path")

    @property
    def checkpoint(self) -> str:
        return os.path.join(self.out, "checkpoint.eqx")

    def describe(self) -> tuple[str, dict]:
        return self.command, {
            "model": "Appendix E neuron-astrocyte model, N = 256 (16 x 16 grey patches), 20 Euler steps of dt = 0.1",
            "training": f"{self.steps} Adam steps of {self.batch} patches, learning rate {self.learning_rate:g}, "
            f"BPTT, seed {self.seed}",
            "output": f"{self.out} (resumes from {self.checkpoint})",
        }

    def run(self, *, progress: bool = True) -> LearnResult:
        result, net = run_inpainting(
            steps=self.steps,
            learning_rate=self.learning_rate,
            batch=self.batch,
            seed=self.seed,
            progress=progress,
            checkpoint=self.checkpoint,
            restart=self.restart,
        )
        return LearnResult(result, net)

    def format(self, result: LearnResult) -> str:
        return format_inpainting(result.data)

    def write(self, result: LearnResult, out_dir: str | None) -> list[str]:
        out_dir = self.out if out_dir is None else out_dir
        path = os.path.join(out_dir, "results.json")
        write_json(path, result.data)
        return [path, write_inpainting_figure(result.data, result.model, out_dir)]

    def resume_hint(self, error: BaseException) -> str:
        return _resume_hint(self.restart, self.checkpoint, error)


def _check_options(steps, learning_rate, batch, seed, euler_steps=20, dt=0.1, masked_weight=1.0):
    """The options of `run_inpainting` checked (one place for the experiment and the function)."""
    steps, seed, batch = check_int("steps", steps), check_int("seed", seed, 0), check_int("batch", batch)
    make_optimizer("adam", learning_rate)  # checks the learning rate
    euler_steps = check_int("euler_steps", euler_steps)
    dt = check_number("dt", dt, minimum=0.0, open_min=True)
    masked_weight = check_number("masked_weight", masked_weight, minimum=0.0, open_min=True)
    # BPTT through `euler_steps` steps of (x, s, p), 3 N = 768 numbers per patch, forward and backward
    check_memory("`batch`, `euler_steps`", batch * (euler_steps + 1) * 768 * 8 * 4, "one training batch")
    return steps, seed, batch, euler_steps, dt, masked_weight


def run_inpainting(
    *,
    steps: int = LearnInpainting.steps,
    learning_rate: float = LearnInpainting.learning_rate,
    batch: int = LearnInpainting.batch,
    euler_steps: int = 20,
    dt: float = 0.1,
    masked_weight: float = 1.0,
    seed: int = LearnInpainting.seed,
    checkpoint: str | None = None,
    progress: bool = True,
    restart: bool = False,
):
    """Train on training patches with fresh random masks per batch; report the RMS over masked pixels of
    the test patches at every network step, against mean fill. The least-squares loss weighs masked
    pixels by `masked_weight` (1: plain least squares over the image, as the paper). `checkpoint` makes a
    re-run resume; one written with other settings is refused unless `restart`. Returns
    (results dict, trained net)."""
    steps, seed, batch, euler_steps, dt, masked_weight = _check_options(
        steps, learning_rate, batch, seed, euler_steps, dt, masked_weight
    )
    settings = dict(
        steps=steps,
        learning_rate=learning_rate,
        batch=batch,
        euler_steps=euler_steps,
        dt=dt,
        masked_weight=masked_weight,
        seed=seed,
    )
    train_x, test_x = (jnp.asarray(a) for a in image_patches())
    n = train_x.shape[1]
    side = math.isqrt(n)
    net = ReducedAstrocyteNet(n, key=jr.PRNGKey(seed))

    def sample(key):
        k1, k2 = jr.split(key)
        images = train_x[jr.randint(k1, (batch,), 0, train_x.shape[0])]
        return images, random_masks(k2, batch, side=side)

    def loss_fn(model, data):
        images, masks = data
        outputs = jax.vmap(lambda x0: model.run(x0, steps=euler_steps, dt=dt)[-1])(masked_input(images, masks))
        weights = jnp.where(masks, masked_weight, 1.0)
        return jnp.sum(weights * (outputs - images) ** 2) / jnp.sum(weights), None

    trained, history = train(
        net,
        loss_fn,
        make_optimizer("adam", learning_rate),
        sample,
        steps=steps,
        seed=seed,
        checkpoint=checkpoint,
        progress=progress,
        config={"task": "inpainting", **settings},
        restart=restart,
    )
    masks = random_masks(jr.PRNGKey(seed + 10**6), test_x.shape[0], side=side)
    trajectories = jax.vmap(lambda x0: trained.run(x0, steps=euler_steps, dt=dt))(masked_input(test_x, masks))
    rms_t = jax.vmap(lambda ys, img, m: masked_rms(ys, img[None], m[None]))(trajectories, test_x, masks)
    baseline = masked_rms(mean_fill(test_x, masks), test_x, masks)
    return {
        "network_time": [float(i * dt) for i in range(euler_steps + 1)],
        "rms_over_time": np.asarray(rms_t.mean(axis=0)).tolist(),
        "mean_fill_rms": float(baseline.mean()),
        "test_patches": int(test_x.shape[0]),
        "patch_side": side,
        "train_patches": int(train_x.shape[0]),
        "masked_fraction": float(masks.mean()),
        "loss_first": history[0]["loss"],
        "loss_last": history[-1]["loss"],
        "settings": settings,
    }, trained


def format_inpainting(result) -> str:
    rms = result["rms_over_time"]
    side = result["patch_side"]
    lines = [
        f"inpainting (Appendix E model, N = {side * side}, grey {side} x {side} patches, "
        f"{result['masked_fraction']:.0%} of pixels masked, {result['test_patches']} held-out patches): RMS over "
        "masked pixels",
        f"{'network time':>13} {'RMS':>8}",
    ]
    for i in range(0, len(rms), 4):
        lines.append(f"{result['network_time'][i]:>13.1f} {rms[i]:>8.4f}")
    if (len(rms) - 1) % 4:
        lines.append(f"{result['network_time'][-1]:>13.1f} {rms[-1]:>8.4f}")
    lines.append(
        f"mean-fill baseline: {result['mean_fill_rms']:.4f}; training loss {result['loss_first']:.4f} -> "
        f"{result['loss_last']:.4f} over {result['settings']['steps']} steps"
    )
    return "\n".join(lines)


def write_inpainting_figure(result, net, out_dir: str, seed: int | None = None) -> str:
    """inpainting.png: three held-out patches (original, masked, mean fill, the network at the end of the
    run, all masked the way `run_inpainting` masked them), and the RMS over network time. The network is run
    as in `result` (its `euler_steps` steps of `dt`); `seed`: that of the run (default: the result's)."""
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    settings = result["settings"]
    seed = settings["seed"] if seed is None else check_int("seed", seed, 0)
    _, test_x = image_patches()
    side = math.isqrt(test_x.shape[1])
    masks = random_masks(jr.PRNGKey(seed + 10**6), test_x.shape[0], side=side)[:4]  # the run's test masks
    shown = jnp.asarray(test_x[:4])
    ys = jax.vmap(lambda x0: net.run(x0, steps=settings["euler_steps"], dt=settings["dt"]))(masked_input(shown, masks))
    t_end = result["network_time"][-1]
    fig = Figure(figsize=(11, 6))
    axes = fig.subplots(3, 5)
    for row in range(3):
        panels = [
            (np.asarray(shown[row]), "original"),
            (np.asarray(jnp.where(masks[row], 0.5, shown[row])), "masked"),
            (np.asarray(mean_fill(shown, masks)[row]), "mean fill"),
            (np.asarray(ys[row, -1]), f"network, t = {t_end:g}"),
        ]
        for ax, (img, title) in zip(axes[row, :4], panels):
            ax.imshow(img.reshape(side, side), cmap="gray", vmin=0, vmax=1)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    gs = axes[0, 4].get_gridspec()
    for ax in axes[:, 4]:
        ax.remove()
    ax = fig.add_subplot(gs[:, 4])
    ax.plot(result["network_time"], result["rms_over_time"], "o-", ms=3, label="Appendix E neuron-astrocyte model")
    ax.axhline(result["mean_fill_rms"], color="k", ls="--", label="mean fill (baseline)")
    ax.set_xlabel("network time (units of tau)")
    ax.set_ylabel("RMS error over masked pixels (grey level, 0-1)")
    ax.legend(fontsize=7)
    ax.set_title("as Fig. 4", fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "inpainting.png")
    fig.savefig(path, dpi=100)
    return path
