"""AM-SU (issue 6, first part): surrogate gradients against their defining formulas, the recurrent and
parallel forms against each other and against an independent slow loop, the LIF reset against the
analytic spike times, bad input."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from nam.astrosnn import AMSU, SURROGATES, spike, surrogate_derivative

FORMULAS = {
    "sigmoid": lambda v, a: a * (1 / (1 + np.exp(-a * v))) * (1 - 1 / (1 + np.exp(-a * v))),
    "atan": lambda v, a: (a / 2) / (1 + (math.pi * a * v / 2) ** 2),
    "triangle": lambda v, a: a * np.maximum(0.0, 1 - a * np.abs(v)),
}


@pytest.mark.parametrize("kind", SURROGATES)
@pytest.mark.parametrize("alpha", [1.0, 4.0])
def test_surrogate_gradient_is_its_defining_formula(kind, alpha, getkey):
    v = jr.normal(getkey(), (50,))
    np.testing.assert_array_equal(spike(v, kind, alpha), (np.asarray(v) >= 0).astype(float))
    grad = jax.vmap(jax.grad(lambda x: spike(x, kind, alpha)))(v)
    np.testing.assert_allclose(grad, FORMULAS[kind](np.asarray(v), alpha), rtol=1e-12, atol=1e-15)
    # each surrogate is the derivative of a unit step: it integrates to 1 (atan's heavy tails leave
    # 1 - (2/pi) arctan(pi alpha L / 2) outside [-L, L])
    grid = np.linspace(-200.0, 200.0, 400_001)
    area = np.trapezoid(np.asarray(surrogate_derivative(jnp.asarray(grid), kind, alpha)), grid)
    expected = 2 / math.pi * math.atan(math.pi * alpha * 200.0 / 2) if kind == "atan" else 1.0
    assert area == pytest.approx(expected, abs=1e-6)


def _reference_readout(k, v, q, lam, normalise):
    """Independent float64 loop over tokens for one head: H = lam H + v k^T, o = H q (/ |z.q|)."""
    t, d = k.shape
    h, z, out = np.zeros((d, d)), np.zeros(d), []
    for i in range(t):
        h = lam * h + np.outer(v[i], k[i])
        z = lam * z + k[i]
        o = h @ q[i]
        out.append(o / (abs(z @ q[i]) + 1e-6) if normalise else o)
    return np.stack(out)


@pytest.mark.slow  # ~10-30 s on 2 cores: the default run stays under 10 minutes
@pytest.mark.parametrize("normalise", [False, True])
def test_recurrent_and_parallel_forms_agree_with_a_slow_loop(normalise, getkey):
    x = jr.normal(getkey(), (96, 8))
    layer = AMSU(8, 12, key=getkey(), heads=3, decay=[0.8, 0.97, 1.0], normalise=normalise)
    _, k, v, q = layer._projections(x)
    rec = layer.read_recurrent(k, v, q)
    ref = np.concatenate(
        [
            _reference_readout(
                np.asarray(k[:, h]), np.asarray(v[:, h]), np.asarray(q[:, h]), float(layer.decay[h]), normalise
            )
            for h in range(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(rec, ref, rtol=1e-10, atol=1e-10)
    for chunk in (1, 8, 32, 96):
        np.testing.assert_allclose(layer.read_parallel(k, v, q, chunk), rec, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(layer.parallel(x, 32), layer.recurrent(x))


@pytest.mark.slow  # ~10-30 s on 2 cores: the default run stays under 10 minutes
def test_forms_agree_in_float32_and_gradients_agree(getkey):
    x = jr.normal(getkey(), (64, 8), dtype=jnp.float32)
    layer = jax.tree.map(
        lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a,
        AMSU(8, 16, key=getkey(), heads=2, kq_spiking=False),
    )
    _, k, v, q = layer._projections(x)
    rec, par = layer.read_recurrent(k, v, q), layer.read_parallel(k, v, q, 16)
    assert rec.dtype == jnp.float32
    np.testing.assert_allclose(par, rec, rtol=1e-5, atol=1e-5 * float(jnp.abs(rec).max()))
    # surrogate gradients through both forms (float64 layer) are the same
    layer64 = AMSU(8, 16, key=getkey(), heads=2)
    x64 = jr.normal(getkey(), (64, 8))
    loss = lambda m, form: jnp.sum(m.recurrent(x64) if form == "rec" else m.parallel(x64, 16))
    g_rec = eqx.filter_grad(lambda m: loss(m, "rec"))(layer64)
    g_par = eqx.filter_grad(lambda m: loss(m, "par"))(layer64)
    for a, b in zip(jax.tree.leaves(g_rec), jax.tree.leaves(g_par)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert float(jnp.abs(g_rec.w_k).max()) > 0 and float(jnp.abs(g_rec.decay_raw).max()) > 0


@pytest.mark.parametrize("reset", ["hard", "soft", "none"])
def test_lif_reset_against_analytic_spike_times(reset):
    """Without the astrocyte and with a constant current I, u_n = I (1 - beta^n) / (1 - beta) before the
    first spike, which comes at the first n with u_n >= theta; a hard reset restarts the count, so the
    spikes are periodic; "none" keeps spiking once above threshold."""
    beta, theta, current = 0.9, 1.0, 0.25
    layer = AMSU(1, 1, key=jr.PRNGKey(0), beta=beta, theta=theta, reset=reset, astrocyte=False)
    layer = eqx.tree_at(lambda m: m.w_i, layer, jnp.ones((1, 1)))
    s = np.asarray(layer.recurrent(jnp.full((40, 1), current)))[:, 0]
    n_first = next(n for n in range(1, 100) if current * (1 - beta**n) / (1 - beta) >= theta)
    first = np.flatnonzero(s)[0]
    assert first == n_first - 1  # token index n-1 is the n-th update
    if reset == "hard":
        np.testing.assert_array_equal(np.flatnonzero(s), np.arange(first, 40, n_first))
    elif reset == "none":
        assert np.all(s[first:] == 1)
    else:
        # soft reset: the membrane keeps the excess, so spikes come at least as often as with a hard reset
        assert len(np.flatnonzero(s)) >= len(range(first, 40, n_first))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(decay=0.0), "decay"),
        (dict(decay=1.5), "decay"),
        (dict(decay="long"), "decay"),
        (dict(decay=[0.9, 0.9]), "one value per head"),
        (dict(heads=3), "divide"),
        (dict(surrogate="relu"), "surrogate"),
        (dict(reset="partial"), "reset"),
        (dict(current_act="tanh"), "current_act"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AMSU(4, 8, key=jr.PRNGKey(0), **kwargs)


def test_chunk_must_divide_the_sequence():
    layer = AMSU(4, 8, key=jr.PRNGKey(0))
    with pytest.raises(ValueError, match="multiple of `chunk`"):
        layer.parallel(jnp.ones((10, 4)), chunk=4)
    with pytest.raises(ValueError, match="surrogate"):
        spike(jnp.ones(3), "relu")
