"""colorkit.infer: full-resolution L, grey inputs, the cached distribution, batches, and the colorize command."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from colorkit import cli
from colorkit.color import image_to_tensor, rgb_to_L, rgb_to_lab
from colorkit.data import build_photo_set
from colorkit.errors import ColorkitError
from colorkit.infer import Colorizer
from colorkit.models import build_model
from colorkit.train import load_config, train

pytestmark = pytest.mark.usefixtures("isolated_data")

QUICK_MODELS = {  # the configs' quick-budget networks
    "ab": {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, "head": "ab", "out_stride": 2, "activation": "tanh"},
    "logits": {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, "head": "logits", "out_stride": 4,
               "bins_step": 10},
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, image_folder) -> dict:
    """Quick trainings of reg_l2 and cls261 on generated photos, exported: {"ab": path, "logits": path}."""
    root = tmp_path_factory.mktemp("infer_models")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COLORKIT_DATA", str(root / "data"))
            build_photo_set(from_dir=image_folder, progress=False)
            for name in ("reg_l2", "cls261"):
                train(name, profile="quick", data=image_folder, out=root / "runs" / name, export_to=root / "exp",
                      device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    return {"ab": root / "exp" / "reg_l2.pt", "logits": root / "exp" / "cls261.pt"}


def colorizer(kind: str, source: str, exported: dict) -> Colorizer:
    if source == "trained":
        return Colorizer(exported[kind], device="cpu")
    torch.manual_seed(0)
    model = build_model(QUICK_MODELS[kind]).eval()
    return Colorizer.from_model(model, {"name": f"random_{kind}"}, device="cpu")


def textured(h: int = 97, w: int = 203, seed: int = 0) -> np.ndarray:
    """Smooth colours plus a one-pixel checkerboard: detail that only a full-resolution L keeps."""
    rng = np.random.default_rng(seed)
    small = rng.integers(30, 226, (4, 6, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)).astype(int)
    checker = ((np.indices((h, w)).sum(0) % 2) * 2 - 1)[..., None] * 25
    return np.clip(base + checker, 0, 255).astype(np.uint8)


def L_of(image: np.ndarray) -> torch.Tensor:
    return rgb_to_L(image_to_tensor(image, dtype=torch.float64))[0, 0]


def L_of_output(image: np.ndarray) -> torch.Tensor:
    return rgb_to_lab(image_to_tensor(image, dtype=torch.float64))[0, 0]


# --- full-resolution L ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["random", "trained"])
@pytest.mark.parametrize("kind", ["ab", "logits"])
def test_output_keeps_the_full_resolution_L(kind, source, exported):
    col = colorizer(kind, source, exported)
    assert col.kind == kind
    img = textured()
    out = col.colorize(img, size=64)
    assert out.shape == (97, 203, 3) and out.dtype == np.uint8
    diff = (L_of_output(out) - L_of(img)).abs()
    assert diff.max() < 1.0 and diff.mean() < 0.3
    # the working size is 64 px: an L that went through it would have lost the checkerboard
    small = torch.nn.functional.interpolate(L_of(img)[None, None], size=(64, 64), mode="bilinear", antialias=True)
    back = torch.nn.functional.interpolate(small, size=(97, 203), mode="bilinear")[0, 0]
    assert (back - L_of(img)).abs().mean() > 5


@pytest.mark.parametrize("kind", ["ab", "logits"])
def test_grey_input(kind, exported):
    col = colorizer(kind, "trained", exported)
    grey = textured(45, 70)[:, :, 1]
    out = col.colorize(grey, size=32)
    assert out.shape == (45, 70, 3) and out.dtype == np.uint8
    assert (L_of_output(out) - L_of(grey)).abs().max() < 1.0
    rgb_grey = np.repeat(grey[:, :, None], 3, 2)
    assert np.array_equal(col.colorize(rgb_grey, size=32), out)  # a grey RGB image is the same input
    assert np.array_equal(col.colorize(grey[:, :, None], size=32), out)  # (H, W, 1) too


# --- classification: the cached distribution --------------------------------------------------------------


def count_calls(col: Colorizer) -> list:
    calls = []
    col.model.register_forward_hook(lambda module, inputs, output: calls.append(tuple(inputs[0].shape)))
    return calls


@pytest.mark.parametrize("source", ["random", "trained"])
def test_temperature_redecodes_the_cached_distribution(source, exported):
    col = colorizer("logits", source, exported)
    calls = count_calls(col)
    img = textured(50, 70)
    warm = col.colorize(img, temperature=0.38, size=64)
    assert len(calls) == 1
    outs = [col.colorize(img, temperature=t, size=64) for t in (0.01, 0.2, 1.0)]
    outs.append(col.colorize(img, size=64, method="mode"))
    outs.append(col.colorize(img, size=64, method="mean"))
    probs = col.predict_distribution(img, size=64)
    assert len(calls) == 1  # the network ran once for all of these
    assert np.array_equal(col.colorize(img, temperature=0.38, size=64), warm)
    assert probs.shape == (len(col.bins), 16, 16) and torch.allclose(probs.sum(0), torch.ones(16, 16), atol=1e-5)
    assert any(not np.array_equal(o, warm) for o in outs)
    col.colorize(img, size=96)  # another working size: another distribution
    col.colorize(textured(50, 70, seed=1), size=64)  # another image
    assert len(calls) == 3


def test_cached_and_direct_decoding_agree(exported):
    col = colorizer("logits", "trained", exported)
    img = textured(30, 50)
    for t in (0.1, 0.38, 1.0):
        direct = col.colorize_batch([img], temperature=t, size=32)[0]  # decodes the logits directly
        cached = col.colorize(img, temperature=t, size=32)
        assert np.abs(direct.astype(int) - cached.astype(int)).max() <= 1


def test_distribution_cache_is_bounded(exported):
    col = colorizer("logits", "trained", exported)
    calls = count_calls(col)
    images = [textured(20, 30, seed=s) for s in range(col.cache_size + 1)]
    for im in images:
        col.colorize(im, size=32)
    assert len(col._cache) == col.cache_size and len(calls) == col.cache_size + 1
    col.colorize(images[-1], size=32, temperature=0.9)  # still cached
    col.colorize(images[0], size=32)  # evicted: computed again
    assert len(calls) == col.cache_size + 2


def test_regression_model_has_no_distribution(exported):
    col = colorizer("ab", "trained", exported)
    with pytest.raises(ColorkitError, match="regression model"):
        col.predict_distribution(textured(20, 20))
    with pytest.raises(ColorkitError, match="no bins"):
        _ = col.bins


# --- batches, errors, loading ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ab", "logits"])
def test_batch_equals_one_by_one(kind, exported):
    col = colorizer(kind, "trained", exported)
    images = [textured(30, 40, seed=0), textured(50, 20, seed=1)[:, :, 0], textured(33, 33, seed=2)]
    batch = col.colorize_batch(images, size=32, batch_size=2)
    for im, b in zip(images, batch):
        assert b.shape == im.shape[:2] + (3,)
        assert np.abs(b.astype(int) - col.colorize(im, size=32).astype(int)).max() <= 1


def test_bad_inputs(exported):
    col = colorizer("ab", "trained", exported)
    with pytest.raises(ColorkitError, match="uint8"):
        col.colorize(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ColorkitError, match="uint8"):
        col.colorize([[0, 1], [2, 3]])
    with pytest.raises(ColorkitError, match="shape"):
        col.colorize(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(ColorkitError, match="size must be an integer from 16 to 4096"):
        col.colorize(np.zeros((8, 8, 3), np.uint8), size=8)
    with pytest.raises(ColorkitError, match="size must be an integer from 16 to 4096"):
        col.colorize(np.zeros((8, 8, 3), np.uint8), size=256.0)
    logits = colorizer("logits", "trained", exported)
    for bad in (0, -0.5, float("nan"), float("inf"), "hot"):
        with pytest.raises(ColorkitError, match="temperature must be a positive number"):
            logits.colorize(np.zeros((20, 20, 3), np.uint8), temperature=bad, size=32)
        with pytest.raises(ColorkitError, match="temperature must be a positive number"):
            logits.decode(torch.full((1, len(logits.bins), 2, 2), 1 / len(logits.bins)), temperature=bad)
    with pytest.raises(ColorkitError, match="method must be one of annealed, mean, mode"):
        logits.colorize(np.zeros((20, 20, 3), np.uint8), method="median", size=32)
    with pytest.raises(ColorkitError, match="no such checkpoint or model name"):
        Colorizer("no_such_model_anywhere")


def test_loaded_model_metadata(exported):
    col = Colorizer(exported["logits"], device="cpu")
    assert col.name == "cls261" and col.meta["step"] == load_config("cls261", "quick")["train"]["steps"]
    assert col.meta["config"]["profile"] == "quick" and not col.model.training
    assert all(p.dtype == torch.float32 for p in col.model.parameters())  # fp16 export, fp32 compute on CPU
    assert "cls261" in repr(col) and "logits" in repr(col)


# --- the colorize command ------------------------------------------------------------------------------------


def _digest(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(textured(40, 50)).save(d / "a.png")
    Image.fromarray(textured(31, 47, seed=3)[:, :, 0]).save(d / "b.jpg", quality=90)
    (d / "bad.jpg").write_text("this is text, not a JPEG")
    return d


def test_cli_writes_pngs_reports_bad_files_and_exits_nonzero(inputs, tmp_path, exported, capsys):
    before = _digest(inputs)
    out = tmp_path / "out"
    rc = cli.main(["colorize", str(inputs / "a.png"), str(inputs / "b.jpg"), str(inputs / "bad.jpg"), "-o", str(out),
                   "--model", str(exported["ab"]), "--size", "32", "--device", "cpu"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "bad.jpg" in captured.err and "not an image" in captured.err and "2 image(s) written" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for name, shape in (("a.png", (40, 50, 3)), ("b.png", (31, 47, 3))):
        with Image.open(out / name) as im:
            assert im.format == "PNG" and np.asarray(im.convert("RGB")).shape == shape
    assert _digest(inputs) == before  # inputs untouched


def test_cli_all_good_exits_zero(inputs, tmp_path, exported, capsys):
    rc = cli.main(["colorize", str(inputs / "a.png"), "-o", str(tmp_path / "o"), "--model", str(exported["logits"]),
                   "--size", "32", "--temperature", "0.2", "--device", "cpu"])
    assert rc == 0 and "1 image(s) written, 0 skipped" in capsys.readouterr().out
    assert (tmp_path / "o" / "a.png").is_file()


def test_cli_never_overwrites(inputs, tmp_path, exported, capsys):
    model = ["--model", str(exported["ab"]), "--size", "32", "--device", "cpu"]
    before = _digest(inputs)
    rc = cli.main(["colorize", str(inputs / "a.png"), "-o", str(inputs), *model])  # output would be the input
    assert rc == 1 and "never overwritten" in capsys.readouterr().err
    assert _digest(inputs) == before
    out = tmp_path / "out"
    assert cli.main(["colorize", str(inputs / "b.jpg"), "-o", str(out), *model]) == 0
    first = _digest(out)
    assert cli.main(["colorize", str(inputs / "b.jpg"), "-o", str(out), *model]) == 1  # existing output kept
    assert _digest(out) == first and "exists" in capsys.readouterr().err


def test_cli_folder_input(inputs, tmp_path, exported, capsys):
    (inputs / "sub").mkdir()
    Image.fromarray(textured(20, 24, seed=5)).save(inputs / "sub" / "c.webp")
    before = _digest(inputs)
    out = tmp_path / "out"
    rc = cli.main(["colorize", str(inputs), "-o", str(out), "--model", str(exported["ab"]), "--size", "32",
                   "--device", "cpu"])
    assert rc == 1 and "bad.jpg" in capsys.readouterr().err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["a.png", "b.png", "sub/c.png"]
    assert _digest(inputs) == before
    rc = cli.main(["colorize", str(inputs), "-o", str(inputs / "sub"), "--model", str(exported["ab"]),
                   "--size", "32", "--device", "cpu"])  # output inside the input folder: refused
    assert rc == 1 and _digest(inputs) == before


def test_cli_unknown_model(inputs, tmp_path, capsys):
    rc = cli.main(["colorize", str(inputs / "a.png"), "-o", str(tmp_path / "o"), "--model",
                   str(tmp_path / "missing.pt"), "--device", "cpu"])
    assert rc == 1 and "no such checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flags, message", [
    (["--temperature", "0"], "temperature must be a positive number"),
    (["--temperature", "-1"], "temperature must be a positive number"),
    (["--size", "8"], "size must be an integer from 16 to 4096"),
])
def test_cli_bad_settings_fail_once_before_any_file(inputs, tmp_path, exported, capsys, flags, message):
    rc = cli.main(["colorize", str(inputs / "a.png"), str(inputs / "b.jpg"), "-o", str(tmp_path / "o"),
                   "--model", str(exported["logits"]), "--device", "cpu", *flags])
    err = capsys.readouterr().err
    assert rc == 1 and err.count(message) == 1 and "error:" in err
    assert not (tmp_path / "o").exists()


def test_cli_lists_only_commands_that_exist(capsys):
    assert cli.main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name, (module, _) in cli.COMMANDS.items():
        assert name in listed
        __import__(module)  # every listed command's module imports
        assert hasattr(sys.modules[module], "add_cli") and hasattr(sys.modules[module], "run_cli")
    assert {"data", "colorize", "video", "train", "evaluate", "reproduce", "course"} <= set(cli.COMMANDS)
