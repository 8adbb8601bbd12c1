"""Few-cluster inference: wild cluster bootstrap against wildboottest, CR2 against clubSandwich's
formulas and a first-principles computation."""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import inference as inf

DATA = Path(__file__).resolve().parent / "data"


def _few_clusters() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(DATA / "few_clusters.csv")
    X = pd.get_dummies(
        df[["post", "x"]].assign(center=df["center"], month=df["month"].astype(str)),
        columns=["center", "month"],
        drop_first=True,
        dtype=float,
    )
    X.insert(0, "Intercept", 1.0)
    return df, X


# ---------------------------------------------------------------------------- weights
def test_weights_are_enumerated_once_each_when_few():
    W = inf.bootstrap_weights(3, kind="webb", B=216)
    assert W.shape == (216, 3)
    assert len({tuple(r) for r in W}) == 216
    assert set(np.round(W.ravel() ** 2, 12)) == {0.5, 1.0, 1.5}
    # each column: mean 0, variance 1 over the enumeration (Webb's distribution)
    assert np.allclose(W.mean(axis=0), 0) and np.allclose((W**2).mean(axis=0), 1)
    assert inf.bootstrap_weights(2, kind="rademacher", B=4).tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]


def test_weights_are_drawn_with_the_seed_when_many():
    a = inf.bootstrap_weights(7, kind="webb", B=9999, rng=5)
    assert a.shape == (9999, 7)
    assert np.array_equal(a, inf.bootstrap_weights(7, kind="webb", B=9999, rng=5))
    assert not np.array_equal(a, inf.bootstrap_weights(7, kind="webb", B=9999, rng=6))
    assert inf.n_weight_vectors(7) == 279_936 and not inf.enumerates(7, kind="webb", B=9999)
    with pytest.raises(ValueError, match="webb"):
        inf.bootstrap_weights(3, kind="normal", B=10)


# ---------------------------------------------------------------------------- wild bootstrap
@pytest.mark.parametrize(
    "case",
    json.loads((DATA / "few_clusters_reference.json").read_text())["tests"],
    ids=lambda c: f"{c['term']}-{c['weights']}",
)
def test_wild_bootstrap_matches_wildboottest_enumerated(case):
    """Full enumeration: the p-value of wildboottest 0.3.2 (strict |t*| > |t|, the ±(1, …, 1)
    vectors falling either side by rounding) lies between ours without and with the ties, which
    differ by exactly those vectors (2 Rademacher, 6 Webb)."""
    df, X = _few_clusters()
    kw = dict(bootstrap=inf.WildBootstrap(weights=case["weights"], B=1_000_000, interval=False))
    incl = inf.wild_cluster_bootstrap(X, df["y"], df["center"], case["term"], **kw)
    excl = inf.wild_cluster_bootstrap(
        X, df["y"], df["center"], case["term"], bootstrap=kw["bootstrap"].replace(ties="exclude")
    )
    assert incl.enumerated and incl.replications == case["replications"]
    assert incl.t_stat == pytest.approx(case["t_stat"], rel=1e-10)
    assert excl.p_value <= case["p_value"] <= incl.p_value
    n_ties = 2 if case["weights"] == "rademacher" else 6
    assert round((incl.p_value - excl.p_value) * incl.replications) == n_ties


@pytest.mark.slow
def test_wild_bootstrap_matches_wildboottest_live():
    """The package itself (numba) on a fresh design: enumerated Rademacher agrees exactly up to the
    ties; drawn Webb (B = 19,999) agrees with our enumeration within Monte Carlo error."""
    wbt = pytest.importorskip("wildboottest.wildboottest")
    rng = np.random.default_rng(11)
    G = 8
    g = np.repeat(np.arange(G), rng.integers(10, 30, size=G))
    N = len(g)
    X = np.column_stack([np.ones(N), rng.normal(size=N) + rng.normal(size=G)[g], rng.normal(size=N)])
    y = X @ [1.0, 0.15, -0.1] + rng.normal(size=G)[g] * 0.5 + rng.normal(size=N) * (1 + g / 4)
    for weights, B in (("rademacher", 1000), ("webb", 19_999)):
        boot = wbt.WildboottestCL(X=X, Y=y, cluster=g, R=np.array([0.0, 1.0, 0.0]), B=B, seed=3, parallel=False)
        boot.get_scores(bootstrap_type="11", impose_null=True)
        boot.get_weights(weights_type=weights)
        boot.get_numer()
        boot.get_denom()
        boot.get_tboot()
        boot.get_vcov()
        boot.get_tstat()
        boot.get_pvalue()
        mine = inf.wild_cluster_bootstrap(
            X, y, g, 1, bootstrap=inf.WildBootstrap(weights=weights, B=2_000_000, interval=False)
        )
        assert mine.enumerated
        if weights == "rademacher":
            strict = inf.wild_cluster_bootstrap(
                X, y, g, 1, bootstrap=inf.WildBootstrap(weights=weights, B=1000, interval=False, ties="exclude")
            )
            assert strict.p_value <= boot.pvalue <= mine.p_value
        else:
            p = mine.p_value
            assert abs(boot.pvalue - p) <= 4 * math.sqrt(p * (1 - p) / B) + 1e-12


def test_absorbed_center_effects_give_the_dummies_bootstrap():
    df, X = _few_clusters()
    full = inf.wild_cluster_bootstrap(X, df["y"], df["center"], "post", bootstrap=inf.WildBootstrap(B=1_000_000))
    Xa = X[["post", "x", *[c for c in X.columns if c.startswith("month_")]]]
    absorbed = inf.wild_cluster_bootstrap(
        Xa, df["y"], df["center"], "post", absorb=df["center"], bootstrap=inf.WildBootstrap(B=1_000_000)
    )
    assert absorbed.p_value == pytest.approx(full.p_value, abs=1e-12)
    assert absorbed.t_stat == pytest.approx(full.t_stat, rel=1e-9)
    assert (absorbed.ci_low, absorbed.ci_high) == pytest.approx((full.ci_low, full.ci_high), rel=1e-5)
    assert full.describe() == (
        "wild cluster bootstrap (restricted, Webb weights, all 6^7 = 279,936 weight "
        "vectors enumerated, interval by test inversion)"
    )
    with pytest.raises(ValueError, match="nested within the clusters"):
        inf.wild_cluster_bootstrap(
            X.drop(columns=[c for c in X.columns if c.startswith("month_")]),
            df["y"],
            df["center"],
            "post",
            absorb=df["month"],
        )


def test_interval_is_the_set_of_nulls_not_rejected():
    df, X = _few_clusters()
    r = inf.wild_cluster_bootstrap(X, df["y"], df["center"], "x", bootstrap=inf.WildBootstrap(B=1_000_000))
    assert r.ci_low < r.estimate < r.ci_high
    width = r.ci_high - r.ci_low
    for end, out in ((r.ci_low, -1), (r.ci_high, 1)):
        inside = inf.wild_cluster_bootstrap(
            X,
            df["y"],
            df["center"],
            "x",
            null=end - out * 1e-3 * width,
            bootstrap=inf.WildBootstrap(B=1_000_000, interval=False),
        )
        outside = inf.wild_cluster_bootstrap(
            X,
            df["y"],
            df["center"],
            "x",
            null=end + out * 1e-3 * width,
            bootstrap=inf.WildBootstrap(B=1_000_000, interval=False),
        )
        assert inside.p_value >= 0.05 > outside.p_value
    at_estimate = inf.wild_cluster_bootstrap(
        X, df["y"], df["center"], "x", null=r.estimate, bootstrap=inf.WildBootstrap(B=1_000_000, interval=False)
    )
    assert at_estimate.p_value == 1.0


def test_rademacher_with_four_clusters_cannot_bound_a_95_interval():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(4), 15)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = X @ [0.0, 1.0] + rng.normal(size=60)
    r = inf.wild_cluster_bootstrap(X, y, g, 1, bootstrap=inf.WildBootstrap(weights="rademacher", B=9999))
    assert r.replications == 16 and r.p_value >= 2 / 16
    assert (r.ci_low, r.ci_high) == (-math.inf, math.inf)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), G=st.integers(3, 6), shift=st.floats(-3, 3), b0=st.floats(-1, 1))
def test_wild_bootstrap_p_value_moves_with_the_outcome(seed, G, shift, b0):
    """Adding shift·x to y shifts the coefficient by shift: the p-value of H0: β = b0 + shift on the
    shifted data is that of H0: β = b0 on the original; it lies in [ties/B, 1]."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), rng.integers(4, 9, size=G))
    N = len(g)
    X = np.column_stack([np.ones(N), rng.normal(size=N)])
    y = rng.normal(size=N) + rng.normal(size=G)[g]
    a = inf.wild_cluster_bootstrap(
        X, y, g, 1, null=b0, bootstrap=inf.WildBootstrap(weights="rademacher", B=999, interval=False)
    )
    b = inf.wild_cluster_bootstrap(
        X,
        y + shift * X[:, 1],
        g,
        1,
        null=b0 + shift,
        bootstrap=inf.WildBootstrap(weights="rademacher", B=999, interval=False),
    )
    assert a.p_value == pytest.approx(b.p_value, abs=1e-12)
    assert 2 / a.replications - 1e-12 <= a.p_value <= 1.0


# ---------------------------------------------------------------------------- CR2
def test_cr2_of_a_mean_matches_clubsandwich_closed_forms():
    """clubSandwich's own test (tests/testthat/test_intercept_formulas.R): for y ~ 1 with m
    clusters of sizes n_j, V_CR2 = Σ n_j² (ȳ_j - ȳ)² / (1 - n_j/N) / N² and
    df = N² / (N² Σ n_j²/(N-n_j)² - 2N Σ n_j³/(N-n_j)² + (Σ n_j²/(N-n_j))²)."""
    rng = np.random.default_rng(20190513)
    m = 14
    nj = 1 + rng.negative_binomial(2, 2 / 7, size=m)
    g = np.repeat(np.arange(m), nj)
    N = len(g)
    y = rng.normal(size=m)[g] * math.sqrt(0.2) + rng.normal(size=N) * math.sqrt(0.8)
    ybar = np.array([y[g == j].mean() for j in range(m)])
    v = np.sum(nj**2 * (ybar - y.mean()) ** 2 / (1 - nj / N)) / N**2
    df = N**2 / (
        N**2 * np.sum(nj**2 / (N - nj) ** 2) - 2 * N * np.sum(nj**3 / (N - nj) ** 2) + np.sum(nj**2 / (N - nj)) ** 2
    )
    r = inf.cr2_coef_test(np.ones((N, 1)), y, g, 0)
    assert r.std_error**2 == pytest.approx(v, rel=1e-10)
    assert r.df == pytest.approx(df, rel=1e-10)
    assert r.estimate == pytest.approx(y.mean())


def _cr2_by_hand(X: np.ndarray, y: np.ndarray, g: np.ndarray, k: int) -> tuple[float, float]:
    """CR2 variance and Satterthwaite df from the definitions: explicit (I - H_gg)^(+1/2) by
    eigendecomposition (eigenvalues below 1e-12 dropped, as clubSandwich's matrix_power does)."""
    N = len(y)
    M = np.linalg.pinv(X.T @ X)
    H = X @ M @ X.T
    e = y - H @ y
    c = np.zeros(X.shape[1])
    c[k] = 1
    labels = np.unique(g)
    meat, U = 0.0, []
    for lab in labels:
        r = g == lab
        w, V = np.linalg.eigh(np.eye(r.sum()) - H[np.ix_(r, r)])
        A = V @ np.diag(np.where(w > 1e-12, 1 / np.sqrt(np.abs(w)), 0.0)) @ V.T
        meat += float(c @ M @ X[r].T @ A @ e[r]) ** 2
        p = np.zeros(N)
        p[r] = A @ X[r] @ M @ c
        U.append((np.eye(N) - H) @ p)
    gram = np.array(U) @ np.array(U).T
    return meat, float(np.trace(gram) ** 2 / np.sum(gram**2))


def test_cr2_with_fixed_effects_matches_first_principles():
    """The DiD of the stored data: center and month dummies (I - H_gg singular, pseudo-inverse),
    the same with the center or the month effects absorbed."""
    df, X = _few_clusters()
    y, g = df["y"].to_numpy(float), df["center"].to_numpy()
    k = list(X.columns).index("post")
    v, dof = _cr2_by_hand(X.to_numpy(float), y, g, k)
    full = inf.cr2_coef_test(X, y, g, "post")
    assert full.std_error**2 == pytest.approx(v, rel=1e-9)
    assert full.df == pytest.approx(dof, rel=1e-9)
    months = [c for c in X.columns if c.startswith("month_")]
    centers = [c for c in X.columns if c.startswith("center_")]
    by_center = inf.cr2_coef_test(X[["post", "x", *months]], y, g, "post", absorb=df["center"])
    by_month = inf.cr2_coef_test(X[["post", "x", *centers]], y, g, "post", absorb=df["month"])
    for r in (by_center, by_month):
        assert r.estimate == pytest.approx(full.estimate, rel=1e-10)
        assert r.std_error == pytest.approx(full.std_error, rel=1e-9)
        assert r.df == pytest.approx(full.df, rel=1e-9)
    V = inf.cr2_vcov(X, y, g)
    assert list(V.columns) == list(X.columns)
    assert V.loc["post", "post"] == pytest.approx(v, rel=1e-9)
    # few treated centers: far fewer degrees of freedom than G - 1 = 6
    assert 1 < full.df < 6
    assert full.p_value == pytest.approx(2 * (1 - __import__("scipy").stats.t.cdf(abs(full.t_stat), full.df)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), G=st.integers(2, 7), scale=st.floats(0.1, 10))
def test_cr2_df_lies_between_one_and_the_number_of_clusters(seed, G, scale):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), rng.integers(3, 8, size=G))
    N = len(g)
    X = np.column_stack([np.ones(N), rng.normal(size=N)])
    y = rng.normal(size=N)
    r = inf.cr2_coef_test(X, y, g, 1)
    s = inf.cr2_coef_test(X, scale * y, g, 1)
    assert 1 - 1e-9 <= r.df <= G + 1e-9
    assert s.df == pytest.approx(r.df, rel=1e-9) and s.std_error == pytest.approx(scale * r.std_error, rel=1e-9)


def test_the_confidence_level_is_ci_and_conf_still_works_with_a_warning():
    """``ci`` is the confidence level of every test here (the wild bootstrap's switch for its
    interval is ``interval``); the former ``conf=``, ``ci=False`` and ``.conf`` warn and agree."""
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(5), 12)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = X @ [1.0, 0.3] + rng.normal(size=5)[g] + rng.normal(size=60)
    boot = inf.WildBootstrap(weights="rademacher", B=999)
    kw = dict(bootstrap=boot)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = inf.wild_cluster_bootstrap(X, y, g, 1, ci=0.8, **kw)
        new_cr2 = inf.cr2_coef_test(X, y, g, 1, ci=0.8)
        new_many = inf.cr2_coef_tests(X, y, g, [0, 1], ci=0.8)
    assert new.ci == new_cr2.ci == 0.8 and new.ci_low < new.estimate < new.ci_high
    with pytest.warns(DeprecationWarning, match=r"wild_cluster_bootstrap\(conf=\.\.\.\) is deprecated"):
        assert inf.wild_cluster_bootstrap(X, y, g, 1, conf=0.8, **kw) == new
    with pytest.warns(DeprecationWarning, match=r"cr2_coef_test\(conf=\.\.\.\) is deprecated"):
        assert inf.cr2_coef_test(X, y, g, 1, conf=0.8) == new_cr2
    with pytest.warns(DeprecationWarning, match=r"cr2_coef_tests\(conf=\.\.\.\) is deprecated"):
        assert inf.cr2_coef_tests(X, y, g, [0, 1], conf=0.8) == new_many
    with pytest.warns(DeprecationWarning, match=r"ci=True/False\) is deprecated: use bootstrap=WildBootstrap"):
        no_interval = inf.wild_cluster_bootstrap(X, y, g, 1, ci=False, **kw)
    assert no_interval == inf.wild_cluster_bootstrap(X, y, g, 1, bootstrap=boot.replace(interval=False))
    with pytest.warns(DeprecationWarning, match=r"\((weights|B)=\.\.\.\) is deprecated: use bootstrap=WildBootstrap\("):
        assert inf.wild_cluster_bootstrap(X, y, g, 1, ci=0.8, weights="rademacher", B=999) == new
    assert math.isnan(no_interval.ci_low) and no_interval.p_value == new.p_value
    with pytest.warns(DeprecationWarning, match=r"CR2Test\.conf is deprecated"):
        assert new_cr2.conf == 0.8
    with pytest.warns(DeprecationWarning, match=r"WildBootstrapResult\.conf is deprecated"):
        assert new.conf == 0.8
