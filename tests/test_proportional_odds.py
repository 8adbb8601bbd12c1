"""Brant test of proportional odds for the ordinal LTR model: R's ``brant`` example, a first-
principles computation, and generated data with and without parallel slopes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import models as M
from cxlib.errors import DataError

DATA = Path(__file__).parent / "data"


def test_brant_matches_the_r_brant_package_example():
    # brant::brant(MASS::polr(Smoke ~ Sex + Height, data = MASS::survey, Hess = TRUE)), the package's
    # documented example output: Omnibus 3.28 (df 4, p 0.51), SexMale 1.58 (2, 0.45), Height 0.02 (2, 0.99)
    s = pd.read_csv(DATA / "mass_survey_smoke.csv", comment="#")
    assert len(s) == 208  # "29 observations deleted due to missingness"
    y = pd.Series(pd.Categorical(s["Smoke"], categories=["Never", "Occas", "Regul", "Heavy"], ordered=True))
    x = pd.DataFrame({"SexMale": (s["Sex"] == "Male").astype(float), "Height": s["Height"]})
    t = M.brant_test(y, x)
    assert t.loc["omnibus", ["chi2", "df", "p_value"]].tolist() == pytest.approx([3.28, 4, 0.51], abs=0.005)
    assert t.loc["SexMale", ["chi2", "df", "p_value"]].tolist() == pytest.approx([1.58, 2, 0.45], abs=0.005)
    assert t.loc["Height", ["chi2", "df", "p_value"]].tolist() == pytest.approx([0.02, 2, 0.99], abs=0.005)
    assert t.attrs["categories"] == [("Never", "Never"), ("Occas", "Occas"), ("Regul", "Regul"), ("Heavy", "Heavy")]


def _logit_newton(X: np.ndarray, z: np.ndarray) -> np.ndarray:
    b = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ b))
        step = np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (z - p))
        b += step
        if np.abs(step).max() < 1e-12:
            break
    return b


def _brant_by_hand(y: np.ndarray, x: np.ndarray) -> tuple[float, list[float]]:
    """Brant (1990) from first principles, observation by observation."""
    n, k = x.shape
    X = np.column_stack([np.ones(n), x])
    cuts = np.unique(y)[:-1]
    m = len(cuts)
    betas, pis = [], []
    for c in cuts:
        b = _logit_newton(X, (y > c).astype(float))
        betas.append(b)
        pis.append(1 / (1 + np.exp(-X @ b)))
    info = [sum(np.outer(X[i], X[i]) * p[i] * (1 - p[i]) for i in range(n)) for p in pis]
    big = np.zeros((m * k, m * k))
    for j in range(m):
        for h in range(m):
            a, b = min(j, h), max(j, h)
            cross = sum(np.outer(X[i], X[i]) * (pis[b][i] - pis[a][i] * pis[b][i]) for i in range(n))
            cov = np.linalg.inv(info[j]) @ cross @ np.linalg.inv(info[h])
            big[j * k : (j + 1) * k, h * k : (h + 1) * k] = cov[1:, 1:]
    beta = np.concatenate([b[1:] for b in betas])
    rows = []
    for j in range(1, m):
        for v in range(k):
            r = np.zeros(m * k)
            r[v], r[j * k + v] = 1.0, -1.0
            rows.append(r)
    D = np.array(rows)

    def w(d: np.ndarray) -> float:
        e = d @ beta
        return float(e @ np.linalg.inv(d @ big @ d.T) @ e)

    per = [w(D[[i for i in range(len(D)) if i % k == v]]) for v in range(k)]
    return w(D), per


def _ordinal_data(n: int, seed: int, slope_by_cut: tuple[float, ...] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"u": rng.poisson(2, n).astype(float), "d": rng.normal(0, 1, n)})
    cuts = np.array([-1.0, 0.5, 2.0])
    if slope_by_cut is None:  # proportional odds: one latent variable
        y = ((0.6 * x["u"] - 0.4 * x["d"] + rng.logistic(size=n)).to_numpy()[:, None] > cuts).sum(1)
    else:  # the effect of u differs by cut-point
        u = rng.uniform(size=n)
        y = np.zeros(n, dtype=int)
        for j, (c, s) in enumerate(zip(cuts, slope_by_cut)):
            p = 1 / (1 + np.exp(-(s * x["u"] - 0.4 * x["d"] - c)))
            y = np.where(u < p, j + 1, y)
    return y, x


def test_brant_equals_a_first_principles_computation():
    y, x = _ordinal_data(160, seed=4)
    t = M.brant_test(y, x)
    omni, per = _brant_by_hand(y, x.to_numpy())
    assert t.loc["omnibus", "chi2"] == pytest.approx(omni, rel=1e-7)
    assert t.loc[["u", "d"], "chi2"].tolist() == pytest.approx(per, rel=1e-7)
    assert t["df"].tolist() == [4, 2, 2]
    assert t.loc["omnibus", "p_value"] == pytest.approx(stats.chi2.sf(omni, 4))


def test_brant_rejects_non_parallel_slopes_and_not_parallel_ones():
    y, x = _ordinal_data(3000, seed=1)
    ok = M.brant_test(y, x)
    assert ok.loc["omnibus", "p_value"] > 0.05 and ok.loc["u", "p_value"] > 0.05
    y, x = _ordinal_data(3000, seed=2, slope_by_cut=(1.2, 0.6, 0.1))
    bad = M.brant_test(y, x)
    assert bad.loc["omnibus", "p_value"] < 1e-6 and bad.loc["u", "p_value"] < 1e-6
    slopes = bad.attrs["binary_slopes"].loc["u"].to_numpy()
    assert slopes[0] > slopes[1] > slopes[2]  # the binary logits see the falling effect


def test_sparse_end_categories_are_merged_before_the_test():
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(3, dtype=int), rng.integers(1, 5, 400), np.full(4, 5)]
    x = pd.DataFrame({"x": rng.normal(size=y.size)})
    t = M.brant_test(y, x, min_events=20)
    assert t.attrs["categories"][0] == (0, 1) and t.attrs["categories"][-1] == (4, 5)
    assert t.loc["omnibus", "df"] == len(t.attrs["categories"]) - 2
    with pytest.raises(DataError, match="at least 3 outcome categories"):
        M.brant_test(np.r_[np.zeros(5), np.ones(5)].astype(int), pd.DataFrame({"x": np.arange(10.0)}))
    with pytest.raises(DataError, match="does not vary"):
        M.brant_test(y, x.assign(c=1.0))


def test_ltr_ordinal_carries_its_brant_test():
    from test_models import simulate

    v, _ = simulate(seed=5, n=2000, ltr_kind="ordinal")
    r = M.ltr_ordinal(v)
    po = M.proportional_odds(r)
    assert po["term"].iloc[0] == "omnibus" and "n_proactive_updates" in set(po["term"])
    assert r.proportional_odds is not None and "center[" in " ".join(po["term"])
    # the simulated LTR follows a proportional-odds model: the test should not reject it
    omni = po.iloc[0]
    assert omni["p_value"] > 0.01 and omni["parallel"] == (omni["p_value"] >= 0.05)
    assert "proportional odds: Brant χ² = " in r.note
    assert "比例优势检验：Brant χ² = " in M.note_text(r.note, lang="zh")
    small = M.ltr_ordinal(v.head(12))
    assert "not computed" in M.proportional_odds(small).in_lang("en").text()


def test_proportional_odds_note():
    t = pd.DataFrame(
        {"chi2": [40.0, 30.0, 1.0], "df": [6, 3, 3], "p_value": [1e-6, 1e-6, 0.8]},
        index=pd.Index(["omnibus", "updates", "x"], name="test"),
    )
    t.attrs["categories"] = [(0, 2), (3, 3), (4, 4), (5, 5)]
    note = M.proportional_odds_note(t)
    assert note == (
        "proportional odds: Brant χ² = 40.0, df = 6, p < 0.001, rejected — not parallel: updates"
        " — outcome categories 0–2 merged for the test"
    )
    assert M.note_text(note, lang="zh") == (
        "比例优势检验：Brant χ² = 40.0，自由度 6，p < 0.001，比例优势假设不成立"
        "（斜率不平行：updates）；检验时合并了结果类别 0–2"
    )


def test_a_term_that_separates_at_the_low_end_merges_that_end_further():
    rng = np.random.default_rng(12)
    n = 1200
    photo = rng.uniform(size=n) < 0.3
    y = np.clip(np.round(rng.normal(5, 2, n) + 0.8 * photo), 0, 10).astype(int)
    y[photo & (y <= 2)] = 3  # no visit with a photo has LTR 2 or less: separation
    x = pd.DataFrame({"photo": photo.astype(float), "u": rng.normal(size=n)})
    with pytest.raises(DataError, match="cannot be fitted"):
        M.brant_test(y, x)
    t = M.brant_test(y, x, min_events=30)
    first = t.attrs["categories"][0]
    assert first[0] == 0 and first[1] >= 2  # merged at least up to LTR 2
    assert t.loc["omnibus", "df"] == 2 * (len(t.attrs["categories"]) - 2)
    assert np.isfinite(t["chi2"]).all()


def _brant_per_pair(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The binary slopes and the omnibus statistic as computed before the batched products: each
    cut-point's logit from 0, one weighted cross-product pass per pair of cut-points."""
    n, k = x.shape
    X = np.column_stack([np.ones(n), x])
    cuts = np.unique(y)[:-1]
    m, k1 = len(cuts), k + 1
    beta = np.array([_logit_newton(X, (y > c).astype(float)) for c in cuts])
    pi = 1 / (1 + np.exp(-X @ beta.T))
    inv = [np.linalg.inv(X.T @ (X * (pi[:, j] * (1 - pi[:, j]))[:, None])) for j in range(m)]
    v = np.empty((m * k1, m * k1))
    for j in range(m):
        v[j * k1 : (j + 1) * k1, j * k1 : (j + 1) * k1] = inv[j]
        for h in range(j + 1, m):
            c = inv[j] @ (X.T @ (X * (pi[:, h] - pi[:, j] * pi[:, h])[:, None])) @ inv[h]
            v[j * k1 : (j + 1) * k1, h * k1 : (h + 1) * k1] = c
            v[h * k1 : (h + 1) * k1, j * k1 : (j + 1) * k1] = c.T
    slope = np.concatenate([np.arange(j * k1 + 1, (j + 1) * k1) for j in range(m)])
    b = beta[:, 1:].reshape(-1)
    d = np.zeros(((m - 1) * k, m * k))
    for j in range(1, m):
        d[(j - 1) * k : j * k, :k] = np.eye(k)
        d[(j - 1) * k : j * k, j * k : (j + 1) * k] = -np.eye(k)
    vs = v[np.ix_(slope, slope)]
    return beta[:, 1:], float((d @ b) @ np.linalg.solve(d @ vs @ d.T, d @ b))


def test_brant_from_warm_starts_and_batched_products_equals_the_per_pair_computation(monkeypatch):
    """Each cut-point's logit starts from the one before, and the covariance blocks come from one
    product per block of rows: the same test as cut-point by cut-point from 0, pair by pair."""
    rng = np.random.default_rng(8)
    n = 6000
    g = rng.integers(0, 6, n)
    x = pd.DataFrame(
        {"u": rng.poisson(1.5, n).astype(float), "d": rng.normal(0, 1, n), "w": (rng.random(n) < 0.4).astype(float)}
    )
    for i in range(1, 6):  # group dummies, as the notebook's center effects
        x[f"g{i}"] = (g == i).astype(float)
    eta = x.to_numpy() @ np.r_[0.5, -0.3, 0.2, rng.normal(0, 0.4, 5)]
    y = np.digitize(eta + rng.logistic(size=n), [-2.5, -1.5, -0.8, -0.2, 0.4, 1.0, 1.8])
    monkeypatch.setattr(M, "_CROSS_ROWS", 1000)  # several blocks of rows
    t = M.brant_test(y, x)
    slopes, omni = _brant_per_pair(y, x.to_numpy())
    assert np.abs(t.attrs["binary_slopes"].to_numpy() - slopes.T).max() < 1e-9
    assert t.loc["omnibus", "chi2"] == pytest.approx(omni, rel=1e-8)


def test_weighted_crossprods_equal_one_pass_per_pair(monkeypatch):
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(2500), rng.normal(size=(2500, 4))])
    pi = np.sort(rng.uniform(0.05, 0.95, (2500, 3)), axis=1)[:, ::-1]
    pairs = [(0, 0), (0, 2), (1, 2), (2, 2)]
    monkeypatch.setattr(M, "_CROSS_ROWS", 777)
    got = M._weighted_crossprods(X, pi, pairs)
    for (j, h), g in zip(pairs, got):
        ref = X.T @ (X * (pi[:, h] - pi[:, j] * pi[:, h])[:, None])
        assert np.abs(g - ref).max() < 1e-10 * np.abs(ref).max()
