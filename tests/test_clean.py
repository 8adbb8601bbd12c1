"""Cleaning: every dirt class of the data contract, derived features, PII, atomic build,
fingerprint, loader and the rows-read = kept + quarantined invariant."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CENTERS, COMPLAINTS, EVENTS, SURVEYS, VISITS, write_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import catalog, clean, cli, io
from cxlib.errors import DataError


def run(tmp_path: Path, **tables: pd.DataFrame) -> clean.ProcessedData:
    raw = write_raw(tmp_path / "raw", **tables)
    clean.clean(raw, tmp_path / "out", force=True)
    return clean.read_processed(tmp_path / "out")


def q_rows(data: clean.ProcessedData, table: str) -> list[tuple[str, int]]:
    q = data.quarantine[data.quarantine["table"] == table]
    return list(zip(q["rule"], q["source_row"]))


def rule_rows(data: clean.ProcessedData, table: str, rule: str) -> int:
    return data.quality["tables"][table]["rules"][rule]["rows"]


def with_rows(df: pd.DataFrame, *rows: dict) -> pd.DataFrame:
    return pd.concat([df, pd.DataFrame(list(rows))], ignore_index=True).fillna("")


def test_a_date_of_year_zero_is_unreadable_not_a_crash(tmp_path):
    """Arrow reads ``0000-01-01`` as a time; no later step can hold it, so it is blanked and
    counted like any impossible date (found by the fuzz test of split tables)."""
    centers = CENTERS.assign(realtime_since=["0000-01-01", "2026-10-01"])
    visits = VISITS.assign(arrived_at=["0000-01-01 09:00:00"] + VISITS["arrived_at"].tolist()[1:])
    data = run(tmp_path, centers=centers, visits=visits)
    assert data.centers.set_index("center_id")["realtime_since"].isna().tolist() == [True, False]
    assert rule_rows(data, "centers", "value_blanked") == 1
    assert data.quality["tables"]["visits"]["read"] == len(VISITS)


# ------------------------------------------------------------------------ timestamps
def test_timestamp_formats_all_land_on_the_same_instant():
    texts = pd.Series(
        [
            "2026-10-03T09:05:00",
            "2026-10-03T09:05:00+08:00",
            "2026/10/03 09:05",
            "2026-10-03 09:05:00",
            "2026-10-03T01:05:00Z",
            "2026-10-03T03:05:00+02:00",
            "46298.37847222222",
            "垃圾",
            None,
        ],
        dtype="str",
    )
    times, repaired, bad = clean.parse_timestamps(texts, tz="Asia/Shanghai")
    expected = pd.Timestamp("2026-10-03 09:05", tz="Asia/Shanghai")
    assert (times.iloc[:7] == expected).all()
    assert str(times.dtype) == "datetime64[us, Asia/Shanghai]"
    # ISO local (with T or space, with the local offset) is not a repair; the others are
    assert repaired.tolist() == [False, False, True, False, True, True, True, False, False]
    assert bad.tolist() == [False] * 7 + [True, False]
    assert times.iloc[7:].isna().all()


def test_timestamp_other_zone_naive_is_local_time():
    times, _, _ = clean.parse_timestamps(pd.Series(["2026-07-01T12:00:00"], dtype="str"), tz="Europe/Berlin")
    assert times.iloc[0] == pd.Timestamp("2026-07-01 10:00", tz="UTC")


def test_excel_serial_in_visits_is_repaired(tmp_path):
    v = VISITS.copy()
    v.loc[0, "arrived_at"] = "46298.375"  # 2026-10-03 09:00 as an Excel serial
    data = run(tmp_path, visits=v)
    assert data.visits.loc[data.visits.visit_id == "V1", "arrived_at"].iloc[0] == pd.Timestamp(
        "2026-10-03 09:00", tz="Asia/Shanghai"
    )
    assert rule_rows(data, "visits", "timestamp_format") == 1


# --------------------------------------------------------------------------- visits
def test_center_alias_case_and_spaces_map_to_id(tmp_path):
    v = with_rows(
        VISITS,
        {**VISITS.iloc[0].to_dict(), "visit_id": "V3", "center": " 上海金桥 "},
        {**VISITS.iloc[0].to_dict(), "visit_id": "V4", "center": "JINQIAO"},
        {**VISITS.iloc[0].to_dict(), "visit_id": "V5", "center": "sh-jq"},
        {**VISITS.iloc[0].to_dict(), "visit_id": "V6", "center": "火星中心"},
    )
    data = run(tmp_path, visits=v)
    kept = data.visits.set_index("visit_id")["center"]
    assert kept[["V3", "V4", "V5"]].tolist() == ["SH-JQ"] * 3
    assert rule_rows(data, "visits", "center_alias") == 3
    assert q_rows(data, "visits") == [("unknown_center", 6)]


def test_internal_duplicate_missing_and_impossible_order(tmp_path):
    base = VISITS.iloc[0].to_dict()
    v = with_rows(
        VISITS,
        {**base, "visit_id": "V3", "customer_id": "TEST001"},
        {**base, "visit_id": "V4", "customer_id": "staff-9"},
        {**base},  # V1 again: duplicate
        {**base, "visit_id": "V5", "delivered_at": "2026-10-03T08:00:00"},
        {**base, "visit_id": "V6", "started_at": "2026-10-03T08:30:00"},
        {**base, "visit_id": "V7", "finished_at": "2026-10-03T09:10:00"},
        {**base, "visit_id": "V8", "finished_at": "2026-10-03T12:30:00"},
        {**base, "visit_id": "V9", "arrived_at": ""},
        {**base, "visit_id": "V10", "scenario": "洗车"},
    )
    data = run(tmp_path, visits=v)
    assert sorted(data.visits["visit_id"]) == ["V1", "V2"]
    assert q_rows(data, "visits") == [
        ("internal_record", 3),
        ("internal_record", 4),
        ("duplicate_id", 5),
        ("impossible_order", 6),
        ("impossible_order", 7),
        ("impossible_order", 8),
        ("impossible_order", 9),
        ("missing_required", 10),
        ("missing_required", 11),
    ]
    reasons = data.quarantine.set_index("source_row")["reason"]
    assert "delivered_at is before arrived_at" in reasons[6]
    assert "arrived_at" in reasons[10]


def test_scenario_booleans_and_amounts(tmp_path):
    base = VISITS.iloc[0].to_dict()
    v = with_rows(
        VISITS,
        {**base, "visit_id": "V3", "scenario": "保养", "warranty": "是", "amount_cny": "1,200"},
        {**base, "visit_id": "V4", "scenario": " Repair", "warranty": "N", "amount_cny": "-5"},
        {**base, "visit_id": "V5", "warranty": "maybe", "amount_cny": "abc"},
        {**base, "visit_id": "V6", "warranty": "1"},
    )
    data = run(tmp_path, visits=v)
    # the processed visits are in order of center, month and visit id: read them by id
    k = data.visits.set_index("visit_id").loc[["V1", "V2", "V3", "V4", "V5", "V6"]]
    assert k.loc["V3", "scenario"] == "maintenance" and k.loc["V4", "scenario"] == "repair"
    assert k["warranty"].tolist() == [True, False, True, False, pd.NA, True] or k["warranty"].astype(
        "object"
    ).tolist() == [True, False, True, False, pd.NA, True]
    assert k.loc["V3", "amount_cny"] == 1200.0
    assert np.isnan(k.loc["V4", "amount_cny"]) and np.isnan(k.loc["V5", "amount_cny"])
    assert rule_rows(data, "visits", "value_normalised") == 2  # V3 (保养, '1,200'), V4 (' Repair')
    assert rule_rows(data, "visits", "value_blanked") == 2  # V4 (amount), V5 (warranty+amount)
    assert data.quality["tables"]["visits"]["repaired"] == 3


# ---------------------------------------------------------------------------- events
def test_event_rules(tmp_path):
    e = with_rows(
        EVENTS,
        {"visit_id": "V1", "ts": "2026-10-03T10:20:00", "touchpoint": "进度实时推送", "channel": "线上", "photo": "是"},
        {"visit_id": "V1", "ts": "2026-10-03T10:21:00", "touchpoint": " Lounge ", "channel": "", "photo": ""},
        {"visit_id": "V1", "ts": "2026-10-03T10:22:00", "touchpoint": "teleport", "channel": "online"},
        {"visit_id": "V99", "ts": "2026-10-03T10:23:00", "touchpoint": "lounge"},
        {
            "visit_id": "V1",
            "ts": "2026-10-03T10:00:00",
            "touchpoint": "progress_push",
            "channel": "online",
            "photo": "true",
        },
        {"visit_id": "V1", "ts": "", "touchpoint": "lounge"},
    )
    data = run(tmp_path, touchpoints=e)
    assert q_rows(data, "touchpoints") == [
        ("unknown_touchpoint", 11),
        ("orphan_visit", 12),
        ("duplicate_id", 13),
        ("missing_required", 14),
    ]
    ev = data.events
    assert len(ev) == 10
    added = ev[
        (ev.ts >= pd.Timestamp("2026-10-03 10:20", tz="Asia/Shanghai"))
        & (ev.visit_id == "V1")
        & (ev.ts < pd.Timestamp("2026-10-03 10:30", tz="Asia/Shanghai"))
    ]
    assert added["touchpoint"].astype(str).tolist() == ["progress_push", "lounge"]
    assert added["channel"].tolist() == ["online", "offline"]  # blank channel from the catalog
    assert rule_rows(data, "touchpoints", "touchpoint_zh") == 1
    assert rule_rows(data, "touchpoints", "value_normalised") == 2  # 线上, ' Lounge '
    # the Chinese-named push carried a photo: V1 now has 3 in-progress updates
    assert data.visits.set_index("visit_id").loc["V1", "n_inprogress_updates"] == 3


def test_event_log_read_in_small_blocks_cleans_the_same(tmp_path, monkeypatch):
    e = with_rows(
        EVENTS,
        {
            "visit_id": "V1",
            "ts": "2026-10-03T10:20:00+08:00",
            "touchpoint": "进度实时推送",
            "channel": "线上",
            "photo": "是",
        },
        {"visit_id": "V1", "ts": "2026/10/03 10:21", "touchpoint": "teleport", "channel": "online"},
        {"visit_id": "V99", "ts": "2026-10-03T02:23:00Z", "touchpoint": "lounge"},
        {
            "visit_id": "V1",
            "ts": "2026-10-03T10:00:00",
            "touchpoint": "progress_push",
            "channel": "online",
            "photo": "true",
        },
    )
    whole = run(tmp_path / "whole", touchpoints=e)
    # blocks of 160 bytes: a few rows per batch, so rules, duplicates and row numbers cross batches
    monkeypatch.setattr(clean, "EVENT_BLOCK_BYTES", 160)
    small = run(tmp_path / "small", touchpoints=e)
    for t in clean.OUTPUT_TABLES:
        pd.testing.assert_frame_equal(getattr(whole, t), getattr(small, t))
    assert q_rows(small, "touchpoints") == [("unknown_touchpoint", 10), ("orphan_visit", 11), ("duplicate_id", 12)]
    assert small.quality["tables"]["touchpoints"] == whole.quality["tables"]["touchpoints"]


def test_event_log_that_turns_gbk_after_the_first_block_is_read_again(tmp_path, monkeypatch):
    # 2,000 plain ASCII rows (more than the 64 KiB the encoding is judged from), then GBK text
    lounge = [
        {
            "visit_id": "V2",
            "ts": f"2026-09-21T{9 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}",
            "touchpoint": "lounge",
            "channel": "offline",
            "photo": "false",
        }
        for s in range(1000, 3000)
    ]
    pushes = [
        {
            "visit_id": "V1",
            "ts": f"2026-10-03T10:{m:02d}:00",
            "touchpoint": "进度实时推送",
            "channel": "线上",
            "photo": "是",
        }
        for m in range(11, 14)
    ]
    e = with_rows(EVENTS, *lounge, *pushes)
    raw = write_raw(tmp_path / "raw")
    (raw / "touchpoints.csv").write_bytes(e.to_csv(index=False).encode("gb18030"))
    monkeypatch.setattr(clean, "EVENT_BLOCK_BYTES", 1 << 15)  # the first blocks are ASCII
    with pytest.raises(io.RestartFile):
        list(io.iter_file_batches(raw / "touchpoints.csv", "touchpoints", block_size=1 << 15))
    clean.clean(raw, tmp_path / "out", force=True)
    data = clean.read_processed(tmp_path / "out")
    assert len(data.events) == 8 + 2000 + 3
    assert rule_rows(data, "touchpoints", "touchpoint_zh") == 3
    assert data.quality["tables"]["touchpoints"]["quarantined"] == 0
    assert data.visits.set_index("visit_id").loc["V1", "n_inprogress_updates"] == 5


def test_rows_of_quarantined_visits_follow_them(tmp_path):
    v = VISITS.copy()
    v.loc[1, "customer_id"] = "TEST-2"
    data = run(tmp_path, visits=v)
    assert q_rows(data, "touchpoints") == [("visit_quarantined", 7), ("visit_quarantined", 8)]
    assert q_rows(data, "surveys") == [("visit_quarantined", 2)]
    assert q_rows(data, "complaints") == [("visit_quarantined", 1)]
    assert data.visits["visit_id"].tolist() == ["V1"]


# --------------------------------------------------------------------------- surveys
def test_ltr_text_range_and_scores(tmp_path):
    base = SURVEYS.iloc[0].to_dict()
    rows = [
        {
            **base,
            "response_id": f"R{i}",
            "visit_id": "V1",
            "submitted_at": f"2026-10-04T1{i}:00:00",
            "ltr": ltr,
            "score_waiting": sc,
        }
        for i, (ltr, sc) in enumerate(
            [("9分", "0"), (" 10 ", "11"), ("十", "7"), ("11", "x"), ("-1", "5"), ("", "3")], start=3
        )
    ]
    s = with_rows(SURVEYS.iloc[[1]], *rows)
    data = run(tmp_path, surveys=s)
    # all for V1: only the latest (R8, 18:00) is kept, the others superseded
    assert data.surveys["response_id"].tolist() == ["R2", "R8"]
    assert q_rows(data, "surveys") == [("superseded", r) for r in range(2, 7)]
    # parse every answer directly with the same data and no resubmissions
    s2 = with_rows(SURVEYS.iloc[[1]], *[{**r, "visit_id": "V2" if False else "V1"} for r in rows[:1]])
    assert len(s2) == 2
    rows_u = [{**r, "response_id": r["response_id"], "visit_id": vid} for r, vid in zip(rows, ["V1", "V2"] * 3)]
    v = with_rows(VISITS, *[{**VISITS.iloc[0].to_dict(), "visit_id": f"V{i}"} for i in range(3, 9)])
    rows_u = [{**r, "visit_id": f"V{i}"} for i, r in enumerate(rows, start=3)]
    data = run(tmp_path / "b", visits=v, surveys=with_rows(SURVEYS, *rows_u))
    got = data.surveys.set_index("response_id")
    assert got.loc[["R3", "R4", "R5"], "ltr"].tolist() == [9, 10, 10]
    assert got.loc[["R6", "R7", "R8"], "ltr"].isna().all()
    assert got.loc[["R3", "R4", "R6"], "score_waiting"].isna().all()
    assert got.loc[["R5", "R7", "R8"], "score_waiting"].tolist() == [7, 5, 3]
    assert rule_rows(data, "surveys", "ltr_text") == 3
    assert rule_rows(data, "surveys", "ltr_out_of_range") == 2
    assert rule_rows(data, "surveys", "score_out_of_range") == 3
    assert got.loc["R3", "nps_group"] == "promoter"
    # long scores: R3 has 8 valid points (waiting blanked), R5 has 9
    sc = data.scores
    assert (sc.response_id == "R3").sum() == 8 and (sc.response_id == "R5").sum() == 9
    assert sc["score"].between(1, 10).all()


def test_resubmission_keeps_latest_by_submitted_at_not_file_order(tmp_path):
    s = with_rows(
        SURVEYS, {**SURVEYS.iloc[0].to_dict(), "response_id": "R1b", "submitted_at": "2026-10-03T20:00:00", "ltr": "3"}
    )
    data = run(tmp_path, surveys=s)
    assert data.surveys.set_index("visit_id").loc["V1", "response_id"] == "R1"
    assert q_rows(data, "surveys") == [("superseded", 3)]
    assert data.visits.set_index("visit_id").loc["V1", "ltr"] == 9


def test_orphans_and_duplicate_ids_in_surveys_and_complaints(tmp_path):
    s = with_rows(
        SURVEYS, {**SURVEYS.iloc[0].to_dict(), "response_id": "R9", "visit_id": "V404"}, {**SURVEYS.iloc[1].to_dict()}
    )
    c = with_rows(
        COMPLAINTS,
        {**COMPLAINTS.iloc[0].to_dict(), "complaint_id": "K2", "visit_id": "V404"},
        {**COMPLAINTS.iloc[0].to_dict(), "complaint_id": "K3", "channel": "社交媒体"},
        {**COMPLAINTS.iloc[0].to_dict()},
    )
    data = run(tmp_path, surveys=s, complaints=c)
    assert q_rows(data, "surveys") == [("orphan_visit", 3), ("duplicate_id", 4)]
    assert q_rows(data, "complaints") == [("orphan_visit", 2), ("duplicate_id", 4)]
    assert data.complaints.set_index("complaint_id").loc["K3", "channel"] == "social"
    assert data.visits.set_index("visit_id").loc["V2", "n_complaints"] == 2


# ------------------------------------------------------------------------------- PII
def test_mask_pii_patterns():
    text = "电话13912345678或139-1234-5678，身份证11010519491231002X，车牌沪A12345、沪A·12345、沪AD12345，工单V1234567"
    assert clean.mask_pii(text) == (
        "电话[手机号]或[手机号]，身份证[身份证号]，车牌[车牌号]、[车牌号]、[车牌号]，工单V1234567"
    )


def test_pii_never_reaches_processed_files(tmp_path):
    s = with_rows(
        SURVEYS, {**SURVEYS.iloc[0].to_dict(), "response_id": "R3", "visit_id": "V404", "comment": "打13800138000找我"}
    )
    s.loc[0, "comment"] = "顾问很好，我的车沪B·98765，电话 13912345678"
    s.loc[1, "comment"] = "有事打139 8765 4321"  # separators: no five digits in a row
    data = run(tmp_path, surveys=s)
    assert data.surveys.set_index("response_id").loc["R1", "comment"] == "顾问很好，我的车[车牌号]，电话 [手机号]"
    assert data.surveys.set_index("response_id").loc["R2", "comment"] == "有事打[手机号]"
    assert rule_rows(data, "surveys", "pii_masked") == 2
    raw = data.quarantine.set_index("source_row").loc[3, "raw"]
    assert "[手机号]" in raw and "13800138000" not in raw
    for f in (tmp_path / "out").iterdir():
        blob = f.read_bytes()
        for secret in ("13912345678", "13800138000", "98765", "139 8765 4321"):
            assert secret.encode() not in blob, (f.name, secret)


# ---------------------------------------------------------------------- derived features
def test_features_hand_computed(raw_dir, tmp_path):
    clean.clean(raw_dir, tmp_path / "out")
    v = clean.read_processed(tmp_path / "out").visits.set_index("visit_id")
    # V1: arrival 09:00, start 09:30, finish 11:30, delivery 12:00;
    # updates 10:00 push (photo), 10:40 advisor, 11:30 ready; inquiry 10:10; farewell after delivery
    assert v.loc["V1", ["wait_minutes", "repair_minutes", "visit_minutes"]].tolist() == [30.0, 120.0, 180.0]
    assert v.loc["V1", ["n_proactive_updates", "n_inprogress_updates", "n_inquiries"]].tolist() == [3, 2, 1]
    assert v.loc["V1", "has_photo_update"] and v.loc["V1", "tier"] == "realtime_photo"
    assert v.loc["V1", "longest_silence_minutes"] == 50.0  # 10:40 -> 11:30
    assert v.loc["V1", "month"] == "2026-10" and v.loc["V1", "realtime_live"]
    # V2: only a ready notice 12:10, repair 10:00-12:00 -> silence is the whole repair
    assert v.loc["V2", "tier"] == "completion_only" and v.loc["V2", "longest_silence_minutes"] == 120.0
    assert v.loc["V2", "month"] == "2026-09" and not v.loc["V2", "realtime_live"]
    assert v.loc["V2", ["n_complaints", "complained", "ltr"]].tolist() == [1, True, 6]
    assert v.loc["V2", "nps_group"] == "detractor"
    assert list(v["tier"].cat.categories) == list(catalog.TIER_ORDER) and v["tier"].cat.ordered


def test_tier_none_and_realtime_without_photo(tmp_path):
    e = EVENTS.copy()
    e.loc[1, "photo"] = "false"
    e = e[e.visit_id == "V1"]
    data = run(tmp_path, touchpoints=e)
    v = data.visits.set_index("visit_id")
    assert v.loc["V1", "tier"] == "realtime" and v.loc["V2", "tier"] == "none"
    assert v.loc["V2", "n_proactive_updates"] == 0


# -------------------------------------------------------------- atomic, fingerprint, load
def test_fingerprint_skip_and_rebuild(raw_dir, tmp_path):
    out = tmp_path / "out"
    first = clean.clean(raw_dir, out)
    assert first.rebuilt
    again = clean.clean(raw_dir, out)
    assert not again.rebuilt and again.fingerprint == first.fingerprint
    assert "up to date" in clean.summary_line(again)
    assert clean.clean(raw_dir, out, force=True).rebuilt
    assert clean.clean(raw_dir, out, tz="Europe/Berlin").rebuilt  # tz is part of the fingerprint
    (raw_dir / "complaints.csv").write_text("complaint_id,visit_id,filed_at\n", encoding="utf-8")
    res = clean.clean(raw_dir, out, tz="Europe/Berlin")
    assert res.rebuilt and res.quality["tables"]["complaints"]["read"] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["name"] for f in manifest["raw_files"]} == {f"{t}.csv" for t in catalog.TABLES}
    assert manifest["fingerprint"] == res.fingerprint


def test_broken_file_leaves_processed_untouched(raw_dir, tmp_path):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    (out / "results.json").write_text("{}")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (raw_dir / "surveys.csv").write_text("response_id;visit_id;submitted_at;ltr\nR1;V1;2026-10-04;9\n")
    code = cli.main(["clean", str(raw_dir), str(out)])
    assert code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left


def test_rebuild_keeps_foreign_files(raw_dir, tmp_path):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    (out / "results.json").write_text('{"x": 1}')
    clean.clean(raw_dir, out, force=True)
    assert (out / "results.json").read_text() == '{"x": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


def test_load_builds_then_subsets(raw_dir, tmp_path):
    data = clean.load(tmp_path / "out", raw_dir=raw_dir)
    assert len(data.visits) == 2 and data.quality["totals"]["read"] == 15
    sub = data.subset(center="SH-JQ")
    assert sub.visits["visit_id"].tolist() == ["V1"]
    assert set(sub.events["visit_id"]) == {"V1"} and sub.complaints.empty
    assert sub.centers["center_id"].tolist() == ["SH-JQ"]
    assert data.subset(period_start="2026-10", period_end="2026-10").visits["visit_id"].tolist() == ["V1"]
    assert data.subset(period_end="2026-09").visits["visit_id"].tolist() == ["V2"]
    assert data.subset(scenario="repair").surveys["response_id"].tolist() == ["R2"]
    with pytest.raises(DataError, match="SH-JQ"):
        data.subset(center="XX")
    with pytest.raises(DataError, match="maintenance"):
        data.subset(scenario="wash")
    # without raw data the processed folder is read as it is
    assert len(clean.load(tmp_path / "out", raw_dir=None).visits) == 2


def test_sizes_count_rows_per_table_in_order(raw_dir, tmp_path):
    data = clean.load(tmp_path / "out", raw_dir=raw_dir)
    sizes = data.sizes()
    assert sizes.columns.tolist() == ["table", "rows"]
    assert sizes["table"].tolist() == ["visits", "scores", "events", "surveys", "complaints", "centers", "quarantine"]
    rows = dict(zip(sizes["table"], sizes["rows"].tolist()))
    assert rows["visits"] == 2
    # kept rows of the raw tables and the quarantined rows, as counted by the quality report
    q = data.quality["tables"]
    assert rows["events"] == q["touchpoints"]["kept"] and rows["surveys"] == q["surveys"]["kept"]
    assert rows["centers"] == q["centers"]["kept"] and rows["complaints"] == q["complaints"]["kept"]
    assert rows["quarantine"] == data.quality["totals"]["quarantined"]
    # one score row per answered score column of the kept surveys
    assert rows["scores"] == int(data.surveys[list(catalog.SCORE_COLUMNS)].notna().to_numpy().sum())
    assert data.subset(center="SH-JQ").sizes().set_index("table").loc["visits", "rows"] == 1


def test_quality_tables(tmp_path):
    v = VISITS.copy()
    v.loc[1, "customer_id"] = "STAFF1"
    data = run(tmp_path, visits=v)
    qt = clean.quality_table(data.quality, lang="en")
    row = qt[(qt.table == "visits") & (qt.rule == "internal_record")].iloc[0]
    assert row["action"] == "quarantined" and row["rows"] == 1
    assert row["description"] == catalog.RULES_BY_CODE["internal_record"].en
    assert clean.quality_table(data.quality, lang="zh").iloc[0]["description"] == catalog.RULES[0].zh
    ov = clean.quality_overview(data.quality).set_index("table")
    assert ov.loc["touchpoints"].tolist() == [8, 6, 0, 2]
    assert ov.loc["total", "read"] == 15 and ov.loc["total", "quarantined"] == 5
    ex = clean.quarantine_examples(data.quarantine, n=1)
    assert list(zip(ex.table, ex.rule)) == [
        ("visits", "internal_record"),
        ("touchpoints", "visit_quarantined"),
        ("surveys", "visit_quarantined"),
        ("complaints", "visit_quarantined"),
    ]
    assert ex.iloc[1]["source_row"] == 7


# ------------------------------------------------------------------- invariant (hypothesis)
_VISIT_IDS = ["V1", "V2", "V3", "V404", " V1", ""]
_TS = ["2026-10-03T09:00:00", "2026/10/03 10:00", "46298.4", "2026-10-03T12:00:00+00:00", "bad", ""]

visit_rows = st.fixed_dictionaries(
    {
        "visit_id": st.sampled_from(_VISIT_IDS),
        "customer_id": st.sampled_from(["C1", "TEST9", "", "staff"]),
        "center": st.sampled_from(["SH-JQ", "上海金桥", "nowhere", ""]),
        "scenario": st.sampled_from(["maintenance", "保养", "x", ""]),
        "vehicle_model": st.just("ES6"),
        "booked_at": st.sampled_from(_TS),
        "arrived_at": st.sampled_from(_TS),
        "started_at": st.sampled_from(_TS),
        "finished_at": st.sampled_from(_TS),
        "delivered_at": st.sampled_from(_TS),
        "warranty": st.sampled_from(["是", "no", "?", ""]),
        "amount_cny": st.sampled_from(["1", "-1", "x", ""]),
    }
)
event_rows = st.fixed_dictionaries(
    {
        "visit_id": st.sampled_from(_VISIT_IDS),
        "ts": st.sampled_from(_TS),
        "touchpoint": st.sampled_from(["progress_push", "完工通知", "warp", "", " Lounge"]),
        "channel": st.sampled_from(["online", "线下", "?", ""]),
        "photo": st.sampled_from(["Y", "0", "?", ""]),
    }
)
survey_rows = st.fixed_dictionaries(
    {
        "response_id": st.sampled_from(["R1", "R2", "R3", ""]),
        "visit_id": st.sampled_from(_VISIT_IDS),
        "submitted_at": st.sampled_from(_TS),
        "ltr": st.sampled_from(["9", "9分", "十", "11", ""]),
        "score_waiting": st.sampled_from(["0", "5", "x", ""]),
        "comment": st.sampled_from(["13912345678", "好", ""]),
    }
)
complaint_rows = st.fixed_dictionaries(
    {
        "complaint_id": st.sampled_from(["K1", "K2", ""]),
        "visit_id": st.sampled_from(_VISIT_IDS),
        "filed_at": st.sampled_from(_TS),
        "channel": st.sampled_from(["热线", "app", "?"]),
        "category": st.just("wait"),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    v=st.lists(visit_rows, max_size=8),
    e=st.lists(event_rows, max_size=12),
    s=st.lists(survey_rows, max_size=6),
    c=st.lists(complaint_rows, max_size=4),
)
def test_rows_read_equal_kept_plus_quarantined(tmp_path_factory, v, e, s, c):
    tmp = tmp_path_factory.mktemp("inv")
    frames = {
        "visits": pd.DataFrame(v, columns=list(VISITS.columns)),
        "touchpoints": pd.DataFrame(e, columns=list(EVENTS.columns)),
        "surveys": pd.DataFrame(
            s, columns=["response_id", "visit_id", "submitted_at", "ltr", "score_waiting", "comment"]
        ),
        "complaints": pd.DataFrame(c, columns=list(COMPLAINTS.columns)),
    }
    data = run(tmp, **frames)
    kept = {
        "centers": data.centers,
        "visits": data.visits,
        "touchpoints": data.events,
        "surveys": data.surveys,
        "complaints": data.complaints,
    }
    raw_n = {"centers": len(CENTERS), **{k: len(f) for k, f in frames.items()}}
    for t, q in data.quality["tables"].items():
        n_q = int((data.quarantine["table"] == t).sum())
        assert q["read"] == raw_n[t] == q["kept"] + q["quarantined"]
        assert q["kept"] == len(kept[t]) and q["quarantined"] == n_q
        assert sum(r["rows"] for r in q["rules"].values() if r["action"] == "quarantined") == n_q
    assert data.visits["visit_id"].is_unique and data.surveys["visit_id"].is_unique
    assert set(data.events["visit_id"]) <= set(data.visits["visit_id"])
    assert "13912345678" not in "".join(data.quarantine["raw"]) + "".join(data.surveys["comment"].fillna(""))


def test_impossible_calendar_dates_are_unreadable_not_rolled_over():
    values = pd.Series(
        [
            "2026-02-30T10:00:00",
            "2026-02-30 10:00:00+00:00",
            "2026/02/30 10:00",
            "2026-02-28 23:59",
            "2026-02-28T10:00:00+00:00",
        ]
    )
    times, repaired, unreadable = clean.parse_timestamps(values)
    assert unreadable.tolist() == [True, True, True, False, False]
    assert times.iloc[3] == pd.Timestamp("2026-02-28 23:59", tz="Asia/Shanghai")
    assert times.iloc[4] == pd.Timestamp("2026-02-28 18:00", tz="Asia/Shanghai") and repaired[4]


def test_many_excel_serials_read_like_the_per_value_reader():
    # >= 1000 leftover values take the vectorised serial reader; each must match the per-value one
    rng = np.random.default_rng(11)
    days = rng.uniform(20000, 100000, 3000)
    texts = [f"{d:.{k}f}" for d, k in zip(days, rng.integers(0, 8, 3000))]
    texts += ["46298.375", "46298.5", "19999.5", "100000", "2026-10-04 10:00:00", "46298.00000578703"]
    times, repaired, unreadable = clean.parse_timestamps(pd.Series(texts))
    for i, t in enumerate(texts):
        one = clean._parse_text_timestamp(t)
        if one is None:
            assert unreadable[i] and pd.isna(times.iloc[i])
            continue
        local = pd.Timestamp(one[1], unit="us")
        assert times.iloc[i] == local.tz_localize("Asia/Shanghai"), t
        assert not unreadable[i]
    assert times.iloc[3000] == pd.Timestamp("2026-10-03 09:00", tz="Asia/Shanghai")
    assert unreadable[3002] and repaired[:3000].all()


@given(
    st.lists(st.integers(min_value=-3, max_value=3), max_size=40),
    st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=40),
)
@settings(max_examples=60, deadline=None)
def test_repeated_keys_match_pandas_duplicated(small, large):
    for values in (small, large, small + large + small):
        key = np.array(values, dtype=np.int64)
        assert clean._repeated(key).tolist() == pd.Series(key, dtype="int64").duplicated(keep="first").tolist()


def test_iso_to_the_minute_is_a_regular_format_not_a_repair():
    times, repaired, unreadable = clean.parse_timestamps(
        pd.Series(["2026-05-02 10:42", "2026-05-02T10:42", "2026/05/02 10:42"])
    )
    assert repaired.tolist() == [False, False, True] and not unreadable.any()
    assert times.nunique() == 1 and times.iloc[0] == pd.Timestamp("2026-05-02 10:42", tz="Asia/Shanghai")


def test_fingerprint_hashes_the_bytes_of_every_file(raw_dir):
    full, files = clean.fingerprint(raw_dir)
    assert [f["name"] for f in files] == sorted(f"{t}.csv" for t in catalog.TABLES)
    assert all(len(f["xxh3_128"]) == 32 and f["size"] == (raw_dir / f["name"]).stat().st_size for f in files)
    # one byte changed, same size and modification time: another fingerprint
    target = raw_dir / "surveys.csv"
    st = target.stat()
    data = target.read_bytes()
    target.write_bytes(data.replace(b"R2,V2", b"R3,V2"))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    assert clean.fingerprint(raw_dir)[0] != full
    target.write_bytes(data)
    assert clean.fingerprint(raw_dir)[0] == full


def test_the_quarantine_is_written_in_table_order_from_frames_and_part_files(tmp_path):
    """Parts handed over in any order (the touchpoint log's as a file written batch by batch)
    come out in the tables' order, each table by source file and row, as one concatenated sort."""
    import numpy as np
    import pyarrow.parquet as pq

    from cxlib import catalog, io
    from cxlib.clean.ledger import QuarantinePart, quarantine_frame, write_quarantine, write_quarantine_part

    def part(table: str, rows: list[tuple[str, int]]) -> pd.DataFrame:
        raw = io.empty_table(table).reindex(range(len(rows))).astype(object)
        raw[io.SOURCE_FILE] = [f for f, _ in rows]
        raw[io.SOURCE_ROW] = [r for _, r in rows]
        rules = np.array(["missing_required"] * len(rows), dtype=object)
        return quarantine_frame(table, raw, rules, rules)

    events = part("touchpoints", [("a.csv", 2), ("a.csv", 9), ("b.csv", 1)])
    ev_file = tmp_path / "ev.parquet"
    write_quarantine_part([events.iloc[:2], events.iloc[2:]], ev_file)
    parts = [
        QuarantinePart("touchpoints", ev_file),
        part("surveys", [("s2.csv", 1), ("s1.csv", 5), ("s1.csv", 3)]),
        part("visits", [("v.csv", 4)]),
        part("centers", []),
    ]
    out = tmp_path / "quarantine.parquet"
    assert write_quarantine(parts, out) == 7
    got = pq.read_table(out).to_pandas()
    assert list(zip(got["table"], got["source_file"], got["source_row"])) == [
        ("visits", "v.csv", 4),
        ("touchpoints", "a.csv", 2),
        ("touchpoints", "a.csv", 9),
        ("touchpoints", "b.csv", 1),
        ("surveys", "s1.csv", 3),
        ("surveys", "s1.csv", 5),
        ("surveys", "s2.csv", 1),
    ]
    order = [catalog.TABLE_ORDER.index(t) for t in got["table"]]
    assert order == sorted(order)
    assert str(got["raw"].dtype) == "str" and got["source_row"].dtype == "int64"
    # no rows at all: a file of the quarantine's columns and no rows
    assert write_quarantine([part("visits", [])], tmp_path / "empty.parquet") == 0
    assert pq.read_table(tmp_path / "empty.parquet").column_names == list(events.columns)
