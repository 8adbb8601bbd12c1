"""The ranges of every case propagated by Monte Carlo: draws, NPV / ROI / payback per draw, summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlib.errors import DataError, require_columns
from cxlib.roi.cases import Case, Distribution
from cxlib.roi.valuation import attribution_note, draw_metrics, evaluate, seed_point_roi
from cxlib.roi.value import DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_YEARS, Assumptions


def simulate(
    cases: Case | Sequence[Case],
    *,
    n_sims: int = 10_000,
    seed: int = 20261001,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    distribution: Distribution = "triangular",
) -> pd.DataFrame:
    """Monte Carlo draws of every uncertain input and the resulting NPV, ROI and payback.

    Each input is drawn independently from a triangular (default) or PERT distribution over its
    ``{low, mode, high}``, except those a case's ``sampling`` (:class:`JointNormal`) drives: these
    come from the measured effects' estimated sampling distribution (normal on the models' scales,
    with their covariance), drawn first. One ``numpy.random.default_rng(seed)`` stream, cases in
    the given order, inputs in :data:`INPUTS` order, so the same seed gives the same draws.
    One row per (case, draw): ``id``, ``name_zh``, ``name_en``, ``sim``, the inputs, ``first_year_cost``, ``pv_gain``,
    ``pv_cost``, ``npv``, ``roi``, ``payback_months``.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> simulate(cases, n_sims=200, seed=1).shape
        (2200, 20)
    """
    if isinstance(cases, Case):
        cases = [cases]
    if int(n_sims) != n_sims or n_sims < 1:
        raise DataError(f"n_sims must be a whole number ≥ 1, got {n_sims!r}", column="n_sims")
    n = int(n_sims)
    a = assumptions or Assumptions()
    rng = np.random.default_rng(seed)
    frames = []
    for c in cases:
        joint = c.sampling.draw(rng, n) if c.sampling is not None else {}
        draws = {k: joint[k] if k in joint else q.draw(rng, n, distribution) for k, q in c.inputs().items()}
        m = draw_metrics(draws, a, horizon_years, discount_rate)
        df = pd.DataFrame({"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "sim": np.arange(n), **draws, **m})
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def roi_summary(sims: pd.DataFrame, by: str = "id") -> pd.DataFrame:
    """Per case: mean, P5, P50, P95 of NPV and ROI, P(ROI > 0), P(NPV > 0), median payback.

    >>> from cxlib import paths, roi
    >>> cases = roi.load_cases(paths.SAMPLE_CASES)
    >>> s = roi_summary(simulate(cases, n_sims=500, seed=1)).set_index("id")
    >>> float(s.loc["realtime_push", "p_roi_positive"]), bool(s.loc["birthday_surprise", "npv_p50"] < 0)
    (0.998, True)
    """
    need = [by, "npv", "roi", "payback_months"]
    require_columns(sims, need, "simulation")
    rows = []
    for key, g in sims.groupby(by, sort=False):
        row: dict[str, Any] = {by: key, "n_sims": len(g)}
        for col in ("npv", "roi"):
            x = g[col].to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                row[f"{col}_mean"] = float(np.mean(x))  # inf when some ROI is unbounded (no cost)
            for p in (5, 50, 95):
                row[f"{col}_p{p}"] = float(np.quantile(x, p / 100, method="inverted_cdf"))
        row["p_roi_positive"] = float(np.mean(g["roi"].to_numpy(dtype=float) > 0))
        row["p_npv_positive"] = float(np.mean(g["npv"].to_numpy(dtype=float) > 0))
        row["payback_months_p50"] = float(
            np.quantile(g["payback_months"].to_numpy(dtype=float), 0.5, method="inverted_cdf")
        )
        rows.append(row)
    return pd.DataFrame(rows)


def claims_table(
    cases: Sequence[Case],
    *,
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    n_sims: int = 10_000,
    seed: int = 20261001,
    summary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The original claims next to their re-examination: one row per case with an ROI claim.

    Columns: id, name_zh, name_en, claimed_roi, seed_roi (reproduced by the claim's arithmetic),
    reproduced, model_roi (modes), roi_p5, roi_p50, roi_p95, p_roi_positive, attribution_note.
    The Monte Carlo columns come from ``summary`` (a :func:`roi_summary` of all cases, so the
    figures match the other tables) when given, else from a simulation of each claimed case alone.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> claims_table(cases, n_sims=200, seed=1)[["id", "claimed_roi", "seed_roi", "reproduced"]].values.tolist()
        [['kids_corner', 6.5, 6.5, True], ['birthday_surprise', 20000.0, 20000.0, True]]
    """
    if summary is not None:
        require_columns(summary, ["id"], "summary")
    rows = []
    for c in cases:
        sp = seed_point_roi(c, assumptions=assumptions)
        if sp is None:
            continue
        ev = evaluate(c, assumptions=assumptions, horizon_years=horizon_years, discount_rate=discount_rate)
        if summary is not None:
            hit = summary.loc[summary["id"] == c.id]
            if hit.empty:
                raise DataError(f"summary has no row for case {c.id!r}", column="id")
            summ = hit.iloc[0]
        else:
            summ = roi_summary(
                simulate(
                    c,
                    n_sims=n_sims,
                    seed=seed,
                    assumptions=assumptions,
                    horizon_years=horizon_years,
                    discount_rate=discount_rate,
                )
            ).iloc[0]
        rows.append(
            {
                "id": c.id,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "claimed_roi": sp["claimed_roi"],
                "seed_roi": sp["roi"],
                "reproduced": sp["reproduced"],
                "model_roi": ev["roi"],
                "roi_p5": summ["roi_p5"],
                "roi_p50": summ["roi_p50"],
                "roi_p95": summ["roi_p95"],
                "p_roi_positive": summ["p_roi_positive"],
                "attribution_note": attribution_note(c),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "name_zh",
            "name_en",
            "claimed_roi",
            "seed_roi",
            "reproduced",
            "model_roi",
            "roi_p5",
            "roi_p50",
            "roi_p95",
            "p_roi_positive",
            "attribution_note",
        ],
    )
