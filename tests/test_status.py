"""Nothing wrong is reported as right (issue 16, part 1): non-finite read-outs are 0, any non-finite entry
is NON_FINITE, the steady-state test cannot overflow, a blow-up is DIVERGED, and `ok` gates counts."""

import jax.numpy as jnp
import numpy as np
import pytest

import nam


@pytest.fixture
def effective(getkey):
    xi = nam.random_patterns(getkey(), 3, 16)
    return nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi)), xi


def test_non_finite_activation_reads_as_zero(effective):
    model, xi = effective
    state = jnp.asarray(xi[0]).at[1].set(jnp.nan)
    pattern = np.asarray(model.readout(state))
    assert pattern[1] == 0  # the old read-out `activation >= 0` turned NaN into -1
    np.testing.assert_array_equal(np.delete(pattern, 1), np.delete(np.asarray(xi[0]), 1))
    linear = nam.NeuronAstrocyteEffective(model.tensor, nam.Identity())  # activation = state: inf stays inf
    pattern = np.asarray(linear.readout(jnp.asarray(xi[0]).at[2].set(jnp.inf).at[3].set(-jnp.inf)))
    assert pattern[2] == 0 and pattern[3] == 0


def test_non_finite_state_is_non_finite_and_reads_out_as_zero(getkey):
    """Fixed Euler steps on a cubic blow-up overflow to inf and NaN: status NON_FINITE, pattern all 0."""
    xi = nam.random_patterns(getkey(), 2, 16)
    model = nam.DenseAssociativeMemory(xi, nam.Polynomial(4), nam.Identity())
    out = nam.retrieve(model, 10.0 * xi[0], config=nam.SolverConfig("euler", adaptive=False, dt0=0.05, t1=50.0))
    assert not bool(jnp.all(jnp.isfinite(out.state)))
    assert int(out.status) == nam.Status.NON_FINITE
    np.testing.assert_array_equal(out.pattern, np.zeros(16))
    assert not bool(out.ok()) and not bool(out.ok(time_limit_ok=True))


@pytest.mark.parametrize("batch", [False, True])
def test_huge_finite_cue_is_not_converged_at_t0(effective, batch):
    """x.x of a cue of 1e200 overflows float64 (1e20 overflows float32): the steady-state test used to
    read inf <= tol * inf as converged before the first step."""
    model, xi = effective
    cue = jnp.asarray(xi[0]) * 1e200
    if batch:
        out = nam.retrieve_batch(model, jnp.stack([cue, jnp.asarray(xi[1])]))
        status, t_final, steps = int(out.status[0]), float(out.t_final[0]), int(out.num_steps[0])
        assert int(out.status[1]) == nam.Status.CONVERGED
    else:
        out = nam.retrieve(model, cue)
        status, t_final, steps = int(out.status), float(out.t_final), int(out.num_steps)
    assert steps > 0 and t_final > 0
    if status == nam.Status.CONVERGED:  # then it really relaxed: the residual is small at the end
        state = out.state[0] if batch else out.state
        vf = model.vector_field(state)
        assert float(jnp.max(jnp.abs(vf))) < 1e-2 * max(1.0, float(jnp.max(jnp.abs(state))))


def test_huge_cue_float32_is_not_converged_at_t0():
    """The float32 case of the issue, in a process without x64 (cue * 1e20)."""
    import subprocess
    import sys

    code = (
        "import jax.random as jr, nam\n"
        "xi = nam.random_patterns(jr.PRNGKey(0), 3, 16)\n"
        "assert xi.dtype.name == 'float32'\n"
        "r = nam.retrieve(nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi)), xi[0] * 1e20)\n"
        "print(int(r.status), float(r.t_final), int(r.num_steps))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    status, t_final, steps = proc.stdout.split()
    assert float(t_final) > 0 and int(steps) > 0


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_blow_up_under_adaptive_steps_is_diverged(getkey, scale):
    """x' ~ x^3 blows up in finite time: the adaptive solver shrinks its steps until max_steps, on a finite
    state ~1e5 whose sign is the memory. That used to be MAX_STEPS with a clean +-1 pattern."""
    xi = nam.random_patterns(getkey(), 3, 16)
    model = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi), nam.Identity())
    out = nam.retrieve(model, scale * xi[0], config=nam.SolverConfig(max_steps=2000))
    assert int(out.status) in (nam.Status.DIVERGED, nam.Status.NON_FINITE)
    assert not np.array_equal(np.asarray(out.pattern), np.asarray(xi[0]))
    np.testing.assert_array_equal(out.pattern, np.zeros(16))
    assert not bool(out.ok())
    batch = nam.retrieve_batch(model, jnp.stack([scale * xi[0], 0.01 * xi[1]]), config=nam.SolverConfig(max_steps=2000))
    assert int(batch.status[0]) in (nam.Status.DIVERGED, nam.Status.NON_FINITE)
    assert int(batch.status[1]) == nam.Status.CONVERGED  # decays to 0: a finite, clean solve
    np.testing.assert_array_equal(np.asarray(batch.ok()), [False, True])


def test_max_steps_on_a_bounded_trajectory_stays_max_steps(getkey):
    """A solve cut short while it relaxes (nothing runs away) is MAX_STEPS, not DIVERGED."""
    xi = nam.random_patterns(getkey(), 4, 40)
    model = nam.DenseAssociativeMemory(xi, nam.Polynomial(3), nam.LogCosh(4.0))
    out = nam.retrieve(model, nam.flip_bits(getkey(), xi[0], 0.1), config=nam.SolverConfig(max_steps=3))
    assert int(out.status) == nam.Status.MAX_STEPS
    assert not bool(out.ok())


def test_ok_gates_on_status_and_settle_status(getkey):
    xi = nam.random_patterns(getkey(), 3, 16)
    model = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi))
    cue = nam.flip_bits(getkey(), xi[0], 0.1)
    assert bool(nam.retrieve(model, cue).ok())
    euler = nam.SolverConfig.fixed_euler(0.05, 20)
    r = nam.retrieve(model, cue, config=euler)  # a fixed horizon asked for and reached: COMPLETED, counted
    assert int(r.status) == nam.Status.COMPLETED
    assert bool(r.ok())
    # the same horizon with a steady state asked for, not reached: TIME_LIMIT, not counted unless asked
    r = nam.retrieve(model, cue, config=nam.SolverConfig.fixed_euler(0.05, 20, steady_state=True))
    assert int(r.status) == nam.Status.TIME_LIMIT
    assert not bool(r.ok()) and bool(r.ok(time_limit_ok=True))


def test_every_status_has_a_message():
    messages = [s.message for s in nam.Status]
    assert all(isinstance(m, str) and len(m) > 20 for m in messages)
    assert len(set(messages)) == len(messages)
    assert "max_steps" in nam.Status.MAX_STEPS.message


def test_throw_raises_with_the_status_message(getkey):
    import equinox as eqx

    xi = nam.random_patterns(getkey(), 4, 40)
    model = nam.DenseAssociativeMemory(xi, nam.Polynomial(3), nam.LogCosh(4.0))
    cue = nam.flip_bits(getkey(), xi[0], 0.1)
    cut = nam.SolverConfig(max_steps=3)
    assert int(nam.retrieve(model, cue, config=cut).status) == nam.Status.MAX_STEPS  # default: no raise
    with pytest.raises(eqx.EquinoxRuntimeError, match="MAX_STEPS"):
        nam.retrieve(model, cue, config=cut, throw=True)
    with pytest.raises(eqx.EquinoxRuntimeError, match="TIME_LIMIT"):
        nam.retrieve(model, cue, config=nam.SolverConfig(t1=0.05), throw=True)
    # a clean solve passes through unchanged, steady state or fixed horizon
    r = nam.retrieve(model, cue, throw=True)
    assert int(r.status) == nam.Status.CONVERGED
    r = nam.retrieve(model, cue, config=nam.SolverConfig.fixed_euler(0.05, 40), throw=True)
    assert int(r.status) == nam.Status.COMPLETED
    # in a batch: one bad sample raises, with its own message (not the clean sample's)
    cues = jnp.stack([cue, 100.0 * xi[1]])
    lin = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi[:3, :16]), nam.Identity())
    with pytest.raises(eqx.EquinoxRuntimeError, match="DIVERGED|NON_FINITE"):
        nam.retrieve_batch(
            lin, jnp.stack([0.01 * xi[1, :16], 100.0 * xi[0, :16]]), config=nam.SolverConfig(max_steps=2000), throw=True
        )
    assert nam.retrieve_batch(model, cues[:1], throw=True).status.shape == (1,)
    with pytest.raises(TypeError, match="throw"):
        nam.retrieve(model, cue, throw=1)


def test_status_ok_table():
    codes = jnp.arange(len(nam.Status), dtype=jnp.int32)
    ok = np.asarray(nam.status_ok(codes))
    assert {nam.Status(int(c)).name for c in np.flatnonzero(ok)} == {"CONVERGED", "COMPLETED"}
    ok = np.asarray(nam.status_ok(codes, time_limit_ok=True))
    assert {nam.Status(int(c)).name for c in np.flatnonzero(ok)} == {"CONVERGED", "COMPLETED", "TIME_LIMIT"}
    with pytest.raises(TypeError, match="`status`"):
        nam.status_ok(jnp.zeros(3))
    with pytest.raises(TypeError, match="time_limit_ok"):
        nam.status_ok(codes, time_limit_ok=1)


def test_divergence_factor_is_checked():
    with pytest.raises(ValueError, match="`divergence_factor`"):
        nam.SolverConfig(divergence_factor=0.0)
    with pytest.raises(ValueError, match="`divergence_factor`"):
        nam.SolverConfig(divergence_factor=np.nan)


def test_retrieval_loss_counts_only_clean_samples(getkey):
    """`LossAux.exact` counts a sample only where its status is ok (a diverged sample is not retrieved)."""
    xi = nam.random_patterns(getkey(), 3, 16)
    tensor = nam.HebbianTensor(xi)
    cues = jnp.stack([xi[0], 100.0 * xi[1]])
    _, aux = nam.learning.retrieval_loss(
        tensor, cues, xi[:2], lagrangian=nam.Identity(), config=nam.SolverConfig(max_steps=500)
    )
    assert int(aux.status[1]) in (nam.Status.DIVERGED, nam.Status.NON_FINITE)
    assert float(aux.exact) <= 0.5


def test_spiking_summaries_count_only_completed_trials():
    """A spiking trial whose state stopped being finite is a run, not an accuracy."""
    from nam.spiking._curves import _summary

    acc = np.array([[[1.0], [0.5], [0.0]]])  # one noise level, three trials, one read-out time
    status = np.array([[nam.Status.COMPLETED, nam.Status.COMPLETED, nam.Status.NON_FINITE]])
    out = _summary({"accuracy": acc, "input_accuracy": np.array([[0.2, 0.4, 0.9]]), "status": status})
    assert out["mean"] == [[0.75]] and out["input_mean"] == [pytest.approx(0.3)]
    assert out["completed"] == 2 and out["runs"] == 3
    none = _summary({"accuracy": acc, "input_accuracy": np.ones((1, 3)), "status": np.full((1, 3), 3)})
    assert np.isnan(none["mean"][0][0]) and none["completed"] == 0
