"""The reproduction's web page (``reports/index.html``) in headless Chromium: every table and image loads,
nothing is fetched from the network, every link to a notebook resolves; a screenshot is kept."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from colorkit.course.reproduce import NotebookResult, write_html_report
from colorkit.paths import REPORTS_DIR
from colorkit.study import html_table

from conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser


def _image(fmt: str, colour) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode()


def fake_run(tmp_path: Path) -> Path:
    """Two executed notebooks (a PNG plot and a JPEG photo output), their recorded numbers, and the page."""
    out = tmp_path / "reports" / "pretrained"
    out.mkdir(parents=True)
    results = []
    for name, mime, fmt, colour in (("01_first", "image/png", "PNG", (200, 30, 30)),
                                    ("02_second", "image/jpeg", "JPEG", (30, 30, 200))):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("show()")
        cell.outputs = [nbformat.v4.new_output("display_data", data={mime: _image(fmt, colour), "text/plain": "fig"})]
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), cell]
        if name == "02_second":  # a results table displayed by the study
            table = html_table(["method", "psnr"], [["grey", "20.5"], ["nogan", "21.6"]], caption="the study's table")
            cell.outputs.append(nbformat.v4.new_output("display_data", data={"text/html": table}))
        nbformat.write(nb, out / f"{name}.ipynb")
        numbers = {"grey.psnr": 20.5, "grey.ssim": 0.9, f"model_{name}.psnr": 22.0, "claim: it works": True}
        results.append(NotebookResult(name, "ok", 3.0, numbers, "", 1))
    write_html_report(results, out, "pretrained", 6.0, reports_dir=tmp_path / "reports")
    return tmp_path / "reports" / "index.html"


def check_page(browser, page_path: Path, shot: str) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_path.resolve().as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert images, f"{page_path}: no images"
    broken = [alt for complete, width, alt in images if not (complete and width > 0)]
    assert not broken, f"{page_path}: images that did not load: {broken}"
    rows = page.evaluate("Array.from(document.querySelectorAll('table')).map(t => t.rows.length)")
    assert rows and min(rows) >= 2, f"{page_path}: a table without rows: {rows}"
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not external, f"{page_path}: fetched from the network: {external[:5]}"
    links = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
    files = [h for h in links if not h.startswith("#")]
    assert files and all((page_path.parent / h).exists() for h in files), f"{page_path}: dead links in {files}"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{shot}.png"))
    page.close()


def test_report_page_loads_offline(browser, tmp_path):
    page_path = fake_run(tmp_path)
    text = page_path.read_text()
    assert "01_first" in text and "model_01_first" in text and "✓ it works" in text
    assert "<caption>the study&#x27;s table</caption>" in text or "<caption>the study's table</caption>" in text
    assert (tmp_path / "reports" / "pretrained" / "01_first.html").is_file()
    check_page(browser, page_path, "test_report_page_loads_offline")


def test_the_latest_reproduction_page(browser):
    page_path = REPORTS_DIR / "index.html"
    if not page_path.exists():
        pytest.skip("no reports/index.html yet: `make reproduce` writes it")
    check_page(browser, page_path, "test_the_latest_reproduction_page")
