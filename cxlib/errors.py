"""Errors the workbench raises for bad input.

A :class:`DataError` names the file, and where known the column and row, so that the
command line can print one clear line and the analyst knows where to look. Its text has
personal data masked (:func:`cxlib.privacy.mask`): a bad value quoted in the message cannot
leak a phone number into a terminal or a log.

>>> str(DataError("bad date", file="visits.csv", column="arrived_at", row=12))
'visits.csv, column arrived_at, row 12: bad date'
>>> str(DataError("ltr '13912345678' is not a score", file="surveys.csv", column="ltr"))
"surveys.csv, column ltr: ltr '[手机号]' is not a score"
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cxlib.privacy import mask


class DataError(ValueError):
    """Input data that breaks the contract: a broken file, a missing column, a bad value."""

    def __init__(
        self, message: str, *, file: str | Path | None = None, column: str | None = None, row: int | None = None
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.column = column
        self.row = row
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.column:
            where.append(f"column {self.column}")
        if self.row is not None:
            where.append(f"row {self.row}")
        return mask(f"{', '.join(where)}: {self.message}" if where else self.message)


class FolderError(DataError):
    """A folder that cannot be used as given (the processed folder inside the raw one, a
    read-only or full disk, a run holding its lock): about where to write, not about the data."""


class EngineError(DataError):
    """The engine of a cleaning run cannot run or failed (Spark or Java missing, a master that
    cannot be reached, a query Spark refused): about the machine, not about the data."""


def require_columns(df: Any, columns: Iterable[str], table: str) -> None:
    """Raise a :class:`DataError` naming the first of ``columns`` that ``df`` lacks.

    ``table`` says which table the caller expected (``visits``, ``scores``, ``the ROI summary``).

    >>> import pandas as pd
    >>> try:
    ...     require_columns(pd.DataFrame({"ltr": [9]}), ["ltr", "tier"], "visits")
    ... except DataError as e:
    ...     print(e)
    column tier: column not found: the visits table lacks column 'tier'
    """
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        more = f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else ""
        raise DataError(f"column not found: the {table} table lacks column {missing[0]!r}{more}", column=missing[0])
