"""Result tables as a service manager reads them: labelled headers, no index, units once.

:func:`table` turns a tidy result frame into a :class:`Table`: headers from the registry of
:data:`cxlib.catalog.COLUMN_LABELS` in the page's language, the unit said once in the header,
numbers written per column kind (scores with 2 decimals, shares in %, NPS in whole points,
money in 元 or 万元, minutes), a value and its interval merged into one "95% CI" column
("2–30"), categories (tiers, journey points, months, silence bins) by their labels, and rows
backed by fewer than :data:`cxlib.catalog.MIN_N` answers greyed and marked "⚠" beside their n,
with a one-line footnote. In a notebook it shows as a pandas Styler with a fixed id (so the
stored HTML is the same on every run) and as the same table in plain text; ``.data`` keeps
the tidy frame.

    >>> import pandas as pd
    >>> t = table(pd.DataFrame({"tier": ["none", "realtime"], "n": [29, 30], "nps": [-12.4, 20.0],
    ...                         "ci_low": [-40.0, 2.0], "ci_high": [18.0, 36.0]}), lang="en")
    >>> print(t)
    Transparency tier    n NPS (−100…100)   95% CI
            No update 29 ⚠            −12 −40 ~ 18
    Real-time updates   30             20   2 ~ 36
    ⚠ n < 30: small sample, read with care
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlib import catalog
from cxlib.catalog import Lang, bilingual
from cxlib.estimation import Options, former_keywords
from cxlib.results import NotComputed, NotProvided, unavailable

#: The mark beside the n of a row backed by fewer than ``min_n`` answers.
SMALL_MARK = "⚠"
#: The CSS class of such a row (greyed on screen and on paper).
SMALL_CLASS = "cx-small"
#: What a missing value shows.
MISSING = "–"
_CI = ("95% 置信区间", "95% CI")
_MINUS = "−"


def small_sample_note(*, min_n: int = catalog.MIN_N, lang: Lang = "both") -> str:
    """The footnote of a table with small rows, in ``lang``.

    >>> small_sample_note(min_n=30, lang="zh")
    '⚠ n < 30：样本小，仅供参考'
    >>> small_sample_note(min_n=30, lang="both")
    '⚠ n < 30：样本小，仅供参考 / small sample, read with care'
    """
    zh, en = "样本小，仅供参考", "small sample, read with care"
    if lang == "zh":
        return f"{SMALL_MARK} n < {min_n}：{zh}"
    if lang == "en":
        return f"{SMALL_MARK} n < {min_n}: {en}"
    return f"{SMALL_MARK} n < {min_n}：{zh} / {en}"


# ------------------------------------------------------------------------- number formats
def _num(x: float, digits: int, sep: bool = True) -> str:
    if abs(x) < 0.5 * 10**-digits:
        x = 0.0  # no "−0" nor "−0.000"
    text = f"{x:,.{digits}f}" if sep else f"{x:.{digits}f}"
    return text.replace("-", _MINUS)


def fixed(x: float, *, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals, thousands separators and a true minus sign.

    >>> fixed(-1234.56, digits=1), fixed(0.004, digits=0), fixed(-0.0004, digits=3)
    ('−1,234.6', '0', '0.000')
    """
    return _num(float(x), digits) if not _is_missing(x) and math.isfinite(float(x)) else MISSING


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v)) or bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


def money_unit(values: Sequence[Any] | pd.Series) -> tuple[str, str]:
    """元 for a money column whose amounts stay below 10,000, 万元 when one reaches it.

    >>> money_unit([500.0, 9000.0]), money_unit([500.0, 25000.0])
    (('元', 'CNY'), ('万元', '10k CNY'))
    """
    x = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(float)
    x = x[np.isfinite(x)]
    return ("万元", "10k CNY") if len(x) and float(x.abs().max()) >= 1e4 else ("元", "CNY")


def format_value(value: Any, kind: str | None, *, lang: Lang = "both", column: str = "", wan: bool = False) -> str:
    """One cell as text: ``value`` written as its column ``kind`` says (see
    :data:`cxlib.catalog.ColumnKind`); missing values as "–".

        >>> format_value(0.1234, "share"), format_value(-12.6, "nps"), format_value(5.956, "score")
        ('12.3', '−13', '5.96')
        >>> format_value(125000.0, "money", wan=True), format_value(0.0004, "p"), format_value("realtime", "category", lang="zh", column="tier")
        ('12.50', '<0.001', '实时更新')
    """
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [catalog.value_label(column, v, lang=lang) if kind == "category" else str(v) for v in value]
        return ("；" if lang == "zh" else "; ").join(items) if len(items) else MISSING
    if _is_missing(value):
        return MISSING
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind in (None, "text") or (isinstance(value, str) and kind not in ("bool", "category")):
        return str(value)
    if kind == "category":
        return catalog.value_label(column, value, lang=lang)
    if kind == "bool":
        yes = bool(value) if not isinstance(value, str) else value.strip().lower() in catalog.TRUE_WORDS
        return bilingual("是", "yes", lang=lang, sep=" / ") if yes else bilingual("否", "no", lang=lang, sep=" / ")
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return MISSING if math.isnan(x) else ("∞" if x > 0 else f"{_MINUS}∞")
    if kind in ("count", "int"):
        return _num(x, 0, sep=kind == "count")
    if kind in ("score", "ltr", "ratio", "nps_share", "stat"):
        return _num(x, 2)
    if kind == "anxiety":
        return _num(x, 1)
    if kind == "share":
        return _num(100 * x, 1)
    if kind == "pct":
        return _num(x, 1)
    if kind == "nps":
        return _num(x, 0)
    if kind == "money":
        return _num(x / 1e4, 2) if wan else _num(x, 0)
    if kind == "minutes":
        return _num(x, 0)
    if kind in ("coef", "r2"):
        return _num(x, 3)
    if kind is not None and kind.startswith("fixed"):  # fixed2: as many decimals as the column was rounded to
        return _num(x, int(kind[5:]))
    if kind == "p":
        return "<0.001" if x < 0.001 else _num(x, 3)
    return _num(x, 0) if abs(x) >= 1000 else f"{x:.4g}".replace("-", _MINUS)  # number


#: the separator of an interval whose bounds may be negative ("−40 ~ 18", not "−40–18")
SIGNED_SEP = " ~ "


def interval_text(low: str, high: str, *, sep: str | None = None) -> str:
    """An interval from its two formatted bounds: "2–30" (en dash), "−40 ~ 18" when a bound is
    negative (a dash next to a minus sign misreads), "–" when a bound is missing. ``sep`` forces
    the separator (a table column uses one for all its rows).

        >>> interval_text("2", "30"), interval_text("−40", "18"), interval_text("–", "3")
        ('2–30', '−40 ~ 18', '–')
    """
    if MISSING in (low, high):
        return MISSING
    if sep is None:
        sep = SIGNED_SEP if _MINUS in low + high else "–"
    return f"{low}{sep}{high}"


# ------------------------------------------------------------------------------ the table
@dataclass
class _Col:
    key: str  # column name of the tidy frame (the value column of a merged interval)
    header: str
    cells: list[str]
    numeric: bool
    header_zh: str = ""
    header_en: str = ""


@dataclass
class Table:
    """A result table for the reader (see :func:`table`): ``.data`` the tidy frame, ``.frame``
    the formatted one (labelled headers, text cells), ``.small`` which rows have n < ``min_n``."""

    data: pd.DataFrame
    frame: pd.DataFrame
    small: list[bool]
    lang: Lang = "both"
    min_n: int = catalog.MIN_N
    caption: str | None = None
    numeric: list[bool] = field(default_factory=list)
    #: small-sample flags per cell (a pivot), None when whole rows are flagged
    small_cells: list[list[bool]] | None = None
    #: the headers as the HTML shows them ("both": Chinese and English on two lines), None: as ``frame``
    html_headers: list[str] | None = None

    @property
    def flagged(self) -> bool:
        """Whether any row (or cell) is a small sample (and the footnote is shown)."""
        return any(self.small) or any(any(r) for r in (self.small_cells or []))

    def footnote(self) -> str | None:
        """The small-sample footnote, or None when no row is flagged."""
        return small_sample_note(min_n=self.min_n, lang=self.lang) if self.flagged else None

    @property
    def uuid(self) -> str:
        """The Styler's id: a hash of what the table shows, so two renders are identical and two
        different tables on a page never share an id."""
        return "cx" + hashlib.sha1(self._text().encode("utf-8")).hexdigest()[:10]

    def styler(self) -> Any:
        """The table as a pandas Styler: fixed id, index hidden, small rows in class ``cx-small``."""
        f = self.frame
        st = f.style.set_uuid(self.uuid).hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
        cells = self.small_cells or [[s] * len(self.numeric) for s in self.small]
        classes = pd.DataFrame(
            [
                [(SMALL_CLASS if s else "") + (" cx-num" if num else "") for num, s in zip(self.numeric, row)]
                for row in cells
            ],
            index=f.index,
            columns=f.columns,
        )
        st = st.set_td_classes(classes.map(str.strip))
        if self.html_headers is not None and len(self.html_headers) == len(f.columns):
            st = st.relabel_index(self.html_headers, axis=1)
        st = st.set_table_attributes(f'class="cx-table" lang="{_html_lang(self.lang)}"')
        st = st.set_table_styles(
            [
                {"selector": "td.cx-num", "props": "text-align: right; white-space: nowrap;"},
                {"selector": "th", "props": "text-align: left; white-space: pre-line; vertical-align: bottom;"},
                {"selector": "td", "props": "text-align: left;"},
                {"selector": f"td.{SMALL_CLASS}", "props": "color: #8a8a8a; background-color: #f4f4f4;"},
            ]
        )
        if self.caption:
            st = st.set_caption(html.escape(self.caption))
        return st

    def _repr_html_(self) -> str:
        from cxlib.safe import literal_html

        body = self.styler().to_html()
        note = self.footnote()
        foot = (
            (
                f'<p class="cx-footnote" style="margin:0.1em 0 0.4em 0;font-size:0.8em;color:#666">'
                f"{html.escape(note)}</p>"
            )
            if note
            else ""
        )
        return literal_html(f'<div class="cx-table-wrap">{body}{foot}</div>')

    def _text(self) -> str:
        lines = [self.caption] if self.caption else []
        if len(self.frame.columns):
            lines.append(self.frame.to_string(index=False))
        note = self.footnote()
        if note:
            lines.append(note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._text()

    def __str__(self) -> str:
        return self._text()

    def __len__(self) -> int:
        return len(self.frame)


def _html_lang(lang: Lang) -> str:
    return {"zh": "zh-CN", "en": "en"}.get(lang, "zh-CN")


def _interval_of(columns: list[str], i: int) -> tuple[str, str] | None:
    """``(low, high)`` column names when column ``i`` is a ``…ci_low`` with its ``…ci_high``."""
    c = columns[i]
    if not c.endswith("ci_low"):
        return None
    high = c[: -len("ci_low")] + "ci_high"
    return (c, high) if high in columns else None


def _value_of(columns: list[str], lo: str, taken: set[str]) -> str | None:
    """The value column an interval belongs to: the nearest column before it sharing its prefix
    (``nps`` for ``nps_ci_low``, ``ltr_mean`` for ``ltr_ci_low``; any for a bare ``ci_low``)."""
    prefix = lo[: -len("ci_low")]
    stem = prefix.rstrip("_")
    for c in reversed(columns[: columns.index(lo)]):
        if c in taken or c.endswith(("ci_low", "ci_high")):
            continue
        if not prefix or c == stem or c.startswith(prefix):
            return c
    return None


@dataclass(frozen=True)
class Cells(Options):
    """How :func:`table` writes its cells: ``merge_intervals`` turns each ``…ci_low`` /
    ``…ci_high`` pair into one interval column; ``kinds`` overrides the registry's kind of a
    column (``{"estimate": "nps"}``); ``row_kind`` names a column whose value gives the kind of
    each row's ``estimate`` and interval cells (a table mixing NPS and shares); ``labels`` gives
    labels of the values of a column (``{"center": {"C01": "Pudong"}}``).

        >>> Cells(row_kind="kind").merge_intervals
        True
    """

    merge_intervals: bool = True
    kinds: Mapping[str, str] | None = None
    row_kind: str | None = None
    labels: Mapping[str, Mapping[Any, str]] | None = None


@former_keywords(cells=Cells)
def table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    lang: Lang = "both",
    n: str | None = "n",
    min_n: int = catalog.MIN_N,
    caption: str | None = None,
    cells: Cells = Cells(),
) -> Table | NotProvided | NotComputed:
    """``df`` as a :class:`Table` for the reader, in ``lang`` ("zh", "en", "both").

    ``columns`` picks and orders the columns (default: all); ``n`` names the column of the
    number of answers behind each row: rows with fewer than ``min_n`` are greyed and marked
    "⚠" beside their n, and a footnote says why (a table without that column, such as the
    assumptions, is just labelled). A ``…ci_low`` / ``…ci_high`` pair becomes one "95% CI"
    column after its value ("2–30"), written like the value. ``cells`` (:class:`Cells`) says how
    the cells are written: ``merge_intervals=False`` keeps the bounds apart, ``kinds`` overrides the
    registry's kind of a column; ``row_kind`` names a column whose value gives the kind of the
    ``estimate`` and interval cells of each row (a table mixing NPS and shares); ``labels`` gives
    labels of the values of a column (e.g. a center's name).
    A "not provided" or "too few" note given in place of ``df`` is returned as it is (in ``lang``).

        >>> t = table(pd.DataFrame({"point": ["waiting"], "n": [3], "mean": [5.5], "ci_low": [1.0],
        ...                         "ci_high": [10.0]}), lang="zh")
        >>> t.frame.columns.tolist()
        ['旅程触点', '样本量', '平均分（1–10）', '95% 置信区间']
        >>> t.frame.iloc[0].tolist(), t.flagged
        (['等待', '3 ⚠', '5.50', '1.00–10.00'], True)
    """
    note = unavailable(df, lang=lang)
    if note is not None:  # a section's "未提供数据" / "样本不足" note instead of a table: shown as it is
        return note
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table() needs a DataFrame, got {type(df).__name__}")
    cols = [str(c) for c in (columns if columns is not None else df.columns)]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        from cxlib.errors import DataError

        raise DataError(
            f"table has no column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}", column=missing[0]
        )
    data = df.reset_index(drop=True)
    merge_intervals, row_kind = cells.merge_intervals, cells.row_kind
    kinds = dict(cells.kinds or {})
    labels = {k: dict(v) for k, v in (cells.labels or {}).items()}
    n_col = n if n is not None and n in data.columns else None
    small = [False] * len(data)
    if n_col is not None:
        nv = pd.to_numeric(data[n_col], errors="coerce")
        small = [bool(pd.notna(v) and v < min_n) for v in nv]
    row_kinds = [str(k) for k in data[row_kind]] if row_kind and row_kind in data.columns else None

    def kind_of(c: str) -> str | None:
        return kinds.get(c) or catalog.column_kind(c) or _guess_kind(data[c])

    def cell_texts(c: str, kind: str | None, wan: bool) -> list[str]:
        out = []
        for i, v in enumerate(data[c]):
            k = row_kinds[i] if row_kinds is not None and kind in ("coef", "number") else kind
            if c in labels and not _is_missing(v) and v in labels[c]:
                out.append(str(labels[c][v]))
            else:
                out.append(format_value(v, k, lang=lang, column=c, wan=wan))
        return out

    pairs: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    if merge_intervals:
        for i in range(len(cols)):
            iv = _interval_of(cols, i)
            if iv is None:
                continue
            val = _value_of(cols, iv[0], taken)
            if val is not None:
                pairs[val] = iv
                taken.add(val)
    n_ci = len(pairs)
    out: list[_Col] = []
    hidden = {c for iv in pairs.values() for c in iv}
    for c in cols:
        if c in hidden:
            continue
        kind = kind_of(c)
        unit = None
        wan = False
        if kind == "money":
            used = list(data[c]) + [
                x for lo_hi in ([pairs[c]] if c in pairs else []) for col in lo_hi for x in data[col]
            ]
            unit = money_unit(used)
            wan = unit[0] == "万元"
        head = _bound_header(c, lang) or catalog.header(c, lang=lang, unit=unit)
        col = _Col(
            c,
            head,
            cell_texts(c, kind, wan),
            kind not in (None, "text", "category", "bool"),
            *(_bound_header(c, lg) or catalog.header(c, lang=lg, unit=unit) for lg in ("zh", "en")),
        )
        if c == n_col:
            col.cells = [f"{t} {SMALL_MARK}" if s else t for t, s in zip(col.cells, small)]
        out.append(col)
        if c in pairs:
            lo, hi = pairs[c]
            ci_head = bilingual(*_CI, lang=lang)
            if n_ci > 1:
                short = _short(c, lang)
                ci_head = f"{short} {ci_head}"
            lows, highs = cell_texts(lo, kind, wan), cell_texts(hi, kind, wan)
            ci_langs = [
                bilingual(*_CI, lang=lg) if n_ci == 1 else f"{_short(c, lg)} {bilingual(*_CI, lang=lg)}"
                for lg in ("zh", "en")
            ]
            sep = SIGNED_SEP if any(_MINUS in a + b for a, b in zip(lows, highs) if MISSING not in (a, b)) else "–"
            out.append(_Col(lo, ci_head, [interval_text(a, b, sep=sep) for a, b in zip(lows, highs)], True, *ci_langs))
    heads = _unique([c.header for c in out])
    two_lines = None
    if lang == "both":
        two_lines = [
            f"{zh}\n{en}" if zh != en else _split_both(h)
            for h, zh, en in zip(heads, _unique([c.header_zh for c in out]), _unique([c.header_en for c in out]))
        ]
    frame = pd.DataFrame({h: c.cells for h, c in zip(heads, out)}, index=range(len(data)))
    if not out:
        frame = pd.DataFrame(index=range(len(data)))
    return Table(
        data=df,
        frame=frame,
        small=small,
        lang=lang,
        min_n=min_n,
        caption=caption,
        numeric=[c.numeric for c in out],
        html_headers=two_lines,
    )


def pivot(
    df: pd.DataFrame,
    index: str,
    columns: str,
    values: str,
    *,
    lang: Lang = "both",
    n: str = "n",
    min_n: int = catalog.MIN_N,
    caption: str | None = None,
) -> Table:
    """A long table shown wide (``index`` down, ``columns`` across), each cell its value and
    its n ("12.5 (n = 40)"); cells with n < ``min_n`` greyed and marked, with the footnote. The
    caption (by default the header of ``values``) says what the cells hold and their unit, once.

        >>> t = pivot(pd.DataFrame({"moment": ["parking", "parking"], "center": ["A", "B"],
        ...                         "share_bad": [0.1, 0.5], "n": [40, 2]}), "moment", "center", "share_bad", lang="en")
        >>> t.frame.columns.tolist(), t.frame.iloc[0].tolist()
        (['Moment of truth', 'A', 'B'], ['Parking', '10.0 (n = 40)', '50.0 (n = 2) ⚠'])
        >>> t.caption
        'Bad scores (≤ 3) (%)'
    """
    from cxlib.errors import require_columns

    require_columns(df, [index, columns, values, n], "pivot")
    kind = catalog.column_kind(values) or "number"
    rows = list(dict.fromkeys(df[index].tolist()))
    cols = list(dict.fromkeys(df[columns].tolist()))
    if isinstance(df[columns].dtype, pd.CategoricalDtype) or columns == "month":
        cols = sorted(
            cols,
            key=lambda c: (
                list(df[columns].cat.categories).index(c)
                if isinstance(df[columns].dtype, pd.CategoricalDtype)
                else str(c)
            ),
        )
    look = {(r[index], r[columns]): (r[values], r[n]) for _, r in df.iterrows()}
    body: dict[str, list[str]] = {_short(index, lang): [catalog.value_label(index, r, lang=lang) for r in rows]}
    flags = [[False] for _ in rows]
    for c in cols:
        cells = []
        for i, r in enumerate(rows):
            v, k = look.get((r, c), (None, 0))
            k = 0 if _is_missing(k) else int(k)
            small = k < min_n
            text = MISSING if _is_missing(v) else f"{format_value(v, kind, lang=lang)} (n = {k:,})"
            cells.append(f"{text} {SMALL_MARK}" if small and text != MISSING else text)
            flags[i].append(small and text != MISSING)
        body[catalog.value_label(columns, c, lang=lang)] = cells
    frame = pd.DataFrame(body, index=range(len(rows)))
    frame.columns = _unique(list(frame.columns))
    caption = caption if caption is not None else catalog.header(values, lang=lang)
    return Table(
        data=df,
        frame=frame,
        small=[any(f) for f in flags],
        lang=lang,
        min_n=min_n,
        caption=caption,
        numeric=[False] + [True] * len(cols),
        small_cells=flags,
    )


_ZH_THEN_EN = re.compile(r"^(.*[\u3000-\u9fff\uff00-\uffef][^A-Za-z]*?)\s+([A-Za-z(].*)$")
_EN_THEN_ZH = re.compile(r"^([A-Za-z(][\x00-\x7f]*?)\s+([\u3000-\u9fff].*)$")


def _split_both(head: str) -> str:
    r"""A bilingual header a builder wrote on one line ("方案 Case", "Case 方案") on two lines.

    >>> _split_both("模拟净现值均值 NPV mean (万元)"), _split_both("Case 方案"), _split_both("NPS")
    ('模拟净现值均值\nNPV mean (万元)', 'Case\n方案', 'NPS')
    """
    for pattern in (_ZH_THEN_EN, _EN_THEN_ZH):
        m = pattern.match(head)
        if m:
            return f"{m.group(1)}\n{m.group(2)}"
    return head


def _bound_header(column: str, lang: Lang) -> str | None:
    """The header of an interval bound shown on its own (``nps_ci_low`` → "净推荐值 95% 置信下限")."""
    for end, (zh, en) in (("_ci_low", ("95% 置信下限", "95% CI low")), ("_ci_high", ("95% 置信上限", "95% CI high"))):
        if column.endswith(end) and column not in catalog.COLUMN_LABELS:
            stem = column[: -len(end)]
            value = (
                stem
                if stem in catalog.COLUMN_LABELS
                else next((c for c in catalog.COLUMN_LABELS if c.startswith(stem + "_")), stem)
            )
            return f"{_short(value, lang)} {bilingual(zh, en, lang=lang)}"
    return None


def _short(column: str, lang: Lang) -> str:
    c = catalog.COLUMN_LABELS.get(column)
    if c is None:
        return str(column)
    return bilingual(c.zh, c.en, lang=lang)


def _unique(heads: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in heads:
        k = seen.get(h, 0)
        out.append(h if k == 0 else f"{h} ({k + 1})")
        seen[h] = k + 1
    return out


def _guess_kind(s: pd.Series) -> str | None:
    """The kind of a column the registry does not know: whole numbers, other numbers, or text."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "count"
    if pd.api.types.is_float_dtype(s.dtype):
        return f"fixed{_decimals(s)}"
    return None


def _decimals(s: pd.Series, most: int = 3) -> int:
    """The fewest decimals that write every value of a float column exactly (a builder's rounding)."""
    x = pd.to_numeric(s, errors="coerce").astype(float)
    x = x[np.isfinite(x)].to_numpy()
    for d in range(most + 1):
        if np.allclose(np.round(x, d), x, rtol=0, atol=1e-9):
            return d
    return most


def long_means(wide: pd.DataFrame, columns: Sequence[str], *, name: str = "measure") -> pd.DataFrame:
    """Per column of ``wide``: its n (non-missing values), mean and SD, one row per column (a
    tidy stand-in for ``describe()``); ``kind`` says how :func:`table` writes the row (the
    column's kind in the registry: scores, minutes, LTR).

        >>> long_means(pd.DataFrame({"worst": [2.0, 4.0], "ltr": [8.0, None]}), ["worst", "ltr"])
          measure  n  mean_value  sd_value   kind
        0   worst  2         3.0  1.414214  score
        1     ltr  1         8.0       NaN    ltr
    """
    rows = []
    for c in columns:
        v = pd.to_numeric(wide[c], errors="coerce").dropna().astype(float)
        kind = catalog.column_kind(c) or "number"
        rows.append(
            {
                name: c,
                "n": int(v.size),
                "mean_value": float(v.mean()) if v.size else float("nan"),
                "sd_value": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                "kind": "ltr" if c == "ltr" else ("number" if kind in ("int", "count") else kind),
            }
        )
    return pd.DataFrame(rows, columns=[name, "n", "mean_value", "sd_value", "kind"])
