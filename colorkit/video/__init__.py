"""Video: decode / encode with PyAV, frame-by-frame colorization, temporal smoothing, scene cuts, clips.

    colorkit video IN OUT [--model M] [--render-factor R | --size S] [--smooth none|ema|flow]

Modules, read in this order: :mod:`.io` (frames in, H.264 out, atomically), :mod:`.clips` (the
course's clips in the data cache), :mod:`.temporal` (the smoothers and the cut detector),
:mod:`.colorize` (:class:`VideoColorizer`, :func:`colorize_video`).
"""

from __future__ import annotations

import argparse
import sys

from colorkit.errors import ColorkitError
from colorkit.infer import DEFAULT_MODEL, DEFAULT_SIZE, MERGES, render_size
from colorkit.video.clips import CLIP_NAMES, build_clips, clip_path, load_clip
from colorkit.video.colorize import (
    DEFAULT_MERGE,
    DEFAULT_SMOOTH,
    VideoColorizer,
    VideoReport,
    colorize_video,
    working_shape,
)
from colorkit.video.io import VideoWriter, decode, probe, read_frames, read_video, write_video
from colorkit.video.temporal import SMOOTHERS, CutDetector, FlowPropagation, TemporalEMA, detect_cuts, ema_weights

__all__ = [
    "CLIP_NAMES", "DEFAULT_MERGE", "DEFAULT_SMOOTH", "SMOOTHERS", "CutDetector", "FlowPropagation", "TemporalEMA",
    "VideoColorizer", "VideoReport", "VideoWriter", "build_clips", "clip_path", "colorize_video", "decode",
    "detect_cuts", "ema_weights", "load_clip", "probe", "read_frames", "read_video", "working_shape", "write_video",
]


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="a video file (any container and codec FFmpeg reads)")
    parser.add_argument("output", metavar="OUT", help="the colorized video, .mp4 / .mov / .mkv (H.264); "
                                                      "never overwrites a file unless --overwrite")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"model name in data/checkpoints/ or a checkpoint path (default: {DEFAULT_MODEL})")
    work = parser.add_mutually_exclusive_group()
    work.add_argument("--size", type=int, default=DEFAULT_SIZE,
                      help=f"long side of the working frame in pixels (default {DEFAULT_SIZE}; the aspect is kept)")
    work.add_argument("--render-factor", type=int, default=None, metavar="R",
                      help="DeOldify's render factor, instead of --size: a long side of 16 x R")
    parser.add_argument("--smooth", choices=SMOOTHERS, default=DEFAULT_SMOOTH,
                        help="temporal smoothing: none (frame by frame), ema (ColorUNet's temporal layer, over "
                             "class probabilities or chroma), flow (chroma carried along the optical flow); "
                             f"default {DEFAULT_SMOOTH}")
    parser.add_argument("--merge", choices=MERGES, default=DEFAULT_MERGE,
                        help=f"keep the input's Y (yuv, DeOldify's) or its L (lab); default {DEFAULT_MERGE}")
    parser.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature (classification)")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="colorize the first N frames only")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")


def run_cli(args: argparse.Namespace) -> int:
    if args.render_factor is not None:
        render_size(args.render_factor)  # a clear error before the model loads
    if args.max_frames is not None and args.max_frames < 1:
        raise ColorkitError(f"--max-frames must be a positive integer, got {args.max_frames}")
    report = colorize_video(args.input, args.output, args.model, smooth=args.smooth, size=args.size,
                            render_factor=args.render_factor, merge=args.merge, temperature=args.temperature,
                            overwrite=args.overwrite, max_frames=args.max_frames, device=args.device)
    print(f"colorkit video: {report}", file=sys.stdout)
    return 0
