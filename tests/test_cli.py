import json
import subprocess
import sys

import pytest

from nam._cli import main


@pytest.mark.slow  # ~10 s on 2 cores: the default run stays under 10 minutes
def test_demo_writes_table_and_figure(tmp_path, capsys):
    assert main(["demo", "--n", "40", "--k", "3", "--trials", "6", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "neuron-astrocyte full" in printed and "classical Hopfield" in printed
    rows = json.loads((tmp_path / "demo.json").read_text())
    assert {r["model"] for r in rows} >= {
        "classical Hopfield",
        "DAM F=z^3",
        "hidden-neuron DAM",
        "neuron-astrocyte effective",
        "neuron-astrocyte full",
    }
    # K = 3 memories in N = 40 neurons, 15% of bits flipped: far below every model's capacity
    for r in rows:
        assert r["retrieved"] == 1.0, r
        assert sum(r["status"].values()) == 6
    assert (tmp_path / "demo.png").stat().st_size > 10_000


@pytest.mark.parametrize("args", [["demo", "--rho", "0.7"], ["demo", "--trials", "0"], ["demo", "--k", "x"]])
def test_demo_rejects_bad_options(args):
    proc = subprocess.run([sys.executable, "-m", "nam", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nam demo: {args[1]}"), proc.stderr


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"nam {version('nam')}"


def test_run_header_names_the_work_and_the_devices(capsys):
    import jax

    from nam._cli import _run_header

    _run_header("learn digits", {"model": "effective network, N = 64", "training": "300 steps"})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("nam ") and out[0].endswith("learn digits")
    assert "  model: effective network, N = 64" in out and "  training: 300 steps" in out
    assert out[-1].startswith(f"  devices: {len(jax.devices())} x ")
