"""A run of reports: options checked, the lock taken, the centers run in turn or in parallel, the
period's files written; the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Protocol

from cxlib import options as run_options
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError
from cxlib.folders import check_report_folders
from cxlib.notebooks import (
    WarmKernel,
    numbered_notebooks,
)
from cxlib.report.center import CenterRun, run_center, warm_kernel
from cxlib.report.index import write_period_files
from cxlib.report.lock import ReportLock
from cxlib.report.parallel import run_parallel
from cxlib.report.params import NOTEBOOK_KEYS, check_safe, check_segment_option
from cxlib.report.periods import (
    check_period_has_data,
    one_center,
    parse_period,
    resolve_centers,
)
from cxlib.report.runlog import log, setup_logging
from cxlib.report.settings import PeriodRun, RunSettings


def run_reports(
    raw_dir: Path,
    processed_dir: Path,
    out_dir: Path,
    period: str = "all",
    center: str | list[str] = "all",
    *,
    options: dict[str, Any] | None = None,
    settings: RunSettings = RunSettings(),
    tz: str = DEFAULT_TZ,
) -> tuple[Path, list[CenterRun]]:
    """Run the report for a period and centers; return the period folder and each center's run.

    ``options`` are the run options of ``cx report`` (:mod:`cxlib.options`: the notebooks'
    parameters, ``pdf``, ``xlsx``, ``tz``); ``settings`` (a :class:`RunSettings`) how many
    centers run at a time, which notebooks, and a cell's time limit.

    >>> run_reports(Path("data/raw"), Path("data/processed"), Path("reports"), "2026-10", "SH-JQ",
    ...             settings=RunSettings(jobs=2, timeout=1800))  # doctest: +SKIP
    """
    # the same checks as the command line's (a caller may pass values as text or as YAML gives them)
    options = run_options.check(dict(options or {}))
    tz = options.pop("tz", tz)  # one time zone for the cleaning and the notebooks
    exports = tuple(name for name in ("pdf", "xlsx") if options.pop(name, run_options.BY_NAME[name].default))
    if "pdf" in exports:
        from cxlib.share import chromium_path

        chromium_path()  # refused before anything runs when no browser can print
    for k, v in options.items():
        check_safe(k, v)
    per = parse_period(period)
    # absolute: the notebooks run in their own folder, and papermill moves this process there
    # while a notebook runs (the HTML of the one before is rendered meanwhile)
    check_report_folders(Path(raw_dir), Path(processed_dir), Path(out_dir))
    raw_dir, processed_dir, out_dir = (Path(p).resolve() for p in (raw_dir, processed_dir, out_dir))
    with contextlib.ExitStack() as stack:
        # a sequential run shares one kernel, started while the processed data are checked
        sequential = settings.jobs <= 1 or one_center(center)
        kernel = stack.enter_context(warm_kernel(settings.notebook_dir)) if sequential else None
        run = PeriodRun(per, out_dir / per.folder, {}, settings, exports)
        return _run_reports(raw_dir, processed_dir, run, center, options=options, tz=tz, kernel=kernel)


def _run_reports(
    raw_dir: Path,
    processed_dir: Path,
    run: PeriodRun,
    center: str | list[str],
    *,
    options: dict[str, Any],
    tz: str,
    kernel: WarmKernel | None,
) -> tuple[Path, list[CenterRun]]:
    """The run of ``run``'s period once the options are checked: its notebooks' common
    parameters (``run.base``) are filled in here."""
    per, settings, exports = run.period, run.settings, run.exports
    jobs, notebook_dir = settings.jobs, settings.notebook_dir
    from cxlib import clean

    result = clean.clean(Path(raw_dir), Path(processed_dir), tz=tz, force=False)
    import pandas as pd

    with clean.reading(Path(processed_dir)):  # no cleaning run swaps files meanwhile
        known = pd.read_parquet(Path(processed_dir) / "centers.parquet", columns=["center_id"])["center_id"].tolist()
    centers = resolve_centers(center, known)
    check_period_has_data(Path(processed_dir), per)
    fingerprint = getattr(result, "fingerprint", None)
    if fingerprint is None:
        manifest = Path(processed_dir) / "manifest.json"
        fingerprint = json.loads(manifest.read_text())["fingerprint"] if manifest.exists() else None
    base: dict[str, Any] = {
        "raw_dir": str(Path(raw_dir).resolve()),
        "processed_dir": str(Path(processed_dir).resolve()),
        "tz": tz,
        **{k: v for k, v in options.items() if k in NOTEBOOK_KEYS},
    }
    if base.get("cases_file"):
        # named explicitly: it must exist (without it the notebooks take RAW/cases_interventions.yaml
        # and say so when the raw folder has none)
        base["cases_file"] = str(Path(base["cases_file"]).resolve())
        if not Path(base["cases_file"]).is_file():
            raise DataError("cases file not found", file=base["cases_file"], column="cases_file")
    if "segment" in base:
        check_segment_option(Path(processed_dir), base["segment"])
    period_dir = run.period_dir
    period_dir.mkdir(parents=True, exist_ok=True)
    with ReportLock(period_dir):
        for leftover in [*period_dir.glob(".tmp-*"), *period_dir.glob(".old-*")]:  # from a killed run
            shutil.rmtree(leftover, ignore_errors=True)
        log_file = period_dir / "run.log"
        setup_logging(log_file, console=True)
        log.info("report %s for %s (jobs=%d)", per.folder, ", ".join(centers), jobs)
        base["_fingerprint"] = fingerprint
        period_run = dataclasses.replace(run, base=base)
        runs: list[CenterRun] = []
        n_notebooks = len(numbered_notebooks(notebook_dir))
        bar = _progress(len(centers) * n_notebooks, sys.stderr.isatty())

        def step(center: str, notebook: str, status: str = "ok", error: str | None = None) -> None:
            bar.set_postfix_str(f"{center} {notebook}", refresh=False)
            bar.update(1)

        if jobs <= 1 or len(centers) == 1:
            for c in centers:
                runs.append(run_center(c, period_run, kernel=kernel, on_notebook=step))
            if kernel is not None:
                kernel.release()
        else:
            runs += run_parallel(centers, period_run, log_file=log_file, n_notebooks=n_notebooks, step=step)
            setup_logging(log_file, console=True)
        bar.close()
        runs.sort(key=lambda r: (r.center != "all", r.center))
        write_period_files(period_dir, per, Path(processed_dir), exports=exports)
        log.info(
            "report %s done: %d ok, %d failed",
            per.folder,
            sum(r.status == "ok" for r in runs),
            sum(r.status != "ok" for r in runs),
        )
    return period_dir, runs


class _Bar(Protocol):
    """What a run reads of a progress bar (tqdm's, or :class:`_NoBar`)."""

    def update(self, n: int) -> None: ...
    def set_postfix_str(self, text: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, text: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, show: bool) -> _Bar:
    """A progress bar over the notebooks of a run (on a terminal only: cron logs stay clean)."""
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="report", unit="notebook")


def main(args: argparse.Namespace) -> int:
    """Entry of ``cx report``: exit 0 when every center's report succeeded, 1 otherwise.

    Every option, from the command line and the params file, is checked before anything runs.
    """
    cli = {o.name: getattr(args, o.name) for o in run_options.OPTIONS if getattr(args, o.name, None) is not None}
    opts = run_options.resolve(cli, params_file=getattr(args, "params", None))
    raw = Path(opts.pop("raw"))
    processed = Path(opts.pop("processed"))
    out = Path(opts.pop("out"))
    period = opts.pop("period")
    center = opts.pop("center")
    jobs = opts.pop("jobs")
    timeout = opts.pop("timeout")
    tz = opts.pop("tz", DEFAULT_TZ)
    settings = RunSettings(jobs=jobs, timeout=timeout)
    period_dir, runs = run_reports(raw, processed, out, period, center, options=opts, settings=settings, tz=tz)
    # each failure was printed once on stderr as it happened (the run log keeps it too)
    failures = [f for r in runs for f in r.failures]
    print(
        f"report written to {period_dir} ({len(runs)} center runs, {len(failures)} failed notebooks); "
        f"index: {period_dir / 'index.html'}"
    )
    return 1 if failures else 0
