from colorkit.exercises import evaluate, keys


def test_keys():
    assert keys("01") == ["01.1", "01.2", "01.3"]


def test_reference_solutions_pass():
    assert evaluate("01.1", (53.24, 80.09, 67.20))[0]
    assert evaluate("01.2", (35, 0))[0]
    assert evaluate("01.3", 54)[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("01.1", (100, 0, 0))
    assert not ok and "Y = 0.2127" in msg
    assert not evaluate("01.1", (53.24, 60.0, 67.2))[0]
    ok, msg = evaluate("01.2", (60, 50))
    assert not ok and "averages" in msg
    assert not evaluate("01.2", (35, 10))[0]
    assert not evaluate("01.3", 95)[0]
    assert not evaluate("01.3", 150)[0]


def test_unanswered_and_malformed():
    ok, msg = evaluate("01.1", ...)
    assert not ok and "not answered" in msg
    ok, msg = evaluate("01.2", "red")
    assert not ok and "not yet" in msg
