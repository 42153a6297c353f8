"""Every committed notebook follows the course format (colorkit/course/lint.py, README "How to use this course").

One test per notebook and rule, so a failure names both, e.g.
``test_format[01_color_spaces-navigation]``. ``colorkit course lint`` prints the
same report. The rules themselves are tested on synthetic notebooks in
tests/test_course.py.
"""

from functools import cache

import pytest

from colorkit import course
from colorkit.exercises import keys
from colorkit.paths import NOTEBOOKS_DIR, REPO_ROOT

NOTEBOOKS = course.find_notebooks(NOTEBOOKS_DIR)


@cache
def _problems(name: str) -> dict[str, list[str]]:
    return course.lint(NOTEBOOKS_DIR / name, notebooks=NOTEBOOKS)


@pytest.mark.parametrize("rule", list(course.RULES))
@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS], ids=lambda n: n.removesuffix(".ipynb"))
def test_format(name, rule):
    problems = _problems(name)[rule]
    assert not problems, f"{name} breaks the course format ({rule}):\n  - " + "\n  - ".join(problems)


def test_notebook_numbers_are_unique():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), numbers


@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS], ids=lambda n: n.removesuffix(".ipynb"))
def test_exercise_checks_have_tests(name):
    """Notebook NN's checks are tested (reference solution accepted, a typical wrong answer rejected)."""
    nn = name[:2]
    if not keys(nn):
        pytest.skip(f"notebook {nn} has no checked exercises")
    test_file = REPO_ROOT / "tests" / f"test_exercises_nb{nn}.py"
    assert test_file.is_file(), f"{test_file.relative_to(REPO_ROOT)} is missing"
    text = test_file.read_text(encoding="utf-8")
    untested = [k for k in keys(nn) if f'"{k}"' not in text and f"'{k}'" not in text]
    assert not untested, f"{test_file.name} never mentions {untested}"


def test_course_index_is_up_to_date():
    """notebooks/README.md is what `colorkit course index` writes from the notebooks as they are now."""
    assert course.build_index(NOTEBOOKS_DIR, check=True), \
        "notebooks/README.md is out of date: run `.venv/bin/colorkit course index`"
