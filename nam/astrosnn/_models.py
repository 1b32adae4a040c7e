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
    is_concrete,
)
from ._amsu import AMSU
from ._baselines import RNNLM, AstrocyteAttentionLM, TransformerLM
from ._sequence import _check_size, _check_token, _check_tokens, _dense, _Embedded, _plus_bias, parameter_count
from ._surrogate import spike

MODEL_KINDS = ("astrosnn", "lif", "lstm", "gru", "transformer", "astro-attention")


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
