"""Key results that notebooks record for reports and dashboards.

Each numbered notebook records its headline figures under stable keys (documented in
``docs/results.md``) in one JSON file, ``results.json``. ``cx report`` gives every run its own
file; an analyst working interactively gets ``data/processed/results.json``. Later notebooks
read earlier results from the same file (notebook 04 reads the complaint rate ratio that
notebook 03 measured).

    >>> from cxlib import results
    >>> results.record("nps", {"value": 12.5, "ci_low": 8.1, "ci_high": 16.9, "n": 900}, "results.json")  # doctest: +SKIP
    >>> results.read("results.json")["nps"]["value"]  # doctest: +SKIP
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
}
NOT_PROVIDED = ("未提供数据", "not provided")


@dataclass(frozen=True)
class NotProvided:
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

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        import html

        return f'<p class="cx-not-provided"><b>{html.escape(self.text())}</b></p>'


def not_provided(table: str | Sequence[str], lang: str = "both", detail: str = "") -> NotProvided:
    """The "未提供数据 / not provided" note for one or more inputs (tables, or ``"cases"``).

        >>> not_provided("complaints", "both").text()
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


def missing_file(path: str | os.PathLike[str] | None, what: str = "cases", lang: str = "both"
                 ) -> NotProvided | None:
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


@dataclass(frozen=True)
class NotComputed:
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
        return {"computed": False, "n": int(self.n), "need": None if self.need is None else int(self.need),
                "reason": self._en()}

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        import html

        return f'<p class="cx-not-computed"><b>{html.escape(self.text())}</b></p>'


def too_few(n: int, need: int, what: tuple[str, str], unit: tuple[str, str] = RESPONSES,
            lang: str = "both") -> NotComputed:
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


def jsonable(obj: Any, digits: int = 6) -> Any:
    """Turn numpy / pandas values into plain JSON values; NaN and NA become ``None``.

    Floats are rounded to ``digits`` significant decimals so stored results are stable.

        >>> jsonable({"a": np.float64(0.1234567891), "b": pd.NA, "c": np.int64(3)})
        {'a': 0.123457, 'b': None, 'c': 3}
    """
    if isinstance(obj, (NotProvided, NotComputed)):
        return obj.record()
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r, digits) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v, digits) for v in obj]
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
