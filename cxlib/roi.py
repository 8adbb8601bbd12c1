"""What an intervention is worth: customer value, revenue at risk, ROI cases with their
uncertainty, and the budget portfolio.

The flow of notebook 04:

1. :class:`Assumptions` holds the benchmark figures (retention, repurchase and referral for a
   great vs a bad experience, spend, margin), each with its provenance; override any of them.
2. :func:`load_cases` reads the intervention cases (``data/raw/cases_interventions.yaml``,
   schema in ``docs/roi-cases.md``): every numeric input is a ``{low, mode, high}`` range.
3. :func:`seed_point_roi` reproduces each case's original point claim by its own arithmetic;
   :func:`evaluate` / :func:`cases_table` give NPV, ROI and payback at the modes;
   :func:`simulate` + :func:`roi_summary` propagate the ranges (Monte Carlo);
   :func:`tornado` ranks the inputs by their swing in NPV.
4. :func:`best_portfolio` picks the best set of cases within a budget (exact 0/1 knapsack with
   mutually exclusive groups and combination cases).
5. :func:`update_program_value` carries the effect of proactive progress updates measured in
   notebook 03 (complaint rate ratio, LTR slope) through retention and referrals to money.

Formulas (also in ``docs/roi-cases.md``)
----------------------------------------
* ``lifetime_value = Σ_{t=1..H} spend · margin · retention^(t−1) / (1+r)^t``
* ``revenue_at_risk = ltv + referrals · value_per_referral``
* Cash flows are monthly over ``horizon_years``: the one-off cost at month 0, then each month
  one twelfth of the year's gain minus the year's running cost (``yearly_cost +
  cost_per_customer · reach``). The year-``j`` gain is
  ``margin · yearly_spend · (active_j + reach · spend_gain)`` where the program's extra active
  customers are ``active_j = won · S(j) + kept · S(j−1)``, ``S(k) = Σ_{i<k} r^i`` with ``r`` the
  retention of a customer with a great experience, ``won = extra_customers + reach ·
  referral_gain · new_customers_per_referrer`` (new customers a year) and ``kept = reach ·
  retention_gain`` (customers a year who return the next year instead of leaving).
* ``NPV = Σ_m CF_m / (1+d)^(m/12)``; ``ROI = NPV / PV(costs)``; payback = the month (linear
  within the month) from which the undiscounted cumulative cash flow is ≥ 0 until the end of
  the horizon; 0 if it is never negative, ``inf`` if it is still negative at the end.

Example
-------
>>> from cxlib import roi
>>> roi.revenue_at_risk(15_000, 3, 15_000)
60000.0
>>> cases = roi.load_cases("data/raw/cases_interventions.yaml")      # doctest: +SKIP
>>> roi.best_portfolio(roi.cases_table(cases), budget=50_000)         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

from cxlib import paths, plotting
from cxlib.catalog import Lang, bilingual
from cxlib.errors import DataError, require_columns

Distribution = Literal["triangular", "pert"]

DEFAULT_HORIZON_YEARS = 3
DEFAULT_DISCOUNT_RATE = 0.08
#: visits a year assumed when the selection holds no visits to annualise (the former network figure)
DEFAULT_VISITS_PER_YEAR = 6000.0


# ============================================================================ assumptions
_PROVENANCE: dict[str, str] = {
    "yearly_spend": "Seed: a family spends 3000元 a year at the center (kids' corner case).",
    "margin": "Assumption: gross margin of after-sales revenue. The seed counts revenue (margin 1); "
              "set margin=1.0 to reproduce its revenue-based figures.",
    "retention_great": "Seed benchmark table: yearly retention 85% after a great experience.",
    "retention_bad": "Seed benchmark table: yearly retention 52% after a bad experience.",
    "repurchase_3y_great": "Seed benchmark table: 3-year repurchase 68% after a great experience "
                           "(kept for reference; the cash-flow model uses yearly retention).",
    "repurchase_3y_bad": "Seed benchmark table: 3-year repurchase 28% after a bad experience "
                         "(kept for reference).",
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
_PROVENANCE_ZH: dict[str, str] = {
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


@dataclass(frozen=True)
class Assumptions:
    """Benchmark figures the money model rests on, each with a provenance note.

    Override with keyword arguments or :meth:`override`; :meth:`table` shows them all.

        >>> Assumptions().override(margin=1.0).margin
        1.0
    """

    yearly_spend: float = 3000.0
    margin: float = 0.35
    retention_great: float = 0.85
    retention_bad: float = 0.52
    repurchase_3y_great: float = 0.68
    repurchase_3y_bad: float = 0.28
    referral_great: float = 0.45
    referral_bad: float = 0.08
    new_customers_per_referrer: float = 0.3
    customer_ltv: float = 15_000.0
    referrals_per_customer: float = 3.0
    ltr_great: float = 9.0
    ltr_bad: float = 4.0
    complaint_rate: float = 0.05
    provenance: Mapping[str, str] = field(default_factory=lambda: dict(_PROVENANCE), compare=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise DataError(f"assumption {f.name} must be a finite number, got {v!r}", column=f.name)
            if v < 0:
                raise DataError(f"assumption {f.name} must not be negative, got {v!r}", column=f.name)
        for name in ("margin", "retention_great", "retention_bad", "repurchase_3y_great", "repurchase_3y_bad",
                     "referral_great", "referral_bad", "complaint_rate"):
            if getattr(self, name) > 1:
                raise DataError(f"assumption {name} is a share and must be ≤ 1, got {getattr(self, name)!r}",
                                column=name)
        if self.ltr_great <= self.ltr_bad:
            raise DataError("ltr_great must exceed ltr_bad", column="ltr_great")

    def override(self, **changes: float) -> Assumptions:
        """A copy with some figures changed (provenance marked "overridden").

            >>> Assumptions().override(retention_great=0.8).retention_great
            0.8
        """
        names = {f.name for f in dataclasses.fields(self)} - {"provenance"}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise DataError(f"unknown assumption(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}",
                            column=unknown[0])
        prov = dict(self.provenance)
        for k, v in changes.items():
            prov[k] = f"Overridden by the analyst: {v!r} (default {getattr(Assumptions(), k)!r})."
        return dataclasses.replace(self, provenance=prov, **changes)

    @property
    def referral_per_ltr_point(self) -> float:
        """Referral probability gained per LTR point: (referral_great − referral_bad)/(ltr_great − ltr_bad)."""
        return (self.referral_great - self.referral_bad) / (self.ltr_great - self.ltr_bad)

    def table(self, lang: Lang = "en") -> pd.DataFrame:
        """The assumptions as a tidy table (name, value, provenance); the provenance in ``lang``
        (a figure the analyst overrode says so in that language).

            >>> Assumptions().table().loc[0, "name"]
            'yearly_spend'
            >>> Assumptions().override(margin=0.4).table("zh").set_index("name").loc["margin", "provenance"]
            '分析师已改写：0.4（默认 0.35）。'
        """
        def prov(name: str) -> str:
            en = self.provenance.get(name, "")
            if lang == "en":
                return en
            if en.startswith("Overridden by the analyst"):
                zh = f"分析师已改写：{getattr(self, name)!r}（默认 {getattr(Assumptions(), name)!r}）。"
            else:
                zh = _PROVENANCE_ZH.get(name, en) if en == _PROVENANCE.get(name) else en
            return bilingual(zh, en, lang, sep=" / ")

        rows = [(f.name, float(getattr(self, f.name)), prov(f.name))
                for f in dataclasses.fields(self) if f.name != "provenance"]
        return pd.DataFrame(rows, columns=["name", "value", "provenance"])


def experience_table(assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Retention, 3-year repurchase and referral by experience level (the seed's benchmark).

        >>> float(experience_table().set_index("level").loc["great", "retention"])
        0.85
    """
    a = assumptions or Assumptions()
    return pd.DataFrame({
        "level": ["great", "bad"],
        "level_zh": ["体验好", "体验差"],
        "level_en": ["Great experience", "Bad experience"],
        "retention": [a.retention_great, a.retention_bad],
        "repurchase_3y": [a.repurchase_3y_great, a.repurchase_3y_bad],
        "referral": [a.referral_great, a.referral_bad],
    })


# ========================================================================= customer value
def lifetime_value(yearly_spend: float, margin: float = 1.0, retention: float = 1.0,
                   horizon_years: int = 5, discount_rate: float = 0.0) -> float:
    """Discounted value of one customer: Σ_{t=1..H} spend·margin·retention^(t−1)/(1+r)^t.

    Year 1 is always earned (the customer is here now); later years are earned with the
    probability of still being a customer; cash of year ``t`` is discounted ``t`` years.

        >>> lifetime_value(3000, 1.0, 1.0, 5, 0.0)   # the seed's 1.5万, read as 3000元 × 5 years
        15000.0
    """
    h = int(horizon_years)
    if h != horizon_years or h < 1:
        raise DataError(f"horizon_years must be a whole number ≥ 1, got {horizon_years!r}", column="horizon_years")
    if not 0 <= retention <= 1:
        raise DataError(f"retention must be within 0..1, got {retention!r}", column="retention")
    if discount_rate <= -1:
        raise DataError(f"discount_rate must exceed -1, got {discount_rate!r}", column="discount_rate")
    t = np.arange(1, h + 1, dtype=float)
    return float(np.sum(yearly_spend * margin * retention ** (t - 1) / (1 + discount_rate) ** t))


def revenue_at_risk(ltv: float, referrals: float = 0.0, value_per_referral: float | None = None) -> float:
    """What losing one customer costs: own lifetime value + the referrals they would have brought.

    ``value_per_referral`` defaults to ``ltv`` (a referred friend is worth a customer).

        >>> revenue_at_risk(15_000, 3, 15_000)    # the seed: 1.5万 + 3 × 1.5万 = 6万
        60000.0
    """
    vpr = ltv if value_per_referral is None else value_per_referral
    for name, v in (("ltv", ltv), ("referrals", referrals), ("value_per_referral", vpr)):
        if v is None or not math.isfinite(float(v)) or float(v) < 0:
            raise DataError(f"{name} must be a finite number ≥ 0, got {v!r}", column=name)
    return float(ltv) + float(referrals) * float(vpr)


# ================================================================================= cases
@dataclass(frozen=True)
class Quantity:
    """An uncertain input: ``low ≤ mode ≤ high`` (a fixed number has all three equal).

        >>> Quantity(1, 2, 6).mean()
        3.0
    """

    low: float
    mode: float
    high: float

    @classmethod
    def fixed(cls, value: float) -> Quantity:
        """A number without uncertainty.  ``Quantity.fixed(5).is_fixed`` → True"""
        return cls(float(value), float(value), float(value))

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def mean(self, distribution: Distribution = "triangular") -> float:
        """Mean of the distribution: (a+m+b)/3 triangular, (a+4m+b)/6 PERT."""
        if distribution == "triangular":
            return (self.low + self.mode + self.high) / 3
        if distribution == "pert":
            return (self.low + 4 * self.mode + self.high) / 6
        raise ValueError(f"distribution must be 'triangular' or 'pert', not {distribution!r}")

    def draw(self, rng: np.random.Generator, n: int, distribution: Distribution = "triangular") -> np.ndarray:
        """``n`` random draws (triangular, or PERT = scaled Beta(1+4(m−a)/(b−a), 1+4(b−m)/(b−a)))."""
        if self.is_fixed:
            return np.full(n, self.mode, dtype=float)
        a, m, b = self.low, self.mode, self.high
        if distribution == "triangular":
            return rng.triangular(a, m, b, size=n)
        if distribution == "pert":
            alpha = 1 + 4 * (m - a) / (b - a)
            beta = 1 + 4 * (b - m) / (b - a)
            return a + (b - a) * rng.beta(alpha, beta, size=n)
        raise ValueError(f"distribution must be 'triangular' or 'pert', not {distribution!r}")


@dataclass(frozen=True)
class JointNormal:
    """The estimated sampling distribution of measured effects: a multivariate normal on the models'
    own scales (``mean``, ``cov``, one entry per ``names``) and, for each case input it drives, a
    function of the drawn matrix (``n × k``, columns in ``names`` order) giving that input's draws.
    :func:`simulate` draws these inputs from it instead of their ``{low, mode, high}`` range.

        >>> j = JointNormal(("x",), (1.0,), ((4.0,),), {"reach": lambda z: 100 + z[:, 0]})
        >>> j.draw(np.random.default_rng(1), 3)["reach"].shape
        (3,)
    """

    names: tuple[str, ...]
    mean: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    inputs: Mapping[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict, compare=False)
    note: str = ""

    def __post_init__(self) -> None:
        k = len(self.names)
        cov = np.asarray(self.cov, dtype=float)
        if len(self.mean) != k or cov.shape != (k, k):
            raise DataError(f"need a mean and a {k}×{k} covariance for {self.names}", column="cov")
        if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-12 * max(1.0, float(np.abs(cov).max())):
            raise DataError(f"the covariance of {self.names} must be symmetric positive semi-definite", column="cov")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the effects on their models' scales (an ``n × k`` array)."""
        return rng.multivariate_normal(np.asarray(self.mean, dtype=float), np.asarray(self.cov, dtype=float),
                                       size=n, method="eigh")

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """``n`` draws of each driven case input, from one :meth:`sample`."""
        z = self.sample(rng, n)
        return {k: np.asarray(f(z), dtype=float).reshape(n) for k, f in self.inputs.items()}


#: Cost inputs of a case (CNY), all ≥ 0.
COST_FIELDS: tuple[str, ...] = ("one_off_cost", "yearly_cost", "cost_per_customer")
#: Effects a case may declare (missing ones are 0), with their unit and bilingual label.
EFFECTS: dict[str, tuple[str, str, str]] = {
    "retention_gain": ("share", "留存率提升", "Retention gain (pp of reached customers)"),
    "referral_gain": ("share", "推荐率提升", "Referral-rate gain (pp of reached customers)"),
    "spend_gain": ("share", "消费提升", "Spend gain (share of reached customers' spend)"),
    "extra_customers": ("customers/year", "新增客户", "Extra customers a year"),
    "satisfaction_gain": ("NPS points", "满意度提升(NPS)", "Satisfaction gain (NPS points)"),
    "complaint_reduction": ("share", "投诉减少", "Complaint reduction (share)"),
}
_INPUT_LABELS: dict[str, tuple[str, str]] = {
    "one_off_cost": ("一次性投入", "One-off cost"),
    "yearly_cost": ("年度费用", "Yearly cost"),
    "cost_per_customer": ("每客成本", "Cost per customer"),
    "reach": ("覆盖客户数/年", "Customers reached a year"),
    **{k: (zh, en) for k, (_, zh, en) in EFFECTS.items()},
}
INPUTS: tuple[str, ...] = (*COST_FIELDS, "reach", *EFFECTS)
#: Inputs that enter the cash flows (satisfaction and complaints are reported, not monetised:
#: their money effect runs through retention and referrals, which would otherwise count twice).
MONETARY_INPUTS: tuple[str, ...] = (*COST_FIELDS, "reach", "retention_gain", "referral_gain", "spend_gain",
                                    "extra_customers")
_CASE_FIELDS = {"id", "name_zh", "name_en", *COST_FIELDS, "reach", "effects", "group", "combines",
                "seed_claim", "attribution", "provenance", "centers"}
#: fields a case may give per center (under ``centers: {<center_id>: {...}}``)
_CENTER_FIELDS = {*COST_FIELDS, "reach", "effects", "provenance"}
_REQUIRED = ("id", "name_zh", "name_en", *COST_FIELDS, "reach", "effects", "provenance")
_CLAIM_FIELDS = {"text_zh", "text_en", "roi", "formula", "gain", "cost", "gain_note", "cost_note", "values"}
_FORMULAS = ("net_over_cost", "gain_over_cost")


@dataclass(frozen=True)
class Case:
    """One intervention case: costs, reach and effects as :class:`Quantity` ranges.

        >>> Case("x", "例", "Example", reach=Quantity.fixed(10)).inputs()["reach"].mode
        10.0
    """

    id: str
    name_zh: str
    name_en: str
    one_off_cost: Quantity = Quantity.fixed(0)
    yearly_cost: Quantity = Quantity.fixed(0)
    cost_per_customer: Quantity = Quantity.fixed(0)
    reach: Quantity = Quantity.fixed(0)
    effects: Mapping[str, Quantity] = field(default_factory=dict)
    group: str | None = None
    combines: tuple[str, ...] = ()
    seed_claim: Mapping[str, Any] | None = None
    attribution: str | None = None
    provenance: str = ""
    #: per-center figures of the cases file: center id -> {field: Quantity, "effects": {...}, "provenance": text}
    centers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    #: the center whose figures replaced the file's network figures (:func:`for_center`), else None
    center: str | None = None
    #: measured effects drawn from their estimated sampling distribution (:func:`update_program_value`);
    #: the inputs it drives are drawn from it by :func:`simulate`, their ranges serve :func:`tornado`
    sampling: JointNormal | None = field(default=None, compare=False)

    def inputs(self) -> dict[str, Quantity]:
        """All numeric inputs by name (effects not declared are fixed at 0)."""
        out = {k: getattr(self, k) for k in (*COST_FIELDS, "reach")}
        for k in EFFECTS:
            out[k] = self.effects.get(k, Quantity.fixed(0))
        return out

    def name(self, lang: Lang = "both") -> str:
        """Bilingual display name."""
        return bilingual(self.name_zh, self.name_en, lang)


def input_label(name: str, lang: Lang = "both") -> str:
    """Bilingual label of a case input.

        >>> input_label("reach", "en")
        'Customers reached a year'
    """
    return bilingual(*_INPUT_LABELS.get(name, (name, name)), lang=lang)


# ------------------------------------------------------------------------------ loading
class _UniqueKeyLoader:
    """A YAML SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    @staticmethod
    def make():
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = loader.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen[key] = 1
            return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _effects(raw: Any, where: str, err) -> dict[str, Quantity]:
    """The ``effects`` mapping of a case (or of a center's figures of it), checked: known
    effect names, shares within -1..1, no negative extra customers; ``where`` names it in errors."""
    if not isinstance(raw, Mapping):
        raise err("must be a mapping of effect name to a number or range", where)
    effects = {}
    for k, v in raw.items():
        if k not in EFFECTS:
            raise err(f"unknown effect (allowed: {', '.join(EFFECTS)})", f"{where}.{k}")
        qq = _quantity(v, f"{where}.{k}", err)
        if EFFECTS[k][0] == "share" and not (-1 <= qq.low and qq.high <= 1):
            raise err("a share must lie within -1..1 (0.05 = 5 percentage points)", f"{where}.{k}")
        if k == "extra_customers" and qq.low < 0:
            raise err("must not be negative", f"{where}.{k}")
        effects[k] = qq
    return effects


def _quantity(raw: Any, where: str, err) -> Quantity:
    if _is_number(raw):
        return Quantity.fixed(float(raw))
    if isinstance(raw, Mapping):
        keys = set(raw)
        if keys - {"low", "mode", "high"}:
            bad = sorted(map(str, keys - {"low", "mode", "high"}))[0]
            raise err(f"unknown key {bad!r} in a range (allowed: low, mode, high)", f"{where}.{bad}")
        for k in ("low", "mode", "high"):
            if k not in raw:
                raise err(f"missing {k!r} in a range (give low, mode and high, or one number)", f"{where}.{k}")
            if not _is_number(raw[k]):
                raise err(f"{k} must be a number, got {raw[k]!r}", f"{where}.{k}")
        lo, mo, hi = (float(raw[k]) for k in ("low", "mode", "high"))
        if not lo <= mo <= hi:
            raise err(f"range out of order: need low ≤ mode ≤ high, got {lo:g}, {mo:g}, {hi:g}", where)
        return Quantity(lo, mo, hi)
    raise err(f"must be a number or {{low, mode, high}}, got {raw!r}", where)


def _parse_case(raw: Any, pos: int, path: str, ids: set[str]) -> Case:
    label = f"#{pos + 1}"

    def err(msg: str, fld: str) -> DataError:
        return DataError(f"case {label}: field {fld}: {msg}", file=path, column=fld)

    if not isinstance(raw, Mapping):
        raise err(f"a case must be a mapping of fields, got {type(raw).__name__}", "(case)")
    if isinstance(raw.get("id"), str) and raw["id"].strip():
        label = repr(raw["id"])
    unknown = sorted(map(str, set(raw) - _CASE_FIELDS))
    if unknown:
        raise err(f"unknown field (allowed: {', '.join(sorted(_CASE_FIELDS))})", unknown[0])
    for f in _REQUIRED:
        if f not in raw or raw[f] is None:
            raise err("missing required field", f)
    for f in ("id", "name_zh", "name_en", "provenance"):
        if not isinstance(raw[f], str) or not raw[f].strip():
            raise err(f"must be a non-empty text, got {raw[f]!r}", f)
    cid = raw["id"].strip()
    if cid in ids:
        raise err("duplicate id: every case needs its own id", "id")
    q = {}
    for f in (*COST_FIELDS, "reach"):
        q[f] = _quantity(raw[f], f, err)
        if q[f].low < 0:
            raise err(f"must not be negative, got low = {q[f].low:g}", f)
    effects_raw = raw["effects"]
    effects = _effects(effects_raw, "effects", err)
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise err(f"must be a text naming a mutually exclusive group, got {group!r}", "group")
    combines = raw.get("combines") or []
    if not isinstance(combines, list) or not all(isinstance(c, str) for c in combines):
        raise err(f"must be a list of case ids, got {combines!r}", "combines")
    if combines and len(combines) < 2:
        raise err("a combination names at least two cases", "combines")
    attribution = raw.get("attribution")
    if attribution is not None and not isinstance(attribution, str):
        raise err("must be a text", "attribution")
    claim = raw.get("seed_claim")
    if claim is not None:
        if not isinstance(claim, Mapping):
            raise err("must be a mapping", "seed_claim")
        bad = sorted(map(str, set(claim) - _CLAIM_FIELDS))
        if bad:
            raise err(f"unknown field (allowed: {', '.join(sorted(_CLAIM_FIELDS))})", f"seed_claim.{bad[0]}")
        for k in ("roi",):
            if k in claim and not _is_number(claim[k]):
                raise err(f"must be a number, got {claim[k]!r}", f"seed_claim.{k}")
        for k in ("gain", "cost"):
            if k in claim and not (_is_number(claim[k]) or claim[k] in ("first_year_revenue", "first_year_cost")):
                raise err(f"must be a number, 'first_year_revenue' or 'first_year_cost', got {claim[k]!r}",
                          f"seed_claim.{k}")
            if k in claim and _is_number(claim[k]) and claim[k] < 0:
                raise err("must not be negative", f"seed_claim.{k}")
        if "roi" in claim:
            for k in ("gain", "cost", "formula"):
                if k not in claim:
                    raise err("missing: a claimed ROI needs gain, cost and formula", f"seed_claim.{k}")
            if claim["formula"] not in _FORMULAS:
                raise err(f"must be one of {', '.join(_FORMULAS)}, got {claim['formula']!r}", "seed_claim.formula")
        if "values" in claim and not (isinstance(claim["values"], Mapping)
                                      and all(_is_number(v) for v in claim["values"].values())):
            raise err("must be a mapping of names to numbers", "seed_claim.values")
        claim = dict(claim)
    centers = _parse_centers(raw.get("centers"), err)
    return Case(id=cid, name_zh=raw["name_zh"].strip(), name_en=raw["name_en"].strip(), **q, effects=effects,
                group=group.strip() if group else None, combines=tuple(combines), seed_claim=claim,
                attribution=attribution.strip() if attribution else None, provenance=raw["provenance"].strip(),
                centers=centers)


def _parse_centers(raw: Any, err) -> dict[str, dict[str, Any]]:
    """The optional ``centers:`` block of a case: per center id, figures that replace the case's own."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not raw:
        raise err("must be a mapping of center id to the figures of that center", "centers")
    out: dict[str, dict[str, Any]] = {}
    for cid, fields in raw.items():
        where = f"centers.{cid}"
        if not isinstance(cid, str) or not cid.strip():
            raise err(f"a center id must be a non-empty text, got {cid!r}", "centers")
        if not isinstance(fields, Mapping) or not fields:
            raise err(f"must be a mapping of fields (allowed: {', '.join(sorted(_CENTER_FIELDS))})", where)
        bad = sorted(map(str, set(fields) - _CENTER_FIELDS))
        if bad:
            raise err(f"unknown field (allowed: {', '.join(sorted(_CENTER_FIELDS))})", f"{where}.{bad[0]}")
        got: dict[str, Any] = {}
        for f in (*COST_FIELDS, "reach"):
            if f in fields:
                got[f] = _quantity(fields[f], f"{where}.{f}", err)
                if got[f].low < 0:
                    raise err(f"must not be negative, got low = {got[f].low:g}", f"{where}.{f}")
        if "effects" in fields:
            got["effects"] = _effects(fields["effects"], f"{where}.effects", err)
        if "provenance" in fields:
            if not isinstance(fields["provenance"], str) or not fields["provenance"].strip():
                raise err(f"must be a non-empty text, got {fields['provenance']!r}", f"{where}.provenance")
            got["provenance"] = fields["provenance"].strip()
        out[cid.strip()] = got
    return out


def for_center(cases: Sequence[Case], center: str) -> list[Case]:
    """The cases as they apply to one center: a case whose ``centers:`` block names ``center``
    takes that center's figures (costs, reach, the effects it lists; other effects stay the
    case's own) and says so in its ``center`` and provenance; every other case, and every case
    for the network (``"all"``), is the file's own.

        >>> c = Case("x", "例", "Ex", reach=Quantity.fixed(3000), centers={"SH-JQ": {"reach": Quantity.fixed(800)}})
        >>> [k.reach.mode for k in for_center([c], "SH-JQ")], for_center([c], "SH-JQ")[0].center
        ([800.0], 'SH-JQ')
        >>> for_center([c], "all")[0].reach.mode
        3000.0
    """
    out = []
    for c in cases:
        figures = c.centers.get(center) if center != "all" else None
        if not figures:
            out.append(c)
            continue
        changes: dict[str, Any] = {k: v for k, v in figures.items() if k in (*COST_FIELDS, "reach")}
        if "effects" in figures:
            changes["effects"] = {**c.effects, **figures["effects"]}
        named = ", ".join(sorted(k for k in figures if k != "provenance"))
        note = f" Figures for center {center} ({named}) from the cases file"
        note += f": {figures['provenance']}" if figures.get("provenance") else "."
        out.append(dataclasses.replace(c, center=center, provenance=c.provenance + note, **changes))
    return out


def parse_cases(data: Any, path: str = "<cases>") -> list[Case]:
    """Validate already-parsed YAML data (``{"cases": [...]}``) into cases; see :func:`load_cases`.

        >>> parse_cases({"cases": [{"id": "x", "name_zh": "例", "name_en": "Ex", "one_off_cost": 0,
        ...   "yearly_cost": 0, "cost_per_customer": 0, "reach": 10, "effects": {}, "provenance": "test"}]})[0].id
        'x'
    """
    if not isinstance(data, Mapping) or "cases" not in data:
        raise DataError("the file must be a mapping with a top-level 'cases:' list", file=path, column="cases")
    extra = sorted(map(str, set(data) - {"cases", "version", "currency"}))
    if extra:
        raise DataError(f"unknown top-level field {extra[0]!r} (allowed: version, currency, cases)",
                        file=path, column=extra[0])
    raw_cases = data["cases"]
    if not isinstance(raw_cases, list) or not raw_cases:
        raise DataError("'cases' must be a non-empty list", file=path, column="cases")
    cases: list[Case] = []
    ids: set[str] = set()
    for i, raw in enumerate(raw_cases):
        c = _parse_case(raw, i, path, ids)
        ids.add(c.id)
        cases.append(c)
    for c in cases:
        for other in c.combines:
            if other == c.id:
                raise DataError(f"case {c.id!r}: field combines: a case cannot combine itself",
                                file=path, column="combines")
            if other not in ids:
                raise DataError(f"case {c.id!r}: field combines: {other!r} is not another case of the file",
                                file=path, column="combines")
    return cases


CASES_FILE = paths.CASES_FILE


def cases_path(cases_file: str | os.PathLike[str] | None, raw_dir: str | os.PathLike[str] | None) -> Path | None:
    """The cases file of a run: ``cases_file`` when given, else ``cases_interventions.yaml`` of
    the raw folder (the raw folder is the unit: never the shipped sample's file). None when
    neither is given. Whether the file exists is :func:`cxlib.results.missing_file`'s question.

        >>> cases_path(None, "data/raw").as_posix(), cases_path("my/cases.yaml", "data/raw").as_posix()
        ('data/raw/cases_interventions.yaml', 'my/cases.yaml')
    """
    if cases_file not in (None, ""):
        return Path(cases_file)
    return None if raw_dir in (None, "") else Path(raw_dir) / CASES_FILE


def load_cases(path: str | os.PathLike[str], center: str | None = None) -> list[Case]:
    """Read and validate the intervention cases file (schema: ``docs/roi-cases.md``); with
    ``center``, the cases as they apply to that center (:func:`for_center`).

    A bad file raises :class:`DataError` naming the file, the case and the field.

        >>> cases = load_cases("data/raw/cases_interventions.yaml")   # doctest: +SKIP
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("cases file not found", file=str(p)) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 text ({e.reason})", file=str(p)) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader.make())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        where = f"YAML syntax error at line {line}" if line else "YAML syntax error"
        raise DataError(f"{where}: {problem}", file=str(p)) from None
    cases = parse_cases(data, str(p))
    return cases if center is None else for_center(cases, center)


def _case_by_id(cases: Sequence[Case], case_id: str) -> Case:
    for c in cases:
        if c.id == case_id:
            return c
    raise KeyError(f"no case {case_id!r}; known: {', '.join(c.id for c in cases)}")


# ============================================================================ cash flows
def _as_arrays(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}


def _cash_flows(v: Mapping[str, np.ndarray], a: Assumptions, horizon_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Monthly gains and costs, shape (n, 12·H + 1), month 0 first (see the module docstring)."""
    h = int(horizon_years)
    if h != horizon_years or h < 1:
        raise DataError(f"horizon_years must be a whole number ≥ 1, got {horizon_years!r}", column="horizon_years")
    n = max(len(x) for x in v.values())
    r = a.retention_great
    won = v["extra_customers"] + v["reach"] * v["referral_gain"] * a.new_customers_per_referrer
    kept = v["reach"] * v["retention_gain"]
    s = np.concatenate([[0.0], np.cumsum(r ** np.arange(h))])  # s[k] = Σ_{i<k} r^i
    years = np.arange(1, h + 1)
    active = won[:, None] * s[years][None, :] + kept[:, None] * s[years - 1][None, :]
    gain_y = a.margin * a.yearly_spend * (active + (v["reach"] * v["spend_gain"])[:, None])
    cost_y = np.broadcast_to((v["yearly_cost"] + v["cost_per_customer"] * v["reach"])[:, None], (n, h))
    gains = np.zeros((n, 12 * h + 1))
    costs = np.zeros((n, 12 * h + 1))
    gains[:, 1:] = np.repeat(gain_y / 12, 12, axis=1)
    costs[:, 1:] = np.repeat(cost_y / 12, 12, axis=1)
    costs[:, 0] = v["one_off_cost"]
    return gains, costs


def _payback(net: np.ndarray) -> np.ndarray:
    """Months until the undiscounted cumulative cash flow reaches 0 and stays ≥ 0 to the end of the
    horizon (linear within the month of the crossing); 0 if it is never negative, inf if it ends < 0."""
    cum = np.cumsum(net, axis=1)
    tol = 1e-9 * np.maximum(1.0, np.abs(net).max(axis=1, keepdims=True))
    ok = cum >= -tol
    stays = np.flip(np.logical_and.accumulate(np.flip(ok, axis=1), axis=1), axis=1)
    out = np.full(net.shape[0], np.inf)
    for i in np.flatnonzero(stays[:, -1]):
        m = int(stays[i].argmax())
        if m == 0:
            out[i] = 0.0
        else:
            prev, step = cum[i, m - 1], net[i, m]
            out[i] = (m - 1) + (min(1.0, -prev / step) if step > 0 else 1.0)
    return out


def _metrics(v: Mapping[str, np.ndarray], a: Assumptions, horizon_years: int, discount_rate: float
             ) -> dict[str, np.ndarray]:
    if discount_rate <= -1:
        raise DataError(f"discount_rate must exceed -1, got {discount_rate!r}", column="discount_rate")
    gains, costs = _cash_flows(v, a, horizon_years)
    disc = (1 + discount_rate) ** (-np.arange(gains.shape[1]) / 12)
    pv_gain = gains @ disc
    pv_cost = costs @ disc
    npv = pv_gain - pv_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(pv_cost > 0, npv / np.where(pv_cost > 0, pv_cost, 1.0),
                       np.where(npv > 0, np.inf, np.where(npv < 0, -np.inf, np.nan)))
    first_cost = v["one_off_cost"] + v["yearly_cost"] + v["cost_per_customer"] * v["reach"]
    return {"first_year_cost": np.broadcast_to(first_cost, npv.shape).astype(float),
            "pv_gain": pv_gain, "pv_cost": pv_cost, "npv": npv, "roi": roi,
            "payback_months": _payback(gains - costs)}


def cash_flows(case: Case, assumptions: Assumptions | None = None, horizon_years: int = DEFAULT_HORIZON_YEARS,
               at: Literal["mode", "low", "high", "mean"] = "mode") -> pd.DataFrame:
    """Monthly cash flows of a case with every input at its mode (or low / high / mean).

    One row per month 0..12·H: ``year``, ``gain``, ``cost``, ``net``, ``cumulative``.

        >>> cf = cash_flows(Case("x", "例", "Ex", one_off_cost=Quantity.fixed(120)), horizon_years=1)
        >>> float(cf["cumulative"].iloc[-1])
        -120.0
    """
    a = assumptions or Assumptions()
    vals = _point_inputs(case, at)
    gains, costs = _cash_flows(_as_arrays(vals), a, horizon_years)
    months = np.arange(gains.shape[1])
    net = gains[0] - costs[0]
    return pd.DataFrame({"month": months, "year": np.ceil(months / 12).astype(int), "gain": gains[0],
                         "cost": costs[0], "net": net, "cumulative": np.cumsum(net)})


def _point_inputs(case: Case, at: str) -> dict[str, float]:
    if at not in ("mode", "low", "high", "mean"):
        raise ValueError(f"at must be 'mode', 'low', 'high' or 'mean', not {at!r}")
    return {k: (q.mean() if at == "mean" else getattr(q, at)) for k, q in case.inputs().items()}


# ============================================================================ evaluation
def attribution_note(case: Case) -> str:
    """Plain words on whether the case's claim rests on attribution assumptions ("" if none).

        >>> attribution_note(Case("x", "例", "Ex", attribution="Credits a lifetime to a gift."))
        'Credits a lifetime to a gift.'
    """
    return case.attribution or ""


def evaluate(case: Case, assumptions: Assumptions | None = None, horizon_years: int = DEFAULT_HORIZON_YEARS,
             discount_rate: float = DEFAULT_DISCOUNT_RATE, at: Literal["mode", "low", "high", "mean"] = "mode"
             ) -> dict[str, Any]:
    """NPV, ROI and payback of a case with its inputs at their modes (or ``at``).

    Keys: id, name_zh, name_en, group, combines, first_year_cost, pv_gain, pv_cost, npv, roi,
    payback_months (``inf``: not within the horizon), satisfaction_gain, satisfaction (gain × reach),
    attribution_note.

        >>> evaluate(case, horizon_years=3, discount_rate=0.08)["npv"]      # doctest: +SKIP
    """
    a = assumptions or Assumptions()
    vals = _point_inputs(case, at)
    m = _metrics(_as_arrays(vals), a, horizon_years, discount_rate)
    return {"id": case.id, "name_zh": case.name_zh, "name_en": case.name_en, "group": case.group,
            "combines": ",".join(case.combines),
            **{k: float(x[0]) for k, x in m.items()},
            "satisfaction_gain": vals["satisfaction_gain"],
            "satisfaction": vals["satisfaction_gain"] * vals["reach"],
            "attribution_note": attribution_note(case)}


def cases_table(cases: Sequence[Case], assumptions: Assumptions | None = None,
                horizon_years: int = DEFAULT_HORIZON_YEARS, discount_rate: float = DEFAULT_DISCOUNT_RATE,
                at: Literal["mode", "low", "high", "mean"] = "mode") -> pd.DataFrame:
    """:func:`evaluate` for every case: one row per case, in file order (input of :func:`best_portfolio`).

        >>> cases_table(load_cases("data/raw/cases_interventions.yaml"))   # doctest: +SKIP
    """
    return pd.DataFrame([evaluate(c, assumptions, horizon_years, discount_rate, at) for c in cases])


def seed_point_roi(case: Case, assumptions: Assumptions | None = None) -> dict[str, Any] | None:
    """Reproduce the case's original point ROI claim by the claim's own arithmetic.

    ``formula`` ``net_over_cost``: (gain − cost)/cost; ``gain_over_cost``: gain/cost. ``gain`` /
    ``cost`` are the claim's numbers, or ``first_year_revenue`` (revenue at margin 1 in year 1:
    ``yearly_spend · (extra_customers + reach·(retention_gain + referral_gain + spend_gain))``) /
    ``first_year_cost`` (one-off + yearly + per-customer · reach) computed from the modes.
    Returns None when the case makes no ROI claim.

        >>> seed_point_roi(kids_corner)["roi"]      # doctest: +SKIP
        6.5
    """
    claim = case.seed_claim or {}
    if "roi" not in claim:
        return None
    a = assumptions or Assumptions()
    mode = _point_inputs(case, "mode")

    def value(v: Any) -> float:
        if v == "first_year_revenue":
            per = mode["retention_gain"] + mode["referral_gain"] * a.new_customers_per_referrer + mode["spend_gain"]
            return a.yearly_spend * (mode["extra_customers"] + mode["reach"] * per)
        if v == "first_year_cost":
            return mode["one_off_cost"] + mode["yearly_cost"] + mode["cost_per_customer"] * mode["reach"]
        return float(v)

    gain, cost = value(claim["gain"]), value(claim["cost"])
    if cost <= 0:
        raise DataError(f"case {case.id!r}: the claimed ROI has no cost to divide by", column="seed_claim.cost")
    roi = (gain - cost) / cost if claim["formula"] == "net_over_cost" else gain / cost
    claimed = float(claim["roi"])
    return {"id": case.id, "claimed_roi": claimed, "roi": roi, "gain": gain, "cost": cost,
            "formula": claim["formula"], "reproduced": math.isclose(roi, claimed, rel_tol=1e-9, abs_tol=1e-12),
            "attribution_note": attribution_note(case)}


# =========================================================================== Monte Carlo
def simulate(cases: Case | Sequence[Case], n_sims: int = 10_000, seed: int = 20261001,
             assumptions: Assumptions | None = None, horizon_years: int = DEFAULT_HORIZON_YEARS,
             discount_rate: float = DEFAULT_DISCOUNT_RATE, distribution: Distribution = "triangular"
             ) -> pd.DataFrame:
    """Monte Carlo draws of every uncertain input and the resulting NPV, ROI and payback.

    Each input is drawn independently from a triangular (default) or PERT distribution over its
    ``{low, mode, high}``, except those a case's ``sampling`` (:class:`JointNormal`) drives: these
    come from the measured effects' estimated sampling distribution (normal on the models' scales,
    with their covariance), drawn first. One ``numpy.random.default_rng(seed)`` stream, cases in
    the given order, inputs in :data:`INPUTS` order, so the same seed gives the same draws.
    One row per (case, draw): ``id``, ``name_zh``, ``name_en``, ``sim``, the inputs, ``first_year_cost``, ``pv_gain``,
    ``pv_cost``, ``npv``, ``roi``, ``payback_months``.

        >>> sims = simulate(cases, n_sims=5000, seed=1)                     # doctest: +SKIP
    """
    if isinstance(cases, Case):
        cases = [cases]
    if int(n_sims) != n_sims or n_sims < 1:
        raise DataError(f"n_sims must be a whole number ≥ 1, got {n_sims!r}", column="n_sims")
    n = int(n_sims)
    a = assumptions or Assumptions()
    rng = np.random.default_rng(seed)
    frames = []
    for c in cases:
        joint = c.sampling.draw(rng, n) if c.sampling is not None else {}
        draws = {k: joint[k] if k in joint else q.draw(rng, n, distribution) for k, q in c.inputs().items()}
        m = _metrics(draws, a, horizon_years, discount_rate)
        df = pd.DataFrame({"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "sim": np.arange(n),
                           **draws, **m})
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def roi_summary(sims: pd.DataFrame, by: str = "id") -> pd.DataFrame:
    """Per case: mean, P5, P50, P95 of NPV and ROI, P(ROI > 0), P(NPV > 0), median payback.

        >>> roi_summary(simulate(cases, 2000, seed=1))                     # doctest: +SKIP
    """
    need = [by, "npv", "roi", "payback_months"]
    require_columns(sims, need, "simulation")
    rows = []
    for key, g in sims.groupby(by, sort=False):
        row: dict[str, Any] = {by: key, "n_sims": len(g)}
        for col in ("npv", "roi"):
            x = g[col].to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                row[f"{col}_mean"] = float(np.mean(x))  # inf when some ROI is unbounded (no cost)
            for p in (5, 50, 95):
                row[f"{col}_p{p}"] = float(np.quantile(x, p / 100, method="inverted_cdf"))
        row["p_roi_positive"] = float(np.mean(g["roi"].to_numpy(dtype=float) > 0))
        row["p_npv_positive"] = float(np.mean(g["npv"].to_numpy(dtype=float) > 0))
        row["payback_months_p50"] = float(np.quantile(g["payback_months"].to_numpy(dtype=float), 0.5,
                                                      method="inverted_cdf"))
        rows.append(row)
    return pd.DataFrame(rows)


def tornado(case: Case, assumptions: Assumptions | None = None, horizon_years: int = DEFAULT_HORIZON_YEARS,
            discount_rate: float = DEFAULT_DISCOUNT_RATE) -> pd.DataFrame:
    """One-at-a-time sensitivity: each uncertain input at its low and high, the others at their modes.

    One row per uncertain money input (:data:`MONETARY_INPUTS`), largest ``swing`` (|NPV at high − NPV at low|) first:
    ``id``, ``name_zh``, ``name_en``, ``input``, ``label_zh``, ``label_en``, ``low``, ``mode``, ``high``, ``npv_low``, ``npv_high``,
    ``npv_base``, ``swing``.

        >>> tornado(kids_corner).iloc[0]["input"]                          # doctest: +SKIP
    """
    a = assumptions or Assumptions()
    base = _point_inputs(case, "mode")
    npv_base = float(_metrics(_as_arrays(base), a, horizon_years, discount_rate)["npv"][0])
    rows = []
    for k, q in case.inputs().items():
        if q.is_fixed or k not in MONETARY_INPUTS:
            continue
        res = []
        for x in (q.low, q.high):
            vals = dict(base, **{k: x})
            res.append(float(_metrics(_as_arrays(vals), a, horizon_years, discount_rate)["npv"][0]))
        zh, en = _INPUT_LABELS[k]
        rows.append({"id": case.id, "name_zh": case.name_zh, "name_en": case.name_en, "input": k, "label_zh": zh, "label_en": en, "low": q.low, "mode": q.mode, "high": q.high,
                     "npv_low": res[0], "npv_high": res[1], "npv_base": npv_base, "swing": abs(res[1] - res[0])})
    cols = ["id", "name_zh", "name_en", "input", "label_zh", "label_en", "low", "mode", "high", "npv_low", "npv_high", "npv_base", "swing"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["swing", "input"], ascending=[False, True], kind="stable").reset_index(drop=True)


def claims_table(cases: Sequence[Case], assumptions: Assumptions | None = None,
                 horizon_years: int = DEFAULT_HORIZON_YEARS, discount_rate: float = DEFAULT_DISCOUNT_RATE,
                 n_sims: int = 10_000, seed: int = 20261001, summary: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """The original claims next to their re-examination: one row per case with an ROI claim.

    Columns: id, name_zh, name_en, claimed_roi, seed_roi (reproduced by the claim's arithmetic),
    reproduced, model_roi (modes), roi_p5, roi_p50, roi_p95, p_roi_positive, attribution_note.
    The Monte Carlo columns come from ``summary`` (a :func:`roi_summary` of all cases, so the
    figures match the other tables) when given, else from a simulation of each claimed case alone.

        >>> claims_table(cases, n_sims=2000, seed=1)                       # doctest: +SKIP
    """
    if summary is not None:
        require_columns(summary, ["id"], "summary")
    rows = []
    for c in cases:
        sp = seed_point_roi(c, assumptions)
        if sp is None:
            continue
        ev = evaluate(c, assumptions, horizon_years, discount_rate)
        if summary is not None:
            hit = summary.loc[summary["id"] == c.id]
            if hit.empty:
                raise DataError(f"summary has no row for case {c.id!r}", column="id")
            summ = hit.iloc[0]
        else:
            summ = roi_summary(simulate(c, n_sims, seed, assumptions, horizon_years, discount_rate)).iloc[0]
        rows.append({"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "claimed_roi": sp["claimed_roi"],
                     "seed_roi": sp["roi"], "reproduced": sp["reproduced"], "model_roi": ev["roi"],
                     "roi_p5": summ["roi_p5"], "roi_p50": summ["roi_p50"], "roi_p95": summ["roi_p95"],
                     "p_roi_positive": summ["p_roi_positive"], "attribution_note": attribution_note(c)})
    return pd.DataFrame(rows, columns=["id", "name_zh", "name_en", "claimed_roi", "seed_roi", "reproduced",
                                       "model_roi", "roi_p5", "roi_p50", "roi_p95", "p_roi_positive",
                                       "attribution_note"])


# ============================================================================= portfolio
def _conflict_components(ids: list[str], groups: list[set[str]], combos: dict[str, tuple[str, ...]]
                         ) -> list[list[str]]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        parent[find(x)] = find(y)

    for g in groups:
        members = [m for m in g if m in parent]
        for m in members[1:]:
            union(members[0], m)
    for c, parts in combos.items():
        members = [m for m in (c, *parts) if m in parent]  # the parts stay linked without the combination
        for m in members[1:]:
            union(members[0], m)
    comps: dict[str, list[str]] = {}
    for i in ids:
        comps.setdefault(find(i), []).append(i)
    return list(comps.values())


def _valid(sel: set[str], groups: list[set[str]], combos: dict[str, tuple[str, ...]]) -> bool:
    for g in groups:
        if len(sel & g) > 1:
            return False
    for c, parts in combos.items():
        if c in sel and sel & set(parts):
            return False  # a combination and one of its parts: double counting
        if set(parts) <= sel:
            return False  # all parts chosen one by one: choose the combination case instead
    return True


def best_portfolio(cases_table: pd.DataFrame, budget: float, objective: str = "npv",
                   exclusive_groups: Iterable[Iterable[str]] | None = None, cost: str = "first_year_cost",
                   id_col: str = "id") -> pd.DataFrame:
    """The set of cases with the highest total ``objective`` whose total ``cost`` fits the budget.

    Exact 0/1 knapsack: cases are split into independent blocks (linked by a mutually
    exclusive group or by a combination), every valid choice within a block is enumerated,
    and blocks are combined by dynamic programming over (cost, value) Pareto states, so real
    costs need no rounding. Constraints: at most one case per ``exclusive_groups`` set (default:
    the ``group`` column, e.g. farewell levels 1–3); a combination case (``combines`` column,
    e.g. A+C) is never chosen with one of its parts, nor are all its parts chosen one by one
    (its effects already count their overlap). Cases whose value is ≤ 0 are never chosen.
    ``objective``: ``"npv"``, ``"satisfaction"`` (NPS points × customers reached) or any numeric
    column. Returns the chosen rows (id, names, cost, value), highest value first;
    ``attrs["total_cost"]`` / ``attrs["total_value"]`` hold the totals.

        >>> best_portfolio(cases_table(cases), budget=50_000, objective="satisfaction")  # doctest: +SKIP
    """
    df = cases_table
    require_columns(df, [id_col, objective, cost], "cases")
    if not _is_number(budget) or budget < 0:
        raise DataError(f"budget must be a number ≥ 0, got {budget!r}", column="budget")
    ids = [str(i) for i in df[id_col]]
    if len(set(ids)) != len(ids):
        raise DataError("cases table has duplicate ids", column=id_col)
    values = dict(zip(ids, pd.to_numeric(df[objective]).astype(float)))
    costs = dict(zip(ids, pd.to_numeric(df[cost]).astype(float)))
    for i in ids:
        if not math.isfinite(values[i]):
            raise DataError(f"{objective} of case {i!r} is not a finite number", column=objective)
        if not math.isfinite(costs[i]) or costs[i] < 0:
            raise DataError(f"{cost} of case {i!r} must be a finite number ≥ 0", column=cost)
    groups: list[set[str]] = []
    if exclusive_groups is not None:
        groups = [set(map(str, g)) for g in exclusive_groups]
    elif "group" in df.columns:
        by: dict[str, set[str]] = {}
        for i, g in zip(ids, df["group"]):
            if isinstance(g, str) and g:
                by.setdefault(g, set()).add(i)
        groups = list(by.values())
    combos: dict[str, tuple[str, ...]] = {}
    if "combines" in df.columns:
        for i, c in zip(ids, df["combines"]):
            parts = tuple(p for p in (c.split(",") if isinstance(c, str) else (c or ())) if p)
            if parts:
                combos[i] = parts
    cand = [i for i in ids if values[i] > 0]
    tol = 1e-9 * max(1.0, float(budget))
    # states: (cost, value, chosen ids), Pareto-optimal: cost ascending, value strictly ascending
    states: list[tuple[float, float, tuple[str, ...]]] = [(0.0, 0.0, ())]
    for comp in _conflict_components(cand, groups, combos):
        comp = sorted(comp)
        if len(comp) > 20:
            raise DataError(f"{len(comp)} cases are linked by exclusive groups / combinations; at most 20",
                            column="group")
        alts = []
        for k in range(len(comp) + 1):
            for sub in itertools.combinations(comp, k):
                if _valid(set(sub), groups, combos):
                    alts.append((sum(costs[s] for s in sub), sum(values[s] for s in sub), sub))
        new = [(c0 + c1, v0 + v1, s0 + s1) for (c0, v0, s0) in states for (c1, v1, s1) in alts
               if c0 + c1 <= budget + tol]
        new.sort(key=lambda t: (t[0], -t[1], len(t[2]), sorted(t[2])))
        states = []
        for st in new:
            if not states or st[1] > states[-1][1] + 1e-12 * max(1.0, abs(st[1])):
                states.append(st)
    best = max(states, key=lambda t: (t[1], -t[0]))
    chosen = set(best[2])
    name_cols = [c for c in ("name_zh", "name_en", "group") if c in df.columns]
    out = df.loc[[i in chosen for i in ids], [id_col, *name_cols]].copy()
    out["cost"] = [costs[i] for i in out[id_col].astype(str)]
    out["value"] = [values[i] for i in out[id_col].astype(str)]
    out["objective"] = objective
    out = out.sort_values(["value", id_col], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs["total_cost"] = float(best[0])
    out.attrs["total_value"] = float(best[1])
    out.attrs["budget"] = float(budget)
    return out


# ======================================================================= proactive updates
_UPDATE_DEFAULTS = {
    "complaint_rate_ratio_per_update": {"estimate": 0.85, "ci_low": 0.75, "ci_high": 0.95},
    "ltr_slope_per_update": {"estimate": 0.30, "ci_low": 0.15, "ci_high": 0.45},
}


def _effect_input(arg: Any, key: str, results: Mapping[str, Any]) -> tuple[dict[str, float], str]:
    if arg is not None:
        if _is_number(arg):
            return {"estimate": float(arg), "ci_low": float(arg), "ci_high": float(arg)}, "argument"
        src = "argument"
        raw = arg
    elif key in results and results[key] is not None:
        src, raw = "results.json", results[key]
    else:
        return dict(_UPDATE_DEFAULTS[key]), "default"
    if not isinstance(raw, Mapping) or not all(_is_number(raw.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        raise DataError(f"{key} needs numeric estimate, ci_low and ci_high, got {raw!r}", column=key)
    out = {k: float(raw[k]) for k in ("estimate", "ci_low", "ci_high")}
    if not out["ci_low"] <= out["estimate"] <= out["ci_high"]:
        raise DataError(f"{key}: need ci_low ≤ estimate ≤ ci_high, got {out}", column=key)
    return out, src


#: the two-sided level of the recorded effect intervals (notebook 03 records 95 % intervals)
EFFECT_CI_LEVEL = 0.95
#: Why the two update effects are drawn independently unless a correlation is given.
INDEPENDENCE_NOTE = ("The LTR slope (OLS) and the complaint rate ratio (negative binomial or Poisson) come from "
                     "separate models fitted on the same visits; no joint covariance of the two estimates is "
                     "recorded, so they are drawn independently (correlation 0).")


def effect_sampling(key: str, entry: Mapping[str, float], level: float = EFFECT_CI_LEVEL) -> dict[str, Any]:
    """The normal sampling distribution of one measured update effect on its model's scale.

    The complaint rate ratio is normal on the log scale (the model's coefficient), the LTR slope
    in LTR points. ``mean`` is the estimate on that scale; ``sd`` the standard error implied by
    the ``level`` interval: ``(g(ci_high) − g(ci_low)) / (2 z)``, ``z`` the normal quantile, so
    the central ``level`` of the draws is the recorded interval (for a t interval with G − 1 df
    this is the model's SE times t/z: the few-cluster width is kept). A point (``ci_low =
    ci_high``) has ``sd`` 0.

        >>> d = effect_sampling("ltr_slope_per_update", {"estimate": 0.3, "ci_low": 0.1, "ci_high": 0.5})
        >>> d["scale"], round(d["sd"], 4)
        ('LTR points', 0.102)
    """
    if key not in UPDATE_EFFECT_KEYS:
        raise DataError(f"unknown update effect {key!r}: one of {', '.join(UPDATE_EFFECT_KEYS)}", column=key)
    if not 0 < level < 1:
        raise DataError(f"level must lie between 0 and 1, got {level!r}", column="level")
    est, lo, hi = (float(entry[k]) for k in ("estimate", "ci_low", "ci_high"))
    if key == "complaint_rate_ratio_per_update":
        if lo <= 0:
            raise DataError("complaint rate ratio must be > 0", column=key)
        scale, g = "log rate ratio", math.log
    else:
        scale, g = "LTR points", lambda x: float(x)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return {"scale": scale, "mean": g(est), "sd": (g(hi) - g(lo)) / (2 * z)}


def update_program_value(rate_ratio_per_update: float | Mapping[str, float] | None = None,
                         ltr_slope_per_update: float | Mapping[str, float] | None = None, *,
                         results_path: str | os.PathLike[str] | None = None, extra_updates: float = 2.0,
                         visits_per_year: float = DEFAULT_VISITS_PER_YEAR, cost_per_update: float = 0.5,
                         one_off_cost: float = 0.0, assumptions: Assumptions | None = None,
                         horizon_years: int = DEFAULT_HORIZON_YEARS, discount_rate: float = DEFAULT_DISCOUNT_RATE,
                         correlation: float | None = None) -> dict[str, Any]:
    """Money value of sending ``extra_updates`` more proactive updates per visit.

    Effects per update come from the argument, else from ``results_path`` (keys
    ``complaint_rate_ratio_per_update`` and ``ltr_slope_per_update``, each
    ``{estimate, ci_low, ci_high}``, recorded by notebook 03; a folder means its ``results.json``),
    else from documented defaults.
    Two channels, kept apart so nothing is counted twice:

    * complaints → retention: ``retention_gain = complaint_rate · (1 − RR^n) ·
      (retention_great − retention_bad)`` (an avoided complaint turns a bad experience into a great one);
    * LTR → referrals: ``referral_gain = slope · n · referral_per_ltr_point``.

    :func:`simulate` draws the two effects from their estimated sampling distribution
    (:func:`effect_sampling`: normal on the log rate ratio and on LTR points, SEs implied by the
    95 % intervals) and carries each draw through the two channels (the case's ``sampling``).
    ``correlation`` is that of the two estimates on these scales, when a joint fit gives it; by
    default they are drawn independently (:data:`INDEPENDENCE_NOTE`). The CI bounds remain the
    ``{low, high}`` of the case's ranges (the estimate its mode) for :func:`tornado` and the
    inputs table. Returns ``{"case", "evaluation", "inputs", "source"}``; ``inputs["sampling"]``
    holds the two normals, the correlation and its note; ``source`` says per key where the
    effect came from (``argument`` / ``results.json`` / ``default``).

        >>> update_program_value(results_path="data/processed/results.json")["source"]   # doctest: +SKIP
    """
    from cxlib import results as _results

    a = assumptions or Assumptions()
    rp = Path(results_path) if results_path else None
    if rp is not None and rp.is_dir():
        rp = rp / "results.json"  # a processed-data folder
    res = _results.read(rp) if rp is not None else {}
    rr, rr_src = _effect_input(rate_ratio_per_update, "complaint_rate_ratio_per_update", res)
    slope, slope_src = _effect_input(ltr_slope_per_update, "ltr_slope_per_update", res)
    if rr["ci_low"] <= 0:
        raise DataError("complaint rate ratio must be > 0", column="complaint_rate_ratio_per_update")
    n = float(extra_updates)

    def ret_gain(ratio: float) -> float:
        return a.complaint_rate * (1 - ratio ** n) * (a.retention_great - a.retention_bad)

    def ref_gain(s: float) -> float:
        return s * n * a.referral_per_ltr_point

    ret = Quantity(*sorted((ret_gain(rr["ci_high"]), ret_gain(rr["estimate"]), ret_gain(rr["ci_low"]))))
    ref = Quantity(*sorted((ref_gain(slope["ci_low"]), ref_gain(slope["estimate"]), ref_gain(slope["ci_high"]))))
    ref = Quantity(*(min(max(x, -1.0), 1.0) for x in (ref.low, ref.mode, ref.high)))
    d_rr = effect_sampling("complaint_rate_ratio_per_update", rr)
    d_slope = effect_sampling("ltr_slope_per_update", slope)
    if correlation is None:
        rho, rho_note = 0.0, INDEPENDENCE_NOTE
    elif _is_number(correlation) and -1 <= float(correlation) <= 1:
        rho, rho_note = float(correlation), "Correlation of the two estimates as given."
    else:
        raise DataError(f"correlation must be a number from -1 to 1, got {correlation!r}", column="correlation")
    cov = rho * d_rr["sd"] * d_slope["sd"]
    sampling = JointNormal(
        names=("log_complaint_rate_ratio_per_update", "ltr_slope_per_update"),
        mean=(d_rr["mean"], d_slope["mean"]), cov=((d_rr["sd"] ** 2, cov), (cov, d_slope["sd"] ** 2)),
        inputs={"retention_gain": lambda z: a.complaint_rate * (1 - np.exp(n * z[:, 0]))
                * (a.retention_great - a.retention_bad),
                "referral_gain": lambda z: np.clip(z[:, 1] * n * a.referral_per_ltr_point, -1.0, 1.0)},
        note=rho_note)
    case = Case(id="proactive_updates", name_zh="主动进度更新", name_en="Proactive progress updates",
                one_off_cost=Quantity.fixed(one_off_cost), cost_per_customer=Quantity.fixed(cost_per_update * n),
                reach=Quantity.fixed(visits_per_year),
                effects={"retention_gain": ret, "referral_gain": ref},
                provenance=f"Complaint rate ratio per update from {rr_src}; LTR slope per update from {slope_src}.",
                sampling=sampling)
    ev = evaluate(case, a, horizon_years, discount_rate)
    return {"case": case, "evaluation": ev,
            "inputs": {"complaint_rate_ratio_per_update": rr, "ltr_slope_per_update": slope,
                       "extra_updates": n, "retention_gain": ret.mode, "referral_gain": ref.mode,
                       "sampling": {"complaint_rate_ratio_per_update": d_rr, "ltr_slope_per_update": d_slope,
                                    "correlation": rho, "note": rho_note}},
            "source": {"complaint_rate_ratio_per_update": rr_src, "ltr_slope_per_update": slope_src}}


# ============================================================= the reader's visit volume


@dataclass(frozen=True)
class VisitVolume:
    """Visits a year of a report's scope: the selected visits annualised by the days they cover.

    ``per_year = n_visits · 365 / days``, ``days`` from the first to the last arrival day
    (inclusive); ``source`` is ``"data"``, or ``"default"`` (:data:`DEFAULT_VISITS_PER_YEAR`) when
    the selection holds no visit.

        >>> VisitVolume(center="SH-JQ", n_visits=310, days=31, first="2026-10-01", last="2026-10-31").per_year
        3650.0
    """

    center: str
    n_visits: int
    days: int
    first: str | None
    last: str | None
    source: str = "data"

    @property
    def per_year(self) -> float:
        if self.source != "data" or self.days <= 0:
            return DEFAULT_VISITS_PER_YEAR
        return round(self.n_visits * 365 / self.days, 1)

    def sentence(self, lang: Lang = "both") -> str:
        """How the volume was found, in one line.

            >>> VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31").sentence("en")
            'SH-JQ: 3,650 visits a year = 310 visits in 31 days (2026-10-01 – 2026-10-31) × 365 / 31'
        """
        who_zh = "全网络" if self.center == "all" else self.center
        who_en = "network" if self.center == "all" else self.center
        if self.source != "data" or self.days <= 0:
            zh = f"{who_zh}：所选数据中无到访记录，采用默认值每年 {DEFAULT_VISITS_PER_YEAR:,.0f} 次"
            en = f"{who_en}: no visits in the selection, default {DEFAULT_VISITS_PER_YEAR:,.0f} visits a year"
        else:
            zh = (f"{who_zh}：每年 {self.per_year:,.0f} 次到访 = {self.first} – {self.last} 共 {self.days} 天内 "
                  f"{self.n_visits:,} 次到访 × 365 / {self.days}")
            en = (f"{who_en}: {self.per_year:,.0f} visits a year = {self.n_visits:,} visits in {self.days} days "
                  f"({self.first} – {self.last}) × 365 / {self.days}")
        return bilingual(zh, en, lang, sep=" / ")


def yearly_visits(visits: pd.DataFrame, center: str = "all", arrived: str = "arrived_at") -> VisitVolume:
    """The yearly visit volume of a report's scope, from its selected visits (:class:`VisitVolume`).

    A center's report uses its own visits, the network report all visits; the days are those
    the data cover (first to last arrival day, local time), not the calendar of the period.

        >>> yearly_visits(data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10").visits,
        ...               "SH-JQ").per_year   # doctest: +SKIP
    """
    require_columns(visits, [arrived], "visits")
    days_seen = pd.Series(visits[arrived]).dropna()
    if days_seen.empty:
        return VisitVolume(str(center), 0, 0, None, None, source="default")
    first, last = days_seen.min().date(), days_seen.max().date()
    return VisitVolume(str(center), int(len(visits)), (last - first).days + 1, first.isoformat(), last.isoformat())


def scope_assumptions(volume: VisitVolume, cases: Sequence[Case] | None = None, lang: Lang = "both") -> pd.DataFrame:
    """What the ROI figures of a report rest on, for the reader's scope: the yearly visit volume
    (with its n, days and period) and, when ``cases`` are given, which cases carry this
    center's own figures from the cases file and which the file's network figures.

        >>> scope_assumptions(VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31"), lang="en").iloc[0, 1]
        '3,650'
    """
    item, value, source = _col("项目", "Item", lang), _col("数值", "Value", lang), _col("来源", "Source", lang)
    rows = [{item: bilingual("年到访量（主动进度更新的覆盖量）", "Visits a year (reach of the update program)", lang),
             value: f"{volume.per_year:,.0f}",
             source: volume.sentence(lang)}]
    if cases is not None and not isinstance(cases, str):
        own = [c.name(lang) for c in cases if c.center is not None]
        rest = [c.name(lang) for c in cases if c.center is None]
        if volume.center != "all":
            rows.append({item: bilingual("采用本中心数据的方案", "Cases with this center's figures", lang),
                         value: f"{len(own)} / {len(cases)}",
                         source: "、".join(own) if own else bilingual("无（方案文件未给出本中心数据）",
                                                                     "none (the cases file gives none)", lang)})
        rows.append({item: bilingual("采用方案文件总体数据的方案", "Cases with the file's network figures", lang),
                     value: f"{len(rest)} / {len(cases)}",
                     source: bilingual("方案文件中的覆盖客户数与效果", "reach and effects as in the cases file", lang)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ScopeNote:
    """:func:`scope_assumptions` as one short paragraph (for the one-page summary): shown as
    escaped HTML in a notebook, as the plain sentence elsewhere."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        from cxlib.safe import literal_html

        return literal_html(f'<p class="cx-roi-scope" style="margin:0.1em 0;font-size:0.8em;line-height:1.25">'
                            f'{html.escape(self.text)}</p>')


def scope_note(volume: VisitVolume, cases: Sequence[Case] | None = None, lang: Lang = "both") -> ScopeNote:
    """What the ROI table rests on for this scope, in one short sentence per language: the visits
    a year (with n, days and dates) and, for a center, how many cases carry its own figures.

        >>> scope_note(VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31"), [], "en").text
        'ROI assumes 3,650 visits a year (SH-JQ: 310 in 31 days 2026-10-01 – 2026-10-31, annualised); cases with own figures: 0 of 0'
    """
    own = [c.id for c in (cases or []) if c.center is not None]
    network = volume.center == "all"
    n_cases = len(cases or [])

    def one(lg: Lang) -> str:
        if volume.source != "data":
            return volume.sentence(lg)
        if lg == "zh":
            who = "全网络" if network else volume.center
            which = "" if network else f"；采用本中心数据的方案 {len(own)}/{n_cases}"
            return (f"投资回报假设年到访量 {volume.per_year:,.0f}（{who}：{volume.first} – {volume.last} 共 "
                    f"{volume.days} 天 {volume.n_visits:,} 次，年化）{which}")
        who = "network" if network else volume.center
        which = "" if network else f"; cases with own figures: {len(own)} of {n_cases}"
        return (f"ROI assumes {volume.per_year:,.0f} visits a year ({who}: {volume.n_visits:,} in {volume.days} days "
                f"{volume.first} – {volume.last}, annualised){which}")

    return ScopeNote(" / ".join(one(lg) for lg in (("zh", "en") if lang == "both" else (lang,))))


class WithNote:
    """A table shown with a :class:`ScopeNote` under it, in one output (so a print keeps them together)."""

    def __init__(self, table: pd.DataFrame, note: ScopeNote) -> None:
        self.table, self.note = table, note

    def __repr__(self) -> str:
        return f"{self.table!r}\n{self.note.text}"

    def _repr_html_(self) -> str:
        from cxlib.safe import literal_html

        return literal_html(self.table._repr_html_()) + self.note._repr_html_()


def with_note(table: pd.DataFrame, note: ScopeNote) -> WithNote:
    """``table`` shown with ``note`` (what its figures rest on) directly under it.

        >>> print(repr(with_note(pd.DataFrame({"a": [1]}), ScopeNote("ROI assumes 10 visits a year"))))
           a
        0  1
        ROI assumes 10 visits a year
    """
    return WithNote(table, note)


# ============================================================ notebook 04: tables and records
def get_case(cases: Sequence[Case], case_id: str) -> Case:
    """The case with id ``case_id`` (KeyError naming the known ids otherwise).

        >>> get_case([Case("x", "例", "Ex")], "x").name_en
        'Ex'
    """
    return _case_by_id(cases, case_id)


def _col(zh: str, en: str, lang: Lang) -> str:
    return bilingual(zh, en, lang, en_first=True)


def _wan(x: Any) -> float:
    """CNY → 万元 (10,000元), NaN for missing or non-finite values."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v / 1e4 if math.isfinite(v) else float("nan")


def customer_value_table(assumptions: Assumptions | None = None, horizon_years: int = DEFAULT_HORIZON_YEARS,
                         discount_rate: float = DEFAULT_DISCOUNT_RATE, lang: Lang = "both") -> pd.DataFrame:
    """What one customer is worth and what one bad visit puts at risk, three readings side by side.

    1. the seed's: LTV ``customer_ltv`` (1.5万) + ``referrals_per_customer`` (3) friends each worth as much;
    2. the model's revenue LTV: ``lifetime_value(yearly_spend, 1, retention_great, H, r)``, same 3 referrals;
    3. the model's margin LTV: as 2. at ``margin`` (what the ROI cases count).

    Columns: reading, LTV, referrals, value per referral, revenue at risk (元 and 万元).

        >>> float(customer_value_table(lang="en").iloc[0]["Revenue at risk (CNY)"])
        60000.0
    """
    a = assumptions or Assumptions()
    h, d = horizon_years, discount_rate
    rows = [
        ("种子案例：1.5万 × (1 + 3位推荐朋友)", "Seed: 1.5万 × (1 + 3 referred friends)", a.customer_ltv),
        (f"模型：营收口径，留存{a.retention_great:.0%}，{h}年，折现{d:.0%}",
         f"Model: revenue, retention {a.retention_great:.0%}, {h} years, discount {d:.0%}",
         lifetime_value(a.yearly_spend, 1.0, a.retention_great, h, d)),
        (f"模型：毛利口径（毛利率{a.margin:.0%}），留存{a.retention_great:.0%}，{h}年，折现{d:.0%}",
         f"Model: gross margin {a.margin:.0%}, retention {a.retention_great:.0%}, {h} years, discount {d:.0%}",
         lifetime_value(a.yearly_spend, a.margin, a.retention_great, h, d)),
    ]
    out = []
    for zh, en, ltv in rows:
        risk = revenue_at_risk(ltv, a.referrals_per_customer, ltv)
        out.append({_col("口径", "Reading", lang): bilingual(zh, en, lang, en_first=True),
                    _col("客户终身价值（元）", "LTV (CNY)", lang): round(ltv, 0),
                    _col("推荐朋友数", "Referred friends", lang): a.referrals_per_customer,
                    _col("每位朋友价值（元）", "Value per friend (CNY)", lang): round(ltv, 0),
                    _col("一次差评的风险收入（元）", "Revenue at risk (CNY)", lang): round(risk, 0),
                    _col("风险收入（万元）", "Revenue at risk (10k CNY)", lang): round(risk / 1e4, 2)})
    return pd.DataFrame(out)


def _fmt_range(q: Quantity, unit: str) -> str:
    def one(v: float) -> str:
        if unit == "share":
            return f"{v * 100:.3g}%"
        if unit == "CNY" and abs(v) >= 1e4:
            return f"{v / 1e4:.3g}万"
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return one(q.mode) if q.is_fixed else f"{one(q.low)} / {one(q.mode)} / {one(q.high)}"


def inputs_table(cases: Sequence[Case], lang: Lang = "both") -> pd.DataFrame:
    """Every case's costs, reach and effects as ``low / mode / high`` (one number when fixed):
    one row per case, one column per input that some case uses ("—" where a case has no such effect).

    Money in 元 (``5万`` = 50,000元), shares in percent (of the customers reached), satisfaction in
    NPS points.

        >>> inputs_table([Case("x", "例", "Ex", reach=Quantity(1000, 2000, 3000))], lang="en").iloc[0, 4]
        '1,000 / 2,000 / 3,000'
    """
    used = [k for k in EFFECTS if any(k in c.effects for c in cases)]
    units = {**{k: "CNY" for k in COST_FIELDS}, "reach": "customers", **{k: EFFECTS[k][0] for k in EFFECTS}}
    rows = []
    for c in cases:
        row = {_col("方案", "Case", lang): c.name(lang)}
        inp = c.inputs()
        for k in (*COST_FIELDS, "reach", *used):
            row[input_label(k, lang)] = ("—" if k in EFFECTS and k not in c.effects else _fmt_range(inp[k], units[k]))
        rows.append(row)
    return pd.DataFrame(rows)


def claims_review_table(claims: pd.DataFrame, lang: Lang = "both") -> pd.DataFrame:
    """A :func:`claims_table` for the reader: claimed ROI, modelled ROI at the modes, Monte Carlo
    P5 / P50 / P95 and P(ROI > 0), and what the claim rests on; bilingual headers, rounded.

        >>> claims_review_table(claims_table(cases, n_sims=2000, seed=1))   # doctest: +SKIP
    """
    need = ["name_zh", "name_en", "claimed_roi", "model_roi", "roi_p5", "roi_p50", "roi_p95", "p_roi_positive",
            "attribution_note"]
    require_columns(claims, need, "claims")
    name = [bilingual(z, e, lang) for z, e in zip(claims["name_zh"], claims["name_en"])]
    return pd.DataFrame({
        _col("方案", "Case", lang): name,
        _col("声称ROI（倍）", "Claimed ROI (×)", lang): claims["claimed_roi"].astype(float).round(2),
        _col("模型ROI@众数（倍）", "Model ROI at modes (×)", lang): claims["model_roi"].astype(float).round(2),
        _col("ROI P5", "ROI P5", lang): claims["roi_p5"].astype(float).round(2),
        _col("ROI P50", "ROI P50", lang): claims["roi_p50"].astype(float).round(2),
        _col("ROI P95", "ROI P95", lang): claims["roi_p95"].astype(float).round(2),
        _col("ROI>0的概率", "P(ROI > 0)", lang): claims["p_roi_positive"].astype(float).round(3),
        _col("归因假设", "Rests on (attribution)", lang): claims["attribution_note"].astype(str),
    })


def seed_claims_table(cases: Sequence[Case], assumptions: Assumptions | None = None, lang: Lang = "both"
                      ) -> pd.DataFrame:
    """The seed's point ROI claims reproduced by their own arithmetic: claim, gain, cost, ROI, reproduced.

        >>> seed_claims_table(load_cases("data/raw/cases_interventions.yaml"), lang="en")  # doctest: +SKIP
    """
    rows = []
    for c in cases:
        sp = seed_point_roi(c, assumptions)
        if sp is None:
            continue
        claim = c.seed_claim or {}
        arithmetic = "(gain − cost) / cost" if sp["formula"] == "net_over_cost" else "gain / cost"
        rows.append({_col("方案", "Case", lang): c.name(lang),
                     _col("原始说法", "Claim", lang): bilingual(claim.get("text_zh", ""), claim.get("text_en", ""), lang,
                                                    sep=" / ", en_first=True),
                     _col("收益（元）", "Gain (CNY)", lang): round(sp["gain"], 0),
                     _col("成本（元）", "Cost (CNY)", lang): round(sp["cost"], 0),
                     _col("算法", "Arithmetic", lang): arithmetic,
                     _col("复算ROI（倍）", "Recomputed ROI (×)", lang): round(sp["roi"], 2),
                     _col("是否复现", "Reproduced", lang): bool(sp["reproduced"])})
    return pd.DataFrame(rows)


def case_results_table(table: pd.DataFrame, summary: pd.DataFrame, lang: Lang = "both") -> pd.DataFrame:
    """Per case, for a finance reader: first-year cost, NPV / ROI / payback at the modes, and the
    Monte Carlo mean NPV, P5 / P50 / P95 of NPV, median ROI and P(ROI > 0). Money in 万元.

    ``table`` is :func:`cases_table`, ``summary`` :func:`roi_summary` (joined on ``id``). ROI is a
    multiple (1.0 = 100%); it is empty (NaN) for a case that costs nothing; payback is empty when
    it is not reached within the horizon.

        >>> case_results_table(cases_table(cases), roi_summary(simulate(cases, 2000, seed=1)))  # doctest: +SKIP
    """
    require_columns(table, ["id", "name_zh", "name_en", "first_year_cost", "npv", "roi", "payback_months"], "cases")
    require_columns(summary, ["id", "npv_mean", "npv_p5", "npv_p50", "npv_p95", "roi_p50", "p_roi_positive"],
                    "summary")
    m = table.merge(summary, on="id", how="left", validate="one_to_one")

    def fin(s: pd.Series, digits: int) -> pd.Series:
        x = pd.to_numeric(s).astype(float)
        return x.where(np.isfinite(x)).round(digits)

    name = [bilingual(z, e, lang) for z, e in zip(m["name_zh"], m["name_en"])]
    out = pd.DataFrame({
        _col("方案", "Case", lang): name,
        _col("首年投入（万元）", "First-year cost (10k CNY)", lang): fin(m["first_year_cost"] / 1e4, 2),
        _col("净现值@众数（万元）", "NPV at modes (10k CNY)", lang): fin(m["npv"] / 1e4, 2),
        _col("ROI@众数（倍）", "ROI at modes (×)", lang): fin(m["roi"], 2),
        _col("回收期@众数（月）", "Payback at modes (months)", lang): fin(m["payback_months"], 1),
        _col("模拟净现值均值（万元）", "MC mean NPV (10k CNY)", lang): fin(m["npv_mean"] / 1e4, 2),
        _col("净现值P5（万元）", "NPV P5 (10k CNY)", lang): fin(m["npv_p5"] / 1e4, 2),
        _col("净现值P50（万元）", "NPV P50 (10k CNY)", lang): fin(m["npv_p50"] / 1e4, 2),
        _col("净现值P95（万元）", "NPV P95 (10k CNY)", lang): fin(m["npv_p95"] / 1e4, 2),
        _col("ROI中位数（倍）", "Median ROI (×)", lang): fin(m["roi_p50"], 2),
        _col("ROI>0的概率", "P(ROI > 0)", lang): fin(m["p_roi_positive"], 3),
    })
    return out


def roi_record(summary: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """The ``roi`` entry of ``results.json``: ``{case: {roi, p_roi_positive, npv, payback_months}}``
    with the median ROI, P(ROI > 0), the mean NPV and the median payback (non-finite → None).

        >>> roi_record(pd.DataFrame({"id": ["x"], "roi_p50": [1.5], "p_roi_positive": [0.9],
        ...     "npv_mean": [1000.0], "payback_months_p50": [float("inf")]}))
        {'x': {'roi': 1.5, 'p_roi_positive': 0.9, 'npv': 1000.0, 'payback_months': None}}
    """
    need = ["id", "roi_p50", "p_roi_positive", "npv_mean", "payback_months_p50"]
    require_columns(summary, need, "summary")

    def num(v: Any) -> float | None:
        v = float(v)
        return v if math.isfinite(v) else None

    return {str(r["id"]): {"roi": num(r["roi_p50"]), "p_roi_positive": num(r["p_roi_positive"]),
                           "npv": num(r["npv_mean"]), "payback_months": num(r["payback_months_p50"])}
            for _, r in summary.sort_values("id", kind="stable").iterrows()}


def portfolio_table(portfolio: pd.DataFrame, objective: str = "npv", lang: Lang = "both") -> pd.DataFrame:
    """The cases a :func:`best_portfolio` chose, tidy for :func:`cxlib.present.table`: ``case``
    (its name in ``lang``), ``cost`` (first-year, 元) and the objective's value (``npv`` in 元, or
    ``satisfaction``: the satisfaction gain in NPS points).

        >>> portfolio_table(pd.DataFrame({"name_zh": ["例"], "name_en": ["Ex"], "cost": [5e4], "value": [1e5]}),
        ...                 "npv", "en").columns.tolist()
        ['case', 'cost', 'npv']
    """
    require_columns(portfolio, ["name_zh", "name_en", "cost", "value"], "portfolio")
    return pd.DataFrame({"case": [bilingual(z, e, lang) for z, e in zip(portfolio["name_zh"], portfolio["name_en"])],
                         "cost": portfolio["cost"].astype(float).to_numpy(),
                         "npv" if objective == "npv" else "satisfaction": portfolio["value"].astype(float).to_numpy()})


def portfolio_sentence(portfolio: pd.DataFrame, lang: Lang = "both") -> str:
    """One sentence on a :func:`best_portfolio` result: the chosen cases, total cost and value
    (the text of :func:`cxlib.findings.portfolio`).

        >>> p = pd.DataFrame({"id": ["a"], "name_zh": ["甲"], "name_en": ["A"], "cost": [5e4], "value": [2e5],
        ...     "objective": ["npv"]}); p.attrs.update(total_cost=5e4, total_value=2e5, budget=5e4)
        >>> portfolio_sentence(p, "en")
        'Budget CNY 50k: choose A; cost CNY 50k; expected NPV CNY 200k.'
    """
    from cxlib import findings

    return findings.portfolio(portfolio, lang).text()


def tornado_sentence(table: pd.DataFrame, lang: Lang = "both") -> str:
    """The finding of a :func:`tornado` table in one sentence: base NPV and the input that moves it most
    (the text of :func:`cxlib.findings.tornado`).

        >>> t = pd.DataFrame({"name_zh": ["例"], "name_en": ["Ex"], "input": ["reach"], "npv_low": [-1e4],
        ...     "npv_high": [3e4], "npv_base": [1e4], "swing": [4e4]})
        >>> tornado_sentence(t, "en")
        'Ex: NPV at the modes CNY 10k; it moves most with Customers reached a year (−CNY 10k to CNY 30k between its low and high).'
    """
    from cxlib import findings

    return findings.tornado(table, lang).text()


# --------------------------------------------------------------- measured update effects
UPDATE_EFFECT_KEYS: tuple[str, str] = ("complaint_rate_ratio_per_update", "ltr_slope_per_update")
#: Where an update effect came from (the ``source`` of :func:`measured_update_effects`).
UPDATE_SOURCES: dict[str, tuple[str, str]] = {
    # read from notebook 03's results or recomputed with its model: the same figures, one label
    "results.json": ("实测：第03本笔记本的模型（同一范围）", "measured: notebook 03's model, same scope"),
    "computed": ("实测：第03本笔记本的模型（同一范围）", "measured: notebook 03's model, same scope"),
    "default": ("文档默认值", "documented default"),
}


def _scope(scope: Mapping[str, Any] | None) -> dict[str, str | None] | None:
    if not isinstance(scope, Mapping):
        return None
    out = {k: (None if scope.get(k) is None else str(scope.get(k))) for k in ("center", "period_start", "period_end")}
    out["scenario"] = str(scope.get("scenario") or "all")  # a scope recorded without one covers every scenario
    return out


def _usable_effect(raw: Any) -> dict[str, float] | None:
    if not isinstance(raw, Mapping) or not all(_is_number(raw.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        return None
    out = {k: float(raw[k]) for k in ("estimate", "ci_low", "ci_high")}
    return out if out["ci_low"] <= out["estimate"] <= out["ci_high"] else None


def measured_update_effects(results_file: str | os.PathLike[str] | Mapping[str, Any] | None,
                            scope: Mapping[str, Any], visits: pd.DataFrame | None = None,
                            estimator: Any = None) -> dict[str, Any]:
    """The complaint rate ratio and the LTR slope per proactive update, and where each came from.

    For each of :data:`UPDATE_EFFECT_KEYS`, in this order:

    1. ``"results.json"``: the value notebook 03 recorded in ``results_file`` (a path or the
       already-read mapping), **only if** the file's ``scope`` (or a ``scope`` stored in the
       entry itself) equals ``scope`` = ``{center, period_start, period_end, scenario}`` (a missing scenario is ``all``);
    2. ``"computed"``: ``estimator(visits)`` (the function notebook 03 uses, returning
       ``{key: {estimate, ci_low, ci_high, …}}``), rounded as ``results.json`` stores numbers so
       that both routes give the same figures;
    3. ``"default"``: the documented defaults (rate ratio 0.85 [0.75, 0.95], slope 0.30 [0.15, 0.45]),
       when the other routes give nothing usable (not recorded, different scope, not fitted).

    Read the results file *before* the notebook records its own scope. Returns
    ``{key: {estimate, ci_low, ci_high}, "source": {key: label}, "note": {key: text}}``; the note
    says why a default was used (the model's own reason, e.g. too few centers), "" otherwise.

        >>> measured_update_effects({}, {"center": "all"})["source"]["ltr_slope_per_update"]
        'default'
    """
    from cxlib import results as _results

    if results_file is None or results_file == "":
        res: Mapping[str, Any] = {}
    elif isinstance(results_file, Mapping):
        res = results_file
    else:
        res = _results.read(results_file)
    want = _scope(scope)
    if want is None:
        raise DataError("scope must be a mapping {center, period_start, period_end}", column="scope")
    file_scope = _scope(res.get("scope"))
    computed: Mapping[str, Any] | None = None
    out: dict[str, Any] = {"source": {}, "note": {}}
    for key in UPDATE_EFFECT_KEYS:
        entry = res.get(key)
        entry_scope = _scope(entry.get("scope")) if isinstance(entry, Mapping) else None
        same = (entry_scope or file_scope) == want
        value = _usable_effect(entry) if same else None
        if value is not None:
            out[key], out["source"][key], out["note"][key] = value, "results.json", ""
            continue
        why = ""
        if same and isinstance(entry, Mapping) and (entry.get("note") or entry.get("reason")):
            why = str(entry.get("note") or entry["reason"])  # a model's note, or why it was not computed
        if estimator is not None and visits is not None:
            if computed is None:
                computed = estimator(visits)
                if not isinstance(computed, Mapping):
                    raise DataError(f"the estimator must return a mapping of {', '.join(UPDATE_EFFECT_KEYS)}",
                                    column=key)
            value = _usable_effect(_results.jsonable(computed.get(key)))
            if value is not None:
                out[key], out["source"][key], out["note"][key] = value, "computed", ""
                continue
            c = computed.get(key)
            why = (str(c.get("note") or c.get("reason")) if isinstance(c, Mapping) and (c.get("note") or c.get("reason"))
                   else "no usable estimate")
        elif not why:
            why = "not measured for this scope (no recorded result, no data to compute it from)"
        out[key], out["source"][key] = dict(_UPDATE_DEFAULTS[key]), "default"
        out["note"][key] = why
    return out


def update_effects_table(measured: Mapping[str, Any], lang: Lang = "both") -> pd.DataFrame:
    """The update effects of :func:`measured_update_effects` as a table: effect, estimate, CI, the
    sampling distribution the Monte Carlo draws it from (:func:`effect_sampling`), source, note.

        >>> float(update_effects_table(measured_update_effects({}, {"center": "all"}), "en").iloc[0]["Estimate"])
        0.85
    """
    labels = {"complaint_rate_ratio_per_update": ("每次更新的投诉率比", "Complaint rate ratio per update"),
              "ltr_slope_per_update": ("每次更新的LTR变化（分）", "LTR points per update")}
    rows = []
    for key in UPDATE_EFFECT_KEYS:
        if key not in measured or key not in measured.get("source", {}):
            raise DataError(f"measured effects lack {key!r}: pass the result of measured_update_effects", column=key)
        v, src = measured[key], measured["source"][key]
        zh_s, en_s = UPDATE_SOURCES.get(src, (src, src))
        d = effect_sampling(key, v)
        zh_d, en_d = (("正态（对数率比），标准差", "normal (log rate ratio), SD") if d["scale"] == "log rate ratio"
                      else ("正态（LTR分），标准差", "normal (LTR points), SD"))
        rows.append({_col("效应", "Effect", lang): bilingual(*labels[key], lang=lang, en_first=True),
                     _col("估计值", "Estimate", lang): round(v["estimate"], 3),
                     _col("95%下限", "CI low", lang): round(v["ci_low"], 3),
                     _col("95%上限", "CI high", lang): round(v["ci_high"], 3),
                     _col("模拟抽样", "Drawn as", lang): bilingual(f"{zh_d} {d['sd']:.3f}", f"{en_d} {d['sd']:.3f}",
                                                               lang, sep=" / ", en_first=True),
                     _col("来源", "Source", lang): bilingual(zh_s, en_s, lang, sep=" / ", en_first=True),
                     _col("说明", "Note", lang): str(measured.get("note", {}).get(key, ""))})
    return pd.DataFrame(rows)


def update_program_record(summary: pd.DataFrame, measured: Mapping[str, Any]) -> dict[str, Any]:
    """The ``update_program`` entry of ``results.json``: ``{npv, roi, source}`` (mean NPV, median
    ROI of the program's Monte Carlo; ``source`` one label of :data:`UPDATE_SOURCES` when both
    effects share it, else ``"key: label; key: label"``).

        >>> update_program_record(pd.DataFrame({"id": ["p"], "npv_mean": [1e5], "roi_p50": [3.0]}),
        ...     {"source": {"complaint_rate_ratio_per_update": "default", "ltr_slope_per_update": "default"}})
        {'npv': 100000.0, 'roi': 3.0, 'source': 'default'}
    """
    require_columns(summary, ["npv_mean", "roi_p50"], "summary")
    if len(summary) != 1:
        raise DataError(f"need the summary of one program, got {len(summary)} rows", column="id")
    src = dict(measured.get("source", {}))
    labels = sorted(set(src.values()))
    source = labels[0] if len(labels) == 1 else "; ".join(f"{k}: {src[k]}" for k in UPDATE_EFFECT_KEYS if k in src)

    def num(v: Any) -> float | None:
        v = float(v)
        return v if math.isfinite(v) else None

    r = summary.iloc[0]
    return {"npv": num(r["npv_mean"]), "roi": num(r["roi_p50"]), "source": source}


def observed_complaint_rate(visits: pd.DataFrame, complaints: str = "n_complaints") -> float:
    """Share of visits with at least one complaint (the baseline of the update program's value).

        >>> observed_complaint_rate(pd.DataFrame({"n_complaints": [0, 2, 0, 0]}))
        0.25
    """
    if complaints not in visits.columns:
        raise DataError(f"visits lack column {complaints!r}", column=complaints)
    x = pd.to_numeric(visits[complaints]).dropna()
    if len(x) == 0:
        raise DataError("no visits with a complaint count: cannot compute the complaint rate", column=complaints)
    return float((x > 0).mean())


# ================================================================================ figures
def _drawing():
    plotting.ensure_theme()
    return plotting.drawing()


def _names(sims: pd.DataFrame, case_id: str, names: Mapping[str, str]) -> tuple[str, str]:
    if case_id in names:
        return names[case_id].replace("\n", " "), names[case_id].replace("\n", " ")
    if {"name_zh", "name_en"} <= set(sims.columns):
        row = sims.loc[sims["id"] == case_id].iloc[0]
        return str(row["name_zh"]), str(row["name_en"])
    return case_id, case_id


def _money_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def fmt(x: float, _pos: int) -> str:  # ticks in 万元 (10,000元)
        return f"{x / 1e4:,.4g}"

    axis.set_major_locator(MaxNLocator(7))
    axis.set_major_formatter(FuncFormatter(fmt))


def _bi(zh: str, en: str, lang: Lang) -> str:
    return bilingual(zh, en, lang)


def plot_roi_distribution(sims: pd.DataFrame, metric: Literal["npv", "roi"] = "npv", lang: Lang = "both",
                          names: Mapping[str, str] | None = None, title: str | None = None):
    """Distribution of simulated NPV (or ROI): a histogram with P5/P50/P95 for one case, an
    interval plot (P5–P95 bar, P50 dot) for several. Returns the figure.

        >>> fig = plot_roi_distribution(simulate(cases, 2000, seed=1), "npv")   # doctest: +SKIP
    """
    if metric not in ("npv", "roi"):
        raise ValueError(f"metric must be 'npv' or 'roi', not {metric!r}")
    require_columns(sims, ["id", metric], "simulation")
    xlabel = (_bi("净现值（万元）", "NPV (10k CNY)", lang) if metric == "npv"
              else _bi("投资回报率（倍）", "ROI (×)", lang))
    ids = list(dict.fromkeys(sims["id"]))
    explicit = dict(names or {})
    if names is None:
        names = {}
        if {"name_zh", "name_en"} <= set(sims.columns):
            first = sims.drop_duplicates("id").set_index("id")
            names = {i: bilingual(first.loc[i, "name_zh"], first.loc[i, "name_en"], lang, sep="\n") for i in ids}
    names = dict(names)
    with _drawing():
        if len(ids) == 1:
            x = sims[metric].to_numpy(dtype=float)
            fin = x[np.isfinite(x)]
            fig, ax = plotting.subplots(figsize=(8, 4.5), layout="constrained")
            ax.hist(fin, bins=50, color="#3182bd", alpha=0.8)
            for p, ls in ((5, ":"), (50, "-"), (95, ":")):
                if len(fin):
                    q = np.quantile(fin, p / 100)
                    ax.axvline(q, color="#333333", ls=ls, lw=1)
                    ax.text(q, 0.98, f" P{p}", transform=ax.get_xaxis_transform(), ha="left", va="top",
                            fontsize="small")
            ax.axvline(0, color="#d7301f", lw=1)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(_bi("模拟次数", "Simulations", lang))
            share = float(np.mean(x > 0))
            zh_name, en_name = _names(sims, ids[0], explicit)
            zh_t, en_t = f"{zh_name}：{metric.upper()} 分布（大于0的概率 {share:.0%}）", \
                f"{en_name}: {metric.upper()} distribution (P > 0 = {share:.0%})"
        else:
            summ = roi_summary(sims)
            per = 0.8 if lang == "both" else 0.45
            fig, ax = plotting.subplots(figsize=(10, per * len(ids) + 1.8), layout="constrained")
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
            zh_t, en_t = "各方案的不确定性", "Uncertainty by case"
        if title is None:
            title = bilingual(zh_t, en_t, lang, sep="\n")
        ax.set_title(title)
        if metric == "npv":
            _money_axis(ax.xaxis)
    return fig


def plot_tornado(table: pd.DataFrame, lang: Lang = "both", title: str | None = None):
    """Tornado chart of a :func:`tornado` table: NPV at each input's low and high around the base.

        >>> fig = plot_tornado(tornado(kids_corner))                        # doctest: +SKIP
    """
    need = ["input", "npv_low", "npv_high", "npv_base"]
    require_columns(table, need, "tornado")
    with _drawing():
        fig, ax = plotting.subplots(figsize=(10, 0.45 * max(len(table), 1) + 1.8), layout="constrained")
        base = float(table["npv_base"].iloc[0]) if len(table) else 0.0
        ypos = np.arange(len(table))[::-1]
        for y, (_, r) in zip(ypos, table.iterrows()):
            ax.barh(y, r["npv_low"] - base, left=base, color="#fc8d59", height=0.6)
            ax.barh(y, r["npv_high"] - base, left=base, color="#3182bd", height=0.6)
        ax.axvline(base, color="#333333", lw=1)
        ax.set_yticks(ypos)
        ax.set_yticklabels([input_label(i, lang) for i in table["input"]])
        ax.set_xlabel(_bi("净现值（万元）", "NPV (10k CNY)", lang))
        _money_axis(ax.xaxis)
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="#fc8d59", label=_bi("取低值", "input at low", lang)),
                           Patch(color="#3182bd", label=_bi("取高值", "input at high", lang))],
                  loc="best", fontsize="small")
        if title is None:
            zh_n = f"{table['name_zh'].iloc[0]}：" if "name_zh" in table.columns and len(table) else ""
            en_n = f"{table['name_en'].iloc[0]}: " if "name_en" in table.columns and len(table) else ""
            title = bilingual(f"{zh_n}敏感性分析（龙卷风图）", f"{en_n}sensitivity (tornado)", lang, sep="\n")
        ax.set_title(title)
    return fig
