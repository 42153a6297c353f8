"""The reproduction runner: runs notebooks in order, records numbers, survives a failing notebook."""

import json

import nbformat
import pytest

from colorkit.course import record as record_mod
from colorkit.course.notebooks import find_notebooks
from colorkit.course.reproduce import reproduce
from colorkit.errors import ColorkitError


def _nb(path, cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('import os\nPROFILE = os.environ.get("COLORKIT_PROFILE", "pretrained")')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)


@pytest.fixture()
def notebooks(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    _nb(d / "00_first.ipynb", [
        "from colorkit.course.record import record\nrecord('answer', 42)\nrecord('profile_seen', PROFILE)",
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2]); plt.show()",
    ])
    _nb(d / "01_broken.ipynb", ["x = 1", "raise ValueError('deliberate failure')", "print('never')"])
    _nb(d / "02_after.ipynb", ["from colorkit.course.record import record\nrecord('ran_after_failure', True)"])
    (d / "notes.ipynb").write_text("{}")  # not numbered: ignored
    return d


def test_runs_all_in_order_and_reports_failure(notebooks, tmp_path):
    reports = tmp_path / "reports"
    results = reproduce("quick", reports_dir=reports, notebooks_dir=notebooks, kernel="python3")
    assert [r.name for r in results] == ["00_first", "01_broken", "02_after"]
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    first, broken, after = results
    assert first.numbers == {"answer": 42, "profile_seen": "quick"}  # papermill injected the profile
    assert first.figures == 1 and (reports / "quick" / "figures" / "00_first_1.png").stat().st_size > 1000
    assert "code cell 3" in broken.error and "ValueError: deliberate failure" in broken.error
    assert after.numbers == {"ran_after_failure": True}
    index = (reports / "quick" / "index.md").read_text()
    assert "| [00_first](00_first.ipynb) | ✅ ok |" in index
    assert "answer = 42" in index
    assert "❌ failed" in index and "deliberate failure" in index
    assert json.loads((reports / "quick" / "index.json").read_text())[1]["status"] == "failed"
    for name in ["00_first", "01_broken", "02_after"]:
        assert (reports / "quick" / f"{name}.ipynb").exists()
        assert (reports / "quick" / f"{name}.html").exists()  # the HTML rendering, linked from the page
    page = (reports / "index.html").read_text()  # the latest run's page, its links into quick/
    assert "href='quick/00_first.html'" in page and "class='failed'" in page and "deliberate failure" in page
    assert "data:image/png;base64," in page and "http://" not in page and "https://" not in page
    assert (reports / "quick" / "index.html").read_text().count("href='00_first.ipynb'") == 1


def test_previous_report_is_kept(notebooks, tmp_path):
    reports = tmp_path / "reports"
    reproduce("quick", only=["00"], reports_dir=reports, notebooks_dir=notebooks, kernel="python3")
    (reports / "quick" / "marker.txt").write_text("from the first run")
    reproduce("quick", only=["00"], reports_dir=reports, notebooks_dir=notebooks, kernel="python3")
    assert (reports / ".previous" / "quick" / "marker.txt").read_text() == "from the first run"
    assert not (reports / "quick" / "marker.txt").exists()


def test_bad_arguments(notebooks, tmp_path):
    with pytest.raises(ColorkitError, match="unknown profile"):
        reproduce("fast", reports_dir=tmp_path, notebooks_dir=notebooks)
    with pytest.raises(ColorkitError, match="no notebook matches"):
        find_notebooks(notebooks, only=["99"])


def test_record_outside_a_run_stays_in_memory(monkeypatch, tmp_path):
    monkeypatch.delenv("COLORKIT_RECORD_FILE", raising=False)
    assert record_mod.record("x", 1.234567891) == 1.23457
    assert record_mod.recorded()["x"] == 1.23457
    monkeypatch.setenv("COLORKIT_RECORD_FILE", str(tmp_path / "r.json"))
    record_mod.record("y", float("nan"))
    assert json.loads((tmp_path / "r.json").read_text()) == {"y": "nan"}
    with pytest.raises(TypeError):
        record_mod.record("z", [1, 2])


def test_claim_prints_holds_and_raises_only_for_the_committed_models(capsys):
    from colorkit.course.record import ClaimFailed, claim, recorded
    assert claim("two is more than one", 2 > 1) is None
    assert "✓ two is more than one" in capsys.readouterr().out
    assert recorded()["claim: two is more than one"] is True
    with pytest.raises(ClaimFailed, match="one is more than two"):
        claim("one is more than two", 1 > 2, "pretrained")
    claim("one is more than two", 1 > 2, "quick")
    assert recorded()["claim: one is more than two"] is False
    assert "✗ one is more than two" in capsys.readouterr().out


def test_two_notebooks_at_a_time_give_the_same_report(notebooks, tmp_path):
    reports = tmp_path / "reports"
    results = reproduce("quick", reports_dir=reports, notebooks_dir=notebooks, kernel="python3", jobs=2)
    assert [r.name for r in results] == ["00_first", "01_broken", "02_after"]  # notebook order, not finishing order
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert results[0].numbers == {"answer": 42, "profile_seen": "quick"}  # each run records into its own file
    assert results[2].numbers == {"ran_after_failure": True}
    assert "❌ failed" in (reports / "quick" / "index.md").read_text()
    with pytest.raises(ColorkitError, match="jobs must be a positive integer"):
        reproduce("quick", reports_dir=reports, notebooks_dir=notebooks, kernel="python3", jobs=0)


def _timed(path, seconds):
    """A notebook whose code cells carry Jupyter's timing metadata, ``seconds`` per cell."""
    nb = nbformat.v4.new_notebook()
    for i, s in enumerate(seconds):
        cell = nbformat.v4.new_code_cell(f"x = {i}")
        cell.metadata["execution"] = {"iopub.execute_input": f"2026-01-01T00:{i:02d}:00.000000Z",
                                      "shell.execute_reply": f"2026-01-01T00:{i:02d}:{s:06.3f}Z"}
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_parallel_workers_take_the_longest_recorded_notebooks_first(tmp_path):
    from colorkit.course.reproduce import longest_first, recorded_seconds

    short = _timed(tmp_path / "00_short.ipynb", [1.5, 2.0])
    long = _timed(tmp_path / "01_long.ipynb", [30.0, 12.25])
    middle = _timed(tmp_path / "02_middle.ipynb", [20.0])
    untimed_a, untimed_b = tmp_path / "03_a.ipynb", tmp_path / "04_b.ipynb"
    _nb(untimed_a, ["x = 1"])
    _nb(untimed_b, ["x = 2"])
    broken = tmp_path / "05_broken.ipynb"
    broken.write_text("not json")
    assert recorded_seconds(short) == pytest.approx(3.5) and recorded_seconds(long) == pytest.approx(42.25)
    assert recorded_seconds(untimed_a) == 0 and recorded_seconds(broken) == 0
    order = longest_first([short, long, middle, untimed_a, untimed_b, broken])
    assert order == [long, middle, short, broken, untimed_b, untimed_a]  # no timings: later notebooks first

