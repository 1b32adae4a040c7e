"""Sequence models over tokens for the AstroSNN experiments (`nam astrosnn`): the AstroSNN network and its
baselines, all with one interface.

- `model(tokens)` -> (logits (T, V), spike rates (layers, 2) or (0, 2)): the training form (for AstroSNN the
  chunked parallel form; `form="recurrent"` gives the token-by-token form, numerically the same);
- `model.init_state(capacity)` and `model.step(state, token)` -> (logits (V,), state): one token at a time,
  for generation. AstroSNN, LIF-SNN and the LSTM/GRU carry a state of constant size; the transformer
  carries a KV cache of `capacity` positions (it grows with the context).

Networks (pre-norm residual stacks, Xiong et al. 2020):
- `AstroSNN` (Shen et al., arXiv 2312.07625, reconstructed: see `_amsu.py`): per block
  x <- x + W_o AMSU(LN x), x <- x + W_2 g(W_1 LN x + b_1), with g the surrogate-gradient spike: every
  non-linearity is a spike. With `astrocyte=False` it is the LIF-SNN baseline (no k, v, q, H).
- `RNNLM`: stacked `eqx.nn.LSTMCell` or `eqx.nn.GRUCell` under `lax.scan`.
- `TransformerLM`: causal softmax attention (Vaswani et al. 2017) with sinusoidal positions, GELU MLP.
- `AstrocyteAttentionLM`: the same network with the attention of the neuron-astrocyte network
  (`nam.attention`, Kozachkov et al. Appendix C): causal linear attention with positive random features;
  its generation state has constant size.

`match_width` picks a baseline's width so that its parameter count is nearest a target.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import (
    ArgumentTypeError,
    check_choice,
    check_instance,
    check_int,
    check_key,
    check_memory,
    check_number,
    float_bytes,
    is_concrete,
    is_integer,
)
from ..attention import AbstractPositiveFeatures, LearnedPositiveFeatures, PositiveRandomFeatures, astrocyte_attention
from ._amsu import AMSU
from ._surrogate import spike

MODEL_KINDS = ("astrosnn", "lif", "lstm", "gru", "transformer", "astro-attention")


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


class AstroBlock(eqx.Module):
    """x <- x + W_o AMSU(LN x) [+ W_r read];  x <- x + W_2 g(W_1 LN x + b_1)  (a spiking feed-forward, no
    state). W_r exists when the unit's `read` is "residual", "gated" or "both": the astrocyte read-out (for
    "gated", times the unit's spikes) then also enters the residual stream (see `AMSU`)."""

    norm1: eqx.nn.LayerNorm
    unit: AMSU
    w_o: Float[Array, "d d"]
    w_r: Float[Array, "d d"] | None
    norm2: eqx.nn.LayerNorm
    w_1: Float[Array, "f d"]
    b_1: Float[Array, " f"]
    w_2: Float[Array, "d f"]

    def __init__(self, d, *, key, heads, ffn, astrocyte, **amsu_kwargs):
        ks = jr.split(key, 4)
        self.norm1, self.norm2 = eqx.nn.LayerNorm(d), eqx.nn.LayerNorm(d)
        self.unit = AMSU(d, d, key=ks[0], heads=heads, astrocyte=astrocyte, **amsu_kwargs)
        self.w_o = _dense(ks[1], d, d) / 2
        self.w_r = _dense(jr.fold_in(ks[1], 1), d, d) / 2 if astrocyte and self.unit.read != "membrane" else None
        self.w_1, self.b_1 = _dense(ks[2], ffn, d), jnp.zeros(ffn)
        self.w_2 = _dense(ks[3], d, ffn) / 2

    def _ffn(self, x):
        s = spike(_plus_bias(x @ self.w_1.T, self.b_1), self.unit.surrogate, self.unit.alpha)
        return s @ self.w_2.T, s

    def __call__(self, x, form, chunk):
        s1, o = self.unit.forward(jax.vmap(self.norm1)(x), form, chunk)
        x = x + s1 @ self.w_o.T
        if self.w_r is not None:
            x = x + o @ self.w_r.T
        y, s2 = self._ffn(jax.vmap(self.norm2)(x))
        return x + y, jnp.stack([s1.mean(), s2.mean()])

    def step(self, state, x):
        s1, o, state = self.unit.step_with_read(state, self.norm1(x))
        x = x + self.w_o @ s1
        if self.w_r is not None:
            x = x + self.w_r @ o
        y, s2 = self._ffn(self.norm2(x))
        return x + y, state, jnp.stack([s1.mean(), s2.mean()])


class AstroSNN(_Embedded):
    """The AstroSNN language model (module docstring); `astrocyte=False` is the LIF-SNN baseline.
    `chunk` is the parallel form's chunk length: training sequences must be a multiple of it. The
    network defaults to spiking keys and queries written from the previous token (`kq_spiking`,
    `key_shift`): with real-valued keys every blank token writes into H, and on associative recall
    training stalled at chance beyond delays of about 64 (a delay-8 task was solved either way). Language
    modelling (`train_lm`) builds it with `LM_ASSUMPTIONS` instead: a gated read into the residual
    stream, real-valued keys and queries, "local" decays."""

    blocks: list
    chunk: int = eqx.field(static=True)

    def __init__(
        self,
        vocab: int,
        d: int = 128,
        layers: int = 2,
        *,
        key,
        heads: int = 4,
        ffn_mult: int = 4,
        chunk: int = 64,
        astrocyte: bool = True,
        key_shift: bool = True,
        kq_spiking: bool = True,
        **amsu_kwargs,
    ):
        for name, value in (
            ("vocab", vocab),
            ("d", d),
            ("layers", layers),
            ("heads", heads),
            ("ffn_mult", ffn_mult),
            ("chunk", chunk),
        ):
            check_int(name, value)
        if d % heads:
            raise ValueError(f"`heads` ({heads}) must divide `d` ({d})")
        _check_size(vocab, d, layers, 10 + 2 * ffn_mult)
        k0, *ks = jr.split(key, layers + 1)
        self._init_io(vocab, d, k0)
        self.blocks = [
            AstroBlock(
                d,
                key=k,
                heads=heads,
                ffn=ffn_mult * d,
                astrocyte=astrocyte,
                key_shift=key_shift,
                kq_spiking=kq_spiking,
                **amsu_kwargs,
            )
            for k in ks
        ]
        self.chunk = chunk

    def __call__(self, tokens, form: str = "parallel"):
        """tokens (T,) -> (logits (T, V), spike rates (layers, 2): [AM-SU, feed-forward] per block)."""
        _check_tokens(tokens, self.vocab)
        form = check_choice("form", form, ("parallel", "recurrent"))
        if form == "parallel" and tokens.shape[0] % self.chunk:
            raise ValueError(
                f"the sequence length ({tokens.shape[0]}) must be a multiple of the model's chunk "
                f"({self.chunk}) for the parallel form; pad it, or use form='recurrent'"
            )
        x = self.embed[tokens]
        rates = []
        for block in self.blocks:
            x, r = block(x, form, self.chunk)
            rates.append(r)
        return self._logits(x), jnp.stack(rates)

    def init_state(self, capacity: int | None = None):
        """Per block the AM-SU state (H, z, u, W_k x_prev): constant size; `capacity` is ignored."""
        return [b.unit.init_state(self.embed.dtype) for b in self.blocks]

    def step(self, state, token):
        x = self.embed[_check_token(token, self.vocab)]
        new = []
        for block, st in zip(self.blocks, state):
            x, st, _ = block.step(st, x)
            new.append(st)
        return self._logits(x), new


class RNNLM(_Embedded):
    """Stacked LSTM or GRU cells (`eqx.nn.LSTMCell` / `eqx.nn.GRUCell`) under `lax.scan`."""

    cells: list
    cell: str = eqx.field(static=True)

    def __init__(self, vocab: int, d: int = 128, layers: int = 2, *, key, cell: str = "lstm"):
        for name, value in (("vocab", vocab), ("d", d), ("layers", layers)):
            check_int(name, value)
        self.cell = check_choice("cell", cell, ("lstm", "gru"))
        _check_size(vocab, d, layers, 8)
        k0, *ks = jr.split(key, layers + 1)
        self._init_io(vocab, d, k0)
        make = eqx.nn.LSTMCell if cell == "lstm" else eqx.nn.GRUCell
        self.cells = [make(d, d, key=k) for k in ks]

    def init_state(self, capacity: int | None = None):
        d = self.embed.shape[1]
        zero = jnp.zeros(d, self.embed.dtype)
        return [(zero, zero) if self.cell == "lstm" else zero for _ in self.cells]

    def step(self, state, token):
        x = self.embed[_check_token(token, self.vocab)]
        new = []
        for c, st in zip(self.cells, state):
            st = c(x, st)
            x = x + (st[0] if self.cell == "lstm" else st)  # residual across layers
            new.append(st)
        return self._logits(x), new

    def __call__(self, tokens, form: str = "parallel"):
        _check_tokens(tokens, self.vocab)
        x = self.embed[tokens]
        for c in self.cells:
            d = x.shape[1]
            init = (jnp.zeros(d, x.dtype), jnp.zeros(d, x.dtype)) if self.cell == "lstm" else jnp.zeros(d, x.dtype)

            def body(st, x_t, c=c):
                st = c(x_t, st)
                return st, (st[0] if self.cell == "lstm" else st)

            _, h = jax.lax.scan(body, init, x)
            x = x + h
        return self._logits(x), jnp.zeros((0, 2), x.dtype)


def _sinusoid(positions, d):
    """Sinusoidal position codes (Vaswani et al. 2017, section 3.5) for integer positions (...,)."""
    i = jnp.arange(d // 2, dtype=jnp.asarray(1.0).dtype)
    freq = 10000.0 ** (-2.0 * i / d)
    angle = jnp.asarray(positions).astype(freq.dtype)[..., None] * freq.reshape((1,) * jnp.ndim(positions) + (-1,))
    return jnp.concatenate([jnp.sin(angle), jnp.cos(angle)], axis=-1)


class TransformerBlock(eqx.Module):
    norm1: eqx.nn.LayerNorm
    w_qkv: Float[Array, "e d"]
    w_o: Float[Array, "d d"]
    norm2: eqx.nn.LayerNorm
    w_1: Float[Array, "f d"]
    b_1: Float[Array, " f"]
    w_2: Float[Array, "d f"]
    heads: int = eqx.field(static=True)

    def __init__(self, d, *, key, heads, ffn):
        ks = jr.split(key, 4)
        self.norm1, self.norm2 = eqx.nn.LayerNorm(d), eqx.nn.LayerNorm(d)
        self.w_qkv, self.w_o = _dense(ks[0], 3 * d, d), _dense(ks[1], d, d) / 2
        self.w_1, self.b_1, self.w_2 = _dense(ks[2], ffn, d), jnp.zeros(ffn), _dense(ks[3], d, ffn) / 2
        self.heads = heads

    def _qkv(self, h):
        q, k, v = jnp.split(h @ self.w_qkv.T, 3, axis=-1)
        split = lambda a: a.reshape(*a.shape[:-1], self.heads, -1)
        return split(q), split(k), split(v)

    def _mlp(self, x):
        return jax.nn.gelu(_plus_bias(x @ self.w_1.T, self.b_1)) @ self.w_2.T

    def __call__(self, x):
        t, d = x.shape
        q, k, v = self._qkv(jax.vmap(self.norm1)(x))  # (T, h, dh)
        scores = jnp.einsum("thd,shd->hts", q, k) / math.sqrt(d // self.heads)
        scores = jnp.where(jnp.tril(jnp.ones((t, t), bool))[None], scores, -jnp.inf)
        att = jnp.einsum("hts,shd->thd", jax.nn.softmax(scores, axis=-1), v).reshape(t, d)
        x = x + att @ self.w_o.T
        return x + jax.vmap(lambda y: self._mlp(self.norm2(y)))(x)

    def step(self, cache, pos, x):
        """One token at position `pos` with a KV cache (k, v) of shape (capacity, h, dh)."""
        d = x.shape[0]
        q, k, v = self._qkv(self.norm1(x))
        kc = jax.lax.dynamic_update_slice(cache[0], k[None], (pos, jnp.zeros_like(pos), jnp.zeros_like(pos)))
        vc = jax.lax.dynamic_update_slice(cache[1], v[None], (pos, jnp.zeros_like(pos), jnp.zeros_like(pos)))
        scores = jnp.einsum("hd,shd->hs", q, kc) / math.sqrt(d // self.heads)
        scores = jnp.where((jnp.arange(kc.shape[0], dtype=pos.dtype) <= pos)[None], scores, -jnp.inf)
        att = jnp.einsum("hs,shd->hd", jax.nn.softmax(scores, axis=-1), vc).reshape(d)
        x = x + self.w_o @ att
        return x + self._mlp(self.norm2(x)), (kc, vc)


class TransformerLM(_Embedded):
    """A small causal softmax-attention transformer (pre-norm, sinusoidal positions, GELU MLP)."""

    blocks: list

    def __init__(self, vocab: int, d: int = 128, layers: int = 2, *, key, heads: int = 4, ffn_mult: int = 4):
        for name, value in (("vocab", vocab), ("d", d), ("layers", layers), ("heads", heads), ("ffn_mult", ffn_mult)):
            check_int(name, value)
        if d % heads or d % 2:
            raise ValueError(f"`heads` ({heads}) and 2 must divide `d` ({d})")
        _check_size(vocab, d, layers, 4 + 2 * ffn_mult)
        k0, *ks = jr.split(key, layers + 1)
        self._init_io(vocab, d, k0)
        self.blocks = [TransformerBlock(d, key=k, heads=heads, ffn=ffn_mult * d) for k in ks]

    def __call__(self, tokens, form: str = "parallel"):
        _check_tokens(tokens, self.vocab)
        d = self.embed.shape[1]
        x = self.embed[tokens] + _sinusoid(jnp.arange(tokens.shape[0]), d).astype(self.embed.dtype)
        for b in self.blocks:
            x = b(x)
        return self._logits(x), jnp.zeros((0, 2), x.dtype)

    def init_state(self, capacity: int):
        """A KV cache of `capacity` positions per block, and the position: 2 layers capacity d numbers."""
        capacity = check_int("capacity", capacity)
        d = self.embed.shape[1]
        check_memory(
            "`capacity`", float_bytes(2.0 * len(self.blocks) * capacity * d), f"a KV cache of {capacity} positions"
        )
        h = self.blocks[0].heads
        zero = jnp.zeros((capacity, h, d // h), self.embed.dtype)
        return ([(zero, zero) for _ in self.blocks], jnp.asarray(0, jnp.int32))

    def step(self, state, token):
        caches, pos = state
        d = self.embed.shape[1]
        pos = eqx.error_if(
            pos,
            pos >= caches[0][0].shape[0],
            "TransformerLM.step: the KV cache is full; make init_state(capacity) larger",
        )
        x = self.embed[_check_token(token, self.vocab)] + _sinusoid(pos.astype(self.embed.dtype), d)
        new = []
        for b, c in zip(self.blocks, caches):
            x, c = b.step(c, pos, x)
            new.append(c)
        return self._logits(x), (new, pos + 1)


class AstrocyteAttentionBlock(TransformerBlock):
    """A `TransformerBlock` whose attention is the neuron-astrocyte network's fixed point
    (`nam.attention.astrocyte_attention`: causal linear attention with positive random features, shared by
    the heads of the block). With `log_radius` (the default of `AstrocyteAttentionLM`), queries and keys
    are normalised per head to the length sqrt(r_h), r_h = exp(log_radius_h) learned, so the softmax kernel
    the features estimate is exp(r_h cos(q, k)); without it, exp(q . k / sqrt(dh)) as in the transformer."""

    features: AbstractPositiveFeatures
    log_radius: Float[Array, " h"] | None

    def __init__(self, d, *, key, heads, ffn, features, qk_norm, radius=1.0):
        super().__init__(d, key=key, heads=heads, ffn=ffn)
        self.features = features
        self.log_radius = jnp.zeros(heads) + math.log(radius) if qk_norm else None

    def _scaled(self, q, k):
        """(q, k) scaled so that phi(q) . phi(k) estimates the block's softmax kernel."""
        if self.log_radius is None:
            root = (q.shape[-1]) ** -0.25
            return q * root, k * root
        root = jnp.exp(0.5 * self.log_radius)[:, None]  # (h, 1)
        unit = lambda a: a / jnp.sqrt(jnp.sum(a * a, axis=-1, keepdims=True) + 1e-6)
        if q.ndim == 3:
            root = root[None]
        return unit(q) * root, unit(k) * root

    def __call__(self, x):
        t, d = x.shape
        q, k, v = self._qkv(jax.vmap(self.norm1)(x))  # (T, h, dh)
        q, k = self._scaled(q, k)
        head = lambda q, k, v: astrocyte_attention(q, k, v, self.features, causal=True, scale=1.0)
        att = jax.vmap(head, in_axes=1, out_axes=1)(q, k, v).reshape(t, d)
        x = x + att @ self.w_o.T
        return x + jax.vmap(lambda y: self._mlp(self.norm2(y)))(x)

    def step(self, state, pos, x):
        """One token with the network's constant-size state per head: S = sum_s k~_s v_s^T (M, dh),
        z = sum_s k~_s (M,), and per feature the running maximum of the keys' log-features (the
        stabiliser of `astrocyte_attention`, rescaled as it grows, as in online softmax). `pos` is unused."""
        del pos
        d = x.shape[0]
        s_kv, z, m = state
        q, k, v = self._qkv(self.norm1(x))  # (h, dh)
        q, k = self._scaled(q, k)
        lq = self.features.log_features(q)  # (h, M)
        lk = self.features.log_features(k)
        m_new = jnp.maximum(m, lk)  # (h, M)
        decay = jnp.exp(m - m_new)
        kf = jnp.exp(lk - m_new)
        s_kv = s_kv * decay[:, :, None] + kf[:, :, None] * v[:, None, :]
        z = z * decay + kf
        lq = lq + m_new
        qf = jnp.exp(lq - jnp.max(lq, axis=-1, keepdims=True))
        num = jnp.einsum("hm,hmd->hd", qf, s_kv)
        den = jnp.maximum(jnp.einsum("hm,hm->h", qf, z), jnp.finfo(z.dtype).tiny)
        x = x + self.w_o @ (num / den[:, None]).reshape(d)
        return x + self._mlp(self.norm2(x)), (s_kv, z, m_new)


class AstrocyteAttentionLM(TransformerLM):
    """`TransformerLM` with the neuron-astrocyte attention of `nam.attention` (Kozachkov et al. Appendix C)
    in every block: M = `num_features` positive random features (`orthogonal` blocks by default), drawn
    from `feature_seed` + the block index, fixed (not trained, not counted as parameters), or with
    `learned_features` the same draw as the start of trained projections (`LearnedPositiveFeatures`:
    M dh parameters per block, a learned positive kernel rather than an estimate of softmax). `qk_norm`
    (default): queries and keys normalised per head with a learned radius r (`AstrocyteAttentionBlock`),
    starting at `radius` (logits r cos(q, k) in [-r, r]); without
    it, the features' estimate of exp(q . k / sqrt(dh)) degrades as |q|, |k| grow in training (its relative
    variance is (exp(|x + y|^2) - 1) / M), and one such run went to NaN (docs/attention.md). Its generation
    state has constant size (per block and head an (M, dh) matrix and two (M,) vectors)."""

    def __init__(
        self,
        vocab: int,
        d: int = 128,
        layers: int = 2,
        *,
        key,
        heads: int = 4,
        ffn_mult: int = 4,
        num_features: int = 64,
        orthogonal: bool = True,
        feature_seed: int = 0,
        qk_norm: bool = True,
        learned_features: bool = False,
        radius: float | int = 1.0,
    ):
        for name, value in (
            ("vocab", vocab),
            ("d", d),
            ("layers", layers),
            ("heads", heads),
            ("ffn_mult", ffn_mult),
            ("num_features", num_features),
        ):
            check_int(name, value)
        check_int("feature_seed", feature_seed, 0)
        radius = check_number("radius", radius, minimum=0.0, open_min=True)
        if d % heads or d % 2:
            raise ValueError(f"`heads` ({heads}) and 2 must divide `d` ({d})")
        k0, *ks = jr.split(key, layers + 1)
        self._init_io(vocab, d, k0)
        draw = lambda i: PositiveRandomFeatures(d // heads, num_features, seed=feature_seed + i, orthogonal=orthogonal)
        self.blocks = [
            AstrocyteAttentionBlock(
                d,
                key=k,
                heads=heads,
                ffn=ffn_mult * d,
                qk_norm=qk_norm,
                radius=radius,
                features=LearnedPositiveFeatures(draw(i)) if learned_features else draw(i),
            )
            for i, k in enumerate(ks)
        ]

    def init_state(self, capacity: int | None = None):
        """Per block (S, z, m): zeros (h, M, dh), zeros (h, M), -inf (h, M): constant size, `capacity` is
        ignored; and the position (for the sinusoidal code)."""
        d = self.embed.shape[1]
        b = self.blocks[0]
        h, m = b.heads, b.features.num_features
        dt = self.embed.dtype
        one = (jnp.zeros((h, m, d // h), dt), jnp.zeros((h, m), dt), jnp.full((h, m), -jnp.inf, dt))
        return ([one for _ in self.blocks], jnp.asarray(0, jnp.int32))

    def step(self, state, token):
        states, pos = state
        d = self.embed.shape[1]
        x = self.embed[token] + _sinusoid(pos.astype(self.embed.dtype), d)
        new = []
        for b, st in zip(self.blocks, states):
            x, st = b.step(st, pos, x)
            new.append(st)
        return self._logits(x), (new, pos + 1)


def check_sequence_model(model) -> None:
    """`model` must be one of the sequence models built here; `ArgumentTypeError` otherwise."""
    check_instance(
        "model",
        model,
        _Embedded,
        "a nam.astrosnn sequence model (AstroSNN, RNNLM, TransformerLM, AstrocyteAttentionLM)",
    )


def build_model(kind: str, vocab: int, d: int, layers: int, *, key, heads: int = 4, chunk: int = 64, **kwargs):
    """One of MODEL_KINDS: astrosnn, lif (AstroSNN without astrocytes), lstm, gru, transformer,
    astro-attention (`AstrocyteAttentionLM`; options `num_features`, `orthogonal`, `feature_seed`,
    `qk_norm`, `learned_features`, `radius`)."""
    kind = check_choice("model", kind, MODEL_KINDS)
    if kind in ("astrosnn", "lif"):
        return AstroSNN(vocab, d, layers, key=key, heads=heads, chunk=chunk, astrocyte=kind == "astrosnn", **kwargs)
    if kind == "astro-attention":
        unknown = sorted(
            set(kwargs) - {"num_features", "orthogonal", "feature_seed", "qk_norm", "learned_features", "radius"}
        )
        if unknown:
            raise ValueError(
                f"options {unknown} do not apply to 'astro-attention' (num_features, orthogonal, "
                "feature_seed, qk_norm, learned_features, radius do)"
            )
        return AstrocyteAttentionLM(vocab, d, layers, key=key, heads=heads, **kwargs)
    if kwargs:
        raise ValueError(f"options {sorted(kwargs)} apply to the AstroSNN / LIF-SNN only, not to {kind!r}")
    if kind in ("lstm", "gru"):
        return RNNLM(vocab, d, layers, key=key, cell=kind)
    return TransformerLM(vocab, d, layers, key=key, heads=heads)


def match_width(kind: str, vocab: int, target: int, layers: int, *, heads: int = 4, **kwargs) -> int:
    """The width d (a multiple of lcm(heads, 2)) whose `kind` model has the parameter count nearest `target`."""
    kind = check_choice("model", kind, MODEL_KINDS)
    vocab, target, layers, heads = (
        check_int("vocab", vocab),
        check_int("target", target),
        check_int("layers", layers),
        check_int("heads", heads),
    )
    step = math.lcm(heads, 2)
    best, best_err = step, None
    for d in range(step, 4096 + 1, step):
        n = parameter_count(
            eqx.filter_eval_shape(build_model, kind, vocab, d, layers, key=jr.PRNGKey(0), heads=heads, **kwargs)
        )
        err = abs(n - target)
        if best_err is None or err < best_err:
            best, best_err = d, err
        if n > target:
            break
    return best


def generate(model, prompt, steps: int, key, temperature=1.0):
    """Sample `steps` tokens after `prompt` (1-D ints) one at a time with `model.step`; returns the new
    tokens (steps,). The transformer's KV cache holds len(prompt) + steps positions.

    `temperature` divides the logits: a positive finite number (or a 0-d array, so another value does not
    recompile; checked when concrete).

    **Raises:** TypeError for a model that is not one of `MODEL_KINDS`, a prompt that is not an integer
    array, a key that is not a PRNG key; ValueError for an empty prompt, token ids outside the model's
    vocabulary, `steps` < 1, a temperature <= 0, NaN or inf."""
    check_sequence_model(model)
    check_instance("prompt", prompt, (jax.Array, np.ndarray), "a 1-D integer array of token ids")
    _check_tokens(prompt, model.vocab, "prompt")
    if prompt.shape[0] < 1:
        raise ValueError("`prompt` must hold at least one token")
    steps = check_int("steps", steps)
    check_memory("`steps`", 4.0 * 4 * float(steps), f"{steps} generated tokens")
    key = check_key("key", key)
    if isinstance(temperature, (bool, complex, str)) or temperature is None:
        raise ArgumentTypeError(f"`temperature` must be a positive finite number, got {temperature!r}")
    temp = jnp.asarray(temperature)
    if (
        temp.shape != ()
        or temp.dtype == bool
        or not (jnp.issubdtype(temp.dtype, jnp.floating) or jnp.issubdtype(temp.dtype, jnp.integer))
    ):
        raise ArgumentTypeError(f"`temperature` must be a real scalar, got {temperature!r}")
    if is_concrete(temp):
        check_number("temperature", float(temp), minimum=0.0, open_min=True)
    return _generate(model, jnp.asarray(prompt), steps, key, temp.astype(model.embed.dtype))


@eqx.filter_jit
def _generate(model, prompt, steps: int, key, temperature):
    state = model.init_state(prompt.shape[0] + steps)

    def feed(state, tok):
        logits, state = model.step(state, tok)
        return state, logits

    state, logits = jax.lax.scan(feed, state, prompt)

    def sample(carry, k):
        state, logits = carry
        tok = jr.categorical(k, logits / temperature)
        logits, state = model.step(state, tok)
        return (state, logits), tok

    _, toks = jax.lax.scan(sample, (state, logits[-1]), jr.split(key, steps))
    return toks
