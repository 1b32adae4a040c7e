"""Training, evaluation and sampling of the AstroSNN models and their baselines: the sequence loss and
optimiser, model checkpoints (configuration and vocabulary with their SHA-256 checksum; a corrupt
checkpoint, or resuming with another configuration, is refused, `restart=True` starts afresh),
retention accuracy against delay, bits per character, text sampling.

Training uses `nam.learning.train` (optax, one jitted step, progress bar, atomic checkpoints that resume
bit for bit, deterministic from the seed). The experiments that drive these (`nam astrosnn`) are in
`_experiments.py`.
"""

import math
import os
from collections.abc import Iterable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from .._checks import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_memory,
    check_number,
    check_output_file,
    is_concrete,
)
from ..learning import train
from ..learning._train import CheckpointError, TrainState, checkpoint_config, load_checkpoint, make_optimizer
from ._models import MODEL_KINDS, build_model, check_sequence_model, generate, match_width, parameter_count
from ._tasks import RetentionTask
from ._text import CharData, Vocab

# The AM-SU assumptions `train_lm` (and `nam astrosnn lm`'s "astrosnn") use for language modelling, chosen
# by the candidate comparison of issue 17 (benchmarks/bench_astrosnn_lm_candidates.py, docs/astrosnn.md):
# the astrocyte read leaves the unit as graded spikes s * o into the residual stream instead of entering the
# membrane, keys and queries are real-valued (the neurons still spike), the key comes from the previous
# token, and the decays start local (0.5 to 0.94: memories of a few characters). The network's own
# defaults (`AstroSNN`) stay those of retention: the membrane read and spiking keys and queries.
LM_ASSUMPTIONS = {"read": "gated", "kq_spiking": False, "key_shift": True, "decay": "local"}


def sequence_loss(model, tokens, targets, mask=None, form: str = "parallel"):
    """Mean cross-entropy (nats) over the masked positions of a batch (B, T), with the accuracy and the
    mean spike rate of the spiking layers (nan for models without spikes) as aux.

    `tokens`, `targets`: (B, T) integer ids in [0, vocab); `mask`: None or (B, T) booleans (or 0/1).
    Shapes, dtypes and (when concrete) the id range are checked before anything runs."""
    _check_batch(model, tokens, targets, mask)
    logits, rates = jax.vmap(lambda t: model(t, form))(tokens)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    m = jnp.ones_like(ce) if mask is None else mask.astype(ce.dtype)
    n = jnp.maximum(m.sum(), 1.0)
    acc = jnp.sum((jnp.argmax(logits, -1).astype(targets.dtype) == targets).astype(m.dtype) * m) / n
    rate = rates.mean() if rates.size else jnp.asarray(jnp.nan, ce.dtype)
    return jnp.sum(ce * m) / n, {"accuracy": acc, "spike_rate": rate}


def _check_batch(model, tokens, targets, mask):
    check_sequence_model(model)
    vocab = model.vocab
    for name, x in (("tokens", tokens), ("targets", targets)):
        check_instance(name, x, (jax.Array, np.ndarray), "a (B, T) integer array")
        if x.dtype == bool or not jnp.issubdtype(x.dtype, jnp.integer):
            raise ArgumentTypeError(f"`{name}` must hold integer token ids, got dtype {x.dtype}")
        if x.ndim != 2 or 0 in x.shape:
            raise ValueError(f"`{name}` must have shape (B, T) with B, T >= 1, got {x.shape}")
        if is_concrete(x):
            lo, hi = int(np.min(x)), int(np.max(x))
            if lo < 0 or hi >= vocab:
                raise ValueError(f"`{name}` must be ids in [0, {vocab}) (the model's vocabulary), got {lo}..{hi}")
    if targets.shape != tokens.shape:
        raise ValueError(f"`targets` must have the shape of `tokens` {tokens.shape}, got {targets.shape}")
    if mask is not None:
        check_instance("mask", mask, (jax.Array, np.ndarray), "None or a (B, T) array")
        if mask.shape != tokens.shape:
            raise ValueError(f"`mask` must have the shape of `tokens` {tokens.shape}, got {mask.shape}")
        if jnp.issubdtype(mask.dtype, jnp.complexfloating):
            raise ArgumentTypeError(f"`mask` must be boolean or 0/1, got dtype {mask.dtype}")


def check_sizes(name, kind, vocab, d, layers, heads, chunk, batch, length, target_params):
    """Validate the sizes of a sequence-model run and refuse one that cannot fit in memory."""
    vocab = check_int("vocab", vocab)
    d, layers, heads, chunk = (
        check_int("d", d),
        check_int("layers", layers),
        check_int("heads", heads),
        check_int("chunk", chunk),
    )
    batch, length = check_int("batch", batch), check_int("length", length)
    if target_params is not None:
        check_int("target_params", target_params)
    # parameters, gradients and the two Adam moments (4 copies), and the activations of one batch
    width = d if target_params is None else max(d, int(math.sqrt(target_params)))
    params = (vocab * width * 2 + layers * 14 * width * width) if target_params is None else 2 * target_params
    nbytes = 4 * (4 * params + batch * length * (layers * 24 * width + 2 * vocab))
    check_memory(name, nbytes, f"training the {kind} model")


def sequence_optimizer(learning_rate: float | int, steps: int) -> optax.GradientTransformation:
    """The sequence models' optimizer (`nam.learning.make_optimizer`): AdamW with linear warm-up and cosine
    decay to 10 %, global-norm clipping at 1, weight decay 0.01 on matrices only."""
    return make_optimizer("adamw", learning_rate, schedule_steps=steps, warmup=100, clip=1.0, weight_decay=0.01)


def _check_saved_vocab(checkpoint, config, restart):
    """A checkpoint of a character model trained on another vocabulary is refused with the characters that
    differ (the configuration check of `train` would only say that the configurations differ)."""
    if checkpoint is None:
        return
    checkpoint = check_output_file("checkpoint", checkpoint)
    if restart or not os.path.exists(checkpoint):
        return
    saved = checkpoint_config(checkpoint).get("run", {})
    if "vocab" in saved and "vocab" in config:
        Vocab(config["vocab"]).check_matches(Vocab(saved["vocab"]))


def load_model(checkpoint: str, vocab: Vocab | None = None):
    """The trained model of a `train_lm`/`train_retention` checkpoint and its config dict, verified by the
    checkpoint's SHA-256 checksum. With `vocab`, a checkpoint trained on another vocabulary is refused.

    **Raises:** FileNotFoundError if there is no such file; `nam.learning.CheckpointError` (one line
    naming the file) if it is corrupt, truncated, empty or not a sequence-model checkpoint."""
    checkpoint = os.fspath(check_instance("checkpoint", checkpoint, (str, os.PathLike), "a file path"))
    if vocab is not None:
        check_instance("vocab", vocab, Vocab, "a nam.astrosnn.Vocab or None")
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"no checkpoint {checkpoint}")
    config = checkpoint_config(checkpoint).get("run", {})
    if not {"model", "vocab_size", "d", "layers", "heads", "chunk", "learning_rate", "steps"} <= set(config):
        raise CheckpointError(f"checkpoint {checkpoint} is not a checkpoint of `nam astrosnn` (no model configuration)")
    if vocab is not None:
        if "vocab" not in config:
            raise ValueError(f"checkpoint {checkpoint} is not a character model (no vocabulary saved)")
        vocab.check_matches(Vocab(config["vocab"]))
    template = build_model(
        config["model"],
        config["vocab_size"],
        config["d"],
        config["layers"],
        key=jr.PRNGKey(0),
        heads=config["heads"],
        chunk=config["chunk"],
        **config.get("model_options", {}),
    )
    opt = sequence_optimizer(config["learning_rate"], config["steps"])
    state = TrainState(
        params=template,
        opt_state=opt.init(eqx.filter(template, eqx.is_array)),
        step=jnp.asarray(0, jnp.int32),
        key=jr.PRNGKey(0),
    )
    state, _, _ = load_checkpoint(checkpoint, state)
    return state.params, config


def decay_label(decay):
    """The decay option as it goes into configs and results: a name, or the list of values."""
    return decay if isinstance(decay, str) else np.asarray(decay).tolist()


def _model_for(kind, vocab, *, d, layers, heads, chunk, target, seed, decay, options=None):
    """The model and its width; an explicit `decay` overrides the options' decays (None: the options', or
    the layer's default)."""
    extra = dict(options or {})
    if kind in ("astrosnn", "lif") and decay is not None:
        extra["decay"] = decay
    if target is not None:
        d = match_width(kind, vocab, target, layers, heads=heads, **extra)
    model = build_model(kind, vocab, d, layers, key=jr.PRNGKey(seed), heads=heads, chunk=chunk, **extra)
    return model, d


# --- task 1: retention -------------------------------------------------------------------------------------


@eqx.filter_jit
def _accuracy_at(model, task, key, delay, trials):
    """One compiled program per (model structure, task, trials); the delay is a traced array."""
    tokens, targets, mask = task.batch(key, trials, delay)
    return sequence_loss(model, tokens, targets, mask)[1]["accuracy"]


def retention_accuracy(model, task: RetentionTask, delays, *, trials: int = 256, seed: int = 1234) -> dict:
    """Accuracy at each delay over `trials` fresh sequences (recall: the answer; copy: per symbol)."""
    check_instance("task", task, RetentionTask)
    if isinstance(delays, (str, bytes)) or not isinstance(delays, Iterable):
        raise ArgumentTypeError(f"`delays` must be a list of integer delays, got {type(delays).__name__}")
    delays = [task.check_delay(d) for d in delays]
    if not delays:
        raise ValueError("`delays` must hold at least one delay")
    trials, seed = check_int("trials", trials), check_int("seed", seed, 0)
    key = jr.PRNGKey(seed)
    return {d: float(_accuracy_at(model, task, jr.fold_in(key, d), jnp.asarray(d), trials)) for d in delays}


def train_retention(
    kind: str,
    task: RetentionTask,
    *,
    d: int = 64,
    layers: int = 2,
    heads: int = 4,
    chunk: int = 32,
    target_params: int | None = None,
    steps: int = 1500,
    batch: int = 32,
    learning_rate: float = 3e-3,
    seed: int = 0,
    checkpoint: str | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    decay="retnet",
    restart: bool = False,
):
    """Train one model on `task` with delays drawn uniformly from 0..max_delay. With `target_params`, the
    width is chosen to match that parameter count. `checkpoint` makes a re-run resume (one written with
    another configuration is refused unless `restart`); `stop_after` stops (with
    `nam.learning.TrainInterrupted`) after that many steps. Returns (model, history, config)."""
    kind = check_choice("model", kind, MODEL_KINDS)
    check_instance("task", task, RetentionTask)
    check_sizes(
        "`d`, `layers`, `batch`, `target_params`",
        kind,
        task.vocab,
        d,
        layers,
        heads,
        chunk,
        batch,
        task.length,
        target_params,
    )
    steps, seed = check_int("steps", steps), check_int("seed", seed, 0)
    check_bool("restart", restart)
    if task.length % chunk:
        raise ValueError(f"the task's sequence length ({task.length}) must be a multiple of `chunk` ({chunk})")
    model, d = _model_for(
        kind, task.vocab, d=d, layers=layers, heads=heads, chunk=chunk, target=target_params, seed=seed, decay=decay
    )
    config = {
        "model": kind,
        "d": d,
        "layers": layers,
        "heads": heads,
        "chunk": chunk,
        "vocab_size": task.vocab,
        "decay": decay_label(decay),
        "task": task.kind,
        "max_delay": task.max_delay,
        "steps": steps,
        "batch": batch,
        "learning_rate": learning_rate,
        "seed": seed,
        "params": parameter_count(model),
    }
    optimizer = sequence_optimizer(learning_rate, steps)  # checks the rate before anything is written
    loss_fn = lambda m, b: sequence_loss(m, *b)
    model, history = train(
        model,
        loss_fn,
        optimizer,
        lambda k: task.batch(k, batch),
        steps=steps,
        seed=seed,
        checkpoint=checkpoint,
        progress=progress,
        stop_after=stop_after,
        config=config,
        restart=restart,
    )
    return model, history, config


# --- task 2: character-level language modelling ------------------------------------------------------------


@eqx.filter_jit
def _window_loss(model, x, y):
    return sequence_loss(model, x, y)


def bits_per_char(model, data: CharData, *, length: int = 256, max_windows: int | None = None, batch: int = 32) -> dict:
    """Validation bits per character over all consecutive windows of `length` (each from a fresh state;
    the last batch may be smaller), and the spike rate (the mean over windows of `sequence_loss`'s rate)."""
    check_instance("data", data, CharData)
    length, batch = check_int("length", length), check_int("batch", batch)
    if max_windows is not None:
        check_int("max_windows", max_windows)
    x, y = data.val_windows(length, max_windows)
    n = x.shape[0]
    if n == 0:
        raise ValueError(
            f"the validation split ({data.val.shape[0]} characters) is shorter than one window "
            f"of `length` + 1 = {length + 1}"
        )
    total, rates = 0.0, []
    for i in range(0, n, batch):
        xb, yb = x[i : i + batch], y[i : i + batch]
        value, aux = _window_loss(model, xb, yb)
        total += float(value) * xb.shape[0]
        rates.extend([float(aux["spike_rate"])] * xb.shape[0])
    nats = total / n
    return {"val_nats": nats, "val_bpc": nats / math.log(2), "spike_rate": float(np.mean(rates)), "windows": int(n)}


_LM_SIZES = "`d`, `layers`, `batch`, `length`, `target_params`"


def _lm_config(kind, model, d, layers, heads, chunk, model_options, data, length, steps, batch, seed) -> dict:
    """A character model's configuration, saved with its checkpoint (`load_model` rebuilds the model from it)."""
    return {
        "model": kind,
        "d": d,
        "layers": layers,
        "heads": heads,
        "chunk": chunk,
        "vocab_size": len(data.vocab),
        "model_options": dict(model_options),
        "vocab": data.vocab.chars,
        "length": length,
        "steps": steps,
        "batch": batch,
        "seed": seed,
        "params": parameter_count(model),
    }


def train_lm(
    kind: str,
    data: CharData,
    *,
    d: int = 128,
    layers: int = 4,
    heads: int = 4,
    chunk: int = 64,
    target_params: int | None = None,
    steps: int = 2000,
    batch: int = 32,
    length: int = 256,
    learning_rate: float = 2e-3,
    seed: int = 0,
    checkpoint: str | None = None,
    eval_every: int = 0,
    eval_windows: int = 64,
    progress: bool = True,
    stop_after: int | None = None,
    decay=None,
    restart: bool = False,
    model_options: dict | None = None,
):
    """Train a character model on `data`; returns (model, history, config). `eval_every` > 0 records the
    validation bpc on `eval_windows` windows along the way.

    `model_options`: options of `build_model`; None gives the AstroSNN `LM_ASSUMPTIONS` (the read leaves
    the AM-SU as graded spikes into the residual stream, real-valued keys and queries from the previous
    token, "local" decays; chosen by the candidates of benchmarks/bench_astrosnn_lm_candidates.py, see
    docs/astrosnn.md) and nothing for the other kinds; `{}` gives the network's own defaults (Figure 1's
    membrane read). `decay`: the AM-SU decays' start (see `AMSU`), overriding the options' (None: the
    options', else the layer's default). Both are kept in the configuration, so that `load_model`
    rebuilds the same network. `checkpoint` makes a re-run resume; one written with another
    configuration or vocabulary is refused unless `restart`."""
    kind = check_choice("model", kind, MODEL_KINDS)
    check_instance("data", data, CharData)
    check_sizes(_LM_SIZES, kind, len(data.vocab), d, layers, heads, chunk, batch, length, target_params)
    steps, seed = check_int("steps", steps), check_int("seed", seed, 0)
    eval_every, eval_windows = check_int("eval_every", eval_every, 0), check_int("eval_windows", eval_windows)
    check_bool("restart", restart)
    if length % chunk:
        raise ValueError(f"the sequence length ({length}) must be a multiple of `chunk` ({chunk})")
    vocab = len(data.vocab)
    if model_options is None:
        model_options = dict(LM_ASSUMPTIONS) if kind == "astrosnn" else {}
    check_instance("model_options", model_options, dict, "a dict of build_model options or None")
    if decay is not None and kind in ("astrosnn", "lif"):
        model_options = {**model_options, "decay": decay_label(decay)}
    sizes = dict(d=d, layers=layers, heads=heads, chunk=chunk)
    model, d = _model_for(kind, vocab, **sizes, target=target_params, seed=seed, decay=None, options=model_options)
    config = _lm_config(kind, model, d, layers, heads, chunk, model_options, data, length, steps, batch, seed)
    config["learning_rate"] = learning_rate
    optimizer = sequence_optimizer(learning_rate, steps)  # checks the rate before anything is written
    _check_saved_vocab(checkpoint, config, restart)
    loss_fn = lambda m, b: sequence_loss(m, *b)
    eval_fn = (lambda m: bits_per_char(m, data, length=length, max_windows=eval_windows)) if eval_every else None
    sampler = lambda k: data.batch(k, batch, length)  # noqa: E731
    model, history = train(
        model,
        loss_fn,
        optimizer,
        sampler,
        steps=steps,
        seed=seed,
        checkpoint=checkpoint,
        eval_fn=eval_fn,
        eval_every=eval_every,
        progress=progress,
        stop_after=stop_after,
        config=config,
        restart=restart,
    )
    return model, history, config


def sample_text(model, vocab: Vocab, prompt: str, n: int = 300, *, seed: int = 0, temperature: float = 0.8) -> str:
    """`n` characters generated after `prompt` one token at a time (the recurrent form / the KV cache)."""
    check_sequence_model(model)
    check_instance("vocab", vocab, Vocab)
    check_instance("prompt", prompt, str, "a string")
    if not prompt:
        raise ValueError("`prompt` must hold at least one character")
    n, seed = check_int("n", n), check_int("seed", seed, 0)
    temperature = check_number("temperature", temperature, minimum=0.0, open_min=True)
    if model.vocab != len(vocab):
        raise ValueError(f"vocabulary mismatch: the model has {model.vocab} tokens, the vocabulary {len(vocab)}")
    ids = jnp.asarray(vocab.encode(prompt))
    # the temperature is an array: another value does not recompile
    return vocab.decode(generate(model, ids, int(n), jr.PRNGKey(seed), jnp.asarray(float(temperature))))


# the models of `nam astrosnn lm`: every kind of MODEL_KINDS, and the AstroSNN variants (kind, build options):
LM_VARIANTS = {
    # the language-model assumptions (`LM_ASSUMPTIONS`, see `train_lm`)
    "astrosnn": ("astrosnn", dict(LM_ASSUMPTIONS)),
    # the default before the language-model study (Figure 1's membrane read, spiking keys and queries from
    # the previous token, "wide" decays); still the network's default, used for retention
    "astrosnn-membrane": ("astrosnn", {"read": "membrane", "kq_spiking": True, "key_shift": True, "decay": "wide"}),
    "astro-attention-learned": ("astro-attention", {"learned_features": True}),  # nam.attention, trained features
    "astro-attention-sharp": ("astro-attention", {"learned_features": True, "radius": 5.0}),  # and logits to +-5
}
LM_MODELS = tuple(LM_VARIANTS) + MODEL_KINDS[1:]  # also the order of the tables


def lm_variant(name):
    """(kind, build options) of an lm model name."""
    return LM_VARIANTS.get(name, (name, {}))


def lm_assumptions(name):
    """The AM-SU assumptions an lm model name resolves to (the network's defaults with the variant's options
    applied; empty for models without astrocytes): kept with each run, so that a run made under other
    defaults is not mistaken for one of this code."""
    kind, build = lm_variant(name)
    if kind != "astrosnn":
        return {}
    unit = build_model(kind, 8, 8, 1, key=jr.PRNGKey(0), chunk=8, **build).blocks[0].unit  # tiny: only its fields
    return {
        "decays": [round(float(x), 6) for x in np.asarray(unit.decay)],
        "read": unit.read,
        "kq_spiking": unit.kq_spiking,
        "key_shift": unit.key_shift,
        "write_gate": unit.w_g is not None,
        "decay_gate": unit.w_f is not None,
        "normalise": unit.normalise,
        "read_norm": unit.read_gain is not None,
        "reset": unit.reset,
        "surrogate": unit.surrogate,
        "alpha": unit.alpha,
        "heads": unit.heads,
    }
