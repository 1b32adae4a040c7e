"""The `nam` command line, generated from the experiments' declared options.

Every command runs one experiment of `nam.experiments` (`EXPERIMENTS`): its parser is built from the options
the experiment declares (`nam.experiments.option`: default, help, choices), the flags become the experiment's
fields, the experiment checks them (once, in the library), and `_run` does the rest the same way for every
command: the experiment's own checks, the output folder checked writable, the run header, `run`, the text
printed, the files written and each path printed. Every refused option or failed run is one line on stderr,
`nam <command>: <message>` naming the flag, with exit status 2; Ctrl-C says what was kept, with status 130.
"""

import argparse
import os
import re
import sys

from .experiments import EXPERIMENTS, GROUPS
from .experiments._base import AbstractExperiment, Option


class _UsageError(Exception):
    """A command line the parser refuses (`main` prints it in one line and returns 2)."""


class _Formatter(argparse.HelpFormatter):
    """Help text wrapped at spaces only: a list such as `astrosnn,astrosnn-membrane` stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """Every `nam` parser: errors in the project's one-line style (no usage dump), exit status 2; help
    wrapped at spaces only."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message.removeprefix('argument ')}")


def _converter(option: Option):
    """The CLI's type conversion of one option (its range is checked by the experiment)."""
    what = {int: "an integer", float: "a number", str: "a word"}[option.kind]

    def one(text: str):
        try:
            return option.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None

    def convert(text: str):
        if not option.many or option.repeat:  # a repeated flag collects one value per use
            return one(text)
        return tuple(one(x.strip()) for x in text.split(",") if x.strip())

    return convert


def _help(option: Option) -> str:
    if option.kind is bool or option.default in (None, ()) or option.positional:
        return option.help
    return f"{option.help} (default: {shown_default(option)})"


def shown_default(option: Option) -> str:
    """An option's default as `--help` shows it (a tuple comma-separated, a newline as \\n)."""
    shown = ",".join(map(str, option.default)) if option.many else str(option.default)
    return shown.replace("\n", "\\n")


def _add_command(sub, cls: type[AbstractExperiment]) -> None:
    parser = sub.add_parser(
        cls.command.split()[-1],
        help=cls.summary,
        description=cls.description or cls.summary,
        argument_default=argparse.SUPPRESS,
    )
    for o in cls.options():
        if o.positional:  # a tuple takes every remaining word, a single value exactly one
            parser.add_argument(o.name, nargs="*" if o.many else None, metavar=o.metavar or o.name.upper(), help=o.help)
        elif o.kind is bool:
            parser.add_argument(o.flag, dest=o.name, action="store_true", help=o.help)
        else:
            action = "append" if o.repeat else "store"
            metavar = o.metavar or (f"{o.name.upper()}1,..." if o.many else None)
            parser.add_argument(
                o.flag,
                dest=o.name,
                action=action,
                type=_converter(o),
                choices=o.choices,
                metavar=metavar,
                help=_help(o),
            )
    parser.add_argument("--no-progress", action="store_true", default=False, help="no progress bar")
    parser.set_defaults(_experiment=cls)


def _parser() -> argparse.ArgumentParser:
    """The parser of every command, from `nam.experiments.EXPERIMENTS` (groups from `GROUPS`)."""
    p = _Parser(prog="nam", description="Neuron-astrocyte associative memory toolkit.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    top = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    groups: dict[str, argparse._SubParsersAction] = {}
    for cls in EXPERIMENTS:
        words = cls.command.split()
        sub = top
        if len(words) == 2:
            if words[0] not in groups:
                group = top.add_parser(words[0], help=GROUPS[words[0]], description=GROUPS[words[0]])
                groups[words[0]] = group.add_subparsers(dest="task", required=True, parser_class=_Parser)
            sub = groups[words[0]]
        _add_command(sub, cls)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nam-astro")  # the distribution's name (the import name is nam)
    except PackageNotFoundError:  # running from a checkout that is not installed
        from . import __version__

        return __version__


def _run_header(command: str, details: dict) -> None:
    """Print what is about to run, its sizes and the devices, before long work starts."""
    import jax

    devices = jax.devices()
    kinds = sorted({f"{d.platform}" + (f" ({d.device_kind})" if d.platform != "cpu" else "") for d in devices})
    precision = jax.dtypes.canonicalize_dtype(float).name
    lines = [f"nam {_version()}: {command}"]
    lines += [f"  {key}: {value}" for key, value in details.items()]
    lines.append(f"  devices: {len(devices)} x {', '.join(kinds)} (jax {jax.__version__}, {precision})")
    print("\n".join(lines), flush=True)


def _flags(message: str, cls: type[AbstractExperiment]) -> str:
    """The experiment's field names in `message` written as the CLI's flags (`delay_ms` -> --delay-ms)."""
    for o in cls.options():
        message = re.sub(rf"`{o.name}`", o.name.upper() if o.positional else o.flag, message)
    return message


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"nam {command}: {message}", file=sys.stderr, flush=True)
    return code


def _compilation_cache() -> None:
    """jax's persistent compilation cache, when $NAM_COMPILATION_CACHE names a folder (off by default: a cold
    run compiles everything). The CLI is the application, so it may set this process-wide option; the library
    never does."""
    import jax

    path = os.environ.get("NAM_COMPILATION_CACHE", "")
    if path:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def _run(experiment: AbstractExperiment, *, progress: bool) -> int:
    """Every experiment the same way: its checks -> the output folder checked -> run header -> run -> its
    text printed -> its files written, each path printed. A refused option or a failed run: one line on
    stderr, exit status 2; Ctrl-C: what was kept and how to resume, exit status 130."""
    from ._checks import check_output_dir

    command, cls = experiment.command, type(experiment)
    errors: tuple[type[BaseException], ...] = (ValueError, *experiment.errors)
    interrupts: tuple[type[BaseException], ...] = (KeyboardInterrupt, *experiment.interrupts)
    try:
        experiment.check()  # before jax starts: a multi-process sweep joins its cluster here
        import jax

        lead = jax.process_index() == 0  # with several processes (a sweep), process 0 alone prints and writes
        if lead and experiment.output_dir is not None:
            check_output_dir("`out`", experiment.output_dir)
        header = experiment.describe()
        if header is not None and lead:
            _run_header(*header)
        result = experiment.run(progress=progress)
    except errors as e:
        return _fail(command, _flags(str(e), cls))
    except interrupts as e:
        return _fail(command, f"interrupted; {experiment.resume_hint(e)}", 130)
    if not lead:
        return 0
    print(experiment.format(result))
    for path in experiment.write(result, experiment.output_dir):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`nam COMMAND [OPTIONS]`: parse, build the command's experiment from the flags given (the others take
    the experiment's declared defaults), run it; the exit status."""
    try:
        namespace, unknown = _parser().parse_known_args(argv)
    except _UsageError as e:
        print(e, file=sys.stderr, flush=True)
        return 2
    args = vars(namespace)
    cls, progress = args.pop("_experiment"), not args.pop("no_progress")
    if unknown:
        return _fail(cls.command, f"unrecognized arguments: {' '.join(unknown)} (see `nam {cls.command} --help`)")
    args.pop("command"), args.pop("task", None)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}  # repeated flags, positionals
    _compilation_cache()
    try:
        experiment = cls(**args)
    except (ValueError, TypeError) as e:
        return _fail(cls.command, _flags(str(e), cls))
    return _run(experiment, progress=progress)


if __name__ == "__main__":
    raise SystemExit(main())
