"""Cleaning: raw tables of the data contract -> processed Parquet tables, quality report.

Every raw row ends up either kept (possibly repaired, the repair counted under its catalog
rule) or in the quarantine table with its source file, source row, rule and reason, so that
``rows read == rows kept + rows quarantined`` for every table. Personal data in free text is
masked before anything is written.

Safety of the processed folder (mechanisms in :mod:`cxlib.folders`): folder mistakes (the
processed folder being, holding or inside the raw folder, the root, a file, a folder of other
content) are refused before anything is written; one run at a time holds the folder's lock
(``.cx-lock``, an OS lock that dies with its holder; the loader waits for it); the tables are
built in ``PROCESSED/.cx-build-*`` and committed file by file under a journal that any later
run or reader completes, the manifest (listing every output with its size) last, so a run
killed at any moment leaves either the old or the new data, never a mix that reads as valid.
Files the analyst keeps in the processed folder are never moved. A failing build (bad input,
full disk, read-only folder) leaves the old processed data as they were, with one error line.

Example
-------
>>> from cxlib import clean
>>> result = clean.clean(Path("data/raw"), Path("data/processed"))   # doctest: +SKIP
>>> data = clean.load("data/processed", raw_dir="data/raw")           # doctest: +SKIP
>>> data.subset(center="SH-JQ", period_start="2026-10").visits.shape   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import json
import os
import re
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from cxlib import catalog, folders, io, privacy, safe
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError, FolderError

#: bump when the cleaning logic changes, so old processed data is rebuilt
CLEAN_VERSION = 2

OUTPUT_TABLES = ("visits", "scores", "events", "surveys", "complaints", "centers", "quarantine")
OUTPUT_FILES = tuple(f"{t}.parquet" for t in OUTPUT_TABLES) + ("quality.json", "manifest.json")

_RULE_ORDER = {r.code: i for i, r in enumerate(catalog.RULES)}
_TS_NAIVE = pa.timestamp("us")
_TS_UTC = pa.timestamp("us", tz="UTC")
_NAT = np.iinfo(np.int64).min
_US_PER_MIN = 60_000_000
#: bytes of touchpoint CSV read and cleaned at a time (the event log is streamed in such blocks)
EVENT_BLOCK_BYTES = 1 << 25


# =============================================================================== helpers
def _arrow(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """A pandas text column as one (not chunked) Arrow string array, nulls for NA."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    return arr


def _strip(values: pd.Series | pa.Array) -> pa.Array:
    """Trim whitespace; empty text becomes null."""
    arr = pc.utf8_trim_whitespace(_arrow(values))
    return pc.if_else(pc.equal(pc.binary_length(arr), 0), pa.scalar(None, arr.type), arr)


def _take_str(arr: pa.Array, rows: np.ndarray) -> pd.Series:
    """The text values at positions ``rows`` as a pandas string column (the kept rows of a table)."""
    return pd.Series(arr.take(pa.array(rows)).to_pandas(), dtype="str")


def _np_bool(arr: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, null).to_numpy(zero_copy_only=False), dtype=bool)


def _encode(arr: pa.Array) -> tuple[np.ndarray, list]:
    """Dictionary-encode: (codes with -1 for null, list of distinct values)."""
    d = pc.dictionary_encode(arr)
    if isinstance(d, pa.ChunkedArray):
        d = d.combine_chunks()
    codes = pc.fill_null(d.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return codes, d.dictionary.to_pylist()


def _map_unique(arr: pa.Array, func, out_dtype=object, missing=None) -> np.ndarray:
    """Apply ``func`` to each distinct non-null value and spread the results (vectorised)."""
    codes, uniques = _encode(arr)
    table = np.empty(len(uniques) + 1, dtype=out_dtype)
    for i, u in enumerate(uniques):
        table[i] = func(u)
    table[-1] = missing
    return table[codes]


def _map_unique_multi(arr: pa.Array, func, dtypes: tuple, missing: tuple) -> tuple[np.ndarray, ...]:
    """Like :func:`_map_unique` for a ``func`` returning a tuple: one array per output."""
    codes, uniques = _encode(arr)
    tables = [np.empty(len(uniques) + 1, dtype=d) for d in dtypes]
    for i, u in enumerate(uniques):
        for tab, val in zip(tables, func(u)):
            tab[i] = val
    for tab, val in zip(tables, missing):
        tab[-1] = val
    return tuple(tab[codes] for tab in tables)


def _repeated(key: np.ndarray) -> np.ndarray:
    """True where an integer key repeats an earlier one (``duplicated(keep="first")``).

    A sort finds the few repeated values first; only the rows holding one of them are hashed.
    """
    out = np.zeros(len(key), dtype=bool)
    if len(key) < 2:
        return out
    s = np.sort(key)
    values = np.unique(s[1:][s[1:] == s[:-1]])
    del s
    if len(values):
        cand = np.flatnonzero(pd.Index(values).get_indexer(key) >= 0)
        out[cand] = pd.Series(key[cand]).duplicated(keep="first").to_numpy()
    return out


def _norm_key(text: str) -> str:
    """Comparison key for codes and names: NFKC (full-width forms become ASCII), case folded,
    no whitespace."""
    t = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    return re.sub(r"\s+", "", t)


def _series_ts(utc_us: np.ndarray, tz: str) -> pd.Series:
    idx = pd.DatetimeIndex(utc_us.view("datetime64[us]")).tz_localize("UTC").tz_convert(tz)
    return pd.Series(idx)


# ============================================================================ timestamps
_FALLBACK_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M",
                     "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M", "%Y%m%d", "%Y-%m-%d %H:%M:%S.%f",
                     "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d")
#: day-month-year and month-day-year dates (10/3/2026) are read only when a source profile
#: declares which comes first (``dayfirst``): the same text is 10 March or 3 October
_DMY_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y")
_MDY_FORMATS = ("%m-%d-%Y %H:%M:%S", "%m-%d-%Y %H:%M", "%m-%d-%Y")
#: (extra strptime formats, dayfirst) of the table being cleaned, from its source profile
_TS_OPTIONS: contextvars.ContextVar[tuple[tuple[str, ...], bool | None]] = contextvars.ContextVar(
    "cx_ts_options", default=((), None))


@contextlib.contextmanager
def timestamp_options(formats: tuple[str, ...] = (), dayfirst: bool | None = None):
    """Within the block, timestamps are also read with ``formats`` (strptime, tried first on
    the text as written) and, when ``dayfirst`` is declared, as day-month-year (True) or
    month-day-year (False) dates.

    >>> with timestamp_options(("%Y.%m.%d %Hh%M",), dayfirst=True):
    ...     parse_timestamps(pd.Series(["2026.10.03 09h05", "3/10/2026 09:05"]))[0].dt.day.tolist()
    [3, 3]
    """
    token = _TS_OPTIONS.set((tuple(formats), dayfirst))
    try:
        yield
    finally:
        _TS_OPTIONS.reset(token)


_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _parse_text_timestamp(text: str) -> tuple[str, int] | None:
    """('naive'|'aware', microseconds) for one odd timestamp text, or None if unreadable."""
    t = unicodedata.normalize("NFKC", text).strip()
    if not t:
        return None
    own, dayfirst = _TS_OPTIONS.get()
    for fmt in own:
        try:
            moment = _dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
        if 1900 <= moment.year <= 2200:
            if moment.tzinfo is not None:
                return "aware", (moment - _EPOCH_UTC) // _dt.timedelta(microseconds=1)
            return "naive", (moment - _EPOCH) // _dt.timedelta(microseconds=1)
    if re.fullmatch(r"\d{5}(\.\d+)?", t):  # Excel serial day number (1954 … 2173)
        days = float(t)
        if 20000 <= days <= 100000:
            moment = _EXCEL_EPOCH + _dt.timedelta(days=days)
            moment = moment.replace(microsecond=0) + _dt.timedelta(seconds=round(moment.microsecond / 1e6))
            return "naive", (moment - _EPOCH) // _dt.timedelta(microseconds=1)
        return None
    t = t.replace("/", "-").replace("年", "-").replace("月", "-").replace("日", " ").strip()
    t = re.sub(r"\s+", " ", t)
    if re.match(r"\d{1,2}[-.]\d{1,2}[-.]\d{4}(\s|$)", t):
        # 10/3/2026: 10 March or 3 October, only as the source declares
        if dayfirst is None:
            return None
        t = re.sub(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})", r"\1-\2-\3", t)
        for fmt in _DMY_FORMATS if dayfirst else _MDY_FORMATS:
            try:
                moment = _dt.datetime.strptime(t, fmt)
            except ValueError:
                continue
            return "naive", (moment - _EPOCH) // _dt.timedelta(microseconds=1)
        return None
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    t = re.sub(r"\s*(UTC|GMT)\s*([+-])", r"\2", t)
    t = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", t)
    if re.search(r"[+-]\d{2}$", t) and re.search(r"\d{2}:\d{2}", t):
        t = t + ":00"
    try:
        moment = _dt.datetime.fromisoformat(t)
    except ValueError:
        moment = None
        for fmt in _FALLBACK_FORMATS:
            try:
                moment = _dt.datetime.strptime(t, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    if not 1900 <= moment.year <= 2200:
        return None
    if moment.tzinfo is not None:
        return "aware", (moment - _EPOCH_UTC) // _dt.timedelta(microseconds=1)
    return "naive", (moment - _EPOCH) // _dt.timedelta(microseconds=1)




_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})?")


def _suffix_offset_us(suffix: str) -> int:
    """UTC offset in microseconds written by a strict suffix ('+08:00', '+0800', '+08', 'Z'); _NAT if not strict."""
    if suffix in ("Z", "z"):
        return 0
    m = _OFFSET_RE.fullmatch(suffix)
    if m is None:
        return _NAT
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return (-1 if m.group(1) == "-" else 1) * minutes * _US_PER_MIN


def _zone_offset_us(utc: np.ndarray, tz: str) -> np.ndarray:
    """Offset of ``tz`` from UTC (microseconds) at each instant (``utc`` without NaT)."""
    idx = pd.DatetimeIndex(utc.view("datetime64[us]")).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    return idx.asi8 - utc


def _other_offset(texts: pa.Array, utc: np.ndarray, tz: str) -> np.ndarray:
    """For texts read with an offset: True where the written offset is not the local one at that instant.

    Texts of the shape ``YYYY-MM-DD?HH:MM:SS<offset>`` compare the written offset with the zone's
    offset; any other text compares its written wall-clock time with the local wall-clock time.
    """
    n = len(texts)
    out = np.zeros(n, dtype=bool)
    if not n:
        return out
    written = _map_unique(pc.utf8_slice_codeunits(texts, 19), _suffix_offset_us, out_dtype=np.int64,
                          missing=_NAT)
    strict = written != _NAT
    if strict.any():
        out[strict] = written[strict] != _zone_offset_us(utc[strict], tz)
    other = np.flatnonzero(~strict)
    if len(other):
        sub = texts.take(pa.array(other))
        wall = pc.strptime(pc.replace_substring(pc.utf8_slice_codeunits(sub, 0, 19), " ", "T"),
                           format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
        aware = pa.array(utc[other], type=pa.int64()).cast(_TS_UTC)
        local_wall = pc.local_timestamp(aware.cast(pa.timestamp("us", tz=tz)))
        same = _np_bool(pc.equal(pc.floor_temporal(wall, unit="second"),
                                 pc.floor_temporal(local_wall, unit="second")))
        out[other[~same]] = True
    return out


def _naive_to_utc(naive: pa.Array | pa.ChunkedArray, tz: str) -> np.ndarray:
    local = pc.assume_timezone(naive, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    return pc.fill_null(local.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)


def _exact_mask(parsed: pa.Array, head: pa.Array) -> pa.Array:
    """True where a parsed naive timestamp prints back as ``head`` ('YYYY-MM-DDTHH:MM')."""
    return pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%dT%H:%M"), head), False)


def _only_exact(parsed: pa.Array, head: pa.Array) -> pa.Array:
    """``parsed`` with the values that do not print back as ``head`` set to null."""
    return pc.if_else(_exact_mask(parsed, head), parsed, pa.scalar(None, parsed.type))


_EXCEL_EPOCH_US = (_EXCEL_EPOCH - _EPOCH) // _dt.timedelta(microseconds=1)


def _excel_serials(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(positions, local microseconds) of the Excel serial day numbers in ``texts`` that read
    the same as :func:`_parse_text_timestamp` reads them, rounded to the second, vectorised.
    Values within a millisecond of a half second are left to the per-value reader."""
    shape = _np_bool(pc.match_substring_regex(texts, r"^\d{5}(\.\d+)?$"))
    idx = np.flatnonzero(shape)
    if not len(idx):
        return idx, np.zeros(0, dtype=np.int64)
    days = pc.cast(texts.take(pa.array(idx)), pa.float64()).to_numpy(zero_copy_only=False)
    seconds = days * 86400.0
    whole = np.floor(seconds)
    frac = seconds - whole
    ok = (days >= 20000) & (days <= 100000) & (np.abs(frac - 0.5) > 1e-3)
    local = _EXCEL_EPOCH_US + (whole[ok].astype(np.int64) + (frac[ok] > 0.5)) * 1_000_000
    return idx[ok], local


def _parse_ts_rowwise(arr: pa.Array, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixed formats: ISO patterns in Arrow, then the per-value fallback for the remaining rows."""
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    utc = np.full(n, _NAT, dtype=np.int64)
    repaired = np.zeros(n, dtype=bool)
    t_arr = pc.replace_substring(arr, " ", "T", max_replacements=1)
    naive = pc.strptime(t_arr, format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
    # ISO 8601 local time to the minute is a regular format too (not a repair)
    to_minute = pc.strptime(t_arr, format="%Y-%m-%dT%H:%M", unit="us", error_is_null=True)
    naive = pc.coalesce(naive, pc.if_else(pc.equal(pc.utf8_length(t_arr), 16), to_minute,
                                          pa.scalar(None, to_minute.type)))
    aware = pc.strptime(t_arr, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
    # Arrow's strptime rolls impossible dates over (02-30 -> 03-02): keep only values whose
    # date, hour and minute read back as written; the others go to the strict per-value reader
    head = pc.utf8_slice_codeunits(t_arr, 0, 16)
    naive = _only_exact(naive, head)
    wall = pc.strptime(pc.utf8_slice_codeunits(t_arr, 0, 19), format="%Y-%m-%dT%H:%M:%S", unit="us",
                       error_is_null=True)
    aware = pc.if_else(_exact_mask(wall, head), aware, pa.scalar(None, aware.type))
    del t_arr, head, wall
    vals = _naive_to_utc(naive, tz)
    ok = vals != _NAT
    utc[ok] = vals[ok]
    vals = pc.fill_null(aware.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
    ok = (vals != _NAT) & (utc == _NAT)
    if ok.any():
        utc[ok] = vals[ok]
        idx = np.flatnonzero(ok)
        # an offset other than the local one is a repair
        repaired[idx] = _other_offset(arr.take(pa.array(idx)), vals[idx], tz)
    rest = np.flatnonzero(present & (utc == _NAT))
    if len(rest) >= 1000:
        # 'YYYY/MM/DD HH:MM' (a common export format) in Arrow, as the per-value reader reads it
        sub = arr.take(pa.array(rest))
        shape = _np_bool(pc.match_substring_regex(sub, r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$"))
        if shape.any():
            texts = sub.filter(pa.array(shape))
            parsed = pc.strptime(texts, format="%Y/%m/%d %H:%M", unit="us", error_is_null=True)
            year = pc.fill_null(pc.year(parsed), 0).to_numpy(zero_copy_only=False)
            # Arrow rolls impossible dates over (02/30 -> 03/02): keep only exact round trips
            same = _np_bool(pc.equal(pc.strftime(parsed, format="%Y/%m/%d %H:%M"), texts))
            good = (year >= 1900) & (year <= 2200) & same
            idx = rest[shape][good]
            utc[idx] = _naive_to_utc(parsed.filter(pa.array(good)), tz)
            repaired[idx] = True
            rest = np.setdiff1d(rest, idx, assume_unique=True)
        del sub
    if len(rest) >= 1000:
        idx, local = _excel_serials(arr.take(pa.array(rest)))
        if len(idx):
            idx = rest[idx]
            utc[idx] = _naive_to_utc(pa.array(local, type=pa.int64()).cast(_TS_NAIVE), tz)
            repaired[idx] = True
            rest = np.setdiff1d(rest, idx, assume_unique=True)
    unreadable = np.zeros(n, dtype=bool)
    if len(rest):
        texts = arr.take(pa.array(rest)).to_pylist()
        cache: dict[str, tuple[str, int] | None] = {}
        naive_idx, naive_val = [], []
        for i, t in zip(rest, texts):
            if t not in cache:
                cache[t] = _parse_text_timestamp(t)
            parsed = cache[t]
            if parsed is None:
                unreadable[i] = True
            elif parsed[0] == "aware":
                utc[i] = parsed[1]
                repaired[i] = True
            else:
                naive_idx.append(i)
                naive_val.append(parsed[1])
                repaired[i] = True
        if naive_idx:
            loc = pc.assume_timezone(pa.array(np.array(naive_val, dtype=np.int64), type=pa.int64()).cast(_TS_NAIVE),
                                     timezone=tz, ambiguous="earliest", nonexistent="earliest")
            utc[np.array(naive_idx)] = loc.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return utc, repaired, unreadable


def _parse_ts_array(arr: pa.Array, tz: str, mixed: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(UTC microseconds with _NAT for missing, repaired, unreadable, kind) for a trimmed text array.

    ``kind`` is 'naive' or 'aware' when the whole array is ISO 8601 text that Arrow reads at
    once, else 'mixed'. ``mixed=True`` reads the array the way a mixed column is read (so that
    batches of one column can be read alike).
    """
    n = len(arr)

    def whole(target: pa.DataType) -> pa.Array | None:
        # a failing cast of a long column is slow: try the first rows first
        try:
            if n > 4096:
                pc.cast(arr.slice(0, 4096), target)
            return pc.cast(arr, target)
        except pa.ArrowInvalid:
            return None

    naive = None if mixed else whole(_TS_NAIVE)
    if naive is not None:
        return _naive_to_utc(naive, tz), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), "naive"
    aware = None if mixed else whole(_TS_UTC)
    if aware is not None:
        utc = pc.fill_null(aware.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
        ok = np.flatnonzero(utc != _NAT)
        repaired = np.zeros(n, dtype=bool)
        repaired[ok] = _other_offset(arr.take(pa.array(ok)), utc[ok], tz)
        return utc, repaired, np.zeros(n, dtype=bool), "aware"
    # mixed formats: the canonical shapes (19 characters 'YYYY-MM-DD HH:MM:SS' local, 25 characters
    # with a '+HH:MM' offset) are read by Arrow's strict ISO parser group by group; everything
    # else goes row by row
    utc = np.full(n, _NAT, dtype=np.int64)
    repaired = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    length = pc.fill_null(pc.binary_length(arr), -1).to_numpy(zero_copy_only=False)
    for size, target in ((19, _TS_NAIVE), (25, _TS_UTC)):
        idx = np.flatnonzero(length == size)
        if len(idx) < 1000:
            continue
        sub = arr.take(pa.array(idx))
        if size == 25:
            written = _map_unique(pc.utf8_slice_codeunits(sub, 19), _suffix_offset_us, out_dtype=np.int64,
                                  missing=_NAT)
            keep = written != _NAT
            idx, sub, written = idx[keep], sub.filter(pa.array(keep)), written[keep]
        try:
            parsed = pc.cast(sub, target)
        except pa.ArrowInvalid:
            continue
        if size == 19:
            utc[idx] = _naive_to_utc(parsed, tz)
        else:
            vals = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
            utc[idx] = vals
            repaired[idx] = written != _zone_offset_us(vals, tz)
        done[idx] = True
    rest = np.flatnonzero(~done)
    unreadable = np.zeros(n, dtype=bool)
    if len(rest):
        u, r, b = _parse_ts_rowwise(arr.take(pa.array(rest)) if len(rest) < n else arr, tz)
        utc[rest], repaired[rest], unreadable[rest] = u, r, b
    return utc, repaired, unreadable, "mixed"


def parse_timestamps(values: pd.Series, tz: str = DEFAULT_TZ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a text column of timestamps into timezone-aware times in ``tz``.

    Returns ``(times, repaired, unreadable)``: ``repaired`` marks values that were not ISO 8601
    in local time (other formats, Excel serials, another offset), ``unreadable`` marks
    non-blank values that could not be read (they become NaT). Timestamps without an offset
    are local time in ``tz``. The fast path parses ISO text in Arrow; only the rows it
    cannot read go through the per-value fallback.

    >>> parse_timestamps(pd.Series(["2026/10/03 09:05"]))[0].iloc[0]
    Timestamp('2026-10-03 09:05:00+0800', tz='Asia/Shanghai')
    """
    utc, repaired, unreadable, _ = _parse_ts_array(_strip(values), tz)
    return _series_ts(utc, tz), repaired, unreadable


# ========================================================================= small parsers
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}


def _parse_int_text(text: str) -> tuple[float | None, bool]:
    """(number, was_text) for an answer like '9', ' 10 ', '9分', '十', '9.0'; None if unreadable."""
    raw = str(text)
    t = unicodedata.normalize("NFKC", raw).strip()
    if re.fullmatch(r"-?\d+", t):
        return float(int(t)), t != raw
    t2 = re.sub(r"\s+", "", t)
    t2 = re.sub(r"(分|points?|pts?|/10)$", "", t2, flags=re.I)
    if re.fullmatch(r"-?\d+(\.0+)?", t2):
        return float(int(float(t2))), True
    if re.fullmatch(r"-?\d+\.\d+", t2):
        return None, True
    if t2 and all(ch in _ZH_DIGITS for ch in t2):
        if len(t2) == 1:
            return float(_ZH_DIGITS[t2]), True
        if len(t2) == 2 and t2[0] == "十":
            return float(10 + _ZH_DIGITS[t2[1]]), True
        if len(t2) == 2 and t2[1] == "十":
            return float(_ZH_DIGITS[t2[0]] * 10), True
    return None, True


def _parse_bool(text: str) -> float:
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    if t in catalog.TRUE_WORDS:
        return 1.0
    if t in catalog.FALSE_WORDS:
        return 0.0
    return np.nan


def _bool_codes(values: pd.Series | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Booleans in any contract spelling as int8 codes (1 true, 0 false, -1 missing); (codes, unreadable)."""
    arr = _strip(values)
    out = _map_unique(arr, _parse_bool, out_dtype=float, missing=np.nan)
    present = _np_bool(pc.is_valid(arr))
    codes = np.where(np.isnan(out), -1, out).astype(np.int8)
    return codes, present & (codes < 0)


def _bool_column(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Nullable boolean from any contract spelling; (values, unreadable mask)."""
    arr = _strip(values)
    out = _map_unique(arr, _parse_bool, out_dtype=float, missing=np.nan)
    present = _np_bool(pc.is_valid(arr))
    bad = present & np.isnan(out)
    res = pd.array(np.where(np.isnan(out), False, out == 1.0), dtype="boolean")
    res[np.isnan(out)] = pd.NA
    return pd.Series(res), bad


def _float_column(values: pd.Series, low: float = -np.inf, high: float = np.inf,
                  percent: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(floats, reformatted mask, unreadable-or-out-of-range mask)."""
    arr = _strip(values)
    present = _np_bool(pc.is_valid(arr))
    num = pd.to_numeric(pd.Series(arr.to_pandas(), dtype="str"), errors="coerce").to_numpy(dtype=float, copy=True)
    odd = np.flatnonzero(present & np.isnan(num))
    fixed = np.zeros(len(num), dtype=bool)
    if len(odd):
        texts = arr.take(pa.array(odd)).to_pylist()
        for i, t in zip(odd, texts):
            t2 = unicodedata.normalize("NFKC", t).replace(",", "").replace("¥", "").replace("元", "")
            t2 = t2.replace("RMB", "").replace("CNY", "").strip()
            if percent:
                t2 = t2.rstrip("%").strip()
            try:
                num[i] = float(t2)
                fixed[i] = True
            except ValueError:
                pass
    bad = present & (np.isnan(num) | (num < low) | (num > high))
    num[bad] = np.nan
    return num, fixed & ~bad, bad


# ============================================================================ PII masking
#: the one masking of personal data (:mod:`cxlib.privacy`), under its older name
mask_pii = privacy.mask


def _mask_column(values: pd.Series | pa.Array) -> tuple[pd.Series, np.ndarray]:
    """Masked text column (:func:`cxlib.privacy.mask_array`) and the mask of rows that changed."""
    out, changed = privacy.mask_array(_arrow(values))
    return pd.Series(out.to_pandas(), dtype="str").reset_index(drop=True), changed


# ================================================================================ audit
class _Audit:
    """Per-table record of which raw row went where, and which repairs touched it."""

    def __init__(self, table: str, raw, n: int | None = None) -> None:
        # raw: the raw DataFrame, or a function giving the raw rows at given positions
        self.table = table
        self.raw = raw
        self.n = len(raw) if n is None else n
        self.qrule = np.full(self.n, -1, dtype=np.int16)
        self.pieces: list[tuple[np.ndarray, str, object]] = []
        self.repairs: dict[str, np.ndarray] = {}

    def quarantine(self, mask: np.ndarray, rule: str, reason: str | np.ndarray) -> None:
        hit = mask & (self.qrule < 0)
        if not hit.any():
            return
        idx = np.flatnonzero(hit)
        self.qrule[idx] = _RULE_ORDER[rule]
        if isinstance(reason, np.ndarray):
            reason = reason[idx]
        elif callable(reason):
            reason = reason(idx)
        self.pieces.append((idx, rule, reason))

    def repair(self, mask: np.ndarray, rule: str) -> None:
        if rule in self.repairs:
            self.repairs[rule] |= mask
        else:
            self.repairs[rule] = np.asarray(mask, dtype=bool).copy()

    @property
    def kept(self) -> np.ndarray:
        return self.qrule < 0

    def quality(self) -> dict:
        kept = self.kept
        rules = {}
        any_repair = np.zeros(self.n, dtype=bool)
        for r in catalog.RULES:
            if r.table not in ("*", self.table):
                continue
            if r.action == "repaired":
                m = self.repairs.get(r.code, np.zeros(self.n, dtype=bool)) & kept
                any_repair |= m
                rows = int(m.sum())
            else:
                rows = int((self.qrule == _RULE_ORDER[r.code]).sum())
            rules[r.code] = {"action": r.action, "rows": rows}
        return {"read": self.n, "kept": int(kept.sum()), "repaired": int(any_repair.sum()),
                "quarantined": int((~kept).sum()), "rules": rules}

    def quarantine_frame(self) -> pd.DataFrame:
        cols = ["table", "source_file", "source_row", "rule", "reason", "raw"]
        if not self.pieces:
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "source_row" else "str") for c in cols})
        idx = np.concatenate([p[0] for p in self.pieces])
        rules = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in self.pieces])
        reasons = np.concatenate([p[2] if isinstance(p[2], np.ndarray) else np.full(len(p[0]), p[2], dtype=object)
                                  for p in self.pieces])
        order = np.argsort(idx, kind="stable")
        idx, rules, reasons = idx[order], rules[order], reasons[order]
        value_cols = [c.name for c in catalog.TABLES[self.table]]
        sub = self.raw(idx) if callable(self.raw) else self.raw.iloc[idx]
        # the JSON json.dumps(..., ensure_ascii=False) writes for {column: text}, without its per-call overhead
        enc = json.encoder.encode_basestring

        def text(v: object) -> str:
            return enc(v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

        keys = [enc(c) for c in value_cols]
        # personal data is masked value by value, before the values are encoded (so that JSON
        # escapes such as \n inside a phone number cannot hide it from the masking)
        columns = [privacy.mask_values(sub[c].astype(object).where(sub[c].notna(), None).tolist())
                   for c in value_cols]
        raw_json = ["{" + ", ".join(f"{k}: {text(v)}" for k, v in zip(keys, row) if v is not None) + "}"
                    for row in zip(*columns)]
        del columns
        masked_reason = {r: privacy.mask(r) for r in set(map(str, reasons))}
        return pd.DataFrame({
            "table": self.table,
            "source_file": sub[io.SOURCE_FILE].astype(str).to_numpy(),
            "source_row": sub[io.SOURCE_ROW].to_numpy(dtype=np.int64),
            "rule": rules.astype(str),
            "reason": [masked_reason[str(r)] for r in reasons],
            "raw": raw_json,
        })


def _missing_required(audit: _Audit, present: dict[str, np.ndarray]) -> None:
    """Quarantine rows with a missing or unreadable required value, naming the first such column."""
    for col, ok in present.items():
        audit.quarantine(~ok, "missing_required", f"required value {col} is missing or unreadable")


def _duplicates(audit: _Audit, key: pa.Array, what: str) -> None:
    """Later rows repeating an id (among rows with an id) are duplicates."""
    codes, _ = _encode(key)
    valid = codes >= 0
    dup = np.zeros(len(codes), dtype=bool)
    dup[valid] = _repeated(codes[valid])
    if dup.any():
        if dup.sum() < 1_000_000:
            # the reasons are written only for the rows that are quarantined here
            def reasons(idx: np.ndarray) -> np.ndarray:
                return np.array([f"{what} {v} appears again (first occurrence kept)"
                                 for v in key.take(pa.array(idx)).to_pylist()], dtype=object)
            audit.quarantine(dup, "duplicate_id", reasons)
        else:
            audit.quarantine(dup, "duplicate_id", f"{what} appears again")


# ================================================================================ tables
@dataclass
class _Centers:
    frame: pd.DataFrame
    lookup: dict[str, str]


def _clean_centers(raw: pd.DataFrame, tz: str) -> tuple[_Centers, _Audit]:
    a = _Audit("centers", raw)
    cid = _strip(raw["center_id"])
    name_zh, city = _strip(raw["name_zh"]), _strip(raw["city"])
    _missing_required(a, {"center_id": _np_bool(pc.is_valid(cid)), "name_zh": _np_bool(pc.is_valid(name_zh)),
                          "city": _np_bool(pc.is_valid(city))})
    _duplicates(a, cid, "center_id")
    since_txt = _strip(raw["realtime_since"])
    since, rep, bad = parse_timestamps(pd.Series(since_txt.to_pandas(), dtype="str"), tz)
    is_date = _np_bool(pc.match_substring_regex(since_txt, r"^\d{4}-\d{2}-\d{2}$"))
    a.repair(rep & ~is_date, "timestamp_format")
    a.repair(bad, "value_blanked")
    kept = a.kept
    text = {"name_zh": name_zh, "name_en": _strip(raw["name_en"]), "city": city, "aliases": _strip(raw["aliases"])}
    frame = pd.DataFrame({
        "center_id": pd.Series(cid.to_pandas(), dtype="str"),
        **{c: pd.Series(v.to_pandas(), dtype="str") for c, v in text.items()},
        "realtime_since": since.dt.tz_localize(None).dt.normalize(),
    })[kept].reset_index(drop=True)
    frame["realtime_since"] = frame["realtime_since"].dt.date.astype(object).where(frame["realtime_since"].notna(), None)
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
                    why = (f"center ids {ids[j]!r} ({where[j][0]} row {where[j][1]}) and {nm!r} are the same "
                           "once width, case and spaces are ignored: give each center one id")
                else:
                    why = (f"{_SPELLING_KIND[col]} {nm.strip()!r} of center {ids[i]!r} is also the "
                           f"{_SPELLING_KIND[col_j]} of center {ids[j]!r} ({where[j][0]} row {where[j][1]}): "
                           "a visit written that way could mean either center")
                raise DataError(why, file=file, column=col, row=line)
    return {key: ids[i] for key, (i, _) in owner.items()}


def _code_mapper(items, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised spelling (code, Chinese name, English name) -> code."""
    out = {}
    for it in items:
        for nm in (it.code, it.zh, it.en):
            out.setdefault(_norm_key(nm), it.code)
    for k, v in (extra or {}).items():
        out.setdefault(_norm_key(k), v)
    return out


def _map_codes(arr: pa.Array, codes: tuple[str, ...], mapper: dict[str, str]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code index or -1, normalised mask, unknown mask) for a text column of codes."""
    pos = {c: i for i, c in enumerate(codes)}

    def one(v: str) -> tuple[int, bool]:
        if v in pos:
            return pos[v], False
        c = mapper.get(_norm_key(v))
        return (pos[c], True) if c is not None else (-1, False)

    idx, norm = _map_unique_multi(arr, one, (np.int16, bool), (-1, False))
    present = _np_bool(pc.is_valid(arr))
    return idx, norm, present & (idx < 0)


def _clean_visits(raw: pd.DataFrame, centers: _Centers, tz: str) -> tuple[pd.DataFrame, _Audit, pa.Array]:
    a = _Audit("visits", raw)
    vid = _strip(raw["visit_id"])
    cust = _strip(raw["customer_id"])
    center_txt = _strip(raw["center"])
    scen_txt = _strip(raw["scenario"])
    scen_idx, scen_norm, scen_bad = _map_codes(scen_txt, catalog.SCENARIO_ORDER, _code_mapper(catalog.SCENARIOS))
    ts = {}
    for col in ("booked_at", "arrived_at", "started_at", "finished_at", "delivered_at"):
        ts[col] = parse_timestamps(raw[col], tz)
    _missing_required(a, {
        "visit_id": _np_bool(pc.is_valid(vid)),
        "customer_id": _np_bool(pc.is_valid(cust)),
        "center": _np_bool(pc.is_valid(center_txt)),
        "scenario": scen_idx >= 0,
        "arrived_at": ts["arrived_at"][0].notna().to_numpy(),
        "delivered_at": ts["delivered_at"][0].notna().to_numpy(),
    })
    _duplicates(a, vid, "visit_id")
    internal = _np_bool(pc.match_substring_regex(cust, r"^(?i)(TEST|STAFF)"))
    a.quarantine(internal, "internal_record", "internal record: customer_id starts with TEST or STAFF")

    ids = centers.frame["center_id"].tolist()
    id_set = set(ids)

    def resolve(v: str) -> tuple[str | None, bool]:
        if v in id_set:
            return v, False
        c = centers.lookup.get(_norm_key(v))
        return c, c is not None

    center, alias = _map_unique_multi(center_txt, resolve, (object, bool), (None, False))
    unknown = _np_bool(pc.is_valid(center_txt)) & pd.isna(center)
    a.quarantine(unknown, "unknown_center",
                 lambda idx: np.array([f"center {c!r} matches no center id, name or alias"
                                       for c in center_txt.take(pa.array(idx)).to_pylist()], dtype=object))

    us = {k: v[0].to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)
          for k, v in ts.items()}
    nat = {k: v == _NAT for k, v in us.items()}
    checks = (
        ("delivered_at", "arrived_at", "delivered_at is before arrived_at"),
        ("started_at", "arrived_at", "started_at is before arrived_at"),
        ("finished_at", "started_at", "finished_at is before started_at"),
        ("delivered_at", "finished_at", "finished_at is after delivered_at"),
        ("delivered_at", "started_at", "started_at is after delivered_at"),
    )
    for later, earlier, why in checks:
        bad = ~nat[later] & ~nat[earlier] & (us[later] < us[earlier])
        a.quarantine(bad, "impossible_order", why)

    for col, (_, rep, bad) in ts.items():
        a.repair(rep, "timestamp_format")
        if col in ("booked_at", "started_at", "finished_at"):
            a.repair(bad, "value_blanked")
    a.repair(alias, "center_alias")
    a.repair(scen_norm, "value_normalised")
    warranty, w_bad = _bool_column(raw["warranty"])
    a.repair(w_bad, "value_blanked")
    amount, amount_fixed, amount_bad = _float_column(raw["amount_cny"], low=0.0)
    a.repair(amount_bad, "value_blanked")
    a.repair(amount_fixed, "value_normalised")

    model, model_masked = privacy.mask_array(_strip(raw["vehicle_model"]))
    a.repair(model_masked, "pii_masked")

    kept = a.kept
    k = np.flatnonzero(kept)
    frame = pd.DataFrame({
        "visit_id": _take_str(vid, k),
        "customer_id": _take_str(cust, k),
        "center": pd.Series(center[k].astype(str), dtype="str"),
        "scenario": pd.Categorical.from_codes(scen_idx[k], dtype=catalog.SCENARIO_DTYPE),
        "vehicle_model": _take_str(model, k),
        **{c: ts[c][0].iloc[k].reset_index(drop=True) for c in ts},
        "warranty": warranty.iloc[k].reset_index(drop=True),
        "amount_cny": amount[k],
    })
    return frame, a, vid


class _EventBatches:
    """Typed columns of the touchpoint log, read and cleaned batch by batch.

    Only the parsed values stay (codes, integer timestamps, flags); of the raw text just what the
    quarantine table may need: the raw values of each batch, the low-cardinality columns
    dictionary-encoded.
    """

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}
        self.raw: list[pa.Table] = []
        self.vids: list[pa.Array] = []  # trimmed visit ids per batch
        self.files: list[tuple[str, int]] = []  # (file name, first source row) per batch
        self.kinds: list[str] = []
        self.unknown: dict[int, str] = {}  # row -> unknown touchpoint text
        self.extras: list[dict[str, pa.ChunkedArray]] = []  # extra raw columns per batch
        self.headers: dict[str, dict] = {}  # extra column -> its raw header and first file
        self.n = 0

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.cols.setdefault(k, []).append(v)

    def truncate(self, n_batches: int) -> None:
        """Forget the batches from ``n_batches`` on (a file that has to be read again)."""
        for v in self.cols.values():
            del v[n_batches:]
        start = sum(len(t) for t in self.raw[:n_batches])
        self.unknown = {i: t for i, t in self.unknown.items() if i < start}
        del self.raw[n_batches:], self.vids[n_batches:], self.files[n_batches:], self.kinds[n_batches:]
        del self.extras[n_batches:]
        self.n = start

    def column(self, name: str, dtype) -> np.ndarray:
        """One column over all batches (taken out: the batch pieces are freed)."""
        parts = self.cols.pop(name, [])
        out = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        parts.clear()
        return out

    def raw_rows(self, idx: np.ndarray) -> pd.DataFrame:
        """The raw values (as read) of rows ``idx`` with their source file and row."""
        starts = np.cumsum([0] + [len(t) for t in self.raw])
        which = np.searchsorted(starts, idx, side="right") - 1
        parts, files, rows = [], [], []
        for b in np.unique(which):
            local = idx[which == b] - starts[b]
            t = self.raw[b].take(pa.array(local))
            parts.append(pa.table([c.cast(pa.string()) for c in t.columns], names=t.column_names))
            name, first = self.files[b]
            files.append(np.full(len(local), name, dtype=object))
            rows.append(first + local)
        value_cols = [c.name for c in catalog.TABLES["touchpoints"]]
        if parts:
            df = pa.concat_tables(parts).to_pandas()
        else:
            df = pd.DataFrame({c: pd.Series([], dtype="str") for c in value_cols})
        df[io.SOURCE_FILE] = np.concatenate(files) if files else np.array([], dtype=object)
        df[io.SOURCE_ROW] = np.concatenate(rows).astype(np.int64) if rows else np.array([], dtype=np.int64)
        return df


def _clean_events(raw_dir: Path, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str,
                  files: list[Path] | None = None, source=None) -> tuple[pd.DataFrame, _Audit, np.ndarray]:
    """Clean the touchpoint log, streaming its files batch by batch (see :class:`_EventBatches`).

    ``files`` (default: the table's files in ``raw_dir``) may be empty: the log is optional.
    Extra columns of the log are carried (``frame.attrs["extra_columns"]``).
    """
    pos = {c: i for i, c in enumerate(catalog.TOUCHPOINT_CODES)}
    zh = {t.zh: t.code for t in catalog.TOUCHPOINTS}
    norm_map = _code_mapper(catalog.TOUCHPOINTS)
    zh_keys = {_norm_key(k) for k in zh}
    ch_codes = tuple(c.code for c in catalog.CHANNELS)
    ch_mapper = _code_mapper(catalog.CHANNELS)

    def one(v: str) -> tuple[int, int]:  # (code index, 0 exact / 1 normalised / 2 Chinese)
        if v in pos:
            return pos[v], 0
        key = _norm_key(v)
        c = norm_map.get(key)
        if c is None:
            return -1, 0
        return pos[c], 2 if key in zh_keys else 1

    ev = _EventBatches()

    def add_batch(batch: pa.Table, file_name: str, first_row: int) -> None:
        n = batch.num_rows
        raw_vid = _arrow(batch["visit_id"])
        vid = _strip(raw_vid)
        utc, ts_rep, _, kind = _parse_ts_array(_strip(batch["ts"]), tz)
        tp_txt = _strip(batch["touchpoint"])
        tp, how = _map_unique_multi(tp_txt, one, (np.int16, np.int8), (-1, 0))
        tp_present = _np_bool(pc.is_valid(tp_txt))
        bad = np.flatnonzero((tp < 0) & tp_present)
        if len(bad):
            ev.unknown.update(zip((ev.n + bad).tolist(), tp_txt.take(pa.array(bad)).to_pylist()))
        ch_idx, ch_norm, ch_bad = _map_codes(_strip(batch["channel"]), ch_codes, ch_mapper)
        photo, photo_bad = _bool_codes(batch["photo"])
        ev.add(vid_ok=_np_bool(pc.is_valid(vid)), tp_present=tp_present, utc=utc, ts_rep=ts_rep, tp=tp.astype(np.int8), how=how, ch=ch_idx.astype(np.int8),
               ch_norm=ch_norm, ch_bad=ch_bad, photo=photo, photo_bad=photo_bad)
        # the raw visit ids are kept for the quarantine table; mostly they are the trimmed ones
        same = raw_vid.null_count == vid.null_count and pc.all(pc.equal(raw_vid, vid)).as_py() is not False
        keep = {"visit_id": vid if same else raw_vid, "ts": batch["ts"]}
        keep.update({c: pc.dictionary_encode(batch[c]) for c in ("touchpoint", "channel", "photo")})
        ev.raw.append(pa.table(keep))
        ev.extras.append({c: batch[c] for c in batch.column_names[len(catalog.TABLES["touchpoints"]):]})
        meta = (batch.schema.metadata or {}).get(b"cx_extras")
        for name, header in json.loads(meta) if meta else []:
            ev.headers.setdefault(name, {"name": name, "header": header, "file": file_name})
        ev.vids.append(vid)
        ev.files.append((file_name, first_row))
        ev.kinds.append(kind)
        ev.n += n

    if files is None:
        files = io.existing_table_files(raw_dir, "touchpoints")
    for path in files:
        n_before = len(ev.raw)
        first = 1
        try:
            for batch in io.iter_file_batches(path, "touchpoints", block_size=EVENT_BLOCK_BYTES, source=source):
                add_batch(batch, path.name, first)
                first += batch.num_rows
        except io.RestartFile:
            ev.truncate(n_before)
            add_batch(io.read_file_arrow(path, "touchpoints", source), path.name, 1)
    if len(set(ev.kinds)) > 1:
        # a column read whole would be mixed: read the batches that were uniform the same way
        for b, kind in enumerate(ev.kinds):
            if kind != "mixed":
                utc, rep, _, _ = _parse_ts_array(_strip(ev.raw[b]["ts"]), tz, mixed=True)
                ev.cols["utc"][b], ev.cols["ts_rep"][b] = utc, rep

    a = _Audit("touchpoints", ev.raw_rows, n=ev.n)
    utc = ev.column("utc", np.int64)
    tp = ev.column("tp", np.int8).astype(np.int16)
    _missing_required(a, {"visit_id": ev.column("vid_ok", bool), "ts": utc != _NAT,
                          "touchpoint": ev.column("tp_present", bool)})
    unknown = tp < 0
    if unknown.any():
        a.quarantine(unknown, "unknown_touchpoint",
                     lambda idx: np.array([f"touchpoint {ev.unknown.get(i)!r} is not in the catalog"
                                           for i in idx.tolist()], dtype=object))
    # one set lookup over the whole log (the hash table of the visit ids is built once)
    raw_pos = pc.fill_null(pc.index_in(pa.chunked_array(ev.vids, type=pa.string()), value_set=raw_visit_ids),
                           -1).to_numpy().astype(np.int64, copy=False) if ev.n else np.zeros(0, dtype=np.int64)
    ev.vids.clear()
    raw_to_kept = np.append(pc.fill_null(pc.index_in(raw_visit_ids, value_set=kept_visit_ids), -1).to_numpy(
        zero_copy_only=False).astype(np.int64), -1)
    vpos = raw_to_kept[raw_pos]
    a.quarantine(raw_pos < 0, "orphan_visit", "visit_id matches no visit in the raw data")
    del raw_pos
    a.quarantine(vpos < 0, "visit_quarantined", "its visit was quarantined")

    ts_us = utc
    # the same event exported twice (same visit, time, touchpoint) is a duplicate
    cand = np.flatnonzero(a.kept)
    if len(cand):
        v_c, t_c, p_c = vpos[cand], ts_us[cand], tp[cand].astype(np.int64)
        t_min = int(t_c.min())
        t_span = (int(t_c.max()) - t_min) // 1_000_000 + 1
        whole_seconds = not ((t_c - t_min) % 1_000_000).any()
        if whole_seconds and int(v_c.max()) < 2 ** 24 and t_span < 2 ** 33:
            # one exact int64 key: seconds (33 bits) | visit (24 bits) | touchpoint (5 bits)
            key = (((t_c - t_min) // 1_000_000) << 29) | (v_c << 5) | p_c
            dup = _repeated(key)
            del key
        else:
            dup = pd.DataFrame({"v": v_c, "t": t_c, "p": p_c}).duplicated(keep="first").to_numpy()
        del v_c, t_c, p_c
        if dup.any():
            m = np.zeros(a.n, dtype=bool)
            m[cand[dup]] = True
            a.quarantine(m, "duplicate_id", "the same event (visit, time, touchpoint) appears again")

    how = ev.column("how", np.int8)
    a.repair(ev.column("ts_rep", bool), "timestamp_format")
    a.repair(how == 2, "touchpoint_zh")
    a.repair((how == 1) | ev.column("ch_norm", bool), "value_normalised")
    a.repair(ev.column("ch_bad", bool) | ev.column("photo_bad", bool), "value_blanked")
    del how

    kept = a.kept
    k = np.flatnonzero(kept)
    tp_k = tp[k]
    default_ch = np.array([ch_codes.index(t.channel) for t in catalog.TOUCHPOINTS], dtype=np.int16)
    ch_k = ev.column("ch", np.int8).astype(np.int16)[k]
    ch_k = np.where(ch_k < 0, default_ch[tp_k], ch_k)
    stage_of = np.array([catalog.STAGE_ORDER.index(t.stage) for t in catalog.TOUCHPOINTS], dtype=np.int16)
    is_update = np.isin(np.arange(len(catalog.TOUCHPOINT_CODES)),
                        [pos[c] for c in catalog.UPDATE_TOUCHPOINTS])
    photo_k = ev.column("photo", np.int8)[k]
    vpos_k = vpos[k]
    frame = pd.DataFrame({
        "visit_id": pd.Series(kept_visit_ids.take(pa.array(vpos_k)).to_pandas(), dtype="str"),
        "ts": _series_ts(utc[k], tz),
        "touchpoint": pd.Categorical.from_codes(tp_k, dtype=catalog.TOUCHPOINT_DTYPE),
        "stage": pd.Categorical.from_codes(stage_of[tp_k], dtype=catalog.STAGE_DTYPE),
        "channel": pd.Series(pa.array(ch_codes).take(pa.array(ch_k)).to_pandas(), dtype="str"),
        "photo": pd.Series(pd.arrays.BooleanArray(photo_k == 1, photo_k < 0)),
        "is_update": is_update[tp_k],
    })
    frame.attrs["extra_columns"] = _event_extras(ev, k, frame)
    return frame, a, vpos_k


def _event_extras(ev: _EventBatches, kept: np.ndarray, frame: pd.DataFrame) -> list[dict]:
    """Add the extra raw columns of the event batches (kept rows, personal data masked) to
    ``frame``; their descriptions for quality.json."""
    names = list(dict.fromkeys(c for b in ev.extras for c in b))
    for name in names:
        parts = [b[name] if name in b else pa.nulls(len(r), type=pa.string())
                 for b, r in zip(ev.extras, ev.raw)]
        chunks = [c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
        col = pa.chunked_array([c.cast(pa.string()) for c in chunks], type=pa.string())
        values, _ = _mask_column(_strip(col.take(pa.array(kept))))
        frame[name] = pd.Series(values.to_numpy(), dtype="str")
    ev.extras.clear()
    return [ev.headers.get(n, {"name": n, "header": n, "file": None}) for n in names]


def _linked_rows(a: _Audit, raw: pd.DataFrame, id_col: str, ts_col: str, raw_visit_ids: pa.Array,
                 kept_visit_ids: pa.Array, tz: str) -> tuple[pa.Array, pa.Array, pd.Series, np.ndarray, np.ndarray]:
    """The rules every table linked to a visit shares: required id, visit and time; duplicate
    ids; orphan visit ids; rows of quarantined visits. Returns (ids, visit ids, times, times
    repaired, position of the visit among the kept visits or -1)."""
    ids = _strip(raw[id_col])
    vid = _strip(raw["visit_id"])
    ts, ts_rep, _ = parse_timestamps(raw[ts_col], tz)
    _missing_required(a, {id_col: _np_bool(pc.is_valid(ids)), "visit_id": _np_bool(pc.is_valid(vid)),
                          ts_col: ts.notna().to_numpy()})
    _duplicates(a, ids, id_col)
    in_raw = _np_bool(pc.is_in(vid, value_set=raw_visit_ids))
    a.quarantine(~in_raw, "orphan_visit", "visit_id matches no visit in the raw data")
    vpos = pc.fill_null(pc.index_in(vid, value_set=kept_visit_ids), -1).to_numpy(zero_copy_only=False)
    a.quarantine(vpos < 0, "visit_quarantined", "its visit was quarantined")
    return ids, vid, ts, ts_rep, vpos


def _clean_surveys(raw: pd.DataFrame, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str
                   ) -> tuple[pd.DataFrame, _Audit]:
    a = _Audit("surveys", raw)
    rid, vid, sub, sub_rep, vpos = _linked_rows(a, raw, "response_id", "submitted_at", raw_visit_ids,
                                                kept_visit_ids, tz)
    # resubmissions: keep the latest (by submitted_at, then by position) per visit
    cand = np.flatnonzero(a.kept)
    sub_us = sub.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)
    order = cand[np.lexsort((cand, sub_us[cand], vpos[cand]))]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = vpos[order][1:] != vpos[order][:-1]
    superseded = np.zeros(a.n, dtype=bool)
    superseded[order[~last]] = True
    a.quarantine(superseded, "superseded", "an earlier response for the same visit, superseded by a resubmission")

    def ints(col: str, low: int, high: int):
        arr = _arrow(raw[col])  # not trimmed: ' 10 ' is an answer written as text
        arr = pc.if_else(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0), pa.scalar(None, arr.type), arr)
        val, texty = _map_unique_multi(arr, lambda u: (lambda r: (np.nan if r[0] is None else r[0], r[1]))(
            _parse_int_text(u)), (float, bool), (np.nan, False))
        present = _np_bool(pc.is_valid(arr))
        bad = present & (np.isnan(val) | (val < low) | (val > high))
        val[bad] = np.nan
        return val, texty & ~bad, bad

    ltr, ltr_text, ltr_bad = ints("ltr", catalog.LTR_MIN, catalog.LTR_MAX)
    a.repair(ltr_text, "ltr_text")
    a.repair(ltr_bad, "ltr_out_of_range")
    scores = {}
    for col in catalog.SCORE_COLUMNS:
        val, texty, bad = ints(col, catalog.SCORE_MIN, catalog.SCORE_MAX)
        a.repair(bad, "score_out_of_range")
        a.repair(texty, "value_normalised")
        scores[col] = val
    anxiety, anx_fixed, anx_bad = _float_column(raw["anxiety"], low=0.0, high=100.0, percent=True)
    a.repair(anx_bad, "value_blanked")
    a.repair(anx_fixed, "value_normalised")
    comment, masked = _mask_column(_strip(raw["comment"]))
    a.repair(masked, "pii_masked")
    a.repair(sub_rep, "timestamp_format")

    k = np.flatnonzero(a.kept)
    frame = pd.DataFrame({
        "response_id": _take_str(rid, k),
        "visit_id": _take_str(vid, k),
        "submitted_at": sub.iloc[k].reset_index(drop=True),
        "ltr": pd.array(ltr[k], dtype="Int64"),
        **{c: pd.array(scores[c][k], dtype="Int64") for c in catalog.SCORE_COLUMNS},
        "anxiety": anxiety[k],
        "comment": comment.iloc[k].reset_index(drop=True),
    })
    frame["nps_group"] = catalog.nps_group(frame["ltr"].astype("float"))
    return frame, a


def _clean_complaints(raw: pd.DataFrame, raw_visit_ids: pa.Array, kept_visit_ids: pa.Array, tz: str
                      ) -> tuple[pd.DataFrame, _Audit]:
    a = _Audit("complaints", raw)
    cid, vid, filed, rep, _ = _linked_rows(a, raw, "complaint_id", "filed_at", raw_visit_ids, kept_visit_ids, tz)
    ch_txt = _strip(raw["channel"])
    codes = tuple(c.code for c in catalog.COMPLAINT_CHANNELS)
    ch_idx, ch_norm, ch_bad = _map_codes(ch_txt, codes, _code_mapper(catalog.COMPLAINT_CHANNELS,
                                                                      catalog.COMPLAINT_CHANNEL_ALIASES))
    category, masked = _mask_column(_strip(raw["category"]))
    a.repair(rep, "timestamp_format")
    a.repair(ch_norm, "value_normalised")
    a.repair(ch_bad, "value_blanked")
    a.repair(masked, "pii_masked")
    k = np.flatnonzero(a.kept)
    frame = pd.DataFrame({
        "complaint_id": _take_str(cid, k),
        "visit_id": _take_str(vid, k),
        "filed_at": filed.iloc[k].reset_index(drop=True),
        "channel": pd.Categorical.from_codes(ch_idx[k], categories=list(codes)),
        "category": category.iloc[k].reset_index(drop=True),
    })
    return frame, a


# ====================================================================== derived features
def visit_features(visits: pd.DataFrame, events: pd.DataFrame, event_visit: np.ndarray | None = None
                   ) -> pd.DataFrame:
    """Per-visit update features from the event log (vectorised, one pass over the events).

    Returns one row per visit (same order as ``visits``) with ``n_proactive_updates``,
    ``n_inprogress_updates``, ``has_photo_update``, ``tier``, ``longest_silence_minutes``
    and ``n_inquiries``. ``event_visit`` (row position of each event's visit) is computed from
    ``visit_id`` when not given.

    >>> visit_features(visits, events)[["visit_id", "tier"]].head(1)  # doctest: +SKIP
    """
    nv = len(visits)
    if event_visit is None:
        event_visit = pc.fill_null(pc.index_in(_arrow(events["visit_id"]), value_set=_arrow(visits["visit_id"])),
                                   -1).to_numpy(zero_copy_only=False)
    ev = np.asarray(event_visit, dtype=np.int64)
    ok = ev >= 0

    def us(s: pd.Series) -> np.ndarray:
        return s.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)

    arr, dlv, st, fin = (us(visits[c]) for c in ("arrived_at", "delivered_at", "started_at", "finished_at"))
    t = us(events["ts"])
    tp = events["touchpoint"].cat.codes.to_numpy()
    codes = list(catalog.TOUCHPOINT_DTYPE.categories)
    upd = np.isin(tp, [codes.index(c) for c in catalog.UPDATE_TOUCHPOINTS])
    inprog = np.isin(tp, [codes.index(c) for c in catalog.IN_PROGRESS_UPDATES])
    inquiry = tp == codes.index(catalog.INQUIRY_TOUCHPOINT)
    photo = events["photo"].fillna(False).to_numpy(dtype=bool)
    evs = np.where(ok, ev, 0)
    win = ok & (t >= arr[evs]) & (t <= dlv[evs]) & (t != _NAT)
    n_upd = np.bincount(ev[win & upd], minlength=nv)
    n_inp = np.bincount(ev[win & inprog], minlength=nv)
    n_photo = np.bincount(ev[win & inprog & photo], minlength=nv)
    n_inq = np.bincount(ev[win & inquiry], minlength=nv)
    tier = np.where(n_photo > 0, 3, np.where(n_inp > 0, 2, np.where(n_upd > 0, 1, 0)))

    # longest silence during the repair: gaps between start, updates, finish
    has_rep = (st != _NAT) & (fin != _NAT)
    sel = ok & upd & has_rep[evs] & (t >= st[evs]) & (t <= fin[evs])
    rv = np.flatnonzero(has_rep)
    v_all = np.concatenate([rv, ev[sel], rv])
    t_all = np.concatenate([st[rv], t[sel], fin[rv]])
    order = np.lexsort((t_all, v_all))
    v_all, t_all = v_all[order], t_all[order]
    silence = np.full(nv, np.nan)
    if len(v_all) > 1:
        gaps = np.diff(t_all).astype(float)
        gaps[v_all[1:] != v_all[:-1]] = -np.inf
        starts = np.flatnonzero(np.r_[True, v_all[1:] != v_all[:-1]])
        # each group has >= 2 points (start and finish): its gaps are gaps[start : end-1]
        g = np.maximum.reduceat(np.r_[gaps, -np.inf], starts)
        silence[v_all[starts]] = g / _US_PER_MIN
    return pd.DataFrame({
        "visit_id": visits["visit_id"].to_numpy(),
        "n_proactive_updates": n_upd.astype(np.int64),
        "n_inprogress_updates": n_inp.astype(np.int64),
        "has_photo_update": n_photo > 0,
        "tier": pd.Categorical.from_codes(tier, dtype=catalog.TIER_DTYPE),
        "longest_silence_minutes": silence,
        "n_inquiries": n_inq.astype(np.int64),
    })


def _minutes(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 60.0).to_numpy(dtype=float, na_value=np.nan)


def _enrich_visits(visits: pd.DataFrame, events: pd.DataFrame, event_visit: np.ndarray,
                   surveys: pd.DataFrame, complaints: pd.DataFrame, centers: pd.DataFrame) -> pd.DataFrame:
    v = visits
    local = v["arrived_at"].dt.tz_localize(None)
    ym = (local.dt.year * 12 + local.dt.month - 1).to_numpy()
    uniq, inv = np.unique(ym, return_inverse=True)
    labels = np.array([f"{u // 12:04d}-{u % 12 + 1:02d}" for u in uniq], dtype=object)
    v["month"] = pd.Series(labels[inv] if len(uniq) else np.array([], dtype=object), dtype="str")
    v["wait_minutes"] = _minutes(v["started_at"], v["arrived_at"])
    v["repair_minutes"] = _minutes(v["finished_at"], v["started_at"])
    v["visit_minutes"] = _minutes(v["delivered_at"], v["arrived_at"])
    feats = visit_features(v, events, event_visit)
    for c in feats.columns[1:]:
        v[c] = feats[c].to_numpy() if c != "tier" else feats[c]
    since = dict(zip(centers["center_id"], pd.to_datetime(centers["realtime_since"])))
    since_v = pd.to_datetime(v["center"].map(since))
    v["realtime_live"] = (since_v.notna() & (local.dt.normalize() >= since_v)).to_numpy(dtype=bool)
    vids = _arrow(v["visit_id"])
    spos = pc.fill_null(pc.index_in(vids, value_set=_arrow(surveys["visit_id"])), -1).to_numpy(
        zero_copy_only=False)
    has = spos >= 0
    take = np.where(has, spos, 0)
    rid = surveys["response_id"].to_numpy(dtype=object) if len(surveys) else np.array([None], dtype=object)
    v["response_id"] = pd.Series(np.where(has, rid[take], None), dtype="str")
    ltr = surveys["ltr"].to_numpy(dtype=float, na_value=np.nan) if len(surveys) else np.array([np.nan])
    v["ltr"] = pd.array(np.where(has, ltr[take], np.nan), dtype="Int64")
    v["nps_group"] = catalog.nps_group(v["ltr"].astype("float"))
    anx = surveys["anxiety"].to_numpy(dtype=float) if len(surveys) else np.array([np.nan])
    v["anxiety"] = np.where(has, anx[take], np.nan)
    cpos = pc.fill_null(pc.index_in(_arrow(complaints["visit_id"]), value_set=vids), -1).to_numpy(
        zero_copy_only=False)
    v["n_complaints"] = np.bincount(cpos[cpos >= 0], minlength=len(v)).astype(np.int64)
    v["complained"] = v["n_complaints"] > 0
    return v


def scores_long(surveys: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Touchpoint scores in long form: one row per (response, score point) with a valid score.

    >>> scores_long(surveys, visits).columns.tolist()[:4]  # doctest: +SKIP
    ['response_id', 'visit_id', 'point', 'stage']
    """
    # one row per (response, point) with a score, by response then point (row-major order)
    values = np.column_stack([surveys[p.column].to_numpy(dtype=float, na_value=np.nan)
                              for p in catalog.SCORE_POINTS]).reshape(len(surveys), len(catalog.SCORE_POINTS))
    rows, pidx = np.nonzero(~np.isnan(values))
    score = values[rows, pidx].astype(np.int64)
    del values
    vinfo = visits.set_index("visit_id")
    take = pa.array(rows)
    vis = _arrow(surveys["visit_id"]).take(take)
    stage_codes = np.array([catalog.STAGE_ORDER.index(p.stage) for p in catalog.SCORE_POINTS])
    out = pd.DataFrame({
        "response_id": pd.Series(pd.array(_arrow(surveys["response_id"]).take(take), dtype="str")),
        "visit_id": pd.Series(pd.array(vis, dtype="str")),
        "point": pd.Categorical.from_codes(pidx, dtype=catalog.SCORE_POINT_DTYPE),
        "stage": pd.Categorical.from_codes(stage_codes[pidx], dtype=catalog.STAGE_DTYPE),
        "score": score,
    })
    vpos = pc.fill_null(pc.index_in(vis, value_set=_arrow(visits["visit_id"])), -1).to_numpy(
        zero_copy_only=False).astype(np.int64)
    for c in ("center", "scenario", "tier", "month"):
        col = vinfo[c]
        out[c] = col.iloc[np.where(vpos < 0, 0, vpos)].reset_index(drop=True) if len(col) else col.reindex(
            vis.to_pandas())
        if (vpos < 0).any():
            out.loc[vpos < 0, c] = None
    out["ltr"] = pd.array(surveys["ltr"].to_numpy()[rows], dtype="Int64")
    return out


# ============================================================================ fingerprint
def raw_files(raw_dir: str | Path) -> list[Path]:
    """The files of ``raw_dir`` that belong to the raw tables (others are ignored), plus the
    source profile ``sources.yaml``: the files it names count, so that editing the profile or
    one of its files rebuilds the processed data.

    >>> [p.name for p in raw_files("data/raw")][:1]  # doctest: +SKIP
    ['centers.csv']
    """
    from cxlib import sources

    raw_dir = Path(raw_dir)
    out: list[Path] = []
    try:
        _, files = sources.resolve(raw_dir, check_copies=False)
        for paths in files.values():
            out.extend(paths)
    except DataError:
        # a broken profile is reported by the cleaning itself; fingerprint what is there
        for t in catalog.TABLES:
            out.extend(sources.table_files(raw_dir, sources.SourceSpec(t), check_copies=False))
    if (raw_dir / sources.SOURCES_FILE).is_file():
        out.append(raw_dir / sources.SOURCES_FILE)
    return sorted(set(out), key=lambda p: p.name)


def fingerprint(raw_dir: str | Path, tz: str = DEFAULT_TZ) -> tuple[str, list[dict]]:
    """Fingerprint of the raw data: file names, sizes and a hash of every file's bytes (always
    read: a file changed with the same size and modification time is caught), the time zone
    and the cleaning version. Returns ``(hex digest, per-file list)``.

    The hash is xxHash's XXH3-128, which reads a gigabyte in well under a second from the page
    cache (the disk is the limit) and releases the GIL, so it runs beside the cleaning.

    >>> fingerprint("data/raw")[0][:8]  # doctest: +SKIP
    """
    files = []
    total = xxhash.xxh3_128(f"cx-clean-v{CLEAN_VERSION}|tz={tz}".encode())
    for p in raw_files(raw_dir):
        h = xxhash.xxh3_128()
        with open(p, "rb") as fh:
            size = 0
            while chunk := fh.read(1 << 22):
                h.update(chunk)
                size += len(chunk)
        entry = {"name": p.name, "size": size, "xxh3_128": h.hexdigest()}
        files.append(entry)
        total.update(f"|{entry['name']}|{entry['size']}|{entry['xxh3_128']}".encode())
    return total.hexdigest(), files


class _Background(threading.Thread):
    """Compute the fingerprint while the tables are read (xxhash releases the GIL)."""

    def __init__(self, raw_dir: Path, tz: str) -> None:
        super().__init__(daemon=True)
        self.raw_dir, self.tz = raw_dir, tz
        self.value: tuple[str, list[dict]] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = fingerprint(self.raw_dir, self.tz)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc

    def result(self) -> tuple[str, list[dict]]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


# ================================================================================ clean
@dataclass
class CleanResult:
    """What :func:`clean` did: where, whether it rebuilt, the fingerprint and the quality report."""

    processed_dir: Path
    rebuilt: bool
    fingerprint: str
    quality: dict
    seconds: float = 0.0


#: seconds a cleaning run or loader waits for another one holding the processed folder's lock
LOCK_WAIT_S = 900.0
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
    return folders.FolderLock(processed_dir / folders.LOCK_NAME, "cleaning run (cx clean or a notebook's loader)",
                              wait=LOCK_WAIT_S, shared=shared, read_only_ok=True)


def reading(processed_dir: str | Path) -> folders.FolderLock:
    """The processed folder's lock held shared: no cleaning run commits files while it is held.

    >>> with reading("data/processed"):  # doctest: +SKIP
    ...     centers = pd.read_parquet("data/processed/centers.parquet")
    """
    return _lock(Path(processed_dir), shared=True)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    try:
        pq.write_table(table, path, compression="snappy")
    except OSError as exc:
        if exc.filename:
            raise
        # Arrow's I/O errors name no file: name it, for the error line
        code = exc.errno or next((int(m) for m in re.findall(r"\[errno (\d+)\]", str(exc), re.I)), None)
        raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from exc


class _Writer(threading.Thread):
    """Write one table to Parquet in the background (Arrow releases the GIL while it writes)."""

    def __init__(self, df: pd.DataFrame, path: Path) -> None:
        super().__init__(daemon=True)
        self.df, self.path = df, path
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            _write_parquet(self.df, self.path)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc
        finally:
            self.df = None

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


#: tables the cleaning step cannot do without; the others are optional
REQUIRED_TABLES = ("visits", "surveys")


def _derived_centers(raw_visits: pd.DataFrame) -> _Centers:
    """The centers as the visits name them, when no centers table was given: one center per
    distinct spelling (compared without case, width and spaces), no city, no rollout date.

    Each id is checked like an id of a centers table (:func:`cxlib.safe.check_center_id`, a
    report folder of its own); an error names the first visits row that spells it."""
    spelled = pd.Series(_strip(raw_visits["center"]).to_pandas(), dtype="str").dropna().drop_duplicates()
    files = raw_visits[io.SOURCE_FILE].astype(str).to_numpy()
    rows = raw_visits[io.SOURCE_ROW].to_numpy()
    seen: dict[str, str] = {}
    first: dict[str, tuple[str, int]] = {}
    for i, v in zip(spelled.index, spelled.tolist()):
        first[v] = (files[i], int(rows[i]))
        key = _norm_key(v)
        if key not in seen:
            seen[key] = v
            safe.check_center_id(v, file=files[i], row=int(rows[i]), column="center")
    ids = sorted(seen.values())
    safe.center_folders(ids, where=[first[c] for c in ids])
    frame = pd.DataFrame({
        "center_id": pd.Series(ids, dtype="str"),
        "name_zh": pd.Series(ids, dtype="str"),
        "name_en": pd.Series([None] * len(ids), dtype="str"),
        "city": pd.Series([None] * len(ids), dtype="str"),
        "aliases": pd.Series([None] * len(ids), dtype="str"),
        "realtime_since": pd.Series([None] * len(ids), dtype=object),
    })
    return _Centers(frame, dict(seen))


def _carry_extras(frame: pd.DataFrame, raw: pd.DataFrame, audit: _Audit) -> list[dict]:
    """Append the extra raw columns (``raw.attrs["extra_columns"]``) of the kept rows to ``frame``,
    personal data masked like free text; returns their descriptions for quality.json."""
    extras = [e for e in raw.attrs.get("extra_columns", []) if e["name"] in raw.columns]
    k = np.flatnonzero(audit.kept)
    masked_any = np.zeros(audit.n, dtype=bool)
    for e in extras:
        values, masked = _mask_column(_strip(raw[e["name"]].iloc[k]))
        frame[e["name"]] = pd.Series(values.to_numpy(), index=frame.index, dtype="str")
        masked_any[k[masked]] = True
    if masked_any.any():
        audit.repair(masked_any, "pii_masked")
    return extras


def _in_tz(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Every timezone-aware column of ``frame`` shown in ``tz``."""
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.DatetimeTZDtype) and str(frame[c].dtype.tz) != tz:
            frame[c] = frame[c].dt.tz_convert(tz)
    return frame


def _missing_tables(src, files: dict[str, list[Path]]) -> DataError | None:
    """One error naming every required table that has no file."""
    missing = [t for t in REQUIRED_TABLES if not files[t]]
    if not missing:
        return None
    where = str(src.raw_dir)
    parts = []
    for t in missing:
        spec = src.tables[t]
        parts.append(f"{t} (files {', '.join(spec.files)})" if spec.files else
                     f"{t} (no {t}.csv, {t}.xlsx, {t}.xls or {t}.parquet, or {t}_*.csv …)")
    return DataError(f"required table{'s' if len(missing) > 1 else ''} missing: {'; '.join(parts)} in {where}; "
                     f"a sources.yaml can name other files", file=where)


def _build(raw_dir: Path, out: Path, tz: str, fp_thread: _Background, links: dict[str, str]) -> dict:
    """Clean every table of ``raw_dir`` into ``out`` (an empty folder); return the quality dict.

    ``links`` (the allowed symbolic links to outside the raw folder) is recorded in the manifest."""
    from cxlib import sources as _sources

    audits: list[_Audit] = []
    quarantine_parts: list[pd.DataFrame] = []
    src, files = _sources.resolve(raw_dir)
    err = _missing_tables(src, files)
    if err is not None:
        raise err
    given = {t: bool(files[t]) for t in catalog.TABLES}
    extra_columns: dict[str, list[dict]] = {}

    def done(audit: _Audit) -> None:
        audits.append(audit)
        quarantine_parts.append(audit.quarantine_frame())
        audit.raw = None  # free the raw text

    def raw_table(t: str) -> pd.DataFrame:
        return io.read_table(raw_dir, t, src.tables[t], files[t]) if given[t] else io.empty_table(t)

    def opts(t: str):
        spec = src.tables[t]
        return spec.tz or tz, timestamp_options(spec.date_formats, spec.dayfirst)

    raw_visits = raw_table("visits")
    if given["centers"]:
        raw = raw_table("centers")
        ttz, ctx = opts("centers")
        with ctx:
            centers, a = _clean_centers(raw, ttz)
        extra_columns["centers"] = _carry_extras(centers.frame, raw, a)
        del raw
    else:
        centers, a = _derived_centers(raw_visits), _Audit("centers", io.empty_table("centers"))
        extra_columns["centers"] = []
    done(a)
    ttz, ctx = opts("visits")
    with ctx:
        visits, a, vid_all = _clean_visits(raw_visits, centers, ttz)
    visits = _in_tz(visits, tz)
    # the visits' extra columns go after the derived ones (added below)
    visit_extras = pd.DataFrame(index=visits.index)
    extra_columns["visits"] = _carry_extras(visit_extras, raw_visits, a)
    raw_visit_ids = pc.unique(pc.drop_null(vid_all))
    kept_ids = _arrow(visits["visit_id"])
    done(a)
    del vid_all, raw_visits
    linked = {}
    for t, func in (("surveys", _clean_surveys), ("complaints", _clean_complaints)):
        raw = raw_table(t)
        ttz, ctx = opts(t)
        with ctx:
            frame, a = func(raw, raw_visit_ids, kept_ids, ttz)
        linked[t] = _in_tz(frame, tz)
        extra_columns[t] = _carry_extras(linked[t], raw, a)
        done(a)
        del raw
    surveys, complaints = linked["surveys"], linked["complaints"]
    # the journey points the surveys answer (an export with only the LTR question answers none)
    score_columns = [c for c in catalog.SCORE_COLUMNS if c in surveys.columns and bool(surveys[c].notna().any())]
    ttz, ctx = opts("touchpoints")
    with ctx:
        events, a, event_visit = _clean_events(raw_dir, raw_visit_ids, kept_ids, ttz, files["touchpoints"],
                                               src.tables["touchpoints"])
    extra_columns["touchpoints"] = events.attrs.pop("extra_columns", [])
    events = _in_tz(events, tz)
    done(a)

    visits = _enrich_visits(visits, events, event_visit, surveys, complaints, centers.frame)
    for c in visit_extras.columns:
        visits[c] = visit_extras[c].to_numpy()
    del event_visit, visit_extras
    # the event log is the largest file: write it on the other core while the rest is built
    events_writer = _Writer(events, out / "events.parquet")
    events_writer.start()
    del events
    try:
        scores = scores_long(surveys, visits)
        _write_parquet(visits, out / "visits.parquet")
        _write_parquet(scores, out / "scores.parquet")
        _write_parquet(surveys, out / "surveys.parquet")
        _write_parquet(complaints, out / "complaints.parquet")
        _write_parquet(centers.frame, out / "centers.parquet")
        order = {t: i for i, t in enumerate(catalog.TABLE_ORDER)}
        quarantine = pd.concat(quarantine_parts, ignore_index=True)
        if len(quarantine):
            quarantine = quarantine.assign(_t=quarantine["table"].map(order)).sort_values(
                ["_t", "source_file", "source_row"], kind="stable").drop(columns="_t").reset_index(drop=True)
        for c in ("table", "source_file", "rule", "reason", "raw"):
            quarantine[c] = quarantine[c].astype("str")
        quarantine["source_row"] = quarantine["source_row"].astype("int64")
        _write_parquet(quarantine, out / "quarantine.parquet")
    except BaseException:
        events_writer.join()  # never leave a writer behind in a folder about to be removed
        raise
    events_writer.result()

    tables = {a.table: a.quality() for a in audits}
    tables = {t: tables[t] for t in catalog.TABLE_ORDER}
    totals = {k: sum(q[k] for q in tables.values()) for k in ("read", "kept", "repaired", "quarantined")}
    fp, fp_files = fp_thread.result()
    for t, q in tables.items():
        q["given"] = given[t]
        q["files"] = [p.name for p in files[t]]
        if t == "centers" and not given[t]:
            q["derived"] = True
    tables["surveys"]["score_columns"] = score_columns
    quality = {"tz": tz, "fingerprint": fp, "tables": tables, "totals": totals,
               "extra_columns": {t: extra_columns.get(t, []) for t in catalog.TABLE_ORDER}}
    (out / "quality.json").write_text(json.dumps(quality, indent=2, ensure_ascii=False), encoding="utf-8")
    manifest = {"fingerprint": fp, "tz": tz, "clean_version": CLEAN_VERSION, "raw_files": fp_files,
                "outside_links": links, "outputs": {f: (out / f).stat().st_size for f in OUTPUT_FILES[:-1]}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return quality


def _fs_error(exc: OSError, raw_dir: Path, processed_dir: Path) -> DataError:
    """One error line for a file-system error of a cleaning run (full disk, read-only, permissions)."""
    name = exc.filename
    if name and folders.is_within(Path(name), raw_dir):
        return DataError(f"cannot read the file: {exc.strerror or exc}", file=str(name))
    return folders.disk_error(exc, processed_dir, "cannot write the processed data",
                              hint="the processed data there are as they were")


def clean(raw_dir: str | Path, processed_dir: str | Path, tz: str = DEFAULT_TZ, force: bool = False,
          allow_outside_links: bool = False) -> CleanResult:
    """Clean the raw tables in ``raw_dir`` into Parquet files in ``processed_dir``.

    Skips the work when ``processed_dir/manifest.json`` already has the fingerprint of the
    current raw files and ``tz`` (unless ``force``). Refuses folder mistakes first (see
    :mod:`cxlib.folders`) and symbolic links in ``raw_dir`` to files or folders outside it
    (unless ``allow_outside_links``; links allowed by an earlier run are recorded in the
    manifest and accepted with the same target). Holds the processed folder's lock, builds in
    a hidden folder inside it and commits crash-safely; on a :class:`DataError` (bad input, full
    disk, read-only folder) the processed data stay as they were. Files of the analyst in
    ``processed_dir`` are never moved.

    >>> clean("data/raw", "data/processed").rebuilt  # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    folders.check_clean_folders(raw_dir, processed_dir, _MANIFEST_KEYS, OUTPUT_FILES)
    try:
        _dt_tz = pd.Timestamp("2026-01-01").tz_localize(tz)
    except Exception:
        raise DataError(f"unknown time zone {tz!r}; use an IANA name such as {DEFAULT_TZ}") from None
    del _dt_tz
    created = not processed_dir.exists() and not processed_dir.is_symlink()
    try:
        processed_dir.mkdir(parents=True, exist_ok=True)
        with _lock(processed_dir) as lock:
            if lock.writable:
                folders.recover(processed_dir, OUTPUT_FILES)
            manifest = _read_manifest(processed_dir)
            links = folders.check_raw_links(raw_dir, allow_outside_links, (manifest or {}).get("outside_links"))
            if not force and manifest and _is_complete(processed_dir, manifest):
                fp, _ = fingerprint(raw_dir, tz)
                if manifest.get("fingerprint") == fp:
                    quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
                    return CleanResult(processed_dir, False, fp, quality, time.perf_counter() - started)
            if not lock.writable:
                raise FolderError("the processed folder is read-only, and its data are missing or older than the raw "
                                "data: give a folder that can be written", file=str(processed_dir))
            fp_thread = _Background(raw_dir, tz)
            fp_thread.start()
            build = None
            try:
                build = folders.new_build_folder(processed_dir)
                quality = _build(raw_dir, build, tz, fp_thread, links)
                folders.commit(build, processed_dir, list(OUTPUT_FILES))
            except BaseException:
                fp_thread.join()
                if build is not None and not folders.pending_commit(processed_dir):
                    shutil.rmtree(build, ignore_errors=True)
                raise
    except OSError as exc:
        _remove_if_only_lock(processed_dir, created)
        raise _fs_error(exc, raw_dir, processed_dir) from None
    except BaseException:
        _remove_if_only_lock(processed_dir, created)
        raise
    return CleanResult(processed_dir, True, quality["fingerprint"], quality, time.perf_counter() - started)


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


def summary_line(result: CleanResult) -> str:
    """One line for the command line: what was kept, repaired and quarantined, and where.

    >>> summary_line(result)  # doctest: +SKIP
    'cleaned 6,000 visits: 5,890 kept, 412 rows repaired, 167 quarantined -> data/processed (2.1 s)'
    """
    tot = result.quality.get("totals", {})
    v = result.quality.get("tables", {}).get("visits", {})
    body = (f"{tot.get('read', 0):,} rows read, {tot.get('kept', 0):,} kept "
            f"({tot.get('repaired', 0):,} repaired), {tot.get('quarantined', 0):,} quarantined; "
            f"visits {v.get('kept', 0):,} of {v.get('read', 0):,} kept")
    if result.rebuilt:
        return f"cleaned: {body} -> {result.processed_dir} ({result.seconds:.1f} s)"
    return f"up to date (raw data unchanged, use --force to rebuild): {body} in {result.processed_dir}"


# ================================================================================= load
@dataclass
class ProcessedData:
    """The processed tables, as read by every analysis notebook."""

    visits: pd.DataFrame
    scores: pd.DataFrame
    events: pd.DataFrame
    surveys: pd.DataFrame
    complaints: pd.DataFrame
    centers: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict = field(default_factory=dict)
    #: table of the data contract -> whether the raw folder held it (``quality.json``
    #: ``tables.<t>.given``; True when absent, as in processed data of older versions), and
    #: ``"scores"``: whether the surveys answered any journey point (``score_*`` column)
    given: dict[str, bool] = field(default_factory=lambda: {t: True for t in (*catalog.TABLE_ORDER, "scores")})

    def segment_columns(self) -> list[str]:
        """The visits' columns a report can be segmented by (see :func:`segment_columns`).

        >>> data.segment_columns()[:3]  # doctest: +SKIP
        ['center', 'scenario', 'vehicle_model']
        """
        return segment_columns(self.visits, self.given)

    def check_segment(self, segment: str) -> str:
        """``segment`` when it is one of :meth:`segment_columns`, else a :class:`DataError`
        listing them (see :func:`check_segment`).

        >>> data.check_segment("vehicle_model")  # doctest: +SKIP
        'vehicle_model'
        """
        return check_segment(self.visits, segment, self.given)

    def sizes(self) -> pd.DataFrame:
        """Rows per processed table, in the order visits, scores, events, surveys, complaints,
        centers, quarantine.

        >>> data.sizes().set_index("table").loc["visits", "rows"]  # doctest: +SKIP
        5940
        """
        return pd.DataFrame({"table": pd.Series(OUTPUT_TABLES, dtype="str"),
                             "rows": np.array([len(getattr(self, t)) for t in OUTPUT_TABLES], dtype=np.int64)})

    def subset(self, center: str = "all", period_start: str | None = None, period_end: str | None = None,
               scenario: str = "all") -> ProcessedData:
        """The same data restricted to the matching visits (every table filtered to them).

        ``period_start`` / ``period_end`` are months ``'YYYY-MM'`` (inclusive) of the visit's
        arrival. ``scenario`` is a scenario code or its Chinese or English name (``维修`` = ``repair``).
        Quarantine and quality stay whole.

        >>> data.subset(center="SH-JQ", period_start="2026-07").visits["center"].unique()  # doctest: +SKIP
        """
        v = self.visits
        mask = np.ones(len(v), dtype=bool)
        if center != "all":
            valid = sorted(self.centers["center_id"].astype(str))
            if center not in valid:
                raise DataError(f"unknown center {center!r}; valid: all, {', '.join(valid)}", column="center")
            mask &= (v["center"] == center).to_numpy()
        if scenario != "all":
            spell = {k.lower(): sc.code for sc in catalog.SCENARIOS for k in (sc.code, sc.zh, sc.en)}
            scenario = spell.get(str(scenario).strip().lower(), scenario)
            if scenario not in catalog.SCENARIO_ORDER:
                raise DataError(f"unknown scenario {scenario!r}; valid: all, {', '.join(catalog.SCENARIO_ORDER)}",
                                column="scenario")
            mask &= (v["scenario"].astype(str) == scenario).to_numpy()
        for name, p in (("period_start", period_start), ("period_end", period_end)):
            if p is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(p)):
                raise DataError(f"{name} must be a month 'YYYY-MM', got {p!r}", column="month")
        if period_start is not None:
            mask &= (v["month"] >= str(period_start)).to_numpy()
        if period_end is not None:
            mask &= (v["month"] <= str(period_end)).to_numpy()
        visits = v[mask].reset_index(drop=True)
        keep = set(visits["visit_id"])

        def f(df: pd.DataFrame) -> pd.DataFrame:
            return df[df["visit_id"].isin(keep).to_numpy()].reset_index(drop=True)

        centers = self.centers if center == "all" else self.centers[
            (self.centers["center_id"] == center).to_numpy()].reset_index(drop=True)
        return replace(self, visits=visits, scores=f(self.scores), events=f(self.events),
                       surveys=f(self.surveys), complaints=f(self.complaints), centers=centers,
                       given=dict(self.given))


def read_processed(processed_dir: str | Path) -> ProcessedData:
    """Read the processed Parquet tables and ``quality.json`` (no rebuild).

    Completes a commit that a killed cleaning run left pending, then reads holding the
    folder's lock shared, so that a cleaning run never swaps files under it.

    >>> read_processed("data/processed").visits.shape  # doctest: +SKIP
    """
    processed_dir = Path(processed_dir)
    if not processed_dir.is_dir():
        raise DataError("processed data not found; run `cx clean`", file=str(processed_dir))
    try:
        if folders.pending_commit(processed_dir):
            with _lock(processed_dir) as lock:
                if lock.writable:
                    folders.recover(processed_dir, OUTPUT_FILES)
        with reading(processed_dir):
            why = _incomplete(processed_dir)
            if why is not None:
                raise DataError(f"processed data incomplete ({why}); run `cx clean`", file=str(processed_dir))
            tables = {t: pd.read_parquet(processed_dir / f"{t}.parquet") for t in OUTPUT_TABLES}
            quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise folders.disk_error(exc, processed_dir, "cannot read the processed data") from None
    given = given_tables(quality)
    if "score_columns" not in (quality.get("tables", {}).get("surveys") or {}):
        given["scores"] = given["surveys"] and len(tables["scores"]) > 0  # processed by an older version
    for name, frame in tables.items():
        tables[name] = unknown_when_not_given(frame, given)
    return ProcessedData(**tables, quality=quality, given=given)


#: Columns of the processed tables derived from an optional raw table: unknown (missing), not
#: zero, when that table was not given.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "touchpoints": ("n_proactive_updates", "n_inprogress_updates", "has_photo_update", "tier",
                    "longest_silence_minutes", "n_inquiries"),
    "complaints": ("n_complaints", "complained"),
}
#: Visits columns that are never a segment: identifiers and the LTR answer itself.
_NOT_SEGMENTS = ("visit_id", "customer_id", "response_id", "nps_group")


def given_tables(quality: dict) -> dict[str, bool]:
    """Table -> whether the raw folder held it, from ``quality.json`` (True when not stated),
    plus ``"scores"``: whether the surveys answered any journey point (``tables.surveys.
    score_columns`` not empty; True when not stated).

        >>> given_tables({"tables": {"complaints": {"given": False}}})["complaints"], given_tables({})["visits"]
        (False, True)
        >>> given_tables({"tables": {"surveys": {"given": True, "score_columns": []}}})["scores"]
        False
    """
    tables = quality.get("tables", {}) if isinstance(quality, dict) else {}
    given = {t: bool((tables.get(t) or {}).get("given", True)) for t in (*catalog.TABLE_ORDER, *tables)}
    surveys = tables.get("surveys") or {}
    given["scores"] = given["surveys"] and bool(surveys.get("score_columns", True))
    return given


def unknown_when_not_given(frame: pd.DataFrame, given: dict[str, bool]) -> pd.DataFrame:
    """``frame`` with the columns of :data:`DERIVED_FROM` set to missing for each table not given.

    A visit of a raw folder without a touchpoint log has no known number of updates and no
    tier; without a complaints table no known complaint count. Zeros there would read as
    "no update" tiers and 0 % complaints.

        >>> v = pd.DataFrame({"n_complaints": [0, 0], "complained": [False, False]})
        >>> unknown_when_not_given(v, {"complaints": False})["complained"].isna().all()
        np.True_
    """
    out = frame
    for table, cols in DERIVED_FROM.items():
        if given.get(table, True):
            continue
        for c in cols:
            if c not in out.columns:
                continue
            if out is frame:
                out = frame.copy()
            col = out[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                out[c] = pd.Categorical([None] * len(out), dtype=col.dtype)
            elif pd.api.types.is_bool_dtype(col.dtype):
                out[c] = pd.array([pd.NA] * len(out), dtype="boolean")
            elif pd.api.types.is_integer_dtype(col.dtype):
                out[c] = pd.array([pd.NA] * len(out), dtype="Int64")
            else:
                out[c] = np.full(len(out), np.nan)
    return out


def segment_columns(visits: pd.DataFrame, given: dict[str, bool] | None = None) -> list[str]:
    """The visits' columns a report can be segmented by: text, categorical and yes/no columns
    (center, scenario, vehicle model, carried extra columns of the raw files, …), without
    identifiers and without the columns of a table that was not given.

        >>> segment_columns(pd.DataFrame({"visit_id": ["V1"], "vehicle_model": ["ES6"], "ltr": [9]}))
        ['vehicle_model']
    """
    absent = {c for t, cols in DERIVED_FROM.items() if not (given or {}).get(t, True) for c in cols}
    out = []
    for c in visits.columns:
        dt = visits[c].dtype
        if c in _NOT_SEGMENTS or c in absent:
            continue
        if (isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt)
                or pd.api.types.is_string_dtype(dt) or dt == object):
            out.append(str(c))
    return out


def check_segment(visits: pd.DataFrame, segment: str, given: dict[str, bool] | None = None) -> str:
    """``segment`` when the visits can be segmented by it, else one :class:`DataError` that
    lists the columns that can.

        >>> check_segment(pd.DataFrame({"advisor": ["王"]}), "advisor")
        'advisor'
    """
    valid = segment_columns(visits, given)
    if not isinstance(segment, str) or segment not in valid:
        raise DataError(f"unknown segment column {segment!r}; available: {', '.join(valid)}", column="segment")
    return segment


def load(processed_dir: str | Path = "../data/processed", raw_dir: str | Path | None = "../data/raw",
         tz: str = DEFAULT_TZ, allow_outside_links: bool = False) -> ProcessedData:
    """Load the processed data, (re)building it from ``raw_dir`` first when missing or stale.

    With ``raw_dir=None`` the processed folder is read as it is. The same folder checks, lock
    and crash-safe commit as :func:`clean` apply (``allow_outside_links`` as there).

    >>> data = load("../data/processed", raw_dir="../data/raw")  # doctest: +SKIP
    """
    processed_dir = Path(processed_dir)
    if raw_dir is not None:
        raw_dir = Path(raw_dir)
        if raw_dir.is_dir() or not _is_complete(processed_dir):
            clean(raw_dir, processed_dir, tz=tz, allow_outside_links=allow_outside_links)
    return read_processed(processed_dir)


# ============================================================================ reporting
def quality_table(quality: dict, lang: catalog.Lang = "both") -> pd.DataFrame:
    """One row per table x rule: action, rows touched, rule description (bilingual by default).

    >>> quality_table(data.quality, lang="en").columns.tolist()  # doctest: +SKIP
    ['table', 'rule', 'action', 'rows', 'description']
    """
    rows = []
    for t, q in quality.get("tables", {}).items():
        for code, r in q.get("rules", {}).items():
            rows.append((t, code, r["action"], int(r["rows"]), catalog.label(code, lang)))
    return pd.DataFrame(rows, columns=["table", "rule", "action", "rows", "description"]).astype(
        {"table": "str", "rule": "str", "action": "str", "description": "str", "rows": "int64"})


def sources_overview(quality: dict) -> pd.DataFrame:
    """Per table: whether it was given (or derived), its files and the extra columns carried
    (processed name and raw header), for the cleaning notebook. Old processed data without
    these keys counts as given.

    >>> sources_overview(data.quality).columns.tolist()  # doctest: +SKIP
    ['table', 'given', 'files', 'extra_columns']
    """
    rows = []
    extras = quality.get("extra_columns", {})
    for t, q in quality.get("tables", {}).items():
        given = "derived from visits" if q.get("derived") else ("yes" if q.get("given", True) else "not provided")
        cols = ", ".join(e["name"] if e["name"] == e["header"] else f"{e['name']} ({e['header']})"
                         for e in extras.get(t, []))
        rows.append((t, given, ", ".join(q.get("files", [])), cols))
    return pd.DataFrame(rows, columns=["table", "given", "files", "extra_columns"]).astype("str")


def quality_overview(quality: dict) -> pd.DataFrame:
    """Per table: rows read, kept, repaired and quarantined, plus a total row.

    >>> quality_overview(data.quality).columns.tolist()  # doctest: +SKIP
    ['table', 'read', 'kept', 'repaired', 'quarantined']
    """
    cols = ["read", "kept", "repaired", "quarantined"]
    rows = [(t, *(int(q[c]) for c in cols)) for t, q in quality.get("tables", {}).items()]
    tot = quality.get("totals") or {c: sum(r[i + 1] for r in rows) for i, c in enumerate(cols)}
    rows.append(("total", *(int(tot[c]) for c in cols)))
    return pd.DataFrame(rows, columns=["table", *cols]).astype({"table": "str"})


def quarantine_examples(quarantine: pd.DataFrame, n: int = 2) -> pd.DataFrame:
    """Up to ``n`` example rows per (table, rule), in table order, rule order, file and row.

    >>> quarantine_examples(data.quarantine, n=1)[["table", "rule", "source_row"]]  # doctest: +SKIP
    """
    if quarantine.empty:
        return quarantine.copy()
    q = quarantine.assign(
        _t=quarantine["table"].map({t: i for i, t in enumerate(catalog.TABLE_ORDER)}).fillna(99),
        _r=quarantine["rule"].map(_RULE_ORDER).fillna(99))
    q = q.sort_values(["_t", "_r", "source_file", "source_row"], kind="stable")
    return q.groupby(["_t", "_r"], sort=False).head(n).drop(columns=["_t", "_r"]).reset_index(drop=True)


__all__ = ["CleanResult", "ProcessedData", "clean", "load", "read_processed", "reading", "summary_line", "quality_table",
           "sources_overview", "timestamp_options", "REQUIRED_TABLES",
           "quality_overview", "quarantine_examples", "parse_timestamps", "mask_pii", "visit_features",
           "scores_long", "fingerprint", "raw_files", "DEFAULT_TZ", "CLEAN_VERSION", "DERIVED_FROM", "given_tables",
           "unknown_when_not_given", "segment_columns", "check_segment"]
