"""Astrocyte tensor parameterisations against the dense 4-index tensor (an independent slow path)."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from models_zoo import random_dense_tensor, random_kronecker, symmetric

import nam


def _dense_hebbian(xi, scale):
    xi = np.asarray(xi)
    return scale * np.einsum("mi,mj,mk,ml->ijkl", xi, xi, xi, xi)


def test_hebbian_contractions_match_dense_tensor(getkey):
    n, k = 7, 4
    xi = nam.random_patterns(getkey(), k, n)
    t = nam.HebbianTensor(xi)
    dense = _dense_hebbian(xi, 1.0 / n**3)
    psi = symmetric(getkey(), n)
    phi = jr.normal(getkey(), (n,))
    np.testing.assert_allclose(t.contract(psi), np.einsum("ijkl,kl->ij", dense, psi), rtol=1e-12)
    np.testing.assert_allclose(t.quadratic(psi), np.einsum("ijkl,ij,kl->", dense, psi, psi), rtol=1e-12)
    np.testing.assert_allclose(t.cubic_field(phi), np.einsum("ijkl,j,k,l->i", dense, phi, phi, phi), rtol=1e-12)
    np.testing.assert_allclose(t.quartic(phi), np.einsum("ijkl,i,j,k,l->", dense, phi, phi, phi, phi), rtol=1e-12)
    np.testing.assert_allclose(t.dense(), dense, rtol=1e-12, atol=1e-15)


def test_hebbian_default_normalisation_is_n_cubed(getkey):
    xi = nam.random_patterns(getkey(), 2, 5)
    assert float(nam.HebbianTensor(xi).scale) == pytest.approx(1 / 125)
    assert float(nam.HebbianTensor(xi, scale=1.0).scale) == 1.0


def test_kronecker_from_patterns_equals_hebbian(getkey):
    xi = nam.random_patterns(getkey(), 3, 6)
    psi = symmetric(getkey(), 6)
    phi = jr.normal(getkey(), (6,))
    a, b = nam.HebbianTensor(xi), nam.KroneckerTensor.from_patterns(xi)
    np.testing.assert_allclose(a.contract(psi), b.contract(psi), rtol=1e-12)
    np.testing.assert_allclose(a.cubic_field(phi), b.cubic_field(phi), rtol=1e-12)
    np.testing.assert_allclose(a.quartic(phi), b.quartic(phi), rtol=1e-12)


@pytest.mark.parametrize("kind", ["kronecker", "dense"])
def test_generic_contractions_match_dense(kind, getkey):
    n = 5
    t = random_kronecker(getkey(), n) if kind == "kronecker" else random_dense_tensor(getkey(), n)
    dense = np.asarray(t.dense())
    for perm in ((2, 3, 0, 1), (1, 0, 2, 3), (0, 1, 3, 2)):
        np.testing.assert_allclose(dense, dense.transpose(perm), rtol=1e-12, atol=1e-14)
    psi = symmetric(getkey(), n)
    phi = jr.normal(getkey(), (n,))
    np.testing.assert_allclose(t.contract(psi), np.einsum("ijkl,kl->ij", dense, psi), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        t.cubic_field(phi), np.einsum("ijkl,j,k,l->i", dense, phi, phi, phi), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(t.quartic(phi), np.einsum("ijkl,i,j,k,l->", dense, phi, phi, phi, phi), rtol=1e-10)


def test_every_symmetric_tensor_is_a_sum_of_kronecker_squares(getkey):
    """from_dense diagonalises T on symmetric matrices; the result reproduces T exactly."""
    t = random_dense_tensor(getkey(), 4)
    k = nam.KroneckerTensor.from_dense(t.dense())
    np.testing.assert_allclose(k.dense(), t.dense(), rtol=1e-10, atol=1e-12)
    assert k.coeffs.shape[0] <= 4 * 5 // 2


def test_dense_tensor_rejects_broken_symmetry(getkey):
    t = np.asarray(random_dense_tensor(getkey(), 3).tensor).copy()
    t[0, 1, 2, 2] += 1.0
    with pytest.raises(ValueError, match="symmetry"):
        nam.DenseTensor(t)


def test_kronecker_rejects_asymmetric_matrices_and_mismatch(getkey):
    mats = jr.normal(getkey(), (2, 4, 4))
    with pytest.raises(ValueError, match="symmetric"):
        nam.KroneckerTensor(jnp.ones(2), mats)
    sym = jnp.stack([symmetric(getkey(), 4), symmetric(getkey(), 4)])
    with pytest.raises(ValueError, match="coeffs"):
        nam.KroneckerTensor(jnp.ones(3), sym)
    with pytest.raises(ValueError, match="mats"):
        nam.KroneckerTensor(jnp.ones(2), jnp.ones((2, 4, 3)))
