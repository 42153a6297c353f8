"""Training losses: regression on ab, soft-target cross-entropy over bins, GAN losses.

* Regression (seeds 001, 002): the network predicts ab directly and is scored
  by L2, L1 or smooth L1 against the true ab. L2 is minimised by the
  conditional *mean* of the colours a grey patch could have, which is why it
  desaturates; L1 by the median.
* Classification (Zhang et al. 2016, eqs. 2-3): the network predicts logits
  over Q ab bins; the target is the soft encoding of the true ab
  (:func:`colorkit.quantize.soft_encode`), and each pixel is weighted by
  the rebalancing weight of its target's most likely bin.
* GANs (pix2pix, WGAN-GP): the adversarial terms for a generator and a critic.

All losses return a scalar tensor (the mean over pixels) and keep the graph.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from colorkit.errors import ColorkitError

# --- regression -------------------------------------------------------------------------


def _same_shape(pred: torch.Tensor, true: torch.Tensor, name: str) -> None:
    if pred.shape != true.shape:
        raise ColorkitError(f"{name}: prediction {tuple(pred.shape)} and target {tuple(true.shape)} differ in shape")


def l2_loss(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all elements of (N, 2, H, W), in (ab units)²."""
    _same_shape(pred_ab, true_ab, "l2_loss")
    return F.mse_loss(pred_ab, true_ab)


def l1_loss(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over all elements of (N, 2, H, W), in ab units."""
    _same_shape(pred_ab, true_ab, "l1_loss")
    return F.l1_loss(pred_ab, true_ab)


def smooth_l1_loss(pred_ab: torch.Tensor, true_ab: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Huber-style loss on (N, 2, H, W): quadratic for errors below ``beta`` ab units, linear above."""
    _same_shape(pred_ab, true_ab, "smooth_l1_loss")
    return F.smooth_l1_loss(pred_ab, true_ab, beta=beta)


# --- classification over ab bins ------------------------------------------------------------


def soft_ce_loss(logits: torch.Tensor, target_soft: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Multinomial cross-entropy with soft targets and per-pixel rebalancing (Zhang et al., eqs. 2-3).

    logits (N, Q, H, W); target_soft (N, Q, H, W), each pixel a distribution
    over Q (or class indices (N, H, W), long, for one-hot targets); weights
    (Q,) or None. Per pixel::

        loss_hw = - w[argmax_q Z_hw] * Σ_q Z_hw,q log softmax(logits_hw)_q

    and the result is the mean over the N·H·W pixels (with weights normalised
    so that E_p[w] = 1, the scale matches the unweighted loss).
    """
    logp = torch.log_softmax(logits.float(), dim=1)  # (N, Q, H, W)
    if not target_soft.is_floating_point():  # hard class indices
        if target_soft.shape != logits.shape[:1] + logits.shape[2:]:
            raise ColorkitError(f"soft_ce_loss: class indices {tuple(target_soft.shape)} "
                                f"do not match logits {tuple(logits.shape)}")
        per_pixel = F.nll_loss(logp, target_soft, reduction="none")  # (N, H, W)
        cls = target_soft
    else:
        _same_shape(logits, target_soft, "soft_ce_loss")
        per_pixel = -(target_soft.float() * logp).sum(1)  # (N, H, W)
        cls = target_soft.argmax(1)
    if weights is not None:
        weights = torch.as_tensor(weights, dtype=per_pixel.dtype, device=per_pixel.device)
        if weights.shape != (logits.shape[1],):
            raise ColorkitError(f"soft_ce_loss: weights must have shape ({logits.shape[1]},), "
                                f"got {tuple(weights.shape)}")
        per_pixel = per_pixel * weights[cls]
    return per_pixel.mean()


# --- GAN losses ------------------------------------------------------------------------------

GAN_MODES = ("vanilla", "lsgan", "wgan")


def gan_loss(pred: torch.Tensor, target_is_real: bool, mode: str = "vanilla", real_label: float = 1.0) -> torch.Tensor:
    """Adversarial loss on critic outputs ``pred`` (any shape, e.g. PatchGAN (N, 1, h, w)).

    - ``"vanilla"``: binary cross-entropy on logits (Goodfellow et al. 2014);
    - ``"lsgan"``: squared error to the target label (Mao et al. 2017);
    - ``"wgan"``: -mean(pred) for real, +mean(pred) for fake (Arjovsky et al. 2017;
      pair with :func:`gradient_penalty`).

    The critic is trained with ``gan_loss(D(real), True) + gan_loss(D(fake), False)``;
    the generator with ``gan_loss(D(fake), True)``. One-sided label smoothing
    (Salimans et al. 2016): pass ``real_label=0.9`` for the critic's real
    targets only (keep 1.0 for the generator). It has no meaning for ``wgan``,
    which ignores it.
    """
    if mode not in GAN_MODES:
        raise ColorkitError(f"gan_loss: mode must be one of {', '.join(GAN_MODES)}, not {mode!r}")
    pred = pred.float()
    if mode == "wgan":
        return -pred.mean() if target_is_real else pred.mean()
    target = torch.full_like(pred, real_label if target_is_real else 0.0)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(pred, target)
    return F.mse_loss(pred, target)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty E[(‖∇ critic(x̂)‖₂ - 1)²] (Gulrajani et al. 2017), unscaled: multiply by λ (10 in the paper).

    x̂ = ε·real + (1 - ε)·fake with ε ~ U[0, 1] drawn per sample; real and fake
    are (N, C, H, W). ``critic`` is any callable on such a batch — for a
    conditional critic pass ``lambda ab: D(torch.cat([L, ab], 1))``. The graph is
    kept (create_graph) so the penalty trains the critic.
    """
    _same_shape(real, fake, "gradient_penalty")
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, generator=generator, dtype=real.dtype)
    x = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)  # (N,)
    return ((norm - 1) ** 2).mean()


# --- perceptual (VGG16 feature) loss -----------------------------------------------------------
# The feature loss used by NoGAN (DeOldify) belongs here; it is added with notebook 07.
