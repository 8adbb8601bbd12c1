"""League table, funnel limits and alerts of a period (cxlib.league), and the period index
merged across runs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_notebook
from scipy import stats

from cxlib import league, report

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _visits(spec: dict[tuple[str, str], tuple[list[int], list[bool]]]) -> pd.DataFrame:
    """Visits from {(center, month): (ltr answers, complaint flags)}; a visit per complaint flag,
    the first len(ltr) of them with an answer."""
    rows = []
    for (center, month), (ltr, complained) in spec.items():
        for i, c in enumerate(complained):
            rows.append(
                {
                    "center": center,
                    "month": month,
                    "arrived_at": pd.Timestamp(f"{month}-15 10:00", tz="Asia/Shanghai"),
                    "ltr": ltr[i] if i < len(ltr) else pd.NA,
                    "complained": c,
                }
            )
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
    v = _visits(
        {
            ("A", "2026-10"): ([10] * 60 + [7] * 30 + [2] * 10, [True] * 2 + [False] * 98),
            ("B", "2026-10"): ([10] * 10 + [7] * 30 + [2] * 60, [True] * 32 + [False] * 88),
        }
    )
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
    spec = {
        ("A", "2026-09"): ([9] * 50, [True] * 5 + [False] * 195),
        ("A", "2026-10"): ([9] * 50, [True] * 40 + [False] * 160),
    }
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
    write_notebook(
        folder / "01_first.ipynb",
        "from cxlib import results\n"
        "results.record('nps', {'value': 1.0, 'ci_low': 0.0, 'ci_high': 2.0, 'n': 10}, results_file)",
    )
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
    report.run_reports(raw, processed, out, "2026-10", "SH-JQ", settings=report.RunSettings(notebook_dir=nbs))
    period_dir, _ = report.run_reports(
        raw, processed, out, "2026-10", "BJ-CY", settings=report.RunSettings(notebook_dir=nbs)
    )
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="SH-JQ/01_first.html"' in index and 'href="BJ-CY/01_first.html"' in index
    assert [r["center"] for r in report.report_folders(period_dir)] == ["BJ-CY", "SH-JQ"]
    alerts = json.loads((period_dir / "alerts.json").read_text(encoding="utf-8"))
    changes = [(a["center"], a["measure"], a["direction"]) for a in alerts["alerts"] if a["kind"] == "change"]
    assert ("SH-JQ", "nps", "worse") in changes
    assert not [c for c in changes if c[0] != "SH-JQ"], changes
    drop = next(a for a in alerts["alerts"] if a["kind"] == "change" and a["center"] == "SH-JQ")
    assert drop["value"] < -90 < 0 < drop["previous_value"] and drop["p_holm"] < 1e-6
    # between-center variation beyond sampling noise widens the funnel (Spiegelhalter 2005): the
    # planted month is caught by the change test; the funnel judges it by its adjusted z
    od = alerts["overdispersion"]["nps"]
    assert od["overdispersed"] and od["tau2"] > 0 and od["df"] == 6
    funnel = [a for a in alerts["alerts"] if a["kind"] == "funnel" and a["center"] == "SH-JQ"]
    assert all(a["side"] == "below" and a["z"] < -3.09 for a in funnel)
    # the alerts come first on the index page, the drop among them
    assert index.index("预警 Alerts") < index.index("报告 Reports")
    assert "SH-JQ: NPS 下降 fell" in index
    # the network report, when run, is listed first
    report.run_reports(raw, processed, out, "2026-10", "all", settings=report.RunSettings(notebook_dir=nbs, jobs=2))
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


# ------------------------------------------------------------------ overdispersion (Spiegelhalter 2005)
def test_overdispersion_without_winsorising_is_dersimonian_laird():
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([0.05, 0.10, 0.20, 0.08, 0.12, 0.03])
    n = np.array([400, 250, 300, 500, 120, 380])
    p0 = float((y * n).sum() / n.sum())  # the network share: the fixed-effect mean
    var = p0 * (1 - p0)
    r = league.overdispersion(y, n, p0, var, winsor=0.0)
    ref = combine_effects(y, var / n, method_re="dl")
    assert r["chi2"] == pytest.approx(ref.q, rel=1e-10) and r["phi"] == pytest.approx(ref.q / 6, rel=1e-10)
    assert r["tau2"] == pytest.approx(ref.tau2, rel=1e-10) and r["df"] == 5
    assert r["p_value"] == pytest.approx(stats.chi2.sf(ref.q, 5))


def test_overdispersion_winsorises_the_extreme_centers_by_hand():
    y = np.array([0.03, 0.06, 0.09, 0.12, 0.15, 0.18, 0.45])
    n = np.full(7, 200.0)
    p0 = float(y.mean())
    var = p0 * (1 - p0)
    z = (y - p0) / np.sqrt(var / n)
    zs = np.sort(z)
    zw = np.clip(z, zs[1], zs[5])  # ceil(10 % of 7) = 1 center pulled in at each end
    phi = float(np.mean(zw**2))
    w = n / var
    tau2 = (7 * phi - 6) / (w.sum() - (w**2).sum() / w.sum())
    r = league.overdispersion(y, n, p0, var)
    assert r["phi"] == pytest.approx(phi) and r["chi2"] == pytest.approx(7 * phi)
    assert r["overdispersed"] and r["tau2"] == pytest.approx(tau2) and r["p_value"] < 0.001
    # the outlier stays an outlier once the limits are widened, the others fall inside
    zadj = league.adjusted_z(y, n, p0, var, tau2=r["tau2"])
    assert zadj[6] == pytest.approx((0.45 - p0) / np.sqrt(var / 200 + tau2))
    assert zadj[6] > 3.09 and (abs(zadj[:6]) < 3.09).all() and (abs(z[:6]) > 3.09).sum() >= 1


def test_two_outliers_do_not_widen_their_own_limits():
    # five centers alike, one far below, one far above: winsorised, no overdispersion is left
    y = np.array([0.02, 0.08, 0.09, 0.10, 0.11, 0.12, 0.30])
    n = np.full(7, 200.0)
    r = league.overdispersion(y, n, 0.11, 0.11 * 0.89)
    assert not r["overdispersed"] and r["tau2"] == 0.0 and r["p_value"] > 0.05
    assert league.overdispersion(y, n, 0.11, 0.11 * 0.89, winsor=0.0)["overdispersed"]  # unwinsorised: it is
    z = league.adjusted_z(y, n, 0.11, 0.11 * 0.89, tau2=r["tau2"])
    assert z[0] < -3.09 and z[6] > 3.09


def _binomial_centers(seed: int, spread: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spec = {}
    for i in range(7):
        rate = float(np.clip(0.1 + spread * rng.normal(), 0.01, 0.6))
        m = int(rng.integers(150, 400))
        answers = rng.choice([10, 7, 2], size=m, p=[0.45, 0.3, 0.25]).tolist()
        spec[(f"C{i}", "2026-10")] = (answers, (rng.uniform(size=m) < rate).tolist())
    return _visits(spec)


def test_no_overdispersion_changes_nothing():
    for seed in range(5):
        v = _binomial_centers(seed, spread=0.0)
        t = league.league_table(v, "2026-10", "2026-10")
        od = t.attrs["overdispersion"]
        net = t.iloc[0]
        for measure, key, n_key, zkey, scale in (
            ("nps", "nps", "n_responses", "nps_z", 100),
            ("complaint_share", "complaint_share", "complaints_n", "complaint_z", 1),
        ):
            if od[measure]["overdispersed"]:
                continue  # a 5 % false alarm of the test: nothing to compare
            assert od[measure]["tau2"] == 0.0
            ref = league._network_var(net.to_dict(), measure)
            for _, r in t.iloc[1:].iterrows():
                lo, hi = league.funnel_limits(ref[0], ref[1], r[n_key], 0.998)
                plain = "above" if r[key] / scale > hi else "below" if r[key] / scale < lo else "inside"
                assert r["nps_funnel" if measure == "nps" else "complaint_funnel"] == plain
                assert r[zkey] == pytest.approx((r[key] / scale - ref[0]) / math.sqrt(ref[1] / r[n_key]))


def test_overdispersed_centers_are_not_all_flagged():
    v = _binomial_centers(11, spread=0.08)
    t = league.league_table(v, "2026-10", "2026-10")
    od = t.attrs["overdispersion"]["complaint_share"]
    assert od["overdispersed"] and od["tau2"] > 0 and od["p_value"] < 0.05
    net = t.iloc[0].to_dict()
    ref = league._network_var(net, "complaint_share")
    plain = sum(
        1
        for _, r in t.iloc[1:].iterrows()
        if not league.funnel_limits(ref[0], ref[1], r["complaints_n"], 0.998)[0]
        <= r["complaint_share"]
        <= league.funnel_limits(ref[0], ref[1], r["complaints_n"], 0.998)[1]
    )
    adjusted = int((t["complaint_funnel"].iloc[1:] != "inside").sum())
    assert plain >= 3 and adjusted < plain
    found = league.alerts(v, "2026-10", "2026-10")
    assert found["overdispersion"]["complaint_share"]["overdispersed"] is True
    assert {a["center"] for a in found["alerts"] if a["kind"] == "funnel" and a["measure"] == "complaint_share"} == set(
        t.loc[t["complaint_funnel"].isin(["above", "below"]), "center"]
    )
