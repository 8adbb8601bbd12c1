"""Kept rows out of the plan into Parquet, batch by batch, with the processed tables' types."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable
from pathlib import Path

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
        if exc.filename:
            raise
        code = exc.errno or next((int(m) for m in re.findall(r"\[errno (\d+)\]", str(exc), re.I)), None)
        raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from exc
    finally:
        if writer is not None:
            writer.close()
        pa.default_memory_pool().release_unused()
    return rows
