"""colorkit.data.crops: {L, ab} / {Y, UV} crops, their ranges and round trip, determinism through SeededItems,
caches, bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from colorkit.color import lab_to_rgb, merge_lab
from colorkit.data import crops as ds_mod
from colorkit.data.crops import ColorCrops, ImageFolderCrops, load_shrunk
from colorkit.errors import ColorkitError
from colorkit.train import SeededItems, StreamSampler

pytestmark = pytest.mark.usefixtures("isolated_data")


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    small = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


@pytest.fixture()
def photos(tmp_path):
    """Five photos of different shapes, one smaller than the crop size."""
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate([(72, 80), (90, 60), (64, 64), (40, 50), (100, 130)]):
        p = tmp_path / f"p{i}.png"
        Image.fromarray(smooth_image(rng, h, w)).save(p)
        paths.append(p)
    return paths


def _batch(dataset, seed: int, start: int = 0, batch: int = 4):
    loader = DataLoader(SeededItems(dataset, seed), batch_size=batch, sampler=StreamSampler(len(dataset), seed, start))
    b = next(iter(loader))
    return b["L"], b["ab"]


@pytest.mark.parametrize("train", [True, False])
def test_items_shapes_dtypes_ranges(photos, train):
    ds = ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=train)
    assert len(ds) == len(photos)
    for i in range(len(ds)):
        item = ds[i]
        L, ab = item['L'], item['ab']
        assert L.shape == (1, 32, 32) and ab.shape == (2, 32, 32)
        assert L.dtype == torch.float32 and ab.dtype == torch.float32
        assert L.min() >= 0 and L.max() <= 100
        assert ab.abs().max() <= 128 and ab.abs().max() > 1  # coloured photos


@pytest.mark.parametrize("train", [True, False])
def test_L_and_ab_convert_back_to_the_crop(photos, train):
    ds = ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=train)
    for i in range(len(ds)):
        torch.manual_seed(i)
        crop = ds.crop(i)  # (1, 3, 32, 32) sRGB in [0, 1]
        torch.manual_seed(i)
        item = ds[i]
        L, ab = item['L'], item['ab']
        rgb = lab_to_rgb(merge_lab(L[None], ab[None]))
        assert crop.shape == (1, 3, 32, 32)
        assert torch.allclose(rgb, crop, atol=2e-4)


def test_val_items_are_fixed_central_crops(photos):
    ds = ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=False)
    torch.manual_seed(1)
    first = [ds[i] for i in range(len(ds))]
    torch.manual_seed(2)
    torch.rand(100)
    second = [ds[i] for i in range(len(ds))]
    for a, b in zip(first, second):
        assert torch.equal(a["L"], b["L"]) and torch.equal(a["ab"], b["ab"])
    # the central max_crop square of the (80 x 72) first photo, resized to 32
    im = np.asarray(Image.open(photos[0]).convert("RGB"))
    centre = torch.from_numpy(im[6:66, 10:70].copy()).permute(2, 0, 1)[None].float() / 255
    expect = torch.nn.functional.interpolate(centre, size=(32, 32), mode="area")
    assert torch.allclose(ds.crop(0), expect, atol=1e-6)


def test_train_items_vary_with_the_rng(photos):
    ds = ColorCrops(photos, size=32, min_crop=16, max_crop=60, train=True)
    crops = []
    for s in range(6):
        torch.manual_seed(s)
        crops.append(ds.crop(4))
    assert len({c.numpy().tobytes() for c in crops}) == 6


def test_seeded_items_same_seed_same_batch(photos):
    ds = ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=True)
    L1, ab1 = _batch(ds, seed=7)
    torch.manual_seed(123)  # the caller's RNG state does not matter
    L2, ab2 = _batch(ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=True), seed=7)
    assert torch.equal(L1, L2) and torch.equal(ab1, ab2)
    L3, ab3 = _batch(ds, seed=8)
    assert not torch.equal(ab1, ab3)
    L4, _ = _batch(ds, seed=7, start=4)  # later stream positions: other items and crops
    assert not torch.equal(L1, L4)


def test_seeded_items_leave_the_callers_rng_alone(photos):
    items = SeededItems(ColorCrops(photos, size=16, min_crop=16, max_crop=40), seed=0)
    torch.manual_seed(5)
    np.random.seed(5)
    expect_t, expect_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(5)
    np.random.seed(5)
    a = items[(2, 10)]
    got_t, got_np = torch.rand(3), np.random.rand(3)
    assert torch.equal(expect_t, got_t) and np.array_equal(expect_np, got_np)
    b = items[(2, 10)]
    c = items[(2, 11)]
    assert torch.equal(a["ab"], b["ab"]) and not torch.equal(a["ab"], c["ab"])


def test_stream_sampler_resumes_exactly():
    full = [x for _, x in zip(range(37), StreamSampler(10, seed=3))]
    tail = [x for _, x in zip(range(20), StreamSampler(10, seed=3, start=17))]
    assert tail == full[17:]
    assert [p for _, p in full] == list(range(37))
    for e in range(3):  # every epoch is a permutation
        assert sorted(i for i, p in full[e * 10 : e * 10 + 10]) == list(range(10))


def test_disk_cache_is_reused(photos, isolated_data, monkeypatch):
    big = photos[4]  # 130 x 100
    first = load_shrunk(big, side=64)
    assert max(first.shape[:2]) == 64 and first.dtype == np.uint8
    cached = list((isolated_data / "cache" / "side64").glob("*.npy"))
    assert len(cached) == 1

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    real_read = ds_mod.read_image
    monkeypatch.setattr(ds_mod, "read_image", no_decoding)
    again = ColorCrops([big], size=16, min_crop=16, max_crop=32, cache_side=64).image(0)  # a new dataset
    assert np.array_equal(again, first)
    monkeypatch.setattr(ds_mod, "read_image", real_read)
    cached[0].write_bytes(b"broken cache file")  # rebuilt, not an error
    assert np.array_equal(load_shrunk(big, side=64), first)
    assert np.load(cached[0]).shape == first.shape


def test_disk_cache_follows_file_changes_and_can_be_off(photos, isolated_data, tmp_path):
    p = tmp_path / "changing.png"
    shutil.copy(photos[4], p)
    a = load_shrunk(p, side=64)
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(p)
    b = load_shrunk(p, side=64)
    assert b.shape == (64, 64, 3) and b.max() == 0 and a.shape != b.shape
    n = len(list((isolated_data / "cache").rglob("*.npy")))
    load_shrunk(photos[0], side=64, disk_cache=False)
    ColorCrops([photos[1]], size=16, min_crop=16, max_crop=16, disk_cache=False)[0]
    assert len(list((isolated_data / "cache").rglob("*.npy"))) == n
    assert not list((isolated_data / "cache").rglob("*.tmp*"))


def test_images_decoded_once_per_dataset(photos, monkeypatch):
    calls = []
    real = ds_mod.load_shrunk
    monkeypatch.setattr(ds_mod, "load_shrunk", lambda *a, **k: (calls.append(a[0]), real(*a, **k))[1])
    ds = ColorCrops(photos[:2], size=16, min_crop=16, max_crop=32)
    for _ in range(3):
        ds[0], ds[1]
    assert len(calls) == 2


@pytest.mark.parametrize("kind", ["text", "truncated", "missing", "directory", "empty"])
def test_bad_files_name_the_file(tmp_path, photos, kind):
    bad = tmp_path / f"bad_{kind}.jpg"
    if kind == "text":
        bad.write_text("not an image")
    elif kind == "truncated":
        data = photos[4].read_bytes()
        bad = tmp_path / "bad_truncated.png"
        bad.write_bytes(data[: len(data) // 2])
    elif kind == "directory":
        bad.mkdir()
    elif kind == "empty":
        bad.write_bytes(b"")
    ds = ColorCrops([photos[0], bad], size=16, min_crop=16, max_crop=32)
    assert ds[0]["L"].shape == (1, 16, 16)
    with pytest.raises(ColorkitError) as e:
        ds[1]
    assert e.value.path == str(bad) and bad.name in str(e.value)
    with pytest.raises(ColorkitError):  # through the loader too
        next(iter(DataLoader(SeededItems(ds, 0), batch_size=2, sampler=StreamSampler(2, 0))))


def test_bad_arguments(photos, tmp_path):
    with pytest.raises(ColorkitError, match="no photos"):
        ColorCrops([])
    with pytest.raises(ColorkitError, match="size >= 8"):
        ColorCrops(photos, size=4)
    with pytest.raises(ColorkitError, match="min_crop <= max_crop"):
        ColorCrops(photos, size=16, min_crop=40, max_crop=20)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ColorkitError, match="no images found"):
        ImageFolderCrops(tmp_path / "empty")


def test_image_folder_crops(image_folder):
    ds = ImageFolderCrops(image_folder, size=16, min_crop=16, max_crop=48, train=False)
    assert len(ds) == 12
    item = ds[11]
    L, ab = item['L'], item['ab']
    assert L.shape == (1, 16, 16) and ab.shape == (2, 16, 16)


def test_yuv_items_and_their_round_trip(photos):
    from colorkit.color import merge_space

    lab, yuv = (ColorCrops(photos, size=32, min_crop=24, max_crop=60, train=False, space=s) for s in ("lab", "yuv"))
    for i in range(len(photos)):
        item = yuv[i]
        assert set(item) == {"Y", "UV"} and item["Y"].shape == (1, 32, 32) and item["UV"].shape == (2, 32, 32)
        assert 0 <= item["Y"].min() and item["Y"].max() <= 1 and item["UV"].abs().max() < 0.62
        crop = lab.crop(i)  # the same fixed crop in both spaces
        back = merge_space(item["Y"][None], item["UV"][None], "yuv")
        assert torch.allclose(back, crop, atol=1e-5)
    with pytest.raises(ColorkitError, match="chroma space must be one of"):
        ColorCrops(photos, space="hsv")


def test_stream_sampler_shards_each_global_batch():
    one = [p for _, (_, p) in zip(range(24), StreamSampler(10, seed=3, start=8, batch=8))]
    ranks = [[p for _, (_, p) in zip(range(12), StreamSampler(10, seed=3, start=8, batch=8, rank=r, world=2))]
             for r in (0, 1)]
    assert ranks[0] == [8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27] and sorted(ranks[0] + ranks[1]) == one
    with pytest.raises(ColorkitError, match="must divide evenly over 3 processes"):
        StreamSampler(10, seed=0, batch=8, world=3)
