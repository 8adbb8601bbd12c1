"""Running the numbered notebooks: with papermill for reports, in place for stored outputs.

``python -m cxlib.notebooks refresh notebooks`` re-executes every numbered notebook in its own
folder with its default parameters and stores the outputs, after an intended change, so that
the nbval check (``pytest --nbval notebooks``) compares against the new results.

>>> [p.name for p in numbered_notebooks(Path("notebooks"))][:1]  # doctest: +SKIP
['01_cleaning.ipynb']
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

KERNEL = "python3"
_NUMBERED = re.compile(r"^\d\d_.+\.ipynb$")


def numbered_notebooks(folder: Path) -> list[Path]:
    """The numbered notebooks (``01_…ipynb``) of ``folder``, in reading order."""
    return sorted(p for p in Path(folder).iterdir() if _NUMBERED.match(p.name))


def run_notebook(src: Path, dst: Path, parameters: dict[str, Any] | None = None, *,
                 progress_bar: bool = False, kernel: WarmKernel | None = None) -> None:
    """Execute ``src`` with papermill into ``dst``, running in the notebook's own folder.

    Raises papermill's ``PapermillExecutionError`` when a cell fails; the executed copy with
    the error banner is still written to ``dst``. With ``kernel`` (a :class:`WarmKernel`) the
    notebook runs in that already started kernel, its namespace emptied first.

    >>> run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"))  # doctest: +SKIP
    """
    import papermill as pm

    dst.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    if kernel is not None:
        extra["km"] = kernel.fresh()
    pm.execute_notebook(str(src), str(dst), parameters=parameters or {}, kernel_name=KERNEL,
                        cwd=str(Path(src).resolve().parent), progress_bar=progress_bar,
                        request_save_on_cell_execute=False, **extra)


class WarmKernel:
    """One kernel that runs several notebooks in turn, so that each does not pay for starting
    Python and importing pandas, statsmodels and matplotlib again.

    Before each notebook the kernel's namespace is emptied (``%reset -f``) and open figures are
    closed, so a notebook sees no variable of the one before; a kernel that died is restarted.

        >>> with WarmKernel(Path("notebooks")) as k:  # doctest: +SKIP
        ...     run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"), kernel=k)
    """

    RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"

    def __init__(self, cwd: Path, kernel_name: str = KERNEL):
        self.cwd = Path(cwd).resolve()
        self.kernel_name = kernel_name
        self.km = None
        self.used = False

    def __enter__(self) -> WarmKernel:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name=self.kernel_name)
        # the kernel's own log (not the notebooks' output) only for errors: no transport notices
        self.km.start_kernel(cwd=str(self.cwd), extra_arguments=["--IPKernelApp.log_level=ERROR"])
        return self

    def fresh(self):
        """The kernel manager, with the kernel alive and its namespace empty."""
        if not self.km.is_alive():
            self.km.restart_kernel(now=True)
            self.used = False
        if self.used:
            kc = self.km.blocking_client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
                reply = kc.execute_interactive(self.RESET, timeout=60, store_history=False)
                if reply["content"]["status"] != "ok":
                    self.km.restart_kernel(now=True)
            finally:
                kc.stop_channels()
        self.used = True
        return self.km

    def __exit__(self, *exc: object) -> None:
        if self.km is not None and self.km.is_alive():
            self.km.shutdown_kernel(now=True)


def refresh(path: Path, timeout: int = 1200) -> None:
    """Re-execute ``path`` in place (its folder as working directory) and store the outputs.

    Uses nbclient directly so that the stored notebook carries no run-specific metadata
    beyond what the kernel prints.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cxlib.notebooks")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("refresh", help="re-execute notebooks in place and store their outputs")
    p.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of numbered notebooks")
    args = ap.parse_args(argv)
    targets: list[Path] = []
    for p in args.paths:
        targets.extend(numbered_notebooks(p) if p.is_dir() else [p])
    for nb in targets:
        print(f"refreshing {nb} …", flush=True)
        refresh(nb)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
