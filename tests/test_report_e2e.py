"""`cx report` end to end: on the shipped sample, and on tiny notebooks for failure semantics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import write_notebook

from cxlib import cli, report
from cxlib.notebooks import numbered_notebooks

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
CX = [sys.executable, "-m", "cxlib.cli"]
pytestmark = pytest.mark.slow


def _report_code(processed: Path, out: Path, notebook_dir: Path, centers: str, extra: str = "") -> str:
    """Python code that runs ``report.run_reports`` in a child process and prints each center's
    run as JSON: [center, status, [[notebook, status, error], …]]."""
    return (
        "import json; from pathlib import Path; from cxlib import report;"
        f"_, runs = report.run_reports(Path({str(RAW)!r}), Path({str(processed)!r}), Path({str(out)!r}), "
        f"'2026-10', {centers!r}, settings=report.RunSettings(notebook_dir=Path({str(notebook_dir)!r}){extra}));"
        "print(json.dumps([[r.center, r.status, [[n.notebook, n.status, n.error] for n in r.notebooks]]"
        " for r in runs]))"
    )


def _first_then_second(folder: Path, first_body: str) -> Path:
    """Two tiny notebooks: ``first_body``, then one that prints that it ran."""
    folder.mkdir()
    write_notebook(folder / "01_first.ipynb", first_body)
    write_notebook(folder / "02_second.ipynb", "print('second ran for', center)")
    return folder


def test_failing_center_is_marked_and_others_go_on(processed, tiny_notebooks, tmp_path):
    out = tmp_path / "reports"
    period_dir, runs = report.run_reports(
        RAW, processed, out, "2026-10", "BJ-CY,SH-JQ", settings=report.RunSettings(jobs=2, notebook_dir=tiny_notebooks)
    )
    status = {r.center: r.status for r in runs}
    assert status == {"BJ-CY": "failed", "SH-JQ": "ok"}
    bj = json.loads((period_dir / "BJ-CY" / "manifest.json").read_text())
    assert bj["status"] == "failed"
    assert [n["status"] for n in bj["notebooks"]] == ["failed", "ok"]
    assert "no data for BJ-CY" in bj["notebooks"][0]["error"]
    executed = nbformat.read(period_dir / "BJ-CY" / "01_first.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    sh = json.loads((period_dir / "SH-JQ" / "results.json").read_text())
    assert sh["nps"]["value"] == 1.0
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert "BJ-CY" in index and "SH-JQ" in index and 'class="failed"' in index
    assert "failed" in (period_dir / "run.log").read_text()
    man = json.loads((period_dir / "SH-JQ" / "manifest.json").read_text())
    assert man["parameters"]["period_start"] == "2026-10" and man["raw_fingerprint"]
    assert set(man["packages"]) >= {"python", "pandas", "statsmodels", "papermill"}
    assert all(n["seconds"] >= 0 for n in man["notebooks"])


def test_killed_run_leaves_no_complete_looking_report(processed, tiny_notebooks, tmp_path):
    out = tmp_path / "reports"
    code = _report_code(processed, out, tiny_notebooks, "SH-JQ")
    env = dict(os.environ, CX_TEST_SLEEP="60")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    period_dir = out / "2026-10"
    deadline = time.time() + 120
    while time.time() < deadline and not list(period_dir.glob(".tmp-SH-JQ-*/01_first.ipynb")):
        time.sleep(0.5)
    assert list(period_dir.glob(".tmp-SH-JQ-*/01_first.ipynb")), "the run did not get going"
    # a second run on the same output is refused while the first is alive
    second = subprocess.run(
        CX
        + [
            "report",
            "--raw",
            str(RAW),
            "--processed",
            str(processed),
            "--out",
            str(out),
            "--period",
            "2026-10",
            "--center",
            "SH-JQ",
        ],
        capture_output=True,
        text=True,
    )
    assert second.returncode == 2 and "another report run" in second.stderr
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (period_dir / "SH-JQ").exists()
    assert not (period_dir / "index.html").exists()
    # a run killed while it swapped a report into place leaves an .old-* folder behind
    (period_dir / ".old-BJ-CY").mkdir()
    # the next run takes over the stale lock, clears the leftovers and completes
    _, runs = report.run_reports(
        RAW, processed, out, "2026-10", "SH-JQ", settings=report.RunSettings(notebook_dir=tiny_notebooks)
    )
    assert runs[0].status == "ok"
    assert (period_dir / "SH-JQ" / "manifest.json").exists()
    assert not list(period_dir.glob(".tmp-*")) and not list(period_dir.glob(".old-*"))


def test_kernel_dying_in_a_cell_fails_that_notebook_only(processed, tmp_path):
    nbs = _first_then_second(
        tmp_path / "nbs", "import os\nif center == 'SH-JQ':\n    os._exit(1)  # as an out-of-memory kill would"
    )
    out = tmp_path / "reports"
    code = _report_code(processed, out, nbs, "SH-JQ,SZ-NS")
    # in a child process with a time limit: a dead kernel must never leave the run waiting
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert runs == [
        ["SH-JQ", "failed", [["01_first", "failed", "DeadKernelError: Kernel died"], ["02_second", "ok", None]]],
        ["SZ-NS", "ok", [["01_first", "ok", None], ["02_second", "ok", None]]],
    ]
    # the kernel was restarted for the next notebook
    folder = out / "2026-10" / "SH-JQ"
    second = nbformat.read(folder / "02_second.ipynb", as_version=4)
    assert second.cells[-1].outputs[0]["text"] == "second ran for SH-JQ\n"
    # the notebook that stopped still has its copy (parameters filled in) saying why, and a page
    first = nbformat.read(folder / "01_first.ipynb", as_version=4)
    assert "did not finish: DeadKernelError: Kernel died" in first.cells[0].source
    assert any('center = "SH-JQ"' in c.source for c in first.cells if c.cell_type == "code")
    assert "did not finish" in (folder / "01_first.html").read_text(encoding="utf-8")


def test_cell_over_the_time_limit_fails_its_notebook_and_the_run_goes_on(processed, tmp_path):
    nbs = _first_then_second(tmp_path / "nbs", "import time\nif center == 'SH-JQ':\n    time.sleep(120)")
    out = tmp_path / "reports"
    code = _report_code(processed, out, nbs, "SH-JQ,SZ-NS", extra=", timeout=2")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - t0 < 90  # not the 120 s of the sleeping cell
    manifest = json.loads((out / "2026-10" / "SH-JQ" / "manifest.json").read_text())
    assert manifest["cell_timeout_s"] == 2.0
    assert [(n["notebook"], n["status"]) for n in manifest["notebooks"]] == [
        ("01_first", "failed"),
        ("02_second", "ok"),
    ]
    assert "Timeout" in manifest["notebooks"][0]["error"]
    # the busy kernel was replaced: the next notebook and the next center ran
    second = nbformat.read(out / "2026-10" / "SH-JQ" / "02_second.ipynb", as_version=4)
    assert second.cells[-1].outputs[0]["text"] == "second ran for SH-JQ\n"
    assert json.loads((out / "2026-10" / "SZ-NS" / "manifest.json").read_text())["status"] == "ok"


@pytest.mark.parametrize("jobs", [1, 2])
def test_relative_paths_from_any_working_directory(processed, tiny_notebooks, tmp_path, monkeypatch, jobs):
    # `make report` passes folders relative to the project, while the notebooks run in their own
    # folder (and papermill moves the calling process there during each notebook)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    rel_processed = os.path.relpath(processed, work)
    period_dir, runs = report.run_reports(
        Path(os.path.relpath(RAW, work)),
        Path(rel_processed),
        Path("reports"),
        "2026-10",
        "SH-JQ,SZ-NS",
        settings=report.RunSettings(jobs=jobs, notebook_dir=tiny_notebooks),
    )
    assert [r.status for r in runs] == ["ok", "ok"]
    for center in ("SH-JQ", "SZ-NS"):
        folder = work / "reports" / "2026-10" / center
        assert json.loads((folder / "results.json").read_text())["nps"]["value"] == 1.0
        assert sorted(p.name for p in folder.glob("*.html")) == ["01_first.html", "02_second.html"]
    assert "1.0 [0.0, 2.0]" in (work / "reports" / "2026-10" / "index.html").read_text(encoding="utf-8")
    # nothing was written beside the notebooks
    assert sorted(p.name for p in tiny_notebooks.iterdir()) == ["01_first.ipynb", "02_second.ipynb"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--center", "XX-99"], "unknown center 'XX-99'"),
        (["--center", "../../etc"], "unknown center"),
        (["--period", "2026-13"], "--period must be YYYY-MM, YYYY-MM..YYYY-MM or all, got '2026-13'"),
        (["--period", "../x"], "period"),
        (["--jobs", "0"], "--jobs"),
        (["--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_bad_parameters(processed, tmp_path, capsys, args, message):
    code = cli.main(["report", "--raw", str(RAW), "--processed", str(processed), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir()) or not list(tmp_path.glob("*/*/manifest.json"))


# ---------------------------------------------------------------------- the real notebooks
CENTER, PERIOD = "SZ-NS", "2026-10"


@pytest.fixture(scope="session")
def center_report(sample_report) -> Path:
    """The report of one center of the sample (its folder)."""
    return sample_report("--center", CENTER) / CENTER


def test_report_writes_every_notebook_html_results_and_manifest(center_report):
    names = [p.stem for p in numbered_notebooks(report.NOTEBOOK_DIR)]
    assert len(names) == 6 and names[-1] == "06_comments"
    for n in names:
        assert (center_report / f"{n}.ipynb").exists() and (center_report / f"{n}.html").exists()
    man = json.loads((center_report / "manifest.json").read_text())
    assert man["status"] == "ok" and [n["notebook"] for n in man["notebooks"]] == names
    assert man["parameters"]["center"] == CENTER and man["period"]["start"] == PERIOD
    assert man["cell_timeout_s"] == 600.0
    index = (center_report.parent / "index.html").read_text(encoding="utf-8")
    assert f"{CENTER}/05_summary.html" in index
    assert index.index("05_summary") < index.index("01_cleaning")


def test_the_comment_themes_are_in_the_report_and_quote_no_personal_data(center_report):
    import re

    from cxlib import catalog

    res = json.loads((center_report / "results.json").read_text())
    assert res["themes"] and set(res["themes"]) <= {g.code for g in catalog.NPS_GROUPS}
    for group in res["themes"].values():
        assert list(group) == list(catalog.THEME_CODES)
        assert all(0 <= t["ci_low"] <= t["share"] <= t["ci_high"] <= 1 for t in group.values())
    assert set(res["complaint_themes"]) <= {c.code for c in catalog.COMPLAINT_CHANNELS}
    assert set(res["theme_ltr_gap"]) == set(catalog.THEME_CODES)
    assert set(res["findings_06"]) == {"detractor_themes", "theme_ltr_gap", "complaint_themes"}
    assert res["findings_05"]["detractor_themes"]["top"]
    page = (center_report / "06_comments.html").read_text(encoding="utf-8")
    assert "客户原声" in page and "Verbatims" in page
    assert not re.search(r"1[3-9]\d{9}|\[手机号\]|\[车牌号\]|\[身份证号\]", page)


def test_results_json_schema(center_report):
    res = json.loads((center_report / "results.json").read_text())
    assert {k: res["scope"][k] for k in ("center", "period_start", "period_end", "scenario")} == {
        "center": CENTER,
        "period_start": PERIOD,
        "period_end": PERIOD,
        "scenario": "all",
    }
    assert res["scope"]["n_visits"] > 0 and res["scope"]["n_responses"] > 0 and res["scope"]["title"]
    assert set(res["nps"]) >= {"value", "ci_low", "ci_high", "n"}
    assert res["nps"]["ci_low"] <= res["nps"]["value"] <= res["nps"]["ci_high"]
    assert set(res["nps_by_tier"]) <= {"none", "completion_only", "realtime", "realtime_photo"}
    for key in ("complaint_rate_ratio_per_update", "ltr_slope_per_update"):
        assert "estimate" in res[key]
        if res[key]["estimate"] is not None:
            assert res[key]["ci_low"] <= res[key]["estimate"] <= res[key]["ci_high"]
            assert isinstance(res[key]["adjusted_for"], list)
    assert "p_value_vs_half" in res["complaint_rate_ratio_per_update"]
    assert set(res["did_realtime_effect"]) >= {"ltr", "complained"}
    assert list(res["emotion_curve"])[:2] == ["reminder", "booking"]
    assert set(res["emotion_curve"]["waiting"]) == {"mean", "ci_low", "ci_high", "n"}
    assert {"point", "priority"} <= set(res["pain_points"][0])
    assert {"predictor", "cv_r2", "ci_low", "ci_high"} <= set(res["peak_end"][0])
    assert "kids_corner" in res["roi"] and {"roi", "p_roi_positive", "npv"} <= set(res["roi"]["kids_corner"])
    q = res["quality"]["tables"]
    assert all(t["read"] == t["kept"] + t["quarantined"] for t in q.values())


def test_every_page_title_is_its_scope_line(center_report, processed):
    import html as html_lib
    import re

    from cxlib import clean, results

    data = clean.read_processed(processed).subset(center=CENTER, period_start=PERIOD, period_end=PERIOD)
    expected = results.scope(data, center=CENTER, period_start=PERIOD, period_end=PERIOD, segment="scenario").title()
    assert CENTER in expected and "2026年10月" in expected and "October 2026" in expected
    for name in ("02_emotion_curves", "03_nps_proactive_updates", "05_summary"):
        page = (center_report / f"{name}.html").read_text(encoding="utf-8")
        title = html_lib.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
        assert title == expected, name
        assert 'class="cx-scope"' in page and html_lib.escape(f"工单 {len(data.visits):,} 张") in page
    # 04 has no segment parameter, so its line names none
    page = (center_report / "04_roi_cases.html").read_text(encoding="utf-8")
    title = html_lib.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    assert title == results.scope(data, center=CENTER, period_start=PERIOD, period_end=PERIOD).title()


def test_plain_papermill_gives_the_same_results(center_report, processed, tmp_path):
    import papermill as pm

    results_file = tmp_path / "results.json"
    nb = report.NOTEBOOK_DIR / "03_nps_proactive_updates.ipynb"
    pm.execute_notebook(
        str(nb),
        str(tmp_path / "03.ipynb"),
        kernel_name="python3",
        cwd=str(nb.parent),
        progress_bar=False,
        parameters={
            "center": CENTER,
            "period_start": PERIOD,
            "period_end": PERIOD,
            "processed_dir": str(processed),
            "raw_dir": str(RAW),
            "results_file": str(results_file),
        },
    )
    plain = json.loads(results_file.read_text())
    via_report = json.loads((center_report / "results.json").read_text())
    for key in ("nps", "nps_by_tier", "complaint_rate_ratio_per_update", "ltr_slope_per_update"):
        assert plain[key] == via_report[key], key


def _chromium() -> str:
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for the browser test (make test installs it)"
    return path


def test_report_in_headless_chromium(center_report, tmp_path):
    """The HTML report in a real browser: figures and Chinese text are there, and a survey comment
    that contains <script> is shown as text and never becomes a script."""
    from cxlib.synth import SCRIPT_COMMENT

    page = center_report / "02_emotion_curves.html"
    html_text = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html_text  # escaped by the exporter
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [_chromium(), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert dom.count('src="data:image/png') >= 5
    for text in ("情绪曲线", "旅程地图", "信息黑洞", "客户原声"):
        assert text in dom, text
    escaped = SCRIPT_COMMENT.replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in dom, "the survey comment is shown as text"
    assert "<script>alert(" not in dom, "the survey comment never becomes a script element"
    # the page renders with the embedded CJK font: a screenshot is taken without errors
    shot = tmp_path / "page.png"
    subprocess.run(
        [_chromium(), *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


# with --jobs 2 the workers report every notebook back too
@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_bar_counts_notebooks(processed, tiny_notebooks, tmp_path, monkeypatch, jobs):
    steps = [("SH-JQ 01_first", 1), ("SH-JQ 02_second", 1), ("SZ-NS 01_first", 1), ("SZ-NS 02_second", 1)]
    seen: dict = {"steps": []}

    class Bar:
        def set_postfix_str(self, text, refresh=True):
            seen["label"] = text

        def update(self, n):
            seen["steps"].append((seen["label"], n))

        def close(self):
            seen["closed"] = True

    monkeypatch.setattr(report.run, "_progress", lambda total, show: seen.update(total=total) or Bar())
    report.run_reports(
        RAW,
        processed,
        tmp_path / "out",
        "2026-10",
        "SH-JQ,SZ-NS",
        settings=report.RunSettings(jobs=jobs, notebook_dir=tiny_notebooks),
    )
    assert seen["total"] == 4 and seen["closed"]
    assert sorted(seen["steps"]) == steps
