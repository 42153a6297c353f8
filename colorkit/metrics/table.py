"""Tables of metric rows: ``{method name: row}`` as Markdown for notebooks and reports, CSV for machines."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write

# --- tables ------------------------------------------------------------------------------------------------

COLUMN_TITLES = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "auc": "AuC",
    "auc_rebal": "AuC rebal.",
    "colorfulness": "colourfulness",
    "chroma_ratio": "chroma ratio",
    "false_colour": "false colour",
    "vivid_hue": "vivid hue acc.",
    "semantic_top1": "semantic top-1",
    "semantic_top5": "semantic top-5",
    "n_images": "images",
}


def _columns(rows: dict[str, dict]) -> list[str]:
    cols: list[str] = []
    for row in rows.values():
        cols += [k for k, v in row.items() if k not in cols and isinstance(v, (int, float, np.number, str))]
    return cols


def _fmt(value, spec: str) -> str:
    """A table cell: empty for missing, integers as they are, floats with ``spec`` (e.g. ".3f")."""
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return format(float(value), spec)


def metric_table(rows: dict[str, dict], fmt: str = "md", digits: int = 3) -> str:
    """A table of ``{method name: metrics row}`` as Markdown (``fmt="md"``) or CSV (``fmt="csv"``) text.

    Columns are every scalar key, in order of first appearance; a missing value
    is left empty. Markdown rounds to ``digits`` decimals; CSV keeps 6
    significant digits.
    """
    cols = _columns(rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["method", *cols])
        for name, row in rows.items():
            w.writerow([name, *(_fmt(row.get(c), ".6g") for c in cols)])
        return buf.getvalue()
    if fmt != "md":
        raise ColorkitError(f"metric_table: fmt must be 'md' or 'csv', not {fmt!r}")
    head = ["method", *(COLUMN_TITLES.get(c, c) for c in cols)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * len(cols)]
    for name, row in rows.items():
        cells = [str(name).replace("|", "\\|"), *(_fmt(row.get(c), f".{digits}f") for c in cols)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(rows: dict[str, dict], path_csv, path_md, digits: int = 3) -> None:
    """Write the table of ``rows`` to ``path_csv`` and ``path_md`` (each atomically)."""
    atomic_write(Path(path_csv), metric_table(rows, "csv"))
    atomic_write(Path(path_md), metric_table(rows, "md", digits))
