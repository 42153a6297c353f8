"""JupyterLab + headless Chromium harness for the widget tests.

One JupyterLab server and one Chromium per test session:

- the server runs ``.venv/bin/jupyter lab`` on 127.0.0.1 and a free port, with a random
  token, on a temporary copy of ``notebooks/`` (the committed notebooks are never touched),
  with its config, settings, workspaces, runtime and IPython dirs in the temporary folder
  (no user state leaks in), news and announcements off (``jupyter_config/``), and
  ``COLORKIT_PROFILE=pretrained``; it is stopped by its process-group id at the end,
  also when a test fails, and any kernel it started is stopped by its process id;
- Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright install``).

Each test gets a ``lab`` helper (:class:`Lab`): open a notebook, run all its cells and wait
for them in bounded time (a timeout names the notebook and the cell still running), check
that no output area holds an error and that no widget callback raised (those tracebacks reach
no output area: they are read from the kernel's iopub messages), operate sliders and canvases,
compare element pixels, and save screenshots to ``reports/browser/<test>.png`` (after the
interaction and on failure). SIGTERM/SIGHUP stop the server too. To see the tests fail,
``COLORKIT_BROWSER_KERNEL_STARTUP=tests/browser/faults/<fault>.py`` runs a fault in every kernel.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SCREENSHOT_DIR = REPO_ROOT / "reports" / "browser"
CONFIG_TEMPLATE = Path(__file__).resolve().parent / "jupyter_config"
CHROMIUM = Path(os.environ.get("COLORKIT_CHROMIUM", "/usr/bin/chromium"))
JUPYTER = Path(sys.executable).parent / "jupyter"
KERNEL_NAME = "colorkit"
KERNEL_DISPLAY_NAME = "Python 3 (colorkit)"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0


def keep_cells(nb, keep):
    """``nb`` reduced to its markdown cells and the code cells ``keep(cell)`` accepts (a widget test's notebook)."""
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or keep(c)]
    return nb
KERNEL_START_TIMEOUT = 60.0
# A Python file every kernel runs first (IPython startup file in the server's temporary IPYTHONDIR):
# used to break a widget on purpose and see the tests fail, e.g.
#   COLORKIT_BROWSER_KERNEL_STARTUP=tests/browser/faults/ab_plane_redraw_raises.py make test-browser
KERNEL_STARTUP_ENV = "COLORKIT_BROWSER_KERNEL_STARTUP"
# Run-all of notebook 04 (it scores its models on the 54 samples) took over 4 min on a 2-core machine busy with
# trainings; the limit is there to name a hung cell, not to time the notebook.
RUN_ALL_TIMEOUT = float(os.environ.get("COLORKIT_BROWSER_RUN_TIMEOUT", "600"))
TRACEBACK_RE = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception): ", re.MULTILINE)
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookTimeout(AssertionError):
    """A notebook's cells did not finish in time; the message names the notebook and the cell."""


class NotebookError(AssertionError):
    """A notebook cell or widget output shows an error; the message holds the error text."""


# ---------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab subprocess on 127.0.0.1 serving ``root`` (a temporary folder)."""

    def __init__(self, root: Path, state: Path):
        self.root = root
        self.state = state
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = state / "jupyter-lab.log"
        self.runtime_dir = state / "runtime"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        config_dir = self.state / "config"
        shutil.copytree(CONFIG_TEMPLATE, config_dir, dirs_exist_ok=True)
        env = dict(os.environ)
        env.update(
            COLORKIT_PROFILE="pretrained",
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_DATA_DIR=str(self.state / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTERLAB_SETTINGS_DIR=str(self.state / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.state / "workspaces"),
            IPYTHONDIR=str(self.state / "ipython"),
            MPLCONFIGDIR=str(self.state / "matplotlib"),
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env.pop(KERNEL_STARTUP_ENV, None)
        startup = os.environ.get(KERNEL_STARTUP_ENV)
        if startup:  # fault injection: run this file first in every kernel (see faults/)
            startup_dir = self.state / "ipython" / "profile_default" / "startup"
            startup_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(startup, startup_dir / "00-colorkit-browser-startup.py")
        return env

    def start(self) -> None:
        args = [
            str(JUPYTER), "lab",
            "--no-browser",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.news_url=None",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.open_browser=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                args, cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise RuntimeError(
            f"jupyter lab did not answer /api/status in {SERVER_START_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def api(self, method: str, path: str, timeout: float = 10):
        """Call the REST API with the token; returns the decoded JSON body (or None)."""
        req = urllib.request.Request(self.url + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel (frees the CPU between tests)."""
        try:
            for s in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{s['id']}", timeout=20)
            for k in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{k['id']}", timeout=20)
        except (OSError, urllib.error.URLError):
            pass

    def kernel_pids(self) -> list[int]:
        """Process ids of kernels started by this server (their argv names our runtime dir)."""
        pids = []
        marker = str(self.runtime_dir).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def stop(self) -> None:
        """Stop the server by its process-group id, then any kernel left over, by process id."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.shutdown_kernels()
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for pid in self.kernel_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """A running JupyterLab on a temporary copy of notebooks/; always stopped at the end."""
    if not JUPYTER.exists():
        pytest.skip(f"browser tests need JupyterLab at {JUPYTER} (make venv)")
    base = tmp_path_factory.mktemp("browser")
    root = base / "notebooks"
    if NOTEBOOKS_DIR.is_dir():
        shutil.copytree(NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    state = base / "state"
    state.mkdir()
    server = LabServer(root, state)

    def stop_and_exit(signum, frame):  # e.g. `timeout make test-browser`: no orphaned server or kernel
        server.stop()
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")  # pytest ends the run, tears down

    previous = {sig: signal.signal(sig, stop_and_exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        server.start()
        yield server
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.fixture(scope="session")
def kernel_spec(lab_server):
    """The project's kernel as the server sees it; fails when it is missing or mislabeled."""
    specs = lab_server.api("GET", "/api/kernelspecs")["kernelspecs"]
    assert KERNEL_NAME in specs, (
        f"kernel {KERNEL_NAME!r} is not registered (run `make venv`); the server knows {sorted(specs)}"
    )
    spec = specs[KERNEL_NAME]["spec"]
    assert spec["display_name"] == KERNEL_DISPLAY_NAME, spec["display_name"]
    return spec


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium via Playwright; skips the browser tests when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so the ``lab`` fixture knows whether the test failed."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


def png_pixels(png: bytes) -> np.ndarray:
    """Decode a PNG screenshot to an (H, W, 3) int16 array."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def pixel_change(before: bytes, after: bytes) -> float:
    """Mean absolute difference (0..255) between two screenshots; 255 when the sizes differ."""
    a, b = png_pixels(before), png_pixels(after)
    if a.shape != b.shape:
        return 255.0
    return float(np.abs(a - b).mean())


# JavaScript run in the page. The app is exposed as window.jupyterapp (--LabApp.expose_app_in_browser).
_JS_FIND_PANEL = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.content.widgets) return w;
  }
  return null;
}
"""

_JS_KERNEL = f"""
(path) => {{
  const w = ({_JS_FIND_PANEL})(path);
  if (!w || !w.sessionContext) return null;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return k ? {{name: k.name, status: k.status, display: w.sessionContext.kernelDisplayName}}
           : {{name: null, status: 'none'}};
}}
"""

_JS_STATE = f"""
(path) => {{
  const w = ({_JS_FIND_PANEL})(path);
  if (!w) return null;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.widgets.map((cell, index) => {{
    const m = cell.model;
    const source = m.sharedModel.getSource();
    const c = {{index, type: m.type, source: source.split('\\n').find(l => l.trim()) || ''}};
    if (m.type === 'code') {{
      c.blank = source.trim() === '';
      c.count = m.executionCount;
      const p = cell.node.querySelector('.jp-InputPrompt');
      c.prompt = p ? p.textContent : '';
      c.errors = [];
      for (const o of m.outputs.toJSON()) {{
        if (o.output_type === 'error')
          c.errors.push(o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n'));
      }}
    }}
    return c;
  }});
  return {{kernel: k ? k.status : null, cells}};
}}
"""

_JS_RENDERED_ERRORS = """
(re) => {
  const rx = new RegExp(re, 'm');
  const found = [];
  const nodes = document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-RenderedText');
  for (const n of nodes) {
    const t = n.innerText || n.textContent || '';
    if (rx.test(t)) {
      const cell = n.closest('.jp-Cell');
      const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
      found.push({cell: cell ? cells.indexOf(cell) : -1, text: t.slice(0, 3000)});
    }
  }
  return found;
}
"""

# Widget callbacks run in reply to comm messages, not to a cell's execute_request: a traceback
# they raise never reaches a cell's output area (JupyterLab routes it to the log console, which
# nobody looks at). Record every iopub error, and stderr text per parent message, of the
# notebook's kernel (and of any kernel it restarts into), so a broken callback fails the test.
_JS_WATCH_KERNEL = f"""
(path) => {{
  const w = ({_JS_FIND_PANEL})(path);
  if (!w) return false;
  const log = (window.__colorkitKernelLog = window.__colorkitKernelLog || {{}});
  const watch = () => {{
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    if (!k || k.__colorkitWatched) return;
    k.__colorkitWatched = true;
    k.iopubMessage.connect((_, msg) => {{
      const t = msg.header.msg_type;
      if (t !== 'error' && !(t === 'stream' && msg.content.name === 'stderr')) return;
      const ph = msg.parent_header || {{}};
      const id = ph.msg_id || 'none';
      const e = (log[id] = log[id] || {{parent: ph.msg_type || null, text: ''}});
      e.text += t === 'error'
        ? msg.content.ename + ': ' + msg.content.evalue + '\\n' + (msg.content.traceback || []).join('\\n') + '\\n'
        : msg.content.text;
    }});
  }};
  watch();
  w.sessionContext.kernelChanged.connect(watch);
  return true;
}}
"""

_JS_DISMISS_TOASTS = """
() => {
  const texts = [];
  for (const t of document.querySelectorAll('.Toastify__toast')) {
    texts.push((t.innerText || '').trim().slice(0, 200));
    const close = t.querySelector('.jp-toast-button, .Toastify__close-button, button');
    if (close) close.click();
  }
  return texts;
}
"""


class Lab:
    """One browser page on the session's JupyterLab, opened on one notebook at a time."""

    NotebookTimeout = NotebookTimeout
    NotebookError = NotebookError
    pixel_change = staticmethod(pixel_change)

    def __init__(self, server: LabServer, page, name: str):
        self.server = server
        self.page = page
        self.name = name
        self.notebook: str | None = None
        self.toasts: list[str] = []  # texts of pop-ups dismissed (should stay empty: news etc. are off)

    # -- notebooks -------------------------------------------------

    @property
    def root(self) -> Path:
        return self.server.root

    def open(self, notebook: str, timeout: float = KERNEL_START_TIMEOUT) -> None:
        """Open ``notebook`` (relative to the server root) in a fresh workspace and wait for its kernel."""
        if not (self.root / notebook).exists():
            raise FileNotFoundError(self.root / notebook)
        self.notebook = notebook
        url = f"{self.server.url}/lab/workspaces/{self.name}/tree/{notebook}?token={self.server.token}"
        self.page.goto(url)
        self.page.wait_for_selector(".jp-Notebook", timeout=timeout * 1000)
        self.page.wait_for_function(f"(p) => !!({_JS_FIND_PANEL})(p)", arg=notebook, timeout=timeout * 1000)
        deadline = time.monotonic() + timeout
        kernel = None
        while time.monotonic() < deadline:
            kernel = self.page.evaluate(_JS_KERNEL, notebook)
            if kernel and kernel["name"] and kernel["status"] == "idle":
                break
            self._fail_on_dialog(f"opening {notebook}")
            time.sleep(0.25)
        else:
            raise NotebookTimeout(f"{notebook}: kernel not idle after {timeout:.0f} s (last state {kernel})")
        assert kernel["name"] == KERNEL_NAME, (
            f"{notebook} runs on kernel {kernel['name']!r} ({kernel['display']}), expected {KERNEL_NAME!r}; "
            f"set the notebook's kernelspec to {KERNEL_NAME!r}"
        )
        assert self.page.evaluate(_JS_WATCH_KERNEL, notebook), f"{notebook}: cannot watch its kernel"
        self.dismiss_toasts()

    def open_repo_notebook(self, name: str, timeout: float = KERNEL_START_TIMEOUT, keep=None) -> None:
        """Copy ``notebooks/<name>`` as it is now into the server's root and open it.

        The copy is fresh for every test, so a notebook written or edited after the session's
        server started is tested as it is on disk (the repository file is never written).
        ``keep(cell) -> bool``, when given, keeps only the code cells it accepts (and every markdown
        cell): a widget test can run what its widget needs, leaving the whole run to nbval.
        """
        src = NOTEBOOKS_DIR / name
        if not src.exists():
            pytest.skip(f"notebooks/{name} does not exist yet")
        if keep is None:
            shutil.copyfile(src, self.root / name)
        else:
            nbformat.write(keep_cells(nbformat.read(src, as_version=4), keep), self.root / name)
        self.open(name, timeout=timeout)

    def dismiss_toasts(self) -> list[str]:
        """Close any pop-up notification (it could cover widgets); their texts are kept in ``self.toasts``."""
        texts = self.page.evaluate(_JS_DISMISS_TOASTS)
        self.toasts += texts
        return texts

    def _fail_on_dialog(self, doing: str) -> None:
        dialog = self.page.query_selector(".jp-Dialog")
        if dialog is not None:
            raise NotebookError(f"{self.notebook}: a dialog appeared while {doing}: {dialog.inner_text()[:500]}")

    def state(self) -> dict:
        return self.page.evaluate(_JS_STATE, self.notebook)

    def committed_output_count(self) -> int:
        """Number of output areas the notebook shows before anything runs."""
        return self.page.locator(".jp-Notebook .jp-OutputArea-output").count()

    def run_all(self, timeout: float = RUN_ALL_TIMEOUT) -> float:
        """Clear outputs, run all cells, wait until every code cell has run; returns the seconds taken.

        Raises NotebookTimeout naming the notebook and the cell still running (``[*]``) when
        ``timeout`` passes (the kernel is interrupted), NotebookError when a cell raised.
        """
        nb = self.notebook
        self.page.evaluate(
            f"""async (p) => {{
                const w = ({_JS_FIND_PANEL})(p);
                window.jupyterapp.shell.activateById(w.id);
                await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
                window.jupyterapp.commands.execute('notebook:run-all-cells');  // resolves when all ran: not awaited
            }}""",
            nb,
        )
        start = time.monotonic()
        idle_since = None
        state = self.state()
        while time.monotonic() - start < timeout:
            state = self.state()
            code = [c for c in state["cells"] if c["type"] == "code" and not c["blank"]]
            errors = [c for c in code if c["errors"]]
            running = [c for c in code if "*" in c["prompt"]]
            if errors and not running:
                raise NotebookError(self._describe_error(errors[0]))
            if not running and all(c["count"] is not None for c in code) and state["kernel"] == "idle":
                return time.monotonic() - start
            if not running and state["kernel"] == "idle":
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 5:
                    left = next(c for c in code if c["count"] is None)
                    raise NotebookError(f"{nb}: cell {left['index']} never ran: {left['source']!r}")
            else:
                idle_since = None
            self._fail_on_dialog(f"running {nb}")
            time.sleep(0.25)
        running = [c for c in state["cells"] if c["type"] == "code" and "*" in c.get("prompt", "")]
        self.interrupt()
        if running:
            c = running[0]
            raise NotebookTimeout(
                f"{nb}: cell {c['index']} still running after {timeout:.0f} s: {c['source']!r} "
                f"({len(running) - 1} more queued)"
            )
        raise NotebookTimeout(f"{nb}: cells not finished after {timeout:.0f} s (kernel {state['kernel']})")

    def _describe_error(self, cell: dict) -> str:
        return f"{self.notebook}: cell {cell['index']} ({cell['source']!r}) raised:\n" + ANSI_RE.sub(
            "", "\n\n".join(cell["errors"])
        )[-3000:]

    def interrupt(self) -> None:
        """Interrupt the notebook's kernel (after a timeout)."""
        try:
            self.page.evaluate(
                f"""async (p) => {{
                    const w = ({_JS_FIND_PANEL})(p);
                    const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
                    if (k) await k.interrupt();
                }}""",
                self.notebook,
            )
        except Exception:  # the kernel is shut down at teardown anyway
            pass

    def wait_idle(self, timeout: float = 60, settle: float = 0.5) -> None:
        """Wait until the kernel has been idle for ``settle`` seconds (after a widget interaction)."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < deadline:
            kernel = self.page.evaluate(_JS_KERNEL, self.notebook)
            if kernel and kernel["status"] == "idle":
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle:
                    return
            else:
                idle_since = None
            time.sleep(0.1)
        self.assert_no_callback_errors()
        raise NotebookTimeout(f"{self.notebook}: kernel still busy {timeout:.0f} s after the widget interaction")

    def assert_no_errors(self) -> None:
        """Fail with the error text when any cell output or widget output shows an error."""
        for c in self.state()["cells"]:
            if c.get("errors"):
                raise NotebookError(self._describe_error(c))
        found = self.page.evaluate(_JS_RENDERED_ERRORS, TRACEBACK_RE.pattern.replace("(?m)", ""))
        if found:
            f = found[0]
            raise NotebookError(f"{self.notebook}: output of cell {f['cell']} shows an error:\n{f['text']}")
        self.assert_no_callback_errors()

    def callback_errors(self) -> list[dict]:
        """Errors (and stderr tracebacks) the kernel sent in reply to anything but a cell's execution.

        Those are widget callbacks (``comm_msg``): their tracebacks reach no output area unless the
        widget captures them itself, so they are read from the kernel's iopub messages.
        """
        log = self.page.evaluate("() => window.__colorkitKernelLog || {}")
        return [
            {"parent": e["parent"], "text": ANSI_RE.sub("", e["text"])}
            for e in log.values()
            if e["parent"] != "execute_request" and TRACEBACK_RE.search(ANSI_RE.sub("", e["text"]))
        ]

    def assert_no_callback_errors(self) -> None:
        errors = self.callback_errors()
        if errors:
            e = errors[0]
            last = [m.group(0) for m in re.finditer(r"^\w*(?:Error|Exception): .*$", e["text"], re.MULTILINE)]
            raise NotebookError(
                f"{self.notebook}: a widget callback raised {last[-1] if last else 'an error'} "
                f"(kernel error in reply to {e['parent']}; no output area shows it):\n" + e["text"][-3000:]
            )

    # -- widgets ---------------------------------------------------

    def widget(self, css_class: str, timeout: float = 30):
        """The single element carrying ``css_class``, scrolled into view."""
        loc = self.page.locator(f".jp-Notebook .{css_class}")
        try:
            loc.first.wait_for(state="visible", timeout=timeout * 1000)
        except Exception as e:
            raise AssertionError(f"{self.notebook}: no visible element with class {css_class!r} after running") from e
        assert loc.count() == 1, f"{self.notebook}: {loc.count()} elements with class {css_class!r}, expected 1"
        loc.scroll_into_view_if_needed()
        return loc

    def image_ready(self, loc, timeout: float = 30) -> None:
        """Wait until every <img> inside (or being) ``loc`` has loaded."""
        loc.evaluate(
            """(el, ms) => new Promise((resolve, reject) => {
                const imgs = el.tagName === 'IMG' ? [el] : Array.from(el.querySelectorAll('img'));
                const t0 = Date.now();
                const tick = () => {
                  if (imgs.every(i => i.complete && i.naturalWidth > 0)) return resolve(true);
                  if (Date.now() - t0 > ms) return reject(new Error('image not loaded'));
                  setTimeout(tick, 50);
                };
                tick();
            })""",
            timeout * 1000,
        )

    def snap(self, loc) -> bytes:
        """PNG of the element as rendered."""
        self.image_ready(loc)
        return loc.screenshot(animations="disabled")

    def wait_for_change(self, loc, before: bytes, timeout: float = 60, min_change: float = 0.5) -> float:
        """Poll the element's pixels until they differ from ``before``; returns the mean abs change (0..255)."""
        deadline = time.monotonic() + timeout
        change = 0.0
        while time.monotonic() < deadline:
            change = pixel_change(before, self.snap(loc))
            if change >= min_change:
                return change
            self.assert_no_callback_errors()
            time.sleep(0.3)
        return change

    def drag_slider(self, slider, fraction: float, steps: int = 8) -> None:
        """Drag the noUiSlider handle inside ``slider`` to ``fraction`` of its track (beyond 0..1 clamps)."""
        handle = slider.locator(".noUi-handle").first
        track = slider.locator(".noUi-target").first
        handle.scroll_into_view_if_needed()
        h, t = handle.bounding_box(), track.bounding_box()
        assert h and t, f"{self.notebook}: slider not laid out"
        x0, y = h["x"] + h["width"] / 2, h["y"] + h["height"] / 2
        x1 = t["x"] + fraction * t["width"]
        mouse = self.page.mouse
        mouse.move(x0, y)
        mouse.down()
        mouse.move(x1, y, steps=steps)
        mouse.up()

    def draw_stroke(self, canvas, points: list[tuple[float, float]], steps: int = 5) -> None:
        """Press, move through ``points`` (fractions of the canvas box), release."""
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box, f"{self.notebook}: canvas not laid out"
        xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
        mouse = self.page.mouse
        mouse.move(*xy[0])
        mouse.down()
        for p in xy[1:]:
            mouse.move(*p, steps=steps)
        mouse.up()

    # -- artefacts -------------------------------------------------

    def screenshot(self, suffix: str = "") -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{self.name}{suffix}.png"
        self.page.screenshot(path=str(path))
        return path


def require_notebook(name: str) -> None:
    """Skip the calling test when ``notebooks/<name>`` is not in the repository yet."""
    if not (NOTEBOOKS_DIR / name).exists():
        pytest.skip(f"notebooks/{name} does not exist yet")


@pytest.fixture
def lab(request, browser, lab_server, kernel_spec):
    """A fresh browser context on the session's JupyterLab; screenshot on failure, kernels shut down after."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    helper = Lab(lab_server, page, name)
    try:
        yield helper
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            try:
                helper.screenshot()
            except Exception:
                pass
        context.close()
        lab_server.shutdown_kernels()
