"""colorkit.models: every architecture's output shapes, parameter counts, gradients and state dicts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from colorkit import backbones
from colorkit import quantize as q
from colorkit.errors import ColorkitError
from colorkit.models import MODELS, Koalarization, PretrainedUNet, build_model, count_params

pytestmark = pytest.mark.usefixtures("isolated_data")

BINS = q.gamut_bins()  # (Q, 2)
Q = len(BINS)
H, W = 70, 90  # odd sizes, not multiples of 8 or 32

# --- parameter counts by formula ---------------------------------------------------------------------------


def conv(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


def bn(c):
    return 2 * c


def unet_params(base, depth, max_ch, out_stride, q):
    ch = [min(base * 2**i, max_ch) for i in range(depth)]
    n = conv(1, ch[0], 4)  # first level: bias, no norm
    n += sum(conv(ch[i - 1], ch[i], 4, bias=False) + bn(ch[i]) for i in range(1, depth))
    stop = int(math.log2(max(out_stride, 2))) - 1
    c_in = ch[-1]
    for i in range(depth - 2, stop - 1, -1):
        n += conv(c_in, ch[i], 4, bias=False) + bn(ch[i])
        c_in = 2 * ch[i]
    return n + (conv(c_in, q, 4) if out_stride == 1 else conv(c_in, q, 1))


def zhang_params(width, q):
    c = lambda n: max(1, round(n * width))  # noqa: E731
    n, c_in = 0, 1
    for convs, ch, _, _ in [(2, 64, 0, 0), (2, 128, 0, 0), (3, 256, 0, 0)] + [(3, 512, 0, 0)] * 4:
        n += conv(c_in, c(ch), 3) + (convs - 1) * conv(c(ch), c(ch), 3) + bn(c(ch))
        c_in = c(ch)
    n += conv(c_in, c(256), 4) + 2 * conv(c(256), c(256), 3)  # block 8: transposed conv + two convs
    return n + conv(c(256), q, 1)


# EfficientNet-Lite0 has 4,652,008 parameters (Tan & Le; timm's model card says 4.7 M); its encoder is
# that minus conv_head (320 -> 1280, 1x1, no bias), its batch norm and the 1280 -> 1000 classifier.
LITE0_ENCODER = 4_652_008 - conv(320, 1280, 1, bias=False) - bn(1280) - (1280 * 1000 + 1000)


def pretrained_unet_params(out_stride, q, dec=(256, 128, 64, 32, 16)):
    enc = {32: 320, 16: 112, 8: 40, 4: 24, 2: 16, 1: 0}  # Lite0 channels by stride
    strides = [16, 8, 4, 2, 1][: [16, 8, 4, 2, 1].index(out_stride) + 1]
    n, c_in = 0, enc[32]
    for k, s in enumerate(strides):
        skip = enc[s] + (1 if k == len(strides) - 1 else 0)  # + L in the last block
        n += conv(c_in + skip, dec[k], 3, bias=False) + bn(dec[k]) + conv(dec[k], dec[k], 3, bias=False) + bn(dec[k])
        c_in = dec[k]
    return n + conv(c_in, q, 1)


def koalarization_params(width, out_stride, q):
    c = lambda n: max(1, round(n * width))  # noqa: E731
    chans = [1, 64, 128, 128, 256, 256, 512, 512, 256]
    n = sum(conv(c(a) if a > 1 else 1, c(b), 3) for a, b in zip(chans, chans[1:], strict=False))  # encoder
    n += conv(c(256) + 1280, c(256), 1)  # fusion
    n += conv(c(256), c(128), 3) + conv(c(128), c(64), 3) + conv(c(64), c(64), 3)
    if out_stride <= 2:
        n += conv(c(64), c(32), 3)
    c_head = c(32) if out_stride <= 2 else c(64)
    return n + (conv(c_head, q, 4) if out_stride == 1 else conv(c_head, q, 1))


# --- every architecture -------------------------------------------------------------------------------------

CASES = {
    # id: (config, out_stride, output channels, trainable parameters by formula, frozen parameters)
    "unet-ab": ({"arch": "unet", "base": 8, "depth": 4, "max_ch": 32}, 1, 2, unet_params(8, 4, 32, 1, 2), 0),
    "unet-logits-s4": ({"arch": "unet", "base": 8, "depth": 5, "max_ch": 32, "head": "logits", "out_stride": 4},
                       4, Q, unet_params(8, 5, 32, 4, Q), 0),
    "zhang-logits": ({"arch": "zhang", "width": 0.125, "head": "logits"}, 4, Q, zhang_params(0.125, Q), 0),
    "zhang-ab": ({"arch": "zhang", "width": 0.125, "head": "ab"}, 4, 2, zhang_params(0.125, 2), 0),
    **{f"pretrained-{head}-s{s}": ({"arch": "pretrained_unet", "head": head, "out_stride": s}, s, q,
                                   pretrained_unet_params(s, q), LITE0_ENCODER)
       for head, q in (("ab", 2), ("logits", Q)) for s in (1, 2, 4)},
    **{f"koala-s{s}": ({"arch": "koalarization", "width": 0.25, "out_stride": s}, s, 2,
                       koalarization_params(0.25, s, 2), 4_652_008) for s in (1, 2, 4)},
    "koala-logits": ({"arch": "koalarization", "width": 0.25, "head": "logits"}, 1, Q,
                     koalarization_params(0.25, 1, Q), 4_652_008),
}


def _frozen_prefix(model):
    return "classifier." if isinstance(model, Koalarization) else "encoder."


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_params_grads_and_state_dict(case):
    cfg, s, channels, n_trainable, n_frozen = CASES[case]
    torch.manual_seed(0)
    model = build_model(cfg)
    assert count_params(model) == n_trainable
    assert sum(p.numel() for p in model.parameters()) == n_trainable + n_frozen
    L = torch.rand(2, 1, H, W) * 100
    model.train()
    out = model(L)
    assert out.shape == (2, channels, math.ceil(H / s), math.ceil(W / s))
    if cfg.get("head", "logits" if cfg["arch"] == "zhang" else "ab") == "ab":
        assert out.abs().max() <= 110.0  # tanh × 110
    (out.float() ** 2).mean().backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        else:
            assert p.grad is None, name
    grads = [p.grad.abs().sum() for p in model.parameters() if p.requires_grad]
    assert sum(grads) > 0
    if n_frozen:
        prefix = _frozen_prefix(model)
        assert all(not p.requires_grad for n, p in model.named_parameters() if n.startswith(prefix))
        assert not any(k.startswith(prefix) for k in model.state_dict())
    # state dict round trip: a fresh model (other random init) gives identical outputs after loading
    torch.manual_seed(1)
    other = build_model(cfg, bins=BINS if cfg.get("head") == "logits" else None)
    other.load_state_dict(model.state_dict(), strict=True)
    model.eval()
    other.eval()
    with torch.no_grad():
        assert torch.equal(model(L), other(L))


def test_registry_and_tiny_inputs():
    assert {"unet", "zhang", "pretrained_unet", "koalarization"} <= set(MODELS)
    assert MODELS["pretrained_unet"] is PretrainedUNet and MODELS["koalarization"] is Koalarization
    net = PretrainedUNet()
    with torch.no_grad():
        assert net(torch.rand(1, 1, 10, 50) * 100).shape == (1, 2, 10, 50)  # replicate padding path
        assert net(torch.rand(1, 1, 64, 96) * 100).shape == (1, 2, 64, 96)  # no padding
    with pytest.raises(ValueError, match="out_stride"):
        PretrainedUNet(out_stride=8)
    with pytest.raises(ValueError, match="5 channel counts"):
        PretrainedUNet(decoder=(64, 32))
    with pytest.raises(ValueError, match="out_stride"):
        Koalarization(width=0.25, out_stride=3)


# --- the pretrained encoder: frozen or fine-tuned ------------------------------------------------------------


def test_frozen_encoder_keeps_imagenet_weights_and_statistics():
    net = PretrainedUNet()
    reference = backbones.efficientnet_lite("lite0", features_only=True).state_dict()
    net.train()
    assert net.training and net.blocks.training and not net.encoder.training and not net.encoder_trainable
    net(torch.rand(2, 1, 64, 64) * 100).mean().backward()
    assert all(torch.equal(v, reference[k]) for k, v in net.encoder.state_dict().items())  # BN stats untouched
    assert not any(k.startswith("encoder.") for k in net.state_dict())
    with pytest.raises(ColorkitError, match="finetune_encoder=True"):
        net.encoder_trainable = True
    # a state dict without the encoder loads strictly into a model nested in another one
    parent = nn.ModuleDict({"generator": PretrainedUNet()})
    sd = parent.state_dict()
    assert sd and not any(".encoder." in k for k in sd)
    nn.ModuleDict({"generator": PretrainedUNet()}).load_state_dict(sd, strict=True)


def test_finetuned_encoder_is_trained_and_saved():
    net = PretrainedUNet(finetune_encoder=True)
    assert net.encoder_trainable and count_params(net) == pretrained_unet_params(1, 2) + LITE0_ENCODER
    net.train()
    assert net.encoder.training
    net(torch.rand(2, 1, 64, 64) * 100).mean().backward()
    assert all(p.grad is not None for p in net.encoder.parameters())
    sd = net.state_dict()
    assert sum(k.startswith("encoder.") for k in sd) == len(net.encoder.state_dict())
    with pytest.raises(RuntimeError, match="encoder"):  # a fine-tuned model needs its encoder weights
        PretrainedUNet(finetune_encoder=True).load_state_dict({k: v for k, v in sd.items()
                                                                if not k.startswith("encoder.")}, strict=True)
    # a trainer may freeze it for a phase (eval mode, no grads), then unfreeze it
    net.encoder_trainable = False
    net.train()
    assert not net.encoder.training and count_params(net) == pretrained_unet_params(1, 2)
    assert any(k.startswith("encoder.") for k in net.state_dict())  # still saved: it was fine-tuned
    net.encoder_trainable = True
    net.train()
    assert net.encoder.training and count_params(net) == pretrained_unet_params(1, 2) + LITE0_ENCODER
    # while fine-tuned, the encoder's batch norm keeps ImageNet's statistics (eval mode), its affine weights learn
    bns = [m for m in net.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns) and all(m.weight.requires_grad for m in bns)
    before = bns[0].running_mean.clone()
    net(torch.rand(2, 1, 64, 64) * 100).mean().backward()
    assert torch.equal(bns[0].running_mean, before) and bns[0].weight.grad is not None
    assert any(m.training for m in net.blocks.modules() if isinstance(m, torch.nn.BatchNorm2d))  # the decoder's do
    # the fine-tuned weights survive a round trip
    with torch.no_grad():
        net.encoder.conv_stem.weight.mul_(0.5)
    fresh = PretrainedUNet(finetune_encoder=True)
    fresh.load_state_dict(net.state_dict(), strict=True)
    assert torch.equal(fresh.encoder.conv_stem.weight, net.encoder.conv_stem.weight)


# --- Deep Koalarization -------------------------------------------------------------------------------------------


def test_koalarization_paper_size_and_embedding():
    assert count_params(Koalarization()) == koalarization_params(1.0, 1, 2)  # the paper's widths, 1280-d fusion
    net = Koalarization(width=0.25)
    net.train()
    assert not net.classifier.training and backbones.is_frozen(net.classifier)
    L = torch.rand(3, 1, H, W) * 100
    e = net.embed(L)
    # the embedding is the classifier's pooled feature of this very (crop of the) grey image at 224x224
    grey = (L / 100).expand(-1, 3, -1, -1)
    with torch.no_grad():
        x = backbones.imagenet_input(grey, size=224, crop=False)
        ref = net.classifier.forward_head(net.classifier.forward_features(x), pre_logits=True)
    assert e.shape == (3, 1280) and torch.allclose(e, ref) and not e.requires_grad
    assert not torch.allclose(e[0], e[1])  # different images, different embeddings
    # the embedding reaches the output: the fusion weights that read it get gradients
    net(L).pow(2).mean().backward()
    w = net.fusion[0].weight.grad  # (c, 64 + 1280, 1, 1)
    assert w[:, 64:].abs().sum() > 0
    assert not any(k.startswith("classifier.") for k in net.state_dict())


@pytest.mark.parametrize("cls", [PretrainedUNet, lambda **kw: Koalarization(width=0.25, **kw)])
def test_yuv_space(cls):
    net = cls(space="yuv")
    Y = torch.rand(1, 1, 40, 48)  # Y in [0, 1]
    with torch.no_grad():
        uv = net(Y)
    assert uv.shape == (1, 2, 40, 48) and uv.abs().max() <= 0.62
    assert net.head.space == "yuv"
