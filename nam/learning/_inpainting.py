"""The data of the inpainting demonstration (Kozachkov, Slotine & Krotov, Appendix E; the experiment is
`nam learn inpainting`, the model `ReducedAstrocyteNet`).

16 x 16 grey patches of the photograph that ships with matplotlib (`mpl-data/sample_data/grace_hopper.jpg`;
nothing is downloaded at run time), N = 256, each with `holes` masked 4 x 4 squares (about 31 % of the pixels
for 6 holes, which may overlap). Training and test patches come from disjoint 64 x 64 tiles of the image
(`image_patches`). The baseline fills each masked pixel with the mean of the patch's visible pixels
(`mean_fill`); the error is the RMS over the masked pixels (`masked_rms`).
"""

import os

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np



def image_patches(side: int = 16, tile: int = 64):
    """(train, test) grey patches in [0, 1] of matplotlib's bundled photograph, shapes (P, side*side).
    The image is cut into tile x tile blocks; blocks with (row + column) % 4 == 0 give the test patches
    (stride `side`), the others the training patches (stride side/2), so no pixel is in both and both
    sets cover the face, the uniform and the textured regions alike."""
    import matplotlib
    from matplotlib.image import imread

    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    img = np.asarray(imread(path), dtype=np.float64).mean(axis=-1) / 255.0
    train: list = []
    test: list = []
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
