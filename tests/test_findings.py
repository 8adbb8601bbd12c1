"""Findings written from the results: per function with hand-made inputs (significant, not
significant, too small, reversed), and end to end on generated data whose effects are reversed
(the notebooks must then say that updates raise complaints and waiting is the best point) and on
the same data with the shipped sample's effects (they must say the opposite)."""

from __future__ import annotations

import doctest
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib import findings, nps, synth
from cxlib.catalog import MIN_N
from cxlib.findings import Finding
from cxlib.models import ModelResult
from cxlib.results import jsonable, not_provided, too_few

ROOT = Path(__file__).resolve().parents[1]


def test_doctests_of_the_module():
    assert doctest.testmod(findings, optionflags=doctest.ELLIPSIS).failed == 0


# ------------------------------------------------------------------------------ the object
def test_finding_shows_its_language_and_records_both():
    f = Finding("k", "最低点：等待", "lowest: waiting", "zh", {"point": "waiting", "p": np.float64(0.5)})
    assert repr(f) == "最低点：等待"
    assert f.in_lang("en").text() == "lowest: waiting"
    html = f.in_lang("both")._repr_html_()
    assert html.index('lang="zh-CN"') < html.index('lang="en"') and 'class="cx-finding"' in html
    assert json.dumps(f.record()) and f.record() == {
        "zh": "最低点：等待",
        "en": "lowest: waiting",
        "point": "waiting",
        "p": 0.5,
    }
    assert findings.records(f, Finding("j", "甲", "A"))["j"]["en"] == "A"


def test_text_from_the_data_is_escaped_and_never_math():
    f = Finding("k", "<b>$5 $</b>", "x")
    html = f.in_lang("zh")._repr_html_()
    assert "<b>" not in html and "mathjax_ignore" in html


def test_a_note_is_the_finding_of_a_section_without_data():
    f = findings.emotion_curve(not_provided("scores"), lang="both")
    assert f.facts["status"] == "not_provided" and "未提供数据" in f.zh and "not provided" in f.en
    g = findings.peak_end(too_few(14, 20, ("10 折交叉验证", "10-fold cross-validation")), lang="zh")
    assert g.facts == {
        "status": "not_computed",
        "computed": False,
        "n": 14,
        "need": 20,
        "reason": "n = 14 complete responses: too few for 10-fold cross-validation, need ≥ 20",
    }
    assert g.zh.startswith("样本不足：n = 14")


# ------------------------------------------------------------------------------ headline
def _change(diff, lo, hi, p, n_a=111, n_b=104, basis="period"):
    return pd.Series(
        {
            "nps_a": 16.0,
            "difference": diff,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p,
            "n_a": n_a,
            "n_b": n_b,
            "now": "2026-10",
            "before": "2026-09",
            "basis": basis,
        }
    )


PAINS = pd.DataFrame(
    {
        "point": ["waiting", "booking"],
        "mean": [5.96, 8.4],
        "gap": [2.04, 0.0],
        "priority": [0.5, 0.0],
        "n": [100, 90],
        "share_very_dissatisfied": [0.1, 0.0],
    }
)
REC = {"value": 16.2, "ci_low": 2.4, "ci_high": 29.8, "n": 111}


def test_headline_of_the_issue():
    f = findings.headline(REC, _change(5.0, -9.0, 19.0, 0.48), PAINS, lang="zh")
    assert f.zh == (
        "本月 NPS 16（95% 置信区间 2–30，n = 111），较上月（2026-09）+5（95% 置信区间 −9 至 19），"
        "变化不显著（p = 0.48）；最大痛点：等待（5.96 分）"
    )
    assert f["significant"] is False and f["change_direction"] == "up" and f["top_pain"] == "waiting"


def test_headline_significant_drop_says_so():
    f = findings.headline(REC, _change(-25.0, -38.0, -12.0, 0.0004), PAINS, lang="en")
    assert "−25" in f.en and "significant (p < 0.001)" in f.en and "not significant" not in f.en
    assert f["significant"] is True and f["change_direction"] == "down"


def test_headline_small_samples():
    f = findings.headline(
        {"value": -20.0, "ci_low": -60.0, "ci_high": 25.0, "n": 12},
        _change(10.0, -40.0, 60.0, 0.7, n_a=12, n_b=9),
        None,
        lang="zh",
    )
    assert "样本不足（n = 12），仅供参考" in f.zh and "变化无法判断" in f.zh and f["significant"] is None
    assert f["small_sample"] is True


def test_headline_without_a_previous_period():
    from cxlib.results import NotComputed

    note = NotComputed(
        0, ("与上期的比较", "the comparison"), why=("数据中没有上期（2026-04）的问卷", "no answers in 2026-04")
    )
    f = findings.headline(REC, note, None, lang="both")
    assert "无法与上期比较（数据中没有上期（2026-04）的问卷）" in f.zh and "no answers in 2026-04" in f.en


def test_nps_trend_one_month_and_many():
    one = pd.DataFrame(
        {"month": ["2026-10"], "n": [111], "nps": [16.0], "se": [7.0], "ci_low": [2.0], "ci_high": [30.0]}
    )
    assert findings.nps_trend(one, lang="en")["months"] == 1
    two = pd.DataFrame(
        {
            "month": ["2026-05", "2026-10"],
            "n": [600, 640],
            "nps": [-60.0, -7.0],
            "se": [2.5, 3.0],
            "ci_low": [-64.0, -13.0],
            "ci_high": [-55.0, -1.0],
        }
    )
    f = findings.nps_trend(two, lang="zh")
    assert f["significant"] is True and f["direction"] == "up" and "变化显著" in f.zh


# ------------------------------------------------------------------------------ curves
def _curve(means, n=300, sd=1.2, by=None):
    rows = []
    for key, m in means.items():
        seg, point = key if by else (None, key)
        half = 1.97 * sd / np.sqrt(n)
        r = {"point": point, "n": n, "mean": m, "sd": sd, "ci_low": m - half, "ci_high": m + half}
        if by:
            r[by] = seg
        rows.append(r)
    return pd.DataFrame(rows)


def test_emotion_curve_best_and_worst_follow_the_data():
    normal = findings.emotion_curve(_curve({"booking": 8.4, "waiting": 5.1, "payment": 7.2}), lang="en")
    assert (normal["best_point"], normal["worst_point"]) == ("booking", "waiting")
    assert normal["below_neutral"] == ["waiting"] and normal["significant"] is True
    reversed_ = findings.emotion_curve(_curve({"booking": 5.9, "waiting": 9.3, "payment": 7.2}), lang="zh")
    assert reversed_["best_point"] == "waiting" and reversed_.zh.startswith("情绪曲线最高点：等待 9.30 分")


def test_emotion_curve_close_points_are_not_significant_and_small_n_flagged():
    f = findings.emotion_curve(_curve({"booking": 7.1, "waiting": 7.0}, n=12, sd=2.0), lang="both")
    assert f["significant"] is False and "不显著" in f.zh and "样本不足（n = 12）" in f.zh
    assert f["small_sample"] is True and f["below_neutral"] == []


def test_tier_curves_part_where_the_spread_is_largest():
    c = _curve(
        {
            ("none", "booking"): 8.3,
            ("realtime_photo", "booking"): 8.4,
            ("none", "notification"): 5.0,
            ("realtime_photo", "notification"): 8.2,
            ("none", "waiting"): 4.6,
            ("realtime_photo", "waiting"): 6.4,
        },
        by="tier",
    )
    f = findings.tier_curves(c, lang="en")
    assert f["parting_points"] == ["notification", "waiting"] and f["closest_point"] == "booking"
    assert f["highest_tier"] == "realtime_photo" and f["significant"] is True
    rev = c.assign(mean=np.where(c["tier"] == "none", c["mean"] + 4, c["mean"] - 0).clip(max=10))
    assert findings.tier_curves(rev, lang="en")["highest_tier"] == "none"


def test_tier_curves_need_two_tiers_with_enough_answers():
    c = _curve({("none", "booking"): 8.3, ("realtime_photo", "booking"): 8.4}, by="tier", n=MIN_N - 1)
    f = findings.tier_curves(c, lang="zh")
    assert f["status"] == "too_few" and "无法比较" in f.zh
    one = _curve({("none", "booking"): 8.3}, by="tier")
    assert findings.tier_curves(one, lang="en").en.startswith("Only 1 transparency tier")


# ------------------------------------------------------------------------------ drivers, pains, peak-end
def test_drivers_and_quadrant():
    w = pd.DataFrame(
        {
            "predictor": ["waiting", "notification"],
            "rescaled_pct": [35.0, 65.0],
            "rescaled_ci_low": [30.0, 60],
            "rescaled_ci_high": [40.0, 70.0],
            "r2": [0.6, 0.6],
            "n": [500, 500],
        }
    )
    ip = pd.DataFrame({"point": ["waiting", "notification"], "quadrant": ["concentrate", "keep_up"]})
    f = findings.drivers(w, ip, lang="zh")
    assert f["top_driver"] == "notification" and f["concentrate"] == ["waiting"]
    assert "95% 置信区间 60–70%" in f.zh and "重点改进象限" in f.zh


def test_pain_points_only_points_short_of_target():
    f = findings.pain_points(PAINS, lang="en")
    assert f["top"] == ["waiting"] and "Only 1 of 2 points falls short" in f.en
    none = findings.pain_points(PAINS.assign(gap=0.0, priority=0.0), lang="zh")
    assert none["top"] == [] and "没有痛点" in none.zh


def test_peak_end_best_model_and_significance():
    m = pd.DataFrame(
        {
            "model": ["mean", "peak_end"],
            "r2_cv": [0.46, 0.45],
            "ci_low": [0.43, 0.42],
            "ci_high": [0.50, 0.49],
            "delta_vs_baseline": [0.0, -0.01],
            "delta_ci_low": [0.0, -0.03],
            "delta_ci_high": [0.0, 0.01],
            "n": [800, 800],
        }
    )
    f = findings.peak_end(m, lang="both")
    assert f["best"] == "mean" and f["compared"] == "peak_end" and f["significant"] is False
    assert "差异不显著" in f.zh and "not significant" in f.en


# ------------------------------------------------------------------------------ black hole
def _silence(anx, ltr, n=200):
    k = len(anx)
    half_a, half_l = 2.0, 0.2
    return pd.DataFrame(
        {
            "silence_bin": [f"{30 * i}–{30 * (i + 1)}" for i in range(k)],
            "n_visits": [n] * k,
            "anxiety_mean": anx,
            "anxiety_ci_low": np.array(anx) - half_a,
            "anxiety_ci_high": np.array(anx) + half_a,
            "anxiety_n": [n] * k,
            "ltr_mean": ltr,
            "ltr_ci_low": np.array(ltr) - half_l,
            "ltr_ci_high": np.array(ltr) + half_l,
            "ltr_n": [n] * k,
        }
    )


def test_black_hole_supported_contradicted_flat_and_too_few():
    assert findings.black_hole(_silence([20, 40, 60, 80], [8.0, 7.0, 6.0, 5.0]), lang="en")["verdict"] == "supported"
    rev = findings.black_hole(_silence([80, 60, 40, 20], [5.0, 6.0, 7.0, 8.0]), lang="zh")
    assert rev["verdict"] == "contradicted" and rev["anxiety_direction"] == "down" and "焦虑值下降" in rev.zh
    flat = findings.black_hole(_silence([40, 40.5, 40, 40.5], [7.0, 7.05, 7.0, 7.05]), lang="en")
    assert flat["verdict"] == "not_significant" and "not significant" in flat.en
    few = findings.black_hole(_silence([20, 40, 60, 80], [8.0, 7.0, 6.0, 5.0], n=MIN_N - 1), lang="zh")
    assert few["verdict"] == "too_few" and few.zh.startswith("样本不足（n = ")


# ------------------------------------------------------------------------------ tiers
def _tier_visits(ltr_none, ltr_photo, comp_none, comp_photo):
    return pd.DataFrame(
        {
            "tier": ["none"] * len(ltr_none) + ["realtime_photo"] * len(ltr_photo),
            "ltr": list(ltr_none) + list(ltr_photo),
            "anxiety": 50.0,
            "complained": pd.array(list(comp_none) + list(comp_photo), dtype="boolean"),
        }
    )


def test_tiers_normal_reversed_and_too_few():
    rng = np.random.default_rng(1)
    good, bad = rng.integers(8, 11, 200), rng.integers(2, 8, 200)
    normal = _tier_visits(bad, good, rng.random(200) < 0.2, rng.random(200) < 0.03)
    f = findings.tiers(nps.tier_table(normal), nps.tier_contrast(normal), lang="en")
    assert f["nps_direction"] == "up" and f["nps_significant"] and f["complaint_direction"] == "down"
    rev = _tier_visits(good, bad, rng.random(200) < 0.03, rng.random(200) < 0.25)
    g = findings.tiers(nps.tier_table(rev), nps.tier_contrast(rev), lang="zh")
    assert g["nps_direction"] == "down" and g["complaint_direction"] == "up" and g["complaint_significant"]
    small = _tier_visits(bad[:5], good, [False] * 5, [False] * 200)
    h = findings.tiers(nps.tier_table(small), nps.tier_contrast(small), lang="zh")
    assert h["status"] == "too_few" and "样本不足（n = 5）" in h.zh


def test_tiers_without_complaints_and_without_the_log():
    v = _tier_visits([3] * 40, [10] * 40, [None] * 40, [None] * 40)
    f = findings.tiers(nps.tier_table(v), nps.tier_contrast(v), lang="en")
    assert "complaints not provided" in f.en and f["complaint_direction"] is None
    note = not_provided("touchpoints")
    assert findings.tiers(note, note, lang="en")["status"] == "not_provided"


def test_proportion_difference_matches_a_hand_computation():
    r = nps.proportion_difference(30, 100, 10, 100)
    assert r["difference"] == pytest.approx(0.2)
    se = np.sqrt(0.3 * 0.7 / 100 + 0.1 * 0.9 / 100)
    assert r["ci_low"] == pytest.approx(0.2 - 1.959964 * se, abs=1e-6)
    assert r["p_value"] == pytest.approx(0.000407, rel=0.01)  # pooled z = 3.536


# ------------------------------------------------------------------------------ models
def _ols(est, lo, hi, p, n=900, fallback=""):
    head = pd.DataFrame(
        [{"term": "n_inprogress_updates", "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": p, "n": n}]
    )
    return ModelResult("ltr_ols_linear", head, n=n, n_clusters=7, converged=True, headline=head, fallback=fallback)


def _counts(rr, lo, hi, p, p_half, converged=(True, True)):
    rows = [
        {
            "model": m,
            "rate_ratio": rr,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p,
            "p_value_h0": p_half,
            "h0_rate_ratio": 0.5,
            "n": 1500,
            "converged": c,
            "note": "",
        }
        for m, c in zip(("poisson", "nb2"), converged)
    ]
    head = pd.DataFrame(rows)
    return ModelResult("complaints", head, n=1500, n_clusters=7, converged=all(converged), headline=head)


def test_update_effects_follow_the_sign():
    good = findings.update_effects(_ols(0.42, 0.37, 0.47, 1e-6), _counts(0.8, 0.74, 0.86, 3e-4, 5e-6), lang="en")
    assert (good["ltr_direction"], good["complaints_direction"]) == ("up", "down")
    assert good["halves_claim"] == "rejected" and "lowers the complaint rate by 20%" in good.en
    bad = findings.update_effects(_ols(-0.32, -0.46, -0.17, 0.002), _counts(1.25, 1.14, 1.36, 1e-4, 1e-9), lang="zh")
    assert (bad["ltr_direction"], bad["complaints_direction"]) == ("down", "up")
    assert "更新降低推荐意愿" in bad.zh and "投诉率上升 25%" in bad.zh


def test_update_effects_not_significant_halves_not_rejected_and_poisson_fallback():
    f = findings.update_effects(
        _ols(-0.01, -0.34, 0.32, 0.97), _counts(0.55, 0.3, 1.0, 0.06, 0.7, converged=(True, False)), lang="both"
    )
    assert f["ltr_significant"] is False and f["complaints_significant"] is False
    assert f["halves_claim"] == "not_rejected" and f["complaint_model"] == "poisson"
    assert "没有显著关系" in f.zh and "did not converge" in f.en


def test_update_effects_cannot_fit_and_not_provided():
    failed = ModelResult(
        "ltr_ols_linear", pd.DataFrame(), n=12, note="cannot fit: only 12 complete rows (need at least 30)"
    )
    f = findings.update_effects(failed, not_provided("complaints"), lang="zh")
    assert "样本不足（n = 12），至少需要 30 条完整记录" in f.zh and "未提供数据" in f.zh
    assert findings.update_effects(not_provided("touchpoints"), None, lang="en")["status"] == "not_provided"


def test_rollout_one_center_says_why_in_both_languages():
    note = (
        "cannot fit: DiD needs switching and non-switching centers; this selection has one center — see the "
        "all-centers report (SH-JQ switched to real-time updates on 2026-07-01)"
    )
    r = ModelResult("did_ltr", pd.DataFrame(), note=note)
    f = findings.rollout(r, ModelResult("did_complained", pd.DataFrame(), note=note), lang="both")
    assert f["status"] == "cannot_fit"
    assert "本报告只含一家门店" in f.zh and "（SH-JQ 于 2026-07-01 上线实时进度）" in f.zh and "DiD needs" in f.en


def test_rollout_estimates_with_direction():
    head = pd.DataFrame([{"term": "post", "estimate": -1.97, "ci_low": -2.18, "ci_high": -1.77, "p_value": 1e-5}])
    comp = pd.DataFrame([{"term": "post", "estimate": 0.111, "ci_low": 0.067, "ci_high": 0.155, "p_value": 1e-4}])
    f = findings.rollout(
        ModelResult("did_ltr", head, n=1549, n_clusters=7, converged=True, headline=head),
        ModelResult("did_complained", comp, n=2476, n_clusters=7, converged=True, headline=comp),
        lang="zh",
    )
    assert f["ltr_direction"] == "down" and f["complained_direction"] == "up"
    assert "推荐意愿下降 1.97 分" in f.zh and "上升 11.1 个百分点" in f.zh


# ------------------------------------------------------------------------------ ROI
def test_roi_cases_and_claims():
    s = pd.DataFrame(
        {
            "id": ["kids", "gift", "screen"],
            "n_sims": [1000] * 3,
            "npv_mean": [8e5, -2e4, 1e3],
            "npv_p5": [1e5, -3e4, -5e4],
            "npv_p95": [1.3e6, -1e4, 6e4],
            "roi_p50": [5.5, -0.8, 0.1],
            "p_roi_positive": [1.0, 0.0, 0.55],
            "p_npv_positive": [1.0, 0.0, 0.55],
        }
    )
    names = pd.DataFrame(
        {
            "id": ["kids", "gift", "screen"],
            "name_zh": ["儿童角", "生日礼物", "屏幕"],
            "name_en": ["Kids' corner", "Birthday gift", "Screen"],
        }
    )
    f = findings.roi_cases(s, names, lang="zh")
    assert (f["pays"], f["bets"], f["loses"], f["best_npv"]) == (["kids"], ["screen"], ["gift"], "kids")
    claims = pd.DataFrame(
        {
            "id": ["kids", "gift"],
            "name_zh": ["儿童角", "生日礼物"],
            "name_en": ["Kids' corner", "Gift"],
            "claimed_roi": [6.5, 20000.0],
            "model_roi": [6.6, -0.83],
            "roi_p5": [2.2, -0.89],
            "roi_p50": [5.5, -0.76],
            "roi_p95": [8.9, -0.6],
            "p_roi_positive": [1.0, 0.0],
        }
    )
    c = findings.claims(claims, lang="en")
    assert c["verdicts"] == {"kids": "pays", "gift": "does_not_pay"}
    assert c["claim_in_range"] == {"kids": True, "gift": False} and "20,000×" in c.en


def test_old_sentence_functions_are_the_findings_text():
    from cxlib import roi

    t = pd.DataFrame(
        {
            "id": ["x"],
            "name_zh": ["例"],
            "name_en": ["Ex"],
            "input": ["reach"],
            "npv_low": [-1e4],
            "npv_high": [3e4],
            "npv_base": [1e4],
            "swing": [4e4],
        }
    )
    assert roi.tornado_sentence(t, lang="both") == findings.tornado(t, lang="both").text()
    assert findings.tornado(t, lang="en")["crosses_zero"] is True


# ------------------------------------------------------------------------------ previous period
def test_previous_change_of_a_month_and_of_all_data():
    rng = np.random.default_rng(3)
    months = ["2026-08"] * 200 + ["2026-09"] * 200 + ["2026-10"] * 200
    v = pd.DataFrame(
        {
            "center": "A",
            "scenario": "repair",
            "month": months,
            "ltr": np.r_[rng.integers(0, 11, 400), rng.integers(8, 11, 200)],
        }
    )

    class Data:
        def __init__(self, visits):
            self.visits = visits

        def subset(self, center="all", period_start=None, period_end=None, scenario="all"):
            m = self.visits["month"]
            keep = np.ones(len(m), bool)
            if period_start:
                keep &= (m >= period_start).to_numpy()
            if period_end:
                keep &= (m <= period_end).to_numpy()
            return Data(self.visits[keep])

    r = nps.previous_change(Data(v), period_start="2026-10", period_end="2026-10")
    assert (r["now"], r["before"], r["basis"]) == ("2026-10", "2026-09", "period")
    assert r["difference"] == pytest.approx(nps.nps_test(v.ltr[400:], v.ltr[200:400])["difference"])
    assert nps.previous_change(Data(v))["basis"] == "last_month"
    two = nps.previous_change(Data(v), period_start="2026-09", period_end="2026-10")
    assert two["before"] == "2026-07 – 2026-08"  # no data there: a note, not a number
    assert nps.previous_change(Data(v), period_start="2026-08", period_end="2026-08").in_lang("en").n == 0


# ------------------------------------------------------------------------------ end to end
NOTEBOOKS = ("02_emotion_curves", "03_nps_proactive_updates", "05_summary")


def _run_reports(tmp: Path, effects: str) -> dict:
    from cxlib import clean
    from cxlib.notebooks import run_notebook

    raw, processed, out = tmp / "raw", tmp / "processed", tmp / "out"
    synth.write_sample(raw, n_visits=2500, seed=7, effects=effects)
    shutil.copy(ROOT / "data" / "raw" / "cases_interventions.yaml", raw)
    clean.clean(raw, processed)
    base = {"processed_dir": str(processed), "raw_dir": str(raw), "results_file": str(out / "results.json")}
    extra = {"02_emotion_curves": {"n_boot": 50}, "05_summary": {"n_sims": 500}}
    for nb in NOTEBOOKS:
        run_notebook(ROOT / "notebooks" / f"{nb}.ipynb", out / f"{nb}.ipynb", {**base, **extra.get(nb, {})})
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("effects", ["reversed", "default"])
def test_notebook_findings_follow_the_data(effects, tmp_path):
    res = _run_reports(tmp_path, effects)
    f2, f3, f5 = res["findings_02"], res["findings_03"], res["findings_05"]
    updates, curve, tiers = f3["update_effects"], f2["emotion_curve"], f3["tiers"]
    assert updates["ltr_significant"] and updates["complaints_significant"]
    if effects == "reversed":
        assert (updates["ltr_direction"], updates["complaints_direction"]) == ("down", "up")
        assert "投诉率上升" in updates["zh"] and "raises the complaint rate" in updates["en"]
        assert "更新降低推荐意愿" in updates["zh"]
        assert curve["best_point"] == "waiting" and curve["zh"].startswith("情绪曲线最高点：等待")
        assert (tiers["nps_direction"], tiers["complaint_direction"]) == ("down", "up")
        assert f3["rollout"]["ltr_direction"] == "down"
        assert f2["tier_curves"]["highest_tier"] == "none"
    else:
        assert (updates["ltr_direction"], updates["complaints_direction"]) == ("up", "down")
        assert "投诉率下降" in updates["zh"] and "更新提高推荐意愿" in updates["zh"]
        assert curve["best_point"] != "waiting" and curve["worst_point"] == "waiting"
        assert (tiers["nps_direction"], tiers["complaint_direction"]) == ("up", "down")
        assert f3["rollout"]["ltr_direction"] == "up"
        assert f2["black_hole"]["verdict"] == "supported"
    # the summary opens with the headline, which names the pain point the data give
    assert f5["headline"]["zh"].startswith("NPS ") and f5["headline"]["n"] == res["nps"]["n"]
    assert f5["headline"]["top_pain"] == f2["pain_points"]["top"][0]
    assert f5["emotion_curve"]["best_point"] == curve["best_point"]
    for nb in ("02", "03", "05"):
        assert all(v["zh"] and v["en"] for v in res[f"findings_{nb}"].values())
    assert jsonable(res) == res
