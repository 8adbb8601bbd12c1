"""Key-driver analysis: Johnson's (2000) relative weights, with bootstrap confidence intervals.

Which journey points move likelihood to recommend? Touchpoint scores are strongly correlated
with each other, so regression coefficients are unstable and do not split R² among the points.
Relative weights do: the predictors are replaced by their closest orthogonal counterparts
``Z = X R^{-1/2}`` (built from the eigendecomposition ``R = P Λ P'`` of the predictor
correlation matrix, ``Λ* = P Λ^{1/2} P'``), the outcome is regressed on ``Z`` (``β = Λ*^{-1} r_xy``),
and the variance each ``Z_k`` explains is given back to the original predictors in proportion
to ``Λ*_jk²``:  ``ε_j = Σ_k Λ*_jk² β_k²``. The raw weights ``ε_j`` sum to the R² of the
ordinary least-squares regression; ``rescaled_pct`` is their share of R² in percent.

References: Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
predictor variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1-19.
Tonidandel, S., & LeBreton, J. M. (2015). RWA Web. *J. Business and Psychology*, 30, 207-216.
Checked against the R package ``rwa`` (Chan) on ``mtcars``.

Example
-------
>>> rw = relative_weights(df, "ltr", ["score_waiting", "score_notification"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlib.errors import DataError, require_columns
from cxlib.results import NotComputed, too_few

__all__ = ["relative_weights", "bootstrap_relative_weights", "WHAT"]

#: The method, as a "not computed" note names it.
WHAT = ("关键驱动因素（相对权重）", "key drivers (relative weights)")


def _short(strict: bool, message: str, note: NotComputed, column: str | None = None) -> NotComputed:
    """``note`` (``strict=False``) or a :class:`DataError` with ``message``."""
    if strict:
        raise DataError(message, column=column)
    return note


def _model_frame(df: pd.DataFrame, outcome: str, predictors: Sequence[str],
                 strict: bool = True) -> pd.DataFrame | NotComputed:
    predictors = list(predictors)
    if not predictors:
        raise DataError("relative weights need at least one predictor")
    if outcome in predictors:
        raise DataError("the outcome is also listed as a predictor", column=outcome)
    if len(set(predictors)) != len(predictors):
        raise DataError("a predictor is listed twice: " + ", ".join(predictors))
    require_columns(df, [outcome, *predictors], "key-driver")
    d = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce") for c in [outcome, *predictors]})
    d = d.astype("float64").dropna()
    need = len(predictors) + 2
    if len(d) < need:
        what = (f"{len(predictors)} 个触点的{WHAT[0]}", f"{WHAT[1]} of {len(predictors)} predictors")
        return _short(strict, f"only {len(d)} complete rows for {len(predictors)} predictors: need at least {need}",
                      too_few(len(d), need, what))
    for col in [outcome, *predictors]:
        if d[col].std() == 0:
            return _short(strict, "column is constant over the complete rows: no correlation can be computed",
                          NotComputed(len(d), WHAT, why=(f"{col} 在所有答卷中取值相同",
                                                         f"{col} is the same in every response")), column=col)
    return d


def _weights(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Raw relative weights and the predictor-outcome correlations of a matrix [y, x1..xp].

    None when the predictor correlation matrix is singular (perfectly collinear predictors).
    """
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column: NaN, handled below
        corr = np.corrcoef(values, rowvar=False)
    if not np.all(np.isfinite(corr)):
        return None
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-10 * max(evals.max(), 1.0):
        return None
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # R^{1/2}: loadings of X on Z
    beta = np.linalg.solve(lam, rxy)  # regression of y on the orthogonal Z
    raw = (lam ** 2) @ (beta ** 2)
    return raw, rxy


def relative_weights(df: pd.DataFrame, outcome: str, predictors: Sequence[str], sort: bool = True,
                     strict: bool = True) -> pd.DataFrame | NotComputed:
    """Johnson's relative weights of ``predictors`` for ``outcome`` (rows with a missing value dropped).

    Returns one row per predictor: ``raw_weight`` (share of variance of the outcome; the raw
    weights sum to R²), ``rescaled_pct`` (share of R², %, sums to 100), ``sign`` of the
    predictor's correlation with the outcome, ``r2`` of the OLS model and ``n`` rows used;
    sorted by weight (largest first) unless ``sort=False``.

    Too few complete rows (fewer than predictors + 2), a constant column or perfectly collinear
    predictors are a :class:`~cxlib.errors.DataError`; with ``strict=False`` (what a report
    calls) the function returns a :class:`~cxlib.results.NotComputed` note saying why, with n.

    >>> relative_weights(mtcars, "mpg", ["cyl", "disp", "hp", "gear"])  # doctest: +SKIP
    >>> print(relative_weights(pd.DataFrame({"y": [1, 2], "x": [3, 4]}), "y", ["x"], strict=False).in_lang("en"))
    n = 2 complete responses: too few for key drivers (relative weights) of 1 predictors, need ≥ 3
    """
    d = _model_frame(df, outcome, predictors, strict)
    if isinstance(d, NotComputed):
        return d
    res = _weights(d.to_numpy(dtype=float, copy=True))
    if res is None:
        return _short(strict, "the predictors are perfectly collinear (singular correlation matrix): "
                              "drop one of " + ", ".join(predictors),
                      NotComputed(len(d), WHAT, why=("各触点评分完全共线", "the predictors are perfectly collinear")))
    raw, rxy = res
    r2 = float(raw.sum())
    out = pd.DataFrame({
        "predictor": list(predictors),
        "raw_weight": raw,
        "rescaled_pct": 100 * raw / r2 if r2 > 0 else np.nan,
        "sign": np.where(rxy >= 0, "+", "-"),
        "r2": r2,
        "n": len(d),
    })
    if sort:
        out = out.sort_values(["raw_weight", "predictor"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


def bootstrap_relative_weights(df: pd.DataFrame, outcome: str, predictors: Sequence[str], n_boot: int = 1000,
                               seed: int = 0, ci: float = 0.95, sort: bool = True,
                               strict: bool = True) -> pd.DataFrame | NotComputed:
    """:func:`relative_weights` with percentile bootstrap confidence intervals.

    Rows are resampled with replacement ``n_boot`` times (``numpy.random.default_rng(seed)``);
    resamples with a singular correlation matrix are skipped (``n_boot_used`` says how many
    were used). Adds ``raw_ci_low/high``, ``rescaled_ci_low/high`` and ``r2_ci_low/high``.
    Intervals of rescaled weights describe the split of R², not significance: for "is this
    driver non-zero?" read the raw-weight interval (Tonidandel, LeBreton & Johnson, 2009).

    ``strict=False``: the data conditions of :func:`relative_weights`, and fewer than half the
    resamples fitted, give a :class:`~cxlib.results.NotComputed` note instead of an error (a bad
    ``n_boot`` or ``ci`` is always an error).

    >>> bootstrap_relative_weights(mtcars, "mpg", ["cyl", "wt"], n_boot=200, seed=1)  # doctest: +SKIP
    """
    if n_boot < 10:
        raise DataError(f"n_boot={n_boot} is too small for a percentile interval (use >= 10)")
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, not {ci}")
    point = relative_weights(df, outcome, predictors, sort=False, strict=strict)
    if isinstance(point, NotComputed):
        return point
    d = _model_frame(df, outcome, predictors).to_numpy(dtype=float, copy=True)
    rng = np.random.default_rng(seed)
    n = len(d)
    raws, r2s = [], []
    for _ in range(n_boot):
        res = _weights(d[rng.integers(0, n, n)])
        if res is None:
            continue
        raws.append(res[0])
        r2s.append(res[0].sum())
    if len(raws) < n_boot / 2:
        return _short(strict, f"only {len(raws)} of {n_boot} bootstrap resamples could be fitted: too few rows "
                              "or nearly constant predictors",
                      NotComputed(n, ("关键驱动因素的自助抽样区间", "bootstrap intervals of the key drivers"),
                                  why=(f"{n_boot} 次重抽样中仅 {len(raws)} 次可拟合（至少需要一半）",
                                       f"only {len(raws)} of {n_boot} resamples could be fitted (need half)")))
    raws_a = np.array(raws)
    r2_a = np.array(r2s)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample with R² = 0 has no split of R²
        resc = 100 * raws_a / r2_a[:, None]
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    raw_q = np.percentile(raws_a, q, axis=0)
    res_q = np.percentile(resc, q, axis=0)
    r2_q = np.percentile(r2_a, q)
    out = point.assign(raw_ci_low=raw_q[0], raw_ci_high=raw_q[1], rescaled_ci_low=res_q[0],
                       rescaled_ci_high=res_q[1], r2_ci_low=r2_q[0], r2_ci_high=r2_q[1],
                       n_boot_used=len(raws))
    cols = ["predictor", "raw_weight", "raw_ci_low", "raw_ci_high", "rescaled_pct", "rescaled_ci_low",
            "rescaled_ci_high", "sign", "r2", "r2_ci_low", "r2_ci_high", "n", "n_boot_used"]
    out = out[cols]
    if sort:
        out = out.sort_values(["raw_weight", "predictor"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)
