"""colorkit.metrics: closed forms, agreement with skimage, the evaluation row and the tables."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from colorkit import metrics as m
from colorkit import quantize as q
from colorkit.errors import ColorkitError


@pytest.fixture(scope="module")
def photos():
    """Two small real photos (uint8 (H, W, 3)) shipped inside scikit-image."""
    return [data.astronaut()[::8, ::8].copy(), data.coffee()[::8, ::8].copy()]


def _noisy(img, seed=0, scale=20):
    rng = np.random.default_rng(seed)
    return np.clip(img.astype(int) + rng.integers(-scale, scale + 1, img.shape), 0, 255).astype(np.uint8)


# --- PSNR / SSIM -----------------------------------------------------------------------------------


def test_psnr_closed_form_and_skimage(photos):
    t = torch.full((2, 3, 8, 8), 0.5)
    assert m.psnr(t + 0.1, t) == pytest.approx(np.array([20.0, 20.0]), abs=1e-4)  # MSE 0.01
    true = photos[0]
    pred = _noisy(true)
    assert m.psnr(pred, true) == pytest.approx(peak_signal_noise_ratio(true, pred), rel=1e-9)
    assert m.psnr(true, true) == math.inf
    # the same image as a tensor (N, 3, H, W) in [0, 1] gives the same number
    as_t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].double() / 255  # noqa: E731
    assert m.psnr(as_t(pred), as_t(true))[0] == pytest.approx(m.psnr(pred, true), rel=1e-9)


def test_ssim_matches_skimage(photos):
    true = photos[1]
    pred = _noisy(true, seed=1)
    ref = structural_similarity(pred / 255.0, true / 255.0, channel_axis=-1, data_range=1.0)
    assert m.ssim(pred, true) == pytest.approx(ref, abs=1e-6)  # float32 inside: the same to 1e-6
    assert m.ssim(true, true) == pytest.approx(1.0)
    batch = m.ssim(np.stack([pred, true]), np.stack([true, true]))
    assert batch.shape == (2,) and batch[0] == pytest.approx(ref) and batch[1] == pytest.approx(1.0)
    with pytest.raises(ColorkitError, match="7x7"):
        m.ssim(np.zeros((5, 5, 3), np.uint8), np.zeros((5, 5, 3), np.uint8))


def test_image_inputs_are_checked():
    with pytest.raises(ColorkitError, match="differ"):
        m.psnr(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ColorkitError, match="expected"):
        m.psnr(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))


# --- AuC ------------------------------------------------------------------------------------------------


def _ab_field(n=10, value=(20.0, -30.0)):
    return torch.tensor(value).view(1, 2, 1, 1).expand(1, 2, 1, n).clone()


def test_auc_perfect_and_constant_error():
    true = _ab_field()
    assert m.auc_ab(true, true) == pytest.approx(1.0)
    for e in (30.0, 30.5, 149.9, 150.0):
        pred = true + torch.tensor([e * 0.6, e * 0.8]).view(1, 2, 1, 1)  # ‖error‖ = e
        assert m.auc_ab(pred, true) == pytest.approx((151 - math.ceil(e)) / 151, abs=1e-9)
    assert m.auc_ab(true + 200, true) == 0.0
    assert m.auc_ab(true + 10, true, max_threshold=20) == pytest.approx((21 - math.ceil(10 * math.sqrt(2))) / 21)


def test_auc_rebalanced_two_class_example():
    # 90 pixels of a common colour predicted exactly, 10 of a rare colour off by 100.
    bins = torch.tensor([[0.0, 0.0], [50.0, 50.0]])
    true = torch.zeros(1, 2, 1, 100)
    true[0, :, 0, 90:] = 50.0
    pred = true.clone()
    pred[0, 0, 0, 90:] += 100.0
    prior = torch.tensor([0.9, 0.1])
    plain = m.auc_ab(pred, true)
    rebal = m.auc_ab(pred, true, bins=bins, prior=prior)
    assert plain == pytest.approx((100 * 0.9 + 51) / 151)  # F(t) = 0.9 below 100, 1 from 100
    assert rebal == pytest.approx((100 * 0.5 + 51) / 151)  # each colour weighs the same: F(t) = 0.5
    w = m.rebalanced_pixel_weights(true, bins, prior)
    assert w.shape == (1, 1, 100) and w[0, 0, 0] == pytest.approx(1 / 0.9) and w[0, 0, -1] == pytest.approx(10.0)
    assert m.auc_ab(pred, true, weights=w) == pytest.approx(rebal)
    # an empty bin in the prior gets the smallest positive prior instead of an infinite weight
    w0 = m.rebalanced_pixel_weights(true, bins, torch.tensor([1.0, 0.0]))
    assert np.isfinite(w0).all() and w0.max() == pytest.approx(1.0)
    with pytest.raises(ColorkitError, match="both bins and prior"):
        m.auc_ab(pred, true, bins=bins)


def test_auc_pooled_histograms_add_up():
    g = torch.Generator().manual_seed(5)
    t1, t2 = torch.randn(1, 2, 6, 6, generator=g) * 30, torch.randn(1, 2, 6, 6, generator=g) * 30
    p1, p2 = t1 + torch.randn(1, 2, 6, 6, generator=g) * 20, t2 + 40
    h = m.ab_error_histogram(p1, t1) + m.ab_error_histogram(p2, t2)
    assert m.auc_from_histogram(h) == pytest.approx(m.auc_ab(torch.cat([p1, p2]), torch.cat([t1, t2])))


# --- colourfulness and chroma -----------------------------------------------------------------------------


def test_colorfulness_known_images():
    grey = np.full((4, 6, 3), 128, np.uint8)
    assert m.colorfulness(grey) == pytest.approx(0.0)
    red = np.zeros((4, 6, 3), np.uint8)
    red[..., 0] = 255
    single = 0.3 * math.hypot(255, 127.5)  # σ = 0; μ_rg = 255, μ_yb = 127.5
    assert m.colorfulness(red) == pytest.approx(single)
    # an arbitrary colour field: M = 0.3 * sqrt(rg² + yb²)
    field = np.zeros((3, 3, 3), np.uint8) + np.array([200, 120, 40], np.uint8)
    assert m.colorfulness(field) == pytest.approx(0.3 * math.hypot(80, 120))
    # half red, half green: rg = ±255 (μ 0, σ 255), yb = 127.5 (μ 127.5, σ 0)
    rg = red.copy()
    rg[:2] = [0, 255, 0]
    assert m.colorfulness(rg) == pytest.approx(255 + 0.3 * 127.5)
    assert m.colorfulness(rg, variant="abs") == pytest.approx(single)  # the code variant cannot tell
    # tensors in [0, 1], batched
    t = torch.from_numpy(np.stack([red, rg])).permute(0, 3, 1, 2).double() / 255
    assert m.colorfulness(t) == pytest.approx(np.array([single, 255 + 0.3 * 127.5]))


def test_chroma_ratio():
    true = torch.randn(2, 2, 5, 5) * 30
    assert m.chroma_ratio(0.5 * true, true) == pytest.approx(0.5)
    assert m.chroma_ratio(true, true) == pytest.approx(1.0)
    assert math.isnan(m.chroma_ratio(true, torch.zeros_like(true)))


# --- evaluation rows -------------------------------------------------------------------------------------------


def test_evaluate_images_perfect_and_grey(photos):
    bins = q.gamut_bins()
    # the photos differ in size: lay every pixel out in one row, (1, 2, 1, total pixels)
    ab = torch.cat([torch.from_numpy(rgb2lab(p)[..., 1:]).reshape(1, 1, -1, 2).permute(0, 3, 1, 2).float()
                    for p in photos], dim=3)
    prior = q.prior_from_ab(ab, bins)
    perfect = m.evaluate_images(photos, photos, bins=bins, prior=prior, progress=False)
    assert perfect["psnr"] == math.inf and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["auc"] == pytest.approx(1.0) and perfect["auc_rebal"] == pytest.approx(1.0)
    assert perfect["chroma_ratio"] == pytest.approx(1.0) and perfect["n_images"] == 2
    assert perfect["colorfulness"] == pytest.approx(np.mean([m.colorfulness(p) for p in photos]))

    grey = m.grey_baseline(photos, bins=bins, prior=prior, progress=False)
    assert list(grey) == ["psnr", "ssim", "auc", "auc_rebal", "colorfulness", "chroma_ratio", "false_colour",
                          "vivid_hue", "n_images"]
    assert grey["chroma_ratio"] < 0.02 and grey["colorfulness"] < 1.0
    assert 0.5 < grey["auc"] < 1.0
    assert grey["auc_rebal"] < grey["auc"]  # grey is right for common greyish pixels, wrong for rare colours
    assert 15 < grey["psnr"] < 40


def test_grey_image_keeps_lightness(photos):
    g = m.grey_image(photos[0])
    lab_g, lab_t = rgb2lab(g), rgb2lab(photos[0])
    assert np.abs(lab_g[..., 0] - lab_t[..., 0]).max() < 0.6
    assert np.abs(lab_g[..., 1:]).max() < 1.0


def test_evaluate_images_rejects_bad_pairs(photos):
    with pytest.raises(ColorkitError, match="#0"):
        m.evaluate_images([photos[0][:10]], [photos[0]], progress=False)
    with pytest.raises(ColorkitError, match="uint8"):
        m.evaluate_images([photos[0].astype(float)], [photos[0]], progress=False)
    with pytest.raises(ColorkitError, match="equally many"):
        m.evaluate_images(photos, photos[:1], progress=False)


# --- tables ---------------------------------------------------------------------------------------------------------


def test_write_table(tmp_path):
    rows = {
        "grey": {"psnr": 23.456789, "auc": 0.9, "n_images": 5},
        "L2, small": {"psnr": 24.0, "auc": 0.91, "auc_rebal": 0.6, "n_images": 5},
    }
    m.write_table(rows, tmp_path / "t.csv", tmp_path / "sub" / "t.md")
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert [r["method"] for r in parsed] == ["grey", "L2, small"]
    assert parsed[0]["psnr"] == "23.4568" and parsed[0]["auc_rebal"] == "" and parsed[1]["auc_rebal"] == "0.6"
    md = (tmp_path / "sub" / "t.md").read_text().splitlines()
    assert md[0] == "| method | PSNR (dB) | AuC | images | AuC rebal. |"
    assert md[1] == "|---|---:|---:|---:|---:|"
    assert md[2] == "| grey | 23.457 | 0.900 | 5 |  |"
    assert len(md) == 4
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["t.csv", "t.md"]  # no temp files left
    with pytest.raises(ColorkitError):
        m.metric_table(rows, fmt="html")


# --- false colour, vivid hue, semantic agreement ------------------------------------------------------------------


def _polar_ab(chroma, hue_deg):
    """ab (1, 2, 1, n) from per-pixel chroma and hue (degrees)."""
    c, h = torch.tensor(chroma, dtype=torch.float64), torch.deg2rad(torch.tensor(hue_deg, dtype=torch.float64))
    return torch.stack([c * torch.cos(h), c * torch.sin(h)])[None, :, None, :]


def test_false_colour_rate_constructed():
    # true chroma:   0   5  9.9  9.9 | 10 (not grey: < 10 is)  50
    # pred chroma:  25  20   30    0 | 40                       0
    true = _polar_ab([0, 5, 9.9, 9.9, 10, 50], [0, 90, 180, 0, 0, 0])
    pred = _polar_ab([25, 20, 30, 0, 40, 0], [0, 0, -90, 0, 45, 0])
    assert m.false_colour_rate(pred, true) == pytest.approx(2 / 4)  # 25 and 30 are > 20; 20 is not
    assert m.false_colour_rate(torch.zeros_like(pred), true) == 0.0
    assert m.false_colour_rate(pred, true, grey=20, coloured=35) == pytest.approx(1 / 5)  # 40 over true 10
    assert math.isnan(m.false_colour_rate(pred, _polar_ab([30] * 6, [0] * 6)))  # no grey pixel
    with pytest.raises(ColorkitError, match="differ"):
        m.false_colour_rate(pred, true[..., :3])


def test_vivid_hue_accuracy_constructed():
    # vivid truth (chroma >= 30) at hue 0 or 170; predictions:
    true = _polar_ab([40, 40, 40, 40, 35, 60, 30, 29.9], [0, 0, 0, 0, 170, 170, 0, 0])
    pred = _polar_ab([40, 40, 40, 5, 12, 60, 10, 40], [25, 35, 350, 0, -170, 142, 0, 0])
    # 25° off: yes; 35° off: no; 350° = 10° off: yes; right hue but chroma 5 < 10: no;
    # 170 vs -170 = 20° off across ±180 with chroma 12: yes; 28° off: yes;
    # truth exactly 30 (vivid), right hue, chroma exactly 10: yes; chroma 29.9 truth: not vivid
    assert m.vivid_hue_accuracy(pred, true) == pytest.approx(5 / 7)
    assert m.vivid_hue_accuracy(true, true) == 1.0
    assert m.vivid_hue_accuracy(torch.zeros_like(true), true) == 0.0  # grey is never the right hue
    assert m.vivid_hue_accuracy(pred, true, max_hue_error=15) == pytest.approx(2 / 7)  # the 350° and exact pixels
    assert math.isnan(m.vivid_hue_accuracy(pred, torch.zeros_like(true)))


def test_evaluate_images_pools_false_colour_and_vivid_hue(photos):
    # RGB -> BGR (other hues, same structure) plus a red cast (greys turn pink)
    preds = [np.clip(p[..., ::-1].astype(int) + [60, 0, 0], 0, 255).astype(np.uint8) for p in photos]
    row = m.evaluate_images(preds, photos, progress=False)
    # pooled over all pixels of both images (not a mean of per-image shares)
    lab = lambda imgs: torch.cat([m.suite._lab(i)[:, 1:].reshape(1, 2, 1, -1) for i in imgs], dim=3)  # noqa: E731
    assert row["false_colour"] == pytest.approx(m.false_colour_rate(lab(preds), lab(photos)))
    assert row["vivid_hue"] == pytest.approx(m.vivid_hue_accuracy(lab(preds), lab(photos)))
    assert 0.0 < row["vivid_hue"] < 0.9 and 0.0 < row["false_colour"] < 1.0
    perfect = m.evaluate_images(photos, photos, progress=False)
    assert perfect["false_colour"] == 0.0 and perfect["vivid_hue"] == 1.0
    grey = m.grey_baseline(photos, progress=False)
    assert grey["false_colour"] == 0.0 and grey["vivid_hue"] == 0.0
    assert "semantic_top1" not in row  # opt-in
    md = m.metric_table({"bgr": row, "grey": grey})
    assert md.splitlines()[0] == ("| method | PSNR (dB) | SSIM | AuC | colourfulness | chroma ratio | false colour "
                                  "| vivid hue acc. | images |")


def test_semantic_agreement():
    cat, coffee = data.chelsea(), data.coffee()
    same = m.semantic_agreement([cat, coffee], [cat, coffee])
    assert same == {"top1": 1.0, "top5": 1.0}
    assert m.semantic_agreement([coffee], [coffee[:, ::-1].copy()]) == {"top1": 1.0, "top5": 1.0}  # mirrored
    mixed = m.semantic_agreement([cat, coffee[:300, :451]], [cat, cat])  # a cat, then an espresso for a cat
    assert mixed == {"top1": 0.5, "top5": 0.5}
    # batched tensors in [0, 1] work too
    t = torch.from_numpy(np.stack([cat, cat])).permute(0, 3, 1, 2).float() / 255
    assert m.semantic_agreement(t, t) == {"top1": 1.0, "top5": 1.0}
    with pytest.raises(ColorkitError, match="equally many"):
        m.semantic_agreement([cat], [cat, cat])
    row = m.evaluate_images([cat], [cat], progress=False, semantic=True)
    assert row["semantic_top1"] == 1.0 and row["semantic_top5"] == 1.0
    assert list(row)[-3:] == ["semantic_top1", "semantic_top5", "n_images"]


def test_parts_pool_to_the_same_row_and_score_any_subset():
    from colorkit.metrics import evaluate_images, image_parts, metric_intervals, row_from_parts
    from colorkit.quantize import gamut_bins

    rng = np.random.default_rng(7)
    trues = [rng.integers(0, 256, (20, 24, 3), dtype=np.uint8) for _ in range(8)]
    preds = [np.clip(t.astype(int) + rng.integers(-40, 40, t.shape), 0, 255).astype(np.uint8) for t in trues]
    bins = gamut_bins()
    prior = torch.full((len(bins),), 1.0 / len(bins))
    parts = image_parts(preds, trues, bins, prior, progress=False)
    whole = evaluate_images(preds, trues, bins=bins, prior=prior, progress=False)
    assert row_from_parts(parts) == pytest.approx({k: v for k, v in whole.items() if k != "n_images"}, rel=1e-12)
    sub = [1, 3, 3, 6]  # a resample: photo 3 twice
    want = evaluate_images([preds[i] for i in sub], [trues[i] for i in sub], bins=bins, prior=prior, progress=False)
    assert row_from_parts(parts, sub) == pytest.approx({k: v for k, v in want.items() if k != "n_images"}, rel=1e-12)
    ci = metric_intervals(parts, n_resamples=300)
    assert set(ci) == set(row_from_parts(parts))
    for k, (lo, hi) in ci.items():
        assert lo <= row_from_parts(parts)[k] <= hi, k
    assert metric_intervals(parts, n_resamples=300) == ci  # seeded
    narrow = metric_intervals(parts, n_resamples=300, level=0.5)
    assert all(narrow[k][1] - narrow[k][0] <= ci[k][1] - ci[k][0] + 1e-12 for k in ci)
