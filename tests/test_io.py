"""Readers: encodings, XLSX, Parquet, split files, Chinese headers, provenance, and one clear
error (file + column) for every kind of broken file, also through the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import SURVEYS, VISITS, write_raw

from cxlib import catalog, clean, cli, io
from cxlib.errors import DataError

ZH = {c.name: c.zh for c in catalog.TABLES["visits"]}


def test_utf8_bom_and_gbk_with_chinese_headers_read_the_same(tmp_path):
    zh = VISITS.rename(columns=ZH)
    zh.loc[0, "服务中心"] = "上海金桥"
    (tmp_path / "visits_bom.csv").write_bytes(zh.to_csv(index=False).encode("utf-8-sig"))
    (tmp_path / "visits_gbk.csv").write_bytes(zh.to_csv(index=False).encode("gbk"))
    a = io.read_file(tmp_path / "visits_bom.csv")
    b = io.read_file(tmp_path / "visits_gbk.csv")
    assert a.columns.tolist()[:3] == ["visit_id", "customer_id", "center"]
    assert a["center"].tolist() == ["上海金桥", "BJ-WJ"] == b["center"].tolist()
    assert a.drop(columns="_source_file").equals(b.drop(columns="_source_file"))
    assert b["_source_file"].astype(str).tolist() == ["visits_gbk.csv"] * 2
    assert b["_source_row"].tolist() == [1, 2]


def test_split_files_in_sorted_order_with_provenance(tmp_path):
    VISITS.iloc[[1]].to_csv(tmp_path / "visits_2026-11.csv", index=False)
    VISITS.iloc[[0]].to_csv(tmp_path / "visits_2026-10.csv", index=False)
    (tmp_path / "cases_interventions.yaml").write_text("a: 1\n")
    (tmp_path / "sample_manifest.json").write_text("{}")
    df = io.read_table(tmp_path, "visits")
    assert df["visit_id"].tolist() == ["V1", "V2"]
    assert df["_source_file"].astype(str).tolist() == ["visits_2026-10.csv", "visits_2026-11.csv"]
    assert df["_source_row"].tolist() == [1, 1]


def test_xlsx_keeps_dates_and_serials_recoverable(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["问卷编号", "工单号", "提交时间", "推荐意愿", "评价内容"])
    ws.append(["R1", "V1", dt.datetime(2026, 10, 4, 10, 0), 9, "好"])
    ws.append(["R2", "V2", 46298.375, 6.0, None])
    wb.save(tmp_path / "surveys.xlsx")
    df = io.read_table(tmp_path, "surveys")
    assert df["submitted_at"].tolist() == ["2026-10-04T10:00:00", "46298.375"]
    assert df["ltr"].tolist() == ["9", "6"]
    assert df["_source_row"].tolist() == [1, 2]
    times, repaired, _ = clean.parse_timestamps(df["submitted_at"])
    assert times.iloc[1] == pd.Timestamp("2026-10-03 09:00", tz="Asia/Shanghai")
    assert repaired.tolist() == [False, True]


def test_parquet_input(tmp_path):
    SURVEYS.assign(ltr=[9, 6]).to_parquet(tmp_path / "surveys.parquet")
    df = io.read_table(tmp_path, "surveys")
    assert df["ltr"].tolist() == ["9", "6"] and df["response_id"].tolist() == ["R1", "R2"]


def test_mixed_formats_clean_end_to_end(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "visits.csv").unlink()
    (raw / "visits.xlsx").parent.mkdir(exist_ok=True)
    VISITS.rename(columns=ZH).to_excel(raw / "visits.xlsx", index=False)
    res = clean.clean(raw, tmp_path / "out")
    assert res.quality["tables"]["visits"]["kept"] == 2


# -------------------------------------------------------------------------- broken files
def broken(tmp_path: Path, name: str, content: bytes) -> Path:
    raw = write_raw(tmp_path / "raw")
    for t in ("visits",):
        if name.startswith(t):
            (raw / f"{t}.csv").unlink()
    (raw / name).write_bytes(content)
    return raw


CASES = {
    "missing column": (
        "visits.csv",
        VISITS.drop(columns="arrived_at").to_csv(index=False).encode(),
        ["visits.csv", "column arrived_at", "到店时间"],
    ),
    "semicolon": (
        "visits.csv",
        VISITS.to_csv(index=False, sep=";").encode(),
        ["visits.csv", "column visit_id;customer_id", "semicolon"],
    ),
    "tab": ("visits.csv", VISITS.to_csv(index=False, sep="\t").encode(), ["visits.csv", "tab"]),
    "empty": ("visits.csv", b"", ["visits.csv", "empty file"]),
    "undecodable": ("visits.csv", b"visit_id,customer_id\n\xff\xfe\xfa\xfb\x81\x30,x\n", ["visits.csv", "undecodable"]),
    "png": ("visits.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), ["visits.csv", "PNG image"]),
    "xlsx not zip": ("visits.xlsx", b"visit_id,customer_id\nV1,C1\n", ["visits.xlsx", "not a zip"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_file_errors_name_file_and_column(tmp_path, case, capsys):
    name, content, needles = CASES[case]
    raw = broken(tmp_path, name, content)
    with pytest.raises(DataError) as info:
        io.read_table(raw, "visits")
    for needle in needles:
        assert needle in str(info.value)
    out = tmp_path / "processed"
    out.mkdir()
    (out / ".gitkeep").touch()  # a folder set aside for processed data may hold the analyst's files
    (out / "keep.txt").write_text("old")
    capsys.readouterr()
    assert cli.main(["clean", str(raw), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cx: error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err
    assert sorted(p.name for p in out.iterdir() if p.name != ".cx-lock") == [".gitkeep", "keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed", "raw"]


def test_missing_table_names_table_and_folder(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "complaints.csv").unlink()
    with pytest.raises(DataError, match=r"table complaints is missing.*raw"):
        io.read_table(raw, "complaints")


def test_header_only_file_is_an_empty_table(tmp_path):
    (tmp_path / "complaints.csv").write_text("投诉编号,工单号,投诉时间\n", encoding="utf-8")
    df = io.read_table(tmp_path, "complaints")
    assert len(df) == 0 and "category" in df.columns


def test_ragged_rows_are_a_clear_error(tmp_path):
    (tmp_path / "complaints.csv").write_text("complaint_id,visit_id,filed_at\nK1,V1\n", encoding="utf-8")
    with pytest.raises(DataError, match="complaints.csv"):
        io.read_table(tmp_path, "complaints")
