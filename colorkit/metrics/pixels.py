"""Per-pixel metrics: how close, how vivid, and how right in hue a colorization is.

* **PSNR, SSIM** on sRGB in [0, 1]: closeness to the one true photo.
* **AuC** of the cumulative ab error (Zhang et al. 2016, Table 1), plain and
  rebalanced; its histogram lets a caller pool over many images.
* **Colourfulness** (Hasler & Süsstrunk 2003) and the **chroma ratio**.
* **False-colour rate** and **vivid-hue accuracy**, on chroma and hue in Lab.

Inputs as in :mod:`colorkit.metrics.inputs`.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict

import numpy as np
import torch

from colorkit.errors import ColorkitError
from colorkit.metrics.inputs import ab_pair, as_ab, as_images, image_pair, per_image
from colorkit.quantize import nearest_bin

# --- PSNR and SSIM ------------------------------------------------------------------------------


def psnr(pred_rgb, true_rgb):
    """Peak signal-to-noise ratio in dB per image, peak 1: 10·log10(1 / MSE) (inf when identical)."""
    p, t, single = image_pair(pred_rgb, true_rgb, "psnr")
    mse = ((p - t) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        values = [float(10 * np.log10(1.0 / m)) if m > 0 else math.inf for m in mse]
    return per_image(values, single)


def ssim(pred_rgb, true_rgb):
    """Structural similarity per image: ``skimage.metrics.structural_similarity`` with its defaults
    (7x7 uniform window), ``channel_axis=-1``, ``data_range=1``, averaged over R, G, B; computed in float32
    (twice as fast as float64, and the same to 1e-6)."""
    from skimage.metrics import structural_similarity

    p, t, single = image_pair(pred_rgb, true_rgb, "ssim")
    if min(p.shape[1:3]) < 7:
        raise ColorkitError(f"ssim: images must be at least 7x7 pixels, got {p.shape[1]}x{p.shape[2]}")
    p, t = p.astype(np.float32), t.astype(np.float32)
    values = [float(structural_similarity(a, b, channel_axis=-1, data_range=1.0)) for a, b in zip(p, t)]
    return per_image(values, single)


# --- AuC of the cumulative ab error ---------------------------------------------------------------


_WEIGHTS_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
WEIGHTS_CACHE_SIZE = 64  # a notebook scores several models on the same truths: their weights are computed once


def rebalanced_pixel_weights(true_ab, bins, prior) -> np.ndarray:
    """Per-pixel weights (N, H, W) for the rebalanced AuC: 1 / p[bin nearest the true ab].

    Bins with p = 0 are given the smallest positive prior (a finite, large weight). The weights
    of the last :data:`WEIGHTS_CACHE_SIZE` (truth, bins, prior) are kept: scoring several models
    against the same photos finds the nearest bins once.
    """
    true_ab = as_ab(true_ab, "rebalanced_pixel_weights")
    p = torch.as_tensor(prior, dtype=torch.float64).flatten()
    if len(p) != len(bins) or (p < 0).any() or not (p > 0).any():
        raise ColorkitError(f"rebalanced_pixel_weights: prior must be non-negative with {len(bins)} entries, "
                            "one per bin")
    b = np.ascontiguousarray(torch.as_tensor(bins, dtype=torch.float32).numpy())
    key = hashlib.sha1(np.ascontiguousarray(true_ab).tobytes() + str(true_ab.shape).encode()
                       + b.tobytes() + p.numpy().tobytes()).hexdigest()
    if key not in _WEIGHTS_CACHE:
        p = torch.where(p > 0, p, p[p > 0].min())
        _WEIGHTS_CACHE[key] = (1.0 / p)[nearest_bin(torch.from_numpy(true_ab).float(), bins)].numpy()
        while len(_WEIGHTS_CACHE) > WEIGHTS_CACHE_SIZE:
            _WEIGHTS_CACHE.popitem(last=False)
    _WEIGHTS_CACHE.move_to_end(key)
    return _WEIGHTS_CACHE[key].copy()


def ab_error_histogram(pred_ab, true_ab, max_threshold: int = 150, weights=None) -> np.ndarray:
    """Weighted counts (max_threshold + 2,) of pixels by ⌈ab error⌉: entry k < T+1 holds errors in (k-1, k],
    the last entry every error above T. Sums of these over images give a pooled AuC (:func:`auc_from_histogram`)."""
    p, t = ab_pair(pred_ab, true_ab, "auc_ab")
    err = np.sqrt(((p - t) ** 2).sum(axis=1)).ravel()  # (N*H*W,) Euclidean ab error
    k = np.minimum(np.ceil(err), max_threshold + 1).astype(np.int64)
    w = None
    if weights is not None:
        try:
            w = np.broadcast_to(np.asarray(weights, dtype=np.float64), p[:, 0].shape).ravel()  # (N, H, W) -> flat
        except ValueError:
            raise ColorkitError(f"auc_ab: weights {np.shape(weights)} do not fit the pixels {p[:, 0].shape}") from None
    return np.bincount(k, weights=w, minlength=max_threshold + 2).astype(np.float64)


def auc_from_histogram(hist: np.ndarray) -> float:
    """AuC = mean over t = 0..T of F(t), F(t) = share (weighted) of pixels with error <= t."""
    hist = np.asarray(hist, dtype=np.float64)
    if hist.sum() <= 0:
        raise ColorkitError("auc_ab: no pixels (or all weights zero)")
    return float((np.cumsum(hist[:-1]) / hist.sum()).mean())


def auc_ab(pred_ab, true_ab, max_threshold: int = 150, weights=None, bins=None, prior=None) -> float:
    """Area under the cumulative ab-error curve, in [0, 1] (Zhang et al. 2016, Table 1), pooled over all pixels.

    Exact discrete formula, with e_i = ‖ab_pred - ab_true‖₂ per pixel and
    thresholds t = 0, 1, ..., T (T = ``max_threshold``)::

        F(t) = Σ_i w_i [e_i <= t] / Σ_i w_i,     AuC = (1 / (T + 1)) Σ_{t=0..T} F(t)

    so a perfect prediction scores 1 and a constant error e in [0, T] scores
    (T + 1 - ⌈e⌉) / (T + 1) (≈ (150 - e) / 150). Plain AuC: w_i = 1.
    Rebalanced: pass ``bins`` (Q, 2) and ``prior`` (Q,), and w_i = 1 / p[q_i]
    where q_i is the bin nearest the true ab (:func:`rebalanced_pixel_weights`);
    if the prior is the test set's own bin frequencies, every colour bin then
    weighs the same in total. Or pass per-pixel ``weights`` (N, H, W) directly.
    """
    if bins is not None or prior is not None:
        if bins is None or prior is None or weights is not None:
            raise ColorkitError("auc_ab: give both bins and prior (rebalanced), or per-pixel weights, not a mix")
        weights = rebalanced_pixel_weights(true_ab, bins, prior)
    return auc_from_histogram(ab_error_histogram(pred_ab, true_ab, max_threshold, weights))


# --- colourfulness and chroma -----------------------------------------------------------------------


def colorfulness(rgb, variant: str = "paper"):
    """Hasler & Süsstrunk (2003) colourfulness M^(3) per image, RGB in 0-255 units.

    With rg = R - G and yb = (R + G)/2 - B over the pixels::

        M = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²)

    ``variant="paper"`` (default) uses the signed opponent values, as the
    paper defines them: μ is the image's colour cast and σ the spread of its
    hues. ``variant="abs"`` is the widespread code variant that takes |rg| and
    |yb| first; it cannot tell hues on opposite sides of grey apart — an image
    half pure red, half pure green scores 85.5 there, exactly like an all-red
    one, but 293.3 with the paper's formula. We report the paper's. σ is the
    population standard deviation. Grey gives 0.
    """
    if variant not in ("paper", "abs"):
        raise ColorkitError(f"colorfulness: variant must be 'paper' or 'abs', not {variant!r}")
    imgs, single = as_images(rgb, "colorfulness")
    x = imgs * 255.0
    rg = x[..., 0] - x[..., 1]  # (N, H, W)
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    if variant == "abs":
        rg, yb = np.abs(rg), np.abs(yb)
    sigma = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    mu = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return per_image([float(v) for v in sigma + 0.3 * mu], single)


def chroma_ratio(pred_ab, true_ab) -> float:
    """mean |ab|_pred / mean |ab|_true over all pixels, |ab| = sqrt(a² + b²); < 1 is desaturated
    (nan if the truth is grey)."""
    p, t = as_ab(pred_ab, "chroma_ratio"), as_ab(true_ab, "chroma_ratio")
    den = np.sqrt((t**2).sum(axis=1)).mean()
    return float(np.sqrt((p**2).sum(axis=1)).mean() / den) if den > 0 else math.nan


# --- false colour and vivid hue ------------------------------------------------------------------------


def _chroma_hue(ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ab (N, 2, H, W) -> chroma sqrt(a² + b²) and hue atan2(b, a) in degrees, each (N, H, W)."""
    return np.hypot(ab[:, 0], ab[:, 1]), np.degrees(np.arctan2(ab[:, 1], ab[:, 0]))


def false_colour_counts(p: np.ndarray, t: np.ndarray, grey: float = 10.0,
                        coloured: float = 20.0, *, chroma_hue=None) -> tuple[int, int]:
    """(pixels with true chroma < grey coming out with chroma > coloured, pixels with true chroma < grey),
    for ab (N, 2, H, W); sums of these over images pool the rate (:func:`colorkit.metrics.evaluate_images`).
    ``chroma_hue``: ((pred chroma, hue), (true chroma, hue)) if already computed (then ``p``, ``t`` are unused)."""
    (pc, _), (tc, _) = chroma_hue or (_chroma_hue(p), _chroma_hue(t))
    mask = tc < grey
    return int((pc[mask] > coloured).sum()), int(mask.sum())


def vivid_hue_counts(p: np.ndarray, t: np.ndarray, vivid: float = 30.0, max_hue_error: float = 30.0,
                     min_chroma: float = 10.0, *, chroma_hue=None) -> tuple[int, int]:
    """(vivid pixels whose hue is within max_hue_error degrees and chroma >= min_chroma, vivid pixels),
    for ab (N, 2, H, W); ``chroma_hue`` as :func:`false_colour_counts`."""
    (pc, ph), (tc, th) = chroma_hue or (_chroma_hue(p), _chroma_hue(t))
    mask = tc >= vivid
    dh = np.abs((ph - th + 180.0) % 360.0 - 180.0)  # angular difference in [0, 180]
    return int(((dh <= max_hue_error) & (pc >= min_chroma))[mask].sum()), int(mask.sum())



def false_colour_rate(pred_ab, true_ab, grey: float = 10.0, coloured: float = 20.0) -> float:
    """Share of the truly grey pixels that come out coloured, pooled over all pixels, in [0, 1].

    With chroma C = sqrt(a² + b²): among pixels whose true C < ``grey`` (10),
    the share whose predicted C > ``coloured`` (20): a grey wall painted
    pink. nan when no pixel is truly grey. Lower is better; the grey output scores 0.
    """
    hits, total = false_colour_counts(*ab_pair(pred_ab, true_ab, "false_colour_rate"), grey, coloured)
    return hits / total if total else math.nan


def vivid_hue_accuracy(pred_ab, true_ab, vivid: float = 30.0, max_hue_error: float = 30.0,
                       min_chroma: float = 10.0) -> float:
    """Share of the truly vivid pixels given the right hue, pooled over all pixels, in [0, 1].

    Among pixels whose true chroma C >= ``vivid`` (30), the share whose
    predicted hue h = atan2(b, a) is within ``max_hue_error`` (30) degrees of
    the true hue *and* whose predicted C >= ``min_chroma`` (10), so a near-grey
    guess does not count as the right hue. nan when no pixel is vivid. Higher
    is better; the grey output scores 0.
    """
    hits, total = vivid_hue_counts(*ab_pair(pred_ab, true_ab, "vivid_hue_accuracy"),
                                   vivid, max_hue_error, min_chroma)
    return hits / total if total else math.nan
