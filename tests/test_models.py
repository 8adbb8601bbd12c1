"""cxlib.models on simulated visits with known effects, plus the guards on crafted data.

Each model must recover the effect it was simulated with inside its 95% interval; cluster-robust
errors are checked against direct numpy computations (CR1 sandwich, leave-one-center-out CRV3).
"""

from __future__ import annotations

import math
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.discrete.discrete_model import NegativeBinomial  # noqa: E402

from cxlib import catalog  # noqa: E402
from cxlib import models as M  # noqa: E402
from cxlib.errors import DataError  # noqa: E402

BETA_LTR = 0.4  # LTR points (normal model) / log odds (ordinal model) per update
RATE_RATIO = 0.6  # complaints per extra update
ALPHA_NB = 0.5  # NB2 dispersion
DID = 0.8  # LTR points after the switch to real-time updates
CUTS = np.array([-6, -5.2, -4.5, -3.8, -3.0, -2.2, -1.3, -0.3, 0.8, 2.0])  # ordinal cut-points 0|1 … 9|10


def simulate(
    seed: int = 11,
    n: int = 3000,
    n_centers: int = 12,
    ltr_kind: str = "normal",
    beta: float = BETA_LTR,
    rr: float = RATE_RATIO,
    did: float = 0.0,
    switch: bool = True,
    alpha_nb: float = ALPHA_NB,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits whose repair duration drives both the number of updates and complaints (NB2 counts with
    dispersion ``alpha_nb``; Poisson counts with ``alpha_nb=0``)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"C{i:02d}" for i in range(n_centers)])
    c = rng.integers(0, n_centers, n)
    center_ltr, center_rate = rng.normal(0, 0.5, n_centers), rng.normal(0, 0.2, n_centers)
    scen = rng.choice(list(catalog.SCENARIO_ORDER), n, p=[0.5, 0.35, 0.15])
    logdur = np.select([scen == "repair", scen == "accident"], [4.8, 5.6], 4.0) + rng.normal(0, 0.6, n)
    dur = np.exp(logdur)
    warranty = rng.random(n) < 0.4
    u = rng.poisson(np.exp(-2.2 + 0.55 * np.log1p(dur)))  # longer repairs get more updates
    mi = rng.integers(0, 12, n)
    month = np.array([f"2024-{m + 1:02d}" for m in mi])
    switch_m = {i: 3 + i for i in range(min(8, n_centers - 2))} if switch else {}
    since = [pd.Timestamp(2024, switch_m[i] + 1, 1).date() if i in switch_m else None for i in range(n_centers)]
    post = np.array([(ci in switch_m) and (m >= switch_m[ci]) for ci, m in zip(c, mi)])
    day = rng.integers(1, 28, n)
    arrived = pd.to_datetime([f"{m}-{d:02d} 10:00" for m, d in zip(month, day)]).tz_localize("Asia/Shanghai")
    ctrl = (
        -0.5 * (np.log1p(dur) - 4.5)
        + 0.3 * warranty
        + np.select([scen == "repair", scen == "accident"], [-0.2, -0.5], 0)
    )
    eta = beta * u + ctrl + center_ltr[c]
    if ltr_kind == "normal":
        ltr = np.clip(np.round(6.0 + eta + rng.normal(0, 0.3, 12)[mi] + did * post + rng.normal(0, 1.0, n)), 0, 10)
    else:
        ltr = ((eta + rng.logistic(0, 1, n))[:, None] > CUTS[None, :]).sum(1).astype(float)
    mu = np.exp(-3.2 + np.log(rr) * u + 1.3 * (np.log1p(dur) - 4.5) + center_rate[c])
    ncomp = rng.poisson(rng.gamma(1 / alpha_nb, alpha_nb * mu) if alpha_nb > 0 else mu)
    visits = pd.DataFrame(
        {
            "visit_id": [f"V{i:05d}" for i in range(n)],
            "center": names[c],
            "scenario": pd.Categorical(scen, dtype=catalog.SCENARIO_DTYPE),
            "arrived_at": arrived,
            "month": month,
            "repair_minutes": dur,
            "warranty": pd.array(warranty, dtype="boolean"),
            "n_proactive_updates": u,
            "ltr": pd.array(ltr, dtype="Int64"),
            "anxiety": rng.uniform(0, 100, n),
            "n_complaints": ncomp,
            "complained": ncomp > 0,
            "true_eta": eta,
        }
    )
    centers = pd.DataFrame({"center_id": names, "realtime_since": since})
    return visits, centers


@pytest.fixture(scope="module")
def normal():
    return simulate()


@pytest.fixture(scope="module")
def ordinal():
    return simulate(seed=5, n=2000, ltr_kind="ordinal")


def covers(row, value) -> bool:
    return bool(row["ci_low"] <= value <= row["ci_high"])


# ------------------------------------------------------------------------------------ OLS
def test_ltr_ols_recovers_slope_with_cluster_robust_t_intervals(normal):
    v, _ = normal
    r = M.ltr_ols(v)
    h = r.headline.iloc[0]
    assert h["term"] == "n_proactive_updates" and covers(h, BETA_LTR)
    assert (r.n, r.n_clusters, r.converged) == (3000, 12, True)
    assert set(M.TABLE_COLUMNS) <= set(r.table.columns)
    assert set(r.table["kind"]) == {"effect", "intercept", "control", "fixed_effect"}
    # independent CR1 sandwich with G/(G-1)·(N-1)/(N-K), and t quantile with G-1 df
    X, y = r.fit.model.exog, r.fit.model.endog
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    bread = np.linalg.inv(X.T @ X)
    g = pd.factorize(v["center"], sort=True)[0]
    meat = sum(np.outer(X[g == k].T @ e[g == k], X[g == k].T @ e[g == k]) for k in range(12))
    n, k = X.shape
    V = bread @ meat @ bread * 12 / 11 * (n - 1) / (n - k)
    j = r.fit.model.exog_names.index("Q('n_proactive_updates')")
    assert h["std_error"] == pytest.approx(math.sqrt(V[j, j]), rel=1e-8)
    assert h["ci_high_cr1"] - h["estimate"] == pytest.approx(stats.t.ppf(0.975, 11) * h["std_error"], rel=1e-10)
    assert h["p_cr1"] == pytest.approx(2 * stats.t.sf(abs(h["estimate"] / h["std_error"]), 11), rel=1e-8)
    # 12 centers are few: the quoted interval and p-value are the wild cluster bootstrap's (6^12
    # Webb vectors are too many to enumerate: 9,999 drawn with a fixed seed)
    assert h["inference"] == "wild_bootstrap"
    assert (h["ci_low"], h["ci_high"], h["p_value"]) == (h["ci_low_wild"], h["ci_high_wild"], h["p_wild"])
    assert "Webb weights, 9,999 weight vectors drawn" in r.note


def test_seven_centers_quote_the_enumerated_wild_bootstrap():
    """As in the sample: 7 centers, all 6^7 Webb vectors enumerated; the extra columns are those of
    cxlib.inference on the fitted design, the CR1 ones those of statsmodels, the note says which
    method is quoted (in Chinese too)."""
    from cxlib import inference

    v, _ = simulate(seed=5, n=1400, n_centers=7)
    r = M.ltr_ols(v)
    h = r.headline.iloc[0]
    assert r.n_clusters == 7 and h["inference"] == "wild_bootstrap"
    X, y = r.fit.model.exog, r.fit.model.endog
    g = pd.factorize(r.fit.model.data.frame["center"].astype(str), sort=True)[0]
    j = r.fit.model.exog_names.index("Q('n_proactive_updates')")
    w = inference.wild_cluster_bootstrap(X, y, g, j, bootstrap=inference.WildBootstrap(B=10**6))
    assert w.enumerated and w.replications == 279_936
    assert (h["p_value"], h["ci_low"], h["ci_high"]) == pytest.approx((w.p_value, w.ci_low, w.ci_high), rel=1e-9)
    c2 = inference.cr2_coef_test(X, y, g, j)
    assert (h["se_cr2"], h["df_cr2"], h["p_cr2"]) == pytest.approx((c2.std_error, c2.df, c2.p_value), rel=1e-9)
    assert h["p_cr1"] == pytest.approx(float(r.fit.pvalues.iloc[j]), rel=1e-9)
    assert h["ci_low_cr1"] == pytest.approx(float(r.fit.conf_int().iloc[j, 0]), rel=1e-9)
    assert covers(h, BETA_LTR) and h["ci_low"] < h["estimate"] < h["ci_high"]
    assert "all 6^7 = 279,936 weight vectors enumerated" in r.note and "CR1 and CR2" in r.note
    assert "穷举全部 6^7 = 279,936 个权重向量" in M.note_text(r.note, lang="zh")
    # the table for the reader shows the quoted interval; non-effect rows carry no few-cluster numbers
    t = M.report_table(r)
    assert t.loc[0, "ci_low"] == round(h["ci_low"], 3) and t.loc[0, "p_value"] == round(h["p_value"], 3)
    assert r.table.loc[r.table["kind"] != "effect", "p_wild"].isna().all()
    # the DiD of a 7-center rollout: the same method, on the post indicator
    vv, c = simulate(seed=3, n=1400, n_centers=7, did=DID)
    d = M.did_rollout(vv, c).headline.iloc[0]
    assert d["inference"] == "wild_bootstrap" and covers(d, DID) and 1 < d["df_cr2"] < 6


def test_many_centers_quote_cr1_and_one_center_hc1(normal, monkeypatch):
    from cxlib import inference

    v, _ = normal
    monkeypatch.setattr(inference, "FEW_CLUSTERS", 10)  # as if 12 centers were many
    h = M.ltr_ols(v).headline.iloc[0]
    assert h["inference"] == "cr1" and np.isnan(h["p_wild"]) and np.isfinite(h["df_cr2"])
    assert (h["ci_low"], h["p_value"]) == (h["ci_low_cr1"], h["p_cr1"])
    one = M.ltr_ols(v.loc[v["center"] == "C00"])
    assert one.headline.iloc[0]["inference"] == "hc1" and np.isnan(one.headline.iloc[0]["df_cr2"])
    plain = M.ltr_ols(v, inference=M.Inference(few_cluster=False)).headline.iloc[0]
    assert "inference" not in plain.index and plain["ci_low"] == pytest.approx(h["ci_low"])


def test_ltr_ols_crv3_equals_leave_one_center_out_jackknife(normal):
    v, _ = normal
    r = M.ltr_ols(v, inference=M.Inference(cov_type="cluster-crv3"))
    h = r.headline.iloc[0]
    assert "CRV3" in r.note and covers(h, BETA_LTR)
    full = M.ltr_ols(v).headline.iloc[0]["estimate"]
    assert h["estimate"] == pytest.approx(full)
    X, y = r.fit.model.exog, r.fit.model.endog
    j = r.fit.model.exog_names.index("Q('n_proactive_updates')")
    g = pd.factorize(v["center"], sort=True)[0]
    betas = []
    for k in range(12):  # refit without center k (its dummy column becomes all zero and is dropped)
        keep = g != k
        cols = np.flatnonzero(np.abs(X[keep]).sum(axis=0) > 0)
        b = np.linalg.lstsq(X[keep][:, cols], y[keep], rcond=None)[0]
        betas.append(b[np.flatnonzero(cols == j)[0]])
    betas = np.array(betas)
    crv3 = math.sqrt(11 / 12 * ((betas - full) ** 2).sum())
    assert h["std_error"] == pytest.approx(crv3, rel=1e-8)


def test_ltr_ols_categorical_and_log_forms(normal):
    v, _ = normal
    cat = M.ltr_ols(v, form="categorical").headline.set_index("term")
    assert cat.index.tolist() == [
        "n_proactive_updates[1]",
        "n_proactive_updates[2]",
        "n_proactive_updates[3]",
        "n_proactive_updates[4+]",
    ]
    for k in (1, 2, 3):
        assert covers(cat.loc[f"n_proactive_updates[{k}]"], BETA_LTR * k)
    mean_4plus = v.loc[v.n_proactive_updates >= 4, "n_proactive_updates"].mean()
    assert covers(cat.loc["n_proactive_updates[4+]"], BETA_LTR * mean_4plus)
    log = M.ltr_ols(v, form="log").headline
    assert log["term"].tolist() == ["log1p(n_proactive_updates)"] and log["estimate"].iloc[0] > 0


# ------------------------------------------------------------------------------ ordinal / logit
def test_ltr_ordinal_recovers_log_odds_and_reports_thresholds(ordinal):
    v, _ = ordinal
    r = M.ltr_ordinal(v)
    assert r.converged and covers(r.headline.iloc[0], BETA_LTR)
    assert r.fit.model.distr.__class__.__name__ == "logistic_gen"
    assert "Intercept" not in r.table["term"].tolist()
    thr = r.table.loc[r.table["kind"] == "threshold"]
    used = sorted(v["ltr"].dropna().astype(int).unique())
    assert len(thr) == len(used) - 1 and thr["estimate"].is_monotonic_increasing
    cuts = r.fit.model.transform_threshold_params(r.fit.params.to_numpy())
    assert thr["estimate"].to_numpy() == pytest.approx(cuts[1:-1])
    # thresholds are shifted by the omitted reference levels, their spacing is not
    spacing = np.diff(thr["estimate"].to_numpy())
    true_spacing = np.diff(CUTS)[used[0] : used[-1] - 1]
    assert np.abs(spacing - true_spacing).max() < 0.5


def test_promoter_and_detractor_logits_with_average_marginal_effects(ordinal):
    v, _ = ordinal
    pro, det = M.promoter_logit(v), M.detractor_logit(v)
    # proportional odds: P(LTR >= 9) and P(LTR <= 6) are logits in the same linear predictor
    assert covers(pro.table.loc[pro.table["kind"] == "effect"].iloc[0], BETA_LTR)
    assert covers(det.table.loc[det.table["kind"] == "effect"].iloc[0], -BETA_LTR)
    p = 1 / (1 + np.exp(-(v["true_eta"] - CUTS[8])))
    true_ame = float((BETA_LTR * p * (1 - p)).mean())
    h = pro.headline.iloc[0]
    assert h["kind"] == "average_marginal_effect" and covers(h, true_ame)
    me = pro.fit.get_margeff(at="overall")
    assert h["estimate"] == pytest.approx(me.summary_frame().loc["Q('n_proactive_updates')", "dy/dx"])
    assert h["odds_ratio"] == pytest.approx(math.exp(pro.table.loc[pro.table["kind"] == "effect", "estimate"].iloc[0]))


def _ame_by_hand(fit, key: str) -> tuple[float, float]:
    """AME of ``key`` in a fitted logit and its delta-method SE, from the design matrix and the
    fit's (cluster-robust) covariance: AME = mean(b_k p (1 - p)), gradient
    mean(1{j = k} p (1 - p) + b_k p (1 - p) (1 - 2 p) x_j)."""
    X = np.asarray(fit.model.exog)
    b = np.asarray(fit.params)
    k = list(fit.model.exog_names).index(key)
    p = 1 / (1 + np.exp(-X @ b))
    w = p * (1 - p)
    ame = float(np.mean(b[k] * w))
    grad = (b[k] * w * (1 - 2 * p)) @ X / len(p)
    grad[k] += w.mean()
    return ame, float(np.sqrt(grad @ np.asarray(fit.cov_params()) @ grad))


@pytest.mark.parametrize("fn", [M.promoter_logit, M.detractor_logit])
def test_marginal_effects_take_t_with_clusters_minus_one_df(ordinal, fn):
    v, _ = ordinal
    r = fn(v)
    h = r.headline.iloc[0]
    key = "Q('n_proactive_updates')"
    ame, se = _ame_by_hand(r.fit, key)
    assert h["estimate"] == pytest.approx(ame, rel=1e-8) and h["std_error"] == pytest.approx(se, rel=1e-6)
    g = r.n_clusters
    assert g == 12 and h["df"] == g - 1
    q = stats.t.ppf(0.975, g - 1)
    assert (h["ci_low"], h["ci_high"]) == pytest.approx((h["estimate"] - q * se, h["estimate"] + q * se), rel=1e-6)
    assert h["p_value"] == pytest.approx(2 * stats.t.sf(abs(h["estimate"] / h["std_error"]), g - 1), rel=1e-9)
    # wider than the normal interval statsmodels' margins give (z 1.96 against t_11 2.20)
    z = r.fit.get_margeff(at="overall").summary_frame().loc[key]
    assert h["ci_high"] - h["ci_low"] > z["Cont. Int. Hi."] - z["Conf. Int. Low"]
    assert "t with 11 df" in h["note"]


def test_marginal_effects_of_a_few_centers_take_t_with_visits_minus_one_df(normal):
    v, _ = normal
    few = v.loc[v["center"].isin(["C00", "C01", "C02"])].reset_index(drop=True)
    r = M.promoter_logit(few.assign(ltr=few["ltr"]))
    h = r.headline.iloc[0]
    assert r.fallback and h["df"] == r.n - 1
    q = stats.t.ppf(0.975, r.n - 1)
    assert h["ci_high"] - h["estimate"] == pytest.approx(q * h["std_error"], rel=1e-9)


# ----------------------------------------------------------------------------------- complaints
def test_complaint_models_recover_rate_ratio_and_alpha(normal):
    v, _ = normal
    r = M.complaint_models(v)
    h = r.headline.set_index("model")
    for model in ("poisson", "nb2"):
        assert covers(h.loc[model], RATE_RATIO), model
        assert h.loc[model, "converged"]
    nb = r.fit["nb2"]
    assert isinstance(nb.model, NegativeBinomial) and nb.model.loglike_method == "nb2"
    alpha = r.table.query("model == 'nb2' and term == 'alpha'").iloc[0]
    assert alpha["kind"] == "dispersion" and covers(alpha, ALPHA_NB)
    assert h.loc["nb2", "alpha"] == pytest.approx(alpha["estimate"])
    # Wald test of H0: rate ratio = 0.5, recomputed from the coefficient and its SE (t, G-1 df)
    b, se = nb.params["Q('n_proactive_updates')"], nb.bse["Q('n_proactive_updates')"]
    p_h0 = 2 * stats.t.sf(abs((b - math.log(0.5)) / se), 11)
    assert h.loc["nb2", "p_value_h0"] == pytest.approx(p_h0, rel=1e-10)
    assert h.loc["nb2", "rate_ratio"] == pytest.approx(math.exp(b))
    assert h.loc["nb2", "ci_low"] == pytest.approx(math.exp(b - stats.t.ppf(0.975, 11) * se))


def _alpha_score_at_0(r) -> float:
    """Numerator of the Cameron-Trivedi score test of alpha = 0, from the Poisson fit: sum((y - mu)^2 - y)."""
    pois = r.fit["poisson"]
    y, mu = np.asarray(pois.model.endog), np.asarray(pois.predict())
    return float(((y - mu) ** 2 - y).sum())


@pytest.mark.parametrize("seed", [1, 3])
def test_negative_binomial_at_its_boundary_quotes_the_poisson_model(seed):
    # Poisson counts: seed 3 drives alpha to 3e-05 with a Hessian warning, seed 1 stops at alpha 0.009
    # although the likelihood falls as alpha leaves 0 (score of alpha at 0 negative)
    v, _ = simulate(seed=seed, alpha_nb=0)
    r = M.complaint_models(v)
    h = r.headline.set_index("model")
    assert _alpha_score_at_0(r) < 0  # independent check: the maximum over alpha >= 0 is at 0
    assert h.loc["nb2", "boundary"] and not h.loc["poisson", "boundary"]
    assert h.loc["poisson", "quoted"] and not h.loc["nb2", "quoted"]
    assert "overdispersion estimated at 0" in h.loc["nb2", "boundary_reason"]
    assert "NB2 reduces to Poisson; the Poisson model with cluster-robust errors is quoted" in h.loc["nb2", "note"]
    assert "quoted, NB2 being at its boundary" in h.loc["poisson", "note"]
    # where BFGS stops on the ridge towards alpha = 0 depends on the last digits of the numerical
    # libraries: a Hessian it cannot invert there is said, and NB2 then not reported as converged
    assert ("HessianInversionWarning" in h.loc["nb2", "note"]) == (not h.loc["nb2", "converged"])
    assert r.converged and r.ok and h.loc["poisson", "converged"]
    assert covers(h.loc["poisson"], RATE_RATIO)
    # the key result quotes the Poisson rate ratio with its cluster-robust (t, G-1) interval and says why
    ltr = M.ltr_ols(v, form="linear", adjust=M.Adjustment(controls=M.DEFAULT_CONTROLS))
    rr = M.update_effects_from(ltr, r, M.DEFAULT_CONTROLS)["complaint_rate_ratio_per_update"]
    assert rr["model"] == "poisson" and rr["estimate"] == pytest.approx(h.loc["poisson", "rate_ratio"])
    pois = r.fit["poisson"]
    b, se = pois.params["Q('n_proactive_updates')"], pois.bse["Q('n_proactive_updates')"]
    assert rr["ci_high"] == pytest.approx(math.exp(b + stats.t.ppf(0.975, 11) * se), rel=1e-10)
    assert rr["p_value_vs_half"] == pytest.approx(h.loc["poisson", "p_value_h0"])
    assert rr["note"].startswith("negative binomial at its boundary, overdispersion estimated at 0")
    assert "NB2 reduces to Poisson; the Poisson rate ratio with cluster-robust errors is quoted" in rr["note"]


def test_overdispersed_counts_keep_the_negative_binomial_model(normal):
    v, _ = normal
    r = M.complaint_models(v)
    h = r.headline.set_index("model")
    assert _alpha_score_at_0(r) > 0 and h.loc["nb2", "alpha"] > 0.1
    assert h.loc["nb2", "quoted"] and not h.loc["nb2", "boundary"] and h.loc["nb2", "boundary_reason"] == ""
    assert not h.loc["poisson", "quoted"] and "boundary" not in h.loc["nb2", "note"]
    rr = M.update_effects_from(M.ltr_ols(v), r, M.DEFAULT_CONTROLS)["complaint_rate_ratio_per_update"]
    assert rr["model"] == "nb2" and rr["estimate"] == pytest.approx(h.loc["nb2", "rate_ratio"]) and "note" not in rr


def test_nb_boundary_reasons():
    v, _ = simulate(seed=7, n=600, alpha_nb=0)
    r = M.complaint_models(v)
    pois = r.fit["poisson"]
    assert M._nb_boundary(pois, 1e-5, []).startswith("overdispersion estimated at 0 (alpha = 1e-05)")
    over = _alpha_score_at_0(r) > 0
    if over:  # a positive score: only a warning puts this fit at its boundary
        assert M._nb_boundary(pois, 0.3, []) == ""
        assert M._nb_boundary(pois, 0.3, ["ConvergenceWarning: Maximum Likelihood optimization failed"]).startswith(
            "the fit is unreliable (ConvergenceWarning"
        )
    else:
        assert "the likelihood falls as alpha leaves 0" in M._nb_boundary(pois, 0.3, [])
    # only an overdispersion of 0 makes NB2 the Poisson model; a warning alone just switches the model quoted
    assert (
        M._poisson_quoted("the fit is unreliable (HessianInversionWarning: …)", "HC1")
        == "the Poisson rate ratio with HC1 errors is quoted"
    )
    assert M._poisson_quoted("overdispersion estimated at 0 (alpha = 1e-05)", "cluster-robust").startswith(
        "NB2 reduces to Poisson; the Poisson rate ratio"
    )


def test_halving_hypothesis_not_rejected_when_true():
    v, _ = simulate(seed=21, rr=0.5)
    h = M.complaint_models(v).headline.set_index("model")
    assert h.loc["poisson", "p_value_h0"] > 0.05 and covers(h.loc["poisson"], 0.5)


def test_naive_estimate_is_confounded_by_repair_duration(normal):
    v, _ = normal
    r = M.naive_vs_adjusted(v)
    naive, adjusted = r.headline.iloc[0], r.headline.iloc[1]
    assert (naive["estimate_type"], adjusted["estimate_type"]) == ("naive", "adjusted")
    assert covers(adjusted, RATE_RATIO) and not covers(naive, RATE_RATIO)
    assert naive["estimate"] > adjusted["estimate"]
    assert "repair_minutes" not in naive["controls"] and "repair_minutes" in adjusted["controls"]
    assert f"×{naive['estimate']:.2f}" in r.note and f"×{adjusted['estimate']:.2f}" in r.note
    assert "more updates" in r.note and "understates the benefit" in r.note
    # break the link between duration and updates: the two estimates agree and the sentence says so
    rng = np.random.default_rng(1)
    shuffled = v.assign(repair_minutes=rng.permutation(v["repair_minutes"].to_numpy()))
    assert "barely moves the estimate" in M.naive_vs_adjusted(shuffled).note
    ltr = M.naive_vs_adjusted(v, outcome="ltr")
    assert covers(ltr.headline.iloc[1], BETA_LTR) and "LTR points" in ltr.note


# ---------------------------------------------------------------------------------- rollout
def test_did_and_event_study_recover_the_rollout_effect():
    v, c = simulate(seed=3, did=DID)
    r = M.did_rollout(v, c, outcome="ltr")
    h = r.headline.iloc[0]
    assert h["term"] == "post" and covers(h, DID) and r.n_clusters == 12
    assert "8 switching center(s)" in r.note and "4 never switched" in r.note
    ev = M.event_study(v, c, "ltr", window=(-4, 4), ref=-1)
    e = ev.headline.set_index("rel_month")
    assert e.index.tolist() == list(range(-4, 5))
    assert e.loc[-1, "estimate"] == 0 and e.loc[-1, "kind"] == "reference"
    for k in (-4, -3, -2):
        assert covers(e.loc[k], 0.0), k
    for k in range(0, 5):
        assert covers(e.loc[k], DID), k
    # the n behind each month: the switching centers' visits at that month (window ends binned)
    v_ltr = v[v["ltr"].notna()]
    since = pd.to_datetime(c.set_index("center_id")["realtime_since"])
    start = pd.to_datetime(v_ltr["center"].map(since))
    rel = (
        (v_ltr["month"].str[:4].astype(int) - start.dt.year) * 12 + v_ltr["month"].str[5:7].astype(int) - start.dt.month
    ).clip(-4, 4)
    assert e["n_month"].tolist() == [int((rel == k).sum()) for k in range(-4, 5)]
    comp = M.did_rollout(v, c, outcome="complained")
    assert comp.converged and abs(comp.headline.iloc[0]["estimate"]) < 0.2  # no complaint effect simulated


def test_did_without_any_switch_cannot_fit():
    v, c = simulate(seed=3, n=500, switch=False)
    r = M.did_rollout(v, c)
    assert not r.ok and r.note.startswith("cannot fit") and r.table["term"].tolist() == ["(cannot fit)"]
    with pytest.raises(DataError, match="before and after"):
        M.did_rollout(v, c, guards=M.Guards(strict=True))


def test_unknown_center_in_rollout_raises():
    v, c = simulate(seed=3, n=300)
    with pytest.raises(DataError, match="not in the centers table"):
        M.did_rollout(v, c.iloc[1:])


# ---------------------------------------------------------------------------------- guards
def test_unused_ordinal_categories_are_removed(ordinal):
    v, _ = ordinal
    v = v.iloc[:1200]
    v = v.assign(ltr=pd.Categorical(v["ltr"].astype(int).clip(lower=3), categories=list(range(11)), ordered=True))
    r = M.ltr_ordinal(v, adjust=M.Adjustment(controls=("repair_minutes",)))
    assert "never used, removed from the outcome: 0, 1, 2" in r.note
    assert r.converged and np.isfinite(r.table["std_error"]).all()
    assert r.table.loc[r.table["kind"] == "threshold", "term"].iloc[0] == "threshold 3|4"
    # without the guard statsmodels returns 0 / NaN for the declared-but-unused categories
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = OrderedModel(v["ltr"], v[["n_proactive_updates"]].astype(float), distr="logit").fit(method="bfgs", disp=0)
    assert not np.isfinite(raw.bse).all()


def test_missing_values_in_model_and_cluster_columns_are_dropped_first(normal):
    v, _ = normal
    v = v.copy()
    v.loc[v.index[:100], "ltr"] = pd.NA
    v.loc[v.index[100:150], "center"] = None
    v.loc[v.index[150:160], "repair_minutes"] = np.nan
    v.loc[v["center"] == "C11", "ltr"] = pd.NA  # a whole center drops out
    r = M.ltr_ols(v)
    expected = v.dropna(subset=["ltr", "center", "repair_minutes", "n_proactive_updates", "scenario", "warranty"])
    assert r.n == len(expected) and r.n_clusters == 11 == expected["center"].nunique()
    assert "rows with missing values" in r.note and r.converged
    p = M.promoter_logit(v)  # C03 has no promoter at all: its fixed effect would run off to -inf
    assert p.n_clusters == 10 and "center = C03 predicts the outcome perfectly" in p.note and p.converged
    assert p.n == len(expected) - (expected["center"] == "C03").sum()
    assert M.complaint_models(v).n_clusters == 12  # complaints do not need an LTR answer


def test_non_convergence_is_flagged(ordinal):
    v, _ = ordinal
    r = M.promoter_logit(v, guards=M.Guards(maxiter=1))
    assert not r.converged and not r.ok and "did not converge" in r.note
    assert not r.table["converged"].any()
    sep = v.assign(ltr=pd.array(np.where(v["n_proactive_updates"] >= 2, 10, 5), dtype="Int64"))
    s = M.promoter_logit(sep)
    assert not s.converged and "PerfectSeparation" in s.note


def test_too_few_clusters_or_rows_give_a_cannot_fit_row(normal):
    v, _ = normal
    two = v.loc[v["center"].isin(["C00", "C01"])]
    with pytest.raises(DataError, match="cannot fit: only 2 cluster"):
        M.ltr_ols(two, guards=M.Guards(strict=True))
    assert M.ltr_mixed(two).note.startswith("cannot fit: only 2 cluster")  # a random center intercept needs centers
    cell = v.loc[(v["center"] == "C03") & (v["month"] == "2024-05")]
    for fn in (M.ltr_ols, M.complaint_models, M.promoter_logit, M.ltr_ordinal):
        res = fn(cell, inference=M.Inference(cluster=None))
        assert res.note.startswith(f"cannot fit: only {len(cell)} complete rows"), fn.__name__
        assert res.summary()["converged"].tolist() == [False]
    assert M.ltr_ols(v.assign(n_proactive_updates=1)).note == "cannot fit: no variation in n_proactive_updates"
    few = v.groupby("center").head(2)  # 24 rows for 17 parameters (12 centers)
    assert M.ltr_ols(few, guards=M.Guards(min_n=10)).note == "cannot fit: only 24 complete rows for about 17 parameters"


def test_mixed_model_falls_back_to_ols_at_the_variance_boundary():
    rng = np.random.default_rng(0)
    n = 400
    d = pd.DataFrame(
        {
            "center": rng.choice([f"C{i}" for i in range(6)], n),
            "n_proactive_updates": rng.poisson(2, n),
            "repair_minutes": rng.uniform(30, 300, n),
            "scenario": "repair",
            "warranty": True,
        }
    )
    d["ltr"] = pd.array(
        np.clip(np.round(7 + 0.3 * d.n_proactive_updates + rng.normal(0, 1, n)), 0, 10), dtype="Int64"
    )  # no center effect at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = smf.mixedlm(
            "ltr ~ n_proactive_updates + np.log1p(repair_minutes)", d.astype({"ltr": float}), groups=d["center"]
        ).fit(reml=True)
    assert M._mixed_degenerate(raw) is not None  # the statsmodels boundary failure
    r = M.ltr_mixed(d)
    assert r.model == "ltr_ols_linear" and "mixed model unusable" in r.note and "OLS" in r.note
    assert covers(r.headline.iloc[0], 0.3)


def test_mixed_model_when_identified(normal):
    v, _ = normal
    r = M.ltr_mixed(v)
    assert r.model == "ltr_mixed" and r.converged and covers(r.headline.iloc[0], BETA_LTR)
    assert np.isfinite(r.fit.llf) and "random intercept by center" in r.note


def test_missing_column_raises(normal):
    v, _ = normal
    with pytest.raises(DataError, match="repair_minutes"):
        M.ltr_ols(v.drop(columns="repair_minutes"))


# ---------------------------------------------------------------------------------- figures
def test_figures_draw_without_warnings():
    v, c = simulate(seed=3, n=1200, did=DID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = pd.concat(
            [
                M.ltr_ols(v).table,
                M.ltr_ols(v, inference=M.Inference(cov_type="cluster-crv3")).table.assign(model="crv3"),
            ]
        )
        fig = M.plot_coefficients(table, lang="en")
        assert "Estimate" in fig.axes[0].get_xlabel()
        assert "C(center)" not in " ".join(t.get_text() for t in fig.axes[0].get_yticklabels())
        plt.close(fig)
        fig = M.plot_event_study(M.event_study(v, c, "ltr"), lang="zh")
        assert fig.axes[0].get_xlabel() == "相对上线月份"
        plt.close(fig)


# ---------------------------------------------------------------------------------- key results
def _with_parts(v: pd.DataFrame) -> pd.DataFrame:
    """Split the simulated updates into in-progress ones plus a ready notice on every other visit."""
    ready = (np.arange(len(v)) % 2 == 0) & (v["n_proactive_updates"].to_numpy() > 0)
    return v.assign(
        n_inprogress_updates=v["n_proactive_updates"] - ready.astype(int), has_photo_update=np.arange(len(v)) % 3 == 0
    )


def test_with_update_parts_derives_the_ready_notice():
    v = pd.DataFrame({"n_proactive_updates": [0, 3, 2, None], "n_inprogress_updates": [0, 2, 2, 1]})
    assert M.with_update_parts(v)["ready_notice"].tolist() == [False, True, False, pd.NA]
    with pytest.raises(DataError, match="exceeds"):
        M.with_update_parts(pd.DataFrame({"n_proactive_updates": [1], "n_inprogress_updates": [2]}))
    t = pd.DataFrame({"tier": pd.Categorical(list(catalog.TIER_ORDER), dtype=catalog.TIER_DTYPE)})
    assert M.realtime_visits(t)["tier"].astype(str).tolist() == ["realtime", "realtime_photo"]


def test_update_effects_match_the_models_and_have_the_results_shape(normal):
    v = _with_parts(normal[0])
    e = M.update_effects(v, adjust=M.Adjustment(controls=M.DEFAULT_CONTROLS, log_controls=("repair_minutes",)))
    slope, rr = e["ltr_slope_per_update"], e["complaint_rate_ratio_per_update"]
    assert set(slope) == {"estimate", "ci_low", "ci_high", "adjusted_for", "inference"}
    assert slope["inference"] == "wild_bootstrap"
    assert set(rr) == {"estimate", "ci_low", "ci_high", "p_value_vs_half", "model", "adjusted_for"}
    # independent fit of the same NB2 model, driven to its maximum (statsmodels' default BFGS stops at a
    # gradient of 1e-5, 2.6e-4 short in the rate ratio here): same rate ratio and the same Wald test of log(0.5)
    d = M.with_update_parts(v).dropna(subset=["repair_minutes", "scenario", "warranty", "center"])
    d = d.assign(
        ready_notice=d["ready_notice"].astype(str),
        has_photo_update=d["has_photo_update"].astype(str),
        warranty=d["warranty"].astype(str),
        y=d["n_complaints"].astype(float),
        u=d["n_inprogress_updates"].astype(float),
    )
    g = pd.factorize(d["center"], sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = smf.negativebinomial(
            "y ~ u + np.log1p(repair_minutes) + C(scenario) + C(warranty) + C(center)"
            " + C(ready_notice) + C(has_photo_update)",
            d,
            loglike_method="nb2",
        ).fit(disp=0, maxiter=5000, gtol=1e-10, cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    b, se = nb.params["u"], nb.bse["u"]
    assert rr["estimate"] == pytest.approx(math.exp(b), rel=1e-6)
    t = (b - math.log(0.5)) / se
    assert rr["p_value_vs_half"] == pytest.approx(2 * stats.t.sf(abs(t), 11), rel=1e-3)
    assert covers(rr, RATE_RATIO) and covers(slope, BETA_LTR)
    assert rr["adjusted_for"] == [
        "repair_minutes",
        "scenario",
        "warranty",
        "center",
        "ready_notice",
        "has_photo_update",
    ]
    ols = M.ltr_ols(
        v.assign(ready_notice=M.with_update_parts(v)["ready_notice"]),
        updates="n_inprogress_updates",
        adjust=M.Adjustment(controls=[*M.DEFAULT_CONTROLS, *M.UPDATE_PARTS]),
    )
    assert slope["estimate"] == pytest.approx(ols.headline.iloc[0]["estimate"])


def test_update_effects_and_rollout_effects_say_why_when_they_cannot_fit(normal):
    v = _with_parts(normal[0])
    e = M.update_effects(v.iloc[:20])
    for key in ("ltr_slope_per_update", "complaint_rate_ratio_per_update"):
        assert e[key] == {
            "computed": False,
            "n": 20,
            "need": 30,
            "reason": "n = 20 complete rows: too few for this model, need ≥ 30",
        }
    vv, c = simulate(seed=3, n=1200, did=DID)
    r = M.rollout_effects(M.did_rollout(vv, c), M.did_rollout(vv.loc[vv["center"] == "C00"], c, "complained"))
    assert set(r["ltr"]) == {"estimate", "ci_low", "ci_high", "p_value", "n_clusters", "inference"}
    assert r["ltr"]["n_clusters"] == 12 and covers(r["ltr"], DID)
    assert r["complained"]["estimate"] is None and "cannot fit" in r["complained"]["note"]


def test_rollout_overview_counts_visits_around_the_switch():
    v, c = simulate(seed=3, n=600, did=DID)
    v = v.assign(n_inprogress_updates=v["n_proactive_updates"])
    o = M.rollout_overview(v, c).set_index("center")
    assert o.index.tolist() == sorted(c["center_id"])
    since = pd.to_datetime(c.set_index("center_id")["realtime_since"])
    for cid in ("C00", "C05", "C11"):
        part = v.loc[v["center"] == cid]
        s = since[cid]
        after = 0 if pd.isna(s) else int((part["arrived_at"].dt.tz_localize(None).dt.normalize() >= s).sum())
        assert (o.loc[cid, "visits_before"], o.loc[cid, "visits_after"]) == (len(part) - after, after)
    assert pd.isna(o.loc["C11", "realtime_since"]) and o.loc["C00", "realtime_since"] == "2024-04-01"


def test_report_table_and_duration_confounding(normal):
    v = normal[0].iloc[:1200]
    comp = M.complaint_models(v)
    t = M.report_table(M.ltr_ols(v), comp, M.ltr_ols(v.iloc[:20]))
    assert t["model"].tolist() == ["ltr_ols_linear", "poisson", "nb2", "ltr_ols_linear"]
    assert t["scale"].tolist() == ["LTR points", "rate ratio", "rate ratio", ""]
    assert t.loc[1, "estimate"] == round(comp.headline.loc[0, "rate_ratio"], 3)
    assert t.loc[3, "note"].startswith("cannot fit")
    d = M.duration_confounding(v)
    assert d.headline["outcome"].tolist() == ["n_complaints", "n_complaints", "ltr", "ltr"]
    assert d.note.split("\n")[0] == M.naive_vs_adjusted(v).note


def test_figures_of_models_that_cannot_fit_state_why():
    v, c = simulate(seed=3, n=300, switch=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = M.plot_event_study(M.event_study(v.loc[v["center"] == "C00"], c))
        assert "cannot fit" in " ".join(t.get_text() for t in fig.axes[0].texts)
        plt.close(fig)
        fig = M.plot_coefficients(M.ltr_ols(v.loc[v["center"] == "C00"]).table)
        assert "cannot fit" in " ".join(t.get_text() for t in fig.axes[0].texts)
        plt.close(fig)
    with pytest.raises(DataError, match="no coefficients"):
        M.plot_coefficients(pd.DataFrame(columns=["term", "estimate", "ci_low", "ci_high", "model"]))


# ---------------------------------------------------------------------------------- one center
ONE_CENTER_NOTE = (
    "one center (C00): HC1 errors, no clustering, no center fixed effect; the network estimate "
    "with cluster-robust errors is in the all-centers report"
)


@pytest.fixture(scope="module")
def one_center():
    return simulate(seed=21, n=2500, n_centers=1)[0]


def _hc1(X: np.ndarray, e: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """HC1 sandwich N/(N-K) · B⁻¹ (Σ e²xx') B⁻¹, B = X'WX (W = 1 for OLS, the GLM weights otherwise)."""
    n, k = X.shape
    bread = np.linalg.inv(X.T @ (X * (np.ones(n) if w is None else w)[:, None]))
    meat = (X * e[:, None]).T @ (X * e[:, None])
    return bread @ meat @ bread * n / (n - k)


def test_one_center_ols_falls_back_to_hc1_errors(one_center):
    v = one_center
    r = M.ltr_ols(v)
    h = r.headline.iloc[0]
    assert r.ok and r.fallback == ONE_CENTER_NOTE and r.note.endswith(ONE_CENTER_NOTE)
    assert "center has a single value" not in r.note and not r.table["term"].str.contains("center").any()
    assert r.n_clusters == 1 and covers(h, BETA_LTR)
    X, y = r.fit.model.exog, r.fit.model.endog
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    V = _hc1(X, y - X @ b)
    j = r.fit.model.exog_names.index("Q('n_proactive_updates')")
    assert h["estimate"] == pytest.approx(b[j], rel=1e-10)
    assert h["std_error"] == pytest.approx(math.sqrt(V[j, j]), rel=1e-8)
    assert h["ci_high"] - h["estimate"] == pytest.approx(stats.t.ppf(0.975, len(y) - 1) * h["std_error"], rel=1e-8)
    with pytest.raises(DataError, match="cannot fit: only 1 cluster"):
        M.ltr_ols(v, guards=M.Guards(strict=True))


def test_one_center_likelihood_models_use_true_hc1(one_center):
    v = one_center
    comp = M.complaint_models(v)
    assert comp.ok and comp.fallback == ONE_CENTER_NOTE
    res = comp.fit["poisson"]
    X, y = res.model.exog, res.model.endog
    mu = res.predict()
    V = _hc1(X, y - mu, mu)  # statsmodels' own cov_type="HC1" leaves N/(N-K) out for this model
    j = res.model.exog_names.index("Q('n_proactive_updates')")
    pois = comp.headline.set_index("model").loc["poisson"]
    assert pois["std_error"] == pytest.approx(math.sqrt(V[j, j]), rel=1e-6)
    for model in ("poisson", "nb2"):
        assert covers(comp.headline.set_index("model").loc[model], RATE_RATIO), model
    p = M.promoter_logit(v)
    lr = p.fit
    X, y = lr.model.exog, lr.model.endog
    pr = lr.predict()
    V = _hc1(X, y - pr, pr * (1 - pr))
    j = lr.model.exog_names.index("Q('n_proactive_updates')")
    assert p.table.loc[p.table["kind"] == "effect", "std_error"].iloc[0] == pytest.approx(math.sqrt(V[j, j]), rel=1e-6)
    assert p.ok and p.fallback == ONE_CENTER_NOTE
    o = M.ltr_ordinal(simulate(seed=5, n=1500, n_centers=1, ltr_kind="ordinal")[0])
    assert o.ok and o.fallback == ONE_CENTER_NOTE and covers(o.headline.iloc[0], BETA_LTR)


def test_one_center_update_effects_and_confounding_say_so(one_center):
    v = _with_parts(one_center)
    e = M.update_effects(v, adjust=M.Adjustment(log_controls=("repair_minutes",)))
    slope, rr = e["ltr_slope_per_update"], e["complaint_rate_ratio_per_update"]
    assert slope["note"] == ONE_CENTER_NOTE
    # these counts show no overdispersion (mean 0.042, variance 0.043): the Poisson model is quoted, with HC1 errors
    assert rr["model"] == "poisson" and rr["note"].endswith("; " + ONE_CENTER_NOTE)
    assert "the Poisson rate ratio with HC1 errors is quoted" in rr["note"]
    for entry in (slope, rr):
        assert entry["adjusted_for"] == [
            "repair_minutes",
            "scenario",
            "warranty",
            "ready_notice",
            "has_photo_update",
        ]  # no center effect: there is one center
    assert covers(slope, BETA_LTR) and covers(rr, RATE_RATIO)
    d = M.duration_confounding(v)
    lines = d.note.split("\n")
    assert (
        len(lines) == 3
        and lines[2]
        == "One center (C00): HC1 errors, no clustering, no center fixed effect; "
        "the network estimate with cluster-robust errors is in the all-centers report."
    )
    assert d.headline["controls"].tolist() == ["scenario, warranty", "repair_minutes, scenario, warranty"] * 2
    with pytest.raises(DataError, match="only 1 cluster"):
        M.update_effects(v, guards=M.Guards(strict=True))


def test_few_centers_keep_the_center_effect_with_hc1_errors(normal):
    v = normal[0]
    two = v.loc[v["center"].isin(["C00", "C01"])]
    r = M.ltr_ols(two)
    assert (
        r.ok
        and r.n_clusters == 2
        and r.note.endswith("only 2 center clusters (cluster-robust errors need at least 4): HC1 errors, no clustering")
    )
    assert "C(center)[T.C01]" in r.table["term"].tolist()
    assert M.update_effects(_with_parts(two))["ltr_slope_per_update"]["adjusted_for"][3] == "center"


def test_one_center_rollout_models_say_why_not():
    v, c = simulate(seed=3, n=1200, did=DID)  # C00 switched on 2024-04-01, C11 never did
    sw = M.did_rollout(v.loc[v["center"] == "C00"], c)
    assert not sw.ok and sw.note == (
        "cannot fit: DiD needs switching and non-switching centers; this selection has "
        "one center — see the all-centers report (C00 switched to real-time updates "
        "on 2024-04-01)"
    )
    never = M.did_rollout(v.loc[v["center"] == "C11"], c, "complained")
    assert never.note.startswith("cannot fit: this center never switched to real-time updates; DiD needs")
    ev = M.event_study(v.loc[v["center"] == "C11"], c)
    assert ev.note.startswith("cannot fit: this center never switched to real-time updates; the event study needs")
    with pytest.raises(DataError, match="DiD needs switching and non-switching centers"):
        M.did_rollout(v.loc[v["center"] == "C00"], c, guards=M.Guards(strict=True))


def test_separated_control_levels_are_left_out_with_a_note(one_center):
    v = one_center.copy()
    acc = (v["scenario"] == "accident").to_numpy()
    v.loc[acc, "n_complaints"] = 0  # no accident visit has a complaint: its effect has no finite estimate
    v.loc[acc, "ltr"] = 10  # and every one is a promoter
    comp = M.complaint_models(v)
    assert (
        comp.ok
        and f"scenario = accident predicts the outcome perfectly (no visit has one): its {acc.sum()} rows left out"
        in comp.note
    )
    same = M.complaint_models(v.loc[~acc])  # the fit without those rows: the same estimates
    assert comp.headline["rate_ratio"].to_numpy() == pytest.approx(same.headline["rate_ratio"].to_numpy(), rel=1e-6)
    p = M.promoter_logit(v)
    assert p.ok and "scenario = accident predicts the outcome perfectly (the outcome is 1 in all of them)" in p.note
    assert p.n == int((~acc).sum())


def test_update_effects_from_fitted_models_equal_a_fresh_fit(normal):
    v = M.with_update_parts(_with_parts(normal[0]))
    adjust = [*M.DEFAULT_CONTROLS, *M.UPDATE_PARTS]
    ltr = M.ltr_ols(
        v, updates="n_inprogress_updates", form="linear", adjust=M.Adjustment(controls=adjust, log_controls=[])
    )
    comp = M.complaint_models(v, updates="n_inprogress_updates", adjust=M.Adjustment(controls=adjust, log_controls=[]))
    assert M.update_effects_from(ltr, comp, adjust) == M.update_effects(
        v, adjust=M.Adjustment(controls=M.DEFAULT_CONTROLS, log_controls=())
    )


def test_models_too_few_rows_carry_a_too_few_note_and_the_table_becomes_it(normal):
    v = _with_parts(normal[0]).iloc[:12]
    ols = M.ltr_ols(v, updates="n_inprogress_updates")
    assert not ols.ok and ols.shortage is not None and ols.shortage.record()["need"] == 30
    note = M.report_table(ols, M.ltr_ols(v, updates="n_inprogress_updates", form="categorical"), lang="zh")
    assert note.text() == "样本不足：n = 12 行完整数据，该模型至少需要 30"
    # one model fitted, one not: the table, with the reason in the note column
    full = _with_parts(normal[0])
    table = M.report_table(M.ltr_ols(full, updates="n_inprogress_updates"), ols)
    assert list(table["term"])[-1] == "(cannot fit)" and "only 12 complete rows" in table["note"].iloc[-1]


NOTES_SEEN = [  # notes the models wrote on the sample and on a center-month with 1, 5 and 20 responses
    "cannot fit: DiD needs switching and non-switching centers; this selection has one center — see the "
    "all-centers report (BJ-CY switched to real-time updates on 2026-06-16)",
    "cannot fit: this center never switched to real-time updates; DiD needs switching and non-switching centers; "
    "this selection has one center — see the all-centers report",
    "cannot fit: only 5 complete rows (need at least 30)",
    "cannot fit: only 12 complete rows for about 9 parameters",
    "scenario = accident predicts the outcome perfectly (no visit has one): its 8 rows left out; has_photo_update = "
    "True predicts the outcome perfectly (no visit has one): its 1 rows left out; has_photo_update has a single value "
    "and was left out; alpha estimated = 5.56e-06; one center (CD-GX): HC1 errors, no clustering, no center fixed "
    "effect; the network estimate with cluster-robust errors is in the all-centers report",
    "did not converge; HessianInversionWarning: Inverting hessian failed, no bse or cov_params available; "
    "ConvergenceWarning: Maximum Likelihood optimization failed to converge. Check mle_retvals",
    "alpha estimated = 2.96e-05; at its boundary: overdispersion estimated at 0 (alpha = 2.96e-05); NB2 reduces to "
    "Poisson; the Poisson model with cluster-robust errors is quoted; cluster-robust SEs by center (t with 6 df)",
    "negative binomial at its boundary, overdispersion estimated at 0 (alpha = 2.96e-05): NB2 reduces to Poisson; "
    "the Poisson rate ratio with cluster-robust errors is quoted",
    "only 3 center clusters (cluster-robust errors need at least 4): HC1 errors, no clustering",
    "4 switching center(s) observed before and after, 3 never switched; cluster-robust SEs by center (t with 6 df)",
]


@pytest.mark.parametrize("note", NOTES_SEEN)
def test_model_notes_read_in_chinese(note):
    zh = M.note_text(note, lang="zh")
    words = set(re.findall(r"[A-Za-z][A-Za-z_]{2,}", zh)) - {
        "alpha",
        "HessianInversionWarning",
        "ConvergenceWarning",
        "Hessian",
    }
    assert not words, (zh, words)
    assert M.note_text(note, lang="en") == note
    assert M.note_text(note, lang="both") == f"{zh} / {note}"


def test_report_table_writes_its_notes_in_the_language(normal):
    v = _with_parts(normal[0])
    comp = M.complaint_models(v.loc[v["center"] == v["center"].iloc[0]], updates="n_inprogress_updates")
    zh, en = M.report_table(comp, lang="zh"), M.report_table(comp)
    assert all("只有一个服务中心" in n for n in zh["note"]) and all("one center" in n for n in en["note"])


def test_effects_table_says_why_an_effect_has_no_number(normal):
    v = _with_parts(normal[0])
    e = M.update_effects(v.iloc[:20])
    t = M.effects_table(e, lang="zh")
    assert t["effect"].tolist() == ["ltr_slope_per_update", "complaint_rate_ratio_per_update"]
    assert t["estimate"].isna().all() and (t["note"] == "样本不足：n = 20 行完整数据，该模型至少需要 30").all()
    full = M.effects_table(M.update_effects(v), lang="en")
    assert full["estimate"].notna().all() and full.loc[0, "ci_low"] < full.loc[0, "estimate"] < full.loc[0, "ci_high"]


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif hasattr(a, "table"):
        pd.testing.assert_frame_equal(a.table, b.table)
    elif hasattr(a, "headline"):
        pd.testing.assert_frame_equal(a.headline, b.headline)
    else:
        assert a == b


#: the public functions that took ``conf=`` (and ``ci=``, ``min_n=``, ...) before their settings
#: moved into options objects
TOOK_CONF = (
    "complaint_models",
    "detractor_logit",
    "did_rollout",
    "duration_confounding",
    "event_study",
    "ltr_mixed",
    "ltr_ols",
    "ltr_ordinal",
    "naive_vs_adjusted",
    "promoter_logit",
    "update_effects",
)


def test_the_models_take_their_settings_in_options_objects():
    """Every model of :data:`TOOK_CONF` reads its confidence level from ``inference=Inference(ci=...)``
    and its fitting rules from ``guards=Guards(...)``; no single keyword names them any more."""
    import inspect

    for name in TOOK_CONF:
        params = inspect.signature(getattr(M, name)).parameters
        assert not {"ci", "conf", "min_n", "strict", "cluster"} & set(params), name
        assert params["inference"].annotation in ("Inference", M.Inference), name
        assert params["guards"].default.min_n == 30, name


@pytest.mark.parametrize("name", TOOK_CONF)
def test_former_keywords_still_work_with_a_deprecation_warning(name):
    """``conf=0.8`` and ``min_n=30`` (the former keywords) give what ``inference=Inference(ci=0.8)``
    and ``guards=Guards(min_n=30)`` give, each with a DeprecationWarning naming the new spelling."""
    import inspect

    v, c = simulate(seed=3, n=600, did=DID)
    v = _with_parts(v)
    fn = getattr(M, name)
    args = (v, c) if list(inspect.signature(fn).parameters)[1] == "centers" else (v,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = fn(*args, inference=M.Inference(ci=0.8), guards=fn.__wrapped__.__kwdefaults__["guards"].replace(min_n=30))
    with pytest.warns(DeprecationWarning, match=rf"{name}\(conf=\.\.\.\) is deprecated: use inference=Inference\(ci="):
        with pytest.warns(DeprecationWarning, match=r"\(min_n=\.\.\.\) is deprecated: use guards=Guards\(min_n="):
            old = fn(*args, conf=0.8, min_n=30)
    _same(old, new)


def test_nb2_whose_robust_covariance_cannot_be_formed_is_reported_not_raised(monkeypatch):
    """At the boundary statsmodels' own NB2 fit can meet an exactly singular Hessian when it forms
    the cluster-robust covariance (numpy's inverse raises): the fit is kept with a Hessian warning,
    not converged, and the Poisson model is quoted; no traceback reaches the report."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    real = NegativeBinomial.fit

    def singular_when_robust(self, *args, **kwargs):
        if kwargs.get("cov_type") not in (None, "nonrobust"):
            raise np.linalg.LinAlgError("Singular matrix")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(NegativeBinomial, "fit", singular_when_robust)
    v, _ = simulate(seed=1, alpha_nb=0)
    r = M.complaint_models(v)
    h = r.headline.set_index("model")
    assert h.loc["poisson", "quoted"] and not h.loc["nb2", "quoted"]
    assert "HessianInversionWarning" in h.loc["nb2", "note"] and not h.loc["nb2", "converged"]
    assert h.loc["poisson", "converged"] and r.ok
