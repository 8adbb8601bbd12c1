"""Peak-end rule: published profiles and hand-computed summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import findings
from cxlib.errors import DataError
from cxlib.estimation import Inference
from cxlib.peak_end import duration_neglect, peak_end_models, peak_end_score, peak_end_summary, time_weighted_mean

# Kahneman, Fredrickson, Schreiber & Redelmeier (1993), Psychological Science 4(6): short trial
# 60 s with one hand in water at 14 °C; long trial the same 60 s, then 30 s more while the water
# was gradually warmed to 15 °C ("still painful but distinctly less so"). Discomfort was rated
# continuously on a 0-14 scale; the profiles below (every 10 s) follow the published description
# (rising discomfort at 14 °C, falling during the warming) and are approximate. 22 of 32
# subjects (69 %) chose to repeat the long trial.
COLD_SHORT = [0, 4, 6, 7, 8, 8.5, 9]  # t = 0..60 s
COLD_LONG = COLD_SHORT + [8, 7, 6]  # t = 70..90 s, water warming to 15 °C
# Redelmeier & Kahneman (1996), Pain 66:3-8, figure of patients A and B (pain 0-10 each minute),
# read off the figure (approximate); as described in the paper and in Kahneman (2011): both peak
# at 8; A's procedure lasted 8 minutes and ended at 7; B's lasted 24 minutes and ended at 1.
PATIENT_A = [2, 4, 5, 4, 6, 7, 8, 7, 7]  # minutes 0..8
PATIENT_B = [2, 3, 4, 5, 4, 6, 8, 7, 6, 6, 5, 5, 6, 7, 5, 4, 5, 4, 3, 3, 2, 2, 2, 1, 1]  # minutes 0..24


def _long(profiles: dict[str, list[float]], step: float) -> pd.DataFrame:
    rows = [{"episode": k, "t": i * step, "pain": v} for k, prof in profiles.items() for i, v in enumerate(prof)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "profiles, step", [({"short": COLD_SHORT, "long": COLD_LONG}, 10.0), ({"short": PATIENT_A, "long": PATIENT_B}, 1.0)]
)
def test_more_total_pain_but_better_peak_end(profiles, step):
    s = peak_end_summary(_long(profiles, step), id="episode", order="t", value="pain", worse="higher")
    s = s.set_index("episode")
    # the area under the profile over time (trapezoid rule, in rating x seconds / minutes)
    area = {k: float(np.trapezoid(v, dx=step)) for k, v in profiles.items()}
    assert area["long"] > area["short"]
    assert s.loc["long", "area"] == pytest.approx(area["long"]) and s.loc["short", "area"] == pytest.approx(
        area["short"]
    )
    assert s.loc["long", "span"] == step * (len(profiles["long"]) - 1)
    assert s.loc["long", "worst"] == s.loc["short", "worst"]  # same peak
    assert s.loc["long", "last"] < s.loc["short", "last"]  # milder end
    assert s.loc["long", "peak_end"] < s.loc["short", "peak_end"]  # remembered as less bad


def test_colonoscopy_peak_end_values():
    assert peak_end_score(PATIENT_A, worse="higher") == 7.5  # (8 + 7) / 2
    assert peak_end_score(PATIENT_B, worse="higher") == 4.5  # (8 + 1) / 2
    assert (len(PATIENT_A) - 1, len(PATIENT_B) - 1) == (8, 24)
    assert round(100 * 22 / 32) == 69


def test_summary_of_journey_scores_by_hand():
    scores = pd.DataFrame(
        {
            "response_id": ["R1"] * 4 + ["R2"] * 3,
            "visit_id": ["V1"] * 4 + ["V2"] * 3,
            # given out of order: the journey order comes from the catalog
            "point": ["departure", "reception", "waiting", "booking", "payment", "booking", "waiting"],
            "score": [7, 9, 3, 8, 6, 10, 4],
            "ltr": [6, 6, 6, 6, 9, 9, 9],
        }
    )
    visits = pd.DataFrame({"visit_id": ["V1", "V2"], "visit_minutes": [150.0, 95.0]})
    s = peak_end_summary(scores, visits).set_index("response_id")
    r1, r2 = s.loc["R1"], s.loc["R2"]
    assert (r1["worst"], r1["best"], r1["last"], r1["last_point"]) == (3, 9, 7, "departure")
    assert r1["peak_end"] == 5.0 and r1["mean"] == pytest.approx(27 / 4) and r1["n_points"] == 4
    # R2 skipped departure: the end is the last answered point in journey order (payment)
    assert (r2["worst"], r2["last"], r2["last_point"], r2["peak_end"]) == (4, 6, "payment", 5.0)
    assert r1["visit_minutes"] == 150.0 and r2["ltr"] == 9 and r1["visit_id"] == "V1"


def test_models_rank_the_true_predictor_first_and_are_deterministic():
    rng = np.random.default_rng(3)
    n = 240
    worst = rng.integers(1, 9, n).astype(float)
    last = np.clip(worst + rng.integers(0, 5, n), 1, 10)
    mean = np.clip((worst + last) / 2 + rng.normal(0, 1.5, n), 1, 10)
    summary = pd.DataFrame(
        {"worst": worst, "last": last, "best": np.maximum(last, mean), "mean": mean, "peak_end": (worst + last) / 2}
    )
    summary["ltr"] = summary["peak_end"] + rng.normal(0, 0.8, n)
    a = peak_end_models(summary, folds=5, inference=Inference(reps=100, seed=11))
    with pytest.warns(
        DeprecationWarning, match=r"peak_end_models\((n_boot|seed)=\.\.\.\) is deprecated: use inference="
    ):
        b = peak_end_models(summary, folds=5, n_boot=100, seed=11)  # the former keywords: the same numbers
    pd.testing.assert_frame_equal(a, b)
    top = a.iloc[0]["model"]
    assert top in ("peak_end", "worst + last")
    pe = a.set_index("model").loc["peak_end"]
    assert pe["ci_low"] <= pe["r2_cv"] <= pe["ci_high"]
    assert pe["delta_vs_baseline"] > 0 and pe["delta_ci_low"] > 0  # beats the mean model
    assert pe["r2_cv"] <= pe["r2_in_sample"] + 1e-9


def test_cv_r2_matches_a_direct_computation():
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    df = pd.DataFrame({"mean": x, "ltr": 2 * x + rng.normal(size=40)})
    out = peak_end_models(df, models=["mean"], folds=4, inference=Inference(reps=20, seed=2)).iloc[0]
    fold = np.random.default_rng(2).permutation(40) % 4
    pred = np.empty(40)
    for k in range(4):
        tr = fold != k
        slope, icpt = np.polyfit(x[tr], df["ltr"].to_numpy()[tr], 1)
        pred[~tr] = icpt + slope * x[~tr]
    y = df["ltr"].to_numpy()
    assert out["r2_cv"] == pytest.approx(1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_bad_input():
    with pytest.raises(DataError, match="column not found"):
        peak_end_summary(pd.DataFrame({"response_id": ["a"], "point": ["booking"]}))
    with pytest.raises(DataError, match="too few"):
        peak_end_models(pd.DataFrame({"mean": [1.0, 2.0], "ltr": [3.0, 4.0]}), models=["mean"])
    with pytest.raises(DataError, match="neither"):
        peak_end_summary(pd.DataFrame({"response_id": ["a"], "point": ["x"], "score": [3]}))


# ----------------------------------------------------------------------- time weighting, duration
def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="Asia/Shanghai")


def _visits_with_stages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visit_id": ["V1", "V2"],
            "visit_minutes": [180.0, 95.0],
            "arrived_at": [_ts("2026-10-01 09:00"), _ts("2026-10-02 10:00")],
            "started_at": [_ts("2026-10-01 09:30"), _ts("2026-10-02 10:15")],
            "finished_at": [_ts("2026-10-01 11:30"), _ts("2026-10-02 11:15")],
            "delivered_at": [_ts("2026-10-01 12:00"), _ts("2026-10-02 11:35")],
        }
    )


def test_time_weighted_mean_of_journey_points_by_hand():
    scores = pd.DataFrame(
        {
            "response_id": ["R1"] * 5 + ["R2"] * 3,
            "visit_id": ["V1"] * 5 + ["V2"] * 3,
            "point": ["departure", "reception", "waiting", "booking", "payment", "payment", "booking", "waiting"],
            "score": [7, 9, 3, 8, 5, 6, 10, 4],
        }
    )
    s = peak_end_summary(scores, _visits_with_stages()).set_index("response_id")
    # R1: reception 30 min (arrival 9:00 - start 9:30), waiting 120 min (the repair), payment and
    # departure share the 30 min from finish to delivery (15 each); booking is before the visit: 0
    area1 = 9 * 30 + 3 * 120 + 5 * 15 + 7 * 15
    assert s.loc["R1", "span"] == 180.0 and s.loc["R1", "area"] == pytest.approx(area1)
    assert s.loc["R1", "time_weighted_mean"] == pytest.approx(area1 / 180)  # 4.5, the plain mean 6.4
    assert s.loc["R1", "mean"] == pytest.approx(32 / 5)
    # R2 did not answer the arrival stage: its 15 minutes are not covered
    assert s.loc["R2", "span"] == 80.0 and s.loc["R2", "time_weighted_mean"] == pytest.approx((4 * 60 + 6 * 20) / 80)
    assert s.loc["R1", "log_visit_minutes"] == pytest.approx(np.log(180.0))
    # without the visit's timestamps there is no time to weight by: NaN, never the plain mean
    bare = peak_end_summary(scores, _visits_with_stages()[["visit_id", "visit_minutes"]])
    assert bare[["span", "area", "time_weighted_mean"]].isna().all().all()


def test_time_weighted_mean_of_a_timed_profile():
    # ratings at 0, 1 and 5 s: each stands for the time nearer to it than to its neighbours
    assert time_weighted_mean([2, 8, 2], [0, 1, 5]) == pytest.approx((0.5 * 2 + 2.5 * 8 + 2 * 2) / 5)
    assert time_weighted_mean([4, 6], [3, 1]) == 5.0  # order of the input does not matter
    assert np.isnan(time_weighted_mean([7], [0]))
    s = peak_end_summary(
        pd.DataFrame({"episode": ["a"] * 3, "t": [0, 1, 5], "pain": [2, 8, 2]}),
        id="episode",
        order="t",
        value="pain",
        worse="higher",
    ).iloc[0]
    assert s["area"] == pytest.approx(25.0) and s["span"] == 5.0 and s["time_weighted_mean"] == 5.0
    with pytest.raises(DataError, match="one time per rating"):
        time_weighted_mean([1, 2], [0])


@given(st.lists(st.tuples(st.floats(0, 100), st.integers(1, 10)), min_size=2, max_size=12, unique_by=lambda x: x[0]))
@settings(max_examples=60, deadline=None)
def test_time_weighted_mean_is_the_trapezoid_area_over_the_duration(points):
    t = np.array([p[0] for p in points])
    v = np.array([p[1] for p in points], dtype=float)
    o = np.argsort(t)
    if t[o][-1] - t[o][0] <= 0:
        return
    expected = np.trapezoid(v[o], t[o]) / (t[o][-1] - t[o][0])
    got = time_weighted_mean(v, t)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert v.min() - 1e-9 <= got <= v.max() + 1e-9


def _neglect_data(beta: float, seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    worst = rng.integers(1, 8, n).astype(float)
    last = np.clip(worst + rng.integers(0, 5, n), 1, 10)
    minutes = rng.uniform(60, 480, n)
    ltr = 0.5 * worst + 0.4 * last + beta * np.log(minutes) + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "worst": worst,
            "last": last,
            "peak_end": (worst + last) / 2,
            "visit_minutes": minutes,
            "log_visit_minutes": np.log(minutes),
            "ltr": ltr,
        }
    )


def test_duration_that_matters_is_not_neglected():
    d = _neglect_data(beta=-1.0, seed=7)
    r = duration_neglect(d, folds=5, inference=Inference(reps=100, seed=1)).iloc[0]
    assert not r["neglected"] and r["ci_high"] < 0 and r["p_value"] < 0.001
    assert r["ci_low"] < -1.0 < r["ci_high"]  # covers the true slope
    assert r["per_doubling"] == pytest.approx(r["estimate"] * np.log(2))
    assert r["r2_cv_gain"] > 0 and r["r2_cv_gain_ci_low"] > 0  # and it predicts out of sample
    assert r["r2_cv_with"] == pytest.approx(r["r2_cv_without"] + r["r2_cv_gain"])
    f = findings.duration_neglect(duration_neglect(d, folds=5, inference=Inference(reps=100, seed=1)), lang="both")
    assert f["holds"] is False and "duration neglect does not hold here" in f.en and "时长忽视不成立" in f.zh
    assert "longer visits get lower LTR" in f.en and "n = 400" in f.en


def test_duration_that_does_not_matter_is_neglected():
    d = _neglect_data(beta=0.0, seed=8)
    r = duration_neglect(d, folds=5, inference=Inference(reps=100, seed=1)).iloc[0]
    assert r["neglected"] and r["ci_low"] < 0 < r["ci_high"] and r["p_value"] > 0.05
    assert r["r2_cv_gain_ci_low"] < 0 < r["r2_cv_gain_ci_high"] or abs(r["r2_cv_gain"]) < 0.01
    f = findings.duration_neglect(duration_neglect(d, folds=5, inference=Inference(reps=100, seed=1)), lang="en")
    assert f["holds"] is True and "duration neglect holds here" in f.en


def test_duration_coefficient_matches_statsmodels_hc3():
    import statsmodels.formula.api as smf

    d = _neglect_data(beta=-0.4, seed=9, n=200)
    r = duration_neglect(d, folds=5, inference=Inference(reps=20, seed=1)).iloc[0]
    ref = smf.ols("ltr ~ worst + last + log_visit_minutes", d).fit(cov_type="HC3", use_t=True)
    assert r["estimate"] == pytest.approx(ref.params["log_visit_minutes"], rel=1e-10)
    assert r["std_error"] == pytest.approx(ref.bse["log_visit_minutes"], rel=1e-10)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(tuple(ref.conf_int().loc["log_visit_minutes"]), rel=1e-10)
    assert r["df"] == 196 and r["se_type"] == "HC3"


def test_duration_neglect_small_or_constant():
    d = _neglect_data(beta=0.0, seed=1, n=14)
    assert duration_neglect(d, strict=False).n == 14
    flat = _neglect_data(beta=0.0, seed=1, n=60).assign(log_visit_minutes=5.0)
    with pytest.raises(DataError, match="the same in every complete row"):
        duration_neglect(flat, folds=5, inference=Inference(reps=10))
    assert (
        "visit duration is the same"
        in duration_neglect(flat, folds=5, strict=False, inference=Inference(reps=10)).in_lang("en").text()
    )


def test_default_models_add_duration_only_when_the_summary_has_it():
    d = _neglect_data(beta=0.0, seed=2, n=80)
    with_duration = set(
        peak_end_models(d.assign(mean=d["peak_end"], best=d["last"]), folds=5, inference=Inference(reps=10))["model"]
    )
    assert {"log_visit_minutes", "worst + last + log_visit_minutes", "peak_end + log_visit_minutes"} <= with_duration
    assert "time_weighted_mean" not in with_duration  # not in this summary: left out, not an error
    without = peak_end_models(
        d.drop(columns=["visit_minutes", "log_visit_minutes"]).assign(mean=d["peak_end"], best=d["last"]),
        folds=5,
        inference=Inference(reps=10),
    )
    assert not any("log_visit_minutes" in m for m in without["model"])
