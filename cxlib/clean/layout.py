"""The layout of the processed Parquet files: rows ordered by center and month, in row groups
whose centers and months are recorded, so that a one-center (or one-month) read skips the rest.

Every processed table of visits and of what belongs to visits (scores, events, surveys,
complaints) is written, by every engine, in the same order: by the center of the visit, then
the month of its arrival, then the visit id, then the table's own order (the raw order of its
rows). The rows go into row groups of :data:`ROW_GROUP_ROWS`; the file's key-value metadata
:data:`KEYS_METADATA` lists per row group the (center, month) of its first and last row and its
lowest and highest month, which the lazy reads of :mod:`cxlib.clean.processed` compare with a
subset's center and months: the rows being in that order, a row group holds one center's month
only if that (center, month) lies between its first and last row's.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: rows of a row group of a processed table (the last one of a file holds the rest)
ROW_GROUP_ROWS = 100_000
#: the file metadata key of the row groups' centers and months
KEYS_METADATA = "cx_row_group_keys"
#: the tables written in visit order, and whether they carry the center and month themselves
VISIT_ORDERED = ("visits", "scores", "events", "surveys", "complaints")


class SortKeys(NamedTuple):
    """Where the rows of a frame go in the processed order, and their keys.

    ``order``: the frame's row positions in the processed order; ``center`` and ``month``: each
    row's (in the frame's order) codes into ``centers`` and ``months``, the sorted distinct
    values, a missing value coded ``len(...)`` (sorted last, as the plan's ``NULLS LAST``)."""

    order: np.ndarray
    center: np.ndarray
    month: np.ndarray
    centers: pd.Index
    months: pd.Index


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of ``values`` in the order of the sorted distinct values (missing ones last)."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes), pd.Index(uniques)


def sort_keys(frame: pd.DataFrame, visits: pd.DataFrame | None = None) -> SortKeys:
    """The processed order of ``frame``'s rows: by center, month and visit id (its own columns,
    or its visit's in ``visits`` when it has no center and month), its own order kept among equal
    keys. Computed on integer codes (the event log's 14M rows of a 1M network would otherwise be
    compared as Python strings, and copied to be sorted).

    >>> v = pd.DataFrame({"visit_id": ["b", "a", "c"], "center": ["Y", "X", "X"], "month": ["2026-01"] * 3})
    >>> sort_keys(v).order.tolist()
    [1, 2, 0]
    >>> sort_keys(pd.DataFrame({"visit_id": ["b", "a", "b"]}), v).order.tolist()
    [1, 0, 2]
    """
    if "center" in frame.columns and "month" in frame.columns:
        center, centers = _codes(frame["center"])
        month, months = _codes(frame["month"])
        vid, _ = _codes(frame["visit_id"])
        order = np.lexsort((vid, month, center))  # lexsort is stable: the frame's order among ties
        return SortKeys(order, center, month, centers, months)
    if visits is None:
        raise ValueError("the rows' visits are needed for their centers and months")
    vc, centers = _codes(visits["center"])
    vm, months = _codes(visits["month"])
    vv, _ = _codes(visits["visit_id"])
    rank = np.empty(len(visits), dtype=np.int64)
    rank[np.lexsort((vv, vm, vc))] = np.arange(len(visits))
    pos = pd.Index(visits["visit_id"]).get_indexer(frame["visit_id"])
    if (pos < 0).any():
        raise ValueError("a row's visit is not among the visits")
    order = np.argsort(rank[pos], kind="stable")
    return SortKeys(order, vc[pos], vm[pos], centers, months)


def visit_order(frame: pd.DataFrame, visits: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` (a processed table in its own order) in the processed files' order
    (:func:`sort_keys`); the index reset.

    >>> v = pd.DataFrame({"visit_id": ["b", "a", "c"], "center": ["Y", "X", "X"], "month": ["2026-01"] * 3})
    >>> visit_order(v)["visit_id"].tolist()
    ['a', 'c', 'b']
    >>> e = pd.DataFrame({"visit_id": ["b", "a", "b"], "n": [1, 2, 3]})
    >>> visit_order(e, v)["n"].tolist()
    [2, 1, 3]
    """
    return frame.iloc[sort_keys(frame, visits).order].reset_index(drop=True)


def _named(codes: np.ndarray, names: pd.Index) -> pa.Array:
    """The values of ``codes`` (``len(names)`` for a missing one) as an Arrow string array."""
    dictionary = pa.array([*names.astype(object), None], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), dictionary).dictionary_decode()


def keys_of(frame: pd.DataFrame, visits: pd.DataFrame | None = None) -> tuple[pa.Array, pa.Array]:
    """(center, month) of each row of ``frame``, as Arrow strings: its own columns, or its
    visit's in ``visits``.

    >>> keys_of(pd.DataFrame({"visit_id": ["a"], "center": ["X"], "month": ["2026-01"]}))[0].to_pylist()
    ['X']
    """
    keys = sort_keys(frame, visits)
    return _named(keys.center, keys.centers), _named(keys.month, keys.months)


class GroupWriter:
    """One Snappy Parquet file written in row groups of :data:`ROW_GROUP_ROWS` rows (tables of
    one schema, in order), each row group's centers and months recorded (:data:`KEYS_METADATA`)
    when the rows' keys are given.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> w = GroupWriter(folder / "t.parquet")
    >>> w.write(pa.table({"a": [1, 2]}), pa.array(["BJ", "SH"]), pa.array(["2026-01", "2026-02"]))
    >>> w.close()
    2
    >>> row_group_keys(pq.ParquetFile(folder / "t.parquet").metadata)
    [['BJ', '2026-01', 'SH', '2026-02', '2026-01', '2026-02']]
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._buffer: list[tuple[pa.Table, pa.Array | None, pa.Array | None]] = []
        self._buffered = 0
        self._keys: list[list[str | None]] | None = []

    def write(self, table: pa.Table, center=None, month=None) -> None:
        """Add the rows of ``table`` (with their centers and months, or None for a table without)."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="snappy")
        elif not table.schema.equals(self._writer.schema):
            table = table.cast(self._writer.schema)
        if center is None or month is None:
            self._keys = None
        else:
            center, month = _plain(center), _plain(month)
        self._buffer.append((table, center, month))
        self._buffered += table.num_rows
        while self._buffered >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, n: int) -> None:
        tables, centers, months, taken = [], [], [], 0
        while taken < n and self._buffer:
            table, center, month = self._buffer[0]
            k = min(n - taken, table.num_rows)
            tables.append(table.slice(0, k))
            if self._keys is not None:
                centers.append(center.slice(0, k))
                months.append(month.slice(0, k))
            if k == table.num_rows:
                self._buffer.pop(0)
            else:
                self._buffer[0] = (
                    table.slice(k),
                    None if center is None else center.slice(k),
                    None if month is None else month.slice(k),
                )
            taken += k
        self._buffered -= taken
        if not tables or (not taken and self.rows):
            return  # nothing left (a file of no rows still gets its one empty write)
        group = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        self._writer.write_table(group, row_group_size=max(group.num_rows, 1))
        self.rows += group.num_rows
        if self._keys is not None and group.num_rows:
            c, m = pa.chunked_array(centers), pa.chunked_array(months)
            mm = pc.min_max(m)
            first, last = [c[0].as_py(), m[0].as_py()], [c[-1].as_py(), m[-1].as_py()]
            self._keys.append([*first, *last, mm["min"].as_py(), mm["max"].as_py()])

    def close(self) -> int:
        """Write the last row group and the metadata; returns the rows written."""
        if self._writer is None:
            raise ValueError("no table was written")
        self._flush(self._buffered)
        if self._keys is not None:
            self._writer.add_key_value_metadata({KEYS_METADATA: json.dumps(self._keys, ensure_ascii=False)})
        self._writer.close()
        self._writer = None
        return self.rows

    def abort(self) -> None:
        """Close the file after a failure (what was written is left to the caller to remove)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_tables(tables: Iterable, path: Path) -> int:
    """Write the Arrow ``tables`` (one schema, e.g. a processed table's with its pandas
    metadata; each a table or a tuple (table, centers, months) of the rows' keys) as one Snappy
    Parquet file in the processed layout (:class:`GroupWriter`); returns the
    rows written. At least one table must come. Arrow's I/O errors are named after ``path``.

    >>> import tempfile
    >>> write_tables([pa.table({"a": [1]})], Path(tempfile.mkdtemp()) / "a.parquet")
    1
    """
    writer = GroupWriter(path)
    try:
        for item in tables:
            table, center, month = item if isinstance(item, tuple) else (item, None, None)
            writer.write(table, center, month)
        return writer.close()
    except OSError as exc:
        writer.abort()
        raise_named(exc, path)
        raise
    except BaseException:
        writer.abort()
        raise
    finally:
        pa.default_memory_pool().release_unused()


def may_hold(meta: pq.RowGroupMetaData, names: dict[str, int], bounds: dict) -> bool:
    """Whether a row group's statistics allow a row within ``bounds`` (column -> (low, high));
    ``names``: the file's column positions by name.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"f": ["a.csv", "b.csv"]}), path)
    >>> meta = pq.ParquetFile(path).metadata
    >>> may_hold(meta.row_group(0), {"f": 0}, {"f": ("c.csv", "c.csv")}), may_hold(meta.row_group(0), {"f": 0}, {"f": ("b.csv", None)})
    (False, True)
    """
    for col, (low, high) in bounds.items():
        i = names.get(col)
        if i is None:
            continue
        st = meta.column(i).statistics
        if st is None or not st.has_min_max:
            if st is not None and st.null_count == meta.num_rows and meta.num_rows:
                return False  # only nulls: no row matches a comparison
            continue
        if low is not None and st.max < low:
            return False
        if high is not None and st.min > high:
            return False
    return True


def _plain(arr) -> pa.Array:
    """Keys as a plain Arrow string array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not isinstance(arr, pa.Array):
        arr = pa.array(np.asarray(arr, dtype=object), pa.string())
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.cast(pa.string())


def write_frame(
    df: pd.DataFrame, path: Path, visits: pd.DataFrame | None = None, *, sorted_by: SortKeys | None = None
) -> None:
    """Write a processed frame as one Parquet file in the layout above (its centers and months
    recorded when it has them or ``visits`` gives them); Arrow's I/O errors named after ``path``.
    With ``sorted_by`` (:func:`sort_keys` of ``df``), the rows are written in that order a row
    group at a time, without a sorted copy of the whole frame.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "a.parquet"
    >>> df = pd.DataFrame({"visit_id": ["b", "a"], "center": ["SH", "BJ"], "month": ["2026-01", "2026-01"]})
    >>> write_frame(df, out, sorted_by=sort_keys(df))
    >>> pq.read_table(out)["visit_id"].to_pylist()
    ['a', 'b']
    """

    def tables():
        if sorted_by is not None and len(df):
            schema = pa.Schema.from_pandas(df, preserve_index=False)
            for start in range(0, len(df), ROW_GROUP_ROWS):
                rows = sorted_by.order[start : start + ROW_GROUP_ROWS]
                part = pa.Table.from_pandas(df.iloc[rows], schema=schema, preserve_index=False)
                center = _named(sorted_by.center[rows], sorted_by.centers)
                yield part, center, _named(sorted_by.month[rows], sorted_by.months)
        else:
            keyed = "visit_id" in df.columns and (visits is not None or {"center", "month"} <= set(df.columns))
            center, month = keys_of(df, visits) if keyed else (None, None)
            yield pa.Table.from_pandas(df, preserve_index=False), center, month

    write_tables(tables(), path)


def raise_named(exc: OSError, path: Path) -> None:
    """Raise ``exc`` as an :class:`OSError` naming ``path`` (Arrow's carry no file name).

    >>> raise_named(OSError(28, "No space left on device"), Path("/tmp/a"))
    Traceback (most recent call last):
    ...
    OSError: [Errno 28] No space left on device: '/tmp/a'
    """
    if exc.filename:
        raise exc
    code = exc.errno or next((int(m) for m in re.findall(r"\[errno (\d+)\]", str(exc), re.I)), None)
    raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from exc


def row_group_keys(meta: pq.FileMetaData) -> list[list[str | None]] | None:
    """The recorded [first row's center, its month, last row's center, its month, lowest month,
    highest month] of each row group of a file (None when the file does not record them, or not for its row groups as they are).

    >>> row_group_keys(pq.ParquetFile("data/processed/events.parquet").metadata)  # doctest: +SKIP
    """
    kv = meta.metadata or {}
    raw = kv.get(KEYS_METADATA.encode())
    if raw is None:
        return None
    keys = json.loads(raw)
    if len(keys) != meta.num_row_groups:
        return None
    return keys


def keys_may_hold(keys: list[str | None], bounds: dict[str, tuple[str | None, str | None]]) -> bool:
    """Whether a row group of recorded ``keys`` (:func:`row_group_keys`) may hold a row of
    ``bounds`` (``center`` and ``month`` -> (lowest, highest)).

    >>> keys = ["A", "2026-09", "B", "2026-02", "2026-01", "2026-12"]
    >>> keys_may_hold(keys, {"center": ("C", "C")})
    False
    >>> keys_may_hold(keys, {"center": ("A", "A"), "month": ("2026-03", "2026-05")})
    False
    >>> keys_may_hold(keys, {"center": ("B", "B"), "month": ("2026-02", None)})
    True
    """
    c_first, m_first, c_last, m_last, m_low, m_high = keys
    low, high = bounds.get("month", (None, None))
    if m_low is not None and m_high is not None:
        if (low is not None and m_high < low) or (high is not None and m_low > high):
            return False
    center = bounds.get("center")
    if center is None or center[0] != center[1] or None in (c_first, c_last):
        return True
    c = center[0]
    if not c_first <= c <= c_last:
        return False
    # in (center, month) order the group runs from (c_first, m_first) to (c_last, m_last)
    if c == c_first and high is not None and m_first is not None and high < m_first:
        return False
    if c == c_last and low is not None and m_last is not None and low > m_last:
        return False
    return True
