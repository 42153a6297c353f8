"""Colour spaces on batched tensors: sRGB <-> CIE Lab and sRGB <-> YUV.

Why another colour space? An sRGB pixel mixes brightness and colour in all
three numbers. Colorization wants them apart: the grey photo we are given is
the brightness, and the model only has to guess the colour.

* **CIE Lab** (D65 white, 2° observer) splits a colour into lightness
  ``L`` in [0, 100] and two opponent colour axes: ``a`` (green -> red) and
  ``b`` (blue -> yellow), each roughly in [-110, 110]. It is built so that
  equal distances look about equally different to a person. The route is
  sRGB -> (undo the display gamma) linear RGB -> CIE XYZ -> Lab.
* **YUV** (ITU-R BT.601) is a single linear matrix: ``Y`` is the luma
  ``0.299 R + 0.587 G + 0.114 B`` in [0, 1]; ``U`` (about +-0.436) and
  ``V`` (about +-0.615) are blue- and red-difference chroma. Cheap and
  exactly invertible, but less perceptually even than Lab.

Every function here matches ``skimage.color`` (``rgb2lab``, ``lab2rgb``,
``rgb2yuv``, ``yuv2rgb`` with their defaults), but works on torch tensors of
shape ``(N, C, H, W)``, keeps the input's dtype and device, and is
differentiable: piecewise formulas use ``torch.where`` with clamped inputs so
no branch ever produces a NaN gradient.

Conventions: RGB in [0, 1]; L in [0, 100]; ab in about [-110, 110].
"""

from __future__ import annotations

import numpy as np
import torch

from colorkit.errors import ColorkitError

# --- constants (identical to skimage.color.colorconv) -----------------------

XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])  # reference white, 2° observer

YUV_FROM_RGB = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ]
)
RGB_FROM_YUV = np.linalg.inv(YUV_FROM_RGB)

_FLOATS = (torch.float32, torch.float64)


# --- checks and helpers -------------------------------------------------------


def _check(x, channels: int, name: str) -> torch.Tensor:
    """Raise a clear ColorkitError unless ``x`` is a float tensor (N, channels, H, W)."""
    if not isinstance(x, torch.Tensor):
        raise ColorkitError(f"{name}: expected a torch.Tensor of shape (N, {channels}, H, W), got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != channels:
        raise ColorkitError(f"{name}: expected shape (N, {channels}, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ColorkitError(f"{name}: expected a float tensor, got {x.dtype} (scale integer images to [0, 1] first)")
    return x


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    # float16 / bfloat16 are computed in float32 and cast back at the end.
    return x.dtype if x.dtype in _FLOATS else torch.float32


def _matmul(matrix: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 colour matrix to every pixel: (3, 3) @ (N, 3, H, W) -> (N, 3, H, W)."""
    m = torch.as_tensor(matrix, dtype=x.dtype, device=x.device)
    return torch.einsum("ij,njhw->nihw", m, x)


def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """Undo the sRGB display gamma (IEC 61966-2-1)."""
    curve = ((c.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4
    return torch.where(c > 0.04045, curve, c / 12.92)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """Apply the sRGB display gamma."""
    curve = 1.055 * c.clamp(min=0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(c > 0.0031308, curve, c * 12.92)


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    """CIE f(t): cube root above 0.008856, a straight line below (as skimage)."""
    return torch.where(t > 0.008856, t.clamp(min=0.008856) ** (1 / 3), 7.787 * t + 16.0 / 116.0)


def _lab_f_inv(t: torch.Tensor) -> torch.Tensor:
    """Inverse of ``_lab_f`` (skimage's threshold 0.2068966 = 6/29)."""
    return torch.where(t > 0.2068966, t**3, (t - 16.0 / 116.0) / 7.787)


# --- sRGB <-> Lab -----------------------------------------------------------------


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (N, 3, H, W) in [0, 1] -> Lab (N, 3, H, W): L in [0, 100], ab in about [-110, 110]."""
    _check(rgb, 3, "rgb_to_lab")
    x = rgb.to(_compute_dtype(rgb))
    xyz = _matmul(XYZ_FROM_RGB, _srgb_to_linear(x))  # (N, 3, H, W)
    white = torch.as_tensor(WHITE_D65, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    fx, fy, fz = _lab_f(xyz / white).unbind(1)  # each (N, H, W)
    lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)
    return lab.to(rgb.dtype)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """Lab (N, 3, H, W) -> sRGB (N, 3, H, W).

    ``clip=True`` behaves exactly like ``skimage.color.lab2rgb``: negative Z is
    set to 0 and the result is clipped to [0, 1]. ``clip=False`` returns the
    raw values, which leave [0, 1] for colours outside the sRGB gamut.
    """
    _check(lab, 3, "lab_to_rgb")
    x = lab.to(_compute_dtype(lab))
    L, a, b = x.unbind(1)  # each (N, H, W)
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    if clip:
        fz = fz.clamp(min=0.0)
    white = torch.as_tensor(WHITE_D65, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    xyz = _lab_f_inv(torch.stack([fx, fy, fz], dim=1)) * white
    rgb = _linear_to_srgb(_matmul(RGB_FROM_XYZ, xyz))
    if clip:
        rgb = rgb.clamp(0.0, 1.0)
    return rgb.to(lab.dtype)


def rgb_to_L(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (N, 3, H, W) -> Lab lightness L (N, 1, H, W) in [0, 100]; the grey image a model sees."""
    _check(rgb, 3, "rgb_to_L")
    x = rgb.to(_compute_dtype(rgb))
    y = _matmul(XYZ_FROM_RGB[1:2], _srgb_to_linear(x))  # relative luminance Y, (N, 1, H, W); white Y = 1
    return (116.0 * _lab_f(y) - 16.0).to(rgb.dtype)


def gray_to_L(gray: torch.Tensor) -> torch.Tensor:
    """Grey sRGB image (N, 1, H, W) in [0, 1] -> L (N, 1, H, W), equal to rgb_to_lab of R = G = B = gray."""
    _check(gray, 1, "gray_to_L")
    x = gray.to(_compute_dtype(gray))
    # For R = G = B the XYZ row for Y sums to 1, so Y is just the linearised grey value.
    return (116.0 * _lab_f(_srgb_to_linear(x)) - 16.0).to(gray.dtype)


def split_lab(lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Lab (N, 3, H, W) -> (L (N, 1, H, W), ab (N, 2, H, W))."""
    _check(lab, 3, "split_lab")
    return lab[:, :1], lab[:, 1:]


def merge_lab(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """(L (N, 1, H, W), ab (N, 2, H, W)) -> Lab (N, 3, H, W)."""
    _check(L, 1, "merge_lab (L)")
    _check(ab, 2, "merge_lab (ab)")
    if L.shape[0] != ab.shape[0] or L.shape[2:] != ab.shape[2:]:
        raise ColorkitError(
            f"merge_lab: L {tuple(L.shape)} and ab {tuple(ab.shape)} must share N, H and W "
            "(upsample ab to the size of L first)"
        )
    return torch.cat([L, ab.to(L.dtype)], dim=1)


def lab_in_gamut(lab: torch.Tensor, tol: float = 1e-3) -> torch.Tensor:
    """Bool mask (N, 1, H, W): True where the Lab colour is displayable in sRGB.

    A colour is in gamut when its unclipped sRGB values all lie in
    [-tol, 1 + tol]; the default ``tol`` (in RGB units, a quarter of one 8-bit
    level) absorbs float32 round-off.
    """
    rgb = lab_to_rgb(lab, clip=False)
    return ((rgb >= -tol) & (rgb <= 1.0 + tol)).all(dim=1, keepdim=True)


# --- sRGB <-> YUV -----------------------------------------------------------------


def rgb_to_yuv(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (N, 3, H, W) in [0, 1] -> YUV (N, 3, H, W): Y in [0, 1], U about +-0.436, V about +-0.615."""
    _check(rgb, 3, "rgb_to_yuv")
    return _matmul(YUV_FROM_RGB, rgb.to(_compute_dtype(rgb))).to(rgb.dtype)


def yuv_to_rgb(yuv: torch.Tensor, clip: bool = False) -> torch.Tensor:
    """YUV (N, 3, H, W) -> sRGB (N, 3, H, W); unclipped by default, as ``skimage.color.yuv2rgb``."""
    _check(yuv, 3, "yuv_to_rgb")
    rgb = _matmul(RGB_FROM_YUV, yuv.to(_compute_dtype(yuv)))
    if clip:
        rgb = rgb.clamp(0.0, 1.0)
    return rgb.to(yuv.dtype)


# --- numpy images <-> tensors ---------------------------------------------------------


def image_to_tensor(image: np.ndarray, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """uint8 image (H, W, 3) or grey (H, W) -> float tensor (1, 3, H, W) in [0, 1] (grey is repeated)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise ColorkitError(f"image_to_tensor: expected a uint8 numpy array, got {got}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ColorkitError(f"image_to_tensor: expected shape (H, W, 3) or (H, W), got {image.shape}")
    t = torch.from_numpy(np.require(image, requirements=("C", "W"))).permute(2, 0, 1)[None]  # (1, 3, H, W)
    return (t.to(device=device, dtype=dtype) / 255.0).contiguous()


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """Float tensor (1, 3, H, W) or (3, H, W) in [0, 1] -> uint8 image (H, W, 3); values are clipped and rounded.

    A one-channel tensor (1, 1, H, W) or (1, H, W) gives a grey image (H, W).
    """
    if not isinstance(tensor, torch.Tensor):
        raise ColorkitError(f"tensor_to_image: expected a torch.Tensor, got {type(tensor).__name__}")
    t = tensor
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ColorkitError(f"tensor_to_image: expected a batch of one (1, 3, H, W), got {tuple(t.shape)}")
        t = t[0]
    if t.ndim != 3 or t.shape[0] not in (1, 3):
        raise ColorkitError(f"tensor_to_image: expected shape (1, 3, H, W) or (3, H, W), got {tuple(tensor.shape)}")
    arr = (t.detach().float().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()  # (C, H, W)
    return arr[0] if arr.shape[0] == 1 else np.ascontiguousarray(arr.transpose(1, 2, 0))


# --- chroma spaces: one name for each (luma, chroma) split a model can work in ------------------------

# space -> (luma key, chroma key): the keys of a training batch and of a model's input / output
SPACES: dict[str, tuple[str, str]] = {"lab": ("L", "ab"), "yuv": ("Y", "UV")}
# what a network divides its chroma output by, and how its luma input is mapped to [-1, 1]
CHROMA_SCALE: dict[str, float] = {"lab": 110.0, "yuv": 0.62}  # |a|, |b| < ~110; |U| < 0.437, |V| < 0.616
LUMA_RANGE: dict[str, float] = {"lab": 100.0, "yuv": 1.0}


def check_space(space: str) -> str:
    """``space`` if it is one of :data:`SPACES`, else a clear error."""
    if space not in SPACES:
        raise ColorkitError(f"chroma space must be one of {', '.join(SPACES)}, not {space!r}")
    return space


def split_space(rgb: torch.Tensor, space: str = "lab") -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB (N, 3, H, W) in [0, 1] -> (luma (N, 1, H, W), chroma (N, 2, H, W)) in ``space``.

    ``lab``: (L in [0, 100], ab); ``yuv``: (Y in [0, 1], UV).
    """
    full = rgb_to_lab(rgb) if check_space(space) == "lab" else rgb_to_yuv(rgb)
    return full[:, :1], full[:, 1:]


def luma_of(rgb: torch.Tensor, space: str = "lab") -> torch.Tensor:
    """sRGB (N, 3, H, W) -> the luma channel (N, 1, H, W) a model of ``space`` sees (L, or Y)."""
    if check_space(space) == "lab":
        return rgb_to_L(rgb)
    return _matmul(YUV_FROM_RGB[:1], rgb.to(_compute_dtype(rgb))).to(rgb.dtype)


def merge_space(luma: torch.Tensor, chroma: torch.Tensor, space: str = "lab") -> torch.Tensor:
    """(luma (N, 1, H, W), chroma (N, 2, H, W)) in ``space`` -> sRGB (N, 3, H, W), unclipped."""
    if check_space(space) == "lab":
        return lab_to_rgb(merge_lab(luma, chroma), clip=False)
    return yuv_to_rgb(torch.cat([luma, chroma.to(luma.dtype)], 1))
