"""The parameters of a run: the params file, what each notebook declares, the ``segment`` option,
and the package versions a manifest records.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from cxlib import options as run_options

PACKAGES = (
    "cxlib",
    "pandas",
    "numpy",
    "pyarrow",
    "statsmodels",
    "scipy",
    "seaborn",
    "matplotlib",
    "papermill",
    "nbconvert",
)


# the options of a run, from the one table of options (command line and params file alike)
RUN_KEYS = frozenset(run_options.BY_NAME)


# parameters handed to the notebooks (each notebook gets the ones its parameters cell declares)
NOTEBOOK_KEYS = run_options.NOTEBOOK_KEYS


def check_safe(name: str, value: Any) -> None:
    """Refuse parameter values that could escape a folder (used on every string parameter)."""
    if name not in ("raw", "processed", "out", "cases_file", "tz"):  # paths, and tz (an IANA name)
        run_options.refuse_path(name, value)


def read_params(path: Path) -> dict[str, Any]:
    """Run parameters from a YAML file (keys as the command-line options, e.g. ``center: [SH-JQ]``),
    checked against the table of options (:mod:`cxlib.options`): one error line naming the file
    and the option.

        >>> read_params(Path("run.yaml"))  # doctest: +SKIP
        {'period': '2026-10', 'center': ['SH-JQ', 'BJ-CY'], 'jobs': 2}
    """
    return run_options.check(run_options.load_params(Path(path)), file=str(path))


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a report depends on."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def parameters_for(notebook: Path, candidates: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``candidates`` that ``notebook`` declares in its ``parameters`` cell.

    >>> from cxlib import paths
    >>> parameters_for(paths.NOTEBOOKS / "01_cleaning.ipynb", {"raw_dir": "x", "budget": 1})
    {'raw_dir': 'x'}
    """
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    return {k: v for k, v in candidates.items() if k in declared}


def check_segment_option(processed_dir: Path, segment: Any) -> str:
    """The ``segment`` run option checked against the processed visits' columns (their schema
    only, nothing is loaded) before any notebook runs: one :class:`DataError` listing the
    columns a report can be segmented by otherwise.

        >>> check_segment_option(Path("data/processed"), "vehicle_model")  # doctest: +SKIP
        'vehicle_model'
    """
    import pyarrow.parquet as pq

    from cxlib import clean

    visits = pq.read_schema(Path(processed_dir) / "visits.parquet").empty_table().to_pandas()
    quality = json.loads((Path(processed_dir) / "quality.json").read_text(encoding="utf-8"))
    return clean.check_segment(visits, segment, clean.given_tables(quality))
