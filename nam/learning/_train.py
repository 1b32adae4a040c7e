"""A training loop for nam models with optax: one jitted step (batch, loss, gradient, update),
progress bar, periodic evaluation, atomic self-verifying checkpoints of parameters + optimizer state
(SHA-256 checksum and the run's configuration in the file), resume, Ctrl-C saves what is complete.

Determinism: the batch of step s is drawn from `jax.random.fold_in(key, s)`, so a run that is
interrupted and resumed from its checkpoint replays exactly the batches of an uninterrupted run and
ends with the same parameters, bit for bit (tested).
"""

import hashlib
import io
import json
import logging
import math
import os
import re
import shutil

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Int, PRNGKeyArray, PyTree
from tqdm import tqdm

from .._checks import check_bool, check_callable, check_instance, check_int, check_number, check_output_file, check_path
from .._io import atomic_write

logger = logging.getLogger(__name__)


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or inf; the checkpoint holds the last good state."""


class TrainInterrupted(RuntimeError):
    """Raised by `train(..., stop_after=...)` after saving a checkpoint (tests simulate a kill with it)."""


class TrainState(eqx.Module):
    """Everything a resumed run needs: parameters, optimizer state, the step count and the data key.

    **Fields:** `params`, `opt_state` (pytrees), `step` (0-d int32), `key` (the data key: a raw
    uint32 key, so that it can be saved in a checkpoint).
    """

    params: PyTree
    opt_state: PyTree
    step: Int[Array, ""]
    key: PRNGKeyArray


def make_optimizer(
    name: str = "adam",
    learning_rate: float | int = 1e-2,
    *,
    schedule_steps: int | None = None,
    warmup: int = 100,
    clip: float | int | None = None,
    weight_decay: float | int | None = None,
    **kwargs,
) -> optax.GradientTransformation:
    """The one optimizer factory: an optax optimizer by name, with a checked learning rate and, optionally,
    a warm-up/cosine schedule, global-norm clipping and weight decay on matrices only.

    **Arguments:**

    - `name`: any `optax.<name>` optimizer ("adam", "adamw", "sgd", "rmsprop", ...).
    - `learning_rate`: the (peak) learning rate, > 0.
    - `schedule_steps`: when given, the rate warms up linearly from 0 over min(`warmup`, steps / 10) steps,
      then decays along a cosine to a tenth of its peak at `schedule_steps` (the sequence models' schedule).
    - `warmup`: the warm-up steps of that schedule.
    - `clip`: when given, gradients are clipped to this global norm first.
    - `weight_decay`: when given (adamw), decoupled weight decay on the parameters with two or more
      dimensions only (not on biases, gains or decays).
    - `**kwargs`: passed to the optax optimizer.

    **Returns:** an `optax.GradientTransformation`.
    """
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0, open_min=True)
    check_instance("optimizer", name, str, "the name of an optax optimizer (e.g. 'adam', 'sgd')")
    factory = getattr(optax, name, None) if not name.startswith("_") else None
    if not callable(factory) or isinstance(factory, type):
        raise ValueError(f"`optimizer` must name an optax optimizer (e.g. 'adam', 'sgd'), got {name!r}")
    rate: float | optax.Schedule = learning_rate
    if schedule_steps is not None:
        steps, warmup = check_int("schedule_steps", schedule_steps), check_int("warmup", warmup, 0)
        rate = optax.warmup_cosine_decay_schedule(
            0.0, learning_rate, min(warmup, max(steps // 10, 1)), max(steps, 2), learning_rate / 10
        )
    if weight_decay is not None:
        kwargs |= {
            "weight_decay": check_number("weight_decay", weight_decay, minimum=0.0),
            "mask": lambda p: jax.tree.map(lambda x: x.ndim >= 2, p),
        }
    optimizer = factory(rate, **kwargs)
    if clip is not None:
        optimizer = optax.chain(
            optax.clip_by_global_norm(check_number("clip", clip, minimum=0.0, open_min=True)), optimizer
        )
    return _standard_promotion(optimizer)


def _standard_promotion(optimizer: optax.GradientTransformation) -> optax.GradientTransformation:
    """`optimizer` with its init and update traced under JAX's standard dtype promotion: optax's Adam mixes
    its int32 step count with Python floats, which `jax_numpy_dtype_promotion="strict"` (the test run's
    setting, and a user's choice) refuses. nam's own code is strict-clean; this scopes the exception to optax."""

    def init(params):
        with jax.numpy_dtype_promotion("standard"):
            return optimizer.init(params)

    def update(updates, state, params=None):
        with jax.numpy_dtype_promotion("standard"):
            return optimizer.update(updates, state, params)

    return optax.GradientTransformation(init, update)


# --- checkpoints that verify themselves ----------------------------------------------------------------------
#
# One file: MAGIC, the header length (8 bytes, little-endian), a JSON header (format, step, history, the
# run's configuration, the payload length), the payload (`eqx.tree_serialise_leaves` of the TrainState), then
# the SHA-256 of everything before it. A flipped byte anywhere, a truncated or an empty file fails the
# checksum and is refused; a file is written to a temporary name, read back and verified, and only then
# renamed over the checkpoint (atomic on POSIX), after the checkpoint it replaces has been kept as
# `<checkpoint>.prev` (if it verifies).

_MAGIC = b"NAM-CHECKPOINT v1\n"
_DIGEST = 32


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, truncated, empty, not a nam checkpoint, or written by a
    run with another configuration. The message is one line naming the file."""


def _blob(state: TrainState, history: list, config: dict) -> bytes:
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, state)
    payload = buf.getvalue()
    header = json.dumps(
        {"format": 1, "step": int(state.step), "config": config, "history": history, "payload_bytes": len(payload)}
    ).encode()
    body = _MAGIC + len(header).to_bytes(8, "little") + header + payload
    return body + hashlib.sha256(body).digest()


def _parse(path: str, data: bytes) -> tuple[dict, bytes]:
    """(header, payload) of a checkpoint's bytes, or a CheckpointError naming `path`."""
    if not data:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes)")
    if not data.startswith(_MAGIC):
        raise CheckpointError(
            f"checkpoint {path} is not a nam checkpoint (no header; written by another program "
            "or an older nam without checksums)"
        )
    start = len(_MAGIC) + 8
    if len(data) < start + _DIGEST:
        raise CheckpointError(f"checkpoint {path} is truncated ({len(data)} bytes)")
    n_header = int.from_bytes(data[len(_MAGIC) : start], "little")
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        if start + n_header + _DIGEST > len(data):
            raise CheckpointError(f"checkpoint {path} is truncated ({len(data)} bytes) or corrupt: checksum mismatch")
        raise CheckpointError(f"checkpoint {path} is corrupt: SHA-256 checksum mismatch")
    try:
        header = json.loads(data[start : start + n_header])
        payload = data[start + n_header : -_DIGEST]
        ok = (
            isinstance(header, dict)
            and header.get("format") == 1
            and header.get("payload_bytes") == len(payload)
            and isinstance(header.get("config"), dict)
            and isinstance(header.get("history"), list)
            and isinstance(header.get("step"), int)
        )
    except ValueError:
        ok = False
    if not ok:
        raise CheckpointError(f"checkpoint {path} has an unreadable header")
    return header, payload


def _read(path: str) -> tuple[dict, bytes]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f"checkpoint {path} cannot be read ({e.strerror or e})") from None
    return _parse(path, data)


def _verifies(path: str) -> bool:
    try:
        _read(path)
    except CheckpointError:
        return False
    return True


def checkpoint_config(path: str) -> dict:
    """The configuration saved in a checkpoint written by `train` (verified by its checksum first).

    **Raises:** `CheckpointError` (one line naming the file) if the file is corrupt, truncated, empty or
    not a nam checkpoint; FileNotFoundError if there is none.

    **Arguments:** `path`: the checkpoint file.

    **Returns:** the configuration dict.
    """
    path = check_path("path", path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint {path}")
    return _read(path)[0]["config"]


def load_checkpoint(path: str, template: TrainState) -> tuple[TrainState, list, dict]:
    """(state, history, config) of a checkpoint written by `train`, verified against its SHA-256 checksum
    and deserialised into the structure of `template` (a TrainState of the same model and optimizer).

    **Raises:** `CheckpointError` (one line naming the file) if it is corrupt, truncated, empty, not a nam
    checkpoint, or holds arrays of other shapes than `template`.

    **Arguments:** `path`: the checkpoint file; `template`: a `TrainState` of the same structure.

    **Returns:** `(state, history, config)`.
    """
    path = check_path("path", path)
    check_instance("template", template, TrainState)
    header, payload = _read(path)
    try:
        state = eqx.tree_deserialise_leaves(io.BytesIO(payload), template)
    except Exception as e:  # equinox/numpy raise several types for a mismatched structure
        raise CheckpointError(
            f"checkpoint {path} does not match this model and optimizer "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
        ) from None
    if int(state.step) != header["step"]:
        raise CheckpointError(
            f"checkpoint {path} is inconsistent: header step {header['step']}, state step {int(state.step)}"
        )
    history = [h for h in header["history"] if h["step"] < int(state.step)]
    return state, history, header["config"]


def save_checkpoint(path: str, state: TrainState, history: list, config: dict) -> None:
    """Write a verified checkpoint atomically (`nam._io.atomic_write`); the one it replaces is kept as
    `<path>.prev` if it verifies. The new file is read back and checked before it replaces anything, so a
    failed write (full disk, I/O error) leaves the previous checkpoint in place."""

    def verify_and_keep_previous(tmp):
        _read(tmp)  # what reached the disk verifies
        if os.path.exists(path) and _verifies(path):
            prev_tmp = f"{path}.prev.tmp{os.getpid()}"
            try:
                os.link(path, prev_tmp)
            except OSError:
                shutil.copyfile(path, prev_tmp)
            os.replace(prev_tmp, f"{path}.prev")

    atomic_write(path, _blob(state, history, config), before_replace=verify_and_keep_previous, sync_dir=True)


def _structure(state: TrainState) -> str:
    """A fingerprint of the arrays a checkpoint holds (tree structure, shapes, dtypes)."""
    arrays, _ = eqx.partition(state, eqx.is_array)
    leaves, treedef = jax.tree.flatten(arrays)
    # memory addresses (of functions held in static fields) differ between processes: left out
    text = re.sub(r"0x[0-9a-fA-F]+", "", str(treedef)) + ";" + ";".join(f"{x.shape}{x.dtype}" for x in leaves)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _config_diff(saved: dict, now: dict) -> dict:
    keys = sorted(set(saved) | set(now))
    return {k: (saved.get(k), now.get(k)) for k in keys if saved.get(k) != now.get(k)}


def _interrupted(step: int, steps: int, checkpoint: str | None) -> str:
    where = (
        "(no checkpoint: nothing saved)" if checkpoint is None else f"; the completed steps are saved in {checkpoint}"
    )
    return f"training interrupted at step {step} of {steps}{' ' if checkpoint is None else ''}{where}"


def _step_function(loss_fn, optimizer, sample_batch):
    """One optax step, jitted: the batch of step s from the run's key folded with s, the loss of the
    parameters before the update, the updated state."""

    @eqx.filter_jit
    def step_fn(state):
        batch = sample_batch(jr.fold_in(state.key, state.step))
        (loss, _), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(state.params, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, eqx.filter(state.params, eqx.is_array))
        params = eqx.apply_updates(state.params, updates)
        return TrainState(params=params, opt_state=opt_state, step=state.step + 1, key=state.key), loss

    return step_fn


def _run_steps(
    state,
    history: list,
    step_fn,
    save,
    *,
    steps,
    stop_after,
    eval_fn,
    eval_every,
    checkpoint_every,
    progress,
    checkpoint,
):
    """`train`'s loop: steps until `steps` (appending one record per step to `history`), saving every
    `checkpoint_every` steps; a non-finite loss, `stop_after` and Ctrl-C save and raise. Returns the state."""
    start = int(state.step)
    done_now = 0
    bar = tqdm(total=steps, initial=min(start, steps), desc="train", disable=not progress)
    try:
        while int(state.step) < steps:
            if stop_after is not None and done_now >= stop_after:
                save(state, history)
                raise TrainInterrupted(f"stopped after {done_now} steps (step {int(state.step)})")
            new_state, loss = step_fn(state)
            loss = float(loss)
            if not math.isfinite(loss):
                save(state, history)
                where = f"; the last good state (step {int(state.step)}) is in {checkpoint}" if checkpoint else ""
                raise NonFiniteLoss(f"the loss became {loss} at step {int(state.step)}{where}")
            record = {"step": int(state.step), "loss": loss}  # the loss of the parameters before this update
            if eval_fn is not None and eval_every and int(state.step) % eval_every == 0:
                record.update({k: float(v) for k, v in eval_fn(state.params).items()})
            # the record first: interrupted between the two lines, the loaded history drops it (step >= state.step)
            history.append(record)
            state = new_state
            done_now += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4g}")
            if int(state.step) % checkpoint_every == 0:
                save(state, history)
    except KeyboardInterrupt:
        bar.close()
        save(state, history)
        raise KeyboardInterrupt(_interrupted(int(state.step), steps, checkpoint)) from None
    finally:
        bar.close()
    return state


def _check_counts(steps, seed, checkpoint_every, eval_every, stop_after, progress, restart) -> None:
    """`train`'s counts and flags checked before any work."""
    check_int("steps", steps)
    check_int("seed", seed, 0)
    check_int("checkpoint_every", checkpoint_every)
    check_int("eval_every", eval_every, 0)
    if stop_after is not None:
        check_int("stop_after", stop_after, 0)
    check_bool("progress", progress)
    check_bool("restart", restart)


def _check_train(params, loss_fn, optimizer, sample_batch, eval_fn, config, checkpoint) -> tuple[dict, str | None]:
    """`train`'s functions, parameters, configuration and checkpoint path checked before any work; returns
    (config as it reads back from JSON, checkpoint)."""
    check_callable("loss_fn", loss_fn)
    check_callable("sample_batch", sample_batch)
    if eval_fn is not None:
        check_callable("eval_fn", eval_fn)
    check_instance("optimizer", optimizer, optax.GradientTransformation)
    if not jax.tree.leaves(eqx.filter(params, eqx.is_inexact_array)):
        raise ValueError("`params` must hold at least one floating-point array to train")
    check_instance("config", {} if config is None else config, dict, "a dict")
    try:
        config = json.loads(json.dumps(config or {}))  # as it will read back from the checkpoint (tuples -> lists)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`config` must be JSON-serialisable ({e})") from None
    return config, None if checkpoint is None else check_output_file("checkpoint", checkpoint)


def _resume(checkpoint: str, state: "TrainState", saved_config: dict) -> tuple["TrainState", list]:
    """The state and history of `checkpoint`, refused (`CheckpointError`) if it was written with another
    configuration."""
    header = _read(checkpoint)[0]
    diff = _config_diff(header["config"].get("run", {}), saved_config["run"])
    diff.update(_config_diff(header["config"].get("train", {}), saved_config["train"]))
    if diff:
        raise CheckpointError(
            f"checkpoint {checkpoint} was written with another configuration (saved, now): "
            f"{diff}; use another path, or restart=True (--restart) to overwrite it"
        )
    state, history, _ = load_checkpoint(checkpoint, state)
    return state, history


def train(
    params,
    loss_fn,
    optimizer,
    sample_batch,
    *,
    steps,
    seed=0,
    checkpoint=None,
    checkpoint_every=50,
    eval_fn=None,
    eval_every=0,
    progress=True,
    stop_after=None,
    config=None,
    restart=False,
):
    """Minimise `loss_fn(params, batch) -> (loss, aux)` for `steps` optax steps.

    **Arguments:**

    - `loss_fn(params, batch) -> (loss, aux)`; `optimizer`: an optax `GradientTransformation`; `steps`: the
      number of steps; `seed`: the data key's seed; `checkpoint_every`, `eval_every`, `progress`,
      `stop_after` (tests: stop after that many steps), `restart`: as below.
    - `params`: any pytree/equinox Module; its floating arrays are trained.
    - `sample_batch(key) -> batch`: draws the batch of one step (jit-able).
    - `checkpoint`: a file path (its folder is created if missing). If it exists, training resumes from it
      (same result as an uninterrupted run); it is rewritten atomically every `checkpoint_every` steps and
      at the end, and verified on load (SHA-256): a corrupt, truncated or empty checkpoint is refused with
      `CheckpointError`, never used. The checkpoint it replaces is kept as `<checkpoint>.prev`.
    - `config`: a JSON-able dict describing the run (hyperparameters, data); it is saved in the checkpoint
      with `steps`, `seed` and the shapes of the trained arrays, and a checkpoint saved with another one is
      refused (`CheckpointError`) unless `restart=True`, which starts afresh and overwrites it.
    - `eval_fn(params) -> dict of floats`, run on the parameters of every step s with s % `eval_every`
      == 0 (0: never) and on the final parameters (a last record with "step" = `steps` and no "loss").
    - A non-finite loss stops training with `NonFiniteLoss`; the checkpoint then holds the last
      state whose loss was finite, and the bad update is not applied.
    - Ctrl-C (KeyboardInterrupt) saves every completed step to the checkpoint, then re-raises
      KeyboardInterrupt with a message saying where the run stopped; calling `train` again resumes.

    **Returns:** `(params, history)`: the trained parameters, and one dict per step s with "step", "loss"
    (of the parameters before update s) and the eval results, plus the final eval record.
    """
    _check_counts(steps, seed, checkpoint_every, eval_every, stop_after, progress, restart)
    config, checkpoint = _check_train(params, loss_fn, optimizer, sample_batch, eval_fn, config, checkpoint)
    state = TrainState(
        params=params,
        opt_state=optimizer.init(eqx.filter(params, eqx.is_array)),
        step=jnp.asarray(0, jnp.int32),
        key=jr.PRNGKey(seed),
    )
    saved_config = {"run": config, "train": {"steps": steps, "seed": seed, "arrays": _structure(state)}}
    history: list = []
    if checkpoint is not None and os.path.exists(checkpoint) and not restart:
        state, history = _resume(checkpoint, state, saved_config)
        logger.info("train: resuming from %s at step %d of %d", checkpoint, int(state.step), steps)

    def save(state, history):
        if checkpoint is not None:
            save_checkpoint(checkpoint, state, history, saved_config)

    step_fn = _step_function(loss_fn, optimizer, sample_batch)

    state = _run_steps(
        state,
        history,
        step_fn,
        save,
        steps=steps,
        stop_after=stop_after,
        eval_fn=eval_fn,
        eval_every=eval_every,
        checkpoint_every=checkpoint_every,
        progress=progress,
        checkpoint=checkpoint,
    )
    if eval_fn is not None:  # step records hold pre-update steps and load drops a final record: no duplicate
        history.append({"step": int(state.step), **{k: float(v) for k, v in eval_fn(state.params).items()}})
    save(state, history)
    return state.params, history
