"""The worker processes of a parallel run: they die with the run, check it lives before a report is
renamed into place, and report each notebook back.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

#: the queue through which a worker of a parallel run reports each notebook back (None outside)
_PROGRESS: Any = None


#: pid of the run that started this worker process (None outside a worker)
_PARENT_PID: int | None = None


def parent_alive() -> bool:
    """Whether the run that started this worker still lives (always True outside a worker)."""
    return _PARENT_PID is None or os.getppid() == _PARENT_PID


def init_worker(parent: int, progress: Any = None) -> None:
    """Make a worker of a parallel run die with the run, however the run dies (kill -9 too).

    On Linux the kernel sends the worker SIGKILL when the run dies (``PR_SET_PDEATHSIG``); a
    watchdog thread also exits the worker within a fifth of a second once its parent changed
    (any system). The notebooks' kernels end themselves when their worker is gone (ipykernel
    watches its parent), and :func:`run_center` checks the parent before renaming a report
    into place.
    """
    global _PARENT_PID, _PROGRESS
    _PARENT_PID = parent
    _PROGRESS = progress
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog remains
            pass
    if not parent_alive():  # died before the death signal was set
        os._exit(1)

    def watch() -> None:
        while parent_alive():
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def report_back(center: str, notebook: str, status: str = "ok", error: str | None = None) -> None:
    """Send one finished notebook of a worker back to the run (its progress bar and failure line)."""
    if _PROGRESS is not None:
        _PROGRESS.put((center, notebook, status, error))
