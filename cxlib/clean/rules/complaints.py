"""Rules of the complaints table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cxlib import catalog
from cxlib.clean.ledger import _Audit
from cxlib.clean.rules.linked import _linked_rows
from cxlib.clean.values import _code_mapper, _map_codes, _mask_column, _strip, _take_str


def _clean_complaints(
    raw: pd.DataFrame, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str
) -> tuple[pd.DataFrame, _Audit]:
    a = _Audit("complaints", raw)
    cid, vid, filed, rep, _ = _linked_rows(a, raw, "complaint_id", "filed_at", raw_visit_ids, kept_visit_ids, tz)
    ch_txt = _strip(raw["channel"])
    codes = tuple(c.code for c in catalog.COMPLAINT_CHANNELS)
    ch_idx, ch_norm, ch_bad = _map_codes(
        ch_txt, codes, _code_mapper(catalog.COMPLAINT_CHANNELS, catalog.COMPLAINT_CHANNEL_ALIASES)
    )
    category, masked = _mask_column(_strip(raw["category"]))
    a.repair(rep, "timestamp_format")
    a.repair(ch_norm, "value_normalised")
    a.repair(ch_bad, "value_blanked")
    a.repair(masked, "pii_masked")
    k = np.flatnonzero(a.kept)
    frame = pd.DataFrame(
        {
            "complaint_id": _take_str(cid, k),
            "visit_id": _take_str(vid, k),
            "filed_at": filed.iloc[k].reset_index(drop=True),
            "channel": pd.Categorical.from_codes(ch_idx[k], categories=list(codes)),
            "category": category.iloc[k].reset_index(drop=True),
        }
    )
    return frame, a
