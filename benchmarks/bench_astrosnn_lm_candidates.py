"""The AstroSNN language-model candidates of issue 17: every switchable assumption of the AM-SU
(`nam.astrosnn.AMSU`) tried on its own or in combination, each trained the same way (one seed, one
corpus, fewer steps than `nam astrosnn lm`) against the LIF-SNN and the LSTM of the same run, so that
the candidates can be ranked before the 3-seed comparison.

    python benchmarks/bench_astrosnn_lm_candidates.py                    # every candidate, ~2 min each
    python benchmarks/bench_astrosnn_lm_candidates.py --only B_lif,E_vvshort

Every model is matched to `--params` parameters by its width (`match_width`), trained with `train_lm`
(AdamW, warm-up and cosine decay) for `--steps` steps of `--batch` windows of `--length` characters, and
scored on the whole validation split (`bits_per_char`). Results go to
`benchmarks/results/astrosnn_lm_candidates.json`, one row per candidate; a re-run skips the rows that
are there with the same settings. The ratio the table reports is the difference to the LIF-SNN of the
same run (nats/char): the comparison the issue sets.
"""

import argparse
import json
import os
import time

from _harness import environment, result_path, write_result

# name -> (kind, build options); A_ is the Figure-1 reading (the read enters the membrane only)
VSHORT, VVSHORT, XSHORT = [0.5, 0.75, 0.875, 0.9375], [0.25, 0.5, 0.75, 0.875], [0.1, 0.25, 0.5, 0.75]
E = {"read": "residual", "kq_spiking": False}  # the read into the residual stream, real-valued keys and queries
CANDIDATES = {
    "B_lif": ("lif", {}),
    "L_lstm": ("lstm", {}),
    "A_membrane": ("astrosnn", {"read": "membrane", "kq_spiking": True, "decay": "wide"}),  # the earlier default
    "C_residual": ("astrosnn", {"read": "residual", "kq_spiking": True, "decay": "wide"}),
    "G_both": ("astrosnn", {"read": "both", "kq_spiking": True, "decay": "wide"}),
    "H_residual_short": ("astrosnn", {"read": "residual", "kq_spiking": True, "decay": "short"}),
    "F_residual_gate": ("astrosnn", {"read": "residual", "kq_spiking": True, "write_gate": True, "decay": "wide"}),
    "D_membrane_realkq": ("astrosnn", {"read": "membrane", "kq_spiking": False, "decay": "wide"}),
    "E_residual_realkq": ("astrosnn", {**E, "decay": "wide"}),
    "E_gate": ("astrosnn", {**E, "write_gate": True, "decay": "wide"}),
    "E_noshift": ("astrosnn", {**E, "key_shift": False, "decay": "wide"}),
    "E_8heads": ("astrosnn", {**E, "heads": 8, "decay": "wide"}),
    "E_short": ("astrosnn", {**E, "decay": "short"}),
    "E_short_dg": ("astrosnn", {**E, "decay": "short", "decay_gate": True}),
    "Eg_short": ("astrosnn", {"read": "gated", "kq_spiking": False, "decay": "short"}),
    "E_vshort": ("astrosnn", {**E, "decay": VSHORT}),
    # the language-model assumptions (LM_ASSUMPTIONS; decay "local" is VSHORT)
    "Eg_vshort": ("astrosnn", {"read": "gated", "kq_spiking": False, "decay": VSHORT}),
    "E_vvshort": ("astrosnn", {**E, "decay": VVSHORT}),
    "E_xshort": ("astrosnn", {**E, "decay": XSHORT}),
}


def run_one(name, data, args):
    from nam.astrosnn import bits_per_char, train_lm

    kind, options = CANDIDATES[name]
    options = dict(options)
    decay = options.pop("decay", None)
    heads = options.pop("heads", 4)
    start = time.perf_counter()
    model, _, config = train_lm(
        kind,
        data,
        layers=args.layers,
        heads=heads,
        target_params=args.params,
        steps=args.steps,
        batch=args.batch,
        length=args.length,
        seed=args.seed,
        progress=False,
        decay=decay,
        model_options=options,
    )
    seconds = time.perf_counter() - start
    score = bits_per_char(model, data, length=args.length)
    return {
        "candidate": name,
        "kind": kind,
        "options": CANDIDATES[name][1],
        "params": config["params"],
        "d": config["d"],
        "val_nats": score["val_nats"],
        "spike_rate": score["spike_rate"],
        "train_seconds": seconds,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(CANDIDATES), help="comma-separated candidates (default all)")
    ap.add_argument("--corpus", default="shakespeare", choices=["shakespeare", "python"])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--params", type=int, default=500_000)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=result_path("astrosnn_lm_candidates.json"))
    args = ap.parse_args()
    names = [x for x in args.only.split(",") if x]
    unknown = sorted(set(names) - set(CANDIDATES))
    if unknown:
        ap.error(f"--only: unknown candidates {unknown}; expected some of {list(CANDIDATES)}")
    settings = {k: getattr(args, k) for k in ("corpus", "steps", "params", "layers", "batch", "length", "seed")}
    done = {}
    if os.path.exists(args.out):
        with open(args.out) as f:
            saved = json.load(f)
        if saved.get("settings") == settings:
            done = {r["candidate"]: r for r in saved["rows"]}

    from nam.astrosnn import CharData, load_text

    data = CharData(load_text(corpus=args.corpus))
    for name in names:
        if name in done:
            continue
        done[name] = run_one(name, data, args)
        print(json.dumps(done[name]), flush=True)
        lif = done.get("B_lif", {}).get("val_nats")
        rows = [{**r, "minus_lif": None if lif is None else r["val_nats"] - lif} for r in done.values()]
        write_result(args.out, {"env": environment(), "settings": settings, "rows": rows})
    for r in sorted(done.values(), key=lambda r: r["val_nats"]):
        print(f"{r['candidate']:<24}{r['params']:>8}{r['val_nats']:>8.3f}")


if __name__ == "__main__":
    main()
