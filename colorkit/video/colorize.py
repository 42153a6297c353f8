"""Colorizing a video: frames through a :class:`~colorkit.infer.Colorizer`, smoothed over time, re-encoded.

    vc = VideoColorizer(Colorizer("pretrained_unet_l1"), smooth="flow")
    out = list(vc.colorize_frames(grey_frames))          # uint8 (H, W, 3) each, in order
    report = colorize_video("in.avi", "out.mp4", smooth="flow")   # decode -> colorize -> H.264 (+ audio)

Per frame (shapes for a 640 x 272 clip at working size 256):

1. luma of the frame (1, 1, 272, 640) -> working luma (1, 1, 96, 256): the long side at the working
   size, the short one in proportion, rounded to a multiple of 32 (unlike a photo's square working
   image: about 3/8 of the pixels of 256 x 256);
2. the network, ``batch_size`` frames at a time -> ab (1, 2, h, w), or class logits (1, Q, h, w);
3. smoothing (:mod:`colorkit.video.temporal`): ``ema`` averages the class probabilities (or the ab)
   of the current frame and the 20 before it, ``flow`` carries the last output along the optical flow; a scene cut
   restarts both;
4. the chroma joins the frame's own full-resolution luma (``merge="yuv"`` keeps its Y exactly, as
   DeOldify does for video; ``"lab"`` keeps its L).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from colorkit.errors import ColorkitError
from colorkit.infer import DEFAULT_MODEL, DEFAULT_SIZE, Colorizer
from colorkit.models import to_ab
from colorkit.video.io import VideoWriter, check_output, decode, probe
from colorkit.video.temporal import (
    EMA_ALPHA,
    EMA_T,
    FLOW_BLEND,
    FLOW_SIGMA,
    SMOOTHERS,
    CutDetector,
    FlowPropagation,
    TemporalEMA,
)

DEFAULT_SMOOTH = "flow"
DEFAULT_MERGE = "yuv"
MULTIPLE = 32  # the working sides are multiples of the networks' largest stride


def working_shape(height: int, width: int, size: int = DEFAULT_SIZE) -> tuple[int, int]:
    """(h, w) of the working frame: the long side ``size``, the short one in proportion, both multiples of 32."""
    scale = size / max(height, width)
    h = max(MULTIPLE, MULTIPLE * round(height * scale / MULTIPLE))
    w = max(MULTIPLE, MULTIPLE * round(width * scale / MULTIPLE))
    return h, w


@dataclass
class Prediction:
    """What the network made of one frame: its working luma (1, 1, h, w), the same as uint8 grey
    (h, w) for the flow and the cut detector, and the raw output (1, 2|Q, h', w')."""

    L_small: torch.Tensor
    grey: np.ndarray
    raw: torch.Tensor


@dataclass
class VideoReport:
    path: Path | None
    frames: int
    seconds: float
    cuts: list[int] = field(default_factory=list)
    smooth: str = DEFAULT_SMOOTH
    model: str = DEFAULT_MODEL

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else math.inf

    def __str__(self) -> str:
        cuts = f", {len(self.cuts)} scene cut(s) at frame {', '.join(map(str, self.cuts))}" if self.cuts else ""
        where = f" -> {self.path}" if self.path else ""
        return (f"{self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} frames/s), model {self.model}, "
                f"smoothing {self.smooth}{cuts}{where}")


def check_smooth(smooth: str) -> str:
    if smooth not in SMOOTHERS:
        raise ColorkitError(f"smooth must be one of {', '.join(SMOOTHERS)}, not {smooth!r}")
    return smooth


class VideoColorizer:
    """Frame-by-frame colorization with optional temporal smoothing; see the module docstring.

    ``colorizer``: a :class:`Colorizer`; ``size`` or ``render_factor`` (16 x R) the long side of the
    working frame; ``smooth`` "none" | "ema" | "flow"; ``T``, ``alpha``: the temporal layer's;
    ``blend``: the flow smoother's β; ``cuts``: restart smoothing at scene cuts (True) or never.
    After a run, ``cuts`` lists the frames where a new shot began.
    """

    def __init__(self, colorizer: Colorizer, smooth: str = DEFAULT_SMOOTH, size: int = DEFAULT_SIZE,
                 render_factor: int | None = None, merge: str = DEFAULT_MERGE, temperature: float = 0.38,
                 batch_size: int = 4, T: int = EMA_T, alpha: float = EMA_ALPHA, blend: float = FLOW_BLEND,
                 sigma: float = FLOW_SIGMA, reset_at_cuts: bool = True):
        self.col = colorizer
        self.smooth = check_smooth(smooth)
        self.size = colorizer._working_size(size, render_factor)
        self.merge = colorizer._check_merge(merge)
        colorizer._check_decoding(temperature, "annealed")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ColorkitError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.temperature, self.batch_size = temperature, batch_size
        self.T, self.alpha, self.blend, self.sigma, self.reset_at_cuts = T, alpha, blend, sigma, reset_at_cuts
        TemporalEMA(T, alpha)  # checks T and alpha now, not at the first frame
        FlowPropagation(blend, sigma)
        self.cuts: list[int] = []

    def __repr__(self) -> str:
        return f"VideoColorizer({self.col.name!r}, smooth={self.smooth!r}, size={self.size}, merge={self.merge!r})"

    # --- the network, batched --------------------------------------------------------------------

    def _working(self, frame: np.ndarray) -> torch.Tensor:
        L = self.col.lightness(frame)  # (1, 1, H, W)
        h, w = working_shape(*frame.shape[:2], self.size)
        return F.interpolate(L, size=(h, w), mode="bilinear", align_corners=False, antialias=True)

    def _grey(self, L_small: torch.Tensor) -> np.ndarray:
        scale = 2.55 if self.col.space == "lab" else 255.0  # L in [0, 100], Y in [0, 1]
        return (L_small[0, 0] * scale).round().clamp(0, 255).to(torch.uint8).cpu().numpy()

    def predictions(self, frames: Iterable[np.ndarray]) -> Iterator[Prediction]:
        """The network's output for each frame, computed ``batch_size`` frames at a time."""
        batch: list[torch.Tensor] = []

        def flush():
            raw = self.col.network(torch.cat(batch))
            for i, L_small in enumerate(batch):
                yield Prediction(L_small, self._grey(L_small), raw[i:i + 1])
            batch.clear()

        for frame in frames:
            L_small = self._working(frame)
            if batch and L_small.shape != batch[0].shape:
                yield from flush()
            batch.append(L_small)
            if len(batch) == self.batch_size:
                yield from flush()
        if batch:
            yield from flush()

    # --- smoothing and merging ---------------------------------------------------------------------

    def chroma(self, preds: Iterable[Prediction], smooth: str | None = None
               ) -> Iterator[tuple[Prediction, torch.Tensor]]:
        """(prediction, its chroma in the model's space (1, 2, h', w')) for each frame, smoothed by ``smooth``."""
        smooth = check_smooth(smooth or self.smooth)
        ema, flow, cut = TemporalEMA(self.T, self.alpha), FlowPropagation(self.blend, self.sigma), CutDetector()
        logits = self.col.kind == "logits"
        self.cuts = []
        for i, p in enumerate(preds):
            if cut(p.grey) and i > 0:
                self.cuts.append(i)
                if self.reset_at_cuts:
                    ema.reset()
                    flow.reset()
            if smooth == "ema" and logits:  # ColorUNet's temporal layer: over class probabilities
                yield p, self.col.decode(ema(torch.softmax(p.raw, dim=1)), self.temperature)
                continue
            ab = to_ab(self.col.model, p.raw, temperature=self.temperature)
            if smooth == "ema":
                ab = ema(ab)
            elif smooth == "flow":
                ab = flow(ab, p.grey)
            yield p, ab

    def colorize_frames(self, frames: Iterable[np.ndarray], smooth: str | None = None,
                        preds: Iterable[Prediction] | None = None) -> Iterator[np.ndarray]:
        """uint8 frames (H, W, 3) or (H, W) -> colorized uint8 RGB frames (H, W, 3), in order, lazily.

        ``preds``: the network's outputs for these frames from an earlier :meth:`predictions` (a list),
        to compare smoothers without running the network again.
        """
        frames_seen: deque[np.ndarray] = deque()

        def remember(it):
            for f in it:
                frames_seen.append(f)
                yield f

        if preds is None:
            preds = self.predictions(remember(frames))
        else:
            preds, frames_seen = list(preds), deque(frames)
            if len(preds) != len(frames_seen):
                raise ColorkitError(f"{len(frames_seen)} frames but {len(preds)} predictions")
        for p, ab in self.chroma(preds, smooth):
            chroma = self.col.chroma_for_merge(p.L_small, ab, self.merge)
            yield self.col.merge_full(frames_seen.popleft(), chroma, self.merge)


def colorize_video(inp, out, model: str = DEFAULT_MODEL, *, smooth: str = DEFAULT_SMOOTH, size: int = DEFAULT_SIZE,
                   render_factor: int | None = None, merge: str = DEFAULT_MERGE, temperature: float = 0.38,
                   overwrite: bool = False, max_frames: int | None = None, progress: bool = True,
                   device=None) -> VideoReport:
    """Decode ``inp`` (PyAV), colorize each frame, encode H.264 at ``out`` with the input's frame times,
    size and audio. The output's luma is the input's. ``out`` appears only when everything succeeded.

    Errors (a missing or unreadable input, no video stream, a truncated file, zero frames, an
    output that exists or is the input) raise one :class:`ColorkitError` naming the file, before any
    work where they can be known in advance.
    """
    inp = Path(inp)
    info = probe(inp)  # not a video / no video stream: fails here
    check_output(out, overwrite, inputs=[inp])
    col = model if isinstance(model, Colorizer) else Colorizer(model, device=device)
    vc = VideoColorizer(col, smooth=smooth, size=size, render_factor=render_factor, merge=merge,
                        temperature=temperature)
    total = min(info.frames or 0, max_frames or 10**12) or None
    times: deque[int | None] = deque()

    def frames():
        for rgb, pts in decode(inp, max_frames):
            times.append(pts)
            yield rgb

    t0, n = time.perf_counter(), 0
    with VideoWriter(out, info.fps, info.size, audio_from=inp if info.has_audio else None, overwrite=overwrite,
                     time_base=info.time_base) as writer:
        for rgb in tqdm(vc.colorize_frames(frames()), total=total, desc=f"colorizing {inp.name}", unit="frame",
                        disable=not progress):
            writer.write(rgb, times.popleft())
            n += 1
    return VideoReport(Path(out), n, time.perf_counter() - t0, list(vc.cuts), vc.smooth, col.name)
