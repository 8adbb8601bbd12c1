"""The shipped sample, cleaned: it reproduces the seed figures in shape and leaks no personal data."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cxlib import catalog, clean

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def data(processed) -> clean.ProcessedData:
    return clean.load(processed, raw_dir=None)


def test_sample_size_and_shape(data):
    v = data.visits
    assert 5000 <= len(v) <= 10000
    assert v["center"].nunique() >= 6
    assert v["month"].nunique() >= 6
    assert data.centers["realtime_since"].notna().sum() >= 2
    assert data.centers["realtime_since"].isna().sum() >= 2
    assert sum(p.stat().st_size for p in RAW.iterdir()) < 8e6


def test_every_row_accounted_for(data):
    for table, q in data.quality["tables"].items():
        assert q["read"] == q["kept"] + q["quarantined"], table
        kept = getattr(data, "events" if table == "touchpoints" else table)
        assert q["kept"] == len(kept), table
    quarantined = data.quarantine.groupby("table").size()
    for table, q in data.quality["tables"].items():
        assert quarantined.get(table, 0) == q["quarantined"], table
    # every dirt class of the contract shows up in the sample
    rules = {r for t in data.quality["tables"].values() for r, x in t["rules"].items() if x["rows"] > 0}
    assert rules >= {
        "timestamp_format",
        "center_alias",
        "ltr_text",
        "ltr_out_of_range",
        "score_out_of_range",
        "pii_masked",
        "touchpoint_zh",
        "duplicate_id",
        "impossible_order",
        "internal_record",
        "unknown_touchpoint",
        "orphan_visit",
        "visit_quarantined",
        "superseded",
    }


@pytest.mark.parametrize(
    "tier, ltr, complaint, anxiety",
    [
        ("none", (3, 5), (0.14, 0.22), (65, 80)),
        ("completion_only", (6, 7), (0.06, 0.12), (45, 60)),
        ("realtime_photo", (8, 9), (0.0, 0.04), (10, 20)),
    ],
)
def test_calibration_by_tier(data, tier, ltr, complaint, anxiety):
    v = data.visits[data.visits["tier"] == tier]
    assert ltr[0] <= v["ltr"].mean() <= ltr[1]
    assert complaint[0] <= v["complained"].mean() <= complaint[1]
    assert anxiety[0] <= v["anxiety"].mean() <= anxiety[1]


def test_emotion_curve_shape(data):
    means = data.scores.groupby("point", observed=True)["score"].mean()
    assert means.idxmax() == "booking"
    assert set(means.nsmallest(2).index) == {"waiting", "handover"}


def test_duration_confounder(data):
    v = data.visits[data.visits["tier"].isin(["realtime", "realtime_photo"])]
    assert v["repair_minutes"].corr(v["n_proactive_updates"]) > 0.3
    # without updates, a longer repair alone raises complaints
    quiet = data.visits[data.visits["tier"].isin(["none", "completion_only"])]
    long = quiet["repair_minutes"] > quiet["repair_minutes"].median()
    assert quiet.loc[long, "complained"].mean() > 1.2 * quiet.loc[~long, "complained"].mean()


def test_no_personal_data_reaches_processed(data):
    phone = re.compile(r"1[3-9]\d{9}")
    plate = re.compile(r"[京沪粤浙川苏][A-Z]·?[A-Z0-9]{5,6}")
    texts = pd.concat([data.surveys["comment"].dropna().astype(str), data.quarantine["raw"].astype(str)])
    assert not texts.str.contains(phone).any()
    assert not texts.str.contains(plate).any()
    assert texts.str.contains(r"\[手机号\]", regex=True).any()
    assert texts.str.contains(r"\[车牌号\]", regex=True).any()
    assert texts.str.contains(r"\[身份证号\]", regex=True).any()


def test_tiers_follow_the_catalog(data):
    assert list(data.visits["tier"].cat.categories) == list(catalog.TIER_ORDER)
    live = data.visits.groupby("realtime_live")["tier"].apply(lambda s: s.isin(["realtime", "realtime_photo"]).mean())
    assert live[True] > 0.7 > 0.3 > live[False]
