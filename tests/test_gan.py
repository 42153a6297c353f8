"""GAN colorization (notebook 06): the PatchGAN's receptive field, the critic's verdicts in the log,
every GAN config in its quick budget with its snapshots, selection by score, and config bases."""

from __future__ import annotations

import json
import math

import pytest
import torch

from colorkit import checkpoint
from colorkit import train as T
from colorkit.errors import ColorkitError
from colorkit.evaluate import training_scorer
from colorkit.models.patchgan import PatchGAN, receptive_field
from colorkit.paths import CONFIGS_DIR
from colorkit.train import select

GAN_CONFIGS = sorted(p.stem for p in CONFIGS_DIR.glob("gan_*.yaml"))


# --- the critic ------------------------------------------------------------------------------------


def measured_field(n_layers: int, size: int = 160) -> int:
    """Side of the input region that moves one central output cell: the receptive field, measured by autograd."""
    torch.manual_seed(0)
    critic = PatchGAN(base=4, n_layers=n_layers, norm="none").double()
    L = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True) * 100
    ab = torch.zeros(1, 2, size, size, dtype=torch.float64, requires_grad=True)
    out = critic(L, ab)
    h, w = out.shape[-2:]
    (g,) = torch.autograd.grad(out[0, 0, h // 2, w // 2], ab)
    rows = torch.nonzero(g.abs().sum((0, 1, 3)) > 0)
    cols = torch.nonzero(g.abs().sum((0, 1, 2)) > 0)
    assert len(rows) and len(cols)
    return max(int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))


def test_patchgan_receptive_field_34_for_seed000_and_70_for_pix2pix():
    assert receptive_field(2) == 34 and receptive_field(3) == 70 and receptive_field(1) == 16
    assert measured_field(2) == 34  # Petre & Trăușan-Matu: each cell judges a 34 x 34 patch
    assert measured_field(3) == 70  # pix2pix's "70 x 70 PatchGAN"
    assert PatchGAN(n_layers=3).receptive_field == 70


# --- configs with a base ------------------------------------------------------------------------------


def test_config_base_merges_and_a_variant_replaces_phases(tmp_path):
    base = T.load_config("gan_abl_base")
    assert base["method"] == "gan" and base["init"] == {"net": "pretrained_unet_l1"}
    assert [p["name"] for p in base["phases"]] == ["gan"] and base["train"]["steps"] == 160  # not the base's 900+300
    assert base["phases"][0]["optims"]["critic"]["lr"] == 4.0e-4 and base["phases"][0]["optims"]["net"]["lr"] == 1.0e-4
    smooth = T.load_config("gan_abl_nosmooth")
    assert smooth["name"] == "gan_abl_nosmooth" and smooth["loss"]["real_label"] == 1.0
    def without_loss(c):
        return {k: v for k, v in c.items() if k not in ("name", "loss", "phases")}, \
            [{k: v for k, v in p.items() if k != "loss"} for p in c["phases"]]
    assert without_loss(smooth) == without_loss(base)
    assert T.load_config("gan_abl_base", "quick")["init"] == {"net": None}  # the quick model has another shape
    zhang = T.load_config("gan_zhang_lsgan", "quick")
    assert zhang["model"]["arch"] == "zhang" and zhang["model"]["base"] is None  # null: the class's default
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(f"base: {b}\n")
    b.write_text(f"base: {a}\n")
    with pytest.raises(ColorkitError, match="loop"):
        T.load_config(a)


def test_seed_recipes_are_what_the_configs_say():
    s0 = T.load_config("gan_seed000")
    assert receptive_field(s0["nets"]["critic"]["n_layers"]) == 34 and s0["loss"]["real_label"] == 0.9
    lrs = s0["phases"][0]["optims"]
    assert lrs["net"]["lr"] != lrs["critic"]["lr"]  # two learning rates
    assert s0["loss"]["gan"] == "vanilla" and s0["loss"]["l1_weight"] == 100.0
    reg = T.load_config("reg_l1")
    assert s0["model"] == reg["model"] and s0["data"] == reg["data"] and s0["train"]["steps"] == reg["train"]["steps"]
    pre = T.load_config("gan_pretrained_unet")
    assert receptive_field(pre["nets"]["critic"]["n_layers"]) == 70
    assert pre["model"] == T.load_config("pretrained_unet_l1")["model"]
    assert T.load_config("gan_zhang_lsgan")["loss"]["gan"] == "lsgan"
    assert T.load_config("gan_abl_nol1")["loss"]["l1_weight"] == 0.0


# --- every GAN config, quick budget ---------------------------------------------------------------


@pytest.mark.parametrize("name", GAN_CONFIGS)
def test_every_gan_config_trains_keeps_scored_snapshots_and_selects_one(name, photos, tmp_path):
    cfg = T.load_config(name, "quick")
    run = tmp_path / "run"
    path = T.train(CONFIGS_DIR / f"{name}.yaml", profile="quick", data=photos, out=run, device="cpu",
                   progress=False, score=training_scorer)
    ck = checkpoint.load(path)
    assert ck["step"] == cfg["train"]["steps"] and ck["method"] == "gan" and set(ck["models"]) == {"net", "critic"}
    rows = T.read_log(ck)
    assert all(math.isfinite(r["loss_g"]) and math.isfinite(r["loss_d"]) for r in rows)
    if cfg["loss"]["gan"] == "vanilla":  # verdicts are probabilities
        assert all(0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1 for r in rows)
    assert all(math.isfinite(r["d_real"]) and math.isfinite(r["d_fake"]) for r in rows)
    if cfg["loss"]["l1_weight"] == 0:
        assert all(r["loss_g"] == pytest.approx(r["adv"], rel=1e-5) for r in rows)
    keep = cfg["train"]["keep_every"]
    if not keep:  # an ablation: its end point is the model, nothing to choose
        assert not (run / "snapshots").exists() or not any((run / "snapshots").iterdir())
        return
    snaps = sorted(p.name for p in (run / "snapshots").glob("step_*.pt"))
    assert snaps == [f"step_{s:06d}.pt" for s in range(keep, cfg["train"]["steps"] + 1, keep)]
    scored = select.snapshot_scores(run)
    assert [r["step"] for r in scored] == [int(s[5:11]) for s in snaps]
    assert all("semantic_top1" in r and r["true_colorfulness"] > 0 for r in scored)
    best = select.select(scored)
    out = select.export_selected(run, tmp_path / "export")
    exported = checkpoint.load(out)
    assert exported["step"] == best["step"] and exported["extra"]["selection"]["chosen_step"] == best["step"]
    assert len(T.read_log(exported)) == len(rows)  # the whole run's log, not the log up to the chosen step
    snap = checkpoint.load(run / "snapshots" / f"step_{best['step']:06d}.pt")
    for k, v in snap["models"]["net"].items():
        assert torch.equal(v, exported["models"]["net"][k]) and (not v.is_floating_point() or v.dtype == torch.float16)
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["extra"]["selection"]["rule"].startswith("score = semantic agreement")


def test_a_fresh_run_removes_the_old_runs_snapshots(photos, tmp_path):
    run = tmp_path / "run"
    kw = dict(profile="quick", data=photos, out=run, device="cpu", progress=False, score=training_scorer)
    T.train("gan_seed000", **kw)
    (run / "snapshots" / "step_999999.pt").write_bytes(b"stale")
    T.train("gan_seed000", stop_at=2, **kw)
    assert sorted(p.name for p in (run / "snapshots").glob("*.pt")) == ["step_000002.pt"]


# --- the selection rule ----------------------------------------------------------------------------


def row(step, sem, col, ref=50.0, **kw):
    return {"step": step, "eval_semantic_top1": sem, "eval_colorfulness": col, "eval_true_colorfulness": ref, **kw}


def test_selection_score_caps_colourfulness_at_the_originals():
    assert select.score(row(1, 0.5, 25.0)) == pytest.approx(0.25)
    # a garish model earns nothing over a faithful one
    assert select.score(row(1, 0.5, 50.0)) == select.score(row(1, 0.5, 90.0)) == pytest.approx(0.5)
    assert math.isnan(select.score({"step": 1, "eval_semantic_top1": 0.5}))


def test_selection_skips_the_burn_in_and_prefers_the_later_on_a_tie():
    rows = select.snapshot_scores([row(100, 0.9, 60.0), row(200, 0.4, 50.0), row(300, 0.5, 40.0),
                                   row(400, 0.5, 40.0), {"step": 410, "loss": 1.0}])
    assert [r["step"] for r in rows] == [100, 200, 300, 400]  # unscored rows are not snapshots
    assert select.select(rows)["step"] == 400  # step 100 is in the first 25 %; 300 and 400 tie
    assert select.select(rows, burn_in=0.0)["step"] == 100
    with pytest.raises(ColorkitError, match="no scored snapshots"):
        select.select([])


# --- a run that starts from a committed model stores only what it changed ----------------------


def test_export_shares_unchanged_tensors_with_the_committed_init(tmp_path):
    base = checkpoint.load(checkpoint.resolve("reg_l1"))
    half = {k: v.clone() for k, v in base["models"]["net"].items()}
    changed = next(k for k, v in half.items() if v.is_floating_point() and v.ndim == 4)
    half[changed] = half[changed] + 1
    ck = {"name": "tuned", "config": {**base["config"], "init": {"net": "reg_l1"}}, "models": {"net": half},
          "step": 3, "log": []}
    out = checkpoint.export(ck, tmp_path / "tuned.pt")
    stored = checkpoint.load(out)
    assert list(stored["models"]["net"]) == [changed]  # one tensor stored, the rest shared
    assert stored["shared"]["net"]["from"] == "reg_l1" and len(stored["shared"]["net"]["keys"]) == len(half) - 1
    full = checkpoint.weights(stored)
    assert full.keys() == half.keys()
    assert all(torch.equal(full[k], half[k].float() if half[k].is_floating_point() else half[k]) for k in half)
    again = checkpoint.load(checkpoint.export(stored, tmp_path / "again.pt"))  # re-exporting keeps the sharing
    assert again["shared"] == stored["shared"] and list(again["models"]["net"]) == [changed]
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["shared"] == {"net": {"from": "reg_l1", "tensors": len(half) - 1}}
    from colorkit.infer import Colorizer

    col = Colorizer(out)  # loads the shared tensors from reg_l1
    assert torch.equal(col.model.state_dict()[changed], half[changed].float())


def test_train_export_to_exports_the_chosen_snapshot(photos, tmp_path):
    T.train("gan_seed000", profile="quick", data=photos, out=tmp_path / "run", device="cpu", progress=False,
            score=training_scorer, export_to=tmp_path / "exp")
    exported = checkpoint.load(tmp_path / "exp" / "gan_seed000.pt")
    chosen = select.select(select.snapshot_scores(tmp_path / "run"))["step"]
    assert exported["step"] == chosen and exported["extra"]["selection"]["chosen_step"] == chosen
