"""Language blocks in the notebooks' prose: one markdown cell holds a Chinese and an English text,
and a report page shows the ones of its ``lang``.

A line ``<!-- lang:zh -->`` or ``<!-- lang:en -->`` (alone on its line) starts a block of that
language; ``<!-- lang:both -->`` goes back to text common to both. Text before any marker is
common to both. The markers are HTML comments, so JupyterLab shows the cell as a readable
bilingual text and hides the markers; a marker inside a fenced code block is text, not a marker.

:func:`pick` keeps the blocks of one language (``"zh"``, ``"en"``) or, for ``"both"``, every
block, Chinese first: in each run of consecutive language blocks the Chinese ones come before
the English ones, and when the first Chinese and the first English block open with a heading of
the same level the two headings become one line (``## 情绪曲线 The emotion curve``), so a
bilingual page does not show two headings in a row. The markers are never part of the result.

    >>> cell = "<!-- lang:zh -->\\n## 情绪曲线\\n\\n均值与置信区间。\\n<!-- lang:en -->\\n## The emotion curve\\n\\nMeans with CIs."
    >>> print(pick(cell, lang="en"))
    ## The emotion curve
    <BLANKLINE>
    Means with CIs.
    >>> print(pick(cell, lang="both"))
    ## 情绪曲线 The emotion curve
    <BLANKLINE>
    均值与置信区间。
    <BLANKLINE>
    Means with CIs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from cxlib.catalog import Lang, bilingual

#: a marker line: ``<!-- lang:zh -->``, ``<!-- lang:en -->`` or ``<!-- lang:both -->`` (spaces and case free)
MARKER = re.compile(r"^\s*<!--\s*lang\s*:\s*(zh|en|both)\s*-->\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*$")
LANGS: tuple[str, ...] = ("zh", "en", "both")


@dataclass(frozen=True)
class Block:
    """A stretch of a markdown cell: ``lang`` is "zh", "en" or None (common to both)."""

    lang: str | None
    text: str


def blocks(markdown: str) -> list[Block]:
    """The blocks of a markdown cell in order, markers removed and blank edges trimmed; empty
    blocks are left out.

        >>> blocks("Intro\\n<!-- lang:zh -->\\n中文\\n<!-- lang:en -->\\nEnglish")
        [Block(lang=None, text='Intro'), Block(lang='zh', text='中文'), Block(lang='en', text='English')]
    """
    return _parse(markdown)[0]


def _parse(markdown: str) -> tuple[list[Block], bool]:
    """The blocks of a markdown cell, and whether it holds any marker."""
    out: list[Block] = []
    seen = False
    current: str | None = None
    lines: list[str] = []
    fence: str | None = None

    def close() -> None:
        text = "\n".join(lines).strip("\n")
        if text.strip():
            out.append(Block(current, text))
        lines.clear()

    for line in markdown.splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * 3
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            marker = MARKER.match(line)
            if marker:
                seen = True
                close()
                code = marker.group(1).lower()
                current = None if code == "both" else code
                continue
        lines.append(line)
    close()
    return out, seen


def has_blocks(markdown: str) -> bool:
    """Whether a markdown cell holds language markers (at least one outside code).

    >>> has_blocks("## Plain"), has_blocks("<!-- lang:en -->\\nHi")
    (False, True)
    """
    return _parse(markdown)[1]


def _heading(text: str) -> tuple[str, str, str] | None:
    """(hashes, heading text, rest of the block) when ``text`` opens with an ATX heading."""
    first, _, rest = text.partition("\n")
    m = _HEADING.match(first)
    if not m:
        return None
    return m.group(1), m.group(2), rest.strip("\n")


def merge_headings(zh: str, en: str) -> str:
    """One heading text from a Chinese and an English one, Chinese first; words both open with
    (a section number such as ``01 ·``) are written once.

        >>> merge_headings("01 · 数据清洗", "01 · Cleaning"), merge_headings("NPS", "NPS")
        ('01 · 数据清洗 Cleaning', 'NPS')
    """
    zw, ew = zh.split(), en.split()
    k = 0
    while k < min(len(zw), len(ew)) - 1 and zw[k] == ew[k]:
        k += 1
    head = " ".join(zw[:k])
    rest = bilingual(" ".join(zw[k:]), " ".join(ew[k:]), lang="both")
    return f"{head} {rest}" if head else rest


def _both(run: list[Block]) -> Iterator[str]:
    """A run of consecutive language blocks for a bilingual page: Chinese first, headings merged."""
    zh = [b.text for b in run if b.lang == "zh"]
    en = [b.text for b in run if b.lang == "en"]
    if zh and en:
        hz, he = _heading(zh[0]), _heading(en[0])
        if hz and he and hz[0] == he[0]:
            yield f"{hz[0]} {merge_headings(hz[1], he[1])}"
            zh[0], en[0] = hz[2], he[2]
    yield from (t for t in zh + en if t.strip())


def pick(markdown: str, *, lang: Lang = "both") -> str:
    """The text of a markdown cell for a page in ``lang``: the common text and the blocks of
    that language (for "both" all of them, Chinese first, same-level opening headings merged).
    A cell without markers comes back unchanged.

        >>> pick("<!-- lang:zh -->\\n中文说明\\n<!-- lang:en -->\\nIn English", lang="zh")
        '中文说明'
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be 'zh', 'en' or 'both', not {lang!r}")
    parts, marked = _parse(markdown)
    if not marked:
        return markdown
    pieces: list[str] = []
    run: list[Block] = []
    for b in [*parts, Block(None, "")]:
        if b.lang is not None:
            run.append(b)
            continue
        if run:
            pieces.extend(_both(run) if lang == "both" else (r.text for r in run if r.lang == lang))
            run = []
        if b.text:
            pieces.append(b.text)
    return "\n\n".join(pieces)


def notebook_lang(nb: Any, *, default: Lang = "both") -> Lang:
    """The ``lang`` a notebook was executed with (papermill's record of its parameters), else
    ``default`` (a notebook without a ``lang`` parameter, or one not run by papermill).

        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(metadata={"papermill": {"parameters": {"lang": "zh"}}})
        >>> notebook_lang(nb), notebook_lang(nbformat.v4.new_notebook())
        ('zh', 'both')
    """
    params = ((nb.get("metadata") or {}).get("papermill") or {}).get("parameters") or {}
    value = params.get("lang", default)
    if value not in LANGS:
        raise ValueError(f"the notebook was run with lang {value!r}, not 'zh', 'en' or 'both'")
    return cast(Lang, value)


def pick_cells(nb: Any, lang: Lang) -> Any:
    """``nb`` with every markdown cell reduced to ``lang`` by :func:`pick` (in place; returned).

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("<!-- lang:en -->\\nHi")])
    >>> pick_cells(nb, "zh").cells[0].source
    ''
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            cell["source"] = pick(cell.get("source", ""), lang=lang)
    return nb
