"""Photos that need unpacking: jigzo's ``.pzl`` puzzles and stellarium's landscape panoramas.

Each function takes the candidates a :class:`DebSource` yields (the raw files) and yields photo candidates
(PNG bytes) with the same package, version and licence.

* **jigzo** ``.pzl``: 4 header lines (``PzlF``, version, the puzzle's inner name, a URL), then repeated
  entries ``name\\n size\\n bytes``. The ``.map`` entry's ``image X Y W H`` line places the photo in the
  texture atlas ``<inner name>.jpg``; the rest of the atlas is puzzle pieces.
* **stellarium** landscapes: a ``landscape.ini`` names the panorama's textures (``old_style``: side
  textures in order; ``spherical``: one ``maptex``). The sky is transparent: the panorama is cut just
  below it (every row from there down at least 99.5 % opaque; the few see-through pixels left take the
  colour of the pixel below), then into pieces at most 3 times as wide as high, so that a training crop
  still sees a landscape, not a sliver of one.
"""

from __future__ import annotations

import configparser
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np
from PIL import Image

from colorkit.data.candidates import Candidate
from colorkit.errors import ColorkitError

MIN_OPAQUE = 0.995  # a row below the sky: at least this fraction of its pixels opaque (alpha >= 128)
MAX_ASPECT = 3.0  # panorama pieces are at most this many times wider than high


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


# --- jigzo ------------------------------------------------------------------------------------------


def read_pzl(data: bytes, name: str = "<pzl>") -> tuple[list[str], dict[str, bytes]]:
    """(the 4 header lines, entry name -> bytes) of a jigzo ``.pzl`` file."""
    try:
        lines, pos = [], 0
        for _ in range(4):
            end = data.index(b"\n", pos)
            lines.append(data[pos:end].decode())
            pos = end + 1
        entries = {}
        while pos < len(data):
            end = data.index(b"\n", pos)
            entry = data[pos:end].decode()
            pos = end + 1
            end = data.index(b"\n", pos)
            size = int(data[pos:end])
            entries[entry] = data[end + 1 : end + 1 + size]
            pos = end + 1 + size
    except (ValueError, UnicodeDecodeError) as exc:
        raise ColorkitError(f"not a readable jigzo puzzle ({exc})", path=name) from exc
    if lines[0] != "PzlF":
        raise ColorkitError("not a jigzo puzzle (no PzlF header)", path=name)
    return lines, entries


def jigzo_photos(candidates: Iterable[Candidate]) -> Iterator[Candidate]:
    """The photo inside each ``.pzl``: the rectangle of the texture atlas that its ``.map`` names."""
    for c in candidates:
        header, entries = read_pzl(c.data, c.original_path)
        inner = header[2]
        m = re.search(rb"^image (\d+) (\d+) (\d+) (\d+)", entries.get(f"{inner}.map", b""), re.M)
        if m is None or f"{inner}.jpg" not in entries:
            raise ColorkitError(f"no 'image' rectangle or no {inner}.jpg in the puzzle", path=c.original_path)
        x, y, w, h = map(int, m.groups())
        atlas = np.asarray(Image.open(io.BytesIO(entries[f"{inner}.jpg"])).convert("RGB"))
        yield replace(c, name=c.name.rsplit(".", 1)[0] + ".png", data=_png(atlas[y : y + h, x : x + w]),
                      original_path=f"{c.original_path}:{inner}.jpg[{x},{y},{w}x{h}]")


# --- stellarium --------------------------------------------------------------------------------------


def below_the_sky(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 panorama -> (h, W, 3) uint8: the rows below its transparent sky, see-through pixels filled."""
    ok = (rgba[..., 3] >= 128).mean(1) >= MIN_OPAQUE
    top = len(ok)
    while top > 0 and ok[top - 1]:
        top -= 1
    band = rgba[top:].astype(np.float32)
    rgb, alpha = band[..., :3], band[..., 3:] / 255.0
    fill = rgb.copy()
    for y in range(len(fill) - 2, -1, -1):  # a see-through pixel takes the colour below it
        hole = alpha[y, :, 0] < 1
        fill[y, hole] = fill[y + 1, hole]
    return np.round(rgb * alpha + fill * (1 - alpha)).astype(np.uint8)


def _panorama_files(ini: configparser.ConfigParser) -> list[str] | None:
    """The texture files of a landscape, left to right; None for a kind that is not a panorama strip."""
    land = ini["landscape"]
    kind = land.get("type", "")
    if kind == "spherical":
        return [land["maptex"]]
    if kind == "old_style":
        return [land[land[f"side{i}"].split(":")[0]] for i in range(int(land["nbside"]))]
    return None


def stellarium_photos(candidates: Iterable[Candidate]) -> Iterator[Candidate]:
    """Landscape panoramas (sky cut away) in pieces; other files of a landscape folder are left out, with why."""
    by_folder: dict[str, dict[str, Candidate]] = defaultdict(dict)
    for c in candidates:
        folder, _, file = c.original_path.rpartition("/")
        by_folder[folder][file] = c
    for folder, files in sorted(by_folder.items()):
        if "landscape.ini" not in files:
            yield from files.values()  # a plain photo
            continue
        ini_c = files.pop("landscape.ini")
        ini = configparser.ConfigParser(interpolation=None, strict=False, inline_comment_prefixes=(";",))
        ini.read_string(ini_c.data.decode("utf-8", "replace"))
        scene = folder.rsplit("/", 1)[1]
        author = ini["landscape"].get("author", ini_c.author)
        parts = _panorama_files(ini)
        if parts is None:
            why = f"not a photo: a {ini['landscape'].get('type')} projection of the sky and horizon"
            yield from (replace(c, skip=why) for c in files.values())
            continue
        for file, c in files.items():
            if file not in parts:
                yield replace(c, skip="not a photo: a ground, fog or light layer of a landscape")
        pano = np.concatenate([np.asarray(Image.open(io.BytesIO(files[f].data)).convert("RGBA")) for f in parts], 1)
        band = below_the_sky(pano)
        h, w = band.shape[:2]
        n = max(1, math.ceil(w / (MAX_ASPECT * h)))
        for i in range(n):
            x0, x1 = i * w // n, (i + 1) * w // n
            yield replace(ini_c, name=f"stellarium/{scene}-{i + 1}.png", data=_png(band[:, x0:x1]), author=author,
                          original_path=f"{folder}/{{{','.join(parts)}}}: below the sky, piece {i + 1} of {n}")
