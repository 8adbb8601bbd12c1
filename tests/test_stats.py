import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from cxlib.stats import error_bars, wilson_ci


@pytest.mark.parametrize("k, n", [(3, 10), (1, 7), (39, 40), (250, 1000)])
def test_wilson_matches_statsmodels(k, n):
    lo, hi = wilson_ci(k, n)
    assert (float(lo), float(hi)) == pytest.approx(proportion_confint(k, n, method="wilson"), rel=1e-12)


def test_wilson_bounds_are_exact_at_zero_and_all():
    lo, hi = wilson_ci(np.array([0, 5, 0]), np.array([5, 5, 0]))
    assert lo[0] == 0.0 and hi[1] == 1.0
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    # the interval always contains the observed share
    k = np.arange(0, 31)
    lo, hi = wilson_ci(k, 30)
    assert np.all(lo <= k / 30) and np.all(hi >= k / 30)


def test_error_bars_never_negative():
    yerr = error_bars(np.array([0.0, 0.5, 1.0]), np.array([2.8e-17, 0.4, np.nan]), np.array([0.2, 0.6, 1.0]))
    np.testing.assert_allclose(yerr, [[0.0, 0.1, 0.0], [0.2, 0.1, 0.0]])
    assert (yerr >= 0).all()


def test_t_interval_and_mean_ci_match_scipy():
    from scipy import stats as st

    x = np.array([4.0, 6.0, 5.0, 7.0, 3.0, 8.0])
    expected = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    from cxlib.stats import mean_ci, t_interval

    m, lo, hi = mean_ci(list(x) + [None])
    assert m == pytest.approx(x.mean()) and (lo, hi) == pytest.approx(expected, rel=1e-12)
    lo2, hi2 = t_interval(np.array([x.mean(), 1.0]), np.array([x.std(ddof=1), 1.0]), np.array([6, 1]))
    assert (lo2[0], hi2[0]) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(lo2[1]) and np.isnan(hi2[1])
    assert all(np.isnan(v) for v in mean_ci([]))


# ------------------------------------------------------------------ intervals clipped to their scale
def test_clip_interval_to_named_scales():
    from cxlib.stats import SCALES, clip_interval

    assert SCALES["nps"] == (-100.0, 100.0) and SCALES["score"] == (1.0, 10.0) and SCALES["anxiety"] == (0.0, 100.0)
    lo, hi = clip_interval([-130.0, 5.0], [40.0, 120.0], "nps")
    assert lo.tolist() == [-100.0, 5.0] and hi.tolist() == [40.0, 100.0]
    assert [float(x) for x in clip_interval(-1.4, 0.3, "nps_share")] == [-1.0, 0.3]
    with pytest.raises(ValueError, match="unknown scale"):
        clip_interval(0, 1, "kelvin")


def test_a_mean_of_three_answers_stays_on_its_scale():
    from cxlib.stats import mean_ci

    m, lo, hi = mean_ci([1, 1, 4], bounds="score")  # unclipped: 2 ± 7.45
    assert m == 2.0 and lo == 1.0 and hi == pytest.approx(2 + 4.302653 * math.sqrt(3) / math.sqrt(3), abs=1e-5)
    assert mean_ci([9, 10], bounds="ltr")[2] == 10.0
    assert mean_ci([5.0, 95.0], bounds="anxiety")[1:] == (0.0, 100.0)
    assert mean_ci([9, 10])[2] > 10  # without bounds the t interval runs off the scale


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=3))
def test_tier_and_segment_intervals_of_one_to_three_answers_stay_on_their_scales(ltrs):
    from cxlib import nps as N

    n = len(ltrs)
    v = pd.DataFrame(
        {"ltr": ltrs, "tier": ["none"] * n, "anxiety": [50.0] * n, "complained": [True] * n, "center": ["A"] * n}
    )
    t = N.tier_table(v).iloc[0]
    if n > 1:
        assert 0 <= t["ltr_ci_low"] <= t["ltr_mean"] <= t["ltr_ci_high"] <= 10
    assert -100 <= t["nps_ci_low"] <= t["nps_ci_high"] <= 100
    assert 0 <= t["complaint_ci_low"] <= t["complaint_ci_high"] <= 1
    s = N.by_segment(v, "center").iloc[0]
    assert -100 <= s["ci_low"] <= s["ci_high"] <= 100
    h = N.headline_table(ltrs)
    assert -1 <= h.loc[1, "ci_low"] <= h.loc[1, "ci_high"] <= 1


def test_emotion_curve_and_silence_intervals_with_few_answers():
    from cxlib import journey

    scores = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "point": ["waiting"] * 3, "score": [1, 1, 3]})
    c = journey.emotion_curve(scores).iloc[0]
    assert c["ci_low"] == 1.0 and c["ci_high"] <= 10.0
    visits = pd.DataFrame(
        {"longest_silence_minutes": [10.0, 20.0], "anxiety": [2.0, 98.0], "ltr": [0, 10], "n_inquiries": [0, 1]}
    )
    e = journey.silence_effects(visits).iloc[0]
    assert (e["anxiety_ci_low"], e["anxiety_ci_high"]) == (0.0, 100.0)
    assert (e["ltr_ci_low"], e["ltr_ci_high"]) == (0.0, 10.0)


# ------------------------------------------------------------------------------ multiplicity
def test_holm_matches_the_hand_computed_steps():
    from cxlib.stats import adjust_pvalues

    # sorted 0.01, 0.03, 0.04: 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.06, 1*0.04) = 0.06
    assert adjust_pvalues([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06], abs=1e-15)
    assert adjust_pvalues([0.5]).tolist() == [0.5]
    assert adjust_pvalues([0.9, 0.8]).tolist() == [1.0, 1.0]
    # BH: sorted 0.01, 0.03, 0.04 -> min over j >= i of 3/j p_(j): 0.03, 0.04, 0.04
    assert adjust_pvalues([0.01, 0.04, 0.03], method="bh").tolist() == pytest.approx([0.03, 0.04, 0.04], abs=1e-15)


def test_adjust_pvalues_leaves_missing_out_and_rejects_bad_input():
    from cxlib.stats import adjust_pvalues

    out = adjust_pvalues([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and out[[0, 2]].tolist() == pytest.approx([0.02, 0.04])
    assert adjust_pvalues([]).size == 0
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], method="bonferroni")
    with pytest.raises(ValueError):
        adjust_pvalues([1.5])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=15), st.sampled_from(["holm", "bh"]))
def test_adjust_pvalues_equals_statsmodels_multipletests(ps, method):
    from statsmodels.stats.multitest import multipletests

    from cxlib.stats import adjust_pvalues

    ref = multipletests(ps, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    adj = adjust_pvalues(ps, method=method)
    assert adj == pytest.approx(ref, abs=1e-12)
    assert np.all(adj >= np.asarray(ps) - 1e-12) and np.all(adj <= 1)


def test_league_alerts_use_the_shared_holm_adjustment():
    import inspect

    from cxlib import league

    assert not hasattr(league, "holm") and "adjust_pvalues" in inspect.getsource(league._changes)


# ------------------------------------------------------------------------------ BCa
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bca_interval_equals_scipy_on_the_same_resamples(seed):
    from types import SimpleNamespace

    from scipy import stats

    from cxlib.stats import bca_interval

    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=40)
    idx = rng.integers(0, x.size, (1500, x.size))

    def stat(v, axis=-1):
        return np.std(v, axis=axis, ddof=1) / np.mean(v, axis=axis)  # a skewed, biased statistic

    boot = stat(x[idx])
    jack = np.array([stat(np.delete(x, i)) for i in range(x.size)])
    lo, hi = bca_interval(stat(x), boot, jack, ci=0.9)
    ref = stats.bootstrap(
        (x,),
        stat,
        n_resamples=0,
        confidence_level=0.9,
        method="BCa",
        bootstrap_result=SimpleNamespace(bootstrap_distribution=boot),
    ).confidence_interval
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-12)
    # several statistics at once give the same as one by one
    both = bca_interval(
        [stat(x), x.mean()],
        np.column_stack([boot, x[idx].mean(1)]),
        np.column_stack([jack, [np.delete(x, i).mean() for i in range(x.size)]]),
        ci=0.9,
    )
    assert (both[0][0], both[1][0]) == pytest.approx((lo, hi), rel=1e-12)


def test_bca_interval_of_a_degenerate_side_is_still_an_interval():
    from cxlib.stats import bca_interval

    boot = np.linspace(1.0, 2.0, 200)  # every resample above the estimate 0.5
    lo, hi = bca_interval(0.5, boot, np.zeros(10))
    assert 1.0 <= lo <= hi <= 2.0
