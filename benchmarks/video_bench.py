"""Video: frames per second of `colorkit video` end to end, each smoother against frame by frame.

Run from the repository root:  .venv/bin/python benchmarks/video_bench.py  [--clip bikes] [--frames N] [--threads 1]

Measured: :func:`colorkit.video.colorize_video` on the grey input of a course clip (default
``bikes``: 640 x 272, 250 frames, 25 fps; built by ``colorkit data build``), the whole job as a
user runs it: PyAV decodes the H.264 input, the default model (``colorkit.infer.DEFAULT_MODEL``)
colorizes each frame at working size 256 on the long side (aspect kept), the smoother runs, the
chroma joins the frame's own Y, libx264 encodes the output and the file is renamed into place.
The output goes to a temp folder and is deleted.

Reference: the same job with ``smooth="none"`` (frame by frame, no temporal work), measured in
the same process, so the ratio shows what smoothing costs. The issue's target: 10 frames/s or
more with smoothing at 640 x 272 on a 2-core CPU. Context: seed 002 reports real-time (30 fps)
colorization on a CPU for 256 x 256 images with a smaller network.

Every smoother runs once as a warm-up on 8 frames, then each is timed over the clip; with 1 torch
thread and with torch's default (one per core). Timings depend on the machine and its load
(printed with them). The table is also written to ``reports/bench/video.csv`` for notebook 08.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from common import arg_parser, thread_counts, use_threads


def main() -> int:
    ap = arg_parser(__doc__)
    ap.add_argument("--clip", default="bikes", help="a course clip (bikes, carphone, vtest, tree)")
    ap.add_argument("--frames", type=int, default=None, help="the first N frames only (default: all)")
    args = ap.parse_args()

    from colorkit.infer import DEFAULT_MODEL, Colorizer
    from colorkit.paths import REPORTS_DIR
    from colorkit.video import SMOOTHERS, clip_path, colorize_video, probe

    src = clip_path(args.clip)
    info = probe(src)
    col = Colorizer(DEFAULT_MODEL, device="cpu")
    print(f"clip {args.clip}: {info.width} x {info.height}, {args.frames or info.frames} frames; model {col.name}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for threads in thread_counts(args.threads):
            use_threads(threads)
            for smooth in SMOOTHERS:  # warm-up: first-call allocations, kernel choices
                colorize_video(src, Path(tmp) / f"warm-{smooth}.mp4", col, smooth=smooth, max_frames=8,
                               progress=False, overwrite=True)
            fps = {}
            print(f"{'smoothing':>10} {'frames':>7} {'seconds':>8} {'frames/s':>9} {'vs none':>8} {'cuts':>5}")
            for smooth in SMOOTHERS:
                t0 = time.perf_counter()
                r = colorize_video(src, Path(tmp) / f"{smooth}.mp4", col, smooth=smooth, max_frames=args.frames,
                                   progress=False, overwrite=True)
                seconds = time.perf_counter() - t0
                fps[smooth] = r.frames / seconds
                ratio = fps[smooth] / fps["none"]
                print(f"{smooth:>10} {r.frames:>7} {seconds:>8.1f} {fps[smooth]:>9.1f} {ratio:>7.2f}x {len(r.cuts):>5}")
                rows.append({"clip": args.clip, "width": info.width, "height": info.height, "threads": threads,
                             "smooth": smooth, "frames": r.frames, "seconds": round(seconds, 2),
                             "fps": round(fps[smooth], 2), "ratio_vs_none": round(ratio, 3)})
    out = REPORTS_DIR / "bench" / "video.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
