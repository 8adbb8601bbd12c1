"""Reading the processed data for analysis: the tables, the subsets, the columns a report
can segment by.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cxlib import catalog, folders, paths
from cxlib import clean as _package  # settings (LOCK_WAIT_S, EVENT_BLOCK_BYTES, clean) read at call time
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError
from cxlib.clean.swap import OUTPUT_FILES, OUTPUT_TABLES, _incomplete, _is_complete, _lock, reading


@dataclass
class ProcessedData:
    """The processed tables, as read by every analysis notebook."""

    visits: pd.DataFrame
    scores: pd.DataFrame
    events: pd.DataFrame
    surveys: pd.DataFrame
    complaints: pd.DataFrame
    centers: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict = field(default_factory=dict)
    #: table of the data contract -> whether the raw folder held it (``quality.json``
    #: ``tables.<t>.given``; True when absent, as in processed data of older versions), and
    #: ``"scores"``: whether the surveys answered any journey point (``score_*`` column)
    given: dict[str, bool] = field(default_factory=lambda: {t: True for t in (*catalog.TABLE_ORDER, "scores")})

    def segment_columns(self) -> list[str]:
        """The visits' columns a report can be segmented by (see :func:`segment_columns`).

        >>> data.segment_columns()[:3]  # doctest: +SKIP
        ['center', 'scenario', 'vehicle_model']
        """
        return segment_columns(self.visits, self.given)

    def check_segment(self, segment: str) -> str:
        """``segment`` when it is one of :meth:`segment_columns`, else a :class:`DataError`
        listing them (see :func:`check_segment`).

        >>> data.check_segment("vehicle_model")  # doctest: +SKIP
        'vehicle_model'
        """
        return check_segment(self.visits, segment, self.given)

    def sizes(self) -> pd.DataFrame:
        """Rows per processed table, in the order visits, scores, events, surveys, complaints,
        centers, quarantine.

        >>> data.sizes().set_index("table").loc["visits", "rows"]  # doctest: +SKIP
        5940
        """
        return pd.DataFrame({"table": pd.Series(OUTPUT_TABLES, dtype="str"),
                             "rows": np.array([len(getattr(self, t)) for t in OUTPUT_TABLES], dtype=np.int64)})

    def subset(self, center: str = "all", period_start: str | None = None, period_end: str | None = None,
               scenario: str = "all") -> ProcessedData:
        """The same data restricted to the matching visits (every table filtered to them).

        ``period_start`` / ``period_end`` are months ``'YYYY-MM'`` (inclusive) of the visit's
        arrival. ``scenario`` is a scenario code or its Chinese or English name (``维修`` = ``repair``).
        Quarantine and quality stay whole.

        >>> data.subset(center="SH-JQ", period_start="2026-07").visits["center"].unique()  # doctest: +SKIP
        """
        v = self.visits
        mask = np.ones(len(v), dtype=bool)
        if center != "all":
            valid = sorted(self.centers["center_id"].astype(str))
            if center not in valid:
                raise DataError(f"unknown center {center!r}; valid: all, {', '.join(valid)}", column="center")
            mask &= (v["center"] == center).to_numpy()
        if scenario != "all":
            spell = {k.lower(): sc.code for sc in catalog.SCENARIOS for k in (sc.code, sc.zh, sc.en)}
            scenario = spell.get(str(scenario).strip().lower(), scenario)
            if scenario not in catalog.SCENARIO_ORDER:
                raise DataError(f"unknown scenario {scenario!r}; valid: all, {', '.join(catalog.SCENARIO_ORDER)}",
                                column="scenario")
            mask &= (v["scenario"].astype(str) == scenario).to_numpy()
        for name, p in (("period_start", period_start), ("period_end", period_end)):
            if p is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(p)):
                raise DataError(f"{name} must be a month 'YYYY-MM', got {p!r}", column="month")
        if period_start is not None:
            mask &= (v["month"] >= str(period_start)).to_numpy()
        if period_end is not None:
            mask &= (v["month"] <= str(period_end)).to_numpy()
        visits = v[mask].reset_index(drop=True)
        keep = set(visits["visit_id"])

        def f(df: pd.DataFrame) -> pd.DataFrame:
            return df[df["visit_id"].isin(keep).to_numpy()].reset_index(drop=True)

        centers = self.centers if center == "all" else self.centers[
            (self.centers["center_id"] == center).to_numpy()].reset_index(drop=True)
        return replace(self, visits=visits, scores=f(self.scores), events=f(self.events),
                       surveys=f(self.surveys), complaints=f(self.complaints), centers=centers,
                       given=dict(self.given))


def read_processed(processed_dir: str | Path) -> ProcessedData:
    """Read the processed Parquet tables and ``quality.json`` (no rebuild).

    Completes a commit that a killed cleaning run left pending, then reads holding the
    folder's lock shared, so that a cleaning run never swaps files under it.

    >>> read_processed("data/processed").visits.shape  # doctest: +SKIP
    """
    processed_dir = Path(processed_dir)
    if not processed_dir.is_dir():
        raise DataError("processed data not found; run `cx clean`", file=str(processed_dir))
    try:
        if folders.pending_commit(processed_dir):
            with _lock(processed_dir) as lock:
                if lock.writable:
                    folders.recover(processed_dir, OUTPUT_FILES)
        with reading(processed_dir):
            why = _incomplete(processed_dir)
            if why is not None:
                raise DataError(f"processed data incomplete ({why}); run `cx clean`", file=str(processed_dir))
            tables = {t: pd.read_parquet(processed_dir / f"{t}.parquet") for t in OUTPUT_TABLES}
            quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise folders.disk_error(exc, processed_dir, "cannot read the processed data") from None
    given = given_tables(quality)
    if "score_columns" not in (quality.get("tables", {}).get("surveys") or {}):
        given["scores"] = given["surveys"] and len(tables["scores"]) > 0  # processed by an older version
    for name, frame in tables.items():
        tables[name] = unknown_when_not_given(frame, given)
    return ProcessedData(**tables, quality=quality, given=given)


#: Columns of the processed tables derived from an optional raw table: unknown (missing), not
#: zero, when that table was not given.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "touchpoints": ("n_proactive_updates", "n_inprogress_updates", "has_photo_update", "tier",
                    "longest_silence_minutes", "n_inquiries"),
    "complaints": ("n_complaints", "complained"),
}
#: Visits columns that are never a segment: identifiers and the LTR answer itself.
_NOT_SEGMENTS = ("visit_id", "customer_id", "response_id", "nps_group")


def given_tables(quality: dict) -> dict[str, bool]:
    """Table -> whether the raw folder held it, from ``quality.json`` (True when not stated),
    plus ``"scores"``: whether the surveys answered any journey point (``tables.surveys.
    score_columns`` not empty; True when not stated).

        >>> given_tables({"tables": {"complaints": {"given": False}}})["complaints"], given_tables({})["visits"]
        (False, True)
        >>> given_tables({"tables": {"surveys": {"given": True, "score_columns": []}}})["scores"]
        False
    """
    tables = quality.get("tables", {}) if isinstance(quality, dict) else {}
    given = {t: bool((tables.get(t) or {}).get("given", True)) for t in (*catalog.TABLE_ORDER, *tables)}
    surveys = tables.get("surveys") or {}
    given["scores"] = given["surveys"] and bool(surveys.get("score_columns", True))
    return given


def unknown_when_not_given(frame: pd.DataFrame, given: dict[str, bool]) -> pd.DataFrame:
    """``frame`` with the columns of :data:`DERIVED_FROM` set to missing for each table not given.

    A visit of a raw folder without a touchpoint log has no known number of updates and no
    tier; without a complaints table no known complaint count. Zeros there would read as
    "no update" tiers and 0 % complaints.

        >>> v = pd.DataFrame({"n_complaints": [0, 0], "complained": [False, False]})
        >>> unknown_when_not_given(v, {"complaints": False})["complained"].isna().all()
        np.True_
    """
    out = frame
    for table, cols in DERIVED_FROM.items():
        if given.get(table, True):
            continue
        for c in cols:
            if c not in out.columns:
                continue
            if out is frame:
                out = frame.copy()
            col = out[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                out[c] = pd.Categorical([None] * len(out), dtype=col.dtype)
            elif pd.api.types.is_bool_dtype(col.dtype):
                out[c] = pd.array([pd.NA] * len(out), dtype="boolean")
            elif pd.api.types.is_integer_dtype(col.dtype):
                out[c] = pd.array([pd.NA] * len(out), dtype="Int64")
            else:
                out[c] = np.full(len(out), np.nan)
    return out


def segment_columns(visits: pd.DataFrame, given: dict[str, bool] | None = None) -> list[str]:
    """The visits' columns a report can be segmented by: text, categorical and yes/no columns
    (center, scenario, vehicle model, carried extra columns of the raw files, …), without
    identifiers and without the columns of a table that was not given.

        >>> segment_columns(pd.DataFrame({"visit_id": ["V1"], "vehicle_model": ["ES6"], "ltr": [9]}))
        ['vehicle_model']
    """
    absent = {c for t, cols in DERIVED_FROM.items() if not (given or {}).get(t, True) for c in cols}
    out = []
    for c in visits.columns:
        dt = visits[c].dtype
        if c in _NOT_SEGMENTS or c in absent:
            continue
        if (isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt)
                or pd.api.types.is_string_dtype(dt) or dt == object):
            out.append(str(c))
    return out


def check_segment(visits: pd.DataFrame, segment: str, given: dict[str, bool] | None = None) -> str:
    """``segment`` when the visits can be segmented by it, else one :class:`DataError` that
    lists the columns that can.

        >>> check_segment(pd.DataFrame({"advisor": ["王"]}), "advisor")
        'advisor'
    """
    valid = segment_columns(visits, given)
    if not isinstance(segment, str) or segment not in valid:
        raise DataError(f"unknown segment column {segment!r}; available: {', '.join(valid)}", column="segment")
    return segment


def load(processed_dir: str | Path = paths.NOTEBOOK_PROCESSED, raw_dir: str | Path | None = paths.NOTEBOOK_RAW,
         tz: str = DEFAULT_TZ, allow_outside_links: bool = False) -> ProcessedData:
    """Load the processed data, (re)building it from ``raw_dir`` first when missing or stale.

    With ``raw_dir=None`` the processed folder is read as it is. The same folder checks, lock
    and crash-safe commit as :func:`clean` apply (``allow_outside_links`` as there).

    >>> data = load("../data/processed", raw_dir="../data/raw")  # doctest: +SKIP
    """
    processed_dir = Path(processed_dir)
    if raw_dir is not None:
        raw_dir = Path(raw_dir)
        if raw_dir.is_dir() or not _is_complete(processed_dir):
            _package.clean(raw_dir, processed_dir, tz=tz, allow_outside_links=allow_outside_links)
    return read_processed(processed_dir)
