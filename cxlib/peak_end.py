"""Peak-end analysis: is a visit remembered by its worst moment and its end, or by its average?

Kahneman's peak-end rule: the retrospective evaluation of an episode is close to the average
of the most intense moment and the final moment, ``peak_end = (peak + end) / 2``, and hardly
depends on duration (*duration neglect*). For an unpleasant episode the peak is the most
intense negative moment. Here the episode is a service visit, the moments are the journey
points scored 1-10 (higher is better), so the peak is the **worst** (lowest) score and the end
is the last answered point in journey order (``departure`` when answered).

Classic evidence: Kahneman, Fredrickson, Schreiber & Redelmeier (1993), "When more pain is
preferred to less: adding a better end", *Psychological Science* 4(6), 401-405 (cold-water
trials: 69 % chose to repeat the longer trial that ended less painfully); Redelmeier &
Kahneman (1996), "Patients' memories of painful medical treatments", *Pain* 66, 3-8
(colonoscopy patients A and B).

Example
-------
>>> summary = peak_end_summary(scores, visits)            # doctest: +SKIP
>>> peak_end_models(summary, outcome="ltr", seed=1)        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cxlib import catalog
from cxlib.errors import DataError, require_columns
from cxlib.results import NotComputed, too_few

__all__ = ["peak_end_score", "peak_end_summary", "peak_end_models", "DEFAULT_MODELS"]

#: Models compared by :func:`peak_end_models`: one predictor each, plus worst and last together.
DEFAULT_MODELS: tuple[str | tuple[str, ...], ...] = ("peak_end", "mean", "worst", "last", "best",
                                                     ("worst", "last"))


def peak_end_score(values: Sequence[float], worse: Literal["lower", "higher"] = "lower") -> float:
    """``(peak + end) / 2`` of a profile given in time order; the peak is the worst moment.

    ``worse="lower"`` for satisfaction scores (worst = minimum), ``"higher"`` for pain ratings.

    >>> peak_end_score([8, 3, 7])
    5.0
    >>> peak_end_score([2, 8, 7], worse="higher")   # colonoscopy patient A: peak 8, end 7
    7.5
    """
    v = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna(), dtype=float)
    if v.size == 0:
        return float("nan")
    peak = v.min() if worse == "lower" else v.max()
    return float((peak + v[-1]) / 2)


def _order_key(s: pd.Series) -> pd.Series:
    """A sortable key for the moment column: catalog order for score points, else the values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pd.Series(s.cat.codes, index=s.index)
    vals = s.astype(str)
    if vals.isin(catalog.SCORE_POINT_ORDER).all():
        rank = {p: i for i, p in enumerate(catalog.SCORE_POINT_ORDER)}
        return vals.map(rank).astype("int64")
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().all():
        return num
    raise DataError("moment column holds neither score-point codes nor numbers; cannot order the profile",
                    column=s.name)


def peak_end_summary(scores: pd.DataFrame, visits: pd.DataFrame | None = None, *, id: str = "response_id",
                     order: str = "point", value: str = "score", worse: Literal["lower", "higher"] = "lower",
                     outcome: str = "ltr", duration: str = "visit_minutes") -> pd.DataFrame:
    """One row per response (``id``): ``worst``, ``best``, ``last`` (last answered point in
    journey order; ``last_point`` says which), ``peak_end = (worst + last) / 2``, ``mean``,
    ``total`` (sum over the points: the area under an evenly spaced profile), ``n_points``,
    and, when available, ``visit_id``, the visit duration (``visit_minutes``, from ``visits``) and
    the outcome (``ltr``, from ``scores`` or else ``visits``).

    Works on any long profile: ``order`` may be score-point codes (catalog order) or numbers
    (seconds, minutes); ``worse="higher"`` for pain ratings.

    >>> peak_end_summary(scores, visits).head()   # doctest: +SKIP
    """
    if worse not in ("lower", "higher"):
        raise DataError(f"worse must be 'lower' or 'higher', not {worse!r}")
    require_columns(scores, [id, order, value], "scores")
    d = scores.copy()
    d["_value"] = pd.to_numeric(d[value], errors="coerce")
    d = d[d["_value"].notna()]
    if d.empty:
        raise DataError("no valid values to summarise", column=value)
    d["_key"] = _order_key(d[order])
    d = d.sort_values([id, "_key"], kind="mergesort")
    g = d.groupby(id, sort=True, observed=True)
    lowest, highest = g["_value"].min(), g["_value"].max()
    worst, best = (lowest, highest) if worse == "lower" else (highest, lowest)
    last = g["_value"].last()
    out = pd.DataFrame({
        "n_points": g["_value"].count(),
        "worst": worst,
        "best": best,
        "last": last,
        "last_point": g[order].last().astype(str),
        "peak_end": (worst + last) / 2,
        "mean": g["_value"].mean(),
        "total": g["_value"].sum(),
    })
    out.index.name = id
    if "visit_id" in d.columns and id != "visit_id":
        out.insert(0, "visit_id", g["visit_id"].first().astype(str))
    if outcome in d.columns:
        out[outcome] = pd.to_numeric(g[outcome].first(), errors="coerce").astype("Float64")
    out = out.reset_index()
    if visits is not None:
        if "visit_id" not in out.columns or "visit_id" not in visits.columns:
            raise DataError("visit_id is needed in both scores and visits to add visit duration",
                            column="visit_id")
        extra = [c for c in (duration, outcome) if c in visits.columns and c not in out.columns]
        if extra:
            v = visits[["visit_id", *extra]].drop_duplicates("visit_id")
            v = v.assign(visit_id=v["visit_id"].astype(str))
            out = out.merge(v, on="visit_id", how="left", validate="many_to_one")
    return out


def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    a = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a, y_train, rcond=None)
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    sst = ((y - y.mean()) ** 2).sum()
    return float(1 - ((y - yhat) ** 2).sum() / sst) if sst > 0 else float("nan")


def peak_end_models(summary: pd.DataFrame, outcome: str = "ltr",
                    models: Sequence[str | Sequence[str]] = DEFAULT_MODELS, folds: int = 10, n_boot: int = 200,
                    seed: int = 0, ci: float = 0.95, baseline: str = "mean",
                    strict: bool = True) -> pd.DataFrame | NotComputed:
    """Cross-validated R² of linear models of ``outcome`` on peak-end features, side by side.

    Each entry of ``models`` is a column of ``summary`` (one predictor) or a tuple of columns.
    All models use the same rows (complete on every column involved) and the same ``folds``
    (seeded shuffle). ``r2_cv`` is the out-of-fold R², ``1 - Σ(y - ŷ_oof)² / Σ(y - ȳ)²``.
    ``ci_low/ci_high``: percentile bootstrap over respondents of the out-of-fold R² (the
    out-of-fold predictions are held fixed, so refitting variability is not included).
    ``delta_vs_baseline`` (default baseline: the ``mean`` model) with a paired bootstrap
    interval, from the same resamples. Sorted by ``r2_cv``.

    Fewer than ``2 × folds`` complete rows, or an outcome that is the same in all of them, is a
    :class:`~cxlib.errors.DataError`; with ``strict=False`` (what a report calls) the function
    returns a :class:`~cxlib.results.NotComputed` note stating n and the need instead.

    >>> peak_end_models(summary, outcome="ltr", folds=5, n_boot=200, seed=1)   # doctest: +SKIP
    >>> print(peak_end_models(pd.DataFrame({"mean": [5.0] * 14, "ltr": [7.0] * 14}), models=["mean"],
    ...                       strict=False).in_lang("en"))
    n = 14 complete responses: too few for 10-fold cross-validation of the peak-end models, need ≥ 20
    """
    specs = [(m,) if isinstance(m, str) else tuple(m) for m in models]
    names = [" + ".join(s) for s in specs]
    cols = sorted({c for s in specs for c in s} | {outcome})
    require_columns(summary, cols, "peak-end summary")
    d = pd.DataFrame({c: pd.to_numeric(summary[c], errors="coerce") for c in cols}).astype("float64").dropna()
    n = len(d)
    if folds < 2:
        raise DataError(f"folds={folds}: cross-validation needs at least 2 folds")
    what = (f"峰终模型的 {folds} 折交叉验证", f"{folds}-fold cross-validation of the peak-end models")
    if n < 2 * folds:
        if strict:
            raise DataError(f"{n} complete rows are too few for {folds}-fold cross-validation")
        return too_few(n, 2 * folds, what)
    if d[outcome].nunique() < 2:
        if strict:
            raise DataError(f"{outcome} is the same in every complete row: no variance to explain", column=outcome)
        return NotComputed(n, what, why=(f"{outcome} 在所有答卷中取值相同", f"{outcome} is the same in every response"))
    rng = np.random.default_rng(seed)
    fold = rng.permutation(n) % folds
    y = d[outcome].to_numpy()
    oof: dict[str, np.ndarray] = {}
    rows = []
    for spec, name in zip(specs, names):
        x = d[list(spec)].to_numpy()
        pred = np.empty(n)
        for k in range(folds):
            test = fold == k
            pred[test] = _ols_predict(x[~test], y[~test], x[test])
        oof[name] = pred
        rows.append({"model": name, "predictors": list(spec), "n": n, "folds": folds,
                     "r2_cv": _r2(y, pred), "r2_in_sample": _r2(y, _ols_predict(x, y, x))})
    out = pd.DataFrame(rows)
    boot = np.full((n_boot, len(names)), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        for j, name in enumerate(names):
            boot[b, j] = _r2(y[idx], oof[name][idx])
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    lo, hi = np.nanpercentile(boot, q, axis=0)
    out["ci_low"], out["ci_high"] = lo, hi
    if baseline in names:
        j0 = names.index(baseline)
        diff = boot - boot[:, [j0]]
        dlo, dhi = np.nanpercentile(diff, q, axis=0)
        out["delta_vs_baseline"] = out["r2_cv"] - out.loc[j0, "r2_cv"]
        out["delta_ci_low"], out["delta_ci_high"] = dlo, dhi
    out = out.sort_values(["r2_cv", "model"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    first = ["model", "predictors", "r2_cv", "ci_low", "ci_high"]
    return out[first + [c for c in out.columns if c not in first]]
