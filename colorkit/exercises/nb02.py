"""Checks for notebook 02 (Levin's colorization by optimization)."""

from __future__ import annotations

import math

import numpy as np

from colorkit.exercises import exercise

# 02.2: five pixels in a row, scribbled at both ends; one weak link between pixels 2 and 3.
CHAIN_WEIGHTS = (1.0, 1.0, 0.01, 1.0)  # w01, w12, w23, w34
CHAIN_ENDS = (0.3, -0.3)  # U0, U4


def chain_solution() -> np.ndarray:
    """(U1, U2, U3) of exercise 02.2: each unknown is the weighted average of its two neighbours."""
    w01, w12, w23, w34 = CHAIN_WEIGHTS
    u0, u4 = CHAIN_ENDS
    A = np.array([[w01 + w12, -w12, 0.0], [-w12, w12 + w23, -w23], [0.0, -w23, w23 + w34]])
    return np.linalg.solve(A, np.array([w01 * u0, 0.0, w34 * u4]))


def grid_nonzeros(h: int, w: int) -> int:
    """Non-zeros of D - W for an h x w image, 3x3 neighbourhoods, nothing scribbled."""
    pairs = h * (w - 1) + (h - 1) * w + 2 * (h - 1) * (w - 1)  # horizontal, vertical, two diagonals
    return 2 * pairs + h * w


@exercise("02.1", hint="w = exp(-(Y_r - Y_s)² / c) with c = 2σ² = 0.6 · var; square the difference of the two "
                       "intensities first. Give one number.")
def _(answer):
    w = float(answer)
    target = math.exp(-(0.06**2) / 0.006)
    if abs(w - math.exp(-(0.06**2) / 0.012)) < 2e-3:
        return False, "c = 0.6 · var already *is* 2σ²: divide the squared difference by c itself, not by 2c."
    if abs(w - math.exp(-0.06 / 0.006)) < 2e-3:
        return False, "The difference of the intensities is squared before it is divided by c."
    if not 0 < w <= 1:
        return False, "An affinity lies between 0 (unrelated) and 1 (identical intensities)."
    return abs(w - target) < 2e-3


@exercise("02.2", hint="Write one equation per unknown pixel: (sum of its two link weights) · U_r = Σ w_rs U_s, "
                       "then solve the 3 equations (e.g. numpy.linalg.solve). Give U2 as one number.")
def _(answer):
    u2 = float(answer)
    if abs(u2) < 2e-3:
        return False, ("0 is the answer when all four links are equal (U falls linearly from +0.3 to -0.3). "
                       "Here the link between pixels 2 and 3 is 100 times weaker.")
    if u2 < 0:
        return False, ("Pixel 2 is strongly linked to the left end (+0.3) and only weakly to the right: "
                       "its U is positive.")
    return abs(u2 - chain_solution()[1]) < 2e-3


@exercise("02.3", hint="Count the links: horizontal h(w-1), vertical (h-1)w, and two diagonal directions of "
                       "(h-1)(w-1) each. Every link gives two entries (W is symmetric); add the diagonal. One integer.")
def _(answer):
    n = int(answer)
    if n != answer:
        return False, "Give a whole number."
    h, w = 100, 150
    if n == 9 * h * w:
        return False, "Pixels on the border have fewer than 8 neighbours: 9 entries a row is an upper bound."
    if n == grid_nonzeros(h, w) - h * w:
        return False, "That is W alone: D - W also has the diagonal, one entry per pixel."
    if n == (grid_nonzeros(h, w) - h * w) // 2 + h * w:
        return False, "Each link appears twice in the symmetric matrix, once in row r and once in row s."
    return n == grid_nonzeros(h, w)
