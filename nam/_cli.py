"""The `nam` command line.

`nam sweep`: capacity-scaling sweep, summary printed, tables and figures written.
`nam demo`: retrieval with every model, table printed, figures written.
`nam gordleeva`: the spiking neuron-astrocyte memory experiments of Gordleeva et al. (2021).
`nam learn`: learn an astrocyte tensor for correlated memories (the digits) and compare it with Hebbian.
`nam astrosnn retention|lm|generate`: AstroSNN (Shen et al.) against LIF-SNN, LSTM and transformer baselines.
Every command but `nam sweep` runs an experiment of `nam.experiments` (`run`, `format`, `write`) through
`_run_experiment`, the one place that checks the output folder, prints the header, the results and the
files written, and handles errors and Ctrl-C; `nam sweep` keeps its own modes here (merge, --plan,
--report-only, --shard, several processes). `nam --version`: the installed version. Every `--help` lists
each option's choices and default (`_HelpFormatter`), and the long commands print a run header
(`_run_header`: what runs, sizes, devices) before they start.
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


def _finite_float(text):
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _interrupted(command: str, message: str) -> int:
    """Ctrl-C: one line saying what was saved and how to resume; exit status 130 (128 + SIGINT)."""
    print(f"\nnam {command}: interrupted; {message}", file=sys.stderr, flush=True)
    return 130


def _check_out(command: str, path) -> bool:
    """The output folder is created and checked writable before any compute; one line on stderr if not."""
    from ._checks import check_output_dir

    try:
        check_output_dir("--out", path)
    except ValueError as e:
        print(f"nam {command}: {e}", file=sys.stderr)
        return False
    return True


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" to every option's help unless the help already says its default, the
    default is None (the help then says what it falls back to), or the option is a flag."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text.lower() or action.default is None or action.default is argparse.SUPPRESS
                or isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))):
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Every `nam` parser and subparser (subparsers inherit the class) lists choices and defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nam")
    except PackageNotFoundError:  # running from a checkout that is not installed
        from . import __version__

        return __version__


def _run_header(command: str, details: dict) -> None:
    """Print what is about to run, its sizes and the devices, before long work starts."""
    import jax

    devices = jax.devices()
    kinds = sorted({f"{d.platform}" + (f" ({d.device_kind})" if d.platform != "cpu" else "") for d in devices})
    lines = [f"nam {_version()}: {command}"]
    lines += [f"  {key}: {value}" for key, value in details.items()]
    lines.append(f"  devices: {len(devices)} x {', '.join(kinds)} (jax {jax.__version__}, "
                 f"{'float64' if jax.config.jax_enable_x64 else 'float32'})")
    print("\n".join(lines), flush=True)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nam", description="Neuron-astrocyte associative memory toolkit.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="store random memories in every model and retrieve them from corrupted cues")
    d.add_argument("--n", type=_positive_int, default=100, help="neurons N (default 100)")
    d.add_argument("--k", type=_positive_int, default=10, help="memories K (default 10)")
    d.add_argument("--rho", type=_fraction, default=0.15,
                   help="fraction of bits flipped in each cue, an exact count round(rho N) (default 0.15)")
    d.add_argument("--trials", type=_positive_int, default=16, help="cues per model (default 16)")
    d.add_argument("--seed", type=int, default=0, help="random seed")
    d.add_argument("--out", default="nam_output/demo", help="output folder (default nam_output/demo)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")

    from .sweep._registry import REGISTRY
    from .sweep._spec import PRESETS

    w = sub.add_parser("sweep", help="capacity-scaling sweep: K*(N) per model, fitted laws, figures",
                       description="Measure K*(N), the load at which half the cues are retrieved exactly, for "
                                   "each model and N, fit its law, and draw the figures. Models: "
                                   + "; ".join(f"{m} ({REGISTRY[m].label})" for m in REGISTRY) + ".")
    w.add_argument("--preset", default="default", choices=sorted(PRESETS),
                   help="default: about two minutes on 2 CPU cores; crossover: the distinct-index network "
                        "against the hidden-neuron DAM to N = 128, under 20 minutes on 2 CPU cores; full: sized "
                        "for one GPU")
    w.add_argument("--models", help=f"comma-separated models (default: the preset's); any of {', '.join(REGISTRY)}")
    w.add_argument("--n", action="append", metavar="[MODEL=]N1,N2,...",
                   help="N grid: MODEL=16,32,64 for one model (repeatable), or 16,32,64 for every selected "
                        "model (default: the preset's grids)")
    w.add_argument("--rho", type=_fraction, help="fraction of bits flipped in each cue, an exact count round(rho N) "
                                                 "(default: the preset's, 0.125)")
    w.add_argument("--trials", type=_positive_int, help="cues per measured load (default: the preset's)")
    w.add_argument("--batch", type=_positive_int, help="trials per compiled batch, divides --trials "
                                                       "(default: the preset's, or --trials if smaller)")
    w.add_argument("--cues-per-set", type=_positive_int,
                   help="continuous models: trials sharing one set of memories, divides --batch (default: the "
                        "preset's, 16; 1 gives every trial its own memories)")
    w.add_argument("--step-factor", type=float,
                   help="multiply every continuous model's step limit, to check that K* is not set by it "
                        "(default 1)")
    w.add_argument("--criterion", choices=["retrieved", "fixed_point"],
                   help="what defines K*: exact retrieval from the cue, or the memory an exact fixed point "
                        "(default: retrieved)")
    w.add_argument("--seed", type=int, help="random seed of every trial (default: 0)")
    w.add_argument("--out", default="nam_output/sweep",
                   help="output folder; re-running with the same options resumes an interrupted sweep")
    w.add_argument("--plan", action="store_true",
                   help="print each (model, N)'s estimated work, peak memory and programs, and exit")
    w.add_argument("--report-only", action="store_true",
                   help="redraw the summary and figures of the finished sweep in --out, computing nothing")
    w.add_argument("--no-progress", action="store_true", help="no progress bar")
    w.add_argument("--restart", action="store_true",
                   help="start afresh: delete the sweep's own files in --out (spec, shard record, rows, summary, "
                        "fits, run record, figures) before running; other files there are left alone")
    w.add_argument("--workers", type=_positive_int,
                   help="threads running independent (model, N) searches at once (default: the CPU count on a "
                        "CPU, 1 on an accelerator); the tables do not depend on it")
    w.add_argument("--shard", metavar="I/M",
                   help="one task of a job array: measure only shard I of M of the (model, N) searches into "
                        "--out; combine the M folders with `nam sweep merge OUT DIR...`")
    w.add_argument("merge", nargs="*", metavar="merge OUT DIR",
                   help="`nam sweep merge OUT DIR1 DIR2 ...`: combine shard folders into OUT (summary, fits, "
                        "figures), computing nothing")
    dist = w.add_argument_group("several processes (jax.distributed; docs/cluster.md)")
    dist.add_argument("--distributed", action="store_true",
                      help="join a multi-process sweep, reading the cluster's environment (SLURM, Open MPI...)")
    dist.add_argument("--coordinator", metavar="HOST:PORT",
                      help="process 0's address; with --num-processes and --process-id, for a launch jax does "
                           "not detect (e.g. several processes on one machine)")
    dist.add_argument("--num-processes", type=_positive_int, help="the number of processes (with --coordinator)")
    dist.add_argument("--process-id", type=int, help="this process's id, 0-based (with --coordinator)")

    g = sub.add_parser("gordleeva", help="spiking neuron-astrocyte memory (Gordleeva et al. 2021): accuracy vs "
                                         "noise, two patterns, ablation, memory lifetime, figures")
    g.add_argument("--experiments", default="noise,two,lifetime",
                   help="comma-separated subset of noise (1 and 3: one digit, with and without astrocytes), "
                        "two (two digits), lifetime (accuracy vs delay)")
    g.add_argument("--trials", type=_positive_int, default=20, help="trials per noise level or delay (default 20)")
    g.add_argument("--noise", choices=["flip", "salt_and_pepper"], default="flip",
                   help="flip: the chosen fraction of pixels is inverted; salt_and_pepper: replaced by coin "
                        "flips (about half change). Default flip")
    g.add_argument("--delay-ms", type=_finite_float, default=1000.0,
                   help="delay from the end of training to the test (default 1000 ms)")
    g.add_argument("--dt", type=_finite_float, default=0.1, help="time step in ms (default 0.1, at most 0.5)")
    g.add_argument("--trigger", choices=["retrigger", "rising_edge"], default="retrigger",
                   help="how the neuron -> astrocyte condition starts IP3 pulses (default retrigger)")
    g.add_argument("--rate-rule", choices=["per_neuron", "mean"], default="per_neuron",
                   help="how the 17.5 Hz condition is read (default per_neuron)")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--out", default="nam_output/gordleeva", help="output folder (default nam_output/gordleeva)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")

    lp = sub.add_parser("learn", help="learn an astrocyte tensor for 10 correlated digit memories by "
                                      "differentiating through the dynamics; compare with the Hebbian tensor")
    lp.add_argument("--task", choices=["digits", "inpainting", "gain"], default="digits",
                    help="digits: learned vs Hebbian tensor on 10 correlated digits (default); inpainting: the "
                         "Appendix E model trained by BPTT to fill masked image patches; gain: train the neurons' "
                         "gain beta alone")
    lp.add_argument("--steps", type=_positive_int, help="Adam steps (default 300 digits, 2000 inpainting, 60 gain)")
    lp.add_argument("--lr", type=_finite_float, help="learning rate (default 0.01 digits, 0.003 inpainting, 0.05 gain)")
    lp.add_argument("--batch", type=_positive_int, help="cues or patches per step (default 32 digits, 64 inpainting, "
                                                         "32 gain)")
    lp.add_argument("--adjoint", choices=["recursive", "implicit"],
                    help="gradients by backpropagation through the solve or implicitly at the steady state (digits "
                         "and gain; default recursive)")
    lp.add_argument("--trials", type=_positive_int, help="held-out cues: per flip level for digits (default 200), in "
                                                         "all for gain (default: --batch)")
    lp.add_argument("--seed", type=int, default=0, help="random seed")
    lp.add_argument("--out", help="output folder (default nam_output/learn, nam_output/learn_inpainting, "
                                  "nam_output/learn_gain by task); its checkpoint makes a re-run resume")
    lp.add_argument("--no-progress", action="store_true", help="no progress bar")
    lp.add_argument("--restart", action="store_true", help="start afresh over a checkpoint in --out written with "
                                                           "other options (otherwise such a run is refused)")

    a = sub.add_parser("astrosnn", help="AstroSNN (astrocyte-modulated spiking units) against LIF-SNN, LSTM and "
                                        "transformer baselines at equal parameters: retention, language modelling")
    asub = a.add_subparsers(dest="task", required=True)
    from .astrosnn._models import MODEL_KINDS

    models_help = f"comma-separated subset of {','.join(MODEL_KINDS)} (default astrosnn,lif,lstm,transformer)"
    r = asub.add_parser("retention", help="accuracy vs delay (0..256) on associative recall and delayed copy")
    r.add_argument("--tasks", default="recall,copy", help="comma-separated subset of recall,copy")
    r.add_argument("--models", default="astrosnn,lif,lstm,transformer", help=models_help)
    r.add_argument("--max-delay", type=int, default=256, help="longest delay in tokens (default 256)")
    r.add_argument("--d", type=_positive_int, default=64, help="AstroSNN width; the others match its parameter count")
    r.add_argument("--steps", type=_positive_int, default=1000, help="training steps per model (default 1000)")
    r.add_argument("--decay", choices=["retnet", "wide"], default="retnet",
                   help="start of the astrocyte decays: retnet (0.969-0.999, default) or wide (0.5-0.998)")
    r.add_argument("--seed", type=int, default=0, help="random seed")
    r.add_argument("--out", default="nam_output/astrosnn_retention",
                   help="output folder (default nam_output/astrosnn_retention); a re-run resumes")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--restart", action="store_true", help="start afresh: discard the results and checkpoints in "
                                                          "--out (otherwise a run with other options is refused)")
    from .astrosnn._experiments import LM_MODELS

    m = asub.add_parser("lm", help="character language models on Tiny Shakespeare and held-out Python source, "
                                   "several seeds: validation nats per char, astrocyte ablation, spike rates")
    # the default is given in words (None here): argparse would wrap the list at a hyphen
    m.add_argument("--models", default=None,
                   help=f"comma-separated subset of {','.join(LM_MODELS)} (default: astrosnn, astrosnn-membrane, lif "
                        "and lstm; astrosnn-membrane is Figure 1's membrane read, the earlier default)")
    from ._data import CORPORA

    m.add_argument("--corpus", default=",".join(CORPORA),
                   help=f"comma-separated subset of {','.join(CORPORA)} (default: all)")
    m.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    m.add_argument("--params", type=_positive_int, default=500_000,
                   help="parameter count every model is matched to by its width (default 500000)")
    m.add_argument("--layers", type=_positive_int, default=4, help="blocks / layers (default 4)")
    m.add_argument("--steps", type=_positive_int, default=1000, help="training steps per model (default 1000)")
    m.add_argument("--batch", type=_positive_int, default=16, help="sequences per step (default 16)")
    m.add_argument("--length", type=_positive_int, default=128, help="training sequence length (default 128)")
    m.add_argument("--lr", type=_finite_float, default=2e-3, help="peak learning rate")
    m.add_argument("--out", default="nam_output/astrosnn_lm", help="output folder (default nam_output/astrosnn_lm); "
                                                                    "finished runs in it are reused")
    m.add_argument("--no-progress", action="store_true", help="no progress bar")
    m.add_argument("--restart", action="store_true", help="start afresh: retrain the runs asked for (otherwise a "
                                                          "run in --out made with other options is refused)")
    gen = asub.add_parser("generate", help="sample text from a trained character model checkpoint")
    gen.add_argument("checkpoint", help="a checkpoint written by `nam astrosnn lm` (e.g. nam_output/astrosnn_lm/"
                                        "runs/shakespeare_astrosnn_seed0.eqx)")
    gen.add_argument("--prompt", default="ROMEO:\n", help="text to start from (characters of the training data)")
    gen.add_argument("--chars", type=_positive_int, default=300, help="characters to generate (default 300)")
    gen.add_argument("--temperature", type=_finite_float, default=0.8, help="sampling temperature (1: the model's "
                                                                     "distribution; lower: more conservative)")
    gen.add_argument("--seed", type=int, default=0, help="random seed of the sampling")
    return p


def _demo_spec(args):
    from .experiments.demo import Spec

    if args.n < 2:
        raise ValueError("--n must be >= 2")
    return Spec(n=args.n, k=args.k, rho=args.rho, trials=args.trials, seed=args.seed, out=args.out)


def _gordleeva_spec(args):
    from .experiments.gordleeva import Spec

    return Spec(experiments=args.experiments, trials=args.trials, noise=args.noise, delay_ms=args.delay_ms,
                dt=args.dt, trigger=args.trigger, rate_rule=args.rate_rule, seed=args.seed, out=args.out)


def _learn_spec(args):
    from .experiments.learn import Spec

    if args.task == "inpainting":
        for flag, value in (("--adjoint", args.adjoint), ("--trials", args.trials)):
            if value is not None:
                raise ValueError(f"{flag} does not apply to --task inpainting (trained by backpropagation through its "
                                 "Euler steps, tested on every held-out patch); it applies to --task digits and gain")
    # an explicit --out is used as given; without one, each task has its own folder
    return Spec(task=args.task, steps=args.steps, learning_rate=args.lr, batch=args.batch, adjoint=args.adjoint,
                trials=args.trials, seed=args.seed, out=args.out, restart=args.restart)


def _astrosnn_spec(args):
    from .experiments import astrosnn as ex

    if args.task == "generate":
        return ex.GenerateSpec(checkpoint=args.checkpoint, prompt=args.prompt.replace("\\n", "\n"), chars=args.chars,
                               temperature=args.temperature, seed=args.seed)
    from ._data import CORPORA
    from .astrosnn._experiments import LM_MODELS
    from .astrosnn._models import MODEL_KINDS

    if args.models is None:  # lm's default, given in words in its help
        args.models = ",".join(ex.LMSpec.models)
    models = ex.check_models((x.strip() for x in args.models.split(",") if x.strip()),
                             LM_MODELS if args.task == "lm" else MODEL_KINDS)
    if not models:
        raise ValueError(f"--models: no model named in {args.models!r}")
    if args.task == "retention":
        if args.max_delay < 0:
            raise ValueError(f"--max-delay must be >= 0, got {args.max_delay}")
        return ex.RetentionSpec(tasks=tuple(x.strip() for x in args.tasks.split(",") if x.strip()), models=models,
                                max_delay=args.max_delay, d=args.d, steps=args.steps, decay=args.decay, seed=args.seed,
                                out=args.out, restart=args.restart)
    corpora = tuple(x.strip() for x in args.corpus.split(",") if x.strip())
    for x in corpora:
        if x not in CORPORA:
            raise ValueError(f"--corpus: unknown corpus {x!r}; expected {', '.join(CORPORA)}")
    try:
        seeds = tuple(int(x) for x in args.seeds.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers >= 0, got {args.seeds!r}") from None
    if not corpora or not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"--corpus and --seeds must each name at least one (distinct seeds >= 0), got "
                         f"{args.corpus!r} and {args.seeds!r}")
    return ex.LMSpec(models=models, corpora=corpora, seeds=seeds, params=args.params, layers=args.layers,
                     steps=args.steps, batch=args.batch, length=args.length, learning_rate=args.lr, out=args.out,
                     restart=args.restart)


# every command runs its experiment (`nam.experiments`) through `_run_experiment`; this builds each one's
# spec from the flags (`nam sweep` builds its spec in `_sweep`, after its own modes: merge, --plan,
# --report-only, joining several processes)
_SPECS = {"demo": _demo_spec, "gordleeva": _gordleeva_spec, "learn": _learn_spec, "astrosnn": _astrosnn_spec}


def _run_experiment(command: str, experiment, build_spec, args) -> int:
    """Every experiment the same way: flags -> spec -> the output folder checked -> the experiment's own
    checks -> run header -> run -> its text printed -> its files written, each path printed. A refused
    option or a failed run: one line on stderr, exit status 2; Ctrl-C: what was kept and how to resume, 130."""
    try:
        spec = build_spec(args)
    except ValueError as e:
        print(f"nam {command}: {e}", file=sys.stderr)
        return 2
    import jax

    lead = jax.process_index() == 0  # with several processes (a sweep), process 0 alone prints and writes
    if lead and spec.out is not None and not _check_out(command, spec.out):
        return 2
    try:
        experiment.check(spec)
        header = experiment.describe(spec)
        if header is not None and lead:
            _run_header(*header)
        result = experiment.run(spec, progress=not getattr(args, "no_progress", False))
    except (ValueError, *experiment.ERRORS) as e:
        print(f"nam {command}: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, *getattr(experiment, "INTERRUPTS", ())) as e:
        return _interrupted(command, experiment.resume_hint(spec, e))
    if not lead:
        return 0
    print(experiment.format(result))
    for path in experiment.write(result, spec.out):
        print(f"wrote {path}")
    return 0


def _compilation_cache() -> None:
    """jax's persistent compilation cache for repeated sweeps, when $NAM_COMPILATION_CACHE names a folder
    (off by default: a cold run compiles everything). The CLI is the application, so it may set this
    process-wide option; the library never does."""
    import jax

    path = os.environ.get("NAM_COMPILATION_CACHE", "")
    if path:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def _sweep_grid(args, preset_grid: dict) -> dict:
    """The N grid from --models and --n (per-model MODEL=N1,N2 entries, or one grid for every model)."""
    from .sweep._registry import REGISTRY

    grid = dict(preset_grid)
    if args.models is not None:
        names = [m.strip() for m in args.models.split(",") if m.strip()]
        if not names:
            raise ValueError("--models is empty; expected a comma-separated list of " + ", ".join(REGISTRY))
        unknown = [m for m in names if m not in REGISTRY]
        if unknown:
            raise ValueError(f"--models: unknown model(s) {', '.join(unknown)}; expected any of {', '.join(REGISTRY)}")
        grid = {m: preset_grid.get(m) for m in names}
    shared, per_model = None, {}
    for entry in args.n or []:
        name, _, values = entry.rpartition("=")
        try:
            ns = tuple(int(x) for x in values.split(",") if x.strip())
        except ValueError:
            raise ValueError(f"--n {entry!r}: expected [MODEL=]N1,N2,... with integer N") from None
        if not ns:
            raise ValueError(f"--n {entry!r}: no N given")
        if name:
            if name not in REGISTRY:
                raise ValueError(f"--n {entry!r}: unknown model {name!r}; expected any of {', '.join(REGISTRY)}")
            per_model[name] = ns
            if args.models is None and name not in grid:
                grid[name] = ns
        else:
            shared = ns
    for name in grid:
        if name in per_model:
            grid[name] = per_model[name]
        elif shared is not None:
            grid[name] = shared
        elif grid[name] is None:
            raise ValueError(f"--models: {name} has no N grid in this preset; give one with --n {name}=N1,N2,...")
    extra = [m for m in per_model if m not in grid]
    if extra:
        raise ValueError(f"--n names {', '.join(extra)}, which --models does not select")
    return grid


def _parse_shard(text: str) -> tuple[int, int]:
    from .sweep._store import check_shard

    index, sep, count = (text or "").partition("/")
    try:
        shard = (int(index), int(count)) if sep else None
    except ValueError:
        shard = None
    if shard is None:
        raise ValueError(f"--shard {text!r}: expected I/M with integers 1 <= I <= M, e.g. 2/8")
    try:
        return check_shard(shard)
    except ValueError as e:
        raise ValueError(f"--shard {text}: {e}") from None


SWEEP_FILES = ("spec.json", "shard.json", "rows.csv", "summary.csv", "fits.csv", "run.json", "capacity.png",
               "collapse.png", "bit_errors.png", "per_unit.png")


def _remove_sweep_files(out: str) -> None:
    """`nam sweep --restart`: delete the files a sweep writes in `out`, and nothing else."""
    for name in SWEEP_FILES:
        path = os.path.join(out, name)
        if os.path.isfile(path):
            os.remove(path)


def _sweep_merge(args) -> int:
    from .experiments import sweep as ex
    from .sweep._engine import merge_sweeps
    from .sweep._store import SpecMismatch

    if len(args.merge) < 3:
        print("nam sweep merge: expected `nam sweep merge OUT DIR1 [DIR2 ...]`", file=sys.stderr)
        return 2
    out, dirs = args.merge[1], args.merge[2:]
    try:
        result = merge_sweeps(out, dirs)
    except (ValueError, SpecMismatch, OSError) as e:
        print(f"nam sweep merge: {e}", file=sys.stderr)
        return 2
    merged = ex.SweepRun(result)  # printed and written like a whole sweep's run
    print(ex.format(merged))
    for path in ex.write(merged, out):
        print(f"wrote {path}")
    return 0


def _sweep_distributed(args) -> str | None:
    """Join the multi-process run the flags ask for; an error message, or None."""
    flags = (args.coordinator, args.num_processes, args.process_id)
    if not args.distributed and all(f is None for f in flags):
        return None
    if any(f is not None for f in flags) and not all(f is not None for f in flags):
        return "--coordinator, --num-processes and --process-id go together (or use --distributed alone)"
    from .sweep._distributed import initialize_distributed

    try:
        initialize_distributed(*flags) if flags[0] is not None else initialize_distributed()
    except (ValueError, RuntimeError) as e:
        return f"could not join the multi-process run: {e}"
    return None


def _sweep(args) -> int:
    from .sweep._engine import load_sweep
    from .sweep._plan import format_plan, plan_sweep
    from .sweep._report import format_summary, write_sweep_figures
    from .sweep._spec import PRESETS, preset

    if args.merge:
        if args.merge[0] != "merge":
            print(f"nam sweep: unexpected argument {args.merge[0]!r}; the only subcommand is "
                  "`nam sweep merge OUT DIR...`", file=sys.stderr)
            return 2
        return _sweep_merge(args)
    if args.report_only:
        ignored = [flag for flag, value in (("--models", args.models), ("--n", args.n), ("--rho", args.rho),
                                            ("--trials", args.trials), ("--batch", args.batch),
                                            ("--cues-per-set", args.cues_per_set), ("--step-factor", args.step_factor),
                                            ("--criterion", args.criterion), ("--seed", args.seed),
                                            ("--shard", args.shard), ("--restart", args.restart),
                                            ("--plan", args.plan)) if value not in (None, False)]
        if ignored or args.preset != "default":
            flags = ignored + (["--preset"] if args.preset != "default" else [])
            print(f"nam sweep: --report-only redraws the finished sweep stored in --out and takes none of "
                  f"{', '.join(flags)} (the stored spec says what was measured)", file=sys.stderr)
            return 2
        try:
            result = load_sweep(args.out)
        except (FileNotFoundError, ValueError) as e:
            print(f"nam sweep: {e}", file=sys.stderr)
            return 2
        print(format_summary(result))
        for path in write_sweep_figures(result, args.out):
            print(f"wrote {path}")
        return 0
    try:
        overrides = {k: getattr(args, k) for k in ("rho", "trials", "batch", "criterion", "seed", "cues_per_set",
                                                   "step_factor")
                     if getattr(args, k) is not None}
        grid = _sweep_grid(args, PRESETS[args.preset]["n_grid"])
        if "trials" in overrides and "batch" not in overrides:
            overrides["batch"] = min(overrides["trials"], PRESETS[args.preset]["batch"])
        spec = preset(args.preset, n_grid=grid, **overrides)
        shard = None if args.shard is None else _parse_shard(args.shard)
    except ValueError as e:
        print(f"nam sweep: {e}", file=sys.stderr)
        return 2
    if args.plan:
        print(format_plan(spec, plan_sweep(spec)))
        return 0
    if args.restart:
        _remove_sweep_files(args.out)
    error = _sweep_distributed(args)
    if error:
        print(f"nam sweep: {error}", file=sys.stderr)
        return 2
    from .experiments import experiment
    from .experiments.sweep import Spec

    return _run_experiment("sweep", experiment("sweep"), lambda a: Spec(sweep=spec, out=a.out, shard=shard,
                                                                        workers=a.workers, preset=a.preset), args)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sweep":
        _compilation_cache()
        return _sweep(args)
    from .experiments import experiment

    command = f"astrosnn {args.task}" if args.command == "astrosnn" else args.command
    return _run_experiment(command, experiment(args.command), _SPECS[args.command], args)


if __name__ == "__main__":
    raise SystemExit(main())
