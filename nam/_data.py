"""The data sets that ship with nam, in one place: the ten digit images of Gordleeva et al. (2021)
(`nam/spiking/data/digits`, see its PROVENANCE.md), read as images (`load_digit`) or as +-1 memories
(`digit_patterns`), and the two text corpora of `nam astrosnn lm` (`nam/astrosnn/data`, md5-checked,
`load_text`): Tiny Shakespeare and a held-out corpus of Python source (29 modules of CPython 3.11.7's
standard library).
Nothing is downloaded at run time. Re-exported by the namespaces that use them: `nam.spiking.load_digit`,
`nam.learning.digit_patterns`, `nam.astrosnn.load_text`."""

import hashlib
import os
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import ArgumentTypeError, check_choice, check_int, check_memory, check_number, check_path, is_integer

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEXT_DIR = os.path.join(os.path.dirname(__file__), "astrosnn", "data")
TINY_SHAKESPEARE = os.path.join(_TEXT_DIR, "tinyshakespeare.txt")
TINY_SHAKESPEARE_MD5 = "6fb458f1232090904fb40fe944165e91"
# name -> (file, md5); see nam/astrosnn/data/PROVENANCE.md
CORPORA = {
    "shakespeare": (TINY_SHAKESPEARE, TINY_SHAKESPEARE_MD5),
    "python": (os.path.join(_TEXT_DIR, "python_stdlib.txt"), "389a37ce3c6e6c46def142d9cd9ae51a"),
}


def load_digit(digit, side: int = 40, threshold: float = 0.5) -> np.ndarray:
    """The digit image shipped with nam (`nam/spiking/data/digits`, see PROVENANCE.md) as a (side, side)
    0/1 float array: grey level in [0, 1] (mean of RGB / 255), antialiased linear resize, pixel on
    where the grey level is below `threshold` (the digit is dark)."""
    if not (is_integer(digit) or isinstance(digit, str)):
        raise ArgumentTypeError(
            f"`digit` must be an integer 0-9 or one of {list(DIGITS)}, got {type(digit).__name__} {digit!r}"
        )
    name = DIGITS[digit] if is_integer(digit) and 0 <= digit <= 9 else digit
    if name not in DIGITS:
        raise ValueError(f"`digit` must be 0-9 or one of {list(DIGITS)}, got {digit!r}")
    side = check_int("side", side, 4)
    # the resized image and the resize's two (side, source) interpolation matrices, in float64 for the
    # returned copies (sources are a few hundred pixels wide)
    check_memory("`side`", 8.0 * (6.0 * side * side + 4.0 * side * 1024), f"a {side} x {side} digit image")
    check_number("threshold", threshold, minimum=0.0, maximum=1.0, open_min=True, open_max=True)
    from matplotlib.image import imread  # Pillow reads the JPEG

    path = resources.files("nam.spiking").joinpath("data").joinpath("digits").joinpath(f"{name}.jpg")
    with resources.as_file(path) as f:
        grey = np.asarray(imread(os.fspath(f)), dtype=np.float64).mean(axis=-1) / 255.0
    small = np.asarray(jax.image.resize(jnp.asarray(grey), (side, side), method="linear", antialias=True))
    return (small < threshold).astype(np.float64)


def digit_patterns(side: int = 8) -> jax.Array:
    """The ten digits as (10, side^2) memories of +-1 (pixel on = +1).

    **Arguments:** `side`: the image side in pixels (default 8).

    **Returns:** (10, side^2) float array of +-1.
    """
    side = check_int("side", side, 4)
    check_memory("`side`", 8.0 * 30.0 * side * side, f"ten {side} x {side} digit images")
    return jnp.asarray(np.stack([load_digit(d, side=side) for d in range(10)]).reshape(10, -1) * 2.0 - 1.0)


def load_text(path: str | None = None, *, corpus: str = "shakespeare") -> str:
    """The text file at `path`, or else the embedded `corpus` (md5-checked): "shakespeare" (Tiny
    Shakespeare, 1,115,394 characters, 65 distinct) or "python" (Python source, 1,266,501 characters, 96
    distinct, held out: nothing in nam was tuned on it). Provenance: nam/astrosnn/data/PROVENANCE.md."""
    file, md5 = CORPORA[check_choice("corpus", corpus, tuple(CORPORA))]
    if path is not None:
        path = check_path("path", path)
    with open(path or file, "rb") as f:
        raw = f.read()
    if path is None and hashlib.md5(raw).hexdigest() != md5:
        raise RuntimeError(f"{file} is corrupted: md5 {hashlib.md5(raw).hexdigest()}, expected {md5}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path or file}: not UTF-8 text ({e.reason} at byte {e.start})") from None
