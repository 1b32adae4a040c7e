"""Shared memory sets in the sweep's continuous engine: the same read-outs as every trial owning its memories,
the staged set kernel against the sample kernel, the cluster bootstrap of K*'s interval, the claim table."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nam
from nam.capacity import find_crossing
from nam.sweep import _kernels, _programs
from nam.sweep._report import claim_table


@pytest.mark.parametrize(
    "name, n, k, compact",
    [("na_effective_distinct", 16, 80, False), ("na_effective_distinct", 16, 80, True), ("hidden_dam", 12, 60, True)],
)
def test_shared_sets_read_out_as_trial_owned_memories(name, n, k, compact, monkeypatch):
    """One batch near K*: 16 trials in 2 sets of 8 cues, run once with the sets shared (a matrix-matrix
    field over each set) and once with every trial owning a copy of its set (the per-trial engine,
    `cues_per_set=1`). Memories, cues and targets are identical, so every per-trial output must be, with
    and without the compaction stage of large sets (`COMPACT_SIZE`)."""
    monkeypatch.setattr(_programs, "COMPACT_SIZE", 0 if compact else 2**40)
    monkeypatch.setattr(_programs, "SET_STAGES", ((1, 1), (1, 4), (2, 4)))  # 2 sets: every kind of stage
    batch, cues, cap = 16, 8, 96
    bits, flips = _kernels.draw_trials((3, n, k), batch, n, k, cap, 1, 0.125, cues)
    targets = _kernels.trial_targets(batch, cues, k)
    assert sorted(set(targets.tolist())) == list(range(cues))  # the cues of a set come from different memories
    owned = bits[:, np.arange(batch) // cues, :]
    scal = (jnp.asarray(n, jnp.int32), jnp.asarray(k, jnp.int32))
    shared = jax.jit(_programs.continuous_program(name, n, cap, batch, cues))(bits, flips, targets, *scal)
    single = jax.jit(_programs.continuous_program(name, n, cap, batch, 1))(owned, flips, targets, *scal)
    for a, b in zip(shared[:6], single[:6]):  # stable bits, fixed, exact, overlap, both statuses
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    exact = np.asarray(shared[2])
    assert 0 < exact.sum() < batch  # near capacity: some retrieved, some not, so the check has teeth


def test_set_kernel_matches_the_sample_kernel():
    """A linear decay dy/dt = -f_s r y with a factor f_s per set (the set's "model") and a rate r per sample:
    the set kernel (samples in sets, compacted within sets, then finished sets dropped, their models
    gathered) stops each sample at the same step with the same state and status as the per-sample kernel."""
    rng = np.random.default_rng(0)
    rates = jnp.asarray(rng.uniform(0.05, 2.0, (3, 16)), jnp.float32)
    factors = jnp.asarray([1.0, 0.5, 2.0], jnp.float32)
    y0 = jnp.ones((3, 16, 4), jnp.float32).at[..., 3].set(rates)

    def field_sets(f, y):
        # the samples of a stage are a subset of each set's: their rate travels with them in the state's last
        # entry, which the field leaves constant
        return jnp.concatenate(
            [-f[:, None, None] * y[..., :3] * y[..., 3:], jnp.zeros(y.shape[:2] + (1,), y.dtype)], axis=-1
        )

    ys, steps_s, status_s = _kernels.integrate_steady_sets(
        field_sets,
        factors,
        jnp.asarray(1.0, jnp.float32),
        y0,
        dt=0.1,
        max_steps=300,
        method="rk4",
        stages=((1, 1), (1, 4), (3, 4)),
    )
    flat = y0.reshape(48, 4)
    fs = jnp.repeat(factors, 16)[:, None]

    def field(y):
        return jnp.concatenate([-fs * y[:, :3] * y[:, 3:], jnp.zeros((y.shape[0], 1), y.dtype)], axis=-1)

    yp, steps_p, status_p = _kernels.integrate_steady(
        field, None, jnp.asarray(1.0, jnp.float32), flat, dt=0.1, max_steps=300, method="rk4", stages=(1,)
    )
    np.testing.assert_array_equal(np.asarray(steps_s).ravel(), np.asarray(steps_p))
    np.testing.assert_array_equal(np.asarray(status_s).ravel(), np.asarray(status_p))
    np.testing.assert_allclose(np.asarray(ys).reshape(48, 4), np.asarray(yp), rtol=1e-6, atol=1e-12)
    # the slowest samples hit the step limit, the fast ones converge: both outcomes are exercised
    assert {int(s) for s in np.asarray(status_p)} == {nam.Status.CONVERGED, nam.Status.TIME_LIMIT}


def _curve(k):
    return 1.0 / (1.0 + (k / 500.0) ** 4)


def test_cluster_bootstrap_widens_the_interval_of_correlated_trials():
    """Trials in clusters that succeed or fail together carry the information of one trial per cluster:
    resampling clusters gives a wider interval than treating the same counts as independent trials, and
    the point estimate is the same."""
    rng = np.random.default_rng(1)

    def measure(k, clustered):
        hits = (rng.random(8) < _curve(k)).astype(int) * 16  # 8 clusters of 16, all-or-nothing
        s = int(hits.sum())
        return (s, 128, hits.tolist()) if clustered else (s, 128)

    table = {k: measure(k, True) for k in range(1, 5000)}
    with_c = find_crossing(lambda k: table[k], 300, rel_tol=0.02, k_max=4999)
    without = find_crossing(lambda k: table[k][:2], 300, rel_tol=0.02, k_max=4999)
    assert with_c.k_star == without.k_star
    width = lambda r: math.log(r.ci[1] / r.ci[0])  # noqa: E731
    assert width(with_c) > 1.5 * width(without)


@pytest.mark.parametrize("bad", [(3, 8, [1, 1]), (2, 8, [1, 1, 0]), (2, 8, [-1, 3]), (8, 8, [5, 3]), (2, 8, [[1, 1]])])
def test_cluster_counts_are_checked(bad):
    with pytest.raises(ValueError, match="cluster"):
        find_crossing(lambda k: bad, 10)


def test_spec_memory_set_options():
    spec = nam.SweepSpec(n_grid={"hidden_dam": (16,)}, trials=48, batch=24)
    assert spec.cues_per_set == 12  # the largest divisor of the batch up to 16
    assert nam.SweepSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match="`batch` .* multiple of `cues_per_set`"):
        nam.SweepSpec(n_grid={"hidden_dam": (16,)}, trials=64, batch=64, cues_per_set=24)
    with pytest.raises(TypeError, match="cues_per_set"):
        nam.SweepSpec(n_grid={"hidden_dam": (16,)}, cues_per_set=2.5)
    for bad in (0.5, math.inf, math.nan, "2"):
        with pytest.raises((ValueError, TypeError), match="step_factor"):
            nam.SweepSpec(n_grid={"hidden_dam": (16,)}, step_factor=bad)


def test_claim_table_needs_intervals_apart():
    def row(model, n, k, lo, hi, units):
        return {
            "model": model,
            "n": n,
            "k_star": k,
            "k_star_per_unit": k / units,
            "per_unit_low": lo / units,
            "per_unit_high": hi / units,
        }

    summary = [
        row("hidden_dam", 96, 6000, 5900, 6100, 6096),
        row("hidden_dam", 128, 8400, 8300, 8500, 8528),
        row("na_effective_distinct", 96, 17000, 15000, 18500, 18528),
        row("na_effective_distinct", 128, 39000, 35000, 42000, 32896),
    ]
    table = {(c["model"], c["n"]): c for c in claim_table(summary)}
    assert not table[("na_effective_distinct", 96)]["holds"]
    assert table[("na_effective_distinct", 128)]["holds"]
    # an interval that overlaps the hidden DAM's does not count, even with the point estimate above it
    summary[3] = row("na_effective_distinct", 128, 39000, 32000, 42000, 32896)
    assert not claim_table(summary)[1]["holds"]


def test_a_longer_step_limit_changes_no_row_whose_runs_all_settled():
    """The step limit can only matter to runs that reach it: a row with no TIME_LIMIT run is the same row
    (read-outs, statuses, work) under three times the limit, and its programs are distinct (the limit is
    part of the program key)."""
    from nam.sweep._measure import measure_row

    rows = [
        measure_row(
            nam.SweepSpec(n_grid={"na_effective_distinct": (16,)}, trials=32, batch=32, step_factor=f),
            "na_effective_distinct",
            16,
            85,
            0,
        )
        for f in (1, 3)
    ]
    assert rows[0]["time_limit"] == 0 and 0 < rows[0]["retrieved"] < 32
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert strip(rows[0]) == strip(rows[1])
