"""Adversarial colorization: a generator ``net`` (luma -> chroma) against a conditional critic.

pix2pix (Isola et al., CVPR 2017) applied to colorization, as seeds 000 and
002 do: the critic (:class:`colorkit.models.patchgan.PatchGAN`) sees the grey
image with either the true or the generated colours; the generator is
trained to fool it while staying close to the true colours::

    critic:    gan(D(L, ab_true), real) + gan(D(L, G(L)), fake)       [+ λ_gp · GP for wgan]
    generator: gan(D(L, G(L)), real) + l1_weight · |G(L) - ab_true| / scale

``loss`` settings (any phase may override them):

- ``gan``: ``vanilla`` (BCE on logits) | ``lsgan`` | ``wgan`` (with the gradient
  penalty of Gulrajani et al. 2017, weight ``gp_weight``, default 10);
- ``l1_weight``: weight of the L1 term on chroma scaled to about [-1, 1]
  (pix2pix's λ = 100 is the default; 0 gives a pure GAN);
- ``real_label``: the critic's target for real pairs (one-sided label
  smoothing, Salimans et al. 2016: seed 000 uses 0.9);
- ``critic_steps``: critic updates per generator update (WGAN uses 5), each on
  a fresh batch from the stream;
- ``kind: feature``: the generator's reconstruction term is DeOldify's
  perceptual loss (:class:`colorkit.losses.FeatureLoss`) instead of
  ``l1_weight`` · L1, and the adversarial term is weighted ``adv_weight``
  (DeOldify's NoGAN: feature loss 1, adversarial 1.5)::

    generator: adv_weight · gan(D(L, G(L)), real) + FeatureLoss(rgb(L, G(L)), rgb(L, ab_true))

Which networks learn is the phase's business: a phase that trains only
``critic`` pretrains it on the (frozen) generator's outputs (DeOldify's NoGAN,
step 2); one that trains only ``net`` with ``l1_weight`` alone is plain
regression. The generator's output is upsampled to the batch size before the
critic sees it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from colorkit import losses
from colorkit.color import CHROMA_SCALE
from colorkit.errors import ColorkitError
from colorkit.methods.base import Context, Method, upsample_to
from colorkit.methods.supervised import feature_loss, perceptual

DEFAULTS = {"gan": "vanilla", "l1_weight": 100.0, "real_label": 1.0, "critic_steps": 1, "gp_weight": 10.0,
            "adv_weight": 1.0}


class GAN(Method):
    """Generator ``net`` and critic ``critic``, updated in turn (see the module docstring)."""

    name = "gan"
    networks = ("net", "critic")

    def setup(self, nets: dict, ctx: Context, train_set) -> None:
        opts = {**DEFAULTS, **{k: v for k, v in ctx.loss.items() if k in DEFAULTS}}
        if opts["gan"] not in losses.GAN_MODES:
            raise ColorkitError(f"loss.gan must be one of {', '.join(losses.GAN_MODES)}, not {opts['gan']!r}")
        if ctx.raw("net").head.kind != "ab":
            raise ColorkitError("the GAN method needs a generator with a regression (ab) head")
        if int(opts["critic_steps"]) < 1:
            raise ColorkitError(f"loss.critic_steps must be at least 1, not {opts['critic_steps']!r}")
        ctx.extra["gan"] = opts
        if ctx.loss.get("kind") == "feature" and ctx.trains("net"):
            ctx.extra["feature"] = feature_loss(ctx)

    def generate(self, nets: dict, ctx: Context, luma: torch.Tensor) -> torch.Tensor:
        """G(luma) at the batch's full size (N, 2, H, W)."""
        with ctx.autocast():
            out = nets["net"](luma)
        return upsample_to(out.float(), luma)

    def critic_loss(self, nets: dict, ctx: Context, batch: dict, stats: dict | None = None) -> torch.Tensor:
        """The critic's loss on one batch; ``stats`` (a dict) receives ``d_real`` and ``d_fake``.

        ``d_real`` / ``d_fake``: the critic's mean verdict on real and generated pairs, as a
        probability for ``vanilla`` (sigmoid of the logits) and as the raw output otherwise
        (LSGAN's regression target 1 / 0, WGAN's unbounded score).
        """
        o = ctx.extra["gan"]
        luma, real = batch[ctx.luma], batch[ctx.chroma]
        with torch.no_grad():
            fake = self.generate(nets, ctx, luma)
        with ctx.autocast():
            d_real, d_fake = nets["critic"](luma, real), nets["critic"](luma, fake)
        loss = losses.gan_loss(d_real, True, o["gan"], real_label=float(o["real_label"])) + \
            losses.gan_loss(d_fake, False, o["gan"])
        if o["gan"] == "wgan":
            gp = losses.gradient_penalty(lambda c: nets["critic"](luma, c), real, fake)
            loss = loss + float(o["gp_weight"]) * gp
        if stats is not None:
            verdict = torch.sigmoid if o["gan"] == "vanilla" else (lambda t: t)
            stats["d_real"] = verdict(d_real.detach().float()).mean().item()
            stats["d_fake"] = verdict(d_fake.detach().float()).mean().item()
        return loss

    def generator_loss(self, nets: dict, ctx: Context, batch: dict) -> tuple[torch.Tensor, dict]:
        o = ctx.extra["gan"]
        luma, real = batch[ctx.luma], batch[ctx.chroma]
        fake = self.generate(nets, ctx, luma)
        scale = CHROMA_SCALE[ctx.cfg["space"]]
        l1 = F.l1_loss(fake / scale, real / scale)
        logs = {"l1": l1.item()}
        with ctx.autocast():
            adv = losses.gan_loss(nets["critic"](luma, fake), True, o["gan"])
        logs["adv"] = adv.item()
        if "feature" in ctx.extra:
            rec = perceptual(ctx, luma, fake, real, logs)
        else:
            rec = float(o["l1_weight"]) * l1
        return float(o["adv_weight"]) * adv + rec, logs

    def step(self, batch: dict, nets: dict, ctx: Context) -> dict:
        logs = {}
        if ctx.trains("critic"):
            total, n = 0.0, int(ctx.extra["gan"]["critic_steps"])
            for k in range(n):
                stats: dict = {}
                loss_d = self.critic_loss(nets, ctx, batch if k == 0 else ctx.next_batch(), stats)
                ctx.update(loss_d, "critic")
                total += loss_d.item()
                for key, v in stats.items():
                    logs[key] = logs.get(key, 0.0) + v / n
            logs["loss_d"] = total / n
        if ctx.trains("net"):
            loss_g, parts = self.generator_loss(nets, ctx, batch)
            ctx.update(loss_g, "net")
            logs.update(loss_g=loss_g.item(), **parts)
        logs["loss"] = logs.get("loss_g", logs.get("loss_d", 0.0))
        return logs

    def val_loss(self, batch: dict, nets: dict, ctx: Context) -> torch.Tensor:
        """The generator's L1 (scaled chroma) on a validation batch: comparable across phases."""
        scale = CHROMA_SCALE[ctx.cfg["space"]]
        return F.l1_loss(self.generate(nets, ctx, batch[ctx.luma]) / scale, batch[ctx.chroma] / scale)
