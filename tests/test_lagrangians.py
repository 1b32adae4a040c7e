import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam

LAGRANGIANS = [
    nam.LogCosh(2.5),
    nam.Identity(),
    nam.RectifiedPower(3.0),
    nam.Softplus(1.7),
    nam.Exponential(0.8),
    nam.LogSumExp(1.3),
    nam.SphericalNorm(),
]


@pytest.mark.parametrize("lag", LAGRANGIANS, ids=lambda l: type(l).__name__)
@pytest.mark.parametrize("shape", [(7,), (4, 4)])
def test_activation_is_gradient_of_lagrangian(lag, shape, getkey):
    x = jr.normal(getkey(), shape)
    np.testing.assert_allclose(lag.activation(x), jax.grad(lag)(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lag", LAGRANGIANS, ids=lambda l: type(l).__name__)
def test_legendre_term(lag, getkey):
    x = jr.normal(getkey(), (9,))
    expected = float(np.sum(np.asarray(x) * np.asarray(lag.activation(x)))) - float(lag(x))
    np.testing.assert_allclose(lag.legendre(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lag", LAGRANGIANS, ids=lambda l: type(l).__name__)
def test_lagrangian_is_convex(lag, getkey):
    for _ in range(3):
        x = jr.normal(getkey(), (6,)) * 2.0
        hess = jax.hessian(lag)(x)
        assert np.linalg.eigvalsh(np.asarray(hess)).min() >= -1e-9


@pytest.mark.parametrize(
    "lag", [nam.LogCosh(3.0), nam.Identity(), nam.Softplus(2.0), nam.Exponential(0.5)], ids=lambda l: type(l).__name__
)
def test_inverse_activation_round_trip(lag, getkey):
    x = jr.normal(getkey(), (11,))
    np.testing.assert_allclose(lag.inverse_activation(lag.activation(x)), x, rtol=1e-8, atol=1e-8)


def test_closed_forms():
    x = jnp.array([-2.0, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(nam.LogCosh(2.0).activation(x), np.tanh(2.0 * np.asarray(x)))
    np.testing.assert_allclose(nam.LogCosh(2.0)(x), np.sum(np.log(np.cosh(2.0 * np.asarray(x)))) / 2.0)
    np.testing.assert_allclose(nam.RectifiedPower(3.0).activation(x), np.maximum(np.asarray(x), 0) ** 2)
    np.testing.assert_allclose(nam.LogSumExp(1.0).activation(x), np.exp(x) / np.exp(x).sum())
    np.testing.assert_allclose(nam.SphericalNorm(1e-30).activation(x), np.asarray(x) / np.linalg.norm(x))


def test_logcosh_does_not_overflow_in_float32():
    x = jnp.array([500.0, -800.0], dtype=jnp.float32)
    val = nam.LogCosh(1.0)(x)
    assert val.dtype == jnp.float32 and np.isfinite(val)
    np.testing.assert_allclose(val, 1300.0 - 2 * np.log(2.0), rtol=1e-6)


@pytest.mark.parametrize("cls", [nam.LogCosh, nam.Softplus, nam.Exponential, nam.LogSumExp])
@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan")])
def test_bad_gain_raises(cls, beta):
    with pytest.raises(ValueError, match="beta"):
        cls(beta)


def test_bad_power_raises():
    with pytest.raises(ValueError, match="`n`"):
        nam.RectifiedPower(1.5)
