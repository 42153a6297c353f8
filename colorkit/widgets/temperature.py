"""A temperature slider that re-decodes a cached colour distribution live (Zhang et al.'s annealed mean).

The network runs once, when the widget is built; moving the slider only re-applies
f_T(z) = exp(log z / T) / Σ exp(log z / T) and takes the mean, which is cheap.

DOM classes for browser tests: the slider carries ``colorkit-temperature-slider``,
the image ``colorkit-temperature-image``, the caption ``colorkit-temperature-caption``.
"""

from __future__ import annotations

import numpy as np
import torch

from colorkit.color import image_to_tensor, rgb_to_lab
from colorkit.errors import ColorkitError
from colorkit.infer import merge_chroma
from colorkit.widgets import png_bytes


def temperature_explorer(colorizer, image: np.ndarray, T: float = 0.38, size: int = 256, width: int = 360):
    """An ``ipywidgets`` box: a temperature slider (0.01–1) above ``image`` colorized at that temperature.

    ``colorizer`` must be a classification :class:`colorkit.infer.Colorizer` (it caches the distribution),
    over Lab bins (notebook 04) or a YUV palette (ColorUNet, notebook 05).
    The caption gives the temperature and the mean chroma of the result. The box exposes ``redraw``,
    ``slider``, ``image`` and ``caption`` for tests.
    """
    import ipywidgets as w

    if colorizer.kind != "logits":
        raise ColorkitError(f"{colorizer.name} is a regression model: the temperature applies to distributions")
    L = colorizer.lightness(image)
    probs = colorizer.predict_distribution(image, size)  # the one network run

    slider = w.FloatLogSlider(value=T, base=10, min=-2, max=0, step=0.01, description="T",
                              continuous_update=False, readout_format=".2f", layout=w.Layout(width=f"{width + 40}px"))
    slider.add_class("colorkit-temperature-slider")
    out = w.Image(format="png", width=width)
    out.add_class("colorkit-temperature-image")
    caption = w.Label()
    caption.add_class("colorkit-temperature-caption")

    def redraw(change=None):
        rgb = merge_chroma(L, colorizer.decode(probs, temperature=float(slider.value)), colorizer.space)
        out.value = png_bytes(rgb)
        chroma = torch.linalg.vector_norm(rgb_to_lab(image_to_tensor(rgb))[:, 1:], dim=1).mean().item()
        caption.value = f"T = {slider.value:.2f}: mean chroma {chroma:.1f} (re-decoded; the network ran once)"

    slider.observe(redraw, names="value")
    redraw()
    box = w.VBox([slider, out, caption])
    box.redraw, box.slider, box.image, box.caption = redraw, slider, out, caption
    return box
