"""A frame slider: the same frame of a clip under several colorizations, side by side.

``frame_explorer({"original": truth, "frame by frame": a, "flow": b}, fps=25)`` shows one
row of images per call: the frame the slider points at, in every version. The caption gives
the frame's number and time, and for each version the Jensen-Shannon divergence of its colour
histograms to the previous frame (the per-frame term of CDC, :mod:`colorkit.metrics.temporal`):
where a version flickers, its number jumps.

DOM classes for browser tests: the slider carries ``colorkit-frame-slider``, the image
``colorkit-frame-image``, the caption ``colorkit-frame-caption``.
"""

from __future__ import annotations

import numpy as np

from colorkit.errors import ColorkitError
from colorkit.metrics import js_curve
from colorkit.widgets import png_bytes


def frame_strip(versions: dict[str, np.ndarray], i: int, gap: int = 4) -> np.ndarray:
    """Frame ``i`` of every version, side by side with white gaps: uint8 (H, n W + (n - 1) gap, 3)."""
    frames = [v[i] for v in versions.values()]
    h = frames[0].shape[0]
    white = np.full((h, gap, 3), 255, np.uint8)
    parts = []
    for k, f in enumerate(frames):
        parts += [f] if k == 0 else [white, f]
    return np.concatenate(parts, axis=1)


def frame_explorer(versions: dict[str, np.ndarray], fps: float = 25.0, start: int = 0, width: int = 960):
    """An ``ipywidgets`` box: a frame slider above frame i of every version in ``versions`` (name -> uint8
    frames (T, H, W, 3), all of one shape). Exposes ``redraw``, ``slider``, ``image``, ``caption`` and
    ``jsd`` (name -> (T,) divergence to the previous frame, 0 for the first) for tests."""
    import ipywidgets as w

    if not versions:
        raise ColorkitError("frame_explorer: give at least one version of the clip")
    shapes = {v.shape for v in versions.values()}
    if len(shapes) != 1 or any(v.ndim != 4 or v.dtype != np.uint8 for v in versions.values()):
        raise ColorkitError(f"frame_explorer: every version must be uint8 frames (T, H, W, 3) of one shape, "
                            f"got {sorted(shapes)}")
    T = next(iter(shapes))[0]
    if not 0 <= start < T:
        raise ColorkitError(f"frame_explorer: start must be a frame index from 0 to {T - 1}, got {start!r}")
    jsd = {name: np.concatenate([[0.0], js_curve(v, 1) if T > 1 else []]) for name, v in versions.items()}
    slider = w.IntSlider(value=start, min=0, max=T - 1, step=1, description="frame", continuous_update=False,
                         layout=w.Layout(width=f"{width}px"))
    slider.add_class("colorkit-frame-slider")
    image = w.Image(format="png", width=width)
    image.add_class("colorkit-frame-image")
    caption = w.Label()
    caption.add_class("colorkit-frame-caption")

    def redraw(change=None):
        i = int(slider.value)
        image.value = png_bytes(frame_strip(versions, i))
        parts = ", ".join(f"{name} {jsd[name][i]:.4f}" for name in versions)
        caption.value = f"frame {i} of {T} ({i / fps:.2f} s) · JS divergence to the previous frame: {parts}"

    slider.observe(redraw, names="value")
    redraw()
    box = w.VBox([slider, w.HTML(" | ".join(f"<b>{n}</b>" for n in versions)), image, caption])
    box.redraw, box.slider, box.image, box.caption, box.jsd = redraw, slider, image, caption, jsd
    return box
