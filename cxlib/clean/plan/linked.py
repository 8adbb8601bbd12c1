"""The tables linked to a visit in the plan (surveys, complaints): their rules as SQL.

Rules every linked row meets first, in this order: required id, visit_id and time; an id
seen before; a visit_id matching no raw visit; a visit that was quarantined. Then surveys:
an earlier response for a visit that has a later one is superseded (the latest by submission
time, then by position, is kept). Repairs counted on the kept rows: LTR written as text, LTR
and scores out of range blanked, anxiety and channels normalised or blanked, timestamp
formats, personal data in comments and categories masked.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog
from cxlib.clean.ledger import _Audit
from cxlib.clean.plan import ledger
from cxlib.clean.plan.raw import RawTable, extras_sql
from cxlib.clean.plan.values import (
    code_lookup,
    float_lookup,
    mask_lookup,
    quote,
    text_table,
    timestamp_lookup,
    timestamp_parts,
)
from cxlib.clean.plan.visits import _ints
from cxlib.clean.values import _code_mapper, _parse_int_text, _series_ts


def _linked(
    con: duckdb.DuckDBPyConnection,
    table: str,
    raw: RawTable,
    id_col: str,
    ts_col: str,
    tz: str,
    extra_sql: str,
    extra_joins: str,
) -> None:
    """``{table}_parsed``: row, id, visit id, time (with repair), visit position (or -1) and the
    rule of the shared linked rules as ``q0``, plus the table's own columns ``extra_sql`` and
    the carried extra columns of the raw table (masked; ``extras_masked``)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_ts AS SELECT r, {ts_col}_t, "
        f"{timestamp_parts(f'{ts_col}_t', tz, 'ts')} FROM {table}_text"
    )
    ts = timestamp_lookup(con, f"{table}_ts", f"{ts_col}_t", "ts", tz, alias="s")
    ex_sel, ex_joins, ex_changed = extras_sql(con, raw)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table}_parsed AS
        SELECT p.*, d.first IS NOT NULL AND p.r > d.first AS dup,
               CASE WHEN p.id IS NULL THEN 'missing_required:{id_col}'
                    WHEN p.vid IS NULL THEN 'missing_required:visit_id'
                    WHEN p.utc IS NULL THEN 'missing_required:{ts_col}'
                    WHEN d.first IS NOT NULL AND p.r > d.first THEN 'duplicate_id'
                    WHEN vi.vid IS NULL THEN 'orphan_visit'
                    WHEN vi.pos < 0 THEN 'visit_quarantined' END AS q0,
               coalesce(vi.pos, -1) AS vpos
        FROM (SELECT x.r, x.{id_col}_t AS id, x.visit_id_t AS vid, {ts.utc} AS utc, {ts.rep} AS ts_rep, {extra_sql},
                     {ex_changed} AS extras_masked {ex_sel}
              FROM {table}_text x JOIN {table}_ts s ON s.r = x.r JOIN {raw.name} w ON w.cx__r = x.r
              {ts.join} {extra_joins} {ex_joins}) p
        LEFT JOIN (SELECT {id_col}_t AS id, min(r) AS first FROM {table}_text WHERE {id_col}_t IS NOT NULL
                   GROUP BY 1 HAVING count(*) > 1) d ON d.id = p.id
        LEFT JOIN cx_visit_ids vi ON vi.vid = p.vid""")


def _reasons(con: duckdb.DuckDBPyConnection, table: str, id_col: str):
    n_dup = con.execute(f"SELECT count(*) FROM {table}_ruled WHERE dup").fetchone()[0]

    def reasons(rule: str, detail: str, rows: np.ndarray):
        if rule == "missing_required":
            return f"required value {detail} is missing or unreadable"
        if rule == "duplicate_id":
            if n_dup >= 1_000_000:
                return f"{id_col} appears again"
            con.register("cx_rows", pa.table({"r": pa.array(rows, pa.int64())}))
            ids = [
                v
                for (v,) in con.execute(
                    f"SELECT t.id FROM {table}_ruled t JOIN cx_rows USING (r) ORDER BY r"
                ).fetchall()
            ]
            con.unregister("cx_rows")
            return np.array([f"{id_col} {v} appears again (first occurrence kept)" for v in ids], dtype=object)
        return {
            "orphan_visit": "visit_id matches no visit in the raw data",
            "visit_quarantined": "its visit was quarantined",
            "superseded": "an earlier response for the same visit, superseded by a resubmission",
        }[rule]

    return reasons


def _int_lookup(con: duckdb.DuckDBPyConnection, table: str, col: str, low: int, high: int) -> tuple[str, str]:
    """(name, join) of the lookup ``raw text -> val, texty, bad`` of an answer column read as the
    reference reads it (the text as written, so that ' 10 ' counts as written as text)."""
    from cxlib.clean.plan.values import _names

    texts = [
        t
        for (t,) in con.execute(
            f"SELECT DISTINCT {quote(col)} FROM {table} WHERE {quote(col + '_t')} IS NOT NULL"
        ).fetchall()
    ]
    val, texty, bad = [], [], []
    for t in texts:
        v, tx = _parse_int_text(t)
        b = v is None or v < low or v > high
        val.append(None if b else v)
        texty.append(bool(tx) and not b)
        bad.append(b)
    name = f"cx_int_{next(_names)}"
    con.register(
        name,
        pa.table(
            {
                "text": pa.array(texts, pa.string()),
                "val": pa.array(val, pa.float64()),
                "texty": pa.array(texty, pa.bool_()),
                "bad": pa.array(bad, pa.bool_()),
            }
        ),
    )
    return name, f"LEFT JOIN {name} ON {name}.text = x.{quote(col)} AND x.{quote(col + '_t')} IS NOT NULL"


def clean_surveys(con: duckdb.DuckDBPyConnection, raw: RawTable, tz: str) -> _Audit:
    """Rule the raw survey responses as :func:`cxlib.clean.rules.surveys._clean_surveys` does:
    the table ``surveys_ruled`` (rule ``q``, NULL for the kept rows); returns the audit. Needs
    ``cx_visit_ids``.

    >>> audit = clean_surveys(con, raw_surveys, "Asia/Shanghai")  # doctest: +SKIP
    """
    a = _Audit("surveys", raw.rows(con), n=raw.n)
    points = {
        "ltr": (catalog.LTR_MIN, catalog.LTR_MAX),
        **{c: (catalog.SCORE_MIN, catalog.SCORE_MAX) for c in catalog.SCORE_COLUMNS},
    }
    text_table(con, "surveys_text", raw.name, [c.name for c in catalog.TABLES["surveys"]])
    extra, joins = [], []
    for c, (low, high) in points.items():
        name, join = _int_lookup(con, "surveys_text", c, low, high)
        joins.append(join)
        extra.append(
            f"{name}.val AS {c}, coalesce({name}.texty, false) AS {c}_texty, coalesce({name}.bad, false) AS {c}_bad"
        )
    anx_join, anx, anx_fixed, anx_bad = float_lookup(con, "surveys_text", "anxiety_t", 0.0, 100.0, percent=True)
    comment = mask_lookup(con, "surveys_text", "comment_t")
    extra.append(
        f"{anx} AS anxiety, {anx_fixed} AS anx_fixed, {anx_bad} AS anx_bad, "
        f"coalesce(m.masked, x.comment_t) AS comment, m.text IS NOT NULL AS comment_masked"
    )
    joins += [anx_join, f"LEFT JOIN {comment} m ON m.text = x.comment_t"]
    _linked(con, "surveys", raw, "response_id", "submitted_at", tz, ", ".join(extra), " ".join(joins))
    # resubmissions: among the rows still kept, all but the latest (time, then position) per visit
    con.execute("""
        CREATE OR REPLACE TEMP TABLE surveys_ruled AS
        SELECT * EXCLUDE (q0),
               CASE WHEN q0 IS NULL AND row_number() OVER (PARTITION BY q0 IS NULL, vpos ORDER BY utc DESC, r DESC) > 1
                    THEN 'superseded' ELSE q0 END AS q
        FROM surveys_parsed""")
    scores = " OR ".join(f"{c}_bad" for c in catalog.SCORE_COLUMNS)
    texty = " OR ".join(f"{c}_texty" for c in catalog.SCORE_COLUMNS)
    ledger.fill(
        con,
        a,
        "surveys_ruled",
        _reasons(con, "surveys", "response_id"),
        {
            "ltr_text": "ltr_texty",
            "ltr_out_of_range": "ltr_bad",
            "score_out_of_range": scores,
            "value_normalised": f"{texty} OR anx_fixed",
            "value_blanked": "anx_bad",
            "pii_masked": "comment_masked OR extras_masked",
            "timestamp_format": "ts_rep",
        },
    )
    return a


POINTS = ("ltr", *catalog.SCORE_COLUMNS)


def surveys_frame(b: pa.RecordBatch | pa.Table, tz: str) -> pd.DataFrame:
    """The processed columns of a batch of kept survey responses (times in ``tz``)."""
    frame = pd.DataFrame(
        {
            "response_id": pd.Series(b["id"].to_pandas(), dtype="str"),
            "visit_id": pd.Series(b["vid"].to_pandas(), dtype="str"),
            "submitted_at": _series_ts(_ints(b["utc"]), tz),
            **{c: pd.array(b[c].to_numpy(zero_copy_only=False).astype(float), dtype="Int64") for c in POINTS},
            "anxiety": b["anxiety"].to_numpy(zero_copy_only=False).astype(float),
            "comment": pd.Series(b["comment"].to_pandas(), dtype="str"),
        }
    )
    frame["nps_group"] = catalog.nps_group(frame["ltr"].astype("float"))
    return frame


def clean_complaints(con: duckdb.DuckDBPyConnection, raw: RawTable, tz: str) -> _Audit:
    """Rule the raw complaints as :func:`cxlib.clean.rules.complaints._clean_complaints` does:
    the table ``complaints_ruled`` (rule ``q``); returns the audit. Needs ``cx_visit_ids``.

    >>> audit = clean_complaints(con, raw_complaints, "Asia/Shanghai")  # doctest: +SKIP
    """
    a = _Audit("complaints", raw.rows(con), n=raw.n)
    codes = tuple(c.code for c in catalog.COMPLAINT_CHANNELS)
    text_table(con, "complaints_text", raw.name, [c.name for c in catalog.TABLES["complaints"]])
    ch = code_lookup(
        con,
        "complaints_text",
        "channel_t",
        codes,
        _code_mapper(catalog.COMPLAINT_CHANNELS, catalog.COMPLAINT_CHANNEL_ALIASES),
    )
    cat = mask_lookup(con, "complaints_text", "category_t")
    extra = (
        "coalesce(ch.idx, -1) AS ch, coalesce(ch.norm, false) AS ch_norm, "
        "(x.channel_t IS NOT NULL AND coalesce(ch.idx, -1) < 0) AS ch_bad, "
        "coalesce(m.masked, x.category_t) AS category, m.text IS NOT NULL AS category_masked"
    )
    joins = f"LEFT JOIN {ch} ch ON ch.text = x.channel_t LEFT JOIN {cat} m ON m.text = x.category_t"
    _linked(con, "complaints", raw, "complaint_id", "filed_at", tz, extra, joins)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE complaints_ruled AS SELECT * EXCLUDE (q0), q0 AS q FROM complaints_parsed"
    )
    ledger.fill(
        con,
        a,
        "complaints_ruled",
        _reasons(con, "complaints", "complaint_id"),
        {
            "timestamp_format": "ts_rep",
            "value_normalised": "ch_norm",
            "value_blanked": "ch_bad",
            "pii_masked": "category_masked OR extras_masked",
        },
    )
    return a


_COMPLAINT_CHANNELS = [c.code for c in catalog.COMPLAINT_CHANNELS]


def complaints_frame(b: pa.RecordBatch | pa.Table, tz: str) -> pd.DataFrame:
    """The processed columns of a batch of kept complaints (times in ``tz``)."""
    return pd.DataFrame(
        {
            "complaint_id": pd.Series(b["id"].to_pandas(), dtype="str"),
            "visit_id": pd.Series(b["vid"].to_pandas(), dtype="str"),
            "filed_at": _series_ts(_ints(b["utc"]), tz),
            "channel": pd.Categorical.from_codes(
                b["ch"].to_numpy(zero_copy_only=False).astype(np.int16), categories=_COMPLAINT_CHANNELS
            ),
            "category": pd.Series(b["category"].to_pandas(), dtype="str"),
        }
    )
