"""The sweep's row store: the output folder's files (spec.json, shard.json, rows.csv, summary.csv, fits.csv,
run.json), their layout, reading them back (verified, errors naming the file and line), and sharing the
stored rows with every process.

A resumed sweep reads rows.csv and reuses its rows; a folder holding a different specification or shard is
refused (`SpecMismatch`) naming what differs.
"""

import csv
import io
import json
import os

import jax
import numpy as np
from jax.experimental import multihost_utils

from .._checks import ArgumentTypeError, is_integer
from .._io import atomic_write
from ..dynamics._status import Status
from ._registry import REGISTRY
from ._spec import SweepSpec

ROW_FIELDS = (
    "model",
    "n",
    "k",
    "cap",
    "rho",
    "seed",
    "batch_index",
    "trials",
    "stable_bits",
    "fixed_points",
    "retrieved",
    "overlap",
    "converged",
    "sweep_limit",
    "cycle",
    "time_limit",
    "max_steps",
    "non_finite",
    "work",
    "seconds",
    "retrieved_by_set",
    "fixed_points_by_set",
)


KEY_FIELDS = ("model", "n", "k", "rho", "seed", "batch_index")
_SET_FIELDS = {"retrieved_by_set", "fixed_points_by_set"}  # space-separated counts per memory set ("": one trial each)
_INT_FIELDS = {
    "n",
    "k",
    "cap",
    "seed",
    "batch_index",
    "trials",
    "fixed_points",
    "retrieved",
    "converged",
    "sweep_limit",
    "cycle",
    "time_limit",
    "max_steps",
    "non_finite",
    "work",
}


STATUS_COLUMNS = {
    "converged": Status.CONVERGED,
    "sweep_limit": Status.SWEEP_LIMIT,
    "cycle": Status.CYCLE,
    "time_limit": Status.TIME_LIMIT,
    "max_steps": Status.MAX_STEPS,
    "non_finite": Status.NON_FINITE,
}


class SpecMismatch(ValueError):
    """The output folder holds a sweep with a different specification."""


def rows_csv(rows, fields=ROW_FIELDS) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_rows(path: str) -> list[dict]:
    """The rows of a results table, with numbers parsed. A malformed table (a truncated line, a missing
    or non-numeric field, a header from another version) raises ValueError naming the file and line."""
    with open(path, newline="", encoding="utf-8") as f:
        try:
            text = f.read()
        except UnicodeDecodeError as e:
            raise ValueError(
                f"{path}: not a readable results table (not UTF-8 text: {e.reason} at byte {e.start})"
            ) from None
    return parse_rows(text, path)


def parse_rows(text: str, where: str) -> list[dict]:
    """The rows of CSV text in the layout of rows.csv, numbers parsed; ValueError naming `where` and the
    line for a malformed table."""
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or tuple(reader.fieldnames) != ROW_FIELDS:
        raise ValueError(
            f"{where}: line 1: expected the header {','.join(ROW_FIELDS)}, got {','.join(reader.fieldnames or [])!r}"
        )
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise ValueError(f"{where}: line {line}: expected {len(ROW_FIELDS)} fields (a truncated or corrupt row)")
        try:
            parsed = {
                key: (
                    int(v)
                    if key in _INT_FIELDS
                    else _set_counts(v)
                    if key in _SET_FIELDS
                    else v
                    if key == "model"
                    else float(v)
                )
                for key, v in row.items()
            }
        except ValueError as e:
            raise ValueError(f"{where}: line {line}: {e}") from None
        if parsed["model"] not in REGISTRY:
            raise ValueError(f"{where}: line {line}: unknown model {parsed['model']!r}")
        problem = _row_problem(parsed)
        if problem:
            raise ValueError(f"{where}: line {line}: {problem} (a corrupt row)")
        rows.append(parsed)
    return rows


def _row_problem(row: dict) -> str | None:
    """What makes a parsed row impossible for a sweep to have written (None if nothing): sizes, counts
    outside [0, trials], fractions outside their range, per-set counts that do not add up."""
    trials = row["trials"]
    if row["n"] < 2 or row["k"] < 1 or row["cap"] < row["k"] or trials < 1:
        return (
            f"expected n >= 2, k >= 1, cap >= k and trials >= 1, got n = {row['n']}, k = {row['k']}, "
            f"cap = {row['cap']}, trials = {trials}"
        )
    if row["seed"] < 0 or row["batch_index"] < 0 or row["work"] < 0:
        return f"expected seed, batch_index and work >= 0, got {row['seed']}, {row['batch_index']}, {row['work']}"
    counts = ("fixed_points", "retrieved") + tuple(STATUS_COLUMNS)
    for key in counts:
        if not 0 <= row[key] <= trials:
            return f"`{key}` must lie in [0, trials = {trials}], got {row[key]}"
    if sum(row[key] for key in STATUS_COLUMNS) > trials:
        return f"the status counts ({', '.join(STATUS_COLUMNS)}) add up to more than trials = {trials}"
    for key, lo, hi in (("rho", 0.0, 1.0), ("stable_bits", 0.0, 1.0), ("overlap", -1.0, 1.0)):
        value = row[key]
        if not (lo <= value <= hi or (key != "rho" and np.isnan(value))):
            return f"`{key}` must lie in [{lo:g}, {hi:g}], got {value}"
    if not (np.isfinite(row["seconds"]) and row["seconds"] >= 0):
        return f"`seconds` must be a finite time >= 0, got {row['seconds']}"
    for key, total in (("retrieved_by_set", "retrieved"), ("fixed_points_by_set", "fixed_points")):
        parts = [int(c) for c in row[key].split()]
        if parts and sum(parts) != row[total]:
            return f"`{key}` adds up to {sum(parts)}, not `{total}` = {row[total]}"
    return None


def _set_counts(text: str) -> str:
    """A per-set count field, checked to be space-separated non-negative integers (or empty)."""
    if any(not part.isdigit() for part in text.split()):
        raise ValueError(f"expected space-separated counts per memory set, got {text!r}")
    return text


def set_counts(row: dict, column: str) -> list[int]:
    """The per-memory-set counts of `column` ("retrieved" or "fixed_points") in a row; [] when every
    trial had its own memories (binary models, `cues_per_set=1`)."""
    return [int(c) for c in row[f"{column}_by_set"].split()]


def read_spec(out_dir: str, error=ValueError) -> SweepSpec:
    spec_path = os.path.join(out_dir, "spec.json")
    with open(spec_path, encoding="utf-8") as f:
        try:
            return SweepSpec.from_json(f.read())
        except (ValueError, TypeError) as e:
            raise error(f"{spec_path} is not a readable sweep specification ({e})") from None


def read_shard(out_dir: str) -> tuple[int, int] | None:
    path = os.path.join(out_dir, "shard.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        try:
            d = json.load(f)
            shard = (int(d["index"]), int(d["count"]))
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"{path} is not a readable shard record ({e})") from None
    check_shard(shard)
    return shard


def check_shard(shard) -> tuple[int, int]:
    """A shard (I, M) with 1 <= I <= M; TypeError for non-integers, ValueError otherwise."""
    try:
        index, count = shard
    except (TypeError, ValueError):
        raise ValueError(f"`shard` must be a pair (I, M) with 1 <= I <= M, got {shard!r}") from None
    for name, v in (("I", index), ("M", count)):
        if not is_integer(v):
            raise ArgumentTypeError(f"`shard` {name} must be an integer, got {v!r}")
    if not 1 <= index <= count:
        raise ValueError(f"`shard` must satisfy 1 <= I <= M, got I = {index}, M = {count}")
    return int(index), int(count)


def open_output(
    spec: SweepSpec, out_dir: str | None, write: bool = True, shard: tuple[int, int] | None = None
) -> list[dict]:
    if out_dir is None:
        return []
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"output folder {out_dir} is a file")
    if write:
        os.makedirs(out_dir, exist_ok=True)
        if not os.access(out_dir, os.W_OK):
            raise PermissionError(f"output folder {out_dir} is not writable")
    spec_path = os.path.join(out_dir, "spec.json")
    if os.path.exists(spec_path):
        stored = read_spec(out_dir, SpecMismatch)
        if stored != spec:
            diff = spec.differences(stored)
            raise SpecMismatch(
                f"{out_dir} holds a sweep with a different specification ({spec_path}): "
                f"{diff}; use another output folder or delete it to start over"
            )
        stored_shard = read_shard(out_dir)
        if stored_shard != shard and (write or shard is not None):

            def name(sh):
                return "the whole sweep" if sh is None else f"shard {sh[0]}/{sh[1]}"

            raise SpecMismatch(f"{out_dir} holds {name(stored_shard)}, not {name(shard)}; use another output folder")
    elif write:
        atomic_write(spec_path, spec.to_json())
        if shard is not None:
            atomic_write(
                os.path.join(out_dir, "shard.json"), json.dumps({"index": shard[0], "count": shard[1]}, indent=2) + "\n"
            )
    rows_path = os.path.join(out_dir, "rows.csv")
    return read_rows(rows_path) if os.path.exists(rows_path) else []


def broadcast_rows(load):
    """`load()` on process 0 (the stored rows, or the error it raised), the same rows on every process."""
    if jax.process_count() == 1:
        return load()
    payload = b""
    if jax.process_index() == 0:
        try:
            payload = b"R" + rows_csv(load()).encode()
        except Exception as e:  # noqa: BLE001 - re-raised on every process below
            payload = b"E" + f"{type(e).__name__}\x00{e}".encode()
    size = int(multihost_utils.broadcast_one_to_all(np.int64(len(payload))))
    buf = np.zeros(size, np.uint8)
    if jax.process_index() == 0:
        buf[:] = np.frombuffer(payload, np.uint8)
    data = bytes(np.asarray(multihost_utils.broadcast_one_to_all(buf)))
    if data[:1] == b"E":
        kind, _, message = data[1:].decode().partition("\x00")
        errors = {
            "SpecMismatch": SpecMismatch,
            "NotADirectoryError": NotADirectoryError,
            "PermissionError": PermissionError,
            "ValueError": ValueError,
        }
        raise errors.get(kind, RuntimeError)(message)
    return parse_rows(data[1:].decode(), "rows broadcast from process 0")
