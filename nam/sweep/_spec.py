"""What a sweep measures: a frozen, JSON-serialisable specification, with the presets."""

import dataclasses
import json
import math

from .._checks import ArgumentTypeError, check_int, check_number, is_integer
from ._registry import REGISTRY

CRITERIA = ("retrieved", "fixed_point")


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A capacity sweep: what to measure (built once, checked field by field; `nam.preset` builds the
    presets).

    **Arguments:**

    - `n_grid`: model name -> the N values to measure it at.
    - `rho`: fraction of bits flipped in each cue, an exact count round(rho N).
    - `trials`: cues per measured load, run in compiled batches of `batch`.
    - `cues_per_set`: continuous models: trials that share one set of K random memories (each cued
      from a different memory of the set while K allows), so that their field is a matrix-matrix
      product (`nam/sweep/_kernels.py`); K*'s interval then resamples memory sets. Default: the largest
      divisor of `batch` up to 16. 1 gives every trial its own memories. Binary models always give every trial
      its own memories.
    - `step_factor`: multiplies every continuous model's step limit (`SweepModel.max_steps`): a run
      with a larger factor shows whether K* was set by the limit.
    - `criterion`: the fraction whose `level` crossing defines K*: "retrieved" (read-out equals the
      memory after convergence, criterion 3) or "fixed_point" (the stored memory is an exact one-step
      fixed point, criterion 2).
    - `rel_tol`: the K bracket is narrowed until k_hi - k_lo <= max(1, rel_tol k_lo).
    - `max_evals`: loads measured per search at most; `k_max`: the largest load a search may try.
    """

    n_grid: dict
    rho: float = 0.125
    trials: int = 64
    batch: int = 64
    seed: int = 0
    criterion: str = "retrieved"
    level: float = 0.5
    rel_tol: float = 0.1
    max_evals: int = 16
    k_max: int = 2**22
    cues_per_set: int | None = None
    step_factor: float | int = 1.0

    def __post_init__(self):
        if not isinstance(self.n_grid, dict) or not self.n_grid:
            raise ValueError("`n_grid` must be a non-empty mapping from model name to a list of N")
        grid = {}
        for name, ns in self.n_grid.items():
            if name not in REGISTRY:
                raise ValueError(f"unknown model {name!r} in `n_grid`; expected one of {sorted(REGISTRY)}")
            try:
                ns = tuple(ns)
            except TypeError:
                raise ArgumentTypeError(f"`n_grid[{name!r}]` must be a list of integers N, got {ns!r}") from None
            if not ns:
                raise ValueError(f"`n_grid[{name!r}]` is empty")
            model = REGISTRY[name]
            for n in ns:
                if not is_integer(n):
                    raise ArgumentTypeError(f"`n_grid[{name!r}]` needs integers N >= {model.min_n}, got {n!r}")
                if n < model.min_n:
                    raise ValueError(f"`n_grid[{name!r}]` needs integers N >= {model.min_n}, got {n!r}")
                if model.max_n is not None and n > model.max_n:
                    raise ValueError(f"`n_grid[{name!r}]`: {model.label} is limited to N <= {model.max_n}, got {n}")
            grid[name] = tuple(sorted({int(n) for n in ns}))
        object.__setattr__(self, "n_grid", dict(sorted(grid.items())))  # canonical order: the run order
        object.__setattr__(self, "rho", check_number("rho", self.rho, minimum=0.0, maximum=0.5, open_max=True))
        object.__setattr__(
            self, "level", check_number("level", self.level, minimum=0.0, maximum=1.0, open_min=True, open_max=True)
        )
        object.__setattr__(self, "rel_tol", check_number("rel_tol", self.rel_tol, minimum=0.0))
        for name in ("trials", "batch", "max_evals", "k_max"):
            object.__setattr__(self, name, check_int(name, getattr(self, name)))
        if self.cues_per_set is None:  # the largest divisor of the batch up to 16
            object.__setattr__(self, "cues_per_set", max(c for c in range(1, 17) if self.batch % c == 0))
        object.__setattr__(self, "cues_per_set", check_int("cues_per_set", self.cues_per_set, 1))
        if self.batch % self.cues_per_set:
            raise ValueError(f"`batch` ({self.batch}) must be a multiple of `cues_per_set` ({self.cues_per_set})")
        if isinstance(self.step_factor, bool) or not isinstance(self.step_factor, (int, float)):
            raise ArgumentTypeError(f"`step_factor` must be a number >= 1, got {self.step_factor!r}")
        if not (math.isfinite(self.step_factor) and 1.0 <= self.step_factor <= 1000.0):
            raise ValueError(f"`step_factor` must be a number in [1, 1000], got {self.step_factor!r}")
        object.__setattr__(self, "step_factor", float(self.step_factor))
        if self.trials % self.batch:
            raise ValueError(f"`trials` ({self.trials}) must be a multiple of `batch` ({self.batch})")
        if self.criterion not in CRITERIA:
            raise ValueError(f"`criterion` must be one of {list(CRITERIA)}, got {self.criterion!r}")
        object.__setattr__(self, "seed", check_int("seed", self.seed, 0))

    def differences(self, other: "SweepSpec") -> str:
        """The fields in which `other` differs from this spec, as `field: this != other` lines joined by
        '; ' (for n_grid, per model)."""
        parts = []
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "n_grid":
                for name in sorted(set(a) | set(b)):
                    if a.get(name) != b.get(name):
                        parts.append(f"n_grid[{name!r}]: {list(a.get(name, ()))} != {list(b.get(name, ()))}")
            elif a != b:
                parts.append(f"{f.name}: {a!r} != {b!r}")
        return "; ".join(parts) if parts else "no differences"

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        d["n_grid"] = {k: list(v) for k, v in self.n_grid.items()}
        return json.dumps(d, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SweepSpec":
        return cls(**json.loads(text))


PRESETS = {
    # about two minutes on 2 CPU cores: at least four N per model, far enough for the laws to separate.
    # Every N is a multiple of 8, so that rho N = N / 8 bits are flipped exactly (a grid whose round(rho N)
    # jumps unevenly gives non-monotone K*)
    "default": dict(
        n_grid={
            "hopfield": (128, 256, 512, 1024, 2048),
            "dam3": (24, 32, 48, 64, 96),
            "dam4": (16, 24, 32, 48, 64, 96),
            "dam_exp": (8, 16, 24, 32),
            "na_effective": (16, 24, 32, 48, 64),
            "na_effective_distinct": (16, 24, 32, 40, 48),
            "na_full": (8, 16, 24, 32, 40),
            "hidden_dam": (16, 24, 32, 48),
        },
        trials=64,
        batch=64,
    ),
    # the paper's claim on a laptop, under 20 minutes on 2 CPU cores from a cold start: the continuous network
    # with the distinct-index tensor against the hidden-neuron DAM past their crossover (N ~ 110), and the
    # binary quartic rule as far as it fits (docs/claim.md)
    "crossover": dict(
        n_grid={
            "na_effective_distinct": (32, 48, 64, 96, 128),
            "hidden_dam": (32, 48, 64, 96, 128),
            "dam4": (32, 48, 64, 96, 128, 192),
        },
        trials=64,
        batch=64,
    ),
    # one GPU: dam4 past the predicted crossover with the hidden-neuron DAM (N ~ 350)
    "full": dict(
        n_grid={
            "hopfield": (400, 800, 1600, 3200, 6400),
            "dam3": (32, 64, 96, 128, 192, 256),
            "dam4": (32, 48, 64, 96, 128, 192, 256, 384),
            "dam_exp": (8, 16, 24, 32, 40),
            "na_effective": (16, 32, 48, 64, 96, 128),
            "na_effective_distinct": (16, 32, 48, 64, 96, 128),
            "na_full": (8, 16, 24, 32, 40, 48),
            "na_full_distinct": (8, 16, 24, 32, 40, 48),
            "hidden_dam": (16, 24, 32, 48, 64, 96),
        },
        trials=256,
        batch=64,
        rel_tol=0.05,
    ),
}


def preset(name: str, **overrides) -> SweepSpec:
    """A named preset with fields overridden.

    **Arguments:** `name`: "default", "crossover" or "full"; `**overrides`: `nam.SweepSpec` fields to
    change (e.g. `trials=16`).

    **Returns:** a `nam.SweepSpec`.

    **Raises:** `ValueError` for an unknown `name` (and whatever `SweepSpec` raises for a bad field).
    """
    if not isinstance(name, str) or name not in PRESETS:
        error = ValueError if isinstance(name, str) else ArgumentTypeError
        raise error(f"`preset` (its `name`) must be one of {sorted(PRESETS)}, got {name!r}")
    return SweepSpec(**{**PRESETS[name], **overrides})
