"""The docs site builds without a warning (`mkdocs build --strict`), and the README's Python example prints
what the README says it prints."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: `pip install -e .[docs]` (it is in [dev])")
    pytest.importorskip("material", reason="mkdocs-material is not installed: `pip install -e .[docs]`")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings[python] is not installed: "
                                                                "`pip install -e .[docs]`")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
                           "--config-file", str(REPO_ROOT / "mkdocs.yml")],
                          cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = tmp_path / "site"
    # the API reference is generated from the docstrings of the re-exported public names
    api = (site / "api" / "nam" / "index.html").read_text()
    for name in ("nam.retrieve", "nam.NeuronAstrocyte", "nam.SolverConfig", "nam.Status"):
        assert f'id="{name}"' in api, name
    # the benchmark tables are read from benchmarks/results/*.json at build time
    bench = (site / "benchmarks" / "index.html").read_text()
    assert "benchmarks/results/neuron_astrocyte.json" in bench and "<table>" in bench
    assert "Table not rendered" not in bench


def _blocks(text: str, lang: str) -> list[str]:
    """The contents of the fenced code blocks of `text` whose info string is `lang` ("" for plain blocks)."""
    blocks, current, info = [], None, None
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, info = [], line[3:].strip()
            else:
                if info == lang:
                    blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_readme_example_prints_what_the_readme_says(tmp_path):
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## A short example", 1)[1].split("\n## ", 1)[0]
    code, printed = _blocks(section, "python")[0], _blocks(section, "")[0]
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == printed
    # the docs' getting-started page shows the same example
    assert code in (REPO_ROOT / "docs" / "index.md").read_text()


def test_layout_page_matches_the_tree():
    """docs/contributing.md lists every module and subpackage of nam/ and nothing that does not exist."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "contributing.md").read_text()
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    listed, parent = set(), None
    for line in block.splitlines():
        m = re.match(r"^( *)(\S+)", line)
        if not m or len(m.group(1)) > 2:
            continue
        name = m.group(2)
        if not m.group(1):
            parent = name
            listed.add(name.rstrip("/"))
        else:
            listed.add(parent + name.rstrip("/"))
    for entry in listed:
        assert (root / entry).exists(), f"docs/contributing.md lists {entry}, which does not exist"
    actual = {f"nam/{p.name}" for p in (root / "nam").iterdir()
              if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert actual <= listed, f"not in docs/contributing.md: {sorted(actual - listed)}"


def test_adding_a_model_page_runs_outside_the_package_with_public_imports(tmp_path, capsys):
    """docs/adding-a-model.md's code blocks run as written, in order, from a folder outside the package, and
    import nothing private (`nam._...`): a user's own energy model retrieves its memory, and a user's own sweep
    model is registered and planned by the sweep."""
    import re

    text = (REPO_ROOT / "docs" / "adding-a-model.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3 and not re.search(r"\bnam\._", "\n".join(blocks))
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, "adding-a-model.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
        import nam

        nam.sweep.REGISTRY.pop("my_hopfield", None)
    assert "my_hopfield" in capsys.readouterr().out


def test_no_private_import_in_the_docs():
    import re

    found = [f"{p.name}: {m}" for p in (REPO_ROOT / "docs").glob("*.md")
             for m in re.findall(r"(?:from|import) nam\._\w+", p.read_text())]
    assert not found, found


def test_cli_reference_is_generated_from_the_declared_options():
    """docs/cli.md's tables come from the experiments' declarations: every command and every flag, each with
    its declared default, as `--help` shows it."""
    import importlib.util

    from nam._cli import shown_default
    from nam.experiments import EXPERIMENTS

    spec = importlib.util.spec_from_file_location("cli_hook", REPO_ROOT / "docs" / "cli_hook.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = (REPO_ROOT / "docs" / "cli.md").read_text()
    rendered = hook.on_page_markdown(page, None, None, None)
    assert "<!-- cli:options -->" in page and "<!-- cli:options -->" not in rendered
    for cls in EXPERIMENTS:
        section = rendered.split(f"### `nam {cls.command}`", 1)[1].split("### ", 1)[0]
        for o in cls.options():
            if not o.positional:
                row = next(line for line in section.splitlines() if line.startswith(f"| `{o.flag}` |"))
                if o.kind is not bool and o.default not in (None, ()):
                    assert f"`{shown_default(o)}`" in row, row
