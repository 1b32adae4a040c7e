"""`nam.plan_sweep` against measured rows, and memory refusal before anything is allocated."""

import pytest

import nam


def test_plan_work_is_within_a_factor_of_three_of_the_measured_work():
    spec = nam.SweepSpec(n_grid={"hopfield": (64, 128), "dam4": (16, 24), "na_effective": (16,)}, trials=32, batch=32)
    planned = nam.plan_sweep(spec)
    result = nam.run_sweep(spec, progress=False)
    for p in planned:
        measured = sum(r["work"] for r in result.rows if r["model"] == p["model"] and r["n"] == p["n"])
        assert p["work"] / 3 <= measured <= 3 * p["work"], (p["model"], p["n"], p["work"], measured)
    assert sum(p["programs"] for p in planned) == 3  # hopfield, dam4 (one each), na_effective at N = 16


def test_a_spec_that_cannot_fit_is_refused_before_compute():
    spec = nam.SweepSpec(n_grid={"dam4": (4000,)}, trials=4096, batch=4096)
    with pytest.raises(MemoryError, match="GiB"):
        nam.run_sweep(spec, progress=False)
    text = nam.format_plan(spec, nam.plan_sweep(spec))
    assert "DOES NOT FIT" in text
