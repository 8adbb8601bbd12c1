"""Synthetic raw data that follows the data contract: the shipped sample and benchmark inputs.

``cx sample --visits 6000 --seed 20261001 data/raw`` writes the five raw tables (centers,
visits, touchpoints, surveys, complaints) with every kind of dirt that the contract lists,
in the file formats real exports come in. The same seed gives byte-identical files.

>>> tables = generate(2000, seed=1)           # clean "truth" tables, canonical columns
>>> raw = add_dirt(tables, seed=1)            # the same tables as raw strings, with dirt
>>> sorted(tables)
['centers', 'complaints', 'surveys', 'touchpoints', 'truth', 'visits']

How the data are made
---------------------
Seven service centers; four switch to real-time progress updates with photos on
``realtime_since`` (with the default period 2026-05-01 + 6 months: BJ-CY 2026-06-16,
SH-JQ 2026-07-01, SZ-NS 2026-08-10, HZ-XH 2026-09-07), three never do.

Each visit gets a transparency tier: at a center that has switched, P(none, completion_only,
realtime, realtime_photo) = (0.04, 0.08, 0.33, 0.55); before the switch or at a center that
never switches (0.45, 0.42, 0.11, 0.02). ``none`` visits get no proactive update,
``completion_only`` only a ready notice, the real-time tiers in-progress updates every
U(40, 70) minutes of repair (``realtime_photo``: mostly ``progress_push``, the first one and
70 % of the others with a photo) or every U(45, 90) minutes (``realtime``: half of them
``advisor_update``), at least one, and a ready notice in 90 % of visits. So longer repairs
draw more updates: the confounder.

True effects (latent scale, before rounding and clipping), with ``n`` = in-progress updates,
``ready`` = a ready notice was sent, ``photo`` = an in-progress update carried a photo,
``hours`` = repair_minutes / 60, ``mood`` ~ N(0, 1) the customer's disposition:

* LTR: ``mu = 4.9 + 2.2*ready + 0.6*min(n, 3) + 0.9*photo - 0.35*hours + center + scenario
  + 0.06*month_index``; the answer is ``round(clip(mu + 0.6*(worst-point shock)
  + 0.35*(departure shock) + N(0, 0.9), 0, 10))``, where the shocks are the noise of the
  journey scores (which contain ``0.8*mood``). So: +0.6 LTR per in-progress update,
  saturating after 3 updates, and -0.35 per hour of repair.
* Complaints per visit ~ Poisson(``exp(-2.15 + 0.25*hours + log(0.75)*n + log(0.5)*ready
  + log(0.4)*photo + center + scenario - 0.3*mood)``), at most 3: the complaint rate ratio
  per in-progress update is 0.75 once repair duration is held fixed. Among real-time visits
  a naive Poisson model of complaints on ``n`` alone gives a rate ratio near 1.0; adding
  ``repair_minutes`` (and ``ready``, ``photo``) recovers about 0.75.
* Longest silence during the repair (no proactive update; the whole repair if none):
  customer inquiries ~ Poisson(0.55 * max(silence - 40 min, 0) / 60 min), at most 6;
  self-reported anxiety = 19 + 9*min(silence hours, 6) + 12*(n == 0) + 20*(not ready)
  - 12*photo + N(0, 8), clipped to 0-100.
* Journey scores (1-10) = point mean + sensitivity * (mu - 6.5) + 0.8*mood + N(0, 1.1); the
  waiting score also drops 0.5 per hour of silence. Booking is the high point, waiting and
  handover the low points of the curve. 4 % of scores are blank (booking and reminder for
  walk-ins); 15 % of responses leave anxiety blank; about 65 % of visits answer the survey.

Resulting means by tier (none / completion_only / realtime / realtime_photo): LTR about
4.4 / 6.6 / 7.4 / 8.3; share of visits with a complaint about 20 / 11 / 7 / 3 %;
anxiety about 70 / 51 / 29 / 17.

The timeline example is a fixed repair visit (:data:`EXAMPLE_VISIT_SEQ` on the 42nd day of
the period at SH-JQ, before its switch): a Model Y whose front control-arm bushing
(控制臂衬套) replacement takes 4 h 25 min, with one advisor update and then almost four
hours of silence and three customer inquiries. With the default period its id is
``WO2026061100001``; ``sample_manifest.json`` records it as ``example_visit_id``.

Dirt (rates per row of the table): see :data:`DIRT_RATES`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxlib import catalog
from cxlib.catalog import SCORE_POINT_ORDER, TABLES, TIER_ORDER, TOUCHPOINTS

Layout = Literal["mixed", "csv"]

#: the effects built into the data, on the latent scale (see the module docstring)
TRUE_EFFECTS: dict[str, float] = {
    "ltr_per_inprogress_update": 0.6,
    "ltr_update_saturation": 3,
    "ltr_ready_notice": 2.2,
    "ltr_photo": 0.9,
    "ltr_per_repair_hour": -0.35,
    "complaint_rr_per_inprogress_update": 0.75,
    "complaint_rr_ready_notice": 0.5,
    "complaint_rr_photo": 0.4,
    "complaint_log_rate_per_repair_hour": 0.25,
    "inquiries_per_silent_hour_over_40min": 0.55,
    "anxiety_per_silent_hour": 9.0,
}

#: share of rows that carry each kind of dirt
DIRT_RATES: dict[str, float] = {
    "visits.center_variant": 0.03,
    "visits.scenario_variant": 0.01,
    "visits.internal_record": 0.005,
    "visits.impossible_order": 0.005,
    "visits.duplicate_row": 0.003,
    "any.timestamp_format": 0.025,  # 0.5 % each of five other formats, per timestamp column
    "any.bool_spelling": 0.2,  # spellings other than true/false, spread over the others
    "touchpoints.chinese_name": 0.02,
    "touchpoints.unknown_code": 0.005,
    "touchpoints.orphan": 0.003,
    "touchpoints.channel_chinese": 0.01,
    "surveys.resubmission": 0.02,
    "surveys.ltr_text": 0.015,
    "surveys.ltr_out_of_range": 0.005,
    "surveys.ltr_missing": 0.01,
    "surveys.score_out_of_range": 0.005,  # per score cell
    "surveys.orphan": 0.005,
    "surveys.pii_mobile": 0.015,
    "surveys.pii_id_number": 0.005,
    "surveys.pii_plate": 0.01,
    "complaints.orphan": 0.02,
    "complaints.pii_mobile": 0.03,
}

SCRIPT_COMMENT = "<script>alert('x')</script> 页面显示测试"
EXAMPLE_VISIT_SEQ = 1
EXAMPLE_DAY = 41
_FIXED_XLSX_TIME = datetime(2026, 1, 1, 0, 0, 0)
_TZ = catalog.DEFAULT_TZ
_OFFSET = 8 * 3600  # all centers are in China: local = UTC+08:00

# --------------------------------------------------------------------------- centers
_CENTERS = (
    # id, name_zh, name_en, city, short zh, rollout fraction of the period (None: never)
    ("SH-JQ", "上海金桥服务中心", "Shanghai Jinqiao Service Center", "上海", "上海金桥", "Jinqiao", 0.33),
    ("SH-XH", "上海徐汇服务中心", "Shanghai Xuhui Service Center", "上海", "上海徐汇", "Xuhui", None),
    ("BJ-CY", "北京朝阳服务中心", "Beijing Chaoyang Service Center", "北京", "北京朝阳", "Chaoyang", 0.25),
    ("GZ-TH", "广州天河服务中心", "Guangzhou Tianhe Service Center", "广州", "广州天河", "Tianhe", None),
    ("SZ-NS", "深圳南山服务中心", "Shenzhen Nanshan Service Center", "深圳", "深圳南山", "Nanshan", 0.55),
    ("HZ-XH", "杭州西湖服务中心", "Hangzhou Xihu Service Center", "杭州", "杭州西湖", "Xihu", 0.70),
    ("CD-GX", "成都高新服务中心", "Chengdu Gaoxin Service Center", "成都", "成都高新", "Gaoxin", None),
)
_CENTER_WEIGHTS = np.array([0.19, 0.15, 0.17, 0.14, 0.13, 0.12, 0.10])
_CENTER_LTR = np.array([0.0, 0.2, -0.2, 0.1, 0.0, 0.3, -0.3])
_CENTER_COMPLAINT = np.array([0.0, -0.1, 0.15, 0.0, 0.05, -0.15, 0.1])

_MODELS = np.array(["Model Y", "Model 3", "ES6", "ET5", "EC6", "P7", "G6", "Han EV", "Seal", "Zeekr 001"], dtype=object)
_MODEL_WEIGHTS = np.array([0.22, 0.14, 0.1, 0.1, 0.06, 0.1, 0.07, 0.09, 0.06, 0.06])

_SCENARIO_P = np.array([0.55, 0.35, 0.10])
# repair duration (minutes): lognormal median, sigma, clip
_REPAIR = ((75.0, 0.35, 30, 240), (150.0, 0.5, 45, 480), (300.0, 0.4, 120, 600))
_SCENARIO_LTR = np.array([0.3, 0.0, -0.3])
_SCENARIO_COMPLAINT = np.array([-0.1, 0.0, 0.2])

_TIER_P_LIVE = np.array([0.04, 0.08, 0.33, 0.55])
_TIER_P_NOT_LIVE = np.array([0.45, 0.42, 0.11, 0.02])

# journey points: mean score, sensitivity to the visit's quality
_POINT_MEAN = {
    "reminder": 7.7,
    "booking": 8.4,
    "arrival": 7.4,
    "reception": 7.6,
    "waiting": 5.9,
    "notification": 7.0,
    "handover": 5.9,
    "payment": 7.2,
    "departure": 7.4,
}
_POINT_SENS = {
    "reminder": 0.05,
    "booking": 0.05,
    "arrival": 0.1,
    "reception": 0.2,
    "waiting": 0.5,
    "notification": 0.8,
    "handover": 0.35,
    "payment": 0.1,
    "departure": 0.2,
}


@dataclass(frozen=True)
class Effects:
    """The effects the simulation builds into the data (latent scale; see the module docstring).

    The defaults are the shipped sample's effects: with them the same seed writes the same bytes
    as before this option existed. :data:`REVERSED_EFFECTS` turns every finding round (updates
    raise complaints and lower LTR, waiting is the best-scored point, the no-update tier comes
    out best, anxiety falls with the silence), so that a test can check that the computed
    findings follow the data rather than a fixed story.

        >>> Effects().ltr_per_update, REVERSED_EFFECTS.ltr_per_update
        (0.6, -0.6)
        >>> Effects().summary() == TRUE_EFFECTS
        True
    """

    #: LTR (0-10, latent): intercept, per in-progress update (saturating), ready notice, photo, per repair hour
    ltr_base: float = 4.9
    ltr_ready: float = 2.2
    ltr_per_update: float = 0.6
    ltr_saturation: int = 3
    ltr_photo: float = 0.9
    ltr_per_hour: float = -0.35
    #: complaints per visit (Poisson, log scale): intercept and per repair hour; rate ratios of the programme
    complaint_base: float = -2.15
    complaint_per_hour: float = 0.25
    complaint_rr_per_update: float = 0.75
    complaint_rr_ready: float = 0.5
    complaint_rr_photo: float = 0.4
    #: self-reported anxiety (0-100): intercept, per silent hour (up to 6), no update, no ready notice, photo
    anxiety_base: float = 19.0
    anxiety_per_silent_hour: float = 9.0
    anxiety_no_update: float = 12.0
    anxiety_not_ready: float = 20.0
    anxiety_photo: float = -12.0
    #: customer inquiries per silent hour beyond 40 minutes
    inquiries_per_silent_hour: float = 0.55
    #: journey points: mean score and sensitivity to the visit's quality; waiting score per silent hour
    point_mean: dict[str, float] = field(default_factory=lambda: dict(_POINT_MEAN))
    point_sensitivity: dict[str, float] = field(default_factory=lambda: dict(_POINT_SENS))
    waiting_per_silent_hour: float = -0.5
    #: a name for the manifest ("" for the default effects, which the manifest does not name)
    name: str = ""

    def summary(self) -> dict[str, float]:
        """The headline effects as ``sample_manifest.json`` records them (``true_effects``)."""
        return {
            "ltr_per_inprogress_update": self.ltr_per_update,
            "ltr_update_saturation": self.ltr_saturation,
            "ltr_ready_notice": self.ltr_ready,
            "ltr_photo": self.ltr_photo,
            "ltr_per_repair_hour": self.ltr_per_hour,
            "complaint_rr_per_inprogress_update": self.complaint_rr_per_update,
            "complaint_rr_ready_notice": self.complaint_rr_ready,
            "complaint_rr_photo": self.complaint_rr_photo,
            "complaint_log_rate_per_repair_hour": self.complaint_per_hour,
            "inquiries_per_silent_hour_over_40min": self.inquiries_per_silent_hour,
            "anxiety_per_silent_hour": self.anxiety_per_silent_hour,
        }

    def as_dict(self) -> dict[str, object]:
        """Every field, for the manifest of a data set made with other than the default effects."""
        return asdict(self)


#: The shipped sample's effects.
DEFAULT_EFFECTS = Effects()
#: Every effect turned round: proactive updates, the ready notice and photos lower LTR and raise
#: complaints, waiting is the best-scored point and booking a low one, anxiety falls with the silence.
REVERSED_EFFECTS = replace(
    DEFAULT_EFFECTS,
    name="reversed",
    ltr_base=9.4,
    ltr_ready=-2.2,
    ltr_per_update=-0.6,
    ltr_photo=-0.9,
    complaint_base=-4.2,
    complaint_rr_per_update=1 / 0.75,
    complaint_rr_ready=2.0,
    complaint_rr_photo=2.5,
    anxiety_base=75.0,
    anxiety_per_silent_hour=-9.0,
    anxiety_no_update=-12.0,
    anxiety_not_ready=-20.0,
    anxiety_photo=12.0,
    point_mean={**_POINT_MEAN, "waiting": 9.3, "booking": 5.9},
    waiting_per_silent_hour=0.3,
)
#: Named effect sets (``cx sample --effects NAME``).
EFFECT_SETS: dict[str, Effects] = {"default": DEFAULT_EFFECTS, "reversed": REVERSED_EFFECTS}

_COMPLAINT_CHANNELS = np.array([c.code for c in catalog.COMPLAINT_CHANNELS], dtype=object)
_COMPLAINT_CATEGORIES = np.array(
    ["等待时间过长", "进度不透明", "维修质量", "价格争议", "服务态度", "交车延误", "配件缺货"], dtype=object
)

_COMMENTS = {
    "promoter": [
        "进度推送很及时，还有照片，很放心",
        "服务顾问很专业，解释得很清楚",
        "效率高，休息区也舒服",
        "整体体验很好，会推荐给朋友",
        "按时交车，车也洗干净了",
        "每一步都有通知，省心",
    ],
    "passive": [
        "还可以，就是等待时间有点长",
        "价格略贵，服务一般",
        "流程顺畅，沟通可以再主动一点",
        "休息区人有点多",
        "交车时讲解比较匆忙",
    ],
    "detractor": [
        "等了很久没人通知进度",
        "问了好几次才知道什么时候能好",
        "交车时间一拖再拖",
        "收费不透明，没有提前说明",
        "开工后就没人管了，只能自己去问",
        "交车检查很敷衍",
    ],
}
#: What customers write about each theme of the lexicon (:data:`cxlib.catalog.THEMES`), several
#: ways each; ``{h}`` is the repair time in hours, in Chinese numerals.
_THEME_TEXTS: dict[str, tuple[str, ...]] = {
    "booking_hassle": (
        "客服电话一直打不通，最后只能直接过来",
        "App预约老是失败",
        "周末根本约不上",
        "预约了到店还要排队等",
        "前台说查不到我的预约，又登记了一遍",
    ),
    "advisor_attitude": (
        "前台态度很差，爱答不理的",
        "服务顾问不耐烦，问两句就看手机",
        "到店好几分钟没人招呼",
        "顾问一问三不知",
        "接待的态度冷淡",
    ),
    "advisor_professional": (
        "服务顾问很专业，解释得很清楚",
        "顾问很耐心，每个项目都讲了一遍",
        "接待很热情",
        "顾问有问必答，很靠谱",
        "服务很周到",
    ),
    "long_wait": (
        "等了{h}个小时",
        "从早上等到下午，效率太低",
        "等了很久",
        "保养而已等了大半天",
        "等待时间有点长",
        "整个流程太慢了",
    ),
    "quick_service": ("效率高，很快就好了", "没等多久就好了", "不用排队，到了直接开工", "速度挺快的"),
    "no_progress_info": (
        "等了很久没人通知进度",
        "开工后就没人管了，只能自己去问",
        "问了好几次才知道什么时候能好",
        "完全不知道修到哪一步了",
        "一直没有消息，只能自己跑去车间问",
        "没人主动告知进度",
    ),
    "progress_informed": (
        "进度推送很及时",
        "每一步都有通知，省心",
        "顾问主动发了维修照片，很放心",
        "App上能实时看到进度",
        "修好了第一时间就通知我了",
    ),
    "environment_poor": ("休息区人有点多，没地方坐", "休息区太吵了", "卫生间很脏", "休息室空调不制冷"),
    "environment_good": (
        "休息区很舒服，还有咖啡",
        "环境干净整洁",
        "有按摩椅和零食，等待也不无聊",
        "儿童区很好，孩子玩得很开心",
    ),
    "delivery_delay": (
        "交车时间一拖再拖",
        "说好下午交车，拖到了晚上",
        "配件缺货，又多等了两天",
        "比约定的时间晚了很多",
    ),
    "on_time": ("按时交车", "准时完工，没耽误下午上班", "说几点取车就几点取车"),
    "hard_sell": (
        "交车的时候一直推销贴膜和延保",
        "结账时被强行推荐办会员卡",
        "顾问不停地让我充值",
        "保养套餐推荐个没完",
    ),
    "price_opaque": ("收费不透明，没有提前说明价格", "比报价多了好几百", "工时费贵得离谱", "结账的时候多了好几项"),
    "price_clear": ("价格透明，结账前都确认过", "明码标价，没有乱收费", "报价很清楚", "收费合理"),
    "handover_rushed": (
        "交车检查很敷衍",
        "交车时讲解比较匆忙",
        "保养报告也没给，换了什么都不清楚",
        "交车很随便，走个过场",
    ),
    "repair_quality": ("异响没修好，又跑了一趟", "修完还是有异响", "洗车把漆面弄出一道划痕", "座椅被弄脏了"),
    "no_farewell": (
        "付完钱就没人管了，自己去停车场找车",
        "交完钥匙人就不见了",
        "离开的时候没人送",
        "没有送别，有点失望",
    ),
    "farewell_warm": ("顾问一直送我到门口", "离店时顾问挥手道别", "临走时专门送我上车", "走的时候还说一路平安"),
}
#: Comments on what the lexicon has no theme for (parking, courtesy car, charging): the
#: unsupervised pass of the theme analysis should propose them.
_OTHER_TEXTS: tuple[str, ...] = (
    "停车场车位太少，找了半天车位",
    "停车场指引不清楚，绕了好几圈",
    "希望能提供代步车",
    "没有代步车，只能打车回家",
    "店里的充电桩坏了好几个",
    "充电桩一直被占着，充不上电",
    "停车位太窄了，不好停",
)
_GENERIC_TEXTS = {
    "promoter": ("整体体验很好，会推荐给朋友", "非常满意", "服务不错"),
    "passive": ("还可以", "一般般", "整体还行"),
    "detractor": ("体验很差", "不会再来了", "太失望了"),
}
#: The themes a low (≤ 5) or a high (≥ 9) score of each journey point makes a customer write about.
_POINT_PAIN = {
    "booking": ("booking_hassle",),
    "reception": ("advisor_attitude",),
    "waiting": ("long_wait", "long_wait", "environment_poor"),
    "notification": ("no_progress_info",),
    "handover": ("handover_rushed", "repair_quality", "delivery_delay", "hard_sell"),
    "payment": ("price_opaque", "hard_sell"),
    "departure": ("no_farewell",),
}
_POINT_PRAISE = {
    "reception": ("advisor_professional",),
    "waiting": ("quick_service", "environment_good"),
    "notification": ("progress_informed",),
    "handover": ("on_time",),
    "payment": ("price_clear",),
    "departure": ("farewell_warm",),
}
_ZH_HOURS = ("一", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")


def _comment_texts(
    rng: np.random.Generator,
    group: np.ndarray,
    scores: np.ndarray,
    blank: np.ndarray,
    silence: np.ndarray,
    repair: np.ndarray,
    photo: np.ndarray,
    n_upd: np.ndarray,
) -> np.ndarray:
    """A comment per respondent about the pain points and high points of the visit: a detractor
    writes about the worst-scored points (and a long silence, a long repair), a promoter about the
    best, a passive about one of each; a few write about what the lexicon has no theme for."""
    m = len(group)
    out = np.empty(m, dtype=object)

    def pick(options: tuple[str, ...], hours: float) -> str:
        text = options[int(rng.integers(0, len(options)))]
        return text.replace("{h}", _ZH_HOURS[int(min(max(round(hours), 1), 10))])

    for i in range(m):
        pains, praise = [], []
        for j, p in enumerate(SCORE_POINT_ORDER):
            if blank[i, j]:
                continue
            s = scores[i, j]
            if s <= 5 and p in _POINT_PAIN:
                pains.append((s + rng.random(), _POINT_PAIN[p][int(rng.integers(0, len(_POINT_PAIN[p])))]))
            elif s >= 9 and p in _POINT_PRAISE:
                praise.append((-s - rng.random(), _POINT_PRAISE[p][int(rng.integers(0, len(_POINT_PRAISE[p])))]))
        if n_upd[i] == 0 and silence[i] > 150:
            pains.append((2.5 + rng.random(), "no_progress_info"))
        if repair[i] > 240:
            pains.append((3.5 + rng.random(), "long_wait"))
        if photo[i]:
            praise.append((-9.5 - rng.random(), "progress_informed"))
        themes_bad = list(dict.fromkeys(t for _, t in sorted(pains)))
        themes_good = list(dict.fromkeys(t for _, t in sorted(praise)))
        g = group[i]
        hours = repair[i] / 60.0
        if g == "detractor":
            parts = [pick(_THEME_TEXTS[t], hours) for t in themes_bad[: 1 + int(rng.random() < 0.45)]]
        elif g == "promoter":
            parts = [pick(_THEME_TEXTS[t], hours) for t in themes_good[: 1 + int(rng.random() < 0.4)]]
        else:
            parts = [pick(_THEME_TEXTS[t], hours) for t in themes_good[:1]]
            if themes_bad:
                bad = pick(_THEME_TEXTS[themes_bad[0]], hours)
                parts.append(f"就是{bad}" if parts else bad)
        if not parts:
            parts = [pick(_GENERIC_TEXTS[g], hours)]
        if rng.random() < 0.08:
            other = pick(_OTHER_TEXTS, hours)
            parts = [other] if rng.random() < 0.5 else parts + [other]
        out[i] = "，".join(parts)
    return out


_COMPLAINT_THEMES = {
    "等待时间过长": ("long_wait",),
    "进度不透明": ("no_progress_info",),
    "维修质量": ("repair_quality",),
    "价格争议": ("price_opaque", "hard_sell"),
    "服务态度": ("advisor_attitude", "handover_rushed"),
    "交车延误": ("delivery_delay",),
    "配件缺货": ("delivery_delay",),
}
_COMPLAINT_OPENING = {
    "hotline": ("客户来电反映：", "来电投诉："),
    "app": ("App反馈：", "App留言："),
    "social": ("微博吐槽：", "小红书发帖："),
    "review_site": ("点评网差评：", "大众点评："),
}


def _complaint_texts(
    rng: np.random.Generator, category: np.ndarray, channel: np.ndarray, repair: np.ndarray
) -> np.ndarray:
    """What a complaint says (投诉内容), by its category and channel: a hotline agent's summary,
    an App message, a social-media post, a review."""
    out = np.empty(len(category), dtype=object)
    for i, (cat, ch) in enumerate(zip(category, channel)):
        themes = _COMPLAINT_THEMES[str(cat)]
        theme = themes[int(rng.integers(0, len(themes)))]
        options = _THEME_TEXTS[theme]
        text = options[int(rng.integers(0, len(options)))]
        text = text.replace("{h}", _ZH_HOURS[int(min(max(round(repair[i] / 60.0), 1), 10))])
        opening = _COMPLAINT_OPENING[str(ch)]
        out[i] = f"{opening[int(rng.integers(0, len(opening)))]}{text}"
    return out


_PROVINCES = np.array(list("沪京粤浙川苏鲁"), dtype=object)
_TS_COLUMNS = {
    "centers": (),
    "visits": ("booked_at", "arrived_at", "started_at", "finished_at", "delivered_at"),
    "touchpoints": ("ts",),
    "surveys": ("submitted_at",),
    "complaints": ("filed_at",),
}
_ZH_NUMERALS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]


# ------------------------------------------------------------------------- helpers
def _period(start: str, months: int) -> tuple[date, date]:
    d0 = date.fromisoformat(start)
    y, m = divmod(d0.month - 1 + months, 12)
    return d0, date(d0.year + y, m + 1, min(d0.day, 28))


def _epoch_local_midnight(d: date) -> int:
    """UTC epoch seconds of local (UTC+8) midnight of ``d``."""
    return (d - date(1970, 1, 1)).days * 86400 - _OFFSET


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int, lo: float, hi: float) -> np.ndarray:
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts, the owner index and the 0-based rank of each item."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, rank


def _ts_array(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(seconds.astype("int64"), type=pa.int64(), mask=None if valid is None else ~valid)
    return arr.cast(pa.timestamp("s", tz=_TZ))


def _centers_frame(start: str, months: int) -> pd.DataFrame:
    d0, d1 = _period(start, months)
    days = (d1 - d0).days
    rows = []
    for cid, zh, en, city, short, en_short, frac in _CENTERS:
        since = None if frac is None else d0 + timedelta(days=int(round(frac * days)))
        rows.append(
            {
                "center_id": cid,
                "name_zh": zh,
                "name_en": en,
                "city": city,
                "aliases": f"{short};{cid.lower()};{en_short}",
                "realtime_since": since,
            }
        )
    df = pd.DataFrame(rows)
    df["realtime_since"] = pd.to_datetime(df["realtime_since"]).dt.date.astype(object)
    df.loc[df["realtime_since"].isna(), "realtime_since"] = None
    return df


# ------------------------------------------------------------------------ simulation
class _Draws:
    """What the steps of :func:`_simulate` draw, by name: each step reads the arrays it needs
    and sets those it makes (the random stream ``rng`` is shared, in the order of the steps)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def set(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # for mypy: the attributes are set by the steps
        raise AttributeError(name)


def _simulate(
    n_visits: int, seed: int, start: str, months: int, effects: Effects = DEFAULT_EFFECTS
) -> dict[str, pa.Table]:
    """The clean tables of the sample (and the truth behind them), drawn step by step from one
    random stream: the order of the steps is the order of the draws, so a seed gives the same sample."""
    e = effects
    if n_visits < 50:
        raise ValueError(f"n_visits must be at least 50, got {n_visits}")
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    rng = np.random.default_rng(seed)
    n = n_visits
    d0, d1 = _period(start, months)
    n_days = (d1 - d0).days
    t0 = _epoch_local_midnight(d0)
    centers = _centers_frame(start, months)
    since_day = np.array([(s - d0).days if s is not None else 10**6 for s in centers["realtime_since"]])
    ex = 0  # the example visit (the README's worked example) is the first drawn
    s = _Draws(
        seed=seed,
        months=months,
        e=e,
        rng=rng,
        n=n,
        d0=d0,
        n_days=n_days,
        t0=t0,
        centers=centers,
        since_day=since_day,
        ex=ex,
    )
    _draw_visit_times(s)
    _draw_tiers(s)
    _draw_update_times(s)
    _longest_silence(s)
    _draw_inquiries(s)
    _draw_experience(s)
    _visits_table(s)
    _touchpoints_table(s)
    _surveys_table(s)
    _complaints_table(s)
    truth = _truth_table(s)

    centers_tbl = pa.Table.from_pandas(
        centers,
        preserve_index=False,
        schema=pa.schema(
            [
                ("center_id", pa.string()),
                ("name_zh", pa.string()),
                ("name_en", pa.string()),
                ("city", pa.string()),
                ("aliases", pa.string()),
                ("realtime_since", pa.date32()),
            ]
        ),
    )
    return {
        "centers": centers_tbl,
        "visits": s.visits,
        "touchpoints": s.touchpoints,
        "surveys": s.surveys,
        "complaints": s.complaints,
        "truth": truth,
    }


def _truth_table(s: _Draws) -> pa.Table:
    """What the sample was drawn from, per visit (in the order of the visits table): tier, repair,
    updates, silence, inquiries, latent and observed LTR, anxiety, response and complaints."""
    return pa.table(
        {
            "visit_id": s.visit_id_arr,
            "center": pc.take(s.center_ids, pa.array(s.center)),
            "scenario": pc.take(s.scen_codes, pa.array(s.scenario)),
            "realtime_live": pa.array(s.live),
            "tier": pc.take(pa.array(list(TIER_ORDER)), pa.array(s.tier)),
            "repair_minutes": pa.array(s.repair),
            "n_inprogress_updates": pa.array(s.n_upd),
            "ready_notice": pa.array(s.ready),
            "has_photo_update": pa.array(s.photo),
            "longest_silence_minutes": pa.array(s.silence),
            "n_inquiries": pa.array(s.n_inq.astype(np.int64)),
            "ltr_latent": pa.array(s.mu),
            "ltr": pa.array(s.ltr.astype(np.int64)),
            "anxiety": pa.array(s.anxiety),
            "responded": pa.array(s.responded),
            "n_complaints": pa.array(s.n_compl.astype(np.int64)),
            "is_example": pa.array(np.arange(s.n) == s.ex),
        }
    ).take(pa.array(s.order))


def _draw_visit_times(s: _Draws) -> None:
    """Who comes where and when: center, scenario, day and the times of the visit (booked, arrived, started, finished, delivered)."""
    ex, months, n, n_days, rng, t0 = s.ex, s.months, s.n, s.n_days, s.rng, s.t0
    center = rng.choice(len(_CENTERS), size=n, p=_CENTER_WEIGHTS)
    scenario = rng.choice(3, size=n, p=_SCENARIO_P)
    day = rng.integers(0, n_days, size=n)
    arrive_min = 8 * 60 + 30 + rng.integers(0, 8 * 60 + 30, size=n)
    # the example visit: first visit of its day, at SH-JQ, a repair
    ex_day = min(EXAMPLE_DAY, n_days // 3)
    center[ex], scenario[ex], day[ex], arrive_min[ex] = 0, 1, ex_day, 8 * 60 + 5
    arrived = t0 + day * 86400 + arrive_min * 60
    wait = np.round(_lognormal(rng, 25, 0.5, n, 5, 120))
    repair = np.empty(n)
    for k, (med, sig, lo, hi) in enumerate(_REPAIR):
        m = scenario == k
        repair[m] = _lognormal(rng, med, sig, int(m.sum()), lo, hi)
    repair = np.round(repair)
    handover = np.round(_lognormal(rng, 20, 0.45, n, 5, 90))
    wait[ex], repair[ex], handover[ex] = 20, 265, 25
    started = arrived + wait * 60
    finished = started + repair * 60
    delivered = finished + handover * 60
    walk_in = rng.random(n) < 0.08
    walk_in[ex] = False
    lead_days = np.ceil(_lognormal(rng, 2.5, 0.7, n, 1, 14))
    booked = t0 + (day - lead_days) * 86400 + rng.integers(8 * 60, 22 * 60, n) * 60
    hours = repair / 60.0
    month_index = (day * months) // max(n_days, 1)
    s.set(
        arrived=arrived,
        booked=booked,
        center=center,
        day=day,
        delivered=delivered,
        finished=finished,
        hours=hours,
        month_index=month_index,
        repair=repair,
        scenario=scenario,
        started=started,
        walk_in=walk_in,
    )


def _draw_tiers(s: _Draws) -> None:
    """Transparency: the rollout decides the tier mix, the repair duration the number of in-progress updates."""
    center, day, ex, n, repair, rng, since_day = s.center, s.day, s.ex, s.n, s.repair, s.rng, s.since_day
    live = day >= since_day[center]
    u = rng.random(n)
    cum_live, cum_not = np.cumsum(_TIER_P_LIVE), np.cumsum(_TIER_P_NOT_LIVE)
    tier = np.where(live, np.searchsorted(cum_live, u, side="right"), np.searchsorted(cum_not, u, side="right"))
    tier = np.minimum(tier, 3)
    tier[ex] = 2
    realtime = tier >= 2
    interval = np.where(tier == 3, rng.uniform(40, 70, n), rng.uniform(45, 90, n))
    n_upd = np.where(realtime, np.clip(np.floor(repair / interval), 1, 12), 0).astype(np.int64)
    n_upd[ex] = 1
    ready = np.where(tier == 1, True, np.where(realtime, rng.random(n) < 0.9, False))
    ready[ex] = True
    photo = tier == 3
    s.set(interval=interval, live=live, n_upd=n_upd, photo=photo, ready=ready, tier=tier)


def _draw_update_times(s: _Draws) -> None:
    """The in-progress updates inside the repair: their times, push or advisor, with a photo or not."""
    ex, interval, n_upd, repair, rng, started, tier = s.ex, s.interval, s.n_upd, s.repair, s.rng, s.started, s.tier
    uv, uj = _segments(n_upd)
    iv = interval[uv]
    single = n_upd[uv] == 1
    t_upd = np.where(
        single, repair[uv] * rng.uniform(0.3, 0.7, uv.size), (uj + 1) * iv + rng.uniform(-0.2, 0.2, uv.size) * iv
    )
    t_upd = np.clip(t_upd, 1, np.maximum(repair[uv] - 2, 1))
    t_upd[uv == ex] = 30
    upd_sec = np.round(started[uv] + t_upd * 60 + rng.integers(0, 60, uv.size)).astype(np.int64)
    upd_is_push = np.where(tier[uv] == 3, rng.random(uv.size) < 0.85, rng.random(uv.size) < 0.5)
    upd_photo = (tier[uv] == 3) & upd_is_push & (rng.random(uv.size) < 0.7)
    first = uj == 0
    upd_is_push[first & (tier[uv] == 3)] = True
    upd_photo[first & (tier[uv] == 3)] = True
    upd_is_push[uv == ex] = False
    s.set(t_upd=t_upd, uj=uj, upd_is_push=upd_is_push, upd_photo=upd_photo, upd_sec=upd_sec, uv=uv)


def _longest_silence(s: _Draws) -> None:
    """The longest silence of each visit (between start, updates and finish) and where it lies, for placing inquiries."""
    n, n_upd, repair, t_upd, uj, uv = s.n, s.n_upd, s.repair, s.t_upd, s.uj, s.uv
    gaps_prev = np.where(uj == 0, t_upd, t_upd - np.concatenate(([0.0], t_upd[:-1])))
    last = uj == n_upd[uv] - 1
    silence = repair.copy()
    if uv.size:
        gmax = np.zeros(n)
        np.maximum.at(gmax, uv, gaps_prev)
        tail = np.zeros(n)
        tail[uv[last]] = repair[uv[last]] - t_upd[last]
        gap_lo = np.zeros(n)
        gap_hi = repair.copy()
        # where the longest gap lies (for placing inquiries)
        is_max = gaps_prev >= gmax[uv] - 1e-9
        hi_at = np.full(n, np.nan)
        np.fmin.at(hi_at, uv[is_max], t_upd[is_max])
        best_inner = np.maximum(gmax, 0)
        use_tail = tail >= best_inner
        has = n_upd > 0
        silence = np.where(has, np.maximum(best_inner, tail), repair)
        gap_hi = np.where(has & ~use_tail, hi_at, repair)
        gap_lo = np.where(has & ~use_tail, hi_at - best_inner, np.where(has, repair - tail, 0.0))
    else:
        gap_lo, gap_hi = np.zeros(n), repair.copy()
    silence_h = silence / 60.0
    s.set(gap_hi=gap_hi, gap_lo=gap_lo, silence=silence, silence_h=silence_h)


def _draw_inquiries(s: _Draws) -> None:
    """Customer inquiries, more the longer the silence."""
    e, ex, rng, silence = s.e, s.ex, s.rng, s.silence
    n_inq = np.minimum(rng.poisson(e.inquiries_per_silent_hour * np.maximum(silence - 40, 0) / 60.0), 6)
    n_inq[ex] = 3
    s.set(n_inq=n_inq)


def _draw_experience(s: _Draws) -> None:
    """The experience: latent LTR, journey point scores, LTR, anxiety and complaints of every visit."""
    center, e, ex, hours, month_index, n, n_upd, photo, ready, rng, scenario, silence_h = (
        s.center,
        s.e,
        s.ex,
        s.hours,
        s.month_index,
        s.n,
        s.n_upd,
        s.photo,
        s.ready,
        s.rng,
        s.scenario,
        s.silence_h,
    )
    mood = rng.standard_normal(n)
    mu = (
        e.ltr_base
        + e.ltr_ready * ready
        + e.ltr_per_update * np.minimum(n_upd, e.ltr_saturation)
        + e.ltr_photo * photo
        + e.ltr_per_hour * hours
        + _CENTER_LTR[center]
        + _SCENARIO_LTR[scenario]
        + 0.06 * month_index
    )
    eps = rng.standard_normal((n, len(SCORE_POINT_ORDER))) * 1.1
    shock = 0.8 * mood[:, None] + eps
    latent = np.empty_like(eps)
    for j, p in enumerate(SCORE_POINT_ORDER):
        latent[:, j] = e.point_mean[p] + e.point_sensitivity[p] * (mu - 6.5) + shock[:, j]
        if p == "waiting":
            latent[:, j] += e.waiting_per_silent_hour * np.minimum(silence_h, 6)
    scores = np.clip(np.round(latent), 1, 10)
    worst_shock = shock.min(axis=1)
    worst_shock -= worst_shock.mean()
    ltr = np.clip(np.round(mu + 0.6 * worst_shock + 0.35 * shock[:, -1] + rng.standard_normal(n) * 0.9), 0, 10)
    anxiety = np.clip(
        np.round(
            e.anxiety_base
            + e.anxiety_per_silent_hour * np.minimum(silence_h, 6)
            + e.anxiety_no_update * (n_upd == 0)
            + e.anxiety_not_ready * (~ready)
            + e.anxiety_photo * photo
            + rng.standard_normal(n) * 8
        ),
        0,
        100,
    )
    lam = np.exp(
        e.complaint_base
        + e.complaint_per_hour * hours
        + math.log(e.complaint_rr_per_update) * n_upd
        + math.log(e.complaint_rr_ready) * ready
        + math.log(e.complaint_rr_photo) * photo
        + _CENTER_COMPLAINT[center]
        + _SCENARIO_COMPLAINT[scenario]
        - 0.3 * mood
    )
    n_compl = np.minimum(rng.poisson(lam), 3)
    # the example: unhappy, anxious, complained once
    ltr[ex], anxiety[ex], n_compl[ex] = 3, 85, 1
    scores[ex] = [8, 8, 7, 7, 2, 3, 4, 6, 5]
    s.set(anxiety=anxiety, ltr=ltr, mu=mu, n_compl=n_compl, scores=scores)


def _visits_table(s: _Draws) -> None:
    """The visits table, sorted by arrival (the example first of its day), with visit and customer ids."""
    arrived, booked, center, delivered, ex, finished, n, rng, scenario, started, walk_in = (
        s.arrived,
        s.booked,
        s.center,
        s.delivered,
        s.ex,
        s.finished,
        s.n,
        s.rng,
        s.scenario,
        s.started,
        s.walk_in,
    )
    order = np.lexsort((np.arange(n) != ex, arrived))
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    local_day = (arrived + _OFFSET) // 86400
    sorted_day = local_day[order]
    first_of_day = np.r_[True, sorted_day[1:] != sorted_day[:-1]]
    grp_start = np.maximum.accumulate(np.where(first_of_day, np.arange(n), 0))
    seq_sorted = np.arange(n) - grp_start + 1
    seq = seq_sorted[inv]
    ymd = pd.to_datetime(local_day, unit="D").strftime("%Y%m%d").to_numpy().astype(np.int64)
    visit_num = ymd * 100000 + seq
    visit_id_arr = pc.utf8_replace_slice(pa.array(visit_num).cast(pa.string()), start=0, stop=0, replacement="WO")
    customer = rng.integers(1_000_000, 9_999_999, size=n)
    customer[ex] = 3_141_593
    customer_arr = pc.utf8_replace_slice(pa.array(customer).cast(pa.string()), start=0, stop=0, replacement="C")
    model_idx = rng.choice(len(_MODELS), size=n, p=_MODEL_WEIGHTS)
    model_idx[ex] = 0
    warranty = np.where(scenario == 1, rng.random(n) < 0.4, np.where(scenario == 0, rng.random(n) < 0.1, False))
    warranty[ex] = False
    amount = np.where(
        scenario == 0,
        rng.uniform(300, 1200, n),
        np.where(scenario == 1, rng.uniform(500, 5000, n), rng.uniform(3000, 30000, n)),
    )
    amount = np.where(warranty & (rng.random(n) < 0.8), 0.0, np.round(amount, 2))
    amount[ex] = 1860.0
    center_ids = pa.array([c[0] for c in _CENTERS])
    scen_codes = pa.array(list(catalog.SCENARIO_ORDER))
    visits = pa.table(
        {
            "visit_id": visit_id_arr,
            "customer_id": customer_arr,
            "center": pc.take(center_ids, pa.array(center)),
            "scenario": pc.take(scen_codes, pa.array(scenario)),
            "vehicle_model": pa.array(_MODELS[model_idx], type=pa.string()),
            "booked_at": _ts_array(booked, ~walk_in),
            "arrived_at": _ts_array(arrived),
            "started_at": _ts_array(started),
            "finished_at": _ts_array(finished),
            "delivered_at": _ts_array(delivered),
            "warranty": pa.array(warranty),
            "amount_cny": pa.array(amount),
        }
    ).take(pa.array(order))
    s.set(center_ids=center_ids, inv=inv, order=order, scen_codes=scen_codes, visit_id_arr=visit_id_arr, visits=visits)


def _touchpoints_table(s: _Draws) -> None:
    """The touchpoint events of every visit: booking, arrival, updates, inquiries, handover, follow-up."""
    (
        arrived,
        booked,
        delivered,
        ex,
        finished,
        gap_hi,
        gap_lo,
        inv,
        n,
        n_inq,
        ready,
        rng,
        started,
        upd_is_push,
        upd_photo,
        upd_sec,
        uv,
        visit_id_arr,
        walk_in,
    ) = (
        s.arrived,
        s.booked,
        s.delivered,
        s.ex,
        s.finished,
        s.gap_hi,
        s.gap_lo,
        s.inv,
        s.n,
        s.n_inq,
        s.ready,
        s.rng,
        s.started,
        s.upd_is_push,
        s.upd_photo,
        s.upd_sec,
        s.uv,
        s.visit_id_arr,
        s.walk_in,
    )
    code_of = {c: i for i, c in enumerate(catalog.TOUCHPOINT_CODES)}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # visit, ts, code, photo(-1/0/1)

    def add(mask: np.ndarray, ts: np.ndarray, code: str, ph: np.ndarray | None = None) -> None:
        idx = np.flatnonzero(mask)
        p = np.full(idx.size, -1, dtype=np.int8) if ph is None else ph
        parts.append((idx, np.round(ts[idx]).astype(np.int64), np.full(idx.size, code_of[code], np.int16), p))

    every = np.ones(n, dtype=bool)
    r = rng.random((n, 12))
    secs = rng.integers(0, 60, size=(n, 12))
    booked_v = ~walk_in
    push_reminder = r[:, 0] < 0.6
    add(
        booked_v & (r[:, 1] < 0.85) & push_reminder,
        booked - rng.integers(1, 6, n) * 86400 - rng.uniform(0, 5400, n),
        "reminder_push",
    )
    add(
        booked_v & (r[:, 1] < 0.85) & ~push_reminder,
        booked - rng.integers(1, 6, n) * 86400 - rng.uniform(0, 5400, n),
        "reminder_sms",
    )
    add(booked_v & (r[:, 2] < 0.3), booked - rng.uniform(600, 7200, n), "package_view")
    add(booked_v & (r[:, 3] < 0.15), booked - rng.uniform(300, 3600, n), "center_compare")
    online = r[:, 4] < 0.72
    add(booked_v & online, booked + secs[:, 0], "booking_online")
    add(booked_v & ~online, booked + secs[:, 0], "booking_call")
    add(booked_v, booked + rng.uniform(60, 900, n), "booking_confirm")
    add(r[:, 5] < 0.8, arrived - rng.uniform(60, 420, n), "parking")
    add(every, arrived + rng.uniform(30, 240, n), "reception")
    add(every, arrived + rng.uniform(300, 900, n), "advisor_talk")
    add(r[:, 6] < 0.7, arrived + rng.uniform(960, 1200, n), "lounge")
    # in-progress updates
    upd_code = np.where(upd_is_push, code_of["progress_push"], code_of["advisor_update"]).astype(np.int16)
    parts.append((uv, upd_sec, upd_code, np.where(upd_is_push, upd_photo.astype(np.int8), -1).astype(np.int8)))
    add(ready, finished + rng.uniform(0, 300, n), "ready_notice", np.zeros(int(ready.sum()), np.int8))
    # inquiries, inside the longest silence
    qv, _ = _segments(n_inq)
    q_min = gap_lo[qv] + rng.uniform(0.15, 0.95, qv.size) * (gap_hi[qv] - gap_lo[qv])
    q_ex = qv == ex
    q_min[q_ex] = [105, 175, 230]
    parts.append(
        (
            qv,
            np.round(started[qv] + q_min * 60).astype(np.int64) + rng.integers(0, 60, qv.size),
            np.full(qv.size, code_of["customer_inquiry"], np.int16),
            np.full(qv.size, -1, np.int8),
        )
    )
    add(every, delivered - rng.uniform(420, 900, n), "vehicle_check")
    add(every, delivered - rng.uniform(120, 400, n), "payment")
    add(r[:, 7] < 0.8, delivered - rng.uniform(10, 110, n), "service_report")
    add(every, delivered + rng.uniform(0, 120, n), "farewell")
    add(r[:, 8] < 0.95, delivered + rng.uniform(1800, 7200, n), "survey")
    add(r[:, 9] < 0.4, delivered + rng.uniform(2, 5, n) * 86400, "follow_up_call")
    add(r[:, 10] < 0.3, delivered + rng.uniform(1, 7, n) * 86400, "next_reminder")

    ev_v = np.concatenate([p[0] for p in parts])
    ev_t = np.concatenate([p[1] for p in parts])
    ev_c = np.concatenate([p[2] for p in parts])
    ev_p = np.concatenate([p[3] for p in parts])
    ev_order = np.lexsort((ev_c, inv[ev_v], ev_t))
    ev_v, ev_t, ev_c, ev_p = ev_v[ev_order], ev_t[ev_order], ev_c[ev_order], ev_p[ev_order]
    codes = pa.array(list(catalog.TOUCHPOINT_CODES))
    channels = pa.array([t.channel for t in TOUCHPOINTS])
    vid_by_orig = visit_id_arr  # visit ids are indexed by original visit index
    touchpoints = pa.table(
        {
            "visit_id": pc.take(vid_by_orig, pa.array(ev_v)),
            "ts": _ts_array(ev_t),
            "touchpoint": pc.take(codes, pa.array(ev_c)),
            "channel": pc.take(channels, pa.array(ev_c)),
            "photo": pa.array(ev_p == 1, mask=ev_p < 0),
        }
    )
    s.set(touchpoints=touchpoints, vid_by_orig=vid_by_orig)


def _surveys_table(s: _Draws) -> None:
    """The surveys: about 65 % respond, some scores blank, comments from a generator of their own."""
    anxiety, delivered, ex, inv, ltr, n, n_upd, photo, repair, rng, scores, seed, silence, vid_by_orig, walk_in = (
        s.anxiety,
        s.delivered,
        s.ex,
        s.inv,
        s.ltr,
        s.n,
        s.n_upd,
        s.photo,
        s.repair,
        s.rng,
        s.scores,
        s.seed,
        s.silence,
        s.vid_by_orig,
        s.walk_in,
    )
    responded = rng.random(n) < 0.63 + 0.05 * (ltr >= 9)
    responded[ex] = True
    sv = np.flatnonzero(responded)
    submitted = delivered[sv] + np.round(_lognormal(rng, 6 * 3600, 1.0, sv.size, 1800, 5 * 86400))
    s_order = np.lexsort((inv[sv], submitted))
    sv, submitted = sv[s_order], submitted[s_order]
    m = sv.size
    sc = scores[sv].copy()
    blank = rng.random(sc.shape) < 0.04
    blank[:, 0] |= walk_in[sv]
    blank[:, 1] |= walk_in[sv]
    blank[sv == ex] = False
    anx_blank = (rng.random(m) < 0.15) & (sv != ex)
    group = np.where(ltr[sv] >= 9, "promoter", np.where(ltr[sv] >= 7, "passive", "detractor"))
    has_comment = (rng.random(m) < 0.55) | (sv == ex)
    # the texts come from a generator of their own; the main stream makes the draws it always
    # made here, so that every other value of the sample stays as it was
    for g, texts in _COMMENTS.items():
        rng.integers(0, len(texts), int(np.count_nonzero((group == g) & has_comment)))
    comment = np.empty(m, dtype=object)
    idx = np.flatnonzero(has_comment)
    comment[idx] = _comment_texts(
        np.random.default_rng([seed, 16]),
        group[idx],
        sc[idx],
        blank[idx],
        silence[sv][idx],
        repair[sv][idx],
        photo[sv][idx],
        n_upd[sv][idx],
    )
    comment[sv == ex] = (
        "更换左前控制臂衬套，从早上八点等到下午一点多，开工后顾问只说了一次，"
        "之后将近四个小时没人主动告知进度，问了三次才知道还要等多久"
    )
    survey_cols: dict[str, pa.Array] = {
        "response_id": pc.utf8_replace_slice(
            pa.array(np.arange(1, m + 1) + 10_000_000).cast(pa.string()), start=0, stop=1, replacement="R"
        ),
        "visit_id": pc.take(vid_by_orig, pa.array(sv)),
        "submitted_at": _ts_array(submitted),
        "ltr": pa.array(ltr[sv].astype(np.int64)),
    }
    for j, p in enumerate(SCORE_POINT_ORDER):
        survey_cols[f"score_{p}"] = pa.array(sc[:, j].astype(np.int64), mask=blank[:, j])
    survey_cols["anxiety"] = pa.array(anxiety[sv].astype(float), mask=anx_blank)
    survey_cols["comment"] = pa.array(comment, type=pa.string())
    surveys = pa.table(survey_cols)
    s.set(responded=responded, surveys=surveys)


def _complaints_table(s: _Draws) -> None:
    """The complaints: up to three per visit, category and channel, texts from a generator of their own."""
    delivered, ex, inv, n_compl, repair, rng, seed, vid_by_orig = (
        s.delivered,
        s.ex,
        s.inv,
        s.n_compl,
        s.repair,
        s.rng,
        s.seed,
        s.vid_by_orig,
    )
    cv, _ = _segments(n_compl)
    filed = delivered[cv] + np.round(rng.uniform(0.5, 120, cv.size) * 3600)
    c_order = np.lexsort((inv[cv], filed))
    cv, filed = cv[c_order], filed[c_order]
    k = cv.size
    cat_p = np.array([0.22, 0.25, 0.15, 0.12, 0.1, 0.1, 0.06])
    cat = rng.choice(len(_COMPLAINT_CATEGORIES), size=k, p=cat_p)
    cat[cv == ex] = 1
    chan = _COMPLAINT_CHANNELS[rng.choice(4, size=k, p=[0.35, 0.35, 0.15, 0.15])]
    text = _complaint_texts(np.random.default_rng([seed, 17]), _COMPLAINT_CATEGORIES[cat], chan, repair[cv])
    complaints = pa.table(
        {
            "complaint_id": pc.utf8_replace_slice(
                pa.array(np.arange(1, k + 1) + 10_000_000).cast(pa.string()), start=0, stop=1, replacement="CP"
            ),
            "visit_id": pc.take(vid_by_orig, pa.array(cv)),
            "filed_at": _ts_array(filed),
            "channel": pa.array(chan, type=pa.string()),
            "category": pa.array(_COMPLAINT_CATEGORIES[cat], type=pa.string()),
            "text": pa.array(text, type=pa.string()),
        }
    )
    s.set(complaints=complaints)


def generate(
    n_visits: int, seed: int, *, start: str = "2026-05-01", months: int = 6, effects: Effects = DEFAULT_EFFECTS
) -> dict[str, pd.DataFrame]:
    """The clean "truth" tables, with canonical columns and proper types, before any dirt.

    Keys: the five raw tables of the contract plus ``truth``, one row per visit with what the
    simulation decided (tier, updates, silence, latent LTR, anxiety, complaints, …).
    ``effects`` (default: the shipped sample's) sets the effects built into the data.

    >>> generate(1000, seed=7)["visits"].shape[0]
    1000
    """
    return {name: tbl.to_pandas() for name, tbl in _simulate(n_visits, seed, start, months, effects).items()}


def example_visit_id(*, start: str = "2026-05-01", months: int = 6) -> str:
    """The id of the timeline example visit for a period (it does not depend on seed or size).

    >>> example_visit_id()
    'WO2026061100001'
    """
    d0, d1 = _period(start, months)
    d = d0 + timedelta(days=min(EXAMPLE_DAY, (d1 - d0).days // 3))
    return f"WO{d:%Y%m%d}{EXAMPLE_VISIT_SEQ:05d}"


# ------------------------------------------------------------------------------ dirt
_TS_BASE = {
    "visits": "%Y-%m-%d %H:%M:%S",
    "touchpoints": "%Y-%m-%dT%H:%M:%S+08:00",
    "surveys": "%Y-%m-%d %H:%M:%S",
    "complaints": "%Y-%m-%d %H:%M",
}
_TS_OTHER = ("%Y-%m-%dT%H:%M:%S+08:00", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "excel", "utc")
_BOOL_SPELLINGS = (("true", "false"), ("1", "0"), ("yes", "no"), ("是", "否"), ("Y", "N"))
_UNKNOWN_TOUCHPOINTS = ("wechat_msg", "valet_pickup", "video_call", "progress_pushh", "car_wash")
_SCORE_OUT = (0, 11, 12, -1, 99)


def _seconds(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds of a timestamp column and its validity mask."""
    arr = _arr(arr)
    if arr.type.unit != "s":
        arr = pc.cast(arr, pa.timestamp("s", tz=arr.type.tz))
    ints = arr.view(pa.int64())
    valid = pc.is_valid(ints).to_numpy(zero_copy_only=False)
    return pc.fill_null(ints, 0).to_numpy(zero_copy_only=False).astype(np.int64), valid


def _strftime(secs: np.ndarray, valid: np.ndarray, fmt: str) -> pa.Array:
    """Fast fixed-width formatting of epoch seconds (``%Y %m %d %H %M %S`` and literals)."""
    n = secs.size
    days = secs // 86400
    sod = secs - days * 86400
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    mo = d.astype("datetime64[M]")
    fields = {
        "Y": (y.astype(np.int64) + 1970, 4),
        "m": ((mo - y).astype(np.int64) + 1, 2),
        "d": ((d - mo).astype(np.int64) + 1, 2),
        "H": (sod // 3600, 2),
        "M": (sod // 60 % 60, 2),
        "S": (sod % 60, 2),
    }
    pieces: list[tuple[str, str]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            pieces.append(("f", fmt[i + 1]))
            i += 2
        else:
            pieces.append(("l", fmt[i]))
            i += 1
    width = sum(fields[v][1] if k == "f" else len(v.encode()) for k, v in pieces)
    out = np.empty((n, width), dtype=np.uint8)
    pos = 0
    for kind, v in pieces:
        if kind == "l":
            b = v.encode()
            out[:, pos : pos + len(b)] = np.frombuffer(b, dtype=np.uint8)
            pos += len(b)
            continue
        val, w = fields[v]
        for k in range(w):
            out[:, pos + k] = 48 + (val // 10 ** (w - 1 - k)) % 10
        pos += w
    offsets = np.arange(n + 1, dtype=np.int32) * width
    if valid.all():
        bitmap, nulls = None, 0
    else:
        bitmap, nulls = pa.array(valid).buffers()[1], int((~valid).sum())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()), bitmap, nulls)


def _format_ts(
    secs: np.ndarray,
    valid: np.ndarray,
    base: str,
    rng: np.random.Generator,
    rate: float = DIRT_RATES["any.timestamp_format"],
) -> pa.Array:
    """Timestamps as text: ``base`` format for most rows, the other formats for a few."""

    def render(fmt: str, idx: np.ndarray | None) -> pa.Array:
        s = secs if idx is None else secs[idx]
        v = valid if idx is None else valid[idx]
        if fmt == "excel":
            serial = np.round((s + _OFFSET) / 86400.0 + 25569.0, 6)
            return pa.array(serial, mask=~v).cast(pa.string())
        shift = 0 if fmt == "utc" else _OFFSET
        f = "%Y-%m-%dT%H:%M:%S+00:00" if fmt == "utc" else fmt
        return _strftime(s + shift, v, f)

    out = render(base, None)
    others = [f for f in _TS_OTHER if f != base]
    u = rng.random(secs.size)
    step = rate / len(others)
    for k, fmt in enumerate(others):
        mask = (u >= k * step) & (u < (k + 1) * step)
        if mask.any():
            out = pc.replace_with_mask(out, pa.array(mask), render(fmt, np.flatnonzero(mask)))
    return out


def _format_bool(values: pa.ChunkedArray | pa.Array, rng: np.random.Generator) -> pa.Array:
    """Booleans in every spelling of the contract: true/false for most rows."""
    v = pa.chunked_array([values]) if isinstance(values, pa.Array) else values
    b = pc.fill_null(v, False).to_numpy(zero_copy_only=False).astype(bool)
    valid = pc.is_valid(v).to_numpy(zero_copy_only=False)
    p_other = DIRT_RATES["any.bool_spelling"] / (len(_BOOL_SPELLINGS) - 1)
    spelling = rng.choice(len(_BOOL_SPELLINGS), size=b.size, p=[1 - 4 * p_other] + [p_other] * 4)
    words = pa.array([w for pair in _BOOL_SPELLINGS for w in pair])
    return pc.take(words, pa.array(spelling * 2 + (~b), mask=~valid))


def _pick(
    rng: np.random.Generator, n: int, rate: float, exclude: np.ndarray | None = None, at_least: int = 1
) -> np.ndarray:
    """Sorted distinct row positions, about ``rate`` of ``n`` (at least ``at_least``)."""
    pool = np.arange(n) if exclude is None else np.flatnonzero(~exclude)
    k = min(pool.size, max(at_least, int(round(rate * n))))
    return np.sort(rng.choice(pool, size=k, replace=False))


def _orphan_ids(vids: list[str], rng: np.random.Generator) -> list[str]:
    """Visit ids in the house format that match no visit (sequence 9xxxx of the day)."""
    return [f"{v[:-5]}9{d:04d}" for v, d in zip(vids, rng.integers(0, 10_000, len(vids)))]


def _str_col(arr) -> pa.Array:
    return _arr(pc.cast(arr, pa.string()))


def _arr(x: pa.Array | pa.ChunkedArray) -> pa.Array:
    return x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x


def _id_number(rng: np.random.Generator) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    region = rng.choice(["310101", "110105", "440106", "330106", "510107", "440305"])
    birth = date(1960, 1, 1) + timedelta(days=int(rng.integers(0, 16000)))
    body = f"{region}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def _plate(rng: np.random.Generator) -> str:
    prov = rng.choice(_PROVINCES)
    letter = "ABCDEFGH"[int(rng.integers(0, 8))]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return f"{prov}{letter}·{int(rng.integers(10000, 99999))}"
    if kind == 1:
        return f"{prov}{letter}{'DF'[int(rng.integers(0, 2))]}{int(rng.integers(10000, 99999))}"
    return f"{prov}{letter}{int(rng.integers(10000, 99999))}"


def _dirty(tables: dict[str, pa.Table], seed: int) -> tuple[dict[str, pa.Table], dict]:
    """Raw-looking string tables with every kind of dirt, plus facts the writer needs."""
    rng = np.random.default_rng([seed, 7919])
    out: dict[str, pa.Table] = {}
    truth = tables.get("truth")
    example = ""
    if truth is not None:
        ex = pc.filter(truth["visit_id"], truth["is_example"]).to_pylist()
        example = ex[0] if ex else ""

    # centers: as written, dates ISO
    c = tables["centers"]
    out["centers"] = pa.table({col: _str_col(c[col]) for col in c.column_names})
    center_rows = c.to_pylist()

    out["visits"], visit_month, bad_visits = _dirty_visits(tables["visits"], center_rows, example, rng)
    out["touchpoints"] = _dirty_touchpoints(tables["touchpoints"], rng)
    out["surveys"] = _dirty_surveys(tables["surveys"], example, bad_visits, rng)
    out["complaints"] = _dirty_complaints(tables["complaints"], seed, rng)
    return out, {"visit_month": visit_month, "example_visit_id": example}


def _dirty_visits(
    v: pa.Table, center_rows: list[dict[str, Any]], example: str, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray, set[str]]:
    """The visits as an export writes them: internal records, impossible times, center and scenario
    spellings, formatted timestamps and booleans, duplicate rows (never on the example visit).
    Returns the table, the month of each of its rows, and the ids of the visits made invalid."""
    nv = v.num_rows
    vid = v["visit_id"].to_numpy(zero_copy_only=False).astype(object)
    protect = vid == example
    secs = {col: _seconds(v[col]) for col in _TS_COLUMNS["visits"]}
    internal = _pick(rng, nv, DIRT_RATES["visits.internal_record"], protect)
    taken = protect.copy()
    taken[internal] = True
    impossible = _pick(rng, nv, DIRT_RATES["visits.impossible_order"], taken)
    taken[impossible] = True
    arr_s = secs["arrived_at"][0]
    deliv = secs["delivered_at"][0].copy()
    deliv[impossible] = arr_s[impossible] - rng.integers(30, 180, impossible.size) * 60
    secs["delivered_at"] = (deliv, secs["delivered_at"][1])
    cust = v["customer_id"].to_numpy(zero_copy_only=False).astype(object)
    cust[internal] = [f"{'TEST' if rng.random() < 0.5 else 'STAFF'}{int(rng.integers(1, 9999)):04d}" for _ in internal]
    center = v["center"].to_numpy(zero_copy_only=False).astype(object)
    variants = {}
    for row in center_rows:
        cid = row["center_id"]
        short, low, en_short = row["aliases"].split(";")
        variants[cid] = [
            row["name_zh"],
            short,
            low,
            en_short,
            f" {cid}",
            f"{cid} ",
            f"  {short} ",
            f"{low} ",
            en_short.upper(),
            en_short.lower(),
            f"{row['name_zh']} ",
            cid.lower().replace("-", "-"),
        ]
    cv = _pick(rng, nv, DIRT_RATES["visits.center_variant"])
    center[cv] = [variants[center[i]][int(rng.integers(0, len(variants[center[i]])))] for i in cv]
    scen = v["scenario"].to_numpy(zero_copy_only=False).astype(object)
    scen_words = {s.code: [s.zh, s.code.capitalize(), f" {s.code} ", s.code.upper()] for s in catalog.SCENARIOS}
    sv_ = _pick(rng, nv, DIRT_RATES["visits.scenario_variant"])
    scen[sv_] = [scen_words[scen[i]][int(rng.integers(0, 4))] for i in sv_]
    visits = pa.table(
        {
            "visit_id": v["visit_id"],
            "customer_id": pa.array(cust, type=pa.string()),
            "center": pa.array(center, type=pa.string()),
            "scenario": pa.array(scen, type=pa.string()),
            "vehicle_model": v["vehicle_model"],
            **{col: _format_ts(*secs[col], _TS_BASE["visits"], rng) for col in _TS_COLUMNS["visits"]},
            "warranty": _format_bool(v["warranty"], rng),
            "amount_cny": _str_col(v["amount_cny"]),
        }
    )
    dups = _pick(rng, nv, DIRT_RATES["visits.duplicate_row"], taken)
    visit_month = pc.strftime(pa.array(arr_s + _OFFSET).cast(pa.timestamp("s")), format="%Y-%m")
    visit_month = visit_month.to_numpy(zero_copy_only=False).astype(object)
    bad_visits = set(vid[internal]) | set(vid[impossible])
    return (
        pa.concat_tables([visits, visits.take(pa.array(dups))]),
        np.concatenate([visit_month, visit_month[dups]]),
        bad_visits,
    )


def _dirty_touchpoints(t: pa.Table, rng: np.random.Generator) -> pa.Table:
    """The touchpoint log with Chinese names and channels, unknown codes and orphan events, in time order."""
    ne = t.num_rows
    ts_s, ts_v = _seconds(t["ts"])
    code_idx = pc.index_in(_arr(t["touchpoint"]), value_set=pa.array(list(catalog.TOUCHPOINT_CODES)))
    zh_names = pa.array([tp.zh for tp in TOUCHPOINTS])
    tp_col = _str_col(t["touchpoint"])
    zh_mask = rng.random(ne) < DIRT_RATES["touchpoints.chinese_name"]
    tp_col = pc.replace_with_mask(tp_col, pa.array(zh_mask), pc.take(zh_names, pc.filter(code_idx, pa.array(zh_mask))))
    ch_col = _str_col(t["channel"])
    ch_mask = rng.random(ne) < DIRT_RATES["touchpoints.channel_chinese"]
    ch_zh = _arr(
        pc.if_else(
            pc.equal(pc.filter(ch_col, pa.array(ch_mask)), "online"),
            catalog.label("online", lang="zh"),
            catalog.label("offline", lang="zh"),
        )
    )
    ch_col = pc.replace_with_mask(ch_col, pa.array(ch_mask), ch_zh)
    events = pa.table(
        {
            "visit_id": t["visit_id"],
            "ts": _format_ts(ts_s, ts_v, _TS_BASE["touchpoints"], rng),
            "touchpoint": tp_col,
            "channel": ch_col,
            "photo": _format_bool(t["photo"], rng),
        }
    )
    unk = _pick(rng, ne, DIRT_RATES["touchpoints.unknown_code"])
    unk_rows = events.take(pa.array(unk))
    unk_rows = unk_rows.set_column(
        2,
        "touchpoint",
        pa.array(
            [_UNKNOWN_TOUCHPOINTS[i] for i in rng.integers(0, len(_UNKNOWN_TOUCHPOINTS), unk.size)], type=pa.string()
        ),
    )
    orph = _pick(rng, ne, DIRT_RATES["touchpoints.orphan"])
    orph_rows = events.take(pa.array(orph))
    orph_rows = orph_rows.set_column(
        0, "visit_id", pa.array(_orphan_ids(orph_rows["visit_id"].to_pylist(), rng), type=pa.string())
    )
    all_ts = np.concatenate([ts_s, ts_s[unk], ts_s[orph]])
    ev_all = pa.concat_tables([events, unk_rows, orph_rows])
    return ev_all.take(pa.array(np.argsort(all_ts, kind="stable")))


def _dirty_surveys(s: pa.Table, example: str, bad_visits: set[str], rng: np.random.Generator) -> pa.Table:
    """The surveys with LTR as text or out of range, scores out of range, personal data in comments,
    the HTML-escaping probe on the latest response, resubmissions and orphans, in time order (the
    example visit's response and those of invalid visits are left clean)."""
    ns = s.num_rows
    s_vid = s["visit_id"].to_numpy(zero_copy_only=False).astype(object)
    sub_s, sub_v = _seconds(s["submitted_at"])
    s_protect = (s_vid == example) | pc.is_in(
        _arr(s["visit_id"]), value_set=pa.array(sorted(bad_visits), type=pa.string())
    ).to_numpy(zero_copy_only=False)
    # the HTML-escaping probe goes on the latest submission, so that a report listing the
    # latest comments shows it
    candidates = np.flatnonzero(~s_protect & sub_v)
    script_row = int(candidates[np.argmax(sub_s[candidates])])
    s_protect[script_row] = True
    s_protect |= s_vid == example
    ltr = s["ltr"].to_numpy(zero_copy_only=False).astype(object)
    ltr_txt = np.array(
        [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(int(x)) for x in ltr], dtype=object
    )
    u = rng.random(ns)
    r_text, r_out, r_miss = (
        DIRT_RATES["surveys.ltr_text"],
        DIRT_RATES["surveys.ltr_out_of_range"],
        DIRT_RATES["surveys.ltr_missing"],
    )
    for i in np.flatnonzero((u < r_text) & (s_vid != example)):
        x = int(ltr[i])
        spelling = int(rng.integers(0, 3))
        ltr_txt[i] = f"{x}分" if spelling == 0 else (f" {x} " if spelling == 1 else _ZH_NUMERALS[x])
    out_mask = (u >= r_text) & (u < r_text + r_out) & (s_vid != example)
    ltr_txt[out_mask] = rng.choice(["11", "-1"], size=int(out_mask.sum()))
    ltr_txt[(u >= r_text + r_out) & (u < r_text + r_out + r_miss) & (s_vid != example)] = None
    cols: dict[str, pa.Array] = {
        "response_id": s["response_id"],
        "visit_id": s["visit_id"],
        "submitted_at": None,
        "ltr": pa.array(ltr_txt, type=pa.string()),
    }
    for col in catalog.SCORE_COLUMNS:
        sc = _str_col(s[col])
        m = (rng.random(ns) < DIRT_RATES["surveys.score_out_of_range"]) & (s_vid != example)
        sc = pc.replace_with_mask(
            sc,
            pa.array(m),
            pa.array([str(_SCORE_OUT[i]) for i in rng.integers(0, len(_SCORE_OUT), int(m.sum()))], type=pa.string()),
        )
        cols[col] = sc
    cols["anxiety"] = _str_col(s["anxiety"])
    comment = s["comment"].to_numpy(zero_copy_only=False).astype(object)
    for kind, rate in (
        ("mobile", DIRT_RATES["surveys.pii_mobile"]),
        ("id", DIRT_RATES["surveys.pii_id_number"]),
        ("plate", DIRT_RATES["surveys.pii_plate"]),
    ):
        for i in _pick(rng, ns, rate, s_protect):
            if kind == "mobile":
                pii = f"有问题请打我电话1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"
            elif kind == "id":
                pii = f"发票抬头用身份证{_id_number(rng)}"
            else:
                pii = f"车牌{_plate(rng)}"
            base = comment[i] if isinstance(comment[i], str) else ""
            comment[i] = f"{base}，{pii}" if base else pii
    comment[script_row] = SCRIPT_COMMENT
    cols["comment"] = pa.array(comment, type=pa.string())
    cols["submitted_at"] = _format_ts(sub_s, sub_v, _TS_BASE["surveys"], rng)
    surveys = pa.table(cols)
    # resubmissions: an earlier response for the same visit, with a slightly different answer
    resub = _pick(rng, ns, DIRT_RATES["surveys.resubmission"], s_protect)
    early = surveys.take(pa.array(resub))
    early_s = sub_s[resub] - rng.integers(20, 30 * 60, resub.size) * 60
    old_ltr = [None if x is None else str(int(np.clip(int(x) + rng.integers(-2, 3), 0, 10))) for x in ltr[resub]]
    early = early.set_column(0, "response_id", pa.array([f"R2{i:07d}" for i in range(1, resub.size + 1)]))
    early = early.set_column(
        2, "submitted_at", _format_ts(early_s, np.ones(resub.size, bool), _TS_BASE["surveys"], rng)
    )
    early = early.set_column(3, "ltr", pa.array(old_ltr, type=pa.string()))
    orph = _pick(rng, ns, DIRT_RATES["surveys.orphan"], s_protect)
    orph_rows = surveys.take(pa.array(orph))
    orph_rows = orph_rows.set_column(0, "response_id", pa.array([f"R3{i:07d}" for i in range(1, orph.size + 1)]))
    orph_rows = orph_rows.set_column(1, "visit_id", pa.array(_orphan_ids(orph_rows["visit_id"].to_pylist(), rng)))
    all_s = np.concatenate([sub_s, early_s, sub_s[orph]])
    return pa.concat_tables([surveys, early, orph_rows]).take(pa.array(np.argsort(all_s, kind="stable")))


def _dirty_complaints(cpl: pa.Table, seed: int, rng: np.random.Generator) -> pa.Table:
    """The complaints with Chinese channel names, personal data in some texts (from a generator of
    their own) and orphans, in time order."""
    nc = cpl.num_rows
    f_s, f_v = _seconds(cpl["filed_at"])
    chan = cpl["channel"].to_numpy(zero_copy_only=False).astype(object)
    zh_chan = {ch.code: ch.zh for ch in catalog.COMPLAINT_CHANNELS}
    cm = _pick(rng, nc, 0.02) if nc else np.array([], dtype=int)
    chan[cm] = [zh_chan[chan[i]] for i in cm]
    # personal data in some complaint texts (a phone number to call back), from a generator of its own
    text = cpl["text"].to_numpy(zero_copy_only=False).astype(object)
    prng = np.random.default_rng([seed, 18])
    for i in np.flatnonzero(prng.random(nc) < DIRT_RATES["complaints.pii_mobile"]):
        text[i] = f"{text[i]}，回电1{int(prng.integers(3, 10))}{int(prng.integers(0, 10**9)):09d}"
    complaints = pa.table(
        {
            "complaint_id": cpl["complaint_id"],
            "visit_id": cpl["visit_id"],
            "filed_at": _format_ts(f_s, f_v, _TS_BASE["complaints"], rng),
            "channel": pa.array(chan, type=pa.string()),
            "category": cpl["category"],
            "text": pa.array(text, type=pa.string()),
        }
    )
    orph = _pick(rng, nc, DIRT_RATES["complaints.orphan"]) if nc else np.array([], dtype=int)
    orph_rows = complaints.take(pa.array(orph, type=pa.int64()))
    orph_rows = orph_rows.set_column(
        0, "complaint_id", pa.array([f"CP2{i:07d}" for i in range(1, orph.size + 1)], type=pa.string())
    )
    orph_rows = orph_rows.set_column(
        1, "visit_id", pa.array(_orphan_ids(orph_rows["visit_id"].to_pylist(), rng), type=pa.string())
    )
    all_f = np.concatenate([f_s, f_s[orph]])
    return pa.concat_tables([complaints, orph_rows]).take(pa.array(np.argsort(all_f, kind="stable")))


def add_dirt(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """The raw tables as an export would deliver them: every value text, every kind of dirt injected.

    Takes the output of :func:`generate`; returns the five raw tables (canonical headers,
    all columns strings, missing values as NA). Rates: :data:`DIRT_RATES`.

    >>> raw = add_dirt(generate(1000, seed=3), seed=3)
    >>> int(raw["surveys"]["comment"].str.contains("<script>", regex=False).sum())
    1
    """
    arrow = {}
    for name, df in tables.items():
        tbl = pa.Table.from_pandas(df, preserve_index=False)
        schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in tbl.schema])
        arrow[name] = tbl.cast(schema)
    if "centers" in arrow:
        arrow["centers"] = arrow["centers"].set_column(
            5, "realtime_since", pa.array(tables["centers"]["realtime_since"].tolist(), type=pa.date32())
        )
    dirty, _ = _dirty(arrow, seed)
    return {name: tbl.to_pandas() for name, tbl in dirty.items()}


# ---------------------------------------------------------------------------- writing
#: Chinese export headers of the sample's columns outside the contract's tables (the complaint text).
_EXTRA_ZH = {"complaints": {"text": "投诉内容"}}


def _zh_headers(tbl: pa.Table, name: str) -> pa.Table:
    zh = {c.name: c.zh for c in TABLES[name]} | _EXTRA_ZH.get(name, {})
    return tbl.rename_columns([zh[c] for c in tbl.column_names])


def _write_csv_text(path: Path, tbl: pa.Table, encoding: str) -> None:
    """A CSV as Excel would write it (minimal quoting) in ``encoding``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(tbl.column_names)
    cols = [col.to_pylist() for col in tbl.columns]
    w.writerows(zip(*cols))
    path.write_bytes(buf.getvalue().encode(encoding))


def _cell(x: str | None):
    if x is None:
        return None
    try:
        if x.strip() == x and x and (x[0].isdigit() or x[0] == "-"):
            f = float(x)
            return int(f) if f.is_integer() and "." not in x else f
    except ValueError:
        pass
    return x


def _write_xlsx(path: Path, tbl: pa.Table, sheet: str) -> None:
    """An XLSX workbook; numbers as numbers, text as text; fixed dates so the bytes are stable."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = _FIXED_XLSX_TIME
    wb.properties.modified = _FIXED_XLSX_TIME
    wb.properties.creator = "cxlib.synth"
    ws = wb.create_sheet(sheet)
    ws.append(tbl.column_names)
    cols = [col.to_pylist() for col in tbl.columns]
    for row in zip(*cols):
        ws.append([_cell(x) for x in row])
    raw = io.BytesIO()
    wb.save(raw)
    # re-pack with fixed member dates (zipfile stamps the current time)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the time of saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2026-01-01T00:00:00Z\g<2>", data)
            zout.writestr(fixed, data)
    path.write_bytes(out.getvalue())


def _clear_old(out_dir: Path) -> None:
    """Remove raw table files of an earlier sample (other files in the folder stay)."""
    for p in out_dir.iterdir():
        if (
            p.is_file()
            and p.suffix in catalog.RAW_EXTENSIONS
            and any(p.name.startswith(t) for t in catalog.TABLE_ORDER)
        ):
            p.unlink()
    (out_dir / "sample_manifest.json").unlink(missing_ok=True)


#: visits generated (and dirtied) at a time by :func:`write_sample` for the CSV layout
CHUNK_VISITS = 200_000
_ID_COLUMNS = {"visit_id": "WO", "response_id": "R", "complaint_id": "CP"}


def _chunks(n_visits: int, seed: int, start: str, months: int, effects: Effects):
    """The raw tables of ``n_visits`` in chunks of at most :data:`CHUNK_VISITS` visits: ``(raw
    tables, writer facts)`` per chunk. The first chunk is the data set of its own size and
    seed; each later one is an independent one (seed ``seed * 1000 + i``) whose ids carry the
    chunk number (``WO001…``, ``R001…``, ``CP001…``), so ids never repeat across chunks."""
    k = max(1, math.ceil(n_visits / CHUNK_VISITS))
    base, extra = divmod(n_visits, k)
    for i in range(k):
        n_i = base + (1 if i < extra else 0)
        seed_i = seed if i == 0 else seed * 1000 + i
        raw, meta = _dirty(_simulate(n_i, seed_i, start, months, effects), seed_i)
        if i > 0:
            for name in ("visits", "touchpoints", "surveys", "complaints"):
                tbl = raw[name]
                for col, prefix in _ID_COLUMNS.items():
                    if col in tbl.column_names:
                        j = tbl.column_names.index(col)
                        tbl = tbl.set_column(
                            j,
                            col,
                            pc.replace_substring_regex(tbl[col], pattern=f"^{prefix}", replacement=f"{prefix}{i:03d}"),
                        )
                raw[name] = tbl
        yield raw, meta


def write_sample(
    out_dir: Path,
    n_visits: int,
    seed: int,
    *,
    layout: Layout = "mixed",
    start: str = "2026-05-01",
    months: int = 6,
    effects: Effects | str = DEFAULT_EFFECTS,
) -> list[Path]:
    """Write a synthetic raw data set (all five tables, with dirt) and ``sample_manifest.json``.

    ``layout="mixed"``: the formats real exports come in (centers.xlsx and surveys.xlsx with
    Chinese headers, visits split by month into UTF-8-with-BOM / GB18030 / Chinese-header CSVs,
    touchpoints.parquet, complaints.csv in GB18030). ``layout="csv"``: one UTF-8 CSV per table
    with canonical headers. Earlier table files in ``out_dir`` are replaced; other files stay.
    ``effects`` is an :class:`Effects` or the name of one in :data:`EFFECT_SETS` (``"reversed"``:
    the data set whose effects are turned round); a data set made with other than the default
    effects says so in its manifest (``effects``: every field).

    >>> import tempfile
    >>> [p.name for p in write_sample(Path(tempfile.mkdtemp()), n_visits=200, seed=1, layout="csv")][:3]
    ['centers.csv', 'visits.csv', 'touchpoints.csv']
    >>> written = write_sample(Path(tempfile.mkdtemp()), n_visits=200, seed=1, effects="reversed")
    >>> json.loads(written[-1].read_text(encoding="utf-8"))["effects"]["name"]
    'reversed'
    """
    if layout not in ("mixed", "csv"):
        raise ValueError(f"layout must be 'mixed' or 'csv', got {layout!r}")
    if isinstance(effects, str):
        if effects not in EFFECT_SETS:
            raise ValueError(f"effects must be one of {', '.join(EFFECT_SETS)}, got {effects!r}")
        effects = EFFECT_SETS[effects]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_old(out_dir)
    paths: list[Path] = []
    if layout == "csv":
        # written in chunks of visits, so that any size is generated in bounded memory
        opts = pacsv.WriteOptions(include_header=True, batch_size=1 << 16)
        writers: dict[str, pacsv.CSVWriter] = {}
        try:
            for i, (raw, meta_i) in enumerate(_chunks(n_visits, seed, start, months, effects)):
                if i == 0:
                    meta = meta_i
                for name in catalog.TABLE_ORDER:
                    if name == "centers" and i > 0:
                        continue
                    if name not in writers:
                        writers[name] = pacsv.CSVWriter(out_dir / f"{name}.csv", raw[name].schema, write_options=opts)
                    writers[name].write_table(raw[name])
                del raw
        finally:
            for w in writers.values():
                w.close()
        paths.extend(out_dir / f"{name}.csv" for name in catalog.TABLE_ORDER)
    else:
        truth = _simulate(n_visits, seed, start, months, effects)
        raw, meta = _dirty(truth, seed)
        del truth
        p = out_dir / "centers.xlsx"
        _write_xlsx(p, _zh_headers(raw["centers"], "centers"), "门店")
        paths.append(p)
        months_ = meta["visit_month"]
        for i, month in enumerate(sorted(set(months_))):
            part = raw["visits"].filter(pa.array(months_ == month))
            p = out_dir / f"visits_{month}.csv"
            if i % 3 == 0:
                _write_csv_text(p, part, "utf-8-sig")
            elif i % 3 == 1:
                _write_csv_text(p, _zh_headers(part, "visits"), "gb18030")
            else:
                _write_csv_text(p, _zh_headers(part, "visits"), "utf-8")
            paths.append(p)
        p = out_dir / "touchpoints.parquet"
        pq.write_table(raw["touchpoints"], p, compression="zstd")
        paths.append(p)
        p = out_dir / "surveys.xlsx"
        _write_xlsx(p, _zh_headers(raw["surveys"], "surveys"), "问卷")
        paths.append(p)
        p = out_dir / "complaints.csv"
        _write_csv_text(p, _zh_headers(raw["complaints"], "complaints"), "gb18030")
        paths.append(p)
    manifest = {
        "n_visits": n_visits,
        "seed": seed,
        "layout": layout,
        "start": start,
        "months": months,
        "generated_by": "cxlib.synth",
        "example_visit_id": meta["example_visit_id"],
        "files": [p.name for p in paths],
        "true_effects": effects.summary(),
        "dirt_rates": DIRT_RATES,
    }
    if effects != DEFAULT_EFFECTS:
        manifest["effects"] = effects.as_dict()
    p = out_dir / "sample_manifest.json"
    p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths.append(p)
    return paths
