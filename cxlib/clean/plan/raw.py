"""Raw tables loaded into the plan's database, file by file.

A plain UTF-8 CSV file (the header row first, no value maps in its source profile) is read by
DuckDB's own parallel CSV reader, every column as text, after the workbench's reader has
checked its first block (encoding, header, column mapping); any other file (GBK text, XLSX,
XLS, Parquet, a file DuckDB's reader refuses) goes through the workbench's readers
(:mod:`cxlib.io`: encodings, headers, source profiles, the error of a broken file), CSV
streamed in blocks, so a table never sits in memory whole. ``raw_<table>`` is a view of the
parts with the row number ``cx__r``, file ``cx__f`` (index into :attr:`RawTable.files`) and
source row ``cx__row`` of every row, its values as text.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog, io
from cxlib.clean.plan.values import quote, sql_text

R, F, ROW = "cx__r", "cx__f", "cx__row"
#: prefix of the carried extra columns in the ruled tables (no name of the plan starts so)
EXTRA = "cx_extra__"


@dataclass
class RawTable:
    """A raw table in the database: its name, file labels (by index), extra columns in order of
    first appearance with their headers (as ``quality.json`` lists them), rows read."""

    table: str
    files: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    headers: dict[str, dict] = field(default_factory=dict)
    n: int = 0
    #: the tables behind the view ``name``: the rows read by the workbench's readers first, then
    #: one table per file read by DuckDB, with the first row number of that file, its index and
    #: the columns it has
    parts: list[tuple[str, int, int, list[str]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"raw_{self.table}"

    @property
    def blocks(self) -> str:
        """The table of the rows read by the workbench's readers (explicit row numbers)."""
        return f"raw_{self.table}__blocks"

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the view and its tables.

        >>> raw.drop(con)  # doctest: +SKIP
        """
        con.execute(f"DROP VIEW IF EXISTS {self.name}")
        con.execute(f"DROP TABLE IF EXISTS {self.blocks}")
        for part, *_ in self.parts:
            con.execute(f"DROP TABLE IF EXISTS {part}")

    def extra_columns(self) -> list[dict]:
        """The extra columns as :func:`cxlib.io.read_table` describes them."""
        return [self.headers.get(n, {"name": n, "header": n, "file": None}) for n in self.extras]

    def rows(self, con: duckdb.DuckDBPyConnection):
        """A function giving the raw rows at positions ``idx`` (values as read, source file and
        row), for the quarantine table."""
        cols = [c.name for c in catalog.TABLES[self.table]]

        def raw_rows(idx: np.ndarray) -> pd.DataFrame:
            con.register("cx_rows", pa.table({"r": pa.array(np.asarray(idx, dtype=np.int64))}))
            df = con.execute(
                f"SELECT {', '.join('w.' + quote(c) for c in cols)}, w.{F} AS f, w.{ROW} AS source_row "
                f"FROM {self.name} w JOIN cx_rows x ON x.r = w.{R} ORDER BY w.{R}"
            ).fetch_df()
            con.unregister("cx_rows")
            out = pd.DataFrame({c: df[c].astype(object).where(df[c].notna(), None) for c in cols})
            names = np.array(self.files, dtype=object)
            out[io.SOURCE_FILE] = names[df["f"].to_numpy(dtype=np.int64)] if len(df) else np.array([], dtype=object)
            out[io.SOURCE_ROW] = df["source_row"].to_numpy(dtype=np.int64)
            return out

        return raw_rows


def _lines(path: Path) -> int:
    """The data lines of a CSV file if each ends with LF or CRLF (the header line not counted);
    -1 when a line ends otherwise (a carriage return alone) or a line is blank."""
    lf = cr = 0
    last = b"\n"
    blank = False
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            blank = blank or b"\n\n" in chunk or b"\n\r\n" in chunk or (last == b"\n" and chunk[:1] in (b"\n", b"\r"))
            last = chunk[-1:]
    if blank or (cr and cr != lf):
        return -1
    return lf - 1 + (last != b"\n")


class _LineCount(threading.Thread):
    """:func:`_lines` of a file in a thread of its own (reading releases the interpreter's lock)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.value: int | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.value = _lines(self.path)
        except BaseException as exc:  # re-raised by result()
            self.error = exc

    def result(self) -> int:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


def _duckdb_csv(con: duckdb.DuckDBPyConnection, raw: RawTable, path: Path, table: str, source) -> bool:
    """Read a plain UTF-8 CSV file with DuckDB's parallel reader into a part of ``raw``; False
    (nothing read) when the file is not one (another encoding, title rows, value maps, a header
    DuckDB would fold) or DuckDB's reader refuses it: the workbench's readers read it then,
    with their precise error if it is broken."""
    lay = io.source_layout(source)
    if lay["header_row"] != 1 or lay["skip_rows"]:
        return False
    read_opts, _, _, encoding = io.csv_options(path, table not in ("touchpoints", "visits"))
    if not encoding.startswith("utf-8"):
        return False
    headers = read_opts.column_names
    plan = io.plan_columns(headers, table, path, source=source)
    if plan.error() is not None:
        raise plan.error()
    if plan.values or any(h.startswith("_unnamed_") for h, _ in plan.extras):
        return False
    by_target = {t: i for i, t in enumerate(plan.targets) if t is not None}
    cols = [
        f"c{by_target[c.name]} AS {quote(c.name)}" if c.name in by_target else f"NULL::VARCHAR AS {quote(c.name)}"
        for c in catalog.TABLES[table]
    ]
    cols += [f"c{by_target[name]} AS {quote(name)}" for name, _ in plan.extras]
    spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    part = f"raw_{table}__{len(raw.parts)}"
    # the file's lines are counted beside DuckDB's read of it (both read the same pages)
    lines = _LineCount(path) if table in ("touchpoints", "visits") else None
    try:
        con.execute(f"""
            CREATE OR REPLACE TABLE {part} AS SELECT {", ".join(cols)}
            FROM read_csv({sql_text(str(path))}, header = true, auto_detect = false, columns = {spec},
                          delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false,
                          encoding = 'utf-8')""")
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS {part}")
        return False
    n = con.execute(f"SELECT count(*) FROM {part}").fetchall()[0][0]
    if lines is not None and n != lines.result():
        # a line break inside a value, a blank line: the workbench's reader (one row per line
        # in these tables) decides what they are
        con.execute(f"DROP TABLE {part}")
        return False
    f = len(raw.files)
    raw.files.append(path.name)
    raw.parts.append((part, raw.n, f, [c.name for c in catalog.TABLES[table]] + [name for name, _ in plan.extras]))
    raw.n += n
    for name, header in plan.extras:
        if name not in raw.extras:
            raw.extras.append(name)
        raw.headers.setdefault(name, {"name": name, "header": header, "file": path.name})
    return True


def load(con: duckdb.DuckDBPyConnection, table: str, files: list[Path], source, block_bytes: int) -> RawTable:
    """Read the files of ``table`` into the view ``raw_<table>``; plain UTF-8 CSV by DuckDB's
    reader, other CSV in blocks of ``block_bytes``.

    Files labelled as :func:`cxlib.io.read_table` labels them (``file[sheet]`` when sheets are
    stacked), except the touchpoint log, whose rows are labelled by file name as its streaming
    reader does.

    >>> load(con, "visits", [Path("data/raw/visits.csv")], None, 1 << 25).n  # doctest: +SKIP
    """
    value_cols = [c.name for c in catalog.TABLES[table]]
    raw = RawTable(table)
    cols = ", ".join(f"{quote(c)} VARCHAR" for c in value_cols)
    con.execute(f"CREATE OR REPLACE TABLE {raw.blocks} ({R} BIGINT, {F} INTEGER, {ROW} BIGINT, {cols})")
    block_extras: list[str] = []

    def add(batch: pa.Table, f: np.ndarray, rows: np.ndarray, file_name: str) -> None:
        k = batch.num_rows
        data = {
            R: pa.array(np.arange(raw.n, raw.n + k, dtype=np.int64)),
            F: pa.array(f.astype(np.int32)),
            ROW: pa.array(rows.astype(np.int64)),
        }
        for c in batch.column_names:
            data[c] = batch[c].cast(pa.string())
            if c not in value_cols and c not in block_extras:
                block_extras.append(c)
                con.execute(f"ALTER TABLE {raw.blocks} ADD COLUMN {quote(c)} VARCHAR")
            if c not in value_cols and c not in raw.extras:
                raw.extras.append(c)
        meta = (batch.schema.metadata or {}).get(b"cx_extras")
        for name, header in json.loads(meta) if meta else []:
            raw.headers.setdefault(name, {"name": name, "header": header, "file": file_name})
        con.register("cx_batch", pa.table(data))
        con.execute(f"INSERT INTO {raw.blocks} BY NAME SELECT * FROM cx_batch")
        con.unregister("cx_batch")
        raw.n += k

    for path in files:
        if (
            path.suffix.lower() == ".csv"
            and path.is_file()
            and path.stat().st_size
            and _duckdb_csv(con, raw, path, table, source)
        ):
            continue
        if path.suffix.lower() == ".csv" or table == "touchpoints":
            f = len(raw.files)
            raw.files.append(path.name)
            start, first = raw.n, 1
            try:
                for batch in io.iter_file_batches(path, table, block_size=block_bytes, source=source):
                    k = batch.num_rows
                    add(batch, np.full(k, f), np.arange(first, first + k), path.name)
                    first += k
            except io.RestartFile:
                con.execute(f"DELETE FROM {raw.blocks} WHERE {F} = {f}")
                raw.n = start
                batch = io.read_file_arrow(path, table, source)
                add(batch, np.full(batch.num_rows, f), np.arange(1, batch.num_rows + 1), path.name)
            continue
        df = io.read_file(path, table, source)
        for e in df.attrs.get("extra_columns", []):
            raw.headers.setdefault(e["name"], e)
        labels = list(df[io.SOURCE_FILE].cat.categories)
        base = len(raw.files)
        raw.files.extend(labels)
        codes = df[io.SOURCE_FILE].cat.codes.to_numpy().astype(np.int64) + base
        rows = df[io.SOURCE_ROW].to_numpy(dtype=np.int64)
        body = df.drop(columns=[io.SOURCE_FILE, io.SOURCE_ROW])
        batch = pa.table({c: pa.array(body[c], from_pandas=True, type=pa.string()) for c in body.columns})
        del df, body
        add(batch, codes, rows, path.name)
    pa.default_memory_pool().release_unused()  # the blocks read are in the database now
    # one view of the parts, every column listed (NULL where a part lacks an extra column): a
    # part read by DuckDB numbers its rows by their order in the file (the table's rowid: DuckDB
    # keeps the insertion order)
    names = value_cols + raw.extras

    def listed(have: list[str]) -> str:
        return ", ".join(quote(c) if c in have else f"CAST(NULL AS VARCHAR) AS {quote(c)}" for c in names)

    selects = [f"SELECT {R}, {F}, {ROW}, {listed(value_cols + block_extras)} FROM {raw.blocks}"]
    selects += [
        f"SELECT rowid + {base} AS {R}, CAST({f} AS INTEGER) AS {F}, rowid + 1 AS {ROW}, {listed(have)} FROM {part}"
        for part, base, f, have in raw.parts
    ]
    con.execute(f"CREATE OR REPLACE TEMP VIEW {raw.name} AS " + " UNION ALL ".join(selects))
    return raw


def extras_sql(con: duckdb.DuckDBPyConnection, raw: RawTable, alias: str = "w") -> tuple[str, str, str]:
    """SQL carrying the extra columns of ``raw`` (rows aliased ``alias``): (select expressions
    ``, "col"…`` with the trimmed text, personal data masked; the lookup joins; a boolean
    that is true where any value was masked).

    >>> extras_sql(con, raw_visits)  # doctest: +SKIP
    """
    from cxlib.clean.plan.values import mask_lookup

    selects, joins, changed = [], [], []
    for c in raw.extras:
        text = f"cx_trim({alias}.{quote(c)})"
        m = mask_lookup(con, f"{raw.name} {alias}", c, expr=text)
        selects.append(f", coalesce({m}.masked, {text}) AS {quote(EXTRA + c)}")
        joins.append(f"LEFT JOIN {m} ON {m}.text = {text}")
        changed.append(f"{m}.text IS NOT NULL")
    return "".join(selects), " ".join(joins), " OR ".join(changed) or "false"
