"""The experiments of Gordleeva et al. (2021, sec. 3) and their figures (`nam gordleeva`).

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

from .._plotting import save_figure
from ..dynamics._status import status_ok
from ._network import GordleevaNetwork
from ._protocol import Protocol, example_run, load_digit, run_trials

EXPERIMENTS = ("noise", "two", "lifetime")
NOISE_LEVELS = tuple(round(0.1 * i, 1) for i in range(10))
DELAYS_MS = (0.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0)


def without_astrocytes(network: GordleevaNetwork) -> GordleevaNetwork:
    """The same network with the astrocyte -> neuron feedback switched off (I_astro = 0)."""
    return eqx.tree_at(lambda n: n.i_astro, network, 0.0 * network.i_astro)


def _summary(res):
    """Means over the trials that completed (status COMPLETED): a trial whose state stopped being finite is
    counted in `runs`, not in the accuracies (NaN where no trial of a level completed)."""
    ok = np.asarray(status_ok(np.asarray(res["status"])))  # (L, trials)
    acc = np.asarray(res["accuracy"])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.array([np.mean(a[o], axis=0) if o.any() else np.full(acc.shape[2], np.nan) for a, o in zip(acc, ok)])
        se = np.array([np.std(a[o], axis=0, ddof=1) / np.sqrt(o.sum()) if o.sum() > 1 else np.zeros(acc.shape[2])
                       for a, o in zip(acc, ok)])
        inputs = np.array([np.mean(x[o]) if o.any() else np.nan for x, o in zip(res["input_accuracy"], ok)])
    return {"mean": mean.tolist(), "se": se.tolist(), "input_mean": inputs.tolist(),
            "completed": int(ok.sum()), "runs": int(ok.size)}


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
    ablated = run_trials(without_astrocytes(network), pattern, levels, trials=trials, protocol=protocol, seed=seed,
                         progress=progress)
    return {"noise": list(levels), "readout_ms": list(with_astro["readout_ms"]), "astrocytes": _summary(with_astro),
            "no_astrocytes": _summary(ablated)}


def two_patterns(network=None, *, trials=20, levels=NOISE_LEVELS, protocol=None, seed=0, progress=None):
    """Experiment 2: digits 0 and 1 trained in turn, each tested. `progress`: an optional tqdm-like bar."""
    network = GordleevaNetwork() if network is None else network
    pats = np.stack([load_digit(0, network.side), load_digit(1, network.side)])
    out = {"noise": list(levels)}
    for index, name in enumerate(("zero", "one")):
        _describe(progress, f"exp. 2: digits 0 and 1, test digit {index}")
        res = run_trials(network, pats, levels, trials=trials, test_index=index, protocol=protocol, seed=seed + index,
                         progress=progress)
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
    return {"delay_ms": list(delays_ms), "test_noise": test_noise, "readout_ms": list(protocol.readout_ms),
            "mean": [r["mean"][0] for r in rows], "se": [r["se"][0] for r in rows],
            "input_mean": [r["input_mean"][0] for r in rows],
            "completed": sum(r["completed"] for r in rows), "runs": sum(r["runs"] for r in rows)}


def format_results(results) -> str:
    """The measured accuracies as text tables."""
    lines = []
    if "noise_curve" in results:
        r = results["noise_curve"]
        ro = r["readout_ms"]
        lines += ["experiments 1 and 3, digit 0: balanced accuracy vs test noise (mean over trials)",
                  f"{'noise':>6} {'input':>7} " + " ".join(f"{'astro ' + format(t, 'g') + 'ms':>12}" for t in ro)
                  + " " + " ".join(f"{'no-astro ' + format(t, 'g'):>12}" for t in ro)]
        for i, lvl in enumerate(r["noise"]):
            lines.append(f"{lvl:>6.1f} {r['astrocytes']['input_mean'][i]:>7.3f} "
                         + " ".join(f"{x:>12.3f}" for x in r["astrocytes"]["mean"][i]) + " "
                         + " ".join(f"{x:>12.3f}" for x in r["no_astrocytes"]["mean"][i]))
        lines.append("")
    if "two_patterns" in results:
        r = results["two_patterns"]
        last = len(r["readout_ms"]) - 1
        lines += [f"experiment 2, digits 0 and 1 trained in turn: accuracy at {r['readout_ms'][last]:g} ms",
                  f"{'noise':>6} {'zero':>7} {'one':>7}"]
        for i, lvl in enumerate(r["noise"]):
            lines.append(f"{lvl:>6.1f} {r['zero']['mean'][i][last]:>7.3f} {r['one']['mean'][i][last]:>7.3f}")
        lines.append("")
    if "lifetime" in results:
        r = results["lifetime"]
        last = len(r["readout_ms"]) - 1
        lines += [f"experiment 4, memory lifetime at test noise {r['test_noise']}: accuracy at "
                  f"{r['readout_ms'][last]:g} ms (input alone: {np.mean(r['input_mean']):.3f})",
                  f"{'delay ms':>9} {'accuracy':>9}"]
        for d, m in zip(r["delay_ms"], r["mean"]):
            lines.append(f"{d:>9.0f} {m[last]:>9.3f}")
    return "\n".join(lines)


def write_figures(results, example, out_dir) -> list:
    """example.png (the paper's Fig. 5: noisy input, responses, V map, Ca map), traces.png (Fig. 4:
    V inside and outside the pattern, astrocyte calcium against the network's calcium threshold), and one
    accuracy figure per experiment. `example`: as `example_run` returns it (with "readout_ms"), or None."""
    import os

    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    if example is not None:
        run, stim = example["run"], example["stimulus"]
        ro = example.get("readout_ms", (4.4, 11.6))
        fig = Figure(figsize=(11, 6.5))
        axes = fig.subplots(2, 3)
        panels = [(np.asarray(stim.images[-1]), "noisy test input", "gray_r"),
                  (np.asarray(run.readout_counts[0] > 0), f"response, first {ro[0]:g} ms", "gray_r"),
                  (np.asarray(run.readout_counts[1] > 0), f"response, first {ro[1]:g} ms", "gray_r"),
                  (example["target"], "stored pattern", "gray_r"),
                  (np.asarray(run.snapshot_v[1]), f"V (mV) at {ro[1]:g} ms", "viridis"),
                  (np.asarray(run.snapshot_ca[0]), f"Ca (uM) at {ro[0]:g} ms", "magma")]
        for ax, (img, title, cmap) in zip(axes.ravel(), panels):
            im = ax.imshow(img, cmap=cmap)
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            if cmap != "gray_r":
                fig.colorbar(im, ax=ax, fraction=0.046)
        fig.suptitle("test of the stored digit (times after test onset)")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, "example.png"))
        fig.savefig(paths[-1], dpi=100)

        t = np.asarray(run.times_ms) / 1000.0
        fig = Figure(figsize=(9, 7))
        axes = fig.subplots(3, 1, sharex=True)
        axes[0].plot(t, np.asarray(run.trace_v[:, 0]), lw=0.6)
        axes[0].set_ylabel("V (mV), in pattern")
        axes[1].plot(t, np.asarray(run.trace_v[:, 1]), lw=0.6, color="C1")
        axes[1].set_ylabel("V (mV), outside")
        ca = np.asarray(run.trace_ca).reshape(len(t), -1)
        hot = int(np.argmax(ca.max(axis=0)))
        cold = int(np.argmin(ca.max(axis=0)))
        axes[2].plot(t, ca[:, hot], label="most active astrocyte")
        axes[2].plot(t, ca[:, cold], label="quietest astrocyte")
        threshold = example["ca_threshold_uM"]
        axes[2].axhline(threshold, color="k", lw=0.5, ls="--", label=f"{threshold:g} uM (astrocyte threshold)")
        axes[2].axvline(example["test_onset_ms"] / 1000.0, color="r", lw=0.5, label="test onset")
        axes[2].set_ylabel("Ca (uM)")
        axes[2].set_xlabel("time (s)")
        axes[2].legend(fontsize=7)
        fig.suptitle("membrane potentials (sampled every record step) and astrocyte calcium")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, "traces.png"))
        fig.savefig(paths[-1], dpi=100)

    if "noise_curve" in results:
        r = results["noise_curve"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        x = np.asarray(r["noise"])
        last = len(r["readout_ms"]) - 1
        # Several curves coincide (the early read-out and the ablated network reproduce the input; the
        # later read-outs agree), so each gets its own marker and line style and a small x offset.
        curves = [(np.asarray(r["astrocytes"]["mean"])[:, j], np.asarray(r["astrocytes"]["se"])[:, j],
                   f"neuron-astrocyte network, read at {tr:g} ms") for j, tr in enumerate(r["readout_ms"])]
        curves.append((np.asarray(r["no_astrocytes"]["mean"])[:, last], np.asarray(r["no_astrocytes"]["se"])[:, last],
                       f"neurons only (I_astro = 0), read at {r['readout_ms'][last]:g} ms"))
        # (marker, line style, colour, marker size, filled): small filled and large hollow markers alternate
        styles = [("o", "-", "C0", 4, True), ("^", "--", "C1", 9, False), ("s", "-.", "C2", 4, True),
                  ("D", (0, (3, 1, 1, 1, 1, 1)), "k", 8, False), ("v", "-", "C4", 4, True)]
        step = 0.5 * (x[1] - x[0]) / max(len(curves), 1) if x.size > 1 else 0.0
        ax.plot(x, r["astrocytes"]["input_mean"], "-", color="0.75", lw=5, zorder=1, label="noisy test input itself")
        for j, (mean, se, label) in enumerate(curves):
            marker, ls, color, size, filled = styles[j % len(styles)]
            ax.errorbar(x + (j - (len(curves) - 1) / 2) * step, mean, se, marker=marker, ms=size, capsize=2, ls=ls,
                        lw=1.2, color=color, mfc=color if filled else "none", mew=1.2, label=label,
                        zorder=10 - j if filled else 2 + j)
        ax.text(0.99, 0.01, f"curves offset by up to \u00b1{step * (len(curves) - 1) / 2:.2g} in x to stay visible",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=6, color="0.4")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "accuracy_vs_noise.png"),
                                 xlabel="test noise (fraction of pixels flipped)",
                                 ylabel="balanced accuracy (TPR + TNR) / 2",
                                 title="Gordleeva et al. network, one stored digit (Fig. 6)"))
    if "two_patterns" in results:
        r = results["two_patterns"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        for (name, digit), color, marker in zip((("zero", 0), ("one", 1)), ("C0", "C3"), ("o", "s")):
            # one colour per digit: the network's response (solid) and the noisy input itself (dotted)
            ax.errorbar(r["noise"], np.asarray(r[name]["mean"])[:, last], np.asarray(r[name]["se"])[:, last],
                        marker=marker, ms=4, capsize=2, color=color,
                        label=f"digit {digit}: neuron-astrocyte network")
            ax.plot(r["noise"], r[name]["input_mean"], ":", lw=1.5, color=color,
                    label=f"digit {digit}: noisy test input itself")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "two_patterns.png"),
                                 xlabel="test noise (fraction of pixels flipped)",
                                 ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                                 title="Gordleeva et al. network, two stored digits (Fig. 7)"))
    if "lifetime" in results:
        r = results["lifetime"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        ax.errorbar(np.asarray(r["delay_ms"]) / 1000.0, np.asarray(r["mean"])[:, last], np.asarray(r["se"])[:, last],
                    marker="o", capsize=2, label="neuron-astrocyte network")
        ax.plot(np.asarray(r["delay_ms"]) / 1000.0, r["input_mean"], ":", color="gray",
                label="noisy test input itself")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "lifetime.png"),
                                 xlabel="delay from end of training to test (s)",
                                 ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                                 title=f"Gordleeva et al. network, memory lifetime at test noise {r['test_noise']}"))
    return paths


def run_experiments(network=None, *, which=("noise", "two", "lifetime"), trials=20, protocol=None, seed=0,
                    example=True, progress=False, done=None, on_result=None):
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
    with tqdm(total=count_trials(todo, trials) if todo else 0, unit="trial", disable=not progress,
              leave=True) as bar:
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
