"""The manifest of a photo set: which photos, from where, under which licence, in which split.

    m = load_manifest()          # the built set (``colorkit data build``), or load_manifest(from_dir=DIR)
    m.paths("train")             # sorted absolute paths; "val" or None for the others
    m.hash                       # names this exact training data in checkpoints
    photo_paths("val")           # the same in one call

``manifest.json`` lists every kept photo (path, sha256, size, source, package and version, path in the
package, licence, author and where the licence was read, split, a 16x16 grey thumbnail) and every
left-out file with the reason; build settings and the build time are at the top level.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colorkit.data.checks import thumb_from_hex
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.paths import data_dir

MANIFEST_FORMAT = 1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``root`` if given, else ``data_dir()`` ($COLORKIT_DATA or ~/.cache/colorkit)."""
    return Path(root).expanduser() if root is not None else data_dir()


# --- the manifest ------------------------------------------------------------------------------------


@dataclass
class Manifest:
    """A built photo set: ``photos`` (kept, with split) and ``excluded`` (with reason); ``root`` holds the files."""

    path: Path
    root: Path
    photos: list[dict] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def paths(self, split: str | None = "train") -> list[Path]:
        """Absolute paths of the photos in ``split`` ('train', 'val' or None for all), sorted."""
        if split not in ("train", "val", None):
            raise ColorkitError(f"unknown split {split!r}: use 'train', 'val' or None")
        return sorted(self.root / p["path"] for p in self.photos if split is None or p["split"] == split)

    @property
    def hash(self) -> str:
        """sha256 of the kept photos' (path, sha256, split): names this exact training data in checkpoints."""
        rows = sorted((p["path"], p["sha256"], p["split"]) for p in self.photos)
        return _sha256(json.dumps(rows).encode())

    def thumbnails(self, split: str | None = None) -> np.ndarray:
        """(N, 16, 16) uint8 grey thumbnails of the kept photos, in manifest order."""
        rows = [p for p in self.photos if split is None or p["split"] == split]
        return np.stack([thumb_from_hex(p["thumb"]) for p in rows]) if rows else np.zeros((0, 16, 16), np.uint8)

    def counts(self) -> dict[str, Counter]:
        """Counters by source, split, licence, and reason for exclusion."""
        return {
            "source": Counter(p["source"] for p in self.photos),
            "split": Counter(p["split"] for p in self.photos),
            "licence": Counter(p.get("licence", "not recorded") for p in self.photos),
            "excluded": Counter(e["reason"].split(":")[0] for e in self.excluded),
        }

    def to_json(self) -> dict:
        return {**self.meta, "hash": self.hash, "root": str(self.root), "photos": self.photos,
                "excluded": self.excluded}


def read_manifest(path: Path) -> Manifest:
    """The manifest at ``path`` (read only); ColorkitError if unreadable or of another format."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ColorkitError(f"unreadable manifest ({exc}); rebuild it with `colorkit data build`", path=path) from exc
    if raw.get("format") != MANIFEST_FORMAT:
        raise ColorkitError(f"manifest format {raw.get('format')} is not {MANIFEST_FORMAT}: rebuild it", path=path)
    meta = {k: v for k, v in raw.items() if k not in ("photos", "excluded", "root", "hash")}
    return Manifest(path=path, root=Path(raw["root"]), photos=raw["photos"], excluded=raw["excluded"], meta=meta)


def write_manifest(m: Manifest, path: Path | None = None) -> None:
    atomic_write(path or m.path, (json.dumps(m.to_json(), indent=1) + "\n").encode())


def folder_manifest_path(folder: Path, root: Path) -> Path:
    folder = folder.resolve()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.name)[:40] or "root"
    return root / "folders" / f"{slug}-{_sha256(str(folder).encode())[:10]}" / "manifest.json"


def manifest_path(from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Path:
    """Where the manifest of the built-in set (or of ``from_dir``) lives."""
    root = cache_root(data_root)
    return root / "photos" / "manifest.json" if from_dir is None else folder_manifest_path(Path(from_dir), root)


def load_manifest(from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Manifest:
    """The manifest of the built photo set (or of ``from_dir``); ColorkitError with the build command if missing."""
    path = manifest_path(from_dir, data_root)
    if not path.exists():
        cmd = "colorkit data build" + (f" --from {from_dir}" if from_dir is not None else "")
        if data_root is not None:
            cmd += f" --data-dir {data_root}"
        raise ColorkitError(f"the photo set is not built yet: run `{cmd}` (or `make data`)", path=path)
    return read_manifest(path)


def photo_paths(
    split: str | None = "train", from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None
) -> list[Path]:
    """Sorted paths of the training ('train') or validation ('val') photos of the built set (or of ``from_dir``)."""
    return load_manifest(from_dir, data_root).paths(split)
