"""Metric inputs: images and ab planes in any of the accepted forms, checked, as float64 arrays.

Images are numpy arrays channels-last, uint8 (H, W, 3) or (N, H, W, 3) in
0-255 (float arrays are read as [0, 1]), or torch tensors channels-first,
(3, H, W) or (N, 3, H, W) in [0, 1]. ab planes are (N, 2, H, W) or (2, H, W),
tensors or arrays. Per-image metrics return a float for one image and an
array (N,) for a batch.
"""

from __future__ import annotations

import numpy as np
import torch

from colorkit.errors import ColorkitError


def as_images(x, name: str) -> tuple[np.ndarray, bool]:
    """Image(s) -> (float64 array (N, H, W, 3) in [0, 1], was_single)."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        single = t.ndim == 3
        if single:
            t = t[None]
        if t.ndim != 4 or t.shape[1] != 3:
            raise ColorkitError(f"{name}: expected a tensor (3, H, W) or (N, 3, H, W), got {tuple(x.shape)}")
        arr = t.permute(0, 2, 3, 1).numpy()
    elif isinstance(x, np.ndarray):
        single = x.ndim == 3
        arr = x[None] if single else x
        if arr.ndim != 4 or arr.shape[3] != 3:
            raise ColorkitError(f"{name}: expected an array (H, W, 3) or (N, H, W, 3), got {x.shape}")
    else:
        raise ColorkitError(f"{name}: expected a numpy array or torch tensor, got {type(x).__name__}")
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    return arr.astype(np.float64) / scale, single


def image_pair(pred, true, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Prediction and truth images -> (float64 (N, H, W, 3) each, was_single); they must match in shape."""
    p, single = as_images(pred, name)
    t, _ = as_images(true, name)
    if p.shape != t.shape:
        raise ColorkitError(f"{name}: prediction {p.shape[1:3]} x {len(p)} and truth {t.shape[1:3]} x {len(t)} differ")
    return p, t, single


def per_image(values: list[float], single: bool):
    """A metric's per-image values: a float for one image, an array (N,) for a batch."""
    return values[0] if single else np.asarray(values)


def as_ab(x, name: str) -> np.ndarray:
    """ab plane(s) -> float64 array (N, 2, H, W)."""
    arr = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1] != 2:
        raise ColorkitError(f"{name}: expected ab of shape (N, 2, H, W) or (2, H, W), got {arr.shape}")
    return arr


def ab_pair(pred_ab, true_ab, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true ab -> float64 arrays (N, 2, H, W) each; they must match in shape."""
    p, t = as_ab(pred_ab, name), as_ab(true_ab, name)
    if p.shape != t.shape:
        raise ColorkitError(f"{name}: prediction {p.shape} and truth {t.shape} differ in shape")
    return p, t
