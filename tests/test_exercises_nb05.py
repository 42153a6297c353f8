import numpy as np
import torch

from colorkit import quantize
from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb05 import FREQUENCIES, PALETTE, TWO_COLOURS, TWO_PROBS, pixel_uv


def reference_05_1():
    uv = pixel_uv()
    return (*uv, int(((PALETTE - uv) ** 2).sum(1).argmin()))


def test_keys():
    assert keys("05") == ["05.1", "05.2", "05.3"]


def test_reference_solutions_pass():
    assert evaluate("05.1", reference_05_1())[0]
    p = FREQUENCIES
    w = 1 / (0.5 * p + 0.5 / 4)
    assert evaluate("05.2", float((w / (p * w).sum())[-1]))[0]
    f = TWO_PROBS ** 2 / (TWO_PROBS ** 2).sum()
    assert evaluate("05.3", tuple(f @ TWO_COLOURS))[0]


def test_reference_agrees_with_the_library():
    """The hand computations are what colorkit.quantize does: nearest palette class, weights, annealed mean."""
    uv = torch.tensor(pixel_uv(), dtype=torch.float32).view(1, 2, 1, 1)
    k = int(quantize.quantize_uv(uv, torch.tensor(PALETTE, dtype=torch.float32)))
    assert evaluate("05.1", (*pixel_uv(), k))[0]
    w = quantize.rebalance_weights(torch.tensor(FREQUENCIES), lam=0.5)
    assert evaluate("05.2", float(w[-1]))[0]
    probs = torch.tensor(TWO_PROBS, dtype=torch.float32).view(1, 2, 1, 1)
    uv2 = quantize.decode_uv(probs, torch.tensor(TWO_COLOURS, dtype=torch.float32), T=0.5)
    assert evaluate("05.3", tuple(uv2[0, :, 0, 0].tolist()))[0]


def test_typical_wrong_answers_fail_with_hints():
    u, v, k = reference_05_1()
    ok, msg = evaluate("05.1", (u * 255, v * 255, k))
    assert not ok and "255" in msg
    d = ((PALETTE - pixel_uv()) ** 2).sum(1)
    ok, msg = evaluate("05.1", (u, v, int(np.argsort(d)[1])))
    assert not ok and "second-nearest" in msg
    assert not evaluate("05.1", (u + 0.1, v, k))[0]
    ok, msg = evaluate("05.2", 1 / FREQUENCIES[-1])
    assert not ok and "λ = 0" in msg
    ok, msg = evaluate("05.3", tuple(TWO_PROBS @ TWO_COLOURS))
    assert not ok and "plain mean" in msg
    ok, msg = evaluate("05.3", tuple(TWO_COLOURS[0]))
    assert not ok and "mode" in msg
