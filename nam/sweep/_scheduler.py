"""Who measures which (model, N) search: worker threads in one process, shards of a job array.

Every (model, N) search is sequential and independent of the others (its first load and its programs'
capacities come from the spec alone), so searches can run in any order, on any thread or in any shard,
and the tables are the same. `run_searches` runs them on worker threads, costliest first (by
`nam.plan_sweep`'s estimate); `shard_pairs` splits them between the tasks of a job array.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import jax
from tqdm import tqdm

from .._checks import check_instance, check_int
from ._plan import plan_sweep
from ._spec import SweepSpec


def default_workers() -> int:
    """Worker threads for a sweep's independent (model, N) searches: the CPU count on a CPU backend
    (XLA runs each small program on the calling thread, so one search per core uses the machine), 1 on
    an accelerator or with several processes (whose collectives must run in the same order)."""
    if jax.process_count() > 1 or jax.default_backend() != "cpu":
        return 1
    return max(1, os.cpu_count() or 1)


def shard_pairs(spec: SweepSpec, index: int, count: int) -> list[tuple[str, int]]:
    """The (model, N) searches of shard `index` of `count` (1-based): the searches, largest estimated
    cost first, each given to the shard with the least estimated cost so far (ties: the lower index),
    then listed in the spec's order. Costs are `nam.plan_sweep`'s estimated seconds; every shard
    computes the same split from the spec alone.

    **Arguments:** `spec`: a `nam.SweepSpec`; `index`: the shard, 1 <= index <= count; `count`: the
    number of shards M.

    **Returns:** a list of (model name, N) pairs.

    **Raises:** `TypeError`/`ValueError` for a bad `index` or `count`.
    """
    check_instance("spec", spec, SweepSpec)
    count = check_int("count", count)
    index = check_int("index", index, 1, count)
    plan = plan_sweep(spec)
    order = sorted(range(len(plan)), key=lambda i: (-plan[i]["seconds"], i))
    load = [0.0] * count
    owner = {}
    for i in order:
        j = min(range(count), key=lambda j: (load[j], j))
        owner[i] = j
        load[j] += plan[i]["seconds"]
    return [(plan[i]["model"], plan[i]["n"]) for i in range(len(plan)) if owner[i] == index - 1]


def run_searches(spec: SweepSpec, pairs: list, search, *, workers: int, progress: bool, stop: threading.Event) -> dict:
    """`search(pair)` for every (model, N) pair: in order on this thread (`workers` 1), else on `workers`
    threads, costliest first by `plan_sweep`'s estimate. Returns pair -> result. When a search raises, `stop`
    is set (the others stop at their next new row) and the error propagates."""
    results: dict = {}
    bar = tqdm(total=len(pairs), desc="sweep", disable=not progress, unit="N")
    try:
        if workers <= 1:
            for pair in pairs:
                bar.set_description(f"sweep {pair[0]} N={pair[1]}")
                results[pair] = search(pair)
                bar.update()
            return results
        cost = {(r["model"], r["n"]): r["seconds"] for r in plan_sweep(spec)}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nam-sweep") as pool:
            futures = {pool.submit(search, p): p for p in sorted(pairs, key=lambda p: -cost[p])}
            try:
                for future in as_completed(futures):
                    pair = futures[future]
                    results[pair] = future.result()
                    bar.set_description(f"sweep {pair[0]} N={pair[1]} done")
                    bar.update()
            except BaseException:
                stop.set()  # the other searches stop at their next new row
                for f in futures:
                    f.cancel()
                raise
    finally:
        bar.close()
    return results
