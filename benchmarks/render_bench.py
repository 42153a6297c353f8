"""Render factor: seconds and peak memory of colorizing big photos, streamed over strips against the whole-image path.

Run from the repository root:  .venv/bin/python benchmarks/render_bench.py  [--quick] [--threads 1]

Measured: ``Colorizer.colorize`` with the default model (``colorkit.infer.DEFAULT_MODEL``, a
Lab U-Net over an ImageNet-pretrained encoder) on the CPU, fp32, DeOldify's render factor R
(a working size of 16 x R), the model's own (Lab) merge, for

- R in (10, 20, 35, 45, 60) on a 12-megapixel photo, and
- photos of 1, 6, 12 and 24 megapixels (3:2) at R = 35, DeOldify's default for photos.

Reference: the same call with ``Colorizer.strip_rows = None``, the whole-image path that
colorkit had before streaming (every full-resolution step on float (1, 3, H, W) tensors),
measured the same way at 24 MP and 12 MP, R = 35 (and at every size with ``--full-reference``).
Streamed: the full-resolution work (luma, upsampling, merge, gamut fit, uint8) runs 256 rows
at a time into a preallocated uint8 output.

Each measurement runs in a fresh process: the photo (smooth gradients + noise, made a few rows
at a time so making it costs no memory to speak of) and the model are made first, then one
``colorize`` is timed. Peak memory is the process's peak resident set (``VmHWM``), which
includes Python, torch, the model and the photo (``before``: the peak before ``colorize``).
Context only, not a like-for-like reference: a DeOldify user reported 48 GB of RAM at render
factor 100 and about 2 GB at 35-50, colorizing 300 x 300 images on a 10-core CPU (DeOldify
issue #393, github.com/jantic/DeOldify/issues/393): there the network at the working size,
not the photo, is what grows.

Everything is measured with 1 torch thread and with torch's default (one per core), as every
benchmark here; timings depend on the machine and its load (printed with them). The table is
also written as CSV to ``reports/bench/render_factor.csv`` (``--quick``: ``render_factor_quick.csv``)
for notebook 07.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from common import arg_parser, thread_counts, use_threads

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colorkit.evaluate import render_cost  # noqa: E402  (one measurement in a fresh process, shared with notebook 07)

OUT_DIR = ROOT / "reports" / "bench"

FACTORS, FACTOR_MP = (10, 20, 35, 45, 60), 12
SIZES_MP, SIZE_FACTOR = (1, 6, 12, 24), 35
REFERENCE = ((24, 35), (12, 35))  # (megapixels, render factor) also measured whole-image
QUICK = {"factors": (10, 35), "factor_mp": 6, "sizes": (1, 6), "reference": ((6, 35),)}
DEOLDIFY_393 = "DeOldify issue #393 (a user, CPU, 300 x 300 images): 48 GB RAM at render factor 100, ~2 GB at 35-50"

def bench(threads: int, grid: dict, full_reference: bool) -> list[dict]:
    """Every measurement of ``grid`` with ``threads`` torch threads; prints one table."""
    use_threads(threads)
    points = [(grid["factor_mp"], rf) for rf in grid["factors"]]
    points += [(mp, SIZE_FACTOR) for mp in grid["sizes"] if (mp, SIZE_FACTOR) not in points]
    refs = set(points) if full_reference else set(grid["reference"])
    print(f"{'photo':>17} {'R':>3} {'side':>5} | {'streamed s':>10} {'peak MB':>8} {'before':>7} | "
          f"{'whole s':>8} {'peak MB':>8} | {'memory':>7} {'time':>6}")
    rows = []
    for mp, rf in points:
        s = render_cost(mp, rf, True, threads)
        rows.append(s)
        photo = f"{mp} MP {s['height']}x{s['width']}"
        line = (f"{photo:>17} {rf:>3} {16 * rf:>5} | {s['seconds']:>10.2f} "
                f"{s['peak_mb']:>8.0f} {s['before_mb']:>7.0f} |")
        if (mp, rf) in refs:
            ref = render_cost(mp, rf, False, threads)
            rows.append(ref)
            line += (f" {ref['seconds']:>8.2f} {ref['peak_mb']:>8.0f} | x{s['peak_mb'] / ref['peak_mb']:<6.2f}"
                     f" x{s['seconds'] / ref['seconds']:<5.2f}")
        print(line, flush=True)
    print("  memory, time: streamed / whole image (reference); peak MB includes Python, torch, the model and "
          "the photo ('before')")
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def main() -> int:
    ap = arg_parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="a reduced grid: R in (10, 35) at 6 MP, 1 and 6 MP photos")
    ap.add_argument("--full-reference", action="store_true", help="measure the whole-image path at every point")
    ap.add_argument("--csv", type=Path, default=None, help="where to write the table (default: reports/bench/)")
    args = ap.parse_args()

    import torch

    grid = QUICK if args.quick else {"factors": FACTORS, "factor_mp": FACTOR_MP, "sizes": SIZES_MP,
                                     "reference": REFERENCE}
    print(f"colorize with render factor R (working side 16 x R), default model, CPU, fp32, torch {torch.__version__}")
    rows = []
    for n in thread_counts(args.threads):
        rows += bench(n, grid, args.full_reference)
    path = args.csv or OUT_DIR / ("render_factor_quick.csv" if args.quick else "render_factor.csv")
    write_csv(rows, path)
    print(f"\ncontext, not a reference: {DEOLDIFY_393}")
    print(f"table written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
