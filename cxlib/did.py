"""Heterogeneity-robust difference-in-differences for a staggered rollout.

With staggered switch dates and effects that grow with time since the switch, the two-way
fixed-effects (TWFE) coefficient of :func:`cxlib.models.did_rollout` is a weighted average whose
weights can be negative, and :func:`cxlib.models.event_study` is the same regression with the same
problem. This module estimates what TWFE is meant to estimate without that bias:

* :func:`callaway_santanna`: group-time effects ATT(g, t) of Callaway & Sant'Anna (2021) for
  repeated cross-sections under unconditional parallel trends, each a 2×2 difference of cell means
  (cohort ``g`` at ``t`` and at its base period against the never-treated or the not-yet-treated),
  aggregated like R ``did::aggte``: ``simple`` (post-treatment cells weighted by cohort size) and
  ``dynamic`` (event study by periods since adoption), with the Wald pre-trend test of R ``did``.
* :func:`sun_abraham`: the interaction-weighted event study of Sun & Abraham (2021), a regression
  with cohort × relative-period interactions and unit + period fixed effects, the never-treated (or
  the last-treated cohort) as control, aggregated like ``fixest::sunab``.
* :func:`rollout_att`, :func:`rollout_sun_abraham`: both on the visits and ``centers.realtime_since``,
  with the switch timing of :func:`cxlib.models.did_rollout`.
* :func:`randomization_test`: the p-value of the overall ATT and of TWFE over every assignment of the
  switch dates to the centers (7 centers, 4 dates: 840 assignments).
* :func:`twfe_weights` and :func:`verdict`: whether TWFE can be trusted here (negative weights, the
  gap between TWFE and the robust ATT against its interval, the pre-trend test), in words.

Inference. Every estimate is linear in the outcomes, so its influence function (IF) per row is
exact: ``estimate − truth = Σ IF``. Standard errors sum the IF within clusters (``cluster``) or use
one row per cluster (``cluster=None``). With clusters, intervals and p-values come from a wild
(multiplier) bootstrap of the cluster sums with Webb's six-point weights; when ``6**G`` is at most
:data:`ENUMERATE_MAX` every weight vector is enumerated, so the result has no simulation noise
(else :data:`DRAWS` vectors are drawn with ``seed``). Without clusters, intervals are normal.

In the rollout every switch date has a single center, so the cluster sum of a switching center's
IF is exactly zero (its cohort's cell means come from that center alone): clustering by center
would leave out the switching centers' own sampling variation and give intervals far too narrow.
The rollout functions therefore treat visits as independent (each visit its own cluster), and
:func:`randomization_test` supplies the design-based check that does not assume it.

    >>> from cxlib import did
    >>> res = did.rollout_att(visits, centers, "ltr", control_group="not_yet_treated")  # doctest: +SKIP
    >>> res.headline[["estimate", "ci_low", "ci_high"]]                                 # doctest: +SKIP
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import catalog, labels
from cxlib import inference as cluster_inference
from cxlib.errors import DataError, require_columns
from cxlib.estimation import Inference, RolloutColumns, former_keywords
from cxlib.models import ModelResult, cannot_fit_table, finish_table, numeric_outcome, one_center_reason, rollout_visits
from cxlib.progress import track

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ControlGroup = Literal["never_treated", "not_yet_treated"]

#: Webb's six-point weights (mean 0, variance 1, symmetric).
WEBB = cluster_inference.WEBB_VALUES
#: Enumerate all ``6**G`` Webb weight vectors up to this many (G ≤ 7), else draw :data:`DRAWS`.
ENUMERATE_MAX = 6**7
DRAWS = 9999
#: Columns of :attr:`StaggeredResult.cells` and of the event-study table.
CELL_COLUMNS = (
    "group",
    "time",
    "base_time",
    "rel_period",
    "post",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_control",
    "weight",
)
EVENT_COLUMNS = ("rel_period", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n", "n_cohorts")


# ============================================================================ result object
@dataclass
class StaggeredResult(ModelResult):
    """A heterogeneity-robust DiD: a :class:`~cxlib.models.ModelResult` (``headline`` holds the
    overall ATT, so reports and findings read it like the TWFE result) plus

    ``estimator`` ("callaway_santanna" / "sun_abraham"), ``control_group``, ``cells`` (one row per
    ATT(g, t) or cohort × relative period: :data:`CELL_COLUMNS`), ``event`` (the dynamic
    aggregation: :data:`EVENT_COLUMNS`), ``pretest`` (``statistic, df, p_value, method``) and
    ``inference`` (which interval is quoted, in words).

        >>> StaggeredResult("cs_ltr", pd.DataFrame(), note="cannot fit: one center").ok
        False
    """

    estimator: str = ""
    control_group: str = ""
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    event: pd.DataFrame = field(default_factory=pd.DataFrame)
    pretest: dict[str, Any] = field(default_factory=dict)
    inference: str = ""

    def record(self) -> dict[str, Any]:
        """The entry of ``results.json``: overall estimate, interval, p, n, centers, estimator,
        control group, inference, pre-trend p-value; ``{"estimate": None, "note": why}`` when not fitted.

            >>> StaggeredResult("cs_ltr", pd.DataFrame(), note="cannot fit: one center").record()
            {'estimate': None, 'note': 'cannot fit: one center'}
        """
        if not self.ok:
            return {"estimate": None, "note": self.note or "not estimated"}
        h = self.headline.iloc[0]
        return {
            "estimate": float(h["estimate"]),
            "ci_low": float(h["ci_low"]),
            "ci_high": float(h["ci_high"]),
            "p_value": float(h["p_value"]),
            "n": int(self.n),
            "n_clusters": self.n_clusters,
            "estimator": self.estimator,
            "control_group": self.control_group,
            "inference": self.inference,
            "pretrend_p_value": _float_or_none(self.pretest.get("p_value")),
        }


def _float_or_none(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _att_table(
    name: str, estimate: float, se: float, low: float, high: float, p: float, *, n: int, n_clusters: Any, note: str
) -> pd.DataFrame:
    """The one-row headline table of a staggered estimator: its overall ATT with standard error,
    interval and p-value, in the shape every model result shares (:func:`cxlib.models.finish_table`)."""
    row = {
        "term": "ATT",
        "estimate": estimate,
        "std_error": se,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "model": name,
        "kind": "effect",
        "n": n,
        "n_clusters": n_clusters,
        "converged": True,
        "note": note,
    }
    return finish_table(pd.DataFrame([row]))


def _cannot(
    name: str, estimator: str, control_group: str, reason: str, n: int, n_clusters: int | None
) -> StaggeredResult:
    note = f"cannot fit: {reason}"
    table = cannot_fit_table(name, note, n, n_clusters)
    return StaggeredResult(
        name,
        table,
        n=n,
        n_clusters=n_clusters,
        converged=False,
        note=note,
        headline=table.copy(),
        estimator=estimator,
        control_group=control_group,
    )


# ============================================================================ inference
def webb_weights(n_clusters: int, *, draws: int = DRAWS, seed: int = 0) -> tuple[np.ndarray, bool]:
    """Webb weight vectors for ``n_clusters`` clusters (one row per bootstrap replicate) and
    whether they are all ``6**G`` of them (enumerated, up to :data:`ENUMERATE_MAX`) rather than
    ``draws`` random ones; the matrix comes from :func:`cxlib.inference.bootstrap_weights`.

        >>> w, full = webb_weights(2)
        >>> w.shape, full
        ((36, 2), True)
    """
    full = cluster_inference.n_weight_vectors(n_clusters, kind="webb") <= ENUMERATE_MAX
    return cluster_inference.bootstrap_weights(
        n_clusters, kind="webb", B=ENUMERATE_MAX if full else draws, rng=seed
    ), full


@dataclass
class _Inference:
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray
    vcov: np.ndarray
    n_clusters: int
    text: str


def _infer(est: np.ndarray, IF: np.ndarray, clusters: np.ndarray | None, ci: float, seed: int = 0) -> _Inference:
    """Standard errors, intervals and p-values of ``est`` (K) from its influence functions
    ``IF`` (n × K), clustered by ``clusters`` (n labels) or one row per cluster."""
    if clusters is None:
        S = IF
        G = IF.shape[0]
    else:
        codes, _ = pd.factorize(pd.Series(clusters), sort=True)
        G = int(codes.max()) + 1 if len(codes) else 0
        S = np.zeros((G, IF.shape[1]))
        np.add.at(S, codes, IF)
    V = S.T @ S
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    if clusters is None or G > 50:
        z = stats.norm.ppf(0.5 + ci / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(np.abs(est / se))
        what = (
            "visits treated as independent (influence-function standard errors, normal intervals)"
            if clusters is None
            else f"influence-function standard errors clustered by {G} clusters, normal intervals"
        )
        return _Inference(se, est - z * se, est + z * se, p, V, G, what)
    W, full = webb_weights(G, seed=seed)
    boot = np.abs(W @ S)  # |θ* − θ̂| for every weight vector, per statistic
    q = np.quantile(boot, ci, axis=0, method="higher")
    p = (boot >= np.abs(est)[None, :] - 1e-12).mean(axis=0)
    how = f"all {len(W):,} Webb weight vectors" if full else f"{len(W):,} Webb weight vectors drawn (seed {seed})"
    what = f"wild cluster bootstrap of the influence functions over {G} clusters ({how})"
    return _Inference(se, est - q, est + q, p, V, G, what)


def _pretest(est: np.ndarray, V: np.ndarray) -> dict[str, Any]:
    """Wald test that the pre-period estimates are all zero (χ² with as many df as estimates)."""
    k = len(est)
    if k == 0:
        return {"statistic": None, "df": 0, "p_value": None, "method": "no pre-period estimates"}
    try:
        stat = float(est @ np.linalg.solve(V, est))
        method = "Wald test, chi-squared"
    except np.linalg.LinAlgError:
        stat = float(est @ np.linalg.pinv(V) @ est)
        method = "Wald test, chi-squared (pseudo-inverse: singular covariance)"
    return {"statistic": stat, "df": k, "p_value": float(stats.chi2.sf(stat, k)), "method": method}


# ============================================================================ Callaway–Sant'Anna
@dataclass
class _CS:
    cells: pd.DataFrame  # one row per ATT(g, t) (estimated)
    IF: np.ndarray  # n × K influence functions of the cells
    pg: dict[float, float]
    G: np.ndarray
    n: int
    notes: list[str]


def _cell_if(y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray, int]:
    k = int(mask.sum())
    if k == 0:
        return np.nan, np.zeros_like(y), 0
    m = float(y[mask].mean())
    out = np.zeros_like(y)
    out[mask] = (y[mask] - m) / k
    return m, out, k


def _cs_cells(y: np.ndarray, T: np.ndarray, G: np.ndarray, control_group: ControlGroup) -> _CS:
    """ATT(g, t) with R ``did``'s ``base_period="varying"``: a post period (t ≥ g) against the last
    period before g, a pre period against the period before it; never-treated cohort coded ``inf``."""
    notes: list[str] = []
    periods = np.sort(np.unique(T))
    groups = np.sort(np.unique(G[np.isfinite(G)]))
    n = len(y)
    rows, ifs = [], []
    pg = {float(g): float((G == g).mean()) for g in groups}
    for g in groups:
        for i in range(1, len(periods)):
            t = periods[i]
            post = t >= g
            if post:
                before = periods[periods < g]
                if len(before) == 0:
                    continue
                b = before[-1]
            else:
                b = periods[i - 1]
            if control_group == "never_treated":
                ctrl = ~np.isfinite(G)
            else:
                ctrl = ~np.isfinite(G) | ((G > max(t, b)) & (G != g))
            tr = G == g
            m1, f1, k1 = _cell_if(y, tr & (T == t))
            m0, f0, k0 = _cell_if(y, tr & (T == b))
            c1, h1, j1 = _cell_if(y, ctrl & (T == t))
            c0, h0, j0 = _cell_if(y, ctrl & (T == b))
            if min(k1, k0, j1, j0) == 0:
                notes.append(f"ATT({g:g}, {t:g}) not estimated: an empty cell")
                continue
            rows.append(
                {
                    "group": float(g),
                    "time": float(t),
                    "base_time": float(b),
                    "rel_period": float(t - g),
                    "post": bool(post),
                    "estimate": (m1 - m0) - (c1 - c0),
                    "n_treated": k1 + k0,
                    "n_control": j1 + j0,
                }
            )
            ifs.append(f1 - f0 - h1 + h0)
    cells = pd.DataFrame(
        rows, columns=["group", "time", "base_time", "rel_period", "post", "estimate", "n_treated", "n_control"]
    )
    IF = np.column_stack(ifs) if ifs else np.zeros((n, 0))
    return _CS(cells, IF, pg, G, n, notes)


def _weighted(cs: _CS, keep: np.ndarray) -> tuple[float, np.ndarray]:
    """Cohort-size weighted average of the kept cells and its influence function (with the
    estimation of the weights, as ``did::aggte``)."""
    idx = np.flatnonzero(keep)
    att = cs.cells["estimate"].to_numpy()[idx]
    gk = cs.cells["group"].to_numpy()[idx]
    p = np.array([cs.pg[g] for g in gk])
    sp = p.sum()
    w = p / sp
    est = float(w @ att)
    ind = np.column_stack([(cs.G == g).astype(float) for g in gk])  # n × k
    if1 = (ind - p[None, :]) / sp
    if2 = (ind - p[None, :]).sum(axis=1, keepdims=True) * (p / sp**2)[None, :]
    wif = (if1 - if2) / cs.n
    return est, cs.IF[:, idx] @ w + wif @ att


@former_keywords(inference=Inference)
def callaway_santanna(
    data: pd.DataFrame,
    outcome: str,
    time: str,
    group: str,
    *,
    control_group: ControlGroup = "never_treated",
    name: str | None = None,
    inference: Inference = Inference(cluster=None),
) -> StaggeredResult:
    """Callaway–Sant'Anna group-time ATTs for repeated cross-sections (a balanced panel is a
    special case), unconditional parallel trends, aggregated to the overall ATT (``simple``: the
    post-treatment ATT(g, t) weighted by cohort size, as ``did::aggte(type="simple")``) and to an
    event study (``dynamic``), with the pre-trend Wald test.

    ``time`` holds integer periods; ``group`` the first treated period, ``0`` / missing / ``inf`` for
    never treated (cohorts treated in the first period or after the last are dropped, as in R
    ``did``: none of their periods can be compared). ``control_group`` ``"never_treated"`` or
    ``"not_yet_treated"`` (the never-treated and cohorts not treated by ``max(t, base)``).
    ``cluster``: influence functions summed by cluster; with at most 50 clusters the intervals come
    from the Webb wild bootstrap (see the module). ``headline`` holds the overall ATT; ``event`` the
    dynamic aggregation; ``cells`` every ATT(g, t).

        >>> res = callaway_santanna(mpdta, "lemp", "year", "first.treat", inference=Inference(cluster="countyreal"))  # doctest: +SKIP
        >>> round(res.headline.estimate.iloc[0], 4)                                              # doctest: +SKIP
        -0.04
    """
    cluster, ci, seed = inference.cluster, inference.ci, inference.seed
    require_columns(data, [outcome, time, group] + ([cluster] if cluster else []), "data")
    estimator = "callaway_santanna"
    name = name or f"cs_{outcome}"
    d = pd.DataFrame(
        {
            "y": pd.to_numeric(data[outcome], errors="coerce").astype(float),
            "t": pd.to_numeric(data[time], errors="coerce").astype(float),
            "g": pd.to_numeric(data[group], errors="coerce").astype(float),
        }
    )
    if cluster:
        d["c"] = data[cluster].to_numpy()
    bad_t = d["t"].isna() & data[time].notna().to_numpy()
    if bad_t.any():
        row = int(np.flatnonzero(bad_t.to_numpy())[0])
        raise DataError(f"period {data[time].iloc[row]!r} is not a number", column=time, row=row)
    d = d.dropna(subset=["y", "t"] + (["c"] if cluster else []))
    d.loc[d["g"].isna() | (d["g"] <= 0), "g"] = np.inf
    notes: list[str] = []
    first, last = d["t"].min(), d["t"].max()
    late = np.isfinite(d["g"]) & (d["g"] > last)
    if late.any():
        d.loc[late, "g"] = np.inf
        notes.append("cohorts treated after the last period counted as not (yet) treated")
    always = d["g"] <= first
    if always.any():
        notes.append(f"{int(always.sum())} rows of cohorts treated in the first period dropped")
        d = d.loc[~always]
    n = len(d)
    n_cl = int(d["c"].nunique()) if cluster else None
    if n == 0 or not np.isfinite(d["g"]).any():
        return _cannot(name, estimator, control_group, "no treated cohort with a period before its treatment", n, n_cl)
    if control_group == "never_treated" and np.isfinite(d["g"]).all():
        return _cannot(
            name, estimator, control_group, "no never-treated units: use control_group='not_yet_treated'", n, n_cl
        )
    cs = _cs_cells(d["y"].to_numpy(), d["t"].to_numpy(), d["g"].to_numpy(), control_group)
    notes += cs.notes
    cells = cs.cells
    if cells.empty or not cells["post"].any():
        return _cannot(
            name,
            estimator,
            control_group,
            "no post-treatment cell with both a treated and a control group on both sides",
            n,
            n_cl,
        )
    post = cells["post"].to_numpy(dtype=bool)
    overall, if_overall = _weighted(cs, post)
    rels = np.sort(cells["rel_period"].unique())
    ev_est, ev_if = [], []
    for e in rels:
        est_e, if_e = _weighted(cs, cells["rel_period"].to_numpy() == e)
        ev_est.append(est_e)
        ev_if.append(if_e)
    ests = np.concatenate([[overall], cells["estimate"].to_numpy(), ev_est])
    IF = np.column_stack([if_overall, cs.IF, *ev_if])
    inf = _infer(ests, IF, d["c"].to_numpy() if cluster else None, ci, seed)
    k = len(cells)
    pw = np.where(post, [cs.pg[g] for g in cells["group"]], 0.0)  # the overall ATT's weight of each post cell
    cells = cells.assign(
        std_error=inf.se[1 : 1 + k],
        ci_low=inf.ci_low[1 : 1 + k],
        ci_high=inf.ci_high[1 : 1 + k],
        p_value=inf.p[1 : 1 + k],
        weight=np.where(post, pw / pw.sum(), np.nan),
    )[list(CELL_COLUMNS)]
    pre = ~post
    pre_idx = 1 + np.flatnonzero(pre)
    pretest = _pretest(ests[pre_idx], inf.vcov[np.ix_(pre_idx, pre_idx)])
    sl = slice(1 + k, None)
    n_by_e = [int(cells.loc[cells["rel_period"] == e, "n_treated"].sum()) for e in rels]
    event = pd.DataFrame(
        {
            "rel_period": rels,
            "estimate": ev_est,
            "std_error": inf.se[sl],
            "ci_low": inf.ci_low[sl],
            "ci_high": inf.ci_high[sl],
            "p_value": inf.p[sl],
            "n": n_by_e,
            "n_cohorts": [int((cells["rel_period"] == e).sum()) for e in rels],
        }
    )
    ctrl_txt = "not-yet-treated" if control_group == "not_yet_treated" else "never-treated"
    notes += [
        f"Callaway-Sant'Anna, {ctrl_txt} controls, {int(post.sum())} post-treatment ATT(g,t) averaged by cohort size",
        inf.text,
    ]
    note = "; ".join(notes)
    head = _att_table(
        name,
        overall,
        inf.se[0],
        inf.ci_low[0],
        inf.ci_high[0],
        inf.p[0],
        n=n,
        n_clusters=inf.n_clusters if cluster else n_cl,
        note=note,
    )
    return StaggeredResult(
        name,
        head.copy(),
        n=n,
        n_clusters=n_cl,
        converged=True,
        note=note,
        headline=head,
        estimator=estimator,
        control_group=control_group,
        cells=cells,
        event=event,
        pretest=pretest,
        inference=inf.text,
    )


# ============================================================================ Sun–Abraham
def _ols(X: np.ndarray, y: np.ndarray, clusters: np.ndarray | None, k_nested: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and CR1 (clusters) or HC1 covariance; ``k_nested`` columns (fixed effects
    nested in the clusters) are not counted in the small-sample factor, as in ``fixest``."""
    XtX_inv = np.linalg.pinv(X.T @ X)
    beta = XtX_inv @ (X.T @ y)
    e = y - X @ beta
    n = len(y)
    k = int(np.linalg.matrix_rank(X))
    if clusters is None:
        meat = (X * (e**2)[:, None]).T @ X
        adj = n / (n - k)
    else:
        codes, _ = pd.factorize(pd.Series(clusters), sort=True)
        G = int(codes.max()) + 1
        S = np.zeros((G, X.shape[1]))
        np.add.at(S, codes, X * e[:, None])
        meat = S.T @ S
        k -= k_nested
        adj = G / (G - 1) * (n - 1) / (n - k)
    return beta, adj * XtX_inv @ meat @ XtX_inv


@former_keywords(inference=Inference)
def sun_abraham(
    data: pd.DataFrame,
    outcome: str,
    time: str,
    group: str,
    unit: str,
    *,
    ref: int = -1,
    name: str | None = None,
    inference: Inference = Inference(cluster=None),
) -> StaggeredResult:
    """Sun–Abraham interaction-weighted event study: OLS of the outcome on cohort × relative-period
    indicators (every relative period but ``ref``) with ``unit`` and ``time`` fixed effects, the
    never-treated cohort as control (the last-treated cohort, from its treatment on dropped, when
    there is none); the cohort effects are averaged per relative period with the cohorts' shares
    of the rows there, and the overall ATT over the post-treatment cells with their rows, as
    ``fixest::sunab`` (``agg="ATT"``).

    ``cluster``: CR1 standard errors by cluster, t with G − 1 df; otherwise HC1 with normal
    intervals. ``pretest``: Wald test of the pre-period event-time effects (F with G − 1 denominator
    df when clustered).

        >>> sun_abraham(mpdta, "lemp", "year", "first.treat", "countyreal").event  # doctest: +SKIP
    """
    cluster, ci = inference.cluster, inference.ci
    require_columns(data, [outcome, time, group, unit] + ([cluster] if cluster else []), "data")
    name = name or f"sa_{outcome}"
    d = pd.DataFrame(
        {
            "y": pd.to_numeric(data[outcome], errors="coerce").astype(float),
            "t": pd.to_numeric(data[time], errors="coerce").astype(float),
            "g": pd.to_numeric(data[group], errors="coerce").astype(float),
            "u": data[unit].astype(str).to_numpy(),
        }
    )
    if cluster:
        d["c"] = data[cluster].to_numpy()
    d = d.dropna(subset=["y", "t"] + (["c"] if cluster else []))
    d.loc[d["g"].isna() | (d["g"] <= 0) | (d["g"] > d["t"].max()), "g"] = np.inf
    d = d.loc[d["g"] > d["t"].min()]
    notes: list[str] = []
    control = "never_treated"
    if np.isfinite(d["g"]).all():
        g_last = d["g"].max()
        d = d.loc[~((d["g"] == g_last) & (d["t"] >= g_last))].copy()
        d.loc[d["g"] == g_last, "g"] = np.inf
        control = "last_treated"
        notes.append(
            f"no never-treated units: the last-treated cohort ({g_last:g}) is the control, its periods "
            f"from its treatment on dropped"
        )
    n = len(d)
    n_cl = int(d["c"].nunique()) if cluster else None
    if n == 0 or not np.isfinite(d["g"]).any() or np.isfinite(d["g"]).all():
        return _cannot(name, "sun_abraham", control, "needs treated and control cohorts", n, n_cl)
    d["e"] = d["t"] - d["g"]
    treated = np.isfinite(d["g"]).to_numpy()
    keys = sorted({(g, e) for g, e in zip(d.loc[treated, "g"], d.loc[treated, "e"]) if e != ref})
    cols = [((d["g"] == g) & (d["e"] == e)).to_numpy(dtype=float) for g, e in keys]
    U = pd.get_dummies(d["u"], drop_first=False, dtype=float).to_numpy()
    Tm = pd.get_dummies(d["t"], drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([*cols, U, Tm])
    nested = bool(cluster) and bool((d.groupby("u")["c"].nunique() == 1).all())
    beta, V = _ols(
        X, d["y"].to_numpy(), d["c"].to_numpy() if cluster else None, k_nested=U.shape[1] - 1 if nested else 0
    )
    k = len(keys)
    b, Vb = beta[:k], V[:k, :k]
    counts = np.array([c.sum() for c in cols])
    cells = pd.DataFrame(
        {
            "group": [g for g, _ in keys],
            "time": [g + e for g, e in keys],
            "base_time": [g + ref for g, _ in keys],
            "rel_period": [e for _, e in keys],
            "post": [e >= 0 for _, e in keys],
            "estimate": b,
            "std_error": np.sqrt(np.diag(Vb)),
            "n_treated": counts.astype(int),
            "n_control": int((~treated).sum()),
        }
    )
    if n_cl is not None:
        dfree = n_cl - 1
        crit = stats.t.ppf(0.5 + ci / 2, dfree)
        pfun = lambda z: 2 * stats.t.sf(np.abs(z), dfree)  # noqa: E731
        how = f"cluster-robust (CR1) by {cluster}, t with {dfree} df"
    else:
        crit = stats.norm.ppf(0.5 + ci / 2)
        pfun = lambda z: 2 * stats.norm.sf(np.abs(z))  # noqa: E731
        how = "heteroskedasticity-robust (HC1), visits treated as independent, normal intervals"

    def agg(mask: np.ndarray) -> tuple[float, float]:
        w = np.where(mask, counts, 0.0)
        w = w / w.sum()
        return float(w @ b), float(math.sqrt(max(w @ Vb @ w, 0.0)))

    rels = np.sort(cells["rel_period"].unique())
    ev = [agg(cells["rel_period"].to_numpy() == e) for e in rels]
    with np.errstate(divide="ignore", invalid="ignore"):
        z_cells = cells["estimate"] / cells["std_error"]
    post_w = np.where(cells["post"].to_numpy(dtype=bool), counts, 0.0)  # the overall ATT's weights (row shares)
    cells = cells.assign(
        ci_low=cells["estimate"] - crit * cells["std_error"],
        ci_high=cells["estimate"] + crit * cells["std_error"],
        p_value=pfun(z_cells),
        weight=np.where(post_w > 0, post_w / max(post_w.sum(), 1.0), np.nan),
    )
    cells = cells[list(CELL_COLUMNS)]
    event = pd.DataFrame({"rel_period": rels, "estimate": [a for a, _ in ev], "std_error": [s for _, s in ev]})
    event["ci_low"] = event["estimate"] - crit * event["std_error"]
    event["ci_high"] = event["estimate"] + crit * event["std_error"]
    with np.errstate(divide="ignore", invalid="ignore"):
        event["p_value"] = pfun(event["estimate"] / event["std_error"])
    event["n"] = [int(counts[cells["rel_period"].to_numpy() == e].sum()) for e in rels]
    event["n_cohorts"] = [int((cells["rel_period"] == e).sum()) for e in rels]
    event = event[list(EVENT_COLUMNS)]
    # pre-trend test: pre-period event-time effects jointly zero
    pre_rel = [e for e in rels if e < 0]
    if pre_rel:
        Wm = np.vstack([np.where(cells["rel_period"].to_numpy() == e, counts, 0.0) for e in pre_rel])
        Wm = Wm / Wm.sum(axis=1, keepdims=True)
        est_pre, V_pre = Wm @ b, Wm @ Vb @ Wm.T
        pt = _pretest(est_pre, V_pre)
        if n_cl is not None and pt["statistic"] is not None:
            q = len(pre_rel)
            pt["p_value"] = float(stats.f.sf(pt["statistic"] / q, q, n_cl - 1))
            pt["method"] = f"Wald test, F({q}, {n_cl - 1})"
    else:
        pt = _pretest(np.zeros(0), np.zeros((0, 0)))
    overall, se_o = agg(cells["post"].to_numpy(dtype=bool))
    ctrl_txt = "never-treated" if control == "never_treated" else "last-treated cohort as"
    notes += [
        f"Sun-Abraham interaction-weighted, {ctrl_txt} controls, unit and period fixed effects, reference period {ref}",
        how,
    ]
    note = "; ".join(notes)
    head = _att_table(
        name,
        overall,
        se_o,
        overall - crit * se_o,
        overall + crit * se_o,
        float(pfun(overall / se_o)) if se_o > 0 else np.nan,
        n=n,
        n_clusters=n_cl,
        note=note,
    )
    return StaggeredResult(
        name,
        head.copy(),
        n=n,
        n_clusters=n_cl,
        converged=True,
        note=note,
        headline=head,
        estimator="sun_abraham",
        control_group=control,
        cells=cells,
        event=event,
        pretest=pt,
        inference=how,
    )


# ============================================================================ the rollout
def _rollout_frame(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str,
    columns: RolloutColumns,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per visit with the outcome: ``y, period`` (month index), ``cohort`` (month index of
    the switch, ``inf`` never), ``center``, ``post``, ``arrived``. Visits of a switching center in its
    switch month but before the switch date are left out: untreated visits in a treated cell."""
    center = columns.center
    require_columns(visits, [outcome, center], "visits")
    ro = rollout_visits(visits, centers, columns=columns)
    cohort = (ro["month_index"] - ro["rel_month"]).where(ro["treated"], np.inf)
    d = pd.DataFrame(
        {
            "y": numeric_outcome(visits, outcome),
            "period": ro["month_index"],
            "cohort": cohort,
            "center": visits[center].astype("string"),
            "post": ro["post"],
        },
        index=visits.index,
    )
    d = d.dropna(subset=["y", "period", "center"])
    early = (d["period"] == d["cohort"]) & (d["post"] == 0)
    notes = []
    if early.any():
        notes.append(f"{int(early.sum())} visits in a switch month before the switch date left out")
    return d.loc[~early], notes


def _one_center(d: pd.DataFrame, centers: pd.DataFrame, columns: RolloutColumns, what: str) -> str:
    return one_center_reason(what, str(d["center"].iloc[0]) if len(d) else "?", centers, columns=columns)


@former_keywords(columns=RolloutColumns, inference=Inference)
def rollout_att(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    control_group: ControlGroup = "not_yet_treated",
    columns: RolloutColumns = RolloutColumns(),
    inference: Inference = Inference(),
) -> StaggeredResult:
    """Callaway–Sant'Anna ATT of the switch to real-time updates (``outcome`` ``"ltr"`` in points or
    ``"complained"``, a share): cohorts are switch months, periods months, visits independent (see
    the module for why not clustered by center). ``n_clusters`` counts the centers. Within one
    center the result says why it cannot be estimated, as :func:`cxlib.models.did_rollout` does.

        >>> rollout_att(visits, centers, "ltr").record()["estimator"]  # doctest: +SKIP
        'callaway_santanna'
    """
    ci = inference.ci
    name = f"cs_{outcome}"
    d, notes = _rollout_frame(visits, centers, outcome, columns)
    n_centers = int(d["center"].nunique())
    if n_centers <= 1:
        return _cannot(
            name,
            "callaway_santanna",
            control_group,
            _one_center(d, centers, columns, "DiD"),
            len(d),
            n_centers,
        )
    res = callaway_santanna(
        d, "y", "period", "cohort", control_group=control_group, name=name, inference=Inference(ci=ci, cluster=None)
    )
    res.n_clusters = n_centers
    if res.ok:
        res.headline["n_clusters"] = pd.array([n_centers], dtype="Int64")
        n_sw = int(d.loc[np.isfinite(d["cohort"]), "center"].nunique())
        n_never = n_centers - n_sw
        extra = [f"{n_sw} switching center(s), {n_never} never switched, {n_centers} centers"]
        if d.loc[np.isfinite(d["cohort"])].groupby("cohort")["center"].nunique().max() == 1:
            extra.append(
                "each switch month has one center, so its visits are not clustered by center (the "
                "randomisation test over switch dates is the check that does not assume independence)"
            )
        res.note = "; ".join([*notes, *extra, res.note])
        res.headline["note"] = res.note
        res.table = res.headline.copy()
    elif res.note.startswith(("cannot fit: no post-treatment cell", "cannot fit: no treated cohort")):
        res.note = "cannot fit: no center has data both before and after its switch to real-time updates"
        res.headline["note"] = res.note
    return res


@former_keywords(columns=RolloutColumns, inference=Inference)
def rollout_sun_abraham(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    columns: RolloutColumns = RolloutColumns(),
    inference: Inference = Inference(),
) -> StaggeredResult:
    """Sun–Abraham event study of the switch to real-time updates, center and month fixed effects,
    never-treated centers as control, HC1 errors (visits independent, as :func:`rollout_att`).

        >>> rollout_sun_abraham(visits, centers, "ltr").event[["rel_period", "estimate"]]  # doctest: +SKIP
    """
    ci = inference.ci
    name = f"sa_{outcome}"
    d, notes = _rollout_frame(visits, centers, outcome, columns)
    n_centers = int(d["center"].nunique())
    if n_centers <= 1:
        return _cannot(
            name,
            "sun_abraham",
            "never_treated",
            _one_center(d, centers, columns, "the event study"),
            len(d),
            n_centers,
        )
    res = sun_abraham(d, "y", "period", "cohort", "center", name=name, inference=Inference(ci=ci, cluster=None))
    res.n_clusters = n_centers
    res.note = "; ".join([*notes, res.note])
    return res


# ============================================================================ randomisation inference
def _twfe_coef(y: np.ndarray, D: np.ndarray, Q: np.ndarray) -> float:
    e = D - Q @ (Q.T @ D)
    den = float(e @ D)
    return float(e @ y) / den if abs(den) > 1e-12 else np.nan


class _RolloutCells:
    """The rollout's outcomes summed by center and month, so that the Callaway–Sant'Anna overall ATT
    and the TWFE coefficient of any assignment of switch dates to centers come from cell sums
    instead of a pass over the visits (what the randomisation test repeats hundreds of times).

    ``Y`` (n × k) holds k outcome columns; ``code`` the center (0 … C−1), ``midx`` the month index,
    ``day`` the arrival day of every visit; ``dates`` the switch dates that can be assigned. A
    center with date ``d`` is switched from ``d`` on; its visits in the month of ``d`` before ``d``
    are left out of the Callaway–Sant'Anna cells (as :func:`rollout_att` does) and enter TWFE as
    not switched.
    """

    def __init__(
        self,
        Y: np.ndarray,
        code: np.ndarray,
        midx: np.ndarray,
        day: np.ndarray,
        dates: Sequence[pd.Timestamp],
        n_centers: int,
    ) -> None:
        Y = Y.reshape(len(code), -1)
        self.months = np.unique(midx)
        t = np.searchsorted(self.months, midx)
        C, T, K = n_centers, len(self.months), Y.shape[1]
        self.C, self.T, self.K = C, T, K
        self.S = np.zeros((C, T, K))
        np.add.at(self.S, (code, t), Y)
        self.N = np.zeros((C, T))
        np.add.at(self.N, (code, t), 1.0)
        self.date_month = np.array([np.searchsorted(self.months, d.year * 12 + d.month) for d in dates])
        # per date k: the sums of each center's visits in the month of d_k on or after d_k
        self.S_on = np.zeros((C, len(dates), K))
        self.N_on = np.zeros((C, len(dates)))
        for k, d in enumerate(dates):
            m = (t == self.date_month[k]) & (day >= np.datetime64(d))
            np.add.at(self.S_on[:, k], code[m], Y[m])
            np.add.at(self.N_on[:, k], code[m], 1.0)
        self.code, self.t, self.day, self.dates = code, t, day, list(dates)
        # TWFE: center dummies and month dummies (first month dropped)
        self._XtX = np.zeros((C + T - 1, C + T - 1))
        self._XtX[:C, :C] = np.diag(self.N.sum(axis=1))
        self._XtX[C:, C:] = np.diag(self.N.sum(axis=0)[1:])
        self._XtX[:C, C:] = self.N[:, 1:]
        self._XtX[C:, :C] = self.N[:, 1:].T
        self._XtY = np.concatenate([self.S.sum(axis=1), self.S.sum(axis=0)[1:]], axis=0)  # (C+T-1) × K

    def post_of(self, a: Sequence[int]) -> np.ndarray:
        """The switch indicator of every visit under assignment ``a`` (date index per center, −1 none)."""
        k = np.asarray(a)[self.code]
        dm = np.where(k >= 0, self.date_month[np.maximum(k, 0)], np.iinfo(np.int64).max)
        dd = np.array([np.datetime64(d, "ns") for d in self.dates] or [np.datetime64("NaT", "ns")])
        on = (k >= 0) & ((self.t > dm) | ((self.t == dm) & (self.day >= dd[np.maximum(k, 0)])))
        return on.astype(float)

    def statistics(self, a: Sequence[int], control_group: ControlGroup) -> tuple[np.ndarray, np.ndarray]:
        """(Callaway–Sant'Anna overall ATT, TWFE coefficient) of every outcome column under ``a``."""
        C, T = self.C, self.T
        on = np.asarray(a, dtype=np.int64)
        g_idx = np.where(on >= 0, self.date_month[np.maximum(on, 0)], T + 1)  # cohort month index; T+1: never
        # kept sums: a switching center's switch month holds only its visits on/after the date
        S, N = self.S.copy(), self.N.copy()
        Dc = np.zeros((C, T))  # switched visits per center-month
        DY = np.zeros(self.K)
        for c in np.flatnonzero((on >= 0) & (g_idx < T)):  # a date after the data's last month: not switched yet
            g = g_idx[c]
            S[c, g], N[c, g] = self.S_on[c, on[c]], self.N_on[c, on[c]]
            Dc[c, g] = self.N_on[c, on[c]]
            Dc[c, g + 1 :] = self.N[c, g + 1 :]
            DY += self.S_on[c, on[c]] + self.S[c, g + 1 :].sum(axis=0)
        return self._cs(S, N, g_idx, control_group), self._twfe(Dc, DY)

    def _cs(self, S: np.ndarray, N: np.ndarray, g_idx: np.ndarray, control_group: ControlGroup) -> np.ndarray:
        T = self.T
        periods = np.flatnonzero(N.sum(axis=0) > 0)
        total = N.sum()
        cohorts = np.unique(g_idx[(g_idx <= T) & (N.sum(axis=1) > 0)])
        num, den = np.zeros(self.K), 0.0
        for g in cohorts:
            in_g = g_idx == g
            p_g = N[in_g].sum() / total
            before = periods[periods < g]
            if len(before) == 0:
                continue
            b = before[-1]
            for t in periods[periods >= g]:
                ctrl = (
                    (g_idx > T)
                    if control_group == "never_treated"
                    else (g_idx > T) | ((g_idx > max(t, b)) & (g_idx != g))
                )
                n1, n0 = N[in_g, t].sum(), N[in_g, b].sum()
                c1, c0 = N[ctrl, t].sum(), N[ctrl, b].sum()
                if min(n1, n0, c1, c0) == 0:
                    continue
                att = (S[in_g, t].sum(axis=0) / n1 - S[in_g, b].sum(axis=0) / n0) - (
                    S[ctrl, t].sum(axis=0) / c1 - S[ctrl, b].sum(axis=0) / c0
                )
                num += p_g * att
                den += p_g
        return num / den if den > 0 else np.full(self.K, np.nan)

    def _twfe(self, Dc: np.ndarray, DY: np.ndarray) -> np.ndarray:
        XtD = np.concatenate([Dc.sum(axis=1), Dc.sum(axis=0)[1:]])
        beta = np.linalg.lstsq(self._XtX, XtD, rcond=None)[0]
        den = Dc.sum() - beta @ XtD
        return (DY - beta @ self._XtY) / den if abs(den) > 1e-12 else np.full(self.K, np.nan)


@former_keywords(columns=RolloutColumns, inference=Inference)
def randomization_test(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    control_group: ControlGroup = "not_yet_treated",
    max_assignments: int = 5000,
    columns: RolloutColumns = RolloutColumns(),
    inference: Inference = Inference(),
) -> pd.DataFrame:
    """Randomisation inference for the rollout: the switch dates observed are reassigned to the
    centers in every possible way (7 centers, 4 dates: 840 assignments; more than
    ``max_assignments`` are drawn at random with ``seed``), and the Callaway–Sant'Anna overall ATT
    and the TWFE coefficient are recomputed under each. The p-value is the share of assignments
    whose estimate is at least as far from 0 as the observed one (the observed one included): a test
    of "the switch changed nothing at any center" that assumes nothing about how visits or centers
    are correlated, only that any center could have received any of the dates.

    ``ci_low, ci_high``: the randomisation (Fisher) interval of a constant effect, the effects τ
    whose sharp null "every switched visit gained exactly τ" the same test does not reject at
    ``1 − ci`` (see :func:`_fisher_interval`); like the test, it does not assume that visits or
    centers are independent, but it does assume one effect for all switched visits.

    One row per estimator: ``outcome, estimator, scale, estimate, ci_low, ci_high, p_value,
    n_assignments, enumerated, method``.

        >>> randomization_test(visits, centers, "ltr")[["estimator", "p_value"]]  # doctest: +SKIP
    """
    center, month, arrived_at, center_id, realtime_since = (
        columns.center,
        columns.month,
        columns.arrived_at,
        columns.center_id,
        columns.realtime_since,
    )
    seed, ci = inference.seed, inference.ci
    require_columns(visits, [outcome, center, month, arrived_at], "visits")
    require_columns(centers, [center_id, realtime_since], "centers")
    base = rollout_visits(visits, centers, columns=columns)
    y_all = numeric_outcome(visits, outcome)
    ok = y_all.notna() & visits[center].notna() & base["month_index"].notna()
    y = y_all[ok].to_numpy(dtype=float)
    cen = visits.loc[ok, center].astype(str).to_numpy()
    midx = base.loc[ok, "month_index"].to_numpy(dtype=float)
    arr = pd.to_datetime(visits.loc[ok, arrived_at])
    if isinstance(arr.dtype, pd.DatetimeTZDtype):
        arr = arr.dt.tz_localize(None)
    day = arr.dt.normalize().to_numpy()
    c = centers.drop_duplicates(center_id)
    since = pd.Series(pd.to_datetime(c[realtime_since], errors="coerce").to_numpy(), index=c[center_id].astype(str))
    names = sorted(set(cen))
    dates = [pd.Timestamp(since[k]) for k in names if k in since.index and pd.notna(since[k])]
    if len(names) < 2 or not dates:
        raise DataError(
            "randomisation test needs two or more centers and at least one switch date",
            file="centers",
            column=realtime_since,
        )
    actual = tuple(pd.Timestamp(since[k]) if pd.notna(since.get(k)) else None for k in names)
    code = pd.Series(range(len(names)), index=names)[cen].to_numpy()
    slots = list(range(len(names)))
    assignments = [p for p in itertools.permutations(slots, len(dates))]
    enumerated = len(assignments) <= max_assignments
    if not enumerated:
        rng = np.random.default_rng(seed)
        assignments = [tuple(rng.permutation(slots)[: len(dates)]) for _ in range(max_assignments - 1)]
    date_index = {d: k for k, d in enumerate(dates)}
    actual_slots = tuple(date_index[actual[c]] if actual[c] is not None else -1 for c in slots)
    d_obs = _RolloutCells(np.zeros(len(y)), code, midx, day, dates, len(names)).post_of(actual_slots)
    cells = _RolloutCells(np.column_stack([y, d_obs]), code, midx, day, dates, len(names))

    def of(a: Sequence[int]) -> list[int]:
        """Date index per center (−1: never switched) of an assignment of the dates to centers."""
        out = [-1] * len(names)
        for slot, k in zip(a, range(len(dates))):
            out[slot] = k
        return out

    # both statistics for (y, D) under every assignment; D = the observed switch indicator, for the interval
    obs_cs, obs_tw = (v[0] for v in cells.statistics(actual_slots, control_group))
    stats_y, stats_d = [], []
    every = [*assignments, *([] if enumerated else [actual_slots])]
    for a in track(every, f"randomisation test ({outcome}), assignments", unit="assignments"):
        (cs_y, cs_d), (tw_y, tw_d) = cells.statistics(of(a) if a is not actual_slots else a, control_group)
        stats_y.append((cs_y, tw_y))
        stats_d.append((cs_d, tw_d))
    draws, d_draws = stats_y, stats_d
    arr_d = np.array(draws, dtype=float)
    arr_dd = np.array(d_draws, dtype=float)
    rows = []
    how = (
        f"all {len(arr_d):,} assignments of the {len(dates)} switch dates to the {len(names)} centers"
        if enumerated
        else f"{len(arr_d):,} random assignments (seed {seed}) of the {len(dates)} switch dates"
    )
    for i, (est_name, obs) in enumerate((("callaway_santanna", obs_cs), ("twfe", obs_tw))):
        fin = np.isfinite(arr_d[:, i]) & np.isfinite(arr_dd[:, i])
        col, dcol = arr_d[fin, i], arr_dd[fin, i]
        p = float((np.abs(col) >= abs(obs) - 1e-12).mean()) if len(col) and np.isfinite(obs) else np.nan
        lo, hi = _fisher_interval(obs, col, dcol, ci) if len(col) and np.isfinite(obs) else (np.nan, np.nan)
        rows.append(
            {
                "outcome": outcome,
                "estimator": est_name,
                "scale": "share of visits" if outcome == "complained" else "LTR points",
                "estimate": obs,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": p,
                "n_assignments": int(len(col)),
                "enumerated": enumerated,
                "method": f"randomisation test over {how}",
            }
        )
    return pd.DataFrame(rows)


def _fisher_interval(obs: float, stat: np.ndarray, stat_of_d: np.ndarray, ci: float = 0.95) -> tuple[float, float]:
    """The randomisation interval of a constant effect τ: the τ whose sharp null ("every switched
    visit gained exactly τ") the randomisation test does not reject at ``1 − ci``.

    Under that null the untreated outcomes are ``y − τ·D`` (``D`` the observed switch indicator);
    both statistics are linear in the outcome, so under assignment ``a`` the statistic of the adjusted
    outcomes is ``stat[a] − τ·stat_of_d[a]`` and the observed one is ``obs − τ`` (the statistic of ``D``
    under its own assignment is 1). The p-value of τ is the share of assignments at least as far
    from 0; the interval is found on a grid and its ends refined by bisection. An end that no τ
    reaches within 20 × the spread of the assignments' statistics comes back infinite.

        >>> [round(x, 6) for x in _fisher_interval(2.0, np.array([2.0, 0.1, -0.2, 0.3]), np.array([1.0, 0, 0, 0]), 0.5)]
        [1.8, 2.2]
    """
    alpha = 1 - ci + 1e-9  # 1 − 0.9 is 0.0999…: a p-value of exactly 0.1 rejects at the 10 % level

    def p(tau: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(tau)[:, None]
        return (np.abs(stat[None, :] - t * stat_of_d[None, :]) >= np.abs(obs - t) - 1e-12).mean(axis=1)

    spread = float(np.nanmax(np.abs(stat - obs))) or 1.0
    grid = obs + np.linspace(-20 * spread, 20 * spread, 8001)
    accept = p(grid) > alpha
    if not accept.any():
        return float(obs), float(obs)
    first, last = int(np.argmax(accept)), int(len(grid) - 1 - np.argmax(accept[::-1]))

    def edge(inside: float, outside: float) -> float:
        for _ in range(60):
            mid = (inside + outside) / 2
            inside, outside = (mid, outside) if p(np.array([mid]))[0] > alpha else (inside, mid)
        return inside

    lo = -np.inf if first == 0 else edge(grid[first], grid[first - 1])
    hi = np.inf if last == len(grid) - 1 else edge(grid[last], grid[last + 1])
    return float(lo), float(hi)


def randomization_table(*tables: pd.DataFrame | Any) -> pd.DataFrame:
    """The :func:`randomization_test` tables of several outcomes as one (anything that is not a
    table, such as a "not provided" note or None, left out).

        >>> randomization_table(randomization_test(visits, centers, "ltr"), None)  # doctest: +SKIP
    """
    frames = [t for t in tables if isinstance(t, pd.DataFrame) and len(t)]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            columns=[
                "outcome",
                "estimator",
                "scale",
                "estimate",
                "ci_low",
                "ci_high",
                "p_value",
                "n_assignments",
                "enumerated",
                "method",
            ]
        )
    )


def with_randomization(result: StaggeredResult | Any, randomization: pd.DataFrame | None) -> StaggeredResult | Any:
    """``result`` (a :func:`rollout_att` ATT) quoting the randomisation interval and p-value of
    :func:`randomization_test` instead of the independent-visits ones, which stay in the headline as
    ``ci_low_independent, ci_high_independent, p_independent``; ``inference`` and the note say so.
    Anything else (a note, a result that could not be fitted, no randomisation table) comes back as
    it was.

    With one center per switch month, clustering by center cannot see the switching centers' own
    noise, and treating visits as independent ignores what they share within a center-month; the
    randomisation interval assumes neither, only that any center could have received any of the
    dates and that the effect is one number: the most defensible interval here.

        >>> with_randomization(rollout_att(visits, centers), randomization_test(visits, centers)).inference  # doctest: +SKIP
        'randomisation interval: all 840 assignments of the 4 switch dates to the 7 centers, one effect for all'
    """
    if not isinstance(result, StaggeredResult) or not result.ok or randomization is None or len(randomization) == 0:
        return result
    rows = randomization.loc[randomization["estimator"] == result.estimator]
    if rows.empty or not np.isfinite(float(rows["ci_low"].iloc[0])):
        return result
    ri = rows.iloc[0]
    out = copy.deepcopy(result)
    head = out.headline
    head["ci_low_independent"], head["ci_high_independent"] = head["ci_low"], head["ci_high"]
    head["p_independent"] = head["p_value"]
    head["ci_low"], head["ci_high"], head["p_value"] = float(ri["ci_low"]), float(ri["ci_high"]), float(ri["p_value"])
    how = str(ri["method"]).removeprefix("randomisation test over ")
    out.inference = f"randomisation interval: {how}, one effect for all"
    clause = (
        f"quoted: the randomisation interval and p-value ({how}; one effect for all switched visits); the "
        f"independent-visits interval alongside"
    )
    out.note = "; ".join([out.note, clause]) if out.note else clause
    head["note"] = out.note
    head["inference"] = out.inference
    out.table = head.copy()
    return out


#: the multiples of the largest pre-switch departure shown by :func:`sensitivity`
SENSITIVITY_MBAR: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)


def sensitivity(result: StaggeredResult | Any, *, mbar: Sequence[float] = SENSITIVITY_MBAR) -> pd.DataFrame | Any:
    """How far parallel trends may fail after the switch before the overall ATT is no longer
    distinguishable from 0: a relative-magnitudes bound in the spirit of Rambachan & Roth (2023).

    The pre-switch cells of a Callaway–Sant'Anna result (base period "varying") estimate the
    month-to-month departures from parallel trends before the switch; ``Δ`` is the largest of them
    in absolute value (the pre-switch points of the event study). If after the switch the departure
    may change by up to ``M̄ · Δ`` per month, a post cell ``e`` months after the switch carries a bias
    of at most ``(e + 1) · M̄ · Δ``, and the overall ATT at most ``B = M̄ · Δ · Σ w (e + 1)`` (``w`` the
    cells' weights in the ATT). Per ``M̄``: the bounds of the estimate (``estimate ± B``) and of its
    interval (``ci_low − B``, ``ci_high + B``), and whether that interval excludes 0. The
    ``breakdown`` row holds the ``M̄`` at which it stops doing so. Simpler than HonestDiD's optimal
    confidence sets (``Δ`` is taken as estimated, and the bias bound is the worst case per cell), so
    it is conservative. A result without pre-switch cells, or one that could not be fitted, gives a
    :class:`~cxlib.results.NotComputed` note; a "not provided" note comes back as it is.

        >>> sensitivity(rollout_att(visits, centers))  # doctest: +SKIP
    """
    from cxlib.results import NotComputed

    if not isinstance(result, StaggeredResult):
        return result  # a "not provided" note
    if not result.ok:
        return NotComputed(
            int(result.n or 0),
            ("敏感性分析", "the sensitivity analysis"),
            why=("稳健估计无法计算", "the robust estimate could not be computed"),
        )
    if result.estimator != "callaway_santanna":
        raise ValueError("sensitivity() reads the consecutive-month pre-switch cells of a Callaway–Sant'Anna result")
    pre = result.event.loc[result.event["rel_period"] < 0, "estimate"].to_numpy(dtype=float)
    pre = pre[np.isfinite(pre)]
    if len(pre) == 0:
        return NotComputed(
            int(result.n),
            ("敏感性分析", "the sensitivity analysis"),
            why=(
                "没有切换前的月份可用来衡量偏离平行趋势的幅度",
                "no month before the switch to measure departures from parallel trends",
            ),
        )
    delta = float(np.abs(pre).max())
    c = result.cells.loc[result.cells["post"].astype(bool)]
    reach = float((c["weight"].to_numpy(dtype=float) * (c["rel_period"].to_numpy(dtype=float) + 1)).sum())
    h = result.headline.iloc[0]
    est, lo, hi = float(h["estimate"]), float(h["ci_low"]), float(h["ci_high"])
    unit = delta * reach
    rows = []
    for m in mbar:
        b = float(m) * unit
        rows.append(
            {
                "mbar": float(m),
                "bias_bound": b,
                "estimate_low": est - b,
                "estimate_high": est + b,
                "ci_low": lo - b,
                "ci_high": hi + b,
                "excludes_zero": bool(lo - b > 0 or hi + b < 0),
            }
        )
    if lo > 0 or hi < 0:
        brk = (lo if lo > 0 else -hi) / unit if unit > 0 else np.inf
    else:
        brk = 0.0
    out = pd.DataFrame(rows)
    out.attrs.update(
        {"delta": delta, "reach": reach, "breakdown": float(brk), "n": int(result.n), "estimator": result.estimator}
    )
    return out


# ============================================================================ can TWFE be trusted?
@former_keywords(columns=RolloutColumns)
def twfe_weights(
    visits: pd.DataFrame,
    centers: pd.DataFrame,
    outcome: str = "ltr",
    *,
    columns: RolloutColumns = RolloutColumns(),
) -> dict[str, Any]:
    """The weights that the TWFE coefficient of :func:`cxlib.models.did_rollout` puts on the
    effects of the treated center-months (de Chaisemartin & D'Haultfœuille 2020): each treated
    visit's residual from regressing the switch indicator on center and month fixed effects,
    scaled to sum to 1. A negative weight means that an effect enters TWFE with the wrong sign (an
    early switcher serving as control after its switch); with effects that change over time this
    biases TWFE. Returns ``n_treated_cells`` (center-months after a switch), ``n_negative_cells``,
    ``negative_weight_sum`` (≤ 0), ``share_negative`` (share of the weight mass that is negative).

        >>> twfe_weights(visits, centers)["n_negative_cells"]  # doctest: +SKIP
    """
    center = columns.center
    center = columns.center
    require_columns(visits, [outcome, center], "visits")
    ro = rollout_visits(visits, centers, columns=columns)
    y = numeric_outcome(visits, outcome)
    ok = (y.notna() & visits[center].notna() & ro["month_index"].notna()).to_numpy()
    cen = visits.loc[ok, center].astype(str).to_numpy()
    midx = ro.loc[ok, "month_index"].to_numpy(dtype=float)
    D = ro.loc[ok, "post"].to_numpy(dtype=float)
    X = np.column_stack(
        [pd.get_dummies(cen, dtype=float).to_numpy(), pd.get_dummies(midx, drop_first=True, dtype=float).to_numpy()]
    )
    Q, _ = np.linalg.qr(X)
    e = D - Q @ (Q.T @ D)
    tr = D == 1
    if not tr.any() or abs(float(e[tr].sum())) < 1e-12:
        return {"n_treated_cells": 0, "n_negative_cells": 0, "negative_weight_sum": 0.0, "share_negative": 0.0}
    w = e[tr] / e[tr].sum()
    cells = pd.DataFrame({"c": cen[tr], "m": midx[tr], "w": w}).groupby(["c", "m"])["w"].sum()
    neg = cells[cells < 0]
    return {
        "n_treated_cells": int(len(cells)),
        "n_negative_cells": int(len(neg)),
        "negative_weight_sum": float(neg.sum()),
        "share_negative": float(-neg.sum() / np.abs(cells).sum()),
    }


def verdict(twfe: ModelResult, robust: StaggeredResult, weights: dict[str, Any]) -> dict[str, Any]:
    """Whether the TWFE estimate can be read as the effect here, computed from the data: the gap
    between TWFE and the robust overall ATT in units of the robust interval's half-width, the
    negative TWFE weights (:func:`twfe_weights`) and the robust pre-trend test. ``trust`` is True
    when the gap is under half the half-width, the negative weights carry under 5 % of the weight
    and the pre-trend test does not reject at 5 %; ``reasons`` lists what failed.

        >>> verdict(twfe, cs, twfe_weights(visits, centers))["trust"]  # doctest: +SKIP
    """
    if not (twfe.ok and robust.ok):
        return {"trust": None, "reasons": ["not estimated"], "note": twfe.note if not twfe.ok else robust.note}
    t = twfe.headline.iloc[0]
    r = robust.headline.iloc[0]
    gap = float(t["estimate"]) - float(r["estimate"])
    half = (float(r["ci_high"]) - float(r["ci_low"])) / 2
    ratio = abs(gap) / half if half > 0 else np.inf
    pre_p = _float_or_none(robust.pretest.get("p_value"))
    reasons = []
    if ratio >= 0.5:
        reasons.append("gap")
    if weights.get("share_negative", 0.0) >= 0.05:
        reasons.append("negative_weights")
    if pre_p is not None and pre_p < 0.05:
        reasons.append("pretrends")
    return {
        "trust": not reasons,
        "reasons": reasons,
        "twfe": float(t["estimate"]),
        "robust": float(r["estimate"]),
        "robust_ci_low": float(r["ci_low"]),
        "robust_ci_high": float(r["ci_high"]),
        "gap": gap,
        "gap_in_half_widths": ratio,
        "pretrend_p_value": pre_p,
        "n": int(robust.n),
        "n_clusters": robust.n_clusters,
        "estimator": robust.estimator,
        "control_group": robust.control_group,
        "inference": robust.inference,
        **{f"twfe_{k}": v for k, v in weights.items()},
    }


# ============================================================================ results and figure
def rollout_record(ltr: StaggeredResult | Any, complained: StaggeredResult | Any) -> dict[str, dict[str, Any]]:
    """The ``did_realtime_effect`` entry of ``results.json`` from two :func:`rollout_att` results:
    ``{ltr: {estimate, ci_low, ci_high, p_value, n, n_clusters, estimator, control_group, inference,
    pretrend_p_value}, complained: {…}}``; a result whose table was not given (a
    :class:`~cxlib.results.NotProvided`) gives its marker.

        >>> rollout_record(rollout_att(visits, centers), rollout_att(visits, centers, "complained"))  # doctest: +SKIP
    """
    return {
        k: (r.record() if isinstance(r, StaggeredResult) else r.record())
        for k, r in (("ltr", ltr), ("complained", complained))
    }


def plot_event_study(
    robust: StaggeredResult,
    twfe: ModelResult | None = None,
    *,
    lang: catalog.Lang = "both",
    ax: Axes | None = None,
) -> Figure:
    """The robust event study (estimate and 95 % interval per month since the switch, n of the
    switching centers' visits under each tick) with the TWFE event study of
    :func:`cxlib.models.event_study` beside it, on ``ax`` or on a figure of its own; a result that
    could not be fitted gives the figure of its note.

        >>> fig = plot_event_study(rollout_att(visits, centers), models.event_study(visits, centers))  # doctest: +SKIP
    """
    from cxlib import plotting

    if not robust.ok or robust.event.empty:
        return plotting.note_figure(robust.note, labels.title("rollout_event_title", lang=lang), ax=ax)
    ev = robust.event.sort_values("rel_period")
    own = ax is None
    with plotting.drawing():
        plotting.ensure_theme()
        fig, ax = plotting.figure_for(ax, (7.5, 4.2), layout=None)
        x = ev["rel_period"].to_numpy(dtype=float)
        est = ev["estimate"].to_numpy(dtype=float)
        from cxlib.stats import error_bars

        ax.errorbar(
            x - 0.12,
            est,
            yerr=error_bars(est, ev["ci_low"].to_numpy(dtype=float), ev["ci_high"].to_numpy(dtype=float)),
            fmt="o-",
            capsize=3,
            label=labels.text("cs_robust", lang=lang, sep=" / "),
            color=plotting.TIER_COLORS["realtime"],
        )
        if twfe is not None and twfe.ok and "rel_month" in twfe.headline.columns:
            t = twfe.headline.loc[twfe.headline["rel_month"].notna()].sort_values("rel_month")
            tx = t["rel_month"].to_numpy(dtype=float)
            te = t["estimate"].to_numpy(dtype=float)
            lo = np.where(np.isnan(t["ci_low"].to_numpy(dtype=float)), te, t["ci_low"].to_numpy(dtype=float))
            hi = np.where(np.isnan(t["ci_high"].to_numpy(dtype=float)), te, t["ci_high"].to_numpy(dtype=float))
            ax.errorbar(
                tx + 0.12,
                te,
                yerr=error_bars(te, lo, hi),
                fmt="s--",
                capsize=3,
                color="grey",
                alpha=0.8,
                label=labels.text("twfe_event_study", lang=lang, sep=" / "),
            )
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(-0.5, color="grey", lw=0.8, ls="--")
        ticks = {int(v): plotting.with_n(str(int(v)), k) for v, k in zip(x, ev["n"])}
        if twfe is not None and twfe.ok and "n_month" in twfe.headline.columns:
            for v, k in zip(twfe.headline["rel_month"], twfe.headline["n_month"]):  # months only TWFE shows
                if pd.notna(v) and int(v) not in ticks:
                    ticks[int(v)] = plotting.with_n(str(int(v)), k) if pd.notna(k) else str(int(v))
        ax.set_xticks(sorted(ticks), [ticks[v] for v in sorted(ticks)])
        ax.set_xlabel(labels.text("rel_period", lang=lang, sep=" / "))
        ax.set_ylabel(labels.title("effect_vs_before", lang=lang))
        ax.set_title(labels.title("rollout_event_title", lang=lang))
        ax.legend(loc="best", fontsize="small")
        if own:
            fig.tight_layout()
    return fig


def event_table(*results: StaggeredResult, lang: catalog.Lang = "both", digits: int = 3) -> pd.DataFrame:
    """The event studies of robust results side by side, one row per estimator and month since the
    switch: ``estimator`` (with its pre-trend test), ``rel_period, estimate, ci_low, ci_high,
    p_value, n``; a result that could not be fitted gives one row with its note.

        >>> event_table(rollout_att(visits, centers), rollout_sun_abraham(visits, centers))  # doctest: +SKIP
    """
    rows = []
    for r in results:
        label = catalog.value_label("estimator", r.estimator, lang=lang)
        if not r.ok:
            rows.append(
                {
                    "estimator": label,
                    "rel_period": pd.NA,
                    "estimate": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "n": pd.NA,
                    "note": r.note,
                }
            )
            continue
        p = _float_or_none(r.pretest.get("p_value"))
        pre = (
            catalog.bilingual(
                f"上线前各月联合为 0 的检验 p = {p:.3f}", f"pre-switch months jointly 0: p = {p:.3f}", lang=lang
            )
            if p is not None
            else ""
        )
        for i, e in enumerate(r.event.itertuples()):
            rows.append(
                {
                    "estimator": label,
                    "rel_period": int(e.rel_period),
                    "estimate": round(e.estimate, digits),
                    "ci_low": round(e.ci_low, digits),
                    "ci_high": round(e.ci_high, digits),
                    "p_value": e.p_value,
                    "n": int(e.n),
                    "note": pre if i == 0 else "",
                }
            )
    out = pd.DataFrame(
        rows, columns=["estimator", "rel_period", "estimate", "ci_low", "ci_high", "p_value", "n", "note"]
    )
    out["rel_period"] = out["rel_period"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    return out
