"""The astrocyte tensor T_ijkl: process-to-process coupling (Kozachkov, Slotine & Krotov, eq. 6, 10).

The energy needs the symmetries T_ijkl = T_klij = T_jikl = T_ijlk. Three parameterisations keep
them by construction or check them:

- `HebbianTensor`: T_ijkl = scale * sum_mu xi_i xi_j xi_k xi_l (eq. 10), never built densely: every
  contraction goes through the K patterns, O(K N^2) for a matrix argument, O(K N) for a rank-one one.
- `KroneckerTensor`: T = scale * sum_r c_r M_r (x) M_r with symmetric M_r. Every tensor with the
  symmetries has this form (diagonalise T as a symmetric operator on symmetric matrices, see
  `KroneckerTensor.from_dense`); Hebbian is M_mu = xi_mu xi_mu^T, c = 1.
- `DenseTensor`: the full (N, N, N, N) array, for tiny N, validated for the symmetries.

Normalisation: `scale` multiplies T. The authors' public tutorial divides T by N^3 so that the
neuron field sum_jkl T_ijkl phi_j phi_k phi_l stays O(1) per memory; `HebbianTensor` uses that as
its default (`scale=None`), pass `scale=1.0` for eq. 10 verbatim.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import (as_float_array, check_finite, check_four_index, check_mask, check_patterns, check_scalar,
                       is_concrete)


class AbstractAstrocyteTensor(eqx.Module):
    """A 4-index tensor with T_ijkl = T_klij = T_jikl = T_ijlk, used only through contractions."""

    @property
    @abc.abstractmethod
    def n(self) -> int:
        """The number of neurons N (T has shape (N, N, N, N))."""

    @abc.abstractmethod
    def contract(self, psi: Float[Array, "n n"]) -> Float[Array, "n n"]:
        """sum_kl T_ijkl psi_kl (the process-coupling term of eq. 6)."""

    def quadratic(self, psi: Float[Array, "n n"]) -> Float[Array, ""]:
        """sum_ijkl T_ijkl psi_ij psi_kl."""
        return jnp.sum(psi * self.contract(psi))

    def cubic_field(self, phi: Float[Array, " n"]) -> Float[Array, " n"]:
        """sum_jkl T_ijkl phi_j phi_k phi_l (the effective model's field, eq. 8)."""
        return self.contract(jnp.outer(phi, phi)) @ phi

    def quartic(self, phi: Float[Array, " n"]) -> Float[Array, ""]:
        """sum_ijkl T_ijkl phi_i phi_j phi_k phi_l."""
        return jnp.dot(phi, self.cubic_field(phi))

    def dense(self) -> Float[Array, "n n n n"]:
        """The full tensor (O(N^4) memory: for tests and tiny N only)."""
        n = self.n
        eye = jnp.eye(n * n).reshape(n * n, n, n)
        return jax.vmap(self.contract)(eye).reshape(n, n, n, n).transpose(2, 3, 0, 1)


class HebbianTensor(AbstractAstrocyteTensor):
    """T_ijkl = scale * sum_mu xi_mu,i xi_mu,j xi_mu,k xi_mu,l (eq. 10), held as the patterns.

    `patterns`: (K, N) memories of +-1. `scale`: None (default) gives 1 / N^3, the authors' tutorial
    normalisation; pass 1.0 for eq. 10 as printed. `mask`: (K,) bool of active memories (False rows
    are padding and contribute nothing).
    """

    patterns: Float[Array, "k n"]
    mask: Bool[Array, " k"]
    scale: Float[Array, ""]

    def __init__(self, patterns, scale=None, mask=None):
        self.patterns = check_patterns("patterns", patterns, binary=True)
        k, n = self.patterns.shape
        self.mask = check_mask("mask", mask, k)
        self.scale = check_scalar("scale", 1.0 / float(n) ** 3 if scale is None else scale)

    @property
    def n(self) -> int:
        return self.patterns.shape[1]

    def _q(self, psi):
        """q_mu = xi_mu^T psi xi_mu, zero for masked-out memories."""
        return jnp.where(self.mask, jnp.sum((self.patterns @ psi) * self.patterns, axis=1), 0.0)

    def contract(self, psi):
        # sum_mu xi_i xi_j (xi^T psi xi): O(K N^2)
        return self.scale * (self.patterns.T * self._q(psi)[None, :]) @ self.patterns

    def quadratic(self, psi):
        q = self._q(psi)
        return self.scale * jnp.sum(q * q)

    def cubic_field(self, phi):
        m = jnp.where(self.mask, self.patterns @ phi, 0.0)
        return self.scale * (self.patterns.T @ (m * m * m))

    def quartic(self, phi):
        m = jnp.where(self.mask, self.patterns @ phi, 0.0)
        return self.scale * jnp.sum(m**4)


class KroneckerTensor(AbstractAstrocyteTensor):
    """T_ijkl = scale * sum_r c_r M_r,ij M_r,kl with symmetric M_r (a sum of symmetric Kronecker squares).

    `coeffs`: (R,), `mats`: (R, N, N), each symmetric. Any real c_r keeps the symmetries the energy
    needs; the energy decreases along trajectories for any such T.
    """

    coeffs: Float[Array, " r"]
    mats: Float[Array, "r n n"]
    scale: Float[Array, ""]

    def __init__(self, coeffs, mats, scale=1.0):
        coeffs = as_float_array("coeffs", coeffs, ndim=1)
        mats = as_float_array("mats", mats, ndim=3)
        r, n1, n2 = mats.shape
        if n1 != n2 or n1 < 2:
            raise ValueError(f"`mats` must have shape (R, N, N) with N >= 2, got {mats.shape}")
        if r < 1:
            raise ValueError("`mats` must hold at least one matrix (R >= 1)")
        if coeffs.shape != (r,):
            raise ValueError(f"`coeffs` must have shape ({r},) to match `mats`, got {coeffs.shape}")
        check_finite("coeffs", coeffs)
        check_finite("mats", mats)
        if is_concrete(mats):
            m = np.asarray(mats)
            tol = 1e-6 * max(1.0, float(np.abs(m).max()))
            if not np.allclose(m, np.swapaxes(m, 1, 2), rtol=1e-5, atol=tol):
                raise ValueError("`mats` must be symmetric matrices (M_r = M_r^T) for T to keep T_ijkl = T_jikl")
        self.coeffs = coeffs
        self.mats = mats
        self.scale = check_scalar("scale", scale)

    @classmethod
    def from_patterns(cls, patterns, scale=None) -> "KroneckerTensor":
        """The Hebbian tensor of eq. 10 in Kronecker form, M_mu = xi_mu xi_mu^T (dense in N^2 per pattern)."""
        xi = check_patterns("patterns", patterns, binary=True)
        n = xi.shape[1]
        mats = xi[:, :, None] * xi[:, None, :]
        return cls(jnp.ones(xi.shape[0]), mats, 1.0 / float(n) ** 3 if scale is None else scale)

    @classmethod
    def from_dense(cls, tensor, tol: float = 1e-10) -> "KroneckerTensor":
        """Decompose a dense symmetric tensor: T, as an operator on symmetric N x N matrices, is
        symmetric (T_ijkl = T_klij), so T = sum_r c_r M_r (x) M_r with its eigenpairs (c_r, M_r).
        Eigenvalues with |c_r| <= tol * max|c| are dropped.
        """
        t = np.asarray(DenseTensor(tensor).tensor, dtype=np.float64)
        n = t.shape[0]
        # orthonormal basis of symmetric matrices
        basis = []
        for i in range(n):
            for j in range(i, n):
                b = np.zeros((n, n))
                if i == j:
                    b[i, i] = 1.0
                else:
                    b[i, j] = b[j, i] = 1.0 / np.sqrt(2.0)
                basis.append(b)
        basis = np.stack(basis)  # (n(n+1)/2, n, n)
        op = np.einsum("aij,ijkl,bkl->ab", basis, t, basis)
        evals, evecs = np.linalg.eigh(0.5 * (op + op.T))
        keep = np.abs(evals) > tol * max(1e-300, np.abs(evals).max())
        mats = np.einsum("ar,aij->rij", evecs[:, keep], basis)
        return cls(jnp.asarray(evals[keep]), jnp.asarray(mats), 1.0)

    @property
    def n(self) -> int:
        return self.mats.shape[1]

    def contract(self, psi):
        inner = jnp.einsum("rij,ij->r", self.mats, psi)
        return self.scale * jnp.einsum("r,rij->ij", self.coeffs * inner, self.mats)

    def cubic_field(self, phi):
        mphi = self.mats @ phi  # (R, N)
        return self.scale * ((self.coeffs * (mphi @ phi)) @ mphi)

    def quartic(self, phi):
        q = (self.mats @ phi) @ phi
        return self.scale * jnp.sum(self.coeffs * q * q)


class DenseTensor(AbstractAstrocyteTensor):
    """A dense (N, N, N, N) astrocyte tensor for tiny N, checked for T_ijkl = T_klij = T_jikl = T_ijlk."""

    tensor: Float[Array, "n n n n"]
    scale: Float[Array, ""]

    def __init__(self, tensor, scale=1.0):
        t = check_four_index("tensor", tensor)
        if is_concrete(t):
            a = np.asarray(t)
            tol = 1e-6 * max(1.0, float(np.abs(a).max()))
            for perm, name in (((2, 3, 0, 1), "T_ijkl = T_klij"), ((1, 0, 2, 3), "T_ijkl = T_jikl"),
                               ((0, 1, 3, 2), "T_ijkl = T_ijlk")):
                if not np.allclose(a, a.transpose(perm), rtol=1e-5, atol=tol):
                    raise ValueError(f"`tensor` must satisfy the symmetry {name} (Kozachkov et al. eq. 6)")
        self.tensor = t
        self.scale = check_scalar("scale", scale)

    @property
    def n(self) -> int:
        return self.tensor.shape[0]

    def contract(self, psi):
        return self.scale * jnp.einsum("ijkl,kl->ij", self.tensor, psi)

    def dense(self):
        return self.scale * self.tensor
