"""Multi-process training with ``torch.distributed`` (DistributedDataParallel), started by torchrun.

    colorkit train configs/reg_l1.yaml --nproc 2                 # this machine, 2 processes
    torchrun --nproc-per-node 2 -m colorkit.train configs/reg_l1.yaml
    torchrun --nnodes 2 --node-rank R --rdzv-endpoint HOST:29500 --nproc-per-node 8 -m colorkit.train CONFIG

torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; :func:`setup`
joins the process group (NCCL on CUDA, gloo on CPU), picks ``cuda:LOCAL_RANK``
when there are GPUs, and every trainable network of a phase is wrapped in
DDP, which averages gradients over the processes after each backward pass.
Each rank draws its own slice of every global batch
(:class:`colorkit.train.stream.StreamSampler`), so the global batch and the
samples are those of one process; rank 0 alone writes checkpoints and logs,
and checkpoints hold the unwrapped weights, so they load and resume on any
process count. Batch norm statistics are per process (SyncBatchNorm is used
on CUDA, where it exists).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def setup(device: str | None = None) -> tuple[World, torch.device]:
    """Join the process group if torchrun started us (``WORLD_SIZE`` > 1); the world and this rank's device."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(), torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    dev = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    return World(rank=dist.get_rank(), size=dist.get_world_size(), local_rank=local), dev


def teardown(world: World) -> None:
    """Leave the process group: a barrier first (a bare destroy right after a collective can abort at exit)."""
    if world.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.active:
        dist.barrier()


def wrap(module: torch.nn.Module, world: World, device: torch.device) -> torch.nn.Module:
    """``module`` in DDP when training on several processes and it has something to train; else as is."""
    if not world.active or not any(p.requires_grad for p in module.parameters()):
        return module
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)


def sync_batchnorm(module: torch.nn.Module, world: World, device: torch.device) -> torch.nn.Module:
    """Batch norm over the global batch on CUDA (SyncBatchNorm has no CPU kernel)."""
    if world.active and device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return module


def mean_over_ranks(values: dict[str, float], world: World, device: torch.device) -> dict[str, float]:
    """The mean of each logged number over the processes (the same keys on every rank)."""
    if not world.active or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return {k: float(v) / world.size for k, v in zip(keys, t)}
