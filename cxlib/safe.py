"""Data never becomes a path, a link, markup or math.

Center ids come from the raw data and name the folders and links of the reports; free text
(survey comments, center names, case names) is shown in tables, figures and HTML pages. The
rules here are shared by the cleaning step, the report runner and the figure functions:

* :func:`check_center_id`: what a center id may be. Ids are free text (``SH-JQ``, ``上海-金桥``,
  ``Store 12``), but an id that is clearly not an id (a control character, a path separator,
  a leading ``.``, a name the report run uses itself, a comma, more than
  :data:`MAX_CENTER_ID` characters) is a :class:`~cxlib.errors.DataError`. ``cx clean`` applies
  it to every row of the centers table, ``cx report`` to every center it runs.
* :func:`center_folder`: the folder of a center's report inside the period folder. An id that
  is a plain ASCII slug is its own folder (``SH-JQ``); any other id gets an ASCII form with a
  short hash (``center--e5c90ea8c9`` for ``上海-金桥``). A folder never starts with ``.``, never
  holds a separator, and is unique per id (:func:`center_folders` checks a whole set).
* :func:`literal_html` and :func:`show_tables_literally`: tables shown in a notebook are marked
  so that MathJax (JupyterLab, the classic notebook) leaves ``$…$`` in data as it is.

>>> center_folder("SH-JQ")
'SH-JQ'
>>> center_folder("上海-金桥")
'center--e5c90ea8c9'
>>> check_center_id("../etc")
Traceback (most recent call last):
...
cxlib.errors.DataError: column center_id: center id '../etc' contains a path separator (/ or \\)
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cxlib.errors import DataError

#: longest center id accepted, in characters
MAX_CENTER_ID = 64
#: the value of ``--center`` that means every center and names the network report's folder
NETWORK = "all"
#: names the report run keeps in a period folder (besides ``.lock``, ``.tmp-*``, ``.old-*``, which
#: start with a dot and so can never be a center's folder)
RESERVED_NAMES = frozenset({NETWORK, "index.html", "run.log"})
# device names that Windows refuses as file names, in any case and with any extension
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
# an id that is its own folder: ASCII letters, digits, '_' and '-', starting with a letter or
# digit, never '--' (which marks the folders derived from other ids, so the two kinds never meet)
_SLUG = re.compile(r"(?!.*--)[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_HASH_CHARS = 10
# Unicode categories of characters no id contains: controls, format (zero-width) characters,
# surrogates, private use, unassigned, line and paragraph separators
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _shown(text: str, limit: int = 40) -> str:
    """``repr`` of a value for an error line (control characters escaped, long values cut)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def check_center_id(
    text: str, *, file: str | Path | None = None, row: int | None = None, column: str = "center_id"
) -> str:
    """Return ``text`` when it can be a center id; raise a :class:`DataError` naming ``file``,
    ``column`` and ``row`` when it clearly cannot (see the module docstring for the rules).

    The checks look at the id and at its NFKC form, so full-width look-alikes (``／``, ``．``)
    are refused like the characters they stand for.

    >>> check_center_id("上海-金桥")
    '上海-金桥'
    >>> check_center_id("all", file="centers.csv", row=3)
    Traceback (most recent call last):
    ...
    cxlib.errors.DataError: centers.csv, column center_id, row 3: center id 'all' is a name the report run uses itself (all, index.html, run.log)
    """
    t = str(text)
    norm = unicodedata.normalize("NFKC", t)

    def refuse(why: str) -> DataError:
        return DataError(f"center id {_shown(t)} {why}", file=file, column=column, row=row)

    if not t.strip():
        raise refuse("is empty")
    bad = next((ch for ch in t if unicodedata.category(ch) in _BAD_CATEGORIES), None)
    if bad is not None:
        raise refuse(f"contains a control or invisible character (U+{ord(bad):04X})")
    if t != t.strip():
        raise refuse("starts or ends with a space")
    if len(t) > MAX_CENTER_ID:
        raise refuse(f"is longer than {MAX_CENTER_ID} characters")
    if any(sep in s for s in (t, norm) for sep in ("/", "\\")):
        raise refuse("contains a path separator (/ or \\)")
    if t.startswith(".") or norm.startswith("."):
        raise refuse("starts with '.' (names starting with '.' are the report run's own, like .lock)")
    if "," in t or "," in norm:
        raise refuse("contains ',' (which separates the ids of --center)")
    if norm.strip().casefold() in RESERVED_NAMES:
        raise refuse(f"is a name the report run uses itself ({', '.join(sorted(RESERVED_NAMES))})")
    return t


def center_folder(center_id: str) -> str:
    """The folder name of a center's report: the id itself when it is a plain ASCII slug, else
    an ASCII form of it, ``--`` and a hash of the id. Safe for any text: never empty, never
    ``.``-led, no separator, no Windows device name, at most 64 characters.

    >>> center_folder("BJ-CY"), center_folder("Store 12"), center_folder("../x")
    ('BJ-CY', 'Store-12--1f2a6eceef', 'x--d6b96a97d1')
    """
    t = str(center_id)
    if _SLUG.fullmatch(t) and t.casefold() not in RESERVED_NAMES | _WINDOWS_DEVICES:
        return t
    ascii_form = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    ascii_form = re.sub(r"[^A-Za-z0-9]+", "-", ascii_form).strip("-")[:40].strip("-")
    digest = hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{ascii_form or 'center'}--{digest}"


def center_folders(ids: Iterable[str], *, where: Sequence[tuple[str, int]] | None = None) -> dict[str, str]:
    """``{id: folder}`` for a set of center ids; a :class:`DataError` when two ids would share
    a folder (compared without case, as on macOS and Windows file systems). ``where`` (the
    source file and row of each id) goes into the error.

    >>> center_folders(["SH-JQ", "上海-金桥"])
    {'SH-JQ': 'SH-JQ', '上海-金桥': 'center--e5c90ea8c9'}
    """
    ids = list(ids)
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, cid in enumerate(ids):
        folder = center_folder(cid)
        j = seen.setdefault(folder.casefold(), i)
        if ids[j] != cid:
            first = f"{ids[j]!r}" + (f" ({where[j][0]} row {where[j][1]})" if where is not None else "")
            raise DataError(
                f"center ids {first} and {cid!r} would share the report folder {folder!r}",
                file=where[i][0] if where is not None else None,
                column="center_id",
                row=where[i][1] if where is not None else None,
            )
        out[cid] = folder
    return out


# ------------------------------------------------------------------------- literal text
#: classes that tell MathJax to leave an element alone: ``mathjax_ignore`` for MathJax 3 and 4
#: (JupyterLab 4, Notebook 7), ``tex2jax_ignore`` for MathJax 2 (classic notebook, nbconvert)
MATHJAX_IGNORE = "mathjax_ignore tex2jax_ignore"
# what MathJax's TeX input reads as math: $…$, $$…$$, \(…\), \[…\], \begin{…}…\end{…}
_MATH_HINT = re.compile(r"[$\\]")


def literal_html(html: str) -> str:
    """HTML made safe from math typesetting: when it holds a ``$`` or a backslash (what MathJax
    reads as math), it is wrapped in a ``div`` with the classes that MathJax ignores; other
    HTML is returned unchanged. The HTML itself must already be escaped (pandas does that).

    >>> literal_html("<td>5 $ off $ today</td>")
    '<div class="mathjax_ignore tex2jax_ignore"><td>5 $ off $ today</td></div>'
    >>> literal_html("<td>plain</td>")
    '<td>plain</td>'
    """
    if not _MATH_HINT.search(html):
        return html
    return f'<div class="{MATHJAX_IGNORE}">{html}</div>'


def _frame_html(frame: Any) -> str | None:
    html = frame._repr_html_()
    return None if html is None else literal_html(html)


def show_tables_literally() -> bool:
    """In a Jupyter kernel, show every pandas DataFrame through :func:`literal_html`, so that
    ``$…$`` in a comment or a name is never typeset as math (idempotent; ``import cxlib`` calls
    it). Returns whether a kernel was found.

    >>> show_tables_literally()   # outside a notebook there is nothing to do
    False
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None:
        return False
    import pandas as pd

    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _frame_html)
    return True
