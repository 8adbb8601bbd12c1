"""One cleaning run as the relational plan: every table loaded into DuckDB, ruled, featured
and written to Parquet in batches (memory bounded by a batch and DuckDB's limit, not by the data).

The order of the reference run (:func:`cxlib.clean.build._build_tables`) is kept, so the first
broken file reported is the same: visits, centers, surveys, complaints, the touchpoint log.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog, io
from cxlib.clean.features import _survey_columns, _time_columns
from cxlib.clean.ledger import QuarantinePart, _Audit, write_quarantine_part
from cxlib.clean.plan import features as plan_features
from cxlib.clean.plan import linked, touchpoints
from cxlib.clean.plan import raw as plan_raw
from cxlib.clean.plan import visits as plan_visits
from cxlib.clean.plan.output import (
    _CENTER,
    _MONTH,
    BATCH_ROWS,
    KEYS,
    as_type,
    codes_array,
    visit_keys,
    write_frames,
    write_tables,
)
from cxlib.clean.plan.raw import EXTRA, RawTable
from cxlib.clean.plan.values import quote, sql_text, zone_offset
from cxlib.clean.rules.centers import centers_from_spellings

_POINTS = [p.column for p in catalog.SCORE_POINTS]


def _batches(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    frame: Callable[[pa.RecordBatch], pd.DataFrame],
    empty: dict[str, pa.DataType],
) -> Iterator[pd.DataFrame]:
    """The frames of the result of ``sql``, batch by batch (one empty frame for no rows)."""
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    seen = False
    for batch in reader:
        if batch.num_rows or not seen:
            seen = True
            out = frame(batch)
            if _CENTER in batch.schema.names:  # the rows' keys, for the processed layout
                out.attrs[KEYS] = (batch[_CENTER], batch[_MONTH])
            yield out
    if not seen:
        yield frame(pa.RecordBatch.from_pydict({k: pa.array([], t) for k, t in empty.items()}))


def _with_extras(frame: pd.DataFrame, b: pa.RecordBatch, extras: list[str]) -> pd.DataFrame:
    for c in extras:
        frame[c] = pd.Series(b[EXTRA + c].to_pandas(), dtype="str")
    return frame


def _empty(raw: RawTable, **cols: pa.DataType) -> dict[str, pa.DataType]:
    return {**cols, **{EXTRA + c: pa.string() for c in raw.extras}}


class RawInputs(NamedTuple):
    """What a build reads: the raw folder, its source spec (:mod:`cxlib.sources`), the files of
    each table and whether the table was given at all.

    >>> RawInputs(Path("data/raw"), None, {"visits": []}, {"visits": False}).given
    {'visits': False}
    """

    raw_dir: Path
    src: Any
    files: dict[str, list[Path]]
    given: dict[str, bool]


def build(
    con: duckdb.DuckDBPyConnection,
    inputs: RawInputs,
    out: Path,
    tz: str,
    opts: Callable,
    block_bytes: int,
) -> tuple[list[_Audit], dict, dict, list[str], list]:
    """Clean every table of ``inputs`` into ``out``: the processed Parquet files but the
    quarantine table. ``opts(table)`` gives a table's zone and timestamp options, ``block_bytes``
    the size of the blocks the raw files are streamed in. Returns (audits, quality entries counted
    in SQL, extra columns per table, journey points answered, quarantine parts).

    >>> build(con, RawInputs(raw_dir, src, files, given), out, "Asia/Shanghai", opts, 1 << 25)  # doctest: +SKIP
    """
    raw_dir, src, files, given = inputs
    audits: list[_Audit] = []
    extra_columns: dict[str, list[dict]] = {}
    quarantine: list[pd.DataFrame | QuarantinePart] = []

    def done(a: _Audit) -> None:
        # the table's quarantine rows to a part file in the quarantine's order (by source file
        # and row), so that memory does not hold them while the other tables are cleaned
        audits.append(a)
        rows = a.quarantine_frame().sort_values(["source_file", "source_row"], kind="stable")
        part = out / f".quarantine-{a.table}.parquet"
        write_quarantine_part([rows], part)
        quarantine.append(QuarantinePart(a.table, part))
        del rows
        a.freeze()
        pa.default_memory_pool().release_unused()  # the raw rows of its quarantine

    def load(t: str) -> RawTable:
        return plan_raw.load(con, t, files[t] if given[t] else [], src.tables[t], block_bytes)

    raw_visits = load("visits")
    if given["centers"]:
        from cxlib.clean.build import _given_centers

        centers, a, extra_columns["centers"] = _given_centers(
            io.read_table(raw_dir, "centers", src.tables["centers"], files["centers"]), opts
        )
    else:
        spelled = con.execute(f"""
            SELECT c, f, row FROM (SELECT cx_trim(center) AS c, arg_min(cx__f, cx__r) AS f, arg_min(cx__row, cx__r) AS row,
                                          min(cx__r) AS r
                                   FROM {raw_visits.name} GROUP BY 1) WHERE c IS NOT NULL ORDER BY r""").fetchall()
        centers = centers_from_spellings([(c, raw_visits.files[f], int(row)) for c, f, row in spelled])
        a = _Audit("centers", io.empty_table("centers"))
        extra_columns["centers"] = []
    done(a)
    ttz, ctx = opts("visits")
    with ctx:
        a = plan_visits.clean_visits(con, raw_visits, centers, ttz)
    extra_columns["visits"] = raw_visits.extra_columns()
    done(a)
    raw_visits.drop(con)
    raws = {"visits": raw_visits}
    for t, func in (("surveys", linked.clean_surveys), ("complaints", linked.clean_complaints)):
        raws[t] = load(t)
        ttz, ctx = opts(t)
        with ctx:
            a = func(con, raws[t], ttz)
        extra_columns[t] = raws[t].extra_columns()
        done(a)
        raws[t].drop(con)
    score_columns = [
        c
        for c, n in zip(
            catalog.SCORE_COLUMNS,
            con.execute(
                f"SELECT {', '.join(f'count({c})' for c in catalog.SCORE_COLUMNS)} FROM surveys_ruled WHERE q IS NULL"
            ).fetchone(),
        )
        if n
    ]
    ev = plan_raw.load(con, "touchpoints", files["touchpoints"], src.tables["touchpoints"], block_bytes)
    ttz, ctx = opts("touchpoints")
    with ctx:
        touchpoints.rules(con, ttz)
    tables_q = {"touchpoints": touchpoints.quality(con)}
    events_q = QuarantinePart("touchpoints", touchpoints.quarantine(con, ev, out / ".quarantine-touchpoints.parquet"))
    plan_features.feature_table(con)
    extra_columns["touchpoints"] = touchpoints.write(con, ev, out / "events.parquet", tz)
    con.execute("DROP VIEW events_ruled")
    con.execute("DROP TABLE events_linked")
    con.execute("DROP TABLE events_repeated")
    _write_visits(con, out / "visits.parquet", tz, centers.frame, raw_visits.extras)
    _write_scores(con, out / "scores.parquet", tz)
    ex = "".join(f", s.{quote(EXTRA + c)}" for c in raws["surveys"].extras)
    keys, kjoin, korder = visit_keys(con, tz)
    write_frames(
        _batches(
            con,
            f"SELECT s.id, s.vid, s.utc, {', '.join('s.' + c for c in linked.POINTS)}, s.anxiety, s.comment {ex}, "
            f"{keys} FROM surveys_ruled s JOIN visits_kept k ON k.pos = s.vpos {kjoin} "
            f"WHERE s.q IS NULL ORDER BY {korder}, s.r",
            lambda b: _with_extras(linked.surveys_frame(b, tz), b, raws["surveys"].extras),
            _empty(
                raws["surveys"],
                id=pa.string(),
                vid=pa.string(),
                utc=pa.int64(),
                **{c: pa.float64() for c in linked.POINTS},
                anxiety=pa.float64(),
                comment=pa.string(),
            ),
        ),
        out / "surveys.parquet",
    )
    ex = "".join(f", c.{quote(EXTRA + c)}" for c in raws["complaints"].extras)
    keys, kjoin, korder = visit_keys(con, tz)
    write_frames(
        _batches(
            con,
            f"SELECT c.id, c.vid, c.utc, c.ch, c.category {ex}, {keys} FROM complaints_ruled c "
            f"JOIN visits_kept k ON k.pos = c.vpos {kjoin} WHERE c.q IS NULL ORDER BY {korder}, c.r",
            lambda b: _with_extras(linked.complaints_frame(b, tz), b, raws["complaints"].extras),
            _empty(
                raws["complaints"], id=pa.string(), vid=pa.string(), utc=pa.int64(), ch=pa.int16(), category=pa.string()
            ),
        ),
        out / "complaints.parquet",
    )
    write_frames([centers.frame], out / "centers.parquet")
    # the quarantine parts (written in table order by cxlib.clean.ledger.write_quarantine)
    quarantine.append(events_q)
    return audits, tables_q, extra_columns, score_columns, quarantine


def _write_visits(
    con: duckdb.DuckDBPyConnection, path: Path, tz: str, centers: pd.DataFrame, extras: list[str]
) -> None:
    """The processed visits: kept visits, their features, survey answer and complaints, batch by batch."""
    ex = "".join(f", k.{quote(EXTRA + c)}" for c in extras)
    keys, kjoin, korder = visit_keys(con, tz)

    def frame(b: pa.RecordBatch) -> pd.DataFrame:
        v = plan_visits.visits_frame(b, tz)
        local = _time_columns(v)
        for c, values in plan_features.features_frame(b).items():
            v[c] = values
        v = _survey_columns(
            v,
            local,
            centers,
            b["response_id"].to_numpy(zero_copy_only=False).astype(object),
            b["s_ltr"].to_numpy(zero_copy_only=False).astype(float),
            b["s_anx"].to_numpy(zero_copy_only=False).astype(float),
            b["n_complaints"].to_numpy(zero_copy_only=False).astype(np.int64),
        )
        return _with_extras(v, b, extras)

    sql = f"""
        SELECT k.vid, k.cust, k.center, k.scen, k.model, {", ".join("k." + c for c in plan_visits.TIMES)},
               k.warranty, k.amount, f.n_upd, f.n_inp, f.n_photo, f.n_inq, f.silence, f.tier,
               s.id AS response_id, s.ltr AS s_ltr, s.anxiety AS s_anx, coalesce(c.n, 0) AS n_complaints {ex}, {keys}
        FROM visits_kept k JOIN visit_feats f ON f.pos = k.pos {kjoin}
        LEFT JOIN (SELECT vpos, id, ltr, anxiety FROM surveys_ruled WHERE q IS NULL) s ON s.vpos = k.pos
        LEFT JOIN (SELECT vpos, count(*) AS n FROM complaints_ruled WHERE q IS NULL GROUP BY vpos) c ON c.vpos = k.pos
        ORDER BY {korder}, k.pos"""
    empty = {
        "vid": pa.string(),
        "cust": pa.string(),
        "center": pa.string(),
        "scen": pa.int16(),
        "model": pa.string(),
        **{c: pa.int64() for c in plan_visits.TIMES},
        "warranty": pa.int8(),
        "amount": pa.float64(),
        "n_upd": pa.int64(),
        "n_inp": pa.int64(),
        "n_photo": pa.int64(),
        "n_inq": pa.int64(),
        "silence": pa.float64(),
        "tier": pa.int8(),
        "response_id": pa.string(),
        "s_ltr": pa.float64(),
        "s_anx": pa.float64(),
        "n_complaints": pa.int64(),
        **{EXTRA + c: pa.string() for c in extras},
        _CENTER: pa.string(),
        _MONTH: pa.string(),
    }
    write_frames(_batches(con, sql, frame, empty), path)


def _write_scores(con: duckdb.DuckDBPyConnection, path: Path, tz: str) -> None:
    """The touchpoint scores in long form (:func:`cxlib.clean.scores_long`), batch by batch."""
    stage = np.array([catalog.STAGE_ORDER.index(p.stage) for p in catalog.SCORE_POINTS], dtype=np.int16)
    points = ", ".join(f"({i}, {sql_text(c)})" for i, c in enumerate(_POINTS))
    # the month of arrival in the zone: the zone's offset once per hour of arrival
    zjoin, zoff = zone_offset(con, "visits_kept", "arrived_at", tz, False, "k.arrived_at")
    sql = f"""
        WITH s AS (SELECT r, id, vid, vpos, ltr, {", ".join(_POINTS)} FROM surveys_ruled WHERE q IS NULL),
        long AS (UNPIVOT s ON {", ".join(_POINTS)} INTO NAME point VALUE score),
        p AS (SELECT * FROM (VALUES {points}) t(idx, point))
        SELECT l.id, l.vid, p.idx AS point, CAST(l.score AS BIGINT) AS score, k.center, k.scen, f.tier,
               strftime(make_timestamp(k.arrived_at + {zoff}), '%Y-%m') AS month, l.ltr
        FROM long l JOIN p ON p.point = l.point JOIN visits_kept k ON k.pos = l.vpos JOIN visit_feats f ON f.pos = k.pos
        {zjoin}
        ORDER BY k.center NULLS LAST, month NULLS LAST, l.vid NULLS LAST, l.r, p.idx"""

    def frame(b: pa.RecordBatch) -> pd.DataFrame:
        pidx = b["point"].to_numpy(zero_copy_only=False).astype(np.int16)
        return pd.DataFrame(
            {
                "response_id": pd.Series(pd.array(b["id"], dtype="str")),
                "visit_id": pd.Series(pd.array(b["vid"], dtype="str")),
                "point": pd.Categorical.from_codes(pidx, dtype=catalog.SCORE_POINT_DTYPE),
                "stage": pd.Categorical.from_codes(stage[pidx], dtype=catalog.STAGE_DTYPE),
                "score": b["score"].to_numpy(zero_copy_only=False).astype(np.int64),
                "center": pd.Series(b["center"].to_pandas(), dtype="str"),
                "scenario": pd.Categorical.from_codes(
                    b["scen"].to_numpy(zero_copy_only=False).astype(np.int16), dtype=catalog.SCENARIO_DTYPE
                ),
                "tier": pd.Categorical.from_codes(
                    b["tier"].to_numpy(zero_copy_only=False).astype(np.int8), dtype=catalog.TIER_DTYPE
                ),
                "month": pd.Series(b["month"].to_pandas(), dtype="str"),
                "ltr": pd.array(b["ltr"].to_numpy(zero_copy_only=False).astype(float), dtype="Int64"),
            }
        )

    empty = {
        "id": pa.string(),
        "vid": pa.string(),
        "point": pa.int16(),
        "score": pa.int64(),
        "center": pa.string(),
        "scen": pa.int16(),
        "tier": pa.int8(),
        "month": pa.string(),
        "ltr": pa.float64(),
    }
    empty_batch = pa.RecordBatch.from_pydict({k: pa.array([], t) for k, t in empty.items()})
    # the processed schema from the frame of no rows; the batches built in Arrow with it
    schema = pa.Table.from_pandas(frame(empty_batch), preserve_index=False).schema

    def table(b: pa.RecordBatch) -> pa.Table:
        pidx = b["point"].to_numpy(zero_copy_only=False).astype(np.int16)
        cols = {
            "response_id": b["id"],
            "visit_id": b["vid"],
            "point": codes_array(pidx, catalog.SCORE_POINT_DTYPE, schema.field("point").type),
            "stage": codes_array(stage[pidx], catalog.STAGE_DTYPE, schema.field("stage").type),
            "score": b["score"],
            "center": b["center"],
            "scenario": codes_array(
                b["scen"].to_numpy(zero_copy_only=False), catalog.SCENARIO_DTYPE, schema.field("scenario").type
            ),
            "tier": codes_array(
                b["tier"].to_numpy(zero_copy_only=False), catalog.TIER_DTYPE, schema.field("tier").type
            ),
            "month": b["month"],
            "ltr": b["ltr"],
        }
        return pa.Table.from_arrays([as_type(cols[f.name], f.type) for f in schema], schema=schema)

    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    write_tables(((table(b), b["center"], b["month"]) for b in itertools.chain(reader, [empty_batch])), path)
