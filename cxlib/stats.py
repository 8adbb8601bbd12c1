"""Interval estimates shared by the analysis modules.

Every interval that a module computes is clipped to the scale of what it measures by
:func:`clip_interval` (a mean of three answers on the 1-10 scale never reaches 0 or 11; an NPS
interval never leaves -100..100): :data:`SCALES` names the scales.

    >>> [round(float(x), 4) for x in wilson_ci(3, 10)]
    [0.1078, 0.6032]
    >>> [round(float(x), 2) for x in t_interval(9.5, 0.7, 2, bounds="score")]
    [3.21, 10.0]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

#: The scales intervals are clipped to: NPS on -100..100 and on the share scale -1..1, touchpoint
#: scores 1-10, LTR 0-10, anxiety 0-100, shares and rates 0-1.
SCALES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0),
    "nps_share": (-1.0, 1.0),
    "score": (1.0, 10.0),
    "ltr": (0.0, 10.0),
    "anxiety": (0.0, 100.0),
    "share": (0.0, 1.0),
}
Bounds = str | tuple[float, float] | None


def confidence_level(ci: float, conf: float | None, where: str) -> float:
    """The confidence level a call asked for: ``ci`` (its name throughout cxlib), or ``conf``, the
    former name in :mod:`cxlib.nps` and :mod:`cxlib.did`, when given (with a DeprecationWarning
    naming ``where``, the function called).

        >>> confidence_level(0.9, None, "nps")
        0.9
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     level = confidence_level(0.95, 0.8, "nps")
        >>> level, w[0].category.__name__
        (0.8, 'DeprecationWarning')
    """
    if conf is None:
        return ci
    warnings.warn(f"{where}(conf=...) is deprecated: use ci=...", DeprecationWarning, stacklevel=3)
    return conf


def clip_interval(low, high, bounds: Bounds) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` clipped to ``bounds`` (a name of :data:`SCALES` or ``(min, max)``; None
    leaves them as they are). NaN stays NaN. The one place where an interval meets its scale.

        >>> [float(x) for x in clip_interval(-130.0, 40.0, "nps")]
        [-100.0, 40.0]
        >>> [x.tolist() for x in clip_interval([0.2, np.nan], [11.3, np.nan], "score")]
        [[1.0, nan], [10.0, nan]]
    """
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    if bounds is None:
        return lo, hi
    if isinstance(bounds, str):
        if bounds not in SCALES:
            raise ValueError(f"unknown scale {bounds!r}; known: {', '.join(SCALES)}")
        bounds = SCALES[bounds]
    a, b = (float(x) for x in bounds)
    return np.clip(lo, a, b), np.clip(hi, a, b)


def wilson_ci(
    successes: float | np.ndarray, n: float | np.ndarray, *, ci: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / n`` (vectorised; NaN where ``n`` is 0).

    The bounds are exactly 0 when there is no success and exactly 1 when all are successes, so
    the interval always contains the observed share (no rounding residue below 0 or above p).

        >>> [float(x) for x in wilson_ci(0, 5)][0]
        0.0
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = stats.norm.ppf((1 + ci) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        lo = np.where(k <= 0, 0.0, np.minimum(centre - half, p))
        hi = np.where(k >= m, 1.0, np.maximum(centre + half, p))
    lo = np.where(m > 0, np.clip(lo, 0, 1), np.nan)
    hi = np.where(m > 0, np.clip(hi, 0, 1), np.nan)
    return lo, hi


def t_interval(mean, sd, n, *, ci: float = 0.95, bounds: Bounds = None) -> tuple[np.ndarray, np.ndarray]:
    """t-based interval of a mean from its summary (vectorised; NaN where ``n`` < 2), clipped
    to ``bounds`` (see :func:`clip_interval`) when given.

        >>> [round(float(x), 4) for x in t_interval(5.0, 2.0, 10)]
        [3.5693, 6.4307]
    """
    m = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    k = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(k > 1, stats.t.ppf((1 + ci) / 2, np.maximum(k - 1, 1)) * s / np.sqrt(k), np.nan)
    return clip_interval(m - half, m + half, bounds)


def mean_ci(values, *, ci: float = 0.95, bounds: Bounds = None) -> tuple[float, float, float]:
    """Mean of the numeric ``values`` (missing ones left out) and its t-based interval, clipped
    to ``bounds`` (a name of :data:`SCALES`) when given.

        >>> [round(x, 4) for x in mean_ci([4, 6, 5, 7, 3])]
        [5.0, 3.0368, 6.9632]
        >>> [round(x, 2) for x in mean_ci([0, 1, 9], bounds="ltr")]
        [3.33, 0.0, 10.0]
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if v.size == 0:
        return (float("nan"),) * 3
    m = float(v.mean())
    lo, hi = t_interval(m, v.std(ddof=1) if v.size > 1 else np.nan, v.size, ci=ci, bounds=bounds)
    return m, float(lo), float(hi)


def error_bars(estimate: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``yerr`` for ``Axes.errorbar``: distances to the bounds, never negative, 0 where a bound is missing.

    >>> error_bars(np.array([0.0, 2.0]), np.array([1e-17, np.nan]), np.array([0.3, 3.0])).tolist()
    [[0.0, 0.0], [0.3, 1.0]]
    """
    est = np.asarray(estimate, dtype=float)
    below = np.nan_to_num(est - np.asarray(low, dtype=float), nan=0.0)
    above = np.nan_to_num(np.asarray(high, dtype=float) - est, nan=0.0)
    return np.vstack([np.clip(below, 0, None), np.clip(above, 0, None)])


# --------------------------------------------------------------------------- multiplicity
def adjust_pvalues(p_values, *, method: str = "holm") -> np.ndarray:
    """p-values adjusted for testing many hypotheses at once, in the order given.

    ``method="holm"``: Holm's (1979) step-down adjustment, which controls the family-wise error
    rate (the chance of any false alarm); ``method="bh"``: Benjamini & Hochberg's (1995) step-up
    adjustment, which controls the false discovery rate (the expected share of false alarms among
    the findings). Both equal ``statsmodels.stats.multitest.multipletests(p, method="holm" /
    "fdr_bh")[1]``. Missing p-values stay missing and do not count as tests.

        >>> adjust_pvalues([0.01, 0.04, 0.03]).round(4).tolist()
        [0.03, 0.06, 0.06]
        >>> adjust_pvalues([0.01, 0.04, 0.03], method="bh").round(4).tolist()
        [0.03, 0.04, 0.04]
    """
    if method not in ("holm", "bh"):
        raise ValueError(f"method must be 'holm' or 'bh', not {method!r}")
    p = np.asarray(p_values, dtype=float).reshape(-1)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie between 0 and 1")
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="mergesort")]
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ps))
    else:
        adj = np.minimum(1.0, np.minimum.accumulate(m / np.arange(m, 0, -1) * ps[::-1])[::-1])
    out[order] = adj
    return out


# --------------------------------------------------------------------------- bootstrap intervals
def bca_interval(estimate, boot, jackknife, *, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated (BCa) bootstrap interval (Efron & Tibshirani 1993, 14.3).

    ``estimate`` is the statistic on the data (shape ``(k,)`` or scalar), ``boot`` its values on
    the bootstrap resamples (``(B, k)``), ``jackknife`` its values with each row left out in turn
    (``(n, k)``). The bias correction ``z0 = Φ⁻¹(share of resamples below the estimate, ties
    counted half)`` and the acceleration ``a = Σ d³ / (6 (Σ d²)^1.5)``, ``d`` = jackknife mean −
    jackknife value, move the percentiles read off ``boot`` (linear interpolation): the same
    formulas as ``scipy.stats.bootstrap(method="BCa")``. When every resample lies on one side of
    the estimate the share is clipped to ``1/(2B)`` (scipy returns NaN there); columns with
    missing resample values use only the finite ones.

        >>> rng = np.random.default_rng(0)
        >>> x = rng.exponential(size=50)
        >>> b = np.array([x[rng.integers(0, 50, 50)].mean() for _ in range(2000)])
        >>> j = np.array([np.delete(x, i).mean() for i in range(50)])
        >>> [round(float(v), 2) for v in bca_interval(x.mean(), b, j)]
        [0.85, 1.51]
    """
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    b = np.asarray(boot, dtype=float).reshape(len(boot), -1)
    jk = np.asarray(jackknife, dtype=float).reshape(len(jackknife), -1)
    if not (b.shape[1] == jk.shape[1] == est.size):
        raise ValueError("estimate, boot and jackknife must describe the same number of statistics")
    alpha = (1 - ci) / 2
    z_a = stats.norm.ppf(alpha)
    lo = np.full(est.size, np.nan)
    hi = np.full(est.size, np.nan)
    for j in range(est.size):
        col = b[:, j][np.isfinite(b[:, j])]
        jj = jk[:, j][np.isfinite(jk[:, j])]
        if col.size < 2 or not np.isfinite(est[j]):
            continue
        share = (np.count_nonzero(col < est[j]) + np.count_nonzero(col <= est[j])) / (2 * col.size)
        share = min(max(share, 1 / (2 * col.size)), 1 - 1 / (2 * col.size))
        z0 = stats.norm.ppf(share)
        d = jj.mean() - jj if jj.size else np.zeros(1)
        den = float(np.sum(d**2))
        a = float(np.sum(d**3)) / (6 * den**1.5) if den > 0 else 0.0
        q = []
        for z in (z_a, -z_a):
            num = z0 + z
            q.append(stats.norm.cdf(z0 + num / (1 - a * num)))
        lo[j], hi[j] = np.quantile(col, q)
    if np.ndim(estimate) == 0:
        return lo[0], hi[0]
    return lo, hi
