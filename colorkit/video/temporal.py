"""Temporal consistency for frame-by-frame colorization: two smoothers and a scene-cut detector.

A colorizer that sees one frame at a time picks colours from the context of that frame;
when the context shifts a little (a person steps in, the camera pans) the same grey
object can change colour: flicker. Two remedies, both stateful and fed one frame at a time:

* :class:`TemporalEMA` — ColorUNet's temporal layer (Billaut et al. 2018, seed 000): the
  network's class probabilities averaged over the current frame and the ``T`` before it with exponential weights,
  p̂_t = Σ_{i=0..T} e^{−αi} p_{t−i} / Σ_i e^{−αi}, T = 20, α = 0.2 (normalised so p̂_t is
  again a distribution). Fed chroma instead of probabilities (a regression model), it averages
  the chroma the same way.
* :class:`FlowPropagation` — the previous output chroma is carried along the optical flow
  (OpenCV's Farnebäck) into the current frame and blended with the frame's own prediction,
  trusted where the warped previous frame matches the current one.

Both restart after a scene cut (:class:`CutDetector`): colours of the last shot must not
bleed into the next one.
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np
import torch

from colorkit.errors import ColorkitError

SMOOTHERS = ("none", "ema", "flow")
EMA_T, EMA_ALPHA = 20, 0.2  # ColorUNet's temporal layer
FLOW_BLEND = 0.95  # how much of the flow-carried chroma a perfectly matched pixel keeps
FLOW_SIGMA = 30.0  # grey levels (0-255) of warp error at which trust falls to 1/e
CUT_LAYOUT = 25.0  # grey levels of mean change of a 16 x 8 thumbnail, above which the layout has changed
CUT_LEVELS = 0.15  # total-variation distance of 32-bin grey histograms, above which the grey levels have changed
CUT_BINS, CUT_THUMB = 32, (16, 8)


def ema_weights(T: int = EMA_T, alpha: float = EMA_ALPHA) -> np.ndarray:
    """The temporal layer's weights w_i = e^{−α i}, i = 0..T, normalised to sum to 1; (T + 1,)."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 0:
        raise ColorkitError(f"T must be a non-negative integer, got {T!r}")
    if not math.isfinite(alpha) or alpha < 0:
        raise ColorkitError(f"alpha must be a non-negative number, got {alpha!r}")
    w = np.exp(-alpha * np.arange(T + 1))
    return w / w.sum()


class TemporalEMA:
    """p̂_t = Σ_{i=0..T} e^{−αi} x_{t−i} / Σ_i e^{−αi} over the frames since the last :meth:`reset`.

    ``x_t``: a tensor of any fixed shape (class probabilities (1, Q, h, w), or chroma (1, 2, h, w)).
    After a reset the sum runs over the frames seen so far, renormalised.
    """

    def __init__(self, T: int = EMA_T, alpha: float = EMA_ALPHA):
        ema_weights(T, alpha)  # checks T and alpha
        self.w = torch.exp(-float(alpha) * torch.arange(T + 1, dtype=torch.float64))  # renormalised per frame
        self.T = int(T)
        self.reset()

    def reset(self) -> None:
        self.buf: deque[torch.Tensor] = deque(maxlen=self.T + 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.buf.appendleft(x)
        w = self.w[: len(self.buf)].to(x.dtype)
        out = torch.zeros_like(x)
        for wi, xi in zip(w, self.buf):
            out.add_(xi, alpha=float(wi))
        return out / w.sum()


def farneback(cur: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Dense flow from ``cur`` to ``prev`` (uint8 grey (H, W) each): (H, W, 2), cur(y, x) ≈ prev(y + dy, x + dx)."""
    return cv2.calcOpticalFlowFarneback(cur, prev, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)


def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``img`` (H, W[, C]) sampled at (x + dx, y + dy) with flow (H, W, 2); bilinear, edges replicated."""
    H, W = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class FlowPropagation:
    """c_t = p_t + β · trust · (warp(c_{t−1}) − p_t): the last output carried along the optical flow.

    ``p_t``: the frame's own chroma (1, 2, h, w); ``grey``: the frame as the network saw it, uint8
    (H, W) (any size; flow is computed there and resized to h x w). ``trust`` = exp(−(e/σ)²) with e the
    grey-level error of the warped previous frame: occlusions, new objects and failures of the flow
    keep the frame's own colour. β < 1, so the result follows slow real changes of colour.
    """

    def __init__(self, blend: float = FLOW_BLEND, sigma: float = FLOW_SIGMA):
        if not 0 <= blend <= 1:
            raise ColorkitError(f"blend must be within [0, 1], got {blend!r}")
        if not sigma > 0:
            raise ColorkitError(f"sigma must be positive, got {sigma!r}")
        self.blend, self.sigma = float(blend), float(sigma)
        self.reset()

    def reset(self) -> None:
        self.prev_grey: np.ndarray | None = None
        self.prev_c: np.ndarray | None = None
        self.trust: np.ndarray | None = None  # the last frame's trust map (h, w), for figures

    def __call__(self, chroma: torch.Tensor, grey: np.ndarray) -> torch.Tensor:
        c = chroma[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)  # (h, w, 2)
        h, w = c.shape[:2]
        if self.prev_grey is None or self.prev_grey.shape != grey.shape or self.prev_c.shape != c.shape:
            out = c
            self.trust = np.zeros((h, w), np.float32)
        else:
            flow = farneback(grey, self.prev_grey)
            err = np.abs(grey.astype(np.float32) - warp(self.prev_grey, flow).astype(np.float32))
            if (h, w) != grey.shape:
                sy, sx = h / grey.shape[0], w / grey.shape[1]
                flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32([sx, sy])
                err = cv2.resize(err, (w, h), interpolation=cv2.INTER_AREA)
            err = cv2.GaussianBlur(err, (5, 5), 0)
            self.trust = np.exp(-((err / self.sigma) ** 2)).astype(np.float32)
            carried = warp(self.prev_c, flow)
            out = c + (self.blend * self.trust)[..., None] * (carried - c)
        self.prev_grey, self.prev_c = grey, out
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))[None].to(chroma)


def grey_histogram(grey: np.ndarray, bins: int = CUT_BINS) -> np.ndarray:
    """Normalised histogram of a uint8 grey frame, (bins,)."""
    h = np.bincount((grey.ravel() >> (8 - int(math.log2(bins)))).astype(np.int64), minlength=bins)
    return h / max(1, grey.size)


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A uint8 grey frame shrunk to 16 x 8 (area average), float32: the layout of the shot."""
    return cv2.resize(grey, CUT_THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


class CutDetector:
    """A scene cut changes both what is where and which grey levels there are.

    ``detector(grey)`` -> True when, against the previous frame, (1) the mean absolute difference of
    16 x 8 thumbnails exceeds ``layout`` grey levels and (2) the total-variation distance
    ½ Σ|h_t − h_{t−1}| of 32-bin grey histograms exceeds ``levels`` (0: identical, 1: nothing in
    common). A pan or a passing car changes the layout a little, a person walking through keeps
    the grey levels; a cut changes both at once.
    """

    def __init__(self, layout: float = CUT_LAYOUT, levels: float = CUT_LEVELS):
        if not 0 < layout < 255:
            raise ColorkitError(f"layout must be between 0 and 255 grey levels, got {layout!r}")
        if not 0 < levels < 1:
            raise ColorkitError(f"levels must be between 0 and 1, got {levels!r}")
        self.layout, self.levels = float(layout), float(levels)
        self.reset()

    def reset(self) -> None:
        self.prev: tuple[np.ndarray, np.ndarray] | None = None

    def distances(self, grey: np.ndarray) -> tuple[float, float]:
        """(thumbnail difference, histogram distance) to the previous frame ((0, 0) for the first)."""
        cur = thumbnail(grey), grey_histogram(grey)
        if self.prev is None:
            d = (0.0, 0.0)
        else:
            d = (float(np.abs(cur[0] - self.prev[0]).mean()), 0.5 * float(np.abs(cur[1] - self.prev[1]).sum()))
        self.prev = cur
        return d

    def __call__(self, grey: np.ndarray) -> bool:
        layout, levels = self.distances(grey)
        return layout > self.layout and levels > self.levels


def cut_distances(greys) -> np.ndarray:
    """The detector's two distances for each frame of a sequence of uint8 grey frames; (T, 2), row 0 zeros."""
    det = CutDetector()
    return np.array([det.distances(g) for g in greys]).reshape(-1, 2)


def detect_cuts(greys, layout: float = CUT_LAYOUT, levels: float = CUT_LEVELS) -> list[int]:
    """Indices of the frames that start a new shot (never 0)."""
    det = CutDetector(layout, levels)
    return [i for i, g in enumerate(greys) if det(g)]
