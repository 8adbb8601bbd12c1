"""The bilingual labels of the ROI pages: every Chinese text of :mod:`cxlib.roi` is here, beside its English."""

from __future__ import annotations

from cxlib.catalog import Lang, bilingual

#: Chinese and English of the labels, headers and sentence parts, by key
TEXT: dict[str, tuple[str, str]] = {
    "npv_10k_cny": ("净现值（万元）", "NPV (10k CNY)"),
    "roi": ("投资回报率（倍）", "ROI (×)"),
    "simulations": ("模拟次数", "Simulations"),
    "input_at_low": ("取低值", "input at low"),
    "input_at_high": ("取高值", "input at high"),
    "reading": ("口径", "Reading"),
    "ltv_cny": ("客户终身价值（元）", "LTV (CNY)"),
    "referred_friends": ("推荐朋友数", "Referred friends"),
    "value_per_friend_cny": ("每位朋友价值（元）", "Value per friend (CNY)"),
    "revenue_at_risk_cny": ("一次差评的风险收入（元）", "Revenue at risk (CNY)"),
    "revenue_at_risk_10k_cny": ("风险收入（万元）", "Revenue at risk (10k CNY)"),
    "case": ("方案", "Case"),
    "claimed_roi": ("声称ROI（倍）", "Claimed ROI (×)"),
    "model_roi_at_modes": ("模型ROI@众数（倍）", "Model ROI at modes (×)"),
    "roi_p5": ("ROI P5", "ROI P5"),
    "roi_p50": ("ROI P50", "ROI P50"),
    "roi_p95": ("ROI P95", "ROI P95"),
    "p_roi_0": ("ROI>0的概率", "P(ROI > 0)"),
    "rests_on_attribution": ("归因假设", "Rests on (attribution)"),
    "claim": ("原始说法", "Claim"),
    "gain_cny": ("收益（元）", "Gain (CNY)"),
    "cost_cny": ("成本（元）", "Cost (CNY)"),
    "arithmetic": ("算法", "Arithmetic"),
    "recomputed_roi": ("复算ROI（倍）", "Recomputed ROI (×)"),
    "reproduced": ("是否复现", "Reproduced"),
    "first_year_cost_10k_cny": ("首年投入（万元）", "First-year cost (10k CNY)"),
    "npv_at_modes_10k_cny": ("净现值@众数（万元）", "NPV at modes (10k CNY)"),
    "roi_at_modes": ("ROI@众数（倍）", "ROI at modes (×)"),
    "payback_at_modes_months": ("回收期@众数（月）", "Payback at modes (months)"),
    "mc_mean_npv_10k_cny": ("模拟净现值均值（万元）", "MC mean NPV (10k CNY)"),
    "npv_p5_10k_cny": ("净现值P5（万元）", "NPV P5 (10k CNY)"),
    "npv_p50_10k_cny": ("净现值P50（万元）", "NPV P50 (10k CNY)"),
    "npv_p95_10k_cny": ("净现值P95（万元）", "NPV P95 (10k CNY)"),
    "median_roi": ("ROI中位数（倍）", "Median ROI (×)"),
    "effect": ("效应", "Effect"),
    "estimate": ("估计值", "Estimate"),
    "ci_low": ("95%下限", "CI low"),
    "ci_high": ("95%上限", "CI high"),
    "drawn_as": ("模拟抽样", "Drawn as"),
    "source": ("来源", "Source"),
    "note": ("说明", "Note"),
    "item": ("项目", "Item"),
    "value": ("数值", "Value"),
    "visits_a_year": ("年到访量（主动进度更新的覆盖量）", "Visits a year (reach of the update program)"),
    "cases_with_this_center_s_figures": ("采用本中心数据的方案", "Cases with this center's figures"),
    "none_the_cases_file_gives_none": ("无（方案文件未给出本中心数据）", "none (the cases file gives none)"),
    "cases_with_the_file_s_network_figures": ("采用方案文件总体数据的方案", "Cases with the file's network figures"),
    "reach_and_effects_as_in_the_cases_file": (
        "方案文件中的覆盖客户数与效果",
        "reach and effects as in the cases file",
    ),
}


#: Effects a case may declare (missing ones are 0), with their unit and bilingual label.
EFFECTS: dict[str, tuple[str, str, str]] = {
    "retention_gain": ("share", "留存率提升", "Retention gain (pp of reached customers)"),
    "referral_gain": ("share", "推荐率提升", "Referral-rate gain (pp of reached customers)"),
    "spend_gain": ("share", "消费提升", "Spend gain (share of reached customers' spend)"),
    "extra_customers": ("customers/year", "新增客户", "Extra customers a year"),
    "satisfaction_gain": ("NPS points", "满意度提升(NPS)", "Satisfaction gain (NPS points)"),
    "complaint_reduction": ("share", "投诉减少", "Complaint reduction (share)"),
}

INPUT_LABELS: dict[str, tuple[str, str]] = {
    "one_off_cost": ("一次性投入", "One-off cost"),
    "yearly_cost": ("年度费用", "Yearly cost"),
    "cost_per_customer": ("每客成本", "Cost per customer"),
    "reach": ("覆盖客户数/年", "Customers reached a year"),
    **{k: (zh, en) for k, (_, zh, en) in EFFECTS.items()},
}

PROVENANCE: dict[str, str] = {
    "yearly_spend": "Seed: a family spends 3000元 a year at the center (kids' corner case).",
    "margin": "Assumption: gross margin of after-sales revenue. The seed counts revenue (margin 1); "
    "set margin=1.0 to reproduce its revenue-based figures.",
    "retention_great": "Seed benchmark table: yearly retention 85% after a great experience.",
    "retention_bad": "Seed benchmark table: yearly retention 52% after a bad experience.",
    "repurchase_3y_great": "Seed benchmark table: 3-year repurchase 68% after a great experience "
    "(kept for reference; the cash-flow model uses yearly retention).",
    "repurchase_3y_bad": "Seed benchmark table: 3-year repurchase 28% after a bad experience (kept for reference).",
    "referral_great": "Seed benchmark table: 45% of customers with a great experience refer a friend.",
    "referral_bad": "Seed benchmark table: 8% of customers with a bad experience refer a friend.",
    "new_customers_per_referrer": "Assumption: 3 in 10 recommending customers bring in a new customer in the "
    "year (the seed's 3 referred friends per loyal customer are over a lifetime).",
    "customer_ltv": "Seed: lifetime value of a customer 1.5万 (15,000元), revenue basis.",
    "referrals_per_customer": "Seed: a loyal customer refers 3 friends over the lifetime.",
    "ltr_great": "Assumption: typical LTR (0-10) after a great experience; places the seed's referral "
    "rates on the LTR scale for the proactive-update value.",
    "ltr_bad": "Assumption: typical LTR (0-10) after a bad experience.",
    "complaint_rate": "Assumption: share of visits with a complaint before the update program; "
    "replace by the rate measured in notebook 03.",
}

#: the provenance notes in Chinese, for a Chinese page
PROVENANCE_ZH: dict[str, str] = {
    "yearly_spend": "种子研究：一个家庭每年在门店消费 3000 元（儿童游乐角案例）。",
    "margin": "假设：售后收入的毛利率。种子研究按收入计算（毛利率 1）；设 margin=1.0 可复现其按收入计算的数字。",
    "retention_great": "种子研究基准表：体验好之后的年留存率 85%。",
    "retention_bad": "种子研究基准表：体验差之后的年留存率 52%。",
    "repurchase_3y_great": "种子研究基准表：体验好之后的三年复购率 68%（仅供参考；现金流模型使用年留存率）。",
    "repurchase_3y_bad": "种子研究基准表：体验差之后的三年复购率 28%（仅供参考）。",
    "referral_great": "种子研究基准表：体验好的客户中 45% 会推荐朋友。",
    "referral_bad": "种子研究基准表：体验差的客户中 8% 会推荐朋友。",
    "new_customers_per_referrer": "假设：每 10 位推荐的客户中有 3 位在当年带来一位新客户（种子研究的“忠实客户推荐 3 位朋友”是整个生命周期的数字）。",
    "customer_ltv": "种子研究：一位客户的生命周期价值 1.5万（15,000 元），按收入计算。",
    "referrals_per_customer": "种子研究：一位忠实客户在生命周期内推荐 3 位朋友。",
    "ltr_great": "假设：体验好之后典型的推荐意愿（0–10）；用于把种子研究的推荐率放到推荐意愿尺度上，计算主动更新的价值。",
    "ltr_bad": "假设：体验差之后典型的推荐意愿（0–10）。",
    "complaint_rate": "假设：更新计划前有投诉的工单占比；可替换为笔记本 03 实测的投诉率。",
}

#: Where an update effect came from (the ``source`` of :func:`measured_update_effects`).
UPDATE_SOURCES: dict[str, tuple[str, str]] = {
    # read from notebook 03's results or recomputed with its model: the same figures, one label
    "results.json": ("实测：第03本笔记本的模型（同一范围）", "measured: notebook 03's model, same scope"),
    "computed": ("实测：第03本笔记本的模型（同一范围）", "measured: notebook 03's model, same scope"),
    "default": ("文档默认值", "documented default"),
}


#: sentences and titles with their figures left open (``str.format`` fields), by key
TEMPLATES: dict[str, tuple[str, str]] = {
    "distribution_title": (
        "{name_zh}：{metric} 分布（大于0的概率 {share:.0%}）",
        "{name_en}: {metric} distribution (P > 0 = {share:.0%})",
    ),
    "uncertainty_by_case": ("各方案的不确定性", "Uncertainty by case"),
    "tornado_title": ("{name_zh}敏感性分析（龙卷风图）", "{name_en}sensitivity (tornado)"),
    "ltv_seed": ("种子案例：1.5万 × (1 + 3位推荐朋友)", "Seed: 1.5万 × (1 + 3 referred friends)"),
    "ltv_revenue": (
        "模型：营收口径，留存{retention:.0%}，{years}年，折现{discount:.0%}",
        "Model: revenue, retention {retention:.0%}, {years} years, discount {discount:.0%}",
    ),
    "ltv_margin": (
        "模型：毛利口径（毛利率{margin:.0%}），留存{retention:.0%}，{years}年，折现{discount:.0%}",
        "Model: gross margin {margin:.0%}, retention {retention:.0%}, {years} years, discount {discount:.0%}",
    ),
    "proactive_updates": ("主动进度更新", "Proactive progress updates"),
    "complaint_rate_ratio_per_update": ("每次更新的投诉率比", "Complaint rate ratio per update"),
    "ltr_slope_per_update": ("每次更新的LTR变化（分）", "LTR points per update"),
    "normal_log_rate_ratio": ("正态（对数率比），标准差", "normal (log rate ratio), SD"),
    "normal_ltr_points": ("正态（LTR分），标准差", "normal (LTR points), SD"),
    "overridden": (
        "分析师已改写：{value!r}（默认 {default!r}）。",
        "Overridden by the analyst: {value!r} (default {default!r}).",
    ),
    "great_experience": ("体验好", "Great experience"),
    "bad_experience": ("体验差", "Bad experience"),
    "network": ("全网络", "network"),
    "volume_default": (
        "{who_zh}：所选数据中无到访记录，采用默认值每年 {per_year:,.0f} 次",
        "{who_en}: no visits in the selection, default {per_year:,.0f} visits a year",
    ),
    "volume_data": (
        "{who_zh}：每年 {per_year:,.0f} 次到访 = {first} – {last} 共 {days} 天内 {n_visits:,} 次到访 × 365 / {days}",
        "{who_en}: {per_year:,.0f} visits a year = {n_visits:,} visits in {days} days ({first} – {last}) "
        "× 365 / {days}",
    ),
    "scope_note": (
        "投资回报假设年到访量 {per_year:,.0f}（{who_zh}：{first} – {last} 共 {days} 天 {n_visits:,} 次，年化）",
        "ROI assumes {per_year:,.0f} visits a year ({who_en}: {n_visits:,} in {days} days {first} – {last}, "
        "annualised)",
    ),
    "scope_note_own": ("；采用本中心数据的方案 {own}/{cases}", "; cases with own figures: {own} of {cases}"),
}


def pair(key: str, **values: object) -> tuple[str, str]:
    """The Chinese and the English of the template ``key``, its fields filled from ``values``.

    >>> pair("scope_note_own", own=1, cases=11)
    ('；采用本中心数据的方案 1/11', '; cases with own figures: 1 of 11')
    """
    zh, en = TEMPLATES[key]
    return zh.format(**values), en.format(**values)


def text(key: str, *, lang: Lang = "both", sep: str = " ", en_first: bool = False, **values: object) -> str:
    """The label ``key`` (of :data:`TEXT`, or of :data:`TEMPLATES` filled from ``values``) in
    ``lang`` (both: Chinese then English, or English first for a column). The one function
    through which the ROI pages pick a language.

    >>> text("case", lang="en"), text("case", lang="both", en_first=True)
    ('Case', 'Case 方案')
    >>> text("tornado_title", lang="en", name_zh="例：", name_en="Ex: ")
    'Ex: sensitivity (tornado)'
    """
    zh, en = TEXT[key] if key in TEXT else pair(key, **values)
    return bilingual(zh, en, lang=lang, sep=sep, en_first=en_first)
