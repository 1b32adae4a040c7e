"""Abstract interfaces shared by every energy model.

Continuous models follow the Lagrangian formalism (Krotov & Hopfield 2021; Kozachkov et al. eq. 6):
every state block y has an activation a = dL/dy, a time constant tau and a factor c (1 for neurons,
2 for the symmetric synapse and process matrices), and

    tau dy/dt = drive(y) = -c dE/da,

the gradient of the energy with respect to the activations, not the states. For additive
Lagrangians this is tau dy/dt = -c (dE/dy) / L''(y) elementwise, and dE/dt <= 0 along trajectories
(Kozachkov et al. Appendix B).
"""

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


class AbstractEnergyModel(eqx.Module):
    """A continuous energy model: `energy` first, the vector field derived from it."""

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
    def gradient_factors(self) -> PyTree[Array]:
        """c per block: drive = -c dE/d(activations) (1 for vectors, 2 for symmetric matrices)."""

    @abc.abstractmethod
    def init_state(self, cue: Float[Array, " n"]) -> PyTree[Array]:
        """The initial state with the neurons at `cue` and the other blocks at a closed-form value."""

    @abc.abstractmethod
    def neuron_activation(self, state: PyTree[Array]) -> Float[Array, " n"]:
        """The activations of the N visible neurons, read out as the retrieved pattern."""

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

    def clamped_vector_field(self, state: PyTree[Array]) -> PyTree[Array]:
        """The vector field with the neurons held fixed (used for Appendix D initialisation)."""
        raise NotImplementedError(f"{type(self).__name__} has no blocks to settle")


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
