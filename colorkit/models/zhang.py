"""The Zhang et al. (ECCV 2016) colorization network, with a width multiplier.

Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016: a VGG-like
stack of 3x3 convolutions in eight blocks, ReLU after every convolution and
batch norm closing each block. Blocks 1–3 halve the size (stride 2 in their
last convolution), blocks 5–6 use dilation 2 to widen the receptive field at
stride 8, and block 8 upsamples once with a 4x4 transposed convolution, so
the output is at 1/4 of the input size:

    block  convs  channels (width 1)  stride out
      1      2        64                  2
      2      2       128                  4
      3      3       256                  8
      4      3       512                  8
      5      3       512 (dilation 2)     8
      6      3       512 (dilation 2)     8
      7      3       512                  8
      8    1T + 2    256                  4   -> head (1x1): Q logits or 2 ab

``width=1.0`` is the published size (about 32 M parameters with Q = 313);
``width=0.25`` has 1/16 of the multiply-adds. L (N, 1, H, W) -> (N, 2|Q, H/4, W/4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorkit.models.heads import make_head, normalize_luma

# (number of 3x3 convs, channels at width 1, stride of the last conv, dilation)
BLOCKS = [(2, 64, 2, 1), (2, 128, 2, 1), (3, 256, 2, 1), (3, 512, 1, 1),
          (3, 512, 1, 2), (3, 512, 1, 2), (3, 512, 1, 1)]


def _block(c_in: int, c_out: int, n: int, stride: int, dilation: int) -> nn.Sequential:
    layers = []
    for i in range(n):
        s = stride if i == n - 1 else 1
        conv = nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, s, dilation, dilation=dilation)
        layers += [conv, nn.ReLU(inplace=True)]
    layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers)


class ZhangNet(nn.Module):
    """eccv16 layout; ``width`` scales every channel count; head as in :mod:`colorkit.models.heads`."""

    out_stride = 4

    def __init__(self, width: float = 1.0, head: str = "logits", activation: str = "tanh", bins=None,
                 space: str = "lab"):
        super().__init__()
        self.space = space
        c = lambda n: max(1, round(n * width))  # noqa: E731
        blocks, c_in = [], 1
        for n, ch, stride, dil in BLOCKS:
            blocks.append(_block(c_in, c(ch), n, stride, dil))
            c_in = c(ch)
        blocks.append(nn.Sequential(  # block 8: upsample to stride 4
            nn.ConvTranspose2d(c_in, c(256), 4, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(c(256), c(256), 3, 1, 1), nn.ReLU(inplace=True),
            nn.Conv2d(c(256), c(256), 3, 1, 1), nn.ReLU(inplace=True)))
        self.body = nn.Sequential(*blocks)
        self.head = make_head(head, c(256), activation=activation, bins=bins, space=space)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """L (N, 1, H, W) in [0, 100] -> (N, 2|Q, ceil(H/4), ceil(W/4))."""
        h, w = L.shape[-2:]
        x = normalize_luma(L, self.space)
        ph, pw = -h % 8, -w % 8
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        out = self.head(self.body(x))
        return out[..., : -(-h // 4), : -(-w // 4)]
