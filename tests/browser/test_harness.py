"""Self-tests of the browser harness on small notebooks written into the server's temporary root.

They prove what the widget tests rely on: a slider drag reaches the kernel and the page
redraws; a hung kernel fails in bounded time naming the notebook and the cell; a cell that
raises fails the run with its traceback.
"""

from __future__ import annotations

import time

import nbformat
import pytest

pytestmark = pytest.mark.browser

KERNELSPEC = {"name": "colorkit", "display_name": "Python 3 (colorkit)", "language": "python"}


def write_notebook(root, name: str, *sources: str) -> str:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, root / name)
    return name


def test_slider_drag_reaches_kernel(lab):
    nb = write_notebook(
        lab.root,
        "harness_slider.ipynb",
        "import ipywidgets as widgets",
        "slider = widgets.FloatSlider(value=0.0, min=0.0, max=10.0, step=0.1, description='x')\n"
        "label = widgets.Label('x = 0.0')\n"
        "slider.add_class('harness-slider'); label.add_class('harness-label')\n"
        "slider.observe(lambda ch: setattr(label, 'value', f\"x = {ch['new']:.1f}\"), names='value')\n"
        "widgets.VBox([slider, label])",
    )
    lab.open(nb)
    lab.run_all(timeout=60)
    lab.assert_no_errors()
    slider, label = lab.widget("harness-slider"), lab.widget("harness-label")
    assert label.inner_text() == "x = 0.0"
    before = lab.snap(label)
    lab.drag_slider(slider, 0.75)
    change = lab.wait_for_change(label, before, timeout=20)
    lab.wait_idle()
    lab.screenshot()
    text = label.inner_text()
    assert change > 0 and text != "x = 0.0", f"label did not follow the slider: {text!r}"
    assert 6.0 <= float(text.split("=")[1]) <= 9.0, text
    lab.assert_no_errors()


def test_hung_kernel_fails_fast_naming_the_cell(lab):
    nb = write_notebook(
        lab.root,
        "harness_hang.ipynb",
        "x = 1",
        "import time; time.sleep(10**6)",
        "print('never')",
    )
    lab.open(nb)
    start = time.monotonic()
    with pytest.raises(lab.NotebookTimeout) as info:
        lab.run_all(timeout=6)
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert "harness_hang.ipynb" in message and "cell 1" in message, message
    assert "time.sleep(10**6)" in message, message
    assert elapsed < 20, f"the timeout took {elapsed:.1f} s"
    lab.screenshot()


def test_cell_error_fails_with_traceback(lab):
    nb = write_notebook(
        lab.root,
        "harness_error.ipynb",
        "x = 1",
        "raise ValueError('broken on purpose')",
        "print('never')",
    )
    lab.open(nb)
    with pytest.raises(lab.NotebookError) as info:
        lab.run_all(timeout=60)
    message = str(info.value)
    assert "harness_error.ipynb" in message and "cell 1" in message, message
    assert "ValueError: broken on purpose" in message, message
    with pytest.raises(lab.NotebookError, match="broken on purpose"):
        lab.assert_no_errors()
    lab.screenshot()


def test_widget_callback_error_is_reported(lab):
    """A callback that raises shows in no output area; the harness must still fail with its traceback."""
    nb = write_notebook(
        lab.root,
        "harness_callback_error.ipynb",
        "import ipywidgets as widgets\n"
        "slider = widgets.IntSlider(value=0, min=0, max=10, continuous_update=False)\n"
        "slider.add_class('harness-broken-slider')\n"
        "def broken(change):\n"
        "    raise RuntimeError(f\"callback broken on purpose at {change['new']}\")\n"
        "slider.observe(broken, names='value')\n"
        "slider",
    )
    lab.open(nb)
    lab.run_all(timeout=60)
    lab.assert_no_errors()
    lab.drag_slider(lab.widget("harness-broken-slider"), 0.8)
    with pytest.raises(lab.NotebookError) as info:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lab.assert_no_errors()
            time.sleep(0.2)
    message = str(info.value)
    assert "harness_callback_error.ipynb" in message and "widget callback raised" in message, message
    assert "RuntimeError: callback broken on purpose" in message, message
    assert lab.toasts == [], f"pop-ups appeared over the notebook: {lab.toasts}"
    lab.screenshot()
