"""The astrocyte-modulated spiking unit (AM-SU) of Shen et al. (arXiv 2312.07625), RECONSTRUCTED from
the paper's Figure 1 only (no code and no method section are public). Assumptions, each switchable:

- synaptic input x_t (D,) drives the neuron current I_t = W_i x_t (one linear map; `current_act`
  "identity" or "sigmoid" for the paper's sigma);
- the presynaptic side writes key k_t = W_k x_t and value v_t = W_v x_t into the astrocyte state,
  per head h:  H_t = lambda_h H_{t-1} + v_t k_t^T   (an outer-product write as in linear attention;
  lambda_h in (0, 1] learnable, held as sigmoid(raw) and started near 1);
- the astrocyte process reads with q_t = W_q x_t:  o_t = H_t q_t;  with `normalise=True`,
  o_t = H_t q_t / (|z_t . q_t| + eps), z_t = lambda z_{t-1} + k_t: the neuron-astrocyte attention of
  Kozachkov, Kastanenka & Krotov (PNAS 2023), linear attention with its normaliser;
- k, q are real-valued or spiking (`kq_spiking`: k, q = H(W x) with the surrogate gradient);
- the neuron is leaky integrate-and-fire: u_t = beta u_{t-1} + I_t, spike s_t = g(u_t + o_t - theta)
  with a surrogate-gradient step g, then reset: "hard" (u_t <- u_t (1 - s_t)), "soft"
  (u_t <- u_t - theta s_t) or "none".

Two numerically identical forms:
- `recurrent`: a lax.scan over tokens carrying (H, z, u): constant memory per sequence, for generation;
- `parallel`: the astrocyte read-outs of all tokens at once, chunked (within a chunk of C tokens a
  decay-masked C x C matrix product, across chunks the carried state H), then the cheap elementwise
  neuron scan. Tested to agree with `recurrent` to float32 tolerance.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_choice
from ._surrogate import SURROGATES, spike


class AMSU(eqx.Module):
    """One AM-SU layer: (T, d_in) inputs -> (T, d_out) spikes. `heads` divides d_out; each head has
    its own decay lambda_h and a (d_head x d_head) astrocyte state."""

    w_i: Float[Array, "o d"]
    w_k: Float[Array, "o d"]
    w_v: Float[Array, "o d"]
    w_q: Float[Array, "o d"]
    decay_raw: Float[Array, " h"]
    beta: Float[Array, ""]
    theta: Float[Array, ""]
    alpha: Float[Array, ""]
    heads: int = eqx.field(static=True)
    reset: str = eqx.field(static=True)
    surrogate: str = eqx.field(static=True)
    current_act: str = eqx.field(static=True)
    normalise: bool = eqx.field(static=True)
    kq_spiking: bool = eqx.field(static=True)
    astrocyte: bool = eqx.field(static=True)

    def __init__(self, d_in: int, d_out: int, *, key, heads: int = 1, decay=0.95, beta=0.9, theta=1.0,
                 alpha=2.0, reset: str = "soft", surrogate: str = "atan", current_act: str = "identity",
                 normalise: bool = False, kq_spiking: bool = False, astrocyte: bool = True):
        for name, value in (("d_in", d_in), ("d_out", d_out), ("heads", heads)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        if d_out % heads:
            raise ValueError(f"`heads` ({heads}) must divide `d_out` ({d_out})")
        decay = np.broadcast_to(np.asarray(decay, dtype=np.float64), (heads,))
        if np.any(decay <= 0) or np.any(decay > 1):
            raise ValueError(f"`decay` must lie in (0, 1], got {decay.tolist()}")
        self.reset = check_choice("reset", reset, ("hard", "soft", "none"))
        self.surrogate = check_choice("surrogate", surrogate, SURROGATES)
        self.current_act = check_choice("current_act", current_act, ("identity", "sigmoid"))
        ks = jr.split(key, 4)
        scale = 1.0 / np.sqrt(d_in)
        self.w_i, self.w_k, self.w_v, self.w_q = (scale * jr.normal(k, (d_out, d_in)) for k in ks)
        # sigmoid(raw) = decay; decay = 1 maps to a large raw value
        self.decay_raw = jnp.asarray(np.log(decay / np.maximum(1.0 - decay, 1e-6)))
        self.beta, self.theta, self.alpha = (jnp.asarray(float(x)) for x in (beta, theta, alpha))
        self.heads, self.normalise, self.kq_spiking, self.astrocyte = heads, normalise, kq_spiking, astrocyte

    @property
    def decay(self):
        return jax.nn.sigmoid(self.decay_raw)

    def _projections(self, x):
        """(I, k, v, q) for inputs x (T, d_in); k, v, q split into heads: (T, h, d_head)."""
        t = x.shape[0]
        current = x @ self.w_i.T
        if self.current_act == "sigmoid":
            current = jax.nn.sigmoid(current)
        k, v, q = (x @ w.T for w in (self.w_k, self.w_v, self.w_q))
        if self.kq_spiking:
            k, q = spike(k, self.surrogate, self.alpha), spike(q, self.surrogate, self.alpha)
        split = lambda a: a.reshape(t, self.heads, -1)
        return current, split(k), split(v), split(q)

    def _neurons(self, current, o):
        """The LIF scan: u_t = beta u_{t-1} + I_t, s_t = g(u_t + o_t - theta), reset."""

        def step(u, inputs):
            i_t, o_t = inputs
            u = self.beta * u + i_t
            s = spike(u + o_t - self.theta, self.surrogate, self.alpha)
            if self.reset == "hard":
                u = u * (1.0 - s)
            elif self.reset == "soft":
                u = u - self.theta * s
            return u, s

        _, s = jax.lax.scan(step, jnp.zeros(current.shape[1:], current.dtype), (current, o))
        return s

    def recurrent(self, x):
        """Token by token (constant-size state). x: (T, d_in) -> spikes (T, d_out)."""
        current, k, v, q = self._projections(x)
        o = self.read_recurrent(k, v, q) if self.astrocyte else jnp.zeros_like(current)
        return self._neurons(current, o)

    def parallel(self, x, chunk: int = 64):
        """All tokens at once, in chunks of `chunk` (T must be a multiple of it). Same result as `recurrent`."""
        t = x.shape[0]
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1 or t % chunk:
            raise ValueError(f"the sequence length ({t}) must be a positive multiple of `chunk`, got {chunk!r}")
        current, k, v, q = self._projections(x)
        o = self.read_parallel(k, v, q, chunk) if self.astrocyte else jnp.zeros_like(current)
        return self._neurons(current, o)

    def _empty_memory(self, k):
        """The astrocyte state before the first token: H = 0 (h, d_head, d_head), z = 0 (h, d_head)."""
        dh = k.shape[-1]
        return jnp.zeros((self.heads, dh, dh), k.dtype), jnp.zeros((self.heads, dh), k.dtype)

    def read_recurrent(self, k, v, q):
        """Astrocyte read-outs o_t (T, d_out) by the recurrence over tokens; k, v, q: (T, h, d_head)."""
        lam = self.decay[:, None, None]

        def step(carry, inputs):
            h, z = carry
            k_t, v_t, q_t = inputs
            h = lam * h + v_t[:, :, None] * k_t[:, None, :]
            z = lam[:, :, 0] * z + k_t
            o = jnp.einsum("hij,hj->hi", h, q_t)
            if self.normalise:
                o = o / (jnp.abs(jnp.sum(z * q_t, axis=-1, keepdims=True)) + 1e-6)
            return (h, z), o.reshape(-1)

        _, o = jax.lax.scan(step, self._empty_memory(k), (k, v, q))
        return o

    def read_parallel(self, k, v, q, chunk: int):
        """The same read-outs, chunk by chunk (see the module docstring); T a multiple of `chunk`."""
        t = k.shape[0]
        n_chunks = t // chunk
        lam = self.decay  # (h,)
        idx = jnp.arange(chunk)
        rel = idx[:, None] - idx[None, :]  # t - s within a chunk
        causal = rel >= 0
        # within-chunk decay matrix D[h, t, s] = lam_h^(t - s) for s <= t
        logl = jnp.log(lam)[:, None, None]
        dmat = jnp.where(causal[None], jnp.exp(logl * jnp.maximum(rel, 0)[None]), 0.0)
        to_start = jnp.exp(jnp.log(lam)[:, None] * (idx[None, :] + 1))  # lam^(t+1): decay of the carried H
        to_end = jnp.exp(jnp.log(lam)[:, None] * (chunk - 1 - idx[None, :]))  # lam^(C-1-s): into the next H
        kc, vc, qc = (a.reshape(n_chunks, chunk, self.heads, -1).transpose(0, 2, 1, 3) for a in (k, v, q))

        def one_chunk(carry, inputs):
            h, z = carry  # (h, dh, dh), (h, dh): the state after the previous chunk
            k_c, v_c, q_c = inputs  # (h, C, dh)
            scores = jnp.einsum("htd,hsd->hts", q_c, k_c) * dmat
            o = jnp.einsum("hts,hsd->htd", scores, v_c) + to_start[:, :, None] * jnp.einsum("hij,htj->hti", h, q_c)
            if self.normalise:
                zq = jnp.einsum("hts,hsd,htd->ht", dmat, k_c, q_c) + to_start * jnp.einsum("hj,htj->ht", z, q_c)
                o = o / (jnp.abs(zq)[:, :, None] + 1e-6)
            h = lam[:, None, None] ** chunk * h + jnp.einsum("hs,hsi,hsj->hij", to_end, v_c, k_c)
            z = lam[:, None] ** chunk * z + jnp.einsum("hs,hsj->hj", to_end, k_c)
            return (h, z), o

        _, o = jax.lax.scan(one_chunk, self._empty_memory(k), (kc, vc, qc))  # (n_chunks, h, C, dh)
        return o.transpose(0, 2, 1, 3).reshape(t, -1)
