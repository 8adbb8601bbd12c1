"""Net Promoter Score with honest uncertainty, by segment, by tier and by number of updates.

The NPS is the share of promoters (LTR 9-10) minus the share of detractors (0-6). Its
sampling variance follows from the multinomial distribution of the three groups::

    var = (p_P + p_D - (p_P - p_D) ** 2) / n

which is the formula of the R package ``NPS`` (Brendan Rocks: ``nps_var``, ``nps_se``,
``nps_test``). The adjusted-Wald interval adds pseudo-counts before computing the same
formula: 0.75 promoters, 1.5 passives and 0.75 detractors (``n + 3``), the variant that
Rocks (2016, *The American Statistician* 70(4), "Interval Estimation for the Net Promoter
Score") found to keep its coverage in small samples. The score interval (``method="score"``,
the package's ``"iterative"`` test) inverts the score test of the trinomial: the set of values
``d`` for which ``|p_P - p_D - d| / se_d < z``, with ``se_d`` from the shares re-estimated under
``p_P - p_D = d`` (Tango's 1998 interval for a difference of paired proportions); it never leaves
-1..1 and keeps a width where every answer falls into one group.

Two NPS are compared by :func:`nps_test`: the adjusted-Wald test (the default) adds the same
pseudo-counts to each sample, so that a promoters-only sample against a detractors-only one still
has a standard error above 0 and a p-value above 0; ``method="wald"`` is the plain test.

Scores are reported on the -100..100 scale by default (``scale=100``); pass ``scale=1`` for
the -1..1 scale of the R package. Group shares are always proportions (0-1).

    >>> from cxlib import nps as npsmod
    >>> round(npsmod.nps([10, 9, 8, 3], scale=100)["nps"], 1)
    25.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import catalog, labels
from cxlib.errors import DataError, require_columns
from cxlib.results import not_provided
from cxlib.stats import clip_interval, confidence_level, error_bars, mean_ci
from cxlib.stats import wilson_ci as _wilson

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Method = Literal["adjusted_wald", "wald", "score"]
#: The interval methods of :func:`nps` and :func:`by_segment`.
METHODS: tuple[str, ...] = ("adjusted_wald", "wald", "score")

#: Pseudo-counts of the adjusted-Wald interval (detractors, passives, promoters): n + 3.
ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)

_GROUPS = {g.code: g for g in catalog.NPS_GROUPS}
_DET, _PAS, _PRO = _GROUPS["detractor"], _GROUPS["passive"], _GROUPS["promoter"]


# --------------------------------------------------------------------------- core maths
def _valid_ltr(ltr: Any, *, column: str | None = None) -> np.ndarray:
    """LTR answers as a float array without missing values; bad values raise DataError."""
    s = pd.Series(ltr) if not isinstance(ltr, pd.Series) else ltr
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    num = pd.to_numeric(s, errors="coerce")
    unreadable = num.isna() & s.notna()
    if unreadable.any():
        pos = int(np.flatnonzero(unreadable.to_numpy())[0])
        raise DataError(f"LTR value {s.iloc[pos]!r} is not a number", column=column, row=pos)
    vals = num.dropna().to_numpy(dtype=float)
    bad = (vals < catalog.LTR_MIN) | (vals > catalog.LTR_MAX) | (vals != np.round(vals))
    if bad.any():
        raise DataError(
            f"LTR value {vals[bad][0]!r} is outside the whole points {catalog.LTR_MIN}-{catalog.LTR_MAX}", column=column
        )
    return vals


def _counts(vals: np.ndarray) -> tuple[int, int, int]:
    """(detractors, passives, promoters) counts of valid LTR answers."""
    det = int(((vals >= _DET.low) & (vals <= _DET.high)).sum())
    pas = int(((vals >= _PAS.low) & (vals <= _PAS.high)).sum())
    pro = int(((vals >= _PRO.low) & (vals <= _PRO.high)).sum())
    return det, pas, pro


def _nps_var(p_pro: float, p_det: float) -> float:
    """Per-response variance of the promoter(+1)/passive(0)/detractor(-1) score."""
    return p_pro + p_det - (p_pro - p_det) ** 2


def _score_stat(d: float, det: float, pro: float, n: float) -> float:
    """Score statistic of H0: NPS = ``d`` (share scale) for ``det`` detractors and ``pro`` promoters of ``n``.

    Under H0 the detractor share is re-estimated by maximum likelihood (the root of a quadratic:
    ``2n q² + (2n d - (det + pro) - d (pro - det)) q - det d (1 - d) = 0``, written as in the R
    package), and the variance of the score is ``(2 q + d (1 - d)) / n``.
    """
    pa = 2 * n
    pb = -det - pro + (2 * n - pro + det) * d
    pc = -det * d * (1 - d)
    q = (math.sqrt(max(pb * pb - 4 * pa * pc, 0.0)) - pb) / (2 * pa)
    var = max(2 * q + d * (1 - d), 0.0)
    num = pro - det - n * d
    if var == 0:
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / math.sqrt(n * var)


def score_interval(
    det: float, pro: float, n: float, *, ci: float = 0.95, conf: float | None = None
) -> tuple[float, float]:
    """Score interval of the NPS (share scale, -1..1) from counts of detractors and promoters of ``n``.

    The two values ``d`` where the score statistic (:func:`_score_stat`) equals ``∓z``, found by
    Brent's method to 1e-12; -1 (1) when every answer is a detractor (promoter). Rocks (2016) and
    the R package ``NPS`` (``nps_test(x, test = "iterative")``, found there by bisection).

        >>> [round(x, 4) for x in score_interval(7, 2, 11)]
        [-0.7769, 0.0808]
    """
    ci = confidence_level(ci, conf, "score_interval")
    from scipy.optimize import brentq

    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(1 - (1 - ci) / 2))
    eps = 1e-12
    mid = min(max((pro - det) / n, -1 + eps), 1 - eps)
    lo = -1.0 if det >= n else brentq(lambda d: _score_stat(d, det, pro, n) - z, -1 + eps, mid, xtol=1e-14)
    hi = 1.0 if pro >= n else brentq(lambda d: _score_stat(d, det, pro, n) + z, mid, 1 - eps, xtol=1e-14)
    return float(lo), float(hi)


def _from_counts(det: float, pas: float, pro: float, *, ci: float, scale: float) -> dict[str, float]:
    n = det + pas + pro
    z = float(stats.norm.ppf(1 - (1 - ci) / 2))
    out: dict[str, float] = {"n": int(n)}
    if n == 0:
        nan = float("nan")
        out.update(
            promoters=nan,
            passives=nan,
            detractors=nan,
            nps=nan,
            se=nan,
            wald_low=nan,
            wald_high=nan,
            adjusted_nps=nan,
            adjusted_se=nan,
            adjusted_low=nan,
            adjusted_high=nan,
            score_low=nan,
            score_high=nan,
        )
        return out
    p_pro, p_pas, p_det = pro / n, pas / n, det / n
    value = p_pro - p_det
    se = math.sqrt(_nps_var(p_pro, p_det) / n)
    a_det, a_pas, a_pro = ADJUSTED_WALD_PSEUDO
    n_adj = n + a_det + a_pas + a_pro
    q_pro, q_det = (pro + a_pro) / n_adj, (det + a_det) / n_adj
    adj = q_pro - q_det
    adj_se = math.sqrt(_nps_var(q_pro, q_det) / n_adj)

    def clip(x: float) -> float:
        return float(clip_interval(x, x, "nps_share")[0]) * scale

    out.update(
        promoters=p_pro,
        passives=p_pas,
        detractors=p_det,
        nps=value * scale,
        se=se * scale,
        wald_low=clip(value - z * se),
        wald_high=clip(value + z * se),
        adjusted_nps=adj * scale,
        adjusted_se=adj_se * scale,
        adjusted_low=clip(adj - z * adj_se),
        adjusted_high=clip(adj + z * adj_se),
    )
    s_lo, s_hi = score_interval(det, pro, n, ci=ci)
    out.update(score_low=s_lo * scale, score_high=s_hi * scale)
    return out


def _method_ci(r: dict[str, float], method: str) -> tuple[float, float, float]:
    """(se, ci_low, ci_high) of ``method`` from a :func:`_from_counts` record (no SE for the score interval)."""
    if method == "wald":
        return r["se"], r["wald_low"], r["wald_high"]
    if method == "adjusted_wald":
        return r["adjusted_se"], r["adjusted_low"], r["adjusted_high"]
    if method == "score":
        return float("nan"), r["score_low"], r["score_high"]
    raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")


# --------------------------------------------------------------------------- public API
def nps(
    ltr: Sequence[float] | pd.Series | np.ndarray,
    *,
    scale: float = 100,
    ci: float = 0.95,
    method: Method = "adjusted_wald",
    conf: float | None = None,
) -> pd.Series:
    """Net Promoter Score of LTR answers (0-10) with group shares, SE, Wald, adjusted-Wald and score CIs.

    Missing answers are left out. Returns a Series with ``n``, ``promoters``, ``passives``,
    ``detractors`` (shares 0-1), ``nps``, ``se``, ``wald_low``/``wald_high``,
    ``adjusted_nps``, ``adjusted_se``, ``adjusted_low``/``adjusted_high``,
    ``score_low``/``score_high`` (all on ``scale``; intervals clipped to [-scale, scale]), and
    ``ci_low``/``ci_high`` of the interval ``method`` names (``"adjusted_wald"``, the default;
    ``"wald"``; ``"score"``), with ``method``.

        >>> nps([10, 9, 8, 3, None], scale=1)["nps"]
        0.25
        >>> round(nps([10] * 5, method="score")["ci_low"], 1)
        13.1
    """
    ci = confidence_level(ci, conf, "nps")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    vals = _valid_ltr(ltr, column=getattr(ltr, "name", None))
    if vals.size == 0:
        raise DataError("no valid LTR answers: the NPS is undefined", column=getattr(ltr, "name", None))
    r = _from_counts(*_counts(vals), ci=ci, scale=scale)
    _, lo, hi = _method_ci(r, method)
    return pd.Series({**r, "ci_low": lo, "ci_high": hi, "method": method}, dtype=object)


def nps_test(
    ltr_a: Sequence[float] | pd.Series | np.ndarray,
    ltr_b: Sequence[float] | pd.Series | np.ndarray | None = None,
    *,
    ci: float = 0.95,
    scale: float = 100,
    method: Method = "adjusted_wald",
    conf: float | None = None,
) -> pd.Series:
    """Test of the difference of two independent NPS (``a - b``), or of one NPS against 0.

    ``method="adjusted_wald"`` (the default, what the reports use): 0.75 promoter, 1.5 passive and
    0.75 detractor are added to each sample (:data:`ADJUSTED_WALD_PSEUDO`) before the Wald formula,
    as ``NPS::nps_test(x, y, test = "adjusted.wald")`` does; the interval is centred on the
    difference of the adjusted scores (``adjusted_difference``) and the z test is of that difference.
    A promoters-only sample against a detractors-only one thus keeps a standard error above 0 and a
    p-value above 0. ``method="wald"``: ``se = sqrt(var_a / n_a + var_b / n_b)`` of the observed
    shares, as ``NPS::nps_test`` by default. ``method="score"`` (one sample only): the score
    interval (:func:`score_interval`) and the score test of NPS = 0. The R function reports
    ``|difference|``; here the difference keeps its sign. ``nps_a``, ``nps_b`` and ``difference``
    are always the observed scores.

        >>> round(nps_test([10] * 6 + [3] * 4, [10] * 2 + [3] * 8, scale=1, method="wald")["difference"], 2)
        0.8
        >>> t = nps_test([10] * 20, [0] * 20, scale=1)
        >>> round(t["se"], 3), t["p_value"] > 0
        (0.125, True)
    """
    ci = confidence_level(ci, conf, "nps_test")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    if method == "score" and ltr_b is not None:
        raise ValueError("the score method tests one sample only: use 'adjusted_wald' or 'wald' for two")
    z = float(stats.norm.ppf(1 - (1 - ci) / 2))
    a = nps(ltr_a, scale=1, ci=ci)
    nan = float("nan")
    adj_diff = nan
    if ltr_b is None:
        diff, nps_b, n_b = a["nps"], nan, 0
        if method == "score":
            det, pro, n = round(a["detractors"] * a["n"]), round(a["promoters"] * a["n"]), a["n"]
            stat = _score_stat(0.0, det, pro, n)
            lo, hi = a["score_low"], a["score_high"]
            se = nan
        else:
            centre = a["adjusted_nps"] if method == "adjusted_wald" else a["nps"]
            se = a["adjusted_se"] if method == "adjusted_wald" else a["se"]
            adj_diff = a["adjusted_nps"] if method == "adjusted_wald" else nan
            lo, hi = centre - z * se, centre + z * se
            stat = centre / se if se > 0 else (nan if centre == 0 else math.copysign(math.inf, centre))
    else:
        b = nps(ltr_b, scale=1, ci=ci)
        diff = a["nps"] - b["nps"]
        nps_b, n_b = b["nps"], int(b["n"])
        if method == "adjusted_wald":
            centre = a["adjusted_nps"] - b["adjusted_nps"]
            se = math.sqrt(a["adjusted_se"] ** 2 + b["adjusted_se"] ** 2)
            adj_diff = centre
        else:
            centre = diff
            se = math.sqrt(a["se"] ** 2 + b["se"] ** 2)
        lo, hi = centre - z * se, centre + z * se
        stat = centre / se if se > 0 else (nan if centre == 0 else math.copysign(math.inf, centre))
    p = float(2 * stats.norm.sf(abs(stat))) if not math.isnan(stat) else nan
    return pd.Series(
        {
            "nps_a": a["nps"] * scale,
            "nps_b": nps_b * scale,
            "difference": diff * scale,
            "adjusted_difference": adj_diff * scale,
            "se": se * scale,
            "ci_low": lo * scale,
            "ci_high": hi * scale,
            "z": stat,
            "p_value": p,
            "n_a": int(a["n"]),
            "n_b": n_b,
            "conf": ci,
            "method": method,
        },
        dtype=object,
    )


def by_segment(
    df: pd.DataFrame,
    by: str | Sequence[str],
    ltr: str = "ltr",
    *,
    method: Method = "adjusted_wald",
    min_n: int = 30,
    scale: float = 100,
    ci: float = 0.95,
    conf: float | None = None,
) -> pd.DataFrame:
    """NPS with a confidence interval per segment, one row per segment (sorted; catalog order
    for categorical segments), with a ``warning`` where fewer than ``min_n`` answers back it.

    ``nps`` is the observed score; ``se``, ``ci_low``, ``ci_high`` follow ``method``
    (``"adjusted_wald"``: pseudo-counts, n + 3; ``"wald"``: plain multinomial Wald; ``"score"``:
    the score interval, which has no standard error: ``se`` is NaN).

        >>> by_segment(pd.DataFrame({"center": ["A", "A", "B"], "ltr": [10, 3, 9]}), "center").warning.tolist()
        ['n < 30', 'n < 30']
    """
    ci = confidence_level(ci, conf, "by_segment")
    keys = [by] if isinstance(by, str) else list(by)
    require_columns(df, [*keys, ltr], "survey")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    vals = df[ltr]
    _valid_ltr(vals, column=ltr)  # validates the whole column once
    rows = []
    for key, part in df.groupby(keys, observed=True, sort=True, dropna=True):
        key = key if isinstance(key, tuple) else (key,)
        r = _from_counts(*_counts(_valid_ltr(part[ltr], column=ltr)), ci=ci, scale=scale)
        se, lo, hi = _method_ci(r, method)
        n = r["n"]
        warning = "no responses" if n == 0 else (f"n < {min_n}" if n < min_n else "")
        rows.append(
            {
                **dict(zip(keys, key)),
                "n": n,
                "promoters": r["promoters"],
                "passives": r["passives"],
                "detractors": r["detractors"],
                "nps": r["nps"],
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "method": method,
                "warning": warning,
            }
        )
    cols = [*keys, "n", "promoters", "passives", "detractors", "nps", "se", "ci_low", "ci_high", "method", "warning"]
    out = pd.DataFrame(rows, columns=cols)
    for k in keys:
        if isinstance(df[k].dtype, pd.CategoricalDtype):
            out[k] = out[k].astype(df[k].dtype)
    out["n"] = out["n"].astype("int64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------- tier / dose tables
def wilson_ci(count: int, n: int, *, ci: float = 0.95, conf: float | None = None) -> tuple[float, float]:
    """Wilson score interval of a proportion ``count / n`` as two floats: the scalar view of
    :func:`cxlib.stats.wilson_ci`, the one implementation (NaN where ``n`` is 0).

    >>> [round(x, 4) for x in wilson_ci(2, 10)]
    [0.0567, 0.5098]
    """
    ci = confidence_level(ci, conf, "wilson_ci")
    lo, hi = _wilson(count, n, ci=ci)
    return float(lo), float(hi)


def _metrics(
    part: pd.DataFrame,
    ltr: str,
    anxiety: str | None,
    complained: str | None,
    ci: float,
    scale: float,
    known_complaints: bool = True,
) -> dict[str, float]:
    vals = _valid_ltr(part[ltr], column=ltr)
    r = _from_counts(*_counts(vals), ci=ci, scale=scale)
    m, lo, hi = mean_ci(vals, ci=ci, bounds="ltr")
    out = {
        "n_visits": len(part),
        "n_responses": int(vals.size),
        "anxiety_mean": float(pd.to_numeric(part[anxiety], errors="coerce").mean()) if anxiety else float("nan"),
        "ltr_mean": m,
        "ltr_ci_low": lo,
        "ltr_ci_high": hi,
        "nps": r["nps"],
        "nps_ci_low": r["adjusted_low"],
        "nps_ci_high": r["adjusted_high"],
    }
    if complained and known_complaints is not False:
        c = part[complained]
        c = c.astype("boolean") if not isinstance(c.dtype, pd.BooleanDtype) else c
        c = c.dropna()
        k, n = int(c.sum()), int(c.size)
        lo_c, hi_c = wilson_ci(k, n, ci=ci)
        out.update(complaint_rate=k / n if n else float("nan"), complaint_ci_low=lo_c, complaint_ci_high=hi_c)
    return out


def _complaints_known(visits: pd.DataFrame, complained: str | None) -> bool:
    """Whether any visit has a known complaint status (none has when no complaints table was given)."""
    return bool(complained) and bool(visits[complained].notna().any()) if len(visits) else True


def tier_table(
    visits: pd.DataFrame,
    ltr: str = "ltr",
    tier: str = "tier",
    anxiety: str = "anxiety",
    complained: str = "complained",
    *,
    lang: catalog.Lang = "both",
    ci: float = 0.95,
    scale: float = 100,
    conf: float | None = None,
) -> pd.DataFrame:
    """Per transparency tier (catalog order): visits, responses, mean anxiety, mean LTR with a
    t interval, NPS with an adjusted-Wald interval, complaint rate with a Wilson interval.

    The complaint columns are left out when no visit has a known complaint status (the raw
    folder held no complaints table), never shown as 0 %.

        >>> tier_table(visits).loc[:, ["tier", "n_visits", "nps"]]  # doctest: +SKIP
    """
    ci = confidence_level(ci, conf, "tier_table")
    require_columns(visits, [ltr, tier, anxiety, complained], "visits")
    t = visits[tier].astype("string")
    unknown = sorted(set(t.dropna()) - set(catalog.TIER_ORDER))
    if unknown:
        raise DataError(
            f"unknown tier code(s) {', '.join(unknown)}; known: {', '.join(catalog.TIER_ORDER)}", column=tier
        )
    known = _complaints_known(visits, complained)
    rows = []
    for code in catalog.TIER_ORDER:
        part = visits.loc[(t == code).fillna(False).to_numpy()]
        if len(part) == 0:
            continue
        rows.append(
            {
                "tier": code,
                "label": catalog.label(code, lang=lang),
                **_metrics(part, ltr, anxiety, complained, ci, scale, known),
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["tier"] = out["tier"].astype(catalog.TIER_DTYPE)
    return out


def dose_levels(*, cap: int = 4) -> list[str]:
    """Labels of the update-count levels: ``["0", "1", …, f"{cap}+"]``.

    >>> dose_levels(cap=3)
    ['0', '1', '2', '3+']
    """
    return [str(i) for i in range(cap)] + [f"{cap}+"]


def dose_response(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    *,
    cap: int = 4,
    ltr: str = "ltr",
    anxiety: str = "anxiety",
    complained: str = "complained",
    ci: float = 0.95,
    scale: float = 100,
    conf: float | None = None,
) -> pd.DataFrame:
    """The :func:`tier_table` metrics by number of proactive updates 0, 1, …, ``cap``+.

    >>> dose_response(visits, cap=4).updates.tolist()  # doctest: +SKIP
    ['0', '1', '2', '3', '4+']
    """
    ci = confidence_level(ci, conf, "dose_response")
    require_columns(visits, [updates, ltr, anxiety, complained], "visits")
    u = pd.to_numeric(visits[updates], errors="coerce")
    if (u.dropna() < 0).any() or (u.dropna() != u.dropna().round()).any():
        raise DataError("update counts must be whole numbers >= 0", column=updates)
    levels = dose_levels(cap=cap)
    known = _complaints_known(visits, complained)
    rows = []
    for i, lev in enumerate(levels):
        mask = (u >= cap) if i == cap else (u == i)
        part = visits.loc[mask.fillna(False).to_numpy()]
        if len(part) == 0:
            continue
        rows.append({"updates": lev, **_metrics(part, ltr, anxiety, complained, ci, scale, known)})
    out = pd.DataFrame(rows)
    if len(out):
        out["updates"] = out["updates"].astype(pd.CategoricalDtype(levels, ordered=True))
    return out


def plot_dose_response(table: pd.DataFrame, *, lang: catalog.Lang = "both", title: str | None = None) -> Figure:
    """Two panels: NPS and complaint rate (with intervals) by number of updates (the NPS panel
    alone when ``table`` has no complaint rate); the figure holds its panels, so it takes no ``ax``.

    ``table`` is the output of :func:`dose_response`. Returns the matplotlib Figure.

        >>> v = pd.DataFrame({"n_proactive_updates": [0, 0, 1, 2, 2], "ltr": [3, 8, 9, 10, 9],
        ...                   "anxiety": [60, 50, 40, 30, 20], "complained": [True, False, False, False, False]})
        >>> [ax.get_title() for ax in plot_dose_response(dose_response(v, cap=2), lang="en").axes]
        ['NPS', 'Complaint rate']
    """
    from cxlib import plotting

    require_columns(table, ["updates", "nps", "nps_ci_low", "nps_ci_high"], "dose-response")
    with plotting.drawing():
        plotting.ensure_theme()
        has_complaints = "complaint_rate" in table.columns
        fig, axes = plotting.subplots(
            nrows=1, ncols=2 if has_complaints else 1, figsize=(10 if has_complaints else 5.5, 4), squeeze=False
        )
        x = np.arange(len(table))
        n = table["n_responses"] if "n_responses" in table.columns else None
        ticks = [
            str(v) if n is None else plotting.with_n(str(v), k)
            for v, k in zip(table["updates"], n if n is not None else [None] * len(table))
        ]
        panels = [("nps", "nps_ci_low", "nps_ci_high", "nps", "#3182bd")]
        if has_complaints:
            panels.append(("complaint_rate", "complaint_ci_low", "complaint_ci_high", "complaint_rate", "#d7301f"))
        for ax, (col, lo, hi, key, colour) in zip(axes[0], panels):
            y = table[col].to_numpy(dtype=float)
            err = error_bars(y, table[lo].to_numpy(dtype=float), table[hi].to_numpy(dtype=float))
            ax.errorbar(x, y, yerr=err, marker="o", capsize=4, color=colour)
            n_pt = (
                table["n_responses" if col == "nps" else "n_visits"]
                if {"n_responses", "n_visits"} <= set(table.columns)
                else None
            )
            if n_pt is not None:  # fewer than MIN_N answers: a hollow point
                plotting.mark_small(ax, x, y, n_pt, colour, lang=lang)
            ax.set_xticks(x, ticks)
            ax.set_xlabel(labels.text("proactive_updates", lang=lang))
            ax.set_ylabel(labels.text(key, lang=lang))
            ax.set_title(labels.text(key, lang=lang))
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle(title or labels.title("dose_title", lang=lang))
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------- results and sentences
def summary_record(
    ltr: Sequence[float] | pd.Series | np.ndarray, *, ci: float = 0.95, conf: float | None = None
) -> dict[str, float]:
    """The ``nps`` entry of ``results.json``: ``{value, ci_low, ci_high, n, promoters, passives,
    detractors}``, NPS on the -100..100 scale with its adjusted-Wald interval, groups as shares.

        >>> summary_record([10, 9, 8, 3])["value"]
        25.0
    """
    ci = confidence_level(ci, conf, "summary_record")
    r = nps(ltr, scale=100, ci=ci)
    return {
        "value": float(r["nps"]),
        "ci_low": float(r["adjusted_low"]),
        "ci_high": float(r["adjusted_high"]),
        "n": int(r["n"]),
        "promoters": float(r["promoters"]),
        "passives": float(r["passives"]),
        "detractors": float(r["detractors"]),
    }


def headline_table(
    ltr: Sequence[float] | pd.Series | np.ndarray,
    *,
    ci: float = 0.95,
    lang: catalog.Lang = "both",
    conf: float | None = None,
) -> pd.DataFrame:
    """The headline NPS on both scales plus the three group shares, each with its interval:
    NPS -100..100 and -1..1 (adjusted-Wald), shares of promoters, passives, detractors (Wilson).

        >>> headline_table([10, 9, 8, 3], lang="en").measure.tolist()[:2]
        ['NPS (−100…100)', 'NPS (share, −1…1)']
    """
    ci = confidence_level(ci, conf, "headline_table")
    r = nps(ltr, scale=100, ci=ci)
    n = int(r["n"])
    rows = [
        (
            catalog.bilingual("净推荐值（−100…100）", "NPS (−100…100)", lang=lang),
            r["nps"],
            r["adjusted_low"],
            r["adjusted_high"],
            "adjusted Wald",
        ),
        (
            catalog.bilingual("净推荐值（比例，−1…1）", "NPS (share, −1…1)", lang=lang),
            r["nps"] / 100,
            r["adjusted_low"] / 100,
            r["adjusted_high"] / 100,
            "adjusted Wald",
        ),
    ]
    for g in reversed(catalog.NPS_GROUPS):
        share = r[f"{g.code}s"]
        lo, hi = wilson_ci(int(round(share * n)), n, ci=ci)
        rows.append((catalog.bilingual(f"{g.zh}占比（%）", f"{g.en}s (%)", lang=lang), share, lo, hi, "Wilson"))
    out = pd.DataFrame(rows, columns=["measure", "estimate", "ci_low", "ci_high", "interval"])
    out["n"] = n
    out["kind"] = ["nps", "nps_share", "share", "share", "share"]  # how cxlib.present writes each row
    return out


def segment_record(table: pd.DataFrame, segment: str) -> dict[str, Any]:
    """The ``nps_by_segment`` entry of ``results.json`` from :func:`by_segment` of one column:
    ``{segment, groups: {value: {n, nps, ci_low, ci_high, promoters, detractors}}}``.

        >>> segment_record(by_segment(pd.DataFrame({"m": ["A", "A", "B"], "ltr": [10, 3, 9]}), "m"), "m")["groups"]["B"]["n"]
        1
    """
    require_columns(table, [segment, "n", "nps", "ci_low", "ci_high", "promoters", "detractors"], "segment")
    return {
        "segment": segment,
        "groups": {
            str(r[segment]): {
                "n": int(r["n"]),
                "nps": r["nps"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "promoters": r["promoters"],
                "detractors": r["detractors"],
            }
            for _, r in table.iterrows()
        },
    }


def tier_record(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The ``nps_by_tier`` entry of ``results.json`` from a :func:`tier_table`:
    ``{tier: {n, nps, ci_low, ci_high, mean_ltr, complaint_rate, mean_anxiety}}`` (``n`` = survey answers;
    ``complaint_rate`` is the "not provided" marker when the table has no complaint columns).

        >>> tier_record(tier_table(visits))["none"]["nps"]  # doctest: +SKIP
    """
    require_columns(
        table, ["tier", "n_responses", "nps", "nps_ci_low", "nps_ci_high", "ltr_mean", "anxiety_mean"], "tier"
    )
    no_complaints = None if "complaint_rate" in table.columns else not_provided("complaints")
    return {
        str(r["tier"]): {
            "n": int(r["n_responses"]),
            "nps": r["nps"],
            "ci_low": r["nps_ci_low"],
            "ci_high": r["nps_ci_high"],
            "mean_ltr": r["ltr_mean"],
            "complaint_rate": no_complaints or r["complaint_rate"],
            "mean_anxiety": r["anxiety_mean"],
        }
        for _, r in table.iterrows()
    }


def folklore_comparison(table: pd.DataFrame, *, low: str = "none", high: str = "realtime_photo") -> str:
    """Sentences that hold the folklore "real-time updates with photos lift NPS from 3-5 to 8-9"
    against a :func:`tier_table`: the folklore's numbers are on the 0-10 LTR scale, so both the
    mean LTR and the NPS (-100..100) of the two tiers are given.

        >>> t = pd.DataFrame({"tier": ["none", "realtime_photo"], "ltr_mean": [4.4, 8.3], "ltr_ci_low": [4.2, 8.2],
        ...                   "ltr_ci_high": [4.6, 8.4], "nps": [-70.0, 40.0], "nps_ci_low": [-74.0, 36.0],
        ...                   "nps_ci_high": [-66.0, 44.0], "n_responses": [500, 700]})
        >>> folklore_comparison(t).split(". ")[1][:60]
        'Here mean LTR is 4.4 (95% CI 4.2–4.6) without updates and 8.'
    """
    from cxlib import findings

    require_columns(
        table,
        ["tier", "ltr_mean", "ltr_ci_low", "ltr_ci_high", "nps", "nps_ci_low", "nps_ci_high", "n_responses"],
        "tier",
    )
    return findings.folklore(table, lang="en", low=low, high=high).en


# --------------------------------------------------------------------- comparisons for findings
def proportion_difference(
    k_a: int, n_a: int, k_b: int, n_b: int, *, ci: float = 0.95, conf: float | None = None
) -> dict[str, float]:
    """Difference of two independent proportions ``k_a/n_a - k_b/n_b``: Wald interval (unpooled)
    and the two-sided p-value of the pooled z test (NaN when a group is empty).

        >>> r = proportion_difference(30, 100, 10, 100)
        >>> round(r["difference"], 2), r["p_value"] < 0.001
        (0.2, True)
    """
    ci = confidence_level(ci, conf, "proportion_difference")
    nan = float("nan")
    if n_a <= 0 or n_b <= 0:
        return {
            "share_a": nan,
            "share_b": nan,
            "difference": nan,
            "ci_low": nan,
            "ci_high": nan,
            "p_value": nan,
            "n_a": int(n_a),
            "n_b": int(n_b),
        }
    pa, pb = k_a / n_a, k_b / n_b
    z = float(stats.norm.ppf(1 - (1 - ci) / 2))
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    pool = (k_a + k_b) / (n_a + n_b)
    se0 = math.sqrt(pool * (1 - pool) * (1 / n_a + 1 / n_b))
    diff = pa - pb
    p = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else (1.0 if diff == 0 else 0.0)
    return {
        "share_a": pa,
        "share_b": pb,
        "difference": diff,
        "ci_low": diff - z * se,
        "ci_high": diff + z * se,
        "p_value": p,
        "n_a": int(n_a),
        "n_b": int(n_b),
    }


def tier_contrast(
    visits: pd.DataFrame,
    *,
    high: str = "realtime_photo",
    low: str = "none",
    ltr: str = "ltr",
    tier: str = "tier",
    complained: str = "complained",
    ci: float = 0.95,
    conf: float | None = None,
) -> pd.Series:
    """Two transparency tiers compared (``high`` minus ``low``): the NPS difference with the z test
    of :func:`nps_test` and the difference of the shares of visits with a complaint
    (:func:`proportion_difference`; NaN when no complaint status is known). ``n_*`` are the
    survey answers (NPS) and the visits with a known complaint status (complaints) of each tier.

        >>> v = pd.DataFrame({"tier": ["none"] * 4 + ["realtime_photo"] * 4, "ltr": [3, 4, 9, 6, 10, 9, 9, 8],
        ...                   "complained": [True, True, False, False, False, False, False, True]})
        >>> c = tier_contrast(v)
        >>> c["nps_difference"], c["complaint_difference"]
        (125.0, -0.25)
    """
    ci = confidence_level(ci, conf, "tier_contrast")
    require_columns(visits, [ltr, tier], "visits")
    t = visits[tier].astype("string")
    out: dict[str, Any] = {"high": high, "low": low}
    parts = {}
    for name, code in (("high", high), ("low", low)):
        part = visits.loc[(t == code).fillna(False).to_numpy()]
        parts[name] = part
        out[f"n_{name}"] = int(_valid_ltr(part[ltr], column=ltr).size)
    nan = float("nan")
    if out["n_high"] and out["n_low"]:
        r = nps_test(parts["high"][ltr], parts["low"][ltr], ci=ci)
        out.update(
            nps_high=float(r["nps_a"]),
            nps_low=float(r["nps_b"]),
            nps_difference=float(r["difference"]),
            nps_ci_low=float(r["ci_low"]),
            nps_ci_high=float(r["ci_high"]),
            nps_p_value=float(r["p_value"]),
        )
    else:
        out.update(nps_high=nan, nps_low=nan, nps_difference=nan, nps_ci_low=nan, nps_ci_high=nan, nps_p_value=nan)
    known = {
        k: (p[complained].astype("boolean").dropna() if complained in p.columns else pd.Series([], dtype="boolean"))
        for k, p in parts.items()
    }
    d = proportion_difference(
        int(known["high"].sum()), int(known["high"].size), int(known["low"].sum()), int(known["low"].size), ci=ci
    )
    out.update(
        complaint_high=d["share_a"],
        complaint_low=d["share_b"],
        complaint_difference=d["difference"],
        complaint_ci_low=d["ci_low"],
        complaint_ci_high=d["ci_high"],
        complaint_p_value=d["p_value"],
        complaint_n_high=d["n_a"],
        complaint_n_low=d["n_b"],
    )
    return pd.Series(out, dtype=object)


def _months_between(start: str, end: str) -> str:
    return start if start == end else f"{start} – {end}"


def previous_change(
    data: Any,
    center: str = "all",
    *,
    period_start: str | None = None,
    period_end: str | None = None,
    scenario: str = "all",
    ltr: str = "ltr",
    ci: float = 0.95,
    conf: float | None = None,
) -> pd.Series | Any:
    """The NPS of a report's period against the period just before it, from the whole processed
    ``data`` (a :class:`cxlib.clean.ProcessedData` before ``subset``): :func:`nps_test` of now
    minus before, with ``now`` and ``before`` (the months compared) and ``basis``.

    A report for given months (``period_start`` and ``period_end``) is compared with the same
    number of months just before (``basis = "period"``); a report on all data (or an open period)
    compares its last month with the month before (``basis = "last_month"``). When the data hold
    no survey answer for one of the two, the result is a :class:`~cxlib.results.NotComputed` note.

        >>> previous_change(clean.load("data/processed"), "SH-JQ", period_start="2026-10", period_end="2026-10")["before"]  # doctest: +SKIP
        '2026-09'
    """
    ci = confidence_level(ci, conf, "previous_change")
    from cxlib.league import previous_period
    from cxlib.results import NotComputed
    from cxlib.selection import visits_of

    what = ("与上期的比较", "the comparison with the previous period")
    if period_start is not None and period_end is not None:
        now_span = (str(period_start), str(period_end))
        basis = "period"
    else:
        sel = visits_of(data, center=center, period_start=period_start, period_end=period_end, scenario=scenario)
        months = sorted(set(sel["month"].dropna().astype(str))) if len(sel) else []
        if not months:
            return NotComputed(0, what, why=("所选数据中没有工单", "no visits in the selection"))
        now_span = (months[-1], months[-1])
        basis = "last_month"
    before_span = previous_period(*now_span)
    assert before_span is not None
    # only the visits are compared: the other tables need not be filtered (cxlib.selection)
    now = visits_of(data, center=center, period_start=now_span[0], period_end=now_span[1], scenario=scenario)
    before = visits_of(data, center=center, period_start=before_span[0], period_end=before_span[1], scenario=scenario)
    a = _valid_ltr(now[ltr], column=ltr)
    b = _valid_ltr(before[ltr], column=ltr)
    label = _months_between(*before_span)
    if a.size == 0 or b.size == 0:
        which = ("上期", "previous period") if b.size == 0 else ("本期", "period")
        return NotComputed(
            int(min(a.size, b.size)),
            what,
            why=(
                f"数据中没有{which[0]}（{label if b.size == 0 else _months_between(*now_span)}）的问卷",
                f"the data hold no survey answer for the {which[1]} "
                f"({label if b.size == 0 else _months_between(*now_span)})",
            ),
        )
    r = nps_test(a, b, ci=ci)
    r["now"], r["before"], r["basis"] = _months_between(*now_span), label, basis
    return r
