"""Raw tables loaded into the plan's database, file by file and block by block.

The files are read by the reference readers (:mod:`cxlib.io`: encodings, headers, source
profiles, the error of a broken file), CSV streamed in blocks, so a table never sits in
memory whole; each block is appended to ``raw_<table>`` as text, with its row number
``cx__r``, file ``cx__f`` (index into :attr:`RawTable.files`) and source row ``cx__row``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog, io
from cxlib.clean.plan.values import quote

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

    @property
    def name(self) -> str:
        return f"raw_{self.table}"

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


def load(con: duckdb.DuckDBPyConnection, table: str, files: list[Path], source, block_bytes: int) -> RawTable:
    """Read the files of ``table`` into ``raw_<table>``; CSV in blocks of ``block_bytes``.

    Files labelled as :func:`cxlib.io.read_table` labels them (``file[sheet]`` when sheets are
    stacked), except the touchpoint log, whose rows are labelled by file name as its streaming
    reader does.

    >>> load(con, "visits", [Path("data/raw/visits.csv")], None, 1 << 25).n  # doctest: +SKIP
    """
    value_cols = [c.name for c in catalog.TABLES[table]]
    raw = RawTable(table)
    cols = ", ".join(f"{quote(c)} VARCHAR" for c in value_cols)
    con.execute(f"CREATE OR REPLACE TABLE {raw.name} ({R} BIGINT, {F} INTEGER, {ROW} BIGINT, {cols})")

    def add(batch: pa.Table, f: np.ndarray, rows: np.ndarray, file_name: str) -> None:
        k = batch.num_rows
        data = {
            R: pa.array(np.arange(raw.n, raw.n + k, dtype=np.int64)),
            F: pa.array(f.astype(np.int32)),
            ROW: pa.array(rows.astype(np.int64)),
        }
        for c in batch.column_names:
            data[c] = batch[c].cast(pa.string())
            if c not in value_cols and c not in raw.extras:
                raw.extras.append(c)
                con.execute(f"ALTER TABLE {raw.name} ADD COLUMN {quote(c)} VARCHAR")
        meta = (batch.schema.metadata or {}).get(b"cx_extras")
        for name, header in json.loads(meta) if meta else []:
            raw.headers.setdefault(name, {"name": name, "header": header, "file": file_name})
        con.register("cx_batch", pa.table(data))
        con.execute(f"INSERT INTO {raw.name} BY NAME SELECT * FROM cx_batch")
        con.unregister("cx_batch")
        raw.n += k

    for path in files:
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
                con.execute(f"DELETE FROM {raw.name} WHERE {F} = {f}")
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
