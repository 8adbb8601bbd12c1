"""Aggregations computed once per report run and reused by the later notebooks.

The summary (notebook 05) shows figures that notebooks 02 and 03 of the same run have computed
already: the emotion curve, NPS by segment and by month, the tier table, the change against the
previous period. On a national network each of them means another pass over the visits or the
scores, and the month trend and the previous period another copy of the processed data
(``subset``). :func:`cached` stores what a notebook computed, under a key that names the
computation, the processed data (their raw-data fingerprint) and the selection, in the run's
cache folder, and hands it to any later notebook of the run that asks for the same key.

Only a report run has a cache: ``cx report`` names the folder in the kernel's environment
(``CX_RUN_CACHE``, a hidden folder inside the center's report being built, removed before the
report is put in place). Anywhere else (JupyterLab, the notebook regression run) :func:`cached`
simply computes, so a notebook shows the same numbers either way. Values are pickled: the cache
holds only what this run's own notebooks wrote.

    >>> cached("answer", lambda: 42, fingerprint="abc", center="all")
    42
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

#: The environment variable naming the run's cache folder.
ENV = "CX_RUN_CACHE"

T = TypeVar("T")


def selection(
    data: Any,
    center: str = "all",
    *,
    period_start: str | None = None,
    period_end: str | None = None,
    scenario: str = "all",
) -> dict[str, Any]:
    """The key of a selection of the processed ``data`` (a :class:`cxlib.clean.ProcessedData`):
    its raw-data fingerprint and the filters of ``subset``.

        >>> selection(None, "SH-JQ", period_start="2026-10", period_end="2026-10")["center"]
        'SH-JQ'
    """
    quality = getattr(data, "quality", None) or {}
    return {
        "fingerprint": quality.get("fingerprint"),
        "center": center,
        "period_start": period_start,
        "period_end": period_end,
        "scenario": scenario,
    }


def _path(folder: Path, name: str, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps([name, key], sort_keys=True, default=str).encode()).hexdigest()[:24]
    return folder / f"{name}-{digest}.pkl"


def cached(name: str, compute: Callable[[], T], **key: Any) -> T:
    """``compute()``, or the value an earlier notebook of this report run stored under ``name`` and
    ``key`` (JSON-serialisable values: the selection, the arguments). Without a run cache
    (``CX_RUN_CACHE`` unset), or without a fingerprint in ``key`` that is not None, it computes.

        >>> cached("nps_by_month", lambda: "table", **selection(None))
        'table'
    """
    folder = os.environ.get(ENV)
    if not folder or key.get("fingerprint", "") is None:
        return compute()
    path = _path(Path(folder), name, key)
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - an unreadable entry is computed again
            pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp = fh.name
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # not cached: the next notebook computes it again
    return value


def _checked_path(folder: Path, raw_dir: str | Path, processed_dir: str | Path, tz: str) -> Path:
    key = [str(Path(raw_dir).resolve()), str(Path(processed_dir).resolve()), str(tz)]
    return _path(folder, "checked", {"folders": key})


def mark_checked(
    folder: str | Path, raw_dir: str | Path, processed_dir: str | Path, tz: str, fingerprint: str | None
) -> None:
    """Record in a run's cache ``folder`` that ``processed_dir`` was found up to date with
    ``raw_dir`` (raw-data ``fingerprint``), so that the notebooks of the run do not read every raw
    file again to check it (:func:`checked_fingerprint`). Nothing is recorded without a fingerprint.

        >>> mark_checked("/tmp/run-cache", "data/raw", "data/processed", "Asia/Shanghai", "abc")  # doctest: +SKIP
    """
    if not fingerprint:
        return
    path = _checked_path(Path(folder), raw_dir, processed_dir, tz)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
    except OSError:
        pass  # the notebooks check the raw data themselves


def checked_fingerprint(raw_dir: str | Path, processed_dir: str | Path, tz: str) -> str | None:
    """The fingerprint this report run found ``processed_dir`` up to date with (see
    :func:`mark_checked`), or None outside a report run or when the run has not checked it.
    A notebook of the run then reads the processed data as the run checked them, even when a raw
    file changes meanwhile: every page of one report shows the same data.

        >>> checked_fingerprint("data/raw", "data/processed", "Asia/Shanghai") is None  # outside a run
        True
    """
    folder = os.environ.get(ENV)
    if not folder:
        return None
    try:
        value = json.loads(_checked_path(Path(folder), raw_dir, processed_dir, tz).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fp = value.get("fingerprint") if isinstance(value, dict) else None
    return fp if isinstance(fp, str) and fp else None
