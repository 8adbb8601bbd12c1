"""A report's selection of the processed data, without copying what it does not filter.

``ProcessedData.subset`` filters every table to the selected visits; at a national network's
scale (a million visits, fourteen million events) that costs a minute and a half even when it
selects everything, as the network report on all months does, four times per run, and the
comparison with the previous period needs only the visits of two months. :func:`select` returns
the data themselves when nothing is filtered and ``subset`` otherwise (same tables, same rows);
:func:`visits_of` the visits of a selection, filtered by the same ``subset`` but with the other
tables left out of the filtering. Of lazily read data (:func:`cxlib.clean.read_processed`) a
subset is lazy itself: only the tables a notebook uses are read, each with the filters pushed
into its Parquet scan (or filtered in memory when the data had it read already).

    >>> select(data) is data                                       # doctest: +SKIP
    True
    >>> visits_of(data, center="SH-JQ", period_end="2026-10")      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import Any


def everything(
    center: str = "all", *, period_start: str | None = None, period_end: str | None = None, scenario: str = "all"
) -> bool:
    """Whether these filters select all the data.

    >>> everything(), everything(center="SH-JQ")
    (True, False)
    """
    return center == "all" and period_start is None and period_end is None and scenario == "all"


def select(
    data: Any,
    center: str = "all",
    *,
    period_start: str | None = None,
    period_end: str | None = None,
    scenario: str = "all",
) -> Any:
    """``data.subset(...)`` (a :class:`cxlib.clean.ProcessedData`), or ``data`` itself when the
    filters select everything (the tables as read have the row index ``subset`` would give).
    The notebooks do not change the tables they are given, so sharing them is safe.

        >>> select(data, center="SH-JQ").visits["center"].unique()  # doctest: +SKIP
    """
    if everything(center, period_start=period_start, period_end=period_end, scenario=scenario):
        return data
    return data.subset(center=center, period_start=period_start, period_end=period_end, scenario=scenario)


def visits_of(
    data: Any,
    center: str = "all",
    *,
    period_start: str | None = None,
    period_end: str | None = None,
    scenario: str = "all",
) -> Any:
    """The visits of a selection: ``data.subset(...).visits``, with the events, scores, surveys and
    complaints left out of the filtering (emptied before ``subset``, which then filters only the
    visits by the same rules).

        >>> visits_of(data, "SH-JQ", period_start="2026-09", period_end="2026-09")["month"].unique()  # doctest: +SKIP
    """
    if everything(center, period_start=period_start, period_end=period_end, scenario=scenario):
        return data.visits
    if callable(getattr(data, "is_read", None)) and "_scan" in getattr(data, "__dict__", {}):
        # lazily read data: a subset reads (or filters) a table only when it is used
        return data.subset(center=center, period_start=period_start, period_end=period_end, scenario=scenario).visits
    tables = [t for t in ("scores", "events", "surveys", "complaints") if hasattr(data, t)]
    light = (
        dataclasses.replace(data, **{t: _empty(getattr(data, t)) for t in tables})
        if dataclasses.is_dataclass(data) and tables
        else data
    )  # anything else with a subset(): as it is
    return light.subset(center=center, period_start=period_start, period_end=period_end, scenario=scenario).visits


def _empty(table: Any) -> Any:
    """No rows of ``table``, its ``visit_id`` as plain objects: pandas' ``isin`` of an Arrow string
    column walks the looked-up set in Python even when the column is empty (a second per call at a
    network's scale), an object column hashes it in C."""
    out = table.iloc[:0].copy()
    if "visit_id" in out.columns:
        out["visit_id"] = out["visit_id"].astype(object)
    return out
