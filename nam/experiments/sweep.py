"""The capacity-scaling sweep (`nam sweep`) with the interface of `nam.experiments`: a thin adapter over
`nam.run_sweep`, `nam.format_summary` and `nam.write_sweep_figures`. The sweep's other modes (merge, --plan,
--report-only, several processes) stay in `nam._cli`; the engine writes its tables (rows.csv, summary.csv,
fits.csv, run.json) through `nam._io` as it runs, so `write` adds the figures and lists every file."""

import dataclasses
import os

from ..sweep._engine import SweepInterrupted, SweepResult, run_sweep
from ..sweep._store import SpecMismatch
from ..sweep._report import format_summary, write_sweep_figures
from ..sweep._spec import SweepSpec

ERRORS = (ValueError, SpecMismatch, MemoryError, OSError)
INTERRUPTS = (SweepInterrupted,)  # ended like Ctrl-C: every finished row is kept


@dataclasses.dataclass(frozen=True)
class Spec:
    """`sweep`: what to measure (`nam.preset(...)` or a `nam.SweepSpec`); `shard`: (I, M), measure only
    shard I of M; `workers`: threads running independent (model, N) searches; `preset`: the preset's
    name, for the run header."""

    sweep: SweepSpec
    out: str = "nam_output/sweep"
    shard: tuple | None = None
    workers: int | None = None
    preset: str | None = None


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """The sweep's result, and the shard it measured (None: all of it)."""

    result: SweepResult
    shard: tuple | None = None


def check(spec: Spec) -> None:
    pass


def describe(spec: Spec):
    import jax

    s = spec.sweep
    details = {} if spec.preset is None else {"preset": spec.preset}
    details |= {"models": ", ".join(s.n_grid),
               "N": "; ".join(f"{m} {','.join(map(str, ns))}" for m, ns in s.n_grid.items()),
               "trials per load": f"{s.trials} (batches of {s.batch})", "rho": f"{s.rho} (round(rho N) bits flipped)",
               "criterion": s.criterion, "seed": s.seed, "out": spec.out}
    if spec.shard is not None:
        details["shard"] = f"{spec.shard[0]} of {spec.shard[1]} (merge the folders with `nam sweep merge OUT DIR...`)"
    if jax.process_count() > 1:
        details["processes"] = f"{jax.process_count()} ({jax.device_count()} devices); process 0 writes"
    return "sweep", details


def run(spec: Spec, *, progress: bool = True) -> SweepRun:
    return SweepRun(run_sweep(spec.sweep, spec.out, progress=progress, shard=spec.shard, workers=spec.workers),
                    spec.shard)


def format(result: SweepRun) -> str:
    text = format_summary(result.result)
    if result.shard is not None:
        i, m = result.shard
        text += (f"\n\nshard {i}/{m}: no fits (they need every N); combine the shards with "
                 f"`nam sweep merge OUT {result.result.out_dir} ...`")
    return text


def write(result: SweepRun, out_dir: str) -> list[str]:
    """The tables the run wrote (rows, the summary and the fits when it has them, the run record) and, for a
    whole sweep, the figures."""
    r = result.result
    names = ["rows.csv"] + (["summary.csv"] if r.summary else []) + (["fits.csv"] if r.fits else [])
    tables = [os.path.join(out_dir, f) for f in names + ["run.json"]]
    return tables if result.shard is not None else tables + list(write_sweep_figures(r, out_dir))


def resume_hint(spec: Spec, error: BaseException) -> str:
    return f"every finished row is in {os.path.join(spec.out, 'rows.csv')}; run the same command again to resume"
