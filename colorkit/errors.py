"""The one exception type colorkit raises for bad input."""

from __future__ import annotations

from pathlib import Path


class ColorkitError(Exception):
    """A clear, user-facing error: names the file (if any) and the problem.

    >>> str(ColorkitError("not an image", path="x.jpg"))
    'x.jpg: not an image'
    """

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        self.problem = message
        super().__init__(message if path is None else f"{path}: {message}")
