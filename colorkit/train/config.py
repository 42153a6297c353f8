"""Training configs: YAML over defaults, budgets per profile, phases, per-network optimisers.

A config (``configs/NAME.yaml``) names the data, the chroma space, the
networks, the loss, the optimiser and schedule, and per-profile ``budgets``
merged over the rest (``quick``: a tiny model for a few steps; ``full``: the
real run). A run is a list of *phases*; a config without ``phases`` has one
(``train``), with ``train.steps`` steps of the config's ``method``::

    method: gan
    model: {arch: unet, ...}                 # the colorizer, network "net"
    nets: {critic: {arch: patchgan, n_layers: 2}}
    optim: {lr: 2.0e-4, betas: [0.5, 0.999]}           # every network's default
    optims: {critic: {lr: 4.0e-4}}                       # per network (two time-scale rates)
    phases:                                              # run in this order
      generator: {method: supervised, steps: 2000, trainable: [net], loss: {kind: l1}}
      critic:    {steps: 500, trainable: [critic]}
      gan:       {steps: 500, trainable: [net, critic], optims: {net: {lr: 1.0e-5}}}

A config may start from another with ``base: OTHER`` (a bare name or path) and
give only what differs; everything else, ``budgets`` included, is OTHER's, except
that a variant giving ``phases`` replaces OTHER's phases (in its budgets too).

A phase may set ``method``, ``steps``, ``trainable`` (network names; default
all), ``freeze`` (sub-modules kept fixed, e.g. ``net.encoder``), ``loss`` (over
the config's) and ``optims`` (per network, over ``optim`` and ``optims``). An
optimiser section holds ``lr``, ``betas``, ``weight_decay``, ``grad_clip`` and
a ``schedule`` (over the config's ``schedule``), each restarting with its phase;
``keep_every`` and ``eval_every`` (over ``train.keep_every`` and ``eval.every``)
keep and score snapshots in that phase only (NoGAN: often in its GAN phase).
A phase may also change the crops (``data``: ``size``, ``min_crop``,
``max_crop``), e.g. a curriculum that ends at the working size; the photos and
the position in the stream stay the same.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import yaml

from colorkit import methods
from colorkit.color import check_space
from colorkit.errors import ColorkitError
from colorkit.paths import CONFIGS_DIR

DEFAULTS: dict = {
    "name": None,
    "method": None,  # supervised | gan (default: supervised)
    "seed": 0,
    "space": "lab",  # lab | yuv: the batch keys, the model's input and output units
    "data": {"source": "photoset", "folder": None, "size": 64, "min_crop": 64, "max_crop": 128, "workers": 0},
    "model": {"arch": "unet"},
    "nets": {},  # extra networks (e.g. critic: {...})
    "init": {},  # {network name: checkpoint to copy weights from}
    "loss": {"kind": "l2", "rebalance": None},
    "optim": {"lr": 2.0e-4, "betas": [0.9, 0.999], "weight_decay": 0.0},
    "optims": {},  # per network: overrides of `optim`
    "schedule": {"kind": "cosine", "warmup": 0, "min_lr": 0.1, "every": 1000, "gamma": 0.5},
    "phases": None,
    "train": {"steps": 1000, "batch": 32, "ckpt_every": 250, "log_every": 10, "keep_every": 0, "grad_clip": None,
              "amp": True},
    # eval.photos: score "samples" (data/samples) or the first eval.n "val" photos of the training source
    # (selection by score must not look at the evaluation samples); eval.semantic adds semantic agreement;
    # eval.select: how a run with scored snapshots picks the one it exports (colorkit.train.select)
    "eval": {"every": 0, "val_batches": 4, "samples": True, "size": 256, "temperature": 0.38, "photos": "samples",
             "n": 48, "semantic": False, "select": "score"},
    "budgets": {},
}
TRAIN_PROFILES = ("quick", "full")
PHASE_KEYS = {"method", "steps", "trainable", "freeze", "loss", "optims", "keep_every", "eval_every", "data"}
PHASE_DATA_KEYS = {"size", "min_crop", "max_crop"}  # what a phase may change in ``data``


def merge(base: dict, over: dict | None) -> dict:
    """Deep merge: dicts merge key by key, anything else in ``over`` replaces."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def resolve_config_path(config: str | os.PathLike) -> Path:
    """A config path, or a bare name looked up as ``configs/NAME.yaml``."""
    p = Path(config)
    if p.exists():
        return p
    named = CONFIGS_DIR / f"{p.stem}.yaml"
    if p.suffix in ("", ".yaml") and named.exists():
        return named
    raise ColorkitError("no such config (give a path or a name from configs/)", path=config)


def _read(config: str | os.PathLike | dict, seen: tuple = ()) -> tuple[dict, str]:
    """(raw mapping, stem) of a config; ``base: OTHER`` makes it OTHER's mapping with this one merged over it
    (its ``name`` is not inherited), so a variant names only what it changes."""
    if isinstance(config, dict):
        raw, stem, path = config, "model", None
    else:
        path = resolve_config_path(config)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ColorkitError(f"not valid YAML ({e})", path=path) from None
        if not isinstance(raw, dict):
            raise ColorkitError("a config must be a YAML mapping", path=path)
        stem = path.stem
    if raw.get("base"):
        here = (*seen, str(path.resolve()) if path is not None else stem)
        if str(resolve_config_path(raw["base"]).resolve()) in here:
            raise ColorkitError(f"config bases form a loop: {' -> '.join([*here, str(raw['base'])])}", path=path)
        parent, _ = _read(raw["base"], here)
        parent = {k: v for k, v in parent.items() if k != "name"}
        if "phases" in raw:  # a phase list is a program: a variant that gives one replaces the base's
            parent.pop("phases", None)
            for budget in (parent.get("budgets") or {}).values():
                (budget or {}).pop("phases", None)
        raw = merge(parent, {k: v for k, v in raw.items() if k != "base"})
    return raw, stem


def network_configs(cfg: dict) -> dict[str, dict]:
    """Network name -> model section: ``net`` (the colorizer) and every entry of ``nets``."""
    return {"net": cfg["model"], **cfg["nets"]}


def load_config(config: str | os.PathLike | dict, profile: str = "full") -> dict:
    """The config for ``profile``: file (or dict) over :data:`DEFAULTS`, ``budgets[profile]`` over that,
    with ``phases`` expanded to a list (see the module docstring) and ``train.steps`` their total."""
    raw, stem = _read(config)
    if profile not in TRAIN_PROFILES:
        raise ColorkitError(f"training profile must be one of {', '.join(TRAIN_PROFILES)}, not {profile!r}")
    cfg = merge(DEFAULTS, raw)
    cfg = merge(cfg, (cfg.pop("budgets") or {}).get(profile, {}))
    cfg["name"] = cfg["name"] or stem
    cfg["profile"] = profile
    name = cfg["name"]
    check_space(cfg["space"])
    if cfg["space"] != "lab":
        for mc in network_configs(cfg).values():
            mc.setdefault("space", cfg["space"])
    cfg["method"] = methods.canonical(cfg["method"] or "supervised")
    t = cfg["train"]
    for key in ("batch", "ckpt_every", "log_every"):
        if not isinstance(t[key], int) or t[key] < 1:
            raise ColorkitError(f"config {name}: train.{key} must be a positive integer, got {t[key]!r}")
    if t["ckpt_every"] % t["log_every"]:
        raise ColorkitError(f"config {name}: train.ckpt_every must be a multiple of train.log_every")
    if not isinstance(t["keep_every"], int) or t["keep_every"] < 0:
        raise ColorkitError(f"config {name}: train.keep_every must be 0 (off) or a positive integer, "
                            f"got {t['keep_every']!r}")
    if cfg["eval"]["select"] not in ("score", "inflection"):
        raise ColorkitError(f"config {name}: eval.select must be score or inflection (colorkit.train.select), "
                            f"not {cfg['eval']['select']!r}")
    if cfg["eval"]["photos"] not in ("samples", "val"):
        raise ColorkitError(f"config {name}: eval.photos must be samples or val, not {cfg['eval']['photos']!r}")
    cfg["phases"] = expand_phases(cfg)
    t["steps"] = sum(p["steps"] for p in cfg["phases"])
    return cfg


def expand_phases(cfg: dict) -> list[dict]:
    """The config's phases as a list of complete dicts (one phase ``train`` when none are given)."""
    name, nets = cfg["name"], network_configs(cfg)
    given = cfg["phases"] or {"train": {"steps": cfg["train"]["steps"]}}
    if not isinstance(given, dict):
        raise ColorkitError(f"config {name}: phases must be a mapping of phase name -> settings")
    out = []
    for pname, p in given.items():
        p = p or {}
        unknown = set(p) - PHASE_KEYS
        if unknown:
            raise ColorkitError(f"config {name}: phase {pname!r} has unknown keys {sorted(unknown)}; "
                                f"allowed: {sorted(PHASE_KEYS)}")
        steps = p.get("steps")
        if not isinstance(steps, int) or steps < 1:
            raise ColorkitError(f"config {name}: phase {pname!r} needs a positive integer steps, got {steps!r}")
        method = methods.canonical(p.get("method") or cfg["method"])
        needed = methods.METHODS[method].networks
        missing = [n for n in needed if n not in nets]
        if missing:
            raise ColorkitError(f"config {name}: method {method!r} needs networks {missing} (add them under nets:)")
        trainable = list(p.get("trainable") or needed)
        bad = [n for n in trainable if n not in nets]
        if bad:
            raise ColorkitError(f"config {name}: phase {pname!r} trains unknown networks {bad}; "
                                f"networks: {list(nets)}")
        optims = {}
        for n in trainable:
            o = merge(merge(cfg["optim"], cfg["optims"].get(n)), (p.get("optims") or {}).get(n))
            o["schedule"] = merge(cfg["schedule"], o.get("schedule"))
            o.setdefault("grad_clip", cfg["train"]["grad_clip"])
            lr_factor(0, o["schedule"], steps)  # a bad schedule fails now, not at the first step
            optims[n] = o
        every = {}
        for key, default in (("keep_every", cfg["train"]["keep_every"]), ("eval_every", cfg["eval"]["every"])):
            every[key] = p.get(key, default)
            if not isinstance(every[key], int) or every[key] < 0:
                raise ColorkitError(f"config {name}: phase {pname!r}: {key} must be 0 (off) or a positive integer, "
                                    f"got {every[key]!r}")
        crops = p.get("data") or {}
        if not isinstance(crops, dict) or set(crops) - PHASE_DATA_KEYS:
            raise ColorkitError(f"config {name}: phase {pname!r}: data may only set {sorted(PHASE_DATA_KEYS)}, "
                                f"got {crops!r}")
        data = merge(cfg["data"], crops)
        if not all(isinstance(data[k], int) and data[k] > 0 for k in PHASE_DATA_KEYS) \
                or not data["min_crop"] <= data["max_crop"]:
            raise ColorkitError(f"config {name}: phase {pname!r}: crop sizes must be positive integers with "
                                f"min_crop <= max_crop, got {({k: data[k] for k in sorted(PHASE_DATA_KEYS)})}")
        out.append({"name": str(pname), "method": method, "steps": steps, "trainable": trainable,
                    **({"data": data} if crops else {}),  # only a phase that changes the crops carries its own
                    "freeze": list(p.get("freeze") or []), "loss": merge(cfg["loss"], p.get("loss")),
                    "optims": optims, **every})
    return out


def lr_factor(step: int, sched: dict, total: int) -> float:
    """Learning-rate multiplier at ``step`` of ``total``: linear warm-up, then constant | cosine | step decay."""
    warm = int(sched.get("warmup") or 0)
    if step < warm:
        return (step + 1) / warm
    kind = sched.get("kind", "constant")
    if kind == "constant":
        return 1.0
    if kind == "cosine":
        t = (step - warm) / max(1, total - warm)
        lo = float(sched.get("min_lr", 0.0))
        return lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    if kind == "step":
        return float(sched.get("gamma", 0.5)) ** ((step - warm) // int(sched.get("every", 1000)))
    raise ColorkitError(f"schedule.kind must be constant, cosine or step, not {kind!r}")
