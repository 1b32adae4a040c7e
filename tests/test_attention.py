"""The attention limit of the neuron-astrocyte network (Kozachkov, Slotine & Krotov, Appendix C) against its
closed forms: calcium conservation and the synchronisation rate, the read-mode fixed point (eq. 25), the
Hebbian write + read equal to linear attention, causal masking against a per-position reference, gradients
against finite differences, the random-feature error against M, and the astro-attention language model."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from nam import SolverConfig, Status
from nam.astrosnn import AstrocyteAttentionLM, build_model, parameter_count
from nam.attention import (
    AstrocyteAttention,
    AttentionNetwork,
    AttentionState,
    LearnedPositiveFeatures,
    PositiveRandomFeatures,
    astrocyte_attention,
    hebbian_write,
    linear_attention,
    read_init,
    softmax_attention,
    softmax_kernel,
    solve_network,
)
from nam.attention._linear import _stable_features

TIGHT = SolverConfig(rtol=1e-10, atol=1e-12, steady_rtol=1e-10, steady_atol=1e-12, max_steps=50_000, t1=2000.0)


def _network(key, n=3, m=4, read=1.0, tau_p=1.0):
    k1, k2, k3, k4 = jr.split(key, 4)
    c = jr.normal(k1, (n, m))
    inputs = jr.uniform(k2, (m,), minval=0.2, maxval=1.0)
    values = jr.normal(k3, (n,))
    p0 = jr.uniform(k4, (n, m), minval=0.5, maxval=1.5)  # positive, far from synchronised
    net = AttentionNetwork(c, inputs, values, read=read, tau_p=tau_p)
    return net, p0


# --- the network -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_block_drives_are_gradients_of_block_energies(getkey):
    net, p0 = _network(getkey(), read=0.7)
    state = AttentionState(jr.normal(getkey(), (3,)), jr.normal(getkey(), (3, 4)), p0)
    drive = net.drive(state)
    e = lambda x, s, p: net.block_energies(AttentionState(x, s, p))
    assert jnp.allclose(drive.x, -jax.grad(lambda x: e(x, state.s, state.p).x)(state.x), rtol=1e-12)
    assert jnp.allclose(drive.s, -jax.grad(lambda s: e(state.x, s, state.p).s)(state.s), rtol=1e-12)
    assert jnp.allclose(drive.p, -jax.grad(lambda p: e(state.x, state.s, p).p)(state.p), rtol=1e-12)


@pytest.mark.parametrize("tau_p", [1.0, 2.5])
def test_calcium_conserved_and_synchronises_at_rate_2NM_over_tau(getkey, tau_p):
    n, m = 3, 4
    net, p0 = _network(getkey(), n, m, tau_p=tau_p)
    state0 = net.init_state(p0)
    l0 = net.desynchrony(state0)
    for t in (0.02, 0.05, 0.1):
        cfg = SolverConfig(rtol=1e-11, atol=1e-13, steady_state=False, t1=t)
        sol = solve_network(net, state0, cfg)
        assert int(sol.status) == Status.COMPLETED  # a fixed horizon, run to its end
        assert jnp.allclose(net.calcium(sol.state), net.calcium(state0), rtol=1e-12)
        expected = l0 * math.exp(-2 * n * m * t / tau_p)
        assert jnp.allclose(net.desynchrony(sol.state), expected, rtol=1e-6)
        # a factor of 2 in the rate (exp(-N M t / tau)) is far outside the tolerance
        assert not jnp.allclose(net.desynchrony(sol.state), l0 * math.exp(-n * m * t / tau_p), rtol=1e-2)


def test_read_mode_reaches_the_closed_form_fixed_point_eq25(getkey):
    n, m = 3, 4
    net, p0 = _network(getkey(), n, m)
    sol = solve_network(net, net.init_state(p0), TIGHT)
    assert int(sol.status) == Status.CONVERGED
    eq25 = n * m * (net.c @ net.inputs) / jnp.sum(p0)
    assert jnp.allclose(sol.state.x, eq25, rtol=1e-8, atol=1e-10)
    fp = net.fixed_point(p0)
    assert jnp.allclose(fp.x, eq25, rtol=1e-12)
    assert jnp.allclose(sol.state.s, net.c / jnp.mean(p0), rtol=1e-8, atol=1e-10)
    assert jnp.allclose(sol.state.p, jnp.mean(p0), rtol=1e-10)
    # sign and factor errors are far outside the tolerance
    for wrong in (-eq25, 2 * eq25, eq25 / n, eq25 / m):
        assert not jnp.allclose(sol.state.x, wrong, rtol=1e-3)


def test_write_mode_settles_on_the_value(getkey):
    net, p0 = _network(getkey(), read=0.0)
    sol = solve_network(net, net.init_state(p0), TIGHT)
    assert int(sol.status) == Status.CONVERGED
    assert jnp.allclose(sol.state.x, net.values, rtol=1e-8, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("causal", [False, True])
def test_hebbian_write_and_read_give_linear_attention(getkey, causal):
    t, d, dv, m = 5, 3, 2, 8
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    features = PositiveRandomFeatures(d, m, seed=3)
    qf, kf = features(q), features(k)

    def read(i, qf_i):
        mask = (jnp.arange(t) <= i).astype(v.dtype) if causal else jnp.ones((t,), v.dtype)
        p0 = read_init(qf_i, kf, dv, mask)
        a = 1.0 / jnp.mean(p0)  # a constant factor on the key features: p* = 1, cancels in eq. 25
        net = AttentionNetwork(a * hebbian_write(v, kf, mask), qf_i, tau_p=float(dv * m))
        return solve_network(net, net.init_state(a * p0), TIGHT)

    sol = jax.vmap(read)(jnp.arange(t), qf)
    assert np.all(np.asarray(sol.status) == Status.CONVERGED)
    expected = linear_attention(qf, kf, v, causal=causal)
    assert jnp.allclose(sol.state.x, expected, rtol=1e-7, atol=1e-9)
    # and that is the explicit formula sum_s (q~ . k~_s) v_s / sum_s q~ . k~_s
    w = qf @ kf.T
    if causal:
        w = jnp.where(jnp.tril(jnp.ones((t, t), bool)), w, 0.0)
    assert jnp.allclose(expected, (w @ v) / jnp.sum(w, axis=1, keepdims=True), rtol=1e-12)


@pytest.mark.slow
def test_network_solve_is_differentiable(getkey):
    net, p0 = _network(getkey())
    cfg = SolverConfig(rtol=1e-10, atol=1e-12, steady_state=False, t1=30.0)
    loss = lambda c: jnp.sum(solve_network(eqx.tree_at(lambda x: x.c, net, c), net.init_state(p0), cfg).state.x ** 2)
    g = jax.grad(loss)(net.c)
    # at t1 = 30 the state is at the fixed point, x* = c I / p*: d|x*|^2/dc = 2 x* I^T / p*
    x_star = net.fixed_point(p0).x
    assert jnp.allclose(g, 2 * jnp.outer(x_star, net.inputs) / jnp.mean(p0), rtol=1e-6, atol=1e-9)


def test_network_arguments_are_named():
    with pytest.raises(ValueError, match="`inputs`"):
        AttentionNetwork(jnp.ones((3, 4)), jnp.ones(5))
    with pytest.raises(ValueError, match="`values`"):
        AttentionNetwork(jnp.ones((3, 4)), jnp.ones(4), jnp.ones(2))
    with pytest.raises(ValueError, match="`tau_p`"):
        AttentionNetwork(jnp.ones((3, 4)), jnp.ones(4), tau_p=0.0)
    net = AttentionNetwork(jnp.ones((3, 4)), jnp.ones(4))
    with pytest.raises(ValueError, match="`p0`"):
        net.init_state(jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="`state0`"):
        solve_network(net, AttentionState(jnp.ones(2), jnp.ones((3, 4)), jnp.ones((3, 4))))


# --- features and closed forms ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("orthogonal", [False, True])
def test_positive_features_estimate_the_softmax_kernel(getkey, orthogonal):
    d, m = 4, 4096
    x, y = 0.5 * jr.normal(getkey(), (d,)), 0.5 * jr.normal(getkey(), (d,))
    f = PositiveRandomFeatures(d, m, seed=1, orthogonal=orthogonal)
    assert jnp.all(f(x) > 0)
    estimate = jnp.dot(f(x), f(y))
    # relative sd of the estimate: sqrt(exp(|x+y|^2) - 1) / sqrt(M) (iid); 4 sd
    bound = 4 * math.sqrt(math.expm1(float(jnp.sum((x + y) ** 2))) / m)
    assert abs(float(estimate / softmax_kernel(x, y)) - 1) < bound
    assert f.weights().shape == (m, d)
    assert jnp.array_equal(f.weights(), f.weights())


def test_learned_features_start_at_their_draw_and_are_trainable():
    draw = PositiveRandomFeatures(4, 8, seed=1)
    learned = LearnedPositiveFeatures(draw)
    assert jnp.array_equal(learned.weights(), draw.weights())
    assert (learned.dim, learned.num_features) == (4, 8)
    assert len(jax.tree.leaves(eqx.filter(learned, eqx.is_inexact_array))) == 1
    assert not jax.tree.leaves(draw)  # the random draw is configuration, not a leaf


@pytest.mark.slow
def test_orthogonal_features_have_orthogonal_blocks():
    f = PositiveRandomFeatures(4, 10, seed=0, orthogonal=True)
    w = f.weights()
    block = w[:4] / jnp.linalg.norm(w[:4], axis=1, keepdims=True)
    assert jnp.allclose(block @ block.T, jnp.eye(4), atol=1e-10)


@pytest.mark.parametrize("chunk", [4, 64])
def test_causal_forms_match_a_per_position_reference(getkey, chunk):
    t, d, dv = 11, 4, 3  # chunk 4: three chunks with padding; chunk 64: the one-block form
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    features = PositiveRandomFeatures(d, 16, seed=2)
    qf, kf = features(q), features(k)
    causal = linear_attention(qf, kf, v, causal=True, chunk=chunk)
    stable = astrocyte_attention(q, k, v, features, causal=True, chunk=chunk)
    soft = softmax_attention(q, k, v, causal=True)
    # the slow reference: position by position in NumPy, each query against its prefix only
    qs, ks = (np.asarray(features(a * d**-0.25)) for a in (q, k))
    qf, kf, q, k, v = (np.asarray(a) for a in (qf, kf, q, k, v))
    for i in range(t):
        w = kf[: i + 1] @ qf[i]
        assert np.allclose(causal[i], w @ v[: i + 1] / w.sum(), rtol=1e-12, atol=1e-12)
        w = ks[: i + 1] @ qs[i]
        assert np.allclose(stable[i], w @ v[: i + 1] / w.sum(), rtol=1e-10, atol=1e-12)
        e = np.exp(k[: i + 1] @ q[i] / np.sqrt(d))
        assert np.allclose(soft[i], e @ v[: i + 1] / e.sum(), rtol=1e-12)
    assert np.allclose(causal[0], v[0]) and np.allclose(stable[0], v[0])


@pytest.mark.slow
def test_stable_form_is_linear_attention_of_the_scaled_features(getkey):
    t, d, dv = 7, 4, 4
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    features = PositiveRandomFeatures(d, 32, seed=5)
    s = d**-0.25  # phi(q / d^1/4) . phi(k / d^1/4) estimates exp(q . k / sqrt(d))
    expected = linear_attention(features(q * s), features(k * s), v)
    assert jnp.allclose(astrocyte_attention(q, k, v, features), expected, rtol=1e-10)
    softmax = jax.nn.dot_product_attention(q[:, None], k[:, None], v[:, None])[:, 0]  # (T, heads, d)
    assert jnp.allclose(softmax_attention(q, k, v), softmax, rtol=1e-6)


def test_closed_form_gradients_match_finite_differences(getkey):
    t, d, dv = 6, 3, 2
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    w = jr.normal(getkey(), (t, dv))
    features = PositiveRandomFeatures(d, 8, seed=4)
    loss = jax.jit(lambda q, k, v: jnp.sum(w * astrocyte_attention(q, k, v, features, causal=True, chunk=4)))
    grads = jax.grad(loss, argnums=(0, 1, 2))(q, k, v)
    eps = 1e-6
    for _ in range(3):  # central differences along random directions of all three arguments at once
        u = [jr.normal(getkey(), a.shape) for a in (q, k, v)]
        plus = loss(*(a + eps * b for a, b in zip((q, k, v), u)))
        minus = loss(*(a - eps * b for a, b in zip((q, k, v), u)))
        fd = (plus - minus) / (2 * eps)
        exact = sum(jnp.sum(g * b) for g, b in zip(grads, u))
        assert abs(float(fd - exact)) <= 1e-7 * max(1.0, abs(float(exact)))


@pytest.mark.slow
def test_layer_closed_form_and_dynamics_agree(getkey):
    t, d, dv = 4, 3, 2
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    layer = AstrocyteAttention(PositiveRandomFeatures(d, 8, seed=0), causal=True)
    fast = jax.jit(layer)(q, k, v)
    slow = layer(q, k, v, dynamics=True, config=TIGHT)
    assert jnp.allclose(fast, slow, rtol=1e-7, atol=1e-9)
    heads = jax.vmap(layer, in_axes=1, out_axes=1)(q[:, None], k[:, None], v[:, None])
    assert jnp.allclose(heads[:, 0], fast)


@pytest.mark.slow
def test_layer_dynamics_that_do_not_settle_raise(getkey):
    t, d, dv = 3, 2, 2
    q, k, v = jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, d)), jr.normal(getkey(), (t, dv))
    layer = AstrocyteAttention(PositiveRandomFeatures(d, 4, seed=0))
    with pytest.raises(Exception, match="did not reach a steady state"):
        jax.block_until_ready(layer(q, k, v, dynamics=True, config=SolverConfig(t1=0.01)))


def test_attention_arguments_are_named(getkey):
    with pytest.raises(ValueError, match="`num_features`"):
        PositiveRandomFeatures(4, 0)
    f = PositiveRandomFeatures(4, 8)
    q = jnp.ones((3, 4))
    with pytest.raises(ValueError, match="`features` maps vectors of length 4"):
        astrocyte_attention(jnp.ones((3, 5)), jnp.ones((3, 5)), jnp.ones((3, 2)), f)
    with pytest.raises((ValueError, TypeError), match="value"):  # TypeError: the test run's jaxtyping hook
        astrocyte_attention(q, q, jnp.ones((2, 2)), f)
    with pytest.raises(ValueError, match="causal"):
        astrocyte_attention(q, jnp.ones((5, 4)), jnp.ones((5, 2)), f, causal=True)
    with pytest.raises(TypeError, match="features"):  # nam's check, or the test run's jaxtyping hook before it
        AstrocyteAttention("phi")


@pytest.mark.slow
def test_stable_features_do_not_overflow(getkey):
    q = 30.0 * jr.normal(getkey(), (5, 4))  # exp(w . q) overflows float32 and float64 for some rows
    k, v = 30.0 * jr.normal(getkey(), (5, 4)), jr.normal(getkey(), (5, 2))
    out = astrocyte_attention(
        q.astype(jnp.float32), k.astype(jnp.float32), v.astype(jnp.float32), PositiveRandomFeatures(4, 64)
    )
    assert jnp.all(jnp.isfinite(out))
    qf, kf = _stable_features(PositiveRandomFeatures(4, 64), q, k, 0.5)
    assert float(qf.max()) == 1.0 and float(kf.max()) == 1.0


# --- the approximation to softmax attention --------------------------------------------------------------


def _relative_error(q, k, v, m, seeds):
    ref = softmax_attention(q, k, v)
    errs = [
        jnp.linalg.norm(astrocyte_attention(q, k, v, PositiveRandomFeatures(q.shape[1], m, seed=s)) - ref)
        / jnp.linalg.norm(ref)
        for s in seeds
    ]
    return float(np.sqrt(np.mean(np.square(errs))))


def test_error_against_softmax_falls_as_one_over_sqrt_m(getkey):
    # rows of q, k of length d^(1/4): logits in [-1, 1], where M >= 16 is the estimator's asymptotic range
    # (benchmarks/attention_approximation.py measures the full grid and a stress case)
    t, d = 16, 8
    unit = lambda a: a / jnp.linalg.norm(a, axis=1, keepdims=True) * d**0.25
    q, k, v = unit(jr.normal(getkey(), (t, d))), unit(jr.normal(getkey(), (t, d))), jr.normal(getkey(), (t, d))
    ms = np.array([16, 128, 1024])
    errs = np.array([_relative_error(q, k, v, int(m), range(6)) for m in ms])
    slope = np.polyfit(np.log(ms), np.log(errs), 1)[0]
    assert -0.65 <= slope <= -0.35, (slope, errs)


# --- the astro-attention language model ------------------------------------------------------------------


@pytest.mark.slow
def test_lm_step_matches_the_parallel_form_and_features_are_not_parameters(getkey):
    model = build_model("astro-attention", 11, 8, 1, key=getkey(), heads=2, num_features=8)
    assert isinstance(model, AstrocyteAttentionLM)
    softmax = build_model("transformer", 11, 8, 1, key=getkey(), heads=2)
    plain = build_model("astro-attention", 11, 8, 1, key=getkey(), heads=2, qk_norm=False)
    assert parameter_count(plain) == parameter_count(softmax)  # the random features are not parameters
    assert parameter_count(model) == parameter_count(softmax) + 2  # one radius per head
    tokens = jr.randint(getkey(), (12,), 0, 11)

    @jax.jit
    def both(model, tokens):
        logits, _ = model(tokens)
        _, steps = jax.lax.scan(lambda st, tok: model.step(st, tok)[::-1], model.init_state(), tokens)
        return logits, steps

    sharp = build_model(
        "astro-attention", 11, 8, 1, key=getkey(), heads=2, num_features=8, learned_features=True, radius=5.0
    )
    assert parameter_count(sharp) == parameter_count(model) + 8 * 4  # M x dh learned projections
    for m in (model, sharp):
        logits, steps = both(m, tokens)
        assert jnp.allclose(steps, logits, rtol=1e-8, atol=1e-8)
    with pytest.raises(ValueError, match="do not apply to 'astro-attention'"):
        build_model("astro-attention", 11, 16, 2, key=getkey(), chunk=8, decay="local")
