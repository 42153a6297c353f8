"""How good is a colorization? One metric suite for every method.

* **PSNR, SSIM** on sRGB in [0, 1]: closeness to the one true photo. They
  reward safe, greyish guesses, so they are not the whole story.
* **AuC** (Zhang et al. 2016, Table 1): the share of pixels whose ab error is
  within t, swept over t = 0..150, averaged. The *rebalanced* AuC weights each
  pixel by the inverse prior of its true colour's bin, so rare colours count as
  much as common ones (a grey guess scores well on plain AuC, badly here).
* **Colorfulness** (Hasler & Süsstrunk 2003) and the **chroma ratio**
  mean|ab|_pred / mean|ab|_true: how vivid the output is, and whether it is
  as vivid as the truth (< 1 means desaturated).

Images are numpy arrays channels-last, uint8 (H, W, 3) or (N, H, W, 3) in
0-255 (float arrays are read as [0, 1]), or torch tensors channels-first,
(3, H, W) or (N, 3, H, W) in [0, 1]. ab planes are (N, 2, H, W) or (2, H, W),
tensors or arrays. Per-image metrics return a float for one image and an
array (N,) for a batch.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import torch

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write

# --- inputs ------------------------------------------------------------------------------------


def _as_images(x, name: str) -> tuple[np.ndarray, bool]:
    """Image(s) -> (float64 array (N, H, W, 3) in [0, 1], was_single)."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        single = t.ndim == 3
        if single:
            t = t[None]
        if t.ndim != 4 or t.shape[1] != 3:
            raise ColorkitError(f"{name}: expected a tensor (3, H, W) or (N, 3, H, W), got {tuple(x.shape)}")
        arr = t.permute(0, 2, 3, 1).numpy()
    elif isinstance(x, np.ndarray):
        single = x.ndim == 3
        arr = x[None] if single else x
        if arr.ndim != 4 or arr.shape[3] != 3:
            raise ColorkitError(f"{name}: expected an array (H, W, 3) or (N, H, W, 3), got {x.shape}")
    else:
        raise ColorkitError(f"{name}: expected a numpy array or torch tensor, got {type(x).__name__}")
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    return arr.astype(np.float64) / scale, single


def _pair(pred, true, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    p, single = _as_images(pred, name)
    t, _ = _as_images(true, name)
    if p.shape != t.shape:
        raise ColorkitError(f"{name}: prediction {p.shape[1:3]} x {len(p)} and truth {t.shape[1:3]} x {len(t)} differ")
    return p, t, single


def _per_image(values: list[float], single: bool):
    return values[0] if single else np.asarray(values)


def _as_ab(x, name: str) -> np.ndarray:
    """ab plane(s) -> float64 array (N, 2, H, W)."""
    arr = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1] != 2:
        raise ColorkitError(f"{name}: expected ab of shape (N, 2, H, W) or (2, H, W), got {arr.shape}")
    return arr


# --- PSNR and SSIM ------------------------------------------------------------------------------


def psnr(pred_rgb, true_rgb):
    """Peak signal-to-noise ratio in dB per image, peak 1: 10·log10(1 / MSE) (inf when identical)."""
    p, t, single = _pair(pred_rgb, true_rgb, "psnr")
    mse = ((p - t) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        values = [float(10 * np.log10(1.0 / m)) if m > 0 else math.inf for m in mse]
    return _per_image(values, single)


def ssim(pred_rgb, true_rgb):
    """Structural similarity per image: ``skimage.metrics.structural_similarity`` with its defaults
    (7x7 uniform window), ``channel_axis=-1``, ``data_range=1``, averaged over R, G, B."""
    from skimage.metrics import structural_similarity

    p, t, single = _pair(pred_rgb, true_rgb, "ssim")
    if min(p.shape[1:3]) < 7:
        raise ColorkitError(f"ssim: images must be at least 7x7 pixels, got {p.shape[1]}x{p.shape[2]}")
    values = [float(structural_similarity(a, b, channel_axis=-1, data_range=1.0)) for a, b in zip(p, t)]
    return _per_image(values, single)


# --- AuC of the cumulative ab error ---------------------------------------------------------------


def rebalanced_pixel_weights(true_ab, bins, prior) -> np.ndarray:
    """Per-pixel weights (N, H, W) for the rebalanced AuC: 1 / p[bin nearest the true ab].

    Bins with p = 0 are given the smallest positive prior (a finite, large weight).
    """
    from colorkit.quantize import nearest_bin

    ab = torch.from_numpy(_as_ab(true_ab, "rebalanced_pixel_weights")).float()
    p = torch.as_tensor(prior, dtype=torch.float64).flatten()
    if len(p) != len(bins) or (p < 0).any() or not (p > 0).any():
        raise ColorkitError(f"rebalanced_pixel_weights: prior must be non-negative with {len(bins)} entries, one per bin")
    p = torch.where(p > 0, p, p[p > 0].min())
    return (1.0 / p)[nearest_bin(ab, bins)].numpy()


def ab_error_histogram(pred_ab, true_ab, max_threshold: int = 150, weights=None) -> np.ndarray:
    """Weighted counts (max_threshold + 2,) of pixels by ⌈ab error⌉: entry k < T+1 holds errors in (k-1, k],
    the last entry every error above T. Sums of these over images give a pooled AuC (:func:`auc_from_histogram`)."""
    p, t = _as_ab(pred_ab, "auc_ab"), _as_ab(true_ab, "auc_ab")
    if p.shape != t.shape:
        raise ColorkitError(f"auc_ab: prediction {p.shape} and truth {t.shape} differ in shape")
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
    imgs, single = _as_images(rgb, "colorfulness")
    x = imgs * 255.0
    rg = x[..., 0] - x[..., 1]  # (N, H, W)
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    if variant == "abs":
        rg, yb = np.abs(rg), np.abs(yb)
    sigma = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    mu = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return _per_image([float(v) for v in sigma + 0.3 * mu], single)


def chroma_ratio(pred_ab, true_ab) -> float:
    """mean |ab|_pred / mean |ab|_true over all pixels, |ab| = sqrt(a² + b²); < 1 is desaturated (nan if truth is grey)."""
    p, t = _as_ab(pred_ab, "chroma_ratio"), _as_ab(true_ab, "chroma_ratio")
    den = np.sqrt((t**2).sum(axis=1)).mean()
    return float(np.sqrt((p**2).sum(axis=1)).mean() / den) if den > 0 else math.nan


# --- a whole evaluation --------------------------------------------------------------------------------


def _check_uint8(img, what: str, i: int) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"{img.dtype} {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise ColorkitError(f"evaluate_images: {what} #{i} must be a uint8 RGB array (H, W, 3), got {got}")
    return img


def _lab(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> Lab (1, 3, H, W) float64."""
    from colorkit.color import rgb_to_lab

    return rgb_to_lab(torch.from_numpy(np.require(img, requirements=("C", "W"))).permute(2, 0, 1)[None].double() / 255.0)


def evaluate_images(preds, trues, bins=None, prior=None, max_threshold: int = 150, progress: bool = True) -> dict:
    """All metrics for lists of (prediction, truth) uint8 RGB images (H, W, 3), one row of a table.

    Returns ``{"psnr", "ssim", "colorfulness"}`` (means over images),
    ``"auc"`` and ``"chroma_ratio"`` (pooled over all pixels of all images),
    ``"auc_rebal"`` when ``bins`` and ``prior`` are given, and ``"n_images"``.
    ab comes from the images themselves (sRGB -> Lab), as a reader would see them.
    """
    from tqdm.auto import tqdm

    if len(preds) != len(trues) or len(preds) == 0:
        raise ColorkitError(f"evaluate_images: need equally many predictions and truths, got {len(preds)} and {len(trues)}")
    rebal = bins is not None and prior is not None
    ps, ss, cs = [], [], []
    hist = np.zeros(max_threshold + 2)
    hist_rebal = np.zeros(max_threshold + 2)
    chroma_pred = chroma_true = 0.0
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
    row = {
        "psnr": float(np.mean(ps)),
        "ssim": float(np.mean(ss)),
        "auc": auc_from_histogram(hist),
    }
    if rebal:
        row["auc_rebal"] = auc_from_histogram(hist_rebal)
    row["colorfulness"] = float(np.mean(cs))
    row["chroma_ratio"] = chroma_pred / chroma_true if chroma_true > 0 else math.nan
    row["n_images"] = len(preds)
    return row


def grey_image(rgb: np.ndarray) -> np.ndarray:
    """The grey version of a uint8 RGB image (H, W, 3): same Lab lightness, ab = 0."""
    from colorkit.color import lab_to_rgb, tensor_to_image

    lab = _lab(_check_uint8(rgb, "image", 0))
    lab[:, 1:] = 0.0
    return tensor_to_image(lab_to_rgb(lab))


def grey_baseline(trues, **kwargs) -> dict:
    """The reference row: the grey images (ab = 0) scored against the truths, as :func:`evaluate_images`."""
    return evaluate_images([grey_image(t) for t in trues], trues, **kwargs)


# --- tables ------------------------------------------------------------------------------------------------

COLUMN_TITLES = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "auc": "AuC",
    "auc_rebal": "AuC rebal.",
    "colorfulness": "colourfulness",
    "chroma_ratio": "chroma ratio",
    "n_images": "images",
}


def _columns(rows: dict[str, dict]) -> list[str]:
    cols: list[str] = []
    for row in rows.values():
        cols += [k for k, v in row.items() if k not in cols and isinstance(v, (int, float, np.number, str))]
    return cols


def _fmt(value, spec: str) -> str:
    """A table cell: empty for missing, integers as they are, floats with ``spec`` (e.g. ".3f")."""
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return format(float(value), spec)


def metric_table(rows: dict[str, dict], fmt: str = "md", digits: int = 3) -> str:
    """A table of ``{method name: metrics row}`` as Markdown (``fmt="md"``) or CSV (``fmt="csv"``) text.

    Columns are every scalar key, in order of first appearance; a missing value
    is left empty. Markdown rounds to ``digits`` decimals; CSV keeps 6
    significant digits.
    """
    cols = _columns(rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["method", *cols])
        for name, row in rows.items():
            w.writerow([name, *(_fmt(row.get(c), ".6g") for c in cols)])
        return buf.getvalue()
    if fmt != "md":
        raise ColorkitError(f"metric_table: fmt must be 'md' or 'csv', not {fmt!r}")
    head = ["method", *(COLUMN_TITLES.get(c, c) for c in cols)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * len(cols)]
    for name, row in rows.items():
        cells = [str(name).replace("|", "\\|"), *(_fmt(row.get(c), f".{digits}f") for c in cols)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(rows: dict[str, dict], path_csv, path_md, digits: int = 3) -> None:
    """Write the table of ``rows`` to ``path_csv`` and ``path_md`` (each atomically)."""
    atomic_write(Path(path_csv), metric_table(rows, "csv"))
    atomic_write(Path(path_md), metric_table(rows, "md", digits))
