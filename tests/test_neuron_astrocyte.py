"""The neuron-astrocyte network of Kozachkov, Slotine & Krotov: reduction, initialisation, retrieval."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optimistix as optx
import pytest
from models_zoo import symmetric

import nam


def test_effective_hebbian_is_quartic_dam(getkey):
    """Eq. 11: with Hebbian T the effective model is the DAM with F(z) = scale z^4 / 4."""
    n, k = 12, 3
    xi = nam.random_patterns(getkey(), k, n)
    eff = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi), nam.LogCosh(3.0))
    dam = nam.DenseAssociativeMemory(xi, nam.Polynomial(4), nam.LogCosh(3.0), scale=0.25 / n**3)
    x = jr.normal(getkey(), (n,))
    np.testing.assert_allclose(eff.energy(x), dam.energy(x), rtol=1e-12)
    np.testing.assert_allclose(eff.drive(x), dam.drive(x), rtol=1e-12)


def _effective_fixed_point(eff, x0):
    cfg = nam.SolverConfig("tsit5", rtol=1e-10, atol=1e-12, steady_rtol=1e-10, steady_atol=1e-11, t1=500.0)
    r = nam.retrieve(eff, x0, config=cfg)
    assert int(r.status) == nam.Status.CONVERGED
    return r.state


@pytest.mark.parametrize("tensor_kind", ["hebbian", "kronecker"])
def test_full_and_effective_fixed_points_agree(tensor_kind, getkey):
    """alpha = gamma = 0, lambda = 1: the full model's fixed points projected on x are the effective model's
    (eqs. 7-9), in both directions."""
    n, k = 10, 2
    xi = nam.random_patterns(getkey(), k, n)
    if tensor_kind == "hebbian":
        tensor = nam.HebbianTensor(xi, scale=2.0 / n**3)
    else:
        mats = jnp.stack([symmetric(kk, n) / n for kk in jr.split(getkey(), 3)])
        tensor = nam.KroneckerTensor(jnp.array([0.5, 0.3, 0.2]), mats, scale=1.0 / n)
    lag = nam.LogCosh(2.0)
    full = nam.NeuronAstrocyte(tensor, lag, nam.LogCosh(1.0), nam.LogCosh(1.0), lam=1.0, alpha=0.0, gamma=0.0)
    eff = full.effective()
    x0 = xi[0] * jnp.where(jr.uniform(getkey(), (n,)) < 0.2, -1.0, 1.0) * 0.8

    # effective -> full: the full state built on x* (synapses and processes at their algebraic
    # fixed point) has zero velocity in every block.
    x_star = _effective_fixed_point(eff, x0)
    full_state = full.init_state(x_star)
    for leaf in jax.tree.leaves(full.vector_field(full_state)):
        assert float(jnp.max(jnp.abs(leaf))) < 1e-8
    # and the effective energy equals the full energy there up to the constant Legendre terms of s, p
    # (which vanish with alpha = gamma = 0): E_full = E_eff at the fixed point.
    np.testing.assert_allclose(full.energy(full_state), eff.energy(x_star), rtol=1e-9)

    # full -> effective: without leaks the full fixed points are saddles in the s, p directions (s and p
    # drift off to saturation), so find one by a Newton root solve of the full vector field, started
    # from a perturbed state; its x must be a fixed point of the effective model.
    perturbed = jax.tree.map(lambda a: a + 0.05 * jr.normal(getkey(), a.shape), full_state)
    perturbed = eqx.tree_at(
        lambda st: (st.s, st.p), perturbed, (0.5 * (perturbed.s + perturbed.s.T), 0.5 * (perturbed.p + perturbed.p.T))
    )
    root = optx.root_find(
        lambda y, args: full.vector_field(y), optx.Newton(rtol=1e-12, atol=1e-12), perturbed, max_steps=100, throw=False
    )
    assert root.result == optx.RESULTS.successful
    for leaf in jax.tree.leaves(full.vector_field(root.value)):
        assert float(jnp.max(jnp.abs(leaf))) < 1e-9
    assert float(jnp.max(jnp.abs(eff.vector_field(root.value.x)))) < 1e-8
    np.testing.assert_allclose(root.value.x, x_star, rtol=1e-6, atol=1e-8)


def test_init_state_solves_leak_free_algebraic_equations(getkey):
    n = 8
    xi = nam.random_patterns(getkey(), 3, n)
    c, d = symmetric(getkey(), n, 0.05), symmetric(getkey(), n, 0.05)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi), c=c, d=d)
    cue = 0.3 * nam.flip_bits(getkey(), xi[0], 0.25)  # |phi_i phi_j + c_ij| < 1: inside tanh's range
    st = model.init_state(cue)
    a = model.activations(st)
    np.testing.assert_allclose(a.p, -(jnp.outer(a.x, a.x) + c), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.s, -(model.tensor.contract(a.p) + d), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(st.x, cue)


def test_settle_reaches_the_leaky_clamped_fixed_point(getkey):
    n = 8
    xi = nam.random_patterns(getkey(), 2, n)
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi), alpha=1.0, gamma=0.5)
    cue = nam.flip_bits(getkey(), xi[0], 0.25)
    cfg = nam.SolverConfig("tsit5", rtol=1e-10, atol=1e-12, steady_rtol=1e-10, steady_atol=1e-11)
    st, status = nam.settle(model, model.init_state(cue), cfg)
    assert int(status) == nam.Status.CONVERGED
    np.testing.assert_array_equal(st.x, cue)
    a = model.activations(st)
    res_s = -model.alpha * st.s + jnp.outer(a.x, a.x) + a.p
    res_p = -model.gamma * st.p + model.tensor.contract(a.p) + a.s
    assert float(jnp.max(jnp.abs(res_s))) < 1e-8 and float(jnp.max(jnp.abs(res_p))) < 1e-8


@pytest.fixture(scope="module")
def tutorial():
    """The authors' tutorial: N = 500, K = 10, tanh(5 z) everywhere, leaks 1, T / N^3, Euler dt 0.05 x 1000,
    10% of the bits flipped, synapses and processes starting at their algebraic fixed point."""
    key = jr.PRNGKey(7)
    n, k = 500, 10
    xi = nam.random_patterns(jr.fold_in(key, 0), k, n)
    cues = jax.vmap(lambda kk, p: nam.flip_bits(kk, p, 0.1))(jr.split(jr.fold_in(key, 1), 3), xi[:3])
    return xi, cues, nam.SolverConfig.fixed_euler(0.05, 1000)


def test_tutorial_setting_retrieves_the_memory(tutorial):
    xi, cues, cfg = tutorial
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    out = nam.retrieve_batch(model, cues, config=cfg)
    assert np.all(np.asarray(out.num_steps) == 1000)
    assert np.all(np.asarray(out.status) == nam.Status.COMPLETED)  # a fixed horizon, run to its end
    assert np.all(np.asarray(out.ok()))  # so the tutorial's retrievals count (issue 24 item 4)
    for i in range(cues.shape[0]):
        assert float(nam.overlap(cues[i], xi[i])) == pytest.approx(0.8)
        np.testing.assert_array_equal(out.pattern[i], xi[i])


def test_tutorial_setting_fails_without_the_astrocyte(tutorial):
    xi, cues, cfg = tutorial
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi, scale=0.0))
    out = nam.retrieve_batch(model, cues, config=cfg)
    for i in range(cues.shape[0]):
        assert not np.array_equal(np.asarray(out.pattern[i]), np.asarray(xi[i]))
