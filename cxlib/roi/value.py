"""Customer value: the benchmark assumptions with their provenance, lifetime value and revenue at risk."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxlib.catalog import Lang, bilingual
from cxlib.errors import DataError
from cxlib.roi.labels import PROVENANCE, PROVENANCE_ZH, pair

DEFAULT_HORIZON_YEARS = 3
DEFAULT_DISCOUNT_RATE = 0.08
#: visits a year assumed when the selection holds no visits to annualise (the former network figure)
DEFAULT_VISITS_PER_YEAR = 6000.0


# ============================================================================ assumptions


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
    provenance: Mapping[str, str] = field(default_factory=lambda: dict(PROVENANCE), compare=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise DataError(f"assumption {f.name} must be a finite number, got {v!r}", column=f.name)
            if v < 0:
                raise DataError(f"assumption {f.name} must not be negative, got {v!r}", column=f.name)
        for name in (
            "margin",
            "retention_great",
            "retention_bad",
            "repurchase_3y_great",
            "repurchase_3y_bad",
            "referral_great",
            "referral_bad",
            "complaint_rate",
        ):
            if getattr(self, name) > 1:
                raise DataError(
                    f"assumption {name} is a share and must be ≤ 1, got {getattr(self, name)!r}", column=name
                )
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
            raise DataError(
                f"unknown assumption(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}", column=unknown[0]
            )
        prov = dict(self.provenance)
        for k, v in changes.items():
            prov[k] = pair("overridden", value=v, default=getattr(Assumptions(), k))[1]
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
                zh = pair("overridden", value=getattr(self, name), default=getattr(Assumptions(), name))[0]
            else:
                zh = PROVENANCE_ZH.get(name, en) if en == PROVENANCE.get(name) else en
            return bilingual(zh, en, lang=lang, sep=" / ")

        rows = [
            (f.name, float(getattr(self, f.name)), prov(f.name))
            for f in dataclasses.fields(self)
            if f.name != "provenance"
        ]
        return pd.DataFrame(rows, columns=["name", "value", "provenance"])


def experience_table(*, assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Retention, 3-year repurchase and referral by experience level (the seed's benchmark).

    >>> float(experience_table().set_index("level").loc["great", "retention"])
    0.85
    """
    a = assumptions or Assumptions()
    return pd.DataFrame(
        {
            "level": ["great", "bad"],
            "level_zh": [pair("great_experience")[0], pair("bad_experience")[0]],
            "level_en": [pair("great_experience")[1], pair("bad_experience")[1]],
            "retention": [a.retention_great, a.retention_bad],
            "repurchase_3y": [a.repurchase_3y_great, a.repurchase_3y_bad],
            "referral": [a.referral_great, a.referral_bad],
        }
    )


# ========================================================================= customer value
def lifetime_value(
    yearly_spend: float,
    *,
    margin: float = 1.0,
    retention: float = 1.0,
    horizon_years: int = 5,
    discount_rate: float = 0.0,
) -> float:
    """Discounted value of one customer: Σ_{t=1..H} spend·margin·retention^(t−1)/(1+r)^t.

    Year 1 is always earned (the customer is here now); later years are earned with the
    probability of still being a customer; cash of year ``t`` is discounted ``t`` years.

        >>> lifetime_value(3000, margin=1.0, retention=1.0, horizon_years=5, discount_rate=0.0)   # the seed's 1.5万, read as 3000元 × 5 years
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


def revenue_at_risk(ltv: float, *, referrals: float = 0.0, value_per_referral: float | None = None) -> float:
    """What losing one customer costs: own lifetime value + the referrals they would have brought.

    ``value_per_referral`` defaults to ``ltv`` (a referred friend is worth a customer).

        >>> revenue_at_risk(15_000, referrals=3, value_per_referral=15_000)    # the seed: 1.5万 + 3 × 1.5万 = 6万
        60000.0
    """
    vpr = ltv if value_per_referral is None else value_per_referral
    for name, v in (("ltv", ltv), ("referrals", referrals), ("value_per_referral", vpr)):
        if v is None or not math.isfinite(float(v)) or float(v) < 0:
            raise DataError(f"{name} must be a finite number ≥ 0, got {v!r}", column=name)
    return float(ltv) + float(referrals) * float(vpr)
