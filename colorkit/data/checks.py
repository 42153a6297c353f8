"""The tests every photo goes through: greyscale, near-duplicate thumbnails, and its train / val split.

    thumbnail(image)              # (16, 16) grey uint8: the same picture at any size gives about the same one
    thumb_distances(a, b)         # < NEAR_DUPLICATE: the same picture; different photos are > 0.3 apart
    is_grayscale(image)           # 99th-percentile Lab chroma < GREY_CHROMA: nothing to learn colour from
    split_of(sha256)              # 'train' or 'val' (10 %) from a salted hash: adding photos moves no other
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from PIL import Image

from colorkit.color import image_to_tensor, rgb_to_lab

VAL_FRACTION = 0.10
SPLIT_SALT = "colorkit-split-v1"
THUMB_SIZE = 16  # grey thumbnail side for the near-duplicate test
NEAR_DUPLICATE = 0.15  # thumbnail distance below which two images are the same picture
GREY_CHROMA = 8.0  # a photo whose 99th-percentile Lab chroma is below this counts as greyscale


def thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> the 16x16 grey uint8 thumbnail used for near-duplicate tests (aspect ignored)."""
    grey = Image.fromarray(image).convert("L")
    return np.asarray(grey.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX))


def thumb_hex(t: np.ndarray) -> str:
    """A thumbnail as the hex string stored in manifests."""
    return t.astype(np.uint8).tobytes().hex()


def thumb_from_hex(s: str) -> np.ndarray:
    """The inverse of :func:`thumb_hex`: (16, 16) uint8."""
    return np.frombuffer(bytes.fromhex(s), dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE)


def _normalise_thumbs(thumbs: np.ndarray) -> np.ndarray:
    """(N, 16, 16) uint8 -> (N, 256) float32, each zero-mean unit-std (flat ones are only centred)."""
    t = thumbs.reshape(len(thumbs), -1).astype(np.float32)
    t = t - t.mean(1, keepdims=True)
    std = t.std(1, keepdims=True)
    return t / np.where(std < 2.0, 16.0, std)  # flat images: compare on a fixed scale instead


def thumb_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise distances (len(a), len(b)) between thumbnails (N, 16, 16): mean |difference| after normalising.

    The same picture at another size or quality gives < 0.1; different photos > 0.3.
    """
    na, nb = _normalise_thumbs(a), _normalise_thumbs(b)
    out = np.empty((len(na), len(nb)), dtype=np.float32)
    for i in range(0, len(na), 256):  # (256, len(b), 256) floats at most
        out[i : i + 256] = np.abs(na[i : i + 256, None, :] - nb[None]).mean(-1)
    return out


def chroma_p99(image: np.ndarray) -> float:
    """99th percentile of the Lab chroma sqrt(a^2 + b^2) over a <= 128 px copy of ``image`` (H, W, 3) uint8."""
    im = Image.fromarray(image)
    im.thumbnail((128, 128), Image.Resampling.BOX)
    lab = rgb_to_lab(image_to_tensor(np.asarray(im), dtype=torch.float64))
    chroma = torch.hypot(lab[0, 1], lab[0, 2])
    return float(torch.quantile(chroma.flatten(), 0.99))


def is_grayscale(image: np.ndarray) -> bool:
    """True when a photo has (almost) no colour: nothing to learn colorization from."""
    return chroma_p99(image) < GREY_CHROMA


def split_of(sha256: str, val_fraction: float = VAL_FRACTION) -> str:
    """'train' or 'val' from a salted hash of a photo's sha256: stable when photos are added."""
    h = int(hashlib.sha256(f"{SPLIT_SALT}:{sha256}".encode()).hexdigest()[:8], 16)
    return "val" if h / 2**32 < val_fraction else "train"
