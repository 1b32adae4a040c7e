"""The neuron-astrocyte network in its attention limit (Kozachkov, Slotine & Krotov, Appendix C; Kozachkov,
Kastanenka & Krotov, PNAS 2023): N neurons x, N x M synapses s and N x M astrocyte processes p, with
T_ijkl = 1, psi(p) = p, gamma = N M, kappa = 0, d = 0:

    tau_n x_i'  = -x_i + r sum_j s_ij I_j + (1 - r) v_i
    tau_s s_ij' = -p_ij s_ij + c_ij
    tau_p p_ij' = -N M p_ij + sum_kl p_kl

The processes conserve their total calcium and synchronise to p* = (1/NM) sum_kl p_kl(0); then s* = c / p*
and, in read mode (r = 1), x*_i = N M sum_j c_ij I_j / sum_kl p_kl(0) (eq. 25).

This is a special case of the general model (eqs. 1, 3, 4), not of the energy model (eq. 6): the blocks form
a cascade p -> s -> x with no feedback, so there is no joint energy. Each block is the gradient flow of
its own energy with the upstream blocks held fixed (`AttentionNetwork.block_energies`), which is what the
tests check; `nam.retrieve` (which needs one energy for the whole state) does not apply, and
`solve_network` integrates the network with the same diffrax machinery, `SolverConfig` and `Status` codes.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import as_float_array, check_finite, check_instance, check_nonnegative, check_scalar
from ..dynamics import SolverConfig
from ..dynamics._retrieve import _solve


class AttentionState(eqx.Module):
    """State of the network: neurons x (N,), synapses s (N, M), processes p (N, M). Also holds per-block
    quantities (time constants, block energies) as 0-d arrays."""

    x: Float[Array, "..."]
    s: Float[Array, "..."]
    p: Float[Array, "..."]


class AttentionNetwork(eqx.Module):
    """The attention limit of the neuron-astrocyte network (Kozachkov, Slotine & Krotov, Appendix C, eqs.
    22-25; module docstring). One query (read) or one token (write); vmap over queries.

    **Arguments:**

    - `c`: (N, M) synaptic input, the Hebbian trace of the written tokens (`hebbian_write`).
    - `inputs`: (M,) input currents I_j: the query's features in read mode, a key's in write mode.
    - `values`: (N,) the value token v (drives the neurons in write mode); zeros by default.
    - `read`: the read/write flag r (1 read, 0 write; values in between are allowed by the equations).
    - `tau_n`, `tau_s`, `tau_p`: time constants (the fixed point does not depend on them).
    """

    c: Float[Array, "n m"]
    inputs: Float[Array, " m"]
    values: Float[Array, " n"]
    read: Float[Array, ""]
    tau_n: Float[Array, ""]
    tau_s: Float[Array, ""]
    tau_p: Float[Array, ""]

    def __init__(self, c, inputs, values=None, *, read=1.0, tau_n=1.0, tau_s=1.0, tau_p=1.0):
        self.c = as_float_array("c", c, ndim=2)
        n, m = self.c.shape
        self.inputs = as_float_array("inputs", inputs, ndim=1)
        if self.inputs.shape != (m,):
            raise ValueError(
                f"`inputs` must have shape ({m},) (one current per column of `c`), got {self.inputs.shape}"
            )
        if values is None:
            values = jnp.zeros((n,), self.c.dtype)
        self.values = as_float_array("values", values, ndim=1)
        if self.values.shape != (n,):
            raise ValueError(f"`values` must have shape ({n},) (one per row of `c`), got {self.values.shape}")
        for name, x in (("c", self.c), ("inputs", self.inputs), ("values", self.values)):
            check_finite(name, x)
        self.read = check_scalar("read", read)
        self.tau_n = check_scalar("tau_n", tau_n, positive=True)
        self.tau_s = check_scalar("tau_s", tau_s, positive=True)
        self.tau_p = check_scalar("tau_p", tau_p, positive=True)

    @property
    def n(self) -> int:
        """N, the neurons (rows of c)."""
        return self.c.shape[0]

    @property
    def m(self) -> int:
        """M, the input currents (columns of c)."""
        return self.c.shape[1]

    def gamma(self) -> Float[Array, ""]:
        """gamma = N M, the process leak that makes total calcium a conserved quantity."""
        return jnp.asarray(self.n * self.m, self.c.dtype)

    def drive(self, state: AttentionState) -> AttentionState:
        """tau * d(state)/dt per block (eqs. 22-24 with T = 1, psi = p, gamma = N M)."""
        r = self.read
        field = r * (state.s @ self.inputs) + (1.0 - r) * self.values
        return AttentionState(-state.x + field, -state.p * state.s + self.c, -self.gamma() * state.p + jnp.sum(state.p))

    def vector_field(self, state: AttentionState) -> AttentionState:
        """d(state)/dt = drive / tau."""
        return jax.tree.map(lambda d, tau: d / tau, self.drive(state), self.time_constants())

    def time_constants(self) -> AttentionState:
        return AttentionState(self.tau_n, self.tau_s, self.tau_p)

    def block_energies(self, state: AttentionState) -> AttentionState:
        """Per block, the energy whose negative gradient with respect to that block (the others held fixed)
        is its drive:

            E_x = |x|^2 / 2 - x . (r s I + (1 - r) v),
            E_s = sum_ij (p_ij s_ij^2 / 2 - c_ij s_ij),
            E_p = (N M / 2) |p|^2 - (sum_ij p_ij)^2 / 2   (eq. 13's process terms with T = 1, psi = p).

        E_p is the energy of the processes on their own (they receive no input); E_s and E_x are
        conditional on the upstream blocks, since the cascade has no joint energy."""
        r = self.read
        field = r * (state.s @ self.inputs) + (1.0 - r) * self.values
        e_x = 0.5 * jnp.sum(state.x**2) - jnp.dot(state.x, field)
        e_s = jnp.sum(0.5 * state.p * state.s**2 - self.c * state.s)
        e_p = 0.5 * self.gamma() * jnp.sum(state.p**2) - 0.5 * jnp.sum(state.p) ** 2
        return AttentionState(e_x, e_s, e_p)

    def calcium(self, state: AttentionState) -> Float[Array, ""]:
        """Total calcium sum_ij p_ij, conserved by the process dynamics."""
        return jnp.sum(state.p)

    def desynchrony(self, state: AttentionState) -> Float[Array, ""]:
        """L = sum_ij (p_ij - p*)^2 with p* the mean of p; L(t) = L(0) exp(-2 N M t / tau_p)."""
        return jnp.sum((state.p - jnp.mean(state.p)) ** 2)

    def fixed_point(self, p0: Float[Array, "n m"]) -> AttentionState:
        """The closed-form fixed point from initial processes p0: p* = (1/NM) sum p0 (every process),
        s* = c / p*, x* = r s* I + (1 - r) v; in read mode x*_i = N M sum_j c_ij I_j / sum_kl p0_kl (eq. 25).
        Needs sum p0 != 0 (positive for the attention read, whose p0 >= 0)."""
        p0 = as_float_array("p0", p0, ndim=2)
        if p0.shape != self.c.shape:
            raise ValueError(f"`p0` must have the shape of `c` {self.c.shape}, got {p0.shape}")
        p_star = jnp.mean(p0)
        s = self.c / p_star
        x = self.read * (s @ self.inputs) + (1.0 - self.read) * self.values
        return AttentionState(x, s, jnp.full_like(p0, p_star))

    def init_state(
        self, p0: Float[Array, "n m"], x0: Float[Array, " n"] | None = None, s0: Float[Array, "n m"] | None = None
    ) -> AttentionState:
        """The state (x0, s0, p0); x0 and s0 default to zeros."""
        p0 = as_float_array("p0", p0, ndim=2)
        if p0.shape != self.c.shape:
            raise ValueError(f"`p0` must have the shape of `c` {self.c.shape}, got {p0.shape}")
        x0 = jnp.zeros((self.n,), p0.dtype) if x0 is None else as_float_array("x0", x0, ndim=1)
        s0 = jnp.zeros_like(p0) if s0 is None else as_float_array("s0", s0, ndim=2)
        if x0.shape != (self.n,) or s0.shape != p0.shape:
            raise ValueError(
                f"`x0` must have shape ({self.n},) and `s0` shape {p0.shape}, got {x0.shape} and {s0.shape}"
            )
        return AttentionState(x0, s0, p0)


def hebbian_write(
    values: Float[Array, "s n"], key_features: Float[Array, "s m"], mask: Float[Array, " s"] | None = None
) -> Float[Array, "n m"]:
    """The Hebbian write of Appendix C: c_ij = (1/M) sum_beta V_beta,i K~_beta,j, the outer products of the
    write-mode fixed points x* = V_beta (r = 0) with the write inputs I = K~_beta, summed over the tokens
    (weighted by `mask`, e.g. 1 for s <= t in a causal read at t)."""
    v = as_float_array("values", values, ndim=2)
    kf = as_float_array("key_features", key_features, ndim=2)
    check_finite("values", v)
    check_finite("key_features", kf)
    check_nonnegative("key_features", kf)
    if v.shape[0] != kf.shape[0]:
        raise ValueError(f"`values` and `key_features` must hold the same tokens, got {v.shape} and {kf.shape}")
    if mask is not None:
        mask = as_float_array("mask", mask, ndim=1)
        check_finite("mask", mask)
        if mask.shape != (v.shape[0],):
            raise ValueError(f"`mask` must have shape ({v.shape[0]},), got {mask.shape}")
        kf = kf * mask[:, None]
    return v.T @ kf / kf.shape[1]


def read_init(
    query_features: Float[Array, " m"],
    key_features: Float[Array, "s m"],
    n: int,
    mask: Float[Array, " s"] | None = None,
) -> Float[Array, "n m"]:
    """The read initialisation of Appendix C: p_ij(0) = Q~_j sum_sigma K~_sigma,j (the same for every
    neuron i), so that sum_ij p_ij(0) = N Q~ . sum_sigma K~_sigma, the normaliser of linear attention."""
    qf = as_float_array("query_features", query_features, ndim=1)
    kf = as_float_array("key_features", key_features, ndim=2)
    check_finite("query_features", qf)
    check_finite("key_features", kf)
    check_nonnegative("query_features", qf)
    check_nonnegative("key_features", kf)
    if kf.shape[1] != qf.shape[0]:
        raise ValueError(f"`key_features` must have {qf.shape[0]} columns like `query_features`, got {kf.shape}")
    if mask is not None:
        mask = as_float_array("mask", mask, ndim=1)
        check_finite("mask", mask)
        kf = kf * mask[:, None]
    return jnp.broadcast_to((qf * jnp.sum(kf, axis=0))[None, :], (n, qf.shape[0]))


class NetworkSolution(eqx.Module):
    """Result of `solve_network`: the final `state`, the time reached `t_final`, the accepted steps
    `num_steps` and a `nam.Status` code `status` (CONVERGED when the steady-state test of the config held)."""

    state: AttentionState
    t_final: Float[Array, ""]
    num_steps: Int[Array, ""]
    status: Int[Array, ""]


def solve_network(
    network: AttentionNetwork, state0: AttentionState, config: SolverConfig | None = None
) -> NetworkSolution:
    """Integrate the network from `state0` with diffrax (the solver, tolerances, steady-state stop and status
    codes of `nam.SolverConfig`, default Tsit5 to a steady state). Single sample, vmap-able, differentiable
    (through the solver's steps). Use this, not `nam.retrieve`: the network has no joint energy (module
    docstring)."""
    check_instance("network", network, AttentionNetwork)
    check_instance("state0", state0, AttentionState)
    config = SolverConfig() if config is None else check_instance("config", config, SolverConfig)
    if state0.x.shape != (network.n,) or state0.s.shape != network.c.shape or state0.p.shape != network.c.shape:
        raise ValueError(
            f"`state0` must have x ({network.n},), s and p {network.c.shape}, got "
            f"{state0.x.shape}, {state0.s.shape}, {state0.p.shape}"
        )
    return _solve_network(network, state0, config)


@eqx.filter_jit
def _solve_network(network, state0, config):
    y1, t_final, num_steps, status, _, _ = _solve(
        network.vector_field, network.time_constants(), None, state0, config, None
    )
    return NetworkSolution(y1, t_final, num_steps, status)
