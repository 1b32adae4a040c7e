"""Bad command lines (issue 16, part 3): refused before any compute with one line on stderr and exit 2, never
a traceback; output folders are checked writable first. (`nam sweep` is the lead engineer's.)"""

import os

import pytest

from nam._cli import main

UNWRITABLE = "/proc/nam-output"  # /proc refuses new entries even to root


def _file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    return str(path)


COMMANDS = {
    "demo": ["demo", "--n", "8", "--k", "2", "--trials", "2", "--no-progress"],
    "learn digits": ["learn", "digits", "--steps", "1", "--trials", "1", "--batch", "1", "--no-progress"],
    "learn gain": ["learn", "gain", "--steps", "1", "--no-progress"],
    "learn inpainting": ["learn", "inpainting", "--steps", "1", "--no-progress"],
    "gordleeva": ["gordleeva", "--experiments", "noise", "--trials", "1", "--no-progress"],
    "astrosnn retention": ["astrosnn", "retention", "--steps", "1", "--d", "8", "--max-delay", "8", "--no-progress"],
    "astrosnn lm": ["astrosnn", "lm", "--steps", "1", "--params", "3000", "--layers", "1", "--no-progress"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("out", ["file", "unwritable", "under-a-file"])
def test_output_folder_checked_before_compute(tmp_path, capsys, command, out):
    path = {"file": _file(tmp_path), "unwritable": UNWRITABLE, "under-a-file": os.path.join(_file(tmp_path), "sub")}[
        out
    ]
    assert main(COMMANDS[command] + ["--out", path]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and path.split("/sub")[0] in err, err
    assert "Traceback" not in err and "nam " + command.split()[0] in err
    assert "devices:" not in captured.out  # refused before the run header (before any work)


@pytest.mark.parametrize(
    "args, name",
    [
        (["gordleeva", "--delay-ms", "inf"], "--delay-ms"),
        (["gordleeva", "--delay-ms", "nan"], "--delay-ms"),
        (["gordleeva", "--dt", "inf"], "--dt"),
        (["learn", "digits", "--lr", "inf"], "--lr"),
        (["learn", "gain", "--lr", "nan"], "--lr"),
        (["astrosnn", "lm", "--lr", "inf"], "--lr"),
        (["astrosnn", "generate", "x.eqx", "--temperature", "inf"], "--temperature"),
        (["demo", "--rho", "nan"], "--rho"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_flag(args, name, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and name in err and "finite" in err, err


@pytest.mark.parametrize(
    "args, words",
    [
        (["demo", "--n", "100000"], ["--n", "GiB"]),
        (["demo", "--k", "1000000000", "--n", "10"], ["--k", "GiB"]),
        (["learn", "digits", "--batch", "1000000000", "--steps", "1"], ["--batch", "GiB"]),
        (["learn", "inpainting", "--batch", "1000000000"], ["--batch", "GiB"]),
        (["astrosnn", "lm", "--params", "100000000000", "--models", "astrosnn"], ["--params", "iB"]),
        (["astrosnn", "retention", "--d", "1000000", "--models", "astrosnn"], ["--d", "iB"]),
        (["learn", "digits", "--lr", "-1"], ["--lr"]),
        (["learn", "digits", "--seed", "-1", "--steps", "1"], ["--seed"]),
        (["learn", "inpainting", "--adjoint", "implicit"], ["--adjoint"]),
        (["demo", "--n", "x"], ["--n", "integer"]),
        (["gordleeva", "--dt", "1.0"], ["--dt"]),
        (["gordleeva", "--experiments", ""], ["--experiments"]),
        (["astrosnn", "lm", "--models", ""], ["--models"]),
        (["astrosnn", "lm", "--models", "astrosnn,rwkv"], ["rwkv"]),
        (["astrosnn", "retention", "--tasks", "recall,sort"], ["sort"]),
        (["astrosnn", "retention", "--max-delay", "-1"], ["--max-delay"]),
        (["astrosnn", "generate", "/no/such.eqx"], ["/no/such.eqx"]),
    ],
)
def test_bad_values_give_one_line_and_exit_2(tmp_path, capsys, args, words):
    out = [] if args[:2] == ["astrosnn", "generate"] else ["--out", str(tmp_path / "o")]
    try:
        code = main(args + out)
    except SystemExit as e:  # the parser's own errors (a word for a number) exit the same way
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


def test_generate_refuses_a_corrupt_checkpoint_in_one_line(tmp_path, capsys):
    path = tmp_path / "lm.eqx"
    path.write_bytes(b"")
    assert main(["astrosnn", "generate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "empty" in err
