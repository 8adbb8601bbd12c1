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


def jsonable(obj: Any, digits: int = 6) -> Any:
    """Turn numpy / pandas values into plain JSON values; NaN and NA become ``None``.

    Floats are rounded to ``digits`` significant decimals so stored results are stable.

        >>> jsonable({"a": np.float64(0.1234567891), "b": pd.NA, "c": np.int64(3)})
        {'a': 0.123457, 'b': None, 'c': 3}
    """
    if isinstance(obj, NotProvided):
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
