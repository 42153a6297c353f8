"""colorkit.io: every Pillow mode, EXIF, ICC, bad files, atomic writes, folder jobs.

All fixtures are built in tmp_path with Pillow or raw bytes; nothing binary is committed.
"""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from colorkit.errors import ColorkitError
from colorkit.io import FolderReport, list_images, map_folder, read_gray, read_image, write_image


def gradient(h=6, w=8):
    """Deterministic RGB test pattern (h, w, 3) uint8."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 10 % 256], -1).astype(np.uint8)


def save(im: Image.Image, path, **kw):
    im.save(path, **kw)
    return path


# --- modes ------------------------------------------------------------------------------


def test_rgb_png_exact(tmp_path):
    img = gradient()
    out = read_image(save(Image.fromarray(img), tmp_path / "rgb.png"))
    assert out.dtype == np.uint8 and out.shape == (6, 8, 3) and np.array_equal(out, img)


def test_mode_L_and_1bit(tmp_path):
    g = gradient()[:, :, 0]
    out = read_image(save(Image.fromarray(g), tmp_path / "l.png"))
    assert out.shape == (6, 8, 3) and all(np.array_equal(out[:, :, c], g) for c in range(3))
    bits = Image.fromarray(g > 128).convert("1")
    out = read_image(save(bits, tmp_path / "bits.png"))
    assert set(np.unique(out)) <= {0, 255} and np.array_equal(out[:, :, 0] == 255, g > 128)


def test_mode_LA_composited_on_white(tmp_path):
    la = Image.merge("LA", [Image.new("L", (3, 1), 0), Image.frombytes("L", (3, 1), bytes([0, 255, 128]))])
    out = read_image(save(la, tmp_path / "la.png"))
    assert out[0, :, 0].tolist() == [255, 0, 127]  # transparent -> white, opaque black, half -> mid grey


def test_mode_RGBA_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(200, 0, 0, 0), (0, 0, 255, 255), (0, 0, 0, 128)])
    out = read_image(save(rgba, tmp_path / "rgba.png"))
    assert out[0].tolist() == [[255, 255, 255], [0, 0, 255], [127, 127, 127]]


def test_mode_P_with_and_without_transparency(tmp_path):
    p = Image.new("P", (2, 1))
    p.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    p.putdata([0, 1])
    assert read_image(save(p, tmp_path / "p.png"))[0].tolist() == [[10, 20, 30], [200, 100, 50]]
    assert read_image(save(p, tmp_path / "p.gif"))[0].tolist() == [[10, 20, 30], [200, 100, 50]]
    p.info["transparency"] = 0
    out = read_image(save(p, tmp_path / "pt.png", transparency=0))
    assert out[0].tolist() == [[255, 255, 255], [200, 100, 50]]


def test_mode_CMYK(tmp_path):
    cmyk = Image.new("CMYK", (3, 1))
    cmyk.putdata([(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 255)])
    out = read_image(save(cmyk, tmp_path / "cmyk.tif"))
    assert out[0].tolist() == [[255, 255, 255], [0, 255, 255], [0, 0, 0]]


@pytest.mark.parametrize("dtype,suffix", [("<u2", ".png"), (">u2", ".tif"), ("<u2", ".tif")])
def test_16bit_gray_scaled_not_clipped(tmp_path, dtype, suffix):
    a = np.array([[0, 257, 32896, 65535]], dtype=dtype)
    im = Image.fromarray(a)
    assert im.mode.startswith("I;16")
    out = read_image(save(im, tmp_path / f"g16{suffix}"))
    assert out[0, :, 0].tolist() == [0, 1, 128, 255]


def test_mode_I_32bit(tmp_path):
    im = Image.fromarray(np.array([[0, 257, 65535, 70000, -5]], dtype=np.int32))
    assert im.mode == "I"
    out = read_image(save(im, tmp_path / "i32.tif"))
    assert out[0, :, 0].tolist() == [0, 1, 255, 255, 0]


def test_mode_F(tmp_path):
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert read_image(save(unit, tmp_path / "f01.tif"))[0, :, 0].tolist() == [0, 128, 255]
    wide = Image.fromarray(np.array([[0.0, 100.0, 300.0]], dtype=np.float32))
    assert read_image(save(wide, tmp_path / "f255.tif"))[0, :, 0].tolist() == [0, 100, 255]


def png_rgb16(arr: np.ndarray) -> bytes:
    """A 48-bit RGB PNG written by hand (Pillow cannot write this mode)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w, _ = arr.shape
    rows = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_16bit_rgb_png(tmp_path):
    a = np.array([[[65535, 0, 32896], [257, 65535, 0]]], dtype=np.uint16)
    path = tmp_path / "rgb48.png"
    path.write_bytes(png_rgb16(a))
    out = read_image(path)
    assert out.shape == (1, 2, 3)
    assert np.abs(out.astype(int) - np.round(a / 257)).max() <= 1


# --- EXIF, ICC -------------------------------------------------------------------------------


def test_exif_orientation_6_rotates_clockwise(tmp_path):
    img = np.zeros((20, 40, 3), np.uint8)  # H=20, W=40: left half red, right half blue
    img[:, :20] = (255, 0, 0)
    img[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = save(Image.fromarray(img), tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    out = read_image(path).astype(int)
    assert out.shape == (40, 20, 3)
    assert np.abs(out[:16].mean((0, 1)) - (255, 0, 0)).max() < 10  # left became top
    assert np.abs(out[24:].mean((0, 1)) - (0, 0, 255)).max() < 10  # right became bottom


def _s15(v):
    return struct.pack(">i", round(v * 65536))


def linear_rgb_icc() -> bytes:
    """Minimal ICC v2 RGB profile: sRGB primaries (D50-adapted), gamma 1.0, i.e. linear light."""

    def xyz(x, y, z):
        return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)

    curv = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 0x0100)  # one entry: gamma 1.0
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", 7) + b"linear\0" + b"\0" * 79
    tags = [
        (b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)), (b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv),
    ]  # fmt: skip
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000)
    header += b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    return header.ljust(128, b"\0") + struct.pack(">I", len(tags)) + table + data


def test_icc_profile_converted_to_srgb(tmp_path):
    im = Image.new("RGB", (2, 1), (128, 128, 128))
    im.putpixel((1, 0), (255, 0, 0))
    out = read_image(save(im, tmp_path / "linear.png", icc_profile=linear_rgb_icc()))
    # linear-light 128/255 = 0.502 is sRGB 188; pure red stays red
    assert np.abs(out[0, 0].astype(int) - 188).max() <= 2
    assert np.abs(out[0, 1].astype(int) - (255, 0, 0)).max() <= 2


def test_unusable_icc_profile_ignored(tmp_path):
    img = gradient()
    out = read_image(save(Image.fromarray(img), tmp_path / "badicc.png", icc_profile=b"not a profile"))
    assert np.array_equal(out, img)


# --- sizes ---------------------------------------------------------------------------------------


def test_1x1_and_long_strip(tmp_path):
    one = read_image(save(Image.new("RGB", (1, 1), (1, 2, 3)), tmp_path / "one.png"))
    assert one.shape == (1, 1, 3) and one[0, 0].tolist() == [1, 2, 3]
    strip = np.zeros((50, 10000, 3), np.uint8)
    strip[:, ::2] = 255
    strip[:, 9999] = (9, 8, 7)
    out = read_image(save(Image.fromarray(strip), tmp_path / "strip.png"))
    assert out.shape == (50, 10000, 3) and np.array_equal(out, strip)
    tall = read_image(save(Image.fromarray(strip.transpose(1, 0, 2)), tmp_path / "tall.png"))
    assert tall.shape == (10000, 50, 3)


# --- bad input ------------------------------------------------------------------------------------


def noisy_jpeg(path, size=64):
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=90)
    return path


def make_bad_files(folder):
    """Three bad files: zero bytes, text named .jpg, truncated JPEG."""
    (folder / "zero.png").write_bytes(b"")
    (folder / "text.jpg").write_text("this is not a JPEG\n")
    data = noisy_jpeg(folder / "full.jpg").read_bytes()
    (folder / "full.jpg").unlink()
    (folder / "trunc.jpg").write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "name,words",
    [
        ("missing.png", "no such file"),
        ("adir.png", "is a directory, expected an image file"),
        ("zero.png", "empty file (0 bytes)"),
        ("text.jpg", "not an image (Pillow cannot identify it)"),
        ("trunc.jpg", "truncated or corrupt image data"),
    ],
)
def test_bad_input_one_clear_error(tmp_path, name, words):
    make_bad_files(tmp_path)
    (tmp_path / "adir.png").mkdir()
    with pytest.raises(ColorkitError) as info:
        read_image(tmp_path / name)
    assert name in str(info.value) and words in str(info.value)
    assert info.value.path == str(tmp_path / name)


@pytest.mark.parametrize("side", [40, 50])  # 1,600 px: over the limit; 2,500 px: over Pillow's 2x hard limit
def test_decompression_bomb(tmp_path, monkeypatch, side):
    path = save(Image.new("RGB", (side, side)), tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ColorkitError) as info:
        read_image(path)
    msg = str(info.value)
    assert "bomb.png" in msg and "too large" in msg and f"{side * side:,}" in msg and "1,000" in msg


def test_read_gray_is_pillow_601_luma(tmp_path):
    img = gradient(16, 16)
    path = save(Image.fromarray(img), tmp_path / "c.png")
    gray = read_gray(path)
    assert gray.shape == (16, 16) and gray.dtype == np.uint8
    assert np.array_equal(gray, np.asarray(Image.fromarray(img).convert("L")))
    luma = img.astype(float) @ [0.299, 0.587, 0.114]
    assert np.abs(gray - luma).max() <= 1
    with pytest.raises(ColorkitError, match="no such file"):
        read_gray(tmp_path / "nope.png")


# --- writing ------------------------------------------------------------------------------------------


def test_write_image_round_trip_and_parents(tmp_path):
    img = gradient()
    path = write_image(tmp_path / "a" / "b" / "out.png", img)
    assert np.array_equal(read_image(path), img)
    gpath = write_image(tmp_path / "g.png", img[:, :, 1])
    assert Image.open(gpath).mode == "L" and np.array_equal(read_gray(gpath), img[:, :, 1])
    jpg = write_image(tmp_path / "out.JPG", img)
    assert np.abs(read_image(jpg).astype(int) - img).mean() < 8


def test_write_image_refuses_overwrite_and_leaves_no_temp(tmp_path):
    img = gradient()
    path = write_image(tmp_path / "x.png", img)
    before = path.read_bytes()
    with pytest.raises(ColorkitError, match="already exists") as info:
        write_image(path, 255 - img)
    assert "x.png" in str(info.value) and path.read_bytes() == before
    write_image(path, 255 - img, overwrite=True)
    assert np.array_equal(read_image(path), 255 - img)
    for bad in (img.astype(np.float32), np.zeros((4, 4, 4), np.uint8)):
        with pytest.raises(ColorkitError, match="cannot write"):
            write_image(tmp_path / "y.png", bad)
    with pytest.raises(ColorkitError, match="unknown image suffix"):
        write_image(tmp_path / "y.xyz", img)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]  # no temp files, nothing half-written


# --- listing ----------------------------------------------------------------------------------------------


def test_list_images(tmp_path):
    root = tmp_path / ".hidden_parent_is_fine" / "photos"
    (root / "sub").mkdir(parents=True)
    (root / ".secret").mkdir()
    for name in ["b.JPG", "a.png", "sub/c.webp", "sub/d.TIFF", "notes.txt", ".hidden.png", ".secret/e.png"]:
        (root / name).write_bytes(b"x")
    assert [p.relative_to(root).as_posix() for p in list_images(root)] == ["a.png", "b.JPG", "sub/c.webp", "sub/d.TIFF"]
    assert [p.name for p in list_images(root, recursive=False)] == ["a.png", "b.JPG"]
    with pytest.raises(ColorkitError, match="no such folder"):
        list_images(tmp_path / "missing")
    with pytest.raises(ColorkitError, match="not a folder"):
        list_images(root / "a.png")


# --- map_folder -------------------------------------------------------------------------------------------


def snapshot(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_map_folder_skips_bad_files_and_never_writes_input(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    write_image(src / "a.png", gradient())
    write_image(src / "sub" / "b.png", gradient(5, 5))
    noisy_jpeg(src / "c.jpg", size=16)
    make_bad_files(src)
    before = snapshot(src)

    report = map_folder(src, dst, lambda img: 255 - img, progress=False)

    assert isinstance(report, FolderReport) and not report.ok
    assert [(i.name, o.relative_to(dst).as_posix()) for i, o in report.done] == [
        ("a.png", "a.png"), ("c.jpg", "c.png"), ("b.png", "sub/b.png"),
    ]  # fmt: skip
    assert np.array_equal(read_image(dst / "a.png"), 255 - gradient())
    reasons = {p.name: r for p, r in report.skipped}
    assert set(reasons) == {"zero.png", "text.jpg", "trunc.jpg"}
    assert "empty file" in reasons["zero.png"] and "not an image" in reasons["text.jpg"]
    assert "truncated" in reasons["trunc.jpg"]
    summary = report.summary()
    assert "3 image(s) written, 3 skipped" in summary and all(n in summary for n in reasons)
    assert snapshot(src) == before  # input untouched: same files, sizes, mtimes

    again = map_folder(src, dst, lambda img: img, progress=False)  # outputs exist now
    assert not again.done and sum(r == "output exists" for _, r in again.skipped) == 3
    forced = map_folder(src, dst, lambda img: img, overwrite=True, progress=False)
    assert len(forced.done) == 3 and np.array_equal(read_image(dst / "a.png"), gradient())
    assert snapshot(src) == before


def test_map_folder_refuses_output_inside_input(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_image(src / "a.png", gradient())
    for out in (src, src / "out", tmp_path / "in" / ".." / "in" / "x"):
        with pytest.raises(ColorkitError, match="must not be the input folder or inside it"):
            map_folder(src, out, lambda img: img, progress=False)
    assert [p.name for p in src.iterdir()] == ["a.png"]


def test_map_folder_fn_errors(tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", gradient())
    write_image(src / "b.png", gradient(8, 8))

    def picky(img):
        if img.shape[0] == 6:
            raise ColorkitError("too small for this model")
        return img

    report = map_folder(src, tmp_path / "out", picky, progress=False)
    assert report.skipped == [(src / "a.png", "too small for this model")]
    assert [i.name for i, _ in report.done] == ["b.png"]

    def broken(img):
        raise ValueError("a bug, not a bad file")

    with pytest.raises(ValueError, match="a bug"):
        map_folder(src, tmp_path / "out2", broken, progress=False)


def test_map_folder_output_name_collision(tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", gradient())
    write_image(src / "a.bmp", gradient())
    report = map_folder(src, tmp_path / "out", lambda img: img, progress=False)
    assert len(report.done) == 1 and len(report.skipped) == 1 and "already used" in report.skipped[0][1]
