"""Stored outputs refreshed in place (``python -m cxlib.notebooks refresh notebooks``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cxlib.notebooks.kernel import KERNEL
from cxlib.notebooks.listing import numbered_notebooks


def refresh(path: Path, *, timeout: int = 1200) -> None:
    """Re-execute ``path`` in place (its folder as working directory) and store the outputs.

    Uses nbclient directly so that the stored notebook carries no run-specific metadata
    beyond what the kernel prints. Progress bars are off in the kernel (``CX_PROGRESS=off``,
    :mod:`cxlib.progress`): a slow machine must not store one in an output.
    """
    import nbformat
    from nbclient import NotebookClient

    from cxlib import progress

    os.environ[progress.SWITCH_ENV] = "off"  # inherited by the kernel nbclient starts

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

