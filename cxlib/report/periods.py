"""The reporting period and the centers of a run: ``--period`` and ``--center`` read and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cxlib import safe
from cxlib.errors import DataError

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    """A reporting period of whole months; ``start``/``end`` None means all data."""

    start: str | None
    end: str | None
    folder: str


def parse_period(text: str) -> Period:
    """``2026-10``, ``2026-08..2026-10`` or ``all`` → :class:`Period` (DataError otherwise).

    >>> parse_period("2026-10").folder
    '2026-10'
    """
    text = str(text).strip()
    if text == "all":
        return Period(None, None, "all")
    parts = text.split("..")
    if len(parts) not in (1, 2) or not all(_PERIOD.match(p) for p in parts):
        raise DataError(f"period {text!r} is not YYYY-MM, YYYY-MM..YYYY-MM or 'all'", column="period")
    start, end = parts[0], parts[-1]
    if start > end:
        raise DataError(f"period {text!r} ends before it starts", column="period")
    return Period(start, end, start if start == end else f"{start}_{end}")


def resolve_centers(spec: str | list[str], known: list[str]) -> list[str]:
    """Center ids of a ``--center`` value: ``all``, one id, or ids separated by commas.

    Ids are checked against the centers of the processed data, and every id that will run
    (each center of ``all`` included) by :func:`cxlib.safe.check_center_id`, with a report
    folder of its own (:func:`report_folder`).

        >>> resolve_centers("SH-JQ,BJ-CY", ["BJ-CY", "SH-JQ", "GZ-TH"])
        ['SH-JQ', 'BJ-CY']
    """
    items = _center_items(spec)
    if not items:
        raise DataError("no center given", column="center")
    if items == [safe.NETWORK]:
        ids = sorted(known)
        centers = [safe.NETWORK] + ids
    else:
        bad = [c for c in items if c != safe.NETWORK and c not in known]
        if bad:
            raise DataError(
                f"unknown center {bad[0]!r}; known centers: {', '.join(sorted(known))} or 'all'", column="center"
            )
        centers = list(dict.fromkeys(items))
        ids = [c for c in centers if c != safe.NETWORK]
    for c in ids:
        safe.check_center_id(c, column="center")
    safe.center_folders(ids)
    return centers


def report_folder(center: str) -> str:
    """The folder of a run inside the period folder: ``all`` for the network report, otherwise
    the center's :func:`cxlib.safe.center_folder` (never ``all``, never starting with ``.``).

        >>> report_folder("all"), report_folder("SH-JQ"), report_folder("上海-金桥")
        ('all', 'SH-JQ', 'center--e5c90ea8c9')
    """
    return safe.NETWORK if center == safe.NETWORK else safe.center_folder(center)


def _center_items(spec: str | list[str]) -> list[str]:
    """The items of a ``--center`` value (a list, or ids separated by commas), trimmed, none empty."""
    items = spec if isinstance(spec, list) else str(spec).split(",")
    return [str(s).strip() for s in items if str(s).strip()]


def one_center(spec: str | list[str]) -> bool:
    """Whether a ``--center`` value names exactly one center (before the ids are checked)."""
    items = _center_items(spec)
    return len(items) == 1 and items[0] != "all"


def check_period_has_data(processed_dir: Path, period: Period) -> None:
    """Refuse a period without visits before anything runs, naming the dates the data cover.

    >>> check_period_has_data(Path("data/processed"), parse_period("2027-01"))  # doctest: +SKIP
    Traceback (most recent call last):
    cxlib.errors.DataError: column period: no visits in 2027-01; the data cover 2026-05-01 – 2026-10-31
    """
    import pandas as pd

    from cxlib import clean

    if period.start is None:
        return
    with clean.reading(Path(processed_dir)):
        v = pd.read_parquet(Path(processed_dir) / "visits.parquet", columns=["month", "arrived_at"])
    months = v["month"].astype(str)
    if ((months >= period.start) & (months <= period.end)).any():
        return
    shown = period.start if period.start == period.end else f"{period.start}..{period.end}"
    if v.empty:
        raise DataError(f"no visits in {shown}; the processed data hold no visits", column="period")
    first, last = v["arrived_at"].min(), v["arrived_at"].max()
    raise DataError(f"no visits in {shown}; the data cover {first:%Y-%m-%d} – {last:%Y-%m-%d}", column="period")
