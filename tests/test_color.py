"""colorkit.color against skimage.color, round trips, gamut, gradients, shapes."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage import color as skc

from colorkit.color import (
    gray_to_L,
    image_to_tensor,
    lab_in_gamut,
    lab_to_rgb,
    merge_lab,
    rgb_to_L,
    rgb_to_lab,
    rgb_to_yuv,
    split_lab,
    tensor_to_image,
    yuv_to_rgb,
)
from colorkit.errors import ColorkitError

LAB_TOL64 = 1e-3  # Lab units, float64
LAB_TOL32 = 2e-3  # Lab units, float32: measured max ~6e-5 over 1000 random colours; 2e-3 leaves room
YUV_TOL = 1e-6

# black, white, greys, primaries, secondaries
EDGE_COLORS = np.array(
    [
        [0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [0.04, 0.04, 0.04], [0.2, 0.2, 0.2], [0.9, 0.9, 0.9],
        [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0],
    ],
    dtype=np.float64,
)  # fmt: skip


def to_t(pixels: np.ndarray, dtype=torch.float64) -> torch.Tensor:
    """(P, 3) numpy colours -> (1, 3, 1, P) tensor."""
    return torch.from_numpy(pixels.T[None, :, None, :].copy()).to(dtype)


def to_np(t: torch.Tensor) -> np.ndarray:
    """(1, 3, 1, P) tensor -> (P, 3) float64 numpy."""
    return t[0, :, 0, :].T.double().numpy()


def random_rgb(n=2000, seed=0):
    return np.random.default_rng(seed).random((n, 3))


# --- agreement with skimage -------------------------------------------------------


@pytest.mark.parametrize("dtype,tol", [(torch.float64, LAB_TOL64), (torch.float32, LAB_TOL32)])
def test_rgb_to_lab_matches_skimage_random(dtype, tol):
    rgb = random_rgb()
    ours = to_np(rgb_to_lab(to_t(rgb, dtype)))
    ref = skc.rgb2lab(rgb[None])[0]
    assert np.abs(ours - ref).max() < tol


def test_rgb_to_lab_matches_skimage_edge_colors():
    ours = to_np(rgb_to_lab(to_t(EDGE_COLORS)))
    ref = skc.rgb2lab(EDGE_COLORS[None])[0]
    assert np.abs(ours - ref).max() < LAB_TOL64
    assert ours[0] == pytest.approx([0, 0, 0], abs=1e-9)  # black
    # white: L = 100 and (almost) neutral; skimage's sRGB matrix and D65 white differ in the
    # 4th digit, which leaves a ~0.005 tint that we reproduce on purpose
    assert ours[1] == pytest.approx([100, 0, 0], abs=1e-2)
    assert abs(ours[6, 1] - 80.1) < 0.1  # red has a strongly positive a (about 80.1)


def test_lab_to_rgb_matches_skimage_including_out_of_gamut():
    rng = np.random.default_rng(1)
    lab = np.column_stack([rng.uniform(0, 100, 2000), rng.uniform(-128, 128, (2000, 2))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skimage warns about negative Z, which it clips
        ref = skc.lab2rgb(lab[None])[0]
    ours = to_np(lab_to_rgb(to_t(lab)))
    assert np.abs(ours - ref).max() < 1e-6


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_yuv_matches_skimage(dtype):
    rgb = np.vstack([random_rgb(), EDGE_COLORS])
    yuv = rgb_to_yuv(to_t(rgb, dtype))
    assert np.abs(to_np(yuv) - skc.rgb2yuv(rgb[None])[0]).max() < YUV_TOL
    back = to_np(yuv_to_rgb(to_t(skc.rgb2yuv(rgb[None])[0], dtype)))
    assert np.abs(back - skc.yuv2rgb(skc.rgb2yuv(rgb[None]))[0]).max() < YUV_TOL


# --- round trips, L, split / merge -------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_round_trips(dtype):
    rgb = to_t(np.vstack([random_rgb(), EDGE_COLORS]), dtype)
    assert (lab_to_rgb(rgb_to_lab(rgb)) - rgb).abs().max() < 1e-4
    assert (yuv_to_rgb(rgb_to_yuv(rgb)) - rgb).abs().max() < 1e-4


def test_batched_image_shapes_and_dtype_preserved():
    rgb = torch.rand(2, 3, 5, 7, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    for fn in (rgb_to_lab, rgb_to_yuv, yuv_to_rgb, lab_to_rgb):
        out = fn(rgb)
        assert out.shape == (2, 3, 5, 7) and out.dtype == torch.float32
    # each pixel is converted independently: batch result == per-image result
    assert torch.allclose(rgb_to_lab(rgb)[1:], rgb_to_lab(rgb[1:]))
    half = rgb_to_lab(rgb.half())
    assert half.dtype == torch.float16 and (half.float() - rgb_to_lab(rgb)).abs().max() < 0.1


def test_gray_to_L_equals_L_of_grey_rgb():
    gray = torch.linspace(0, 1, 101, dtype=torch.float64).view(1, 1, 1, 101)
    L_ref = rgb_to_lab(gray.repeat(1, 3, 1, 1))[:, :1]
    assert (gray_to_L(gray) - L_ref).abs().max() < 1e-9
    assert gray_to_L(gray).shape == (1, 1, 1, 101)


def test_rgb_to_L_equals_lab_L():
    rgb = to_t(np.vstack([random_rgb(), EDGE_COLORS]))
    assert (rgb_to_L(rgb) - rgb_to_lab(rgb)[:, :1]).abs().max() < 1e-9


def test_split_merge_inverse():
    lab = rgb_to_lab(torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(1)))
    L, ab = split_lab(lab)
    assert L.shape == (2, 1, 4, 4) and ab.shape == (2, 2, 4, 4)
    assert torch.equal(merge_lab(L, ab), lab)
    with pytest.raises(ColorkitError, match="share N, H and W"):
        merge_lab(L, ab[:, :, :2])


# --- gamut ---------------------------------------------------------------------------------


def test_lab_in_gamut():
    rgb = to_t(np.vstack([random_rgb(), EDGE_COLORS]), torch.float32)
    assert lab_in_gamut(rgb_to_lab(rgb)).all()
    outside = torch.tensor([[50.0, 100.0, -100.0], [95.0, -80.0, 90.0], [5.0, 0.0, 60.0], [50.0, 0.0, 0.0]])
    mask = lab_in_gamut(outside.T.reshape(1, 3, 1, 4))
    assert mask.shape == (1, 1, 1, 4) and mask.dtype == torch.bool
    assert mask.flatten().tolist() == [False, False, False, True]


# --- gradients ------------------------------------------------------------------------------


def test_gradcheck_rgb_lab_yuv():
    # includes black and a value on the linear part of the sRGB curve; avoids the kink points
    px = torch.tensor([[0.0, 0.0, 0.0], [0.02, 0.5, 0.9], [0.3, 0.7, 0.1], [1.0, 0.2, 0.6]], dtype=torch.float64)
    rgb = px.T.reshape(1, 3, 2, 2).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(rgb_to_lab, (rgb,))
    assert torch.autograd.gradcheck(rgb_to_yuv, (rgb,))
    lab = rgb_to_lab(rgb).detach().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: lab_to_rgb(x, clip=False), (lab,))
    gray = torch.tensor([[0.0, 0.01], [0.5, 1.0]], dtype=torch.float64).view(1, 1, 2, 2).requires_grad_(True)
    assert torch.autograd.gradcheck(gray_to_L, (gray,))


def test_gradients_finite_everywhere():
    # black, exact thresholds, out-of-gamut values: no NaN / inf in the gradient
    rgb = torch.tensor([0.0, 0.04045, 1.0, -0.1, 1.2, 0.0031308], dtype=torch.float64)
    rgb = rgb.view(1, 3, 1, 2).requires_grad_(True)
    rgb_to_lab(rgb).sum().backward()
    assert torch.isfinite(rgb.grad).all()
    lab = torch.tensor([0.0, 50.0, 100.0, 0.0, 100.0, -100.0, 0.0, 127.0, -127.0], dtype=torch.float64)
    lab = lab.view(1, 3, 1, 3).requires_grad_(True)
    lab_to_rgb(lab).sum().backward()
    assert torch.isfinite(lab.grad).all()


# --- shapes and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn,shape",
    [(rgb_to_lab, (3, 4, 4)), (rgb_to_lab, (1, 4, 4, 4)), (lab_to_rgb, (1, 1, 4, 4)), (gray_to_L, (1, 3, 4, 4))],
)
def test_wrong_shapes_raise_clear_error(fn, shape):
    with pytest.raises(ColorkitError, match=r"expected shape \(N, \d, H, W\), got " + re_tuple(shape)):
        fn(torch.zeros(shape))


def re_tuple(shape):
    return r"\(" + r", ".join(str(s) for s in shape) + r"\)"


def test_integer_tensor_rejected():
    with pytest.raises(ColorkitError, match="float"):
        rgb_to_lab(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))


def test_image_tensor_round_trip():
    img = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    t = image_to_tensor(img)
    assert t.shape == (1, 3, 5, 7) and t.dtype == torch.float32 and 0 <= t.min() and t.max() <= 1
    assert np.array_equal(tensor_to_image(t), img)
    assert np.array_equal(tensor_to_image(t[0]), img)
    gray = img[:, :, 0]
    tg = image_to_tensor(gray)
    assert tg.shape == (1, 3, 5, 7) and torch.equal(tg[:, 0], tg[:, 2])
    assert np.array_equal(tensor_to_image(tg[:, :1]), gray)
    assert tensor_to_image(torch.tensor([-0.5, 1.5, 0.5]).view(1, 3, 1, 1)).tolist() == [[[0, 255, 128]]]


def test_image_tensor_errors():
    with pytest.raises(ColorkitError, match="uint8"):
        image_to_tensor(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ColorkitError, match=r"got \(4, 4, 4\)"):
        image_to_tensor(np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(ColorkitError, match="batch of one"):
        tensor_to_image(torch.zeros(2, 3, 4, 4))


# --- properties (hypothesis) --------------------------------------------------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)
rgb_triples = st.lists(st.tuples(unit, unit, unit), min_size=1, max_size=16)


@settings(max_examples=50, deadline=None)
@given(rgb_triples)
def test_property_lab_matches_skimage_and_round_trips(triples):
    rgb = np.array(triples, dtype=np.float64)
    lab = rgb_to_lab(to_t(rgb))
    assert np.abs(to_np(lab) - skc.rgb2lab(rgb[None])[0]).max() < LAB_TOL64
    assert (lab_to_rgb(lab) - to_t(rgb)).abs().max() < 1e-4
    assert lab_in_gamut(lab).all()
    L = lab[:, 0]
    assert (L >= -1e-9).all() and (L <= 100 + 1e-6).all()


@settings(max_examples=50, deadline=None)
@given(rgb_triples)
def test_property_yuv_round_trip_and_luma(triples):
    rgb = to_t(np.array(triples, dtype=np.float64))
    yuv = rgb_to_yuv(rgb)
    assert (yuv_to_rgb(yuv) - rgb).abs().max() < 1e-4
    assert (yuv[:, 0] >= -1e-12).all() and (yuv[:, 0] <= 1 + 1e-12).all()


@settings(max_examples=50, deadline=None)
@given(unit)
def test_property_grey_has_no_chroma(v):
    lab = rgb_to_lab(torch.full((1, 3, 1, 1), v, dtype=torch.float64))
    assert lab[0, 1:].abs().max() < 1e-2  # a, b ~ 0 for any grey (skimage's constants leave < 0.005)
    assert abs(gray_to_L(torch.full((1, 1, 1, 1), v, dtype=torch.float64)).item() - lab[0, 0].item()) < 1e-9


# --- CUDA (only where available) ---------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    rgb = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    lab_gpu = rgb_to_lab(rgb.cuda())
    assert lab_gpu.device.type == "cuda"
    assert (lab_gpu.cpu() - rgb_to_lab(rgb)).abs().max() < 1e-3
    assert (lab_to_rgb(lab_gpu).cpu() - rgb).abs().max() < 1e-4
    assert (yuv_to_rgb(rgb_to_yuv(rgb.cuda())).cpu() - rgb).abs().max() < 1e-4
