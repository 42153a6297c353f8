"""Semantic agreement: does an ImageNet classifier see the same thing in a colorized image as in the original?

Opt-in in :func:`colorkit.metrics.evaluate_images`: one pass of EfficientNet-Lite2
(:mod:`colorkit.backbones`) per image; the network is loaded once and kept.
"""

from __future__ import annotations

import functools

import torch

from colorkit.errors import ColorkitError
from colorkit.metrics.inputs import as_images


@functools.lru_cache(maxsize=1)
def _semantic_classifier():
    from colorkit import backbones

    return backbones.freeze(backbones.efficientnet_lite("lite2"))


def _image_list(x, name: str) -> list[torch.Tensor]:
    """Images (a list of any sizes, or a batch) -> list of float tensors (1, 3, H, W) in [0, 1]."""
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    out = []
    for item in items:
        arr, _ = as_images(item, name)  # (n, H, W, 3)
        out += [torch.from_numpy(a).permute(2, 0, 1)[None].float() for a in arr]
    return out


def semantic_agreement(preds_rgb, trues_rgb) -> dict[str, float]:
    """Does an ImageNet classifier see the same thing in the colorized images as in the originals?

    EfficientNet-Lite2 (:func:`colorkit.backbones.classify`, centre crop at 260)
    classifies each colorized image and its original. Returns shares over the
    images, in [0, 1]:

    * ``"top1"``: both get the same top-1 class;
    * ``"top5"``: the original's top-1 class is among the colorized image's top 5.

    Images as in :mod:`colorkit.metrics.inputs` (uint8 (H, W, 3), batches, tensors in
    [0, 1], or lists of them, sizes may differ between pairs).
    """
    from colorkit import backbones

    preds, trues = _image_list(preds_rgb, "semantic_agreement"), _image_list(trues_rgb, "semantic_agreement")
    if len(preds) != len(trues) or not preds:
        raise ColorkitError(f"semantic_agreement: need equally many images, got {len(preds)} and {len(trues)}")
    model = _semantic_classifier()
    top1 = top5 = 0
    for p, t in zip(preds, trues, strict=True):
        if p.shape != t.shape:
            raise ColorkitError(f"semantic_agreement: prediction {tuple(p.shape[2:])} and truth {tuple(t.shape[2:])} "
                                "differ")
        probs = backbones.classify(model, torch.cat([p, t]))  # (2, 1000)
        true_class = int(probs[1].argmax())
        top1 += int(int(probs[0].argmax()) == true_class)
        top5 += int(true_class in probs[0].topk(5).indices.tolist())
    return {"top1": top1 / len(preds), "top5": top5 / len(preds)}
