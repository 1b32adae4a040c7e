"""Masked (padded) memories change nothing: a model with K real memories padded to a bucket of K_pad
rows, the extra rows masked out, equals the model built from the K memories alone. This is what lets a
sweep over K reuse one compiled program per bucket."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam


def _padded(key, k, k_pad, n):
    xi = nam.random_patterns(key, k_pad, n)  # padding rows are arbitrary +-1 rows
    return xi[:k], xi, jnp.arange(k_pad) < k


BUILDERS = {
    "hopfield": lambda xi, mask: nam.ClassicalHopfield(xi, mask=mask),
    "hopfield_diag": lambda xi, mask: nam.ClassicalHopfield(xi, zero_diagonal=False, mask=mask),
    "dam3": lambda xi, mask: nam.DenseAssociativeMemory(xi, nam.Polynomial(3), mask=mask),
    "dam4_rect": lambda xi, mask: nam.DenseAssociativeMemory(xi, nam.RectifiedPolynomial(4), mask=mask),
    "dam_exp": lambda xi, mask: nam.DenseAssociativeMemory(xi, nam.ExponentialSeparation(0.3), mask=mask),
    "effective": lambda xi, mask: nam.NeuronAstrocyteEffective(nam.HebbianTensor(xi, mask=mask)),
    "full": lambda xi, mask: nam.NeuronAstrocyte(nam.HebbianTensor(xi, mask=mask)),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_padded_model_equals_unpadded(name, getkey):
    n = 9
    xi, xi_pad, mask = _padded(getkey(), 3, 7, n)
    plain, padded = BUILDERS[name](xi, None), BUILDERS[name](xi_pad, mask)
    cue = nam.flip_bits(getkey(), xi[1], 0.2)
    state = plain.init_state(0.4 * cue)
    np.testing.assert_allclose(padded.energy(state), plain.energy(state), rtol=1e-12)
    for a, b in zip(jax.tree.leaves(padded.drive(state)), jax.tree.leaves(plain.drive(state))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    if isinstance(plain, nam.AbstractBinaryModel):
        np.testing.assert_allclose(padded.binary_energy(cue), plain.binary_energy(cue), rtol=1e-12)
        for mode in ("async", "sync"):
            a = nam.retrieve_binary(padded, cue, mode=mode)
            b = nam.retrieve_binary(plain, cue, mode=mode)
            np.testing.assert_array_equal(a.pattern, b.pattern)
            assert int(a.sweeps) == int(b.sweeps)


def test_masked_hebbian_tensor_contractions(getkey):
    xi, xi_pad, mask = _padded(getkey(), 2, 5, 6)
    a, b = nam.HebbianTensor(xi), nam.HebbianTensor(xi_pad, mask=mask)
    psi = jr.normal(getkey(), (6, 6))
    psi = psi + psi.T
    np.testing.assert_allclose(a.dense(), b.dense(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.quadratic(psi), b.quadratic(psi), rtol=1e-12)


def test_sweeping_k_within_a_bucket_does_not_recompile(getkey):
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(xi, mask, cue):
        return nam.retrieve_binary(nam.DenseAssociativeMemory(xi, nam.Polynomial(3), mask=mask), cue)

    xi = nam.random_patterns(getkey(), 16, 20)
    for k in (1, 5, 16):
        run(xi, jnp.arange(16) < k, xi[0])


@pytest.mark.parametrize(
    "mask, error, match",
    [
        (np.ones(3, bool), ValueError, r"shape \(4,\)"),
        (np.ones(4), TypeError, "boolean"),
        (np.zeros(4, bool), ValueError, "at least one"),
    ],
)
def test_bad_masks(mask, error, match):
    xi = np.ones((4, 5))
    with pytest.raises(error, match=match):
        nam.DenseAssociativeMemory(xi, mask=mask)
