"""The one-page management summary (notebook 05): headline figures, trend and ROI table.

The summary recomputes its figures with the same functions and parameters as notebooks 02–04,
so it reads the same numbers whether or not those notebooks ran before it.

    >>> import pandas as pd
    >>> v = pd.DataFrame({"ltr": pd.array([10, 9, 3, 7], dtype="Int64"), "complained": [False, False, True, False]})
    >>> headline_table(v, lang="en")["value"].tolist()[:2]
    ['25.0', '−44.2 ~ 72.7']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cxlib import nps as nps_stats
from cxlib import plotting
from cxlib.catalog import MIN_N, Lang, bilingual, header
from cxlib.errors import require_columns
from cxlib.present import fixed, interval_text
from cxlib.results import not_provided


def headline_table(
    visits: pd.DataFrame, ltr: str = "ltr", complained: str = "complained", *, lang: Lang = "both", wide: bool = False
) -> pd.DataFrame:
    """Headline figures of a center and period as a two-column table (figure, value); ``wide``:
    one row with a column per figure (the summary's compact form).

    NPS on the −100…100 scale with its adjusted-Wald 95% interval, the number of responses,
    promoter and detractor shares, mean LTR and the share of visits with a complaint ("未提供数据 /
    not provided" when no visit has a known complaint status: the raw folder held no complaints).

        >>> headline_table(pd.DataFrame({"ltr": [10, 9, 3, 8], "complained": [False, False, True, False]}), lang="en")
                            figure         value
        0                      NPS          25.0
        1   95% CI (adjusted Wald)  −44.2 ~ 72.7
        2         Survey responses             4
        3                Promoters         50.0%
        4               Detractors         25.0%
        5          Mean LTR (0–10)          7.50
        6                   Visits             4
        7  Visits with a complaint         25.0%
    """
    require_columns(visits, [ltr, complained], "visits")
    s = nps_stats.nps(visits[ltr])
    answered = pd.to_numeric(visits[ltr], errors="coerce").dropna()
    known = visits[complained].dropna().astype(bool)
    if len(visits) and known.empty:
        complaint_share = not_provided("complaints", lang=lang).short()
    else:
        complaint_share = f"{100 * known.mean():.1f}%" if len(known) else "–"
    rows = [
        ("净推荐值 NPS", "NPS", fixed(s["nps"], digits=1)),
        (
            "95% 置信区间（调整 Wald）",
            "95% CI (adjusted Wald)",
            interval_text(fixed(s["adjusted_low"], digits=1), fixed(s["adjusted_high"], digits=1)),
        ),
        ("有效问卷数", "Survey responses", f"{int(s['n']):,}"),
        ("推荐者占比", "Promoters", f"{100 * s['promoters']:.1f}%"),
        ("贬损者占比", "Detractors", f"{100 * s['detractors']:.1f}%"),
        ("平均推荐意愿（0–10）", "Mean LTR (0–10)", fixed(answered.mean(), digits=2) if len(answered) else "–"),
        ("服务工单数", "Visits", f"{len(visits):,}"),
        ("有投诉的工单占比", "Visits with a complaint", complaint_share),
    ]
    long = pd.DataFrame(
        {"figure": [bilingual(zh, en, lang=lang) for zh, en, _ in rows], "value": [v for *_, v in rows]}
    )
    return pd.DataFrame([long["value"].tolist()], columns=long["figure"].tolist()) if wide else long


def plot_nps_trend(
    by_month: pd.DataFrame, month: str = "month", *, lang: Lang = "both", ax: Axes | None = None
) -> Figure:
    """NPS per month with its 95% interval (a table from ``nps.by_segment(visits, "month")``).

    >>> import pandas as pd
    >>> months = pd.DataFrame({"month": ["2026-09", "2026-10"], "nps": [10.0, 16.0], "ci_low": [-8.0, 2.0],
    ...                        "ci_high": [28.0, 30.0], "n": [95, 111]})
    >>> type(plot_nps_trend(months, lang="en")).__name__
    'Figure'
    """
    need = [month, "nps", "ci_low", "ci_high", "n"]
    require_columns(by_month, need, "NPS-by-month")
    t = by_month.sort_values(month)
    with plotting.drawing():
        fig, ax = plotting.figure_for(ax, (7, 3.6))
        x = np.arange(len(t))
        m = t["nps"].to_numpy(float)
        ax.fill_between(
            x,
            t["ci_low"].to_numpy(float),
            t["ci_high"].to_numpy(float),
            alpha=0.2,
            color=plotting.TIER_COLORS["realtime"],
            label=plotting.text("95% 置信区间", "95% CI", lang=lang),
        )
        ax.plot(x, m, marker="o", color=plotting.TIER_COLORS["realtime_photo"], label="NPS")
        for xi, yi in zip(x, m):
            ax.annotate(f"{yi:.0f}", (xi, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize="small")
        plotting.mark_small(
            ax, x, m, t["n"], plotting.TIER_COLORS["realtime_photo"], lang=lang, marks=plotting.SmallMarks(note=False)
        )
        if plotting.small_mask(t["n"]).any():
            ax.text(
                0.01,
                0.01,
                plotting.text(f"空心点：n < {MIN_N}，仅供参考", f"hollow: n < {MIN_N}, read with care", lang=lang),
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize="x-small",
                color="#666666",
            )
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(x, [plotting.with_n(str(v), n) for v, n in zip(t[month], t["n"])])
        ax.set_ylim(-100, 100)
        ax.set_xlabel(plotting.text("月份", "Month", lang=lang))
        ax.set_ylabel(plotting.text("净推荐值", "NPS (−100…100)", lang=lang))
        ax.set_title(plotting.title("净推荐值月度趋势", "NPS by month", lang=lang))
        ax.legend(loc="lower right", fontsize="small")
    return fig


def roi_table(summary: pd.DataFrame, cases: Sequence, *, lang: Lang = "both") -> pd.DataFrame:
    """The ROI table of the summary: one row per intervention, money in 万元 (10,000 CNY), ROI and
    P(ROI > 0) in %, headers from the catalog's registry in ``lang`` (the units said there).

    ``summary`` comes from ``roi.roi_summary(roi.simulate(cases, ...))``; ``cases`` from
    ``roi.load_cases``. ROI is the Monte Carlo median; a case that costs nothing has no ROI
    (shown as "no cost") and is judged by its NPV.

        >>> roi_table(roi.roi_summary(sims), cases)   # doctest: +SKIP
    """
    names = {c.id: c.name(lang) for c in cases}
    t = summary.copy()
    require_columns(t, ["id", "npv_mean", "npv_p5", "npv_p95", "roi_p50", "p_roi_positive"], "ROI summary")
    no_cost = bilingual("无成本", "no cost", lang=lang)
    wan = ("万元", "10k CNY")
    out = pd.DataFrame(
        {
            header("intervention", lang=lang): [names.get(i, i) for i in t["id"]],
            header("npv_mean", lang=lang, unit=wan): (t["npv_mean"] / 1e4).round(1),
            header("npv_p5_p95", lang=lang, unit=wan): [
                interval_text(fixed(a / 1e4, digits=1), fixed(b / 1e4, digits=1))
                for a, b in zip(t["npv_p5"], t["npv_p95"])
            ],
            header("roi_p50", lang=lang): [
                no_cost if not np.isfinite(r) else fixed(100 * r, digits=0) for r in t["roi_p50"]
            ],
            header("p_roi_positive", lang=lang): [f"{100 * p:.0f}" for p in t["p_roi_positive"]],
        }
    )
    order = np.argsort(-t["npv_mean"].to_numpy(float), kind="stable")
    return out.iloc[order].reset_index(drop=True)
