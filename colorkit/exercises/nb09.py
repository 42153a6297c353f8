"""Checks for notebook 09 (the study: one metric suite, intervals, the Turing test)."""

from __future__ import annotations

import numpy as np

from colorkit.exercises import exercise
from colorkit.metrics.stats import wilson_interval

# 09.1: seed 000's Turing test — 40 participants, 20 pairs each, fooled in 23 % of the choices
FOOLED, ANSWERS = 184, 800
# 09.2: a photo's chroma scaled by these factors: a washed-out and a garish colorization of the same photo
WASHED, GARISH = 0.6, 1.5
# 09.3: one method's PSNR gain over grey on 20 photos (dB), and the bootstrap that reads it
GAINS = (1.9, -0.4, 0.8, 2.6, 0.1, -1.2, 1.4, 0.6, 3.1, -0.2, 0.9, 0.3, 1.7, -0.8, 0.5, 2.2, 0.0, 1.1, -0.5, 0.7)
RESAMPLES, BOOT_SEED = 2000, 0


def bootstrap_mean_interval(values=GAINS, n_resamples: int = RESAMPLES, seed: int = BOOT_SEED) -> tuple[float, float]:
    """The percentile bootstrap 95 % interval of the mean of ``values``: ``n_resamples`` resamples with replacement
    drawn by ``np.random.default_rng(seed).integers``, the 2.5th and 97.5th percentiles of their means."""
    v = np.asarray(values, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(v), (n_resamples, len(v)))
    low, high = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


@exercise("09.1", hint="Wilson's interval for k successes in n trials at 95 % (z = 1.96): centre "
                       "(k/n + z²/2n) / (1 + z²/n), half-width z √(k/n (1 − k/n)/n + z²/4n²) / (1 + z²/n). "
                       "Give (low, high) as shares, e.g. (0.2, 0.26).")
def _(answer):
    low, high = (float(x) for x in answer)
    want = wilson_interval(FOOLED, ANSWERS)
    if low > 1 or high > 1:
        return False, "Give shares between 0 and 1, not percentages."
    p, se = FOOLED / ANSWERS, (FOOLED / ANSWERS * (1 - FOOLED / ANSWERS) / ANSWERS) ** 0.5
    if abs(low - (p - 1.96 * se)) < 5e-4 and abs(high - (p + 1.96 * se)) < 5e-4 and abs(low - want[0]) > 5e-4:
        return False, "That is the normal (Wald) interval p ± 1.96 SE; Wilson's is centred nearer 1/2."
    return abs(low - want[0]) < 1e-3 and abs(high - want[1]) < 1e-3


@exercise("09.2", hint="Score both colorizations against the original with colorkit.metrics.psnr and colorfulness. "
                       "Give (the one with the higher PSNR, the one with the higher colourfulness), each 'washed' or "
                       "'garish'.")
def _(answer):
    psnr_winner, colour_winner = (str(x).strip().lower() for x in answer)
    if {psnr_winner, colour_winner} - {"washed", "garish"}:
        return False, "Answer with the names 'washed' and 'garish'."
    if psnr_winner != _winners()[0]:
        return False, ("Look again at PSNR: it counts squared errors, and here scaling the chroma up makes bigger "
                       "errors than shrinking it towards grey.")
    return (psnr_winner, colour_winner) == _winners()


def _winners() -> tuple[str, str]:
    """(higher PSNR, higher colourfulness) among the two scaled versions of the exercise photo."""
    from colorkit.metrics import colorfulness, psnr

    photo, washed, garish = exercise_images()
    by_psnr = "washed" if psnr(washed, photo) > psnr(garish, photo) else "garish"
    return by_psnr, "washed" if colorfulness(washed) > colorfulness(garish) else "garish"


def exercise_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """09.2's photo (data/samples/fruits) and its chroma scaled by ``WASHED`` and ``GARISH`` (Lab, L kept)."""
    import torch

    from colorkit.color import image_to_tensor, lab_to_rgb, rgb_to_lab, tensor_to_image
    from colorkit.data.samples import load_samples
    from colorkit.paths import SAMPLES_DIR

    photo = dict(load_samples(SAMPLES_DIR))["fruits"]
    lab = rgb_to_lab(image_to_tensor(photo))
    out = []
    for f in (WASHED, GARISH):
        scaled = torch.cat([lab[:, :1], lab[:, 1:] * f], dim=1)
        out.append(tensor_to_image(lab_to_rgb(scaled)))
    return photo, out[0], out[1]


@exercise("09.3", hint="Draw RESAMPLES resamples of the 20 gains with np.random.default_rng(BOOT_SEED).integers(0, 20, "
                       "(RESAMPLES, 20)), take each resample's mean, and the 2.5th and 97.5th percentiles of those "
                       "means. Give (low, high, is the gain clearly above zero: True or False).")
def _(answer):
    low, high, clear = answer
    want = bootstrap_mean_interval()
    if abs(float(low) - np.percentile(GAINS, 2.5)) < 0.05:
        return False, "That is a percentile of the gains themselves; the interval is over the *means* of resamples."
    if not (abs(float(low) - want[0]) < 0.05 and abs(float(high) - want[1]) < 0.05):
        return False
    if bool(clear) != (want[0] > 0):
        return False, "Clearly above zero means the whole interval lies above zero."
    return True
