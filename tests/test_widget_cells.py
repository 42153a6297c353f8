"""The browser tests run only the cells a widget needs (``tests/browser/test_widgets.py``'s ``WIDGET_CELLS_*``).

Those tests need Chromium and take minutes; this check needs neither. It builds each reduced notebook the way the
browser test does and asks ruff (rule F821) whether a kept cell uses a name that only a dropped cell defines, as
happens when a later section loads a model in a cell that also needs the notebook's evaluation photos.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from colorkit.paths import NOTEBOOKS_DIR, REPO_ROOT


def _browser_module(name: str):
    spec = importlib.util.spec_from_file_location(f"_browser_{name}", REPO_ROOT / "tests" / "browser" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WIDGETS, BROWSER = _browser_module("test_widgets"), _browser_module("conftest")
REDUCED = [(getattr(WIDGETS, f"NB{n}"), getattr(WIDGETS, f"WIDGET_CELLS_{n}"))
           for n in ("04", "05", "07", "08") if hasattr(WIDGETS, f"WIDGET_CELLS_{n}")]


def undefined_names(src: Path, keep, tmp_path: Path) -> str:
    """ruff's F821 report ("" when clean) on notebook ``src`` reduced to its markdown and the code cells ``keep``
    accepts."""
    out = tmp_path / src.name
    nbformat.write(BROWSER.keep_cells(nbformat.read(src, as_version=4), keep), out)
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F821",
                          "--output-format", "concise", str(out)], capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return run.stdout if run.returncode else ""


@pytest.mark.parametrize("notebook,keep", REDUCED, ids=[nb for nb, _ in REDUCED])
def test_the_kept_cells_define_every_name_they_use(notebook, keep, tmp_path):
    if not (NOTEBOOKS_DIR / notebook).exists():
        pytest.skip(f"notebooks/{notebook} does not exist yet")
    report = undefined_names(NOTEBOOKS_DIR / notebook, keep, tmp_path)
    assert not report, f"{notebook} reduced to its widget's cells uses names no kept cell defines:\n{report}"


def test_the_check_finds_a_name_defined_only_in_a_dropped_cell(tmp_path):
    src = tmp_path / "src" / "x.ipynb"
    src.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("photos = [1, 2]"),
                                                  nbformat.v4.new_code_cell("WIDGET = len(photos)")]), src)
    assert "photos" in undefined_names(src, WIDGETS.needs("WIDGET ="), tmp_path)
    assert undefined_names(src, WIDGETS.needs("WIDGET =", "photos ="), tmp_path) == ""
