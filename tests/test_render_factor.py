"""colorkit.infer: DeOldify's render factor, the Lab and YUV merges, and the strips that keep memory flat.

The committed default model (``pretrained_unet_l1``, a Lab regressor), the committed classifier
``cls261`` and a tiny untrained YUV U-Net cover the three paths; the peak-memory test runs a
24-megapixel photo in a child process (``slow``: about half a minute).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from colorkit import cli
from colorkit.color import image_to_tensor, luma_of, rgb_to_lab
from colorkit.errors import ColorkitError
from colorkit.infer import DEFAULT_MODEL, Colorizer, render_size, upsample_rows
from colorkit.models import build_model
from colorkit.paths import CHECKPOINTS_DIR

pytestmark = pytest.mark.usefixtures("isolated_data")

TINY_YUV = {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, "head": "ab", "out_stride": 2,
            "activation": "tanh", "space": "yuv"}
PEAK_LIMIT_MB = 2048


@pytest.fixture(scope="module")
def models() -> dict:
    """{"lab": the default model, "logits": cls261, "yuv": a tiny untrained YUV U-Net}, all on the CPU."""
    torch.manual_seed(0)
    return {"lab": Colorizer(DEFAULT_MODEL, device="cpu"), "logits": Colorizer(CHECKPOINTS_DIR / "cls261.pt",
                                                                              device="cpu"),
            "yuv": Colorizer.from_model(build_model(TINY_YUV).eval(), {"name": "tiny_yuv"}, device="cpu")}


def photo(h: int = 389, w: int = 517, seed: int = 0) -> np.ndarray:
    """Smooth colours plus noise, uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(20, 236, (5, 7, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)).astype(int)
    return np.clip(base + rng.integers(-12, 13, (h, w, 3)), 0, 255).astype(np.uint8)


def colorize(col: Colorizer, image: np.ndarray, strip_rows, **kw) -> np.ndarray:
    col.strip_rows = strip_rows
    try:
        return col.colorize(image, **kw)
    finally:
        del col.strip_rows  # back to the class default


def spy_network(col: Colorizer, monkeypatch, zero: bool = False) -> list:
    """Record the shape of every working-size luma the network sees (and predict zero chroma if ``zero``)."""
    shapes, run = [], col.network

    def network(L_small):
        shapes.append(tuple(L_small.shape))
        out = run(L_small)
        return torch.zeros_like(out) if zero else out

    monkeypatch.setattr(col, "network", network)
    return shapes


# --- the render factor ---------------------------------------------------------------------------------


def test_render_size():
    assert render_size(35) == 560 and render_size(21) == 336 and render_size(1) == 16 and render_size(256) == 4096
    assert render_size(np.int64(10)) == 160


def test_working_size_is_16_times_the_render_factor(models, monkeypatch, tmp_path):
    col = models["lab"]
    shapes = spy_network(col, monkeypatch)
    img = photo(60, 90)
    assert col.colorize(img, render_factor=5).shape == (60, 90, 3)
    col.colorize(img, render_factor=3, size=48)  # a size that agrees is fine
    col.colorize_batch([img, img[:30]], render_factor=4)
    (tmp_path / "in").mkdir()
    Image.fromarray(img).save(tmp_path / "in" / "a.png")
    assert col.colorize_folder(tmp_path / "in", tmp_path / "out", render_factor=2, progress=False).ok
    col.colorize(img)  # no render factor: the default working size
    assert shapes == [(1, 1, 80, 80), (1, 1, 48, 48), (2, 1, 64, 64), (1, 1, 32, 32), (1, 1, 256, 256)]


@pytest.mark.parametrize("bad", [0, -1, 257, 3.5, "35", True])
def test_invalid_render_factor(models, bad):
    with pytest.raises(ColorkitError, match="render factor must be an integer from 1 to 256"):
        render_size(bad)
    with pytest.raises(ColorkitError, match="render factor must be an integer from 1 to 256"):
        models["lab"].colorize(photo(20, 20), render_factor=bad)


def test_conflicting_size_and_bad_merge(models, tmp_path):
    col, img = models["lab"], photo(20, 20)
    with pytest.raises(ColorkitError, match="size=128 disagrees with render_factor=35"):
        col.colorize(img, size=128, render_factor=35)
    with pytest.raises(ColorkitError, match="size=128 disagrees"):
        col.colorize_batch([img], size=128, render_factor=35)
    with pytest.raises(ColorkitError, match="size=128 disagrees"):
        col.colorize_folder(tmp_path, tmp_path / "o", size=128, render_factor=35)
    with pytest.raises(ColorkitError, match="merge must be one of lab, yuv"):
        col.colorize(img, merge="rgb")
    with pytest.raises(ColorkitError, match="strip_rows must be a positive integer"):
        colorize(col, img, -4)
    assert not (tmp_path / "o").exists()


# --- strips: the same result, bit for bit (almost) -------------------------------------------------------------


@pytest.mark.parametrize("h, w, H, W", [(35, 35, 389, 517), (64, 48, 517, 389), (70, 70, 70, 301), (64, 64, 30, 20)])
def test_upsample_rows_equals_whole_interpolation(h, w, H, W):
    chroma = (torch.rand(1, 2, h, w, generator=torch.Generator().manual_seed(h)) * 2 - 1) * 110
    whole = F.interpolate(chroma, size=(H, W), mode="bilinear", align_corners=False)
    for rows in (1, 7, 64, H):
        strips = torch.cat([upsample_rows(chroma, (H, W), r0, min(r0 + rows, H)) for r0 in range(0, H, rows)], 2)
        assert strips.shape == whole.shape and (strips - whole).abs().max() <= 1e-5


@pytest.mark.parametrize("kind", ["lab", "logits", "yuv"])
@pytest.mark.parametrize("merge", ["lab", "yuv"])
def test_streamed_equals_unstreamed(models, kind, merge):
    col, img = models[kind], photo(389, 517)
    whole = colorize(col, img, None, render_factor=4, merge=merge)
    for rows in (64, 100):  # strips smaller than the image, not dividing it
        streamed = colorize(col, img, rows, render_factor=4, merge=merge)
        assert streamed.shape == (389, 517, 3) and streamed.dtype == np.uint8
        assert np.abs(streamed.astype(int) - whole.astype(int)).max() <= 1
    col.strip_rows = 64
    try:
        streamed_L = col.lightness(img)
    finally:
        del col.strip_rows
    whole_L = luma_of(image_to_tensor(img), col.space)
    assert (streamed_L - whole_L).abs().max() <= 1e-4
    assert (col.working_L(streamed_L, 64) - col.working_L(whole_L, 64)).abs().max() <= 1e-4


# --- the merges ----------------------------------------------------------------------------------------------


def Y_of(image: np.ndarray) -> torch.Tensor:
    return luma_of(image_to_tensor(image, dtype=torch.float64), "yuv")[0, 0]


def L_of(image: np.ndarray) -> torch.Tensor:
    return rgb_to_lab(image_to_tensor(image, dtype=torch.float64))[0, 0]


@pytest.mark.parametrize("kind", ["lab", "yuv"])
def test_yuv_merge_keeps_Y(models, kind):
    img = photo(97, 131, seed=1)
    out = models[kind].colorize(img, render_factor=3, merge="yuv")
    clipped = torch.from_numpy(((out == 0) | (out == 255)).any(2))
    diff = (Y_of(out) - Y_of(img)).abs()[~clipped] * 255
    assert (~clipped).float().mean() > 0.5 and diff.max() <= 0.5 + 1e-6  # uint8 rounding of R, G, B only


@pytest.mark.parametrize("kind", ["lab", "yuv"])
def test_lab_merge_keeps_L(models, kind):
    img = photo(97, 131, seed=2)
    out = models[kind].colorize(img, render_factor=3, merge="lab")
    diff = (L_of(out) - L_of(img)).abs()
    assert diff.max() < 1.0 and diff.mean() < 0.3


@pytest.mark.parametrize("kind", ["lab", "yuv"])
@pytest.mark.parametrize("merge", ["lab", "yuv"])
def test_zero_chroma_stays_grey(models, kind, merge, monkeypatch):
    col = models[kind]
    spy_network(col, monkeypatch, zero=True)
    out = colorize(col, photo(97, 131, seed=3), 32, render_factor=3, merge=merge).astype(int)
    assert (out.max(2) - out.min(2)).max() <= 1


def test_merges_differ_but_agree_on_the_colours(models):
    col, img = models["lab"], photo(97, 131, seed=4)
    lab, yuv = col.colorize(img, render_factor=4, merge="lab"), col.colorize(img, render_factor=4, merge="yuv")
    assert np.array_equal(lab, col.colorize(img, render_factor=4))  # a Lab model merges in Lab by default
    d = np.abs(lab.astype(int) - yuv.astype(int))
    assert d.max() > 0 and d.mean() < 10


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_render_factor(tmp_path, capsys):
    Image.fromarray(photo(40, 50)).save(tmp_path / "a.png")
    out = tmp_path / "out"
    rc = cli.main(["colorize", str(tmp_path / "a.png"), "-o", str(out), "--render-factor", "3", "--merge", "yuv",
                   "--device", "cpu"])
    assert rc == 0 and "1 image(s) written" in capsys.readouterr().out
    with Image.open(out / "a.png") as im:
        assert np.asarray(im.convert("RGB")).shape == (40, 50, 3)


def test_cli_render_factor_with_size_or_out_of_range_fails(tmp_path, capsys):
    Image.fromarray(photo(40, 50)).save(tmp_path / "a.png")
    with pytest.raises(SystemExit) as e:
        cli.main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--render-factor", "3",
                  "--size", "64", "--device", "cpu"])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    rc = cli.main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--render-factor", "0",
                   "--device", "cpu"])
    assert rc == 1 and "render factor must be an integer from 1 to 256" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --- memory: a 24-megapixel photo at render factor 35 ----------------------------------------------------------

@pytest.mark.slow
def test_peak_memory_24_megapixels_render_factor_35():
    """MEMORY TEST: peak RSS of a whole process colorizing a 6000 x 4000 photo at render factor 35 stays under 2 GB.

    Before streaming the full-resolution part over strips it peaked at about 3.5 GB. Measured in a fresh
    process by :func:`colorkit.evaluate.render_cost` (its VmHWM: the test process's own size does not count).
    """
    from colorkit.evaluate import render_cost

    r = render_cost(24, 35)
    assert (r["height"], r["width"]) == (4000, 6000) and r["working_side"] == 560
    print(f"\npeak RSS colorizing 24 MP at render factor 35: {r['peak_mb']:.0f} MB "
          f"({r['before_mb']:.0f} MB before colorize; {r['seconds']:.1f} s)")
    assert r["before_mb"] < r["peak_mb"] <= PEAK_LIMIT_MB


def test_render_cost_does_not_count_the_parents_memory():
    """A forked child inherits its parent's ru_maxrss; render_cost reads the child's own high-water mark."""
    import psutil

    from colorkit.evaluate import render_cost

    ballast = np.ones(2 * 2**30 // 8)  # 2 GB, touched: this process is now larger than the child will be
    parent_mb = psutil.Process().memory_info().rss / 2**20
    r = render_cost(0.05, 4)
    del ballast
    assert parent_mb > 2048 and r["before_mb"] < r["peak_mb"] < parent_mb - 500


def test_render_costs_measures_several_points_in_one_process():
    from colorkit.evaluate import photo_shape, render_costs

    rows = render_costs([(0.05, 4), (0.2, 8)])
    assert [(r["megapixels"], r["render_factor"], r["working_side"]) for r in rows] == [(0.05, 4, 64), (0.2, 8, 128)]
    shapes = [(r["height"], r["width"]) for r in rows]
    assert shapes == [photo_shape(0.05), photo_shape(0.2)] == [(183, 274), (365, 548)]
    assert all(0 < r["before_mb"] <= r["peak_mb"] and r["seconds"] > 0 and r["path"] == "streamed" for r in rows)
