"""Checks for notebook 06 (GAN colorization: U-Net generator and PatchGAN critic)."""

from __future__ import annotations

import math

from colorkit.exercises import exercise

N_LAYERS = 4  # 06.1: stride-2 layers of a PatchGAN (4 x 4 kernels, then two stride-1 layers)
PROB = 0.95  # 06.2: the critic's probability that a real pair is real ...
REAL_LABEL = 0.9  # ... and the smoothed target it is trained towards
ADV, L1 = 0.8, 0.2  # 06.3: the generator's adversarial term and its L1 (chroma scaled to [-1, 1]) early in a run


def field(strides: list[int], kernel: int = 4) -> int:
    r = 1
    for s in reversed(strides):
        r = (r - 1) * s + kernel
    return r


def smoothed_bce(p: float, target: float) -> float:
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


@exercise("06.1", hint="Walk back from one output cell: a layer with kernel k and stride s turns a field of r cells "
                       "into (r - 1)·s + k. Start with r = 1 at the output and go through the two stride-1 layers "
                       "first, then the stride-2 ones. Give the side in pixels as an int.")
def _(answer):
    got = int(answer)
    if got == field([2] * N_LAYERS):
        return False, "Close: you left out the two stride-1 layers at the end (the 4x4 convolution and the output)."
    if got == field([2] * (N_LAYERS - 1) + [1, 1]):
        return False, f"That is the field of a critic with {N_LAYERS - 1} stride-2 layers; this one has {N_LAYERS}."
    return got == field([2] * N_LAYERS + [1, 1])


@exercise("06.2", hint="Binary cross-entropy with a target t: -(t·log p + (1 - t)·log(1 - p)). Give (loss at "
                       "p = PROB, the p that makes the loss smallest).")
def _(answer):
    loss, best = (float(x) for x in answer)
    if abs(loss - smoothed_bce(PROB, 1.0)) < 1e-3:
        return False, "That is the loss with the target 1. With label smoothing the real target is 0.9."
    if abs(loss - smoothed_bce(PROB, REAL_LABEL)) > 1e-3:
        return False, "The loss is not right yet: both terms count, t·log p and (1 - t)·log(1 - p)."
    if abs(best - 1.0) < 1e-6:
        return False, ("The loss is right, but with target 0.9 the critic is not best at p = 1: differentiate "
                       "the loss in p and set it to zero.")
    return abs(best - REAL_LABEL) < 1e-3


@exercise("06.3", hint="The generator's loss is ADV + λ·L1. Give the share λ·L1 / (ADV + λ·L1) of the L1 term for "
                       "λ = 100 (pix2pix) and for λ = 1 (the seed's plain sum), as a pair of floats in [0, 1].")
def _(answer):
    s100, s1 = (float(x) for x in answer)
    want = (100 * L1 / (ADV + 100 * L1), L1 / (ADV + L1))
    if abs(s100 - L1 * 100 / ADV) < 1e-3 or abs(s1 - L1 / ADV) < 1e-3:
        return False, "Divide by the whole loss (ADV + λ·L1), not by the adversarial term alone."
    if abs(s100 - (1 - want[0])) < 1e-3:
        return False, "That is the adversarial term's share; the question asks for the L1 term's."
    return abs(s100 - want[0]) < 1e-3 and abs(s1 - want[1]) < 1e-3
