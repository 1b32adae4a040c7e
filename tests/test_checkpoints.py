"""Checkpoints verify themselves (issue 16, part 2): a corrupt, truncated or empty checkpoint is refused in
one line naming the file; the previous good checkpoint is kept; a run with another configuration is refused
unless it restarts; results.json describes the run that produced it; Ctrl-C saves and exits 130."""

import json
import os
import signal
import subprocess
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import nam
from nam._cli import main
from nam.learning import CheckpointError, TrainState, load_checkpoint, make_optimizer, train


class Quadratic(eqx.Module):
    w: jax.Array


def _problem():
    """A tiny problem that trains in milliseconds: fit w to a noisy target."""
    target = jnp.arange(4.0)

    def loss_fn(p, batch):
        return jnp.mean((p.w - target - batch) ** 2), None

    return Quadratic(jnp.zeros(4)), loss_fn, lambda key: 0.01 * jr.normal(key, (4,))


def _run(path, **kw):
    params, loss_fn, sample = _problem()
    kw = {"steps": 6, "progress": False, "checkpoint": str(path), "checkpoint_every": 2, **kw}
    return train(params, loss_fn, make_optimizer("adam", kw.pop("lr", 0.1)), sample, **kw)


def _template():
    params, _, _ = _problem()
    return TrainState(
        params=params, opt_state=optax.adam(0.1).init(params), step=jnp.asarray(0, jnp.int32), key=jr.PRNGKey(0)
    )


def _one_line(message, path):
    assert str(path) in message and "\n" not in message


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_damaged_checkpoint_is_refused_naming_the_file(tmp_path, damage):
    path = tmp_path / "ckpt.eqx"
    _run(path)
    data = bytearray(path.read_bytes())
    if damage == "flip":  # 16 bytes in the middle: the old format resumed silently from a wrong model
        mid = len(data) // 2
        data[mid : mid + 16] = bytes(b ^ 0xFF for b in data[mid : mid + 16])
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"not a checkpoint at all" * 10)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        _run(path, steps=8)
    _one_line(str(info.value), path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(str(path), _template())
    _one_line(str(info.value), path)
    assert path.read_bytes() == bytes(data)  # the refused file is left as it was, for the user to look at


def test_previous_good_checkpoint_is_kept_and_loads(tmp_path):
    path = tmp_path / "ckpt.eqx"
    _run(path)
    prev = tmp_path / "ckpt.eqx.prev"
    assert prev.exists()
    state, history, _ = load_checkpoint(str(prev), _template())
    assert int(state.step) == 6 and [h["step"] for h in history] == list(range(6))  # the last periodic save
    final, _, _ = load_checkpoint(str(path), _template())
    assert int(final.step) == 6
    # a corrupt current checkpoint is never promoted to .prev by the next save
    path.write_bytes(path.read_bytes()[:-5])
    good_prev = prev.read_bytes()
    _run(path, restart=True)
    assert prev.read_bytes() == good_prev


def test_failed_write_leaves_the_checkpoint_in_place(tmp_path, monkeypatch):
    from nam.learning import _train

    path = tmp_path / "ckpt.eqx"
    _run(path)
    before = path.read_bytes()
    real = _train._blob
    monkeypatch.setattr(_train, "_blob", lambda *a: real(*a)[:-7])  # a short write: the read-back check fails
    with pytest.raises(CheckpointError):
        _run(path, restart=True)
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]


def test_other_configuration_is_refused_unless_restart(tmp_path):
    path = tmp_path / "ckpt.eqx"
    _run(path, config={"lr": 0.1})
    with pytest.raises(CheckpointError, match="another configuration") as info:
        _run(path, seed=1, config={"lr": 0.05})
    assert "seed" in str(info.value) and "lr" in str(info.value)
    _one_line(str(info.value), path)
    with pytest.raises(CheckpointError, match="steps"):
        _run(path, steps=7, config={"lr": 0.1})
    params, history = _run(path, seed=1, config={"lr": 0.05}, restart=True)
    _, _, config = load_checkpoint(str(path), _template())
    assert config["run"] == {"lr": 0.05} and config["train"]["seed"] == 1


def test_ctrl_c_saves_completed_steps_and_resumes(tmp_path, monkeypatch):
    """Ctrl-C (a KeyboardInterrupt from the 4th step) saves steps 0..2; the next call resumes and ends with
    the parameters of an uninterrupted run."""
    full, _ = _run(tmp_path / "full.eqx")
    params, loss_fn, sample = _problem()
    calls = {"n": 0}

    def interrupting(p, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return loss_fn(p, batch)

    path = tmp_path / "ckpt.eqx"
    opt = make_optimizer("adam", 0.1)
    with pytest.raises(KeyboardInterrupt, match="step 3 of 6.*saved in"):
        # not jitted per call: the loss is traced once, so count traces by disabling jit
        with jax.disable_jit():
            train(
                params, interrupting, opt, sample, steps=6, progress=False, checkpoint=str(path), checkpoint_every=100
            )
    state, history, _ = load_checkpoint(str(path), _template())
    assert int(state.step) == 3 and [h["step"] for h in history] == [0, 1, 2]
    resumed, _ = train(params, loss_fn, opt, sample, steps=6, progress=False, checkpoint=str(path), checkpoint_every=2)
    np.testing.assert_allclose(resumed.w, full.w, rtol=1e-6)


def test_train_creates_a_missing_checkpoint_folder_and_refuses_a_file_as_folder(tmp_path):
    _run(tmp_path / "a" / "b" / "ckpt.eqx", steps=1)
    assert (tmp_path / "a" / "b" / "ckpt.eqx").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        _run(tmp_path / "file" / "ckpt.eqx", steps=1)


@pytest.mark.slow  # long: run with -m slow
def test_cli_learn_refuses_other_options_over_a_checkpoint(tmp_path, capsys):
    """`nam learn` then `nam learn --seed 1 --lr 0.05 --steps 100` into the same folder: refused in one line
    (before: the old model was reused and results.json recorded the new settings); --restart runs it."""
    out = str(tmp_path)
    base = ["learn", "--trials", "2", "--batch", "2", "--out", out, "--no-progress"]
    assert main(base + ["--steps", "2"]) == 0
    first = json.loads((tmp_path / "results.json").read_text())
    assert first["settings"]["steps"] == 2 and first["settings"]["seed"] == 0
    capsys.readouterr()
    assert main(base + ["--seed", "1", "--lr", "0.05", "--steps", "100"]) == 2
    err = capsys.readouterr().err.strip()
    assert "another configuration" in err and "checkpoint.eqx" in err and "--restart" in err
    assert len(err.splitlines()) == 1
    assert json.loads((tmp_path / "results.json").read_text()) == first  # untouched
    assert main(base + ["--seed", "1", "--lr", "0.05", "--steps", "3", "--restart"]) == 0
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["settings"] == {**first["settings"], "seed": 1, "learning_rate": 0.05, "steps": 3}
    assert len(result["history"]) == 3


@pytest.mark.slow  # long: run with -m slow
def test_cli_learn_refuses_a_corrupt_checkpoint_in_one_line(tmp_path, capsys):
    out = str(tmp_path)
    args = ["learn", "--steps", "2", "--trials", "2", "--batch", "2", "--out", out, "--no-progress"]
    assert main(args) == 0
    ckpt = tmp_path / "checkpoint.eqx"
    data = bytearray(ckpt.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 16] = bytes(16)
    ckpt.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(ckpt) in err and "corrupt" in err


@pytest.mark.slow  # long: run with -m slow
def test_astrosnn_checkpoint_refused_when_corrupt(tmp_path):
    from nam.astrosnn import CharData, load_model, train_lm

    text = "To be, or not to be, that is the question:\n" * 40
    data = CharData(text)
    ckpt = tmp_path / "lm.eqx"
    train_lm("lif", data, d=8, layers=1, chunk=16, length=32, batch=2, steps=2, progress=False, checkpoint=str(ckpt))
    load_model(str(ckpt), data.vocab)
    raw = bytearray(ckpt.read_bytes())
    raw[len(raw) // 2] ^= 1
    ckpt.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError) as info:
        load_model(str(ckpt))
    _one_line(str(info.value), ckpt)
    with pytest.raises(CheckpointError):
        train_lm(
            "lif", data, d=8, layers=1, chunk=16, length=32, batch=2, steps=2, progress=False, checkpoint=str(ckpt)
        )
    train_lm(
        "lif",
        data,
        d=8,
        layers=1,
        chunk=16,
        length=32,
        batch=2,
        steps=2,
        progress=False,
        checkpoint=str(ckpt),
        restart=True,
    )
    load_model(str(ckpt), data.vocab)


_SIGINT_SCRIPT = """
import sys, time
import jax.numpy as jnp, jax.random as jr
import equinox as eqx
from nam.learning import make_optimizer, train

class P(eqx.Module):
    w: jnp.ndarray

def loss_fn(p, batch):
    return jnp.mean((p.w - batch) ** 2), None

def sample(key):
    return jr.normal(key, (4,))

started = []

def slow_loss(p, b):
    if not started:  # the training loop runs: from here on, Ctrl-C must save
        started.append(1)
        print("ready", flush=True)
    time.sleep(0.02)
    return loss_fn(p, b)

try:
    train(P(jnp.zeros(4)), slow_loss, make_optimizer("adam", 0.1), sample, steps=100000, progress=False,
          checkpoint=sys.argv[1], checkpoint_every=10**9)
except KeyboardInterrupt as e:
    print("interrupted:", e, flush=True)
    sys.exit(130)
"""


def test_sigint_in_a_subprocess_saves_the_checkpoint(tmp_path):
    """A real SIGINT: the training loop (not jitted here, so each step takes 20 ms of Python) saves the
    completed steps and exits 130."""
    ckpt = tmp_path / "ckpt.eqx"
    script = tmp_path / "run.py"
    script.write_text(_SIGINT_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ckpt)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JAX_DISABLE_JIT": "1"},
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: training interrupted at step" in out and str(ckpt) in out
    header = nam.learning.checkpoint_config(str(ckpt))
    assert header["train"]["steps"] == 100000


class _BarThatInterrupts:
    """Stands in for tqdm in `train`: Ctrl-C arrives after `after` completed steps."""

    def __init__(self, *args, after=2, **kwargs):
        self.n, self.after = 0, after

    def update(self, n):
        self.n += n
        if self.n == self.after:
            raise KeyboardInterrupt

    def set_postfix(self, **kwargs):
        pass

    def close(self):
        pass


@pytest.mark.slow  # long: run with -m slow
def test_cli_learn_ctrl_c_saves_prints_one_line_and_exits_130(tmp_path, capsys, monkeypatch):
    from nam.learning import _train

    out = str(tmp_path)
    args = ["learn", "--steps", "4", "--trials", "2", "--batch", "2", "--out", out, "--no-progress"]
    monkeypatch.setattr(_train, "tqdm", _BarThatInterrupts)
    assert main(args) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "interrupted" in err and "run the same command again" in err
    assert "checkpoint.eqx" in err and not (tmp_path / "results.json").exists()
    header = nam.learning.checkpoint_config(str(tmp_path / "checkpoint.eqx"))
    assert header["train"]["steps"] == 4
    monkeypatch.undo()
    assert main(args) == 0  # resumes from step 2
    result = json.loads((tmp_path / "results.json").read_text())
    assert [h["step"] for h in result["history"]] == [0, 1, 2, 3]


@pytest.mark.slow  # long: run with -m slow
def test_cli_astrosnn_ctrl_c_keeps_finished_models_and_resumes(tmp_path, capsys, monkeypatch):
    from nam.experiments import astrosnn_retention as ex

    out = str(tmp_path / "ret")
    args = [
        "astrosnn",
        "retention",
        "--tasks",
        "recall",
        "--models",
        "astrosnn,lif",
        "--steps",
        "2",
        "--d",
        "8",
        "--max-delay",
        "8",
        "--out",
        out,
        "--no-progress",
    ]
    real = ex.train_retention

    def interrupt_lif(kind, *a, **kw):
        if kind == "lif":
            raise KeyboardInterrupt("training interrupted at step 1 of 2; the completed steps are saved in x")
        return real(kind, *a, **kw)

    monkeypatch.setattr(ex, "train_retention", interrupt_lif)
    assert main(args) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "interrupted" in err and "to resume" in err
    saved = json.loads((tmp_path / "ret" / "retention.json").read_text())
    assert list(saved) == ["recall/astrosnn"]
    monkeypatch.undo()
    assert main(args) == 0
    resumed = json.loads((tmp_path / "ret" / "retention.json").read_text())
    assert resumed["recall/astrosnn"] == saved["recall/astrosnn"] and "recall/lif" in resumed


def test_cli_gordleeva_ctrl_c_keeps_finished_experiments_and_resumes(tmp_path, capsys, monkeypatch):
    from nam.experiments import gordleeva as gx
    from nam.spiking import _curves as ex

    fake = {"noise_curve": {"fake": 1}, "lifetime": {"fake": 2}}
    calls = []

    def noise(*a, **kw):
        calls.append("noise")
        return fake["noise_curve"]

    def lifetime(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(ex, "noise_curve", noise)
    monkeypatch.setattr(ex, "lifetime", lifetime)
    monkeypatch.setattr(ex, "example_run", lambda *a, **kw: {})
    monkeypatch.setattr(gx, "format_results", lambda results: "table")
    monkeypatch.setattr(gx, "write_figures", lambda *a: [])
    args = ["gordleeva", "--experiments", "noise,lifetime", "--trials", "1", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "results.json" in err and "run the same command again" in err
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["noise_curve"] == {"fake": 1} and "lifetime" not in saved and saved["complete"] is False
    monkeypatch.setattr(ex, "lifetime", lambda *a, **kw: fake["lifetime"])
    assert main(args) == 0
    assert calls == ["noise"]  # not run again
    done = json.loads((tmp_path / "results.json").read_text())
    assert done["complete"] is True and done["lifetime"] == {"fake": 2} and done["settings"]["trials"] == 1
    # other settings: nothing is reused
    assert main(args[:-3] + ["--seed", "3", "--out", str(tmp_path), "--no-progress"]) == 0
    assert calls == ["noise", "noise"]
