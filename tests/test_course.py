"""The course machinery: the format linter, the course index and the student edition.

A small course of synthetic notebooks (numbers 96–98, with exercise checks
registered here) is built in tmp_path; every rule must accept it and catch its
own violation. The real notebooks are covered by tests/test_notebook_format.py.
"""

import hashlib
import json

import nbformat
import pytest

from colorkit import course
from colorkit.cli import main
from colorkit.errors import ColorkitError
from colorkit.exercises import evaluate, exercise, keys
from colorkit.paths import NOTEBOOKS_DIR

# Checks for the synthetic notebooks 96–98 (three per notebook).
for _nn in ("96", "97", "98"):
    for _k in (1, 2, 3):
        exercise(f"{_nn}.{_k}", hint=f"the answer to {_nn}.{_k} is a small number")(
            lambda answer, _k=_k: answer == _k * 10
        )

NAMES = {"96": "96_first.ipynb", "97": "97_middle.ipynb", "98": "98_last.ipynb"}


def _md(text, tags=()):
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": list(tags)} if tags else {})


def _code(src, tags=(), outputs=(), count=None):
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in outputs]
    cell.execution_count = count
    return cell


def make_notebook(nn: str, prev: str | None, nxt: str | None) -> nbformat.NotebookNode:
    """A notebook that follows the course format, "executed" (checks run here, their messages stored)."""
    nav = " · ".join(x for x in (prev and f"[← previous]({prev})", nxt and f"[next →]({nxt})") if x)
    cells = [
        _md(f"# {nn} · Method number {nn}\n\n"
            f"**Paper:** A. Author and B. Writer. *A method for colorizing {nn}*. Journal of Tests 7(3), 2004.\n\n"
            + nav),
        _md("## You will learn\n\n- how the first idea works\n- why the second one matters\n"
            "- to compute | compare the third\n\n"
            f"**Prerequisites:** {f'[the previous notebook]({prev})' if prev else 'none'}\n\n"
            "**Time:** reading ~10 min · running (pretrained) ~1 min · training (full) — none"),
        _code('import os\nPROFILE = os.environ.get("COLORKIT_PROFILE", "pretrained")\nSEED = 0', ["parameters"]),
        _md("## The idea\n\nExplained before it is shown."),
        _code("print(PROFILE)", outputs=["pretrained\n"]),
        _md("## Summary\n\nA recap."),
        _md("## Exercises"),
    ]
    for k in (1, 2, 3):
        key = f"{nn}.{k}"
        solution = (f"# {key}: compute the magic number of step {k}\n"
                    f"# it is ten times the step, secretly_{nn}_{k}\n"
                    f"magic_{nn}_{k} = {k} * 10\nanswer = magic_{nn}_{k}")
        ns: dict = {}
        exec(solution, ns)
        ok, message = evaluate(key, ns["answer"])
        assert ok
        cells += [
            _md(f"### {key} · Step {k}\n\nFind the magic number of step {k}."),
            _code(solution, ["solution"]),
            _code(f'import colorkit.exercises\ncolorkit.exercises.check("{key}", answer)', outputs=[message + "\n"]),
        ]
    cells.append(_md(f"### {nn}.4 · Open question\n\nA good answer names two reasons.", ))
    cells.append(_md("*Reference answer:* the two reasons are A and B.", ["solution"]))
    count = 0
    for cell in cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "colorkit", "display_name": "Python 3 (colorkit)", "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["papermill"] = {"parameters": {}}
    return nb


@pytest.fixture()
def nbdir(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    names = list(NAMES.values())
    for i, (nn, name) in enumerate(NAMES.items()):
        prev = names[i - 1] if i > 0 else None
        nxt = names[i + 1] if i + 1 < len(names) else None
        nbformat.write(make_notebook(nn, prev, nxt), d / name)
    return d


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- the linter


def test_exercise_keys_of_a_notebook_without_module():
    assert keys("97") == ["97.1", "97.2", "97.3"]
    assert keys("95") == []


def test_synthetic_course_follows_the_format(nbdir):
    for path in course.find_notebooks(nbdir):
        problems = course.lint(path)
        assert problems.keys() == course.RULES.keys()
        assert all(v == [] for v in problems.values()), (path.name, problems)


def _cell_with(nb, text):
    return next(c for c in nb.cells if text in c.source)


def _break_title(nb):
    nb.cells[0].source = nb.cells[0].source.replace("# 97 · ", "# 97 - ")


def _break_paper(nb):
    nb.cells[0].source = "# 97 · Method\n\n[← previous](96_first.ipynb) · [next →](98_last.ipynb)"


def _break_prev(nb):
    nb.cells[0].source = nb.cells[0].source.replace("[← previous](96_first.ipynb) · ", "")


def _break_next(nb):
    nb.cells[0].source = nb.cells[0].source.replace("98_last.ipynb", "99_missing.ipynb")


def _two_goals(nb):
    c = _cell_with(nb, "You will learn")
    c.source = c.source.replace("- why the second one matters\n", "")


def _no_time(nb):
    c = _cell_with(nb, "**Time:**")
    c.source = c.source.replace("**Time:** reading ~10 min · running (pretrained) ~1 min", "**Time:** a while")


def _untagged_parameters(nb):
    nb.cells[2].metadata["tags"] = []


def _no_profile(nb):
    nb.cells[2].source = "import os\nPROFILE = 'pretrained'"


def _no_summary(nb):
    _cell_with(nb, "## Summary").source = "## Recap\n\nA recap."


def _two_exercises(nb):
    drop = {i for i, c in enumerate(nb.cells) if "97.3" in c.source or "97.4" in c.source or "two reasons" in c.source}
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in drop]


def _foreign_key(nb):
    c = _cell_with(nb, 'check("97.2"')
    c.source = c.source.replace('"97.2"', '"96.2"')


def _unknown_key(nb):
    c = _cell_with(nb, 'check("97.2"')
    c.source = c.source.replace('"97.2"', '"97.9"')


def _untagged_solution(nb):
    _cell_with(nb, "magic_97_2 = ").metadata["tags"] = []


def _check_inside_solution(nb):
    c = _cell_with(nb, "magic_97_2 = ")
    c.source += '\ncolorkit.exercises.check("97.2", answer)'


def _check_says_not_yet(nb):
    c = _cell_with(nb, 'check("97.1"')
    c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Exercise 97.1: not yet. Hint: ...\n")]


def _wrong_kernel(nb):
    nb.metadata["kernelspec"]["name"] = "python3"


def _stored_error(nb):
    nb.cells[4].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])]


def _not_executed(nb):
    nb.cells[4].execution_count = None


def _too_big(nb):
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (course.MAX_NOTEBOOK_BYTES + 10))]


@pytest.mark.parametrize("breaks, rule, says", [
    (_break_title, "title", "# 97 · Title"),
    (_break_paper, "paper", "full reference"),
    (_break_prev, "navigation", "missing the ← previous link to 96_first.ipynb"),
    (_break_next, "navigation", "'99_missing.ipynb', expected '98_last.ipynb'"),
    (_two_goals, "goals", "found 2"),
    (_no_time, "prerequisites_time", "reading ~N min"),
    (_untagged_parameters, "parameters", "tagged `parameters`"),
    (_no_profile, "parameters", "COLORKIT_PROFILE"),
    (_no_summary, "sections", "## Summary"),
    (_two_exercises, "sections", "at least 3 exercises"),
    (_two_exercises, "exercise_keys", "97.3 is registered"),
    (_foreign_key, "exercise_keys", "another notebook"),
    (_unknown_key, "exercise_keys", "no checker"),
    (_untagged_solution, "solutions", "no cell tagged `solution`"),
    (_check_inside_solution, "solutions", "sits in a `solution` cell"),
    (_check_says_not_yet, "check_outputs", "not yet"),
    (_wrong_kernel, "kernel", "'python3'"),
    (_stored_error, "executed", "ValueError: boom"),
    (_not_executed, "executed", "not executed"),
    (_too_big, "size", "exceeds"),
], ids=lambda x: getattr(x, "__name__", None) if callable(x) else None)
def test_each_rule_catches_its_violation(nbdir, breaks, rule, says):
    path = nbdir / NAMES["97"]
    nb = nbformat.read(path, as_version=4)
    breaks(nb)
    nbformat.write(nb, path)
    problems = course.lint(path)
    assert any(says in p for p in problems[rule]), problems[rule]
    others = {r: v for r, v in problems.items() if v and r not in (rule, "exercise_keys", "sections", "solutions",
                                                                        "check_outputs", "size")}
    assert not others, others  # a violation is reported by its own rule


def test_end_notebooks_have_no_outer_links(nbdir):
    path = nbdir / NAMES["98"]
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += " · [next →](99_later.ipynb)"  # a notebook not written yet
    nbformat.write(nb, path)
    assert any("leave the link out" in p for p in course.lint(path)["navigation"])
    assert "prev" not in course.read_info(nbdir / NAMES["96"]).links


def test_notebook_00_needs_no_paper_but_says_so(tmp_path):
    path = tmp_path / "00_setup.ipynb"
    nb = nbformat.v4.new_notebook(cells=[_md("# 00 · Setup\n\n[next →](01_x.ipynb)")])
    nbformat.write(nb, path)
    assert course.lint(path, rules=["paper"])["paper"]
    nb.cells[0].source = "# 00 · Setup\n\nNo single method here: the course's sources are listed below.\n"
    nbformat.write(nb, path)
    assert course.lint(path, rules=["paper"])["paper"] == []


def test_read_info(nbdir):
    info = course.read_info(nbdir / NAMES["97"])
    assert (info.number, info.title) == ("97", "Method number 97")
    assert info.paper.startswith("**Paper:** A. Author") and "2004" in info.paper
    assert info.goals == ["how the first idea works", "why the second one matters", "to compute | compare the third"]
    assert info.prerequisites == "[the previous notebook](96_first.ipynb)"
    assert info.time.startswith("reading ~10 min")
    assert info.links == {"prev": "96_first.ipynb", "next": "98_last.ipynb"}


def test_prerequisites_and_time_may_share_a_line(tmp_path):
    path = tmp_path / "05_x.ipynb"
    nb = nbformat.v4.new_notebook(cells=[_md("# 05 · X"), _md(
        "## You will learn\n\n- a\n- b\n  continued\n- c\n\n**Prerequisites:** [04 · Y](04_y.ipynb). "
        "**Time:** reading ~5 min · running (pretrained) ~2 min · training (full) ~30 min (GPU)")])
    nbformat.write(nb, path)
    info = course.read_info(path)
    assert info.prerequisites == "[04 · Y](04_y.ipynb)."
    assert info.time == "reading ~5 min · running (pretrained) ~2 min · training (full) ~30 min (GPU)"
    assert info.goals == ["a", "b continued", "c"]
    assert course.lint(path, rules=["prerequisites_time"])["prerequisites_time"] == [
        "the prerequisites link to '04_y.ipynb', which does not exist"]


def test_lint_cli(nbdir, capsys):
    assert main(["course", "lint", "--notebooks", str(nbdir)]) == 0
    path = nbdir / NAMES["98"]
    nb = nbformat.read(path, as_version=4)
    _wrong_kernel(nb)
    nbformat.write(nb, path)
    assert main(["course", "lint", "98", "--notebooks", str(nbdir)]) == 1
    out = capsys.readouterr().out
    assert "98_last.ipynb: 1 problem(s)" in out and "kernel: kernelspec name" in out


# --------------------------------------------------------------------------- the index


def test_index_is_generated_and_checked(nbdir, capsys):
    assert main(["course", "index", "--check", "--notebooks", str(nbdir)]) == 1  # no README yet
    assert main(["course", "index", "--notebooks", str(nbdir)]) == 0
    text = (nbdir / "README.md").read_text()
    assert "| 97 | [Method number 97](97_middle.ipynb) |" in text
    assert "• how the first idea works<br>• why the second one matters<br>• to compute \\| compare the third" in text
    assert "reading ~10 min · running (pretrained) ~1 min" in text and "Journal of Tests" in text
    assert main(["course", "index", "--check", "--notebooks", str(nbdir)]) == 0

    path = nbdir / NAMES["97"]
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("Method number 97", "A renamed method")
    nbformat.write(nb, path)
    assert main(["course", "index", "--check", "--notebooks", str(nbdir)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert course.build_index(nbdir) and course.build_index(nbdir, check=True)
    assert "[A renamed method](97_middle.ipynb)" in (nbdir / "README.md").read_text()


# --------------------------------------------------------------------------- the student edition


def leaked_solution_lines(teacher: nbformat.NotebookNode, student_path) -> list[str]:
    """Lines of the teacher's solution cells that appear in the student notebook.

    Lines that also occur outside solution cells, blank lines and the first
    comment line (kept in the stub as the task) are not counted.
    """
    student = nbformat.read(student_path, as_version=4)
    texts = [c.source for c in student.cells]
    texts += [json.dumps(c.get("outputs", []), ensure_ascii=False) for c in student.cells]
    texts.append(json.dumps(student.metadata, ensure_ascii=False))
    whole = "\n".join(texts)
    student_lines = {line.strip() for t in texts for line in t.splitlines()}
    elsewhere = {line.strip() for c in teacher.cells if "solution" not in course.tags(c)
                 for line in c.source.splitlines()}
    leaked = []
    for cell in teacher.cells:
        if "solution" not in course.tags(cell):
            continue
        kept = course.student.first_comment(cell.source) if cell.cell_type == "code" else None
        for line in (s.strip() for s in cell.source.splitlines()):
            if not line or line in elsewhere or line == kept:
                continue
            if line in student_lines or (len(line) >= 12 and line in whole):
                leaked.append(line)
    return leaked


def test_student_edition(nbdir, tmp_path):
    before = _digest(nbdir)
    out = tmp_path / "student"
    report = course.build_student_edition(out, nbdir)
    assert report == {name: 4 for name in NAMES.values()}  # 3 checked + 1 open-ended solution each
    assert _digest(nbdir) == before  # the teacher edition is untouched
    assert sorted(p.name for p in out.iterdir()) == sorted([*NAMES.values(), "README.md", course.MARKER])
    readme = (out / "README.md").read_text()
    assert "your turn" in readme and "[Method number 97](97_middle.ipynb)" in readme

    for nn, name in NAMES.items():
        teacher = nbformat.read(nbdir / name, as_version=4)
        student = nbformat.read(out / name, as_version=4)
        assert leaked_solution_lines(teacher, out / name) == []
        assert len(student.cells) == len(teacher.cells)
        assert "widgets" not in student.metadata and "papermill" not in student.metadata
        assert student.metadata["kernelspec"]["name"] == "colorkit"
        for cell in student.cells:
            assert "solution" not in course.tags(cell)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        stubs = [c for c in student.cells if course.STUB_TAG in course.tags(c)]
        assert len(stubs) == 4
        code_stub = stubs[1]
        assert code_stub.source.splitlines()[:2] == [
            f"# {nn}.2: compute the magic number of step 2",
            "# answer = ...   (the check cell below reads answer)",
        ]
        with pytest.raises(NotImplementedError, match=rf"Exercise {nn}\.2: your turn .* run the check cell below"):
            exec(code_stub.source, {})
        assert stubs[3].cell_type == "markdown" and "your turn" in stubs[3].source
        # the check cells are kept, so the learner can check an answer
        assert sum(f'check("{nn}.' in c.source for c in student.cells) == 3


def test_leak_detector_finds_a_leak(nbdir, tmp_path):
    """The leak check used above is not vacuous: a student notebook that kept a solution fails it."""
    teacher = nbformat.read(nbdir / NAMES["96"], as_version=4)
    nbformat.write(teacher, tmp_path / "copy.ipynb")
    leaked = leaked_solution_lines(teacher, tmp_path / "copy.ipynb")
    assert "magic_96_1 = 1 * 10" in leaked and "# it is ten times the step, secretly_96_1" in leaked


def test_student_edition_never_writes_into_notebooks(nbdir):
    with pytest.raises(ColorkitError, match="notebooks folder"):
        course.build_student_edition(nbdir / "student", nbdir)
    with pytest.raises(ColorkitError, match="notebooks folder"):
        course.build_student_edition(nbdir, nbdir)
    with pytest.raises(ColorkitError, match="notebooks folder"):
        course.build_student_edition(nbdir.parent, nbdir, force=True)


def test_student_edition_refuses_a_foreign_folder(nbdir, tmp_path, capsys):
    out = tmp_path / "student"
    out.mkdir()
    (out / "my_notes.txt").write_text("mine")
    with pytest.raises(ColorkitError, match="refusing to overwrite"):
        course.build_student_edition(out, nbdir)
    assert sorted(p.name for p in out.iterdir()) == ["my_notes.txt"]
    assert main(["course", "student-edition", "--out", str(out), "--notebooks", str(nbdir)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    # --force writes the edition's files and deletes nothing
    assert main(["course", "student-edition", "--out", str(out), "--notebooks", str(nbdir), "--force"]) == 0
    assert (out / "my_notes.txt").read_text() == "mine" and (out / NAMES["97"]).is_file()


def test_student_edition_replaces_its_own_unchanged_folder_only(nbdir, tmp_path):
    out = tmp_path / "student"
    course.build_student_edition(out, nbdir)
    (nbdir / NAMES["98"]).unlink()
    course.build_student_edition(out, nbdir)  # unchanged: replaced, the removed notebook goes too
    assert not (out / NAMES["98"]).exists() and (out / NAMES["97"]).exists()
    assert not list(tmp_path.glob(".student.*"))  # no staging folders left behind

    work = out / NAMES["97"]
    work.write_text(work.read_text().replace("your turn", "my answer"))  # the learner worked on it
    with pytest.raises(ColorkitError, match=r"has changes since it was written .*97_middle.ipynb \(changed\)"):
        course.build_student_edition(out, nbdir)
    assert "my answer" in work.read_text()


def test_student_edition_copies_local_assets(nbdir, tmp_path):
    (nbdir / "figures").mkdir()
    (nbdir / "figures" / "diagram.png").write_bytes(b"\x89PNG fake")
    path = nbdir / NAMES["96"]
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, _md("![a diagram](figures/diagram.png) and [data](../data/x.csv) and [web](https://x.org/a.png)"))
    nbformat.write(nb, path)
    out = tmp_path / "student"
    course.build_student_edition(out, nbdir)
    assert (out / "figures" / "diagram.png").read_bytes() == b"\x89PNG fake"
    assert not (out / "data").exists()


def test_student_edition_of_the_real_notebooks(tmp_path):
    """``make student`` on the committed course: no solution source survives, every solution cell is stubbed."""
    notebooks = course.find_notebooks(NOTEBOOKS_DIR)
    if not notebooks:
        pytest.skip("no notebooks committed yet")
    out = tmp_path / "student"
    report = course.build_student_edition(out, NOTEBOOKS_DIR)
    assert list(report) == [p.name for p in notebooks]
    for path in notebooks:
        teacher = nbformat.read(path, as_version=4)
        n_solutions = sum("solution" in course.tags(c) for c in teacher.cells)
        assert report[path.name] == n_solutions
        assert leaked_solution_lines(teacher, out / path.name) == [], path.name
        student = nbformat.read(out / path.name, as_version=4)
        assert all(c.outputs == [] for c in student.cells if c.cell_type == "code"), path.name
