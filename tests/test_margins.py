"""The logits' average marginal effects in closed form (cxlib.margins) equal statsmodels'
numerical ``get_margeff(at="overall")``: estimates within 1e-8, delta-method standard errors within
1e-6, on the shipped sample (the notebook's promoter and detractor logits) and on random designs
with dummies and count columns, with plain and cluster-robust covariances."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import margins, models

ROOT = Path(__file__).resolve().parents[1]
ADJUST = ["repair_minutes", "scenario", "warranty", "center", *models.UPDATE_PARTS]


def _design(seed: int, n: int = 1500, n_groups: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A logit design: constant, a continuous column, a count, a binary dummy and group dummies."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    cont = rng.normal(size=n)
    count = rng.poisson(1.5, n).astype(float)
    dummy = (rng.random(n) < 0.3).astype(float)
    groups = (g[:, None] == np.arange(1, n_groups)).astype(float)
    X = np.column_stack([np.ones(n), cont, count, dummy, groups])
    eta = -0.3 + 0.7 * cont - 0.25 * count + 0.5 * dummy + groups @ rng.normal(0, 0.4, n_groups - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return y, X, g


def _statsmodels(res) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        me = res.get_margeff(at="overall")
    return np.asarray(me.margeff), np.asarray(me.margeff_se)


@pytest.mark.parametrize("cov", ["nonrobust", "cluster", "HC1"])
@pytest.mark.parametrize("seed", [0, 1])
def test_equal_to_statsmodels_on_a_design_with_dummies(cov, seed):
    y, X, g = _design(seed)
    kw = {"cov_type": cov, "cov_kwds": {"groups": g}} if cov == "cluster" else {"cov_type": cov}
    res = sm.Logit(y, X).fit(disp=0, **kw)
    est, se = _statsmodels(res)
    me = margins.logit_ame(res.params, X, res.cov_params(), columns=range(1, X.shape[1]))
    assert np.abs(me.estimate - est).max() < 1e-8
    assert np.abs(me.std_error - se).max() < 1e-6
    assert np.abs(me.std_error - se).max() < 1e-6 * np.abs(se).max()  # relative as well
    # the covariance is the delta method's J V J'
    assert np.sqrt(np.diag(me.cov)) == pytest.approx(me.std_error, rel=1e-12)
    # one column alone: the same numbers as in the full set
    one = margins.logit_ame(res.params, X, res.cov_params(), columns=[3])
    assert one.estimate[0] == pytest.approx(me.estimate[2], rel=1e-14)
    assert one.std_error[0] == pytest.approx(me.std_error[2], rel=1e-12)


def test_chunks_do_not_change_the_numbers(monkeypatch):
    y, X, g = _design(4, n=3000)
    res = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": g})
    whole = margins.logit_ame(res.params, X, res.cov_params())
    monkeypatch.setattr(margins, "_CHUNK", 257)
    parts = margins.logit_ame(res.params, X, res.cov_params())
    assert parts.estimate == pytest.approx(whole.estimate, rel=1e-12)
    assert parts.std_error == pytest.approx(whole.std_error, rel=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(200, 800), scale=st.floats(0.1, 2.0))
def test_equal_to_statsmodels_on_random_designs(seed, n, scale):
    y, X, g = _design(seed, n=n, n_groups=5)
    X[:, 1] *= scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": g})
        except Exception:  # noqa: BLE001 - a separated random design has no logit to compare
            return
    if not np.all(np.isfinite(res.params)) or np.abs(res.params).max() > 20:
        return
    est, se = _statsmodels(res)
    me = margins.logit_ame(res.params, X, res.cov_params(), columns=range(1, X.shape[1]))
    assert np.abs(me.estimate - est).max() < 1e-8
    assert np.abs(me.std_error - se).max() < 1e-6


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="do not match"):
        margins.logit_ame([0.0, 1.0], np.ones((3, 3)), np.eye(2))


@pytest.fixture(scope="module")
def sample_visits(tmp_path_factory):
    from cxlib import clean

    out = tmp_path_factory.mktemp("processed")
    clean.clean(ROOT / "data" / "raw", out)
    return models.with_update_parts(clean.load(out).visits)


@pytest.mark.parametrize("fn", [models.promoter_logit, models.detractor_logit])
def test_the_notebooks_logits_on_the_sample_equal_statsmodels_margins(sample_visits, fn):
    r = fn(sample_visits, updates="n_inprogress_updates", adjust=models.Adjustment(controls=ADJUST, log_controls=[]))
    assert r.ok and r.n_clusters is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm_me = r.fit.get_margeff(at="overall").summary_frame()
    key = "Q('n_inprogress_updates')"
    h = r.headline.iloc[0]
    assert abs(h["estimate"] - sm_me.loc[key, "dy/dx"]) < 1e-8
    assert abs(h["std_error"] - sm_me.loc[key, "Std. Err."]) < 1e-6
    assert h["estimate"] != 0 and h["std_error"] > 0
