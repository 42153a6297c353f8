"""The training photo set: build it from the sources, or index a folder of your own photos.

    build_photo_set()                    # Debian packages + wheels -> data_dir()/photos (a second call reuses it)
    build_photo_set(from_dir="~/places") # index any folder tree of images; nothing is written into it

The build copies every candidate's bytes into ``photos/<source>/<name>`` and keeps it unless it is: named
as not a photo by its source, unreadable, greyscale, the same bytes as an earlier file, or an evaluation
sample (its sha256 is in ``data/samples/ATTRIBUTION``, or its thumbnail is a near-duplicate of a sample's),
smaller than the smallest crop, or under a non-commercial licence.
Cut-outs (RGBA stamps) are then composited onto other kept photos (``composite``). The manifest
(``manifest.py``) records every kept photo and every left-out file with the reason. Train / val is
decided per photo by a hash of its sha256 (``checks.split_of``); near-duplicates share one split, and a
composite takes its background's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from colorkit.data import composite, debian, samples, sources, wheels
from colorkit.data.candidates import Candidate
from colorkit.data.checks import (
    GREY_CHROMA,
    NEAR_DUPLICATE,
    SPLIT_SALT,
    VAL_FRACTION,
    chroma_p99,
    split_of,
    thumb_distances,
    thumb_from_hex,
    thumb_hex,
    thumbnail,
)
from colorkit.data.manifest import (
    MANIFEST_FORMAT,
    Manifest,
    cache_root,
    folder_manifest_path,
    read_manifest,
    write_manifest,
)
from colorkit.errors import ColorkitError
from colorkit.io import list_images, read_image
from colorkit.paths import SAMPLES_DIR

RECIPE_VERSION = 3  # bump when the rules in this code change (the source declarations are in the key)
MAX_GROUPING = 5000  # near-duplicate grouping (pairwise) is skipped above this many photos
MIN_SIDE = 64  # the smallest training crop: a photo with a shorter side is left out
NON_COMMERCIAL = re.compile(r"(^|[-_ ])NC([-_ ]|$)|non-?commercial", re.I)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the rules every photo goes through ----------------------------------------------------------------


def _analyse(image: np.ndarray) -> dict:
    return {
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "chroma_p99": round(chroma_p99(image), 2),
        "thumb": thumb_hex(thumbnail(image)),
    }


def _ex(r: dict) -> dict:
    """The fields of a row that an exclusion entry keeps."""
    keep = ("path", "original_path", "source", "package", "version", "sha256", "bytes", "mtime_ns")
    keep += ("width", "height", "chroma_p99", "thumb")
    return {k: r[k] for k in keep if k in r}


def _leave_out_samples(rows: list[dict], excluded: list[dict], refs) -> list[dict]:
    """Rows that are not evaluation samples, by sha256 or by look; the others go to ``excluded``."""
    sample_shas, sample_thumbs, sample_names = refs
    kept = []
    for r in rows:
        if r["sha256"] in sample_shas:
            excluded.append({**_ex(r), "reason": "evaluation sample: its sha256 is in data/samples/ATTRIBUTION"})
        else:
            kept.append(r)
    if not kept or not len(sample_thumbs):
        return kept
    d = thumb_distances(np.stack([thumb_from_hex(r["thumb"]) for r in kept]), sample_thumbs)
    nearest = d.argmin(1)
    out = []
    for r, j, dist in zip(kept, nearest, d[np.arange(len(kept)), nearest], strict=True):
        if dist < NEAR_DUPLICATE:
            reason = f"evaluation sample: near-duplicate of data/samples/{sample_names[j]} (distance {dist:.3f})"
            excluded.append({**_ex(r), "reason": reason})
        else:
            out.append(r)
    return out


def _finish(rows: list[dict], excluded: list[dict], refs) -> tuple[list[dict], list[dict]]:
    """Drop exact duplicates and evaluation samples; assign splits (near-duplicates follow the first of a group)."""
    unique, seen = [], {}
    for r in rows:
        if r["sha256"] in seen:
            excluded.append({**_ex(r), "reason": f"duplicate: same bytes as {seen[r['sha256']]}"})
        else:
            seen[r["sha256"]] = r["path"]
            unique.append(r)
    kept = _leave_out_samples(unique, excluded, refs)
    group = list(range(len(kept)))
    if 1 < len(kept) <= MAX_GROUPING:
        d = thumb_distances(*(2 * [np.stack([thumb_from_hex(r["thumb"]) for r in kept])]))
        for i, j in zip(*np.nonzero(np.triu(d < NEAR_DUPLICATE, 1)), strict=True):
            gi, gj = _find(group, i), _find(group, j)
            group[max(gi, gj)] = min(gi, gj)
    for i, r in enumerate(kept):
        r["split"] = split_of(kept[_find(group, i)]["sha256"])
    return kept, excluded


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


# --- building from the sources ----------------------------------------------------------------------------


def _build_key(samples_dir: Path, debs_dir: Path) -> str:
    debs = [getattr(debian.cached_deb(p, debs_dir), "name", None) for p in sources.deb_packages()]
    recipe = {
        "recipe": RECIPE_VERSION,
        "debs": debs if debs_dir.exists() else [],
        "wheels": wheels.installed_versions(),
        "sources": _sha256(repr((sources.DEB_SOURCES, wheels.PYPI_PHOTOS, MIN_SIDE)).encode()),
        "samples": samples.samples_key(samples_dir),
        "thresholds": [VAL_FRACTION, SPLIT_SALT, NEAR_DUPLICATE, GREY_CHROMA],
    }
    return _sha256(json.dumps(recipe, sort_keys=True).encode())


def _up_to_date(path: Path, key: str) -> Manifest | None:
    try:
        m = read_manifest(path) if path.exists() else None
    except ColorkitError:
        return None
    if m is None or m.meta.get("build_key") != key:
        return None
    for p in m.photos:
        f = m.root / p["path"]
        if not f.is_file() or f.stat().st_size != p["bytes"]:
            return None
    return m


def build_photo_set(
    from_dir: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    samples_dir: str | os.PathLike = SAMPLES_DIR,
    force: bool = False,
    progress: bool = True,
) -> Manifest:
    """Build (or confirm) the training photo set and return its manifest.

    Without ``from_dir``: the Debian + wheel sources into ``data_root/photos`` (default ``data_dir()``); a
    second call with nothing changed reuses everything and prints "photo set up to date". With
    ``from_dir``: index that folder tree (bad files skipped and listed in ``manifest.meta["bad_files"]``).
    """
    if from_dir is not None:
        return _build_from_folder(Path(from_dir), cache_root(data_root), Path(samples_dir), progress)
    root = cache_root(data_root)
    photos_dir, debs_dir = root / "photos", root / "debs"
    mpath = photos_dir / "manifest.json"
    if not force:
        existing = _up_to_date(mpath, _build_key(Path(samples_dir), debs_dir))
        if existing is not None:
            print(f"photo set up to date: {len(existing.photos)} photos in {photos_dir}")
            return existing
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    refs = samples.sample_refs(Path(samples_dir))
    staging = Path(tempfile.mkdtemp(prefix=".photos-staging-", dir=root))
    try:
        rows, excluded, cutouts = [], [], []
        for c in sources.all_candidates(debs_dir, progress):
            staged = _stage(c, staging, excluded)
            if staged is not None:
                (cutouts if c.cutout else rows).append(staged)
        kept, excluded = _finish(rows, excluded, refs)
        made, seen = [], {r["sha256"]: r["path"] for r in kept}
        for row, rgba in cutouts:
            if row["sha256"] in seen:
                excluded.append({**_ex(row), "reason": f"duplicate: same bytes as {seen[row['sha256']]}"})
            elif kept:
                seen[row["sha256"]] = row["path"]
                made.append(_composite(row, rgba, kept, staging))
        kept += _leave_out_samples(made, excluded, refs)
        _remove_all_but(staging, {r["path"] for r in kept})
        meta = {
            "format": MANIFEST_FORMAT,
            "kind": "debian",
            "build_key": _build_key(Path(samples_dir), debs_dir),
            "val_fraction": VAL_FRACTION,
            "split_salt": SPLIT_SALT,
            "near_duplicate": NEAR_DUPLICATE,
            "grey_chroma": GREY_CHROMA,
            "packages": sorted({f"{r['package']}={r['version']}" for r in kept + excluded if "version" in r}),
            "build_seconds": round(time.perf_counter() - t0, 1),
        }
        manifest = Manifest(path=mpath, root=photos_dir, photos=kept, excluded=excluded, meta=meta)
        write_manifest(manifest, staging / "manifest.json")
        old = root / f".photos-old-{os.getpid()}"
        if photos_dir.exists():
            os.replace(photos_dir, old)
        os.replace(staging, photos_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    c = manifest.counts()
    print(
        f"photo set built in {manifest.meta['build_seconds']:.0f} s: {len(kept)} photos "
        f"({c['split']['train']} train, {c['split']['val']} val), {len(excluded)} files left out, in {photos_dir}"
    )
    return manifest


def _remove_all_but(staging: Path, keep: set[str]) -> None:
    """Delete every staged file that is not a kept photo."""
    for p in [p for p in staging.rglob("*") if p.is_file()]:
        if p.relative_to(staging).as_posix() not in keep:
            p.unlink()


def _stage(c: Candidate, staging: Path, excluded: list[dict]):
    """Write one candidate into ``staging`` and return its row, or record why it is left out (and return None).

    A cut-out is not written: (its row, its RGBA pixels) are returned for :func:`_composite`.
    """
    base = {
        "path": c.name,
        "sha256": _sha256(c.data),
        "bytes": len(c.data),
        "source": c.source,
        "package": c.package,
        "version": c.version,
        "original_path": c.original_path,
        "licence": c.licence,
        "author": c.author,
        "licence_source": c.licence_source,
    }
    if c.url:
        base["url"] = c.url
    why = c.skip or (f"licence: {c.licence} is non-commercial only" if NON_COMMERCIAL.search(c.licence) else "")
    if why:
        excluded.append({**_ex(base), "reason": why})
        return None
    target = staging / c.name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if c.cutout:
            rgba = composite.read_cutout(c.data, c.original_path)
            problem = composite.cutout_problem(rgba)
            why = f"not a photo: {problem}" if problem else ""
            image = composite.on_grey(rgba)
        else:
            target.write_bytes(c.data)
            image = read_image(target)
    except ColorkitError as exc:
        excluded.append({**_ex(base), "reason": f"unreadable: {exc.problem}"})
        target.unlink(missing_ok=True)
        return None
    row = {**base, **_analyse(image)}
    if not why and row["chroma_p99"] < GREY_CHROMA:
        why = f"greyscale: 99th-percentile chroma {row['chroma_p99']}"
    if not why and min(image.shape[:2]) < MIN_SIDE:
        why = f"too small: {image.shape[1]}x{image.shape[0]}, under the {MIN_SIDE} px of the smallest crop"
    if why:
        excluded.append({**_ex(row), "reason": why})
        target.unlink(missing_ok=True)
        return None
    return (row, rgba) if c.cutout else row


def _composite(row: dict, rgba, kept: list[dict], staging: Path) -> dict:
    """A cut-out on the kept photo that its name picks; the composite's row takes the background's split."""
    bg = composite.pick_background(row["path"], kept)
    data = composite.jpeg(composite.composite(rgba, read_image(staging / bg["path"]), row["path"]))
    name = row["path"].rsplit(".", 1)[0] + ".jpg"
    (staging / name).parent.mkdir(parents=True, exist_ok=True)
    (staging / name).write_bytes(data)
    out = {**row, "path": name, "sha256": _sha256(data), "bytes": len(data), "background": bg["path"],
           "licence": f"{row['licence']} (cut-out); {bg['licence']} (background)",
           "author": f"{row['author']}; background: {bg.get('author') or 'unknown'}",
           "split": bg["split"]}
    return {**out, **_analyse(read_image(staging / name))}


# --- indexing a folder of the user's photos ----------------------------------------------------------------


def _build_from_folder(folder: Path, root: Path, samples_dir: Path, progress: bool) -> Manifest:
    """Index a folder tree of the user's images; never writes into it."""
    files = list_images(folder)  # raises for a missing folder
    if not files:
        raise ColorkitError("no image files found (looked for .jpg .jpeg .png .webp .bmp .tif .tiff .gif)", path=folder)
    mpath = folder_manifest_path(folder, root)
    if folder.resolve() in mpath.resolve().parents:
        raise ColorkitError("the data folder (COLORKIT_DATA) must not be inside the photo folder", path=folder)
    old = {}
    if mpath.exists():
        try:
            prev = read_manifest(mpath)
            old = {(r["path"], r["bytes"], r.get("mtime_ns")): r for r in prev.photos + prev.excluded if "thumb" in r}
        except ColorkitError:
            pass
    refs = samples.sample_refs(samples_dir)
    rows, excluded, bad = [], [], []
    for f in tqdm(files, desc="images", unit="img", disable=not progress):
        rel = f.relative_to(folder).as_posix()
        st = f.stat()
        cached = old.get((rel, st.st_size, st.st_mtime_ns))
        if cached is not None:
            row = {k: v for k, v in cached.items() if k not in ("split", "reason")}
        else:
            try:
                image = read_image(f)
                sha = _sha256(f.read_bytes())
            except ColorkitError as exc:
                bad.append((str(f), exc.problem))
                continue
            row = {"path": rel, "sha256": sha, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "source": "folder"}
            row.update(_analyse(image))
        if row["chroma_p99"] < GREY_CHROMA:
            excluded.append({**row, "reason": f"greyscale: 99th-percentile chroma {row['chroma_p99']}"})
        else:
            rows.append(row)
    kept, excluded = _finish(rows, excluded, refs)
    meta = {
        "format": MANIFEST_FORMAT,
        "kind": "folder",
        "val_fraction": VAL_FRACTION,
        "split_salt": SPLIT_SALT,
        "near_duplicate": NEAR_DUPLICATE,
        "grey_chroma": GREY_CHROMA,
        "near_duplicate_grouping": len(kept) <= MAX_GROUPING,
        "bad_files": [{"path": p, "problem": why} for p, why in bad],
    }
    manifest = Manifest(path=mpath, root=folder.resolve(), photos=kept, excluded=excluded, meta=meta)
    write_manifest(manifest)
    c = manifest.counts()
    print(
        f"indexed {folder}: {len(kept)} photos ({c['split']['train']} train, {c['split']['val']} val), "
        f"{len(excluded)} left out, {len(bad)} unreadable; manifest {mpath}"
    )
    for p, why in bad:
        print(f"  skipped {p}: {why}", file=sys.stderr)
    return manifest
