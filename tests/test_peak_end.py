"""Peak-end rule: published profiles and hand-computed summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.errors import DataError
from cxlib.peak_end import peak_end_models, peak_end_score, peak_end_summary

# Kahneman, Fredrickson, Schreiber & Redelmeier (1993), Psychological Science 4(6): short trial
# 60 s with one hand in water at 14 °C; long trial the same 60 s, then 30 s more while the water
# was gradually warmed to 15 °C ("still painful but distinctly less so"). Discomfort was rated
# continuously on a 0-14 scale; the profiles below (every 10 s) follow the published description
# (rising discomfort at 14 °C, falling during the warming) and are approximate. 22 of 32
# subjects (69 %) chose to repeat the long trial.
COLD_SHORT = [0, 4, 6, 7, 8, 8.5, 9]                 # t = 0..60 s
COLD_LONG = COLD_SHORT + [8, 7, 6]                    # t = 70..90 s, water warming to 15 °C
# Redelmeier & Kahneman (1996), Pain 66:3-8, figure of patients A and B (pain 0-10 each minute),
# read off the figure (approximate); as described in the paper and in Kahneman (2011): both peak
# at 8; A's procedure lasted 8 minutes and ended at 7; B's lasted 24 minutes and ended at 1.
PATIENT_A = [2, 4, 5, 4, 6, 7, 8, 7, 7]               # minutes 0..8
PATIENT_B = [2, 3, 4, 5, 4, 6, 8, 7, 6, 6, 5, 5, 6, 7, 5, 4, 5, 4, 3, 3, 2, 2, 2, 1, 1]  # minutes 0..24


def _long(profiles: dict[str, list[float]], step: float) -> pd.DataFrame:
    rows = [{"episode": k, "t": i * step, "pain": v} for k, prof in profiles.items() for i, v in enumerate(prof)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("profiles, step", [({"short": COLD_SHORT, "long": COLD_LONG}, 10.0),
                                            ({"short": PATIENT_A, "long": PATIENT_B}, 1.0)])
def test_more_total_pain_but_better_peak_end(profiles, step):
    s = peak_end_summary(_long(profiles, step), id="episode", order="t", value="pain", worse="higher")
    s = s.set_index("episode")
    duration_weighted = {k: step * sum(v) for k, v in profiles.items()}
    assert duration_weighted["long"] > duration_weighted["short"]
    assert s.loc["long", "total"] > s.loc["short", "total"]
    assert s.loc["long", "worst"] == s.loc["short", "worst"]          # same peak
    assert s.loc["long", "last"] < s.loc["short", "last"]             # milder end
    assert s.loc["long", "peak_end"] < s.loc["short", "peak_end"]     # remembered as less bad


def test_colonoscopy_peak_end_values():
    assert peak_end_score(PATIENT_A, worse="higher") == 7.5   # (8 + 7) / 2
    assert peak_end_score(PATIENT_B, worse="higher") == 4.5   # (8 + 1) / 2
    assert (len(PATIENT_A) - 1, len(PATIENT_B) - 1) == (8, 24)
    assert round(100 * 22 / 32) == 69


def test_summary_of_journey_scores_by_hand():
    scores = pd.DataFrame({
        "response_id": ["R1"] * 4 + ["R2"] * 3,
        "visit_id": ["V1"] * 4 + ["V2"] * 3,
        # given out of order: the journey order comes from the catalog
        "point": ["departure", "reception", "waiting", "booking", "payment", "booking", "waiting"],
        "score": [7, 9, 3, 8, 6, 10, 4],
        "ltr": [6, 6, 6, 6, 9, 9, 9],
    })
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
    summary = pd.DataFrame({"worst": worst, "last": last, "best": np.maximum(last, mean), "mean": mean,
                            "peak_end": (worst + last) / 2})
    summary["ltr"] = summary["peak_end"] + rng.normal(0, 0.8, n)
    a = peak_end_models(summary, folds=5, n_boot=100, seed=11)
    b = peak_end_models(summary, folds=5, n_boot=100, seed=11)
    pd.testing.assert_frame_equal(a, b)
    top = a.iloc[0]["model"]
    assert top in ("peak_end", "worst + last")
    pe = a.set_index("model").loc["peak_end"]
    assert pe["ci_low"] <= pe["r2_cv"] <= pe["ci_high"]
    assert pe["delta_vs_baseline"] > 0 and pe["delta_ci_low"] > 0    # beats the mean model
    assert pe["r2_cv"] <= pe["r2_in_sample"] + 1e-9


def test_cv_r2_matches_a_direct_computation():
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    df = pd.DataFrame({"mean": x, "ltr": 2 * x + rng.normal(size=40)})
    out = peak_end_models(df, models=["mean"], folds=4, n_boot=20, seed=2).iloc[0]
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
