"""The centers of a period against the network: league table, funnel plot and alerts.

    rows = league.period_visits(Path("data/processed"))
    table = league.league_table(rows, "2026-10", "2026-10")      # one row per center, network first
    found = league.alerts(rows, "2026-10", "2026-10")             # alerts.json of the period

Every figure is computed from the processed visits (the same data the notebooks read, all
scenarios), not from earlier report runs: the index of a period and its alerts never depend
on which centers were run before, and the previous period needs no report of its own.

- NPS per center with its adjusted-Wald 95 % interval (:func:`cxlib.nps.nps`), on the visits
  whose survey has an LTR answer; complaint share (visits with a complaint) with its Wilson
  95 % interval, on every visit (unknown when no complaints table was given).
- Funnel limits around the network value by n: ``p0 ± z·σ/√n`` with ``σ²`` the per-response
  variance of the −1/0/+1 promoter score (NPS) or ``p0(1 − p0)`` (complaint share), for 95 %
  (z = 1.96) and 99.8 % (z = 3.09).
- Alerts: a center whose NPS or complaint share changed against the previous period
  (:func:`previous_period`; adjusted-Wald z test of two independent NPS, :func:`cxlib.nps.nps_test`,
  or pooled z test of two proportions), Holm-corrected across the centers per measure at ``alpha`` =
  0.05 (:func:`cxlib.stats.adjust_pvalues`), or that lies outside the 99.8 % funnel limits. Schema in ``docs/results.md``.

    >>> previous_period("2026-08", "2026-10")
    ('2026-05', '2026-07')
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import nps as nps_mod
from cxlib.stats import adjust_pvalues

#: Version of the ``alerts.json`` layout (raised only when a key changes meaning or goes away).
ALERTS_SCHEMA = 1
#: Two-sided level of the change tests (after Holm's correction).
ALPHA = 0.05
#: Coverage of the funnel's inner and outer control limits.
FUNNEL_LEVELS = (0.95, 0.998)
#: Columns read from the processed visits.
COLUMNS = ("center", "month", "arrived_at", "ltr", "complained")


def period_visits(processed_dir: Path) -> pd.DataFrame:
    """The processed visits' columns the league table needs (:data:`COLUMNS`), read under the
    processed folder's lock; ``complained`` is missing when no complaints table was given.

        >>> period_visits(Path("data/processed")).columns.tolist()  # doctest: +SKIP
        ['center', 'month', 'arrived_at', 'ltr', 'complained']
    """
    from cxlib import clean

    processed_dir = Path(processed_dir)
    with clean.reading(processed_dir):
        visits = pd.read_parquet(processed_dir / "visits.parquet", columns=list(COLUMNS))
        quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
    return clean.unknown_when_not_given(visits, clean.given_tables(quality))


def _months(visits: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    m = visits["month"].astype(str)
    mask = np.ones(len(visits), dtype=bool)
    if start is not None:
        mask &= (m >= start).to_numpy()
    if end is not None:
        mask &= (m <= end).to_numpy()
    return visits[mask]


def previous_period(start: str | None, end: str | None) -> tuple[str, str] | None:
    """The period of the same number of months just before ``start``..``end`` (None for all data).

        >>> previous_period("2026-01", "2026-01")
        ('2025-12', '2025-12')
    """
    if start is None or end is None:
        return None
    y0, m0 = map(int, start.split("-"))
    y1, m1 = map(int, end.split("-"))
    length = (y1 - y0) * 12 + (m1 - m0) + 1
    first = y0 * 12 + (m0 - 1) - length
    last = first + length - 1
    return f"{first // 12:04d}-{first % 12 + 1:02d}", f"{last // 12:04d}-{last % 12 + 1:02d}"


def _stats(part: pd.DataFrame) -> dict[str, Any]:
    """NPS and complaint share of one group of visits, with intervals and counts."""
    ltr = pd.to_numeric(part["ltr"], errors="coerce").dropna()
    out: dict[str, Any] = {"n_visits": int(len(part)), "n_responses": int(ltr.size)}
    if ltr.size:
        r = nps_mod.nps(ltr.to_numpy(dtype=float))
        out.update(nps=float(r["nps"]), nps_ci_low=float(r["adjusted_low"]), nps_ci_high=float(r["adjusted_high"]),
                   promoters=int(round(r["promoters"] * ltr.size)), detractors=int(round(r["detractors"] * ltr.size)))
    else:
        out.update(nps=None, nps_ci_low=None, nps_ci_high=None, promoters=0, detractors=0)
    known = part["complained"].astype("boolean").dropna()
    if known.size:
        k = int(known.sum())
        lo, hi = nps_mod.wilson_ci(k, int(known.size))
        out.update(complaints_n=int(known.size), complained=k, complaint_share=k / known.size,
                   complaint_ci_low=lo, complaint_ci_high=hi)
    else:
        out.update(complaints_n=0, complained=0, complaint_share=None, complaint_ci_low=None, complaint_ci_high=None)
    return out


def funnel_limits(p0: float, var: float, n: float | np.ndarray, level: float) -> tuple[Any, Any]:
    """Control limits ``p0 ± z·sqrt(var / n)`` of a funnel plot at coverage ``level`` (on the
    scale of ``p0``; NPS as a share −1…1, clipped to it, complaint share clipped to 0…1 by the caller).

        >>> [round(float(x), 3) for x in funnel_limits(0.1, 0.25, 100, 0.95)]
        [0.002, 0.198]
    """
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    half = z * np.sqrt(var / np.asarray(n, dtype=float))
    return p0 - half, p0 + half


def _network_var(row: dict[str, Any], measure: str) -> tuple[float, float] | None:
    """(p0, per-unit variance) of the network for a measure, on the share scale."""
    if measure == "nps":
        n = row["n_responses"]
        if not n or row["nps"] is None:
            return None
        p_pro, p_det = row["promoters"] / n, row["detractors"] / n
        return p_pro - p_det, p_pro + p_det - (p_pro - p_det) ** 2
    if row["complaint_share"] is None:
        return None
    p = row["complaint_share"]
    return p, p * (1 - p)


def league_table(visits: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    """One row per center of the period (network first, ``center`` = ``all``): ``n_visits``,
    ``n_responses``, ``nps`` with ``nps_ci_low``/``nps_ci_high`` (adjusted Wald), ``complaint_share``
    with its Wilson interval and n, and ``nps_funnel`` / ``complaint_funnel``: ``above`` or
    ``below`` the 99.8 % funnel limit, ``inside``, or None without data.

        >>> league_table(period_visits(Path("data/processed")), "2026-10", "2026-10").center.iloc[0]  # doctest: +SKIP
        'all'
    """
    part = _months(visits, start, end)
    rows = [{"center": "all", **_stats(part)}]
    for center, group in part.groupby(part["center"].astype(str), sort=True):
        rows.append({"center": str(center), **_stats(group)})
    net = rows[0]
    for r in rows:
        for measure, n_key, key in (("nps", "n_responses", "nps"), ("complaint", "complaints_n", "complaint_share")):
            r[f"{measure}_funnel"] = None
            ref = _network_var(net, "nps" if measure == "nps" else "complaint_share")
            if r["center"] == "all" or ref is None or not r[n_key] or r[key] is None:
                continue
            lo, hi = funnel_limits(ref[0], ref[1], r[n_key], FUNNEL_LEVELS[1])
            value = r[key] / 100 if measure == "nps" else r[key]
            r[f"{measure}_funnel"] = "above" if value > hi else "below" if value < lo else "inside"
    return pd.DataFrame(rows)


def _two_proportions(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """(difference, two-sided p) of the pooled z test of two proportions ``k1/n1 - k2/n2``."""
    p1, p2 = k1 / n1, k2 / n2
    pool = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    if se == 0:
        return p1 - p2, 1.0
    return p1 - p2, float(2 * stats.norm.sf(abs((p1 - p2) / se)))


def _changes(visits: pd.DataFrame, now: pd.DataFrame, before: pd.DataFrame) -> list[dict[str, Any]]:
    """Change tests per center and measure (unadjusted p), both periods' figures included."""
    tests: list[dict[str, Any]] = []
    for center in sorted(set(now["center"].astype(str)) & set(before["center"].astype(str))):
        a = now[(now["center"].astype(str) == center).to_numpy()]
        b = before[(before["center"].astype(str) == center).to_numpy()]
        la = pd.to_numeric(a["ltr"], errors="coerce").dropna().to_numpy(dtype=float)
        lb = pd.to_numeric(b["ltr"], errors="coerce").dropna().to_numpy(dtype=float)
        if la.size >= 2 and lb.size >= 2:
            t = nps_mod.nps_test(la, lb)
            p = float(t["p_value"]) if t["p_value"] == t["p_value"] else 1.0
            tests.append({"center": center, "measure": "nps", "value": float(t["nps_a"]), "n": int(t["n_a"]),
                          "previous_value": float(t["nps_b"]), "previous_n": int(t["n_b"]),
                          "difference": float(t["difference"]), "p_value": p})
        ca, cb = a["complained"].astype("boolean").dropna(), b["complained"].astype("boolean").dropna()
        if ca.size >= 2 and cb.size >= 2:
            diff, p = _two_proportions(int(ca.sum()), int(ca.size), int(cb.sum()), int(cb.size))
            tests.append({"center": center, "measure": "complaint_share", "value": float(ca.mean()), "n": int(ca.size),
                          "previous_value": float(cb.mean()), "previous_n": int(cb.size), "difference": diff,
                          "p_value": p})
    for measure in ("nps", "complaint_share"):
        group = [t for t in tests if t["measure"] == measure]
        for t, adj in zip(group, adjust_pvalues([t["p_value"] for t in group], "holm"), strict=True):
            t["p_holm"] = float(adj)
    return tests


def _message(a: dict[str, Any]) -> str:
    """One line for an alert, Chinese then English."""
    if a["measure"] == "nps":
        now, was, unit = f"{a['value']:.0f}", f"{a.get('previous_value', 0):.0f}", ""
    else:
        now, was, unit = f"{a['value'] * 100:.1f}", f"{(a.get('previous_value') or 0) * 100:.1f}", " %"
    what = "NPS" if a["measure"] == "nps" else "投诉占比 complaint share"
    if a["kind"] == "change":
        arrow = "下降 fell" if a["difference"] < 0 else "上升 rose"
        return (f"{a['center']}: {what} {arrow} {was}{unit} → {now}{unit} (n = {a['previous_n']} → {a['n']}, "
                f"Holm p = {a['p_holm']:.3g})")
    side = "高于 above" if a["side"] == "above" else "低于 below"
    scale, digits = (1, 0) if a["measure"] == "nps" else (100, 1)
    return (f"{a['center']}: {what} {now}{unit} (n = {a['n']}) {side} 99.8% 控制限 funnel limit "
            f"[{a['limit_low'] * scale:.{digits}f}, {a['limit_high'] * scale:.{digits}f}]{unit}")


def alerts(visits: pd.DataFrame, start: str | None, end: str | None, alpha: float = ALPHA) -> dict[str, Any]:
    """The alerts of a period (the content of ``alerts.json``): significant changes against the
    previous period (Holm across centers per measure) and centers outside the 99.8 % funnel.

    A change alert's ``direction`` is ``worse`` (NPS down, complaint share up) or ``better``.
    Without data for the previous period ``previous_period`` is null and ``note`` says why.

        >>> alerts(period_visits(Path("data/processed")), "2026-10", "2026-10")["schema"]  # doctest: +SKIP
        1
    """
    table = league_table(visits, start, end)
    net = table.iloc[0].to_dict()
    prev = previous_period(start, end)
    now = _months(visits, start, end)
    note = None
    found: list[dict[str, Any]] = []
    if prev is None:
        note = "no previous period: the report covers all data"
        prev_out = None
    else:
        before = _months(visits, *prev)
        if before.empty:
            note = f"no previous period: no visits in {prev[0]}" + (f"..{prev[1]}" if prev[1] != prev[0] else "")
            prev_out = {"start": prev[0], "end": prev[1], "n_visits": 0}
        else:
            prev_out = {"start": prev[0], "end": prev[1], "n_visits": int(len(before))}
            for t in _changes(visits, now, before):
                if t["p_holm"] < alpha:
                    worse = t["difference"] < 0 if t["measure"] == "nps" else t["difference"] > 0
                    found.append({**t, "kind": "change", "direction": "worse" if worse else "better"})
    for measure, key, n_key, flag in (("nps", "nps", "n_responses", "nps_funnel"),
                                      ("complaint_share", "complaint_share", "complaints_n", "complaint_funnel")):
        ref = _network_var(net, measure)
        for r in table.iloc[1:].to_dict("records"):
            if r[flag] in ("above", "below") and ref is not None:
                lo, hi = funnel_limits(ref[0], ref[1], r[n_key], FUNNEL_LEVELS[1])
                scale = 100 if measure == "nps" else 1
                worse = (r[flag] == "below") if measure == "nps" else (r[flag] == "above")
                found.append({"center": r["center"], "measure": measure, "kind": "funnel", "side": r[flag],
                              "direction": "worse" if worse else "better", "value": float(r[key]), "n": int(r[n_key]),
                              "network_value": float(net[key]), "limit_low": float(max(lo * scale, -scale)),
                              "limit_high": float(min(hi * scale, scale))})
    for a in found:
        a["message"] = _message(a)
    found.sort(key=lambda a: (a["direction"] != "worse", a["kind"] != "change", a["center"], a["measure"]))
    return {
        "schema": ALERTS_SCHEMA,
        "period": {"start": start, "end": end},
        "previous_period": prev_out,
        "note": note,
        "alpha": alpha,
        "funnel_level": FUNNEL_LEVELS[1],
        "network": {k: _plain(net[k]) for k in ("n_visits", "n_responses", "nps", "complaint_share")},
        "alerts": [{k: _plain(v, significant=k.startswith("p_")) for k, v in a.items()} for a in found],
    }


def _plain(x: Any, significant: bool = False) -> Any:
    """A JSON-ready value: numpy scalars as Python numbers, NaN as None, floats to 6 decimals
    (to 6 significant digits with ``significant``, so that a small p-value is not 0)."""
    if x is None:
        return None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        if x != x:
            return None
        return float(f"{float(x):.6g}") if significant else round(float(x), 6)
    return x


def funnel_png(table: pd.DataFrame) -> str:
    """The funnel plots of a league table (NPS and complaint share against n, 95 % and 99.8 %
    limits around the network value) as a ``data:image/png`` URI for the index page.

        >>> funnel_png(league_table(period_visits(Path("data/processed")), "2026-10", None))[:22]  # doctest: +SKIP
        'data:image/png;base64,'
    """
    from cxlib import plotting

    net = table.iloc[0].to_dict()
    centers = table.iloc[1:]
    with plotting.drawing():
        fig, axes = plotting.subplots(1, 2, figsize=(10, 3.8))
        for ax, (measure, key, n_key, scale, title) in zip(axes, (
                ("nps", "nps", "n_responses", 100, "NPS 净推荐值"),
                ("complaint_share", "complaint_share", "complaints_n", 100, "投诉占比 Complaint share (%)")),
                strict=True):
            ref = _network_var(net, measure)
            ax.set_title(title)
            ax.set_xlabel("样本量 n")
            data = centers[[c is not None and c == c for c in centers[key]]]
            if ref is None or data.empty:
                ax.text(0.5, 0.5, "无数据 no data", ha="center", va="center", transform=ax.transAxes)
                continue
            n_max = max(float(data[n_key].max()) * 1.15, 10.0)
            grid = np.linspace(max(float(data[n_key].min()) * 0.6, 2.0), n_max, 200)
            lo_bound, hi_bound = (-1.0, 1.0) if measure == "nps" else (0.0, 1.0)
            for level, style in zip(FUNNEL_LEVELS, ("--", ":"), strict=True):
                lo, hi = funnel_limits(ref[0], ref[1], grid, level)
                lab = f"{level * 100:g}% 控制限 limit"
                ax.plot(grid, np.clip(lo, lo_bound, hi_bound) * scale, style, color="0.4", lw=1, label=lab)
                ax.plot(grid, np.clip(hi, lo_bound, hi_bound) * scale, style, color="0.4", lw=1)
            ax.axhline(ref[0] * scale, color="0.2", lw=1, label="全网络 network")
            values = data[key].astype(float) * (1 if measure == "nps" else 100)
            flag = data["nps_funnel" if measure == "nps" else "complaint_funnel"]
            colors = ["#c0392b" if f in ("above", "below") else "#1f6fb2" for f in flag]
            ax.scatter(data[n_key].astype(float), values, c=colors, zorder=3, s=28)
            for x, y, name in zip(data[n_key].astype(float), values, data["center"], strict=True):
                ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
            ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
