"""Checks for notebook 01 (colour spaces)."""

from __future__ import annotations

import numpy as np
import torch

from colorkit.color import rgb_to_lab
from colorkit.exercises import exercise


def _lab_of(rgb255) -> np.ndarray:
    x = torch.tensor(rgb255, dtype=torch.float64).view(1, 3, 1, 1) / 255.0
    return rgb_to_lab(x).flatten().numpy()


@exercise("01.1", hint="Undo the sRGB gamma (255 → 1.0, 0 → 0.0), multiply by the XYZ matrix, divide by the D65 "
                       "white, then apply f(t) = t^(1/3). L = 116 f(Y) − 16. Give a tuple (L, a, b).")
def _(answer):
    L, a, b = (float(v) for v in answer)
    target = _lab_of((255, 0, 0))
    if abs(L - target[0]) > 0.5:
        return False, "Your L is off. For pure red Y = 0.2127 (the second row of the XYZ matrix times (1, 0, 0))."
    return bool(np.allclose([L, a, b], target, atol=0.5))


@exercise("01.2", hint="A squared-error loss is minimised by the mean of the plausible answers. Average a and b "
                       "separately, then give (a, b).")
def _(answer):
    a, b = (float(v) for v in answer)
    if abs(a - 60) < 1 and abs(b - 50) < 1:
        return False, "That is one of the two plausible colours: the L2 loss does not pick one, it averages."
    return abs(a - 35.0) < 0.5 and abs(b - 0.0) < 0.5


@exercise("01.3", hint="Move the L slider and watch how much of the square is coloured. The widest slice is "
                       "neither at the dark nor at the bright end. Give an integer L.")
def _(answer):
    L = float(answer)
    if not 0 <= L <= 100:
        return False, "L lies between 0 (black) and 100 (white)."
    return 48 <= L <= 60
