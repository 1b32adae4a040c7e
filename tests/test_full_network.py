"""The full neuron-synapse-astrocyte network (Kozachkov, Slotine & Krotov, eq. 6) against its fast-glia
reduction (eqs. 7-11): the fixed points correspond, the dynamics do not (docs/full-network.md).

- Without leaks (alpha = gamma = 0, lambda = 1) a fixed point x* of the effective model lifts to a fixed
  point of the full network (psi = -phi phi^T, g = T(phi phi^T)), but there it is a saddle: the glial part
  of the energy (eqs. 13-14) is bilinear in (g, psi), so half of the glial directions go uphill.
- With the default leaks (alpha = gamma = 1, tanh(5 z) everywhere) the synapses relax to
  s = phi phi^T + psi and the processes to p = T psi + g. Once the neurons saturate, the Hebbian term
  phi_i phi_j = +-1 alone drives g = tanh(5 s) to sign(phi phi^T), and psi follows g (T psi is of order
  K / N^2, small): g and psi lock at sign(phi phi^T), and then every +-1 neuron state is a fixed point.
  The synapses store the current state, not the memories.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import nam

N, K = 8, 2
TIGHT = dict(solver="tsit5", rtol=1e-10, atol=1e-12)


def _max_abs(tree):
    return [float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(tree)]


@pytest.fixture(scope="module")
def zero_leak():
    """The full network without leaks (tanh(5 z) everywhere, T of eq. 10 over N^3), its effective model, a
    fixed point x* of the effective model reached from a memory with 12.5% of its bits flipped, and the
    full state built on it by `init_state` (Appendix D: psi = -phi phi^T, g = -T psi = T(phi phi^T))."""
    key = jr.PRNGKey(2024)
    xi = nam.random_patterns(jr.fold_in(key, 0), K, N)
    full = nam.NeuronAstrocyte(nam.HebbianTensor(xi), lam=1.0, alpha=0.0, gamma=0.0)
    eff = full.effective()
    cue = nam.flip_bits(jr.fold_in(key, 1), xi[0], 0.125)
    config = nam.SolverConfig(**TIGHT, steady_rtol=1e-10, steady_atol=1e-11, t1=500.0)
    r = nam.retrieve(eff, cue, config=config)
    assert int(r.status) == nam.Status.CONVERGED and bool(jnp.all(r.pattern == xi[0]))
    return dict(xi=xi, full=full, eff=eff, cue=cue, config=config, x_star=r.state, state=full.init_state(r.state))


def test_effective_fixed_point_is_a_full_fixed_point(zero_leak):
    """eqs. 7-9: at psi = -phi phi^T, g = T(phi phi^T) the synapse and process equations vanish exactly, and
    the neuron equation is the effective one, which vanishes at x*. Each wrong sign or factor leaves a
    residual many orders of magnitude above the tolerance."""
    full, eff, x_star, state = zero_leak["full"], zero_leak["eff"], zero_leak["x_star"], zero_leak["state"]
    np.testing.assert_allclose(
        full.activations(state).p, -jnp.outer(jnp.tanh(5 * x_star), jnp.tanh(5 * x_star)), atol=1e-12
    )
    assert max(_max_abs(full.vector_field(state))) < 1e-8  # measured 7e-11 (x), 3e-16 (s), 6e-17 (p)
    assert float(jnp.max(jnp.abs(eff.vector_field(x_star)))) < 1e-8

    lag = full.synapse_lagrangian
    wrong_psi_sign = nam.NeuronAstrocyteState(state.x, state.s, -state.p)
    twice_g = nam.NeuronAstrocyteState(state.x, lag.inverse_activation(2.0 * lag.activation(state.s)), state.p)
    assert _max_abs(full.vector_field(wrong_psi_sign))[1] > 1.0  # measured 2.0
    assert max(_max_abs(full.vector_field(twice_g))) > 0.05  # measured 1.0 (x), 0.12 (p)
    # a fixed point of an effective model with T twice too large is no fixed point of this full network
    eff_wrong = nam.NeuronAstrocyteEffective(nam.HebbianTensor(zero_leak["xi"], scale=2.0 / N**3))
    x_wrong = nam.retrieve(eff_wrong, zero_leak["cue"], config=zero_leak["config"]).state
    assert max(_max_abs(full.vector_field(full.init_state(x_wrong)))) > 0.1  # measured 1.0


def _symmetric_coordinates(n):
    """Orthonormal coordinates of (x, symmetric s, symmetric p): the columns E_ii and (E_ij + E_ji) / sqrt 2."""
    cols = []
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            e[i, j] = e[j, i] = 1.0 if i == j else np.sqrt(0.5)
            cols.append(e.ravel())
    b = np.stack(cols, axis=1)
    m = b.shape[1]
    q = np.zeros((n + 2 * n * n, n + 2 * m))
    q[:n, :n] = np.eye(n)
    q[n : n + n * n, n : n + m] = b
    q[n + n * n :, n + m :] = b
    return q


def test_the_lifted_fixed_point_is_a_saddle(zero_leak):
    """The effective model's x* is stable (all eigenvalues < 0); the same point of the full network has
    unstable directions. Why: at zero leak the glial part of the energy is
        -1/2 psi.g - 1/4 psi.T.psi - 1/2 g.(phi phi^T),
    bilinear in (g, psi) (no g.g term), so its Hessian [[0, -I/2], [-I/2, -T/2]] has as many negative as
    positive eigenvalues whatever T is: the stationary point is a saddle, with N (N + 1) / 2 downhill
    (for the dynamics, unstable) directions on the symmetric matrices. On that subspace the Jacobian at a
    fixed point is -W H (W positive diagonal, H the Hessian of E in the states), so its eigenvalues are
    real and its unstable count is the number of negative eigenvalues of H (Sylvester's law of inertia).
    The elimination of the fast glia (eqs. 7-9) holds for the fixed points, not for the dynamics.
    """
    full, eff, x_star, state = zero_leak["full"], zero_leak["eff"], zero_leak["x_star"], zero_leak["state"]
    eff_spec = nam.jacobian_spectrum(eff, x_star)
    assert eff_spec.num_unstable == 0 and eff_spec.max_real < -0.5  # measured -0.997

    spec = nam.jacobian_spectrum(full, state)
    sym = nam.jacobian_spectrum(full, state, symmetric=True)
    half = N * (N + 1) // 2
    assert spec.max_real > 0.05 and sym.max_real == pytest.approx(spec.max_real)  # measured 0.132
    assert sym.num_unstable == half  # measured 36 = 8 * 9 / 2
    assert spec.num_unstable == N * N  # measured 64: the antisymmetric pairs add N (N - 1) / 2
    np.testing.assert_allclose(sym.eigenvalues.imag, 0.0, atol=1e-9)
    assert sym.blocks["x"].max_real < 0  # each block alone is not unstable: the coupling of s and p is
    assert sym.blocks["s"].max_real <= 1e-12

    flat, unravel = ravel_pytree(state)
    q = _symmetric_coordinates(N)
    hessian = q.T @ np.asarray(jax.jit(jax.hessian(lambda y: full.energy(unravel(y))))(flat)) @ q
    negative = int(np.sum(np.linalg.eigvalsh(hessian) < -1e-9))
    assert negative == sym.num_unstable == half


def test_the_saddle_is_left_by_the_dynamics(zero_leak):
    """A 1e-6 symmetric nudge of the processes at the lifted fixed point grows: the full network leaves it
    (the effective model's spectrum above says a nudge of x* dies out)."""
    full, state = zero_leak["full"], zero_leak["state"]
    dp = jr.normal(jr.PRNGKey(5), (N, N))
    nudged = nam.NeuronAstrocyteState(state.x, state.s, state.p + 0.5e-6 * (dp + dp.T))
    r = nam.retrieve(full, state0=nudged, config=nam.SolverConfig(**TIGHT, t1=50.0, steady_state=False))
    drift = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(r.state), jax.tree.leaves(state)))
    assert drift > 2e-5  # measured 1.3e-4


def _leaky(k):
    """The authors' tutorial setting: leaks lambda = alpha = gamma = 1, tanh(5 z) for all three layers,
    T of eq. 10 over N^3; N = 16 neurons and K memories (K* is about 20 for this full network and 54 for
    the effective model, benchmarks/full_network_regimes.py)."""
    n = 16
    key = jr.PRNGKey(7)
    xi = nam.random_patterns(jr.fold_in(key, k), k, n)
    full = nam.NeuronAstrocyte(nam.HebbianTensor(xi))
    return dict(n=n, xi=xi, full=full, eff=full.effective(), key=key)


def test_leaky_glia_lock_onto_the_neuron_signs():
    """From a cue the network first corrects it, then g and psi saturate at sign(phi phi^T): the synapses
    relax to s = phi phi^T + psi (g = tanh(5 s) saturates once the neurons do, psi adding in the same
    direction), the processes to p = T psi + g (psi follows g). A model whose glia did not lock (e.g. with
    the sign of psi in the synapse equation flipped, where psi fights the Hebbian term) fails here."""
    leaky = _leaky(4)
    full, xi = leaky["full"], leaky["xi"]
    cue = nam.flip_bits(jr.fold_in(leaky["key"], 1), xi[0], 0.125)
    distance = {}
    for t1 in (0.5, 5.0):
        r = nam.retrieve(full, cue, config=nam.SolverConfig("tsit5", t1=t1, steady_state=False))
        a = full.activations(r.state)
        locked = jnp.sign(jnp.outer(a.x, a.x))
        distance[t1] = (float(jnp.mean(jnp.abs(a.s - locked))), float(jnp.mean(jnp.abs(a.p - locked))))
    assert bool(jnp.all(r.pattern == xi[0]))  # retrieved before locking in
    assert min(distance[0.5]) > 0.5  # measured 0.98 (g), 1.99 (psi): not locked yet
    assert max(distance[5.0]) < 1e-3  # measured 8e-9 (g), 7e-5 (psi)


@pytest.mark.slow  # 6-18 s on 2 cores: the default run stays under 10 minutes
def test_locked_glia_make_random_states_fixed_points():
    """With the glia at their locked values for a random +-1 state sigma (g = psi = sign(sigma sigma^T), i.e.
    s = phi phi^T + psi ~ 2 sigma sigma^T, p = T psi + g ~ sigma sigma^T), the full network keeps sigma: the
    neurons see x = g phi ~ sigma sum_j |phi_j|. The effective model moves the same states to memories.
    At a locked state the full Jacobian has no unstable direction."""
    leaky = _leaky(20)
    full, eff, n = leaky["full"], leaky["eff"], leaky["n"]
    sigma = jnp.where(jr.bernoulli(jr.fold_in(leaky["key"], 2), 0.5, (16, n)), 1.0, -1.0)
    config = nam.SolverConfig("tsit5", t1=50.0)

    def locked(s):
        o = jnp.outer(s, s)
        return nam.retrieve(full, state0=nam.NeuronAstrocyteState(s, 2.0 * o, o), config=config)

    rf = jax.vmap(locked)(sigma)
    re = nam.retrieve_batch(eff, sigma, config=config)
    kept_full = int(jnp.sum(jnp.all(rf.pattern == sigma, axis=1) & rf.ok()))
    kept_eff = int(jnp.sum(jnp.all(re.pattern == sigma, axis=1) & re.ok()))
    assert kept_full >= 14 and kept_eff <= 2  # measured 16 / 16 and 0 / 16
    final = jax.tree.map(lambda a: a[0], rf.state)
    spec = nam.jacobian_spectrum(full, final)
    assert spec.num_unstable == 0 and spec.max_real < -0.5  # measured -1.0 (the leaks)
