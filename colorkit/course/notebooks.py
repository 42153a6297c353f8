"""Reading the course notebooks: which they are, their cells' tags, and what their front matter says.

The front matter of ``NN_name.ipynb`` is its markdown before the first code cell: the title
cell (``# NN · Title``, the paper, the ``[← previous] · [next →]`` line), ``## You will learn``
with its bullets, ``**Prerequisites:**`` and ``**Time:**``. :func:`read_info` parses it into a
:class:`NotebookInfo`, which the linter checks and the index shows.

nbformat is imported where it is used: every notebook imports :mod:`colorkit.course.record`
at start-up, and nbformat alone takes about a second to import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from colorkit.errors import ColorkitError
from colorkit.paths import NOTEBOOKS_DIR

SOLUTION_TAG = "solution"
PARAMETERS_TAG = "parameters"
KERNEL_NAME = "colorkit"  # the Jupyter kernel every notebook is saved with and run in (`make venv` installs it)

TITLE_RE = re.compile(r"^#\s+(\d\d)\s*·\s*(\S.*?)\s*$")
LINK_RE = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
HEADING_RE = re.compile(r"^#{1,6}\s")
BULLET_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(\S.*)$")
LEARN_RE = re.compile(r"^##\s+You will learn\b", re.I)
# a "**Label:** value" field, up to the next "**Other:**" field on the same line
_FIELD = r"\*\*{}:?\*\*:?\s*(.*?)\s*(?=\*\*[A-Z][\w ]*:?\*\*|$)"
PREREQ_RE = re.compile(_FIELD.format("Prerequisites"))
TIME_RE = re.compile(_FIELD.format("Time"))
# a call colorkit.exercises.check("NN.k", ...) in a code cell
CHECK_RE = re.compile(r"""\bcheck\(\s*(?:key\s*=\s*)?["'](\d\d\.\d+)["']""")


def find_notebooks(folder: Path = NOTEBOOKS_DIR, only: list[str] | None = None) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` in ``folder``, in order.

    ``only`` keeps those whose name starts with one of the given prefixes (e.g. ``["01", "02"]``);
    when it keeps none, that is an error.
    """
    folder = Path(folder)
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
        if not paths:
            raise ColorkitError(f"no notebook matches {only!r} in {folder}")
    return paths


def read_notebook(path: Path):
    """A notebook as nbformat v4 (an ``nbformat.NotebookNode``); a clear error naming the file if it is not one."""
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError) as exc:
        raise ColorkitError(f"not a readable notebook ({type(exc).__name__}: {exc})", path=path) from None


def tags(cell) -> list[str]:
    """The cell's tags (``metadata.tags``)."""
    return list(cell.get("metadata", {}).get("tags", []))


def check_cells(nb) -> list[tuple[int, list[str]]]:
    """(cell index, exercise keys) of every code cell calling ``check("NN.k", ...)``."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            found = CHECK_RE.findall(cell.source)
            if found:
                out.append((i, found))
    return out


# --------------------------------------------------------------------------- the front matter


def link_kind(text: str) -> str | None:
    """"prev" or "next" for the text of a navigation link, else None."""
    if "←" in text or re.search(r"\bprev(?:ious)?\b", text, re.I):
        return "prev"
    if "→" in text or re.search(r"\bnext\b", text, re.I):
        return "next"
    return None


def _is_nav_line(line: str) -> bool:
    return any(link_kind(text) for text, _ in LINK_RE.findall(line))


def bullets_after(lines: list[str], heading: re.Pattern) -> list[str] | None:
    """The list items under the first line matching ``heading`` (None when there is no such line)."""
    start = next((i for i, line in enumerate(lines) if heading.match(line.strip())), None)
    if start is None:
        return None
    items: list[str] = []
    for line in lines[start + 1:]:
        if HEADING_RE.match(line) or PREREQ_RE.search(line) or TIME_RE.search(line):
            break
        m = BULLET_RE.match(line)
        if m:
            items.append(m.group(1).strip())
        elif not line.strip():
            continue
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        elif items:
            break  # a paragraph after the list ends it
    return items


@dataclass
class NotebookInfo:
    """What the index shows about one notebook, read from its own cells."""

    path: Path
    number: str  # "01"
    title: str  # "Colour spaces" ("" when the title cell is malformed)
    paper: str  # the title cell's text besides the title and navigation line
    goals: list[str]
    prerequisites: str
    time: str
    links: dict[str, str]  # "prev" / "next" -> target of the title cell's navigation links


def read_info(path: Path, nb=None) -> NotebookInfo:
    """Parse the title cell, "You will learn", prerequisites and time of a notebook (``nb``: already read)."""
    path = Path(path)
    nb = read_notebook(path) if nb is None else nb
    number = path.name[:2]
    cells = nb.cells
    head = cells[0] if cells and cells[0].cell_type == "markdown" else None
    title, paper_lines, links = "", [], {}
    if head is not None:
        lines = head.source.splitlines()
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None:
            m = TITLE_RE.match(lines[first].strip())
            if m:
                title = m.group(2)
            for line in lines[first + 1:]:
                if _is_nav_line(line):
                    for text, target in LINK_RE.findall(line):
                        kind = link_kind(text)
                        if kind and kind not in links:
                            links[kind] = target
                elif line.strip():
                    paper_lines.append(line.strip().lstrip(">").strip())
    # The front matter: markdown cells before the first code cell.
    front: list[str] = []
    for cell in cells:
        if cell.cell_type == "code":
            break
        if cell.cell_type == "markdown":
            front.extend(cell.source.splitlines())
    goals = bullets_after(front, LEARN_RE) or []
    prereq = next((m.group(1).strip() for line in front if (m := PREREQ_RE.search(line))), "")
    time = next((m.group(1).strip() for line in front if (m := TIME_RE.search(line))), "")
    return NotebookInfo(path, number, title, " ".join(paper_lines), goals, prereq, time, links)
