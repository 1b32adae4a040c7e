"""Per-sample outcome codes of a solve. Stored as int32 arrays so they survive jit and vmap."""

import enum

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool

from .._checks import ArgumentTypeError, check_bool


class Status(enum.IntEnum):
    """Outcome of one retrieval.

    Each member's `message` says what happened in a sentence (like diffrax's `RESULTS`);
    `nam.retrieve(..., throw=True)` raises it through `equinox.error_if`.

    CONVERGED: the steady-state criterion was met (continuous) or no bit changed in a sweep (binary).
    TIME_LIMIT: reached t1 without meeting the steady-state criterion the caller asked for
      (`SolverConfig(steady_state=True)`, the default).
    MAX_STEPS: the solver hit `max_steps` before t1.
    NON_FINITE: the final state has NaN or inf (divergence); its read-out is meaningless (all 0).
    SOLVER_FAILED: the solver stopped for another reason (e.g. step size collapsed).
    SWEEP_LIMIT: binary dynamics still changing bits after `max_sweeps`.
    CYCLE: synchronous binary dynamics entered a 2-cycle.
    COMPLETED: a fixed-horizon run ran to its end with a finite state: a continuous solve asked to stop
      at t1 (`SolverConfig(steady_state=False)`, e.g. `SolverConfig.fixed_euler(0.05, 1000)`, the
      authors' tutorial), or a fixed-duration simulation (the spiking networks).
    DIVERGED: the solver stopped early (step budget or failure) on a finite state that ran away: it grew
      by more than `SolverConfig.divergence_factor` over the initial state and was still moving outwards
      (a finite-time blow-up, which an adaptive solver chases with ever smaller steps). Its read-out is
      meaningless (all 0).
    """

    CONVERGED = 0
    TIME_LIMIT = 1
    MAX_STEPS = 2
    NON_FINITE = 3
    SOLVER_FAILED = 4
    SWEEP_LIMIT = 5
    CYCLE = 6
    COMPLETED = 7
    DIVERGED = 8

    # A member prints by name (`str(Status.CONVERGED) == "CONVERGED"`, also in f-strings) and still
    # compares equal to its code (`Status.CONVERGED == 0`); `Status.names` names arrays of codes.
    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Status.{self.name}"

    def __format__(self, spec: str) -> str:
        # numeric format specs ("d", "3d", "x", ...) format the code; anything else formats the name
        if spec and spec[-1] in "bcdoxXn":
            return format(int(self), spec)
        return format(self.name, spec)

    @property
    def message(self) -> str:
        """What the code means, in one sentence (the text `throw=True` raises)."""
        return _MESSAGES[self]

    @classmethod
    def names(cls, codes):
        """The name of each status code: `nam.Status.names(r.status)` gives `'CONVERGED'` for a
        single retrieval, and an array of names for a batched one.

        **Arguments:** `codes`: one code (an int, a `Status`, or a 0-d integer array such as
        `nam.Retrieval.status`), or an integer array of codes of any shape.

        **Returns:** a `str` for a single code; otherwise a numpy array of names with the shape of `codes`.

        **Raises:** `TypeError` if `codes` is not integer; `ValueError` if a code is not a `nam.Status` value.
        """
        import numpy as np

        arr = np.asarray(codes)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"`codes` must hold integer nam.Status codes, got dtype {arr.dtype}")
        known = {int(s): s.name for s in cls}
        unknown = sorted({int(c) for c in np.unique(arr)} - set(known))
        if unknown:
            raise ValueError(f"`codes` holds values that are not nam.Status codes: {unknown}")
        if arr.ndim == 0:
            return known[int(arr)]
        return np.array([known[int(c)] for c in arr.ravel()], dtype=str).reshape(arr.shape)


_MESSAGES = {
    Status.CONVERGED: "the steady-state criterion was met (continuous) or no bit changed in a sweep (binary)",
    Status.TIME_LIMIT: "the solve reached t1 without meeting the steady-state criterion; raise `t1` or "
    "`max_steps`, loosen `steady_rtol`/`steady_atol`, or ask for a fixed horizon with "
    "`steady_state=False`",
    Status.MAX_STEPS: "the solver took `max_steps` steps before reaching t1 or a steady state; raise "
    "`SolverConfig(max_steps=...)`",
    Status.NON_FINITE: "the final state holds NaN or inf: the dynamics diverged; its read-out is meaningless",
    Status.SOLVER_FAILED: "the solver stopped for another reason (e.g. its step size collapsed)",
    Status.SWEEP_LIMIT: "the binary dynamics still changed bits after `max_sweeps` sweeps",
    Status.CYCLE: "the synchronous binary dynamics entered a 2-cycle",
    Status.COMPLETED: "the fixed-horizon run reached its end with a finite state",
    Status.DIVERGED: "the solve stopped early on a finite state that ran away (a finite-time blow-up); "
    "its read-out is meaningless",
}


def status_ok(status: ArrayLike, *, time_limit_ok: bool = False) -> Bool[Array, "..."]:
    """Whether each status code marks a result that may be counted: CONVERGED (a steady state was reached)
    or COMPLETED (a fixed-horizon run finished: `SolverConfig(steady_state=False)`, e.g.
    `SolverConfig.fixed_euler`, or a spiking simulation); also TIME_LIMIT when `time_limit_ok` (a caller
    who asked for a steady state but will count runs that reached t1 without one).

    Every other code (MAX_STEPS, NON_FINITE, SOLVER_FAILED, SWEEP_LIMIT, CYCLE, DIVERGED) is a sample that
    did not finish cleanly: count it apart, never as retrieved or not retrieved. Elementwise, jit- and
    vmap-able; works on `nam.Retrieval.status`, `nam.BinaryRetrieval.status` and `SpikingRun.status`.

    **Arguments:**

    - `status`: an integer array of `nam.Status` codes (any shape).
    - `time_limit_ok`: a Python bool; also accept TIME_LIMIT.

    **Returns:** a boolean array of the shape of `status`.

    **Raises:** `TypeError` if `status` is not integer or `time_limit_ok` is not a bool.
    """
    check_bool("time_limit_ok", time_limit_ok)
    try:
        status = status if isinstance(status, jax.Array) else jnp.asarray(status)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"`status` must hold integer nam.Status codes, got {type(status).__name__}") from e
    if status.dtype == jnp.bool_ or not jnp.issubdtype(status.dtype, jnp.integer):
        raise ArgumentTypeError(f"`status` must hold integer nam.Status codes, got dtype {status.dtype}")
    ok = (status == Status.CONVERGED) | (status == Status.COMPLETED)
    if time_limit_ok:
        ok = ok | (status == Status.TIME_LIMIT)
    return ok


def raise_if_not_ok(status: ArrayLike, ok: ArrayLike, x):
    """Return `x`, raising at run time (through `equinox.branched_error_if`) with the message of `status`
    where `ok` is False. Under vmap the message is that of the largest failing code of the batch.
    (Used by `nam.retrieve(..., throw=True)`; like diffrax's `RESULTS.error_if`.)

    **Arguments:** `status`: integer `nam.Status` codes; `ok`: booleans of the same shape; `x`: the pytree
    to pass through (the error is attached to it, so it must be used downstream).

    **Returns:** `x`.
    """
    messages = tuple(f"nam.Status.{s.name}: {s.message}" for s in Status)
    ok = jnp.asarray(ok)
    index = jnp.where(ok, Status.CONVERGED, jnp.asarray(status))  # a sample that is ok never names the error
    return eqx.branched_error_if(x, ~ok, index, messages)
