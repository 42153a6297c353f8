"""ColorUNet (Billaut et al. 2018): a palette classifier in YUV, trained in the quick budget.

The palette is picked from the training photos at setup, saved with the weights, and a
loaded checkpoint colorizes in YUV keeping the input's luma (BT.601 Y).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorkit import checkpoint, quantize
from colorkit import train as T
from colorkit.color import image_to_tensor, rgb_to_yuv
from colorkit.data import load_samples
from colorkit.infer import Colorizer
from colorkit.methods.base import Context
from colorkit.methods.supervised import Supervised
from colorkit.models import build_model
from colorkit.paths import CONFIGS_DIR

pytestmark = pytest.mark.usefixtures("isolated_data")


def test_palette_model_starts_without_colours_and_keeps_loaded_ones():
    net = build_model({"arch": "unet", "base": 8, "depth": 3, "head": "logits", "palette": 5, "palette_grid": 11,
                       "space": "yuv"})
    assert net.head.bins.shape == (5, 2) and not net.head.bins.abs().sum()
    pal = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [-0.1, 0.0], [0.0, -0.1]])
    again = build_model({"arch": "unet", "base": 8, "depth": 3, "head": "logits", "palette": 5, "space": "yuv"},
                        bins=pal)
    assert torch.equal(again.head.bins, pal)


def test_palette_target_is_the_nearest_colour_and_rebalanced():
    """The hard-target loss equals the weighted NLL of each pixel's nearest palette class."""
    cfg = {"space": "yuv", "model": {"palette": 3}, "loss": {"kind": "ce", "rebalance": 0.5, "prior_crops": 4}}
    net = build_model({"arch": "unet", "base": 8, "depth": 3, "head": "logits", "palette": 3, "space": "yuv"})
    uv = torch.zeros(1, 2, 16, 16)
    uv[:, 0, :, :4] = 0.3  # a quarter of the pixels bluish: a rarer class
    uv[:, 1, :, -2:] = 0.3  # an eighth reddish: the rarest
    items = [{"Y": torch.rand(1, 16, 16), "UV": uv[0]}] * 4

    ctx = Context(cfg=cfg, device=torch.device("cpu"), phase={"loss": cfg["loss"]}, raw_nets={"net": net})
    m = Supervised(cfg)
    m.setup({"net": net}, ctx, items)
    pal = net.head.bins
    assert pal.abs().sum() > 0 and len(torch.unique(pal, dim=0)) == 3
    assert torch.allclose(pal[0], torch.zeros(2), atol=1e-6)  # the fullest cell: grey, a cell centre (odd grid)
    w = ctx.extra["weights"]
    grey, blue = 0, int(quantize.nearest_bin(torch.tensor([0.3, 0.0]).view(1, 2, 1, 1), pal))
    assert w[blue] > w[grey] > 0  # the rarer colour weighs more
    freq = net.head.frequencies  # saved with the weights: the P̂ of the weights
    assert torch.allclose(freq.sum(), torch.ones(())) and freq[0] == freq.max()
    assert torch.allclose(freq[[grey, blue]].float(), torch.tensor([5 / 8, 1 / 4]), atol=1e-6)

    batch = {"Y": torch.rand(2, 1, 16, 16), "UV": uv.repeat(2, 1, 1, 1)}
    loss = m.loss(batch, {"net": net}, ctx)
    out = net(batch["Y"]).float()
    cls = quantize.nearest_bin(torch.nn.functional.interpolate(batch["UV"], size=out.shape[-2:], mode="area"), pal)
    nll = torch.nn.functional.nll_loss(torch.log_softmax(out, 1), cls, reduction="none")
    assert torch.allclose(loss, (nll * w[cls]).mean(), rtol=1e-4)


def test_colorunet_quick_run_saves_its_palette_and_colorizes_in_yuv(photos, tmp_path):
    path = T.train(CONFIGS_DIR / "colorunet.yaml", profile="quick", data=photos, out=tmp_path / "run",
                   device="cpu", progress=False)
    n = T.load_config("colorunet", "quick")["model"]["palette"]
    exp = checkpoint.export(path, tmp_path / "colorunet.pt")
    col = Colorizer(exp, device="cpu")
    assert col.space == "yuv" and col.kind == "logits"
    assert col.bins.shape == (n, 2) and len(torch.unique(col.bins, dim=0)) == n
    assert torch.allclose(col.model.head.frequencies.sum(), torch.ones(()), atol=1e-3)
    step_u, step_v = 0.9 / 11, 1.3 / 11  # centres of the 11 x 11 grid over U in [-0.45, 0.45], V in [-0.65, 0.65]
    iu, iv = (col.bins[:, 0] + 0.45) / step_u - 0.5, (col.bins[:, 1] + 0.65) / step_v - 0.5
    assert torch.allclose(iu, iu.round(), atol=1e-3) and torch.allclose(iv, iv.round(), atol=1e-3)

    img = dict(load_samples())["fruits"]
    out = col.colorize(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    y_in, y_out = (rgb_to_yuv(image_to_tensor(a))[0, 0] for a in (img, out))
    assert (y_out - y_in).abs().mean() < 0.01  # the output's luma is the input's (up to gamut clipping)
    probs = col.predict_distribution(img)
    assert probs.shape[0] == n and torch.allclose(probs.sum(0), torch.ones(()), atol=1e-4)
    hot, cold = col.colorize(img, temperature=0.1), col.colorize(img, temperature=1.0)
    assert not np.array_equal(hot, cold)  # the temperature re-decodes the cached probabilities
