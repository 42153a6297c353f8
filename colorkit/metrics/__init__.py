"""How good is a colorization? One metric suite for every method.

* **PSNR, SSIM** on sRGB in [0, 1]: closeness to the one true photo. They
  reward safe, greyish guesses, so they are not the whole story.
* **AuC** (Zhang et al. 2016, Table 1): the share of pixels whose ab error is
  within t, swept over t = 0..150, averaged. The *rebalanced* AuC weights each
  pixel by the inverse prior of its true colour's bin, so rare colours count as
  much as common ones (a grey guess scores well on plain AuC, badly here).
* **Colorfulness** (Hasler & Süsstrunk 2003) and the **chroma ratio**
  mean|ab|_pred / mean|ab|_true: how vivid the output is, and whether it is
  as vivid as the truth (< 1 means desaturated).
* **False-colour rate** and **vivid-hue accuracy**: does the output paint
  colour where the truth is grey, and does it get the hue of the truly vivid
  pixels right (chroma |ab| and hue atan2(b, a) in Lab).
* **Semantic agreement** (opt-in, one network pass per image): does an
  ImageNet classifier (EfficientNet-Lite2, :mod:`colorkit.backbones`) see the
  same thing in the colorized image as in the original?

The modules, read in this order:

* :mod:`.inputs`: images and ab planes in, checked, as float arrays;
* :mod:`.pixels`: the per-pixel metrics (PSNR, SSIM, AuC, colourfulness,
  chroma ratio, false colour, vivid hue);
* :mod:`.semantic`: semantic agreement through an ImageNet classifier;
* :mod:`.temporal`: flicker in a video, the colour distribution consistency (CDC);
* :mod:`.stats`: bootstrap intervals over photos, Wilson intervals for rates (a Turing test's fooling rate);
* :mod:`.suite`: :func:`evaluate_images`, one row of metrics for a list of
  images, and the grey baseline;
* :mod:`.table`: rows as Markdown or CSV tables.

Images are numpy arrays channels-last, uint8 (H, W, 3) or (N, H, W, 3) in
0-255 (float arrays are read as [0, 1]), or torch tensors channels-first,
(3, H, W) or (N, 3, H, W) in [0, 1]. ab planes are (N, 2, H, W) or (2, H, W),
tensors or arrays. Per-image metrics return a float for one image and an
array (N,) for a batch.
"""

from colorkit.metrics.pixels import (
    ab_error_histogram,
    auc_ab,
    auc_from_histogram,
    chroma_ratio,
    colorfulness,
    false_colour_rate,
    psnr,
    rebalanced_pixel_weights,
    ssim,
    vivid_hue_accuracy,
)
from colorkit.metrics.semantic import semantic_agreement
from colorkit.metrics.stats import bootstrap_interval, wilson_interval
from colorkit.metrics.suite import (
    evaluate_images,
    grey_baseline,
    grey_image,
    image_parts,
    metric_intervals,
    paired_difference,
    row_from_parts,
    rows_from_resamples,
)
from colorkit.metrics.table import COLUMN_TITLES, metric_table, write_table
from colorkit.metrics.temporal import cdc, channel_histograms, js_curve, js_divergence

__all__ = [
    "COLUMN_TITLES", "bootstrap_interval", "cdc", "image_parts", "metric_intervals", "paired_difference",
    "row_from_parts", "rows_from_resamples", "wilson_interval", "channel_histograms", "js_curve", "js_divergence",
    "ab_error_histogram", "auc_ab", "auc_from_histogram", "chroma_ratio", "colorfulness", "evaluate_images",
    "false_colour_rate", "grey_baseline", "grey_image", "metric_table", "psnr", "rebalanced_pixel_weights",
    "semantic_agreement", "ssim", "vivid_hue_accuracy", "write_table",
]
