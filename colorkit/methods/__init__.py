"""Training methods: each names its networks, builds its datasets, sets up, and takes a step.

The contract is :class:`colorkit.methods.base.Method` (read its module
docstring first). The methods are listed here explicitly, not registered as a
side effect of importing something else:

- ``supervised`` (:mod:`.supervised`): one network, regression or
  classification loss by its head (notebooks 03, 04, 05);
- ``gan`` (:mod:`.gan`): generator + conditional PatchGAN critic (06, 07).

A config names its method (``method: supervised``), or each phase does. Older
configs say ``regression`` or ``classification``: both mean ``supervised``.
"""

from __future__ import annotations

from colorkit.errors import ColorkitError
from colorkit.methods.base import Context, Method
from colorkit.methods.gan import GAN
from colorkit.methods.supervised import Supervised

METHODS: dict[str, type[Method]] = {"supervised": Supervised, "gan": GAN}
ALIASES = {"regression": "supervised", "classification": "supervised"}


def canonical(name: str) -> str:
    """The method's name in :data:`METHODS` (resolving the older aliases); a clear error if unknown."""
    name = ALIASES.get(name, name)
    if name not in METHODS:
        raise ColorkitError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return name


def get(name: str, cfg: dict) -> Method:
    """A fresh instance of method ``name`` for config ``cfg``."""
    return METHODS[canonical(name)](cfg)


__all__ = ["ALIASES", "METHODS", "Context", "GAN", "Method", "Supervised", "canonical", "get"]
