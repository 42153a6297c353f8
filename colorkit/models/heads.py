"""Output heads shared by every colorization network, and the input normalisation.

A network maps the lightness ``L`` (N, 1, H, W) in [0, 100] to one of two outputs:

- ``"ab"``: 2 channels of chroma in the units of the model's chroma space
  (``space="lab"``: ab, about [-110, 110]; ``"yuv"``: UV, about [-0.62, 0.62]),
  through ``tanh × scale`` (bounded, pix2pix-style) or a plain linear layer;
- ``"logits"``: Q unnormalised scores over the quantised ab bins of
  :mod:`colorkit.quantize` (Zhang et al. 2016). The bin centres (Q, 2) travel
  with the weights as a buffer, so a checkpoint decodes on its own.

:func:`to_ab` turns either output into ab, the only thing inference needs.
"""

from __future__ import annotations

import torch
from torch import nn

from colorkit import quantize
from colorkit.color import CHROMA_SCALE, LUMA_RANGE, check_space

AB_SCALE = CHROMA_SCALE["lab"]  # |a|, |b| of sRGB colours stay below ~110


def normalize_L(L: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] (N, 1, H, W) -> [-1, 1], the range every network sees."""
    return L / 50.0 - 1.0


def normalize_luma(x: torch.Tensor, space: str = "lab") -> torch.Tensor:
    """The luma of ``space`` (L in [0, 100], or Y in [0, 1]) (N, 1, H, W) -> [-1, 1]."""
    return x * (2.0 / LUMA_RANGE[space]) - 1.0


class ABHead(nn.Module):
    """Features (N, C, h, w) -> ab (N, 2, h', w').

    ``upsample=True`` makes the layer a 4x4 stride-2 transposed convolution
    (the last layer of the pix2pix U-Net, h' = 2h); otherwise a 1x1 convolution.
    ``activation``: ``"tanh"`` (ab = scale · tanh(z), scale 110 in Lab, 0.62 in YUV) or ``"linear"`` (ab = z).
    """

    kind = "ab"

    def __init__(self, in_ch: int, upsample: bool = False, activation: str = "tanh", space: str = "lab"):
        super().__init__()
        if activation not in ("tanh", "linear"):
            raise ValueError(f"ab activation must be 'tanh' or 'linear', not {activation!r}")
        self.activation, self.space, self.scale = activation, check_space(space), CHROMA_SCALE[space]
        self.proj = nn.ConvTranspose2d(in_ch, 2, 4, 2, 1) if upsample else nn.Conv2d(in_ch, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.proj(x)
        return self.scale * torch.tanh(z) if self.activation == "tanh" else z


class LogitHead(nn.Module):
    """Features (N, C, h, w) -> logits (N, Q, h', w') over the ab bins ``bins`` (Q, 2).

    ``upsample=True``: 4x4 stride-2 transposed convolution (h' = 2h); otherwise 1x1.
    """

    kind = "logits"

    def __init__(self, in_ch: int, bins: torch.Tensor, upsample: bool = False, space: str = "lab"):
        super().__init__()
        self.space = check_space(space)
        bins = torch.as_tensor(bins, dtype=torch.float32).reshape(-1, 2)
        self.register_buffer("bins", bins)  # (Q, 2) ab centres, saved with the weights
        q = bins.shape[0]
        self.proj = nn.ConvTranspose2d(in_ch, q, 4, 2, 1) if upsample else nn.Conv2d(in_ch, q, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def make_head(kind: str, in_ch: int, *, upsample: bool = False, activation: str = "tanh", bins=None,
              space: str = "lab") -> nn.Module:
    """Build the head named ``kind`` ("ab" or "logits") for chroma ``space``; ``bins`` (Q, 2) is required for logits."""
    if kind == "ab":
        return ABHead(in_ch, upsample=upsample, activation=activation, space=space)
    if kind == "logits":
        if bins is None:
            raise ValueError("a 'logits' head needs the chroma bins (Q, 2)")
        return LogitHead(in_ch, bins, upsample=upsample, space=space)
    raise ValueError(f"head must be 'ab' or 'logits', not {kind!r}")


def to_ab(model: nn.Module, out: torch.Tensor, method: str = "annealed", temperature: float = 0.38) -> torch.Tensor:
    """A network's raw output (N, 2|Q, h, w) -> ab (N, 2, h, w).

    Regression output is already ab. Classification logits are decoded over
    the model's bins with :func:`colorkit.quantize.decode` (mean, mode or
    annealed mean at ``temperature``).
    """
    if model.head.kind == "ab":
        return out
    return quantize.decode(out.float(), model.head.bins, method=method, T=temperature, from_logits=True)
