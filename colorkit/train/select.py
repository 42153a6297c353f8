"""Choosing one of a run's snapshots by a score, as seed 000 chose among its per-epoch GAN models.

A GAN's losses say how the generator does *against the critic*, not how good
its colours are, so a GAN run keeps a snapshot every ``train.keep_every``
steps (:mod:`colorkit.train.loop`) and scores each on validation photos
(``eval.photos: val``, never the evaluation samples). Petre & Trăușan-Matu
(seed 000) scored each epoch's model with an Inception-model score, kept the
best candidates and then inspected them. The Inception score rewards images
that an ImageNet classifier recognises confidently and that are varied; here
two numbers of the metric suite stand in for it:

- **semantic agreement** (top-1): how often EfficientNet-Lite2 gives the
  colorized photo the class it gives the original (Zhang et al.'s semantic
  interpretability) — recognisable colours;
- **colourfulness** (Hasler & Süsstrunk) relative to the originals' — colours
  at all, rather than the grey that the L1 term pulls towards.

The rule (:data:`RULE`, applied by :func:`select`)::

    score = semantic_top1 × min(1, colourfulness / colourfulness of the originals)

among the snapshots of the last ``1 - burn_in`` of the run (seed 000 set the
early epochs aside: "a high probability that the artifacts can appear");
the highest score wins, the later snapshot on a tie. Capping the colourfulness
ratio at 1 means a garish model earns nothing over a faithful one.

    rows = snapshot_scores("runs/gan_seed000/full")         # one row per snapshot, with its score
    best = select(rows)                                      # the chosen row
    export_selected("runs/gan_seed000/full", "data/checkpoints")
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from colorkit import checkpoint
from colorkit.errors import ColorkitError

RULE = ("score = semantic agreement (top-1) × min(1, colourfulness / originals' colourfulness), "
        "over the snapshots after the first {burn_in:.0%} of the steps; the highest score wins (a tie: the later)")
BURN_IN = 0.25


def score(row: dict) -> float:
    """The selection score of one scored row (keys ``semantic_top1``, ``colorfulness``, ``true_colorfulness``,
    with or without an ``eval_`` prefix). nan when a number is missing."""
    def get(key):
        v = row.get(key, row.get(f"eval_{key}"))
        return float(v) if v not in (None, "") else math.nan
    sem, col, ref = get("semantic_top1"), get("colorfulness"), get("true_colorfulness")
    if not ref > 0:
        return math.nan
    return sem * min(1.0, col / ref)


def snapshot_scores(source: str | os.PathLike | list[dict], steps: list[int] | None = None) -> list[dict]:
    """One row per scored snapshot: ``step``, ``phase``, the ``eval_*`` numbers and ``score``.

    ``source``: a run folder (the log of its ``checkpoint.pt``, and its ``snapshots/``), a
    checkpoint or model name, or log rows. A run folder limits the rows to the steps that have a
    snapshot file; ``steps`` limits them explicitly.
    """
    if isinstance(source, list):
        rows = source
    else:
        p = Path(source)
        if p.is_dir():
            rows = checkpoint.read_log(p / "checkpoint.pt")
            if steps is None:
                steps = sorted(int(s.stem.split("_")[1]) for s in (p / "snapshots").glob("step_*.pt"))
        else:
            rows = checkpoint.read_log(source)
    out = []
    for r in rows:
        if "eval_semantic_top1" not in r or r["eval_semantic_top1"] in (None, ""):
            continue
        if steps is not None and int(r["step"]) not in steps:
            continue
        out.append({"step": int(r["step"]), "phase": r.get("phase", ""),
                    **{k[5:]: float(v) for k, v in r.items() if k.startswith("eval_") and v not in (None, "")},
                    "score": score(r)})
    return out


def select(rows: list[dict], burn_in: float = BURN_IN) -> dict:
    """The chosen row of :func:`snapshot_scores` by :data:`RULE` (its ``candidate`` rows are the ones after burn-in)."""
    if not rows:
        raise ColorkitError("no scored snapshots to choose from (the run needs eval.semantic and train.keep_every)")
    last = max(r["step"] for r in rows)
    candidates = [r for r in rows if r["step"] > burn_in * last and not math.isnan(r["score"])]
    if not candidates:
        raise ColorkitError(f"no scored snapshot after the first {burn_in:.0%} of the run")
    return max(candidates, key=lambda r: (r["score"], r["step"]))


def export_selected(run: str | os.PathLike, out_dir: str | os.PathLike, burn_in: float = BURN_IN) -> Path:
    """Export the chosen snapshot of run folder ``run`` as ``out_dir/NAME.pt`` (+ ``.json``, ``.log.csv``).

    The exported file carries the whole run's log (not only the log up to the chosen step)
    and, under ``extra.selection``, the rule, every candidate's score and the chosen step.
    """
    run = Path(run)
    rows = snapshot_scores(run)
    best = select(rows, burn_in)
    snap = checkpoint.load(run / "snapshots" / f"step_{best['step']:06d}.pt")
    full = checkpoint.load(run / "checkpoint.pt")
    snap["log"] = checkpoint.log_rows(full)
    snap["extra"] = {**(snap.get("extra") or {}), "selection": {
        "rule": RULE.format(burn_in=burn_in), "burn_in": burn_in, "chosen_step": best["step"],
        "run_steps": int(full["step"]), "run_wall": float(full["wall"]),
        "scores": [{"step": r["step"], "score": r["score"], "semantic_top1": r.get("semantic_top1"),
                    "colorfulness": r.get("colorfulness"), "true_colorfulness": r.get("true_colorfulness"),
                    "false_colour": r.get("false_colour"), "psnr": r.get("psnr")} for r in rows]}}
    snap["eval"] = {k: v for k, v in best.items() if k not in ("phase",)}
    return checkpoint.export(snap, Path(out_dir) / f"{snap['name']}.pt")
