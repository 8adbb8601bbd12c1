import warnings

import numpy as np
import pandas as pd
import pytest

from cxlib import roi, summary
from cxlib.errors import DataError


def test_headline_table_hand_computed():
    v = pd.DataFrame(
        {"ltr": pd.array([10, 9, 3, 7, None], dtype="Int64"), "complained": [False, False, True, False, True]}
    )
    t = summary.headline_table(v, lang="en").set_index("figure")["value"]
    # 2 promoters, 1 passive, 1 detractor: NPS = 25; adjusted Wald with 0.75/1.5/0.75 pseudo-counts:
    # p = 2.75/7, d = 1.75/7, var = (p + d - (p - d)^2) / 7
    p, d = 2.75 / 7, 1.75 / 7
    se = np.sqrt((p + d - (p - d) ** 2) / 7)
    lo, hi = 100 * (p - d - 1.959964 * se), 100 * (p - d + 1.959964 * se)
    assert t["NPS"] == "25.0"
    assert t["95% CI (adjusted Wald)"] == f"{lo:.1f} ~ {hi:.1f}".replace("-", "−")
    assert t["Survey responses"] == "4"
    assert t["Mean LTR (0–10)"] == "7.25"
    assert t["Visits with a complaint"] == "40.0%"
    assert summary.headline_table(v, lang="zh")["figure"].iloc[0] == "净推荐值 NPS"


def test_headline_table_names_missing_column():
    with pytest.raises(DataError, match="complained"):
        summary.headline_table(pd.DataFrame({"ltr": [1]}))


def test_nps_trend_figure_draws_without_warnings():
    t = pd.DataFrame(
        {
            "month": ["2026-10", "2026-09"],
            "nps": [10.0, -5.0],
            "ci_low": [0.0, -15.0],
            "ci_high": [20.0, 5.0],
            "n": [100, 90],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = summary.plot_nps_trend(t, lang="both")
        fig.savefig(__import__("io").BytesIO(), format="png")
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["2026-09\nn=90", "2026-10\nn=100"]


def test_roi_table_orders_by_npv_and_handles_no_cost():
    cases = roi.load_cases("data/raw/cases_interventions.yaml")
    s = pd.DataFrame(
        {
            "id": ["advisor_checkins", "kids_corner"],
            "npv_mean": [1e5, 7.5e5],
            "npv_p5": [3e4, 3e5],
            "npv_p95": [1.7e5, 1.2e6],
            "roi_p50": [np.inf, 5.49],
            "p_roi_positive": [1.0, 0.999],
        }
    )
    t = summary.roi_table(s, cases, lang="en")
    assert t["NPV mean (10k CNY)"].tolist() == [75.0, 10.0]
    assert t["ROI median (%)"].tolist() == ["549", "no cost"]
    assert t["NPV P5–P95 (10k CNY)"].iloc[0] == "30.0–120.0"
    assert t["P(ROI > 0) (%)"].tolist() == ["100", "100"]
    zh = summary.roi_table(s, cases, lang="zh")
    assert zh.columns.tolist() == [
        "改进措施",
        "模拟净现值均值（万元）",
        "净现值 P5–P95（万元）",
        "ROI 中位数（%）",
        "ROI>0 的概率（%）",
    ]
