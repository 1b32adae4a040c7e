"""The capacity-sweep engine: resume after interruption, refusal of a changed spec, no recompiles across
K within a bucket, identical tables across device counts, clear errors for bad specs."""

import json
import math
import os
import re
import subprocess
import sys
import textwrap

import pytest

import nam
from nam import SweepInterrupted
from nam.sweep._measure import measure_row
from nam.sweep._programs import TRACES  # white-box: the engine's trace counter and one row

SMALL = dict(n_grid={"hopfield": (20, 30), "dam3": (8, 10)}, trials=16, batch=8, rel_tol=0.2)


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_interrupted_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    spec = nam.SweepSpec(**SMALL)
    full = nam.run_sweep(spec, str(tmp_path / "full"), progress=False)
    out = str(tmp_path / "resumed")
    with pytest.raises(SweepInterrupted):
        nam.run_sweep(spec, out, progress=False, max_new_rows=5)
    with pytest.raises(SweepInterrupted):
        nam.run_sweep(spec, out, progress=False, max_new_rows=4)
    resumed = nam.run_sweep(spec, out, progress=False)
    assert _strip(resumed.rows) == _strip(full.rows)  # no lost rows, no duplicates, same order
    same = lambda a, b: json.dumps(a) == json.dumps(b)  # NaN-aware equality (NaN != NaN in Python)
    assert same(resumed.summary, full.summary) and same(resumed.fits, full.fits)
    written = nam.sweep._store.read_rows(os.path.join(out, "rows.csv"))
    assert _strip(written) == _strip(full.rows)
    keys = [(r["model"], r["n"], r["k"], r["batch_index"]) for r in written]
    assert len(keys) == len(set(keys))
    # every (model, N) bracketed its crossing (with this few trials some intervals are wide), and the interval
    # contains the estimate
    for s in full.summary:
        assert s["status"] in ("bracketed", "wide_interval") and s["ci_low"] <= s["k_star"] <= s["ci_high"]


def test_changed_spec_is_refused(tmp_path):
    nam.run_sweep(nam.SweepSpec(**{**SMALL, "n_grid": {"hopfield": (20,)}}), str(tmp_path), progress=False)
    with pytest.raises(nam.SpecMismatch, match="different specification"):
        nam.run_sweep(
            nam.SweepSpec(**{**SMALL, "n_grid": {"hopfield": (20,)}, "rho": 0.2}), str(tmp_path), progress=False
        )


def test_one_binary_program_serves_every_n_and_k():
    """N and K are traced: the binary model compiles once for its capacity and word count."""
    spec = nam.SweepSpec(n_grid={"dam3": (9, 16, 24)}, trials=4, batch=4)
    key = ("dam3", 1, 64, 4)
    before = TRACES.get(key, 0)
    rows = [measure_row(spec, "dam3", n, k, 0, cap=64, words=1) for n, k in ((9, 5), (16, 30), (24, 64), (24, 7))]
    assert TRACES[key] - before == 1
    assert [r["cap"] for r in rows] == [64] * 4 and all(r["converged"] + r["sweep_limit"] == 4 for r in rows)
    with pytest.raises(ValueError, match="capacity"):
        measure_row(spec, "dam3", 9, 65, 0, cap=64)


def test_table_is_identical_with_four_devices(tmp_path):
    spec = nam.SweepSpec(n_grid={"hopfield": (16,), "dam3": (8,)}, trials=8, batch=8, rel_tol=0.3)
    one = nam.run_sweep(spec, None, progress=False)
    script = textwrap.dedent(f"""
        import json, jax
        jax.config.update("jax_enable_x64", True)
        import nam
        assert len(jax.devices()) == 4, jax.devices()
        spec = nam.SweepSpec.from_json({spec.to_json()!r})
        res = nam.run_sweep(spec, None, progress=False)
        print(json.dumps([{{k: v for k, v in r.items() if k != "seconds"}} for r in res.rows]))
    """)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    four = json.loads(proc.stdout.strip().splitlines()[-1])
    assert four == _strip(one.rows)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_grid": {}}, "non-empty"),
        ({"n_grid": {"hopfield": ()}}, "empty"),
        ({"n_grid": {"hopfield": (2,)}}, "N >= 4"),
        ({"n_grid": {"bogus": (10,)}}, "unknown model"),
        ({"n_grid": {"dam_exp": (50,)}}, "N <= 40"),
        ({"n_grid": {"hopfield": (10,)}, "rho": 0.5}, r"\[0, 0.5\)"),
        ({"n_grid": {"hopfield": (10,)}, "rho": -0.1}, r"\[0, 0.5\)"),
        ({"n_grid": {"hopfield": (10,)}, "trials": 10, "batch": 4}, "multiple"),
        ({"n_grid": {"hopfield": (10,)}, "criterion": "best"}, "criterion"),
    ],
)
def test_bad_specs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nam.SweepSpec(**kwargs)


def test_presets_and_json_round_trip():
    for name in ("default", "full"):
        spec = nam.preset(name)
        assert nam.SweepSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match="preset"):
        nam.preset("huge")


def test_cli_sweep_writes_tables_and_figures(tmp_path, capsys):
    from nam._cli import main

    out = tmp_path / "sweep"
    assert (
        main(["sweep", "--models", "hopfield", "--n", "16,24", "--trials", "8", "--out", str(out), "--no-progress"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "hopfield" in printed and "exponent" in printed
    for name in (
        "rows.csv",
        "summary.csv",
        "fits.csv",
        "spec.json",
        "capacity.png",
        "collapse.png",
        "bit_errors.png",
        "per_unit.png",
    ):
        assert (out / name).stat().st_size > 0
    assert "50% exact retrieval from the cue" in printed
    assert (
        main(
            [
                "sweep",
                "--models",
                "hopfield",
                "--n",
                "16,24",
                "--trials",
                "8",
                "--rho",
                "0.2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "different specification" in capsys.readouterr().err
    assert (
        main(
            [
                "sweep",
                "--models",
                "hopfield",
                "--n",
                "16,24",
                "--trials",
                "8",
                "--criterion",
                "fixed_point",
                "--out",
                str(tmp_path / "fp"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "exact one-step fixed points" in capsys.readouterr().out


@pytest.mark.parametrize("name, n", [("na_effective", 10), ("na_full", 8), ("hidden_dam", 10)])
def test_continuous_models_measure_rows(name, n):
    """Far below capacity (K = 2) every cue with one flipped bit is retrieved and every solve converges;
    far above it (K = 200 for N = 10) retrieval fails. Eight independent memory sets (`cues_per_set=1`):
    with one shared set of two 10-bit memories, the draw of this row has xi_1 two bits from -xi_0, the
    mirror attractor of an even F, and one cue of eight legitimately ends there."""
    spec = nam.SweepSpec(n_grid={name: (n,)}, trials=8, batch=8, cues_per_set=1)
    low = measure_row(spec, name, n, 2, 0)
    assert low["retrieved"] == low["fixed_points"] == low["converged"] == 8 and low["stable_bits"] == 1.0
    if name != "na_full":
        high = measure_row(spec, name, n, 200, 0)
        assert high["retrieved"] <= 2


def test_corrupt_rows_table_is_refused_naming_file_and_line(tmp_path):
    spec = nam.SweepSpec(n_grid={"hopfield": (16,)}, trials=8, batch=8)
    nam.run_sweep(spec, str(tmp_path), progress=False)
    path = tmp_path / "rows.csv"
    text = path.read_text()
    path.write_text(text[: len(text) - 30])  # a row truncated mid-line
    n_lines = len(path.read_text().splitlines())
    with pytest.raises(ValueError, match=rf"rows.csv: line {n_lines}: expected"):
        nam.run_sweep(spec, str(tmp_path), progress=False)


def test_load_sweep_and_report_only_recompute_the_stored_result(tmp_path, capsys):
    from nam._cli import main

    spec = nam.SweepSpec(n_grid={"hopfield": (16, 24), "dam3": (8,)}, trials=8, batch=8, rel_tol=0.3)
    out = str(tmp_path / "s")
    done = nam.run_sweep(spec, out, progress=False)
    loaded = nam.load_sweep(out)
    assert json.dumps(loaded.summary) == json.dumps(done.summary) and json.dumps(loaded.fits) == json.dumps(done.fits)
    assert loaded.record["programs"] == done.record["programs"] and loaded.record["rows_measured"] == len(done.rows)
    assert main(["sweep", "--report-only", "--out", out]) == 0
    assert "compiling" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError):
        nam.load_sweep(str(tmp_path / "none"))


def test_cli_per_model_grids_and_refusals(tmp_path, capsys):
    from nam._cli import main

    out = str(tmp_path / "g")
    assert (
        main(
            [
                "sweep",
                "--models",
                "hopfield,dam3",
                "--n",
                "hopfield=16,24",
                "--n",
                "dam3=8,12",
                "--trials",
                "8",
                "--out",
                out,
                "--no-progress",
            ]
        )
        == 0
    )
    read = lambda name: json.loads((tmp_path / "g" / name).read_text())  # noqa: E731
    assert read("spec.json")["n_grid"] == {"dam3": [8, 12], "hopfield": [16, 24]}
    assert {"compile_seconds", "run_seconds", "programs", "device_kind"} <= set(read("run.json"))
    capsys.readouterr()
    for argv, msg in (
        (["--models", ""], "--models is empty"),
        (["--models", "bogus"], "unknown model"),
        (["--n", "dam_exp=60"], "N <= 40"),
        (["--n", "x=1"], "unknown model"),
    ):
        assert main(["sweep", *argv, "--out", str(tmp_path / "bad"), "--no-progress"]) == 2
        assert msg in capsys.readouterr().err
    assert (
        main(
            [
                "sweep",
                "--models",
                "hopfield,dam3",
                "--n",
                "hopfield=16,24",
                "--n",
                "dam3=8,16",
                "--trials",
                "8",
                "--out",
                out,
                "--no-progress",
            ]
        )
        == 2
    )
    assert "n_grid['dam3']: [8, 16] != [8, 12]" in capsys.readouterr().err
    assert main(["sweep", "--plan", "--models", "dam4"]) == 0
    assert "peak MiB" in capsys.readouterr().out


def test_worker_threads_give_the_one_worker_table(tmp_path):
    """Searches run on several threads at once, finishing in any order; the tables are those of one
    worker (rows in the order one worker measures them), and bad worker counts are refused."""
    spec = nam.SweepSpec(**SMALL)
    one = nam.run_sweep(spec, str(tmp_path / "one"), progress=False, workers=1)
    three = nam.run_sweep(spec, str(tmp_path / "three"), progress=False, workers=3)
    assert _strip(three.rows) == _strip(one.rows)
    assert json.dumps(three.summary) == json.dumps(one.summary) and json.dumps(three.fits) == json.dumps(one.fits)
    for name in ("rows.csv", "summary.csv"):
        a = (
            nam.sweep._store.read_rows(str(tmp_path / "one" / name))
            if name == "rows.csv"
            else (tmp_path / "one" / name).read_text()
        )
        b = (
            nam.sweep._store.read_rows(str(tmp_path / "three" / name))
            if name == "rows.csv"
            else (tmp_path / "three" / name).read_text()
        )
        assert (_strip(a) == _strip(b)) if name == "rows.csv" else a == b
    assert three.record["workers"] == 3 and one.record["workers"] == 1
    for bad in (0, -1):
        with pytest.raises(ValueError, match="`workers` must be a positive integer"):
            nam.run_sweep(spec, None, progress=False, workers=bad)


def test_spec_takes_numpy_integers_and_refuses_bools():
    import numpy as np

    a = nam.SweepSpec(n_grid={"dam3": (np.int64(8), 10)}, trials=16, batch=8, seed=3)
    b = nam.SweepSpec(n_grid={"dam3": (8, 10)}, trials=16, batch=8, seed=3)
    assert a == b and a.to_json() == b.to_json() and all(type(n) is int for n in a.n_grid["dam3"])
    for bad in (dict(trials=True), dict(seed=True), dict(n_grid={"dam3": (True, 8)})):
        with pytest.raises(TypeError, match="integer"):
            nam.SweepSpec(**{**dict(n_grid={"dam3": (8,)}, trials=8, batch=8), **bad})


def test_compile_wall_is_the_union_of_compile_spans(monkeypatch):
    from nam.sweep import _programs

    monkeypatch.setattr(_programs, "COMPILE_SPANS", [(0.0, 2.0), (1.0, 3.0), (5.0, 6.0), (5.5, 5.8)])
    assert _programs.compile_wall(0.0) == pytest.approx(4.0)  # [0, 3] and [5, 6]
    assert _programs.compile_wall(1.5) == pytest.approx(2.5)  # [1.5, 3] and [5, 6]
    assert _programs.compile_wall(7.0) == 0.0


def test_a_repeated_run_keeps_the_measured_run_record(tmp_path):
    """Re-running a finished sweep reuses every row and appends its own record to run.json's history; the top
    level stays the record of the run that measured the rows, and load_sweep reports that one."""
    spec = nam.SweepSpec(n_grid={"hopfield": (16, 24)}, trials=8, batch=8)
    first = nam.run_sweep(spec, str(tmp_path), progress=False)
    assert first.record["rows_measured"] > 0 and len(first.record["history"]) == 1
    again = nam.run_sweep(spec, str(tmp_path), progress=False)
    with open(tmp_path / "run.json") as f:
        stored = json.load(f)
    assert [h["rows_measured"] for h in stored["history"]] == [first.record["rows_measured"], 0]
    assert stored["history"][1]["rows_reused"] == first.record["rows_measured"]
    for record in (stored, again.record, nam.load_sweep(str(tmp_path)).record):
        assert record["wall_seconds"] == first.record["wall_seconds"]
        assert record["rows_measured"] == first.record["rows_measured"]
    (tmp_path / "run.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="run.json is not a readable run record"):
        nam.load_sweep(str(tmp_path))


def test_sweep_restart_and_report_only_refusals(tmp_path, capsys):
    """`--restart` starts afresh in a folder holding another sweep (without it the folder is refused) and
    leaves files that are not the sweep's; `--report-only` refuses options it would ignore, naming them."""
    from nam._cli import main

    out = str(tmp_path / "s")
    base = ["sweep", "--models", "hopfield", "--trials", "8", "--out", out, "--no-progress"]
    assert main(base + ["--n", "16,24"]) == 0
    (tmp_path / "s" / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(base + ["--n", "16,32"]) == 2
    assert "different specification" in capsys.readouterr().err
    assert main(base + ["--n", "16,32", "--restart"]) == 0
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"
    assert {r["n"] for r in nam.load_sweep(out).summary} == {16, 32}
    capsys.readouterr()
    assert main(["sweep", "--report-only", "--out", out, "--models", "dam3", "--trials", "16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--models" in err and "--trials" in err
    assert main(["sweep", "--report-only", "--out", out]) == 0


def test_tables_show_the_criterions_theory_and_flag_unusable_intervals(tmp_path):
    """With `criterion="fixed_point"` the theory columns are the fixed-point load and its exponent, not the
    no-error ones; a bracketed K* whose interval reaches below one memory or is wider than the loads measured is
    reported as "wide_interval", not "bracketed"."""
    from nam.capacity import CrossingResult
    from nam.sweep._engine import _credible

    spec = nam.SweepSpec(n_grid={"dam3": (12, 16)}, trials=16, batch=16, criterion="fixed_point")
    result = nam.run_sweep(spec, str(tmp_path), progress=False)
    text = nam.format_summary(result)
    for s in result.summary:
        row = next(line for line in text.splitlines() if line.startswith("dam3  ") and f" {s['n']} " in line)
        assert row.split()[5] == f"{s['theory_fixed_point']:.3g}"
    fit = result.fits[0]
    assert f"{fit['theory_fixed_point_exponent_same_n']:.3g}" in text
    assert "the theory of this criterion" in text
    points = ((10, 9, 16), (20, 8, 16), (40, 2, 16))
    assert _credible(CrossingResult(20.0, (12.0, 30.0), (20, 40), points, "bracketed")) == "bracketed"
    assert _credible(CrossingResult(20.0, (8.0, 37.0), (20, 40), points, "bracketed")) == "bracketed"
    for ci in ((0.07, 30.0), (5.0, 36.0), (12.0, 55.0)):
        assert _credible(CrossingResult(20.0, ci, (20, 40), points, "bracketed")) == "wide_interval"
    assert _credible(CrossingResult(math.nan, (math.nan, math.nan), None, points, "below_range")) == "below_range"


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_grid={"hopfield": None}), "n_grid['hopfield']"),
        (dict(rho="0.1"), "rho"),
        (dict(rho=None), "rho"),
        (dict(rho=float("nan")), "rho"),
        (dict(rel_tol="a"), "rel_tol"),
        (dict(level=1.0), "level"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
    ],
)
def test_sweep_spec_refuses_bad_fields_naming_them(kwargs, name, tmp_path):
    """Each bad field is refused when the spec is built (before any folder is touched), naming the field."""
    spec = {"n_grid": {"hopfield": (16,)}, **kwargs}
    with pytest.raises((TypeError, ValueError), match=re.escape(name)):
        nam.SweepSpec(**spec)
