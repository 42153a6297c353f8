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
* The perceptual (feature) loss of DeOldify's NoGAN (:class:`FeatureLoss`): a
  frozen ImageNet VGG16 compares the colorized image with the original.

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

# DeOldify's layers: the activations just before the 3rd, 4th and 5th max-pool of VGG16, weighted 20, 70, 10.
# In torchvision's vgg16().features the max-pools sit at 4, 9, 16, 23, 30, so these are relu3_3, relu4_3, relu5_3.
FEATURE_LAYERS = {"relu3_3": 15, "relu4_3": 22, "relu5_3": 29}
FEATURE_WEIGHTS = (20.0, 70.0, 10.0)


class FeatureLoss(torch.nn.Module):
    """DeOldify's perceptual loss (Antic 2019, after Johnson et al., ECCV 2016) on RGB images in [0, 1]::

        loss = pixel_weight · |x − y|₁  +  Σ_k w_k · |φ_k(x) − φ_k(y)|₁ / mean φ_k(y)

    φ_k: the ImageNet VGG16 activations before the 3rd, 4th and 5th max-pool
    (:data:`FEATURE_LAYERS`: relu3_3, relu4_3, relu5_3), weights w = 20, 70, 10
    (:data:`FEATURE_WEIGHTS`), the pixel term an L1 on RGB (DeOldify's ``base_loss``).

    **What the plain VGG16 changes.** DeOldify uses ``vgg16_bn``, whose batch
    norms keep every layer's activations at about unit scale, so its weights
    20/70/10 balance layers of similar size. The VGG16 available offline here
    (:func:`colorkit.backbones.vgg16_features`) has no batch norm: on photos in
    the Caffe convention its relu3_3 activations average in the tens and
    relu5_3's around one, so the raw L1s differ by more than 10x across layers.
    Each layer's error is therefore divided by the target's mean activation
    (a relative error, detached): the weights then mean what they mean in
    DeOldify, and the loss is zero exactly when the features agree.

    The network is frozen (eval mode, no gradients to its weights) and never
    enters a state dict: a method holds it outside the networks it trains.
    """

    def __init__(self, weights=FEATURE_WEIGHTS, pixel_weight: float = 1.0, layers=FEATURE_LAYERS):
        super().__init__()
        from colorkit.backbones import freeze, vgg16_features

        if len(weights) != len(layers):
            raise ColorkitError(f"FeatureLoss: {len(layers)} layers need {len(layers)} weights, got {len(weights)}")
        self.ids = list(layers.values())
        self.names = list(layers)
        self.weights = [float(w) for w in weights]
        self.pixel_weight = float(pixel_weight)
        self.vgg = freeze(vgg16_features()[: max(self.ids) + 1])

    def train(self, mode: bool = True):  # the VGG stays in eval mode whatever its owner does
        super().train(mode)
        self.vgg.eval()
        return self

    def features(self, rgb01: torch.Tensor) -> list[torch.Tensor]:
        """The activations of :data:`FEATURE_LAYERS` for RGB (N, 3, H, W) in [0, 1]."""
        from colorkit.backbones import vgg_input

        out, x = [], vgg_input(rgb01)
        for i, layer in enumerate(self.vgg):
            x = layer(x)
            if i in self.ids:
                out.append(x)
        return out

    def parts(self, pred_rgb: torch.Tensor, true_rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """The weighted terms: ``pixel`` and one per layer (``relu3_3`` ...); their sum is the loss."""
        _same_shape(pred_rgb, true_rgb, "FeatureLoss")
        with torch.no_grad():
            target = self.features(true_rgb)
        terms = {"pixel": self.pixel_weight * F.l1_loss(pred_rgb.float(), true_rgb.float())}
        for name, w, f, t in zip(self.names, self.weights, self.features(pred_rgb), target):
            terms[name] = w * F.l1_loss(f, t) / t.mean().clamp_min(1e-6)
        return terms

    def forward(self, pred_rgb: torch.Tensor, true_rgb: torch.Tensor) -> torch.Tensor:
        return sum(self.parts(pred_rgb, true_rgb).values())
