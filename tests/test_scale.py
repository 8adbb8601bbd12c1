"""The computations that make the report scale to a national network give the numbers they
replace: the ordinal model with analytic derivatives against statsmodels' numerical ones, the
randomisation test on center × month cells against the visit-level computation."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.numdiff import approx_fprime, approx_hess3

from cxlib import did, models
from cxlib.errors import DataError
from cxlib.ordinal import AnalyticOrderedModel

ROOT = Path(__file__).resolve().parents[1]
ADJUST = ["repair_minutes", "scenario", "warranty", "center"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from cxlib import clean

    out = tmp_path_factory.mktemp("processed")
    clean.clean(ROOT / "data" / "raw", out)
    return clean.load(out)


def _ordinal_case(seed: int = 3, n: int = 2500, distr: str = "logit") -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 2, n).astype(float), "c": rng.gamma(2.0, 50.0, n)})
    noise = rng.logistic(size=n) if distr == "logit" else rng.normal(size=n)
    latent = x @ np.array([0.8, -0.5, 0.004]) + noise
    y = pd.Series(pd.Categorical(np.digitize(latent, [-1.5, -0.5, 0.2, 0.9, 1.6]), ordered=True))
    return y, x


@pytest.mark.parametrize("distr", ["logit", "probit"])
def test_analytic_derivatives_equal_numerical_ones(distr):
    y, x = _ordinal_case(distr=distr)
    num, ana = OrderedModel(y, x, distr=distr), AnalyticOrderedModel(y, x, distr=distr)
    p = num.start_params + np.random.default_rng(0).normal(scale=0.05, size=len(num.start_params))
    p[2] = 0.003
    assert ana.score(p) == pytest.approx(approx_fprime(p, num.loglike, centered=True), rel=1e-6, abs=1e-4)
    so = approx_fprime(p, num.loglikeobs, centered=True)
    assert np.abs(ana.score_obs(p) - so).max() < 1e-5 * max(1.0, np.abs(so).max())
    assert ana.score_obs(p).sum(axis=0) == pytest.approx(ana.score(p), rel=1e-10, abs=1e-8)
    H = approx_hess3(p, num.loglike)
    assert np.abs(ana.hessian(p) - H).max() < 1e-5 * np.abs(H).max()


@pytest.mark.parametrize("distr", ["logit", "probit"])
def test_analytic_fit_equals_statsmodels_numerical_fit(distr):
    # statsmodels' own fit (BFGS on numerical gradients) driven to a tight gradient: the same maximum
    y, x = _ordinal_case(seed=5, distr=distr)
    g = np.random.default_rng(1).integers(0, 12, len(y))
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": g}, "use_t": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = OrderedModel(y, x, distr=distr).fit(method="bfgs", maxiter=5000, gtol=1e-9, disp=0, **kw)
    res = AnalyticOrderedModel(y, x, distr=distr).fit_mle(**kw)
    assert res.mle_retvals["converged"] and res.mle_retvals["newton_iterations"] < 30
    assert np.abs(np.asarray(res.params) - np.asarray(ref.params)).max() < 1e-6
    assert np.asarray(res.bse) == pytest.approx(np.asarray(ref.bse), rel=1e-4)


@pytest.mark.slow
def test_ltr_ordinal_equals_todays_statsmodels_fit_on_the_sample(sample):
    """Notebook 03's ordinal model: coefficients within 1e-6, standard errors within 5e-4 relative of
    statsmodels' OrderedModel converged to the same maximum. The reference's Hessian is a numerical
    one, whose error moves with the order of the rows by about 1e-4 (seen when the processed tables
    were sorted by center and month); the analytic derivatives are checked against numerical ones above."""
    r = models.ltr_ordinal(
        sample.visits, updates="n_inprogress_updates", adjust=models.Adjustment(controls=ADJUST, log_controls=[])
    )
    assert r.ok and r.fit.mle_retvals["converged"]
    mod = r.fit.model
    k = mod.exog.shape[1]
    groups = pd.factorize(mod.data.frame["center"].astype(str), sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = OrderedModel(mod.endog, pd.DataFrame(mod.exog, columns=mod.exog_names[:k]), distr="logit").fit(
            method="bfgs", maxiter=5000, gtol=1e-9, disp=0, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
        )
    assert np.abs(np.asarray(r.fit.params) - np.asarray(ref.params)).max() < 1e-6
    assert np.asarray(r.fit.bse) == pytest.approx(np.asarray(ref.bse), rel=5e-4)
    # the table's thresholds are the cumulated cut-points of those parameters
    thr = r.table.loc[r.table["kind"] == "threshold", "estimate"].to_numpy()
    assert thr == pytest.approx(ref.model.transform_threshold_params(np.asarray(ref.params))[1:-1], abs=1e-6)


def test_analytic_model_refuses_other_distributions():
    y, x = _ordinal_case()
    from scipy import stats

    with pytest.raises(DataError, match="logit and the probit"):
        AnalyticOrderedModel(y, x, distr=stats.cauchy)


# ---------------------------------------------------------------------------- randomisation test
def _rollout_inputs(visits: pd.DataFrame, centers: pd.DataFrame):
    base = models.rollout_visits(
        visits,
        centers,
    )
    y_all = models.numeric_outcome(visits, "ltr")
    ok = y_all.notna() & visits["center"].notna() & base["month_index"].notna()
    cen = visits.loc[ok, "center"].astype(str).to_numpy()
    names = sorted(set(cen))
    code = pd.Series(range(len(names)), index=names)[cen].to_numpy()
    arr = pd.to_datetime(visits.loc[ok, "arrived_at"])
    if isinstance(arr.dtype, pd.DatetimeTZDtype):
        arr = arr.dt.tz_localize(None)
    since = centers.set_index("center_id")["realtime_since"]
    dates = [pd.Timestamp(since[k]) for k in names if pd.notna(since.get(k))]
    return (
        y_all[ok].to_numpy(float),
        code,
        base.loc[ok, "month_index"].to_numpy(float),
        arr.dt.normalize().to_numpy(),
        names,
        dates,
    )


@pytest.mark.parametrize("control_group", ["not_yet_treated", "never_treated"])
def test_randomization_cells_equal_the_visit_level_statistics(sample, control_group):
    """On the sample, the center × month computation of an assignment's statistics equals the
    visit-level estimators run on the centers re-dated by that assignment."""
    import itertools

    y, code, midx, day, names, dates = _rollout_inputs(sample.visits, sample.centers)
    cells = did._RolloutCells(y, code, midx, day, dates, len(names))
    perms = list(itertools.permutations(range(len(names)), len(dates)))
    for a in perms[::211] + [perms[-1]]:  # a spread of the 840 assignments
        slots = [-1] * len(names)
        for k, slot in enumerate(a):
            slots[slot] = k
        (cs,), (tw,) = cells.statistics(slots, control_group)
        moved = sample.centers.assign(
            realtime_since=[
                dates[slots[names.index(c)]] if c in names and slots[names.index(c)] >= 0 else None
                for c in sample.centers["center_id"]
            ]
        )
        ref_cs = did.rollout_att(sample.visits, moved, "ltr", control_group=control_group).headline["estimate"].iloc[0]
        ref_tw = models.did_rollout(sample.visits, moved, "ltr").headline["estimate"].iloc[0]
        assert cs == pytest.approx(ref_cs, rel=1e-10, abs=1e-12)
        assert tw == pytest.approx(ref_tw, rel=1e-9, abs=1e-12)


def test_randomization_test_observed_statistics_are_the_estimators_own(sample):
    ri = did.randomization_test(sample.visits, sample.centers, "ltr").set_index("estimator")
    assert (ri["n_assignments"] == 840).all() and ri["enumerated"].all()
    tw = models.did_rollout(sample.visits, sample.centers, "ltr").headline["estimate"].iloc[0]
    assert ri.loc["twfe", "estimate"] == pytest.approx(tw, rel=1e-9)
    cs = did.rollout_att(sample.visits, sample.centers, "ltr").headline["estimate"].iloc[0]
    assert ri.loc["callaway_santanna", "estimate"] == pytest.approx(cs, rel=1e-9)


# ---------------------------------------------------------------------------- formulas and the Brant test
def test_categorical_controls_give_patsys_own_design(sample):
    """Controls handed to patsy as pandas categoricals: the same design matrix and term names as
    patsy's own C() on the strings."""
    import statsmodels.formula.api as smf

    for form in ("linear", "categorical"):
        r = models.ltr_ols(
            sample.visits,
            updates="n_inprogress_updates",
            form=form,
            adjust=models.Adjustment(controls=ADJUST, log_controls=[]),
            inference=models.Inference(few_cluster=False),
        )
        frame = r.fit.model.data.frame.copy()
        for c in ("scenario", "warranty", "center"):
            if not isinstance(sample.visits[c].dtype, pd.CategoricalDtype):  # (scenario is, in catalog order)
                frame[c] = frame[c].astype(str)
        ref = smf.ols(r.fit.model.formula, frame).fit()
        assert r.fit.model.exog_names == ref.model.exog_names
        assert np.array_equal(r.fit.model.exog, ref.model.exog)
        assert np.asarray(r.fit.params) == pytest.approx(np.asarray(ref.params), rel=1e-12, abs=1e-12)


def test_brant_binary_logits_equal_statsmodels_logit(sample):
    import statsmodels.api as sm

    r = models.ltr_ordinal(
        sample.visits, updates="n_inprogress_updates", adjust=models.Adjustment(controls=ADJUST, log_controls=[])
    )
    slopes = r.proportional_odds.attrs["binary_slopes"]
    mod = r.fit.model
    X = np.column_stack([np.ones(mod.nobs), mod.exog])
    codes = np.asarray(mod.endog)
    merged = np.searchsorted([b for _, b in r.proportional_odds.attrs["categories"]], codes)
    for j, col in enumerate(slopes.columns):
        ref = sm.Logit((merged > j).astype(float), X).fit(disp=0, method="newton", maxiter=100)
        assert slopes[col].to_numpy() == pytest.approx(np.asarray(ref.params)[1:], rel=1e-8, abs=1e-10)


# ---------------------------------------------------------------------------- peak-end bootstrap
def test_peak_end_bootstrap_from_row_counts_equals_the_resample_loop():
    from cxlib import peak_end

    rng = np.random.default_rng(4)
    n = 700
    y = rng.normal(size=n)
    pred = np.column_stack([y + rng.normal(scale=s, size=n) for s in (0.5, 1.0, 2.0)])
    got = peak_end._boot_r2(y, pred, np.random.default_rng(9), 45)  # over two chunks and a part
    ref_rng = np.random.default_rng(9)
    ref = np.empty((45, 3))
    for b in range(45):  # the loop it replaces: one resample at a time, every model
        idx = ref_rng.integers(0, n, n)
        ref[b] = [peak_end._r2(y[idx], pred[idx, j]) for j in range(3)]
    assert got == pytest.approx(ref, rel=1e-10, abs=1e-12)


# ---------------------------------------------------------------------------- key-driver jackknife
@pytest.mark.slow
def test_linear_jackknife_gives_the_exact_jackknifes_bca_intervals():
    """Above 50,000 responses the BCa acceleration comes from the first-order jackknife: on 20,000
    generated responses every column (weights, BCa intervals, the random-variable test) equals the
    exact jackknife's within 1e-5 (relative)."""
    from cxlib import drivers

    rng = np.random.default_rng(3)
    n, p = 20_000, 9
    X = np.round(np.clip(7 + 1.5 * (rng.normal(size=(n, p)) + rng.normal(size=(n, 1))), 1, 10))
    y = np.clip(np.round(X @ rng.uniform(0.05, 0.3, p) * 0.6 + rng.normal(size=n)), 0, 10)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]).assign(ltr=y)
    pts = [f"x{i}" for i in range(p)]
    exact = drivers.bootstrap_relative_weights(
        df, "ltr", pts, bootstrap=drivers.Bootstrap(n_boot=200, seed=1, jackknife="exact")
    )
    linear = drivers.bootstrap_relative_weights(
        df, "ltr", pts, bootstrap=drivers.Bootstrap(n_boot=200, seed=1, jackknife="linear")
    )
    num = exact.select_dtypes("number").columns
    assert linear[num].to_numpy() == pytest.approx(exact[num].to_numpy(), rel=1e-5, abs=1e-9)
    assert (linear["beats_random"] == exact["beats_random"]).all()
    assert drivers.EXACT_JACKKNIFE_UP_TO == 50_000  # the sample and one center's month stay exact


def test_stage_minutes_by_position_equal_the_string_lookup(sample):
    """The time weights of the peak-end summary, looked up by position, equal the per-stage map of
    visit ids they replace (computed here as before)."""
    from cxlib import catalog, peak_end

    d = sample.scores.copy()
    d["_value"] = pd.to_numeric(d["score"], errors="coerce")
    d = d[d["_value"].notna()]
    got = peak_end._stage_minutes(d, sample.visits, "response_id", "point")
    stamps = sorted({c for span in peak_end.STAGE_SPANS.values() for c in span})
    stage = d["point"].astype(str).map({p.code: p.stage for p in catalog.SCORE_POINTS})
    v = sample.visits[["visit_id", *stamps]].drop_duplicates("visit_id")
    v = v.set_index(v["visit_id"].astype(str))
    vid = d["visit_id"].astype(str)
    ref = pd.Series(0.0, index=d.index)
    for st, (a, b) in peak_end.STAGE_SPANS.items():
        rows = (stage == st) & vid.isin(v.index)
        span = (pd.to_datetime(vid[rows].map(v[b])) - pd.to_datetime(vid[rows].map(v[a]))).dt.total_seconds() / 60
        share = d.loc[rows].groupby(["response_id"], sort=False, observed=True)["point"].transform("size")
        ref.loc[rows] = (span.clip(lower=0) / share).to_numpy(dtype=float, na_value=np.nan)
    ref[~vid.isin(v.index)] = np.nan
    assert got.to_numpy() == pytest.approx(ref.to_numpy(), rel=1e-12, nan_ok=True)
    assert got.notna().sum() > 0.9 * len(got)


def test_naive_vs_adjusted_needs_no_negative_binomial(sample):
    """duration_confounding quotes the Poisson rows: fitting NB2 beside them (the slowest fit at
    scale) changed nothing it shows; the Poisson estimates equal complaint_models' own."""
    v = models.with_update_parts(sample.visits)
    adjust = [*ADJUST, *models.UPDATE_PARTS]
    r = models.naive_vs_adjusted(
        v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
    )
    full = models.complaint_models(
        v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
    )
    pois = full.headline.set_index("model").loc["poisson"]
    adj = r.headline.set_index("estimate_type").loc["adjusted"]
    for k, ref in (("estimate", "rate_ratio"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p_value", "p_value")):
        assert adj[k] == pytest.approx(pois[ref], rel=1e-12)
    assert set(r.table["model"]) == {"poisson"}
    only = models.complaint_models(
        v, updates="n_inprogress_updates", nb2=False, adjust=models.Adjustment(controls=adjust, log_controls=[])
    )
    assert only.headline["model"].tolist() == ["poisson"]


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("boundary", [False, True])
def test_duration_confounding_reuses_the_notebooks_adjusted_fits(sample, monkeypatch, boundary):
    """duration_confounding_from with notebook 03's ltr_ols (c27) and complaint_models (c33) fits
    gives duration_confounding's result, fitting only the two naive models; also when NB2 sits at
    its boundary (the Poisson row's note then says so in complaint_models, not in the comparison)."""
    v = models.with_update_parts(sample.visits)
    adjust = [*ADJUST, *models.UPDATE_PARTS]
    kw = {"updates": "n_inprogress_updates", "adjust": models.Adjustment(controls=adjust, log_controls=[])}
    # the sample's NB2 sits at its boundary; both cases, whatever the data
    monkeypatch.setattr(models, "_nb_boundary", lambda *a, **k: "alpha estimated at 0" if boundary else "")
    ref = models.duration_confounding(v, **kw)
    ltr_linear = models.ltr_ols(v, updates="n_inprogress_updates", form="linear", adjust=kw["adjust"])
    complaints = models.complaint_models(v, **kw)
    assert bool(complaints.headline["boundary"].any()) == boundary
    calls = {"ltr_ols": 0, "complaint_models": 0}
    for name in calls:
        fn = getattr(models, name)

        def counted(*a, _fn=fn, _name=name, **k):
            calls[_name] += 1
            return _fn(*a, **k)

        monkeypatch.setattr(models, name, counted)
    got = models.duration_confounding_from(ltr_linear, complaints, v, **kw)
    assert calls == {"ltr_ols": 1, "complaint_models": 1}  # the naive ones
    _frames_equal(got.headline, ref.headline)
    _frames_equal(got.table, ref.table)
    assert (got.note, got.n, got.n_clusters, got.converged) == (ref.note, ref.n, ref.n_clusters, ref.converged)
    # fits of another update column are not taken: everything is fitted again
    other = models.ltr_ols(v, updates="n_proactive_updates", form="linear", adjust=kw["adjust"])
    calls.update(ltr_ols=0, complaint_models=0)
    again = models.duration_confounding_from(other, ltr_linear, v, **kw)
    assert calls == {"ltr_ols": 2, "complaint_models": 2}
    _frames_equal(again.headline, ref.headline)


def test_rollout_models_text_factors_give_patsys_own_design(sample):
    """The rollout regressions' text factors (month, center) as categoricals: patsy's design."""
    import statsmodels.formula.api as smf

    r = models.did_rollout(sample.visits, sample.centers, outcome="ltr")
    ref = smf.ols(r.fit.model.formula, r.fit.model.data.frame).fit()  # patsy's own C() on the same frame
    assert r.fit.model.exog_names == ref.model.exog_names
    assert np.array_equal(r.fit.model.exog, ref.model.exog)
    assert np.asarray(r.fit.params) == pytest.approx(np.asarray(ref.params), rel=1e-10, abs=1e-12)


# ---------------------------------------------------------------------------- the scale benchmark
def test_the_benchmark_measures_the_memory_of_the_whole_process_tree():
    """A parent whose child holds 300 MB: the tree's peak counts the child (a real process)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "bench_report.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    child = "import time, numpy as np; a = np.ones(300 * 2**20 // 8); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    r = bench.run_tree([sys.executable, "-c", parent], interval=0.1)
    assert r["max_processes"] >= 2
    assert r["peak_bytes"] > 300 * 2**20
    assert r["wall_s"] >= 1.5


# ----------------------------------------------------------------------------------- NB2 by Newton
def _nb_case(seed: int = 4, n: int = 3000, alpha: float = 0.8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n).astype(float)])
    mu = np.exp(X @ [-0.4, 0.3, -0.5])
    y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)) if alpha else rng.poisson(mu)
    return y.astype(float), X, rng.integers(0, 9, n)


def test_nb2_derivatives_equal_statsmodels_ones():
    """The log-likelihood, score, per-visit scores and Hessian of AnalyticNB2 are statsmodels' NB2
    ones (its closed forms, and its complex-step per-visit scores) to 1e-9 relative."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    from cxlib.negbin import AnalyticNB2

    y, X, _ = _nb_case()
    ours, ref = AnalyticNB2(y, X), NegativeBinomial(y, X, loglike_method="nb2")
    for transparams in (False, True):
        ours._transparams = ref._transparams = transparams
        p = np.array([-0.3, 0.25, -0.4, np.log(0.7) if transparams else 0.7])
        assert ours.loglike(p) == pytest.approx(ref.loglike(p), rel=1e-12)
        assert ours.loglikeobs(p) == pytest.approx(ref.loglikeobs(p), rel=1e-10, abs=1e-12)
        assert ours.score(p) == pytest.approx(ref.score(p), rel=1e-9, abs=1e-9)
        so = ref.score_obs(p)
        assert np.abs(ours.score_obs(p) - so).max() < 1e-9 * np.abs(so).max()
        H = ref.hessian(p)
        assert np.abs(ours.hessian(p) - H).max() < 1e-10 * np.abs(H).max()


@pytest.mark.parametrize("seed", [4, 8])
def test_nb2_newton_fit_equals_statsmodels_bfgs_fit(seed):
    """Overdispersed counts: the Newton fit reaches statsmodels' BFGS maximum (run to a tight gradient):
    coefficients and alpha within 1e-6, cluster-robust standard errors within 1e-5 relative."""
    from statsmodels.discrete.discrete_model import NegativeBinomial, Poisson

    from cxlib.negbin import AnalyticNB2

    y, X, g = _nb_case(seed=seed)
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": g}, "use_t": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=5000, gtol=1e-10, **kw)
        pois = Poisson(y, X).fit(disp=0)
    res = AnalyticNB2(y, X).fit_mle(start_params=pois.params, **kw)
    assert res.mle_retvals["newton_converged"] and res.mle_retvals["newton_iterations"] < 20
    assert res.mle_retvals["converged"]
    assert np.abs(np.asarray(res.params) - np.asarray(ref.params)).max() < 1e-6
    assert np.asarray(res.bse) == pytest.approx(np.asarray(ref.bse), rel=1e-5)
    assert res.llf == pytest.approx(ref.llf, rel=1e-12)


def test_nb2_at_its_boundary_is_statsmodels_own_bfgs_fit():
    """Poisson counts (the score of alpha at 0 not positive): no interior maximum, so the fit is the
    BFGS one statsmodels makes from its own start, with its own derivatives: the same stop on the flat
    ridge towards alpha = 0 (estimates within 1e-8) and the same warnings."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    from cxlib.negbin import AnalyticNB2

    for seed in range(1, 40):  # the first Poisson sample whose alpha score at 0 is negative
        y, X, g = _nb_case(seed=seed, alpha=0)
        from statsmodels.discrete.discrete_model import Poisson

        pois = Poisson(y, X).fit(disp=0)
        if float(((y - pois.predict()) ** 2 - y).sum()) <= 0:
            break
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": g}, "use_t": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=500, **kw)
        res = AnalyticNB2(y, X).fit_mle(start_params=pois.params, maxiter=500, **kw)
    assert not res.mle_retvals["newton_converged"] and res.mle_retvals["newton_iterations"] == 0
    assert np.abs(np.asarray(res.params) - np.asarray(ref.params)).max() < 1e-8
    assert np.asarray(res.bse) == pytest.approx(np.asarray(ref.bse), rel=1e-6, nan_ok=True)
    assert res.mle_retvals["converged"] == ref.mle_retvals["converged"]


def test_complaint_models_equal_todays_negative_binomial_fit(sample):
    """Notebook 03's complaint models: the NB2 rows equal statsmodels' BFGS fit of the same formula
    (estimates within 1e-6, standard errors within 1e-4 relative) and the notes are unchanged."""
    import statsmodels.formula.api as smf

    v = models.with_update_parts(sample.visits)
    adjust = [*ADJUST, *models.UPDATE_PARTS]
    r = models.complaint_models(
        v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
    )
    nb = r.fit["nb2"]
    frame = r.fit["poisson"].model.data.frame
    groups = pd.factorize(frame["center"].astype(str), sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.negativebinomial(nb.model.formula, frame, loglike_method="nb2", eval_env=models._FORMULA_ENV).fit(
            disp=0, maxiter=500, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
        )
    assert list(nb.params.index) == list(ref.params.index)
    assert np.abs(np.asarray(nb.params) - np.asarray(ref.params)).max() < 1e-6
    assert np.asarray(nb.bse) == pytest.approx(np.asarray(ref.bse), rel=1e-4)
    h = r.headline.set_index("model")
    assert h.loc["nb2", "alpha"] == pytest.approx(float(ref.params["alpha"]), abs=1e-6)
    assert f"alpha estimated = {float(ref.params['alpha']):.3g}" in h.loc["nb2", "note"]


# ----------------------------------------------------------------------------------- fitted models' data
def _statsmodels_results(fit) -> list:
    if isinstance(fit, models.ModelResult):
        return _statsmodels_results(fit.fit)
    if isinstance(fit, dict):
        return [r for f in fit.values() for r in _statsmodels_results(f)]
    return [fit] if hasattr(fit, "remove_data") else []


@pytest.mark.slow
def test_models_of_many_rows_drop_their_data_and_keep_their_tables(sample, monkeypatch):
    """A fit of more than KEEP_FIT_DATA_UP_TO rows releases its design matrix, outcome and data frame
    once the tables are made: the tables are those of the fit that keeps them, value for value, and the
    results still give their estimates, errors and intervals."""
    v = models.with_update_parts(sample.visits)
    adjust = [*ADJUST, *models.UPDATE_PARTS]
    fits = {
        "ols": lambda: models.ltr_ols(
            v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
        ),
        "ordinal": lambda: models.ltr_ordinal(
            v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
        ),
        "promoter": lambda: models.promoter_logit(
            v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
        ),
        "complaints": lambda: models.complaint_models(
            v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
        ),
        "did": lambda: models.did_rollout(v, sample.centers, outcome="ltr"),
        "confounding": lambda: models.duration_confounding(
            v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
        ),
    }
    kept = {k: f() for k, f in fits.items()}
    assert kept["ols"].fit.model.exog is not None  # the sample is below the threshold
    monkeypatch.setattr(models, "KEEP_FIT_DATA_UP_TO", 0)
    for k, f in fits.items():
        r = f()
        pd.testing.assert_frame_equal(r.table, kept[k].table)
        pd.testing.assert_frame_equal(r.headline, kept[k].headline)
        assert r.note == kept[k].note
        inner = _statsmodels_results(r.fit)
        assert inner
        for res in inner:
            assert res.model.exog is None and res.model.endog is None
            assert getattr(res.model.data, "frame", None) is None
            assert np.isfinite(np.asarray(res.params, dtype=float)).all()
            assert np.asarray(res.conf_int()).shape[0] == len(res.params)


# ----------------------------------------------------------------------------------- absorbed center effects
def test_few_cluster_inference_on_the_absorbed_design_equals_the_dummies(sample):
    """CR2 and the wild cluster bootstrap of the OLS models run on the design with the center effects
    absorbed (the intercept and center dummies out, months kept as dummies): their numbers are those of
    cxlib.inference on the fitted dummy design, to 1e-9 relative."""
    from cxlib import inference

    v = models.with_update_parts(sample.visits)
    adjust = [*ADJUST, *models.UPDATE_PARTS]
    for r, key in (
        (
            models.ltr_ols(
                v, updates="n_inprogress_updates", adjust=models.Adjustment(controls=adjust, log_controls=[])
            ),
            "Q('n_inprogress_updates')",
        ),
        (models.did_rollout(v, sample.centers, outcome="ltr"), None),
    ):
        X, y = r.fit.model.exog, r.fit.model.endog
        names = list(r.fit.model.exog_names)
        assert any(n.startswith("C(Q('center'))") or n.startswith("C(center)") for n in names)
        g = pd.factorize(r.fit.model.data.frame["center"].astype(str), sort=True)[0]
        h = r.headline.iloc[0]
        j = names.index(key) if key else [models._pretty(n) for n in names].index(h["term"])
        c2 = inference.cr2_coef_test(X, y, g, j)
        assert (h["se_cr2"], h["df_cr2"], h["p_cr2"]) == pytest.approx((c2.std_error, c2.df, c2.p_value), rel=1e-9)
        w = inference.wild_cluster_bootstrap(
            X, y, g, j, bootstrap=inference.WildBootstrap(B=models.WILD_ENUMERATE_UP_TO, rng=models.WILD_SEED)
        )
        assert (h["p_wild"], h["ci_low_wild"], h["ci_high_wild"]) == pytest.approx(
            (w.p_value, w.ci_low, w.ci_high), rel=1e-9
        )
        Xa, ya, ga, cols, absorb = models._absorbed_design(
            r.fit, models._Prepared(r.fit.model.data.frame, g, 7, [], [], ("C(center)",), "center")
        )
        assert absorb is not None and len(cols) < X.shape[1] and "Intercept" not in [names[i] for i in cols]


def test_separation_check_by_categories_equals_the_text_copy():
    """_drop_separated's outcome by level of a categorical control: by its categories (unused ones
    and an order other than the text's included) the same table as by a text copy of every row."""
    rng = np.random.default_rng(5)
    col = pd.Series(pd.Categorical(rng.choice(["b", "a", "C10", "C2"], 500), categories=["b", "zz", "C2", "a", "C10"]))
    y = pd.Series(rng.poisson(0.3, 500).astype(float))
    ref = y.groupby(col.astype(str).to_numpy()).agg(["min", "max", "size"])
    pd.testing.assert_frame_equal(models._by_level(y, col), ref)
    ints = pd.Series(pd.Categorical(rng.choice([3, 1, 20], 500)))
    pd.testing.assert_frame_equal(
        models._by_level(y, ints), y.groupby(ints.astype(str).to_numpy()).agg(["min", "max", "size"])
    )


def _score_matrix_by_pivot(scores: pd.DataFrame, outcome: str | None = "ltr") -> pd.DataFrame:
    """journey.score_matrix as a pivot of text columns (how it was computed before the codes)."""
    from cxlib import catalog

    d = pd.DataFrame(
        {"id": scores["response_id"].astype(str), "point": scores["point"].astype(str), "score": scores["score"]}
    )
    wide = d.pivot(index="id", columns="point", values="score")
    wide = wide[[p for p in catalog.SCORE_POINT_ORDER if p in wide.columns]]
    wide.index.name = "response_id"
    wide.columns.name = None
    if outcome:
        y = pd.to_numeric(scores[outcome], errors="coerce").groupby(scores["response_id"].astype(str)).first()
        wide[outcome] = y.astype("float64")
    return wide.reset_index()


def test_score_matrix_by_codes_equals_the_pivot(sample):
    from cxlib import journey

    s = sample.scores
    assert isinstance(s["point"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(journey.score_matrix(s), _score_matrix_by_pivot(s))
    # shuffled rows, missing scores and outcomes, a point nobody scored, the points as text
    rng = np.random.default_rng(3)
    t = s.sample(frac=1.0, random_state=4).reset_index(drop=True)
    t = t.loc[t["point"].astype(str) != str(t["point"].iloc[0])].reset_index(drop=True)
    t["score"] = t["score"].astype(float).where(rng.random(len(t)) > 0.05)
    t["ltr"] = t["ltr"].astype(float).where(rng.random(len(t)) > 0.3)
    for frame in (t, t.assign(point=t["point"].astype(str).astype(object))):
        got = journey.score_matrix(frame)
        pd.testing.assert_frame_equal(got, _score_matrix_by_pivot(frame))
    pd.testing.assert_frame_equal(journey.score_matrix(t, outcome=None), _score_matrix_by_pivot(t, outcome=None))


def test_score_matrix_errors_name_the_row_as_before(sample):
    from cxlib import journey

    s = sample.scores.head(200).copy()
    twice = pd.concat([s, s.iloc[[7]]], ignore_index=True)
    with pytest.raises(DataError, match=f"response {s['response_id'].iloc[7]} scores point {s['point'].iloc[7]} twice"):
        journey.score_matrix(twice)
    bad = s.assign(point=s["point"].cat.add_categories(["nowhere"]))
    bad.loc[5, "point"] = "nowhere"
    with pytest.raises(DataError, match="unknown journey point 'nowhere'") as e:
        journey.score_matrix(bad)
    assert e.value.row == 6
    with pytest.raises(DataError, match="unknown journey point 'nowhere'") as e2:
        journey.score_matrix(bad.assign(point=bad["point"].astype(str)))
    assert e2.value.row == 6


def _rollout_visits_row_by_row(visits: pd.DataFrame, centers: pd.DataFrame) -> pd.DataFrame:
    """models.rollout_visits as it was computed before the distinct values: every visit's center
    looked up and every month parsed as text."""
    c = centers.drop_duplicates("center_id")
    since = pd.Series(pd.to_datetime(c["realtime_since"], errors="coerce").to_numpy(), index=c["center_id"].astype(str))
    vc = visits["center"].astype("string")
    s = pd.to_datetime(vc.map(since))
    arr = pd.to_datetime(visits["arrived_at"])
    if isinstance(arr.dtype, pd.DatetimeTZDtype):
        arr = arr.dt.tz_localize(None)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    parsed = pd.to_datetime(visits["month"].astype("string"), format="%Y-%m", errors="coerce")
    midx = parsed.dt.year * 12 + parsed.dt.month
    ridx = s.dt.year * 12 + s.dt.month
    return pd.DataFrame(
        {
            "treated": s.notna().to_numpy(),
            "post": (s.notna() & (arr.dt.normalize() >= s.dt.normalize())).astype(float).to_numpy(),
            "month_index": midx.to_numpy(dtype=float),
            "rel_month": (midx - ridx).to_numpy(dtype=float),
        },
        index=visits.index,
    )


def test_rollout_visits_by_distinct_values_equal_the_row_by_row_lookup(sample):
    v, c = sample.visits, sample.centers
    pd.testing.assert_frame_equal(models.rollout_visits(v, c), _rollout_visits_row_by_row(v, c))
    # missing centers and months, another row order and index, switch dates with a time zone
    rng = np.random.default_rng(1)
    w = v.sample(frac=0.5, random_state=2).copy()
    w.index = w.index * 3 + 1
    w["center"] = w["center"].astype(object).where(rng.random(len(w)) > 0.05)
    w["month"] = w["month"].astype(object).where(rng.random(len(w)) > 0.05)
    pd.testing.assert_frame_equal(models.rollout_visits(w, c), _rollout_visits_row_by_row(w, c))
    tz = c.assign(realtime_since=pd.to_datetime(c["realtime_since"]).dt.tz_localize("Asia/Shanghai"))
    pd.testing.assert_frame_equal(models.rollout_visits(w, tz), _rollout_visits_row_by_row(w, tz))
    none = c.assign(realtime_since=None)
    pd.testing.assert_frame_equal(models.rollout_visits(w, none), _rollout_visits_row_by_row(w, none))


def test_rollout_visits_name_the_first_bad_month_and_unknown_centers(sample):
    v = sample.visits.head(50).copy()
    v["month"] = v["month"].astype(object)
    v.loc[v.index[7], "month"] = "2026/10"
    v.loc[v.index[9], "month"] = "bad"
    with pytest.raises(DataError, match="month '2026/10' is not YYYY-MM") as e:
        models.rollout_visits(v, sample.centers)
    assert e.value.row == 7
    with pytest.raises(DataError, match=r"center\(s\) ZZ-1 not in the centers table"):
        models.rollout_visits(sample.visits.head(20).assign(center="ZZ-1"), sample.centers)
