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


def test_large_binary_sweeps_climb_a_capacityladder():
    """One binary program serves every N while its memories are small; the accelerator preset's dam4
    (N to 384, K* ~ 1e6) instead gets rungs 4x apart, so each load runs in a program at most 4x its size
    and the largest row stays within a few GiB."""
    from nam.sweep._plan import ladder, rung

    default = nam.preset("default")
    assert len({ladder(default, "dam4", n, 1) for n in default.n_grid["dam4"]}) == 1
    full = nam.preset("full")
    base = ladder(full, "dam4", 384, 1)
    assert base == ladder(full, "dam4", 32, 1) < 10**4  # one ladder per model, from its smallest N
    for k in (base + 1, 3 * base, 10**5, 7 * 10**5, 2 * 10**6):
        cap = rung("dam4", base, k)
        assert k <= cap < 4 * k and (cap // base) & (cap // base - 1) == 0  # a power-of-two multiple of the base
    rows = [r for r in nam.plan_sweep(full) if r["model"] == "dam4"]
    assert [r["cap"] for r in rows] == sorted(r["cap"] for r in rows)
    assert max(r["peak_bytes"] for r in rows) <= 8 * 2**30
    assert sum(r["programs"] for r in rows) == len({r["cap"] for r in rows})
