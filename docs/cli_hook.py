"""MkDocs hook: the command-line reference (`docs/cli.md`) is generated at build time from the experiments'
declared options (`nam.experiments`), the same declarations the CLI's parser and `--help` are built from: a
page writes `<!-- cli:options -->` and the build replaces it with one table per command (flag, default,
help). A default or a help text is declared once, in the experiment's class."""

import re

MARKER = re.compile(r"<!--\s*cli:options\s*-->")


def _default(option) -> str:
    from nam._cli import shown_default

    if option.kind is bool:
        return "off"
    if option.positional:
        return "(required)" if not option.many else "-"
    return "-" if option.default in (None, ()) else f"`{shown_default(option)}`"


def _tables() -> str:
    from nam.experiments import EXPERIMENTS

    parts = []
    for cls in EXPERIMENTS:
        lines = [
            f"### `nam {cls.command}`",
            "",
            cls.description or cls.summary,
            "",
            f"The experiment `nam.experiments.{cls.__name__}`.",
            "",
            "| option | default | what |",
            "|---|---|---|",
        ]
        for o in cls.options():
            name = o.metavar or o.name.upper() if o.positional else o.flag
            text = o.help.replace("|", "\\|") + (f" (one of {', '.join(map(str, o.choices))})" if o.choices else "")
            lines.append(f"| `{name}` | {_default(o)} | {text} |")
        lines.append("| `--no-progress` | off | no progress bar |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def on_page_markdown(markdown, page, config, files):
    if not MARKER.search(markdown):
        return markdown
    return MARKER.sub(lambda m: _tables(), markdown)
