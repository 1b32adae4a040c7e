"""The `nam` command line.

`nam sweep`: capacity-scaling sweep, summary printed, tables and figures written.
`nam demo`: retrieval with every model, table printed, figures written.
`nam gordleeva`: the spiking neuron-astrocyte memory experiments of Gordleeva et al. (2021).
`nam learn`: learn an astrocyte tensor for correlated memories (the digits) and compare it with Hebbian.
`nam astrosnn retention|lm|generate`: AstroSNN (Shen et al.) against LIF-SNN, LSTM and transformer baselines.
"""

import argparse
import os
import sys


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 <= value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 0.5), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nam", description="Neuron-astrocyte associative memory toolkit.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="store random memories in every model and retrieve them from corrupted cues")
    d.add_argument("--n", type=_positive_int, default=100, help="neurons N (default 100)")
    d.add_argument("--k", type=_positive_int, default=10, help="memories K (default 10)")
    d.add_argument("--rho", type=_fraction, default=0.15,
                   help="fraction of bits flipped in each cue, an exact count round(rho N) (default 0.15)")
    d.add_argument("--trials", type=_positive_int, default=16, help="cues per model (default 16)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--out", default="nam_output/demo", help="output folder (default nam_output/demo)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")

    w = sub.add_parser("sweep", help="capacity-scaling sweep: K*(N) per model, fitted exponents, figures")
    w.add_argument("--preset", default="default", help="default (a minute or two on 2 CPU cores) or full")
    w.add_argument("--models", help="comma-separated subset of the preset's models")
    w.add_argument("--n", help="comma-separated N grid for every selected model (overrides the preset)")
    w.add_argument("--rho", type=_fraction, help="fraction of bits flipped in each cue (exact count)")
    w.add_argument("--trials", type=_positive_int, help="cues per measured load")
    w.add_argument("--batch", type=_positive_int, help="trials per compiled batch (divides --trials)")
    w.add_argument("--criterion", choices=["retrieved", "fixed_point"], help="what defines K*")
    w.add_argument("--seed", type=int)
    w.add_argument("--out", default="nam_output/sweep", help="output folder (default nam_output/sweep); "
                                                                "re-running resumes an interrupted sweep")
    w.add_argument("--no-progress", action="store_true", help="no progress bar")

    g = sub.add_parser("gordleeva", help="spiking neuron-astrocyte memory (Gordleeva et al. 2021): accuracy vs "
                                         "noise, two patterns, ablation, memory lifetime, figures")
    g.add_argument("--experiments", default="noise,two,lifetime",
                   help="comma-separated subset of noise (1 and 3: one digit, with and without astrocytes), "
                        "two (two digits), lifetime (accuracy vs delay); default all")
    g.add_argument("--trials", type=_positive_int, default=20, help="trials per noise level or delay (default 20)")
    g.add_argument("--noise", choices=["flip", "salt_and_pepper"], default="flip",
                   help="flip: the chosen fraction of pixels is inverted; salt_and_pepper: replaced by coin "
                        "flips (about half change). Default flip")
    g.add_argument("--delay-ms", type=float, default=1000.0,
                   help="delay from the end of training to the test (default 1000 ms)")
    g.add_argument("--dt", type=float, default=0.1, help="time step in ms (default 0.1, at most 0.5)")
    g.add_argument("--trigger", choices=["retrigger", "rising_edge"], default="retrigger",
                   help="how the neuron -> astrocyte condition starts IP3 pulses (default retrigger)")
    g.add_argument("--rate-rule", choices=["per_neuron", "mean"], default="per_neuron",
                   help="how the 17.5 Hz condition is read (default per_neuron)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default="nam_output/gordleeva", help="output folder (default nam_output/gordleeva)")

    lp = sub.add_parser("learn", help="learn an astrocyte tensor for 10 correlated digit memories by "
                                      "differentiating through the dynamics; compare with the Hebbian tensor")
    lp.add_argument("--task", choices=["digits", "inpainting", "gain"], default="digits",
                    help="digits: learned vs Hebbian tensor on 10 correlated digits (default); inpainting: the "
                         "Appendix E model trained by BPTT to fill masked image patches; gain: train the neurons' "
                         "gain beta alone")
    lp.add_argument("--steps", type=_positive_int, help="Adam steps (default 300 digits, 2000 inpainting)")
    lp.add_argument("--lr", type=float, help="learning rate (default 0.01 digits, 0.003 inpainting)")
    lp.add_argument("--batch", type=_positive_int, help="cues or patches per step (default 32 digits, 64 inpainting)")
    lp.add_argument("--adjoint", choices=["recursive", "implicit"], default="recursive",
                    help="gradients by backpropagation through the solve or implicitly at the steady state")
    lp.add_argument("--trials", type=_positive_int, default=200, help="held-out cues per flip level (default 200)")
    lp.add_argument("--seed", type=int, default=0)
    lp.add_argument("--out", default="nam_output/learn", help="output folder (default nam_output/learn); its "
                                                               "checkpoint makes a re-run resume")
    lp.add_argument("--no-progress", action="store_true", help="no progress bar")

    a = sub.add_parser("astrosnn", help="AstroSNN (astrocyte-modulated spiking units) against LIF-SNN, LSTM and "
                                        "transformer baselines at equal parameters: retention, language modelling")
    asub = a.add_subparsers(dest="task", required=True)
    models_help = "comma-separated subset of astrosnn,lif,lstm,gru,transformer (default astrosnn,lif,lstm,transformer)"
    r = asub.add_parser("retention", help="accuracy vs delay (0..256) on associative recall and delayed copy")
    r.add_argument("--tasks", default="recall,copy", help="comma-separated subset of recall,copy (default both)")
    r.add_argument("--models", default="astrosnn,lif,lstm,transformer", help=models_help)
    r.add_argument("--max-delay", type=int, default=256, help="longest delay in tokens (default 256)")
    r.add_argument("--d", type=_positive_int, default=64, help="AstroSNN width; the others match its parameter count")
    r.add_argument("--steps", type=_positive_int, default=1000, help="training steps per model (default 1000)")
    r.add_argument("--decay", choices=["retnet", "wide"], default="retnet",
                   help="start of the astrocyte decays: retnet (0.969-0.999, default) or wide (0.5-0.998)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default="nam_output/astrosnn_retention",
                   help="output folder (default nam_output/astrosnn_retention); a re-run resumes")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    m = asub.add_parser("lm", help="character language model on Tiny Shakespeare: validation bits per char, "
                                   "samples, spike rates")
    m.add_argument("--models", default="astrosnn,lif,lstm,transformer", help=models_help)
    m.add_argument("--d", type=_positive_int, default=160, help="AstroSNN width (default 160); the others match "
                                                                 "its parameter count")
    m.add_argument("--layers", type=_positive_int, default=4, help="blocks / layers (default 4)")
    m.add_argument("--steps", type=_positive_int, default=1000, help="training steps per model (default 1000)")
    m.add_argument("--batch", type=_positive_int, default=16, help="sequences per step (default 16)")
    m.add_argument("--length", type=_positive_int, default=256, help="training sequence length (default 256)")
    m.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    m.add_argument("--decay", choices=["retnet", "wide"], default="wide",
                   help="start of the astrocyte decays: wide (0.5-0.998, default) or retnet (0.969-0.999)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", default="nam_output/astrosnn_lm", help="output folder (default nam_output/astrosnn_lm); "
                                                                    "a re-run resumes")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")
    gen = asub.add_parser("generate", help="sample text from a trained character model checkpoint")
    gen.add_argument("checkpoint", help="a checkpoint written by `nam astrosnn lm` (e.g. nam_output/astrosnn_lm/"
                                        "lm_astrosnn.eqx)")
    gen.add_argument("--prompt", default="ROMEO:\n", help="text to start from (characters of the training data)")
    gen.add_argument("--chars", type=_positive_int, default=300, help="characters to generate (default 300)")
    gen.add_argument("--temperature", type=float, default=0.8)
    gen.add_argument("--seed", type=int, default=0)
    return p


def _astrosnn(args) -> int:
    from .astrosnn import _experiments as ex

    try:
        if args.task == "generate":
            from .astrosnn import Vocab

            model, config = ex.load_model(args.checkpoint)
            if "vocab" not in config:
                raise ValueError(f"{args.checkpoint} is not a character model (no vocabulary in its config)")
            vocab = Vocab(config["vocab"])  # the characters the checkpoint was trained on
            prompt = args.prompt.replace("\\n", "\n")
            print(prompt + ex.sample_text(model, vocab, prompt, args.chars, seed=args.seed,
                                          temperature=args.temperature))
            return 0
        models = tuple(x.strip() for x in args.models.split(",") if x.strip())
        for x in models:
            if x not in ("astrosnn", "lif", "lstm", "gru", "transformer"):
                raise ValueError(f"--models: unknown model {x!r}; expected astrosnn, lif, lstm, gru, transformer")
        if args.task == "retention":
            tasks = tuple(x.strip() for x in args.tasks.split(",") if x.strip())
            if args.max_delay < 0:
                raise ValueError(f"--max-delay must be >= 0, got {args.max_delay}")
            res = ex.run_retention(args.out, tasks=tasks, models=models, max_delay=args.max_delay, d=args.d,
                                   steps=args.steps, seed=args.seed, progress=not args.no_progress,
                                   decay=args.decay)
            print(ex.format_retention(res))
            print(f"wrote {ex.write_retention_figure(res, os.path.join(args.out, 'retention.png'))}")
        else:
            res = ex.run_lm(args.out, models=models, d=args.d, layers=args.layers, steps=args.steps,
                            batch=args.batch, length=args.length, learning_rate=args.lr, seed=args.seed,
                            progress=not args.no_progress, decay=args.decay)
            print(ex.format_lm(res))
            with open(os.path.join(args.out, "samples.txt"), "w") as f:
                for r in res.values():
                    f.write(f"=== {r['model']} ({r['params']} parameters, val bpc {r['val_bpc']:.3f}) ===\n"
                            f"{r['sample']}\n\n")
            print(f"wrote {os.path.join(args.out, 'samples.txt')}")
            print(f"wrote {ex.write_lm_figure(res, os.path.join(args.out, 'lm_bpc.png'))}")
    except (ValueError, FileNotFoundError, RuntimeError, KeyError) as e:  # RuntimeError: NonFiniteLoss, md5
        print(f"nam astrosnn {args.task}: {e}", file=sys.stderr)
        return 2
    return 0


def _learn(args) -> int:
    import json

    from .learning._digits import format_digits, run_digits, write_digits_figure
    from .learning._inpainting import format_inpainting, run_inpainting, write_inpainting_figure
    from .learning._train import NonFiniteLoss, make_optimizer

    if args.task == "gain":
        from .learning._scalars import fit_gain, format_gain, write_gain_figure

        out = args.out if args.out != "nam_output/learn" else "nam_output/learn_gain"
        try:
            make_optimizer("adam", 5e-2 if args.lr is None else args.lr)
            beta, history = fit_gain(steps=args.steps or 60, learning_rate=5e-2 if args.lr is None else args.lr,
                                     batch=args.batch or 32, seed=args.seed, progress=not args.no_progress)
        except (ValueError, NonFiniteLoss) as e:
            print(f"nam learn: {e}", file=sys.stderr)
            return 2
        print(format_gain(beta, history))
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump({"beta": beta, "history": history}, f, indent=1)
        print(f"wrote {os.path.join(out, 'results.json')}")
        print(f"wrote {write_gain_figure(history, out)}")
        return 0
    digits = args.task == "digits"
    steps = args.steps if args.steps is not None else (300 if digits else 2000)
    lr = args.lr if args.lr is not None else (1e-2 if digits else 3e-3)
    batch = args.batch if args.batch is not None else (32 if digits else 64)
    out = args.out if digits or args.out != "nam_output/learn" else "nam_output/learn_inpainting"
    try:
        make_optimizer("adam", lr)  # checks the learning rate before any work
        os.makedirs(out, exist_ok=True)
        checkpoint = os.path.join(out, "checkpoint.eqx")
        if digits:
            result, _ = run_digits(steps=steps, learning_rate=lr, batch=batch, adjoint=args.adjoint,
                                   seed=args.seed, trials=args.trials, progress=not args.no_progress,
                                   checkpoint=checkpoint)
        else:
            result, net = run_inpainting(steps=steps, learning_rate=lr, batch=batch, seed=args.seed,
                                         progress=not args.no_progress, checkpoint=checkpoint)
    except (ValueError, NonFiniteLoss) as e:
        print(f"nam learn: {e}", file=sys.stderr)
        return 2
    print(format_digits(result) if digits else format_inpainting(result))
    path = os.path.join(out, "results.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {path}")
    figure = write_digits_figure(result, out) if digits else write_inpainting_figure(result, net, out, args.seed)
    print(f"wrote {figure}")
    return 0


def _gordleeva(args) -> int:
    import json

    from .spiking._experiments import format_results, run_experiments, write_figures
    from .spiking._network import GordleevaNetwork
    from .spiking._protocol import Protocol

    which = tuple(x.strip() for x in args.experiments.split(",") if x.strip())
    try:
        unknown = set(which) - {"noise", "two", "lifetime"}
        if unknown or not which:
            raise ValueError(f"--experiments must be a subset of noise,two,lifetime, got {args.experiments!r}")
        network = GordleevaNetwork(dt_ms=args.dt, trigger=args.trigger, rate_rule=args.rate_rule)
        protocol = Protocol(noise=args.noise, delay_ms=args.delay_ms)
    except ValueError as e:
        print(f"nam gordleeva: {e}", file=sys.stderr)
        return 2
    results, example = run_experiments(network, which=which, trials=args.trials, protocol=protocol, seed=args.seed)
    print(format_results(results))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    with open(path, "w") as f:
        json.dump({"settings": vars(args), **results}, f, indent=1)
    print(f"wrote {path}")
    for path in write_figures(results, example, args.out):
        print(f"wrote {path}")
    return 0


def _sweep(args) -> int:
    from .sweep._engine import SpecMismatch, run_sweep
    from .sweep._report import format_summary, write_figures
    from .sweep._spec import PRESETS, preset

    try:
        if args.preset not in PRESETS:
            raise ValueError(f"--preset must be one of {sorted(PRESETS)}, got {args.preset!r}")
        overrides = {k: getattr(args, k) for k in ("rho", "trials", "batch", "criterion", "seed")
                     if getattr(args, k) is not None}
        grid = dict(PRESETS[args.preset]["n_grid"])
        if args.models:
            names = [m.strip() for m in args.models.split(",") if m.strip()]
            grid = {m: grid.get(m, ()) for m in names}
        if args.n:
            ns = tuple(int(x) for x in args.n.split(","))
            grid = {m: ns for m in grid}
        if "trials" in overrides and "batch" not in overrides:
            overrides["batch"] = min(overrides["trials"], PRESETS[args.preset]["batch"])
        spec = preset(args.preset, n_grid=grid, **overrides)
        result = run_sweep(spec, args.out, progress=not args.no_progress)
    except (ValueError, SpecMismatch) as e:
        print(f"nam sweep: {e}", file=sys.stderr)
        return 2
    print(format_summary(result))
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"peak resident memory of this process: {peak:.0f} MiB")
    for path in [os.path.join(args.out, f) for f in ("rows.csv", "summary.csv", "fits.csv")]:
        print(f"wrote {path}")
    for path in write_figures(result, args.out):
        print(f"wrote {path}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "gordleeva":
        return _gordleeva(args)
    if args.command == "learn":
        return _learn(args)
    if args.command == "astrosnn":
        return _astrosnn(args)
    if args.command == "demo":
        if args.n < 2:
            print("nam demo: --n must be >= 2", file=sys.stderr)
            return 2
        from ._demo import format_table, run_demo, write_outputs

        rows, example = run_demo(n=args.n, k=args.k, rho=args.rho, trials=args.trials, seed=args.seed,
                                 progress=not args.no_progress)
        print(format_table(rows))
        for path in write_outputs(rows, example, args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
