"""The log of a run: ``run.log`` in the period folder and the terminal, personal data masked."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from cxlib.privacy import MaskingFilter

log = logging.getLogger("cxlib.report")


def setup_logging(log_file: Path, console: bool) -> None:
    """The run log (file) and, with ``console``, warnings on stderr; every line personal data masked."""
    log.setLevel(logging.INFO)
    for h in list(log.handlers):
        log.removeHandler(h)
    fh = logging.FileHandler(log_file, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    fh.addFilter(MaskingFilter())
    # a worker's failure, already in the log file, shown on the terminal by the run
    fh.addFilter(lambda record: not getattr(record, "console_only", False))
    log.addHandler(fh)
    if console:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("cx report: %(message)s"))
        sh.setLevel(logging.WARNING)
        sh.addFilter(MaskingFilter())
        log.addHandler(sh)
    log.propagate = False
