"""The study of notebook 09: every method of the course on one set of photos, scored by one metric suite.

    study = run_study(sample_images(), profile="pretrained")      # every method of METHODS
    study.rows["nogan"]["psnr"], study.intervals["nogan"]["psnr"]   # 23.4, (22.6, 24.3)
    rankings(study.rows)["psnr"]                                    # method names, best first
    html_table(...)                                                 # a table the report page picks up

Every method colorizes the lightness of the same photos at the same working size; the grey image
(ab = 0) and Levin's method with ideal scribbles (told 1 % of the true colours,
:class:`colorkit.levin.IdealScribbler`) are the two reference rows. The metrics are the one suite
(:mod:`colorkit.metrics`) with Zhang et al.'s semantic agreement, each with a bootstrap 95 % interval
over the photos (:func:`colorkit.metrics.metric_intervals`).
"""

from __future__ import annotations

import html
import math
import re
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from colorkit.errors import ColorkitError
from colorkit.evaluate import colorize_and_score, rebalance_reference, sample_categories
from colorkit.infer import model_for_profile
from colorkit.levin import IdealScribbler
from colorkit.metrics import grey_image, image_parts, metric_intervals, row_from_parts
from colorkit.metrics import paired_difference as metrics_paired_difference


@dataclass(frozen=True)
class Method:
    name: str
    notebook: str
    what: str


METHODS = (
    Method("grey", "01", "no colour at all (ab = 0): the floor every method has to beat"),
    Method("levin_1pct", "02", "Levin et al. 2004 with strokes on 1 % of the pixels in the true colours — told part "
                               "of the answer, so not automatic"),
    Method("reg_l2", "03", "regression, L2 loss, U-Net from scratch"),
    Method("reg_l1", "03", "regression, L1 loss, U-Net from scratch"),
    Method("koalarization", "03", "Deep Koalarization (Baldassarre et al. 2017): from scratch + a frozen ImageNet "
                                  "embedding, MSE"),
    Method("pretrained_unet_l2", "03", "U-Net decoder over ImageNet-pretrained EfficientNet-Lite0, L2"),
    Method("pretrained_unet_l1", "03", "U-Net decoder over ImageNet-pretrained EfficientNet-Lite0, L1 (DeOldify's "
                                       "generator)"),
    Method("cls261", "04", "Zhang et al. 2016 classification over 261 ab bins, no rebalancing, from scratch"),
    Method("cls261_rebal", "04", "Zhang et al. 2016 with class rebalancing (λ = 0.5), from scratch"),
    Method("koalarization_cls_rebal", "04", "Deep Koalarization's network with Zhang's rebalanced classification"),
    Method("pretrained_unet_cls_rebal", "04", "the pretrained-encoder U-Net with Zhang's rebalanced classification"),
    Method("colorunet", "05", "ColorUNet (Billaut et al. 2018): classification over 32 YUV colours"),
    Method("gan_seed000", "06", "GAN, seed 000's recipe (U-Net + PatchGAN, from scratch; reg_l1's network and budget)"),
    Method("gan_zhang_lsgan", "06", "GAN, seed 002's recipe (Zhang's network as generator, LSGAN)"),
    Method("gan_pretrained_unet", "06", "GAN on the pretrained-encoder U-Net (pretrained_unet_l1's network and "
                                        "budget)"),
    Method("nogan", "07", "DeOldify's NoGAN (Antic 2019): feature-loss pretraining, critic pretraining, a short "
                          "GAN phase"),
)

# What each metric rewards, and which way is better: "higher", "lower", or the value it should be close to
# ("originals": the originals' mean colourfulness; 1.0 for the chroma ratio).
GOALS = {"psnr": "higher", "ssim": "higher", "auc": "higher", "auc_rebal": "higher", "colorfulness": "originals",
         "chroma_ratio": 1.0, "false_colour": "lower", "vivid_hue": "higher", "semantic_top1": "higher",
         "semantic_top5": "higher"}


@dataclass
class Study:
    """Everything the study measured: ``names`` of the photos, their ``categories``, the ``truths``,
    ``preds[method]`` (uint8 images), ``parts[method]`` (per-photo metric parts), ``rows[method]`` (the table),
    ``intervals[method][metric] = (low, high)``, ``seconds[method]`` (mean colorization time per photo)."""

    names: list[str]
    categories: dict[str, str]
    truths: list[np.ndarray]
    preds: dict[str, list[np.ndarray]] = field(default_factory=dict)
    parts: dict[str, dict] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)
    intervals: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def originals(self) -> dict:
        """The originals scored against themselves: the values a perfect colorization would get."""
        return row_from_parts(image_parts(self.truths, self.truths, progress=False))


def colorizers(names=None, profile: str = "pretrained", progress: bool = False) -> dict:
    """Method name -> its colorizer (a :class:`colorkit.infer.Colorizer`, or the ideal scribbler), without grey."""
    out = {}
    for m in METHODS:
        if m.name == "grey" or (names is not None and m.name not in names):
            continue
        out[m.name] = (IdealScribbler(0.01, name=m.name) if m.name.startswith("levin")
                       else model_for_profile(m.name, profile, progress=progress))
    return out


def run_study(samples: list[tuple[str, np.ndarray]], methods: dict, size: int = 256, temperature: float = 0.38,
              n_resamples: int = 2000, semantic: bool = True, progress: bool = True, samples_dir=None) -> Study:
    """Colorize and score ``samples`` (``(name, uint8 RGB)``) with every colorizer of ``methods`` (name -> colorizer),
    grey first. ``samples_dir``: where the photos' ATTRIBUTION is (their categories); default ``data/samples``."""
    if not samples:
        raise ColorkitError("run_study: no photos to evaluate")
    names = [n for n, _ in samples]
    trues = [img for _, img in samples]
    cats = sample_categories(names) if samples_dir is None else sample_categories(names, samples_dir)
    study = Study(names, cats, trues)
    bins, prior, _ = rebalance_reference(trues)
    study.preds["grey"] = [grey_image(t) for t in trues]
    study.seconds["grey"] = 0.0

    def score(preds):
        return image_parts(preds, trues, bins, prior, progress=False, semantic=semantic)

    study.parts["grey"] = score(study.preds["grey"])
    parts, seconds, preds = colorize_and_score(methods, trues, score, size, temperature, progress,
                                               keep=True)
    study.parts.update(parts)
    study.seconds.update(seconds)
    study.preds.update(preds)
    for name in tqdm(study.parts, desc="intervals", leave=False, disable=not progress):
        study.rows[name] = row_from_parts(study.parts[name])
        study.intervals[name] = metric_intervals(study.parts[name], n_resamples=n_resamples)
    return study


def _badness(metric: str, value: float, originals: dict) -> float:
    goal = GOALS.get(metric, "higher")
    if goal == "higher":
        return -value
    if goal == "lower":
        return value
    target = originals.get(metric, math.nan) if goal == "originals" else float(goal)
    return abs(value - target)


def rankings(rows: dict[str, dict], originals: dict | None = None, skip=("levin_1pct",)) -> dict[str, list[str]]:
    """Per metric, the method names best first (``GOALS`` says which way is better; colourfulness is ranked by its
    distance to ``originals``' value). Methods in ``skip`` (told part of the answer) are left out."""
    originals = originals or {}
    out = {}
    metrics = [k for k in next(iter(rows.values())) if k in GOALS]
    for metric in metrics:
        if GOALS[metric] == "originals" and metric not in originals:
            continue
        named = [(n, r[metric]) for n, r in rows.items() if n not in skip and not math.isnan(r[metric])]
        out[metric] = [n for n, _ in sorted(named, key=lambda nv: _badness(metric, nv[1], originals))]
    return out


def interval_excludes(study: Study, a: str, b: str, metric: str) -> bool:
    """True when the 95 % intervals of methods ``a`` and ``b`` on ``metric`` do not overlap (a clear difference)."""
    (lo_a, hi_a), (lo_b, hi_b) = study.intervals[a][metric], study.intervals[b][metric]
    return hi_a < lo_b or hi_b < lo_a


def paired_difference(study: Study, a: str, b: str, metric: str, n_resamples: int = 2000) -> tuple[float, float, float]:
    """``metric`` of ``a`` minus that of ``b`` on the study's photos, with a paired bootstrap 95 % interval
    (:func:`colorkit.metrics.paired_difference`). Returns (difference, low, high)."""
    return metrics_paired_difference(study.parts[a], study.parts[b], metric, n_resamples=n_resamples)


def frames_per_second(colorizer, size: int = 256, n: int = 30, warmup: int = 3, seed: int = 0) -> float:
    """Frames per second of ``colorizer`` on ``size`` x ``size`` grey frames (random content, one at a time),
    as seed 002 counts its "30 fps on CPU": the whole path of :meth:`Colorizer.colorize`, after ``warmup`` frames."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (size, size), dtype=np.uint8)
    for _ in range(warmup):
        colorizer.colorize(frame, size=size)
    t0 = time.perf_counter()
    for _ in range(n):
        colorizer.colorize(frame, size=size)
    return n / (time.perf_counter() - t0)


_NUMERIC = re.compile(r"^[-+]?\d")  # a cell that starts with a number is right-aligned (class "n")


def html_table(header: list[str], rows: list[list], caption: str = "") -> str:
    """A plain HTML table (class ``colorkit-table``: the report page of ``make reproduce`` copies these tables
    from the executed notebook). Cells are escaped; floats are written as they come (format them first); cells
    that start with a number get class ``n`` (right-aligned on the report page)."""
    esc = html.escape
    head = "".join(f"<th>{esc(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class='n'>{esc(str(c))}</td>" if _NUMERIC.match(str(c)) else
                                   f"<td>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table class='colorkit-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
