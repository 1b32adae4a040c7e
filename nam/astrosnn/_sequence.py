"""The shared pieces of the sequence models (`_models.py`, `_baselines.py`): the parameter count, the
token checks, the embedding and read-out every model has (`_Embedded`)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import ArgumentTypeError, check_instance, check_memory, float_bytes, is_concrete, is_integer


def parameter_count(model) -> int:
    """Trainable floating-point entries of `model` (static fields such as widths are not counted); `model`
    may also be its `eqx.filter_eval_shape` (shapes only)."""
    check_instance("model", model, eqx.Module, "an equinox Module (a nam.astrosnn model)")
    return int(
        sum(
            math.prod(x.shape)
            for x in jax.tree.leaves(model)
            if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.inexact)
        )
    )


def _dense(key, d_out, d_in):
    return jr.normal(key, (d_out, d_in)) / math.sqrt(d_in)


def _plus_bias(a, b):
    """a (..., f) + b (f,), broadcast explicitly."""
    return a + b.reshape((1,) * (a.ndim - 1) + b.shape)


def _check_tokens(tokens, vocab, name="tokens"):
    """Shape and dtype always; the id range when the tokens are concrete (a traced id out of range would be
    clamped by the embedding gather)."""
    if (
        not hasattr(tokens, "ndim")
        or not hasattr(tokens, "dtype")
        or tokens.dtype == bool
        or not jnp.issubdtype(tokens.dtype, jnp.integer)
    ):
        raise ArgumentTypeError(
            f"`{name}` must be a 1-D integer array (one sequence; vmap for batches), got "
            f"{getattr(tokens, 'shape', type(tokens).__name__)} {getattr(tokens, 'dtype', '')}"
        )
    if tokens.ndim != 1:
        raise ValueError(
            f"`{name}` must be a 1-D integer array (one sequence; vmap for batches), got shape {tokens.shape}"
        )
    if tokens.shape[0] < 1:
        raise ValueError(f"`{name}` must hold at least one token, got an empty sequence")
    if is_concrete(tokens):
        lo, hi = int(np.min(tokens)), int(np.max(tokens))
        if lo < 0 or hi >= vocab:
            raise ValueError(f"`{name}` must be ids in [0, {vocab}), got {lo}..{hi}")


def _check_token(token, vocab):
    """One token id for `step`: a Python/NumPy integer or a 0-d integer array in [0, vocab). Checked when
    concrete; a traced id out of range raises at run time (`eqx.error_if`) instead of being clamped by the
    embedding gather (which silently returned another token's logits)."""
    if is_integer(token):
        token = np.asarray(token)
    if not hasattr(token, "dtype") or token.dtype == bool or not jnp.issubdtype(token.dtype, jnp.integer):
        raise ArgumentTypeError(
            f"`token` must be an integer token id (an int or a 0-d integer array), got "
            f"{type(token).__name__} {getattr(token, 'dtype', '')}".rstrip()
        )
    if token.shape != ():
        raise ValueError(f"`token` must be a single token id (a 0-d integer array), got shape {token.shape}")
    if is_concrete(token):
        if not 0 <= int(token) < vocab:
            raise ValueError(f"`token` must be an id in [0, {vocab}), got {int(token)}")
        return jnp.asarray(token)
    return eqx.error_if(token, (token < 0) | (token >= vocab), f"`token` must be an id in [0, {vocab})")


def _check_size(vocab, d, layers, per_layer):
    """Refuse, before allocating, a model whose weights (2 vocab d + layers per_layer d^2 numbers) do not
    fit in memory."""
    count = 2.0 * vocab * d + float(layers) * per_layer * d * d
    check_memory("`vocab`, `d`, `layers`", float_bytes(count), f"the weights of a {layers}-layer model of width {d}")


class _Embedded(eqx.Module):
    """Shared token embedding, final norm and read-out."""

    embed: Float[Array, "v d"]
    norm_f: eqx.nn.LayerNorm
    head: Float[Array, "v d"]

    def _init_io(self, vocab, d, key):
        k1, k2 = jr.split(key)
        self.embed = jr.normal(k1, (vocab, d))
        self.norm_f = eqx.nn.LayerNorm(d)
        self.head = _dense(k2, vocab, d)

    @property
    def vocab(self) -> int:
        return self.embed.shape[0]

    def _logits(self, x):
        return jax.vmap(self.norm_f)(x) @ self.head.T if x.ndim == 2 else self.norm_f(x) @ self.head.T
