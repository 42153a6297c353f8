"""A conditional PatchGAN critic: (luma, chroma) -> a map of real/fake scores, one per image patch.

Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017 (pix2pix): instead of one verdict per image the critic
outputs a grid; each cell judges only the patch of the input it can see (its
*receptive field*), so the critic models local texture and colour and the L1
term takes care of the low frequencies. It sees the grey image together with
the colours ("conditional"), so it can tell a plausible colour *for this
scene* from a merely plausible colour.

Layers: ``n_layers`` 4x4 stride-2 convolutions (the first without
normalisation), then a 4x4 stride-1 convolution and a 4x4 stride-1 output
convolution to one channel, LeakyReLU 0.2 between them. The receptive field
of one output cell is :func:`receptive_field`: 34 px for ``n_layers=2`` (the
critic of Petre & Trăușan-Matu, seed 000) and 70 px for ``n_layers=3``
(pix2pix's "70x70 PatchGAN").

    critic = PatchGAN(n_layers=2)
    scores = critic(L, ab)     # (N, 1, h, w) logits
"""

from __future__ import annotations

import torch
from torch import nn

from colorkit.color import CHROMA_SCALE, check_space
from colorkit.models.heads import normalize_luma


def receptive_field(n_layers: int, kernel: int = 4) -> int:
    """Side in pixels of the input patch one output cell of :class:`PatchGAN` sees.

    Walk back from one output cell: a layer of kernel k and stride s turns a
    field of r cells into ``(r - 1) * s + k``.
    """
    strides = [2] * n_layers + [1, 1]
    r = 1
    for s in reversed(strides):
        r = (r - 1) * s + kernel
    return r


class PatchGAN(nn.Module):
    """Conditional PatchGAN over (luma (N, 1, H, W), chroma (N, 2, H, W)) -> logits (N, 1, h, w).

    Args:
        base: channels of the first layer (doubled per level, capped at ``8 * base``).
        n_layers: stride-2 layers (2 -> 34 px patches, 3 -> 70 px).
        norm: ``"batch"`` (pix2pix), ``"instance"`` or ``"none"`` (WGAN-GP's gradient penalty is
            per sample, so batch norm, which mixes samples, should not be used with it).
        space: chroma space of the inputs (``"lab"`` or ``"yuv"``), to scale them to about [-1, 1].
    """

    def __init__(self, base: int = 64, n_layers: int = 3, norm: str = "batch", space: str = "lab"):
        super().__init__()
        if norm not in ("batch", "instance", "none"):
            raise ValueError(f"critic norm must be batch, instance or none, not {norm!r}")
        self.space, self.n_layers = check_space(space), n_layers
        self.receptive_field = receptive_field(n_layers)

        def block(c_in: int, c_out: int, stride: int, use_norm: bool) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride, 1, bias=not (use_norm and norm != "none"))]
            if use_norm and norm == "batch":
                layers.append(nn.BatchNorm2d(c_out))
            elif use_norm and norm == "instance":
                layers.append(nn.InstanceNorm2d(c_out, affine=True))
            return layers + [nn.LeakyReLU(0.2, inplace=True)]

        ch = [min(base * 2 ** i, 8 * base) for i in range(n_layers + 1)]
        layers = block(3, ch[0], 2, use_norm=False)
        for i in range(1, n_layers):
            layers += block(ch[i - 1], ch[i], 2, use_norm=True)
        layers += block(ch[n_layers - 1], ch[n_layers], 1, use_norm=True)
        layers.append(nn.Conv2d(ch[n_layers], 1, 4, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, luma: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        """(luma (N, 1, H, W), chroma (N, 2, H, W)) -> patch logits (N, 1, ~H/2^n - 2, ~W/2^n - 2)."""
        x = torch.cat([normalize_luma(luma, self.space), chroma / CHROMA_SCALE[self.space]], dim=1)
        return self.body(x)
