"""DeOldify's NoGAN (notebook 07): the VGG16 feature loss, the three-phase config in its quick budget,
per-phase snapshot and scoring intervals, and the inflection rule that picks the checkpoint before the turn."""

from __future__ import annotations

import json

import pytest
import torch

from colorkit import checkpoint
from colorkit import train as T
from colorkit.errors import ColorkitError
from colorkit.evaluate import training_scorer
from colorkit.losses import FEATURE_LAYERS, FEATURE_WEIGHTS, FeatureLoss
from colorkit.paths import CONFIGS_DIR
from colorkit.train import select


@pytest.fixture(scope="module")
def feature_loss():
    torch.manual_seed(0)
    return FeatureLoss()


def rgb_pair(seed=0, size=48):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, 3, size, size, generator=g)
    return x, (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)


# --- the feature loss --------------------------------------------------------------------------------


def test_feature_layers_are_vgg16s_activations_before_the_3rd_4th_and_5th_max_pool():
    from colorkit.backbones import vgg16_features

    vgg = vgg16_features()
    pools = [i for i, m in enumerate(vgg) if isinstance(m, torch.nn.MaxPool2d)]
    assert pools == [4, 9, 16, 23, 30]  # VGG16 (Simonyan & Zisserman 2015): 2, 2, 3, 3, 3 convs per block
    for (name, i), pool, channels in zip(FEATURE_LAYERS.items(), pools[2:], (256, 512, 512)):
        assert i == pool - 1 and isinstance(vgg[i], torch.nn.ReLU), name
        assert isinstance(vgg[i - 1], torch.nn.Conv2d) and vgg[i - 1].out_channels == channels, name
    assert FEATURE_WEIGHTS == (20.0, 70.0, 10.0)


def test_feature_loss_is_zero_for_identical_images_and_grows_with_the_difference(feature_loss):
    x, y = rgb_pair()
    assert float(feature_loss(x, x)) == 0.0
    near = float(feature_loss((x + 0.02).clamp(0, 1), x))
    far = float(feature_loss(y, x))
    assert 0 < near < far
    parts = feature_loss.parts(y, x)
    assert list(parts) == ["pixel", *FEATURE_LAYERS] and all(float(v) > 0 for v in parts.values())
    assert float(sum(parts.values())) == pytest.approx(far, rel=1e-5)


def test_feature_loss_trains_the_prediction_not_the_vgg(feature_loss):
    x, y = rgb_pair(1)
    pred = y.clone().requires_grad_(True)
    feature_loss(pred, x).backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None for p in feature_loss.parameters())
    feature_loss.train()
    assert not feature_loss.vgg.training  # frozen: eval mode whatever its owner does
    assert feature_loss.state_dict().keys() == {f"vgg.{k}" for k in feature_loss.vgg.state_dict()}


def test_feature_loss_weights_scale_their_terms():
    x, y = rgb_pair(2)
    a, b = FeatureLoss().parts(y, x), FeatureLoss(weights=(40.0, 70.0, 0.0), pixel_weight=3.0).parts(y, x)
    assert float(b["relu3_3"]) == pytest.approx(2 * float(a["relu3_3"]), rel=1e-5)
    assert float(b["relu4_3"]) == pytest.approx(float(a["relu4_3"]), rel=1e-5)
    assert float(b["relu5_3"]) == 0.0 and float(b["pixel"]) == pytest.approx(3 * float(a["pixel"]), rel=1e-5)
    with pytest.raises(ColorkitError, match="3 layers need 3 weights"):
        FeatureLoss(weights=(1.0, 2.0))


# --- the inflection rule ------------------------------------------------------------------------------


def scored(step, phase, col, fc, sem, n=100):  # on 100 photos the semantic tolerance is 1/sqrt(100) = 0.1
    return {"step": step, "phase": phase, "colorfulness": col, "false_colour": fc, "semantic_top1": sem,
            "n_images": n}


def table(*gan, ref=(30.0, 0.10, 0.50)):
    rows = [scored(100, "generator", 28.0, 0.09, 0.55), scored(200, "critic", *ref)]
    return rows + [scored(200 + 10 * (i + 1), "gan", *r) for i, r in enumerate(gan)]


def test_inflection_keeps_the_snapshot_before_false_colour_rises_with_colourfulness():
    rows = table((31, 0.10, 0.50), (33, 0.12, 0.53), (35, 0.145, 0.53), (36, 0.20, 0.50))
    found = select.inflection(rows)
    # step 240: colourfulness rises 35 -> 36 and false colour 0.20 > 0.10 + 0.05: the turn; keep 230
    assert found["turn"]["step"] == 240 and found["chosen"]["step"] == 230
    assert "false colour 0.200 > lowest so far 0.100" in found["reason"]
    assert [r["step"] for r in found["walk"]] == [200, 210, 220, 230, 240]  # the critic's last snapshot leads


def test_inflection_on_semantic_agreement_and_only_while_colourfulness_rises():
    falling = table((31, 0.10, 0.50), (29, 0.30, 0.20), (30, 0.10, 0.50))  # worse but duller: not the turn
    assert select.inflection(falling)["turn"] is None and select.inflection(falling)["chosen"]["step"] == 230
    sem = table((31, 0.10, 0.60), (32, 0.10, 0.51), (33, 0.10, 0.48))  # 0.48 < 0.60 - 0.1
    found = select.inflection(sem)
    assert found["tol_sem"] == pytest.approx(0.1) and found["tol_fc"] == select.TOL_FC == 0.05
    assert found["turn"]["step"] == 230 and found["chosen"]["step"] == 220 and "semantic top-1" in found["reason"]
    assert select.inflection(sem, tol_sem=0.2)["turn"] is None
    assert select.semantic_tolerance([{"n_images": 32}, {"n_images": 25}]) == pytest.approx(0.2)  # the fewest photos


def test_inflection_can_keep_the_generator_that_entered_the_gan_phase():
    found = select.inflection(table((40, 0.30, 0.50), (41, 0.10, 0.50)))
    assert found["chosen"]["step"] == 200 and found["chosen"]["phase"] == "critic"


def test_inflection_needs_gan_snapshots_with_all_three_scores():
    with pytest.raises(ColorkitError, match="no scored snapshots in the 'gan' phase"):
        select.inflection(table()[:2])
    bad = table((31, 0.10, 0.50))
    del bad[-1]["false_colour"]
    with pytest.raises(ColorkitError, match="no false_colour score"):
        select.inflection(bad)
    with pytest.raises(ColorkitError, match="how many photos"):
        select.inflection([{k: v for k, v in r.items() if k != "n_images"} for r in table((31, 0.10, 0.50))])


def test_eval_select_and_per_phase_intervals_are_validated():
    cfg = T.load_config("nogan", "full")
    assert cfg["eval"]["select"] == "inflection"
    assert [(p["name"], p["method"], p["keep_every"], p["eval_every"]) for p in cfg["phases"]] == [
        ("generator", "supervised", 0, 150), ("critic", "gan", 150, 150), ("gan", "gan", 10, 10)]
    assert cfg["phases"][0]["loss"]["kind"] == "feature" and cfg["phases"][0]["trainable"] == ["net"]
    raw = {"name": "x", "model": {"arch": "unet"}, "eval": {"select": "best"}}
    with pytest.raises(ColorkitError, match="eval.select must be score or inflection"):
        T.load_config(raw, "full")
    with pytest.raises(ColorkitError, match="keep_every must be 0 \\(off\\) or a positive integer"):
        T.load_config({"name": "x", "model": {"arch": "unet"}, "phases": {"a": {"steps": 2, "keep_every": -1}}})


# --- the three phases, quick budget ------------------------------------------------------------------


def test_nogan_quick_runs_three_phases_and_exports_the_inflection_choice(photos, tmp_path):
    cfg = T.load_config("nogan", "quick")
    run = tmp_path / "run"
    path = T.train(CONFIGS_DIR / "nogan.yaml", profile="quick", data=photos, out=run, device="cpu",
                   progress=False, score=training_scorer, export_to=tmp_path / "exp")
    ck = checkpoint.load(path)
    rows = T.read_log(ck)
    assert [p["name"] for p in cfg["phases"]] == ["generator", "critic", "gan"]
    assert {r["phase"] for r in rows} == {"generator", "critic", "gan"}
    gen = [r for r in rows if r["phase"] == "generator"]
    assert all(r["feat_relu4_3"] > 0 and r["feat_pixel"] > 0 for r in gen)  # phase 1: the feature loss
    assert all("d_real" in r for r in rows if r["phase"] != "generator")
    snaps = sorted(int(p.stem[5:]) for p in (run / "snapshots").glob("step_*.pt"))
    assert snaps == [4, 6, 8]  # the critic's end, then every 2 steps of the GAN phase
    found = select.inflection(select.snapshot_scores(run))
    exported = checkpoint.load(tmp_path / "exp" / "nogan.pt")
    sel = exported["extra"]["selection"]
    assert sel["kind"] == "inflection" and exported["step"] == sel["chosen_step"] == found["chosen"]["step"]
    assert sel["reason"] == found["reason"] and exported["config"]["eval"]["select"] == "inflection"
    assert "vgg" not in " ".join(k for m in exported["models"].values() for k in m)  # frozen VGG never exported
    from PIL import Image

    from colorkit.evaluate import snapshot_strip

    strip = snapshot_strip(run, tmp_path / "strip.jpg", n=2, size=64, thumb=32, progress=False)
    info = json.loads(strip.with_suffix(".json").read_text())
    assert info["steps"] == snaps and 1 <= len(info["photos"]) <= 2
    # a row per photo: the original, then one column per snapshot
    assert Image.open(strip).size == (32 * (1 + len(snaps)), 32 * len(info["photos"]))
