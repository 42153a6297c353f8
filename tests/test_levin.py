"""Levin, Lischinski & Weiss colorization (colorkit.levin) and its scribble widget: correctness and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from colorkit import levin
from colorkit.color import rgb_to_yuv, yuv_to_rgb
from colorkit.data import load_samples
from colorkit.errors import ColorkitError
from colorkit.metrics import psnr
from colorkit.paths import REPO_ROOT

SOLVAY_STROKES = REPO_ROOT / "data" / "scribbles" / "solvay_1927.json"


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A small real colour photo, uint8 (64, 64, 3)."""
    from PIL import Image

    img = dict(load_samples())["fruits"]
    return np.asarray(Image.fromarray(img).resize((64, 64), Image.BILINEAR))


def luma(rgb_u8: np.ndarray) -> np.ndarray:
    return levin.gray_of(rgb_u8)


def uv_of(rgb) -> np.ndarray:
    """U, V of one colour (r, g, b) in [0, 1]."""
    return rgb_to_yuv(torch.tensor(rgb, dtype=torch.float64).view(1, 3, 1, 1))[0, 1:, 0, 0].numpy()


def two_regions(h=32, w=40, dark=0.2, bright=0.8):
    """A grey image split in two flat halves at column w // 2 (a strong edge when dark and bright differ)."""
    Y = np.full((h, w), dark)
    Y[:, w // 2:] = bright
    return Y


# --- the method ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_scribbled_pixels_keep_their_chroma_exactly(photo, method):
    Y = luma(photo)
    _, mask = levin.sample_scribbles(photo, 120, kind="points", seed=3)
    uv_known = levin.scribble_uv(photo, mask)
    uv = levin.solve_chroma(Y, mask, uv_known, method=method)
    assert uv.shape == (2, 64, 64)
    assert np.array_equal(uv[:, mask], uv_known)
    # through colorize: with gray = the photo's own luma, scribbled pixels show the photo's colours
    out = levin.colorize(Y, photo, mask, method=method)
    assert out.shape == (64, 64, 3) and out.dtype == np.float64
    assert np.abs(out[mask] - photo[mask] / 255.0).max() < 1e-6


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_flat_region_takes_the_one_scribble_colour_everywhere(method):
    Y = np.full((30, 30), 0.5)
    mask = np.zeros((30, 30), bool)
    mask[7, 21] = True
    colour = (0.8, 0.35, 0.2)
    scribble = np.zeros((30, 30, 3))
    scribble[mask] = colour
    uv = levin.solve_chroma(Y, mask, levin.scribble_uv(scribble, mask), method=method)
    target = uv_of(colour)
    assert np.abs(uv - target[:, None, None]).max() < 1e-3 * np.abs(target).max()
    out = levin.colorize(Y, scribble, mask, method=method)
    expected = yuv_to_rgb(torch.tensor([0.5, *target]).view(1, 3, 1, 1), clip=True)[0, :, 0, 0].numpy()
    assert np.abs(out - expected).max() < 2e-3


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_strong_edge_keeps_each_region_its_own_colour(method):
    Y = two_regions()
    mask = np.zeros(Y.shape, bool)
    mask[16, 5] = mask[16, 34] = True
    scribble = np.zeros((*Y.shape, 3))
    scribble[16, 5] = (0.9, 0.1, 0.1)
    scribble[16, 34] = (0.1, 0.3, 0.9)
    uv = levin.solve_chroma(Y, mask, levin.scribble_uv(scribble, mask), method=method)
    left, right = uv_of((0.9, 0.1, 0.1)), uv_of((0.1, 0.3, 0.9))
    gap = np.linalg.norm(left - right)
    leak_into_right = np.linalg.norm(uv[:, :, 20:] - right[:, None, None], axis=0) / gap
    leak_into_left = np.linalg.norm(uv[:, :, :20] - left[:, None, None], axis=0) / gap
    assert leak_into_right.max() < 0.05 and leak_into_left.max() < 0.05, (leak_into_left.max(), leak_into_right.max())


def test_weak_edge_bleeds():
    """The failure mode the notebook shows: a faint edge in a noisy image does not stop the colours."""
    rng = np.random.default_rng(0)
    Y = two_regions(dark=0.50, bright=0.53) + rng.normal(0, 0.02, (32, 40))
    Y = np.clip(Y, 0, 1)
    mask = np.zeros(Y.shape, bool)
    mask[16, 2] = mask[16, 37] = True
    scribble = np.zeros((*Y.shape, 3))
    scribble[16, 2] = (0.9, 0.1, 0.1)
    scribble[16, 37] = (0.1, 0.3, 0.9)
    uv = levin.solve_chroma(Y, mask, levin.scribble_uv(scribble, mask), method="direct")
    left, right = uv_of((0.9, 0.1, 0.1)), uv_of((0.1, 0.3, 0.9))
    leak = np.linalg.norm(uv[:, :, 21:24] - right[:, None, None], axis=0) / np.linalg.norm(left - right)
    assert leak.mean() > 0.2


def test_amg_matches_the_direct_solve(photo):
    Y = luma(photo)
    _, mask = levin.sample_scribbles(photo, 40, kind="strokes", seed=1, length=8)
    amg = levin.colorize(Y, photo, mask, method="amg")
    direct = levin.colorize(Y, photo, mask, method="direct")
    assert psnr(amg, direct) >= 40.0
    # to a tight tolerance the two are the same solution
    tight = levin.colorize(Y, photo, mask, method="amg", rtol=1e-7)
    assert np.abs(tight - direct).max() < 1e-4


def test_the_system_is_the_symmetric_laplacian(photo):
    Y = luma(photo)[:20, :24]
    mask = np.zeros(Y.shape, bool)
    mask[5, 5] = mask[15, 20] = True
    s = levin.build_system(Y, mask, np.zeros((2, 2)), dtype=np.float64)
    A = s.A
    assert abs(A - A.T).max() < 1e-15
    W = levin.affinity_matrix(Y)
    assert abs(W - W.T).max() == 0 and W.diagonal().max() == 0
    L = (np.diag(np.asarray(W.sum(axis=1)).ravel()) - W.toarray())[~mask.ravel()][:, ~mask.ravel()]
    assert np.abs(A.toarray() - L).max() < 1e-12
    # 3x3 neighbourhoods: 8 links inside, fewer on the border
    assert np.diff(W.indptr).max() == 8 and np.diff(W.indptr).min() == 3


def test_affinity_follows_intensity():
    Y = np.array([[0.5, 0.5, 0.9], [0.5, 0.5, 0.9], [0.5, 0.5, 0.9]])
    W = levin.affinity_matrix(Y).toarray()
    assert W[0, 1] > 0.99  # same intensity
    assert W[1, 2] < 0.05  # across the edge
    assert ((W > 0) == (W.T > 0)).all() and W.max() <= 1.0


def test_tensors_in_tensors_out(photo):
    Y = luma(photo)
    _, mask = levin.sample_scribbles(photo, 60, seed=2)
    ref = levin.colorize(Y, photo, mask, method="direct")
    g = torch.from_numpy(Y)[None, None].float()
    s = torch.from_numpy(photo / 255.0).permute(2, 0, 1)[None].float()
    m = torch.from_numpy(mask)[None, None]
    out = levin.colorize(g, s, m, method="direct")
    assert isinstance(out, torch.Tensor) and out.shape == (1, 3, 64, 64) and out.dtype == torch.float32
    assert np.abs(out[0].permute(1, 2, 0).numpy() - ref).max() < 1e-3
    out3 = levin.colorize(g[0, 0], s[0], m[0, 0], method="direct")
    assert out3.shape == (3, 64, 64)


def test_return_info(photo):
    _, mask = levin.sample_scribbles(photo, 30, seed=0)
    out, info = levin.colorize(luma(photo), photo, mask, return_info=True)
    assert info.method == "amg" and info.unknowns == int((~mask).sum()) and len(info.iterations) == 2
    assert info.total_s >= info.build_s + info.setup_s + info.solve_s - 1e-9


# --- bad input -------------------------------------------------------------------------------------------------


def test_different_sizes_are_an_error(photo):
    Y = luma(photo)
    mask = np.zeros((64, 64), bool)
    mask[0, 0] = True
    with pytest.raises(ColorkitError, match="same size"):
        levin.colorize(Y[:60], photo, mask)
    with pytest.raises(ColorkitError, match="same size"):
        levin.colorize(Y, photo, mask[:, :50])


def test_no_scribbles_is_an_error(photo):
    with pytest.raises(ColorkitError, match="no scribbles"):
        levin.colorize(luma(photo), photo, np.zeros((64, 64), bool))


def test_every_pixel_scribbled_returns_the_scribble_chroma(photo):
    """Documented: nothing to solve; the result is the scribbles' U, V on the grey image's Y."""
    out, info = levin.colorize(luma(photo), photo, np.ones((64, 64), bool), return_info=True)
    assert info.unknowns == 0
    assert np.abs(out - photo / 255.0).max() < 1e-6


def test_nan_is_an_error_where_it_matters(photo):
    Y = luma(photo)
    mask = np.zeros((64, 64), bool)
    mask[10, 10] = True
    bad = Y.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ColorkitError, match="NaN"):
        levin.colorize(bad, photo, mask)
    scribble = photo / 255.0
    scribble[10, 10, 1] = np.nan
    with pytest.raises(ColorkitError, match="NaN"):
        levin.colorize(Y, scribble, mask)
    # documented: NaNs in the scribble image away from the marks are never read
    scribble = photo / 255.0
    scribble[40:, :] = np.nan
    assert np.isfinite(levin.colorize(Y, scribble, mask)).all()
    with pytest.raises(ColorkitError, match="NaN"):
        levin.colorize(Y, photo, np.where(mask, 1.0, np.nan))


def test_colour_image_where_grey_is_expected(photo):
    mask = np.zeros((64, 64), bool)
    mask[5, 5] = True
    with pytest.raises(ColorkitError, match="colour image"):
        levin.colorize(photo, photo, mask)
    # a grey photo stored as RGB (equal channels) is accepted, and means the same as (H, W)
    grey = np.round(luma(photo) * 255).astype(np.uint8)
    a = levin.colorize(np.repeat(grey[:, :, None], 3, axis=2), photo, mask, method="direct")
    b = levin.colorize(grey, photo, mask, method="direct")
    assert np.abs(a - b).max() < 1e-6


def test_grey_image_where_colour_is_expected(photo):
    mask = np.zeros((64, 64), bool)
    mask[5, 5] = True
    with pytest.raises(ColorkitError, match="grey marks carry no colour"):
        levin.colorize(luma(photo), luma(photo), mask)
    with pytest.raises(ColorkitError, match="grey marks carry no colour"):
        levin.colorize(torch.rand(64, 64), torch.rand(1, 64, 64), torch.from_numpy(mask))


def test_other_bad_values(photo):
    Y = luma(photo)
    mask = np.zeros((64, 64), bool)
    mask[5, 5] = True
    with pytest.raises(ColorkitError, match=r"\[0, 1\]"):
        levin.colorize(Y * 255.0, photo, mask)
    with pytest.raises(ColorkitError, match="0/1"):
        levin.colorize(Y, photo, mask * 7)
    with pytest.raises(ColorkitError, match="unknown method"):
        levin.colorize(Y, photo, mask, method="magic")
    with pytest.raises(ColorkitError, match="numpy array or torch tensor"):
        levin.colorize(Y.tolist(), photo, mask)
    with pytest.raises(ColorkitError, match="empty"):
        levin.colorize(np.zeros((0, 5)), np.zeros((0, 5, 3)), np.zeros((0, 5), bool))


# --- scribbles from three places ------------------------------------------------------------------------------


def test_marked_pair_round_trip(photo, tmp_path):
    from colorkit.io import write_image

    grey = np.round(luma(photo) * 255).astype(np.uint8)
    marked = np.repeat(grey[:, :, None], 3, axis=2)
    marked[10:13, 5:30] = (200, 40, 40)
    marked[50, 50] = (30, 60, 220)
    write_image(tmp_path / "g.png", grey)
    write_image(tmp_path / "m.png", marked)
    Y, rgb, mask = levin.read_marked_pair(tmp_path / "g.png", tmp_path / "m.png")
    assert mask.sum() == 3 * 25 + 1 and mask[50, 50] and mask[11, 20] and not mask[0, 0]
    assert np.allclose(rgb[50, 50], np.array((30, 60, 220)) / 255)
    out = levin.colorize(Y, rgb, mask)
    assert out[11, 40, 0] > out[11, 40, 2]  # the red mark spreads into its neighbourhood

    write_image(tmp_path / "small.png", marked[:40])
    with pytest.raises(ColorkitError, match="same size") as e:
        levin.read_marked_pair(tmp_path / "g.png", tmp_path / "small.png")
    assert "small.png" in str(e.value)
    with pytest.raises(ColorkitError, match="no colour marks"):
        levin.read_marked_pair(tmp_path / "g.png", tmp_path / "g.png")
    write_image(tmp_path / "colour.png", photo)
    with pytest.raises(ColorkitError, match="in colour") as e:
        levin.read_marked_pair(tmp_path / "colour.png", tmp_path / "m.png")
    assert "colour.png" in str(e.value)
    with pytest.raises(ColorkitError, match="no such file"):
        levin.read_marked_pair(tmp_path / "missing.png", tmp_path / "m.png")


def test_sampled_scribbles_are_seeded(photo):
    rgb, mask = levin.sample_scribbles(photo, 50, kind="points", seed=7)
    assert mask.sum() == 50 and rgb.dtype == np.uint8 and np.array_equal(rgb, photo)
    assert np.array_equal(mask, levin.sample_scribbles(photo, 50, kind="points", seed=7)[1])
    assert not np.array_equal(mask, levin.sample_scribbles(photo, 50, kind="points", seed=8)[1])
    _, strokes = levin.sample_scribbles(photo, 5, kind="strokes", seed=7, length=10, width=3)
    assert 5 * 10 * 2 <= strokes.sum() <= 5 * 13 * 5
    with pytest.raises(ColorkitError, match="kind"):
        levin.sample_scribbles(photo, 5, kind="blobs")
    with pytest.raises(ColorkitError, match="at least 1"):
        levin.sample_scribbles(photo, 0)


def test_strokes_rasterize_and_scale(tmp_path):
    strokes = [{"color": "#ff0000", "width": 4, "points": [[2, 2], [18, 2]]},
               {"color": [0, 0, 255], "width": 2, "points": [[10, 15]]}]
    rgb, mask = levin.rasterize_strokes((20, 20), strokes)
    assert mask[2, 10] and tuple(rgb[2, 10]) == (255, 0, 0) and mask[15, 10] and tuple(rgb[15, 10]) == (0, 0, 255)
    assert not mask[10, 10]
    big_rgb, big = levin.rasterize_strokes((40, 40), strokes, size=(20, 20))
    assert big[4, 20] and tuple(big_rgb[4, 20]) == (255, 0, 0) and 3 < big.sum() / mask.sum() < 5
    levin.save_strokes(tmp_path / "s.json", strokes, size=(20, 20))
    assert levin.load_strokes(tmp_path / "s.json")["strokes"][0]["color"] == "#ff0000"
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ColorkitError, match="stroke file"):
        levin.load_strokes(tmp_path / "bad.json")
    with pytest.raises(ColorkitError, match="rrggbb"):
        levin.rasterize_strokes((5, 5), [{"color": "red-ish", "width": 1, "points": [[1, 1]]}])


def test_the_solvay_scribbles_are_stored_with_the_notebook():
    doc = levin.load_strokes(SOLVAY_STROKES)
    assert doc["size"] == [1024, 705] and len(doc["strokes"]) > 50
    labels = " ".join(s.get("label", "") for s in doc["strokes"])
    for what in ("face", "jacket", "building", "sky", "pavement"):
        assert what in labels
    rgb, mask = levin.rasterize_strokes((705, 1024), doc["strokes"], size=doc["size"])
    assert 0.01 < mask.mean() < 0.2
    json.dumps(doc)  # plain JSON


def test_solvay_photo_without_debian_tools_is_a_clear_error(monkeypatch, tmp_path):
    import shutil

    monkeypatch.setenv("COLORKIT_DATA", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ColorkitError, match="apt-get"):
        levin.solvay_photo()
    with pytest.raises(ColorkitError, match="size"):
        levin.solvay_photo("10x10")


# --- the widget -------------------------------------------------------------------------------------------------


def test_widget_stroke_changes_the_result(photo):
    from colorkit.widgets.scribble import ScribbleWidget

    grey = np.round(luma(photo) * 255).astype(np.uint8)
    wdg = ScribbleWidget(grey, max_side=48)
    assert wdg.gray.shape == (48, 48)
    assert "colorkit-scribble" in wdg._dom_classes
    assert "colorkit-scribble-canvas" in wdg.canvas._dom_classes
    assert "colorkit-scribble-result" in wdg.result._dom_classes
    before_png, before = wdg.result.value, wdg.result_rgb.copy()
    assert np.ptp(before.astype(int), axis=2).max() == 0  # no strokes: the grey photo
    # the mouse path: press, move, release -> the same apply_stroke as the kernel call
    wdg.picker.value = "#d02020"
    wdg._on_down(5.0, 5.0)
    wdg._on_move(20.0, 8.0)
    wdg._on_up(30.0, 10.0)
    assert len(wdg.strokes) == 1 and wdg.strokes[0]["color"] == "#d02020"
    after = wdg.result_rgb
    assert wdg.result.value != before_png and np.abs(after.astype(int) - before).mean() > 5
    assert after[..., 0].mean() > after[..., 2].mean()  # red spreads
    again = wdg.apply_stroke([(40, 40), (44, 44)], color="#2040d0", width=3)
    assert len(wdg.strokes) == 2 and not np.array_equal(again, after)
    assert "2 stroke(s)" in wdg.status.value
    wdg.undo()
    assert len(wdg.strokes) == 1 and np.array_equal(wdg.result_rgb, after)
    wdg.clear()
    assert wdg.strokes == [] and np.array_equal(wdg.result_rgb, before)
    with pytest.raises(ColorkitError):
        wdg.apply_stroke([])


def test_widget_loads_and_saves_strokes(photo, tmp_path):
    from colorkit.widgets.scribble import scribble_widget

    grey = np.round(luma(photo) * 255).astype(np.uint8)
    strokes = [{"color": "#10a010", "width": 4, "points": [[10, 10], [100, 10]]}]
    wdg = scribble_widget(grey, strokes=strokes, size=(128, 128), max_side=64)
    assert wdg.strokes[0]["points"] == [[5.0, 5.0], [50.0, 5.0]] and wdg.strokes[0]["width"] == 2.0
    assert wdg.result_rgb[..., 1].mean() > wdg.result_rgb[..., 0].mean()
    wdg.save(tmp_path / "mine.json")
    assert levin.load_strokes(tmp_path / "mine.json")["size"] == [64, 64]


# --- the notebook's exercises ---------------------------------------------------------------------------------


def test_exercises_02():
    from colorkit.exercises import evaluate, keys
    from colorkit.exercises.nb02 import chain_solution

    assert keys("02") == ["02.1", "02.2", "02.3"]
    assert evaluate("02.1", math.exp(-0.6))[0]
    ok, msg = evaluate("02.1", math.exp(-0.3))
    assert not ok and "2σ²" in msg
    assert evaluate("02.2", float(chain_solution()[1]))[0]
    ok, msg = evaluate("02.2", 0.0)
    assert not ok and "equal" in msg
    assert evaluate("02.3", 133504)[0]
    ok, msg = evaluate("02.3", 135000)
    assert not ok and "border" in msg
    ok, msg = evaluate("02.3", 118504)
    assert not ok and "diagonal" in msg
    assert not evaluate("02.1", ...)[0]
