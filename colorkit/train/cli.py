"""``colorkit train``: the command line of the training loop.

``--nproc N`` re-launches the same command under torchrun with N processes
(gloo on CPU, NCCL on CUDA); ``python -m colorkit.train`` is the entry point
torchrun runs directly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable

from colorkit import checkpoint
from colorkit.train.config import TRAIN_PROFILES
from colorkit.train.loop import train


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="configs/NAME.yaml or NAME")
    parser.add_argument("--profile", choices=TRAIN_PROFILES, default=None,
                        help="budget to use (default: $COLORKIT_PROFILE if quick/full, else full)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    parser.add_argument("--data", default=None,
                        help="train on this folder (build its manifest first: colorkit data build --from DIR)")
    parser.add_argument("--out", default=None, help="run folder (default: DATA_DIR/runs/NAME/PROFILE)")
    parser.add_argument("--export-to", default=None,
                        help="export the finished model (fp16) as DIR/NAME.pt, e.g. data/checkpoints")
    parser.add_argument("--stop-at", type=int, default=None, help="stop after this many steps (resume later)")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    parser.add_argument("--nproc", type=int, default=1, help="train on N processes (torchrun, this machine)")


def launch_torchrun(args: argparse.Namespace, module: str) -> int:
    """Run ``python -m module train ...`` (or ``-m colorkit.train``) under torchrun with ``args.nproc`` processes."""
    argv, skip = [], False
    for a in sys.argv[1:]:  # the same command line, less --nproc N / --nproc=N
        if skip or a.startswith("--nproc"):
            skip = a == "--nproc" and not skip
            continue
        argv.append(a)
    if module == "colorkit.cli" and argv and argv[0] == "train":
        argv = argv[1:]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}",
           "-m", module, *(["train"] if module == "colorkit.cli" else []), *argv]
    print("launching: " + " ".join(cmd[2:]))
    return subprocess.call(cmd, env={**os.environ, "COLORKIT_NPROC_CHILD": "1"})


def run_cli(args: argparse.Namespace, score: Callable | None = None, module: str = "colorkit.train",
            strip: Callable | None = None) -> int:
    """``colorkit train``. ``score`` scores snapshots during training; ``strip(run, out)`` draws the kept
    snapshots of a run exported by the inflection rule (both from layer 5, handed in by :mod:`colorkit.cli`)."""
    if args.nproc > 1 and not os.environ.get("COLORKIT_NPROC_CHILD") and "WORLD_SIZE" not in os.environ:
        return launch_torchrun(args, module)
    profile = args.profile or (os.environ.get("COLORKIT_PROFILE") if os.environ.get("COLORKIT_PROFILE")
                               in TRAIN_PROFILES else "full")
    path = train(args.config, profile=profile, resume=args.resume, data=args.data, out=args.out,
                 export_to=args.export_to, stop_at=args.stop_at, device=args.device, score=score)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    ck = checkpoint.load(path)
    rows = checkpoint.log_rows(ck)
    last = rows[-1] if rows else {}
    print(f"{ck['name']}: {ck['step']} steps, {ck['wall']:.0f} s, loss {last.get('loss', float('nan')):.4g}; "
          f"checkpoint {path}")
    if ck.get("eval"):
        print("  eval: " + ", ".join(f"{k} {v:.4g}" for k, v in ck["eval"].items() if isinstance(v, (int, float))))
    if args.export_to:
        out = os.path.join(args.export_to, ck["name"] + ".pt")
        sel = (checkpoint.load(out).get("extra", {}) or {}).get("selection")
        how = ""
        if sel:
            how = f" (the snapshot of step {sel['chosen_step']}, chosen by its " + (
                "score)" if sel.get("kind", "score") == "score" else f"inflection rule: {sel['reason']})")
        print(f"  exported to {out}{how}")
        if sel and sel.get("kind") == "inflection" and strip is not None:
            drawn = strip(os.path.dirname(path), os.path.join(args.export_to, ck["name"] + ".strip.jpg"))
            print(f"  snapshot strip: {drawn}")
    return 0
