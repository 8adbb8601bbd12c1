"""Every notebook finishes on an analyst's own small exports: the hand-made export sets of
``own_data`` go from raw files to a report (the network and its smallest center) with no failed
notebook. What their data cannot give (touchpoint scores a survey did not ask, a peak-end
cross-validation for 14 responses, a black hole without repair end times) is a sentence in the
pages and a marker in ``results.json``, never a number and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import own_data
import pytest

from cxlib import clean, report

pytestmark = pytest.mark.slow

CX = [sys.executable, "-m", "cxlib.cli"]
NOTEBOOKS = (
    "01_cleaning",
    "02_emotion_curves",
    "03_nps_proactive_updates",
    "04_roi_cases",
    "05_summary",
    "06_comments",
)
NO_SCORES = "未提供数据 / not provided: 触点评分 touchpoint scores (scores)"
SCORES_MARKER = {"provided": False, "missing": ["scores"]}


def run_report(raw: Path, tmp: Path, centers: str) -> tuple[subprocess.CompletedProcess, Path]:
    """``cx report`` of ``raw`` for ``centers`` in a child process; returns it and the period folder."""
    proc = subprocess.run(
        [
            *CX,
            "report",
            "--raw",
            str(raw),
            "--processed",
            str(tmp / "processed"),
            "--out",
            str(tmp / "reports"),
            "--center",
            centers,
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, tmp / "reports" / "all"


def smallest_center(processed: Path) -> str:
    visits = clean.read_processed(processed).visits
    counts = visits["center"].astype(str).value_counts()
    return str(min(counts.index, key=lambda c: (counts[c], c)))


def built(name: str, tmp: Path) -> tuple[Path, str]:
    """The export set ``name`` written and cleaned; its raw folder and its smallest center."""
    raw = own_data.SETS[name](tmp / "raw")
    clean.clean(raw, tmp / "processed")
    return raw, smallest_center(tmp / "processed")


def check_all_ok(proc: subprocess.CompletedProcess, period: Path, folders: list[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    for folder in folders:
        manifest = json.loads((period / folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "ok", (folder, manifest)
        assert [(n["notebook"], n["status"]) for n in manifest["notebooks"]] == [(nb, "ok") for nb in NOTEBOOKS]
        for nb in NOTEBOOKS:
            page = (period / folder / f"{nb}.html").read_text(encoding="utf-8")
            assert "Traceback" not in page and "DataError" not in page, (folder, nb)


def pages(period: Path, folder: str, nb: str) -> str:
    return (period / folder / f"{nb}.html").read_text(encoding="utf-8")


def results_of(period: Path, folder: str) -> dict:
    return json.loads((period / folder / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name", ["english_xls_qualtrics", "stacked_sheets_only_visits_surveys", "gbk_title_rows_with_log"]
)
def test_a_survey_with_only_the_ltr_question_reports_scores_as_not_provided(name, tmp_path):
    raw, small = built(name, tmp_path)
    data = clean.read_processed(tmp_path / "processed")
    assert data.given["scores"] is False and data.quality["tables"]["surveys"]["score_columns"] == []
    proc, period = run_report(raw, tmp_path, f"all,{small}")
    folders = ["all", report.report_folder(small)]
    check_all_ok(proc, period, folders)
    for folder in folders:
        # every section that needs touchpoint scores says so, in 02 and in the summary
        assert pages(period, folder, "02_emotion_curves").count(NO_SCORES) >= 10
        assert pages(period, folder, "05_summary").count(NO_SCORES) >= 2
        res = results_of(period, folder)
        for key in ("emotion_curve", "pain_points", "peak_end"):
            assert res[key] == SCORES_MARKER, (folder, key)
        assert isinstance(res["nps"]["value"], float) and res["nps"]["n"] > 0  # the LTR question itself counts
    index = (period / "index.html").read_text(encoding="utf-8")
    assert index.count("not provided 未提供") >= 2  # the top pain point of both runs
    if name == "gbk_title_rows_with_log":
        # a touchpoint log but no repair end time in the visits: no silence to measure
        page = pages(period, "all", "02_emotion_curves")
        assert "n = 0 visits with a known repair end: too few for the information black hole, need ≥ 1" in page
        assert "n = 0 visits with a known repair end: too few for an example visit's time line, need ≥ 1" in page


def test_the_worked_example_at_a_small_center_says_too_few_for_peak_end(tmp_path):
    raw, small = built("worked_example", tmp_path)
    proc, period = run_report(raw, tmp_path, f"all,{small}")
    folder = report.report_folder(small)
    check_all_ok(proc, period, ["all", folder])
    res = results_of(period, folder)
    pe = res["peak_end"]
    assert pe["computed"] is False and pe["need"] == 20 and 0 < pe["n"] < 20
    sentence = (
        f"n = {pe['n']} complete responses: too few for 10-fold cross-validation of the peak-end models, need ≥ 20"
    )
    assert pe["reason"] == sentence
    assert sentence in pages(period, folder, "02_emotion_curves")
    assert f"样本不足：n = {pe['n']} 份完整答卷" in pages(period, folder, "02_emotion_curves")
    # what the center's 13-14 responses do allow is computed: the curve and the ranking
    assert res["emotion_curve"]["notification"]["n"] == pe["n"]
    assert isinstance(res["pain_points"], list) and res["pain_points"][0]["point"] == "notification"
    # the network holds enough responses for the cross-validation
    assert isinstance(results_of(period, "all")["peak_end"], list)
