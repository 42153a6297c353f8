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
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from colorkit.data.samples import load_samples
from colorkit.infer import Colorizer, training_scorer, validation_images  # noqa: F401 (re-exported)
from colorkit.metrics import evaluate_images, grey_baseline, metric_table, write_table
from colorkit.metrics.reference import rebalance_reference, training_prior  # noqa: F401 (re-exported)
from colorkit.paths import SAMPLES_DIR


def sample_images(folder=None, missing_ok: bool = False) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB (H, W, 3))`` for every image in ``folder`` (default ``data/samples``), sorted.

    The one listing of evaluation images, :func:`colorkit.data.samples.load_samples`: name = path under the
    folder without suffix.
    """
    return load_samples(folder if folder is not None else SAMPLES_DIR, missing_ok=missing_ok)


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
