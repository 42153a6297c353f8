"""A render-factor slider (DeOldify, Antic 2019): re-colorize a photo at a working size of 16 x factor.

Each move of the slider runs the network again on a square of side 16 x render factor,
keeps only the chroma of its output and merges it with the photo's full-resolution
luminance; the caption gives the working size, the time the colorization took and how
far the process's memory rose above where it stood before the call (:func:`measure`).

DOM classes for browser tests: the slider carries ``colorkit-render-slider``, the image
``colorkit-render-image``, the caption ``colorkit-render-caption``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from colorkit.errors import ColorkitError
from colorkit.widgets import png_bytes


def measure(fn, interval: float = 0.002):
    """Run ``fn()``; return (its result, seconds, peak rise of this process's resident memory in bytes).

    The resident set size is sampled every ``interval`` seconds on a second thread while ``fn`` runs
    (psutil), so a peak shorter than the interval can be missed: the figure is a lower bound.
    """
    import psutil

    proc = psutil.Process()
    start = proc.memory_info().rss
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(interval)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        seconds = time.perf_counter() - t0
        done.set()
        watcher.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return out, seconds, peak[0] - start


def render_factor_explorer(colorizer, image: np.ndarray, render_factor: int = 35, lo: int = 7, hi: int = 45,
                           merge: str = "yuv", width: int = 360):
    """An ``ipywidgets`` box: a render-factor slider (``lo``..``hi``) above ``image`` colorized at that factor.

    ``colorizer``: a :class:`colorkit.infer.Colorizer`; ``merge``: how the chroma meets the full-resolution
    luminance ("yuv", DeOldify's, or "lab"). The box exposes ``redraw``, ``slider``, ``image``, ``caption``
    and ``history`` (one dict per redraw: render_factor, size, seconds, memory_mb) for tests.
    """
    import ipywidgets as w

    if not (all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, render_factor, hi))
            and 1 <= lo <= render_factor <= hi):
        raise ColorkitError(f"render_factor_explorer: need integers 1 <= lo <= render_factor <= hi, "
                            f"got lo={lo!r}, render_factor={render_factor!r}, hi={hi!r}")
    slider = w.IntSlider(value=render_factor, min=lo, max=hi, step=1, description="render factor",
                         continuous_update=False, style={"description_width": "initial"},
                         layout=w.Layout(width=f"{width + 40}px"))
    slider.add_class("colorkit-render-slider")
    out = w.Image(format="png", width=width)
    out.add_class("colorkit-render-image")
    caption = w.Label()
    caption.add_class("colorkit-render-caption")
    history: list[dict] = []

    def redraw(change=None):
        rf = int(slider.value)
        rgb, seconds, rise = measure(lambda: colorizer.colorize(image, render_factor=rf, merge=merge))
        out.value = png_bytes(rgb)
        history.append({"render_factor": rf, "size": 16 * rf, "seconds": seconds, "memory_mb": rise / 2**20})
        caption.value = (f"render factor {rf}: the model saw {16 * rf} x {16 * rf} px; {seconds:.2f} s, "
                         f"memory +{rise / 2**20:.0f} MB (photo {image.shape[1]} x {image.shape[0]})")

    slider.observe(redraw, names="value")
    redraw()
    box = w.VBox([slider, out, caption])
    box.redraw, box.slider, box.image, box.caption, box.history = redraw, slider, out, caption, history
    return box
