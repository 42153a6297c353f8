"""The method contract: what a training method gives the one loop in :mod:`colorkit.train`.

A *method* is a small object with four parts::

    class MyMethod(Method):
        name = "mine"
        networks = ("net", "critic")     # the networks it needs; "net" is always the colorizer

        def datasets(self, cfg, train_paths, val_paths):   # -> (train set, val set or None)
            ...                          # default: ColorCrops in cfg["space"]; items are dicts
        def setup(self, nets, ctx, train_set):              # once, after the data exists
            ...                          # e.g. a prior or a palette from the training photos
        def step(self, batch, nets, ctx) -> dict[str, float]:
            ...                          # one optimisation step; returns numbers to log
        def val_loss(self, batch, nets, ctx) -> Tensor | None:
            ...                          # optional: the validation loss of a batch, no update

- ``batch`` is the dataset's item collated: a dict such as ``{"L": (N, 1, s, s),
  "ab": (N, 2, s, s)}`` (Lab) or ``{"Y", "UV"}`` (YUV) on the device, passed
  through untouched. ``ctx.luma`` / ``ctx.chroma`` name the keys of the run's space.
- ``nets`` maps each network name to its module (wrapped for multi-process
  training: use ``ctx.raw(name)`` for attributes such as ``.head``).
- ``ctx`` (:class:`Context`) holds the config, the phase (its name, steps,
  loss settings and which networks it trains), ``ctx.update(loss, name)``
  (zero-grad, backward, clip, optimiser step of one network),
  ``ctx.trains(name)``, ``ctx.autocast()``, ``ctx.next_batch()`` (another batch
  from the same seeded stream, e.g. for several critic steps per generator
  step) and ``ctx.extra`` (what ``setup`` computed).

Everything else — seeding, the crop stream, optimisers and schedules per
network, freezing, phases, mixed precision, checkpoints, resume and
multi-process training — belongs to the loop, never to a method.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from colorkit.color import SPACES, merge_space
from colorkit.data.crops import ColorCrops


@dataclass
class Context:
    """What a method's ``setup`` / ``step`` may use besides the batch and the networks."""

    cfg: dict
    device: torch.device
    phase: dict  # {"name", "method", "steps", "trainable": [...], "freeze": [...], "loss": {...}, ...}
    optims: dict = field(default_factory=dict)  # network name -> optimiser (trainable networks of this phase)
    raw_nets: dict = field(default_factory=dict)  # network name -> the unwrapped module
    amp_dtype: torch.dtype | None = None  # None: full precision
    scalers: dict = field(default_factory=dict)  # name -> GradScaler (float16 autocast only)
    clips: dict = field(default_factory=dict)  # name -> max gradient norm (or None)
    step: int = 0  # global index of the step being taken (0-based, over all phases)
    extra: dict = field(default_factory=dict)  # filled by the method's setup
    draw: Callable[[], dict] | None = None  # the loop's batch source

    @property
    def luma(self) -> str:
        return SPACES[self.cfg["space"]][0]

    @property
    def chroma(self) -> str:
        return SPACES[self.cfg["space"]][1]

    @property
    def loss(self) -> dict:
        """The loss settings of this phase (the config's ``loss`` with the phase's over it)."""
        return self.phase["loss"]

    def trains(self, name: str) -> bool:
        """Whether network ``name`` is updated in this phase."""
        return name in self.optims

    def raw(self, name: str) -> torch.nn.Module:
        return self.raw_nets[name]

    def next_batch(self) -> dict:
        """Another batch from the run's seeded stream (counted, so resume stays exact)."""
        return self.draw()

    def autocast(self):
        """Mixed precision on CUDA (bfloat16 where supported, else float16); a no-op on CPU."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def update(self, loss: torch.Tensor, name: str = "net") -> None:
        """Zero the grads of network ``name``'s optimiser, backpropagate ``loss``, clip, step."""
        opt, scaler, clip = self.optims[name], self.scalers.get(name), self.clips.get(name)
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


class Method:
    """Base class of the training methods (see the module docstring for the contract)."""

    name: str = "method"
    networks: tuple[str, ...] = ("net",)

    def __init__(self, cfg: dict):
        self.cfg = cfg

    def datasets(self, cfg: dict, train_paths: list, val_paths: list):
        """(train set, val set or None): random crops in the run's chroma space (:class:`ColorCrops`)."""
        d = cfg["data"]
        kw = dict(size=d["size"], min_crop=d["min_crop"], max_crop=d["max_crop"], seed=cfg["seed"],
                  space=cfg["space"])
        val = ColorCrops(val_paths, train=False, **kw) if val_paths else None
        return ColorCrops(train_paths, train=True, **kw), val

    def setup(self, nets: dict, ctx: Context, train_set) -> None:
        """Runs once per phase, before its first step, after the data exists."""

    def step(self, batch: dict, nets: dict, ctx: Context) -> dict:
        raise NotImplementedError

    def val_loss(self, batch: dict, nets: dict, ctx: Context) -> torch.Tensor | None:
        return None


def match_size(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """True chroma (N, 2, H, W) area-averaged to the spatial size of a network output (N, C, h, w)."""
    if x.shape[-2:] == out.shape[-2:]:
        return x
    return torch.nn.functional.interpolate(x, size=out.shape[-2:], mode="area")


def rgb_of(luma: torch.Tensor, chroma: torch.Tensor, space: str) -> torch.Tensor:
    """sRGB (N, 3, H, W) in [0, 1] of a batch's luma and (predicted or true) chroma, differentiable.

    Chroma at a smaller size is upsampled to the luma's first; colours outside sRGB are clipped.
    """
    return merge_space(luma.float(), upsample_to(chroma.float(), luma), space).clamp(0.0, 1.0)


def upsample_to(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Predicted chroma (N, 2, h, w) bilinearly upsampled to the size of ``ref`` (N, C, H, W)."""
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return torch.nn.functional.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)
