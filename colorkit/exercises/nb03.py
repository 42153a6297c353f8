"""Checks for notebook 03 (regression and desaturation)."""

from __future__ import annotations

import numpy as np
import torch

from colorkit.exercises import exercise


@exercise("03.1", hint="Sort the three a values and take the middle one; do the same for b, separately. "
                       "Give a tuple (a, b).")
def _(answer):
    a, b = (float(v) for v in answer)
    if abs(a - 50 / 3) < 1 and abs(b - 70 / 3) < 1:
        return False, "That is the mean, which the L2 loss picks. L1 picks the median of each channel."
    return abs(a - 10) < 0.5 and abs(b - 50) < 0.5


@exercise("03.2", hint="Chroma is the length of the (a, b) vector at each pixel: norm over dim 1. Average it over "
                       "all pixels for the prediction and for the truth, then divide. Return a float.")
def _(answer):
    g = torch.Generator().manual_seed(3)
    true = torch.randn(2, 2, 8, 8, generator=g) * 30
    pred = torch.randn(2, 2, 8, 8, generator=g) * 12
    want = (pred.norm(dim=1).mean() / true.norm(dim=1).mean()).item()
    got = float(answer(pred.clone(), true.clone()))
    if abs(got - (pred.abs().mean() / true.abs().mean()).item()) < 1e-6:
        return False, "You averaged |a| and |b| separately; chroma is sqrt(a² + b²) per pixel."
    ok = abs(got - want) < 1e-4 and abs(float(answer(true, true)) - 1.0) < 1e-6
    return ok


@exercise("03.3", hint="The L2 optimum is the mean of the plausible colours. Average 40·(cos h, sin h) over "
                       "hues h spread evenly around the circle. Give a tuple (a, b).")
def _(answer):
    a, b = (float(v) for v in answer)
    if abs(np.hypot(a, b) - 40) < 1:
        return False, "A colour of chroma 40 is one of the plausible answers; L2 predicts their average."
    return abs(a) < 0.5 and abs(b) < 0.5
