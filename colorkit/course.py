"""The course format: one shape for every notebook, a course index, a student edition.

Every ``notebooks/NN_name.ipynb`` follows the same format (README, "How to use
this course"):

1. title cell ``# NN · Title``, the method's paper as a full reference, and a
   ``[← previous](...) · [next →](...)`` line;
2. ``## You will learn`` with 3–5 bullets, then ``**Prerequisites:** ...`` and
   ``**Time:** reading ~N min · running (pretrained) ~N min · training (full) ~N min``;
3. the first code cell tagged ``parameters`` with
   ``PROFILE = os.environ.get("COLORKIT_PROFILE", "pretrained")``;
4. sections, ``## Summary``, ``## Exercises`` (at least 3 from 01 on). A checkable
   exercise is a cell tagged ``solution`` (the reference answer) followed by a
   cell calling ``colorkit.exercises.check("NN.k", answer)``.

:func:`lint` checks a notebook against that format (``colorkit course lint``;
tests/test_notebook_format.py runs it on every notebook). :func:`build_index`
writes ``notebooks/README.md`` from the notebooks' own cells (``colorkit course
index``). :func:`build_student_edition` writes ``student/``: the notebooks with
every ``solution`` cell replaced by a "your turn" stub and all outputs cleared
(``colorkit course student-edition``, ``make student``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from colorkit.errors import ColorkitError
from colorkit.paths import NOTEBOOKS_DIR, REPO_ROOT
from colorkit.io import atomic_write

SOLUTION_TAG = "solution"
PARAMETERS_TAG = "parameters"
STUB_TAG = "your-turn"
KERNEL_NAME = "colorkit"
MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024
MIN_EXERCISES = 3
GOALS_RANGE = (3, 5)
MARKER = ".colorkit-student-edition.json"
INDEX_NAME = "README.md"

TITLE_RE = re.compile(r"^#\s+(\d\d)\s*·\s*(\S.*?)\s*$")
LINK_RE = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
HEADING_RE = re.compile(r"^#{1,6}\s")
BULLET_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(\S.*)$")
LEARN_RE = re.compile(r"^##\s+You will learn\b", re.I)
SUMMARY_RE = re.compile(r"^##\s+Summary\b", re.I)
EXERCISES_RE = re.compile(r"^##\s+Exercises\b", re.I)
# a "**Label:** value" field, up to the next "**Other:**" field on the same line
_FIELD = r"\*\*{}:?\*\*:?\s*(.*?)\s*(?=\*\*[A-Z][\w ]*:?\*\*|$)"
PREREQ_RE = re.compile(_FIELD.format("Prerequisites"))
TIME_RE = re.compile(_FIELD.format("Time"))
PROFILE_RE = re.compile(
    r"""^PROFILE\s*=\s*os\.environ\.get\(\s*["']COLORKIT_PROFILE["']\s*,\s*["']pretrained["']\s*\)""", re.M
)
CHECK_RE = re.compile(r"""\bcheck\(\s*(?:key\s*=\s*)?["'](\d\d\.\d+)["']""")
CHECK_ARG_RE = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")
YEAR_RE = re.compile(r"\b(?:1[89]|20)\d\d\b")
NO_METHOD_RE = re.compile(r"\bno (?:single |one |particular )?(?:method|paper)s?\b|\bsources\b", re.I)


# --------------------------------------------------------------------------- reading


def find_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` in ``folder``, in order."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook as nbformat v4; a clear error naming the file if it is not one."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError) as exc:
        raise ColorkitError(f"not a readable notebook ({type(exc).__name__}: {exc})", path=path) from None


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_nav_line(line: str) -> bool:
    return any(_link_kind(text) for text, _ in LINK_RE.findall(line))


def _link_kind(text: str) -> str | None:
    if "←" in text or re.search(r"\bprev(?:ious)?\b", text, re.I):
        return "prev"
    if "→" in text or re.search(r"\bnext\b", text, re.I):
        return "next"
    return None


def _bullets_after(lines: list[str], heading: re.Pattern) -> list[str] | None:
    """The list items under the first line matching ``heading`` (None when there is no such line)."""
    for start, line in enumerate(lines):
        if heading.match(line.strip()):
            break
    else:
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


def read_info(path: Path, nb: nbformat.NotebookNode | None = None) -> NotebookInfo:
    """Parse the title cell, "You will learn", prerequisites and time of a notebook."""
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
                        kind = _link_kind(text)
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
    goals = _bullets_after(front, LEARN_RE) or []
    prereq = next((m.group(1).strip() for line in front if (m := PREREQ_RE.search(line))), "")
    time = next((m.group(1).strip() for line in front if (m := TIME_RE.search(line))), "")
    return NotebookInfo(path, number, title, " ".join(paper_lines), goals, prereq, time, links)


# --------------------------------------------------------------------------- linting


def _markdown_lines(nb) -> list[tuple[int, str]]:
    return [(i, line) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" for line in c.source.splitlines()]


def _heading_cell(nb, pattern: re.Pattern) -> int | None:
    return next((i for i, line in _markdown_lines(nb) if pattern.match(line.strip())), None)


def _check_cells(nb) -> list[tuple[int, list[str]]]:
    """(cell index, exercise keys) of every code cell calling ``check("NN.k", ...)``."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            found = CHECK_RE.findall(cell.source)
            if found:
                out.append((i, found))
    return out


def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def _registered_keys(number: str) -> list[str]:
    from colorkit.exercises import keys

    return keys(number)


def _rule_title(path, nb, info, notebooks):
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return ["the first cell must be a markdown title cell `# NN · Title`"]
    first = next((line.strip() for line in nb.cells[0].source.splitlines() if line.strip()), "")
    m = TITLE_RE.match(first)
    if not m:
        return [f"title line must read `# {info.number} · Title`, found {first[:80]!r}"]
    if m.group(1) != info.number:
        return [f"title number {m.group(1)} does not match the file name ({info.number})"]
    return []


def _rule_paper(path, nb, info, notebooks):
    if info.number == "00":
        if YEAR_RE.search(info.paper) or NO_METHOD_RE.search(info.paper):
            return []
        return ["00 has no method: its title cell must say so and/or list the course's sources"]
    if not YEAR_RE.search(info.paper) or len(info.paper) < 30:
        return [f"the title cell must give the method's paper as a full reference (authors, title, venue, year); "
                f"found {info.paper[:100]!r}"]
    return []


def _rule_navigation(path, nb, info, notebooks):
    names = [p.name for p in notebooks]
    problems = []
    here = names.index(path.name) if path.name in names else None
    for kind, step in (("prev", -1), ("next", +1)):
        target = info.links.get(kind)
        j = None if here is None else here + step
        expected = names[j] if j is not None and 0 <= j < len(names) else None
        label = "← previous" if kind == "prev" else "next →"
        if expected is None and target is not None:
            problems.append(f"the {label} link points to {target!r}, but there is no such notebook here "
                            f"(leave the link out until that notebook exists)")
        elif expected is not None and target is None:
            problems.append(f"missing the {label} link to {expected}")
        elif expected is not None and target != expected:
            problems.append(f"the {label} link points to {target!r}, expected {expected!r}")
    return problems


def _rule_goals(path, nb, info, notebooks):
    front = [line for _, line in _markdown_lines(nb)]
    if _bullets_after(front, LEARN_RE) is None:
        return ["no `## You will learn` heading"]
    lo, hi = GOALS_RANGE
    if not lo <= len(info.goals) <= hi:
        return [f"`## You will learn` must list {lo}–{hi} goals as bullets before the first code cell; "
                f"found {len(info.goals)}"]
    return []


def _rule_prerequisites_time(path, nb, info, notebooks):
    problems = []
    if not info.prerequisites:
        problems.append("no `**Prerequisites:** ...` line before the first code cell")
    for _, target in LINK_RE.findall(info.prerequisites):
        if target.endswith(".ipynb") and not (path.parent / target).exists():
            problems.append(f"the prerequisites link to {target!r}, which does not exist")
    if not info.time:
        problems.append("no `**Time:** reading ~N min · running (pretrained) ~N min · training (full) ...` line")
    else:
        for part, pattern in (("reading ~N min", r"reading\b[^·]*\d"), ("running (pretrained) ~N min", r"running\b[^·]*\d"),
                              ("training (full) ...", r"training\b")):
            if not re.search(pattern, info.time, re.I):
                problems.append(f"the Time line lacks `{part}`: {info.time!r}")
    return problems


def _rule_parameters(path, nb, info, notebooks):
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code:
        return ["no code cells (the first must be the `parameters` cell)"]
    first = code[0]
    problems = []
    if PARAMETERS_TAG not in tags(first):
        problems.append("the first code cell must be tagged `parameters` (papermill)")
    if not re.search(r"^import os\b", first.source, re.M) or not PROFILE_RE.search(first.source):
        problems.append('the first code cell must hold `import os` and '
                        '`PROFILE = os.environ.get("COLORKIT_PROFILE", "pretrained")`')
    return problems


def _count_exercises(nb, start: int, number: str) -> int:
    """Exercises after the ``## Exercises`` heading: ``###`` headings, ``NN.k`` labels or top-level numbered items."""
    headings = numbered = 0
    labels: set[str] = set()
    for i, cell in enumerate(nb.cells[start:], start):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        if i == start:
            lines = lines[next(j for j, line in enumerate(lines) if EXERCISES_RE.match(line.strip())) + 1:]
        elif any(re.match(r"^##\s", line) for line in lines):
            break  # the next level-2 section ends the exercises
        headings += sum(1 for line in lines if re.match(r"^###+\s", line))
        numbered += sum(1 for line in lines if re.match(r"^\d+[.)]\s", line))
        labels.update(re.findall(rf"\b{number}\.\d+\b", "\n".join(lines)))
    return max(headings, len(labels), numbered)


def _rule_sections(path, nb, info, notebooks):
    problems = []
    summary, exercises = _heading_cell(nb, SUMMARY_RE), _heading_cell(nb, EXERCISES_RE)
    if summary is None:
        problems.append("no `## Summary` section")
    if exercises is None:
        problems.append("no `## Exercises` section")
    if summary is not None and exercises is not None and summary > exercises:
        problems.append("`## Summary` must come before `## Exercises`")
    if exercises is not None and info.number != "00":
        keys_used = {k for _, ks in _check_cells(nb) for k in ks}
        n = max(_count_exercises(nb, exercises, info.number), len(keys_used))
        if n < MIN_EXERCISES:
            problems.append(f"`## Exercises` must hold at least {MIN_EXERCISES} exercises (each a `### ` heading "
                            f"or an `{info.number}.k` label); found {n}")
    return problems


def _rule_exercise_keys(path, nb, info, notebooks):
    used = {k for _, ks in _check_cells(nb) for k in ks}
    registered = set(_registered_keys(info.number))
    problems = []
    for key in sorted(used):
        if not key.startswith(info.number + "."):
            problems.append(f"check({key!r}) belongs to another notebook; this one's keys start with {info.number}.")
        elif key not in registered:
            problems.append(f"check({key!r}) has no checker in colorkit/exercises/nb{info.number}.py")
    for key in sorted(registered - used):
        problems.append(f"exercise {key} is registered in colorkit/exercises/nb{info.number}.py but never checked here")
    return problems


def _rule_solutions(path, nb, info, notebooks):
    problems = []
    previous = -1
    for i, ks in _check_cells(nb):
        cell = nb.cells[i]
        if SOLUTION_TAG in tags(cell):
            problems.append(f"check({ks[0]!r}) sits in a `solution` cell: put the check in its own cell after the "
                            "solution, so the student edition keeps it")
        elif not any(SOLUTION_TAG in tags(c) for c in nb.cells[previous + 1:i]):
            problems.append(f"no cell tagged `solution` (the reference answer) before the check of {ks[0]}")
        previous = i
    return problems


def _rule_check_outputs(path, nb, info, notebooks):
    problems = []
    for i, ks in _check_cells(nb):
        text = _output_text(nb.cells[i])
        for key in ks:
            if f"Exercise {key}: right" not in text:
                problems.append(f"the stored output of the check of {key} does not say right "
                                "(run the notebook so the reference solution is checked)")
        if "not yet" in text:
            problems.append(f"the stored output of the check of {', '.join(ks)} says 'not yet'")
    return problems


def _rule_kernel(path, nb, info, notebooks):
    name = nb.metadata.get("kernelspec", {}).get("name")
    return [] if name == KERNEL_NAME else [f"kernelspec name must be {KERNEL_NAME!r}, found {name!r}"]


def _rule_executed(path, nb, info, notebooks):
    problems, unexecuted = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        first = (cell.source.strip().splitlines() or [""])[0][:60]
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} ({first!r}) has a stored error: {out.get('ename')}: {str(out.get('evalue'))[:120]}")
        if cell.source.strip() and cell.get("execution_count") is None:
            unexecuted.append(f"cell {i} ({first!r})")
    if unexecuted:
        problems.append(f"{len(unexecuted)} code cell(s) not executed, first {unexecuted[0]}: commit notebooks "
                        "executed in the pretrained profile")
    return problems


def _rule_size(path, nb, info, notebooks):
    size = path.stat().st_size
    return [] if size <= MAX_NOTEBOOK_BYTES else [f"{size / 1e6:.1f} MB exceeds {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB"]


RULES = {
    "title": _rule_title,
    "paper": _rule_paper,
    "navigation": _rule_navigation,
    "goals": _rule_goals,
    "prerequisites_time": _rule_prerequisites_time,
    "parameters": _rule_parameters,
    "sections": _rule_sections,
    "exercise_keys": _rule_exercise_keys,
    "solutions": _rule_solutions,
    "check_outputs": _rule_check_outputs,
    "kernel": _rule_kernel,
    "executed": _rule_executed,
    "size": _rule_size,
}


def lint(path: Path, rules: list[str] | None = None, notebooks: list[Path] | None = None) -> dict[str, list[str]]:
    """Problems with one notebook, per rule of :data:`RULES` (empty lists when it follows the format)."""
    path = Path(path)
    nb = read_notebook(path)
    info = read_info(path, nb)
    notebooks = find_notebooks(path.parent) if notebooks is None else notebooks
    return {name: RULES[name](path, nb, info, notebooks) for name in (rules or RULES)}


# --------------------------------------------------------------------------- index


def _cell_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_table(notebooks: list[Path]) -> str:
    """A markdown table of ``notebooks``: number, linked title, paper, goals, prerequisites, time."""
    if not notebooks:
        return "No notebooks yet.\n"
    lines = ["| # | notebook | paper | you will learn | prerequisites | time |", "|---|---|---|---|---|---|"]
    for path in notebooks:
        info = read_info(path)
        goals = "<br>".join(f"• {_cell_text(g)}" for g in info.goals) or "—"
        lines.append(f"| {info.number} | [{_cell_text(info.title or path.stem)}]({path.name}) | "
                     f"{_cell_text(info.paper) or '—'} | {goals} | {_cell_text(info.prerequisites) or '—'} | "
                     f"{_cell_text(info.time) or '—'} |")
    return "\n".join(lines) + "\n"


def render_index(notebooks: list[Path]) -> str:
    """The text of ``notebooks/README.md``, the course index."""
    return ("# The course\n\n"
            "Generated by `colorkit course index` from the notebooks' own title, *You will learn*,\n"
            "**Prerequisites** and **Time** cells — edit the notebooks, then re-run it; do not edit this file.\n\n"
            + render_table(notebooks))


def build_index(notebooks_dir: Path = NOTEBOOKS_DIR, check: bool = False) -> bool:
    """Write ``notebooks_dir/README.md``; with ``check``, only say whether it is up to date."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise ColorkitError("no such notebooks folder", path=notebooks_dir)
    target = notebooks_dir / INDEX_NAME
    text = render_index(find_notebooks(notebooks_dir))
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if check:
        return current == text
    if current != text:
        atomic_write(target, text)
    return True


# --------------------------------------------------------------------------- student edition


def _first_comment(source: str) -> str | None:
    for line in source.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("#") and "NBVAL" not in s:
            return s if len(s) <= 100 else s[:99] + "…"
        if not s.startswith("#"):
            return None
    return None


@dataclass
class _Task:
    key: str | None  # "01.2", when known
    has_check: bool  # a check cell follows the solution
    answer_name: str | None  # the variable the check cell reads, e.g. "answer"


def _task_of(nb, i: int, number: str) -> _Task:
    """What the solution cell at index ``i`` answers: its key and the check cell that follows it."""
    own = re.findall(rf"\b{number}\.\d+\b", _first_comment(nb.cells[i].source) or "")
    for cell in nb.cells[i + 1:]:
        if cell.cell_type == "markdown" and re.search(r"^###?\s", cell.source, re.M):
            break
        if SOLUTION_TAG in tags(cell):
            break
        if cell.cell_type == "code" and (found := CHECK_RE.findall(cell.source)):
            key = own[0] if own else found[0]
            names = [name for k, name in CHECK_ARG_RE.findall(cell.source) if k == key]
            return _Task(key, True, names[0] if names else None)
    return _Task(own[0] if own else None, False, None)


def stub_cell(cell, task: _Task):
    """The student's version of a ``solution`` cell: the task's first comment line and a "your turn" error."""
    label = f"Exercise {task.key}" if task.key else "Exercise"
    keep = [t for t in tags(cell) if t != SOLUTION_TAG] + [STUB_TAG]
    if cell.cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(f"**{label}: your turn** — write your answer here (double-click to edit).",
                                             metadata={"tags": keep})
    lines = [c] if (c := _first_comment(cell.source)) else []
    if task.answer_name:
        lines.append(f"# {task.answer_name} = ...   (the check cell below reads {task.answer_name})")
    then = ", then run the check cell below" if task.has_check else ""
    message = f"{label}: your turn — write your answer here{then}."
    lines.append(f'raise NotImplementedError("{message}")')  # the message holds no quotes or backslashes
    return nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": keep})


_DROP_NB_METADATA = ("widgets", "papermill", "execution")
_DROP_CELL_METADATA = ("execution", "papermill", "ExecuteTime", "collapsed", "scrolled")


def student_notebook(nb, number: str):
    """A copy of ``nb`` with ``solution`` cells stubbed, outputs and execution state cleared; (notebook, stubs)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in tags(c)]
    stubs = 0
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in tags(cell):
            new = stub_cell(cell, _task_of(nb, i, number))
            if "id" in cell:
                new["id"] = cell["id"]
            nb.cells[i] = new
            stubs += 1
    for cell in nb.cells:
        for k in _DROP_CELL_METADATA:
            cell.metadata.pop(k, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for k in _DROP_NB_METADATA:
        nb.metadata.pop(k, None)
    return nb, stubs


def _local_assets(nb, notebooks_dir: Path) -> list[Path]:
    """Files beside the notebooks that its markdown links to (images, data), relative to ``notebooks_dir``."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        targets = [t for _, t in LINK_RE.findall(cell.source)] + re.findall(r"""src=["']([^"']+)["']""", cell.source)
        for t in targets:
            t = t.split("#")[0]
            if not t or re.match(r"^[a-z]+:", t) or t.startswith("/") or ".." in Path(t).parts or t.endswith(".ipynb"):
                continue
            if (notebooks_dir / t).is_file():
                found.append(Path(t))
    return found


STUDENT_README = """# colorkit — student edition

These are the course notebooks with the exercises left for you: every cell that
held a reference solution is replaced by a cell that stops with
`NotImplementedError: Exercise NN.k: your turn …`. All outputs are cleared, so
you see each figure and number appear as you run the cells.

## How to work through it

1. From the repository root, start JupyterLab on this folder:
   `.venv/bin/jupyter lab {folder}/` (the environment comes from `make lab` or any `make` target),
   and pick the kernel "Python 3 (colorkit)".
2. Open the notebooks in order, starting with the first one below, and run the cells top to bottom.
   The first code cell holds the parameters: `PROFILE = "pretrained"` uses the committed
   checkpoints and runs in minutes on a laptop CPU.
3. At **Exercises**, replace the `raise NotImplementedError(...)` line with your answer
   (usually `answer = ...`), then run the check cell below it:
   `colorkit.exercises.check("NN.k", answer)` prints *right!* or *not yet* with a hint — never the answer.
   Open-ended exercises say what a good answer contains.
4. Stuck? The teacher edition in `notebooks/` holds the reference solutions and all outputs.

`make student` (`colorkit course student-edition`) rebuilt this folder from `notebooks/`.
It refuses to overwrite this folder once you have changed anything in it, so your work is safe;
move the folder away (or pass `--force`, which overwrites only the notebooks it writes) to get a fresh copy.

"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def _edition_state(out: Path) -> tuple[str, list[str]]:
    """("absent" | "empty" | "ours" | "changed" | "foreign", details) for an output folder."""
    if not out.exists():
        return "absent", []
    if not out.is_dir():
        return "foreign", [f"{out} is not a folder"]
    present = _files_under(out)
    if not present:
        return "empty", []
    marker = out / MARKER
    if not marker.is_file():
        return "foreign", [f"{len(present)} file(s) and no {MARKER}"]
    try:
        written = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return "foreign", [f"{MARKER} is unreadable"]
    changed = [f"{name} (changed)" for name, digest in written.items()
               if (out / name).is_file() and _sha256(out / name) != digest]
    extra = [f"{name} (new)" for name in present if name != MARKER and name not in written]
    return ("changed", changed + extra) if changed or extra else ("ours", [])


def build_student_edition(out: Path | None = None, notebooks_dir: Path = NOTEBOOKS_DIR, force: bool = False) -> dict:
    """Write the student edition into ``out`` (default ``student/``); returns ``{notebook name: stubs}``.

    ``out`` may be replaced when it is absent, empty, or an unchanged earlier
    student edition (its marker file lists what it wrote); any other existing
    folder is refused unless ``force``, which writes the edition's files into it
    and deletes nothing.
    """
    notebooks_dir = Path(notebooks_dir).resolve()
    out = Path(REPO_ROOT / "student" if out is None else out).absolute()
    if out.resolve() == notebooks_dir or notebooks_dir in out.resolve().parents or out.resolve() in notebooks_dir.parents:
        raise ColorkitError("the student edition must not be written into (or around) the notebooks folder", path=out)
    notebooks = find_notebooks(notebooks_dir)
    if not notebooks:
        raise ColorkitError("no NN_name.ipynb notebooks found", path=notebooks_dir)
    state, details = _edition_state(out)
    if out.exists() and not out.is_dir():
        raise ColorkitError("exists and is not a folder", path=out)
    if state in ("foreign", "changed") and not force:
        why = "was not written by `colorkit course student-edition`" if state == "foreign" else "has changes since it was written"
        raise ColorkitError(f"refusing to overwrite: the folder {why} ({'; '.join(details[:5])}). "
                            "Move it away, choose another --out, or pass --force (overwrites only the edition's files)",
                            path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    os.chmod(stage, 0o755)  # mkdtemp makes it private; the edition is an ordinary folder
    try:
        report = {}
        for path in notebooks:
            nb, stubs = student_notebook(read_notebook(path), path.name[:2])
            nbformat.write(nb, str(stage / path.name))
            report[path.name] = stubs
            for asset in _local_assets(nb, notebooks_dir):
                (stage / asset).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(notebooks_dir / asset, stage / asset)
        (stage / "README.md").write_text(STUDENT_README.format(folder=out.name) + "## The notebooks\n\n"
                                         + render_table(notebooks), encoding="utf-8")
        written = {name: _sha256(stage / name) for name in _files_under(stage)}
        (stage / MARKER).write_text(json.dumps({"written_by": "colorkit course student-edition", "files": written},
                                               indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if state in ("absent", "empty", "ours"):
            trash = None
            if state != "absent":
                trash = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
                os.replace(out, trash / out.name)
            os.replace(stage, out)
            if trash is not None:
                shutil.rmtree(trash)
        else:  # forced into an existing folder: replace our files one by one, delete nothing
            for name in _files_under(stage):
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage / name, out / name)
        return report
    finally:
        if stage.exists():
            shutil.rmtree(stage)


# --------------------------------------------------------------------------- command line


def add_cli(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    p = sub.add_parser("student-edition", help="write the notebooks without solutions and outputs into student/")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: student/ in the repository)")
    p.add_argument("--force", action="store_true", help="write into an existing folder this command did not create "
                   "(or that was changed since); overwrites only the edition's files")
    p = sub.add_parser("index", help="regenerate notebooks/README.md, the course index")
    p.add_argument("--check", action="store_true", help="only check that it is up to date (exit 1 if not)")
    p = sub.add_parser("lint", help="check notebooks against the course format")
    p.add_argument("only", nargs="*", help="notebook numbers, e.g. 01 02 (default: all)")
    for p in sub.choices.values():
        p.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="the notebooks folder (default: notebooks/)")


def run_cli(args: argparse.Namespace) -> int:
    if args.course_command == "student-edition":
        report = build_student_edition(args.out, args.notebooks, force=args.force)
        out = args.out or REPO_ROOT / "student"
        for name, stubs in report.items():
            print(f"  {name}: {stubs} exercise cell(s) left for the student")
        print(f"student edition: {len(report)} notebook(s) -> {out}/")
        return 0
    if args.course_command == "index":
        target = Path(args.notebooks) / INDEX_NAME
        if args.check:
            if build_index(args.notebooks, check=True):
                print(f"{target} is up to date")
                return 0
            print(f"{target} is out of date: run `colorkit course index`")
            return 1
        build_index(args.notebooks)
        print(f"wrote {target}")
        return 0
    if args.course_command == "lint":
        notebooks = find_notebooks(args.notebooks)
        chosen = [p for p in notebooks if not args.only or p.name[:2] in args.only]
        if not chosen:
            raise ColorkitError(f"no notebook matches {args.only or 'NN_*.ipynb'}", path=args.notebooks)
        bad = 0
        for path in chosen:
            problems = [f"{rule}: {msg}" for rule, msgs in lint(path, notebooks=notebooks).items() for msg in msgs]
            bad += bool(problems)
            print(f"{path.name}: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
            for line in problems:
                print(f"  - {line}")
        return 1 if bad else 0
    raise ColorkitError(f"unknown course action {args.course_command!r}")
