"""cxlib.nps against the formulas and worked values of the R package NPS (Brendan Rocks).

Reference: CRAN package ``NPS`` (github.com/brendan-r/NPS, ``R/nps.R``, ``R/nps_tests.R``):

    nps(x)      = mean(as.numeric(npc(x)) - 2)            # promoters - detractors, on -1..1
    npvar(x)    = (p_pro + p_det) - (p_pro - p_det)^2
    nps.se(x)   = sqrt(nps.var(x) / n)
    nps.test(x, y): delta = |nps.x - nps.y|, se = sqrt(var.x/n.x + var.y/n.y),
                    int = delta -/+ qnorm(0.975) * se, p = 1 - (2 * pnorm(delta / se) - 1)

The package's own testthat file checks only warnings and errors (no numeric values), so the
values below are the package formulas worked by hand with exact fractions for typed-in data
(noted next to each number). The adjusted-Wald values follow Rocks (2016, The American
Statistician 70(4): 365-372) as described by Sauro & Lewis (MeasuringU): add 3/4 promoter,
3/4 detractor (3/2 passive), n + 3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cxlib import catalog
from cxlib import nps as N
from cxlib.errors import DataError

Z975 = 1.9599639845400536  # qnorm(0.975)

# Example A: one answer at each point 0..10 -> 7 detractors, 2 passives, 2 promoters (n = 11)
A = list(range(11))
A_NPS = -5 / 11  # (2 - 7) / 11
A_VAR = 74 / 121  # 9/11 - (5/11)^2
A_SE = 0.23579078706920836  # sqrt(74/121 / 11)
A_P = 0.05388635376643758  # 1 - (2 * pnorm(|nps| / se) - 1)
A_ADJ = -0.35714285714285715  # (2.75 - 7.75) / 14
A_ADJ_SE = 0.21085692163032474  # sqrt((10.5/14 - (5/14)^2) / 14)

# Example B: x = 30 tens, 20 eights, 10 threes; y = 15 nines, 25 sevens, 20 fives (n = 60 each)
B_X = [10] * 30 + [8] * 20 + [3] * 10
B_Y = [9] * 15 + [7] * 25 + [5] * 20
B_DELTA = 5 / 12  # 1/3 - (-1/12)
B_SE = 0.13735261461195686  # sqrt(5/9/60 + 83/144/60) = sqrt(163/8640)
B_P = 0.002416909080920515
B_INT = (0.14746048884482132, 0.685872844488512)


def test_npc_groups_follow_the_catalog():
    # npc(0:10): 7 Detractor, 2 Passive, 2 Promoter
    r = N.nps(A, scale=1)
    assert (r["detractors"], r["passives"], r["promoters"]) == pytest.approx((7 / 11, 2 / 11, 2 / 11))
    assert catalog.nps_group(pd.Series(A)).value_counts().to_dict() == {"detractor": 7, "passive": 2, "promoter": 2}


def test_nps_var_se_one_sample_match_r_package():
    r = N.nps(A, scale=1)
    assert r["n"] == 11
    assert r["nps"] == pytest.approx(A_NPS, abs=1e-15)
    assert r["se"] == pytest.approx(A_SE, rel=1e-12)
    assert r["se"] ** 2 * 11 == pytest.approx(A_VAR, rel=1e-12)  # nps_var
    # one-sample nps_test: Wald interval and p-value against 0
    t = N.nps_test(A, scale=1, method="wald")
    assert t["p_value"] == pytest.approx(A_P, rel=1e-9)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((A_NPS - Z975 * A_SE, A_NPS + Z975 * A_SE), rel=1e-12)
    assert (r["wald_low"], r["wald_high"]) == pytest.approx((-0.9166869050874555, 0.007595995996546423), rel=1e-12)


def test_two_sample_test_matches_r_package():
    t = N.nps_test(B_X, B_Y, scale=1, method="wald")
    assert t["nps_a"] == pytest.approx(1 / 3) and t["nps_b"] == pytest.approx(-1 / 12)
    assert t["difference"] == pytest.approx(B_DELTA, rel=1e-12)
    assert t["se"] == pytest.approx(B_SE, rel=1e-12)
    assert t["se"] ** 2 == pytest.approx(163 / 8640, rel=1e-12)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx(B_INT, rel=1e-12)
    assert t["p_value"] == pytest.approx(B_P, rel=1e-9)
    assert (t["n_a"], t["n_b"]) == (60, 60)
    # the R function reports |delta|: swapping the samples flips only the sign here
    s = N.nps_test(B_Y, B_X, scale=1, method="wald")
    assert s["difference"] == pytest.approx(-B_DELTA) and s["p_value"] == pytest.approx(B_P, rel=1e-9)


def test_adjusted_wald_pseudo_counts():
    r = N.nps(A, scale=1)
    assert r["adjusted_nps"] == pytest.approx(A_ADJ, rel=1e-12)
    assert r["adjusted_se"] == pytest.approx(A_ADJ_SE, rel=1e-12)
    assert (r["adjusted_low"], r["adjusted_high"]) == pytest.approx(
        (-0.7704148294292783, 0.056129115143563946), rel=1e-12
    )


def test_scale_100_is_scale_1_times_100_and_missing_are_ignored():
    one, hundred = N.nps(A + [None, pd.NA], scale=1), N.nps(pd.Series(A, dtype="Int64"), scale=100)
    for k in ("nps", "se", "wald_low", "wald_high", "adjusted_nps", "adjusted_low", "adjusted_high"):
        assert hundred[k] == pytest.approx(100 * one[k])
    assert one["n"] == 11
    assert hundred["promoters"] == pytest.approx(2 / 11)  # shares stay proportions


def test_intervals_are_clipped_to_the_scale():
    r = N.nps([10] * 5, scale=100)
    assert r["nps"] == 100 and r["se"] == 0 and r["wald_high"] == 100
    assert r["adjusted_high"] <= 100 and r["adjusted_low"] < 100  # pseudo-counts open the interval


@pytest.mark.parametrize("bad", [[11, 5], [-1], [7.5], ["ten"]])
def test_bad_ltr_raises(bad):
    with pytest.raises(DataError):
        N.nps(bad)


def test_no_answers_raises():
    with pytest.raises(DataError, match="no valid LTR"):
        N.nps([None, None])


def test_by_segment_matches_nps_and_flags_small_segments():
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {"center": rng.choice(["SH01", "SH02", "BJ01"], 400, p=[0.6, 0.35, 0.05]), "ltr": rng.integers(0, 11, 400)}
    )
    out = N.by_segment(df, "center", method="adjusted_wald", min_n=30, scale=100)
    assert out["center"].tolist() == ["BJ01", "SH01", "SH02"]
    for _, row in out.iterrows():
        ref = N.nps(df.loc[df.center == row.center, "ltr"], scale=100)
        assert row["nps"] == pytest.approx(ref["nps"])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ref["adjusted_low"], ref["adjusted_high"]))
        assert row["warning"] == ("n < 30" if ref["n"] < 30 else "")
    wald = N.by_segment(df, "center", method="wald", scale=1)
    ref = N.nps(df.loc[df.center == "SH01", "ltr"], scale=1)
    assert wald.set_index("center").loc["SH01", "ci_low"] == pytest.approx(ref["wald_low"])
    assert out["n"].sum() == 400


def test_by_segment_keeps_catalog_order_of_categorical_segments():
    df = pd.DataFrame(
        {
            "tier": pd.Categorical(["realtime", "none", "realtime", "none"], dtype=catalog.TIER_DTYPE),
            "ltr": [9, 3, 10, 8],
        }
    )
    out = N.by_segment(df, "tier")
    assert out["tier"].astype(str).tolist() == ["none", "realtime"]
    assert out["nps"].tolist() == [-50.0, 100.0]


def test_wilson_matches_the_closed_form_and_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = N.wilson_ci(7, 40)
    assert (lo, hi) == pytest.approx(proportion_confint(7, 40, method="wilson"), rel=1e-10)
    assert N.wilson_ci(2, 10) == pytest.approx((0.05668215145437519, 0.5098375284633583), rel=1e-9)


def test_one_wilson_interval_for_nps_and_stats():
    """nps has no Wilson interval of its own: its ``wilson_ci`` is the scalar view (floats) of
    :func:`cxlib.stats.wilson_ci`, and the share intervals of its tables are that function's numbers."""
    from cxlib import stats as S

    for k, n, ci in [(0, 5, 0.95), (2, 10, 0.95), (7, 40, 0.9), (40, 40, 0.99), (0, 0, 0.95)]:
        got = N.wilson_ci(k, n, ci=ci)
        assert all(isinstance(x, float) for x in got)
        np.testing.assert_array_equal(got, [float(x) for x in S.wilson_ci(k, n, ci=ci)])
    h = N.headline_table([10] * 7 + [8] * 2 + [3] * 2, lang="en")
    shares = h[h["kind"] == "share"]
    for k, (_, row) in zip([7, 2, 2], shares.iterrows()):  # promoters, passives, detractors
        assert (row["ci_low"], row["ci_high"]) == tuple(float(x) for x in S.wilson_ci(k, 11))


def _visits(seed: int = 3, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.poisson(1.8, n)
    ltr = np.clip(np.round(6 + 0.6 * u + rng.normal(0, 2, n)), 0, 10)
    tiers = np.array(catalog.TIER_ORDER)[np.minimum(u, 3)]
    df = pd.DataFrame(
        {
            "tier": pd.Categorical(tiers, dtype=catalog.TIER_DTYPE),
            "n_proactive_updates": u,
            "ltr": pd.array(np.where(rng.random(n) < 0.3, np.nan, ltr), dtype="Int64"),
            "anxiety": rng.uniform(0, 100, n),
            "complained": rng.random(n) < 0.2 / (1 + u),
        }
    )
    return df


def test_tier_table_from_data():
    v = _visits()
    t = N.tier_table(v, lang="en")
    assert t["tier"].astype(str).tolist() == list(catalog.TIER_ORDER)
    assert t["label"].tolist() == catalog.labels(catalog.TIER_ORDER, lang="en")
    assert t["n_visits"].sum() == len(v)
    for _, row in t.iterrows():
        part = v.loc[v["tier"] == row["tier"]]
        answered = part["ltr"].dropna().astype(float)
        assert row["n_responses"] == len(answered)
        assert row["ltr_mean"] == pytest.approx(answered.mean())
        tq = stats.t.ppf(0.975, len(answered) - 1)
        assert row["ltr_ci_high"] - row["ltr_mean"] == pytest.approx(tq * answered.std() / math.sqrt(len(answered)))
        assert row["anxiety_mean"] == pytest.approx(part["anxiety"].mean())
        assert row["nps"] == pytest.approx(N.nps(part["ltr"])["nps"])
        k = int(part["complained"].sum())
        assert row["complaint_rate"] == pytest.approx(k / len(part))
        assert (row["complaint_ci_low"], row["complaint_ci_high"]) == pytest.approx(N.wilson_ci(k, len(part)))


def test_tier_table_rejects_unknown_tiers():
    v = _visits().assign(tier=lambda d: d["tier"].astype(str).replace({"none": "nothing"}))
    with pytest.raises(DataError, match="nothing"):
        N.tier_table(v)


def test_dose_response_levels_and_plot():
    v = _visits()
    d = N.dose_response(v, cap=4)
    assert d["updates"].astype(str).tolist() == ["0", "1", "2", "3", "4+"]
    assert d["n_visits"].tolist() == [int((v.n_proactive_updates == i).sum()) for i in range(4)] + [
        int((v.n_proactive_updates >= 4).sum())
    ]
    assert d["nps"].iloc[-1] > d["nps"].iloc[0]  # simulated: LTR rises with updates
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = N.plot_dose_response(d, lang="en")
    assert [ax.get_xlabel() for ax in fig.axes] == ["Proactive updates", "Proactive updates"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_summary_record_and_headline_table():
    rec = N.summary_record(A)
    assert rec["value"] == pytest.approx(A_NPS * 100) and rec["n"] == 11
    assert rec["ci_low"] == pytest.approx(max(A_ADJ - Z975 * A_ADJ_SE, -1) * 100)
    assert (rec["promoters"], rec["passives"], rec["detractors"]) == pytest.approx((2 / 11, 2 / 11, 7 / 11))
    h = N.headline_table(A, lang="en")
    assert h["measure"].tolist() == [
        "NPS (−100…100)",
        "NPS (share, −1…1)",
        "Promoters (%)",
        "Passives (%)",
        "Detractors (%)",
    ]
    assert N.headline_table(A, lang="zh")["measure"].tolist()[:3] == [
        "净推荐值（−100…100）",
        "净推荐值（比例，−1…1）",
        "推荐者占比（%）",
    ]
    assert h.loc[1, "estimate"] == pytest.approx(A_NPS) and h.loc[0, "ci_high"] == pytest.approx(
        (A_ADJ + Z975 * A_ADJ_SE) * 100
    )
    assert (h.loc[4, "ci_low"], h.loc[4, "ci_high"]) == pytest.approx(N.wilson_ci(7, 11))


def test_tier_record_and_folklore_sentence():
    t = N.tier_table(_visits(), lang="en")
    rec = N.tier_record(t)
    assert list(rec) == list(catalog.TIER_ORDER)
    row = t.iloc[-1]
    assert rec["realtime_photo"] == {
        "n": int(row["n_responses"]),
        "nps": row["nps"],
        "ci_low": row["nps_ci_low"],
        "ci_high": row["nps_ci_high"],
        "mean_ltr": row["ltr_mean"],
        "complaint_rate": row["complaint_rate"],
        "mean_anxiety": row["anxiety_mean"],
    }
    s = N.folklore_comparison(t)
    assert "0–10" in s and f"{t.iloc[0]['ltr_mean']:.1f}" in s and f"{row['nps']:+.0f}" in s
    assert "cannot be checked" in N.folklore_comparison(t.iloc[1:])


# ------------------------------------------------------------ adjusted-Wald two-sample test
def test_two_sample_adjusted_wald_matches_the_r_package_formula():
    # NPS::nps_test(x, y, test = "adjusted.wald"): 0.75 / 1.5 / 0.75 added to each sample.
    # x: 10.75 det, 21.5 pas, 30.75 pro of 63 -> 20/63, var 41.5/63 - (20/63)^2
    # y: 20.75 det, 26.5 pas, 15.75 pro of 63 -> -5/63, var 36.5/63 - (5/63)^2
    # se^2 = (78 * 63 - 425) / 63^3 = 4489 / 250047 = (67 / 63^1.5)^2
    t = N.nps_test(B_X, B_Y, scale=1)
    assert t["method"] == "adjusted_wald"
    assert t["difference"] == pytest.approx(B_DELTA, rel=1e-12)  # the observed difference is kept
    assert t["adjusted_difference"] == pytest.approx(25 / 63, rel=1e-12)
    se = 67 / 63**1.5
    assert t["se"] == pytest.approx(se, rel=1e-12)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((25 / 63 - Z975 * se, 25 / 63 + Z975 * se), rel=1e-12)
    assert t["z"] == pytest.approx(25 * math.sqrt(63) / 67, rel=1e-12)
    assert t["p_value"] == pytest.approx(2 * stats.norm.sf(25 * math.sqrt(63) / 67), rel=1e-9)
    assert N.nps_test(B_X, B_Y, scale=100)["ci_low"] == pytest.approx(100 * t["ci_low"])


def test_all_promoters_against_all_detractors_keep_a_finite_se_and_p_above_0():
    pro, det = [10] * 20, [0] * 20
    wald = N.nps_test(pro, det, scale=1, method="wald")
    assert wald["se"] == 0 and wald["p_value"] == 0  # the plain test's degenerate answer
    t = N.nps_test(pro, det, scale=1)
    # 20.75 pro, 0.75 det of 23: NPS 20/23, var 94.5/529 each; se^2 = 189/12167
    assert t["adjusted_difference"] == pytest.approx(40 / 23, rel=1e-12)
    assert t["se"] == pytest.approx(math.sqrt(189 / 12167), rel=1e-12)
    assert 0 < t["p_value"] < 1e-40 and math.isfinite(t["z"])
    assert t["z"] == pytest.approx(40 * math.sqrt(23 / 189), rel=1e-12)
    same = N.nps_test([10] * 5, [10] * 8, scale=1)
    assert same["adjusted_difference"] == pytest.approx(5 / 8 - 8 / 11) and 0 < same["p_value"] < 1


def test_one_sample_adjusted_wald_test_is_the_adjusted_interval():
    t, r = N.nps_test(A, scale=1), N.nps(A, scale=1)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((A_ADJ - Z975 * A_ADJ_SE, A_ADJ + Z975 * A_ADJ_SE))
    assert t["se"] == pytest.approx(A_ADJ_SE) and t["adjusted_difference"] == pytest.approx(A_ADJ)
    assert t["p_value"] == pytest.approx(2 * stats.norm.sf(abs(A_ADJ) / A_ADJ_SE), rel=1e-12)
    assert (r["adjusted_low"], r["adjusted_high"]) == pytest.approx((t["ci_low"], t["ci_high"]))


def test_unknown_method_and_two_sample_score_are_refused():
    with pytest.raises(ValueError, match="method"):
        N.nps_test(A, method="bootstrap")
    with pytest.raises(ValueError, match="one sample"):
        N.nps_test(A, A, method="score")
    with pytest.raises(ValueError, match="method"):
        N.nps(A, method="exact")


# ------------------------------------------------------------------ one-sample score interval
def _r_iterative(det: int, pas: int, pro: int, alpha: float = 0.05) -> tuple[float, float]:
    """``iterative()`` of R/nps_interval_estimators.R (NPS 2.0.999, github.com/brendan-r/NPS), line by
    line: bisection on the score statistic, stopping at a step below 1e-7."""
    n = det + pas + pro
    pa, z, c, b = 2 * n, stats.norm.ppf(1 - alpha / 2), pro, det
    nps = (c - b) / n

    def score(d):
        pb = -b - c + (2 * n - c + b) * d
        pc = -b * d * (1 - d)
        q21 = (math.sqrt(pb**2 - 4 * pa * pc) - pb) / (2 * pa)
        return (c - b - n * d) / math.sqrt(n * (2 * q21 + d * (1 - d)))

    ul = ll = None
    if c == n:
        ul = 1.0
    else:
        dp = 1 - nps
        for _ in range(50):
            dp *= 0.5
            up2 = nps + dp
            s = score(up2)
            if abs(s) < z:
                nps = up2
            if dp < 1e-7 or abs(z - s) < 1e-6:
                ul = up2
                break
    if b == n:
        ll = -1.0
    else:
        dp = 1 + nps
        for _ in range(50):
            dp *= 0.5
            low2 = nps - dp
            s = score(low2)
            if abs(s) < z:
                nps = low2
            if dp < 1e-7 or abs(z - s) < 1e-6:
                ll = low2
                break
    return ll, ul


def _restricted_score(det: int, pas: int, pro: int, d: float) -> float:
    """The score statistic of H0: NPS = d from first principles: the trinomial likelihood maximised
    numerically over the detractor share q under p_pro = q + d, then (p_pro - p_det - d) / se(q)."""
    from scipy.optimize import minimize_scalar

    n = det + pas + pro

    def nll(q):
        terms = [(det, q), (pro, q + d), (pas, 1 - 2 * q - d)]
        return -sum(k * math.log(p) for k, p in terms if k > 0)

    lo, hi = max(0.0, -d) + 1e-15, (1 - d) / 2 - 1e-15
    q = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-14}).x
    var = (q + (q + d) - d**2) / n
    return ((pro - det) / n - d) / math.sqrt(var)


@pytest.mark.parametrize(
    "counts",
    [
        (7, 2, 2),
        (10, 20, 30),
        (30, 20, 10),
        (1, 98, 1),
        (0, 3, 0),
        (3, 10, 40),
        (100, 300, 600),
        (0, 0, 5),
        (5, 0, 0),
        (2, 0, 9),
    ],
)
def test_score_interval_matches_the_r_package_and_inverts_the_score_test(counts):
    det, pas, pro = counts
    ltr = [0] * det + [7] * pas + [10] * pro
    r = N.nps(ltr, scale=1, method="score")
    lo, hi = r["score_low"], r["score_high"]
    assert (r["ci_low"], r["ci_high"], r["method"]) == (lo, hi, "score")
    ref = _r_iterative(det, pas, pro)
    assert (lo, hi) == pytest.approx(ref, abs=5e-7)  # the R bisection stops at steps below 1e-7
    for bound, sign, edge in ((lo, 1, -1.0), (hi, -1, 1.0)):
        if bound == edge:  # every answer in one group: the interval reaches the end of the scale
            continue
        assert _restricted_score(det, pas, pro, bound) == pytest.approx(sign * Z975, abs=1e-5)
        inside = bound + sign * 1e-4  # just inside the interval the test does not reject
        assert abs(_restricted_score(det, pas, pro, inside)) < Z975
    assert -1 <= lo < r["nps"] < hi <= 1 or r["nps"] in (lo, hi)


def test_score_interval_of_promoters_only_has_a_closed_form():
    # det = 0: q = (1 - d) / 2, var = (1 - d)(1 + d), score = sqrt(n (1 - d) / (1 + d)) = z
    for n in (5, 20, 200):
        r = N.nps([10] * n, scale=1, method="score")
        assert r["ci_high"] == 1 and r["ci_low"] == pytest.approx((n - Z975**2) / (n + Z975**2), rel=1e-10)
        assert N.nps([0] * n, scale=1, method="score")["ci_high"] == pytest.approx(-r["ci_low"], rel=1e-10)


def test_score_interval_on_the_100_scale_and_its_one_sample_test():
    one, hundred = N.nps(A, scale=1), N.nps(A, scale=100, method="score")
    assert hundred["ci_low"] == pytest.approx(100 * one["score_low"])
    t = N.nps_test(A, scale=1, method="score")
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((one["score_low"], one["score_high"]))
    # score test of NPS = 0: restricted share q from 2n q^2 - 9 q = 0 -> q = 9/22, se^2 = 9/11 / 11
    assert t["z"] == pytest.approx((-5 / 11) / math.sqrt(9 / 11 / 11), rel=1e-12)
    assert t["z"] == pytest.approx(_restricted_score(7, 2, 2, 0.0), rel=1e-6)
    assert t["p_value"] == pytest.approx(2 * stats.norm.sf(abs(t["z"])), rel=1e-12)
    seg = N.by_segment(pd.DataFrame({"g": ["a"] * 11, "ltr": A}), "g", method="score", scale=1).iloc[0]
    assert (seg["ci_low"], seg["ci_high"]) == pytest.approx((one["score_low"], one["score_high"]))
    assert math.isnan(seg["se"]) and seg["method"] == "score"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_score_interval_holds_the_score_and_stays_in_range(det, pas, pro):
    n = det + pas + pro
    if n == 0:
        return
    lo, hi = N.score_interval(det, pro, n)
    d = (pro - det) / n
    assert -1 <= lo <= d <= hi <= 1 and lo < hi
    for bound, target, edge in ((lo, Z975, -1.0), (hi, -Z975, 1.0)):
        if bound != edge:
            assert N._score_stat(bound, det, pro, n) == pytest.approx(target, abs=1e-6)


def test_the_confidence_level_is_ci_and_conf_still_works_with_a_warning():
    """Every public function of nps names its confidence level ``ci``; the former ``conf=`` gives
    the same numbers and a DeprecationWarning naming the function."""
    import inspect
    import warnings

    for name, fn in inspect.getmembers(N, inspect.isfunction):
        if fn.__module__ != N.__name__ or name.startswith("_"):
            continue
        params = inspect.signature(fn).parameters
        assert "conf" not in params or params["conf"].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert ("ci" in params) == ("conf" in params), name
    ltr = [10] * 7 + [8] * 2 + [3] * 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = N.nps(ltr, ci=0.8)
    with pytest.warns(DeprecationWarning, match=r"nps\(conf=\.\.\.\) is deprecated: use ci="):
        old = N.nps(ltr, conf=0.8)
    assert old["ci_low"] == new["ci_low"] and old["ci_high"] == new["ci_high"] != N.nps(ltr)["ci_high"]
    with pytest.warns(DeprecationWarning, match="wilson_ci"):
        assert N.wilson_ci(3, 14, conf=0.8) == N.wilson_ci(3, 14, ci=0.8) == N.wilson_ci(3, 14, ci=0.8)
    v = _visits()
    with pytest.warns(DeprecationWarning, match="tier_table"):
        old_t = N.tier_table(v, conf=0.9, lang="en")
    pd.testing.assert_frame_equal(old_t, N.tier_table(v, ci=0.9, lang="en"))
