"""An L slider that redraws the ab plane (with the sRGB gamut) at that lightness.

DOM classes for browser tests: the slider carries ``colorkit-ab-slider``, the
image ``colorkit-ab-plane``.
"""

from __future__ import annotations

from colorkit.viz import ab_plane
from colorkit.widgets import png_bytes


def ab_plane_explorer(L: int = 50, size: int = 300, lim: float = 110.0):
    """An ``ipywidgets`` box: an ``L`` slider (1–99) above the ab plane at that L and its gamut area."""
    import ipywidgets as w

    slider = w.IntSlider(value=L, min=1, max=99, step=1, description="L", continuous_update=False,
                         layout=w.Layout(width=f"{size + 60}px"))
    slider.add_class("colorkit-ab-slider")
    image = w.Image(format="png", width=size, height=size)
    image.add_class("colorkit-ab-plane")
    caption = w.Label()
    caption.add_class("colorkit-ab-caption")

    def redraw(change=None):
        rgb, inside = ab_plane(slider.value, lim, n=size)
        rgb = rgb.copy()
        rgb[~inside] = 0.85
        image.value = png_bytes(rgb)
        caption.value = (f"L = {slider.value}: {100 * inside.mean():.1f}% of the square a, b ∈ [−{lim:g}, {lim:g}] "
                         "is displayable in sRGB (grey = outside the gamut)")

    slider.observe(redraw, names="value")
    redraw()
    box = w.VBox([slider, image, caption])
    box.redraw = redraw  # for tests
    box.slider, box.image, box.caption = slider, image, caption
    return box
