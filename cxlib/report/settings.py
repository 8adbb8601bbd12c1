"""What the steps of a report run share: how its notebooks run (:class:`RunSettings`) and the
period its centers are run for (:class:`PeriodRun`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlib import paths
from cxlib.report.periods import Period

#: the numbered notebooks a report runs
NOTEBOOK_DIR = paths.NOTEBOOKS


@dataclass(frozen=True)
class RunSettings:
    """How a report run runs its notebooks: ``jobs`` centers at a time (in worker processes when
    more than one), the numbered notebooks of ``notebook_dir``, a cell failing its notebook after
    ``timeout`` seconds (no limit when None). ``cx report --jobs --timeout`` fill it.

    >>> RunSettings(jobs=2, timeout=1800)
    RunSettings(jobs=2, notebook_dir=PosixPath('...notebooks'), timeout=1800)
    """

    jobs: int = 1
    notebook_dir: Path = NOTEBOOK_DIR
    timeout: float | None = None


@dataclass(frozen=True)
class PeriodRun:
    """One period's run as each of its centers sees it: the ``period``, the ``period_dir`` the
    centers' folders go into, the notebooks' parameters common to every center (``base``), the
    :class:`RunSettings` and the ``exports`` written beside the notebooks (``"pdf"``, ``"xlsx"``).

    >>> from cxlib.report.periods import parse_period
    >>> run = PeriodRun(parse_period("2026-10"), Path("reports/2026-10"), {"lang": "en"}, exports=("xlsx",))
    >>> run.period.folder, run.settings.timeout, run.exports
    ('2026-10', None, ('xlsx',))
    """

    period: Period
    period_dir: Path
    base: Mapping[str, Any] = field(default_factory=dict)
    settings: RunSettings = RunSettings()
    exports: tuple[str, ...] = ()
