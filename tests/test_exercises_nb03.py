import torch

from colorkit.exercises import evaluate, keys


def test_keys():
    assert keys("03") == ["03.1", "03.2", "03.3"]


def test_reference_solutions_pass():
    assert evaluate("03.1", (10.0, 50.0))[0]
    assert evaluate("03.2", lambda p, t: (p.norm(dim=1).mean() / t.norm(dim=1).mean()).item())[0]
    assert evaluate("03.3", (0.0, 0.0))[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("03.1", (50 / 3, 70 / 3))  # the mean, not the median
    assert not ok and "median" in msg
    assert not evaluate("03.1", (60, 50))[0]
    ok, msg = evaluate("03.2", lambda p, t: (p.abs().mean() / t.abs().mean()).item())
    assert not ok and "sqrt" in msg
    assert not evaluate("03.2", lambda p, t: (t.norm(dim=1).mean() / p.norm(dim=1).mean()).item())[0]
    ok, msg = evaluate("03.3", (40.0, 0.0))
    assert not ok and "average" in msg


def test_unanswered_and_malformed():
    assert "not answered" in evaluate("03.1", ...)[1]
    ok, msg = evaluate("03.2", "ratio")
    assert not ok and "not yet" in msg
    assert not evaluate("03.2", lambda p, t: torch.tensor(float("nan")))[0]
