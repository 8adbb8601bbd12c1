"""League table, funnel limits and alerts of a period (cxlib.league), and the period index
merged across runs."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_notebook

from cxlib import league, report

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _visits(spec: dict[tuple[str, str], tuple[list[int], list[bool]]]) -> pd.DataFrame:
    """Visits from {(center, month): (ltr answers, complaint flags)}; a visit per complaint flag,
    the first len(ltr) of them with an answer."""
    rows = []
    for (center, month), (ltr, complained) in spec.items():
        for i, c in enumerate(complained):
            rows.append({"center": center, "month": month,
                         "arrived_at": pd.Timestamp(f"{month}-15 10:00", tz="Asia/Shanghai"),
                         "ltr": ltr[i] if i < len(ltr) else pd.NA, "complained": c})
    out = pd.DataFrame(rows)
    out["ltr"] = out["ltr"].astype("Int64")
    out["complained"] = out["complained"].astype("boolean")
    return out


def test_previous_period_is_the_same_length_just_before():
    assert league.previous_period("2026-10", "2026-10") == ("2026-09", "2026-09")
    assert league.previous_period("2026-01", "2026-03") == ("2025-10", "2025-12")
    assert league.previous_period("2026-08", "2026-10") == ("2026-05", "2026-07")
    assert league.previous_period(None, None) is None


def test_funnel_limits_by_hand():
    lo, hi = league.funnel_limits(0.1, 0.25, 100, 0.95)
    assert lo == pytest.approx(0.1 - 1.959964 * 0.05, abs=1e-6)
    assert hi == pytest.approx(0.1 + 1.959964 * 0.05, abs=1e-6)
    lo, hi = league.funnel_limits(0.0, 1.0, 400, 0.998)
    assert hi == pytest.approx(3.090232 / 20, abs=1e-6)


def test_league_table_counts_intervals_and_funnel():
    # network: A 100 answers (60 promoters, 10 detractors), B 100 answers (10 promoters, 60 detractors)
    v = _visits({("A", "2026-10"): ([10] * 60 + [7] * 30 + [2] * 10, [True] * 2 + [False] * 98),
                 ("B", "2026-10"): ([10] * 10 + [7] * 30 + [2] * 60, [True] * 32 + [False] * 88)})
    t = league.league_table(v, "2026-10", "2026-10").set_index("center")
    assert list(t.index) == ["all", "A", "B"]
    assert t.loc["A", "nps"] == pytest.approx(50.0) and t.loc["B", "nps"] == pytest.approx(-50.0)
    assert t.loc["all", "nps"] == pytest.approx(0.0) and t.loc["all", "n_responses"] == 200
    assert t.loc["B", "n_visits"] == 120 and t.loc["B", "complaint_share"] == pytest.approx(32 / 120)
    lo, hi = league.nps_mod.wilson_ci(32, 120)
    assert (t.loc["B", "complaint_ci_low"], t.loc["B", "complaint_ci_high"]) == pytest.approx((lo, hi))
    # network variance of the -1/0/+1 score: 0.35 + 0.35 - 0 = 0.7; limit 3.09 * sqrt(0.7 / 100) = 0.2585
    assert t.loc["A", "nps_funnel"] == "above" and t.loc["B", "nps_funnel"] == "below"
    # network share 34/220; limits 0.1545 -/+ 3.09 * sqrt(0.1545 * 0.8455 / n): 0.043 (n = 100), 0.257 (n = 120)
    assert t.loc["A", "complaint_funnel"] == "below" and t.loc["B", "complaint_funnel"] == "above"


def test_alerts_find_a_planted_drop_and_only_that():
    base = [10] * 45 + [7] * 35 + [3] * 20  # NPS 25
    drop = [10] * 25 + [7] * 40 + [3] * 35  # NPS -10
    flags = [False] * 90 + [True] * 10
    spec = {(c, m): (base, flags) for c in ("A", "B", "C") for m in ("2026-09", "2026-10")}
    spec[("B", "2026-10")] = (drop, flags)
    out = league.alerts(_visits(spec), "2026-10", "2026-10")
    assert out["schema"] == league.ALERTS_SCHEMA and out["previous_period"]["start"] == "2026-09"
    changes = [a for a in out["alerts"] if a["kind"] == "change"]
    assert [(a["center"], a["measure"], a["direction"]) for a in changes] == [("B", "nps", "worse")]
    a = changes[0]
    assert a["value"] == pytest.approx(-10) and a["previous_value"] == pytest.approx(25)
    assert a["difference"] == pytest.approx(-35) and a["n"] == 100 and a["previous_n"] == 100
    # adjusted Wald (0.75 / 1.5 / 0.75 added to each period): now 35.75 det, 25.75 pro of 103,
    # NPS -10/103, variance 61.5/103 - (10/103)^2; before 20.75 det, 45.75 pro, 25/103,
    # 66.5/103 - (25/103)^2; z = -35/103 / se; Holm over the three centers: 3 p (p of A, C = 1)
    from scipy import stats
    se = math.sqrt((61.5 / 103 - (10 / 103) ** 2 + 66.5 / 103 - (25 / 103) ** 2) / 103)
    p = 2 * stats.norm.sf(35 / 103 / se)
    assert a["p_value"] == pytest.approx(p, rel=1e-5) and a["p_holm"] == pytest.approx(3 * p, rel=1e-5)
    assert a["p_holm"] < 0.05
    assert "B: NPS 下降 fell 25 → -10" in a["message"]
    json.dumps(out)  # plain JSON: no numpy scalars, no NaN


def test_alerts_without_a_previous_period_say_so():
    spec = {("A", "2026-10"): ([9] * 40, [False] * 40)}
    out = league.alerts(_visits(spec), "2026-10", "2026-10")
    assert out["previous_period"] == {"start": "2026-09", "end": "2026-09", "n_visits": 0}
    assert out["note"] == "no previous period: no visits in 2026-09"
    assert league.alerts(_visits(spec), None, None)["previous_period"] is None


def test_complaint_share_change_is_a_two_proportion_test():
    spec = {("A", "2026-09"): ([9] * 50, [True] * 5 + [False] * 195),
            ("A", "2026-10"): ([9] * 50, [True] * 40 + [False] * 160)}
    out = league.alerts(_visits(spec), "2026-10", "2026-10")
    (a,) = [a for a in out["alerts"] if a["kind"] == "change"]
    assert a["measure"] == "complaint_share" and a["direction"] == "worse"
    # pooled z: p = 45/400, se = sqrt(p(1-p)(2/200))
    p = 45 / 400
    z = (40 / 200 - 5 / 200) / math.sqrt(p * (1 - p) * 2 / 200)
    from scipy import stats
    assert a["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-6)


def test_unknown_complaints_give_no_complaint_figures():
    v = _visits({("A", "2026-10"): ([9] * 10, [False] * 10)})
    v["complained"] = pd.array([pd.NA] * len(v), dtype="boolean")
    t = league.league_table(v, "2026-10", "2026-10")
    assert t["complaint_share"].isna().all() and (t["complaints_n"] == 0).all()
    assert league.funnel_png(t).startswith("data:image/png;base64,")


# ---------------------------------------------------------------- runs on the sample data
def _quick_notebooks(folder: Path) -> Path:
    folder.mkdir()
    write_notebook(folder / "01_first.ipynb",
                   "from cxlib import results\n"
                   "results.record('nps', {'value': 1.0, 'ci_low': 0.0, 'ci_high': 2.0, 'n': 10}, results_file)")
    return folder


def _planted_drop_raw(dst: Path, center: str = "SH-JQ", month: str = "2026-10") -> Path:
    """A copy of the sample's raw folder whose surveys give every visit of ``center`` in
    ``month`` a likelihood-to-recommend of 0 (the raw data, so the cleaning builds it)."""
    import openpyxl

    shutil.copytree(RAW, dst)
    visits = pd.read_csv(dst / f"visits_{month}.csv", dtype=str)
    ids = set(visits.loc[visits["服务中心"] == center, "工单号"])
    wb = openpyxl.load_workbook(dst / "surveys.xlsx")
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    vid, ltr = head.index("工单号"), head.index("推荐意愿")
    changed = 0
    for row in ws.iter_rows(min_row=2):
        if row[vid].value in ids and row[ltr].value is not None:
            row[ltr].value = 0
            changed += 1
    assert changed > 50
    wb.save(dst / "surveys.xlsx")
    return dst


@pytest.mark.slow
def test_two_runs_leave_an_index_with_both_and_alerts_flag_the_planted_drop(tmp_path):
    from cxlib import clean

    raw = _planted_drop_raw(tmp_path / "raw")
    processed = tmp_path / "processed"
    clean.clean(raw, processed)
    nbs = _quick_notebooks(tmp_path / "nbs")
    out = tmp_path / "reports"
    report.run_reports(raw, processed, out, "2026-10", "SH-JQ", notebook_dir=nbs)
    period_dir, _ = report.run_reports(raw, processed, out, "2026-10", "BJ-CY", notebook_dir=nbs)
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="SH-JQ/01_first.html"' in index and 'href="BJ-CY/01_first.html"' in index
    assert [r["center"] for r in report.report_folders(period_dir)] == ["BJ-CY", "SH-JQ"]
    alerts = json.loads((period_dir / "alerts.json").read_text(encoding="utf-8"))
    changes = [(a["center"], a["measure"], a["direction"]) for a in alerts["alerts"] if a["kind"] == "change"]
    assert ("SH-JQ", "nps", "worse") in changes
    assert not [c for c in changes if c[0] != "SH-JQ"], changes
    drop = next(a for a in alerts["alerts"] if a["kind"] == "change" and a["center"] == "SH-JQ")
    assert drop["value"] < -90 < 0 < drop["previous_value"] and drop["p_holm"] < 1e-6
    funnel = [a for a in alerts["alerts"] if a["kind"] == "funnel" and a["center"] == "SH-JQ"]
    assert funnel and funnel[0]["side"] == "below"
    # the alerts come first on the index page, the drop among them
    assert index.index("预警 Alerts") < index.index("报告 Reports")
    assert "SH-JQ: NPS 下降 fell" in index
    # the network report, when run, is listed first
    report.run_reports(raw, processed, out, "2026-10", "all", notebook_dir=nbs, jobs=2)
    assert [r["center"] for r in report.report_folders(period_dir)][:2] == ["all", "BJ-CY"]


@pytest.mark.slow
def test_league_of_the_unmodified_sample_has_no_change_alert_for_sh_jq(tmp_path):
    from cxlib import clean

    processed = tmp_path / "processed"
    clean.clean(RAW, processed)
    out = league.alerts(league.period_visits(processed), "2026-10", "2026-10")
    assert not [a for a in out["alerts"] if a["kind"] == "change" and a["center"] == "SH-JQ"]
    net = out["network"]
    assert net["n_visits"] == 980 and net["n_responses"] == 640 and -100 <= net["nps"] <= 100
    t = league.league_table(league.period_visits(processed), "2026-10", "2026-10")
    assert t["n_visits"].iloc[1:].sum() == 980
