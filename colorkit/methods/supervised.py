"""Supervised colorization: luma -> chroma, one network, a per-pixel loss.

One method for both of the course's supervised families; the network's head
decides which loss applies:

- a **regression** head (``head: ab``) predicts chroma directly and is trained
  with ``loss.kind`` = ``l2`` | ``l1`` | ``smooth_l1`` against the true chroma
  area-averaged to the output size (notebook 03);
- a **classification** head (``head: logits``) predicts a distribution over
  chroma bins and is trained with ``loss.kind: ce``, the soft-target
  cross-entropy of Zhang et al. (ECCV 2016): the true chroma soft-encoded over
  its 5 nearest bins (Gaussian, sigma 5 ab units, or the same share of the
  chroma range in YUV), each pixel weighted by the class
  rebalancing weight ``w ∝ ((1 - λ) p̃ + λ / Q)⁻¹`` of its bin when
  ``loss.rebalance: λ`` is set (notebook 04);
- a regression head with ``loss.kind: feature`` is trained with DeOldify's
  perceptual loss (:class:`colorkit.losses.FeatureLoss`: pixel L1 plus VGG16
  relu3_3/4_3/5_3 differences weighted 20/70/10) between the RGB image made of
  the batch's luma with the predicted chroma and the original (NoGAN's first
  phase, notebook 07); ``loss.feature_weights`` and ``loss.pixel_weight`` change it.

A **palette** classifier (ColorUNet, Billaut et al. 2018; ``model.palette: n``,
``space: yuv``, notebook 05) picks its ``n`` classes at setup: the ``n`` most
frequent cells of a UV grid (``model.palette_grid``, default 11 x 11) over
``loss.prior_crops`` training crops (:func:`colorkit.quantize.yuv_palette`),
written into the head's ``bins`` buffer so the checkpoint carries them. Its
target is each pixel's *nearest* palette colour (a hard class, not a soft
encoding), and its rebalancing prior P̂ is the share of pixels of each class.

The prior p̃ for rebalancing: in Lab, the training photos' ab histogram
(``data/stats/ab_hist.npz``, written by ``colorkit data build``); in any
other space (or without that file), counted from ``loss.prior_crops`` random
training crops at setup.
"""

from __future__ import annotations

import torch

from colorkit import data, losses, quantize
from colorkit.color import CHROMA_SCALE
from colorkit.errors import ColorkitError
from colorkit.methods.base import Context, Method, match_size, rgb_of

REGRESSION_LOSSES = {"l2": losses.l2_loss, "l1": losses.l1_loss, "smooth_l1": losses.smooth_l1_loss}


def sample_chroma(train_set, key: str, n: int = 512) -> torch.Tensor:
    """The chroma ``key`` of ``n`` training items (n, 2, s, s), drawn with a fixed seed, so repeatable."""
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, len(train_set), (n,), generator=g).tolist()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return torch.stack([train_set[i][key] for i in idx])


def chroma_prior(train_set, bins: torch.Tensor, key: str, n: int = 512, sigma: float = 5.0) -> torch.Tensor:
    """Prior (Q,) over ``bins`` counted from the chroma ``key`` of ``n`` training items (seeded, so repeatable)."""
    return quantize.prior_from_ab(sample_chroma(train_set, key, n), bins, sigma=sigma)



def feature_loss(ctx: Context) -> losses.FeatureLoss:
    """The phase's :class:`colorkit.losses.FeatureLoss` (``loss.feature_weights``, ``loss.pixel_weight``)."""
    return losses.FeatureLoss(weights=ctx.loss.get("feature_weights") or losses.FEATURE_WEIGHTS,
                              pixel_weight=float(ctx.loss.get("pixel_weight", 1.0))).to(ctx.device)


def perceptual(ctx: Context, luma: torch.Tensor, pred: torch.Tensor, true: torch.Tensor,
               parts: dict | None = None) -> torch.Tensor:
    """The feature loss between the RGB of (luma, predicted chroma) and of (luma, true chroma);
    ``parts`` (a dict) receives each weighted term (``pixel``, ``relu3_3`` ...) as a number."""
    space = ctx.cfg["space"]
    terms = ctx.extra["feature"].parts(rgb_of(luma, pred, space), rgb_of(luma, true, space))
    if parts is not None:
        parts.update({f"feat_{k}": v.item() for k, v in terms.items()})
    return sum(terms.values())


class Supervised(Method):
    """L -> ab (or Y -> UV) with a regression or a classification loss, chosen by the head."""

    name = "supervised"
    networks = ("net",)

    def setup(self, nets: dict, ctx: Context, train_set) -> None:
        head = ctx.raw("net").head
        kind = ctx.loss["kind"]
        ctx.extra["weights"] = None
        if head.kind == "ab":
            if kind == "feature":
                ctx.extra["feature"] = feature_loss(ctx)
                return
            if kind not in REGRESSION_LOSSES:
                known = ", ".join([*REGRESSION_LOSSES, "feature"])
                raise ColorkitError(f"a regression head needs loss.kind in {known}, not {kind!r}")
            ctx.extra["loss_fn"] = REGRESSION_LOSSES[kind]
            return
        if kind != "ce":
            raise ColorkitError(f"a classification (logits) head needs loss.kind 'ce', not {kind!r}")
        palette = ctx.cfg["model"].get("palette")
        if palette:  # ColorUNet: the palette and its frequencies P̂, from one seeded sample of training crops
            crops = sample_chroma(train_set, ctx.chroma, int(ctx.loss.get("prior_crops", 512)))
            if not bool(head.bins.abs().sum()):  # picked once; a resumed run keeps its palette
                grid = int(ctx.cfg["model"].get("palette_grid", 11))
                head.bins.copy_(quantize.yuv_palette(crops, int(palette), nbins=grid).to(head.bins.device))
            head.frequencies.copy_(quantize.prior_from_ab(crops, head.bins.cpu(), sigma=0.0).to(head.frequencies))
        bins = head.bins
        ctx.extra["bins"] = bins
        ctx.extra["hard"] = bool(palette)
        ctx.extra["sigma"] = sigma = 0.0 if palette else 5.0 * CHROMA_SCALE[ctx.cfg["space"]] / CHROMA_SCALE["lab"]
        lam = ctx.loss.get("rebalance")
        if lam is not None:
            prior = head.frequencies.double().cpu() if palette else None
            if ctx.cfg["space"] == "lab" and not palette:
                try:
                    prior = quantize.empirical_prior(data.load_ab_hist()[0], bins.cpu(), sigma=5.0)
                except (ColorkitError, OSError):
                    prior = None
            if prior is None:
                n = int(ctx.loss.get("prior_crops", 512))
                prior = chroma_prior(train_set, bins.cpu(), ctx.chroma, n=n, sigma=sigma)
            ctx.extra["prior"] = prior
            ctx.extra["weights"] = quantize.rebalance_weights(prior, lam=float(lam)).to(ctx.device)

    def loss(self, batch: dict, nets: dict, ctx: Context, parts: dict | None = None) -> torch.Tensor:
        luma, chroma = batch[ctx.luma], batch[ctx.chroma]
        with ctx.autocast():
            out = nets["net"](luma)
        if "feature" in ctx.extra:
            return perceptual(ctx, luma, out, chroma, parts)
        target = match_size(chroma, out)
        if "loss_fn" in ctx.extra:
            return ctx.extra["loss_fn"](out.float(), target)
        if ctx.extra["hard"]:  # a palette: the nearest colour's class
            cls = quantize.quantize_uv(target.float(), ctx.extra["bins"].to(target.device))
            return losses.soft_ce_loss(out.float(), cls, ctx.extra["weights"])
        soft = quantize.soft_encode(target, ctx.extra["bins"], k=5, sigma=ctx.extra["sigma"])
        return losses.soft_ce_loss(out.float(), soft, ctx.extra["weights"])

    def step(self, batch: dict, nets: dict, ctx: Context) -> dict:
        parts: dict = {}
        loss = self.loss(batch, nets, ctx, parts)
        ctx.update(loss, "net")
        return {"loss": loss.item(), **parts}

    def val_loss(self, batch: dict, nets: dict, ctx: Context) -> torch.Tensor:
        return self.loss(batch, nets, ctx)
