"""Key results that notebooks record for reports and dashboards.

Each numbered notebook records its headline figures under stable keys (documented in
``docs/results.md``) in one JSON file, ``results.json``. ``cx report`` gives every run its own
file; an analyst working interactively gets ``data/processed/results.json``. Later notebooks
read earlier results from the same file (notebook 04 reads the complaint rate ratio that
notebook 03 measured).

    >>> from cxlib import results
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.json"
    >>> results.record("nps", {"value": 12.5, "ci_low": 8.1, "ci_high": 16.9, "n": 900}, path)
    >>> results.read(path)["nps"]["value"]
    12.5

A result that rests on a table the raw folder did not hold (the touchpoint log, the
complaints) or on a missing cases file is never shown or recorded as a number: its section
shows :func:`not_provided` ("未提供数据 / not provided") and ``results.json`` holds the marker
``{"provided": false, "missing": [...]}`` under its key.

    >>> missing({"touchpoints": False, "complaints": True}, "touchpoints", lang="en")
    not provided: touchpoint log (touchpoints)

A result that the selection holds too little data for (a small center-month: too few complete
responses for cross-validation, relative weights or a bootstrap) is likewise no number: the
function called with ``strict=False`` returns a :class:`NotComputed` that states the n and the
threshold, the notebook shows that sentence and ``results.json`` holds the marker
``{"computed": false, "n": ..., "need": ..., "reason": "..."}``.

    >>> too_few(14, 20, ("10 折交叉验证", "10-fold cross-validation"), lang="en")
    n = 14 complete responses: too few for 10-fold cross-validation, need ≥ 20
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: What each optional input is called in a "not provided" note (table of the data contract, or file).
INPUT_NAMES: dict[str, tuple[str, str]] = {
    "touchpoints": ("触点日志", "touchpoint log"),
    "complaints": ("投诉记录", "complaints"),
    "centers": ("服务中心表", "centers table"),
    "cases": ("干预方案文件", "cases file"),
    "scores": ("触点评分", "touchpoint scores"),
    "complaint_text": ("投诉内容", "complaint text"),
}
NOT_PROVIDED = ("未提供数据", "not provided")


class _Note:
    """What :class:`NotProvided` and :class:`NotComputed` share: truthy (``note or table``
    shows either), shown as their one line of text, in HTML as a bold paragraph of class
    ``css``."""

    css = "cx-note"

    def text(self) -> str:
        raise NotImplementedError

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        import html

        return f'<p class="{self.css}"><b>{html.escape(self.text())}</b></p>'


@dataclass(frozen=True, repr=False)
class NotProvided(_Note):
    """A result that cannot be given because an input was not provided.

    Shown in a notebook as one line, "未提供数据 / not provided: <what>" in the notebook's
    ``lang`` (never a number); recorded in ``results.json`` (through :func:`jsonable`) as
    ``{"provided": false, "missing": [...]}``. It is truthy, so that ``missing or table``
    shows either the note or the table.

        >>> NotProvided(("complaints",), "en")
        not provided: complaints (complaints)
        >>> jsonable({"complained": NotProvided(("complaints",))})
        {'complained': {'provided': False, 'missing': ['complaints']}}
    """

    css = "cx-not-provided"
    missing: tuple[str, ...]
    lang: str = "both"
    detail: str = ""

    def text(self) -> str:
        """The note as plain text.

        >>> NotProvided(("touchpoints",), "zh").text()
        '未提供数据：触点日志（touchpoints）'
        """
        from cxlib.catalog import bilingual

        names = [bilingual(*INPUT_NAMES.get(m, (m, m)), lang=self.lang) for m in self.missing]  # type: ignore[arg-type]
        head = bilingual(*NOT_PROVIDED, lang=self.lang, sep=" / ")  # type: ignore[arg-type]
        if self.lang == "zh":
            sep, what = "：", "、".join(f"{n}（{m}）" for n, m in zip(names, self.missing))
        else:
            sep, what = ": ", ", ".join(f"{n} ({m})" for n, m in zip(names, self.missing))
        return f"{head}{sep}{what}" + (f" — {self.detail}" if self.detail else "")

    def short(self) -> str:
        """The note for a table cell: the heading and the codes of what is missing.

        >>> NotProvided(("complaints",)).short()
        '未提供数据 / not provided: complaints'
        """
        from cxlib.catalog import bilingual

        head = bilingual(*NOT_PROVIDED, lang=self.lang, sep=" / ")  # type: ignore[arg-type]
        return f"{head}{'：' if self.lang == 'zh' else ': '}{', '.join(self.missing)}"

    def record(self) -> dict[str, Any]:
        """The marker stored in ``results.json`` in place of the numbers.

        >>> NotProvided(("touchpoints", "complaints")).record()
        {'provided': False, 'missing': ['touchpoints', 'complaints']}
        """
        return {"provided": False, "missing": list(self.missing)}


def not_provided(table: str | Sequence[str], *, lang: str = "both", detail: str = "") -> NotProvided:
    """The "未提供数据 / not provided" note for one or more inputs (tables, or ``"cases"``).

    >>> not_provided("complaints", lang="both").text()
    '未提供数据 / not provided: 投诉记录 complaints (complaints)'
    """
    tables = (table,) if isinstance(table, str) else tuple(table)
    return NotProvided(tables, lang, detail)


def missing(given: Any, *tables: str, lang: str = "both") -> NotProvided | None:
    """The :func:`not_provided` note of those ``tables`` that were not given, or None when all were.

    ``given`` is a :class:`cxlib.clean.ProcessedData` (its ``given``) or a mapping table -> bool;
    a table it does not mention counts as given (processed data of an older version).

        >>> missing({"complaints": False}, "touchpoints", "complaints", lang="en")
        not provided: complaints (complaints)
        >>> missing({"complaints": True}, "complaints") is None
        True
    """
    flags = getattr(given, "given", given) or {}
    absent = tuple(t for t in tables if not flags.get(t, True))
    return NotProvided(absent, lang) if absent else None


class Noted:
    """A table shown under a "not provided" note (the note first, then the table)."""

    def __init__(self, table: Any, note: NotProvided) -> None:
        self.table, self.note = table, note

    def __repr__(self) -> str:
        return f"{self.note.text()}\n{self.table!r}"

    def _repr_html_(self) -> str:
        inner = self.table._repr_html_() if hasattr(self.table, "_repr_html_") else f"<pre>{self.table!r}</pre>"
        return self.note._repr_html_() + inner


def noted(table: Any, note: NotProvided | None) -> Any:
    """``table`` itself, or, when ``note`` is a :class:`NotProvided`, the table shown under the
    note: for a section that stands on its own but leaves out the columns of a missing table
    (the tier table without its complaint columns).

        >>> noted("tiers", None)
        'tiers'
        >>> print(repr(noted("tiers", NotProvided(("complaints",), "en"))))
        not provided: complaints (complaints)
        'tiers'
    """
    return table if note is None else Noted(table, note)


def missing_file(path: str | os.PathLike[str] | None, *, what: str = "cases", lang: str = "both") -> NotProvided | None:
    """The :func:`not_provided` note of a file that does not exist (naming the path), or None.

    >>> missing_file("no/such/cases_interventions.yaml", lang="en").text()
    'not provided: cases file (cases) — no/such/cases_interventions.yaml not found'
    """
    if path is not None and Path(path).is_file():
        return None
    detail = "no raw folder given" if path is None else f"{path} not found"
    return NotProvided((what,), lang, detail)


#: What a :class:`NotComputed` counts, by default: responses complete on every column used.
RESPONSES = ("份完整答卷", "complete responses")


@dataclass(frozen=True, repr=False)
class NotComputed(_Note):
    """A result the selection holds too little data for: the reason, with the n it has and the
    n a method needs.

    Shown as one line ("n = 14 complete responses: too few for 10-fold cross-validation, need ≥
    20", in the notebook's ``lang``), never a number; recorded in ``results.json`` as
    ``{"computed": false, "n": 14, "need": 20, "reason": "<the English sentence>"}``. Truthy,
    like :class:`NotProvided`, so that ``unavailable(x) or x[...]`` shows the note or the table.

        >>> NotComputed(14, ("10 折交叉验证", "10-fold cross-validation"), need=20).record()["need"]
        20
        >>> NotComputed(9, ("关键驱动因素", "key drivers"), why=("推荐意愿全部相同", "LTR is the same in every response"),
        ...             lang="en")
        n = 9 complete responses: key drivers not computed: LTR is the same in every response
    """

    css = "cx-not-computed"
    n: int
    what: tuple[str, str]
    need: int | None = None
    why: tuple[str, str] | None = None
    unit: tuple[str, str] = RESPONSES
    lang: str = "both"

    def _en(self) -> str:
        head = f"n = {self.n} {self.unit[1]}: "
        if self.why is not None:
            return f"{head}{self.what[1]} not computed: {self.why[1]}"
        return f"{head}too few for {self.what[1]}, need ≥ {self.need}"

    def _zh(self) -> str:
        head = f"样本不足：n = {self.n} {self.unit[0]}，"
        if self.why is not None:
            return f"{head}无法计算{self.what[0]}：{self.why[0]}"
        return f"{head}{self.what[0]}至少需要 {self.need}"

    def text(self) -> str:
        """The note as plain text, in ``lang`` (``both``: Chinese, then English).

        >>> print(NotComputed(3, ("自助抽样区间", "bootstrap intervals"), need=10).text())
        样本不足：n = 3 份完整答卷，自助抽样区间至少需要 10 / n = 3 complete responses: too few for bootstrap intervals, need ≥ 10
        """
        if self.lang == "zh":
            return self._zh()
        if self.lang == "en":
            return self._en()
        return f"{self._zh()} / {self._en()}"

    def short(self) -> str:
        """The note for a table cell (the full sentence: it is short already)."""
        return self.text()

    def in_lang(self, lang: str) -> NotComputed:
        """The same note in another language.

        >>> NotComputed(3, ("x", "x"), need=4).in_lang("en").lang
        'en'
        """
        return NotComputed(self.n, self.what, self.need, self.why, self.unit, lang)

    def record(self) -> dict[str, Any]:
        """The marker stored in ``results.json`` in place of the numbers.

        >>> NotComputed(14, ("10 折交叉验证", "10-fold cross-validation"), need=20).record()
        {'computed': False, 'n': 14, 'need': 20, 'reason': 'n = 14 complete responses: too few for 10-fold cross-validation, need ≥ 20'}
        """
        return {
            "computed": False,
            "n": int(self.n),
            "need": None if self.need is None else int(self.need),
            "reason": self._en(),
        }


def too_few(
    n: int, need: int, what: tuple[str, str], unit: tuple[str, str] = RESPONSES, *, lang: str = "both"
) -> NotComputed:
    """The :class:`NotComputed` note of a method that needs ``need`` and has ``n``.

    >>> too_few(14, 20, ("10 折交叉验证", "10-fold cross-validation"), lang="en").text()
    'n = 14 complete responses: too few for 10-fold cross-validation, need ≥ 20'
    """
    return NotComputed(int(n), what, need=int(need), unit=unit, lang=lang)


def unavailable(*values: Any, lang: str | None = None) -> NotProvided | NotComputed | None:
    """The first of ``values`` that is a "not provided" or "not computed" note (in ``lang``
    when given), else None: ``unavailable(drivers) or drivers[[...]]`` shows the note or the table.

        >>> unavailable("a table", too_few(3, 20, ("x", "x")), lang="en")
        n = 3 complete responses: too few for x, need ≥ 20
        >>> unavailable("a table") is None
        True
    """
    for v in values:
        if isinstance(v, NotComputed):
            return v if lang is None else v.in_lang(lang)
        if isinstance(v, NotProvided):
            return v if lang is None else NotProvided(v.missing, lang, v.detail)
    return None


def jsonable(obj: Any, *, digits: int = 6) -> Any:
    """Turn numpy / pandas values into plain JSON values; NaN and NA become ``None``.

    Floats are rounded to ``digits`` significant decimals so stored results are stable.

        >>> jsonable({"a": np.float64(0.1234567891), "b": pd.NA, "c": np.int64(3)})
        {'a': 0.123457, 'b': None, 'c': 3}
    """
    if isinstance(obj, (NotProvided, NotComputed, Scope)):
        return obj.record()
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r, digits=digits) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v, digits=digits) for k, v in obj.items()}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, digits=digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v, digits=digits) for v in obj]
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else round(x, digits)
    if isinstance(obj, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(obj).isoformat()
    return str(obj)


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The recorded results, or an empty dict when the file does not exist yet.

    >>> read("no-such-file.json")
    {}
    """
    p = Path(path)
    if not p.exists():
        return {}
    return json.loads(p.read_text(encoding="utf-8"))


def record(key: str, value: Any, path: str | os.PathLike[str] | None) -> None:
    """Store ``value`` (made JSON-able by :func:`jsonable`) under ``key`` in the results file,
    merged with what is there and written atomically.

    ``path`` None or ``""`` records nothing (a notebook run without a results file). Returns
    nothing, so a notebook cell that records shows no output.

        >>> record("nps", {"value": 10.0}, None)
    """
    value = jsonable(value)
    if not path:
        return None
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = read(p)
    data[key] = value
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)  # keeps catalog order of points
    os.replace(tmp, p)
    return None


# ================================================================================== scope
#: the value of ``center`` that means the whole network
NETWORK_CENTER = "all"
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_label(period_start: str | None, period_end: str | None, *, lang: str = "both") -> str:
    """The period of a report in words: one month, a range of months, or all data.

    >>> period_label("2026-10", "2026-10", lang="both")
    '2026年10月 / October 2026'
    >>> period_label("2026-08", "2026-10", lang="en")
    '2026-08 – 2026-10'
    >>> period_label(None, None, lang="zh")
    '全部数据'
    """
    from cxlib.catalog import bilingual

    s, e = (None if p is None else str(p) for p in (period_start, period_end))
    if s is not None and s == e:
        y, m = s.split("-")
        zh, en = f"{y}年{int(m)}月", f"{_MONTHS_EN[int(m) - 1]} {y}"
    elif s is not None and e is not None:
        zh = en = f"{s} – {e}"
    elif s is not None:
        zh, en = f"{s} 起", f"from {s}"
    elif e is not None:
        zh, en = f"截至 {e}", f"up to {e}"
    else:
        zh, en = "全部数据", "all data"
    return bilingual(zh, en, lang=lang, sep=" / ")  # type: ignore[arg-type]


def data_cutoff(data: Any) -> pd.Timestamp | None:
    """The latest timestamp in the selected data (every timestamp column of the visits, the
    touchpoint events, the surveys and the complaints), or None when they hold none.

        >>> data_cutoff(data.subset(center="SH-JQ"))   # doctest: +SKIP
        Timestamp('2026-10-31 19:05:00+0800', tz='Asia/Shanghai')
    """
    latest: pd.Timestamp | None = None
    for name in ("visits", "events", "surveys", "complaints"):
        maxima = data.timestamp_maxima(name) if callable(getattr(data, "timestamp_maxima", None)) else None
        if maxima is not None:  # lazily read data: from the files' statistics, the table left unread
            for m in maxima:
                if latest is None or m > latest:
                    latest = m
            continue
        frame = getattr(data, name, None)
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            continue
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
                m = frame[col].max()
                if m is not pd.NaT and not pd.isna(m) and (latest is None or m > latest):
                    latest = pd.Timestamp(m)
    return latest


@dataclass(frozen=True)
class Scope:
    """What a report page covers: the center (or the network), the period, the data cut-off,
    the n of visits and of survey responses, and every filter in force.

    Shown in a notebook as a block of HTML (text from the data escaped, never typeset as math);
    :meth:`title` is the same line as plain text, which the report page also carries as its
    HTML ``<title>`` (kept in the output's metadata under :data:`SCOPE_METADATA`).

        >>> s = Scope("SH-JQ", "上海金桥中心", "2026-10", "2026-10", pd.Timestamp("2026-10-31 18:20"), 312, 111,
        ...           scenario="repair", segment="scenario", lang="en")
        >>> s.title()
        '上海金桥中心 (SH-JQ) · October 2026 · data up to 2026-10-31 18:20 · 312 visits · 111 survey responses · scenario: Repair · segment: Scenario'
    """

    center: str
    center_name: str | None
    period_start: str | None
    period_end: str | None
    cutoff: pd.Timestamp | None
    n_visits: int
    n_responses: int
    scenario: str = "all"
    segment: str | None = None
    lang: str = "both"
    #: the center's English name (the English line uses it after the Chinese one), when known
    center_name_en: str | None = None

    def _parts(self, lang: str) -> list[str]:
        from cxlib.catalog import SCENARIOS

        zh = lang == "zh"
        if self.center == NETWORK_CENTER:
            where = "全网络" if zh else "network"
        elif self.center_name and self.center_name != self.center:
            en_name = f" {self.center_name_en}" if self.center_name_en else ""
            where = f"{self.center_name}（{self.center}）" if zh else f"{self.center_name}{en_name} ({self.center})"
        else:
            where = self.center
        cut = "–" if self.cutoff is None else pd.Timestamp(self.cutoff).strftime("%Y-%m-%d %H:%M")
        parts = [
            where,
            period_label(self.period_start, self.period_end, lang=lang),
            f"数据截至 {cut}" if zh else f"data up to {cut}",
            f"工单 {self.n_visits:,} 张" if zh else f"{self.n_visits:,} visits",
            f"有效问卷 {self.n_responses:,} 份" if zh else f"{self.n_responses:,} survey responses",
        ]
        if self.scenario not in (None, "all"):
            names = {s.code: (s.zh, s.en) for s in SCENARIOS}
            z, e = names.get(self.scenario, (self.scenario, self.scenario))
            parts.append(f"场景：{z}" if zh else f"scenario: {e}")
        if self.segment:
            from cxlib.catalog import header

            name = header(self.segment, lang="zh" if zh else "en")  # a column the catalog knows by its label
            parts.append(f"分群：{name}" if zh else f"segment: {name}")
        return parts

    def title(self) -> str:
        """The scope as one line of plain text (``both``: the Chinese line, then the English one)."""
        if self.lang in ("zh", "en"):
            return " · ".join(self._parts(self.lang))
        return " · ".join(self._parts("zh")) + " / " + " · ".join(self._parts("en"))

    def record(self) -> dict[str, Any]:
        """The scope as stored in ``results.json`` (``center``, ``period_start``, ``period_end``
        first, as notebook 04 compares them, then the rest).

            >>> Scope("all", None, None, None, None, 0, 0).record()["title"]
            '全网络 · 全部数据 · 数据截至 – · 工单 0 张 · 有效问卷 0 份 / network · all data · data up to – · 0 visits · 0 survey responses'
        """
        return {
            "center": self.center,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "scenario": self.scenario,
            "segment": self.segment,
            "cutoff": None if self.cutoff is None else pd.Timestamp(self.cutoff).isoformat(),
            "n_visits": int(self.n_visits),
            "n_responses": int(self.n_responses),
            "title": self.title(),
        }

    def __repr__(self) -> str:
        return self.title()

    def _repr_html_(self) -> str:
        import html

        from cxlib.safe import literal_html

        langs = ("zh", "en") if self.lang == "both" else (self.lang,)
        lines = "".join(
            f'<p class="cx-scope-line" style="margin:0.15em 0" lang="{"zh-CN" if lg == "zh" else "en"}">'
            + " · ".join(f"<span>{html.escape(p)}</span>" for p in self._parts(lg))
            + "</p>"
            for lg in langs
        )
        return literal_html(f'<div class="cx-scope" style="font-size:0.9em;line-height:1.3">{lines}</div>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, str], dict[str, Any]]:
        return (
            {"text/plain": self.title(), "text/html": self._repr_html_()},
            {SCOPE_METADATA: {"title": self.title()}},
        )


#: key of an output's metadata that holds the scope of the page (read by ``cxlib.report.to_html``)
SCOPE_METADATA = "cxlib_scope"


def scope(
    data: Any,
    center: str = NETWORK_CENTER,
    *,
    period_start: str | None = None,
    period_end: str | None = None,
    scenario: str = "all",
    segment: str | None = None,
    lang: str = "both",
) -> Scope:
    """The scope block of a notebook: what the selected ``data`` (a :class:`cxlib.clean.ProcessedData`
    after ``subset``) covers, with the run's parameters.

    The center's Chinese name comes from the centers table (the network: 全网络 / network); the
    cut-off is :func:`data_cutoff`; n visits are the selected visits, n responses the visits with
    an answered LTR question (the n of the NPS).

        >>> scope(data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10"),
        ...       center="SH-JQ", period_start="2026-10", period_end="2026-10").title()   # doctest: +SKIP
        '上海金桥中心（SH-JQ） · 2026年10月 · 数据截至 2026-10-31 19:05 · 工单 312 张 · 有效问卷 111 份 / …'
    """
    names: dict[str, str | None] = {"name_zh": None, "name_en": None}
    centers = getattr(data, "centers", None)
    if center != NETWORK_CENTER and isinstance(centers, pd.DataFrame) and "center_id" in centers.columns:
        row = centers[centers["center_id"].astype(str) == str(center)]
        for col in names:
            if len(row) and col in row.columns and not pd.isna(row[col].iloc[0]) and str(row[col].iloc[0]).strip():
                names[col] = str(row[col].iloc[0]).strip()
    counts = getattr(data, "visit_counts", None)
    if callable(counts):  # processed data: the whole network's counts without reading its visits
        n_visits, n_resp = counts()
    else:
        visits = data.visits
        n_visits = int(len(visits))
        n_resp = int(pd.to_numeric(visits["ltr"], errors="coerce").notna().sum()) if "ltr" in visits.columns else 0
    from cxlib.catalog import SCENARIOS

    spell = {k.lower(): s.code for s in SCENARIOS for k in (s.code, s.zh, s.en)}
    scen = "all" if scenario in (None, "all") else spell.get(str(scenario).lower(), str(scenario))
    return Scope(
        str(center),
        names["name_zh"],
        None if period_start is None else str(period_start),
        None if period_end is None else str(period_end),
        data_cutoff(data),
        n_visits,
        n_resp,
        scen,
        segment,
        lang,
        names["name_en"],
    )
