"""The colour prior of the rebalanced AuC: the training photos' ab histogram, or the evaluation photos' own.

Shared by the metric table (:mod:`colorkit.evaluate`), the notebooks and the trainer's scoring
(:func:`colorkit.infer.training_scorer`).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from colorkit import data, quantize
from colorkit.color import image_to_tensor, rgb_to_lab
from colorkit.errors import ColorkitError


@functools.lru_cache(maxsize=1)
def training_prior(step: float = 10) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(bins (Q, 2), prior (Q,)) from the committed ab histogram, or None if it is not there."""
    try:
        hist = data.load_ab_hist()[0]
    except (ColorkitError, OSError):
        return None
    bins = quantize.gamut_bins(step)
    return bins, quantize.empirical_prior(hist, bins, sigma=5.0)


def rebalance_reference(trues: list[np.ndarray], step: float = 10) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(bins, prior, source) for the rebalanced AuC: the training prior, else the samples' own."""
    ref = training_prior(step)
    if ref is not None:
        return ref[0], ref[1], "training photos"
    bins = quantize.gamut_bins(step)
    ab = torch.cat([rgb_to_lab(image_to_tensor(t))[:, 1:].flatten(2) for t in trues], 2)[..., None]  # (1, 2, P, 1)
    return bins, quantize.prior_from_ab(ab, bins, sigma=5.0), "evaluation samples"
