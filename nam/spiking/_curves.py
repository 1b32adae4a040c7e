"""The experiments of Gordleeva et al. (2021, sec. 3) as computations (tables and figures: `nam gordleeva`,
`nam.experiments.gordleeva`).

1. `noise_curve`: one pattern (digit 0); accuracy against test noise 0..0.9 (the paper's Fig. 6),
   with the astrocyte feedback and without it (ablation, I_astro = 0), beside the accuracy of the
   noisy input itself.
2. `two_patterns`: digits 0 and 1 trained one after the other; each tested (the paper's Fig. 7).
3. the ablation is part of 1.
4. `lifetime`: accuracy against the delay between the end of training and the test, which the
   astrocytes' calcium (above `GordleevaNetwork.ca_threshold`, 0.15 uM by default, for about 4 s) sets.
"""

import equinox as eqx
import numpy as np

from ..dynamics._status import status_ok
from ._network import GordleevaNetwork
from ._protocol import Protocol, example_run, load_digit, run_trials

EXPERIMENTS = ("noise", "two", "lifetime")
NOISE_LEVELS = tuple(round(0.1 * i, 1) for i in range(10))
DELAYS_MS = (0.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0)


def without_astrocytes(network: GordleevaNetwork) -> GordleevaNetwork:
    """The same network with the astrocyte -> neuron feedback switched off (I_astro = 0)."""
    from .._checks import check_instance

    check_instance("network", network, GordleevaNetwork, "a nam.spiking.GordleevaNetwork")
    return eqx.tree_at(lambda n: n.i_astro, network, 0.0 * network.i_astro)


def _summary(res):
    """Means over the trials that completed (status COMPLETED): a trial whose state stopped being finite is
    counted in `runs`, not in the accuracies (NaN where no trial of a level completed)."""
    ok = np.asarray(status_ok(np.asarray(res["status"])))  # (L, trials)
    acc = np.asarray(res["accuracy"])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.array([np.mean(a[o], axis=0) if o.any() else np.full(acc.shape[2], np.nan) for a, o in zip(acc, ok)])
        se = np.array(
            [
                np.std(a[o], axis=0, ddof=1) / np.sqrt(o.sum()) if o.sum() > 1 else np.zeros(acc.shape[2])
                for a, o in zip(acc, ok)
            ]
        )
        inputs = np.array([np.mean(x[o]) if o.any() else np.nan for x, o in zip(res["input_accuracy"], ok)])
    return {
        "mean": mean.tolist(),
        "se": se.tolist(),
        "input_mean": inputs.tolist(),
        "completed": int(ok.sum()),
        "runs": int(ok.size),
    }


def _describe(progress, text):
    if progress is not None:
        progress.set_description(text)


def count_trials(which=("noise", "two", "lifetime"), trials=20) -> int:
    """How many simulated trials `run_experiments(which=which, trials=trials)` runs (without the example run)."""
    per = {"noise": 2 * len(NOISE_LEVELS), "two": 2 * len(NOISE_LEVELS), "lifetime": len(DELAYS_MS)}
    return trials * sum(per[w] for w in which)


def noise_curve(network=None, *, trials=20, levels=NOISE_LEVELS, protocol=None, seed=0, progress=None):
    """Experiments 1 and 3: accuracy vs test noise for digit 0, with and without astrocyte feedback.
    `progress`: an optional tqdm-like bar, advanced by the trials run."""
    network = GordleevaNetwork() if network is None else network
    pattern = load_digit(0, network.side)
    _describe(progress, "exp. 1: digit 0, with astrocytes")
    with_astro = run_trials(network, pattern, levels, trials=trials, protocol=protocol, seed=seed, progress=progress)
    _describe(progress, "exp. 3: digit 0, no astrocytes")
    ablated = run_trials(
        without_astrocytes(network), pattern, levels, trials=trials, protocol=protocol, seed=seed, progress=progress
    )
    return {
        "noise": list(levels),
        "readout_ms": list(with_astro["readout_ms"]),
        "astrocytes": _summary(with_astro),
        "no_astrocytes": _summary(ablated),
    }


def two_patterns(network=None, *, trials=20, levels=NOISE_LEVELS, protocol=None, seed=0, progress=None):
    """Experiment 2: digits 0 and 1 trained in turn, each tested. `progress`: an optional tqdm-like bar."""
    network = GordleevaNetwork() if network is None else network
    pats = np.stack([load_digit(0, network.side), load_digit(1, network.side)])
    out = {"noise": list(levels)}
    for index, name in enumerate(("zero", "one")):
        _describe(progress, f"exp. 2: digits 0 and 1, test digit {index}")
        res = run_trials(
            network,
            pats,
            levels,
            trials=trials,
            test_index=index,
            protocol=protocol,
            seed=seed + index,
            progress=progress,
        )
        out[name] = _summary(res)
        out["readout_ms"] = list(res["readout_ms"])
    return out


def lifetime(network=None, *, trials=20, delays_ms=DELAYS_MS, test_noise=0.4, protocol=None, seed=0, progress=None):
    """Experiment 4: accuracy vs the delay from the end of training to the test onset. `progress`: an
    optional tqdm-like bar."""
    network = GordleevaNetwork() if network is None else network
    protocol = Protocol() if protocol is None else protocol
    pattern = load_digit(0, network.side)
    rows = []
    for delay in delays_ms:
        p = Protocol(**{**protocol.__dict__, "delay_ms": float(delay)})
        _describe(progress, f"exp. 4: lifetime, delay {delay / 1000:g} s")
        res = run_trials(network, pattern, [test_noise], trials=trials, protocol=p, seed=seed, progress=progress)
        rows.append(_summary(res))
    return {
        "delay_ms": list(delays_ms),
        "test_noise": test_noise,
        "readout_ms": list(protocol.readout_ms),
        "mean": [r["mean"][0] for r in rows],
        "se": [r["se"][0] for r in rows],
        "input_mean": [r["input_mean"][0] for r in rows],
        "completed": sum(r["completed"] for r in rows),
        "runs": sum(r["runs"] for r in rows),
    }


def run_experiments(
    network=None,
    *,
    which=("noise", "two", "lifetime"),
    trials=20,
    protocol=None,
    seed=0,
    example=True,
    progress=False,
    done=None,
    on_result=None,
):
    """Run the chosen experiments; returns (results dict, example run or None). `progress=True` shows a
    tqdm bar over all simulated trials (`count_trials`), named by the experiment running.

    Resuming: `done` holds results of experiments already finished (keys "noise_curve", "two_patterns",
    "lifetime", as returned here, made with the same settings); they are not run again. `on_result(results)`
    is called after each experiment finishes, with everything finished so far (e.g. to save it, so an
    interrupted run keeps what is complete)."""
    from tqdm import tqdm

    from .._checks import check_bool, check_callable, check_choices, check_instance, check_int

    network = check_instance("network", GordleevaNetwork() if network is None else network, GordleevaNetwork)
    protocol = check_instance("protocol", Protocol() if protocol is None else protocol, Protocol)
    which = check_choices("which", which, EXPERIMENTS)
    trials, seed = check_int("trials", trials), check_int("seed", seed, 0)
    check_bool("example", example)
    if on_result is not None:
        check_callable("on_result", on_result)
    keys = {"noise": "noise_curve", "two": "two_patterns", "lifetime": "lifetime"}
    results = {keys[w]: (done or {})[keys[w]] for w in which if keys[w] in (done or {})}
    todo = [w for w in ("noise", "two", "lifetime") if w in which and keys[w] not in results]
    run = {"noise": noise_curve, "two": two_patterns, "lifetime": lifetime}
    with tqdm(total=count_trials(todo, trials) if todo else 0, unit="trial", disable=not progress, leave=True) as bar:
        for w in todo:
            results[keys[w]] = run[w](network, trials=trials, protocol=protocol, seed=seed, progress=bar)
            if on_result is not None:
                on_result(dict(results))
        ex = None
        if example:
            _describe(bar, "example run for the figures")
            ex = example_run(network, load_digit(0, network.side), protocol=protocol, seed=seed)
            ex["readout_ms"] = protocol.readout_ms
    return results, ex
