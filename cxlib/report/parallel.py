"""Centers run in parallel worker processes, each keeping its warm kernel for its centers."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cxlib.notebooks import (
    WarmKernel,
)
from cxlib.report.center import CenterRun, run_center, warm_kernel
from cxlib.report.runlog import log, setup_logging
from cxlib.report.settings import PeriodRun
from cxlib.report.workers import init_worker, report_back

#: how the workers of a parallel run start: spawned, not forked. A forked worker inherits the
#: asyncio event loop that jupyter_core caches for the run's main thread (left by an earlier
#: sequential run or a notebook of the same process), and with it one epoll instance shared by
#: every worker, so one worker can take another's wake-up and wait on its kernel for ever.
WORKER_START_METHOD = "spawn"


_WORKER_KERNELS: dict[str, WarmKernel] = {}


def _worker_kernel(notebook_dir: Path) -> WarmKernel:
    """The warm kernel of a worker process of a parallel run: started for its first center,
    kept for the next ones, shut down when the worker exits."""
    import multiprocessing.util

    key = str(notebook_dir)
    if key not in _WORKER_KERNELS:
        kernel = warm_kernel(notebook_dir).__enter__()
        multiprocessing.util.Finalize(kernel, kernel.__exit__, args=(None, None, None), exitpriority=10)
        _WORKER_KERNELS[key] = kernel
    return _WORKER_KERNELS[key]


def _run_center_job(center: str, period_run: PeriodRun, log_file: Path) -> CenterRun:
    setup_logging(log_file, console=False)
    kernel = _worker_kernel(period_run.settings.notebook_dir)
    return run_center(center, period_run, kernel=kernel, on_notebook=report_back)


def run_parallel(
    centers: list[str],
    period_run: PeriodRun,
    *,
    log_file: Path,
    n_notebooks: int,
    step: Callable[..., None],
) -> list[CenterRun]:
    """The ``centers`` of ``period_run`` (a :class:`PeriodRun`) in as many worker processes as
    its settings' ``jobs``; each worker reports every finished notebook back through a queue
    (``step(center, notebook, status, error)``: a progress bar, and a failure line on the
    terminal as it happens). ``n_notebooks`` is the number of notebooks a center runs.

        >>> run_parallel(["SH-JQ", "BJ-CY"], PeriodRun(parse_period("2026-10"), Path("reports/2026-10"),
        ...              settings=RunSettings(jobs=2)), log_file=Path("reports/2026-10/run.log"),
        ...              n_notebooks=6, step=print)  # doctest: +SKIP
    """
    import multiprocessing
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, wait

    per, jobs = period_run.period, period_run.settings.jobs
    context = multiprocessing.get_context(WORKER_START_METHOD)
    progress = context.Queue()
    expected = len(centers) * n_notebooks
    seen = 0

    def drain(block_s: float) -> None:
        nonlocal seen
        while seen < expected:
            try:
                center, notebook, status, error = progress.get(timeout=block_s)
            except queue_mod.Empty:
                return
            seen += 1
            if status == "failed":  # the worker logged it to the file; the terminal hears it here, once
                log.error("%s %s %s failed: %s", per.folder, center, notebook, error, extra={"console_only": True})
            step(center, notebook, status, error)

    runs: list[CenterRun] = []
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=init_worker, initargs=(os.getpid(), progress)
        ) as pool:
            pending = {pool.submit(_run_center_job, c, period_run, log_file) for c in centers}
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain(0.01)
                for f in done:
                    run = f.result()
                    runs.append(run)
                    for e in run.export_errors:
                        log.error("%s %s export failed: %s", per.folder, run.center, e, extra={"console_only": True})
        drain(1.0)  # notebooks reported just before their worker returned
    finally:
        progress.close()
        progress.join_thread()
    return runs
