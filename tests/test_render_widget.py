"""The render-factor widget of notebook 07 (its browser test drags the slider in JupyterLab)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from colorkit.errors import ColorkitError
from colorkit.infer import DEFAULT_MODEL, Colorizer
from colorkit.widgets.render_factor import measure, render_factor_explorer

pytestmark = pytest.mark.usefixtures("isolated_data")


@pytest.fixture(scope="module")
def col():
    return Colorizer(DEFAULT_MODEL, device="cpu")


def photo(h=150, w=220):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (h + w)], -1).astype(np.uint8)


def test_measure_times_the_call_and_sees_memory_it_holds():
    def hold():
        block = np.ones(300 * 2**20 // 8)  # 300 MB, touched, held for a while
        time.sleep(0.05)
        return float(block[-1])

    out, seconds, rise = measure(hold)
    assert out == 1.0 and seconds >= 0.05
    assert rise > 200 * 2**20  # sampled every 2 ms while the block was held


def test_the_slider_recolorizes_at_its_factor_and_says_what_it_cost(col, monkeypatch):
    seen = []
    network = col.network
    monkeypatch.setattr(col, "network", lambda L: seen.append(L.shape[-1]) or network(L))
    box = render_factor_explorer(col, photo(), render_factor=8, lo=4, hi=12)
    assert (box.slider.min, box.slider.max, box.slider.value) == (4, 12, 8) and seen == [128]
    first = box.image.value
    assert box.caption.value.startswith("render factor 8: the model saw 128 x 128 px; ")
    box.slider.value = 4
    assert seen == [128, 64] and [h["size"] for h in box.history] == [128, 64]
    assert box.caption.value.startswith("render factor 4: the model saw 64 x 64 px; ")
    assert "photo 220 x 150" in box.caption.value and box.image.value != first
    assert all(h["seconds"] > 0 and h["memory_mb"] >= 0 for h in box.history)
    assert "colorkit-render-slider" in box.slider._dom_classes and "colorkit-render-image" in box.image._dom_classes


@pytest.mark.parametrize("kw", [dict(render_factor=50), dict(lo=0), dict(lo=10, hi=5), dict(render_factor=7.5)])
def test_bad_slider_ranges_are_refused(col, kw):
    args = {"render_factor": 21, "lo": 7, "hi": 45, **kw}
    with pytest.raises(ColorkitError, match="render_factor_explorer"):
        render_factor_explorer(col, photo(), **args)
