"""The AstroSNN language-model study (issue 17): where the astrocyte read goes (`read`), the write gate,
the ablation and trace of `nam.astrosnn._diagnostics` against independent computations, the held-out
corpus, and `nam astrosnn lm` over corpora and seeds (per-run files, resume, refusals, the summary
against hand-computed statistics)."""

import json
import math
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from nam._cli import main
from nam._data import CORPORA, load_text
from nam.astrosnn import AMSU, CharData, astrocyte_trace, build_model, load_model, remove_astrocyte_read, train_lm
from nam.experiments.astrosnn_lm import format_lm, run_lm, summarise_lm

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 40


def _read_loop(layer, x):
    """The astrocyte read-out (before read_norm) by a plain float64 loop over tokens: H = lam H + g v k^T,
    o = H q, with the gate g = sigmoid(w_g . x + b_g) (1 without a gate), lam = lam_h^(2 f) with
    f = sigmoid(w_f . x + b_f) under the decay gate, and the key of the previous token when `key_shift`."""
    w = {n: np.asarray(getattr(layer, n), np.float64) for n in ("w_k", "w_v", "w_q")}
    x = np.asarray(x, np.float64)
    lam = np.asarray(layer.decay, np.float64)
    heads, d_out = layer.heads, w["w_k"].shape[0]
    dh = d_out // heads
    h = np.zeros((heads, dh, dh))
    out = []
    for t in range(x.shape[0]):
        src = x[t - 1] if layer.key_shift else x[t]
        k = w["w_k"] @ src if (t > 0 or not layer.key_shift) else np.zeros(d_out)
        q = w["w_q"] @ x[t]
        if layer.kq_spiking:
            k, q = (k >= 0).astype(float), (q >= 0).astype(float)
        v = (w["w_v"] @ x[t]).reshape(heads, dh)
        if layer.w_g is not None:
            g = 1 / (1 + np.exp(-(np.asarray(layer.w_g, np.float64) @ x[t] + np.asarray(layer.b_g, np.float64))))
            v = v * g[:, None]
        k, q = k.reshape(heads, dh), q.reshape(heads, dh)
        lam_t = lam
        if layer.w_f is not None:  # the decay gate: lambda_t = lambda_h^(2 f_t)
            f = 1 / (1 + np.exp(-(np.asarray(layer.w_f, np.float64) @ x[t] + np.asarray(layer.b_f, np.float64))))
            lam_t = lam ** (2 * f)
        h = lam_t[:, None, None] * h + v[:, :, None] * k[:, None, :]
        out.append(np.einsum("hij,hj->hi", h, q).reshape(-1))
    return np.stack(out)


@pytest.mark.parametrize(
    "kw",
    [
        dict(read="residual"),
        dict(read="both", write_gate=True),
        dict(read="gated"),
        dict(read="residual", kq_spiking=True, key_shift=True, write_gate=True),
        dict(read="gated", key_shift=True, decay_gate=True),
        dict(read="both", decay_gate=True, write_gate=True, decay="wide"),
    ],
)
def test_read_modes_and_gate_against_a_float64_loop(kw, getkey):
    layer = AMSU(6, 8, key=getkey(), heads=2, read_norm=False, **kw)
    x = jr.normal(getkey(), (32, 6))
    expected = _read_loop(layer, x)
    current = x @ layer.w_i.T
    for form in ("parallel", "recurrent"):
        s, o = layer.forward(x, form, chunk=8)
        # the membrane gets the read with read="membrane" or "both"; "gated" lets it out only with a spike
        membrane = expected if kw["read"] in ("membrane", "both") else np.zeros_like(expected)
        np.testing.assert_array_equal(s, layer._neurons(current, jnp.asarray(membrane)))
        np.testing.assert_allclose(
            o, expected * (np.asarray(s) if kw["read"] == "gated" else 1.0), rtol=1e-10, atol=1e-10
        )
    state, steps = layer.init_state(), []
    for t in range(32):
        st, ot, state = layer.step_with_read(state, x[t])
        steps.append(jnp.concatenate([st, ot]))
    np.testing.assert_allclose(jnp.stack(steps), jnp.concatenate([s, o], axis=1), rtol=1e-10, atol=1e-10)


def test_residual_read_enters_the_stream_through_its_own_map(getkey):
    """The block adds W_o s + W_r o: the stream after the AM-SU, recomputed from the unit's outputs."""
    model = build_model("astrosnn", 11, 16, 1, key=getkey(), heads=2, chunk=8, read="both")
    block = model.blocks[0]
    assert block.w_r is not None and build_model("astrosnn", 11, 16, 1, key=getkey(), chunk=8).blocks[0].w_r is None
    assert build_model("lif", 11, 16, 1, key=getkey(), chunk=8, read="both").blocks[0].w_r is None
    x = jr.normal(getkey(), (16, 16))
    s, o = block.unit.forward(jax.vmap(block.norm1)(x), "parallel", 8)
    mid = x + s @ block.w_o.T + o @ block.w_r.T
    y, _ = block._ffn(jax.vmap(block.norm2)(mid))
    np.testing.assert_allclose(block(x, "parallel", 8)[0], mid + y, rtol=1e-12)


@pytest.mark.parametrize("read", ["membrane", "residual", "both", "gated"])
def test_removing_the_read_leaves_the_lif_network(read, getkey):
    """With the read removed, an AstroSNN computes what a LIF-SNN with the same remaining weights computes."""
    model = build_model("astrosnn", 11, 16, 2, key=getkey(), heads=2, chunk=8, read=read)
    lif = build_model("lif", 11, 16, 2, key=getkey(), heads=2, chunk=8)
    shared = lambda m: (
        [m.embed, m.head, m.norm_f.weight, m.norm_f.bias]
        + [
            x
            for b in m.blocks
            for x in (
                b.norm1.weight,
                b.norm1.bias,
                b.norm2.weight,
                b.norm2.bias,
                b.unit.w_i,
                b.w_o,
                b.w_1,
                b.b_1,
                b.w_2,
            )
        ]
    )
    lif = eqx.tree_at(shared, lif, shared(model))
    tokens = jr.randint(getkey(), (32,), 0, 11)
    ablated = remove_astrocyte_read(model)
    np.testing.assert_allclose(ablated(tokens)[0], lif(tokens)[0], rtol=1e-12, atol=1e-12)
    assert not np.allclose(model(tokens)[0], lif(tokens)[0])
    with pytest.raises(ValueError, match="no astrocytes"):
        remove_astrocyte_read(lif)


def test_trace_against_direct_computation(getkey):
    model = build_model("astrosnn", 11, 16, 2, key=getkey(), heads=2, chunk=8)  # spiking keys, membrane read
    tokens = jr.randint(getkey(), (3, 16), 0, 11)
    rows = astrocyte_trace(model, tokens)
    assert len(rows) == 2
    block = model.blocks[0]
    k_all, flips = [], []
    for t in tokens:
        h = jax.vmap(block.norm1)(model.embed[t])
        current, k, v, q = block.unit._projections(h)
        k_all.append(np.asarray(k))
        s, o = block.unit.forward(h, "parallel", 8)
        flips.append(np.mean(np.abs(np.asarray(s) - np.asarray(block.unit._neurons(current, jnp.zeros_like(o))))))
    k_all = np.stack(k_all)  # (B, T, heads, dh) of 0/1
    assert rows[0]["writes_per_token"] == pytest.approx(k_all.sum(-1).mean())
    assert rows[0]["silent_writes"] == pytest.approx(np.all(k_all == 0, axis=-1).mean())
    assert rows[0]["k_rate"] == pytest.approx(k_all.mean())
    assert rows[0]["spikes_flipped"] == pytest.approx(np.mean(flips))
    assert rows[0]["residual_share"] == 0.0 and rows[0]["decays"] == pytest.approx(
        np.asarray(block.unit.decay), abs=1e-4
    )
    with pytest.raises(ValueError, match="multiple of the model's chunk"):
        astrocyte_trace(model, tokens[:, :12])


def test_held_out_corpus_is_checked_and_of_another_kind(tmp_path):
    text = load_text(corpus="python")
    assert len(text) == 1_266_501 and text.startswith("# === Lib/argparse.py ===\n")
    assert len(set(text)) == 96 and "def " in text and "ROMEO" not in text
    with pytest.raises(ValueError, match="`corpus` must be one of"):
        load_text(corpus="poetry")
    assert set(CORPORA) == {"shakespeare", "python"}


@pytest.mark.slow  # a training run and a checkpoint round trip: run with -m slow
def test_checkpoint_rebuilds_the_model_options(tmp_path):
    data = CharData(TEXT)
    path = str(tmp_path / "m.eqx")
    model, _, _ = train_lm(
        "astrosnn",
        data,
        d=8,
        layers=1,
        steps=1,
        batch=2,
        length=64,
        progress=False,
        checkpoint=path,
        model_options={"read": "both", "write_gate": True},
    )
    loaded, config = load_model(path, data.vocab)
    assert config["model_options"] == {"read": "both", "write_gate": True}
    tokens = data.val[:64]
    np.testing.assert_array_equal(loaded(tokens)[0], model(tokens)[0])


def _fake_run(corpus, model, seed, nats):
    return {
        "corpus": corpus,
        "model": model,
        "seed": seed,
        "val_nats": nats,
        "params": 100,
        "train_seconds": 1.0,
        "spike_rate": None,
    }


def test_summary_against_hand_computed_statistics():
    nats = {
        ("astrosnn", 0): 1.50,
        ("astrosnn", 1): 1.56,
        ("astrosnn", 2): 1.53,
        ("astrosnn-membrane", 0): 1.70,
        ("astrosnn-membrane", 1): 1.66,
        ("astrosnn-membrane", 2): 1.68,
        ("lif", 0): 1.61,
        ("lif", 1): 1.60,
        ("lif", 2): 1.65,
        ("lstm", 0): 1.41,
        ("lstm", 1): 1.42,
        ("lstm", 2): 1.40,
    }
    runs = {f"x_{m}_{s}": _fake_run("x", m, s, v) for (m, s), v in nats.items()}
    part = summarise_lm(runs)["x"]
    a = np.array([1.50, 1.56, 1.53])
    assert part["models"]["astrosnn"]["val_nats"]["mean"] == pytest.approx(a.mean())
    assert part["models"]["astrosnn"]["val_nats"]["sd"] == pytest.approx(a.std(ddof=1))
    diff = a - np.array([1.61, 1.60, 1.65])
    assert part["comparisons"]["astrosnn_minus_lif"]["mean"] == pytest.approx(diff.mean())
    assert part["comparisons"]["astrosnn_minus_lif"]["sd"] == pytest.approx(diff.std(ddof=1))
    gap_new, gap_old = a.mean() - 1.41, 1.68 - 1.41
    assert part["comparisons"]["gap_closed"] == pytest.approx(1 - gap_new / gap_old)
    per = part["comparisons"]["gap_closed_per_seed"]
    assert per["1"] == pytest.approx(1 - (1.56 - 1.42) / (1.66 - 1.42))
    # only seeds both models ran are paired
    del runs["x_lif_2"]
    assert summarise_lm(runs)["x"]["comparisons"]["astrosnn_minus_lif"]["n"] == 2


@pytest.mark.slow  # ~10-30 s on 2 cores: the default run stays under 10 minutes
def test_lm_runs_resume_add_up_and_refuse(tmp_path, capsys):
    out = str(tmp_path / "lm")
    small = dict(
        params=3000,
        layers=1,
        steps=2,
        batch=2,
        length=64,
        sample_chars=4,
        progress=False,
        corpora={"tiny": CharData(TEXT)},
    )
    first = run_lm(out, models=("astrosnn", "lstm"), seeds=(0,), **small)
    assert sorted(first["runs"]) == ["tiny_astrosnn_seed0", "tiny_lstm_seed0"]
    r = first["runs"]["tiny_astrosnn_seed0"]
    assert {"read_removed_val_nats", "trace"} <= set(r) and math.isfinite(r["val_nats"])
    assert abs(r["params"] - 3000) < 600
    # another process adds a model and a seed: lm.json holds every run of these options
    second = run_lm(out, models=("lstm",), seeds=(1,), **small)
    assert sorted(second["runs"]) == ["tiny_astrosnn_seed0", "tiny_lstm_seed0", "tiny_lstm_seed1"]
    assert set(second["summary"]["tiny"]["models"]) == {"astrosnn", "lstm"}

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    saved = json.loads((tmp_path / "lm" / "lm.json").read_text(), parse_constant=refuse)
    assert saved["runs"]["tiny_lstm_seed1"]["spike_rate"] is None  # no spikes: NaN written as null
    # a re-run trains nothing and returns the same numbers
    again = run_lm(out, models=("astrosnn", "lstm"), seeds=(0,), **small)
    assert again["runs"]["tiny_astrosnn_seed0"]["val_nats"] == r["val_nats"]
    assert "astrosnn - lstm" in format_lm(again)
    # other options are refused before anything is trained
    with pytest.raises(ValueError, match="other options"):
        run_lm(out, models=("lstm",), seeds=(0,), **{**small, "steps": 3})
    # a result file that was tampered with (a non-finite loss) is named
    path = tmp_path / "lm" / "runs" / "tiny_lstm_seed0.json"
    bad = json.loads(path.read_text())
    bad["val_nats"] = None
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="non-finite or missing val_nats"):
        run_lm(out, models=("lstm",), seeds=(0,), **small)


def test_lm_bad_arguments_are_refused_before_compute(tmp_path, capsys):
    for flags, message in (
        (["--corpus", "poetry"], "--corpus must be one of"),
        (["--seeds", "0,x"], "--seeds: expected an integer, got 'x'"),
        (["--seeds", "1,1"], "--seeds must be distinct"),
        (["--models", "astrosnn,rwkv"], "got 'rwkv'"),
    ):
        assert main(["astrosnn", "lm", *flags, "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "o" / "lm.json")
    with pytest.raises(TypeError, match="`seeds` must be a list or tuple"):
        run_lm(str(tmp_path / "p"), seeds=3)
    with pytest.raises(ValueError, match="`seeds` must be distinct"):
        run_lm(str(tmp_path / "p"), seeds=(1, 1))


def test_decay_gate_forms_agree_with_the_normaliser(getkey):
    """The chunked form with per-token decays equals the recurrence, with the normaliser z as well."""
    layer = AMSU(6, 8, key=getkey(), heads=2, decay_gate=True, normalise=True, read_norm=False, kq_spiking=False)
    x = jr.normal(getkey(), (48, 6))
    s_par, o_par = layer.forward(x, "parallel", chunk=16)
    s_rec, o_rec = layer.forward(x, "recurrent")
    np.testing.assert_allclose(o_par, o_rec, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(s_par, s_rec)
    assert layer.w_f.shape == (2, 6) and not np.allclose(layer._log_decay(x), np.log(layer.decay)[None])


@pytest.mark.slow  # ~10-30 s on 2 cores: the default run stays under 10 minutes
def test_train_lm_uses_the_language_model_assumptions_unless_told(tmp_path):
    """`train_lm` builds the AstroSNN with LM_ASSUMPTIONS; `model_options={}` gives the network's own
    defaults (Figure 1's membrane read, spiking keys); an explicit `decay` overrides the options'."""
    from nam.astrosnn import LM_ASSUMPTIONS

    data = CharData(TEXT)
    small = dict(d=8, layers=1, steps=1, batch=2, length=64, progress=False)
    model, _, config = train_lm("astrosnn", data, **small)
    unit = model.blocks[0].unit
    assert config["model_options"] == LM_ASSUMPTIONS
    assert (unit.read, unit.kq_spiking, unit.key_shift) == ("gated", False, True)
    np.testing.assert_allclose(unit.decay, [1 - 2.0**-e for e in (1, 2, 3, 4)], rtol=1e-5)  # "local"
    plain, _, config = train_lm("astrosnn", data, model_options={}, decay="retnet", **small)
    assert (plain.blocks[0].unit.read, plain.blocks[0].unit.kq_spiking) == ("membrane", True)
    assert config["model_options"] == {"decay": "retnet"} and float(plain.blocks[0].unit.decay[0]) > 0.96
    with pytest.raises(TypeError, match="model_options"):
        train_lm("astrosnn", data, model_options=["gated"], **small)
