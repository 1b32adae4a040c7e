"""Spike functions with surrogate gradients (Neftci, Mostafa & Zenke 2019): the forward pass is the
Heaviside step s = H(v), the backward pass replaces its derivative (a Dirac delta) by a smooth bump
of width set by `alpha`:

- "sigmoid":  dH/dv ~ alpha sigma(alpha v) (1 - sigma(alpha v))      (peak alpha / 4)
- "atan":     dH/dv ~ (alpha / 2) / (1 + (pi alpha v / 2)^2)        (peak alpha / 2; SpikingJelly's ATan)
- "triangle": dH/dv ~ alpha max(0, 1 - alpha |v|)                    (peak alpha, support |v| < 1/alpha)

Each integrates to 1 over v (the surrogate of a unit step).
"""

import functools
import math

import jax
import jax.numpy as jnp

from .._checks import as_float_array, check_choice, check_positive

SURROGATES = ("sigmoid", "atan", "triangle")


def surrogate_derivative(v, kind: str = "atan", alpha=2.0):
    """The surrogate dH/dv of `kind` at v (elementwise)."""
    check_choice("surrogate", kind, SURROGATES)
    v = as_float_array("v", v)
    alpha = _check_alpha(alpha)
    if kind == "sigmoid":
        s = jax.nn.sigmoid(alpha * v)
        return alpha * s * (1.0 - s)
    if kind == "atan":
        return (alpha / 2.0) / (1.0 + (math.pi * alpha * v / 2.0) ** 2)
    if kind == "triangle":
        return alpha * jnp.maximum(0.0, 1.0 - alpha * jnp.abs(v))
    raise ValueError(f"`surrogate` must be one of {list(SURROGATES)}, got {kind!r}")


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _step(kind, v, alpha):
    return (v >= 0).astype(v.dtype)


@_step.defjvp
def _step_jvp(kind, primals, tangents):
    v, alpha = primals
    dv, _ = tangents  # the width only shapes the backward pass: no gradient flows to it
    return _step(kind, v, alpha), surrogate_derivative(v, kind, alpha) * dv


def spike(v, kind: str = "atan", alpha=2.0):
    """H(v) = 1 where v >= 0 else 0, with the surrogate gradient of `kind` (see the module docstring).
    `alpha` (the width) may be an array; it receives no gradient."""
    check_choice("surrogate", kind, SURROGATES)
    v = as_float_array("v", v)
    return _step(kind, v, jnp.asarray(_check_alpha(alpha), v.dtype))


def _check_alpha(alpha):
    """The surrogate's width: a real array, positive and finite when concrete (NaN or inf would make every
    surrogate gradient NaN)."""
    alpha = as_float_array("alpha", alpha)
    check_positive("alpha", alpha)
    return alpha
