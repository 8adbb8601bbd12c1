import numpy as np
import pytest
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
