"""Rules of the centers table, and the centers derived from the visits when none is given."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from cxlib import io, privacy, safe
from cxlib.clean.ledger import _Audit, _duplicates, _missing_required
from cxlib.clean.timestamps import parse_timestamps
from cxlib.clean.values import _norm_key, _np_bool, _strip, _take_str
from cxlib.errors import DataError


@dataclass
class _Centers:
    frame: pd.DataFrame
    lookup: dict[str, str]


def _clean_centers(raw: pd.DataFrame, tz: str) -> tuple[_Centers, _Audit]:
    a = _Audit("centers", raw)
    cid = _strip(raw["center_id"])
    name_zh, city = _strip(raw["name_zh"]), _strip(raw["city"])
    _missing_required(
        a,
        {
            "center_id": _np_bool(pc.is_valid(cid)),
            "name_zh": _np_bool(pc.is_valid(name_zh)),
            "city": _np_bool(pc.is_valid(city)),
        },
    )
    _duplicates(a, cid, "center_id")
    since_txt = _strip(raw["realtime_since"])
    since, rep, bad = parse_timestamps(pd.Series(since_txt.to_pandas(), dtype="str"), tz=tz)
    is_date = _np_bool(pc.match_substring_regex(since_txt, r"^\d{4}-\d{2}-\d{2}$"))
    a.repair(rep & ~is_date, "timestamp_format")
    a.repair(bad, "value_blanked")
    kept = a.kept
    text = {"name_zh": name_zh, "name_en": _strip(raw["name_en"]), "city": city, "aliases": _strip(raw["aliases"])}
    frame = pd.DataFrame(
        {
            "center_id": pd.Series(cid.to_pandas(), dtype="str"),
            **{c: pd.Series(v.to_pandas(), dtype="str") for c, v in text.items()},
            "realtime_since": since.dt.tz_localize(None).dt.normalize(),
        }
    )[kept].reset_index(drop=True)
    frame["realtime_since"] = (
        frame["realtime_since"].dt.date.astype(object).where(frame["realtime_since"].notna(), None)
    )
    where = list(zip(raw[io.SOURCE_FILE].astype(str).to_numpy()[kept], raw[io.SOURCE_ROW].to_numpy()[kept].tolist()))
    lookup = _center_lookup(frame, where)
    # the names are matched as written (above) and written masked
    k = np.flatnonzero(kept)
    for c, v in text.items():
        masked, changed = privacy.mask_array(v)
        a.repair(changed, "pii_masked")
        frame[c] = _take_str(masked, k)
    return _Centers(frame, lookup), a


_SPELLING_KIND = {"center_id": "id", "name_zh": "Chinese name", "name_en": "English name", "aliases": "alias"}


def _center_lookup(frame: pd.DataFrame, where: list[tuple[str, int]]) -> dict[str, str]:
    """Normalised spelling (id, Chinese or English name, alias) -> center id, for the kept
    centers (``where``: the source file and row of each).

    Every id must pass :func:`cxlib.safe.check_center_id` and get a report folder of its own.
    Spellings are compared by :func:`_norm_key` (width, case and spaces ignored): two ids that
    are the same once normalised, or a name or alias that two centers share (an alias equal
    to another center's id included), is a :class:`DataError` naming both rows, because a
    visit written that way could mean either center.
    """
    ids = frame["center_id"].tolist()
    for cid, (file, row) in zip(ids, where):
        safe.check_center_id(cid, file=file, row=row)
    safe.center_folders(ids, where=where)
    owner: dict[str, tuple[int, str]] = {}  # normalised spelling -> (center index, column)
    columns = [c for c in _SPELLING_KIND if c in frame.columns]
    for col in columns:  # ids first, so that an alias equal to a later center's id is caught too
        for i, row in enumerate(frame[col].tolist()):
            spellings = re.split(r"[;；,，|]", row) if col == "aliases" and isinstance(row, str) else [row]
            for nm in spellings:
                if not isinstance(nm, str) or not nm.strip():
                    continue
                key = _norm_key(nm)
                j, col_j = owner.setdefault(key, (i, col))
                if j == i:
                    continue
                file, line = where[i]
                if col == "center_id":
                    why = (
                        f"center ids {ids[j]!r} ({where[j][0]} row {where[j][1]}) and {nm!r} are the same "
                        "once width, case and spaces are ignored: give each center one id"
                    )
                else:
                    why = (
                        f"{_SPELLING_KIND[col]} {nm.strip()!r} of center {ids[i]!r} is also the "
                        f"{_SPELLING_KIND[col_j]} of center {ids[j]!r} ({where[j][0]} row {where[j][1]}): "
                        "a visit written that way could mean either center"
                    )
                raise DataError(why, file=file, column=col, row=line)
    return {key: ids[i] for key, (i, _) in owner.items()}


def _derived_centers(raw_visits: pd.DataFrame) -> _Centers:
    """The centers as the visits name them, when no centers table was given: one center per
    distinct spelling (compared without case, width and spaces), no city, no rollout date.

    Each id is checked like an id of a centers table (:func:`cxlib.safe.check_center_id`, a
    report folder of its own); an error names the first visits row that spells it."""
    spelled = pd.Series(_strip(raw_visits["center"]).to_pandas(), dtype="str").dropna().drop_duplicates()
    files = raw_visits[io.SOURCE_FILE].astype(str).to_numpy()
    rows = raw_visits[io.SOURCE_ROW].to_numpy()
    return centers_from_spellings([(v, files[i], int(rows[i])) for i, v in zip(spelled.index, spelled.tolist())])


def centers_from_spellings(spellings: list[tuple[str, str, int]]) -> _Centers:
    """The derived centers (see :func:`_derived_centers`) from the distinct trimmed spellings of
    the visits' center, in order of first appearance, each with its first file and row.

    >>> centers_from_spellings([("SH-JQ", "visits.csv", 2)]).frame["center_id"].tolist()
    ['SH-JQ']
    """
    seen: dict[str, str] = {}
    first: dict[str, tuple[str, int]] = {}
    for v, file, row in spellings:
        first[v] = (file, row)
        key = _norm_key(v)
        if key not in seen:
            seen[key] = v
            safe.check_center_id(v, file=file, row=row, column="center")
    ids = sorted(seen.values())
    safe.center_folders(ids, where=[first[c] for c in ids])
    frame = pd.DataFrame(
        {
            "center_id": pd.Series(ids, dtype="str"),
            "name_zh": pd.Series(ids, dtype="str"),
            "name_en": pd.Series([None] * len(ids), dtype="str"),
            "city": pd.Series([None] * len(ids), dtype="str"),
            "aliases": pd.Series([None] * len(ids), dtype="str"),
            "realtime_since": pd.Series([None] * len(ids), dtype=object),
        }
    )
    return _Centers(frame, dict(seen))
