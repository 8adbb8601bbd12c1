"""The streamed quarantine workbook holds what openpyxl's sheets of the same rows held: the same
sheets, cells, frozen panes, column widths, bold and filled header rows; text stays text."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl import Workbook

from cxlib import share

QUARANTINE = pd.DataFrame(
    {
        "table": pd.Series(["visits", "visits", "touchpoints", "surveys", "visits"], dtype="str"),
        "source_file": pd.Series(
            ["visits_2026-10.csv", "visits_2026-10.csv", "touchpoints.parquet", "surveys.xlsx", "visits_2026-09.csv"],
            dtype="str",
        ),
        "source_row": [12, 3, 7, 1, 5],
        "rule": pd.Series(
            ["duplicate_id", "impossible_order", "orphan_visit", "missing_required", "duplicate_id"], dtype="str"
        ),
        "reason": pd.Series(
            ["visit_id WO1 appears twice", None, "no visit <WO9> & more", "ltr is empty", '=HYPERLINK("http://x")'],
            dtype="str",
        ),
        "raw": pd.Series(['{"visit_id": "WO1"}', '{"a": "b\tc"}', "", '"quoted"', "=1+1"], dtype="str"),
    }
)


def _reference(q: pd.DataFrame, dst: Path) -> Path:
    """The workbook as openpyxl's :func:`share._write_sheet` laid it out."""
    wb = Workbook()
    wb.remove(wb.active)
    cols = [c for c, _, _ in share.QUARANTINE_HEADERS]
    headers = [(zh, en) for _, zh, en in share.QUARANTINE_HEADERS]
    files = sorted(q["source_file"].unique())
    for file, name in zip(files, share.excel_sheet_names(files), strict=True):
        part = q[q["source_file"] == file].sort_values("source_row", kind="stable")
        share._write_sheet(
            wb.create_sheet(name),
            "隔离行",
            f"Quarantined rows of {file}",
            headers,
            part[cols].itertuples(index=False, name=None),
            note=f"源文件 source file: {file}",
        )
    wb.save(dst)
    return dst


def test_streamed_workbook_equals_the_openpyxl_layout(tmp_path):
    got = openpyxl.load_workbook(share.quarantine_workbook(QUARANTINE, tmp_path / "q.xlsx"))
    ref = openpyxl.load_workbook(_reference(QUARANTINE, tmp_path / "ref.xlsx"))
    assert (
        got.sheetnames
        == ref.sheetnames
        == ["surveys.xlsx", "touchpoints.parquet", "visits_2026-09.csv", "visits_2026-10.csv"]
    )
    for name in got.sheetnames:
        a, b = got[name], ref[name]
        assert list(a.iter_rows(values_only=True)) == list(b.iter_rows(values_only=True))
        assert a.freeze_panes == b.freeze_panes == "A5"
        for col in "ABCDEF":
            assert a.column_dimensions[col].width == b.column_dimensions[col].width
        for cell in ("A1", "A3", "B4", "A5"):
            assert a[cell].font.b == b[cell].font.b and a[cell].fill.fill_type == b[cell].fill.fill_type
            assert a[cell].fill.fgColor.rgb == b[cell].fill.fgColor.rgb
        for row in a.iter_rows(min_row=5):
            assert all(c.data_type != "f" for c in row)  # "=…" is shown as text, never run
    rows = list(got["visits_2026-10.csv"].iter_rows(min_row=5, values_only=True))
    assert [r[2] for r in rows] == [3, 12] and rows[0][4] is None


def test_control_characters_do_not_fail_the_workbook(tmp_path):
    q = QUARANTINE.copy()
    q.loc[0, "raw"] = "bell\x07 here"
    wb = openpyxl.load_workbook(share.quarantine_workbook(q, tmp_path / "q.xlsx"))
    values = [r[5] for r in wb["visits_2026-10.csv"].iter_rows(min_row=5, values_only=True)]
    assert "bell\ufffd here" in values


def test_no_quarantined_row(tmp_path):
    wb = openpyxl.load_workbook(share.quarantine_workbook(QUARANTINE.iloc[:0], tmp_path / "q.xlsx"))
    assert wb.sheetnames == ["无隔离行 none"]
    assert [r[0] for r in wb.active.iter_rows(values_only=True)] == [
        "隔离行 Quarantined rows",
        "数据表",
        "table",
        "无数据 no data",
    ]


def _cells(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {name: [tuple(r) for r in wb[name].iter_rows(values_only=True)] for name in wb.sheetnames}


def _as_parquet(q: pd.DataFrame, path: Path, row_group_rows: int) -> Path:
    """The quarantine as the cleaning writes it: by table, source file and row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    order = {t: i for i, t in enumerate(["centers", "visits", "touchpoints", "surveys", "complaints"])}
    q = q.assign(_t=q["table"].map(order)).sort_values(["_t", "source_file", "source_row"], kind="stable")
    pq.write_table(
        pa.Table.from_pandas(q.drop(columns="_t"), preserve_index=False), path, row_group_size=row_group_rows
    )
    return path


def test_the_workbook_from_the_parquet_file_equals_the_one_from_the_frame(tmp_path):
    """Read a row group at a time (row groups of 2 rows, so that a file spans several), the
    workbook holds the cells of the one written from the whole frame."""
    src = _as_parquet(QUARANTINE, tmp_path / "quarantine.parquet", 2)
    streamed = share.quarantine_workbook(src, tmp_path / "streamed.xlsx")
    whole = share.quarantine_workbook(QUARANTINE, tmp_path / "whole.xlsx")
    assert _cells(streamed) == _cells(whole)


def test_a_file_with_more_rows_than_a_sheet_holds_continues_on_further_sheets(tmp_path):
    """Excel holds 1,048,576 rows a sheet: a source file's rows beyond go on sheets name~2, name~3,
    each saying which rows it holds; together they are the file's rows in order."""
    n = 23
    big = pd.DataFrame(
        {
            "table": pd.Series(["touchpoints"] * n + ["visits"], dtype="str"),
            "source_file": pd.Series(["touchpoints.csv"] * n + ["visits.csv"], dtype="str"),
            "source_row": [*range(n, 0, -1), 4],
            "rule": pd.Series(["orphan_visit"] * (n + 1), dtype="str"),
            "reason": pd.Series(["no visit"] * (n + 1), dtype="str"),
            "raw": pd.Series([f'{{"i": {i}}}' for i in range(n + 1)], dtype="str"),
        }
    )
    for source in (big, _as_parquet(big, tmp_path / "q.parquet", 4)):
        cells = _cells(share.quarantine_workbook(source, tmp_path / "q.xlsx", sheet_rows=10))
        assert list(cells) == ["touchpoints.csv", "touchpoints.csv~2", "touchpoints.csv~3", "visits.csv"]
        body = {name: [r for r in rows[4:]] for name, rows in cells.items()}
        assert [len(body[s]) for s in cells] == [10, 10, 3, 1]
        rows = [r[2] for s in list(cells)[:3] for r in body[s]]
        assert rows == list(range(1, n + 1))  # the file's rows in order across its sheets
        assert "part 2 of 3, rows 11–20" in cells["touchpoints.csv~2"][1][0]
        assert "part" not in cells["visits.csv"][1][0]


def test_the_workbook_of_no_quarantined_row_from_a_parquet_file(tmp_path):
    src = _as_parquet(QUARANTINE.iloc[:0], tmp_path / "none.parquet", 2)
    assert list(_cells(share.quarantine_workbook(src, tmp_path / "none.xlsx"))) == ["无隔离行 none"]
