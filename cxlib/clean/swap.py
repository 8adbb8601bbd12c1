"""The processed folder: lock, manifest, completeness, Parquet writing, the crash-safe swap
of a build into place, and the error line of a failed write.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pandas as pd

from cxlib import clean as _package  # settings (LOCK_WAIT_S, EVENT_BLOCK_BYTES, clean) read at call time
from cxlib import folders
from cxlib.clean import layout
from cxlib.errors import DataError

OUTPUT_TABLES = ("visits", "scores", "events", "surveys", "complaints", "centers", "quarantine")
OUTPUT_FILES = tuple(f"{t}.parquet" for t in OUTPUT_TABLES) + ("quality.json", "manifest.json")


#: keys by which a ``manifest.json`` is known as one that ``cx clean`` wrote
_MANIFEST_KEYS = ("fingerprint", "clean_version", "raw_files")


def _read_manifest(processed_dir: Path) -> dict | None:
    try:
        manifest = json.loads((processed_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _incomplete(processed_dir: Path, manifest: dict | None = None) -> str | None:
    """Why ``processed_dir`` does not hold one whole build (None when it does): a commit is
    pending, the manifest is missing or of an older version, or an output it lists is missing
    or has another size than it records."""
    if folders.pending_commit(processed_dir):
        return "a cleaning run was interrupted while it put its files into place"
    manifest = manifest if manifest is not None else _read_manifest(processed_dir)
    if manifest is None:
        return "missing manifest.json"
    sizes = manifest.get("outputs")
    if not isinstance(sizes, dict) or set(sizes) != set(OUTPUT_FILES[:-1]):
        return "manifest.json of an older version"
    missing = [f for f in OUTPUT_FILES[:-1] if not (processed_dir / f).is_file()]
    if missing:
        return f"missing {', '.join(missing)}"
    changed = [f for f, n in sizes.items() if (processed_dir / f).stat().st_size != n]
    if changed:
        return f"{', '.join(changed)} changed since cx clean wrote {'it' if len(changed) == 1 else 'them'}"
    return None


def _is_complete(processed_dir: Path, manifest: dict | None = None) -> bool:
    return _incomplete(Path(processed_dir), manifest) is None


def _lock(processed_dir: Path, shared: bool = False) -> folders.FolderLock:
    """The lock of a processed folder: exclusive for a cleaning run, shared for a reader."""
    return folders.FolderLock(
        processed_dir / folders.LOCK_NAME,
        "cleaning run (cx clean or a notebook's loader)",
        wait=_package.LOCK_WAIT_S,
        shared=shared,
        read_only_ok=True,
    )


def reading(processed_dir: str | Path) -> folders.FolderLock:
    """The processed folder's lock held shared: no cleaning run commits files while it is held.

    >>> with reading("data/processed"):  # doctest: +SKIP
    ...     centers = pd.read_parquet("data/processed/centers.parquet")
    """
    return _lock(Path(processed_dir), shared=True)


def _write_parquet(
    df: pd.DataFrame, path: Path, visits: pd.DataFrame | None = None, sorted_by: layout.SortKeys | None = None
) -> None:
    """Write a processed frame in the processed layout (:func:`cxlib.clean.layout.write_frame`:
    row groups, their centers and months from ``visits`` when the frame has none; in the order
    ``sorted_by`` when given)."""
    layout.write_frame(df, path, visits, sorted_by=sorted_by)


class _Writer(threading.Thread):
    """Write one table to Parquet in the background (Arrow releases the GIL while it writes)."""

    def __init__(
        self, df: pd.DataFrame, path: Path, visits: pd.DataFrame | None = None, sorted_by: layout.SortKeys | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.df, self.path, self.visits, self.sorted_by = df, path, visits, sorted_by
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            _write_parquet(self.df, self.path, self.visits, self.sorted_by)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc
        finally:
            self.df = self.visits = self.sorted_by = None

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def _fs_error(exc: OSError, raw_dir: Path, processed_dir: Path) -> DataError:
    """One error line for a file-system error of a cleaning run (full disk, read-only, permissions)."""
    name = exc.filename
    if name and folders.is_within(Path(name), raw_dir):
        return DataError(f"cannot read the file: {exc.strerror or exc}", file=str(name))
    return folders.disk_error(
        exc, processed_dir, doing="cannot write the processed data", hint="the processed data there are as they were"
    )


def _remove_if_only_lock(processed_dir: Path, created: bool) -> None:
    """A failed first run leaves no processed folder behind: remove the folder this run created
    when it holds nothing but its lock file."""
    if not created:
        return
    try:
        if {p.name for p in processed_dir.iterdir()} <= {folders.LOCK_NAME}:
            shutil.rmtree(processed_dir)
    except OSError:
        pass
