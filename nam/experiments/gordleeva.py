"""The spiking neuron-astrocyte memory experiments of Gordleeva et al. (2021) (`nam gordleeva`): accuracy
against noise with and without astrocytes, two patterns, memory lifetime, and their figures.

The experiments themselves are `run_experiments` (`nam/spiking/_experiments.py`) and its figures; this
module gives them the interface of `nam.experiments` and the resume of the CLI: `out/results.json` is rewritten (strict JSON,
atomically) as each experiment finishes, and a re-run with the same settings reuses the finished ones.
"""

import dataclasses
import json
import os

from .._io import null_to_nan, write_json
from ..spiking import _experiments as ex

ERRORS = ()  # refused options are ValueErrors before the run; errors during it are not expected
_KEYS = ("noise_curve", "two_patterns", "lifetime")


@dataclasses.dataclass(frozen=True)
class Spec:
    """The options of `nam gordleeva`; `experiments` is a comma-separated subset of noise,two,lifetime.
    Checked when made (ValueError)."""

    experiments: str = "noise,two,lifetime"
    trials: int = 20
    noise: str = "flip"
    delay_ms: float = 1000.0
    dt: float = 0.1
    trigger: str = "retrigger"
    rate_rule: str = "per_neuron"
    seed: int = 0
    out: str = "nam_output/gordleeva"

    def __post_init__(self):
        unknown = set(self.which) - set(ex.EXPERIMENTS)
        if unknown or not self.which:
            raise ValueError(f"--experiments must be a subset of noise,two,lifetime, got {self.experiments!r}")
        self.network()
        self.protocol()

    @property
    def which(self) -> tuple:
        return tuple(x.strip() for x in self.experiments.split(",") if x.strip())

    def network(self):
        from ..spiking._network import GordleevaNetwork

        return GordleevaNetwork(dt_ms=self.dt, trigger=self.trigger, rate_rule=self.rate_rule)

    def protocol(self):
        from ..spiking._protocol import Protocol

        return Protocol(noise=self.noise, delay_ms=self.delay_ms)


@dataclasses.dataclass(frozen=True)
class GordleevaResult:
    """`results`: "noise_curve", "two_patterns", "lifetime" as `run_experiments` returns them; `example`:
    the recorded example run (or None); `settings`: the spec, saved with the results."""

    results: dict
    example: dict | None
    settings: dict


def _path(spec: Spec) -> str:
    return os.path.join(spec.out, "results.json")


def _settings(spec: Spec) -> dict:
    return dataclasses.asdict(spec)


def _same(saved: dict, settings: dict) -> bool:
    """The same run but for the output folder and the subset of experiments."""
    return ({k: v for k, v in saved.items() if k not in ("out", "experiments")}
            == {k: v for k, v in settings.items() if k not in ("out", "experiments")})


def _finished(spec: Spec) -> dict:
    """The experiments a previous run with the same settings finished (read from `out/results.json`)."""
    path = _path(spec)
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            previous = json.load(f)
        if not isinstance(previous, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable results file ({e}); delete it to start afresh") from None
    if isinstance(previous.get("settings"), dict) and _same(previous["settings"], _settings(spec)):
        # written as strict JSON: an accuracy no trial produced (NaN) was saved as null
        return {k: null_to_nan(v) for k, v in previous.items() if k in _KEYS}
    return {}


def check(spec: Spec) -> None:
    _finished(spec)


def describe(spec: Spec):
    network, protocol, which = spec.network(), spec.protocol(), spec.which
    longest = protocol.t_end_ms(2 if "two" in which else 1)
    if "lifetime" in which:
        longest = max(longest, protocol.t_end_ms(1) - protocol.delay_ms + max(ex.DELAYS_MS))
    return "gordleeva (Gordleeva et al. 2021)", {
        "experiments": ", ".join(which),
        "network": f"{network.side} x {network.side} Izhikevich neurons, {network.astro_side} x {network.astro_side} "
                   f"Li-Rinzel astrocytes, dt {spec.dt:g} ms",
        "trials": f"{ex.count_trials(which, spec.trials)} simulated trials ({spec.trials} per noise level or delay) "
                  f"of up to {longest / 1000:.2f} s simulated time each, plus one recorded example",
        "output": spec.out}


def run(spec: Spec, *, progress: bool = True) -> GordleevaResult:
    """The chosen experiments; `out/results.json` is rewritten as each one finishes, and the ones a previous
    run with the same settings finished are reused."""
    settings, path = _settings(spec), _path(spec)

    def save(results):
        write_json(path, {"settings": settings, "complete": False, **results})

    results, example = ex.run_experiments(spec.network(), which=spec.which, trials=spec.trials,
                                          protocol=spec.protocol(), seed=spec.seed, progress=progress,
                                          done=_finished(spec), on_result=save)
    return GordleevaResult(results, example, settings)


def format(result: GordleevaResult) -> str:
    return ex.format_results(result.results)


def write(result: GordleevaResult, out_dir: str) -> list[str]:
    """results.json (complete) and the figures of `nam.spiking` (`write_figures`)."""
    path = os.path.join(out_dir, "results.json")
    write_json(path, {"settings": result.settings, "complete": True, **result.results})
    return [path] + list(ex.write_figures(result.results, result.example, out_dir))


def resume_hint(spec: Spec, error: BaseException) -> str:
    return (f"finished experiments are saved in {_path(spec)}; run the same command again "
            "to run the rest")
