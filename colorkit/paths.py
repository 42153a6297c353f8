"""Where things live: the repository, the data cache, committed samples and checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "data" / "samples"
CHECKPOINTS_DIR = REPO_ROOT / "data" / "checkpoints"
CONFIGS_DIR = REPO_ROOT / "configs"
REPORTS_DIR = REPO_ROOT / "reports"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

PROFILES = ("pretrained", "quick", "full")


def data_dir() -> Path:
    """The cache for built data (photo set, extracted packages): ``$COLORKIT_DATA`` or ``~/.cache/colorkit``."""
    return Path(os.environ.get("COLORKIT_DATA", Path.home() / ".cache" / "colorkit")).expanduser()

