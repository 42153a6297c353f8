"""The evaluation samples (``data/samples``, committed): which photos they are, how to list and rebuild them.

    load_samples()        # [("apple", uint8 (H, W, 3)), ...] sorted by name: THE way to list them
    read_attribution()    # one dict per sample: File, Category, Source, Path, Author, License, Source-SHA256 ...

``SAMPLES`` names each one by its photo in the set and a category; ``colorkit data samples`` re-derives
the files (long side <= 512 px, Lanczos, JPEG quality 90) and ``data/samples/ATTRIBUTION``. The photo set
leaves every sample out, by its source sha256 and by look (see ``photoset``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from colorkit.data.candidates import Candidate
from colorkit.data.checks import THUMB_SIZE, is_grayscale, thumbnail
from colorkit.data.sources import all_candidates
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write, list_images, read_image, resize_long_side
from colorkit.paths import SAMPLES_DIR, data_dir

ATTRIBUTION = "ATTRIBUTION"
SAMPLE_MAX_SIDE = 512
SAMPLE_JPEG_QUALITY = 90
# licences under which a sample may be committed and redistributed
REDISTRIBUTABLE = re.compile(r"^(public-domain|CC0-1\.0|CC-BY(-SA)?-[0-9.]+|Apache-2\.0 AND BSD-3-Clause)$")

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- listing and reading ------------------------------------------------------------------------------


def sample_paths(samples_dir: str | os.PathLike = SAMPLES_DIR) -> list[Path]:
    """Sorted paths of the evaluation images in ``samples_dir`` (default ``data/samples``); [] if it is missing."""
    d = Path(samples_dir)
    return list_images(d) if d.is_dir() else []


def load_samples(
    samples_dir: str | os.PathLike = SAMPLES_DIR, missing_ok: bool = False
) -> list[tuple[str, np.ndarray]]:
    """[(name, uint8 (H, W, 3))] of every evaluation image, sorted; name = path under the folder, no suffix."""
    d = Path(samples_dir)
    paths = sample_paths(d)
    if not paths and not missing_ok:
        hint = ": run `colorkit data samples`" if d.resolve() == SAMPLES_DIR.resolve() else ""
        raise ColorkitError(f"no evaluation images found{hint}", path=d)
    return [(p.relative_to(d).with_suffix("").as_posix(), read_image(p)) for p in paths]


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


def sample_refs(samples_dir: Path) -> tuple[set[str], np.ndarray, list[str]]:
    """(source sha256s, thumbnails (N, 16, 16), file names) of the evaluation samples, for the exclusion tests."""
    entries = read_attribution(samples_dir) if (samples_dir / ATTRIBUTION).exists() else []
    files = sample_paths(samples_dir)
    thumbs = [thumbnail(read_image(p)) for p in files]
    stack = np.stack(thumbs) if thumbs else np.zeros((0, THUMB_SIZE, THUMB_SIZE), np.uint8)
    return {e["Source-SHA256"] for e in entries if e.get("Source-SHA256")}, stack, [p.name for p in files]


def samples_key(samples_dir: Path) -> str:
    """sha256 over the samples' names and bytes: a changed sample makes the photo set stale."""
    h = hashlib.sha256()
    attribution = [samples_dir / ATTRIBUTION] if (samples_dir / ATTRIBUTION).exists() else []
    for p in attribution + sample_paths(samples_dir):
        h.update(p.name.encode() + b"\0" + _sha256(p.read_bytes()).encode())
    return h.hexdigest()


# --- rebuilding data/samples ------------------------------------------------------------------------------


def build_samples(
    samples_dir: str | os.PathLike = SAMPLES_DIR, data_root: str | os.PathLike | None = None, progress: bool = True
) -> list[Path]:
    """Re-derive ``data/samples`` from ``SAMPLES``: each photo resized (long side <= 512, Lanczos), JPEG 90.

    Files not in ``SAMPLES`` are removed; ``ATTRIBUTION`` is rewritten. Needs the same sources as the build.
    """
    samples_dir = Path(samples_dir)
    root = Path(data_root).expanduser() if data_root is not None else data_dir()
    wanted = {photo: (name, category) for name, category, photo in SAMPLES}
    if len(wanted) != len(SAMPLES) or len({n for n, _, _ in SAMPLES}) != len(SAMPLES):
        raise ColorkitError("SAMPLES names a photo or a file name twice")
    found: dict[str, Candidate] = {}
    for c in all_candidates(root / "debs", progress, only={photo.split("/")[0] for photo in wanted}):
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
            buf = io.BytesIO()
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
    entries.sort(key=lambda e: e["File"])
    body = "\n\n".join("\n".join(f"{k}: {v}" for k, v in e.items() if v) for e in entries)
    atomic_write(samples_dir / ATTRIBUTION, (header + "\n" + body + "\n").encode("utf-8"))
    print(f"{len(written)} samples written to {samples_dir}")
    return sorted(written)
