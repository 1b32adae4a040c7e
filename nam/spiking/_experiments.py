"""The experiments of Gordleeva et al. (2021, sec. 3) and their figures (`nam gordleeva`).

1. `noise_curve`: one pattern (digit 0); accuracy against test noise 0..0.9 (the paper's Fig. 6),
   with the astrocyte feedback and without it (ablation, I_astro = 0), beside the accuracy of the
   noisy input itself.
2. `two_patterns`: digits 0 and 1 trained one after the other; each tested (the paper's Fig. 7).
3. the ablation is part of 1.
4. `lifetime`: accuracy against the delay between the end of training and the test, which the
   astrocytes' calcium (above 0.15 uM for about 4 s) sets.
"""

import equinox as eqx
import numpy as np

from .._plotting import save_figure
from ._network import GordleevaNetwork
from ._protocol import Protocol, example_run, load_digit, run_trials

NOISE_LEVELS = tuple(round(0.1 * i, 1) for i in range(10))
DELAYS_MS = (0.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0)


def without_astrocytes(network: GordleevaNetwork) -> GordleevaNetwork:
    """The same network with the astrocyte -> neuron feedback switched off (I_astro = 0)."""
    return eqx.tree_at(lambda n: n.i_astro, network, 0.0 * network.i_astro)


def _summary(res):
    acc = res["accuracy"]
    return {"mean": acc.mean(axis=1).tolist(), "se": (acc.std(axis=1, ddof=1) / np.sqrt(acc.shape[1])).tolist()
            if acc.shape[1] > 1 else np.zeros(acc.shape[::2]).tolist(),
            "input_mean": res["input_accuracy"].mean(axis=1).tolist(),
            "completed": int(np.sum(res["status"] == 7)), "runs": int(res["status"].size)}


def noise_curve(network=None, *, trials=20, levels=NOISE_LEVELS, protocol=None, seed=0):
    """Experiments 1 and 3: accuracy vs test noise for digit 0, with and without astrocyte feedback."""
    network = GordleevaNetwork() if network is None else network
    pattern = load_digit(0, network.side)
    with_astro = run_trials(network, pattern, levels, trials=trials, protocol=protocol, seed=seed)
    ablated = run_trials(without_astrocytes(network), pattern, levels, trials=trials, protocol=protocol, seed=seed)
    return {"noise": list(levels), "readout_ms": list(with_astro["readout_ms"]), "astrocytes": _summary(with_astro),
            "no_astrocytes": _summary(ablated)}


def two_patterns(network=None, *, trials=20, levels=NOISE_LEVELS, protocol=None, seed=0):
    """Experiment 2: digits 0 and 1 trained in turn, each tested."""
    network = GordleevaNetwork() if network is None else network
    pats = np.stack([load_digit(0, network.side), load_digit(1, network.side)])
    out = {"noise": list(levels)}
    for index, name in enumerate(("zero", "one")):
        res = run_trials(network, pats, levels, trials=trials, test_index=index, protocol=protocol, seed=seed + index)
        out[name] = _summary(res)
        out["readout_ms"] = list(res["readout_ms"])
    return out


def lifetime(network=None, *, trials=20, delays_ms=DELAYS_MS, test_noise=0.4, protocol=None, seed=0):
    """Experiment 4: accuracy vs the delay from the end of training to the test onset."""
    network = GordleevaNetwork() if network is None else network
    protocol = Protocol() if protocol is None else protocol
    pattern = load_digit(0, network.side)
    rows = []
    for delay in delays_ms:
        p = Protocol(**{**protocol.__dict__, "delay_ms": float(delay)})
        res = run_trials(network, pattern, [test_noise], trials=trials, protocol=p, seed=seed)
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
    V inside and outside the pattern, astrocyte calcium), and one accuracy figure per experiment."""
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
        axes[2].axhline(0.15, color="k", lw=0.5, ls="--", label="0.15 uM")
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
        for j, tr in enumerate(r["readout_ms"]):
            ax.errorbar(x, np.asarray(r["astrocytes"]["mean"])[:, j], np.asarray(r["astrocytes"]["se"])[:, j],
                        marker="o", ms=3, capsize=2, label=f"astrocytes, {tr:g} ms")
        last = len(r["readout_ms"]) - 1
        ax.errorbar(x, np.asarray(r["no_astrocytes"]["mean"])[:, last], np.asarray(r["no_astrocytes"]["se"])[:, last],
                    marker="s", ms=3, capsize=2, ls="--", color="k", label="no astrocyte feedback")
        ax.plot(x, r["astrocytes"]["input_mean"], ":", color="gray", label="noisy input itself")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "accuracy_vs_noise.png"),
                                 xlabel="test noise (fraction of pixels)", ylabel="balanced accuracy",
                                 title="one stored digit (Fig. 6)"))
    if "two_patterns" in results:
        r = results["two_patterns"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        for name in ("zero", "one"):
            ax.errorbar(r["noise"], np.asarray(r[name]["mean"])[:, last], np.asarray(r[name]["se"])[:, last],
                        marker="o", ms=3, capsize=2, label=f"test digit {name}")
            ax.plot(r["noise"], r[name]["input_mean"], ":", lw=1, label=f"input {name}")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "two_patterns.png"),
                                 xlabel="test noise (fraction of pixels)",
                                 ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                                 title="two stored digits (Fig. 7)"))
    if "lifetime" in results:
        r = results["lifetime"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        ax.errorbar(np.asarray(r["delay_ms"]) / 1000.0, np.asarray(r["mean"])[:, last], np.asarray(r["se"])[:, last],
                    marker="o", capsize=2, label="astrocytes")
        ax.plot(np.asarray(r["delay_ms"]) / 1000.0, r["input_mean"], ":", color="gray", label="noisy input itself")
        paths.append(save_figure(fig, ax, os.path.join(out_dir, "lifetime.png"),
                                 xlabel="delay from end of training to test (s)",
                                 ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                                 title=f"memory lifetime, test noise {r['test_noise']}"))
    return paths


def run_experiments(network=None, *, which=("noise", "two", "lifetime"), trials=20, protocol=None, seed=0,
                    example=True):
    """Run the chosen experiments; returns (results dict, example run or None)."""
    network = GordleevaNetwork() if network is None else network
    protocol = Protocol() if protocol is None else protocol
    results = {}
    if "noise" in which:
        results["noise_curve"] = noise_curve(network, trials=trials, protocol=protocol, seed=seed)
    if "two" in which:
        results["two_patterns"] = two_patterns(network, trials=trials, protocol=protocol, seed=seed)
    if "lifetime" in which:
        results["lifetime"] = lifetime(network, trials=trials, protocol=protocol, seed=seed)
    ex = None
    if example:
        ex = example_run(network, load_digit(0, network.side), protocol=protocol, seed=seed)
        ex["readout_ms"] = protocol.readout_ms
    return results, ex
