"""Models of what proactive updates do to LTR, promoters, detractors and complaints.

Every function takes the processed ``visits`` table (see ``docs/data-model.md``) plus column
names, fits a statsmodels formula model and returns a :class:`ModelResult`: a tidy
coefficient table (``term, estimate, std_error, ci_low, ci_high, p_value, model`` plus
``kind``, ``n``, ``n_clusters``, ``converged``, ``note``), a ``headline`` table with the
quantity a report quotes, and the fitted statsmodels result.

Guards, so that a report never quotes a number it should not:

* rows with a missing value in any model column **or in the cluster column** are dropped
  before fitting, and cluster labels are re-coded after the drop;
* too few rows, or no variation in the regressor of interest, give a "cannot fit: reason"
  row (or a :class:`~cxlib.errors.DataError` with ``strict=True``);
* too few clusters (a per-center report holds one center): the per-visit models fall back to
  heteroskedasticity-robust HC1 errors without clustering, leave the center fixed effect out
  when there is one center, and say so in ``note`` and ``ModelResult.fallback``
  (``strict=True`` raises instead); the rollout models (DiD, event study) are not identified
  within one center and say why;
* a fit that does not converge, or whose standard errors are not finite, is flagged
  ``converged=False`` with the reason in ``note``;
* the ordinal LTR model drops LTR points that never occur (an unused category would give a
  coefficient of exactly 0 with NaN standard errors);
* the mixed model falls back to OLS with cluster-robust errors at the variance boundary.

Cluster-robust standard errors by service center use the small-cluster correction
(``G/(G-1)·(N-1)/(N-K)``) and t quantiles with ``G-1`` degrees of freedom (``use_t=True``).
HC1 errors (``N/(N-K)`` times the White sandwich) are the same formula with every visit its own
cluster, which gives true HC1 for the likelihood models too (statsmodels' ``cov_type="HC1"``
leaves the ``N/(N-K)`` factor out for them), with t quantiles on ``N-1`` degrees of freedom.

Few clusters: the OLS models (:func:`ltr_ols`, :func:`did_rollout`, :func:`event_study`) quote, with
fewer than 30 centers, the p-value and interval of the restricted wild cluster bootstrap (Webb
weights, all ``6**G`` vectors enumerated up to 7 centers; :mod:`cxlib.inference`), with the CR1
(``*_cr1``) and CR2 / Satterthwaite (``*_cr2``, ``df_cr2``) ones alongside and ``inference`` naming
the method quoted; ``std_error`` is CR1. The logit, ordinal and count models keep CR1 with t(G-1)
(a score bootstrap would be their counterpart).

    >>> from cxlib import models
    >>> res = models.ltr_ols(visits)                     # doctest: +SKIP
    >>> res.headline[["term", "estimate", "ci_low", "ci_high"]]  # doctest: +SKIP
"""

from __future__ import annotations

import contextvars
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ModelWarning

from cxlib import catalog, labels, margins, negbin
from cxlib import inference as cluster_inference
from cxlib.errors import DataError, require_columns
from cxlib.estimation import DEFAULT_CONTROLS as DEFAULT_CONTROLS  # the defaults, as before
from cxlib.estimation import DEFAULT_LOG_CONTROLS as DEFAULT_LOG_CONTROLS
from cxlib.estimation import (
    Adjustment,
    Guards,
    Inference,
    RolloutColumns,
    former_keywords,
)
from cxlib.ordinal import AnalyticOrderedModel
from cxlib.progress import track
from cxlib.results import NotComputed, NotProvided, too_few
from cxlib.stats import error_bars

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Form = Literal["linear", "categorical", "log"]

#: Controls of the adjusted models: repair duration (log), scenario, warranty, center effects.
#: Columns of every tidy coefficient table.
TABLE_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "model",
    "kind",
    "n",
    "n_clusters",
    "converged",
    "note",
)

_PROMOTER_LOW = next(g.low for g in catalog.NPS_GROUPS if g.code == "promoter")
_DETRACTOR_HIGH = next(g.high for g in catalog.NPS_GROUPS if g.code == "detractor")
_FIT_WARNINGS = (ModelWarning,)  # convergence, separation, singular matrix, Hessian, …
#: Categorical controls reported as fixed effects (kind ``"fixed_effect"``) rather than controls.
_FE_COLUMNS = ("center", "month")


# ============================================================================ result object
@dataclass
class ModelResult:
    """What a model function returns.

    ``table`` has one row per coefficient (see :data:`TABLE_COLUMNS`); ``headline`` the few
    rows a report quotes (empty when none were given); ``n_clusters`` the clusters of the
    standard errors, ``None`` when they are not clustered; ``fit`` the statsmodels result (``None`` when it could not be fitted);
    ``fallback`` the sentence saying that HC1 errors replaced cluster-robust ones (too few
    clusters), ``""`` otherwise.

        >>> ModelResult("ltr_ols_linear", pd.DataFrame(), n=0, note="cannot fit: only 3 rows").ok
        False
    """

    model: str
    table: pd.DataFrame
    n: int = 0
    n_clusters: int | None = None
    converged: bool = False
    note: str = ""
    headline: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit: Any = field(default=None, repr=False)
    fallback: str = ""
    #: the "样本不足（n = …）" note when the data were too few to fit the model, else None
    shortage: NotComputed | None = None
    #: ordinal models: the Brant test of proportional odds (:func:`brant_test`), else None
    proportional_odds: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.n > KEEP_FIT_DATA_UP_TO:
            release_data(self.fit)

    @property
    def ok(self) -> bool:
        """Fitted and converged: its numbers may be quoted."""
        return self.converged and not self.note.startswith("cannot fit")

    def summary(self) -> pd.DataFrame:
        """One row: model, n, n_clusters, converged, note.

        >>> ModelResult("ols", pd.DataFrame(), n=10).summary().n.tolist()
        [10]
        """
        return pd.DataFrame(
            [
                {
                    "model": self.model,
                    "n": self.n,
                    "n_clusters": self.n_clusters,
                    "converged": self.converged,
                    "note": self.note,
                }
            ]
        )

    def estimate(self, term: str) -> pd.Series:
        """The table row of ``term`` (exact name as in ``table.term``)."""
        rows = self.table.loc[self.table["term"] == term]
        if rows.empty:
            raise KeyError(f"no term {term!r}; terms: {', '.join(map(str, self.table['term']))}")
        return rows.iloc[0]


#: Fits of more rows than this drop their data once their tables are made (:func:`release_data`): at a
#: network's 600,000 visits each statsmodels result holds its design matrix, outcome and data frame
#: (0.1–0.2 GB a fit, about 20 fits alive in notebook 03).
KEEP_FIT_DATA_UP_TO = 50_000


def release_data(fit: Any) -> None:
    """Drop the data a fitted model holds (statsmodels' ``remove_data()``: ``model.exog``,
    ``model.endog``, the formula's data frame, residuals and fitted values), keeping its estimates,
    covariance and tests. ``fit`` is a statsmodels result, a dict of them (or of
    :class:`ModelResult`, whose fits are released), or None. :class:`ModelResult` calls it for fits
    of more than :data:`KEEP_FIT_DATA_UP_TO` rows, after the tables are made; nothing in the
    workbench reads a fit's data afterwards.

        >>> r = ltr_ols(visits)  # doctest: +SKIP
        >>> release_data(r.fit); r.fit.model.exog is None, float(r.fit.params.iloc[1]) == r.table.estimate[1]  # doctest: +SKIP
        (True, True)
    """
    if fit is None:
        return
    if isinstance(fit, dict):
        for f in fit.values():
            release_data(f)
        return
    if isinstance(fit, ModelResult):
        release_data(fit.fit)
        return
    if not hasattr(fit, "remove_data"):
        return
    model = fit.model
    if getattr(model, "exog", None) is None:  # released already
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.remove_data()
    data = getattr(model, "data", None)
    for att in ("frame", "orig_exog", "orig_endog", "exog", "endog", "row_labels"):
        if data is not None and hasattr(data, att):
            try:
                setattr(data, att, None)
            except AttributeError:
                pass
    for att in ("_count_cache", "wexog", "wendog", "exposure", "offset", "pinv_wexog"):
        if hasattr(model, att) and not callable(getattr(model, att)):
            try:
                setattr(model, att, None)
            except AttributeError:
                pass


#: what a model the data are too few for is called in its "样本不足" note, and what the note counts
MODEL_NOTE = ("该模型", "this model")
ROWS = ("行完整数据", "complete rows")


def _cannot_fit(
    model: str, reason: str, n: int, n_clusters: int | None, strict: bool, need: int | None = None
) -> ModelResult:
    """The result of a model that cannot be fitted; with ``need`` (the rows it would need: the
    reason is too few rows) it carries the :class:`~cxlib.results.NotComputed` note as ``shortage``."""
    if strict:
        raise DataError(f"{model}: cannot fit: {reason}")
    note = f"cannot fit: {reason}"
    table = cannot_fit_table(model, note, n, n_clusters)
    return ModelResult(
        model,
        table,
        n=n,
        n_clusters=n_clusters,
        converged=False,
        note=note,
        headline=table.copy(),
        shortage=None if need is None else too_few(n, need, MODEL_NOTE, unit=ROWS),
    )


def cannot_fit_table(model: str, note: str, n: int, n_clusters: int | None) -> pd.DataFrame:
    """The one-row table of a model that cannot be fitted: term ``(cannot fit)``, no estimate,
    the model's name, its rows and clusters and the note saying why.

        >>> cannot_fit_table("ltr_ols", "cannot fit: no rows", 0, None)[["term", "model", "n"]].to_dict("records")
        [{'term': '(cannot fit)', 'model': 'ltr_ols', 'n': 0}]
    """
    row = {
        "term": "(cannot fit)",
        "estimate": np.nan,
        "std_error": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "model": model,
        "kind": "none",
        "n": n,
        "n_clusters": n_clusters,
        "converged": False,
        "note": note,
    }
    return finish_table(pd.DataFrame([row]))


def finish_table(df: pd.DataFrame) -> pd.DataFrame:
    """A tidy coefficient table in the shape every model result shares: the columns of
    :data:`TABLE_COLUMNS` first (missing ones added as NaN), then any others; ``n_clusters`` as
    nullable integers, ``converged`` as booleans, a fresh index.

        >>> t = finish_table(pd.DataFrame({"term": ["x"], "estimate": [0.5], "converged": [1], "n_clusters": [12.0]}))
        >>> list(t.columns) == list(TABLE_COLUMNS), str(t["n_clusters"].dtype), t["converged"].tolist()
        (True, 'Int64', [True])
    """
    for col in TABLE_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    extra = [c for c in df.columns if c not in TABLE_COLUMNS]
    out = df[[*TABLE_COLUMNS, *extra]].reset_index(drop=True)
    out["n_clusters"] = out["n_clusters"].astype("Int64")
    out["converged"] = out["converged"].astype(bool)
    return out


# ============================================================================ data handling
def _categorical(data: Any, contrast: Any = None, levels: Any = None) -> Any:
    """patsy's ``C()`` for the formulas of this module: a pandas categorical without contrast or
    levels is handed to patsy as it is, which reads its codes directly (patsy's own ``C()`` boxes it
    and then looks up every value in Python, seconds per model on a large network). The levels are
    the categories, in the order :func:`_prepare` sorted them, which is patsy's order: the design
    matrix and the term names (``C(Q('center'))[T.SH-JQ]``) are the same."""
    if contrast is None and levels is None and isinstance(data, pd.Series):
        if isinstance(data.dtype, pd.CategoricalDtype):
            return data
        if pd.api.types.is_object_dtype(data.dtype) or pd.api.types.is_string_dtype(data.dtype):
            # text (the rollout models' month and center): the same sorted levels as patsy's own
            if pd.api.types.infer_dtype(data, skipna=True) == "string":
                return data.astype("category")
    return patsy.builtins.C(data, contrast, levels) if levels is not None else patsy.builtins.C(data, contrast)


#: The names the model formulas see besides the data's columns (``np.log1p``, ``C``).
_FORMULA_ENV: dict[str, Any] = {"np": np, "C": _categorical}


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _q(col: str) -> str:
    return f"Q('{col}')"


def _pretty(term: str) -> str:
    return re.sub(r"Q\('([^']*)'\)", r"\1", term)


def _quoted(term: str) -> str:
    """The column a formula term names as ``Q('column')``: ``C(Q('center'))`` → ``center``."""
    m = re.search(r"Q\('([^']*)'\)", term)
    if m is None:
        raise ValueError(f"the formula term {term!r} names no column as Q('...')")
    return m.group(1)


@dataclass
class _Prepared:
    data: pd.DataFrame
    groups: np.ndarray | None
    n_clusters: int | None
    notes: list[str]
    rhs: list[str]  # formula terms of the controls
    fe_prefixes: tuple[str, ...]
    cluster: str | None = None
    fallback: str = ""  # why HC1 errors replace cluster-robust ones ("" when clustered)

    @property
    def cluster_df(self) -> int:
        """The degrees of freedom of cluster-robust t and F tests: clusters − 1 (the data must be
        clustered)."""
        if self.groups is None or self.n_clusters is None:
            raise ValueError("the data are not clustered")
        return self.n_clusters - 1


def _prepare(
    df: pd.DataFrame,
    outcome_cols: Sequence[str],
    key_cols: Sequence[str],
    controls: Sequence[str],
    log_controls: Sequence[str],
    cluster: str | None,
    fe: Sequence[str] = (),
) -> _Prepared:
    """Select, drop missing rows (model columns AND cluster), clean dtypes, re-code clusters."""
    controls = [c for c in controls if c not in key_cols]
    cols = list(dict.fromkeys([*outcome_cols, *key_cols, *controls, *fe, *([cluster] if cluster else [])]))
    require_columns(df, cols, "visits")
    data = df[cols].copy()
    n_in = len(data)
    data = data.dropna().reset_index(drop=True)
    notes = []
    if len(data) < n_in:
        notes.append(f"dropped {n_in - len(data)} of {n_in} rows with missing values")
    rhs: list[str] = []
    fe_prefixes: list[str] = []
    for c in dict.fromkeys([*controls, *fe]):
        s = data[c]
        if c in log_controls:
            x = pd.to_numeric(s, errors="coerce")
            if (x < 0).any():
                row = int(np.flatnonzero((x < 0).to_numpy())[0])
                raise DataError(f"negative value {x.iloc[row]} cannot enter as log(1 + x)", column=c)
            data[c] = x.astype(float)
            if data[c].nunique() > 1:
                rhs.append(f"np.log1p({_q(c)})")
            else:
                notes.append(f"{c} is constant and was left out")
        elif _is_numeric(s) and c not in fe:
            data[c] = s.astype(float)
            if data[c].nunique() > 1:
                rhs.append(_q(c))
            else:
                notes.append(f"{c} is constant and was left out")
        else:
            # categorical codes, sorted like patsy sorts the strings (same levels, same reference),
            # which patsy reads directly instead of testing every value for missingness in Python
            if isinstance(s.dtype, pd.CategoricalDtype):
                data[c] = s.cat.remove_unused_categories()
            else:
                data[c] = s.astype(str).astype("category")
            if data[c].nunique() > 1:
                rhs.append(f"C({_q(c)})")
                if c == cluster or c in fe or c in _FE_COLUMNS:
                    fe_prefixes.append(f"C({c})")
            else:
                notes.append(f"{c} has a single value and was left out")
    groups = None
    n_clusters = None
    if cluster:
        codes, uniques = pd.factorize(data[cluster].astype(str), sort=True)
        groups = codes.astype(np.int64)
        n_clusters = len(uniques)
    return _Prepared(data, groups, n_clusters, notes, rhs, tuple(fe_prefixes), cluster)


def _fallback_note(prep: _Prepared, min_clusters: int) -> str:
    """The sentence for HC1 errors in place of cluster-robust ones (and the fixed effect left out)."""
    c, g = prep.cluster, prep.n_clusters
    if g == 1:
        label = str(prep.data[c].iloc[0]) if len(prep.data) else ""
        fe = f", no {c} fixed effect" if f"{c} has a single value and was left out" in prep.notes else ""
        return (
            f"one {c}{f' ({label})' if label else ''}: HC1 errors, no clustering{fe}; the network estimate "
            f"with cluster-robust errors is in the all-centers report"
        )
    return f"only {g} {c} clusters (cluster-robust errors need at least {min_clusters}): HC1 errors, no clustering"


def _check_size(
    prep: _Prepared, model: str, key: str | None, min_n: int, min_clusters: int, strict: bool, fallback: bool = True
) -> ModelResult | None:
    """A cannot-fit result when the data are too small, else None. With too few clusters and
    ``fallback`` (not ``strict``), switch ``prep`` to HC1 errors without clustering."""
    n, g = len(prep.data), prep.n_clusters
    if n < min_n:
        return _cannot_fit(model, f"only {n} complete rows (need at least {min_n})", n, g, strict, need=min_n)
    if g is not None and g < min_clusters:
        if strict or not fallback:
            return _cannot_fit(
                model,
                f"only {g} cluster(s) after dropping missing rows; cluster-robust "
                f"inference needs at least {min_clusters}",
                n,
                g,
                strict,
            )
        if not prep.fallback:  # (checked again after rows were left out: keep the first wording)
            prep.fallback = _fallback_note(prep, min_clusters)
        prep.notes = [m for m in prep.notes if m != f"{prep.cluster} has a single value and was left out"]
        prep.groups = None
    if key is not None and prep.data[key].nunique() < 2:
        return _cannot_fit(model, f"no variation in {key}", n, g, strict)
    k = 2 + sum(int(prep.data[_quoted(t)].nunique()) - 1 if t.startswith("C(") else 1 for t in prep.rhs)
    if n < k + 10:
        return _cannot_fit(model, f"only {n} complete rows for about {k} parameters", n, g, strict, need=k + 10)
    return None


def _by_level(y: pd.Series, col: pd.Series) -> pd.DataFrame:
    """``min``, ``max`` and ``size`` of ``y`` by the text of ``col``'s values, in the order of the
    text (a categorical column by its categories, without turning every row into text)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        agg = y.groupby(col, observed=True).agg(["min", "max", "size"])
        labels = agg.index.astype(str)
        if labels.is_unique:
            return agg.set_axis(labels).sort_index()
    return y.groupby(col.astype(str).to_numpy()).agg(["min", "max", "size"])


def _drop_separated(prep: _Prepared, y: str, kind: Literal["binary", "count"]) -> bool:
    """Leave out the rows of a categorical control level that predicts the outcome perfectly.

    In a logit, a level whose visits are all 0 (or all 1) has no finite estimate (quasi-complete
    separation); in a count model, a level without a single complaint likewise. The maximum of
    the likelihood for every other coefficient is the fit without those rows, so they are left
    out (as Stata's ``logit`` does) and ``note`` says so; a control left with one level drops out.
    Repeats until no level separates. Returns whether rows were left out.
    """
    dropped = False
    while True:
        yv = pd.to_numeric(prep.data[y]).astype(float)
        hit = None
        for t in prep.rhs:
            m = re.fullmatch(r"C\(Q\('([^']*)'\)\)", t)
            if not m:
                continue
            c = m.group(1)
            agg = _by_level(yv, prep.data[c])
            sep = (agg["max"] == 0) if kind == "count" else (agg["min"] == agg["max"])
            if sep.any():
                lvl = str(sep[sep].index[0])
                hit = (t, c, lvl, int(agg.loc[lvl, "size"]), float(agg.loc[lvl, "min"]))
                break
        if hit is None:
            return dropped
        t, c, lvl, k, val = hit
        col = prep.data[c]
        if isinstance(col.dtype, pd.CategoricalDtype):  # by the categories' labels, not a text copy of every row
            keep = ~col.isin([v for v in col.cat.categories if str(v) == lvl]).to_numpy()
        else:
            keep = (col.astype(str) != lvl).to_numpy()
        prep.data = prep.data.loc[keep].reset_index(drop=True)
        what = "no visit has one" if kind == "count" else f"the outcome is {val:g} in all of them"
        prep.notes.append(f"{c} = {lvl} predicts the outcome perfectly ({what}): its {k} rows left out")
        if isinstance(prep.data[c].dtype, pd.CategoricalDtype):
            prep.data[c] = prep.data[c].cat.remove_unused_categories()
        if prep.data[c].nunique() < 2:
            prep.rhs = [r for r in prep.rhs if r != t]
            prep.notes.append(f"{c} has a single value and was left out")
        if prep.cluster:
            codes, uniques = pd.factorize(prep.data[prep.cluster].astype(str), sort=True)
            prep.n_clusters = len(uniques)
            if prep.groups is not None:
                prep.groups = codes.astype(np.int64)
        dropped = True


def _fit_kwargs(prep: _Prepared, cov_type: str = "cluster") -> dict[str, Any]:
    """Cluster-robust errors by the cluster column; without clusters HC1 errors, computed as the
    cluster formula with one visit per cluster (``N/(N-1)·(N-1)/(N-K) = N/(N-K)``), which is HC1
    for OLS and for the likelihood models alike (t with N-1 df)."""
    if prep.groups is None:
        return {"cov_type": "cluster", "cov_kwds": {"groups": np.arange(len(prep.data), dtype=np.int64)}, "use_t": True}
    return {"cov_type": cov_type, "cov_kwds": {"groups": prep.groups}, "use_t": True}


def _se_note(prep: _Prepared) -> list[str]:
    """The note on the standard errors: cluster-robust, or the HC1 fallback."""
    if prep.groups is not None:
        return [f"cluster-robust SEs by {prep.cluster} (t with {prep.cluster_df} df)"]
    if prep.fallback:
        return [prep.fallback]
    return []


def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str], list[str]]:
    """Call a fit, collecting statsmodels fit warnings (and numeric RuntimeWarnings) as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fn(*args, **kwargs)
    fit_msgs, numeric = [], []
    for w in caught:
        if issubclass(w.category, _FIT_WARNINGS):
            fit_msgs.append(f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}")
        elif issubclass(w.category, RuntimeWarning):
            numeric.append(str(w.message).strip().splitlines()[0])
        else:  # not ours to judge: pass it on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return res, list(dict.fromkeys(fit_msgs)), list(dict.fromkeys(numeric))


def _convergence(res: Any, fit_msgs: list[str], numeric: list[str], key_terms: Sequence[str]) -> tuple[bool, list[str]]:
    notes = []
    retvals = getattr(res, "mle_retvals", None) or {}
    conv = bool(retvals.get("converged", True))
    if hasattr(res, "converged") and not isinstance(res.converged, (np.ndarray, list)):
        conv = conv and bool(res.converged)
    if not conv:
        notes.append(
            "did not converge" + (f" after {retvals['iterations']} iterations" if "iterations" in retvals else "")
        )
    params = pd.Series(res.params)
    bse = pd.Series(res.bse)
    keys = [t for t in key_terms if t in params.index]
    if not np.all(np.isfinite(params.to_numpy(dtype=float))):
        conv = False
        notes.append("some estimates are not finite")
    if keys and not np.all(np.isfinite(bse[keys].to_numpy(dtype=float))):
        conv = False
        notes.append("standard errors of the effect are not finite (Hessian not invertible)")
    if fit_msgs:
        if any(m.startswith(("ConvergenceWarning", "PerfectSeparationWarning")) for m in fit_msgs):
            conv = False
        notes.extend(fit_msgs)
    if not conv and numeric:
        notes.append("numerical warnings: " + "; ".join(numeric[:2]))
    return conv, notes


def _kind(term: str, key_terms: Sequence[str], fe_prefixes: Sequence[str]) -> str:
    if term in key_terms:
        return "effect"
    if term in ("Intercept", "const"):
        return "intercept"
    if any(_pretty(term).startswith(p) for p in fe_prefixes):
        return "fixed_effect"
    return "control"


def _tidy(
    res: Any,
    model: str,
    prep: _Prepared,
    key_terms: Sequence[str],
    conv: bool,
    note: str,
    ci: float,
    params: pd.Series | None = None,
    bse: pd.Series | None = None,
    df: float | None = None,
) -> pd.DataFrame:
    """Tidy table from a results object (or from params/bse/df given explicitly)."""
    if params is None:
        params = pd.Series(res.params)
        bse = pd.Series(res.bse)
        bounds = pd.DataFrame(np.asarray(res.conf_int(alpha=1 - ci)), index=params.index)
        pv = pd.Series(np.asarray(res.pvalues), index=params.index)
        lo, hi = bounds[0], bounds[1]
    elif bse is None:
        raise TypeError("_tidy: params given without bse")
    else:
        q = stats.t.ppf(1 - (1 - ci) / 2, df) if df else stats.norm.ppf(1 - (1 - ci) / 2)
        lo, hi = params - q * bse, params + q * bse
        tstat = params / bse
        pv = pd.Series(2 * (stats.t.sf(np.abs(tstat), df) if df else stats.norm.sf(np.abs(tstat))), index=params.index)
    out = pd.DataFrame(
        {
            "term": [_pretty(str(t)) for t in params.index],
            "estimate": params.to_numpy(dtype=float),
            "std_error": bse.to_numpy(dtype=float),
            "ci_low": np.asarray(lo, dtype=float),
            "ci_high": np.asarray(hi, dtype=float),
            "p_value": np.asarray(pv, dtype=float),
            "model": model,
            "kind": [_kind(str(t), key_terms, prep.fe_prefixes) for t in params.index],
            "n": len(prep.data),
            "n_clusters": prep.n_clusters,
            "converged": conv,
            "note": note,
        }
    )
    return finish_table(out)


def _df_inference(res: Any) -> float | None:
    if not getattr(res, "use_t", False):
        return None
    return float(getattr(res, "df_resid_inference", None) or res.df_resid)


def _t_inference(
    estimate: np.ndarray, se: np.ndarray, df: float | None, ci: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(ci_low, ci_high, p_value, df) of estimates with standard errors: t quantiles with ``df``
    degrees of freedom (normal ones when ``df`` is None, reported as NaN)."""
    est, s = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    dist = stats.t(df) if df else stats.norm()
    q = dist.ppf(1 - (1 - ci) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * dist.sf(np.abs(est / s))
    return est - q * s, est + q * s, p, float(df) if df else float("nan")


# ============================================================================ few-cluster inference
#: Up to this many Webb weight vectors (``6**G``) the linear models enumerate all of them (G <= 7).
WILD_ENUMERATE_UP_TO = 1_000_000
#: Weight vectors drawn (seed :data:`WILD_SEED`) when there are more than that.
WILD_DRAWS = 9999
WILD_SEED = 20260
#: Iterations of the count models' optimisers (:func:`complaint_models`, in every model that quotes it).
COUNT_MAXITER = 500
#: Columns that the effect rows of the linear models gain (:func:`_few_cluster_inference`).
FEW_CLUSTER_COLUMNS: tuple[str, ...] = (
    "inference",
    "ci_low_cr1",
    "ci_high_cr1",
    "p_cr1",
    "p_wild",
    "ci_low_wild",
    "ci_high_wild",
    "se_cr2",
    "df_cr2",
    "p_cr2",
    "ci_low_cr2",
    "ci_high_cr2",
)


def _absorbed_design(
    res: Any, prep: _Prepared
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int], np.ndarray | None]:
    """The design of an OLS fit for CR2 and the wild bootstrap, with the cluster's fixed effects
    absorbed when they are dummy columns of it: ``(X, y, groups, columns of the fit kept, absorb)``.

    The center effects (clustering by center) are nested in the clusters, so
    :mod:`cxlib.inference` gives the dummies' numbers on the within-center demeaned design
    (Frisch-Waugh-Lovell; CR2 adds the absorbed block of the hat matrix back, the bootstrap counts
    the absorbed levels in its small-sample factor): the intercept and the center dummies leave
    ``X``, which halves the columns of the products over a network's 600,000 visits. Other fixed
    effects (months) cross the clusters and stay as dummies. Without the cluster's dummies in the
    design (one center), ``X`` is the fit's own and ``absorb`` None."""
    names = [str(c) for c in res.model.exog_names]
    X, y, g = np.asarray(res.model.exog, dtype=float), np.asarray(res.model.endog, dtype=float), prep.groups
    if g is None:
        raise ValueError("the fit is not clustered")
    prefix = f"C({prep.cluster})"
    fe = [i for i, c in enumerate(names) if _pretty(c).startswith(prefix + "[")]
    if not prep.cluster or not fe or "Intercept" not in names:
        return X, y, g, list(range(len(names))), None
    drop = set(fe) | {names.index("Intercept")}
    cols = [i for i in range(len(names)) if i not in drop]
    return X[:, cols], y, g, cols, g


def _few_cluster_inference(
    res: Any, prep: _Prepared, table: pd.DataFrame, key_raw: Sequence[str], ci: float
) -> tuple[pd.DataFrame, list[str]]:
    """Few-cluster inference for the effect rows of an OLS fit, and the note's clause on it.

    Every row gains :data:`FEW_CLUSTER_COLUMNS` (NaN but on the effect rows): the CR1 interval and
    p-value (t with G-1 df) as ``*_cr1``; CR2 with Satterthwaite df (``se_cr2``, ``df_cr2``,
    ``p_cr2``, ``ci_*_cr2``); with few clusters (:func:`cxlib.inference.few_clusters`: fewer than
    30) the restricted wild cluster bootstrap with Webb weights (``p_wild``, ``ci_*_wild``), all
    ``6**G`` vectors enumerated up to G = 7. ``ci_low``, ``ci_high`` and ``p_value`` hold the
    method quoted, named in ``inference``: ``"wild_bootstrap"`` with few clusters, ``"cr1"`` with
    30 or more, ``"hc1"`` without clustering (a per-center report); ``estimate`` and ``std_error``
    (CR1) do not change.
    """
    table = table.copy()
    for c in FEW_CLUSTER_COLUMNS[1:]:
        table[c] = np.nan
    table["inference"] = pd.Series([None] * len(table), dtype="object")
    names = [str(t) for t in res.params.index]
    rows = [names.index(k) for k in key_raw if k in names]
    if not rows:
        return table, []
    table.loc[rows, "ci_low_cr1"] = table.loc[rows, "ci_low"]
    table.loc[rows, "ci_high_cr1"] = table.loc[rows, "ci_high"]
    table.loc[rows, "p_cr1"] = table.loc[rows, "p_value"]
    if prep.groups is None:
        table.loc[rows, "inference"] = "hc1"
        return table, []
    table.loc[rows, "inference"] = "cr1"
    finite = np.isfinite(table.loc[rows, "std_error"].to_numpy(dtype=float))
    if not finite.all():
        return table, []
    X, y, g, cols, absorb = _absorbed_design(res, prep)
    for r, t in zip(
        rows, cluster_inference.cr2_coef_tests(X, y, g, [cols.index(r) for r in rows], ci=ci, absorb=absorb)
    ):
        table.loc[r, ["se_cr2", "df_cr2", "p_cr2", "ci_low_cr2", "ci_high_cr2"]] = [
            t.std_error,
            t.df,
            t.p_value,
            t.ci_low,
            t.ci_high,
        ]
    G = int(prep.n_clusters or 0)
    if not cluster_inference.few_clusters(G):
        return table, [f"CR1 quoted ({G} clusters); CR2 with Satterthwaite df alongside"]
    enum = cluster_inference.enumerates(G, kind="webb", B=WILD_ENUMERATE_UP_TO)
    B = WILD_ENUMERATE_UP_TO if enum else WILD_DRAWS
    how = ""
    n_vec = cluster_inference.n_weight_vectors(G, kind="webb") if enum else B
    for r in track(rows, f"wild cluster bootstrap ({n_vec:,} weight vectors)", unit="terms"):
        w = cluster_inference.wild_cluster_bootstrap(
            X,
            y,
            g,
            cols.index(r),
            ci=ci,
            absorb=absorb,
            bootstrap=cluster_inference.WildBootstrap(weights="webb", B=B, rng=WILD_SEED),
        )
        table.loc[r, ["p_wild", "ci_low_wild", "ci_high_wild"]] = [w.p_value, w.ci_low, w.ci_high]
        how = w.describe()
    table.loc[rows, "ci_low"] = table.loc[rows, "ci_low_wild"]
    table.loc[rows, "ci_high"] = table.loc[rows, "ci_high_wild"]
    table.loc[rows, "p_value"] = table.loc[rows, "p_wild"]
    table.loc[rows, "inference"] = "wild_bootstrap"
    return table, [
        f"few clusters ({G}): p-value and {ci:.0%} interval of the effect from the {how}; "
        f"CR1 and CR2 (Satterthwaite df) alongside"
    ]


# ============================================================================ regressor forms
def _updates_terms(prep: _Prepared, updates: str, form: Form, cap: int) -> tuple[str, list[str]]:
    """Formula piece for the updates regressor and the (raw patsy) names of its terms."""
    if form == "linear":
        prep.data[updates] = pd.to_numeric(prep.data[updates]).astype(float)
        return _q(updates), [_q(updates)]
    if form == "log":
        prep.data[updates] = pd.to_numeric(prep.data[updates]).astype(float)
        t = f"np.log1p({_q(updates)})"
        return t, [t]
    if form == "categorical":
        u = pd.to_numeric(prep.data[updates]).astype(int)
        levels = [str(i) for i in range(cap)] + [f"{cap}+"]
        lev = np.where(u >= cap, f"{cap}+", u.astype(str))
        present = [v for v in levels if v in set(lev)]
        col = f"{updates}_level"
        prep.data[col] = pd.Categorical(lev, categories=present, ordered=False)
        t = f"C({_q(col)}, Treatment('{present[0]}'))"
        return t, [f"{t}[T.{v}]" for v in present[1:]]
    raise ValueError(f"form must be 'linear', 'categorical' or 'log', not {form!r}")


def _rename_updates(table: pd.DataFrame, updates: str, form: Form) -> pd.DataFrame:
    if form == "categorical":
        table["term"] = table["term"].str.replace(
            rf"C\({re.escape(updates)}_level, Treatment\('[^']*'\)\)\[T\.([^\]]+)\]", rf"{updates}[\1]", regex=True
        )
    elif form == "log":
        table["term"] = table["term"].str.replace(f"np.log1p({updates})", f"log1p({updates})", regex=False)
    return table


# ============================================================================ LTR models
def _ols_crv3(res: Any, prep: _Prepared, cluster: str) -> tuple[pd.Series, str]:
    """CRV3 (leave-one-cluster-out jackknife) standard errors of an OLS fit.

    statsmodels' ``cov_type="cluster-crv3"`` needs every leave-one-cluster-out design to be of
    full rank, which cluster fixed effects break. By Frisch-Waugh-Lovell, the estimates equal
    those of the within-cluster demeaned regression, whose leave-one-cluster-out fits are the
    fixed-effect fits without that cluster: CRV3 is computed there.
    """
    try:
        r = res.model.fit(cov_type="cluster-crv3", cov_kwds={"groups": prep.groups}, use_t=True)
        return pd.Series(r.bse, index=res.params.index), "CRV3 cluster-jackknife SEs"
    except ValueError:
        pass
    X = pd.DataFrame(res.model.exog, columns=res.model.exog_names)
    y = pd.Series(res.model.endog)
    fe_cols = [c for c in X.columns if c == "Intercept" or _pretty(c).startswith(f"C({cluster})")]
    keep = [c for c in X.columns if c not in fe_cols]
    g = pd.Series(prep.groups)
    Xw = X[keep] - X[keep].groupby(g).transform("mean")
    yw = y - y.groupby(g).transform("mean")
    rw = sm.OLS(yw.to_numpy(), Xw.to_numpy()).fit(cov_type="cluster-crv3", cov_kwds={"groups": prep.groups}, use_t=True)
    bse = pd.Series(np.nan, index=res.params.index)
    bse[keep] = rw.bse
    return bse, "CRV3 cluster-jackknife SEs (center effects absorbed by within-center demeaning)"


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def ltr_ols(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    form: Form = "linear",
    ltr: str = "ltr",
    *,
    cap: int = 4,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """OLS of LTR (0-10) on the number of proactive updates, adjusted for repair duration (log),
    scenario, warranty and center fixed effects; cluster-robust SEs by center (t, G-1 df).

    With ``few_cluster`` (the default) the effect rows also carry CR2 with Satterthwaite df and,
    with fewer than 30 centers, the restricted wild cluster bootstrap (Webb weights, all ``6**G``
    vectors enumerated up to 7 centers), whose p-value and interval are then the ones quoted in
    ``ci_low``, ``ci_high``, ``p_value`` (column ``inference`` names the method; the CR1 ones stay
    in ``ci_low_cr1``, ``ci_high_cr1``, ``p_cr1``; see :func:`_few_cluster_inference`).

    ``form``: ``"linear"`` (one slope per update), ``"categorical"`` (0, 1, …, ``cap``+ vs. 0)
    or ``"log"`` (``log1p(updates)``). ``cov_type="cluster-crv3"`` gives the jackknife (CRV3)
    errors of statsmodels 0.15, better with few centers. With fewer than ``min_clusters``
    centers (one center in a per-center report) the errors are HC1 without clustering and the
    center effect is left out when there is one center; ``note`` and ``fallback`` say so
    (``strict=True`` raises instead). The same holds for the other per-visit models.

        >>> ltr_ols(visits, form="categorical").headline  # doctest: +SKIP
    """
    controls, log_controls = adjust.controls, adjust.log_controls
    cluster, cov_type, ci, few_cluster = inference.cluster, inference.cov_type, inference.ci, inference.few_cluster
    min_n, min_clusters, strict = guards.min_n, guards.min_clusters, guards.strict
    name = f"ltr_ols_{form}"
    require_columns(visits, [ltr, updates], "visits")
    prep = _prepare(visits, [ltr], [updates], controls, log_controls, cluster)
    bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
    if bad:
        return bad
    prep.data[ltr] = pd.to_numeric(prep.data[ltr]).astype(float)
    term, key_raw = _updates_terms(prep, updates, form, cap)
    formula = " + ".join([f"{_q(ltr)} ~ {term}", *prep.rhs])
    res, msgs, numeric = _run(lambda: smf.ols(formula, prep.data, eval_env=_FORMULA_ENV).fit(**_fit_kwargs(prep)))
    conv, notes = _convergence(res, msgs, numeric, key_raw)
    notes = prep.notes + notes
    if cov_type == "cluster-crv3" and prep.groups is not None and cluster:
        bse, how = _ols_crv3(res, prep, cluster)
        notes.append(how)
        table = _tidy(
            res,
            name,
            prep,
            key_raw,
            conv,
            "; ".join(notes),
            ci,
            params=pd.Series(res.params),
            bse=bse,
            df=prep.cluster_df,
        )
    else:
        notes += _se_note(prep)
        table = _tidy(res, name, prep, key_raw, conv, "; ".join(notes), ci)
        if few_cluster:
            table, few = _few_cluster_inference(res, prep, table, key_raw, ci)
            notes += few
    table = _rename_updates(table, updates, form)
    note = "; ".join(notes)
    table["note"] = note
    return ModelResult(
        name,
        table,
        n=len(prep.data),
        n_clusters=prep.n_clusters,
        converged=conv,
        note=note,
        headline=table.loc[table["kind"] == "effect"].reset_index(drop=True),
        fit=res,
        fallback=prep.fallback,
    )


def _mixed_degenerate(res: Any) -> str | None:
    """Reason a MixedLM fit must not be used (variance boundary bug), or None."""
    if not np.isfinite(res.llf):
        return "log-likelihood is not finite"
    fe = np.asarray(res.fe_params, dtype=float)
    if np.any(np.abs(fe) < 1e-12):
        return "fixed effects came back as 0"
    if not getattr(res, "converged", True):
        return "did not converge"
    return None


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def ltr_mixed(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    ltr: str = "ltr",
    *,
    center: str = "center",
    adjust: Adjustment = Adjustment(controls=("repair_minutes", "scenario", "warranty")),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Linear mixed model of LTR with a random intercept by center.

    At the variance boundary (center variance about 0) statsmodels can return fixed effects
    of exactly 0 with an infinite log-likelihood while claiming convergence: then the OLS
    model with center effects and cluster-robust SEs is returned instead, and ``note`` says so.

        >>> ltr_mixed(visits).note  # doctest: +SKIP
    """
    controls, log_controls = adjust.controls, adjust.log_controls
    ci = inference.ci
    min_n, min_clusters, strict = guards.min_n, guards.min_clusters, guards.strict
    name = "ltr_mixed"
    require_columns(visits, [ltr, updates, center], "visits")
    prep = _prepare(visits, [ltr], [updates], [c for c in controls if c != center], log_controls, center)
    bad = _check_size(prep, name, updates, min_n, min_clusters, strict, fallback=False)
    if bad:
        return bad
    prep.data[ltr] = pd.to_numeric(prep.data[ltr]).astype(float)
    term, key_raw = _updates_terms(prep, updates, "linear", 4)
    formula = " + ".join([f"{_q(ltr)} ~ {term}", *prep.rhs])
    msgs: list[str] = []
    try:
        res, msgs, numeric = _run(
            lambda: smf.mixedlm(formula, prep.data, groups=prep.groups, eval_env=_FORMULA_ENV).fit(reml=True)
        )
        reason = _mixed_degenerate(res)
    except np.linalg.LinAlgError as exc:  # singular covariance at the boundary
        res, reason = None, f"singular matrix ({exc})"
    if reason is not None:
        ols = ltr_ols(
            visits,
            updates,
            ltr=ltr,
            adjust=adjust.replace(controls=[*controls, center]),
            inference=inference.replace(cluster=center),
            guards=guards,
        )
        note = f"mixed model unusable ({reason}); OLS with {center} effects and cluster-robust SEs instead"
        ols.note = "; ".join([note, ols.note]) if ols.note else note
        ols.table["note"] = ols.note
        if len(ols.headline.columns):
            ols.headline["note"] = ols.note
        return ols
    k = len(res.fe_params)
    params = pd.Series(res.fe_params)
    bse = pd.Series(np.asarray(res.bse)[:k], index=params.index)
    var_c = float(np.asarray(res.cov_re)[0, 0])
    notes = (
        prep.notes + [f"random intercept by {center}: variance {var_c:.3g}, residual variance {res.scale:.3g}"] + msgs
    )
    table = _tidy(res, name, prep, key_raw, True, "; ".join(notes), ci, params=params, bse=bse, df=None)
    return ModelResult(
        name,
        table,
        n=len(prep.data),
        n_clusters=prep.n_clusters,
        converged=True,
        note="; ".join(notes),
        headline=table.loc[table["kind"] == "effect"].reset_index(drop=True),
        fit=res,
    )


def _merge_sparse_ends(codes: np.ndarray, min_events: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Merge the lowest and the highest outcome categories inwards until every binary split
    ``y > j`` has at least ``min_events`` observations on each side; returns the new codes
    (0, 1, …) and the original code ranges ``(first, last)`` of the kept categories."""
    levels, counts = np.unique(codes, return_counts=True)
    groups = [[int(v)] for v in levels]
    sizes = [int(c) for c in counts]
    while len(groups) > 2 and sizes[0] < min_events:
        groups[1], sizes[1] = groups[0] + groups[1], sizes[0] + sizes[1]
        del groups[0], sizes[0]
    while len(groups) > 2 and sizes[-1] < min_events:
        groups[-2], sizes[-2] = groups[-2] + groups[-1], sizes[-2] + sizes[-1]
        del groups[-1], sizes[-1]
    new = np.empty_like(codes)
    for i, g in enumerate(groups):
        new[np.isin(codes, g)] = i
    return new, [(g[0], g[-1]) for g in groups]


@dataclass
class _LogitFit:
    params: np.ndarray
    fitted: np.ndarray  # predicted probabilities of the rows fitted

    def predict(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(X @ self.params)))


def _binary_logit_fit(
    z: np.ndarray, X: np.ndarray, maxiter: int = 100, tol: float = 1e-8, start: np.ndarray | None = None
) -> tuple[Any, str]:
    """A binary logit by Newton's method, or ``(None, reason)`` when it does not converge (separation).

    The iterations of ``statsmodels``' ``Logit.fit(method="newton")`` (start at 0, full Newton
    steps, converged when no coefficient moves by ``tol``), written on the arrays: statsmodels'
    results object, its checks and its prediction passes cost more than the fit on a network's
    600,000 responses (the Brant test fits one logit per cut-point). ``start``: other start values
    (the Brant test starts each cut-point from the one before); the log-likelihood is concave, so
    the maximum is the same to the tolerance, in fewer steps."""
    b = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(maxiter):
            p = 1.0 / (1.0 + np.exp(-(X @ b)))
            w = p * (1.0 - p)
            if not np.all(np.isfinite(p)) or np.all((p < 1e-12) | (p > 1 - 1e-12)):
                return None, "PerfectSeparationWarning"
            try:
                step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (z - p))
            except np.linalg.LinAlgError:
                return None, "LinAlgError"
            b = b + step
            if not np.all(np.isfinite(b)):
                return None, "did not converge"
            if np.abs(step).max() < tol:
                fit = _LogitFit(b, 1.0 / (1.0 + np.exp(-(X @ b))))
                if np.all(np.isfinite(fit.fitted)):
                    return fit, ""
                break
    return None, "did not converge"


#: Rows per block of :func:`_weighted_crossprods` (bounds its temporary products of columns).
_CROSS_ROWS = 1 << 14


def _weighted_crossprods(X: np.ndarray, pi: np.ndarray, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """``X' diag(π_l − π_j π_l) X`` for each pair ``(j, l)`` of columns of ``pi`` (``j <= l``: the
    Brant test's ``W_jl``), shape ``(len(pairs), k, k)``: the distinct products of the columns of
    ``X`` (``k(k+1)/2``) times the matrix of all the weights, one product per block of rows instead
    of one pass over the data per pair."""
    n, k = X.shape
    iu = np.triu_indices(k)
    j_idx = np.array([j for j, _ in pairs])
    l_idx = np.array([l for _, l in pairs])
    acc = np.zeros((iu[0].size, len(pairs)))
    for start in range(0, n, _CROSS_ROWS):
        x, p = X[start : start + _CROSS_ROWS], pi[start : start + _CROSS_ROWS]
        w = p[:, l_idx] - p[:, j_idx] * p[:, l_idx]
        acc += (x[:, iu[0]] * x[:, iu[1]]).T @ w
    out = np.empty((len(pairs), k, k))
    out[:, iu[0], iu[1]] = acc.T
    out[:, iu[1], iu[0]] = acc.T
    return out


def brant_test(y: pd.Series | np.ndarray, exog: pd.DataFrame, *, min_events: int | None = None) -> pd.DataFrame:
    """Brant (1990) test of proportional odds (parallel slopes) of an ordinal logit.

    ``y`` holds the ordered outcome (an ordered categorical, or integers in their order) and
    ``exog`` the predictors of the ordinal model, without a constant. For each of the J − 1
    cut-points j a binary logit of ``y > j`` on ``exog`` (with intercept) is fitted; under
    proportional odds their slopes are equal. The Wald statistic of equal slopes uses Brant's
    covariance of the binary estimates, ``Var(β̂_j) = (X'W_jj X)⁻¹`` and, for j < l,
    ``Cov(β̂_j, β̂_l) = (X'W_jj X)⁻¹ X'W_jl X (X'W_ll X)⁻¹`` with ``W_jl = diag(π̂_l − π̂_j π̂_l)``,
    as the R package ``brant`` computes it. One row ``"omnibus"`` (all slopes, df = K(J − 2)) and
    one per predictor (df = J − 2): ``chi2``, ``df``, ``p_value``; the binary slopes themselves
    are in ``attrs["binary_slopes"]`` (predictor × cut-point). Observations are taken as
    independent (the binary fits are not clustered).

    ``min_events``: merge the sparse lowest (and highest) outcome categories first, until each
    side of every cut-point holds at least that many observations (the binary logits need events
    to estimate K + 1 coefficients: ten per coefficient is the usual rule, Peduzzi et al. 1996),
    and further while a binary logit at the low (high) end does not converge (a term that
    separates there, such as photo updates that never meet the lowest scores);
    ``attrs["categories"]`` lists the categories tested, as ``(first, last)`` of the original
    levels (for integer codes) or their labels.

    Fewer than three outcome categories, a predictor that does not vary, or a binary logit that
    does not converge (separation at a sparse cut-point; with ``min_events``: once fewer than
    three categories are left): a :class:`~cxlib.errors.DataError`.

        >>> rng = np.random.default_rng(0)
        >>> x = pd.DataFrame({"x": rng.normal(size=300)})
        >>> y = np.digitize(x["x"] + rng.logistic(size=300), [-1, 0, 1])
        >>> round(float(brant_test(y, x).loc["omnibus", "p_value"]), 2) > 0.05
        True
    """
    is_cat = isinstance(getattr(y, "dtype", None), pd.CategoricalDtype)
    codes = pd.Series(y).cat.codes.to_numpy() if is_cat else np.asarray(y)
    labels = list(pd.Series(y).cat.categories) if is_cat else None
    spans = [(int(v), int(v)) for v in np.unique(codes)]
    if min_events is not None:
        codes, spans = _merge_sparse_ends(codes, int(min_events))
    levels = np.unique(codes)
    if levels.size < 3:
        raise DataError(f"the Brant test needs at least 3 outcome categories, found {levels.size}")
    x = np.asarray(exog, dtype=float)
    names = [str(c) for c in exog.columns]
    if x.ndim != 2 or x.shape[0] != codes.size:
        raise DataError(f"{codes.size} outcomes but {x.shape[0]} rows of predictors")
    if np.any(np.ptp(x, axis=0) == 0):
        raise DataError(
            "a predictor of the Brant test does not vary: "
            + ", ".join(n for n, c in zip(names, np.ptp(x, axis=0)) if c == 0)
        )
    X = np.column_stack([np.ones(len(x)), x])
    n, k1 = X.shape
    k = k1 - 1
    while True:
        cuts = np.unique(codes)[:-1]
        m = cuts.size
        failed = None
        beta = np.empty((m, k1))
        pi = np.empty((n, m))
        share = np.array([(codes > c).mean() for c in cuts])
        for j, c in enumerate(track(cuts, "Brant test, binary logits", unit="cut-points")):
            # from the cut-point before, its intercept moved by the change in the share above the cut
            start = None
            if j and 0 < share[j] < 1:
                start = beta[j - 1].copy()
                start[0] += np.log(share[j] / (1 - share[j])) - np.log(share[j - 1] / (1 - share[j - 1]))
            fit, why = _binary_logit_fit((codes > c).astype(float), X, start=start)
            if fit is None and start is not None:  # a start too far out: statsmodels' own, from 0
                fit, why = _binary_logit_fit((codes > c).astype(float), X)
            if fit is None:
                failed = (j, c, why)
                break
            beta[j] = fit.params
            pi[:, j] = fit.fitted
        if failed is None:
            break
        j, c, why = failed
        if min_events is None or m < 3:
            raise DataError(
                f"the binary logit of y > {c} for the Brant test cannot be fitted ({why}), "
                "merge sparse outcome categories"
            )
        # merge the end nearer to the failing cut-point inwards and try again
        groups = sorted(set(codes.tolist()))
        low = j < m / 2
        a, b = (groups[0], groups[1]) if low else (groups[-2], groups[-1])
        codes = np.where(codes == (a if low else b), b if low else a, codes)
        spans = ([(spans[0][0], spans[1][1])] + spans[2:]) if low else (spans[:-2] + [(spans[-2][0], spans[-1][1])])
        codes = np.searchsorted(np.unique(codes), codes)
    # X'W_jl X of every pair j <= l (W_jj = π_j(1 − π_j)) from one product per block of rows
    pairs = [(j, l) for j in range(m) for l in range(j, m)]
    xwx = _weighted_crossprods(X, pi, pairs)
    inv = [np.linalg.inv(xwx[pairs.index((j, j))]) for j in range(m)]
    v = np.empty((m * k1, m * k1))
    for j in range(m):
        v[j * k1 : (j + 1) * k1, j * k1 : (j + 1) * k1] = inv[j]
        for l in range(j + 1, m):
            c = inv[j] @ xwx[pairs.index((j, l))] @ inv[l]
            v[j * k1 : (j + 1) * k1, l * k1 : (l + 1) * k1] = c
            v[l * k1 : (l + 1) * k1, j * k1 : (j + 1) * k1] = c.T
    slope = np.concatenate([np.arange(j * k1 + 1, (j + 1) * k1) for j in range(m)])  # drop the intercepts
    b = beta[:, 1:].reshape(-1)
    vs = v[np.ix_(slope, slope)]

    def wald(d: np.ndarray) -> tuple[float, int]:
        db = d @ b
        return float(db @ np.linalg.solve(d @ vs @ d.T, db)), d.shape[0]

    # first cut-point's slopes minus each later one's
    d_all = np.zeros(((m - 1) * k, m * k))
    for j in range(1, m):
        d_all[(j - 1) * k : j * k, :k] = np.eye(k)
        d_all[(j - 1) * k : j * k, j * k : (j + 1) * k] = -np.eye(k)
    rows = [("omnibus", *wald(d_all))]
    for i, name in enumerate(names):
        pick = [r for r in range(d_all.shape[0]) if r % k == i]
        rows.append((name, *wald(d_all[pick])))
    out = pd.DataFrame(rows, columns=["test", "chi2", "df"]).set_index("test")
    out["p_value"] = stats.chi2.sf(out["chi2"], out["df"])
    out.attrs["binary_slopes"] = pd.DataFrame(beta[:, 1:].T, index=names, columns=[f"y>{c}" for c in cuts])
    out.attrs["categories"] = [(labels[a], labels[b]) if labels is not None else (a, b) for a, b in spans]
    return out


def proportional_odds_note(brant: pd.DataFrame | None, *, alpha: float = 0.05) -> str:
    """One clause on the Brant test for a model's ``note``: ``"proportional odds: Brant χ² =
    31.2, df = 27, p = 0.26, holds"``, then the predictors whose own test rejects at ``alpha``
    (``" — not parallel: …"``) and the outcome categories merged for the test.

        >>> t = pd.DataFrame({"chi2": [31.2, 3.0], "df": [27, 9], "p_value": [0.26, 0.96]},
        ...                  index=pd.Index(["omnibus", "x"], name="test"))
        >>> proportional_odds_note(t)
        'proportional odds: Brant χ² = 31.2, df = 27, p = 0.26, holds'
    """
    if brant is None or brant.empty:
        return ""
    o = brant.loc["omnibus"]
    p = float(o["p_value"])
    ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
    verdict = "rejected" if p < alpha else "holds"
    bad = [str(t) for t, r in brant.drop(index="omnibus").iterrows() if r["p_value"] < alpha]
    merged = [f"{a}–{b}" for a, b in brant.attrs.get("categories", []) if a != b]
    return (
        f"proportional odds: Brant χ² = {float(o['chi2']):.1f}, df = {int(o['df'])}, {ptxt}, {verdict}"
        + (f" — not parallel: {', '.join(bad)}" if bad else "")
        + (f" — outcome categories {', '.join(merged)} merged for the test" if merged else "")
    )


def _brant_term(term: str) -> str:
    """A design column's name as the Brant table shows it: ``C(Q('center'))[T.SH-JQ]`` →
    ``center[SH-JQ]``, ``np.log1p(Q('repair_minutes'))`` → ``log1p(repair_minutes)``."""
    t = _pretty(term)
    t = re.sub(r"^C\(([^)]*)\)\[T\.(.*)\]$", r"\1[\2]", t)
    return re.sub(r"^np\.", "", t)


def proportional_odds(result: ModelResult, *, alpha: float = 0.05) -> pd.DataFrame | NotComputed:
    """The Brant test of an ordinal model (``ltr_ordinal(...)``) as a tidy table: one row per
    ``term`` (``"omnibus"`` first) with ``chi2``, ``df``, ``p_value`` and ``parallel`` (the
    test does not reject at ``alpha``); a :class:`~cxlib.results.NotComputed` note when the model
    was not fitted or the test could not be computed.

        >>> proportional_odds(ltr_ordinal(visits))  # doctest: +SKIP
    """
    what = ("比例优势（Brant）检验", "the proportional-odds (Brant) test")
    t = result.proportional_odds
    if t is None:
        why = next(
            (c for c in result.note.split("; ") if c.startswith("proportional odds not tested")),
            result.note or "the ordinal model was not fitted",
        )
        return NotComputed(result.n, what, why=(note_text(why, lang="zh"), why))
    out = t.reset_index().rename(columns={"test": "term"})
    out["parallel"] = out["p_value"] >= alpha
    out["n"] = result.n
    return out[["term", "chi2", "df", "p_value", "parallel", "n"]]


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def ltr_ordinal(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    ltr: str = "ltr",
    *,
    collapse_below: int | None = None,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Proportional-odds (ordinal logit) model of LTR 0-10 on the number of updates.

    The outcome is an ordered categorical of the LTR points that occur (unused points are
    removed, and listed in ``note``); ``collapse_below`` merges sparse low scores into one
    category. Thresholds (cut-points, via ``transform_threshold_params``) come back as rows of
    kind ``"threshold"`` with delta-method intervals. Coefficients are log odds of a higher LTR.
    ``proportional_odds`` holds the Brant test of the proportional-odds assumption
    (:func:`brant_test`, omnibus and per predictor) and ``note`` its one-line summary; when it
    cannot be computed (a sparse cut-point) the note says why and ``proportional_odds`` is None.

        >>> ltr_ordinal(visits).headline  # doctest: +SKIP
    """
    controls, log_controls = adjust.controls, adjust.log_controls
    cluster, ci = inference.cluster, inference.ci
    min_n, min_clusters, maxiter, strict = guards.min_n, guards.min_clusters, guards.maxiter, guards.strict
    name = "ltr_ordinal"
    require_columns(visits, [ltr, updates], "visits")
    prep = _prepare(visits, [ltr], [updates], controls, log_controls, cluster)
    bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
    if bad:
        return bad
    y = prep.data[ltr]
    declared = (
        list(y.cat.categories)
        if isinstance(y.dtype, pd.CategoricalDtype)
        else list(range(catalog.LTR_MIN, catalog.LTR_MAX + 1))
    )
    vals = pd.to_numeric(y.astype(object)).astype(int)
    if collapse_below is not None:
        vals = vals.clip(lower=collapse_below)
    used = sorted(vals.unique())
    notes = list(prep.notes)
    unused = [
        v
        for v in declared
        if pd.to_numeric(v) not in used and (collapse_below is None or pd.to_numeric(v) >= collapse_below)
    ]
    if unused:
        notes.append("LTR points never used, removed from the outcome: " + ", ".join(map(str, unused)))
    if collapse_below is not None:
        notes.append(f"LTR below {collapse_below} merged into {collapse_below}")
    if len(used) < 3:
        return _cannot_fit(name, f"only {len(used)} distinct LTR values", len(prep.data), prep.n_clusters, strict)
    prep.data["_ltr_ord"] = pd.Categorical(vals, categories=used, ordered=True)
    term, key_raw = _updates_terms(prep, updates, "linear", 4)
    formula = " + ".join([f"_ltr_ord ~ {term}", *prep.rhs])
    mod = AnalyticOrderedModel.from_formula(formula, prep.data, distr="logit", eval_env=_FORMULA_ENV)
    kw = _fit_kwargs(prep)
    res, msgs, numeric = _run(mod.fit_mle, maxiter=maxiter, **kw)
    conv, cnotes = _convergence(res, msgs, numeric, key_raw)
    notes += cnotes + _se_note(prep)
    k_thr = len(used) - 1
    params = pd.Series(res.params)
    table = _tidy(res, name, prep, key_raw, conv, "; ".join(notes), ci)
    table = table.iloc[: len(params) - k_thr].copy()
    # thresholds: first cut + cumulative exp(increments); delta method for their SEs
    raw = params.to_numpy()[-k_thr:]
    cuts = mod.transform_threshold_params(params.to_numpy())[1:-1]
    cov = np.asarray(res.cov_params())[-k_thr:, -k_thr:]
    jac = np.zeros((k_thr, k_thr))
    for j in range(k_thr):
        jac[j, 0] = 1.0
        jac[j, 1 : j + 1] = np.exp(raw[1 : j + 1])
    se = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0, None))
    df = _df_inference(res)
    q = stats.t.ppf(1 - (1 - ci) / 2, df) if df else stats.norm.ppf(1 - (1 - ci) / 2)
    thr = pd.DataFrame(
        {
            "term": [f"threshold {a}|{b}" for a, b in zip(used[:-1], used[1:])],
            "estimate": cuts,
            "std_error": se,
            "ci_low": cuts - q * se,
            "ci_high": cuts + q * se,
            "p_value": np.nan,
            "model": name,
            "kind": "threshold",
            "n": len(prep.data),
            "n_clusters": prep.n_clusters,
            "converged": conv,
            "note": "; ".join(notes),
        }
    )
    table = finish_table(pd.concat([table, thr], ignore_index=True))
    try:
        exog = pd.DataFrame(mod.exog, columns=[_brant_term(str(c)) for c in mod.exog_names[: mod.exog.shape[1]]])
        brant = brant_test(prep.data["_ltr_ord"], exog, min_events=10 * (exog.shape[1] + 1))
        brant_note = proportional_odds_note(brant)
    except DataError as e:
        brant, brant_note = None, f"proportional odds not tested: {e}"
    notes.append(brant_note)
    return ModelResult(
        name,
        table,
        n=len(prep.data),
        n_clusters=prep.n_clusters,
        converged=conv,
        note="; ".join(notes),
        headline=table.loc[table["kind"] == "effect"].reset_index(drop=True),
        fit=res,
        fallback=prep.fallback,
        proportional_odds=brant,
    )


def _binary_logit(
    visits: pd.DataFrame,
    name: str,
    outcome: pd.Series,
    updates: str,
    ltr: str,
    controls: Sequence[str],
    log_controls: Sequence[str],
    cluster: str | None,
    ci: float,
    min_n: int,
    min_clusters: int,
    maxiter: int,
    strict: bool,
) -> ModelResult:
    require_columns(visits, [ltr, updates], "visits")
    df = visits.assign(**{f"_{name}_y": outcome})
    prep = _prepare(df, [f"_{name}_y"], [updates], controls, log_controls, cluster)
    bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
    if bad:
        return bad
    y = prep.data[f"_{name}_y"].astype(float)
    if y.nunique() < 2:
        return _cannot_fit(name, "the outcome takes a single value", len(prep.data), prep.n_clusters, strict)
    prep.data[f"_{name}_y"] = y
    if _drop_separated(prep, f"_{name}_y", "binary"):
        bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
        if bad:
            return bad
        y = prep.data[f"_{name}_y"]
        if y.nunique() < 2:
            return _cannot_fit(name, "the outcome takes a single value", len(prep.data), prep.n_clusters, strict)
    prep.data[f"_{name}_y"] = y
    term, key_raw = _updates_terms(prep, updates, "linear", 4)
    formula = " + ".join([f"_{name}_y ~ {term}", *prep.rhs])
    res, msgs, numeric = _run(
        lambda: smf.logit(formula, prep.data, eval_env=_FORMULA_ENV).fit(disp=0, maxiter=maxiter, **_fit_kwargs(prep))
    )
    conv, notes = _convergence(res, msgs, numeric, key_raw)
    notes = prep.notes + notes + _se_note(prep)
    table = _tidy(res, name, prep, key_raw, conv, "; ".join(notes), ci)
    # average marginal effects (probability points per update): statsmodels' get_margeff(at="overall")
    # in closed form (cxlib.margins), delta-method SE from the cluster-robust covariance; intervals and
    # p-values from t with the fit's inference df (G-1 clustered, N-1 HC1), like the coefficients
    names = list(res.model.exog_names)
    me_terms = [k for k in key_raw if k in names]
    me = margins.logit_ame(res.params, res.model.exog, res.cov_params(), [names.index(k) for k in me_terms])
    ame, ame_se = me.estimate, me.std_error
    lo, hi, pv, df_inf = _t_inference(ame, ame_se, _df_inference(res), ci)
    head = pd.DataFrame(
        {
            "term": [_pretty(k) for k in me_terms],
            "estimate": ame,
            "std_error": ame_se,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": pv,
            "model": name,
            "kind": "average_marginal_effect",
            "n": len(prep.data),
            "n_clusters": prep.n_clusters,
            "converged": conv,
            "note": "; ".join(notes),
            "odds_ratio": np.exp(table.loc[table["kind"] == "effect", "estimate"].to_numpy()),
            "df": df_inf,
        }
    )
    return ModelResult(
        name,
        table,
        n=len(prep.data),
        n_clusters=prep.n_clusters,
        converged=conv,
        note="; ".join(notes),
        headline=finish_table(head),
        fit=res,
        fallback=prep.fallback,
    )


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def promoter_logit(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    ltr: str = "ltr",
    *,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Logit of being a promoter (LTR 9-10) on updates; ``headline`` holds the average marginal
    effect (``get_margeff(at="overall")``: probability points per extra update) and odds ratio.

    The AME's standard error is the delta-method one of statsmodels (from the cluster-robust
    covariance); its interval and p-value use t with ``df`` degrees of freedom (G-1 by center, N-1
    with HC1 errors), as the coefficients do, not the normal quantiles of statsmodels' margins.

        >>> promoter_logit(visits).headline[["estimate", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    controls, log_controls = adjust.controls, adjust.log_controls
    cluster, ci = inference.cluster, inference.ci
    min_n, min_clusters, maxiter, strict = guards.min_n, guards.min_clusters, guards.maxiter, guards.strict
    require_columns(visits, [ltr], "visits")
    v = pd.to_numeric(visits[ltr], errors="coerce")
    y = (v >= _PROMOTER_LOW).astype("Float64").where(v.notna())
    return _binary_logit(
        visits,
        "promoter_logit",
        y,
        updates,
        ltr,
        controls,
        log_controls,
        cluster,
        ci,
        min_n,
        min_clusters,
        maxiter,
        strict,
    )


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def detractor_logit(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    ltr: str = "ltr",
    *,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Logit of being a detractor (LTR 0-6) on updates, with average marginal effects.

    >>> detractor_logit(visits).headline  # doctest: +SKIP
    """
    controls, log_controls = adjust.controls, adjust.log_controls
    cluster, ci = inference.cluster, inference.ci
    min_n, min_clusters, maxiter, strict = guards.min_n, guards.min_clusters, guards.maxiter, guards.strict
    require_columns(visits, [ltr], "visits")
    v = pd.to_numeric(visits[ltr], errors="coerce")
    y = (v <= _DETRACTOR_HIGH).astype("Float64").where(v.notna())
    return _binary_logit(
        visits,
        "detractor_logit",
        y,
        updates,
        ltr,
        controls,
        log_controls,
        cluster,
        ci,
        min_n,
        min_clusters,
        maxiter,
        strict,
    )


# ============================================================================ complaints
def _rate_ratio_row(
    res: Any, model: str, key: str, h0: float, ci: float, prep: _Prepared, conv: bool, note: str, alpha: float | None
) -> dict[str, Any]:
    b = float(res.params[key])
    se = float(res.bse[key])
    df = _df_inference(res)
    q = stats.t.ppf(1 - (1 - ci) / 2, df) if df else stats.norm.ppf(1 - (1 - ci) / 2)

    def p_of(stat: float) -> float:
        return float(2 * (stats.t.sf(abs(stat), df) if df else stats.norm.sf(abs(stat))))

    return {
        "model": model,
        "term": _pretty(key),
        "rate_ratio": math.exp(b),
        "ci_low": math.exp(b - q * se),
        "ci_high": math.exp(b + q * se),
        "log_rate_ratio": b,
        "std_error": se,
        "p_value": p_of(b / se),
        "h0_rate_ratio": h0,
        "p_value_h0": p_of((b - math.log(h0)) / se),
        "alpha": alpha,
        "df": df,
        "n": len(prep.data),
        "n_clusters": prep.n_clusters,
        "converged": conv,
        "note": note,
    }


#: NB2 dispersion below which overdispersion counts as estimated at 0 (the variance ``mu + alpha mu²``
#: then exceeds the Poisson one by less than 0.1 % of ``mu²``).
NB_ALPHA_BOUNDARY = 1e-3


def _nb_boundary(poisson: Any, alpha: float, nb_msgs: Sequence[str]) -> str:
    """Why an NB2 fit sits at its boundary (alpha = 0, where it is the Poisson model), or "".

    * ``alpha`` below :data:`NB_ALPHA_BOUNDARY`;
    * the score of alpha at 0 is not positive: ``Σ[(y - μ)² - y] ≤ 0`` with ``μ`` the Poisson fit
      (Cameron & Trivedi 1990: the NB2 log-likelihood falls as soon as alpha leaves 0, so its maximum
      over alpha ≥ 0 is at 0, wherever the optimiser stopped);
    * the NB2 fit warned that its Hessian could not be inverted or that it did not converge.
    """
    if not np.isfinite(alpha) or alpha < NB_ALPHA_BOUNDARY:
        return f"overdispersion estimated at 0 (alpha = {alpha:.3g})"
    y = np.asarray(poisson.model.endog, dtype=float)
    mu = np.asarray(poisson.predict(), dtype=float)  # the model's own exog and exposure
    if float(np.sum((y - mu) ** 2 - y)) <= 0:
        return (
            f"overdispersion estimated at 0 (the likelihood falls as alpha leaves 0; the fit stopped at "
            f"alpha = {alpha:.3g})"
        )
    warned = [m for m in nb_msgs if m.startswith(("HessianInversionWarning", "ConvergenceWarning"))]
    if warned:
        return f"the fit is unreliable ({warned[0]})"
    return ""


def _poisson_quoted(boundary: str, errors: str, what: str = "rate ratio") -> str:
    """The clause saying that the Poisson ``what`` is quoted in place of NB2, and why it may be."""
    lead = "NB2 reduces to Poisson; " if boundary.startswith("overdispersion estimated at 0") else ""
    return f"{lead}the Poisson {what} with {errors} errors is quoted"


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def complaint_models(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    complaints: str = "n_complaints",
    *,
    h0_rate_ratio: float = 0.5,
    nb2: bool = True,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(maxiter=COUNT_MAXITER),
) -> ModelResult:
    """Complaint counts per visit on updates: Poisson and NB2 (``smf.negativebinomial``, alpha
    estimated), both with cluster-robust SEs by center. ``nb2=False`` fits the Poisson model only
    (what :func:`naive_vs_adjusted` quotes; NB2 by BFGS is the slowest fit of notebook 03 at scale).

    ``headline`` has one row per model with the rate ratio per extra update, its interval, the
    p-value against 1 and the Wald test of ``H0: rate ratio = h0_rate_ratio`` (default 0.5,
    "each extra update halves complaints": ``p_value_h0``); NB2 adds the estimated ``alpha``.
    ``quoted`` marks the model a report quotes: NB2, unless it sits at its boundary (``boundary``,
    ``boundary_reason``; see :func:`_nb_boundary`: overdispersion estimated at 0, where NB2 reduces
    to the Poisson model, or a Hessian / convergence warning): then the Poisson model with
    cluster-robust (HC1 without clusters) errors is quoted instead, and both notes say why. A Hessian that could not be inverted
    marks NB2 ``converged=False``; ``ModelResult.converged`` is that of the models quoted and of Poisson.

        >>> complaint_models(visits).headline[["model", "rate_ratio", "p_value_h0"]]  # doctest: +SKIP
    """
    controls, log_controls, exposure = adjust.controls, adjust.log_controls, adjust.exposure
    cluster, ci = inference.cluster, inference.ci
    min_n, min_clusters, maxiter, strict = guards.min_n, guards.min_clusters, guards.maxiter, guards.strict
    name = "complaints"
    require_columns(visits, [complaints, updates], "visits")
    prep = _prepare(visits, [complaints, *([exposure] if exposure else [])], [updates], controls, log_controls, cluster)
    bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
    if bad:
        return bad
    yv = pd.to_numeric(prep.data[complaints])
    if (yv < 0).any() or (yv != yv.round()).any():
        raise DataError("complaint counts must be whole numbers >= 0", column=complaints)
    prep.data[complaints] = yv.astype(float)
    if prep.data[complaints].sum() == 0:
        return _cannot_fit(name, "no complaints in the data", len(prep.data), prep.n_clusters, strict)
    if _drop_separated(prep, complaints, "count"):
        bad = _check_size(prep, name, updates, min_n, min_clusters if cluster else 0, strict)
        if bad:
            return bad
    term, key_raw = _updates_terms(prep, updates, "linear", 4)
    key = key_raw[0]
    formula = " + ".join([f"{_q(complaints)} ~ {term}", *prep.rhs])
    extra = {}
    if exposure:
        ex = pd.to_numeric(prep.data[exposure]).astype(float)
        if (ex <= 0).any():
            raise DataError("exposure must be > 0", column=exposure)
        extra["exposure"] = ex.to_numpy()
    kw = _fit_kwargs(prep)
    tables, rows, fits = [], [], dict[str, Any]()
    boundary = ""
    fitters = (
        (
            "poisson",
            lambda: smf.poisson(formula, prep.data, eval_env=_FORMULA_ENV, **extra).fit(disp=0, maxiter=maxiter, **kw),
        ),
        # NB2 by Newton's method with its analytic derivatives from the Poisson estimates (cxlib.negbin;
        # statsmodels' BFGS when alpha heads to its boundary at 0)
        (
            "nb2",
            lambda: negbin.fit_nb2(
                formula,
                prep.data,
                poisson_params=fits["poisson"].params,
                maxiter=maxiter,
                eval_env=_FORMULA_ENV,
                **extra,
                **kw,
            ),
        ),
    )
    for model, fitter in track(fitters[: 2 if nb2 else 1], "complaint models (Poisson, NB2)", unit="models"):
        res, msgs, numeric = _run(fitter)
        conv, notes = _convergence(res, msgs, numeric, key_raw)
        notes = prep.notes + notes
        alpha = float(res.params["alpha"]) if "alpha" in res.params.index else None
        if alpha is not None:
            notes.append(f"alpha estimated = {alpha:.3g}")
            boundary = _nb_boundary(fits["poisson"], alpha, msgs)
            if boundary:
                # a Hessian that could not be inverted: the NB2 errors are not those of a maximum
                conv = conv and not any(m.startswith("HessianInversionWarning") for m in msgs)
                notes.append(
                    f"at its boundary: {boundary}; "
                    + _poisson_quoted(boundary, "cluster-robust" if prep.groups is not None else "HC1", "model")
                )
        notes += _se_note(prep)
        note = "; ".join(notes)
        t = _tidy(res, model, prep, key_raw, conv, note, ci)
        t.loc[t["term"] == "alpha", "kind"] = "dispersion"
        tables.append(t)
        rows.append(_rate_ratio_row(res, model, key, h0_rate_ratio, ci, prep, conv, note, alpha))
        fits[model] = res
    quoted = "poisson" if boundary else "nb2"
    for r in rows:
        r["quoted"] = r["model"] == quoted
        r["boundary"] = bool(boundary) if r["model"] == "nb2" else False
        r["boundary_reason"] = boundary if r["model"] == "nb2" else ""
        if boundary and r["model"] == "poisson":
            r["note"] = "; ".join([r["note"], f"quoted, NB2 being at its boundary: {boundary}"])
    table = finish_table(pd.concat(tables, ignore_index=True))
    head = pd.DataFrame(rows)
    # the Poisson model is always reported; NB2 must hold up only when it is the one quoted
    conv = bool(head.loc[head["quoted"] | (head["model"] == "poisson"), "converged"].all())
    note = " | ".join(f"{r['model']}: {r['note']}" for r in rows)
    return ModelResult(
        name,
        table,
        n=len(prep.data),
        n_clusters=prep.n_clusters,
        converged=conv,
        note=note,
        headline=head,
        fit=fits,
        fallback=prep.fallback,
    )


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def naive_vs_adjusted(
    visits: pd.DataFrame,
    outcome: Literal["n_complaints", "ltr"] = "n_complaints",
    updates: str = "n_proactive_updates",
    duration: str = "repair_minutes",
    *,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """The naive estimate (without the repair-duration control) next to the adjusted one.

    For complaints the estimates are Poisson rate ratios per update; for LTR, OLS slopes.
    ``headline`` has the rows ``naive`` and ``adjusted``; ``note`` is one sentence, written
    from the numbers, saying how far controlling for duration moves the estimate and why.

        >>> naive_vs_adjusted(visits).note  # doctest: +SKIP
    """
    controls = adjust.controls
    ci = inference.ci
    naive_controls = [c for c in controls if c != duration]
    rows, fits = [], {}
    for label, ctrl in (("naive", naive_controls), ("adjusted", list(controls))):
        if outcome == "ltr":
            r = _prefitted(outcome, label) or ltr_ols(
                visits, updates, ltr=outcome, adjust=adjust.replace(controls=ctrl), inference=inference, guards=guards
            )
            h = r.headline.iloc[0]
            rows.append(
                {
                    "estimate_type": label,
                    "scale": "LTR points per update",
                    "estimate": h["estimate"],
                    "ci_low": h["ci_low"],
                    "ci_high": h["ci_high"],
                    "p_value": h["p_value"],
                    "controls": ", ".join(_used(r.table, ctrl) if r.ok else ctrl),
                    "n": r.n,
                    "n_clusters": r.n_clusters,
                    "converged": r.converged,
                    "note": r.note,
                }
            )
        else:
            r = _prefitted(outcome, label) or complaint_models(
                visits,
                updates,
                outcome,
                adjust=adjust.replace(controls=ctrl),
                inference=inference,
                guards=guards.replace(maxiter=COUNT_MAXITER),
                nb2=False,
            )  # the Poisson rows are quoted
            if "rate_ratio" not in r.headline.columns:  # cannot fit
                h = r.headline.iloc[0]
                rows.append(
                    {
                        "estimate_type": label,
                        "scale": "rate ratio per update",
                        "estimate": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p_value": np.nan,
                        "controls": ", ".join(ctrl),
                        "n": r.n,
                        "n_clusters": r.n_clusters,
                        "converged": False,
                        "note": r.note,
                    }
                )
            else:
                h = r.headline.set_index("model").loc["poisson"]
                rows.append(
                    {
                        "estimate_type": label,
                        "scale": "rate ratio per update",
                        "estimate": h["rate_ratio"],
                        "ci_low": h["ci_low"],
                        "ci_high": h["ci_high"],
                        "p_value": h["p_value"],
                        "controls": ", ".join(_used(r.table.loc[r.table["model"] == "poisson"], ctrl)),
                        "n": r.n,
                        "n_clusters": r.n_clusters,
                        "converged": bool(h["converged"]),
                        "note": h["note"],
                    }
                )
        fits[label] = r
    head = pd.DataFrame(rows)
    sentence = _explain(head, visits, updates, duration, outcome, ci)
    fallback = fits["adjusted"].fallback or fits["naive"].fallback
    if fallback and np.isfinite(head["estimate"]).all():
        sentence += " " + _sentence(fallback)
    conv = bool(head["converged"].all())
    table = pd.concat(
        [fits["naive"].table.assign(estimate_type="naive"), fits["adjusted"].table.assign(estimate_type="adjusted")],
        ignore_index=True,
    )
    return ModelResult(
        "naive_vs_adjusted",
        table,
        n=int(head["n"].max()),
        n_clusters=fits["adjusted"].n_clusters,
        converged=conv,
        note=sentence,
        headline=head,
        fit=fits,
        fallback=fallback,
    )


def _sentence(note: str) -> str:
    """A note as a sentence: capital first letter, full stop."""
    return note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def duration_confounding(
    visits: pd.DataFrame,
    updates: str = "n_proactive_updates",
    duration: str = "repair_minutes",
    *,
    adjust: Adjustment = Adjustment(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """:func:`naive_vs_adjusted` for complaints and for LTR at once: ``headline`` has the naive and
    adjusted rows of both outcomes (column ``outcome``), ``note`` the two sentences, one per line
    (and, with too few centers for cluster-robust errors, a third line saying HC1 errors were used).

        >>> print(duration_confounding(visits).note)  # doctest: +SKIP
    """
    outcomes: tuple[Literal["n_complaints", "ltr"], ...] = ("n_complaints", "ltr")
    parts = [
        naive_vs_adjusted(visits, o, updates, duration, adjust=adjust, inference=inference, guards=guards)
        for o in track(outcomes, "naive and adjusted models", unit="outcomes")
    ]
    head = pd.concat([r.headline.assign(outcome=o) for r, o in zip(parts, ("n_complaints", "ltr"))], ignore_index=True)
    head = head[["outcome", *[c for c in head.columns if c != "outcome"]]]
    table = pd.concat([r.table.assign(outcome=o) for r, o in zip(parts, ("n_complaints", "ltr"))], ignore_index=True)
    fallback = next((r.fallback for r in parts if r.fallback), "")
    lines = [r.note.removesuffix(" " + _sentence(r.fallback)) if r.fallback else r.note for r in parts]
    if fallback:
        lines.append(_sentence(fallback))
    return ModelResult(
        "duration_confounding",
        table,
        n=max(r.n for r in parts),
        n_clusters=parts[0].n_clusters,
        converged=all(r.converged for r in parts),
        note="\n".join(lines),
        headline=head,
        fit={r.model + "_" + o: r for r, o in zip(parts, ("n_complaints", "ltr"))},
        fallback=fallback,
    )


#: The adjusted fits :func:`duration_confounding_from` hands to :func:`naive_vs_adjusted`, by outcome.
_PREFITTED: contextvars.ContextVar[dict[str, ModelResult] | None] = contextvars.ContextVar("prefitted", default=None)


def _prefitted(outcome: str, label: str) -> ModelResult | None:
    """The adjusted fit of ``outcome`` made earlier (inside :func:`duration_confounding_from`), or None."""
    given = _PREFITTED.get()
    return given.get(outcome) if given and label == "adjusted" else None


def _poisson_part(result: ModelResult) -> ModelResult:
    """The Poisson model of a :func:`complaint_models` result, as ``complaint_models(..., nb2=False)``
    returns it (its rows and notes are fitted and written before NB2's; the boundary sentence
    NB2 adds to them is dropped, as the rows quoted without NB2 do not have it)."""
    head = result.headline.loc[result.headline["model"] == "poisson"].copy()
    head["quoted"], head["boundary"], head["boundary_reason"] = False, False, ""
    head["note"] = head["note"].str.replace(r"; quoted, NB2 being at its boundary: .*$", "", regex=True)
    return replace(
        result,
        table=result.table.loc[result.table["model"] == "poisson"].reset_index(drop=True),
        headline=head.reset_index(drop=True),
        converged=bool(head["converged"].all()),
        note=" | ".join(f"poisson: {n}" for n in head["note"]),
        fit={"poisson": result.fit["poisson"]},
    )


def duration_confounding_from(
    ltr_adjusted: ModelResult, complaints_adjusted: ModelResult, visits: pd.DataFrame, **kwargs: Any
) -> ModelResult:
    """:func:`duration_confounding` of ``visits`` (``kwargs`` as for it) that reuses the adjusted
    fits a notebook has made already: ``ltr_adjusted`` = ``ltr_ols(visits, form="linear", …)`` and
    ``complaints_adjusted`` = ``complaint_models(visits, …)`` with the same ``updates``,
    ``adjust`` and ``inference`` (the Poisson rows of the latter are
    those :func:`naive_vs_adjusted` quotes). Only the two naive models are fitted; the result is
    that of :func:`duration_confounding` (``tests/test_scale.py``). A fit that does not match (another
    update column, a model that could not be fitted) is refitted instead.

        >>> rng = np.random.default_rng(0)
        >>> v = pd.DataFrame({"repair_minutes": rng.gamma(2.0, 60.0, 400)})
        >>> v["n_proactive_updates"] = rng.poisson(1 + v["repair_minutes"] / 120)
        >>> v["ltr"] = np.clip(np.round(7 + 0.3 * v["n_proactive_updates"] + rng.normal(0, 1.5, 400)), 0, 10)
        >>> v["n_complaints"] = rng.poisson(0.4, 400)
        >>> kw = dict(adjust=Adjustment(controls=["repair_minutes"], log_controls=[]), inference=Inference(cluster=None))
        >>> r = duration_confounding_from(ltr_ols(v, **kw), complaint_models(v, **kw), v, **kw)
        >>> r.headline["estimate"].equals(duration_confounding(v, **kw).headline["estimate"])
        True
    """
    updates = kwargs.get("updates", "n_proactive_updates")
    term = f"Q('{updates}')"
    given: dict[str, ModelResult] = {}
    ltr_fit = getattr(ltr_adjusted, "fit", None)
    if (
        isinstance(ltr_adjusted, ModelResult)
        and ltr_adjusted.model == "ltr_ols_linear"
        and ltr_fit is not None
        and term in ltr_fit.model.exog_names
    ):
        given["ltr"] = ltr_adjusted
    fits = getattr(complaints_adjusted, "fit", None)
    if (
        isinstance(complaints_adjusted, ModelResult)
        and complaints_adjusted.model == "complaints"
        and isinstance(fits, dict)
        and "poisson" in fits
        and term in fits["poisson"].model.exog_names
    ):
        given["n_complaints"] = _poisson_part(complaints_adjusted)
    token = _PREFITTED.set(given)
    try:
        return duration_confounding(visits, **kwargs)
    finally:
        _PREFITTED.reset(token)


def _explain(head: pd.DataFrame, visits: pd.DataFrame, updates: str, duration: str, outcome: str, ci: float) -> str:
    nv, ad = head.iloc[0], head.iloc[1]
    if not (np.isfinite(nv["estimate"]) and np.isfinite(ad["estimate"])):
        return "The comparison could not be made: " + (nv["note"] if not np.isfinite(nv["estimate"]) else ad["note"])
    u = pd.to_numeric(visits[updates], errors="coerce")
    d = np.log1p(pd.to_numeric(visits[duration], errors="coerce"))
    ok = u.notna() & d.notna()
    r = float(np.corrcoef(u[ok], d[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    link = (
        f"visits with longer repairs get {'more' if r > 0 else 'fewer'} updates (r = {r:.2f})"
        if np.isfinite(r)
        else "repair duration is linked to the number of updates"
    )
    fmt = "{:+.2f} LTR points" if outcome == "ltr" else "×{:.2f} complaints"
    level = f"{ci:.0%} CI "
    naive_txt = f"{fmt.format(nv['estimate'])} ({level}{nv['ci_low']:.2f} to {nv['ci_high']:.2f})"
    adj_txt = f"{fmt.format(ad['estimate'])} ({ad['ci_low']:.2f} to {ad['ci_high']:.2f})"
    similar = (ad["ci_low"] <= nv["estimate"] <= ad["ci_high"]) and (nv["ci_low"] <= ad["estimate"] <= nv["ci_high"])
    if similar:
        return (
            f"Controlling for repair duration barely moves the estimate: each extra update goes with "
            f"{naive_txt} without it and {adj_txt} with it, so duration does not confound the effect of "
            f"updates much in these data."
        )
    # benefit of updates: fewer complaints (lower rate ratio) or higher LTR (higher slope)
    understates = nv["estimate"] > ad["estimate"] if outcome != "ltr" else nv["estimate"] < ad["estimate"]
    return (
        f"Without controlling for repair duration each extra update goes with {naive_txt}; holding duration "
        f"and the other controls fixed it is {adj_txt}: {link} and duration itself drives the outcome, so "
        f"the naive estimate {'understates' if understates else 'overstates'} the benefit of updates."
    )


# ============================================================================ rollout study
def _by_codes(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``values[codes]`` as a Series on ``index``, missing where a code is -1 (``pd.factorize``'s
    missing value)."""
    taken = pd.api.extensions.take(values.array, codes, allow_fill=True)
    return pd.Series(taken, index=index)


@former_keywords(columns=RolloutColumns)
def rollout_visits(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    *,
    columns: RolloutColumns = RolloutColumns(),
) -> pd.DataFrame:
    """Per visit (same index as ``visits``): ``treated`` (its center ever switched to real-time
    updates), ``post`` (1.0 when it arrived on or after the switch date), ``month_index``
    (year × 12 + month) and ``rel_month`` (months since the switch month; NaN for a center that
    never switched). Shared by the rollout estimators here and in :mod:`cxlib.did`.

        >>> v = pd.DataFrame({"center": ["A", "A", "B"], "month": ["2026-03", "2026-04", "2026-04"],
        ...                   "arrived_at": pd.to_datetime(["2026-03-30", "2026-04-02", "2026-04-02"])})
        >>> c = pd.DataFrame({"center_id": ["A", "B"], "realtime_since": ["2026-04-01", None]})
        >>> rollout_visits(v, c)[["treated", "post", "rel_month"]].values.tolist()
        [[True, 0.0, -1.0], [True, 1.0, 0.0], [False, 0.0, nan]]
    """
    center, month, arrived_at, center_id, realtime_since = (
        columns.center,
        columns.month,
        columns.arrived_at,
        columns.center_id,
        columns.realtime_since,
    )
    require_columns(visits, [center, month, arrived_at], "visits")
    require_columns(centers, [center_id, realtime_since], "centers")
    c = centers.drop_duplicates(center_id)
    since = pd.Series(
        pd.to_datetime(c[realtime_since], errors="coerce").to_numpy(), index=c[center_id].astype(str).to_numpy()
    )
    # centers and months are looked up once per distinct value (a network has a million visits, a
    # few dozen centers and months), then spread to the visits by their codes
    codes, centers_seen = pd.factorize(visits[center].astype("string"))
    unknown = sorted(set(map(str, centers_seen)) - set(since.index))
    if unknown:
        raise DataError(
            f"center(s) {', '.join(unknown[:5])} not in the centers table", file="centers", column=center_id
        )
    s = _by_codes(pd.to_datetime(pd.Series(centers_seen, dtype="string").map(since)), codes, visits.index)
    arr = pd.to_datetime(visits[arrived_at])
    if isinstance(arr.dtype, pd.DatetimeTZDtype):
        arr = arr.dt.tz_localize(None)  # local wall-clock time of the center
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    m = visits[month].astype("string")
    mcodes, months_seen = pd.factorize(m)
    parsed_seen = pd.to_datetime(pd.Series(months_seen, dtype="string"), format="%Y-%m", errors="coerce")
    if parsed_seen.isna().any():
        row = int(np.flatnonzero(np.isin(mcodes, np.flatnonzero(parsed_seen.isna().to_numpy())))[0])
        raise DataError(f"month {m.iloc[row]!r} is not YYYY-MM", column=month, row=row)
    parsed = _by_codes(parsed_seen, mcodes, visits.index)
    midx = parsed.dt.year * 12 + parsed.dt.month
    ridx = s.dt.year * 12 + s.dt.month
    out = pd.DataFrame(
        {
            "treated": s.notna().to_numpy(),
            "post": (s.notna() & (arr.dt.normalize() >= s.dt.normalize())).astype(float).to_numpy(),
            "month_index": midx.to_numpy(dtype=float),
            "rel_month": (midx - ridx).to_numpy(dtype=float),
        },
        index=visits.index,
    )
    return out


def _one_center_reason(what: str, prep: _Prepared, centers: pd.DataFrame, columns: RolloutColumns) -> str:
    """Why a rollout model is not identified when the data hold a single center."""
    return one_center_reason(what, str(prep.data[prep.cluster].iloc[0]), centers, columns=columns)


@former_keywords(columns=RolloutColumns)
def one_center_reason(
    what: str,
    center_id_value: str,
    centers: pd.DataFrame,
    *,
    columns: RolloutColumns = RolloutColumns(),
) -> str:
    """Why ``what`` (a rollout estimator) is not identified in a selection that holds the single
    center ``center_id_value``: it needs switching and non-switching centers; says whether and
    when this center switched (``centers[realtime_since]``).

        >>> one_center_reason("DiD", "A", pd.DataFrame({"center_id": ["A"], "realtime_since": [None]}))
        'this center never switched to real-time updates; DiD needs switching and non-switching centers; this selection has one center — see the all-centers report'
    """
    center_id, realtime_since = columns.center_id, columns.realtime_since
    cid = center_id_value
    c = centers.drop_duplicates(center_id)
    since = pd.to_datetime(c.loc[c[center_id].astype(str) == cid, realtime_since], errors="coerce")
    base = (
        f"{what} needs switching and non-switching centers; this selection has one center — see the all-centers report"
    )
    if since.empty or since.isna().all():
        return f"this center never switched to real-time updates; {base}"
    return f"{base} ({cid} switched to real-time updates on {pd.Timestamp(since.iloc[0]):%Y-%m-%d})"


def numeric_outcome(visits: pd.DataFrame, outcome: str) -> pd.Series:
    """The ``outcome`` column as floats: a boolean (complained) as 0/1 with NaN where unknown,
    anything else as a number (NaN where it is none).

        >>> numeric_outcome(pd.DataFrame({"complained": pd.array([True, None, False])}), "complained").tolist()
        [1.0, nan, 0.0]
    """
    s = visits[outcome]
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
        return s.astype("Float64").astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


@former_keywords(columns=RolloutColumns, adjust=Adjustment, inference=Inference, guards=Guards)
def did_rollout(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    columns: RolloutColumns = RolloutColumns(),
    adjust: Adjustment = Adjustment(controls=()),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Difference-in-differences of the switch to real-time updates (``centers.realtime_since``):
    two-way fixed effects (center + month) with a post indicator, cluster-robust by center (t, G-1 df).

    ``outcome`` ``"ltr"`` (points) or ``"complained"`` (linear probability, points of share).
    With staggered switch dates and effects that grow over time the TWFE estimate is a
    weighted average that can mislead: read it next to :func:`event_study`. With fewer than 30
    centers the quoted p-value and interval are those of the wild cluster bootstrap, with CR1 and
    CR2 (Satterthwaite df) alongside (``few_cluster``, as in :func:`ltr_ols`). Within one center
    (a per-center report) the model is not identified: the result says so ("cannot fit: DiD
    needs switching and non-switching centers; …", or "this center never switched …").

        >>> did_rollout(visits, centers, outcome="complained").headline  # doctest: +SKIP
    """
    center, month = columns.center, columns.month
    controls, log_controls = adjust.controls, adjust.log_controls
    ci, few_cluster = inference.ci, inference.few_cluster
    min_n, min_clusters, strict = guards.min_n, guards.min_clusters, guards.strict
    name = f"did_{outcome}"
    require_columns(visits, [outcome, center], "visits")
    ro = rollout_visits(visits, centers, columns=columns)
    df = pd.DataFrame(
        {
            "_y": numeric_outcome(visits, outcome),
            "post": ro["post"],
            center: visits[center],
            month: visits[month],
            "_treated": ro["treated"],
        }
    )
    for c in controls:
        df[c] = visits[c]
    prep = _prepare(df, ["_y"], ["post"], controls, log_controls, center, fe=[month])
    if prep.n_clusters == 1:
        return _cannot_fit(name, _one_center_reason("DiD", prep, centers, columns), len(prep.data), 1, strict)
    bad = _check_size(prep, name, None, min_n, min_clusters, strict, fallback=False)
    if bad:
        return bad
    d = prep.data
    g = df.loc[df["_y"].notna()].assign(_c=lambda x: x[center].astype(str))
    switchers = g.loc[g["_treated"]].groupby("_c")["post"].agg(["min", "max"])
    identified = switchers[(switchers["min"] == 0) & (switchers["max"] == 1)]
    if d["post"].nunique() < 2 or identified.empty:
        return _cannot_fit(
            name,
            "no center has data both before and after its switch to real-time updates",
            len(d),
            prep.n_clusters,
            strict,
        )
    notes = list(prep.notes)
    n_never = int((~g.groupby("_c")["_treated"].first()).sum())
    notes.append(f"{len(identified)} switching center(s) observed before and after, {n_never} never switched")
    if n_never == 0:
        notes.append("no never-switched centers: identified from differences in switch timing only")
    formula = " + ".join(["_y ~ post", *prep.rhs])
    if f"C({_q(center)})" not in prep.rhs:
        formula += f" + C({_q(center)})"
    res, msgs, numeric = _run(lambda: smf.ols(formula, d, eval_env=_FORMULA_ENV).fit(**_fit_kwargs(prep)))
    conv, cn = _convergence(res, msgs, numeric, ["post"])
    notes += cn + [f"center and {month} fixed effects; cluster-robust SEs by {center} (t with {prep.cluster_df} df)"]
    prep.fe_prefixes = (f"C({center})", f"C({month})")
    table = _tidy(res, name, prep, ["post"], conv, "; ".join(notes), ci)
    if few_cluster:
        table, how = _few_cluster_inference(res, prep, table, ["post"], ci)
        notes += how
        table["note"] = "; ".join(notes)
    return ModelResult(
        name,
        table,
        n=len(d),
        n_clusters=prep.n_clusters,
        converged=conv,
        note="; ".join(notes),
        headline=table.loc[table["kind"] == "effect"].reset_index(drop=True),
        fit=res,
    )


def _ev_name(k: int) -> str:
    return f"ev_m{-k}" if k < 0 else f"ev_p{k}"


@former_keywords(columns=RolloutColumns, inference=Inference, guards=Guards)
def event_study(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    window: tuple[int, int] = (-4, 4),
    ref: int = -1,
    columns: RolloutColumns = RolloutColumns(),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> ModelResult:
    """Event study of the switch to real-time updates: one coefficient per month relative to the
    switch month (``window``, end bins collect months beyond it), ``ref`` month fixed at 0;
    center + month fixed effects, cluster-robust CIs by center.

    ``table`` rows of kind ``"effect"`` carry ``rel_month``; the reference month is a row
    with estimate 0 and kind ``"reference"``. Each month's interval and p-value are those of the
    wild cluster bootstrap with fewer than 30 centers (see :func:`did_rollout`). Within one center
    it is not identified (see :func:`did_rollout`).

        >>> event_study(visits, centers, "ltr").headline[["rel_month", "estimate"]]  # doctest: +SKIP
    """
    center, month = columns.center, columns.month
    ci, few_cluster = inference.ci, inference.few_cluster
    min_n, min_clusters, strict = guards.min_n, guards.min_clusters, guards.strict
    lo, hi = window
    if not lo <= ref <= hi:
        raise ValueError(f"ref {ref} is outside the window {window}")
    name = f"event_study_{outcome}"
    require_columns(visits, [outcome, center], "visits")
    ro = rollout_visits(visits, centers, columns=columns)
    rel = ro["rel_month"].clip(lower=lo, upper=hi)
    df = pd.DataFrame({"_y": numeric_outcome(visits, outcome), center: visits[center], month: visits[month]})
    notes: list[str] = []
    if ro["rel_month"].notna().any():
        n_binned = int(((ro["rel_month"] < lo) | (ro["rel_month"] > hi)).sum())
        if n_binned:
            notes.append(f"{n_binned} visits outside the window binned into its end months")
    ks = [k for k in range(lo, hi + 1) if k != ref]
    n_never = int((~ro.groupby(visits[center].astype(str))["treated"].first()).sum())
    if n_never == 0 and lo in ks:
        ks.remove(lo)
        notes.append(f"no never-switched centers: month {lo} (end bin) also held at 0 to identify the model")
    keys = []
    for k in ks:
        col = _ev_name(k)
        df[col] = (rel == k).astype(float).to_numpy()
        keys.append(col)
    prep = _prepare(df, ["_y"], keys, [], (), center, fe=[month])
    if prep.n_clusters == 1:
        return _cannot_fit(
            name,
            _one_center_reason("the event study", prep, centers, columns),
            len(prep.data),
            1,
            strict,
        )
    bad = _check_size(prep, name, None, min_n, min_clusters, strict, fallback=False)
    if bad:
        return bad
    d = prep.data
    empty = [c for c in keys if d[c].sum() == 0]
    if empty:
        notes.append(
            "no data for relative month(s) " + ", ".join(c.replace("ev_m", "-").replace("ev_p", "") for c in empty)
        )
        keys = [c for c in keys if c not in empty]
    if not keys:
        return _cannot_fit(name, "no visits of switching centers inside the window", len(d), prep.n_clusters, strict)
    formula = " + ".join(["_y ~ " + " + ".join(keys), *prep.rhs])
    if f"C({_q(center)})" not in prep.rhs:
        formula += f" + C({_q(center)})"
    res, msgs, numeric = _run(lambda: smf.ols(formula, d, eval_env=_FORMULA_ENV).fit(**_fit_kwargs(prep)))
    conv, cn = _convergence(res, msgs, numeric, keys)
    notes = (
        prep.notes
        + notes
        + cn
        + [
            f"reference month {ref}; center and {month} fixed effects; "
            f"cluster-robust SEs by {center} (t with {prep.cluster_df} df)"
        ]
    )
    prep.fe_prefixes = (f"C({center})", f"C({month})")
    table = _tidy(res, name, prep, keys, conv, "; ".join(notes), ci)
    if few_cluster:
        table, how = _few_cluster_inference(res, prep, table, keys, ci)
        notes += how
        table["note"] = "; ".join(notes)
    kmap = {_ev_name(k): k for k in range(lo, hi + 1)}
    table["rel_month"] = table["term"].map(kmap).astype("Int64")
    ref_row = {
        "term": _ev_name(ref),
        "estimate": 0.0,
        "std_error": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "model": name,
        "kind": "reference",
        "n": len(d),
        "n_clusters": prep.n_clusters,
        "converged": conv,
        "note": "; ".join(notes),
        "rel_month": ref,
    }
    table = finish_table(pd.concat([table, pd.DataFrame([ref_row])], ignore_index=True))
    table["rel_month"] = table["rel_month"].astype("Int64")
    head = table.loc[table["kind"].isin(["effect", "reference"])].sort_values("rel_month").reset_index(drop=True)
    # the switching centers' visits behind each month's coefficient (the reference month's too)
    rel_d = rel.reindex(d.index)
    head["n_month"] = [int((rel_d == k).sum()) if pd.notna(k) else pd.NA for k in head["rel_month"]]
    return ModelResult(
        name, table, n=len(d), n_clusters=prep.n_clusters, converged=conv, note="; ".join(notes), headline=head, fit=res
    )


# ============================================================================ key results
#: Tiers whose visits get in-progress updates (catalog order: none < completion_only < realtime < realtime_photo).
REALTIME_TIERS: tuple[str, ...] = catalog.TIER_ORDER[catalog.TIER_ORDER.index("realtime") :]
#: Parts of the update programme held fixed when one more in-progress update is valued: whether a
#: ready notice was sent (derived by :func:`with_update_parts`) and whether an update carried a photo.
UPDATE_PARTS: tuple[str, ...] = ("ready_notice", "has_photo_update")


def with_update_parts(
    visits: pd.DataFrame, updates: str = "n_proactive_updates", *, in_progress: str = "n_inprogress_updates"
) -> pd.DataFrame:
    """The visits with a ``ready_notice`` column (nullable boolean): a completion notice was sent,
    i.e. there were more proactive updates than in-progress ones.

        >>> with_update_parts(pd.DataFrame({"n_proactive_updates": [0, 3], "n_inprogress_updates": [0, 2]})).ready_notice.tolist()
        [False, True]
    """
    require_columns(visits, [updates, in_progress], "visits")
    a = pd.to_numeric(visits[updates], errors="coerce")
    b = pd.to_numeric(visits[in_progress], errors="coerce")
    bad = (a < b).fillna(False).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{in_progress} ({b.iloc[row]}) exceeds {updates} ({a.iloc[row]})", column=in_progress, row=row)
    ready = (a - b).gt(0).astype("boolean")
    ready[(a.isna() | b.isna()).to_numpy()] = pd.NA
    return visits.assign(ready_notice=ready)


def realtime_visits(visits: pd.DataFrame, tier: str = "tier") -> pd.DataFrame:
    """The visits of the real-time tiers (:data:`REALTIME_TIERS`), where the number of in-progress
    updates follows the repair duration most closely.

        >>> realtime_visits(pd.DataFrame({"tier": ["none", "realtime", "realtime_photo"]})).tier.tolist()
        ['realtime', 'realtime_photo']
    """
    require_columns(visits, [tier], "visits")
    return visits.loc[visits[tier].astype("string").isin(REALTIME_TIERS).fillna(False).to_numpy()].reset_index(
        drop=True
    )


def _used(table: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The names that appear in a term of the fitted model (controls left out for being constant drop out)."""
    terms = " ".join(map(str, table["term"]))
    return [c for c in names if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", terms)]


@former_keywords(adjust=Adjustment, inference=Inference, guards=Guards)
def update_effects(
    visits: pd.DataFrame,
    *,
    updates: str = "n_inprogress_updates",
    parts: Sequence[str] = UPDATE_PARTS,
    h0_rate_ratio: float = 0.5,
    adjust: Adjustment = Adjustment(log_controls=()),
    inference: Inference = Inference(),
    guards: Guards = Guards(),
) -> dict[str, dict[str, Any]]:
    """The two per-update effects of ``results.json``: ``ltr_slope_per_update`` (OLS, LTR points per
    update) and ``complaint_rate_ratio_per_update`` (NB2 rate ratio per update, with the p-value of
    H0 ratio = ``h0_rate_ratio``; the Poisson one when NB2 sits at its boundary, ``model`` says
    which and ``note`` why), both with cluster-robust intervals by center.

    The effect is that of one more in-progress update, holding fixed ``controls`` and the other
    ``parts`` of the programme (ready notice, photo): they come in bundles, and without holding
    them fixed the bundle would be credited to the count. Repair duration enters linearly
    (``log_controls=()``): the LTR penalty and the log complaint rate grow per hour of repair,
    which fits the sample better than ``log1p(minutes)``. A model that cannot be fitted gives
    ``{"estimate": None, "note": why}``. With fewer than ``min_clusters`` centers (a per-center
    report) the models use HC1 errors without clustering, ``adjusted_for`` lists only the
    controls that entered (no ``center`` when there is one center) and ``note`` says so
    (``strict=True`` raises instead).

        >>> update_effects(visits)["complaint_rate_ratio_per_update"]["estimate"]  # doctest: +SKIP
        0.80
    """
    controls = adjust.controls
    v = visits if all(p in visits.columns for p in parts) else with_update_parts(visits)
    ctrl = [c for c in dict.fromkeys([*controls, *parts]) if c != updates]
    kw: dict[str, Any] = dict(adjust=adjust.replace(controls=ctrl), inference=inference)
    return update_effects_from(
        ltr_ols(v, updates, "linear", guards=guards, **kw),
        complaint_models(v, updates, h0_rate_ratio=h0_rate_ratio, guards=guards.replace(maxiter=COUNT_MAXITER), **kw),
        ctrl,
    )


def update_effects_from(
    ltr: ModelResult | NotProvided, comp: ModelResult | NotProvided, controls: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The entries of :func:`update_effects` from models already fitted: the linear
    :func:`ltr_ols` and the :func:`complaint_models` of the same visits and ``controls``.
    A model given as a :class:`~cxlib.results.NotProvided` (its input table was not given)
    gives the "not provided" marker instead of an estimate.

        >>> update_effects_from(ltr_linear, complaints, controls)["ltr_slope_per_update"]  # doctest: +SKIP
    """
    ctrl = list(controls)
    if isinstance(ltr, NotProvided):
        slope: dict[str, Any] = ltr.record()
    elif ltr.ok:
        h = ltr.headline.iloc[0]
        slope = {
            "estimate": float(h["estimate"]),
            "ci_low": float(h["ci_low"]),
            "ci_high": float(h["ci_high"]),
            "adjusted_for": _used(ltr.table, ctrl),
        }
        if isinstance(h.get("inference"), str):
            slope["inference"] = h["inference"]
        if ltr.fallback:
            slope["note"] = ltr.fallback
    elif ltr.shortage is not None:
        slope = ltr.shortage.record()
    else:
        slope = {"estimate": None, "note": ltr.note or "the LTR model did not converge"}
    nb = (
        None
        if isinstance(comp, NotProvided) or "model" not in comp.headline.columns
        else comp.headline.set_index("model")
    )
    if isinstance(comp, NotProvided):
        rr: dict[str, Any] = comp.record()
    elif comp.shortage is not None:
        rr = comp.shortage.record()
    elif comp.note.startswith("cannot fit") or nb is None or "nb2" not in nb.index:
        rr = {"estimate": None, "note": comp.note}
    else:
        model = "poisson" if "quoted" in nb.columns and bool(nb.loc["poisson", "quoted"]) else "nb2"
        h = nb.loc[model]
        what = "negative binomial model" if model == "nb2" else "Poisson model"
        if not bool(h["converged"]):
            rr = {"estimate": None, "note": f"{what}: {h['note']}"}
        else:
            rr = {
                "estimate": float(h["rate_ratio"]),
                "ci_low": float(h["ci_low"]),
                "ci_high": float(h["ci_high"]),
                "p_value_vs_half": float(h["p_value_h0"]),
                "model": model,
                "adjusted_for": _used(comp.table.loc[comp.table["model"] == model], ctrl),
            }
            why = []
            if model == "poisson":
                reason = str(nb.loc["nb2", "boundary_reason"])
                why.append(
                    f"negative binomial at its boundary, {reason}: "
                    + _poisson_quoted(reason, "HC1" if comp.fallback else "cluster-robust")
                )
            if comp.fallback:
                why.append(comp.fallback)
            if why:
                rr["note"] = "; ".join(why)
    return {"ltr_slope_per_update": slope, "complaint_rate_ratio_per_update": rr}


def effects_table(effects: dict[str, dict[str, Any]], *, lang: catalog.Lang = "both") -> pd.DataFrame:
    """The entries of :func:`update_effects_from` as a table for the reader: one row per effect
    (``effect, estimate, ci_low, ci_high, p_value_vs_half, model, adjusted_for, note``); an effect
    the data were too few for, or whose table was not given, has no numbers and its note says why
    in ``lang``.

        >>> effects_table({"ltr_slope_per_update": {"computed": False, "n": 5, "need": 30, "reason": "…"}},
        ...               lang="zh").note.iloc[0]
        '样本不足：n = 5 行完整数据，该模型至少需要 30'
    """
    rows = []
    for key, e in effects.items():
        note = e.get("note") or ""
        if e.get("computed") is False:
            note = too_few(e["n"], e["need"], MODEL_NOTE, unit=ROWS, lang=lang).text()
        elif e.get("provided") is False:
            note = NotProvided(tuple(e.get("missing") or ()), lang).text()
        else:
            note = note_text(note, lang=lang) if lang != "en" else note
        rows.append(
            {
                "effect": key,
                "estimate": e.get("estimate"),
                "ci_low": e.get("ci_low"),
                "ci_high": e.get("ci_high"),
                "p_value_vs_half": e.get("p_value_vs_half"),
                "model": e.get("model"),
                "adjusted_for": e.get("adjusted_for"),
                "note": note,
            }
        )
    return pd.DataFrame(
        rows, columns=["effect", "estimate", "ci_low", "ci_high", "p_value_vs_half", "model", "adjusted_for", "note"]
    )


def _did_entry(res: ModelResult | NotProvided) -> dict[str, Any]:
    if isinstance(res, NotProvided):
        return res.record()
    if not res.ok:
        return {"estimate": None, "note": res.note or "did not converge"}
    h = res.headline.iloc[0]
    out = {
        "estimate": float(h["estimate"]),
        "ci_low": float(h["ci_low"]),
        "ci_high": float(h["ci_high"]),
        "p_value": float(h["p_value"]),
        "n_clusters": None if res.n_clusters is None else int(res.n_clusters),
    }
    if isinstance(h.get("inference"), str):
        out["inference"] = h["inference"]
    return out


def rollout_effects(
    did_ltr: ModelResult | NotProvided, did_complained: ModelResult | NotProvided
) -> dict[str, dict[str, Any]]:
    """The ``did_realtime_effect`` entry of ``results.json`` from the two :func:`did_rollout` results:
    ``{ltr: {estimate, ci_low, ci_high, p_value, n_clusters}, complained: {…}}``, or
    ``{"estimate": None, "note": why}`` for a model that could not be fitted and the "not
    provided" marker for one whose table was not given (a :class:`~cxlib.results.NotProvided`).

        >>> rollout_effects(did_rollout(visits, centers), did_rollout(visits, centers, "complained"))  # doctest: +SKIP
    """
    return {"ltr": _did_entry(did_ltr), "complained": _did_entry(did_complained)}


@former_keywords(columns=RolloutColumns)
def rollout_overview(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    *,
    in_progress: str = "n_inprogress_updates",
    columns: RolloutColumns = RolloutColumns(),
) -> pd.DataFrame:
    """Per center (sorted): the date it switched to real-time updates (``None`` if never), its visits
    before and after the switch in the data, and the share of visits with an in-progress update
    before and after, so that one sees who switched, when, and whether practice changed. Without
    a touchpoint log (``in_progress`` unknown for every visit) the two share columns are left out.

        >>> rollout_overview(visits, centers).columns.tolist()[:3]  # doctest: +SKIP
        ['center', 'realtime_since', 'visits_before']
    """
    center, center_id, realtime_since = columns.center, columns.center_id, columns.realtime_since
    require_columns(visits, [in_progress], "visits")
    ro = rollout_visits(visits, centers, columns=columns)
    c = centers.drop_duplicates(center_id)
    since = pd.Series(
        pd.to_datetime(c[realtime_since], errors="coerce").to_numpy(), index=c[center_id].astype(str).to_numpy()
    )
    upd = pd.to_numeric(visits[in_progress], errors="coerce").astype("float64").gt(0)
    d = pd.DataFrame(
        {
            "center": visits[center].astype(str).to_numpy(),
            "post": ro["post"].to_numpy() == 1,
            "upd": upd.to_numpy(dtype=bool),
        }
    )
    rows = []
    for cid in sorted(since.index):
        part = d.loc[d["center"] == cid]
        pre, post = part.loc[~part["post"]], part.loc[part["post"]]
        s = since[cid]
        rows.append(
            {
                "center": cid,
                "realtime_since": None if pd.isna(s) else pd.Timestamp(s).strftime("%Y-%m-%d"),
                "visits_before": len(pre),
                "visits_after": len(post),
                "share_updated_before": float(pre["upd"].mean()) if len(pre) else np.nan,
                "share_updated_after": float(post["upd"].mean()) if len(post) else np.nan,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "center",
            "realtime_since",
            "visits_before",
            "visits_after",
            "share_updated_before",
            "share_updated_after",
        ],
    )
    if len(visits) and visits[in_progress].isna().all():
        out = out.drop(columns=["share_updated_before", "share_updated_after"])
    return out.astype({"visits_before": "int64", "visits_after": "int64"})


def _scale_of(model: str) -> str:
    if model.startswith(("promoter_logit", "detractor_logit")):
        return "probability per update (AME)"
    if model == "ltr_ordinal":
        return "log odds of a higher LTR"
    if model in ("poisson", "nb2"):
        return "rate ratio"
    if model.endswith("_complained"):
        return "share of visits"
    return "LTR points"


def report_table(
    *results: ModelResult | NotProvided, digits: int = 3, lang: catalog.Lang | None = None
) -> pd.DataFrame | NotComputed:
    """The headline rows of several model results in one tidy, rounded table: ``model, term,
    scale, estimate, ci_low, ci_high, p_value`` (plus ``p_value_vs_half`` for complaint models),
    ``n, n_clusters, note``. A result that could not be fitted shows its reason in ``note``; a
    :class:`~cxlib.results.NotProvided` (the model's table was not given) a row without numbers
    whose ``note`` says "未提供数据 / not provided".

    When every model was too few rows to fit, the table is the first one's "样本不足（n = …）" note
    instead. With ``lang``, the notes are in that language (:func:`note_text`).

        >>> report_table(ltr_ols(visits), complaint_models(visits))  # doctest: +SKIP
    """
    shortages = [r.shortage for r in results if isinstance(r, ModelResult) and r.shortage is not None]
    if results and len(shortages) == len(results):
        return shortages[0].in_lang(lang or "both")
    frames = []
    for r in results:
        if isinstance(r, NotProvided):
            frames.append(
                pd.DataFrame(
                    {
                        "model": [""],
                        "term": ["(not provided)"],
                        "note": [r.short()],
                        "n": [pd.NA],
                        "n_clusters": [pd.NA],
                    }
                )
            )
            continue
        h = r.headline if len(r.headline.columns) else r.table  # a result made without a headline
        h = h.copy()
        if "rate_ratio" in h.columns:
            h = h.rename(columns={"rate_ratio": "estimate", "p_value_h0": "p_value_vs_half"})
        if "model" not in h.columns:
            h["model"] = r.model
        frames.append(h)
    out = pd.concat(frames, ignore_index=True)
    out["scale"] = [
        ("" if str(t) in ("(cannot fit)", "(not provided)") else _scale_of(str(m)))
        for m, t in zip(out["model"], out["term"])
    ]
    for c in ("estimate", "ci_low", "ci_high", "p_value"):
        if c not in out.columns:
            out[c] = np.nan
    cols = [
        "model",
        "term",
        "scale",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        *(["p_value_vs_half"] if "p_value_vs_half" in out.columns else []),
        "n",
        "n_clusters",
        "note",
    ]
    out = out[cols]
    num = [c for c in ("estimate", "ci_low", "ci_high", "p_value", "p_value_vs_half") if c in out.columns]
    out[num] = out[num].astype(float).round(digits)
    out["n_clusters"] = out["n_clusters"].astype("Int64")
    if lang is not None:
        out["note"] = [n if pd.isna(n) else note_text(str(n), lang=lang) for n in out["note"]]
    return out.reset_index(drop=True)


# ============================================================================ figures
def plot_coefficients(
    table: pd.DataFrame,
    *,
    terms: Sequence[str] | None = None,
    kinds: Sequence[str] = ("effect", "average_marginal_effect", "control"),
    lang: catalog.Lang = "both",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Forest plot of coefficients with intervals, one row per term (and model), on ``ax`` or on
    a figure of its own.

    ``table`` is a tidy table (``ModelResult.table`` / ``headline``, or several concatenated);
    by default fixed effects, intercepts and thresholds are left out. Returns the Figure; when no
    coefficient could be estimated, a figure that states the models' notes (why not).

        >>> t = pd.DataFrame({"term": ["n_proactive_updates"], "estimate": [0.3], "ci_low": [0.1],
        ...                   "ci_high": [0.5], "model": ["ltr"]})
        >>> plot_coefficients(t, lang="en").axes[0].get_xlabel()
        'Estimate (95% CI)'
    """
    from cxlib import plotting

    t = table.copy()
    if terms is not None:
        t = t.loc[t["term"].isin(terms)]
    elif "kind" in t.columns:
        t = t.loc[t["kind"].isin(kinds)]
    t = t.loc[t["estimate"].notna()]
    if t.empty:
        notes = [str(n) for n in table.get("note", pd.Series(dtype=str)).dropna() if str(n)]
        if not notes:
            raise DataError("no coefficients to plot")
        return plotting.note_figure(
            "; ".join(dict.fromkeys(notes)), title or labels.title("coef_title", lang=lang), ax=ax
        )
    own = ax is None
    with plotting.drawing():
        plotting.ensure_theme()
        models = list(dict.fromkeys(t["model"]))
        shown = list(dict.fromkeys(t["term"]))
        fig, ax = plotting.figure_for(ax, (7, 0.45 * len(shown) * max(1, len(models)) + 1.5), layout=None)
        step = 0.8 / max(1, len(models))
        for i, m in enumerate(models):
            part = t.loc[t["model"] == m].set_index("term").reindex(shown)
            y = np.arange(len(shown)) + (i - (len(models) - 1) / 2) * step
            est = part["estimate"].to_numpy(dtype=float)
            err = np.vstack([est - part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float) - est])
            ax.errorbar(est, y, xerr=err, fmt="o", capsize=3, label=str(m))
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(np.arange(len(shown)), shown)
        ax.invert_yaxis()
        ax.set_xlabel(labels.text("estimate_ci", lang=lang))
        ax.set_title(title or labels.title("coef_title", lang=lang))
        if len(models) > 1:
            ax.legend(frameon=False)
        if own:
            fig.tight_layout()
    return fig


def plot_event_study(
    result: ModelResult | pd.DataFrame,
    *,
    lang: catalog.Lang = "both",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Event-study coefficients with intervals by month relative to the rollout, on ``ax`` or on
    a figure of its own (for a result that could not be fitted, a figure stating its note).

        >>> ev = pd.DataFrame({"rel_month": [-1, 0, 1], "estimate": [0.0, 0.4, 0.5], "ci_low": [-0.2, 0.1, 0.2],
        ...                    "ci_high": [0.2, 0.7, 0.8]})
        >>> plot_event_study(ev, lang="en").axes[0].get_xlabel()
        'Months relative to rollout'
    """
    from cxlib import plotting

    t = result.headline if isinstance(result, ModelResult) else result
    if "rel_month" not in t.columns or t["estimate"].notna().sum() == 0:
        if isinstance(result, ModelResult) and result.note:
            return plotting.note_figure(result.note, title or labels.title("event_title", lang=lang), ax=ax)
        raise DataError("no event-study coefficients to plot")
    t = t.loc[t["rel_month"].notna()].sort_values("rel_month")
    own = ax is None
    with plotting.drawing():
        plotting.ensure_theme()
        fig, ax = plotting.figure_for(ax, (7, 4), layout=None)
        x = t["rel_month"].to_numpy(dtype=float)
        est = t["estimate"].to_numpy(dtype=float)
        lo = np.where(np.isnan(t["ci_low"].to_numpy(dtype=float)), est, t["ci_low"].to_numpy(dtype=float))
        hi = np.where(np.isnan(t["ci_high"].to_numpy(dtype=float)), est, t["ci_high"].to_numpy(dtype=float))
        ax.errorbar(x, est, yerr=error_bars(est, lo, hi), fmt="o-", capsize=3)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(-0.5, color="grey", lw=0.8, ls="--")
        n_month = t["n_month"].tolist() if "n_month" in t.columns else [None] * len(x)
        if "n_month" in t.columns:
            plotting.mark_small(ax, x, est, t["n_month"], plotting.TIER_COLORS["realtime"], lang=lang)
        ax.set_xticks(x, [plotting.with_n(str(int(v)), k) for v, k in zip(x, n_month)])
        ax.set_xlabel(labels.text("rel_month", lang=lang))
        ax.set_ylabel(labels.text("estimate_ci", lang=lang))
        ax.set_title(title or labels.title("event_title", lang=lang))
        if own:
            fig.tight_layout()
    return fig


# ============================================================================ notes in Chinese
def _var(name: str) -> str:
    """A model variable by its Chinese label (the catalog's term labels), else as written."""
    return catalog.value_label("term", name, lang="zh")


def _column(name: str) -> str:
    """A data column by its Chinese label (the catalog's column labels), else as a model variable."""
    label = catalog.COLUMN_LABELS.get(name)
    return label.zh if label is not None else _var(name)


def _lvl(column: str, value: str) -> str:
    return {"True": "是", "False": "否"}.get(value) or catalog.value_label(column, value, lang="zh")


#: the clauses of a model note in Chinese: (pattern of the English clause, its Chinese)
_NOTE_ZH: tuple[tuple[re.Pattern[str], Any], ...] = tuple(
    (re.compile(p + r"(?=;\s|\.?$)", re.I), z)
    for p, z in (
        (r"cannot fit: (?P<r>.+)", lambda m: "无法拟合：" + note_text(m["r"], lang="zh")),
        (
            r"only (?P<n>\d+) complete rows \(need at least (?P<k>\d+)\)",
            lambda m: f"样本不足（n = {m['n']}），至少需要 {m['k']} 条完整记录",
        ),
        (
            r"only (?P<n>\d+) complete rows for about (?P<k>\d+) parameters",
            lambda m: f"只有 {m['n']} 行完整数据，参数约 {m['k']} 个",
        ),
        (
            r"only (?P<g>\d+) cluster\(s\) after dropping missing rows; cluster-robust inference needs at least (?P<k>\d+)",
            lambda m: f"剔除缺失行后只剩 {m['g']} 个聚类，聚类稳健推断至少需要 {m['k']} 个",
        ),
        (r"no variation in (?P<c>\S+)", lambda m: f"{_var(m['c'])}没有变化"),
        (r"no complaints in the data", lambda m: "数据中没有投诉"),
        (r"(?P<c>\S+) is constant and was left out", lambda m: f"{_var(m['c'])}为常数，已剔除"),
        (r"(?P<c>\S+) has a single value and was left out", lambda m: f"{_var(m['c'])}只有一个取值，已剔除"),
        (
            r"(?P<c>\S+) = (?P<v>.+?) predicts the outcome perfectly \((?P<w>[^)]*)\): its (?P<k>\d+) rows left out",
            lambda m: (
                f"{_var(m['c'])} = {_lvl(m['c'], m['v'])} 完全预测了结果（"
                + ("没有一张工单发生" if m["w"].startswith("no visit") else "每张工单都发生")
                + f"）：其 {m['k']} 行已剔除"
            ),
        ),
        (
            r"one (?P<c>\S+)(?: \((?P<id>[^)]*)\))?: HC1 errors, no clustering(?P<fe>, no \S+ fixed effect)?(?P<net>; the "
            r"network estimate with cluster-robust errors is in the all-centers report)?",
            lambda m: (
                "只有一个"
                + _var(m["c"])
                + ("（" + m["id"] + "）" if m["id"] else "")
                + "：使用 HC1 标准误，不聚类"
                + ("，不含" + _var(m["c"]) + "固定效应" if m["fe"] else "")
                + ("；聚类稳健的全网络估计见全网络报告" if m["net"] else "")
            ),
        ),
        (
            r"HC1 errors, no clustering(?P<fe>, no (?P<c>\S+) fixed effect)?(?P<net>; the network estimate with "
            r"cluster-robust errors is in the all-centers report)?",
            lambda m: (
                "使用 HC1 标准误，不聚类"
                + ("，不含" + _var(m["c"]) + "固定效应" if m["fe"] else "")
                + ("；聚类稳健的全网络估计见全网络报告" if m["net"] else "")
            ),
        ),
        (r"HessianInversionWarning: .*?(?=;\s|$)", lambda m: "Hessian 矩阵求逆失败（HessianInversionWarning）"),
        (r"ConvergenceWarning: .*?(?=;\s|$)", lambda m: "最大似然优化未收敛（ConvergenceWarning）"),
        (
            r"only (?P<g>\d+) (?P<c>\S+) clusters \(cluster-robust errors need at least (?P<k>\d+)\): HC1 errors, no clustering",
            lambda m: (
                f"只有 {m['g']} 个{_var(m['c'])}聚类（聚类稳健标准误至少需要 {m['k']} 个）：使用 HC1 标准误，不聚类"
            ),
        ),
        (
            r"cluster-robust SEs by (?P<c>\S+) \(t with (?P<df>\d+) df\)",
            lambda m: f"按{_var(m['c'])}聚类的稳健标准误（t 分布，自由度 {m['df']}）",
        ),
        (
            r"few clusters \((?P<g>\d+)\): p-value and (?P<c>\d+%) interval of the effect from the wild cluster "
            r"bootstrap \(restricted, (?P<w>Webb|Rademacher) weights, (?:all (?P<b>\d+)\^(?P<e>\d+) = (?P<n>[\d,]+) weight "
            r"vectors enumerated|(?P<d>[\d,]+) weight vectors drawn), interval by test inversion\)",
            lambda m: (
                f"聚类较少（{m['g']} 个）：效应的 p 值与 {m['c']} 置信区间取自野聚类自助法（"
                f"施加原假设，{m['w']} 权重，"
                + (f"穷举全部 {m['b']}^{m['e']} = {m['n']} 个权重向量" if m["n"] else f"随机抽取 {m['d']} 个权重向量")
                + "，区间由检验反演求得）"
            ),
        ),
        (r"CR1 and CR2 \(Satterthwaite df\) alongside", lambda m: "CR1 与 CR2（Satterthwaite 自由度）的结果并列给出"),
        (r"CR1 quoted \((?P<g>\d+) clusters\)", lambda m: f"引用 CR1 结果（{m['g']} 个聚类）"),
        (r"CR2 with Satterthwaite df alongside", lambda m: "CR2（Satterthwaite 自由度）的结果并列给出"),
        (r"alpha estimated = (?P<a>\S+)", lambda m: f"离散参数 alpha 估计为 {m['a']}"),
        (
            r"did not converge(?: after (?P<k>\d+) iterations)?",
            lambda m: "未收敛" + (f"（迭代 {m['k']} 次后）" if m["k"] else ""),
        ),
        (r"some estimates are not finite", lambda m: "部分估计值不是有限数"),
        (
            r"standard errors of the effect are not finite \(Hessian not invertible\)",
            lambda m: "效应的标准误不是有限数（Hessian 矩阵不可逆）",
        ),
        (
            r"(?:at its boundary: |quoted, NB2 being at its boundary: |negative binomial at its boundary, )"
            r"(?P<b>overdispersion estimated at 0|the fit is unreliable) \((?P<d>[^)]*)\)(?:: (?P<r>.+))?",
            lambda m: (
                "负二项模型处于参数边界："
                + ("过度离散估计为 0" if m["b"].startswith("over") else "拟合不可靠")
                + "（"
                + (f"alpha = {m['d'].split('alpha = ')[-1]}" if "alpha = " in m["d"] else m["d"].split(":")[0])
                + "）"
                + ("：" + note_text(m["r"], lang="zh") if m["r"] else "")
            ),
        ),
        (r"NB2 reduces to Poisson", lambda m: "NB2 退化为泊松模型"),
        (
            r"the Poisson (?P<w>model|rate ratio) with (?P<e>cluster-robust|HC1) errors is quoted",
            lambda m: (
                "引用采用"
                + ("聚类稳健" if m["e"] == "cluster-robust" else " HC1 ")
                + "标准误的泊松模型"
                + ("" if m["w"] == "model" else "率比")
            ),
        ),
        (
            r"proportional odds: Brant χ² = (?P<x>[\d.]+), df = (?P<df>\d+), (?P<p>p [<=] [\d.]+), (?P<v>holds|rejected)"
            r"(?: — not parallel: (?P<bad>.+?))?(?: — outcome categories (?P<m>.+?) merged for the test)?(?=;\s|$)",
            lambda m: (
                f"比例优势检验：Brant χ² = {m['x']}，自由度 {m['df']}，{m['p']}，"
                + ("比例优势假设成立" if m["v"] == "holds" else "比例优势假设不成立")
                + (f"（斜率不平行：{m['bad']}）" if m["bad"] else "")
                + (f"；检验时合并了结果类别 {m['m']}" if m["m"] else "")
            ),
        ),
        (r"proportional odds not tested: (?P<e>.+?)(?=;\s|$)", lambda m: f"未能检验比例优势假设（{m['e']}）"),
        (r"this center never switched to real-time updates", lambda m: "该门店从未上线实时进度"),
        (
            r"(?P<w>.+?) needs switching and non-switching centers; this selection has one center — see the all-centers "
            r"report(?: \((?P<c>\S+) switched to real-time updates on (?P<d>[\d-]+)\))?",
            lambda m: (
                "本报告只含一家门店，需要已上线与未上线的门店作对比，见全网络报告"
                + (f"（{m['c']} 于 {m['d']} 上线实时进度）" if m["c"] else "")
            ),
        ),
        (
            r"(?P<k>\d+) switching center\(s\) observed before and after, (?P<n>\d+) never switched",
            lambda m: f"{m['k']} 家切换门店在切换前后都有数据，{m['n']} 家从未切换",
        ),
        (
            r"no never-switched centers: month (?P<m>\S+) \(end bin\) also held at 0 to identify the model",
            lambda m: f"没有从未切换的门店：端点月份 {m['m']} 也固定为 0 以识别模型",
        ),
        (
            r"no center has data both before and after its switch to real-time updates",
            lambda m: "没有门店在切换到实时进度前后都有数据",
        ),
        (
            r"dropped (?P<k>\d+) of (?P<n>\d+) rows with missing values",
            lambda m: f"{m['n']} 行中有 {m['k']} 行含缺失值，已剔除",
        ),
        (r"center and (?P<m>\S+) fixed effects", lambda m: f"含服务中心与{_column(m['m'])}固定效应"),
        (r"reference month (?P<r>-?\d+)", lambda m: f"参照月 {m['r']}"),
        # the staggered-DiD notes of cxlib.did
        (
            r"(?P<k>\d+) visits in a switch month before the switch date left out",
            lambda m: f"切换当月、切换日期之前的 {m['k']} 张工单已剔除",
        ),
        (
            r"(?P<s>\d+) switching center\(s\), (?P<n>\d+) never switched, (?P<c>\d+) centers",
            lambda m: f"{m['s']} 家门店切换，{m['n']} 家从未切换，共 {m['c']} 家",
        ),
        (
            r"each switch month has one center, so its visits are not clustered by center \(the randomisation test over "
            r"switch dates is the check that does not assume independence\)",
            lambda m: "每个切换月份只有一家门店，因此不按门店聚类（不依赖独立性假设的检验是对切换日期的随机化检验）",
        ),
        (
            r"Callaway-Sant'Anna, (?P<c>not-yet-treated|never-treated) controls, (?P<k>\d+) post-treatment ATT\(g,t\) "
            r"averaged by cohort size",
            lambda m: (
                f"Callaway–Sant'Anna 估计，以{'尚未切换' if m['c'].startswith('not') else '从未切换'}的门店为对照，"
                f"{m['k']} 个切换后的 ATT(g,t) 按组规模加权平均"
            ),
        ),
        (
            r"quoted: the randomisation interval and p-value \((?:all (?P<k>[\d,]+) assignments of the (?P<d>\d+) switch "
            r"dates to the (?P<c>\d+) centers|(?P<r>[\d,]+) random assignments \(seed (?P<s>\d+)\) of the (?P<d2>\d+) switch "
            r"dates); one effect for all switched visits\); the independent-visits interval alongside",
            lambda m: (
                "引用随机化区间与 p 值（"
                + (
                    f"{m['d']} 个切换日期在 {m['c']} 家门店之间的全部 {m['k']} 种分配"
                    if m["k"]
                    else f"{m['d2']} 个切换日期的 {m['r']} 种随机分配，种子 {m['s']}"
                )
                + "；假设所有切换后的工单效应相同）；工单相互独立时的区间并列给出"
            ),
        ),
        (
            r"visits treated as independent \(influence-function standard errors, normal intervals\)",
            lambda m: "工单视为相互独立（影响函数标准误，正态区间）",
        ),
        (
            r"influence-function standard errors clustered by (?P<g>\d+) clusters, normal intervals",
            lambda m: f"影响函数标准误按 {m['g']} 个聚类计算，正态区间",
        ),
        (
            r"wild cluster bootstrap of the influence functions over (?P<g>\d+) clusters \((?:all (?P<n>[\d,]+) Webb weight "
            r"vectors|(?P<d>[\d,]+) Webb weight vectors drawn \(seed (?P<s>\d+)\))\)",
            lambda m: (
                f"对 {m['g']} 个聚类的影响函数做野聚类自助法（"
                + (
                    f"穷举全部 {m['n']} 个 Webb 权重向量"
                    if m["n"]
                    else f"随机抽取 {m['d']} 个 Webb 权重向量，种子 {m['s']}"
                )
                + "）"
            ),
        ),
        (
            r"Sun-Abraham interaction-weighted, (?P<c>never-treated|last-treated cohort as) controls, unit and period fixed "
            r"effects, reference period (?P<r>-?\d+)",
            lambda m: (
                f"Sun–Abraham 交互加权估计，以{'从未切换的门店' if m['c'].startswith('never') else '最后切换的一组'}为对照，"
                f"含个体与时期固定效应，参照期 {m['r']}"
            ),
        ),
        (
            r"heteroskedasticity-robust \(HC1\), visits treated as independent, normal intervals",
            lambda m: "异方差稳健标准误（HC1），工单视为相互独立，正态区间",
        ),
        (
            r"cluster-robust \(CR1\) by (?P<c>\S+), t with (?P<df>\d+) df",
            lambda m: f"按{_var(m['c'])}聚类的稳健标准误（CR1，t 分布，自由度 {m['df']}）",
        ),
        (
            r"no never-treated units: the last-treated cohort \((?P<g>[^)]*)\) is the control, its periods from its "
            r"treatment on dropped",
            lambda m: f"没有从未切换的个体：以最后切换的一组（{m['g']}）为对照，其切换后的时期已剔除",
        ),
        (
            r"cohorts treated after the last period counted as not \(yet\) treated",
            lambda m: "在最后一期之后才切换的组视为尚未切换",
        ),
        (
            r"(?P<k>\d+) rows of cohorts treated in the first period dropped",
            lambda m: f"第一期就已切换的组的 {m['k']} 行已剔除",
        ),
        (
            r"ATT\((?P<g>[^,]+), (?P<t>[^)]+)\) not estimated: an empty cell",
            lambda m: f"ATT({m['g']}, {m['t']}) 无法估计：单元格无数据",
        ),
    )
)


def note_text(note: str, *, lang: catalog.Lang = "zh") -> str:
    """A model's note (clauses joined by "; ") in ``lang``: each clause in Chinese where it is one
    of the notes this module writes (others, such as a statsmodels warning, stay as written);
    ``both`` gives the Chinese, then the English.

        >>> note_text("one center (SH-JQ): HC1 errors, no clustering; cannot fit: only 5 complete rows (need at least 30)")
        '只有一个服务中心（SH-JQ）：使用 HC1 标准误，不聚类；无法拟合：样本不足（n = 5），至少需要 30 条完整记录'
    """
    text = str(note or "").strip()
    if lang == "en" or not text:
        return text
    clauses: list[str] = []
    pos = 0
    while pos < len(text):
        for pattern, zh in _NOTE_ZH:
            m = pattern.match(text, pos)
            if m:
                clauses.append(zh(m))
                pos = m.end()
                break
        else:  # a clause this module did not write (a statsmodels warning): as written
            end = text.find("; ", pos)
            end = len(text) if end < 0 else end
            clauses.append(text[pos:end])
            pos = end
        pos = len(text) if text.startswith(".", pos) and pos == len(text) - 1 else pos
        while text.startswith("; ", pos):
            pos += 2
    out = "；".join(c for i, c in enumerate(clauses) if c not in clauses[:i])
    return out if lang == "zh" else f"{out} / {text}"
