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
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from colorkit.data.samples import load_samples
from colorkit.errors import ColorkitError
from colorkit.infer import Colorizer, training_scorer, validation_images  # noqa: F401 (re-exported)
from colorkit.metrics import evaluate_images, grey_baseline, metric_table, write_table
from colorkit.metrics.reference import rebalance_reference, training_prior  # noqa: F401 (re-exported)
from colorkit.paths import SAMPLES_DIR


def as_colorizer(m):
    """A Colorizer, a checkpoint name or path, ``levin_<N>pct`` (Levin's method told N % of the true colours,
    :class:`colorkit.levin.IdealScribbler`), or any object with ``name`` and ``colorize`` -> a colorizer."""
    if hasattr(m, "colorize"):
        return m
    levin = re.fullmatch(r"levin_(\d+(?:\.\d+)?)pct", str(m))
    if levin:
        from colorkit.levin import IdealScribbler

        return IdealScribbler(float(levin[1]) / 100, name=str(m))
    return Colorizer(m)


def sample_images(folder=None, missing_ok: bool = False) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB (H, W, 3))`` for every image in ``folder`` (default ``data/samples``), sorted.

    The one listing of evaluation images, :func:`colorkit.data.samples.load_samples`: name = path under the
    folder without suffix.
    """
    return load_samples(folder if folder is not None else SAMPLES_DIR, missing_ok=missing_ok)


def colorize_all(colorizer, images: list[np.ndarray], size: int = 256, temperature: float = 0.38,
                 progress: bool = True) -> list[np.ndarray]:
    """``colorizer`` on the lightness of every image, with a progress bar named after it."""
    return [colorizer.colorize(img, temperature=temperature, size=size)
            for img in tqdm(images, desc=colorizer.name, leave=False, disable=not progress)]


def colorize_and_score(colorizers, images: list[np.ndarray], score, size: int = 256,
                       temperature: float = 0.38, progress: bool = True, keep: bool = False):
    """Each colorizer (a list, see :func:`as_colorizer`, or a dict name -> colorizer) on the lightness of every
    image, and ``score(predictions)`` of each method's outputs.

    A method is scored in a background thread while the next one colorizes: the scoring is mostly
    single-threaded numpy and scipy, the networks use every core, so the two overlap (the results are the
    same as one after the other). Returns ``(scores, seconds, preds)``: name -> ``score``'s result, name ->
    mean colorization seconds per image, and name -> the outputs if ``keep`` (else an empty dict).
    """
    from concurrent.futures import ThreadPoolExecutor

    named = colorizers.items() if isinstance(colorizers, dict) else [(None, m) for m in colorizers]
    jobs, seconds, preds = {}, {}, {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for name, m in named:
            col = as_colorizer(m)
            name = name or col.name
            t0 = time.perf_counter()
            out = colorize_all(col, images, size, temperature, progress)
            seconds[name] = (time.perf_counter() - t0) / max(1, len(images))
            if keep:
                preds[name] = out
            jobs[name] = pool.submit(score, out)
            del out
        scores = {name: job.result() for name, job in jobs.items()}
    return scores, seconds, preds


def sample_categories(names, samples_dir=SAMPLES_DIR) -> dict[str, str]:
    """Name -> category (people, animals, landscape, city, food, objects) from ``data/samples/ATTRIBUTION``;
    a name it does not list (a folder of the user's) is ``"uncategorised"``."""
    from colorkit.data.samples import read_attribution

    try:
        listed = {Path(e["File"]).stem: e.get("Category", "uncategorised") for e in read_attribution(samples_dir)}
    except ColorkitError:
        listed = {}
    return {n: listed.get(n, "uncategorised") for n in names}


def category_rows(parts: dict, names: list[str], categories: dict[str, str]) -> dict[str, dict]:
    """One metric row per category (its photos only, pooled as the whole table), plus ``"all"``."""
    from colorkit.metrics import row_from_parts

    out = {}
    for cat in sorted(set(categories[n] for n in names)):
        idx = [i for i, n in enumerate(names) if categories[n] == cat]
        out[cat] = {**row_from_parts(parts, idx), "n_images": len(idx)}
    out["all"] = {**row_from_parts(parts), "n_images": len(names)}
    return out


def evaluate_with_intervals(models: list, samples=None, size: int = 256, temperature: float = 0.38,
                            n_resamples: int = 2000, progress: bool = True, semantic: bool = False):
    """Like :func:`evaluate_models`, with bootstrap 95 % intervals over the photos: returns
    ``(rows, intervals, parts)``, ``intervals[name][metric] = (low, high)`` and ``parts[name]`` each
    method's :func:`colorkit.metrics.image_parts` (for per-category rows, :func:`category_rows`).
    ``models`` may hold Colorizers, checkpoint names, or any object with ``name`` and ``colorize(image,
    temperature=, size=)`` (e.g. :class:`colorkit.levin.IdealScribbler`)."""
    from colorkit.metrics import grey_image, image_parts, metric_intervals, row_from_parts

    samples = sample_images(samples) if samples is None or isinstance(samples, (str, Path)) else samples
    trues = [img for _, img in samples]
    bins, prior, _ = rebalance_reference(trues)

    def score(preds):
        return image_parts(preds, trues, bins, prior, progress=False, semantic=semantic)

    parts = {"grey": score([grey_image(t) for t in trues])}
    parts.update(colorize_and_score(models, trues, score, size, temperature, progress)[0])
    rows = {name: {**row_from_parts(pt), "n_images": len(trues)} for name, pt in parts.items()}
    intervals = {name: metric_intervals(pt, n_resamples=n_resamples) for name, pt in parts.items()}
    return rows, intervals, parts


def interval_table(rows: dict[str, dict], intervals: dict[str, dict], digits: int = 3) -> str:
    """Markdown: each cell ``value [low, high]``."""
    cols = [k for k in next(iter(rows.values())) if k != "n_images"]
    lines = ["| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in rows.items():
        cells = [f"{row[k]:.{digits}f} [{intervals[name][k][0]:.{digits}f}, {intervals[name][k][1]:.{digits}f}]"
                 for k in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate_models(models: list, samples=None, out=None, size: int = 256, temperature: float = 0.38,
                    progress: bool = True, semantic: bool = False) -> dict[str, dict]:
    """``{"grey": row, name: row, ...}`` for model names / checkpoints / Colorizers on the samples.

    With ``out`` (a folder), also writes ``metrics.csv`` and ``metrics.md`` there.
    """
    samples = sample_images(samples) if samples is None or isinstance(samples, (str, Path)) else samples
    trues = [img for _, img in samples]
    bins, prior, source = rebalance_reference(trues)
    rows = {"grey": grey_baseline(trues, bins=bins, prior=prior, progress=False, semantic=semantic)}

    def score(preds):
        return evaluate_images(preds, trues, bins=bins, prior=prior, progress=False, semantic=semantic)

    rows.update(colorize_and_score(models, trues, score, size, temperature, progress)[0])
    if out is not None:
        out = Path(out)
        write_table(rows, out / "metrics.csv", out / "metrics.md")
        if progress:
            print(f"rebalanced AuC prior: {source}; wrote {out / 'metrics.csv'} and {out / 'metrics.md'}")
    return rows


def snapshot_strip(run, out=None, n: int = 5, size: int = 256, thumb: int = 128, progress: bool = True) -> Path:
    """Every kept snapshot of training run folder ``run`` on ``n`` of the validation photos it was scored on
    (evenly spread over the first ``eval.n``), as one JPEG.

    Rows are photos; the first column is the original, then one column per snapshot in step order
    (each cell the centre square of the colorization, ``thumb`` px). Next to it, ``.json`` lists the
    photos, the steps and ``thumb``. The snapshots themselves are not committed (a few MB each), so
    this is how a reader sees what the inflection rule saw. ``out`` defaults to
    ``data/checkpoints/NAME.strip.jpg``. Returns the JPEG's path.
    """
    import json

    from PIL import Image

    from colorkit import checkpoint
    from colorkit.io import atomic_write
    from colorkit.paths import CHECKPOINTS_DIR

    run = Path(run)
    snaps = sorted((run / "snapshots").glob("step_*.pt"))
    if not snaps:
        raise ColorkitError("no snapshots in this run folder (train.keep_every)", path=run)
    ck = checkpoint.load(run / "checkpoint.pt")
    name = ck["name"]
    out = Path(out) if out is not None else CHECKPOINTS_DIR / f"{name}.strip.jpg"
    cfg = ck.get("config") or {}
    scored = validation_images((cfg.get("eval") or {}).get("n", n), folder=(cfg.get("data") or {}).get("folder"))
    photos = [scored[i] for i in sorted({round(k * len(scored) / n) for k in range(n)} & set(range(len(scored))))]

    def square(rgb):
        h, w = rgb.shape[:2]
        s = min(h, w)
        crop = rgb[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        return np.asarray(Image.fromarray(crop).resize((thumb, thumb), Image.Resampling.LANCZOS))

    columns = [[square(img) for _, img in photos]]
    for snap in tqdm(snaps, desc=f"{name} snapshots", disable=not progress):
        col = Colorizer(snap)
        columns.append([square(col.colorize(img, size=size)) for _, img in photos])
    grid = np.concatenate([np.concatenate(col, 0) for col in columns], 1)
    buf = io.BytesIO()
    Image.fromarray(grid).save(buf, format="JPEG", quality=88)
    atomic_write(out, buf.getvalue())
    steps = [int(p.stem.split("_")[1]) for p in snaps]
    info = {"run": name, "photos": [p for p, _ in photos], "steps": steps, "thumb": thumb, "size": size}
    atomic_write(out.with_suffix(".json"), json.dumps(info, indent=1) + "\n")
    return out


_RENDER_CHILD = """
import gc, json, resource, sys, time
import numpy as np, torch


# this process's peak resident set: VmHWM, which a fork + exec starts afresh (ru_maxrss keeps the parent's)
def peak_mb():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():  # Linux >= 4.0: writing 5 to clear_refs sets VmHWM back to the current resident set
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def photo(H, W):  # smooth gradients + noise, made 32 rows at a time (no full-size float temporaries)
    img, rng = np.empty((H, W, 3), np.uint8), np.random.default_rng(0)
    x, c = np.linspace(0, 1, W, dtype=np.float32)[None, :, None], np.arange(3, dtype=np.float32)
    for r0 in range(0, H, 32):
        y = np.linspace(r0 / H, (r0 + 32) / H, 32, dtype=np.float32)[: H - r0, None, None]
        v = 127 + 100 * np.sin(6 * x + 3 * c) * np.cos(4 * y + c)
        img[r0:r0 + 32] = np.clip(v + rng.normal(0, 6, v.shape).astype(np.float32), 0, 255)
    return img


points, threads = json.loads(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
from colorkit.infer import DEFAULT_MODEL, Colorizer

try:
    import ctypes
    trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):
    trim = None
col = Colorizer(DEFAULT_MODEL, device="cpu")
for i, (H, W, rf, rows) in enumerate(points):
    img = photo(H, W)
    col.strip_rows = rows or None
    if i and not reset_peak():
        raise SystemExit("cannot reset this process's peak memory (/proc/self/clear_refs): one point per process")
    before = peak_mb()
    t = time.perf_counter()
    out = col.colorize(img, render_factor=rf)
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "before_mb": before}), flush=True)
    del img, out
    gc.collect()
    if trim is not None:
        trim(0)  # hand the freed heap back to the system, so that the next point starts from what it needs
"""


def photo_shape(megapixels: float) -> tuple[int, int]:
    """(H, W) of a 3:2 landscape photo of about ``megapixels``: 24 -> 4000 x 6000."""
    h = round(math.sqrt(megapixels * 1e6 / 1.5))
    return h, round(1.5 * h)


def render_costs(points: list[tuple[float, int]], streamed: bool = True, threads: int = 1) -> list[dict]:
    """Time and peak memory of ``colorize`` with the default model at each (megapixels, render factor) of
    ``points``, on synthetic photos, all in one fresh process (one model load); one dict per point:
    ``seconds``, ``peak_mb`` (the process's peak resident memory during that call, which includes Python,
    torch, the model and the photo), ``before_mb`` (the resident memory just before it) and what was measured.

    The peak is the child's ``VmHWM`` (Linux), set back to the current size before each call (``clear_refs``);
    ``ru_maxrss`` would not do: a forked child inherits its parent's high-water mark. ``streamed=False``
    runs the whole-image path (``Colorizer.strip_rows = None``), the reference.
    """
    rows = Colorizer.strip_rows if streamed else 0
    shapes = [photo_shape(mp) for mp, _ in points]
    spec = json.dumps([[h, w, int(rf), rows] for (h, w), (_, rf) in zip(shapes, points)])
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    r = subprocess.run([sys.executable, "-c", _RENDER_CHILD, spec, str(threads)],
                       capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        raise ColorkitError(f"render_costs: measuring {points} failed:\n{r.stderr[-2000:]}")
    out = []
    for (mp, rf), (h, w), line in zip(points, shapes, r.stdout.strip().splitlines()[-len(points):]):
        row = json.loads(line)
        out.append({"threads": threads, "megapixels": mp, "height": h, "width": w, "render_factor": rf,
                    "working_side": 16 * rf, "path": "streamed" if streamed else "whole", "strip_rows": rows or "",
                    **{k: round(v, 3 if k == "seconds" else 1) for k, v in row.items()}})
    return out


def render_cost(megapixels: float, rf: int, streamed: bool = True, threads: int = 1) -> dict:
    """:func:`render_costs` of one point, alone in its fresh process (what ``benchmarks/render_bench.py`` runs)."""
    return render_costs([(megapixels, rf)], streamed, threads)[0]


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", default=None, metavar="DIR",
                        help="folder of colour photos to evaluate on (default: data/samples)")
    parser.add_argument("--models", nargs="+", required=True,
                        help="model names in data/checkpoints/ or checkpoint paths; levin_1pct for Levin's method "
                             "with strokes on 1 %% of the pixels in the true colours (notebook 09's reference)")
    parser.add_argument("--samples", default=None, help="the same as DIR")
    parser.add_argument("--out", required=True, help="folder for metrics.csv and metrics.md")
    parser.add_argument("--size", type=int, default=256, help="working size")
    parser.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature (classification)")
    parser.add_argument("--semantic", action="store_true",
                        help="also score semantic agreement (EfficientNet-Lite2 on colorized vs original; slower)")
    parser.add_argument("--intervals", action="store_true",
                        help="bootstrap 95 %% intervals over the photos, and one table per category "
                             "(writes metrics_ci.md too)")


def run_cli(args: argparse.Namespace) -> int:
    if args.folder and args.samples and Path(args.folder) != Path(args.samples):
        raise ColorkitError(f"give the photo folder once: DIR {args.folder} and --samples {args.samples} differ")
    folder = args.folder or args.samples
    if folder is not None and not Path(folder).is_dir():
        raise ColorkitError("is not a folder of photos", path=folder)
    if not args.intervals:
        print(metric_table(evaluate_models(args.models, folder, args.out, args.size, args.temperature,
                                           semantic=args.semantic), "md"))
        return 0
    from colorkit.io import atomic_write

    rows, intervals, parts = evaluate_with_intervals(args.models, folder, args.size, args.temperature,
                                                     semantic=args.semantic)
    out = Path(args.out)
    write_table(rows, out / "metrics.csv", out / "metrics.md")
    names = [n for n, _ in sample_images(folder)]
    cats = sample_categories(names)
    text = ["## All photos, with bootstrap 95 % intervals over photos", "", interval_table(rows, intervals)]
    for name, pt in parts.items():
        text += ["", f"## {name} by category", "", metric_table(category_rows(pt, names, cats), "md")]
    atomic_write(out / "metrics_ci.md", "\n".join(text) + "\n")
    print("\n".join(text))
    return 0
