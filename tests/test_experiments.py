"""One experiment interface: every `nam` command runs a module of `nam.experiments` with the same steps
(`run(spec, *, progress)`, `format(result)`, `write(result, out_dir)`), the CLI dispatches to each one the
same way, and nothing in `nam` writes a file except through `nam._io`."""

import ast
import inspect
import pathlib

import pytest

import nam
from nam._cli import _SPECS, _parser, main
from nam.experiments import EXPERIMENTS, experiment

_HOOKS = ("run", "format", "write", "check", "describe", "resume_hint")


def _commands():
    import argparse

    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("no subcommands")


def test_every_command_has_an_experiment_with_the_same_interface():
    assert _commands() == set(EXPERIMENTS)
    assert set(_SPECS) == set(EXPERIMENTS) - {"sweep"}  # the sweep keeps its own modes in the CLI
    for name in EXPERIMENTS:
        module = experiment(name)
        assert module.__name__ == f"nam.experiments.{name}"
        for hook in _HOOKS:
            assert callable(getattr(module, hook, None)), (name, hook)
        assert isinstance(module.ERRORS, tuple), name
        run = inspect.signature(module.run).parameters
        assert list(run)[0] == "spec" and run["progress"].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert list(inspect.signature(module.format).parameters) == ["result"], name
        assert list(inspect.signature(module.write).parameters) == ["result", "out_dir"], name


def test_unknown_experiment_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="demo, sweep, learn, gordleeva, astrosnn"):
        experiment("nope")


def _frozen_dataclass(obj) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(obj) and type(obj).__dataclass_params__.frozen


@pytest.mark.parametrize("argv", [["demo"], ["gordleeva"], ["learn", "--task", "gain"], ["learn"],
                                  ["learn", "--task", "inpainting"], ["astrosnn", "retention"], ["astrosnn", "lm"],
                                  ["astrosnn", "generate", "model.eqx"]])
def test_cli_dispatches_every_command_through_its_experiment(argv, tmp_path, monkeypatch, capsys):
    module = experiment(argv[0])
    calls = []
    monkeypatch.setattr(module, "check", lambda spec: calls.append(("check", spec)))
    monkeypatch.setattr(module, "describe", lambda spec: calls.append("describe"))
    monkeypatch.setattr(module, "run", lambda spec, *, progress: calls.append(("run", progress)) or "RESULT")
    monkeypatch.setattr(module, "format", lambda result: calls.append(("format", result)) or "the table")
    monkeypatch.setattr(module, "write",
                        lambda result, out_dir: calls.append(("write", out_dir)) or ["a.json", "b.png"])
    out = [] if argv[-1].endswith(".eqx") else ["--out", str(tmp_path / "out")]
    assert main(argv + out) == 0
    spec = calls[0][1]
    assert type(spec).__module__ == module.__name__ and _frozen_dataclass(spec)
    assert [c if isinstance(c, str) else c[0] for c in calls] == ["check", "describe", "run", "format", "write"]
    assert calls[2] == ("run", True)  # --no-progress not given (generate has no such flag)
    assert calls[4] == ("write", None if out == [] else str(tmp_path / "out"))
    assert capsys.readouterr().out == "the table\nwrote a.json\nwrote b.png\n"


def test_cli_handles_errors_and_ctrl_c_in_one_place(tmp_path, monkeypatch, capsys):
    module = experiment("demo")

    def interrupted(spec, *, progress):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 130
    assert capsys.readouterr().err == ("\nnam demo: interrupted; the demo keeps no partial results, nothing was "
                                       "saved; run it again\n")

    def refused(spec, *, progress):
        raise ValueError("too big")

    monkeypatch.setattr(module, "run", refused)
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 2
    assert capsys.readouterr().err == "nam demo: too big\n"


@pytest.mark.slow  # ~10 s on 2 cores: the default run stays under 10 minutes
def test_experiments_run_from_python_with_a_spec(tmp_path):
    from nam.experiments import demo

    spec = demo.Spec(n=12, k=2, trials=2, out=str(tmp_path))
    result = demo.run(spec, progress=False)
    assert "classical Hopfield" in demo.format(result)
    paths = demo.write(result, spec.out)
    assert [pathlib.Path(p).name for p in paths] == ["demo.json", "demo.png"]
    assert all(pathlib.Path(p).exists() for p in paths)


def test_specs_are_checked_and_completed_when_made():
    from nam.experiments import astrosnn, gordleeva, learn

    assert learn.Spec(task="gain", batch=8).trials == 8 and learn.Spec().out == "nam_output/learn"
    assert learn.Spec(task="inpainting").adjoint is None
    with pytest.raises(ValueError, match="adjoint"):
        learn.Spec(task="inpainting", adjoint="implicit")
    with pytest.raises(ValueError, match="noise,two,lifetime"):
        gordleeva.Spec(experiments="noise,three")
    with pytest.raises(ValueError, match="expected astrosnn, lif, lstm, gru, transformer"):
        astrosnn.check_models(["lstm", "rwkv"])


def _writes(tree):
    """(line, call) of every call in `tree` that writes a file other than through nam._io."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "open" and not (isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "os"):
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"),
                                                                 None)
            if mode is not None and not (isinstance(mode, ast.Constant) and set(str(mode.value)) <= set("rbt")):
                yield node.lineno, ast.unparse(node)
        elif isinstance(func, ast.Attribute) and (
                name in ("write_text", "write_bytes", "to_csv", "tofile")
                or name in ("dump", "save", "savetxt", "savez") and getattr(func.value, "id", "") in (
                    "json", "np", "numpy", "pickle")):
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
    text = ('with open(path, "w") as f:\n    f.write(x)\nopen(p, mode="wb")\nopen(p)\nopen(p, "rb")\njson.dump(x, f)\n'
            'save(state)\nnp.save(p, x)\npath.write_text(x)\n')
    assert sorted(line for line, _ in _writes(ast.parse(text))) == [1, 3, 6, 8, 9]


def test_data_loaders_live_in_one_module():
    from nam import _data

    assert nam.spiking.load_digit is _data.load_digit
    assert nam.learning.digit_patterns is _data.digit_patterns
    assert nam.astrosnn.load_text is _data.load_text
    learning = pathlib.Path(nam.__file__).parent / "learning"
    imported = {node.module for path in learning.glob("*.py") for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert not [m for m in imported if "spiking" in m]  # learning reads the digits from nam._data, not nam.spiking
