"""The training data as an endless, seekable, seeded stream, and the RNG states a checkpoint keeps.

Reproducibility rests on two facts: the crop at stream position p depends on
(seed, p) only (:class:`SeededItems`), and the order of photos is a pure
function of (seed, epoch) (:class:`StreamSampler`). Resuming at batch b is
starting the stream at position ``b * batch``; with several processes, each
takes its own slice of every global batch, so N processes see exactly the
samples one process would.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from colorkit.errors import ColorkitError


class StreamSampler(Sampler):
    """Positions ``start, start+1, ...`` of an endless stream of per-epoch permutations of ``range(n)``.

    Yields ``(index, position)``; epoch e's order is ``randperm(n)`` seeded by
    (seed, e). With ``world > 1`` processes, global batches of ``batch``
    positions are cut into ``world`` equal slices and rank r yields slice r only.
    """

    def __init__(self, n: int, seed: int, start: int = 0, batch: int = 1, rank: int = 0, world: int = 1):
        if batch % world:
            raise ColorkitError(f"the batch ({batch}) must divide evenly over {world} processes")
        self.n, self.seed, self.start = n, seed, start
        self.batch, self.rank, self.local = batch, rank, batch // world

    def __iter__(self):
        pos, perm, epoch = self.start, None, None
        while True:
            if (pos % self.batch) // self.local == self.rank:
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


def stream_loader(dataset, seed: int, batch: int, start: int = 0, rank: int = 0, world: int = 1,
                  workers: int = 0, pin: bool = False) -> DataLoader:
    """Batches of ``batch // world`` items of this rank's slice, from global position ``start`` on."""
    return DataLoader(SeededItems(dataset, seed), batch_size=batch // world,
                      sampler=StreamSampler(len(dataset), seed, start, batch, rank, world), drop_last=True,
                      num_workers=workers, persistent_workers=workers > 0, pin_memory=pin)


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
