"""``cx check RAW_DIR``: a dry run of the cleaning step that explains a raw folder.

Per table it lists the files it will read, their rows and date range, every raw column and
what it maps to (contract column, extra column carried as a dimension, dropped), ALL missing
required columns and tables at once, and a mapping line for ``sources.yaml`` for each
unmapped header that resembles a contract header. Nothing is written to the processed
folder: the final confirmation cleans into a temporary folder that is removed again.

Example
-------
>>> from cxlib import check
>>> report = check.check("data/raw")          # doctest: +SKIP
>>> report.ok, report.tables["visits"].rows    # doctest: +SKIP
(True, 6018)
>>> print(report.text())                        # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cxlib import catalog, io, sources
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError

#: the timestamp whose range ``cx check`` shows, per table
DATE_COLUMN = {"visits": "arrived_at", "touchpoints": "ts", "surveys": "submitted_at", "complaints": "filed_at"}


@dataclass
class FileCheck:
    """One file (or sheet) of a table: rows, column plan, problems."""

    name: str
    rows: int = 0
    plan: io.ColumnPlan | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class TableCheck:
    """What ``cx check`` found for one table."""

    table: str
    given: bool
    required: bool
    spec: sources.SourceSpec
    files: list[FileCheck] = field(default_factory=list)
    first: str | None = None  # date range of DATE_COLUMN, local time
    last: str | None = None
    unreadable_dates: int = 0
    ambiguous_dates: int = 0
    problems: list[str] = field(default_factory=list)
    suggestions: list[tuple[str, str, str]] = field(default_factory=list)  # (raw header, column, why)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def missing(self) -> list[str]:
        out: list[str] = []
        for f in self.files:
            if f.plan is not None:
                out.extend(m for m in f.plan.missing if m not in out)
        return out

    @property
    def extras(self) -> list[tuple[str, str]]:
        out: dict[str, str] = {}
        for f in self.files:
            if f.plan is not None:
                for n, h in f.plan.extras:
                    out.setdefault(n, h)
        return list(out.items())


@dataclass
class CheckReport:
    """The result of :func:`check`: per table, plus folder-level problems."""

    raw_dir: Path
    profile: Path | None
    tables: dict[str, TableCheck]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when ``cx clean`` would succeed on the folder."""
        return (
            not self.problems
            and not any(t.problems for t in self.tables.values())
            and not any(f.problems for t in self.tables.values() for f in t.files)
        )

    def text(self) -> str:
        """The report as the command line prints it."""
        return _render(self)


# ------------------------------------------------------------------------- suggestions
def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", io.strip_numbering(str(text))).strip().lower()
    t = re.sub(r"[(\[（【][^)\]）】]*[)\]）】]", "", t)
    return re.sub(r"[\s_\-:：?？、.,，]+", "", t)


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(b) >= 2 and b in a or len(a) >= 2 and a in b:
        return 0.8
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    cjk = [c for c in set(a) & set(b) if ord(c) > 0x2E80]
    if cjk and len(cjk) < 2:
        ratio = min(ratio, 0.5)  # one shared character (时, 号) is no resemblance
    return ratio


def suggest(header: str, table: str, *, wanted: list[str] | None = None) -> tuple[str, str] | None:
    """(contract column, why) for a raw header that resembles one of the table's headers.

    ``wanted`` (columns still missing) are preferred on a tie.

    >>> suggest("进厂时间", "visits")
    ('arrived_at', 'a usual name for 到店时间 (arrived_at)')
    >>> suggest("交车日期", "visits")[0], suggest("天气", "visits")
    ('delivered_at', None)
    """
    key = _norm(header)
    hints = {_norm(k): v for k, v in catalog.HEADER_HINTS.get(table, {}).items()}
    cols = {c.name: c for c in catalog.TABLES[table]}
    if key in hints:
        c = cols[hints[key]]
        return c.name, f"a usual name for {c.zh} ({c.name})"
    best: tuple[float, int, str, str] | None = None
    for c in catalog.TABLES[table]:
        for spelling in (
            c.name,
            c.zh,
            *c.aliases,
            *(k for k, v in catalog.HEADER_HINTS.get(table, {}).items() if v == c.name),
        ):
            score = _similarity(key, _norm(spelling))
            rank = (score, int(c.name in (wanted or [])), c.name, spelling)
            if score >= 0.5 and (best is None or rank[:2] > best[:2]):
                best = rank
    if best is None:
        return None
    c = cols[best[2]]
    return c.name, f"resembles {c.zh} ({c.name})"


# ------------------------------------------------------------------------------- check
def _date_range(tc: TableCheck, arrays: list, tz: str) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from cxlib import clean

    col = DATE_COLUMN.get(tc.table)
    if col is None or not arrays:
        return
    arr = pa.chunked_array([a for a in arrays], type=pa.string()).combine_chunks()
    with clean.timestamp_options(formats=tc.spec.date_formats, dayfirst=tc.spec.dayfirst):
        utc, _, bad, _ = clean._parse_ts_array(clean._strip(arr), tc.spec.tz or tz)
    ok = utc != clean._NAT
    tc.unreadable_dates = int(bad.sum())
    if tc.spec.dayfirst is None and bad.any():
        texts = pc.utf8_trim_whitespace(arr.filter(pa.array(bad)))
        tc.ambiguous_dates = int(
            np.asarray(
                pc.match_substring_regex(texts, r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}").to_numpy(zero_copy_only=False),
                dtype=bool,
            ).sum()
        )
    if ok.any():
        zone = tc.spec.tz or tz
        lo, hi = (pd.Timestamp(int(v), unit="us", tz="UTC").tz_convert(zone) for v in (utc[ok].min(), utc[ok].max()))
        tc.first, tc.last = f"{lo:%Y-%m-%d %H:%M}", f"{hi:%Y-%m-%d %H:%M}"


def _check_table(raw_dir: Path, tc: TableCheck, paths: list[Path], tz: str) -> None:
    dates = []
    col = DATE_COLUMN.get(tc.table)
    for p in paths:
        try:
            parts = io._read_parts(p, tc.table, tc.spec)
        except DataError as exc:
            tc.files.append(FileCheck(p.name, problems=[str(exc)]))
            continue
        for label, at in parts:
            plan = io.plan_columns(at.column_names, tc.table, label, source=tc.spec)
            fc = FileCheck(label, at.num_rows, plan)
            fc.problems.extend(str(e) for e in plan.problems)
            if plan.missing:
                fc.problems.append("required column missing")
            tc.files.append(fc)
            if col is not None and col in plan.targets:
                dates.append(at.column(plan.targets.index(col)).cast("string"))
    try:
        _date_range(tc, [c for d in dates for c in d.chunks], tz)
    except Exception as exc:  # a date range is information only: never hide the rest of the report
        tc.problems.append(f"the dates of {col} could not be read: {exc}")
    wanted = tc.missing
    seen: set[str] = set()
    for f in tc.files:
        if f.plan is None:
            continue
        for _name, header in f.plan.extras:
            if header in seen or header.startswith("_unnamed_"):
                continue
            seen.add(header)
            s = suggest(header, tc.table, wanted=wanted)
            taken = {t for t, k in zip(f.plan.targets, f.plan.kinds) if k in ("contract", "renamed")}
            if s is not None and s[0] not in taken:
                tc.suggestions.append((header, *s))


def check(raw_dir: str | Path, *, tz: str = DEFAULT_TZ, confirm: bool = True) -> CheckReport:
    """Explain how ``cx clean`` will read ``raw_dir``, collecting every problem instead of
    stopping at the first. With ``confirm`` (and no problem found) the folder is cleaned into a
    temporary folder, removed again, so that ``report.ok`` means ``cx clean`` succeeds.

    >>> check("data/raw").ok   # doctest: +SKIP
    True
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError("raw data folder not found", file=str(raw_dir))
    report = CheckReport(raw_dir, None, {})
    try:
        src = sources.load_sources(raw_dir)
    except DataError as exc:
        report.problems.append(str(exc))
        return report
    report.profile = src.path
    files: dict[str, list[Path]] = {}
    for t in catalog.TABLES:
        try:
            files[t] = sources.table_files(raw_dir, src.tables[t])
        except DataError as exc:
            files[t] = (
                sources.table_files(raw_dir, src.tables[t], check_copies=False) if "second download" in str(exc) else []
            )
            report.problems.append(str(exc))
    owner: dict[str, str] = {}
    for t, paths in files.items():
        for p in paths:
            if p.name in owner:
                report.problems.append(f"{p.name}: the file is claimed by table {owner[p.name]} and by table {t}")
            owner.setdefault(p.name, t)
    from cxlib.clean import REQUIRED_TABLES

    for t in catalog.TABLES:
        tc = TableCheck(t, bool(files[t]), t in REQUIRED_TABLES, src.tables[t])
        report.tables[t] = tc
        if not files[t]:
            if tc.required:
                tc.problems.append(
                    f"required table {t} is missing: no file"
                    + (
                        f" matches {', '.join(tc.spec.files)}"
                        if tc.spec.files
                        else f" named {t}*.csv / .xlsx / .xls / .parquet"
                    )
                )
            continue
        _check_table(raw_dir, tc, files[t], tz)
    if confirm and report.ok:
        from cxlib import clean

        tmp = Path(tempfile.mkdtemp(prefix="cx-check-"))
        try:
            clean.clean(raw_dir, tmp / "processed", tz=tz, force=True)
        except DataError as exc:
            report.problems.append(str(exc))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return report


# ------------------------------------------------------------------------------ output
def _render(r: CheckReport) -> str:
    lines = [
        f"raw folder {r.raw_dir}"
        + (f" with profile {r.profile.name}" if r.profile else " (no sources.yaml: the contract's names)")
    ]
    zh = {t: {c.name: c.zh for c in cols} for t, cols in catalog.TABLES.items()}
    for t, tc in r.tables.items():
        lines.append("")
        status = "given" if tc.given else ("MISSING (required)" if tc.required else "not provided (optional)")
        if t == "centers" and not tc.given:
            status = "not provided: derived from the visits (no rollout dates)"
        use = f", profile {tc.spec.profile}" if tc.spec.profile else ""
        lines.append(f"{t}: {status}{use}")
        if not tc.files:
            lines.extend(f"  ! {p}" for p in tc.problems)
            continue
        lines.append(f"  files: {', '.join(f'{f.name} ({f.rows:,} rows)' for f in tc.files)}")
        rng = f", {DATE_COLUMN[t]} {tc.first} .. {tc.last}" if tc.first else ""
        lines.append(f"  rows: {tc.rows:,}{rng}")
        if tc.unreadable_dates:
            extra = (
                f" ({tc.ambiguous_dates:,} look like 10/3/2026: declare dayfirst: true or false in sources.yaml)"
                if tc.ambiguous_dates
                else ""
            )
            lines.append(
                f"  note: {tc.unreadable_dates:,} values of {DATE_COLUMN[t]} are unreadable{extra}; "
                "such rows are quarantined"
            )
        plan = next((f.plan for f in tc.files if f.plan is not None), None)
        if plan is not None:
            lines.append("  columns:")
            width = max(len(h) for h in plan.headers) if plan.headers else 0
            for h, target, kind in zip(plan.headers, plan.targets, plan.kinds):
                if kind == "dropped":
                    what = "dropped"
                elif kind == "extra":
                    what = f"extra column {target}"
                else:
                    what = f"{target} ({zh[t].get(target or '', '')})" + (" renamed" if kind == "renamed" else "")
                lines.append(f"    {h.ljust(width)} -> {what}")
        if tc.extras:
            lines.append(f"  extra columns carried as dimensions: {', '.join(n for n, _ in tc.extras)}")
        if tc.missing:
            lines.append("  ! missing required columns: " + ", ".join(f"{m} ({zh[t][m]})" for m in tc.missing))
        problems = [p for f in tc.files for p in f.problems if "required column missing" not in p] + tc.problems
        lines.extend(f"  ! {p}" for p in dict.fromkeys(problems))
        if tc.suggestions:
            lines.append(
                f"  suggested lines for {sources.SOURCES_FILE} (check them, then add them under {t}: rename:):"
            )
            for header, col, why in tc.suggestions:
                lines.append(f"      {_yaml_key(header)}: {col}    # {why}")
    if r.problems:
        lines.append("")
        lines.extend(f"! {p}" for p in r.problems)
    lines.append("")
    lines.append("ok: cx clean will succeed" if r.ok else "not ok: cx clean would stop; fix the lines marked !")
    return "\n".join(lines)


def _yaml_key(header: str) -> str:
    """A header as a YAML key (quoted when it needs to be)."""
    if re.fullmatch(r"[\w\u4e00-\u9fff()（）]+", header) and not header[0].isdigit():
        return header
    return '"' + header.replace("\\", "\\\\").replace('"', '\\"') + '"'
