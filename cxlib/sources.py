"""Source profiles: how the exports in a raw folder map onto the tables of the data contract.

Without a profile, the contract's names work as they are: the files of a table are those
whose name starts with the table name (``visits_2026-10.csv``), their headers the canonical
or Chinese contract headers. A file ``sources.yaml`` in the raw folder describes exports that
look otherwise, one entry per table::

    visits:
      files: ["DMS工单导出*.xlsx"]     # globs in the raw folder (exact names are allowed too)
      sheet: 工单明细                  # the sheet to read (a workbook with several needs one)
      header_row: 2                    # 1-based row of the header; rows above it are titles
      rename: {门店: center, 进厂时间: arrived_at, 服务顾问: advisor}
      values: {scenario: {保养: maintenance, 维修: repair, 事故维修: accident}}
      drop: [车牌号]                   # raw columns not carried at all
      tz: Asia/Shanghai                # time zone of its timestamps without offset
      date_formats: ["%Y.%m.%d %H:%M"] # extra strptime formats
      dayfirst: false                  # 10/3/2026 is 3 October (true: 10 March)
    surveys:
      use: wjx                         # a shipped profile (wjx = 问卷星, qualtrics) as the base
      files: ["问卷星*.csv"]

Keys of a table entry: ``use``, ``files``, ``sheet``, ``sheets`` (a list of sheet names or
``all``: stack same-shaped sheets), ``header_row``, ``skip_rows`` (rows under the header that
are not data, e.g. Qualtrics' question text and ImportId rows), ``rename``, ``patterns``
(regular expression on the header -> column), ``strip_numbering`` (drop question numbers
``1、`` / ``Q1.`` before matching), ``values``, ``drop``, ``tz``, ``date_formats``,
``dayfirst``. Tables not listed keep the default rule. Anything else is refused with one
:class:`~cxlib.errors.DataError` naming ``sources.yaml`` and the key.

Example
-------
>>> from cxlib import sources
>>> spec = sources.load_sources("data/raw").tables["visits"]   # doctest: +SKIP
>>> [p.name for p in sources.table_files("data/raw", spec)][:1] # doctest: +SKIP
['visits_2026-05.csv']
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from cxlib import catalog
from cxlib.errors import DataError

SOURCES_FILE = "sources.yaml"
PROFILE_DIR = Path(__file__).with_name("profiles")

_KEYS = (
    "use",
    "files",
    "sheet",
    "sheets",
    "header_row",
    "skip_rows",
    "rename",
    "patterns",
    "strip_numbering",
    "values",
    "drop",
    "tz",
    "date_formats",
    "dayfirst",
)
#: a second download of the same export: ``surveys (1).csv``, ``surveys - 副本.csv``, ``surveys(2).xlsx``
_COPY_RE = re.compile(
    r"^(?P<base>.+?)(?:\s*\(\d+\)|\s*[-_]?\s*(?:副本|复制|copy|kopie)(?:\s*\(\d+\))?)$", re.IGNORECASE
)


@dataclass(frozen=True)
class SourceSpec:
    """How one table is read: its files, sheet, header row, renames, value maps, time zone.

    ``explicit`` is True when ``sources.yaml`` lists the table (``files`` are then its
    globs; otherwise the files are those whose name starts with the table name).
    """

    table: str
    files: tuple[str, ...] = ()
    explicit: bool = False
    profile: str | None = None
    sheet: str | int | None = None
    sheets: tuple[str, ...] | str | None = None
    header_row: int = 1
    skip_rows: int = 0
    rename: dict[str, str] = field(default_factory=dict)
    patterns: tuple[tuple[str, str], ...] = ()
    strip_numbering: bool = False
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    tz: str | None = None
    date_formats: tuple[str, ...] = ()
    dayfirst: bool | None = None
    own: tuple[str, ...] = ()  # raw headers the user's own rename / drop / values name (must exist)

    @property
    def origin(self) -> str:
        """Where the spec comes from, for error messages."""
        return f"{SOURCES_FILE}, table {self.table}" if self.explicit else f"table {self.table}"


@dataclass(frozen=True)
class Sources:
    """The source spec of every table of a raw folder (the default rule where none is given)."""

    raw_dir: Path
    tables: dict[str, SourceSpec]
    path: Path | None = None  # the sources.yaml read, if any

    def spec(self, table: str) -> SourceSpec:
        return self.tables[table]


# ------------------------------------------------------------------------------ YAML
class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors/aliases and duplicate keys."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    out = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _load_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text: save the profile as UTF-8", file=path.name) from None
    try:
        for event in yaml.parse(text, Loader=_StrictLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                start = event.start_mark
                where = f"line {start.line + 1}: " if start is not None else ""
                raise DataError(f"{where}YAML anchors and aliases (&, *) are not allowed", file=path.name)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"{where}not valid YAML: {what}", file=path.name) from None


# --------------------------------------------------------------------------- profiles
def shipped_profiles() -> list[str]:
    """Names of the profiles that ship with the workbench (usable as ``use: NAME``).

    >>> shipped_profiles()
    ['qualtrics', 'wjx']
    """
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def _profile(name: str, where: str) -> dict:
    path = PROFILE_DIR / f"{name}.yaml"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise DataError(
            f"unknown profile {name!r} in use:; shipped profiles: {', '.join(shipped_profiles())}",
            file=where,
            column="use",
        )
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise DataError("a profile must be a mapping of keys", file=path.name)
    return data


def _merge(base: dict, own: dict) -> dict:
    """The user's keys over a shipped profile's: mappings merged (user wins), lists joined."""
    out = dict(base)
    for k, v in own.items():
        if k in ("rename", "values") and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        elif k in ("drop", "date_formats", "patterns") and isinstance(v, (list, dict)) and k in out:
            out[k] = (list(v.items()) if isinstance(v, dict) else list(v)) + (
                list(out[k].items()) if isinstance(out[k], dict) else list(out[k])
            )
        else:
            out[k] = v
    return out


# ------------------------------------------------------------------------- validation
def _text_list(value: object, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise DataError(f"{key} must be a text or a list of texts", file=where, column=key)
    return tuple(str(v).strip() for v in value)


def _spec(table: str, entry: object, where: str) -> SourceSpec:
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise DataError(
            f"the entry of table {table} must be a mapping of keys ({', '.join(_KEYS)})", file=where, column=table
        )
    profile = entry.get("use")
    own = [
        str(k).strip()
        for key in ("rename", "drop", "values")
        for k in (
            (entry.get(key) or {})
            if isinstance(entry.get(key), dict)
            else ([entry.get(key)] if isinstance(entry.get(key), str) else (entry.get(key) or []))
        )
    ]
    if profile is not None:
        entry = _merge(_profile(profile, where), {k: v for k, v in entry.items() if k != "use"})
    unknown = [k for k in entry if k not in _KEYS]
    if unknown:
        raise DataError(
            f"unknown key {unknown[0]!r} in table {table}; keys are {', '.join(_KEYS)}",
            file=where,
            column=str(unknown[0]),
        )
    kw: dict = {"table": table, "explicit": True, "profile": profile, "own": tuple(own)}
    kw["files"] = _text_list(entry["files"], "files", where) if "files" in entry else ()
    for key in ("header_row", "skip_rows"):
        if key in entry:
            v = entry[key]
            low = 1 if key == "header_row" else 0
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 1000:
                raise DataError(
                    f"{key} of table {table} must be a whole number from {low} to 1000, not {v!r}",
                    file=where,
                    column=key,
                )
            kw[key] = v
    if "sheet" in entry and "sheets" in entry:
        raise DataError(
            f"table {table}: give either sheet (one sheet) or sheets (sheets to stack), not both",
            file=where,
            column="sheets",
        )
    if "sheet" in entry:
        v = entry["sheet"]
        if isinstance(v, bool) or not isinstance(v, (str, int)) or not str(v).strip():
            raise DataError(f"sheet of table {table} must be a sheet name", file=where, column="sheet")
        kw["sheet"] = v if isinstance(v, int) else str(v).strip()
    if "sheets" in entry:
        v = entry["sheets"]
        kw["sheets"] = "all" if v == "all" else _text_list(v, "sheets", where)
    for key in ("rename",):
        v = entry.get(key) or {}
        if not isinstance(v, dict):
            raise DataError(f"{key} of table {table} must map raw headers to column names", file=where, column=key)
        out = {}
        for raw, target in v.items():
            if not isinstance(target, str) or not target.strip() or raw is None or not str(raw).strip():
                raise DataError(
                    f"rename of table {table}: {raw!r}: {target!r} must map a header to a column name",
                    file=where,
                    column=str(raw),
                )
            out[str(raw).strip()] = target.strip()
        kw[key] = out
    pats = entry.get("patterns") or []
    if isinstance(pats, dict):
        pats = list(pats.items())
    if not isinstance(pats, list):
        raise DataError(
            f"patterns of table {table} must map regular expressions to column names", file=where, column="patterns"
        )
    checked = []
    for item in pats:
        if isinstance(item, dict) and len(item) == 1:
            item = next(iter(item.items()))
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise DataError(
                f"patterns of table {table}: {item!r} must be 'regular expression: column'",
                file=where,
                column="patterns",
            )
        try:
            re.compile(item[0])
        except re.error as exc:
            raise DataError(
                f"patterns of table {table}: {item[0]!r} is not a regular expression ({exc})",
                file=where,
                column="patterns",
            ) from None
        checked.append((item[0], item[1].strip()))
    kw["patterns"] = tuple(checked)
    if "strip_numbering" in entry:
        if not isinstance(entry["strip_numbering"], bool):
            raise DataError("strip_numbering must be true or false", file=where, column="strip_numbering")
        kw["strip_numbering"] = entry["strip_numbering"]
    vals = entry.get("values") or {}
    if not isinstance(vals, dict) or not all(isinstance(m, dict) for m in vals.values()):
        raise DataError(
            f"values of table {table} must map a column to {{raw value: code}}", file=where, column="values"
        )
    kw["values"] = {
        str(c).strip(): {str(k).strip(): str(v).strip() for k, v in m.items() if k is not None} for c, m in vals.items()
    }
    if "drop" in entry:
        kw["drop"] = _text_list(entry["drop"], "drop", where)
    if entry.get("tz") is not None:
        tz = entry["tz"]
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(str(tz))
        except Exception:
            raise DataError(
                f"unknown time zone {tz!r} for table {table}; use an IANA name such as {catalog.DEFAULT_TZ}",
                file=where,
                column="tz",
            ) from None
        kw["tz"] = str(tz)
    if "date_formats" in entry:
        fmts = _text_list(entry["date_formats"], "date_formats", where)
        for f in fmts:
            if "%" not in f:
                raise DataError(
                    f"date format {f!r} of table {table} has no % directive (e.g. %Y.%m.%d %H:%M)",
                    file=where,
                    column="date_formats",
                )
        kw["date_formats"] = fmts
    if "dayfirst" in entry:
        if not isinstance(entry["dayfirst"], bool):
            raise DataError(
                "dayfirst must be true (10/3/2026 is 10 March) or false (3 October)", file=where, column="dayfirst"
            )
        kw["dayfirst"] = entry["dayfirst"]
    spec = SourceSpec(**kw)
    for raw, target in list(spec.rename.items()) + [(p, t) for p, t in spec.patterns]:
        if re.search(r"\s", target):
            raise DataError(
                f"table {table}: {raw!r} is renamed to {target!r}; a column name has no spaces",
                file=where,
                column=str(raw),
            )
    return spec


def load_sources(raw_dir: str | Path) -> Sources:
    """The source specs of ``raw_dir``: from its ``sources.yaml`` where given, else the default rule.

    >>> load_sources("data/raw").tables["surveys"].explicit   # doctest: +SKIP
    False
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / SOURCES_FILE
    tables = {t: SourceSpec(t) for t in catalog.TABLES}
    if not path.is_file():
        return Sources(raw_dir, tables)
    data = _load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError("sources.yaml must map table names to their source entries", file=path.name)
    for key, entry in data.items():
        if key not in catalog.TABLES:
            raise DataError(
                f"unknown table {key!r}; tables are {', '.join(catalog.TABLES)}", file=path.name, column=str(key)
            )
        tables[key] = _spec(key, entry, path.name)
    return Sources(raw_dir, tables, path)


# ------------------------------------------------------------------------------ files
def duplicate_of(name: str) -> str | None:
    """The base name when ``name`` looks like a second download of the same export, else None.

    >>> duplicate_of("surveys (1).csv"), duplicate_of("surveys - 副本.csv"), duplicate_of("surveys.csv")
    ('surveys.csv', 'surveys.csv', None)
    """
    p = Path(name)
    m = _COPY_RE.match(p.stem)
    return f"{m.group('base').rstrip()}{p.suffix}" if m else None


def _default_files(raw_dir: Path, table: str) -> list[Path]:
    others = [t for t in catalog.TABLES if t != table and t.startswith(table)]
    out = []
    for p in sorted(raw_dir.iterdir(), key=lambda p: p.name):
        low = p.name.lower()
        if (
            p.is_file()
            and low.startswith(table)
            and p.suffix.lower() in catalog.RAW_EXTENSIONS
            and not low.startswith(("~$", "."))
            and not any(low.startswith(o) for o in others)
        ):
            out.append(p)
    return out


def _glob_files(raw_dir: Path, spec: SourceSpec) -> list[Path]:
    out: dict[str, Path] = {}
    names = sorted(p.name for p in raw_dir.iterdir() if p.is_file())
    for pattern in spec.files:
        if "/" in pattern or "\\" in pattern or pattern.startswith(".."):
            raise DataError(
                f"files of table {spec.table}: {pattern!r} must name files in the raw folder itself",
                file=SOURCES_FILE,
                column="files",
            )
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern) and not n.startswith(("~$", "."))]
        if not hits:
            raise DataError(
                f"files of table {spec.table}: no file in the raw folder matches {pattern!r}",
                file=SOURCES_FILE,
                column="files",
            )
        for n in hits:
            out.setdefault(n, raw_dir / n)
    return [out[n] for n in sorted(out)]


def table_files(raw_dir: str | Path, spec: SourceSpec, *, check_copies: bool = True) -> list[Path]:
    """The files of one table, sorted by name: the spec's globs, or the names starting with the table name.

    A file named like a second download (``surveys (1).csv``) is refused unless the spec lists
    it by its exact name: stacking both copies would count every row twice.

    >>> [p.name for p in table_files("data/raw", SourceSpec("visits"))][:1]  # doctest: +SKIP
    ['visits_2026-05.csv']
    """
    raw_dir = Path(raw_dir)
    files = _glob_files(raw_dir, spec) if spec.files else _default_files(raw_dir, spec.table)
    if check_copies:
        for p in files:
            base = duplicate_of(p.name)
            if base is not None and p.name not in spec.files:
                also = " next to " + base if (raw_dir / base).is_file() else ""
                raise DataError(
                    f"looks like a second download of the same export{also}: remove the copy, or list "
                    f"the file by its exact name under files: of table {spec.table} in {SOURCES_FILE}",
                    file=p.name,
                )
    return files


def resolve(raw_dir: str | Path, *, check_copies: bool = True) -> tuple[Sources, dict[str, list[Path]]]:
    """The specs and files of every table; a file claimed by two tables is refused.

    >>> _, files = resolve("data/raw"); sorted(files)   # doctest: +SKIP
    ['centers', 'complaints', 'surveys', 'touchpoints', 'visits']
    """
    src = load_sources(raw_dir)
    files = {t: table_files(raw_dir, src.tables[t], check_copies=check_copies) for t in catalog.TABLES}
    owner: dict[str, str] = {}
    for t, paths in files.items():
        for p in paths:
            if p.name in owner:
                raise DataError(
                    f"the file is claimed by table {owner[p.name]} and by table {t}; narrow the "
                    f"files: globs in {SOURCES_FILE}",
                    file=p.name,
                )
            owner[p.name] = t
    return src, files


def with_files(spec: SourceSpec, *names: str) -> SourceSpec:
    """A copy of ``spec`` reading exactly the files ``names`` (for tests and one-off reads)."""
    return replace(spec, files=tuple(names), explicit=True)
