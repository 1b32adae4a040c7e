"""AstroSNN networks and tasks (issue 6): every model's training form against its one-token-at-a-time
form, parameter counts against their formula, the retention tasks against a plain-Python reading of their
definition, the character vocabulary, checkpoints (resume, vocabulary mismatch), bad input, and one
learning result with a known answer (associative recall over a short delay is solved)."""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from nam._cli import main
from nam.astrosnn import (
    AMSU,
    MODEL_KINDS,
    AstroSNN,
    CharData,
    RetentionTask,
    Vocab,
    build_model,
    load_model,
    match_width,
    parameter_count,
    retention_accuracy,
    sample_text,
    train_lm,
    train_retention,
)
from nam.learning import TrainInterrupted

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 40


def _by_steps(model, tokens, capacity):
    state = model.init_state(capacity)

    def body(state, tok):
        logits, state = model.step(state, tok)
        return state, logits

    return jax.lax.scan(body, state, tokens)[1]


@pytest.mark.slow  # ~8 s on 2 cores: the default run stays under 10 minutes
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_training_form_equals_token_by_token_form(kind, getkey):
    model = build_model(kind, 11, 16, 2, key=getkey(), heads=2, chunk=8)
    tokens = jr.randint(getkey(), (32,), 0, 11)
    logits, rates = model(tokens)
    np.testing.assert_allclose(_by_steps(model, tokens, 32), logits, rtol=1e-10, atol=1e-10)
    if kind in ("astrosnn", "lif"):
        np.testing.assert_array_equal(model(tokens, form="recurrent")[0], logits)
        assert rates.shape == (2, 2) and bool(jnp.all((rates > 0) & (rates < 1)))
    else:
        assert rates.shape == (0, 2)


@pytest.mark.slow  # ~8 s on 2 cores: the default run stays under 10 minutes
def test_amsu_step_equals_recurrent_with_key_shift_and_normaliser(getkey):
    for kw in (dict(key_shift=True), dict(key_shift=True, normalise=True, read_norm=False), dict(kq_spiking=True)):
        layer = AMSU(6, 8, key=getkey(), heads=2, **kw)
        x = jr.normal(getkey(), (24, 6))
        state, out = layer.init_state(), []
        for t in range(24):
            s, state = layer.step(state, x[t])
            out.append(s)
        np.testing.assert_array_equal(jnp.stack(out), layer.recurrent(x))
        np.testing.assert_array_equal(layer.parallel(x, 8), layer.recurrent(x))


def test_key_shift_binds_a_token_to_its_predecessor(getkey):
    """With key_shift the write at t is v_t k_{t-1}^T: compare the read-out with H built by hand."""
    layer = AMSU(5, 4, key=getkey(), heads=1, decay=1.0, key_shift=True, read_norm=False)
    x = jr.normal(getkey(), (3, 5))
    _, k, v, q = layer._projections(x)
    kk = np.asarray(x) @ np.asarray(layer.w_k).T
    np.testing.assert_allclose(k[:, 0], np.vstack([np.zeros(4), kk[:2]]), atol=1e-12)
    lam = float(layer.decay[0])  # decay 1 is held as sigmoid(raw) = 1 - 1e-6
    h = lam * np.outer(np.asarray(v[1, 0]), kk[0]) + np.outer(np.asarray(v[2, 0]), kk[1])
    np.testing.assert_allclose(layer.read_recurrent(k, v, q)[2], h @ np.asarray(q[2, 0]), atol=1e-10)


@pytest.mark.slow  # ~8 s on 2 cores: the default run stays under 10 minutes
def test_parameter_count_formula_and_matching():
    v, d, layers, heads, ffn = 65, 32, 3, 4, 4
    model = AstroSNN(v, d, layers, key=jr.PRNGKey(0), heads=heads)
    # embedding + read-out + final norm; per block: 2 norms, W_i W_k W_v W_q, decays, read gain, beta,
    # theta, W_o, W_1 b_1 W_2
    per_block = 2 * 2 * d + 4 * d * d + heads + d + 2 + d * d + ffn * d * d + ffn * d + ffn * d * d
    assert parameter_count(model) == 2 * v * d + 2 * d + layers * per_block
    lif = build_model("lif", v, d, layers, key=jr.PRNGKey(0))
    assert parameter_count(model) - parameter_count(lif) == layers * (3 * d * d + heads + d)
    target = parameter_count(model)
    for kind in MODEL_KINDS:
        n = parameter_count(build_model(kind, v, match_width(kind, v, target, layers), layers, key=jr.PRNGKey(0)))
        assert abs(n - target) / target < 0.08, kind


def test_retention_tasks_follow_their_definition():
    recall = RetentionTask("recall", 40, multiple=16)
    assert recall.length % 16 == 0 and recall.length >= 40 + 12
    for delay in (0, 7, 40):
        tokens, targets, mask = (np.asarray(a) for a in recall.sample(jr.PRNGKey(delay), delay))
        t = recall.length
        pairs = tokens[t - 4 - delay - 8 : t - 4 - delay].reshape(4, 2)
        assert np.all(tokens[: t - 12 - delay] == 0) and np.all(tokens[t - 4 - delay : t - 4] == 0)
        lookup = dict(pairs.tolist())
        assert len(lookup) == 4 and all(2 <= k < 18 for k in lookup) and all(18 <= x < 34 for x in lookup.values())
        assert sorted(tokens[-4:].tolist()) == sorted(lookup)
        assert targets[-4:].tolist() == [lookup[k] for k in tokens[-4:]]
        assert mask.sum() == 4 and mask[-4:].all()
    copy = RetentionTask("copy", 20, multiple=8, copy_length=5, symbols=9)
    tokens, targets, mask = (np.asarray(a) for a in copy.sample(jr.PRNGKey(3), 20))
    t = copy.length
    seq = tokens[t - 5 - 20 - 5 : t - 5 - 20]
    assert tokens[t - 5 - 20 - 6] == 1 and len(set(seq.tolist())) == 5
    assert np.all(tokens[t - 25 : t - 5] == 0)
    assert tokens[t - 5] == 1 and tokens[t - 4 :].tolist() == seq[:-1].tolist()
    assert targets[mask].tolist() == seq.tolist()
    assert copy.vocab == 11 and copy.chance == pytest.approx(1 / 9)


@pytest.mark.slow  # long: run with -m slow
def test_associative_recall_over_a_short_delay_is_learned():
    """Known answer: with a delay of at most 8 tokens one AstroSNN learns the key-value lookup (measured
    accuracy 1.0 after 300 steps); chance is 1/16."""
    task = RetentionTask("recall", 8, multiple=16)
    model, history, config = train_retention("astrosnn", task, d=64, chunk=16, steps=300, progress=False)
    acc = retention_accuracy(model, task, [0, 8], trials=128)
    assert min(acc.values()) > 0.9, acc
    assert history[-1]["loss"] < 0.2 * history[0]["loss"]


def test_vocabulary_and_split():
    data = CharData(TEXT)
    assert data.train.shape[0] == int(0.9 * len(TEXT)) and data.train.shape[0] + data.val.shape[0] == len(TEXT)
    assert data.vocab.decode(data.vocab.encode("Speak, all")) == "Speak, all"
    with pytest.raises(ValueError, match="outside the model's vocabulary.*'Z'"):
        data.vocab.encode("Zounds")
    with pytest.raises(ValueError, match="vocabulary mismatch.*'#'"):
        data.vocab.check_matches(Vocab(data.vocab.chars + "#"))
    x, y = data.batch(jr.PRNGKey(0), 3, 10)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])


@pytest.mark.slow  # long: run with -m slow
def test_lm_checkpoint_resumes_and_refuses_another_vocabulary(tmp_path):
    data = CharData(TEXT)
    kw = dict(d=16, layers=1, chunk=16, length=32, batch=4, steps=6, progress=False)
    full, _, _ = train_lm("astrosnn", data, **kw)
    ckpt = str(tmp_path / "lm.eqx")
    with pytest.raises(TrainInterrupted):
        train_lm("astrosnn", data, checkpoint=ckpt, stop_after=3, **kw)
    resumed, _, _ = train_lm("astrosnn", data, checkpoint=ckpt, **kw)
    for a, b in zip(
        jax.tree.leaves(eqx.filter(full, eqx.is_array)), jax.tree.leaves(eqx.filter(resumed, eqx.is_array))
    ):
        np.testing.assert_array_equal(a, b)
    loaded, config = load_model(ckpt, data.vocab)
    assert config["model"] == "astrosnn" and parameter_count(loaded) == config["params"]
    other = CharData(TEXT + "?")
    with pytest.raises(ValueError, match="vocabulary mismatch"):
        train_lm("astrosnn", other, checkpoint=ckpt, **kw)
    with pytest.raises(ValueError, match="vocabulary mismatch"):
        load_model(ckpt, other.vocab)
    with pytest.raises(ValueError, match="another configuration.*'d'"):
        train_lm("astrosnn", data, checkpoint=ckpt, **{**kw, "d": 24})
    text = sample_text(loaded, data.vocab, "All:\n", 20, seed=1)
    assert len(text) == 20 and set(text) <= set(data.vocab.chars)
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        sample_text(loaded, data.vocab, "Zounds", 5)


def test_bad_input_is_named():
    model = build_model("astrosnn", 10, 16, 1, key=jr.PRNGKey(0), chunk=8)
    with pytest.raises(ValueError, match=r"multiple of the model's chunk \(8\)"):
        model(jnp.zeros(12, jnp.int32))
    with pytest.raises(ValueError, match="1-D integer"):
        model(jnp.zeros((2, 8), jnp.int32))
    with pytest.raises(ValueError, match="model"):
        build_model("mamba", 10, 16, 1, key=jr.PRNGKey(0))
    with pytest.raises(ValueError, match="decay"):
        AstroSNN(10, 16, 1, key=jr.PRNGKey(0), decay=1.01)
    with pytest.raises(ValueError, match="pairs"):
        RetentionTask("recall", 10, pairs=20, keys=8)
    with pytest.raises(ValueError, match="chunk"):
        train_lm("astrosnn", CharData(TEXT), length=30, chunk=16, steps=1, progress=False)
    with pytest.raises(ValueError, match=r"ids in \[0, 10\), got 0..12"):
        model(jnp.arange(0, 13, 1, dtype=jnp.int32)[:8] + jnp.array([0, 0, 0, 0, 0, 0, 0, 5], jnp.int32))
    with pytest.raises(ValueError, match=r"`delay` must be an integer in \[0, max_delay = 8\], got 40"):
        RetentionTask("recall", 8).sample(jr.PRNGKey(0), 40)
    with pytest.raises(ValueError, match="delay"):
        retention_accuracy(model, RetentionTask("recall", 8), [4, 9])
    with pytest.raises(ValueError, match="shorter than one window"):
        from nam.astrosnn import bits_per_char

        bits_per_char(model, CharData("abcdefghij" * 10), length=64)
    with pytest.raises(ValueError, match="LIF-SNN only"):
        build_model("lstm", 10, 16, 1, key=jr.PRNGKey(0), decay="wide")


def test_transformer_refuses_to_step_past_its_kv_cache():
    model = build_model("transformer", 10, 16, 1, key=jr.PRNGKey(0))
    state = model.init_state(2)
    for tok in (1, 2):
        _, state = model.step(state, jnp.asarray(tok))
    with pytest.raises(Exception, match="KV cache is full"):
        jax.block_until_ready(model.step(state, jnp.asarray(3)))


@pytest.mark.slow  # long: run with -m slow
def test_cli_trains_resumes_and_generates(tmp_path, capsys):
    """The working paths of `nam astrosnn retention|lm|generate` on tiny settings; a re-run with other
    options into the same folder is refused instead of reusing results."""
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
    assert main(args) == 0
    assert "recall (chance 0.062)" in capsys.readouterr().out and os.path.exists(os.path.join(out, "retention.png"))
    assert main([("3" if a == "2" else a) for a in args]) == 2  # --steps 3 into the same --out
    assert "other options" in capsys.readouterr().err
    lm = str(tmp_path / "lm")
    assert (
        main(
            [
                "astrosnn",
                "lm",
                "--models",
                "astrosnn",
                "--corpus",
                "shakespeare",
                "--seeds",
                "0",
                "--steps",
                "2",
                "--params",
                "3000",
                "--layers",
                "1",
                "--length",
                "64",
                "--batch",
                "2",
                "--out",
                lm,
                "--no-progress",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "astrosnn" in printed and os.path.exists(os.path.join(lm, "samples.txt"))
    assert (
        main(
            [
                "astrosnn",
                "generate",
                os.path.join(lm, "runs", "shakespeare_astrosnn_seed0.eqx"),
                "--prompt",
                "ROMEO:",
                "--chars",
                "12",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("ROMEO:")


def test_cli_reports_bad_input(tmp_path, capsys):
    assert main(["astrosnn", "generate", str(tmp_path / "missing.eqx")]) == 2
    assert "missing.eqx" in capsys.readouterr().err
    assert main(["astrosnn", "lm", "--models", "astrosnn,rwkv", "--out", str(tmp_path)]) == 2
    assert "--models must be one of" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "lm.json")


def test_vocab_hashes_like_it_compares():
    """`Vocab` defines equality by its characters and is a static field of `CharData`, so it must hash the same
    way (before: __eq__ without __hash__ made it unhashable)."""
    assert hash(Vocab("abc")) == hash(Vocab("abc"))
    assert len({Vocab("abc"), Vocab("abc"), Vocab("abd")}) == 2
    first, second = CharData(TEXT), CharData(TEXT)
    assert hash(jax.tree_util.tree_structure(first)) == hash(jax.tree_util.tree_structure(second))

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def total(data):
        return data.train.sum()

    assert int(total(first)) == int(total(second)) == int(np.sum(first.vocab.encode(TEXT[: len(first.train)])))


def test_retention_figure_is_saved_once_with_every_task(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from nam.experiments.astrosnn_retention import write_retention_figure

    saved = []
    real = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **kw: (saved.append(fig), real(fig, *a, **kw)))
    results = {
        f"{task}/{model}": {
            "task": task,
            "model": model,
            "params": 1000,
            "chance": 0.25,
            "accuracy": {"0": 1.0, "16": 0.5},
        }
        for task in ("recall", "copy")
        for model in ("astrosnn", "lstm")
    }
    path = str(tmp_path / "retention.png")
    assert write_retention_figure(results, path) == path
    assert len(saved) == 1  # before: once per task, the first save with the second panel still empty
    assert [ax.get_title() for ax in saved[0].axes] == ["copy: retention", "recall: retention"]
    assert all(len(ax.get_lines()) == 3 and ax.get_legend() is not None for ax in saved[0].axes)
    assert (tmp_path / "retention.png").stat().st_size > 0
