"""Themes of what customers write: the lexicon against hand-labelled comments, negation, the
token cache, the tables (Wilson shares, Welch LTR gap), verbatims that never show personal
data, the unsupervised proposals, complaint texts by channel."""

from __future__ import annotations

import doctest
import json
import os
import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import COMPLAINTS, SURVEYS, write_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from cxlib import catalog, clean, present, themes
from cxlib.errors import DataError
from cxlib.results import NotComputed, NotProvided

LABELLED = Path(__file__).parent / "data" / "themes_labelled.csv"
PII = re.compile(r"1[3-9]\d{9}|\d{17}[\dXx]|[沪京粤浙川苏鲁][A-HJ-NP-Z]·?\d{5}|[A-Za-z0-9._]+@[A-Za-z0-9.]+")


def _labelled() -> pd.DataFrame:
    df = pd.read_csv(LABELLED, keep_default_na=False, dtype=str)
    df["gold"] = [set(x for x in s.split(";") if x) for s in df["themes"]]
    return df


# ============================================================================ the lexicon
def test_the_hand_labelled_comments_cover_every_theme_and_negation():
    df = _labelled()
    assert len(df) >= 200
    assert set().union(*df["gold"]) <= set(catalog.THEME_CODES), "a label that is no theme"
    per_theme = {t: sum(t in g for g in df["gold"]) for t in catalog.THEME_CODES}
    assert min(per_theme.values()) >= 8, per_theme
    negated = df[df["text"].str.contains("没|不|无|未|别")]
    assert len(negated) >= 80
    # every polar theme is also reached through the negation of its opposite's words
    flips = {
        "price_clear": "没有乱收费",
        "quick_service": "没有等很久",
        "on_time": "没有拖延",
        "no_progress_info": "并没有及时通知",
        "advisor_attitude": "不够专业",
        "environment_poor": "不够舒适",
        "delivery_delay": "交车不准时",
        "no_farewell": "没有任何送别",
        "price_opaque": "价格并不透明",
    }
    for theme, phrase in flips.items():
        rows = df[df["text"].str.contains(phrase)]
        assert len(rows) and all(theme in g for g in rows["gold"]), phrase
    assert (df["gold"].map(len) == 0).sum() >= 15  # comments with no theme at all


def test_the_lexicon_reaches_a_macro_f1_of_085_on_the_hand_labelled_comments():
    df = _labelled()
    pred = themes.tag(df["text"])
    f1 = {}
    for t in catalog.THEME_CODES:
        y = np.array([t in g for g in df["gold"]])
        p = pred[t].to_numpy()
        tp, fp, fn = int((y & p).sum()), int((~y & p).sum()), int((y & ~p).sum())
        f1[t] = 2 * tp / (2 * tp + fp + fn)
    macro = float(np.mean(list(f1.values())))
    assert macro >= 0.85, f1
    assert min(f1.values()) >= 0.7, f1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("没人通知", ["no_progress_info"]),
        ("没有通知我进度", ["no_progress_info"]),
        ("不知道修到哪一步了", ["no_progress_info"]),
        ("通知及时", ["progress_informed"]),
        ("没有及时通知", ["no_progress_info"]),
        ("通知不是很及时", ["no_progress_info"]),
        ("不仅通知及时，还发了照片", ["progress_informed"]),
        ("没想到推送这么及时", ["progress_informed"]),
        ("没有推销，通知很及时", ["progress_informed"]),  # the negation stays in its clause
        ("也没有推销", []),
        ("没有乱收费", ["price_clear"]),
        ("价格不透明", ["price_opaque"]),
        ("价格透明", ["price_clear"]),
        ("没有等很久", ["quick_service"]),
        ("没有预约就等了很久", ["long_wait"]),  # 就 ends the reach of 没有
        ("不用自己问，进度会主动推过来", ["progress_informed"]),
        ("没人送我出门", ["no_farewell"]),
        ("送别环节也没有", ["no_farewell"]),
        ("顾问送我到门口", ["farewell_warm"]),
        ("会推荐给朋友", []),
    ],
)
def test_negation_turns_a_theme_into_its_opposite_or_into_nothing(text, expected):
    assert themes.themes_of(text) == expected


def test_the_lexicon_is_one_consistent_catalog():
    codes = set(catalog.THEME_CODES)
    assert len(codes) == len(catalog.THEMES)
    other = {
        c
        for g in (
            catalog.STAGES,
            catalog.TOUCHPOINTS,
            catalog.SCORE_POINTS,
            catalog.TIERS,
            catalog.SCENARIOS,
            catalog.CHANNELS,
            catalog.COMPLAINT_CHANNELS,
            catalog.EMOTION_BANDS,
            catalog.NPS_GROUPS,
        )
        for c in (x.code for x in g)
    }
    assert not codes & other, "a theme code that is also another catalog code"
    for t in catalog.THEMES:
        assert t.stage in catalog.STAGE_ORDER
        assert t.touchpoints and all(catalog.touchpoint(p).stage == t.stage for p in t.touchpoints), t.code
        assert t.polarity in ("negative", "positive") and t.triggers
        if t.opposite:
            o = catalog.THEMES_BY_CODE[t.opposite]
            assert o.opposite == t.code and o.polarity != t.polarity and o.stage == t.stage
        for p in (*t.triggers, *t.negated):
            re.compile(p)
        assert catalog.label(t.code, lang="zh") == t.zh and catalog.value_label("theme", t.code, lang="en") == t.en
    assert {"theme", "theme_share", "ltr_gap", "theme_share_ci"} <= set(catalog.COLUMN_LABELS)
    assert catalog.TEXT_COLUMNS["surveys"] == ("comment",) and "投诉内容" in catalog.TEXT_COLUMNS["complaints"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "等了三个小时",
                "没人通知",
                "价格透明",
                "ＡＰＰ预约老是失败",
                "  ",
                "，",
                "很好",
                "推销",
                "送我到门口",
                "没有",
                "wifi 连不上",
                "１２",
            ]
        ),
        min_size=0,
        max_size=6,
    ),
    st.sampled_from(["", " ", "\u3000", "\n"]),
)
def test_tagging_reads_the_normalised_text_and_the_tokens_give_it_back(parts, pad):
    text = "".join(parts)
    wide = unicodedata.normalize("NFKC", text)
    assert themes.themes_of(pad + text + pad) == themes.themes_of(wide) == themes.themes_of(text)
    tokens = themes.segment([text])[0]
    assert tokens.replace(themes.SEP, "") == themes.normalise(text)


def test_tag_keeps_the_index_and_tags_each_distinct_text_once(monkeypatch):
    calls = []
    real = themes._tag_one
    monkeypatch.setattr(themes, "_tag_one", lambda t, k: calls.append(t) or real(t, k))
    s = pd.Series(["等了很久", "等了很久", None, "价格透明"], index=[10, 11, 12, 13])
    out = themes.tag(s)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out["long_wait"].tolist() == [True, True, False, False]
    assert out["price_clear"].tolist() == [False, False, False, True]
    assert sorted(calls) == sorted(["等了很久", "", "价格透明"])


# ============================================================================ the token cache
def _processed(folder: Path, fingerprint: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
    return folder


def test_the_token_cache_is_written_once_reused_and_rebuilt_when_the_data_change(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    proc = _processed(tmp_path / "processed", "fp-1")
    texts = pd.Series(["等了很久没人通知", "价格透明", "等了很久没人通知"])
    first = themes.cached_tokens(texts, processed_dir=proc)
    path = proc / themes.CACHE_FILE
    assert path.is_file() and pq.read_schema(path).metadata[b"fingerprint"] == b"fp-1"
    assert pq.read_table(path).num_rows == 2  # one row per distinct text
    assert [p.name for p in proc.iterdir() if p.name.startswith(".comment_tokens")] == []  # no temporary file left

    def no_segmentation(texts):
        raise AssertionError(f"segmented again: {list(texts)}")

    monkeypatch.setattr(themes, "segment", no_segmentation)
    assert themes.cached_tokens(texts, processed_dir=proc).tolist() == first.tolist()
    monkeypatch.undo()

    seen = []
    real = themes.segment
    monkeypatch.setattr(themes, "segment", lambda t: seen.append(list(t)) or real(t))
    themes.cached_tokens(
        pd.Series(["价格透明", "休息区很舒服"]), processed_dir=proc
    )  # a new text is added, the known one read
    assert seen == [["休息区很舒服"]] and pq.read_table(path).num_rows == 3
    _processed(proc, "fp-2")  # the processed data were rebuilt: the cache is stale
    seen.clear()
    assert themes.cached_tokens(texts, processed_dir=proc).tolist() == first.tolist()
    assert seen == [["等了很久没人通知", "价格透明"]]
    assert pq.read_schema(path).metadata[b"fingerprint"] == b"fp-2" and pq.read_table(path).num_rows == 2


def test_the_token_cache_is_not_written_into_a_read_only_folder(tmp_path, monkeypatch):
    proc = _processed(tmp_path / "ro", "fp")
    real = os.access
    monkeypatch.setattr(themes.os, "access", lambda p, mode: False if Path(p) == proc else real(p, mode))
    out = themes.cached_tokens(pd.Series(["等了很久"]), processed_dir=proc)
    assert out.iloc[0].replace(themes.SEP, "") == "等了很久"
    assert sorted(p.name for p in proc.iterdir()) == ["manifest.json"]
    assert (
        themes.cached_tokens(pd.Series(["等了很久"]), processed_dir=None).tolist() == out.tolist()
    )  # no folder: no cache


def test_a_broken_cache_file_is_rebuilt(tmp_path):
    proc = _processed(tmp_path / "p", "fp")
    (proc / themes.CACHE_FILE).write_bytes(b"not parquet")
    assert themes.cached_tokens(pd.Series(["没人通知"]), processed_dir=proc).iloc[0] == themes.SEP.join(
        ["没人", "通知"]
    )
    assert (proc / themes.CACHE_FILE).read_bytes()[:4] == b"PAR1"


# ================================================================================ tables
def _comments(**themes_on: list[bool]) -> pd.DataFrame:
    n = len(next(iter(themes_on.values())))
    base = {t: [False] * n for t in catalog.THEME_CODES}
    base.update(themes_on)
    return pd.DataFrame(base)


def test_theme_share_counts_and_wilson_intervals_by_group():
    c = _comments(long_wait=[True] * 3 + [False] * 7 + [True, False])
    c["nps_group"] = pd.Categorical(
        ["detractor"] * 10 + ["promoter", "promoter"], categories=["detractor", "passive", "promoter"], ordered=True
    )
    s = themes.theme_share(c, by="nps_group", themes=["long_wait", "hard_sell"])
    assert s["nps_group"].astype(str).tolist() == ["detractor", "detractor", "promoter", "promoter"]
    d = s.iloc[0]
    assert (d["n"], d["hits"], d["theme_share"]) == (10, 3, 0.3)
    assert (round(d["ci_low"], 4), round(d["ci_high"], 4)) == (0.1078, 0.6032)  # Wilson 3/10
    assert s.iloc[1]["ci_low"] == 0.0 and s.iloc[1]["hits"] == 0
    assert themes.share_cells(s)["theme_share_ci"].iloc[0] == "30.0 (10.8–60.3)"
    t = present.pivot(themes.share_cells(s), "theme", "nps_group", "theme_share_ci", lang="en")
    assert t.frame.columns.tolist() == ["Theme", "Detractor", "Promoter"]
    assert t.frame.iloc[0].tolist() == ["Long wait", "30.0 (10.8–60.3) (n = 10) ⚠", "50.0 (9.5–90.5) (n = 2) ⚠"]


def test_the_ltr_gap_is_welchs_difference_with_its_interval():
    rng = np.random.default_rng(3)
    ltr = np.clip(np.round(rng.normal(7, 2, 200)), 0, 10)
    flag = rng.random(200) < 0.3
    ltr[flag] = np.clip(ltr[flag] - 2, 0, 10)
    c = _comments(no_progress_info=flag.tolist())
    c["ltr"] = pd.array(ltr.astype(int), dtype="Int64")
    c.loc[5, "ltr"] = pd.NA  # no LTR: left out
    r = themes.ltr_gap(c, themes=["no_progress_info"]).iloc[0]
    y = c.dropna(subset=["ltr"])
    a = y.loc[y["no_progress_info"], "ltr"].astype(float)
    b = y.loc[~y["no_progress_info"], "ltr"].astype(float)
    test = stats.ttest_ind(a, b, equal_var=False)
    assert r["n_with"] + r["n_without"] == 199
    assert r["ltr_gap"] == pytest.approx(a.mean() - b.mean())
    assert r["p_value"] == pytest.approx(test.pvalue)
    ci = test.confidence_interval()
    assert (r["ltr_gap_ci_low"], r["ltr_gap_ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    t = present.table(
        themes.ltr_gap(c, themes=["no_progress_info"]),
        ["theme", "n_with", "ltr_gap", "ltr_gap_ci_low", "ltr_gap_ci_high"],
        n="n_with",
        lang="zh",
    )
    assert t.frame.columns.tolist() == ["主题", "提及者样本量", "推荐意愿差（分）", "95% 置信区间"]


def test_the_ltr_gap_of_a_theme_nobody_mentions_is_missing_not_zero():
    c = _comments(long_wait=[False] * 5)
    c["ltr"] = [1, 2, 3, 4, 5]
    r = themes.ltr_gap(c, themes=["long_wait"]).iloc[0]
    assert r["n_with"] == 0 and np.isnan(r["ltr_gap"]) and np.isnan(r["p_value"])


def test_top_themes_ranks_the_negative_themes_of_a_group():
    c = _comments(
        long_wait=[True, True, False, True],
        hard_sell=[True, True, False, False],
        progress_informed=[True, True, True, True],
    )
    c["nps_group"] = ["detractor", "detractor", "detractor", "promoter"]
    top = themes.top_themes(c, group="detractor", k=3)
    assert top["theme"].tolist() == ["long_wait", "hard_sell"]  # a tie goes in catalog order; praise is not a pain
    assert top["rank"].tolist() == [1, 2] and top["n"].tolist() == [3, 3]
    f = themes.finding_top_detractor_themes(top, lang="en")
    assert f.text() == "Top themes of detractors' comments: long wait 67%, hard sell at handover 67% (n = 3)."
    assert f.record()["status"] == "too_few"


# ================================================================================ verbatims
HOSTILE = [
    "等了很久，有事打我电话13912345678",
    "等了很久，订单号 2026 1003 1234",
    "等了很久，王先生说不用回访",
    "等了很久，车牌沪A·12345",
    "等了很久，李师傅后来才来",
    "等了很久，小王说还要等",
    "等了很久，顾问王伟说还要等",
    "等了很久，发票用身份证11010519491231002X",
    "等了很久，邮件 li.wei@163.com",
    "等了很久，电话[手机号]",
    "等了很久，*先生不满意",
    "等了很久，一三九一二三四五六七八",
    "等了很久，１３９ １２３４ ５６７８",
]


def test_verbatims_never_quote_a_comment_that_held_personal_data():
    texts = HOSTILE + ["等了很久", "等了三个小时，没人说明"]
    c = pd.DataFrame(
        {"text": texts, "n_themes": 1, **{t: [t == "long_wait"] * len(texts) for t in catalog.THEME_CODES}}
    )
    v = themes.verbatims(c, n=10)
    assert v["hits"].tolist() == [len(texts)]
    assert v["verbatims"].iloc[0] == ["等了三个小时，没人说明", "等了很久"]
    for h in HOSTILE:
        assert not themes.quotable(h), h


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["等了很久", "没人通知进度", "价格透明", "交车的时候一直推销"]),
    st.sampled_from(["13{:09d}", "+86 139-{:04d}-5678", "沪A·{:05d}", "{:017d}X", "1 3 9 {:04d} 5678"]),
    st.integers(0, 10**9 - 1),
    st.sampled_from(["，", " ", "。请联系", ""]),
)
def test_no_phone_plate_or_id_reaches_a_verbatim(base, template, number, glue):
    pii = template.format(number % (10 ** template.count("0") if "{:0" in template else 10**9))
    text = base + glue + pii
    c = pd.DataFrame({"text": [text, base], "n_themes": 1, **{t: [True, True] for t in catalog.THEME_CODES}})
    shown = [x for vs in themes.verbatims(c)["verbatims"] for x in vs]
    masked = __import__("cxlib.privacy", fromlist=["mask"]).mask(text)
    if masked != text:  # what the masking recognises as personal data is never shown
        assert text not in shown
    assert all(not PII.search(x) for x in shown)


# ============================================================================ the proposals
def test_the_unsupervised_pass_proposes_what_the_lexicon_misses_and_is_deterministic():
    rng = np.random.default_rng(0)
    charging = ["充电桩坏了好几个", "充电桩一直被占着", "店里的充电桩不够用", "充电桩充不上电"]
    courtesy = ["希望提供代步车", "没有代步车只能打车", "代步车太少了", "代步车要提前申请"]
    texts = [charging[i % 4] if i % 2 else courtesy[i % 4] for i in range(80)] + ["等了很久没人通知"] * 20
    texts = [t + ("，下次再看" if rng.random() < 0.3 else "") for t in texts]
    c = pd.DataFrame({"text": texts, "tokens": themes.segment(texts)})
    hits = themes.tag(c["text"], c["tokens"])
    c["n_themes"] = hits.sum(axis=1)
    p1 = themes.propose_themes(c, k=2, n_words=5)
    p2 = themes.propose_themes(c, k=2, n_words=5)
    pd.testing.assert_frame_equal(p1, p2)
    tops = [set(w) for w in p1["top_words"]]
    assert any("充电桩" in w for w in tops) and any("代步车" in w for w in tops)
    assert p1["n_comments"].sum() == 80  # the 20 comments the lexicon tags are left out
    assert p1["topic"].tolist() == [1, 2] and all(len(v) <= 2 for v in p1["verbatims"])


def test_too_few_comments_for_proposals_is_a_note_or_an_error():
    c = pd.DataFrame({"text": ["充电桩坏了"] * 5, "tokens": themes.segment(["充电桩坏了"] * 5), "n_themes": 0})
    note = themes.propose_themes(c, k=3, strict=False)
    assert isinstance(note, NotComputed) and "n = 5" in note.in_lang("en").text()
    with pytest.raises(DataError, match="too few"):
        themes.propose_themes(c, k=3)


# =============================================================== surveys and complaints, cleaned
def _complaints_with_text(texts: list[str]) -> pd.DataFrame:
    k = len(texts)
    return pd.DataFrame(
        {
            "complaint_id": [f"K{i}" for i in range(k)],
            "visit_id": ["V2"] * k,
            "filed_at": ["2026-09-22T11:00:00"] * k,
            "channel": (["hotline", "app", "social", "review_site"] * k)[:k],
            "category": ["x"] * k,
            "投诉内容": texts,
        }
    )


def test_complaint_texts_are_masked_by_the_cleaning_and_tagged_by_channel(tmp_path):
    texts = ["等了三个小时没人通知，回电13912345678", "收费不透明", "交车时一直推销", "李师傅态度很差"]
    surveys = SURVEYS.assign(comment=["进度推送很及时，还有照片", "等了很久，车牌沪A·12345"])
    raw = write_raw(tmp_path / "raw", complaints=_complaints_with_text(texts), surveys=surveys)
    data = clean.load(tmp_path / "processed", raw_dir=raw)
    cp = themes.complaint_themes(data, processed_dir=tmp_path / "processed")
    assert cp["channel"].astype(str).tolist() == ["hotline", "app", "social", "review_site"]
    assert not cp["text"].str.contains("13912345678").any()  # masked by the cleaning step
    assert cp.loc[0, "long_wait"] and cp.loc[0, "no_progress_info"] and cp.loc[1, "price_opaque"]
    assert cp.loc[2, "hard_sell"] and cp.loc[3, "advisor_attitude"] and (cp["center"] == "BJ-WJ").all()
    by = themes.theme_share(cp, by="channel")
    assert by.loc[(by["channel"] == "app") & (by["theme"] == "price_opaque"), "theme_share"].item() == 1.0
    shown = [x for vs in themes.verbatims(cp)["verbatims"] for x in vs]
    assert shown == ["交车时一直推销", "收费不透明"]  # the masked call-back number and 李师傅 are not quoted
    f = themes.finding_complaints(by, lang="en")
    assert "App: “unclear or surprise charges” (100%, n = 1)" in f.text()
    comments = themes.comment_themes(data, processed_dir=tmp_path / "processed")
    # in the processed order (by center: R2's visit is at BJ-WJ), read here by response
    comments = comments.sort_values("response_id", ignore_index=True)
    assert comments["response_id"].tolist() == ["R1", "R2"] and comments.loc[0, "progress_informed"]
    assert comments["nps_group"].astype(str).tolist() == ["promoter", "detractor"]
    assert "沪A" not in comments.loc[1, "text"] and (tmp_path / "processed" / themes.CACHE_FILE).is_file()


def test_complaints_without_a_text_column_say_not_provided(tmp_path):
    data = clean.load(tmp_path / "processed", raw_dir=write_raw(tmp_path / "raw", complaints=COMPLAINTS))
    note = themes.complaint_themes(data, processed_dir=tmp_path / "processed", lang="en")
    assert isinstance(note, NotProvided) and note.missing == ("complaint_text",)
    assert note.text() == "not provided: complaint text (complaint_text)"
    assert themes.finding_complaints(note, lang="en").record()["status"] == "not_provided"
    assert (
        themes.results_entries(
            themes.theme_share(_comments(long_wait=[True]).assign(nps_group="detractor"), by="nps_group"),
            themes.ltr_gap(_comments(long_wait=[True]).assign(ltr=[3])),
            note,
        )["complaint_themes"]
        is note
    )


def test_without_complaints_the_complaint_themes_are_not_provided(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "complaints.csv").unlink()
    data = clean.load(tmp_path / "processed", raw_dir=raw)
    note = themes.complaint_themes(data, lang="zh")
    assert isinstance(note, NotProvided) and note.missing == ("complaints",)


# ================================================================================ the figure
def test_the_theme_map_places_each_theme_under_its_stage_without_warnings():
    c = _comments(long_wait=[True, False, True, False], progress_informed=[False, True, True, False])
    shares = themes.theme_share(c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = themes.plot_theme_map(shares, lang="both", min_share=0.01)
    heights = sorted(round(b.get_height(), 6) for b in fig.axes[1].containers[0])
    assert heights == [-50.0, 50.0]  # pain downwards, praise upwards, in %
    assert fig.axes[0].get_title().startswith("评价主题")


def test_the_lexicon_table_lists_every_theme():
    t = themes.lexicon_table(lang="zh")
    assert t["theme"].tolist() == list(catalog.THEME_CODES)
    assert present.table(t, lang="zh", n=None).frame.iloc[0, 0] == "预约困难"


def test_the_doctests_of_the_module():
    assert doctest.testmod(themes, optionflags=doctest.ELLIPSIS).failed == 0


def test_a_selection_without_comments_is_a_note_everywhere(tmp_path):
    data = clean.load(
        tmp_path / "processed", raw_dir=write_raw(tmp_path / "raw", surveys=SURVEYS.drop(columns="comment"))
    )
    comments = themes.comment_themes(data, processed_dir=tmp_path / "processed", lang="en")
    assert isinstance(comments, NotComputed) and comments.text() == (
        "n = 0 comments: too few for the theme analysis, need ≥ 1"
    )
    assert themes.top_themes(comments) is comments
    assert themes.finding_themes(comments, lang="en").record()["status"] == "not_computed"
    entries = themes.results_entries(comments, comments, themes.complaint_themes(data), comments)
    assert entries["themes"] is comments and entries["complaint_themes"].missing == ("complaint_text",)
    few = _comments(long_wait=[True]).assign(nps_group=["promoter"])
    note = themes.top_themes(few, group="detractor")
    assert isinstance(note, NotComputed) and "detractors' comments" in note.in_lang("en").text()
