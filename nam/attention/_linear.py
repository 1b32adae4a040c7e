"""Closed forms of the attention limit: linear attention with a feature map (the read-mode fixed point of
Kozachkov, Slotine & Krotov, Appendix C, eq. 25, after a Hebbian write), its stable random-feature form,
and plain softmax attention as the reference. Single head, single sequence: vmap over heads and batches.
"""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import (
    as_float_array,
    check_bool,
    check_finite,
    check_instance,
    check_int,
    check_nonnegative,
    check_number,
)
from ._features import AbstractPositiveFeatures


def _check_qkv(q, k, v, names=("query", "key", "value"), *, features=False):
    q, k, v = (as_float_array(n, x, ndim=2) for n, x in zip(names, (q, k, v)))
    for name, x in zip(names, (q, k, v)):
        check_finite(name, x)
    if features:  # eq. 25 holds for positive features: a negative one can zero the denominator
        for name, x in zip(names[:2], (q, k)):
            check_nonnegative(name, x)
    if q.shape[1] != k.shape[1]:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must have the same last dimension, got {q.shape} and {k.shape}"
        )
    if k.shape[0] != v.shape[0] or k.shape[0] < 1:
        raise ValueError(
            f"`{names[1]}` and `{names[2]}` must have the same (non-zero) length, got {k.shape} and {v.shape}"
        )
    return q, k, v


def _check_causal(causal, q, k):
    causal = check_bool("causal", causal)
    if causal and q.shape[0] != k.shape[0]:
        raise ValueError(f"causal attention needs as many queries as keys, got {q.shape[0]} and {k.shape[0]}")
    return causal


def _causal_mask(t: int) -> Bool[Array, "t t"]:
    return jnp.tril(jnp.ones((t, t), bool))


def _causal_chunked(qf, kf, v, chunk):
    """Causal linear attention in chunks: within a chunk the masked (C, C) form, across chunks the running
    state S = sum_s k~_s v_s^T (M, dv) and z = sum_s k~_s (M,) (Katharopoulos et al. 2020, eqs. 8-11)."""
    t, m = qf.shape
    dv = v.shape[1]
    if t <= chunk:
        a = jnp.where(_causal_mask(t), qf @ kf.T, 0.0)
        return a @ v, jnp.sum(a, axis=1)
    pad = (-t) % chunk
    n = (t + pad) // chunk
    padded = lambda x: jnp.pad(x, ((0, pad), (0, 0))).reshape(n, chunk, x.shape[1])
    mask = _causal_mask(chunk)

    def body(carry, xs):
        s, z = carry
        qc, kc, vc = xs
        a = jnp.where(mask, qc @ kc.T, 0.0)
        num = qc @ s + a @ vc
        den = qc @ z + jnp.sum(a, axis=1)
        return (s + kc.T @ vc, z + jnp.sum(kc, axis=0)), (num, den)

    init = (jnp.zeros((m, dv), v.dtype), jnp.zeros((m,), v.dtype))
    _, (num, den) = jax.lax.scan(body, init, (padded(qf), padded(kf), padded(v)))
    return num.reshape(n * chunk, dv)[:t], den.reshape(n * chunk)[:t]


def _linear_parts(qf, kf, v, causal, chunk):
    """Numerator sum_s (q~_t . k~_s) v_s (T, dv) and denominator sum_s q~_t . k~_s (T,)."""
    if causal:
        return _causal_chunked(qf, kf, v, chunk)
    return qf @ (kf.T @ v), qf @ jnp.sum(kf, axis=0)


def linear_attention(
    query_features: Float[Array, "t m"],
    key_features: Float[Array, "s m"],
    value: Float[Array, "s dv"],
    *,
    causal: bool = False,
    chunk: int = 128,
) -> Float[Array, "t dv"]:
    """Linear attention with feature map phi (Katharopoulos et al. 2020, eq. 5), given the features:

        out_t = sum_s (phi(q_t) . phi(k_s)) v_s / sum_s phi(q_t) . phi(k_s),

    the sums over s <= t when `causal`. This is the read-mode fixed point x* of the neuron-astrocyte
    network after the Hebbian write (Kozachkov, Slotine & Krotov, Appendix C, eq. 25; see
    `AttentionNetwork.fixed_point`). Features must be positive (e.g. `PositiveRandomFeatures`) for the
    denominator to be positive. Cost O(T M dv) (causal: in chunks of `chunk`, O(T (C + M) dv)).

    **Arguments:** `query_features` (T, M), `key_features` (S, M), `value` (S, dv); `causal` needs T == S.

    **Returns:** (T, dv).

    **Raises:** ValueError for mismatched shapes, `ArgumentTypeError` for non-array inputs.
    """
    qf, kf, v = _check_qkv(
        query_features, key_features, value, ("query_features", "key_features", "value"), features=True
    )
    causal = _check_causal(causal, qf, kf)
    num, den = _linear_parts(qf, kf, v, causal, check_int("chunk", chunk))
    return num / den[:, None]


def softmax_attention(
    query: Float[Array, "t d"],
    key: Float[Array, "s d"],
    value: Float[Array, "s dv"],
    *,
    causal: bool = False,
    scale: float | int | None = None,
) -> Float[Array, "t dv"]:
    """Softmax attention, the reference: out_t = sum_s softmax_s(scale q_t . k_s) v_s (Vaswani et al. 2017,
    eq. 1), scale 1/sqrt(d) by default; the sums over s <= t when `causal`. Single head, O(T S)."""
    q, k, v = _check_qkv(query, key, value)
    causal = _check_causal(causal, q, k)
    scale = 1.0 / math.sqrt(q.shape[1]) if scale is None else check_number("scale", scale, minimum=0.0, open_min=True)
    scores = scale * (q @ k.T)
    if causal:
        scores = jnp.where(_causal_mask(q.shape[0]), scores, -jnp.inf)
    return jax.nn.softmax(scores, axis=-1) @ v


def _stable_features(features, q, k, scale):
    """q~ = phi(s q), k~ = phi(s k) with s = sqrt(scale), rescaled so that nothing overflows or underflows
    needlessly, with factors that cancel exactly in every ratio of linear attention:
    k~_sm exp(-K_m) with K_m = max_s log phi(s k_s)_m (per feature, over all keys), q~_tm exp(K_m - c_t)
    with c_t the maximum over m of log phi(s q_t)_m + K_m (per query). Every product q~_tm k~_sm keeps
    its value up to the per-query factor exp(-c_t), which cancels between numerator and denominator;
    every key feature column has a largest entry 1. The shifts are constants under differentiation."""
    root = jnp.sqrt(jnp.asarray(scale, q.dtype))
    lq = features.log_features(q * root)
    lk = features.log_features(k * root)
    shift = jax.lax.stop_gradient(jnp.max(lk, axis=0, keepdims=True))  # (1, M)
    lq = lq + shift
    lq = lq - jax.lax.stop_gradient(jnp.max(lq, axis=-1, keepdims=True))
    return jnp.exp(lq), jnp.exp(lk - shift)


def astrocyte_attention(
    query: Float[Array, "t d"],
    key: Float[Array, "s d"],
    value: Float[Array, "s dv"],
    features: AbstractPositiveFeatures,
    *,
    causal: bool = False,
    scale: float | int | None = None,
    chunk: int = 128,
) -> Float[Array, "t dv"]:
    """The attention of the neuron-astrocyte network in closed form (Kozachkov, Slotine & Krotov,
    Appendix C, eq. 25, with the Hebbian write and the read initialisation): linear attention with the
    positive random features phi of `features` applied to sqrt(scale) q and sqrt(scale) k, so that
    phi(q~) . phi(k~) estimates exp(scale q . k) and the output estimates `softmax_attention` (scale
    1/sqrt(d) by default, as `jax.nn.dot_product_attention`). Numerically stabilised (see
    `_stable_features`); the stabilising constants cancel exactly.

    **Arguments:** `query` (T, d), `key` (S, d), `value` (S, dv); `features` with `dim` d; `causal` (T == S);
    `chunk`: the chunk length of the causal form.

    **Returns:** (T, dv).
    """
    q, k, v = _check_qkv(query, key, value)
    check_instance("features", features, AbstractPositiveFeatures)
    if features.weights().shape[1] != q.shape[1]:
        raise ValueError(
            f"`features` maps vectors of length {features.weights().shape[1]}, but `query` has length {q.shape[1]}"
        )
    causal = _check_causal(causal, q, k)
    scale = 1.0 / math.sqrt(q.shape[1]) if scale is None else check_number("scale", scale, minimum=0.0, open_min=True)
    qf, kf = _stable_features(features, q, k, scale)
    num, den = _linear_parts(qf, kf, v, causal, check_int("chunk", chunk))
    return num / jnp.maximum(den, jnp.finfo(den.dtype).tiny)[:, None]
