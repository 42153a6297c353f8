"""Flicker, measured: the colour distribution consistency (CDC) of a colorized video.

CDC (Liu et al., "Temporally consistent video colorization with deep feature
propagation and self-regularization learning" (TCVC), 2021; used again by ColorMNet, 2024)
compares the colour *histograms* of nearby frames, so it needs no ground truth:

    JS_d(t) = 1/3 * sum over c in {R, G, B} of JSD(h_c(frame t), h_c(frame t + d))
    CDC     = 1/3 * sum over d in {1, 2, 4} of mean over t of JS_d(t)

``h_c`` is the normalised 256-bin histogram of channel c; JSD is the Jensen-Shannon
divergence in nats, ``0.5 KL(p || m) + 0.5 KL(q || m)`` with ``m = (p + q) / 2`` (between
0 and ln 2). A video whose colours flicker from frame to frame has a high CDC; a still
video has CDC 0. Lower is better, but a grey video scores low too: read CDC next to a
fidelity measure such as PSNR against the colour original
(:func:`colorkit.metrics.psnr` takes a (T, H, W, 3) stack and gives one value per frame).

Frames are uint8 arrays (T, H, W, 3) or a list of (H, W, 3).
"""

from __future__ import annotations

import numpy as np

from colorkit.errors import ColorkitError

CDC_DILATIONS = (1, 2, 4)


def _frames(frames) -> np.ndarray:
    arr = frames if isinstance(frames, np.ndarray) else np.stack(list(frames)) if len(frames) else None
    if arr is None or arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        got = "no frames" if arr is None else f"{arr.dtype} {arr.shape}"
        raise ColorkitError(f"expected uint8 frames of shape (T, H, W, 3), got {got}")
    return arr


def channel_histograms(frames) -> np.ndarray:
    """uint8 frames (T, H, W, 3) -> normalised 256-bin histograms per channel, (T, 3, 256) float64."""
    arr = _frames(frames)
    T = arr.shape[0]
    flat = arr.reshape(T, -1, 3)
    offsets = (np.arange(T)[:, None] * 3 + np.arange(3)[None, :]) * 256  # (T, 3): one bin range per (t, c)
    counts = np.bincount((flat.astype(np.int64) + offsets[:, None, :]).ravel(), minlength=T * 3 * 256)
    hist = counts.reshape(T, 3, 256).astype(np.float64)
    return hist / flat.shape[1]


def js_divergence(p, q) -> np.ndarray:
    """Jensen-Shannon divergence in nats between distributions along the last axis (0 <= JSD <= ln 2).

    ``p`` and ``q`` are non-negative and each sums to 1 along the last axis; empty bins count 0.
    """
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape:
        raise ColorkitError(f"js_divergence: shapes differ, {p.shape} vs {q.shape}")
    if (p < 0).any() or (q < 0).any():
        raise ColorkitError("js_divergence: probabilities must be non-negative")
    if not (np.allclose(p.sum(-1), 1, atol=1e-6) and np.allclose(q.sum(-1), 1, atol=1e-6)):
        raise ColorkitError("js_divergence: each distribution must sum to 1 along the last axis")
    m = 0.5 * (p + q)

    def kl(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log(a / np.where(b > 0, b, 1.0)), 0.0).sum(-1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def js_curve(frames, dilation: int = 1, hists: np.ndarray | None = None) -> np.ndarray:
    """JS_d(t) for t = 0 .. T - 1 - d: the channel-mean JSD between frame t and t + d, (T - d,)."""
    h = channel_histograms(frames) if hists is None else hists
    if isinstance(dilation, bool) or not isinstance(dilation, (int, np.integer)) or dilation < 1:
        raise ColorkitError(f"dilation must be a positive integer, got {dilation!r}")
    if h.shape[0] <= dilation:
        raise ColorkitError(f"CDC at dilation {dilation} needs more than {dilation} frames, got {h.shape[0]}")
    return js_divergence(h[:-dilation], h[dilation:]).mean(axis=1)


def cdc(frames, dilations=CDC_DILATIONS) -> float:
    """Colour distribution consistency: the mean of ``js_curve(frames, d).mean()`` over ``dilations``."""
    h = channel_histograms(frames)
    return float(np.mean([js_curve(None, d, hists=h).mean() for d in dilations]))

