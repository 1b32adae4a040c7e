"""Per-sample outcome codes of a solve. Stored as int32 arrays so they survive jit and vmap."""

import enum


class Status(enum.IntEnum):
    """Outcome of one retrieval.

    CONVERGED: the steady-state criterion was met (continuous) or no bit changed in a sweep (binary).
    TIME_LIMIT: reached t1 without meeting the steady-state criterion (or no criterion was asked for).
    MAX_STEPS: the solver hit `max_steps` before t1.
    NON_FINITE: the final state has NaN or inf (divergence); its read-out is meaningless.
    SOLVER_FAILED: the solver stopped for another reason (e.g. step size collapsed).
    SWEEP_LIMIT: binary dynamics still changing bits after `max_sweeps`.
    CYCLE: synchronous binary dynamics entered a 2-cycle.
    COMPLETED: a fixed-duration simulation (the spiking networks) ran to its end with a finite state.
    """

    CONVERGED = 0
    TIME_LIMIT = 1
    MAX_STEPS = 2
    NON_FINITE = 3
    SOLVER_FAILED = 4
    SWEEP_LIMIT = 5
    CYCLE = 6
    COMPLETED = 7
