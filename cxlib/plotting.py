"""Figure style for the workbench: seaborn theme, a CJK font that works on a fresh machine,
catalog-driven palettes and bilingual titles.

Chinese text needs a font with CJK glyphs. The default DejaVu Sans has none, so matplotlib
draws boxes and warns "Glyph … missing from font(s)". :func:`set_theme` registers Noto Sans SC
(SIL Open Font License), which ships inside the installed package ``pylopdf_fonts_zh_cn``,
so no system font and no root rights are needed. It then sets a fallback list
(``DejaVu Sans`` first for Latin text and the minus sign, ``Noto Sans SC`` for every CJK glyph),
which matplotlib (>= 3.6) applies glyph by glyph.

``seaborn.set_theme`` / ``set_style`` reset ``font.family`` and ``font.sans-serif``: call
**this** ``set_theme`` (it calls seaborn's first, then sets the fonts), and call it again if
other code has re-themed seaborn since.

Text from the data (center and case names, visit ids, model terms) is always drawn as written:
the figure functions build their figures inside :func:`drawing`, which turns mathtext and
LaTeX off for every text they create, so ``$…$`` in a name is never typeset (nor fails).

Example
-------
>>> from cxlib import plotting
>>> plotting.set_theme()
>>> plotting.title("情绪曲线", "Emotion curve", lang="both")
'情绪曲线\\nEmotion curve'
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cxlib import catalog
from cxlib.catalog import Lang
from cxlib.estimation import Options, former_keywords
from cxlib.fonts import cjk_font_path

CJK_FONT_FAMILY = "Noto Sans SC"
#: Font fallback list: Latin glyphs (and the minus sign) from DejaVu Sans, CJK from Noto Sans SC,
#: then system CJK fonts when installed. Families that are not installed are left out of the
#: rcParams (matplotlib logs "findfont: Font family … not found" for each one, on stderr).
FONT_FALLBACK: tuple[str, ...] = ("DejaVu Sans", CJK_FONT_FAMILY, "Noto Sans CJK SC", "Noto Sans CJK JP", "sans-serif")
_GENERIC = {"sans-serif", "serif", "monospace", "cursive", "fantasy"}

# ------------------------------------------------------------------------------ palettes
#: Transparency tiers, light grey (no update) to deep teal (real-time with photos).
TIER_COLORS: dict[str, str] = dict(zip(catalog.TIER_ORDER, ("#9e9e9e", "#9ecae1", "#3182bd", "#08519c")))
#: Emotion bands, red (very dissatisfied) to green (delighted).
BAND_COLORS: dict[str, str] = dict(
    zip((b.code for b in catalog.EMOTION_BANDS), ("#d7301f", "#fc8d59", "#e0e0a0", "#91cf60", "#1a9850"))
)
#: Journey stages, a light qualitative palette for background bands.
STAGE_COLORS: dict[str, str] = dict(
    zip(catalog.STAGE_ORDER, ("#c6dbef", "#dadaeb", "#fdd0a2", "#c7e9c0", "#fcbba1", "#d9d9d9", "#f2e3b3"))
)
#: Channels of a touchpoint.
CHANNEL_COLORS: dict[str, str] = {"online": "#3182bd", "offline": "#e6550d"}
#: NPS groups.
NPS_COLORS: dict[str, str] = dict(zip((g.code for g in catalog.NPS_GROUPS), ("#d7301f", "#bdbdbd", "#1a9850")))
#: Service scenarios.
SCENARIO_COLORS: dict[str, str] = dict(zip(catalog.SCENARIO_ORDER, ("#1b9e77", "#7570b3", "#d95f02")))

_PALETTES = {
    "tier": TIER_COLORS,
    "band": BAND_COLORS,
    "stage": STAGE_COLORS,
    "channel": CHANNEL_COLORS,
    "nps_group": NPS_COLORS,
    "scenario": SCENARIO_COLORS,
}


def palette(kind: str) -> dict[str, str]:
    """Colours of a catalog dimension, code -> hex, in catalog order (for seaborn's ``palette=``).

    ``kind`` is one of ``tier``, ``band``, ``stage``, ``channel``, ``nps_group``, ``scenario``.

    >>> list(palette("tier"))[:2]
    ['none', 'completion_only']
    """
    try:
        return dict(_PALETTES[kind])
    except KeyError:
        raise ValueError(f"unknown palette {kind!r}; known: {', '.join(_PALETTES)}") from None


def segment_colors(values: list[str], *, column: str | None = None) -> dict[str, str]:
    """Colours for the segments of a comparison plot: the catalog palette of ``column`` when
    there is one (tier, scenario…), otherwise seaborn's ``colorblind`` palette in the given order.

    >>> segment_colors(["b", "a"])["b"]
    '#0173b2'
    """
    known = _PALETTES.get(column or "")
    if known is not None and all(v in known for v in values):
        return {v: known[v] for v in values}
    cols = sns.color_palette("colorblind", max(len(values), 1)).as_hex()
    return {v: cols[i % len(cols)] for i, v in enumerate(values)}


# --------------------------------------------------------------------------------- fonts


def register_cjk_font() -> str:
    """Register the bundled CJK font with matplotlib (idempotent) and return its family name.

    >>> register_cjk_font()
    'Noto Sans SC'
    """
    path = cjk_font_path()
    if not any(Path(f.fname) == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def set_cjk_font() -> None:
    """Set the font fallback list (Latin from DejaVu Sans, CJK from Noto Sans SC) in rcParams,
    without touching the rest of the style.

    >>> set_cjk_font(); mpl.rcParams["font.family"][:2]
    ['DejaVu Sans', 'Noto Sans SC']
    """
    register_cjk_font()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = [f for f in FONT_FALLBACK if f in installed or f in _GENERIC]
    mpl.rcParams["font.family"] = family
    sans = [f for f in family if f != "sans-serif"]
    mpl.rcParams["font.sans-serif"] = sans + [f for f in mpl.rcParams["font.sans-serif"] if f not in sans]
    mpl.rcParams["axes.unicode_minus"] = True  # DejaVu Sans has U+2212


def set_theme(*, context: str = "notebook", style: str = "whitegrid", **kwargs) -> None:
    """The workbench look: ``seaborn.set_theme`` then the CJK font fallback (which seaborn resets).

    Call this instead of ``sns.set_theme``; if something calls ``sns.set_theme`` afterwards,
    call it again. Extra keyword arguments go to ``seaborn.set_theme``.

    >>> set_theme(context="paper")
    """
    sns.set_theme(context=context, style=style, **kwargs)
    set_cjk_font()
    _inline_in_notebooks()
    mpl.rcParams["savefig.bbox"] = "tight"  # keeps captions placed under the axes
    mpl.rcParams["text.usetex"] = False  # text from data never goes to LaTeX (see drawing())


def new_figure(*, figsize: tuple[float, float] | None = None, layout: str | None = "constrained") -> Figure:
    """A new figure in the workbench's theme, outside pyplot's registry (so a notebook shows it
    exactly once, when it is returned, and batch runs do not accumulate open figures): the one
    way the workbench makes a figure (:func:`subplots` and :func:`figure_for` use it).

    >>> type(new_figure(figsize=(4, 3))).__name__
    'Figure'
    """
    ensure_theme()
    return Figure(figsize=figsize, layout=layout)  # type: ignore[arg-type]


def subplots(
    *,
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
    layout: str | None = None,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """A :func:`new_figure` and its axes (one ``Axes`` or an array of them, as matplotlib's ``subplots``).

    >>> fig, ax = subplots(figsize=(4, 3)); type(fig).__name__, type(ax).__name__
    ('Figure', 'Axes')
    """
    fig = new_figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def figure_for(
    ax: Axes | None, figsize: tuple[float, float], *, layout: str | None = "constrained"
) -> tuple[Figure, Axes]:
    """Where a figure function of one axes draws: on ``ax`` (given by the caller, who lays out the
    figure) or on the single axes of a :func:`new_figure`. Returns the figure and the axes.

    >>> fig, ax = figure_for(None, (4, 3)); fig is ax.figure
    True
    """
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = new_figure(figsize=figsize, layout=layout)
    return fig, fig.subplots()


def note_figure(note: str, title: str, *, ax: Axes | None = None) -> Figure:
    """The figure of a result with nothing to draw (a model that could not be fitted): its
    ``note``, wrapped, under ``title``, on ``ax`` or on a small figure of its own.

    >>> fig = note_figure("cannot fit: only 3 complete rows", "Model coefficients")
    >>> fig.axes[0].get_title(), fig.axes[0].texts[0].get_text()
    ('Model coefficients', 'cannot fit: only 3 complete rows')
    """
    own = ax is None
    with drawing():
        fig, ax = figure_for(ax, (7, 2.2), layout=None)
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "\n".join(textwrap.wrap(note, 80)),
            ha="center",
            va="center",
            fontsize="small",
            color="#444444",
            transform=ax.transAxes,
        )
        ax.set_title(title)
        if own:
            fig.tight_layout()
    return fig


def _inline_in_notebooks() -> None:
    """In a Jupyter kernel, show figures inline even when MPLBACKEND points elsewhere (e.g. Agg
    set for a batch run), so executed notebooks and their HTML reports carry the figures."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is not needed outside notebooks
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        # activating the inline backend also registers the PNG display of Figure objects
        shell.run_line_magic("matplotlib", "inline")


def fonts_ok() -> bool:
    """True when the current rcParams would draw Chinese text with a CJK font.

    >>> set_theme(); fonts_ok()
    True
    """
    fam = mpl.rcParams["font.family"]
    fam = [fam] if isinstance(fam, str) else list(fam)
    if "sans-serif" in fam and CJK_FONT_FAMILY in mpl.rcParams["font.sans-serif"]:
        return True
    return CJK_FONT_FAMILY in fam


def ensure_theme() -> None:
    """Restore the CJK font fallback when something (e.g. ``sns.set_theme``) has reset it,
    keeping the rest of the style. Every figure function of the workbench calls it.

    >>> ensure_theme()
    """
    if not fonts_ok():
        set_cjk_font()


#: rcParams under which the workbench builds its figures: every text is drawn as written
LITERAL_TEXT: dict[str, Any] = {"text.parse_math": False, "text.usetex": False}


@contextmanager
def drawing() -> Iterator[None]:
    """The context every figure function of the workbench draws in: text is literal, and the
    known harmless seaborn / matplotlib deprecation warnings are silenced.

    Every text created inside (titles, axis and tick labels, legends, annotations, captions)
    gets ``parse_math=False`` and ``usetex=False``: a center name, case name or comment holding
    ``$…$`` is drawn exactly as written and never goes to mathtext (where a malformed one such
    as ``$x^$`` would fail the figure, and so the notebook). The workbench draws no math on
    purpose. Only these two rcParams are set, and restored on leaving.

    >>> with drawing():
    ...     fig, ax = subplots()
    ...     _ = ax.set_title("5$ off $x^$")
    ...     fig.canvas.draw()
    >>> ax.title.get_parse_math()
    False
    """
    saved: dict[str, Any] = {k: mpl.rcParams[k] for k in LITERAL_TEXT}  # type: ignore[index]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=mpl.MatplotlibDeprecationWarning)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="seaborn")
        warnings.filterwarnings("ignore", category=FutureWarning, module="seaborn")
        mpl.rcParams.update(LITERAL_TEXT)  # type: ignore[arg-type]
        try:
            yield
        finally:
            mpl.rcParams.update(saved)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ text
def title(zh: str, en: str, *, lang: Lang = "both") -> str:
    """A bilingual title: Chinese, English, or both on two lines.

    >>> title("痛点", "Pain points", lang="en")
    'Pain points'
    """
    return catalog.bilingual(zh, en, lang=lang, sep="\n")


def text(zh: str, en: str, *, lang: Lang = "both") -> str:
    """Bilingual inline text (one line): ``"中文 English"`` for ``both``.

    >>> text("评分", "Score", lang="both")
    '评分 Score'
    """
    return catalog.bilingual(zh, en, lang=lang)


def tick_label(code: str, *, lang: Lang = "both") -> str:
    """A catalog label for a tick: ``both`` puts Chinese and English on two lines.

    >>> tick_label("waiting", lang="both")
    '等待\\nWaiting'
    """
    return catalog.bilingual(catalog.label(code, lang="zh"), catalog.label(code, lang="en"), lang=lang, sep="\n")


def stage_bands(
    top: Axes,
    below: Axes,
    spans: dict[str, tuple[float, float]],
    *,
    lang: Lang = "both",
    ymin: float = 0.78,
    label_y: float = 0.89,
    shade: float = 0.25,
) -> None:
    """The journey's stages as coloured bands over the touchpoints' x positions ``spans``
    (stage code -> (start, end)): across the top of ``top`` from ``ymin`` (in axes fraction) with
    the stage's name at ``label_y``, a white line where each stage starts, and shaded behind
    ``below``'s plot (alpha ``shade``). The emotion curve and the comment themes draw them alike.

    >>> fig = new_figure()
    >>> top, bottom = fig.subplots(2, 1, sharex=True)
    >>> stage_bands(top, bottom, {st: (i - 0.5, i + 0.5) for i, st in enumerate(catalog.STAGE_ORDER)}, lang="en")
    >>> len(top.texts) == len(catalog.STAGE_ORDER)
    True
    """
    for st in catalog.STAGE_ORDER:
        a, b = spans[st]
        color = STAGE_COLORS[st]
        top.axvspan(a, b, ymin=ymin, ymax=1.0, color=color, lw=0)
        top.text(
            (a + b) / 2,
            label_y,
            tick_label(st, lang=lang),
            ha="center",
            va="center",
            fontsize="small",
            transform=top.get_xaxis_transform(),
        )
        below.axvspan(a, b, color=color, alpha=shade, lw=0, zorder=0)
        top.axvline(a, color="white", lw=2)


def caption(fig: Figure, text: str, *, width: int = 110) -> Figure:
    """Put a one-sentence finding under the figure (kept by ``savefig(bbox_inches="tight")``
    and by Jupyter's inline display).

    >>> fig, _ = subplots(); caption(fig, "Waiting is the low point.") is fig
    True
    """
    wrapped = "\n".join(textwrap.wrap(str(text), width=width)) or str(text)
    with drawing():
        fig.text(0.01, -0.01, wrapped, ha="left", va="top", fontsize="small", style="italic", color="#444444")
    return fig


# ------------------------------------------------------------------------------ n on the points
def with_n(label: str, n: object) -> str:
    """A tick label with the n behind the point under it.

    >>> with_n("实时更新+照片", 42)
    '实时更新+照片\\nn=42'
    """
    try:
        k = int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(label)
    return f"{label}\nn={k:,}"


def small_mask(n: Any, *, min_n: int = catalog.MIN_N):
    """Which points rest on fewer than ``min_n`` answers (a missing n counts as none).

    >>> small_mask([29, 30, None]).tolist()
    [True, False, True]
    """
    import numpy as np
    import pandas as pd

    k = pd.to_numeric(pd.Series(list(n) if not isinstance(n, pd.Series) else n.to_numpy()), errors="coerce")
    return np.asarray(k.fillna(0).to_numpy(dtype=float) < min_n)


@dataclass(frozen=True)
class SmallMarks(Options):
    """How :func:`mark_small` marks the points of small samples: those with n < ``min_n``, drawn
    hollow at ``size`` (points²), with a ``note`` in the corner saying what a hollow point means.

        >>> SmallMarks(size=60, note=False).min_n == catalog.MIN_N
        True
    """

    min_n: int = catalog.MIN_N
    size: float = 46
    note: bool = True


@former_keywords(marks=SmallMarks)
def mark_small(
    ax: Axes,
    x: Any,
    y: Any,
    n: Any,
    color: str,
    *,
    lang: Lang = "both",
    marks: SmallMarks = SmallMarks(),
) -> bool:
    """Draw the points with n < ``marks.min_n`` hollow (white inside, ``color`` edge, of
    ``marks.size``) over the plotted ones, and (``marks.note``) say once in the corner of ``ax``
    what a hollow point means. Returns whether any was.

        >>> fig, ax = subplots(); mark_small(ax, [0, 1], [5, 6], [12, 80], "#333333")
        True
    """
    import numpy as np

    min_n, size, note = marks.min_n, marks.size, marks.note
    small = small_mask(n, min_n=min_n)
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not small.any():
        return False
    with drawing():
        ax.scatter(xs[small], ys[small], s=size, facecolors="white", edgecolors=color, linewidths=1.5, zorder=5)
        if note and not getattr(ax, "_cx_small_note", False):
            ax.text(
                0.99,
                0.01,
                text(f"空心点：n < {min_n}，仅供参考", f"hollow: n < {min_n}, read with care", lang=lang),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize="x-small",
                color="#666666",
            )
            ax._cx_small_note = True  # type: ignore[attr-defined]  # the note is said once per axes
    return True


def n_range(n) -> str:
    """The n of a series of points: one number, or the smallest and largest.

    >>> n_range([40, 38, 41]), n_range([12, 12])
    ('n=38–41', 'n=12')
    """
    import pandas as pd

    k = pd.to_numeric(pd.Series(list(n)), errors="coerce").dropna().astype(int)
    if k.empty:
        return "n=0"
    lo, hi = int(k.min()), int(k.max())
    return f"n={lo:,}" if lo == hi else f"n={lo:,}–{hi:,}"
