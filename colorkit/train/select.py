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

**The inflection point** (DeOldify's NoGAN, ``eval.select: inflection``). NoGAN's
GAN phase is short and starts from a generator that is already good; Antic
saved a checkpoint every 0.1 % of the data and kept the one just before the
artefacts set in ("orange skin"): colours keep getting bolder while they stop
being right. :func:`inflection` writes that down (:data:`INFLECTION_RULE`)::

    walk the GAN phase's snapshots in step order, after the last snapshot before it (the
    generator as it entered the GAN phase); the first snapshot whose colourfulness is still
    rising (above the previous snapshot's) while its false colour exceeds the lowest so far
    by more than tol_fc, or its semantic top-1 falls below the highest so far by more than
    tol_sem, is the turn; keep the snapshot before it; with no turn, the last.

The tolerances keep scoring noise from triggering it. Semantic top-1 is a share
of n photos, and a share measured on n photos has a standard error of at most
0.5/√n, so ``tol_sem`` defaults to two of them, 1/√n (0.18 on 32 photos: six
photos). False colour is a share of pixels, pooled over the photos; ``tol_fc``
= 0.05 asks that 5 % more of the truly grey pixels be painted than at the best
snapshot so far, a change one sees. Notebook 07 shows how the choice moves
with both.
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
INFLECTION_RULE = ("walk the {phase} phase's snapshots in step order, after the last snapshot before it; the first "
                   "one whose colourfulness still rises (above the previous snapshot's) while its false colour "
                   "exceeds the lowest so far by more than {tol_fc} or its semantic top-1 falls below the highest "
                   "so far by more than {tol_sem:.3f} (1/sqrt(n photos)) is the turn; keep the snapshot before it "
                   "(no turn: the last)")
TOL_FC = 0.05


def semantic_tolerance(rows: list[dict]) -> float:
    """Two standard errors of a share measured on the rows' photos, at worst: 1/√n (n: the fewest ``n_images``)."""
    ns = [r["n_images"] for r in rows if isinstance(r.get("n_images"), (int, float)) and r["n_images"] > 0]
    if not ns:
        raise ColorkitError("inflection: the scored snapshots do not say how many photos they were scored on "
                            "(n_images); pass tol_sem")
    return 1.0 / math.sqrt(min(ns))


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


def inflection(rows: list[dict], phase: str = "gan", tol_fc: float = TOL_FC, tol_sem: float | None = None) -> dict:
    """The inflection point of :data:`INFLECTION_RULE` over rows of :func:`snapshot_scores`.

    Returns ``{"chosen": row, "turn": row or None, "reason": str, "walk": [rows], "tol_fc", "tol_sem"}``:
    ``walk`` is the reference (the last row before ``phase``, when there is one) followed by the phase's
    rows, by step. ``tol_sem`` defaults to :func:`semantic_tolerance` of the walk.
    """
    rows = sorted(rows, key=lambda r: r["step"])
    inside = [r for r in rows if r.get("phase") == phase]
    if not inside:
        raise ColorkitError(f"no scored snapshots in the {phase!r} phase to choose from "
                            f"(phases scored: {sorted({r.get('phase', '') for r in rows})})")
    before = [r for r in rows if r["step"] < inside[0]["step"]]
    walk = before[-1:] + inside
    tol_sem = semantic_tolerance(walk) if tol_sem is None else float(tol_sem)
    tols = {"tol_fc": float(tol_fc), "tol_sem": tol_sem}
    for key in ("colorfulness", "false_colour", "semantic_top1"):
        missing = [r["step"] for r in walk if not isinstance(r.get(key), (int, float)) or math.isnan(r[key])]
        if missing:
            raise ColorkitError(f"inflection: snapshots at steps {missing} have no {key} score")
    for i in range(1, len(walk)):
        r, prev = walk[i], walk[i - 1]
        low_fc = min(x["false_colour"] for x in walk[:i])
        high_sem = max(x["semantic_top1"] for x in walk[:i])
        if r["colorfulness"] <= prev["colorfulness"]:
            continue
        why = []
        if r["false_colour"] > low_fc + tol_fc:
            why.append(f"false colour {r['false_colour']:.3f} > lowest so far {low_fc:.3f} + {tol_fc}")
        if r["semantic_top1"] < high_sem - tol_sem:
            why.append(f"semantic top-1 {r['semantic_top1']:.3f} < highest so far {high_sem:.3f} - {tol_sem:.3f}")
        if why:
            reason = (f"step {r['step']}: colourfulness still rising ({prev['colorfulness']:.1f} -> "
                      f"{r['colorfulness']:.1f}) while " + " and ".join(why) + f"; keep step {prev['step']}")
            return {"chosen": prev, "turn": r, "reason": reason, "walk": walk, **tols}
    last = walk[-1]
    return {"chosen": last, "turn": None, "walk": walk, **tols,
            "reason": f"no turn within the {phase} phase's {len(inside)} snapshots; keep the last, step {last['step']}"}


def export_selected(run: str | os.PathLike, out_dir: str | os.PathLike, burn_in: float = BURN_IN,
                    rule: str = "score") -> Path:
    """Export the chosen snapshot of run folder ``run`` as ``out_dir/NAME.pt`` (+ ``.json``, ``.log.csv``).

    ``rule``: "score" (:func:`select`) or "inflection" (:func:`inflection`). The exported file carries the
    whole run's log (not only the log up to the chosen step) and, under ``extra.selection``, the rule,
    every candidate's scores and the chosen step (for "inflection", also the turn and the reason).
    """
    run = Path(run)
    rows = snapshot_scores(run)
    if rule == "score":
        best = select(rows, burn_in)
        how = {"rule": RULE.format(burn_in=burn_in), "burn_in": burn_in}
    elif rule == "inflection":
        found = inflection(rows)
        best = found["chosen"]
        how = {"rule": INFLECTION_RULE.format(phase="gan", tol_fc=found["tol_fc"], tol_sem=found["tol_sem"]),
               "tol_fc": found["tol_fc"], "tol_sem": found["tol_sem"],
               "turn_step": found["turn"]["step"] if found["turn"] else None, "reason": found["reason"]}
    else:
        raise ColorkitError(f"export_selected: rule must be score or inflection, not {rule!r}")
    snap = checkpoint.load(run / "snapshots" / f"step_{best['step']:06d}.pt")
    full = checkpoint.load(run / "checkpoint.pt")
    snap["log"] = checkpoint.log_rows(full)
    if isinstance(snap.get("config"), dict):
        snap["config"].setdefault("eval", {})["select"] = rule
    snap["extra"] = {**(snap.get("extra") or {}), "selection": {
        **how, "kind": rule, "chosen_step": best["step"],
        "run_steps": int(full["step"]), "run_wall": float(full["wall"]),
        "scores": [{"step": r["step"], "phase": r.get("phase", ""), "score": r["score"],
                    "semantic_top1": r.get("semantic_top1"), "colorfulness": r.get("colorfulness"),
                    "true_colorfulness": r.get("true_colorfulness"), "false_colour": r.get("false_colour"),
                    "vivid_hue": r.get("vivid_hue"), "n_images": r.get("n_images"), "psnr": r.get("psnr")}
                   for r in rows]}}
    snap["eval"] = {k: v for k, v in best.items() if k not in ("phase",)}
    return checkpoint.export(snap, Path(out_dir) / f"{snap['name']}.pt")
