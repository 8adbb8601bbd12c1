"""Scheduled reports: the numbered notebooks run with papermill per period and center.

    cx report --raw data/raw --period 2026-10 --center SH-JQ --out reports --jobs 2
    cx report --period 2026-08..2026-10 --center all
    cx report --params run.yaml
    cx report --period 2026-10 --center all --timeout 1800

Each center's run is written to ``reports/<period>/<folder>/``: the executed notebooks, their
HTML versions with code hidden, ``results.json`` (keys in ``docs/results.md``) and
``manifest.json`` (parameters, raw-data fingerprint, package versions, start, end, duration
and status per notebook), ``summary.xlsx`` (unless ``--xlsx no``) and with ``--pdf`` every page
as PDF (:mod:`cxlib.share`). ``reports/<period>/index.html`` lists every report in the period
folder (earlier runs' too), the network first, with its headline figures, the summary first;
above them the period's alerts, below a league table and funnel plot of the centers against
the network (:mod:`cxlib.league`, from the processed data); ``alerts.json`` holds the alerts,
``quarantine.xlsx`` the quarantined rows and ``reports/<period>/run.log`` the log. The folder
is the center id when the id is a plain ASCII slug (``SH-JQ``), otherwise an ASCII form of it
with a short hash (:func:`cxlib.safe.center_folder`); the network report is ``all``.

Failure semantics: a failing notebook keeps papermill's error cell in its executed copy, the
center is marked failed in its manifest, the other centers go on, and the exit code is 1. A
cell running past ``--timeout`` seconds or a dying kernel fails its notebook the same way (its
copy carries a banner naming the error) and the next notebook gets a new kernel.
Every center is built in a hidden temporary folder and renamed into place when complete, so a
killed run never leaves a report that looks complete. A lock (``fcntl.flock`` on
``<period>/.lock``, released by the OS when its holder dies) refuses a second run on the same
period folder while the first is alive. The workers of a parallel run die with it, even when
it is killed with SIGKILL (``PR_SET_PDEATHSIG`` and a watchdog on the parent), and check that
it lives before they rename a report into place. The reports folder must not be, hold or lie
inside the raw or processed folder (:func:`cxlib.folders.check_report_folders`). Parameters are validated before anything runs:
center ids must exist and pass :func:`cxlib.safe.check_center_id` (for ``--center all`` too),
periods must be ``YYYY-MM`` (or ``YYYY-MM..YYYY-MM``, or ``all``) and hold visits. The pages show data as
text: HTML escaped, links relative and percent-encoded, no MathJax to typeset ``$…$``.

The package, one responsibility per module:

========================  ================================================================
:mod:`.periods`           the period and the centers of a run, read and checked
:mod:`.params`            the params file, each notebook's parameters, package versions
:mod:`.settings`          what the steps of a run share: how its notebooks run, the period run
:mod:`.lock`              the period folder's lock
:mod:`.runlog`            ``run.log`` and the terminal
:mod:`.center`            one center's report (notebooks, pages, exports, manifest)
:mod:`.pages`             the HTML page of an executed notebook
:mod:`.workers`           the life of a worker process of a parallel run
:mod:`.parallel`          centers in parallel worker processes
:mod:`.index`             the period folder's index, league table and alerts
:mod:`.run`               a whole run and the ``cx report`` command
========================  ================================================================

    >>> parse_period("2026-08..2026-10")
    Period(start='2026-08', end='2026-10', folder='2026-08_2026-10')
"""

from __future__ import annotations

from cxlib.report.center import (
    NOTEBOOK_DIR,
    SUMMARY_NOTEBOOK,
    CenterRun,
    NotebookRun,
    run_center,
    warm_kernel,
)
from cxlib.report.index import headline, report_folders, write_index, write_period_files
from cxlib.report.lock import ReportLock
from cxlib.report.pages import REPORT_TEMPLATE, embed_cjk_font, page_title, to_html
from cxlib.report.parallel import WORKER_START_METHOD
from cxlib.report.params import (
    NOTEBOOK_KEYS,
    PACKAGES,
    RUN_KEYS,
    check_segment_option,
    package_versions,
    parameters_for,
    read_params,
)
from cxlib.report.periods import (
    Period,
    check_period_has_data,
    parse_period,
    report_folder,
    resolve_centers,
)
from cxlib.report.run import main, run_reports
from cxlib.report.runlog import log
from cxlib.report.settings import PeriodRun, RunSettings

__all__ = [
    "NOTEBOOK_DIR",
    "NOTEBOOK_KEYS",
    "PACKAGES",
    "REPORT_TEMPLATE",
    "RUN_KEYS",
    "SUMMARY_NOTEBOOK",
    "WORKER_START_METHOD",
    "CenterRun",
    "NotebookRun",
    "Period",
    "PeriodRun",
    "ReportLock",
    "RunSettings",
    "check_period_has_data",
    "check_segment_option",
    "embed_cjk_font",
    "headline",
    "log",
    "main",
    "package_versions",
    "page_title",
    "parameters_for",
    "parse_period",
    "read_params",
    "report_folder",
    "report_folders",
    "resolve_centers",
    "run_center",
    "run_reports",
    "to_html",
    "warm_kernel",
    "write_index",
    "write_period_files",
]
