"""The `nam` command line. `nam demo`: retrieval with every model, table printed, figures written."""

import argparse
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
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
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
