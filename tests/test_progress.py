"""Progress of long steps: lines in the run log of a report run, nothing in the executed
notebook's outputs, nothing at all with CX_PROGRESS=off; a real kernel for the report path."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cxlib import progress
from cxlib.notebooks import ProgressLog, run_notebook


@pytest.fixture()
def quick(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)


def test_log_mode_appends_labelled_lines(tmp_path, monkeypatch, quick):
    log = tmp_path / "run.log"
    monkeypatch.setenv(progress.LOG_ENV, str(log))
    monkeypatch.setenv(progress.LABEL_ENV, "all 02_emotion_curves")
    assert list(progress.track(range(3), desc="key drivers, bootstrap", unit="resamples")) == [0, 1, 2]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3  # one per step (no interval); closing repeats no line
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO all 02_emotion_curves: key drivers, bootstrap "
        r"3/3 \(100%\), 0 s",
        lines[-1],
    )
    assert "1/3 (33%)" in lines[0]


def test_quick_steps_write_nothing(tmp_path, monkeypatch):
    log = tmp_path / "run.log"
    monkeypatch.setenv(progress.LOG_ENV, str(log))
    with progress.Progress(10, "fast") as p:
        p.update(10)
    assert not log.exists()  # under DELAY seconds: no line, as on the shipped sample


def test_off_writes_nothing_and_draws_no_bar(tmp_path, monkeypatch, capsys, quick):
    log = tmp_path / "run.log"
    monkeypatch.setenv(progress.LOG_ENV, str(log))
    monkeypatch.setenv(progress.SWITCH_ENV, "off")
    with progress.Progress(5, "off") as p:
        p.update(5)
    assert p.mode == "closed" and not log.exists()
    assert capsys.readouterr().err == ""


def test_bar_mode_uses_tqdm_and_leaves_no_line(monkeypatch, capsys, quick):
    monkeypatch.delenv(progress.LOG_ENV, raising=False)
    monkeypatch.delenv(progress.SWITCH_ENV, raising=False)
    with progress.Progress(4, "bar", "steps") as p:
        assert p.mode == "bar" and type(p._bar).__module__.startswith("tqdm")
        p.update(4)
    err = capsys.readouterr().err
    assert "bar" in err and err.endswith("\r")  # drawn, then cleared (leave=False)


def test_a_report_notebook_writes_progress_to_the_run_log_not_its_outputs(tmp_path):
    """A real kernel: run_notebook hands the run log to the kernel; the executed copy has no
    stream output from the progress and the log gets the labelled lines."""
    nb = new_notebook(
        cells=[
            new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            new_code_cell(
                "from cxlib import progress\nprogress.DELAY = progress.INTERVAL = 0\n"
                "total = sum(progress.track(range(5), desc='resamples'))\ntotal"
            ),
        ]
    )
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    log = tmp_path / "run.log"
    run_notebook(src, tmp_path / "out.ipynb", {}, progress_log=ProgressLog(log, "SH-JQ 02_emotion_curves"))
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    outputs = out.cells[-1].outputs
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    assert outputs[0]["data"]["text/plain"] == "10"
    text = log.read_text(encoding="utf-8")
    assert "SH-JQ 02_emotion_curves: resamples 5/5 (100%)" in text


def test_the_notebook_regression_run_switches_progress_off():
    make = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "CX_PROGRESS=off $(PY) -m pytest --nbval" in make


def test_report_kernels_run_the_numerical_libraries_on_one_thread(tmp_path, monkeypatch):
    """A warm kernel and a kernel papermill starts both get OPENBLAS_NUM_THREADS=1 (unless the
    environment sets it): spinning BLAS threads on busy cores made X'X 30-50 times slower."""
    from cxlib.notebooks import WarmKernel

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    nb = new_notebook(cells=[new_code_cell("import os\nos.environ.get('OPENBLAS_NUM_THREADS')")])
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    with WarmKernel(tmp_path) as k:
        run_notebook(src, tmp_path / "warm.ipynb", {}, kernel=k)
    run_notebook(src, tmp_path / "own.ipynb", {})
    for name in ("warm", "own"):
        out = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4).cells[0].outputs
        assert out[0]["data"]["text/plain"] == "'1'"
    assert "OPENBLAS_NUM_THREADS" not in __import__("os").environ  # this process is left as it was
