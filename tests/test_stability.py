"""`nam.jacobian_spectrum`: the Jacobian of a model's vector field and its eigenvalues, against closed forms
and finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from models_zoo import make_model, random_state

import nam


def test_zero_tensor_effective_model_decays_at_one_over_tau(getkey):
    """T = 0: tau dx/dt = -x, so J = -I / tau and every eigenvalue is -1 / tau (eq. 8 without interaction)."""
    n, tau = 7, 2.5
    xi = nam.random_patterns(getkey(), 3, n)
    model = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi, scale=0.0), tau=tau)
    spec = nam.jacobian_spectrum(model, jr.normal(getkey(), (n,)))
    np.testing.assert_allclose(spec.jacobian, -np.eye(n) / tau, atol=1e-15)
    np.testing.assert_allclose(spec.eigenvalues, np.full(n, -1.0 / tau), atol=1e-12)
    assert spec.eigenvalues.dtype == np.complex128
    assert spec.max_real == pytest.approx(-1.0 / tau, abs=1e-12)
    assert spec.num_unstable == 0
    assert list(spec.blocks) == ["state"] and spec.blocks["state"].size == n
    np.testing.assert_allclose(spec.blocks["state"].eigenvalues, spec.eigenvalues)


def test_linear_hopfield_jacobian_is_coupling_minus_identity(getkey):
    """Identity Lagrangian: tau dx/dt = -x + J x + b is linear, J = (1/N) Xi^T Xi - (K/N) I (Hopfield 1984),
    so the Jacobian is (J - I) / tau and its eigenvalues those of the symmetric matrix J, less 1, over tau."""
    n, k, tau = 9, 4, 0.5
    xi = nam.random_patterns(getkey(), k, n)
    model = nam.ClassicalHopfield(xi, nam.Identity(), tau=tau, b=jr.normal(getkey(), (n,)))
    coupling = np.asarray(xi).T @ np.asarray(xi) / n - k / n * np.eye(n)
    expected = (coupling - np.eye(n)) / tau
    spec = nam.jacobian_spectrum(model, jr.normal(getkey(), (n,)))
    np.testing.assert_allclose(spec.jacobian, expected, atol=1e-13)
    evals = np.sort(np.linalg.eigvalsh(expected))[::-1]
    np.testing.assert_allclose(spec.eigenvalues.real, evals, atol=1e-12)
    np.testing.assert_allclose(spec.eigenvalues.imag, 0.0, atol=1e-12)
    assert spec.max_real == pytest.approx(evals[0], abs=1e-12)
    assert spec.num_unstable == int(np.sum(evals > spec.tol))


@pytest.mark.parametrize("leaks, unstable", [((1.0, 1.0, 1.5), 0), ((1.0, 0.0, 0.0), None)])
def test_full_network_at_the_origin_with_linear_activations(leaks, unstable, getkey):
    """Identity Lagrangians at x = s = p = 0 (eq. 6): every product of activations has zero derivative, so
    tau_n dx = -lam dx, tau_s ds = -alpha ds + dp, tau_p dp = -gamma dp + T dp + ds. With T = 0 each synapse
    pair (s_ij, p_ij) has the 2 x 2 Jacobian [[-alpha / tau_s, 1 / tau_s], [1 / tau_p, -gamma / tau_p]]; at
    alpha = gamma = 0 its eigenvalues are +-1 / sqrt(tau_s tau_p): N^2 unstable directions, N (N + 1) / 2 of
    them symmetric."""
    n, (lam, alpha, gamma), (tau_n, tau_s, tau_p) = 4, leaks, (0.5, 2.0, 0.8)
    xi = nam.random_patterns(getkey(), 2, n)
    lin = nam.Identity()
    model = nam.NeuronAstrocyte(
        nam.HebbianTensor(xi, scale=0.0),
        lin,
        lin,
        lin,
        lam=lam,
        alpha=alpha,
        gamma=gamma,
        tau_n=tau_n,
        tau_s=tau_s,
        tau_p=tau_p,
    )
    zero = nam.NeuronAstrocyteState(jnp.zeros(n), jnp.zeros((n, n)), jnp.zeros((n, n)))
    spec = nam.jacobian_spectrum(model, zero)
    m = n * n
    expected = np.zeros((n + 2 * m, n + 2 * m))
    expected[:n, :n] = -lam / tau_n * np.eye(n)
    expected[n : n + m, n : n + m] = -alpha / tau_s * np.eye(m)
    expected[n : n + m, n + m :] = np.eye(m) / tau_s
    expected[n + m :, n : n + m] = np.eye(m) / tau_p
    expected[n + m :, n + m :] = -gamma / tau_p * np.eye(m)
    np.testing.assert_allclose(spec.jacobian, expected, atol=1e-14)
    pair = np.array([[-alpha / tau_s, 1 / tau_s], [1 / tau_p, -gamma / tau_p]])
    pair_ev = np.linalg.eigvals(pair)
    want = np.sort(np.concatenate([np.full(n, -lam / tau_n), np.repeat(pair_ev.real, m)]))[::-1]
    np.testing.assert_allclose(spec.eigenvalues.real, want, atol=1e-12)
    assert {name: b.size for name, b in spec.blocks.items()} == {"x": n, "s": m, "p": m}
    np.testing.assert_allclose(spec.blocks["x"].eigenvalues, -lam / tau_n, atol=1e-14)
    np.testing.assert_allclose(spec.blocks["s"].eigenvalues, -alpha / tau_s, atol=1e-14)
    np.testing.assert_allclose(spec.blocks["p"].eigenvalues, -gamma / tau_p, atol=1e-14)
    sym = nam.jacobian_spectrum(model, zero, symmetric=True)
    half = n * (n + 1) // 2
    assert sym.jacobian.shape == (n + 2 * half,) * 2 and sym.blocks["s"].size == half
    if unstable is None:  # the saddle: +-1 / sqrt(tau_s tau_p) for every entry
        rate = 1.0 / np.sqrt(tau_s * tau_p)
        assert spec.max_real == pytest.approx(rate, rel=1e-12)
        assert spec.num_unstable == m and sym.num_unstable == half
        assert sym.max_real == pytest.approx(rate, rel=1e-12)
    else:
        assert spec.num_unstable == 0 and spec.max_real < 0 and sym.max_real < 0


def _finite_difference_jacobian(model, state, h=1e-6):
    flat, unravel = ravel_pytree(state)
    f = lambda y: ravel_pytree(model.vector_field(unravel(y)))[0]  # noqa: E731
    cols = jax.jit(jax.vmap(lambda e: (f(flat + h * e) - f(flat - h * e)) / (2 * h)))(jnp.eye(flat.size))
    return np.asarray(cols).T


@pytest.mark.parametrize("name", ["hidden_lse", "effective", "full_hebbian", "full_dense"])
def test_jacobian_matches_finite_differences(name, getkey):
    """At a random state of a small model of every kind (models_zoo), the Jacobian is the central finite
    difference of the vector field, and the eigenvalues are those of that matrix."""
    model = make_model(name, getkey(), n=5)
    state = random_state(model, getkey(), scale=0.5)
    spec = nam.jacobian_spectrum(model, state)
    fd = _finite_difference_jacobian(model, state)
    np.testing.assert_allclose(spec.jacobian, fd, rtol=1e-6, atol=1e-7)
    ev = np.linalg.eigvals(fd)
    assert spec.max_real == pytest.approx(ev.real.max(), abs=1e-6)
    assert np.all(np.diff(spec.eigenvalues.real) <= 0)  # sorted, largest real part first
    np.testing.assert_allclose(np.sort_complex(spec.eigenvalues), np.sort_complex(np.linalg.eigvals(spec.jacobian)))


def test_symmetric_restriction_is_part_of_the_full_spectrum(getkey):
    """The full network keeps s and p symmetric, so its Jacobian on the symmetric matrices is Q^T J Q with an
    invariant range: each of its eigenvalues is one of J's."""
    model = make_model("full_hebbian", getkey(), n=5)
    state = random_state(model, getkey(), scale=0.5)
    full = nam.jacobian_spectrum(model, state)
    sym = nam.jacobian_spectrum(model, state, symmetric=True)
    assert sym.symmetric and not full.symmetric
    assert sym.eigenvalues.shape == (5 + 2 * 15,)
    for ev in sym.eigenvalues:
        assert np.min(np.abs(full.eigenvalues - ev)) < 1e-8
    np.testing.assert_allclose(sym.blocks["x"].eigenvalues, full.blocks["x"].eigenvalues)


def test_validation(getkey):
    n = 5
    model = make_model("full_hebbian", getkey(), n=n)
    state = random_state(model, getkey())
    with pytest.raises(TypeError, match="`model` must be a continuous nam energy model"):
        nam.jacobian_spectrum(nam.ClassicalHopfield, state)
    with pytest.raises(ValueError, match="`state` must match the model's state structure"):
        nam.jacobian_spectrum(model, state.x)
    with pytest.raises(ValueError, match="`state` must match"):
        nam.jacobian_spectrum(model, eqx.tree_at(lambda s: s.s, state, jnp.zeros((n, n + 1))))
    with pytest.raises(ValueError, match="`state` must be finite"):
        nam.jacobian_spectrum(model, eqx.tree_at(lambda s: s.x, state, state.x.at[0].set(jnp.nan)))
    with pytest.raises(ValueError, match="`state` has 55 entries.*more than `max_size` = 54"):
        nam.jacobian_spectrum(model, state, max_size=54)
    with pytest.raises(ValueError, match="`tol` must lie in"):
        nam.jacobian_spectrum(model, state, tol=-1.0)
    with pytest.raises(TypeError, match="`symmetric` must be True or False"):
        nam.jacobian_spectrum(model, state, symmetric="yes")
    # a non-symmetric process matrix: psi'(p) * dp is no longer symmetric for symmetric dp
    lopsided = eqx.tree_at(lambda s: s.p, state, state.p + jnp.triu(jnp.ones((n, n)), 1))
    with pytest.raises(ValueError, match="`symmetric=True`: the vector field at `state` does not map"):
        nam.jacobian_spectrum(model, lopsided, symmetric=True)
    assert nam.jacobian_spectrum(model, lopsided).num_unstable >= 0  # fine on all entries


def test_refuses_a_large_state_before_computing():
    """The default limit (20,000 entries): the full network at N = 100 has 100 + 2 * 100^2 = 20,100."""
    n = 100
    xi = jnp.ones((1, n))
    model = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    state = nam.NeuronAstrocyteState(jnp.zeros(n), jnp.zeros((n, n)), jnp.zeros((n, n)))
    with pytest.raises(ValueError, match="`state` has 20,100 entries; its dense Jacobian would be 20,100 x 20,100"):
        nam.jacobian_spectrum(model, state)


def test_default_tolerance_follows_the_dtype(getkey):
    n = 6
    model = make_model("effective", getkey(), n=n)
    x = jr.normal(getkey(), (n,))
    spec64 = nam.jacobian_spectrum(model, x)
    model32 = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, model)
    spec32 = nam.jacobian_spectrum(model32, x.astype(jnp.float32))
    scale = max(1.0, np.abs(spec64.jacobian).max())
    assert spec64.tol == pytest.approx(np.sqrt(np.finfo(np.float64).eps) * scale)
    assert spec32.tol == pytest.approx(np.sqrt(np.finfo(np.float32).eps) * scale, rel=1e-5)
    assert nam.jacobian_spectrum(model, x, tol=0.0).tol == 0.0
