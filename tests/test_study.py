"""For the study (notebook 09): the Turing-test widget, confidence intervals, a folder evaluated by category."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy import stats

from colorkit.errors import ColorkitError
from colorkit.metrics.stats import bootstrap_interval, wilson_interval
from colorkit.widgets import png_bytes
from colorkit.widgets.turing import TuringTest, fooling_rates, load_sessions, make_pairs, save_session


def images(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return {f"p{i}": rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for i in range(n)}


@pytest.fixture()
def pairs():
    truths = images()
    fakes = {"good": {k: v // 2 for k, v in truths.items()}, "bad": {k: 255 - v for k, v in truths.items()}}
    return make_pairs(truths, fakes, per_method=3, seed=1)


def test_make_pairs_draws_per_method_and_shuffles(pairs):
    assert len(pairs) == 6 and sorted(p.method for p in pairs) == ["bad"] * 3 + ["good"] * 3
    for m in ("good", "bad"):
        names = [p.photo for p in pairs if p.method == m]
        assert len(set(names)) == 3
    order = [p.method for p in pairs]
    assert order not in (["bad"] * 3 + ["good"] * 3, ["good"] * 3 + ["bad"] * 3)  # shuffled (seed 1)
    with pytest.raises(ColorkitError, match="fewer than"):
        make_pairs(images(2), {"m": images(2)}, per_method=3)


def test_a_full_session_is_saved_and_pooled(pairs, tmp_path):
    t = TuringTest(pairs, out_dir=tmp_path, seed=3, participant="ada")
    assert t.status.value.startswith("<b>Which photo is real?</b> Pair 1 of 6")
    # the real photo is where real_side says
    first = t.pairs[0]
    shown = {"left": t.left.value, "right": t.right.value}
    other = {"left": "right", "right": "left"}[t.real_side[0]]
    assert shown[t.real_side[0]] == png_bytes(first.real) and shown[other] == png_bytes(first.fake)
    # always pick the left one
    for _ in range(6):
        t.pick["left"].click()
    assert t.saved is not None and t.saved.parent == tmp_path and t.pick["left"].disabled
    t.pick["right"].click()  # after the end: nothing changes
    assert len(t.answers) == 6
    saved = json.loads(t.saved.read_text())
    assert saved["participant"] == "ada" and len(saved["answers"]) == 6
    fooled = [a["real_side"] == "right" for a in saved["answers"]]
    assert [a["fooled"] for a in saved["answers"]] == fooled
    assert "Done." in t.status.value and f"in {sum(fooled)} of 6 pairs" in t.status.value
    # a second person: a second file, the first untouched
    before = t.saved.read_bytes()
    t2 = TuringTest(pairs, out_dir=tmp_path, seed=4)
    for _ in range(6):
        t2.pick["right"].click()
    assert t2.saved != t.saved and t.saved.read_bytes() == before
    sessions = load_sessions(tmp_path)
    assert len(sessions) == 2
    rates = fooling_rates(sessions)
    for m in ("good", "bad"):
        k = sum(a["fooled"] for s in sessions for a in s["answers"] if a["method"] == m)
        assert rates[m]["n"] == 6 and rates[m]["fooled"] == k and rates[m]["rate"] == k / 6
        assert (rates[m]["low"], rates[m]["high"]) == pytest.approx(wilson_interval(k, 6))


def test_flash_hides_the_pair_after_its_time(pairs, tmp_path):
    t = TuringTest(pairs, out_dir=tmp_path, flash=0.05, seed=0)
    assert t.left.layout.visibility == "visible"
    time.sleep(0.3)
    assert t.left.layout.visibility == "hidden" and t.right.layout.visibility == "hidden"
    t.pick["right"].click()
    assert t.left.layout.visibility == "visible"  # the next pair is shown again
    with pytest.raises(ColorkitError, match="flash"):
        TuringTest(pairs, out_dir=tmp_path, flash=0)


def test_sessions_never_overwrite_and_bad_files_are_named(tmp_path):
    paths = {save_session({"answers": []}, tmp_path) for _ in range(5)}
    assert len(paths) == 5 and not list(tmp_path.glob(".*"))
    (tmp_path / "session-broken.json").write_text("{")
    with pytest.raises(ColorkitError, match="session-broken.json"):
        load_sessions(tmp_path)
    assert load_sessions(tmp_path / "none") == []


def test_wilson_matches_the_formula_and_bootstrap_covers_the_mean():
    k, n, z = 23, 100, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half))
    assert wilson_interval(0, 10)[0] == 0 and wilson_interval(10, 10)[1] == pytest.approx(1)
    with pytest.raises(ColorkitError):
        wilson_interval(11, 10)
    x = np.random.default_rng(0).normal(10, 2, 54)
    lo, hi = bootstrap_interval(54, lambda i: x[i].mean())
    assert lo < x.mean() < hi and hi - lo == pytest.approx(2 * 1.96 * x.std() / np.sqrt(54), rel=0.2)
    assert bootstrap_interval(54, lambda i: x[i].mean()) == (lo, hi)  # seeded


def test_evaluate_a_folder_with_intervals_and_categories(image_folder, tmp_path, capsys):
    from colorkit.cli import main
    from colorkit.evaluate import category_rows, sample_categories

    out = tmp_path / "eval"
    assert main(["evaluate", str(image_folder), "--models", "pretrained_unet_l1", "--size", "64", "--intervals",
                 "--out", str(out)]) == 0
    text = (out / "metrics_ci.md").read_text()
    assert "| grey |" in text and "| pretrained_unet_l1 |" in text and "## pretrained_unet_l1 by category" in text
    assert "| uncategorised |" in text  # a user's folder has no categories
    assert (out / "metrics.csv").is_file()
    import re
    cell = re.search(r"\| pretrained_unet_l1 \| (\d+\.\d+) \[(\d+\.\d+), (\d+\.\d+)\]", text)
    assert cell and float(cell[2]) <= float(cell[1]) <= float(cell[3])  # PSNR inside its interval
    assert main(["evaluate", str(tmp_path / "nope"), "--models", "reg_l2", "--out", str(out)]) == 1
    assert "is not a folder" in capsys.readouterr().err
    cats = sample_categories(["astronaut", "apple", "mine"])
    assert cats == {"astronaut": "people", "apple": "food", "mine": "uncategorised"}
    parts = {"psnr": np.array([10.0, 20.0, 30.0]), "ssim": np.zeros(3), "colorfulness": np.zeros(3),
             "hist": np.ones((3, 152)), "hist_rebal": None, "chroma_pred": np.ones(3), "chroma_true": np.ones(3),
             "false_hits": np.zeros(3), "false_total": np.ones(3), "vivid_hits": np.ones(3), "vivid_total": np.ones(3)}
    rows = category_rows(parts, ["a", "b", "c"], {"a": "x", "b": "y", "c": "x"})
    assert rows["x"]["psnr"] == 20 and rows["y"]["psnr"] == 20 and rows["all"]["psnr"] == 20
    assert rows["x"]["n_images"] == 2 and rows["all"]["n_images"] == 3


def test_black_and_white_photos_are_grey_and_credited():
    from colorkit.levin.scribbles import black_and_white_photos

    try:
        photos = black_and_white_photos()
    except ColorkitError as exc:  # the Solvay photo needs Debian's mirror the first time
        pytest.skip(f"Solvay photo not available here: {exc}")
    assert [n for n, _, _ in photos] == ["solvay_1927", "cameraman", "pompeii_coins"]
    for name, grey, credit in photos:
        assert grey.dtype == np.uint8 and grey.ndim == 2 and min(grey.shape) >= 256, name
        assert grey.std() > 20 and credit  # a real photograph, with its credit
    assert photos[0][1].shape == (705, 1024)
