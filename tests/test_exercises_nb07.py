from colorkit.exercises import evaluate, keys
from colorkit.exercises.nb07 import (
    N_PHOTOS,
    PHOTO_FACTOR,
    PHOTO_H,
    PHOTO_W,
    RENDER_FACTOR,
    SCORES,
    TOL_FC,
    TOL_SEM,
    pick,
)
from colorkit.infer import render_size
from colorkit.train import select


def test_keys():
    assert keys("07") == ["07.1", "07.2", "07.3"]


def test_reference_solutions_agree_with_the_library_and_pass():
    assert evaluate("07.1", (render_size(RENDER_FACTOR), 16))[0] and render_size(RENDER_FACTOR) == 336
    assert evaluate("07.2", render_size(PHOTO_FACTOR) ** 2 / (PHOTO_W * PHOTO_H))[0]
    rows = [{"step": s, "phase": "critic" if i == 0 else "gan", "colorfulness": c, "false_colour": f,
             "semantic_top1": m, "n_images": N_PHOTOS} for i, (s, c, f, m) in enumerate(SCORES)]
    assert TOL_FC == select.TOL_FC and TOL_SEM == select.semantic_tolerance(rows)
    found = select.inflection(rows)
    assert found["chosen"]["step"] == pick() == 330 and found["turn"]["step"] == 340
    assert evaluate("07.3", 330)[0]


def test_typical_wrong_answers_fail_with_hints():
    ok, msg = evaluate("07.1", (21 * 21, 16))
    assert not ok and "linearly" in msg
    ok, msg = evaluate("07.1", (336, 256))
    assert not ok and "factor that gives it" in msg
    share = 560 ** 2 / 12e6
    ok, msg = evaluate("07.2", 1 - share)
    assert not ok and "does not see" in msg
    ok, msg = evaluate("07.2", 560 / 4000)
    assert not ok and "Count pixels" in msg
    ok, msg = evaluate("07.3", 340)
    assert not ok and "turn itself" in msg
    ok, msg = evaluate("07.3", 350)
    assert not ok and "most colourful" in msg
    ok, msg = evaluate("07.3", 320)
    assert not ok and "Highest semantic" in msg
    assert not evaluate("07.3", 310)[0]
