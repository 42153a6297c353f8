"""The student edition: the notebooks with every ``solution`` cell replaced by a "your turn" stub.

``colorkit course student-edition`` (``make student``) writes ``student/``: each notebook with
its reference solutions stubbed (the exercise's first comment line and a ``NotImplementedError``
naming the exercise), all outputs and execution state cleared, the local files its markdown
links to, a README and a marker file listing what was written. A folder the command did not
write, or one changed since, is never overwritten without ``--force``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from colorkit.course.index import render_table
from colorkit.course.notebooks import CHECK_RE, LINK_RE, SOLUTION_TAG, find_notebooks, read_notebook, tags
from colorkit.errors import ColorkitError
from colorkit.paths import NOTEBOOKS_DIR, REPO_ROOT

STUB_TAG = "your-turn"
MARKER = ".colorkit-student-edition.json"
# check("NN.k", name): the variable a check cell reads
CHECK_ARG_RE = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")

# --------------------------------------------------------------------------- one notebook


def first_comment(source: str) -> str | None:
    """The first line of a code cell when it is a comment (not an NBVAL marker), cut to 100 characters; else None."""
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
    own = re.findall(rf"\b{number}\.\d+\b", first_comment(nb.cells[i].source) or "")
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
    import nbformat

    label = f"Exercise {task.key}" if task.key else "Exercise"
    keep = [t for t in tags(cell) if t != SOLUTION_TAG] + [STUB_TAG]
    if cell.cell_type == "markdown":
        text = f"**{label}: your turn** — write your answer here (double-click to edit)."
        return nbformat.v4.new_markdown_cell(text, metadata={"tags": keep})
    lines = [c] if (c := first_comment(cell.source)) else []
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


# --------------------------------------------------------------------------- the edition folder


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
    import nbformat

    notebooks_dir = Path(notebooks_dir).resolve()
    out = Path(REPO_ROOT / "student" if out is None else out).absolute()
    where = out.resolve()
    if where == notebooks_dir or notebooks_dir in where.parents or where in notebooks_dir.parents:
        raise ColorkitError("the student edition must not be written into (or around) the notebooks folder", path=out)
    notebooks = find_notebooks(notebooks_dir)
    if not notebooks:
        raise ColorkitError("no NN_name.ipynb notebooks found", path=notebooks_dir)
    state, details = _edition_state(out)
    if out.exists() and not out.is_dir():
        raise ColorkitError("exists and is not a folder", path=out)
    if state in ("foreign", "changed") and not force:
        why = ("was not written by `colorkit course student-edition`" if state == "foreign"
               else "has changes since it was written")
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
