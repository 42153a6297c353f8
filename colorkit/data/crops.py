"""Training batches of (luma, chroma): random multi-scale crops of colour photos.

    ds = ColorCrops(paths, size=64, min_crop=64, max_crop=128, train=True, seed=0)
    ds[3]    # {"L": (1, 64, 64) in [0, 100], "ab": (2, 64, 64) in about [-110, 110]}
    ColorCrops(paths, space="yuv")[3]    # {"Y": (1, s, s) in [0, 1], "UV": (2, s, s)}

An item is a dict keyed by the chroma space's names (:data:`colorkit.color.SPACES`);
the trainer passes it to the method untouched.

Each photo is decoded once, shrunk so that its long side is at most
``cache_side`` (default 512 px: a 64-128 px crop then shows an object, not a
patch of texture) and kept in memory as uint8; the shrunken copies are also
cached on disk (``data_dir()/cache/``) so a second run starts in seconds.

A training item is a square crop whose side is drawn uniformly from
``[min_crop, max_crop]`` (clipped to the photo), at a random place, resized to
``size`` with area averaging, flipped left-right with probability 1/2, then
converted to Lab. Randomness comes from torch's global generator, which the
trainer seeds per sample position (``colorkit.train.SeededItems``): the same
seed gives the same crops. A validation item (``train=False``) is the central
``max_crop`` square resized to ``size``: fixed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from colorkit.color import SPACES, check_space, split_space
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write, list_images, read_image, resize_long_side
from colorkit.paths import data_dir

CACHE_SIDE = 512


def _cache_file(path: Path, side: int) -> Path:
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{side}".encode()).hexdigest()[:24]
    return data_dir() / "cache" / f"side{side}" / f"{key}.npy"


def load_shrunk(path: str | os.PathLike, side: int = CACHE_SIDE, disk_cache: bool = True) -> np.ndarray:
    """The photo at ``path`` as uint8 (H, W, 3), long side at most ``side``; cached on disk."""
    path = Path(path)
    try:
        cache = _cache_file(path, side) if disk_cache else None
    except OSError:  # missing or unreadable: read_image below raises the ColorkitError naming the file
        cache = None
    if cache is not None and cache.is_file():
        try:
            return np.load(cache)
        except (OSError, ValueError):
            cache.unlink(missing_ok=True)  # a broken cache file is rebuilt
    image = resize_long_side(read_image(path), side)
    if cache is not None:
        atomic_write(cache, lambda f: np.save(f, image))
    return image


class ColorCrops(Dataset):
    """``{luma: (1, s, s), chroma: (2, s, s)}`` float32 items from colour photos (see the module docstring).

    ``space``: ``"lab"`` (keys ``L``, ``ab``) or ``"yuv"`` (keys ``Y``, ``UV``).
    """

    def __init__(self, paths, size: int = 64, min_crop: int = 64, max_crop: int = 128, train: bool = True,
                 seed: int = 0, cache_side: int = CACHE_SIDE, disk_cache: bool = True, space: str = "lab"):
        self.space = check_space(space)
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ColorkitError("ColorCrops: no photos given")
        if not (8 <= size and 1 <= min_crop <= max_crop):
            raise ColorkitError(f"ColorCrops: need size >= 8 and 1 <= min_crop <= max_crop, got {size}, "
                                f"{min_crop}, {max_crop}")
        self.size, self.min_crop, self.max_crop = int(size), int(min_crop), int(max_crop)
        self.train, self.seed = train, seed
        self.cache_side, self.disk_cache = cache_side, disk_cache
        self._images: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def image(self, index: int) -> np.ndarray:
        """The shrunken uint8 photo ``index`` (decoded once per process)."""
        im = self._images.get(index)
        if im is None:
            im = load_shrunk(self.paths[index], self.cache_side, self.disk_cache)
            self._images[index] = im
        return im

    def crop(self, index: int) -> torch.Tensor:
        """The sRGB crop (1, 3, size, size) in [0, 1] for item ``index`` (random if ``train``)."""
        im = self.image(index)
        h, w = im.shape[:2]
        if self.train:
            side = int(torch.randint(self.min_crop, self.max_crop + 1, ()).item())
            side = max(1, min(side, h, w))
            y = int(torch.randint(0, h - side + 1, ()).item())
            x = int(torch.randint(0, w - side + 1, ()).item())
            flip = bool(torch.rand(()) < 0.5)
        else:
            side = max(1, min(self.max_crop, h, w))
            y, x, flip = (h - side) // 2, (w - side) // 2, False
        patch = torch.from_numpy(np.array(im[y:y + side, x:x + side])).permute(2, 0, 1)[None].float()
        patch = patch / 255.0
        if side != self.size:
            mode = "area" if side > self.size else "bilinear"
            kw = {} if mode == "area" else {"align_corners": False}
            patch = F.interpolate(patch, size=(self.size, self.size), mode=mode, **kw).clamp(0, 1)
        if flip:
            patch = patch.flip(-1)
        return patch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        luma, chroma = split_space(self.crop(index), self.space)
        k_luma, k_chroma = SPACES[self.space]
        return {k_luma: luma[0], k_chroma: chroma[0]}


class ImageFolderCrops(ColorCrops):
    """:class:`ColorCrops` over every image under a folder (any tree: ImageNet, Places, COCO, holidays)."""

    def __init__(self, folder: str | os.PathLike, **kwargs):
        paths = list_images(folder)
        if not paths:
            raise ColorkitError("no images found", path=folder)
        super().__init__(paths, **kwargs)
