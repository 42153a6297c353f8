"""A whole evaluation: every metric for a list of (prediction, truth) photos, one row of a table.

Metrics that are shares of pixels (AuC, chroma ratio, false colour, vivid hue)
are pooled over all pixels of all images; PSNR, SSIM and colourfulness are
means over images. :func:`grey_baseline` is the reference row a table starts with.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm

from colorkit.color import lab_to_rgb, rgb_to_lab, tensor_to_image
from colorkit.errors import ColorkitError
from colorkit.metrics.pixels import (
    ab_error_histogram,
    auc_from_histogram,
    colorfulness,
    false_colour_counts,
    psnr,
    rebalanced_pixel_weights,
    ssim,
    vivid_hue_counts,
)
from colorkit.metrics.semantic import semantic_agreement


def _check_uint8(img, what: str, i: int) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"{img.dtype} {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise ColorkitError(f"evaluate_images: {what} #{i} must be a uint8 RGB array (H, W, 3), got {got}")
    return img


def _lab(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> Lab (1, 3, H, W) float64."""
    rgb = torch.from_numpy(np.require(img, requirements=("C", "W"))).permute(2, 0, 1)[None]  # (1, 3, H, W) uint8
    return rgb_to_lab(rgb.double() / 255.0)


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
    if len(preds) != len(trues) or len(preds) == 0:
        raise ColorkitError("evaluate_images: need equally many predictions and truths, "
                            f"got {len(preds)} and {len(trues)}")
    rebal = bins is not None and prior is not None
    ps, ss, cs = [], [], []
    hist = np.zeros(max_threshold + 2)
    hist_rebal = np.zeros(max_threshold + 2)
    chroma_pred = chroma_true = 0.0
    false_hits = false_total = vivid_hits = vivid_total = 0
    pairs = tqdm(list(zip(preds, trues)), desc="metrics", leave=False, disable=not progress)
    for i, (pred, true) in enumerate(pairs):
        _check_uint8(pred, "prediction", i)
        _check_uint8(true, "truth", i)
        if pred.shape != true.shape:
            raise ColorkitError(f"evaluate_images: prediction #{i} is {pred.shape}, its truth {true.shape}")
        ps.append(psnr(pred, true))
        ss.append(ssim(pred, true))
        cs.append(colorfulness(pred))
        ab_p, ab_t = _lab(pred)[:, 1:], _lab(true)[:, 1:]  # (1, 2, H, W)
        hist += ab_error_histogram(ab_p, ab_t, max_threshold)
        if rebal:
            hist_rebal += ab_error_histogram(ab_p, ab_t, max_threshold, rebalanced_pixel_weights(ab_t, bins, prior))
        chroma_pred += float(ab_p.pow(2).sum(1).sqrt().sum())
        chroma_true += float(ab_t.pow(2).sum(1).sqrt().sum())
        hits, total = false_colour_counts(ab_p.numpy(), ab_t.numpy())
        false_hits, false_total = false_hits + hits, false_total + total
        hits, total = vivid_hue_counts(ab_p.numpy(), ab_t.numpy())
        vivid_hits, vivid_total = vivid_hits + hits, vivid_total + total
    row = {
        "psnr": float(np.mean(ps)),
        "ssim": float(np.mean(ss)),
        "auc": auc_from_histogram(hist),
    }
    if rebal:
        row["auc_rebal"] = auc_from_histogram(hist_rebal)
    row["colorfulness"] = float(np.mean(cs))
    row["chroma_ratio"] = chroma_pred / chroma_true if chroma_true > 0 else math.nan
    row["false_colour"] = false_hits / false_total if false_total else math.nan
    row["vivid_hue"] = vivid_hits / vivid_total if vivid_total else math.nan
    if semantic:
        agreement = semantic_agreement(list(preds), list(trues))
        row["semantic_top1"], row["semantic_top5"] = agreement["top1"], agreement["top5"]
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
