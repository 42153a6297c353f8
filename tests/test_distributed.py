"""Multi-process training (torchrun, gloo on this CPU): two processes reach the weights one process reaches
with the same global batch, and a checkpoint written by N processes resumes on any other count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import yaml

from colorkit import checkpoint
from colorkit import train as T
from colorkit.paths import REPO_ROOT

pytestmark = [pytest.mark.usefixtures("isolated_data"), pytest.mark.slow]


@pytest.fixture()
def setup(photos, isolated_data, tmp_path):
    """(config path, photo folder, environment) for subprocess runs sharing the isolated data cache."""
    cfg = {
        "name": "ddp", "seed": 0, "method": "supervised",
        "data": {"size": 32, "min_crop": 24, "max_crop": 64},
        # no batch norm: its statistics are per process on a CPU (SyncBatchNorm is CUDA-only)
        "model": {"arch": "unet", "base": 8, "depth": 4, "max_ch": 32, "head": "ab", "out_stride": 2, "norm": "none"},
        "loss": {"kind": "l1"},
        "optim": {"lr": 1.0e-3},
        "schedule": {"kind": "cosine", "warmup": 2, "min_lr": 0.1},
        "train": {"steps": 6, "batch": 8, "ckpt_every": 2, "log_every": 1},
        "eval": {"samples": False, "val_batches": 1},
    }
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "COLORKIT_DATA": str(isolated_data), "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    return path, photos, env


def run(args: list[str], env: dict, timeout: int = 300) -> None:
    done = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def torchrun(nproc: int, *args) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
            "-m", "colorkit.train", *map(str, args)]


def close(a: dict, b: dict, atol: float = 2e-5) -> None:
    for k, v in a["models"]["net"].items():
        w = b["models"]["net"][k]
        assert torch.allclose(v.float(), w.float(), atol=atol, rtol=1e-4), (k, (v.float() - w.float()).abs().max())


def test_two_processes_match_one_with_the_same_global_batch(setup, tmp_path):
    path, photos, env = setup
    common = ["--profile", "quick", "--data", photos, "--device", "cpu"]
    one = checkpoint.load(T.train(path, "quick", data=photos, out=tmp_path / "one", device="cpu", progress=False))
    cli = [sys.executable, "-m", "colorkit.cli", "train", str(path), "--nproc", "2", "--out", str(tmp_path / "two"),
           *map(str, common)]
    run(cli, env)  # `colorkit train --nproc 2` relaunches itself under torchrun
    two = checkpoint.load(tmp_path / "two" / "checkpoint.pt")
    assert two["world_size"] == 2 and "2 processes" in two["device"] and two["step"] == one["step"] == 6
    close(one, two)
    # logged numbers are the mean over the processes: the loss of the whole global batch
    assert [r["loss"] for r in T.read_log(two)] == pytest.approx([r["loss"] for r in T.read_log(one)], rel=1e-4)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["checkpoint.pt", "config.yaml", "log.csv"]


def test_a_checkpoint_of_two_processes_resumes_on_one_and_back(setup, tmp_path):
    path, photos, env = setup
    common = ["--profile", "quick", "--data", photos, "--device", "cpu", "--out", tmp_path / "r"]
    whole = checkpoint.load(T.train(path, "quick", data=photos, out=tmp_path / "whole", device="cpu", progress=False))
    run(torchrun(2, path, *common, "--stop-at", 2), env)  # 2 processes, stopped at step 2
    assert checkpoint.load(tmp_path / "r" / "checkpoint.pt")["step"] == 2
    T.train(path, "quick", data=photos, out=tmp_path / "r", resume=True, stop_at=4, device="cpu", progress=False)
    assert checkpoint.load(tmp_path / "r" / "checkpoint.pt")["world_size"] == 1
    run(torchrun(2, path, *common, "--resume"), env)  # and back to 2 processes to the end
    resumed = checkpoint.load(tmp_path / "r" / "checkpoint.pt")
    assert resumed["step"] == 6 and [r["step"] for r in T.read_log(resumed)] == list(range(1, 7))
    close(whole, resumed)
