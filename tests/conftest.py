"""Shared fixtures: generated photos in tmp_path, an isolated data cache, single-thread torch.

Nothing here is autouse: a test module opts in with
``pytestmark = pytest.mark.usefixtures("isolated_data")``, so tests that are not
about data, training or inference see the environment unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


def smooth_image(rng: np.random.Generator, h: int, w: int, cells: int = 4) -> np.ndarray:
    """A random smooth colour image uint8 (h, w, 3): a bicubic blow-up of a cells x cells random grid."""
    small = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def write_images(folder: Path, n: int = 12, h: int = 72, w: int = 80, seed: int = 0) -> list[Path]:
    """``n`` smooth colour PNGs ``im00.png ...`` in ``folder`` (created); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"im{i:02d}.png"
        Image.fromarray(smooth_image(rng, h, w)).save(p)
        paths.append(p)
    return paths


@pytest.fixture()
def isolated_data(tmp_path_factory, monkeypatch):
    """``COLORKIT_DATA`` -> a fresh tmp folder (never ~/.cache/colorkit); torch on one thread."""
    data = tmp_path_factory.mktemp("colorkit_data")
    monkeypatch.setenv("COLORKIT_DATA", str(data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield data
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """12 random smooth colour images, 72x80 PNG (read-only by convention: copy before changing)."""
    folder = tmp_path_factory.mktemp("images")
    write_images(folder)
    return folder


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory) -> Path:
    """30 random smooth colour images: enough that the hash-based split holds some out for validation."""
    folder = tmp_path_factory.mktemp("photos")
    write_images(folder, n=30, seed=1)
    return folder


@pytest.fixture()
def photos(photo_folder, isolated_data) -> Path:
    """:func:`photo_folder` with its manifest built in the isolated cache (``colorkit data build --from DIR``)."""
    from colorkit.data import build_photo_set

    m = build_photo_set(from_dir=photo_folder, progress=False)
    assert m.paths("val") and m.paths("train")
    return photo_folder


def run_then_sigkill(cmd: list[str], env: dict, ready, what: str, timeout: float = 120) -> None:
    """Start ``cmd`` (from the repository root); once ``ready()`` is true, SIGKILL it.

    Fails with the process's stderr if it exits first, or with ``what`` if ``ready`` is
    not true within ``timeout`` seconds.
    """
    import os
    import signal
    import subprocess
    import time

    from colorkit.paths import REPO_ROOT

    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"training exited ({proc.returncode}) early: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what} after {timeout:.0f} s")
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
