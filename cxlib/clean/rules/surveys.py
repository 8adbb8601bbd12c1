"""Rules of the surveys table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib import catalog
from cxlib.clean.ledger import _Audit
from cxlib.clean.rules.linked import _linked_rows
from cxlib.clean.values import (
    _arrow,
    _float_column,
    _map_unique_multi,
    _mask_column,
    _np_bool,
    _parse_int_text,
    _strip,
    _take_str,
)


def _int_answer(text: str) -> tuple[float, bool]:
    """(number, was_text) of one distinct answer as :func:`_parse_int_text` reads it, NaN where it
    reads no integer (the value arrays of the survey scores are float).

        >>> _int_answer(" 10 "), _int_answer("9.5"), _int_answer("7")
        ((10.0, True), (nan, True), (7.0, False))
    """
    value, was_text = _parse_int_text(text)
    return (np.nan if value is None else value, was_text)


def _clean_surveys(
    raw: pd.DataFrame, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str
) -> tuple[pd.DataFrame, _Audit]:
    a = _Audit("surveys", raw)
    rid, vid, sub, sub_rep, vpos = _linked_rows(
        a, raw, "response_id", "submitted_at", raw_visit_ids, kept_visit_ids, tz
    )
    # resubmissions: keep the latest (by submitted_at, then by position) per visit
    cand = np.flatnonzero(a.kept)
    sub_us = sub.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)
    order = cand[np.lexsort((cand, sub_us[cand], vpos[cand]))]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = vpos[order][1:] != vpos[order][:-1]
    superseded = np.zeros(a.n, dtype=bool)
    superseded[order[~last]] = True
    a.quarantine(superseded, "superseded", "an earlier response for the same visit, superseded by a resubmission")

    def ints(col: str, low: int, high: int):
        arr = _arrow(raw[col])  # not trimmed: ' 10 ' is an answer written as text
        arr = pc.if_else(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0), pa.scalar(None, arr.type), arr)
        val, texty = _map_unique_multi(
            arr,
            _int_answer,
            (float, bool),
            (np.nan, False),
        )
        present = _np_bool(pc.is_valid(arr))
        bad = present & (np.isnan(val) | (val < low) | (val > high))
        val[bad] = np.nan
        return val, texty & ~bad, bad

    ltr, ltr_text, ltr_bad = ints("ltr", catalog.LTR_MIN, catalog.LTR_MAX)
    a.repair(ltr_text, "ltr_text")
    a.repair(ltr_bad, "ltr_out_of_range")
    scores = {}
    for col in catalog.SCORE_COLUMNS:
        val, texty, bad = ints(col, catalog.SCORE_MIN, catalog.SCORE_MAX)
        a.repair(bad, "score_out_of_range")
        a.repair(texty, "value_normalised")
        scores[col] = val
    anxiety, anx_fixed, anx_bad = _float_column(raw["anxiety"], low=0.0, high=100.0, percent=True)
    a.repair(anx_bad, "value_blanked")
    a.repair(anx_fixed, "value_normalised")
    comment, masked = _mask_column(_strip(raw["comment"]))
    a.repair(masked, "pii_masked")
    a.repair(sub_rep, "timestamp_format")

    k = np.flatnonzero(a.kept)
    frame = pd.DataFrame(
        {
            "response_id": _take_str(rid, k),
            "visit_id": _take_str(vid, k),
            "submitted_at": sub.iloc[k].reset_index(drop=True),
            "ltr": pd.array(ltr[k], dtype="Int64"),
            **{c: pd.array(scores[c][k], dtype="Int64") for c in catalog.SCORE_COLUMNS},
            "anxiety": anxiety[k],
            "comment": comment.iloc[k].reset_index(drop=True),
        }
    )
    frame["nps_group"] = catalog.nps_group(frame["ltr"].astype("float"))
    return frame, a
