"""One center's report: its notebooks run in a warm kernel into a hidden folder, its pages, exports
and manifest, renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError
from cxlib.notebooks import (
    ProgressLog,
    WarmKernel,
    error_line,
    import_statements,
    numbered_notebooks,
    run_notebook,
)
from cxlib.report.pages import to_html, warm_html
from cxlib.report.params import package_versions, parameters_for
from cxlib.report.periods import Period, report_folder
from cxlib.report.runlog import log
from cxlib.report.settings import NOTEBOOK_DIR, PeriodRun
from cxlib.report.workers import parent_alive

SUMMARY_NOTEBOOK = "05_summary"


@dataclass
class NotebookRun:
    notebook: str
    status: str = "pending"
    start: str | None = None
    end: str | None = None
    seconds: float | None = None
    error: str | None = None


@dataclass
class CenterRun:
    center: str
    period: str
    folder: str
    status: str = "ok"
    notebooks: list[NotebookRun] = field(default_factory=list)
    #: files written beside the notebooks (PDFs, summary.xlsx) and the errors of those that failed
    exports: list[str] = field(default_factory=list)
    export_errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [f"{self.center}/{n.notebook}: {n.error}" for n in self.notebooks if n.status == "failed"] + [
            f"{self.center}/{e}" for e in self.export_errors
        ]


def warm_kernel(notebook_dir: Path = NOTEBOOK_DIR) -> WarmKernel:
    """A :class:`WarmKernel` for the numbered notebooks that preloads their imports."""
    return WarmKernel(notebook_dir, preload=import_statements(numbered_notebooks(notebook_dir)))


def run_center(
    center: str,
    period_run: PeriodRun,
    *,
    kernel: WarmKernel | None = None,
    progress: bool = False,
    on_notebook: Callable[..., None] | None = None,
) -> CenterRun:
    """Run every numbered notebook for one center of ``period_run`` (a :class:`PeriodRun`: the
    period, its folder ``period_dir``, the notebooks' common parameters, the
    :class:`RunSettings` and the exports) into ``period_dir/<folder>`` (atomically; the folder is
    :func:`report_folder` of the center).

    The notebooks run in ``kernel`` when given (a started :class:`WarmKernel`, shared by the
    centers of a sequential run), otherwise in a warm kernel of their own. A cell running
    longer than ``timeout`` seconds fails its notebook. ``on_notebook(center, notebook, status,
    error)`` is called after each notebook (for a progress bar and the failure line).
    ``exports`` may hold ``"pdf"`` (every page printed by :func:`cxlib.share.print_pdf`) and
    ``"xlsx"`` (``summary.xlsx`` from ``results.json``, :func:`cxlib.share.summary_workbook`),
    written before the folder is renamed into place; an export that fails fails the center.
    A long step of a notebook (a bootstrap, a large fit) writes its progress to
    ``period_dir/run.log`` (:mod:`cxlib.progress`), not into the executed notebook; aggregations
    the summary shows again are computed once per center's run (:mod:`cxlib.runcache`).

        >>> run_center("SH-JQ", PeriodRun(parse_period("2026-10"), Path("reports/2026-10")))  # doctest: +SKIP
    """
    period, base, period_dir, exports = period_run.period, period_run.base, period_run.period_dir, period_run.exports
    notebook_dir, timeout = period_run.settings.notebook_dir, period_run.settings.timeout
    folder = report_folder(center)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{folder}-", dir=period_dir))
    run = CenterRun(center=center, period=period.folder, folder=str(period_dir / folder))
    started = dt.datetime.now().astimezone()
    params = dict(
        base, center=center, period_start=period.start, period_end=period.end, results_file=str(tmp / "results.json")
    )
    if base.get("raw_dir") and base.get("processed_dir"):  # checked by this run: the notebooks need not hash it again
        from cxlib import runcache

        runcache.mark_checked(
            tmp / ".cx-cache",
            base["raw_dir"],
            base["processed_dir"],
            base.get("tz", DEFAULT_TZ),
            base.get("_fingerprint"),
        )
    try:
        # one warm kernel per center (namespace emptied between notebooks); the HTML of a
        # notebook is rendered while the next one runs
        with contextlib.ExitStack() as stack:
            own_kernel = kernel is None
            if kernel is None:
                kernel = stack.enter_context(warm_kernel(notebook_dir))
            html_pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            # done while the kernel starts or the first notebook runs
            renders = [html_pool.submit(warm_html)]
            for nb in numbered_notebooks(notebook_dir):
                rec = NotebookRun(nb.stem, start=dt.datetime.now().astimezone().isoformat(timespec="seconds"))
                t0 = time.perf_counter()
                executed = tmp / nb.name
                try:
                    run_notebook(
                        nb,
                        executed,
                        parameters_for(nb, params),
                        progress_bar=progress,
                        kernel=kernel,
                        timeout=timeout,
                        progress_log=ProgressLog(period_dir / "run.log", f"{center} {nb.stem}"),
                        run_cache=tmp / ".cx-cache",
                    )
                    rec.status = "ok"
                except Exception as exc:  # noqa: BLE001 - recorded in the manifest; the run exits non-zero
                    rec.status, rec.error = "failed", error_line(exc)
                    run.status = "failed"
                    log.error("%s %s %s failed: %s", period.folder, center, nb.stem, rec.error)
                rec.seconds = round(time.perf_counter() - t0, 2)
                rec.end = dt.datetime.now().astimezone().isoformat(timespec="seconds")
                if executed.exists():
                    renders.append(
                        html_pool.submit(to_html, executed, executed.with_suffix(".html"), lang=params.get("lang"))
                    )
                run.notebooks.append(rec)
                log.info("%s %s %s %s in %.1f s", period.folder, center, nb.name, rec.status, rec.seconds)
                if on_notebook is not None:
                    on_notebook(center, nb.stem, rec.status, rec.error)
            if own_kernel:
                kernel.release()
            shutil.rmtree(tmp / ".cx-cache", ignore_errors=True)  # the run's shared aggregations
            for r in renders:
                r.result()
        _write_exports(run, tmp, exports, period)
        manifest: dict[str, Any] = {
            "center": center,
            "period": asdict(period),
            "status": run.status,
            "parameters": {k: v for k, v in params.items() if k != "results_file"},
            "cell_timeout_s": timeout,
            "raw_fingerprint": base.get("_fingerprint"),
            "packages": package_versions(),
            "start": started.isoformat(timespec="seconds"),
            "end": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "notebooks": [asdict(n) for n in run.notebooks],
            "exports": run.exports,
            "export_errors": run.export_errors,
        }
        manifest["parameters"].pop("_fingerprint", None)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if not parent_alive():
            os._exit(1)  # the run was killed: no report may appear after it
        final = period_dir / folder
        old = period_dir / f".old-{folder}"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return run
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_exports(run: CenterRun, folder: Path, exports: tuple[str, ...], period: Period) -> None:
    """The PDFs and ``summary.xlsx`` of a center's report, written into its (temporary) folder."""
    from cxlib import share

    if "xlsx" in exports and (folder / "results.json").exists():
        try:
            results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
            share.summary_workbook(results, folder / "summary.xlsx")
            run.exports.append("summary.xlsx")
        except (OSError, ValueError) as exc:
            run.export_errors.append(f"summary.xlsx: {error_line(exc)}")
    if "pdf" in exports:
        pages = sorted(folder.glob("*.html"), key=lambda p: (SUMMARY_NOTEBOOK not in p.name, p.name))
        try:
            run.exports += [p.name for p in share.print_pdf(pages)]
        except DataError as exc:
            run.export_errors.append(f"pdf: {exc.message}")
    for e in run.export_errors:
        run.status = "failed"
        log.error("%s %s export failed: %s", period.folder, run.center, e)
