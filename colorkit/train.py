"""One training loop for every learned colorizer.

    colorkit train configs/reg_l2.yaml --profile quick
    colorkit train configs/reg_l2.yaml --profile full --resume

A config (YAML, see ``configs/``) names the data, the network, the loss, the
Adam optimiser, the learning-rate schedule, and per-profile budgets that are
merged over the rest (``quick``: a tiny model for a few steps; ``full``: the
real run). Methods differ only by a *step function*; this file holds the
regression and classification steps, and GAN-style methods add theirs with
:func:`register_method` — never a second loop.

The step-function contract::

    step_fn(batch, models, optims, ctx) -> dict[str, float]

- ``batch``: ``(L (N, 1, s, s), ab (N, 2, s, s))`` on ``ctx.device``;
- ``models``: ``{"net": colorizer, **nets}`` — the config's ``model`` plus any
  extra networks under ``nets:`` (e.g. a critic), all in train mode;
- ``optims``: one Adam per model, same keys (``optim:`` for ``net``, ``optims:``
  overrides for the others);
- ``ctx``: :class:`Context` — the config, the step index, the device,
  ``ctx.autocast()`` for mixed precision, ``ctx.update(loss, "net")`` for
  zero-grad / backward / (grad-scale, clip) / optimiser step, and
  ``ctx.extra``, filled once by the method's optional ``setup_fn(models, ctx)``;
- returns scalar logs; ``"loss"`` is shown in the progress bar, all go to the log.

Runs are reproducible: the data stream is a pure function of (seed, sample
position) (:class:`StreamSampler`), the learning rate a pure function of the
step, and checkpoints hold weights, optimiser and grad-scaler states, RNG
states, the step, the log, the config, the data-manifest hash, wall time and
evaluation numbers. So ``resume=True`` after a kill continues exactly where
the last checkpoint left off. Checkpoints are written atomically and read with
``torch.load(weights_only=True)``.

Outputs go to ``data_dir()/runs/NAME/PROFILE/`` (``checkpoint.pt``,
``log.csv``, ``config.yaml``); committed checkpoints in ``data/checkpoints/``
change only through an explicit ``export_to``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import hashlib
import io as _io
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset, Sampler

from colorkit.errors import ColorkitError
from colorkit.models import build_model, count_params
from colorkit.paths import CONFIGS_DIR, data_dir

# --- configs ---------------------------------------------------------------------------------

DEFAULTS: dict = {
    "name": None,
    "method": None,  # regression | classification | ... (default: from loss.kind)
    "seed": 0,
    "data": {"source": "photoset", "folder": None, "size": 64, "min_crop": 64, "max_crop": 128, "workers": 0},
    "model": {"arch": "unet"},
    "nets": {},  # extra trained networks (e.g. critic: {...})
    "init": {},  # {model name: checkpoint to copy weights from}
    "loss": {"kind": "l2", "rebalance": None},
    "optim": {"lr": 2.0e-4, "betas": [0.9, 0.999], "weight_decay": 0.0},
    "optims": {},  # per extra network: overrides of `optim`
    "schedule": {"kind": "cosine", "warmup": 0, "min_lr": 0.1, "every": 1000, "gamma": 0.5},
    "train": {"steps": 1000, "batch": 32, "ckpt_every": 250, "log_every": 10, "grad_clip": None, "amp": True},
    "eval": {"every": 0, "val_batches": 4, "samples": True, "size": 256, "temperature": 0.38},
    "budgets": {},
}
TRAIN_PROFILES = ("quick", "full")


def _merge(base: dict, over: dict) -> dict:
    """Deep merge: dicts merge key by key, anything else in ``over`` replaces."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
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


def load_config(config: str | os.PathLike | dict, profile: str = "full") -> dict:
    """The config for ``profile``: file (or dict) over :data:`DEFAULTS`, then ``budgets[profile]`` over that."""
    if isinstance(config, dict):
        raw, stem = config, "model"
    else:
        path = resolve_config_path(config)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ColorkitError(f"not valid YAML ({e})", path=path) from None
        if not isinstance(raw, dict):
            raise ColorkitError("a config must be a YAML mapping", path=path)
        stem = path.stem
    if profile not in TRAIN_PROFILES:
        raise ColorkitError(f"training profile must be one of {', '.join(TRAIN_PROFILES)}, not {profile!r}")
    cfg = _merge(DEFAULTS, raw)
    cfg = _merge(cfg, (cfg.pop("budgets") or {}).get(profile, {}))
    cfg["name"] = cfg["name"] or stem
    cfg["profile"] = profile
    cfg["method"] = cfg["method"] or ("classification" if cfg["loss"]["kind"] == "ce" else "regression")
    t = cfg["train"]
    for key in ("steps", "batch", "ckpt_every", "log_every"):
        if not isinstance(t[key], int) or t[key] < 1:
            raise ColorkitError(f"config {cfg['name']}: train.{key} must be a positive integer, got {t[key]!r}")
    if t["ckpt_every"] % t["log_every"]:
        raise ColorkitError(f"config {cfg['name']}: train.ckpt_every must be a multiple of train.log_every")
    if cfg["method"] not in STEP_FNS:
        raise ColorkitError(f"config {cfg['name']}: unknown method {cfg['method']!r}; known: {', '.join(STEP_FNS)}")
    return cfg


# --- the step-function context and the built-in methods -------------------------------------------


@dataclass
class Context:
    """What a step function may use besides the batch, models and optimisers."""

    cfg: dict
    device: torch.device
    optims: dict
    amp_dtype: torch.dtype | None = None  # None: full precision
    scalers: dict = field(default_factory=dict)  # name -> GradScaler (float16 autocast only)
    step: int = 0  # index of the step being taken (0-based)
    extra: dict = field(default_factory=dict)  # filled by the method's setup_fn

    def autocast(self):
        """Mixed precision on CUDA (bfloat16 where supported, else float16); a no-op on CPU."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def update(self, loss: torch.Tensor, name: str = "net") -> None:
        """Zero the grads of optimiser ``name``, backpropagate ``loss``, clip (train.grad_clip), step."""
        opt, scaler = self.optims[name], self.scalers.get(name)
        clip = self.cfg["optims"].get(name, {}).get("grad_clip", self.cfg["train"]["grad_clip"])
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
        else:
            loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], clip)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()


def match_size(ab: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """True ab (N, 2, H, W) area-averaged to the spatial size of a network output (N, C, h, w)."""
    if ab.shape[-2:] == out.shape[-2:]:
        return ab
    return torch.nn.functional.interpolate(ab, size=out.shape[-2:], mode="area")


def regression_setup(models: dict, ctx: Context) -> None:
    from colorkit import losses

    kinds = {"l2": losses.l2_loss, "l1": losses.l1_loss, "smooth_l1": losses.smooth_l1_loss}
    kind = ctx.cfg["loss"]["kind"]
    if kind not in kinds:
        raise ColorkitError(f"regression loss must be one of {', '.join(kinds)}, not {kind!r}")
    ctx.extra["loss_fn"] = kinds[kind]


def regression_loss(batch, models: dict, ctx: Context) -> torch.Tensor:
    """L -> ab; the configured distance to the true ab at the output's size."""
    L, ab = batch
    with ctx.autocast():
        pred = models["net"](L)
    return ctx.extra["loss_fn"](pred.float(), match_size(ab, pred))


def regression_step(batch, models: dict, optims: dict, ctx: Context) -> dict:
    loss = regression_loss(batch, models, ctx)
    ctx.update(loss, "net")
    return {"loss": loss.item()}


def classification_setup(models: dict, ctx: Context) -> None:
    """Bins from the network's head; rebalancing weights from the committed ab histogram (λ = loss.rebalance)."""
    from colorkit import quantize

    if ctx.cfg["loss"]["kind"] != "ce":
        raise ColorkitError(f"classification needs loss.kind 'ce', not {ctx.cfg['loss']['kind']!r}")
    bins = models["net"].head.bins
    ctx.extra["bins"] = bins
    ctx.extra["weights"] = None
    lam = ctx.cfg["loss"].get("rebalance")
    if lam is not None:
        from colorkit import data

        prior = quantize.empirical_prior(data.load_ab_hist()[0], bins.cpu(), sigma=5.0)
        ctx.extra["prior"] = prior
        ctx.extra["weights"] = quantize.rebalance_weights(prior, lam=float(lam)).to(ctx.device)


def classification_loss(batch, models: dict, ctx: Context) -> torch.Tensor:
    """L -> logits (N, Q, h, w); soft-target cross-entropy against the 5-nearest-bin encoding of the true ab."""
    from colorkit import losses, quantize

    L, ab = batch
    with ctx.autocast():
        logits = models["net"](L)
    target = quantize.soft_encode(match_size(ab, logits), ctx.extra["bins"], k=5, sigma=5.0)
    return losses.soft_ce_loss(logits.float(), target, ctx.extra["weights"])


def classification_step(batch, models: dict, optims: dict, ctx: Context) -> dict:
    loss = classification_loss(batch, models, ctx)
    ctx.update(loss, "net")
    return {"loss": loss.item()}


STEP_FNS: dict[str, Callable] = {"regression": regression_step, "classification": classification_step}
SETUP_FNS: dict[str, Callable] = {"regression": regression_setup, "classification": classification_setup}
VAL_LOSS_FNS: dict[str, Callable] = {"regression": regression_loss, "classification": classification_loss}


def register_method(name: str, step_fn: Callable, setup_fn: Callable | None = None,
                    val_loss_fn: Callable | None = None) -> None:
    """Add a training method: ``method: name`` in a config then runs ``step_fn`` in the one loop.

    ``setup_fn(models, ctx)`` runs once before the first step; ``val_loss_fn(batch,
    models, ctx) -> tensor`` (no update) gives the validation loss.
    """
    STEP_FNS[name] = step_fn
    if setup_fn is not None:
        SETUP_FNS[name] = setup_fn
    if val_loss_fn is not None:
        VAL_LOSS_FNS[name] = val_loss_fn


def lr_factor(step: int, sched: dict, total: int) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up, then constant | cosine (to ``min_lr``) | step decay."""
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


# --- data: an endless, seekable, seeded stream ----------------------------------------------


class StreamSampler(Sampler):
    """Positions ``start, start+1, ...`` of an endless stream of per-epoch permutations of ``range(n)``.

    Yields ``(index, position)``; epoch e's order is ``randperm(n)`` seeded by
    (seed, e). Starting at ``start = step · batch`` resumes the stream exactly.
    """

    def __init__(self, n: int, seed: int, start: int = 0):
        self.n, self.seed, self.start = n, seed, start

    def __iter__(self):
        pos, perm, epoch = self.start, None, None
        while True:
            e, i = divmod(pos, self.n)
            if e != epoch:
                epoch = e
                perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 100_003 + e))
            yield int(perm[i]), pos
            pos += 1


class SeededItems(Dataset):
    """``dataset[(index, position)]`` drawn with torch / numpy / random seeded by (seed, position).

    Random crops then depend on the sample's place in the stream only, not on
    worker processes or on where a run was resumed. The caller's RNG states are
    left untouched.
    """

    def __init__(self, dataset, seed: int):
        self.dataset, self.seed = dataset, seed

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        index, position = key
        s = (self.seed * 1_000_003 + position) % (2**31 - 1)
        np_state, py_state = np.random.get_state(), random.getstate()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s)
            np.random.seed(s)
            random.seed(s)
            try:
                return self.dataset[index]
            finally:
                np.random.set_state(np_state)
                random.setstate(py_state)


def folder_hash(paths: list[Path], root: Path) -> str:
    """sha256 over (relative name, size) of the files: a manifest hash for a user folder."""
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.relative_to(root).as_posix()}\t{p.stat().st_size}\n".encode())
    return h.hexdigest()


def make_datasets(cfg: dict, data=None) -> tuple[Dataset, Dataset | None, str]:
    """(train set, val set or None, manifest hash) from ``data`` or the config's data section.

    ``data``: None (use ``data.source``: photoset | folder), a folder of images
    (one in ten files held out for validation), or a ready Dataset of (L, ab)
    pairs (no validation set).
    """
    if isinstance(data, Dataset):
        return data, None, str(getattr(data, "manifest_hash", f"dataset:{type(data).__name__}"))
    d = cfg["data"]
    folder = data if data is not None else (d["folder"] if d["source"] == "folder" else None)
    if folder is not None:
        from colorkit.io import list_images

        root = Path(folder).expanduser()
        paths = list_images(root)
        if not paths:
            raise ColorkitError("no images to train on", path=root)
        val = paths[::10] if len(paths) >= 10 else []
        train = [p for p in paths if p not in set(val)]
        manifest = folder_hash(paths, root)
    elif d["source"] == "photoset":
        from colorkit import data as photos

        train, val = photos.photo_paths("train"), photos.photo_paths("val")
        manifest = photos.load_manifest().hash
    else:
        raise ColorkitError(f"data.source must be photoset or folder, not {d['source']!r}")
    from colorkit.dataset import LabCrops

    kw = dict(size=d["size"], min_crop=d["min_crop"], max_crop=d["max_crop"], seed=cfg["seed"])
    return LabCrops(train, train=True, **kw), (LabCrops(val, train=False, **kw) if val else None), manifest


def _loader(dataset, cfg: dict, start: int, device: torch.device) -> DataLoader:
    w = int(cfg["data"]["workers"])
    return DataLoader(SeededItems(dataset, cfg["seed"]), batch_size=cfg["train"]["batch"],
                      sampler=StreamSampler(len(dataset), cfg["seed"], start), drop_last=True,
                      num_workers=w, persistent_workers=w > 0, pin_memory=device.type == "cuda")


# --- checkpoints -----------------------------------------------------------------------------


def rng_state() -> dict:
    """torch / CUDA / numpy / random states as tensors (weights_only-safe)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.stack(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else torch.empty(0),
        "numpy": torch.from_numpy(keys.astype(np.int64)),
        "numpy_pos": torch.tensor([pos, has_gauss], dtype=torch.int64),
        "numpy_gauss": torch.tensor([gauss], dtype=torch.float64),
        "python": torch.tensor(internal, dtype=torch.int64),
        "python_gauss": torch.tensor([math.nan if gauss_next is None else gauss_next], dtype=torch.float64),
        "python_version": torch.tensor([version]),
    }


def set_rng_state(s: dict) -> None:
    """Inverse of :func:`rng_state`."""
    torch.set_rng_state(s["torch"])
    if torch.cuda.is_available() and s["cuda"].numel():
        torch.cuda.set_rng_state_all(list(s["cuda"]))
    pos, has_gauss = (int(v) for v in s["numpy_pos"])
    np.random.set_state(("MT19937", s["numpy"].numpy().astype(np.uint32), pos, has_gauss, float(s["numpy_gauss"][0])))
    g = float(s["python_gauss"][0])
    random.setstate((int(s["python_version"][0]), tuple(int(v) for v in s["python"]), None if math.isnan(g) else g))


def _atomic(path: str | os.PathLike, write: Callable, mode: str = "wb") -> Path:
    """Call ``write(file)`` on a temp file beside ``path``, then ``os.replace`` it there: never half-written."""
    from colorkit.io import atomic_write

    if "b" in mode:
        return atomic_write(path, write)
    buf = _io.StringIO()
    write(buf)
    return atomic_write(path, buf.getvalue())


def save_atomic(obj: dict, path: str | os.PathLike) -> Path:
    """``torch.save`` atomically (temp file in the same folder, then ``os.replace``)."""
    return _atomic(path, lambda f: torch.save(obj, f))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return _atomic(path, lambda f: f.write(text), mode="w")


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; a clear error for a missing or broken file."""
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


def init_weights(src: str | os.PathLike, name: str = "net") -> dict:
    """fp32 weights of network ``name`` (else ``net``) from a checkpoint path or a committed model name."""
    from colorkit.infer import resolve_checkpoint

    models = load_checkpoint(resolve_checkpoint(src))["models"]
    sd = models.get(name, models["net"])
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def log_csv(log: dict) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(log["columns"])
    for row in log["rows"]:
        w.writerow([int(v) if c == "step" else f"{v:.6g}" for c, v in zip(log["columns"], row)])
    return buf.getvalue()


def export_checkpoint(ckpt: str | os.PathLike | dict, out: str | os.PathLike) -> Path:
    """A training checkpoint -> a small inference file: fp16 weights of every network + metadata.

    Besides ``out`` (``.pt``) writes ``out.with_suffix(".log.csv")`` (the training
    log) and ``.json`` (config, steps, wall time, evaluation numbers) for readers.
    """
    import json

    ck = load_checkpoint(ckpt) if not isinstance(ckpt, dict) else ckpt
    half = {name: {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
            for name, sd in ck["models"].items()}
    meta = {k: ck.get(k) for k in ("name", "method", "profile", "config", "step", "wall", "manifest_hash", "eval",
                                   "log", "params", "torch", "device")}
    out = Path(out)
    save_atomic({"format": "colorkit-model-1", "models": half, **meta}, out)
    if ck.get("log"):
        write_text_atomic(out.with_suffix(".log.csv"), log_csv(ck["log"]))
    info = {k: v for k, v in meta.items() if k != "log"}
    write_text_atomic(out.with_suffix(".json"), json.dumps(info, indent=1, sort_keys=True, default=str) + "\n")
    return out


# --- evaluation during training -------------------------------------------------------------------


@torch.no_grad()
def evaluate_run(models: dict, ctx: Context, val_set, step_log: bool = True) -> dict:
    """Validation loss on fixed val crops, and the metric suite on ``data/samples`` (if enabled and present)."""
    cfg, out = ctx.cfg, {}
    for m in models.values():
        m.eval()
    try:
        val_fn = VAL_LOSS_FNS.get(cfg["method"])
        if val_set is not None and val_fn is not None and cfg["eval"]["val_batches"] > 0:
            loader = DataLoader(SeededItems(val_set, cfg["seed"]), batch_size=cfg["train"]["batch"],
                                sampler=StreamSampler(len(val_set), cfg["seed"] + 1), drop_last=False)
            total, n = 0.0, 0
            for i, (L, ab) in zip(range(cfg["eval"]["val_batches"]), loader):
                with ctx.autocast():
                    total += float(val_fn((L.to(ctx.device), ab.to(ctx.device)), models, ctx)) * len(L)
                n += len(L)
            out["val_loss"] = total / max(n, 1)
        if cfg["eval"]["samples"]:
            from colorkit.evaluate import evaluate_colorizer, sample_images
            from colorkit.infer import Colorizer

            samples = sample_images(missing_ok=True)
            if samples:
                col = Colorizer.from_model(models["net"], cfg, device=ctx.device)
                out.update(evaluate_colorizer(col, samples, size=cfg["eval"]["size"],
                                              temperature=cfg["eval"]["temperature"], progress=False))
    finally:
        for m in models.values():
            m.train()
    return out


# --- the loop ----------------------------------------------------------------------------------


def device_description(dev: torch.device) -> str:
    """Where a run trains, for the checkpoint's record: the GPU's name, or the CPU with its thread count."""
    import platform

    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}"
    return f"cpu: {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def run_dir_for(cfg: dict) -> Path:
    return data_dir() / "runs" / cfg["name"] / cfg["profile"]


def train(config: str | os.PathLike | dict, profile: str = "full", resume: bool = False, data=None,
          out: str | os.PathLike | None = None, export_to: str | os.PathLike | None = None,
          stop_at: int | None = None, device: str | None = None, progress: bool = True) -> Path:
    """Train the model of ``config`` under ``profile``; return the path of its checkpoint.

    ``resume``: continue from the run's checkpoint if there is one (a finished run
    returns at once); otherwise start afresh, replacing the run's old files.
    ``data``: a folder of images or a Dataset instead of the config's data.
    ``out``: the run folder (default ``data_dir()/runs/NAME/PROFILE``).
    ``export_to``: a folder to which the finished model is exported as ``NAME.pt``.
    ``stop_at``: stop once this many steps are done (a checkpoint is written there),
    as if the run had been killed right after it.
    """
    from tqdm.auto import tqdm

    cfg = load_config(config, profile)
    method, t = cfg["method"], cfg["train"]
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    run = Path(out) if out is not None else run_dir_for(cfg)
    run.mkdir(parents=True, exist_ok=True)
    ckpt_path = run / "checkpoint.pt"
    ck = load_checkpoint(ckpt_path) if resume and ckpt_path.exists() else None
    if ck is not None:
        for key in ("method", "model", "nets", "seed", "data"):
            if ck["config"].get(key) != cfg.get(key):
                raise ColorkitError(f"cannot resume: config {key!r} differs from the checkpoint's "
                                    f"({ck['config'].get(key)!r} vs {cfg.get(key)!r}); start afresh instead",
                                    path=ckpt_path)
        if ck["step"] >= t["steps"]:
            print(f"{cfg['name']}: found a finished run ({ck['step']} steps) in {run}")
            if export_to is not None:
                export_checkpoint(ck, Path(export_to) / f"{cfg['name']}.pt")
            return ckpt_path

    # models, optimisers, precision
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    random.seed(cfg["seed"])
    model_cfgs = {"net": cfg["model"], **cfg["nets"]}
    models = {name: build_model(mc).to(dev) for name, mc in model_cfgs.items()}
    for name, src in (cfg["init"] or {}).items() if ck is None else ():
        models[name].load_state_dict(init_weights(src, name))
    optim_cfgs = {name: _merge(cfg["optim"], cfg["optims"].get(name, {})) for name in models}
    optims = {name: torch.optim.Adam(m.parameters(), lr=float(optim_cfgs[name]["lr"]),
                                     betas=tuple(float(b) for b in optim_cfgs[name]["betas"]),
                                     weight_decay=float(optim_cfgs[name]["weight_decay"]))
              for name, m in models.items()}
    amp_dtype, scalers = None, {}
    if t["amp"] and dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if amp_dtype == torch.float16:
            scalers = {name: torch.amp.GradScaler("cuda") for name in models}
    ctx = Context(cfg=cfg, device=dev, optims=optims, amp_dtype=amp_dtype, scalers=scalers)
    if method in SETUP_FNS:
        SETUP_FNS[method](models, ctx)

    train_set, val_set, manifest = make_datasets(cfg, data)
    start, wall0, log, evals = 0, 0.0, {"columns": None, "rows": []}, {}
    if ck is not None:
        for name, m in models.items():
            m.load_state_dict(ck["models"][name])
        for name, o in optims.items():
            o.load_state_dict(ck["optims"][name])
        for name, s in scalers.items():
            if name in ck.get("scalers", {}):
                s.load_state_dict(ck["scalers"][name])
        start, wall0, log, evals = ck["step"], float(ck["wall"]), ck["log"], ck.get("eval") or {}
        if ck.get("manifest_hash") != manifest:
            print(f"warning: the data changed since the checkpoint (manifest {ck.get('manifest_hash')} -> {manifest})")
    params = {name: count_params(m) for name, m in models.items()}
    if ck is None:
        for stale in ("checkpoint.pt", "log.csv"):
            (run / stale).unlink(missing_ok=True)
    write_text_atomic(run / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))

    def save(step: int, wall: float) -> None:
        save_atomic({"format": "colorkit-train-1", "name": cfg["name"], "method": method, "profile": profile,
                     "config": cfg, "models": {n: m.state_dict() for n, m in models.items()},
                     "optims": {n: o.state_dict() for n, o in optims.items()},
                     "scalers": {n: s.state_dict() for n, s in scalers.items()}, "step": step, "wall": wall,
                     "manifest_hash": manifest, "rng": rng_state(), "log": log, "eval": evals,
                     "params": params, "torch": str(torch.__version__), "device": device_description(dev)}, ckpt_path)

    for m in models.values():
        m.train()
    end = t["steps"] if stop_at is None else min(t["steps"], int(stop_at))
    batches = iter(_loader(train_set, cfg, start * t["batch"], dev))  # draws a base seed from torch's RNG
    if ck is not None:
        set_rng_state(ck["rng"])  # after that draw, so the resumed run continues the saved RNG stream exactly
    t0, t_log, acc, n_acc = time.perf_counter(), time.perf_counter(), {}, 0
    bar = tqdm(total=t["steps"], initial=start, desc=cfg["name"], unit="step", disable=not progress, dynamic_ncols=True)
    step = start
    try:
        for step in range(start, end):
            L, ab = next(batches)
            batch = (L.to(dev, non_blocking=True), ab.to(dev, non_blocking=True))
            f = lr_factor(step, cfg["schedule"], t["steps"])
            for name, o in optims.items():
                for g in o.param_groups:
                    g["lr"] = float(optim_cfgs[name]["lr"]) * f
            ctx.step = step
            logs = STEP_FNS[method](batch, models, optims, ctx)
            for k, v in logs.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            n_acc += 1
            done = step + 1
            bar.update(1)
            if done % t["log_every"] == 0 or done == end:
                now = time.perf_counter()
                img_s = n_acc * t["batch"] / max(now - t_log, 1e-9)
                means = {k: v / n_acc for k, v in sorted(acc.items())}
                if log["columns"] is None:
                    log["columns"] = ["step", *means, "lr", "img_s", "wall"]
                log["rows"].append([done, *means.values(), float(optim_cfgs["net"]["lr"]) * f, img_s,
                                    wall0 + now - t0])
                acc, n_acc, t_log = {}, 0, now
                bar.set_postfix(loss=f"{means.get('loss', float('nan')):.4g}", img_s=f"{img_s:.0f}")
                write_text_atomic(run / "log.csv", log_csv(log))
            every = cfg["eval"]["every"]
            if (every and done % every == 0) or done == t["steps"]:
                evals = {"step": done, **evaluate_run(models, ctx, val_set)}
            if done % t["ckpt_every"] == 0 or done == end:
                save(done, wall0 + time.perf_counter() - t0)
    finally:
        bar.close()
    if export_to is not None and end >= t["steps"]:  # finished (not a resume that stopped short of the end)
        export_checkpoint(ckpt_path, Path(export_to) / f"{cfg['name']}.pt")
    return ckpt_path


def read_log(ckpt: str | os.PathLike | dict) -> list[dict]:
    """The training log of a checkpoint as a list of ``{column: value}`` rows."""
    ck = load_checkpoint(ckpt) if not isinstance(ckpt, dict) else ckpt
    log = ck.get("log") or {"columns": [], "rows": []}
    return [dict(zip(log["columns"], row)) for row in log["rows"]]


# --- command line ----------------------------------------------------------------------------------


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="configs/NAME.yaml or NAME")
    parser.add_argument("--profile", choices=TRAIN_PROFILES, default=None,
                        help="budget to use (default: $COLORKIT_PROFILE if quick/full, else full)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    parser.add_argument("--data", default=None, help="train on this folder of images instead of the photo set")
    parser.add_argument("--out", default=None, help="run folder (default: DATA_DIR/runs/NAME/PROFILE)")
    parser.add_argument("--export-to", default=None,
                        help="export the finished model (fp16) as DIR/NAME.pt, e.g. data/checkpoints")
    parser.add_argument("--stop-at", type=int, default=None, help="stop after this many steps (resume later)")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")


def run_cli(args: argparse.Namespace) -> int:
    profile = args.profile or (os.environ.get("COLORKIT_PROFILE") if os.environ.get("COLORKIT_PROFILE")
                               in TRAIN_PROFILES else "full")
    path = train(args.config, profile=profile, resume=args.resume, data=args.data, out=args.out,
                 export_to=args.export_to, stop_at=args.stop_at, device=args.device)
    ck = load_checkpoint(path)
    rows = read_log(ck)
    last = rows[-1] if rows else {}
    print(f"{ck['name']}: {ck['step']} steps, {ck['wall']:.0f} s, loss {last.get('loss', float('nan')):.4g}; "
          f"checkpoint {path}")
    if ck.get("eval"):
        print("  eval: " + ", ".join(f"{k} {v:.4g}" for k, v in ck["eval"].items() if isinstance(v, (int, float))))
    if args.export_to:
        print(f"  exported to {Path(args.export_to) / (ck['name'] + '.pt')}")
    return 0
