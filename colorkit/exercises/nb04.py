"""Checks for notebook 04 (classification over quantised colours)."""

from __future__ import annotations

import numpy as np

from colorkit.exercises import exercise


@exercise("04.1", hint="Each bin gets exp(-d² / (2·5²)); the nearest is at d = 0, the four others at d = 10. "
                       "Divide the nearest bin's weight by the sum of all five. Give a float.")
def _(answer):
    want = 1 / (1 + 4 * np.exp(-100 / 50))
    got = float(answer)
    if abs(got - 1.0) < 1e-6:
        return False, "A soft encoding spreads mass over 5 bins, so the nearest gets less than 1."
    if abs(got - 0.2) < 1e-3:
        return False, "Equal weights would be a hard 5-way split; the Gaussian favours the nearest bin."
    return abs(got - want) < 1e-3


@exercise("04.2", hint="First mix each prior with the uniform 1/3: 0.5·p + 0.5/3; invert; then scale so that "
                       "Σ p·w = 1. Give a tuple (w1, w2, w3).")
def _(answer):
    p = np.array([0.90, 0.09, 0.01])
    w = 1 / (0.5 * p + 0.5 / 3)
    want = w / (p * w).sum()
    got = np.asarray([float(v) for v in answer])
    if got.shape != (3,):
        return False, "Give three weights, one per bin."
    if np.allclose(got / got.sum(), want / want.sum(), atol=1e-3) and not np.allclose(got, want, atol=1e-3):
        return False, "Right proportions; now normalise so that the prior-weighted mean Σ p·w is 1."
    return bool(np.allclose(got, want, atol=1e-3))


@exercise("04.3", hint="As T shrinks, exp(log z / T) grows fastest for the largest z: the mass concentrates on "
                       "one bin. Which one? Give a tuple (a, b).")
def _(answer):
    a, b = (float(v) for v in answer)
    if abs(a - (-8.0)) < 1 and abs(b - 22.0) < 1:
        return False, "That is the plain mean (T = 1). Think about where the mass goes as T → 0."
    return abs(a + 40) < 0.5 and abs(b - 10) < 0.5
