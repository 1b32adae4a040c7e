"""Small instances of every continuous model and random states for them (shared by the tests)."""

import jax
import jax.numpy as jnp
import jax.random as jr

import nam


def symmetric(key, n, scale=1.0):
    a = jr.normal(key, (n, n)) * scale
    return 0.5 * (a + a.T)


def random_kronecker(key, n, r=3):
    k1, k2 = jr.split(key)
    mats = jnp.stack([symmetric(k, n) for k in jr.split(k1, r)])
    return nam.KroneckerTensor(jr.normal(k2, (r,)), mats, scale=0.05)


def random_dense_tensor(key, n):
    t = jr.normal(key, (n, n, n, n))
    for perm in ((1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)):
        t = 0.5 * (t + t.transpose(perm))
    return nam.DenseTensor(t, scale=0.02)


def make_model(name, key, n=6, k=3, beta=2.0, leaks=(1.0, 0.7, 1.3), taus=(1.0, 0.5, 2.0)):
    kx, kt, kb, kc, kd = jr.split(key, 5)
    xi = nam.random_patterns(kx, k, n)
    lam, alpha, gamma = leaks
    if name == "hopfield":
        return nam.ClassicalHopfield(xi, nam.LogCosh(beta), tau=taus[0], b=0.1 * jr.normal(kb, (n,)))
    if name == "hopfield_diag":
        return nam.ClassicalHopfield(xi, nam.LogCosh(beta), zero_diagonal=False, tau=taus[0])
    if name == "dam_poly":
        return nam.DenseAssociativeMemory(
            xi, nam.Polynomial(3), nam.LogCosh(beta), tau=taus[0], b=0.1 * jr.normal(kb, (n,))
        )
    if name == "dam_rect":
        return nam.DenseAssociativeMemory(xi, nam.RectifiedPolynomial(4), nam.LogCosh(beta), tau=taus[0])
    if name == "dam_exp":
        return nam.DenseAssociativeMemory(xi, nam.ExponentialSeparation(0.5), nam.LogCosh(beta), tau=taus[0])
    if name == "hidden_lse":
        return nam.HiddenNeuronDAM(
            xi, nam.LogCosh(beta), nam.LogSumExp(0.7), tau_f=taus[0], tau_h=taus[1], inputs=0.1 * jr.normal(kb, (n,))
        )
    if name == "hidden_relu":
        return nam.HiddenNeuronDAM(xi / n, nam.Identity(), nam.RectifiedPower(3.0), tau_f=taus[0], tau_h=taus[1])
    if name == "effective":
        return nam.NeuronAstrocyteEffective(
            nam.HebbianTensor(xi), nam.LogCosh(beta), tau=taus[0], b=0.1 * jr.normal(kb, (n,))
        )
    if name == "full_hebbian":
        return nam.NeuronAstrocyte(
            nam.HebbianTensor(xi),
            nam.LogCosh(beta),
            nam.LogCosh(beta),
            nam.LogCosh(beta),
            lam=lam,
            alpha=alpha,
            gamma=gamma,
            tau_n=taus[0],
            tau_s=taus[1],
            tau_p=taus[2],
            b=0.1 * jr.normal(kb, (n,)),
            c=symmetric(kc, n, 0.1),
            d=symmetric(kd, n, 0.1),
        )
    if name == "full_kronecker":
        return nam.NeuronAstrocyte(
            random_kronecker(kt, n),
            nam.LogCosh(beta),
            nam.Softplus(beta),
            nam.LogCosh(beta),
            lam=lam,
            alpha=alpha,
            gamma=gamma,
            tau_n=taus[0],
            tau_s=taus[1],
            tau_p=taus[2],
        )
    if name == "full_dense":
        return nam.NeuronAstrocyte(
            random_dense_tensor(kt, n),
            nam.SphericalNorm(),
            nam.LogCosh(beta),
            nam.Identity(),
            lam=lam,
            alpha=alpha,
            gamma=gamma,
            tau_n=taus[0],
            tau_s=taus[1],
            tau_p=taus[2],
        )
    raise KeyError(name)


CONTINUOUS = [
    "hopfield",
    "hopfield_diag",
    "dam_poly",
    "dam_rect",
    "dam_exp",
    "hidden_lse",
    "hidden_relu",
    "effective",
    "full_hebbian",
    "full_kronecker",
    "full_dense",
]
SINGLE_LAYER = ["hopfield", "hopfield_diag", "dam_poly", "dam_rect", "dam_exp", "effective"]  # one block x (N,)


def random_state(model, key, scale=1.0):
    """A random state of the model's structure (symmetric matrices for synapses and processes)."""
    n = model.n
    ks = jr.split(key, 3)
    if isinstance(model, nam.NeuronAstrocyte):
        return nam.NeuronAstrocyteState(
            scale * jr.normal(ks[0], (n,)), symmetric(ks[1], n, scale), symmetric(ks[2], n, scale)
        )
    if isinstance(model, nam.HiddenNeuronDAM):
        k = model.patterns.shape[0]
        return nam.HiddenState(scale * jr.normal(ks[0], (n,)), scale * jr.normal(ks[1], (k,)))
    return scale * jr.normal(ks[0], (n,))


def gradient_factors(state):
    """c per block of drive = -c dE/d(activations): 2 for a symmetric matrix block (each off-diagonal entry
    appears twice in the energy), 1 for a vector."""
    return jax.tree.map(lambda leaf: 2.0 if leaf.ndim == 2 and leaf.shape[0] == leaf.shape[1] else 1.0, state)
