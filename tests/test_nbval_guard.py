"""The nbval check catches a changed number in a notebook's stored outputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _nbval(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "notebooks/01_cleaning.ipynb",
            "--nbval-sanitize-with",
            str(ROOT / "notebooks" / "sanitize.cfg"),
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-q",
            "-c",
            "/dev/null",
            "--rootdir",
            str(folder),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_nbval_fails_when_a_stored_number_changes(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "data" / "raw")
    nb_path = tmp_path / "notebooks" / "01_cleaning.ipynb"
    shutil.copy(ROOT / "notebooks" / "01_cleaning.ipynb", nb_path)

    unchanged = _nbval(tmp_path)
    assert unchanged.returncode == 0, unchanged.stdout[-2000:]

    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "quality_overview" in c.source)
    out = cell.outputs[0]["data"]
    assert "6,018" in out["text/plain"]  # visits read from the shipped sample
    out["text/plain"] = out["text/plain"].replace("6,018", "6,019", 1)
    out["text/html"] = out["text/html"].replace("6,018", "6,019", 1)
    nbformat.write(nb, nb_path)

    changed = _nbval(tmp_path)
    assert changed.returncode != 0
    assert "01_cleaning.ipynb::Cell" in changed.stdout and "6,019" in changed.stdout
