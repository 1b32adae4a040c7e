"""Several processes on one sweep: `jax.distributed`, set up for the sweep engine.

`nam/sweep/_engine.py` does the rest: every process draws a row's inputs, places its own slice of
the trial batch on its devices (`jax.make_array_from_process_local_data`), computes it, and gathers
the whole batch's results, so every process takes the same adaptive path; process 0 alone writes.
"""

import jax

from .._checks import ArgumentTypeError, check_int


def initialize_distributed(
    coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None
) -> tuple[int, int]:
    """Join this process to a multi-process sweep, before any other jax call. Returns (process index,
    process count).

    With no arguments, `jax.distributed.initialize()` reads the cluster's environment (SLURM, Open MPI,
    Kubernetes...). On one machine, or a cluster jax does not detect, pass all three: the coordinator's
    `host:port` (process 0 listens there), the number of processes and this one's id (0-based). On CPU
    the processes' collectives go through gloo (`jax_cpu_collectives_implementation`).

    **Arguments:** `coordinator`: "host:port" of process 0, or None; `num_processes`: the number of
    processes, or None; `process_id`: this process' 0-based id, or None (all three or none).

    **Returns:** (process index, process count).

    **Raises:** `ValueError` when only some of the three are given or they are out of range.
    """
    given = [x is not None for x in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            "`coordinator`, `num_processes` and `process_id` go together: give all three or none "
            "(none: read the cluster's environment)"
        )
    if all(given):
        if not isinstance(coordinator, str):
            raise ArgumentTypeError(f"`coordinator` must be 'host:port' (a string), got {type(coordinator).__name__}")
        if ":" not in coordinator:
            raise ValueError(f"`coordinator` must be 'host:port', got {coordinator!r}")
        num_processes = check_int("num_processes", num_processes)
        process_id = check_int("process_id", process_id, 0, num_processes - 1)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    return jax.process_index(), jax.process_count()
