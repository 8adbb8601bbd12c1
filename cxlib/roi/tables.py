"""The tables and sentences of notebook 04, in the notebook's ``lang``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlib.catalog import Lang, bilingual
from cxlib.errors import require_columns
from cxlib.roi.cases import COST_FIELDS, Case, Quantity, input_label
from cxlib.roi.labels import EFFECTS, pair, text
from cxlib.roi.valuation import seed_point_roi
from cxlib.roi.value import DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_YEARS, Assumptions, lifetime_value, revenue_at_risk


def _wan(x: Any) -> float:
    """CNY → 万元 (10,000元), NaN for missing or non-finite values."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v / 1e4 if math.isfinite(v) else float("nan")


def customer_value_table(
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    lang: Lang = "both",
) -> pd.DataFrame:
    """What one customer is worth and what one bad visit puts at risk, three readings side by side.

    1. the seed's: LTV ``customer_ltv`` (1.5万) + ``referrals_per_customer`` (3) friends each worth as much;
    2. the model's revenue LTV: ``lifetime_value(yearly_spend, 1, retention_great, H, r)``, same 3 referrals;
    3. the model's margin LTV: as 2. at ``margin`` (what the ROI cases count).

    Columns: reading, LTV, referrals, value per referral, revenue at risk (元 and 万元).

        >>> float(customer_value_table(lang="en").iloc[0]["Revenue at risk (CNY)"])
        60000.0
    """
    a = assumptions or Assumptions()
    h, d = horizon_years, discount_rate
    rows = [
        (*pair("ltv_seed"), a.customer_ltv),
        (
            *pair("ltv_revenue", retention=a.retention_great, years=h, discount=d),
            lifetime_value(a.yearly_spend, margin=1.0, retention=a.retention_great, horizon_years=h, discount_rate=d),
        ),
        (
            *pair("ltv_margin", margin=a.margin, retention=a.retention_great, years=h, discount=d),
            lifetime_value(
                a.yearly_spend, margin=a.margin, retention=a.retention_great, horizon_years=h, discount_rate=d
            ),
        ),
    ]
    out = []
    for zh, en, ltv in rows:
        risk = revenue_at_risk(ltv, referrals=a.referrals_per_customer, value_per_referral=ltv)
        out.append(
            {
                text("reading", lang=lang, en_first=True): bilingual(zh, en, lang=lang, en_first=True),
                text("ltv_cny", lang=lang, en_first=True): round(ltv, 0),
                text("referred_friends", lang=lang, en_first=True): a.referrals_per_customer,
                text("value_per_friend_cny", lang=lang, en_first=True): round(ltv, 0),
                text("revenue_at_risk_cny", lang=lang, en_first=True): round(risk, 0),
                text("revenue_at_risk_10k_cny", lang=lang, en_first=True): round(risk / 1e4, 2),
            }
        )
    return pd.DataFrame(out)


def _fmt_range(q: Quantity, unit: str) -> str:
    def one(v: float) -> str:
        if unit == "share":
            return f"{v * 100:.3g}%"
        if unit == "CNY" and abs(v) >= 1e4:
            return f"{v / 1e4:.3g}万"
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"

    return one(q.mode) if q.is_fixed else f"{one(q.low)} / {one(q.mode)} / {one(q.high)}"


def inputs_table(cases: Sequence[Case], *, lang: Lang = "both") -> pd.DataFrame:
    """Every case's costs, reach and effects as ``low / mode / high`` (one number when fixed):
    one row per case, one column per input that some case uses ("—" where a case has no such effect).

    Money in 元 (``5万`` = 50,000元), shares in percent (of the customers reached), satisfaction in
    NPS points.

        >>> inputs_table([Case("x", "例", "Ex", reach=Quantity(1000, 2000, 3000))], lang="en").iloc[0, 4]
        '1,000 / 2,000 / 3,000'
    """
    used = [k for k in EFFECTS if any(k in c.effects for c in cases)]
    units = {**{k: "CNY" for k in COST_FIELDS}, "reach": "customers", **{k: EFFECTS[k][0] for k in EFFECTS}}
    rows = []
    for c in cases:
        row = {text("case", lang=lang, en_first=True): c.name(lang)}
        inp = c.inputs()
        for k in (*COST_FIELDS, "reach", *used):
            row[input_label(k, lang=lang)] = (
                "—" if k in EFFECTS and k not in c.effects else _fmt_range(inp[k], units[k])
            )
        rows.append(row)
    return pd.DataFrame(rows)


def claims_review_table(claims: pd.DataFrame, *, lang: Lang = "both") -> pd.DataFrame:
    """A :func:`claims_table` for the reader: claimed ROI, modelled ROI at the modes, Monte Carlo
    P5 / P50 / P95 and P(ROI > 0), and what the claim rests on; bilingual headers, rounded.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> claims_review_table(roi.claims_table(cases, n_sims=200, seed=1), lang="en").columns.tolist()[:3]
        ['Case', 'Claimed ROI (×)', 'Model ROI at modes (×)']
    """
    need = [
        "name_zh",
        "name_en",
        "claimed_roi",
        "model_roi",
        "roi_p5",
        "roi_p50",
        "roi_p95",
        "p_roi_positive",
        "attribution_note",
    ]
    require_columns(claims, need, "claims")
    name = [bilingual(z, e, lang=lang) for z, e in zip(claims["name_zh"], claims["name_en"])]
    return pd.DataFrame(
        {
            text("case", lang=lang, en_first=True): name,
            text("claimed_roi", lang=lang, en_first=True): claims["claimed_roi"].astype(float).round(2),
            text("model_roi_at_modes", lang=lang, en_first=True): claims["model_roi"].astype(float).round(2),
            text("roi_p5", lang=lang, en_first=True): claims["roi_p5"].astype(float).round(2),
            text("roi_p50", lang=lang, en_first=True): claims["roi_p50"].astype(float).round(2),
            text("roi_p95", lang=lang, en_first=True): claims["roi_p95"].astype(float).round(2),
            text("p_roi_0", lang=lang, en_first=True): claims["p_roi_positive"].astype(float).round(3),
            text("rests_on_attribution", lang=lang, en_first=True): claims["attribution_note"].astype(str),
        }
    )


def seed_claims_table(
    cases: Sequence[Case], *, assumptions: Assumptions | None = None, lang: Lang = "both"
) -> pd.DataFrame:
    """The seed's point ROI claims reproduced by their own arithmetic: claim, gain, cost, ROI, reproduced.

    >>> from cxlib import paths, roi
    >>> cases = roi.load_cases(paths.SAMPLE_CASES)
    >>> seed_claims_table(cases, lang="en").shape
    (2, 7)
    """
    rows = []
    for c in cases:
        sp = seed_point_roi(c, assumptions=assumptions)
        if sp is None:
            continue
        claim = c.seed_claim or {}
        arithmetic = "(gain − cost) / cost" if sp["formula"] == "net_over_cost" else "gain / cost"
        rows.append(
            {
                text("case", lang=lang, en_first=True): c.name(lang),
                text("claim", lang=lang, en_first=True): bilingual(
                    claim.get("text_zh", ""), claim.get("text_en", ""), lang=lang, sep=" / ", en_first=True
                ),
                text("gain_cny", lang=lang, en_first=True): round(sp["gain"], 0),
                text("cost_cny", lang=lang, en_first=True): round(sp["cost"], 0),
                text("arithmetic", lang=lang, en_first=True): arithmetic,
                text("recomputed_roi", lang=lang, en_first=True): round(sp["roi"], 2),
                text("reproduced", lang=lang, en_first=True): bool(sp["reproduced"]),
            }
        )
    return pd.DataFrame(rows)


def case_results_table(table: pd.DataFrame, summary: pd.DataFrame, *, lang: Lang = "both") -> pd.DataFrame:
    """Per case, for a finance reader: first-year cost, NPV / ROI / payback at the modes, and the
    Monte Carlo mean NPV, P5 / P50 / P95 of NPV, median ROI and P(ROI > 0). Money in 万元.

    ``table`` is :func:`cases_table`, ``summary`` :func:`roi_summary` (joined on ``id``). ROI is a
    multiple (1.0 = 100%); it is empty (NaN) for a case that costs nothing; payback is empty when
    it is not reached within the horizon.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> case_results_table(roi.cases_table(cases), roi.roi_summary(roi.simulate(cases, n_sims=200, seed=1))).shape
        (11, 11)
    """
    require_columns(table, ["id", "name_zh", "name_en", "first_year_cost", "npv", "roi", "payback_months"], "cases")
    require_columns(summary, ["id", "npv_mean", "npv_p5", "npv_p50", "npv_p95", "roi_p50", "p_roi_positive"], "summary")
    m = table.merge(summary, on="id", how="left", validate="one_to_one")

    def fin(s: pd.Series, digits: int) -> pd.Series:
        x = pd.to_numeric(s).astype(float)
        return x.where(np.isfinite(x)).round(digits)

    name = [bilingual(z, e, lang=lang) for z, e in zip(m["name_zh"], m["name_en"])]
    out = pd.DataFrame(
        {
            text("case", lang=lang, en_first=True): name,
            text("first_year_cost_10k_cny", lang=lang, en_first=True): fin(m["first_year_cost"] / 1e4, 2),
            text("npv_at_modes_10k_cny", lang=lang, en_first=True): fin(m["npv"] / 1e4, 2),
            text("roi_at_modes", lang=lang, en_first=True): fin(m["roi"], 2),
            text("payback_at_modes_months", lang=lang, en_first=True): fin(m["payback_months"], 1),
            text("mc_mean_npv_10k_cny", lang=lang, en_first=True): fin(m["npv_mean"] / 1e4, 2),
            text("npv_p5_10k_cny", lang=lang, en_first=True): fin(m["npv_p5"] / 1e4, 2),
            text("npv_p50_10k_cny", lang=lang, en_first=True): fin(m["npv_p50"] / 1e4, 2),
            text("npv_p95_10k_cny", lang=lang, en_first=True): fin(m["npv_p95"] / 1e4, 2),
            text("median_roi", lang=lang, en_first=True): fin(m["roi_p50"], 2),
            text("p_roi_0", lang=lang, en_first=True): fin(m["p_roi_positive"], 3),
        }
    )
    return out


def roi_record(summary: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """The ``roi`` entry of ``results.json``: ``{case: {roi, p_roi_positive, npv, payback_months}}``
    with the median ROI, P(ROI > 0), the mean NPV and the median payback (non-finite → None).

        >>> roi_record(pd.DataFrame({"id": ["x"], "roi_p50": [1.5], "p_roi_positive": [0.9],
        ...     "npv_mean": [1000.0], "payback_months_p50": [float("inf")]}))
        {'x': {'roi': 1.5, 'p_roi_positive': 0.9, 'npv': 1000.0, 'payback_months': None}}
    """
    need = ["id", "roi_p50", "p_roi_positive", "npv_mean", "payback_months_p50"]
    require_columns(summary, need, "summary")

    def num(v: Any) -> float | None:
        v = float(v)
        return v if math.isfinite(v) else None

    return {
        str(r["id"]): {
            "roi": num(r["roi_p50"]),
            "p_roi_positive": num(r["p_roi_positive"]),
            "npv": num(r["npv_mean"]),
            "payback_months": num(r["payback_months_p50"]),
        }
        for _, r in summary.sort_values("id", kind="stable").iterrows()
    }


def portfolio_table(portfolio: pd.DataFrame, *, objective: str = "npv", lang: Lang = "both") -> pd.DataFrame:
    """The cases a :func:`best_portfolio` chose, tidy for :func:`cxlib.present.table`: ``case``
    (its name in ``lang``), ``cost`` (first-year, 元) and the objective's value (``npv`` in 元, or
    ``satisfaction``: the satisfaction gain in NPS points).

        >>> portfolio_table(pd.DataFrame({"name_zh": ["例"], "name_en": ["Ex"], "cost": [5e4], "value": [1e5]}), objective="npv", lang="en").columns.tolist()
        ['case', 'cost', 'npv']
    """
    require_columns(portfolio, ["name_zh", "name_en", "cost", "value"], "portfolio")
    return pd.DataFrame(
        {
            "case": [bilingual(z, e, lang=lang) for z, e in zip(portfolio["name_zh"], portfolio["name_en"])],
            "cost": portfolio["cost"].astype(float).to_numpy(),
            "npv" if objective == "npv" else "satisfaction": portfolio["value"].astype(float).to_numpy(),
        }
    )


def portfolio_sentence(portfolio: pd.DataFrame, *, lang: Lang = "both") -> str:
    """One sentence on a :func:`best_portfolio` result: the chosen cases, total cost and value
    (the text of :func:`cxlib.findings.portfolio`).

        >>> p = pd.DataFrame({"id": ["a"], "name_zh": ["甲"], "name_en": ["A"], "cost": [5e4], "value": [2e5],
        ...     "objective": ["npv"]}); p.attrs.update(total_cost=5e4, total_value=2e5, budget=5e4)
        >>> portfolio_sentence(p, lang="en")
        'Budget CNY 50k: choose A; cost CNY 50k; expected NPV CNY 200k.'
    """
    from cxlib import findings

    return findings.portfolio(portfolio, lang=lang).text()


def tornado_sentence(table: pd.DataFrame, *, lang: Lang = "both") -> str:
    """The finding of a :func:`tornado` table in one sentence: base NPV and the input that moves it most
    (the text of :func:`cxlib.findings.tornado`).

        >>> t = pd.DataFrame({"name_zh": ["例"], "name_en": ["Ex"], "input": ["reach"], "npv_low": [-1e4],
        ...     "npv_high": [3e4], "npv_base": [1e4], "swing": [4e4]})
        >>> tornado_sentence(t, lang="en")
        'Ex: NPV at the modes CNY 10k; it moves most with Customers reached a year (−CNY 10k to CNY 30k between its low and high).'
    """
    from cxlib import findings

    return findings.tornado(table, lang=lang).text()
