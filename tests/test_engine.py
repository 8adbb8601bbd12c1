"""The relational plan on DuckDB gives the same processed tables as the reference rules.

Both engines clean the same raw folder; every processed table is compared value by value and
type by type, and ``quality.json`` (counts per rule) as a whole."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import catalog, clean, cli, synth
from cxlib.errors import DataError
from tests.conftest import EVENTS, write_raw

ROOT = Path(__file__).resolve().parents[1]


def _both(raw: Path, out: Path, **kw) -> tuple[Path, Path]:
    for engine in ("pandas", "duckdb"):
        clean.clean(raw, out / engine, engine=engine, force=True, **kw)
    return out / "pandas", out / "duckdb"


#: the rules the dirty tables of :func:`dirty_tables_raw` must each trigger at least once
DIRTY_TABLES_RULES = {
    "duplicate_id",
    "internal_record",
    "unknown_center",
    "impossible_order",
    "orphan_visit",
    "superseded",
    "visit_quarantined",
    "missing_required",
}


def assert_same_outputs(ref: Path, plan: Path) -> None:
    """Every processed table and the quality report equal between two processed folders."""
    for table in clean.OUTPUT_TABLES:
        a = pd.read_parquet(ref / f"{table}.parquet")
        b = pd.read_parquet(plan / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=table)
    qa = json.loads((ref / "quality.json").read_text(encoding="utf-8"))
    qb = json.loads((plan / "quality.json").read_text(encoding="utf-8"))
    assert qa == qb


def test_engines_agree_on_the_shipped_sample(tmp_path):
    ref, plan = _both(ROOT / "data" / "raw", tmp_path)
    assert_same_outputs(ref, plan)
    q = json.loads((plan / "quality.json").read_text(encoding="utf-8"))["tables"]["touchpoints"]
    assert q["read"] == q["kept"] + q["quarantined"] and q["quarantined"] > 0 and q["repaired"] > 0


@pytest.mark.slow
def test_engines_agree_on_100k_visits(tmp_path):
    raw = tmp_path / "raw"
    synth.write_sample(raw, 100_000, seed=11, layout="csv")
    ref, plan = _both(raw, tmp_path)
    assert_same_outputs(ref, plan)
    quality = json.loads((plan / "quality.json").read_text(encoding="utf-8"))
    for q in quality["tables"].values():
        assert q["read"] == q["kept"] + q["quarantined"]
    assert quality["tables"]["touchpoints"]["read"] > 1_000_000


def _events(**cols) -> pd.DataFrame:
    return pd.DataFrame({**{c: EVENTS[c] for c in EVENTS.columns}, **cols})


@pytest.mark.parametrize(
    "ts",
    [
        # local ISO throughout (no repairs), to the minute, with offsets throughout (the other
        # offset a repair), mixed shapes with Excel serials and an unreadable value
        [f"2026-10-03 {h}:00:00" for h in ("09", "10", "10", "10", "11", "12")]
        + ["2026-09-21 09:05:00", "2026-09-21 12:10:00"],
        [f"2026-10-03T{h}:00" for h in ("09", "10", "10", "10", "11", "12")] + ["2026-09-21", "2026-09-21T12:10"],
        [
            "2026-10-03T09:00:00+08:00",
            "2026-10-03T02:00:00+00:00",
            "2026-10-03T10:10:00+08:00",
            "2026-10-03 10:40:00+0800",
            "2026-10-03T11:30:00Z",
            "2026-10-03T12:05:00+08:00",
            "2026-09-21T09:05:00+08:00",
            "2026-09-21T12:10:00+08:00",
        ],
        [
            "2026/10/03 09:00",
            "46298.4166667",
            "2026-10-03 10:10:00",
            "2026年10月3日 10:40",
            "not a time",
            " 2026-10-03T12:05:00+09:00 ",
            "",
            "2026-02-30 10:00:00",
        ],
    ],
)
def test_engines_agree_on_timestamp_shapes(tmp_path, ts):
    raw = write_raw(tmp_path / "raw", touchpoints=_events(ts=ts))
    assert_same_outputs(*_both(raw, tmp_path))


@pytest.mark.parametrize(
    "tz, ts",
    [
        # a whole-hour change of offset: the hour that does not exist and the hour that comes twice
        (
            "America/New_York",
            [
                "2026-03-08 01:59:59",
                "2026-03-08 02:30:00",
                "2026-03-08 03:00:00",
                "2026-11-01 01:30:00",
                "2026-11-01T01:30:00-04:00",
                "2026-11-01T01:30:00-05:00",
                "2026-11-01 02:00:00",
                "2026-03-08T07:30:00+00:00",
            ],
        ),
        # a change of half an hour within an hour (the rows of that hour converted one by one)
        (
            "Australia/Lord_Howe",
            [
                "2026-10-04 01:59:00",
                "2026-10-04 02:15:00",
                "2026-10-04 02:45:00",
                "2026-04-05 01:45:00",
                "2026-04-05T01:45:00+11:00",
                "2026-04-05T01:45:00+10:30",
                "2026-04-05 02:10:00",
                "2026-10-03T15:20:00+00:00",
            ],
        ),
    ],
)
def test_engines_agree_around_changes_of_the_zone_offset(tmp_path, tz, ts):
    raw = write_raw(tmp_path / "raw", touchpoints=_events(ts=ts))
    assert_same_outputs(*_both(raw, tmp_path, tz=tz))


def test_engines_agree_on_codes_duplicates_orphans_and_extra_columns(tmp_path):
    raw = dirty_events_raw(tmp_path / "raw")
    ref, plan = _both(raw, tmp_path)
    assert_same_outputs(ref, plan)
    q = pd.read_parquet(plan / "quarantine.parquet")
    rules = q[q["table"] == "touchpoints"].set_index("source_row")["rule"].to_dict()
    assert rules == {
        5: "unknown_touchpoint",
        6: "orphan_visit",
        9: "missing_required",
        11: "duplicate_id",
        10: "duplicate_id",
    }
    events_out = pd.read_parquet(plan / "events.parquet")
    assert "13912345678" not in " ".join(events_out["advisor"])


def dirty_tables_raw(raw: Path) -> Path:
    """A raw folder whose visits, surveys and complaints break every rule of theirs once."""
    from tests.conftest import SURVEYS, VISITS

    n = 12
    visits = pd.DataFrame({c: [VISITS[c][i % 2] for i in range(n)] for c in VISITS.columns})
    visits["visit_id"] = [f"V{i}" for i in range(1, n + 1)]
    visits.loc[1, "visit_id"] = "V1"  # duplicate id
    visits.loc[2, "customer_id"] = "test-7"  # internal record
    visits.loc[3, "center"] = " 上海金桥 "  # alias
    visits.loc[4, "center"] = "nowhere"  # unknown center
    visits.loc[5, "scenario"] = "维修"
    visits.loc[6, "scenario"] = "REPAIR "
    visits.loc[7, "delivered_at"] = "2026-09-01T00:00:00"  # impossible order
    visits.loc[8, "amount_cny"] = "1,200"
    visits.loc[9, "amount_cny"] = "-5"
    visits.loc[10, "warranty"] = "是"
    visits.loc[11, "warranty"] = "maybe"
    visits.loc[11, "vehicle_model"] = "ES6 沪A12345"
    visits.loc[10, "booked_at"] = "yesterday"
    surveys = pd.DataFrame({c: [SURVEYS[c][i % 2] for i in range(10)] for c in SURVEYS.columns})
    surveys["response_id"] = [f"R{i}" for i in range(10)]
    surveys["visit_id"] = ["V1", "V1", "V3", "V4", "V5", "V6", "V99", "V8", "V9", "V10"]
    surveys["submitted_at"] = ["2026-10-04T10:00:00", "2026-10-05T10:00:00", *surveys["submitted_at"][2:]]
    surveys["ltr"] = ["9分", " 10 ", "十", "11", "-1", "", "7", "9.0", "8.5", "六"]
    surveys["score_waiting"] = ["0", "3", "十", " 8", "", "11", "5", "5", "5", "5"]
    surveys["anxiety"] = ["35%", "120", "", "abc", "20", "20", "20", "20", "20", "20"]
    surveys.loc[3, "comment"] = "请打13912345678"
    surveys.loc[9, "response_id"] = "R0"  # duplicate id
    complaints = pd.DataFrame(
        {
            "complaint_id": ["K1", "K2", "K3", "K4", "K4"],
            "visit_id": ["V2", "V3", "V77", "V5", "V6"],
            "filed_at": ["2026-09-22T11:00:00", "2026/09/22 11:00", "2026-09-22T11:00:00", "", "2026-09-22T11:00:00"],
            "channel": ["热线", "APP", "??", "social", "hotline"],
            "category": ["等待", "139 1234 5678", "x", "y", "z"],
        }
    )
    return write_raw(raw, visits=visits, surveys=surveys, complaints=complaints)


def dirty_events_raw(raw: Path) -> Path:
    """A raw folder whose event log has Chinese names, spellings, unknown codes, orphans,
    duplicates, unreadable values and an extra column with personal data."""
    events = pd.concat([EVENTS, EVENTS.iloc[[1, 1, 3]]], ignore_index=True)
    events.loc[0, "touchpoint"] = "前台接待"  # Chinese name
    events.loc[2, "touchpoint"] = " Customer_Inquiry "  # normalised
    events.loc[4, "touchpoint"] = "teleport"  # unknown
    events.loc[5, "visit_id"] = "V9"  # orphan
    events.loc[6, "channel"] = "线上"
    events.loc[7, "photo"] = "maybe"
    events.loc[8, "visit_id"] = None
    events["advisor"] = ["王师傅 13912345678"] + ["李"] * (len(events) - 1)
    return write_raw(raw, touchpoints=events)


def test_engines_agree_on_dirty_visits_surveys_and_complaints(tmp_path):
    raw = dirty_tables_raw(tmp_path / "raw")
    ref, plan = _both(raw, tmp_path)
    assert_same_outputs(ref, plan)
    q = pd.read_parquet(plan / "quarantine.parquet")
    assert set(q["rule"]) >= DIRTY_TABLES_RULES


def test_engines_agree_without_optional_tables_and_with_extra_columns(tmp_path):
    from tests.conftest import SURVEYS, VISITS

    raw = tmp_path / "raw"
    raw.mkdir()
    VISITS.assign(advisor=["王师傅 13912345678", "李"], center=["上海金桥服务中心", " SH-JQ"]).to_csv(
        raw / "visits.csv", index=False
    )
    SURVEYS.assign(source=["app", "sms 13812345678"]).to_csv(raw / "surveys.csv", index=False)
    ref, plan = _both(raw, tmp_path)
    assert_same_outputs(ref, plan)
    visits = pd.read_parquet(plan / "visits.parquet")
    assert "13912345678" not in " ".join(visits["advisor"]) and visits.columns[-1] == "advisor"
    quality = json.loads((plan / "quality.json").read_text(encoding="utf-8"))
    assert quality["tables"]["centers"]["derived"] and not quality["tables"]["touchpoints"]["given"]


_TS = st.one_of(
    st.sampled_from(
        [
            "2026-10-03 10:00:00",
            "2026-10-03T10:20",
            "2026/10/03 10:30",
            "46298.45",
            "2026-10-03T10:40:00+08:00",
            "2026-10-03T02:50:00Z",
            "",
            "soon",
            "2026-13-01 00:00:00",
        ]
    ),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
)
_EVENT = st.tuples(
    st.sampled_from(["V1", "V2", "V3", " V1", "", "v1"]),
    _TS,
    st.sampled_from([*catalog.TOUCHPOINT_CODES[:4], "进度实时推送", "PROGRESS_PUSH", "x", ""]),
    st.sampled_from(["online", "offline", "线下", "??", ""]),
    st.sampled_from(["true", "0", "是", "n/a", ""]),
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_EVENT, min_size=0, max_size=25), tag=st.text(string.ascii_lowercase, min_size=1, max_size=8))
def test_engines_agree_on_random_event_logs(tmp_path, rows, tag):
    events = pd.DataFrame(rows, columns=list(EVENTS.columns)) if rows else EVENTS.iloc[:0]
    raw = write_raw(tmp_path / tag / "raw", touchpoints=events)
    ref, plan = _both(raw, tmp_path / tag)
    assert_same_outputs(ref, plan)
    q = json.loads((plan / "quality.json").read_text(encoding="utf-8"))["tables"]["touchpoints"]
    assert q["read"] == len(events) == q["kept"] + q["quarantined"]


def test_a_duckdb_error_is_one_line_and_leaves_the_old_data(raw_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    from cxlib.clean.plan import touchpoints

    def broken(con, tz):
        con.execute("SELECT * FROM a_table_that_is_not_there")

    monkeypatch.setattr(touchpoints, "rules", broken)
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(out), "--force", "--engine", "duckdb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cx: error: the cleaning plan failed: ") and "Traceback" not in err
    assert "a_table_that_is_not_there" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".cx-build")] == []


def test_unknown_engine_is_refused(raw_dir, tmp_path):
    with pytest.raises(DataError, match="unknown engine 'sparkle'; valid: duckdb, pandas, spark"):
        clean.clean(raw_dir, tmp_path / "out", engine="sparkle")
    assert not (tmp_path / "out").exists()


def test_cx_clean_refuses_an_unknown_engine_in_one_line(raw_dir, tmp_path, capsys):
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(tmp_path / "out"), "--engine", "sparkle"]) == 2
    err = capsys.readouterr().err
    assert err == "cx: error: unknown engine 'sparkle'; valid: duckdb, pandas, spark\n"
    assert not (tmp_path / "out").exists()
