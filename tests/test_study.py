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


# ---------------------------------------------------------------- colorkit.study: the study's own machinery


class HalfChroma:
    """A stand-in colorizer: the truth's chroma halved (it cheats, which the study must still score right)."""

    name = "half"

    def colorize(self, image, temperature=0.38, size=256):
        import torch

        from colorkit.color import image_to_tensor, lab_to_rgb, rgb_to_lab, tensor_to_image

        lab = rgb_to_lab(image_to_tensor(image))
        return tensor_to_image(lab_to_rgb(torch.cat([lab[:, :1], lab[:, 1:] * 0.5], dim=1)))


@pytest.fixture(scope="module")
def small_study():
    from colorkit.evaluate import sample_images
    from colorkit.study import run_study

    samples = sample_images()[:8]
    return run_study(samples, {"half": HalfChroma()}, n_resamples=300, semantic=False, progress=False)


def test_run_study_scores_every_method_with_intervals(small_study):
    from colorkit.study import interval_excludes, paired_difference

    st = small_study
    assert list(st.rows) == ["grey", "half"] and len(st.preds["half"]) == 8 == len(st.names)
    assert st.rows["half"]["psnr"] > st.rows["grey"]["psnr"]
    assert st.rows["half"]["chroma_ratio"] == pytest.approx(0.5, abs=0.08)
    for name in st.rows:
        for metric, (lo, hi) in st.intervals[name].items():
            assert lo <= st.rows[name][metric] + 1e-9 and st.rows[name][metric] <= hi + 1e-9, (name, metric)
    d, lo, hi = paired_difference(st, "half", "grey", "psnr", n_resamples=300)
    assert d == pytest.approx(st.rows["half"]["psnr"] - st.rows["grey"]["psnr"]) and 0 < lo <= d <= hi
    assert interval_excludes(st, "half", "grey", "chroma_ratio")
    assert st.originals["chroma_ratio"] == pytest.approx(1.0) and st.categories["astronaut"] == "people"


def test_paired_difference_on_parts(small_study):
    from colorkit.metrics import paired_difference

    st = small_study
    assert paired_difference(st.parts["half"], st.parts["half"], "psnr", n_resamples=200) == (0.0, 0.0, 0.0)
    d, lo, hi = paired_difference(st.parts["grey"], st.parts["half"], "chroma_ratio", n_resamples=200)
    assert d == pytest.approx(st.rows["grey"]["chroma_ratio"] - st.rows["half"]["chroma_ratio"]) and lo <= d <= hi < 0
    fewer = {k: (v[:5] if isinstance(v, np.ndarray) else v) for k, v in st.parts["half"].items()}
    with pytest.raises(ColorkitError, match="same photos"):
        paired_difference(fewer, st.parts["grey"], "psnr")


def test_vectorized_intervals_equal_one_resample_at_a_time(small_study):
    from colorkit.metrics import metric_intervals, row_from_parts

    parts = small_study.parts["half"]
    keys = list(row_from_parts(parts))
    low, high = bootstrap_interval(len(parts["psnr"]), lambda idx: [row_from_parts(parts, idx)[k] for k in keys],
                                   n_resamples=300)
    fast = metric_intervals(parts, n_resamples=300)
    for k, lo, hi in zip(keys, low, high):
        assert fast[k] == pytest.approx((lo, hi), rel=1e-9, abs=1e-12), k


def test_rankings_follow_each_metrics_goal():
    from colorkit.study import rankings

    rows = {"a": {"psnr": 22.0, "false_colour": 0.3, "colorfulness": 60.0, "chroma_ratio": 1.3},
            "b": {"psnr": 21.0, "false_colour": 0.1, "colorfulness": 30.0, "chroma_ratio": 0.9},
            "levin_1pct": {"psnr": 30.0, "false_colour": 0.0, "colorfulness": 45.0, "chroma_ratio": 1.0}}
    r = rankings(rows, {"colorfulness": 40.0})
    assert r["psnr"] == ["a", "b"] and r["false_colour"] == ["b", "a"]  # levin (told the answer) is left out
    assert r["colorfulness"] == ["b", "a"] and r["chroma_ratio"] == ["b", "a"]  # closest to the originals / to 1
    assert "colorfulness" not in rankings(rows)  # no originals' value: no ranking by closeness


def test_ideal_scribbler_keeps_the_luma_and_beats_grey():
    from colorkit.color import image_to_tensor, rgb_to_yuv
    from colorkit.evaluate import sample_images
    from colorkit.levin import IdealScribbler
    from colorkit.metrics import grey_image, psnr

    photo = dict(sample_images())["fruits"]
    lv = IdealScribbler(0.01)
    out = lv.colorize(photo)
    assert lv.name == "levin_1pct" and out.shape == photo.shape and out.dtype == np.uint8
    y_in, y_out = (rgb_to_yuv(image_to_tensor(x))[0, 0] for x in (photo, out))
    assert float((y_in - y_out).abs().mean()) < 0.01  # the photo's own Y (clipping aside)
    assert psnr(out, photo) > psnr(grey_image(photo), photo) + 2
    assert np.array_equal(out, lv.colorize(photo))  # the same photo gets the same strokes
    with pytest.raises(ColorkitError, match="coverage"):
        IdealScribbler(1.5)
    with pytest.raises(ColorkitError, match="true colour photo"):
        lv.colorize(photo[..., 0])


def test_html_tables_reach_the_report(tmp_path):
    import nbformat

    from colorkit.course.report import html_tables
    from colorkit.study import frames_per_second, html_table

    table = html_table(["method", "psnr"], [["<b>x</b>", "21.0"]], caption="a & b")
    assert table.startswith("<table class='colorkit-table'>") and "&lt;b&gt;x&lt;/b&gt;" in table
    assert "<caption>a &amp; b</caption>" in table
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("t")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": table, "text/plain": "t"}),
                    nbformat.v4.new_output("display_data", data={"text/html": "<div>widget</div>"})]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert html_tables(tmp_path / "x.ipynb") == [table]

    class Sleepy:
        def colorize(self, image, size=256):
            time.sleep(0.01)
    assert 20 < frames_per_second(Sleepy(), n=10, warmup=1) < 100


def test_evaluate_levin_with_semantic_intervals(image_folder, tmp_path):
    from colorkit.cli import main

    out = tmp_path / "eval"
    assert main(["evaluate", str(image_folder), "--models", "levin_1pct", "--size", "64", "--intervals",
                 "--semantic", "--out", str(out)]) == 0
    text = (out / "metrics_ci.md").read_text()
    assert "| levin_1pct |" in text and "semantic_top1" in text
    import csv
    rows = {r["method"]: r for r in csv.DictReader((out / "metrics.csv").open())}
    assert set(rows) == {"grey", "levin_1pct"} and 0 <= float(rows["levin_1pct"]["semantic_top1"]) <= 1
    assert float(rows["levin_1pct"]["chroma_ratio"]) > 0.1  # it colours (grey's is 0)
