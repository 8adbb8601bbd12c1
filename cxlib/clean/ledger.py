"""The quarantine ledger: which raw row went where (kept, or quarantined under a rule with its
reason), which repairs touched it, and the quality counts; rows read = kept + quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib import catalog, io, privacy
from cxlib.clean.values import _encode, _repeated

_RULE_ORDER = {r.code: i for i, r in enumerate(catalog.RULES)}


#: raw rows turned into quarantine rows at a time (:meth:`_Audit.quarantine_frame`)
QUARANTINE_CHUNK = 25_000


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
        self._quality: dict | None = None

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
        if self._quality is not None:
            return self._quality
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
        return {
            "read": self.n,
            "kept": int(kept.sum()),
            "repaired": int(any_repair.sum()),
            "quarantined": int((~kept).sum()),
            "rules": rules,
        }

    def quarantine_frame(self) -> pd.DataFrame:
        """The quarantine rows of the table (:func:`quarantine_frame`), built :data:`QUARANTINE_CHUNK`
        raw rows at a time so that only the finished rows, not every raw value and its copies, are
        held at once."""
        cols = ["table", "source_file", "source_row", "rule", "reason", "raw"]
        if not self.pieces:
            return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "source_row" else "str") for c in cols})
        idx = np.concatenate([p[0] for p in self.pieces])
        rules = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in self.pieces])
        reasons = np.concatenate(
            [p[2] if isinstance(p[2], np.ndarray) else np.full(len(p[0]), p[2], dtype=object) for p in self.pieces]
        )
        order = np.argsort(idx, kind="stable")
        idx, rules, reasons = idx[order], rules[order], reasons[order]
        parts = []
        for start in range(0, len(idx), QUARANTINE_CHUNK):
            i = idx[start : start + QUARANTINE_CHUNK]
            sub = self.raw(i) if callable(self.raw) else self.raw.iloc[i]
            parts.append(
                quarantine_frame(
                    self.table, sub, rules[start : start + QUARANTINE_CHUNK], reasons[start : start + QUARANTINE_CHUNK]
                )
            )
            del sub
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def freeze(self) -> None:
        """Keep the quality counts and drop the per-row record (rules, repairs, raw rows): what a
        finished table's audit still needs, once its quarantine rows are written."""
        self._quality = self.quality()
        self.qrule = np.zeros(0, dtype=np.int16)
        self.repairs = {}
        self.pieces = []
        self.raw = None


def quality_from_counts(
    table: str, read: int, kept: int, repaired: int, quarantined: dict[str, int], repairs: dict[str, int]
) -> dict:
    """The quality entry of ``table`` (as :meth:`_Audit.quality` gives it) from counts: rows read,
    kept, kept with any repair, rows per quarantine rule and kept rows per repair rule.

    >>> quality_from_counts("complaints", 3, 2, 1, {"orphan_visit": 1}, {"pii_masked": 1})["rules"]["orphan_visit"]
    {'action': 'quarantined', 'rows': 1}
    """
    rules = {}
    for r in catalog.RULES:
        if r.table not in ("*", table):
            continue
        rows = repairs.get(r.code, 0) if r.action == "repaired" else quarantined.get(r.code, 0)
        rules[r.code] = {"action": r.action, "rows": int(rows)}
    return {
        "read": int(read),
        "kept": int(kept),
        "repaired": int(repaired),
        "quarantined": int(read - kept),
        "rules": rules,
    }


def quarantine_frame(table: str, sub: pd.DataFrame, rules: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    """The quarantine rows of ``table``: the raw rows ``sub`` (values as read, with their source
    file and row) under their ``rules`` and ``reasons``; raw values as JSON, personal data masked.

    >>> quarantine_frame("centers", io.empty_table("centers"), np.array([]), np.array([])).shape
    (0, 6)
    """
    value_cols = [c.name for c in catalog.TABLES[table]]
    # the JSON json.dumps(..., ensure_ascii=False) writes for {column: text}, without its per-call overhead
    enc = json.encoder.encode_basestring

    def text(v: object) -> str:
        return enc(v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    keys = [enc(c) for c in value_cols]
    # personal data is masked value by value, before the values are encoded (so that JSON
    # escapes such as \n inside a phone number cannot hide it from the masking)
    columns = [privacy.mask_values(sub[c].astype(object).where(sub[c].notna(), None).tolist()) for c in value_cols]
    raw_json = [
        "{" + ", ".join(f"{k}: {text(v)}" for k, v in zip(keys, row) if v is not None) + "}" for row in zip(*columns)
    ]
    del columns
    masked_reason = {r: privacy.mask(r) for r in set(map(str, reasons))}
    return pd.DataFrame(
        {
            "table": table,
            "source_file": sub[io.SOURCE_FILE].astype(str).to_numpy(),
            "source_row": sub[io.SOURCE_ROW].to_numpy(dtype=np.int64),
            "rule": np.asarray(rules).astype(str),
            "reason": [masked_reason[str(r)] for r in reasons],
            "raw": raw_json,
        }
    )


#: the columns of the quarantine table, in order
QUARANTINE_COLUMNS = ("table", "source_file", "source_row", "rule", "reason", "raw")


class QuarantinePart(NamedTuple):
    """Quarantine rows of one table already written to a Parquet file (in the quarantine's order
    within the table: source file, then row), for tables too large to hold their quarantine in
    memory (the plan's touchpoint log)."""

    table: str
    path: Path


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """The quarantine columns in their written types (text, and the row as int64)."""
    return pd.DataFrame(
        {c: df[c].astype("int64") if c == "source_row" else df[c].astype("str") for c in QUARANTINE_COLUMNS}
    )


def _quarantine_schema() -> pa.Schema:
    return pa.Schema.from_pandas(
        _typed(quarantine_frame("centers", io.empty_table("centers"), [], [])), preserve_index=False
    )


def write_quarantine_part(frames: Iterable[pd.DataFrame], path: Path) -> None:
    """Write the quarantine rows of ``frames`` (from :func:`quarantine_frame`, already in order)
    to ``path``, one frame at a time: a :class:`QuarantinePart`'s file.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "part.parquet"
    >>> write_quarantine_part([quarantine_frame("centers", io.empty_table("centers"), [], [])], out)
    >>> pq.read_table(out).column_names
    ['table', 'source_file', 'source_row', 'rule', 'reason', 'raw']
    """
    schema = _quarantine_schema()
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for df in frames:
            writer.write_table(pa.Table.from_pandas(_typed(df), schema=schema, preserve_index=False))


def write_quarantine(parts: Iterable[pd.DataFrame | QuarantinePart], path: Path) -> int:
    """Write the quarantine table to ``path``: the rows of every part in table order
    (:data:`cxlib.catalog.TABLE_ORDER`), within a table by source file and row; a
    :class:`QuarantinePart` is copied batch by batch, so memory holds the in-memory parts and one
    batch. Returns the rows written.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "quarantine.parquet"
    >>> raw = io.empty_table("centers").reindex([0]).astype(object).assign(center_id="SH")
    >>> raw[io.SOURCE_FILE], raw[io.SOURCE_ROW] = "centers.csv", 3
    >>> part = quarantine_frame("centers", raw, np.array(["duplicate_id"]), np.array(["center SH appears again"]))
    >>> write_quarantine([part], out)
    1
    >>> pq.read_table(out).to_pylist()[0]["raw"]
    '{"center_id": "SH"}'
    """
    from cxlib.clean import layout

    order = {t: i for i, t in enumerate(catalog.TABLE_ORDER)}
    frames: dict[str, list[pd.DataFrame]] = {}
    files: dict[str, list[Path]] = {}
    for part in parts:
        if isinstance(part, QuarantinePart):
            files.setdefault(part.table, []).append(part.path)
        elif len(part):
            for table, rows in part.groupby("table", sort=False):
                frames.setdefault(str(table), []).append(rows)
    both = set(frames) & set(files)
    if both or any(len(v) > 1 for v in files.values()):
        raise ValueError(f"a table's quarantine comes from one file or from frames: {sorted(both or files)}")
    schema = _quarantine_schema()

    def tables():
        yield schema.empty_table()  # the columns, when no table has a row
        for table in sorted(set(frames) | set(files), key=lambda t: order.get(t, len(order))):
            if table in files:
                for batch in pq.ParquetFile(files[table][0]).iter_batches(batch_size=layout.ROW_GROUP_ROWS):
                    yield pa.Table.from_batches([batch]).cast(schema)
                continue
            rows = pd.concat(frames[table], ignore_index=True) if len(frames[table]) > 1 else frames[table][0]
            rows = _typed(rows).sort_values(["source_file", "source_row"], kind="stable")
            yield pa.Table.from_pandas(rows, schema=schema, preserve_index=False)

    return layout.write_tables(tables(), path)


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
                return np.array(
                    [f"{what} {v} appears again (first occurrence kept)" for v in key.take(pa.array(idx)).to_pylist()],
                    dtype=object,
                )

            audit.quarantine(dup, "duplicate_id", reasons)
        else:
            audit.quarantine(dup, "duplicate_id", f"{what} appears again")
