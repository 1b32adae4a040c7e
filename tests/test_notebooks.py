"""Execute every notebook in notebooks/ headless with nbclient; any cell error fails the test."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
# the notebooks that train models (about 25-70 s each on 2 cores) run with `-m slow`; the others by default
SLOW = {
    "03_spiking_astrocyte_memory.ipynb",
    "04_learning_astrocyte_tensors.ipynb",
    "05_astrosnn_memory_retention.ipynb",
    "06_astrosnn_language_model.ipynb",
    "07_self_coupling.ipynb",
    "08_attention_limit.ipynb",  # ~20-40 s: the default run stays under 10 minutes
}
NOTEBOOKS = [
    pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW else p for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))
]

# Strings that must appear in a notebook's printed (stream) output after it runs.
EXPECTED_OUTPUT = {
    "01_neuron_astrocyte_retrieval.ipynb": ["retrieved memory 0 exactly: True"],
    "02_capacity_sweep.ipynb": ["sweep finished: 2 models"],
    "03_spiking_astrocyte_memory.ipynb": ["astrocyte feedback beats the noisy input at noise 0.4: True"],
    "04_learning_astrocyte_tensors.ipynb": ["learned tensor beats Hebbian at 10% flipped: True"],
    "05_astrosnn_memory_retention.ipynb": ["AstroSNN beats LIF-SNN at delay 32: True"],
    "06_astrosnn_language_model.ipynb": [
        "both spiking models beat the unigram baseline: True",
        "recurrent form equals the parallel form: True",
    ],
    "07_self_coupling.ipynb": [
        "signal + crosstalk + self equals the eq. 10 field: True",
        "distinct indices beat eq. 10 at beta = 5 and 25: True",
    ],
    "08_attention_limit.ipynb": ["every query's network converged: True", "from 15% flipped bits: True"],
}


def _stream_text(nb) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: getattr(p, "name", None))
def test_notebook_runs(path, monkeypatch):
    # The kernel runs in notebooks/, so a relative PYTHONPATH (e.g. ".") would miss the package: put this
    # checkout first on the kernel's path, installed or not.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    text = _stream_text(nb)
    for expected in EXPECTED_OUTPUT.get(path.name, []):
        assert expected in text, f"{path.name}: expected {expected!r} in the printed output"
