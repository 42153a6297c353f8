"""Run every notebook with papermill into ``reports/<profile>/`` and write ``index.md`` and ``index.html``.

For each ``notebooks/NN_name.ipynb`` in order:

- execute it with papermill (``PROFILE`` injected, ``$COLORKIT_PROFILE`` set) into
  ``reports/<profile>/NN_name.ipynb``;
- collect the numbers it recorded (:mod:`colorkit.course.record`) from ``NN_name.json``;
- save its figures as ``figures/NN_name_K.png``.

A failing notebook is reported with its error cell and the run goes on with the
rest; the command then exits non-zero. The previous report of the same profile
is kept in ``reports/.previous/<profile>/`` rather than overwritten.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from colorkit.course.notebooks import KERNEL_NAME, find_notebooks
from colorkit.errors import ColorkitError
from colorkit.paths import NOTEBOOKS_DIR, PROFILES, REPORTS_DIR


@dataclass
class NotebookResult:
    name: str
    status: str  # "ok" | "failed"
    seconds: float
    numbers: dict = field(default_factory=dict)
    error: str = ""  # "cell N: ExcName: message" for a failed notebook
    figures: int = 0


def _error_cell(nb_path: Path) -> str:
    """'cell N: ename: evalue' for the first cell with an error output of an executed notebook."""
    nb = json.loads(nb_path.read_text())
    code_index = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue  # count as in the source notebook, without papermill's injected cell
        code_index += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first_line = "".join(cell["source"]).strip().splitlines()[:1]
                where = f"code cell {code_index}" + (f" ({first_line[0][:60]!r})" if first_line else "")
                return f"{where}: {out.get('ename')}: {str(out.get('evalue'))[:300]}"
    return "unknown error (no error output stored)"


def extract_figures(nb_path: Path, out_dir: Path) -> int:
    """Write every image output of an executed notebook to ``out_dir/<stem>_K.png`` (or ``.jpg``: photo
    figures are stored as JPEG); return the count."""
    from colorkit.course.report import image_outputs

    count = 0
    for mime, data in image_outputs(nb_path):
        count += 1
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = "png" if mime == "image/png" else "jpg"
        (out_dir / f"{nb_path.stem}_{count}.{suffix}").write_bytes(base64.b64decode(data))
    return count


def run_notebook(nb: Path, out_dir: Path, profile: str, kernel: str = KERNEL_NAME,
                 timeout: int | None = 3600) -> NotebookResult:
    """Execute one notebook with papermill into ``out_dir``; a failure is recorded in the result, not raised."""
    import papermill as pm

    out_nb = out_dir / nb.name
    record_file = out_dir / f"{nb.stem}.json"
    record_file.unlink(missing_ok=True)
    env_before = {k: os.environ.get(k) for k in ("COLORKIT_PROFILE", "COLORKIT_RECORD_FILE")}
    os.environ["COLORKIT_PROFILE"] = profile
    os.environ["COLORKIT_RECORD_FILE"] = str(record_file)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        pm.execute_notebook(
            str(nb), str(out_nb), parameters={"PROFILE": profile}, kernel_name=kernel, language="python",
            cwd=str(nb.parent), progress_bar=False, execution_timeout=timeout,
        )
    except pm.PapermillExecutionError:
        status, error = "failed", _error_cell(out_nb)
    except Exception as exc:  # kernel died, bad notebook JSON, timeout...
        status, error = "failed", f"{type(exc).__name__}: {str(exc)[:300]}"
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    numbers = json.loads(record_file.read_text()) if record_file.exists() else {}
    figures = extract_figures(out_nb, out_dir / "figures") if out_nb.exists() else 0
    return NotebookResult(nb.stem, status, seconds, numbers, error, figures)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_index(results: list[NotebookResult], out_dir: Path, profile: str, total_seconds: float) -> Path:
    """``index.md``: one row per notebook (status, runtime, recorded numbers), then the errors."""
    lines = [
        f"# colorkit reproduction — profile `{profile}`",
        "",
        f"- finished: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; total {total_seconds:.0f} s",
        f"- machine: {_machine()}",
        "",
        "| notebook | status | runtime | figures | key numbers |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        nums = "<br>".join(f"{k} = {_fmt(v)}" for k, v in r.numbers.items()) or "—"
        status = "✅ ok" if r.status == "ok" else "❌ failed"
        lines.append(f"| [{r.name}]({r.name}.ipynb) | {status} | {r.seconds:.1f} s | {r.figures} | {nums} |")
    failed = [r for r in results if r.status != "ok"]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- **{r.name}**: {r.error}" for r in failed]
    path = out_dir / "index.md"
    path.write_text("\n".join(lines) + "\n")
    (out_dir / "index.json").write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return path


def reproduce(profile: str = "pretrained", only: list[str] | None = None, reports_dir: Path = REPORTS_DIR,
              notebooks_dir: Path = NOTEBOOKS_DIR, kernel: str = KERNEL_NAME, jobs: int = 1) -> list[NotebookResult]:
    """Run the notebooks into ``reports_dir/profile`` and write its index pages.

    ``jobs`` > 1 runs that many notebooks at a time, each kernel with ``cores // jobs`` torch threads (the
    notebooks whose committed outputs took longest start first); a notebook's timings then describe that share of
    the machine.
    """
    if profile not in PROFILES:
        raise ColorkitError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    from tqdm import tqdm

    notebooks = find_notebooks(notebooks_dir, only)
    out_dir = reports_dir / profile
    if out_dir.exists():  # keep the last report instead of overwriting it
        previous = reports_dir / ".previous" / profile
        shutil.rmtree(previous, ignore_errors=True)
        previous.parent.mkdir(parents=True, exist_ok=True)
        out_dir.rename(previous)
    out_dir.mkdir(parents=True)
    results = []
    start = time.perf_counter()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ColorkitError(f"reproduce: jobs must be a positive integer, got {jobs!r}")

    def report(result: NotebookResult) -> None:
        mark = "ok" if result.status == "ok" else f"FAILED — {result.error}"
        tqdm.write(f"{result.name}: {mark} ({result.seconds:.1f} s)")

    if jobs == 1:
        bar = tqdm(notebooks, desc=f"reproduce [{profile}]", unit="notebook")
        for nb in bar:
            bar.set_postfix_str(nb.stem)
            results.append(run_notebook(nb, out_dir, profile, kernel))
            report(results[-1])
    else:
        results = _run_parallel(notebooks, out_dir, profile, kernel, jobs, report)
    total = time.perf_counter() - start
    index = write_index(results, out_dir, profile, total)
    write_html_report(results, out_dir, profile, total, reports_dir)
    print(f"report: {index}, {reports_dir / 'index.html'}")
    return results


def recorded_seconds(notebook: Path) -> float:
    """The seconds a notebook's code cells took when it was last executed and saved, from the timing metadata
    (``execution``: ``iopub.execute_input`` .. ``shell.execute_reply``) that Jupyter and nbclient write; 0 when
    it holds none (a notebook saved without outputs) or cannot be read."""
    from datetime import datetime

    try:  # plain JSON: the timings only, without validating the whole notebook
        cells = json.loads(Path(notebook).read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError):  # an unreadable notebook fails when it runs, saying why
        return 0.0
    total = 0.0
    for cell in cells:
        timing = cell.get("metadata", {}).get("execution", {})
        try:
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
        except (KeyError, TypeError, ValueError):
            continue
        total += max(0.0, (end - start).total_seconds())
    return total


def longest_first(notebooks: list[Path]) -> list[Path]:
    """The order in which parallel workers take the notebooks: longest recorded run first (a long notebook left
    for last would run alone on one worker while the other idles); ties, and notebooks with no timings, later
    notebooks first."""
    position = {nb: i for i, nb in enumerate(notebooks)}
    return sorted(notebooks, key=lambda nb: (recorded_seconds(nb), position[nb]), reverse=True)


def _run_parallel(notebooks: list[Path], out_dir: Path, profile: str, kernel: str, jobs: int, report) -> list:
    """``jobs`` notebooks at a time in worker processes, longest first (:func:`longest_first`); results in
    notebook order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = threads  # the kernels inherit it: torch's thread count
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_notebook, nb, out_dir, profile, kernel): nb for nb in longest_first(notebooks)}
            done = {}
            for fut in tqdm(as_completed(futures), total=len(futures), desc=f"reproduce [{profile}] x{jobs}",
                            unit="notebook"):
                done[futures[fut]] = fut.result()
                report(done[futures[fut]])
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved
    return [done[nb] for nb in notebooks]


def write_html_report(results: list[NotebookResult], out_dir: Path, profile: str, total_seconds: float,
                      reports_dir: Path = REPORTS_DIR) -> Path:
    """Render each executed notebook to HTML, then ``out_dir/index.html`` and ``reports/index.html`` (the page of
    the latest run, its links into ``<profile>/``); see :mod:`colorkit.course.report`."""
    from colorkit.course.report import render_notebook_html, write_html_index

    for r in results:
        nb = out_dir / f"{r.name}.ipynb"
        if nb.exists():
            try:
                render_notebook_html(nb)
            except Exception as exc:  # a rendering failure must not lose the run's report
                print(f"{r.name}: no HTML rendering ({type(exc).__name__}: {exc})", file=sys.stderr)
    write_html_index(results, out_dir, profile, total_seconds, _machine())
    return write_html_index(results, out_dir, profile, total_seconds, _machine(), link_prefix=f"{profile}/",
                            path=reports_dir / "index.html")


def _machine() -> str:
    import torch

    gpu = f"CUDA: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}; Python {platform.python_version()}, "
            f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M %Z')}")


def add_cli(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("COLORKIT_PROFILE", "pretrained"), choices=PROFILES)
    parser.add_argument("--only", nargs="*",
                        help="run only notebooks whose name starts with these prefixes (e.g. 00 01)")
    parser.add_argument("--kernel", default=KERNEL_NAME, help="Jupyter kernel name (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks run at a time, each with cores / jobs torch threads (default: %(default)s)")


def run_cli(args: argparse.Namespace) -> int:
    results = reproduce(args.profile, args.only, kernel=args.kernel, jobs=args.jobs)
    failed = [r.name for r in results if r.status != "ok"]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
