"""The one experiment interface: an abstract base whose subclasses are frozen dataclasses of declared options.

An experiment is what one `nam` command runs. Its options are the dataclass's fields, each declared once with
`option(default, help)`: the default, the help text and the flag are read from the declaration by the CLI
(`nam._cli` builds every parser from them), by Python callers (`Demo(n=64)`) and by the docs. The values are
checked once, in the library, in `__post_init__`, with the field's name in the message (`nam._checks`); the
CLI turns a field's name into its flag (`n_grid` -> `--n-grid`) when it prints the error.

Every experiment implements `run` (the computation, resuming from what `out` holds where the experiment keeps
checkpoints), `format` (the text the CLI prints) and `write` (the files written, their paths in order), and may
override `check` (checks that need the output folder, run before any compute), `describe` (the run header) and
`resume_hint` (what Ctrl-C kept). `errors` are the exceptions that end a run with a one-line message;
`interrupts` the ones that end it like Ctrl-C.
"""

import abc
import dataclasses
import types
import typing
from typing import Any, ClassVar


def option(
    default: Any,
    help: str,
    *,
    choices: tuple | None = None,
    metavar: str | None = None,
    positional: bool = False,
    repeat: bool = False,
    flag: str | None = None,
) -> Any:
    """A declared option: a dataclass field with its default, help text and CLI form.

    **Arguments:**

    - `default`: the value when the option is not given (also the CLI's default and the one `--help` shows).
    - `help`: one line for `--help`.
    - `choices`: the values the option takes, for `--help` and the CLI's check (the experiment checks them too).
    - `metavar`: the name of the value in `--help`.
    - `positional`: a positional argument (a tuple of strings taking every remaining word) instead of a flag.
    - `repeat`: a flag that may be given several times, collected into a tuple.
    - `flag`: the CLI flag, when it is not `--` and the name with dashes (`learning_rate` is `--lr`).

    **Returns:** a `dataclasses.field` carrying that metadata.
    """
    meta = {
        "help": help,
        "choices": choices,
        "metavar": metavar,
        "positional": positional,
        "repeat": repeat,
        "flag": flag,
    }
    return dataclasses.field(default=default, metadata={"nam_option": meta})


@dataclasses.dataclass(frozen=True)
class Option:
    """One declared option as the CLI reads it: `name` (the field), `flag` (`--name-with-dashes`), `kind`
    (bool, int, float or str), `many` (a comma-separated tuple), `optional` (None allowed), the declaration."""

    name: str
    flag: str
    default: Any
    kind: type
    many: bool
    optional: bool
    help: str
    choices: tuple | None
    metavar: str | None
    positional: bool
    repeat: bool


def _kind(annotation) -> tuple[type, bool, bool]:
    """(element type, is a tuple, None allowed) of an option's annotation."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
    if typing.get_origin(annotation) is tuple:
        return typing.get_args(annotation)[0], True, optional
    return annotation, False, optional


class AbstractExperiment(abc.ABC):
    """The base of every experiment behind a `nam` command (subclasses are frozen dataclasses; see the module
    docstring). Class attributes: `command` (the words after `nam`, e.g. "astrosnn lm"), `summary` (one line
    for the parent command's `--help`), `description` (the command's own `--help`), `errors`, `interrupts`."""

    out: Any  # the output folder (None: writes nothing); every experiment declares it as an option
    command: ClassVar[str]
    summary: ClassVar[str]
    description: ClassVar[str] = ""
    errors: ClassVar[tuple[type[BaseException], ...]] = (ValueError,)
    interrupts: ClassVar[tuple[type[BaseException], ...]] = ()

    @classmethod
    def options(cls) -> tuple[Option, ...]:
        """The declared options, in declaration order."""
        hints = typing.get_type_hints(cls)
        found = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            meta = f.metadata.get("nam_option")
            if meta is None:
                continue
            kind, many, optional = _kind(hints[f.name])
            meta = dict(meta)
            flag = meta.pop("flag") or "--" + f.name.replace("_", "-")
            found.append(Option(f.name, flag, f.default, kind, many, optional, **meta))
        return tuple(found)

    @property
    def output_dir(self) -> str | None:
        """The folder this run writes (checked writable before any compute), or None when it writes nothing."""
        return self.out

    def check(self) -> None:  # noqa: B027 - an optional hook: most experiments need no check
        """Checks that need the output folder or the environment, run before any compute (ValueError)."""

    def describe(self) -> tuple[str, dict] | None:
        """The run header, (title, {what: value}), or None for a short run that prints none."""
        return None

    @abc.abstractmethod
    def run(self, *, progress: bool = True) -> Any:
        """The computation; returns the result `format` and `write` take."""

    @abc.abstractmethod
    def format(self, result: Any) -> str:
        """The text the CLI prints for `result`."""

    @abc.abstractmethod
    def write(self, result: Any, out_dir: str | None) -> list[str]:
        """Write `result`'s files into `out_dir`; returns their paths in order."""

    def resume_hint(self, error: BaseException) -> str:
        """What an interrupted run kept and how to go on (printed after Ctrl-C)."""
        return "nothing was saved; run it again"
