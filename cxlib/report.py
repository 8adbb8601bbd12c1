"""Reports: the numbered notebooks executed with papermill, plus HTML versions with code hidden.

``cx report --raw data/raw --processed data/processed --out reports`` writes
``reports/latest/``: each executed notebook and its HTML rendering. The run is built in a
temporary folder and renamed into place, so an interrupted run never leaves a report that
looks complete. The exit code is non-zero when a notebook fails; its executed copy keeps
papermill's error cell.

>>> parameters_for(Path("notebooks/01_cleaning.ipynb"), {"raw_dir": "x", "other": 1})  # doctest: +SKIP
{'raw_dir': 'x'}
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from cxlib.notebooks import numbered_notebooks, run_notebook

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def parameters_for(notebook: Path, candidates: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``candidates`` that ``notebook`` declares in its ``parameters`` cell."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    return {k: v for k, v in candidates.items() if k in declared}


def to_html(executed: Path, dst: Path) -> None:
    """Render an executed notebook to HTML with the code cells hidden."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    dst.write_text(body, encoding="utf-8")


def run_reports(raw_dir: Path, processed_dir: Path, out_dir: Path, notebook_dir: Path = NOTEBOOK_DIR,
                name: str = "latest") -> tuple[Path, list[str]]:
    """Execute every numbered notebook into ``out_dir/name``; return the folder and failures."""
    candidates = {"raw_dir": str(Path(raw_dir).resolve()), "processed_dir": str(Path(processed_dir).resolve())}
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    failures: list[str] = []
    try:
        for nb in numbered_notebooks(notebook_dir):
            executed = tmp / nb.name
            try:
                run_notebook(nb, executed, parameters_for(nb, candidates))
            except Exception as exc:  # noqa: BLE001 - recorded, the run is marked failed
                failures.append(f"{nb.name}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1]}")
            if executed.exists():
                to_html(executed, executed.with_suffix(".html"))
        final = out_dir / name
        old = out_dir / f".{name}.old"
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return final, failures
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(args: argparse.Namespace) -> int:
    """Entry of ``cx report``."""
    folder, failures = run_reports(Path(args.raw), Path(args.processed), Path(args.out))
    for f in failures:
        print(f"cx: report failed: {f}", file=sys.stderr)
    print(f"report written to {folder}")
    return 1 if failures else 0
