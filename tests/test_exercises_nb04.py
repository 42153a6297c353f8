import numpy as np

from colorkit import quantize
from colorkit.exercises import evaluate, keys


def test_keys():
    assert keys("04") == ["04.1", "04.2", "04.3"]


def test_reference_solutions_pass():
    d2 = np.array([0, 100, 100, 100, 100.0])
    g = np.exp(-d2 / 50)
    assert evaluate("04.1", g[0] / g.sum())[0]
    p = np.array([0.90, 0.09, 0.01])
    w = 1 / (0.5 * p + 0.5 / 3)
    assert evaluate("04.2", tuple(w / (p * w).sum()))[0]
    assert evaluate("04.3", (-40, 10))[0]


def test_reference_agrees_with_the_library():
    """The hand computation of 04.2 is what colorkit.quantize.rebalance_weights does."""
    import torch

    p = torch.tensor([0.90, 0.09, 0.01], dtype=torch.float64)
    w = quantize.rebalance_weights(p, lam=0.5)
    assert evaluate("04.2", tuple(w.tolist()))[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("04.1", 1.0)
    assert not ok and "5 bins" in msg
    ok, msg = evaluate("04.1", 0.2)
    assert not ok and "Gaussian" in msg
    p = np.array([0.90, 0.09, 0.01])
    w = 1 / (0.5 * p + 0.5 / 3)
    ok, msg = evaluate("04.2", tuple(w))  # not normalised
    assert not ok and "normalise" in msg
    assert not evaluate("04.2", tuple(1 / p))[0]
    ok, msg = evaluate("04.3", (-8, 22))  # the plain mean
    assert not ok and "T = 1" in msg
    assert not evaluate("04.3", (40, 40))[0]
