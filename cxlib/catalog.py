"""The domain catalog: the one source of truth for stages, touchpoints, survey score
points, transparency tiers, emotion bands, NPS groups, table schemas and bilingual labels.

Everything here is taken from the raw data contract (``docs/data-contract.md``). Other modules
import these constants; none of them spells a touchpoint code, a stage order or a label
of its own.

Example
-------
>>> from cxlib import catalog
>>> [s.code for s in catalog.STAGES][:3]
['awareness', 'consideration', 'booking']
>>> catalog.label("waiting", lang="both")
'等待 Waiting'
>>> catalog.emotion_band(2).code
'very_dissatisfied'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pandas is imported on first use: commands such as `cx report` start without it
    import pandas as pd

Lang = Literal["zh", "en", "both"]

DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Stage:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Touchpoint:
    """One kind of contact between the brand and the customer (the event log's ``touchpoint``).

    ``update`` says whether the touchpoint is a proactive progress update: ``"in_progress"``
    (sent while the car is in the workshop), ``"completion"`` (the ready notice), or ``None``.
    ``customer_inquiry`` is not an update: the customer had to ask.
    """

    code: str
    stage: str
    zh: str
    en: str
    channel: Literal["online", "offline"]
    update: Literal["in_progress", "completion"] | None = None


@dataclass(frozen=True)
class ScorePoint:
    """A journey point scored 1-10 in the post-visit survey (column ``score_<code>``)."""

    code: str
    stage: str
    zh: str
    en: str
    touchpoints: tuple[str, ...]

    @property
    def column(self) -> str:
        return f"score_{self.code}"


@dataclass(frozen=True)
class Band:
    code: str
    low: int
    high: int
    zh: str
    en: str


@dataclass(frozen=True)
class Column:
    """A column of a raw table: canonical name, Chinese export header, type, required?"""

    name: str
    zh: str
    kind: Literal["str", "int", "float", "bool", "timestamp", "date"]
    required: bool = True
    aliases: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Rule:
    """A data-quality rule of the cleaning step.

    ``action`` is what happens to a row the rule hits: ``repaired`` (kept, value fixed or
    blanked, the repair recorded) or ``quarantined`` (moved to the quarantine table).
    """

    code: str
    table: str
    action: Literal["repaired", "quarantined"]
    en: str
    zh: str


# --------------------------------------------------------------------------- journey
STAGES: tuple[Stage, ...] = (
    Stage("awareness", "意识", "Awareness"),
    Stage("consideration", "考虑", "Consideration"),
    Stage("booking", "预约", "Booking"),
    Stage("arrival", "到店", "Arrival"),
    Stage("waiting", "等待", "Waiting"),
    Stage("delivery", "交付", "Delivery"),
    Stage("after", "售后", "After-sales"),
)
STAGE_ORDER: tuple[str, ...] = tuple(s.code for s in STAGES)

TOUCHPOINTS: tuple[Touchpoint, ...] = (
    Touchpoint("reminder_push", "awareness", "App推送通知", "App reminder push", "online"),
    Touchpoint("reminder_sms", "awareness", "短信提醒", "SMS reminder", "online"),
    Touchpoint("package_view", "consideration", "查看保养套餐", "Package view", "online"),
    Touchpoint("center_compare", "consideration", "对比服务中心", "Center comparison", "online"),
    Touchpoint("booking_online", "booking", "在线预约", "Online booking", "online"),
    Touchpoint("booking_call", "booking", "客服电话", "Booking call", "offline"),
    Touchpoint("booking_confirm", "booking", "预约确认通知", "Booking confirmation", "online"),
    Touchpoint("parking", "arrival", "停车场指引", "Parking guidance", "offline"),
    Touchpoint("reception", "arrival", "前台接待", "Reception", "offline"),
    Touchpoint("advisor_talk", "arrival", "服务顾问沟通", "Advisor talk", "offline"),
    Touchpoint("lounge", "waiting", "休息区", "Lounge", "offline"),
    Touchpoint("progress_push", "waiting", "进度实时推送", "Real-time progress push", "online", "in_progress"),
    Touchpoint("advisor_update", "waiting", "服务顾问主动告知", "Advisor proactive update", "offline", "in_progress"),
    Touchpoint("ready_notice", "waiting", "完工通知", "Ready notice", "online", "completion"),
    Touchpoint("customer_inquiry", "waiting", "客户询问进度", "Customer inquiry", "offline"),
    Touchpoint("vehicle_check", "delivery", "车辆检查确认", "Vehicle check", "offline"),
    Touchpoint("payment", "delivery", "支付结算", "Payment", "online"),
    Touchpoint("service_report", "delivery", "保养报告", "Service report", "online"),
    Touchpoint("farewell", "delivery", "送别", "Farewell", "offline"),
    Touchpoint("survey", "after", "满意度调研", "Satisfaction survey", "online"),
    Touchpoint("follow_up_call", "after", "售后回访", "Follow-up call", "offline"),
    Touchpoint("next_reminder", "after", "下次保养提醒", "Next service reminder", "online"),
)
TOUCHPOINT_CODES: tuple[str, ...] = tuple(t.code for t in TOUCHPOINTS)
UPDATE_TOUCHPOINTS: tuple[str, ...] = tuple(t.code for t in TOUCHPOINTS if t.update)
IN_PROGRESS_UPDATES: tuple[str, ...] = tuple(t.code for t in TOUCHPOINTS if t.update == "in_progress")
COMPLETION_UPDATES: tuple[str, ...] = tuple(t.code for t in TOUCHPOINTS if t.update == "completion")
INQUIRY_TOUCHPOINT = "customer_inquiry"

SCORE_POINTS: tuple[ScorePoint, ...] = (
    ScorePoint("reminder", "awareness", "提醒", "Reminder", ("reminder_push", "reminder_sms")),
    ScorePoint("booking", "booking", "预约", "Booking", ("booking_online", "booking_call", "booking_confirm")),
    ScorePoint("arrival", "arrival", "到店", "Arrival", ("parking",)),
    ScorePoint("reception", "arrival", "接待", "Reception", ("reception", "advisor_talk")),
    ScorePoint("waiting", "waiting", "等待", "Waiting", ("lounge", "customer_inquiry")),
    ScorePoint("notification", "waiting", "通知", "Notification", ("progress_push", "advisor_update", "ready_notice")),
    ScorePoint("handover", "delivery", "交车", "Handover", ("vehicle_check", "service_report")),
    ScorePoint("payment", "delivery", "支付", "Payment", ("payment",)),
    ScorePoint("departure", "delivery", "离店", "Departure", ("farewell",)),
)
SCORE_POINT_ORDER: tuple[str, ...] = tuple(p.code for p in SCORE_POINTS)
SCORE_COLUMNS: tuple[str, ...] = tuple(p.column for p in SCORE_POINTS)

# ------------------------------------------------------------------- segments / codes
TIERS: tuple[Stage, ...] = (
    Stage("none", "无更新", "No update"),
    Stage("completion_only", "仅完成时通知", "Completion notice only"),
    Stage("realtime", "实时更新", "Real-time updates"),
    Stage("realtime_photo", "实时更新+照片", "Real-time with photos"),
)
TIER_ORDER: tuple[str, ...] = tuple(t.code for t in TIERS)

SCENARIOS: tuple[Stage, ...] = (
    Stage("maintenance", "保养", "Maintenance"),
    Stage("repair", "维修", "Repair"),
    Stage("accident", "事故维修", "Accident repair"),
)
SCENARIO_ORDER: tuple[str, ...] = tuple(s.code for s in SCENARIOS)

CHANNELS: tuple[Stage, ...] = (
    Stage("online", "线上", "Online"),
    Stage("offline", "线下", "Offline"),
)

COMPLAINT_CHANNELS: tuple[Stage, ...] = (
    Stage("hotline", "热线", "Hotline"),
    Stage("app", "App", "App"),
    Stage("social", "社交媒体", "Social media"),
    Stage("review_site", "点评网站", "Review site"),
)
#: Other spellings of complaint channels seen in exports, mapped to their codes.
COMPLAINT_CHANNEL_ALIASES: dict[str, str] = {"热线电话": "hotline", "社交": "social", "点评": "review_site"}

EMOTION_BANDS: tuple[Band, ...] = (
    Band("very_dissatisfied", 1, 3, "非常不满", "Very dissatisfied"),
    Band("dissatisfied", 4, 5, "不满", "Dissatisfied"),
    Band("neutral", 6, 7, "一般", "Neutral"),
    Band("satisfied", 8, 9, "满意", "Satisfied"),
    Band("delighted", 10, 10, "惊喜", "Delighted"),
)
SCORE_MIN, SCORE_MAX = 1, 10

NPS_GROUPS: tuple[Band, ...] = (
    Band("detractor", 0, 6, "贬损者", "Detractor"),
    Band("passive", 7, 8, "中立者", "Passive"),
    Band("promoter", 9, 10, "推荐者", "Promoter"),
)
LTR_MIN, LTR_MAX = 0, 10

TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y", "是", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n", "否", "0.0"})

# -------------------------------------------------------------------- raw table schemas
TABLES: dict[str, tuple[Column, ...]] = {
    "centers": (
        Column("center_id", "门店编号", "str"),
        Column("name_zh", "门店名称", "str"),
        Column("name_en", "英文名称", "str", required=False),
        Column("city", "城市", "str"),
        Column("aliases", "别名", "str", required=False),
        Column("realtime_since", "实时进度上线日期", "date", required=False),
    ),
    "visits": (
        Column("visit_id", "工单号", "str"),
        Column("customer_id", "客户编号", "str"),
        Column("center", "服务中心", "str"),
        Column("scenario", "服务类型", "str"),
        Column("vehicle_model", "车型", "str", required=False),
        Column("booked_at", "预约时间", "timestamp", required=False),
        Column("arrived_at", "到店时间", "timestamp"),
        Column("started_at", "开工时间", "timestamp", required=False),
        Column("finished_at", "完工时间", "timestamp", required=False),
        Column("delivered_at", "交车时间", "timestamp"),
        Column("warranty", "是否保修", "bool", required=False),
        Column("amount_cny", "结算金额", "float", required=False),
    ),
    "touchpoints": (
        Column("visit_id", "工单号", "str"),
        Column("ts", "时间", "timestamp"),
        Column("touchpoint", "触点", "str"),
        Column("channel", "渠道", "str", required=False),
        Column("photo", "含照片", "bool", required=False),
    ),
    "surveys": (
        Column("response_id", "问卷编号", "str"),
        Column("visit_id", "工单号", "str"),
        Column("submitted_at", "提交时间", "timestamp"),
        Column("ltr", "推荐意愿", "int"),
        *(Column(p.column, f"{p.zh}评分", "int", required=False) for p in SCORE_POINTS),
        Column("anxiety", "焦虑值", "float", required=False),
        Column("comment", "评价内容", "str", required=False),
    ),
    "complaints": (
        Column("complaint_id", "投诉编号", "str"),
        Column("visit_id", "工单号", "str"),
        Column("filed_at", "投诉时间", "timestamp"),
        Column("channel", "投诉渠道", "str", required=False),
        Column("category", "投诉类别", "str", required=False),
    ),
}
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
RAW_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx", ".xls", ".parquet")
#: Headers seen in real exports that resemble a contract column. They are never mapped on their
#: own (the same word means different things in different systems): ``cx check`` suggests them
#: as mapping lines for sources.yaml.
HEADER_HINTS: dict[str, dict[str, str]] = {
    "centers": {
        "门店代码": "center_id",
        "网点编号": "center_id",
        "门店": "name_zh",
        "网点名称": "name_zh",
        "所在城市": "city",
        "city name": "city",
    },
    "visits": {
        "门店": "center",
        "网点": "center",
        "经销商": "center",
        "服务站": "center",
        "dealer": "center",
        "业务类型": "scenario",
        "维修类型": "scenario",
        "工单类型": "scenario",
        "service type": "scenario",
        "进厂时间": "arrived_at",
        "入厂时间": "arrived_at",
        "接车时间": "arrived_at",
        "check-in": "arrived_at",
        "出厂时间": "delivered_at",
        "交付时间": "delivered_at",
        "取车时间": "delivered_at",
        "check-out": "delivered_at",
        "派工时间": "started_at",
        "竣工时间": "finished_at",
        "车主编号": "customer_id",
        "客户id": "customer_id",
        "会员号": "customer_id",
        "customer": "customer_id",
        "委托书号": "visit_id",
        "维修单号": "visit_id",
        "order no": "visit_id",
        "ro number": "visit_id",
        "结算金额": "amount_cny",
        "实收金额": "amount_cny",
        "金额": "amount_cny",
        "三包": "warranty",
    },
    "touchpoints": {"事件时间": "ts", "发生时间": "ts", "事件": "touchpoint", "event": "touchpoint", "timestamp": "ts"},
    "surveys": {
        "序号": "response_id",
        "答卷编号": "response_id",
        "responseid": "response_id",
        "提交答卷时间": "submitted_at",
        "recordeddate": "submitted_at",
        "enddate": "submitted_at",
        "推荐": "ltr",
        "nps": "ltr",
        "recommend": "ltr",
        "您的工单号": "visit_id",
    },
    "complaints": {
        "工单编号": "complaint_id",
        "投诉单号": "complaint_id",
        "来电时间": "filed_at",
        "受理时间": "filed_at",
        "关联工单": "visit_id",
        "维修单号": "visit_id",
        "来源渠道": "channel",
        "问题分类": "category",
        "投诉类型": "category",
    },
}
#: Columns the cleaning step adds to a processed table: an extra raw column never takes one of these names.
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {
    "visits": (
        "month",
        "wait_minutes",
        "repair_minutes",
        "visit_minutes",
        "n_proactive_updates",
        "n_inprogress_updates",
        "has_photo_update",
        "tier",
        "longest_silence_minutes",
        "n_inquiries",
        "realtime_live",
        "response_id",
        "ltr",
        "nps_group",
        "anxiety",
        "n_complaints",
        "complained",
    ),
    "surveys": ("nps_group",),
    "touchpoints": ("stage", "is_update"),
}

# ------------------------------------------------------------------ importance-performance quadrants
#: Quadrants of the importance-performance chart of the key-driver analysis.
QUADRANTS: tuple[Stage, ...] = (
    Stage("concentrate", "重点改进", "Concentrate here"),
    Stage("keep_up", "继续保持", "Keep up the good work"),
    Stage("low_priority", "次要改进", "Low priority"),
    Stage("overkill", "可能过度投入", "Possible overkill"),
)


# ------------------------------------------------------------------ moments of truth
@dataclass(frozen=True)
class Moment:
    """A moment of truth and the survey score point that measures it.

    ``proxy`` is True when the survey has no point dedicated to the moment and ``point``
    stands in for it (``note`` says why).
    """

    code: str
    zh: str
    en: str
    point: str
    proxy: bool
    note: str
    note_zh: str = ""


#: The eight moments of truth of an after-sales visit, mapped to the survey score points above.
MOMENTS: tuple[Moment, ...] = (
    Moment(
        "first_call",
        "首次联系",
        "First call",
        "booking",
        True,
        "no dedicated point: 'booking' covers the booking call, online booking and confirmation",
        "问卷没有专门的题目：“预约”涵盖预约电话、线上预约与确认",
    ),
    Moment(
        "parking",
        "停车",
        "Parking",
        "arrival",
        False,
        "'arrival' is scored on the parking guidance touchpoint",
        "“到店”按停车引导触点打分",
    ),
    Moment(
        "reception_wait",
        "接待等候",
        "Reception wait",
        "reception",
        True,
        "no dedicated point: 'reception' covers reception and the advisor talk",
        "问卷没有专门的题目：“前台接待”涵盖接待与顾问沟通",
    ),
    Moment(
        "advisor_talk",
        "顾问沟通",
        "Advisor talk",
        "reception",
        True,
        "no dedicated point: shares 'reception' with the reception wait",
        "问卷没有专门的题目：与接待等候共用“前台接待”",
    ),
    Moment(
        "quote",
        "报价",
        "Quote",
        "payment",
        True,
        "no dedicated point: the price is felt at 'payment' (settlement)",
        "问卷没有专门的题目：价格在“支付结算”时被感知",
    ),
    Moment(
        "care_while_waiting",
        "等待关怀",
        "Care while waiting",
        "waiting",
        False,
        "'waiting' covers the lounge and having to ask for progress",
        "“等待”涵盖休息区以及需要自己询问进度",
    ),
    Moment(
        "pick_up",
        "取车",
        "Pick-up",
        "handover",
        False,
        "'handover' covers the vehicle check and the service report",
        "“交车”涵盖验车与服务报告",
    ),
    Moment(
        "follow_up",
        "售后回访",
        "Follow-up",
        "departure",
        True,
        "no after-sales point in the survey: 'departure', the last scored moment, is a weak proxy",
        "问卷没有售后回访题目：最后一个打分时刻“离店”只是较弱的替代",
    ),
)


# ------------------------------------------------------------------ table columns: labels and units
#: How a column's numbers are written (see :func:`cxlib.present.table`): ``count`` whole numbers
#: with thousands separators; ``score`` a 1-10 mean (2 decimals); ``ltr`` a 0-10 mean; ``anxiety``
#: 0-100 (1 decimal); ``share`` a 0-1 share shown in % (1 decimal); ``pct`` a value already in %;
#: ``nps`` -100..100 (whole points); ``nps_share`` -1..1; ``money`` 元, or 万元 when a column reaches
#: 10,000; ``minutes``; ``ratio`` (2 decimals); ``coef`` (3 decimals); ``stat`` a test statistic (2 decimals); ``p`` a p-value; ``r2``;
#: ``number`` (4 significant digits); ``int``; ``bool``; ``category`` (values labelled by
#: :func:`value_label`); ``text``.
ColumnKind = Literal[
    "count",
    "score",
    "ltr",
    "anxiety",
    "share",
    "pct",
    "nps",
    "nps_share",
    "money",
    "minutes",
    "ratio",
    "coef",
    "stat",
    "p",
    "r2",
    "number",
    "int",
    "bool",
    "category",
    "text",
]


@dataclass(frozen=True)
class ColumnLabel:
    """How a column of a result table is headed and written: Chinese and English label, the unit
    (Chinese, English; said once, in the header) and the :data:`ColumnKind` of its numbers."""

    zh: str
    en: str
    kind: ColumnKind = "text"
    unit: tuple[str, str] | None = None


def _c(zh: str, en: str, kind: ColumnKind = "text", unit: tuple[str, str] | str | None = None) -> ColumnLabel:
    return ColumnLabel(zh, en, kind, (unit, unit) if isinstance(unit, str) else unit)


_PCT, _MIN, _SCORE, _LTR, _ANX = "%", ("分钟", "min"), "1–10", "0–10", "0–100"
#: The one registry of column labels and units of every table a notebook shows (column name → label).
COLUMN_LABELS: dict[str, ColumnLabel] = {
    # counts and segments
    "n": _c("样本量", "n", "count"),
    "n_visits": _c("工单数", "Visits", "count"),
    "n_responses": _c("有效问卷数", "Responses", "count"),
    "n_clusters": _c("门店数", "Centers", "count"),
    "n_bad": _c("差评数", "Bad scores", "count"),
    "rows": _c("行数", "Rows", "count"),
    "read": _c("读入", "Read", "count"),
    "kept": _c("保留", "Kept", "count"),
    "repaired": _c("已修复", "Repaired", "count"),
    "quarantined": _c("已隔离", "Quarantined", "count"),
    "visits_before": _c("上线前工单数", "Visits before", "count"),
    "visits_after": _c("上线后工单数", "Visits after", "count"),
    "order": _c("序号", "#", "int"),
    "rank": _c("排名", "Rank", "int"),
    "center": _c("服务中心", "Service center", "category"),
    "month": _c("月份", "Month", "category"),
    "scenario": _c("服务类型", "Scenario", "category"),
    "tier": _c("透明度等级", "Transparency tier", "category"),
    "stage": _c("阶段", "Stage", "category"),
    "point": _c("旅程触点", "Journey point", "category"),
    "predictor": _c("旅程触点", "Journey point", "category"),
    "from_point": _c("从", "From", "category"),
    "to_point": _c("到", "To", "category"),
    "band": _c("情绪区间", "Emotion band", "category"),
    "nps_group": _c("NPS 分组", "NPS group", "category"),
    "moment": _c("关键时刻", "Moment of truth", "category"),
    "quadrant": _c("象限", "Quadrant", "category"),
    "silence_bin": _c("最长无更新时长", "Longest silence", "category", _MIN),
    "updates": _c("主动更新次数", "Proactive updates", "category"),
    "vehicle_model": _c("车型", "Vehicle model", "category"),
    "channel": _c("渠道", "Channel", "category"),
    "level": _c("体验", "Experience", "category"),
    "model": _c("模型", "Model", "category"),
    "outcome": _c("结果变量", "Outcome", "category"),
    "estimate_type": _c("估计方式", "Estimate", "category"),
    "effect": _c("效应", "Effect", "category"),
    "measure": _c("指标", "Measure", "category"),
    "figure": _c("指标", "Figure", "text"),
    "value": _c("数值", "Value", "number"),
    "term": _c("变量", "Term", "category"),
    "scale": _c("尺度", "Scale", "category"),
    "interval": _c("区间方法", "Interval", "category"),
    "estimator": _c("估计方法", "Estimator", "category"),
    "mbar": _c("M̄（切换后每月偏离变化 ÷ 切换前最大偏离）", "M̄ (change of departure after ÷ largest before)", "stat"),
    "bias_bound": _c("偏差上限", "Bias bound", "coef"),
    "estimate_low": _c("估计下界", "Estimate, low bound", "coef"),
    "estimate_high": _c("估计上界", "Estimate, high bound", "coef"),
    "excludes_zero": _c("区间不含 0", "Interval excludes 0", "bool"),
    "rel_period": _c("距上线月数", "Months since the switch", "int"),
    "n_assignments": _c("分配方案数", "Assignments", "count"),
    "enumerated": _c("全部穷举", "All enumerated", "bool"),
    "note": _c("说明", "Note", "text"),
    "table": _c("数据表", "Table", "category"),
    "rule": _c("规则", "Rule", "category"),
    "action": _c("处理", "Action", "category"),
    "description": _c("说明", "Description", "text"),
    "given": _c("是否提供", "Given", "category"),
    "files": _c("文件", "Files", "text"),
    "extra_columns": _c("附加字段", "Extra columns", "text"),
    "source_file": _c("来源文件", "Source file", "text"),
    "source_row": _c("行号", "Row", "int"),
    "reason": _c("原因", "Reason", "text"),
    "raw": _c("原始内容", "Raw row", "text"),
    "response_id": _c("问卷编号", "Response", "text"),
    "visit_id": _c("工单号", "Visit", "text"),
    "submitted_at": _c("提交时间", "Submitted", "text"),
    "comment": _c("评价内容", "Comment", "text"),
    "sample_comments": _c("客户原声", "Sample comments", "text"),
    "realtime_since": _c("实时更新上线日期", "Real-time since", "text"),
    "zh": _c("中文", "Chinese", "text"),
    "en": _c("英文", "English", "text"),
    "proxy": _c("替代指标", "Proxy", "bool"),
    "name": _c("假设", "Assumption", "category"),
    "provenance": _c("来源", "Provenance", "text"),
    "case": _c("方案", "Case", "text"),
    "source": _c("来源", "Source", "text"),
    # scores, LTR, anxiety
    "mean": _c("平均分", "Mean score", "score", _SCORE),
    "sd": _c("标准差", "SD", "score"),
    "from_mean": _c("起点平均分", "From mean", "score", _SCORE),
    "to_mean": _c("终点平均分", "To mean", "score", _SCORE),
    "drop": _c("落差", "Drop", "score", ("分", "points")),
    "gap": _c("距目标差距", "Gap to target", "score", ("分", "points")),
    "performance": _c("表现", "Performance", "score", _SCORE),
    "worst": _c("最低点", "Worst point", "score", _SCORE),
    "best": _c("最高点", "Best point", "score", _SCORE),
    "last": _c("最后一点", "Last point", "score", _SCORE),
    "peak_end": _c("峰终均值", "Peak-end mean", "score", _SCORE),
    "time_weighted_mean": _c("按时长加权均值", "Time-weighted mean", "score", _SCORE),
    "log_visit_minutes": _c("到店时长（对数）", "Log visit duration", "coef"),
    "per_doubling": _c("时长翻倍的推荐意愿变化", "LTR change per doubling", "coef", ("分", "points")),
    "r2_cv_gain": _c("加入时长的 R² 增量", "R² gain from duration", "r2"),
    "neglected": _c("时长被忽视", "Duration neglected", "bool"),
    "ltr": _c("推荐意愿", "LTR", "int", _LTR),
    "ltr_mean": _c("平均推荐意愿", "Mean LTR", "ltr", _LTR),
    "anxiety_mean": _c("平均焦虑值", "Mean anxiety", "anxiety", _ANX),
    "anxiety": _c("焦虑值", "Anxiety", "anxiety", _ANX),
    "visit_minutes": _c("到店时长", "Visit duration", "minutes", _MIN),
    "repair_minutes": _c("维修时长", "Repair duration", "minutes", _MIN),
    "longest_silence_minutes": _c("最长无更新时长", "Longest silence", "minutes", _MIN),
    "mean_inquiries": _c("平均询问次数", "Inquiries per visit", "ratio"),
    # shares and NPS
    "promoters": _c("推荐者占比", "Promoters", "share", _PCT),
    "passives": _c("中立者占比", "Passives", "share", _PCT),
    "detractors": _c("贬损者占比", "Detractors", "share", _PCT),
    "nps": _c("净推荐值", "NPS", "nps", "−100…100"),
    "complaint_rate": _c("投诉率", "Complaint rate", "share", _PCT),
    "inquiry_rate": _c("询问进度比例", "Visits with an inquiry", "share", _PCT),
    "share_bad": _c("差评占比（≤3分）", "Bad scores (≤ 3)", "share", _PCT),
    "share_very_dissatisfied": _c("非常不满占比", "Very dissatisfied", "share", _PCT),
    "share_updated_before": _c("上线前有更新占比", "Updated before", "share", _PCT),
    "share_updated_after": _c("上线后有更新占比", "Updated after", "share", _PCT),
    "retention": _c("年留存率", "Yearly retention", "share", _PCT),
    "repurchase_3y": _c("三年复购率", "3-year repurchase", "share", _PCT),
    "referral": _c("推荐率", "Refers a friend", "share", _PCT),
    # drivers and models
    "raw_weight": _c("相对权重", "Relative weight", "r2"),
    "rescaled_pct": _c("重要性占比", "Share of R²", "pct", _PCT),
    "vs_random": _c("较随机变量的权重差", "Weight above a random variable", "r2"),
    "beats_random": _c("显著高于随机变量", "Beats a random variable", "bool"),
    "importance": _c("重要性", "Importance", "share", _PCT),
    "priority": _c("优先级", "Priority", "coef"),
    "r2": _c("R²", "R²", "r2"),
    "r2_cv": _c("交叉验证 R²", "Cross-validated R²", "r2"),
    "delta_vs_baseline": _c("较全程均值的 R² 差", "R² vs. the mean", "r2"),
    "estimate": _c("估计值", "Estimate", "coef"),
    "ci_low": _c("95% 置信下限", "CI low", "coef"),
    "ci_high": _c("95% 置信上限", "CI high", "coef"),
    "p_value": _c("p 值", "p", "p"),
    "chi2": _c("χ²", "χ²", "stat"),
    "df": _c("自由度", "df", "number"),
    "parallel": _c("斜率平行", "Slopes parallel", "bool"),
    "p_value_vs_half": _c("p 值（对 0.5）", "p vs. 0.5", "p"),
    # money
    "cost": _c("首年投入", "First-year cost", "money", ("元", "CNY")),
    "npv": _c("净现值", "NPV", "money", ("元", "CNY")),
    "satisfaction": _c("满意度提升", "Satisfaction gain", "number"),
    "npv_mean": _c("模拟净现值均值", "NPV mean", "money", ("元", "CNY")),
    "roi_p50": _c("ROI 中位数", "ROI median", "pct", _PCT),
    "npv_p5_p95": _c("净现值 P5–P95", "NPV P5–P95", "text", ("元", "CNY")),
    "intervention": _c("改进措施", "Intervention", "text"),
    "mean_value": _c("均值", "Mean", "number"),
    "sd_value": _c("标准差", "SD", "number"),
    "kind": _c("类型", "Kind", "text"),
    "adjusted_for": _c("调整变量", "Adjusted for", "category"),
    "provided": _c("是否提供", "Provided", "bool"),
    "missing": _c("缺失数据", "Missing", "text"),
    "p_roi_positive": _c("ROI>0 的概率", "P(ROI > 0)", "share", _PCT),
}

#: Labels of the values of categorical columns that are not catalog codes (column → value → (zh, en)).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "moment": {m.code: (m.zh, m.en) for m in MOMENTS},
    "quadrant": {q.code: (q.zh, q.en) for q in QUADRANTS},
    "level": {"great": ("体验好", "Great experience"), "bad": ("体验差", "Bad experience")},
    "action": {"repaired": ("修复后保留", "repaired"), "quarantined": ("隔离", "quarantined")},
    "table": {
        "centers": ("门店表", "centers"),
        "visits": ("工单表", "visits"),
        "touchpoints": ("触点日志", "touchpoints"),
        "surveys": ("问卷表", "surveys"),
        "complaints": ("投诉表", "complaints"),
        "scores": ("触点评分", "scores"),
        "events": ("触点事件", "events"),
        "quarantine": ("隔离表", "quarantine"),
        "total": ("合计", "total"),
    },
    "outcome": {
        "ltr": ("推荐意愿", "LTR"),
        "n_complaints": ("投诉次数", "Complaints"),
        "complained": ("是否投诉", "Complained"),
    },
    "estimate_type": {"naive": ("未调整", "naive"), "adjusted": ("调整后", "adjusted")},
    "interval": {"adjusted Wald": ("调整 Wald", "adjusted Wald"), "Wilson": ("Wilson", "Wilson")},
    "effect": {
        "ltr_slope_per_update": ("每次更新的推荐意愿变化（分）", "LTR points per update"),
        "complaint_rate_ratio_per_update": ("每次更新的投诉率比", "Complaint rate ratio per update"),
    },
    "estimator": {
        "callaway_santanna": ("Callaway–Sant'Anna（稳健）", "Callaway–Sant'Anna (robust)"),
        "sun_abraham": ("Sun–Abraham（稳健）", "Sun–Abraham (robust)"),
        "twfe": ("双向固定效应（TWFE）", "Two-way fixed effects (TWFE)"),
    },
    "model": {
        "ltr_ols_linear": ("推荐意愿线性回归（更新次数）", "LTR OLS, linear in updates"),
        "ltr_ols_categorical": ("推荐意愿线性回归（分次数）", "LTR OLS, by number of updates"),
        "ltr_ordinal": ("有序 logit", "ordinal logit"),
        "promoter_logit": ("推荐者 logit", "promoter logit"),
        "detractor_logit": ("贬损者 logit", "detractor logit"),
        "poisson": ("泊松回归", "Poisson"),
        "nb2": ("负二项回归", "negative binomial"),
        "did_ltr": ("双重差分：推荐意愿", "DiD: LTR"),
        "did_complained": ("双重差分：投诉", "DiD: complaints"),
        "cs_ltr": ("稳健双重差分（Callaway–Sant'Anna）：推荐意愿", "Robust DiD (Callaway–Sant'Anna): LTR"),
        "cs_complained": ("稳健双重差分（Callaway–Sant'Anna）：投诉", "Robust DiD (Callaway–Sant'Anna): complaints"),
        "sa_ltr": ("Sun–Abraham 事件研究：推荐意愿", "Sun–Abraham event study: LTR"),
        "sa_complained": ("Sun–Abraham 事件研究：投诉", "Sun–Abraham event study: complaints"),
        "event_study_ltr": ("事件研究（双向固定效应）：推荐意愿", "Event study (TWFE): LTR"),
        "event_study_complained": ("事件研究（双向固定效应）：投诉", "Event study (TWFE): complaints"),
        "mean": ("全程均值", "mean of all points"),
        "peak_end": ("峰终均值", "peak-end mean"),
        "worst": ("最低点", "worst point"),
        "last": ("最后一点", "last point"),
        "best": ("最高点", "best point"),
        "worst + last": ("最低点 + 最后一点", "worst + last"),
        "worst + last + visit_minutes": ("最低点 + 最后一点 + 到店时长", "worst + last + visit duration"),
        "time_weighted_mean": ("按时长加权均值", "time-weighted mean"),
        "log_visit_minutes": ("到店时长（对数）", "log visit duration"),
        "peak_end + log_visit_minutes": ("峰终均值 + 到店时长（对数）", "peak-end mean + log visit duration"),
        "worst + last + log_visit_minutes": (
            "最低点 + 最后一点 + 到店时长（对数）",
            "worst + last + log visit duration",
        ),
    },
    "name": {
        "yearly_spend": ("每年消费（元）", "Yearly spend (CNY)"),
        "margin": ("毛利率", "Gross margin"),
        "retention_great": ("年留存率（体验好）", "Yearly retention, great"),
        "retention_bad": ("年留存率（体验差）", "Yearly retention, bad"),
        "repurchase_3y_great": ("三年复购率（体验好）", "3-year repurchase, great"),
        "repurchase_3y_bad": ("三年复购率（体验差）", "3-year repurchase, bad"),
        "referral_great": ("推荐率（体验好）", "Refers a friend, great"),
        "referral_bad": ("推荐率（体验差）", "Refers a friend, bad"),
        "new_customers_per_referrer": ("每位推荐者带来的新客户", "New customers per referrer"),
        "customer_ltv": ("客户终身价值（元）", "Customer lifetime value (CNY)"),
        "referrals_per_customer": ("每位客户推荐朋友数", "Referrals per customer"),
        "ltr_great": ("推荐意愿（体验好，0–10）", "LTR after a great visit (0–10)"),
        "ltr_bad": ("推荐意愿（体验差，0–10）", "LTR after a bad visit (0–10)"),
        "complaint_rate": ("投诉率（更新计划前）", "Complaint rate before the program"),
    },
    "scale": {
        "LTR points": ("推荐意愿分", "LTR points"),
        "rate ratio": ("率比", "rate ratio"),
        "probability per update (AME)": ("每次更新的概率变化（平均边际效应）", "probability per update (AME)"),
        "log odds of a higher LTR": ("更高推荐意愿的对数优势", "log odds of a higher LTR"),
        "share of visits": ("工单占比", "share of visits"),
        "LTR points per update": ("每次更新的推荐意愿分", "LTR points per update"),
        "rate ratio per update": ("每次更新的率比", "rate ratio per update"),
    },
    "given": {
        "yes": ("已提供", "yes"),
        "not provided": ("未提供", "not provided"),
        "derived from visits": ("由工单表导出", "derived from visits"),
    },
    "term": {
        "omnibus": ("总体检验（全部变量）", "omnibus (all terms)"),
        "n_inprogress_updates": ("进行中更新次数", "In-progress updates"),
        "n_proactive_updates": ("主动更新次数", "Proactive updates"),
        "post": ("上线后", "after the switch"),
        "repair_minutes": ("维修时长", "repair duration"),
        "scenario": ("服务类型", "scenario"),
        "warranty": ("是否保修", "warranty"),
        "center": ("服务中心", "center"),
        "ready_notice": ("完工通知", "ready notice"),
        "has_photo_update": ("含照片更新", "photo update"),
        "(cannot fit)": ("（无法拟合）", "(cannot fit)"),
        "(not provided)": ("（未提供）", "(not provided)"),
    },
    "measure": {
        "worst": ("最低点", "Worst point"),
        "best": ("最高点", "Best point"),
        "last": ("最后一点", "Last point"),
        "peak_end": ("峰终均值", "Peak-end mean"),
        "mean": ("全程均值", "Mean of all points"),
        "time_weighted_mean": ("按时长加权均值", "Time-weighted mean"),
        "visit_minutes": ("到店时长（分钟）", "Visit duration (min)"),
        "ltr": ("推荐意愿（0–10）", "LTR (0–10)"),
    },
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def header(column: str, *, lang: Lang = "both", unit: tuple[str, str] | None = None) -> str:
    """The header of a result column in ``lang``: its label with the unit once, in brackets
    (``unit`` overrides the registry's, e.g. 万元 for a money column). A column the registry
    does not know keeps its name (tables whose builders label their own columns).

    >>> header("ltr_mean", lang="zh"), header("ltr_mean", lang="en"), header("complaint_rate", lang="both")
    ('平均推荐意愿（0–10）', 'Mean LTR (0–10)', '投诉率 Complaint rate (%)')
    >>> header("Case", lang="zh")
    'Case'
    """
    c = COLUMN_LABELS.get(column)
    if c is None:
        return str(column)
    uz, ue = unit or c.unit or ("", "")
    zh = f"{c.zh}（{uz}）" if uz else c.zh
    en = f"{c.en} ({ue})" if ue else c.en
    if lang == "both":
        if c.zh == c.en:
            return en
        both = c.zh if _holds_word(c.zh, c.en) else f"{c.zh} {c.en}"
        return both if not ue else (f"{both} ({ue})" if uz == ue else f"{both} ({uz} / {ue})")
    return bilingual(zh, en, lang=lang)


def column_kind(column: str) -> ColumnKind | None:
    """The :data:`ColumnKind` of a registered column, None for one the registry does not know.

    >>> column_kind("nps"), column_kind("whatever")
    ('nps', None)
    """
    c = COLUMN_LABELS.get(column)
    return None if c is None else c.kind


def month_label(month: str, *, lang: Lang = "both") -> str:
    """A month ``YYYY-MM`` in words; anything else comes back unchanged.

    >>> month_label("2026-10", lang="zh"), month_label("2026-10", lang="en"), month_label("Q4")
    ('2026年10月', 'Oct 2026', 'Q4')
    """
    m = str(month)
    if len(m) == 7 and m[4] == "-" and m[:4].isdigit() and m[5:].isdigit() and 1 <= int(m[5:]) <= 12:
        return bilingual(f"{m[:4]}年{int(m[5:])}月", f"{_MONTHS_EN[int(m[5:]) - 1]} {m[:4]}", lang=lang)
    return m


def value_label(column: str, value: object, *, lang: Lang = "both") -> str:
    """The label of one value of a categorical column: months in words, silence bins in
    minutes, moments, quadrants and other values of :data:`VALUE_LABELS`, any catalog code by
    :func:`label`; other values (center ids, free categories) unchanged.

    >>> value_label("tier", "realtime_photo", lang="zh"), value_label("month", "2026-10", lang="en")
    ('实时更新+照片', 'Oct 2026')
    >>> value_label("silence_bin", "240+", lang="zh"), value_label("moment", "parking", lang="en")
    ('≥ 240', 'Parking')
    """
    v = str(value)
    if column == "month":
        return month_label(v, lang=lang)
    if column == "silence_bin":  # the minutes are said in the header
        return f"≥ {v[:-1]}" if v.endswith("+") else v
    if column == "adjusted_for":
        column = "term"
    own = VALUE_LABELS.get(column, {})
    if v in own:
        return bilingual(*own[v], lang=lang)
    if column == "term" and v.endswith("]") and "[" in v:  # a level of a categorical term: updates[2]
        base, level = v[:-1].split("[", 1)
        if base in own:
            return f"{value_label('term', base, lang=lang)} = {level}"
    return label(v, lang=lang)


# ------------------------------------------------------------------ data-quality rules
RULES: tuple[Rule, ...] = (
    # repairs: the row is kept, the value normalised or blanked, the repair counted
    Rule(
        "timestamp_format",
        "*",
        "repaired",
        "timestamp in a non-ISO format, Excel serial or other offset normalised",
        "时间格式不统一（Excel 序列号、其他时区等），已统一",
    ),
    Rule(
        "center_alias",
        "visits",
        "repaired",
        "center given as name or alias, mapped to its id",
        "服务中心写成名称或别名，已映射为编号",
    ),
    Rule(
        "ltr_text", "surveys", "repaired", "LTR written as text (9分, ' 10 ', 十), parsed", "推荐意愿写成文字，已解析"
    ),
    Rule(
        "ltr_out_of_range",
        "surveys",
        "repaired",
        "LTR outside 0-10 or unreadable, blanked",
        "推荐意愿超出 0–10 或无法识别，已置空",
    ),
    Rule(
        "score_out_of_range",
        "surveys",
        "repaired",
        "touchpoint score outside 1-10 or unreadable, blanked",
        "触点评分超出 1–10 或无法识别，已置空",
    ),
    Rule(
        "pii_masked",
        "*",
        "repaired",
        "personal data (phone, ID, bank card or plate number, e-mail, name) masked in free text",
        "文本中的个人信息（电话、身份证号、银行卡号、车牌号、邮箱、姓名）已脱敏",
    ),
    Rule(
        "touchpoint_zh",
        "touchpoints",
        "repaired",
        "touchpoint given by its Chinese name, mapped to its code",
        "触点写成中文名称，已映射为编码",
    ),
    Rule(
        "value_normalised",
        "*",
        "repaired",
        "code written in another case, with spaces or in Chinese, normalised",
        "编码大小写、空格或中文写法不统一，已规范",
    ),
    Rule(
        "value_blanked",
        "*",
        "repaired",
        "unreadable optional value (boolean, amount, anxiety) blanked",
        "无法识别的可选字段（布尔值、金额、焦虑值）已置空",
    ),
    # quarantine: the row is moved to the quarantine table with its source and reason
    Rule("missing_required", "*", "quarantined", "a required value is missing or unreadable", "必填字段缺失或无法识别"),
    Rule(
        "duplicate_id",
        "*",
        "quarantined",
        "the same id appears again: the later row is a duplicate",
        "编号重复：后出现的行为重复记录",
    ),
    Rule(
        "impossible_order",
        "visits",
        "quarantined",
        "timestamps in an impossible order (e.g. delivered before arrival)",
        "时间顺序不可能（如交车早于到店）",
    ),
    Rule(
        "unknown_center",
        "visits",
        "quarantined",
        "center matches no center id, name or alias",
        "服务中心无法匹配任何门店",
    ),
    Rule(
        "internal_record",
        "visits",
        "quarantined",
        "internal record (customer id TEST… or STAFF…)",
        "内部记录（客户编号以 TEST 或 STAFF 开头）",
    ),
    Rule(
        "unknown_touchpoint", "touchpoints", "quarantined", "touchpoint code not in the catalog", "触点编码不在目录中"
    ),
    Rule("orphan_visit", "*", "quarantined", "visit_id matches no visit in the raw data", "工单号在工单表中不存在"),
    Rule(
        "visit_quarantined",
        "*",
        "quarantined",
        "its visit was quarantined (internal record, impossible order, …)",
        "所属工单已被隔离",
    ),
    Rule(
        "superseded",
        "surveys",
        "quarantined",
        "an earlier response for the same visit, superseded by a resubmission",
        "同一工单的较早问卷，已被重新提交的问卷取代",
    ),
)
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
MIN_N: int = 30  # fewer answers than this: flagged as a small sample


# ------------------------------------------------------------------ what customers write: themes
@dataclass(frozen=True)
class Theme:
    """A theme of what customers write in a survey comment or a complaint, tied to the journey.

    ``stage`` and ``touchpoints`` place the theme on the journey map; ``polarity`` is
    ``"negative"`` (a pain point) or ``"positive"`` (praise). A comment carries the theme when
    one of its ``triggers`` (regular expressions on the normalised text: NFKC, lower case) is
    found and is not negated, or when one of its ``negated`` cue words is negated (没人 *通知*,
    通知 *没有*). A negated trigger signals the ``opposite`` theme instead (没有 *乱收费* is clear
    pricing), or nothing when the theme has no opposite (没有 *推销*). Negation is read on the
    jieba tokens: a word of :data:`NEGATORS` among the :data:`NEGATION_WINDOW` tokens before the
    match in the same clause (clauses end at punctuation and at :data:`CONTRAST_WORDS`), or,
    for a cue word, one of :data:`POST_NEGATORS` among the three tokens after it (通知不及时).
    """

    code: str
    zh: str
    en: str
    stage: str
    touchpoints: tuple[str, ...]
    polarity: Literal["negative", "positive"]
    triggers: tuple[str, ...]
    negated: tuple[str, ...] = ()
    opposite: str | None = None


_N = "[0-9一二两三四五六七八九十几半]+"  # a number of hours, days, times, as customers write it
_DEG = "(?:很|太|好|非常|特别|超|挺|有点|有些|比较|略|稍|偏|十分|都|也|还|真|完全|实在|根本|并|这么|那么)?"  # an optional degree word

#: The theme lexicon: the one source of truth for the themes of survey comments and complaint
#: texts. An analyst promotes a theme that :func:`cxlib.themes.propose_themes` found by adding a
#: :class:`Theme` here (code, labels, stage, touchpoints, polarity, triggers), and a labelled
#: example per new trigger to ``tests/data/themes_labelled.csv``; see ``docs/methods.md``.
THEMES: tuple[Theme, ...] = (
    Theme(
        "booking_hassle",
        "预约困难",
        "Hard to book",
        "booking",
        ("booking_online", "booking_call", "booking_confirm"),
        "negative",
        (
            "预约(?:很|太|比较|有点|非常)?(?:难|麻烦)",
            "约不上",
            "约不到",
            "很难约",
            "排不上",
            "排不到",
            "(?:电话|客服|热线)(?:一直|老是|总是|根本)?(?:打不通|没人接|占线)",
            "打不通",
            "(?:预约|app|小程序|系统)(?:老是|总是|一直)?(?:失败|出错|闪退|卡死|报错|登不上)",
            "预约(?:了|好的|好)?(?:时间)?(?:还|也)(?:要|得)(?:排队|等)",
            "(?:店里|到店|前台)(?:说)?(?:没有|查不到|没)(?:我的)?预约",
            "预约(?:信息|时间)(?:对不上|错了|不对)",
            "(?:确认|预约)(?:短信|通知)(?:一直|根本|都|也)?没(?:有)?(?:收到|发)",
        ),
    ),
    Theme(
        "advisor_attitude",
        "顾问态度或沟通差",
        "Poor advisor attitude or communication",
        "arrival",
        ("reception", "advisor_talk"),
        "negative",
        (
            "态度" + _DEG + "(?:差|恶劣|不好|冷淡|生硬|傲慢|敷衍|一般)",
            "爱答不理",
            "爱理不理",
            "不耐烦",
            "没人(?:理|搭理|招呼|接待)",
            "不理人",
            "冷冰冰",
            "(?:甩|摆)脸色",
            "脸色" + _DEG + "难看",
            "一问三不知",
            "推卸责任",
            "踢皮球",
            "(?:服务|顾问|接待|前台|回答|回复)" + _DEG + "敷衍",
            "态度(?:不太|不怎么|不够|不是很)(?:好|行|友好|热情)",
            "(?:说话|语气|口气)" + _DEG + "(?:冲|差|不好|生硬|不耐烦)",
            "(?:解释|说|讲)(?:得|的)?不(?:清楚|明白)",
            "不专业",
            "答非所问",
        ),
        opposite="advisor_professional",
    ),
    Theme(
        "advisor_professional",
        "顾问专业热情",
        "Professional, friendly advisor",
        "arrival",
        ("reception", "advisor_talk"),
        "positive",
        (
            "专业",
            "耐心",
            "热情",
            "态度" + _DEG + "(?:好|不错|nice|亲切|和蔼)",
            "(?:解释|讲解|介绍|说明|讲)(?:得|的)?" + _DEG + "(?:清楚|详细|明白|到位|细致|透彻)",
            "有问必答",
            "细心",
            "贴心",
            "靠谱",
            "礼貌",
            "周到",
            "(?:顾问|小哥|小姐姐|师傅)" + _DEG + "(?:好|棒|赞|给力|负责)",
        ),
        opposite="advisor_attitude",
    ),
    Theme(
        "long_wait",
        "等待时间长",
        "Long wait",
        "waiting",
        ("lounge",),
        "negative",
        (
            "等(?:了|得)?" + _DEG + "(?:大)?(?:久|长时间|半天)",
            "等(?:了|得)?(?:快|将近|差不多|足足|整整)?" + _N + "(?:个)?(?:多)?(?:小时|钟头|天)",
            "等到(?:了)?(?:中午|下午|晚上|天黑|关门|" + _N + "点)",
            "等待(?:的)?时间" + _DEG + "(?:长|久)",
            "(?:时间|时长)" + _DEG + "(?:过|太)长",
            "效率" + _DEG + "(?:低|差|慢)",
            "(?:太|很|好|特别|超|非常|真)慢",
            "慢(?:死|吞吞)",
            "磨蹭",
            "拖拖拉拉",
            "耗(?:了)?(?:一整天|一天|半天)",
            "浪费(?:了)?(?:我)?(?:一整天|一天|半天|很多时间|时间)",
            "排(?:了)?(?:很久|半天|好久|长)(?:的)?队",
        ),
        opposite="quick_service",
    ),
    Theme(
        "quick_service",
        "效率高",
        "Quick service",
        "waiting",
        ("lounge",),
        "positive",
        (
            "效率" + _DEG + "(?:高|快|不错)",
            "很快",
            "速度" + _DEG + "快",
            "快速",
            "高效",
            "没等(?:多久|多长时间|很久|太久|几分钟)",
            "(?:不用|无需|不需要)(?:怎么)?(?:等|排队)",
            "(?:一|两|半|" + _N + ")个?(?:多)?小时(?:左右)?(?:就)?(?:搞定|好了|弄完|完成|修好|做完)",
            "利索",
            "麻利",
            "(?:这么|那么|蛮|挺|超|特别|非常|真)快",
            "(?:等待|等候)(?:的)?时间(?:不长|很短|短)",
            "等(?:了|得)?(?:不|没)(?:久|多久|太久|很久)",
        ),
        opposite="long_wait",
    ),
    Theme(
        "no_progress_info",
        "不知道维修进度",
        "No progress information",
        "waiting",
        ("progress_push", "advisor_update", "customer_inquiry"),
        "negative",
        (
            "不知道(?:车)?(?:修|弄|做|进行|保养)到(?:哪|什么)",
            "不知道(?:进度|要等多久|还要多久|还要等多久)",
            "不知道(?:车|车子)?(?:什么时候|啥时候|几点)(?:能|可以|才能)?(?:好|修好|取|提车|交车)",
            "进度" + _DEG + "(?:不透明|不清楚|不明|完全不知道|看不到)",
            "看不到进度",
            "(?:一直|完全|都)?没(?:有)?(?:任何)?(?:消息|音信|动静|回音|反馈)",
            "杳无音信",
            "石沉大海",
            "信息黑洞",
            "问了(?:好|很)?(?:" + _N + "|多)(?:次|遍)",
            "(?:只能|还得|得|要|全靠)自己(?:去|打电话)?(?:问|催|找人)",
            "(?:一直|反复|多次|不停|三番五次)(?:地)?(?:催|问|打电话)",
            "打了?(?:好几|" + _N + ")(?:个|次|通)电话",
            "催了(?:好|很)?(?:" + _N + "|多)?次",
            "(?<!钱就)(?<!钱)(?<!车就)(?<!车)(?:就)?没人管",
            "不闻不问",
            "(?:才|总算)(?:告诉|通知)",
            "没(?:有)?人(?:过来)?(?:说|讲)(?:一声|一下)",
            "(?:修|弄|做)到(?:哪|哪一步|什么程度)(?:了)?(?:都|也)?不知道",
            "(?:一个|一通|一条)(?:电话|消息|短信|通知)?(?:都|也)没",
            "不知道车(?:子)?(?:好没好|修好没|好了没)",
            "没(?:有)?(?:提前|事先)(?:说|通知|告知|告诉)(?:一声)?(?!明?(?:要收费|价格|费用|收费|多少钱|价钱))",
        ),
        negated=(
            "通知",
            "告知",
            "告诉(?!我?(?:换了|做了|修了|用了))",
            "联系",
            "推送",
            "消息",
            "更新",
            "反馈",
            "同步",
            "进度",
        ),
        opposite="progress_informed",
    ),
    Theme(
        "progress_informed",
        "进度通知及时",
        "Kept informed of progress",
        "waiting",
        ("progress_push", "advisor_update", "ready_notice"),
        "positive",
        (
            "(?:通知|推送|告知|反馈|更新|消息|回复|沟通)(?:得|的)?" + _DEG + "(?:及时|到位|准时|迅速|很快|主动)",
            "及时(?:地)?(?:通知|告知|推送|反馈|更新|告诉|联系|沟通|汇报)",
            "主动(?:地)?(?:通知|告知|告诉|联系|推送|推|汇报|更新|反馈|沟通|发)",
            "第一时间(?:就)?(?:通知|告知|告诉|联系|推送)",
            "(?:随时|实时)(?:都)?(?:能|可以)(?:查|看)",
            "(?:每一步|每个步骤|每个环节|每个进度|全程|随时)(?:都)?(?:有)?(?:通知|推送|更新|告知|知道|照片|消息|同步|汇报)",
            "(?:实时|随时)(?:的)?(?:推送|更新|同步|看到|查看|知道|了解|通知|进度)",
            "进度" + _DEG + "(?:一目了然|清楚|清晰|透明|可查|实时)",
            "(?:发|拍|传)(?:了)?(?:照片|视频|图片)",
            "照片",
            "视频",
        ),
        opposite="no_progress_info",
    ),
    Theme(
        "environment_poor",
        "休息区环境差",
        "Poor lounge environment",
        "waiting",
        ("lounge",),
        "negative",
        (
            "(?:休息区|休息室|等候区|环境|店里|大厅|卫生间|厕所|洗手间)(?:的)?(?:人)?"
            + _DEG
            + "(?:吵|脏|乱|挤|差|小|闷|热|冷|简陋|难闻|臭)",
            "(?<![让叫使令])人" + _DEG + "多(?![等花付收])",
            "没(?:有)?(?:地方|位置|座位|椅子)(?:坐|休息)?",
            "站着等",
            "空调(?:不|没|太)",
            "异味",
            "烟味",
            "嘈杂",
            "吵闹",
            "没(?:有)?(?:水喝|饮料|热水|wifi|充电)",
            "wifi(?:连不上|太慢|不能用|很差)",
            "(?:热水|饮用水|茶水|饮料|wifi)(?:都|也)?没(?:有)?",
            "环境" + _DEG + "一般",
            "简陋",
            "环境(?:不太|不怎么|不够|不是很)(?:好|行|舒服|干净)",
        ),
        opposite="environment_good",
    ),
    Theme(
        "environment_good",
        "休息区舒适",
        "Comfortable lounge",
        "waiting",
        ("lounge",),
        "positive",
        (
            "(?:休息区|休息室|等候区|环境|店里|大厅)(?:的)?"
            + _DEG
            + "(?:舒服|舒适|干净|整洁|好|不错|棒|安静|宽敞|温馨|漂亮)",
            "有(?:咖啡|零食|水果|按摩椅|茶水|饮料|点心|儿童区|儿童乐园|游乐区|wifi)",
            "咖啡",
            "按摩椅",
            "零食",
            "儿童(?:区|乐园|游乐区)",
            "舒适",
        ),
        opposite="environment_poor",
    ),
    Theme(
        "delivery_delay",
        "交车延误",
        "Late handover",
        "delivery",
        ("vehicle_check",),
        "negative",
        (
            "一拖再拖",
            "一再(?:推迟|拖延|延期)",
            "(?:延期|推迟|延误|延迟|拖延)",
            "说好(?:的)?(?:时间|" + _N + "点|今天|下午|中午|上午|当天)",
            "说好(?:的)?" + _N + "(?:个)?(?:多)?(?:小时|分钟|天)",
            "比(?:约定|承诺|说好|预计|预约|当初说)(?:的)?(?:时间)?(?:晚|迟|多等)",
            "超(?:过)?(?:了)?(?:约定|承诺|预计|说好)(?:的)?时间",
            "(?:配件|零件|备件)(?:缺货|没货|没到|要等|要订|要调)",
            "(?:配件|零件|备件)(?:要|得|需要)(?:从\\S{1,4})?(?:调|订|等)",
            "缺(?:配件|零件|货)",
            "等配件",
            "交车(?:时间)?" + _DEG + "(?:晚|拖|迟)",
        ),
        opposite="on_time",
    ),
    Theme(
        "on_time",
        "按时交车",
        "On-time handover",
        "delivery",
        ("vehicle_check",),
        "positive",
        (
            "(?:按时|准时|如期|提前)(?:地)?(?:交车|取车|提车|完工|完成|修好|交付|交给我|拿到车|拿车)",
            "准时",
            "按时",
            "准点",
            "守时",
            "说(?:好)?(?:几点|什么时候)(?:好|完|修好|弄好|取车|交车|提车)?(?:就)?(?:是)?(?:几点|什么时候)",
            "(?:承诺|约定|说好|预计)(?:的)?时间(?:内|之前|以前)(?:就)?(?:交车|完成|完工|修好|好了|交付)",
            "(?:没有|没|不)(?:拖|拖延|延误|推迟|延期)(?!了)",
            "提前(?:了)?(?:" + _N + ")?(?:个)?(?:多)?(?:小时|分钟|天)?(?:就)?(?:完成|交车|好了|修好|完工|弄好)",
        ),
        opposite="delivery_delay",
    ),
    Theme(
        "hard_sell",
        "交车时被推销",
        "Hard sell at handover",
        "delivery",
        ("vehicle_check", "payment"),
        "negative",
        (
            "推销",
            "强行(?:推荐|推|卖|加|让)",
            "强制(?:消费|购买|加装)",
            "硬(?:塞|推|卖)",
            "(?:一直|不停|反复|拼命|死命|使劲|老是|总是)(?:地)?(?:推荐|劝我?|让我(?:买|办|充|加装|升级))",
            "让我(?:办|充|买|加装|升级)(?:卡|会员|套餐|延保|保险|值|精品|贴膜|镀晶)",
            "被(?:忽悠|套路|推销)",
            "套路",
            "忽悠",
            "捆绑",
            "推荐(?:这个|那个|各种)?(?:套餐|会员|保险|延保|贴膜|镀晶|装饰|精品|充值|储值)",
            "(?:套餐|会员|保险|延保|贴膜|镀晶|精品|充值|办卡)(?:推荐|推)(?:个)?(?:没完|不停|半天)",
        ),
    ),
    Theme(
        "price_opaque",
        "收费不透明",
        "Unclear or surprise charges",
        "delivery",
        ("payment",),
        "negative",
        (
            "(?:收费|价格|费用|报价|账单|结算|价钱|工时费|配件费|材料费)(?:也)?"
            + _DEG
            + "(?:不透明|不清楚|不明|混乱|乱|离谱|虚高|太高|高|贵)",
            "乱收费",
            "多收(?:了)?",
            "额外(?:收费|收钱|加钱|费用|项目)",
            "加(?:了)?(?:钱|价|项目)",
            "隐形(?:消费|收费)",
            "没(?:有)?(?:提前|事先|事前)(?:说明|告知|告诉|说|确认)(?:一下)?(?:要收费|价格|费用|收费|多少钱|价钱|报价)",
            "没(?:有)?(?:提前|事先|事前)报价",
            "(?:说是|说好)(?:的)?免费.{0,8}(?:收|要)(?:了)?(?:钱|费)",
            "(?:账单|收费单|明细)(?:都)?看不懂",
            "(?:比|跟|和)(?:报价|预估|预算|说好的|之前说的)(?:的)?(?:多|高|贵|不一样)",
            "坑(?:人|钱|爹|了)?",
            "宰(?:客|人)",
            "太贵",
            "贵(?:了|得离谱|死了)",
            "不值",
        ),
        opposite="price_clear",
    ),
    Theme(
        "price_clear",
        "收费透明",
        "Clear pricing",
        "delivery",
        ("payment",),
        "positive",
        (
            "(?:收费|价格|费用|报价|账单|明细|价钱)" + _DEG + "(?:透明|清楚|清晰|合理|公道|实惠|明白|明确|清清楚楚)",
            "明码标价",
            "(?:提前|事先|事前|先)(?:报价|说明(?:了)?(?:价格|费用|收费)|告知(?:了)?(?:价格|费用|收费)|确认(?:了)?(?:价格|费用|项目))",
            "不贵",
            "便宜",
            "性价比",
            "价格实惠",
        ),
        opposite="price_opaque",
    ),
    Theme(
        "handover_rushed",
        "交车讲解敷衍",
        "Rushed handover",
        "delivery",
        ("vehicle_check", "service_report"),
        "negative",
        (
            "(?:交车|检查|验车|讲解|交付|交接)(?:流程|环节|的时候|时)?(?:也)?"
            + _DEG
            + "(?:敷衍|马虎|草率|随便|走过场|匆忙|仓促|潦草)",
            "走过场",
            "匆匆",
            "没(?:有)?(?:人)?(?:讲解|解释|交代|介绍)(?:一下)?(?:换了|做了|修了)",
            "(?:没|没有|也没)(?:给)?(?:保养|维修|检测)?报告",
            "(?:没|没有|也没)(?:讲|说|告诉我)(?:换了|做了|修了)(?:什么|哪些|啥)",
            "报告(?:也|都)?没(?:有)?(?:给|发)",
            "(?:换了|做了|修了)(?:什么|哪些|啥)(?:都|也)?不(?:清楚|知道)",
            "没(?:有)?人(?:陪同|陪着|带着)?(?:验车|检查|交车)",
            "草率",
            "马虎",
        ),
    ),
    Theme(
        "repair_quality",
        "没修好或车辆受损",
        "Not fixed or car damaged",
        "delivery",
        ("vehicle_check",),
        "negative",
        (
            "没(?:有)?修好",
            "还是(?:有)?(?:异响|响|漏|问题|老样子|一样|没好)",
            "问题(?:依旧|依然|还在|没解决|没有解决)",
            "(?:又|再次|第二次|二次)(?:坏|出现|返厂|进店|来修|返修)",
            "返修",
            "返工",
            "修了(?:好几|" + _N + ")次",
            "越修越",
            "划痕",
            "刮花",
            "刮伤",
            "(?:弄|搞)脏",
            "油渍",
            "异响",
        ),
    ),
    Theme(
        "no_farewell",
        "没有送别",
        "No farewell",
        "delivery",
        ("farewell",),
        "negative",
        (
            "没(?:有)?人送",
            "拿(?:了|到)?(?:钥匙|车)(?:就|直接)(?:走|让我走|自己走)",
            "自己(?:去)?(?:找车|开走|取车|把车开出来)",
            "交(?:完|了)?(?:车|钥匙)(?:人)?(?:就)?(?:走了|不见了|没人了|没影了)",
            "付(?:完|了)钱(?:就)?没人(?:管|理)",
            "连(?:句|声)?(?:再见|谢谢)都?没",
            "人走茶凉",
            "(?:离开|走|出门|离店)(?:的)?(?:时候)?(?:也)?没(?:有)?人(?:理|管|送|招呼)",
            "(?:结账|付款|付完钱|交车)(?:后|之后|以后)?(?:就)?(?:被)?晾在一边",
            "(?:送|管|理)(?:我)?的人(?:都|也)?没(?:有)?",
        ),
        negated=("送别", "送", "道别", "告别", "再见"),
        opposite="farewell_warm",
    ),
    Theme(
        "farewell_warm",
        "热情送别",
        "Warm farewell",
        "delivery",
        ("farewell",),
        "positive",
        (
            "送(?:我|我们)?(?:到)?(?:门口|出门|出来|上车|到路口|离开)",
            "送别",
            "目送",
            "挥手",
            "道别",
            "告别",
            "说(?:了)?(?:再见|慢走|一路平安)",
            "慢走",
            "(?:开到|停到|送到)门口",
        ),
        opposite="no_farewell",
    ),
)
THEME_CODES: tuple[str, ...] = tuple(t.code for t in THEMES)
THEMES_BY_CODE: dict[str, Theme] = {t.code: t for t in THEMES}
#: Words that negate what follows them (a jieba token, or the start of one: 不及时).
NEGATORS: frozenset[str] = frozenset(
    (
        "不",
        "没",
        "没有",
        "没人",
        "无",
        "未",
        "别",
        "从不",
        "从没",
        "从没有",
        "从来不",
        "从来没",
        "从来没有",
        "毫无",
        "并未",
        "并不",
        "并没",
        "并没有",
        "不是",
        "没能",
        "未能",
        "不够",
        "不太",
        "不怎么",
        "没怎么",
        "缺乏",
        "缺少",
        "无人",
        "没法",
        "无法",
        "不用",
        "不必",
        "不需要",
        "用不着",
        "都没",
        "也没",
        "也没有",
        "都没有",
        "还没",
        "还没有",
        "不会",
        "一点也不",
        "一点都不",
        "根本不",
        "根本没",
        "根本没有",
        "完全不",
        "完全没有",
        "谈不上",
        "算不上",
        "称不上",
        "没什么",
    )
)
#: Words that negate a cue word before them (通知 *不及时*, 消息 *都没有*).
POST_NEGATORS: frozenset[str] = frozenset(
    (
        "没",
        "没有",
        "不",
        "不是",
        "不够",
        "不太",
        "不怎么",
        "没人",
        "都没有",
        "也没有",
        "都没",
        "也没",
        "一直没",
        "一直没有",
        "从来没有",
        "根本没有",
        "完全没有",
    )
)
#: How many tokens before a match a negator reaches.
NEGATION_WINDOW: int = 3
#: Words that end a clause like punctuation (the negation of one clause does not reach the next).
CONTRAST_WORDS: frozenset[str] = frozenset(
    ("但", "但是", "不过", "可是", "然而", "就是", "只是", "而且", "并且", "结果")
)
#: The CX user dictionary of the segmentation (jieba): words of the after-sales service that a general
#: dictionary splits, so that a negator and the word it negates are two tokens and topics read well.
USER_WORDS: tuple[str, ...] = (
    "没人",
    "修到",
    "修到哪",
    "交车",
    "取车",
    "提车",
    "验车",
    "送别",
    "道别",
    "休息区",
    "等候区",
    "推销",
    "乱收费",
    "明码标价",
    "进度",
    "进度推送",
    "实时推送",
    "服务顾问",
    "顾问",
    "保养报告",
    "一拖再拖",
    "爱答不理",
    "爱理不理",
    "不耐烦",
    "售后",
    "工单",
    "完工",
    "开工",
    "充电桩",
    "按摩椅",
    "儿童区",
    "配件",
    "缺货",
    "返修",
    "异响",
    "过场",
    "走过场",
    "隐形消费",
    "性价比",
    "延保",
    "镀晶",
    "贴膜",
    "套餐",
    "会员卡",
    "小程序",
    "预约",
    "客服",
    "热线",
    "前台",
    "接待",
    "洗车",
    "四个小时",
    "三个小时",
    "两个小时",
    "一个小时",
    "半个小时",
    "好几次",
    "打不通",
    "约不上",
    "看不到",
    "信息黑洞",
    "不透明",
    "一目了然",
    "目送",
)
#: Word sequences the segmentation keeps apart (jieba would read 没收到 as 没收 "confiscate" + 到).
USER_SPLITS: tuple[tuple[str, ...], ...] = (("没", "收到"), ("没", "收"), ("不", "准时"))
#: The free-text columns the theme analysis reads, per processed table; the first present is used.
#: The complaints' text (投诉内容) is optional in the data contract: the cleaning step carries it like
#: any extra raw column (under its normalised header, personal data masked).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "surveys": ("comment",),
    "complaints": ("text", "投诉内容", "complaint_text", "description", "投诉描述", "内容"),
}
COLUMN_LABELS.update(
    {
        "theme": _c("主题", "Theme", "category"),
        "polarity": _c("倾向", "Polarity", "category"),
        "n_comments": _c("评价条数", "Comments", "count"),
        "n_texts": _c("文本条数", "Texts", "count"),
        "hits": _c("提及条数", "Mentions", "count"),
        "theme_share": _c("提及占比", "Share mentioning", "share", _PCT),
        "theme_share_ci": _c("提及占比及 95% 置信区间", "Share mentioning, 95% CI", "text", _PCT),
        "n_with": _c("提及者样本量", "n with", "count"),
        "n_without": _c("未提及者样本量", "n without", "count"),
        "ltr_with": _c("提及者平均推荐意愿", "Mean LTR with", "ltr", _LTR),
        "ltr_without": _c("未提及者平均推荐意愿", "Mean LTR without", "ltr", _LTR),
        "ltr_gap": _c("推荐意愿差", "LTR gap", "ltr", ("分", "points")),
        "topic": _c("候选主题", "Proposed topic", "int"),
        "top_words": _c("高权重词", "Top words", "text"),
        "touchpoints": _c("触点", "Touchpoints", "text"),
        "triggers": _c("触发词（示例）", "Trigger words (examples)", "text"),
        "complaint_channel": _c("投诉渠道", "Complaint channel", "category"),
        "verbatims": _c("客户原声", "Verbatims", "text"),
    }
)
VALUE_LABELS["theme"] = {t.code: (t.zh, t.en) for t in THEMES}
VALUE_LABELS["polarity"] = {"negative": ("负面", "negative"), "positive": ("正面", "positive")}


# ---------------------------------------------------------------------------- helpers
_LABELS: dict[str, tuple[str, str]] = {}
for _group in (
    STAGES,
    TOUCHPOINTS,
    SCORE_POINTS,
    TIERS,
    SCENARIOS,
    CHANNELS,
    COMPLAINT_CHANNELS,
    EMOTION_BANDS,
    NPS_GROUPS,
):
    for _item in _group:
        _LABELS.setdefault(_item.code, (_item.zh, _item.en))
for _rule in RULES:
    _LABELS.setdefault(_rule.code, (_rule.zh, _rule.en))
for _theme in THEMES:
    _LABELS.setdefault(_theme.code, (_theme.zh, _theme.en))


def bilingual(zh: str, en: str, *, lang: Lang = "both", sep: str = " ", en_first: bool = False) -> str:
    """``zh``, ``en`` or both joined by ``sep`` (Chinese first unless ``en_first``); one copy
    when the two are the same, and the Chinese alone when it already holds the English as a
    word of its own (「净推荐值 NPS」 and "NPS" make 「净推荐值 NPS」, not 「净推荐值 NPS NPS」).
    The one place where the workbench picks a label language.

    >>> bilingual("等待", "Waiting"), bilingual("等待", "Waiting", lang="en"), bilingual("NPS", "NPS")
    ('等待 Waiting', 'Waiting', 'NPS')
    >>> bilingual("净推荐值 NPS", "NPS"), bilingual("样本量 n", "n"), bilingual("NPS变化", "NPS change")
    ('净推荐值 NPS', '样本量 n', 'NPS变化 NPS change')
    """
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    if lang != "both":
        raise ValueError(f"lang must be 'zh', 'en' or 'both', not {lang!r}")
    if zh == en or _holds_word(zh, en):
        return zh
    return f"{en}{sep}{zh}" if en_first else f"{zh}{sep}{en}"


def _holds_word(text: str, word: str) -> bool:
    """Whether ``word`` appears in ``text`` with no letter or digit of the Latin alphabet on either side."""
    if not word.strip():
        return False
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text) is not None


def label(code: str, *, lang: Lang = "both") -> str:
    """Bilingual label of any catalog code (stage, touchpoint, score point, tier, band, …).

    Unknown codes come back unchanged, so the function is safe on free categories.

    >>> label("realtime_photo", lang="zh")
    '实时更新+照片'
    """
    if code not in _LABELS:
        return str(code)
    return bilingual(*_LABELS[code], lang=lang)


def labels(codes: Iterable[str], *, lang: Lang = "both") -> list[str]:
    """:func:`label` for each code in ``codes``.

    >>> labels(["none", "realtime"], lang="en")
    ['No update', 'Real-time updates']
    """
    return [label(c, lang=lang) for c in codes]


def emotion_band(score: float) -> Band:
    """The emotion band of a 1-10 score (rounded to the nearest whole point).

    >>> emotion_band(7.6).code
    'satisfied'
    """
    s = int(round(float(score)))
    s = min(max(s, SCORE_MIN), SCORE_MAX)
    for band in EMOTION_BANDS:
        if band.low <= s <= band.high:
            return band
    raise AssertionError(s)  # pragma: no cover - bands cover 1..10


def emotion_bands(scores: pd.Series) -> pd.Series:
    """Vectorised :func:`emotion_band`: an ordered categorical of band codes (NaN stays NaN).

    >>> import pandas as pd
    >>> emotion_bands(pd.Series([2, 10, None])).tolist()
    ['very_dissatisfied', 'delighted', nan]
    """
    import pandas as pd

    bins = [0.5] + [b.high + 0.5 for b in EMOTION_BANDS]
    s = pd.to_numeric(scores, errors="coerce").round().clip(SCORE_MIN, SCORE_MAX)
    return pd.cut(s, bins=bins, labels=[b.code for b in EMOTION_BANDS]).astype(
        pd.CategoricalDtype([b.code for b in EMOTION_BANDS], ordered=True)
    )


def nps_group(ltr: pd.Series) -> pd.Series:
    """NPS group of each 0-10 likelihood-to-recommend answer, as an ordered categorical.

    >>> import pandas as pd
    >>> nps_group(pd.Series([10, 7, 3])).tolist()
    ['promoter', 'passive', 'detractor']
    """
    import pandas as pd

    bins = [-0.5] + [g.high + 0.5 for g in NPS_GROUPS]
    s = pd.to_numeric(ltr, errors="coerce")
    return pd.cut(s, bins=bins, labels=[g.code for g in NPS_GROUPS]).astype(_dtype("NPS_GROUP_DTYPE"))


def ordered(codes: tuple[str, ...]) -> pd.CategoricalDtype:
    """An ordered categorical dtype over ``codes`` (stage, tier, point order…)."""
    import pandas as pd

    return pd.CategoricalDtype(list(codes), ordered=True)


# the ordered categorical dtypes STAGE_DTYPE … NPS_GROUP_DTYPE, built on first access (PEP 562)
_DTYPE_CODES: dict[str, tuple[str, ...]] = {
    "STAGE_DTYPE": STAGE_ORDER,
    "TIER_DTYPE": TIER_ORDER,
    "SCORE_POINT_DTYPE": SCORE_POINT_ORDER,
    "SCENARIO_DTYPE": SCENARIO_ORDER,
    "TOUCHPOINT_DTYPE": TOUCHPOINT_CODES,
    "NPS_GROUP_DTYPE": tuple(g.code for g in NPS_GROUPS),
}


def _dtype(name: str) -> pd.CategoricalDtype:
    """The dtype ``name`` of ``_DTYPE_CODES``, built once and then kept as a module attribute."""
    if name not in globals():
        globals()[name] = ordered(_DTYPE_CODES[name])
    return globals()[name]


def __getattr__(name: str) -> pd.CategoricalDtype:
    if name in _DTYPE_CODES:
        return _dtype(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def touchpoint(code: str) -> Touchpoint:
    """Look up a touchpoint of the catalog by code."""
    for t in TOUCHPOINTS:
        if t.code == code:
            return t
    raise KeyError(f"unknown touchpoint {code!r}; known: {', '.join(TOUCHPOINT_CODES)}")


def table_frame(name: Literal["stages", "touchpoints", "score_points", "tiers", "bands", "rules"]) -> pd.DataFrame:
    """A part of the catalog as a tidy, bilingual DataFrame, for display in a notebook.

    >>> table_frame("stages").columns.tolist()
    ['order', 'code', 'zh', 'en']
    """
    import pandas as pd

    rows: list[tuple[object, ...]]
    if name == "stages":
        rows = [(i + 1, s.code, s.zh, s.en) for i, s in enumerate(STAGES)]
        return pd.DataFrame(rows, columns=["order", "code", "zh", "en"])
    if name == "touchpoints":
        rows = [(i + 1, t.stage, t.code, t.zh, t.en, t.channel, t.update or "") for i, t in enumerate(TOUCHPOINTS)]
        return pd.DataFrame(rows, columns=["order", "stage", "code", "zh", "en", "channel", "update"])
    if name == "score_points":
        rows = [
            (i + 1, p.stage, p.code, p.column, p.zh, p.en, ", ".join(p.touchpoints)) for i, p in enumerate(SCORE_POINTS)
        ]
        return pd.DataFrame(rows, columns=["order", "stage", "code", "column", "zh", "en", "touchpoints"])
    if name == "tiers":
        rows = [(i + 1, t.code, t.zh, t.en) for i, t in enumerate(TIERS)]
        return pd.DataFrame(rows, columns=["order", "code", "zh", "en"])
    if name == "bands":
        rows = [(b.code, b.low, b.high, b.zh, b.en) for b in EMOTION_BANDS]
        return pd.DataFrame(rows, columns=["code", "low", "high", "zh", "en"])
    if name == "rules":
        rows = [(r.code, r.table, r.action, r.en, r.zh) for r in RULES]
        return pd.DataFrame(rows, columns=["rule", "table", "action", "en", "zh"])
    raise ValueError(f"unknown catalog table {name!r}")
