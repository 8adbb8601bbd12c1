"""Report orchestration pieces that need no notebooks: periods, centers, lock, parameters, index."""

import json
import os
import socket

import pytest

from cxlib import report
from cxlib.errors import DataError
from cxlib.report import params, workers


@pytest.mark.parametrize(
    "text, start, end, folder",
    [
        ("2026-10", "2026-10", "2026-10", "2026-10"),
        ("2026-08..2026-10", "2026-08", "2026-10", "2026-08_2026-10"),
        ("all", None, None, "all"),
    ],
)
def test_parse_period(text, start, end, folder):
    p = report.parse_period(text)
    assert (p.start, p.end, p.folder) == (start, end, folder)


@pytest.mark.parametrize("bad", ["2026-13", "26-10", "2026-10..2026-08", "../etc", "2026-10/../../x", ""])
def test_parse_period_rejects(bad):
    with pytest.raises(DataError, match="period"):
        report.parse_period(bad)


def test_resolve_centers():
    known = ["SH-JQ", "BJ-CY", "GZ-TH"]
    assert report.resolve_centers("all", known) == ["all", "BJ-CY", "GZ-TH", "SH-JQ"]
    assert report.resolve_centers("GZ-TH, SH-JQ", known) == ["GZ-TH", "SH-JQ"]
    assert report.resolve_centers(["SH-JQ", "SH-JQ"], known) == ["SH-JQ"]
    for bad in ["XX-00", "../SH-JQ", "SH-JQ/..", ""]:
        with pytest.raises(DataError, match="center"):
            report.resolve_centers(bad, known)


def test_check_safe_refuses_paths_in_parameters():
    with pytest.raises(DataError, match="lang"):
        params.check_safe("lang", "../../etc")
    params.check_safe("cases_file", "../data/raw/cases.yaml")  # file parameters may be paths
    params.check_safe("lang", "zh")


def test_read_params(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("period: 2026-10\ncenter: [SH-JQ, BJ-CY]\njobs: 2\n", encoding="utf-8")
    assert report.read_params(f) == {"period": "2026-10", "center": ["SH-JQ", "BJ-CY"], "jobs": 2}
    f.write_text("perod: 2026-10\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown parameter 'perod'") as e:
        report.read_params(f)
    assert str(f) in str(e.value)
    f.write_text("center: [SH-JQ\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read run parameters"):
        report.read_params(f)


def test_lock_refuses_second_run_and_takes_over_stale(tmp_path):
    with report.ReportLock(tmp_path):
        assert (tmp_path / ".lock").exists()
        with pytest.raises(DataError, match="another report run"):
            with report.ReportLock(tmp_path):
                pass
    # the lock file stays, empty: no holder
    assert (tmp_path / ".lock").read_text() == ""
    # the text left by a process that no longer exists means nothing: the OS lock died with it
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    (tmp_path / ".lock").write_text(f"pid {pid} on {socket.gethostname()} since x\n")
    with report.ReportLock(tmp_path):
        assert f"pid {os.getpid()}" in (tmp_path / ".lock").read_text()


def test_headline_and_index_escape(tmp_path):
    res = {
        "nps": {"value": 12.04, "ci_low": 5.0, "ci_high": 19.3, "n": 300},
        "complaint_rate_ratio_per_update": {"estimate": 0.812, "ci_low": 0.7, "ci_high": 0.94},
        "pain_points": [{"point": "<b>waiting</b>"}],
    }
    h = report.headline(res)
    assert h["NPS"] == "12.0 [5.0, 19.3]" and h["n"] == "300"
    assert h["complaint RR / update"] == "0.81 [0.70, 0.94]"
    assert h["top pain point"] == "&lt;b&gt;waiting&lt;/b&gt;"
    assert report.headline({})["NPS"] == "–"
    h = report.headline(
        {
            "did_realtime_effect": {"ltr": {"estimate": 2.006, "ci_low": 1.68, "ci_high": 2.335}},
            "pain_points": [{"point": "waiting"}],
        }
    )
    assert h["real-time DiD (LTR)"] == "2.01 [1.68, 2.33]"
    assert h["top pain point"] == "等待 Waiting"
    assert report.headline({"did_realtime_effect": {"ltr": None}})["real-time DiD (LTR)"] == "–"
    (tmp_path / "SH-JQ").mkdir()
    (tmp_path / "SH-JQ" / "results.json").write_text(json.dumps(res))
    for name in ["02_emotion_curves.html", "05_summary.html"]:
        (tmp_path / "SH-JQ" / name).write_text("x")
    runs = [report.CenterRun("SH-JQ", "2026-10", str(tmp_path / "SH-JQ"), status="failed")]
    page = report.write_index(tmp_path, runs).read_text(encoding="utf-8")
    assert page.index("05_summary.html") < page.index("02_emotion_curves.html")
    assert "&lt;b&gt;waiting" in page and "<b>waiting" not in page
    assert 'class="failed"' in page


def _cached_event_loop() -> bool:
    """In a worker: whether jupyter_core's per-thread event loop is already set (inherited)."""
    from jupyter_core import utils

    return utils._loop.get() is not None


def test_parallel_workers_start_without_the_runs_event_loop():
    """A worker of a parallel run starts with no event loop of the run's: a forked one would
    share the run's epoll instance with the other workers and could hang on its kernel."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from jupyter_core.utils import ensure_event_loop

    ensure_event_loop()  # what an earlier sequential run leaves in this process
    assert _cached_event_loop()
    context = multiprocessing.get_context(report.WORKER_START_METHOD)
    with ProcessPoolExecutor(
        max_workers=2, mp_context=context, initializer=workers.init_worker, initargs=(os.getpid(), None)
    ) as pool:
        inherited = [pool.submit(_cached_event_loop).result(timeout=120) for _ in range(2)]
    assert inherited == [False, False]
    # the same probe in forked workers shows what the start method avoids
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(_cached_event_loop).result(timeout=60) is True
