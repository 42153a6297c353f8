"""ipywidgets UIs for the notebooks: ab-plane explorer, scribbles, temperature, render factor, Turing test."""

from __future__ import annotations

import io

import numpy as np


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB image (H, W, 3) as PNG bytes for ``ipywidgets.Image``: uint8, or floats in [0, 1] (clipped, rounded)."""
    from PIL import Image

    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()
