"""The sweep engine: one compiled program per (model, N, K bucket, batch); rows written incrementally.

Each measured row is one batch of trials at one load: (model, N, K, rho, seed, batch index). A trial
draws its own K random memories (padded to a power-of-two bucket and masked, so every K of a bucket
reuses one compiled program), picks one memory mu, and records the four criteria:

1. the fraction of mu's bits that one flip-difference update from mu leaves unchanged;
2. whether mu is an exact one-step fixed point;
3. whether the read-out after the dynamics from a cue with exactly round(rho N) flipped bits equals mu;
4. the final overlap with mu;

plus the dynamics' status counts and the run time (compilation happens ahead of time and is not
counted). Binary models run asynchronous sign dynamics; continuous ones a diffrax retrieval, and for
them criteria 1-2 come from running the dynamics from mu itself (there is no one-step update).
Random keys derive from (seed, model, N, K, batch index) alone, so a row is the same whatever order
rows are computed in, and a resumed sweep replays stored rows to take the same adaptive path as an
uninterrupted one.

The trial batch is sharded over `jax.devices()` when its size divides evenly; trials are independent,
so the table does not depend on the number of devices.
"""

import csv
import dataclasses
import io
import math
import os
import time
import zlib

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm import tqdm

from .._io import atomic_write
from .._patterns import flip_bits, random_patterns
from ..capacity._criteria import is_fixed_point, one_step_stable_bits, retrieval_outcome
from ..capacity._search import find_crossing
from ..capacity._theory import fit_power_law
from ..dynamics._config import SolverConfig
from ..dynamics._retrieve import retrieve
from ..dynamics._status import Status
from ._registry import REGISTRY
from ._spec import SweepSpec

ROW_FIELDS = ("model", "n", "k", "bucket", "rho", "seed", "batch_index", "trials", "stable_bits",
              "fixed_points", "retrieved", "overlap", "converged", "sweep_limit", "cycle", "time_limit",
              "max_steps", "non_finite", "seconds")
# continuous models: Tsit5 with PID steps to a steady state (per-block residual) or t1
CONTINUOUS_CONFIG = dict(solver="tsit5", t1=100.0, max_steps=4000)
KEY_FIELDS = ("model", "n", "k", "rho", "seed", "batch_index")
TRACES: dict = {}  # (model, n, bucket, batch) -> number of traces, for the no-recompile test
_COMPILED: dict = {}  # (model, n, bucket, batch) -> compiled executable


class SpecMismatch(ValueError):
    """The output folder holds a sweep with a different specification."""


class SweepInterrupted(RuntimeError):
    """Raised by `run_sweep(..., max_new_rows=...)` (tests simulate a kill with it)."""


def bucket_size(k: int) -> int:
    """The padded memory count for load K: the next power of two, at least 8."""
    return max(8, 1 << (int(k) - 1).bit_length())


def _batch_program(name: str, n: int, bucket: int, batch: int):
    sweep_model = REGISTRY[name]

    def one(key, k, rho):
        TRACES[(name, n, bucket, batch)] = TRACES.get((name, n, bucket, batch), 0) + 1
        kx, kmu, kcue = jr.split(key, 3)
        xi = random_patterns(kx, bucket, n)
        model = sweep_model.build(xi, jnp.arange(bucket) < k)
        mu = jr.randint(kmu, (), 0, k)
        if sweep_model.continuous:
            # criteria 1-2 for a continuous model: run the dynamics from the stored memory itself and
            # count the bits whose read-out keeps its sign (there is no single "one-step" update)
            config = SolverConfig(**CONTINUOUS_CONFIG)
            target = xi[mu]
            still = retrieve(model, target, config=config).pattern == target
            out = retrieve(model, flip_bits(kcue, target, rho), config=config)
            return (jnp.mean(still.astype(xi.dtype)), jnp.all(still), jnp.all(out.pattern == target),
                    jnp.dot(out.pattern, target) / n, out.status)
        outcome = retrieval_outcome(model, mu, kcue, rho)
        return (one_step_stable_bits(model, mu), is_fixed_point(model, mu), outcome.exact, outcome.overlap,
                outcome.status)

    return jax.jit(jax.vmap(one, in_axes=(0, None, None)))


def _row_key(spec: SweepSpec, name: str, n: int, k: int, batch_index: int):
    key = jr.PRNGKey(spec.seed)
    for part in (zlib.crc32(name.encode()), n, k, batch_index):
        key = jr.fold_in(key, part)
    return key


def _shard(keys):
    devices = jax.devices()
    if len(devices) > 1 and keys.shape[0] % len(devices) == 0:
        mesh = Mesh(np.array(devices), ("trials",))
        return jax.device_put(keys, NamedSharding(mesh, PartitionSpec("trials")))
    return keys


def measure_row(spec: SweepSpec, name: str, n: int, k: int, batch_index: int) -> dict:
    """Run one batch of trials at load K and return its row (counts, means, status counts, seconds)."""
    bucket = bucket_size(k)
    keys = _shard(jr.split(_row_key(spec, name, n, k, batch_index), spec.batch))
    args = (keys, jnp.asarray(k), jnp.asarray(spec.rho))
    compiled_key = (name, n, bucket, spec.batch)
    if compiled_key not in _COMPILED:  # compile ahead of time, so `seconds` is run time only
        _COMPILED[compiled_key] = _batch_program(*compiled_key).lower(*args).compile()
    t0 = time.perf_counter()
    stable, fixed, exact, overlap, status = jax.device_get(_COMPILED[compiled_key](*args))
    seconds = time.perf_counter() - t0
    return {
        "model": name, "n": n, "k": k, "bucket": bucket, "rho": spec.rho, "seed": spec.seed,
        "batch_index": batch_index, "trials": spec.batch,
        "stable_bits": float(np.mean(stable)), "fixed_points": int(np.sum(fixed)), "retrieved": int(np.sum(exact)),
        "overlap": float(np.mean(overlap)), "converged": int(np.sum(status == Status.CONVERGED)),
        "sweep_limit": int(np.sum(status == Status.SWEEP_LIMIT)), "cycle": int(np.sum(status == Status.CYCLE)),
        "time_limit": int(np.sum(status == Status.TIME_LIMIT)), "max_steps": int(np.sum(status == Status.MAX_STEPS)),
        "non_finite": int(np.sum(status == Status.NON_FINITE)),
        "seconds": round(seconds, 4),
    }


def _csv(rows, fields=ROW_FIELDS) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_rows(path: str) -> list[dict]:
    """The rows of a results table, with numbers parsed."""
    ints = {"n", "k", "bucket", "seed", "batch_index", "trials", "fixed_points", "retrieved", "converged",
            "sweep_limit", "cycle", "time_limit", "max_steps", "non_finite"}
    with open(path, newline="") as f:
        return [{key: (int(v) if key in ints else v if key == "model" else float(v)) for key, v in row.items()}
                for row in csv.DictReader(f)]


@dataclasses.dataclass
class SweepResult:
    """`rows`: every measured batch; `summary`: K* per (model, N); `fits`: the exponent per model."""

    rows: list
    summary: list
    fits: list
    out_dir: str | None


def _open_output(spec: SweepSpec, out_dir: str | None) -> list[dict]:
    if out_dir is None:
        return []
    os.makedirs(out_dir, exist_ok=True)
    spec_path = os.path.join(out_dir, "spec.json")
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            stored = SweepSpec.from_json(f.read())
        if stored != spec:
            raise SpecMismatch(f"{out_dir} holds a sweep with a different specification ({spec_path}); "
                               "use another output folder or delete it to start over")
    else:
        atomic_write(spec_path, spec.to_json())
    rows_path = os.path.join(out_dir, "rows.csv")
    return read_rows(rows_path) if os.path.exists(rows_path) else []


def run_sweep(spec: SweepSpec, out_dir: str | None = None, *, progress: bool = True,
              max_new_rows: int | None = None) -> SweepResult:
    """Measure K*(N) for every model and N of `spec`, writing rows to `out_dir/rows.csv` as they come.

    Re-running with the same spec and folder resumes: stored rows are reused, not recomputed, and the
    result equals an uninterrupted run. A different spec in the same folder raises `SpecMismatch`.
    """
    if not isinstance(spec, SweepSpec):
        raise ValueError(f"`spec` must be a nam.SweepSpec, got {type(spec).__name__}")
    rows = _open_output(spec, out_dir)
    cache = {tuple(r[f] for f in KEY_FIELDS): r for r in rows}
    new_rows = 0
    n_batches = spec.trials // spec.batch
    column = {"retrieved": "retrieved", "fixed_point": "fixed_points"}[spec.criterion]

    def get_row(name, n, k, b):
        nonlocal new_rows
        key = (name, n, k, spec.rho, spec.seed, b)
        if key not in cache:
            if max_new_rows is not None and new_rows >= max_new_rows:
                raise SweepInterrupted(f"stopped after {new_rows} new rows")
            row = measure_row(spec, name, n, k, b)
            cache[key] = row
            rows.append(row)
            new_rows += 1
            if out_dir is not None:
                atomic_write(os.path.join(out_dir, "rows.csv"), _csv(rows))
        return cache[key]

    summary = []
    pairs = [(name, n) for name, ns in spec.n_grid.items() for n in ns]
    for name, n in tqdm(pairs, desc="sweep", disable=not progress):
        sweep_model = REGISTRY[name]

        def evaluate(k, name=name, n=n):
            batch_rows = [get_row(name, n, k, b) for b in range(n_batches)]
            return sum(r[column] for r in batch_rows), sum(r["trials"] for r in batch_rows)

        k0 = max(1, int(round(sweep_model.theory_k(n))))
        res = find_crossing(evaluate, k0, level=spec.level, rel_tol=spec.rel_tol, max_evals=spec.max_evals,
                            k_max=2**16, seed=spec.seed)
        units = sweep_model.units(n, res.k_star)
        summary.append({
            "model": name, "n": n, "k_star": res.k_star, "ci_low": res.ci[0], "ci_high": res.ci[1],
            "status": res.status, "loads_measured": len(res.points), "criterion": spec.criterion,
            "theory_no_error": sweep_model.theory_k(n) if sweep_model.degree else math.nan,
            "theory_fixed_point": sweep_model.fixed_point_k(n),
            "units": units, "k_star_per_unit": res.k_star / units,
        })
    fits = []
    for name in spec.n_grid:
        pts = [(s["n"], s["k_star"]) for s in summary if s["model"] == name and math.isfinite(s["k_star"])]
        if len({p[0] for p in pts}) >= 2:
            fit = fit_power_law([p[0] for p in pts], [p[1] for p in pts])
            degree = REGISTRY[name].degree
            ns = [p[0] for p in pts]
            theory = fit_power_law(ns, [REGISTRY[name].theory_k(m) for m in ns]).slope if degree else math.nan
            theory_fp = fit_power_law(ns, [REGISTRY[name].fixed_point_k(m) for m in ns]).slope if degree else math.nan
            fits.append({"model": name, "exponent": fit.slope, "ci_low": fit.slope_low, "ci_high": fit.slope_high,
                         "points": len(pts), "theory_exponent_same_n": theory,
                         "theory_fixed_point_exponent_same_n": theory_fp,
                         "asymptotic_exponent": degree - 1 if degree else math.nan})
    if out_dir is not None:
        for fname, table in (("summary.csv", summary), ("fits.csv", fits)):
            if table:
                atomic_write(os.path.join(out_dir, fname), _csv(table, list(table[0])))
    return SweepResult(rows=rows, summary=summary, fits=fits, out_dir=out_dir)
