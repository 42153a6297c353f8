"""A pix2pix-style U-Net: L (N, 1, H, W) -> ab (N, 2, H/s, W/s) or logits (N, Q, H/s, W/s).

Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017: an encoder of 4x4 stride-2 convolutions (conv -> batch
norm -> LeakyReLU 0.2), a mirrored decoder of 4x4 stride-2 transposed
convolutions (-> batch norm -> ReLU), and skip connections that concatenate
each encoder level onto the decoder level of the same size, so fine spatial
detail does not have to pass through the bottleneck.

Channels at encoder level i (stride 2^(i+1)) are ``min(base · 2^i, max_ch)``;
``depth`` levels bring the bottleneck to stride 2^depth. ``out_stride`` says
where the head sits: 1 = full input size (the pix2pix output layer, a
transposed convolution from stride 2), 2, 4, ... = a 1x1 head on the decoder
features at that stride, skipping the costly high-resolution decoder levels.
Chroma is smooth and is upsampled to full size anyway (Zhang et al. predict at
1/4 size), so ``out_stride`` 2 or 4 buys speed at little cost.

Inputs whose sides are not multiples of 2^depth are reflect-padded and the
output cropped back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from colorkit.models.heads import make_head, normalize_luma


def _down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    """(N, c_in, h, w) -> (N, c_out, h/2, w/2)."""
    layers = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _up(c_in: int, c_out: int, dropout: float, norm: bool = True) -> nn.Sequential:
    """(N, c_in, h, w) -> (N, c_out, 2h, 2w)."""
    layers = [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=not norm)] + ([nn.BatchNorm2d(c_out)] if norm else [])
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """pix2pix U-Net colorizer.

    Args:
        base: channels of the first encoder level.
        depth: number of stride-2 levels (bottleneck at stride 2^depth).
        max_ch: channel cap for the deep levels.
        head: ``"ab"`` (2 channels) or ``"logits"`` (Q = len(bins) channels).
        out_stride: output size = input size / out_stride (1, 2, 4, ...).
        activation: ab head activation, ``"tanh"`` (× 110) or ``"linear"``.
        dropout: dropout in the decoder (pix2pix uses 0.5 as its noise source).
        bins: (Q, 2) chroma bin centres for the logits head.
        space: chroma space, ``"lab"`` (L -> ab) or ``"yuv"`` (Y -> UV).
        norm: ``"batch"`` (pix2pix) or ``"none"`` (no normalisation; e.g. to compare multi-process
            training with one process exactly, as batch statistics are per process on a CPU).
    """

    def __init__(self, base: int = 16, depth: int = 5, max_ch: int = 128, head: str = "ab", out_stride: int = 1,
                 activation: str = "tanh", dropout: float = 0.0, bins=None, space: str = "lab", norm: str = "batch"):
        super().__init__()
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be 'batch' or 'none', not {norm!r}")
        self.space = space
        bn = norm == "batch"
        if out_stride < 1 or out_stride & (out_stride - 1) or out_stride >= 2 ** depth:
            raise ValueError(f"out_stride must be a power of two below 2**depth={2 ** depth}, not {out_stride}")
        self.depth, self.out_stride = depth, out_stride
        ch = [min(base * 2 ** i, max_ch) for i in range(depth)]  # encoder level i sits at stride 2^(i+1)
        self.downs = nn.ModuleList(_down(1 if i == 0 else ch[i - 1], ch[i], norm=bn and i > 0) for i in range(depth))
        # decoder: from the bottleneck (level depth-1) up to level `stop`, the level at stride max(out_stride, 2)
        stop = int(math.log2(max(out_stride, 2))) - 1
        self.ups = nn.ModuleList()
        c_in = ch[depth - 1]
        for i in range(depth - 2, stop - 1, -1):
            self.ups.append(_up(c_in, ch[i], dropout, bn))
            c_in = 2 * ch[i]  # after concatenating the skip
        self.head = make_head(head, c_in, upsample=out_stride == 1, activation=activation, bins=bins, space=space)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """Luma (N, 1, H, W) (L in [0, 100], or Y in [0, 1]) -> (N, 2 or Q, H/out_stride, W/out_stride)."""
        h, w = L.shape[-2:]
        m = 2 ** self.depth
        ph, pw = -h % m, -w % m
        x = normalize_luma(L, self.space)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for up in self.ups:
            x = torch.cat([up(x), skips.pop()], dim=1)
        out = self.head(x)
        s = self.out_stride
        return out[..., : -(-h // s), : -(-w // s)]
