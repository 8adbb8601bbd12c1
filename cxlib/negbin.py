"""The NB2 negative binomial model fitted by Newton's method with its analytic derivatives.

statsmodels' :class:`~statsmodels.discrete.discrete_model.NegativeBinomial` (``loglike_method="nb2"``)
has an analytic score and Hessian, but its ``fit`` defaults to BFGS in ``(β, log α)`` from a
preliminary Poisson fit of its own: at a network's 600,000 visits that took 40–60 s (many
log-likelihood and score passes, each with ``digamma`` and ``gammaln`` over every row), and its
Hessian sums ``K(K+1)/2`` products of columns one by one. :class:`AnalyticNB2` keeps the model,
its parameterisation (``alpha`` itself as the last parameter) and its results class, and

* computes the Hessian as matrix products (the same closed form as statsmodels'
  ``_hessian_nb2``: ``∂²ℓ/∂β∂β' = -X' diag(μ(1/α + y)/(α(μ + 1/α)²)) X``, the ``(β, α)`` and
  ``(α, α)`` terms unchanged);
* finds the maximum (:meth:`AnalyticNB2.newton_optimum`) by Newton's method with step halving in
  ``(β, η = log α)``, where ``α > 0`` holds by construction: with ``s = ∂ℓ/∂α`` and ``h = ∂²ℓ/∂α²``,
  ``∂ℓ/∂η = α s``, ``∂²ℓ/∂η² = α² h + α s`` and ``∂²ℓ/∂β∂η = α ∂²ℓ/∂β∂α``; it starts from the
  caller's Poisson estimates and the moment estimate of ``α``, as statsmodels does;
* hands the optimum to ``NegativeBinomial.fit(method="newton")`` (which confirms it in one step and
  builds statsmodels' results, ``cov_type="cluster"`` included, with the analytic per-visit scores).

When ``α`` heads to 0 (the model's boundary, where NB2 is the Poisson model; the log-likelihood
then has no interior maximum) the Newton iterations stop and :func:`fit_nb2` falls back to
statsmodels' own BFGS fit, so that the boundary rule of :func:`cxlib.models.complaint_models`
sees what it always saw. ``tests/test_scale.py`` checks the estimates against statsmodels' BFGS
fit.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> y = rng.negative_binomial(2, 2 / (2 + np.exp(0.2 + 0.5 * x)))
    >>> res = AnalyticNB2(y, np.column_stack([np.ones(2000), x])).fit_mle()
    >>> bool(res.mle_retvals["newton_converged"]), round(float(res.params[1]), 2), round(float(res.params[2]), 2)  # slope, alpha
    (True, 0.52, 0.49)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import special
from statsmodels.discrete.discrete_model import NegativeBinomial

#: Rows handled at once when the Hessian is accumulated (bounds the memory of a large fit).
_CHUNK = 1 << 17
#: Below this ``α`` the Newton iterations stop: the maximum is at the boundary (``α = 0``; NB2 counts
#: ``α`` below ``cxlib.models.NB_ALPHA_BOUNDARY`` = 1e-3 as 0 anyway).
ALPHA_FLOOR = 1e-4


class AnalyticNB2(NegativeBinomial):
    """:class:`~statsmodels.discrete.discrete_model.NegativeBinomial` (NB2) with a Hessian by
    matrix products and a Newton fit in ``(β, log α)``; see the module's docstring.

        >>> mod = AnalyticNB2.from_formula("y ~ x", df)  # doctest: +SKIP
        >>> res = mod.fit_mle(start_params=poisson.params, cov_type="cluster", cov_kwds={"groups": g})  # doctest: +SKIP
    """

    #: True while the fit is statsmodels' own BFGS (at the boundary): its own derivatives, bit for bit
    _statsmodels_own = False

    def __init__(self, endog: Any, exog: Any, **kwds: Any) -> None:
        kwds["loglike_method"] = "nb2"
        super().__init__(endog, exog, **kwds)

    # ------------------------------------------------------------------ log-likelihood and score
    def _counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct counts, each row's index into them and how often each occurs (cached):
        ``gammaln`` and ``digamma`` of ``y + 1/α`` are needed once per distinct count."""
        cache = getattr(self, "_count_cache", None)
        if cache is None or cache[1].shape[0] != np.shape(self.endog)[0]:
            yu, inv = np.unique(np.asarray(self.endog, dtype=float), return_inverse=True)
            cache = (yu, inv.ravel(), np.bincount(inv.ravel(), minlength=len(yu)).astype(float))
            self._count_cache = cache
        return cache

    def _alpha_of(self, params: np.ndarray) -> np.float64:
        # a numpy scalar, as in statsmodels: BFGS may try log α so large that 1/α is 0 (inf, not an error)
        return np.exp(np.float64(params[-1])) if self._transparams else np.float64(params[-1])

    def _ll_nb2(self, params: np.ndarray) -> np.ndarray:
        """Per-visit NB2 log-likelihood, as statsmodels' ``_ll_nbin`` with ``Q = 0``, written with
        the linear predictor ``η`` (``log μ = η``, ``log(1 − p) = η − log(1/α + μ)``) and the log-gamma
        terms per distinct count."""
        params = np.asarray(params)
        if np.iscomplexobj(params) or self._statsmodels_own:
            return super()._ll_nb2(params)
        a1 = 1 / self._alpha_of(params)
        yu, inv, _ = self._counts()
        y = np.asarray(self.endog, dtype=float)
        eta = self.predict(params[:-1], which="linear")
        L = np.logaddexp(np.log(a1), eta)  # log(1/α + μ)
        coeff = (special.gammaln(a1 + yu) - special.gammaln(yu + 1) - special.gammaln(a1))[inv]
        return coeff + a1 * (np.log(a1) - L) + y * (eta - L)

    def loglike(self, params: np.ndarray) -> float:
        """The NB2 log-likelihood (the sum of :meth:`_ll_nb2` without the per-visit log-gamma terms)."""
        params = np.asarray(params)
        if np.iscomplexobj(params) or self._statsmodels_own:
            return super().loglike(params)
        a1 = 1 / self._alpha_of(params)
        yu, _, counts = self._counts()
        y = np.asarray(self.endog, dtype=float)
        eta = self.predict(params[:-1], which="linear")
        L = np.logaddexp(np.log(a1), eta)
        coeff = counts @ (special.gammaln(a1 + yu) - special.gammaln(yu + 1) - special.gammaln(a1))
        return float(coeff + a1 * (len(y) * np.log(a1) - L.sum()) + y @ (eta - L))

    def _score_parts(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-visit ``∂ℓ/∂η`` (times ``x`` it is the score of ``β``) and ``∂ℓ/∂α``, and ``α``."""
        alpha = self._alpha_of(params)
        a1 = 1 / alpha
        yu, inv, _ = self._counts()
        y = np.asarray(self.endog, dtype=float)
        mu = self.predict(params[:-1])
        w = a1 * (y - mu) / (mu + a1)
        dg = (special.digamma(yu + a1) - special.digamma(a1))[inv]
        dalpha = (dg + np.log(a1) - np.log(a1 + mu) - (y - mu) / (a1 + mu)) * -(alpha**-2)
        return w, dalpha, alpha

    def _score_nbin(self, params: np.ndarray, Q: int = 0) -> np.ndarray:
        """The score of statsmodels' ``_score_nbin`` (NB2): ``X'w`` and ``Σ ∂ℓ/∂α`` (times ``α``
        in statsmodels' ``log α`` during a BFGS fit)."""
        params = np.asarray(params)
        if Q != 0 or np.iscomplexobj(params) or self._statsmodels_own:
            return super()._score_nbin(params, Q=Q)
        w, dalpha, alpha = self._score_parts(params)
        d = dalpha.sum()
        return np.r_[w @ np.asarray(self.exog), d * alpha if self._transparams else d]

    def score_obs(self, params: np.ndarray) -> np.ndarray:
        """Per-visit scores in ``(β, α)`` in closed form (statsmodels differentiates
        ``loglikeobs`` by complex steps here, one pass per parameter): the rows of the sandwich."""
        params = np.asarray(params)
        if self._statsmodels_own:
            return super().score_obs(params)
        w, dalpha, alpha = self._score_parts(params)
        return np.column_stack([np.asarray(self.exog) * w[:, None], dalpha * alpha if self._transparams else dalpha])

    # ------------------------------------------------------------------ derivatives
    def _pieces(self, params: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        alpha = self._alpha_of(params)
        mu = self.predict(params[:-1])
        return alpha, np.asarray(self.endog, dtype=float), np.asarray(mu, dtype=float), np.asarray(self.exog)

    def _hessian_nb2(self, params: np.ndarray) -> np.ndarray:
        """The Hessian of statsmodels' ``_hessian_nb2`` in ``(β, α)``, its ``β`` block as ``X'WX``."""
        if self._statsmodels_own:
            return super()._hessian_nb2(params)
        alpha, y, mu, X = self._pieces(params)
        a1 = 1 / alpha
        dim = X.shape[1]
        H = np.empty((dim + 1, dim + 1))
        w = a1 * mu * (a1 + y) / (mu + a1) ** 2
        bb = np.zeros((dim, dim))
        for i in range(0, len(y), _CHUNK):
            Xc = X[i : i + _CHUNK]
            bb -= (Xc * w[i : i + _CHUNK, None]).T @ Xc
        H[:dim, :dim] = bb
        dldpda = -((mu * (y - mu) * a1**2 / (mu + a1) ** 2) @ X)
        H[-1, :-1] = dldpda
        H[:-1, -1] = dldpda
        da1 = -(alpha**-2)
        da2 = 2 * alpha**-3
        yu, inv, counts = self._counts()
        dgpart = (special.digamma(a1 + yu) - special.digamma(a1))[inv]
        trigamma = counts @ (special.polygamma(1, a1 + yu) - special.polygamma(1, a1))
        prob = a1 / (a1 + mu)
        dalpha = da1 * (dgpart + np.log(prob) - (y - mu) / (a1 + mu))
        H[-1, -1] = (da2 * dalpha / da1).sum() + da1**2 * (
            trigamma + (1 / a1 - 1 / (a1 + mu) + (y - mu) / (mu + a1) ** 2).sum()
        )
        return H

    # ------------------------------------------------------------------ fitting
    def _eta_derivatives(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score and Hessian in ``(β, η = log α)`` at ``x``."""
        theta = np.concatenate([x[:-1], [np.exp(x[-1])]])
        alpha = theta[-1]
        g = np.asarray(self.score(theta), dtype=float)
        H = self._hessian_nb2(theta)
        s = g[-1]
        g_eta = g.copy()
        g_eta[-1] = alpha * s
        H_eta = H.copy()
        H_eta[-1, :-1] *= alpha
        H_eta[:-1, -1] *= alpha
        H_eta[-1, -1] = alpha**2 * H[-1, -1] + alpha * s
        return g_eta, H_eta

    def _ll_eta(self, x: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            return float(self.loglike(np.concatenate([x[:-1], [np.exp(x[-1])]])))

    def start_alpha(self, beta: np.ndarray) -> float:
        """statsmodels' start value of ``α`` from Poisson estimates ``beta``: the moment estimate
        ``Σ((y − μ)²/μ − 1)/μ / (N − K)``, at least 0.05."""
        mu = np.asarray(self.predict(beta), dtype=float)
        y = np.asarray(self.endog, dtype=float)
        a = float((((y - mu) ** 2 / mu - 1) / mu).sum() / (len(y) - len(beta)))
        return max(0.05, a)

    def newton_optimum(
        self, start_params: np.ndarray | None = None, maxiter: int = 100, tol: float = 1e-10
    ) -> tuple[np.ndarray, int, bool]:
        """The maximum by Newton's method with step halving in ``(β, log α)``: ``(params,
        iterations, converged)`` with ``params`` in statsmodels' ``(β, α)``. ``start_params``:
        ``(β, α)``, or ``β`` alone (Poisson estimates; ``α`` from :meth:`start_alpha`), by default
        the Poisson fit statsmodels would start from. Not converged when ``α`` falls below
        :data:`ALPHA_FLOOR` (the boundary) or a step cannot raise the log-likelihood."""
        k = self.exog.shape[1]
        if start_params is None:
            start_params = self._poisson_start()
        start = np.asarray(start_params, dtype=float)
        if len(start) == k:
            start = np.append(start, self.start_alpha(start))
        self._transparams = False
        x = np.concatenate([start[:-1], [np.log(start[-1])]])
        ll = self._ll_eta(x)
        for it in range(1, maxiter + 1):
            g, H = self._eta_derivatives(x)
            try:
                step = np.linalg.solve(H, -g)
            except np.linalg.LinAlgError:
                return self._theta(x), it, False
            if not np.all(np.isfinite(step)):
                return self._theta(x), it, False
            t = 1.0
            while True:
                new = x + t * step
                ll_new = self._ll_eta(new)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                    break
                t /= 2
                if t < 1e-12:
                    return self._theta(x), it, False
            x, ll = new, ll_new
            if np.exp(x[-1]) < ALPHA_FLOOR:
                return self._theta(x), it, False
            if np.abs(t * step).max() < tol:
                return self._theta(x), it, True
        return self._theta(x), maxiter, False

    @staticmethod
    def _theta(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x[:-1], [np.exp(x[-1])]])

    def fit_mle(
        self, start_params: np.ndarray | None = None, maxiter: int = 100, tol: float = 1e-10, **kwargs: Any
    ) -> Any:
        """Fit by :meth:`newton_optimum`, then ``NegativeBinomial.fit(method="newton")`` from the
        optimum (one confirming step; statsmodels' results with ``cov_type`` and ``cov_kwds`` as
        given). ``start_params``: Poisson estimates ``β`` (or ``(β, α)``), by default statsmodels'
        own Poisson fit. When the Poisson fit's score of ``α`` at 0, ``Σ[(y − μ)² − y]``, is not
        positive (Cameron & Trivedi 1990: the maximum over ``α ≥ 0`` is at 0) or the Newton
        iterations head there, the fit is statsmodels' own ``NegativeBinomial.fit`` (BFGS in
        ``(β, log α)`` from its own preliminary Poisson fit) with its own log-likelihood and
        derivatives: on the flat ridge towards ``α = 0`` where BFGS stops depends on the last digits,
        and the boundary rule must see the numbers and warnings it always saw. ``mle_retvals`` gains
        ``newton_iterations`` and ``newton_converged``."""
        kwargs.setdefault("disp", 0)
        beta = None if start_params is None else np.asarray(start_params, dtype=float)[: self.exog.shape[1]]
        if beta is None:
            beta = np.asarray(self._poisson_start(), dtype=float)
        mu = np.asarray(self.predict(beta), dtype=float)
        y = np.asarray(self.endog, dtype=float)
        interior = float(np.sum((y - mu) ** 2 - y)) > 0
        start = np.append(beta, self.start_alpha(beta))
        x, it, ok = self.newton_optimum(start, maxiter=maxiter, tol=tol) if interior else (start, 0, False)
        if ok:
            res = self.fit(start_params=x, method="newton", maxiter=5, **kwargs)
        else:  # statsmodels' own fit, its preliminary Poisson fit included (the same stop, to the last digit)
            self._statsmodels_own = True
            try:
                res = self.fit(maxiter=maxiter, **kwargs)
            except np.linalg.LinAlgError:
                # on the ridge towards alpha = 0 the Hessian can be exactly singular: the robust
                # covariance (which inverts it) cannot be formed; the fit is reported with the
                # warning statsmodels gives for a Hessian it cannot invert, and not as converged
                from statsmodels.tools.sm_exceptions import HessianInversionWarning

                warnings.warn(
                    "Inverting hessian failed: the robust covariance of NB2 at its boundary cannot be formed",
                    HessianInversionWarning,
                    stacklevel=2,
                )
                plain = {k: v for k, v in kwargs.items() if k not in ("cov_type", "cov_kwds", "use_t")}
                res = self.fit(maxiter=maxiter, **plain)
                res.mle_retvals["converged"] = False
        res.mle_retvals["newton_iterations"] = it
        res.mle_retvals["newton_converged"] = ok
        return res

    def _poisson_start(self) -> np.ndarray:
        """The Poisson estimates statsmodels' ``NegativeBinomial.fit`` starts from."""
        from statsmodels.discrete.discrete_model import Poisson

        offset = getattr(self, "offset", 0) + getattr(self, "exposure", 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                Poisson(self.endog, self.exog, offset=None if np.size(offset) == 1 and offset == 0 else offset)
                .fit(disp=0, skip_hessian=True, warn_convergence=False)
                .params
            )


def fit_nb2(formula: str, data: Any, *, poisson_params: Any = None, maxiter: int = 100, **kwargs: Any) -> Any:
    """The NB2 model of ``formula`` on ``data`` (:class:`AnalyticNB2`), fitted by
    :meth:`AnalyticNB2.fit_mle` from the Poisson estimates ``poisson_params`` of the same formula
    (statsmodels' own Poisson fit when None). ``eval_env``, ``exposure`` and ``offset`` go to the
    formula; the rest (``cov_type``, ``cov_kwds``, ``use_t``) to the fit.

        >>> fit_nb2("y ~ x", df, poisson_params=poisson.params, cov_type="cluster", cov_kwds={"groups": g})  # doctest: +SKIP
    """
    model_kw = {k: kwargs.pop(k) for k in ("eval_env", "exposure", "offset") if k in kwargs}
    mod = AnalyticNB2.from_formula(formula, data, **model_kw)
    return mod.fit_mle(
        start_params=None if poisson_params is None else np.asarray(poisson_params), maxiter=maxiter, **kwargs
    )
