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
