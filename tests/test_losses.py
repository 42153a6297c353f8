"""colorkit.losses: closed forms, agreement with torch's own losses, and gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from colorkit import losses
from colorkit.errors import ColorkitError


def _pair(diff: float):
    true = torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(0)) * 30
    pred = (true + diff).requires_grad_(True)
    return pred, true


@pytest.mark.parametrize(
    "fn, diff, expected",
    [
        (losses.l2_loss, 2.0, 4.0),
        (losses.l1_loss, -2.0, 2.0),
        (losses.smooth_l1_loss, 2.0, 1.5),  # |d| - beta/2 above beta = 1
        (losses.smooth_l1_loss, 0.5, 0.125),  # d² / (2 beta) below
    ],
)
def test_regression_closed_forms_and_gradients(fn, diff, expected):
    pred, true = _pair(diff)
    loss = fn(pred, true)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_regression_rejects_shape_mismatch():
    with pytest.raises(ColorkitError, match="differ in shape"):
        losses.l2_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5))


def _soft_targets(N=2, Q=7, H=3, W=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, Q, H, W, generator=g, requires_grad=True)
    target = torch.softmax(torch.randn(N, Q, H, W, generator=g) * 2, dim=1)
    return logits, target


def test_soft_ce_matches_torch_cross_entropy_and_its_gradient():
    logits, target = _soft_targets()
    loss = losses.soft_ce_loss(logits, target)
    assert loss.item() == pytest.approx(F.cross_entropy(logits, target).item(), rel=1e-6)
    loss.backward()
    # d loss / d logits = (softmax - target) / number of pixels
    expected = (torch.softmax(logits, 1) - target) / (2 * 3 * 4)
    assert torch.allclose(logits.grad, expected.detach(), atol=1e-6)


def test_soft_ce_rebalancing_weights_each_pixel_by_its_target_class():
    logits = torch.zeros(1, 3, 1, 2)  # uniform prediction: per-pixel CE = log 3
    target = torch.zeros(1, 3, 1, 2)
    target[0, :, 0, 0] = torch.tensor([0.7, 0.2, 0.1])  # argmax 0
    target[0, :, 0, 1] = torch.tensor([0.1, 0.3, 0.6])  # argmax 2
    w = torch.tensor([0.5, 1.0, 4.0])
    loss = losses.soft_ce_loss(logits, target, w)
    assert loss.item() == pytest.approx((0.5 + 4.0) / 2 * math.log(3), rel=1e-6)
    assert losses.soft_ce_loss(logits, target, torch.ones(3)).item() == pytest.approx(math.log(3), rel=1e-6)


def test_soft_ce_hard_indices_equal_one_hot():
    logits, _ = _soft_targets()
    idx = torch.randint(0, 7, (2, 3, 4), generator=torch.Generator().manual_seed(2))
    one_hot = F.one_hot(idx, 7).permute(0, 3, 1, 2).float()
    w = torch.linspace(0.5, 2.0, 7)
    a = losses.soft_ce_loss(logits, idx, w)
    b = losses.soft_ce_loss(logits, one_hot, w)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)


def test_soft_ce_rejects_bad_weights():
    logits, target = _soft_targets()
    with pytest.raises(ColorkitError, match="weights"):
        losses.soft_ce_loss(logits, target, torch.ones(5))


# --- GAN ---------------------------------------------------------------------------------------


def test_gan_loss_closed_forms():
    zeros = torch.zeros(2, 1, 3, 3)
    ones = torch.ones(2, 1, 3, 3)
    assert losses.gan_loss(zeros, True).item() == pytest.approx(math.log(2))
    assert losses.gan_loss(zeros, False).item() == pytest.approx(math.log(2))
    # label smoothing: BCE(x, 0.9) = softplus(x) - 0.9 x
    x = torch.full((1, 1, 2, 2), 2.0)
    assert losses.gan_loss(x, True, real_label=0.9).item() == pytest.approx(F.softplus(x).mean().item() - 1.8)
    assert losses.gan_loss(ones, True, mode="lsgan").item() == pytest.approx(0.0)
    assert losses.gan_loss(ones, False, mode="lsgan").item() == pytest.approx(1.0)
    assert losses.gan_loss(ones, True, mode="lsgan", real_label=0.9).item() == pytest.approx(0.01)
    v = torch.tensor([1.0, 3.0])
    assert losses.gan_loss(v, True, mode="wgan").item() == pytest.approx(-2.0)
    assert losses.gan_loss(v, False, mode="wgan").item() == pytest.approx(2.0)
    with pytest.raises(ColorkitError, match="mode"):
        losses.gan_loss(v, True, mode="hinge")


@pytest.mark.parametrize("mode", ["vanilla", "lsgan", "wgan"])
def test_gan_loss_gradient_pushes_fakes_down(mode):
    pred = torch.full((4, 1, 2, 2), 0.3, requires_grad=True)
    losses.gan_loss(pred, False, mode=mode).backward()
    assert (pred.grad > 0).all()  # descending lowers the critic's score of fakes


def test_gradient_penalty_closed_form_for_a_linear_critic():
    a = torch.randn(1, 2, 4, 4, generator=torch.Generator().manual_seed(3))

    def critic(x):
        return (x * a).sum(dim=(1, 2, 3))  # gradient is a everywhere, whatever the input

    real, fake = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    gp = losses.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((a.norm().item() - 1) ** 2, rel=1e-5)


def test_gradient_penalty_trains_the_critic():
    torch.manual_seed(4)
    critic = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3, padding=1))
    real, fake = torch.randn(2, 2, 8, 8), torch.randn(2, 2, 8, 8)
    gp = losses.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    gp.backward()
    assert gp.item() > 0
    weights = [p for p in critic.parameters() if p.ndim > 1]  # biases do not change the input gradient
    assert all(w.grad is not None and torch.isfinite(w.grad).all() for w in weights)
    assert critic[0].weight.grad.abs().sum() > 0
    again = losses.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert again.item() == pytest.approx(gp.item())  # seeded ε: same number
