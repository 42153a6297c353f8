"""colorkit.quantize: bins from the sRGB gamut, soft encoding, prior, rebalancing, decoding, YUV palettes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from colorkit import quantize as q
from colorkit.errors import ColorkitError


@pytest.fixture(scope="module")
def bins():
    return q.gamut_bins(10)


def _ab(*pairs, h=1):
    """ab tensor (1, 2, h, len(pairs)//h) from (a, b) pairs."""
    t = torch.tensor(pairs, dtype=torch.float32).T  # (2, P)
    return t.reshape(1, 2, h, -1)


# --- bins ------------------------------------------------------------------------------------


def test_ab_grid_covers_lab_plane():
    g = q.ab_grid(10)
    assert g.shape == (625, 2)
    assert g[:, 0].min() == -120 and g[:, 0].max() == 120
    assert torch.equal(g[1], torch.tensor([-120.0, -110.0]))  # a-major: b varies fastest


def test_gamut_bins_count_and_ranges(bins):
    s = q.bins_summary(bins)
    assert s == {"Q": 261, "a_min": -90.0, "a_max": 100.0, "b_min": -110.0, "b_max": 90.0}
    assert bins.dtype == torch.float32
    assert torch.all(bins % 10 == 0)
    # a-major order, no duplicates
    keys = (bins[:, 0] * 1000 + bins[:, 1]).tolist()
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_every_srgb_colour_falls_in_a_bin_cell(bins):
    # Independent check with skimage on a lattice of 8-bit colours (including the cube's corners).
    levels = np.r_[np.arange(0, 256, 15), 255] / 255.0
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 1, 3)
    ab = rgb2lab(rgb)[:, 0, 1:]
    cell = np.floor((ab + 5) / 10) * 10  # centre of the half-open cell [c - 5, c + 5)
    have = {tuple(c) for c in bins.numpy().astype(int)}
    missing = {tuple(c) for c in cell.astype(int)} - have
    assert not missing


def test_occupancy_matches_skimage_for_some_red_levels():
    occ = q.srgb_ab_occupancy()
    assert occ.shape == (512, 512) and occ.dtype == bool
    g = np.arange(256) / 255.0
    for r in (0, 97, 255):
        rgb = np.stack(np.meshgrid([r / 255.0], g, g, indexing="ij"), -1).reshape(-1, 1, 3)
        ab = rgb2lab(rgb)[:, 0, 1:]
        idx = np.floor((ab + 128) / 0.5).astype(int)
        assert occ[idx[:, 0], idx[:, 1]].all()
    # the grey axis is in; a far corner of the plane is out
    assert occ[256, 256] and not occ[0, 0]


def test_margin_reproduces_zhang_ranges(bins):
    cmp = q.compare_with_zhang()
    assert cmp["ours"]["Q"] == 261
    assert cmp["zhang"]["Q"] == q.ZHANG_Q == 313
    wide = cmp["ours_margin5"]
    assert (wide["a_min"], wide["a_max"]) == q.ZHANG_A_RANGE
    assert (wide["b_min"], wide["b_max"]) == q.ZHANG_B_RANGE
    assert wide["Q"] == 309
    big = {tuple(c) for c in q.gamut_bins(10, margin=5.0).tolist()}
    assert {tuple(c) for c in bins.tolist()} <= big


# --- encoding -------------------------------------------------------------------------------------


def test_nearest_bin_matches_brute_force(bins):
    ab = torch.randn(2, 2, 5, 7) * 40
    idx = q.nearest_bin(ab, bins)
    brute = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins).argmin(1).view(2, 5, 7)
    assert torch.equal(idx, brute)


def test_soft_encode_sums_to_one_and_peaks_at_nearest(bins):
    torch.manual_seed(0)
    ab = torch.rand(3, 2, 8, 9) * 120 - 60
    z = q.soft_encode(ab, bins)
    assert z.shape == (3, len(bins), 8, 9)
    assert torch.allclose(z.sum(1), torch.ones(3, 8, 9), atol=1e-6)
    assert (z >= 0).all()
    assert torch.equal((z > 0).sum(1), torch.full((3, 8, 9), 5))
    assert torch.equal(z.argmax(1), q.nearest_bin(ab, bins))
    assert (z.max(1).values > 0.2).all()


def test_soft_encode_closed_form_at_a_bin_centre(bins):
    z = q.soft_encode(_ab((20.0, 30.0)), bins)[0, :, 0, 0]
    i = int(((bins - torch.tensor([20.0, 30.0])).abs().sum(1) == 0).nonzero())
    # the 4 neighbours at distance 10 weigh exp(-100 / 50) each
    expected = 1 / (1 + 4 * math.exp(-2))
    assert z[i].item() == pytest.approx(expected, rel=1e-5)
    assert sorted(z[z > 0].tolist())[0] == pytest.approx(math.exp(-2) * expected, rel=1e-5)


def test_soft_encode_chunking_and_far_values(bins):
    ab = torch.randn(2, 2, 6, 6) * 50
    ab[0, :, 0, 0] = torch.tensor([300.0, -300.0])  # far outside every bin: no 0/0
    a = q.soft_encode(ab, bins)
    b = q.soft_encode(ab, bins, chunk=7)
    assert torch.equal(a, b)
    assert torch.isfinite(a).all() and torch.allclose(a.sum(1), torch.ones(2, 6, 6), atol=1e-6)


def test_soft_encode_rejects_bad_shape(bins):
    with pytest.raises(ColorkitError, match=r"\(N, 2, H, W\)"):
        q.soft_encode(torch.zeros(1, 3, 4, 4), bins)


# --- prior and weights ------------------------------------------------------------------------------------


def _hist_of(a, b):
    h, _, _ = np.histogram2d(a, b, bins=256, range=[[-128, 128], [-128, 128]])
    return h


def test_empirical_prior_axis_convention_and_no_smoothing(bins):
    p = q.empirical_prior(_hist_of([50.2] * 10, [-30.7] * 10), bins, sigma=0)
    assert p.shape == (len(bins),) and p.sum().item() == pytest.approx(1.0)
    assert bins[p.argmax()].tolist() == [50.0, -30.0]
    assert p.max().item() == pytest.approx(1.0)


def test_empirical_prior_smoothing_closed_form(bins):
    p = q.empirical_prior(_hist_of([0.5], [0.5]), bins, sigma=5.0).double()
    c0 = torch.tensor([0.0, 0.0], dtype=torch.float64)
    kernel = torch.exp(-((bins.double() - c0) ** 2).sum(1) / 50)  # spread of the single bin (0, 0)
    assert torch.allclose(p, kernel / kernel.sum(), atol=1e-7)
    i = int(((bins == torch.tensor([0.0, 0.0])).all(1)).nonzero())
    j = int(((bins == torch.tensor([10.0, 0.0])).all(1)).nonzero())
    assert p[j] / p[i] == pytest.approx(math.exp(-2), rel=1e-6)


def test_prior_from_ab_matches_histogram_route(bins):
    torch.manual_seed(1)
    ab = (torch.rand(1, 2, 40, 40) * 100 - 50).round() + 0.5  # interior of the gamut, away from cell edges
    p1 = q.prior_from_ab(ab, bins)
    p2 = q.empirical_prior(_hist_of(ab[0, 0].flatten().numpy(), ab[0, 1].flatten().numpy()), bins)
    assert torch.allclose(p1, p2, atol=1e-6)


def test_empirical_prior_rejects_empty():
    with pytest.raises(ColorkitError):
        q.empirical_prior(np.zeros((256, 256)), q.gamut_bins())


def test_rebalance_weights_normalisation_and_uniform_limit():
    torch.manual_seed(2)
    p = torch.rand(261) ** 4
    p = p / p.sum()
    w = q.rebalance_weights(p, 0.5)
    assert (p * w).sum().item() == pytest.approx(1.0, abs=1e-5)
    assert w[p.argmin()] > w[p.argmax()]  # rare colours weigh more
    assert torch.allclose(q.rebalance_weights(p, 1.0), torch.ones(261))


def test_rebalance_weights_two_bin_closed_form():
    w = q.rebalance_weights(torch.tensor([0.9, 0.1]), 0.5)
    raw = np.array([1 / 0.7, 1 / 0.3])
    raw /= 0.9 * raw[0] + 0.1 * raw[1]
    assert np.allclose(w.numpy(), raw, rtol=1e-6)


def test_rebalance_weights_bad_input():
    with pytest.raises(ColorkitError):
        q.rebalance_weights(torch.tensor([0.5, -0.1]))
    with pytest.raises(ColorkitError):
        q.rebalance_weights(torch.tensor([1.0, 0.0]), lam=0.0)


# --- decoding -------------------------------------------------------------------------------------------


def _random_probs(Q, seed=3):
    """Random distributions (2, Q, 4, 5) whose top bin is at least twice as likely as the runner-up."""
    g = torch.Generator().manual_seed(seed)
    z = torch.softmax(torch.randn(2, Q, 4, 5, generator=g) * 3, dim=1)
    top = z.max(1, keepdim=True).values
    z = torch.where(z == top, 2 * top, z)
    return z / z.sum(1, keepdim=True)


def test_decode_mean_and_mode_closed_form(bins):
    z = torch.zeros(1, len(bins), 1, 1)
    z[0, 10], z[0, 20] = 0.75, 0.25
    mean = q.decode_mean(z, bins)[0, :, 0, 0]
    assert torch.allclose(mean, 0.75 * bins[10] + 0.25 * bins[20])
    assert torch.equal(q.decode_mode(z, bins)[0, :, 0, 0], bins[10])


def test_annealed_mean_limits(bins):
    z = _random_probs(len(bins))
    assert torch.allclose(q.decode_annealed_mean(z, bins, T=1.0), q.decode_mean(z, bins), atol=1e-4)
    assert torch.allclose(q.decode_annealed_mean(z, bins, T=0.01), q.decode_mode(z, bins), atol=1e-3)
    assert torch.equal(q.decode_annealed_mean(z, bins, T=0), q.decode_mode(z, bins))


def test_annealed_mean_is_stable_with_zeros(bins):
    z = torch.zeros(1, len(bins), 2, 2)
    z[:, 5] = 1.0
    out = q.decode_annealed_mean(z, bins, T=0.38)
    assert torch.isfinite(out).all()
    assert torch.allclose(out[0, :, 0, 0], bins[5])


def test_decode_from_logits_equals_from_probs(bins):
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(2, len(bins), 3, 3, generator=g) * 2
    probs = torch.softmax(logits, 1)
    for method in ("mean", "mode", "annealed"):
        a = q.decode(logits, bins, method=method, T=0.38)
        b = q.decode(probs, bins, method=method, T=0.38)
        c = q.decode(logits, bins, method=method, T=0.38, from_logits=True)
        assert a.shape == (2, 2, 3, 3)
        assert torch.allclose(a, b, atol=1e-3) and torch.allclose(a, c)
    assert torch.allclose(q.decode(probs, bins, "annealed", T=0.38), q.decode_annealed_mean(probs, bins, 0.38))


def test_decode_rejects_bad_method_and_shape(bins):
    with pytest.raises(ColorkitError, match="method"):
        q.decode(torch.zeros(1, len(bins), 2, 2), bins, method="median")
    with pytest.raises(ColorkitError, match="match the bins"):
        q.decode(torch.zeros(1, 7, 2, 2), bins)


# --- YUV palettes -----------------------------------------------------------------------------------------


def test_yuv_palette_most_frequent_first():
    # 50 pixels at (0.1, -0.2), 30 at (-0.3, 0.4), 20 at (0.0, 0.0)
    uv = [(0.1, -0.2)] * 50 + [(-0.3, 0.4)] * 30 + [(0.0, 0.0)] * 20
    pal = q.yuv_palette(_ab(*uv), n=2, nbins=10)
    cu = -0.45 + (math.floor((0.1 + 0.45) / 0.09) + 0.5) * 0.09
    cv = -0.65 + (math.floor((-0.2 + 0.65) / 0.13) + 0.5) * 0.13
    assert pal.shape == (2, 2)
    assert pal[0].tolist() == pytest.approx([cu, cv], abs=1e-6)
    assert abs(pal[1, 0] + 0.3) < 0.045 and abs(pal[1, 1] - 0.4) < 0.065
    with pytest.raises(ColorkitError, match="only 3"):
        q.yuv_palette(_ab(*uv), n=4)


def test_quantize_and_decode_uv_on_a_photo():
    from skimage import data

    from colorkit.color import rgb_to_yuv

    rgb = torch.from_numpy(data.astronaut()[::8, ::8].copy()).permute(2, 0, 1)[None].float() / 255
    uv = rgb_to_yuv(rgb)[:, 1:]  # (1, 2, 64, 64)
    pal = q.yuv_palette(uv, n=16, nbins=20)
    idx = q.quantize_uv(uv, pal)
    assert idx.shape == (1, 64, 64) and idx.max() < 16
    err = (pal[idx].permute(0, 3, 1, 2) - uv).abs()
    assert err.mean() < 0.05  # the palette is a fair summary of the photo's colours
    one_hot = torch.nn.functional.one_hot(idx, 16).permute(0, 3, 1, 2).float()
    assert torch.allclose(q.decode_uv(one_hot, pal, T=1.0), pal[idx].permute(0, 3, 1, 2), atol=1e-6)
    z = _random_probs(16)
    assert torch.allclose(q.decode_uv(z, pal, T=0.01), q.decode_mode(z, pal), atol=1e-4)


def test_prior_shift_undoes_rebalancing_and_is_identity_at_the_trained_lambda():
    prior = torch.tensor([0.7, 0.2, 0.1])
    p = torch.tensor([0.5, 0.3, 0.2]).view(3, 1, 1)
    assert torch.allclose(q.prior_shift(p, prior, 0.5, 0.5), p)
    w = q.rebalance_weights(prior, lam=0.5)
    tilted = p * w.view(3, 1, 1) / (p * w.view(3, 1, 1)).sum()  # what a rebalanced optimum would give
    assert torch.allclose(q.prior_shift(tilted, prior, 0.5, 1.0), p, atol=1e-6)  # λ' = 1: no rebalancing
    more = q.prior_shift(p, prior, 1.0, 0.5)
    assert more[0] < p[0] and more[2] > p[2]  # rebalancing moves mass to the rare bins
    batch = q.prior_shift(p[None].repeat(2, 1, 4, 4), prior, 0.5, 1.0)
    assert batch.shape == (2, 3, 4, 4) and torch.allclose(batch.sum(1), torch.ones(2, 4, 4))
    with pytest.raises(ColorkitError):
        q.prior_shift(torch.ones(4, 2, 2), prior, 0.5, 1.0)


def test_confidence_maps_of_certain_and_uniform_pixels():
    p = torch.zeros(4, 1, 2)
    p[2, 0, 0] = 1.0          # a certain pixel
    p[:, 0, 1] = 0.25         # a uniform one
    top, ent = q.confidence(p)
    assert top.shape == ent.shape == (1, 2)
    assert torch.allclose(top, torch.tensor([[1.0, 0.25]]))
    assert torch.allclose(ent, torch.tensor([[0.0, 1.0]]), atol=1e-6)
    top2, ent2 = q.confidence(p[None].repeat(3, 1, 1, 1))
    assert top2.shape == (3, 1, 2) and torch.allclose(ent2[1], ent)
    with pytest.raises(ColorkitError):
        q.confidence(torch.ones(1, 2, 2))
