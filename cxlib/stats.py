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

import numpy as np
import pandas as pd
from scipy import stats


#: The scales intervals are clipped to: NPS on -100..100 and on the share scale -1..1, touchpoint
#: scores 1-10, LTR 0-10, anxiety 0-100, shares and rates 0-1.
SCALES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0), "nps_share": (-1.0, 1.0), "score": (1.0, 10.0), "ltr": (0.0, 10.0),
    "anxiety": (0.0, 100.0), "share": (0.0, 1.0),
}
Bounds = str | tuple[float, float] | None


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


def wilson_ci(successes: float | np.ndarray, n: float | np.ndarray, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
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
        denom = 1 + z ** 2 / m
        centre = (p + z ** 2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z ** 2 / (4 * m ** 2)) / denom
        lo = np.where(k <= 0, 0.0, np.minimum(centre - half, p))
        hi = np.where(k >= m, 1.0, np.maximum(centre + half, p))
    lo = np.where(m > 0, np.clip(lo, 0, 1), np.nan)
    hi = np.where(m > 0, np.clip(hi, 0, 1), np.nan)
    return lo, hi


def t_interval(mean, sd, n, ci: float = 0.95, bounds: Bounds = None) -> tuple[np.ndarray, np.ndarray]:
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


def mean_ci(values, ci: float = 0.95, bounds: Bounds = None) -> tuple[float, float, float]:
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
    lo, hi = t_interval(m, v.std(ddof=1) if v.size > 1 else np.nan, v.size, ci, bounds)
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
