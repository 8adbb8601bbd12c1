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
                 progress_bar: bool = False) -> None:
    """Execute ``src`` with papermill into ``dst``, running in the notebook's own folder.

    Raises papermill's ``PapermillExecutionError`` when a cell fails; the executed copy with
    the error banner is still written to ``dst``.

    >>> run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"))  # doctest: +SKIP
    """
    import papermill as pm

    dst.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(src), str(dst), parameters=parameters or {}, kernel_name=KERNEL,
                        cwd=str(Path(src).resolve().parent), progress_bar=progress_bar)


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
