"""Robust image reading and writing, and folder-to-folder batch jobs.

Everything that comes from disk ends up as an sRGB ``uint8`` array ``(H, W, 3)``:

* EXIF orientation is applied, so a phone photo is the right way up;
* any Pillow mode is converted: 1-bit, L, LA, P (with or without a transparent
  index), RGBA (composited on white), CMYK, 16-bit (``I;16``, ``I;16B``, 16-bit
  PNG: 65535 -> 255), ``I`` (32-bit integers, read as 16-bit data and clipped),
  ``F`` (floats: [0, 1] if all values lie there, else 0..255, clipped);
* an embedded ICC profile is used to convert to sRGB (ignored if unusable).

Bad input raises one :class:`ColorkitError` naming the file and the problem.
Writes are atomic (temp file in the same folder, then ``os.replace``) and never
overwrite unless asked; :func:`map_folder` never writes into its input folder.
"""

from __future__ import annotations

import io as _io
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from colorkit.errors import ColorkitError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --- reading ------------------------------------------------------------------


def _too_large(pixels: str, limit: int, path: Path) -> ColorkitError:
    return ColorkitError(
        f"image too large: {pixels} pixels, over the limit of {limit:,} "
        "(PIL.Image.MAX_IMAGE_PIXELS, a decompression-bomb guard)",
        path=path,
    )


def _open(path: Path) -> Image.Image:
    """Open and fully decode ``path``, turning every failure into one ColorkitError."""
    if not path.exists():
        raise ColorkitError("no such file", path=path)
    if path.is_dir():
        raise ColorkitError("is a directory, expected an image file", path=path)
    if path.stat().st_size == 0:
        raise ColorkitError("empty file (0 bytes)", path=path)
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below, as an error
            im = Image.open(f)
            w, h = im.size
            if limit is not None and w * h > limit:
                raise _too_large(f"{w}x{h} = {w * h:,}", limit, path)
            # Decoding happens here, while the file is open; a truncated file raises
            # because Pillow's LOAD_TRUNCATED_IMAGES is left off.
            im.load()
    except Image.DecompressionBombError as e:
        m = re.search(r"\((\d+) pixels\)", str(e))
        pixels = f"{int(m.group(1)):,}" if m else "too many"
        raise _too_large(pixels, limit, path) from None
    except UnidentifiedImageError:
        raise ColorkitError("not an image (Pillow cannot identify it)", path=path) from None
    except PermissionError:
        raise ColorkitError("cannot read it (permission denied)", path=path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ColorkitError(f"truncated or corrupt image data ({e})", path=path) from None
    try:
        im = ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        pass  # unreadable EXIF: keep the pixels as stored
    return im


def _to_8bit(im: Image.Image, path: Path) -> tuple[Image.Image, np.ndarray | None]:
    """Any mode -> (image in mode "RGB", "L" or "CMYK", alpha (H, W) uint8 or None)."""
    mode = im.mode
    if mode == "I" or mode.startswith("I;16"):  # 16-bit data (and 32-bit "I", read as 16-bit and clipped)
        data = np.asarray(im).astype(np.float64) / 257.0  # 0..65535 -> 0..255
        return Image.fromarray(np.round(np.clip(data, 0, 255)).astype(np.uint8)), None
    if mode == "F":
        data = np.asarray(im).astype(np.float64)
        finite = data[np.isfinite(data)]
        if finite.size and finite.min() >= 0 and finite.max() <= 1:
            data = data * 255.0
        data = np.nan_to_num(data, nan=0.0, posinf=255.0, neginf=0.0)
        return Image.fromarray(np.round(np.clip(data, 0, 255)).astype(np.uint8)), None
    if mode == "1":
        return im.convert("L"), None
    if mode in ("RGB", "L", "CMYK") and "transparency" not in im.info:
        return im, None
    if mode in ("LA", "La"):
        la = im.convert("LA")
        return la.getchannel("L"), np.asarray(la.getchannel("A"))
    if mode in ("L", "RGB", "P", "PA", "RGBA", "RGBa", "RGBX"):
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        return rgba.convert("RGB"), (None if alpha.min() == 255 else alpha)
    try:  # YCbCr, LAB, HSV, ...: let Pillow convert
        return im.convert("RGB"), None
    except ValueError:
        raise ColorkitError(f"unsupported image mode {mode!r}", path=path) from None


def _apply_icc(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert ``im`` (RGB, L or CMYK) from its embedded ICC profile to sRGB, if the profile fits and works."""
    if not icc:
        return im
    try:
        src = ImageCms.ImageCmsProfile(_io.BytesIO(icc))
        space = src.profile.xcolor_space.strip()
        if (space, im.mode) not in {("RGB", "RGB"), ("GRAY", "L"), ("CMYK", "CMYK")}:
            return im
        return ImageCms.profileToProfile(im, src, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im  # unusable profile: keep Pillow's default conversion


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read any image file as sRGB uint8 (H, W, 3); transparency is composited on white."""
    path = Path(path)
    im = _open(path)
    icc = im.info.get("icc_profile")
    base, alpha = _to_8bit(im, path)
    rgb = np.asarray(_apply_icc(base, icc).convert("RGB"))  # (H, W, 3)
    if alpha is not None:
        a = alpha.astype(np.float64)[:, :, None] / 255.0
        rgb = np.round(rgb * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def read_gray(path: str | os.PathLike) -> np.ndarray:
    """Read an image as grey uint8 (H, W): ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B of the sRGB image.

    This is exactly Pillow's ``convert("L")``, applied after :func:`read_image`
    (so EXIF, ICC and transparency are handled the same way).
    """
    return np.asarray(Image.fromarray(read_image(path)).convert("L"))


# --- writing --------------------------------------------------------------------------


def write_image(path: str | os.PathLike, array: np.ndarray, overwrite: bool = False) -> Path:
    """Write uint8 (H, W, 3) or grey (H, W) atomically; the format comes from the suffix.

    Refuses to replace an existing file unless ``overwrite=True``; creates parent folders.
    """
    path = Path(path)
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
        got = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
        raise ColorkitError(f"cannot write: expected a uint8 array, got {got}", path=path)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ColorkitError(f"cannot write: expected shape (H, W, 3) or (H, W), got {array.shape}", path=path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ColorkitError(f"cannot write: unknown image suffix {path.suffix!r}", path=path)
    if path.is_dir():
        raise ColorkitError("cannot write: a directory has this name", path=path)
    if path.exists() and not overwrite:
        raise ColorkitError("already exists (pass overwrite=True to replace it)", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"quality": 95} if fmt == "JPEG" else {}
    return atomic_write(path, lambda f: Image.fromarray(np.ascontiguousarray(array)).save(f, format=fmt, **options))


def resize_long_side(image: np.ndarray, max_side: int) -> np.ndarray:
    """uint8 image (H, W, 3) shrunk (Lanczos) so that its long side is at most ``max_side``; smaller ones unchanged."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def file_mode() -> int:
    """The permissions of an ordinary new file: 0666 minus the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, content: bytes | str | Callable) -> Path:
    """Write ``path`` all at once or not at all: into a temp file beside it, then ``os.replace``.

    ``content``: bytes, text (written as UTF-8), or a callable ``write(binary_file)``.
    The parent folder is created; the file gets ordinary permissions (0666 minus the umask);
    a failure leaves any earlier file untouched and no temp file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(content):
                content(f)
            else:
                f.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# --- folders --------------------------------------------------------------------------------


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Sorted image files (by suffix, case-insensitive) under ``folder``; hidden files and folders are skipped."""
    folder = Path(folder)
    if not folder.exists():
        raise ColorkitError("no such folder", path=folder)
    if not folder.is_dir():
        raise ColorkitError("not a folder", path=folder)
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [] if not recursive else [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_SUFFIXES]
    return sorted(found)


@dataclass
class FolderReport:
    """What :func:`map_folder` did: ``done`` (input, output) pairs and ``skipped`` (input, reason) pairs."""

    done: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.skipped

    def summary(self) -> str:
        lines = [f"{len(self.done)} image(s) written, {len(self.skipped)} skipped"]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def map_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    fn: Callable[[np.ndarray], np.ndarray],
    suffix: str = ".png",
    overwrite: bool = False,
    progress: bool = True,
) -> FolderReport:
    """Run ``fn(uint8 (H, W, 3)) -> uint8 image`` on every image in ``in_dir``; write to ``out_dir``.

    Sub-folders are mirrored, each output takes ``suffix``. A file that cannot be
    read, or for which ``fn`` raises ColorkitError, is skipped and recorded; other
    exceptions propagate. ``out_dir`` must not be ``in_dir`` or inside it.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    files = list_images(in_dir)
    src, dst = in_dir.resolve(), out_dir.resolve()
    if dst == src or src in dst.parents:
        raise ColorkitError(f"output folder must not be the input folder or inside it ({in_dir})", path=out_dir)
    report, claimed = FolderReport(), {}
    for in_path in tqdm(files, desc="images", unit="img", disable=not progress):
        out_path = out_dir / in_path.relative_to(in_dir).with_suffix(suffix)
        resolved = out_path.resolve()
        if resolved in claimed:
            report.skipped.append((in_path, f"output name {out_path} already used by {claimed[resolved]}"))
            continue
        if src in resolved.parents:  # possible when in_dir is inside out_dir
            report.skipped.append((in_path, f"output {out_path} would be inside the input folder"))
            continue
        if out_path.exists() and not overwrite:
            report.skipped.append((in_path, "output exists"))
            continue
        try:
            result = fn(read_image(in_path))
        except ColorkitError as e:
            report.skipped.append((in_path, e.problem))
            continue
        claimed[resolved] = in_path
        report.done.append((in_path, write_image(out_path, result, overwrite=overwrite)))
    return report
