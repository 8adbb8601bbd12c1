"""The options of a report run: one table from which the ``cx report`` command line and the
``--params`` YAML file are both built and checked, so the two cannot drift apart.

Each :class:`Option` names its type, its allowed values or range, its default, its help text
and whether it is handed to the notebooks. :func:`check` turns values as they come (text from
the command line, YAML scalars and lists from a params file) into clean Python values, or
raises :class:`OptionError` (a :class:`~cxlib.errors.DataError`) naming the option, and the
params file when the value came from one, in one line. :func:`load_params` reads a params file
with a YAML loader that refuses aliases (a "billion laughs" file cannot blow up memory),
duplicate keys, deep nesting and anything that is not a small UTF-8 text.

>>> check({"jobs": "2", "scenario": "维修", "timeout": "0.5"})
{'jobs': 2, 'scenario': 'repair', 'timeout': 0.5}
>>> try:
...     check({"jobs": "two"})
... except OptionError as e:
...     print(e)
--jobs must be a whole number from 1 to 64, got 'two'
"""

from __future__ import annotations

import datetime as _dt
import math
import zoneinfo
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlib import catalog, paths
from cxlib.errors import DataError

if TYPE_CHECKING:
    import yaml

#: Columns of the processed visits table that notebook 03 may hold fixed in its models (on top
#: of the update programme's parts, which it always adds): visit circumstances known before the
#: updates were sent. Outcomes (``ltr``, complaints, anxiety), ids and the update counts are not.
CONTROL_COLUMNS: tuple[str, ...] = (
    "repair_minutes",
    "wait_minutes",
    "visit_minutes",
    "scenario",
    "warranty",
    "center",
    "month",
    "vehicle_model",
    "amount_cny",
    "realtime_live",
)
#: Largest run parameters file read (bytes).
MAX_PARAMS_BYTES = 64 * 1024
#: Deepest nesting of lists / mappings in a run parameters file.
MAX_PARAMS_DEPTH = 8


class OptionError(DataError):
    """A bad value of a run option; ``option`` is its name, ``file`` the params file if any.

    >>> print(OptionError("must be zh, en or both, got 'fr'", option="lang", file="run.yaml"))
    run.yaml: lang must be zh, en or both, got 'fr'
    """

    def __init__(self, message: str, *, option: str, file: str | Path | None = None, named: bool = True) -> None:
        self.option = option
        self.named = named
        super().__init__(message, file=file)

    @property
    def label(self) -> str:
        """How the option is named: ``--n-sims`` on the command line, ``n_sims`` in a file."""
        return self.option if self.file else "--" + self.option.replace("_", "-")

    def __str__(self) -> str:
        text = f"{self.label} {self.message}" if self.named else self.message
        return f"{self.file}: {text}" if self.file else text


class _Bad(ValueError):
    """Raised by a parser with the message that follows the option's name."""


# ------------------------------------------------------------------ parsers of one value
def _shown(value: Any) -> str:
    """A value as it appears in an error message, with a hint for YAML's surprising types."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a YAML boolean: yes/no/on/off are booleans, quote the value)"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value} (a YAML date: quote the value)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError
    x = float(value.strip().replace("_", "") if isinstance(value, str) else value)
    if not math.isfinite(x):
        raise ValueError
    return x


def _g(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _range_text(opt: Option, whole: bool) -> str:
    what = "a whole number" if whole else "a number"
    lo, hi = opt.low, opt.high
    if lo == 0 and opt.open_low:
        return f"a positive {what[2:]}" + (f" up to {_g(hi)}" if hi is not None else "")
    if lo is not None and hi is not None:
        return f"{what} from {_g(lo)} to {_g(hi)}"
    if lo is not None:
        return f"{what} of at least {_g(lo)}"
    return what


def _in_range(opt: Option, x: float) -> bool:
    if opt.low is not None and (x < opt.low or (opt.open_low and x == opt.low)):
        return False
    return opt.high is None or x <= opt.high


def _int(opt: Option, value: Any) -> int:
    try:
        x = _number(value)
    except (ValueError, OverflowError):
        x = None
    if (
        x is None
        or not x.is_integer()
        or not _in_range(opt, x)
        or (isinstance(value, int) and not _in_range(opt, value))
    ):
        raise _Bad(f"must be {_range_text(opt, True)}, got {_shown(value)}")
    return value if isinstance(value, int) and not isinstance(value, bool) else int(x)


def _float(opt: Option, value: Any) -> int | float:
    try:
        x = _number(value)
    except (ValueError, OverflowError):
        x = None
    if x is None or not _in_range(opt, x):
        raise _Bad(f"must be {_range_text(opt, False)}, got {_shown(value)}")
    return int(x) if x.is_integer() else x


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be text, got {_shown(value)}")
    if "\x00" in value:
        raise _Bad("must not contain NUL characters")
    return value.strip()


def refuse_path(name: str, value: Any) -> None:
    """Refuse a value that could escape a folder: used on every text option that is not a path.

    >>> refuse_path("lang", "zh")
    >>> try:
    ...     refuse_path("lang", "../../etc")
    ... except DataError as e:
    ...     print(e)
    column lang: parameter lang='../../etc' must not contain a path
    """
    if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value or "\x00" in value):
        raise DataError(f"parameter {name}={value!r} must not contain a path", column=name)


def _safe_text(opt: Option, value: Any) -> str:
    text = _text(value)
    if "/" in text or "\\" in text or ".." in text:
        raise _Bad(f"must not contain a path, got {_shown(value)}")
    return text


_YES = frozenset({"yes", "y", "true", "on", "1"})
_NO = frozenset({"no", "n", "false", "off", "0"})


def _bool(opt: Option, value: Any) -> bool:
    """A yes/no option: a YAML boolean, or text yes/no, true/false, on/off, 1/0 (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    raise _Bad(f"must be yes or no, got {_shown(value) if not isinstance(value, bool) else value}")


def _choice(opt: Option, value: Any) -> str:
    text = _safe_text(opt, value)
    key = text.lower()
    for code, spellings in opt.choices:
        if key in spellings:
            return code
    raise _Bad(f"must be {_one_of(opt)}, got {_shown(value)}")


def _one_of(opt: Option) -> str:
    codes = [c for c, _ in opt.choices]
    return ", ".join(codes[:-1]) + " or " + codes[-1] if len(codes) > 1 else codes[0]


def _items(value: Any) -> list[Any]:
    """A list option's items: a YAML list, or text with items separated by commas."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [s for s in value.split(",") if s.strip()]
    raise _Bad(f"must be a list or text with items separated by commas, got {_shown(value)}")


def _choices(opt: Option, value: Any) -> list[str]:
    out = []
    for item in _items(value):
        try:
            out.append(_choice(opt, item))
        except _Bad:
            raise _Bad(f"must list items of {_one_of(opt)}, got {_shown(item)}") from None
    return list(dict.fromkeys(out))


def _center(opt: Option, value: Any) -> str | list[str]:
    """Center ids (checked against the processed data later): text or a list of text."""
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise _Bad(f"must list center ids as text, got {_shown(item)}")
            items.append(_text(item))
        return items
    return _text(value)


def _period(opt: Option, value: Any) -> str:
    from cxlib.report import parse_period

    text = _text(value)
    try:
        parse_period(text)
    except DataError as exc:
        if "ends before" in exc.message:
            raise _Bad(f"ends before it starts, got {_shown(value)}") from None
        raise _Bad(f"must be YYYY-MM, YYYY-MM..YYYY-MM or all, got {_shown(value)}") from None
    return text


def _tz(opt: Option, value: Any) -> str:
    text = _text(value)
    try:
        if not text or ".." in text or text.startswith("/"):
            raise ValueError
        zoneinfo.ZoneInfo(text)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError, OSError):
        raise _Bad(f"must be an IANA time zone such as {catalog.DEFAULT_TZ}, got {_shown(value)}") from None
    return text


def _path(opt: Option, value: Any) -> str:
    text = _text(value)
    if not text:
        raise _Bad("must not be empty")
    return text


def _file(opt: Option, value: Any) -> str:
    text = _path(opt, value)
    if not Path(text).is_file():
        raise _Bad(f"must name an existing file, got {_shown(value)}")
    return text


def _column(opt: Option, value: Any) -> str:
    """A column name (checked against the processed data when the run starts)."""
    text = _text(value)
    if not text or any(ch in text for ch in "/\\\x00") or ".." in text:
        raise _Bad(f"must name a column of the visits, got {_shown(value)}")
    return text


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Option:
    """One run option: how it is parsed, what is allowed, its default and help.

    ``default`` is what a run uses when the option is not given; for a notebook option
    (``notebook=True``) it is the notebook's own default from its ``parameters`` cell, and the
    option is handed to the notebooks only when given.
    """

    name: str
    parse: Callable[[Option, Any], Any]
    help: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple[tuple[str, frozenset[str]], ...] = ()
    notebook: bool = False
    metavar: str | None = None

    @property
    def flag(self) -> str:
        """The command-line flag: ``--n-sims`` for ``n_sims``."""
        return "--" + self.name.replace("_", "-")

    @property
    def allowed(self) -> str:
        """The allowed values in words (for the help and the README table)."""
        if self.choices:
            return _one_of(self) if self.parse is _choice else f"items of {_one_of(self)}"
        if self.parse in (_int, _float):
            return _range_text(self, self.parse is _int)
        described: dict[Callable[[Option, Any], Any], str] = {
            _period: "YYYY-MM, YYYY-MM..YYYY-MM or all",
            _center: "center ids (list or commas) or all",
            _tz: "IANA time zone",
            _path: "a path",
            _file: "an existing file",
            _column: "a column of the visits",
            _bool: "yes or no",
        }
        return described[self.parse]

    @property
    def yes_no(self) -> bool:
        """Whether the option is a yes/no one (on the command line it may be given alone: ``--pdf``).

        >>> [o.name for o in OPTIONS if o.yes_no]
        ['pdf', 'xlsx']
        """
        return self.parse is _bool

    def value(self, raw: Any) -> Any:
        """``raw`` parsed and checked (``_Bad`` with the message after the option's name)."""
        return self.parse(self, raw)


def _codes(stages: tuple[catalog.Stage, ...], extra: tuple[str, ...] = ()) -> tuple[tuple[str, frozenset[str]], ...]:
    """Choices of catalog codes, each spelled as its code, Chinese or English name."""
    out = [(e, frozenset({e})) for e in extra]
    out += [(s.code, frozenset({s.code, s.zh.lower(), s.en.lower()})) for s in stages]
    return tuple(out)


def _plain(*codes: str) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((c, frozenset({c})) for c in codes)


OPTIONS: tuple[Option, ...] = (
    Option("raw", _path, "raw data folder", paths.RAW.as_posix(), metavar="DIR"),
    Option("processed", _path, "processed data folder", paths.PROCESSED.as_posix(), metavar="DIR"),
    Option("out", _path, "reports folder", paths.REPORTS.as_posix(), metavar="DIR"),
    Option("period", _period, "months of the report", "all"),
    Option("center", _center, "centers of the report (the network as a whole is 'all')", "all"),
    Option("jobs", _int, "centers run in parallel", 1, low=1, high=64, metavar="N"),
    Option(
        "timeout",
        _float,
        "seconds a notebook cell may run before it fails its notebook (fractions are rounded up to whole seconds)",
        None,
        low=0,
        high=7 * 24 * 3600,
        open_low=True,
        metavar="SECONDS",
    ),
    Option("pdf", _bool, "also print every report page to PDF with headless Chromium (05_summary.pdf, …)", False),
    Option("xlsx", _bool, "write summary.xlsx per center and quarantine.xlsx per period", True),
    Option("tz", _tz, "time zone of raw timestamps without offset", catalog.DEFAULT_TZ, notebook=True),
    Option(
        "lang",
        _choice,
        "language of the pages: prose, tables, figures, findings",
        "both",
        choices=_plain("zh", "en", "both"),
        notebook=True,
    ),
    Option(
        "scenario",
        _choice,
        "service scenario the notebooks 02–06 analyse (code, Chinese or English name)",
        "all",
        choices=_codes(catalog.SCENARIOS, ("all",)),
        notebook=True,
    ),
    Option(
        "controls",
        _choices,
        "visit columns held fixed in the NPS and complaint models",
        ["repair_minutes", "scenario", "warranty", "center"],
        choices=_plain(*CONTROL_COLUMNS),
        notebook=True,
    ),
    Option(
        "segment",
        _column,
        "visits column of the per-segment emotion curve and NPS table (e.g. "
        "vehicle_model, or an extra column of the raw files)",
        "scenario",
        notebook=True,
        metavar="COLUMN",
    ),
    Option(
        "cases_file",
        _file,
        f"intervention cases (YAML; default: {paths.CASES_FILE} of the raw folder)",
        None,
        notebook=True,
        metavar="FILE",
    ),
    Option("horizon_years", _int, "years of the ROI cash flows", 3, low=1, high=30, notebook=True, metavar="N"),
    Option(
        "discount_rate", _float, "yearly discount rate of the ROI", 0.08, low=0, high=1, notebook=True, metavar="RATE"
    ),
    Option("n_sims", _int, "Monte Carlo draws per case", 10000, low=100, high=200_000, notebook=True, metavar="N"),
    Option(
        "seed",
        _int,
        "random seed of the Monte Carlo draws and bootstraps",
        20261001,
        low=0,
        high=2**32 - 1,
        notebook=True,
        metavar="N",
    ),
    Option(
        "budget",
        _float,
        "budget of the intervention portfolio (CNY)",
        50000,
        low=0,
        high=1e12,
        notebook=True,
        metavar="CNY",
    ),
)
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
#: Options handed to the notebooks (each notebook gets those its ``parameters`` cell declares).
NOTEBOOK_KEYS: tuple[str, ...] = tuple(o.name for o in OPTIONS if o.notebook)


def check(values: Mapping[Any, Any], *, file: str | Path | None = None) -> dict[str, Any]:
    """Parse and check run option values; ``file`` is the params file they came from, if any.

    Unknown names and bad values raise :class:`OptionError` naming the option (and the file).
    A value of None counts as not given and is left out.

        >>> check({"controls": "repair_minutes, center", "lang": "EN", "n_sims": "1e4"})
        {'controls': ['repair_minutes', 'center'], 'lang': 'en', 'n_sims': 10000}
    """
    out: dict[str, Any] = {}
    for name, raw in values.items():
        opt = BY_NAME.get(name) if isinstance(name, str) else None
        if opt is None:
            raise OptionError(
                f"unknown parameter {_shown(name)}; allowed: {', '.join(BY_NAME)}",
                option=str(name),
                file=file,
                named=False,
            )
        if raw is None:
            continue
        try:
            out[name] = opt.value(raw)
        except _Bad as exc:
            raise OptionError(str(exc), option=name, file=file) from None
    return out


def resolve(cli: Mapping[str, Any], *, params_file: str | Path | None = None) -> dict[str, Any]:
    """Every run option of a ``cx report`` run: command line over params file over defaults.

    Both sources are checked in full before anything runs. Notebook options that were given
    neither way are left out (the notebooks keep their own defaults).

        >>> resolve({"jobs": "2"})["jobs"], resolve({})["period"]
        (2, 'all')
    """
    from_file = check(load_params(Path(params_file)), file=params_file) if params_file else {}
    given = {**from_file, **check(cli)}
    out = {o.name: o.default for o in OPTIONS if not o.notebook}
    out.update(given)
    return out


# ------------------------------------------------------------------ the params file
def _loader() -> type[yaml.SafeLoader]:
    import yaml

    class ParamsLoader(yaml.SafeLoader):
        """A SafeLoader for small option files: no aliases, no duplicate keys, shallow nesting."""

        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in run parameters", mark)
            self.depth += 1
            if self.depth > MAX_PARAMS_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_PARAMS_DEPTH} levels", self.peek_event().start_mark
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)  # merge keys (<<) first, so a merged key counts too
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a key must be a plain name", key_node.start_mark
                    ) from None
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{key} is given twice (lines {first} and {line})", key_node.start_mark
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return ParamsLoader


def load_params(path: Path) -> dict[Any, Any]:
    """The mapping of a run parameters YAML file, unchecked (see :func:`check`).

    Refused with a :class:`DataError` naming the file: a file that cannot be read, is larger
    than :data:`MAX_PARAMS_BYTES`, holds binary data or is not UTF-8, is not valid YAML, uses
    aliases, repeats a key, nests deeper than :data:`MAX_PARAMS_DEPTH`, or is not a mapping.

        >>> load_params(Path("run.yaml"))  # doctest: +SKIP
        {'period': '2026-10', 'center': ['SH-JQ']}
    """
    import yaml

    name = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PARAMS_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read run parameters: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_PARAMS_BYTES:
        raise DataError(f"run parameters file is larger than {MAX_PARAMS_BYTES // 1024} KB", file=name)
    if b"\x00" in data:
        raise DataError("run parameters file holds binary data (NUL bytes), not YAML text", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"run parameters file is not UTF-8 text (byte {exc.start})", file=name) from None
    try:
        loaded = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"cannot read run parameters: {problem}{where}", file=name) from None
    except RecursionError:
        raise DataError("cannot read run parameters: nested too deeply", file=name) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise DataError("run parameters must be a mapping of option: value", file=name)
    return loaded


def _default_text(o: Option) -> str:
    """An option's default as the README table shows it."""
    if o.default is None:
        return {"timeout": "no limit", "cases_file": f"RAW/{paths.CASES_FILE}"}.get(o.name, "–")
    if isinstance(o.default, bool):
        return "yes" if o.default else "no"
    return ", ".join(o.default) if isinstance(o.default, list) else str(o.default)


def markdown_table() -> str:
    """The options as a Markdown table (the README's table of ``cx report`` options).

    >>> markdown_table().splitlines()[0]
    '| option | allowed | default | notebooks | what |'
    """
    rows = ["| option | allowed | default | notebooks | what |", "|---|---|---|---|---|"]
    for o in OPTIONS:
        default = _default_text(o)
        rows.append(
            f"| `{o.flag}` / `{o.name}:` | {o.allowed} | `{default}` | {'yes' if o.notebook else ''} | {o.help} |"
        )
    return "\n".join(rows)
