"""The catalog mirrors the data contract: one source of truth for codes, order and labels."""

import re
from pathlib import Path

import pandas as pd
import pytest

from cxlib import catalog

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def _contract_rows(header: str) -> list[list[str]]:
    """Rows of the markdown table that follows ``header`` in the contract."""
    text = CONTRACT.read_text(encoding="utf-8")
    start = text.index(header)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set(cells[0]) <= {"-"}:
                continue
            rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header row


def test_touchpoint_catalog_matches_contract():
    rows = _contract_rows("Touchpoint catalog")
    stage = None
    expected = []
    for st, code, zh, channel, update in rows:
        stage = st.split()[0] if st else stage
        expected.append((stage, code, zh, channel, update))
    assert [(t.stage, t.code, t.zh, t.channel) for t in catalog.TOUCHPOINTS] == [e[:4] for e in expected]
    updates = {e[1] for e in expected if e[4].startswith("yes")}
    assert set(catalog.UPDATE_TOUCHPOINTS) == updates
    assert catalog.COMPLETION_UPDATES == ("ready_notice",)
    assert catalog.INQUIRY_TOUCHPOINT not in catalog.UPDATE_TOUCHPOINTS


@pytest.mark.parametrize("table", catalog.TABLE_ORDER)
def test_table_schemas_match_contract(table):
    rows = _contract_rows(f"### {table}")
    expected = [(r[0], r[1]) for r in rows]
    got = [(c.name, c.zh) for c in catalog.TABLES[table]]
    assert got == expected


def test_stage_and_point_order():
    assert catalog.STAGE_ORDER == ("awareness", "consideration", "booking", "arrival", "waiting", "delivery", "after")
    assert len(catalog.TOUCHPOINTS) == 22
    # score points follow the journey: their stages never go backwards
    idx = [catalog.STAGE_ORDER.index(p.stage) for p in catalog.SCORE_POINTS]
    assert idx == sorted(idx)
    for p in catalog.SCORE_POINTS:
        for t in p.touchpoints:
            assert catalog.touchpoint(t).stage == p.stage


@pytest.mark.parametrize(
    "score,band",
    [
        (1, "very_dissatisfied"),
        (3, "very_dissatisfied"),
        (4, "dissatisfied"),
        (5, "dissatisfied"),
        (6, "neutral"),
        (7, "neutral"),
        (8, "satisfied"),
        (9, "satisfied"),
        (10, "delighted"),
        (3.4, "very_dissatisfied"),
        (3.6, "dissatisfied"),
    ],
)
def test_emotion_bands(score, band):
    assert catalog.emotion_band(score).code == band
    assert catalog.emotion_bands(pd.Series([score])).iloc[0] == band


def test_nps_groups_cover_0_to_10():
    groups = catalog.nps_group(pd.Series(range(11))).tolist()
    assert groups == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2
    assert catalog.nps_group(pd.Series([None, 11], dtype="float")).isna().all()


def test_labels_are_bilingual_and_chinese_first():
    assert catalog.label("waiting") == "等待 Waiting"
    assert catalog.label("realtime_photo", lang="zh") == "实时更新+照片"
    assert catalog.label("detractor", lang="en") == "Detractor"
    assert catalog.label("not-a-code") == "not-a-code"
    for code in catalog.TIER_ORDER + catalog.STAGE_ORDER + catalog.SCORE_POINT_ORDER:
        assert re.search(r"[\u4e00-\u9fff]", catalog.label(code, lang="zh")), code


def test_rules_have_known_actions_and_unique_codes():
    codes = [r.code for r in catalog.RULES]
    assert len(codes) == len(set(codes))
    assert {r.action for r in catalog.RULES} == {"repaired", "quarantined"}
    frame = catalog.table_frame("rules")
    assert list(frame.columns) == ["rule", "table", "action", "en", "zh"]
    assert len(frame) == len(catalog.RULES)


def test_ordered_dtypes():
    s = pd.Series(["realtime", "none"], dtype=catalog.TIER_DTYPE)
    assert s.sort_values().tolist() == ["none", "realtime"]
    assert list(catalog.SCORE_POINT_DTYPE.categories) == list(catalog.SCORE_POINT_ORDER)


def test_bilingual_is_the_one_language_switch():
    assert catalog.bilingual("等待", "Waiting") == "等待 Waiting"
    assert catalog.bilingual("等待", "Waiting", lang="zh") == "等待"
    assert catalog.bilingual("等待", "Waiting", lang="en") == "Waiting"
    assert catalog.bilingual("等待", "Waiting", sep="\n", en_first=True) == "Waiting\n等待"
    assert catalog.bilingual("NPS", "NPS") == "NPS"
    with pytest.raises(ValueError, match="lang"):
        catalog.bilingual("等待", "Waiting", lang="fr")
