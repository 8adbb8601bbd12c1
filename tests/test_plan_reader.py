"""The plan reads a plain UTF-8 CSV file with DuckDB's own reader exactly as the workbench's
reader reads it: any file DuckDB's reader takes gives the same rows, values and row numbers;
the others go through the workbench's reader (its values, its errors)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import catalog, io
from cxlib.clean.plan import db as plan_db
from cxlib.clean.plan import raw as plan_raw
from cxlib.errors import DataError

_CELL = st.text(alphabet=st.sampled_from(list('ab1 ,"\r\n\t中\u3000\xa0-:') + ["é"]), max_size=6)


def _reference(path: Path, table: str) -> tuple[list[str] | None, list[tuple]] | None:
    """(columns, rows) as the workbench's streaming reader gives them; None when it refuses."""
    try:
        batches = list(io.iter_file_batches(path, table, block_size=1 << 16))
    except (DataError, io.RestartFile):
        return None
    if not batches:  # a header and no rows
        return None, []
    at = pa.concat_tables(batches, promote_options="permissive") if len(batches) > 1 else batches[0]
    return at.column_names, [tuple(r.values()) for r in at.to_pylist()]


def _plan(tmp: Path, path: Path, table: str) -> tuple[bool, list[str], list[tuple], list[int]]:
    """(read by DuckDB?, columns, rows, source rows) as the plan loads the file."""
    with plan_db.database(tmp / "db") as con:
        raw = plan_raw.load(con, table, [path], None, 1 << 16)
        by_duckdb = bool(raw.parts)
        cols = [c.name for c in catalog.TABLES[table]] + raw.extras
        rows = con.execute(
            f"SELECT {', '.join(plan_raw.quote(c) for c in cols)}, cx__row FROM {raw.name} ORDER BY cx__r"
        ).fetchall()
    return by_duckdb, cols, [r[:-1] for r in rows], [r[-1] for r in rows]


@pytest.mark.parametrize("table", ["touchpoints", "surveys"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(_CELL, min_size=5, max_size=6), max_size=6),
    bom=st.booleans(),
    quoted=st.booleans(),
    crlf=st.booleans(),
    extra=st.booleans(),
)
def test_duckdb_reader_reads_as_the_workbench_reader(tmp_path, table, rows, bom, quoted, crlf, extra):
    header = [c.name for c in catalog.TABLES[table]][:5] + (["备注"] if extra else [])

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quoted or any(ch in v for ch in ',"\r\n') else v

    end = "\r\n" if crlf else "\n"
    text = end.join(",".join(cell(v) for v in r[: len(header)]) for r in [header, *rows]) + end
    path = tmp_path / f"{table}.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    ref = _reference(path, table)
    try:
        by_duckdb, cols, got, source_rows = _plan(tmp_path, path, table)
    except DataError:
        assert ref is None  # the workbench's reader refuses the file too
        return
    if by_duckdb:
        assert ref is not None, "DuckDB's reader took a file the workbench's reader refuses"
    if ref is not None:
        ref_cols, ref_rows = ref
        assert ref_cols is None or cols == ref_cols
        assert got == ref_rows
        assert source_rows == list(range(1, len(ref_rows) + 1))


def test_plain_csv_is_read_by_duckdb_and_others_by_the_workbench_reader(tmp_path):
    plain = tmp_path / "touchpoints.csv"
    plain.write_text(
        "visit_id,ts,touchpoint,channel,photo\nV1,2026-05-01 10:00:00,T01,app,\nV2, 2026-05-01 11:00 ,T02,,true\n",
        encoding="utf-8",
    )
    by_duckdb, _, rows, source_rows = _plan(tmp_path, plain, "touchpoints")
    assert by_duckdb and rows == [
        ("V1", "2026-05-01 10:00:00", "T01", "app", None),
        ("V2", " 2026-05-01 11:00 ", "T02", None, "true"),
    ]
    assert source_rows == [1, 2]
    gbk = tmp_path / "gbk" / "touchpoints.csv"
    gbk.parent.mkdir()
    gbk.write_bytes("visit_id,ts,touchpoint,channel,photo\nV1,2026-05-01 10:00:00,维修开始,app,\n".encode("gb18030"))
    by_duckdb, _, rows, _ = _plan(tmp_path, gbk, "touchpoints")
    assert not by_duckdb and rows == [("V1", "2026-05-01 10:00:00", "维修开始", "app", None)]
    # a ragged row: the workbench's reader gives its error, naming the row
    bad = tmp_path / "bad" / "touchpoints.csv"
    bad.parent.mkdir()
    bad.write_text("visit_id,ts,touchpoint,channel,photo\nV1,2026-05-01 10:00:00,T01,app,\nV2,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2"):
        _plan(tmp_path, bad, "touchpoints")
