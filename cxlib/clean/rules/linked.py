"""Rules every table linked to a visit shares (surveys, complaints)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib.clean.ledger import _Audit, _duplicates, _missing_required
from cxlib.clean.timestamps import parse_timestamps
from cxlib.clean.values import _np_bool, _strip


def _linked_rows(
    a: _Audit, raw: pd.DataFrame, id_col: str, ts_col: str, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str
) -> tuple[pa.Array, pa.Array, pd.Series, np.ndarray, np.ndarray]:
    """The rules every table linked to a visit shares: required id, visit and time; duplicate
    ids; orphan visit ids; rows of quarantined visits. Returns (ids, visit ids, times, times
    repaired, position of the visit among the kept visits or -1)."""
    ids = _strip(raw[id_col])
    vid = _strip(raw["visit_id"])
    ts, ts_rep, _ = parse_timestamps(raw[ts_col], tz=tz)
    _missing_required(
        a, {id_col: _np_bool(pc.is_valid(ids)), "visit_id": _np_bool(pc.is_valid(vid)), ts_col: ts.notna().to_numpy()}
    )
    _duplicates(a, ids, id_col)
    in_raw = _np_bool(pc.is_in(vid, value_set=raw_visit_ids))
    a.quarantine(~in_raw, "orphan_visit", "visit_id matches no visit in the raw data")
    vpos = pc.fill_null(pc.index_in(vid, value_set=kept_visit_ids), -1).to_numpy(zero_copy_only=False)
    a.quarantine(vpos < 0, "visit_quarantined", "its visit was quarantined")
    return ids, vid, ts, ts_rep, vpos
