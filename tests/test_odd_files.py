"""Raw files of odd shapes: Parquet columns of every Arrow type, XLSX with merged cells,
formulas, error cells, real dates, empty or extra sheets, corrupt zips; CSV with NUL bytes,
ragged rows, binary content, UTF-16, a header only, long lines, mixed line endings, quote
errors. Each is read (values as the text a CSV export would hold) with every row accounted
for, or refused with one DataError naming the file and, where known, the column and row."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import COMPLAINTS, write_raw

from cxlib import cli, io
from cxlib.errors import DataError

ZH = ["投诉编号", "工单号", "投诉时间", "投诉渠道", "投诉类别"]


def _raw(tmp_path: Path) -> Path:
    raw = write_raw(tmp_path / "raw")
    (raw / "complaints.csv").unlink()
    return raw


def _clean(raw: Path, capsys) -> tuple[int, str, dict]:
    capsys.readouterr()
    code = cli.main(["clean", str(raw), str(raw.parent / "out")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("cx: error: "), err
        hint = f"; run `cx check {raw}` for the full list\n"
        assert err.endswith(hint), err
        return code, err[: -len(hint)] + "\n", {}
    quality = json.loads((raw.parent / "out" / "quality.json").read_text())["tables"]
    for q in quality.values():
        assert q["read"] == q["kept"] + q["quarantined"]
    return code, err, quality


# ------------------------------------------------------------------ Parquet
def _complaints_parquet(raw: Path, column: str, values: pa.Array) -> Path:
    cols = {c: pa.array(COMPLAINTS[c].tolist()) for c in COMPLAINTS}
    cols[column] = values
    path = raw / "complaints.parquet"
    pq.write_table(pa.table(cols), path)
    return path


TEXT_OF_TYPE = [  # Arrow value, the text it is read as
    (pa.array(["等待"], pa.large_string()), "等待"),
    (pa.array(["等待"]).dictionary_encode(), "等待"),
    (pa.array(["等待".encode()], pa.binary()), "等待"),
    (pa.array([b"ab"], pa.binary(2)), "ab"),
    (pa.array([decimal.Decimal("480.50")]), "480.50"),
    (pa.array([12.0]), "12"),
    (pa.array([2.5], pa.float32()), "2.5"),
    (pa.array([7], pa.int8()), "7"),
    (pa.array([2**64 - 1], pa.uint64()), "18446744073709551615"),
    (pa.array([True]), "true"),
    (pa.array([dt.date(2026, 9, 22)]), "2026-09-22"),
    (pa.array([dt.datetime(2026, 9, 22, 11, 0)], pa.timestamp("ns")), "2026-09-22T11:00:00"),
    (pa.array([dt.datetime(2026, 9, 22, 3, 0)], pa.timestamp("ms", tz="UTC")), "2026-09-22T03:00:00+0000"),
    (pa.array([dt.datetime(2026, 9, 22, 3, 0)], pa.timestamp("s", tz="Asia/Shanghai")), "2026-09-22T11:00:00+0800"),
    (pa.array([dt.datetime(2026, 9, 22, 11, 0, 0, 250000)], pa.timestamp("ms")), "2026-09-22T11:00:00.250"),
    (pa.array([dt.datetime(9999, 12, 31, 23, 0)], pa.timestamp("s", tz="+05:30")), "10000-01-01T04:30:00+0530"),
    (pa.array([dt.datetime(1, 1, 1)], pa.timestamp("us")), "0001-01-01T00:00:00"),
    (pa.nulls(1), None),
]


@pytest.mark.parametrize("values, text", TEXT_OF_TYPE, ids=[str(v.type) for v, _ in TEXT_OF_TYPE])
def test_parquet_column_types_read_as_csv_text(tmp_path, values, text):
    raw = _raw(tmp_path)
    _complaints_parquet(raw, "category", values)
    got = io.read_table(raw, "complaints")["category"].tolist()
    assert got == [text] or (text is None and got[0] != got[0])


def test_parquet_timestamps_keep_their_instant_through_cleaning(tmp_path, capsys):
    raw = _raw(tmp_path)
    _complaints_parquet(raw, "filed_at", pa.array([dt.datetime(2026, 9, 22, 3, 0)], pa.timestamp("us", tz="UTC")))
    code, _, quality = _clean(raw, capsys)
    assert code == 0 and quality["complaints"]["kept"] == 1
    import pandas as pd

    filed = pd.read_parquet(raw.parent / "out" / "complaints.parquet")["filed_at"].iloc[0]
    assert filed == pd.Timestamp("2026-09-22 11:00", tz="Asia/Shanghai")


NESTED = [pa.array([["V1"]]), pa.array([{"a": 1}]), pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int32()))]


def values_id(values: pa.Array) -> str:
    t = values.type
    return (
        "list"
        if pa.types.is_list(t)
        else "struct"
        if pa.types.is_struct(t)
        else "map"
        if pa.types.is_map(t)
        else "bad utf-8"
    )


@pytest.mark.parametrize("values", NESTED, ids=["list", "struct", "map"])
def test_parquet_nested_values_in_a_contract_column_are_refused(tmp_path, capsys, values):
    raw = _raw(tmp_path)
    _complaints_parquet(raw, "category", values)
    code, err, _ = _clean(raw, capsys)
    assert code == 2
    assert err.startswith("cx: error: complaints.parquet, column category: the column holds nested values")


@pytest.mark.parametrize(
    "values", [*NESTED, pa.array([b"\xff\xfe"], pa.binary())], ids=["list", "struct", "map", "bad utf-8"]
)
def test_parquet_extra_columns_of_any_type_are_carried_as_text(tmp_path, capsys, values):
    raw = _raw(tmp_path)
    _complaints_parquet(raw, "extra", values)
    code, _, quality = _clean(raw, capsys)
    assert code == 0 and quality["complaints"] == {**quality["complaints"], "read": 1, "kept": 1}
    carried = pq.read_table(raw.parent / "out" / "complaints.parquet").column("extra").to_pylist()
    assert carried == [
        {"list": '["V1"]', "struct": '{"a": 1}', "map": '[["k", 1]]', "bad utf-8": "\\xff\\xfe"}[values_id(values)]
    ]


def test_parquet_bytes_that_are_not_utf8_name_column_and_row(tmp_path, capsys):
    raw = _raw(tmp_path)
    cols = {c: pa.array(COMPLAINTS[c].tolist() * 3) for c in COMPLAINTS}
    cols["category"] = pa.array([b"ok", b"fine", b"\xff\xfe"], pa.binary())
    pq.write_table(pa.table(cols), raw / "complaints.parquet")
    code, err, _ = _clean(raw, capsys)
    assert code == 2
    assert (
        err == "cx: error: complaints.parquet, column category, row 3: the column holds bytes that are not UTF-8 text\n"
    )
    # a string column whose bytes are not UTF-8 (written by another tool) is caught the same way
    cols["category"] = pa.array([b"ok", b"\xc3", b"x"], pa.binary()).view(pa.string())
    pq.write_table(pa.table(cols), raw / "complaints.parquet")
    code, err, _ = _clean(raw, capsys)
    assert "column category, row 2: the column holds bytes that are not UTF-8 text" in err


def test_parquet_duplicate_and_non_text_column_names(tmp_path, capsys):
    raw = _raw(tmp_path)
    cols = [pa.array(COMPLAINTS[c].tolist()) for c in COMPLAINTS] + [pa.array(["K9"])]
    pq.write_table(pa.table(cols, names=[*ZH, "complaint_id"]), raw / "complaints.parquet")
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "column complaint_id: two raw columns map to column complaint_id" in err
    # pandas writes non-text column names as text: 0, 1, ... are unknown columns, ignored
    import pandas as pd

    df = COMPLAINTS.copy()
    df[0] = ["x"]
    df.columns = [str(c) for c in df.columns]
    df.to_parquet(raw / "complaints.parquet")
    code, _, quality = _clean(raw, capsys)
    assert code == 0 and quality["complaints"]["kept"] == 1
    del pd


def test_parquet_timestamps_beyond_the_calendar_are_quarantined_not_a_crash(tmp_path, capsys):
    raw = _raw(tmp_path)
    cols = {c: pa.array(COMPLAINTS[c].tolist() * 3) for c in COMPLAINTS}
    cols["complaint_id"] = pa.array(["K1", "K2", "K3"])
    cols["filed_at"] = pa.array(
        [dt.datetime(2026, 9, 22, 3), dt.datetime(9999, 12, 31, 23), dt.datetime(1, 1, 1)],
        pa.timestamp("s", tz="+05:30"),
    )
    pq.write_table(pa.table(cols), raw / "complaints.parquet")
    code, _, quality = _clean(raw, capsys)
    assert code == 0 and quality["complaints"]["read"] == 3 and quality["complaints"]["kept"] >= 1


def test_parquet_unknown_time_zone_and_broken_files(tmp_path, capsys):
    raw = _raw(tmp_path)
    _complaints_parquet(raw, "filed_at", pa.array([dt.datetime(2026, 9, 22)], pa.timestamp("s", tz="Mars/Olympus")))
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "column filed_at: the column holds timestamps in an unknown time zone 'Mars/Olympus'" in err
    path = raw / "complaints.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and err.startswith("cx: error: complaints.parquet: not a readable Parquet file")
    _complaints_parquet(raw, "category", pa.array([1]))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "not a readable Parquet file" in err


# ------------------------------------------------------------------ XLSX
def _workbook(raw: Path, rows: list[list], edit=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if edit:
        edit(wb, ws)
    path = raw / "complaints.xlsx"
    wb.save(path)
    return path


ROW1 = ["K1", "V2", dt.datetime(2026, 9, 22, 11, 0), "hotline", "等待"]
ROW2 = ["K2", "V1", 46287.5, "app", "=1/0"]


def test_xlsx_dates_serials_merged_cells_formulas_and_error_cells(tmp_path, capsys):
    raw = _raw(tmp_path)
    _workbook(
        raw,
        [ZH, ROW1, ROW2, ["K3", "V2", "#DIV/0!", "app", None], ["K4", "V1", "2026-09-22 12:00", "app", "x"]],
        lambda wb, ws: ws.merge_cells("D4:D5"),
    )
    df = io.read_table(raw, "complaints")
    assert df["filed_at"].tolist() == ["2026-09-22T11:00:00", "46287.5", "#DIV/0!", "2026-09-22 12:00"]
    # a formula without a stored result (never computed by a spreadsheet program) reads as blank;
    # a merged range keeps its value in the top-left cell
    assert df["category"].isna().tolist() == [False, True, True, False]
    assert df["channel"].tolist()[:3] == ["hotline", "app", "app"] and df["channel"].isna().tolist()[3]
    code, _, quality = _clean(raw, capsys)
    assert code == 0 and quality["complaints"]["read"] == 4
    assert quality["complaints"]["quarantined"] >= 1  # the #DIV/0! timestamp


def test_xlsx_empty_sheet_and_sheets(tmp_path, capsys):
    raw = _raw(tmp_path)
    _workbook(raw, [])
    assert _clean(raw, capsys)[1] == "cx: error: complaints.xlsx: empty workbook: no header and no rows\n"
    _workbook(raw, [ZH, ROW1], lambda wb, ws: wb.create_sheet("说明"))
    assert _clean(raw, capsys)[2]["complaints"]["kept"] == 1  # an empty second sheet is fine
    _workbook(raw, [ZH, ROW1], lambda wb, ws: wb.create_sheet("九月").append(ROW2))
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "the workbook has several sheets with data ('Sheet', '九月')" in err


def test_xlsx_two_columns_with_one_header_are_not_folded(tmp_path, capsys):
    raw = _raw(tmp_path)
    _workbook(raw, [[*ZH, "工单号"], [*ROW1, "V9"]])
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "column 工单号: column 工单号 appears more than once in the header" in err


def test_xlsx_corrupt_zip(tmp_path, capsys):
    raw = _raw(tmp_path)
    path = _workbook(raw, [ZH] + [ROW1] * 200)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:500]  # cut in the middle of a row
    with zipfile.ZipFile(path, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and err.startswith("cx: error: complaints.xlsx: not a readable XLSX workbook")
    data = bytearray(_workbook(raw, [ZH] + [ROW1] * 200).read_bytes())
    at = data.find(b"xl/worksheets/sheet1.xml") + 100
    data[at : at + 200] = bytes(200)
    path.write_bytes(bytes(data))
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "complaints.xlsx" in err


# ------------------------------------------------------------------ CSV
CSV = COMPLAINTS.to_csv(index=False).encode()
ROW = b"K2,V1,2026-09-22T12:00:00,app,x\n"


@pytest.mark.parametrize(
    "content, message",
    [
        (CSV + b"K2,V1\n", "complaints.csv, row 2: rows do not have as many fields as the header (5): this row has 2"),
        (
            CSV + b"K2,V1,2026-09-22T12:00:00,app,x,y\n",
            "row 2: rows do not have as many fields as the header (5): this row has 6",
        ),
        (CSV + b"K2,V1,\x00\n", "complaints.csv: not a CSV table: the file holds binary data (a NUL byte on line 3)"),
        ("投诉编号,工单号,投诉时间\nK1,V2,2026-09-22\n".encode("utf-16"), "the file is UTF-16 text"),
        (bytes(range(1, 256)) * 8, "the file is neither UTF-8 nor GB18030/GBK text"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "the file is a PNG image"),
        (b"\r\n\n", "empty file"),
    ],
)
def test_csv_files_refused_with_file_and_row(tmp_path, capsys, content, message):
    raw = _raw(tmp_path)
    (raw / "complaints.csv").write_bytes(content)
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and message in err, err


def test_ragged_row_error_does_not_quote_the_row(tmp_path, capsys):
    raw = _raw(tmp_path)
    (raw / "complaints.csv").write_bytes(CSV + b"K2,13912345678\n")
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "13912345678" not in err


@pytest.mark.parametrize(
    "content, read",
    [
        (b"complaint_id,visit_id,filed_at\n", 0),  # a header only
        (CSV.replace(b"\n", b"\r\n") + ROW.replace(b"\n", b"\r"), 2),  # mixed line endings
        (CSV + b"K2,V1,2026-09-22T12:00:00,app,x" + b"y" * (3 << 20) + b"\n", 2),  # a 3 MB line
        (CSV + b'K2,V1,2026-09-22T12:00:00,app,"unterminated\n' + ROW, 2),  # quote never closed
        (CSV + b'K2,V1,2026-09-22T12:00:00,app,"a ""b"" c"\n', 2),  # quotes doubled
        (CSV + b"K2,V1,2026-09-22T12:00:00,app,x" + b"y" * 5000 + b"\x00\n", 2),  # NUL after the head
        ("\ufeff投诉编号,工单号,投诉时间\nK1,V2,2026-09-22T11:00:00\n".encode(), 1),  # BOM, Chinese header
    ],
)
def test_csv_odd_but_readable_files_account_for_every_row(tmp_path, capsys, content, read):
    raw = _raw(tmp_path)
    (raw / "complaints.csv").write_bytes(content)
    code, err, quality = _clean(raw, capsys)
    assert code == 0, err
    assert quality["complaints"]["read"] == read


def test_header_with_a_form_feed_is_one_header_line(tmp_path):
    (tmp_path / "complaints.csv").write_bytes(b"complaint_id,visit_id,filed_at,\x0cnote\nK1,V2,2026-09-22T11:00:00,x\n")
    df = io.read_table(tmp_path, "complaints")
    assert df["complaint_id"].tolist() == ["K1"]


def test_error_quoting_a_header_with_a_line_break_stays_one_line(tmp_path, capsys):
    raw = _raw(tmp_path)
    pq.write_table(
        pa.table({"complaint_id": ["K1"], "bad\nname": ["x"], "filed_at": ["2026-09-22"]}), raw / "complaints.parquet"
    )
    code, err, _ = _clean(raw, capsys)
    assert code == 2 and "bad\\nname" in err and err.count("\n") == 1
    with pytest.raises(DataError, match="visit_id"):
        io.read_table(raw, "complaints")
