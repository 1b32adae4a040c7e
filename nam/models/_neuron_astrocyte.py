"""Neuron-astrocyte associative memory: Kozachkov, Slotine & Krotov, arXiv 2311.08135 (PNAS 2025)."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import (
    check_instance,
    check_memory,
    check_scalar,
    check_vector,
    float_bytes,
    optional_square,
    optional_vector,
)
from .._lagrangians import AbstractLagrangian, LogCosh, check_lagrangian
from ._astrocyte_tensor import AbstractAstrocyteTensor
from ._base import AbstractEnergyModel, AbstractSingleLayerModel


def _check_tensor(tensor):
    return check_instance(
        "tensor",
        tensor,
        AbstractAstrocyteTensor,
        "a nam.AbstractAstrocyteTensor (HebbianTensor, "
        "KroneckerTensor, DenseTensor, or a learned tensor of nam.learning)",
    )


class NeuronAstrocyteState(eqx.Module):
    """State of the full network: neurons x (N,), synapses s (N, N), astrocyte processes p (N, N).

    **Fields:** `x`: (N,) neurons; `s`: (N, N) synapses; `p`: (N, N) astrocyte processes.

    Also used to hold per-block quantities (time constants, gradient factors) as 0-d arrays.
    """

    x: Float[Array, "..."]
    s: Float[Array, "..."]
    p: Float[Array, "..."]


class NeuronAstrocyte(AbstractEnergyModel):
    """The full neuron-synapse-astrocyte network (eq. 6) with its energy (eqs. 13-14).

        tau_n dx_i/dt  = -lambda x_i + sum_j g_ij phi_j + b_i                 = -dE/dphi_i
        tau_s ds_ij/dt = -alpha s_ij + phi_i phi_j + psi_ij + c_ij            = -2 dE/dg_ij
        tau_p dp_ij/dt = -gamma p_ij + sum_kl T_ijkl psi_kl + g_ij + d_ij     = -2 dE/dpsi_ij

        E = lambda [x.phi - L_n] + alpha/2 [s.g - L_s] + gamma/2 [p.psi - L_p]
            - 1/2 sum g_ij phi_i phi_j - 1/2 sum psi_ij g_ij - 1/4 sum T_ijkl psi_ij psi_kl
            - b.phi - 1/2 c.g - 1/2 d.psi

    phi = dL_n/dx, g = dL_s/ds, psi = dL_p/dp (default tanh(5 z) for all three, the authors' tutorial).
    b, c, d are the neuron, synapse and astrocyte ("tone", neuromodulatory) inputs. T is an
    `AbstractAstrocyteTensor`; a Hebbian T is contracted through its patterns, never built.
    E decreases along trajectories for convex Lagrangians (Appendix B); fixed points do not depend on
    the time constants.

    Compute units: N neurons + N^2 synapses + N^2 processes.

    **Arguments:**

    - `tensor`: the astrocyte tensor T, a `nam.AbstractAstrocyteTensor` (e.g. `nam.HebbianTensor(xi)`).
    - `neuron_lagrangian`, `synapse_lagrangian`, `process_lagrangian`: L_n, L_s, L_p (default
      `LogCosh(5.0)` each).
    - `lam`, `alpha`, `gamma`: the leaks of neurons, synapses and processes (default 1, the tutorial's).
    - `tau_n`, `tau_s`, `tau_p`: the time constants, > 0.
    - `b`: (N,) neuron input; `c`, `d`: (N, N) synapse and process inputs; None for zero.
    """

    tensor: AbstractAstrocyteTensor
    neuron_lagrangian: AbstractLagrangian
    synapse_lagrangian: AbstractLagrangian
    process_lagrangian: AbstractLagrangian
    lam: Float[Array, ""]
    alpha: Float[Array, ""]
    gamma: Float[Array, ""]
    tau_n: Float[Array, ""]
    tau_s: Float[Array, ""]
    tau_p: Float[Array, ""]
    b: Float[Array, " n"]
    c: Float[Array, "n n"]
    d: Float[Array, "n n"]

    def __init__(
        self,
        tensor,
        neuron_lagrangian=None,
        synapse_lagrangian=None,
        process_lagrangian=None,
        *,
        lam=1.0,
        alpha=1.0,
        gamma=1.0,
        tau_n=1.0,
        tau_s=1.0,
        tau_p=1.0,
        b=None,
        c=None,
        d=None,
    ):
        self.tensor = _check_tensor(tensor)
        n = tensor.n
        # c and d (N x N each) are allocated here; a retrieval then carries s and p (N x N each) too
        check_memory("`tensor` (its N)", float_bytes(2.0 * n * n), f"the {n} x {n} inputs c and d")
        self.neuron_lagrangian = check_lagrangian("neuron_lagrangian", neuron_lagrangian, LogCosh(5.0))
        self.synapse_lagrangian = check_lagrangian("synapse_lagrangian", synapse_lagrangian, LogCosh(5.0))
        self.process_lagrangian = check_lagrangian("process_lagrangian", process_lagrangian, LogCosh(5.0))
        self.lam = check_scalar("lam", lam, nonnegative=True)
        self.alpha = check_scalar("alpha", alpha, nonnegative=True)
        self.gamma = check_scalar("gamma", gamma, nonnegative=True)
        self.tau_n = check_scalar("tau_n", tau_n, positive=True)
        self.tau_s = check_scalar("tau_s", tau_s, positive=True)
        self.tau_p = check_scalar("tau_p", tau_p, positive=True)
        self.b = optional_vector("b", b, n)
        self.c = optional_square("c", c, n)
        self.d = optional_square("d", d, n)

    @property
    def n(self) -> int:
        return self.tensor.n

    def activations(self, state):
        return NeuronAstrocyteState(
            self.neuron_lagrangian.activation(state.x),
            self.synapse_lagrangian.activation(state.s),
            self.process_lagrangian.activation(state.p),
        )

    def energy(self, state):
        a = self.activations(state)
        phi, g, psi = a.x, a.s, a.p
        legendre = (
            self.lam * self.neuron_lagrangian.legendre(state.x)
            + 0.5 * self.alpha * self.synapse_lagrangian.legendre(state.s)
            + 0.5 * self.gamma * self.process_lagrangian.legendre(state.p)
        )
        interaction = 0.5 * jnp.dot(phi, g @ phi) + 0.5 * jnp.sum(psi * g) + 0.25 * self.tensor.quadratic(psi)
        inputs = jnp.dot(self.b, phi) + 0.5 * jnp.sum(self.c * g) + 0.5 * jnp.sum(self.d * psi)
        return legendre - interaction - inputs

    def drive(self, state):
        a = self.activations(state)
        phi, g, psi = a.x, a.s, a.p
        return NeuronAstrocyteState(
            -self.lam * state.x + g @ phi + self.b,
            -self.alpha * state.s + jnp.outer(phi, phi) + psi + self.c,
            -self.gamma * state.p + self.tensor.contract(psi) + g + self.d,
        )

    def time_constants(self):
        return NeuronAstrocyteState(self.tau_n, self.tau_s, self.tau_p)

    def init_state(self, cue):
        """Appendix D: neurons clamped at the cue, synapses and processes at the algebraic fixed point
        of their equations without leak, as in the authors' tutorial:

            psi(p0) = -(phi phi^T + c),        g(s0) = -(sum_kl T_ijkl psi_kl + d),

        unique because g and psi are invertible (needs `inverse_activation` on the synapse and process
        Lagrangians). With alpha = gamma = 0 this is the exact clamped fixed point; with leaks it is the
        fast-glia one (`nam.settle` relaxes to the leaky one instead).
        """
        x = check_vector("cue", cue, self.n)
        phi = self.neuron_lagrangian.activation(x)
        psi0 = -(jnp.outer(phi, phi) + self.c)
        g0 = -(self.tensor.contract(psi0) + self.d)
        try:
            p0 = self.process_lagrangian.inverse_activation(psi0)
            s0 = self.synapse_lagrangian.inverse_activation(g0)
        except NotImplementedError as e:
            raise ValueError(
                "`init_state` needs elementwise invertible synapse and process activations "
                f"({e}); pass `state0` to `nam.retrieve` instead"
            ) from e
        return NeuronAstrocyteState(x, s0, p0)

    def neuron_activation(self, state):
        return self.neuron_lagrangian.activation(state.x)

    def clamped_vector_field(self, state):
        vf = self.vector_field(state)
        return NeuronAstrocyteState(jnp.zeros_like(vf.x), vf.s, vf.p)

    def effective(self) -> "NeuronAstrocyteEffective":
        """The fast-glia reduction (eqs. 7-9) with this T, neuron Lagrangian, tau_n and b.

        Its fixed points are this model's projected on x when alpha = gamma = 0, lambda = 1, c = d = 0.
        """
        return NeuronAstrocyteEffective(self.tensor, self.neuron_lagrangian, tau=self.tau_n, b=self.b)


class NeuronAstrocyteEffective(AbstractSingleLayerModel):
    """The effective neuron-only model of the fast-glia limit (eqs. 7-11; alpha = gamma = 0, lambda = 1).

        tau_n dx_i/dt = -x_i + sum_jkl T_ijkl phi_j phi_k phi_l + b_i
        E_eff = [x.phi - L_n] - 1/4 sum_ijkl T_ijkl phi_i phi_j phi_k phi_l - b.phi

    For the Hebbian T of eq. 10 this is a quartic Dense Associative Memory, E = ... - sum_mu F(xi_mu.phi)
    with F(z) = scale * z^4 / 4 (eq. 11).

    **Arguments:**

    - `tensor`: the astrocyte tensor T, a `nam.AbstractAstrocyteTensor`.
    - `lagrangian`: the neurons' L_n (default `LogCosh(5.0)`).
    - `tau`: the time constant, > 0; `b`: (N,) input or None (zero).
    """

    tensor: AbstractAstrocyteTensor
    lagrangian: AbstractLagrangian
    tau: Float[Array, ""]
    b: Float[Array, " n"]

    def __init__(self, tensor, lagrangian=None, *, tau=1.0, b=None):
        self.tensor = _check_tensor(tensor)
        self.lagrangian = check_lagrangian("lagrangian", lagrangian, LogCosh(5.0))
        self.tau = check_scalar("tau", tau, positive=True)
        self.b = optional_vector("b", b, tensor.n)

    def interaction_energy(self, g):
        """U(phi) = -1/4 sum_ijkl T_ijkl phi_i phi_j phi_k phi_l."""
        return -0.25 * self.tensor.quartic(g)

    def interaction_field(self, g):
        """-dU/dphi = sum_jkl T_ijkl phi_j phi_k phi_l (eq. 8; T has the symmetries of eq. 6)."""
        return self.tensor.cubic_field(g)
