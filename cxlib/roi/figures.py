"""The figures of notebook 04: the distribution of NPV or ROI, the tornado of the inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cxlib import plotting
from cxlib.catalog import Lang, bilingual
from cxlib.errors import require_columns
from cxlib.roi.cases import input_label
from cxlib.roi.labels import pair, text
from cxlib.roi.montecarlo import roi_summary


def _names(sims: pd.DataFrame, case_id: str, names: Mapping[str, str]) -> tuple[str, str]:
    if case_id in names:
        return names[case_id].replace("\n", " "), names[case_id].replace("\n", " ")
    if {"name_zh", "name_en"} <= set(sims.columns):
        row = sims.loc[sims["id"] == case_id].iloc[0]
        return str(row["name_zh"]), str(row["name_en"])
    return case_id, case_id


def _money_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def fmt(x: float, _pos: int) -> str:  # ticks in 万元 (10,000元)
        return f"{x / 1e4:,.4g}"

    axis.set_major_locator(MaxNLocator(7))
    axis.set_major_formatter(FuncFormatter(fmt))


def plot_roi_distribution(
    sims: pd.DataFrame,
    metric: Literal["npv", "roi"] = "npv",
    *,
    lang: Lang = "both",
    names: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Distribution of simulated NPV (or ROI): a histogram with P5/P50/P95 for one case, an
    interval plot (P5–P95 bar, P50 dot) for several. Returns the figure.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> type(plot_roi_distribution(roi.simulate(cases, n_sims=200, seed=1), "npv")).__name__
        'Figure'
    """
    if metric not in ("npv", "roi"):
        raise ValueError(f"metric must be 'npv' or 'roi', not {metric!r}")
    require_columns(sims, ["id", metric], "simulation")
    xlabel = text("npv_10k_cny", lang=lang) if metric == "npv" else text("roi", lang=lang)
    ids = list(dict.fromkeys(sims["id"]))
    explicit = dict(names or {})
    if names is None:
        names = {}
        if {"name_zh", "name_en"} <= set(sims.columns):
            first = sims.drop_duplicates("id").set_index("id")
            names = {i: bilingual(first.loc[i, "name_zh"], first.loc[i, "name_en"], lang=lang, sep="\n") for i in ids}
    names = dict(names)
    with plotting.drawing():
        if len(ids) == 1:
            x = sims[metric].to_numpy(dtype=float)
            fin = x[np.isfinite(x)]
            fig, ax = plotting.figure_for(ax, (8, 4.5))
            ax.hist(fin, bins=50, color="#3182bd", alpha=0.8)
            for p, ls in ((5, ":"), (50, "-"), (95, ":")):
                if len(fin):
                    q = np.quantile(fin, p / 100)
                    ax.axvline(q, color="#333333", ls=ls, lw=1)
                    ax.text(
                        q, 0.98, f" P{p}", transform=ax.get_xaxis_transform(), ha="left", va="top", fontsize="small"
                    )
            ax.axvline(0, color="#d7301f", lw=1)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(text("simulations", lang=lang))
            share = float(np.mean(x > 0))
            zh_name, en_name = _names(sims, ids[0], explicit)
            zh_t, en_t = pair(
                "distribution_title", name_zh=zh_name, name_en=en_name, metric=metric.upper(), share=share
            )
        else:
            summ = roi_summary(sims)
            per = 0.8 if lang == "both" else 0.45
            fig, ax = plotting.figure_for(ax, (10, per * len(ids) + 1.8))
            ypos = np.arange(len(ids))[::-1]
            for y, (_, r) in zip(ypos, summ.iterrows()):
                lo, mid, hi = r[f"{metric}_p5"], r[f"{metric}_p50"], r[f"{metric}_p95"]
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color="#3182bd", lw=4, solid_capstyle="butt")
                if np.isfinite(mid):
                    ax.plot([mid], [y], "o", color="#08519c")
            ax.axvline(0, color="#d7301f", lw=1)
            ax.set_yticks(ypos)
            ax.set_yticklabels([names.get(i, i) for i in summ["id"]])
            ax.set_xlabel(f"{xlabel}    P5–P95, ● P50")
            zh_t, en_t = pair("uncertainty_by_case")
        if title is None:
            title = bilingual(zh_t, en_t, lang=lang, sep="\n")
        ax.set_title(title)
        if metric == "npv":
            _money_axis(ax.xaxis)
    return fig


def plot_tornado(
    table: pd.DataFrame, *, lang: Lang = "both", title: str | None = None, ax: Axes | None = None
) -> Figure:
    """Tornado chart of a :func:`tornado` table: NPV at each input's low and high around the base.

    >>> from cxlib import paths, roi
    >>> cases = roi.load_cases(paths.SAMPLE_CASES)
    >>> type(plot_tornado(roi.tornado(roi.get_case(cases, "kids_corner")))).__name__
    'Figure'
    """
    need = ["input", "npv_low", "npv_high", "npv_base"]
    require_columns(table, need, "tornado")
    with plotting.drawing():
        fig, ax = plotting.figure_for(ax, (10, 0.45 * max(len(table), 1) + 1.8))
        base = float(table["npv_base"].iloc[0]) if len(table) else 0.0
        ypos = np.arange(len(table))[::-1]
        for y, (_, r) in zip(ypos, table.iterrows()):
            ax.barh(y, r["npv_low"] - base, left=base, color="#fc8d59", height=0.6)
            ax.barh(y, r["npv_high"] - base, left=base, color="#3182bd", height=0.6)
        ax.axvline(base, color="#333333", lw=1)
        ax.set_yticks(ypos)
        ax.set_yticklabels([input_label(i, lang=lang) for i in table["input"]])
        ax.set_xlabel(text("npv_10k_cny", lang=lang))
        _money_axis(ax.xaxis)
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="#fc8d59", label=text("input_at_low", lang=lang)),
                Patch(color="#3182bd", label=text("input_at_high", lang=lang)),
            ],
            loc="best",
            fontsize="small",
        )
        if title is None:
            zh_n = f"{table['name_zh'].iloc[0]}：" if "name_zh" in table.columns and len(table) else ""
            en_n = f"{table['name_en'].iloc[0]}: " if "name_en" in table.columns and len(table) else ""
            title = text("tornado_title", lang=lang, sep="\n", name_zh=zh_n, name_en=en_n)
        ax.set_title(title)
    return fig
