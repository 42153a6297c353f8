"""Checked exercises: ``check("01.2", answer)`` says right / not yet with a hint, never the answer.

Each notebook's checks live in ``colorkit/exercises/nbNN.py`` and register
themselves with :func:`exercise`::

    @exercise("01.1", hint="L is the lightness of the grey image, 0 (black) to 100 (white).")
    def _(answer):
        return abs(float(answer) - 53.24) < 0.5      # or return (False, "a more specific hint")

A checker returns ``True`` (right), ``False`` (not yet: the registered hint is
shown) or ``(False, "hint")`` for a hint tailored to the answer given.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Exercise:
    key: str
    checker: Callable
    hint: str


_REGISTRY: dict[str, Exercise] = {}


def exercise(key: str, hint: str):
    """Register ``checker(answer) -> bool | (bool, hint)`` under ``key`` ("NN.k")."""

    def decorate(fn):
        _REGISTRY[key] = Exercise(key, fn, hint)
        return fn

    return decorate


def _import_notebook(notebook: str) -> None:
    """Import ``colorkit.exercises.nbNN`` (registering its checks) if it exists."""
    name = f"colorkit.exercises.nb{notebook}"
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # nbNN exists but one of its own imports is missing: say so
            raise


def _load(key: str) -> Exercise:
    notebook = key.split(".")[0]
    if key not in _REGISTRY:
        _import_notebook(notebook)
    if key not in _REGISTRY:
        raise KeyError(f"no exercise {key!r}; known: {', '.join(sorted(_REGISTRY)) or 'none loaded'}")
    return _REGISTRY[key]


def evaluate(key: str, answer) -> tuple[bool, str]:
    """``(is_right, message)`` without printing (used by tests)."""
    ex = _load(key)
    if answer is None or answer is Ellipsis:
        return False, f"Exercise {key}: not answered yet. Hint: {ex.hint}"
    try:
        result = ex.checker(answer)
    except Exception as exc:  # a wrong type or shape is "not yet", with the reason
        return False, f"Exercise {key}: not yet ({type(exc).__name__}: {exc}). Hint: {ex.hint}"
    ok, hint = (result if isinstance(result, tuple) else (bool(result), ex.hint))
    if ok:
        return True, f"Exercise {key}: right! ✓"
    return False, f"Exercise {key}: not yet. Hint: {hint}"


def check(key: str, answer) -> bool:
    """Print right / not yet (with a hint) for ``answer`` to exercise ``key``; return whether it is right."""
    ok, message = evaluate(key, answer)
    print(message)
    return ok


def keys(notebook: str) -> list[str]:
    """All exercise keys of one notebook ("01")."""
    _import_notebook(notebook)
    return sorted(k for k in _REGISTRY if k.split(".")[0] == notebook)
