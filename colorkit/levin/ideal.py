"""Levin's method as a colorizer of the study: strokes covering 1 % of the photo, in its true colours.

Levin et al. (2004) need a person's scribbles. To put the method in a table beside the automatic
ones, notebook 02's *ideal scribbler* plays that person: short straight strokes at random places,
each pixel under them taking the photo's true colour (:func:`sample_scribbles`). So this row is not an
automatic method: it is told 1 % of the answer, and shows what so little true colour buys when it is
spread along the grey image's edges.

Like the networks, it works at a working size (long side ``size``, the aspect kept) and the chroma
it solves (YUV's U and V) is upsampled to join the input's full-resolution Y.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from colorkit.color import image_to_tensor, rgb_to_yuv, tensor_to_image, yuv_to_rgb
from colorkit.errors import ColorkitError
from colorkit.levin.scribbles import sample_scribbles
from colorkit.levin.solvers import colorize


class IdealScribbler:
    """``IdealScribbler(coverage=0.01).colorize(photo)``: Levin's colorization of ``photo``'s grey from strokes
    that cover ``coverage`` of its pixels, coloured with ``photo``'s own colours (uint8 (H, W, 3) in and out).

    The strokes are 3 px wide and 1/32 of the working image's long side (at least 8 px) long, as in
    notebook 02; the same photo gets the same strokes (``seed``). ``temperature`` is accepted and ignored,
    so the scribbler fits where a :class:`colorkit.infer.Colorizer` does.
    """

    def __init__(self, coverage: float = 0.01, seed: int = 0, name: str | None = None):
        if not 0 < coverage < 1:
            raise ColorkitError(f"IdealScribbler: coverage must be a share of the pixels in (0, 1), got {coverage!r}")
        self.coverage, self.seed = float(coverage), int(seed)
        self.name = name or f"levin_{coverage:.0%}".replace("%", "pct")

    def __repr__(self) -> str:
        return f"IdealScribbler(coverage={self.coverage}, name={self.name!r})"

    def colorize(self, image: np.ndarray, temperature: float | None = None, size: int = 256) -> np.ndarray:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ColorkitError(f"IdealScribbler needs the true colour photo, a uint8 array (H, W, 3); got {got}")
        H, W = image.shape[:2]
        scale = min(1.0, size / max(H, W))
        h, w = max(1, round(H * scale)), max(1, round(W * scale))
        rgb = image_to_tensor(image)                                              # (1, 3, H, W) in [0, 1]
        small = F.interpolate(rgb, size=(h, w), mode="bilinear", align_corners=False, antialias=True) \
            if (h, w) != (H, W) else rgb                                            # (1, 3, h, w)
        small_np = small[0].permute(1, 2, 0).clamp(0, 1).numpy()                  # (h, w, 3)
        yuv_small = rgb_to_yuv(small)
        length = max(8, max(h, w) // 32)
        n = max(1, round(self.coverage * h * w / (3 * length)))
        scribble, mask = sample_scribbles(small_np, n, kind="strokes", seed=self.seed, length=length, width=3)
        out = colorize(yuv_small[0, 0].numpy(), scribble, mask)                   # (h, w, 3) float in [0, 1]
        uv = rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))[None].float())[:, 1:]
        if (h, w) != (H, W):
            uv = F.interpolate(uv, size=(H, W), mode="bilinear", align_corners=False)  # (1, 2, H, W)
        yuv = torch.cat([rgb_to_yuv(rgb)[:, :1], uv], dim=1)
        return tensor_to_image(yuv_to_rgb(yuv, clip=True))
