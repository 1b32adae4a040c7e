"""Learnable astrocyte tensors: unconstrained parameters, and a T that keeps its symmetries for every value.

The energy of the neuron-astrocyte network needs T_ijkl = T_klij = T_jikl = T_ijlk (Kozachkov,
Slotine & Krotov, sec. "Energy function"). Gradient steps on a raw tensor would break them, so the
learnable forms build T from free parameters through a map whose image has the symmetries:

- `SymmetricKronecker` (form "full"): T = scale * sum_r c_r M_r (x) M_r with M_r = (A_r + A_r^T) / 2,
  free A_r (R, N, N) and c_r (R,). Every symmetric T has this form for R <= N(N+1)/2 (see
  `nam.KroneckerTensor.from_dense`), so nothing is lost but the rank.
- `SymmetricKronecker` (form "outer"): M_r = u_r u_r^T, free u_r (R, N): the effective energy is then
  -scale/4 sum_r c_r (u_r . phi)^4, a quartic Dense Associative Memory with learned real memories u_r
  and weights c_r. With u_r = xi_r, c_r = 1 and R = K it is exactly the Hebbian tensor of eq. 10, with
  the same parameter budget up to the K weights (K (N + 1) numbers against K N).
- `SymmetrizedDense`: T = the average of a free (N, N, N, N) array over the 8 index permutations the
  symmetries generate (tiny N only).
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import (
    ArgumentTypeError,
    as_float_array,
    check_choice,
    check_finite,
    check_four_index,
    check_int,
    check_memory,
    check_patterns,
    check_scalar,
    float_bytes,
)
from ..models._astrocyte_tensor import (
    AbstractAstrocyteTensor,
    AbstractDenseTensor,
    KroneckerTensor,
    dense_via_contract,
    quadratic_via_contract,
)


class SymmetricKronecker(AbstractAstrocyteTensor):
    """T = scale * sum_r c_r M_r (x) M_r, with M_r symmetric by construction (see the module docstring).

    `params`: (R, N, N) free matrices A_r (form "full", M_r = (A_r + A_r^T)/2) or (R, N) free vectors
    u_r (form "outer", M_r = u_r u_r^T). `coeffs`: (R,) real weights c_r. `scale`: a fixed Python
    float (default 1/N^3, the normalisation of `nam.HebbianTensor`). It is static, not an array, so an
    optimizer never touches it: at 1/N^3 ~ 4e-6 (N = 64) a single Adam step of 1e-2 would multiply it
    by a thousand. The learnable magnitude is in `coeffs`.

    **Arguments:** `params`, `coeffs`, `scale`, `form` as above.
    """

    params: Float[Array, "r ..."]
    coeffs: Float[Array, " r"]
    scale: float = eqx.field(static=True)
    form: str = eqx.field(static=True)

    def __init__(self, params, coeffs=None, scale=None, *, form: str = "outer"):
        self.form = check_choice("form", form, ("outer", "full"))
        params = as_float_array("params", params)
        want = 2 if form == "outer" else 3
        if (
            params.ndim != want
            or params.shape[0] < 1
            or params.shape[-1] < 2
            or (form == "full" and params.shape[1] != params.shape[2])
        ):
            shape = "(R, N)" if form == "outer" else "(R, N, N)"
            raise ValueError(
                f"`params` must have shape {shape} with R >= 1, N >= 2 for form={form!r}, got {params.shape}"
            )
        check_finite("params", params)
        r, n = params.shape[0], params.shape[-1]
        coeffs = jnp.ones((r,), params.dtype) if coeffs is None else as_float_array("coeffs", coeffs, ndim=1)
        if coeffs.shape != (r,):
            raise ValueError(f"`coeffs` must have shape ({r},) (one weight per rank), got {coeffs.shape}")
        check_finite("coeffs", coeffs)
        self.params, self.coeffs = params, coeffs
        self.scale = float(check_scalar("scale", 1.0 / float(n) ** 3 if scale is None else scale))

    @classmethod
    def from_patterns(
        cls, patterns, *, rank: int | None = None, form: str = "outer", scale=None, key=None, noise: float = 0.0
    ) -> "SymmetricKronecker":
        """Start from the Hebbian tensor of `patterns` (K, N): u_r = xi_r (outer) or A_r = xi_r xi_r^T
        (full), c_r = 1. `rank` > K adds rows that start at zero weight (random directions if `key`);
        `rank` < K keeps the first `rank` patterns. `noise` > 0 with a `key` perturbs the start."""
        xi = check_patterns("patterns", patterns, binary=True)
        k, n = xi.shape
        rank = k if rank is None else rank
        check_int("rank", rank)
        noise = float(check_scalar("noise", noise, nonnegative=True))
        if form == "full":
            check_memory(
                "`patterns` (its N), `rank`", float_bytes(2.0 * rank * n * n), f"{rank} dense {n} x {n} matrices A_r"
            )
        rows = xi[:rank] if rank <= k else jnp.concatenate([xi, jnp.zeros((rank - k, n), xi.dtype)])
        coeffs = (jnp.arange(rank) < k).astype(xi.dtype)
        if key is not None:
            import jax.random as jr

            k1, k2 = jr.split(key)
            extra = jr.normal(k1, rows.shape, rows.dtype) * (jnp.arange(rank) >= k)[:, None].astype(rows.dtype)
            rows = rows + extra + noise * jr.normal(k2, rows.shape, rows.dtype)
        params = rows if form == "outer" else rows[:, :, None] * rows[:, None, :]
        return cls(params, coeffs, scale, form=form)

    @property
    def n(self) -> int:
        return self.params.shape[-1]

    def mats(self) -> Float[Array, "r n n"]:
        """The symmetric M_r."""
        if self.form == "outer":
            return self.params[:, :, None] * self.params[:, None, :]
        return 0.5 * (self.params + jnp.swapaxes(self.params, 1, 2))

    def _weights(self):
        return self.scale * self.coeffs

    def contract(self, psi):
        if self.form == "outer":
            q = jnp.sum((self.params @ psi) * self.params, axis=1)  # u^T psi u
            return (self.params.T * (self._weights() * q)[None, :]) @ self.params
        m = self.mats()
        return jnp.einsum("r,rij->ij", self._weights() * jnp.einsum("rkl,kl->r", m, psi), m)

    def quadratic(self, psi):
        return quadratic_via_contract(self, psi)

    def cubic_field(self, phi):
        if self.form == "outer":
            z = self.params @ phi
            return self.params.T @ (self._weights() * z**3)
        m = self.mats()
        mphi = m @ phi
        return mphi.T @ (self._weights() * (mphi @ phi))

    def quartic(self, phi):
        if self.form == "outer":
            return jnp.sum(self._weights() * (self.params @ phi) ** 4)
        m = self.mats()
        return jnp.sum(self._weights() * ((m @ phi) @ phi) ** 2)

    def dense(self):
        return dense_via_contract(self)

    def to_kronecker(self) -> KroneckerTensor:
        """The same tensor as a `nam.KroneckerTensor` (explicit symmetric matrices)."""
        return KroneckerTensor(self.coeffs, self.mats(), self.scale)


_PERMUTATIONS = ("ijkl", "jikl", "ijlk", "jilk", "klij", "lkij", "klji", "lkji")


class SymmetrizedDense(AbstractDenseTensor):
    """T = scale * (1/8) sum over the 8 symmetry permutations of a free (N, N, N, N) array `raw`
    (the projection onto tensors with T_ijkl = T_jikl = T_ijlk = T_klij). O(N^4): tiny N only.
    `scale` is a static float (never trained).

    **Arguments:** `raw`: a (N, N, N, N) array; `scale`: a float.
    """

    raw: Float[Array, "n n n n"]
    scale: float = eqx.field(static=True)

    def __init__(self, raw, scale=1.0):
        self.raw = check_four_index("raw", raw)
        self.scale = float(check_scalar("scale", scale))

    @property
    def n(self) -> int:
        return self.raw.shape[0]

    def dense(self):
        return self.scale * sum(jnp.einsum(f"ijkl->{p}", self.raw) for p in _PERMUTATIONS) / 8.0

    def contract(self, psi):
        return jnp.einsum("ijkl,kl->ij", self.dense(), psi)


def tensor_parameter_count(tensor) -> int:
    """The number of free numbers of a learnable tensor (its trainable arrays, `scale` excluded).

    **Arguments:** `tensor`: a learnable tensor (`SymmetricKronecker`, `SymmetrizedDense`) or any
    `nam.AbstractAstrocyteTensor`.

    **Returns:** an int.
    """
    if isinstance(tensor, SymmetricKronecker):
        return int(np.prod(tensor.params.shape) + tensor.coeffs.size)
    if isinstance(tensor, SymmetrizedDense):
        return int(tensor.raw.size)
    raise ArgumentTypeError(
        f"`tensor` must be a learnable nam tensor (SymmetricKronecker, SymmetrizedDense), got {type(tensor).__name__}"
    )
