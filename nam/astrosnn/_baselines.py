"""The baselines of the AstroSNN experiments (`RNNLM`, `TransformerLM`) and the transformer with the
neuron-astrocyte network's attention (`AstrocyteAttentionLM`, `nam.attention`); see `_models.py` for the
interface they share."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._checks import check_choice, check_int, check_memory, check_number, float_bytes
from ..attention import AbstractPositiveFeatures, LearnedPositiveFeatures, PositiveRandomFeatures, astrocyte_attention
from ._sequence import _check_size, _check_token, _check_tokens, _dense, _Embedded, _plus_bias


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
