"""Colorize images with a trained model: one image, a batch, a folder, or the command line.

    >>> col = Colorizer("reg_l2")                       # data/checkpoints/reg_l2.pt
    >>> rgb = col.colorize(grey_or_rgb_uint8, size=256)  # uint8 (H, W, 3)

The path from grey to colour, for an image of any size H x W:

1. ``L`` (1, 1, H, W) of the input (a colour input's chroma is ignored);
2. L resized to the *working size* ``size`` x ``size`` (DeOldify's "render
   factor" is the same knob: a larger working size sees finer structure but
   costs more), and run through the network;
3. regression output is ab; classification logits are decoded over the bins
   (annealed mean at ``temperature``, or mean / mode);
4. that ab is upsampled (bilinear) to H x W and merged with the *full-resolution*
   L, so every detail of the input survives;
5. where a predicted colour falls outside sRGB at that lightness, its chroma is
   scaled toward grey until it fits (:func:`fit_chroma_to_gamut`), instead of
   clipping RGB, which would change the lightness.

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
from colorkit.color import image_to_tensor, lab_to_rgb, luma_of, merge_space, tensor_to_image
from colorkit.errors import ColorkitError
from colorkit.io import FolderReport, map_folder, read_image, write_image
from colorkit.models import build_model, to_ab
from colorkit.paths import CHECKPOINTS_DIR, PROFILES
from colorkit.train import train

DECODE_METHODS = ("annealed", "mean", "mode")


DEFAULT_MODEL = "pretrained_unet_l1"


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


def _image_key(image: np.ndarray, size: int) -> str:
    return f"{image.shape}:{size}:" + hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


class Colorizer:
    """A trained colorization network with its pre- and post-processing.

    ``Colorizer(name_or_checkpoint, device=None)``; ``device`` defaults to CUDA if
    available. Attributes: ``model``, ``meta`` (config, steps, wall time,
    evaluation numbers of the checkpoint), ``name``, ``kind`` ("ab" or "logits").
    """

    cache_size = 4

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

    def lightness(self, image: np.ndarray) -> torch.Tensor:
        """uint8 (H, W, 3) or grey (H, W) -> luma (1, 1, H, W) on the device: L (Lab models) or Y (YUV)."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
            raise ColorkitError(f"colorize: expected a uint8 image array, got {got}")
        if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
            raise ColorkitError(f"colorize: expected an image of shape (H, W, 3) or (H, W), got {image.shape}")
        return luma_of(image_to_tensor(image, device=self.device), self.space)

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

    def _logits(self, image: np.ndarray, size: int, L: torch.Tensor | None = None) -> torch.Tensor:
        """The network's logits (1, Q, h, w) for ``image`` at working size ``size``; the last few are cached."""
        key = _image_key(image, self._check_size(size))
        if key not in self._cache:
            L = self.lightness(image) if L is None else L
            self._cache[key] = self.network(self.working_L(L, size))
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

    def colorize(self, image: np.ndarray, temperature: float = 0.38, size: int = 256,
                 method: str = "annealed") -> np.ndarray:
        """uint8 (H, W, 3) or grey (H, W) -> uint8 RGB (H, W, 3) with the input's full-resolution L.

        ``temperature`` and ``method`` ("annealed" | "mean" | "mode") matter for
        classification models only; ``size`` is the working size.
        """
        self._check_decoding(temperature, method)
        L = self.lightness(image)
        if self.kind == "logits":  # logits are cached: another temperature only decodes them again
            ab = to_ab(self.model, self._logits(image, size, L), method=method, temperature=temperature)
        else:
            ab = self.network(self.working_L(L, self._check_size(size)))
        return merge_chroma(L, ab, self.space)

    def colorize_batch(self, images: list[np.ndarray], temperature: float = 0.38, size: int = 256,
                       method: str = "annealed", batch_size: int = 8) -> list[np.ndarray]:
        """Colorize several images (any sizes), running the network ``batch_size`` at a time."""
        size = self._check_size(size)
        self._check_decoding(temperature, method)
        outs = []
        for s in range(0, len(images), batch_size):
            Ls = [self.lightness(im) for im in images[s:s + batch_size]]
            raw = self.network(torch.cat([self.working_L(L, size) for L in Ls]))
            ab = to_ab(self.model, raw, method=method, temperature=temperature)
            outs += [merge_chroma(L, ab[i:i + 1], self.space) for i, L in enumerate(Ls)]
        return outs

    def colorize_folder(self, in_dir, out_dir, temperature: float = 0.38, size: int = 256,
                        method: str = "annealed", suffix: str = ".png", overwrite: bool = False,
                        progress: bool = True):
        """Every image under ``in_dir`` -> ``out_dir`` (mirrored, ``suffix``); returns the
        :class:`colorkit.io.FolderReport` (unreadable files are skipped and listed)."""
        return map_folder(in_dir, out_dir, lambda im: self.colorize(im, temperature, size, method),
                          suffix=suffix, overwrite=overwrite, progress=progress)


# --- command line ---------------------------------------------------------------------------------


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files and/or folders")
    parser.add_argument("-o", "--out", required=True, help="output folder (inputs are never overwritten)")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"model name in data/checkpoints/ or a checkpoint path (default: {DEFAULT_MODEL}, "
                             "the U-Net over an ImageNet-pretrained encoder: natural colours, greys stay grey)")
    parser.add_argument("--size", type=int, default=256, help="working size (render factor x 16)")
    parser.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature (classification)")
    parser.add_argument("--method", choices=("annealed", "mean", "mode"), default="annealed")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")


def run_cli(args: argparse.Namespace) -> int:
    Colorizer._check_decoding(args.temperature, args.method)  # one clear error before any file is touched
    col = Colorizer(args.model, device=args.device)
    col._check_size(args.size)
    out = Path(args.out)
    report = FolderReport()
    fn = dict(temperature=args.temperature, size=args.size, method=args.method)
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
