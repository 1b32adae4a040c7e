"""The astrocyte-modulated spiking unit (AM-SU) of Shen et al. (arXiv 2312.07625), RECONSTRUCTED from
the paper's Figure 1 only (no code and no method section are public). Assumptions, each switchable:

- synaptic input x_t (D,) drives the neuron current I_t = W_i x_t (one linear map; `current_act`
  "identity" or "sigmoid" for the paper's sigma);
- the presynaptic side writes key k_t = W_k x_t and value v_t = W_v x_t into the astrocyte state,
  per head h:  H_t = lambda_h H_{t-1} + v_t k_t^T   (an outer-product write as in linear attention;
  lambda_h in (0, 1] learnable, held as sigmoid(raw); started multi-scale, see `AMSU.__init__`);
- the astrocyte process reads with q_t = W_q x_t:  o_t = H_t q_t;  with `normalise=True`,
  o_t = H_t q_t / (|z_t . q_t| + eps), z_t = lambda z_{t-1} + k_t: the neuron-astrocyte attention of
  Kozachkov, Kastanenka & Krotov (PNAS 2023), linear attention with its normaliser;
- with `read_norm=True` (default) each head's read-out is RMS-normalised with a learned gain before it
  reaches the neuron, o_h <- g_h o_h / rms(o_h), as RetNet normalises each retention head (Sun et al.
  2023): the raw H q grows with the number of writes (about 1/(1 - lambda) of them) and would otherwise
  pin u + o far from the threshold, where every surrogate gradient vanishes;
- k, q are real-valued or spiking (`kq_spiking`: k, q = H(W x) with the surrogate gradient);
- optionally (`key_shift=True`) the key is written from the previous token, k_t = W_k x_{t-1}, so that one
  write binds a token to its predecessor (the "token shift" of RWKV / the shift of H3). Not in the figure;
  off by default for the layer, on in the `AstroSNN` network (it makes associative recall learnable in
  one layer);
- the neuron is leaky integrate-and-fire: u_t = beta u_{t-1} + I_t, spike s_t = g(u_t + o_t - theta)
  with a surrogate-gradient step g, then reset: "hard" (u_t <- u_t (1 - s_t)), "soft"
  (u_t <- u_t - theta s_t) or "none".

Two numerically identical forms:
- `recurrent`: a lax.scan over tokens carrying (H, z, u): constant memory per sequence; `step` is one
  token of it (the state `init_state()` -> `step(state, x_t)`), for generation;
- `parallel`: the astrocyte read-outs of all tokens at once, chunked: within each chunk of C tokens a
  decay-masked C x C matrix product (all chunks in one batched product), across chunks the state H
  carried into each chunk (a scan over the T / C chunk summaries), then the cheap elementwise neuron
  scan. Tested to agree with `recurrent` to float32 tolerance.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import ArgumentTypeError, check_choice, check_int, check_number
from ._surrogate import SURROGATES, spike


class AMSU(eqx.Module):
    """One AM-SU layer: (T, d_in) inputs -> (T, d_out) spikes. `heads` divides d_out; each head has
    its own decay lambda_h and a (d_head x d_head) astrocyte state."""

    w_i: Float[Array, "o d"]
    w_k: Float[Array, "o d"] | None
    w_v: Float[Array, "o d"] | None
    w_q: Float[Array, "o d"] | None
    decay_raw: Float[Array, " h"] | None
    read_gain: Float[Array, " o"] | None
    beta: Float[Array, ""]
    theta: Float[Array, ""]
    alpha: float = eqx.field(static=True)
    heads: int = eqx.field(static=True)
    reset: str = eqx.field(static=True)
    surrogate: str = eqx.field(static=True)
    current_act: str = eqx.field(static=True)
    normalise: bool = eqx.field(static=True)
    kq_spiking: bool = eqx.field(static=True)
    astrocyte: bool = eqx.field(static=True)
    key_shift: bool = eqx.field(static=True)

    def __init__(self, d_in: int, d_out: int, *, key, heads: int = 1, decay=None, beta=0.9, theta=1.0,
                 alpha=2.0, reset: str = "soft", surrogate: str = "atan", current_act: str = "identity",
                 normalise: bool = False, kq_spiking: bool = False, astrocyte: bool = True,
                 key_shift: bool = False, read_norm: bool = True, read_gain_init: float = 1.0):
        """`decay`: a scalar, one value per head in (0, 1], or a named multi-scale start:
        "retnet" (the default, also None): 1 - 2^-(5 + 7 h / heads), RetNet-style (RetNet, Sun et al. 2023,
        uses 1 - 2^-(5 + h)),
        0.969 to 0.999 for 4 heads; "wide": 1 - 2^-e_h with e_h evenly from 1 to 9 (0.5, 0.92, 0.988,
        0.998 for 4 heads), so some heads keep the last few tokens and some hundreds."""
        for name, value in (("d_in", d_in), ("d_out", d_out), ("heads", heads)):
            check_int(name, value)
        if d_out % heads:
            raise ValueError(f"`heads` ({heads}) must divide `d_out` ({d_out})")
        if decay is None or isinstance(decay, str):
            decay = check_choice("decay", "retnet" if decay is None else decay, ("retnet", "wide"))
            h = np.arange(heads)
            decay = (1.0 - 2.0 ** -(5.0 + 7.0 * h / heads) if decay == "retnet"
                     else 1.0 - 2.0 ** -(np.linspace(1.0, 9.0, heads) if heads > 1 else np.array([5.0])))
        decay = np.asarray(decay)  # a host value: the model may be built under eqx.filter_eval_shape
        real = np.issubdtype(decay.dtype, np.floating) or np.issubdtype(decay.dtype, np.integer)
        if decay.dtype == bool or not real:
            raise ArgumentTypeError(f"`decay` must be real numbers in (0, 1] or a name, got dtype {decay.dtype}")
        decay = decay.astype(np.float64)
        if decay.ndim > 1 or decay.size not in (1, heads):
            raise ValueError(f"`decay` must be a scalar or one value per head ({heads}), got shape {decay.shape}")
        decay = np.broadcast_to(decay, (heads,))
        if not np.all(np.isfinite(decay)) or np.any(decay <= 0) or np.any(decay > 1):
            raise ValueError(f"`decay` must lie in (0, 1], got {decay.tolist()}")
        self.reset = check_choice("reset", reset, ("hard", "soft", "none"))
        self.surrogate = check_choice("surrogate", surrogate, SURROGATES)
        self.current_act = check_choice("current_act", current_act, ("identity", "sigmoid"))
        ks = jr.split(key, 4)
        scale = 1.0 / np.sqrt(d_in)
        self.w_i, self.w_k, self.w_v, self.w_q = (scale * jr.normal(k, (d_out, d_in)) for k in ks)
        # sigmoid(raw) = decay; decay = 1 is held as 1 - 1e-6 (raw = ln 1e6)
        self.decay_raw = jnp.asarray(np.log(decay / np.maximum(1.0 - decay, 1e-6)))
        self.read_gain = jnp.full(d_out, float(read_gain_init)) if read_norm else None
        if not astrocyte:  # the plain LIF layer holds (and counts) no astrocyte parameters
            self.w_k = self.w_v = self.w_q = self.decay_raw = self.read_gain = None
        self.beta = jnp.asarray(check_number("beta", beta, minimum=0.0, maximum=1.0))
        self.theta = jnp.asarray(check_number("theta", theta, minimum=0.0, open_min=True))
        # the surrogate width shapes gradients only: not trained
        self.alpha = check_number("alpha", alpha, minimum=0.0, open_min=True)
        self.heads, self.normalise, self.kq_spiking, self.astrocyte = heads, normalise, kq_spiking, astrocyte
        self.key_shift = key_shift

    @property
    def decay(self):
        return jax.nn.sigmoid(self.decay_raw)

    def _projections(self, x, k_before=None):
        """(I, k, v, q) for inputs x (T, d_in); k, v, q split into heads: (T, h, d_head). With `key_shift`,
        row t of k is W_k x_{t-1}, and `k_before` (d_out,) is W_k x_{-1} (zeros before the first token)."""
        t = x.shape[0]
        current = x @ self.w_i.T
        if self.current_act == "sigmoid":
            current = jax.nn.sigmoid(current)
        if not self.astrocyte:
            return current, None, None, None
        k, v, q = (x @ w.T for w in (self.w_k, self.w_v, self.w_q))
        if self.key_shift:  # k_t = W_k x_{t-1}, k_0 = k_before (0 at the start of a sequence)
            first = jnp.zeros_like(k[:1]) if k_before is None else k_before[None]
            k = jnp.concatenate([first, k[:-1]], axis=0)
        if self.kq_spiking:
            k, q = spike(k, self.surrogate, self.alpha), spike(q, self.surrogate, self.alpha)
        split = lambda a: a.reshape(t, self.heads, -1)
        return current, split(k), split(v), split(q)

    def _neuron_step(self, u, i_t, o_t):
        """One LIF step: u_t = beta u_{t-1} + I_t, s_t = g(u_t + o_t - theta), then the reset."""
        u = self.beta * u + i_t
        s = spike(u + o_t - self.theta, self.surrogate, self.alpha)
        if self.reset == "hard":
            u = u * (1.0 - s)
        elif self.reset == "soft":
            u = u - self.theta * s
        return u, s

    def _neurons(self, current, o):
        """The LIF scan over tokens."""
        _, s = jax.lax.scan(lambda u, io: self._neuron_step(u, *io), jnp.zeros(current.shape[1:], current.dtype),
                            (current, o))
        return s

    def _write_read(self, h, z, k_t, v_t, q_t):
        """One astrocyte step per head: H = lam H + v k^T, z = lam z + k, o = H q (/ |z . q|)."""
        lam = self.decay[:, None, None]
        h = lam * h + v_t[:, :, None] * k_t[:, None, :]
        z = lam[:, :, 0] * z + k_t
        o = jnp.einsum("hij,hj->hi", h, q_t)
        if self.normalise:
            o = o / (jnp.abs(jnp.sum(z * q_t, axis=-1, keepdims=True)) + 1e-6)
        return h, z, o.reshape(-1)

    def _to_neuron(self, o):
        """The read-out as it reaches the neuron: per-head RMS-normalised with gain when `read_norm`."""
        if self.read_gain is None:
            return o
        lead = o.shape[:-1]
        oh = o.reshape(*lead, self.heads, -1)
        oh = oh / jnp.sqrt(jnp.mean(oh * oh, axis=-1, keepdims=True) + 1e-6)
        return oh.reshape(o.shape) * self.read_gain.reshape((1,) * (o.ndim - 1) + (-1,))

    def init_state(self, dtype=None):
        """The recurrent state before the first token: (H, z, u, W_k x_prev), of constant size
        heads d_head^2 + heads d_head + 2 d_out whatever the sequence length."""
        dtype = dtype or self.w_i.dtype
        d_out = self.w_i.shape[0]
        dh = d_out // self.heads
        return (jnp.zeros((self.heads, dh, dh), dtype), jnp.zeros((self.heads, dh), dtype),
                jnp.zeros((d_out,), dtype), jnp.zeros((d_out,), dtype))

    def step(self, state, x_t):
        """One token of the recurrent form: x_t (d_in,) -> (spikes (d_out,), new state)."""
        h, z, u, k_prev = state
        current, k, v, q = self._projections(x_t[None], k_prev)
        if self.astrocyte:
            h, z, o = self._write_read(h, z, k[0], v[0], q[0])
            o = self._to_neuron(o)
            k_prev = x_t @ self.w_k.T
        else:
            o = jnp.zeros_like(current[0])
        u, s = self._neuron_step(u, current[0], o)
        return s, (h, z, u, k_prev)

    def recurrent(self, x):
        """Token by token (constant-size state). x: (T, d_in) -> spikes (T, d_out)."""
        current, k, v, q = self._projections(x)
        o = self._to_neuron(self.read_recurrent(k, v, q)) if self.astrocyte else jnp.zeros_like(current)
        return self._neurons(current, o)

    def parallel(self, x, chunk: int = 64):
        """All tokens at once, in chunks of `chunk` (T must be a multiple of it). Same result as `recurrent`."""
        t = x.shape[0]
        chunk = check_int("chunk", chunk)
        if t % chunk:
            raise ValueError(f"the sequence length ({t}) must be a positive multiple of `chunk`, got {chunk!r}")
        current, k, v, q = self._projections(x)
        o = self._to_neuron(self.read_parallel(k, v, q, chunk)) if self.astrocyte else jnp.zeros_like(current)
        return self._neurons(current, o)

    def _empty_memory(self, k):
        """The astrocyte state before the first token: H = 0 (h, d_head, d_head), z = 0 (h, d_head)."""
        dh = k.shape[-1]
        return jnp.zeros((self.heads, dh, dh), k.dtype), jnp.zeros((self.heads, dh), k.dtype)

    def read_recurrent(self, k, v, q):
        """Astrocyte read-outs o_t (T, d_out) by the recurrence over tokens; k, v, q: (T, h, d_head)."""

        def step(carry, inputs):
            h, z, o = self._write_read(*carry, *inputs)
            return (h, z), o

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
        # within each chunk, all chunks at once: o_t = sum_{s <= t in the chunk} lam^(t - s) (q_t . k_s) v_s
        scores = jnp.einsum("nhtd,nhsd->nhts", qc, kc) * dmat[None]
        o_in = jnp.einsum("nhts,nhsd->nhtd", scores, vc)
        # across chunks: the state carried into each chunk, by a scan over chunk summaries
        writes = jnp.einsum("hs,nhsi,nhsj->nhij", to_end, vc, kc)  # what chunk n adds to H at its end
        kz = jnp.einsum("hs,nhsj->nhj", to_end, kc)
        lam_c = lam ** chunk

        def carry_in(carry, w):
            h, z = carry  # the state after the previous chunk
            return (lam_c[:, None, None] * h + w[0], lam_c[:, None] * z + w[1]), (h, z)

        _, (h_in, z_in) = jax.lax.scan(carry_in, self._empty_memory(k), (writes, kz))  # (n, h, dh, dh), (n, h, dh)
        o = o_in + to_start[None, :, :, None] * jnp.einsum("nhij,nhtj->nhti", h_in, qc)
        if self.normalise:
            zq = jnp.einsum("hts,nhsd,nhtd->nht", dmat, kc, qc) + to_start[None] * jnp.einsum("nhj,nhtj->nht", z_in, qc)
            o = o / (jnp.abs(zq)[..., None] + 1e-6)
        return o.transpose(0, 2, 1, 3).reshape(t, -1)
