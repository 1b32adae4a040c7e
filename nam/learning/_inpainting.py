"""Demonstration 2 of learning: the reduced non-symmetric neuron-astrocyte model of Kozachkov, Slotine &
Krotov, Appendix E, trained by backpropagation through its Euler steps to inpaint images.

Model (Appendix E; processes shared per presynaptic index, p_ij = p_j, T_ijkl = T_jl):

    tau dx_i/dt = -x_i + sum_j W_ij tanh(s_ij) phi_j + b_i,
    tau ds_ij/dt = -s_ij + phi_j + psi_j,
    tau dp_j/dt = -p_j + sum_l T_jl psi_l + s_j,

with phi = tanh(x), psi = tanh(p). The neurons start at the masked image, s and p at zero; with
s(0) = 0 every row of s obeys the same equation, so s_ij = s_j and we store s as an (N,) vector, not
N x N per sample. Output: a linear layer then a sigmoid, y = sigmoid(V x + c). Trained parameters: W,
T, b, V, c. Forward Euler, `steps` = 20 steps of dt = 0.1 tau (tau = 1), least-squares loss on the
output after the last step, Adam (the paper: lr 1e-3, batch 64, 64 x 64 x 3 Tiny-ImageNet images with
15 masked 10 x 10 patches).

Here (no download at run time): 16 x 16 grey patches of the photograph that ships with matplotlib
(`mpl-data/sample_data/grace_hopper.jpg`), N = 256, each with `holes` masked 4 x 4 squares (about
31 % of the pixels for 6 holes, which may overlap). Training and test patches come from disjoint
64 x 64 tiles of the image (`image_patches`). The baseline fills each masked pixel with the mean of the
patch's visible pixels.
"""

import math
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_int, check_memory, check_number
from ._train import make_optimizer, train


class ReducedAstrocyteNet(eqx.Module):
    """The reduced model of Appendix E (see the module docstring). `n` neurons; parameters are arrays."""

    w: Float[Array, "n n"]
    t: Float[Array, "n n"]
    b: Float[Array, " n"]
    v: Float[Array, "n n"]
    c: Float[Array, " n"]

    def __init__(self, n: int, *, key, weight_scale: float = 1.0):
        check_int("n", n, 2)
        k1, k2 = jr.split(key)
        self.w = weight_scale * jr.normal(k1, (n, n)) / np.sqrt(n)
        self.t = weight_scale * jr.normal(k2, (n, n)) / np.sqrt(n)
        self.b = jnp.zeros((n,))
        self.v = 2.0 * jnp.eye(n)  # starts as y ~ sigmoid(2 x): the masked image itself
        self.c = jnp.zeros((n,))

    def vector_field(self, x, s, p):
        """(dx, ds, dp) / dt with tau = 1 (Appendix E)."""
        phi, psi = jnp.tanh(x), jnp.tanh(p)
        return -x + self.w @ (jnp.tanh(s) * phi) + self.b, -s + phi + psi, -p + self.t @ psi + s

    def output(self, x):
        return jax.nn.sigmoid(self.v @ x + self.c)

    def run(self, x0, *, steps: int = 20, dt: float = 0.1):
        """Euler from (x0, 0, 0); returns the outputs at every step, shape (steps + 1, n)."""
        zeros = jnp.zeros_like(x0)

        def step(state, _):
            x, s, p = state
            dx, ds, dp = self.vector_field(x, s, p)
            state = (x + dt * dx, s + dt * ds, p + dt * dp)
            return state, self.output(state[0])

        _, ys = jax.lax.scan(step, (x0, zeros, zeros), None, length=steps)
        return jnp.concatenate([self.output(x0)[None], ys])


def image_patches(side: int = 16, tile: int = 64):
    """(train, test) grey patches in [0, 1] of matplotlib's bundled photograph, shapes (P, side*side).
    The image is cut into tile x tile blocks; blocks with (row + column) % 4 == 0 give the test patches
    (stride `side`), the others the training patches (stride side/2), so no pixel is in both and both
    sets cover the face, the uniform and the textured regions alike."""
    import matplotlib
    from matplotlib.image import imread

    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    img = np.asarray(imread(path), dtype=np.float64).mean(axis=-1) / 255.0
    train, test = [], []
    for ti in range(img.shape[0] // tile):
        for tj in range(img.shape[1] // tile):
            block = img[ti * tile:(ti + 1) * tile, tj * tile:(tj + 1) * tile]
            is_test = (ti + tj) % 4 == 0
            stride = side if is_test else side // 2
            for r in range(0, tile - side + 1, stride):
                for c in range(0, tile - side + 1, stride):
                    (test if is_test else train).append(block[r:r + side, c:c + side].reshape(-1))
    return np.stack(train), np.stack(test)


def random_masks(key, count: int, side: int = 16, holes: int = 6, hole: int = 4):
    """(count, side*side) booleans, True where a pixel is masked: `holes` random hole x hole squares."""
    def one(k):
        corners = jr.randint(k, (holes, 2), 0, side - hole + 1)
        rr, cc = jnp.meshgrid(jnp.arange(side), jnp.arange(side), indexing="ij")
        inside = jax.vmap(lambda rc: (rr >= rc[0]) & (rr < rc[0] + hole) & (cc >= rc[1]) & (cc < rc[1] + hole))(corners)
        return jnp.any(inside, axis=0).reshape(-1)

    return jax.vmap(one)(jr.split(key, count))


def masked_input(images, masks):
    """Neurons start at the masked image: pixels mapped to [-1, 1], masked pixels at 0 (mid grey)."""
    return jnp.where(masks, 0.0, 2.0 * images - 1.0)


def mean_fill(images, masks):
    """The baseline: each masked pixel gets the mean of the visible pixels of its patch."""
    visible = jnp.where(masks, 0.0, images)
    mean = jnp.sum(visible, axis=1, keepdims=True) / jnp.maximum(jnp.sum(~masks, axis=1, keepdims=True), 1)
    return jnp.where(masks, mean, images)


def masked_rms(outputs, images, masks):
    """RMS distance to the ground truth over the masked pixels (last axis), for each leading index."""
    err = jnp.where(masks, outputs - images, 0.0)
    return jnp.sqrt(jnp.sum(err**2, axis=-1) / jnp.sum(masks, axis=-1))


def run_inpainting(*, steps: int = 2000, learning_rate: float = 3e-3, batch: int = 64, euler_steps: int = 20,
                   dt: float = 0.1, masked_weight: float = 1.0, seed: int = 0, checkpoint: str | None = None,
                   progress: bool = True, restart: bool = False):
    """Train on training patches with fresh random masks per batch; report the RMS over masked pixels of
    the test patches at every network step, against mean fill. The least-squares loss weighs masked
    pixels by `masked_weight` (1: plain least squares over the image, as the paper). `checkpoint` makes a
    re-run resume; one written with other settings is refused unless `restart`. Returns
    (results dict, trained net)."""
    steps, seed = check_int("steps", steps), check_int("seed", seed, 0)
    batch = check_int("batch", batch)
    euler_steps = check_int("euler_steps", euler_steps)
    dt = check_number("dt", dt, minimum=0.0, open_min=True)
    masked_weight = check_number("masked_weight", masked_weight, minimum=0.0, open_min=True)
    # BPTT through `euler_steps` steps of (x, s, p), 3 N = 768 numbers per patch, forward and backward
    check_memory("`batch`, `euler_steps`", batch * (euler_steps + 1) * 768 * 8 * 4, "one training batch")
    settings = dict(steps=steps, learning_rate=learning_rate, batch=batch, euler_steps=euler_steps, dt=dt,
                    masked_weight=masked_weight, seed=seed)
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

    trained, history = train(net, loss_fn, make_optimizer("adam", learning_rate), sample, steps=steps, seed=seed,
                             checkpoint=checkpoint, progress=progress, config={"task": "inpainting", **settings},
                             restart=restart)
    masks = random_masks(jr.PRNGKey(seed + 10**6), test_x.shape[0], side=side)
    trajectories = jax.vmap(lambda x0: trained.run(x0, steps=euler_steps, dt=dt))(masked_input(test_x, masks))
    rms_t = jax.vmap(lambda ys, img, m: masked_rms(ys, img[None], m[None]))(trajectories, test_x, masks)
    baseline = masked_rms(mean_fill(test_x, masks), test_x, masks)
    return {
        "network_time": [float(i * dt) for i in range(euler_steps + 1)],
        "rms_over_time": np.asarray(rms_t.mean(axis=0)).tolist(),
        "mean_fill_rms": float(baseline.mean()), "test_patches": int(test_x.shape[0]), "patch_side": side,
        "train_patches": int(train_x.shape[0]), "masked_fraction": float(masks.mean()),
        "loss_first": history[0]["loss"], "loss_last": history[-1]["loss"],
        "settings": settings,
    }, trained


def format_inpainting(result) -> str:
    rms = result["rms_over_time"]
    side = result["patch_side"]
    lines = [f"inpainting (Appendix E model, N = {side * side}, grey {side} x {side} patches, "
             f"{result['masked_fraction']:.0%} of pixels masked, {result['test_patches']} held-out patches): RMS over "
             "masked pixels",
             f"{'network time':>13} {'RMS':>8}"]
    for i in range(0, len(rms), 4):
        lines.append(f"{result['network_time'][i]:>13.1f} {rms[i]:>8.4f}")
    if (len(rms) - 1) % 4:
        lines.append(f"{result['network_time'][-1]:>13.1f} {rms[-1]:>8.4f}")
    lines.append(f"mean-fill baseline: {result['mean_fill_rms']:.4f}; training loss {result['loss_first']:.4f} -> "
                 f"{result['loss_last']:.4f} over {result['settings']['steps']} steps")
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
    test_x = jnp.asarray(test_x[:4])
    ys = jax.vmap(lambda x0: net.run(x0, steps=settings["euler_steps"], dt=settings["dt"]))(
        masked_input(test_x, masks))
    t_end = result["network_time"][-1]
    fig = Figure(figsize=(11, 6))
    axes = fig.subplots(3, 5)
    for row in range(3):
        panels = [(np.asarray(test_x[row]), "original"), (np.asarray(jnp.where(masks[row], 0.5, test_x[row])), "masked"),
                  (np.asarray(mean_fill(test_x, masks)[row]), "mean fill"),
                  (np.asarray(ys[row, -1]), f"network, t = {t_end:g}")]
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
