"""Colorize images with a trained model: one image, a batch, a folder, or the command line.

    >>> col = Colorizer("reg_l2")                       # data/checkpoints/reg_l2.pt
    >>> rgb = col.colorize(grey_or_rgb_uint8, size=256)  # uint8 (H, W, 3)
    >>> rgb = col.colorize(photo, render_factor=35, merge="yuv")  # DeOldify's settings: 560 x 560, keep Y

The path from grey to colour, for an image of any size H x W:

1. the luma of the input (L for a Lab model, Y for a YUV one; a colour input's chroma is
   ignored), computed ``strip_rows`` rows at a time into one float32 (1, 1, H, W);
2. that luma shrunk (bilinear, antialiased) to the *working size* ``size`` x ``size`` and run
   through the network. DeOldify's *render factor* R is the same knob: ``render_factor=R``
   means a working side of ``16 * R`` (:func:`render_size`; DeOldify's default is 35 for photos,
   560 px, and 21 for video). A larger working size sees finer structure but costs more;
3. regression output is chroma; classification logits are decoded over the bins
   (annealed mean at ``temperature``, or mean / mode);
4. the chroma is upsampled (bilinear) to H x W and merged with the *full-resolution* luma, so
   every detail of the input survives. Two merges (``merge``; default: the model's own space):

   - ``"lab"``: the predicted ab joins the input's L; where a colour falls outside sRGB at that
     lightness its chroma is scaled toward grey until it fits (:func:`fit_chroma_to_gamut`),
     instead of clipping RGB, which would change the lightness;
   - ``"yuv"`` (DeOldify's): the model's colour image at the working size (its working luma +
     predicted chroma; a Lab one gamut-fitted) is converted to YUV, its UV joins the input's Y,
     and RGB is clipped.

   A model of the other space first turns its working-size colour image into the merge's chroma;
5. steps 1 and 4 stream over horizontal strips of ``Colorizer.strip_rows`` rows into a
   preallocated uint8 output (the chroma of a strip is exactly the rows of the whole upsampled
   chroma, :func:`upsample_rows`), so memory is the photo, the output, one float32 luma and a few
   strips, not a dozen full-size float images: a 24-megapixel photo no longer needs gigabytes.
   ``strip_rows = None`` runs the whole image at once (the reference in ``benchmarks/render_bench.py``).

Model names resolve to ``data/checkpoints/NAME.pt``; a path to any
colorkit checkpoint (training run or export) works too.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorkit import checkpoint, quantize
from colorkit.color import image_to_tensor, lab_to_rgb, luma_of, merge_space, split_space, tensor_to_image
from colorkit.errors import ColorkitError
from colorkit.io import FolderReport, map_folder, read_image, write_image
from colorkit.models import build_model, to_ab
from colorkit.paths import CHECKPOINTS_DIR, PROFILES
from colorkit.train import train

DECODE_METHODS = ("annealed", "mean", "mode")
MERGES = ("lab", "yuv")  # how the predicted chroma joins the full-resolution photo

DEFAULT_MODEL = "pretrained_unet_l1"
DEFAULT_RENDER_FACTOR = 35  # DeOldify's default for photos (21 for video): a 560 x 560 working size
DEFAULT_SIZE = 256


def render_size(render_factor: int) -> int:
    """DeOldify's render factor R -> the working size ``16 * R`` (the side of the square the network sees).

    R is an integer from 1 to 256 (16 to 4096 px); DeOldify's defaults: 35 for photos, 21 for video.
    """
    if isinstance(render_factor, bool) or not isinstance(render_factor, (int, np.integer)) \
            or not 1 <= render_factor <= 256:
        raise ColorkitError(f"colorize: render factor must be an integer from 1 to 256 (working side 16 x R), "
                            f"got {render_factor!r}; DeOldify's default for photos is {DEFAULT_RENDER_FACTOR}")
    return 16 * int(render_factor)


def available_models() -> list[str]:
    """Names of the committed checkpoints in ``data/checkpoints/``."""
    return checkpoint.available()


def load_model(name_or_path, device=None) -> tuple[torch.nn.Module, dict]:
    """(network ``net`` in eval mode on ``device``, checkpoint metadata without the weights)."""
    path = checkpoint.resolve(name_or_path)
    ck = checkpoint.load(path)
    sd = checkpoint.weights(ck, "net")
    try:
        model = build_model(ck["config"]["model"], bins=sd.get("head.bins"))
        model.load_state_dict(sd)
    except (ValueError, TypeError, RuntimeError, KeyError) as e:
        raise ColorkitError(f"checkpoint does not match its model config ({e})", path=path) from None
    meta = {k: v for k, v in ck.items() if k not in ("models", "optims", "scalers", "rng")}
    meta["path"] = str(path)
    return model.eval().to(device or "cpu"), meta


def fit_chroma_to_gamut(L: torch.Tensor, ab: torch.Tensor, iters: int = 10, tol: float = 1e-3) -> torch.Tensor:
    """sRGB (N, 3, H, W) of Lab (L, ab), with out-of-gamut chroma scaled toward grey (L kept).

    For each pixel whose colour leaves [0, 1] in sRGB, finds by bisection the
    largest s in [0, 1] such that (L, s·ab) fits (grey, s = 0, always does).
    """
    rgb = lab_to_rgb(torch.cat([L, ab], 1), clip=False)
    bad = ((rgb < -tol) | (rgb > 1 + tol)).any(1)  # (N, H, W)
    if bad.any():
        Lb, abb = L[:, 0][bad], ab.permute(0, 2, 3, 1)[bad]  # (K,), (K, 2)
        lo, hi = torch.zeros_like(Lb), torch.ones_like(Lb)
        for _ in range(iters):
            mid = (lo + hi) / 2
            lab = torch.cat([Lb[:, None], abb * mid[:, None]], 1).T[None, :, :, None]  # (1, 3, K, 1)
            x = lab_to_rgb(lab, clip=False)[0, :, :, 0]
            ok = ((x >= -tol) & (x <= 1 + tol)).all(0)
            lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
        lab = torch.cat([Lb[:, None], abb * lo[:, None]], 1).T[None, :, :, None]
        rgb = rgb.permute(0, 2, 3, 1).clone()
        rgb[bad] = lab_to_rgb(lab, clip=False)[0, :, :, 0].T
        rgb = rgb.permute(0, 3, 1, 2)
    return rgb.clamp(0.0, 1.0)


def merge_chroma(L_full: torch.Tensor, ab: torch.Tensor, space: str = "lab") -> np.ndarray:
    """Full-resolution luma (1, 1, H, W) + chroma (1, 2, h, w) -> uint8 RGB (H, W, 3); chroma is upsampled bilinearly.

    Lab: out-of-gamut chroma is scaled toward grey (:func:`fit_chroma_to_gamut`); YUV: RGB is clipped.
    """
    if ab.shape[-2:] != L_full.shape[-2:]:
        ab = F.interpolate(ab, size=L_full.shape[-2:], mode="bilinear", align_corners=False)
    if space == "lab":
        return tensor_to_image(fit_chroma_to_gamut(L_full.float(), ab.float()))
    return tensor_to_image(merge_space(L_full.float(), ab.float(), space).clamp(0.0, 1.0))


def upsample_rows(chroma: torch.Tensor, size: tuple[int, int], r0: int, r1: int) -> torch.Tensor:
    """Rows ``r0:r1`` of ``F.interpolate(chroma, size, mode="bilinear", align_corners=False)``, computing only those.

    chroma (N, C, h, w) -> (N, C, r1 - r0, W). Bilinear interpolation is separable and PyTorch
    does it across first: the few low-resolution rows the strip needs are interpolated across to
    width W by ``F.interpolate`` itself, then blended down. The vertical source rows are
    PyTorch's (src = (i + 0.5) h / H - 0.5, clamped at 0; computed in double and rounded once, as
    its fused multiply-add does) and the weights are read off ``F.interpolate`` of an even / odd
    row indicator, so they are PyTorch's own. The strips equal the whole interpolation bit for bit
    on the builds tried, and within a float32 rounding step in any case.
    """
    (H, W), h = size, chroma.shape[-2]
    if h == H:  # no vertical resampling
        rows = chroma[:, :, r0:r1]
        return rows if rows.shape[-1] == W else F.interpolate(rows, size=(r1 - r0, W), mode="bilinear",
                                                               align_corners=False)
    dev = chroma.device
    scale = float(np.float32(h / H))
    src = ((torch.arange(r0, r1, dtype=torch.float64, device=dev) + 0.5) * scale - 0.5).float().clamp(min=0)
    i0 = src.floor().long().clamp(max=h - 1)  # (r1 - r0,) upper source row
    i1 = (i0 + 1).clamp(max=h - 1)  # lower source row (= i0 at the bottom edge)
    parity = (torch.arange(h, device=dev) % 2 == torch.arange(2, device=dev)[:, None]).float()  # (2, h): even, odd
    w = F.interpolate(parity.view(1, 2, h, 1), size=(H, 1), mode="bilinear", align_corners=False)[0, :, r0:r1, 0]
    w0 = w.gather(0, (i0 % 2)[None])[0]  # PyTorch's weight of row i0 (of i0 and i1 together at the edge)
    w1 = torch.where(i1 == i0, 0.0, w.gather(0, (i1 % 2)[None])[0])
    lo, hi = int(i0[0]), int(i1[-1]) + 1
    wide = F.interpolate(chroma[:, :, lo:hi], size=(hi - lo, W), mode="bilinear", align_corners=False)
    # t1 w1 + t0 w0 with one rounding of the second product, as PyTorch's kernel adds them (bit for bit)
    return torch.addcmul(wide[:, :, i1 - lo] * w1.view(1, 1, -1, 1), wide[:, :, i0 - lo], w0.view(1, 1, -1, 1))


def _image_key(image: np.ndarray, size: int) -> str:
    return f"{image.shape}:{size}:" + hashlib.sha1(memoryview(np.ascontiguousarray(image)).cast("B")).hexdigest()


class Colorizer:
    """A trained colorization network with its pre- and post-processing.

    ``Colorizer(name_or_checkpoint, device=None)``; ``device`` defaults to CUDA if
    available. Attributes: ``model``, ``meta`` (config, steps, wall time,
    evaluation numbers of the checkpoint), ``name``, ``kind`` ("ab" or "logits"), ``space``
    ("lab" or "yuv": the model's own chroma space).

    ``strip_rows``: the full-resolution work (luma, upsampling, merge, gamut, uint8) runs this
    many rows at a time; ``None`` (or 0) runs the whole image at once, as before streaming.
    """

    cache_size = 4
    strip_rows: int | None = 256

    def __init__(self, checkpoint, device=None):
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if isinstance(checkpoint, torch.nn.Module):  # used by from_model
            self.model, self.meta = checkpoint.to(device), {}
        else:
            self.model, self.meta = load_model(checkpoint, device)
        self.device = device
        self.name = self.meta.get("name") or (Path(str(checkpoint)).stem if not isinstance(checkpoint, torch.nn.Module)
                                              else "model")
        self.kind = self.model.head.kind
        self.space = getattr(self.model.head, "space", "lab")  # lab: L -> ab; yuv: Y -> UV
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    @classmethod
    def from_model(cls, model: torch.nn.Module, cfg: dict | None = None, device=None) -> Colorizer:
        """Wrap an in-memory network (e.g. during training). The caller sets train/eval mode."""
        col = cls(model, device=device or next(model.parameters()).device)
        col.meta = {"name": (cfg or {}).get("name", "model"), "config": cfg}
        col.name = col.meta["name"]
        return col

    def __repr__(self) -> str:
        return f"Colorizer({self.name!r}, kind={self.kind!r}, device={self.device.type!r})"

    # --- steps -------------------------------------------------------------------------------

    def lightness(self, image: np.ndarray, space: str | None = None) -> torch.Tensor:
        """uint8 (H, W, 3) or grey (H, W) -> float32 luma (1, 1, H, W) on the device: L (Lab models) or Y (YUV).

        ``space`` ("lab" | "yuv") asks for another model's luma. Computed ``strip_rows`` rows at a
        time, so no full-size float RGB image is ever made.
        """
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
            raise ColorkitError(f"colorize: expected a uint8 image array, got {got}")
        if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
            raise ColorkitError(f"colorize: expected an image of shape (H, W, 3) or (H, W), got {image.shape}")
        space, rows = space or self.space, self._strip_rows()
        if not rows or image.shape[0] <= rows:
            return luma_of(image_to_tensor(image, device=self.device), space)
        out = torch.empty((1, 1) + image.shape[:2], device=self.device)  # (1, 1, H, W) float32
        for r0 in range(0, image.shape[0], rows):
            out[:, :, r0:r0 + rows] = luma_of(image_to_tensor(image[r0:r0 + rows], device=self.device), space)
        return out

    @staticmethod
    def working_L(L: torch.Tensor, size: int) -> torch.Tensor:
        """L (N, 1, H, W) -> (N, 1, size, size), antialiased when shrinking."""
        if L.shape[-2:] == (size, size):
            return L
        return F.interpolate(L, size=(size, size), mode="bilinear", align_corners=False, antialias=True)

    @torch.inference_mode()
    def network(self, L_small: torch.Tensor) -> torch.Tensor:
        """Working-size L (N, 1, s, s) -> raw output (N, 2|Q, s/k, s/k) (ab, or logits)."""
        return self.model(L_small.to(self.device)).float()

    def _check_size(self, size: int) -> int:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 16 <= size <= 4096:
            raise ColorkitError(f"colorize: size must be an integer from 16 to 4096, got {size!r}")
        return int(size)

    def _strip_rows(self) -> int | None:
        rows = self.strip_rows
        if rows is None or rows == 0:
            return None
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ColorkitError(f"colorize: strip_rows must be a positive integer, or None for the whole image, "
                                f"got {rows!r}")
        return int(rows)

    def _working_size(self, size: int, render_factor: int | None) -> int:
        """The working side: ``16 * render_factor`` if given (``size`` then default or equal), else ``size``."""
        size = self._check_size(size)
        if render_factor is None:
            return size
        side = render_size(render_factor)
        if size not in (DEFAULT_SIZE, side):
            raise ColorkitError(f"colorize: size={size} disagrees with render_factor={render_factor} "
                                f"(a working size of 16 x {render_factor} = {side}); give only one of them")
        return side

    def _check_merge(self, merge: str | None) -> str:
        if merge is None:
            return self.space
        if merge not in MERGES:
            raise ColorkitError(f"colorize: merge must be one of {', '.join(MERGES)} (or None: the model's own "
                                f"space, {self.space}), not {merge!r}")
        return merge

    @staticmethod
    def _check_decoding(temperature: float, method: str) -> None:
        if method not in DECODE_METHODS:
            raise ColorkitError(f"colorize: method must be one of {', '.join(DECODE_METHODS)}, not {method!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)) \
                or not np.isfinite(temperature) or temperature <= 0:
            raise ColorkitError(f"colorize: temperature must be a positive number, got {temperature!r} "
                                "(T -> 0 approaches the mode; T = 1 is the mean)")

    # --- classification: the distribution -------------------------------------------------------

    def predict_distribution(self, image: np.ndarray, size: int = 256) -> torch.Tensor:
        """Probabilities over the bins (Q, h, w) at the output size of the working image; cached.

        Re-decoding a cached distribution at another temperature (``colorize`` with the
        same image and size) does not run the network again.
        """
        if self.kind != "logits":
            raise ColorkitError(f"{self.name} is a regression model: it predicts ab, not a distribution")
        return torch.softmax(self._logits(image, size), dim=1)[0]

    def _logits(self, image: np.ndarray, size: int, L_small: torch.Tensor | None = None) -> torch.Tensor:
        """The network's logits (1, Q, h, w) for ``image`` at working size ``size`` (its working-size
        luma ``L_small``, if already computed); the last few are cached."""
        key = _image_key(image, self._check_size(size))
        if key not in self._cache:
            L_small = self.working_L(self.lightness(image), size) if L_small is None else L_small
            self._cache[key] = self.network(L_small)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    @property
    def bins(self) -> torch.Tensor:
        """ab bin centres (Q, 2) of a classification model."""
        if self.kind != "logits":
            raise ColorkitError(f"{self.name} is a regression model: it has no bins")
        return self.model.head.bins

    def decode(self, probs: torch.Tensor, temperature: float = 0.38, method: str = "annealed") -> torch.Tensor:
        """Probabilities (Q, h, w) or (N, Q, h, w) -> ab (N, 2, h, w)."""
        self._check_decoding(temperature, method)
        probs = probs if probs.ndim == 4 else probs[None]
        return quantize.decode(probs, self.bins, method=method, T=temperature, from_logits=False)

    # --- colorizing ----------------------------------------------------------------------------------

    def chroma_for_merge(self, L_small: torch.Tensor, chroma: torch.Tensor, merge: str) -> torch.Tensor:
        """The model's chroma (N, 2, h, w) -> the chroma that ``merge`` ("lab" | "yuv") upsamples.

        The model's own space: unchanged. The other: the model's colour image at working size
        (working luma ``L_small`` (N, 1, s, s) + chroma; a Lab one gamut-fitted, a YUV one clipped),
        converted to ``merge`` -> (N, 2, s, s): UV for DeOldify's YUV merge, ab for the Lab one.
        """
        if merge == self.space:
            return chroma
        if chroma.shape[-2:] != L_small.shape[-2:]:
            chroma = F.interpolate(chroma, size=L_small.shape[-2:], mode="bilinear", align_corners=False)
        if self.space == "lab":
            rgb = fit_chroma_to_gamut(L_small.float(), chroma.float())
        else:
            rgb = merge_space(L_small.float(), chroma.float(), self.space).clamp(0.0, 1.0)
        return split_space(rgb, merge)[1]

    def merge_full(self, image: np.ndarray, chroma: torch.Tensor, merge: str,
                   luma: torch.Tensor | None = None) -> np.ndarray:
        """The input ``image`` (H, W[, 3]) + chroma (1, 2, h, w) in ``merge`` space -> uint8 RGB (H, W, 3).

        The chroma is upsampled bilinearly to H x W and joins the input's full-resolution luma of
        ``merge`` (``luma`` (1, 1, H, W) if already computed, else made strip by strip); Lab: gamut
        fit, YUV: RGB clipped (:func:`merge_chroma`). Streams over ``strip_rows`` rows at a time.
        """
        rows = self._strip_rows()
        if not rows:
            return merge_chroma(self.lightness(image, merge) if luma is None else luma, chroma, merge)
        H, W = image.shape[:2]
        out = np.empty((H, W, 3), np.uint8)
        for r0 in range(0, H, rows):
            r1 = min(r0 + rows, H)
            y = self.lightness(image[r0:r1], merge) if luma is None else luma[:, :, r0:r1]
            out[r0:r1] = merge_chroma(y, upsample_rows(chroma, (H, W), r0, r1), merge)  # (r1 - r0, W, 3)
        return out

    def colorize(self, image: np.ndarray, temperature: float = 0.38, size: int = DEFAULT_SIZE,
                 method: str = "annealed", *, render_factor: int | None = None,
                 merge: str | None = None) -> np.ndarray:
        """uint8 (H, W, 3) or grey (H, W) -> uint8 RGB (H, W, 3) with the input's full-resolution luma.

        ``temperature`` and ``method`` ("annealed" | "mean" | "mode") matter for
        classification models only; ``size`` is the working size, or ``render_factor`` R
        (DeOldify's: a working size of 16 x R, 35 for photos); ``merge`` "lab" keeps the
        input's L, "yuv" (DeOldify's) its Y; None: the model's own space.
        """
        self._check_decoding(temperature, method)
        size, merge = self._working_size(size, render_factor), self._check_merge(merge)
        L = self.lightness(image)  # (1, 1, H, W) float32
        L_small = self.working_L(L, size)  # (1, 1, s, s)
        if merge != self.space:
            L = None  # not the merge's luma: freed before the network runs
        if self.kind == "logits":  # logits are cached: another temperature only decodes them again
            ab = to_ab(self.model, self._logits(image, size, L_small), method=method, temperature=temperature)
        else:
            ab = self.network(L_small)
        return self.merge_full(image, self.chroma_for_merge(L_small, ab, merge), merge, L)

    def colorize_batch(self, images: list[np.ndarray], temperature: float = 0.38, size: int = DEFAULT_SIZE,
                       method: str = "annealed", batch_size: int = 8, *, render_factor: int | None = None,
                       merge: str | None = None) -> list[np.ndarray]:
        """Colorize several images (any sizes), running the network ``batch_size`` at a time."""
        size, merge = self._working_size(size, render_factor), self._check_merge(merge)
        self._check_decoding(temperature, method)
        outs = []
        for s in range(0, len(images), batch_size):
            chunk = images[s:s + batch_size]
            Ls = [self.lightness(im) for im in chunk]
            small = torch.cat([self.working_L(L, size) for L in Ls])
            if merge != self.space:
                Ls = [None] * len(chunk)
            ab = to_ab(self.model, self.network(small), method=method, temperature=temperature)
            chroma = self.chroma_for_merge(small, ab, merge)
            outs += [self.merge_full(im, chroma[i:i + 1], merge, L) for i, (im, L) in enumerate(zip(chunk, Ls))]
        return outs

    def colorize_folder(self, in_dir, out_dir, temperature: float = 0.38, size: int = DEFAULT_SIZE,
                        method: str = "annealed", suffix: str = ".png", overwrite: bool = False,
                        progress: bool = True, *, render_factor: int | None = None, merge: str | None = None):
        """Every image under ``in_dir`` -> ``out_dir`` (mirrored, ``suffix``); returns the
        :class:`colorkit.io.FolderReport` (unreadable files are skipped and listed)."""
        size, merge = self._working_size(size, render_factor), self._check_merge(merge)  # fail before any file
        return map_folder(in_dir, out_dir, lambda im: self.colorize(im, temperature, size, method, merge=merge),
                          suffix=suffix, overwrite=overwrite, progress=progress)


# --- command line ---------------------------------------------------------------------------------


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files and/or folders")
    parser.add_argument("-o", "--out", required=True, help="output folder (inputs are never overwritten)")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"model name in data/checkpoints/ or a checkpoint path (default: {DEFAULT_MODEL}, "
                             "the U-Net over an ImageNet-pretrained encoder: natural colours, greys stay grey)")
    work = parser.add_mutually_exclusive_group()
    work.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"working size in pixels (default {DEFAULT_SIZE})")
    work.add_argument("--render-factor", type=int, default=None, metavar="R",
                      help="DeOldify's render factor, instead of --size: a working side of 16 x R "
                           f"(DeOldify's default for photos: {DEFAULT_RENDER_FACTOR}, i.e. 560 px)")
    parser.add_argument("--merge", choices=MERGES, default=None,
                        help="how the chroma joins the full-resolution photo: lab (keep L, pull out-of-gamut "
                             "colours toward grey) or yuv (DeOldify's: keep Y, clip RGB); default: the model's space")
    parser.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature (classification)")
    parser.add_argument("--method", choices=("annealed", "mean", "mode"), default="annealed")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")


def run_cli(args: argparse.Namespace) -> int:
    Colorizer._check_decoding(args.temperature, args.method)  # one clear error before any file is touched
    if args.render_factor is not None:
        render_size(args.render_factor)
    col = Colorizer(args.model, device=args.device)
    size = col._working_size(args.size, args.render_factor)
    out = Path(args.out)
    report = FolderReport()
    fn = dict(temperature=args.temperature, size=size, method=args.method, merge=args.merge)
    for item in map(Path, args.inputs):
        if item.is_dir():
            target = out if len(args.inputs) == 1 else out / item.resolve().name
            try:
                r = col.colorize_folder(item, target, **fn)
            except ColorkitError as e:
                report.skipped.append((item, e.problem))
                continue
            report.done += r.done
            report.skipped += r.skipped
            continue
        target = out / f"{item.stem}.png"
        if target.resolve() == item.resolve() or target.exists():
            report.skipped.append((item, f"output {target} exists (never overwritten)"))
            continue
        try:
            report.done.append((item, write_image(target, col.colorize(read_image(item), **fn))))
        except ColorkitError as e:
            report.skipped.append((item, e.problem))
    print(f"colorkit colorize ({col.name}): {report.summary()}", file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


# --- the notebooks' entry point: a model for the active profile ---------------------------------------


def model_for_profile(name: str, profile: str = "pretrained", device=None, progress: bool = True) -> Colorizer:
    """The :class:`Colorizer` for model ``name`` (a config in ``configs/``) under ``profile``.

    - ``pretrained``: load the committed ``data/checkpoints/NAME.pt`` (train nothing);
    - ``quick``: train the config's tiny ``quick`` budget (seconds) into the data cache and load that;
    - ``full``: train the config's ``full`` budget into ``data_dir()/runs/NAME/full`` (resuming a run
      that was interrupted; a finished run is reused) and load it.

    A run that keeps snapshots (``train.keep_every``, the GANs) gives the snapshot its selection rule
    chooses (:mod:`colorkit.train.select`), exported to the run's ``selected/`` folder, as the
    committed checkpoint is. Committed checkpoints are never
      overwritten: export one explicitly with ``colorkit train CONFIG --export-to DIR``.
    """
    if profile not in PROFILES:
        raise ColorkitError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if profile == "pretrained":
        path = CHECKPOINTS_DIR / f"{name}.pt"
        if not path.is_file():
            raise ColorkitError(f"no committed checkpoint for {name!r}; train it with "
                                f"`colorkit train configs/{name}.yaml --profile full --export-to data/checkpoints` "
                                "or run this notebook with PROFILE = 'quick'", path=path)
        col = Colorizer(path, device=device)
        if progress:
            m = col.meta
            print(f"{name}: found a pretrained checkpoint, loading ({m.get('step')} steps, "
                  f"{float(m.get('wall') or 0) / 60:.0f} min of training)")
        return col
    ckpt = train(name, profile=profile, resume=(profile == "full"), device=device, progress=progress,
                 score=training_scorer)
    if any((ckpt.parent / "snapshots").glob("step_*.pt")):  # a run that keeps snapshots: the one its rule chooses
        from colorkit.train.loop import export_run

        ckpt = export_run(ckpt.parent, ckpt.parent / "selected")
    return Colorizer(ckpt, device=device)


@functools.lru_cache(maxsize=2)
def validation_images(n: int = 48, side: int = 256, folder: str | None = None) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB)`` of the first ``n`` validation photos of the photo set (or of a built ``folder``),
    shrunk so the longer side is at most ``side``: photos no model trains on and the evaluation samples
    are not among (the photo set excludes them and their near duplicates)."""
    from PIL import Image

    from colorkit.data import load_manifest

    out = []
    for path in load_manifest(from_dir=folder).paths("val")[:n]:
        img = Image.fromarray(read_image(path))
        img.thumbnail((side, side), Image.Resampling.LANCZOS)
        out.append((Path(path).stem, np.asarray(img.convert("RGB"))))
    return out


def training_scorer(nets: dict, cfg: dict, device) -> dict:
    """What the trainer records at evaluation time: the metric suite of network ``net``.

    On the evaluation samples (``eval.photos: samples``, the default) or on the first
    ``eval.n`` validation photos (``eval.photos: val``: what a selection among a run's
    snapshots should look at, so the samples stay untouched by it); ``eval.semantic``
    adds semantic agreement, and the originals' own colourfulness is recorded as
    ``true_colorfulness``. Passed to :func:`colorkit.train.train` as ``score`` by
    ``colorkit train`` (the trainer itself knows nothing of inference). An empty dict
    when there are no photos to score.
    """
    ev = cfg["eval"]
    if ev.get("photos", "samples") == "val":
        folder = cfg["data"]["folder"] if cfg["data"]["source"] == "folder" else None
        photos = validation_images(int(ev.get("n", 48)), int(ev["size"]), folder)
    else:
        from colorkit.data.samples import load_samples

        photos = load_samples(missing_ok=True)
    if not photos:
        return {}
    from colorkit.metrics import colorfulness, evaluate_images
    from colorkit.metrics.reference import rebalance_reference

    col = Colorizer.from_model(nets["net"], cfg, device=device)
    trues = [img for _, img in photos]
    bins, prior, _ = rebalance_reference(trues)
    preds = [col.colorize(img, temperature=ev["temperature"], size=ev["size"]) for img in trues]
    row = evaluate_images(preds, trues, bins=bins, prior=prior, progress=False, semantic=bool(ev.get("semantic")))
    row["true_colorfulness"] = float(np.mean([colorfulness(img) for img in trues]))
    return row
