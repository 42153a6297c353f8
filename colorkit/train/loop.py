"""The one training loop: every method, every phase, one process or many.

    train("configs/reg_l2.yaml", profile="quick")            # -> path of the run's checkpoint.pt
    train("nogan", profile="full", resume=True, score=fn)    # continue a killed run

What the loop owns (a method only takes steps, see :mod:`colorkit.methods.base`):

1. the config for the profile (:mod:`.config`), seeding, the networks
   (``model`` is ``net``, ``nets`` the others), weights copied from ``init``;
2. the data: the photo set or a folder's manifest (``colorkit data build
   --from DIR``), turned into datasets by the method, read as one seeded
   stream (:mod:`.stream`) shared by all phases;
3. each phase in turn: which networks train and which sub-modules stay frozen,
   a fresh optimiser (Adam) per trainable network with its own learning rate,
   schedule and gradient clipping, the method's ``setup``, then its steps;
4. mixed precision and channels-last on CUDA; DDP over several processes
   (:mod:`.distributed`);
5. the log (rows keyed by name), evaluation (validation loss, and whatever
   ``score(nets, cfg, device)`` returns — the caller passes the sample
   scoring in, as this layer does not know about inference), and atomic
   checkpoints every ``train.ckpt_every`` steps and at the end of every phase;
   with ``train.keep_every`` also a kept *snapshot* every so many steps
   (``snapshots/step_NNNNNN.pt``, the small fp16 inference file of
   :func:`colorkit.checkpoint.export`), the candidates of a selection by score
   (:mod:`colorkit.train.select`, as seed 000 keeps one model per epoch).

A checkpoint holds everything needed to continue (weights, optimiser states,
RNG states, the phase and step, the batches drawn from the stream), so
``resume=True`` after a kill anywhere continues to the same weights as an
uninterrupted run.
"""

from __future__ import annotations

import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from colorkit import checkpoint, methods
from colorkit import data as photos
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.models import build_model, count_params
from colorkit.paths import data_dir
from colorkit.train import distributed
from colorkit.train.config import load_config, lr_factor, network_configs
from colorkit.train.stream import rng_state, set_rng_state, stream_loader

RESUME_KEYS = ("space", "model", "nets", "phases", "seed", "data")


def device_description(dev: torch.device, world_size: int = 1) -> str:
    """Where a run trains, for the checkpoint's record: the GPU, or the CPU with its thread count."""
    procs = f" x {world_size} processes" if world_size > 1 else ""
    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}{procs}"
    return f"cpu: {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads{procs}"


def run_dir_for(cfg: dict) -> Path:
    return data_dir() / "runs" / cfg["name"] / cfg["profile"]


def photo_lists(cfg: dict, data=None) -> tuple[list, list, str, str]:
    """(train paths, val paths, manifest hash, description) of the photo set or of a built folder."""
    d = cfg["data"]
    folder = data if data is not None else (d["folder"] if d["source"] == "folder" else None)
    if folder is None and d["source"] != "photoset":
        raise ColorkitError(f"data.source must be photoset or folder, not {d['source']!r}")
    m = photos.load_manifest(from_dir=folder)  # a clear error naming `colorkit data build [--from DIR]`
    where = "the photo set" if folder is None else str(folder)
    return m.paths("train"), m.paths("val"), m.hash, where


def _submodule(nets: dict, path: str) -> torch.nn.Module:
    net, _, sub = path.partition(".")
    if net not in nets:
        raise ColorkitError(f"cannot freeze {path!r}: no network {net!r}")
    try:
        return nets[net].get_submodule(sub) if sub else nets[net]
    except AttributeError:
        raise ColorkitError(f"cannot freeze {path!r}: network {net!r} has no sub-module {sub!r}") from None


def learnable(nets: dict) -> dict[str, set]:
    """Per network, the parameters it lets train when built (a frozen pretrained encoder is not among them)."""
    return {name: {id(p) for p in m.parameters() if p.requires_grad} for name, m in nets.items()}


def set_modes(nets: dict, phase: dict, own: dict[str, set]) -> None:
    """Gradients and train mode for the phase's trainable networks (less its ``freeze`` list); eval elsewhere.

    ``own`` (:func:`learnable`) keeps what a network froze itself frozen in every phase.
    """
    frozen = {id(p) for path in phase["freeze"] for p in _submodule(nets, path).parameters()}
    for name, m in nets.items():
        on = name in phase["trainable"]
        for p in m.parameters():
            p.requires_grad_(on and id(p) in own[name] and id(p) not in frozen)
        m.train(on)  # a model with a frozen encoder keeps it in eval mode (colorkit.backbones)
    for path in phase["freeze"]:
        _submodule(nets, path).eval()


def make_optims(nets: dict, phase: dict) -> dict:
    out = {}
    for name in phase["trainable"]:
        o = phase["optims"][name]
        params = [p for p in nets[name].parameters() if p.requires_grad]
        if not params:
            raise ColorkitError(f"phase {phase['name']!r}: network {name!r} has nothing left to train")
        out[name] = torch.optim.Adam(params, lr=float(o["lr"]), betas=tuple(float(b) for b in o["betas"]),
                                     weight_decay=float(o["weight_decay"]))
    return out


class Run:
    """One training run: its config, networks, data stream and position (see the module docstring).

    ``Run(...).fit()`` does the work of :func:`train`; the state a checkpoint keeps lives in
    ``phase_i`` / ``phase_done`` (where in which phase), ``step`` (global), ``drawn`` (batches
    taken from the stream), ``log`` and ``evals``.
    """

    def __init__(self, cfg: dict, run: Path, ck: dict | None, world, dev: torch.device, data=None,
                 progress: bool = True, score: Callable | None = None):
        self.cfg, self.dir, self.world, self.dev, self.score = cfg, run, world, dev, score
        self.path = run / "checkpoint.pt"
        t = cfg["train"]
        # networks (seeded, so a fresh run always starts from the same weights)
        torch.manual_seed(cfg["seed"])
        np.random.seed(cfg["seed"])
        random.seed(cfg["seed"])
        self.raw = {name: build_model(mc).to(dev) for name, mc in network_configs(cfg).items()}
        for name, src in (cfg["init"] or {}).items() if ck is None else ():
            if src:  # a budget may switch an init off with null (a quick model of another shape)
                self.raw[name].load_state_dict(checkpoint.weights(src, name))
        if dev.type == "cuda":
            self.raw = {n: distributed.sync_batchnorm(m, world, dev).to(memory_format=torch.channels_last)
                        for n, m in self.raw.items()}
        self.amp_dtype = None
        if t["amp"] and dev.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.params = {name: sum(p.numel() for p in m.parameters()) for name, m in self.raw.items()}
        self.own = learnable(self.raw)
        # data
        self.paths = None  # (train, validation) photo paths when the run cuts its own crops
        if isinstance(data, Dataset):
            self.manifest = str(getattr(data, "manifest_hash", "dataset"))
            self.train_set, self.val_set = data, None
        else:
            train_paths, val_paths, self.manifest, where = photo_lists(cfg, data)
            if progress and world.main:
                print(f"{cfg['name']}: {len(train_paths)} training and {len(val_paths)} validation photos from {where}")
            self.paths = (train_paths, val_paths)
            self.use_data(cfg["phases"][ck["phase_index"] if ck else 0])
        # where we start
        self.ck, self.phase_i, self.phase_done, self.drawn = ck, 0, 0, 0
        self.wall0, self.log, self.evals = 0.0, [], {}
        if ck is not None:
            for name, m in self.raw.items():
                m.load_state_dict(ck["models"][name])
            self.phase_i, self.phase_done, self.drawn = ck["phase_index"], ck["phase_step"], ck["drawn"]
            self.wall0, self.log, self.evals = float(ck["wall"]), checkpoint.log_rows(ck), ck.get("eval") or {}
            if ck.get("manifest_hash") != self.manifest and world.main:
                print(f"warning: the data changed since the checkpoint ({ck.get('manifest_hash')} -> {self.manifest})")
        self.step = sum(p["steps"] for p in cfg["phases"][: self.phase_i]) + self.phase_done
        self.batches = self.stream()
        if ck is not None:  # after the loader drew its base seed, so the saved RNG stream continues exactly
            set_rng_state(ck["rng"])
        self.t0 = time.perf_counter()

    def use_data(self, phase: dict) -> None:
        """Build the train and validation crops of ``phase``'s ``data`` (a phase may change the crop sizes)."""
        self.data_now = phase.get("data", self.cfg["data"])
        method = methods.get(phase["method"], self.cfg)
        self.train_set, self.val_set = method.datasets({**self.cfg, "data": self.data_now}, *self.paths)

    def stream(self):
        """The training batches from the current stream position on (a pure function of seed and position)."""
        t = self.cfg["train"]
        return iter(stream_loader(self.train_set, self.cfg["seed"], t["batch"], self.drawn * t["batch"],
                                  self.world.rank, self.world.size, int(self.cfg["data"]["workers"]),
                                  self.dev.type == "cuda"))

    def draw(self) -> dict:
        """The next batch of the stream on the device (counted in ``drawn``)."""
        self.drawn += 1
        fmt = torch.channels_last if self.dev.type == "cuda" else torch.contiguous_format
        batch = next(self.batches)
        return {k: v.to(self.dev, non_blocking=True).contiguous(memory_format=fmt) for k, v in batch.items()}

    def start_phase(self) -> tuple:
        """(phase, method, wrapped networks, context) for phase ``phase_i``, optimisers restored when resuming."""
        phase = self.cfg["phases"][self.phase_i]
        method = methods.get(phase["method"], self.cfg)
        if self.paths is not None and phase.get("data", self.cfg["data"]) != self.data_now:  # new crop sizes
            self.use_data(phase)
            self.batches = self.stream()
        set_modes(self.raw, phase, self.own)
        nets = {n: (distributed.wrap(m, self.world, self.dev) if n in phase["trainable"] else m)
                for n, m in self.raw.items()}
        optims = make_optims(self.raw, phase)
        scalers = {n: torch.amp.GradScaler("cuda") for n in optims} if self.amp_dtype == torch.float16 else {}
        if self.ck is not None and self.phase_done and self.ck.get("optims"):  # resuming inside this phase
            for n, o in optims.items():
                o.load_state_dict(self.ck["optims"][n])
            for n, s in scalers.items():
                if n in self.ck.get("scalers", {}):
                    s.load_state_dict(self.ck["scalers"][n])
        ctx = methods.Context(cfg=self.cfg, device=self.dev, phase=phase, optims=optims, raw_nets=self.raw,
                              amp_dtype=self.amp_dtype, scalers=scalers, draw=self.draw,
                              clips={n: phase["optims"][n]["grad_clip"] for n in optims})
        method.setup(nets, ctx, self.train_set)
        return phase, method, nets, ctx

    def save(self, ctx) -> None:
        """An atomic checkpoint of everything needed to continue (rank 0 only)."""
        if not self.world.main:
            return
        checkpoint.save({
            "format": "colorkit-train-2", **self.state(ctx),
            "optims": {n: o.state_dict() for n, o in ctx.optims.items()},
            "scalers": {n: s.state_dict() for n, s in ctx.scalers.items()},
            "phase_index": self.phase_i, "phase_step": self.phase_done, "drawn": self.drawn, "rng": rng_state(),
            "eval": self.evals}, self.path)

    def state(self, ctx) -> dict:
        """The networks and the metadata every saved file carries (a checkpoint adds what resuming needs)."""
        cfg = self.cfg
        return {"name": cfg["name"], "method": ctx.phase["method"], "profile": cfg["profile"], "config": cfg,
                "models": {n: m.state_dict() for n, m in self.raw.items()}, "step": self.step,
                "phase": ctx.phase["name"], "wall": self.wall(), "manifest_hash": self.manifest, "log": self.log,
                "params": self.params, "torch": str(torch.__version__),
                "device": device_description(self.dev, self.world.size), "world_size": self.world.size}

    def snapshot(self, ctx) -> Path | None:
        """Keep the networks as they are now: ``snapshots/step_NNNNNN.pt`` (fp16, with log and json; rank 0 only)."""
        if not self.world.main:
            return None
        ck = {**self.state(ctx), "eval": self.evals if self.evals.get("step") == self.step else {}}
        return checkpoint.export(ck, self.dir / "snapshots" / f"step_{self.step:06d}.pt")

    def wall(self) -> float:
        return self.wall0 + time.perf_counter() - self.t0

    def log_row(self, ctx, acc: dict, n: int, since: float, factors: dict) -> dict:
        """One log row: the mean of each logged number over ``n`` steps (and over the processes)."""
        means = distributed.mean_over_ranks({k: v / n for k, v in sorted(acc.items())}, self.world, self.dev)
        row = {"step": self.step, **({"phase": ctx.phase["name"]} if len(self.cfg["phases"]) > 1 else {}), **means}
        for name in ctx.optims:
            row["lr" if len(ctx.optims) == 1 else f"lr_{name}"] = float(ctx.phase["optims"][name]["lr"]) * factors[name]
        row.update(img_s=n * self.cfg["train"]["batch"] / max(time.perf_counter() - since, 1e-9), wall=self.wall())
        self.log.append(row)
        if self.world.main:
            atomic_write(self.dir / "log.csv", checkpoint.log_csv(self.log))
        return row

    @torch.no_grad()
    def evaluate(self, method, ctx) -> dict:
        """Validation loss on fixed crops (if the method defines one) and the caller's ``score``."""
        cfg, out = self.cfg, {}
        for m in self.raw.values():
            m.eval()
        try:
            if self.val_set is not None and cfg["eval"]["val_batches"] > 0:
                total, n = 0.0, 0
                for _, batch in zip(range(cfg["eval"]["val_batches"]),
                                    stream_loader(self.val_set, cfg["seed"] + 1, cfg["train"]["batch"])):
                    batch = {k: v.to(self.dev) for k, v in batch.items()}
                    loss = method.val_loss(batch, self.raw, ctx)
                    if loss is None:
                        break
                    k = len(next(iter(batch.values())))
                    total, n = total + float(loss) * k, n + k
                if n:
                    out["val_loss"] = total / n
            if self.score is not None and cfg["eval"]["samples"]:
                out.update(self.score(self.raw, cfg, self.dev))
        finally:
            set_modes(self.raw, ctx.phase, self.own)
        return out

    def log_evals(self) -> None:
        """Put the evaluation numbers into this step's log row (``eval_psnr``, ...), so the log shows their course."""
        if self.log and self.log[-1]["step"] == self.step:
            self.log[-1].update({f"eval_{k}": v for k, v in self.evals.items()
                                 if k != "step" and isinstance(v, (int, float))})
            atomic_write(self.dir / "log.csv", checkpoint.log_csv(self.log))

    def fit(self, end: int, bar) -> None:
        """Take steps, phase after phase, until ``end`` global steps are done."""
        t, phases = self.cfg["train"], self.cfg["phases"]
        while self.phase_i < len(phases) and self.step < end:
            phase, method, nets, ctx = self.start_phase()
            bar.set_description(f"{self.cfg['name']} [{phase['name']}]" if len(phases) > 1 else self.cfg["name"])
            acc, n_acc, since = {}, 0, time.perf_counter()
            while self.phase_done < phase["steps"] and self.step < end:
                factors = {}
                for name, o in ctx.optims.items():
                    factors[name] = lr_factor(self.phase_done, phase["optims"][name]["schedule"], phase["steps"])
                    for g in o.param_groups:
                        g["lr"] = float(phase["optims"][name]["lr"]) * factors[name]
                ctx.step = self.step
                for k, v in method.step(self.draw(), nets, ctx).items():
                    acc[k] = acc.get(k, 0.0) + float(v)
                n_acc, self.phase_done, self.step = n_acc + 1, self.phase_done + 1, self.step + 1
                bar.update(1)
                last = self.phase_done == phase["steps"] or self.step == end
                if self.step % t["log_every"] == 0 or last:
                    row = self.log_row(ctx, acc, n_acc, since, factors)
                    acc, n_acc, since = {}, 0, time.perf_counter()
                    bar.set_postfix(loss=f"{row.get('loss', float('nan')):.4g}", img_s=f"{row['img_s']:.0f}")
                every = phase.get("eval_every", self.cfg["eval"]["every"])
                if ((every and self.step % every == 0) or self.step == t["steps"]) and self.world.main:
                    self.evals = {"step": self.step, **self.evaluate(method, ctx)}
                    self.log_evals()
                if self.step % t["ckpt_every"] == 0 or last:
                    self.save(ctx)
                keep = phase.get("keep_every", t.get("keep_every"))
                if keep and self.step % keep == 0:
                    self.snapshot(ctx)
            if self.phase_done >= phase["steps"]:
                self.phase_i, self.phase_done, self.ck = self.phase_i + 1, 0, None


def train(config, profile: str = "full", resume: bool = False, data=None, out=None, export_to=None,
          stop_at: int | None = None, device: str | None = None, progress: bool = True,
          score: Callable | None = None) -> Path:
    """Train the networks of ``config`` under ``profile``; return the path of the run's checkpoint.

    ``resume``: continue from the run's checkpoint if there is one (a finished run
    returns at once); otherwise start afresh, replacing the run's old files.
    ``data``: a folder built with ``colorkit data build --from DIR``, or a Dataset of
    batch dicts, instead of the config's data. ``out``: the run folder (default
    ``data_dir()/runs/NAME/PROFILE``). ``export_to``: a folder to which the finished
    model is exported as ``NAME.pt``. ``stop_at``: stop once this many steps are done
    (a checkpoint is written there), as if the run were killed right after it.
    ``score(nets, cfg, device) -> dict``: numbers to record at evaluation time.
    """
    cfg = load_config(config, profile)
    if data is not None and not isinstance(data, Dataset):  # the config records the folder it trained on
        cfg["data"].update(source="folder", folder=str(data))
    steps = cfg["train"]["steps"]
    world, dev = distributed.setup(device)
    run = Path(out) if out is not None else run_dir_for(cfg)
    ckpt_path = run / "checkpoint.pt"
    ck = checkpoint.load(ckpt_path) if resume and ckpt_path.exists() else None
    if ck is not None:
        if ck.get("format") != "colorkit-train-2":
            raise ColorkitError("cannot resume a checkpoint of an older trainer; start afresh", path=ckpt_path)
        for key in RESUME_KEYS:
            if ck["config"].get(key) != cfg.get(key):
                raise ColorkitError(f"cannot resume: config {key!r} differs from the checkpoint's "
                                    f"({ck['config'].get(key)!r} vs {cfg.get(key)!r}); start afresh instead",
                                    path=ckpt_path)
        if ck["step"] >= steps:
            if world.main:
                print(f"{cfg['name']}: found a finished run ({ck['step']} steps) in {run}")
                if export_to is not None:
                    export_run(run, export_to)
            distributed.teardown(world)
            return ckpt_path
    r = Run(cfg, run, ck, world, dev, data, progress, score)
    if world.main:
        run.mkdir(parents=True, exist_ok=True)
        if ck is None:
            for stale in ("checkpoint.pt", "log.csv"):
                (run / stale).unlink(missing_ok=True)
            for stale in (run / "snapshots").glob("step_*"):  # a fresh run's snapshots are its own
                stale.unlink()
        atomic_write(run / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    end = steps if stop_at is None else min(steps, int(stop_at))
    bar = tqdm(total=steps, initial=r.step, desc=cfg["name"], unit="step", disable=not (progress and world.main),
               dynamic_ncols=True)
    try:
        r.fit(end, bar)
    finally:
        bar.close()
    distributed.barrier(world)
    if world.main and export_to is not None and end >= steps:  # finished, not a run stopped short
        export_run(run, export_to)
    distributed.teardown(world)
    return ckpt_path


def export_run(run: Path, export_to) -> Path:
    """Export a finished run as ``export_to/NAME.pt``: the snapshot its selection rule chooses when the run
    kept scored snapshots (``train.keep_every`` with ``eval.semantic``; ``eval.select`` names the rule of
    :mod:`colorkit.train.select`),
    else its last state."""
    from colorkit.train import select

    run = Path(run)
    if (run / "snapshots").is_dir() and select.snapshot_scores(run):
        cfg = checkpoint.load(run / "checkpoint.pt").get("config") or {}
        return select.export_selected(run, export_to, rule=(cfg.get("eval") or {}).get("select", "score"))
    ck = checkpoint.load(run / "checkpoint.pt")
    return checkpoint.export(ck, Path(export_to) / f"{ck['name']}.pt")


def count_trainable(cfg: dict) -> dict[str, int]:
    """Trainable parameters per network of a config (for READMEs and notebooks)."""
    return {name: count_params(build_model(mc)) for name, mc in network_configs(cfg).items()}
