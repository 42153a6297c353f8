"""Colorization networks, built from the ``model`` section of a config.

Every colorizer maps L (N, 1, H, W) in [0, 100] to ``head.kind == "ab"``
(N, 2, h, w) chroma or ``"logits"`` (N, Q, h, w) over ab bins, with
``h = ceil(H / out_stride)``; :func:`to_ab` turns either into ab.

    >>> net = build_model({"arch": "unet", "base": 8, "depth": 4, "head": "ab"})
    >>> net(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 2, 64, 64])

Every architecture is listed in :data:`MODELS` (``arch:`` in a config names one).
"""

from __future__ import annotations

import torch
from torch import nn

from colorkit import quantize
from colorkit.models.heads import ABHead, LogitHead, normalize_L, to_ab
from colorkit.models.koalarization import Koalarization
from colorkit.models.patchgan import PatchGAN
from colorkit.models.pretrained_unet import PretrainedUNet
from colorkit.models.unet import UNet
from colorkit.models.zhang import ZhangNet

MODELS: dict[str, type[nn.Module]] = {"unet": UNet, "zhang": ZhangNet, "pretrained_unet": PretrainedUNet,
                                      "koalarization": Koalarization, "patchgan": PatchGAN}


def build_model(cfg: dict, bins: torch.Tensor | None = None) -> nn.Module:
    """The network described by a config's ``model`` section.

    ``cfg["arch"]`` picks the class; the other keys are its arguments, except
    ``bins_step`` (ab grid step for a ``head: logits`` model, default 10), used to
    derive the bins with :func:`colorkit.quantize.gamut_bins` unless ``bins``
    (Q, 2) is given (as when loading a checkpoint, whose weights carry them),
    and ``palette: n`` (ColorUNet, Billaut et al. 2018): the logits range over
    ``n`` palette colours that the training method picks from the training
    photos at setup (:func:`colorkit.quantize.yuv_palette`); until then the
    bins are zeros. A palette head also carries ``frequencies`` (n,), the share of
    training pixels nearest to each colour (the P̂ of its rebalancing weights).
    """
    kwargs = {k: v for k, v in cfg.items() if v is not None}  # null: the class's default (a config's base may set it)
    arch = kwargs.pop("arch", "unet")
    step = kwargs.pop("bins_step", 10)
    palette = kwargs.pop("palette", None)
    kwargs.pop("palette_grid", None)  # read by the training method's setup
    if arch not in MODELS:
        raise ValueError(f"unknown model arch {arch!r}; known: {', '.join(sorted(MODELS))}")
    if kwargs.get("head") == "logits":
        if bins is None:
            bins = torch.zeros(int(palette), 2) if palette else quantize.gamut_bins(step=step)
        kwargs["bins"] = torch.as_tensor(bins, dtype=torch.float32)
    model = MODELS[arch](**kwargs)
    if palette:  # the share of training pixels of each palette colour (P̂), set with the palette at setup
        model.head.register_buffer("frequencies", torch.zeros(int(palette)))
    return model


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["MODELS", "ABHead", "Koalarization", "LogitHead", "PretrainedUNet", "UNet", "ZhangNet", "build_model",
           "count_params", "normalize_L", "to_ab"]
