"""The models a capacity sweep can measure, each with its theory and its compute units, in one place.

Adding a sweep model means adding one `SweepModel` to `REGISTRY`: a binary model names its
flip-difference rule (`kind="binary"`, a polynomial degree or the exponential), a continuous one
gives `build(patterns, mask)` returning a `nam.AbstractEnergyModel` and the Runge-Kutta step its sweep
uses (checked against a tight Tsit5 solve in tests/test_sweep_engine.py).

Compute units (Kozachkov, Slotine & Krotov, Discussion): the physical elements that carry state.
- classical Hopfield: N neurons + N^2 synapses;
- neuron-astrocyte network (full, and the effective model it implements): N neurons + N^2 synapses +
  N^2 astrocyte processes;
- hidden-neuron DAM (Krotov & Hopfield 2021): N feature neurons + K hidden neurons (one per memory);
- abstract Dense Associative Memories (F = z^n, exponential): no physical implementation is implied by
  the energy alone, so no unit count (NaN); their quartic case is the effective neuron-astrocyte model,
  whose units are those of the network that implements it.

Theory per model (`theory_k`, the "theory" column of the summary; `asymptotic` the large-N exponent):
- binary F = z^n and the hidden-neuron DAM: the no-error load N^(n-1) / (2 (2n-3)!! ln N) of Krotov &
  Hopfield 2016, asymptotic exponent n - 1 (N^3 / (30 ln N) for the quartic);
- the continuous neuron-astrocyte models with the tensor on distinct indices (no self-coupling): the
  quartic no-error load of that tensor, N^3 / (12 ln N) (its crosstalk lacks the repeated-index terms
  the binary rule keeps, so S = C(N-1, 3) / (K - 1); `nam.capacity.no_error_capacity(...,
  distinct_indices=True)`), asymptotic exponent 3;
- the continuous neuron-astrocyte models with the tensor of eq. 10 as printed (repeated indices
  included): the self-coupling of every neuron, ~3 scale K N <phi^2> phi_i, pins wrong bits once
  K ~ N^2, so K* ~ c N^2 (`nam.capacity.self_coupling_capacity`), asymptotic exponent 2;
- the exponential DAM: K* grows as exp(alpha N) (Demircigil et al. 2017); it gets an exponential fit.
"""

import dataclasses
import math
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from .._checks import check_bool, check_callable, check_choice, check_instance
from .._lagrangians import LogCosh, RectifiedPower
from ..capacity._self_coupling import self_coupling_capacity
from ..capacity._theory import fixed_point_capacity, no_error_capacity
from ..models._astrocyte_tensor import HebbianTensor
from ..models._hidden import HiddenNeuronDAM
from ..models._neuron_astrocyte import NeuronAstrocyte, NeuronAstrocyteEffective


@dataclasses.dataclass(frozen=True)
class SweepModel:
    """A sweepable model: everything model-specific the sweep uses, in one entry (`register_sweep_model`).

    **Fields:**

    - `kind`: "binary" (asynchronous flip-difference sign dynamics in the sweep's integer kernel) or
      "continuous" (`build(patterns, mask)` -> an energy model, integrated by the fixed-step Runge-Kutta
      `method` with step `dt` for at most `max_steps` steps, stopping at its steady state).
    - `degree`: the interaction order n of F = z^n (binary) or of the signal-to-noise theory; None for
      the exponential DAM (`beta` is its F = exp(beta z)).
    - `units(N, K)`: compute units; `asymptotic`: the large-N exponent of K*(N) (NaN: not a power law).
    - `theory(N, rho)`: the theory K* (the summary's "theory" column and the search's first guess).
    - `theory_curve(N, rho)`: the theory as a smooth curve of a real N, for figures (None: `theory` itself,
      which is smooth in N for every theory but the eq. 10 self-coupling, whose integer flip count
      round(rho N) makes it jump).
    - `fit`: "power" (log K* against log N) or "exponential" (log K* against N).
    - `theory_applies`: False for a model whose K* follows no theory (the full network with leaks, whose
      glia lock; `docs/full-network.md`): its summary shows no theory, fixed-point load or exponent, and
      `theory` serves only as the search's start scale.
    - `rate`: work units per second of one worker thread on the 2-core development machine (rows' work /
      seconds), for `nam.plan_sweep`'s time estimate and the job-array split; `state_size(N, K)`: the
      numbers in one run's state (for the plan's memory estimate); `plan_steps`: typical steps of one run
      (the plan's work estimate).
    - `start`: (c, e), the K* search's first load is min(c N^e, `start_ceiling`) times the theory load: an empirical
      correction fitted once to measured K* at rho = 1/8 (`docs/capacity.md`). It only chooses where the
      search starts (a better start measures fewer loads); it never enters a result. It depends on
      (model, N, rho) alone, so every (model, N) search is independent of the others (shards of a job
      array take the same path as one run).
    """

    name: str
    label: str
    kind: str
    degree: int | None
    units: Callable[[int, float], float]
    asymptotic: float
    theory: Callable[[float, float], float]
    build: Callable | None = None
    beta: float = 1.0
    fit: str = "power"
    distinct_indices: bool = False
    max_n: int | None = None
    min_n: int = 4
    dt: float = 0.5
    max_steps: int = 400
    method: str = "rk4"
    start: tuple[float, float] = (1.0, 0.0)
    start_ceiling: float = math.inf
    theory_applies: bool = True
    rate: float = math.nan
    state_size: Callable[[int, int], int] = lambda n, k: n  # noqa: E731
    plan_steps: int = 30
    theory_curve: Callable[[np.ndarray, float], np.ndarray] | None = None

    @property
    def continuous(self) -> bool:
        return self.kind == "continuous"

    def theory_k(self, n: int, rho: float = 0.1) -> float:
        """The theory K* at N (NaN where no theory applies)."""
        return float(self.theory(n, rho)) if self.theory_applies else math.nan

    def theory_smooth(self, n, rho: float = 0.1) -> np.ndarray:
        """The theory K* on a grid of real N (`theory_curve`, else `theory` at each N), NaN where no theory
        applies: the curve the figures draw (smooth, no staircase of rounded N)."""
        grid = np.atleast_1d(np.asarray(n, dtype=np.float64))
        if not self.theory_applies:
            return np.full(grid.shape, np.nan)
        if self.theory_curve is not None:
            return np.asarray(self.theory_curve(grid, rho), dtype=np.float64)
        return np.array([float(self.theory(float(g), rho)) for g in grid])

    def start_k(self, n: int, rho: float = 0.1) -> float:
        """The K* search's first load at N: the theory load times the empirical correction
        min(c N^e, start_ceiling)."""
        c, e = self.start
        return float(self.theory(n, rho)) * min(c * float(n) ** e, self.start_ceiling)

    def fixed_point_k(self, n: int) -> float:
        """The load where half the stored memories are exact one-step fixed points, (1 - P_err)^N = 1/2
        with the exact finite-N P_err of the binary rule of this degree: the theory for
        `criterion="fixed_point"` (for a continuous model, that of its binary counterpart)."""
        if not self.degree or not self.theory_applies:
            return math.nan
        return float(fixed_point_capacity(n, self.degree, distinct_indices=self.distinct_indices))


def _nan(n, k):
    return math.nan


def _no_error(degree, distinct=False):
    return lambda n, rho: float(no_error_capacity(n, degree, distinct_indices=distinct))


def _exponential_theory(n, rho):
    """Demircigil et al. 2017: F = exp retrieves from rho-corrupted cues up to K = exp(alpha N) with
    alpha = I(1 - 2 rho) / 2, I(x) = ((1+x) ln(1+x) + (1-x) ln(1-x)) / 2 (a lower bound: a start)."""
    x = 1.0 - 2.0 * rho
    info = 0.5 * ((1 + x) * math.log1p(x) + ((1 - x) * math.log(1 - x) if x < 1 else 0.0))
    return math.exp(0.5 * info * n)


def _self_coupled(n, rho):
    return float(self_coupling_capacity(n, rho=rho))


def _self_coupled_curve(n, rho):
    return np.atleast_1d(self_coupling_capacity(n, rho=rho, exact_flips=False))


def _hidden(xi, mask):
    """Rectified quartic hidden layer, F(z) = ReLU(z)^4 / 4 (model B); memories scaled by N^(-3/4) so the
    field is O(1); padding rows are zero memories, whose hidden neurons stay at 0 and pull nothing."""
    n = xi.shape[1]
    return HiddenNeuronDAM(jnp.where(mask[:, None], xi, 0.0) * n**-0.75, LogCosh(5.0), RectifiedPower(4.0))


def _effective(distinct):
    return lambda xi, mask: NeuronAstrocyteEffective(HebbianTensor(xi, mask=mask, distinct_indices=distinct))


def _full(distinct):
    return lambda xi, mask: NeuronAstrocyte(HebbianTensor(xi, mask=mask, distinct_indices=distinct))


_NA_UNITS = lambda n, k: n + 2 * n * n  # noqa: E731

_FULL_STATE = lambda n, k: n + 2 * n * n  # noqa: E731
_FULL_LABEL = "full network{}, tutorial leaks: transient retrieval before glial lock-in"

REGISTRY: dict[str, SweepModel] = {
    m.name: m
    for m in (
        SweepModel(
            "hopfield",
            "classical Hopfield",
            "binary",
            2,
            lambda n, k: n + n * n,
            1.0,
            _no_error(2),
            start=(1.9, -0.05),
            rate=2.9e8,
        ),
        SweepModel("dam3", "DAM F=z^3", "binary", 3, _nan, 2.0, _no_error(3), start=(1.35, 0.0), rate=6.3e8),
        SweepModel(
            "dam4",
            "DAM F=z^4 (binary neuron-astrocyte)",
            "binary",
            4,
            _NA_UNITS,
            3.0,
            _no_error(4),
            start=(0.26, 0.33),
            rate=6.6e8,
        ),
        SweepModel(
            "dam_exp",
            "DAM F=exp",
            "binary",
            None,
            _nan,
            math.nan,
            _exponential_theory,
            fit="exponential",
            max_n=40,
            start=(0.0066, 3.0),
            rate=1.4e8,
        ),
        SweepModel(
            "na_effective",
            "neuron-astrocyte, effective, eq. 10 T",
            "continuous",
            4,
            _NA_UNITS,
            2.0,
            _self_coupled,
            build=_effective(False),
            start=(0.6, 0.13),
            rate=4.2e8,
            theory_curve=_self_coupled_curve,
        ),
        SweepModel(
            "na_effective_distinct",
            "neuron-astrocyte, effective, distinct-index T",
            "continuous",
            4,
            _NA_UNITS,
            3.0,
            _no_error(4, True),
            build=_effective(True),
            distinct_indices=True,
            start=(0.19, 0.45),
            start_ceiling=1.1,
            rate=1.6e8,
        ),
        SweepModel(
            "na_full",
            _FULL_LABEL.format(""),
            "continuous",
            4,
            _NA_UNITS,
            math.nan,
            _self_coupled,
            build=_full(False),
            max_n=48,
            dt=0.1,
            max_steps=4000,
            start=(2.4, -0.72),
            theory_applies=False,
            rate=2.2e7,
            state_size=_FULL_STATE,
        ),
        SweepModel(
            "na_full_distinct",
            _FULL_LABEL.format(", distinct-index T"),
            "continuous",
            4,
            _NA_UNITS,
            math.nan,
            _no_error(4, True),
            build=_full(True),
            max_n=48,
            dt=0.1,
            max_steps=4000,
            distinct_indices=True,
            theory_applies=False,
            rate=2.2e7,
            state_size=_FULL_STATE,
        ),
        SweepModel(
            "hidden_dam",
            "hidden-neuron DAM",
            "continuous",
            4,
            lambda n, k: n + k,
            3.0,
            _no_error(4),
            build=_hidden,
            dt=0.2,
            max_steps=2000,
            start=(12.5, -0.58),
            rate=4.9e8,
            plan_steps=110,
            state_size=lambda n, k: n + k,
        ),
    )
}

CLAIM_REFERENCE = "hidden_dam"  # the paper's claim compares memories per compute unit against this model
CLAIM_MODELS = ("dam4", "na_effective_distinct")  # the quartic models whose theory passes it (per-unit figure)


def register_sweep_model(model: SweepModel, *, replace: bool = False) -> SweepModel:
    """Add `model` to the models `nam.run_sweep` (and `nam sweep --models`) can measure: the one entry a new
    sweep model needs (its theory, units, rates and labels are its fields).

    **Arguments:**

    - `model`: a `nam.sweep.SweepModel`; a continuous one needs `build(patterns, mask)` returning a
      `nam.AbstractEnergyModel` whose `mask` (K,) switches padding memories off.
    - `replace`: allow replacing a model of the same name (default: refused).

    **Returns:** `model`.

    **Raises:** TypeError if `model` is not a `SweepModel` or a field has the wrong type; ValueError for an
    empty or taken name, an unknown `kind` or `fit`, a continuous model without `build`.
    """
    check_instance("model", model, SweepModel, "a nam.sweep.SweepModel")
    check_instance("model.name", model.name, str, "a name")
    if not model.name or "," in model.name or "=" in model.name:
        raise ValueError(f"`model.name` must be a non-empty name without ',' or '=', got {model.name!r}")
    if model.name in REGISTRY and not check_bool("replace", replace):
        raise ValueError(f"`model.name`: a sweep model named {model.name!r} exists; pass replace=True to replace it")
    check_choice("model.kind", model.kind, ("binary", "continuous"))
    check_choice("model.fit", model.fit, ("power", "exponential"))
    for name in ("units", "theory"):
        check_callable(f"model.{name}", getattr(model, name))
    if model.continuous:
        check_callable("model.build", model.build)
    elif model.degree is None and model.fit != "exponential":
        raise ValueError("`model.degree`: a binary model needs its interaction degree (F = z^degree)")
    REGISTRY[model.name] = model
    return model
