"""Readers for the raw tables of the data contract.

Every raw file is read with all columns as text (the cleaning step decides what a value
means), its headers mapped to canonical names (Chinese export headers included), and every
row tagged with where it came from: ``_source_file`` (the file name) and ``_source_row``
(1-based data row in that file, header excluded).

CSV files may be UTF-8, UTF-8 with BOM or GB18030/GBK (detected); XLSX and Parquet are read
too. A table may be split over several files whose names start with the table name
(``visits.csv``, ``visits_2026-10.csv``, …): they are read in sorted order and stacked.

A file that breaks the contract raises :class:`cxlib.errors.DataError` naming the file and,
where it applies, the column.

Example
-------
>>> from cxlib import io
>>> visits = io.read_table("data/raw", "visits")        # doctest: +SKIP
>>> visits[["visit_id", "_source_file", "_source_row"]].head(1)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxlib import catalog
from cxlib.errors import DataError

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"

_HEAD_BYTES = 1 << 16
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an XLSX workbook?)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old binary Excel (.xls) file",
}


# --------------------------------------------------------------------------- headers
def _header_map(table: str) -> dict[str, str]:
    """Lower-cased header spelling -> canonical column name, for one table."""
    out: dict[str, str] = {}
    for col in catalog.TABLES[table]:
        for spelling in (col.name, col.zh, *col.aliases):
            out[spelling.strip().lower()] = col.name
    return out


def canonical_columns(columns: list[str], table: str, file: str | Path) -> list[str]:
    """Map raw headers (English, Chinese, any case, stray spaces) to canonical names.

    Unknown headers are kept as they are (and ignored later). Raises :class:`DataError` when
    a required column is missing, or when the header looks like it was split with another
    delimiter than the comma.

    >>> canonical_columns(["工单号", " Visit_ID "], "surveys", "s.csv")  # doctest: +SKIP
    """
    mapping = _header_map(table)
    name = Path(file).name
    out = []
    for c in columns:
        key = str(c).replace("\ufeff", "").strip().lower()
        out.append(mapping.get(key, str(c).strip()))
    seen = set(out)
    missing = [col.name for col in catalog.TABLES[table] if col.required and col.name not in seen]
    if missing:
        # a header that holds several canonical names joined by another delimiter
        for raw in columns:
            for delim, label in ((";", "semicolon ';'"), ("\t", "tab"), ("|", "pipe '|'")):
                parts = [p.strip().lower() for p in str(raw).replace("\ufeff", "").split(delim)]
                if len(parts) > 1 and sum(p in mapping for p in parts) >= 2:
                    raise DataError(
                        f"the header is one cell {str(raw)[:60]!r}: the file is separated by {label}, "
                        f"not by commas; export it as comma-separated CSV",
                        file=name, column=str(raw)[:60])
        zh = catalog.TABLES[table]
        labels = ", ".join(f"{m} ({next(c.zh for c in zh if c.name == m)})" for m in missing)
        raise DataError(f"required column missing from table {table}: {labels}; found columns "
                        f"{', '.join(map(str, columns)) or 'none'}", file=name, column=missing[0])
    dupes = sorted({c for c in out if out.count(c) > 1})
    if dupes:
        raise DataError(f"column {dupes[0]} appears more than once (English and Chinese header?)",
                        file=name, column=dupes[0])
    return out


# --------------------------------------------------------------------------- sniffing
def _sniff_binary(head: bytes, name: str) -> None:
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"not a CSV table: the file is {what}", file=name)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("the file is UTF-16 text (Excel's 'Unicode text'); save it as CSV UTF-8", file=name)
    nul = head.find(b"\x00", 0, 4096)
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + head.count(b"\r", 0, nul) - head.count(b"\r\n", 0, nul)
        raise DataError(f"not a CSV table: the file holds binary data (a NUL byte on line {line + 1})",
                        file=name)


def _detect_encoding(path: Path, head: bytes) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', judged from the first bytes of the file."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        # a multi-byte character may be cut at the end of the sample
        head.decode("utf-8") if len(head) < _HEAD_BYTES else head[:-4].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("gb18030") if len(head) < _HEAD_BYTES else head[:-4].decode("gb18030", errors="strict")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise DataError(f"undecodable bytes at byte {exc.start}: the file is neither UTF-8 nor "
                        "GB18030/GBK text", file=path.name) from None


def _csv_header(head_text: str) -> list[str]:
    # only CR / LF end a CSV line (str.splitlines also splits at form feeds and other separators)
    first = re.split(r"\r\n|\r|\n", head_text, maxsplit=1)[0] if head_text.strip() else ""
    return next(csv.reader([first]), [])


def _ragged_row(path: Path, encoding: str, width: int) -> tuple[int, int] | None:
    """(1-based data row, number of fields) of the first row whose width is not the header's."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        try:
            for i, row in enumerate(reader, start=1):
                if len(row) != width:
                    return i, len(row)
        except csv.Error:
            return None
    return None


def _csv_options(path: Path, multiline: bool) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions,
                                                        pacsv.ConvertOptions, str]:
    """Check the head of a CSV file and return the Arrow options to read it, and its encoding."""
    name = path.name
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise DataError("empty file: no header and no rows", file=name)
    _sniff_binary(head, name)
    encoding = _detect_encoding(path, head)
    text = head.decode(encoding, errors="ignore")
    header = _csv_header(text.lstrip("\ufeff"))
    if not header or all(not h.strip() for h in header):
        raise DataError("empty header line", file=name)
    header = [h if h.strip() else f"_unnamed_{i}" for i, h in enumerate(header)]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(f"column {dup} appears more than once in the header", file=name, column=dup)
    read_opts = pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24,
                                  encoding="utf8" if encoding.startswith("utf-8") else "gb18030")
    conv = pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                                quoted_strings_can_be_null=True, null_values=[""])
    # quoted line breaks only occur in free-text tables; allowing them costs parallel parsing
    parse = pacsv.ParseOptions(newlines_in_values=multiline)
    if encoding == "utf-8-sig":
        # pyarrow skips a UTF-8 BOM itself; the header was given explicitly
        read_opts.encoding = "utf8"
    return read_opts, parse, conv, encoding


def _read_csv(path: Path, multiline: bool = True) -> pa.Table:
    name = path.name
    read_opts, parse, conv, encoding = _csv_options(path, multiline)
    header = read_opts.column_names
    try:
        table = pacsv.read_csv(path, read_options=read_opts, parse_options=parse, convert_options=conv)
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "invalid UTF8" in msg or "UTF8" in msg and "invalid" in msg.lower():
            if encoding.startswith("utf-8"):
                # the sample was UTF-8 but a later part is not: try the Chinese Windows code page
                read_opts.encoding = "gb18030"
                try:
                    return pacsv.read_csv(path, read_options=read_opts, parse_options=parse,
                                          convert_options=conv)
                except (pa.ArrowInvalid, UnicodeDecodeError):
                    pass
            raise DataError("undecodable bytes: the file is neither UTF-8 nor GB18030/GBK text",
                            file=name) from None
        if "Expected" in msg and "columns" in msg:
            # the row itself is not quoted: it may hold personal data
            where = _ragged_row(path, encoding, len(header))
            if where is not None:
                raise DataError(f"rows do not have as many fields as the header ({len(header)}): this row has "
                                f"{where[1]}", file=name, row=where[0]) from None
            raise DataError(f"rows do not have as many fields as the header ({len(header)})", file=name) from None
        raise DataError(f"cannot read as CSV: {msg.splitlines()[0][:160]}", file=name) from None
    except UnicodeDecodeError:
        raise DataError("undecodable bytes: the file is neither UTF-8 nor GB18030/GBK text",
                        file=name) from None
    return table


def _cell_text(v: object) -> str | None:
    """One XLSX cell as text, keeping dates and Excel serial numbers recoverable."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _dt.datetime):
        return v.isoformat(timespec="seconds") if v.microsecond == 0 else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.isoformat()
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    s = str(v)
    return s if s.strip() else None


def _read_xlsx(path: Path) -> pa.Table:
    """The first sheet of a workbook as text columns (cached values of formulas; error cells such
    as ``#DIV/0!`` as their text). Other sheets must be empty: a table is one sheet."""
    name = path.name
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(64)
        if not head.strip():
            raise DataError("empty file: not an XLSX workbook", file=name)
        raise DataError("not an XLSX workbook (the file is not a zip archive)", file=name)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise DataError(f"not a readable XLSX workbook: {_first_line(exc)}", file=name) from None
    try:
        return _sheet_table(wb, name)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part of the zip shows only while reading
        raise DataError(f"not a readable XLSX workbook: {_first_line(exc)}", file=name) from None
    finally:
        wb.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _sheet_table(wb, name: str) -> pa.Table:
    if not wb.worksheets:
        raise DataError("the workbook has no worksheet", file=name)
    ws = wb.worksheets[0]
    others = [o.title for o in wb.worksheets[1:]
              if any(v is not None and str(v).strip() for r in o.iter_rows(values_only=True) for v in r)]
    if others:
        raise DataError(f"the workbook has data on more than one sheet ({ws.title}, {', '.join(others)}): "
                        "a table must be the only sheet with data; save each table to a file of its own",
                        file=name)
    rows = ws.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None or all(v is None for v in header_row):
        raise DataError("empty workbook: no header and no rows", file=name)
    header = [_cell_text(h) or f"_unnamed_{i}" for i, h in enumerate(header_row)]
    header = [h.strip() for h in header]
    width = len(header)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    for r in rows:
        if r is None or all(v is None for v in r):
            # keep row numbering: an empty row is still a row of the sheet
            vals = (None,) * width
        else:
            vals = tuple(r[:width]) + (None,) * (width - len(r))
        for i in range(width):
            cols[i].append(_cell_text(vals[i]))
    # trailing blank rows of a sheet are not data
    n = len(cols[0]) if cols else 0
    while n and all(c[n - 1] is None for c in cols):
        n -= 1
    # a list of names, not a dict: two columns with one header must not fold into one
    return pa.table([pa.array(c[:n], type=pa.string()) for c in cols], names=header)


_NESTED = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list, pa.types.is_struct,
           pa.types.is_map, pa.types.is_union, getattr(pa.types, "is_list_view", lambda t: False),
           getattr(pa.types, "is_large_list_view", lambda t: False))


def _first_bad_utf8(col: pa.ChunkedArray) -> int:
    """0-based row of the first value of a binary or string column that is not valid UTF-8."""
    row = 0
    for chunk in col.chunks:
        for v in chunk.cast(pa.large_binary()).to_pylist():
            if v is not None:
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError:
                    return row
            row += 1
    return 0


def arrow_text(col: pa.ChunkedArray | pa.Array, file: str, column: str) -> pa.ChunkedArray:
    """A typed Arrow column as the text a CSV export of it would hold (one shared rule for
    every typed source): dates and timestamps in ISO 8601, numbers as written, booleans as
    ``true``/``false``, dictionary values decoded. Nested values (lists, structs, maps) and
    bytes that are not UTF-8 text raise a :class:`DataError` naming the file, column and row.

    >>> arrow_text(pa.array([1.0, 2.5, None]), "x.parquet", "ltr").to_pylist()
    ['1', '2.5', None]
    """
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    t = col.type
    if pa.types.is_dictionary(t):
        return arrow_text(col.cast(t.value_type), file, column)
    if any(test(t) for test in _NESTED):
        raise DataError(f"the column holds nested values ({t}), not one value per cell", file=file, column=column)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) \
            or pa.types.is_fixed_size_binary(t) or getattr(pa.types, "is_string_view", lambda t: False)(t) \
            or getattr(pa.types, "is_binary_view", lambda t: False)(t):
        try:
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                for chunk in col.chunks:
                    chunk.validate(full=True)
            return col.cast(pa.string())
        except pa.ArrowInvalid:
            raise DataError("the column holds bytes that are not UTF-8 text", file=file, column=column,
                            row=_first_bad_utf8(col) + 1) from None
    if pa.types.is_timestamp(t):
        # Arrow formats any year (pandas' strftime fails beyond 9999); whole seconds when no
        # value has a fraction, local time with its offset when the column has a time zone
        if t.unit != "s":
            try:
                col = col.cast(pa.timestamp("s", tz=t.tz))  # a safe cast: refused if a fraction is lost
            except pa.ArrowInvalid:
                pass
        try:
            return pc.strftime(col, format="%Y-%m-%dT%H:%M:%S%z" if t.tz else "%Y-%m-%dT%H:%M:%S")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(f"the column holds timestamps in an unknown time zone {t.tz!r}", file=file,
                            column=column) from None
    if pa.types.is_floating(t):
        vals = col.to_numpy(zero_copy_only=False)
        return pa.chunked_array([pa.array([_cell_text(float(v)) if v == v else None for v in vals],
                                          type=pa.string())])
    if pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false").cast(pa.string())
    try:
        return col.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise DataError(f"the column holds values of type {t} that have no text form", file=file,
                        column=column) from None


def _read_parquet(path: Path, table: str) -> pa.Table:
    """The contract columns of a Parquet file as text (other columns are left out unread)."""
    name = path.name
    try:
        at = pq.ParquetFile(path).read()
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError on non-Parquet bytes
        raise DataError(f"not a readable Parquet file: {str(exc).splitlines()[0]}", file=name) from None
    names = canonical_columns(at.column_names, table, path)
    wanted = {c.name for c in catalog.TABLES[table]}
    keep = [i for i, n in enumerate(names) if n in wanted]
    arrays = [arrow_text(at.column(i), name, at.column_names[i]) for i in keep]
    return pa.table(arrays, names=[at.column_names[i] for i in keep])


# --------------------------------------------------------------------------- public
def read_file(path: str | Path, table: str | None = None) -> pd.DataFrame:
    """Read one raw file (CSV, XLSX or Parquet) with all values as text.

    ``table`` (inferred from the file name when omitted) selects the header mapping and the
    required columns. The result has canonical column names plus ``_source_file`` and
    ``_source_row``.

    >>> read_file("data/raw/visits_2026-10.csv").columns[:2].tolist()  # doctest: +SKIP
    ['visit_id', 'customer_id']
    """
    path = Path(path)
    if table is None:
        table = next((t for t in sorted(catalog.TABLES, key=len, reverse=True)
                      if path.name.lower().startswith(t)), None)
        if table is None:
            raise DataError(f"the file name does not start with a table name ({', '.join(catalog.TABLES)})",
                            file=path.name)
    at = _read_any(path, table)
    names = canonical_columns(at.column_names, table, path)
    at = at.rename_columns(names)
    n = at.num_rows
    wanted = [c.name for c in catalog.TABLES[table] if c.name in names]
    at = at.select(wanted)
    df = at.to_pandas(split_blocks=True, self_destruct=True)
    del at
    for c in catalog.TABLES[table]:
        if c.name not in df.columns:
            df[c.name] = pd.Series(pd.NA, index=df.index, dtype="str")
        elif df[c.name].dtype != "str":
            df[c.name] = df[c.name].astype("str")
    df = df[[c.name for c in catalog.TABLES[table]]]
    df[SOURCE_FILE] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[path.name])
    df[SOURCE_ROW] = np.arange(1, n + 1, dtype=np.int64)
    return df


def _canonical_table(at: pa.Table, names: list[str], table: str) -> pa.Table:
    """The canonical text columns of ``table`` in catalog order (absent optional ones all null)."""
    at = at.rename_columns(names)
    cols = []
    for c in catalog.TABLES[table]:
        if c.name in names:
            col = at[c.name]
            cols.append(col if col.type == pa.string() else col.cast(pa.string()))
        else:
            cols.append(pa.nulls(at.num_rows, type=pa.string()))
    return pa.table(cols, names=[c.name for c in catalog.TABLES[table]])


class RestartFile(Exception):
    """Raised by :func:`iter_file_batches` when a file must be read again as a whole."""


def iter_file_batches(path: str | Path, table: str, block_size: int = 1 << 24):
    """Read one raw file in batches: yields Arrow tables of the canonical text columns.

    CSV files are streamed block by block, so a large event log never sits in memory as a
    whole; other formats come as one batch. The values are those :func:`read_file` gives.
    When a CSV turns out to need another text encoding after some batches were yielded,
    :class:`RestartFile` is raised: read the file again with :func:`read_file_arrow`.

    >>> sum(b.num_rows for b in iter_file_batches("data/raw/touchpoints.csv", "touchpoints"))  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("empty file: no header and no rows", file=path.name)
    if path.suffix.lower() != ".csv":
        yield read_file_arrow(path, table)
        return
    multiline = table not in ("touchpoints", "visits")
    read_opts, parse, conv, _ = _csv_options(path, multiline)
    names = canonical_columns(read_opts.column_names, table, path)
    read_opts.block_size = block_size
    yielded = False
    try:
        reader = pacsv.open_csv(path, read_options=read_opts, parse_options=parse, convert_options=conv)
        for batch in reader:
            yielded = True
            yield _canonical_table(pa.Table.from_batches([batch]), names, table)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        if yielded:
            raise RestartFile(path.name) from None
        # the whole-file reader gives the precise error (or reads another encoding)
        yield read_file_arrow(path, table)


def _read_any(path: Path, table: str) -> pa.Table:
    """The file's cells as text columns with its own headers, whatever its format."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("empty file: no header and no rows", file=path.name)
    ext = path.suffix.lower()
    if ext == ".csv":
        at = _read_csv(path, multiline=table not in ("touchpoints", "visits"))
    elif ext == ".xlsx":
        at = _read_xlsx(path)
    elif ext == ".parquet":
        at = _read_parquet(path, table)
    else:
        raise DataError(f"unsupported file type {ext!r}; use .csv, .xlsx or .parquet", file=path.name)
    return at


def read_file_arrow(path: str | Path, table: str) -> pa.Table:
    """One raw file as an Arrow table of the canonical text columns of ``table`` (catalog order).

    >>> read_file_arrow("data/raw/touchpoints.parquet", "touchpoints").column_names[:2]  # doctest: +SKIP
    ['visit_id', 'ts']
    """
    path = Path(path)
    at = _read_any(path, table)
    return _canonical_table(at, canonical_columns(at.column_names, table, path), table)


def table_files(raw_dir: str | Path, table: str) -> list[Path]:
    """The raw files of one table: every ``.csv``/``.xlsx``/``.parquet`` whose name starts
    with the table name, sorted by name.

    >>> [p.name for p in table_files("data/raw", "visits")]  # doctest: +SKIP
    ['visits_2026-10.csv', 'visits_2026-11.csv']
    """
    raw_dir = Path(raw_dir)
    others = [t for t in catalog.TABLES if t != table and t.startswith(table)]
    out = []
    for p in sorted(raw_dir.iterdir(), key=lambda p: p.name):
        low = p.name.lower()
        if (p.is_file() and low.startswith(table) and p.suffix.lower() in catalog.RAW_EXTENSIONS
                and not low.startswith(("~$", ".")) and not any(low.startswith(o) for o in others)):
            out.append(p)
    return out


def existing_table_files(raw_dir: str | Path, table: str) -> list[Path]:
    """Like :func:`table_files`, but a clear :class:`DataError` when the folder or the table is missing.

    >>> [p.name for p in existing_table_files("data/raw", "touchpoints")]  # doctest: +SKIP
    ['touchpoints.parquet']
    """
    if table not in catalog.TABLES:
        raise DataError(f"unknown table {table!r}; tables are {', '.join(catalog.TABLES)}")
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError("raw data folder not found", file=str(raw_dir))
    files = table_files(raw_dir, table)
    if not files:
        raise DataError(f"table {table} is missing: no {table}.csv, {table}.xlsx or {table}.parquet "
                        f"(or {table}_*.csv …) in {raw_dir}", file=str(raw_dir))
    return files


def read_table(raw_dir: str | Path, table: str) -> pd.DataFrame:
    """Read every file of one raw table from ``raw_dir`` and stack them.

    Raises :class:`DataError` naming the table and folder when no file is found.

    >>> read_table("data/raw", "centers").shape[1]  # doctest: +SKIP
    8
    """
    files = existing_table_files(raw_dir, table)
    parts = [read_file(p, table) for p in files]
    if len(parts) == 1:
        return parts[0]
    names = [p.name for p in files]
    for part in parts:
        part[SOURCE_FILE] = part[SOURCE_FILE].cat.set_categories(names)
    out = pd.concat(parts, ignore_index=True)
    return out
