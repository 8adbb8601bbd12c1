"""A center-month with 1, 5 and 20 survey responses: every notebook of the report finishes, every
section the month's data cannot carry says "样本不足（n = …）" with its reason, every interval stays
on its scale, and the small rows are flagged. The network's other months are untouched, so the
trend and the comparison with the previous month have data; only October is thin."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cxlib import synth

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
MONTH = "2026-10"
RESPONSES = {"BJ-CY": 1, "CD-GX": 5, "GZ-TH": 20}  # center -> survey responses kept in October
SCALES = {"nps": (-100, 100), "ltr": (0, 10), "score": (1, 10), "anxiety": (0, 100), "share": (0, 1)}


def thin_month(raw: Path, responses: dict[str, int] = RESPONSES, month: str = MONTH) -> Path:
    """The 6,000-visit sample (clean tables, contract headers) with only ``responses[c]`` survey
    answers left for center ``c`` in ``month``; the cases file of the shipped sample next to it."""
    raw.mkdir(parents=True, exist_ok=True)
    tables = synth.generate(6000, 20261001)
    visits, surveys = tables["visits"], tables["surveys"]
    of = visits[["visit_id", "center"]].assign(month=visits["arrived_at"].astype(str).str[:7])
    answers = surveys.merge(of, on="visit_id", how="left")
    drop = []
    for center, k in responses.items():
        rows = answers.index[(answers["center"] == center) & (answers["month"] == month)]
        assert len(rows) > k, (center, len(rows))
        drop += list(rows[k:])
    tables["surveys"] = surveys.drop(index=surveys.index[drop])
    for name, df in tables.items():
        if name != "truth":
            df.to_csv(raw / f"{name}.csv", index=False)
    cases = Path(__file__).resolve().parents[1] / "data" / "raw" / "cases_interventions.yaml"
    (raw / cases.name).write_bytes(cases.read_bytes())
    return raw


@pytest.fixture(scope="module")
def thin_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("thin")
    raw = thin_month(tmp / "raw")
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
            "--period",
            MONTH,
            "--center",
            ",".join(RESPONSES),
            "--jobs",
            "2",
            "--lang",
            "zh",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "reports" / MONTH


def page_text(path: Path) -> str:
    """The visible text of a report page (no styles, scripts or images)."""
    import html

    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def results_of(period: Path, center: str) -> dict:
    return json.loads((period / center / "results.json").read_text(encoding="utf-8"))


def test_the_thinned_month_holds_exactly_the_asked_responses(tmp_path):
    from cxlib import clean

    raw = thin_month(tmp_path / "raw")
    clean.clean(raw, tmp_path / "processed")
    data = clean.read_processed(tmp_path / "processed")
    visits = data.visits
    answered = visits[visits["ltr"].notna() & (visits["arrived_at"].dt.strftime("%Y-%m") == MONTH)]
    got = answered["center"].astype(str).value_counts().to_dict()
    assert {c: got.get(c, 0) for c in RESPONSES} == RESPONSES


@pytest.mark.parametrize("center", list(RESPONSES))
def test_every_notebook_finishes_without_a_traceback(thin_report, center):
    manifest = json.loads((thin_report / center / "manifest.json").read_text(encoding="utf-8"))
    assert [(n["notebook"], n["status"]) for n in manifest["notebooks"]] == [(nb, "ok") for nb in NOTEBOOKS]
    for nb in NOTEBOOKS:
        text = page_text(thin_report / center / f"{nb}.html")
        for bad in ("Traceback", "Error:", "DataError", "nan%", " NaN ", "inf "):
            assert bad not in text, (center, nb, bad)


@pytest.mark.parametrize("center", list(RESPONSES))
def test_the_headline_nps_carries_its_n_and_an_interval_on_the_scale(thin_report, center):
    entry = results_of(thin_report, center)["nps"]
    assert entry["n"] == RESPONSES[center]
    assert -100 <= entry["ci_low"] <= entry["value"] <= entry["ci_high"] <= 100


def _intervals(obj, path=""):
    """Every (path, low, high) found in a results.json entry: keys ``ci_low`` / ``ci_high`` and
    ``<x>_ci_low`` / ``<x>_ci_high`` side by side."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.endswith("ci_low") and (k[:-3] + "high") in obj:
                yield f"{path}.{k}", v, obj[k[:-3] + "high"]
            yield from _intervals(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _intervals(v, f"{path}[{i}]")


@pytest.mark.parametrize("center", list(RESPONSES))
def test_no_recorded_interval_leaves_its_scale(thin_report, center):
    res = results_of(thin_report, center)
    checked = 0
    for path, lo, hi in _intervals(
        {k: v for k, v in res.items() if k in ("nps", "nps_by_segment", "nps_by_tier", "emotion_curve")}
    ):
        if lo is None or hi is None:
            continue
        checked += 1
        scale = (
            "score"
            if path.startswith(".emotion_curve")
            else "share"
            if "complaint" in path
            else "ltr"
            if "ltr" in path
            else "anxiety"
            if "anxiety" in path
            else "nps"
        )
        low, high = SCALES[scale]
        assert low <= lo <= hi <= high, (path, lo, hi)
        assert not (math.isnan(lo) or math.isnan(hi))
    assert checked >= 3


@pytest.mark.parametrize("center", list(RESPONSES))
def test_sections_without_enough_data_say_too_few_with_n(thin_report, center):
    n = RESPONSES[center]
    res = results_of(thin_report, center)
    text02 = page_text(thin_report / center / "02_emotion_curves.html")
    text03 = page_text(thin_report / center / "03_nps_proactive_updates.html")
    # 10-fold cross-validation of the peak-end models needs 20 complete responses
    if n < 20:
        assert res["peak_end"]["computed"] is False and res["peak_end"]["n"] <= n
        assert f"样本不足：n = {res['peak_end']['n']} 份完整答卷" in text02
    # the regressions of LTR need 30 complete rows
    assert f"样本不足：n = {n} " in text03
    assert res["ltr_slope_per_update"]["computed"] is False
    assert res["ltr_slope_per_update"]["n"] == n


@pytest.mark.parametrize("center", list(RESPONSES))
def test_small_rows_are_flagged_in_the_tables(thin_report, center):
    for nb in ("02_emotion_curves", "03_nps_proactive_updates", "05_summary"):
        page = (thin_report / center / f"{nb}.html").read_text(encoding="utf-8")
        assert "cx-small" in page, (center, nb)
        assert "n < 30" in page_text(thin_report / center / f"{nb}.html"), (center, nb)
