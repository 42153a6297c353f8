"""Checks for notebook 07 (DeOldify's NoGAN and the render factor)."""

from __future__ import annotations

from colorkit.exercises import exercise
from colorkit.train import select

RENDER_FACTOR = 21  # 07.1: DeOldify's default render factor for video
PHOTO_W, PHOTO_H = 4000, 3000  # 07.2: a 12-megapixel photo ...
PHOTO_FACTOR = 35  # ... colorized at DeOldify's default render factor for photos
# 07.3: scored snapshots (step, colourfulness, false colour, semantic top-1); step 300 is the critic's last snapshot
# (the generator as it enters the GAN phase), the others are the GAN phase's
SCORES = [
    (300, 30.0, 0.080, 0.62),
    (310, 31.5, 0.082, 0.62),
    (320, 33.0, 0.090, 0.63),
    (330, 34.2, 0.095, 0.59),
    (340, 35.1, 0.140, 0.60),
    (350, 36.0, 0.160, 0.50),
]
N_PHOTOS = 25  # scored on 25 photos
TOL_FC, TOL_SEM = 0.05, 0.2  # the tolerances of colorkit.train.select.inflection (TOL_SEM = 1 / sqrt(N_PHOTOS))


def pick(scores=SCORES, tol_fc=TOL_FC, tol_sem=TOL_SEM) -> int:
    """The step :func:`colorkit.train.select.inflection` keeps from ``scores`` (the first row: the critic's end)."""
    rows = [{"step": s, "phase": "critic" if i == 0 else "gan", "colorfulness": c, "false_colour": f,
             "semantic_top1": m} for i, (s, c, f, m) in enumerate(scores)]
    return select.inflection(rows, tol_fc=tol_fc, tol_sem=tol_sem)["chosen"]["step"]


@exercise("07.1", hint="The square the model sees has a side of 16 x render factor pixels. Give (that side, the "
                       "render factor whose square is the 256 px working size the course's other notebooks use).")
def _(answer):
    side, factor = (int(x) for x in answer)
    if side == RENDER_FACTOR ** 2 or side == 16 * 16 * RENDER_FACTOR:
        return False, "The factor scales the side of the square, linearly: side = 16 x factor."
    if factor == 256:
        return False, "256 is the side in pixels; the question asks for the factor that gives it."
    return side == 16 * RENDER_FACTOR and factor == 16


@exercise("07.2", hint="The network sees a square of (16 x factor)^2 pixels; the photo has W x H. Give the share "
                       "of the photo's pixel count that the network's output covers, a float in (0, 1).")
def _(answer):
    share = float(answer)
    want = (16 * PHOTO_FACTOR) ** 2 / (PHOTO_W * PHOTO_H)
    if abs(share - (1 - want)) < 1e-3:
        return False, "That is the share the network does not see; the question asks for the share it does."
    if abs(share - 16 * PHOTO_FACTOR / PHOTO_W) < 1e-3:
        return False, "Count pixels, not one side: the square is (16 x factor) by (16 x factor)."
    return abs(share - want) < 1e-4


@exercise("07.3", hint="Walk the table in step order from step 300. A row is the turn when its colourfulness is "
                       "above the previous row's AND (its false colour is more than TOL_FC above the lowest so far, "
                       "OR its semantic top-1 is more than TOL_SEM below the highest so far). Give the step kept.")
def _(answer):
    step = int(answer)
    chosen = pick()
    turn = SCORES[[s[0] for s in SCORES].index(chosen) + 1][0] if chosen != SCORES[-1][0] else None
    if step == turn:
        return False, "That is the turn itself: the rule keeps the snapshot just before it."
    if step == max(SCORES, key=lambda s: s[1])[0]:
        return False, "The most colourful snapshot is what the GAN drifts towards; by then its colours are wrong."
    if step == max(SCORES, key=lambda s: s[3])[0]:
        return False, ("Highest semantic agreement is not the rule: the rule looks for the first time colour rises "
                       "while quality falls, and keeps everything before it.")
    return step == chosen
