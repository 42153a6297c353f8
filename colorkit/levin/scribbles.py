"""Where scribbles come from: a marked image pair, strokes stored as JSON, a ground-truth photo.

Each source gives what :func:`colorkit.levin.colorize` takes: a scribble image (the colours)
and a bool mask (where they are). Also here: the 1927 Solvay Conference photo, a real
black-and-white photograph to scribble on (fetched from a Debian package on first use).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write, read_image
from colorkit.levin.inputs import GREY_TOL, _rgb_array, as_gray, as_rgb, luma
from colorkit.paths import data_dir

# --- the classic marked-image pair ---------------------------------------------------------------------------


def marks_from_pair(gray_image, marked_image, tol: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Y (H, W), scribble_rgb (H, W, 3), mask (H, W)) from a grey image and the same image with colour marks.

    Marks are the pixels where the two differ: Σ_channels |marked - grey| > ``tol`` (images in
    [0, 1]; 0.01 as in the authors' code). Lossy JPEG pairs need a larger ``tol``.
    """
    if np.ndim(gray_image) == 3 and np.shape(gray_image)[-1] == 3:
        g = as_rgb(gray_image, "grey image")
    else:
        g = np.repeat(as_gray(gray_image)[:, :, None], 3, axis=2)
    m = as_rgb(marked_image, "marked image")
    if g.shape != m.shape:
        raise ColorkitError(f"the grey image is {g.shape[0]}x{g.shape[1]} but the marked image is "
                            f"{m.shape[0]}x{m.shape[1]}: a marked pair must have the same size")
    mask = np.abs(m - g).sum(axis=2) > tol
    return luma(g), m, mask


def read_marked_pair(gray_path, marked_path, tol: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the paper's input format: a grey image file and a copy with colour marks.

    Returns (Y (H, W) float in [0, 1], scribble_rgb (H, W, 3) float, mask (H, W) bool) for
    :func:`colorize`. Errors name the file: unreadable, different sizes, a grey file in colour,
    or no marks at all.
    """
    gray_img, marked = read_image(gray_path), read_image(marked_path)
    if gray_img.shape != marked.shape:
        raise ColorkitError(f"is {marked.shape[1]}x{marked.shape[0]} but the grey image {gray_path} is "
                            f"{gray_img.shape[1]}x{gray_img.shape[0]}: a marked pair must have the same size",
                            path=marked_path)
    spread = int((gray_img.max(axis=2).astype(int) - gray_img.min(axis=2)).max())
    if spread * 1.0 / 255 > max(GREY_TOL, tol):
        raise ColorkitError(f"expected the grey image of the pair, but it is in colour (channels differ by up to "
                            f"{spread}/255)", path=gray_path)
    Y, rgb, mask = marks_from_pair(gray_img, marked, tol)
    if not mask.any():
        raise ColorkitError(f"no colour marks: it does not differ from the grey image {gray_path}", path=marked_path)
    return Y, rgb, mask


# --- strokes (hand-placed, stored as JSON) ---------------------------------------------------------------------


def _hex_rgb(colour) -> tuple[int, int, int]:
    if isinstance(colour, str):
        s = colour.lstrip("#")
        if len(s) == 6:
            try:
                return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
            except ValueError:
                pass
        raise ColorkitError(f"stroke colour {colour!r}: expected '#rrggbb'")
    c = tuple(int(v) for v in colour)
    if len(c) != 3 or min(c) < 0 or max(c) > 255:
        raise ColorkitError(f"stroke colour {colour!r}: expected '#rrggbb' or three integers 0-255")
    return c


def rasterize_strokes(shape: tuple[int, int], strokes: list[dict], size: tuple[int, int] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Draw strokes into (scribble_rgb uint8 (H, W, 3), mask bool (H, W)) for an image of ``shape`` (H, W).

    A stroke is ``{"color": "#rrggbb", "width": px, "points": [[x, y], ...]}`` in the pixel
    coordinates of an image of ``size`` = (width, height) (default: ``shape`` itself); they
    are scaled to ``shape``. Later strokes paint over earlier ones; ends are round.
    """
    from PIL import Image, ImageDraw

    H, W = shape
    sx, sy = (1.0, 1.0) if size is None else (W / size[0], H / size[1])
    canvas = Image.new("RGB", (W, H))
    marks = Image.new("L", (W, H))
    draw_c, draw_m = ImageDraw.Draw(canvas), ImageDraw.Draw(marks)
    for k, stroke in enumerate(strokes):
        try:
            pts = [(float(x) * sx, float(y) * sy) for x, y in stroke["points"]]
            colour = _hex_rgb(stroke["color"])
            width = max(1.0, float(stroke.get("width", 3)) * 0.5 * (sx + sy))
        except (KeyError, TypeError, ValueError) as exc:
            raise ColorkitError(f"stroke {k}: expected color, width and points [[x, y], ...] ({exc})") from None
        if not pts:
            continue
        r = width / 2
        for draw, fill in ((draw_c, colour), (draw_m, 255)):
            if len(pts) > 1:
                draw.line(pts, fill=fill, width=max(1, round(width)), joint="curve")
            for x, y in (pts[0], pts[-1]):
                draw.ellipse((x - r + 0.5, y - r + 0.5, x + r - 0.5, y + r - 0.5), fill=fill)
    return np.asarray(canvas).copy(), np.asarray(marks) > 127


def load_strokes(path) -> dict:
    """Read a stroke file: ``{"size": [width, height], "strokes": [{"color", "width", "points", "label"?}, ...]}``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ColorkitError("no such stroke file", path=path) from None
    except (OSError, ValueError) as exc:
        raise ColorkitError(f"not a readable stroke file ({exc})", path=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("strokes"), list) or len(doc.get("size", ())) != 2:
        raise ColorkitError('expected {"size": [width, height], "strokes": [...]}', path=path)
    return doc


def save_strokes(path, strokes: list[dict], size: tuple[int, int], **extra) -> Path:
    """Write strokes (image ``size`` = (width, height)) as JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**extra, "size": [int(size[0]), int(size[1])], "strokes": strokes}
    text = json.dumps(doc, indent=1)
    atomic_write(path, (text + "\n").encode("utf-8"))
    return path


# --- sampled from a ground-truth photo -------------------------------------------------------------------------


def sample_scribbles(rgb, n: int, kind: str = "points", seed: int = 0, length: int = 15, width: int = 3,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic scribbles from a ground-truth colour photo: (scribble_rgb (H, W, 3), mask (H, W)).

    ``kind="points"``: ``n`` distinct random pixels. ``kind="strokes"``: ``n`` straight strokes
    of ``length`` pixels and ``width`` pixels at random places and angles. Every marked
    pixel gets its *true* colour (an ideal scribbler): the scribble image is a copy of ``rgb``
    (numpy, channels last, same dtype). Same ``seed``, same scribbles.
    """
    truth = _rgb_array(rgb, "rgb")
    H, W = truth.shape[:2]
    rng = np.random.default_rng(seed)
    n = int(n)
    if n < 1:
        raise ColorkitError(f"sample_scribbles: n must be at least 1, got {n}")
    mask = np.zeros((H, W), dtype=bool)
    if kind == "points":
        picks = rng.choice(H * W, size=min(n, H * W), replace=False)
        mask.flat[picks] = True
    elif kind == "strokes":
        y0, x0 = rng.uniform(0, H, n), rng.uniform(0, W, n)
        angle = rng.uniform(0, np.pi, n)
        t = np.linspace(-0.5, 0.5, max(2, 2 * int(length)))[None, :] * length  # (1, T) along the stroke
        ys = y0[:, None] + t * np.sin(angle)[:, None]
        xs = x0[:, None] + t * np.cos(angle)[:, None]
        r = (width - 1) / 2
        for oy in np.arange(-r, r + 1):
            for ox in np.arange(-r, r + 1):
                yy, xx = np.round(ys + oy).astype(int), np.round(xs + ox).astype(int)
                ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
                mask[yy[ok], xx[ok]] = True
    else:
        raise ColorkitError(f"sample_scribbles: kind must be 'points' or 'strokes', not {kind!r}")
    return truth.copy(), mask


# --- the 1927 Solvay Conference photo ----------------------------------------------------------------------------

SOLVAY_PACKAGE = "visp-images-data"
SOLVAY_MEMBER = "usr/share/visp-images-data/ViSP-images/Solvay/Solvay_conference_1927_Version2_{size}.png"
SOLVAY_SIZES = ("640x440", "1024x705", "1280x881", "2126x1463")


def solvay_photo(size: str = "1024x705") -> np.ndarray:
    """The 1927 Solvay Conference group photo (a real black-and-white photograph), grey uint8 (H, W).

    It ships in Debian's ``visp-images-data`` package. On first use the package is fetched
    with ``apt-get download`` (no install, kept in ``data_dir()/debs``) and the photo is
    extracted to ``data_dir()/extra/solvay/``; later calls read that file. A clear
    ColorkitError when ``apt-get``/``dpkg-deb`` are missing or the mirror cannot be reached.
    """
    if size not in SOLVAY_SIZES:
        raise ColorkitError(f"solvay_photo: size must be one of {', '.join(SOLVAY_SIZES)}, not {size!r}")
    member = SOLVAY_MEMBER.format(size=size)
    target = data_dir() / "extra" / "solvay" / Path(member).name
    if not target.exists():
        # colorkit.data is a layer-2 sibling of levin: imported here, only when the photo must be fetched,
        # so importing colorkit.levin never pulls in the photo-set builder.
        from colorkit.data import deb_members, fetch_deb

        deb = fetch_deb(SOLVAY_PACKAGE, data_dir() / "debs")
        files = deb_members(deb, [member])
        if member not in files:
            raise ColorkitError(f"{member} is not in the package", path=deb)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, files[member])
    rgb = read_image(target)
    return np.round(luma(rgb.astype(np.float64) / 255.0) * 255.0).astype(np.uint8)


# --- real black-and-white photographs, for galleries (no colour truth exists for them) ----------------

BLACK_AND_WHITE = (
    ("solvay_1927", "the fifth Solvay Conference, Brussels 1927 (B. Couprie; Debian visp-images-data)",
     "public domain"),
    ("cameraman", "a cameraman on a lawn (scikit-image `camera`, photograph by Lav Varshney)", "CC0-1.0"),
    ("pompeii_coins", "Greek coins from Pompeii (scikit-image `coins`, Brooklyn Museum)",
     "no known copyright restrictions"),
)


def black_and_white_photos(solvay_size: str = "1024x705") -> list[tuple[str, np.ndarray, str]]:
    """Real black-and-white photographs available offline: ``(name, grey uint8 (H, W), credit and licence)``.

    The Solvay photo comes from :func:`solvay_photo` (fetched once from a Debian package); the
    others ship in scikit-image. Colorizing them is the real use of the course's models, with no
    truth to score against: a gallery, and the judgement of whoever looks at it.
    """
    from skimage import data as skdata

    grey = {"solvay_1927": lambda: solvay_photo(solvay_size), "cameraman": skdata.camera, "pompeii_coins": skdata.coins}
    return [(name, np.asarray(grey[name](), dtype=np.uint8), f"{what}; {licence}")
            for name, what, licence in BLACK_AND_WHITE]
