"""Timestamps of the data contract: ISO 8601 read in Arrow, the rare shapes value by value."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib.catalog import DEFAULT_TZ
from cxlib.clean.values import _NAT, _TS_NAIVE, _TS_UTC, _US_PER_MIN, _map_unique, _np_bool, _series_ts, _strip

_FALLBACK_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)
#: day-month-year and month-day-year dates (10/3/2026) are read only when a source profile
#: declares which comes first (``dayfirst``): the same text is 10 March or 3 October
_DMY_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y")
_MDY_FORMATS = ("%m-%d-%Y %H:%M:%S", "%m-%d-%Y %H:%M", "%m-%d-%Y")
#: (extra strptime formats, dayfirst) of the table being cleaned, from its source profile
_TS_OPTIONS: contextvars.ContextVar[tuple[tuple[str, ...], bool | None]] = contextvars.ContextVar(
    "cx_ts_options", default=((), None)
)


@contextlib.contextmanager
def timestamp_options(*, formats: tuple[str, ...] = (), dayfirst: bool | None = None):
    """Within the block, timestamps are also read with ``formats`` (strptime, tried first on
    the text as written) and, when ``dayfirst`` is declared, as day-month-year (True) or
    month-day-year (False) dates.

    >>> with timestamp_options(formats=("%Y.%m.%d %Hh%M",), dayfirst=True):
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
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


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
    written = _map_unique(pc.utf8_slice_codeunits(texts, 19), _suffix_offset_us, out_dtype=np.int64, missing=_NAT)
    strict = written != _NAT
    if strict.any():
        out[strict] = written[strict] != _zone_offset_us(utc[strict], tz)
    other = np.flatnonzero(~strict)
    if len(other):
        sub = texts.take(pa.array(other))
        wall = pc.strptime(
            pc.replace_substring(pc.utf8_slice_codeunits(sub, 0, 19), " ", "T"),
            format="%Y-%m-%dT%H:%M:%S",
            unit="us",
            error_is_null=True,
        )
        aware = pa.array(utc[other], type=pa.int64()).cast(_TS_UTC)
        local_wall = pc.local_timestamp(aware.cast(pa.timestamp("us", tz=tz)))
        same = _np_bool(pc.equal(pc.floor_temporal(wall, unit="second"), pc.floor_temporal(local_wall, unit="second")))
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
    naive = pc.coalesce(
        naive, pc.if_else(pc.equal(pc.utf8_length(t_arr), 16), to_minute, pa.scalar(None, to_minute.type))
    )
    aware = pc.strptime(t_arr, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
    # Arrow's strptime rolls impossible dates over (02-30 -> 03-02): keep only values whose
    # date, hour and minute read back as written; the others go to the strict per-value reader
    head = pc.utf8_slice_codeunits(t_arr, 0, 16)
    naive = _only_exact(naive, head)
    wall = pc.strptime(pc.utf8_slice_codeunits(t_arr, 0, 19), format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
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
            loc = pc.assume_timezone(
                pa.array(np.array(naive_val, dtype=np.int64), type=pa.int64()).cast(_TS_NAIVE),
                timezone=tz,
                ambiguous="earliest",
                nonexistent="earliest",
            )
            utc[np.array(naive_idx)] = loc.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return utc, repaired, unreadable


#: The times a value may name, in UTC microseconds: the years 1 to 9999 (a day inside them, for any
#: offset), which every later step (Python dates, Parquet, Excel) can hold. Arrow reads
#: ``0000-01-01`` as a time; such a value is unreadable like any other impossible date.
_TS_RANGE_US = tuple(
    int((np.datetime64(d, "us") - np.datetime64("1970-01-01", "us")).astype(np.int64))
    for d in ("0001-01-02", "9999-12-30")
)


def _parse_ts_array(arr: pa.Array, tz: str, mixed: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(UTC microseconds with _NAT for missing, repaired, unreadable, kind) for a trimmed text array.

    Values outside the years 1 to 9999 (:data:`_TS_RANGE_US`) are unreadable.

        >>> _parse_ts_array(pa.array(["0000-01-01", "2026-10-03"]), "Asia/Shanghai")[2].tolist()
        [True, False]
    """
    utc, repaired, unreadable, kind = _parse_ts_array_any_year(arr, tz, mixed)
    outside = (utc != _NAT) & ((utc < _TS_RANGE_US[0]) | (utc > _TS_RANGE_US[1]))
    if outside.any():
        utc, repaired, unreadable = utc.copy(), repaired.copy(), unreadable.copy()
        utc[outside], repaired[outside], unreadable[outside] = _NAT, False, True
        kind = "mixed"
    return utc, repaired, unreadable, kind


def _parse_ts_array_any_year(
    arr: pa.Array, tz: str, mixed: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """The times of :func:`_parse_ts_array`, whatever their year.

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
            written = _map_unique(pc.utf8_slice_codeunits(sub, 19), _suffix_offset_us, out_dtype=np.int64, missing=_NAT)
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


def parse_timestamps(values: pd.Series, *, tz: str = DEFAULT_TZ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
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
