"""Values of raw text: Arrow helpers, codes and spellings, numbers, booleans, masking.

The per-value readers work on the distinct values of a column and spread the results.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib import catalog, privacy

_TS_NAIVE = pa.timestamp("us")
_TS_UTC = pa.timestamp("us", tz="UTC")
_NAT = np.iinfo(np.int64).min
_US_PER_MIN = 60_000_000


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


_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


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


def _float_column(
    values: pd.Series, low: float = -np.inf, high: float = np.inf, percent: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


#: the one masking of personal data (:mod:`cxlib.privacy`), under its older name
mask_pii = privacy.mask


def _mask_column(values: pd.Series | pa.Array) -> tuple[pd.Series, np.ndarray]:
    """Masked text column (:func:`cxlib.privacy.mask_array`) and the mask of rows that changed."""
    out, changed = privacy.mask_array(_arrow(values))
    return pd.Series(out.to_pandas(), dtype="str").reset_index(drop=True), changed


def _code_mapper(items, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised spelling (code, Chinese name, English name) -> code."""
    out = {}
    for it in items:
        for nm in (it.code, it.zh, it.en):
            out.setdefault(_norm_key(nm), it.code)
    for k, v in (extra or {}).items():
        out.setdefault(_norm_key(k), v)
    return out


def _map_codes(
    arr: pa.Array, codes: tuple[str, ...], mapper: dict[str, str]
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
