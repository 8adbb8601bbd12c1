"""Per-visit features of the event log as SQL aggregates over the kept events.

Within a visit's window (arrival to delivery): proactive updates, in-progress updates, those
with a photo, customer inquiries; the tier from them; and the longest silence during the
repair: the largest gap between repair start, the updates within the repair and its finish.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog

_CODES = list(catalog.TOUCHPOINT_CODES)
_UPD = [_CODES.index(c) for c in catalog.UPDATE_TOUCHPOINTS]
_INPROG = [_CODES.index(c) for c in catalog.IN_PROGRESS_UPDATES]
_INQ = _CODES.index(catalog.INQUIRY_TOUCHPOINT)


def _us(s: pd.Series) -> pa.Array:
    vals = s.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)
    return pa.array(vals, pa.int64(), mask=np.isnat(vals.view("datetime64[us]")))


def visit_features(con: duckdb.DuckDBPyConnection, visits: pd.DataFrame, events: str = "events_ruled"
                   ) -> pd.DataFrame:
    """The columns of :func:`cxlib.clean.visit_features` for the kept ``visits`` (their order),
    computed by DuckDB from the kept rows (``q IS NULL``) of ``events`` (visit position
    ``vpos``, time ``utc`` in microseconds, touchpoint index ``tp``, ``photo`` code).

    >>> visit_features(con, visits)["tier"].value_counts()  # doctest: +SKIP
    """
    con.register("cx_visit_times", pa.table({
        "pos": pa.array(np.arange(len(visits), dtype=np.int64)),
        **{k: _us(visits[c]) for k, c in (("arr", "arrived_at"), ("dlv", "delivered_at"),
                                          ("st", "started_at"), ("fin", "finished_at"))}}))
    upd, inprog = f"tp IN ({', '.join(map(str, _UPD))})", f"tp IN ({', '.join(map(str, _INPROG))})"
    df = con.execute(f"""
        WITH e AS (SELECT vpos, utc, tp, photo = 1 AS photo FROM {events} WHERE q IS NULL),
        win AS (
            SELECT e.vpos, count(*) FILTER (WHERE {upd}) AS n_upd, count(*) FILTER (WHERE {inprog}) AS n_inp,
                   count(*) FILTER (WHERE {inprog} AND photo) AS n_photo, count(*) FILTER (WHERE tp = {_INQ}) AS n_inq
            FROM e JOIN cx_visit_times v ON v.pos = e.vpos
            WHERE e.utc >= v.arr AND e.utc <= v.dlv GROUP BY e.vpos),
        pts AS (
            SELECT pos AS v, st AS t FROM cx_visit_times WHERE st IS NOT NULL AND fin IS NOT NULL
            UNION ALL SELECT pos, fin FROM cx_visit_times WHERE st IS NOT NULL AND fin IS NOT NULL
            UNION ALL SELECT e.vpos, e.utc FROM e JOIN cx_visit_times v ON v.pos = e.vpos
                      WHERE e.{upd} AND v.st IS NOT NULL AND v.fin IS NOT NULL AND e.utc >= v.st AND e.utc <= v.fin),
        gaps AS (SELECT v, t - lag(t) OVER (PARTITION BY v ORDER BY t) AS g FROM pts),
        silence AS (SELECT v, CAST(max(g) AS DOUBLE) / 60000000.0 AS s FROM gaps GROUP BY v)
        SELECT coalesce(w.n_upd, 0) AS n_upd, coalesce(w.n_inp, 0) AS n_inp, coalesce(w.n_photo, 0) AS n_photo,
               coalesce(w.n_inq, 0) AS n_inq, s.s AS silence
        FROM cx_visit_times v LEFT JOIN win w ON w.vpos = v.pos LEFT JOIN silence s ON s.v = v.pos
        ORDER BY v.pos""").fetch_df()
    con.unregister("cx_visit_times")
    n_upd, n_inp, n_photo = (df[c].to_numpy(dtype=np.int64) for c in ("n_upd", "n_inp", "n_photo"))
    tier = np.where(n_photo > 0, 3, np.where(n_inp > 0, 2, np.where(n_upd > 0, 1, 0)))
    return pd.DataFrame({
        "visit_id": visits["visit_id"].to_numpy(),
        "n_proactive_updates": n_upd,
        "n_inprogress_updates": n_inp,
        "has_photo_update": n_photo > 0,
        "tier": pd.Categorical.from_codes(tier, dtype=catalog.TIER_DTYPE),
        "longest_silence_minutes": df["silence"].to_numpy(dtype=float, na_value=np.nan),
        "n_inquiries": df["n_inq"].to_numpy(dtype=np.int64),
    })
