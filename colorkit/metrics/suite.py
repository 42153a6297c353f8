"""A whole evaluation: every metric for a list of (prediction, truth) photos, one row of a table.

Metrics that are shares of pixels (AuC, chroma ratio, false colour, vivid hue)
are pooled over all pixels of all images; PSNR, SSIM and colourfulness are
means over images. :func:`grey_baseline` is the reference row a table starts with.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import torch
from tqdm.auto import tqdm

from colorkit.color import lab_to_rgb, rgb_to_lab, tensor_to_image
from colorkit.errors import ColorkitError
from colorkit.metrics.pixels import (
    _chroma_hue,
    ab_error_histogram,
    colorfulness,
    false_colour_counts,
    psnr,
    rebalanced_pixel_weights,
    ssim,
    vivid_hue_counts,
)
from colorkit.metrics.semantic import semantic_hits
from colorkit.metrics.stats import bootstrap_interval


def _check_uint8(img, what: str, i: int) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"{img.dtype} {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise ColorkitError(f"evaluate_images: {what} #{i} must be a uint8 RGB array (H, W, 3), got {got}")
    return img


def _lab(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> Lab (1, 3, H, W) float64."""
    rgb = torch.from_numpy(np.require(img, requirements=("C", "W"))).permute(2, 0, 1)[None]  # (1, 3, H, W) uint8
    return rgb_to_lab(rgb.double() / 255.0)


_TRUTH_CACHE: OrderedDict[str, tuple] = OrderedDict()
TRUTH_CACHE_SIZE = 64  # a notebook scores several models against the same photos: each truth is converted once


def _truth(img: np.ndarray) -> tuple[torch.Tensor, tuple[np.ndarray, np.ndarray]]:
    """A truth's ab (1, 2, H, W) float64 and its (chroma, hue) (1, H, W), cached for the last 64 truths."""
    key = hashlib.sha1(memoryview(np.ascontiguousarray(img)).cast("B")).hexdigest() + str(img.shape)
    if key not in _TRUTH_CACHE:
        ab = _lab(img)[:, 1:].contiguous()
        _TRUTH_CACHE[key] = (ab, _chroma_hue(ab.numpy()))
        while len(_TRUTH_CACHE) > TRUTH_CACHE_SIZE:
            _TRUTH_CACHE.popitem(last=False)
    _TRUTH_CACHE.move_to_end(key)
    return _TRUTH_CACHE[key]


def image_parts(preds, trues, bins=None, prior=None, max_threshold: int = 150, progress: bool = True,
                semantic: bool = False) -> dict:
    """Each image's share of every metric, arrays over images (N, ...), so that any subset of the images
    (a bootstrap resample, a category) can be scored the way :func:`evaluate_images` scores them all.

    Keys: ``psnr``, ``ssim``, ``colorfulness`` (N,); ``hist`` (N, T + 2) of ab errors and ``hist_rebal``
    (or None); ``chroma_pred``, ``chroma_true``, ``false_hits``, ``false_total``, ``vivid_hits``,
    ``vivid_total`` (N,) pixel sums; with ``semantic=True`` also ``semantic_top1`` and ``semantic_top5``
    (N,) of 0 / 1 (:func:`colorkit.metrics.semantic.semantic_hits`). :func:`row_from_parts` pools them.
    """
    if len(preds) != len(trues) or len(preds) == 0:
        raise ColorkitError("evaluate_images: need equally many predictions and truths, "
                            f"got {len(preds)} and {len(trues)}")
    rebal = bins is not None and prior is not None
    n = len(preds)
    parts = {k: np.zeros(n) for k in ("psnr", "ssim", "colorfulness", "chroma_pred", "chroma_true", "false_hits",
                                      "false_total", "vivid_hits", "vivid_total")}
    parts["hist"] = np.zeros((n, max_threshold + 2))
    parts["hist_rebal"] = np.zeros((n, max_threshold + 2)) if rebal else None
    pairs = tqdm(list(zip(preds, trues)), desc="metrics", leave=False, disable=not progress)
    for i, (pred, true) in enumerate(pairs):
        _check_uint8(pred, "prediction", i)
        _check_uint8(true, "truth", i)
        if pred.shape != true.shape:
            raise ColorkitError(f"evaluate_images: prediction #{i} is {pred.shape}, its truth {true.shape}")
        parts["psnr"][i] = psnr(pred, true)
        parts["ssim"][i] = ssim(pred, true)
        parts["colorfulness"][i] = colorfulness(pred)
        ab_p = _lab(pred)[:, 1:]  # (1, 2, H, W)
        ab_t, ch_t = _truth(true)
        ch_p = _chroma_hue(ab_p.numpy())
        parts["hist"][i] = ab_error_histogram(ab_p, ab_t, max_threshold)
        if rebal:
            parts["hist_rebal"][i] = ab_error_histogram(ab_p, ab_t, max_threshold,
                                                        rebalanced_pixel_weights(ab_t, bins, prior))
        parts["chroma_pred"][i] = float(ch_p[0].sum())
        parts["chroma_true"][i] = float(ch_t[0].sum())
        parts["false_hits"][i], parts["false_total"][i] = false_colour_counts(None, None, chroma_hue=(ch_p, ch_t))
        parts["vivid_hits"][i], parts["vivid_total"][i] = vivid_hue_counts(None, None, chroma_hue=(ch_p, ch_t))
    if semantic:
        parts["semantic_top1"], parts["semantic_top5"] = semantic_hits(list(preds), list(trues))
    return parts


def row_from_parts(parts: dict, idx=None) -> dict:
    """The metric row of the images ``idx`` (indices, repeats allowed; default all) of :func:`image_parts`:
    means over images for PSNR, SSIM and colourfulness, pooled pixel counts for the rest
    (:func:`rows_from_resamples` with one resample)."""
    idx = np.arange(len(parts["psnr"])) if idx is None else np.asarray(idx, dtype=np.int64)
    if parts["hist"][idx].sum() <= 0:
        raise ColorkitError("auc_ab: no pixels (or all weights zero)")
    return {k: float(v[0]) for k, v in rows_from_resamples(parts, idx[None]).items()}


def rows_from_resamples(parts: dict, idx: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`row_from_parts` for many resamples at once: ``idx`` (R, n) image indices -> metric -> (R,) values.

    Each resample is a count per image (R, n_images); every pooled sum and mean over images is then one
    matrix product with the per-image parts, so 2000 resamples cost about as much as a few rows.
    """
    idx = np.asarray(idx, dtype=np.int64)
    R, n = idx.shape
    counts = np.zeros((R, len(parts["psnr"])))
    np.add.at(counts, (np.repeat(np.arange(R), n), idx.ravel()), 1.0)

    def total(key):
        return counts @ parts[key]

    def auc(hist):  # (R, T + 2) -> (R,), as auc_from_histogram row by row
        sums = counts @ hist
        return (np.cumsum(sums[:, :-1], axis=1) / sums.sum(axis=1, keepdims=True)).mean(axis=1)

    def share(hits, whole):
        num, den = total(hits), total(whole)
        return np.divide(num, den, out=np.full(R, np.nan), where=den > 0)

    rows = {"psnr": total("psnr") / n, "ssim": total("ssim") / n, "auc": auc(parts["hist"])}
    if parts["hist_rebal"] is not None:
        rows["auc_rebal"] = auc(parts["hist_rebal"])
    rows["colorfulness"] = total("colorfulness") / n
    rows["chroma_ratio"] = share("chroma_pred", "chroma_true")
    rows["false_colour"] = share("false_hits", "false_total")
    rows["vivid_hue"] = share("vivid_hits", "vivid_total")
    for key in ("semantic_top1", "semantic_top5"):
        if key in parts:
            rows[key] = total(key) / n
    return rows


def metric_intervals(parts: dict, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Bootstrap ``level`` intervals over images of every metric of :func:`row_from_parts`: metric -> (low, high).

    The photos are resampled with replacement and every metric recomputed on the resample (pooled ones
    pooled again), ``n_resamples`` times (:func:`colorkit.metrics.stats.bootstrap_interval`, percentile
    method; all resamples at once through :func:`rows_from_resamples`); seeded, so the same parts give the
    same intervals.
    """
    keys = list(row_from_parts(parts))
    low, high = bootstrap_interval(len(parts["psnr"]),
                                   lambda idx: np.stack([rows_from_resamples(parts, idx)[k] for k in keys]),
                                   n_resamples=n_resamples, level=level, seed=seed, vectorized=True)
    return {k: (float(lo), float(hi)) for k, lo, hi in zip(keys, low, high)}


def paired_difference(parts_a: dict, parts_b: dict, metric: str, n_resamples: int = 2000,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """``metric`` of A minus that of B, two methods scored on the same photos (their :func:`image_parts`), with a
    bootstrap ``level`` interval that resamples the photos once for both: a paired comparison, in which the
    photos' own difficulty cancels. Returns (difference, low, high)."""
    n = len(parts_a["psnr"])
    if len(parts_b["psnr"]) != n:
        raise ColorkitError(f"paired_difference: the two methods were scored on {n} and {len(parts_b['psnr'])} photos; "
                            "a paired comparison needs the same photos")
    low, high = bootstrap_interval(
        n, lambda idx: rows_from_resamples(parts_a, idx)[metric] - rows_from_resamples(parts_b, idx)[metric],
        n_resamples=n_resamples, level=level, seed=seed, vectorized=True)
    return row_from_parts(parts_a)[metric] - row_from_parts(parts_b)[metric], float(low), float(high)


def evaluate_images(preds, trues, bins=None, prior=None, max_threshold: int = 150, progress: bool = True,
                    semantic: bool = False) -> dict:
    """All metrics for lists of (prediction, truth) uint8 RGB images (H, W, 3), one row of a table.

    Returns ``{"psnr", "ssim", "colorfulness"}`` (means over images),
    ``"auc"``, ``"chroma_ratio"``, ``"false_colour"`` and ``"vivid_hue"``
    (pooled over all pixels of all images), ``"auc_rebal"`` when ``bins`` and
    ``prior`` are given, ``"semantic_top1"`` and ``"semantic_top5"`` when
    ``semantic=True`` (:func:`semantic_agreement`, one classifier pass per
    image, so opt-in), and ``"n_images"``.
    ab comes from the images themselves (sRGB -> Lab), as a reader would see them.
    """
    row = row_from_parts(image_parts(preds, trues, bins, prior, max_threshold, progress, semantic))
    row["n_images"] = len(preds)
    return row


def grey_image(rgb: np.ndarray) -> np.ndarray:
    """The grey version of a uint8 RGB image (H, W, 3): same Lab lightness, ab = 0."""
    lab = _lab(_check_uint8(rgb, "image", 0))
    lab[:, 1:] = 0.0
    return tensor_to_image(lab_to_rgb(lab))


def grey_baseline(trues, **kwargs) -> dict:
    """The reference row: the grey images (ab = 0) scored against the truths, as :func:`evaluate_images`."""
    return evaluate_images([grey_image(t) for t in trues], trues, **kwargs)
