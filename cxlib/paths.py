"""The folder layout of the workbench, in one place: every other module takes its folders from here.

The project root holds ``data/raw`` (immutable input), ``data/processed`` (rebuilt from it by
``cx clean``), ``reports`` (the runs of ``cx report``) and ``notebooks``. The command line and
``make`` run from the root (:data:`RAW`, :data:`PROCESSED`, :data:`REPORTS`, relative to the
working directory, as a user types them); a notebook runs inside ``notebooks/`` and sees the same
folders one level up (:data:`NOTEBOOK_RAW`, :data:`NOTEBOOK_PROCESSED`).

    >>> from cxlib import paths
    >>> paths.RAW.as_posix(), paths.PROCESSED.as_posix(), paths.REPORTS.as_posix()
    ('data/raw', 'data/processed', 'reports')
    >>> paths.NOTEBOOK_PROCESSED.as_posix()
    '../data/processed'
    >>> paths.NOTEBOOKS.name, (paths.NOTEBOOKS.parent / "cxlib").is_dir()
    ('notebooks', True)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CASES_FILE",
    "NOTEBOOKS",
    "NOTEBOOK_PROCESSED",
    "NOTEBOOK_RAW",
    "PROCESSED",
    "RAW",
    "REPORTS",
    "SAMPLE_CASES",
    "ROOT",
    "cases_file",
]

#: the project's root folder (the checkout: ``notebooks/`` and ``data/`` beside ``cxlib/``)
ROOT: Path = Path(__file__).resolve().parents[1]

#: the numbered notebooks the reports run (``01_cleaning.ipynb`` …)
NOTEBOOKS: Path = ROOT / "notebooks"

#: the folders as the command line and ``make`` name them, relative to the project root
RAW: Path = Path("data/raw")
PROCESSED: Path = Path("data/processed")
REPORTS: Path = Path("reports")

#: the same folders seen from a notebook, which runs inside ``notebooks/``
NOTEBOOK_RAW: Path = Path("..") / RAW
NOTEBOOK_PROCESSED: Path = Path("..") / PROCESSED

#: the intervention cases of a raw folder (schema: ``docs/roi-cases.md``)
CASES_FILE: str = "cases_interventions.yaml"


def cases_file(raw_dir: str | Path) -> Path:
    """The intervention cases file of the raw folder ``raw_dir``.

    >>> cases_file("data/raw").as_posix()
    'data/raw/cases_interventions.yaml'
    """
    return Path(raw_dir) / CASES_FILE


#: the intervention cases shipped with the sample data (the examples in the docstrings read them)
SAMPLE_CASES: Path = ROOT / RAW / CASES_FILE
