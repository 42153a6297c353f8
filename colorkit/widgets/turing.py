"""A colorization Turing test: the real photo and a colorized one side by side — which is real?

Zhang et al. (ECCV 2016) asked people to pick the real photo of a pair, each shown for one
second, and counted how often a colorization was picked ("fooling rate": 32 % for their best
model, 50 % would be indistinguishable); seed 000 ran the same test with 40 participants (23 %).

    pairs = make_pairs(truths, {"nogan": fakes_nogan, "reg_l2": fakes_l2}, per_method=10, seed=1)
    test = TuringTest(pairs, flash=1.0)       # show each pair for 1 s, then only the buttons
    test.widget                               # in a notebook: click "left" or "right" for each pair
    sessions = load_sessions()                # every saved session in reports/turing/, pooled
    fooling_rates(sessions)                   # method -> fooled, n, rate and its Wilson 95 % interval

The real photo's side is random for every pair, and the pairs come in random order. When the last
answer is given the session is saved as a new JSON file (``session-<time>-<random>.json``) in
``out_dir``: a file is never overwritten, so several people can take the test one after another,
and :func:`load_sessions` pools their files.

DOM classes for browser tests: images ``colorkit-turing-left`` / ``colorkit-turing-right``, buttons
``colorkit-turing-pick-left`` / ``colorkit-turing-pick-right``, the status line ``colorkit-turing-status``.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.metrics.stats import wilson_interval
from colorkit.paths import REPORTS_DIR
from colorkit.widgets import png_bytes

TURING_DIR = REPORTS_DIR / "turing"
SIDES = ("left", "right")


@dataclass(frozen=True)
class Pair:
    photo: str
    method: str
    real: np.ndarray
    fake: np.ndarray


def make_pairs(truths: dict[str, np.ndarray], fakes: dict[str, dict[str, np.ndarray]], per_method: int,
               seed: int | None = None) -> list[Pair]:
    """``per_method`` pairs for each method: photos drawn at random (no photo twice per method) from those
    the method colorized, each its real photo against the method's colorization; all pairs shuffled."""
    if isinstance(per_method, bool) or not isinstance(per_method, int) or per_method < 1:
        raise ColorkitError(f"make_pairs: per_method must be a positive integer, got {per_method!r}")
    rng = np.random.default_rng(seed)
    pairs = []
    for method, outs in fakes.items():
        names = sorted(n for n in outs if n in truths)
        if len(names) < per_method:
            raise ColorkitError(f"make_pairs: {method} colorized {len(names)} of the photos, fewer than "
                                f"per_method={per_method}")
        for name in rng.choice(names, size=per_method, replace=False):
            real, fake = truths[name], outs[name]
            if real.shape != fake.shape:
                raise ColorkitError(f"make_pairs: {method}'s {name} is {fake.shape}, the photo {real.shape}")
            pairs.append(Pair(str(name), method, real, fake))
    return [pairs[i] for i in rng.permutation(len(pairs))]


def _unique_path(out_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return out_dir / f"session-{stamp}-{secrets.token_hex(3)}.json"


def save_session(session: dict, out_dir=TURING_DIR) -> Path:
    """Write ``session`` as a new JSON file in ``out_dir``, atomically, never replacing an existing file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(10):
        path = _unique_path(out_dir)
        tmp = atomic_write(out_dir / f".{path.name}.part", json.dumps(session, indent=1))
        try:
            os.link(tmp, path)  # fails if the name exists: an earlier session is never overwritten
        except FileExistsError:
            continue
        finally:
            tmp.unlink()
        return path
    raise ColorkitError("could not find a free file name for the session", path=out_dir)


class TuringTest:
    """The test as an ``ipywidgets`` box (:attr:`widget`): one pair at a time, two buttons, a status line.

    ``flash``: seconds each pair is shown before the images hide (Zhang et al.: 1), None to keep them.
    ``seed``: fixes the sides of the real photos (the order is the order of ``pairs``). After the last
    answer the session is saved (:func:`save_session`) and :attr:`saved` holds its path.
    """

    def __init__(self, pairs: list[Pair], out_dir=TURING_DIR, flash: float | None = None, seed: int | None = None,
                 participant: str = "", width: int = 360):
        import ipywidgets as w

        if not pairs:
            raise ColorkitError("TuringTest: no pairs to show")
        if flash is not None and not flash > 0:
            raise ColorkitError(f"TuringTest: flash must be a positive number of seconds or None, got {flash!r}")
        rng = np.random.default_rng(seed)
        self.pairs, self.out_dir, self.flash, self.participant = list(pairs), Path(out_dir), flash, participant
        self.real_side = [SIDES[int(b)] for b in rng.integers(0, 2, len(self.pairs))]
        self.answers: list[dict] = []
        self.saved: Path | None = None
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._shown_at = 0.0
        self._timer: threading.Timer | None = None
        self.left, self.right = (w.Image(format="png", width=width) for _ in SIDES)
        self.left.add_class("colorkit-turing-left")
        self.right.add_class("colorkit-turing-right")
        self.pick = {s: w.Button(description=f"the {s} one is real", layout=w.Layout(width=f"{width}px"))
                     for s in SIDES}
        for s, b in self.pick.items():
            b.add_class(f"colorkit-turing-pick-{s}")
            b.on_click(lambda _b, s=s: self.answer(s))
        self.status = w.HTML()
        self.status.add_class("colorkit-turing-status")
        self.widget = w.VBox([self.status, w.HBox([self.left, self.right]), w.HBox(list(self.pick.values()))])
        self._show()

    def _show(self) -> None:
        i = len(self.answers)
        if i == len(self.pairs):
            return
        p = self.pairs[i]
        real, fake = png_bytes(p.real), png_bytes(p.fake)
        self.left.value, self.right.value = (real, fake) if self.real_side[i] == "left" else (fake, real)
        for im in (self.left, self.right):
            im.layout.visibility = "visible"
        self.status.value = f"<b>Which photo is real?</b> Pair {i + 1} of {len(self.pairs)}."
        self._shown_at = time.monotonic()
        if self.flash is not None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.flash, self._hide, args=(i,))
            self._timer.daemon = True
            self._timer.start()

    def _hide(self, i: int) -> None:
        if len(self.answers) == i:  # still the same pair
            for im in (self.left, self.right):
                im.layout.visibility = "hidden"

    def answer(self, side: str) -> None:
        """Record that the ``side`` ("left" | "right") photo of the current pair was picked as the real one."""
        if side not in SIDES:
            raise ColorkitError(f"answer: side must be 'left' or 'right', not {side!r}")
        i = len(self.answers)
        if i == len(self.pairs):
            return  # the test is over; late clicks change nothing
        p = self.pairs[i]
        self.answers.append({"photo": p.photo, "method": p.method, "real_side": self.real_side[i], "picked": side,
                             "fooled": side != self.real_side[i],
                             "seconds": round(time.monotonic() - self._shown_at, 3)})
        if len(self.answers) < len(self.pairs):
            self._show()
            return
        if self._timer is not None:
            self._timer.cancel()
        self.saved = save_session(self.session(), self.out_dir)
        fooled = sum(a["fooled"] for a in self.answers)
        for b in self.pick.values():
            b.disabled = True
        for im in (self.left, self.right):
            im.layout.visibility = "hidden"
        self.status.value = (f"<b>Done.</b> You picked the colorization as the real photo in {fooled} of "
                             f"{len(self.answers)} pairs. Answers saved to <code>{self.saved.name}</code>.")

    def session(self) -> dict:
        return {"participant": self.participant, "started": self.started,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"), "flash": self.flash,
                "answers": self.answers}


def load_sessions(folder=TURING_DIR) -> list[dict]:
    """Every saved session (``session-*.json``) in ``folder``, oldest name first; [] if there are none."""
    folder = Path(folder)
    sessions = []
    for path in sorted(folder.glob("session-*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            if not isinstance(data.get("answers"), list):
                raise ValueError("no list of answers")
        except (OSError, ValueError, AttributeError) as exc:
            raise ColorkitError(f"not a Turing-test session ({exc})", path=path) from exc
        data["file"] = path.name
        sessions.append(data)
    return sessions


def fooling_rates(sessions: list[dict], level: float = 0.95) -> dict[str, dict]:
    """Per method, pooled over every answer of every session: ``fooled``, ``n``, ``rate`` and the Wilson
    interval ``low``, ``high`` at ``level``. 50 % means people could not tell it from the real photo."""
    counts: dict[str, list[int]] = {}
    for s in sessions:
        for a in s["answers"]:
            c = counts.setdefault(a["method"], [0, 0])
            c[0] += bool(a["fooled"])
            c[1] += 1
    out = {}
    for method, (k, n) in sorted(counts.items()):
        low, high = wilson_interval(k, n, level)
        out[method] = {"fooled": k, "n": n, "rate": k / n, "low": low, "high": high}
    return out
