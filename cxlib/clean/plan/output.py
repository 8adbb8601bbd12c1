"""Kept rows out of the plan into Parquet, batch by batch, with the processed tables' types."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib.clean.layout import write_tables
from cxlib.clean.plan.values import zone_offset

#: rows fetched from DuckDB and written at a time
BATCH_ROWS = 1 << 19


#: the columns of a result that carry its rows' center and month (:mod:`cxlib.clean.layout`)
_CENTER, _MONTH = "cx__center", "cx__month"


def visit_keys(con, tz: str, alias: str = "k") -> tuple[str, str, str]:
    """(select expressions, joins, ORDER BY keys) of the processed layout's order of rows that
    join the kept visits as ``alias``: the visit's center, the month of its arrival in ``tz``
    (the zone's offset once per hour of arrival) and its id; the caller adds its own order.

    >>> visit_keys(con, "Asia/Shanghai")  # doctest: +SKIP
    """
    zjoin, zoff = zone_offset(con, "visits_kept", "arrived_at", tz, False, f"{alias}.arrived_at")
    month = f"strftime(make_timestamp({alias}.arrived_at + {zoff}), '%Y-%m')"
    return (
        f"{alias}.center AS {_CENTER}, {month} AS {_MONTH}",
        zjoin,
        f"{alias}.center NULLS LAST, {_MONTH} NULLS LAST, {alias}.vid NULLS LAST",
    )


#: the attribute of a frame given to :func:`write_frames` holding its rows' (center, month)
KEYS = "cx_keys"


def write_frames(frames: Iterable[pd.DataFrame], path: Path) -> int:
    """Write the pandas ``frames`` (same columns and types) as one Snappy Parquet file in the
    processed layout (:mod:`cxlib.clean.layout`: row groups of its size, their centers and
    months recorded from each frame's ``attrs[KEYS]`` when every frame has them); returns the
    rows written. At least one frame must come (an empty one for an empty table). Arrow's I/O
    errors are named after ``path``.

    >>> write_frames([pd.DataFrame({"a": [1]})], Path("/tmp/a.parquet"))  # doctest: +SKIP
    1
    """

    def tables():
        for frame in frames:
            keys = frame.attrs.pop(KEYS, (None, None))
            yield (pa.Table.from_pandas(frame, preserve_index=False), *keys)

    return write_tables(tables(), path)


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
