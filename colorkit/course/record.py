"""Record the key numbers of a notebook run, for ``reports/<profile>/index.md``.

A notebook calls ``record("psnr_l2", 23.1)``; the reproduction runner points
``$COLORKIT_RECORD_FILE`` at a JSON file beside the executed notebook and reads
it back when it writes the index. Run interactively (no variable set), the
values are kept in memory only, so a learner's session never writes into
``reports/``.

``claim("L1 keeps more chroma than L2", kept_l1 > kept_l2, PROFILE)`` ties a
sentence of a notebook to the numbers under it: it prints the sentence with a
tick when it holds and raises :class:`ClaimFailed` (so nbval and ``make
reproduce`` fail) when a retrain of the committed models flips it. In the
``quick`` and ``full`` profiles, whose freshly trained models may differ, a
claim that does not hold is printed with a cross instead of raising.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write

_MEMORY: dict[str, object] = {}


def _clean(value):
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return float(f"{value:.6g}")
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    raise TypeError(f"record() takes numbers or short strings, not {type(value).__name__}")


def record(key: str, value) -> object:
    """Store ``key = value`` for the report index and return the value."""
    value = _clean(value)
    _MEMORY[key] = value
    target = os.environ.get("COLORKIT_RECORD_FILE")
    if target:
        path = Path(target)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[key] = value
        atomic_write(path, json.dumps(data, indent=1, sort_keys=True))
    return value


def recorded() -> dict[str, object]:
    """Everything recorded in this process."""
    return dict(_MEMORY)


class ClaimFailed(ColorkitError):
    """A sentence of a notebook no longer matches the numbers of the committed models."""


def claim(statement: str, holds, profile: str = "pretrained") -> None:
    """Print ``statement`` with ✓ if ``holds``; if not, raise :class:`ClaimFailed` in the
    ``pretrained`` profile (the committed checkpoints the text describes) or print it with ✗
    in any other profile. The verdict is recorded as ``claim: <statement>``. Returns nothing, so a
    claim on a cell's last line echoes no value."""
    holds = bool(holds)
    record(f"claim: {statement}", holds)
    if holds:
        print(f"✓ {statement}")
    elif profile == "pretrained":
        raise ClaimFailed(f"the notebook says \"{statement}\", but the committed models' numbers say otherwise: "
                          "rewrite the sentence or retrain")
    else:
        print(f"✗ {statement} (does not hold for the {profile} models; the text describes the committed ones)")
