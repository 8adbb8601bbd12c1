"""Few-cluster inference for linear models: the wild cluster bootstrap and CR2.

With 7 service centers (4 of which switched to real-time updates) the usual cluster-robust
errors (CR1, ``G/(G-1)·(N-1)/(N-K)`` times the sandwich, t with ``G-1`` degrees of freedom) are
too small and their tests reject too often (Cameron, Gelbach & Miller 2008; MacKinnon & Webb
2017). Two remedies that the literature trusts with a handful of clusters:

* :func:`wild_cluster_bootstrap`: the restricted wild cluster bootstrap (WCR, the null imposed) of
  one coefficient's CR1 t statistic, with Webb's six-point weights (Webb 2023; Rademacher as an
  option). When the weight vectors are few enough (``6**G`` or ``2**G`` at most the ``B`` asked
  for) all of them are enumerated, so the p-value is exact for the bootstrap and has no Monte Carlo
  error; otherwise ``B`` vectors are drawn with a seed. The interval is found by inverting the test
  (the set of nulls not rejected, its ends by bisection on the p-value function). It never refits
  the model: the bootstrap t is a ratio of a linear and a quadratic form in the weights, built from
  cluster-level sums as in Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and wild"), and both are
  linear in the null value, so each p-value of the inversion costs one pass over ``B`` numbers.
* :func:`cr2_vcov` and :func:`cr2_coef_test`: the bias-reduced linearisation (CR2) of Bell &
  McCaffrey (2002) with the Satterthwaite degrees of freedom of one coefficient, as R's
  ``clubSandwich::coef_test(vcov = "CR2", test = "Satterthwaite")`` reports them (Pustejovsky &
  Tipton 2018; working model: independent errors of equal variance).

Fixed effects enter either as dummy columns of ``X`` or absorbed (``absorb=`` one factor: ``X``
and ``y`` are demeaned within its levels). Absorbing gives the same numbers as the dummies: CR2
uses the hat matrix of the full design (the absorbed factor's block ``1/n_level`` added back), the
wild bootstrap requires the absorbed factor to be nested within the clusters (a center effect with
clustering by center), where the bootstrap of the demeaned model is that of the full one
(Frisch-Waugh-Lovell); a factor that crosses the clusters (a month effect) enters as dummies.

:func:`bootstrap_weights` gives the ``(B, G)`` matrix of weight vectors, enumerated or drawn, for
any other bootstrap that needs them.

    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(7), 20)
    >>> x = rng.normal(size=140)
    >>> X = np.column_stack([np.ones(140), x])
    >>> y = 1 + 0.5 * x + rng.normal(size=7)[g] + rng.normal(size=140)
    >>> res = wild_cluster_bootstrap(X, y, g, term=1, bootstrap=WildBootstrap(B=999_999))
    >>> res.enumerated, res.replications
    (True, 279936)
    >>> cr2_coef_test(X, y, g, term=1).df > 0
    True
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from cxlib.estimation import former_keywords
from cxlib.stats import confidence_level

WeightKind = Literal["webb", "rademacher"]

#: The values of Webb's six-point distribution (each with probability 1/6): mean 0, variance 1.
WEBB_VALUES: np.ndarray = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])
#: The values of the Rademacher distribution (each with probability 1/2).
RADEMACHER_VALUES: np.ndarray = np.array([-1.0, 1.0])
#: Below this many clusters the linear models quote the wild cluster bootstrap instead of CR1 t(G-1)
#: (see :func:`few_clusters`).
FEW_CLUSTERS = 30
#: Rows of weight vectors handled at once (bounds the memory of a large bootstrap).
_CHUNK = 1 << 16
#: Eigenvalues of ``I - H_gg`` at or below this are taken as 0 (pseudo-inverse, as clubSandwich does).
_EIG_TOL = 1e-10
#: Relative tolerance under which a bootstrap |t| counts as equal to the actual one.
_TIE_TOL = 1e-9


def few_clusters(n_clusters: int | None) -> bool:
    """Whether a model with ``n_clusters`` clusters quotes the wild cluster bootstrap.

    Below :data:`FEW_CLUSTERS` (30) clusters, CR1 t tests with ``G-1`` degrees of freedom
    over-reject, the more so the fewer or the more unequal the clusters and the fewer of them
    treated (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017 find rejection rates of 10-20 %
    at a nominal 5 % with 10-20 clusters and few treated ones); the restricted wild cluster
    bootstrap holds its level there. From 30 clusters on, CR1 t(G-1) is adequate in most designs
    and is quoted.

        >>> few_clusters(7), few_clusters(30), few_clusters(None)
        (True, False, False)
    """
    return n_clusters is not None and 2 <= int(n_clusters) < FEW_CLUSTERS


def _values(kind: WeightKind) -> np.ndarray:
    if kind == "webb":
        return WEBB_VALUES
    if kind == "rademacher":
        return RADEMACHER_VALUES
    raise ValueError(f"weights must be 'webb' or 'rademacher', not {kind!r}")


def n_weight_vectors(G: int, *, kind: WeightKind = "webb") -> int:
    """How many distinct weight vectors there are for ``G`` clusters: ``6**G`` (Webb) or ``2**G``.

    >>> n_weight_vectors(7), n_weight_vectors(7, kind="rademacher")
    (279936, 128)
    """
    return len(_values(kind)) ** int(G)


def enumerates(G: int, *, kind: WeightKind = "webb", B: int = 9999) -> bool:
    """Whether :func:`bootstrap_weights` enumerates all vectors (their count is at most ``B``).

    >>> enumerates(7, kind="webb", B=999_999), enumerates(7, kind="webb", B=9999)
    (True, False)
    """
    return n_weight_vectors(G, kind=kind) <= int(B)


def bootstrap_weights(
    G: int, *, kind: WeightKind = "webb", B: int = 9999, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """The ``(B, G)`` matrix of wild bootstrap weights, one row per bootstrap sample.

    When there are at most ``B`` distinct vectors (``6**G`` for Webb, ``2**G`` for Rademacher) all
    of them come back, once each, in lexicographic order of the value indices (the first column
    varies slowest), and the matrix has that many rows; otherwise ``B`` rows are drawn
    independently from ``rng`` (a Generator or a seed).

        >>> bootstrap_weights(2, kind="rademacher", B=10).tolist()
        [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
        >>> bootstrap_weights(12, kind="webb", B=5, rng=1).shape
        (5, 12)
    """
    G, B = int(G), int(B)
    if G < 1:
        raise ValueError(f"G must be at least 1, got {G}")
    if B < 1:
        raise ValueError(f"B must be at least 1, got {B}")
    if enumerates(G, kind=kind, B=B):
        return _enumerated(G, kind).copy()
    vals = _values(kind)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return vals[gen.integers(0, len(vals), size=(B, G))]


@functools.lru_cache(maxsize=4)
def _enumerated(G: int, kind: WeightKind) -> np.ndarray:
    vals = _values(kind)
    out = vals[np.indices((len(vals),) * G).reshape(G, -1).T]
    out.setflags(write=False)
    return out


# ============================================================================ inputs
def _design(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    clusters: Sequence | np.ndarray,
    absorb: Sequence | np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    ya = np.asarray(y, dtype=float).ravel()
    g = np.asarray(clusters)
    if Xa.shape[0] != ya.shape[0] or g.shape[0] != ya.shape[0]:
        raise ValueError(f"X ({Xa.shape[0]} rows), y ({ya.shape[0]}) and clusters ({g.shape[0]}) differ in length")
    if not (np.all(np.isfinite(Xa)) and np.all(np.isfinite(ya))):
        raise ValueError("X and y must be finite (drop rows with missing values first)")
    codes = pd.factorize(pd.Series(g), sort=True)[0].astype(np.int64)
    if (codes < 0).any():
        raise ValueError("clusters must not be missing")
    fe = None
    if absorb is not None:
        fe = pd.factorize(pd.Series(np.asarray(absorb)), sort=True)[0].astype(np.int64)
        if fe.shape[0] != ya.shape[0] or (fe < 0).any():
            raise ValueError("absorb must have one non-missing level per row")
        Xa = Xa - _level_means(Xa, fe)[fe]
        ya = ya - _level_means(ya[:, None], fe)[fe, 0]
    return Xa, ya, codes, names or [str(i) for i in range(Xa.shape[1])], fe


def _level_means(A: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per-level column means of ``A`` (one ``bincount`` per column, see :func:`_cluster_sums`)."""
    k = int(codes.max()) + 1
    return _cluster_sums(A, codes, k) / np.bincount(codes, minlength=k)[:, None]


def _term_index(term: int | str, names: list[str]) -> int:
    if isinstance(term, (int, np.integer)):
        if not 0 <= int(term) < len(names):
            raise ValueError(f"term {term} is not a column of X ({len(names)} columns)")
        return int(term)
    if term not in names:
        raise ValueError(f"no column {term!r} in X; columns: {', '.join(names)}")
    return names.index(term)


def _cluster_sums(A: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Per-cluster column sums of ``A`` (N × m) as a G × m array (one ``bincount`` per column:
    ``np.add.at`` takes seconds on a network's 600,000 rows)."""
    out = np.zeros((G, A.shape[1]))
    for j in range(A.shape[1]):
        out[:, j] = np.bincount(codes, weights=A[:, j], minlength=G)
    return out


# ============================================================================ wild bootstrap
@dataclass(frozen=True)
class WildBootstrapResult:
    """The restricted wild cluster bootstrap test of one coefficient (see :func:`wild_cluster_bootstrap`).

    ``t_stat`` is the CR1 t statistic of ``H0: coefficient = null`` and ``std_error`` its CR1
    standard error; ``p_value`` the bootstrap p-value of the symmetric test; ``ci_low`` /
    ``ci_high`` the ``ci`` interval by test inversion (infinite when the test cannot reject any
    null at that level: with Rademacher weights and 4 clusters no p-value falls below 2/16);
    ``replications`` the number of weight vectors used, ``enumerated`` whether they were all of them.
    """

    term: str
    estimate: float
    std_error: float
    null: float
    t_stat: float
    p_value: float
    ci_low: float
    ci_high: float
    ci: float
    weights: str
    replications: int
    enumerated: bool
    n_clusters: int

    @property
    def conf(self) -> float:
        """The former name of :attr:`ci` (deprecated)."""
        warnings.warn("WildBootstrapResult.conf is deprecated: use .ci", DeprecationWarning, stacklevel=2)
        return self.ci

    def describe(self) -> str:
        """The method in words, for a model's note.

        >>> WildBootstrapResult("x", 0.4, 0.1, 0.0, 4.0, 0.01, 0.2, 0.6, 0.95, "webb", 279936, True, 7).describe()
        'wild cluster bootstrap (restricted, Webb weights, all 6^7 = 279,936 weight vectors enumerated, interval by test inversion)'
        """
        w = "Webb" if self.weights == "webb" else "Rademacher"
        base = len(_values(self.weights))  # type: ignore[arg-type]
        how = (
            f"all {base}^{self.n_clusters} = {self.replications:,} weight vectors enumerated"
            if self.enumerated
            else f"{self.replications:,} weight vectors drawn"
        )
        return f"wild cluster bootstrap (restricted, {w} weights, {how}, interval by test inversion)"


class _WCR:
    """The bootstrap t statistics of one coefficient as functions of the null value ``b0``.

    With ``a`` the coefficient's row of ``(X'X)^-1``, the restricted residuals are
    ``u(b0) = u_y - b0·u_x`` (``u_y``, ``u_x``: residuals of ``y`` and of the coefficient's column
    on the other columns). For a weight vector ``v`` the bootstrap estimate minus ``b0`` is
    ``Σ_g v_g s_g`` with ``s_g = a·X_g'u_g``, and the bootstrap CR1 score of cluster ``h`` is
    ``Σ_g C_hg v_g`` with ``C = diag(s) - Q R'`` (``Q_h = (X'X)^-1 X_h'X_h a``, ``R_g = X_g'u_g``).
    Both are linear in ``b0``, so the numerator is ``N0 - b0·N1`` and the squared denominator
    ``S00 - 2 b0 S01 + b0² S11``, with five numbers per weight vector computed once.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, codes: np.ndarray, k: int, W_chunks: Iterable[np.ndarray]) -> None:
        N, K = X.shape
        G = int(codes.max()) + 1
        XtX = X.T @ X
        XtX_inv = np.linalg.pinv(XtX)
        self.beta = XtX_inv @ (X.T @ y)
        a = XtX_inv[k]
        keep = np.arange(K) != k
        if keep.any():
            # the residuals of y and of the coefficient's column on the other columns, from the
            # cross products already at hand (no second pass of a least-squares solver over the rows)
            O_inv = np.linalg.pinv(XtX[np.ix_(keep, keep)])
            coef = O_inv @ np.column_stack([X[:, keep].T @ y, XtX[keep, k]])
            u_y, u_x = y - X[:, keep] @ coef[:, 0], X[:, k] - X[:, keep] @ coef[:, 1]
        else:
            u_y, u_x = y.copy(), X[:, k].copy()
        R0 = _cluster_sums(X * u_y[:, None], codes, G)  # G × K: X_g'u_y,g
        R1 = _cluster_sums(X * u_x[:, None], codes, G)
        s0, s1 = R0 @ a, R1 @ a
        Q = _cluster_sums(X * (X @ a)[:, None], codes, G) @ XtX_inv.T  # G × K: (X'X)^-1 X_g'X_g a
        C0 = np.diag(s0) - Q @ R0.T
        C1 = np.diag(s1) - Q @ R1.T
        resid = y - X @ self.beta
        score = _cluster_sums(X * resid[:, None], codes, G) @ a  # a·X_g'û_g
        self.G, self.N, self.K = G, N, K
        self.var_cr0 = float(score @ score)  # CR0 variance of the coefficient
        self.estimate = float(self.beta[k])
        parts: dict[str, list[np.ndarray]] = {n: [] for n in ("N0", "N1", "S00", "S01", "S11")}
        tied = []
        for W in W_chunks:
            tied.append(np.ptp(W, axis=1) == 0)
            E0, E1 = W @ C0.T, W @ C1.T
            parts["N0"].append(W @ s0)
            parts["N1"].append(W @ s1)
            parts["S00"].append(np.einsum("ij,ij->i", E0, E0))
            parts["S01"].append(np.einsum("ij,ij->i", E0, E1))
            parts["S11"].append(np.einsum("ij,ij->i", E1, E1))
        # the linear (N) and quadratic (S) forms of the bootstrap t in the null value, per weight vector
        self.N0, self.N1 = np.concatenate(parts["N0"]), np.concatenate(parts["N1"])
        self.S00, self.S01, self.S11 = (np.concatenate(parts[n]) for n in ("S00", "S01", "S11"))
        self.B = len(self.N0)
        # vectors proportional to (1, …, 1) give back the data: their |t*| is |t| for every null
        # (exactly; rounding would decide either way), so they are kept apart as certain ties
        self.tied = np.concatenate(tied)
        self.n_tied = int(self.tied.sum())

    def t_actual(self, b0: float) -> float:
        return (
            (self.estimate - b0) / math.sqrt(self.var_cr0)
            if self.var_cr0 > 0
            else math.copysign(math.inf, self.estimate - b0)
        )

    def t_boot(self, b0: float) -> np.ndarray:
        num = self.N0 - b0 * self.N1
        den2 = np.clip(self.S00 - 2 * b0 * self.S01 + b0 * b0 * self.S11, 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = num / np.sqrt(den2)
        return np.where(den2 > 0, t, 0.0)

    def p_value(self, b0: float, ties: Literal["count", "exclude"] = "count") -> float:
        t = abs(self.t_actual(b0))
        tb = np.abs(self.t_boot(b0))
        tol = _TIE_TOL * max(1.0, t)
        hits = (tb >= t - tol) if ties == "count" else (tb > t + tol)
        hits[self.tied] = ties == "count"
        return float(np.count_nonzero(hits)) / self.B


def _invert(wcr: _WCR, alpha: float, se: float, df: int, ties: Literal["count", "exclude"]) -> tuple[float, float]:
    """The ends of ``{b0: p(b0) >= alpha}`` next to the estimate, by bracketing and bisection."""
    est = wcr.estimate
    if not (np.isfinite(se) and se > 0):
        return est, est
    step = stats.t.ppf(1 - alpha / 2, max(df, 1)) * se
    ends = []
    for sign in (-1.0, 1.0):
        inner, outer = est, est + sign * step
        k = 0
        while wcr.p_value(outer, ties) >= alpha:
            inner, outer = outer, est + sign * step * 2 ** (k + 1)
            k += 1
            if k > 20:  # no null this far out is rejected: the interval is unbounded on this side
                outer = math.nan
                break
        if math.isnan(outer):
            ends.append(sign * math.inf)
            continue
        for _ in range(60):
            mid = 0.5 * (inner + outer)
            if wcr.p_value(mid, ties) >= alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-6 * se:
                break
        ends.append(0.5 * (inner + outer))
    return ends[0], ends[1]


@dataclass(frozen=True)
class WildBootstrap:
    """How :func:`wild_cluster_bootstrap` resamples: ``weights`` (``"webb"``: Webb's six-point
    distribution; ``"rademacher"``: ±1), ``B`` the most weight vectors (all of them are enumerated
    when there are at most ``B``), ``rng`` the generator or seed of the drawn ones, ``ties`` how
    bootstrap statistics equal to the actual one count (``"count"``: as at least as large;
    ``"exclude"``: not at all), ``interval`` whether to invert the test for an interval.

        >>> WildBootstrap(weights="rademacher", B=999)
        WildBootstrap(weights='rademacher', B=999, rng=20260, ties='count', interval=True)
    """

    weights: WeightKind = "webb"
    B: int = 9999
    rng: np.random.Generator | int | None = 20260
    ties: Literal["count", "exclude"] = "count"
    interval: bool = True

    def replace(self, **changes: Any) -> WildBootstrap:
        """A copy with ``changes``: ``WildBootstrap().replace(B=999)``."""
        return dataclasses.replace(self, **changes)


@former_keywords(bootstrap=WildBootstrap)
def wild_cluster_bootstrap(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    clusters: Sequence | np.ndarray,
    term: int | str,
    *,
    null: float = 0.0,
    bootstrap: WildBootstrap = WildBootstrap(),
    ci: float = 0.95,
    absorb: Sequence | np.ndarray | None = None,
    conf: float | None = None,
) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap (WCR) p-value and interval for one coefficient of OLS.

    ``X`` is the design (fixed effects as dummy columns, or one factor absorbed with ``absorb``,
    which must be nested within ``clusters``), ``y`` the outcome, ``clusters`` one label per row,
    ``term`` the coefficient (column name of a DataFrame ``X`` or its index). The bootstrap imposes
    ``H0: coefficient = null``, multiplies each cluster's restricted residuals by a weight (Webb's
    six-point distribution, or Rademacher ±1), and compares the actual CR1 t statistic with the
    bootstrap ones: ``p_value`` is the share of bootstrap ``|t*|`` at least as large as ``|t|``.
    ``ties="count"`` counts those equal to it (the weight vectors proportional to (1, …, 1)
    reproduce the data, so their ``|t*|`` equals ``|t|``: counting them makes the test exact, never
    anti-conservative); ``"exclude"`` counts strictly larger ones only, as the ``wildboottest``
    package does. All ``6**G`` (``2**G``) weight vectors are used when there are at most ``B`` of
    them, otherwise ``B`` drawn from ``rng`` (see :func:`bootstrap_weights`). With ``interval`` the
    ``ci`` interval (``ci=0.95``: 95 %) is the set of nulls the test does not reject, its ends found by bisection.

        >>> rng = np.random.default_rng(0)
        >>> g = np.repeat(np.arange(8), 25)
        >>> X = np.column_stack([np.ones(200), rng.normal(size=200)])
        >>> y = X @ [1.0, 0.0] + rng.normal(size=8)[g] + rng.normal(size=200)
        >>> r = wild_cluster_bootstrap(X, y, g, term=1, bootstrap=WildBootstrap(weights="rademacher", B=9999))
        >>> r.enumerated, r.replications, 0 <= r.p_value <= 1, r.ci_low < r.estimate < r.ci_high
        (True, 256, True, True)
    """
    if isinstance(ci, bool):  # the former ``ci=False``: no interval
        warnings.warn(
            "wild_cluster_bootstrap(ci=True/False) is deprecated: use bootstrap=WildBootstrap(interval=...)",
            DeprecationWarning,
            stacklevel=3,
        )
        ci, bootstrap = 0.95, bootstrap.replace(interval=ci)
    ci = confidence_level(ci, conf, "wild_cluster_bootstrap")
    weights, B, rng, ties = bootstrap.weights, bootstrap.B, bootstrap.rng, bootstrap.ties
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie between 0 and 1, got {ci!r}")
    Xa, ya, codes, names, fe = _design(X, y, clusters, absorb)
    k = _term_index(term, names)
    G = int(codes.max()) + 1
    if G < 2:
        raise ValueError("the wild cluster bootstrap needs at least 2 clusters")
    if fe is not None:
        per_level = pd.Series(codes).groupby(fe).nunique()
        if (per_level > 1).any():
            raise ValueError(
                "an absorbed fixed effect must be nested within the clusters (each level in one "
                "cluster); enter a crossing factor (such as month) as dummy columns of X"
            )
    enum = enumerates(G, kind=weights, B=B)
    W = _enumerated(G, weights) if enum else bootstrap_weights(G, kind=weights, B=B, rng=rng)
    wcr = _WCR(Xa, ya, codes, k, (W[i : i + _CHUNK] for i in range(0, len(W), _CHUNK)))
    N, K = Xa.shape
    K_eff = K + (int(fe.max()) + 1 if fe is not None else 0)
    ssc = G / (G - 1) * (N - 1) / max(N - K_eff, 1)
    se = math.sqrt(ssc * wcr.var_cr0)
    t = wcr.t_actual(null) / math.sqrt(ssc)
    p = wcr.p_value(null, ties)
    lo, hi = _invert(wcr, 1 - ci, se, G - 1, ties) if bootstrap.interval else (math.nan, math.nan)
    return WildBootstrapResult(
        term=names[k],
        estimate=wcr.estimate,
        std_error=se,
        null=float(null),
        t_stat=t,
        p_value=p,
        ci_low=float(lo),
        ci_high=float(hi),
        ci=ci,
        weights=weights,
        replications=wcr.B,
        enumerated=enum,
        n_clusters=G,
    )


# ============================================================================ CR2
@dataclass(frozen=True)
class CR2Test:
    """CR2 test of one coefficient (see :func:`cr2_coef_test`): estimate, CR2 standard error,
    Satterthwaite degrees of freedom, t statistic against ``null``, p-value and ``ci`` interval
    from t with ``df`` degrees of freedom."""

    term: str
    estimate: float
    std_error: float
    df: float
    null: float
    t_stat: float
    p_value: float
    ci_low: float
    ci_high: float
    ci: float

    @property
    def conf(self) -> float:
        """The former name of :attr:`ci` (deprecated)."""
        warnings.warn("CR2Test.conf is deprecated: use .ci", DeprecationWarning, stacklevel=2)
        return self.ci


class _CR2:
    """The pieces of CR2 for a design: ``(X'X)^-1``, residuals, and per cluster the rows, and the
    adjustment ``A_g = (I - H_gg)^(+1/2)`` as ``I + U_g diag(d_g) U_g'`` (``H_gg = L_g L_g'`` has
    rank at most K plus the absorbed levels met in the cluster: ``L_g = U_g Σ_g V_g'``, and
    ``d = (1 - σ²)^(-1/2) - 1``, or ``-1`` where ``1 - σ²`` is 0: the Moore-Penrose inverse square
    root that clubSandwich takes when cluster fixed effects make ``I - H_gg`` singular)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, codes: np.ndarray, fe: np.ndarray | None) -> None:
        self.X, self.codes, self.fe = X, codes, fe
        self.G = int(codes.max()) + 1
        self.M = np.linalg.pinv(X.T @ X)
        self.beta = self.M @ (X.T @ y)
        self.e = y - X @ self.beta
        U, s, _ = np.linalg.svd(X, full_matrices=False)
        self.Qx = U[:, s > s.max() * max(X.shape) * np.finfo(float).eps] if s.size and s.max() > 0 else U[:, :0]
        self.fe_size = np.bincount(fe) if fe is not None else None
        self.rows = [np.flatnonzero(codes == g) for g in range(self.G)]
        self.adj: list[tuple[np.ndarray, np.ndarray]] = []
        for r in self.rows:
            L = self.Qx[r]
            if fe is not None and self.fe_size is not None:
                lv, inv = np.unique(fe[r], return_inverse=True)
                E = np.zeros((len(r), len(lv)))
                E[np.arange(len(r)), inv] = 1.0 / np.sqrt(self.fe_size[fe[r]])
                L = np.hstack([L, E])
            Ug, sg, _ = np.linalg.svd(L, full_matrices=False)
            ev = 1.0 - sg**2
            d = np.where(ev > _EIG_TOL, 1.0 / np.sqrt(np.clip(ev, _EIG_TOL, None)) - 1.0, -1.0)
            self.adj.append((Ug, d))

    def apply(self, g: int, A: np.ndarray) -> np.ndarray:
        """``A_g @ A`` for an array with the cluster's rows."""
        Ug, d = self.adj[g]
        return A + Ug @ (d[:, None] * (Ug.T @ A)) if A.ndim == 2 else A + Ug @ (d * (Ug.T @ A))

    def vcov(self) -> np.ndarray:
        meat_rows = np.stack([self.X[r].T @ self.apply(g, self.e[r]) for g, r in enumerate(self.rows)])  # G × K
        return self.M @ (meat_rows.T @ meat_rows) @ self.M

    def residual_maker(self, P: np.ndarray) -> np.ndarray:
        """``(I - H) P`` with ``H`` the hat matrix of the full design (absorbed levels included)."""
        out = P - self.Qx @ (self.Qx.T @ P)
        if self.fe is not None:
            out -= _level_means(P, self.fe)[self.fe]
        return out

    def satterthwaite(self, c: np.ndarray) -> float:
        """Degrees of freedom of ``c'β`` (Bell & McCaffrey 2002, working model σ²I): with
        ``p_g = A_g X_g M c`` (zero outside cluster g) and ``u_g = (I - H) p_g``,
        ``df = (Σ_g u_g'u_g)² / Σ_g Σ_h (u_g'u_h)²``."""
        N = self.X.shape[0]
        mc = self.M @ c
        P = np.zeros((N, self.G))
        for g, r in enumerate(self.rows):
            P[r, g] = self.apply(g, self.X[r] @ mc)
        Umat = self.residual_maker(P)
        gram = Umat.T @ Umat
        return float(np.trace(gram) ** 2 / np.sum(gram**2))


def cr2_vcov(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    clusters: Sequence | np.ndarray,
    *,
    absorb: Sequence | np.ndarray | None = None,
) -> np.ndarray | pd.DataFrame:
    """CR2 (Bell-McCaffrey bias-reduced linearisation) covariance of OLS coefficients.

    ``V = M (Σ_g X_g' A_g e_g e_g' A_g X_g) M`` with ``M = (X'X)^-1``, ``e`` the OLS residuals and
    ``A_g`` the (pseudo-)inverse symmetric square root of ``I - H_gg``, ``H`` the hat matrix of the
    full design; what ``clubSandwich::vcovCR(fit, cluster, type = "CR2")`` gives for an unweighted
    ``lm``. With ``absorb`` (one factor), ``X`` and ``y`` are demeaned within its levels and ``H``
    adds the factor's block back, so the covariance of the remaining coefficients is that of the
    model with the factor as dummies. A DataFrame ``X`` gives a labelled DataFrame.

        >>> g = np.repeat([0, 1, 2, 3], 3)
        >>> X = np.column_stack([np.ones(12), np.arange(12.0) % 5])
        >>> V = cr2_vcov(X, np.arange(12.0) ** 0.5, g)
        >>> V.shape, bool(np.allclose(V, V.T))
        ((2, 2), True)
    """
    Xa, ya, codes, names, fe = _design(X, y, clusters, absorb)
    V = _CR2(Xa, ya, codes, fe).vcov()
    return pd.DataFrame(V, index=names, columns=names) if isinstance(X, pd.DataFrame) else V


def cr2_coef_test(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    clusters: Sequence | np.ndarray,
    term: int | str,
    *,
    null: float = 0.0,
    ci: float = 0.95,
    absorb: Sequence | np.ndarray | None = None,
    conf: float | None = None,
) -> CR2Test:
    """CR2 standard error and Satterthwaite t test of one coefficient, as
    ``clubSandwich::coef_test(fit, vcov = "CR2", cluster = g, test = "Satterthwaite")``.

    The degrees of freedom are those of the Satterthwaite approximation to the distribution of
    the CR2 variance under the working model of independent errors with equal variance (Bell &
    McCaffrey 2002; Pustejovsky & Tipton 2018); they can be far fewer than ``G - 1`` when the
    regressor varies in few clusters (few treated centers).

        >>> g = np.repeat(np.arange(6), 10)
        >>> x = np.tile(np.arange(10.0), 6)
        >>> X = np.column_stack([np.ones(60), x])
        >>> r = cr2_coef_test(X, 2 + 0.1 * x + np.sin(np.arange(60.0)), g, term=1)
        >>> round(r.estimate, 3), r.df > 1
        (0.103, True)
    """
    ci = confidence_level(ci, conf, "cr2_coef_test")
    return cr2_coef_tests(X, y, clusters, [term], null=null, ci=ci, absorb=absorb)[0]


def cr2_coef_tests(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    clusters: Sequence | np.ndarray,
    terms: Sequence[int | str],
    *,
    null: float = 0.0,
    ci: float = 0.95,
    absorb: Sequence | np.ndarray | None = None,
    conf: float | None = None,
) -> list[CR2Test]:
    """:func:`cr2_coef_test` of several coefficients of one model (the adjustment matrices are
    computed once).

        >>> g = np.repeat(np.arange(5), 8)
        >>> X = np.column_stack([np.ones(40), np.arange(40.0) % 7, np.arange(40.0) % 3])
        >>> [t.term for t in cr2_coef_tests(X, np.cos(np.arange(40.0)), g, [1, 2])]
        ['1', '2']
    """
    ci = confidence_level(ci, conf, "cr2_coef_tests")
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie between 0 and 1, got {ci!r}")
    Xa, ya, codes, names, fe = _design(X, y, clusters, absorb)
    cr = _CR2(Xa, ya, codes, fe)
    if cr.G < 2:
        raise ValueError("CR2 needs at least 2 clusters")
    V = cr.vcov()
    out = []
    for term in terms:
        k = _term_index(term, names)
        c = np.zeros(Xa.shape[1])
        c[k] = 1.0
        se = math.sqrt(max(float(V[k, k]), 0.0))
        df = cr.satterthwaite(c)
        est = float(cr.beta[k])
        t = (est - null) / se if se > 0 else math.nan
        p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else math.nan
        q = float(stats.t.ppf(1 - (1 - ci) / 2, df))
        out.append(
            CR2Test(
                term=names[k],
                estimate=est,
                std_error=se,
                df=df,
                null=float(null),
                t_stat=float(t),
                p_value=p,
                ci_low=est - q * se,
                ci_high=est + q * se,
                ci=ci,
            )
        )
    return out
