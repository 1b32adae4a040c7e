"""The experiments behind `nam astrosnn` (through `nam.experiments.astrosnn`): retention accuracy against
delay and character-level language modelling for AstroSNN and its baselines at a matched parameter
count, with their resumable result files, text tables and figures. Training and evaluation are in
`_training.py`.
"""

import json
import os
import time

import equinox as eqx
import jax.random as jr
import numpy as np

from .._checks import check_bool, check_choices, check_instance, check_int, check_output_dir
from .._io import write_json
from ._models import MODEL_KINDS, build_model, parameter_count
from ._tasks import RetentionTask
from ._text import CharData, load_text
from ._training import _check_sizes, _decay_label, bits_per_char, retention_accuracy, sample_text, train_lm, train_retention


# --- the experiments behind `nam astrosnn` ------------------------------------------------------------------

BASELINES = ("astrosnn", "lif", "lstm", "transformer")
DELAYS = (0, 16, 32, 64, 128, 192, 256)


def _load_json(path):
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable results file ({e}); delete it or use --restart") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a results file of nam astrosnn (not a JSON object); delete it or use "
                         "--restart")
    return data


def _check_options(results, options, path):
    """Finished results are reused only if they were made with the same options: checked for all of them
    before anything is trained, so one results file never mixes two configurations."""
    for name, result in results.items():
        saved = result.get("options") if isinstance(result, dict) else None
        if saved != options:
            saved = saved or {}
            diff = {k: (saved.get(k), v) for k, v in options.items() if saved.get(k) != v}
            raise ValueError(f"{path} holds {name} made with other options (saved, now): {diff}; use another --out, "
                             "or --restart (restart=True) to start afresh")


def _start(out, filename, options, restart, models):
    """Checks before any compute: the models, the output folder (writable), earlier results' options.
    Returns (results path, earlier results, the models as a tuple)."""
    check_bool("restart", restart)
    models = check_choices("models", models, MODEL_KINDS)
    out = check_output_dir("`out`", out)
    path = os.path.join(out, filename)
    results = {} if restart else _load_json(path)
    _check_options(results, options, path)
    return path, results, models


def run_retention(out: str, *, tasks=("recall", "copy"), models=BASELINES, max_delay: int = 256, d: int = 64,
                  layers: int = 2, steps: int = 1000, batch: int = 32, learning_rate: float = 3e-3,
                  delays=DELAYS, trials: int = 512, seed: int = 0, progress: bool = True, decay="retnet",
                  restart: bool = False) -> dict:
    """Accuracy vs delay for every task and model, AstroSNN of width `d` the reference and every other model
    at its parameter count. Results go to `out/retention.json` as each model finishes; a re-run resumes
    (finished models are skipped, an interrupted one continues from its checkpoint). Results or
    checkpoints made with other options are refused, unless `restart` (start afresh, overwrite them)."""
    tasks = check_choices("tasks", tasks, ("recall", "copy"))
    max_delay, trials = check_int("max_delay", max_delay, 0), check_int("trials", trials)
    delays = [check_int("delays", x, 0) for x in delays]
    options = {"max_delay": max_delay, "d": d, "layers": layers, "steps": steps, "batch": batch,
               "learning_rate": learning_rate, "trials": trials, "seed": seed,
               "decay": _decay_label(decay)}
    path, results, models = _start(out, "retention.json", options, restart, models)
    for task_kind in tasks:
        task = RetentionTask(task_kind, max_delay)
        _check_sizes("`d`, `layers`, `batch`, `max_delay`", "astrosnn", task.vocab, d, layers, 4, 32, batch,
                     task.length, None)
        reference = parameter_count(eqx.filter_eval_shape(build_model, "astrosnn", task.vocab, d, layers,
                                                          key=jr.PRNGKey(seed)))
        for kind in models:
            name = f"{task_kind}/{kind}"
            if name in results:
                continue
            if progress:
                print(f"[{name}] training {steps} steps", flush=True)
            model, history, config = train_retention(
                kind, task, d=d, layers=layers, target_params=None if kind == "astrosnn" else reference, steps=steps,
                batch=batch, learning_rate=learning_rate, seed=seed, progress=progress, decay=decay,
                checkpoint=os.path.join(out, f"{task_kind}_{kind}.eqx"), restart=restart)
            acc = retention_accuracy(model, task, [x for x in delays if x <= max_delay], trials=trials)
            results[name] = {"task": task_kind, "model": kind, "options": options, "params": config["params"],
                             "d": config["d"], "steps": steps, "chance": task.chance, "accuracy": acc,
                             "final_loss": float(np.mean([h["loss"] for h in history[-50:] if "loss" in h]))}
            write_json(path, results)
    return results


def _accuracy(result) -> dict:
    """{delay: accuracy} with int delays (results read back from JSON have string keys)."""
    return {int(k): v for k, v in result["accuracy"].items()}


def format_retention(results: dict) -> str:
    lines = []
    for task_kind in sorted({r["task"] for r in results.values()}):
        rows = [r for r in results.values() if r["task"] == task_kind]
        delays = sorted({x for r in rows for x in _accuracy(r)})
        lines.append(f"{task_kind} (chance {rows[0]['chance']:.3f}): accuracy vs delay")
        lines.append(f"  {'model':<12}{'params':>8}" + "".join(f"{x:>7}" for x in delays))
        for r in rows:
            acc = _accuracy(r)
            lines.append(f"  {r['model']:<12}{r['params']:>8}" + "".join(f"{acc[x]:>7.3f}" for x in delays))
    return "\n".join(lines)


def write_retention_figure(results: dict, path: str) -> str:
    """One panel per task (accuracy against delay, every model, chance), saved once to `path` (PNG)."""
    from matplotlib.figure import Figure

    from .._plotting import label_axes

    tasks = sorted({r["task"] for r in results.values()})
    fig = Figure(figsize=(4.5 * len(tasks), 3.4))
    axes = fig.subplots(1, len(tasks), squeeze=False)[0]
    for ax, task_kind in zip(axes, tasks):
        for r in (r for r in results.values() if r["task"] == task_kind):
            acc = _accuracy(r)
            xs = sorted(acc)
            ax.plot(xs, [acc[x] for x in xs], "o-", label=f"{r['model']} ({r['params'] / 1e3:.0f}k)")
        ax.axhline(r["chance"], color="grey", lw=0.8, ls=":", label="chance")
        ax.set_ylim(0, 1.02)
        label_axes(ax, xlabel="delay (tokens)", ylabel="accuracy", title=f"{task_kind}: retention")
    fig.tight_layout()
    fig.savefig(path, dpi=100)  # once, with every task's panel drawn
    return path


def run_lm(out: str, *, models=BASELINES, d: int = 160, layers: int = 4, steps: int = 1000, batch: int = 16,
           length: int = 256, learning_rate: float = 2e-3, eval_every: int = 250, seed: int = 0,
           sample_chars: int = 400, progress: bool = True, data: CharData | None = None, decay="wide",
           restart: bool = False) -> dict:
    """Character LM on Tiny Shakespeare for every model at the parameter count of an AstroSNN of width `d`,
    the same steps and batch; validation bpc over the whole validation split, samples, spike rates, wall
    time. Results go to `out/lm.json` per model (a re-run resumes, as `run_retention`; other options are
    refused unless `restart`), as strict JSON: the spike rate of a model without spikes (NaN) is null."""
    sample_chars = check_int("sample_chars", sample_chars)
    if data is not None:
        check_instance("data", data, CharData, "a nam.astrosnn.CharData or None")
    options = {"d": d, "layers": layers, "steps": steps, "batch": batch, "length": length,
               "learning_rate": learning_rate, "seed": seed,
               "decay": _decay_label(decay)}
    path, results, models = _start(out, "lm.json", options, restart, models)
    data = data or CharData(load_text())
    vocab = len(data.vocab)
    _check_sizes("`d`, `layers`, `batch`, `length`", "astrosnn", vocab, d, layers, 4, 64, batch, length, None)
    reference = parameter_count(eqx.filter_eval_shape(build_model, "astrosnn", vocab, d, layers, key=jr.PRNGKey(seed)))
    for kind in models:
        if kind in results:
            continue
        if progress:
            print(f"[{kind}] training {steps} steps", flush=True)
        start = time.perf_counter()
        checkpoint = os.path.join(out, f"lm_{kind}.eqx")
        model, history, config = train_lm(kind, data, d=d, layers=layers, target_params=None if kind == "astrosnn"
                                          else reference, steps=steps, batch=batch, length=length,
                                          learning_rate=learning_rate, seed=seed, checkpoint=checkpoint,
                                          eval_every=eval_every, progress=progress, decay=decay, restart=restart)
        seconds = time.perf_counter() - start
        final = bits_per_char(model, data, length=length)
        prompt = "ROMEO:\n"
        results[kind] = {"model": kind, "options": options, "params": config["params"], "d": config["d"],
                         "steps": steps, "batch": batch, "length": length, "train_seconds_this_run": seconds, **final,
                         "curve": [{"step": h["step"], "val_bpc": h["val_bpc"]} for h in history if "val_bpc" in h],
                         "train_loss": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h][::25],
                         "sample": prompt + sample_text(model, data.vocab, prompt, sample_chars, seed=seed)}
        write_json(path, results)
    return results


def format_lm(results: dict) -> str:
    lines = [f"{'model':<16}{'params':>9}{'val nats':>10}{'val bpc':>9}{'spike rate':>12}{'train s':>9}"]
    for r in results.values():
        rate = "-" if r["spike_rate"] is None or r["spike_rate"] != r["spike_rate"] else f"{r['spike_rate']:.3f}"
        lines.append(f"{r['model']:<16}{r['params']:>9}{r['val_nats']:>10.3f}{r['val_bpc']:>9.3f}{rate:>12}"
                     f"{r['train_seconds_this_run']:>9.0f}")
    return "\n".join(lines)


def write_lm_figure(results: dict, path: str) -> str:
    from matplotlib.figure import Figure

    from .._plotting import save_figure

    fig = Figure(figsize=(5, 3.4))
    ax = fig.subplots()
    for r in results.values():
        ax.plot([c["step"] for c in r["curve"]], [c["val_bpc"] for c in r["curve"]], "o-",
                label=f"{r['model']} ({r['params'] / 1e6:.2f}M)")
    return save_figure(fig, ax, path, xlabel="training step", ylabel="validation bits per char",
                       title="Tiny Shakespeare, equal parameters and steps")
