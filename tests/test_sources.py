"""Own exports: source profiles, `cx check`, export formats, encodings, extra columns and
optional tables, on hand-made export sets as real systems write them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import own_data
import pandas as pd
import pytest
from conftest import SURVEYS, VISITS, write_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import check, clean, cli, io, sources
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "own-data"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line_error(err: str, *needles: str) -> None:
    assert err.count("\n") == 1 and err.startswith("cx: error: ") and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)


# ------------------------------------------------------------------------- encodings
def _big_csv(encoding: str, shift: int) -> bytes:
    """A valid CSV over 64 KB whose multibyte characters sit at every alignment to the sample end."""
    head = "response_id,visit_id,submitted_at,ltr,comment\n" + "x" * shift
    row = "R{0},V{0},2026-10-04T10:00:00,9,服务很好等待时间不长\n"
    body = "".join(row.format(i) for i in range(2200))
    return (head.replace("x" * shift, "") + "R0,V0,2026-10-04T10:00:00,9," + "a" * shift + "\n" + body).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_valid_file_is_never_refused_for_a_character_cut_by_the_sample(tmp_path, encoding):
    width = 3 if encoding == "utf-8" else 2
    for shift in range(width + 1):
        data = _big_csv(encoding, shift)
        assert len(data) > io._HEAD_BYTES
        path = tmp_path / f"surveys_{shift}.csv"
        path.write_bytes(data)
        head = data[: io._HEAD_BYTES]
        assert io._detect_encoding(path, head, complete=False) == encoding
    # every byte alignment of the sample end against the characters
    data = _big_csv(encoding, 0)
    for cut in range(io._HEAD_BYTES - 8, io._HEAD_BYTES + 8):
        assert io._detect_encoding(tmp_path / "x.csv", data[:cut], complete=False) == encoding


def test_big5_and_shift_jis_text_is_refused_not_read_as_mojibake(tmp_path):
    big5 = "工單號,客戶編號,服務中心\nV1,C1,上海金橋服務中心的保養服務\nV2,C2,北京望京店維修進度通知\n"
    sjis = "工単号,顧客,サービスセンター\nV1,C1,東京のサービスセンターです\nV2,C2,待ち時間が長かった\n"
    (tmp_path / "visits.csv").write_bytes(big5.encode("big5"))
    with pytest.raises(DataError, match=r"visits.csv: the text is Big5"):
        io.read_file(tmp_path / "visits.csv", "visits")
    (tmp_path / "visits.csv").write_bytes(sjis.encode("shift_jis"))
    with pytest.raises(DataError, match=r"Shift-JIS"):
        io.read_file(tmp_path / "visits.csv", "visits")
    # GBK text, Traditional characters and rare names included, is still GBK
    gbk = "工单号,客户编号,服务中心\nV1,李喆,上海金桥\nV2,王堃,灣仔服務中心\n"
    (tmp_path / "visits.csv").write_bytes(gbk.encode("gbk"))
    path = tmp_path / "visits.csv"
    assert io._detect_encoding(path, path.read_bytes()) == "gb18030"


def test_a_header_longer_than_the_sample_is_read_whole(tmp_path):
    questions = [f"Q{i} 您对第{i}个环节的满意度如何？请打分" for i in range(4000)]
    header = ",".join(["问卷编号", "工单号", "提交时间", "推荐意愿", *questions])
    assert len(header.encode()) > io._HEAD_BYTES
    row = ",".join(["R1", "V1", "2026-10-04T10:00:00", "9", *["8"] * len(questions)])
    (tmp_path / "surveys.csv").write_text(header + "\n" + row + "\n", encoding="utf-8")
    df = io.read_file(tmp_path / "surveys.csv", "surveys")
    assert df["ltr"].tolist() == ["9"] and len(df.attrs["extra_columns"]) == 4000


# -------------------------------------------------------------------------- profiles
def test_profile_renames_value_maps_title_rows_and_sheet(tmp_path):
    raw = own_data.worked_example(tmp_path / "raw")
    src = sources.load_sources(raw)
    df = io.read_table(raw, "visits")
    assert src.tables["visits"].header_row == 2
    assert set(df["scenario"]) <= {"maintenance", "repair", "accident"}
    assert df["center"].iloc[0] == "上海金桥店" and "车牌号" not in df.columns
    assert [e["name"] for e in df.attrs["extra_columns"]] == ["advisor"]
    assert df.attrs["extra_columns"][0]["header"] == "服务顾问"
    assert df["amount_cny"].notna().all()  # 结算金额(元) is the contract's 结算金额
    s = io.read_table(raw, "surveys")
    assert s.columns[:4].tolist() == ["response_id", "visit_id", "submitted_at", "ltr"]
    assert s["response_id"].iloc[0] == "1" and s["visit_id"].iloc[0].startswith("RO")
    c = io.read_table(raw, "complaints")
    assert len(c) == 7 and c["_source_file"].astype(str).iloc[0] == "热线投诉登记.xlsx"


W = own_data.WORKED_SOURCES
BAD_PROFILES = {  # the worked example's profile with one mistake
    "missing column": (W.replace("车主编号: customer_id", "没有这列: customer_id"), ["没有这列", "does not have"]),
    "missing sheet": (W.replace("sheet: 投诉记录", "sheet: 不存在"), ["不存在", "投诉记录"]),
    "two to one": (
        W.replace("车主编号: customer_id", "车主编号: customer_id\n    车型: customer_id"),
        ["two raw columns map to column customer_id", "车主编号", "车型"],
    ),
    "alias": ("visits: &v\n  header_row: 2\nsurveys: *v\n", ["sources.yaml", "aliases"]),
    "unknown key": (W.replace("header_row: 2", "header_rows: 2"), ["sources.yaml", "header_rows"]),
    "unknown table": (W + "visitors:\n  header_row: 2\n", ["sources.yaml", "visitors"]),
    "no file": (W.replace("问卷星_*.csv", "nothing*.csv"), ["sources.yaml", "nothing*.csv"]),
    "bad tz": (W.replace("date_formats:", "tz: Mars/Base\n  date_formats:"), ["Mars/Base"]),
    "several sheets": (W.replace("  sheet: 投诉记录 ", "  # "), ["several sheets", "说明", "投诉记录"]),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_a_bad_profile_is_one_error_line_and_nothing_written(tmp_path, case, capsys):
    raw = own_data.worked_example(tmp_path / "raw", n=12)
    text, needles = BAD_PROFILES[case]
    assert text != W
    (raw / "sources.yaml").write_text(text, encoding="utf-8")
    out_dir = tmp_path / "processed"
    rc, _, err = run_cli(capsys, "clean", str(raw), str(out_dir))
    assert rc == 2
    one_line_error(err, *needles)
    assert "cx check" in err
    assert not out_dir.exists()
    rc, text_out, _ = run_cli(capsys, "check", str(raw))
    assert rc == 2 and "not ok" in text_out
    for n in needles:
        assert n in text_out, (n, text_out)


def test_a_second_download_is_flagged_unless_listed(tmp_path, capsys):
    raw = write_raw(tmp_path / "raw")
    shutil.copy(raw / "surveys.csv", raw / "surveys (1).csv")
    rc, _, err = run_cli(capsys, "clean", str(raw), str(tmp_path / "p"))
    assert rc == 2
    one_line_error(err, "surveys (1).csv", "second download", "next to surveys.csv")
    (raw / "surveys (1).csv").rename(raw / "surveys - 副本.csv")
    with pytest.raises(DataError, match="副本"):
        sources.resolve(raw)
    (raw / "sources.yaml").write_text("surveys:\n  files: [surveys.csv]\n", encoding="utf-8")
    _, files = sources.resolve(raw)
    assert [p.name for p in files["surveys"]] == ["surveys.csv"]
    assert sources.duplicate_of("surveys(2).xlsx") == "surveys.xlsx"


def test_stacking_sheets_only_when_asked_and_only_same_shaped(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "9月"
    wb.active.append(list(VISITS.columns))
    wb.active.append(VISITS.iloc[0].tolist())
    ws = wb.create_sheet("10月")
    ws.append(list(VISITS.columns))
    ws.append(VISITS.iloc[1].tolist())
    wb.save(tmp_path / "visits.xlsx")
    with pytest.raises(DataError, match="several sheets.*'9月', '10月'"):
        io.read_table(tmp_path, "visits")
    (tmp_path / "sources.yaml").write_text("visits:\n  sheets: all\n", encoding="utf-8")
    df = io.read_table(tmp_path, "visits")
    assert df["visit_id"].tolist() == ["V1", "V2"]
    assert df["_source_file"].astype(str).tolist() == ["visits.xlsx[9月]", "visits.xlsx[10月]"]
    assert df["_source_row"].tolist() == [1, 1]
    ws.delete_cols(5)  # vehicle_model: an optional column, so the sheets differ in shape only
    wb.save(tmp_path / "visits.xlsx")
    with pytest.raises(DataError, match="sheets to stack differ"):
        io.read_table(tmp_path, "visits")


def test_legacy_xls_and_html_saved_as_xls(tmp_path):
    raw = own_data.english_xls_qualtrics(tmp_path / "raw", n=6)
    df = io.read_table(raw, "visits")
    assert len(df) == 6 and df["visit_id"].str.startswith("RO").all()
    (tmp_path / "visits.xls").write_text("<html><table><tr><td>1</td></tr></table></html>")
    with pytest.raises(DataError, match="visits.xls: .*web page"):
        io.read_file(tmp_path / "visits.xls", "visits")


def test_dates_day_or_month_first_only_as_declared(tmp_path):
    v = VISITS.assign(
        arrived_at=["3/10/2026 09:00", "21/9/2026 09:00"], delivered_at=["3/10/2026 12:00", "21/9/2026 12:30"]
    ).drop(columns=["booked_at", "started_at", "finished_at"])
    raw = write_raw(tmp_path / "raw", visits=v)
    rep = check.check(raw, confirm=False)
    assert rep.tables["visits"].ambiguous_dates == 2
    assert "declare dayfirst" in rep.text()
    (raw / "sources.yaml").write_text("visits:\n  dayfirst: true\n", encoding="utf-8")
    clean.clean(raw, tmp_path / "p")
    got = pd.read_parquet(tmp_path / "p" / "visits.parquet").set_index("visit_id")["arrived_at"]
    assert got["V1"] == pd.Timestamp("2026-10-03 09:00", tz="Asia/Shanghai")
    assert got["V2"] == pd.Timestamp("2026-09-21 09:00", tz="Asia/Shanghai")


def test_a_profile_time_zone_is_read_and_shown_in_the_cleaning_zone(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "sources.yaml").write_text("surveys:\n  tz: Europe/Berlin\n", encoding="utf-8")
    clean.clean(raw, tmp_path / "p")
    s = pd.read_parquet(tmp_path / "p" / "surveys.parquet").set_index("response_id")["submitted_at"]
    assert str(s.dtype) == "datetime64[us, Asia/Shanghai]"
    assert s["R1"] == pd.Timestamp("2026-10-04 10:00", tz="Europe/Berlin")


# ---------------------------------------------------------------- optional tables, extras
def test_visits_and_surveys_are_a_complete_input(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    VISITS.assign(顾问=["王磊", "李娜"]).to_csv(raw / "visits.csv", index=False)
    SURVEYS.to_csv(raw / "surveys.csv", index=False)
    res = clean.clean(raw, tmp_path / "p")
    q = res.quality
    assert {t: q["tables"][t]["given"] for t in q["tables"]} == {
        "centers": False,
        "visits": True,
        "touchpoints": False,
        "surveys": True,
        "complaints": False,
    }
    assert q["tables"]["centers"]["derived"] is True and "derived" not in q["tables"]["visits"]
    assert q["tables"]["surveys"]["files"] == ["surveys.csv"] and q["tables"]["complaints"]["files"] == []
    assert q["extra_columns"]["visits"] == [{"name": "顾问", "header": "顾问", "file": "visits.csv"}]
    data = clean.read_processed(tmp_path / "p")
    assert len(data.events) == 0 and len(data.complaints) == 0
    assert list(data.events.columns[:3]) == ["visit_id", "ts", "touchpoint"]
    assert sorted(data.centers["center_id"]) == ["BJ-WJ", "SH-JQ"]
    assert data.centers["realtime_since"].isna().all()
    assert data.visits.sort_values("visit_id")["顾问"].tolist() == ["王磊", "李娜"]  # files: by center, month, id
    for t, v in q["tables"].items():
        assert v["read"] == v["kept"] + v["quarantined"], t


def test_missing_required_tables_are_named_together(tmp_path, capsys):
    raw = write_raw(tmp_path / "raw")
    (raw / "visits.csv").unlink()
    (raw / "surveys.csv").unlink()
    rc, _, err = run_cli(capsys, "clean", str(raw), str(tmp_path / "p"))
    assert rc == 2
    one_line_error(err, "required tables missing", "visits", "surveys", "cx check")
    rc, out, _ = run_cli(capsys, "check", str(raw))
    assert rc == 2 and "required table visits is missing" in out and "required table surveys is missing" in out


def test_check_lists_every_missing_column_and_suggests_mapping_lines(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame(
        {
            "工单号": ["V1"],
            "门店": ["SH-JQ"],
            "业务类型": ["保养"],
            "进厂时间": ["2026-10-03 09:00"],
            "交车日期": ["2026-10-03 12:00"],
            "天气": ["晴"],
        }
    ).to_csv(raw / "visits.csv", index=False)
    SURVEYS.rename(columns={"ltr": "NPS"}).to_csv(raw / "surveys.csv", index=False)
    rc, out, _ = run_cli(capsys, "check", str(raw))
    assert rc == 2
    assert (
        "missing required columns: customer_id (客户编号), center (服务中心), scenario (服务类型), "
        "arrived_at (到店时间), delivered_at (交车时间)" in out
    )
    for line in ("门店: center", "业务类型: scenario", "进厂时间: arrived_at", "交车日期: delivered_at", "NPS: ltr"):
        assert line in out, line
    assert "天气: " not in out and "extra column 天气" in out
    rc, _, err = run_cli(capsys, "clean", str(raw), str(tmp_path / "p"))
    assert rc == 2 and "customer_id" in err and "delivered_at" in err and f"run `cx check {raw}`" in err


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
        min_size=1,
        max_size=8,
    )
)
def test_extra_names_are_unique_and_never_a_contract_or_derived_name(headers):
    plan = io.plan_columns(
        ["工单号", "客户编号", "服务中心", "服务类型", "到店时间", "交车时间", *headers], "visits", "v.csv"
    )
    names = [t for t, k in zip(plan.targets, plan.kinds) if k == "extra"]
    contract = {
        "visit_id",
        "customer_id",
        "center",
        "scenario",
        "arrived_at",
        "delivered_at",
        "vehicle_model",
        "booked_at",
        "started_at",
        "finished_at",
        "warranty",
        "amount_cny",
    }
    assert len(set(names)) == len(names)
    assert not set(names) & (contract | set(clean.catalog.DERIVED_COLUMNS["visits"]))


def test_personal_data_in_an_extra_column_is_masked(tmp_path):
    raw = write_raw(tmp_path / "raw", visits=VISITS.assign(备注=["车牌沪A12345", "客户很满意"]))
    res = clean.clean(raw, tmp_path / "p")
    v = pd.read_parquet(tmp_path / "p" / "visits.parquet").sort_values("visit_id")  # files: by center, month, id
    assert v["备注"].tolist() == ["车牌[车牌号]", "客户很满意"]
    assert res.quality["tables"]["visits"]["rules"]["pii_masked"]["rows"] == 1


def test_the_profile_and_its_files_are_part_of_the_fingerprint(tmp_path):
    raw = own_data.worked_example(tmp_path / "raw", n=10)
    names = [p.name for p in clean.raw_files(raw)]
    assert "sources.yaml" in names and "DMS工单导出_2026-09-10.xlsx" in names and "热线投诉登记.xlsx" in names
    first = clean.clean(raw, tmp_path / "p")
    assert not clean.clean(raw, tmp_path / "p").rebuilt
    (raw / "sources.yaml").write_text(
        own_data.WORKED_SOURCES.replace("服务顾问: advisor", "服务顾问: advisor_name"), encoding="utf-8"
    )
    again = clean.clean(raw, tmp_path / "p")
    assert again.rebuilt and again.fingerprint != first.fingerprint
    assert [e["name"] for e in again.quality["extra_columns"]["visits"]] == ["advisor_name"]


# --------------------------------------------------------------- the export sets, end to end
def _processed_checks(out: Path, quality: dict) -> None:
    data = clean.read_processed(out)
    for t, v in quality["tables"].items():
        assert v["read"] == v["kept"] + v["quarantined"], t
    assert len(data.visits) > 0 and data.visits["visit_id"].is_unique
    assert data.surveys["ltr"].between(0, 10).all()
    assert set(data.surveys["visit_id"]) <= set(data.visits["visit_id"])
    assert str(data.visits["arrived_at"].dtype) == "datetime64[us, Asia/Shanghai]"
    for f in ("visits", "scores", "events", "surveys", "complaints", "centers", "quarantine"):
        assert (out / f"{f}.parquet").is_file()


@pytest.mark.parametrize("name", sorted(own_data.SETS))
def test_export_sets_go_from_check_to_clean(tmp_path, name, capsys):
    raw = own_data.SETS[name](tmp_path / "raw")
    rc, out, _ = run_cli(capsys, "check", str(raw))
    assert rc == 0, out
    assert "ok: cx clean will succeed" in out
    assert not (tmp_path / "processed").exists()  # the dry run writes nothing there
    rc, out, err = run_cli(capsys, "clean", str(raw), str(tmp_path / "processed"))
    assert rc == 0, err
    quality = json.loads((tmp_path / "processed" / "quality.json").read_text(encoding="utf-8"))
    _processed_checks(tmp_path / "processed", quality)
    given = {t: v["given"] for t, v in quality["tables"].items()}
    extras = {t: [e["name"] for e in v] for t, v in quality["extra_columns"].items() if v}
    expected = {
        "worked_example": (
            {"centers": False, "touchpoints": False, "complaints": True},
            {"visits": ["advisor"], "surveys": ["所用时间", "来源", "来源详情"], "complaints": ["受理坐席"]},
        ),
        "english_xls_qualtrics": ({"centers": True, "touchpoints": False, "complaints": False}, {"visits": ["bay"]}),
        "stacked_sheets_only_visits_surveys": (
            {"centers": False, "touchpoints": False, "complaints": False},
            {"visits": ["会员等级"]},
        ),
        "gbk_title_rows_with_log": (
            {"centers": False, "touchpoints": True, "complaints": False},
            {"visits": ["服务顾问"], "touchpoints": ["发送人"], "surveys": ["所用时间", "来源"]},
        ),
    }[name]
    assert {t: given[t] for t in expected[0]} == expected[0]
    for t, names in expected[1].items():
        assert extras[t] == names, (t, extras)
    data = clean.read_processed(tmp_path / "processed")
    if name == "gbk_title_rows_with_log":
        # 按选项序号: option 1 of the 0-10 question is 0; the log's progress push is a real-time tier
        raw_ltr = own_data._visits(30, 5)
        assert sorted(data.surveys["ltr"].astype(int)) == sorted(v["ltr"] for v in raw_ltr)
        assert (data.visits["tier"] == "realtime_photo").all() and data.events["发送人"].notna().all()
    if name == "english_xls_qualtrics":
        assert "ipaddress" not in data.surveys.columns and "recipientemail" not in data.surveys.columns
        assert data.visits["center"].isin(["SH-JQ", "BJ-WJ", "GZ-TH"]).all()


def test_the_committed_worked_example_checks_and_cleans(tmp_path, capsys):
    raw = tmp_path / "own-data"
    shutil.copytree(EXAMPLE, raw)
    rc, out, _ = run_cli(capsys, "check", str(raw))
    assert rc == 0, out
    for line in (
        "门店      -> center (服务中心) renamed",
        "车牌号     -> dropped",
        "extra columns carried as dimensions: advisor",
        "complaints: given",
    ):
        assert line in out, line
    rc, _, err = run_cli(capsys, "clean", str(raw), str(tmp_path / "processed"))
    assert rc == 0, err
    data = clean.read_processed(tmp_path / "processed")
    assert len(data.visits) == 60 and len(data.surveys) == 40 and len(data.complaints) == 7
    assert "[手机号]" in " ".join(data.surveys["comment"].dropna())
    assert data.quality["tables"]["touchpoints"]["given"] is False


@pytest.mark.slow
def test_the_committed_worked_example_runs_to_a_finished_report(tmp_path):
    """README "Use your own data": from the committed example folder to a finished report, as
    the README runs it (the network and every center), every notebook ok."""
    import subprocess
    import sys

    raw = tmp_path / "own-data"
    shutil.copytree(EXAMPLE, raw)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cxlib.cli",
            "report",
            "--raw",
            str(raw),
            "--processed",
            str(tmp_path / "processed"),
            "--out",
            str(tmp_path / "reports"),
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    period = tmp_path / "reports" / "all"
    manifests = [json.loads(m.read_text(encoding="utf-8")) for m in sorted(period.glob("*/manifest.json"))]
    assert len(manifests) == 4  # the network and the three centers of the DMS export
    for m in manifests:
        assert m["status"] == "ok" and {n["status"] for n in m["notebooks"]} == {"ok"}, m
    summary = (period / "all" / "05_summary.html").read_text(encoding="utf-8")
    assert "未提供数据 / not provided: 干预方案文件 cases file (cases)" in summary  # the example has no cases file
    assert "未提供数据 / not provided: 触点日志 touchpoint log (touchpoints)" in summary
    index = (period / "index.html").read_text(encoding="utf-8")
    assert index.count("<td>ok</td>") == 4
