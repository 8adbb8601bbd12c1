"""The table presenter: labelled headers per language, no index, fixed id, small-sample flags,
merged intervals, units said once; and the registry of column labels behind it."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import catalog, nps, present, results, roi
from cxlib.errors import DataError

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _tiers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tier": ["none", "completion_only", "realtime"],
            "n_visits": [40, 35, 120],
            "n_responses": [29, 30, 100],
            "ltr_mean": [5.123, 6.0, 8.456],
            "ltr_ci_low": [4.2, 5.1, 8.1],
            "ltr_ci_high": [6.0, 6.9, 8.8],
            "nps": [-12.4, 3.3, 40.0],
            "nps_ci_low": [-40.0, -20.0, 30.0],
            "nps_ci_high": [18.0, 26.0, 50.0],
            "complaint_rate": [0.125, 0.05, 0.0],
            "complaint_ci_low": [0.05, 0.01, 0.0],
            "complaint_ci_high": [0.26, 0.18, 0.03],
        }
    )


def _html_headers(html: str) -> list[str]:
    return re.findall(r"<th [^>]*>([^<]*)</th>", html)


def test_headers_per_language_and_no_snake_case_on_a_chinese_page():
    zh = present.table(_tiers(), lang="zh", n="n_responses")
    assert zh.frame.columns.tolist() == [
        "透明度等级",
        "工单数",
        "有效问卷数",
        "平均推荐意愿（0–10）",
        "平均推荐意愿 95% 置信区间",
        "净推荐值（−100…100）",
        "净推荐值 95% 置信区间",
        "投诉率（%）",
        "投诉率 95% 置信区间",
    ]
    en = present.table(_tiers(), lang="en", n="n_responses")
    assert en.frame.columns.tolist()[:4] == ["Transparency tier", "Visits", "Responses", "Mean LTR (0–10)"]
    both = present.table(_tiers(), lang="both", n="n_responses")
    assert both.frame.columns[3] == "平均推荐意愿 Mean LTR (0–10)"
    for html in (zh._repr_html_(), repr(zh)):
        assert not SNAKE.search(" ".join(_html_headers(html)) if html.startswith("<") else html)
    assert zh.frame["透明度等级"].tolist() == ["无更新", "仅完成时通知", "实时更新"]
    assert 'lang="zh-CN"' in zh._repr_html_()


def test_registry_labels_every_column_the_notebooks_show_in_chinese():
    shown = [
        "stage",
        "point",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "band",
        "predictor",
        "raw_weight",
        "rescaled_pct",
        "r2",
        "rank",
        "gap",
        "importance",
        "priority",
        "share_very_dissatisfied",
        "sample_comments",
        "silence_bin",
        "n_visits",
        "anxiety_mean",
        "ltr_mean",
        "inquiry_rate",
        "mean_inquiries",
        "moment",
        "proxy",
        "note",
        "measure",
        "r2_cv",
        "delta_vs_baseline",
        "promoters",
        "detractors",
        "nps",
        "center",
        "month",
        "scenario",
        "tier",
        "n_responses",
        "complaint_rate",
        "updates",
        "model",
        "term",
        "estimate",
        "p_value",
        "n_clusters",
        "outcome",
        "estimate_type",
        "effect",
        "level",
        "retention",
        "cost",
        "npv",
    ]
    for col in shown:
        head = catalog.header(col, lang="zh")
        assert col in catalog.COLUMN_LABELS and not SNAKE.search(head), col
        assert re.search(r"[\u4e00-\u9fff]", head) or head in ("n", "R²"), (col, head)


def test_no_index_in_the_html_and_a_fixed_id():
    t = present.table(_tiers(), lang="both", n="n_responses")
    html = t._repr_html_()
    assert "row_heading" not in html and "index_name" not in html and "blank level0" not in html
    again = present.table(_tiers(), lang="both", n="n_responses")._repr_html_()
    assert html == again  # two renders: the same text/html for nbval
    assert f'id="T_{t.uuid}"' in html
    other = present.table(_tiers().head(2), lang="both", n="n_responses")
    assert other.uuid != t.uuid  # two tables on one page never share an id


def test_flag_on_29_not_on_30():
    t = present.table(_tiers(), lang="en", n="n_responses")
    assert t.small == [True, False, False]
    assert t.frame["Responses"].tolist() == ["29 ⚠", "30", "100"]
    html = t._repr_html_()
    row0 = re.findall(r'<td id="T_\w+_row0_col\d+" class="([^"]*)"', html)
    row1 = re.findall(r'<td id="T_\w+_row1_col\d+" class="([^"]*)"', html)
    assert row0 and all("cx-small" in c for c in row0) and not any("cx-small" in c for c in row1)
    assert "⚠ n &lt; 30: small sample, read with care" in html
    assert repr(t).splitlines()[-1] == "⚠ n < 30: small sample, read with care"
    assert present.table(_tiers().iloc[1:], lang="zh", n="n_responses").footnote() is None
    assert catalog.MIN_N == 30


def test_intervals_merged_and_numbers_written_by_kind():
    t = present.table(_tiers(), lang="en", n="n_responses")
    row = t.frame.iloc[0].tolist()
    assert row == ["No update", "40", "29 ⚠", "5.12", "4.20–6.00", "−12", "−40 ~ 18", "12.5", "5.0–26.0"]
    kept = present.table(
        _tiers(),
        ["tier", "nps", "nps_ci_low", "nps_ci_high"],
        lang="en",
        n=None,
        cells=present.Cells(merge_intervals=False),
    )
    assert kept.frame.columns.tolist() == ["Transparency tier", "NPS (−100…100)", "NPS 95% CI low", "NPS 95% CI high"]
    bare = present.table(
        _tiers().rename(columns={"nps_ci_low": "ci_low", "nps_ci_high": "ci_high"}),
        ["tier", "nps", "ci_low", "ci_high"],
        lang="en",
        n=None,
        cells=present.Cells(merge_intervals=False),
    )
    assert bare.frame.columns.tolist() == ["Transparency tier", "NPS (−100…100)", "CI low", "CI high"]


def test_units_stated_once_in_the_header_not_in_cells():
    money = pd.DataFrame({"case": ["A", "B"], "cost": [50_000.0, 8_000.0], "npv": [1_250_000.0, -30_000.0]})
    t = present.table(money, lang="zh", n=None)
    assert t.frame.columns.tolist() == ["方案", "首年投入（万元）", "净现值（万元）"]
    assert t.frame.iloc[:, 1].tolist() == ["5.00", "0.80"] and t.frame.iloc[:, 2].tolist() == ["125.00", "−3.00"]
    small = present.table(money.assign(cost=[500.0, 800.0], npv=[900.0, 1200.0]), lang="en", n=None)
    assert small.frame.columns.tolist() == ["Case", "First-year cost (CNY)", "NPV (CNY)"]
    for frame in (t.frame, small.frame):
        cells = " ".join(frame.iloc[:, 1:].to_numpy().ravel())
        assert "元" not in cells and "%" not in cells and "CNY" not in cells
    shares = present.table(_tiers(), ["tier", "complaint_rate"], lang="en", n=None)
    assert shares.frame.columns[1] == "Complaint rate (%)" and "%" not in "".join(shares.frame.iloc[:, 1])


def test_table_without_n_gets_labels_only_and_data_keeps_the_tidy_frame():
    a = roi.Assumptions().table()
    t = present.table(a, lang="zh", n=None)
    assert t.frame.columns.tolist() == ["假设", "数值", "来源"] and not t.flagged
    assert t.frame.iloc[0, 0] == "每年消费（元）" and t.frame.iloc[0, 1] == "3,000"
    assert t.data is a
    with pytest.raises(DataError, match="no column"):
        present.table(a, ["name", "nope"])


def test_works_under_a_note_and_with_row_kinds():
    h = nps.headline_table([10, 9, 8, 3, 2], lang="zh")
    t = present.table(
        h, ["measure", "n", "estimate", "ci_low", "ci_high"], lang="zh", cells=present.Cells(row_kind="kind")
    )
    cells = t.frame.iloc[:, 2].tolist()
    assert cells[0] == "0" and cells[1] == "0.00" and cells[2] == "40.0"  # NPS, NPS share, promoter share in %
    assert t.small[0]  # n = 5 < 30
    shown = results.noted(t, results.NotProvided(("complaints",), "zh"))
    html = shown._repr_html_()
    assert html.startswith('<p class="cx-not-provided">') and "cx-table" in html
    assert repr(shown).splitlines()[0].startswith("未提供数据")


def test_escapes_text_from_the_data():
    t = present.table(pd.DataFrame({"comment": ["<script>x</script> $5$"], "n": [40]}), lang="en")
    html = t._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.startswith('<div class="mathjax_ignore tex2jax_ignore">')


def test_pivot_shows_n_per_cell_and_flags_small_cells():
    card = pd.DataFrame(
        {
            "moment": ["parking", "parking", "quote", "quote"],
            "center": ["A", "B", "A", "B"],
            "share_bad": [0.1, 0.5, 0.2, np.nan],
            "n": [40, 29, 30, 0],
        }
    )
    t = present.pivot(card, "moment", "center", "share_bad", lang="zh")
    assert t.frame.columns.tolist() == ["关键时刻", "A", "B"]
    assert t.frame.iloc[0].tolist() == ["停车", "10.0 (n = 40)", "50.0 (n = 29) ⚠"]
    assert t.frame.iloc[1].tolist() == ["报价", "20.0 (n = 30)", "–"]
    assert t.small_cells == [[False, False, True], [False, False, False]]
    assert t.caption == "差评占比（≤3分）（%）" and "cx-small" in t._repr_html_()


def test_category_values_shown_by_their_labels():
    assert catalog.value_label("month", "2026-10", lang="zh") == "2026年10月"
    assert catalog.value_label("silence_bin", "240+", lang="en") == "≥ 240"
    assert catalog.value_label("point", "waiting", lang="both") == "等待 Waiting"
    assert catalog.value_label("center", "SH-JQ", lang="zh") == "SH-JQ"
    t = present.table(pd.DataFrame({"month": ["2026-09", "2026-10"], "n": [31, 40]}), lang="en")
    assert t.frame.iloc[:, 0].tolist() == ["Sep 2026", "Oct 2026"]


def test_long_means_for_a_describe_table():
    wide = pd.DataFrame({"worst": [2.0, 4.0, 3.0], "visit_minutes": [100.0, 140.0, None], "ltr": [8, 9, 10]})
    t = present.table(
        present.long_means(wide, ["worst", "visit_minutes", "ltr"]),
        ["measure", "n", "mean_value", "sd_value"],
        lang="en",
        cells=present.Cells(row_kind="kind"),
    )
    assert t.frame.iloc[:, 0].tolist() == ["Worst point", "Visit duration (min)", "LTR (0–10)"]
    assert t.frame.iloc[:, 2].tolist() == ["3.00", "120", "9.00"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.floats(-100, 100)), min_size=1, max_size=8))
def test_plain_text_is_deterministic_and_flags_exactly_the_small_rows(rows):
    df = pd.DataFrame(rows, columns=["n", "nps"]).assign(tier="none")
    t = present.table(df, ["tier", "n", "nps"], lang="zh")
    assert repr(t) == repr(present.table(df, ["tier", "n", "nps"], lang="zh"))
    assert t.small == [k < catalog.MIN_N for k, _ in rows]
    assert t.flagged == (t.footnote() is not None)


def test_a_note_given_in_place_of_a_table_is_shown_as_it_is_in_the_language():
    from cxlib import results

    note = results.too_few(5, 30, ("该模型", "this model"), unit=("行完整数据", "complete rows"))
    assert present.table(note, lang="zh").text() == "样本不足：n = 5 行完整数据，该模型至少需要 30"
    missing = results.not_provided("complaints")
    assert present.table(missing, lang="en").text().startswith("not provided")


def test_the_former_keywords_of_the_table_and_the_small_marks_still_work_with_a_warning():
    """``present.table(..., row_kind=...)`` and ``plotting.mark_small(..., size=...)``, the keywords
    before ``present.Cells`` and ``plotting.SmallMarks``, give the same result and say the new spelling."""
    import matplotlib

    matplotlib.use("Agg")
    from cxlib import plotting

    h = nps.headline_table([10, 9, 8, 3, 2], lang="en")
    new = present.table(h, lang="en", cells=present.Cells(row_kind="kind", merge_intervals=False))
    with pytest.warns(
        DeprecationWarning, match=r"table\((row_kind|merge_intervals)=\.\.\.\) is deprecated: use cells=Cells\("
    ):
        old = present.table(h, lang="en", row_kind="kind", merge_intervals=False)
    pd.testing.assert_frame_equal(old.frame, new.frame)
    fig, ax = plotting.subplots()
    with pytest.warns(
        DeprecationWarning, match=r"mark_small\(size=\.\.\.\) is deprecated: use marks=SmallMarks\(size="
    ):
        assert plotting.mark_small(ax, [0, 1], [5, 6], [3, 80], "#333333", size=60)
    assert ax.collections[-1].get_sizes().tolist() == [60.0]
    with pytest.warns(DeprecationWarning, match=r"update_program_value\(visits_per_year=\.\.\.\)"):
        old_value = roi.update_program_value(rate_ratio_per_update=0.8, ltr_slope_per_update=0.3, visits_per_year=1200)
    new_value = roi.update_program_value(
        rate_ratio_per_update=0.8, ltr_slope_per_update=0.3, programme=roi.UpdateProgramme(visits_per_year=1200)
    )
    assert old_value["evaluation"] == new_value["evaluation"]
