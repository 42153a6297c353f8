"""What the speed benchmarks share: the command line with ``--threads``, and the thread counts they measure with.

Every benchmark measures with 1 torch thread and with torch's default (one per
core): on a machine busy with other work, several OpenMP threads per process
can be far slower than one, and the two tables show which regime you are in.
Imported by the ``*_bench.py`` scripts, which run from the repository root as
``.venv/bin/python benchmarks/NAME_bench.py`` (so this folder is on the path).
"""

from __future__ import annotations

import argparse
import os


def arg_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc`` (a benchmark's docstring), with ``--threads``."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="torch thread counts to measure (default: 1 and one per core)")
    return ap


def thread_counts(requested: list[int] | None) -> list[int]:
    """The torch thread counts to measure with: ``requested``, else 1 and torch's default."""
    import torch

    return requested or sorted({1, torch.get_num_threads()})


def use_threads(n: int) -> None:
    """Set torch to ``n`` threads and print the header of that table, with the machine's load."""
    import torch

    torch.set_num_threads(n)
    print(f"\n{n} torch thread(s), load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
