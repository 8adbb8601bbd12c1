"""A case's cash flows and their value at the modes: NPV, ROI, payback, the seed's point claims
reproduced, the one-way sensitivity of NPV to each input (tornado)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from cxlib.errors import DataError
from cxlib.roi.cases import MONETARY_INPUTS, Case
from cxlib.roi.labels import INPUT_LABELS
from cxlib.roi.value import DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_YEARS, Assumptions


def _as_arrays(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}


def _cash_flows(v: Mapping[str, np.ndarray], a: Assumptions, horizon_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Monthly gains and costs, shape (n, 12·H + 1), month 0 first (see the module docstring)."""
    h = int(horizon_years)
    if h != horizon_years or h < 1:
        raise DataError(f"horizon_years must be a whole number ≥ 1, got {horizon_years!r}", column="horizon_years")
    n = max(len(x) for x in v.values())
    r = a.retention_great
    won = v["extra_customers"] + v["reach"] * v["referral_gain"] * a.new_customers_per_referrer
    kept = v["reach"] * v["retention_gain"]
    s = np.concatenate([[0.0], np.cumsum(r ** np.arange(h))])  # s[k] = Σ_{i<k} r^i
    years = np.arange(1, h + 1)
    active = won[:, None] * s[years][None, :] + kept[:, None] * s[years - 1][None, :]
    gain_y = a.margin * a.yearly_spend * (active + (v["reach"] * v["spend_gain"])[:, None])
    cost_y = np.broadcast_to((v["yearly_cost"] + v["cost_per_customer"] * v["reach"])[:, None], (n, h))
    gains = np.zeros((n, 12 * h + 1))
    costs = np.zeros((n, 12 * h + 1))
    gains[:, 1:] = np.repeat(gain_y / 12, 12, axis=1)
    costs[:, 1:] = np.repeat(cost_y / 12, 12, axis=1)
    costs[:, 0] = v["one_off_cost"]
    return gains, costs


def _payback(net: np.ndarray) -> np.ndarray:
    """Months until the undiscounted cumulative cash flow reaches 0 and stays ≥ 0 to the end of the
    horizon (linear within the month of the crossing); 0 if it is never negative, inf if it ends < 0."""
    cum = np.cumsum(net, axis=1)
    tol = 1e-9 * np.maximum(1.0, np.abs(net).max(axis=1, keepdims=True))
    ok = cum >= -tol
    stays = np.flip(np.logical_and.accumulate(np.flip(ok, axis=1), axis=1), axis=1)
    out = np.full(net.shape[0], np.inf)
    for i in np.flatnonzero(stays[:, -1]):
        m = int(stays[i].argmax())
        if m == 0:
            out[i] = 0.0
        else:
            prev, step = cum[i, m - 1], net[i, m]
            out[i] = (m - 1) + (min(1.0, -prev / step) if step > 0 else 1.0)
    return out


def draw_metrics(
    v: Mapping[str, np.ndarray], a: Assumptions, horizon_years: int, discount_rate: float
) -> dict[str, np.ndarray]:
    if discount_rate <= -1:
        raise DataError(f"discount_rate must exceed -1, got {discount_rate!r}", column="discount_rate")
    gains, costs = _cash_flows(v, a, horizon_years)
    disc = (1 + discount_rate) ** (-np.arange(gains.shape[1]) / 12)
    pv_gain = gains @ disc
    pv_cost = costs @ disc
    npv = pv_gain - pv_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(
            pv_cost > 0,
            npv / np.where(pv_cost > 0, pv_cost, 1.0),
            np.where(npv > 0, np.inf, np.where(npv < 0, -np.inf, np.nan)),
        )
    first_cost = v["one_off_cost"] + v["yearly_cost"] + v["cost_per_customer"] * v["reach"]
    return {
        "first_year_cost": np.broadcast_to(first_cost, npv.shape).astype(float),
        "pv_gain": pv_gain,
        "pv_cost": pv_cost,
        "npv": npv,
        "roi": roi,
        "payback_months": _payback(gains - costs),
    }


def cash_flows(
    case: Case,
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    at: Literal["mode", "low", "high", "mean"] = "mode",
) -> pd.DataFrame:
    """Monthly cash flows of a case with every input at its mode (or low / high / mean).

    One row per month 0..12·H: ``year``, ``gain``, ``cost``, ``net``, ``cumulative``.

        >>> from cxlib.roi import Quantity
        >>> cf = cash_flows(Case("x", "例", "Ex", one_off_cost=Quantity.fixed(120)), horizon_years=1)
        >>> float(cf["cumulative"].iloc[-1])
        -120.0
    """
    a = assumptions or Assumptions()
    vals = _point_inputs(case, at)
    gains, costs = _cash_flows(_as_arrays(vals), a, horizon_years)
    months = np.arange(gains.shape[1])
    net = gains[0] - costs[0]
    return pd.DataFrame(
        {
            "month": months,
            "year": np.ceil(months / 12).astype(int),
            "gain": gains[0],
            "cost": costs[0],
            "net": net,
            "cumulative": np.cumsum(net),
        }
    )


def _point_inputs(case: Case, at: str) -> dict[str, float]:
    if at not in ("mode", "low", "high", "mean"):
        raise ValueError(f"at must be 'mode', 'low', 'high' or 'mean', not {at!r}")
    return {k: (q.mean() if at == "mean" else getattr(q, at)) for k, q in case.inputs().items()}


# ============================================================================ evaluation
def attribution_note(case: Case) -> str:
    """Plain words on whether the case's claim rests on attribution assumptions ("" if none).

    >>> attribution_note(Case("x", "例", "Ex", attribution="Credits a lifetime to a gift."))
    'Credits a lifetime to a gift.'
    """
    return case.attribution or ""


def evaluate(
    case: Case,
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    at: Literal["mode", "low", "high", "mean"] = "mode",
) -> dict[str, Any]:
    """NPV, ROI and payback of a case with its inputs at their modes (or ``at``).

    Keys: id, name_zh, name_en, group, combines, first_year_cost, pv_gain, pv_cost, npv, roi,
    payback_months (``inf``: not within the horizon), satisfaction_gain, satisfaction (gain × reach),
    attribution_note.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> round(evaluate(roi.get_case(cases, "kids_corner"), horizon_years=3, discount_rate=0.08)["npv"])
        860840
    """
    a = assumptions or Assumptions()
    vals = _point_inputs(case, at)
    m = draw_metrics(_as_arrays(vals), a, horizon_years, discount_rate)
    return {
        "id": case.id,
        "name_zh": case.name_zh,
        "name_en": case.name_en,
        "group": case.group,
        "combines": ",".join(case.combines),
        **{k: float(x[0]) for k, x in m.items()},
        "satisfaction_gain": vals["satisfaction_gain"],
        "satisfaction": vals["satisfaction_gain"] * vals["reach"],
        "attribution_note": attribution_note(case),
    }


def cases_table(
    cases: Sequence[Case],
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    at: Literal["mode", "low", "high", "mean"] = "mode",
) -> pd.DataFrame:
    """:func:`evaluate` for every case: one row per case, in file order (input of :func:`best_portfolio`).

    >>> from cxlib import paths, roi
    >>> cases = roi.load_cases(paths.SAMPLE_CASES)
    >>> cases_table(cases).shape
    (11, 14)
    """
    return pd.DataFrame(
        [
            evaluate(c, assumptions=assumptions, horizon_years=horizon_years, discount_rate=discount_rate, at=at)
            for c in cases
        ]
    )


def seed_point_roi(case: Case, *, assumptions: Assumptions | None = None) -> dict[str, Any] | None:
    """Reproduce the case's original point ROI claim by the claim's own arithmetic.

    ``formula`` ``net_over_cost``: (gain − cost)/cost; ``gain_over_cost``: gain/cost. ``gain`` /
    ``cost`` are the claim's numbers, or ``first_year_revenue`` (revenue at margin 1 in year 1:
    ``yearly_spend · (extra_customers + reach·(retention_gain + referral_gain + spend_gain))``) /
    ``first_year_cost`` (one-off + yearly + per-customer · reach) computed from the modes.
    Returns None when the case makes no ROI claim.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> seed_point_roi(roi.get_case(cases, "kids_corner"))["roi"]
        6.5
    """
    claim = case.seed_claim or {}
    if "roi" not in claim:
        return None
    a = assumptions or Assumptions()
    mode = _point_inputs(case, "mode")

    def value(v: Any) -> float:
        if v == "first_year_revenue":
            per = mode["retention_gain"] + mode["referral_gain"] * a.new_customers_per_referrer + mode["spend_gain"]
            return a.yearly_spend * (mode["extra_customers"] + mode["reach"] * per)
        if v == "first_year_cost":
            return mode["one_off_cost"] + mode["yearly_cost"] + mode["cost_per_customer"] * mode["reach"]
        return float(v)

    gain, cost = value(claim["gain"]), value(claim["cost"])
    if cost <= 0:
        raise DataError(f"case {case.id!r}: the claimed ROI has no cost to divide by", column="seed_claim.cost")
    roi = (gain - cost) / cost if claim["formula"] == "net_over_cost" else gain / cost
    claimed = float(claim["roi"])
    return {
        "id": case.id,
        "claimed_roi": claimed,
        "roi": roi,
        "gain": gain,
        "cost": cost,
        "formula": claim["formula"],
        "reproduced": math.isclose(roi, claimed, rel_tol=1e-9, abs_tol=1e-12),
        "attribution_note": attribution_note(case),
    }


def tornado(
    case: Case,
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> pd.DataFrame:
    """One-at-a-time sensitivity: each uncertain input at its low and high, the others at their modes.

    One row per uncertain money input (:data:`MONETARY_INPUTS`), largest ``swing`` (|NPV at high − NPV at low|) first:
    ``id``, ``name_zh``, ``name_en``, ``input``, ``label_zh``, ``label_en``, ``low``, ``mode``, ``high``, ``npv_low``, ``npv_high``,
    ``npv_base``, ``swing``.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> tornado(roi.get_case(cases, "kids_corner")).iloc[0]["input"]
        'extra_customers'
    """
    a = assumptions or Assumptions()
    base = _point_inputs(case, "mode")
    npv_base = float(draw_metrics(_as_arrays(base), a, horizon_years, discount_rate)["npv"][0])
    rows = []
    for k, q in case.inputs().items():
        if q.is_fixed or k not in MONETARY_INPUTS:
            continue
        res = []
        for x in (q.low, q.high):
            vals = dict(base, **{k: x})
            res.append(float(draw_metrics(_as_arrays(vals), a, horizon_years, discount_rate)["npv"][0]))
        zh, en = INPUT_LABELS[k]
        rows.append(
            {
                "id": case.id,
                "name_zh": case.name_zh,
                "name_en": case.name_en,
                "input": k,
                "label_zh": zh,
                "label_en": en,
                "low": q.low,
                "mode": q.mode,
                "high": q.high,
                "npv_low": res[0],
                "npv_high": res[1],
                "npv_base": npv_base,
                "swing": abs(res[1] - res[0]),
            }
        )
    cols = [
        "id",
        "name_zh",
        "name_en",
        "input",
        "label_zh",
        "label_en",
        "low",
        "mode",
        "high",
        "npv_low",
        "npv_high",
        "npv_base",
        "swing",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["swing", "input"], ascending=[False, True], kind="stable").reset_index(drop=True)
