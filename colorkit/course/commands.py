"""``colorkit course lint | index | student-edition``: the course tools on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from colorkit.course.index import INDEX_NAME, build_index
from colorkit.course.lint import lint
from colorkit.course.notebooks import find_notebooks
from colorkit.course.student import build_student_edition
from colorkit.errors import ColorkitError
from colorkit.paths import NOTEBOOKS_DIR, REPO_ROOT


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
        p.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR,
                       help="the notebooks folder (default: notebooks/)")


def _student_edition(args) -> int:
    report = build_student_edition(args.out, args.notebooks, force=args.force)
    out = args.out or REPO_ROOT / "student"
    for name, stubs in report.items():
        print(f"  {name}: {stubs} exercise cell(s) left for the student")
    print(f"student edition: {len(report)} notebook(s) -> {out}/")
    return 0


def _index(args) -> int:
    target = Path(args.notebooks) / INDEX_NAME
    if not args.check:
        build_index(args.notebooks)
        print(f"wrote {target}")
        return 0
    if build_index(args.notebooks, check=True):
        print(f"{target} is up to date")
        return 0
    print(f"{target} is out of date: run `colorkit course index`")
    return 1


def _lint(args) -> int:
    notebooks = find_notebooks(args.notebooks)
    if not notebooks:
        raise ColorkitError("no NN_*.ipynb notebooks", path=args.notebooks)
    chosen = find_notebooks(args.notebooks, only=args.only) if args.only else notebooks
    bad = 0
    for path in chosen:
        problems = [f"{rule}: {msg}" for rule, msgs in lint(path, notebooks=notebooks).items() for msg in msgs]
        bad += bool(problems)
        print(f"{path.name}: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
        for line in problems:
            print(f"  - {line}")
    return 1 if bad else 0


ACTIONS = {"student-edition": _student_edition, "index": _index, "lint": _lint}


def run_cli(args: argparse.Namespace) -> int:
    return ACTIONS[args.course_command](args)
