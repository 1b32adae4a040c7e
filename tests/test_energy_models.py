"""Every continuous model: the closed-form vector field is the energy gradient with respect to the
activations (checked against jax.grad of the energy), the energy never increases along trajectories
(Kozachkov et al. eq. 6 and Appendix B), and the model classes follow the abstract/final pattern."""

import inspect
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from models_zoo import CONTINUOUS, SINGLE_LAYER, gradient_factors, make_model, random_state

import nam

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", CONTINUOUS)
def test_drive_is_minus_c_times_energy_gradient_wrt_activations(name, getkey):
    """tau dy/dt = -c dE/da. With a = a(y), the chain rule gives dE/dy = J_a(y)^T dE/da, so
    jax.grad(E)(y) must equal the VJP of the activations applied to -drive / c."""
    model = make_model(name, getkey())
    for _ in range(3):
        y = random_state(model, getkey())
        grad_state = jax.grad(model.energy)(y)
        rhs = jax.tree.map(lambda d, c: -d / c, model.drive(y), gradient_factors(y))
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
        state = nam.NeuronAstrocyteState(
            model.neuron_lagrangian.inverse_activation(a.x),
            model.synapse_lagrangian.inverse_activation(a.s),
            model.process_lagrangian.inverse_activation(a.p),
        )
        return model.energy(state)

    grads = jax.grad(energy_of_activations)(act)
    drive = model.drive(y)
    np.testing.assert_allclose(drive.x, -grads.x, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(drive.s, -2 * grads.s, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(drive.p, -2 * grads.p, rtol=1e-8, atol=1e-10)


def test_single_layer_list_matches_the_classes(getkey):
    for name in CONTINUOUS:
        assert isinstance(make_model(name, getkey()), nam.AbstractSingleLayerModel) == (name in SINGLE_LAYER), name


@pytest.mark.parametrize("name", SINGLE_LAYER)
def test_interaction_field_is_minus_gradient_of_interaction_energy(name, getkey):
    """The closed-form -dU/dg of every single-layer model equals -jax.grad(U)."""
    model = make_model(name, getkey())
    for _ in range(3):
        g = model.activations(random_state(model, getkey()))
        np.testing.assert_allclose(
            model.interaction_field(g), -jax.grad(model.interaction_energy)(g), rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("name", SINGLE_LAYER)
def test_single_layer_drive_is_minus_energy_gradient_wrt_activations_directly(name, getkey):
    """E written as a function of g through x = L'^-1(g) (tanh Lagrangians): drive(x) = -dE/dg exactly,
    Legendre and input terms included."""
    model = make_model(name, getkey())
    x = random_state(model, getkey(), scale=0.5)
    grad = jax.grad(lambda g: model.energy(model.lagrangian.inverse_activation(g)))(model.activations(x))
    np.testing.assert_allclose(model.drive(x), -grad, rtol=1e-8, atol=1e-10)


def _known_single_layer_models():
    """Identity Lagrangian (g = x, Legendre term |x|^2 / 2), answers worked by hand."""
    x = jnp.array([1.0, 2.0, -3.0])
    b = jnp.array([0.5, 0.0, -0.5])
    # J = (xi xi^T - I) / 3, xi.x = 6: J x = (6 xi - x) / 3, x.Jx = (36 - 14) / 3, b.x = 2
    hopfield = nam.ClassicalHopfield(jnp.array([[1.0, 1.0, -1.0]]), nam.Identity(), b=b)
    yield hopfield, x, 7.0 - 11.0 / 3.0 - 2.0, [7.0 / 6.0, -2.0 / 3.0, 1.5]
    # F(z) = z^3, z = xi.x = 0.75: E = 0.15625 - 0.75^3, field = 3 z^2 xi = 1.6875 xi
    x2, xi2 = jnp.array([0.5, -0.25]), jnp.array([[1.0, -1.0]])
    dam = nam.DenseAssociativeMemory(xi2, nam.Polynomial(3), nam.Identity(), scale=1.0)
    yield dam, x2, 0.15625 - 0.421875, [1.1875, -1.4375]
    # T = xi xi xi xi: E = 0.15625 - z^4 / 4, field = z^3 xi = 0.421875 xi
    eff = nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi2, scale=1.0), nam.Identity())
    yield eff, x2, 0.15625 - 0.31640625 / 4.0, [-0.078125, -0.171875]


def test_single_layer_known_answers():
    for model, x, energy, drive in _known_single_layer_models():
        np.testing.assert_allclose(model.energy(x), energy, rtol=1e-14, err_msg=type(model).__name__)
        np.testing.assert_allclose(model.drive(x), drive, rtol=1e-14, err_msg=type(model).__name__)
        np.testing.assert_allclose(model.drive(x), -jax.grad(model.energy)(x), rtol=1e-14)  # g = x here


def test_settle_clamps_the_neurons(getkey):
    """A single-layer model has nothing else to settle; the hidden-neuron DAM settles h onto Xi g(v)."""
    hopfield = make_model("hopfield", getkey())
    x = random_state(hopfield, getkey())
    state, status = nam.settle(hopfield, x)
    assert int(status) == nam.Status.CONVERGED
    np.testing.assert_array_equal(state, x)
    hidden = make_model("hidden_relu", getkey())
    start = random_state(hidden, getkey())
    cfg = nam.SolverConfig("tsit5", rtol=1e-10, atol=1e-12, steady_rtol=1e-10, steady_atol=1e-11, t1=500.0)
    state, status = nam.settle(hidden, start, cfg)
    assert int(status) == nam.Status.CONVERGED
    np.testing.assert_array_equal(state.v, start.v)
    np.testing.assert_allclose(state.h, hidden.init_state(start.v).h, rtol=1e-8, atol=1e-9)


def _nam_subclasses(roots):
    seen, todo = set(), list(roots)
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("nam."):
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _abstract_or_final_faults(classes):
    """equinox's abstract/final pattern over `classes`: a class with subclasses is abstract (named Abstract*),
    a concrete class implements every abstract member, and no class overrides a concrete method of a base.
    Returns one message per fault."""
    faults = []
    for cls in classes:
        if not cls.__name__.startswith("Abstract"):
            if any(c in classes for c in cls.__subclasses__()):
                faults.append(f"{cls.__name__} is concrete and subclassed")
            if inspect.isabstract(cls):
                faults.append(f"{cls.__name__} leaves {sorted(cls.__abstractmethods__)} abstract")
        for name in cls.__dict__:
            if name.startswith("__") or name == "_abc_impl":
                continue
            for base in cls.__mro__[1:]:
                attr = base.__dict__.get(name)
                if (
                    base.__module__.startswith("nam.")
                    and attr is not None
                    and not getattr(attr, "__isabstractmethod__", False)
                ):
                    faults.append(f"{cls.__name__}.{name} overrides the concrete {base.__name__}.{name}")
    return faults


def test_model_classes_are_abstract_or_final():
    classes = _nam_subclasses([nam.AbstractEnergyModel, nam.AbstractBinaryModel])
    assert {
        nam.ClassicalHopfield,
        nam.DenseAssociativeMemory,
        nam.HiddenNeuronDAM,
        nam.NeuronAstrocyte,
        nam.NeuronAstrocyteEffective,
        nam.AbstractSingleLayerModel,
    } <= classes
    assert _abstract_or_final_faults(classes) == []


def test_building_block_classes_are_abstract_or_final():
    """The same pattern for the parts models are built from: Lagrangians, separations, astrocyte tensors
    (every nam subclass, wherever it lives)."""
    classes = _nam_subclasses([nam.AbstractLagrangian, nam.AbstractSeparation, nam.AbstractAstrocyteTensor])
    assert {
        nam.LogCosh,
        nam.Identity,
        nam.RectifiedPower,
        nam.Softplus,
        nam.Exponential,
        nam.LogSumExp,
        nam.SphericalNorm,
        nam.Polynomial,
        nam.RectifiedPolynomial,
        nam.ExponentialSeparation,
        nam.HebbianTensor,
        nam.KroneckerTensor,
        nam.DenseTensor,
    } <= classes
    assert _abstract_or_final_faults(classes) == []


def test_abstract_or_final_check_finds_faults():
    """The check itself: an override of a concrete base method, a concrete class with a subclass and a
    missing abstract member are each reported."""

    class Overrides(nam.AbstractLagrangian):
        def __call__(self, x):
            return 0.5 * jnp.sum(x * x)

        def activation(self, x):
            return x

        def inverse_activation(self, y):
            return y

        def legendre(self, x):  # concrete in AbstractLagrangian
            return 0.5 * jnp.sum(x * x)

    class Incomplete(nam.AbstractSeparation):
        def __call__(self, z, mask):
            return jnp.sum(jnp.where(mask, z, 0.0))

    class SubclassesAConcreteClass(nam.Identity):
        pass

    faults = _abstract_or_final_faults({Overrides, Incomplete, nam.Identity, SubclassesAConcreteClass})
    assert "Overrides.legendre overrides the concrete AbstractLagrangian.legendre" in faults
    assert any(f.startswith("Incomplete leaves") and "'difference'" in f for f in faults), faults
    assert "Identity is concrete and subclassed" in faults
    assert _abstract_or_final_faults({nam.Identity, nam.Polynomial, nam.HebbianTensor}) == []


def test_adding_a_model_sketch_is_a_working_model(getkey):
    """The sketch in docs/adding-a-model.md runs, and is ClassicalHopfield with the diagonal kept."""
    text = (REPO_ROOT / "docs" / "adding-a-model.md").read_text()
    namespace = {"__name__": "adding_a_model_sketch"}
    exec(compile(text.split("```python\n", 1)[1].split("```", 1)[0], "adding-a-model.md", "exec"), namespace)
    xi = nam.random_patterns(getkey(), 3, 8)
    mine = namespace["MyHopfield"](xi, nam.LogCosh(2.0), tau=0.5)
    reference = nam.ClassicalHopfield(xi, nam.LogCosh(2.0), zero_diagonal=False, tau=0.5)
    x = jr.normal(getkey(), (8,))
    np.testing.assert_allclose(mine.energy(x), reference.energy(x), rtol=1e-12)
    np.testing.assert_allclose(mine.vector_field(x), reference.vector_field(x), rtol=1e-12)
    g = mine.activations(x)
    np.testing.assert_allclose(mine.interaction_field(g), -jax.grad(mine.interaction_energy)(g), rtol=1e-12)


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
        diffrax.ODETerm(lambda t, y, args: model.vector_field(y)),
        diffrax.Tsit5(),
        0.0,
        t1,
        0.01,
        y0,
        saveat=diffrax.SaveAt(ts=ts, fn=lambda t, y, args: model.energy(y)),
        stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-11),
        max_steps=100_000,
    )
    return sol.ys


@pytest.mark.parametrize("name", CONTINUOUS)
@settings(max_examples=4, deadline=None, derandomize=True)
@given(
    n=st.sampled_from([4, 7]),
    k=st.sampled_from([1, 3]),
    beta=st.floats(0.3, 6.0),
    lam=st.floats(0.2, 2.0),
    alpha=st.floats(0.0, 2.0),
    gamma=st.floats(0.0, 2.0),
    tau=st.floats(0.2, 3.0),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 2.0),
)
def test_energy_never_increases(name, n, k, beta, lam, alpha, gamma, tau, seed, scale):
    key = jr.PRNGKey(seed)
    model = make_model(name, key, n=n, k=k, beta=beta, leaks=(lam, alpha, gamma), taus=(tau, 0.5 * tau, 1.5 * tau))
    y0 = random_state(model, jr.fold_in(key, 1), scale=scale)
    energies = np.asarray(_energy_trajectory(model, y0, 5.0))
    assert np.all(np.isfinite(energies))
    increases = np.diff(energies)
    tol = 1e-7 * (1.0 + np.abs(energies[:-1]))
    assert np.all(increases <= tol), f"energy rose by {increases.max()} for {name}"
