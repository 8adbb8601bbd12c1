"""Key-driver analysis: Johnson's (2000) relative weights, with bootstrap confidence intervals.

Which journey points move likelihood to recommend? Touchpoint scores are strongly correlated
with each other, so regression coefficients are unstable and do not split R² among the points.
Relative weights do: the predictors are replaced by their closest orthogonal counterparts
``Z = X R^{-1/2}`` (built from the eigendecomposition ``R = P Λ P'`` of the predictor
correlation matrix, ``Λ* = P Λ^{1/2} P'``), the outcome is regressed on ``Z`` (``β = Λ*^{-1} r_xy``),
and the variance each ``Z_k`` explains is given back to the original predictors in proportion
to ``Λ*_jk²``:  ``ε_j = Σ_k Λ*_jk² β_k²``. The raw weights ``ε_j`` sum to the R² of the
ordinary least-squares regression; ``rescaled_pct`` is their share of R² in percent.

Whether a driver matters at all is not read off its own interval: raw weights are never negative
and are biased upwards, so even a pure-noise predictor has an interval above 0. The test of
Tonidandel, LeBreton & Johnson (2009) adds a random predictor (standard normal, drawn once from the
seed and resampled with the rows) and bootstraps the difference of each raw weight from the random
predictor's weight: a driver "beats random" when the interval of that difference lies above 0.
All intervals are BCa (bias-corrected and accelerated; :func:`cxlib.stats.bca_interval`, the
formulas of ``scipy.stats.bootstrap``), computed from the correlation matrices of the resamples in
one vectorised pass (weights from resampled moments, jackknife from leave-one-out moments).

References: Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
predictor variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1-19.
Tonidandel, S., LeBreton, J. M., & Johnson, J. W. (2009). Determining the statistical significance
of relative weights. *Psychological Methods*, 14(4), 387-399.
Tonidandel, S., & LeBreton, J. M. (2015). RWA Web. *J. Business and Psychology*, 30, 207-216.
Checked against the R package ``rwa`` (Chan) on ``mtcars``.

Example
-------
>>> rw = relative_weights(df, "ltr", ["score_waiting", "score_notification"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import pandas as pd

from cxlib.errors import DataError, require_columns
from cxlib.progress import Progress
from cxlib.results import NotComputed, too_few
from cxlib.stats import bca_interval

__all__ = ["relative_weights", "bootstrap_relative_weights", "WHAT"]

#: The method, as a "not computed" note names it.
WHAT = ("关键驱动因素（相对权重）", "key drivers (relative weights)")
#: Resample weights held at once by the bootstrap (resamples × rows; 8 bytes each: 160 MB).
BOOT_BATCH_CELLS = 20_000_000
#: Moments (rows × k²) of the jackknife's leave-one-out replicates handled at once (8 bytes each: 16 MB).
JACKKNIFE_CELLS = 2_000_000


def _short(strict: bool, message: str, note: NotComputed, column: str | None = None) -> NotComputed:
    """``note`` (``strict=False``) or a :class:`DataError` with ``message``."""
    if strict:
        raise DataError(message, column=column)
    return note


@overload
def _model_frame(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], strict: Literal[True] = ...
) -> pd.DataFrame: ...
@overload
def _model_frame(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], strict: bool
) -> pd.DataFrame | NotComputed: ...
def _model_frame(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], strict: bool = True
) -> pd.DataFrame | NotComputed:
    predictors = list(predictors)
    if not predictors:
        raise DataError("relative weights need at least one predictor")
    if outcome in predictors:
        raise DataError("the outcome is also listed as a predictor", column=outcome)
    if len(set(predictors)) != len(predictors):
        raise DataError("a predictor is listed twice: " + ", ".join(predictors))
    require_columns(df, [outcome, *predictors], "key-driver")
    d = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce") for c in [outcome, *predictors]})
    d = d.astype("float64").dropna()
    need = len(predictors) + 2
    if len(d) < need:
        what = (f"{len(predictors)} 个触点的{WHAT[0]}", f"{WHAT[1]} of {len(predictors)} predictors")
        return _short(
            strict,
            f"only {len(d)} complete rows for {len(predictors)} predictors: need at least {need}",
            too_few(len(d), need, what),
        )
    for col in [outcome, *predictors]:
        if d[col].std() == 0:
            return _short(
                strict,
                "column is constant over the complete rows: no correlation can be computed",
                NotComputed(len(d), WHAT, why=(f"{col} 在所有答卷中取值相同", f"{col} is the same in every response")),
                column=col,
            )
    return d


def _weights_stack(corr: np.ndarray) -> np.ndarray:
    """Raw relative weights ``(m, p)`` of stacked correlation matrices ``(m, k, k)`` of [y, x1..xp].

    A row is NaN where its matrix has a non-finite entry (a constant column) or its predictor block
    is singular (perfectly collinear predictors).
    """
    k = corr.shape[1]
    finite = np.all(np.isfinite(corr), axis=(1, 2))
    c = np.where(finite[:, None, None], corr, np.eye(k))
    rxx, rxy = c[:, 1:, 1:], c[:, 1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    ok = finite & (evals.min(axis=1) > 1e-10 * np.maximum(evals.max(axis=1), 1.0))
    # R^{1/2}: loadings of X on the orthogonal Z
    lam = (evecs * np.sqrt(np.clip(evals, 0, None))[:, None, :]) @ np.swapaxes(evecs, 1, 2)
    beta = np.full(rxy.shape, np.nan)
    if ok.any():
        beta[ok] = np.linalg.solve(lam[ok], rxy[ok][..., None])[..., 0]  # regression of y on Z
    raw = np.einsum("mij,mj->mi", lam**2, beta**2)
    raw[~ok] = np.nan
    return raw


def _weights(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Raw relative weights and the predictor-outcome correlations of a matrix [y, x1..xp].

    None when the predictor correlation matrix is singular (perfectly collinear predictors).
    """
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column: NaN, handled below
        corr = np.corrcoef(values, rowvar=False)
    raw = _weights_stack(corr[None])[0]
    if not np.all(np.isfinite(raw)):
        return None
    return raw, corr[1:, 0]


def _corr_from_moments(m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
    """Correlation matrices ``(m, k, k)`` from first moments ``(m, k)`` and second moments ``(m, k, k)``."""
    cov = m2 - m1[:, :, None] * m1[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.clip(np.einsum("mii->mi", cov), 0, None))
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    corr[~np.isfinite(corr)] = np.nan
    return corr


def _replicate_stats(corr: np.ndarray, p: int) -> np.ndarray:
    """Per correlation matrix of [y, x1..xp, random]: the ``3p + 1`` bootstrapped statistics
    (raw weights, rescaled %, R², raw weight minus the random predictor's), NaN where singular."""
    raw = _weights_stack(corr[:, :-1, :-1])
    with_rand = _weights_stack(corr)
    r2 = raw.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        resc = 100 * raw / r2[:, None]
    diff = with_rand[:, :p] - with_rand[:, p:]
    return np.column_stack([raw, resc, r2, diff])


def relative_weights(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], *, sort: bool = True, strict: bool = True
) -> pd.DataFrame | NotComputed:
    """Johnson's relative weights of ``predictors`` for ``outcome`` (rows with a missing value dropped).

    Returns one row per predictor: ``raw_weight`` (share of variance of the outcome; the raw
    weights sum to R²), ``rescaled_pct`` (share of R², %, sums to 100), ``sign`` of the
    predictor's correlation with the outcome, ``r2`` of the OLS model and ``n`` rows used;
    sorted by weight (largest first) unless ``sort=False``.

    Too few complete rows (fewer than predictors + 2), a constant column or perfectly collinear
    predictors are a :class:`~cxlib.errors.DataError`; with ``strict=False`` (what a report
    calls) the function returns a :class:`~cxlib.results.NotComputed` note saying why, with n.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 2))
    >>> df = pd.DataFrame({"y": x[:, 0] + 0.3 * rng.normal(size=60), "a": x[:, 0], "b": x[:, 1]})
    >>> relative_weights(df, "y", ["a", "b"]).round(3)
      predictor  raw_weight  rescaled_pct sign     r2   n
    0         a       0.909        99.531    +  0.913  60
    1         b       0.004         0.469    +  0.913  60
    >>> print(relative_weights(pd.DataFrame({"y": [1, 2], "x": [3, 4]}), "y", ["x"], strict=False).in_lang("en"))
    n = 2 complete responses: too few for key drivers (relative weights) of 1 predictors, need ≥ 3
    """
    d = _model_frame(df, outcome, predictors, strict)
    if isinstance(d, NotComputed):
        return d
    res = _weights(d.to_numpy(dtype=float, copy=True))
    if res is None:
        return _short(
            strict,
            "the predictors are perfectly collinear (singular correlation matrix): "
            "drop one of " + ", ".join(predictors),
            NotComputed(len(d), WHAT, why=("各触点评分完全共线", "the predictors are perfectly collinear")),
        )
    raw, rxy = res
    r2 = float(raw.sum())
    out = pd.DataFrame(
        {
            "predictor": list(predictors),
            "raw_weight": raw,
            "rescaled_pct": 100 * raw / r2 if r2 > 0 else np.nan,
            "sign": np.where(rxy >= 0, "+", "-"),
            "r2": r2,
            "n": len(d),
        }
    )
    if sort:
        out = out.sort_values(["raw_weight", "predictor"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


#: Up to this many complete rows the BCa acceleration comes from the exact jackknife (every row
#: left out in turn); above, from its first-order (linear) form, which differs by O(1/n).
EXACT_JACKKNIFE_UP_TO = 50_000


def _bootstrap_stats(
    z: np.ndarray, p: int, n_boot: int, rng: np.random.Generator, chunk: int, bar: Progress | None = None
) -> np.ndarray:
    """The statistics of ``n_boot`` resamples of the rows of ``z`` (``n_boot × (3p + 1)``).

    The rows of each resample are drawn ``chunk`` resamples at a time (``rng.integers(0, n,
    (chunk, n))``, the same draws for a seed whatever the batch below), counted into resample
    weights, and the moments of a batch of :data:`BOOT_BATCH_CELLS` weights come from one matrix
    product with the means and the distinct cross-products (``k(k+1)/2`` of the ``k²``) of the
    rows: a few passes over the data instead of one per ``chunk`` resamples.
    """
    n, k = z.shape
    iu = np.triu_indices(k)
    moments = np.column_stack([z, z[:, iu[0]] * z[:, iu[1]]])  # n × (k + k(k+1)/2)
    batch = chunk * max(1, BOOT_BATCH_CELLS // max(n, 1) // chunk)  # whole chunks: the same draws
    out = []
    for first in range(0, n_boot, batch):
        size = min(batch, n_boot - first)
        w = np.empty((size, n))
        for start in range(0, size, chunk):
            b = min(chunk, size - start)
            idx = rng.integers(0, n, (b, n)) + (np.arange(b) * n)[:, None]
            w[start : start + b] = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        m = (w @ moments) / n
        m2 = np.empty((size, k, k))
        m2[:, iu[0], iu[1]] = m[:, k:]
        m2[:, iu[1], iu[0]] = m[:, k:]
        out.append(_replicate_stats(_corr_from_moments(m[:, :k], m2), p))
        if bar is not None:
            bar.update(size)
    return np.vstack(out)


def _exact_jackknife(z: np.ndarray, zz: np.ndarray, p: int, chunk: int, bar: Progress) -> np.ndarray:
    """The statistics with each row left out in turn, from leave-one-out moments (n × (3p + 1))."""
    n, k = z.shape
    s1, s2 = z.sum(axis=0), zz.sum(axis=0)
    jacks = []
    for start in range(0, n, chunk):
        rows = slice(start, min(n, start + chunk))
        m1 = (s1 - z[rows]) / (n - 1)
        m2 = ((s2 - zz[rows]) / (n - 1)).reshape(-1, k, k)
        jacks.append(_replicate_stats(_corr_from_moments(m1, m2), p))
        bar.update(rows.stop - rows.start)
    return np.vstack(jacks)


def _linear_jackknife(
    z: np.ndarray, zz: np.ndarray, full: np.ndarray, p: int, chunk: int, bar: Progress, h: float = 1e-5
) -> np.ndarray:
    """The leave-one-out statistics to first order: ``θ + ∇θ · (m − r_i) / (n − 1)``, with ``m`` the
    moments (means and cross-products) of all rows, ``r_i`` those of row i, and ``∇θ`` the
    gradient of the statistics in the moments by central differences (symmetric cross-product
    pairs moved together). The jackknife's deviations are then exactly proportional to the
    empirical influence function, which is what the acceleration ``Σd³ / 6(Σd²)^1.5`` needs; the
    exact jackknife differs by O(1/n). One batch of 2 × (k + k(k+1)/2) correlation matrices
    instead of n."""
    n, k = z.shape
    m1, m2 = z.mean(axis=0), zz.mean(axis=0).reshape(k, k)
    iu = np.triu_indices(k)
    q = k + len(iu[0])
    d1 = np.zeros((2 * q, k))
    d2 = np.zeros((2 * q, k, k))
    for j in range(q):
        for sign, row in ((1.0, 2 * j), (-1.0, 2 * j + 1)):
            if j < k:
                d1[row, j] = sign * h
            else:
                a, b = iu[0][j - k], iu[1][j - k]
                d2[row, a, b] = d2[row, b, a] = sign * h
    stats_ = _replicate_stats(_corr_from_moments(m1[None] + d1, m2[None] + d2), p)
    grad = (stats_[0::2] - stats_[1::2]) / (2 * h)  # q × statistics
    out = []
    for start in range(0, n, chunk):
        rows = slice(start, min(n, start + chunk))
        r2 = zz[rows].reshape(-1, k, k)[:, iu[0], iu[1]]
        delta = np.column_stack([m1[None] - z[rows], m2[iu][None] - r2]) / (n - 1)
        out.append(full[None] + delta @ grad)
        bar.update(rows.stop - rows.start)
    return np.vstack(out)


@dataclass(frozen=True)
class Bootstrap:
    """How the intervals of :func:`bootstrap_relative_weights` are drawn: ``n_boot`` resamples
    from ``seed``, BCa intervals at level ``ci``, the acceleration from the ``jackknife``
    (``"auto"``, ``"exact"`` or ``"linear"``).

    >>> Bootstrap(n_boot=200, seed=1)
    Bootstrap(n_boot=200, seed=1, ci=0.95, jackknife='auto')
    """

    n_boot: int = 1000
    seed: int = 0
    ci: float = 0.95
    jackknife: Literal["auto", "exact", "linear"] = "auto"


def bootstrap_relative_weights(
    df: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    bootstrap: Bootstrap = Bootstrap(),
    sort: bool = True,
    strict: bool = True,
) -> pd.DataFrame | NotComputed:
    """:func:`relative_weights` with BCa bootstrap intervals and the random-variable test.

    The resamples are those of ``bootstrap`` (a :class:`Bootstrap`): rows are resampled with
    replacement ``n_boot`` times (the random predictor and the resamples
    come from two streams spawned from ``numpy.random.SeedSequence(seed)``);
    resamples with a singular correlation matrix are skipped (``n_boot_used`` says how many
    were used). Adds ``raw_ci_low/high``, ``rescaled_ci_low/high`` and ``r2_ci_low/high`` (BCa),
    and the random-variable comparison of Tonidandel, LeBreton & Johnson (2009): ``vs_random``, the
    raw weight minus that of a random standard-normal predictor added to the model (drawn once from
    the seed, resampled with the rows), its BCa interval ``vs_random_ci_low/high`` and
    ``beats_random`` (the interval lies above 0). For "does this driver matter at all?" read
    ``beats_random``: the raw-weight interval lies above 0 for any predictor, noise included, since
    raw weights are never negative. Intervals of rescaled weights describe the split of R².

    The BCa acceleration comes from the jackknife: with ``jackknife="auto"`` the exact one (each
    row left out in turn) up to :data:`EXACT_JACKKNIFE_UP_TO` complete rows, its first-order form
    (:func:`_linear_jackknife`: the same deviations to O(1/n), from one gradient instead of n
    replicates) above; ``"exact"`` or ``"linear"`` choose one.

    ``strict=False``: the data conditions of :func:`relative_weights`, and fewer than half the
    resamples fitted, give a :class:`~cxlib.results.NotComputed` note instead of an error (a bad
    ``n_boot`` or ``ci`` is always an error).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 2))
    >>> df = pd.DataFrame({"y": x[:, 0] + 0.3 * rng.normal(size=60), "a": x[:, 0], "b": x[:, 1]})
    >>> out = bootstrap_relative_weights(df, "y", ["a", "b"], bootstrap=Bootstrap(n_boot=200, seed=1))
    >>> out["predictor"].tolist(), out["beats_random"].tolist()
    (['a', 'b'], [True, False])
    """
    n_boot, seed, ci, jackknife = bootstrap.n_boot, bootstrap.seed, bootstrap.ci, bootstrap.jackknife
    if n_boot < 10:
        raise DataError(f"n_boot={n_boot} is too small for a bootstrap interval (use >= 10)")
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, not {ci}")
    point = relative_weights(df, outcome, predictors, sort=False, strict=strict)
    if isinstance(point, NotComputed):
        return point
    d = _model_frame(df, outcome, predictors).to_numpy(dtype=float, copy=True)
    # two independent streams of the seed: the random predictor, and the resamples
    rand_rng, rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    n, p = d.shape[0], len(predictors)
    data = np.column_stack([d, rand_rng.standard_normal(n)])  # [y, x1..xp, random]
    z = (data - data.mean(axis=0)) / data.std(axis=0)  # standardised: moments stay well scaled
    k = z.shape[1]
    zz = (z[:, :, None] * z[:, None, :]).reshape(n, k * k)
    full = _replicate_stats(_corr_from_moments(z.mean(axis=0)[None], (zz.mean(axis=0)).reshape(1, k, k)), p)[0]
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    with Progress(n_boot, "key drivers, bootstrap of the relative weights", "resamples") as bar:
        boot = _bootstrap_stats(z, p, n_boot, rng, chunk, bar)
    fitted = np.all(np.isfinite(boot[:, :p]), axis=1) & np.all(np.isfinite(boot[:, 2 * p + 1 :]), axis=1)
    n_used = int(fitted.sum())
    if n_used < n_boot / 2:
        return _short(
            strict,
            f"only {n_used} of {n_boot} bootstrap resamples could be fitted: too few rows "
            "or nearly constant predictors",
            NotComputed(
                n,
                ("关键驱动因素的自助抽样区间", "bootstrap intervals of the key drivers"),
                why=(
                    f"{n_boot} 次重抽样中仅 {n_used} 次可拟合（至少需要一半）",
                    f"only {n_used} of {n_boot} resamples could be fitted (need half)",
                ),
            ),
        )
    boot = boot[fitted]
    # jackknife (each row left out in turn) from leave-one-out moments, for the BCa acceleration
    exact = jackknife == "exact" or (jackknife == "auto" and n <= EXACT_JACKKNIFE_UP_TO)
    rows = max(1, JACKKNIFE_CELLS // (k * k))  # rows of the jackknife at a time (not the resamples')
    with Progress(n, "key drivers, jackknife of the relative weights", "rows") as bar:
        jack = _exact_jackknife(z, zz, p, rows, bar) if exact else _linear_jackknife(z, zz, full, p, rows, bar)
    lo, hi = bca_interval(full, boot, jack, ci=ci)
    raw_s, res_s, r2_s, diff_s = slice(0, p), slice(p, 2 * p), 2 * p, slice(2 * p + 1, 3 * p + 1)
    out = point.assign(
        raw_ci_low=lo[raw_s],
        raw_ci_high=hi[raw_s],
        rescaled_ci_low=lo[res_s],
        rescaled_ci_high=hi[res_s],
        r2_ci_low=lo[r2_s],
        r2_ci_high=hi[r2_s],
        n_boot_used=n_used,
        vs_random=full[diff_s],
        vs_random_ci_low=lo[diff_s],
        vs_random_ci_high=hi[diff_s],
        beats_random=lo[diff_s] > 0,
    )
    cols = [
        "predictor",
        "raw_weight",
        "raw_ci_low",
        "raw_ci_high",
        "rescaled_pct",
        "rescaled_ci_low",
        "rescaled_ci_high",
        "sign",
        "r2",
        "r2_ci_low",
        "r2_ci_high",
        "n",
        "n_boot_used",
        "vs_random",
        "vs_random_ci_low",
        "vs_random_ci_high",
        "beats_random",
    ]
    out = out[cols]
    if sort:
        out = out.sort_values(["raw_weight", "predictor"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)
