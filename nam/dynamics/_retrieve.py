"""Continuous retrieval: a diffrax solve of any `AbstractEnergyModel` from a cue to a steady state."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PyTree

from .._checks import (
    as_float_array,
    check_bool,
    check_finite,
    check_instance,
    check_int,
    check_memory,
    check_vector,
    is_concrete,
)
from ..models._base import AbstractEnergyModel
from ._config import SolverConfig
from ._status import Status, raise_if_not_ok, status_ok


class Retrieval(eqx.Module):
    """Result of `retrieve` for one sample (every field gains a leading axis under vmap).

    **Fields:**

    - `state`: the final state (at the steady state, or at t1).
    - `pattern`: the +-1 read-out, sign of the neuron activations; 0 for a neuron whose activation is
      NaN or inf, and 0 everywhere when `status` is NON_FINITE or DIVERGED (such a read-out is never a
      pattern). Count a sample only where `ok()` holds.
    - `energy`: E at the final state.
    - `t_final`: time reached; `num_steps`: accepted solver steps.
    - `status`: a `nam.Status` code for the main solve; `settle_status`: that of the clamped relaxation
      asked for with `settle_blocks=True` (CONVERGED when none was run).
    - `energy_ts`, `energies`: E at the requested times (NaN after the solve stopped), or None.
    - `save_ts`, `states`: the full state at the requested times (every leaf gains a leading axis of
      length t; NaN after the solve stopped), or None.
    """

    state: PyTree[Array]
    pattern: Float[Array, " n"]
    energy: Float[Array, ""]
    t_final: Float[Array, ""]
    num_steps: Int[Array, ""]
    status: Int[Array, ""]
    settle_status: Int[Array, ""]
    energy_ts: Float[Array, " t"] | None
    energies: Float[Array, " t"] | None
    save_ts: Float[Array, " t"] | None = None
    states: PyTree[Array] | None = None

    def ok(self, *, time_limit_ok: bool = False) -> Bool[Array, "..."]:
        """True for each sample that may be counted: `status` is CONVERGED (a steady state was reached) or
        COMPLETED (a fixed-horizon run, `SolverConfig(steady_state=False)`, reached t1), and the clamped
        relaxation, if any, finished cleanly. A count of retrieved memories is
        `sum(ok & (pattern == target).all(-1))`; samples that are not ok are reported apart (by status),
        never as retrieved or not retrieved. See `nam.status_ok`.

        **Arguments:** `time_limit_ok`: also accept TIME_LIMIT (a steady-state run that reached t1).

        **Returns:** a boolean array of the shape of `status`.
        """
        return status_ok(self.status, time_limit_ok=time_limit_ok) & status_ok(self.settle_status)


def _max_abs(x):
    """max |x| over every entry (inf if any entry is inf, NaN if any is NaN; 0 for an empty array)."""
    return jnp.max(jnp.abs(x), initial=0.0)


def _rms(x):
    """sqrt(mean(x^2)) computed as m sqrt(mean((x / m)^2)) with m = max |x|, so it never overflows for a
    finite x (x.x overflows float32 at |x| ~ 1e19 and float64 at ~1e154); non-finite x gives inf or NaN."""
    m = _max_abs(x)
    finite = jnp.isfinite(m)
    safe = jnp.where(finite & (m > 0), m, 1.0)
    scaled = safe * jnp.sqrt(jnp.mean(jnp.square(x / safe)))
    return jnp.where(finite, jnp.where(m > 0, scaled, 0.0), m)


def _all_finite(tree) -> Bool[Array, ""]:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def _steady_cond(residual: Callable, config: SolverConfig):
    """The steady-state event: every block's residual rms is finite and within tolerance. A non-finite
    residual or state never counts as steady (inf <= tol * inf would otherwise hold)."""

    def block_ok(r, yy):
        finite = jnp.all(jnp.isfinite(r)) & jnp.all(jnp.isfinite(yy))
        return finite & (_rms(r) <= config.steady_atol + config.steady_rtol * _rms(yy))

    def cond_fn(t, y, args, **kwargs):
        del t, args, kwargs
        return jnp.all(jnp.stack(jax.tree.leaves(jax.tree.map(block_ok, residual(y), y))))

    return cond_fn


def _tree_max_abs(tree):
    return jnp.max(jnp.stack([_max_abs(leaf).astype(jnp.result_type(float)) for leaf in jax.tree.leaves(tree)]))


def _outward(y, f) -> Bool[Array, ""]:
    """d|y|^2/dt = 2 y.f > 0 (computed on max-scaled copies, so it cannot overflow); True if f is not finite."""
    my, mf = _tree_max_abs(y), _tree_max_abs(f)
    sy = jnp.where(my > 0, my, 1.0)
    sf = jnp.where((mf > 0) & jnp.isfinite(mf), mf, 1.0)
    dot = sum(jnp.vdot(a / sy, b / sf) for a, b in zip(jax.tree.leaves(y), jax.tree.leaves(f)))
    return (dot > 0) | ~jnp.isfinite(mf)


def _status(
    sol: diffrax.Solution, y0: PyTree[Array], y1: PyTree[Array], vf: Callable, config: SolverConfig
) -> Int[Array, ""]:
    """The Status of a solve. Any non-finite entry of the final state is NON_FINITE, whatever the solver
    said; reaching t1 is TIME_LIMIT when a steady state was asked for and COMPLETED (a fixed horizon) when
    not; an early stop (step budget, solver failure) on a state that grew by more than
    `config.divergence_factor` (max-norm, relative to max(1, initial max-norm)) and still moves outwards is
    DIVERGED."""
    event_hit = jnp.asarray(sol.event_mask if config.steady_state else False)
    ok = (sol.result == diffrax.RESULTS.successful) | (sol.result == diffrax.RESULTS.event_occurred)
    # reaching t1 is a failure to converge only where a steady state was asked for; else the horizon is the goal
    code = jnp.where(event_hit, Status.CONVERGED, Status.TIME_LIMIT if config.steady_state else Status.COMPLETED)
    code = jnp.where(
        ok, code, jnp.where(sol.result == diffrax.RESULTS.max_steps_reached, Status.MAX_STEPS, Status.SOLVER_FAILED)
    )
    grown = _tree_max_abs(y1) > config.divergence_factor * jnp.maximum(1.0, _tree_max_abs(y0))
    code = jnp.where(~ok & grown & _outward(y1, vf(y1)), Status.DIVERGED, code)
    return jnp.where(_all_finite(y1), code, Status.NON_FINITE).astype(jnp.int32)


def _solve(vf: Callable, taus, energy: Callable | None, y0, config: SolverConfig, energy_ts, save_ts=None):
    """Integrate dy/dt = vf(y). The steady-state test uses the residual tau * dy/dt per block (the
    fixed-point equation in state units), so it does not depend on the time constants."""
    residual = lambda y: jax.tree.map(lambda v, tau: v * tau, vf(y), taus)
    subs = [diffrax.SubSaveAt(t1=True)]
    if energy_ts is not None:
        assert energy is not None, "energy_ts needs the energy"
        subs.append(diffrax.SubSaveAt(ts=energy_ts, fn=lambda t, y, args: energy(y)))
    if save_ts is not None:
        subs.append(diffrax.SubSaveAt(ts=save_ts))
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: vf(y)),
        config.make_solver(),
        t0=jnp.zeros_like(config.t1),
        t1=config.t1,
        dt0=config.dt0,
        y0=y0,
        saveat=diffrax.SaveAt(subs=subs),
        stepsize_controller=config.make_controller(),
        event=diffrax.Event(_steady_cond(residual, config)) if config.steady_state else None,
        max_steps=config.max_steps,
        throw=False,
    )
    y1 = jax.tree.map(lambda a: a[-1], sol.ys[0])
    t_final = sol.ts[0][-1]
    status = _status(sol, y0, y1, vf, config)
    # on MAX_STEPS / SOLVER_FAILED the t1 slot holds the last accepted state (finite unless it diverged)
    saved = states = None
    if energy_ts is not None:
        saved = jnp.where(energy_ts <= t_final, sol.ys[1], jnp.nan)
    if save_ts is not None:
        reached = save_ts <= t_final
        states = jax.tree.map(lambda a: jnp.where(reached.reshape((-1,) + (1,) * (a.ndim - 1)), a, jnp.nan), sol.ys[-1])
    return y1, t_final, sol.stats["num_steps"], status, saved, states


@eqx.filter_custom_vjp
def _implicit_steady_state(model, y_star, config):
    """Returns y_star; its gradient with respect to `model` is that of the steady state f(y*, model) = 0
    by the implicit function theorem (see `SolverConfig`, adjoint="implicit")."""
    return y_star


@_implicit_steady_state.def_fwd
def _implicit_fwd(perturbed, model, y_star, config):
    del perturbed
    return y_star, None


def _adjoint_solve(model, y_star, g, config: SolverConfig) -> lx.Solution:
    """The linear system of the implicit backward pass: J^T lam = -g, with J = df/dy the Jacobian of the model's
    vector field at the steady state y* and g the cotangent of the loss at y* (a block the loss does not use may
    be None, a symbolic zero), solved by `config.make_linear_solver()` without throwing. The lineax solution
    carries the result code and the solver's stats (`benchmarks/bench_learning.py` reports them)."""
    _, vjp_y = jax.vjp(model.vector_field, y_star)
    operator = lx.FunctionLinearOperator(lambda v: vjp_y(v)[0], jax.eval_shape(lambda: y_star))
    neg_g = jax.tree.map(lambda y, a: jnp.zeros_like(y) if a is None else -a, y_star, g, is_leaf=lambda x: x is None)
    return lx.linear_solve(operator, neg_g, config.make_linear_solver(), throw=False)


@_implicit_steady_state.def_bwd
def _implicit_bwd(residuals, g, perturbed, model, y_star, config):
    del residuals, perturbed
    lam = _adjoint_solve(model, y_star, g, config).value
    _, vjp_model = eqx.filter_vjp(lambda m: m.vector_field(y_star), model)
    return vjp_model(lam)[0]


def _check_model(model):
    check_instance("model", model, AbstractEnergyModel, "a continuous nam energy model (a nam.AbstractEnergyModel)")


def _check_config(config):
    return SolverConfig() if config is None else check_instance("config", config, SolverConfig)


def _check_times(name, ts, config):
    """`ts` None or finite non-decreasing times in [0, config.t1] (checked when concrete: diffrax would
    otherwise fail inside jit without naming the argument)."""
    if ts is None:
        return ts
    ts = as_float_array(name, ts, ndim=1)
    if ts.shape[0] < 1:
        raise ValueError(f"`{name}` must hold at least one time (or be None)")
    check_finite(name, ts)
    if is_concrete(ts) and is_concrete(config.t1):
        values, t1 = np.asarray(ts), float(config.t1)
        if values.min() < 0 or values.max() > t1:
            raise ValueError(
                f"`{name}` must lie in [0, t1 = {t1:g}] (the solve's time span, `config.t1`), got "
                f"values in [{values.min():g}, {values.max():g}]"
            )
        if np.any(np.diff(values) < 0):
            raise ValueError(f"`{name}` must be non-decreasing (sorted times)")
    return ts


def _check_options(settle_blocks, energy_ts, config, throw=False):
    check_bool("settle_blocks", settle_blocks)
    check_bool("throw", throw)
    return _check_times("energy_ts", energy_ts, config)


def _check_state(model, state0, name):
    """A full state of `model`'s structure and shapes, as float arrays (shapes and dtypes at trace time)."""
    ref = jax.eval_shape(model.init_state, jnp.zeros((model.n,)))
    if jax.tree.structure(state0) != jax.tree.structure(ref) or any(
        jnp.shape(a) != b.shape for a, b in zip(jax.tree.leaves(state0), jax.tree.leaves(ref))
    ):
        raise ValueError(f"`{name}` must match the model's state structure and shapes {ref}")
    return jax.tree.map(lambda a: as_float_array(name, a), state0)


def settle(model, state, config: SolverConfig | None = None):
    """Relax the non-neuron blocks with the neurons clamped, to the algebraic fixed point of their
    equations (Kozachkov et al. Appendix D).

    Relaxation finds the solution for positive leaks (alpha, gamma > 0); with zero leaks the clamped
    subsystem has no leak to settle on and the status reports TIME_LIMIT.

    **Arguments:**

    - `model`: a continuous `nam.AbstractEnergyModel` with non-neuron blocks (e.g. `nam.NeuronAstrocyte`).
    - `state`: a full state of `model` (its structure and shapes), finite.
    - `config`: a `nam.SolverConfig` (default `SolverConfig()`).

    **Returns:** a tuple `(state, status)`: the relaxed state and its `nam.Status` code (int32, shape ()).

    **Raises:** `TypeError`/`ValueError` for a wrong model, state structure or non-finite state.
    """
    _check_model(model)
    config = _check_config(config)
    state = _check_state(model, state, "state")
    for leaf in jax.tree.leaves(state):
        check_finite("state", leaf)
    return _settle(model, state, config)


@eqx.filter_jit
def _settle(model, state, config):
    y1, _, _, status, _, _ = _solve(model.clamped_vector_field, model.time_constants(), None, state, config, None)
    return y1, status


def retrieve(
    model,
    cue=None,
    *,
    state0=None,
    config: SolverConfig | None = None,
    settle_blocks: bool = False,
    energy_ts=None,
    save_ts=None,
    throw: bool = False,
) -> Retrieval:
    """Run a continuous energy model from a cue (or a full initial state) to a steady state or t1.

    Single sample; batch with `jax.vmap(lambda c: nam.retrieve(model, c, config=cfg))(cues)` or
    `nam.retrieve_batch`. Under vmap one diverging sample gets status NON_FINITE and does not stop the
    others. Differentiable with respect to model parameters (reverse mode through the solve, bounded by
    `config.max_steps`).

    **Arguments:**

    - `model`: a continuous `nam.AbstractEnergyModel` (e.g. `nam.NeuronAstrocyte`).
    - `cue`: (N,) initial neuron state; the other blocks start from `model.init_state(cue)`.
    - `state0`: a full initial state instead of `cue` (pass exactly one of the two).
    - `config`: a `nam.SolverConfig` (default: Tsit5, PID steps, stop at a steady state, t1 = 200).
      `SolverConfig(steady_state=False)` (e.g. `SolverConfig.fixed_euler(0.05, 1000)`) asks for a fixed
      horizon: a run that reaches t1 is then COMPLETED.
    - `settle_blocks`: first relax the non-neuron blocks with the neurons clamped (`nam.settle`), e.g. to
      start the leaky `NeuronAstrocyte` at its clamped fixed point rather than the leak-free one of
      `init_state`.
    - `energy_ts`: (T,) times at which to record the energy (cheap: `diffrax.SaveAt(fn=...)`).
    - `save_ts`: (T,) times at which to record the full state (`diffrax.SaveAt(ts=...)`): the trajectory.
      With `adjoint="implicit"` the trajectory carries no gradient (only the steady state does).
    - `throw`: raise at run time (through `equinox.error_if`, with the status' message) when the result
      is not ok (`Retrieval.ok()`), like diffrax's `diffeqsolve(..., throw=True)`. Default False: the
      status is returned and nothing raises, so one bad sample never stops a batch.

    **Returns:** a `nam.Retrieval` (final state, +-1 read-out, energy, time, steps, status, and the saved
    energies and states when asked for).

    **Raises:** `TypeError`/`ValueError` for a wrong model, cue, state or option (at trace time); with
    `throw=True`, `equinox.EquinoxRuntimeError` when the status is not ok.
    """
    _check_model(model)
    config = _check_config(config)
    if (cue is None) == (state0 is None):
        raise ValueError("pass exactly one of `cue` (an (N,) array) and `state0` (a full model state)")
    energy_ts = _check_options(settle_blocks, energy_ts, config, throw)
    save_ts = _check_times("save_ts", save_ts, config)
    if cue is not None:
        cue = check_vector("cue", cue, model.n)  # values checked here when concrete, before jit
    else:
        for leaf in jax.tree.leaves(_check_state(model, state0, "state0")):
            check_finite("state0", leaf)
    state = jax.eval_shape(model.init_state, jnp.zeros((model.n,)))
    saved = 0 if save_ts is None else save_ts.shape[0]
    check_memory(
        "the model size",
        (12.0 + saved) * sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(state)),
        "one retrieval (about 12 copies of the state, and one per entry of `save_ts`)",
    )
    return _retrieve(model, cue, state0, config, settle_blocks, energy_ts, save_ts, throw)


@eqx.filter_jit
def _retrieve(model, cue, state0, config, settle_blocks, energy_ts, save_ts=None, throw=False):
    if cue is not None:
        state0 = model.init_state(cue)
    else:
        state0 = _check_state(model, state0, "state0")
    settle_status = jnp.asarray(Status.CONVERGED, jnp.int32)
    if settle_blocks:
        state0, settle_status = _settle(model, state0, config)
    if energy_ts is not None:
        energy_ts = as_float_array("energy_ts", energy_ts, ndim=1)
    if save_ts is not None:
        save_ts = as_float_array("save_ts", save_ts, ndim=1)
    if config.adjoint == "implicit":
        frozen = jax.tree.map(lambda x: jax.lax.stop_gradient(x) if eqx.is_array(x) else x, model)
        y1, t_final, num_steps, status, energies, states = _solve(
            frozen.vector_field,
            frozen.time_constants(),
            frozen.energy,
            jax.lax.stop_gradient(state0),
            config,
            energy_ts,
            save_ts,
        )
        y1 = _implicit_steady_state(model, y1, config)
    else:
        y1, t_final, num_steps, status, energies, states = _solve(
            model.vector_field, model.time_constants(), model.energy, state0, config, energy_ts, save_ts
        )
    meaningless = (status == Status.NON_FINITE) | (status == Status.DIVERGED)
    pattern = jnp.where(meaningless, 0.0, model.readout(y1))
    out = Retrieval(
        state=y1,
        pattern=pattern,
        energy=model.energy(y1),
        t_final=t_final,
        num_steps=num_steps,
        status=status,
        settle_status=settle_status,
        energy_ts=energy_ts,
        energies=energies,
        save_ts=save_ts,
        states=states,
    )
    if throw:
        main_ok = status_ok(status)
        # the code to name: the main solve's, or the clamped relaxation's when only that one failed
        code = jnp.where(main_ok, settle_status, status)
        out = raise_if_not_ok(code, out.ok(), out)
    return out


def retrieve_batch(
    model,
    cues,
    *,
    config: SolverConfig | None = None,
    settle_blocks: bool = False,
    energy_ts=None,
    save_ts=None,
    chunk_size: int | None = None,
    throw: bool = False,
) -> Retrieval:
    """`retrieve` over a batch of cues (B, N): every Retrieval field gains a leading B axis.

    Cues are vmapped in chunks of `chunk_size` and the chunks run one after another (`lax.map`), so a
    large batch of large states (the full model carries 2 N^2 numbers per cue) stays in cache and in
    memory.

    **Arguments:**

    - `model`: a continuous `nam.AbstractEnergyModel`.
    - `cues`: (B, N) initial neuron states, finite, B >= 1.
    - `config`, `settle_blocks`, `energy_ts`, `save_ts`, `throw`: as for `nam.retrieve` (with `throw=True`
      the message is that of the largest failing status code of the batch).
    - `chunk_size`: cues per vmapped chunk. Default: as many as fit in about 4 MiB of state (all of them
      for small N).

    **Returns:** a `nam.Retrieval` whose every field has a leading axis of length B.

    **Raises:** `TypeError`/`ValueError` for wrong arguments (`ValueError` too when one chunk would not fit
    in the memory available); with `throw=True`, `equinox.EquinoxRuntimeError` as for `nam.retrieve`.
    """
    _check_model(model)
    config = _check_config(config)
    cues = as_float_array("cues", cues, ndim=2)
    if cues.shape[1] != model.n or cues.shape[0] < 1:
        raise ValueError(f"`cues` must have shape (B, {model.n}) with B >= 1, got {cues.shape}")
    check_finite("cues", cues)
    energy_ts = _check_options(settle_blocks, energy_ts, config, throw)
    save_ts = _check_times("save_ts", save_ts, config)
    if chunk_size is None:
        state = jax.eval_shape(model.init_state, cues[0])
        nbytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(state))
        chunk_size = max(1, (4 << 20) // nbytes)
    else:
        chunk_size = check_int("chunk_size", chunk_size)
    # one chunk of states in about 12 solver copies (stages, error estimate, saved t1 state)
    state = jax.eval_shape(model.init_state, cues[0])
    nbytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(state))
    nbytes *= 12.0 + (0 if save_ts is None else save_ts.shape[0])
    check_memory(
        "`cues`, `chunk_size`",
        nbytes * min(chunk_size, cues.shape[0]),
        f"retrieving {min(chunk_size, cues.shape[0])} cues at once",
    )
    return _retrieve_batch(
        model, cues, config, settle_blocks, energy_ts, save_ts, min(chunk_size, cues.shape[0]), throw
    )


@eqx.filter_jit
def _retrieve_batch(model, cues, config, settle_blocks, energy_ts, save_ts, chunk_size, throw=False):
    one = lambda c: _retrieve(model, c, None, config, settle_blocks, energy_ts, save_ts, throw)
    if chunk_size >= cues.shape[0]:
        return jax.vmap(one)(cues)
    return jax.lax.map(one, cues, batch_size=chunk_size)
