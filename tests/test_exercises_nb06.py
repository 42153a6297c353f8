import math

import pytest
import torch
import torch.nn.functional as F

from colorkit import losses
from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb06 import ADV, L1, N_LAYERS, PROB, REAL_LABEL
from colorkit.models.patchgan import receptive_field


def test_keys():
    assert keys("06") == ["06.1", "06.2", "06.3"]


def test_reference_solutions_agree_with_the_library_and_pass():
    assert evaluate("06.1", receptive_field(N_LAYERS))[0] and receptive_field(N_LAYERS) == 142
    logit = torch.tensor([math.log(PROB / (1 - PROB))])
    loss = losses.gan_loss(logit, True, "vanilla", real_label=REAL_LABEL).item()
    assert loss == pytest.approx(-(0.9 * math.log(0.95) + 0.1 * math.log(0.05)), rel=1e-5)
    p = torch.linspace(0.5, 0.999, 5000)
    best = float(p[F.binary_cross_entropy(p, torch.full_like(p, REAL_LABEL), reduction="none").argmin()])
    assert evaluate("06.2", (loss, best))[0]
    assert evaluate("06.3", (100 * L1 / (ADV + 100 * L1), L1 / (ADV + L1)))[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("06.1", 46)
    assert not ok and "stride-1" in msg
    ok, msg = evaluate("06.1", 70)
    assert not ok and "3 stride-2" in msg
    assert not evaluate("06.1", 141)[0]
    ok, msg = evaluate("06.2", (-math.log(PROB), 0.9))
    assert not ok and "target 1" in msg
    right = -(0.9 * math.log(0.95) + 0.1 * math.log(0.05))
    ok, msg = evaluate("06.2", (right, 1.0))
    assert not ok and "differentiate" in msg
    ok, msg = evaluate("06.3", (100 * L1 / ADV, L1 / ADV))
    assert not ok and "whole loss" in msg
    ok, msg = evaluate("06.3", (ADV / (ADV + 100 * L1), ADV / (ADV + L1)))
    assert not ok and "adversarial term's share" in msg
