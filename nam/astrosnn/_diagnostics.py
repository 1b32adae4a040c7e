"""What the astrocyte memory contributes to a trained AstroSNN language model: measurements behind the
AstroSNN lm table (docs/astrosnn.md, "Why the astrocytes did not help").

- `remove_astrocyte_read(model)`: the same trained network with every AM-SU read-out set to zero
  (W_v = 0, so H = 0 and o = 0 in both the membrane and the residual path): evaluated on the validation
  split, the loss it costs is what the astrocytes contribute to the logits;
- `astrocyte_trace(model, tokens)`: per block, on a batch of windows,
  - `read_rms`: the RMS of the read-out o as it reaches the neuron/the stream (after `read_norm`),
  - `current_rms`: the RMS of the input current I = W_i LN(x) it is added to (membrane read),
  - `spikes_flipped`: the fraction of AM-SU neuron-steps whose spike changes when o is removed from the
    membrane (the only way a membrane read reaches the next layer),
  - `residual_share`: |W_r o| / |x| (|W_r (s * o)| / |x| for the "gated" read), the residual read's share
    of the stream's norm (0 without one),
  - `stream_share`: |W_o s| / |x|, the AM-SU spikes' share,
  - `k_rate`, `q_rate`: the mean of the keys and queries (their spike rates when `kq_spiking`),
  - `writes_per_token`: the mean number of key units written per head and token (sum of k over a head;
    for real-valued keys the count of non-zero entries),
  - `silent_writes`: the fraction of (token, head) pairs whose key is all zero (nothing written),
  - `decays`: the heads' learned decays lambda_h.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import ArgumentTypeError, check_instance
from ._models import AstroSNN, _check_tokens


def _check_astro(model):
    check_instance("model", model, AstroSNN, "a nam.astrosnn.AstroSNN with astrocytes")
    if not model.blocks[0].unit.astrocyte:
        raise ValueError("`model` has no astrocytes (a LIF-SNN): there is no read-out to measure")


def remove_astrocyte_read(model):
    """`model` with every block's value map W_v set to zero: H = 0, so the read-out o = 0 everywhere (the
    membrane and, where there is one, the residual path); everything else is the trained network."""
    _check_astro(model)
    zero = lambda m: [jnp.zeros_like(b.unit.w_v) for b in m.blocks]
    return eqx.tree_at(lambda m: [b.unit.w_v for b in m.blocks], model, zero(model))


@eqx.filter_jit
def _trace_one(model, tokens):
    x = model.embed[tokens]
    out = []
    for block in model.blocks:
        unit = block.unit
        h = jax.vmap(block.norm1)(x)
        current, k, v, q = unit._projections(h)
        o = unit._to_neuron(unit.read_parallel(k, v, q, model.chunk))
        s = unit._neurons(current, unit._membrane_share(o))
        s0 = unit._neurons(current, jnp.zeros_like(o))
        rms = lambda a: jnp.sqrt(jnp.mean(a * a))
        norm = lambda a: jnp.mean(jnp.linalg.norm(a, axis=-1))
        spikes = s @ block.w_o.T
        out_read = s * o if unit.read == "gated" else o
        resid = out_read @ block.w_r.T if block.w_r is not None else jnp.zeros_like(x)
        written = jnp.sum(k != 0, axis=-1) if not unit.kq_spiking else jnp.sum(k, axis=-1)  # (T, h)
        out.append(
            {
                "read_rms": rms(o),
                "current_rms": rms(current),
                "spikes_flipped": jnp.mean(jnp.abs(s - s0)),
                "residual_share": norm(resid) / norm(x),
                "stream_share": norm(spikes) / norm(x),
                "k_rate": jnp.mean(k),
                "q_rate": jnp.mean(q),
                "writes_per_token": jnp.mean(written),
                "silent_writes": jnp.mean(jnp.all(k == 0, axis=-1)),
            }
        )
        x, _ = block(x, "parallel", model.chunk)
    return out


def astrocyte_trace(model, tokens) -> list[dict]:
    """Per block, the measurements of the module docstring, averaged over the windows `tokens` (B, T) (T a
    multiple of the model's chunk). Plain floats; `decays` a list per block."""
    _check_astro(model)
    check_instance("tokens", tokens, (jax.Array, np.ndarray), "a (B, T) integer array of token ids")
    if tokens.dtype == bool or not jnp.issubdtype(tokens.dtype, jnp.integer):
        raise ArgumentTypeError(f"`tokens` must be a (B, T) integer array of token ids, got dtype {tokens.dtype}")
    if tokens.ndim == 2 and tokens.size:
        _check_tokens(tokens.reshape(-1), model.vocab)
    tokens = jnp.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[0] < 1 or tokens.shape[1] < 1 or tokens.shape[1] % model.chunk:
        raise ValueError(
            f"`tokens` must be (B, T) with T a multiple of the model's chunk ({model.chunk}), got shape {tokens.shape}"
        )
    per = jax.vmap(lambda t: _trace_one(model, t))(tokens)
    rows = []
    for block, stats in zip(model.blocks, per):
        row: dict[str, object] = {name: float(np.mean(value)) for name, value in stats.items()}
        row["decays"] = [round(float(x), 4) for x in np.asarray(block.unit.decay)]
        rows.append(row)
    return rows
