"""Tooling for the course itself: the notebook format, its index, the student edition, the reproduction run.

- :mod:`.notebooks`: finding the ``NN_name.ipynb`` notebooks and reading their front matter;
- :mod:`.lint`: the course format as rules, :func:`lint` (``colorkit course lint``;
  tests/test_notebook_format.py runs it on every notebook);
- :mod:`.index`: :func:`build_index` writes ``notebooks/README.md`` from the notebooks' own cells
  (``colorkit course index``);
- :mod:`.student`: :func:`build_student_edition` writes ``student/``, the notebooks with every
  ``solution`` cell replaced by a "your turn" stub and all outputs cleared
  (``colorkit course student-edition``, ``make student``);
- :mod:`.commands`: the ``colorkit course`` command;
- :mod:`.reproduce`: runs every notebook with papermill into ``reports/<profile>/`` (``colorkit reproduce``);
- :mod:`.record`: ``record("name", value)``, how a notebook hands its key numbers to that report.

The course content itself, the exercise checks, lives in :mod:`colorkit.exercises`.
"""

from colorkit.course.index import build_index
from colorkit.course.lint import MAX_NOTEBOOK_BYTES, RULES, lint
from colorkit.course.notebooks import NotebookInfo, find_notebooks, read_info, tags
from colorkit.course.student import MARKER, STUB_TAG, build_student_edition

__all__ = [
    "MARKER", "MAX_NOTEBOOK_BYTES", "RULES", "STUB_TAG", "NotebookInfo",
    "build_index", "build_student_edition", "find_notebooks", "lint", "read_info", "tags",
]
