"""Sweeps beyond one process: two local CPU processes on jax.distributed (gloo) write the table one
process writes, and resume from process 0's rows; job-array shards merge into the unsharded table, and
a killed shard resumes; bad shard specs, mismatched folders and indivisible batches are refused."""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

import nam
from nam import SweepInterrupted
from nam.sweep import _engine

# a binary and a continuous model, several N: every search independent of the others
CLI_GRID = [
    "--models",
    "dam4,na_effective",
    "--n",
    "dam4=16,24",
    "--n",
    "na_effective=16",
    "--trials",
    "32",
    "--batch",
    "32",
    "--no-progress",
]
SHARD_SPEC = dict(n_grid={"hopfield": (20, 30, 40), "dam3": (8, 12), "dam4": (10,)}, trials=16, batch=8, rel_tol=0.2)


def _table(path):
    """A CSV table without its timing and work columns. The work of a continuous row counts the steps to each
    run's steady state; where memory sets are shared, a set's field is a matrix product whose float
    rounding depends on how the sets are laid out over devices, which can move a steady-state stop by one
    step (measured: up to 0.3% of a row's work) without changing any read-out or status."""
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k not in ("seconds", "work")} for row in csv.DictReader(f)]


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _cli(*args):
    return [sys.executable, "-m", "nam", "sweep", *args]


@pytest.mark.slow  # 6-18 s on 2 cores: the default run stays under 10 minutes
def test_two_processes_write_the_one_process_table_and_resume_from_process_0(tmp_path):
    one = str(tmp_path / "one")
    proc = subprocess.run(_cli(*CLI_GRID, "--out", one), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # a killed two-process run: its folder holds the spec and the first rows process 0 wrote
    two = str(tmp_path / "two")
    os.makedirs(two)
    shutil.copy(os.path.join(one, "spec.json"), two)
    with open(os.path.join(one, "rows.csv")) as f:
        lines = f.readlines()
    stored = 5
    with open(os.path.join(two, "rows.csv"), "w") as f:
        f.writelines(lines[: 1 + stored])
    port = _free_port()
    procs = [
        subprocess.Popen(
            _cli(
                *CLI_GRID,
                "--out",
                two,
                "--coordinator",
                f"localhost:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 0)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert "K*" not in outs[0][0] and "wrote" not in outs[0][0]  # process 1 prints no table, writes nothing
    assert "processes: 2" in outs[1][0]
    for name in ("rows.csv", "summary.csv", "fits.csv"):
        assert _table(os.path.join(two, name)) == _table(os.path.join(one, name)), name
    with open(os.path.join(two, "run.json")) as f:
        record = json.load(f)
    assert record["processes"] == 2 and record["device_count"] == 2
    assert record["rows_reused"] == stored and record["rows_measured"] == len(lines) - 1 - stored


def test_three_shards_merge_into_the_unsharded_run(tmp_path):
    spec = nam.SweepSpec(**SHARD_SPEC)
    whole = nam.run_sweep(spec, str(tmp_path / "whole"), progress=False)
    pairs = [nam.shard_pairs(spec, i, 3) for i in (1, 2, 3)]
    assert sorted(p for ps in pairs for p in ps) == sorted((m, n) for m, ns in spec.n_grid.items() for n in ns)
    assert all(pairs)  # the split gives every shard work here
    dirs = [str(tmp_path / f"shard{i}") for i in (1, 2, 3)]
    # shard 2 is killed after two rows and resumed
    with pytest.raises(SweepInterrupted):
        nam.run_sweep(spec, dirs[1], progress=False, shard=(2, 3), max_new_rows=2)
    for i, d in enumerate(dirs, 1):
        part = nam.run_sweep(spec, d, progress=False, shard=(i, 3))
        assert [(s["model"], s["n"]) for s in part.summary] == pairs[i - 1] and part.fits == []
        assert not os.path.exists(os.path.join(d, "fits.csv"))
        with pytest.raises(nam.SpecMismatch, match="shard"):  # a shard folder belongs to its shard
            nam.run_sweep(spec, d, progress=False, shard=(i % 3 + 1, 3))
    merged = nam.merge_sweeps(str(tmp_path / "merged"), dirs[::-1])
    for name in ("rows.csv", "summary.csv", "fits.csv"):
        assert _table(tmp_path / "merged" / name) == _table(tmp_path / "whole" / name), name
    same = lambda a, b: json.dumps(a) == json.dumps(b)  # NaN-aware
    assert same(merged.summary, whole.summary) and same(merged.fits, whole.fits)
    # every row measured once across the shards (shard 2's resumed run reused the 2 rows it had)
    assert merged.record["rows_measured"] + merged.record["rows_reused"] == len(whole.rows)
    assert merged.record["rows_reused"] == 2
    assert len(merged.record["merged_from"]) == 3
    loaded = nam.load_sweep(str(tmp_path / "merged"))
    assert same(loaded.summary, whole.summary)

    # refusals, each naming what differs
    with pytest.raises(ValueError, match=r"shard\(s\) 2/3 missing"):
        nam.merge_sweeps(str(tmp_path / "m2"), [dirs[0], dirs[2]])
    with pytest.raises(ValueError, match="both hold shard 1/3"):
        nam.merge_sweeps(str(tmp_path / "m3"), [dirs[0], dirs[0], dirs[1], dirs[2]])
    other = str(tmp_path / "other")
    os.makedirs(other)
    with open(os.path.join(other, "spec.json"), "w") as f:
        f.write(nam.SweepSpec(**{**SHARD_SPEC, "seed": 1}).to_json())
    shutil.copy(os.path.join(dirs[1], "shard.json"), other)
    with pytest.raises(ValueError, match="seed: 0 != 1"):
        nam.merge_sweeps(str(tmp_path / "m4"), [dirs[0], other, dirs[2]])
    with pytest.raises(ValueError, match="whole sweep, not a shard"):
        nam.merge_sweeps(str(tmp_path / "m5"), [str(tmp_path / "whole")])


@pytest.mark.parametrize("shard", [(0, 3), (4, 3), (1, 0), ("1", 2), (1,)])
def test_bad_shard_is_refused_before_any_compute(tmp_path, shard):
    with pytest.raises((TypeError, ValueError), match="shard"):
        nam.run_sweep(nam.SweepSpec(**SHARD_SPEC), str(tmp_path / "s"), progress=False, shard=shard)
    assert not os.path.exists(tmp_path / "s")


@pytest.mark.parametrize("text", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_cli_bad_shard(tmp_path, text, capsys):
    from nam._cli import main

    assert main(["sweep", "--models", "dam3", "--n", "8", "--shard", text, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--shard" in err and ("I/M" in err or "1 <= I <= M" in err)
    assert not os.path.exists(tmp_path / "s")


def test_batch_not_divisible_by_the_processes_devices_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_engine.jax, "process_count", lambda: 3)
    monkeypatch.setattr(_engine.jax, "device_count", lambda: 3)
    with pytest.raises(ValueError, match=r"`batch` \(8\) must be a multiple of the 3 devices of the 3 processes"):
        nam.run_sweep(nam.SweepSpec(**SHARD_SPEC), str(tmp_path / "s"), progress=False)
    assert not os.path.exists(tmp_path / "s")


def test_initialize_distributed_refuses_partial_or_bad_arguments():
    with pytest.raises(ValueError, match="go together"):
        nam.initialize_distributed("localhost:1234")
    with pytest.raises(ValueError, match="host:port"):
        nam.initialize_distributed("localhost", 2, 0)
    with pytest.raises(ValueError, match=r"`process_id` must be an integer in \[0, 1\]"):
        nam.initialize_distributed("localhost:1234", 2, 2)


def test_cli_lists_only_the_tables_it_wrote(tmp_path, capsys):
    """One N per model gives no fit: no fits.csv is written or announced, and a stale one is removed."""
    from nam._cli import main

    out = tmp_path / "s"
    out.mkdir()
    (out / "fits.csv").write_text("model,exponent\nstale,1\n")
    assert main(["sweep", "--models", "dam3", "--n", "8", "--trials", "8", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "fits.csv" not in text and f"wrote {out / 'summary.csv'}" in text
    assert not (out / "fits.csv").exists()
