"""Running the numbered notebooks: with papermill for reports, in place for stored outputs.

``python -m cxlib.notebooks refresh notebooks`` re-executes every numbered notebook in its own
folder with its default parameters and stores the outputs, after an intended change, so that
the nbval check (``pytest --nbval notebooks``) compares against the new results.

The package: :mod:`.listing` (the numbered notebooks and their imports), :mod:`.kernel` (the
warm kernel and its client), :mod:`.execute` (one notebook run with papermill) and
:mod:`.refresh` (stored outputs refreshed in place).

>>> from cxlib import paths
>>> [p.name for p in numbered_notebooks(paths.NOTEBOOKS)][:1]
['01_cleaning.ipynb']
"""

from __future__ import annotations

from cxlib.notebooks.execute import ProgressLog, error_line, mask_error_outputs, run_notebook
from cxlib.notebooks.kernel import (
    KERNEL,
    KERNEL_THREADS,
    ReadyClient,
    WarmKernel,
    kernel_env,
)
from cxlib.notebooks.listing import import_statements, numbered_notebooks
from cxlib.notebooks.refresh import main, refresh

__all__ = [
    "KERNEL", "KERNEL_THREADS", "ProgressLog", "ReadyClient", "WarmKernel", "error_line", "import_statements", "kernel_env",
    "main", "mask_error_outputs", "numbered_notebooks", "refresh", "run_notebook",
]
