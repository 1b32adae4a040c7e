"""The continuous retrieval API: statuses per sample, energy recording, jit/vmap/grad, no recompiles."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam


@pytest.fixture
def dam(getkey):
    xi = nam.random_patterns(getkey(), 4, 40)
    return nam.DenseAssociativeMemory(xi, nam.Polynomial(3), nam.LogCosh(4.0)), xi


def test_steady_state_stop_and_energy_recording(dam, getkey):
    model, xi = dam
    cue = nam.flip_bits(getkey(), xi[1], 0.15)
    ts = jnp.linspace(0.0, 30.0, 61)
    r = nam.retrieve(model, cue, config=nam.SolverConfig("tsit5", t1=30.0), energy_ts=ts)
    assert int(r.status) == nam.Status.CONVERGED
    assert 0 < float(r.t_final) < 30.0
    np.testing.assert_array_equal(r.pattern, xi[1])
    # the criterion holds per block at the end
    vf = model.vector_field(r.state)
    rms = lambda a: float(jnp.sqrt(jnp.mean(a**2)))
    assert rms(vf) <= 1e-6 + 1e-4 * rms(r.state)  # tau = 1: residual = vector field
    e = np.asarray(r.energies)
    recorded = np.asarray(ts) <= float(r.t_final)
    assert np.all(np.isnan(e[~recorded])) and np.all(np.isfinite(e[recorded]))
    assert np.all(np.diff(e[recorded]) <= 1e-9 * np.abs(e[recorded][:-1]))
    np.testing.assert_allclose(e[0], model.energy(cue), rtol=1e-12)
    assert float(r.energy) <= e[recorded][-1] + 1e-9 * abs(e[recorded][-1])


def test_time_limit_and_max_steps_statuses(dam, getkey):
    model, xi = dam
    cue = nam.flip_bits(getkey(), xi[0], 0.1)
    r = nam.retrieve(model, cue, config=nam.SolverConfig("tsit5", t1=0.05))
    assert int(r.status) == nam.Status.TIME_LIMIT
    np.testing.assert_allclose(r.t_final, 0.05)
    r = nam.retrieve(model, cue, config=nam.SolverConfig("tsit5", t1=100.0, max_steps=3))
    assert int(r.status) == nam.Status.MAX_STEPS


def test_divergence_is_reported_per_sample_under_vmap(getkey):
    """Linear neurons with a cubic DAM blow up in finite time from a large state: that sample is
    NON_FINITE, the others in the batch still converge."""
    xi = nam.random_patterns(getkey(), 2, 16)
    model = nam.DenseAssociativeMemory(xi, nam.Polynomial(3), nam.Identity())
    cues = jnp.stack([0.3 * xi[0], 50.0 * xi[1], 0.5 * xi[1]])
    out = nam.retrieve_batch(model, cues, config=nam.SolverConfig("euler", adaptive=False, dt0=0.05, t1=100.0))
    status = np.asarray(out.status)
    assert status[1] == nam.Status.NON_FINITE
    assert status[0] == nam.Status.CONVERGED and status[2] == nam.Status.CONVERGED


@pytest.mark.parametrize("solver", ["euler", "heun", "midpoint", "ralston", "bosh3", "tsit5", "dopri5", "dopri8"])
def test_every_solver_retrieves(solver, dam, getkey):
    model, xi = dam
    cue = nam.flip_bits(getkey(), xi[2], 0.1)
    cfg = nam.SolverConfig(solver, adaptive=solver != "euler", dt0=0.05, t1=60.0)
    r = nam.retrieve(model, cue, config=cfg)
    assert int(r.status) == nam.Status.CONVERGED
    np.testing.assert_array_equal(r.pattern, xi[2])


def test_vmap_equals_loop(dam, getkey):
    model, xi = dam
    cues = jnp.stack([nam.flip_bits(k, xi[i], 0.2) for i, k in enumerate(jr.split(getkey(), 4))])
    batch = nam.retrieve_batch(model, cues)
    for i in range(4):
        single = nam.retrieve(model, cues[i])
        np.testing.assert_allclose(batch.state[i], single.state, rtol=1e-10, atol=1e-12)
        assert int(batch.status[i]) == int(single.status)


def test_state0_and_cue_are_exclusive(dam):
    model, xi = dam
    with pytest.raises(ValueError, match="exactly one"):
        nam.retrieve(model, xi[0], state0=xi[0])
    with pytest.raises(ValueError, match="state0"):
        nam.retrieve(model, state0=jnp.zeros(7))


def test_gradient_through_the_solve_matches_finite_differences(getkey):
    """d(final overlap)/d(beta, tau, T scale) through a fixed Euler solve of the full model, vs central
    differences in float64."""
    n = 12
    xi = nam.random_patterns(getkey(), 2, n)
    cue = nam.flip_bits(getkey(), xi[0], 0.25)
    cfg = nam.SolverConfig.fixed_euler(0.1, 60)

    def loss(params):
        beta, tau, scale = params
        model = nam.NeuronAstrocyte(nam.HebbianTensor(xi, scale=scale), nam.LogCosh(beta), tau_n=tau)
        r = nam.retrieve(model, 0.3 * cue, config=cfg)
        return jnp.dot(model.neuron_activation(r.state), xi[0]) / n

    params = jnp.array([1.3, 0.8, 2.0 / n**3])
    grad = jax.grad(loss)(params)
    eps = 1e-6 * jnp.maximum(jnp.abs(params), 1e-3)
    for i in range(3):
        e = jnp.zeros(3).at[i].set(eps[i])
        fd = (loss(params + e) - loss(params - e)) / (2 * eps[i])
        np.testing.assert_allclose(grad[i], fd, rtol=1e-5, atol=1e-9)
    assert np.all(np.abs(np.asarray(grad)) > 0)


def test_gradient_through_adaptive_steady_state_solve(getkey):
    """Reverse mode through the adaptive, event-terminated solve agrees with finite differences at the
    converged state (the stop time is not differentiated, so compare at tight tolerances)."""
    n = 10
    xi = nam.random_patterns(getkey(), 2, n)
    cue = nam.flip_bits(getkey(), xi[0], 0.1)
    cfg = nam.SolverConfig("tsit5", rtol=1e-10, atol=1e-12, steady_rtol=1e-9, steady_atol=1e-10)

    def loss(beta):
        model = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi, scale=3.0 / n**3), nam.LogCosh(beta))
        return jnp.sum(nam.retrieve(model, cue, config=cfg).state ** 2)

    beta = jnp.asarray(1.1)
    fd = (loss(beta + 1e-5) - loss(beta - 1e-5)) / 2e-5
    assert float(loss(beta)) > 1.0  # a retrieved, non-trivial fixed point
    np.testing.assert_allclose(jax.grad(loss)(beta), fd, rtol=1e-4)


def test_changing_gains_tolerances_and_time_constants_does_not_recompile(getkey):
    xi = nam.random_patterns(getkey(), 3, 10)
    cue = nam.flip_bits(getkey(), xi[0], 0.2)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(model, cue, config):
        return nam.retrieve(model, cue, config=config)

    for beta, tau, rtol, t1, scale in [
        (2.0, 1.0, 1e-4, 50.0, None),
        (3.5, 0.3, 1e-6, 20.0, 0.01),
        (5.0, 2.0, 1e-3, 80.0, 1e-3),
    ]:
        model = nam.NeuronAstrocyte(
            nam.HebbianTensor(xi, scale=scale),
            nam.LogCosh(beta),
            nam.LogCosh(beta),
            nam.LogCosh(beta),
            tau_n=tau,
            tau_s=tau,
            tau_p=tau,
            alpha=0.5 * tau,
        )
        cfg = nam.SolverConfig("tsit5", rtol=rtol, atol=rtol * 1e-2, t1=t1, steady_rtol=rtol, dt0=0.1 * tau)
        jax.block_until_ready(run(model, cue, cfg))
    assert eqx.debug.get_num_traces(run) == 1


def test_binary_retrieval_does_not_recompile_across_patterns(getkey):
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(model, cue):
        return nam.retrieve_binary(model, cue)

    for _ in range(3):
        xi = nam.random_patterns(getkey(), 3, 30)
        run(nam.DenseAssociativeMemory(xi, nam.ExponentialSeparation(0.5)), xi[0])


@pytest.mark.slow  # 6-18 s on 2 cores: the default run stays under 10 minutes
def test_chunked_batches_equal_vmapped_batches(getkey):
    xi = nam.random_patterns(getkey(), 3, 12)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    cues = jnp.stack([nam.flip_bits(k, xi[i % 3], 0.2) for i, k in enumerate(jr.split(getkey(), 5))])
    cfg = nam.SolverConfig.fixed_euler(0.05, 200)
    ref = nam.retrieve_batch(model, cues, config=cfg, chunk_size=5)
    for chunk in (1, 2, 3):
        out = nam.retrieve_batch(model, cues, config=cfg, chunk_size=chunk)
        for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="`chunk_size`"):
        nam.retrieve_batch(model, cues, chunk_size=0)
    with pytest.raises(ValueError, match="`cues`"):
        nam.retrieve_batch(model, cues[:, :5])


@pytest.mark.slow  # 6-18 s on 2 cores: the default run stays under 10 minutes
def test_solver_config_takes_diffrax_objects():
    import diffrax

    xi = nam.random_patterns(jax.random.PRNGKey(0), 3, 16)
    model = nam.DenseAssociativeMemory(xi)
    cue = nam.flip_bits(jax.random.PRNGKey(1), xi[0], 0.125)
    by_name = nam.retrieve(model, cue, config=nam.SolverConfig("tsit5", rtol=1e-6, atol=1e-8))
    by_object = nam.retrieve(
        model,
        cue,
        config=nam.SolverConfig(diffrax.Tsit5(), stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8)),
    )
    assert jnp.array_equal(by_name.pattern, by_object.pattern) and int(by_name.num_steps) == int(by_object.num_steps)
    with pytest.raises(TypeError, match="solver"):
        nam.SolverConfig(3)
    with pytest.raises(ValueError, match="error estimate"):
        nam.SolverConfig(diffrax.Euler())
    fixed = nam.SolverConfig(diffrax.Euler(), stepsize_controller=diffrax.ConstantStepSize(), dt0=0.1, t1=50.0)
    assert nam.Status.names(nam.retrieve(model, cue, config=fixed).status) in ("CONVERGED", "TIME_LIMIT")
    fixed = nam.SolverConfig(
        diffrax.Euler(), stepsize_controller=diffrax.ConstantStepSize(), dt0=0.1, t1=50.0, steady_state=False
    )
    assert nam.Status.names(nam.retrieve(model, cue, config=fixed).status) == "COMPLETED"


def test_save_ts_returns_the_trajectory_of_a_hand_written_solve(getkey):
    """`nam.retrieve(..., save_ts=ts)` saves the state at `ts`: the same numbers as diffeqsolve on the model's
    vector field with SaveAt(ts=ts), for a fixed horizon; after a steady-state stop the later entries are NaN."""
    import diffrax

    xi = nam.random_patterns(getkey(), 3, 16)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    cue = nam.flip_bits(getkey(), xi[0], 0.125)
    ts = jnp.linspace(0.0, 5.0, 11)
    config = nam.SolverConfig("tsit5", t1=5.0, steady_state=False)
    r = nam.retrieve(model, cue, config=config, save_ts=ts)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: model.vector_field(y)),
        diffrax.Tsit5(),
        0.0,
        5.0,
        0.05,
        model.init_state(cue),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-7),
        max_steps=20_000,
    )
    for got, want in zip(jax.tree.leaves(r.states), jax.tree.leaves(sol.ys)):
        assert got.shape == want.shape and got.shape[0] == 11
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(r.save_ts, ts)
    for leaf, last in zip(jax.tree.leaves(r.states), jax.tree.leaves(r.state)):
        np.testing.assert_allclose(leaf[-1], last, rtol=1e-12)  # the last save is the final state (t = t1)
    # a steady-state stop before the last save time: the saves after it are NaN, those before finite
    eff = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi))
    r = nam.retrieve(eff, cue, save_ts=jnp.array([0.0, 1.0, 1e6 - 1.0]), config=nam.SolverConfig(t1=1e6))
    assert int(r.status) == nam.Status.CONVERGED
    assert np.all(np.isfinite(r.states[:2])) and np.all(np.isnan(r.states[2]))
    batch = nam.retrieve_batch(eff, jnp.stack([cue, -cue]), save_ts=ts)
    assert batch.states.shape == (2, 11, 16)
    with pytest.raises(ValueError, match="`save_ts`"):
        nam.retrieve(eff, cue, save_ts=jnp.array([0.0, jnp.nan]))
