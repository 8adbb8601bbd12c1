"""The touchpoint event log in the plan: loaded block by block into DuckDB, its rules as SQL.

Rules, in the order a row meets them (the first that applies is its quarantine reason):
required visit_id, ts (missing or unreadable) and touchpoint; a touchpoint code not in the
catalog; a visit_id matching no raw visit; a visit that was quarantined; the same event
(visit, time, touchpoint) again. Repairs counted on the kept rows: timestamp formats,
touchpoints by Chinese name, codes normalised, unreadable channel or photo blanked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog, io
from cxlib.clean.ledger import quality_from_counts, quarantine_frame, write_quarantine_part
from cxlib.clean.plan.output import _CENTER, _MONTH, BATCH_ROWS, as_type, codes_array, visit_keys, write_tables
from cxlib.clean.plan.raw import RawTable
from cxlib.clean.plan.values import (
    code_lookup,
    distinct_values,
    lookup,
    quote,
    timestamp_lookup,
    timestamp_parts,
    timestamp_sets,
)
from cxlib.clean.rules.touchpoints import touchpoint_code
from cxlib.clean.values import _code_mapper, _mask_column, _parse_bool, _series_ts, _strip

RAW = "raw_touchpoints"
#: the row number, file and source row of every raw event (names no raw header takes)
_R, _F, _ROW = "cx__r", "cx__f", "cx__row"
_VALUE_COLS = [c.name for c in catalog.TABLES["touchpoints"]]
_CH_CODES = tuple(c.code for c in catalog.CHANNELS)
_CH_MAPPER = _code_mapper(catalog.CHANNELS)


def _photo(v: str) -> tuple[int]:
    b = _parse_bool(v)
    return (-1 if np.isnan(b) else int(b),)


def rules(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Apply the rules to ``raw_touchpoints``: the table ``events_ruled`` has, per raw row, its
    parsed values, repairs and quarantine rule ``q`` (NULL: kept) with the column ``qcol``
    that a missing required value names. Needs ``cx_visit_ids(vid, pos)`` (the raw visit
    ids, with the position of the kept visit or -1).

    >>> rules(con, "Asia/Shanghai")  # doctest: +SKIP
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW events_text AS
        SELECT *, {timestamp_parts("ts_t", tz, "ts")}
        FROM (SELECT {_R} AS r, cx_trim(visit_id) AS vid, cx_trim(ts) AS ts_t, cx_trim(touchpoint) AS tp_t,
                     cx_trim(channel) AS ch_t, cx_trim(photo) AS ph_t FROM {RAW})""")
    # every lookup's distinct values in one pass over the log (not one pass each)
    seen = distinct_values(
        con,
        "events_text",
        {"tp": "tp_t", "ch": "ch_t", "ph": "ph_t", **timestamp_sets("ts_t", "ts")},
        counts={"ts__n_l": "count(ts_l)", "ts__n_a": "count(ts_a)"},
    )
    tp = lookup(con, None, touchpoint_code, {"idx": pa.int16(), "how": pa.int8()}, texts=seen["tp"])
    ch = code_lookup(con, "events_text", "ch_t", _CH_CODES, _CH_MAPPER, texts=seen["ch"])
    ph = lookup(con, None, _photo, {"code": pa.int8()}, texts=seen["ph"])
    ts = timestamp_lookup(con, "events_text", "ts_t", "ts", tz, alias="x", distinct=seen)
    con.execute(f"""
        CREATE TEMP TABLE events_linked AS
        SELECT * EXCLUDE (vid, tp_t), CASE WHEN vid IS NULL THEN 'missing_required' WHEN utc IS NULL THEN 'missing_required'
                       WHEN tp_t IS NULL THEN 'missing_required' WHEN tp < 0 THEN 'unknown_touchpoint'
                       WHEN NOT in_raw THEN 'orphan_visit' WHEN vpos < 0 THEN 'visit_quarantined' END AS q0,
                  CASE WHEN vid IS NULL THEN 'visit_id' WHEN utc IS NULL THEN 'ts'
                       WHEN tp_t IS NULL THEN 'touchpoint' END AS qcol
        FROM (
            SELECT x.r, x.vid, {ts.utc} AS utc, {ts.rep} AS ts_rep, x.tp_t, coalesce(tp.idx, -1) AS tp,
                   coalesce(tp.how, 0) AS how, coalesce(ch.idx, -1) AS ch, coalesce(ch.norm, false) AS ch_norm,
                   (x.ch_t IS NOT NULL AND coalesce(ch.idx, -1) < 0) AS ch_bad,
                   coalesce(ph.code, -1) AS photo, (x.ph_t IS NOT NULL AND coalesce(ph.code, -1) < 0) AS photo_bad,
                   vi.vid IS NOT NULL AS in_raw, coalesce(vi.pos, -1) AS vpos
            FROM events_text x {ts.join}
            LEFT JOIN {tp} tp ON tp.text = x.tp_t
            LEFT JOIN {ch} ch ON ch.text = x.ch_t
            LEFT JOIN {ph} ph ON ph.text = x.ph_t
            LEFT JOIN cx_visit_ids vi ON vi.vid = x.vid)""")
    con.execute("DROP VIEW events_text")
    # the same event exported twice (same visit, time, touchpoint) among the rows still kept:
    # the few repeated keys first, then the later rows of each
    con.execute("""
        CREATE TEMP TABLE events_repeated AS
        SELECT vpos, utc, tp, min(r) AS first FROM events_linked WHERE q0 IS NULL
        GROUP BY vpos, utc, tp HAVING count(*) > 1""")
    # a view: the few repeated keys are joined again by each reader instead of copying the log
    con.execute("""
        CREATE OR REPLACE TEMP VIEW events_ruled AS
        SELECT e.* EXCLUDE (q0),
               CASE WHEN e.q0 IS NULL AND d.first IS NOT NULL AND e.r > d.first THEN 'duplicate_id' ELSE e.q0 END AS q
        FROM events_linked e
        LEFT JOIN events_repeated d ON d.vpos = e.vpos AND d.utc = e.utc AND d.tp = e.tp AND e.q0 IS NULL""")


def quality(con: duckdb.DuckDBPyConnection) -> dict:
    """The quality entry of the touchpoint log, counted in SQL.

    >>> quality(con)["read"]  # doctest: +SKIP
    """
    read, kept, ts_rep, zh, norm, blanked, any_rep = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE q IS NULL),
               count(*) FILTER (WHERE q IS NULL AND ts_rep),
               count(*) FILTER (WHERE q IS NULL AND how = 2),
               count(*) FILTER (WHERE q IS NULL AND (how = 1 OR ch_norm)),
               count(*) FILTER (WHERE q IS NULL AND (ch_bad OR photo_bad)),
               count(*) FILTER (WHERE q IS NULL AND (ts_rep OR how > 0 OR ch_norm OR ch_bad OR photo_bad))
        FROM events_ruled""").fetchone()
    quarantined = dict(con.execute("SELECT q, count(*) FROM events_ruled WHERE q IS NOT NULL GROUP BY q").fetchall())
    repairs = {"timestamp_format": ts_rep, "touchpoint_zh": zh, "value_normalised": norm, "value_blanked": blanked}
    return quality_from_counts("touchpoints", read, kept, any_rep, quarantined, repairs)


_REASONS = {
    "orphan_visit": "visit_id matches no visit in the raw data",
    "visit_quarantined": "its visit was quarantined",
    "duplicate_id": "the same event (visit, time, touchpoint) appears again",
}


def quarantine(con: duckdb.DuckDBPyConnection, ev: RawTable, path: Path) -> Path:
    """Write the quarantined events with their raw values, rule and reason to the Parquet file
    ``path`` (a part of the quarantine table: :func:`cxlib.clean.ledger.write_quarantine`), in
    the quarantine's order (source file, then row) and in batches, so that memory holds one
    batch however many rows the log quarantines; returns ``path``.

    >>> quarantine(con, loaded, Path("events_quarantine.parquet"))  # doctest: +SKIP
    PosixPath('events_quarantine.parquet')
    """
    raw_cols = ", ".join(f"w.{quote(c)}" for c in _VALUE_COLS)
    con.register("cx_event_files", pa.table({"f": pa.array(range(len(ev.files)), pa.int64()), "name": ev.files}))
    rel = con.sql(f"""
        SELECT e.q, e.qcol, cx_trim(w.touchpoint) AS tp_t, {raw_cols}, fn.name AS source_file, w.{_ROW} AS source_row
        FROM events_ruled e JOIN {RAW} w ON w.{_R} = e.r JOIN cx_event_files fn ON fn.f = w.{_F}
        WHERE e.q IS NOT NULL ORDER BY fn.name, w.{_ROW}, e.r""")

    def frames():
        for b in rel.to_arrow_reader(BATCH_ROWS):
            df = b.to_pandas()
            reasons = [
                f"required value {col} is missing or unreadable"
                if q == "missing_required"
                else f"touchpoint {tp!r} is not in the catalog"
                if q == "unknown_touchpoint"
                else _REASONS[q]
                for q, col, tp in zip(df["q"], df["qcol"], df["tp_t"])
            ]
            sub = pd.DataFrame({c: df[c].astype(object).where(df[c].notna(), None) for c in _VALUE_COLS})
            sub[io.SOURCE_FILE] = df["source_file"].astype(object).to_numpy()
            sub[io.SOURCE_ROW] = df["source_row"].to_numpy(dtype=np.int64)
            yield quarantine_frame("touchpoints", sub, df["q"].to_numpy(dtype=object), np.array(reasons, dtype=object))

    write_quarantine_part(frames(), path)
    con.unregister("cx_event_files")
    return path


def write(con: duckdb.DuckDBPyConnection, ev: RawTable, path: Path, tz: str) -> list[dict]:
    """Write the kept events to ``path`` in batches (the processed ``events`` table, times in
    ``tz``); returns the descriptions of the extra columns carried (masked like free text).

    >>> write(con, loaded, Path("events.parquet"), "Asia/Shanghai")  # doctest: +SKIP
    []
    """
    default_ch = [_CH_CODES.index(t.channel) for t in catalog.TOUCHPOINTS]
    extras = "".join(f", w.{quote(c)}" for c in ev.extras)
    join = f"JOIN {RAW} w ON w.{_R} = e.r" if ev.extras else ""
    keys, kjoin, korder = visit_keys(con, tz)
    rel = con.sql(f"""
        SELECT k.vid, e.utc, e.tp,
               CASE WHEN e.ch < 0 THEN {default_ch}[e.tp + 1] ELSE e.ch END AS ch, e.photo {extras}, {keys}
        FROM events_ruled e JOIN visits_kept k ON k.pos = e.vpos {join} {kjoin}
        WHERE e.q IS NULL ORDER BY {korder}, e.r""")
    reader = rel.to_arrow_reader(BATCH_ROWS)
    stage_of = np.array([catalog.STAGE_ORDER.index(t.stage) for t in catalog.TOUCHPOINTS], dtype=np.int16)
    codes = list(catalog.TOUCHPOINT_CODES)
    is_update = np.isin(np.arange(len(codes)), [codes.index(c) for c in catalog.UPDATE_TOUCHPOINTS])
    ch_text = pa.array(_CH_CODES)

    empty_batch = pa.RecordBatch.from_pydict(
        {
            "vid": pa.array([], pa.string()),
            "utc": pa.array([], pa.int64()),
            "tp": pa.array([], pa.int16()),
            "ch": pa.array([], pa.int16()),
            "photo": pa.array([], pa.int8()),
            **{c: pa.array([], pa.string()) for c in ev.extras},
        }
    )

    def _frame(b: pa.RecordBatch) -> pd.DataFrame:
        tp_k = b["tp"].to_numpy(zero_copy_only=False).astype(np.int16)
        photo = b["photo"].to_numpy(zero_copy_only=False)
        frame = pd.DataFrame(
            {
                "visit_id": pd.Series(b["vid"].to_pandas(), dtype="str"),
                "ts": _series_ts(b["utc"].to_numpy(zero_copy_only=False).astype(np.int64), tz),
                "touchpoint": pd.Categorical.from_codes(tp_k, dtype=catalog.TOUCHPOINT_DTYPE),
                "stage": pd.Categorical.from_codes(stage_of[tp_k], dtype=catalog.STAGE_DTYPE),
                "channel": pd.Series(ch_text.take(b["ch"]).to_pandas(), dtype="str"),
                "photo": pd.Series(pd.arrays.BooleanArray(photo == 1, photo < 0)),
                "is_update": is_update[tp_k],
            }
        )
        for c in ev.extras:
            values, _ = _mask_column(_strip(b[c]))
            frame[c] = pd.Series(values.to_numpy(), dtype="str")
        return frame

    # the processed schema (with its pandas metadata) from the frame of no rows; the batches are
    # then built in Arrow directly with that schema, as pandas would have converted them
    schema = pa.Table.from_pandas(_frame(empty_batch), preserve_index=False).schema

    def _table(b: pa.RecordBatch) -> pa.Table:
        tp_k = b["tp"].to_numpy(zero_copy_only=False).astype(np.int16)
        photo = b["photo"].to_numpy(zero_copy_only=False)
        cols = {
            "visit_id": b["vid"],
            "ts": b["utc"].cast(pa.timestamp("us", tz="UTC")),
            "touchpoint": codes_array(tp_k, catalog.TOUCHPOINT_DTYPE, schema.field("touchpoint").type),
            "stage": codes_array(stage_of[tp_k], catalog.STAGE_DTYPE, schema.field("stage").type),
            "channel": ch_text.take(b["ch"]),
            "photo": pa.array(photo == 1, pa.bool_(), mask=photo < 0),
            "is_update": pa.array(is_update[tp_k]),
        }
        for c in ev.extras:
            values, _ = _mask_column(_strip(b[c]))
            cols[c] = pa.Array.from_pandas(pd.Series(values.to_numpy(), dtype="str"))
        return pa.Table.from_arrays([as_type(cols[f.name], f.type) for f in schema], schema=schema)

    def tables():
        empty = True
        for batch in reader:
            empty = False
            yield _table(batch), batch[_CENTER], batch[_MONTH]
        if empty:
            yield _table(empty_batch)

    write_tables(tables(), path)
    return [ev.headers.get(n, {"name": n, "header": n, "file": None}) for n in ev.extras]


__all__ = ["rules", "quality", "quarantine", "write"]
