"""The proportional-odds model with analytic derivatives: statsmodels' ``OrderedModel`` whose
score, per-observation score and Hessian are computed in closed form.

statsmodels' :class:`~statsmodels.miscmodels.ordinal_model.OrderedModel` (a
``GenericLikelihoodModel``) differentiates its log-likelihood numerically: the gradient by
finite differences (one log-likelihood per parameter), the Hessian of the covariance by
``approx_hess3`` (four log-likelihoods per pair of parameters, about 1,300 passes over the data
for 25 parameters), and the per-observation scores of the cluster-robust sandwich by finite
differences again. On a network of 600,000 responses that took more than ten minutes.
:class:`AnalyticOrderedModel` keeps the model, its parameterisation and its results class, and
supplies the derivatives:

With thresholds ``τ_0 = θ_0``, ``τ_j = θ_0 + Σ_{i=1..j} exp(θ_i)`` (statsmodels' increments
on the log scale), a response in category ``c`` has ``u = τ_c − x'β`` and ``l = τ_{c−1} − x'β``
(``±∞`` at the ends) and ``ℓ = log(F(u) − F(l) + 1e-20)`` (the same tiny constant as
statsmodels). With ``p = F(u) − F(l) + 1e-20``, ``a = f(u)``, ``b = f(l)``:

* ``∂ℓ/∂u = a/p``, ``∂ℓ/∂l = −b/p``; ``∂u/∂β = ∂l/∂β = −x``; ``∂u/∂θ = J[c]``,
  ``∂l/∂θ = J[c−1]`` with ``J = ∂τ/∂θ`` (``J[j, 0] = 1``, ``J[j, i] = exp(θ_i)`` for
  ``1 ≤ i ≤ j``);
* ``∂²ℓ/∂u² = f'(u)/p − a²/p²``, ``∂²ℓ/∂l² = −f'(l)/p − b²/p²``, ``∂²ℓ/∂u∂l = ab/p²``,
  and the curvature of ``τ(θ)``: ``Σ_j ∂ℓ/∂τ_j · exp(θ_i)`` on the diagonal for ``τ_j`` with
  ``j ≥ i ≥ 1``.

``f' = f·(1 − 2F)`` for the logit and ``−z·f(z)`` for the probit; other distributions are
refused. :meth:`AnalyticOrderedModel.fit_mle` finds the maximum by Newton's method with step
halving from statsmodels' start values (the log-likelihood is smooth and the steps are few) and
hands the optimum to ``OrderedModel.fit`` (one Newton step of statsmodels to confirm it), so the
results object, ``cov_type="cluster"`` included, is statsmodels' own, fed with the analytic
derivatives. ``tests/test_scale.py`` checks the estimates against statsmodels' numerical fit.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame({"x": rng.normal(size=400)})
    >>> y = pd.Series(pd.Categorical(np.digitize(x["x"] + rng.logistic(size=400), [-1, 0, 1]), ordered=True))
    >>> res = AnalyticOrderedModel(y, x, distr="logit").fit_mle()
    >>> bool(res.mle_retvals["converged"]), round(float(res.params["x"]), 2)
    (True, 1.15)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

from cxlib.errors import DataError
from cxlib.progress import Progress

#: The small constant statsmodels adds to each probability before the log.
_EPS = 1e-20
#: Rows handled at once when the Hessian is accumulated (bounds the memory of a large fit).
_CHUNK = 1 << 17


class AnalyticOrderedModel(OrderedModel):
    """:class:`~statsmodels.miscmodels.ordinal_model.OrderedModel` with analytic ``score``,
    ``score_obs`` and ``hessian`` (logit or probit); see the module's docstring.

        >>> mod = AnalyticOrderedModel.from_formula("y ~ x", df, distr="logit")  # doctest: +SKIP
        >>> res = mod.fit_mle(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)  # doctest: +SKIP
    """

    def __init__(self, endog: Any, exog: Any, offset: Any = None, distr: str = "probit", **kwds: Any) -> None:
        super().__init__(endog, exog, offset=offset, distr=distr, **kwds)
        name = getattr(self.distr, "name", "")
        if name not in ("logistic", "norm"):
            raise DataError(f"analytic derivatives exist for the logit and the probit only, not {name!r}")
        self._logit = name == "logistic"

    # ------------------------------------------------------------------ pieces
    def _density(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """F(z), f(z), f'(z), 0 at ±∞."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self._logit:
                F = stats.logistic.cdf(z)
                f = F * (1 - F)
                d = f * (1 - 2 * F)
            else:
                F = stats.norm.cdf(z)
                f = stats.norm.pdf(z)
                d = np.where(np.isfinite(z), -z * f, 0.0)
        return F, f, d

    def _jacobian(self, params: np.ndarray) -> np.ndarray:
        """``J`` of shape (m + 2, m): rows of ``∂τ_j/∂θ`` for the bounds ``-∞, τ_0, …, τ_{m-1}, +∞``
        (the infinite bounds get rows of zeros), ``m`` thresholds."""
        m = self.k_levels - 1
        th = np.asarray(params)[-m:]
        J = np.zeros((m + 2, m))
        J[1 : m + 1, 0] = 1.0
        for j in range(1, m):
            J[j + 1 : m + 1, j] = np.exp(th[j])
        return J

    def _parts(self, params: np.ndarray, rows: slice = slice(None)) -> dict[str, np.ndarray]:
        params = np.asarray(params, dtype=float)
        low, upp = self._bounds(params)
        low, upp = low[rows], upp[rows]
        Fu, fu, du = self._density(upp)
        Fl, fl, dl = self._density(low)
        p = np.maximum(Fu - Fl, 0) + _EPS
        return {"p": p, "a": fu, "b": fl, "da": du, "db": dl, "cat": np.asarray(self.endog)[rows]}

    # ------------------------------------------------------------------ derivatives
    def score_obs(self, params: np.ndarray) -> np.ndarray:
        """Per-observation score ``∂ℓ_i/∂(β, θ)``, shape (nobs, k_vars + k_levels − 1)."""
        q = self._parts(params)
        gu, gl = q["a"] / q["p"], -q["b"] / q["p"]
        J = self._jacobian(params)
        c = q["cat"]
        x = np.asarray(self.exog, dtype=float) if self.k_vars else np.empty((self.nobs, 0))
        return np.column_stack([-(gu + gl)[:, None] * x, gu[:, None] * J[c + 1] + gl[:, None] * J[c]])

    def score(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood."""
        q = self._parts(params)
        gu, gl = q["a"] / q["p"], -q["b"] / q["p"]
        J = self._jacobian(params)
        m = self.k_levels - 1
        c = q["cat"]
        x = np.asarray(self.exog, dtype=float) if self.k_vars else np.empty((self.nobs, 0))
        g_tau = np.bincount(c + 1, weights=gu, minlength=m + 2) + np.bincount(c, weights=gl, minlength=m + 2)
        return np.concatenate([-(x.T @ (gu + gl)), g_tau @ J])

    def _blocks(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Derivatives in the thresholds themselves, accumulated over blocks of rows: the gradient in
        β and in the bounds ``(-∞, τ_0, …, τ_{m-1}, +∞)``, and the Hessian blocks β × β, β × bound,
        bound × bound."""
        params = np.asarray(params, dtype=float)
        m = self.k_levels - 1
        k = self.k_vars
        x_all = np.asarray(self.exog, dtype=float) if k else np.empty((self.nobs, 0))
        g_b = np.zeros(k)
        g_tau = np.zeros(m + 2)
        H_bb = np.zeros((k, k))
        H_bt = np.zeros((k, m + 2))
        H_tt = np.zeros((m + 2, m + 2))
        for start in range(0, self.nobs, _CHUNK):
            rows = slice(start, min(start + _CHUNK, self.nobs))
            q = self._parts(params, rows)
            p, a, b = q["p"], q["a"], q["b"]
            gu, gl = a / p, -b / p
            huu = q["da"] / p - gu**2
            hll = -q["db"] / p - gl**2
            hul = -gu * gl
            c = q["cat"]
            x = x_all[rows]
            g_b -= x.T @ (gu + gl)
            g_tau += np.bincount(c + 1, weights=gu, minlength=m + 2) + np.bincount(c, weights=gl, minlength=m + 2)
            # u and l both move by -x with β, so the β block weighs x x' by huu + hll + 2 hul
            H_bb += x.T @ (x * (huu + hll + 2 * hul)[:, None])
            # β × τ_c (u's bound) and β × τ_{c-1} (l's bound)
            E = np.zeros((len(c), m + 2))
            E[np.arange(len(c)), c + 1] = -(huu + hul)
            E[np.arange(len(c)), c] = -(hll + hul)
            H_bt += x.T @ E
            H_tt[np.diag_indices(m + 2)] += np.bincount(c + 1, weights=huu, minlength=m + 2) + np.bincount(
                c, weights=hll, minlength=m + 2
            )
            off = np.bincount(c, weights=hul, minlength=m + 2)[: m + 1]  # the pair (τ_c, τ_{c-1}), by c
            H_tt[np.arange(1, m + 2), np.arange(0, m + 1)] += off
            H_tt[np.arange(0, m + 1), np.arange(1, m + 2)] += off
        return g_b, g_tau, H_bb, H_bt, H_tt

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Hessian of the log-likelihood in statsmodels' parameters ``(β, θ)``."""
        params = np.asarray(params, dtype=float)
        m, k = self.k_levels - 1, self.k_vars
        J = self._jacobian(params)
        _, g_tau, H_bb, H_bt, H_tt = self._blocks(params)
        H = np.zeros((k + m, k + m))
        H[:k, :k] = H_bb
        H[:k, k:] = H_bt @ J
        H[k:, :k] = H[:k, k:].T
        H[k:, k:] = J.T @ H_tt @ J
        # curvature of τ(θ): ∂²τ_j/∂θ_i² = exp(θ_i) for 1 <= i <= j (bounds j + 1 in J's rows)
        th = params[-m:]
        for i in range(1, m):
            H[k + i, k + i] += np.exp(th[i]) * g_tau[i + 1 : m + 1].sum()
        return H

    def _theta(self, tau_params: np.ndarray) -> np.ndarray:
        """statsmodels' parameters from ``(β, τ_0, …, τ_{m-1})`` (thresholds increasing)."""
        m = self.k_levels - 1
        tau = tau_params[-m:]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.concatenate([tau_params[:-m], tau[:1], np.log(np.diff(tau))])

    # ------------------------------------------------------------------ fitting
    def newton_optimum(
        self, start_params: np.ndarray | None = None, maxiter: int = 100, tol: float = 1e-10
    ) -> tuple[np.ndarray, int, bool]:
        """The maximum of the log-likelihood by Newton's method with step halving: ``(params,
        iterations, converged)`` in statsmodels' parameters; converged when the largest step is
        below ``tol``.

        The steps are taken in ``(β, τ)``, the thresholds themselves, where the log-likelihood of
        the ordinal logit and probit is concave (Pratt 1981), so that Newton's method goes
        straight to the maximum from statsmodels' start values; a step that would put the
        thresholds out of order (or lower the log-likelihood) is halved."""
        m, k = self.k_levels - 1, self.k_vars
        theta = np.asarray(self.start_params if start_params is None else start_params, dtype=float)
        x = np.concatenate([theta[:k], self.transform_threshold_params(theta)[1:-1]])
        ll = self.loglike(theta)
        inner = slice(1, m + 1)
        with Progress(None, "ordinal model, Newton iterations", "iterations") as bar:
            return self._newton(x, theta, ll, inner, maxiter, tol, bar)

    def _newton(
        self, x: np.ndarray, theta: np.ndarray, ll: float, inner: slice, maxiter: int, tol: float, bar: Progress
    ) -> tuple[np.ndarray, int, bool]:
        """The iterations of :meth:`newton_optimum` from ``x`` (in ``(β, τ)``), one unit of ``bar`` each."""
        k = self.k_vars
        for it in range(1, maxiter + 1):
            bar.update()
            g_b, g_tau, H_bb, H_bt, H_tt = self._blocks(theta)
            g = np.concatenate([g_b, g_tau[inner]])
            H = np.block([[H_bb, H_bt[:, inner]], [H_bt[:, inner].T, H_tt[inner, inner]]])
            try:
                step = np.linalg.solve(H, -g)
            except np.linalg.LinAlgError:
                return theta, it, False
            if not np.all(np.isfinite(step)):
                return theta, it, False
            t = 1.0
            while True:
                new = x + t * step
                ordered = np.all(np.diff(new[k:]) > 0)
                ll_new = self.loglike(self._theta(new)) if ordered else -np.inf
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                    break
                t /= 2
                if t < 1e-12:
                    return theta, it, False
            x, ll, theta = new, ll_new, self._theta(new)
            if np.abs(t * step).max() < tol:
                return theta, it, True
        return theta, maxiter, False

    def fit_mle(self, maxiter: int = 100, tol: float = 1e-10, **kwargs: Any) -> Any:
        """Fit by :meth:`newton_optimum`, then ``OrderedModel.fit(method="newton")`` from the
        optimum (which confirms it in one step and builds statsmodels' results, with ``cov_type``
        and ``cov_kwds`` as given). Without convergence, statsmodels' Newton goes on from the last
        point for the rest of ``maxiter``, and its results say whether it converged."""
        x, it, ok = self.newton_optimum(maxiter=maxiter, tol=tol)
        kwargs.setdefault("disp", 0)
        res = self.fit(start_params=x, method="newton", maxiter=max(1, maxiter - it) if not ok else 5, **kwargs)
        res.mle_retvals["newton_iterations"] = it
        return res
