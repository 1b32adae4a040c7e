"""A training loop for nam models with optax: one jitted step (batch, loss, gradient, update),
progress bar, periodic evaluation, atomic checkpoints of parameters + optimizer state, resume.

Determinism: the batch of step s is drawn from `jax.random.fold_in(key, s)`, so a run that is
interrupted and resumed from its checkpoint replays exactly the batches of an uninterrupted run and
ends with the same parameters, bit for bit (tested).
"""

import json
import math
import os

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Int, PRNGKeyArray, PyTree
from tqdm import tqdm


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or inf; the checkpoint holds the last good state."""


class TrainInterrupted(RuntimeError):
    """Raised by `train(..., stop_after=...)` after saving a checkpoint (tests simulate a kill with it)."""


class TrainState(eqx.Module):
    """Everything a resumed run needs: parameters, optimizer state, the step count and the data key."""

    params: PyTree
    opt_state: PyTree
    step: Int[Array, ""]
    key: PRNGKeyArray


def make_optimizer(name="adam", learning_rate=1e-2, **kwargs) -> optax.GradientTransformation:
    """An optax optimizer by name ("adam", "adamw", "sgd", "rmsprop", ...: any `optax.<name>`), with a
    checked learning rate."""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not (
            math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"`learning_rate` must be a positive number, got {learning_rate!r}")
    factory = getattr(optax, name, None)
    if not callable(factory):
        raise ValueError(f"`optimizer` must name an optax optimizer (e.g. 'adam', 'sgd'), got {name!r}")
    return factory(learning_rate, **kwargs)


def _save(path: str, state: TrainState, history: list) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        eqx.tree_serialise_leaves(f, state)
        f.flush()
        os.fsync(f.fileno())
    meta_tmp = f"{path}.json.tmp{os.getpid()}"
    with open(meta_tmp, "w") as f:
        json.dump({"step": int(state.step), "history": history}, f)
    os.replace(meta_tmp, f"{path}.json")
    os.replace(tmp, path)  # the state file is replaced last: a present state file always has its meta


def _load(path: str, template: TrainState) -> tuple[TrainState, list]:
    with open(path, "rb") as f:
        state = eqx.tree_deserialise_leaves(f, template)
    with open(f"{path}.json") as f:
        meta = json.load(f)
    history = [h for h in meta["history"] if h["step"] < int(state.step)]
    return state, history


def train(params, loss_fn, optimizer, sample_batch, *, steps, seed=0, checkpoint=None, checkpoint_every=50,
          eval_fn=None, eval_every=0, progress=True, stop_after=None):
    """Minimise `loss_fn(params, batch) -> (loss, aux)` for `steps` optax steps.

    - `params`: any pytree/equinox Module; its floating arrays are trained.
    - `sample_batch(key) -> batch`: draws the batch of one step (jit-able).
    - `checkpoint`: a file path. If it exists, training resumes from it (same result as an uninterrupted
      run); it is rewritten atomically every `checkpoint_every` steps and at the end.
    - `eval_fn(params) -> dict of floats`, run on the parameters of every step s with s % `eval_every`
      == 0 (0: never) and on the final parameters (a last record with "step" = `steps` and no "loss").
    - A non-finite loss stops training with `NonFiniteLoss`; the checkpoint then holds the last
      state whose loss was finite, and the bad update is not applied.

    Returns (params, history): one dict per step s with "step", "loss" (of the parameters before update
    s) and the eval results, plus the final eval record.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"`checkpoint_every` must be a positive integer, got {checkpoint_every!r}")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(f"`optimizer` must be an optax GradientTransformation, got {type(optimizer).__name__}")
    state = TrainState(params=params, opt_state=optimizer.init(eqx.filter(params, eqx.is_array)),
                       step=jnp.asarray(0, jnp.int32), key=jr.PRNGKey(seed))
    history: list = []
    if checkpoint is not None and os.path.exists(checkpoint):
        state, history = _load(checkpoint, state)

    @eqx.filter_jit
    def step_fn(state):
        batch = sample_batch(jr.fold_in(state.key, state.step))
        (loss, _), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(state.params, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, eqx.filter(state.params, eqx.is_array))
        params = eqx.apply_updates(state.params, updates)
        return TrainState(params=params, opt_state=opt_state, step=state.step + 1, key=state.key), loss

    start = int(state.step)
    done_now = 0
    bar = tqdm(total=steps, initial=min(start, steps), desc="train", disable=not progress)
    try:
        while int(state.step) < steps:
            if stop_after is not None and done_now >= stop_after:
                if checkpoint is not None:
                    _save(checkpoint, state, history)
                raise TrainInterrupted(f"stopped after {done_now} steps (step {int(state.step)})")
            new_state, loss = step_fn(state)
            loss = float(loss)
            if not math.isfinite(loss):
                if checkpoint is not None:
                    _save(checkpoint, state, history)
                where = f"; the last good state (step {int(state.step)}) is in {checkpoint}" if checkpoint else ""
                raise NonFiniteLoss(f"the loss became {loss} at step {int(state.step)}{where}")
            record = {"step": int(state.step), "loss": loss}  # the loss of the parameters before this update
            if eval_fn is not None and eval_every and int(state.step) % eval_every == 0:
                record.update({k: float(v) for k, v in eval_fn(state.params).items()})
            state = new_state
            done_now += 1
            history.append(record)
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4g}")
            if checkpoint is not None and int(state.step) % checkpoint_every == 0:
                _save(checkpoint, state, history)
    finally:
        bar.close()
    if eval_fn is not None:  # step records hold pre-update steps and _load drops a final record: no duplicate
        history.append({"step": int(state.step), **{k: float(v) for k, v in eval_fn(state.params).items()}})
    if checkpoint is not None:
        _save(checkpoint, state, history)
    return state.params, history
