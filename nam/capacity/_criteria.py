"""Per-trial retrieval criteria for the binary models (`nam.ClassicalHopfield`, `nam.DenseAssociativeMemory`).

A capacity is the largest load K at which a criterion still holds; the criteria differ, and so do
the capacities they give:

1. `one_step_stable_bits`: the fraction of the bits of a stored memory xi_mu that one flip-difference
   update, made from xi_mu itself, leaves unchanged. Its complement is the per-bit error rate that
   the signal-to-noise theory predicts as Phi(-sqrt(S)) (`nam.capacity.bit_error_probability`).
2. `is_fixed_point`: every bit is stable, so xi_mu is an exact fixed point of the dynamics (async and
   sync alike). Requiring this of all K memories is the no-error capacity N^(n-1) / (2 (2n-3)!! ln N)
   (McEliece et al. 1987; Krotov & Hopfield 2016).
3. and 4. `retrieval_outcome`: corrupt xi_mu by flipping exactly round(rho N) bits, run the dynamics
   to convergence, and report whether the read-out equals xi_mu exactly (criterion 3) and its overlap
   with xi_mu (criterion 4: retrieval with a few wrong bits allowed, the sense of Amit, Gutfreund &
   Sompolinsky's 0.138 N).

Each function handles one memory of one model and is pure: jit it once per model type and shape and
vmap it over memories `mu`, keys and independent pattern sets (build the model inside the vmapped
function from the traced patterns). With a `mask` (padded K buckets), `mu` must index an active
memory; the padding rows change nothing else, so one compiled function serves every K of a bucket.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, Real

from .._checks import ArgumentTypeError, check_key, is_concrete, is_integer
from .._patterns import flip_bits
from ..dynamics._binary import check_binary_model, retrieve_binary
from ..models._base import AbstractBinaryModel


def _check_mu(model, mu) -> jax.Array:
    """A scalar integer index of an active memory (mask True) of `model`, checked when concrete."""
    k = model.patterns.shape[0]
    if isinstance(mu, bool) or mu is None or isinstance(mu, (str, float, complex)):
        raise ArgumentTypeError(f"`mu` must be an integer memory index, got {mu!r}")
    if is_integer(mu) and not 0 <= mu < k:  # before conversion: a huge Python int does not fit in int64
        raise ValueError(f"`mu` must be in [0, {k}) (K = {k} memories), got {mu}")
    arr = jnp.asarray(mu)
    if arr.dtype == jnp.bool_ or not jnp.issubdtype(arr.dtype, jnp.integer):
        raise ArgumentTypeError(f"`mu` must be an integer memory index, got dtype {arr.dtype}")
    if arr.shape != ():
        raise ValueError(f"`mu` must be a scalar memory index (vmap for several), got shape {arr.shape}")
    if is_concrete(arr):
        if not 0 <= int(arr) < k:
            raise ValueError(f"`mu` must be in [0, {k}) (K = {k} memories), got {int(arr)}")
        mask = getattr(model, "mask", None)
        if mask is not None and is_concrete(mask) and not bool(np.asarray(mask)[int(arr)]):
            raise ValueError(f"`mu` = {int(arr)} is a padding row of the model (mask False), not a memory")
    return arr


def _stable(model: AbstractBinaryModel, mu: jax.Array) -> Bool[Array, " n"]:
    xi = model.patterns[mu]
    m = model.overlaps(xi)
    new = jax.vmap(lambda i: model.propose(m, xi, i))(jnp.arange(xi.shape[0]))
    return new == xi


def one_step_stable_bits(model, mu: int | Int[ArrayLike, ""]) -> Float[Array, ""]:
    """Criterion 1: the fraction of bits i with `model.propose(Xi xi_mu, xi_mu, i) == xi_mu,i`.

    Each bit is updated from the stored memory itself (the other bits held at xi_mu), exactly the
    single-spin rule of `nam.retrieve_binary`; ties keep the bit (as far as `model.propose` resolves
    them: see the note on `nam.ClassicalHopfield` ties in tests/test_capacity_theory.py). O(K) per
    bit, O(K N) per memory. One memory; vmap over `mu`.

    **Arguments:** `model`: a binary model; `mu`: the memory's index.

    **Returns:** a 0-d float array, the fraction in [0, 1].
    """
    check_binary_model(model)
    mu = _check_mu(model, mu)
    return jnp.mean(_stable(model, mu).astype(model.patterns.dtype))


def is_fixed_point(model, mu: int | Int[ArrayLike, ""]) -> Bool[Array, ""]:
    """Criterion 2: True iff every bit of xi_mu is one-step stable, i.e. xi_mu is an exact fixed point
    of both the asynchronous and the synchronous dynamics.

    **Arguments:** `model`: a binary model (`nam.ClassicalHopfield`, `nam.DenseAssociativeMemory`);
    `mu`: the memory's index.

    **Returns:** a 0-d bool array.
    """
    check_binary_model(model)
    mu = _check_mu(model, mu)
    return jnp.all(_stable(model, mu))


class RetrievalOutcome(NamedTuple):
    """`exact`: the read-out equals xi_mu in every bit; `overlap`: read-out . xi_mu / N; `status`: the
    `nam.Status` code of the run (CONVERGED, SWEEP_LIMIT or, for synchronous updates, CYCLE).

    **Fields:** `exact` (0-d bool), `overlap` (0-d float), `status` (0-d int32).
    """

    exact: Bool[Array, ""]
    overlap: Float[Array, ""]
    status: Int[Array, ""]


def retrieval_outcome(
    model,
    mu: int | Int[ArrayLike, ""],
    key: PRNGKeyArray,
    rho: float | int | Real[ArrayLike, ""],
    mode: str = "async",
    max_sweeps: int = 100,
) -> RetrievalOutcome:
    """Criteria 3 and 4: flip exactly round(rho N) bits of xi_mu (`nam.flip_bits` with `key`), run
    `nam.retrieve_binary(model, cue, mode=mode, max_sweeps=max_sweeps)` (sweep order 0..N-1), and
    compare the final state with xi_mu.

    A run that hits `max_sweeps` or a 2-cycle still reports its last state's `exact` and `overlap`;
    filter on `status` to count only converged runs. `rho` may be traced (no recompile per rho).

    **Arguments:** `model`: a binary model; `mu`: the memory's index; `key`: a JAX PRNG key
    (`jax.random.key(seed)`) for the flipped bits; `rho`: the fraction of bits flipped; `mode`, `max_sweeps`:
    as for `nam.retrieve_binary`.

    **Returns:** a `RetrievalOutcome`.
    """
    check_binary_model(model)
    mu = _check_mu(model, mu)
    key = check_key("key", key)
    if isinstance(rho, (bool, str, complex)) or rho is None:
        raise ArgumentTypeError(f"`rho` must be a real scalar, got {rho!r}")
    rho_arr = jnp.asarray(rho)
    if rho_arr.dtype == jnp.bool_ or not (
        jnp.issubdtype(rho_arr.dtype, jnp.floating) or jnp.issubdtype(rho_arr.dtype, jnp.integer)
    ):
        raise ArgumentTypeError(f"`rho` must be a real scalar, got {rho!r}")
    if rho_arr.shape != ():
        raise ValueError(f"`rho` must be a scalar (vmap for several), got shape {rho_arr.shape}")
    if is_concrete(rho_arr) and not 0.0 <= float(rho_arr) <= 1.0:
        raise ValueError(f"`rho` must be a fraction of bits in [0, 1], got {float(np.asarray(rho_arr))}")
    xi = model.patterns[mu]
    cue = flip_bits(key, xi, rho_arr)
    r = retrieve_binary(model, cue, mode=mode, max_sweeps=max_sweeps)
    return RetrievalOutcome(
        exact=jnp.all(r.pattern == xi), overlap=jnp.dot(r.pattern, xi) / xi.shape[0], status=r.status
    )
