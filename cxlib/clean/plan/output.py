"""Kept rows out of the plan into Parquet, batch by batch, with the processed tables' types."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: rows fetched from DuckDB and written at a time
BATCH_ROWS = 1 << 19


def write_frames(frames: Iterable[pd.DataFrame], path: Path) -> int:
    """Write the pandas ``frames`` (same columns and types) as one Snappy Parquet file, each
    frame a row group or more; returns the rows written. At least one frame must come (an
    empty one for an empty table). Arrow's I/O errors are named after ``path``.

    >>> write_frames([pd.DataFrame({"a": [1]})], Path("/tmp/a.parquet"))  # doctest: +SKIP
    1
    """
    writer = None
    rows = 0
    frames = iter(frames)
    try:
        first = next(frames)
        second = next(frames, None)
        if second is None:  # one batch: one call
            pq.write_table(pa.Table.from_pandas(first, preserve_index=False), path, compression="snappy")
            return len(first)
        for frame in itertools.chain((first, second), frames):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            elif not table.schema.equals(writer.schema):
                table = table.cast(writer.schema)
            writer.write_table(table)
            rows += len(frame)
        writer.close()
        writer = None
    except OSError as exc:
        _raise_named(exc, path)
    finally:
        if writer is not None:
            writer.close()
        pa.default_memory_pool().release_unused()
    return rows


def write_tables(tables: Iterable[pa.Table], path: Path) -> int:
    """Write the Arrow ``tables`` (one schema, e.g. a processed table's with its pandas
    metadata) as one Snappy Parquet file, each a row group or more; returns the rows written.
    At least one table must come. Arrow's I/O errors are named after ``path``.

    >>> write_tables([pa.table({"a": [1]})], Path("/tmp/a.parquet"))  # doctest: +SKIP
    1
    """
    writer = None
    rows = 0
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table)
            rows += table.num_rows
        writer.close()
        writer = None
    except OSError as exc:
        _raise_named(exc, path)
    finally:
        if writer is not None:
            writer.close()
        pa.default_memory_pool().release_unused()
    return rows


def _raise_named(exc: OSError, path: Path) -> None:
    """Raise ``exc`` as an :class:`OSError` naming ``path`` (Arrow's carry no file name)."""
    if exc.filename:
        raise exc
    code = exc.errno or next((int(m) for m in re.findall(r"\[errno (\d+)\]", str(exc), re.I)), None)
    raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from exc


def codes_array(codes: np.ndarray, dtype: pd.CategoricalDtype, typ: pa.DictionaryType) -> pa.DictionaryArray:
    """A categorical column of ``codes`` (into the categories of ``dtype``) as the dictionary
    type ``typ`` of a processed schema (what pandas converts the categorical to).

    >>> codes_array(np.array([1, 0]), pd.CategoricalDtype(["a", "b"]), pa.dictionary(pa.int8(), pa.string())).to_pylist()
    ['b', 'a']
    """
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes), typ.index_type),
        pa.array(list(dtype.categories), typ.value_type),
        ordered=typ.ordered,
    )


def as_type(arr: pa.Array | pa.ChunkedArray, typ: pa.DataType) -> pa.Array:
    """``arr`` in the type ``typ`` of a processed schema.

    >>> as_type(pa.array([1, None]), pa.float64()).type
    DataType(double)
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == typ else arr.cast(typ)
