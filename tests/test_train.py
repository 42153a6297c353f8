"""colorkit.train: every config in its quick budget, exact kill-and-resume, checkpoints, configs, export.

All runs are tiny (U-Net base 8, 32-64 px crops, a few steps) and write only into tmp_path
(``out=``, and ``COLORKIT_DATA`` through the ``isolated_data`` fixture).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch.utils.data import Dataset

from colorkit import checkpoint, methods
from colorkit import train as T
from colorkit.errors import ColorkitError
from colorkit.methods.base import match_size
from colorkit.paths import CONFIGS_DIR

from conftest import run_then_sigkill

pytestmark = pytest.mark.usefixtures("isolated_data")

CONFIGS = ("reg_l2", "reg_l1", "cls261", "cls261_rebal")
# ImageNet-pretrained parts (the GAN configs have their own tests, tests/test_gan.py)
OTHER_CONFIGS = sorted({p.stem for p in CONFIGS_DIR.glob("*.yaml") if not p.stem.startswith("gan_")} - set(CONFIGS))


def tiny(method: str = "regression", steps: int = 8, **over) -> dict:
    """A small config dict: 32 px crops, U-Net base 8, checkpoint every 2 steps."""
    head = {"head": "logits", "out_stride": 4} if method == "classification" else {"head": "ab", "out_stride": 2}
    cfg = {
        "name": "tiny",
        "seed": 0,
        "method": method,
        "data": {"size": 32, "min_crop": 24, "max_crop": 64},
        "model": {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, **head},
        "loss": {"kind": "ce" if method == "classification" else "l2"},
        "optim": {"lr": 1.0e-3},
        "schedule": {"kind": "cosine", "warmup": 2, "min_lr": 0.1},
        "train": {"steps": steps, "batch": 4, "ckpt_every": 2, "log_every": 1},
        "eval": {"samples": False, "val_batches": 1},
    }
    return T.merge(cfg, over)


def losses(ck) -> list[float]:
    return [r["loss"] for r in T.read_log(ck)]


def assert_same_state(a: dict, b: dict, atol: float = 1e-6) -> None:
    """Same weights (every network) and the same Adam moments."""
    for name in a["models"]:
        for k, v in a["models"][name].items():
            w = b["models"][name][k]
            assert v.shape == w.shape and torch.allclose(v.float(), w.float(), atol=atol, rtol=0), (name, k)
    assert a["optims"].keys() == b["optims"].keys()
    for name in a["optims"]:
        sa, sb = a["optims"][name]["state"], b["optims"][name]["state"]
        assert sa.keys() == sb.keys()
        for i in sa:
            for k in ("exp_avg", "exp_avg_sq", "step"):
                assert torch.allclose(sa[i][k].float(), sb[i][k].float(), atol=atol, rtol=0), (name, i, k)


# --- every config, quick budget --------------------------------------------------------------------


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_trains_in_quick_profile(name, photos, tmp_path):
    cfg = T.load_config(name, "quick")
    assert cfg["model"]["base"] == 8 and cfg["eval"]["samples"] is False  # the budget is merged over the file
    path = T.train(CONFIGS_DIR / f"{name}.yaml", profile="quick", data=photos, out=tmp_path / "run",
                   device="cpu", progress=False)
    assert path == tmp_path / "run" / "checkpoint.pt"
    ck = torch.load(path, map_location="cpu", weights_only=True)  # plain tensors and containers only
    assert ck["step"] == cfg["train"]["steps"] and ck["profile"] == "quick" and ck["name"] == name
    assert ck["method"] == "supervised" and ck["phase"] == "train" and ck["world_size"] == 1
    rows = T.read_log(ck)
    assert [r["step"] for r in rows] == list(range(1, cfg["train"]["steps"] + 1))
    assert all(math.isfinite(r["loss"]) and r["loss"] > 0 for r in rows)
    assert math.isfinite(ck["eval"]["val_loss"]) and ck["eval"]["step"] == cfg["train"]["steps"]
    from colorkit.data import load_manifest

    assert ck["manifest_hash"] == load_manifest(from_dir=photos).hash
    assert ck["params"]["net"] == sum(v.numel() for k, v in ck["models"]["net"].items()
                                      if not k.endswith(("running_mean", "running_var", "num_batches_tracked", "bins")))
    written = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert written == ["checkpoint.pt", "config.yaml", "log.csv"]
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["train"]["steps"] == cfg["train"]["steps"]


# --- kill and resume ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reg_l2", "cls261_rebal"])
def test_stop_and_resume_equals_uninterrupted(name, photos, tmp_path):
    steps = T.load_config(name, "quick")["train"]["steps"]
    kw = dict(profile="quick", data=photos, device="cpu", progress=False)
    full = checkpoint.load(T.train(name, out=tmp_path / "a", **kw))
    T.train(name, out=tmp_path / "b", stop_at=3, **kw)  # as if killed right after the checkpoint at step 3
    cut = checkpoint.load(tmp_path / "b" / "checkpoint.pt")
    assert cut["step"] == 3 and len(T.read_log(cut)) == 3
    resumed = checkpoint.load(T.train(name, out=tmp_path / "b", resume=True, **kw))
    assert resumed["step"] == full["step"] == steps
    assert losses(resumed) == losses(full)
    assert_same_state(full, resumed, atol=0)
    assert resumed["eval"]["val_loss"] == pytest.approx(full["eval"]["val_loss"], abs=1e-6)
    assert [r["step"] for r in T.read_log(resumed)] == list(range(1, steps + 1))


class Noisy(methods.Supervised):
    """A method that draws from torch's global RNG during the step (as GAN label noise does)."""

    name = "noisy"

    def step(self, batch, nets, ctx):
        L, ab = batch["L"], batch["ab"]
        noise = torch.randn_like(L)
        pred = nets["net"](L + noise)
        loss = ((pred - match_size(ab, pred)) ** 2).mean()
        ctx.update(loss)
        return {"loss": loss.item(), "noise": float(noise.mean())}


def test_resume_restores_the_global_rng_for_custom_methods(photos, tmp_path, monkeypatch):
    monkeypatch.setitem(methods.METHODS, "noisy", Noisy)
    cfg = tiny("noisy")
    kw = dict(data=photos, device="cpu", progress=False)
    full = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "a", **kw))
    T.train(cfg, "quick", out=tmp_path / "b", stop_at=2, **kw)
    T.train(cfg, "quick", out=tmp_path / "b", stop_at=5, resume=True, **kw)  # stops between checkpoints
    resumed = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "b", resume=True, **kw))
    assert [r["noise"] for r in T.read_log(resumed)] == [r["noise"] for r in T.read_log(full)]
    assert losses(resumed) == losses(full)
    assert_same_state(full, resumed, atol=0)


def test_a_new_method_runs_in_the_one_loop(photos, tmp_path, monkeypatch):
    seen = []

    class Mine(methods.Supervised):
        name = "mine"

        def setup(self, nets, ctx, train_set):
            super().setup(nets, ctx, train_set)
            ctx.extra["setup"] = len(train_set)

        def step(self, batch, nets, ctx):
            assert ctx.extra["setup"] > 0 and set(nets) == {"net"} and ctx.trains("net")
            seen.append((ctx.step, {k: tuple(v.shape) for k, v in batch.items()}))
            return super().step(batch, nets, ctx)

    monkeypatch.setitem(methods.METHODS, "mine", Mine)
    ck = checkpoint.load(T.train(tiny("mine", steps=3), "quick", out=tmp_path / "r", data=photos,
                                 device="cpu", progress=False))
    shapes = {"L": (4, 1, 32, 32), "ab": (4, 2, 32, 32)}
    assert seen == [(0, shapes), (1, shapes), (2, shapes)]
    assert ck["method"] == "mine" and math.isfinite(ck["eval"]["val_loss"])


KILL_STEPS = 80


def test_sigkill_then_resume_loses_nothing_before_the_checkpoint(photos, tmp_path, monkeypatch, isolated_data):
    cfg = tiny(steps=KILL_STEPS, train={"ckpt_every": 4, "log_every": 2})
    cfg_path = tmp_path / "kill.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "killed"
    env = {**os.environ, "COLORKIT_DATA": str(isolated_data), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "colorkit.cli", "train", str(cfg_path), "--profile", "quick", "--data",
           str(photos), "--out", str(out), "--device", "cpu"]
    run_then_sigkill(cmd, env, lambda: (out / "checkpoint.pt").exists(), "no checkpoint")
    killed = checkpoint.load(out / "checkpoint.pt")  # atomic writes: never a half-written checkpoint
    k = killed["step"]
    assert k % 4 == 0 and 4 <= k < KILL_STEPS, k

    taken = []
    real_step = methods.Supervised.step
    monkeypatch.setattr(methods.Supervised, "step", lambda self, b, n, ctx: (taken.append(ctx.step),
                                                                            real_step(self, b, n, ctx))[1])
    resumed = checkpoint.load(T.train(cfg_path, "quick", resume=True, data=photos, out=out, device="cpu",
                                        progress=False))
    assert taken == list(range(k, KILL_STEPS))  # continued right after the last checkpoint
    assert resumed["step"] == KILL_STEPS
    rows = T.read_log(resumed)
    assert [r["step"] for r in rows] == list(range(2, KILL_STEPS + 1, 2))  # no gap, no repeat
    assert rows[: k // 2] == T.read_log(killed)  # everything up to the checkpoint is kept as it was
    monkeypatch.setattr(methods.Supervised, "step", real_step)
    full = checkpoint.load(T.train(cfg_path, "quick", data=photos, out=tmp_path / "whole", device="cpu",
                                     progress=False))
    assert losses(resumed) == pytest.approx(losses(full), rel=1e-5)
    assert_same_state(full, resumed, atol=1e-5)


def test_finished_run_is_not_trained_again(photos, tmp_path, monkeypatch, capsys):
    kw = dict(data=photos, out=tmp_path / "r", device="cpu", progress=False)
    T.train(tiny(steps=2), "quick", **kw)
    monkeypatch.setattr(methods.Supervised, "step", lambda *a: pytest.fail("trained again"))
    T.train(tiny(steps=2), "quick", resume=True, export_to=tmp_path / "exp", **kw)
    assert "found a finished run" in capsys.readouterr().out
    assert (tmp_path / "exp" / "tiny.pt").is_file()


def test_resume_with_another_model_is_refused(photos, tmp_path):
    kw = dict(data=photos, out=tmp_path / "r", device="cpu", progress=False)
    T.train(tiny(steps=4), "quick", stop_at=2, **kw)
    with pytest.raises(ColorkitError, match="cannot resume: config 'model' differs"):
        T.train(tiny(steps=4, model={"base": 16}), "quick", resume=True, **kw)


def test_fresh_run_replaces_old_files(photos, tmp_path):
    kw = dict(data=photos, out=tmp_path / "r", device="cpu", progress=False)
    T.train(tiny(steps=4), "quick", **kw)
    ck = checkpoint.load(T.train(tiny(steps=4), "quick", stop_at=2, **kw))  # resume=False: start afresh
    assert ck["step"] == 2 and len(T.read_log(ck)) == 2
    assert (tmp_path / "r" / "log.csv").read_text().count("\n") == 3  # header + 2 rows


def test_ready_dataset_as_data(tmp_path):
    class Pairs(Dataset):
        manifest_hash = "my-pairs-v1"

        def __len__(self):
            return 6

        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            return {"L": torch.rand(1, 32, 32, generator=g) * 100, "ab": torch.randn(2, 32, 32, generator=g) * 20}

    ck = checkpoint.load(T.train(tiny(steps=3), "quick", data=Pairs(), out=tmp_path / "r", device="cpu",
                                 progress=False))
    assert ck["step"] == 3 and ck["manifest_hash"] == "my-pairs-v1" and "val_loss" not in ck["eval"]


# --- checkpoints -------------------------------------------------------------------------------------


@pytest.fixture()
def trained(photos, tmp_path) -> Path:
    return T.train(tiny(steps=2), "quick", data=photos, out=tmp_path / "run", device="cpu", progress=False)


def test_truncated_or_foreign_checkpoints_give_clear_errors(trained, tmp_path, photos):
    data = trained.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ColorkitError, match="not a readable checkpoint") as e:
        checkpoint.load(cut)
    assert e.value.path == str(cut)
    with pytest.raises(ColorkitError, match="no such checkpoint"):
        checkpoint.load(tmp_path / "missing.pt")
    text = tmp_path / "text.pt"
    text.write_text("hello")
    with pytest.raises(ColorkitError, match="not a readable checkpoint"):
        checkpoint.load(text)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ColorkitError, match="not a colorkit checkpoint"):
        checkpoint.load(other)
    pickled = tmp_path / "pickled.pt"
    torch.save({"models": {}, "config": {}, "evil": Path("x")}, pickled)  # not allowed by weights_only
    with pytest.raises(ColorkitError, match="not a readable checkpoint"):
        checkpoint.load(pickled)
    # a run whose checkpoint was cut short cannot silently restart or resume
    trained.write_bytes(data[:100])
    with pytest.raises(ColorkitError, match="not a readable checkpoint"):
        T.train(tiny(steps=2), "quick", resume=True, data=photos, out=trained.parent, device="cpu",
                progress=False)


def test_save_atomic_never_leaves_half_files(tmp_path):
    p = tmp_path / "ck.pt"
    checkpoint.save({"a": torch.ones(2)}, p)
    with pytest.raises(AttributeError, match="Can't pickle"):
        checkpoint.save({"a": torch.zeros(2), "bad": lambda: 0}, p)  # pickling fails mid-write
    assert torch.equal(torch.load(p, weights_only=True)["a"], torch.ones(2))
    assert [x.name for x in tmp_path.iterdir()] == ["ck.pt"]
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # ordinary permissions, not mkstemp's 0600


def test_rng_state_round_trip():
    np.random.seed(3)
    torch.manual_seed(3)
    import random

    random.seed(3)
    random.gauss(0, 1)  # leaves a cached gauss value in the state
    s = T.rng_state()
    expect = (torch.rand(2), np.random.rand(2), random.random(), random.gauss(0, 1))
    torch.rand(5), np.random.rand(5), random.random()
    T.set_rng_state(s)
    got = (torch.rand(2), np.random.rand(2), random.random(), random.gauss(0, 1))
    assert torch.equal(expect[0], got[0]) and np.array_equal(expect[1], got[1]) and expect[2:] == got[2:]


# --- export ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["regression", "classification"])
def test_export_is_fp16_and_loads_in_colorizer(method, photos, tmp_path):
    from colorkit.infer import Colorizer

    exp = tmp_path / "exp"
    ckpt = T.train(tiny(method, steps=2), "quick", data=photos, out=tmp_path / "run", export_to=exp,
                   device="cpu", progress=False)
    assert sorted(p.name for p in exp.iterdir()) == ["tiny.json", "tiny.log.csv", "tiny.pt"]
    ex = torch.load(exp / "tiny.pt", weights_only=True)
    assert ex["format"] == "colorkit-model-1" and ex["step"] == 2 and "optims" not in ex and "rng" not in ex
    floats = [v for v in ex["models"]["net"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert (exp / "tiny.log.csv").read_text().splitlines()[0].startswith("step,loss,lr,img_s,wall")
    assert '"step": 2' in (exp / "tiny.json").read_text()
    col = Colorizer(exp / "tiny.pt", device="cpu")
    assert col.kind == ("logits" if method == "classification" else "ab") and col.name == "tiny"
    grey = np.random.default_rng(0).integers(0, 256, (40, 56), dtype=np.uint8)
    out = col.colorize(grey, size=32)
    assert out.shape == (40, 56, 3) and out.dtype == np.uint8
    full = Colorizer(ckpt, device="cpu").colorize(grey, size=32)  # the fp32 training checkpoint
    assert np.abs(out.astype(int) - full.astype(int)).max() <= 3


def test_export_only_when_the_run_is_finished(photos, tmp_path):
    exp = tmp_path / "exp"
    kw = dict(data=photos, out=tmp_path / "run", export_to=exp, device="cpu", progress=False)
    T.train(tiny(steps=4), "quick", stop_at=3, **kw)
    assert not exp.exists()
    T.train(tiny(steps=4), "quick", stop_at=3, resume=True, **kw)  # nothing left to do below stop_at
    assert not exp.exists()
    T.train(tiny(steps=4), "quick", resume=True, **kw)
    assert torch.load(exp / "tiny.pt", weights_only=True)["step"] == 4


@pytest.mark.parametrize("name", OTHER_CONFIGS)
def test_every_other_config_trains_in_quick_profile(name, photos, tmp_path):
    full, cfg = T.load_config(name, "full"), T.load_config(name, "quick")
    assert cfg["train"]["steps"] < full["train"]["steps"] and cfg["data"]["size"] < full["data"]["size"]
    assert full["model"]["head"] == cfg["model"]["head"] and full["model"]["arch"] == cfg["model"]["arch"]
    path = T.train(CONFIGS_DIR / f"{name}.yaml", profile="quick", data=photos, out=tmp_path / "run",
                   device="cpu", progress=False)
    ck = torch.load(path, map_location="cpu", weights_only=True)
    assert ck["step"] == cfg["train"]["steps"] and ck["name"] == name
    assert all(math.isfinite(r["loss"]) for r in T.read_log(ck))
    frozen = {"pretrained_unet": "encoder.", "koalarization": "classifier."}[cfg["model"]["arch"]]
    finetuned = cfg["model"].get("finetune_encoder", False)
    assert finetuned or not any(k.startswith(frozen) for k in ck["models"]["net"])  # frozen weights never saved


# --- configs -----------------------------------------------------------------------------------------


def test_config_files_and_budgets():
    for name in CONFIGS:
        full, quick = T.load_config(name, "full"), T.load_config(CONFIGS_DIR / f"{name}.yaml", "quick")
        assert full["name"] == quick["name"] == name and full["profile"] == "full"
        assert quick["train"]["steps"] < full["train"]["steps"] and quick["model"]["base"] < full["model"]["base"]
        assert full["model"]["head"] == quick["model"]["head"]
        assert "budgets" not in full


def _yaml(tmp_path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_bad_configs_give_clear_errors(tmp_path):
    with pytest.raises(ColorkitError, match="no such config") as e:
        T.load_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(e.value)
    with pytest.raises(ColorkitError, match="no such config"):
        T.load_config("no_such_config_name")
    with pytest.raises(ColorkitError, match="must be a YAML mapping"):
        T.load_config(_yaml(tmp_path, "- a\n- b\n"))
    with pytest.raises(ColorkitError, match="must be a YAML mapping"):
        T.load_config(_yaml(tmp_path, ""))
    with pytest.raises(ColorkitError, match="not valid YAML"):
        T.load_config(_yaml(tmp_path, "train: {steps: [1, 2\n"))
    with pytest.raises(ColorkitError, match="needs a positive integer steps, got 0"):
        T.load_config(tiny(train={"steps": 0}))
    with pytest.raises(ColorkitError, match="train.batch must be a positive integer"):
        T.load_config(_yaml(tmp_path, "train: {batch: 2.5}\n"))
    with pytest.raises(ColorkitError, match="multiple of train.log_every"):
        T.load_config(tiny(train={"ckpt_every": 3, "log_every": 2}))
    with pytest.raises(ColorkitError, match="unknown method 'nope'"):
        T.load_config(tiny("nope"))
    with pytest.raises(ColorkitError, match="training profile"):
        T.load_config(tiny(), "pretrained")


def test_bad_training_settings_fail_before_training(photos, tmp_path):
    kw = dict(data=photos, device="cpu", progress=False)
    with pytest.raises(ColorkitError, match="unknown method"):
        T.train(tiny("nope"), "quick", out=tmp_path / "a", **kw)
    assert not (tmp_path / "a").exists()
    with pytest.raises(ColorkitError, match="regression head needs loss.kind in"):
        T.train(tiny(loss={"kind": "l3"}), "quick", out=tmp_path / "b", **kw)
    with pytest.raises(ColorkitError, match="schedule.kind"):
        T.train(tiny(schedule={"kind": "zigzag"}), "quick", out=tmp_path / "c", **kw)
    with pytest.raises(ColorkitError, match=r"not built yet: run `colorkit data build --from .*nowhere"):
        T.train(tiny(), "quick", out=tmp_path / "d", data=tmp_path / "nowhere", device="cpu", progress=False)


def test_lr_schedule():
    cos = {"kind": "cosine", "warmup": 4, "min_lr": 0.1}
    assert [T.lr_factor(s, cos, 100) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert T.lr_factor(4, cos, 100) == pytest.approx(1.0)
    assert T.lr_factor(100, cos, 100) == pytest.approx(0.1) and T.lr_factor(500, cos, 100) == pytest.approx(0.1)
    assert T.lr_factor(52, cos, 100) == pytest.approx(0.55)
    step = {"kind": "step", "every": 10, "gamma": 0.5}
    assert [T.lr_factor(s, step, 100) for s in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    assert T.lr_factor(7, {"kind": "constant"}, 10) == 1.0


def test_evaluation_numbers_go_into_the_log(photos, tmp_path):
    seen = []

    def score(nets, cfg, device):
        seen.append(nets["net"].training)
        return {"psnr": 20.0 + len(seen), "note": "not a number"}

    cfg = tiny(steps=4, eval={"every": 2, "samples": True})
    ck = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "r", data=photos, device="cpu", progress=False,
                                 score=score))
    rows = T.read_log(ck)
    assert [r.get("eval_psnr") for r in rows] == [None, 21.0, None, 22.0] and seen == [False, False]
    assert all("eval_note" not in r for r in rows) and ck["eval"]["psnr"] == 22.0 and "eval_val_loss" in rows[1]
    header = (tmp_path / "r" / "log.csv").read_text().splitlines()[0].split(",")
    assert "eval_psnr" in header and "eval_val_loss" in header


@pytest.mark.parametrize("name", ["pretrained_unet_l1", "pretrained_unet_cls_rebal", "koalarization"])
def test_transfer_learning_configs_train_in_quick_profile(name, photos, tmp_path):
    """The ImageNet-encoder configs run every phase; a frozen encoder is not trained in phase one."""
    cfg = T.load_config(name, "quick")
    ck = checkpoint.load(T.train(name, "quick", data=photos, out=tmp_path / "r", device="cpu", progress=False))
    rows = T.read_log(ck)
    assert ck["step"] == cfg["train"]["steps"] and all(math.isfinite(r["loss"]) for r in rows)
    assert [r.get("phase", "train") for r in rows] == [p["name"] for p in cfg["phases"] for _ in range(p["steps"])]
    assert math.isfinite(ck["eval"]["val_loss"])
