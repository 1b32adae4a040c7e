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

from .._checks import as_float_array, check_finite, check_instance, check_int, check_key, check_memory


def image_patches(side: int = 16, tile: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) grey patches in [0, 1] of matplotlib's bundled photograph, shapes (P, side*side).
    The image is cut into tile x tile blocks; blocks with (row + column) % 4 == 0 give the test patches
    (stride `side`), the others the training patches (stride side/2), so no pixel is in both and both
    sets cover the face, the uniform and the textured regions alike.

    **Arguments:** `side`: the patch side in pixels, 2 <= side <= `tile`; `tile`: the block side, at most 512
    (the photograph's size).

    **Returns:** `(train, test)`, float64 arrays of shape (P, side * side).
    """
    import matplotlib
    from matplotlib.image import imread

    tile = check_int("tile", tile, 2, 512)
    side = check_int("side", side, 2, tile)
    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    img = np.asarray(imread(path), dtype=np.float64).mean(axis=-1) / 255.0
    train: list = []
    test: list = []
    for ti in range(img.shape[0] // tile):
        for tj in range(img.shape[1] // tile):
            block = img[ti * tile : (ti + 1) * tile, tj * tile : (tj + 1) * tile]
            is_test = (ti + tj) % 4 == 0
            stride = side if is_test else max(side // 2, 1)
            for r in range(0, tile - side + 1, stride):
                for c in range(0, tile - side + 1, stride):
                    (test if is_test else train).append(block[r : r + side, c : c + side].reshape(-1))
    return np.stack(train), np.stack(test)


def random_masks(key, count: int, side: int = 16, holes: int = 6, hole: int = 4) -> jax.Array:
    """`holes` random hole x hole squares per mask, True where a pixel is masked (squares may overlap).

    **Arguments:** `key`: a PRNG key; `count`: masks, >= 1; `side`: the patch side; `holes`: squares per
    mask, >= 0; `hole`: the square's side, 1 <= hole <= side.

    **Returns:** a (count, side * side) boolean array.
    """
    key = check_key("key", key)
    count, side, holes = check_int("count", count), check_int("side", side), check_int("holes", holes, 0)
    hole = check_int("hole", hole, 1, side)
    check_memory("`count`, `side`, `holes`", float(count) * (holes + 1) * side * side, "the masks")

    def one(k):
        corners = jr.randint(k, (holes, 2), 0, side - hole + 1)
        rr, cc = jnp.meshgrid(jnp.arange(side), jnp.arange(side), indexing="ij")
        inside = jax.vmap(lambda rc: (rr >= rc[0]) & (rr < rc[0] + hole) & (cc >= rc[1]) & (cc < rc[1] + hole))(corners)
        return jnp.any(inside, axis=0).reshape(-1) if holes else jnp.zeros((side * side,), bool)

    return jax.vmap(one)(jr.split(key, count))


def _images_and_masks(images, masks, name: str = "images"):
    images = as_float_array(name, images)
    check_finite(name, images)
    check_instance("masks", masks, (jax.Array, np.ndarray), "a boolean array shaped like the images")
    masks = jnp.asarray(masks)
    if masks.dtype != bool or masks.shape != images.shape or images.ndim < 1:
        raise ValueError(
            f"`masks` must be a boolean array of the images' shape {images.shape}, got {masks.dtype} {masks.shape}"
        )
    return images, masks


def masked_input(images, masks) -> jax.Array:
    """Neurons start at the masked image: pixels mapped to [-1, 1], masked pixels at 0 (mid grey).

    **Arguments:** `images`: (..., P) pixels in [0, 1]; `masks`: booleans of the same shape, True = masked.

    **Returns:** an array of the images' shape.
    """
    images, masks = _images_and_masks(images, masks)
    return jnp.where(masks, 0.0, 2.0 * images - 1.0)


def mean_fill(images, masks) -> jax.Array:
    """The baseline: each masked pixel gets the mean of the visible pixels of its patch.

    **Arguments:** `images`: (B, P) patches; `masks`: (B, P) booleans, True = masked.

    **Returns:** the filled (B, P) patches.
    """
    images, masks = _images_and_masks(images, masks)
    if images.ndim != 2:
        raise ValueError(f"`images` must have shape (B, P), got {images.shape}")
    visible = jnp.where(masks, 0.0, images)
    count = jnp.maximum(jnp.sum(~masks, axis=1, keepdims=True), 1).astype(images.dtype)
    return jnp.where(masks, jnp.sum(visible, axis=1, keepdims=True) / count, images)


def masked_rms(outputs, images, masks) -> jax.Array:
    """RMS distance to the ground truth over the masked pixels (last axis), for each leading index (NaN where
    nothing is masked).

    **Arguments:** `outputs`: (..., P), broadcasting with `images` (..., P); `masks`: booleans of the images'
    shape.

    **Returns:** an array of the leading shape (...).
    """
    images, masks = _images_and_masks(images, masks)
    outputs = as_float_array("outputs", outputs)
    check_finite("outputs", outputs)
    try:
        jnp.broadcast_shapes(outputs.shape, images.shape)
    except ValueError:
        raise ValueError(
            f"`outputs` must broadcast with the images' shape {images.shape}, got {outputs.shape}"
        ) from None
    if outputs.ndim < 1 or outputs.shape[-1] != images.shape[-1]:
        raise ValueError(f"`outputs` must have the images' last dimension {images.shape[-1]}, got {outputs.shape}")
    err = jnp.where(masks, outputs - images, 0.0)
    return jnp.sqrt(jnp.sum(err**2, axis=-1) / jnp.sum(masks, axis=-1).astype(err.dtype))
