"""The photos colorkit trains and evaluates on, all rebuilt offline.

Three things live here:

* **The training photo set** (``colorkit data build``; not committed). About 300
  colour photos taken from Debian packages and from wheels already installed:

  ==============  ==========================  ============================================
  source          from                        what
  ==============  ==========================  ============================================
  gcompris        ``gcompris-qt-data``        photos inside 5 Qt ``.rcc`` files (colorkit.rcc)
  opencv          ``opencv-doc``              ``examples/data``, ``text/`` street scenes, ``hfs/``
  mate            ``mate-backgrounds``        ``nature/`` wallpapers
  lomiri          ``lomiri-wallpapers-16.04`` wallpapers (photos)
  python-wheels   scikit-image, matplotlib,   ``skimage.data`` photos, ``grace_hopper.jpg``,
                  scikit-learn (if installed) ``load_sample_images`` photos
  ==============  ==========================  ============================================

  ``apt-get download`` fetches each ``.deb`` into ``data_dir()/debs`` (kept, so a
  second build downloads nothing), ``dpkg-deb --fsys-tarfile`` streams it into
  Python's ``tarfile``, and the photos are copied byte for byte into
  ``data_dir()/photos/<source>/<name>``. Not kept: drawings and diagrams (named in
  ``NOT_PHOTOS``), greyscale photos (found automatically: nothing to learn colour
  from), exact duplicates, and every evaluation sample, matched by its source
  sha256 *and* by a perceptual near-duplicate test, so the same picture at another
  size or from another package is left out too. ``photos/manifest.json`` lists
  every kept photo (sha256, package and version, path in the package, licence and
  author, size, split, a 16x16 grey thumbnail) and every left-out file with the
  reason. Train / val (90 / 10) is decided per photo by a hash of its sha256, so
  adding photos never moves the others; near-duplicates share one split.

  ``colorkit data build --from DIR`` does the same for any folder tree of images
  (ImageNet, Places, COCO ...): the manifest goes to ``data_dir()/folders/``,
  nothing is written into DIR.

* **The evaluation samples** (``data/samples``, committed): ``SAMPLES`` names each
  one by source photo and category; ``colorkit data samples`` re-derives the files
  (long side <= 512 px, Lanczos, JPEG quality 90) and ``data/samples/ATTRIBUTION``.

* **The ab statistics** (``data/stats/ab_hist.npz``, committed): a fine histogram
  of the ab channels over every training photo (``colorkit data stats``).

Python API: :func:`build_photo_set`, :func:`load_manifest`, :func:`photo_paths`,
:func:`load_samples`, :func:`sample_paths`, :func:`load_ab_hist`.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.metadata
import importlib.util
import io as _io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from colorkit.color import image_to_tensor, rgb_to_lab
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write, list_images, read_image, resize_long_side
from colorkit.paths import REPO_ROOT, SAMPLES_DIR, data_dir
from colorkit.rcc import RccFile

MANIFEST_FORMAT = 1
RECIPE_VERSION = 1  # bump when the selection rules change: a warm cache is then rebuilt
VAL_FRACTION = 0.10
SPLIT_SALT = "colorkit-split-v1"
THUMB_SIZE = 16  # grey thumbnail side for the near-duplicate test
NEAR_DUPLICATE = 0.15  # thumbnail distance below which two images are the same picture
GREY_CHROMA = 8.0  # a photo whose 99th-percentile Lab chroma is below this counts as greyscale
MAX_GROUPING = 5000  # near-duplicate grouping (pairwise) is skipped above this many photos
STATS_PATH = REPO_ROOT / "data" / "stats" / "ab_hist.npz"
ATTRIBUTION = "ATTRIBUTION"
SAMPLE_MAX_SIDE = 512
SAMPLE_JPEG_QUALITY = 90
# licences under which a sample may be committed and redistributed
REDISTRIBUTABLE = re.compile(r"^(public-domain|CC0-1\.0|CC-BY(-SA)?-[0-9.]+|Apache-2\.0 AND BSD-3-Clause)$")

NOT_DEBIAN = (
    "building the photo set needs Debian's `apt-get` and `dpkg-deb`, and {missing} is not installed "
    "(this does not look like a Debian or Ubuntu system). Train on a folder of your own photos instead: "
    "`colorkit data build --from DIR` indexes any folder tree of images (ImageNet, Places, COCO layouts ...), "
    "then `colorkit train CONFIG --data DIR`."
)


# --- small helpers ---------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _root(data_root: str | os.PathLike | None) -> Path:
    return Path(data_root).expanduser() if data_root is not None else data_dir()


def thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> the 16x16 grey uint8 thumbnail used for near-duplicate tests (aspect ignored)."""
    grey = Image.fromarray(image).convert("L")
    return np.asarray(grey.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX))


def _thumb_hex(t: np.ndarray) -> str:
    return t.astype(np.uint8).tobytes().hex()


def _thumb_from_hex(s: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(s), dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE)


def _normalise_thumbs(thumbs: np.ndarray) -> np.ndarray:
    """(N, 16, 16) uint8 -> (N, 256) float32, each zero-mean unit-std (flat ones are only centred)."""
    t = thumbs.reshape(len(thumbs), -1).astype(np.float32)
    t = t - t.mean(1, keepdims=True)
    std = t.std(1, keepdims=True)
    return t / np.where(std < 2.0, 16.0, std)  # flat images: compare on a fixed scale instead


def thumb_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise distances (len(a), len(b)) between thumbnails (N, 16, 16): mean |difference| after normalising.

    The same picture at another size or quality gives < 0.1; different photos > 0.3.
    """
    na, nb = _normalise_thumbs(a), _normalise_thumbs(b)
    out = np.empty((len(na), len(nb)), dtype=np.float32)
    for i in range(0, len(na), 256):  # (256, len(b), 256) floats at most
        out[i : i + 256] = np.abs(na[i : i + 256, None, :] - nb[None]).mean(-1)
    return out


def chroma_p99(image: np.ndarray) -> float:
    """99th percentile of the Lab chroma sqrt(a^2 + b^2) over a <= 128 px copy of ``image`` (H, W, 3) uint8."""
    im = Image.fromarray(image)
    im.thumbnail((128, 128), Image.Resampling.BOX)
    lab = rgb_to_lab(image_to_tensor(np.asarray(im), dtype=torch.float64))
    chroma = torch.hypot(lab[0, 1], lab[0, 2])
    return float(torch.quantile(chroma.flatten(), 0.99))


def is_grayscale(image: np.ndarray) -> bool:
    """True when a photo has (almost) no colour: nothing to learn colorization from."""
    return chroma_p99(image) < GREY_CHROMA


def split_of(sha256: str, val_fraction: float = VAL_FRACTION) -> str:
    """'train' or 'val' from a salted hash of a photo's sha256: stable when photos are added."""
    h = int(hashlib.sha256(f"{SPLIT_SALT}:{sha256}".encode()).hexdigest()[:8], 16)
    return "val" if h / 2**32 < val_fraction else "train"


def _normalise_licence(s: str) -> str:
    s = " ".join(s.split())
    if s.lower().replace("-", " ") == "public domain":
        return "public-domain"
    return re.sub(r"^(CC[- ]BY(?:[- ]SA)?)[- ](\d)", lambda m: m.group(1).replace(" ", "-") + "-" + m.group(2), s)


# --- licence files ---------------------------------------------------------------------------------


def parse_dep5(text: str) -> list[dict[str, str]]:
    """Paragraphs of a machine-readable debian/copyright (DEP-5) file: field name -> value (continuations joined)."""
    paras, cur, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
        elif line[0] in " \t" and key:
            cur[key] += "\n" + ("" if line.strip() == "." else line.strip())
        elif ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            key = key.strip()
            cur[key] = value.strip()
    if cur:
        paras.append(cur)
    return paras


def dep5_lookup(paras: list[dict[str, str]], path: str, ignore_suffix: bool = False) -> dict[str, str] | None:
    """The last ``Files:`` paragraph matching ``path`` (DEP-5: ``*`` also matches ``/``; the last match wins).

    ``ignore_suffix`` also matches ``a/b.webp`` against ``a/b.jpg`` (a package that converted its images).
    Returns {"licence", "author", "pattern"} or None.
    """
    stem = os.path.splitext(path)[0]
    found = None
    for p in paras:
        if "Files" not in p:
            continue
        for pattern in p["Files"].split():
            hit = fnmatch.fnmatchcase(path, pattern)
            if not hit and ignore_suffix and os.path.splitext(pattern)[1]:
                hit = fnmatch.fnmatchcase(stem, os.path.splitext(pattern)[0])
            if hit:
                found = {
                    "licence": _normalise_licence(p.get("License", "").split("\n")[0]),
                    "author": "; ".join(x.strip() for x in p.get("Copyright", "").split("\n") if x.strip()),
                    "pattern": pattern,
                }
                break
    return found


def parse_gcompris_readme(text: str) -> list[dict[str, object]]:
    """GCompris' per-folder README: blocks of Copyright / Source / License / Files (a list) fields."""
    blocks, cur, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur, key = {}, None
            continue
        m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
        if m and m.group(1) in ("Copyright", "Source", "License", "Files", "Comments", "Comment"):
            key = m.group(1)
            cur[key] = m.group(2).strip()
        elif key:
            cur[key] = (cur[key] + "\n" + line.strip()).strip()
    out = []
    for b in blocks:
        files = [f for f in str(b.get("Files", "")).split() if f != "to"]
        if files and "License" in b:
            out.append(
                {
                    "files": files,
                    "licence": _normalise_licence(str(b["License"])),
                    "author": " ".join(str(b.get("Copyright", "")).split()),
                    "url": str(b.get("Source", "")).strip(),
                }
            )
    return out


# --- Debian packages -------------------------------------------------------------------------------


def _need_debian_tools() -> None:
    missing = [t for t in ("apt-get", "dpkg-deb") if shutil.which(t) is None]
    if missing:
        raise ColorkitError(NOT_DEBIAN.format(missing=" and ".join(f"`{m}`" for m in missing)))


def _cached_deb(package: str, debs_dir: Path) -> Path | None:
    found = sorted(debs_dir.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def fetch_deb(package: str, debs_dir: Path) -> Path:
    """The .deb of ``package`` in ``debs_dir``: the cached one, else ``apt-get download`` (no install, no root).

    Runs ``apt-get update`` once (root only) when apt has no package lists yet.
    """
    cached = _cached_deb(package, debs_dir)
    if cached is not None:
        return cached
    _need_debian_tools()
    debs_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".download-{package}-", dir=debs_dir))
    try:
        cmd = ["apt-get", "download", package]
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        no_lists = "Unable to locate package" in r.stderr or "has no installation candidate" in r.stderr
        if r.returncode != 0 and no_lists:
            if hasattr(os, "geteuid") and os.geteuid() != 0:
                raise ColorkitError(
                    f"apt does not know the package {package} (no package lists yet?): "
                    "run `sudo apt-get update` once, then build again"
                )
            u = subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            if u.returncode != 0:
                raise ColorkitError(f"`apt-get update` failed: {u.stderr.strip()[-500:]}")
            r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            raise ColorkitError(
                f"`apt-get download {package}` failed (are Debian's mirrors reachable?): {r.stderr.strip()[-500:]}"
            )
        debs = list(tmp.glob("*.deb"))
        if len(debs) != 1:
            raise ColorkitError(f"`apt-get download {package}` left {len(debs)} .deb files, expected one", path=tmp)
        final = debs_dir / debs[0].name
        os.replace(debs[0], final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def deb_version(deb: Path) -> str:
    r = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ColorkitError(f"not a readable .deb: {r.stderr.strip()}", path=deb)
    return r.stdout.strip()


def _in_pattern(name: str, pattern: str) -> bool:
    """fnmatch where ``*`` does not cross ``/`` (like a shell glob)."""
    return name.count("/") == pattern.count("/") and fnmatch.fnmatchcase(name, pattern)


def deb_members(deb: Path, patterns: list[str]) -> dict[str, bytes]:
    """Regular files of a .deb whose path (no leading ``./``) matches a glob: ``dpkg-deb --fsys-tarfile`` | tarfile."""
    _need_debian_tools()
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile() and any(_in_pattern(name, p) for p in patterns):
                    out[name] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        proc.kill()
        raise ColorkitError(f"cannot read the .deb's file tree: {exc}", path=deb) from exc
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise ColorkitError(f"dpkg-deb --fsys-tarfile failed: {err.strip()[-500:]}", path=deb)
    return out


# --- sources ----------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One file a source offers, before it is checked."""

    name: str  # path under photos/, e.g. "gcompris/erase/alpaca.webp"
    source: str
    package: str
    version: str
    original_path: str  # inside the package (an .rcc member is "x.rcc:member")
    data: bytes
    licence: str
    author: str
    licence_source: str  # where the licence was read
    url: str = ""
    skip: str = ""  # known not to be a usable photo, and why


@dataclass(frozen=True)
class DebSource:
    """Photos stored as plain files in a Debian package."""

    name: str
    package: str
    prefix: str  # folder inside the package the patterns are relative to
    patterns: tuple[str, ...]
    copyright: str
    upstream_prefix: str  # prefix of the same file in the upstream tree that debian/copyright describes
    not_photos: tuple[tuple[str, str], ...] = ()  # (glob, reason)


GCOMPRIS_RCC = ("categorization", "explore_monuments", "erase", "explore_world_animals", "explore_farm_animals")
GCOMPRIS_PACKAGE = "gcompris-qt-data"
GCOMPRIS_COPYRIGHT = "usr/share/doc/gcompris-qt-data/copyright"
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")

DEB_SOURCES = (
    DebSource(
        name="opencv",
        package="opencv-doc",
        prefix="usr/share/doc/opencv-doc/examples/",
        patterns=("data/*.jpg", "data/*.png", "text/scenetext0?.jpg", "hfs/data/*.jpg"),
        copyright="usr/share/doc/opencv-doc/copyright",
        upstream_prefix="samples/",
        not_photos=(
            ("data/starry_night.jpg", "a painting"),
            ("data/Blender_Suzanne*", "a 3-D render"),
            ("data/HappyFish.jpg", "a drawing"),
            ("data/*Logo*", "a logo"),
            ("data/opencv-logo*", "a logo"),
            ("data/ml.png", "a drawing"),
            ("data/aloeGT.png", "a disparity map"),
            ("data/cards.png", "a synthetic image"),
            ("data/smarties.png", "a synthetic image"),
            ("data/chessboard.png", "a test pattern"),
            ("data/detect_blob.png", "a test pattern"),
            ("data/digits.png", "a test pattern"),
            ("data/ellipses.jpg", "a test pattern"),
            ("data/gradient.png", "a test pattern"),
            ("data/mask.png", "a test pattern"),
            ("data/notes.png", "a test pattern"),
            ("data/pic?.png", "a test pattern"),
            ("data/templ.png", "a test pattern"),
            ("data/tmpl.png", "a test pattern"),
            ("data/imageText?.png", "a scan of text"),
            ("data/ela_modified.jpg", "a retouched copy of ela_original.jpg"),
        ),
    ),
    DebSource(
        name="mate",
        package="mate-backgrounds",
        prefix="usr/share/backgrounds/mate/",
        patterns=("nature/*.jpg",),
        copyright="usr/share/doc/mate-backgrounds/copyright",
        upstream_prefix="",
    ),
    DebSource(
        name="lomiri",
        package="lomiri-wallpapers-16.04",
        prefix="usr/share/backgrounds/",
        patterns=("*.jpg",),
        copyright="usr/share/doc/lomiri-wallpapers-16.04/copyright",
        upstream_prefix="16.04/",
        not_photos=(
            ("analogpattern_*", "an abstract pattern"),
            ("umang_*", "an abstract digital gradient"),
        ),
    ),
)

# (module, file inside the module, licence, author, url)
WHEEL_PHOTOS = (
    ("skimage", "data/astronaut.png", "public-domain", "NASA (Eileen Collins)", "https://flic.kr/p/r9qvLn"),
    ("skimage", "data/chelsea.png", "CC0-1.0", "Stefan van der Walt", ""),
    ("skimage", "data/coffee.png", "CC0-1.0", "Rachel Michetti (Pikolo Espresso Bar)", ""),
    ("skimage", "data/rocket.jpg", "public-domain", "SpaceX", "https://www.flickr.com/photos/spacexphotos/16511594820"),
    (
        "skimage",
        "data/motorcycle_left.png",
        "not stated (Middlebury 2014 stereo data set)",
        "D. Scharstein et al., Middlebury College",
        "https://vision.middlebury.edu/stereo/data/scenes2014/",
    ),
    ("sklearn", "datasets/images/china.jpg", "CC-BY-2.0", "see sklearn/datasets/images/README.txt", ""),
    ("sklearn", "datasets/images/flower.jpg", "CC-BY-2.0", "see sklearn/datasets/images/README.txt", ""),
    (
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        "public-domain",
        "U.S. Navy (Grace Hopper)",
        "https://commons.wikimedia.org/wiki/File:Commodore_Grace_M._Hopper,_USN_(covered).jpg",
    ),
)
WHEEL_DISTRIBUTIONS = {"skimage": "scikit-image", "sklearn": "scikit-learn", "matplotlib": "matplotlib"}
SOURCE_NAMES = ("gcompris",) + tuple(s.name for s in DEB_SOURCES) + ("python-wheels",)


def _gcompris_short(member: str) -> str:
    """rcc member path -> photo name: 'gcompris/src/activities/erase/resource/alpaca.webp' -> 'erase/alpaca.webp'."""
    parts = member.removeprefix("gcompris/src/activities/").split("/")
    return "/".join(p for p in parts if p not in ("resource", "images"))


def gcompris_candidates(debs_dir: Path) -> Iterator[Candidate]:
    """Every image inside the five photo .rcc files of gcompris-qt-data, with its per-file licence.

    Licences come from the README beside the images inside the .rcc (upstream's record for the exact files
    shipped); else from debian/copyright (which names some images by their older .jpg/.png names); else the
    package default (``Files: *``), said so in ``licence_source``.
    """
    deb = fetch_deb(GCOMPRIS_PACKAGE, debs_dir)
    version = deb_version(deb)
    rcc_paths = [f"usr/share/gcompris-qt/rcc/{n}.rcc" for n in GCOMPRIS_RCC]
    members = deb_members(deb, rcc_paths + [GCOMPRIS_COPYRIGHT])
    missing = [p for p in rcc_paths + [GCOMPRIS_COPYRIGHT] if p not in members]
    if missing:
        raise ColorkitError(f"{GCOMPRIS_PACKAGE} {version} lacks {', '.join(missing)}", path=deb)
    dep5 = parse_dep5(members[GCOMPRIS_COPYRIGHT].decode("utf-8", errors="replace"))
    for rcc_path in rcc_paths:
        rcc = RccFile(members[rcc_path], name=rcc_path)
        entries = rcc.files()
        readmes: dict[str, list] = {}
        for e in entries:
            if e.path.endswith("/README"):
                readmes[e.path.rsplit("/", 1)[0]] = parse_gcompris_readme(rcc.read(e).decode("utf-8", "replace"))
        for e in entries:
            if not e.path.lower().endswith(IMAGE_EXT):
                continue
            lic = _gcompris_licence(e.path, readmes, dep5)
            yield Candidate(
                name=f"gcompris/{_gcompris_short(e.path)}",
                source="gcompris",
                package=GCOMPRIS_PACKAGE,
                version=version,
                original_path=f"{rcc_path}:{e.path}",
                data=rcc.read(e),
                **lic,
            )


def _gcompris_licence(member: str, readmes: dict[str, list], dep5: list[dict[str, str]]) -> dict[str, str]:
    folder = member.rsplit("/", 1)[0]
    while folder:  # the nearest README above the file that names it
        for block in readmes.get(folder, []):
            rel = member[len(folder) + 1 :]
            if any(fnmatch.fnmatchcase(rel, f) for f in block["files"]):
                return {
                    "licence": block["licence"],
                    "author": block["author"],
                    "url": block["url"],
                    "licence_source": f"{folder}/README (inside the .rcc)",
                }
        folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
    upstream = member.removeprefix("gcompris/")
    hit = dep5_lookup(dep5, upstream, ignore_suffix=True)
    if hit and hit["pattern"] != "*":
        return {"licence": hit["licence"], "author": hit["author"], "url": "", "licence_source": "debian/copyright"}
    default = hit or {"licence": "unknown", "author": ""}
    return {
        "licence": default["licence"],
        "author": default["author"],
        "url": "",
        "licence_source": "package default (debian/copyright Files: *): the file is not listed individually",
    }


def deb_source_candidates(src: DebSource, debs_dir: Path) -> Iterator[Candidate]:
    """The files of a plain Debian source, with licence and author from its debian/copyright."""
    deb = fetch_deb(src.package, debs_dir)
    version = deb_version(deb)
    members = deb_members(deb, [src.prefix + p for p in src.patterns] + [src.copyright])
    if src.copyright not in members:
        raise ColorkitError(f"{src.package} {version} lacks {src.copyright}", path=deb)
    dep5 = parse_dep5(members.pop(src.copyright).decode("utf-8", errors="replace"))
    for path in sorted(members):
        rel = path[len(src.prefix) :]
        hit = dep5_lookup(dep5, src.upstream_prefix + rel)
        where = "debian/copyright" if hit and hit["pattern"] != "*" else "package default (debian/copyright Files: *)"
        skip = next((reason for pattern, reason in src.not_photos if _in_pattern(rel, pattern)), "")
        yield Candidate(
            name=f"{src.name}/{rel}",
            source=src.name,
            package=src.package,
            version=version,
            original_path=path,
            data=members[path],
            licence=hit["licence"] if hit else "unknown",
            author=hit["author"] if hit else "",
            licence_source=where if hit else "not in debian/copyright",
            skip=f"not a photo: {skip}" if skip else "",
        )


def wheel_candidates() -> Iterator[Candidate]:
    """Photos shipped inside installed wheels (no download); a package that is not installed is skipped."""
    for module, rel, licence, author, url in WHEEL_PHOTOS:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if not path.is_file():
            continue
        dist = WHEEL_DISTRIBUTIONS[module]
        yield Candidate(
            name=f"python-wheels/{Path(rel).name}",
            source="python-wheels",
            package=dist,
            version=importlib.metadata.version(dist),
            original_path=f"{module}/{rel}",
            data=path.read_bytes(),
            licence=licence,
            author=author,
            url=url,
            licence_source=f"{dist} documentation",
        )


def all_candidates(debs_dir: Path, progress: bool = True) -> Iterator[Candidate]:
    """Every candidate file of every source, source by source."""
    steps = [("gcompris", lambda: gcompris_candidates(debs_dir))]
    steps += [(s.name, (lambda s=s: deb_source_candidates(s, debs_dir))) for s in DEB_SOURCES]
    steps += [("python-wheels", wheel_candidates)]
    bar = tqdm(steps, desc="sources", unit="src", disable=not progress)
    for name, make in bar:
        bar.set_postfix_str(name)
        yield from make()


# --- the manifest ------------------------------------------------------------------------------------


@dataclass
class Manifest:
    """A built photo set: ``photos`` (kept, with split) and ``excluded`` (with reason); ``root`` holds the files."""

    path: Path
    root: Path
    photos: list[dict] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def paths(self, split: str | None = "train") -> list[Path]:
        """Absolute paths of the photos in ``split`` ('train', 'val' or None for all), sorted."""
        if split not in ("train", "val", None):
            raise ColorkitError(f"unknown split {split!r}: use 'train', 'val' or None")
        return sorted(self.root / p["path"] for p in self.photos if split is None or p["split"] == split)

    @property
    def hash(self) -> str:
        """sha256 of the kept photos' (path, sha256, split): names this exact training data in checkpoints."""
        rows = sorted((p["path"], p["sha256"], p["split"]) for p in self.photos)
        return _sha256(json.dumps(rows).encode())

    def thumbnails(self, split: str | None = None) -> np.ndarray:
        """(N, 16, 16) uint8 grey thumbnails of the kept photos, in manifest order."""
        rows = [p for p in self.photos if split is None or p["split"] == split]
        return np.stack([_thumb_from_hex(p["thumb"]) for p in rows]) if rows else np.zeros((0, 16, 16), np.uint8)

    def counts(self) -> dict[str, Counter]:
        """Counters by source, split, licence, and reason for exclusion."""
        return {
            "source": Counter(p["source"] for p in self.photos),
            "split": Counter(p["split"] for p in self.photos),
            "licence": Counter(p.get("licence", "not recorded") for p in self.photos),
            "excluded": Counter(e["reason"].split(":")[0] for e in self.excluded),
        }

    def to_json(self) -> dict:
        return {**self.meta, "hash": self.hash, "root": str(self.root), "photos": self.photos, "excluded": self.excluded}


def _read_manifest(path: Path) -> Manifest:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ColorkitError(f"unreadable manifest ({exc}); rebuild it with `colorkit data build`", path=path) from exc
    if raw.get("format") != MANIFEST_FORMAT:
        raise ColorkitError(f"manifest format {raw.get('format')} is not {MANIFEST_FORMAT}: rebuild it", path=path)
    meta = {k: v for k, v in raw.items() if k not in ("photos", "excluded", "root", "hash")}
    return Manifest(path=path, root=Path(raw["root"]), photos=raw["photos"], excluded=raw["excluded"], meta=meta)


def _write_manifest(m: Manifest) -> None:
    atomic_write(m.path, (json.dumps(m.to_json(), indent=1, sort_keys=False) + "\n").encode())


def _folder_manifest_path(folder: Path, root: Path) -> Path:
    folder = folder.resolve()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.name)[:40] or "root"
    return root / "folders" / f"{slug}-{_sha256(str(folder).encode())[:10]}" / "manifest.json"


def manifest_path(from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Path:
    """Where the manifest of the built-in set (or of ``from_dir``) lives."""
    root = _root(data_root)
    return root / "photos" / "manifest.json" if from_dir is None else _folder_manifest_path(Path(from_dir), root)


def load_manifest(from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Manifest:
    """The manifest of the built photo set (or of ``from_dir``); ColorkitError with the build command if missing."""
    path = manifest_path(from_dir, data_root)
    if not path.exists():
        cmd = "colorkit data build" + (f" --from {from_dir}" if from_dir is not None else "")
        if data_root is not None:
            cmd += f" --data-dir {data_root}"
        raise ColorkitError(f"the photo set is not built yet: run `{cmd}` (or `make data`)", path=path)
    return _read_manifest(path)


def photo_paths(
    split: str | None = "train", from_dir: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None
) -> list[Path]:
    """Sorted paths of the training ('train') or validation ('val') photos of the built set (or of ``from_dir``)."""
    return load_manifest(from_dir, data_root).paths(split)


# --- building ----------------------------------------------------------------------------------------


def _analyse(image: np.ndarray) -> dict:
    return {
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "chroma_p99": round(chroma_p99(image), 2),
        "thumb": _thumb_hex(thumbnail(image)),
    }


def _sample_refs(samples_dir: Path) -> tuple[set[str], np.ndarray, list[str]]:
    """(source sha256s, thumbnails (N, 16, 16), file names) of the evaluation samples, for the exclusion tests."""
    entries = read_attribution(samples_dir) if (samples_dir / ATTRIBUTION).exists() else []
    files = sample_paths(samples_dir) if samples_dir.exists() else []
    thumbs = [thumbnail(read_image(p)) for p in files]
    stack = np.stack(thumbs) if thumbs else np.zeros((0, THUMB_SIZE, THUMB_SIZE), np.uint8)
    return {e["Source-SHA256"] for e in entries if e.get("Source-SHA256")}, stack, [p.name for p in files]


def _samples_key(samples_dir: Path) -> str:
    h = hashlib.sha256()
    for p in ([samples_dir / ATTRIBUTION] if (samples_dir / ATTRIBUTION).exists() else []) + sample_paths(samples_dir):
        h.update(p.name.encode() + b"\0" + _sha256_file(p).encode())
    return h.hexdigest()


def _finish(rows: list[dict], excluded: list[dict], sample_refs, progress: bool) -> tuple[list[dict], list[dict]]:
    """Drop exact duplicates and evaluation samples (by sha256 and by look); assign splits (near-duplicates together)."""
    sample_shas, sample_thumbs, sample_names = sample_refs
    kept, seen = [], {}
    for r in rows:
        if r["sha256"] in seen:
            excluded.append({**_ex(r), "reason": f"duplicate: same bytes as {seen[r['sha256']]}"})
        elif r["sha256"] in sample_shas:
            excluded.append({**_ex(r), "reason": "evaluation sample: its sha256 is in data/samples/ATTRIBUTION"})
        else:
            seen[r["sha256"]] = r["path"]
            kept.append(r)
    if kept and len(sample_thumbs):
        d = thumb_distances(np.stack([_thumb_from_hex(r["thumb"]) for r in kept]), sample_thumbs)
        nearest = d.argmin(1)
        rows, kept = kept, []
        for r, j, dist in zip(rows, nearest, d[np.arange(len(rows)), nearest]):
            if dist < NEAR_DUPLICATE:
                reason = f"evaluation sample: near-duplicate of data/samples/{sample_names[j]} (distance {dist:.3f})"
                excluded.append({**_ex(r), "reason": reason})
            else:
                kept.append(r)
    # split: each photo by its own sha256, except that near-duplicates follow the first of their group
    group = list(range(len(kept)))
    if 1 < len(kept) <= MAX_GROUPING:
        d = thumb_distances(*(2 * [np.stack([_thumb_from_hex(r["thumb"]) for r in kept])]))
        for i, j in zip(*np.nonzero(np.triu(d < NEAR_DUPLICATE, 1))):
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


def _ex(r: dict) -> dict:
    keep = ("path", "original_path", "source", "package", "version", "sha256", "bytes", "mtime_ns")
    keep += ("width", "height", "chroma_p99", "thumb")
    return {k: r[k] for k in keep if k in r}


def _build_key(samples_dir: Path, debs_dir: Path) -> str:
    packages = (GCOMPRIS_PACKAGE,) + tuple(s.package for s in DEB_SOURCES)
    debs = [getattr(_cached_deb(p, debs_dir), "name", None) for p in packages] if debs_dir.exists() else []
    wheels = {}
    for dist in WHEEL_DISTRIBUTIONS.values():
        try:
            wheels[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            wheels[dist] = None
    recipe = {
        "recipe": RECIPE_VERSION,
        "debs": debs,
        "wheels": wheels,
        "samples": _samples_key(samples_dir),
        "thresholds": [VAL_FRACTION, SPLIT_SALT, NEAR_DUPLICATE, GREY_CHROMA],
    }
    return _sha256(json.dumps(recipe, sort_keys=True).encode())


def _up_to_date(path: Path, key: str) -> Manifest | None:
    if not path.exists():
        return None
    try:
        m = _read_manifest(path)
    except ColorkitError:
        return None
    if m.meta.get("build_key") != key:
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
        return _build_from_folder(Path(from_dir), _root(data_root), Path(samples_dir), progress)
    root = _root(data_root)
    photos_dir, debs_dir = root / "photos", root / "debs"
    mpath = photos_dir / "manifest.json"
    if not force:
        existing = _up_to_date(mpath, _build_key(Path(samples_dir), debs_dir))
        if existing is not None:
            print(f"photo set up to date: {len(existing.photos)} photos in {photos_dir}")
            return existing
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    refs = _sample_refs(Path(samples_dir))
    staging = Path(tempfile.mkdtemp(prefix=".photos-staging-", dir=root))
    try:
        rows, excluded = [], []
        for c in all_candidates(debs_dir, progress):
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
            if c.skip:
                excluded.append({**_ex(base), "reason": c.skip})
                continue
            target = staging / c.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(c.data)
            try:
                image = read_image(target)
            except ColorkitError as exc:
                excluded.append({**_ex(base), "reason": f"unreadable: {exc.problem}"})
                target.unlink()
                continue
            row = {**base, **_analyse(image)}
            if row["chroma_p99"] < GREY_CHROMA:
                excluded.append({**_ex(row), "reason": f"greyscale: 99th-percentile chroma {row['chroma_p99']}"})
                target.unlink()
                continue
            rows.append(row)
        kept, excluded = _finish(rows, excluded, refs, progress)
        kept_names = {r["path"] for r in kept}
        for r in rows:
            if r["path"] not in kept_names:
                (staging / r["path"]).unlink()
        meta = {
            "format": MANIFEST_FORMAT,
            "kind": "debian",
            "build_key": _build_key(Path(samples_dir), debs_dir),
            "val_fraction": VAL_FRACTION,
            "split_salt": SPLIT_SALT,
            "near_duplicate": NEAR_DUPLICATE,
            "grey_chroma": GREY_CHROMA,
            "packages": sorted({f"{r['package']}={r['version']}" for r in kept + excluded if "version" in r}),
            "build_seconds": 0.0,
        }
        manifest = Manifest(path=mpath, root=photos_dir, photos=kept, excluded=excluded, meta=meta)
        manifest.meta["build_seconds"] = round(time.perf_counter() - t0, 1)
        atomic_write(staging / "manifest.json", (json.dumps(manifest.to_json(), indent=1) + "\n").encode())
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


def _build_from_folder(folder: Path, root: Path, samples_dir: Path, progress: bool) -> Manifest:
    """Index a folder tree of the user's images; never writes into it."""
    files = list_images(folder)  # raises for a missing folder
    if not files:
        raise ColorkitError("no image files found (looked for .jpg .jpeg .png .webp .bmp .tif .tiff .gif)", path=folder)
    mpath = _folder_manifest_path(folder, root)
    if folder.resolve() in mpath.resolve().parents:
        raise ColorkitError("the data folder (COLORKIT_DATA) must not be inside the photo folder", path=folder)
    old = {}
    if mpath.exists():
        try:
            prev = _read_manifest(mpath)
            old = {(r["path"], r["bytes"], r.get("mtime_ns")): r for r in prev.photos + prev.excluded if "thumb" in r}
        except ColorkitError:
            pass
    refs = _sample_refs(samples_dir)
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
                sha = _sha256_file(f)
            except ColorkitError as exc:
                bad.append((str(f), exc.problem))
                continue
            row = {"path": rel, "sha256": sha, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "source": "folder"}
            row.update(_analyse(image))
        if row["chroma_p99"] < GREY_CHROMA:
            excluded.append({**row, "reason": f"greyscale: 99th-percentile chroma {row['chroma_p99']}"})
        else:
            rows.append(row)
    kept, excluded = _finish(rows, excluded, refs, progress)
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
    _write_manifest(manifest)
    c = manifest.counts()
    print(
        f"indexed {folder}: {len(kept)} photos ({c['split']['train']} train, {c['split']['val']} val), "
        f"{len(excluded)} left out, {len(bad)} unreadable; manifest {mpath}"
    )
    for p, why in bad:
        print(f"  skipped {p}: {why}", file=sys.stderr)
    return manifest


# --- evaluation samples ------------------------------------------------------------------------------

# (file name in data/samples without suffix, category, photo name in the set = "<source>/<name>")
SAMPLES: tuple[tuple[str, str, str], ...] = (
    ("astronaut", "people", "python-wheels/astronaut.png"),
    ("grace_hopper", "people", "python-wheels/grace_hopper.jpg"),
    ("messi", "people", "opencv/data/messi5.jpg"),
    ("dogs", "animals", "lomiri/friends_by_Aitzol_Berasategi.jpg"),
    ("gorilla", "animals", "gcompris/erase/gorilla.webp"),
    ("kingfisher", "animals", "gcompris/erase/kingfisher.webp"),
    ("toucan", "animals", "gcompris/erase/toucan.webp"),
    ("red_panda", "animals", "gcompris/erase/red_panda.webp"),
    ("kitten", "animals", "gcompris/erase/kitten.webp"),
    ("cheetah", "animals", "gcompris/erase/cheetah.webp"),
    ("cat_chelsea", "animals", "python-wheels/chelsea.png"),
    ("scarlet_macaw", "animals", "gcompris/explore_world_animals/animals/scarlet_macaw.webp"),
    ("panda", "animals", "gcompris/explore_world_animals/animals/panda.webp"),
    ("cow", "animals", "gcompris/explore_farm_animals/animals/cow.webp"),
    ("duck", "animals", "gcompris/explore_farm_animals/animals/duck.webp"),
    ("squirrel", "animals", "opencv/data/squirrel_cls.jpg"),
    ("fish", "animals", "gcompris/categorization/fishes/fish3.webp"),
    ("flamingo_spoonbills", "animals", "gcompris/erase/spoonbills.webp"),
    ("aitzgorri", "landscape", "lomiri/aitzgorri_by_Aitzol_Berasategi.jpg"),
    ("picos_de_europa", "landscape", "lomiri/picosdeeuropa_by_Aitzol_Berasategi.jpg"),
    ("sunset", "landscape", "lomiri/sunset_by_Aitzol_Berasategi.jpg"),
    ("seeding", "landscape", "lomiri/seeding_by_Clements_Engelhardt.jpg"),
    ("canyon_de_chelly", "landscape", "gcompris/explore_monuments/usa/canyondeChelly.webp"),
    ("mont_st_michel", "landscape", "gcompris/explore_monuments/france/montStMichel.webp"),
    ("machu_picchu", "landscape", "gcompris/explore_monuments/wonders/machuPicchu.webp"),
    ("clock", "objects", "lomiri/greentock_by_Peter_Nerlich.jpg"),
    ("dragonfly", "nature", "lomiri/Dragonfly_by_Bolly.jpg"),
    ("butterfly", "nature", "opencv/data/butterfly.jpg"),
    ("bee", "nature", "gcompris/erase/bee.webp"),
    ("home", "city", "opencv/data/home.jpg"),
    ("desk_stuff", "indoor", "opencv/data/stuff.jpg"),
    ("rubber_whale", "indoor", "opencv/data/rubberwhale1.png"),
    ("chair", "indoor", "gcompris/categorization/others/chair.webp"),
    ("coffee", "food", "python-wheels/coffee.png"),
    ("fruits", "food", "opencv/data/fruits.jpg"),
    ("orange", "food", "opencv/data/orange.jpg"),
    ("apple", "food", "opencv/data/apple.jpg"),
    ("wine", "indoor", "lomiri/Wine_by_Jakkub_Mede.jpg"),
    ("hammer", "objects", "gcompris/categorization/tools/hammer2.webp"),
    ("screwdriver", "objects", "gcompris/categorization/tools/screwDriver1.webp"),
    ("spray", "objects", "gcompris/categorization/tools/spray.webp"),
    ("bulb", "objects", "gcompris/categorization/others/bulb.webp"),
    ("baseball", "objects", "gcompris/categorization/others/baseball.webp"),
    ("cup", "objects", "gcompris/categorization/others/cup.webp"),
    ("rocket", "objects", "python-wheels/rocket.jpg"),
    ("building", "city", "opencv/data/building.jpg"),
    ("street_sign", "city", "opencv/text/scenetext01.jpg"),
    ("shop_front", "city", "opencv/text/scenetext05.jpg"),
    ("leuven", "city", "opencv/data/leuvenA.jpg"),
    ("eiffel_tower", "city", "gcompris/explore_monuments/france/eiffelTower.webp"),
    ("neuschwanstein", "city", "gcompris/explore_monuments/germany/neuschwansteinCastle.webp"),
    ("hawa_mahal", "city", "gcompris/explore_monuments/india/hawaMahal.webp"),
    ("colosseum", "city", "gcompris/explore_monuments/wonders/colosseum.webp"),
    ("bridge", "city", "lomiri/Bridge_by_Sander_Klootwijk.jpg"),
)


def sample_paths(samples_dir: str | os.PathLike = SAMPLES_DIR) -> list[Path]:
    """Sorted paths of the evaluation sample images (.jpg/.png) in ``data/samples``."""
    d = Path(samples_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix.lower() in (".jpg", ".png") and not p.name.startswith("."))


def load_samples(samples_dir: str | os.PathLike = SAMPLES_DIR) -> list[tuple[str, np.ndarray]]:
    """[(name, uint8 (H, W, 3))] of every evaluation sample, sorted by name (file name without suffix)."""
    paths = sample_paths(samples_dir)
    if not paths:
        raise ColorkitError("no evaluation samples found: run `colorkit data samples`", path=samples_dir)
    return [(p.stem, read_image(p)) for p in paths]


def read_attribution(samples_dir: str | os.PathLike = SAMPLES_DIR) -> list[dict[str, str]]:
    """The entries of ``data/samples/ATTRIBUTION``: one dict per sample (File, Category, Source, ...)."""
    path = Path(samples_dir) / ATTRIBUTION
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ColorkitError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    entries = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
        entry = {}
        for ln in lines:
            key, sep, value = ln.partition(":")
            if not sep:
                raise ColorkitError(f"malformed line {ln!r} (expected 'Key: value')", path=path)
            entry[key.strip()] = value.strip()
        if entry:
            if "File" not in entry:
                raise ColorkitError(f"an entry without a File: field ({lines[0]!r})", path=path)
            entries.append(entry)
    return entries


def build_samples(
    samples_dir: str | os.PathLike = SAMPLES_DIR, data_root: str | os.PathLike | None = None, progress: bool = True
) -> list[Path]:
    """Re-derive ``data/samples`` from ``SAMPLES``: each photo resized (long side <= 512, Lanczos), JPEG 90.

    Files not in ``SAMPLES`` are removed; ``ATTRIBUTION`` is rewritten. Needs the same sources as the build.
    """
    samples_dir = Path(samples_dir)
    wanted = {photo: (name, category) for name, category, photo in SAMPLES}
    if len(wanted) != len(SAMPLES) or len({n for n, _, _ in SAMPLES}) != len(SAMPLES):
        raise ColorkitError("SAMPLES names a photo or a file name twice")
    found: dict[str, Candidate] = {}
    for c in all_candidates(_root(data_root) / "debs", progress):
        if c.name in wanted:
            found[c.name] = c
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ColorkitError(f"sample sources not found: {', '.join(missing)}")
    samples_dir.mkdir(parents=True, exist_ok=True)
    entries, written = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for photo, (name, category) in tqdm(sorted(wanted.items()), desc="samples", disable=not progress):
            c = found[photo]
            if not REDISTRIBUTABLE.match(c.licence):
                raise ColorkitError(f"sample {photo}: licence {c.licence!r} is not one that allows redistribution")
            src = Path(tmp) / Path(c.name).name
            src.write_bytes(c.data)
            image = resize_long_side(read_image(src), SAMPLE_MAX_SIDE)
            if is_grayscale(image):
                raise ColorkitError(f"sample {photo} is greyscale")
            buf = _io.BytesIO()
            Image.fromarray(image).save(buf, format="JPEG", quality=SAMPLE_JPEG_QUALITY, optimize=True)
            out = samples_dir / f"{name}.jpg"
            atomic_write(out, buf.getvalue())
            written.append(out)
            entries.append(
                {
                    "File": out.name,
                    "Category": category,
                    "Source": f"{c.source} ({c.package} {c.version})",
                    "Path": c.original_path,
                    "Author": c.author or "unknown",
                    "License": c.licence,
                    "License-Source": c.licence_source,
                    "Url": c.url,
                    "Source-SHA256": _sha256(c.data),
                    "Size": f"{image.shape[1]}x{image.shape[0]}",
                }
            )
    for p in sample_paths(samples_dir):
        if p not in written:
            p.unlink()
    header = (
        "# Evaluation samples of colorkit: one entry per file in this folder.\n"
        "# Re-derived by `colorkit data samples` from colorkit.data.SAMPLES: each source photo resized so that\n"
        f"# its long side is at most {SAMPLE_MAX_SIDE} px (Lanczos) and saved as JPEG quality {SAMPLE_JPEG_QUALITY}.\n"
        "# Source-SHA256 is the sha256 of the original file; the training photo set leaves these photos out.\n"
    )
    body = "\n\n".join("\n".join(f"{k}: {v}" for k, v in e.items() if v) for e in sorted(entries, key=lambda e: e["File"]))
    atomic_write(samples_dir / ATTRIBUTION, (header + "\n" + body + "\n").encode("utf-8"))
    print(f"{len(written)} samples written to {samples_dir}")
    return sorted(written)


# --- ab statistics -----------------------------------------------------------------------------------

AB_EDGES = np.arange(-128, 129, dtype=np.float64)  # 257 edges: bins of width 1 over [-128, 128]


def ab_histogram(image: np.ndarray, max_side: int = 256) -> np.ndarray:
    """Counts (256, 256) int64 of the (a, b) values of every pixel of ``image`` resized to long side <= max_side.

    Row = a bin, column = b bin; bin i covers [i - 128, i - 127).
    """
    small = resize_long_side(image, max_side)
    lab = rgb_to_lab(image_to_tensor(small, dtype=torch.float64))[0]  # (3, H, W)
    idx = torch.floor(lab[1:]).long().clamp(-128, 127) + 128  # (2, H, W)
    flat = (idx[0] * 256 + idx[1]).flatten().numpy()
    return np.bincount(flat, minlength=256 * 256).astype(np.int64).reshape(256, 256)


def compute_ab_hist(manifest: Manifest | None = None, max_side: int = 256, progress: bool = True):
    """(counts (256, 256) int64, edges (257,), meta) over every training photo of ``manifest``."""
    manifest = manifest or load_manifest()
    paths = manifest.paths("train")
    counts = np.zeros((256, 256), dtype=np.int64)
    for p in tqdm(paths, desc="ab histogram", unit="img", disable=not progress):
        counts += ab_histogram(read_image(p), max_side)
    meta = {
        "manifest_hash": manifest.hash,
        "photos": len(paths),
        "pixels": int(counts.sum()),
        "max_side": max_side,
        "split": "train",
        "bins": "width 1 over [-128, 128] in a (rows) and b (columns)",
    }
    return counts, AB_EDGES.copy(), meta


def write_ab_hist(path: str | os.PathLike = STATS_PATH, manifest: Manifest | None = None, progress: bool = True) -> Path:
    """Compute the ab histogram of the training photos and save it (compressed .npz, atomically)."""
    counts, edges, meta = compute_ab_hist(manifest, progress=progress)
    buf = _io.BytesIO()
    np.savez_compressed(buf, counts=counts, edges=edges, meta=np.array(json.dumps(meta, sort_keys=True)))
    path = Path(path)
    atomic_write(path, buf.getvalue())
    print(f"ab histogram of {meta['photos']} training photos ({meta['pixels']:,} pixels) written to {path}")
    return path


def load_ab_hist(path: str | os.PathLike = STATS_PATH) -> tuple[np.ndarray, np.ndarray, dict]:
    """(counts (256, 256) int64 [a bin, b bin], edges (257,) from -128 to 128, meta dict) of the training photos."""
    path = Path(path)
    if not path.exists():
        raise ColorkitError("no ab histogram: run `colorkit data stats` (needs the photo set)", path=path)
    try:
        with np.load(path, allow_pickle=False) as z:
            counts, edges, meta = z["counts"], z["edges"], json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ColorkitError(f"unreadable ab histogram ({exc})", path=path) from exc
    if counts.shape != (256, 256) or edges.shape != (257,):
        raise ColorkitError(f"ab histogram has shape {counts.shape}, expected (256, 256)", path=path)
    return counts.astype(np.int64), edges, meta


# --- command line ------------------------------------------------------------------------------------


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
        print(f"{m.path}\n{len(m.photos)} photos ({c['split']['train']} train, {c['split']['val']} val), hash {m.hash[:12]}")
        for title, counter in (("by source", c["source"]), ("by licence", c["licence"]), ("left out", c["excluded"])):
            print(f"{title}:")
            for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"  {v:5d}  {k}")
        return 0
    raise ColorkitError(f"unknown action {args.action!r}")
