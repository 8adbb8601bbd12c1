"""Fuzzed raw files: one table of the small data set replaced by a generated CSV, XLSX or
Parquet file (headers from the contract's English and Chinese names plus junk, cells of any
text, numbers, dates, control characters, empty; CSV in UTF-8, UTF-8 with BOM or GBK; Parquet
columns of many Arrow types). Whatever the file, `cx clean` either cleans it with every row
accounted for (read = kept + quarantined, for every table) or stops with one line
`cx: error: ...` and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import TABLES, write_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cxlib import catalog, cli

pytestmark = pytest.mark.slow  # about a minute in all (run by make test)

# deterministic in CI; CX_FUZZ_EXAMPLES=2000 runs a longer, random search
_LONG = int(os.environ.get("CX_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_LONG or 60,
    deadline=None,
    derandomize=not _LONG,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ cell values
_TS_SHAPES = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S+08:00",
    "%Y-%m-%dT%H:%M:%S-05:30",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M",
]
_JUNK = st.sampled_from(
    [
        "",
        " ",
        "NaN",
        "null",
        "None",
        "-",
        "#DIV/0!",
        "#N/A",
        "9分",
        "十",
        "是",
        "否",
        "Y",
        "n",
        "１０",
        "1e400",
        "-1e308",
        "inf",
        "-0",
        "0x1F",
        "4.6e+04",
        "99999999999999999999",
        "2026-02-30T10:00:00",
        "2026-13-01",
        "0000-01-01",
        "9999-12-31T23:59:59",
        "46298.375",
        "-46298",
        "1e20",
        "2026-10-03T09:00:00+25:00",
        "=1+1",
        "'",
        '"',
        "\\",
        "TEST001",
        "STAFF9",
        "sh-jq",
        " 上海金桥 ",
        "V1",
        "V2",
        "R1",
        "K1",
        "progress_push",
        "进度实时推送",
        "13912345678",
        "\u200b",
        "\ufeff",
        "\x00",
        "\x1b[31m",
        "\r",
        "\n",
        "a,b",
        '"quoted"',
        "𠀀",
        "🚗",
        "é" * 50,
        "x" * 500,
    ]
)


@st.composite
def timestamps(draw) -> str:
    t = draw(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)))
    return t.strftime(draw(st.sampled_from(_TS_SHAPES)))


def cell_text(kind: str) -> st.SearchStrategy[str | None]:
    typed = {
        "str": st.text(max_size=12),
        "int": st.integers(-20, 20).map(str),
        "float": st.floats(allow_nan=True, allow_infinity=True).map(repr),
        "bool": st.sampled_from(["true", "false", "1", "0", "yes", "no", "是", "否", "Y", "N", "maybe"]),
        "timestamp": st.one_of(timestamps(), st.floats(-1e6, 1e6).map(repr)),
        "date": st.dates(min_value=dt.date(1900, 1, 1)).map(str),
    }[kind]
    return st.one_of(st.none(), typed, _JUNK, st.text(alphabet=st.characters(codec="utf-8"), max_size=20))


def _kinds(table: str) -> dict[str, str]:
    return {c.name: c.kind for c in catalog.TABLES[table]}


def _kind(table: str, col: str) -> str:
    return "int" if col in ("ltr",) or col.startswith("score_") else _kinds(table).get(col, "str")


@st.composite
def raw_table(draw, table: str) -> tuple[list[str], list[list[str | None]]]:
    """Headers (English, Chinese, odd spellings, junk, some dropped) and rows of one table,
    built from the small data set's rows with cells replaced by generated values."""
    base = TABLES[table]
    zh = {c.name: c.zh for c in catalog.TABLES[table]}
    headers, sources = [], []
    for col in base.columns:
        # mostly the contract's names, sometimes a dropped or garbled header (a clear error then)
        how = draw(st.sampled_from(["en"] * 8 + ["zh"] * 7 + ["case", "drop", "junk"]))
        if how == "drop":
            continue
        name = {
            "en": col,
            "zh": zh.get(col, col),
            "case": f" {col.upper()} ",
            "junk": draw(st.text(min_size=1, max_size=8)),
        }[how]
        headers.append(name)
        sources.append(col)
    for _ in range(draw(st.integers(0, 2))):
        headers.append(draw(st.one_of(st.text(max_size=8), st.sampled_from(["备注", "note", "Unnamed: 0"]))))
        sources.append(None)
    rows = []
    n = draw(st.integers(0, 6))
    for i in range(n):
        src = base.iloc[i % len(base)]
        row = []
        for s in sources:
            if s is None:
                row.append(draw(cell_text("str")))
            elif draw(st.integers(0, 3)) == 0:
                row.append(draw(cell_text(_kind(table, s))))
            else:
                v = src[s]
                row.append(None if v == "" else str(v))
        rows.append(row)
    return headers, rows


def _expect_rows(rows: list[list[str | None]]) -> int:
    """Rows a reader must report: trailing rows without any value are not data in a sheet."""
    n = len(rows)
    while n and all(v is None or v == "" for v in rows[n - 1]):
        n -= 1
    return n


# ------------------------------------------------------------------ running cx clean
def _clean(raw: Path, out: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["clean", str(raw), str(out)])
    return code, err.getvalue()


def _check(raw: Path, table: str, expected_rows: int | None) -> dict:
    out = raw.parent / "processed"
    code, err = _clean(raw, out)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("cx: error: "), err
        return {}
    assert code == 0, err
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    for name, q in quality["tables"].items():
        assert q["read"] == q["kept"] + q["quarantined"], (name, q)
    if expected_rows is not None:
        assert quality["tables"][table]["read"] == expected_rows
    return quality


@contextlib.contextmanager
def _raw_folder(table: str):
    tmp = Path(tempfile.mkdtemp(prefix="cx-fuzz-"))
    try:
        raw = write_raw(tmp / "raw")
        (raw / f"{table}.csv").unlink()
        yield raw
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TABLE_NAMES = st.sampled_from(sorted(TABLES))


# ------------------------------------------------------------------ CSV
def _csv_bytes(headers, rows, encoding: str, newline: str, quoting: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline, quoting=quoting)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    text = buf.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@FUZZ
@given(
    table=TABLE_NAMES,
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    damage=st.one_of(st.none(), st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=6))),
)
def test_fuzzed_csv_cleans_or_fails_in_one_line(table, data, encoding, newline, quoting, damage):
    headers, rows = data.draw(raw_table(table))
    content = _csv_bytes(headers, rows, encoding, newline, quoting)
    if damage is not None:  # bytes of any kind at any place: the rows can no longer be counted
        at = damage[0] % (len(content) + 1)
        content = content[:at] + damage[1] + content[at:]
    with _raw_folder(table) as raw:
        (raw / f"{table}.csv").write_bytes(content)
        # a line break inside a value, or a lone \r inside one, makes the count the parser's business
        plain = damage is None and not any(v and ("\n" in v or "\r" in v) for r in rows for v in r)
        _check(raw, table, len(rows) if plain and newline != "\r" else None)


# ------------------------------------------------------------------ XLSX
def _xlsx_value(v: str | None, draw):
    if v is None:
        return None
    how = draw(st.integers(0, 5))
    if how == 0:
        try:
            x = float(v)
            return int(x) if x.is_integer() and abs(x) < 2**53 else x
        except (ValueError, OverflowError):
            pass
    if how == 1:
        for shape in _TS_SHAPES[:3]:
            try:
                return dt.datetime.strptime(v, shape)
            except ValueError:
                pass
    if how == 2:
        return draw(
            st.one_of(
                st.booleans(),
                st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
                st.integers(-(10**6), 10**6),
            )
        )
    return ILLEGAL_CHARACTERS_RE.sub("", v)


@FUZZ
@given(
    table=TABLE_NAMES,
    data=st.data(),
    sheets=st.sampled_from(["one", "one", "empty second", "second with data"]),
    merge=st.booleans(),
)
def test_fuzzed_xlsx_cleans_or_fails_in_one_line(table, data, sheets, merge):
    headers, rows = data.draw(raw_table(table))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", h) for h in headers])
    cells = []
    for r in rows:
        values = [_xlsx_value(v, data.draw) for v in r]
        cells.append(values)
        ws.append(values)
    if merge and len(rows) >= 2 and headers:
        ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=1)
    if sheets == "empty second":
        wb.create_sheet("说明")
    elif sheets == "second with data":
        wb.create_sheet("说明").append(["导出自系统"])
    with _raw_folder(table) as raw:
        wb.save(raw / f"{table}.xlsx")
        expected = (
            None
            if merge
            else _expect_rows([[None if (isinstance(v, str) and not v.strip()) else v for v in r] for r in cells])
        )
        quality = _check(raw, table, expected)
        if sheets == "second with data":
            assert quality == {}


# ------------------------------------------------------------------ Parquet
def _arrow_column(values: list[str | None], kind: str, draw) -> pa.Array:
    n = len(values)

    def floats():
        out = []
        for v in values:
            try:
                out.append(float(v) if v is not None else None)
            except ValueError:
                out.append(None)
        return out

    if kind == "string":
        return pa.array(values, type=pa.string())
    if kind == "large_string":
        return pa.array(values, type=pa.large_string())
    if kind == "dictionary":
        return pa.array(values, type=pa.string()).dictionary_encode()
    if kind == "binary":
        return pa.array([None if v is None else v.encode("utf-8") for v in values], type=pa.binary())
    if kind == "bad_binary":
        return pa.array([b"\xff\xfe" + (v or "").encode() for v in values], type=pa.binary())
    if kind == "float64":
        return pa.array(floats(), type=pa.float64())
    if kind == "int64":
        return pa.array(
            [int(x) if x is not None and x == x and abs(x) < 2**62 else None for x in floats()], type=pa.int64()
        )
    if kind == "decimal":
        return pa.array(
            [decimal.Decimal(draw(st.integers(-(10**6), 10**6))) / 100 for _ in range(n)], type=pa.decimal128(12, 2)
        )
    if kind == "bool":
        return pa.array(draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=n, max_size=n)), type=pa.bool_())
    if kind in ("timestamp", "timestamp_tz"):
        unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
        lo, hi = (
            (dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31)) if unit == "ns" else (dt.datetime.min, dt.datetime.max)
        )
        ts = draw(
            st.lists(
                st.one_of(
                    st.none(),
                    st.datetimes(min_value=lo, max_value=hi),
                    st.sampled_from([lo, hi]),
                    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)),
                ),
                min_size=n,
                max_size=n,
            )
        )
        tz = draw(st.sampled_from(["Asia/Shanghai", "UTC", "+05:30", "-11:00"])) if kind == "timestamp_tz" else None
        return pa.array(ts, type=pa.timestamp(unit, tz=tz))
    if kind == "date":
        return pa.array(draw(st.lists(st.one_of(st.none(), st.dates()), min_size=n, max_size=n)), type=pa.date32())
    if kind == "null":
        return pa.nulls(n)
    if kind == "list":
        return pa.array([[v] for v in values], type=pa.list_(pa.string()))
    if kind == "struct":
        return pa.array([{"v": v} for v in values], type=pa.struct([("v", pa.string())]))
    raise AssertionError(kind)


PARQUET_KINDS = ["string"] * 20 + [
    "large_string",
    "dictionary",
    "binary",
    "float64",
    "int64",
    "decimal",
    "bool",
    "timestamp",
    "timestamp_tz",
    "date",
    "null",
    "bad_binary",
    "list",
    "struct",
]


@FUZZ
@given(table=TABLE_NAMES, data=st.data())
def test_fuzzed_parquet_cleans_or_fails_in_one_line(table, data):
    headers, rows = data.draw(raw_table(table))
    columns, names = [], []
    for j, h in enumerate(headers):
        kind = data.draw(st.sampled_from(PARQUET_KINDS))
        columns.append(_arrow_column([r[j] for r in rows], kind, data.draw))
        names.append(h)
    with _raw_folder(table) as raw:
        pq.write_table(pa.table(columns, names=names), raw / f"{table}.parquet")
        _check(raw, table, len(rows))


# ------------------------------------------------------------------ a real process
REAL = [
    ("visits.parquet", lambda p: pq.write_table(pa.table({"工单号": pa.array([["V1"]]), "x": [1]}), p)),
    ("visits.csv", lambda p: p.write_bytes(b"visit_id,customer_id\n" + bytes(range(256)) * 4)),
    ("visits.xlsx", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 200)),
    (
        "surveys.parquet",
        lambda p: pq.write_table(
            pa.table({"response_id": pa.array([b"\xff"], pa.binary()), "visit_id": ["V1"], "submitted_at": ["x"]}), p
        ),
    ),
    ("complaints.csv", lambda p: p.write_bytes(b"complaint_id,visit_id,filed_at\nK1,V1\n")),
]


@pytest.mark.parametrize("name, write", REAL, ids=[r[0] for r in REAL])
def test_broken_files_in_a_real_process_print_one_line(tmp_path, name, write):
    raw = write_raw(tmp_path / "raw")
    (raw / f"{name.split('.')[0]}.csv").unlink()
    write(raw / name)
    proc = subprocess.run(
        [sys.executable, "-m", "cxlib.cli", "clean", str(raw), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"cx: error: {name}") and "Traceback" not in proc.stderr
    ), proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ------------------------------------------------------------------ a table split over files
@contextlib.contextmanager
def _event_blocks(size: int):
    """Stream the event log in blocks of ``size`` bytes (many blocks even for a small file)."""
    from cxlib import clean

    old = clean.EVENT_BLOCK_BYTES
    clean.EVENT_BLOCK_BYTES = size
    try:
        yield
    finally:
        clean.EVENT_BLOCK_BYTES = old


@settings(FUZZ, max_examples=_LONG or 40)
@given(
    table=TABLE_NAMES,
    data=st.data(),
    block=st.sampled_from([1 << 25, 4096, 300]),
    formats=st.lists(st.sampled_from(["csv", "csv", "xlsx", "parquet"]), min_size=2, max_size=3),
)
def test_fuzzed_split_tables_clean_or_fail_in_one_line(table, data, block, formats):
    """A table split over files of different formats and encodings (visits_2026-10.csv,
    visits_2026-11.xlsx, ...), read together; the event log streamed in small blocks."""
    with _raw_folder(table) as raw, _event_blocks(block):
        expected: int | None = 0
        for k, fmt in enumerate(formats):
            n = _write_file(raw / f"{table}_2026-{10 + k}.{fmt}", data.draw(raw_table(table)), data.draw)
            expected = None if expected is None or n is None else expected + n
        _check(raw, table, expected)


def _write_file(path: Path, table: tuple[list[str], list[list[str | None]]], draw) -> int | None:
    """Write generated headers and rows as ``path`` (format by its extension); return the
    number of data rows a reader must find (None when a line break in a value blurs it)."""
    headers, rows = table
    rows = [[None if v is None else ILLEGAL_CHARACTERS_RE.sub("", v) for v in r] for r in rows]
    if path.suffix == ".csv":
        path.write_bytes(
            _csv_bytes(headers, rows, draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"])), "\n", csv.QUOTE_MINIMAL)
        )
        return None if any(v and ("\n" in v or "\r" in v) for r in rows for v in r) else len(rows)
    if path.suffix == ".xlsx":
        wb = openpyxl.Workbook()
        wb.active.append([ILLEGAL_CHARACTERS_RE.sub("", h) for h in headers])
        for r in rows:
            wb.active.append(r)
        wb.save(path)
        return _expect_rows([[None if v is None or not v.strip() else v for v in r] for r in rows])
    kinds = [draw(st.sampled_from(PARQUET_KINDS)) for _ in headers]
    pq.write_table(
        pa.table([_arrow_column([r[j] for r in rows], kind, draw) for j, kind in enumerate(kinds)], names=headers), path
    )
    return len(rows)


@settings(FUZZ, max_examples=_LONG or 4)
@given(table=TABLE_NAMES, data=st.data(), fmt=st.sampled_from(["csv", "xlsx", "parquet"]))
def test_fuzzed_files_in_a_real_process(table, data, fmt):
    """Generated files through ``cx clean`` in a child process: its stderr holds no traceback."""
    with _raw_folder(table) as raw:
        n = _write_file(raw / f"{table}.{fmt}", data.draw(raw_table(table)), data.draw)
        out = raw.parent / "processed"
        proc = subprocess.run(
            [sys.executable, "-m", "cxlib.cli", "clean", str(raw), str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr
        if proc.returncode == 2:
            assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("cx: error: "), proc.stderr
            return
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))["tables"]
        assert all(q["read"] == q["kept"] + q["quarantined"] for q in quality.values())
        assert n is None or quality[table]["read"] == n
