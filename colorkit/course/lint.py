"""The course format, as rules: :func:`lint` checks one notebook against every rule of :data:`RULES`.

Every ``notebooks/NN_name.ipynb`` follows the same format (README, "How to use this course"):

1. title cell ``# NN · Title``, the method's paper as a full reference, and a
   ``[← previous](...) · [next →](...)`` line;
2. ``## You will learn`` with 3–5 bullets, then ``**Prerequisites:** ...`` and
   ``**Time:** reading ~N min · running (pretrained) ~N min · training (full) ~N min``;
3. the first code cell tagged ``parameters`` with
   ``PROFILE = os.environ.get("COLORKIT_PROFILE", "pretrained")``;
4. sections, ``## Summary``, ``## Exercises`` (at least 3 from 01 on). A checkable
   exercise is a cell tagged ``solution`` (the reference answer) followed by a
   cell calling ``colorkit.exercises.check("NN.k", answer)``;
5. committed executed (pretrained profile), without stored errors, with the ``colorkit``
   kernel, and at most :data:`MAX_NOTEBOOK_BYTES`.

A rule is a function ``(path, nb, info, notebooks) -> list of problems``; ``colorkit course lint``
prints them and tests/test_notebook_format.py runs each on every notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

from colorkit.course.notebooks import (
    KERNEL_NAME,
    LEARN_RE,
    LINK_RE,
    PARAMETERS_TAG,
    SOLUTION_TAG,
    TITLE_RE,
    bullets_after,
    check_cells,
    find_notebooks,
    read_info,
    read_notebook,
    tags,
)
from colorkit.exercises import keys

MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024
MIN_EXERCISES = 3
GOALS_RANGE = (3, 5)

SUMMARY_RE = re.compile(r"^##\s+Summary\b", re.I)
EXERCISES_RE = re.compile(r"^##\s+Exercises\b", re.I)
PROFILE_RE = re.compile(
    r"""^PROFILE\s*=\s*os\.environ\.get\(\s*["']COLORKIT_PROFILE["']\s*,\s*["']pretrained["']\s*\)""", re.M
)
YEAR_RE = re.compile(r"\b(?:1[89]|20)\d\d\b")
NO_METHOD_RE = re.compile(r"\bno (?:single |one |particular )?(?:method|paper)s?\b|\bsources\b", re.I)


def _markdown_lines(nb) -> list[tuple[int, str]]:
    return [(i, line) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" for line in c.source.splitlines()]


def _heading_cell(nb, pattern: re.Pattern) -> int | None:
    return next((i for i, line in _markdown_lines(nb) if pattern.match(line.strip())), None)


def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def _registered_keys(number: str) -> list[str]:
    return keys(number)


# --------------------------------------------------------------------------- the front matter


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
    if bullets_after(front, LEARN_RE) is None:
        return ["no `## You will learn` heading"]
    lo, hi = GOALS_RANGE
    if not lo <= len(info.goals) <= hi:
        return [f"`## You will learn` must list {lo}–{hi} goals as bullets before the first code cell; "
                f"found {len(info.goals)}"]
    return []


TIME_PARTS = (("reading ~N min", r"reading\b[^·]*\d"), ("running (pretrained) ~N min", r"running\b[^·]*\d"),
              ("training (full) ...", r"training\b"))


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
        for part, pattern in TIME_PARTS:
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


# --------------------------------------------------------------------------- sections and exercises


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
        keys_used = {k for _, ks in check_cells(nb) for k in ks}
        n = max(_count_exercises(nb, exercises, info.number), len(keys_used))
        if n < MIN_EXERCISES:
            problems.append(f"`## Exercises` must hold at least {MIN_EXERCISES} exercises (each a `### ` heading "
                            f"or an `{info.number}.k` label); found {n}")
    return problems


def _rule_exercise_keys(path, nb, info, notebooks):
    used = {k for _, ks in check_cells(nb) for k in ks}
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
    for i, ks in check_cells(nb):
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
    for i, ks in check_cells(nb):
        text = _output_text(nb.cells[i])
        for key in ks:
            if f"Exercise {key}: right" not in text:
                problems.append(f"the stored output of the check of {key} does not say right "
                                "(run the notebook so the reference solution is checked)")
        if "not yet" in text:
            problems.append(f"the stored output of the check of {', '.join(ks)} says 'not yet'")
    return problems


# --------------------------------------------------------------------------- the committed file


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
                problems.append(f"cell {i} ({first!r}) has a stored error: "
                                f"{out.get('ename')}: {str(out.get('evalue'))[:120]}")
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
