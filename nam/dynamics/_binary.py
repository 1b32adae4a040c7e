"""Discrete sign dynamics for binary models (Hopfield 1982; Krotov & Hopfield 2016, eq. 3)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import as_float_array, check_choice, check_instance, check_int, is_concrete
from ..models._base import AbstractBinaryModel
from ._status import Status


class BinaryRetrieval(eqx.Module):
    """Result of `retrieve_binary`.

    **Fields:**

    - `pattern`: (N,) the final +-1 state.
    - `energy`: its energy, 0-d.
    - `sweeps`: the number of sweeps run (one sweep = N single-spin updates, or one synchronous update).
    - `status`: a `nam.Status` code (CONVERGED, SWEEP_LIMIT or CYCLE)."""

    pattern: Float[Array, " n"]
    energy: Float[Array, ""]
    sweeps: Int[Array, ""]
    status: Int[Array, ""]


def _async_sweep(model, sigma, m, order):
    def body(j, carry):
        sigma, m = carry
        i = order[j]
        new = model.propose(m, sigma, i)
        m = m + model.patterns[:, i] * (new - sigma[i])
        return sigma.at[i].set(new), m

    return jax.lax.fori_loop(0, order.shape[0], body, (sigma, m))


def _sync_step(model, sigma):
    m = model.overlaps(sigma)
    return jax.vmap(lambda i: model.propose(m, sigma, i))(jnp.arange(sigma.shape[0]))


def check_binary_model(model) -> None:
    """`model` must have binary dynamics (`nam.AbstractBinaryModel`); `ArgumentTypeError` otherwise."""
    check_instance(
        "model", model, AbstractBinaryModel, "a binary nam model (nam.ClassicalHopfield, nam.DenseAssociativeMemory)"
    )


def retrieve_binary(
    model, cue, *, mode: str = "async", max_sweeps: int = 100, key: PRNGKeyArray | None = None
) -> BinaryRetrieval:
    """Run the flip-difference sign dynamics from a +-1 cue until no bit changes or `max_sweeps`.

    - `mode="async"`: sweeps of single-spin updates, each spin seeing the current state (the energy
      never increases). Order: 0..N-1, or a fresh random permutation per sweep when `key` is given.
    - `mode="sync"`: all spins updated at once from the same state; may enter a 2-cycle, reported
      as status CYCLE.

    A single sample, jitted with lax loops; batch with jax.vmap.

    **Arguments:**

    - `model`: a binary model (`nam.ClassicalHopfield` or `nam.DenseAssociativeMemory`).
    - `cue`: (N,) +-1 start state.
    - `mode`: "async" (default) or "sync".
    - `max_sweeps`: the sweep budget (default 100).
    - `key`: a JAX PRNG key (`jax.random.key(seed)`) for a random update order, or None (fixed order).

    **Returns:** a `nam.BinaryRetrieval`.
    """
    check_binary_model(model)
    check_choice("mode", mode, ("async", "sync"))
    max_sweeps = check_int("max_sweeps", max_sweeps)
    n = model.patterns.shape[1]
    sigma0 = as_float_array("cue", cue, ndim=1)
    if sigma0.shape != (n,):
        raise ValueError(f"`cue` must have shape ({n},), got {sigma0.shape}")
    if is_concrete(sigma0) and not bool(np.all(np.abs(np.asarray(sigma0)) == 1)):
        raise ValueError("`cue` must contain only +1 and -1 entries for binary dynamics")
    return _retrieve_binary(model, sigma0, mode, max_sweeps, key)


@eqx.filter_jit
def _retrieve_binary(model, sigma0, mode, max_sweeps, key):
    n = sigma0.shape[0]

    if mode == "async":

        def body(carry):
            sigma, _, sweep, _ = carry
            order = jnp.arange(n) if key is None else jr.permutation(jr.fold_in(key, sweep), n)
            new, _ = _async_sweep(model, sigma, model.overlaps(sigma), order)
            return new, sigma, sweep + 1, jnp.any(new != sigma)

        def cond(carry):
            _, _, sweep, changed = carry
            return changed & (sweep < max_sweeps)

        init = (sigma0, sigma0, jnp.asarray(0), jnp.asarray(True))
        sigma, _, sweeps, changed = jax.lax.while_loop(cond, body, init)
        status = jnp.where(changed, Status.SWEEP_LIMIT, Status.CONVERGED)
    else:

        def body(carry):
            sigma, prev, sweep, _, _ = carry
            new = _sync_step(model, sigma)
            return new, sigma, sweep + 1, jnp.any(new != sigma), jnp.all(new == prev) & jnp.any(new != sigma)

        def cond(carry):
            _, _, sweep, changed, cycle = carry
            return changed & ~cycle & (sweep < max_sweeps)

        init = (sigma0, sigma0, jnp.asarray(0), jnp.asarray(True), jnp.asarray(False))
        sigma, _, sweeps, changed, cycle = jax.lax.while_loop(cond, body, init)
        status = jnp.where(cycle, Status.CYCLE, jnp.where(changed, Status.SWEEP_LIMIT, Status.CONVERGED))
    return BinaryRetrieval(
        pattern=sigma, energy=model.binary_energy(sigma), sweeps=sweeps, status=status.astype(jnp.int32)
    )
