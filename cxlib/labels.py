"""The bilingual labels of the figures of :mod:`cxlib.nps`, :mod:`cxlib.models` and :mod:`cxlib.did`:
their Chinese beside their English, in one table (the ROI pages keep theirs in :mod:`cxlib.roi.labels`;
the catalog's codes, columns and values are labelled by :mod:`cxlib.catalog`).

    >>> text("coef_title", lang="both"), title("coef_title", lang="both")
    ('模型系数 Model coefficients', '模型系数\\nModel coefficients')
"""

from __future__ import annotations

from cxlib.catalog import Lang, bilingual

#: Chinese and English of the figure labels, by key
TEXT: dict[str, tuple[str, str]] = {
    # nps: the dose-response figure
    "proactive_updates": ("主动进度更新次数", "Proactive updates"),
    "nps": ("净推荐值", "NPS"),
    "complaint_rate": ("投诉率", "Complaint rate"),
    "dose_title": ("主动更新次数与 NPS、投诉率", "Proactive updates vs. NPS and complaints"),
    # models: coefficients and the TWFE event study
    "estimate_ci": ("估计值（95% 置信区间）", "Estimate (95% CI)"),
    "rel_month": ("相对上线月份", "Months relative to rollout"),
    "event_title": ("实时进度上线前后", "Before and after the real-time rollout"),
    "coef_title": ("模型系数", "Model coefficients"),
    # did: the robust event study
    "rollout_event_title": (
        "实时进度上线的事件研究：稳健估计与 TWFE",
        "Event study of the switch to real-time updates: robust and TWFE",
    ),
    "rel_period": ("相对切换月份的月数", "months relative to the switch"),
    "effect_vs_before": ("效应（相对切换前）", "effect (against before the switch)"),
    "cs_robust": ("Callaway–Sant'Anna（稳健）", "Callaway–Sant'Anna (robust)"),
    "twfe_event_study": ("TWFE 事件研究", "TWFE event study"),
}


def text(key: str, *, lang: Lang = "both", sep: str = " ") -> str:
    """The label ``key`` of :data:`TEXT` in ``lang`` (both: Chinese, ``sep``, English).

    >>> text("nps", lang="zh"), text("cs_robust", lang="both", sep=" / ")
    ('净推荐值', "Callaway–Sant'Anna（稳健） / Callaway–Sant'Anna (robust)")
    """
    return bilingual(*TEXT[key], lang=lang, sep=sep)


def title(key: str, *, lang: Lang = "both") -> str:
    """The label ``key`` as a title: both languages on two lines.

    >>> title("dose_title", lang="en")
    'Proactive updates vs. NPS and complaints'
    """
    return text(key, lang=lang, sep="\n")
