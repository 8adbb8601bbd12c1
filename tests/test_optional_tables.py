"""Optional tables (no touchpoint log, no complaints, no cases file) and the segment parameter.

Processed data without a table are built as the cleaning step writes them: the table's Parquet
file with zero rows and its schema, and ``given: false`` under ``tables.<t>`` in quality.json.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib import clean, cli, io, journey, nps, report, results, roi, summary
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def without_tables(raw: Path, *tables: str) -> Path:
    """Remove the files of ``tables`` from the raw folder ``raw``: the cleaning then writes them
    with zero rows and ``given: false``."""
    for t in tables:
        for f in raw.glob(f"{t}*"):
            f.unlink()
    return raw


@pytest.fixture
def tiny_processed(raw_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "processed"
    clean.clean(raw_dir, out)
    return out


# ---------------------------------------------------------------------- ProcessedData.given
def test_given_is_read_from_quality_and_carried_by_subset(tiny_processed):
    full = clean.read_processed(tiny_processed)
    assert all(full.given.values()) and set(full.given) >= {"visits", "touchpoints", "complaints", "centers"}
    assert full.visits.sort_values("visit_id")["complained"].tolist() == [False, True]  # V1, V2

    raw = without_tables(tiny_processed.parent / "raw", "touchpoints", "complaints")
    clean.clean(raw, tiny_processed)
    data = clean.read_processed(tiny_processed)
    assert len(data.events) == 0 and len(data.complaints) == 0
    assert data.given["touchpoints"] is False and data.given["complaints"] is False and data.given["visits"]
    assert data.subset(center="SH-JQ").given == data.given
    # derived from a table that was not given: unknown, never 0 / "no update"
    for c in clean.DERIVED_FROM["touchpoints"] + clean.DERIVED_FROM["complaints"]:
        assert data.visits[c].isna().all(), c
    assert data.scores["tier"].isna().all()
    assert data.visits.sort_values("visit_id")["ltr"].tolist() == [9, 6]  # V1, V2


def test_missing_given_key_means_given():
    assert clean.given_tables({"tables": {"complaints": {"read": 3}}})["complaints"] is True
    assert results.missing({"touchpoints": True}, "touchpoints", "complaints") is None


# ---------------------------------------------------------------------- the note and the marker
def test_not_provided_note_in_each_language_and_as_marker(tmp_path):
    note = results.missing({"touchpoints": False, "complaints": False}, "touchpoints", "complaints", lang="zh")
    assert note.text() == "未提供数据：触点日志（touchpoints）、投诉记录（complaints）"
    assert results.not_provided("complaints", lang="en").text() == "not provided: complaints (complaints)"
    assert "未提供数据 / not provided" in results.not_provided("touchpoints")._repr_html_()
    f = tmp_path / "results.json"
    results.record("nps_by_tier", note, f)
    results.record("x", {"a": 1.0, "b": results.not_provided("complaints")}, f)
    assert results.read(f) == {
        "nps_by_tier": {"provided": False, "missing": ["touchpoints", "complaints"]},
        "x": {"a": 1.0, "b": {"provided": False, "missing": ["complaints"]}},
    }
    assert results.missing_file(tmp_path / "none.yaml", lang="en").detail.endswith("none.yaml not found")
    (tmp_path / "c.yaml").write_text("cases: []\n")
    assert results.missing_file(tmp_path / "c.yaml") is None


def test_tables_leave_out_complaints_when_none_is_known():
    v = pd.DataFrame(
        {
            "ltr": pd.array([10, 9, 3, 7], dtype="Int64"),
            "tier": ["none", "none", "realtime", "realtime"],
            "anxiety": [10.0, 20.0, 80.0, 40.0],
            "n_proactive_updates": [0, 0, 2, 3],
            "complained": pd.array([pd.NA] * 4, dtype="boolean"),
        }
    )
    tiers = nps.tier_table(v, lang="en")
    assert not any(c.startswith("complaint") for c in tiers.columns)
    assert tiers["n_visits"].tolist() == [2, 2] and tiers["nps"].tolist() == [100.0, -50.0]
    rec = nps.tier_record(tiers)
    assert rec["none"]["complaint_rate"] == results.not_provided("complaints")
    assert results.jsonable(rec)["realtime"]["complaint_rate"] == {"provided": False, "missing": ["complaints"]}
    assert "complaint_rate" not in nps.dose_response(v).columns
    head = summary.headline_table(v, lang="en").set_index("figure")["value"]
    assert head["Visits with a complaint"] == "not provided: complaints"
    # complaints given: the share as before
    v["complained"] = pd.array([False, True, False, False], dtype="boolean")
    assert summary.headline_table(v, lang="en").set_index("figure")["value"]["Visits with a complaint"] == "25.0%"
    assert nps.tier_table(v)["complaint_rate"].tolist() == [0.5, 0.0]


# ---------------------------------------------------------------------- segments
def test_segment_columns_and_the_error_listing_them(tiny_processed):
    data = clean.read_processed(tiny_processed)
    cols = data.segment_columns()
    assert {"center", "scenario", "vehicle_model", "warranty", "tier", "month", "complained"} <= set(cols)
    assert not {"visit_id", "customer_id", "response_id", "ltr", "arrived_at", "amount_cny"} & set(cols)
    clean.clean(without_tables(tiny_processed.parent / "raw", "touchpoints"), tiny_processed)
    data = clean.read_processed(tiny_processed)
    assert "tier" not in data.segment_columns() and "complained" in data.segment_columns()
    with pytest.raises(DataError, match=r"unknown segment column 'tier'; available: center, scenario") as e:
        data.check_segment("tier")
    assert "vehicle_model" in str(e.value)
    # a column carried over from a raw file is a segment
    v = data.visits.assign(advisor=pd.Series(["王", "李"], dtype="str"))
    assert clean.check_segment(v, "advisor") == "advisor"


def test_emotion_curve_by_a_visits_column_against_a_direct_computation():
    rng = np.random.default_rng(7)
    n = 60
    visits = pd.DataFrame({"visit_id": [f"V{i}" for i in range(n)], "advisor": rng.choice(["王", "李", "张"], n)})
    scores = pd.DataFrame(
        {
            "visit_id": np.repeat(visits["visit_id"], 2).to_numpy(),
            "point": ["waiting", "payment"] * n,
            "score": rng.integers(1, 11, 2 * n),
        }
    )
    curve = journey.emotion_curve(scores, by="advisor", visits=visits)
    merged = scores.merge(visits, on="visit_id")
    for (adv, point), part in merged.groupby(["advisor", "point"]):
        row = curve[(curve["advisor"] == adv) & (curve["point"] == point)].iloc[0]
        x = part["score"].to_numpy(float)
        from scipy import stats

        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
        assert row["n"] == len(x)
        assert row["mean"] == pytest.approx(x.mean())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((x.mean() - half, x.mean() + half))


def test_report_refuses_an_unknown_segment_and_a_missing_cases_file(raw_dir, tmp_path, capsys):
    params = tmp_path / "run.yaml"
    args = [
        "report",
        "--raw",
        str(raw_dir),
        "--processed",
        str(tmp_path / "p"),
        "--out",
        str(tmp_path / "out"),
        "--params",
        str(params),
    ]
    params.write_text("segment: no_such_column\n")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown segment column 'no_such_column'; available: center" in err
    params.write_text(f"cases_file: {tmp_path / 'missing.yaml'}\n")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cases_file must name an existing file" in err and "missing.yaml" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*/*/manifest.json"))
    assert report.check_segment_option(tmp_path / "p", "vehicle_model") == "vehicle_model"


def test_cases_file_is_the_raw_folders():
    assert roi.cases_path(None, "/data/own") == Path("/data/own/cases_interventions.yaml")
    assert roi.cases_path("x.yaml", "/data/own") == Path("x.yaml")
    assert roi.cases_path(None, None) is None
    assert results.missing_file(None).detail == "no raw folder given"


# ---------------------------------------------------------------------- the notebooks, end to end
CENTER, PERIOD = "SZ-NS", "2026-10"
ADVISORS = ("顾问甲", "顾问乙", "顾问丙")


@pytest.fixture(scope="module")
def own_raw_report(tmp_path_factory) -> tuple[Path, Path]:
    """A report for one center of the sample's raw folder without touchpoint log, complaints and
    cases file, segmented by a carried ``advisor`` column."""
    base = tmp_path_factory.mktemp("own")
    raw = base / "raw"
    raw.mkdir()
    for f in RAW.iterdir():
        if f.name == roi.CASES_FILE or f.name.startswith(("touchpoints", "complaints")):
            continue
        if f.name.startswith("visits"):
            # the visits as an export with one more column, carried by the cleaning
            v = io.read_file(f, "visits").drop(columns=[io.SOURCE_FILE, io.SOURCE_ROW])
            v["advisor"] = [ADVISORS[i % 3] for i in range(len(v))]
            v.to_csv(raw / f"{f.stem}.csv", index=False)
        else:
            shutil.copy(f, raw / f.name)
    processed = base / "processed"
    clean.clean(raw, processed)
    (base / "run.yaml").write_text("segment: advisor\n", encoding="utf-8")
    out = base / "reports"
    code = cli.main(
        [
            "report",
            "--raw",
            str(raw),
            "--processed",
            str(processed),
            "--out",
            str(out),
            "--period",
            PERIOD,
            "--center",
            CENTER,
            "--params",
            str(base / "run.yaml"),
            "--timeout",
            "600",
        ]
    )
    assert code == 0, (out / PERIOD / "run.log").read_text()
    return out / PERIOD / CENTER, processed


@pytest.mark.slow
def test_missing_tables_and_cases_give_not_provided_sections_and_no_numbers(own_raw_report):
    folder, _ = own_raw_report
    man = json.loads((folder / "manifest.json").read_text())
    assert man["status"] == "ok" and all(n["status"] == "ok" for n in man["notebooks"])
    pages = {
        n: (folder / f"{n}.html").read_text(encoding="utf-8")
        for n in ("02_emotion_curves", "03_nps_proactive_updates", "04_roi_cases", "05_summary")
    }
    for name, page in pages.items():
        assert "未提供数据 / not provided" in page, name
    log_note = "未提供数据 / not provided: 触点日志 touchpoint log (touchpoints)"
    assert pages["02_emotion_curves"].count(log_note) >= 4  # tiers, black-hole table and figure, timeline
    assert "anxiety_ci_low" not in pages["02_emotion_curves"]  # no black-hole table
    for name in ("03_nps_proactive_updates", "05_summary"):
        assert "No update" not in pages[name] and "无更新" not in pages[name], name  # no tier table
    assert "not provided: 干预方案文件 cases file (cases)" in pages["05_summary"]
    assert "NPV mean" not in pages["05_summary"]
    # the summary's headline: no complaint share
    summary_nb = pages["05_summary"]
    assert "有投诉的工单占比" in summary_nb and "Visits with a complaint" in summary_nb
    assert "未提供数据 / not provided: complaints" in summary_nb
    assert "0.0%" not in summary_nb

    res = json.loads((folder / "results.json").read_text())
    assert res["nps_by_tier"] == {"provided": False, "missing": ["touchpoints"]}
    assert res["ltr_slope_per_update"] == {"provided": False, "missing": ["touchpoints"]}
    assert res["complaint_rate_ratio_per_update"] == {"provided": False, "missing": ["touchpoints", "complaints"]}
    assert res["did_realtime_effect"]["complained"] == {"provided": False, "missing": ["complaints"]}
    assert res["roi"] == {"provided": False, "missing": ["cases"]}
    assert res["update_program"] == {"provided": False, "missing": ["touchpoints", "complaints"]}
    assert res["nps"]["n"] > 0 and res["emotion_curve"]["waiting"]["n"] > 0  # the rest is there
    index = (folder.parent / "index.html").read_text(encoding="utf-8")
    assert "not provided 未提供" in index


@pytest.mark.slow
def test_segment_nps_table_against_an_independent_computation(own_raw_report):
    folder, processed = own_raw_report
    rec = json.loads((folder / "results.json").read_text())["nps_by_segment"]
    assert rec["segment"] == "advisor" and sorted(rec["groups"]) == sorted(ADVISORS)
    v = pd.read_parquet(processed / "visits.parquet")
    v = v[(v["center"] == CENTER) & (v["month"] == PERIOD)]
    z = 1.959963984540054
    for adv in ADVISORS:
        ltr = v.loc[v["advisor"] == adv, "ltr"].dropna().astype(int).to_numpy()
        n, pro, det = len(ltr), int((ltr >= 9).sum()), int((ltr <= 6).sum())
        got = rec["groups"][adv]
        assert got["n"] == n
        assert got["nps"] == pytest.approx(100 * (pro - det) / n, abs=1e-5)
        n_adj = n + 3
        p, d = (pro + 0.75) / n_adj, (det + 0.75) / n_adj
        se = math.sqrt((p + d - (p - d) ** 2) / n_adj)
        assert got["ci_low"] == pytest.approx(100 * max(p - d - z * se, -1), abs=1e-5)
        assert got["ci_high"] == pytest.approx(100 * min(p - d + z * se, 1), abs=1e-5)
    # the same table in the summary and a per-advisor emotion curve in notebook 02
    assert all(a in (folder / "05_summary.html").read_text(encoding="utf-8") for a in ADVISORS)
    assert all(a in (folder / "02_emotion_curves.html").read_text(encoding="utf-8") for a in ADVISORS)
