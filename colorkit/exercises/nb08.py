"""Checks for notebook 08 (video: flicker and temporal consistency)."""

from __future__ import annotations

import math

import torch

from colorkit.exercises import exercise
from colorkit.metrics import js_divergence
from colorkit.video.temporal import TemporalEMA, ema_weights

T, ALPHA = 20, 0.2  # 08.1: ColorUNet's temporal layer
# 08.2: the 4-bin histograms of one channel in two consecutive frames
HIST_A = (0.5, 0.5, 0.0, 0.0)
HIST_B = (0.0, 0.5, 0.5, 0.0)
# 08.3: a shot whose frames the model calls "red" (chroma value 40) ends at a cut; the next shot's frames are
# "blue" (value -40). The layer (T = 20, alpha = 0.2) runs over the cut without a reset.
BEFORE, AFTER, SHOT_FRAMES = 40.0, -40.0, 30
FRAMES_AFTER_CUT = 3  # the output at the third frame of the new shot (frames 0, 1, 2 after the cut)


def ema_across_cut(reset: bool) -> float:
    """The temporal layer's output (:class:`colorkit.video.temporal.TemporalEMA`) at the ``FRAMES_AFTER_CUT``-th
    frame of the new shot, with or without a reset at the cut."""
    layer = TemporalEMA(T, ALPHA)
    for v in [BEFORE] * SHOT_FRAMES:
        layer(torch.tensor([v], dtype=torch.float64))
    if reset:
        layer.reset()
    for v in [AFTER] * FRAMES_AFTER_CUT:
        out = layer(torch.tensor([v], dtype=torch.float64))
    return float(out.item())


@exercise("08.1", hint="The weights are e^(-alpha i) for i = 0..T, divided by their sum so they add up to 1. Give "
                       "(the weight of the current frame, the total weight of the frames more than 5 frames old, "
                       "i.e. i = 6..T).")
def _(answer):
    w0, old = (float(x) for x in answer)
    w = ema_weights(T, ALPHA)
    if abs(w0 - 1.0) < 1e-3:
        return False, "Before normalising the current frame's weight is e^0 = 1; divide by the sum of all 21."
    if abs(old - w[5:].sum()) < 1e-3:
        return False, "Frames more than 5 frames old start at i = 6, not i = 5."
    return abs(w0 - w[0]) < 1e-3 and abs(old - w[6:].sum()) < 1e-3


@exercise("08.2", hint="JSD(p, q) = ½ KL(p || m) + ½ KL(q || m) with m = (p + q) / 2 and KL(p || m) = Σ p log(p / m) "
                       "over the bins where p > 0, natural logarithm. Give the divergence of HIST_A and HIST_B.")
def _(answer):
    v = float(answer)
    want = float(js_divergence(HIST_A, HIST_B))
    if abs(v - want / math.log(2)) < 1e-3:
        return False, "That is in bits (log base 2); CDC uses the natural logarithm."
    if abs(v - math.sqrt(want)) < 1e-3:
        return False, "That is the Jensen-Shannon *distance* (the square root); CDC averages the divergence."
    return abs(v - want) < 1e-4


@exercise("08.3", hint="Without a reset the last T + 1 = 21 frames are averaged with weights e^(-0.2 i), whichever "
                       "shot they belong to. Give (the output at the third frame of the new shot without a reset, "
                       "the same with a reset).")
def _(answer):
    no_reset, with_reset = (float(x) for x in answer)
    if abs(no_reset - AFTER) < 1e-6:
        return False, "Without a reset the frames of the old shot are still in the window: the output is not -40 yet."
    return abs(no_reset - ema_across_cut(False)) < 0.05 and abs(with_reset - ema_across_cut(True)) < 0.05
