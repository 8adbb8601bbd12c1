"""Derived per-visit features: proactive updates, tier, silence, the survey and complaints
of each visit, and the touchpoint scores in long form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib import catalog
from cxlib.clean.values import _NAT, _US_PER_MIN, _arrow


def visit_features(visits: pd.DataFrame, events: pd.DataFrame, event_visit: np.ndarray | None = None) -> pd.DataFrame:
    """Per-visit update features from the event log (vectorised, one pass over the events).

    Returns one row per visit (same order as ``visits``) with ``n_proactive_updates``,
    ``n_inprogress_updates``, ``has_photo_update``, ``tier``, ``longest_silence_minutes``
    and ``n_inquiries``. ``event_visit`` (row position of each event's visit) is computed from
    ``visit_id`` when not given.

    >>> visit_features(visits, events)[["visit_id", "tier"]].head(1)  # doctest: +SKIP
    """
    nv = len(visits)
    if event_visit is None:
        event_visit = pc.fill_null(
            pc.index_in(_arrow(events["visit_id"]), value_set=_arrow(visits["visit_id"])), -1
        ).to_numpy(zero_copy_only=False)
    ev = np.asarray(event_visit, dtype=np.int64)
    ok = ev >= 0

    def us(s: pd.Series) -> np.ndarray:
        return s.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)

    arr, dlv, st, fin = (us(visits[c]) for c in ("arrived_at", "delivered_at", "started_at", "finished_at"))
    t = us(events["ts"])
    tp = events["touchpoint"].cat.codes.to_numpy()
    codes = list(catalog.TOUCHPOINT_DTYPE.categories)
    upd = np.isin(tp, [codes.index(c) for c in catalog.UPDATE_TOUCHPOINTS])
    inprog = np.isin(tp, [codes.index(c) for c in catalog.IN_PROGRESS_UPDATES])
    inquiry = tp == codes.index(catalog.INQUIRY_TOUCHPOINT)
    photo = events["photo"].fillna(False).to_numpy(dtype=bool)
    evs = np.where(ok, ev, 0)
    win = ok & (t >= arr[evs]) & (t <= dlv[evs]) & (t != _NAT)
    n_upd = np.bincount(ev[win & upd], minlength=nv)
    n_inp = np.bincount(ev[win & inprog], minlength=nv)
    n_photo = np.bincount(ev[win & inprog & photo], minlength=nv)
    n_inq = np.bincount(ev[win & inquiry], minlength=nv)
    tier = np.where(n_photo > 0, 3, np.where(n_inp > 0, 2, np.where(n_upd > 0, 1, 0)))

    # longest silence during the repair: gaps between start, updates, finish
    has_rep = (st != _NAT) & (fin != _NAT)
    sel = ok & upd & has_rep[evs] & (t >= st[evs]) & (t <= fin[evs])
    rv = np.flatnonzero(has_rep)
    v_all = np.concatenate([rv, ev[sel], rv])
    t_all = np.concatenate([st[rv], t[sel], fin[rv]])
    order = np.lexsort((t_all, v_all))
    v_all, t_all = v_all[order], t_all[order]
    silence = np.full(nv, np.nan)
    if len(v_all) > 1:
        gaps = np.diff(t_all).astype(float)
        gaps[v_all[1:] != v_all[:-1]] = -np.inf
        starts = np.flatnonzero(np.r_[True, v_all[1:] != v_all[:-1]])
        # each group has >= 2 points (start and finish): its gaps are gaps[start : end-1]
        g = np.maximum.reduceat(np.r_[gaps, -np.inf], starts)
        silence[v_all[starts]] = g / _US_PER_MIN
    return pd.DataFrame(
        {
            "visit_id": visits["visit_id"].to_numpy(),
            "n_proactive_updates": n_upd.astype(np.int64),
            "n_inprogress_updates": n_inp.astype(np.int64),
            "has_photo_update": n_photo > 0,
            "tier": pd.Categorical.from_codes(tier, dtype=catalog.TIER_DTYPE),
            "longest_silence_minutes": silence,
            "n_inquiries": n_inq.astype(np.int64),
        }
    )


def _minutes(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 60.0).to_numpy(dtype=float, na_value=np.nan)


def _enrich_visits(
    visits: pd.DataFrame,
    events: pd.DataFrame | None,
    event_visit: np.ndarray | None,
    surveys: pd.DataFrame,
    complaints: pd.DataFrame,
    centers: pd.DataFrame,
    feats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The visits with their derived columns; ``feats`` (the :func:`visit_features` columns)
    computed here from ``events`` when not given."""
    v = visits
    local = _time_columns(v)
    if feats is None:
        feats = visit_features(v, events, event_visit)
    for c in feats.columns[1:]:
        v[c] = feats[c].to_numpy() if c != "tier" else feats[c]
    vids = _arrow(v["visit_id"])
    spos = pc.fill_null(pc.index_in(vids, value_set=_arrow(surveys["visit_id"])), -1).to_numpy(zero_copy_only=False)
    has = spos >= 0
    take = np.where(has, spos, 0)
    rid = surveys["response_id"].to_numpy(dtype=object) if len(surveys) else np.array([None], dtype=object)
    ltr = surveys["ltr"].to_numpy(dtype=float, na_value=np.nan) if len(surveys) else np.array([np.nan])
    anx = surveys["anxiety"].to_numpy(dtype=float) if len(surveys) else np.array([np.nan])
    cpos = pc.fill_null(pc.index_in(_arrow(complaints["visit_id"]), value_set=vids), -1).to_numpy(zero_copy_only=False)
    n_complaints = np.bincount(cpos[cpos >= 0], minlength=len(v))
    return _survey_columns(
        v,
        local,
        centers,
        np.where(has, rid[take], None),
        np.where(has, ltr[take], np.nan),
        np.where(has, anx[take], np.nan),
        n_complaints,
    )


def _survey_columns(
    v: pd.DataFrame,
    local: pd.Series,
    centers: pd.DataFrame,
    response_id: np.ndarray,
    ltr: np.ndarray,
    anxiety: np.ndarray,
    n_complaints: np.ndarray,
) -> pd.DataFrame:
    """The visits' columns after the features: rollout, the visit's survey answer and complaints."""
    since = dict(zip(centers["center_id"], pd.to_datetime(centers["realtime_since"])))
    since_v = pd.to_datetime(v["center"].map(since))
    v["realtime_live"] = (since_v.notna() & (local.dt.normalize() >= since_v)).to_numpy(dtype=bool)
    v["response_id"] = pd.Series(response_id, dtype="str")
    v["ltr"] = pd.array(ltr, dtype="Int64")
    v["nps_group"] = catalog.nps_group(v["ltr"].astype("float"))
    v["anxiety"] = anxiety
    v["n_complaints"] = np.asarray(n_complaints).astype(np.int64)
    v["complained"] = v["n_complaints"] > 0
    return v


def _time_columns(v: pd.DataFrame) -> pd.Series:
    """Add month and the minutes of waiting, repair and the whole visit; the local arrival times."""
    local = v["arrived_at"].dt.tz_localize(None)
    ym = (local.dt.year * 12 + local.dt.month - 1).to_numpy()
    uniq, inv = np.unique(ym, return_inverse=True)
    labels = np.array([f"{u // 12:04d}-{u % 12 + 1:02d}" for u in uniq], dtype=object)
    v["month"] = pd.Series(labels[inv] if len(uniq) else np.array([], dtype=object), dtype="str")
    v["wait_minutes"] = _minutes(v["started_at"], v["arrived_at"])
    v["repair_minutes"] = _minutes(v["finished_at"], v["started_at"])
    v["visit_minutes"] = _minutes(v["delivered_at"], v["arrived_at"])
    return local


def scores_long(surveys: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Touchpoint scores in long form: one row per (response, score point) with a valid score.

    >>> scores_long(surveys, visits).columns.tolist()[:4]  # doctest: +SKIP
    ['response_id', 'visit_id', 'point', 'stage']
    """
    # one row per (response, point) with a score, by response then point (row-major order)
    values = np.column_stack(
        [surveys[p.column].to_numpy(dtype=float, na_value=np.nan) for p in catalog.SCORE_POINTS]
    ).reshape(len(surveys), len(catalog.SCORE_POINTS))
    rows, pidx = np.nonzero(~np.isnan(values))
    score = values[rows, pidx].astype(np.int64)
    del values
    vinfo = visits.set_index("visit_id")
    take = pa.array(rows)
    vis = _arrow(surveys["visit_id"]).take(take)
    stage_codes = np.array([catalog.STAGE_ORDER.index(p.stage) for p in catalog.SCORE_POINTS])
    out = pd.DataFrame(
        {
            "response_id": pd.Series(pd.array(_arrow(surveys["response_id"]).take(take), dtype="str")),
            "visit_id": pd.Series(pd.array(vis, dtype="str")),
            "point": pd.Categorical.from_codes(pidx, dtype=catalog.SCORE_POINT_DTYPE),
            "stage": pd.Categorical.from_codes(stage_codes[pidx], dtype=catalog.STAGE_DTYPE),
            "score": score,
        }
    )
    vpos = (
        pc.fill_null(pc.index_in(vis, value_set=_arrow(visits["visit_id"])), -1)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )
    for c in ("center", "scenario", "tier", "month"):
        col = vinfo[c]
        out[c] = (
            col.iloc[np.where(vpos < 0, 0, vpos)].reset_index(drop=True) if len(col) else col.reindex(vis.to_pandas())
        )
        if (vpos < 0).any():
            out.loc[vpos < 0, c] = None
    out["ltr"] = pd.array(surveys["ltr"].to_numpy()[rows], dtype="Int64")
    return out
