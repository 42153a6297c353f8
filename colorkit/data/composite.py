"""Cut-outs (RGBA stamps of real photos) composited onto other photos of the set, to train on like any photo.

Tux Paint's stamps are photos of one object each with the background made transparent; the RGB under
alpha = 0 is garbage, so a stamp is never used alone. Each one that passes :func:`cutout_problem` (drawn
stamps have few distinct colours) is pasted at its own size (shrunk if it is larger than 60 % of the
background's short side) onto another kept photo of the set, chosen and placed by a hash of the stamp's
name: the same build gives the same composites. The composite takes its background's split (no training
composite shows a validation photo) and records both licences.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image

from colorkit.errors import ColorkitError

SALT = "colorkit-cutout-v1"
MIN_COLOURS = 3000  # fewer distinct colours among the opaque pixels: a drawing, not a photo
STAMP_SHARE = 0.6  # a stamp's long side at most this fraction of its background's short side
MAX_SIDE = 1024  # composites: long side at most this
JPEG_QUALITY = 95


def read_cutout(data: bytes, name: str = "<cut-out>") -> np.ndarray:
    """(H, W, 4) uint8 RGBA of a cut-out image file."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ColorkitError(f"not an image ({exc})", path=name) from exc


def cutout_problem(rgba: np.ndarray) -> str:
    """Why a cut-out is not a photo ('' when it looks like one): a flat-colour drawing has few colours."""
    rgb = rgba[..., :3][rgba[..., 3] >= 128].astype(np.int64)
    colours = len(np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]))
    if colours < MIN_COLOURS:
        return f"a drawing: {colours} distinct colours in {len(rgb)} opaque pixels"
    return ""


def on_grey(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: the cut-out on mid-grey, for the greyscale test and the thumbnail."""
    grey = Image.new("RGBA", (rgba.shape[1], rgba.shape[0]), (128, 128, 128, 255))
    return np.asarray(Image.alpha_composite(grey, Image.fromarray(rgba, "RGBA")).convert("RGB"))


def _hash(name: str) -> int:
    return int(hashlib.sha256(f"{SALT}:{name}".encode()).hexdigest()[:16], 16)


def pick_background(name: str, photos: list[dict]) -> dict:
    """The kept photo (manifest row) that the cut-out ``name`` goes on: fixed by a hash of the name."""
    rows = sorted(photos, key=lambda r: r["path"])
    return rows[_hash(name) % len(rows)]


def composite(rgba: np.ndarray, background: np.ndarray, name: str) -> np.ndarray:
    """(H, W, 3) uint8: ``rgba`` alpha-composited onto ``background`` (long side <= 1024) at a place set by ``name``."""
    bg = Image.fromarray(background).convert("RGBA")
    if max(bg.size) > MAX_SIDE:
        bg.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    stamp = Image.fromarray(rgba, "RGBA")
    limit = STAMP_SHARE * min(bg.size)
    if max(stamp.size) > limit:  # Pillow resizes RGBA with premultiplied alpha: no garbage from under alpha = 0
        scale = limit / max(stamp.size)
        stamp = stamp.resize((max(1, round(stamp.width * scale)), max(1, round(stamp.height * scale))),
                             Image.Resampling.LANCZOS)
    h = _hash(name)
    x = (h >> 8) % (bg.width - stamp.width + 1)
    y = (h >> 32) % (bg.height - stamp.height + 1)
    layer = Image.new("RGBA", bg.size, (0, 0, 0, 0))
    layer.paste(stamp, (x, y))
    return np.asarray(Image.alpha_composite(bg, layer).convert("RGB"))


def jpeg(rgb: np.ndarray) -> bytes:
    """JPEG bytes (quality 95) of an (H, W, 3) uint8 image."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()
