"""The one loop with several networks and phases: per-network optimisers, freezing, logs keyed by name,
critic steps, YUV batches, and kill-and-resume anywhere inside a two-network, three-phase run."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from colorkit import checkpoint, methods
from colorkit import train as T
from colorkit.errors import ColorkitError
from colorkit.paths import REPO_ROOT

from conftest import run_then_sigkill

pytestmark = pytest.mark.usefixtures("isolated_data")


def nogan(steps=(4, 3, 4), **over) -> dict:
    """NoGAN-shaped: generator alone (L1), then the critic alone, then both (GAN); two learning rates."""
    cfg = {
        "name": "twonets", "seed": 0, "method": "gan",
        "data": {"size": 32, "min_crop": 24, "max_crop": 64},
        "model": {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, "head": "ab", "out_stride": 2},
        "nets": {"critic": {"arch": "patchgan", "base": 8, "n_layers": 2}},
        "loss": {"kind": "l1", "gan": "vanilla", "l1_weight": 10.0, "real_label": 0.9},
        "optim": {"lr": 1.0e-3, "betas": [0.5, 0.999]},
        "optims": {"critic": {"lr": 4.0e-3}},
        "schedule": {"kind": "constant"},
        "phases": {
            "generator": {"method": "supervised", "steps": steps[0], "trainable": ["net"]},
            "critic": {"steps": steps[1], "trainable": ["critic"]},
            "gan": {"steps": steps[2], "optims": {"net": {"lr": 2.0e-4}}},
        },
        "train": {"batch": 4, "ckpt_every": 2, "log_every": 1},
        "eval": {"samples": False, "val_batches": 1},
    }
    return T.merge(cfg, over)


def same_state(a: dict, b: dict, atol: float = 0.0) -> None:
    for name in a["models"]:
        for k, v in a["models"][name].items():
            assert torch.allclose(v.float(), b["models"][name][k].float(), atol=atol, rtol=0), (name, k)
    assert a["optims"].keys() == b["optims"].keys()


def test_phases_train_the_networks_they_name(photos, tmp_path):
    cfg = T.load_config(nogan(), "quick")
    assert [p["name"] for p in cfg["phases"]] == ["generator", "critic", "gan"] and cfg["train"]["steps"] == 11
    assert cfg["phases"][2]["optims"]["net"]["lr"] == 2.0e-4 and cfg["phases"][2]["optims"]["critic"]["lr"] == 4.0e-3
    kw = dict(data=photos, device="cpu", progress=False)
    after = {}
    for stop in (4, 7, 11):
        T.train(nogan(), "quick", out=tmp_path / "r", stop_at=stop, resume=stop > 4, **kw)
        after[stop] = checkpoint.load(tmp_path / "r" / "checkpoint.pt")
    init = checkpoint.load(T.train(nogan(), "quick", out=tmp_path / "zero", stop_at=1, **kw))

    def changed(a, b, net):
        return any(not torch.equal(a["models"][net][k], b["models"][net][k]) for k in a["models"][net]
                   if a["models"][net][k].is_floating_point())

    assert changed(init, after[4], "net") and not changed(init, after[4], "critic")  # phase 1: generator only
    assert not changed(after[4], after[7], "net") and changed(after[4], after[7], "critic")  # phase 2: critic only
    assert changed(after[7], after[11], "net") and changed(after[7], after[11], "critic")  # phase 3: both
    assert set(after[11]["optims"]) == {"net", "critic"} and set(after[7]["optims"]) == {"critic"}
    lrs = {n: o["param_groups"][0]["lr"] for n, o in after[11]["optims"].items()}
    assert lrs == {"net": pytest.approx(2.0e-4), "critic": pytest.approx(4.0e-3)}  # two time-scale rates
    assert after[11]["phase"] == "gan" and after[7]["phase"] == "critic"


def test_log_rows_keep_their_own_keys(photos, tmp_path):
    ck = checkpoint.load(T.train(nogan(), "quick", out=tmp_path / "r", data=photos, device="cpu", progress=False))
    rows = T.read_log(ck)
    assert [r["phase"] for r in rows] == ["generator"] * 4 + ["critic"] * 3 + ["gan"] * 4
    assert all("loss_d" not in r and "lr" in r for r in rows[:4])
    assert all("loss_d" in r and "loss_g" not in r and "lr" in r for r in rows[4:7])
    assert all({"loss_d", "loss_g", "adv", "l1", "lr_net", "lr_critic"} <= set(r) for r in rows[7:])
    lines = (tmp_path / "r" / "log.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["step", "phase", "loss"] and {"loss_d", "loss_g", "lr_critic"} <= set(header)
    first, critic = dict(zip(header, lines[1].split(","))), dict(zip(header, lines[5].split(",")))
    assert first["phase"] == "generator" and first["loss_d"] == "" and float(first["loss"]) > 0
    assert critic["phase"] == "critic" and critic["loss_g"] == "" and float(critic["loss_d"]) > 0
    assert checkpoint.log_rows({"log": {"columns": ["step", "loss"], "rows": [[1, 0.5]]}}) == [{"step": 1, "loss": 0.5}]


@pytest.mark.parametrize("stop", [2, 4, 5, 8, 10])  # inside each phase and right at a phase boundary
def test_stop_anywhere_and_resume_equals_uninterrupted(photos, tmp_path, stop):
    kw = dict(data=photos, device="cpu", progress=False)
    full = checkpoint.load(T.train(nogan(), "quick", out=tmp_path / "a", **kw))
    T.train(nogan(), "quick", out=tmp_path / "b", stop_at=stop, **kw)
    resumed = checkpoint.load(T.train(nogan(), "quick", out=tmp_path / "b", resume=True, **kw))
    assert resumed["step"] == full["step"] == 11
    assert T.read_log(resumed)[:stop] != [] and [r["step"] for r in T.read_log(resumed)] == list(range(1, 12))
    assert [r.get("loss") for r in T.read_log(resumed)] == [r.get("loss") for r in T.read_log(full)]
    same_state(full, resumed)


def test_sigkill_inside_a_two_network_phase_then_resume(photos, tmp_path, isolated_data):
    """A real SIGKILL during the GAN phase (two networks, two optimisers), then --resume on the command line."""
    cfg = nogan(steps=(3, 3, 40), train={"ckpt_every": 2, "log_every": 1})
    path = tmp_path / "kill.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "killed"
    env = {**os.environ, "COLORKIT_DATA": str(isolated_data), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "colorkit.cli", "train", str(path), "--profile", "quick", "--data", str(photos),
           "--out", str(out), "--device", "cpu"]

    def in_gan_phase() -> bool:
        try:
            return checkpoint.load(out / "checkpoint.pt")["step"] >= 8
        except ColorkitError:  # not written yet
            return False

    run_then_sigkill(cmd, env, in_gan_phase, "no checkpoint inside the GAN phase")
    killed = checkpoint.load(out / "checkpoint.pt")
    assert killed["phase"] == "gan" and 8 <= killed["step"] < 46
    done = subprocess.run(cmd + ["--resume"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = checkpoint.load(out / "checkpoint.pt")
    whole = checkpoint.load(T.train(path, "quick", data=photos, out=tmp_path / "whole", device="cpu", progress=False))
    assert resumed["step"] == whole["step"] == 46
    assert [r["step"] for r in T.read_log(resumed)] == list(range(1, 47))  # no gap, no repeat
    assert [r["loss"] for r in T.read_log(resumed)] == pytest.approx([r["loss"] for r in T.read_log(whole)], rel=1e-5)
    same_state(whole, resumed, atol=1e-5)


def test_several_critic_steps_draw_fresh_batches(photos, tmp_path, monkeypatch):
    seen = []
    real = methods.GAN.critic_loss

    def spy(self, nets, ctx, batch, stats=None):
        seen.append(float(batch["ab"].sum()))
        return real(self, nets, ctx, batch, stats)

    monkeypatch.setattr(methods.GAN, "critic_loss", spy)
    cfg = nogan(loss={"critic_steps": 3, "gan": "lsgan"}, phases={"generator": {"steps": 1}, "critic": {"steps": 2},
                                                                 "gan": {"steps": 2}})
    ck = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "r", data=photos, device="cpu", progress=False))
    assert len(seen) == 3 * 4 and len(set(seen)) == 12  # 3 critic updates per step, each on its own batch
    assert ck["drawn"] == 1 + 3 * 2 + 3 * 2


def test_wgan_gp_trains(photos, tmp_path):
    cfg = nogan(loss={"gan": "wgan", "gp_weight": 10.0}, nets={"critic": {"norm": "none"}},
                phases={"generator": {"steps": 1}, "critic": {"steps": 2}, "gan": {"steps": 2}})
    ck = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "r", data=photos, device="cpu", progress=False))
    assert all(math.isfinite(v) for r in T.read_log(ck) for k, v in r.items() if k.startswith("loss"))


def test_freeze_keeps_a_submodule_fixed_for_a_phase(photos, tmp_path):
    cfg = nogan(method="supervised")
    cfg.pop("nets")
    cfg["phases"] = {"decoder": {"steps": 2, "freeze": ["net.downs"]}, "all": {"steps": 2}}
    kw = dict(data=photos, device="cpu", progress=False)
    from colorkit.models import build_model

    torch.manual_seed(0)  # as the loop seeds before it builds the networks
    init = build_model(T.load_config(cfg, "quick")["model"]).state_dict()
    mid = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "r", stop_at=2, **kw))["models"]["net"]
    end = checkpoint.load(T.train(cfg, "quick", out=tmp_path / "r", resume=True, **kw))["models"]["net"]
    downs = [k for k in init if k.startswith("downs.") and init[k].is_floating_point()]
    ups = [k for k in init if k.startswith("ups.") and k.endswith("weight")]
    assert all(torch.equal(init[k], mid[k]) for k in downs)  # weights and batch-norm statistics untouched
    assert any(not torch.equal(init[k], mid[k]) for k in ups)
    assert any(not torch.equal(mid[k], end[k]) for k in downs)
    with pytest.raises(ColorkitError, match="no sub-module 'nope'"):
        T.train(T.merge(cfg, {"phases": {"decoder": {"freeze": ["net.nope"]}}}), "quick", out=tmp_path / "x", **kw)
    with pytest.raises(ColorkitError, match="cannot freeze 'judge.body': no network 'judge'"):
        T.train(T.merge(cfg, {"phases": {"decoder": {"freeze": ["judge.body"]}}}), "quick", out=tmp_path / "y", **kw)


def curriculum(**over) -> dict:
    """Supervised, two phases: 24 px crops, then 32 px crops of larger windows (a crop-size curriculum)."""
    cfg = nogan(method="supervised", data={"size": 24, "min_crop": 24, "max_crop": 48})
    cfg.pop("nets")
    cfg["phases"] = {"small": {"steps": 3}, "large": {"steps": 3, "data": {"size": 32, "min_crop": 32, "max_crop": 64}}}
    return T.merge(cfg, over)


@pytest.mark.parametrize("stop", [2, 3, 4])  # inside the first phase, at the boundary, inside the second
def test_a_phase_may_change_the_crops_and_resume_stays_exact(photos, tmp_path, monkeypatch, stop):
    sizes = []
    real = methods.Supervised.step

    def spy(self, batch, nets, ctx):
        sizes.append((ctx.phase["name"], tuple(batch["L"].shape[-2:])))
        return real(self, batch, nets, ctx)

    monkeypatch.setattr(methods.Supervised, "step", spy)
    cfg = T.load_config(curriculum(), "quick")
    assert "data" not in cfg["phases"][0] and cfg["phases"][1]["data"]["size"] == 32
    kw = dict(data=photos, device="cpu", progress=False)
    full = checkpoint.load(T.train(curriculum(), "quick", out=tmp_path / "a", **kw))
    assert sizes == [("small", (24, 24))] * 3 + [("large", (32, 32))] * 3
    sizes.clear()
    T.train(curriculum(), "quick", out=tmp_path / "b", stop_at=stop, **kw)
    resumed = checkpoint.load(T.train(curriculum(), "quick", out=tmp_path / "b", resume=True, **kw))
    assert sizes == [("small", (24, 24))] * 3 + [("large", (32, 32))] * 3  # each phase on its own crops
    assert [r.get("loss") for r in T.read_log(resumed)] == [r.get("loss") for r in T.read_log(full)]
    same_state(full, resumed)


def test_a_phase_changes_only_crop_sizes():
    with pytest.raises(ColorkitError, match="data may only set"):
        T.load_config(curriculum(phases={"large": {"data": {"source": "samples"}}}), "quick")
    with pytest.raises(ColorkitError, match="min_crop <= max_crop"):
        T.load_config(curriculum(phases={"large": {"data": {"min_crop": 80}}}), "quick")


def test_bad_phase_configs_give_clear_errors():
    with pytest.raises(ColorkitError, match="needs networks \\['critic'\\]"):
        T.load_config(nogan(nets={"critic": None}) | {"nets": {}}, "quick")
    with pytest.raises(ColorkitError, match="unknown keys \\['stepz'\\]"):
        T.load_config(nogan(phases={"critic": {"stepz": 3}}), "quick")
    with pytest.raises(ColorkitError, match="trains unknown networks \\['judge'\\]"):
        T.load_config(nogan(phases={"critic": {"trainable": ["judge"]}}), "quick")
    with pytest.raises(ColorkitError, match="chroma space must be one of"):
        T.load_config(nogan(space="hsv"), "quick")


def test_yuv_space_flows_through_data_model_and_colorizer(photos, tmp_path):
    from colorkit.infer import Colorizer

    seen = {}

    class Spy(methods.Supervised):
        def step(self, batch, nets, ctx):
            seen.update({k: (tuple(v.shape), float(v.min()), float(v.max())) for k, v in batch.items()})
            return super().step(batch, nets, ctx)

    cfg = nogan(space="yuv", method="supervised", phases=None, loss={"kind": "l1"}, train={"steps": 3}, nets={})
    cfg.pop("nets")
    cfg.pop("phases")
    methods.METHODS["spy_yuv"] = Spy
    try:
        ck = T.train(T.merge(cfg, {"method": "spy_yuv"}), "quick", out=tmp_path / "r", data=photos, device="cpu",
                     progress=False, export_to=tmp_path / "exp")
    finally:
        methods.METHODS.pop("spy_yuv")
    assert set(seen) == {"Y", "UV"} and seen["Y"][0] == (4, 1, 32, 32) and 0 <= seen["Y"][1] <= seen["Y"][2] <= 1
    assert -0.7 < seen["UV"][1] and seen["UV"][2] < 0.7
    col = Colorizer(tmp_path / "exp" / "twonets.pt", device="cpu")
    assert col.space == "yuv" and checkpoint.load(ck)["config"]["model"]["space"] == "yuv"
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    out = col.colorize(grey, size=32)
    assert out.shape == (40, 50, 3)
    # the full-resolution luma survives: Y of the output equals the grey input to rounding
    y = out.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(y - grey).mean() < 2.0
