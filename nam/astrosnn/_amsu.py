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
- where the read goes (`read`): "membrane" (Figure 1, the default of the layer): o_t is added to the
  membrane potential before the threshold, so it reaches the next layer only through the spikes;
  "residual": the neuron fires from its own membrane and the (normalised) read is a second, real-valued
  output of the unit, which the `AstroSNN` block adds to the residual stream through its own projection,
  as a retention head's output is (RetNet, Sun et al. 2023); "both": the two at once; "gated": as
  "residual", but the read leaves the unit only where its neuron spikes, s_t * o_t (graded spikes: the
  astrocyte scales the synaptic output of an active neuron, gliotransmission as a synaptic gain);
- optionally (`write_gate=True`) a per-head gate on the write, H_t = lambda H_{t-1} + g_t v_t k_t^T with
  g_t = sigmoid(w_g . x_t + b_g) (the data-dependent write strength of gated linear attention, Yang et al.
  2024); the normaliser z is written ungated;
- optionally (`decay_gate=True`) a data-dependent decay per head and token, lambda_t = lambda_h^(2 f_t) with
  f_t = sigmoid(w_f . x_t + b_f) (b_f = 0 at the start, so 2 f_t is near 1 and lambda_t near lambda_h): the
  state is kept (f -> 0) or forgotten faster (f -> 1, lambda_h^2) depending on the token, the forget gate
  of gated linear attention and of the LSTM;
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

from .._checks import (
    ArgumentTypeError,
    as_float_array,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_memory,
    check_number,
    float_bytes,
)
from ._surrogate import SURROGATES, spike


def _decays(decay, heads: int) -> np.ndarray:
    """The AM-SU's per-head decays (heads,) in (0, 1] from a scalar, one value per head or a named start
    (see `AMSU`), checked (a host value: the model may be built under `eqx.filter_eval_shape`)."""
    if decay is None or isinstance(decay, str):
        decay = check_choice("decay", "retnet" if decay is None else decay, ("retnet", "wide", "short", "local"))
        h = np.arange(heads)
        top = {"wide": 9.0, "short": 6.0, "local": 4.0}.get(decay, 0.0)
        decay = (
            1.0 - 2.0 ** -(5.0 + 7.0 * h / heads)
            if decay == "retnet"
            else 1.0 - 2.0 ** -(np.linspace(1.0, top, heads) if heads > 1 else np.array([5.0]))
        )
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
    return decay


class AMSU(eqx.Module):
    """One AM-SU layer: (T, d_in) inputs -> (T, d_out) spikes. `heads` divides d_out; each head has
    its own decay lambda_h and a (d_head x d_head) astrocyte state."""

    w_i: Float[Array, "o d"]
    w_k: Float[Array, "o d"] | None
    w_v: Float[Array, "o d"] | None
    w_q: Float[Array, "o d"] | None
    decay_raw: Float[Array, " h"] | None
    read_gain: Float[Array, " o"] | None
    w_g: Float[Array, "h d"] | None
    b_g: Float[Array, " h"] | None
    w_f: Float[Array, "h d"] | None
    b_f: Float[Array, " h"] | None
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
    read: str = eqx.field(static=True)

    def __init__(
        self,
        d_in: int,
        d_out: int,
        *,
        key,
        heads: int = 1,
        decay=None,
        beta=0.9,
        theta=1.0,
        alpha=2.0,
        reset: str = "soft",
        surrogate: str = "atan",
        current_act: str = "identity",
        normalise: bool = False,
        kq_spiking: bool = False,
        astrocyte: bool = True,
        key_shift: bool = False,
        read_norm: bool = True,
        read_gain_init: float = 1.0,
        read: str = "membrane",
        write_gate: bool = False,
        decay_gate: bool = False,
    ):
        """`decay`: a scalar, one value per head in (0, 1], or a named multi-scale start:
        "retnet" (the default, also None): 1 - 2^-(5 + 7 h / heads), RetNet-style (RetNet, Sun et al. 2023,
        uses 1 - 2^-(5 + h)),
        0.969 to 0.999 for 4 heads; "wide": 1 - 2^-e_h with e_h evenly from 1 to 9 (0.5, 0.92, 0.988,
        0.998 for 4 heads), so some heads keep the last few tokens and some hundreds; "short": e_h evenly
        from 1 to 6 (0.5, 0.84, 0.95, 0.984 for 4 heads); "local": e_h evenly from 1 to 4 (0.5, 0.75, 0.875,
        0.9375 for 4 heads: memories of a few tokens, for language modelling)."""
        for name, value in (("d_in", d_in), ("d_out", d_out), ("heads", heads)):
            check_int(name, value)
        if d_out % heads:
            raise ValueError(f"`heads` ({heads}) must divide `d_out` ({d_out})")
        check_memory("`d_in`, `d_out`", float_bytes(5.0 * d_out * d_in), f"the {d_out} x {d_in} weights")
        decay = _decays(decay, heads)
        self.reset = check_choice("reset", reset, ("hard", "soft", "none"))
        self.surrogate = check_choice("surrogate", surrogate, SURROGATES)
        self.current_act = check_choice("current_act", current_act, ("identity", "sigmoid"))
        self.read = check_choice("read", read, ("membrane", "residual", "both", "gated"))
        for name, value in (
            ("normalise", normalise),
            ("kq_spiking", kq_spiking),
            ("astrocyte", astrocyte),
            ("key_shift", key_shift),
            ("read_norm", read_norm),
            ("write_gate", write_gate),
            ("decay_gate", decay_gate),
        ):
            check_bool(name, value)
        ks = jr.split(key, 4)  # the gates draw from keys folded in, so the other weights do not change
        scale = 1.0 / np.sqrt(d_in)
        self.w_i, self.w_k, self.w_v, self.w_q = (scale * jr.normal(k, (d_out, d_in)) for k in ks)
        # the write gate starts near sigmoid(2) = 0.88: every write goes in, as without the gate
        self.w_g = scale * jr.normal(jr.fold_in(key, 4), (heads, d_in)) if write_gate else None
        self.b_g = jnp.full(heads, 2.0) if write_gate else None
        # the decay gate starts at f = sigmoid(0) = 1/2 for every token up to w_f x: lambda_t ~ lambda_h
        self.w_f = scale * jr.normal(jr.fold_in(key, 5), (heads, d_in)) if decay_gate else None
        self.b_f = jnp.zeros(heads) if decay_gate else None
        # sigmoid(raw) = decay; decay = 1 is held as 1 - 1e-6 (raw = ln 1e6)
        self.decay_raw = jnp.asarray(np.log(decay / np.maximum(1.0 - decay, 1e-6)))
        self.read_gain = jnp.full(d_out, float(read_gain_init)) if read_norm else None
        if not astrocyte:  # the plain LIF layer holds (and counts) no astrocyte parameters
            self.w_k = self.w_v = self.w_q = self.decay_raw = self.read_gain = self.w_g = self.b_g = None
            self.w_f = self.b_f = None
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
        v = split(v)
        if self.w_g is not None:  # the write gate scales what is written: g_t v_t k_t^T
            v = v * jax.nn.sigmoid(x @ self.w_g.T + self.b_g[None])[:, :, None]
        return current, split(k), v, split(q)

    def _log_decay(self, x):
        """Per-token log decays (T, h) with `decay_gate`: log lambda_t = 2 f_t log lambda_h; None without."""
        if self.w_f is None:
            return None
        return 2.0 * jax.nn.sigmoid(x @ self.w_f.T + self.b_f[None]) * jnp.log(self.decay)[None]

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
        _, s = jax.lax.scan(
            lambda u, io: self._neuron_step(u, *io), jnp.zeros(current.shape[1:], current.dtype), (current, o)
        )
        return s

    def _write_read(self, h, z, k_t, v_t, q_t, logd_t=None):
        """One astrocyte step per head: H = lam H + v k^T, z = lam z + k, o = H q (/ |z . q|); `logd_t` (h,)
        the token's log decays when `decay_gate`."""
        lam = (self.decay if logd_t is None else jnp.exp(logd_t))[:, None, None]
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
        return (
            jnp.zeros((self.heads, dh, dh), dtype),
            jnp.zeros((self.heads, dh), dtype),
            jnp.zeros((d_out,), dtype),
            jnp.zeros((d_out,), dtype),
        )

    def step_with_read(self, state, x_t):
        """One token of the recurrent form: x_t (d_in,) -> (spikes (d_out,), read (d_out,), new state); the
        read is the normalised astrocyte read-out (zeros without astrocytes)."""
        h, z, u, k_prev = state
        x_t = self._check_input("x_t", x_t, 1)
        current, k, v, q = self._projections(x_t[None], k_prev)
        if self.astrocyte:
            logd = self._log_decay(x_t[None])
            h, z, o = self._write_read(h, z, k[0], v[0], q[0], None if logd is None else logd[0])
            o = self._to_neuron(o)
            k_prev = x_t @ self.w_k.T
        else:
            o = jnp.zeros_like(current[0])
        u, s = self._neuron_step(u, current[0], self._membrane_share(o))
        return s, (s * o if self.read == "gated" else o), (h, z, u, k_prev)

    def _check_input(self, name, x, ndim):
        """Inputs (T, d_in) (`ndim` 2, T >= 1) or one token's (d_in,) (`ndim` 1): a real array of that shape,
        finite when concrete (a NaN input would otherwise spike like a zero input: the step function maps
        NaN to 0)."""
        d_in = self.w_i.shape[1]
        x = as_float_array(name, x)
        expected = "(T, d_in)" if ndim == 2 else "(d_in,)"
        if x.ndim != ndim or x.shape[-1] != d_in or (ndim == 2 and x.shape[0] < 1):
            raise ValueError(
                f"`{name}` must have shape {expected} with d_in = {d_in}"
                f"{' and T >= 1' if ndim == 2 else ''}, got shape {x.shape}"
            )
        check_finite(name, x)
        return x

    def step(self, state, x_t):
        """One token of the recurrent form: x_t (d_in,) -> (spikes (d_out,), new state)."""
        s, _, state = self.step_with_read(state, x_t)
        return s, state

    def _membrane_share(self, o):
        """What of the read reaches the membrane: all of it if `read` is "membrane" or "both", else nothing."""
        return o if self.read in ("membrane", "both") else jnp.zeros_like(o)

    def forward(self, x, form: str = "parallel", chunk: int = 64):
        """x (T, d_in) -> (spikes (T, d_out), read (T, d_out)) in the parallel (chunked; T a multiple of
        `chunk`) or the recurrent form; the read is the normalised astrocyte read-out (zeros without
        astrocytes; times the spikes when `read` is "gated"), which reaches the membrane when `read` is
        "membrane" or "both"."""
        form = check_choice("form", form, ("parallel", "recurrent"))
        x = self._check_input("x", x, 2)
        current, k, v, q = self._projections(x)
        if not self.astrocyte:
            o = jnp.zeros_like(current)
        elif form == "parallel":
            t = x.shape[0]
            chunk = check_int("chunk", chunk)
            if t % chunk:
                raise ValueError(f"the sequence length ({t}) must be a positive multiple of `chunk`, got {chunk!r}")
            o = self._to_neuron(self.read_parallel(k, v, q, chunk, self._log_decay(x)))
        else:
            o = self._to_neuron(self.read_recurrent(k, v, q, self._log_decay(x)))
        s = self._neurons(current, self._membrane_share(o))
        return s, (s * o if self.read == "gated" else o)

    def recurrent(self, x):
        """Token by token (constant-size state). x: (T, d_in) -> spikes (T, d_out)."""
        return self.forward(x, "recurrent")[0]

    def parallel(self, x, chunk: int = 64):
        """All tokens at once, in chunks of `chunk` (T must be a multiple of it). Same result as `recurrent`."""
        return self.forward(x, "parallel", chunk)[0]

    def _empty_memory(self, k):
        """The astrocyte state before the first token: H = 0 (h, d_head, d_head), z = 0 (h, d_head)."""
        dh = k.shape[-1]
        return jnp.zeros((self.heads, dh, dh), k.dtype), jnp.zeros((self.heads, dh), k.dtype)

    def read_recurrent(self, k, v, q, logd=None):
        """Astrocyte read-outs o_t (T, d_out) by the recurrence over tokens; k, v, q: (T, h, d_head); `logd`
        (T, h) per-token log decays (`decay_gate`) or None (the heads' constant decays)."""

        def step(carry, inputs):
            h, z, o = self._write_read(*carry, *inputs)
            return (h, z), o

        xs = (k, v, q) if logd is None else (k, v, q, logd)
        _, o = jax.lax.scan(step, self._empty_memory(k), xs)
        return o

    def read_parallel(self, k, v, q, chunk: int, logd=None):
        """The same read-outs, chunk by chunk (see the module docstring); T a multiple of `chunk`."""
        if logd is not None:
            return self._read_parallel_gated(k, v, q, chunk, logd)
        t = k.shape[0]
        n_chunks = t // chunk
        lam = self.decay  # (h,)
        idx = jnp.arange(chunk, dtype=jnp.int32)
        rel = idx[:, None] - idx[None, :]  # t - s within a chunk
        causal = rel >= 0
        # within-chunk decay matrix D[h, t, s] = lam_h^(t - s) for s <= t
        logl = jnp.log(lam)[:, None, None]
        dmat = jnp.where(causal[None], jnp.exp(logl * jnp.maximum(rel, 0)[None].astype(logl.dtype)), 0.0)
        to_start = jnp.exp(
            jnp.log(lam)[:, None] * (idx[None, :] + 1).astype(lam.dtype)
        )  # lam^(t+1): decay of the carried H
        to_end = jnp.exp(
            jnp.log(lam)[:, None] * (chunk - 1 - idx[None, :]).astype(lam.dtype)
        )  # lam^(C-1-s): into the next H
        kc, vc, qc = (a.reshape(n_chunks, chunk, self.heads, -1).transpose(0, 2, 1, 3) for a in (k, v, q))
        # within each chunk, all chunks at once: o_t = sum_{s <= t in the chunk} lam^(t - s) (q_t . k_s) v_s
        scores = jnp.einsum("nhtd,nhsd->nhts", qc, kc) * dmat[None]
        o_in = jnp.einsum("nhts,nhsd->nhtd", scores, vc)
        # across chunks: the state carried into each chunk, by a scan over chunk summaries
        writes = jnp.einsum("hs,nhsi,nhsj->nhij", to_end, vc, kc)  # what chunk n adds to H at its end
        kz = jnp.einsum("hs,nhsj->nhj", to_end, kc)
        lam_c = lam**chunk

        def carry_in(carry, w):
            h, z = carry  # the state after the previous chunk
            return (lam_c[:, None, None] * h + w[0], lam_c[:, None] * z + w[1]), (h, z)

        _, (h_in, z_in) = jax.lax.scan(carry_in, self._empty_memory(k), (writes, kz))  # (n, h, dh, dh), (n, h, dh)
        o = o_in + to_start[None, :, :, None] * jnp.einsum("nhij,nhtj->nhti", h_in, qc)
        if self.normalise:
            zq = jnp.einsum("hts,nhsd,nhtd->nht", dmat, kc, qc) + to_start[None] * jnp.einsum("nhj,nhtj->nht", z_in, qc)
            o = o / (jnp.abs(zq)[..., None] + 1e-6)
        return o.transpose(0, 2, 1, 3).reshape(t, -1)

    def _read_parallel_gated(self, k, v, q, chunk, logd):
        """`read_parallel` with per-token decays: inside a chunk the write at s reaches t decayed by
        exp(c_t - c_s), c the cumulative log decay within the chunk; the carried state by exp(c_t)."""
        t = k.shape[0]
        n_chunks = t // chunk
        causal = jnp.arange(chunk)[:, None] >= jnp.arange(chunk)[None, :]
        cum = jnp.cumsum(logd.reshape(n_chunks, chunk, self.heads).transpose(0, 2, 1), axis=-1)  # (n, h, C)
        diff = cum[..., :, None] - cum[..., None, :]  # (n, h, t, s)
        dmat = jnp.where(causal, jnp.exp(jnp.where(causal, diff, 0.0)), 0.0)
        to_start, to_end, lam_c = jnp.exp(cum), jnp.exp(cum[..., -1:] - cum), jnp.exp(cum[..., -1])
        kc, vc, qc = (a.reshape(n_chunks, chunk, self.heads, -1).transpose(0, 2, 1, 3) for a in (k, v, q))
        o_in = jnp.einsum("nhts,nhsd->nhtd", jnp.einsum("nhtd,nhsd->nhts", qc, kc) * dmat, vc)
        writes = jnp.einsum("nhs,nhsi,nhsj->nhij", to_end, vc, kc)
        kz = jnp.einsum("nhs,nhsj->nhj", to_end, kc)

        def carry_in(carry, w):
            h, z = carry
            return (w[2][:, None, None] * h + w[0], w[2][:, None] * z + w[1]), (h, z)

        _, (h_in, z_in) = jax.lax.scan(carry_in, self._empty_memory(k), (writes, kz, lam_c))
        o = o_in + to_start[..., None] * jnp.einsum("nhij,nhtj->nhti", h_in, qc)
        if self.normalise:
            zq = jnp.einsum("nhts,nhsd,nhtd->nht", dmat, kc, qc) + to_start * jnp.einsum("nhj,nhtj->nht", z_in, qc)
            o = o / (jnp.abs(zq)[..., None] + 1e-6)
        return o.transpose(0, 2, 1, 3).reshape(t, -1)
