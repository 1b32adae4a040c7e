"""Dense Associative Memory with hidden (memory) neurons: Krotov & Hopfield, ICLR 2021, eqs. 1-4."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_patterns, check_scalar, check_vector, optional_vector
from .._lagrangians import AbstractLagrangian, LogCosh, LogSumExp, check_lagrangian
from ._base import AbstractEnergyModel


class HiddenState(eqx.Module):
    """State of `HiddenNeuronDAM`: feature neurons v (N,) and hidden memory neurons h (K,).

    **Fields:** `v`: (N,) feature neurons; `h`: (K,) hidden neurons.

    Also used to hold per-block quantities (time constants, gradient factors) as 0-d arrays.
    """

    v: Float[Array, "..."]
    h: Float[Array, "..."]


class HiddenNeuronDAM(AbstractEnergyModel):
    """The two-layer "biological implementation" of Dense Associative Memory (Krotov & Hopfield 2021).

        E = [sum_i (v_i - I_i) g_i - L_v(v)] + [sum_mu h_mu f_mu - L_h(h)] - sum_mu,i f_mu xi_mu,i g_i   (eq. 2)
        tau_f dv/dt = Xi^T f - v + I,        tau_h dh/dt = Xi g - h                                    (eq. 1)

    with g = dL_v/dv, f = dL_h/dh. Hidden Lagrangian `LogSumExp(beta)` gives the modern Hopfield
    network (model C); `RectifiedPower(n)` gives F(z) = ReLU(z)^n / n (model B; scale the memories,
    e.g. by N^(-(n-1)/n), to keep the field O(1)). Memories may be real-valued.

    Compute units: N feature neurons + K hidden neurons.

    **Arguments:**

    - `patterns`: (K, N) memories (real-valued allowed).
    - `feature_lagrangian`: L_v of the N feature neurons (default `LogCosh(5.0)`).
    - `hidden_lagrangian`: L_h of the K hidden neurons (default `LogSumExp(1.0)`, model C).
    - `tau_f`, `tau_h`: the time constants of the two layers, > 0 (defaults 1 and 0.1).
    - `inputs`: (N,) input currents I, or None (zero).
    """

    patterns: Float[Array, "k n"]
    feature_lagrangian: AbstractLagrangian
    hidden_lagrangian: AbstractLagrangian
    tau_f: Float[Array, ""]
    tau_h: Float[Array, ""]
    inputs: Float[Array, " n"]

    def __init__(
        self,
        patterns,
        feature_lagrangian: AbstractLagrangian | None = None,
        hidden_lagrangian: AbstractLagrangian | None = None,
        *,
        tau_f=1.0,
        tau_h=0.1,
        inputs=None,
    ):
        self.patterns = check_patterns("patterns", patterns, binary=False)
        n = self.patterns.shape[1]
        self.feature_lagrangian = check_lagrangian("feature_lagrangian", feature_lagrangian, LogCosh(5.0))
        self.hidden_lagrangian = check_lagrangian("hidden_lagrangian", hidden_lagrangian, LogSumExp(1.0))
        self.tau_f = check_scalar("tau_f", tau_f, positive=True)
        self.tau_h = check_scalar("tau_h", tau_h, positive=True)
        self.inputs = optional_vector("inputs", inputs, n)

    @property
    def n(self) -> int:
        return self.patterns.shape[1]

    def energy(self, state):
        g = self.feature_lagrangian.activation(state.v)
        f = self.hidden_lagrangian.activation(state.h)
        return (
            self.feature_lagrangian.legendre(state.v)
            - jnp.dot(self.inputs, g)
            + self.hidden_lagrangian.legendre(state.h)
            - jnp.dot(f, self.patterns @ g)
        )

    def activations(self, state):
        return HiddenState(self.feature_lagrangian.activation(state.v), self.hidden_lagrangian.activation(state.h))

    def drive(self, state):
        g = self.feature_lagrangian.activation(state.v)
        f = self.hidden_lagrangian.activation(state.h)
        return HiddenState(self.patterns.T @ f - state.v + self.inputs, self.patterns @ g - state.h)

    def time_constants(self):
        return HiddenState(self.tau_f, self.tau_h)

    def init_state(self, cue):
        """Features at the cue, hidden neurons at their fixed point given them (h = Xi g(v))."""
        v = check_vector("cue", cue, self.n)
        return HiddenState(v, self.patterns @ self.feature_lagrangian.activation(v))

    def neuron_activation(self, state):
        return self.feature_lagrangian.activation(state.v)

    def clamped_vector_field(self, state):
        """Features held fixed, hidden neurons relaxing to h = Xi g(v) (what `init_state` gives at once)."""
        return HiddenState(jnp.zeros_like(state.v), self.vector_field(state).h)
