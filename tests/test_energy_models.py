"""Every continuous model: the vector field is the energy gradient with respect to the activations,
and the energy never increases along trajectories (Kozachkov et al. eq. 6 and Appendix B)."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nam
from models_zoo import CONTINUOUS, make_model, random_state


@pytest.mark.parametrize("name", CONTINUOUS)
def test_drive_is_minus_c_times_energy_gradient_wrt_activations(name, getkey):
    """tau dy/dt = -c dE/da. With a = a(y), the chain rule gives dE/dy = J_a(y)^T dE/da, so
    jax.grad(E)(y) must equal the VJP of the activations applied to -drive / c."""
    model = make_model(name, getkey())
    for _ in range(3):
        y = random_state(model, getkey())
        grad_state = jax.grad(model.energy)(y)
        rhs = jax.tree.map(lambda d, c: -d / c, model.drive(y), model.gradient_factors())
        _, vjp = jax.vjp(model.activations, y)
        (expected,) = vjp(rhs)
        for got, want in zip(jax.tree.leaves(grad_state), jax.tree.leaves(expected)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_full_model_gradient_wrt_activations_directly(getkey):
    """For tanh Lagrangians, write E as a function of the activations (phi, g, psi) through the Legendre
    conjugate x = atanh(phi)/beta, and check -dE/dphi, -2 dE/dg, -2 dE/dpsi against the drive exactly."""
    model = make_model("full_hebbian", getkey(), beta=1.5)
    y = random_state(model, getkey(), scale=0.5)
    act = model.activations(y)

    def energy_of_activations(a):
        state = nam.NeuronAstrocyteState(model.neuron_lagrangian.inverse_activation(a.x),
                                         model.synapse_lagrangian.inverse_activation(a.s),
                                         model.process_lagrangian.inverse_activation(a.p))
        return model.energy(state)

    grads = jax.grad(energy_of_activations)(act)
    drive = model.drive(y)
    np.testing.assert_allclose(drive.x, -grads.x, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(drive.s, -2 * grads.s, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(drive.p, -2 * grads.p, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_vector_field_divides_by_time_constants(name, getkey):
    model = make_model(name, getkey())
    y = random_state(model, getkey())
    vf = model.vector_field(y)
    for v, d, tau in zip(jax.tree.leaves(vf), jax.tree.leaves(model.drive(y)), jax.tree.leaves(model.time_constants())):
        np.testing.assert_allclose(v * tau, d, rtol=1e-12)


@eqx.filter_jit
def _energy_trajectory(model, y0, t1):
    ts = jnp.linspace(0.0, t1, 60)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: model.vector_field(y)), diffrax.Tsit5(), 0.0, t1, 0.01, y0,
        saveat=diffrax.SaveAt(ts=ts, fn=lambda t, y, args: model.energy(y)),
        stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-11), max_steps=100_000)
    return sol.ys


@pytest.mark.parametrize("name", CONTINUOUS)
@settings(max_examples=4, deadline=None, derandomize=True)
@given(n=st.sampled_from([4, 7]), k=st.sampled_from([1, 3]),
       beta=st.floats(0.3, 6.0), lam=st.floats(0.2, 2.0), alpha=st.floats(0.0, 2.0), gamma=st.floats(0.0, 2.0),
       tau=st.floats(0.2, 3.0), seed=st.integers(0, 2**16), scale=st.floats(0.1, 2.0))
def test_energy_never_increases(name, n, k, beta, lam, alpha, gamma, tau, seed, scale):
    key = jr.PRNGKey(seed)
    model = make_model(name, key, n=n, k=k, beta=beta, leaks=(lam, alpha, gamma), taus=(tau, 0.5 * tau, 1.5 * tau))
    y0 = random_state(model, jr.fold_in(key, 1), scale=scale)
    energies = np.asarray(_energy_trajectory(model, y0, 5.0))
    assert np.all(np.isfinite(energies))
    increases = np.diff(energies)
    tol = 1e-7 * (1.0 + np.abs(energies[:-1]))
    assert np.all(increases <= tol), f"energy rose by {increases.max()} for {name}"
