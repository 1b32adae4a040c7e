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

from .._checks import ArgumentTypeError, check_bool, check_choices, check_instance, check_int, check_output_dir
from .._io import write_json
from .._data import CORPORA
from ._diagnostics import astrocyte_trace, remove_astrocyte_read
from ._models import MODEL_KINDS, build_model, parameter_count
from ._tasks import RetentionTask
from ._text import CharData, load_text
from ._training import (LM_ASSUMPTIONS, _check_sizes, _decay_label, bits_per_char, retention_accuracy, sample_text,
                        train_lm, train_retention)


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


# the models of `nam astrosnn lm`: every kind of MODEL_KINDS, and the AstroSNN variants (kind, build options):
LM_VARIANTS = {
    # the language-model assumptions (`LM_ASSUMPTIONS`, see `train_lm`)
    "astrosnn": ("astrosnn", dict(LM_ASSUMPTIONS)),
    # the default before the language-model study (Figure 1's membrane read, spiking keys and queries from
    # the previous token, "wide" decays); still the network's default, used for retention
    "astrosnn-membrane": ("astrosnn", {"read": "membrane", "kq_spiking": True, "key_shift": True,
                                       "decay": "wide"}),
    "astro-attention-learned": ("astro-attention", {"learned_features": True}),  # nam.attention, trained features
    "astro-attention-sharp": ("astro-attention", {"learned_features": True, "radius": 5.0}),  # and logits to +-5
}
LM_MODELS = tuple(LM_VARIANTS) + MODEL_KINDS[1:]  # also the order of the tables
LM_BASELINES = ("astrosnn", "astrosnn-membrane", "lif", "lstm")


def _lm_build(name):
    """(kind, build options) of an lm model name."""
    return LM_VARIANTS.get(name, (name, {}))


def _assumptions(name):
    """The AM-SU assumptions an lm model name resolves to (the network's defaults with the variant's options
    applied; empty for models without astrocytes): kept with each run, so that a run made under other
    defaults is not mistaken for one of this code."""
    kind, build = _lm_build(name)
    if kind != "astrosnn":
        return {}
    unit = build_model(kind, 8, 8, 1, key=jr.PRNGKey(0), chunk=8, **build).blocks[0].unit  # tiny: only its fields
    return {"decays": [round(float(x), 6) for x in np.asarray(unit.decay)], "read": unit.read,
            "kq_spiking": unit.kq_spiking, "key_shift": unit.key_shift, "write_gate": unit.w_g is not None,
            "decay_gate": unit.w_f is not None, "normalise": unit.normalise, "read_norm": unit.read_gain is not None,
            "reset": unit.reset, "surrogate": unit.surrogate, "alpha": unit.alpha, "heads": unit.heads}


def _run_name(corpus, model, seed):
    return f"{corpus}_{model}_seed{seed}"


def _check_numbers(result, path):
    """A run read back must hold finite numbers; ValueError naming the file and the number otherwise."""
    for key in ("val_nats", "val_bpc", "params", "train_seconds"):
        value = result.get(key)
        if not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"{path} holds a non-finite or missing {key} ({value!r}); delete it or use --restart")
    return result


def _read_run(path, options, restart):
    """A finished run read back and verified (its options, finite numbers), or None if there is none."""
    if restart or not os.path.exists(path):
        return None
    result = _load_json(path)
    _check_options({os.path.basename(path): result}, options, path)
    return _check_numbers(result, path)


def _corpus_data(corpora):
    """{name: CharData}: names of the embedded corpora, or a mapping of names to CharData (custom text)."""
    if isinstance(corpora, dict):
        for name, data in corpora.items():
            check_instance(f"corpora[{name!r}]", data, CharData, "a nam.astrosnn.CharData")
        return dict(corpora)
    names = check_choices("corpora", corpora, tuple(CORPORA))
    return {name: None for name in dict.fromkeys(names)}


def run_lm(out: str, *, models=LM_BASELINES, corpora=("shakespeare", "python"), seeds=(0, 1, 2),
           params: int = 500_000, layers: int = 4, steps: int = 1000, batch: int = 16, length: int = 128,
           learning_rate: float = 2e-3, eval_every: int = 0, sample_chars: int = 300, progress: bool = True,
           restart: bool = False, diagnose_windows: int = 16) -> dict:
    """Character language models: every model of `models` (names of `LM_MODELS`) on every corpus (names of
    `nam.astrosnn.CORPORA`, or a mapping of names to `CharData`) and seed, every one at the width whose
    parameter count is nearest `params`, the same steps, batch and length. Validation nats per character
    over the whole validation split (consecutive windows, each from a fresh state), spike rates, wall time,
    a sample; for AstroSNN models, the loss with the astrocyte read removed and `astrocyte_trace` on
    `diagnose_windows` validation windows.

    Each run is written to `out/runs/<corpus>_<model>_seed<s>.json` as it finishes (its checkpoint beside
    it), so a re-run resumes and runs of other models or seeds started in other processes into the same
    folder add up; `out/lm.json` holds every run of the folder made with these options and the summary
    (`summarise_lm`). Runs made with other options are refused unless `restart` (retrain them)."""
    sample_chars, diagnose_windows = check_int("sample_chars", sample_chars), check_int("diagnose_windows",
                                                                                       diagnose_windows)
    models = check_choices("models", models, LM_MODELS)
    data_of = _corpus_data(corpora)
    if not isinstance(seeds, (list, tuple)):
        raise ArgumentTypeError(f"`seeds` must be a list or tuple of integers >= 0, got {type(seeds).__name__}")
    seeds = tuple(check_int("seeds", x, 0) for x in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must be distinct integers >= 0, at least one, got {seeds!r}")
    check_int("params", params)
    check_bool("restart", restart)
    out = check_output_dir("`out`", out)
    runs_dir = os.path.join(out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    options = {"params": params, "layers": layers, "steps": steps, "batch": batch, "length": length,
               "learning_rate": learning_rate}
    # every earlier result is read back and checked before anything is trained
    todo = []
    assumptions = {name: _assumptions(name) for name in models}
    for corpus in data_of:
        for name in models:
            for seed in seeds:
                run = _run_name(corpus, name, seed)
                kind, build = _lm_build(name)
                run_options = {**options, "model_options": build, "assumptions": assumptions[name]}
                if _read_run(os.path.join(runs_dir, run + ".json"), run_options, restart) is None:
                    todo.append((corpus, name, seed, run, kind, build, run_options))
    for corpus, name, seed, run, kind, build, run_options in todo:  # every size checked before any training
        if data_of[corpus] is None:
            data_of[corpus] = CharData(load_text(corpus=corpus))
        _check_sizes("`params`, `layers`, `batch`, `length`", kind, len(data_of[corpus].vocab), 8, layers, 4, 64,
                     batch, length, params)
    for corpus, name, seed, run, kind, build, run_options in todo:
        data = data_of[corpus]
        if progress:
            print(f"[{corpus} {name} seed {seed}] training {steps} steps", flush=True)
        start = time.perf_counter()
        model, history, config = train_lm(kind, data, layers=layers, target_params=params, steps=steps, batch=batch,
                                          length=length, learning_rate=learning_rate, seed=seed,
                                          checkpoint=os.path.join(runs_dir, run + ".eqx"), eval_every=eval_every,
                                          progress=progress, restart=restart, model_options=build)
        seconds = time.perf_counter() - start
        final = bits_per_char(model, data, length=length)
        result = {"corpus": corpus, "model": name, "kind": kind, "seed": seed, "options": run_options,
                  "params": config["params"], "d": config["d"], "train_seconds": seconds, **final,
                  "curve": [{"step": h["step"], "val_bpc": h["val_bpc"]} for h in history if "val_bpc" in h],
                  "train_loss": [{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h][::25]}
        if kind == "astrosnn":
            without = bits_per_char(remove_astrocyte_read(model), data, length=length)["val_nats"]
            x, _ = data.val_windows(length, diagnose_windows)
            result["read_removed_val_nats"] = without
            result["trace"] = astrocyte_trace(model, x)
        prompt = data.vocab.decode(data.val[:16])
        result["sample"] = prompt + sample_text(model, data.vocab, prompt, sample_chars, seed=seed)
        for key in ("val_nats", "val_bpc"):
            if not np.isfinite(result[key]):
                raise RuntimeError(f"{run}: the validation {key} is {result[key]} (non-finite); nothing was written")
        write_json(os.path.join(runs_dir, run + ".json"), result)
    summary = _collect(runs_dir, options)
    write_json(os.path.join(out, "lm.json"), summary)
    return summary


def _collect(runs_dir, options):
    """Every run in `runs_dir` made with `options` (whatever model or seed), and their summary."""
    runs, assumptions = {}, {}
    for file in sorted(os.listdir(runs_dir)):
        if not file.endswith(".json"):
            continue
        path = os.path.join(runs_dir, file)
        result = _load_json(path)
        saved = result.get("options", {})
        if {k: v for k, v in saved.items() if k not in ("model_options", "assumptions")} != options:
            continue
        name = result.get("model")
        if name not in LM_MODELS:
            continue
        if name not in assumptions:
            assumptions[name] = _assumptions(name)
        if saved.get("model_options") == _lm_build(name)[1] and saved.get("assumptions") == assumptions[name]:
            runs[file[:-5]] = _check_numbers(result, path)
    return {"options": options, "runs": runs, "summary": summarise_lm(runs)}


def _spread(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else None,
            "min": float(values.min()), "max": float(values.max()), "n": int(values.size)}


def summarise_lm(runs: dict) -> dict:
    """Per corpus and model: the seeds, the mean, sample sd, min and max of the validation nats/char over
    seeds, mean params, spike rate and training seconds; per corpus the paired comparisons (over the seeds
    both models ran): `astrosnn_minus_lif` and the like, and the share of astrosnn-membrane's gap to the
    LSTM that astrosnn closes: `gap_closed` = 1 - gap(astrosnn) / gap(astrosnn-membrane) from the seed means,
    and `gap_closed_per_seed` from each seed's three runs."""
    out = {}
    corpora = {r["corpus"] for r in runs.values()}
    for corpus in [c for c in CORPORA if c in corpora] + sorted(corpora - set(CORPORA)):
        rows = {}
        mine = [r for r in runs.values() if r["corpus"] == corpus]
        for name in sorted({r["model"] for r in mine}, key=lambda m: (LM_MODELS + (m,)).index(m)):
            rs = sorted((r for r in mine if r["model"] == name), key=lambda r: r["seed"])
            rates = [r["spike_rate"] for r in rs if r.get("spike_rate") is not None]
            row = {"seeds": [r["seed"] for r in rs], "val_nats": _spread([r["val_nats"] for r in rs]),
                   "per_seed": [r["val_nats"] for r in rs], "params": int(np.mean([r["params"] for r in rs])),
                   "spike_rate": float(np.mean(rates)) if rates else None,
                   "train_seconds": float(np.mean([r["train_seconds"] for r in rs]))}
            if all("read_removed_val_nats" in r for r in rs):
                row["read_costs"] = _spread([r["read_removed_val_nats"] - r["val_nats"] for r in rs])
            rows[name] = row
        comparisons = {}
        by = {m: {r["seed"]: r["val_nats"] for r in mine if r["model"] == m} for m in rows}  # model -> seed -> nats
        by.update({m: {} for m in ("astrosnn", "astrosnn-membrane", "lif", "lstm") if m not in by})

        def paired(a, b):
            both = sorted(set(by[a]) & set(by[b]))
            return _spread([by[a][x] - by[b][x] for x in both]) if both else None

        for variant in ("astrosnn", "astrosnn-membrane"):
            diff = paired(variant, "lif")
            if diff:
                comparisons[f"{variant}_minus_lif"] = diff
            diff = paired(variant, "lstm")
            if diff:
                comparisons[f"{variant}_minus_lstm"] = diff
        new, old = comparisons.get("astrosnn_minus_lstm"), comparisons.get("astrosnn-membrane_minus_lstm")
        if new and old and old["mean"] > 0:
            comparisons["gap_closed"] = 1.0 - new["mean"] / old["mean"]
            both = sorted(set(by["astrosnn"]) & set(by["astrosnn-membrane"]) & set(by["lstm"]))
            comparisons["gap_closed_per_seed"] = {
                str(x): 1.0 - (by["astrosnn"][x] - by["lstm"][x]) / (by["astrosnn-membrane"][x] - by["lstm"][x])
                for x in both if by["astrosnn-membrane"][x] > by["lstm"][x]}
        out[corpus] = {"models": rows, "comparisons": comparisons}
    return out


def _pm(s):
    return f"{s['mean']:.3f}" + (f" ± {s['sd']:.3f}" if s.get("sd") is not None else "")


def format_lm(results: dict) -> str:
    """The lm tables: per corpus, every model's validation nats/char over seeds (mean ± sample sd, and each
    seed), spike rate and training time; the paired comparisons; the astrocyte measurements."""
    lines = []
    for corpus, part in results["summary"].items():
        lines.append(f"{corpus}: validation nats/char (mean ± sd over seeds; each seed)")
        lines.append(f"  {'model':<19}{'params':>8}  {'val nats/char':<16}{'seeds':<26}{'spike rate':>11}"
                     f"{'train s':>9}")
        for name, r in part["models"].items():
            rate = "-" if r["spike_rate"] is None else f"{r['spike_rate']:.3f}"
            seeds = " ".join(f"{x:.3f}" for x in r["per_seed"])
            lines.append(f"  {name:<19}{r['params']:>8}  {_pm(r['val_nats']):<16}{seeds:<26}{rate:>11}"
                         f"{r['train_seconds']:>9.0f}")
        for key, c in part["comparisons"].items():
            if key == "gap_closed":
                per = part["comparisons"].get("gap_closed_per_seed", {})
                lines.append(f"  share of astrosnn-membrane's gap to the LSTM closed by astrosnn: {c:.0%} (seed means; "
                             + ", ".join(f"seed {x}: {v:.0%}" for x, v in per.items()) + ")")
            elif key == "gap_closed_per_seed":
                continue
            else:
                lines.append(f"  {key.replace('_minus_', ' - ')}: {_pm(c)} nats/char (paired over {c['n']} seeds)")
        traced = [(name, r) for name, r in results["runs"].items() if r["corpus"] == corpus and "trace" in r]
        if traced:
            lines.append("  astrocytes (mean over blocks; first seed of each model): loss with the read removed, "
                         "spikes flipped by the read, read's share of the stream, k/q mean (the rate when "
                         "spiking), key units written per head and token, silent writes")
            for model in (m for m in part["models"] if any(r["model"] == m for _, r in traced)):
                r = min((r for _, r in traced if r["model"] == model), key=lambda r: r["seed"])
                t = {k: float(np.mean([b[k] for b in r["trace"]])) for k in r["trace"][0] if k != "decays"}
                lines.append(f"    {model:<19} {r['read_removed_val_nats'] - r['val_nats']:+.3f} nats  "
                             f"{t['spikes_flipped']:.3f}  {t['residual_share']:.3f}  {t['k_rate']:.3f}/"
                             f"{t['q_rate']:.3f}  {t['writes_per_token']:.2f}  {t['silent_writes']:.3f}")
    return "\n".join(lines)


def write_lm_figure(results: dict, path: str) -> str:
    """Validation nats/char per model and corpus: each seed a dot, the mean a bar."""
    from matplotlib.figure import Figure

    parts = results["summary"]
    fig = Figure(figsize=(4.5 * len(parts), 3.4))
    axes = fig.subplots(1, len(parts), squeeze=False)[0]
    for ax, (corpus, part) in zip(axes, parts.items()):
        names = list(part["models"])
        for i, name in enumerate(names):
            r = part["models"][name]
            ax.bar(i, r["val_nats"]["mean"], color="C0" if name.startswith("astrosnn") else "C7", alpha=0.6)
            ax.plot([i] * len(r["per_seed"]), r["per_seed"], "k.")
        lo = min(min(r["per_seed"]) for r in part["models"].values())
        hi = max(max(r["per_seed"]) for r in part["models"].values())
        ax.set_ylim(lo - 0.1, hi + 0.05)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylabel("validation nats/char")
        ax.set_title(f"{corpus}: each seed a dot, the mean a bar", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
