import math

import numpy as np
import torch

from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb08 import AFTER, ALPHA, BEFORE, HIST_A, HIST_B, SHOT_FRAMES, T, ema_across_cut
from colorkit.metrics import js_divergence
from colorkit.video.temporal import TemporalEMA, ema_weights


def test_keys():
    assert keys("08") == ["08.1", "08.2", "08.3"]


def test_reference_solutions_agree_with_the_library_and_pass():
    w = ema_weights(T, ALPHA)
    assert evaluate("08.1", (w[0], w[6:].sum()))[0]
    assert evaluate("08.2", js_divergence(HIST_A, HIST_B))[0]
    # the library's own layer, fed the two shots frame by frame, gives the checker's numbers
    layer = TemporalEMA(T, ALPHA)
    for v in [BEFORE] * SHOT_FRAMES + [AFTER] * 3:
        out = layer(torch.tensor([v], dtype=torch.float64)).item()
    assert math.isclose(out, ema_across_cut(False), rel_tol=1e-9)
    assert out > 0  # three frames into the blue shot, still red
    assert evaluate("08.3", (ema_across_cut(False), ema_across_cut(True)))[0]


def test_typical_wrong_answers_fail_with_hints():
    w = ema_weights(T, ALPHA)
    ok, msg = evaluate("08.1", (1.0, w[6:].sum()))
    assert not ok and "divide by the sum" in msg
    ok, msg = evaluate("08.1", (w[0], w[5:].sum()))
    assert not ok and "i = 6" in msg
    jsd = js_divergence(HIST_A, HIST_B)
    ok, msg = evaluate("08.2", jsd / math.log(2))
    assert not ok and "bits" in msg
    ok, msg = evaluate("08.2", math.sqrt(jsd))
    assert not ok and "distance" in msg
    ok, msg = evaluate("08.3", (AFTER, AFTER))
    assert not ok and "still in the window" in msg
    assert not evaluate("08.3", (np.mean([BEFORE, AFTER]), AFTER))[0]
