"""The astrocyte tensor T_ijkl: process-to-process coupling (Kozachkov, Slotine & Krotov, eq. 6, 10).

The energy needs the symmetries T_ijkl = T_klij = T_jikl = T_ijlk. Three parameterisations keep
them by construction or check them:

- `HebbianTensor`: T_ijkl = scale * sum_mu xi_i xi_j xi_k xi_l (eq. 10), or the same sum on pairwise
  distinct indices only (`distinct_indices=True`, no self-coupling), never built densely: every
  contraction goes through the K patterns, O(K N^2) for a matrix argument, O(K N) for a rank-one one.
- `KroneckerTensor`: T = scale * sum_r c_r M_r (x) M_r with symmetric M_r. Every tensor with the
  symmetries has this form (diagonalise T as a symmetric operator on symmetric matrices, see
  `KroneckerTensor.from_dense`); Hebbian is M_mu = xi_mu xi_mu^T, c = 1.
- `DenseTensor`: the full (N, N, N, N) array, for tiny N, validated for the symmetries.

Normalisation: `scale` multiplies T. The authors' public tutorial divides T by N^3 so that the
neuron field sum_jkl T_ijkl phi_j phi_k phi_l stays O(1) per memory; `HebbianTensor` uses that as
its default (`scale=None`; 1 / ((N-1)(N-2)(N-3)), the number of distinct-index terms, on distinct
indices), pass `scale=1.0` for eq. 10 verbatim.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import (
    as_float_array,
    check_bool,
    check_finite,
    check_four_index,
    check_mask,
    check_memory,
    check_patterns,
    check_scalar,
    float_bytes,
    is_concrete,
)


class AbstractAstrocyteTensor(eqx.Module):
    """A 4-index tensor with T_ijkl = T_klij = T_jikl = T_ijlk, used only through contractions."""

    @property
    @abc.abstractmethod
    def n(self) -> int:
        """The number of neurons N (T has shape (N, N, N, N))."""

    @abc.abstractmethod
    def contract(self, psi: Float[Array, "n n"]) -> Float[Array, "n n"]:
        """sum_kl T_ijkl psi_kl (the process-coupling term of eq. 6)."""

    @abc.abstractmethod
    def quadratic(self, psi: Float[Array, "n n"]) -> Float[Array, ""]:
        """sum_ijkl T_ijkl psi_ij psi_kl (`quadratic_via_contract` computes it from `contract`)."""

    @abc.abstractmethod
    def cubic_field(self, phi: Float[Array, " n"]) -> Float[Array, " n"]:
        """sum_jkl T_ijkl phi_j phi_k phi_l (the effective model's field, eq. 8;
        `cubic_field_via_contract` computes it from `contract`)."""

    @abc.abstractmethod
    def quartic(self, phi: Float[Array, " n"]) -> Float[Array, ""]:
        """sum_ijkl T_ijkl phi_i phi_j phi_k phi_l (`quartic_via_cubic_field` computes it from `cubic_field`)."""

    @abc.abstractmethod
    def dense(self) -> Float[Array, "n n n n"]:
        """The full tensor (O(N^4) memory: for tests and tiny N only; `dense_via_contract` builds it
        from `contract`)."""


# The general contractions, written once through `contract` (or `cubic_field`). A tensor without a
# faster closed form calls them from its own method, so that no base method is overridden.


def quadratic_via_contract(tensor: AbstractAstrocyteTensor, psi: Float[Array, "n n"]) -> Float[Array, ""]:
    """sum_ijkl T_ijkl psi_ij psi_kl = sum_ij psi_ij (sum_kl T_ijkl psi_kl), through `tensor.contract`."""
    return jnp.sum(psi * tensor.contract(psi))


def cubic_field_via_contract(tensor: AbstractAstrocyteTensor, phi: Float[Array, " n"]) -> Float[Array, " n"]:
    """sum_jkl T_ijkl phi_j phi_k phi_l = (sum_kl T_ijkl phi_k phi_l) phi_j, through `tensor.contract`."""
    return tensor.contract(jnp.outer(phi, phi)) @ phi


def quartic_via_cubic_field(tensor: AbstractAstrocyteTensor, phi: Float[Array, " n"]) -> Float[Array, ""]:
    """sum_ijkl T_ijkl phi_i phi_j phi_k phi_l = phi . cubic_field(phi), through `tensor.cubic_field`."""
    return jnp.dot(phi, tensor.cubic_field(phi))


def dense_via_contract(tensor: AbstractAstrocyteTensor) -> Float[Array, "n n n n"]:
    """The full (N, N, N, N) tensor, one `tensor.contract` of each unit matrix E_kl (O(N^4) memory)."""
    n = tensor.n
    check_memory("the tensor's N", float_bytes(3.0 * float(n) ** 4), f"the dense ({n}, {n}, {n}, {n}) tensor")
    eye = jnp.eye(n * n).reshape(n * n, n, n)
    return jax.vmap(tensor.contract)(eye).reshape(n, n, n, n).transpose(2, 3, 0, 1)


class AbstractDenseTensor(AbstractAstrocyteTensor):
    """A tensor held as (or built from) its dense 4-index array: `contract` is its one primitive, and the
    quadratic form, the cubic field and the quartic form follow from it (`DenseTensor`,
    `nam.learning.SymmetrizedDense`)."""

    def quadratic(self, psi: Float[Array, "n n"]) -> Float[Array, ""]:
        return quadratic_via_contract(self, psi)

    def cubic_field(self, phi: Float[Array, " n"]) -> Float[Array, " n"]:
        return cubic_field_via_contract(self, phi)

    def quartic(self, phi: Float[Array, " n"]) -> Float[Array, ""]:
        return quartic_via_cubic_field(self, phi)


class HebbianTensor(AbstractAstrocyteTensor):
    """T_ijkl = scale * sum_mu xi_mu,i xi_mu,j xi_mu,k xi_mu,l (Kozachkov, Slotine & Krotov, eq. 10),
    held as the patterns; with `distinct_indices=True` the same sum restricted to pairwise distinct
    i, j, k, l (zero whenever two indices coincide).

    **Arguments:**

    - `patterns`: (K, N) memories of +-1.
    - `scale`: None (default) gives 1 / N^3, the authors' tutorial normalisation, or
      1 / ((N-1)(N-2)(N-3)) with `distinct_indices=True`: either way the field of a single stored
      memory on itself is exactly xi (sum_jkl T_ijkl xi_j xi_k xi_l = xi_i), so the gain of tanh(beta x)
      means the same for both tensors. Pass 1.0 for eq. 10 as printed.
    - `mask`: (K,) bool of active memories (False rows are padding and contribute nothing).
    - `distinct_indices`: False (default): eq. 10 as printed. True: drop every term with a repeated
      index. Needs N >= 4 (with fewer neurons no four indices are distinct and T would vanish).

    **Raises:** `ValueError` for non-+-1 patterns, a badly shaped mask, or `distinct_indices=True`
    with N < 4.

    **Why distinct indices.** With eq. 10 the effective field sum_jkl T_ijkl phi_j phi_k phi_l
    = scale sum_mu xi_mu,i m_mu^3 (m_mu = xi_mu . phi) contains the terms with j, k or l equal to i.
    Writing m_mu = xi_mu,i phi_i + h_mu, they give every neuron a self-excitation
    scale sum_mu (3 h_mu^2 + phi_i^2) phi_i ~ 3 scale K N <phi^2> phi_i, which holds each bit at its
    current sign once K ~ N^2 (see `nam.capacity.self_coupling_capacity`). The binary flip-difference
    rule of a Dense Associative Memory cancels the terms with an index equal to i; the tensor on
    distinct indices removes them from the continuous dynamics too, so that its effective model is a
    quartic DAM (eq. 11) without self-coupling. It keeps every symmetry (T_ijkl = T_klij = T_jikl =
    T_ijlk: the index condition is symmetric). It also drops the terms with j = k != i, which the
    binary rule keeps and which carry crosstalk but no signal: its no-error load is N^3 / (12 ln N)
    against N^3 / (30 ln N) (`nam.capacity.no_error_capacity(n, 4, distinct_indices=True)`).
    The memory state of the effective model with tanh(beta x) needs a minimum gain: with one memory and
    every bit at its sign, x = scale S_N tanh(beta x)^3 has a non-zero solution iff beta scale S_N >= 2.017
    (= min_u u / tanh^3 u), S_N = (N-1)(N-2)(N-3) here and N^3 for eq. 10, i.e. beta >= 2.017 with
    the default scales (with 1 / N^3 the distinct tensor would need beta >= 2.017 N^3 / S_N: 4.9 at
    N = 8, 2.6 at N = 24). Below it the neurons decay to 0 (their signs, and so a sign read-out, can
    still match the memory). Eq. 10's self-excitation lowers this threshold as K grows.

    **Contractions on distinct indices** (derived for +-1 patterns, xi^2 = 1; K_w = sum_mu w_mu, w the
    mask). Per memory let a_i = xi_mu,i phi_i and p_r = sum_i a_i^r the power sums: p_1 = m_mu,
    p_2 = P_2 = sum_i phi_i^2, p_3 = r_mu = xi_mu . phi^3, p_4 = P_4 = sum_i phi_i^4 (p_2, p_4 do not
    depend on mu because xi^2 = 1). The sum over distinct (i, j, k, l) of a_i a_j a_k a_l is 24 e_4(a),
    e_4 the elementary symmetric polynomial; Newton's identities give

        quartic     sum_ijkl T_ijkl phi_i phi_j phi_k phi_l
                  = scale sum_mu w_mu [m^4 - 6 m^2 P_2 + 3 P_2^2 + 8 m r - 6 P_4].

    The field is a quarter of its gradient, 6 e_3 of the a's without a_i:
    6 e_3(a without a_i) = (p_1^3 - 3 p_1 p_2 + 2 p_3) - 3 a_i (p_1^2 - p_2) + 6 a_i^2 p_1 - 6 a_i^3, so

        cubic_field sum_jkl T_ijkl phi_j phi_k phi_l
                  = scale [ sum_mu w_mu xi_mu,i (m^3 - 3 m P_2 + 2 r) - 3 phi_i sum_mu w_mu (m^2 - P_2)
                            + 6 phi_i^2 sum_mu w_mu xi_mu,i m - 6 K_w phi_i^3 ],

    both O(K N). The first term is eq. 10's field sum_mu xi_mu,i m^3 less its repeated-index part.
    For a matrix psi (symmetrised first: T_ijkl = T_ijlk, so only its symmetric part counts), with
    B_kl = xi_k psi_kl xi_l, sum_{k != l, k, l not in {i, j}} B_kl by inclusion-exclusion over the
    events k in {i, j}, l in {i, j} (no triple overlaps, since k != l and i != j) is
    q - t - 2 (xi_i y_i + xi_j y_j) + 2 (psi_ii + psi_jj) + 2 B_ij, with q_mu = xi_mu^T psi xi_mu,
    t = trace(psi) and y_mu = psi xi_mu. Times xi_i xi_j and summed over mu, for i != j:

        contract    sum_kl T_ijkl psi_kl
                  = scale (1 - delta_ij) [ sum_mu w_mu (q_mu - t) xi_mu,i xi_mu,j
                            - 2 sum_mu w_mu (y_mu,i xi_mu,j + xi_mu,i y_mu,j)
                            + 2 (psi_ii + psi_jj) H_ij + 2 K_w psi_ij ],     H = sum_mu w_mu xi_mu xi_mu^T,

    O(K N^2); `quadratic` is sum_ij psi_ij contract(psi)_ij. None of them builds T (O(N^4)).
    The formulas use xi^2 = 1: patterns are checked to be +-1 when concrete (inside `jax.jit` the
    caller vouches for them).
    """

    patterns: Float[Array, "k n"]
    mask: Bool[Array, " k"]
    scale: Float[Array, ""]
    distinct_indices: bool = eqx.field(static=True)

    def __init__(self, patterns, scale=None, mask=None, distinct_indices=False):
        self.patterns = check_patterns("patterns", patterns, binary=True)
        k, n = self.patterns.shape
        distinct_indices = check_bool("distinct_indices", distinct_indices)
        if distinct_indices and n < 4:
            raise ValueError(
                f"`distinct_indices=True` needs N >= 4 neurons (four pairwise distinct indices), "
                f"got `patterns` with N = {n}"
            )
        self.distinct_indices = distinct_indices
        self.mask = check_mask("mask", mask, k)
        if scale is None:
            scale = 1.0 / ((n - 1.0) * (n - 2.0) * (n - 3.0)) if distinct_indices else 1.0 / float(n) ** 3
        self.scale = check_scalar("scale", scale, nonnegative=True)

    @property
    def n(self) -> int:
        return self.patterns.shape[1]

    def _weights(self) -> Float[Array, " k"]:
        return self.mask.astype(self.patterns.dtype)

    def _q(self, psi):
        """q_mu = xi_mu^T psi xi_mu, zero for masked-out memories."""
        return jnp.where(self.mask, jnp.sum((self.patterns @ psi) * self.patterns, axis=1), 0.0)

    def contract(self, psi: Float[Array, "n n"]) -> Float[Array, "n n"]:
        if not self.distinct_indices:
            # sum_mu xi_i xi_j (xi^T psi xi): O(K N^2)
            return self.scale * (self.patterns.T * self._q(psi)[None, :]) @ self.patterns
        xi, w = self.patterns, self._weights()
        psi = 0.5 * (psi + psi.T)
        y = xi @ psi  # (K, N): y_mu = psi xi_mu
        diag = jnp.diagonal(psi)
        q = jnp.sum(y * xi, axis=1)
        xiw = xi * w[:, None]
        hebb = xiw.T @ xi  # H
        cross = xiw.T @ y  # sum_mu w xi_mu,i y_mu,j
        out = (
            (xi.T * (w * (q - jnp.trace(psi)))[None, :]) @ xi
            - 2.0 * (cross + cross.T)
            + 2.0 * (diag[:, None] + diag[None, :]) * hebb
            + 2.0 * jnp.sum(w) * psi
        )
        return self.scale * jnp.where(jnp.eye(self.n, dtype=bool), 0.0, out)

    def quadratic(self, psi: Float[Array, "n n"]) -> Float[Array, ""]:
        if not self.distinct_indices:
            q = self._q(psi)
            return self.scale * jnp.sum(q * q)
        return quadratic_via_contract(self, psi)

    def cubic_field(self, phi: Float[Array, " n"]) -> Float[Array, " n"]:
        if not self.distinct_indices:
            m = jnp.where(self.mask, self.patterns @ phi, 0.0)
            return self.scale * (self.patterns.T @ (m * m * m))
        xi, w = self.patterns, self._weights()
        m = xi @ phi
        r = xi @ (phi * phi * phi)
        p2 = jnp.sum(phi * phi)
        return self.scale * (
            xi.T @ (w * (m * m * m - 3.0 * p2 * m + 2.0 * r))
            - 3.0 * phi * jnp.sum(w * (m * m - p2))
            + 6.0 * phi * phi * (xi.T @ (w * m))
            - 6.0 * jnp.sum(w) * phi * phi * phi
        )

    def quartic(self, phi: Float[Array, " n"]) -> Float[Array, ""]:
        if not self.distinct_indices:
            m = jnp.where(self.mask, self.patterns @ phi, 0.0)
            return self.scale * jnp.sum(m**4)
        xi, w = self.patterns, self._weights()
        m = xi @ phi
        r = xi @ (phi * phi * phi)
        p2, p4 = jnp.sum(phi * phi), jnp.sum(phi**4)
        return self.scale * jnp.sum(w * (m**4 - 6.0 * m * m * p2 + 3.0 * p2 * p2 + 8.0 * m * r - 6.0 * p4))

    def dense(self) -> Float[Array, "n n n n"]:
        return dense_via_contract(self)


class KroneckerTensor(AbstractAstrocyteTensor):
    """T_ijkl = scale * sum_r c_r M_r,ij M_r,kl with symmetric M_r (a sum of symmetric Kronecker squares).

    Any real c_r keeps the symmetries the energy needs; the energy decreases along trajectories for any
    such T.

    **Arguments:** `coeffs`: (R,) real c_r; `mats`: (R, N, N), each symmetric; `scale`: a real factor
    (default 1).
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
        k, n = xi.shape
        check_memory("`patterns` (K, N)", float_bytes(float(k) * n * n), f"{k} dense {n} x {n} matrices M_mu")
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
        m = n * (n + 1) // 2  # symmetric N x N matrices: the operator is m x m, the basis m N^2
        check_memory(
            "`tensor` (its N)",
            8.0 * (3.0 * m * m + 2.0 * m * n * n),
            f"the {m} x {m} operator on symmetric {n} x {n} matrices and its eigenvectors",
        )
        # orthonormal basis of symmetric matrices
        blocks = []
        for i in range(n):
            for j in range(i, n):
                b = np.zeros((n, n))
                if i == j:
                    b[i, i] = 1.0
                else:
                    b[i, j] = b[j, i] = 1.0 / np.sqrt(2.0)
                blocks.append(b)
        basis = np.stack(blocks)  # (n(n+1)/2, n, n)
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

    def quadratic(self, psi):
        return quadratic_via_contract(self, psi)

    def cubic_field(self, phi):
        mphi = self.mats @ phi  # (R, N)
        return self.scale * ((self.coeffs * (mphi @ phi)) @ mphi)

    def quartic(self, phi):
        q = (self.mats @ phi) @ phi
        return self.scale * jnp.sum(self.coeffs * q * q)

    def dense(self):
        return dense_via_contract(self)


class DenseTensor(AbstractDenseTensor):
    """A dense (N, N, N, N) astrocyte tensor for tiny N, checked for T_ijkl = T_klij = T_jikl = T_ijlk.

    **Arguments:** `tensor`: the (N, N, N, N) array; `scale`: a real factor (default 1).
    """

    tensor: Float[Array, "n n n n"]
    scale: Float[Array, ""]

    def __init__(self, tensor, scale=1.0):
        t = check_four_index("tensor", tensor)
        if is_concrete(t):
            a = np.asarray(t)
            tol = 1e-6 * max(1.0, float(np.abs(a).max()))
            for perm, name in (
                ((2, 3, 0, 1), "T_ijkl = T_klij"),
                ((1, 0, 2, 3), "T_ijkl = T_jikl"),
                ((0, 1, 3, 2), "T_ijkl = T_ijlk"),
            ):
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
