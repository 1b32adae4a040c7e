"""Bad input: a ValueError naming the argument and what was expected, before any compute."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam

XI = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])


@pytest.mark.parametrize("build", [
    lambda p: nam.ClassicalHopfield(p),
    lambda p: nam.DenseAssociativeMemory(p),
    lambda p: nam.HebbianTensor(p),
    lambda p: nam.KroneckerTensor.from_patterns(p),
])
@pytest.mark.parametrize("patterns, match", [
    (np.ones((0, 4)), "K >= 1"),
    (np.ones((3, 1)), "N >= 2"),
    (np.ones(4), r"shape \(K, N\)"),
    (np.array([[1.0, 0.5], [1.0, -1.0]]), r"\+1 and -1"),
    (np.array([[1.0, np.nan], [1.0, -1.0]]), "finite"),
])
def test_bad_patterns(build, patterns, match):
    with pytest.raises(ValueError, match=match):
        build(patterns)


def test_hidden_dam_accepts_real_memories_but_not_nan():
    nam.HiddenNeuronDAM(np.array([[0.3, -1.2], [2.0, 0.1]]))
    with pytest.raises(ValueError, match="finite"):
        nam.HiddenNeuronDAM(np.array([[0.3, np.inf], [2.0, 0.1]]))


@pytest.mark.parametrize("kwargs, name", [
    ({"tau": 0.0}, "tau"), ({"tau": -1.0}, "tau"), ({"tau": np.nan}, "tau"), ({"b": np.ones(3)}, "b"),
    ({"b": np.array([0.0, np.nan, 0.0, 0.0])}, "b"),
])
def test_bad_hopfield_and_dam_arguments(kwargs, name):
    for cls in (nam.ClassicalHopfield, nam.DenseAssociativeMemory):
        with pytest.raises(ValueError, match=f"`{name}`"):
            cls(XI, **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    ({"tau_n": 0.0}, "tau_n"), ({"tau_s": -2.0}, "tau_s"), ({"tau_p": 0.0}, "tau_p"), ({"alpha": -1.0}, "alpha"),
    ({"gamma": np.inf}, "gamma"), ({"lam": -0.5}, "lam"), ({"b": np.ones(5)}, "b"), ({"c": np.ones((4, 3))}, "c"),
    ({"d": np.arange(16.0).reshape(4, 4)}, "d"), ({"neuron_lagrangian": "tanh"}, "neuron_lagrangian"),
])
def test_bad_neuron_astrocyte_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        nam.NeuronAstrocyte(nam.HebbianTensor(XI), **kwargs)


def test_tensor_argument_must_be_an_astrocyte_tensor():
    with pytest.raises(ValueError, match="`tensor`"):
        nam.NeuronAstrocyte(np.ones((4, 4, 4, 4)))
    with pytest.raises(ValueError, match="`tensor`"):
        nam.DenseTensor(np.ones((3, 3, 3)))


def test_bad_cues():
    model = nam.DenseAssociativeMemory(XI)
    with pytest.raises(ValueError, match="`cue`"):
        nam.retrieve(model, np.ones(3))
    with pytest.raises(ValueError, match="`cue`"):
        nam.retrieve(model, np.array([1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError, match="`cue`"):
        nam.retrieve_binary(model, np.array([1.0, 0.2, 1.0, 1.0]))
    with pytest.raises(ValueError, match="`cue`"):
        nam.retrieve_binary(model, np.ones(5))


def test_bad_solver_configs():
    with pytest.raises(ValueError, match="`solver`"):
        nam.SolverConfig("rk4")
    with pytest.raises(ValueError, match="adaptive"):
        nam.SolverConfig("euler")
    with pytest.raises(ValueError, match="`t1`"):
        nam.SolverConfig(t1=0.0)
    with pytest.raises(ValueError, match="`dt0`"):
        nam.SolverConfig(dt0=-0.1)
    with pytest.raises(ValueError, match="`rtol`"):
        nam.SolverConfig(rtol=-1.0)
    with pytest.raises(ValueError, match="`max_steps`"):
        nam.SolverConfig(max_steps=0)
    with pytest.raises(ValueError, match="`steps`"):
        nam.SolverConfig.fixed_euler(0.05, 0)


def test_bad_binary_options():
    model = nam.ClassicalHopfield(XI)
    with pytest.raises(ValueError, match="`mode`"):
        nam.retrieve_binary(model, XI[0], mode="parallel")
    with pytest.raises(ValueError, match="`max_sweeps`"):
        nam.retrieve_binary(model, XI[0], max_sweeps=0)
    with pytest.raises(ValueError, match="`model`"):
        nam.retrieve_binary(nam.HiddenNeuronDAM(XI), XI[0])


def test_bad_separations_and_patterns_helpers():
    with pytest.raises(ValueError, match="`degree`"):
        nam.Polynomial(1)
    with pytest.raises(ValueError, match="`degree`"):
        nam.RectifiedPolynomial(2.5)
    with pytest.raises(ValueError, match="`k`"):
        nam.random_patterns(jr.PRNGKey(0), 0, 5)
    with pytest.raises(ValueError, match="`n`"):
        nam.random_patterns(jr.PRNGKey(0), 2, 1)


def test_init_state_needs_invertible_activations():
    model = nam.NeuronAstrocyte(nam.HebbianTensor(XI), process_lagrangian=nam.LogSumExp(1.0))
    with pytest.raises(ValueError, match="invertible"):
        model.init_state(jnp.asarray(XI[0]))
