"""Linear stability of a continuous energy model at a state: the spectrum of the Jacobian of its vector field.

A dense diagnostic for small systems: the Jacobian of `model.vector_field` is formed with `jax.jacfwd` on
the flattened state (one column per state entry) and its eigenvalues are computed in float64 with LAPACK
(NumPy's `eigvals`), so the function runs eagerly and is not traced by `jit` or `vmap`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Complex, Float, PyTree

from .._checks import check_bool, check_finite, check_instance, check_int, check_memory, check_number
from ..models._base import AbstractEnergyModel
from ._retrieve import _check_state

MAX_SIZE = 20_000


class BlockSpectrum(eqx.Module):
    """The spectrum of one diagonal block of the Jacobian: the linearised dynamics of one state block (the
    neurons x, the synapses s or the processes p of `nam.NeuronAstrocyteState`) with every other block
    held fixed.

    **Fields:**

    - `size`: the block's dimension (N for x; N^2, or N (N + 1) / 2 on the symmetric subspace, for s, p).
    - `eigenvalues`: (size,) complex, sorted by real part, largest first (ties: by imaginary part).
    - `max_real`: the largest real part.
    - `num_unstable`: how many eigenvalues have real part > the spectrum's `tol`.
    """

    size: int
    eigenvalues: Complex[np.ndarray, " m"]
    max_real: float
    num_unstable: int


class JacobianSpectrum(eqx.Module):
    """Result of `nam.jacobian_spectrum`.

    **Fields:**

    - `jacobian`: (D, D) float64, d(dy/dt)/dy of the flattened state (the state's leaves raveled in
      pytree order, each row-major; on the symmetric subspace, in the orthonormal coordinates described
      in `jacobian_spectrum`).
    - `eigenvalues`: (D,) complex128, sorted by real part, largest first (ties: by imaginary part).
    - `max_real`: the largest real part; > 0 means the state is linearly unstable.
    - `num_unstable`: the number of eigenvalues with real part > `tol` (unstable directions).
    - `tol`: the threshold used for `num_unstable`.
    - `blocks`: block name -> `BlockSpectrum` of the diagonal block of that state leaf ("x", "s", "p"
      for `nam.NeuronAstrocyteState`; "state" for a model whose state is one array).
    - `symmetric`: whether the square matrix blocks were restricted to symmetric matrices.
    """

    jacobian: Float[np.ndarray, "d d"]
    eigenvalues: Complex[np.ndarray, " d"]
    max_real: float
    num_unstable: int
    tol: float
    blocks: dict[str, BlockSpectrum]
    symmetric: bool


def _sorted_eigenvalues(matrix: np.ndarray) -> np.ndarray:
    if matrix.shape[0] == 0:
        return np.zeros((0,), np.complex128)
    ev = np.linalg.eigvals(matrix).astype(np.complex128)
    return ev[np.lexsort((-ev.imag, -ev.real))]


def _summary(ev: np.ndarray, tol: float) -> tuple[float, int]:
    return (float(ev.real.max()) if ev.size else -np.inf), int(np.sum(ev.real > tol))


def _symmetric_basis(m: int) -> np.ndarray:
    """(M^2, M (M + 1) / 2): orthonormal basis of the symmetric M x M matrices, raveled row-major: E_ii and
    (E_ij + E_ji) / sqrt 2 for i < j."""
    cols = []
    for i in range(m):
        for j in range(i, m):
            b = np.zeros((m, m))
            if i == j:
                b[i, i] = 1.0
            else:
                b[i, j] = b[j, i] = np.sqrt(0.5)
            cols.append(b.ravel())
    return np.stack(cols, axis=1)


def _block_name(path) -> str:
    name = jax.tree_util.keystr(path, simple=True, separator=".")
    return name or "state"


@eqx.filter_jit
def _jacobian(model, state):
    flat, unravel = ravel_pytree(state)
    return jax.jacfwd(lambda y: ravel_pytree(model.vector_field(unravel(y)))[0])(flat)


def jacobian_spectrum(model, state: PyTree[Array], *, symmetric=False, tol=None, max_size=MAX_SIZE) -> JacobianSpectrum:
    """The eigenvalues of the Jacobian J = d(dy/dt)/dy of `model.vector_field` at `state`: the linear
    stability of the dynamics there (Kozachkov, Slotine & Krotov, eq. 6 for `nam.NeuronAstrocyte`).

    J is formed densely with `jax.jacfwd` on the flattened state (`jax.flatten_util.ravel_pytree`) and
    its eigenvalues are computed in float64 (NumPy's LAPACK): the function runs eagerly, not under `jit`
    or `vmap`. The spectrum of each diagonal block of J (one state leaf, the others held fixed) is returned
    too; for the full network these are the neurons alone, the synapses alone and the processes alone.

    **Symmetric blocks.** The full network's s and p are symmetric N x N matrices, and its vector field
    keeps them symmetric, but as written it is a field on all N^2 entries: directions that break the
    symmetry are legitimate directions of the dynamics (at zero leak they are unstable too: there the
    antisymmetric parts of s and p obey tau_s ds_a/dt = psi'(p) * dp_a, tau_p dp_a/dt = g'(s) * ds_a
    elementwise, a saddle in every pair). With `symmetric=False` (default) J is the Jacobian on all
    entries. With `symmetric=True` every square matrix leaf (shape (M, M)) is restricted to symmetric
    matrices, in the orthonormal coordinates E_ii and (E_ij + E_ji) / sqrt 2 (i < j), so that J becomes
    Q^T J Q (Q the block-diagonal basis; D = N + N (N + 1) for the full network); its eigenvalues are
    those of the full J whose eigenvectors are symmetric. On that subspace and at a fixed point, the
    full network's J is -W H with W positive diagonal and H the Hessian of the energy (eqs. 13-14), so
    its eigenvalues are real and the number of unstable ones is the number of negative eigenvalues of H.

    **Arguments:**

    - `model`: a continuous energy model (`nam.AbstractEnergyModel`).
    - `state`: a state of `model`, with the structure and shapes of `model.init_state(cue)`; finite.
    - `symmetric`: restrict the square matrix blocks to symmetric matrices (see above). Refused if the
      vector field at `state` does not map symmetric perturbations to symmetric ones.
    - `tol`: an eigenvalue counts as unstable when its real part exceeds `tol`. None (default):
      sqrt(eps) * max(1, max |J_ij|), eps the machine epsilon of the state's dtype (1.5e-8 in float64,
      3.5e-4 in float32), above the rounding of J.
    - `max_size`: the largest flattened state (D before the symmetric restriction) accepted, default
      20,000; the dense Jacobian has D^2 entries and its eigenvalues cost O(D^3).

    **Returns:** a `nam.JacobianSpectrum`: the Jacobian, its sorted eigenvalues, the largest real part,
    the number of unstable directions, and a `nam.BlockSpectrum` per state block.

    **Raises:**

    - `TypeError` if `model` is not a `nam.AbstractEnergyModel`, or an option has the wrong type.
    - `ValueError` if `state` does not match the model's state structure and shapes or is not finite;
      if it has more than `max_size` entries (naming its size); if the Jacobian would not fit in memory
      or is not finite; if `tol` is negative or `max_size` < 1; if `symmetric=True` and the vector field
      does not keep the square blocks symmetric at `state`.
    """
    check_instance("model", model, AbstractEnergyModel, "a continuous nam energy model (a nam.AbstractEnergyModel)")
    symmetric, max_size = check_bool("symmetric", symmetric), check_int("max_size", max_size)
    if tol is not None:
        tol = check_number("tol", tol, minimum=0.0)
    state = _finite_state(model, state)
    leaves_with_paths = jax.tree_util.tree_flatten_with_path(state)[0]
    sizes = [int(np.prod(leaf.shape)) for _, leaf in leaves_with_paths]
    _check_size(sum(sizes), max_size)

    dtype = jnp.result_type(*jax.tree.leaves(state))
    jac = np.asarray(_jacobian(model, state), dtype=np.float64)
    if not np.all(np.isfinite(jac)):
        raise ValueError("`state`: the Jacobian of the vector field there is not finite (NaN or inf)")

    names = [_block_name(path) for path, _ in leaves_with_paths]
    bases = []
    for (_, leaf), n in zip(leaves_with_paths, sizes):
        square = symmetric and leaf.ndim == 2 and leaf.shape[0] == leaf.shape[1]
        bases.append(_symmetric_basis(leaf.shape[0]) if square else np.eye(n))
    if symmetric:
        jac = _restrict_symmetric(jac, bases, dtype)

    if tol is None:
        tol = float(np.sqrt(np.finfo(dtype).eps) * max(1.0, np.max(np.abs(jac), initial=0.0)))
    ev = _sorted_eigenvalues(jac)
    max_real, num_unstable = _summary(ev, tol)

    blocks = _block_spectra(jac, names, bases, tol)
    return JacobianSpectrum(jac, ev, max_real, num_unstable, tol, blocks, symmetric)


def _check_size(size: int, max_size: int) -> None:
    """Refuse a flattened state whose dense Jacobian is larger than `max_size` allows or memory holds."""
    if size > max_size:
        raise ValueError(
            f"`state` has {size:,} entries; its dense Jacobian would be {size:,} x {size:,} "
            f"({8.0 * size * size / 2**30:.3g} GiB in float64) and its eigenvalues cost O(D^3): "
            f"more than `max_size` = {max_size:,}. Use a smaller network, or raise `max_size`"
        )
    check_memory("`state`", 4.0 * 8.0 * size * size, f"the dense {size} x {size} Jacobian and its eigenvalues")


def _finite_state(model, state: PyTree[Array]) -> PyTree[Array]:
    """`state` checked against the model's state structure and for finite values."""
    state = _check_state(model, state, "state")
    for leaf in jax.tree.leaves(state):
        check_finite("state", leaf)
    return state


def _restrict_symmetric(jac: np.ndarray, bases: list, dtype) -> np.ndarray:
    """Q^T J Q, Q the block-diagonal basis of `bases`; ValueError if J does not keep that subspace."""
    q = np.zeros((jac.shape[0], sum(b.shape[1] for b in bases)))
    r = c = 0
    for b in bases:
        q[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    jq = jac @ q
    reduced = q.T @ jq
    leak = np.max(np.abs(jq - q @ reduced), initial=0.0)
    if leak > 1e3 * np.finfo(dtype).eps * max(1.0, np.max(np.abs(jac), initial=0.0)):
        raise ValueError(
            "`symmetric=True`: the vector field at `state` does not map symmetric perturbations "
            f"of the square blocks to symmetric ones (off-subspace part {leak:.3g}); use "
            "`symmetric=False`"
        )
    return reduced


def _block_spectra(jac: np.ndarray, names: list, bases: list, tol: float) -> dict:
    """The spectrum of each diagonal block of `jac` (one state leaf, the others held fixed)."""
    blocks, start = {}, 0
    for name, b in zip(names, bases):
        m = b.shape[1]
        block_ev = _sorted_eigenvalues(jac[start : start + m, start : start + m])
        block_max, block_unstable = _summary(block_ev, tol)
        blocks[name] = BlockSpectrum(size=m, eigenvalues=block_ev, max_real=block_max, num_unstable=block_unstable)
        start += m
    return blocks
