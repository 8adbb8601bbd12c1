"""Journey analysis: hand-computed curves, drops, pain points, silences, moments of truth, figures."""

from __future__ import annotations

import io
import logging
import math
import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

from cxlib import catalog, journey, plotting  # noqa: E402
from cxlib.drivers import relative_weights  # noqa: E402
from cxlib.errors import DataError  # noqa: E402


def T(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-10-03 {hhmm}", tz="Asia/Shanghai")


@pytest.fixture
def small_scores() -> pd.DataFrame:
    rows = [
        ("R1", "booking", 6, "none"),
        ("R1", "waiting", 2, "none"),
        ("R1", "departure", 7, "none"),
        ("R2", "booking", 8, "realtime"),
        ("R2", "waiting", 4, "realtime"),
        ("R3", "booking", 10, "realtime"),
    ]
    df = pd.DataFrame(rows, columns=["response_id", "point", "score", "tier"])
    df["visit_id"] = df["response_id"].str.replace("R", "V")
    df["tier"] = df["tier"].astype(catalog.TIER_DTYPE)
    return df


@pytest.fixture(scope="module")
def synthetic_scores() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(240):
        tier, center = catalog.TIER_ORDER[i % 4], ("SH-JQ", "BJ-WJ", "GZ-TH")[i % 3]
        base = rng.normal(7, 1.2)
        vals = {}
        for p in catalog.SCORE_POINT_ORDER:
            dip = 2.5 if (p == "waiting" and tier == "none") else 0
            vals[p] = int(np.clip(round(base + rng.normal(0, 1.3) - dip), 1, 10))
        ltr = int(np.clip(round(0.6 * vals["waiting"] + 0.4 * vals["handover"] + rng.normal(0, 0.8)), 0, 10))
        for p, s in vals.items():
            rows.append(
                {
                    "response_id": f"R{i:04d}",
                    "visit_id": f"V{i:04d}",
                    "point": p,
                    "score": s,
                    "center": center,
                    "tier": tier,
                    "ltr": ltr,
                }
            )
    df = pd.DataFrame(rows)
    df["tier"] = df["tier"].astype(catalog.TIER_DTYPE)
    df["point"] = df["point"].astype(catalog.SCORE_POINT_DTYPE)
    return df


# --------------------------------------------------------------------------------- curves
def test_emotion_curve_by_hand(small_scores):
    c = journey.emotion_curve(small_scores).set_index("point")
    assert list(c.index.astype(str)) == ["booking", "waiting", "departure"]  # catalog order
    assert (c.loc["booking", "n"], c.loc["booking", "mean"], c.loc["booking", "sd"]) == (3, 8.0, 2.0)
    half = stats.t.ppf(0.975, 2) * 2 / math.sqrt(3)  # 4.302653 * 1.154701
    assert half == pytest.approx(4.968275, abs=1e-6)
    assert c.loc["booking", "ci_low"] == pytest.approx(8 - half)
    assert 8 + half > 10 and c.loc["booking", "ci_high"] == 10.0  # clipped to the 1-10 scale
    assert c.loc["waiting", "mean"] == 3.0
    # t(0.975, 1) * sd / sqrt(2) = 12.706205 either side of 3: clipped to the scale, 1-10
    assert (c.loc["waiting", "ci_low"], c.loc["waiting", "ci_high"]) == (1.0, 10.0)
    assert math.isnan(c.loc["departure", "ci_low"]) and c.loc["departure", "n"] == 1
    assert c["band"].astype(str).tolist() == ["satisfied", "very_dissatisfied", "neutral"]
    assert c.loc["waiting", "band_label"] == "非常不满 Very dissatisfied"
    assert c["stage"].astype(str).tolist() == ["booking", "waiting", "delivery"]


def test_emotion_curve_by_segment(small_scores):
    c = journey.emotion_curve(small_scores, by="tier")
    assert c[["tier", "point"]].astype(str).values.tolist() == [
        ["none", "booking"],
        ["none", "waiting"],
        ["none", "departure"],
        ["realtime", "booking"],
        ["realtime", "waiting"],
    ]
    assert c["mean"].tolist() == [6.0, 2.0, 7.0, 9.0, 4.0]
    c2 = journey.emotion_curve(small_scores.assign(center="SH"), by=["center", "tier"])
    assert len(c2) == 5 and list(c2.columns[:3]) == ["center", "tier", "point"]


def test_biggest_drops(small_scores):
    c = journey.emotion_curve(small_scores)
    d = journey.biggest_drops(c)
    assert d[["from_point", "to_point", "drop"]].values.tolist() == [["booking", "waiting", 5.0]]
    n = c.set_index("point")["n"]
    assert d["n"].tolist() == [min(n["booking"], n["waiting"])]  # the drop rests on the smaller point
    all_ = journey.biggest_drops(c, only_drops=False)
    assert all_["drop"].tolist() == [5.0, -4.0]
    by = journey.biggest_drops(journey.emotion_curve(small_scores, by="tier"), by="tier")
    assert by[["tier", "drop"]].values.tolist() == [["realtime", 5.0], ["none", 4.0]]
    with pytest.raises(DataError, match="by="):
        journey.biggest_drops(journey.emotion_curve(small_scores, by="tier"))


def test_bad_scores_raise_data_error(small_scores):
    with pytest.raises(DataError, match="unknown journey point") as e:
        journey.emotion_curve(small_scores.assign(point=["booking", "lobby", "x", "a", "b", "c"]))
    assert e.value.row == 2 and e.value.column == "point"
    with pytest.raises(DataError, match="outside 1-10"):
        journey.emotion_curve(small_scores.assign(score=[1, 2, 11, 4, 5, 6]))
    with pytest.raises(DataError, match="column not found"):
        journey.emotion_curve(small_scores, by="center")


# ------------------------------------------------------------------------- pain points
def test_pain_points_by_hand():
    scores = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R4", "R5", "R6", "R1", "R2", "R1"],
            "point": ["waiting"] * 5 + ["booking", "booking", "departure"],
            "score": [2, 4, 1, 3, 1, 9, 7, 7],
        }
    )
    comments = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R4", "R5", "R6"],
            "comment": ["等了三个小时", "还行", "完全没有进度", "一直在等", None],
        }
    )
    w = pd.Series({"booking": 0.5, "waiting": 0.3, "departure": 0.2})
    pp = journey.pain_points(scores, weights=w, target=8.0, comments=comments, n_comments=2)
    assert pp["point"].tolist() == ["waiting", "departure", "booking"]
    wt = pp.set_index("point")
    assert wt.loc["waiting", "mean"] == pytest.approx(2.2)
    assert wt.loc["waiting", "gap"] == pytest.approx(5.8)
    assert wt.loc["waiting", "priority"] == pytest.approx(5.8 * 0.3)
    assert wt.loc["departure", "priority"] == pytest.approx(1.0 * 0.2)
    assert wt.loc["booking", "gap"] == 0 and wt.loc["booking", "priority"] == 0  # 8.0 ≥ target: floored
    assert wt.loc["waiting", "share_very_dissatisfied"] == pytest.approx(0.8)
    # lowest score first, then response id; R6 (1) has no comment
    assert wt.loc["waiting", "sample_comments"] == ["完全没有进度", "等了三个小时"]
    assert wt.loc["booking", "sample_comments"] == []
    assert pp["rank"].tolist() == [1, 2, 3]


def test_pain_points_default_importance_is_the_relative_weight_share(synthetic_scores):
    pp = journey.pain_points(synthetic_scores).set_index("point")
    wide = synthetic_scores.astype({"point": str}).pivot(index="response_id", columns="point", values="score")
    wide["ltr"] = synthetic_scores.groupby("response_id")["ltr"].first()
    rw = relative_weights(wide, "ltr", list(catalog.SCORE_POINT_ORDER)).set_index("predictor")
    for p in catalog.SCORE_POINT_ORDER:
        assert pp.loc[p, "importance"] == pytest.approx(rw.loc[p, "rescaled_pct"] / 100)
    assert pp["importance"].sum() == pytest.approx(1.0)
    kd = journey.key_drivers(synthetic_scores)
    assert kd["predictor"].iloc[0] == "waiting"  # the simulated strongest driver
    assert kd["raw_weight"].sum() == pytest.approx(kd["r2"].iloc[0])


def test_importance_performance_quadrants():
    curve = pd.DataFrame({"point": ["booking", "waiting", "handover", "payment"], "mean": [8.0, 5.0, 7.0, 6.0]})
    w = pd.Series({"booking": 0.1, "waiting": 0.4, "handover": 0.3, "payment": 0.2})
    ip = journey.importance_performance(curve, w).set_index("point")
    # cuts: mean importance 0.25, mean performance 6.5
    assert ip["quadrant"].to_dict() == {
        "booking": "overkill",
        "waiting": "concentrate",
        "handover": "keep_up",
        "payment": "low_priority",
    }
    assert ip["importance_cut"].iloc[0] == pytest.approx(0.25)
    assert ip.loc["waiting", "quadrant_label"] == "重点改进 Concentrate here"


# -------------------------------------------------------------------- information black hole
@pytest.fixture
def visits_events():
    visits = pd.DataFrame(
        {
            "visit_id": ["V1", "V2", "V3"],
            "arrived_at": [T("09:00"), T("09:00"), T("10:00")],
            "started_at": [T("09:30"), T("09:30"), pd.NaT],
            "finished_at": [T("12:30"), T("10:30"), pd.NaT],
            "delivered_at": [T("13:00"), T("11:00"), T("11:00")],
        }
    )
    events = pd.DataFrame(
        {
            "visit_id": ["V1"] * 7 + ["V2", "V2"],
            "ts": [
                T("09:00"),
                T("09:20"),
                T("10:00"),
                T("11:00"),
                T("12:30"),
                T("12:50"),
                T("09:10"),
                T("10:00"),
                T("11:30"),
            ],
            "touchpoint": [
                "reception",
                "advisor_update",
                "progress_push",
                "customer_inquiry",
                "ready_notice",
                "payment",
                "advisor_talk",
                "customer_inquiry",
                "customer_inquiry",
            ],
            "photo": [False, False, True, False, False, False, False, False, False],
        }
    )
    return visits, events


def test_silences_by_hand(visits_events):
    visits, events = visits_events
    s = journey.silences(events, visits).set_index("visit_id")
    # V1: repair 09:30-12:30; updates inside at 10:00 and 12:30 (09:20 is before the start):
    # gaps 30, 150, 0 -> 150 min from 10:00 to 12:30
    assert s.loc["V1", "longest_silence_minutes"] == 150.0
    assert (s.loc["V1", "silence_start"], s.loc["V1", "silence_end"]) == (T("10:00"), T("12:30"))
    assert s.loc["V1", "n_updates_in_repair"] == 2 and s.loc["V1", "repair_minutes"] == 180.0
    assert s.loc["V1", "n_inquiries"] == 1
    # V2: no update: the whole 60-min repair; the 11:30 inquiry is after delivery
    assert s.loc["V2", "longest_silence_minutes"] == 60.0 and s.loc["V2", "n_inquiries"] == 1
    assert math.isnan(s.loc["V3", "longest_silence_minutes"]) and s.loc["V3", "n_inquiries"] == 0


def test_silences_rejects_naive_vs_aware_timestamps(visits_events):
    visits, events = visits_events
    naive = events.assign(ts=events["ts"].dt.tz_localize(None))
    with pytest.raises(DataError, match="timezone"):
        journey.silences(naive, visits)


def test_silence_effects_by_hand():
    v = pd.DataFrame(
        {
            "longest_silence_minutes": [10, 20, 45, 150, 300, np.nan],
            "anxiety": [10.0, 30.0, 50.0, 70.0, 90.0, 5.0],
            "ltr": [10, 8, 6, 4, 2, 9],
            "n_inquiries": [0, 0, 1, 2, 1, 0],
        }
    )
    e = journey.silence_effects(v)
    assert e["silence_bin"].astype(str).tolist() == ["0–30", "30–60", "60–120", "120–240", "240+"]
    assert e["n_visits"].tolist() == [2, 1, 0, 1, 1]
    first = e.iloc[0]
    assert first["anxiety_mean"] == 20.0 and first["ltr_mean"] == 9.0 and first["ltr_n"] == 2
    half = stats.t.ppf(0.975, 1) * np.std([10, 30], ddof=1) / np.sqrt(2)  # 127: off the 0-100 scale
    assert (first["anxiety_ci_low"], first["anxiety_ci_high"]) == (0.0, 100.0) and half > 80
    assert (first["ltr_ci_low"], first["ltr_ci_high"]) == (0.0, 10.0)
    assert first["inquiry_rate"] == 0.0
    lo, hi = proportion_confint(0, 2, alpha=0.05, method="wilson")
    assert (first["inquiry_ci_low"], first["inquiry_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert e.iloc[3]["mean_inquiries"] == 2.0 and math.isnan(e.iloc[2]["ltr_mean"])
    with pytest.raises(DataError, match="increasing"):
        journey.silence_effects(v, bins=[0, 60, 30])


# ------------------------------------------------------------------------ moments of truth
def test_moments_mapping_uses_catalog_points():
    assert len(journey.MOMENTS) == 8
    assert {m.point for m in journey.MOMENTS} <= set(catalog.SCORE_POINT_ORDER)
    t = journey.moments_table()
    assert t["moment"].tolist() == [
        "first_call",
        "parking",
        "reception_wait",
        "advisor_talk",
        "quote",
        "care_while_waiting",
        "pick_up",
        "follow_up",
    ]
    assert t.set_index("moment").loc["follow_up", "proxy"]


def test_wilson_matches_hand_formula_and_statsmodels():
    lo, hi = journey.wilson_ci(np.array([3, 0, 10]), np.array([10, 5, 10]))
    ref = [proportion_confint(k, n, alpha=0.05, method="wilson") for k, n in [(3, 10), (0, 5), (10, 10)]]
    assert np.allclose(lo, [r[0] for r in ref]) and np.allclose(hi, [r[1] for r in ref])
    assert (round(float(lo[0]), 4), round(float(hi[0]), 4)) == (0.1078, 0.6032)
    assert all(np.isnan(journey.wilson_ci(0, 0)))


def test_moments_scorecard_by_hand():
    scores = pd.DataFrame(
        {
            "center": ["SH"] * 5 + ["BJ"],
            "point": ["booking"] * 4 + ["reception", "booking"],
            "score": [2, 9, 3, 8, 1, 10],
        }
    )
    sc = journey.moments_scorecard(scores, by="center").set_index(["center", "moment"])
    assert sc.index.get_level_values(0).unique().tolist() == ["BJ", "SH"]
    row = sc.loc[("SH", "first_call")]
    assert (row["n"], row["n_bad"], row["share_bad"]) == (4, 2, 0.5)
    lo, hi = proportion_confint(2, 4, alpha=0.05, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert sc.loc[("SH", "advisor_talk"), "share_bad"] == 1.0 == sc.loc[("SH", "reception_wait"), "share_bad"]
    assert sc.loc[("BJ", "first_call"), "share_bad"] == 0.0
    assert sc.loc[("BJ", "quote"), "n"] == 0 and math.isnan(sc.loc[("BJ", "quote"), "share_bad"])
    overall = journey.moments_scorecard(scores, by=None).set_index("moment")
    assert (overall.loc["first_call", "n"], overall.loc["first_call", "n_bad"]) == (5, 2)
    assert (
        journey.moments_scorecard(scores, by="center", bad_at=2)
        .set_index(["center", "moment"])
        .loc[("SH", "first_call"), "n_bad"]
        == 1
    )


# ------------------------------------------------------------------------------- figures
def _render_clean(fig, caplog) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getbuffer().nbytes > 5000
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    for ax in fig.axes:
        if ax.get_xlabel():
            assert ax.get_ylabel() or not ax.get_yticklabels()
    assert any(ax.get_title() for ax in fig.axes) or fig._suptitle is not None


@pytest.mark.parametrize("lang", ["zh", "en", "both"])
def test_figures_render_without_warnings(lang, synthetic_scores, visits_events, caplog):
    import seaborn as sns

    sns.set_theme()  # even after a plain seaborn re-theme, the figure functions restore the CJK font
    visits, events = visits_events
    curve = journey.emotion_curve(synthetic_scores)
    by_tier = journey.emotion_curve(synthetic_scores, by="tier")
    ip = journey.importance_performance(curve, journey.key_drivers(synthetic_scores))
    sil = journey.silences(events, visits)
    eff = journey.silence_effects(visits.merge(sil, on="visit_id").assign(ltr=[5, 9, 7], anxiety=[80.0, 20.0, 50.0]))
    with caplog.at_level(logging.INFO, logger="matplotlib.font_manager"), warnings.catch_warnings():
        warnings.simplefilter("error")
        figs = [
            journey.plot_emotion_curve(by_tier, by="tier", lang=lang),
            journey.journey_map(curve, lang=lang),
            journey.plot_importance_performance(ip, lang=lang),
            journey.plot_silence(eff, lang=lang),
            journey.visit_timeline(events, visits, "V1", lang=lang),
        ]
        for fig in figs:
            _render_clean(fig, caplog)
    title = figs[1].axes[0].get_title()
    assert ("客户旅程地图" in title) == (lang != "en") and ("journey map" in title) == (lang != "zh")
    labels = [t.get_text() for t in figs[0].axes[0].get_xticklabels()]
    assert labels[4] == plotting.tick_label("waiting", lang=lang)
    plotting.set_theme()


def test_journey_map_needs_one_curve(synthetic_scores):
    with pytest.raises(DataError, match="by="):
        journey.journey_map(journey.emotion_curve(synthetic_scores, by="tier"))
    with pytest.raises(DataError, match="not found"):
        journey.visit_timeline(
            pd.DataFrame(columns=["visit_id", "ts", "touchpoint"]),
            pd.DataFrame({"visit_id": ["V1"], "arrived_at": [T("09:00")], "delivered_at": [T("10:00")]}),
            "V9",
        )


def test_verbatims_latest_first_and_by_group():
    s = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R3", "R4"],
            "comment": ["慢", "", "<script>x</script>", "好"],
            "nps_group": ["detractor", "passive", "passive", "promoter"],
            "submitted_at": pd.to_datetime(["2026-10-01", "2026-10-04", "2026-10-03", "2026-10-02"]),
        }
    )
    assert journey.verbatims(s, n=2)["response_id"].tolist() == ["R3", "R4"]
    g = journey.verbatims(s, n=1, by="nps_group")
    assert g["response_id"].tolist() == ["R1", "R3", "R4"]
    assert g["comment"].tolist()[1] == "<script>x</script>"


def test_example_visit_prefers_given_id_else_longest_silence():
    v = pd.DataFrame({"visit_id": ["A", "B", "C"], "longest_silence_minutes": [30.0, 200.0, 200.0]})
    assert journey.example_visit(v) == "B"
    assert journey.example_visit(v, preferred="A") == "A"
    assert journey.example_visit(v, preferred="nope") == "B"


def test_pain_point_comments_are_distinct():
    scores = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "point": ["waiting"] * 3, "score": [1, 1, 2]})
    comments = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "comment": ["太慢", "太慢", "没人通知"]})
    pp = journey.pain_points(scores, weights=pd.Series({"waiting": 1.0}), comments=comments, n_comments=3)
    assert pp.loc[0, "sample_comments"] == ["太慢", "没人通知"]
