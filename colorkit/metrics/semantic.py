"""Semantic agreement: does an ImageNet classifier see the same thing in a colorized image as in the original?

Opt-in in :func:`colorkit.metrics.evaluate_images`: one pass of EfficientNet-Lite2
(:mod:`colorkit.backbones`) per image; the network is loaded once and kept.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict

import numpy as np
import torch

from colorkit.errors import ColorkitError
from colorkit.metrics.inputs import as_images

_TRUE_CLASS: OrderedDict[str, int] = OrderedDict()  # an original's pixels -> its top-1 class


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
    top1, top5 = semantic_hits(preds_rgb, trues_rgb)
    return {"top1": float(top1.mean()), "top5": float(top5.mean())}


def semantic_hits(preds_rgb, trues_rgb) -> tuple[np.ndarray, np.ndarray]:
    """Per image pair, as :func:`semantic_agreement` counts them: ``(top1, top5)``, two float arrays (N,) of 0 / 1.

    An original's top-1 class is remembered (keyed by its pixels), so scoring several methods against
    the same photos classifies each photo once.
    """

    preds, trues = _image_list(preds_rgb, "semantic_agreement"), _image_list(trues_rgb, "semantic_agreement")
    if len(preds) != len(trues) or not preds:
        raise ColorkitError(f"semantic_agreement: need equally many images, got {len(preds)} and {len(trues)}")
    model = _semantic_classifier()
    for p, t in zip(preds, trues, strict=True):
        if p.shape != t.shape:
            raise ColorkitError(f"semantic_agreement: prediction {tuple(p.shape[2:])} and truth {tuple(t.shape[2:])} "
                                "differ")
    keys = [hashlib.sha1(t.numpy().tobytes()).hexdigest() + str(tuple(t.shape)) for t in trues]
    todo = {k: t for k, t in zip(keys, trues) if k not in _TRUE_CLASS}
    for k, probs in zip(todo, _probabilities(model, list(todo.values()))):
        _TRUE_CLASS[k] = int(probs.argmax())
    true_class = [_TRUE_CLASS[k] for k in keys]
    while len(_TRUE_CLASS) > 256:
        _TRUE_CLASS.popitem(last=False)
    probs = _probabilities(model, preds)  # (N, 1000)
    top1 = (probs.argmax(1).numpy() == np.array(true_class)).astype(float)
    top5 = np.array([float(c in row.tolist()) for c, row in zip(true_class, probs.topk(5, dim=1).indices)])
    return top1, top5


@torch.inference_mode()
def _probabilities(model, images: list[torch.Tensor], batch: int = 16) -> torch.Tensor:
    """Class probabilities (N, 1000) of images (1, 3, H, W) of any sizes: each centre-cropped to the classifier's
    size (:func:`colorkit.backbones.imagenet_input`), then ``batch`` at a time through the network."""
    from colorkit import backbones

    if not images:
        return torch.zeros(0, 1000)
    size = backbones.native_size(model)
    x = torch.cat([backbones.imagenet_input(im, size) for im in images])
    return torch.cat([model(x[s:s + batch]).float().softmax(dim=1) for s in range(0, len(x), batch)])
