"""Data loading against training: is the (L, ab) pipeline fast enough to keep the trainer busy?

Run from the repository root:  .venv/bin/python benchmarks/data_bench.py  [--batches 20] [--steps 8]

Measured: the trainer's own data path, ``ColorCrops`` (random 64-160 px crops resized to
64 x 64, flips, Lab) behind ``SeededItems`` + ``StreamSampler`` in a ``DataLoader``
(``colorkit.train.stream.stream_loader``, batch 32, workers 0), on the training photos of the built
photo set (``colorkit data build``) or, when it is not built, on 64 generated images.
Photos are decoded and shrunk once per process (and cached on disk); that first pass is
timed separately, the steady state is what a long run sees.

Reference: one training step of the default ``reg_l2`` model (``configs/reg_l2.yaml``,
full profile: its U-Net, L2 loss, Adam) on a 32 x 64 x 64 batch, forward + backward +
optimiser step, through the trainer's ``supervised`` method (``colorkit.methods``).

Printed: images/s of each and their ratio; data loading is not the bottleneck when the
loader delivers more images per second than the step consumes (ratio > 1). Both are
measured with 1 torch thread and with torch's default (one per core): on a machine busy
with other work several OpenMP threads per process can be far slower than one. The disk
cache goes to a temporary folder, never into the real data cache. Timings depend on the
machine and on whatever else it is running (the load average is printed with them).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import arg_parser, thread_counts, use_threads

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def photos(n_generated: int = 64) -> tuple[list[Path], str, Path | None]:
    """(paths, description, temp folder to remove or None): the photo set's training photos, else generated ones."""
    import numpy as np
    from PIL import Image

    from colorkit import data
    from colorkit.errors import ColorkitError

    try:
        m = data.load_manifest()
        return m.paths("train"), f"{len(m.paths('train'))} training photos of the photo set ({m.root})", None
    except ColorkitError:
        pass
    folder = Path(tempfile.mkdtemp(prefix="colorkit-bench-"))
    rng = np.random.default_rng(0)
    for i in range(n_generated):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize((480, 360), Image.Resampling.BICUBIC).save(folder / f"g{i:03d}.jpg", quality=90)
    return sorted(folder.iterdir()), f"{n_generated} generated 480x360 JPEGs (the photo set is not built)", folder


def measure(ds, cfg: dict, n_batches: int, n_steps: int, threads: int) -> float:
    """Print loader and training-step throughput with ``threads`` torch threads; return their ratio."""
    import torch

    from colorkit import methods
    from colorkit.models import build_model
    from colorkit.train.stream import stream_loader

    use_threads(threads)
    batch = cfg["train"]["batch"]
    batches = iter(stream_loader(ds, cfg["seed"], batch))
    item = next(batches)  # warm-up
    times = []
    for _ in range(n_batches):
        t0 = time.perf_counter()
        item = next(batches)
        times.append(time.perf_counter() - t0)
    t_batch = statistics.median(times)
    data_ips = batch / t_batch
    print(f"  loader: {1000 * t_batch:.1f} ms per batch of {batch} (median of {n_batches}) = {data_ips:.0f} images/s")

    torch.manual_seed(0)
    net = build_model(cfg["model"]).train()
    opt = torch.optim.Adam(net.parameters(), lr=float(cfg["optim"]["lr"]),
                           betas=tuple(float(b) for b in cfg["optim"]["betas"]))
    phase = cfg["phases"][0]
    method = methods.get(phase["method"], cfg)
    ctx = methods.Context(cfg=cfg, device=torch.device("cpu"), phase=phase, optims={"net": opt},
                          raw_nets={"net": net})
    method.setup({"net": net}, ctx, ds)
    step_times = []
    for i in range(n_steps + 2):
        t0 = time.perf_counter()
        method.step(item, {"net": net}, ctx)
        if i >= 2:  # two warm-up steps
            step_times.append(time.perf_counter() - t0)
    t_step = statistics.median(step_times)
    train_ips = batch / t_step
    print(f"  training step (reg_l2 U-Net, {sum(p.numel() for p in net.parameters()) / 1e6:.2f}M params, forward + "
          f"backward + Adam): {1000 * t_step:.0f} ms per batch (median of {n_steps}) = {train_ips:.0f} images/s")
    ratio = data_ips / train_ips
    verdict = "not the bottleneck" if ratio > 1 else "THE BOTTLENECK"
    print(f"  data / training throughput = {ratio:.1f}: data loading is {verdict} "
          f"(it takes {100 * t_batch / (t_batch + t_step):.0f}% of a step's time with workers 0)")
    return ratio


def main() -> int:
    ap = arg_parser(__doc__)
    ap.add_argument("--batches", type=int, default=20, help="batches timed in the steady state (default 20)")
    ap.add_argument("--steps", type=int, default=8, help="training steps timed (default 8)")
    args = ap.parse_args()

    paths, what, generated = photos()  # reads the real manifest (if any) before the data dir is redirected
    scratch = Path(tempfile.mkdtemp(prefix="colorkit-bench-data-"))
    os.environ["COLORKIT_DATA"] = str(scratch)  # the disk cache of shrunk photos: a temp folder, removed at the end
    try:
        run(paths, what, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if generated is not None:
            shutil.rmtree(generated, ignore_errors=True)
    return 0


def run(paths: list[Path], what: str, args) -> None:
    import torch

    from colorkit import train as T
    from colorkit.data.crops import ColorCrops

    cfg = T.load_config("reg_l2", "full")
    cfg["data"]["workers"] = 0
    cfg["train"]["batch"] = 32
    d = cfg["data"]
    print(f"data: {what}")
    print(f"crops {d['min_crop']}-{d['max_crop']} px -> {d['size']}x{d['size']}, batch 32, workers 0; "
          f"torch {torch.__version__}")
    ds = ColorCrops(paths, size=d["size"], min_crop=d["min_crop"], max_crop=d["max_crop"], train=True, seed=cfg["seed"])
    t0 = time.perf_counter()
    for i in range(len(ds)):
        ds.image(i)
    t_decode = time.perf_counter() - t0
    print(f"first pass (decode + shrink to {ds.cache_side} px, once per process): {len(ds)} photos in "
          f"{t_decode:.1f} s ({len(ds) / t_decode:.0f} photos/s)")
    for n in thread_counts(args.threads):
        measure(ds, cfg, args.batches, args.steps, n)


if __name__ == "__main__":
    sys.exit(main())
