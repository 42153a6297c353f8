"""The reproduction as one static web page: ``reports/index.html`` (and ``reports/<profile>/index.html``).

Written by ``colorkit reproduce`` after the notebooks ran: the machine and the run, one row per
notebook (status, runtime, claims checked, links to the executed notebook and to its HTML
rendering), the metric tables every notebook recorded (:mod:`colorkit.course.record`: keys
``model.metric``), the results tables a notebook displayed (the study's, :func:`html_tables`), every claim
with its verdict, and the notebooks' figures. Everything is inside
the one file — figures as ``data:`` URIs, the style inline — so it opens from a disk, an e-mail or
a CI artefact with nothing to install and nothing fetched; the links to the notebooks are relative.

Each executed notebook is also rendered to ``NN_name.html`` (nbconvert, images embedded); script
and style tags that would load anything from the network are removed from it.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path

from colorkit.io import atomic_write

METRIC_ORDER = ("psnr", "ssim", "auc", "auc_rebal", "colorfulness", "chroma_ratio", "false_colour", "vivid_hue",
                "semantic_top1", "semantic_top5")
MAX_FIGURES = 6  # per notebook on the index page; every figure is in the notebook's own HTML rendering
_EXTERNAL = re.compile(r"""<(script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//[^>]*>(?:\s*</script>)?""",
                       re.I)

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; } caption { font-weight: bold; text-align: left; padding: 4px 0; }
table.colorkit-table td, table.colorkit-table th { text-align: left; } table.colorkit-table td.n { text-align: right; }
.ok { color: #1a7a2a; } .failed { color: #b02020; font-weight: bold; }
.figs img { max-width: 100%; border: 1px solid #ddd; margin: 4px 0; }
.claims li { margin: 2px 0; } .meta { color: #555; }
"""


def image_outputs(nb_path: Path):
    """(mime, base64 text) of every image output of an executed notebook, in order (PNG preferred over JPEG)."""
    nb = json.loads(Path(nb_path).read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                data = out.get("data", {}).get(mime)
                if data:
                    yield mime, (data if isinstance(data, str) else "".join(data)).strip()
                    break


def html_tables(nb_path: Path) -> list[str]:
    """Every results table an executed notebook displayed with :func:`colorkit.study.html_table` (HTML outputs that
    are one ``<table class='colorkit-table'>``, no script), in order: the study's tables, copied onto the page."""
    nb = json.loads(Path(nb_path).read_text())
    tables = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get("text/html")
            text = (data if isinstance(data, str) else "".join(data or [])).strip()
            if text.startswith("<table class='colorkit-table'>") and text.endswith("</table>") \
                    and "<script" not in text.lower():
                tables.append(text)
    return tables


def figure_uris(nb_path: Path, limit: int = MAX_FIGURES) -> list[str]:
    """The first ``limit`` image outputs (PNG or JPEG) of an executed notebook as ``data:`` URIs."""
    return [f"data:{mime};base64,{b64}" for mime, b64 in itertools.islice(image_outputs(nb_path), limit)]


def render_notebook_html(nb_path: Path) -> Path:
    """``NN_name.html`` beside the executed notebook: nbconvert's rendering, images embedded, nothing external."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(embed_images=True).from_filename(str(nb_path))
    out = Path(nb_path).with_suffix(".html")
    atomic_write(out, _EXTERNAL.sub("", body))
    return out


def metric_rows(numbers: dict) -> dict[str, dict]:
    """``{"model.metric": value}`` records -> ``{model: {metric: value}}`` for the known metrics."""
    rows: dict[str, dict] = {}
    for key, value in numbers.items():
        model, _, metric = key.rpartition(".")
        if model and metric in METRIC_ORDER and isinstance(value, (int, float)):
            rows.setdefault(model, {})[metric] = value
    return rows


def _table(rows: dict[str, dict]) -> str:
    cols = [m for m in METRIC_ORDER if any(m in r for r in rows.values())]
    head = "<tr><th>method</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
    body = []
    for name, row in rows.items():
        cells = "".join(f"<td>{row[c]:.3f}</td>" if c in row else "<td></td>" for c in cols)
        body.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def write_html_index(results, out_dir: Path, profile: str, total_seconds: float, machine: str,
                     link_prefix: str = "", path: Path | None = None) -> Path:
    """The page for ``results`` (:class:`colorkit.course.reproduce.NotebookResult` list) of the run in ``out_dir``.

    ``link_prefix`` is put before the notebooks' file names (``"pretrained/"`` for ``reports/index.html``);
    ``path`` defaults to ``out_dir/index.html``.
    """
    esc = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>colorkit — {esc(profile)}</title>",
             f"<style>{STYLE}</style></head><body>",
             "<h1>colorkit: automatic image and video colorization — the reproduction</h1>",
             f"<p class='meta'>profile <b>{esc(profile)}</b>; {esc(machine)}; total {total_seconds:.0f} s</p>",
             "<h2>The notebooks</h2><table><tr><th>notebook</th><th>status</th><th>runtime</th>"
             "<th>claims checked</th><th>figures</th><th>files</th></tr>"]
    for r in results:
        claims = {k: v for k, v in r.numbers.items() if k.startswith("claim: ")}
        held = sum(bool(v) for v in claims.values())
        status = "<span class='ok'>ok</span>" if r.status == "ok" else "<span class='failed'>failed</span>"
        links = f"<a href='{esc(link_prefix + r.name)}.ipynb'>notebook</a>"
        if (out_dir / f"{r.name}.html").exists():
            links += f" · <a href='{esc(link_prefix + r.name)}.html'>HTML</a>"
        parts.append(f"<tr><td><a href='#{esc(r.name)}'>{esc(r.name)}</a></td><td>{status}</td>"
                     f"<td>{r.seconds:.0f} s</td><td>{held} of {len(claims)}</td><td>{r.figures}</td>"
                     f"<td>{links}</td></tr>")
    parts.append("</table>")
    for r in results:
        parts.append(f"<h2 id='{esc(r.name)}'>{esc(r.name)}</h2>")
        if r.status != "ok":
            parts.append(f"<p class='failed'>{esc(r.error)}</p>")
        rows = metric_rows(r.numbers)
        if rows:
            parts += ["<h3>Metrics on the evaluation photos (as recorded by the notebook)</h3>", _table(rows)]
        claims = [(k.removeprefix("claim: "), v) for k, v in r.numbers.items() if k.startswith("claim: ")]
        if claims:
            items = "".join(f"<li>{'✓' if v else '✗'} {esc(c)}</li>" for c, v in claims)
            parts.append(f"<h3>Claims, checked against the numbers</h3><ul class='claims'>{items}</ul>")
        nb_path = out_dir / f"{r.name}.ipynb"
        if nb_path.exists() and html_tables(nb_path):
            parts += ["<h3>Tables</h3>", *html_tables(nb_path)]
        if nb_path.exists():
            figs = figure_uris(nb_path)
            if figs:
                parts.append("<h3>Figures</h3><div class='figs'>"
                             + "".join(f"<img alt='{esc(r.name)} figure {i + 1}' src='{u}'>"
                                       for i, u in enumerate(figs)) + "</div>")
    parts.append("</body></html>")
    return atomic_write(path or out_dir / "index.html", "\n".join(parts))
