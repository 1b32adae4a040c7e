"""The sweep's continuous kernel (its trials and binary kernel: `_bits.py`, re-exported here).

**Continuous kernel.** A fixed-step explicit Runge-Kutta method (RK4 by default) with a constant step
`dt` for every run of the batch in lock step, each run stopping at its steady state: rms(tau dy/dt) <=
steady_atol + steady_rtol rms(y) per state block, the criterion of `nam.SolverConfig(steady_state=True)`,
computed with a max-norm scaling so that it cannot overflow. A run whose state has a non-finite entry is
NON_FINITE, one that ran `max_steps` steps without reaching its steady state TIME_LIMIT.
`integrate_steady` batches independent samples (each with its own model); `integrate_steady_sets`
batches samples in sets that share a model (a memory set and its cues), so that a set's field is a
matrix-matrix product. The sweep's step size per model is the largest for which the read-outs equal a
tight-tolerance Tsit5 solve (tests/test_sweep_engine.py).
"""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PyTree

from ..dynamics._status import Status
from ._bits import _decide as _decide
from ._bits import _gain as _gain
from ._bits import _spin_gain as _spin_gain
from ._bits import draw_trials as draw_trials
from ._bits import flip_polynomial as flip_polynomial
from ._bits import int32_safe as int32_safe
from ._bits import memory_zero as memory_zero
from ._bits import overlaps as overlaps
from ._bits import run_async as run_async
from ._bits import stable_bits as stable_bits
from ._bits import trial_targets as trial_targets
from ._bits import unpack as unpack

# ------------------------------------------------------------------------------------------ continuous


def _scaled_rms(x: Float[Array, "b d"]) -> Float[Array, " b"]:
    """rms over the last axis, computed as max|x| * rms(x / max|x|): cannot overflow."""
    top = jnp.max(jnp.abs(x), axis=-1)
    safe = jnp.where(top > 0, top, 1.0)
    return top * jnp.sqrt(jnp.mean((x / safe[:, None]) ** 2, axis=-1))


_TABLEAUS = {  # explicit Runge-Kutta methods of the sweep: (a: stage offsets, w: weights)
    "euler": ((0.0,), (1.0,)),
    "heun": ((0.0, 1.0), (0.5, 0.5)),
    "rk4": ((0.0, 0.5, 0.5, 1.0), (1 / 6, 1 / 3, 1 / 3, 1 / 6)),
}


def _rk_step(method: str, field, y, dt):
    """(f(y), the step y_{n+1} - y_n) of a fixed-step explicit Runge-Kutta method whose stage i evaluates
    f at y + a_i dt k_{i-1} (Euler, Heun, the classical RK4). The stages run in a loop, so the field is
    traced once whatever the method."""
    if method not in _TABLEAUS:
        raise ValueError(f"`method` must be one of {sorted(_TABLEAUS)}, got {method!r}")
    a, w = (jnp.asarray(c, jax.tree.leaves(y)[0].dtype) for c in _TABLEAUS[method])
    k1 = field(y)
    if len(_TABLEAUS[method][0]) == 1:
        return k1, jax.tree.map(lambda v: dt * v, k1)

    def stage(i, carry):
        k, acc = carry
        k = field(jax.tree.map(lambda yy, kk: (yy + (a[i] * dt) * kk).astype(yy.dtype), y, k))
        k = jax.tree.map(lambda kk, k0: kk.astype(k0.dtype), k, k1)
        return k, jax.tree.map(lambda s, kk: (s + (w[i] * dt) * kk).astype(s.dtype), acc, k)

    acc0 = jax.tree.map(lambda v: ((w[0] * dt) * v).astype(v.dtype), k1)
    _, acc = jax.lax.fori_loop(1, a.shape[0], stage, (k1, acc0))
    return k1, acc


def _flat_rows(a, lead: int):
    """`a` with its `lead` leading (sample) axes flattened into one, and the rest into a second."""
    return a.reshape((math.prod(a.shape[:lead]), -1))


def _is_steady(y, v, taus, lead: int, rtol: float, atol: float):
    """rms(tau f) <= atol + rtol rms(y) for every state block, per sample (the leading `lead` axes)."""
    shape = jax.tree.leaves(y)[0].shape[:lead]
    ok = jnp.ones((math.prod(shape),), bool)
    for leaf, vel, tau in zip(jax.tree.leaves(y), jax.tree.leaves(v), jax.tree.leaves(taus)):
        ok = ok & (_scaled_rms(_flat_rows(vel * tau, lead)) <= atol + rtol * _scaled_rms(_flat_rows(leaf, lead)))
    return ok.reshape(shape)


def _is_finite(y, lead: int):
    """Whether every entry of every block is finite, per sample (the leading `lead` axes)."""
    shape = jax.tree.leaves(y)[0].shape[:lead]
    fin = jnp.ones((math.prod(shape),), bool)
    for leaf in jax.tree.leaves(y):
        fin = fin & jnp.all(jnp.isfinite(_flat_rows(leaf, lead)), axis=1)
    return fin.reshape(shape)


def _step_body(method: str, field, taus, *, dt: float, max_steps: int, rtol: float, atol: float):
    """One step of every active sample of a (y, steps, active, status) carry whose per-sample arrays have the
    sample axes of `active`: stop the steady or non-finite ones (CONVERGED / NON_FINITE), advance the others
    by one Runge-Kutta step, and stop those that reach `max_steps` (TIME_LIMIT). Shared by both kernels."""

    def body(c):
        y, steps, active, status = c
        lead = active.ndim
        v, step = _rk_step(method, field, y, dt)
        fin = _is_finite(y, lead)
        stop = active & (_is_steady(y, v, taus, lead, rtol, atol) | ~fin)
        status = jnp.where(stop, jnp.where(fin, Status.CONVERGED, Status.NON_FINITE), status)
        active = active & ~stop
        y = jax.tree.map(
            lambda a, dv: jnp.where(active.reshape(active.shape + (1,) * (a.ndim - lead)), (a + dv).astype(a.dtype), a),
            y,
            step,
        )
        steps = steps + active.astype(jnp.int32)
        hit = active & (steps >= max_steps)
        return y, steps, active & ~hit, jnp.where(hit, Status.TIME_LIMIT, status)

    return body


def integrate_steady(
    vector_field,
    sub_vector_field,
    taus: PyTree,
    y0: PyTree,
    *,
    dt: float,
    max_steps: int,
    stages: tuple = (1, 4),
    steady_rtol: float = 1e-6,
    steady_atol: float = 1e-8,
    method: str = "rk4",
):
    """A fixed-step explicit Runge-Kutta method (`method`: "rk4" by default, "heun" or "euler") with step
    `dt` for a batch of S states (every leaf has a leading axis S) until each sample's steady-state
    criterion holds or it has taken `max_steps` steps.

    Samples that finish stop moving. So that the batch does not keep paying for all S samples while a
    few slow ones finish, the run is staged: stage j works on S / stages[j] samples (the first stage
    on all of them, through `vector_field`), and when no more than the next stage's number are still
    active, they are gathered into a smaller batch whose field is `sub_vector_field(idx)` (a function
    of the sub-batch state, for the samples `idx` of the full batch; it gathers their models once).

    `taus`: the per-block time constants (one sample's state structure). The steady-state test is
    that of `nam.SolverConfig(steady_state=True)`, rms(tau f) <= steady_atol + steady_rtol rms(y) per
    block, made overflow-safe (`_scaled_rms`), checked before every step, but tighter by default (1e-6
    rather than 1e-4 relative): at 1e-4, some trajectories that pass slowly near a saddle stop there and
    read out a pattern the dynamics would leave (tests/test_sweep_engine.py). Returns (final state,
    steps (S,), status (S,)): CONVERGED, TIME_LIMIT (`max_steps` steps without reaching the steady
    state) or NON_FINITE (a non-finite entry, at any point).
    """
    n_samples = jax.tree.leaves(y0)[0].shape[0]
    opts = dict(dt=dt, max_steps=max_steps, rtol=steady_rtol, atol=steady_atol)

    def stage(field, carry, b, next_size):
        def cond(c):
            active = c[2]
            return jnp.any(active) & (jnp.sum(active) > next_size)

        return jax.lax.while_loop(cond, _step_body(method, field, taus, **opts), carry)

    sizes = [max(1, n_samples // int(d)) for d in stages]
    status0 = jnp.full((n_samples,), Status.TIME_LIMIT, jnp.int32)
    carry = (y0, jnp.zeros((n_samples,), jnp.int32), jnp.ones((n_samples,), bool), status0)
    carry = stage(vector_field, carry, n_samples, sizes[1] if len(sizes) > 1 else 0)
    y, steps, active, status = carry
    idx = jnp.arange(n_samples)
    for j in range(1, len(sizes)):
        size, next_size = sizes[j], (sizes[j + 1] if j + 1 < len(sizes) else 0)
        sel = jnp.argsort(~active[idx], stable=True)[:size]  # every active sample, then padding
        sub_idx = idx[sel]
        sub = (jax.tree.map(lambda a: a[sub_idx], y), steps[sub_idx], active[sub_idx], status[sub_idx])
        ys, ss, acts, sts = stage(sub_vector_field(sub_idx), sub, size, next_size)
        y = jax.tree.map(lambda a, b: a.at[sub_idx].set(b), y, ys)
        steps, active, status = steps.at[sub_idx].set(ss), active.at[sub_idx].set(acts), status.at[sub_idx].set(sts)
        idx = sub_idx
    status = jnp.where(_is_finite(y, 1), status, Status.NON_FINITE).astype(jnp.int32)
    return y, steps, status


def sign_readout(a: Float[Array, "b n"], threshold: float = 0.5) -> Int[Array, "b n"]:
    """+1 / -1 by the sign of each neuron's activation, 0 where |activation| < `threshold` or it is
    not finite. A neuron that has decayed towards 0 (the "dead" state a low gain or a weak memory
    leaves, tanh activations near 0) is not a retrieved bit, whatever its sign; at a memory's
    attractor the tanh(5 x) activations of the sweep's models are near +-1."""
    return jnp.where(jnp.isfinite(a) & (jnp.abs(a) >= threshold), jnp.where(a >= 0, 1, -1), 0).astype(jnp.int32)


def integrate_steady_sets(
    vector_field,
    models: PyTree,
    taus: PyTree,
    y0: PyTree,
    *,
    dt: float,
    max_steps: int,
    stages: tuple = ((1, 1), (1, 4)),
    steady_rtol: float = 1e-6,
    steady_atol: float = 1e-8,
    method: str = "rk4",
):
    """`integrate_steady` for samples that share models in sets: every leaf of `y0` has leading axes
    (S, M), M samples of each of S sets, `models` is a pytree whose leaves have a leading axis S, and
    `vector_field(models, y)` maps a state with leading axes (s, m) to its derivative for the s models
    given and any m (each model applied to its own m samples: the field of the samples of one set is a
    matrix-matrix product over the set's memories, not m matrix-vector products).

    `stages`: (set divisor, sample divisor) pairs. Stage j works on S / d_set sets of M / d_sample samples
    each, and the run moves to the next stage when no more sets have an active sample, and no set more
    active samples, than the next stage holds: the active samples are gathered into the first slots of
    their set, the sets with active samples into the first sets (their models gathered once per stage).
    Gathering within sets copies no memories; dropping finished sets means the last slow runs no longer
    pay for every set's memories at every step. Step, steady-state test, statuses and returns as
    `integrate_steady` (steps and status with leading axes (S, M)).
    """
    n_sets, n_samples = jax.tree.leaves(y0)[0].shape[:2]
    opts = dict(dt=dt, max_steps=max_steps, rtol=steady_rtol, atol=steady_atol)

    def stage(mods, carry, next_sets, next_size):
        def cond(c):
            active = c[2]
            per_set = jnp.sum(active, axis=1)
            return jnp.any(active) & ((jnp.max(per_set) > next_size) | (jnp.sum(per_set > 0) > next_sets))

        body = _step_body(method, lambda y: vector_field(mods, y), taus, **opts)
        return jax.lax.while_loop(cond, body, carry)

    sizes = []
    for d_set, d_sample in stages:
        size = (n_sets // d_set, n_samples // d_sample)
        if n_sets % d_set == 0 and n_samples % d_sample == 0 and min(size) >= 1 and size not in sizes:
            sizes.append(size)
    status0 = jnp.full((n_sets, n_samples), Status.TIME_LIMIT, jnp.int32)
    carry = (y0, jnp.zeros((n_sets, n_samples), jnp.int32), jnp.ones((n_sets, n_samples), bool), status0)
    nxt = sizes[1] if len(sizes) > 1 else (0, 0)
    carry = stage(models, carry, *nxt)
    set_idx = jnp.arange(n_sets)  # the full batch's sets (rows) and slots (columns) of the current stage
    col_idx = jnp.broadcast_to(jnp.arange(n_samples)[None, :], (n_sets, n_samples))
    for j in range(1, len(sizes)):
        (n_s, n_m), nxt = sizes[j], (sizes[j + 1] if j + 1 < len(sizes) else (0, 0))
        y, steps, active, status = carry
        act = active[set_idx[:, None], col_idx]
        keep_sets = jnp.argsort(~jnp.any(act, axis=1), stable=True)[:n_s]  # sets with active samples first
        act = act[keep_sets]
        cols = jnp.take_along_axis(col_idx[keep_sets], jnp.argsort(~act, axis=1, stable=True)[:, :n_m], axis=1)
        set_idx = set_idx[keep_sets]
        col_idx = cols
        rows = set_idx[:, None]
        sub = (
            jax.tree.map(lambda a: a[rows, col_idx], y),
            steps[rows, col_idx],
            active[rows, col_idx],
            status[rows, col_idx],
        )
        mods = jax.tree.map(lambda a: a[set_idx], models)
        ys, ss, acts, sts = stage(mods, sub, *nxt)
        y = jax.tree.map(lambda a, b: a.at[rows, col_idx].set(b), y, ys)
        carry = (
            y,
            steps.at[rows, col_idx].set(ss),
            active.at[rows, col_idx].set(acts),
            status.at[rows, col_idx].set(sts),
        )
    y, steps, _, status = carry
    status = jnp.where(_is_finite(y, 2), status, Status.NON_FINITE).astype(jnp.int32)
    return y, steps, status
