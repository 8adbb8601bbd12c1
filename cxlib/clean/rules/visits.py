"""Rules of the visits table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib import catalog, privacy
from cxlib.clean.ledger import _Audit, _duplicates, _missing_required
from cxlib.clean.rules.centers import _Centers
from cxlib.clean.timestamps import parse_timestamps
from cxlib.clean.values import (
    _NAT,
    _bool_column,
    _code_mapper,
    _float_column,
    _map_codes,
    _map_unique_multi,
    _norm_key,
    _np_bool,
    _strip,
    _take_str,
)


def _clean_visits(raw: pd.DataFrame, centers: _Centers, tz: str) -> tuple[pd.DataFrame, _Audit, pa.Array]:
    a = _Audit("visits", raw)
    vid = _strip(raw["visit_id"])
    cust = _strip(raw["customer_id"])
    center_txt = _strip(raw["center"])
    scen_txt = _strip(raw["scenario"])
    scen_idx, scen_norm, scen_bad = _map_codes(scen_txt, catalog.SCENARIO_ORDER, _code_mapper(catalog.SCENARIOS))
    ts = {}
    for col in ("booked_at", "arrived_at", "started_at", "finished_at", "delivered_at"):
        ts[col] = parse_timestamps(raw[col], tz=tz)
    _missing_required(
        a,
        {
            "visit_id": _np_bool(pc.is_valid(vid)),
            "customer_id": _np_bool(pc.is_valid(cust)),
            "center": _np_bool(pc.is_valid(center_txt)),
            "scenario": scen_idx >= 0,
            "arrived_at": ts["arrived_at"][0].notna().to_numpy(),
            "delivered_at": ts["delivered_at"][0].notna().to_numpy(),
        },
    )
    _duplicates(a, vid, "visit_id")
    internal = _np_bool(pc.match_substring_regex(cust, r"^(?i)(TEST|STAFF)"))
    a.quarantine(internal, "internal_record", "internal record: customer_id starts with TEST or STAFF")

    ids = centers.frame["center_id"].tolist()
    id_set = set(ids)

    def resolve(v: str) -> tuple[str | None, bool]:
        if v in id_set:
            return v, False
        c = centers.lookup.get(_norm_key(v))
        return c, c is not None

    center, alias = _map_unique_multi(center_txt, resolve, (object, bool), (None, False))
    unknown = _np_bool(pc.is_valid(center_txt)) & pd.isna(center)
    a.quarantine(
        unknown,
        "unknown_center",
        lambda idx: np.array(
            [f"center {c!r} matches no center id, name or alias" for c in center_txt.take(pa.array(idx)).to_pylist()],
            dtype=object,
        ),
    )

    us = {k: v[0].to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64) for k, v in ts.items()}
    nat = {k: v == _NAT for k, v in us.items()}
    checks = (
        ("delivered_at", "arrived_at", "delivered_at is before arrived_at"),
        ("started_at", "arrived_at", "started_at is before arrived_at"),
        ("finished_at", "started_at", "finished_at is before started_at"),
        ("delivered_at", "finished_at", "finished_at is after delivered_at"),
        ("delivered_at", "started_at", "started_at is after delivered_at"),
    )
    for later, earlier, why in checks:
        bad = ~nat[later] & ~nat[earlier] & (us[later] < us[earlier])
        a.quarantine(bad, "impossible_order", why)

    for col, (_, rep, bad) in ts.items():
        a.repair(rep, "timestamp_format")
        if col in ("booked_at", "started_at", "finished_at"):
            a.repair(bad, "value_blanked")
    a.repair(alias, "center_alias")
    a.repair(scen_norm, "value_normalised")
    warranty, w_bad = _bool_column(raw["warranty"])
    a.repair(w_bad, "value_blanked")
    amount, amount_fixed, amount_bad = _float_column(raw["amount_cny"], low=0.0)
    a.repair(amount_bad, "value_blanked")
    a.repair(amount_fixed, "value_normalised")

    model, model_masked = privacy.mask_array(_strip(raw["vehicle_model"]))
    a.repair(model_masked, "pii_masked")

    kept = a.kept
    k = np.flatnonzero(kept)
    frame = pd.DataFrame(
        {
            "visit_id": _take_str(vid, k),
            "customer_id": _take_str(cust, k),
            "center": pd.Series(center[k].astype(str), dtype="str"),
            "scenario": pd.Categorical.from_codes(scen_idx[k], dtype=catalog.SCENARIO_DTYPE),
            "vehicle_model": _take_str(model, k),
            **{c: ts[c][0].iloc[k].reset_index(drop=True) for c in ts},
            "warranty": warranty.iloc[k].reset_index(drop=True),
            "amount_cny": amount[k],
        }
    )
    return frame, a, vid
