import numpy as np
import pytest

from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb09 import ANSWERS, FOOLED, GAINS, bootstrap_mean_interval, exercise_images
from colorkit.metrics import colorfulness, psnr
from colorkit.metrics.stats import bootstrap_interval, wilson_interval


def test_keys():
    assert keys("09") == ["09.1", "09.2", "09.3"]


def test_09_1_wilson_and_its_wrong_answers():
    low, high = wilson_interval(FOOLED, ANSWERS)
    assert low < FOOLED / ANSWERS < high
    assert evaluate("09.1", (low, high))[0]
    p = FOOLED / ANSWERS
    se = (p * (1 - p) / ANSWERS) ** 0.5
    ok, msg = evaluate("09.1", (p - 1.96 * se, p + 1.96 * se))
    assert not ok and "Wald" in msg
    ok, msg = evaluate("09.1", (100 * low, 100 * high))
    assert not ok and "shares" in msg


def test_09_2_metrics_disagree_on_the_scaled_photo():
    photo, washed, garish = exercise_images()
    # the lesson of the exercise: the washed-out version wins PSNR, the garish one colourfulness
    assert psnr(washed, photo) > psnr(garish, photo)
    assert colorfulness(garish) > colorfulness(photo) > colorfulness(washed)
    assert evaluate("09.2", ("washed", "garish"))[0]
    assert not evaluate("09.2", ("washed", "washed"))[0]
    ok, msg = evaluate("09.2", ("garish", "garish"))
    assert not ok and "squared errors" in msg
    assert not evaluate("09.2", ("washed", "grey"))[0]


def test_09_3_bootstrap_by_hand_agrees_with_the_library():
    low, high = bootstrap_mean_interval()
    assert low < np.mean(GAINS) < high
    lib_low, lib_high = bootstrap_interval(len(GAINS), lambda idx: np.asarray(GAINS)[idx].mean())
    assert lib_low == pytest.approx(low, abs=0.1) and lib_high == pytest.approx(high, abs=0.1)
    assert evaluate("09.3", (low, high, low > 0))[0]
    ok, msg = evaluate("09.3", (low, high, not low > 0))
    assert not ok and "whole interval" in msg
    ok, msg = evaluate("09.3", (np.percentile(GAINS, 2.5), np.percentile(GAINS, 97.5), False))
    assert not ok and "*means* of resamples" in msg
