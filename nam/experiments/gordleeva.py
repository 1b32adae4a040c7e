"""The spiking neuron-astrocyte memory experiments of Gordleeva et al. (2021) (`nam gordleeva`): accuracy
against noise with and without astrocytes, two patterns, memory lifetime, and their figures.

The computations are `nam.spiking` (`run_experiments` and the curves); this module holds the experiment
(`Gordleeva`): its tables, its figures and the resume of the CLI.
"""

import dataclasses
import json
import os
from typing import ClassVar

import numpy as np

from .._checks import check_choices, check_instance, check_int, check_number
from .._io import null_to_nan, write_json
from .._plotting import save_figure
from ..spiking import _curves as ex
from ..spiking._network import GordleevaNetwork
from ..spiking._protocol import Protocol
from ._base import AbstractExperiment, option

_KEYS = ("noise_curve", "two_patterns", "lifetime")


def format_results(results) -> str:
    """The measured accuracies as text tables."""
    lines = []
    if "noise_curve" in results:
        r = results["noise_curve"]
        ro = r["readout_ms"]
        lines += [
            "experiments 1 and 3, digit 0: balanced accuracy vs test noise (mean over trials)",
            f"{'noise':>6} {'input':>7} "
            + " ".join(f"{'astro ' + format(t, 'g') + 'ms':>12}" for t in ro)
            + " "
            + " ".join(f"{'no-astro ' + format(t, 'g'):>12}" for t in ro),
        ]
        for i, lvl in enumerate(r["noise"]):
            lines.append(
                f"{lvl:>6.1f} {r['astrocytes']['input_mean'][i]:>7.3f} "
                + " ".join(f"{x:>12.3f}" for x in r["astrocytes"]["mean"][i])
                + " "
                + " ".join(f"{x:>12.3f}" for x in r["no_astrocytes"]["mean"][i])
            )
        lines.append("")
    if "two_patterns" in results:
        r = results["two_patterns"]
        last = len(r["readout_ms"]) - 1
        lines += [
            f"experiment 2, digits 0 and 1 trained in turn: accuracy at {r['readout_ms'][last]:g} ms",
            f"{'noise':>6} {'zero':>7} {'one':>7}",
        ]
        for i, lvl in enumerate(r["noise"]):
            lines.append(f"{lvl:>6.1f} {r['zero']['mean'][i][last]:>7.3f} {r['one']['mean'][i][last]:>7.3f}")
        lines.append("")
    if "lifetime" in results:
        r = results["lifetime"]
        last = len(r["readout_ms"]) - 1
        lines += [
            f"experiment 4, memory lifetime at test noise {r['test_noise']}: accuracy at "
            f"{r['readout_ms'][last]:g} ms (input alone: {np.mean(r['input_mean']):.3f})",
            f"{'delay ms':>9} {'accuracy':>9}",
        ]
        for d, m in zip(r["delay_ms"], r["mean"]):
            lines.append(f"{d:>9.0f} {m[last]:>9.3f}")
    return "\n".join(lines)


def write_figures(results, example, out_dir) -> list:
    """example.png (the paper's Fig. 5: noisy input, responses, V map, Ca map), traces.png (Fig. 4:
    V inside and outside the pattern, astrocyte calcium against the network's calcium threshold), and one
    accuracy figure per experiment. `example`: as `example_run` returns it (with "readout_ms"), or None."""
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    if example is not None:
        run, stim = example["run"], example["stimulus"]
        ro = example.get("readout_ms", (4.4, 11.6))
        fig = Figure(figsize=(11, 6.5))
        axes = fig.subplots(2, 3)
        panels = [
            (np.asarray(stim.images[-1]), "noisy test input", "gray_r"),
            (np.asarray(run.readout_counts[0] > 0), f"response, first {ro[0]:g} ms", "gray_r"),
            (np.asarray(run.readout_counts[1] > 0), f"response, first {ro[1]:g} ms", "gray_r"),
            (example["target"], "stored pattern", "gray_r"),
            (np.asarray(run.snapshot_v[1]), f"V (mV) at {ro[1]:g} ms", "viridis"),
            (np.asarray(run.snapshot_ca[0]), f"Ca (uM) at {ro[0]:g} ms", "magma"),
        ]
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
        curves = [
            (
                np.asarray(r["astrocytes"]["mean"])[:, j],
                np.asarray(r["astrocytes"]["se"])[:, j],
                f"neuron-astrocyte network, read at {tr:g} ms",
            )
            for j, tr in enumerate(r["readout_ms"])
        ]
        curves.append(
            (
                np.asarray(r["no_astrocytes"]["mean"])[:, last],
                np.asarray(r["no_astrocytes"]["se"])[:, last],
                f"neurons only (I_astro = 0), read at {r['readout_ms'][last]:g} ms",
            )
        )
        # (marker, line style, colour, marker size, filled): small filled and large hollow markers alternate
        styles = [
            ("o", "-", "C0", 4, True),
            ("^", "--", "C1", 9, False),
            ("s", "-.", "C2", 4, True),
            ("D", (0, (3, 1, 1, 1, 1, 1)), "k", 8, False),
            ("v", "-", "C4", 4, True),
        ]
        step = 0.5 * (x[1] - x[0]) / max(len(curves), 1) if x.size > 1 else 0.0
        ax.plot(x, r["astrocytes"]["input_mean"], "-", color="0.75", lw=5, zorder=1, label="noisy test input itself")
        for j, (mean, se, label) in enumerate(curves):
            marker, ls, color, size, filled = styles[j % len(styles)]
            ax.errorbar(
                x + (j - (len(curves) - 1) / 2) * step,
                mean,
                se,
                marker=marker,
                ms=size,
                capsize=2,
                ls=ls,
                lw=1.2,
                color=color,
                mfc=color if filled else "none",
                mew=1.2,
                label=label,
                zorder=10 - j if filled else 2 + j,
            )
        ax.text(
            0.99,
            0.01,
            f"curves offset by up to \u00b1{step * (len(curves) - 1) / 2:.2g} in x to stay visible",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
            color="0.4",
        )
        paths.append(
            save_figure(
                fig,
                ax,
                os.path.join(out_dir, "accuracy_vs_noise.png"),
                xlabel="test noise (fraction of pixels flipped)",
                ylabel="balanced accuracy (TPR + TNR) / 2",
                title="Gordleeva et al. network, one stored digit (Fig. 6)",
            )
        )
    if "two_patterns" in results:
        r = results["two_patterns"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        for (name, digit), color, marker in zip((("zero", 0), ("one", 1)), ("C0", "C3"), ("o", "s")):
            # one colour per digit: the network's response (solid) and the noisy input itself (dotted)
            ax.errorbar(
                r["noise"],
                np.asarray(r[name]["mean"])[:, last],
                np.asarray(r[name]["se"])[:, last],
                marker=marker,
                ms=4,
                capsize=2,
                color=color,
                label=f"digit {digit}: neuron-astrocyte network",
            )
            ax.plot(
                r["noise"],
                r[name]["input_mean"],
                ":",
                lw=1.5,
                color=color,
                label=f"digit {digit}: noisy test input itself",
            )
        paths.append(
            save_figure(
                fig,
                ax,
                os.path.join(out_dir, "two_patterns.png"),
                xlabel="test noise (fraction of pixels flipped)",
                ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                title="Gordleeva et al. network, two stored digits (Fig. 7)",
            )
        )
    if "lifetime" in results:
        r = results["lifetime"]
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.subplots()
        last = len(r["readout_ms"]) - 1
        ax.errorbar(
            np.asarray(r["delay_ms"]) / 1000.0,
            np.asarray(r["mean"])[:, last],
            np.asarray(r["se"])[:, last],
            marker="o",
            capsize=2,
            label="neuron-astrocyte network",
        )
        ax.plot(np.asarray(r["delay_ms"]) / 1000.0, r["input_mean"], ":", color="gray", label="noisy test input itself")
        paths.append(
            save_figure(
                fig,
                ax,
                os.path.join(out_dir, "lifetime.png"),
                xlabel="delay from end of training to test (s)",
                ylabel=f"balanced accuracy at {r['readout_ms'][last]:g} ms",
                title=f"Gordleeva et al. network, memory lifetime at test noise {r['test_noise']}",
            )
        )
    return paths


@dataclasses.dataclass(frozen=True)
class GordleevaResult:
    """`results`: "noise_curve", "two_patterns", "lifetime" as `run_experiments` returns them; `example`:
    the recorded example run (or None); `settings`: the options, saved with the results."""

    results: dict
    example: dict | None
    settings: dict


def _same(saved: dict, settings: dict) -> bool:
    """The same run but for the output folder and the subset of experiments."""
    return {k: v for k, v in saved.items() if k not in ("out", "experiments")} == {
        k: v for k, v in settings.items() if k not in ("out", "experiments")
    }


@dataclasses.dataclass(frozen=True)
class Gordleeva(AbstractExperiment):
    """`nam gordleeva`: the chosen experiments of Gordleeva et al. (2021); `out/results.json` is rewritten
    (strict JSON, atomically) as each finishes, and a re-run with the same settings reuses the finished ones.
    Checked when made (ValueError naming the option)."""

    command: ClassVar[str] = "gordleeva"
    summary: ClassVar[str] = (
        "spiking neuron-astrocyte memory (Gordleeva et al. 2021): accuracy vs noise, two "
        "patterns, ablation, memory lifetime, figures"
    )
    description: ClassVar[str] = (
        "The spiking neuron-astrocyte associative memory of Gordleeva et al. (2021): 40 x 40 Izhikevich neurons "
        "and 13 x 13 Li-Rinzel astrocytes trained on digit images; accuracy against test noise with and without "
        "astrocytes (experiments 1 and 3), two patterns in turn (2), memory lifetime against the delay (4)."
    )

    experiments: tuple[str, ...] = option(
        ("noise", "two", "lifetime"),
        "comma-separated subset of noise (1 and 3: one digit, with and without "
        "astrocytes), two (two digits), lifetime (accuracy vs delay)",
    )
    trials: int = option(20, "trials per noise level or delay")
    noise: str = option(
        "flip",
        "flip: the chosen fraction of pixels is inverted; salt_and_pepper: replaced by coin flips (about half change)",
        choices=("flip", "salt_and_pepper"),
    )
    delay_ms: float = option(1000.0, "delay from the end of training to the test, in ms")
    dt: float = option(0.1, "time step in ms (at most 0.5)")
    trigger: str = option(
        "retrigger", "how the neuron -> astrocyte condition starts IP3 pulses", choices=("retrigger", "rising_edge")
    )
    rate_rule: str = option("per_neuron", "how the 17.5 Hz condition is read", choices=("per_neuron", "mean"))
    seed: int = option(0, "random seed")
    out: str = option(
        "nam_output/gordleeva", "output folder; a re-run with the same settings reuses the finished experiments"
    )

    def __post_init__(self):
        if not self.experiments:
            raise ValueError("`experiments` must name at least one of noise, two, lifetime")
        check_choices("experiments", self.experiments, ex.EXPERIMENTS)
        check_int("trials", self.trials)
        check_int("seed", self.seed, minimum=0)
        check_number("delay_ms", self.delay_ms, minimum=0.0)
        check_instance("out", self.out, str, "a folder path")
        try:  # the network and the protocol check the values; a run too long to simulate is refused here
            self.network()
            self.protocol().check_duration(2 if "two" in self.experiments else 1, self.dt)
        except ValueError as e:  # the network's and protocol's names for this experiment's options
            message = str(e).replace("`dt_ms`", "`dt`").replace("`protocol.delay_ms`", "`delay_ms`")
            raise ValueError(message.replace("`protocol.noise`", "`noise`")) from None

    def network(self) -> GordleevaNetwork:
        return GordleevaNetwork(dt_ms=self.dt, trigger=self.trigger, rate_rule=self.rate_rule)

    def protocol(self) -> Protocol:
        return Protocol(noise=self.noise, delay_ms=self.delay_ms)

    @property
    def path(self) -> str:
        return os.path.join(self.out, "results.json")

    def settings(self) -> dict:
        return {**dataclasses.asdict(self), "experiments": ",".join(self.experiments)}

    def finished(self) -> dict:
        """The experiments a previous run with the same settings finished (read from `out/results.json`)."""
        if not os.path.exists(self.path):
            return {}
        try:
            with open(self.path) as f:
                previous = json.load(f)
            if not isinstance(previous, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            raise ValueError(f"{self.path} is not a readable results file ({e}); delete it to start afresh") from None
        if isinstance(previous.get("settings"), dict) and _same(previous["settings"], self.settings()):
            # written as strict JSON: an accuracy no trial produced (NaN) was saved as null
            return {k: null_to_nan(v) for k, v in previous.items() if k in _KEYS}
        return {}

    def check(self) -> None:
        self.finished()

    def describe(self) -> tuple[str, dict]:
        network, protocol, which = self.network(), self.protocol(), self.experiments
        longest = protocol.t_end_ms(2 if "two" in which else 1)
        if "lifetime" in which:
            longest = max(longest, protocol.t_end_ms(1) - protocol.delay_ms + max(ex.DELAYS_MS))
        return "gordleeva (Gordleeva et al. 2021)", {
            "experiments": ", ".join(which),
            "network": f"{network.side} x {network.side} Izhikevich neurons, {network.astro_side} x "
            f"{network.astro_side} Li-Rinzel astrocytes, dt {self.dt:g} ms",
            "trials": f"{ex.count_trials(which, self.trials)} simulated trials ({self.trials} per noise level or "
            f"delay) of up to {longest / 1000:.2f} s simulated time each, plus one recorded example",
            "output": self.out,
        }

    def run(self, *, progress: bool = True) -> GordleevaResult:
        settings = self.settings()

        def save(results):
            write_json(self.path, {"settings": settings, "complete": False, **results})

        results, example = ex.run_experiments(
            self.network(),
            which=self.experiments,
            trials=self.trials,
            protocol=self.protocol(),
            seed=self.seed,
            progress=progress,
            done=self.finished(),
            on_result=save,
        )
        return GordleevaResult(results, example, settings)

    def format(self, result: GordleevaResult) -> str:
        return format_results(result.results)

    def write(self, result: GordleevaResult, out_dir: str | None) -> list[str]:
        """results.json (complete) and the figures (`write_figures`)."""
        out_dir = self.out if out_dir is None else out_dir
        path = os.path.join(out_dir, "results.json")
        write_json(path, {"settings": result.settings, "complete": True, **result.results})
        return [path] + list(write_figures(result.results, result.example, out_dir))

    def resume_hint(self, error: BaseException) -> str:
        return f"finished experiments are saved in {self.path}; run the same command again to run the rest"
