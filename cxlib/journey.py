"""The customer journey: emotion curves, journey maps, pain points, key drivers, the
"information black hole" of the repair, moments of truth and the peak-end rule.

Inputs are the processed tables of ``docs/data-model.md``: ``scores`` (long: one row per
response and journey point), ``visits`` (one row per visit with derived features) and
``events`` (the touchpoint log). Codes, orders and labels come from :mod:`cxlib.catalog`.

Example
-------
>>> curve = emotion_curve(scores, by="tier")            # doctest: +SKIP
>>> fig = journey_map(emotion_curve(scores), lang="both")  # doctest: +SKIP
>>> pain_points(scores, comments=surveys).head(3)       # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from cxlib import catalog, plotting
from cxlib.catalog import MOMENTS, QUADRANTS, Lang, Moment  # domain constants live in the catalog
from cxlib.drivers import WHAT as _DRIVERS
from cxlib.drivers import Bootstrap, bootstrap_relative_weights, relative_weights
from cxlib.errors import DataError, require_columns
from cxlib.peak_end import (
    DEFAULT_MODELS,
    DURATION_MODELS,
    duration_neglect,
    peak_end_models,
    peak_end_score,
    peak_end_summary,
    time_weighted_mean,
)
from cxlib.results import NotComputed, NotProvided, missing, too_few
from cxlib.stats import error_bars, mean_ci, t_interval, wilson_ci

__all__ = [
    "emotion_curve",
    "plot_emotion_curve",
    "plot_journey_map",
    "journey_map",
    "biggest_drops",
    "score_matrix",
    "key_drivers",
    "pain_points",
    "importance_performance",
    "plot_importance_performance",
    "silences",
    "silence_effects",
    "plot_silence",
    "plot_visit_timeline",
    "visit_timeline",
    "Moment",
    "MOMENTS",
    "moments_table",
    "moments_scorecard",
    "wilson_ci",
    "relative_weights",
    "bootstrap_relative_weights",
    "peak_end_score",
    "peak_end_summary",
    "peak_end_models",
    "duration_neglect",
    "time_weighted_mean",
    "DEFAULT_MODELS",
    "DURATION_MODELS",
    "QUADRANTS",
    "verbatims",
    "example_visit",
    "results_entries",
    "with_visit_columns",
    "scores_unavailable",
]

#: What a "not computed" note counts when a selection holds no touchpoint score at all.
_SCORE_UNIT = ("条触点评分", "touchpoint scores")
_Note = (NotProvided, NotComputed)
#: What the "not computed" notes of the information black hole count and name.
_REPAIR_UNIT = ("个已知维修完成时间的工单", "visits with a known repair end")
_BLACK_HOLE = ("信息黑洞分析", "the information black hole")

_POINT_STAGE = {p.code: p.stage for p in catalog.SCORE_POINTS}
_VERY_DISSATISFIED_MAX = catalog.EMOTION_BANDS[0].high  # 3
#: Bilingual names of the segment columns used in legends.
_SEGMENT_NAMES = {
    "center": ("服务中心", "Service center"),
    "scenario": ("服务类型", "Scenario"),
    "tier": ("透明度等级", "Transparency tier"),
    "month": ("月份", "Month"),
    "nps_group": ("NPS 分组", "NPS group"),
}


# ----------------------------------------------------------------------------- helpers
def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _points(s: pd.Series, column: str) -> pd.Series:
    """Score-point codes as the catalog's ordered categorical; unknown codes are an error.

    A categorical column (as the processed scores hold them) is recoded through its categories,
    without a text copy of every row; anything else is read as text."""
    order = list(catalog.SCORE_POINT_ORDER)
    if isinstance(s.dtype, pd.CategoricalDtype):
        labels = [str(c) for c in s.cat.categories]
        if len(set(labels)) == len(labels):
            code_of = np.array([order.index(v) if v in order else -1 for v in labels] + [-1])  # last: missing
            codes = s.cat.codes.to_numpy()
            new = code_of[codes]
            if (new < 0).any():
                pos = int(np.flatnonzero(new < 0)[0])
                first = labels[codes[pos]] if codes[pos] >= 0 else "nan"
                raise DataError(
                    f"unknown journey point {first!r}; known: {', '.join(catalog.SCORE_POINT_ORDER)}",
                    file="scores",
                    column=column,
                    row=pos + 1,
                )
            cat = pd.Categorical.from_codes(new, dtype=catalog.SCORE_POINT_DTYPE)
            return pd.Series(cat, index=s.index, name=s.name)
    vals = s.astype(str)
    bad = ~vals.isin(catalog.SCORE_POINT_ORDER)
    if bad.any():
        first = vals[bad].iloc[0]
        raise DataError(
            f"unknown journey point {first!r}; known: {', '.join(catalog.SCORE_POINT_ORDER)}",
            file="scores",
            column=column,
            row=int(np.flatnonzero(bad.to_numpy())[0]) + 1,
        )
    return pd.Series(pd.Categorical(vals, dtype=catalog.SCORE_POINT_DTYPE), index=s.index, name=s.name)


def _scores_numeric(s: pd.Series, column: str, table: str = "scores") -> pd.Series:
    num = pd.to_numeric(s, errors="coerce").astype("float64")
    bad = num.notna() & ((num < catalog.SCORE_MIN) | (num > catalog.SCORE_MAX))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"score {num.iloc[pos]:g} outside {catalog.SCORE_MIN}-{catalog.SCORE_MAX}",
            file=table,
            column=column,
            row=pos + 1,
        )
    return num


def _seg_label(column: str, lang: Lang) -> str:
    zh, en = _SEGMENT_NAMES.get(column, (column, column))
    return plotting.text(zh, en, lang=lang)


# ------------------------------------------------------------------------ emotion curve
def emotion_curve(
    scores: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    point: str = "point",
    score: str = "score",
    ci: float = 0.95,
    visits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean emotion score per journey point (catalog order) with a t-based confidence interval.

    One row per (segment, point): ``by`` columns, ``point`` (ordered categorical), ``stage``,
    ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high`` (mean ± t₍n−1₎·sd/√n; NaN when n = 1),
    ``band`` (catalog emotion band of the mean) and ``band_label`` (bilingual). A ``by`` column
    that ``scores`` lacks is taken from ``visits`` by ``visit_id`` (any segment column of the
    visits: vehicle model, advisor, a carried column of the raw files); answers of visits
    without a value there are left out.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2", "r3", "r3"], "ltr": [6, 6, 8, 8, 7, 7],
    ...                        "point": ["waiting", "notification"] * 3, "score": [9, 3, 8, 5, 10, 4]})
    >>> emotion_curve(scores)[["point", "n", "mean", "band"]]
              point  n  mean          band
    0       waiting  3   9.0     satisfied
    1  notification  3   4.0  dissatisfied
    >>> emotion_curve(scores, by="vehicle_model", visits=visits)   # doctest: +SKIP
    """
    by_cols = _as_list(by)
    scores = with_visit_columns(scores, visits, by_cols)
    require_columns(scores, [*by_cols, point, score], "scores")
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, not {ci}")
    d = scores[by_cols].copy()
    d["point"] = _points(scores[point], point)
    d["score"] = _scores_numeric(scores[score], score)
    d = d[d["score"].notna()]
    if d.empty:
        raise DataError("no valid scores to average", file="scores", column=score)
    g = d.groupby([*by_cols, "point"], observed=True, sort=True, dropna=True)["score"]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["ci_low"], out["ci_high"] = t_interval(out["mean"], out["sd"], out["n"], ci=ci, bounds="score")
    out.insert(
        len(by_cols) + 1, "stage", pd.Categorical(out["point"].astype(str).map(_POINT_STAGE), dtype=catalog.STAGE_DTYPE)
    )
    out["n"] = out["n"].astype("int64")
    out["band"] = catalog.emotion_bands(out["mean"])
    out["band_label"] = [catalog.label(b, lang="both") for b in out["band"].astype(str)]
    return out


class _WithScores(Protocol):
    """What :func:`scores_unavailable` reads of processed data: the tables given, the scores."""

    @property
    def given(self) -> Mapping[str, bool]: ...

    @property
    def scores(self) -> pd.DataFrame: ...


def scores_unavailable(data: _WithScores, *, lang: Lang = "both") -> NotProvided | NotComputed | None:
    """Why the touchpoint-score sections of a report have no input, or None when they have one.

    ``data`` is a :class:`cxlib.clean.ProcessedData` (or its selection): "未提供数据 / not
    provided: touchpoint scores" when the surveys of the raw folder held no ``score_*`` answer
    (``data.given["scores"]``), and "n = 0 touchpoint scores: too few for the touchpoint-score
    analyses" when they did but the selected center and period hold none.

        >>> from types import SimpleNamespace
        >>> scores_unavailable(SimpleNamespace(given={"scores": False}, scores=pd.DataFrame()), lang="en")
        not provided: touchpoint scores (scores)
        >>> scores_unavailable(SimpleNamespace(given={}, scores=pd.DataFrame({"score": []})), lang="en")
        n = 0 touchpoint scores: too few for the touchpoint-score analyses, need ≥ 1
    """
    note = missing(data, "scores", lang=lang)
    if note is not None:
        return note
    scores = data.scores
    n = int(pd.to_numeric(scores["score"], errors="coerce").notna().sum()) if "score" in scores.columns else 0
    if n:
        return None
    return too_few(0, 1, ("触点评分分析", "the touchpoint-score analyses"), unit=_SCORE_UNIT, lang=lang)


def with_visit_columns(scores: pd.DataFrame, visits: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """``scores`` with those of ``columns`` it lacks taken from ``visits`` (matched by ``visit_id``).

    >>> s = pd.DataFrame({"visit_id": ["V1", "V2"], "score": [8, 5]})
    >>> with_visit_columns(s, pd.DataFrame({"visit_id": ["V2", "V1"], "advisor": ["王", "李"]}), ["advisor"]).advisor.tolist()
    ['李', '王']
    """
    need = [c for c in columns if c not in scores.columns]
    if not need or visits is None:
        return scores
    require_columns(visits, ["visit_id", *need], "visits")
    v = visits.drop_duplicates("visit_id").set_index("visit_id")
    extra = {c: v[c].reindex(scores["visit_id"].to_numpy()).reset_index(drop=True) for c in need}
    return scores.reset_index(drop=True).assign(**extra)


def _segments(curve: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[list[str], list[tuple]]:
    by_cols = _as_list(by)
    require_columns(curve, [*by_cols, "point", "mean"], "curve")
    if not by_cols:
        if curve["point"].astype(str).duplicated().any():
            raise DataError(
                "the curve has several rows per point: pass by= the segment column(s)", file="curve", column="point"
            )
        return [], [()]
    keys = curve[by_cols].drop_duplicates()
    return by_cols, [tuple(r) for r in keys.itertuples(index=False)]


def _select(curve: pd.DataFrame, by_cols: list[str], key: tuple) -> pd.DataFrame:
    mask = pd.Series(True, index=curve.index)
    for c, v in zip(by_cols, key):
        mask &= curve[c].astype(str) == str(v)
    sub = curve[mask].copy()
    sub["_x"] = [catalog.SCORE_POINT_ORDER.index(p) for p in sub["point"].astype(str)]
    return sub.sort_values("_x")


def _shade_bands(ax: Axes, alpha: float = 0.12) -> None:
    for band in catalog.EMOTION_BANDS:
        ax.axhspan(band.low - 0.5, band.high + 0.5, color=plotting.BAND_COLORS[band.code], alpha=alpha, lw=0, zorder=0)


def plot_emotion_curve(
    curve: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    lang: Lang = "both",
    ax: Axes | None = None,
    show_ci: bool = True,
) -> Figure:
    """Emotion curves (one line per segment) with CI bands, on the emotion-band background.

    >>> fig = plot_emotion_curve(emotion_curve(scores, by="tier"), by="tier", lang="both")  # doctest: +SKIP
    """
    by_cols, keys = _segments(curve, by)
    with plotting.drawing():
        fig, ax = plotting.figure_for(ax, (9, 5))
        _shade_bands(ax)
        names = [" / ".join(catalog.label(str(v), lang=lang) for v in k) for k in keys]
        colors = plotting.segment_colors(
            [str(k[0]) if len(k) == 1 else n for k, n in zip(keys, names)],
            column=by_cols[0] if len(by_cols) == 1 else None,
        )
        has_n = "n" in curve.columns
        for (k, name), color in zip(zip(keys, names), colors.values()):
            sub = _select(curve, by_cols, k)
            shown = f"{name} ({plotting.n_range(sub['n'])})" if has_n else name
            ax.plot(sub["_x"], sub["mean"], marker="o", color=color, label=shown if by_cols else None, zorder=3)
            if has_n:  # points resting on fewer than MIN_N answers are hollow
                plotting.mark_small(ax, sub["_x"], sub["mean"], sub["n"], color, lang=lang)
            if show_ci and {"ci_low", "ci_high"} <= set(sub.columns):
                ax.fill_between(
                    sub["_x"],
                    sub["ci_low"].astype(float),
                    sub["ci_high"].astype(float),
                    color=color,
                    alpha=0.18,
                    lw=0,
                    zorder=2,
                )
        xs = range(len(catalog.SCORE_POINT_ORDER))
        ticks = [plotting.tick_label(p, lang=lang) for p in catalog.SCORE_POINT_ORDER]
        if has_n and not by_cols:  # one curve: the n of each point under its name
            n_of = dict(zip(curve["point"].astype(str), curve["n"]))
            ticks = [plotting.with_n(t, n_of[p]) if p in n_of else t for t, p in zip(ticks, catalog.SCORE_POINT_ORDER)]
        ax.set_xticks(list(xs), ticks)
        ax.set_xlim(-0.5, len(catalog.SCORE_POINT_ORDER) - 0.5)
        ax.set_ylim(catalog.SCORE_MIN - 0.5, catalog.SCORE_MAX + 0.5)
        ax.set_xlabel(plotting.text("旅程触点", "Journey point", lang=lang))
        ax.set_ylabel(plotting.text("平均情绪评分（1–10）", "Mean emotion score (1–10)", lang=lang))
        ax.set_title(plotting.title("客户旅程情绪曲线", "Emotion curve along the service journey", lang=lang))
        if by_cols:
            ax.legend(title=" / ".join(_seg_label(c, lang) for c in by_cols), loc="lower left", fontsize="small")
    return fig


def biggest_drops(
    curve: pd.DataFrame, by: str | Sequence[str] | None = None, *, only_drops: bool = True
) -> pd.DataFrame:
    """Changes of the mean score between consecutive journey points, biggest drop first.

    ``drop = mean(from_point) − mean(to_point)`` (positive: the mood falls). Consecutive means
    adjacent among the points present in the curve, in catalog order, within each segment. ``n``
    is the smaller of the two points' numbers of answers (when the curve has them): the drop rests
    on no more.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2", "r3", "r3"], "ltr": [6, 6, 8, 8, 7, 7],
    ...                        "point": ["waiting", "notification"] * 3, "score": [9, 3, 8, 5, 10, 4]})
    >>> biggest_drops(emotion_curve(scores))
      from_point      to_point  from_mean  to_mean  drop  n
    0    waiting  notification        9.0      4.0   5.0  3
    """
    by_cols, keys = _segments(curve, by)
    rows = []
    for k in keys:
        sub = _select(curve, by_cols, k)
        pts, means = sub["point"].astype(str).tolist(), sub["mean"].astype(float).tolist()
        ns = sub["n"].tolist() if "n" in sub.columns else [pd.NA] * len(pts)
        for i in range(len(pts) - 1):
            rows.append(
                {
                    **dict(zip(by_cols, k)),
                    "from_point": pts[i],
                    "to_point": pts[i + 1],
                    "from_mean": means[i],
                    "to_mean": means[i + 1],
                    "drop": means[i] - means[i + 1],
                    "n": pd.NA if pd.isna(ns[i]) or pd.isna(ns[i + 1]) else int(min(ns[i], ns[i + 1])),
                }
            )
    out = pd.DataFrame(rows, columns=[*by_cols, "from_point", "to_point", "from_mean", "to_mean", "drop", "n"])
    if only_drops:
        out = out[out["drop"] > 0]
    out = out.assign(_o=out["from_point"].map(catalog.SCORE_POINT_ORDER.index))
    return (
        out.sort_values(["drop", *by_cols, "_o"], ascending=[False] + [True] * (len(by_cols) + 1), kind="mergesort")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------------------- journey map
def _touchpoint_x() -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    tx = {t.code: float(i) for i, t in enumerate(catalog.TOUCHPOINTS)}
    spans = {}
    for st in catalog.STAGE_ORDER:
        xs = [tx[t.code] for t in catalog.TOUCHPOINTS if t.stage == st]
        spans[st] = (min(xs) - 0.5, max(xs) + 0.5)
    return tx, spans


def _point_x() -> dict[str, float]:
    """x of each score point: spread evenly within its stage's span of touchpoints."""
    _, spans = _touchpoint_x()
    px: dict[str, float] = {}
    for st in catalog.STAGE_ORDER:
        pts = [p.code for p in catalog.SCORE_POINTS if p.stage == st]
        a, b = spans[st]
        for i, p in enumerate(pts):
            px[p] = a + (b - a) * (i + 1) / (len(pts) + 1)
    return px


def plot_journey_map(curve: pd.DataFrame, *, lang: Lang = "both", pain_below: float = 6.0) -> Figure:
    """The journey map: the seven stages as coloured bands, the catalog touchpoints under
    their stage (marker: online ● / offline ■), and the emotion curve with its CI at the score
    points; the peak and the pain points (the lowest point, and any point with a mean below
    ``pain_below``) are annotated.

    >>> fig = journey_map(emotion_curve(scores), lang="both")   # doctest: +SKIP
    """
    _segments(curve, None)
    tx, spans = _touchpoint_x()
    px = _point_x()
    sub = curve.copy()
    sub["_x"] = [px[p] for p in sub["point"].astype(str)]
    sub = sub.sort_values("_x")
    with plotting.drawing():
        fig = plotting.new_figure(figsize=(13, 8.5))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 3])
        x_lo, x_hi = -0.5, len(catalog.TOUCHPOINTS) - 0.5
        plotting.stage_bands(top, bottom, spans, lang=lang)
        for t in catalog.TOUCHPOINTS:
            x = tx[t.code]
            top.scatter(
                [x],
                [0.70],
                marker="o" if t.channel == "online" else "s",
                s=36,
                color=plotting.CHANNEL_COLORS[t.channel],
                transform=top.get_xaxis_transform(),
                zorder=3,
            )
            top.text(
                x,
                0.63,
                plotting.tick_label(t.code, lang=lang),
                rotation=90,
                ha="center",
                va="top",
                fontsize="x-small",
                transform=top.get_xaxis_transform(),
            )
        top.set_ylim(0, 1)
        top.set_yticks([])
        top.grid(False)
        top.set_title(
            plotting.title(
                "客户旅程地图：阶段、触点与情绪曲线",
                "Customer journey map: stages, touchpoints and emotion curve",
                lang=lang,
            )
        )
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=plotting.CHANNEL_COLORS["online"],
                label=catalog.label("online", lang=lang),
            ),
            Line2D(
                [],
                [],
                marker="s",
                ls="",
                color=plotting.CHANNEL_COLORS["offline"],
                label=catalog.label("offline", lang=lang),
            ),
        ]

        bottom.plot(sub["_x"], sub["mean"], marker="o", color="#08519c", zorder=3)
        if {"ci_low", "ci_high"} <= set(sub.columns):
            bottom.fill_between(
                sub["_x"],
                sub["ci_low"].astype(float),
                sub["ci_high"].astype(float),
                color="#08519c",
                alpha=0.18,
                lw=0,
                zorder=2,
            )
        means = sub["mean"].astype(float).to_numpy()
        if len(means):
            i_peak, i_low = int(np.argmax(means)), int(np.argmin(means))
            pains = {i_low} | {i for i, m in enumerate(means) if m < pain_below}
            xs = sub["_x"].to_numpy()
            bottom.annotate(
                plotting.text("峰值", "Peak", lang=lang) + f" {means[i_peak]:.1f}",
                (xs[i_peak], means[i_peak]),
                xytext=(0, 14),
                textcoords="offset points",
                ha="center",
                fontsize="small",
                color=plotting.BAND_COLORS["delighted"],
                arrowprops={"arrowstyle": "-", "color": "#666666"},
            )
            for i in sorted(pains - {i_peak}):
                bottom.annotate(
                    plotting.text("痛点", "Pain point", lang=lang) + f" {means[i]:.1f}",
                    (xs[i], means[i]),
                    xytext=(0, -22),
                    textcoords="offset points",
                    ha="center",
                    fontsize="small",
                    color=plotting.BAND_COLORS["very_dissatisfied"],
                    arrowprops={"arrowstyle": "-", "color": "#666666"},
                )
        n_at = dict(zip(sub["point"].astype(str), sub["n"])) if "n" in sub.columns else {}
        if n_at:
            plotting.mark_small(bottom, sub["_x"], sub["mean"].astype(float), sub["n"], "#08519c", lang=lang)
        bottom.set_xticks(
            list(px.values()),
            [plotting.with_n(plotting.tick_label(p, lang=lang), n_at.get(p)) for p in px],
            fontsize="small",
        )
        for i, tick in enumerate(bottom.xaxis.get_major_ticks()):  # stagger: neighbours sit close
            tick.set_pad(3 + (30 if lang == "both" else 20) * (i % 2))
        bottom.set_xlim(x_lo, x_hi)
        bottom.set_ylim(catalog.SCORE_MIN - 0.5, catalog.SCORE_MAX + 0.5)
        bottom.set_xlabel(plotting.text("评分触点（问卷）", "Scored journey point (survey)", lang=lang))
        bottom.set_ylabel(plotting.text("平均情绪评分（1–10）", "Mean emotion score (1–10)", lang=lang))
        # one legend, in the curve panel, so that no touchpoint label of the top panel is covered
        bottom.legend(
            handles=[
                Line2D([], [], color="#08519c", marker="o", label=plotting.text("均值", "Mean", lang=lang)),
                Patch(color="#08519c", alpha=0.18, label=plotting.text("95% 置信区间", "95% CI", lang=lang)),
                *handles,
            ],
            loc="lower left",
            fontsize="x-small",
            ncols=2,
            title=plotting.text("曲线与触点渠道", "Curve and touchpoint channel", lang=lang),
            title_fontsize="x-small",
        )
    return fig


# -------------------------------------------------------------------- drivers, pain points
def score_matrix(
    scores: pd.DataFrame,
    outcome: str | None = "ltr",
    id: str = "response_id",
    point: str = "point",
    score: str = "score",
) -> pd.DataFrame:
    """Wide table: one row per response, one column per journey point (catalog order), plus ``outcome``.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2", "r3", "r3"], "ltr": [6, 6, 8, 8, 7, 7],
    ...                        "point": ["waiting", "notification"] * 3, "score": [9, 3, 8, 5, 10, 4]})
    >>> score_matrix(scores)
      response_id  waiting  notification  ltr
    0          r1      9.0           3.0  6.0
    1          r2      8.0           5.0  8.0
    2          r3     10.0           4.0  7.0
    """
    require_columns(scores, [id, point, score] + ([outcome] if outcome else []), "scores")
    ids = scores[id].astype(str)
    pts = _points(scores[point], point).cat.codes.to_numpy().astype(np.int64)
    values = _scores_numeric(scores[score], score).to_numpy()
    # the pivot by the codes of the responses (sorted, as a pivot sorts them) and of the points
    rid, uniq = pd.factorize(ids, sort=True)
    order = list(catalog.SCORE_POINT_ORDER)
    dup = pd.Series(rid.astype(np.int64) * len(order) + pts).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DataError(f"response {ids.iloc[i]} scores point {order[pts[i]]} twice", file="scores", column=point)
    mat = np.full((len(uniq), len(order)), np.nan)
    mat[rid, pts] = values
    present = np.bincount(pts, minlength=len(order)) > 0
    wide = pd.DataFrame(mat[:, present], columns=[p for p, ok in zip(order, present) if ok])
    wide.insert(0, id, uniq)
    if outcome:
        y = pd.to_numeric(scores[outcome], errors="coerce").groupby(rid).first()
        wide[outcome] = y.astype("float64").to_numpy()
    return wide


def key_drivers(
    scores: pd.DataFrame,
    outcome: str = "ltr",
    *,
    points: Sequence[str] | None = None,
    n_boot: int = 0,
    seed: int = 0,
    strict: bool = True,
) -> pd.DataFrame | NotComputed:
    """Relative weights of the journey points for ``outcome`` (LTR), from complete responses.

    ``n_boot > 0`` adds bootstrap intervals. Adds ``stage`` and a bilingual ``label``.
    Too few complete responses (fewer than points + 2), a constant point or LTR, or too few
    bootstrap resamples that fit are an error; with ``strict=False`` (what a report calls) a
    :class:`~cxlib.results.NotComputed` note that states n and the need.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2", "r3", "r3"], "ltr": [6, 6, 8, 8, 7, 7],
    ...                        "point": ["waiting", "notification"] * 3, "score": [9, 3, 8, 5, 10, 4]})
    >>> key_drivers(scores, n_boot=500, seed=1)   # doctest: +SKIP
    >>> print(key_drivers(scores, strict=False).in_lang("en"))
    n = 3 complete responses: too few for key drivers (relative weights) of 2 predictors, need ≥ 4
    """
    wide = score_matrix(scores, outcome)
    pts = list(points) if points is not None else [p for p in catalog.SCORE_POINT_ORDER if p in wide.columns]
    if not pts and not strict:
        return too_few(0, 1, _DRIVERS, unit=_SCORE_UNIT)
    if n_boot:
        rw = bootstrap_relative_weights(
            wide, outcome, pts, bootstrap=Bootstrap(n_boot=n_boot, seed=seed), strict=strict
        )
    else:
        rw = relative_weights(wide, outcome, pts, strict=strict)
    if isinstance(rw, NotComputed):
        return rw
    rw.insert(1, "stage", rw["predictor"].map(_POINT_STAGE))
    rw.insert(2, "label", [catalog.label(p, lang="both") for p in rw["predictor"]])
    return rw


def _importance(weights: pd.DataFrame | pd.Series) -> pd.Series:
    if isinstance(weights, pd.DataFrame):
        require_columns(weights, ["predictor", "rescaled_pct"], "weights")
        return pd.Series(weights["rescaled_pct"].to_numpy(dtype=float) / 100, index=weights["predictor"].astype(str))
    if isinstance(weights, pd.Series):
        s = pd.to_numeric(weights, errors="coerce").astype("float64")
        s.index = s.index.astype(str)
        if (s < 0).any():
            raise DataError("importance weights must be non-negative")
        return s
    raise DataError("weights must be a relative_weights() table or a Series indexed by point")


@dataclass(frozen=True)
class ScoreColumns:
    """The column names :func:`pain_points` reads: of the scores (``id``, ``point``, ``score``,
    and the ``outcome`` the key drivers explain) and of the comments (``id``, ``comment``).

    >>> ScoreColumns(outcome="csat")
    ScoreColumns(outcome='csat', point='point', score='score', id='response_id', comment='comment')
    """

    outcome: str = "ltr"
    point: str = "point"
    score: str = "score"
    id: str = "response_id"
    comment: str = "comment"


def pain_points(
    scores: pd.DataFrame,
    weights: pd.DataFrame | pd.Series | None = None,
    *,
    target: float = 8.0,
    comments: pd.DataFrame | None = None,
    n_comments: int = 3,
    columns: ScoreColumns = ScoreColumns(),
    strict: bool = True,
) -> pd.DataFrame | NotComputed | NotProvided:
    """Journey points ranked by ``priority = max(target − mean, 0) × importance``.

    ``importance`` is the point's share of explained LTR variance (relative weight / R²) from
    :func:`key_drivers`, or the ``weights`` given (a :func:`relative_weights` table, or a Series
    indexed by point). Also: ``share_very_dissatisfied`` (scores 1–3) and up to ``n_comments``
    comments (``comments``: a table with ``id`` and ``comment``, personal data already masked)
    of respondents who scored that point ≤ 3, lowest score first, then by response id. The
    column names are those of ``columns`` (a :class:`ScoreColumns`).

    Without importance there is no ranking: ``weights`` that are a "not computed" or "not
    provided" note (too few responses for the key drivers) are returned as they are, and so is
    the note of :func:`key_drivers` with ``strict=False``.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2"], "point": ["waiting", "notification"] * 2,
    ...                        "score": [3, 9, 5, 8]})
    >>> comments = pd.DataFrame({"response_id": ["r1"], "comment": ["等了两个小时"]})
    >>> pains = pain_points(scores, pd.Series({"waiting": 0.6, "notification": 0.4}), comments=comments)
    >>> pains[["point", "mean", "priority", "sample_comments"]]
              point  mean  priority sample_comments
    0       waiting   4.0       2.4        [等了两个小时]
    1  notification   8.5       0.0              []
    """
    outcome, point, score, id, comment = columns.outcome, columns.point, columns.score, columns.id, columns.comment
    if isinstance(weights, _Note):
        return weights
    require_columns(scores, [id, point, score], "scores")
    d = pd.DataFrame(
        {
            "id": scores[id].astype(str),
            "point": _points(scores[point], point),
            "score": _scores_numeric(scores[score], score),
        }
    ).dropna(subset=["score"])
    g = d.groupby("point", observed=True)["score"]
    stats_ = pd.DataFrame(
        {
            "n": g.count(),
            "mean": g.mean(),
            "share_very_dissatisfied": g.apply(lambda s: float((s <= _VERY_DISSATISFIED_MAX).mean())),
        }
    )
    stats_.index = stats_.index.astype(str)
    drivers = key_drivers(scores, outcome, strict=strict) if weights is None else weights
    if isinstance(drivers, NotComputed):
        return drivers
    imp = _importance(drivers)
    out = stats_.reset_index(names="point")
    out["gap"] = (target - out["mean"]).clip(lower=0)
    out["importance"] = out["point"].map(imp).astype("float64")
    out["priority"] = out["gap"] * out["importance"]
    out.insert(1, "stage", out["point"].map(_POINT_STAGE))
    out.insert(2, "label", [catalog.label(p, lang="both") for p in out["point"]])
    out["n"] = out["n"].astype("int64")
    if comments is not None:
        require_columns(comments, [id, comment], "comments")
        c = pd.DataFrame({"id": comments[id].astype(str), "comment": comments[comment]})
        c = c[c["comment"].notna()]
        c["comment"] = c["comment"].astype(str).str.strip()
        c = c[c["comment"] != ""].drop_duplicates("id")
        bad = d[d["score"] <= _VERY_DISSATISFIED_MAX].merge(c, on="id", how="inner")
        bad = bad.sort_values(["point", "score", "id"], kind="mergesort")
        # distinct texts: the same complaint written twice says nothing new
        bad = bad.drop_duplicates(["point", "comment"])
        picked = bad.groupby("point", observed=True)["comment"].apply(lambda s: list(s.head(n_comments)))
        picked.index = picked.index.astype(str)
        out["sample_comments"] = [picked.get(p, []) for p in out["point"]]
    out["_o"] = out["point"].map(catalog.SCORE_POINT_ORDER.index)
    out = (
        out.sort_values(["priority", "mean", "_o"], ascending=[False, True, True], na_position="last", kind="mergesort")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


_QUAD = {q.code: q for q in QUADRANTS}


def importance_performance(
    curve: pd.DataFrame | NotProvided | NotComputed,
    weights: pd.DataFrame | pd.Series | NotProvided | NotComputed,
    *,
    cut: str = "mean",
) -> pd.DataFrame | NotProvided | NotComputed:
    """Importance-performance table: ``performance`` (mean score), ``importance`` (share of R²)
    and the quadrant, split at the ``cut`` (``"mean"`` or ``"median"``) of both axes over the points.
    A ``curve`` or ``weights`` that is a "not provided" / "not computed" note is returned as it is.

    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2", "r3", "r3"], "ltr": [6, 6, 8, 8, 7, 7],
    ...                        "point": ["waiting", "notification"] * 3, "score": [9, 3, 8, 5, 10, 4]})
    >>> ip = importance_performance(emotion_curve(scores), pd.Series({"waiting": 0.7, "notification": 0.3}))
    >>> ip[["point", "performance", "importance", "quadrant"]]
              point  performance  importance      quadrant
    0       waiting          9.0         0.7       keep_up
    1  notification          4.0         0.3  low_priority
    """
    if isinstance(curve, _Note):
        return curve
    if isinstance(weights, _Note):
        return weights
    _segments(curve, None)
    imp = _importance(weights)
    out = pd.DataFrame(
        {"point": curve["point"].astype(str).to_numpy(), "performance": curve["mean"].astype(float).to_numpy()}
    )
    if "n" in curve.columns:
        out["n"] = curve["n"].to_numpy()
    out["importance"] = out["point"].map(imp).astype("float64")
    out = out.dropna(subset=["importance", "performance"])
    if out.empty:
        raise DataError("no journey point has both a mean score and an importance weight")
    if cut not in ("mean", "median"):
        raise DataError(f"cut must be 'mean' or 'median', not {cut!r}")
    imp_cut = getattr(out["importance"], cut)()
    perf_cut = getattr(out["performance"], cut)()
    hi_imp, hi_perf = out["importance"] >= imp_cut, out["performance"] >= perf_cut
    out["quadrant"] = np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        ["concentrate", "keep_up", "low_priority"],
        "overkill",
    )
    out["quadrant_label"] = [f"{_QUAD[q].zh} {_QUAD[q].en}" for q in out["quadrant"]]
    out["importance_cut"], out["performance_cut"] = imp_cut, perf_cut
    out.insert(1, "stage", out["point"].map(_POINT_STAGE))
    out["_o"] = out["point"].map(catalog.SCORE_POINT_ORDER.index)
    return out.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def plot_importance_performance(ip: pd.DataFrame, *, lang: Lang = "both", ax: Axes | None = None) -> Figure:
    """Quadrant chart of :func:`importance_performance`: performance across, importance up.

    >>> fig = plot_importance_performance(importance_performance(curve, drivers), lang="both")  # doctest: +SKIP
    """
    require_columns(
        ip,
        ["point", "performance", "importance", "quadrant", "importance_cut", "performance_cut"],
        "importance_performance",
    )
    quad_colors = {
        "concentrate": plotting.BAND_COLORS["very_dissatisfied"],
        "keep_up": plotting.BAND_COLORS["delighted"],
        "low_priority": "#9e9e9e",
        "overkill": plotting.TIER_COLORS["realtime"],
    }
    with plotting.drawing():
        fig, ax = plotting.figure_for(ax, (8, 6))
        x, y = ip["performance"].astype(float), 100 * ip["importance"].astype(float)
        ax.scatter(x, y, c=[quad_colors[q] for q in ip["quadrant"]], s=60, zorder=3)
        ns = ip["n"] if "n" in ip.columns else [None] * len(ip)
        for xi, yi, p, n in zip(x, y, ip["point"], ns):
            name = catalog.label(p, lang=lang) if n is None else f"{catalog.label(p, lang=lang)} (n={int(n):,})"
            ax.annotate(name, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize="small")
        if "n" in ip.columns:
            plotting.mark_small(ax, x, y, ip["n"], "#444444", lang=lang, marks=plotting.SmallMarks(size=60))
        xc, yc = float(ip["performance_cut"].iloc[0]), 100 * float(ip["importance_cut"].iloc[0])
        ax.axvline(xc, color="#666666", ls="--", lw=1)
        ax.axhline(yc, color="#666666", ls="--", lw=1)
        dx = max(float(x.max() - x.min()), 0.5) * 0.15
        dy = max(float(y.max() - y.min()), 1.0) * 0.15
        ax.set_xlim(float(x.min()) - dx, float(x.max()) + dx)
        ax.set_ylim(max(float(y.min()) - dy, 0), float(y.max()) + dy)
        corners = {
            "concentrate": (0.02, 0.98, "left", "top"),
            "keep_up": (0.98, 0.98, "right", "top"),
            "low_priority": (0.02, 0.02, "left", "bottom"),
            "overkill": (0.98, 0.02, "right", "bottom"),
        }
        for code, (cx, cy, ha, va) in corners.items():
            ax.text(
                cx,
                cy,
                plotting.text(_QUAD[code].zh, _QUAD[code].en, lang=lang),
                transform=ax.transAxes,
                ha=ha,
                va=va,
                fontsize="small",
                color=quad_colors[code],
            )
        ax.set_xlabel(plotting.text("表现：平均评分（1–10）", "Performance: mean score (1–10)", lang=lang))
        ax.set_ylabel(plotting.text("重要性：对推荐意愿 R² 的贡献（%）", "Importance: share of LTR R² (%)", lang=lang))
        ax.set_title(plotting.title("重要性-表现矩阵", "Importance-performance matrix", lang=lang))
    return fig


# ------------------------------------------------------------------ information black hole
def silences(events: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Per visit, the longest stretch of the repair (``started_at`` → ``finished_at``) without a
    proactive update (``catalog.UPDATE_TOUCHPOINTS``), as in ``visits.longest_silence_minutes``:
    the whole repair when no update falls inside it; NaN when start or finish is missing.
    Also ``n_inquiries``: ``customer_inquiry`` events from arrival to delivery (inclusive).

    Columns: ``visit_id``, ``repair_minutes``, ``n_updates_in_repair``, ``longest_silence_minutes``,
    ``silence_start``, ``silence_end``, ``n_inquiries``.

    >>> silences(events, visits).head()   # doctest: +SKIP
    """
    require_columns(events, ["visit_id", "ts", "touchpoint"], "events")
    require_columns(visits, ["visit_id", "arrived_at", "started_at", "finished_at", "delivered_at"], "visits")
    ev = pd.DataFrame(
        {"visit_id": events["visit_id"].astype(str), "ts": events["ts"], "touchpoint": events["touchpoint"].astype(str)}
    )
    if ev["ts"].isna().any():
        raise DataError(
            "event without a timestamp",
            file="events",
            column="ts",
            row=int(np.flatnonzero(ev["ts"].isna().to_numpy())[0]) + 1,
        )
    upd = ev[ev["touchpoint"].isin(catalog.UPDATE_TOUCHPOINTS)].sort_values(["visit_id", "ts"], kind="mergesort")
    inq = ev[ev["touchpoint"] == catalog.INQUIRY_TOUCHPOINT]
    upd_by = {k: g["ts"].tolist() for k, g in upd.groupby("visit_id", sort=False)}
    inq_by = {k: g["ts"].tolist() for k, g in inq.groupby("visit_id", sort=False)}
    rows = []
    try:
        for v in visits[["visit_id", "arrived_at", "started_at", "finished_at", "delivered_at"]].itertuples(
            index=False
        ):
            vid = str(v.visit_id)
            n_inq = (
                sum(1 for t in inq_by.get(vid, []) if v.arrived_at <= t <= v.delivered_at)
                if not (pd.isna(v.arrived_at) or pd.isna(v.delivered_at))
                else 0
            )
            row = {
                "visit_id": vid,
                "repair_minutes": np.nan,
                "n_updates_in_repair": 0,
                "longest_silence_minutes": np.nan,
                "silence_start": pd.NaT,
                "silence_end": pd.NaT,
                "n_inquiries": n_inq,
            }
            if not (pd.isna(v.started_at) or pd.isna(v.finished_at)) and v.finished_at >= v.started_at:
                inside = [t for t in upd_by.get(vid, []) if v.started_at <= t <= v.finished_at]
                marks = [v.started_at, *inside, v.finished_at]
                gaps = [(marks[i + 1] - marks[i]).total_seconds() / 60 for i in range(len(marks) - 1)]
                j = int(np.argmax(gaps))
                row.update(
                    repair_minutes=(v.finished_at - v.started_at).total_seconds() / 60,
                    n_updates_in_repair=len(inside),
                    longest_silence_minutes=gaps[j],
                    silence_start=marks[j],
                    silence_end=marks[j + 1],
                )
            rows.append(row)
    except TypeError as exc:  # tz-aware vs naive timestamps
        raise DataError(
            f"event and visit timestamps cannot be compared ({exc}); use timezone-aware timestamps in both tables",
            file="events",
            column="ts",
        ) from exc
    out = pd.DataFrame(
        rows,
        columns=[
            "visit_id",
            "repair_minutes",
            "n_updates_in_repair",
            "longest_silence_minutes",
            "silence_start",
            "silence_end",
            "n_inquiries",
        ],
    )
    return out.astype(
        {
            "n_updates_in_repair": "int64",
            "n_inquiries": "int64",
            "repair_minutes": "float64",
            "longest_silence_minutes": "float64",
        }
    )


DEFAULT_SILENCE_BINS: tuple[float, ...] = (0, 30, 60, 120, 240, math.inf)


def _bin_labels(bins: Sequence[float]) -> list[str]:
    labs = []
    for a, b in zip(bins[:-1], bins[1:]):
        labs.append(f"{a:g}+" if math.isinf(b) else f"{a:g}–{b:g}")
    return labs


def silence_effects(
    visits: pd.DataFrame,
    *,
    bins: Sequence[float] = DEFAULT_SILENCE_BINS,
    silence: str = "longest_silence_minutes",
    anxiety: str = "anxiety",
    ltr: str = "ltr",
    inquiries: str = "n_inquiries",
    ci: float = 0.95,
    strict: bool = True,
) -> pd.DataFrame | NotComputed:
    """Anxiety, LTR and inquiries by length of the longest silence (minutes, bins ``[a, b)``).

    Per bin: ``n_visits``; ``anxiety_mean/ci_low/ci_high/n`` and ``ltr_mean/ci_low/ci_high/n``
    (t intervals, over visits with an answer); ``inquiry_rate`` (share of visits with at least
    one inquiry) with a Wilson interval, and ``mean_inquiries``. Empty bins are kept (NaN).
    With ``strict=False`` (what a report calls), no visit with a known silence (no repair end
    in the visits, or none in the selection) gives a :class:`~cxlib.results.NotComputed` note
    instead of a table of empty bins.

    >>> silence_effects(visits)   # doctest: +SKIP
    >>> print(silence_effects(pd.DataFrame({"longest_silence_minutes": [None]}), strict=False).in_lang("en"))
    n = 0 visits with a known repair end: too few for the information black hole, need ≥ 1
    """
    require_columns(visits, [silence], "visits")
    b = [float(x) for x in bins]
    if len(b) < 2 or any(x >= y for x, y in zip(b[:-1], b[1:])):
        raise DataError(f"bins must be increasing, got {list(bins)}")
    labels = _bin_labels(b)
    s = pd.to_numeric(visits[silence], errors="coerce").astype("float64")
    if not strict and not s.notna().any():
        return too_few(0, 1, _BLACK_HOLE, unit=_REPAIR_UNIT)
    binned = pd.cut(s, bins=b, right=False, labels=labels)
    rows = []
    for i, lab in enumerate(labels):
        mask = (binned == lab).to_numpy()
        row: dict[str, object] = {
            "silence_bin": lab,
            "bin_low": b[i],
            "bin_high": b[i + 1],
            "n_visits": int(mask.sum()),
        }
        for name, col in (("anxiety", anxiety), ("ltr", ltr)):
            if col in visits.columns:
                m, lo, hi = mean_ci(visits.loc[mask, col], ci=ci, bounds=name)
                row.update(
                    {
                        f"{name}_mean": m,
                        f"{name}_ci_low": lo,
                        f"{name}_ci_high": hi,
                        f"{name}_n": int(pd.to_numeric(visits.loc[mask, col], errors="coerce").notna().sum()),
                    }
                )
        if inquiries in visits.columns:
            q = pd.to_numeric(visits.loc[mask, inquiries], errors="coerce").astype("float64").dropna()
            k, n = int((q > 0).sum()), len(q)
            q_lo, q_hi = wilson_ci(k, n, ci=ci)
            row.update(
                {
                    "inquiry_rate": k / n if n else np.nan,
                    "inquiry_ci_low": float(q_lo),
                    "inquiry_ci_high": float(q_hi),
                    "mean_inquiries": q.mean() if n else np.nan,
                }
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    out["silence_bin"] = pd.Categorical(out["silence_bin"], categories=labels, ordered=True)
    return out


def plot_silence(effects: pd.DataFrame, *, lang: Lang = "both") -> Figure:
    """Three panels by silence bin: anxiety, LTR (means with CI) and inquiry rate (Wilson CI).

    >>> fig = plot_silence(silence_effects(visits), lang="both")   # doctest: +SKIP
    """
    require_columns(effects, ["silence_bin"], "silence_effects")
    panels = [
        (p, zh, en)
        for p, zh, en in (
            ("anxiety", "焦虑值（0–100）", "Anxiety (0–100)"),
            ("ltr", "推荐意愿（0–10）", "Likelihood to recommend (0–10)"),
            ("inquiry", "主动询问进度的比例（%）", "Visits with a progress inquiry (%)"),
        )
        if f"{p}_mean" in effects.columns or (p == "inquiry" and "inquiry_rate" in effects.columns)
    ]
    if not panels:
        raise DataError("silence_effects table has no anxiety, LTR or inquiry columns")
    with plotting.drawing():
        fig = plotting.new_figure(figsize=(4.2 * len(panels), 4.5))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        x = np.arange(len(effects))
        for ax, (p, zh, en) in zip(axes, panels):
            if p == "inquiry":
                m, lo, hi = (
                    100 * effects["inquiry_rate"],
                    100 * effects["inquiry_ci_low"],
                    100 * effects["inquiry_ci_high"],
                )
            else:
                m, lo, hi = effects[f"{p}_mean"], effects[f"{p}_ci_low"], effects[f"{p}_ci_high"]
            m, lo, hi = (np.asarray(v, dtype=float) for v in (m, lo, hi))
            yerr = error_bars(m, lo, hi)
            color = plotting.BAND_COLORS["very_dissatisfied"] if p != "ltr" else plotting.TIER_COLORS["realtime"]
            ax.errorbar(x, m, yerr=yerr, marker="o", capsize=4, color=color)
            n = effects[f"{p}_n"] if f"{p}_n" in effects.columns else effects.get("n_visits")
            bins = [catalog.value_label("silence_bin", b, lang=lang) for b in effects["silence_bin"].astype(str)]
            if n is not None:  # the n of each bin under it; bins with fewer than MIN_N answers hollow
                plotting.mark_small(ax, x, m, n, color, lang=lang)
                bins = [plotting.with_n(b, k) for b, k in zip(bins, n)]
            ax.set_xticks(x, bins)
            ax.set_title(plotting.title(zh, en, lang=lang), fontsize="medium")
        fig.supxlabel(
            plotting.text("维修中最长无更新时长（分钟）", "Longest silence during the repair (minutes)", lang=lang)
        )
        fig.suptitle(
            plotting.title(
                "信息黑洞：按维修中最长无更新时长分组",
                "Information black hole: by the longest silence during the repair",
                lang=lang,
            )
        )
    return fig


def plot_visit_timeline(
    events: pd.DataFrame, visits: pd.DataFrame, visit_id: str, *, lang: Lang = "both", ax: Axes | None = None
) -> Figure:
    """One visit on a time axis (minutes since arrival): arrival, repair start and finish and
    delivery as milestones; proactive updates, customer inquiries and other touchpoints as
    markers; the longest silence of the repair highlighted.

    >>> fig = visit_timeline(events, visits, "WO-000123", lang="both")   # doctest: +SKIP
    """
    require_columns(visits, ["visit_id", "arrived_at", "delivered_at"], "visits")
    v = visits[visits["visit_id"].astype(str) == str(visit_id)]
    if v.empty:
        raise DataError(f"visit {visit_id!r} not found", file="visits", column="visit_id")
    v = v.iloc[0]
    ev = events[events["visit_id"].astype(str) == str(visit_id)].sort_values("ts", kind="mergesort")
    sil = silences(ev, visits[visits["visit_id"].astype(str) == str(visit_id)]).iloc[0]
    t0, t1 = v["arrived_at"], v["delivered_at"]
    ev = ev[(ev["ts"] >= t0) & (ev["ts"] <= t1)]

    def minutes(t: pd.Timestamp) -> float:
        return (t - t0).total_seconds() / 60

    lanes = {"other": 0, "update": 1, "inquiry": 2}
    lane_names = {
        "other": ("其他触点", "Other touchpoints"),
        "update": ("主动更新", "Proactive updates"),
        "inquiry": ("客户询问", "Customer inquiries"),
    }
    with plotting.drawing():
        fig, ax = plotting.figure_for(ax, (11, 4.2))
        if pd.notna(sil["silence_start"]):
            a, b = minutes(sil["silence_start"]), minutes(sil["silence_end"])
            ax.axvspan(a, b, color=plotting.BAND_COLORS["very_dissatisfied"], alpha=0.15, lw=0)
            ax.text(
                (a + b) / 2,
                2.55,
                plotting.text("信息黑洞", "Information black hole", lang=lang)
                + f" {sil['longest_silence_minutes']:.0f} min",
                ha="center",
                va="bottom",
                fontsize="small",
                color=plotting.BAND_COLORS["very_dissatisfied"],
            )
        for col, zh, en in (
            ("arrived_at", "到店", "Arrival"),
            ("started_at", "开工", "Repair start"),
            ("finished_at", "完工", "Repair end"),
            ("delivered_at", "交车", "Delivery"),
        ):
            if col in v.index and pd.notna(v[col]):
                x = minutes(v[col])
                ax.axvline(x, color="#555555", ls="--", lw=1)
                ax.text(
                    x,
                    -0.62,
                    plotting.text(zh, en, lang=lang),
                    rotation=90,
                    ha="right",
                    va="bottom",
                    fontsize="x-small",
                    color="#333333",
                )
        span = max(minutes(t1), 1.0)
        last_label_x = -math.inf
        for t in ev.itertuples(index=False):
            code = str(t.touchpoint)
            kind = (
                "update"
                if code in catalog.UPDATE_TOUCHPOINTS
                else "inquiry"
                if code == catalog.INQUIRY_TOUCHPOINT
                else "other"
            )
            photo = bool(getattr(t, "photo", False)) if pd.notna(getattr(t, "photo", False)) else False
            marker = {"update": "*" if photo else "^", "inquiry": "X", "other": "o"}[kind]
            color = {
                "update": plotting.BAND_COLORS["delighted"],
                "inquiry": plotting.BAND_COLORS["very_dissatisfied"],
                "other": "#777777",
            }[kind]
            x = minutes(t.ts)
            ax.scatter([x], [lanes[kind]], marker=marker, s=90 if marker == "*" else 50, color=color, zorder=3)
            if kind == "other" and x - last_label_x > 0.04 * span:  # lanes name updates and inquiries
                ax.annotate(
                    catalog.label(code, lang=lang),
                    (x, lanes[kind]),
                    xytext=(0, 7),
                    textcoords="offset points",
                    rotation=40,
                    fontsize="x-small",
                    ha="left",
                )
                last_label_x = x
        ax.set_yticks(list(lanes.values()), [plotting.text(*lane_names[k], lang=lang) for k in lanes])
        ax.set_ylim(-0.7, 3.1)
        ax.set_xlim(-0.03 * span, 1.03 * span)
        ax.set_xlabel(plotting.text("到店后分钟数", "Minutes since arrival", lang=lang))
        ax.set_ylabel(plotting.text("触点类型", "Kind of touchpoint", lang=lang))
        ax.set_title(plotting.title(f"工单 {visit_id} 的时间线", f"Timeline of visit {visit_id}", lang=lang))
    return fig


# -------------------------------------------------------------------------- moments of truth
def moments_table(*, lang: catalog.Lang = "en") -> pd.DataFrame:
    """The :data:`MOMENTS` mapping as a bilingual table for a notebook; ``note`` in ``lang``.

    >>> moments_table()["point"].tolist()[:2]
    ['booking', 'arrival']
    >>> moments_table(lang="zh")["note"].iloc[1]
    '“到店”按停车引导触点打分'
    """
    rows = [
        (
            i + 1,
            m.code,
            m.zh,
            m.en,
            m.point,
            catalog.label(m.point, lang="both"),
            m.proxy,
            catalog.bilingual(m.note_zh or m.note, m.note, lang=lang, sep=" / "),
        )
        for i, m in enumerate(MOMENTS)
    ]
    return pd.DataFrame(rows, columns=["order", "moment", "zh", "en", "point", "point_label", "proxy", "note"])


def moments_scorecard(
    scores: pd.DataFrame,
    by: str | Sequence[str] | None = "center",
    *,
    bad_at: int = 3,
    point: str = "point",
    score: str = "score",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Share of bad moments (score ≤ ``bad_at``) per segment × moment of truth, with a Wilson interval.

    Columns: ``by`` columns, ``moment``, ``moment_label`` (bilingual), ``point``, ``proxy``, ``n``
    (answers at the point), ``n_bad``, ``share_bad``, ``ci_low``, ``ci_high``. Moments in
    :data:`MOMENTS` order; segments sorted.

    >>> moments_scorecard(scores, by="center").head()   # doctest: +SKIP
    """
    by_cols = _as_list(by)
    require_columns(scores, [*by_cols, point, score], "scores")
    d = scores[by_cols].copy()
    d["point"] = _points(scores[point], point).astype(str)
    d["score"] = _scores_numeric(scores[score], score)
    d = d[d["score"].notna()]
    d["bad"] = d["score"] <= bad_at
    if by_cols:
        agg = d.groupby([*by_cols, "point"], observed=True, sort=True)["bad"].agg(n="count", n_bad="sum").reset_index()
        segs = d[by_cols].drop_duplicates().sort_values(by_cols).itertuples(index=False)
        segs = [tuple(s) for s in segs]
    else:
        agg = d.groupby("point", sort=True)["bad"].agg(n="count", n_bad="sum").reset_index()
        segs = [()]
    rows = []
    for seg in segs:
        sub = agg
        for c, v in zip(by_cols, seg):
            sub = sub[sub[c] == v]
        cnt = dict(zip(sub["point"], zip(sub["n"], sub["n_bad"])))
        for m in MOMENTS:
            n, k = cnt.get(m.point, (0, 0))
            rows.append(
                {
                    **dict(zip(by_cols, seg)),
                    "moment": m.code,
                    "moment_label": f"{m.zh} {m.en}",
                    "point": m.point,
                    "proxy": m.proxy,
                    "n": int(n),
                    "n_bad": int(k),
                }
            )
    out = pd.DataFrame(rows)
    out["share_bad"] = np.where(out["n"] > 0, out["n_bad"] / out["n"].where(out["n"] > 0, 1), np.nan)
    out["ci_low"], out["ci_high"] = wilson_ci(out["n_bad"].to_numpy(), out["n"].to_numpy(), ci=ci)
    return out


# ------------------------------------------------------------------------ voice of the customer
def verbatims(
    surveys: pd.DataFrame,
    *,
    n: int = 8,
    by: str | None = None,
    comment: str = "comment",
    submitted: str = "submitted_at",
) -> pd.DataFrame:
    """The latest ``n`` non-empty comments (per ``by`` group when given), newest first.

    Comments are shown as written (personal data was masked by the cleaning step); a report
    renders them as text, never as markup.

    >>> s = pd.DataFrame({"response_id": ["R1", "R2"], "comment": ["太慢了", None], "ltr": [3, 9],
    ...                   "submitted_at": pd.to_datetime(["2026-10-02", "2026-10-03"])})
    >>> verbatims(s)["comment"].tolist()
    ['太慢了']
    """
    require_columns(surveys, ["response_id", comment, submitted], "surveys")
    s = surveys[surveys[comment].notna() & (surveys[comment].astype(str).str.strip() != "")]
    keep = [c for c in ["response_id", "visit_id", submitted, "ltr", "nps_group", comment] if c in s.columns]
    s = s.sort_values([submitted, "response_id"], ascending=[False, True], kind="stable")
    if by is not None:
        require_columns(surveys, [by], "surveys")
        s = (
            s.groupby(by, observed=True, sort=True)
            .head(n)
            .sort_values([by, submitted, "response_id"], ascending=[True, False, True], kind="stable")
        )
        keep = [by] + keep
    else:
        s = s.head(n)
    return s[keep].reset_index(drop=True)


def example_visit(
    visits: pd.DataFrame, *, preferred: str | None = None, silence: str = "longest_silence_minutes", strict: bool = True
) -> str | NotComputed:
    """The visit to show as a timeline: ``preferred`` when it is in ``visits``, otherwise the
    visit with the longest silence during the repair (ties broken by visit id).

    >>> v = pd.DataFrame({"visit_id": ["A", "B"], "longest_silence_minutes": [30.0, 200.0]})
    >>> example_visit(v), example_visit(v, preferred="A"), example_visit(v, preferred="Z")
    ('B', 'A', 'B')

    No such visit is a :class:`~cxlib.errors.DataError`, or with ``strict=False`` (what a report
    calls) a :class:`~cxlib.results.NotComputed` note.
    """
    require_columns(visits, ["visit_id", silence], "visits")
    if preferred and (visits["visit_id"] == preferred).any():
        return str(preferred)
    v = visits.dropna(subset=[silence])
    if v.empty:
        if not strict:
            return too_few(0, 1, ("示例工单时间线", "an example visit's time line"), unit=_REPAIR_UNIT)
        raise DataError("no visit with a repair to show as an example", column=silence)
    v = v.sort_values([silence, "visit_id"], ascending=[False, True], kind="stable")
    return str(v["visit_id"].iloc[0])


# ------------------------------------------------------------------------ results for reports
def results_entries(
    curve: pd.DataFrame | NotProvided | NotComputed,
    pains: pd.DataFrame | NotProvided | NotComputed,
    peak_end_fit: pd.DataFrame | NotProvided | NotComputed,
) -> dict[str, object]:
    """The ``emotion_curve``, ``pain_points`` and ``peak_end`` entries of ``results.json``
    (shapes in ``docs/results.md``) from :func:`emotion_curve`, :func:`pain_points` and
    :func:`peak_end_models`. An input that is a "not provided" / "not computed" note is its
    entry as it is (recorded as its marker, never a number).

        >>> from cxlib.results import jsonable, not_provided
        >>> jsonable(results_entries(not_provided("scores"), not_provided("scores"), not_provided("scores")))["peak_end"]
        {'provided': False, 'missing': ['scores']}

        >>> c = pd.DataFrame({"point": ["waiting"], "mean": [5.1], "ci_low": [5.0], "ci_high": [5.2], "n": [9]})
        >>> p = pd.DataFrame({"point": ["waiting"], "mean": [5.1], "gap": [2.9], "importance": [0.3],
        ...                   "priority": [0.87], "share_very_dissatisfied": [0.2]})
        >>> m = pd.DataFrame({"model": ["mean"], "r2_cv": [0.4], "ci_low": [0.3], "ci_high": [0.5]})
        >>> results_entries(c, p, m)["peak_end"]
        [{'predictor': 'mean', 'cv_r2': 0.4, 'ci_low': 0.3, 'ci_high': 0.5}]
    """
    pain_cols = ["point", "mean", "gap", "importance", "priority", "share_very_dissatisfied"]
    out: dict[str, object] = {}
    if isinstance(curve, _Note):
        out["emotion_curve"] = curve
    else:
        require_columns(curve, ["point", "mean", "ci_low", "ci_high", "n"], "emotion curve")
        out["emotion_curve"] = (
            curve.assign(point=curve["point"].astype(str))
            .set_index("point")[["mean", "ci_low", "ci_high", "n"]]
            .to_dict(orient="index")
        )
    if isinstance(pains, _Note):
        out["pain_points"] = pains
    else:
        require_columns(pains, pain_cols, "pain points")
        out["pain_points"] = pains.assign(point=pains["point"].astype(str))[pain_cols].to_dict(orient="records")
    if isinstance(peak_end_fit, _Note):
        out["peak_end"] = peak_end_fit
    else:
        require_columns(peak_end_fit, ["model", "r2_cv", "ci_low", "ci_high"], "peak-end models")
        out["peak_end"] = (
            peak_end_fit[["model", "r2_cv", "ci_low", "ci_high"]]
            .rename(columns={"model": "predictor", "r2_cv": "cv_r2"})
            .to_dict(orient="records")
        )
    return out


#: the names of the figure functions before they took the ``plot_`` of the others (kept working)
journey_map = plot_journey_map
visit_timeline = plot_visit_timeline
