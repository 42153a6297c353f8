"""The ab statistics of the training photos (``data/stats/ab_hist.npz``, committed).

    counts, edges, meta = load_ab_hist()   # counts (256, 256) int64 [a bin, b bin]; edges (257,) -128 .. 128

A fine histogram (bins of width 1) of the ab channels over every training photo, each resized so that its
long side is at most 256 px. ``quantize`` turns it into the empirical prior of the ab bins. ``colorkit data
stats`` recomputes it from the built photo set.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from colorkit.color import image_to_tensor, rgb_to_lab
from colorkit.data.manifest import Manifest, load_manifest
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write, read_image, resize_long_side
from colorkit.paths import REPO_ROOT

STATS_PATH = REPO_ROOT / "data" / "stats" / "ab_hist.npz"
AB_EDGES = np.arange(-128, 129, dtype=np.float64)  # 257 edges: bins of width 1 over [-128, 128]


def ab_histogram(image: np.ndarray, max_side: int = 256) -> np.ndarray:
    """Counts (256, 256) int64 of the (a, b) values of every pixel of ``image`` resized to long side <= max_side.

    Row = a bin, column = b bin; bin i covers [i - 128, i - 127).
    """
    small = resize_long_side(image, max_side)
    lab = rgb_to_lab(image_to_tensor(small, dtype=torch.float64))[0]  # (3, H, W)
    idx = torch.floor(lab[1:]).long().clamp(-128, 127) + 128  # (2, H, W)
    flat = (idx[0] * 256 + idx[1]).flatten().numpy()
    return np.bincount(flat, minlength=256 * 256).astype(np.int64).reshape(256, 256)


def compute_ab_hist(manifest: Manifest | None = None, max_side: int = 256, progress: bool = True):
    """(counts (256, 256) int64, edges (257,), meta) over every training photo of ``manifest``."""
    manifest = manifest or load_manifest()
    paths = manifest.paths("train")
    counts = np.zeros((256, 256), dtype=np.int64)
    for p in tqdm(paths, desc="ab histogram", unit="img", disable=not progress):
        counts += ab_histogram(read_image(p), max_side)
    meta = {
        "manifest_hash": manifest.hash,
        "photos": len(paths),
        "pixels": int(counts.sum()),
        "max_side": max_side,
        "split": "train",
        "bins": "width 1 over [-128, 128] in a (rows) and b (columns)",
    }
    return counts, AB_EDGES.copy(), meta


def write_ab_hist(
    path: str | os.PathLike = STATS_PATH, manifest: Manifest | None = None, progress: bool = True
) -> Path:
    """Compute the ab histogram of the training photos and save it (compressed .npz, atomically)."""
    counts, edges, meta = compute_ab_hist(manifest, progress=progress)
    buf = io.BytesIO()
    np.savez_compressed(buf, counts=counts, edges=edges, meta=np.array(json.dumps(meta, sort_keys=True)))
    path = Path(path)
    atomic_write(path, buf.getvalue())
    print(f"ab histogram of {meta['photos']} training photos ({meta['pixels']:,} pixels) written to {path}")
    return path


def load_ab_hist(path: str | os.PathLike = STATS_PATH) -> tuple[np.ndarray, np.ndarray, dict]:
    """(counts (256, 256) int64 [a bin, b bin], edges (257,) from -128 to 128, meta dict) of the training photos."""
    path = Path(path)
    if not path.exists():
        raise ColorkitError("no ab histogram: run `colorkit data stats` (needs the photo set)", path=path)
    try:
        with np.load(path, allow_pickle=False) as z:
            counts, edges, meta = z["counts"], z["edges"], json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ColorkitError(f"unreadable ab histogram ({exc})", path=path) from exc
    if counts.shape != (256, 256) or edges.shape != (257,):
        raise ColorkitError(f"ab histogram has shape {counts.shape}, expected (256, 256)", path=path)
    return counts.astype(np.int64), edges, meta
