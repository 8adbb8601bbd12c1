"""Readers for the raw tables of the data contract.

Every raw file is read with all columns as text (the cleaning step decides what a value
means), its headers mapped to canonical names (Chinese export headers included), and every
row tagged with where it came from: ``_source_file`` (the file name) and ``_source_row``
(1-based data row in that file, header excluded).

CSV files may be UTF-8, UTF-8 with BOM or GB18030/GBK (detected); XLSX and Parquet are read
too. A table may be split over several files whose names start with the table name
(``visits.csv``, ``visits_2026-10.csv``, …): they are read in sorted order and stacked.

A file that breaks the contract raises :class:`cxlib.errors.DataError` naming the file and,
where it applies, the column.

Example
-------
>>> from cxlib import io
>>> visits = io.read_table("data/raw", "visits")        # doctest: +SKIP
>>> visits[["visit_id", "_source_file", "_source_row"]].head(1)  # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io as _io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxlib import catalog
from cxlib.errors import DataError

if TYPE_CHECKING:
    from cxlib.sources import SourceSpec

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"

_HEAD_BYTES = 1 << 16
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an XLSX workbook?)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old binary Excel (.xls) file",
}


# --------------------------------------------------------------------------- headers
def _header_key(text: object) -> str:
    """Comparison key of a header: NFKC, no BOM, trimmed, lower case, spaces and '-' as '_'."""
    t = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", t)


def _key_variants(text: object) -> list[str]:
    """The header's key, then the key without a trailing unit in brackets (结算金额(元) -> 结算金额)."""
    key = _header_key(text)
    bare = re.sub(r"_?[(\[（【][^()\[\]（）【】]*[)\]）】]$", "", key).strip("_")
    return [key, bare] if bare and bare != key else [key]


def _header_map(table: str) -> dict[str, str]:
    """Header key (see :func:`_header_key`) -> canonical column name, for one table."""
    out: dict[str, str] = {}
    for col in catalog.TABLES[table]:
        for spelling in (col.name, col.zh, *col.aliases):
            out.setdefault(_header_key(spelling), col.name)
    return out


_NUMBERING_RE = re.compile(r"^\s*(?:第\s*\d+\s*题|[Qq]?\d+(?:[._-]\d+)*)\s*[、.．:：)）]?\s*(?=\S)")


def strip_numbering(header: str) -> str:
    """A survey question header without its number and trailing question mark.

    >>> strip_numbering("2、您向亲友推荐我们的可能性有多大？"), strip_numbering("Q3. Visit ID")
    ('您向亲友推荐我们的可能性有多大', 'Visit ID')
    """
    t = _NUMBERING_RE.sub("", str(header).strip(), count=1)
    return re.sub(r"[?？:：\s]+$", "", t) or str(header).strip()


def extra_name(header: str, taken: set[str]) -> str:
    """The processed column name of a raw column outside the contract: trimmed, spaces and
    punctuation as ``_``, ASCII letters in lower case, Chinese kept; ``_2``, ``_3`` … on a clash.

    >>> extra_name("Service Advisor", set()), extra_name(" 服务 顾问 ", set()), extra_name("center", {"center"})
    ('service_advisor', '服务_顾问', 'center_2')
    """
    t = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip()
    t = "".join(ch.lower() if ch.isascii() else ch for ch in t)
    t = re.sub(r"[^\w]+", "_", t).strip("_") or "column"
    if t[0].isdigit():
        t = f"c_{t}"
    name, i = t, 2
    while name in taken:
        name, i = f"{t}_{i}", i + 1
    return name


@dataclass
class ColumnPlan:
    """How the raw headers of one file map onto a table: contract column, extra column or dropped.

    ``targets[i]`` is the processed name of raw column ``headers[i]`` (None: dropped), ``kinds[i]``
    one of ``contract``, ``renamed``, ``extra``, ``dropped``; ``missing`` lists every required
    contract column the file lacks; ``problems`` the other errors (all of them, for ``cx check``).
    """

    file: str
    table: str
    headers: list[str]
    targets: list[str | None]
    kinds: list[str]
    missing: list[str]
    problems: list[DataError]
    values: dict[str, dict[str, str]]

    @property
    def extras(self) -> list[tuple[str, str]]:
        """(processed name, raw header) of the extra columns, in file order."""
        return [(t, h) for h, t, k in zip(self.headers, self.targets, self.kinds) if k == "extra" and t]

    def error(self) -> DataError | None:
        """The first problem (a profile naming a column the file lacks, two columns mapped to
        one), else one error listing every missing required column."""
        if self.problems:
            return self.problems[0]
        if self.missing:
            zh = {c.name: c.zh for c in catalog.TABLES[self.table]}
            labels = ", ".join(f"{m} ({zh[m]})" for m in self.missing)
            return DataError(
                f"required column missing from table {self.table}: {labels}; found columns "
                f"{', '.join(map(str, self.headers)) or 'none'}",
                file=self.file,
                column=self.missing[0],
            )
        return None


def plan_columns(columns: list[str], table: str, file: str | Path, *, source: SourceSpec | None = None) -> ColumnPlan:
    """Map the raw headers of one file onto ``table`` (never raises: see :attr:`ColumnPlan.problems`).

    Order of precedence: the source's ``drop``, ``rename`` (exact header), ``patterns``
    (regular expression), then the contract's names, Chinese headers and aliases (any case,
    stray spaces, a unit in brackets such as ``结算金额(元)``). Anything else is an extra column.

    >>> plan_columns(["工单号", "服务顾问"], "surveys", "s.csv").kinds
    ['contract', 'extra']
    """
    mapping = _header_map(table)
    name = Path(file).name
    contract = {c.name for c in catalog.TABLES[table]}
    rename = dict(getattr(source, "rename", {}) or {})
    drop = set(getattr(source, "drop", ()) or ())
    patterns = [(re.compile(p), t) for p, t in (getattr(source, "patterns", ()) or ())]
    numbered = bool(getattr(source, "strip_numbering", False))
    own = set(getattr(source, "own", ()) or ())
    headers = [str(c) for c in columns]
    targets: list[str | None] = []
    kinds: list[str] = []
    problems: list[DataError] = []
    claimed: set[str] = set()
    for raw in headers:
        h = raw.replace("\ufeff", "").strip()
        bare = strip_numbering(h) if numbered else h
        if h in drop or bare in drop:
            targets.append(None)
            kinds.append("dropped")
            continue
        target = rename.get(h, rename.get(bare))
        kind = "renamed"
        if target is None:
            # a pattern is a guess: the first header it matches takes the column, later ones stay extra
            target = next(
                (t for rx, t in patterns if rx.search(h) and t not in claimed and t not in rename.values()), None
            )
            if target is not None:
                claimed.add(target)
        if target is None:
            kind = "contract"
            target = next((mapping[k] for k in (*_key_variants(h), *_key_variants(bare)) if k in mapping), None)
        if target is None:
            targets.append("")
            kinds.append("extra")
        else:
            targets.append(target)
            kinds.append(kind if target in contract or kind == "contract" else "extra")
    # extra names after the contract names are known, so that they never clash with one
    taken = set(contract) | set(catalog.DERIVED_COLUMNS.get(table, ())) | {SOURCE_FILE, SOURCE_ROW}
    taken |= {t for t, k in zip(targets, kinds) if k in ("contract", "renamed") and t}
    for i, (raw, t, k) in enumerate(zip(headers, targets, kinds)):
        if k == "extra":
            extra = extra_name(t or raw, taken)
            targets[i] = extra
            taken.add(extra)
    seen: dict[str, str] = {}
    for raw, t, k in zip(headers, targets, kinds):
        if t is None or k == "extra":
            continue
        if t in seen:
            problems.append(
                DataError(
                    f"two raw columns map to column {t}: {seen[t]!r} and {raw!r}; keep one "
                    f"(drop: the other in sources.yaml)",
                    file=name,
                    column=t,
                )
            )
        seen.setdefault(t, raw)
    present = {h.replace("\ufeff", "").strip() for h in headers}
    present |= {strip_numbering(h) for h in present} if numbered else set()
    for key in sorted(own):
        if key not in present and key not in contract and key not in {t for t in targets if t}:
            problems.append(
                DataError(
                    f"sources.yaml names column {key!r}, which the file does not have; its "
                    f"columns are {', '.join(headers)}",
                    file=name,
                    column=key,
                )
            )
    values: dict[str, dict[str, str]] = {}
    by_raw = {h.replace("\ufeff", "").strip(): t for h, t in zip(headers, targets) if t}
    names = {t for t in targets if t}
    for col, m in (getattr(source, "values", {}) or {}).items():
        target = col if col in names else by_raw.get(col)
        if target is not None:
            values[target] = m
    missing = [c.name for c in catalog.TABLES[table] if c.required and c.name not in seen]
    if missing:
        # a header that holds several canonical names joined by another delimiter
        for raw in headers:
            for delim, label in ((";", "semicolon ';'"), ("\t", "tab"), ("|", "pipe '|'")):
                parts = [_header_key(p) for p in raw.split(delim)]
                if len(parts) > 1 and sum(p in mapping for p in parts) >= 2:
                    problems.insert(
                        0,
                        DataError(
                            f"the header is one cell {raw[:60]!r}: the file is separated by {label}, "
                            f"not by commas; export it as comma-separated CSV",
                            file=name,
                            column=raw[:60],
                        ),
                    )
                    missing = []
                    break
            if not missing:
                break
    return ColumnPlan(name, table, headers, targets, kinds, missing, problems, values)


def canonical_columns(
    columns: list[str], table: str, file: str | Path, *, source: SourceSpec | None = None
) -> list[str]:
    """Map raw headers (English, Chinese, any case, stray spaces) to canonical names.

    Unknown headers come back as their extra-column names (see :func:`extra_name`), dropped
    ones as they are. Raises :class:`DataError` when a required column is missing (naming all
    of them), when two raw columns map to one column, or when the header looks like it was
    split with another delimiter than the comma.

    >>> canonical_columns(["工单号", " Visit_ID "], "surveys", "s.csv")
    Traceback (most recent call last):
    ...
    cxlib.errors.DataError: s.csv, column visit_id: two raw columns map to column visit_id: '工单号' and ' Visit_ID '; keep one (drop: the other in sources.yaml)
    """
    plan = plan_columns(columns, table, file, source=source)
    err = plan.error()
    if err is not None:
        raise err
    return [t if t is not None else h for h, t in zip(plan.headers, plan.targets)]


# --------------------------------------------------------------------------- sniffing
def _sniff_binary(head: bytes, name: str) -> None:
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"not a CSV table: the file is {what}", file=name)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("the file is UTF-16 text (Excel's 'Unicode text'); save it as CSV UTF-8", file=name)
    nul = head.find(b"\x00", 0, 4096)
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + head.count(b"\r", 0, nul) - head.count(b"\r\n", 0, nul)
        raise DataError(f"not a CSV table: the file holds binary data (a NUL byte on line {line + 1})", file=name)


def _decode_sample(head: bytes, codec: str, complete: bool) -> str:
    """Decode ``head`` strictly; unless it is the whole file, a character cut at its end is left out."""
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    return dec.decode(head, final=complete)


def _gb2312_share(text: str) -> tuple[float, int]:
    """(share of the non-ASCII characters that GB2312 has, their number)."""
    chars = [c for c in text if ord(c) > 127]
    if not chars:
        return 1.0, 0
    common = 0
    for c in set(chars):
        try:
            c.encode("gb2312")
            common += chars.count(c)
        except UnicodeEncodeError:
            pass
    return common / len(chars), len(chars)


def _common_share(text: str, codec: str) -> float:
    """Share of the non-ASCII characters that are everyday text in ``codec``'s own script:
    Big5 level-1 characters and punctuation, or Shift-JIS kana, punctuation and level-1 kanji."""
    chars = [c for c in text if ord(c) > 127]
    if not chars:
        return 0.0
    good = 0
    for c in chars:
        try:
            b = c.encode(codec)
        except UnicodeEncodeError:
            continue
        if codec == "cp950":
            good += len(b) == 2 and 0xA1 <= b[0] <= 0xC6
        else:
            good += len(b) == 1 or (len(b) == 2 and 0x81 <= b[0] <= 0x9F)
    return good / len(chars)


_OTHER_CODECS = (("cp950", "Big5 (Traditional Chinese)"), ("cp932", "Shift-JIS (Japanese)"))


def _refuse_other_codecs(head: bytes, text: str, complete: bool, name: str) -> None:
    """GB18030 decodes almost any bytes: refuse text that reads far better as Big5 or Shift-JIS."""
    share, n = _gb2312_share(text)
    if n < 4 or share >= 0.8:
        return
    for codec, label in _OTHER_CODECS:
        try:
            other = _decode_sample(head, codec, complete)
        except UnicodeDecodeError:
            continue
        if _common_share(other, codec) > max(share, 0.6):
            sample = "".join(c for c in other if ord(c) > 127)[:12]
            raise DataError(
                f"the text is {label}, not GB18030/GBK or UTF-8 (it reads as {sample!r}); "
                "save the file as UTF-8 and read it again",
                file=name,
            )


def _detect_encoding(path: Path, head: bytes, complete: bool | None = None) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', judged from the first bytes of the file.

    ``complete`` says whether ``head`` is the whole file (default: shorter than the sample);
    otherwise a multi-byte character cut at the end of the sample is not held against it.
    Big5 or Shift-JIS text, which GB18030 would decode into nonsense, is refused.
    """
    if complete is None:
        complete = len(head) < _HEAD_BYTES
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        _decode_sample(head, "utf-8", complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = _decode_sample(head, "gb18030", complete)
    except UnicodeDecodeError as exc:
        for codec, label in _OTHER_CODECS:
            try:
                _decode_sample(head, codec, complete)
            except UnicodeDecodeError:
                continue
            raise DataError(
                f"the text is {label}, not GB18030/GBK or UTF-8; save the file as UTF-8 and read it again",
                file=path.name,
            ) from None
        raise DataError(
            f"undecodable bytes at byte {exc.start}: the file is neither UTF-8 nor GB18030/GBK text", file=path.name
        ) from None
    _refuse_other_codecs(head, text, complete, path.name)
    return "gb18030"


def _csv_rows(head_text: str, n: int) -> list[list[str]]:
    """The first ``n`` CSV rows of a text (quoted line breaks respected)."""
    out = []
    for row in csv.reader(_io.StringIO(head_text, newline="")):
        out.append(row)
        if len(out) >= n:
            break
    return out


def _read_head(path: Path, rows: int) -> tuple[bytes, bool]:
    """The first bytes of a file, enough to hold its first ``rows`` CSV rows (quoted line
    breaks included) and the start of the next; (bytes, whole file?)."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
        # a header longer than the sample (hundreds of survey questions): read on to its end
        while len(_csv_rows(head.decode("latin-1"), rows + 1)) <= rows:
            more = fh.read(max(len(head), _HEAD_BYTES))
            if not more:
                break
            head += more
        complete = not fh.read(1)
    return head, complete


def csv_options(
    path: Path, multiline: bool, *, header_row: int = 1, skip_rows: int = 0
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions, str]:
    """Check the head of a CSV file and return the Arrow options to read it, and its encoding.

    ``header_row`` is the 1-based row of the header (rows above it are titles, skipped),
    ``skip_rows`` the rows under it that are not data (Qualtrics' extra header rows).

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "visits.csv"
    >>> _ = f.write_text("导出时间 2026-10-31\\nvisit_id,center_id\\nV1,SH-JQ\\n", encoding="utf-8")
    >>> read, parse, convert, encoding = csv_options(f, False, header_row=2)
    >>> encoding, read.skip_rows, read.column_names  # the title row and the header skipped, the names given
    ('utf-8', 2, ['visit_id', 'center_id'])
    """
    name = path.name
    head, complete = _read_head(path, header_row)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise DataError("empty file: no header and no rows", file=name)
    _sniff_binary(head, name)
    encoding = _detect_encoding(path, head, complete)
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    rows = _csv_rows(text, header_row)
    header = rows[header_row - 1] if len(rows) >= header_row else []
    if not header or all(not h.strip() for h in header):
        where = f"row {header_row} (the header row)" if header_row > 1 else "the header line"
        raise DataError(f"empty header: {where} has no column names", file=name)
    header = [h if h.strip() else f"_unnamed_{i}" for i, h in enumerate(header)]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(f"column {dup} appears more than once in the header", file=name, column=dup)
    read_opts = pacsv.ReadOptions(
        column_names=header,
        skip_rows=header_row,
        skip_rows_after_names=skip_rows,
        block_size=1 << 24,
        encoding="utf8" if encoding.startswith("utf-8") else "gb18030",
    )
    conv = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    # quoted line breaks only occur in free-text tables (and in title or question rows above the data)
    parse = pacsv.ParseOptions(newlines_in_values=multiline or header_row > 1 or skip_rows > 0)
    if encoding == "utf-8-sig":
        # pyarrow skips a UTF-8 BOM itself; the header was given explicitly
        read_opts.encoding = "utf8"
    return read_opts, parse, conv, encoding


def _ragged_row(path: Path, encoding: str, width: int, skip: int = 1) -> tuple[int, int] | None:
    """(1-based data row, number of fields) of the first row whose width is not the header's;
    ``skip``: the CSV rows before the data (title rows, the header, extra header rows)."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        for _ in range(skip):
            next(reader, None)
        try:
            for i, row in enumerate(reader, start=1):
                if len(row) != width:
                    return i, len(row)
        except csv.Error:
            return None
    return None


def _read_csv(path: Path, multiline: bool = True, header_row: int = 1, skip_rows: int = 0) -> pa.Table:
    name = path.name
    read_opts, parse, conv, encoding = csv_options(path, multiline, header_row=header_row, skip_rows=skip_rows)
    header = read_opts.column_names
    try:
        table = pacsv.read_csv(path, read_options=read_opts, parse_options=parse, convert_options=conv)
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "invalid UTF8" in msg or "UTF8" in msg and "invalid" in msg.lower():
            if encoding.startswith("utf-8"):
                # the sample was UTF-8 but a later part is not: try the Chinese Windows code page
                read_opts.encoding = "gb18030"
                try:
                    return pacsv.read_csv(path, read_options=read_opts, parse_options=parse, convert_options=conv)
                except (pa.ArrowInvalid, UnicodeDecodeError):
                    pass
            raise DataError("undecodable bytes: the file is neither UTF-8 nor GB18030/GBK text", file=name) from None
        if "Expected" in msg and "columns" in msg:
            # the row itself is not quoted: it may hold personal data
            where = _ragged_row(path, encoding, len(header), skip=header_row + skip_rows)
            if where is not None:
                raise DataError(
                    f"rows do not have as many fields as the header ({len(header)}): this row has {where[1]}",
                    file=name,
                    row=where[0],
                ) from None
            raise DataError(f"rows do not have as many fields as the header ({len(header)})", file=name) from None
        raise DataError(f"cannot read as CSV: {msg.splitlines()[0][:160]}", file=name) from None
    except UnicodeDecodeError:
        raise DataError("undecodable bytes: the file is neither UTF-8 nor GB18030/GBK text", file=name) from None
    return table


def _cell_text(v: object) -> str | None:
    """One XLSX cell as text, keeping dates and Excel serial numbers recoverable."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _dt.datetime):
        return v.isoformat(timespec="seconds") if v.microsecond == 0 else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.isoformat()
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    s = str(v)
    return s if s.strip() else None


def _rows_table(
    rows: Iterator[Sequence[object] | None],
    name: str,
    header_row: int = 1,
    skip_rows: int = 0,
    sheet: str | None = None,
) -> pa.Table:
    """The cells of a sheet (an iterator of row tuples) as text columns under the header of row
    ``header_row`` (rows above it are titles), leaving out ``skip_rows`` rows under the header."""
    where = f"sheet {sheet!r}" if sheet is not None else "the workbook"
    header_row_values = None
    for i, r in enumerate(rows, start=1):
        if i == header_row:
            header_row_values = r
            break
    if header_row_values is None or all(v is None or not str(v).strip() for v in header_row_values):
        if header_row > 1:
            raise DataError(
                f"empty header: row {header_row} of {where} (the header row) has no column names", file=name
            )
        raise DataError(f"empty {where.removeprefix('the ')}: no header and no rows", file=name)
    header = [(_cell_text(h) or f"_unnamed_{i}").strip() for i, h in enumerate(header_row_values)]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(f"column {dup} appears more than once in the header of {where}", file=name, column=dup)
    width = len(header)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    for k, r in enumerate(rows):
        if k < skip_rows:
            continue
        vals: tuple[object, ...]
        if r is None or all(v is None for v in r):
            # keep row numbering: an empty row is still a row of the sheet
            vals = (None,) * width
        else:
            vals = tuple(r[:width]) + (None,) * (width - len(r))
        for i in range(width):
            cols[i].append(_cell_text(vals[i]))
    # trailing blank rows of a sheet are not data
    n = len(cols[0]) if cols else 0
    while n and all(c[n - 1] is None for c in cols):
        n -= 1
    return pa.table({h: pa.array(c[:n], type=pa.string()) for h, c in zip(header, cols)})


def _pick_sheets(
    names: list[str], filled: list[bool], path: Path, sheet: str | int | None, sheets: tuple[str, ...] | str | None
) -> list[str]:
    """The sheets to read: the one named, the ones to stack, or the only sheet with cells."""
    listing = ", ".join(repr(n) for n in names)
    if sheet is not None:
        if isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 1 <= sheet <= len(names):
                raise DataError(
                    f"the workbook has no sheet number {sheet}; its sheets are {listing}",
                    file=path.name,
                    column="sheet",
                )
            return [names[sheet - 1]]
        if sheet not in names:
            raise DataError(
                f"the workbook has no sheet {sheet!r}; its sheets are {listing}", file=path.name, column="sheet"
            )
        return [sheet]
    if sheets == "all":
        return [n for n, f in zip(names, filled) if f]
    if sheets:
        absent = [s for s in sheets if s not in names]
        if absent:
            raise DataError(
                f"the workbook has no sheet {absent[0]!r}; its sheets are {listing}", file=path.name, column="sheets"
            )
        return list(sheets)
    used = [n for n, f in zip(names, filled) if f]
    if len(used) > 1:
        raise DataError(
            f"the workbook has several sheets with data ({', '.join(repr(n) for n in used)}): name "
            "the one to read (sheet:) or the same-shaped ones to stack (sheets:) in sources.yaml",
            file=path.name,
        )
    return used or names[:1]


def _read_xlsx(
    path: Path,
    header_row: int = 1,
    skip_rows: int = 0,
    sheet: str | int | None = None,
    sheets: tuple[str, ...] | str | None = None,
) -> list[tuple[str, pa.Table]]:
    name = path.name
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(64)
        if not head.strip():
            raise DataError("empty file: not an XLSX workbook", file=name)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise DataError("not an XLSX workbook: the file is a legacy Excel (.xls) workbook; name it .xls", file=name)
        raise DataError("not an XLSX workbook (the file is not a zip archive)", file=name)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise DataError(f"not a readable XLSX workbook: {_first_line(exc)}", file=name) from None
    try:
        names = list(wb.sheetnames)
        filled = (
            [any(v is not None for r in wb[n].iter_rows(max_row=50, values_only=True) for v in r) for n in names]
            if len(names) > 1
            else [True] * len(names)
        )
        chosen = _pick_sheets(names, filled, path, sheet, sheets)
        label = len(chosen) > 1
        return [
            (
                f"{name}[{n}]" if label else name,
                _rows_table(
                    wb[n].iter_rows(values_only=True),
                    name,
                    header_row,
                    skip_rows,
                    n if (label or sheet is not None) else None,
                ),
            )
            for n in chosen
        ]
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part of the zip shows only while reading
        raise DataError(f"not a readable XLSX workbook: {_first_line(exc)}", file=name) from None
    finally:
        wb.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _read_xls(
    path: Path,
    header_row: int = 1,
    skip_rows: int = 0,
    sheet: str | int | None = None,
    sheets: tuple[str, ...] | str | None = None,
) -> list[tuple[str, pa.Table]]:
    """A legacy Excel 97-2003 workbook (BIFF, read by xlrd), sheets chosen as for XLSX."""
    name = path.name
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head.strip():
        raise DataError("empty file: not an Excel workbook", file=name)
    if not head.startswith(b"\xd0\xcf\x11\xe0"):
        if head.startswith(b"PK\x03\x04"):
            raise DataError("not a legacy .xls workbook: the file is an XLSX workbook; name it .xlsx", file=name)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<", b"<!doctype", b"<html", b"<table")):
            raise DataError(
                "not an Excel workbook: the file is a web page (HTML) saved as .xls; open it in "
                "Excel and save it as .xlsx",
                file=name,
            )
        raise DataError(
            "not an Excel workbook: the file is text or another format saved as .xls; export it as .xlsx or CSV",
            file=name,
        )
    import xlrd

    try:
        book = xlrd.open_workbook(path, on_demand=True)
    except Exception as exc:  # xlrd raises its own XLRDError and others on broken files
        raise DataError(f"not a readable .xls workbook: {str(exc).splitlines()[0]}", file=name) from None
    try:
        names = book.sheet_names()
        filled = [book.sheet_by_name(n).nrows > 0 for n in names]
        chosen = _pick_sheets(names, filled, path, sheet, sheets)

        def rows(sh: Any) -> Iterator[tuple[object, ...]]:
            for i in range(sh.nrows):
                out: list[object] = []
                for cell in sh.row(i):
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        try:
                            out.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                        except Exception:
                            out.append(cell.value)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        out.append(bool(cell.value))
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                        out.append(None)
                    else:
                        out.append(cell.value)
                yield tuple(out)

        label = len(chosen) > 1
        return [
            (
                f"{name}[{n}]" if label else name,
                _rows_table(
                    rows(book.sheet_by_name(n)),
                    name,
                    header_row,
                    skip_rows,
                    n if (label or sheet is not None) else None,
                ),
            )
            for n in chosen
        ]
    finally:
        book.release_resources()


_NESTED = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_struct,
    pa.types.is_map,
    pa.types.is_union,
    getattr(pa.types, "is_list_view", lambda t: False),
    getattr(pa.types, "is_large_list_view", lambda t: False),
)


def _first_bad_utf8(col: pa.ChunkedArray) -> int:
    """0-based row of the first value of a binary or string column that is not valid UTF-8."""
    row = 0
    for chunk in col.chunks:
        for v in chunk.cast(pa.large_binary()).to_pylist():
            if v is not None:
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError:
                    return row
            row += 1
    return 0


def arrow_text(col: pa.ChunkedArray | pa.Array, file: str, column: str) -> pa.ChunkedArray:
    """A typed Arrow column as the text a CSV export of it would hold (one shared rule for
    every typed source): dates and timestamps in ISO 8601, numbers as written, booleans as
    ``true``/``false``, dictionary values decoded. Nested values (lists, structs, maps) and
    bytes that are not UTF-8 text raise a :class:`DataError` naming the file, column and row.

    >>> arrow_text(pa.array([1.0, 2.5, None]), "x.parquet", "ltr").to_pylist()
    ['1', '2.5', None]
    """
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    t = col.type
    if pa.types.is_dictionary(t):
        return arrow_text(col.cast(t.value_type), file, column)
    if any(test(t) for test in _NESTED):
        raise DataError(f"the column holds nested values ({t}), not one value per cell", file=file, column=column)
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or getattr(pa.types, "is_string_view", lambda t: False)(t)
        or getattr(pa.types, "is_binary_view", lambda t: False)(t)
    ):
        try:
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                for chunk in col.chunks:
                    chunk.validate(full=True)
            return col.cast(pa.string())
        except pa.ArrowInvalid:
            raise DataError(
                "the column holds bytes that are not UTF-8 text", file=file, column=column, row=_first_bad_utf8(col) + 1
            ) from None
    if pa.types.is_timestamp(t):
        # Arrow formats any year (pandas' strftime fails beyond 9999); whole seconds when no
        # value has a fraction, local time with its offset when the column has a time zone
        if t.unit != "s":
            try:
                col = col.cast(pa.timestamp("s", tz=t.tz))  # a safe cast: refused if a fraction is lost
            except pa.ArrowInvalid:
                pass
        try:
            return pc.strftime(col, format="%Y-%m-%dT%H:%M:%S%z" if t.tz else "%Y-%m-%dT%H:%M:%S")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(
                f"the column holds timestamps in an unknown time zone {t.tz!r}", file=file, column=column
            ) from None
    if pa.types.is_floating(t):
        vals = col.to_numpy(zero_copy_only=False)
        return pa.chunked_array([pa.array([_cell_text(float(v)) if v == v else None for v in vals], type=pa.string())])
    if pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false").cast(pa.string())
    try:
        return col.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise DataError(
            f"the column holds values of type {t} that have no text form", file=file, column=column
        ) from None


def _read_parquet(path: Path, table: str, source: SourceSpec | None = None) -> pa.Table:
    """Every column of a Parquet file as text (:func:`arrow_text`); columns the source drops are
    left unread (all null). A column with no text form names itself: drop it in sources.yaml
    if it is not needed."""
    name = path.name
    try:
        at = pq.ParquetFile(path).read()
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError on non-Parquet bytes
        raise DataError(f"not a readable Parquet file: {str(exc).splitlines()[0]}", file=name) from None
    headers = [str(n) for n in at.column_names]
    if len(set(headers)) != len(headers):
        dup = next(h for h in headers if headers.count(h) > 1)
        raise DataError(f"column {dup} appears more than once", file=name, column=dup)
    plan = plan_columns(headers, table, name, source=source)
    arrays = []
    for i, (h, kind) in enumerate(zip(headers, plan.kinds)):
        if kind == "dropped":
            arrays.append(pa.chunked_array([pa.nulls(at.num_rows, type=pa.string())]))
            continue
        try:
            arrays.append(arrow_text(at.column(i), name, h))
        except DataError:
            if kind != "extra":
                raise
            # an extra column is carried whatever it holds: nested values as JSON, bytes escaped
            arrays.append(_json_text(at.column(i)))
    return pa.table(arrays, names=headers)


def _json_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any Arrow column as text: each value as JSON (bytes that are not UTF-8 escaped)."""

    def text(v: object) -> str | None:
        if v is None:
            return None
        if isinstance(v, bytes):
            return v.decode("utf-8", errors="backslashreplace")
        return json.dumps(
            v,
            ensure_ascii=False,
            default=lambda x: x.decode("utf-8", errors="backslashreplace") if isinstance(x, bytes) else str(x),
        )

    return pa.chunked_array([pa.array([text(v) for v in col.to_pylist()], type=pa.string())])


# --------------------------------------------------------------------------- public
def source_layout(source: SourceSpec | None) -> dict[str, Any]:
    """The reader options of a source spec (defaults without one).

    >>> source_layout(None)
    {'header_row': 1, 'skip_rows': 0, 'sheet': None, 'sheets': None}
    """
    return {
        "header_row": getattr(source, "header_row", 1) or 1,
        "skip_rows": getattr(source, "skip_rows", 0) or 0,
        "sheet": getattr(source, "sheet", None),
        "sheets": getattr(source, "sheets", None),
    }


def _read_parts(path: Path, table: str, source: SourceSpec | None = None) -> list[tuple[str, pa.Table]]:
    """The file's cells as text columns with its own headers: one part per sheet read."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("empty file: no header and no rows", file=path.name)
    ext = path.suffix.lower()
    lay = source_layout(source)
    if ext == ".csv":
        return [
            (
                path.name,
                _read_csv(
                    path,
                    multiline=table not in ("touchpoints", "visits"),
                    header_row=lay["header_row"],
                    skip_rows=lay["skip_rows"],
                ),
            )
        ]
    if ext == ".xlsx":
        return _read_xlsx(path, **lay)
    if ext == ".xls":
        return _read_xls(path, **lay)
    if ext == ".parquet":
        return [(path.name, _read_parquet(path, table, source))]
    raise DataError(f"unsupported file type {ext!r}; use .csv, .xlsx, .xls or .parquet", file=path.name)


def _read_any(path: Path, table: str, source: SourceSpec | None = None) -> pa.Table:
    """The file's cells as text columns with its own headers, whatever its format (one sheet)."""
    parts = _read_parts(path, table, source)
    return parts[0][1] if len(parts) == 1 else pa.concat_tables([t for _, t in parts])


def _map_values(arr: pa.Array | pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    """Replace whole (trimmed) values by the source's value map; other values stay as they are."""
    keys = pa.array(list(mapping), type=pa.string())
    vals = pa.array(list(mapping.values()), type=pa.string())
    trimmed = pc.utf8_trim_whitespace(arr)
    pos = pc.index_in(trimmed, value_set=keys)
    return pc.if_else(pc.is_valid(pos), pc.take(vals, pc.fill_null(pos, 0)), arr)


def _apply_plan(at: pa.Table, plan: ColumnPlan, table: str) -> tuple[pa.Table, list[tuple[str, str]]]:
    """The canonical text columns of ``table`` in catalog order (absent optional ones all null),
    then the extra columns; value maps applied. Returns (table, [(extra name, raw header)])."""
    by_target = {t: at.column(i) for i, t in enumerate(plan.targets) if t is not None}
    cols, names = [], []
    for c in catalog.TABLES[table]:
        col = by_target.get(c.name)
        if col is None:
            col = pa.nulls(at.num_rows, type=pa.string())
        elif col.type != pa.string():
            col = col.cast(pa.string())
        if c.name in plan.values:
            col = _map_values(col, plan.values[c.name])
        cols.append(col)
        names.append(c.name)
    extras = []
    for name, header in plan.extras:
        col = by_target[name]
        if header.startswith("_unnamed_") and col.null_count == len(col):
            continue  # an empty column without a header is formatting, not data
        if col.type != pa.string():
            col = col.cast(pa.string())
        if name in plan.values:
            col = _map_values(col, plan.values[name])
        cols.append(col)
        names.append(name)
        extras.append((name, header))
    out = pa.table(cols, names=names)
    if extras:
        out = out.replace_schema_metadata({b"cx_extras": json.dumps(extras, ensure_ascii=False).encode()})
    return out, extras


def _infer_table(path: Path) -> str:
    table = next((t for t in sorted(catalog.TABLES, key=len, reverse=True) if path.name.lower().startswith(t)), None)
    if table is None:
        raise DataError(f"the file name does not start with a table name ({', '.join(catalog.TABLES)})", file=path.name)
    return table


def _frame(at: pa.Table, label: str, table: str) -> pd.DataFrame:
    n = at.num_rows
    df = at.to_pandas(split_blocks=True, self_destruct=True)
    del at
    for c in df.columns:
        if df[c].dtype != "str":
            df[c] = df[c].astype("str")
    df[SOURCE_FILE] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[label])
    df[SOURCE_ROW] = np.arange(1, n + 1, dtype=np.int64)
    return df


def read_file(path: str | Path, table: str | None = None, source: SourceSpec | None = None) -> pd.DataFrame:
    """Read one raw file (CSV, XLSX, XLS or Parquet) with all values as text.

    ``table`` (inferred from the file name when omitted) selects the header mapping and the
    required columns; ``source`` (a :class:`cxlib.sources.SourceSpec`) the sheet, header row,
    renames and value maps. The result has the canonical columns in catalog order, then the
    extra columns of the file (``df.attrs["extra_columns"]``: name, raw header, file), then
    ``_source_file`` (``file[sheet]`` when sheets are stacked) and ``_source_row``.

    >>> import tempfile
    >>> raw = Path(tempfile.mkdtemp())
    >>> _ = (raw / "centers.csv").write_text("center_id,name_zh,name_en,city\\nSH-JQ,上海金桥,Jinqiao,上海\\n", encoding="utf-8")
    >>> read_file(raw / "centers.csv").columns[:2].tolist()
    ['center_id', 'name_zh']
    """
    path = Path(path)
    if table is None:
        table = _infer_table(path)
    parts = _read_parts(path, table, source)
    frames: list[pd.DataFrame] = []
    extras: list[dict[str, str]] = []
    shape = None
    for label, at in parts:
        plan = plan_columns(at.column_names, table, label, source=source)
        err = plan.error()
        if err is not None:
            raise err
        if shape is not None and plan.targets != shape[1]:
            raise DataError(
                f"the sheets to stack differ in their columns: {shape[0]} has "
                f"{', '.join(t for t in shape[1] if t)}, {label} has "
                f"{', '.join(t for t in plan.targets if t)}",
                file=path.name,
                column="sheets",
            )
        shape = (label, plan.targets)
        at, ex = _apply_plan(at, plan, table)
        extras.extend(
            {"name": n, "header": h, "file": path.name} for n, h in ex if n not in {e["name"] for e in extras}
        )
        frames.append(_frame(at, label, table))
    df = frames[0] if len(frames) == 1 else _stack(frames, [lbl for lbl, _ in parts])
    df.attrs["extra_columns"] = extras
    return df


def _stack(frames: list[pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    for part in frames:
        part[SOURCE_FILE] = part[SOURCE_FILE].cat.set_categories(labels)
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c not in (SOURCE_FILE, SOURCE_ROW) and out[c].dtype != "str":
            out[c] = out[c].astype("str")
    return _ordered(out)


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    rest = [c for c in df.columns if c not in (SOURCE_FILE, SOURCE_ROW)]
    return df[[*rest, SOURCE_FILE, SOURCE_ROW]]


def _canonical_table(at: pa.Table, names: list[str], table: str) -> pa.Table:
    """The canonical text columns of ``table`` in catalog order (absent optional ones all null)."""
    at = at.rename_columns(names)
    cols = []
    for c in catalog.TABLES[table]:
        if c.name in names:
            col = at[c.name]
            cols.append(col if col.type == pa.string() else col.cast(pa.string()))
        else:
            cols.append(pa.nulls(at.num_rows, type=pa.string()))
    return pa.table(cols, names=[c.name for c in catalog.TABLES[table]])


class RestartFile(Exception):
    """Raised by :func:`iter_file_batches` when a file must be read again as a whole."""


def iter_file_batches(
    path: str | Path, table: str, *, block_size: int = 1 << 24, source: SourceSpec | None = None
) -> Iterator[pa.Table]:
    """Read one raw file in batches: yields Arrow tables of the canonical text columns (then
    the extra columns).

    CSV files are streamed block by block, so a large event log never sits in memory as a
    whole; other formats come as one batch. The values are those :func:`read_file` gives.
    When a CSV turns out to need another text encoding after some batches were yielded,
    :class:`RestartFile` is raised: read the file again with :func:`read_file_arrow`.

    >>> sum(b.num_rows for b in iter_file_batches("data/raw/touchpoints.csv", "touchpoints"))  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("empty file: no header and no rows", file=path.name)
    if path.suffix.lower() != ".csv":
        yield read_file_arrow(path, table, source)
        return
    multiline = table not in ("touchpoints", "visits")
    lay = source_layout(source)
    read_opts, parse, conv, _ = csv_options(path, multiline, header_row=lay["header_row"], skip_rows=lay["skip_rows"])
    plan = plan_columns(read_opts.column_names, table, path, source=source)
    err = plan.error()
    if err is not None:
        raise err
    read_opts.block_size = block_size
    yielded = False
    try:
        reader = pacsv.open_csv(path, read_options=read_opts, parse_options=parse, convert_options=conv)
        for batch in reader:
            yielded = True
            yield _apply_plan(pa.Table.from_batches([batch]), plan, table)[0]
    except (pa.ArrowInvalid, UnicodeDecodeError):
        if yielded:
            raise RestartFile(path.name) from None
        # the whole-file reader gives the precise error (or reads another encoding)
        yield read_file_arrow(path, table, source)


def read_file_arrow(path: str | Path, table: str, source: SourceSpec | None = None) -> pa.Table:
    """One raw file as an Arrow table of the canonical text columns of ``table`` (catalog
    order), then its extra columns.

    >>> read_file_arrow("data/raw/touchpoints.parquet", "touchpoints").column_names[:2]  # doctest: +SKIP
    ['visit_id', 'ts']
    """
    path = Path(path)
    out = []
    for label, at in _read_parts(path, table, source):
        plan = plan_columns(at.column_names, table, label, source=source)
        err = plan.error()
        if err is not None:
            raise err
        out.append(_apply_plan(at, plan, table)[0])
    return out[0] if len(out) == 1 else pa.concat_tables(out, promote_options="permissive")


def table_files(raw_dir: str | Path, table: str, *, source: SourceSpec | None = None) -> list[Path]:
    """The raw files of one table, sorted by name: those the source spec's ``files`` globs
    match, or (without a spec) every ``.csv``/``.xlsx``/``.xls``/``.parquet`` whose name starts
    with the table name. A second download (``surveys (1).csv``) is refused (see
    :func:`cxlib.sources.table_files`).

    >>> import tempfile
    >>> raw = Path(tempfile.mkdtemp())
    >>> _ = (raw / "centers.csv").write_text("center_id,name_zh,name_en,city\\nSH-JQ,上海金桥,Jinqiao,上海\\n", encoding="utf-8")
    >>> [p.name for p in table_files(raw, "centers")]
    ['centers.csv']
    """
    from cxlib import sources

    spec = source if source is not None else sources.load_sources(raw_dir).tables[table]
    return sources.table_files(raw_dir, spec)


def existing_table_files(raw_dir: str | Path, table: str, *, source: SourceSpec | None = None) -> list[Path]:
    """Like :func:`table_files`, but a clear :class:`DataError` when the folder or the table is missing.

    >>> [p.name for p in existing_table_files("data/raw", "touchpoints")]  # doctest: +SKIP
    ['touchpoints.parquet']
    """
    if table not in catalog.TABLES:
        raise DataError(f"unknown table {table!r}; tables are {', '.join(catalog.TABLES)}")
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError("raw data folder not found", file=str(raw_dir))
    files = table_files(raw_dir, table, source=source)
    if not files:
        raise DataError(
            f"table {table} is missing: no {table}.csv, {table}.xlsx or {table}.parquet "
            f"(or {table}_*.csv …) in {raw_dir}",
            file=str(raw_dir),
        )
    return files


def empty_table(table: str) -> pd.DataFrame:
    """A raw table with no rows: the canonical text columns and the provenance columns.

    >>> empty_table("complaints").shape
    (0, 7)
    """
    df = pd.DataFrame({c.name: pd.Series([], dtype="str") for c in catalog.TABLES[table]})
    df[SOURCE_FILE] = pd.Categorical([], categories=[])
    df[SOURCE_ROW] = np.zeros(0, dtype=np.int64)
    df.attrs["extra_columns"] = []
    return df


def read_table(
    raw_dir: str | Path, table: str, source: SourceSpec | None = None, files: list[Path] | None = None
) -> pd.DataFrame:
    """Read every file of one raw table from ``raw_dir`` and stack them.

    ``source`` defaults to the table's entry in ``raw_dir/sources.yaml`` (or the default rule),
    ``files`` to the files it names. Raises :class:`DataError` naming the table and folder
    when no file is found. Extra columns of the files are kept (``df.attrs["extra_columns"]``).

    >>> import tempfile
    >>> raw = Path(tempfile.mkdtemp())
    >>> _ = (raw / "centers.csv").write_text("center_id,name_zh,name_en,city\\nSH-JQ,上海金桥,Jinqiao,上海\\n", encoding="utf-8")
    >>> read_table(raw, "centers").columns.tolist()
    ['center_id', 'name_zh', 'name_en', 'city', 'aliases', 'realtime_since', '_source_file', '_source_row']
    """
    if source is None:
        from cxlib import sources

        source = sources.load_sources(raw_dir).tables[table]
    if files is None:
        files = existing_table_files(raw_dir, table, source=source)
    parts = [read_file(p, table, source) for p in files]
    if len(parts) == 1:
        return parts[0]
    extras: list[dict] = []
    for part in parts:
        extras.extend(e for e in part.attrs.get("extra_columns", []) if e["name"] not in {x["name"] for x in extras})
    labels = [lbl for part in parts for lbl in part[SOURCE_FILE].cat.categories]
    out = _stack(parts, labels)
    out.attrs["extra_columns"] = extras
    return out
