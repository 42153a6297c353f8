import math

from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb02 import chain_solution


def test_keys():
    assert keys("02") == ["02.1", "02.2", "02.3"]


def test_reference_solutions_pass():
    assert evaluate("02.1", math.exp(-0.6))[0]
    assert evaluate("02.2", float(chain_solution()[1]))[0]
    assert evaluate("02.3", 133504)[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("02.1", math.exp(-0.3))
    assert not ok and "2σ²" in msg
    ok, msg = evaluate("02.2", 0.0)
    assert not ok and "equal" in msg
    ok, msg = evaluate("02.3", 135000)
    assert not ok and "border" in msg
