"""The visits table in the plan: its rules as SQL over the raw text.

Rules, in the order a row meets them: required visit_id, customer_id, center, scenario (a
code, name or spelling of one), arrived_at and delivered_at; a visit_id seen before; an
internal record (customer id TEST… or STAFF…); a center that matches no center id, name or
alias; timestamps in an impossible order. Repairs counted on the kept rows: timestamp
formats, centers by name or alias, codes and amounts normalised, unreadable optional values
blanked, personal data in the vehicle model masked.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog
from cxlib.clean.ledger import _Audit
from cxlib.clean.plan import ledger
from cxlib.clean.plan.raw import EXTRA, RawTable, extras_sql
from cxlib.clean.plan.values import (
    bool_lookup,
    code_lookup,
    float_lookup,
    lookup,
    mask_lookup,
    quote,
    text_table,
    timestamp_lookup,
    timestamp_parts,
)
from cxlib.clean.rules.centers import _Centers
from cxlib.clean.values import _code_mapper, _norm_key, _series_ts

TIMES = ("booked_at", "arrived_at", "started_at", "finished_at", "delivered_at")
_ORDER = (
    ("delivered_at", "arrived_at", "delivered_at is before arrived_at"),
    ("started_at", "arrived_at", "started_at is before arrived_at"),
    ("finished_at", "started_at", "finished_at is before started_at"),
    ("delivered_at", "finished_at", "finished_at is after delivered_at"),
    ("delivered_at", "started_at", "started_at is after delivered_at"),
)


def clean_visits(con: duckdb.DuckDBPyConnection, raw: RawTable, centers: _Centers, tz: str) -> _Audit:
    """Rule the raw visits (``raw_visits``) as :func:`cxlib.clean.rules.visits._clean_visits`
    does: the table ``visits_ruled`` (one row per raw row, rule ``q``), the kept visits in
    ``visits_kept`` (position ``pos``, times in UTC microseconds), the raw and kept visit ids
    with the position of their kept visit in ``cx_visit_ids`` (-1: quarantined); returns the audit.

    >>> audit = clean_visits(con, raw_visits, centers, "Asia/Shanghai")  # doctest: +SKIP
    """
    a = _Audit("visits", raw.rows(con), n=raw.n)
    cols = [c.name for c in catalog.TABLES["visits"]]
    text_table(con, "visits_text", raw.name, cols)
    parts = ", ".join(timestamp_parts(f"{c}_t", tz, c) for c in TIMES)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE visits_ts AS SELECT r, {', '.join(c + '_t' for c in TIMES)}, "
        f"{parts} FROM visits_text"
    )
    ts = {c: timestamp_lookup(con, "visits_ts", f"{c}_t", c, tz, alias="s") for c in TIMES}
    scen = code_lookup(con, "visits_text", "scenario_t", catalog.SCENARIO_ORDER, _code_mapper(catalog.SCENARIOS))
    ids = set(centers.frame["center_id"].tolist())

    def resolve(v: str) -> tuple[str | None, bool]:
        if v in ids:
            return v, False
        c = centers.lookup.get(_norm_key(v))
        return c, c is not None

    ce = lookup(
        con, "SELECT DISTINCT center_t AS t FROM visits_text", resolve, {"center": pa.string(), "alias": pa.bool_()}
    )
    wa = bool_lookup(con, "visits_text", "warranty_t")
    model = mask_lookup(con, "visits_text", "vehicle_model_t")
    amt_join, amt, amt_fixed, amt_bad = float_lookup(con, "visits_text", "amount_cny_t", 0.0, np.inf)
    times = ", ".join(f"{ts[c].utc} AS {c}, {ts[c].rep} AS {c}_rep, {ts[c].bad} AS {c}_bad" for c in TIMES)
    joins = " ".join(ts[c].join for c in TIMES)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE visits_parsed AS
        SELECT x.r, x.visit_id_t AS vid, x.customer_id_t AS cust, x.center_t, coalesce(sc.idx, -1) AS scen,
               coalesce(sc.norm, false) AS scen_norm, ce.center, coalesce(ce.alias, false) AS alias, {times},
               coalesce(wa.code, -1) AS warranty, (x.warranty_t IS NOT NULL AND coalesce(wa.code, -1) < 0) AS w_bad,
               {amt} AS amount, {amt_fixed} AS amount_fixed, {amt_bad} AS amount_bad,
               coalesce(m.masked, x.vehicle_model_t) AS model, m.text IS NOT NULL AS model_masked,
               coalesce(regexp_matches(x.customer_id_t, '^(?i)(TEST|STAFF)'), false) AS internal
        FROM visits_text x JOIN visits_ts s ON s.r = x.r {joins} {amt_join}
        LEFT JOIN {scen} sc ON sc.text = x.scenario_t
        LEFT JOIN {ce} ce ON ce.text = x.center_t
        LEFT JOIN {wa} wa ON wa.text = x.warranty_t
        LEFT JOIN {model} m ON m.text = x.vehicle_model_t""")
    con.execute("DROP TABLE visits_text")
    con.execute("DROP TABLE visits_ts")
    order = "\n".join(f"WHEN v.{later} < v.{earlier} THEN 'impossible_order:{why}'" for later, earlier, why in _ORDER)
    ex_sel, ex_joins, ex_changed = extras_sql(con, raw)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE visits_ruled AS
        SELECT v.*, d.first IS NOT NULL AND v.r > d.first AS dup,
               CASE WHEN v.vid IS NULL THEN 'missing_required:visit_id'
                    WHEN v.cust IS NULL THEN 'missing_required:customer_id'
                    WHEN v.center_t IS NULL THEN 'missing_required:center'
                    WHEN v.scen < 0 THEN 'missing_required:scenario'
                    WHEN v.arrived_at IS NULL THEN 'missing_required:arrived_at'
                    WHEN v.delivered_at IS NULL THEN 'missing_required:delivered_at'
                    WHEN d.first IS NOT NULL AND v.r > d.first THEN 'duplicate_id'
                    WHEN v.internal THEN 'internal_record'
                    WHEN v.center IS NULL THEN 'unknown_center'
                    {order} END AS q,
               {ex_changed} AS extras_masked {ex_sel}
        FROM visits_parsed v
        JOIN {raw.name} w ON w.cx__r = v.r {ex_joins}
        LEFT JOIN (SELECT vid, min(r) AS first FROM visits_parsed WHERE vid IS NOT NULL
                   GROUP BY vid HAVING count(*) > 1) d ON d.vid = v.vid""")
    con.execute("DROP TABLE visits_parsed")
    n_dup = con.execute("SELECT count(*) FROM visits_ruled WHERE dup").fetchone()[0]

    def reasons(rule: str, detail: str, rows: np.ndarray):
        if rule == "missing_required":
            return f"required value {detail} is missing or unreadable"
        if rule == "duplicate_id":
            if n_dup >= 1_000_000:
                return "visit_id appears again"
            return np.array(
                [f"visit_id {v} appears again (first occurrence kept)" for v in _texts(con, "vid", rows)], dtype=object
            )
        if rule == "internal_record":
            return "internal record: customer_id starts with TEST or STAFF"
        if rule == "unknown_center":
            return np.array(
                [f"center {c!r} matches no center id, name or alias" for c in _texts(con, "center_t", rows)],
                dtype=object,
            )
        return detail

    ledger.fill(
        con,
        a,
        "visits_ruled",
        reasons,
        {
            "timestamp_format": " OR ".join(f"{c}_rep" for c in TIMES),
            "value_blanked": "booked_at_bad OR started_at_bad OR finished_at_bad OR w_bad OR amount_bad",
            "center_alias": "alias",
            "value_normalised": "scen_norm OR amount_fixed",
            "pii_masked": "model_masked OR extras_masked",
        },
    )
    extras = "".join(f", {quote(EXTRA + c)}" for c in raw.extras)
    con.execute(f"""
        CREATE OR REPLACE TABLE visits_kept AS
        SELECT row_number() OVER (ORDER BY r) - 1 AS pos, r, vid, cust, center, scen, model, {", ".join(TIMES)},
               warranty, amount {extras}
        FROM visits_ruled WHERE q IS NULL""")
    # every raw visit id once, with the position of its kept visit (-1: the visit was quarantined)
    con.execute("""
        CREATE OR REPLACE TABLE cx_visit_ids AS
        SELECT i.vid, coalesce(k.pos, -1) AS pos
        FROM (SELECT DISTINCT vid FROM visits_ruled WHERE vid IS NOT NULL) i LEFT JOIN visits_kept k ON k.vid = i.vid""")
    return a


def visits_frame(b: pa.RecordBatch | pa.Table, tz: str) -> pd.DataFrame:
    """The columns of the kept visits (as the reference rules give them, times in ``tz``) from a
    batch of ``visits_kept``."""
    w = b["warranty"].to_numpy(zero_copy_only=False).astype(np.int8)
    return pd.DataFrame(
        {
            "visit_id": pd.Series(b["vid"].to_pandas(), dtype="str"),
            "customer_id": pd.Series(b["cust"].to_pandas(), dtype="str"),
            "center": pd.Series(b["center"].to_pandas(), dtype="str"),
            "scenario": pd.Categorical.from_codes(
                b["scen"].to_numpy(zero_copy_only=False).astype(np.int16), dtype=catalog.SCENARIO_DTYPE
            ),
            "vehicle_model": pd.Series(b["model"].to_pandas(), dtype="str"),
            **{c: _series_ts(_ints(b[c]), tz) for c in TIMES},
            "warranty": pd.Series(pd.arrays.BooleanArray(w == 1, w < 0)),
            "amount_cny": b["amount"].to_numpy(zero_copy_only=False).astype(float),
        }
    )


def _ints(col) -> np.ndarray:
    """int64 microseconds with the missing marker for NULL."""
    import pyarrow.compute as pc

    from cxlib.clean.values import _NAT

    return pc.fill_null(col, _NAT).to_numpy(zero_copy_only=False).astype(np.int64)


def _texts(con: duckdb.DuckDBPyConnection, column: str, rows: np.ndarray) -> list:
    con.register("cx_rows", pa.table({"r": pa.array(rows, pa.int64())}))
    out = [
        v for (v,) in con.execute(f"SELECT v.{column} FROM visits_ruled v JOIN cx_rows USING (r) ORDER BY r").fetchall()
    ]
    con.unregister("cx_rows")
    return out
