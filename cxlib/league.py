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
- Funnel limits around the network value by n: ``p0 ± z·√(σ²/n + τ²)`` with ``σ²`` the
  per-response variance of the −1/0/+1 promoter score (NPS) or ``p0(1 − p0)`` (complaint share),
  for 95 % (z = 1.96) and 99.8 % (z = 3.09). ``τ²`` is the **between-center variance** beyond
  sampling noise (Spiegelhalter 2005, additive random-effects approach, :func:`overdispersion`):
  from winsorised z-scores (the ⌈10 %·I⌉ most extreme at each end pulled in) φ̂ = Σz²/I, the overdispersion test ``I·φ̂`` against
  χ² with I − 1 df, and, when it rejects at 5 %, the DerSimonian–Laird
  ``τ² = (I·φ̂ − (I − 1)) / (Σw − Σw²/Σw)``, ``w = n/σ²``; without significant overdispersion
  τ² = 0 and the limits are the binomial ones. Centers differ for lasting reasons (mix of work,
  staff); the funnel then asks which center lies outside *that* spread, not outside coin-flip
  noise, which with 7 centers of several hundred answers flags nearly all of them.
- Alerts: a center whose NPS or complaint share changed against the previous period
  (:func:`previous_period`; adjusted-Wald z test of two independent NPS, :func:`cxlib.nps.nps_test`,
  or pooled z test of two proportions), Holm-corrected across the centers per measure at ``alpha`` =
  0.05 (:func:`cxlib.stats.adjust_pvalues`), or whose overdispersion-adjusted z-score
  ``(y − p0)/√(σ²/n + τ²)`` lies outside ±3.09 (the 99.8 % funnel limits). Schema in ``docs/results.md``.

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
from cxlib.stats import adjust_pvalues, wilson_ci

#: Version of the ``alerts.json`` layout (raised only when a key changes meaning or goes away).
ALERTS_SCHEMA = 1
#: Two-sided level of the change tests (after Holm's correction).
ALPHA = 0.05
#: Coverage of the funnel's inner and outer control limits.
FUNNEL_LEVELS = (0.95, 0.998)
#: Share of the z-scores winsorised at each end before the overdispersion is estimated (Spiegelhalter 2005).
WINSOR = 0.10
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
        out.update(
            nps=float(r["nps"]),
            nps_ci_low=float(r["adjusted_low"]),
            nps_ci_high=float(r["adjusted_high"]),
            promoters=int(round(r["promoters"] * ltr.size)),
            detractors=int(round(r["detractors"] * ltr.size)),
        )
    else:
        out.update(nps=None, nps_ci_low=None, nps_ci_high=None, promoters=0, detractors=0)
    known = part["complained"].astype("boolean").dropna()
    if known.size:
        k = int(known.sum())
        lo, hi = (float(x) for x in wilson_ci(k, int(known.size)))
        out.update(
            complaints_n=int(known.size),
            complained=k,
            complaint_share=k / known.size,
            complaint_ci_low=lo,
            complaint_ci_high=hi,
        )
    else:
        out.update(complaints_n=0, complained=0, complaint_share=None, complaint_ci_low=None, complaint_ci_high=None)
    return out


def funnel_limits(p0: float, var: float, n: float | np.ndarray, level: float, *, tau2: float = 0.0) -> tuple[Any, Any]:
    """Control limits ``p0 ± z·sqrt(var / n + tau2)`` of a funnel plot at coverage ``level`` (on
    the scale of ``p0``; NPS as a share −1…1, clipped to it, complaint share clipped to 0…1 by
    the caller); ``tau2`` is the between-center variance of :func:`overdispersion` (0: the
    limits of sampling noise alone).

        >>> [round(float(x), 3) for x in funnel_limits(0.1, 0.25, 100, 0.95)]
        [0.002, 0.198]
        >>> [round(float(x), 3) for x in funnel_limits(0.1, 0.25, 100, 0.95, tau2=0.0025)]
        [-0.039, 0.239]
    """
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    half = z * np.sqrt(var / np.asarray(n, dtype=float) + tau2)
    return p0 - half, p0 + half


def overdispersion(
    values: Any, n: Any, p0: float, var: float, *, winsor: float = WINSOR, alpha: float = ALPHA
) -> dict[str, Any]:
    """Overdispersion of the centers around the network value ``p0`` (Spiegelhalter 2005,
    "Funnel plots for comparing institutional performance", *Stat Med* 24:1185-1202).

    ``values`` (shares) and ``n`` per center, ``var`` the per-unit variance under the network
    value. The z-scores ``(y − p0)/√(var/n)`` are winsorised: with at least 5 centers the
    ⌈``winsor``·I⌉ most extreme at each end are set to the next one inwards (one at each end for
    7 centers), so that the centers under suspicion do not widen their own limits; then
    ``phi = Σz²/I``; the test of overdispersion compares ``chi2 = I·phi`` with
    χ² on ``df = I − 1``. When it rejects at ``alpha`` (``overdispersed``) the additive
    random-effects variance is the DerSimonian–Laird estimate from the winsorised z,
    ``tau2 = (I·phi − (I − 1)) / (Σw − Σw²/Σw)`` with ``w = n/var``, else 0 (the limits stay the
    binomial ones). Fewer than 3 centers: no estimate (``tau2 = 0``, ``p_value`` None).

        >>> r = overdispersion([0.05, 0.10, 0.20, 0.08], [400, 400, 400, 400], 0.1075, 0.1075 * 0.8925)
        >>> r["overdispersed"], round(r["phi"], 2), r["df"]
        (True, 13.21, 3)
    """
    y = np.asarray(values, dtype=float)
    m = np.asarray(n, dtype=float)
    keep = np.isfinite(y) & (m > 0)
    y, m = y[keep], m[keep]
    k = int(y.size)
    out: dict[str, Any] = {
        "method": "additive (DerSimonian–Laird, winsorised z)",
        "winsor": winsor,
        "k": k,
        "phi": None,
        "chi2": None,
        "df": max(k - 1, 0),
        "p_value": None,
        "tau2": 0.0,
        "overdispersed": False,
    }
    if k < 3 or not var > 0:
        return out
    z = (y - p0) / np.sqrt(var / m)
    cut = math.ceil(winsor * k) if k >= 5 else 0
    if cut:
        zs = np.sort(z)
        z = np.clip(z, zs[cut], zs[k - 1 - cut])
    phi = float(np.mean(z**2))
    chi2 = k * phi
    p = float(stats.chi2.sf(chi2, k - 1))
    w = m / var
    tau2 = max(0.0, (chi2 - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    over = bool(p < alpha)
    out.update(phi=phi, chi2=chi2, p_value=p, tau2=float(tau2) if over else 0.0, overdispersed=over)
    return out


def adjusted_z(value: Any, n: Any, p0: float, var: float, *, tau2: float = 0.0) -> Any:
    """z-score of a center against the network, ``(y − p0)/√(var/n + tau2)``: the measure the
    funnel limits and the funnel alerts use (``tau2`` from :func:`overdispersion`).

        >>> round(float(adjusted_z(0.2, 400, 0.1075, 0.0959)), 2), round(float(adjusted_z(0.2, 400, 0.1075, 0.0959, tau2=0.0025)), 2)
        (5.97, 1.77)
    """
    return (np.asarray(value, dtype=float) - p0) / np.sqrt(var / np.asarray(n, dtype=float) + tau2)


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


_MEASURES = (("nps", "n_responses", "nps", 100.0), ("complaint", "complaints_n", "complaint_share", 1.0))


def league_table(visits: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    """One row per center of the period (network first, ``center`` = ``all``): ``n_visits``,
    ``n_responses``, ``nps`` with ``nps_ci_low``/``nps_ci_high`` (adjusted Wald), ``complaint_share``
    with its Wilson interval and n, ``nps_z`` / ``complaint_z`` (the overdispersion-adjusted
    z-score, :func:`adjusted_z`) and ``nps_funnel`` / ``complaint_funnel``: ``above`` or ``below``
    the 99.8 % funnel limit, ``inside``, or None without data. ``attrs["overdispersion"]`` holds
    the :func:`overdispersion` estimate per measure (``nps``, ``complaint_share``) that widened
    the limits.

        >>> league_table(period_visits(Path("data/processed")), "2026-10", "2026-10").center.iloc[0]  # doctest: +SKIP
        'all'
    """
    part = _months(visits, start, end)
    rows = [{"center": "all", **_stats(part)}]
    for center, group in part.groupby(part["center"].astype(str), sort=True):
        rows.append({"center": str(center), **_stats(group)})
    net = rows[0]
    z_out = float(stats.norm.ppf(1 - (1 - FUNNEL_LEVELS[1]) / 2))
    od: dict[str, Any] = {}
    for measure, n_key, key, scale in _MEASURES:
        ref = _network_var(net, "nps" if measure == "nps" else "complaint_share")
        units = [r for r in rows[1:] if r[n_key] and r[key] is not None]
        est = (
            overdispersion([r[key] / scale for r in units], [r[n_key] for r in units], *ref)
            if ref is not None
            else overdispersion([], [], 0.0, 0.0)
        )
        od["nps" if measure == "nps" else "complaint_share"] = est
        for r in rows:
            r[f"{measure}_z"] = None
            r[f"{measure}_funnel"] = None
            if r["center"] == "all" or ref is None or not r[n_key] or r[key] is None:
                continue
            gap = r[key] / scale - ref[0]
            spread = ref[1] / r[n_key] + est["tau2"]
            z = float(gap / math.sqrt(spread)) if spread > 0 else (0.0 if gap == 0 else math.copysign(math.inf, gap))
            r[f"{measure}_z"] = z
            r[f"{measure}_funnel"] = "above" if z > z_out else "below" if z < -z_out else "inside"
    out = pd.DataFrame(rows)
    out.attrs["overdispersion"] = od
    return out


def overdispersion_text(table: pd.DataFrame) -> str:
    """One sentence per measure, Chinese then English, on the overdispersion the funnel limits
    allow for (:func:`league_table`'s ``attrs["overdispersion"]``): the test (χ² = I·φ̂, df,
    p) and, when it rejects, the between-center SD τ by which the limits were widened.

        >>> t = pd.DataFrame({"center": ["all"]})
        >>> t.attrs["overdispersion"] = {"nps": {"k": 7, "chi2": 85.8, "df": 6, "p_value": 2e-16, "tau2": 0.09,
        ...     "overdispersed": True}, "complaint_share": {"k": 7, "chi2": 4.1, "df": 6, "p_value": 0.66,
        ...     "tau2": 0.0, "overdispersed": False}}
        >>> print(overdispersion_text(t))
        NPS：门店间差异超出抽样误差（过度离散检验 χ² = 85.8，自由度 6，p < 0.001），控制限按门店间标准差 τ = 30 分加宽 · NPS: the centers differ beyond sampling noise (overdispersion test χ² = 85.8, df 6, p < 0.001): limits widened by the between-center SD τ = 30 points
        投诉占比：门店间差异未超出抽样误差（χ² = 4.1，自由度 6，p = 0.66），控制限不变 · complaint share: no overdispersion beyond sampling noise (χ² = 4.1, df 6, p = 0.66): binomial limits
    """
    lines = []
    for measure, zh_name, en_name, scale, unit_zh, unit_en, digits in (
        ("nps", "NPS", "NPS", 100, " 分", " points", 0),
        ("complaint_share", "投诉占比", "complaint share", 100, " 个百分点", " percentage points", 1),
    ):
        est = table.attrs.get("overdispersion", {}).get(measure)
        if not est or est.get("chi2") is None:
            continue
        p = float(est["p_value"])
        ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
        chi = f"χ² = {float(est['chi2']):.1f}"
        if est["overdispersed"]:
            tau = f"{math.sqrt(float(est['tau2'])) * scale:.{digits}f}"
            lines.append(
                f"{zh_name}：门店间差异超出抽样误差（过度离散检验 {chi}，自由度 {est['df']}，{ptxt}），"
                f"控制限按门店间标准差 τ = {tau}{unit_zh}加宽 · {en_name}: the centers differ beyond sampling "
                f"noise (overdispersion test {chi}, df {est['df']}, {ptxt}): limits widened by the "
                f"between-center SD τ = {tau}{unit_en}"
            )
        else:
            lines.append(
                f"{zh_name}：门店间差异未超出抽样误差（{chi}，自由度 {est['df']}，{ptxt}），控制限不变 · "
                f"{en_name}: no overdispersion beyond sampling noise ({chi}, df {est['df']}, {ptxt}): "
                "binomial limits"
            )
    return "\n".join(lines)


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
            tests.append(
                {
                    "center": center,
                    "measure": "nps",
                    "value": float(t["nps_a"]),
                    "n": int(t["n_a"]),
                    "previous_value": float(t["nps_b"]),
                    "previous_n": int(t["n_b"]),
                    "difference": float(t["difference"]),
                    "p_value": p,
                }
            )
        ca, cb = a["complained"].astype("boolean").dropna(), b["complained"].astype("boolean").dropna()
        if ca.size >= 2 and cb.size >= 2:
            diff, p = _two_proportions(int(ca.sum()), int(ca.size), int(cb.sum()), int(cb.size))
            tests.append(
                {
                    "center": center,
                    "measure": "complaint_share",
                    "value": float(ca.mean()),
                    "n": int(ca.size),
                    "previous_value": float(cb.mean()),
                    "previous_n": int(cb.size),
                    "difference": diff,
                    "p_value": p,
                }
            )
    for measure in ("nps", "complaint_share"):
        group = [t for t in tests if t["measure"] == measure]
        for t, adj in zip(group, adjust_pvalues([t["p_value"] for t in group], method="holm"), strict=True):
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
        return (
            f"{a['center']}: {what} {arrow} {was}{unit} → {now}{unit} (n = {a['previous_n']} → {a['n']}, "
            f"Holm p = {a['p_holm']:.3g})"
        )
    side = "高于 above" if a["side"] == "above" else "低于 below"
    scale, digits = (1, 0) if a["measure"] == "nps" else (100, 1)
    return (
        f"{a['center']}: {what} {now}{unit} (n = {a['n']}) {side} 99.8% 控制限 funnel limit "
        f"[{a['limit_low'] * scale:.{digits}f}, {a['limit_high'] * scale:.{digits}f}]{unit}, z = {a['z']:.2f}"
        + (" (已计入门店间差异 between-center variation included)" if a.get("tau2") else "")
    )


def alerts(visits: pd.DataFrame, start: str | None, end: str | None, *, alpha: float = ALPHA) -> dict[str, Any]:
    """The alerts of a period (the content of ``alerts.json``): significant changes against the
    previous period (Holm across centers per measure) and centers outside the 99.8 % funnel,
    judged by the overdispersion-adjusted z-score (``z``, with the ``tau2`` used);
    ``overdispersion`` records the estimate and test per measure (:func:`overdispersion`).

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
    od = table.attrs["overdispersion"]
    for measure, key, n_key, flag in (
        ("nps", "nps", "n_responses", "nps_funnel"),
        ("complaint_share", "complaint_share", "complaints_n", "complaint_funnel"),
    ):
        ref = _network_var(net, measure)
        for r in table.iloc[1:].to_dict("records"):
            if r[flag] in ("above", "below") and ref is not None:
                lo, hi = funnel_limits(ref[0], ref[1], r[n_key], FUNNEL_LEVELS[1], tau2=od[measure]["tau2"])
                scale = 100 if measure == "nps" else 1
                worse = (r[flag] == "below") if measure == "nps" else (r[flag] == "above")
                found.append(
                    {
                        "center": r["center"],
                        "measure": measure,
                        "kind": "funnel",
                        "side": r[flag],
                        "direction": "worse" if worse else "better",
                        "value": float(r[key]),
                        "n": int(r[n_key]),
                        "z": float(r["nps_z" if measure == "nps" else "complaint_z"]),
                        "tau2": float(od[measure]["tau2"]),
                        "network_value": float(net[key]),
                        "limit_low": float(max(lo * scale, -scale)),
                        "limit_high": float(min(hi * scale, scale)),
                    }
                )
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
        "overdispersion": {
            m: {k: _plain(v, significant=k in ("p_value", "tau2")) for k, v in est.items()} for m, est in od.items()
        },
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
    od = table.attrs.get("overdispersion", {})
    with plotting.drawing():
        fig, axes = plotting.subplots(nrows=1, ncols=2, figsize=(10, 3.8))
        for ax, (measure, key, n_key, scale, title) in zip(
            axes,
            (
                ("nps", "nps", "n_responses", 100, "NPS 净推荐值"),
                ("complaint_share", "complaint_share", "complaints_n", 100, "投诉占比 Complaint share (%)"),
            ),
            strict=True,
        ):
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
                lo, hi = funnel_limits(ref[0], ref[1], grid, level, tau2=od.get(measure, {}).get("tau2", 0.0))
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
