import json
import subprocess
import sys

import pytest

from nam._cli import main


def test_demo_writes_table_and_figure(tmp_path, capsys):
    assert main(["demo", "--n", "40", "--k", "3", "--trials", "6", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "neuron-astrocyte full" in printed and "classical Hopfield" in printed
    rows = json.loads((tmp_path / "demo.json").read_text())
    assert {r["model"] for r in rows} >= {"classical Hopfield", "DAM F=z^3", "hidden-neuron DAM",
                                          "neuron-astrocyte effective", "neuron-astrocyte full"}
    # K = 3 memories in N = 40 neurons, 15% of bits flipped: far below every model's capacity
    for r in rows:
        assert r["retrieved"] == 1.0, r
        assert sum(r["status"].values()) == 6
    assert (tmp_path / "demo.png").stat().st_size > 10_000


@pytest.mark.parametrize("args", [["demo", "--rho", "0.7"], ["demo", "--trials", "0"], ["demo", "--k", "x"]])
def test_demo_rejects_bad_options(args):
    proc = subprocess.run([sys.executable, "-m", "nam", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--" in proc.stderr and "expected" in proc.stderr or "invalid" in proc.stderr
