"""What the solver is given, checked and converted: grey images, colour images, masks, scribble chroma.

Every function here accepts numpy arrays (channels last) and torch tensors
(channels first), uint8 in 0-255 or floats in [0, 1], and turns them into
float64 numpy arrays in [0, 1]; anything else is one clear :class:`ColorkitError`.
"""

from __future__ import annotations

import numpy as np
import torch

from colorkit.color import rgb_to_yuv
from colorkit.errors import ColorkitError

GREY_TOL = 2 / 255  # an RGB array whose channels differ by at most this is accepted as grey


def _to_numpy(x, name: str) -> tuple[np.ndarray, bool]:
    """Array or tensor -> (numpy array, was_tensor); anything else is a clear error."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(), True
    if isinstance(x, np.ndarray):
        return x, False
    raise ColorkitError(f"{name}: expected a numpy array or torch tensor, got {type(x).__name__}")


def _unit_float(a: np.ndarray, name: str) -> np.ndarray:
    """uint8 (0..255) or float ([0, 1]) -> float64 in [0, 1]; NaN/inf and out-of-range floats are errors."""
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ColorkitError(f"{name}: expected uint8 (0-255) or float ([0, 1]) values, got {a.dtype}")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        raise ColorkitError(f"{name}: {int(bad.sum())} value(s) are NaN or infinite")
    if a.size and (a.min() < -1e-6 or a.max() > 1 + 1e-6):
        raise ColorkitError(f"{name}: values must lie in [0, 1] (got {a.min():.4g} to {a.max():.4g}); "
                            "divide 0-255 data by 255 or pass it as uint8")
    return np.clip(a, 0.0, 1.0)


def luma(rgb: np.ndarray) -> np.ndarray:
    """float (H, W, 3) in [0, 1] -> BT.601 luma Y (H, W), through colorkit.color.rgb_to_yuv."""
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None])[0, 0].numpy()


def _rgb_array(rgb, name: str) -> np.ndarray:
    """A colour image as a channels-last array (H, W, 3) in its own dtype; tensors are (3, H, W) / (1, 3, H, W)."""
    a, tensor = _to_numpy(rgb, name)
    if tensor:
        if a.ndim == 4 and a.shape[0] == 1:
            a = a[0]
        if a.ndim == 3 and a.shape[0] in (1, 3):
            a = a.transpose(1, 2, 0)
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1):
        raise ColorkitError(f"{name}: expected a colour image (H, W, 3) (tensors (3, H, W)), got the grey shape "
                            f"{tuple(rgb.shape)}: grey marks carry no colour")
    if a.ndim != 3 or a.shape[2] != 3:
        raise ColorkitError(f"{name}: expected a colour image (H, W, 3) (tensors (3, H, W)), got {tuple(rgb.shape)}")
    return a


def as_rgb(rgb, name: str = "rgb") -> np.ndarray:
    """A colour image as float64 (H, W, 3) in [0, 1]: numpy (H, W, 3) or tensors (3, H, W) / (1, 3, H, W)."""
    return _unit_float(_rgb_array(rgb, name), name)


def gray_of(rgb) -> np.ndarray:
    """The grey image of a colour photo (numpy (H, W, 3) or tensor (3, H, W)): its BT.601 luma Y, float64 (H, W)."""
    return luma(as_rgb(rgb, "rgb"))


def chroma_of(rgb) -> np.ndarray:
    """U, V planes (2, H, W) of a colour image (numpy (H, W, 3) or tensor (3, H, W)), float64."""
    x = as_rgb(rgb, "rgb")
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None])[0, 1:].numpy()


def as_gray(gray) -> np.ndarray:
    """The grey image as luma Y, float64 (H, W) in [0, 1].

    Accepts numpy (H, W), (H, W, 1) or an RGB array (H, W, 3) whose channels agree
    within 2/255 (a grey photo stored as RGB), and tensors (H, W), (1, H, W),
    (1, 1, H, W), (3, H, W) or (1, 3, H, W) likewise; uint8 in 0-255, floats in
    [0, 1]. A colour image is an error: pass its luma, or use it as the truth.
    """
    a, tensor = _to_numpy(gray, "gray")
    if tensor:  # channels first -> channels last
        while a.ndim > 3 and a.shape[0] == 1:
            a = a[0]
        if a.ndim == 3:
            a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 3:
        rgb = _unit_float(a, "gray")
        spread = float((rgb.max(axis=2) - rgb.min(axis=2)).max()) if rgb.size else 0.0
        if spread > GREY_TOL:
            raise ColorkitError(f"gray: expected a grey image, got a colour image {tuple(gray.shape)} "
                                f"(channels differ by up to {spread * 255:.0f}/255); pass its luma Y, "
                                "e.g. colorkit.color.rgb_to_yuv(x)[:, :1], or use it as the ground truth")
        return luma(rgb)
    if a.ndim != 2:
        raise ColorkitError(f"gray: expected a grey image (H, W), got shape {tuple(gray.shape)}")
    if min(a.shape) < 1:
        raise ColorkitError(f"gray: the image is empty, shape {tuple(gray.shape)}")
    return _unit_float(a, "gray")


def as_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """Scribble mask as bool (H, W): bool or 0/1 values; numpy (H, W) or tensors (H, W), (1, H, W), (1, 1, H, W)."""
    a, tensor = _to_numpy(mask, "mask")
    while a.ndim > 2 and a.shape[0] == 1 and tensor:
        a = a[0]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ColorkitError(f"mask: expected shape (H, W), got {tuple(mask.shape)}")
    if a.shape != tuple(shape):
        raise ColorkitError(f"mask is {a.shape[0]}x{a.shape[1]} but the grey image is {shape[0]}x{shape[1]}: "
                            "they must have the same size")
    if a.dtype == bool:
        return a
    if not (np.issubdtype(a.dtype, np.number)):
        raise ColorkitError(f"mask: expected bool or 0/1 values, got {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise ColorkitError("mask: contains NaN or infinite values; expected bool or 0/1")
    if not np.isin(a, (0, 1)).all():
        raise ColorkitError("mask: expected bool or 0/1 values; found others (did you pass an image?)")
    return a.astype(bool)


def scribble_uv(rgb, mask: np.ndarray) -> np.ndarray:
    """U, V (2, n_scribbled) of the scribble colours at the scribbled pixels (raster order).

    ``rgb`` is the scribble image (numpy (H, W, 3) or a tensor (3, H, W)), ``mask`` bool (H, W).
    Only the scribbled pixels are read: NaNs elsewhere do not matter.
    """
    pix = _rgb_array(rgb, "scribble_rgb")[mask]  # (n, 3)
    if pix.dtype != np.uint8 and np.issubdtype(pix.dtype, np.floating) and not np.isfinite(pix).all():
        raise ColorkitError(f"scribble_rgb: {int((~np.isfinite(pix)).any(axis=1).sum())} scribbled pixel(s) are "
                            "NaN or infinite (NaNs outside the mask are ignored)")
    pix = _unit_float(pix, "scribble_rgb (at the scribbled pixels)")
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(pix.T))[None, :, :, None])[0, 1:, :, 0].numpy()
