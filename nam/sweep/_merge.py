"""Combining the shard folders of a job array into one sweep (`nam.merge_sweeps`, `nam sweep merge`)."""

import json
import os
from collections.abc import Iterable

from .._checks import ArgumentTypeError, check_path
from .._io import atomic_write
from ._engine import SweepResult, _run, load_sweep
from ._spec import SweepSpec
from ._store import KEY_FIELDS, open_output, read_shard, read_spec


def merge_sweeps(out_dir, shard_dirs) -> SweepResult:
    """Combine the folders of the M shards of one sweep (`run_sweep(..., shard=(I, M))`, I = 1..M) into
    `out_dir`: the rows, summary, fits and run record one unsharded run would have written (rows in the
    order that run measures them). Computes nothing.

    **Arguments:** `out_dir`: the folder to write; `shard_dirs`: the M shard folders.

    **Returns:** a `nam.SweepResult`, as the unsharded run would have returned.

    **Raises:** `ValueError`, naming the folders, when a folder holds no sweep or no shard record, when
    the specifications differ (naming the fields), when two folders hold the same shard or disagree on a
    row, when shards are missing, or when a shard is incomplete; `SpecMismatch` when `out_dir` already
    holds a different sweep.
    """
    if isinstance(shard_dirs, (str, bytes, os.PathLike)) or not isinstance(shard_dirs, Iterable):
        raise ArgumentTypeError(f"`shard_dirs` must be a list of shard folders, got {type(shard_dirs).__name__}")
    dirs = [check_path("shard_dirs", d) for d in shard_dirs]
    if not dirs:
        raise ValueError("`shard_dirs`: merge needs at least one shard folder")
    out_dir = check_path("out_dir", out_dir)
    spec: SweepSpec | None = None
    count = 0
    shards: dict = {}
    for d in dirs:
        if not os.path.exists(os.path.join(d, "spec.json")):
            raise ValueError(f"{d} holds no sweep (no spec.json)")
        if os.path.abspath(d) == os.path.abspath(out_dir):
            raise ValueError(f"the merged folder {out_dir} is also a shard folder; choose another")
        this, shard_of = read_spec(d), read_shard(d)
        if shard_of is None:
            raise ValueError(f"{d} holds a whole sweep, not a shard (no shard.json)")
        if spec is None:
            spec, count = this, shard_of[1]
        if this != spec:
            raise ValueError(f"{d} and {dirs[0]} hold different sweeps: {spec.differences(this)}")
        if shard_of[1] != count:
            raise ValueError(f"{d} is a shard of {shard_of[1]}, {dirs[0]} of {count}")
        if shard_of[0] in shards:
            raise ValueError(f"{shards[shard_of[0]]} and {d} both hold shard {shard_of[0]}/{shard_of[1]}")
        shards[shard_of[0]] = d
    missing = [i for i in range(1, count + 1) if i not in shards]
    if missing:
        raise ValueError(f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing from the folders given")
    union: dict = {}
    source: dict = {}
    records = []
    for i in sorted(shards):
        d = shards[i]
        try:
            part = load_sweep(d)  # complete, and its rows (those its searches read) and run record
        except ValueError as e:
            raise ValueError(f"shard {i}/{count}: {e}") from None
        for row in part.rows:
            key = tuple(row[f] for f in KEY_FIELDS)
            if key in union and {k: v for k, v in union[key].items() if k != "seconds"} != {
                k: v for k, v in row.items() if k != "seconds"
            }:
                raise ValueError(f"{source[key]} and {d} disagree on the row {dict(zip(KEY_FIELDS, key))}")
            union.setdefault(key, row)
            source.setdefault(key, d)
        if part.record:
            records.append({"shard": f"{i}/{count}", "folder": d, **part.record})
    assert spec is not None  # every folder was read above
    open_output(spec, out_dir, write=True)
    result = _run(spec, out_dir, progress=False, max_new_rows=0, write=True, rows=list(union.values()))
    record: dict = dict(result.record)
    for field in ("wall_seconds", "compile_seconds", "run_seconds", "programs"):
        record[field] = round(sum(r.get(field, 0) for r in records), 2)
    record["rows_measured"] = sum(r.get("rows_measured", 0) for r in records)
    record["rows_reused"] = sum(r.get("rows_reused", 0) for r in records)
    record["merged_from"] = records
    atomic_write(os.path.join(out_dir, "run.json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
    result.record = record
    return result
