"""The capacity-scaling sweep (`nam sweep`): K*(N) per model, fitted laws, figures, as one experiment.

Its modes are options of the same experiment: a sweep (resumable, a shard of a job array, one process of
several), `--plan` (the estimated work, computing nothing), `--report-only` (the finished sweep in `--out`
redrawn) and `nam sweep merge OUT DIR...` (shard folders combined). The engine (`nam.sweep`) writes its
tables (rows.csv, summary.csv, fits.csv, run.json) through `nam._io` as it runs; `write` adds the figures and
lists every file.
"""

import dataclasses
import os
import re
from typing import ClassVar

from .._checks import check_choice, check_instance, check_int, check_number
from ..sweep._engine import SweepInterrupted, SweepResult, load_sweep, run_sweep
from ..sweep._figures import write_sweep_figures
from ..sweep._merge import merge_sweeps
from ..sweep._plan import format_plan, plan_sweep
from ..sweep._registry import REGISTRY
from ..sweep._report import format_summary
from ..sweep._spec import PRESETS, SweepSpec, preset
from ..sweep._store import SpecMismatch, check_shard
from ._base import AbstractExperiment, option

SWEEP_FILES = (
    "spec.json",
    "shard.json",
    "rows.csv",
    "summary.csv",
    "fits.csv",
    "run.json",
    "capacity.png",
    "collapse.png",
    "bit_errors.png",
    "per_unit.png",
)
# the options that define what is measured: --report-only and merge take none of them (the stored spec says)
_MEASURE = (
    "models",
    "n",
    "rho",
    "trials",
    "batch",
    "cues_per_set",
    "step_factor",
    "criterion",
    "seed",
    "shard",
    "restart",
    "plan",
)


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """What a `Sweep` produced: `result` (a sweep, a merge or a stored sweep; None for a plan), `shard` it
    measured (None: all of it), `plan` (the text of `--plan`, else None)."""

    result: SweepResult | None
    shard: tuple | None = None
    plan: str | None = None


def _grid(models: tuple | None, entries: tuple, preset_grid: dict) -> dict:
    """The N grid from `models` and `n` (per-model MODEL=N1,N2 entries, or one grid for every model)."""
    grid = dict(preset_grid)
    if models is not None:
        if not models:
            raise ValueError("`models` is empty; expected a comma-separated list of " + ", ".join(REGISTRY))
        unknown = [m for m in models if m not in REGISTRY]
        if unknown:
            raise ValueError(f"`models`: unknown model(s) {', '.join(unknown)}; expected any of {', '.join(REGISTRY)}")
        grid = {m: preset_grid.get(m) for m in models}
    shared, per_model = None, {}
    for entry in entries:
        check_instance("n", entry, str, "entries [MODEL=]N1,N2,...")
        name, _, values = entry.rpartition("=")
        try:
            ns = tuple(int(x) for x in values.split(",") if x.strip())
        except ValueError:
            raise ValueError(f"`n` {entry!r}: expected [MODEL=]N1,N2,... with integer N") from None
        if not ns:
            raise ValueError(f"`n` {entry!r}: no N given")
        if name:
            if name not in REGISTRY:
                raise ValueError(f"`n` {entry!r}: unknown model {name!r}; expected any of {', '.join(REGISTRY)}")
            per_model[name] = ns
            if models is None and name not in grid:
                grid[name] = ns
        else:
            shared = ns
    for name in grid:
        if name in per_model:
            grid[name] = per_model[name]
        elif shared is not None:
            grid[name] = shared
        elif grid[name] is None:
            raise ValueError(f"`models`: {name} has no N grid in this preset; give one with `n` {name}=N1,N2,...")
    extra = [m for m in per_model if m not in grid]
    if extra:
        raise ValueError(f"`n` names {', '.join(extra)}, which `models` does not select")
    return grid


def _shard(text: str) -> tuple[int, int]:
    index, sep, count = text.partition("/")
    try:
        shard = (int(index), int(count)) if sep else None
    except ValueError:
        shard = None
    if shard is None:
        raise ValueError(f"`shard` {text!r}: expected I/M with integers 1 <= I <= M, e.g. 2/8")
    try:
        return check_shard(shard)
    except ValueError as e:
        raise ValueError(f"`shard` {text}: {e}") from None


@dataclasses.dataclass(frozen=True)
class Sweep(AbstractExperiment):
    """`nam sweep`: the capacity-scaling sweep (see the module docstring for its modes). `spec` (not an option)
    is the `SweepSpec` the options describe, built and checked when the experiment is made."""

    command: ClassVar[str] = "sweep"
    summary: ClassVar[str] = "capacity-scaling sweep: K*(N) per model, fitted laws, figures"
    description: ClassVar[str] = (
        "Measure K*(N), the load at which half the cues are retrieved exactly, for each model and N, fit its law, "
        "and draw the figures. Models: " + "; ".join(f"{m} ({REGISTRY[m].label})" for m in REGISTRY) + "."
    )
    errors: ClassVar[tuple[type[BaseException], ...]] = (
        ValueError,
        SpecMismatch,
        MemoryError,
        OSError,
        FileNotFoundError,
    )
    interrupts: ClassVar[tuple[type[BaseException], ...]] = (SweepInterrupted,)

    preset: str = option(
        "default",
        "default: about a minute and a half on 2 CPU cores; crossover: the "
        "distinct-index network against the hidden-neuron DAM to N = 128, under 10 minutes on 2 "
        "CPU cores; full: sized for one GPU",
        choices=tuple(sorted(PRESETS)),
    )
    models: tuple[str, ...] | None = option(
        None, f"comma-separated models (default: the preset's); any of {', '.join(REGISTRY)}", metavar="MODEL1,..."
    )
    n: tuple[str, ...] = option(
        (),
        "N grid: MODEL=16,32,64 for one model (repeatable), or 16,32,64 for every "
        "selected model (default: the preset's grids)",
        metavar="[MODEL=]N1,N2,...",
        repeat=True,
    )
    rho: float | None = option(
        None,
        "fraction of bits flipped in each cue, an exact count round(rho N), in [0, 0.5) (default: the preset's, 0.125)",
    )
    trials: int | None = option(None, "cues per measured load (default: the preset's)")
    batch: int | None = option(
        None, "trials per compiled batch, divides --trials (default: the preset's, or --trials if smaller)"
    )
    cues_per_set: int | None = option(
        None,
        "continuous models: trials sharing one set of memories, divides "
        "--batch (default: the preset's, 16; 1 gives every trial its own "
        "memories)",
    )
    step_factor: float | None = option(
        None, "multiply every continuous model's step limit, to check that K* is not set by it (default 1)"
    )
    criterion: str | None = option(
        None,
        "what defines K*: exact retrieval from the cue, or the memory an exact fixed point (default: retrieved)",
        choices=("retrieved", "fixed_point"),
    )
    seed: int | None = option(None, "random seed of every trial (default: 0)")
    out: str = option(
        "nam_output/sweep", "output folder; re-running with the same options resumes an interrupted sweep"
    )
    plan: bool = option(False, "print each (model, N)'s estimated work, peak memory and programs, and exit")
    report_only: bool = option(
        False, "redraw the summary and figures of the finished sweep in --out, computing nothing"
    )
    restart: bool = option(
        False,
        "start afresh: delete the sweep's own files in --out (spec, shard record, rows, "
        "summary, fits, run record, figures) before running; other files there are left "
        "alone",
    )
    workers: int | None = option(
        None,
        "threads running independent (model, N) searches at once (default: the "
        "CPU count on a CPU, 1 on an accelerator); the tables do not depend on it",
    )
    shard: str | None = option(
        None,
        "one task of a job array: measure only shard I of M of the (model, N) "
        "searches into --out; combine the M folders with `nam sweep merge OUT DIR...`",
        metavar="I/M",
    )
    distributed: bool = option(
        False, "join a multi-process sweep, reading the cluster's environment (SLURM, Open MPI...; docs/cluster.md)"
    )
    coordinator: str | None = option(
        None,
        "process 0's address; with --num-processes and --process-id, for a "
        "launch jax does not detect (e.g. several processes on one machine)",
        metavar="HOST:PORT",
    )
    num_processes: int | None = option(None, "the number of processes (with --coordinator)")
    process_id: int | None = option(None, "this process's id, 0-based (with --coordinator)")
    merge: tuple[str, ...] = option(
        (),
        "`nam sweep merge OUT DIR1 DIR2 ...`: combine shard folders into OUT "
        "(summary, fits, figures), computing nothing",
        positional=True,
        metavar="merge OUT DIR",
    )
    spec: SweepSpec | None = dataclasses.field(default=None, init=False)

    def __post_init__(self):
        object.__setattr__(self, "n", tuple(self.n))
        object.__setattr__(self, "merge", tuple(self.merge))
        check_choice("preset", self.preset, tuple(PRESETS))
        check_instance("out", self.out, str, "a folder path")
        given = [name for name in _MEASURE if getattr(self, name) not in (None, False, ())]
        if self.merge:
            if self.merge[0] != "merge" or len(self.merge) < 3:
                raise ValueError(f"`merge`: expected `nam sweep merge OUT DIR1 [DIR2 ...]`, got {' '.join(self.merge)}")
        if (self.merge or self.report_only) and (given or self.preset != "default"):
            what = "merge" if self.merge else "`report_only`"
            flags = ", ".join(f"`{x}`" for x in given + (["preset"] if self.preset != "default" else []))
            raise ValueError(
                f"{what} reads the stored sweeps and takes none of {flags} (the stored spec says what was measured)"
            )
        flags = (self.coordinator, self.num_processes, self.process_id)
        if any(f is not None for f in flags) and not all(f is not None for f in flags):
            raise ValueError("`coordinator`, `num_processes` and `process_id` go together (or use `distributed` alone)")
        if self.workers is not None:
            check_int("workers", self.workers)
        if self.merge or self.report_only:
            return
        overrides = {
            k: getattr(self, k)
            for k in ("rho", "trials", "batch", "criterion", "seed", "cues_per_set", "step_factor")
            if getattr(self, k) is not None
        }
        if "trials" in overrides and "batch" not in overrides:
            overrides["batch"] = min(check_int("trials", overrides["trials"]), PRESETS[self.preset]["batch"])
        if self.step_factor is not None:
            check_number("step_factor", self.step_factor, minimum=0.0, open_min=True)
        grid = _grid(self.models, self.n, PRESETS[self.preset]["n_grid"])
        try:
            spec = preset(self.preset, n_grid=grid, **overrides)
        except ValueError as e:  # the SweepSpec's field names are this experiment's options
            raise type(e)(re.sub(r"`n_grid[^`]*`", "`n`", str(e))) from None
        if self.shard is not None:
            _shard(self.shard)
        object.__setattr__(self, "spec", spec)

    @property
    def output_dir(self) -> str | None:
        if self.plan:
            return None
        return self.merge[1] if self.merge else self.out

    def check(self) -> None:
        """Join the multi-process run the options ask for (before jax starts)."""
        flags = (self.coordinator, self.num_processes, self.process_id)
        if not self.distributed and all(f is None for f in flags):
            return
        from ..sweep._distributed import initialize_distributed

        try:
            initialize_distributed(*flags) if flags[0] is not None else initialize_distributed()
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"could not join the multi-process run: {e}") from None

    def describe(self) -> tuple[str, dict] | None:
        import jax

        s = self.spec
        if s is None or self.plan:
            return None
        details: dict[str, object] = {"preset": self.preset}
        details |= {
            "models": ", ".join(s.n_grid),
            "N": "; ".join(f"{m} {','.join(map(str, ns))}" for m, ns in s.n_grid.items()),
            "trials per load": f"{s.trials} (batches of {s.batch})",
            "rho": f"{s.rho} (round(rho N) bits flipped)",
            "criterion": s.criterion,
            "seed": s.seed,
            "out": self.out,
        }
        if self.shard is not None:
            i, m = _shard(self.shard)
            details["shard"] = f"{i} of {m} (merge the folders with `nam sweep merge OUT DIR...`)"
        if jax.process_count() > 1:
            details["processes"] = f"{jax.process_count()} ({jax.device_count()} devices); process 0 writes"
        return "sweep", details

    def run(self, *, progress: bool = True) -> SweepRun:
        if self.merge:
            return SweepRun(merge_sweeps(self.merge[1], list(self.merge[2:])))
        if self.report_only:
            return SweepRun(load_sweep(self.out))
        assert self.spec is not None
        if self.plan:
            return SweepRun(None, plan=format_plan(self.spec, plan_sweep(self.spec)))
        if self.restart:
            for name in SWEEP_FILES:
                path = os.path.join(self.out, name)
                if os.path.isfile(path):
                    os.remove(path)
        shard = None if self.shard is None else _shard(self.shard)
        return SweepRun(run_sweep(self.spec, self.out, progress=progress, shard=shard, workers=self.workers), shard)

    def format(self, result: SweepRun) -> str:
        if result.plan is not None:
            return result.plan
        assert result.result is not None
        text = format_summary(result.result)
        if result.shard is not None:
            i, m = result.shard
            text += (
                f"\n\nshard {i}/{m}: no fits (they need every N); combine the shards with "
                f"`nam sweep merge OUT {result.result.out_dir} ...`"
            )
        return text

    def write(self, result: SweepRun, out_dir: str | None) -> list[str]:
        """The tables the run wrote (rows, the summary and the fits when it has them, the run record) and, for
        a whole sweep, the figures; `--report-only` redraws the figures alone; `--plan` writes nothing."""
        r = result.result
        if r is None or out_dir is None:
            return []
        figures = [] if result.shard is not None else list(write_sweep_figures(r, out_dir))
        if self.report_only:
            return figures
        names = ["rows.csv"] + (["summary.csv"] if r.summary else []) + (["fits.csv"] if r.fits else [])
        return [os.path.join(out_dir, f) for f in names + ["run.json"]] + figures

    def resume_hint(self, error: BaseException) -> str:
        return f"every finished row is in {os.path.join(self.out, 'rows.csv')}; run the same command again to resume"
