"""The frame slider of notebook 08 (its browser test drags the slider in JupyterLab)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from colorkit.errors import ColorkitError
from colorkit.widgets.frames import frame_explorer, frame_strip


def clip(n=6, h=20, w=30, flicker=False):
    frames = np.full((n, h, w, 3), 120, np.uint8)
    frames[:, :, : w // 2] = 60
    if flicker:
        frames[1::2, :, :, 0] = 200  # every other frame red
    return frames


def test_strip_puts_every_version_side_by_side():
    a, b = clip(), clip(flicker=True)
    s = frame_strip({"a": a, "b": b}, 1, gap=4)
    assert s.shape == (20, 64, 3)
    assert np.array_equal(s[:, :30], a[1]) and np.array_equal(s[:, 34:], b[1]) and (s[:, 30:34] == 255).all()


def test_slider_shows_the_frame_and_each_versions_flicker():
    steady, flick = clip(), clip(flicker=True)
    box = frame_explorer({"original": steady, "frame by frame": flick}, fps=10, start=2, width=200)
    assert (box.slider.min, box.slider.max, box.slider.value) == (0, 5, 2)
    png = np.asarray(Image.open(io.BytesIO(box.image.value)))
    assert np.array_equal(png[:, 34:], flick[2])
    assert box.caption.value.startswith("frame 2 of 6 (0.20 s)")
    assert "original 0.0000" in box.caption.value and "frame by frame 0.2310" in box.caption.value  # ln2/3
    box.slider.value = 3
    png3 = np.asarray(Image.open(io.BytesIO(box.image.value)))
    assert np.array_equal(png3[:, 34:], flick[3]) and not np.array_equal(png3, png)
    assert box.jsd["original"].max() == 0 and box.jsd["frame by frame"][1:].min() > 0.2
    assert "colorkit-frame-slider" in box.slider._dom_classes and "colorkit-frame-image" in box.image._dom_classes


@pytest.mark.parametrize("versions, kw", [({}, {}), ({"a": clip(), "b": clip(n=5)}, {}), ({"a": clip()}, {"start": 6}),
                                          ({"a": clip().astype(float)}, {})])
def test_bad_inputs_are_refused(versions, kw):
    with pytest.raises(ColorkitError, match="frame_explorer"):
        frame_explorer(versions, **kw)
