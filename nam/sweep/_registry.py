"""The models a capacity sweep can measure, each with its theory and its compute units, in one place.

Compute units (Kozachkov, Slotine & Krotov, Discussion): the physical elements that carry state.
- classical Hopfield: N neurons + N^2 synapses;
- neuron-astrocyte network (full, and the effective model it implements): N neurons + N^2 synapses +
  N^2 astrocyte processes;
- hidden-neuron DAM (Krotov & Hopfield 2021): N feature neurons + K hidden neurons (one per memory);
- abstract Dense Associative Memories (F = z^n, exponential): no physical implementation is implied by
  the energy alone, so no unit count (NaN); their quartic case is the effective neuron-astrocyte model,
  whose units are those of the network that implements it.
"""

import dataclasses
import math
from collections.abc import Callable

import jax.numpy as jnp

from .._lagrangians import LogCosh, RectifiedPower
from ..capacity._theory import double_factorial, fixed_point_capacity, no_error_capacity
from ..models._astrocyte_tensor import HebbianTensor
from ..models._dense import DenseAssociativeMemory
from ..models._hidden import HiddenNeuronDAM
from ..models._neuron_astrocyte import NeuronAstrocyte, NeuronAstrocyteEffective
from ..models._hopfield import ClassicalHopfield
from ..models._separation import ExponentialSeparation, Polynomial


@dataclasses.dataclass(frozen=True)
class SweepModel:
    """A sweepable model: `build(patterns, mask)` gives the model (binary: sign dynamics; continuous: a
    diffrax retrieval); `degree` the interaction order n of the signal-to-noise theory (None: no
    polynomial theory); `units(N, K)` its compute units."""

    name: str
    label: str
    build: Callable
    degree: int | None
    units: Callable[[int, float], float]
    max_n: int | None = None
    min_n: int = 4
    continuous: bool = False

    def theory_k(self, n: int) -> float:
        """The no-error load N^(n-1) / (2 (2n-3)!! ln N) (Krotov & Hopfield 2016), the search's start."""
        if self.degree is None:
            return float(n)
        return float(no_error_capacity(n, self.degree))

    def fixed_point_k(self, n: int) -> float:
        """The load where half the stored memories are exact one-step fixed points, (1 - P_err)^N = 1/2
        with the exact finite-N P_err of the binary rule of this degree: the theory for
        `criterion="fixed_point"` (for a continuous model, that of its binary counterpart)."""
        return float(fixed_point_capacity(n, self.degree)) if self.degree else math.nan

    def retrieval_theory(self, n: int) -> float:
        """A 50%-retrieval load scale for the collapse plot: K / N^(n-1) * (2n-3)!!."""
        return float(n) ** (self.degree - 1) / double_factorial(2 * self.degree - 3) if self.degree else math.nan


def _nan(n, k):
    return math.nan


def _hidden(xi, mask):
    """Rectified quartic hidden layer, F(z) = ReLU(z)^4 / 4 (model B); memories scaled by N^(-3/4) so the
    field is O(1); padding rows are zero memories, whose hidden neurons stay at 0 and pull nothing."""
    n = xi.shape[1]
    return HiddenNeuronDAM(jnp.where(mask[:, None], xi, 0.0) * n ** -0.75, LogCosh(5.0), RectifiedPower(4.0))


REGISTRY: dict[str, SweepModel] = {
    m.name: m for m in (
        SweepModel("hopfield", "classical Hopfield", lambda xi, mask: ClassicalHopfield(xi, mask=mask), 2,
                   lambda n, k: n + n * n),
        SweepModel("dam3", "DAM F=z^3", lambda xi, mask: DenseAssociativeMemory(xi, Polynomial(3), mask=mask), 3,
                   _nan),
        SweepModel("dam4", "DAM F=z^4 (effective neuron-astrocyte, binary)",
                   lambda xi, mask: DenseAssociativeMemory(xi, Polynomial(4), mask=mask), 4,
                   lambda n, k: n + 2 * n * n),
        SweepModel("dam_exp", "DAM F=exp", lambda xi, mask: DenseAssociativeMemory(xi, ExponentialSeparation(1.0),
                                                                                  mask=mask), None,
                   _nan, max_n=40),
        SweepModel("na_effective", "neuron-astrocyte, effective (continuous)",
                   lambda xi, mask: NeuronAstrocyteEffective(HebbianTensor(xi, mask=mask)), 4,
                   lambda n, k: n + 2 * n * n, continuous=True),
        SweepModel("na_full", "neuron-astrocyte, full (continuous)",
                   lambda xi, mask: NeuronAstrocyte(HebbianTensor(xi, mask=mask)), 4,
                   lambda n, k: n + 2 * n * n, max_n=32, continuous=True),
        SweepModel("hidden_dam", "hidden-neuron DAM (continuous)", _hidden, 4, lambda n, k: n + k,
                   continuous=True),
    )
}
