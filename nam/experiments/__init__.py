"""The experiments behind the `nam` commands, one module each, all with the same interface.

Each module `nam.experiments.<name>` has:

- `Spec` (or one spec class per task): a frozen dataclass of the experiment's options; the CLI builds it
  from its flags, Python code builds it directly;
- `run(spec, *, progress=True) -> result`: the computation (resuming from what `spec.out` holds, where the
  experiment keeps checkpoints or partial results);
- `format(result) -> str`: the text the CLI prints;
- `write(result, out_dir) -> list[str]`: the files written (tables and results through `nam._io`:
  atomic, strict JSON; figures by matplotlib), their paths in order.

and, for the CLI, `ERRORS` (the exceptions that end a run with a one-line message and exit status 2),
`describe(spec)` (the run header: a title and a dict, or None), `check(spec)` (checks that need the
output folder, run before any compute) and `resume_hint(spec, error)` (what Ctrl-C kept, how to resume).

The CLI (`nam._cli`) dispatches every command the same way: flags -> spec -> the output folder checked ->
`check` -> header -> `run` -> print `format(result)` -> `write` -> print each written path. `nam sweep`
keeps its own modes (merge, --plan, --report-only, --shard, several processes) in `nam._cli`; its
`sweep` module here is the same interface over `nam.run_sweep`.

The models, losses, training loops and figures these drive live in the library subpackages
(`nam.learning`, `nam.spiking`, `nam.astrosnn`, `nam.sweep`); the data they read in `nam._data`.
"""

import importlib

EXPERIMENTS = ("demo", "sweep", "learn", "gordleeva", "astrosnn")


def experiment(name: str):
    """The module of the experiment behind `nam <name>` (imported on first use)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"`name` must be one of {', '.join(EXPERIMENTS)}, got {name!r}")
    return importlib.import_module(f"{__name__}.{name}")
