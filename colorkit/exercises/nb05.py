"""Checks for notebook 05 (ColorUNet: a palette classifier in YUV)."""

from __future__ import annotations

import numpy as np
import torch

from colorkit.color import rgb_to_yuv
from colorkit.exercises import exercise

PIXEL = (200, 120, 60)  # 05.1: an sRGB pixel, 0..255
PALETTE = np.array([[0.0, 0.0], [-0.1, 0.13], [0.1, -0.13], [-0.2, 0.25]])  # 05.1: UV colours
FREQUENCIES = np.array([0.70, 0.20, 0.08, 0.02])  # 05.2: share of training pixels per palette colour
TWO_COLOURS = np.array([[0.1, 0.0], [-0.1, 0.2]])  # 05.3: two UV colours ...
TWO_PROBS = np.array([0.6, 0.4])  # ... and their probabilities


def pixel_uv() -> np.ndarray:
    """U, V of :data:`PIXEL` (BT.601, as :func:`colorkit.color.rgb_to_yuv`)."""
    rgb = torch.tensor(PIXEL, dtype=torch.float64).view(1, 3, 1, 1) / 255
    return rgb_to_yuv(rgb)[0, 1:, 0, 0].numpy()


@exercise("05.1", hint="U = -0.14713 R - 0.28886 G + 0.436 B and V = 0.615 R - 0.51499 G - 0.10001 B with R, G, B "
                       "in [0, 1]; then the palette row at the smallest squared distance. Give (u, v, index).")
def _(answer):
    u, v, k = answer
    want = pixel_uv()
    if abs(float(u) - want[0]) > 0.005 or abs(float(v) - want[1]) > 0.005:
        if abs(float(u) - want[0] * 255) < 1 and abs(float(v) - want[1] * 255) < 1:
            return False, "Scale R, G, B to [0, 1] first (divide by 255)."
        return False, f"U, V are not right yet; check the BT.601 rows (your U = {float(u):.3f}, V = {float(v):.3f})."
    d = ((PALETTE - want) ** 2).sum(1)
    if int(k) == int(np.argsort(d)[1]):
        return False, "Close: that is the second-nearest colour. Compare the squared distances to every row."
    return int(k) == int(d.argmin())


@exercise("05.2", hint="Mix each frequency with the uniform 1/4: 0.5·P̂ + 0.5/4; invert; scale so that Σ P̂·w = 1; "
                       "give the weight of the rarest colour (the last) as a float.")
def _(answer):
    p = FREQUENCIES
    w = 1 / (0.5 * p + 0.5 / len(p))
    w = w / (p * w).sum()
    got = float(answer)
    raw = 1 / (0.5 * p[-1] + 0.5 / len(p))
    if abs(got - raw) < 1e-2:
        return False, "Right before normalising; now scale every weight so that the prior-weighted mean Σ P̂·w is 1."
    if abs(got - 1 / p[-1]) < 1e-2:
        return False, ("That is 1 / P̂, λ = 0: the paper mixes the frequency with the uniform distribution "
                       "first (λ = 0.5).")
    return abs(got - w[-1]) < 1e-3


@exercise("05.3", hint="Raise each probability to the power 1/T (T = 0.5, so square them), renormalise to sum 1, "
                       "and take the weighted mean of the two UV colours. Give (u, v).")
def _(answer):
    u, v = (float(x) for x in answer)
    f = TWO_PROBS ** 2
    f = f / f.sum()
    want = f @ TWO_COLOURS
    mean = TWO_PROBS @ TWO_COLOURS
    if abs(u - mean[0]) < 1e-3 and abs(v - mean[1]) < 1e-3:
        return False, "That is the plain mean (T = 1). At T = 0.5 the more probable colour weighs more."
    if abs(u - TWO_COLOURS[0, 0]) < 1e-3 and abs(v - TWO_COLOURS[0, 1]) < 1e-3:
        return False, "That is the mode (T -> 0). At T = 0.5 both colours still contribute."
    return abs(u - want[0]) < 1e-3 and abs(v - want[1]) < 1e-3
