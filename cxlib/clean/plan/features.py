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


def feature_table(con: duckdb.DuckDBPyConnection, visits: str = "visits_kept", events: str = "events_ruled") -> None:
    """The table ``visit_feats`` (``pos``, the counts of :func:`visit_features` and the longest
    silence in minutes) for the kept visits ``visits`` (position ``pos``, times in UTC
    microseconds) from the kept rows of ``events``, all in DuckDB.

    >>> feature_table(con)  # doctest: +SKIP
    """
    upd, inprog = f"tp IN ({', '.join(map(str, _UPD))})", f"tp IN ({', '.join(map(str, _INPROG))})"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE visit_feats AS
        WITH v AS (SELECT pos, arrived_at AS arr, delivered_at AS dlv, started_at AS st, finished_at AS fin
                   FROM {visits}),
        e AS (SELECT vpos, utc, tp, photo = 1 AS photo FROM {events} WHERE q IS NULL),
        win AS (
            SELECT e.vpos, count(*) FILTER (WHERE {upd}) AS n_upd, count(*) FILTER (WHERE {inprog}) AS n_inp,
                   count(*) FILTER (WHERE {inprog} AND photo) AS n_photo, count(*) FILTER (WHERE tp = {_INQ}) AS n_inq
            FROM e JOIN v ON v.pos = e.vpos
            WHERE e.utc >= v.arr AND e.utc <= v.dlv GROUP BY e.vpos),
        pts AS (
            SELECT pos AS v, st AS t FROM v WHERE st IS NOT NULL AND fin IS NOT NULL
            UNION ALL SELECT pos, fin FROM v WHERE st IS NOT NULL AND fin IS NOT NULL
            UNION ALL SELECT e.vpos, e.utc FROM e JOIN v ON v.pos = e.vpos
                      WHERE e.{upd} AND v.st IS NOT NULL AND v.fin IS NOT NULL AND e.utc >= v.st AND e.utc <= v.fin),
        gaps AS (SELECT v, t - lag(t) OVER (PARTITION BY v ORDER BY t) AS g FROM pts),
        silence AS (SELECT v, CAST(max(g) AS DOUBLE) / 60000000.0 AS s FROM gaps GROUP BY v)
        SELECT v.pos, coalesce(w.n_upd, 0) AS n_upd, coalesce(w.n_inp, 0) AS n_inp, coalesce(w.n_photo, 0) AS n_photo,
               coalesce(w.n_inq, 0) AS n_inq, s.s AS silence,
               CASE WHEN coalesce(w.n_photo, 0) > 0 THEN 3 WHEN coalesce(w.n_inp, 0) > 0 THEN 2
                    WHEN coalesce(w.n_upd, 0) > 0 THEN 1 ELSE 0 END AS tier
        FROM v LEFT JOIN win w ON w.vpos = v.pos LEFT JOIN silence s ON s.v = v.pos""")


def features_frame(b: pa.RecordBatch | pa.Table) -> dict[str, object]:
    """The feature columns (:func:`cxlib.clean.visit_features`) of a batch with the columns of
    ``visit_feats``."""
    n_photo = b["n_photo"].to_numpy(zero_copy_only=False).astype(np.int64)
    return {
        "n_proactive_updates": b["n_upd"].to_numpy(zero_copy_only=False).astype(np.int64),
        "n_inprogress_updates": b["n_inp"].to_numpy(zero_copy_only=False).astype(np.int64),
        "has_photo_update": n_photo > 0,
        "tier": pd.Categorical.from_codes(
            b["tier"].to_numpy(zero_copy_only=False).astype(np.int8), dtype=catalog.TIER_DTYPE
        ),
        "longest_silence_minutes": b["silence"].to_numpy(zero_copy_only=False).astype(float),
        "n_inquiries": b["n_inq"].to_numpy(zero_copy_only=False).astype(np.int64),
    }
