"""One experiment interface: every `nam` command runs a final subclass of `nam.experiments.AbstractExperiment`
(a frozen dataclass of declared options with `run`, `format`, `write`), the CLI is generated from the declared
options and dispatches to each one the same way, and nothing in `nam` writes a file except through `nam._io`."""

import argparse
import ast
import dataclasses
import inspect
import pathlib

import pytest

import nam
from nam._cli import _parser, main, shown_default
from nam.experiments import EXPERIMENTS, AbstractExperiment


def _commands(parser=None, prefix=()):
    """Every runnable command's words, from the generated parser."""
    parser = _parser() if parser is None else parser
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                below = _commands(sub, prefix + (name,))
                found |= below or {" ".join(prefix + (name,))}
    return found


def test_every_command_is_an_experiment_with_the_same_interface():
    assert _commands() == {cls.command for cls in EXPERIMENTS}
    for cls in EXPERIMENTS:
        assert issubclass(cls, AbstractExperiment) and not inspect.isabstract(cls), cls
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls
        assert cls.summary and cls.options(), cls
        run = inspect.signature(cls.run).parameters
        assert run["progress"].kind is inspect.Parameter.KEYWORD_ONLY, cls
        assert list(inspect.signature(cls.format).parameters) == ["self", "result"], cls
        assert list(inspect.signature(cls.write).parameters) == ["self", "result", "out_dir"], cls


def test_an_experiment_missing_a_method_cannot_be_made():
    @dataclasses.dataclass(frozen=True)
    class Half(AbstractExperiment):
        command = "half"
        summary = "runs but cannot format or write"
        out: str = "x"

        def run(self, *, progress=True):
            return 1

    with pytest.raises(TypeError, match="abstract"):
        Half()


def test_the_cli_is_generated_from_the_declared_options():
    """Every declared option is a flag of its command, with the declared default in --help, and nothing else
    (but --help and --no-progress) is."""
    parser = _parser()
    for cls in EXPERIMENTS:
        sub = parser
        for word in cls.command.split():
            sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
        flags = {a.option_strings[0] if a.option_strings else a.dest for a in sub._actions}
        declared = {o.name if o.positional else o.flag for o in cls.options()}
        assert flags - declared == {"-h", "--no-progress"}, cls
        assert declared <= flags, cls
        text = " ".join(sub.format_help().split())
        for o in cls.options():
            if o.kind is not bool and o.default not in (None, ()) and not o.positional:
                assert f"(default: {shown_default(o)})" in text, (cls.command, o.name)
            for choice in o.choices or ():
                assert str(choice) in text, (cls.command, o.name, choice)


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["gordleeva"],
        ["learn", "gain"],
        ["learn", "digits"],
        ["learn", "inpainting"],
        ["astrosnn", "retention"],
        ["astrosnn", "lm"],
        ["astrosnn", "generate", "model.eqx"],
    ],
)
def test_cli_dispatches_every_command_through_its_experiment(argv, tmp_path, monkeypatch, capsys):
    cls = next(c for c in EXPERIMENTS if c.command == " ".join(w for w in argv if not w.endswith(".eqx")))
    calls = []
    monkeypatch.setattr(cls, "check", lambda self: calls.append(("check", self)))
    monkeypatch.setattr(cls, "describe", lambda self: calls.append("describe"))
    monkeypatch.setattr(cls, "run", lambda self, *, progress: calls.append(("run", progress)) or "RESULT")
    monkeypatch.setattr(cls, "format", lambda self, result: calls.append(("format", result)) or "the table")
    monkeypatch.setattr(
        cls, "write", lambda self, result, out_dir: calls.append(("write", out_dir)) or ["a.json", "b.png"]
    )
    out = [] if argv[-1].endswith(".eqx") else ["--out", str(tmp_path / "out")]
    assert main(argv + out) == 0
    experiment = calls[0][1]
    assert type(experiment) is cls
    assert [c if isinstance(c, str) else c[0] for c in calls] == ["check", "describe", "run", "format", "write"]
    assert calls[2] == ("run", True)  # --no-progress not given
    assert calls[4] == ("write", None if out == [] else str(tmp_path / "out"))
    assert capsys.readouterr().out == "the table\nwrote a.json\nwrote b.png\n"


def test_cli_handles_errors_and_ctrl_c_in_one_place(tmp_path, monkeypatch, capsys):
    from nam.experiments import Demo

    def interrupted(self, *, progress):
        raise KeyboardInterrupt

    monkeypatch.setattr(Demo, "run", interrupted)
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 130
    assert capsys.readouterr().err == (
        "nam demo: interrupted; the demo keeps no partial results, nothing was saved; run it again\n"
    )

    def refused(self, *, progress):
        raise ValueError("too big for `n`")

    monkeypatch.setattr(Demo, "run", refused)
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 2
    assert capsys.readouterr().err == "nam demo: too big for --n\n"


@pytest.mark.slow  # ~10 s on 2 cores: the default run stays under 10 minutes
def test_experiments_run_from_python(tmp_path):
    from nam.experiments import Demo

    experiment = Demo(n=12, k=2, trials=2, out=str(tmp_path))
    result = experiment.run(progress=False)
    assert "classical Hopfield" in experiment.format(result)
    paths = experiment.write(result, experiment.out)
    assert [pathlib.Path(p).name for p in paths] == ["demo.json", "demo.png"]
    assert all(pathlib.Path(p).exists() for p in paths)


def test_experiments_are_checked_when_made_naming_the_option():
    from nam.experiments import AstroSNNLM, Gordleeva, LearnGain, Sweep

    assert LearnGain().out == "nam_output/learn_gain" and Gordleeva(experiments=("noise", "two")).trials == 20
    with pytest.raises(ValueError, match="`experiments`"):
        Gordleeva(experiments=("noise", "three"))
    with pytest.raises(ValueError, match="`models`.*rwkv"):
        AstroSNNLM(models=("lstm", "rwkv"))
    with pytest.raises(ValueError, match="`n`"):  # the SweepSpec's n_grid is this experiment's --n
        Sweep(n=("hopfield=1",))
    with pytest.raises(ValueError, match="`trials`"):
        Sweep(report_only=True, trials=4)


def _writes(tree):
    """(line, call) of every call in `tree` that writes a file other than through nam._io."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "open" and not (isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "os"):
            mode = (
                node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            if mode is not None and not (isinstance(mode, ast.Constant) and set(str(mode.value)) <= set("rbt")):
                yield node.lineno, ast.unparse(node)
        elif isinstance(func, ast.Attribute) and (
            name in ("write_text", "write_bytes", "to_csv", "tofile")
            or name in ("dump", "save", "savetxt", "savez")
            and getattr(func.value, "id", "") in ("json", "np", "numpy", "pickle")
        ):
            yield node.lineno, ast.unparse(node)
        elif name == "open" and any("O_WRONLY" in ast.unparse(a) or "O_CREAT" in ast.unparse(a) for a in node.args):
            yield node.lineno, ast.unparse(node)


def test_files_are_written_only_through_nam_io():
    root = pathlib.Path(nam.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "_io.py":
            continue
        found += [f"{path.relative_to(root)}:{line}: {call}" for line, call in _writes(ast.parse(path.read_text()))]
    assert not found, "write through nam._io (atomic_write, write_json):\n" + "\n".join(found)


def test_the_write_check_finds_a_plain_write():
    text = (
        'with open(path, "w") as f:\n    f.write(x)\nopen(p, mode="wb")\nopen(p)\nopen(p, "rb")\njson.dump(x, f)\n'
        "save(state)\nnp.save(p, x)\npath.write_text(x)\n"
    )
    assert sorted(line for line, _ in _writes(ast.parse(text))) == [1, 3, 6, 8, 9]


def test_data_loaders_live_in_one_module():
    from nam import _data

    assert nam.spiking.load_digit is _data.load_digit
    assert nam.learning.digit_patterns is _data.digit_patterns
    assert nam.astrosnn.load_text is _data.load_text
    learning = pathlib.Path(nam.__file__).parent / "learning"
    imported = {
        node.module
        for path in learning.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not [m for m in imported if "spiking" in m]  # learning reads the digits from nam._data, not nam.spiking
