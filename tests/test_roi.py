"""cxlib.roi: the seed's point figures, hand-computed LTV / NPV / payback, Monte Carlo against
analytic means, the knapsack against brute force, and the cases file's error messages."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import roi
from cxlib.errors import DataError
from cxlib.roi import Assumptions, Case, Quantity

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES_FILE = ROOT / "data" / "raw" / "cases_interventions.yaml"


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return roi.load_cases(CASES_FILE)


def by_id(cases, cid):
    return next(c for c in cases if c.id == cid)


# ------------------------------------------------------------------ the seed's point figures
def test_revenue_at_risk_reproduces_seed_6wan():
    assert roi.revenue_at_risk(15_000, referrals=3, value_per_referral=15_000) == 60_000.0
    assert roi.revenue_at_risk(15_000, referrals=3) == 60_000.0  # a referral is worth a customer by default
    a = Assumptions()
    assert roi.revenue_at_risk(a.customer_ltv, referrals=a.referrals_per_customer) == 60_000.0


def test_seed_ltv_reading_and_benchmarks():
    assert roi.lifetime_value(3000, margin=1.0, retention=1.0, horizon_years=5, discount_rate=0.0) == 15_000.0
    exp = roi.experience_table().set_index("level")
    assert exp.loc["great", ["retention", "repurchase_3y", "referral"]].tolist() == [0.85, 0.68, 0.45]
    assert exp.loc["bad", ["retention", "repurchase_3y", "referral"]].tolist() == [0.52, 0.28, 0.08]


def test_kids_corner_650_percent_by_the_seeds_arithmetic(cases):
    sp = roi.seed_point_roi(by_id(cases, "kids_corner"))
    assert sp["gain"] == 200 * 3000 == 600_000
    assert sp["cost"] == 50_000 + 3000 * 10 == 80_000
    assert sp["roi"] == 6.5 and sp["claimed_roi"] == 6.5 and sp["reproduced"]


def test_birthday_claim_reproduced_and_flagged_as_attribution(cases):
    c = by_id(cases, "birthday_surprise")
    sp = roi.seed_point_roi(c)
    assert sp["roi"] == 20_000 and sp["reproduced"]
    assert c.cost_per_customer.high <= 50  # "under 50元"
    assert "attributes a whole customer lifetime" in roi.attribution_note(c)
    row = roi.cases_table([c]).iloc[0]
    assert row["attribution_note"] == roi.attribution_note(c)
    assert row["roi"] < 20_000  # the modelled return is nowhere near the claim


def test_hard_sell_and_abc_inputs_match_the_seed(cases):
    hs = by_id(cases, "drop_hard_sell")
    vals = hs.seed_claim["values"]
    assert hs.effects["referral_gain"].mode == pytest.approx(vals["referral_rate_after"] - vals["referral_rate_before"])
    assert hs.effects["spend_gain"].mode == vals["revenue_gain"] == 0.18
    assert roi.seed_point_roi(hs) is None  # no ROI claim
    t = roi.cases_table(cases).set_index("id")
    assert t.loc["realtime_push", "first_year_cost"] == 50_000
    assert t.loc["workshop_screen", "first_year_cost"] == 30_000
    assert t.loc["advisor_checkins", "first_year_cost"] == 0
    assert t.loc["push_plus_checkins", "first_year_cost"] == 50_000


@pytest.mark.parametrize("objective", ["npv", "satisfaction"])
def test_seed_budget_example_a_plus_c_is_best(cases, objective):
    t = roi.cases_table(cases)
    abc = t[t["id"].isin(["realtime_push", "workshop_screen", "advisor_checkins", "push_plus_checkins"])]
    best = roi.best_portfolio(abc, budget=50_000, objective=objective)
    assert best["id"].tolist() == ["push_plus_checkins"]
    assert best.attrs["total_cost"] == 50_000


def test_full_portfolio_respects_groups_and_combinations(cases):
    t = roi.cases_table(cases)
    best = roi.best_portfolio(t, budget=10_000_000)
    ids = set(best["id"])
    assert len(ids & {"farewell_level1", "farewell_level2", "farewell_level3"}) <= 1
    assert not ({"push_plus_checkins"} & ids and ids & {"realtime_push", "advisor_checkins"})
    assert not {"realtime_push", "advisor_checkins"} <= ids
    assert (best["value"] > 0).all()
    assert best.attrs["total_value"] == pytest.approx(best["value"].sum())


# ------------------------------------------------------------------------- hand computations
def test_lifetime_value_by_hand():
    # 1000 × 0.5 = 500 a year; retention 0.8; 10% discount; 3 years
    expected = 500 / 1.1 + 500 * 0.8 / 1.1**2 + 500 * 0.64 / 1.1**3
    assert roi.lifetime_value(1000, margin=0.5, retention=0.8, horizon_years=3, discount_rate=0.10) == pytest.approx(
        expected, rel=1e-12
    )
    assert expected == pytest.approx(1025.544703, rel=1e-9)


def _flat_case(**kw) -> Case:
    q = {k: Quantity.fixed(v) for k, v in kw.items() if k in roi.INPUTS and k not in roi.EFFECTS}
    eff = {k: Quantity.fixed(v) for k, v in kw.items() if k in roi.EFFECTS}
    return Case("t", "测试", "Test", **q, effects=eff)


def test_npv_roi_payback_by_hand():
    a = Assumptions(margin=1.0, yearly_spend=1200.0)
    # 10 customers × 10% more spend × 1200元 = 1200元 a year = 100元 a month; 1000元 up front
    c = _flat_case(one_off_cost=1000, reach=10, spend_gain=0.1)
    ev = roi.evaluate(c, assumptions=a, horizon_years=1, discount_rate=0.0)
    assert ev["npv"] == pytest.approx(200.0)
    assert ev["roi"] == pytest.approx(0.2)
    assert ev["payback_months"] == pytest.approx(10.0)
    ev = roi.evaluate(c, assumptions=a, horizon_years=1, discount_rate=0.12)
    pv = sum(100 / 1.12 ** (m / 12) for m in range(1, 13))
    assert ev["npv"] == pytest.approx(pv - 1000, rel=1e-12)
    assert ev["roi"] == pytest.approx((pv - 1000) / 1000, rel=1e-12)


def test_retention_and_won_customers_by_hand():
    a = Assumptions(margin=1.0, yearly_spend=1000.0, retention_great=0.5)
    # kept: 100 × 0.1 = 10 a year, active next year then retained at 0.5: years 0, 10, 15
    # won: 2 a year, retained at 0.5: years 2, 3, 3.5
    c = _flat_case(reach=100, retention_gain=0.1, extra_customers=2)
    cf = roi.cash_flows(c, assumptions=a, horizon_years=3)
    per_year = cf[cf["month"] > 0].groupby("year")["gain"].sum()
    assert per_year.tolist() == pytest.approx([2000.0, 13000.0, 18500.0])
    assert roi.evaluate(c, assumptions=a, horizon_years=3, discount_rate=0.0)["npv"] == pytest.approx(33_500.0)


def test_referrals_use_new_customers_per_referrer():
    a = Assumptions(margin=1.0, yearly_spend=1000.0, new_customers_per_referrer=0.5)
    c = _flat_case(reach=100, referral_gain=0.2)  # 100 × 0.2 × 0.5 = 10 new customers in year 1
    assert roi.evaluate(c, assumptions=a, horizon_years=1, discount_rate=0.0)["pv_gain"] == pytest.approx(10_000.0)


def test_payback_with_dip_never_and_free():
    a = Assumptions(margin=1.0, yearly_spend=1000.0, retention_great=0.5)
    # costs 100/month from month 1; the kept customers pay only from year 2 (10000/12 a month)
    dip = _flat_case(reach=100, cost_per_customer=12, retention_gain=0.1)
    expected = 12 + 1200 / (10_000 / 12 - 100)
    assert roi.evaluate(dip, assumptions=a, horizon_years=3, discount_rate=0.0)["payback_months"] == pytest.approx(
        expected
    )
    never = _flat_case(one_off_cost=500)
    ev = roi.evaluate(never, assumptions=a, horizon_years=3, discount_rate=0.0)
    assert math.isinf(ev["payback_months"]) and ev["roi"] == -1.0
    free = _flat_case(reach=100, extra_customers=1)
    ev = roi.evaluate(free, assumptions=a, horizon_years=1, discount_rate=0.0)
    assert ev["payback_months"] == 0.0 and math.isinf(ev["roi"])


# ---------------------------------------------------------------------------- Monte Carlo
def test_simulation_reproducible_by_seed(cases):
    kc = by_id(cases, "kids_corner")
    s1 = roi.simulate(kc, n_sims=500, seed=7)
    s2 = roi.simulate(kc, n_sims=500, seed=7)
    s3 = roi.simulate(kc, n_sims=500, seed=8)
    pd.testing.assert_frame_equal(s1, s2)
    assert not np.allclose(s1["npv"], s3["npv"])
    assert len(roi.simulate(cases[:3], n_sims=100, seed=1)) == 300


def test_triangular_mean_through_linear_npv():
    # only the one-off cost is uncertain: NPV is linear in it, E[NPV] = NPV(mode) − (E[cost] − mode)
    a = Assumptions(margin=1.0, yearly_spend=1200.0)
    c = Case(
        "t",
        "测试",
        "Test",
        one_off_cost=Quantity(500, 1000, 3000),
        reach=Quantity.fixed(10),
        effects={"spend_gain": Quantity.fixed(0.1)},
    )
    n = 40_000
    sims = roi.simulate(c, n_sims=n, seed=3, assumptions=a, horizon_years=1, discount_rate=0.0)
    tri_mean = (500 + 1000 + 3000) / 3
    assert c.one_off_cost.mean() == tri_mean
    analytic = 1200 - tri_mean
    se = sims["npv"].std() / math.sqrt(n)
    assert abs(sims["npv"].mean() - analytic) < 4 * se
    assert abs(sims["one_off_cost"].mean() - tri_mean) < 4 * sims["one_off_cost"].std() / math.sqrt(n)


@pytest.mark.parametrize("distribution", ["triangular", "pert"])
def test_mc_mean_converges_to_npv_at_the_means(cases, distribution):
    # NPV is multilinear in independent inputs (reach × cost_per_customer, …), so E[NPV] = NPV(E[inputs])
    kc = by_id(cases, "kids_corner")
    n = 40_000
    sims = roi.simulate(kc, n_sims=n, seed=11, distribution=distribution)
    means = {k: q.mean(distribution) for k, q in kc.inputs().items()}
    at_means = Case(
        kc.id,
        kc.name_zh,
        kc.name_en,
        **{k: Quantity.fixed(means[k]) for k in (*roi.COST_FIELDS, "reach")},
        effects={k: Quantity.fixed(means[k]) for k in roi.EFFECTS},
    )
    analytic = roi.evaluate(at_means)["npv"]
    se = sims["npv"].std() / math.sqrt(n)
    assert abs(sims["npv"].mean() - analytic) < 4 * se
    if distribution == "triangular":
        assert roi.evaluate(kc, at="mean")["npv"] == pytest.approx(analytic)


def test_pert_mean():
    q = Quantity(0, 1, 10)
    x = q.draw(np.random.default_rng(0), 50_000, "pert")
    assert q.mean("pert") == pytest.approx(14 / 6)
    assert abs(x.mean() - 14 / 6) < 4 * x.std() / math.sqrt(len(x))
    assert x.min() >= 0 and x.max() <= 10


def test_roi_summary_columns_and_values():
    sims = pd.DataFrame(
        {
            "id": ["a"] * 4,
            "npv": [-1.0, 1.0, 2.0, 3.0],
            "roi": [-0.5, 0.5, 1.0, np.inf],
            "payback_months": [np.inf, 3.0, 2.0, 1.0],
        }
    )
    s = roi.roi_summary(sims).iloc[0]
    assert s["npv_mean"] == 1.25 and s["p_npv_positive"] == 0.75 and s["p_roi_positive"] == 0.75
    assert s["npv_p50"] == 1.0 and s["npv_p95"] == 3.0 and s["npv_p5"] == -1.0
    assert s["payback_months_p50"] == 2.0


def test_tornado_linear_swing(cases):
    kc = by_id(cases, "kids_corner")
    t = roi.tornado(kc)
    assert t["swing"].is_monotonic_decreasing
    row = t.set_index("input").loc["one_off_cost"]
    assert row["swing"] == pytest.approx(70_000 - 40_000)  # a cost paid at month 0: NPV moves 1:1
    assert row["npv_low"] > row["npv_base"] > row["npv_high"]
    assert set(t["input"]) == {k for k, q in kc.inputs().items() if not q.is_fixed and k in roi.MONETARY_INPUTS}
    assert "satisfaction_gain" not in set(t["input"])  # reported, not monetised


def test_claims_table(cases):
    t = roi.claims_table(cases, n_sims=300, seed=1)
    assert t["id"].tolist() == ["kids_corner", "birthday_surprise"]
    assert t["reproduced"].all()
    assert (t["roi_p5"] <= t["roi_p50"]).all() and (t["roi_p50"] <= t["roi_p95"]).all()


# ------------------------------------------------------------------------------ optimiser
def _brute_force(costs, values, budget, groups, combos):
    n = len(costs)
    best = 0.0
    for k in range(n + 1):
        for sub in itertools.combinations(range(n), k):
            s = set(sub)
            if sum(costs[i] for i in s) > budget:
                continue
            if any(len(s & g) > 1 for g in groups):
                continue
            if any(c in s and s & set(p) for c, p in combos.items()) or any(set(p) <= s for p in combos.values()):
                continue
            best = max(best, sum(values[i] for i in s))
    return best


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_knapsack_matches_brute_force(data):
    n = data.draw(st.integers(1, 7))
    costs = data.draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
    values = data.draw(st.lists(st.floats(-50, 200, allow_nan=False), min_size=n, max_size=n))
    labels = data.draw(st.lists(st.sampled_from([None, "g1", "g2"]), min_size=n, max_size=n))
    budget = data.draw(st.integers(0, 300))
    combos = {}
    if n >= 3 and data.draw(st.booleans()):
        combos = {0: (1, 2)}
        labels[0] = labels[1] = labels[2] = None
    ids = [f"c{i}" for i in range(n)]
    table = pd.DataFrame(
        {
            "id": ids,
            "first_year_cost": [float(c) for c in costs],
            "npv": values,
            "group": labels,
            "combines": [",".join(ids[j] for j in combos.get(i, ())) for i in range(n)],
        }
    )
    groups = [{i for i in range(n) if labels[i] == g} for g in ("g1", "g2")]
    expected = _brute_force(costs, values, budget, groups, combos)
    best = roi.best_portfolio(table, budget)
    assert best.attrs["total_value"] == pytest.approx(expected, abs=1e-9)
    assert best["cost"].sum() <= budget
    assert best["value"].sum() == pytest.approx(expected, abs=1e-9)


def test_explicit_exclusive_groups_override_the_column():
    t = pd.DataFrame({"id": ["a", "b"], "first_year_cost": [1.0, 1.0], "npv": [5.0, 4.0]})
    assert set(roi.best_portfolio(t, 10)["id"]) == {"a", "b"}
    assert roi.best_portfolio(t, 10, exclusive_groups=[["a", "b"]])["id"].tolist() == ["a"]
    with pytest.raises(DataError, match="lacks column 'satisfaction'"):
        roi.best_portfolio(t, 10, objective="satisfaction")


# ------------------------------------------------------------------------- cases file errors
GOOD_CASE = """\
cases:
  - id: a
    name_zh: 甲
    name_en: A
    one_off_cost: {low: 1, mode: 2, high: 3}
    yearly_cost: 0
    cost_per_customer: 0
    reach: 10
    effects: {retention_gain: 0.01}
    provenance: test
"""


def _write(tmp_path, text) -> Path:
    p = tmp_path / "cases.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_minimal_file(tmp_path):
    (c,) = roi.load_cases(_write(tmp_path, GOOD_CASE))
    assert c.one_off_cost == Quantity(1, 2, 3) and c.reach.is_fixed


@pytest.mark.parametrize(
    "old, new, field, words",
    [
        ("    provenance: test\n", "    provenance: test\n    colour: red\n", "colour", "unknown field"),
        ("    reach: 10\n", "", "reach", "missing required field"),
        ("{low: 1, mode: 2, high: 3}", "{low: 3, mode: 2, high: 1}", "one_off_cost", "low ≤ mode ≤ high"),
        ("    yearly_cost: 0\n", "    yearly_cost: -5\n", "yearly_cost", "must not be negative"),
        ("    reach: 10\n", "    reach: many\n", "reach", "must be a number"),
        ("{low: 1, mode: 2, high: 3}", "{low: 1, mode: two, high: 3}", "one_off_cost.mode", "must be a number"),
        ("{low: 1, mode: 2, high: 3}", "{low: 1, high: 3}", "one_off_cost.mode", "missing"),
        ("{retention_gain: 0.01}", "{happiness: 0.01}", "effects.happiness", "unknown effect"),
        ("{retention_gain: 0.01}", "{retention_gain: 5}", "effects.retention_gain", "within -1..1"),
    ],
)
def test_case_errors_name_file_case_and_field(tmp_path, old, new, field, words):
    assert old in GOOD_CASE
    p = _write(tmp_path, GOOD_CASE.replace(old, new, 1))
    with pytest.raises(DataError) as e:
        roi.load_cases(p)
    msg = str(e.value)
    assert str(p) in msg and "case 'a'" in msg and f"field {field}" in msg and words in msg
    assert e.value.file == str(p) and e.value.column == field


def test_duplicate_id(tmp_path):
    second = GOOD_CASE.split("cases:\n", 1)[1]
    p = _write(tmp_path, GOOD_CASE + second)
    with pytest.raises(DataError, match=r"case 'a': field id: duplicate id"):
        roi.load_cases(p)


def test_yaml_syntax_error_names_the_line(tmp_path):
    p = _write(tmp_path, GOOD_CASE.replace("    name_en: A\n", "    name_en: A: B\n"))
    with pytest.raises(DataError, match=r"YAML syntax error at line 4") as e:
        roi.load_cases(p)
    assert str(p) in str(e.value)


def test_duplicate_yaml_key_and_unknown_combination(tmp_path):
    p = _write(tmp_path, GOOD_CASE.replace("    reach: 10\n", "    reach: 10\n    reach: 20\n"))
    with pytest.raises(DataError, match=r"line 9: duplicate key 'reach'"):
        roi.load_cases(p)
    p = _write(tmp_path, GOOD_CASE + "    combines: [zz, a]\n")
    with pytest.raises(DataError, match=r"case 'a': field combines: 'zz' is not another case"):
        roi.load_cases(p)


def test_case_without_id_is_named_by_position(tmp_path):
    p = _write(tmp_path, GOOD_CASE.replace("  - id: a\n    name_zh", "  - name_zh"))
    with pytest.raises(DataError, match=r"case #1: field id: missing required field"):
        roi.load_cases(p)


def test_shipped_file_is_complete(cases):
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)) >= 11
    assert all(c.provenance for c in cases)
    assert {c.id for c in cases if c.group == "farewell"} == {"farewell_level1", "farewell_level2", "farewell_level3"}


# ------------------------------------------------------------------------ assumptions
def test_assumptions_override_and_table():
    a = Assumptions().override(margin=1.0)
    assert a.margin == 1.0 and "Overridden" in a.provenance["margin"]
    t = Assumptions().table()
    assert (t["provenance"].str.len() > 0).all()
    with pytest.raises(DataError, match="unknown assumption"):
        Assumptions().override(margn=1.0)
    with pytest.raises(DataError, match="share"):
        Assumptions(retention_great=1.5)


# ------------------------------------------------------------------- proactive updates
def test_update_program_value_sources(tmp_path):
    a = Assumptions()
    out = roi.update_program_value(programme=roi.UpdateProgramme(extra_updates=2))
    assert out["source"] == {"complaint_rate_ratio_per_update": "default", "ltr_slope_per_update": "default"}
    assert out["inputs"]["retention_gain"] == pytest.approx(0.05 * (1 - 0.85**2) * (0.85 - 0.52))
    assert out["inputs"]["referral_gain"] == pytest.approx(0.30 * 2 * (0.45 - 0.08) / (9 - 4))
    res = tmp_path / "results.json"
    res.write_text(json.dumps({"complaint_rate_ratio_per_update": {"estimate": 0.7, "ci_low": 0.6, "ci_high": 0.8}}))
    out = roi.update_program_value(results_path=res, assumptions=a, programme=roi.UpdateProgramme(extra_updates=1))
    assert out["source"]["complaint_rate_ratio_per_update"] == "results.json"
    assert out["source"]["ltr_slope_per_update"] == "default"
    ret = out["case"].effects["retention_gain"]
    g = lambda rr: 0.05 * (1 - rr) * 0.33  # noqa: E731
    assert (ret.low, ret.mode, ret.high) == pytest.approx((g(0.8), g(0.7), g(0.6)))
    out = roi.update_program_value(rate_ratio_per_update=0.9, ltr_slope_per_update=0.2, results_path=res)
    assert set(out["source"].values()) == {"argument"}
    assert out["evaluation"]["npv"] == pytest.approx(roi.evaluate(out["case"])["npv"])
    res.write_text(json.dumps({"ltr_slope_per_update": {"estimate": 0.3}}))
    with pytest.raises(DataError, match="ltr_slope_per_update"):
        roi.update_program_value(results_path=res)


# --------------------------------------------------------------------------------- figures
def test_figures_draw_without_warnings(cases):
    sims = roi.simulate(cases[:3], n_sims=300, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f1 = roi.plot_roi_distribution(sims, "npv")
        f2 = roi.plot_roi_distribution(sims[sims["id"] == "realtime_push"], "roi", lang="zh")
        f3 = roi.plot_tornado(roi.tornado(by_id(cases, "kids_corner")))
        for f in (f1, f2, f3):
            f.canvas.draw()
    assert "NPV" in f1.axes[0].get_xlabel() and "净现值" in f1.axes[0].get_xlabel()
    assert f3.axes[0].get_yticklabels()[0].get_text()
    plt.close("all")


def test_parts_of_a_worthless_combination_still_not_counted_twice():
    # the combination itself is never worth choosing, but its parts still overlap
    t = pd.DataFrame(
        {
            "id": ["ac", "a", "c"],
            "first_year_cost": [0.0, 0.0, 0.0],
            "npv": [0.0, 1.0, 1.0],
            "combines": ["a,c", "", ""],
        }
    )
    best = roi.best_portfolio(t, 0)
    assert best.attrs["total_value"] == 1.0 and len(best) == 1


# ------------------------------------------------------------- notebook 04: tables and records
def test_customer_value_table_seed_row_and_model_ltv():
    a = Assumptions()
    t = roi.customer_value_table(assumptions=a, horizon_years=3, discount_rate=0.08, lang="en")
    risk = t["Revenue at risk (CNY)"].tolist()
    assert risk[0] == 60_000.0 and t["Revenue at risk (10k CNY)"].iloc[0] == 6.0
    # independent: Σ_{t=1..3} 3000·m·0.85^(t−1)/1.08^t, times (1 + 3 referrals)
    for row, m in ((1, 1.0), (2, 0.35)):
        ltv = sum(3000 * m * 0.85 ** (k - 1) / 1.08**k for k in (1, 2, 3))
        assert t["LTV (CNY)"].iloc[row] == round(ltv, 0)
        assert t["Revenue at risk (CNY)"].iloc[row] == round(4 * ltv, 0)
    both = roi.customer_value_table(assumptions=a, horizon_years=3, discount_rate=0.08, lang="both")
    assert "Revenue at risk (CNY) 一次差评的风险收入（元）" in both.columns


def test_inputs_table_wide_ranges(cases):
    t = roi.inputs_table(cases, lang="en").set_index("Case")
    kids = t.loc["Kids' corner"]
    assert kids["One-off cost"] == "4万 / 5万 / 7万"
    assert kids["Cost per customer"] == "8 / 10 / 15"
    assert kids["Customers reached a year"] == "2,000 / 3,000 / 4,000"
    assert kids[roi.input_label("retention_gain", lang="en")] == "—"
    push = t.loc["Real-time progress push (option A)"]
    assert push[roi.input_label("retention_gain", lang="en")] == "0.5% / 1.5% / 3%"
    assert push["Yearly cost"] == "0"
    assert len(t) == len(cases)


def test_seed_claims_table_reproduces_650_and_20000(cases):
    t = roi.seed_claims_table(cases, lang="en").set_index("Case")
    assert t.loc["Kids' corner", ["Gain (CNY)", "Cost (CNY)", "Recomputed ROI (×)"]].tolist() == [600_000, 80_000, 6.5]
    assert t.loc["Birthday surprise", "Recomputed ROI (×)"] == 20_000
    assert t["Reproduced"].all()


def test_claims_table_uses_the_given_summary(cases):
    sims = roi.simulate(cases, n_sims=500, seed=3)
    summ = roi.roi_summary(sims)
    ct = roi.claims_table(cases, summary=summ).set_index("id")
    s = summ.set_index("id")
    for cid in ("kids_corner", "birthday_surprise"):
        assert ct.loc[cid, "roi_p50"] == s.loc[cid, "roi_p50"]
        assert ct.loc[cid, "p_roi_positive"] == s.loc[cid, "p_roi_positive"]
    review = roi.claims_review_table(ct.reset_index(), lang="en")
    assert review["Claimed ROI (×)"].tolist() == [6.5, 20000.0]
    assert "attribut" in review["Rests on (attribution)"].iloc[1]
    with pytest.raises(DataError, match="no row"):
        roi.claims_table(cases, summary=summ[summ["id"] != "kids_corner"])


def test_case_results_table_and_roi_record(cases):
    table = roi.cases_table(cases)
    sims = roi.simulate(cases, n_sims=400, seed=5)
    summ = roi.roi_summary(sims)
    out = roi.case_results_table(table, summ, lang="en").set_index("Case")
    kids = table.set_index("id").loc["kids_corner"]
    assert out.loc["Kids' corner", "NPV at modes (10k CNY)"] == round(kids["npv"] / 1e4, 2)
    assert out.loc["Kids' corner", "First-year cost (10k CNY)"] == 8.0
    assert np.isnan(out.loc["Advisor check-in every 30 minutes (option C)", "ROI at modes (×)"])  # costs nothing
    assert np.isnan(out.loc["Birthday surprise", "Payback at modes (months)"])  # never pays back
    rec = roi.roi_record(summ)
    assert sorted(rec) == sorted(c.id for c in cases)
    k = summ.set_index("id").loc["kids_corner"]
    assert rec["kids_corner"] == {
        "roi": k["roi_p50"],
        "p_roi_positive": k["p_roi_positive"],
        "npv": k["npv_mean"],
        "payback_months": k["payback_months_p50"],
    }
    assert rec["advisor_checkins"]["roi"] is None and rec["birthday_surprise"]["payback_months"] is None
    json.dumps(rec)  # plain JSON


def test_portfolio_sentence_seed_example(cases):
    table = roi.cases_table(cases)
    abc = roi.best_portfolio(
        table[table["id"].isin(["realtime_push", "workshop_screen", "advisor_checkins", "push_plus_checkins"])], 50_000
    )
    en = roi.portfolio_sentence(abc, lang="en")
    assert en.startswith("Budget CNY 50k: choose Real-time push + advisor check-ins (A+C); cost CNY 50k;")
    npv = table.set_index("id").loc["push_plus_checkins", "npv"]
    assert f"expected NPV CNY {npv / 1e3:,.0f}k" in en
    sat = roi.best_portfolio(table, 50_000, objective="satisfaction")
    assert "NPS points" in roi.portfolio_sentence(sat, lang="en") and "满意度" in roi.portfolio_sentence(sat, lang="zh")
    with pytest.raises(DataError, match="attrs"):
        roi.portfolio_sentence(table.head(1), lang="en")


def test_tornado_sentence_names_the_top_input(cases):
    t = roi.tornado(by_id(cases, "kids_corner"))
    s = roi.tornado_sentence(t, lang="en")
    top = t.iloc[0]
    assert top["input"] == "extra_customers"
    assert s.startswith(f"Kids' corner: NPV at the modes CNY {top['npv_base'] / 1e3:,.0f}k")
    assert "Extra customers a year" in s
    assert "新增客户" in roi.tornado_sentence(t, lang="zh")


# ------------------------------------------------------------- measured update effects
SCOPE = {"center": "all", "period_start": None, "period_end": None}
RR = {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9, "p_value_vs_half": 0.001}
SLOPE = {"estimate": 0.4, "ci_low": 0.3, "ci_high": 0.5}


class _Estimator:
    """Stands in for models.update_effects: counts calls, returns fixed long decimals."""

    def __init__(self, out):
        self.out, self.calls = out, 0

    def __call__(self, visits):
        self.calls += 1
        return self.out


def test_update_effects_from_results_of_the_same_scope(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"scope": SCOPE, "complaint_rate_ratio_per_update": RR, "ltr_slope_per_update": SLOPE}),
        encoding="utf-8",
    )
    est = _Estimator({})
    m = roi.measured_update_effects(path, SCOPE, visits=pd.DataFrame(), estimator=est)
    assert m["source"] == {"complaint_rate_ratio_per_update": "results.json", "ltr_slope_per_update": "results.json"}
    assert m["complaint_rate_ratio_per_update"] == {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    assert est.calls == 0  # nothing recomputed


def test_update_effects_other_scope_are_recomputed_and_match_the_recorded_route():
    computed = {
        "complaint_rate_ratio_per_update": {
            "estimate": 0.812345678,
            "ci_low": 0.7123456789,
            "ci_high": 0.9012345678,
            "adjusted_for": ["center"],
        },
        "ltr_slope_per_update": {"estimate": 0.41234567891, "ci_low": 0.3, "ci_high": 0.5},
    }
    other = {
        "scope": {"center": "SZ-NS", "period_start": "2026-10", "period_end": "2026-10"},
        "complaint_rate_ratio_per_update": RR,
        "ltr_slope_per_update": SLOPE,
    }
    est = _Estimator(computed)
    m = roi.measured_update_effects(other, SCOPE, visits=pd.DataFrame(), estimator=est)
    assert est.calls == 1
    assert set(m["source"].values()) == {"computed"}
    assert m["complaint_rate_ratio_per_update"]["estimate"] == 0.812346  # stored as results.json stores it
    assert m["note"]["ltr_slope_per_update"] == ""
    # the same figures when notebook 03 recorded them for this scope first
    from cxlib import results

    recorded = {"scope": SCOPE, **results.jsonable(computed)}
    m2 = roi.measured_update_effects(recorded, SCOPE, visits=pd.DataFrame(), estimator=est)
    assert set(m2["source"].values()) == {"results.json"}
    for k in roi.UPDATE_EFFECT_KEYS:
        assert m2[k] == m[k]


def test_update_effects_scope_values_compared_as_text_and_per_entry_scope_wins():
    res = {
        "scope": {"center": "all", "period_start": None, "period_end": None},
        "complaint_rate_ratio_per_update": {
            **RR,
            "scope": {"center": "SH-JQ", "period_start": None, "period_end": None},
        },
        "ltr_slope_per_update": SLOPE,
    }
    m = roi.measured_update_effects(res, SCOPE)
    assert m["source"] == {"complaint_rate_ratio_per_update": "default", "ltr_slope_per_update": "results.json"}
    res2 = {
        "scope": {"center": "SZ-NS", "period_start": "2026-10", "period_end": "2026-10"},
        "ltr_slope_per_update": SLOPE,
    }
    m2 = roi.measured_update_effects(res2, {"center": "SZ-NS", "period_start": "2026-10", "period_end": "2026-10"})
    assert m2["source"]["ltr_slope_per_update"] == "results.json"


def test_update_effects_fall_back_to_defaults_when_not_fitted():
    est = _Estimator(
        {
            "complaint_rate_ratio_per_update": {"estimate": None, "note": "cannot fit: 1 cluster"},
            "ltr_slope_per_update": {"estimate": 0.35, "ci_low": 0.2, "ci_high": 0.5},
        }
    )
    m = roi.measured_update_effects({}, SCOPE, visits=pd.DataFrame(), estimator=est)
    assert m["source"] == {"complaint_rate_ratio_per_update": "default", "ltr_slope_per_update": "computed"}
    assert m["complaint_rate_ratio_per_update"] == {"estimate": 0.85, "ci_low": 0.75, "ci_high": 0.95}
    assert m["note"]["complaint_rate_ratio_per_update"] == "cannot fit: 1 cluster"
    # recorded by notebook 03 as not fitted for this scope: recompute, then default
    m2 = roi.measured_update_effects(
        {"scope": SCOPE, "complaint_rate_ratio_per_update": {"estimate": None, "note": "cannot fit"}}, SCOPE
    )
    assert m2["source"]["complaint_rate_ratio_per_update"] == "default"
    assert m2["note"]["complaint_rate_ratio_per_update"] == "cannot fit"
    assert m2["note"]["ltr_slope_per_update"].startswith("not measured for this scope")
    assert roi.measured_update_effects("", SCOPE)["source"]["ltr_slope_per_update"] == "default"
    with pytest.raises(DataError, match="scope"):
        roi.measured_update_effects({}, None)


def test_update_effects_table_and_program_record():
    m = roi.measured_update_effects({"scope": SCOPE, "ltr_slope_per_update": SLOPE}, SCOPE)
    t = roi.update_effects_table(m, lang="en")
    assert t["Estimate"].tolist() == [0.85, 0.4]
    assert t["Source"].tolist() == ["documented default", "measured: notebook 03's model, same scope"]
    summ = pd.DataFrame({"id": ["proactive_updates"], "npv_mean": [123.4], "roi_p50": [float("inf")]})
    rec = roi.update_program_record(summ, m)
    assert rec == {
        "npv": 123.4,
        "roi": None,
        "source": "complaint_rate_ratio_per_update: default; ltr_slope_per_update: results.json",
    }
    with pytest.raises(DataError, match="measured effects lack"):
        roi.update_effects_table({"source": {}}, lang="en")


def test_update_program_from_measured_effects_by_hand():
    m = roi.measured_update_effects(
        {"scope": SCOPE, "complaint_rate_ratio_per_update": RR, "ltr_slope_per_update": SLOPE}, SCOPE
    )
    a = Assumptions().override(complaint_rate=roi.observed_complaint_rate(pd.DataFrame({"n_complaints": [0, 1, 0, 3]})))
    assert a.complaint_rate == 0.5
    p = roi.update_program_value(
        rate_ratio_per_update=m["complaint_rate_ratio_per_update"],
        ltr_slope_per_update=m["ltr_slope_per_update"],
        assumptions=a,
    )
    ret = p["case"].effects["retention_gain"]
    assert ret.mode == pytest.approx(0.5 * (1 - 0.8**2) * (0.85 - 0.52))
    assert ret.low == pytest.approx(0.5 * (1 - 0.9**2) * 0.33) and ret.high == pytest.approx(0.5 * (1 - 0.7**2) * 0.33)
    assert p["case"].effects["referral_gain"].mode == pytest.approx(0.4 * 2 * (0.45 - 0.08) / 5)
    with pytest.raises(DataError, match="n_complaints"):
        roi.observed_complaint_rate(pd.DataFrame({"x": [1]}))
    with pytest.raises(DataError, match="no visits"):
        roi.observed_complaint_rate(pd.DataFrame({"n_complaints": pd.Series([], dtype=float)}))


def test_get_case(cases):
    assert roi.get_case(cases, "kids_corner").name_en == "Kids' corner"
    with pytest.raises(KeyError, match="known"):
        roi.get_case(cases, "nope")


# ------------------------------------------- update effects from their sampling distribution
Z95 = 1.959963984540054
#: a rate ratio with a log-symmetric 95 % interval (as the models give it) and a t(6) slope interval
RR_LOG = {
    "estimate": 0.8,
    "ci_low": math.exp(math.log(0.8) - Z95 * 0.1),
    "ci_high": math.exp(math.log(0.8) + Z95 * 0.1),
}
SLOPE_T = {"estimate": 0.3, "ci_low": 0.3 - 2.446912 * 0.05, "ci_high": 0.3 + 2.446912 * 0.05}


def _effect_draws(p: dict, n_draws: int = 40_000, seed: int = 7) -> pd.DataFrame:
    """The two effects behind each Monte Carlo draw, recovered from the drawn retention and referral gains."""
    a, n = Assumptions(), p["inputs"]["extra_updates"]
    sims = roi.simulate(p["case"], n_sims=n_draws, seed=seed)
    rr = 1 - sims["retention_gain"] / (a.complaint_rate * (a.retention_great - a.retention_bad))
    return pd.DataFrame(
        {
            "log_rr": np.log(rr.to_numpy() ** (1 / n)),
            "slope": sims["referral_gain"].to_numpy() / (n * a.referral_per_ltr_point),
        }
    )


def test_effect_sampling_sd_is_the_one_the_interval_implies():
    d = roi.effect_sampling("complaint_rate_ratio_per_update", RR_LOG)
    assert d["scale"] == "log rate ratio"
    assert d["mean"] == pytest.approx(math.log(0.8)) and d["sd"] == pytest.approx(0.1)
    d = roi.effect_sampling("ltr_slope_per_update", SLOPE_T)
    # a t(6) interval: the implied SD is the SE times t/z (the few-cluster width is kept)
    assert d["scale"] == "LTR points" and d["sd"] == pytest.approx(0.05 * 2.446912 / Z95)
    assert roi.effect_sampling("ltr_slope_per_update", {"estimate": 1, "ci_low": 1, "ci_high": 1})["sd"] == 0
    with pytest.raises(DataError, match="> 0"):
        roi.effect_sampling("complaint_rate_ratio_per_update", {"estimate": 0.5, "ci_low": 0, "ci_high": 1})
    with pytest.raises(DataError, match="unknown update effect"):
        roi.effect_sampling("nps", SLOPE)


@settings(max_examples=50, deadline=None)
@given(st.floats(-3, 3), st.floats(1e-3, 2))
def test_effect_sampling_recovers_the_standard_error(b, se):
    rr = {"estimate": math.exp(b), "ci_low": math.exp(b - Z95 * se), "ci_high": math.exp(b + Z95 * se)}
    d = roi.effect_sampling("complaint_rate_ratio_per_update", rr)
    assert d["mean"] == pytest.approx(b, abs=1e-12) and d["sd"] == pytest.approx(se, rel=1e-9)


def test_update_effect_draws_have_the_mean_and_sd_of_the_normal():
    p = roi.update_program_value(
        rate_ratio_per_update=RR_LOG, ltr_slope_per_update=SLOPE_T, programme=roi.UpdateProgramme(extra_updates=1)
    )
    e = _effect_draws(p)
    n = len(e)
    for col, mu, sd in (("log_rr", math.log(0.8), 0.1), ("slope", 0.3, 0.05 * 2.446912 / Z95)):
        assert abs(e[col].mean() - mu) < 4 * sd / math.sqrt(n)  # Monte-Carlo error of the mean
        assert abs(e[col].std() / sd - 1) < 4 / math.sqrt(2 * n)  # … and of the SD
    assert abs(np.corrcoef(e["log_rr"], e["slope"])[0, 1]) < 4 / math.sqrt(n)  # independent by default
    assert p["inputs"]["sampling"]["correlation"] == 0 and "no joint covariance" in p["inputs"]["sampling"]["note"]


def test_central_95_percent_of_draws_is_the_interval():
    """The normal covers the CI with 95 % of its draws; the old triangular over the CI bounds put 100 %
    of the draws inside and only its central 78 % within the middle of the sampling distribution."""
    p = roi.update_program_value(
        rate_ratio_per_update=RR_LOG, ltr_slope_per_update=SLOPE_T, programme=roi.UpdateProgramme(extra_updates=1)
    )
    e = _effect_draws(p)
    rr = np.exp(e["log_rr"])
    inside_rr = float(((rr >= RR_LOG["ci_low"]) & (rr <= RR_LOG["ci_high"])).mean())
    inside_slope = float(((e["slope"] >= SLOPE_T["ci_low"]) & (e["slope"] <= SLOPE_T["ci_high"])).mean())
    mc = 4 * math.sqrt(0.95 * 0.05 / len(e))
    assert abs(inside_rr - 0.95) < mc and abs(inside_slope - 0.95) < mc
    # the draws' own central 95 % reproduces the interval
    lo, hi = np.quantile(e["slope"], [0.025, 0.975])
    assert lo == pytest.approx(SLOPE_T["ci_low"], abs=0.005) and hi == pytest.approx(SLOPE_T["ci_high"], abs=0.005)
    # the triangular over the same bounds: its central 95 % is only 78 % of the interval's width
    tri = np.quantile(np.random.default_rng(1).triangular(-1, 0, 1, 200_000), [0.025, 0.975])
    assert (tri[1] - tri[0]) / 2 == pytest.approx(0.776, abs=0.005)


def test_update_effect_correlation_when_a_joint_fit_gives_it():
    p = roi.update_program_value(
        rate_ratio_per_update=RR_LOG,
        ltr_slope_per_update=SLOPE_T,
        correlation=-0.6,
        programme=roi.UpdateProgramme(extra_updates=2),
    )
    e = _effect_draws(p)
    assert np.corrcoef(e["log_rr"], e["slope"])[0, 1] == pytest.approx(-0.6, abs=0.02)
    assert p["inputs"]["sampling"]["correlation"] == -0.6
    for bad in (1.5, "high", float("nan")):
        with pytest.raises(DataError, match="correlation"):
            roi.update_program_value(rate_ratio_per_update=RR_LOG, ltr_slope_per_update=SLOPE_T, correlation=bad)


def test_update_program_draws_repeat_with_the_seed_and_leave_other_cases_alone(cases):
    p = roi.update_program_value(rate_ratio_per_update=RR_LOG, ltr_slope_per_update=SLOPE_T)
    s1, s2 = roi.simulate(p["case"], n_sims=2000, seed=11), roi.simulate(p["case"], n_sims=2000, seed=11)
    pd.testing.assert_frame_equal(s1, s2)
    assert not np.allclose(s1["npv"], roi.simulate(p["case"], n_sims=2000, seed=12)["npv"])
    assert roi.roi_summary(s1).equals(roi.roi_summary(s2))
    # the measured effects are normal draws: they leave the triangle's bounds in about 5 % of the draws
    ret = p["case"].effects["retention_gain"]
    outside = float(((s1["retention_gain"] < ret.low) | (s1["retention_gain"] > ret.high)).mean())
    assert 0.03 < outside < 0.07
    # cases without a sampling distribution draw exactly as before (triangular over their ranges)
    plain = roi.simulate(cases[:2], n_sims=500, seed=3)
    rng = np.random.default_rng(3)
    first = {k: q.draw(rng, 500) for k, q in cases[0].inputs().items()}
    for k, x in first.items():
        np.testing.assert_array_equal(plain.loc[plain["id"] == cases[0].id, k].to_numpy(), x)
    # a point effect (a number) has no spread
    pts = roi.simulate(
        roi.update_program_value(rate_ratio_per_update=0.85, ltr_slope_per_update=0.3)["case"], n_sims=50, seed=1
    )
    assert pts["retention_gain"].nunique() == 1 and pts["referral_gain"].nunique() == 1


def test_joint_normal_checks_its_covariance():
    with pytest.raises(DataError, match="positive semi-definite"):
        roi.JointNormal(("a", "b"), (0.0, 0.0), ((1.0, 2.0), (2.0, 1.0)))
    with pytest.raises(DataError, match="2×2"):
        roi.JointNormal(("a", "b"), (0.0,), ((1.0, 0.0), (0.0, 1.0)))


def test_update_effects_table_says_how_each_effect_is_drawn():
    m = roi.measured_update_effects(
        {"scope": SCOPE, "complaint_rate_ratio_per_update": RR_LOG, "ltr_slope_per_update": SLOPE}, SCOPE
    )
    t = roi.update_effects_table(m, lang="en")
    assert t["Drawn as"].tolist() == ["normal (log rate ratio), SD 0.100", "normal (LTR points), SD 0.051"]
    assert roi.update_effects_table(m, lang="zh")["模拟抽样"].iloc[0] == "正态（对数率比），标准差 0.100"
