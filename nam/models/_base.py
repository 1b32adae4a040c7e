"""Abstract interfaces shared by every energy model.

Continuous models follow the Lagrangian formalism (Krotov & Hopfield 2021; Kozachkov et al. eq. 6):
every state block y has an activation a = dL/dy, a time constant tau and a factor c (1 for neurons,
2 for the symmetric synapse and process matrices), and

    tau dy/dt = drive(y) = -c dE/da,

the gradient of the energy with respect to the activations, not the states. For additive
Lagrangians this is tau dy/dt = -c (dE/dy) / L''(y) elementwise, and dE/dt <= 0 along trajectories
(Kozachkov et al. Appendix B). Every `drive` is written in closed form and tested against `jax.grad`
of the energy (tests/test_energy_models.py).

The classes follow equinox's abstract/final pattern: `Abstract*` classes declare what a model must
provide and implement the rest once, concrete models are final, and no concrete method is overridden.
"""

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from .._checks import check_vector
from .._lagrangians import AbstractLagrangian


class AbstractEnergyModel(eqx.Module):
    """A continuous energy model: `energy` first, and a closed-form `drive` that equals -c times its
    gradient with respect to the activations (tested against `jax.grad` of `energy`)."""

    @abc.abstractmethod
    def energy(self, state: PyTree[Array]) -> Float[Array, ""]:
        """The energy E(state), a scalar."""

    @abc.abstractmethod
    def activations(self, state: PyTree[Array]) -> PyTree[Array]:
        """The activations of every block (same structure as `state`)."""

    @abc.abstractmethod
    def drive(self, state: PyTree[Array]) -> PyTree[Array]:
        """tau * d(state)/dt = -c dE/d(activations), per block (same structure as `state`)."""

    @abc.abstractmethod
    def time_constants(self) -> PyTree[Array]:
        """tau per block (same structure as `state`, 0-d arrays)."""

    @abc.abstractmethod
    def init_state(self, cue: Float[Array, " n"]) -> PyTree[Array]:
        """The initial state with the neurons at `cue` and the other blocks at a closed-form value."""

    @abc.abstractmethod
    def neuron_activation(self, state: PyTree[Array]) -> Float[Array, " n"]:
        """The activations of the N visible neurons, read out as the retrieved pattern."""

    @abc.abstractmethod
    def clamped_vector_field(self, state: PyTree[Array]) -> PyTree[Array]:
        """The vector field with the neurons held fixed (zero on the neuron block), which `nam.settle`
        relaxes to the clamped fixed point of the other blocks (Kozachkov et al. Appendix D)."""

    @property
    @abc.abstractmethod
    def n(self) -> int:
        """The number of visible neurons N."""

    def vector_field(self, state: PyTree[Array]) -> PyTree[Array]:
        """d(state)/dt = drive / tau."""
        return jax.tree.map(lambda d, tau: d / tau, self.drive(state), self.time_constants())

    def readout(self, state: PyTree[Array]) -> Float[Array, " n"]:
        """The retrieved +-1 pattern: sign of the neuron activations (0 reads as +1); a NaN or inf
        activation reads as 0, which matches no pattern."""
        a = self.neuron_activation(state)
        return jnp.where(jnp.isfinite(a), jnp.where(a >= 0, 1.0, -1.0), 0.0)


class AbstractSingleLayerModel(AbstractEnergyModel):
    """One layer of N neurons x with activation g = dL/dx, a time constant tau and an input current b
    (the Lagrangian form of Krotov & Hopfield 2021, eqs. 1-2, with the hidden layer integrated out):

        E(x) = [x.g - L(x)] + U(g) - b.g,        tau dx/dt = -x - dU/dg + b = -dE/dg.

    The Legendre term x.g - L(x) has gradient x with respect to g, so the drive is -x plus the
    interaction field -dU/dg plus b. A subclass holds the fields `lagrangian`, `tau` and `b` (N,) and
    writes only its interaction energy U(g) (`interaction_energy`) and the closed form of -dU/dg
    (`interaction_field`); everything else is implemented here, once. `interaction_field` is tested
    against `-jax.grad(interaction_energy)` for every model (tests/test_energy_models.py).
    """

    lagrangian: eqx.AbstractVar[AbstractLagrangian]
    tau: eqx.AbstractVar[Float[Array, ""]]
    b: eqx.AbstractVar[Float[Array, " n"]]

    @abc.abstractmethod
    def interaction_energy(self, g: Float[Array, " n"]) -> Float[Array, ""]:
        """U(g): the energy apart from the Legendre term and the input -b.g, a scalar."""

    @abc.abstractmethod
    def interaction_field(self, g: Float[Array, " n"]) -> Float[Array, " n"]:
        """-dU/dg in closed form, shape (N,)."""

    @property
    def n(self) -> int:
        """The number of neurons N (the length of `b`)."""
        return self.b.shape[-1]

    def energy(self, state: Float[Array, " n"]) -> Float[Array, ""]:
        """E(x) = [x.g - L(x)] + U(g) - b.g."""
        g = self.lagrangian.activation(state)
        return self.lagrangian.legendre(state) + self.interaction_energy(g) - jnp.dot(self.b, g)

    def activations(self, state: Float[Array, " n"]) -> Float[Array, " n"]:
        """g = dL/dx."""
        return self.lagrangian.activation(state)

    def drive(self, state: Float[Array, " n"]) -> Float[Array, " n"]:
        """tau dx/dt = -x - dU/dg + b = -dE/dg."""
        return -state + self.interaction_field(self.lagrangian.activation(state)) + self.b

    def time_constants(self) -> Float[Array, ""]:
        return self.tau

    def init_state(self, cue: Float[Array, " n"]) -> Float[Array, " n"]:
        """The neurons at the cue (there is no other block)."""
        return check_vector("cue", cue, self.n)

    def neuron_activation(self, state: Float[Array, " n"]) -> Float[Array, " n"]:
        return self.lagrangian.activation(state)

    def clamped_vector_field(self, state: Float[Array, " n"]) -> Float[Array, " n"]:
        """Zero: with the neurons clamped nothing moves (`nam.settle` returns the state unchanged)."""
        return jnp.zeros_like(state)


class AbstractBinaryModel(eqx.Module):
    """A model of +-1 spins updated by the flip-difference rule, through the K overlaps m = Xi sigma."""

    patterns: eqx.AbstractVar[Float[Array, "k n"]]

    @abc.abstractmethod
    def binary_energy(self, sigma: Float[Array, " n"]) -> Float[Array, ""]:
        """The energy of a +-1 state."""

    @abc.abstractmethod
    def propose(self, m: Float[Array, " k"], sigma: Float[Array, " n"], i: Any) -> Float[Array, ""]:
        """The new value (+-1) of spin i given overlaps m = Xi sigma; ties keep sigma_i."""

    def overlaps(self, sigma: Float[Array, " n"]) -> Float[Array, " k"]:
        return self.patterns @ sigma
