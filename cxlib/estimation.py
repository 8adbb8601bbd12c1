"""The settings an estimate shares with others, each group one small frozen object.

The regressions of :mod:`cxlib.models`, the staggered estimators of :mod:`cxlib.did` and the
cross-validated models of :mod:`cxlib.peak_end` take their settings in groups rather than as a
dozen keywords each:

* :class:`Adjustment`: what a model adjusts for (the controls, and those entered as ``log1p``);
* :class:`Inference`: how its uncertainty is measured (confidence level ``ci``, the cluster
  column, the covariance, few-cluster inference, bootstrap replications and seed);
* :class:`Guards`: when it may be fitted at all (fewest rows and clusters, iterations, and
  whether a failure raises or gives a row that says why);
* :class:`RolloutColumns`: the columns that describe the rollout of real-time updates (the
  visit's center, month and arrival, the centers table's id and switch date).

Each function reads the fields it needs; the modules re-export the classes (``models.Inference``
is ``estimation.Inference``). Who takes what:

* ``adjust``: the regressions of :mod:`cxlib.models` (``ltr_ols``, ``ltr_mixed``, ``ltr_ordinal``,
  ``promoter_logit``, ``detractor_logit``, ``complaint_models`` (also ``exposure``),
  ``naive_vs_adjusted``, ``duration_confounding``, ``did_rollout``, ``update_effects``);
* ``inference``: those (``ci``, ``cluster``; ``ltr_ols`` also ``cov_type`` and ``few_cluster``,
  ``did_rollout`` and ``event_study`` ``ci`` and ``few_cluster``), the estimators of
  :mod:`cxlib.did` (``ci``; ``callaway_santanna`` and ``sun_abraham`` also ``cluster``,
  ``callaway_santanna`` and ``randomization_test`` ``seed``) and :mod:`cxlib.peak_end`'s
  ``peak_end_models`` and ``duration_neglect`` (``reps``, ``seed``, ``ci``);
* ``guards``: the regressions (``maxiter`` where an optimiser iterates);
* ``columns``: the rollout functions of :mod:`cxlib.models` and :mod:`cxlib.did`
  (``did_rollout``, ``event_study``, ``rollout_visits``, ``rollout_overview``, ``rollout_att``,
  ``rollout_sun_abraham``, ``randomization_test``, ``twfe_weights``). A function that took the single
keywords before still accepts them for a while (see :func:`former_keywords`).

    >>> Inference(ci=0.9).ci, Inference().cluster
    (0.9, 'center')
    >>> Guards(min_n=50).replace(strict=True)
    Guards(min_n=50, min_clusters=4, maxiter=100, strict=True)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The controls of the LTR and complaint models, and those entered as ``log1p``.
DEFAULT_CONTROLS: tuple[str, ...] = ("repair_minutes", "scenario", "warranty", "center")
DEFAULT_LOG_CONTROLS: tuple[str, ...] = ("repair_minutes",)


@dataclass(frozen=True)
class Options:
    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes``: ``Inference().replace(ci=0.9)``."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Adjustment(Options):
    """What a model adjusts for: ``controls`` (column names; ``center`` enters as fixed effects,
    a text or category column as dummies), ``log_controls``, those of them entered as ``log1p``
    (repair minutes: long repairs are rare and long), and for a count model ``exposure``, the
    column of each row's exposure (its log an offset; None: every row the same).

        >>> Adjustment(controls=("repair_minutes", "warranty"), log_controls=())
        Adjustment(controls=('repair_minutes', 'warranty'), log_controls=(), exposure=None)
    """

    controls: Sequence[str] = DEFAULT_CONTROLS
    log_controls: Sequence[str] = DEFAULT_LOG_CONTROLS
    exposure: str | None = None


@dataclass(frozen=True)
class Inference(Options):
    """How an estimate's uncertainty is measured: ``ci`` the confidence level of its interval,
    ``cluster`` the column whose values are the clusters of the covariance (None: none),
    ``cov_type`` the cluster covariance of a linear model (``"cluster"``: CR1; ``"cluster-crv3"``:
    the leave-one-cluster-out jackknife), ``few_cluster`` whether a linear model with few clusters
    quotes the wild cluster bootstrap and CR2 (see :mod:`cxlib.inference`), ``reps`` and ``seed``
    the replications and seed of a bootstrap.

        >>> Inference(ci=0.9, cluster=None)
        Inference(ci=0.9, cluster=None, cov_type='cluster', few_cluster=True, reps=200, seed=0)
    """

    ci: float = 0.95
    cluster: str | None = "center"
    cov_type: Literal["cluster", "cluster-crv3"] = "cluster"
    few_cluster: bool = True
    reps: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.ci < 1:
            raise ValueError(f"ci must lie between 0 and 1, got {self.ci!r}")


@dataclass(frozen=True)
class Guards(Options):
    """When a model may be fitted: at least ``min_n`` complete rows and ``min_clusters`` clusters,
    at most ``maxiter`` iterations of its optimiser; with ``strict`` a model that cannot be
    fitted raises, otherwise it gives a table that says why.

        >>> Guards(strict=True).min_n
        30
    """

    min_n: int = 30
    min_clusters: int = 4
    maxiter: int = 100
    strict: bool = False


@dataclass(frozen=True)
class RolloutColumns(Options):
    """The columns of the rollout of real-time updates: of the visits, ``center``, ``month``
    (``YYYY-MM``) and ``arrived_at``; of the centers table, ``center_id`` and ``realtime_since``
    (the date a center switched, empty if it never did).

        >>> RolloutColumns(center="site").center, RolloutColumns().realtime_since
        ('site', 'realtime_since')
    """

    center: str = "center"
    month: str = "month"
    arrived_at: str = "arrived_at"
    center_id: str = "center_id"
    realtime_since: str = "realtime_since"


#: Former keywords whose field has another name: ``conf=`` is ``ci``, ``n_boot=`` is ``reps``.
_RENAMED = {"conf": "ci", "n_boot": "reps"}


def former_keywords(**groups: type[Any]) -> Callable[[F], F]:
    """Let a function whose settings moved into options objects take the former single keywords
    for a while: ``@former_keywords(inference=Inference)`` maps ``f(..., ci=0.9)`` to
    ``f(..., inference=<f's default Inference, or the one given>.replace(ci=0.9))`` with a
    DeprecationWarning naming the new spelling (``conf=`` and ``n_boot=`` map to ``ci`` and
    ``reps``). The function's signature is the new one.

        >>> @former_keywords(inference=Inference)
        ... def level(x, *, inference=Inference()):
        ...     return inference.ci
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     value = level(1, ci=0.8)
        >>> value, str(w[0].message)
        (0.8, 'level(ci=...) is deprecated: use inference=Inference(ci=...)')
    """

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        owner = {f.name: param for param, cls in groups.items() for f in dataclasses.fields(cls)}

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for key in [k for k in kwargs if k not in sig.parameters and _RENAMED.get(k, k) in owner]:
                name = _RENAMED.get(key, key)
                param = owner[name]
                warnings.warn(
                    f"{fn.__name__}({key}=...) is deprecated: use {param}={groups[param].__name__}({name}=...)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                current = kwargs.get(param, sig.parameters[param].default)
                kwargs[param] = current.replace(**{name: kwargs.pop(key)})
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
