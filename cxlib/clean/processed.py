"""Reading the processed data for analysis: the tables, the subsets, the columns a report
can segment by.

The tables are read lazily: :func:`read_processed` (and so :func:`load`) reads the folder's
manifest and ``quality.json`` and each table when it is first used, and
:meth:`ProcessedData.subset` of tables not yet read pushes its filters into the Parquet scan:
the visits by center, scenario and month, every other table by the selected visits' ids, row
groups whose statistics cannot match skipped and the others filtered batch by batch, so a
one-center report of a national network holds that center's rows only. The tables are those the
eager reading gives (same rows, same order, same types; tested), and a table read after a cleaning
run has replaced the folder's files is refused rather than mixed with the older ones.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxlib import catalog, folders, paths
from cxlib import clean as _package  # settings (LOCK_WAIT_S, EVENT_BLOCK_BYTES, clean) read at call time
from cxlib.catalog import DEFAULT_TZ
from cxlib.clean import layout
from cxlib.clean.swap import OUTPUT_FILES, OUTPUT_TABLES, _incomplete, _is_complete, _lock, _read_manifest, reading
from cxlib.errors import DataError


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
        scan = self.__dict__.get("_scan")

        def rows(t: str) -> int:
            if scan is not None and not scan.filters and t not in self.__dict__:
                return scan.num_rows(t)  # from the file's metadata, the table left unread
            return len(getattr(self, t))

        return pd.DataFrame(
            {
                "table": pd.Series(OUTPUT_TABLES, dtype="str"),
                "rows": np.array([rows(t) for t in OUTPUT_TABLES], dtype=np.int64),
            }
        )

    def __getattr__(self, name: str):
        # only reached for an attribute the instance lacks: a table of lazily read data not read yet
        scan = self.__dict__.get("_scan")
        if scan is not None and name in OUTPUT_TABLES:
            frame = scan.read(name, self)
            self.__dict__[name] = frame
            return frame
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def visit_counts(self) -> tuple[int, int]:
        """(visits, visits with an answered LTR question) of the data: for lazily read data that
        no subset filters and whose visits are not in memory, from the file's metadata and its
        ``ltr`` column alone (a national network's visits are not read for two counts).

        >>> ProcessedData(pd.DataFrame({"ltr": [9, None, 3]}), *[pd.DataFrame()] * 6).visit_counts()
        (3, 2)
        """
        scan = self.__dict__.get("_scan")
        if scan is not None and not scan.filters and "visits" not in self.__dict__ and "visits" not in scan.sources:
            return scan.visit_counts()
        visits = self.visits
        answered = pd.to_numeric(visits["ltr"], errors="coerce").notna().sum() if "ltr" in visits.columns else 0
        return int(len(visits)), int(answered)

    def quarantine_batches(self, *, batch_rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """The quarantine table in frames of at most ``batch_rows`` rows, in its order, without
        holding all of it: read from the file batch by batch (under the folder's lock) when the
        data are read lazily and the table is not in memory yet; at least one (maybe empty) frame.

        >>> q = pd.DataFrame({"table": ["visits"] * 3, "rule": ["duplicate_id"] * 3})
        >>> [len(b) for b in ProcessedData(*[pd.DataFrame()] * 6, q).quarantine_batches(batch_rows=2)]
        [2, 1]
        """
        scan = self.__dict__.get("_scan")
        if scan is None or "quarantine" in self.__dict__ or "quarantine" in scan.sources:
            q = self.quarantine
            for start in range(0, max(len(q), 1), batch_rows):
                yield q.iloc[start : start + batch_rows]
            return
        yield from scan.batches("quarantine", batch_rows)

    def is_read(self, table: str) -> bool:
        """Whether ``table`` is in memory (always, for data not read lazily).

        >>> clean.load("data/processed").is_read("events")  # doctest: +SKIP
        False
        """
        return table in self.__dict__

    def timestamp_maxima(self, table: str) -> list[pd.Timestamp] | None:
        """The latest value of each timestamp column of ``table`` (in the column's time zone)
        without reading the whole table: from the Parquet row groups' statistics for lazily read
        data that no subset filters, from a scan of only the ids and timestamps of the selected
        rows for a lazy subset; None when ``table`` is in memory (or not lazily read): use it.

        >>> clean.load("data/processed").timestamp_maxima("events")  # doctest: +SKIP
        [Timestamp('2026-11-07 21:08:10+0800', tz='Asia/Shanghai')]
        """
        scan = self.__dict__.get("_scan")
        if scan is None or table in self.__dict__ or table not in OUTPUT_TABLES or table in scan.sources:
            return None
        if not scan.filters:
            return scan.timestamp_maxima(table)
        if table in ("visits", "centers", "quarantine"):
            return None
        # a selection's table not read yet: only its ids and timestamp columns are scanned
        frame = scan.read(table, self, columns="timestamps")
        return [
            pd.Timestamp(frame[c].max())
            for c in frame.columns
            if pd.api.types.is_datetime64_any_dtype(frame[c].dtype) and len(frame) and frame[c].notna().any()
        ]

    def subset(
        self, center: str = "all", period_start: str | None = None, period_end: str | None = None, scenario: str = "all"
    ) -> ProcessedData:
        """The same data restricted to the matching visits (every table filtered to them).

        ``period_start`` / ``period_end`` are months ``'YYYY-MM'`` (inclusive) of the visit's
        arrival. ``scenario`` is a scenario code or its Chinese or English name (``维修`` = ``repair``).
        Quarantine and quality stay whole. Of lazily read data (:func:`read_processed`), the
        tables not read yet stay unread: the filters go into their Parquet scan.

        >>> data.subset(center="SH-JQ", period_start="2026-07").visits["center"].unique()  # doctest: +SKIP
        """
        if center != "all":
            valid = sorted(self.centers["center_id"].astype(str))
            if center not in valid:
                raise DataError(f"unknown center {center!r}; valid: all, {', '.join(valid)}", column="center")
        if scenario != "all":
            spell = {k.lower(): sc.code for sc in catalog.SCENARIOS for k in (sc.code, sc.zh, sc.en)}
            scenario = spell.get(str(scenario).strip().lower(), scenario)
            if scenario not in catalog.SCENARIO_ORDER:
                raise DataError(
                    f"unknown scenario {scenario!r}; valid: all, {', '.join(catalog.SCENARIO_ORDER)}", column="scenario"
                )
        for name, p in (("period_start", period_start), ("period_end", period_end)):
            if p is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(p)):
                raise DataError(f"{name} must be a month 'YYYY-MM', got {p!r}", column="month")
        rows = _Filter(
            None if center == "all" else center,
            None if scenario == "all" else scenario,
            None if period_start is None else str(period_start),
            None if period_end is None else str(period_end),
        )
        scan = self.__dict__.get("_scan")
        if scan is not None:
            # lazily read data: the subset is lazy too; the tables in memory are filtered as below
            # when used, the others read from their files with the filters pushed into the scan
            for t in list(scan.sources):  # in memory before this data's own subset: filtered now
                getattr(self, t)
            sources = {t: self.__dict__[t] for t in OUTPUT_TABLES if t in self.__dict__}
            return _lazy_data(scan.narrowed(rows, sources), self.quality, dict(self.given))
        v = self.visits
        mask = rows.mask(v)
        visits = v[mask].reset_index(drop=True)
        keep = set(visits["visit_id"])

        def f(df: pd.DataFrame) -> pd.DataFrame:
            return df[df["visit_id"].isin(keep).to_numpy()].reset_index(drop=True)

        centers = (
            self.centers
            if center == "all"
            else self.centers[(self.centers["center_id"] == center).to_numpy()].reset_index(drop=True)
        )
        return replace(
            self,
            visits=visits,
            scores=f(self.scores),
            events=f(self.events),
            surveys=f(self.surveys),
            complaints=f(self.complaints),
            centers=centers,
            given=dict(self.given),
        )


@dataclass(frozen=True)
class _Filter:
    """One ``subset``'s filters of the visits (None: not filtered), already checked."""

    center: str | None
    scenario: str | None
    period_start: str | None
    period_end: str | None

    def mask(self, v: pd.DataFrame) -> np.ndarray:
        """The visits of ``v`` it keeps, as the eager ``subset`` has always chosen them."""
        mask = np.ones(len(v), dtype=bool)
        if self.center is not None:
            mask &= (v["center"] == self.center).to_numpy()
        if self.scenario is not None:
            mask &= (v["scenario"].astype(str) == self.scenario).to_numpy()
        if self.period_start is not None:
            mask &= (v["month"] >= self.period_start).to_numpy()
        if self.period_end is not None:
            mask &= (v["month"] <= self.period_end).to_numpy()
        return mask

    def expression(self) -> pc.Expression | None:
        """The same filter as an Arrow expression on the visits' Parquet columns (None: all rows)."""
        parts = []
        if self.center is not None:
            parts.append(pc.field("center") == self.center)
        if self.scenario is not None:
            parts.append(pc.field("scenario").cast(pa.string()) == self.scenario)
        if self.period_start is not None:
            parts.append(pc.field("month") >= self.period_start)
        if self.period_end is not None:
            parts.append(pc.field("month") <= self.period_end)
        out = None
        for e in parts:
            out = e if out is None else out & e
        return out

    def bounds(self) -> dict[str, tuple[str | None, str | None]]:
        """Column -> (lowest, highest) value a kept visit can have, for skipping row groups."""
        out: dict[str, tuple[str | None, str | None]] = {}
        if self.center is not None:
            out["center"] = (self.center, self.center)
        if self.period_start is not None or self.period_end is not None:
            out["month"] = (self.period_start, self.period_end)
        return out


#: Rows of the row groups each lazy scan read, per table (cumulative; tests and benchmarks read it):
#: the rows decoded from the Parquet files before the filters dropped those not selected.
ROWS_SCANNED: dict[str, int] = {}


def _arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as ``pd.read_parquet`` turns one into a frame (pandas' own conversion)."""
    try:
        from pandas.io._util import arrow_table_to_pandas
    except ImportError:  # pragma: no cover - other pandas versions
        return table.to_pandas()
    return arrow_table_to_pandas(table)


class _Scan:
    """Where lazily read processed data come from (the folder, its manifest at reading time) and
    the filters of the visits they keep (one per ``subset``, all applied)."""

    def __init__(
        self,
        folder: Path,
        manifest: dict,
        filters: tuple[_Filter, ...] = (),
        sources: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.filters = filters
        #: tables of the data this scan's selection was taken from that were in memory already:
        #: filtered by the last filter when used (as the eager ``subset``), instead of read again
        self.sources = dict(sources or {})

    def narrowed(self, rows: _Filter, sources: dict[str, pd.DataFrame]) -> _Scan:
        """The scan of a subset of this scan's data, taken when ``sources`` were in memory."""
        return _Scan(self.folder, self.manifest, (*self.filters, rows), sources)

    def _from_memory(self, name: str, frame: pd.DataFrame, data: ProcessedData) -> pd.DataFrame:
        """A table of the data before the last ``subset``, filtered as the eager ``subset`` does."""
        rows = self.filters[-1]
        if name == "visits":
            return frame[rows.mask(frame)].reset_index(drop=True)
        if name == "centers":
            return (
                frame
                if rows.center is None
                else frame[(frame["center_id"] == rows.center).to_numpy()].reset_index(drop=True)
            )
        if name == "quarantine":
            return frame
        keep = set(data.visits["visit_id"])
        return frame[frame["visit_id"].isin(keep).to_numpy()].reset_index(drop=True)

    @contextlib.contextmanager
    def _checked(self):
        """The folder's lock held shared, after checking that the files are those read at first."""
        with reading(self.folder):
            if _read_manifest(self.folder) != self.manifest:
                raise DataError(
                    "the processed data changed since they were loaded (a cleaning run replaced them); load them again",
                    file=str(self.folder),
                )
            yield

    def num_rows(self, name: str) -> int:
        """Rows of table ``name`` in its file (this scan's folder, unfiltered), from the metadata."""
        try:
            with self._checked():
                return pq.ParquetFile(self.folder / f"{name}.parquet").metadata.num_rows
        except OSError as exc:
            raise folders.disk_error(exc, self.folder, doing="cannot read the processed data") from None

    def visit_counts(self) -> tuple[int, int]:
        """(rows, non-missing ``ltr``) of this scan's visits file, unfiltered: the metadata and one column."""
        try:
            with self._checked():
                path = self.folder / "visits.parquet"
                pf = pq.ParquetFile(path)
                if "ltr" not in pf.schema_arrow.names:
                    return pf.metadata.num_rows, 0
                ltr = pq.read_table(path, columns=["ltr"])["ltr"]
                answered = pc.is_valid(ltr)
                if pa.types.is_floating(ltr.type):  # NaN counts as missing, as pandas counts it
                    answered = pc.and_(answered, pc.invert(pc.fill_null(pc.is_nan(ltr), True)))
                return pf.metadata.num_rows, int(pc.sum(answered).as_py() or 0)
        except OSError as exc:
            raise folders.disk_error(exc, self.folder, doing="cannot read the processed data") from None

    def batches(self, name: str, batch_rows: int) -> Iterator[pd.DataFrame]:
        """Table ``name`` of this scan's folder, unfiltered, in frames of ``batch_rows`` rows."""
        try:
            with self._checked():
                pf = pq.ParquetFile(self.folder / f"{name}.parquet")
                schema = pf.schema_arrow
                seen = False
                for b in pf.iter_batches(batch_size=batch_rows):
                    seen = True
                    ROWS_SCANNED[name] = ROWS_SCANNED.get(name, 0) + b.num_rows
                    yield pa.Table.from_batches([b], schema=schema).to_pandas()
                if not seen:
                    yield schema.empty_table().to_pandas()
        except OSError as exc:
            raise folders.disk_error(exc, self.folder, doing="cannot read the processed data") from None

    def read(self, name: str, data: ProcessedData, columns: str | None = None) -> pd.DataFrame:
        """Table ``name`` of this scan's selection, as the eager read and ``subset`` give it
        (``columns="timestamps"``: only its visit ids and timestamp columns).

        In a report run (:mod:`cxlib.runcache`) a selection's table is read once and handed to
        the run's later notebooks."""
        source = self.sources.pop(name, None) if columns is None else None
        if source is not None:
            return self._from_memory(name, source, data)
        if not self.filters or name in ("centers", "quarantine"):
            return self._read(name, data, columns)
        from cxlib import runcache

        key = {
            "fingerprint": self.manifest.get("fingerprint"),
            "outputs": self.manifest.get("outputs"),
            "folder": str(self.folder.resolve()),
            "filters": [vars(f) for f in self.filters],
            "columns": columns,
        }
        return runcache.cached(f"selected_{name}", lambda: self._read(name, data, columns), **key)

    def _read(self, name: str, data: ProcessedData, columns: str | None = None) -> pd.DataFrame:
        path = self.folder / f"{name}.parquet"
        expr, bounds = None, {}
        # the centers and months the selected visits can have: row groups whose recorded keys
        # (:mod:`cxlib.clean.layout`) or statistics lie outside are not read
        keys: dict[str, tuple[str | None, str | None]] = {}
        for f in self.filters:
            for col, (lo, hi) in f.bounds().items():
                lows = [x for x in (lo, keys.get(col, (None, None))[0]) if x is not None]
                highs = [x for x in (hi, keys.get(col, (None, None))[1]) if x is not None]
                keys[col] = (max(lows) if lows else None, min(highs) if highs else None)
        if self.filters and name == "visits":
            for f in self.filters:
                e = f.expression()
                if e is not None:
                    expr = e if expr is None else expr & e
            bounds = dict(keys)
        elif self.filters and name in ("scores", "events", "surveys", "complaints"):
            ids = data.visits["visit_id"]
            keep = pa.array(pd.unique(ids.dropna().astype(str).to_numpy()), type=pa.large_string())
            expr = pc.field("visit_id").isin(keep)
            if len(keep):
                bounds = {"visit_id": (pc.min(keep).as_py(), pc.max(keep).as_py())}
        try:
            with self._checked():
                if expr is None:
                    frame = pd.read_parquet(path)
                    ROWS_SCANNED[name] = ROWS_SCANNED.get(name, 0) + len(frame)
                else:
                    frame = self._filtered(
                        path, name, expr, bounds, none=name != "visits" and not bounds, columns=columns, keys=keys
                    )
        except OSError as exc:
            raise folders.disk_error(exc, self.folder, doing="cannot read the processed data") from None
        if name == "centers":
            centers = {f.center for f in self.filters if f.center is not None}
            for c in centers:
                frame = frame[(frame["center_id"] == c).to_numpy()].reset_index(drop=True)
        return unknown_when_not_given(frame, data.given)

    def _filtered(
        self,
        path: Path,
        name: str,
        expr: pc.Expression,
        bounds: dict,
        none: bool,
        columns: str | None = None,
        keys: dict | None = None,
    ) -> pd.DataFrame:
        """The rows of ``path`` that ``expr`` keeps, reading only the row groups whose statistics
        allow ``bounds`` and whose recorded centers and months allow ``keys`` (``none``: no row
        can match, no row group is read); with ``columns="timestamps"`` only the ``visit_id`` and
        timestamp columns."""
        pf = pq.ParquetFile(path)
        meta = pf.metadata
        recorded = layout.row_group_keys(meta) if keys else None
        names = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
        cols = None
        if columns == "timestamps":
            cols = [f.name for f in pf.schema_arrow if f.name == "visit_id" or pa.types.is_timestamp(f.type)]
        parts = []
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            if none or not layout.may_hold(rg, names, bounds):
                continue
            if recorded is not None and not layout.keys_may_hold(recorded[g], keys):
                continue
            ROWS_SCANNED[name] = ROWS_SCANNED.get(name, 0) + rg.num_rows
            parts.append(pf.read_row_group(g, columns=cols, use_pandas_metadata=True).filter(expr))
        if not parts:  # no row group read: the first one's first row, filtered out, gives the types
            first = (
                pf.read_row_group(0, columns=cols, use_pandas_metadata=True).slice(0, 0)
                if meta.num_row_groups
                else pf.schema_arrow.empty_table()
            )
            parts = [first]
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        frame = _arrow_to_frame(table)
        frame.index = pd.RangeIndex(len(frame))
        return frame

    def timestamp_maxima(self, name: str) -> list[pd.Timestamp] | None:
        """The maximum of each timestamp column of the whole table, from the row groups' statistics."""
        try:
            with self._checked():
                pf = pq.ParquetFile(self.folder / f"{name}.parquet")
        except OSError as exc:
            raise folders.disk_error(exc, self.folder, doing="cannot read the processed data") from None
        meta, schema = pf.metadata, pf.schema_arrow
        out = []
        for fld in schema:
            if not pa.types.is_timestamp(fld.type):
                continue
            j = next((k for k in range(meta.num_columns) if meta.schema.column(k).name == fld.name), None)
            if j is None:
                return None
            best = None
            for g in range(meta.num_row_groups):
                rg = meta.row_group(g)
                st = rg.column(j).statistics
                if st is None or not st.has_min_max:
                    if st is not None and st.null_count == rg.num_rows:
                        continue
                    return None  # no statistics: the caller reads the table
                m = pd.Timestamp(st.max)
                best = m if best is None or m > best else best
            if best is not None:
                tz = fld.type.tz
                if best.tzinfo is None and tz is not None:
                    best = best.tz_localize("UTC")
                out.append(best.tz_convert(tz) if tz is not None else best.tz_localize(None) if best.tzinfo else best)
        return out


def _lazy_data(scan: _Scan, quality: dict, given: dict[str, bool]) -> ProcessedData:
    """Processed data whose tables are read from ``scan`` when first used."""
    data = object.__new__(ProcessedData)
    data.__dict__.update(quality=quality, given=given, _scan=scan)
    return data


def read_processed(processed_dir: str | Path, *, lazy: bool = True) -> ProcessedData:
    """Read the processed Parquet tables and ``quality.json`` (no rebuild).

    Completes a commit that a killed cleaning run left pending, then reads holding the
    folder's lock shared, so that a cleaning run never swaps files under it. With ``lazy`` (the
    default) each table is read when first used, under the same lock, and only when the folder
    still holds the files of this first reading (else a :class:`DataError`); a ``subset`` of
    tables not read yet reads only the selected rows (see the module's docstring).

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
            quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
            if lazy:
                manifest = _read_manifest(processed_dir) or {}
                n_scores = pq.ParquetFile(processed_dir / "scores.parquet").metadata.num_rows
            else:
                tables = {t: pd.read_parquet(processed_dir / f"{t}.parquet") for t in OUTPUT_TABLES}
                n_scores = len(tables["scores"])
    except OSError as exc:
        raise folders.disk_error(exc, processed_dir, doing="cannot read the processed data") from None
    given = given_tables(quality)
    if "score_columns" not in (quality.get("tables", {}).get("surveys") or {}):
        given["scores"] = given["surveys"] and n_scores > 0  # processed by an older version
    if lazy:
        return _lazy_data(_Scan(processed_dir, manifest), quality, given)
    for name, frame in tables.items():
        tables[name] = unknown_when_not_given(frame, given)
    return ProcessedData(**tables, quality=quality, given=given)


#: Columns of the processed tables derived from an optional raw table: unknown (missing), not
#: zero, when that table was not given.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "touchpoints": (
        "n_proactive_updates",
        "n_inprogress_updates",
        "has_photo_update",
        "tier",
        "longest_silence_minutes",
        "n_inquiries",
    ),
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
        if (
            isinstance(dt, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(dt)
            or pd.api.types.is_string_dtype(dt)
            or dt == object
        ):
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


def load(
    processed_dir: str | Path = paths.NOTEBOOK_PROCESSED,
    raw_dir: str | Path | None = paths.NOTEBOOK_RAW,
    *,
    tz: str = DEFAULT_TZ,
    allow_outside_links: bool = False,
) -> ProcessedData:
    """Load the processed data, (re)building it from ``raw_dir`` first when missing or stale.

    With ``raw_dir=None`` the processed folder is read as it is. The same folder checks, lock
    and crash-safe commit as :func:`clean` apply (``allow_outside_links`` as there). In a report
    run that has checked the folder already (``cx report``), the raw files are not read again.
    The tables are read lazily (:func:`read_processed`).

    >>> data = load("../data/processed", raw_dir="../data/raw")  # doctest: +SKIP
    """
    processed_dir = Path(processed_dir)
    if raw_dir is not None and not _checked_by_run(Path(raw_dir), processed_dir, tz):
        raw_dir = Path(raw_dir)
        if raw_dir.is_dir() or not _is_complete(processed_dir):
            _package.clean(raw_dir, processed_dir, tz=tz, allow_outside_links=allow_outside_links)
    return read_processed(processed_dir)


def _checked_by_run(raw_dir: Path, processed_dir: Path, tz: str) -> bool:
    """Whether the report run this notebook belongs to found ``processed_dir`` up to date with
    ``raw_dir`` (:func:`cxlib.runcache.checked_fingerprint`) and the folder still holds that build."""
    from cxlib import runcache

    fp = runcache.checked_fingerprint(raw_dir, processed_dir, tz)
    if fp is None:
        return False
    manifest = _read_manifest(processed_dir)
    return bool(manifest) and manifest.get("fingerprint") == fp and _is_complete(processed_dir, manifest)
