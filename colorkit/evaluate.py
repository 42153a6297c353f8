"""Score colorizers on the evaluation samples and write the metric table.

    colorkit evaluate --models reg_l2 reg_l1 cls261 cls261_rebal pretrained_unet_l1 --out reports/full/metrics

Every model colorizes the *lightness* of each sample in ``data/samples/`` (the
sample's own colours are the truth); :func:`colorkit.metrics.evaluate_images`
scores the results, and the grey image (ab = 0) is always the first row, the
reference every learned model has to beat. The rebalanced AuC weights pixels
by the inverse prior of their true colour's bin (step-10 gamut bins), the
prior taken from the training photos' committed ab histogram
(``data/stats/ab_hist.npz``), or from the samples themselves if that is
missing.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from colorkit import data, quantize
from colorkit.color import image_to_tensor, rgb_to_lab
from colorkit.data.samples import load_samples
from colorkit.errors import ColorkitError
from colorkit.infer import Colorizer
from colorkit.metrics import colorfulness, evaluate_images, grey_baseline, metric_table, write_table
from colorkit.paths import SAMPLES_DIR


def sample_images(folder=None, missing_ok: bool = False) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB (H, W, 3))`` for every image in ``folder`` (default ``data/samples``), sorted.

    The one listing of evaluation images, :func:`colorkit.data.samples.load_samples`: name = path under the
    folder without suffix.
    """
    return load_samples(folder if folder is not None else SAMPLES_DIR, missing_ok=missing_ok)


@functools.lru_cache(maxsize=1)
def training_prior(step: float = 10) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(bins (Q, 2), prior (Q,)) from the committed ab histogram, or None if it is not there."""
    try:
        hist = data.load_ab_hist()[0]
    except (ColorkitError, OSError):
        return None
    bins = quantize.gamut_bins(step)
    return bins, quantize.empirical_prior(hist, bins, sigma=5.0)


def rebalance_reference(trues: list[np.ndarray], step: float = 10) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(bins, prior, source) for the rebalanced AuC: the training prior, else the samples' own."""
    ref = training_prior(step)
    if ref is not None:
        return ref[0], ref[1], "training photos"
    bins = quantize.gamut_bins(step)
    ab = torch.cat([rgb_to_lab(image_to_tensor(t))[:, 1:].flatten(2) for t in trues], 2)[..., None]  # (1, 2, P, 1)
    return bins, quantize.prior_from_ab(ab, bins, sigma=5.0), "evaluation samples"


def evaluate_colorizer(colorizer, samples: list[tuple[str, np.ndarray]], size: int = 256, temperature: float = 0.38,
                       bins=None, prior=None, progress: bool = True, semantic: bool = False) -> dict:
    """One table row: ``colorizer`` on the lightness of every sample, scored against the sample.

    ``semantic=True`` adds Zhang et al.'s semantic interpretability (an ImageNet classifier's
    agreement on the colorized image against the original; :func:`colorkit.metrics.semantic_agreement`).
    """
    trues = [img for _, img in samples]
    if bins is None or prior is None:
        bins, prior, _ = rebalance_reference(trues)
    preds = [colorizer.colorize(img, temperature=temperature, size=size)
             for img in tqdm(trues, desc=colorizer.name, leave=False, disable=not progress)]
    return evaluate_images(preds, trues, bins=bins, prior=prior, progress=False, semantic=semantic)


@functools.lru_cache(maxsize=2)
def validation_images(n: int = 48, side: int = 256, folder: str | None = None) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB)`` of the first ``n`` validation photos of the photo set (or of a built ``folder``),
    shrunk so the longer side is at most ``side``: photos no model trains on and the evaluation samples
    are not among (the photo set excludes them and their near duplicates)."""
    from PIL import Image

    from colorkit.io import read_image

    out = []
    for path in data.load_manifest(from_dir=folder).paths("val")[:n]:
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
        photos = sample_images(missing_ok=True)
    if not photos:
        return {}
    col = Colorizer.from_model(nets["net"], cfg, device=device)
    row = evaluate_colorizer(col, photos, size=ev["size"], temperature=ev["temperature"], progress=False,
                             semantic=bool(ev.get("semantic")))
    row["true_colorfulness"] = float(np.mean([colorfulness(img) for _, img in photos]))
    return row


def evaluate_models(models: list, samples=None, out=None, size: int = 256, temperature: float = 0.38,
                    progress: bool = True, semantic: bool = False) -> dict[str, dict]:
    """``{"grey": row, name: row, ...}`` for model names / checkpoints / Colorizers on the samples.

    With ``out`` (a folder), also writes ``metrics.csv`` and ``metrics.md`` there.
    """
    samples = sample_images(samples) if samples is None or isinstance(samples, (str, Path)) else samples
    trues = [img for _, img in samples]
    bins, prior, source = rebalance_reference(trues)
    rows = {"grey": grey_baseline(trues, bins=bins, prior=prior, progress=False, semantic=semantic)}
    for m in models:
        col = m if isinstance(m, Colorizer) else Colorizer(m)
        rows[col.name] = evaluate_colorizer(col, samples, size, temperature, bins, prior, progress, semantic)
    if out is not None:
        out = Path(out)
        write_table(rows, out / "metrics.csv", out / "metrics.md")
        if progress:
            print(f"rebalanced AuC prior: {source}; wrote {out / 'metrics.csv'} and {out / 'metrics.md'}")
    return rows


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", required=True,
                        help="model names in data/checkpoints/ or checkpoint paths")
    parser.add_argument("--samples", default=None, help="folder of evaluation images (default: data/samples)")
    parser.add_argument("--out", required=True, help="folder for metrics.csv and metrics.md")
    parser.add_argument("--size", type=int, default=256, help="working size")
    parser.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature (classification)")
    parser.add_argument("--semantic", action="store_true",
                        help="also score semantic agreement (EfficientNet-Lite2 on colorized vs original; slower)")


def run_cli(args: argparse.Namespace) -> int:
    rows = evaluate_models(args.models, args.samples, args.out, args.size, args.temperature, semantic=args.semantic)
    print(metric_table(rows, "md"))
    return 0
