"""Peak-end analysis: is a visit remembered by its worst moment and its end, or by its average?

Kahneman's peak-end rule: the retrospective evaluation of an episode is close to the average
of the most intense moment and the final moment, ``peak_end = (peak + end) / 2``, and hardly
depends on duration (*duration neglect*). For an unpleasant episode the peak is the most
intense negative moment. Here the episode is a service visit, the moments are the journey
points scored 1-10 (higher is better), so the peak is the **worst** (lowest) score and the end
is the last answered point in journey order (``departure`` when answered).

Duration is not assumed away. The summary carries the visit's duration (``visit_minutes``,
arrival to delivery, and its log ``log_visit_minutes``) and a **time-weighted** profile
(``time_weighted_mean``, ``area``): every score weighted by the time it stands for. For the
journey points of a service visit that time comes from the visit's timestamps of the data
contract: the points of one stage share the minutes of that stage of the visit,

* ``arrival`` and ``reception`` (stage *arrival*): ``arrived_at`` to ``started_at``,
* ``waiting`` and ``notification`` (stage *waiting*): ``started_at`` to ``finished_at``,
* ``handover``, ``payment``, ``departure`` (stage *delivery*): ``finished_at`` to ``delivered_at``,

split equally between the points of the stage that the response answered; ``reminder`` and
``booking`` happen days before the visit and stand for no time at the center (weight 0). The
touchpoint log's own events are not used for the split: inside a stage they overlap (a customer
waits while being notified) or bunch into the last minutes (hand-over, payment, farewell), so
they would not say how long each score lasted. For a profile whose order is a time (seconds,
minutes: moment-by-moment ratings) each rating stands for the time nearer to it than to the
ratings before and after (the trapezoid rule over the profile). *Duration neglect* is then a
tested result (:func:`duration_neglect`): the coefficient of log duration given peak and end,
and the cross-validated R² it adds.

Classic evidence: Kahneman, Fredrickson, Schreiber & Redelmeier (1993), "When more pain is
preferred to less: adding a better end", *Psychological Science* 4(6), 401-405 (cold-water
trials: 69 % chose to repeat the longer trial that ended less painfully); Redelmeier &
Kahneman (1996), "Patients' memories of painful medical treatments", *Pain* 66, 3-8
(colonoscopy patients A and B).

Example
-------
>>> summary = peak_end_summary(scores, visits)            # doctest: +SKIP
>>> peak_end_models(summary, outcome="ltr", inference=Inference(seed=1))   # doctest: +SKIP
>>> duration_neglect(summary, outcome="ltr", inference=Inference(seed=1))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cxlib import catalog
from cxlib.errors import DataError, require_columns
from cxlib.estimation import Inference, former_keywords
from cxlib.results import NotComputed, too_few

__all__ = [
    "peak_end_score",
    "time_weighted_mean",
    "peak_end_summary",
    "peak_end_models",
    "duration_neglect",
    "DEFAULT_MODELS",
    "DURATION_MODELS",
    "STAGE_SPANS",
]

#: Models compared by :func:`peak_end_models`: one predictor each, plus worst and last together.
DEFAULT_MODELS: tuple[str | tuple[str, ...], ...] = (
    "peak_end",
    "mean",
    "time_weighted_mean",
    "worst",
    "last",
    "best",
    ("worst", "last"),
)
#: Added to :data:`DEFAULT_MODELS` when the summary carries the visit duration: duration alone,
#: and peak and end with and without it (the models of :func:`duration_neglect`).
DURATION_MODELS: tuple[str | tuple[str, ...], ...] = (
    "log_visit_minutes",
    ("peak_end", "log_visit_minutes"),
    ("worst", "last", "log_visit_minutes"),
)
#: The time a journey stage of a visit stands for: from one timestamp of ``visits`` to the next.
#: Stages not listed (awareness, booking, after-sales) are not time spent at the center.
STAGE_SPANS: dict[str, tuple[str, str]] = {
    "arrival": ("arrived_at", "started_at"),
    "waiting": ("started_at", "finished_at"),
    "delivery": ("finished_at", "delivered_at"),
}


def peak_end_score(values: Sequence[float], *, worse: Literal["lower", "higher"] = "lower") -> float:
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


def time_weighted_mean(values: Sequence[float], times: Sequence[float]) -> float:
    """Mean of a profile weighted by the time each rating stands for: ``times`` are the moments
    of the ratings (any unit, increasing), each rating stands for the time nearer to it than to
    its neighbours, so the result is the trapezoid area under the profile divided by its
    duration. One rating (no duration): NaN.

    >>> time_weighted_mean([2, 8, 2], [0, 1, 5])      # (0.5·2 + 2.5·8 + 2·2) / 5
    5.0
    >>> time_weighted_mean([2, 8, 2], [0, 1, 2])      # evenly spaced: (0.5·2 + 1·8 + 0.5·2) / 2
    5.0
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(times, dtype=float)
    if v.shape != t.shape:
        raise DataError(f"{v.size} values but {t.size} times: one time per rating is needed")
    keep = ~(np.isnan(v) | np.isnan(t))
    v, t = v[keep], t[keep]
    order = np.argsort(t, kind="mergesort")
    w = _midpoint_weights(t[order])
    span = w.sum()
    return float((w * v[order]).sum() / span) if span > 0 else float("nan")


def _midpoint_weights(t: np.ndarray) -> np.ndarray:
    """Weights of sorted times ``t``: half the gap to each neighbour (the trapezoid rule)."""
    if t.size < 2:
        return np.zeros(t.size)
    gaps = np.diff(t)
    return np.r_[gaps, 0.0] / 2 + np.r_[0.0, gaps] / 2


def _stage_minutes(d: pd.DataFrame, visits: pd.DataFrame, id: str, order: str) -> pd.Series | None:
    """Minutes each row of ``d`` (one journey point of a response) stands for, from the stage
    spans of its visit (:data:`STAGE_SPANS`) shared equally by the answered points of the stage.
    None when the points are not catalog score points or ``visits`` lacks the timestamps.

    The visits are looked up once by position (one index look-up of the visit ids, the points'
    stages from their codes), not by a map of strings per stage: on a network's six million
    answered points that was a minute."""
    stamps = sorted({c for span in STAGE_SPANS.values() for c in span})
    if visits is None or "visit_id" not in d.columns or not set(stamps) <= set(visits.columns):
        return None
    stage_of = {p.code: p.stage for p in catalog.SCORE_POINTS}
    col = d[order]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in col.cat.categories]
        used = np.unique(col.cat.codes.to_numpy())
        if (used < 0).any() or not all(cats[i] in stage_of for i in used):
            return None
        stage = np.array([stage_of.get(c, "") for c in cats], dtype=object)[col.cat.codes.to_numpy()]
    else:
        codes = col.astype(str)
        if not codes.isin(catalog.SCORE_POINT_ORDER).all():
            return None
        stage = codes.map(stage_of).to_numpy(dtype=object)
    v = visits[["visit_id", *stamps]].drop_duplicates("visit_id")
    pos = pd.Index(v["visit_id"].astype(str)).get_indexer(d["visit_id"].astype(str))
    known = pos >= 0
    ns = {c: pd.to_datetime(v[c]).to_numpy(dtype="datetime64[ns]").astype("int64") for c in stamps}
    nat = np.iinfo(np.int64).min
    resp = pd.factorize(d[id])[0]
    known &= resp >= 0  # (a response without an id has no stage shares, as a groupby leaves it out)
    resp = np.maximum(resp, 0)
    minutes = np.zeros(len(d))
    for st, (a, b) in STAGE_SPANS.items():
        rows = np.flatnonzero((stage == st) & known)
        if rows.size == 0:
            continue
        ta, tb = ns[a][pos[rows]], ns[b][pos[rows]]
        span = np.where((ta == nat) | (tb == nat), np.nan, (tb - ta) / 6e10)
        share = np.bincount(resp[rows], minlength=resp.max() + 1)[resp[rows]]  # the stage's points answered
        minutes[rows] = np.clip(span, 0, None) / share
    minutes[~known] = np.nan
    return pd.Series(minutes, index=d.index)


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
    raise DataError(
        "moment column holds neither score-point codes nor numbers; cannot order the profile", column=s.name
    )


def peak_end_summary(
    scores: pd.DataFrame,
    visits: pd.DataFrame | None = None,
    *,
    id: str = "response_id",
    order: str = "point",
    value: str = "score",
    worse: Literal["lower", "higher"] = "lower",
    outcome: str = "ltr",
    duration: str = "visit_minutes",
) -> pd.DataFrame:
    """One row per response (``id``): ``worst``, ``best``, ``last`` (last answered point in
    journey order; ``last_point`` says which), ``peak_end = (worst + last) / 2``, ``mean``,
    ``n_points``, the time-weighted profile (``span``: the time the weighted points stand for;
    ``area``: Σ score × time, the area under the profile over time; ``time_weighted_mean =
    area / span``), and, when available, ``visit_id``, the visit duration (``visit_minutes``
    from ``visits``, and ``log_visit_minutes``) and the outcome (``ltr``, from ``scores`` or
    else ``visits``).

    The weights (module docstring): journey points share the minutes of their stage of the
    visit (:data:`STAGE_SPANS`, from the timestamps of ``visits``; without them ``span``,
    ``area`` and ``time_weighted_mean`` are NaN); a numeric ``order`` is itself the time, and
    each rating stands for the time nearer to it than to its neighbours (trapezoid rule).
    ``area`` replaces the former ``total`` (a plain sum, which treated the points as evenly
    spaced whatever their timing).

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
    out = pd.DataFrame(
        {
            "n_points": g["_value"].count(),
            "worst": worst,
            "best": best,
            "last": last,
            "last_point": g[order].last().astype(str),
            "peak_end": (worst + last) / 2,
            "mean": g["_value"].mean(),
        }
    )
    weights = _stage_minutes(d, visits, id, order)
    if (
        weights is None
        and not isinstance(d[order].dtype, pd.CategoricalDtype)
        and pd.to_numeric(d[order], errors="coerce").notna().all()
        and not d[order].astype(str).isin(catalog.SCORE_POINT_ORDER).all()
    ):
        t = d["_key"].to_numpy(dtype=float)
        w = np.zeros(len(d))
        ids = d[id].to_numpy()
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(d)]):
            w[a:b] = _midpoint_weights(t[a:b])
        weights = pd.Series(w, index=d.index)
    if weights is None:
        out["span"] = out["area"] = out["time_weighted_mean"] = np.nan
    else:
        tw = pd.DataFrame({id: d[id], "_w": weights, "_wv": weights * d["_value"]})
        gw = tw.groupby(id, sort=True, observed=True)
        span = gw["_w"].sum(min_count=1)
        area = gw["_wv"].sum(min_count=1)
        has = span > 0
        out["span"] = span.where(has)
        out["area"] = area.where(has)
        out["time_weighted_mean"] = (area / span).where(has)
    out.index.name = id
    if "visit_id" in d.columns and id != "visit_id":
        out.insert(0, "visit_id", g["visit_id"].first().astype(str))
    if outcome in d.columns:
        out[outcome] = pd.to_numeric(g[outcome].first(), errors="coerce").astype("Float64")
    out = out.reset_index()
    if visits is not None:
        if "visit_id" not in out.columns or "visit_id" not in visits.columns:
            raise DataError("visit_id is needed in both scores and visits to add visit duration", column="visit_id")
        extra = [c for c in (duration, outcome) if c in visits.columns and c not in out.columns]
        if extra:
            v = visits[["visit_id", *extra]].drop_duplicates("visit_id")
            v = v.assign(visit_id=v["visit_id"].astype(str))
            out = out.merge(v, on="visit_id", how="left", validate="many_to_one")
    if duration in out.columns:
        minutes = pd.to_numeric(out[duration], errors="coerce").astype("float64")
        out[f"log_{duration}"] = np.log(minutes.where(minutes > 0))
    return out


def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    a = np.column_stack([np.ones(len(x_train)), x_train])
    coef, *_ = np.linalg.lstsq(a, y_train, rcond=None)
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    sst = ((y - y.mean()) ** 2).sum()
    return float(1 - ((y - yhat) ** 2).sum() / sst) if sst > 0 else float("nan")


#: Resamples whose row counts are held at once (bounds the memory: 20 × n counts).
_BOOT_CHUNK = 20


def _boot_r2(y: np.ndarray, pred: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """``_r2(y[idx], pred[idx, j])`` for ``n_boot`` resamples ``idx = rng.integers(0, n, n)`` drawn
    in turn (the same draws as one at a time), from each resample's row counts ``w``:
    ``SSE = w·(y − ŷ)²`` and ``SST = w·y² − (w·y)²/n``, a product of the counts with a few columns
    instead of a gather of every row per model and resample."""
    from cxlib.progress import Progress

    n = len(y)
    cols = np.column_stack([(y[:, None] - pred) ** 2, y, y**2])  # n × (models + 2)
    m = pred.shape[1]
    out = np.full((n_boot, m), np.nan)
    with Progress(n_boot, "peak-end models, bootstrap of the cross-validated R²", "resamples") as bar:
        for start in range(0, n_boot, _BOOT_CHUNK):
            b = min(_BOOT_CHUNK, n_boot - start)
            w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)]).astype(float)
            sums = w @ cols
            sst = sums[:, m + 1] - sums[:, m] ** 2 / n
            with np.errstate(invalid="ignore", divide="ignore"):
                r2 = 1 - sums[:, :m] / sst[:, None]
            out[start : start + b] = np.where((sst > 0)[:, None], r2, np.nan)
            bar.update(b)
    return out


def _default_models(summary: pd.DataFrame) -> list[str | tuple[str, ...]]:
    """:data:`DEFAULT_MODELS` whose columns hold data, plus :data:`DURATION_MODELS` when the
    summary carries the visit duration."""

    def has(c: str) -> bool:
        return c in summary.columns and pd.to_numeric(summary[c], errors="coerce").notna().any()

    optional = ("time_weighted_mean", "log_visit_minutes")  # kept only where the summary holds them
    specs = [(m,) if isinstance(m, str) else tuple(m) for m in (*DEFAULT_MODELS, *DURATION_MODELS)]
    return [s[0] if len(s) == 1 else s for s in specs if all(has(c) for c in s if c in optional)]


@former_keywords(inference=Inference)
def peak_end_models(
    summary: pd.DataFrame,
    outcome: str = "ltr",
    *,
    models: Sequence[str | Sequence[str]] | None = None,
    folds: int = 10,
    baseline: str = "mean",
    strict: bool = True,
    inference: Inference = Inference(),
) -> pd.DataFrame | NotComputed:
    """Cross-validated R² of linear models of ``outcome`` on peak-end features, side by side.

    Each entry of ``models`` is a column of ``summary`` (one predictor) or a tuple of columns;
    the default is :data:`DEFAULT_MODELS` (the time-weighted mean only when the summary has it)
    and, when the summary carries the visit duration, :data:`DURATION_MODELS` (log visit
    minutes alone, and peak and end with it). All models use the same rows (complete on every column involved) and the same ``folds``
    (seeded shuffle). ``r2_cv`` is the out-of-fold R², ``1 - Σ(y - ŷ_oof)² / Σ(y - ȳ)²``.
    ``ci_low/ci_high``: percentile bootstrap over respondents of the out-of-fold R² (the
    out-of-fold predictions are held fixed, so refitting variability is not included).
    ``delta_vs_baseline`` (default baseline: the ``mean`` model) with a paired bootstrap
    interval, from the same resamples. Sorted by ``r2_cv``.

    Fewer than ``2 × folds`` complete rows, or an outcome that is the same in all of them, is a
    :class:`~cxlib.errors.DataError`; with ``strict=False`` (what a report calls) the function
    returns a :class:`~cxlib.results.NotComputed` note stating n and the need instead.

    >>> peak_end_models(summary, outcome="ltr", folds=5, inference=Inference(reps=200, seed=1))  # doctest: +SKIP
    >>> print(peak_end_models(pd.DataFrame({"mean": [5.0] * 14, "ltr": [7.0] * 14}), models=["mean"],
    ...                       strict=False).in_lang("en"))
    n = 14 complete responses: too few for 10-fold cross-validation of the peak-end models, need ≥ 20
    """
    n_boot, seed, ci = inference.reps, inference.seed, inference.ci
    if models is None:
        models = _default_models(summary)
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
        rows.append(
            {
                "model": name,
                "predictors": list(spec),
                "n": n,
                "folds": folds,
                "r2_cv": _r2(y, pred),
                "r2_in_sample": _r2(y, _ols_predict(x, y, x)),
            }
        )
    out = pd.DataFrame(rows)
    boot = _boot_r2(y, np.column_stack([oof[name] for name in names]), rng, n_boot)
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


@former_keywords(inference=Inference)
def duration_neglect(
    summary: pd.DataFrame,
    outcome: str = "ltr",
    duration: str = "log_visit_minutes",
    *,
    given: Sequence[str] = ("worst", "last"),
    folds: int = 10,
    strict: bool = True,
    inference: Inference = Inference(),
) -> pd.DataFrame | NotComputed:
    """Duration neglect as a test: does the visit's duration predict ``outcome`` once the peak
    and the end are known?

    One row. ``estimate`` is the coefficient of ``duration`` (default: log visit minutes) in the
    OLS of ``outcome`` on ``given`` (peak and end) plus ``duration``, with heteroskedasticity-
    robust (HC3) standard error ``std_error``, t interval ``ci_low``/``ci_high`` and ``p_value``
    on ``df`` residual degrees of freedom; ``per_doubling`` (with ``per_doubling_ci_low/high``)
    is the change in ``outcome`` for a visit twice as long (coefficient × ln 2, for a log
    duration). ``r2_cv_without`` / ``r2_cv_with`` are the cross-validated R² of the models
    without and with duration (:func:`peak_end_models`, same rows and folds) and ``r2_cv_gain``
    their difference with its paired bootstrap interval ``r2_cv_gain_ci_low``/``_high``; ``model``
    names the model with duration, ``given`` the one without.
    ``neglected`` is True when the coefficient's interval covers 0 (duration adds nothing
    detectable given peak and end: the rule holds here), False when it excludes 0 (duration
    matters: the rule does not hold here). "Holds" is a failure to reject; the interval bounds
    how large a neglected effect can be.

    Too few complete rows (fewer than ``2 × folds``) or an outcome / duration that never varies:
    a :class:`~cxlib.errors.DataError`, or with ``strict=False`` a
    :class:`~cxlib.results.NotComputed` note.

    >>> duration_neglect(summary, outcome="ltr", inference=Inference(seed=1))[["estimate", "ci_low", "ci_high", "neglected"]]  # doctest: +SKIP
    """
    ci = inference.ci
    import statsmodels.api as sm

    given = list(given)
    require_columns(summary, [*given, duration, outcome], "peak-end summary")
    name_without, name_with = " + ".join(given), " + ".join([*given, duration])
    fit = peak_end_models(
        summary,
        outcome=outcome,
        models=[tuple(given), (*given, duration)],
        folds=folds,
        inference=inference,
        baseline=name_without,
        strict=strict,
    )
    if isinstance(fit, NotComputed):
        return fit
    cols = [*given, duration, outcome]
    d = pd.DataFrame({c: pd.to_numeric(summary[c], errors="coerce") for c in cols}).astype("float64").dropna()
    n = len(d)
    if d[duration].nunique() < 2:
        what = ("时长忽视检验", "the test of duration neglect")
        if strict:
            raise DataError(
                f"{duration} is the same in every complete row: its effect cannot be estimated", column=duration
            )
        return NotComputed(n, what, why=("到店时长在所有答卷中相同", "visit duration is the same in every response"))
    x = sm.add_constant(d[[*given, duration]], has_constant="add")
    res = sm.OLS(d[outcome], x).fit(cov_type="HC3", use_t=True)
    lo, hi = res.conf_int(alpha=1 - ci).loc[duration]
    b = float(res.params[duration])
    scale = np.log(2) if duration.startswith("log_") else 1.0
    m = fit.set_index("model")
    row = {
        "model": name_with,
        "given": name_without,
        "term": duration,
        "estimate": b,
        "std_error": float(res.bse[duration]),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_value": float(res.pvalues[duration]),
        "df": float(res.df_resid),
        "per_doubling": b * scale,
        "per_doubling_ci_low": float(lo) * scale,
        "per_doubling_ci_high": float(hi) * scale,
        "r2_cv_without": float(m.loc[name_without, "r2_cv"]),
        "r2_cv_with": float(m.loc[name_with, "r2_cv"]),
        "r2_cv_gain": float(m.loc[name_with, "delta_vs_baseline"]),
        "r2_cv_gain_ci_low": float(m.loc[name_with, "delta_ci_low"]),
        "r2_cv_gain_ci_high": float(m.loc[name_with, "delta_ci_high"]),
        "n": n,
        "folds": folds,
        "se_type": "HC3",
        "neglected": bool(lo <= 0 <= hi),
    }
    return pd.DataFrame([row])
