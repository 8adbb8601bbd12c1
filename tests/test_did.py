"""Heterogeneity-robust staggered DiD (cxlib.did): R `did` reference values on mpdta, Sun–Abraham
against fixest-parity values, a hand-computed 2×2 on visits, the Webb bootstrap, randomisation
inference and the single-center case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import did, findings, models

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(DATA / "mpdta.csv")


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


SCENARIOS = {"never_treated": "mpdta_nev_dr", "not_yet_treated": "mpdta_nyt_dr"}


@pytest.mark.parametrize("control", list(SCENARIOS))
def test_group_time_atts_and_errors_match_r_did(mpdta, control):
    res = did.callaway_santanna(
        mpdta, "lemp", "year", "first.treat", control_group=control, inference=did.Inference(cluster="countyreal")
    )
    ref = _ref("mpdta_did_attgt.csv").query("scenario == @SCENARIOS[@control]")
    got = res.cells.set_index(["group", "time"])
    for r in ref.itertuples():
        row = got.loc[(float(r.group), float(r.t))]
        assert row["estimate"] == pytest.approx(r.att, abs=1e-10)
        assert row["std_error"] == pytest.approx(r.se, rel=1e-6)


def test_published_vignette_values(mpdta):
    res = did.callaway_santanna(mpdta, "lemp", "year", "first.treat", inference=did.Inference(cluster="countyreal"))
    got = res.cells.set_index(["group", "time"])["estimate"].round(4)
    published = {
        (2004, 2004): -0.0105,
        (2004, 2005): -0.0704,
        (2004, 2006): -0.1373,
        (2004, 2007): -0.1008,
        (2006, 2006): -0.0046,
        (2006, 2007): -0.0412,
        (2007, 2007): -0.0261,
    }
    for k, v in published.items():
        assert got.loc[k] == v
    assert round(res.headline["estimate"].iloc[0], 4) == -0.0400
    assert round(res.pretest["p_value"], 5) == 0.16812


@pytest.mark.parametrize("control", list(SCENARIOS))
def test_simple_and_dynamic_aggregation_match_r_did(mpdta, control):
    res = did.callaway_santanna(
        mpdta, "lemp", "year", "first.treat", control_group=control, inference=did.Inference(cluster="countyreal")
    )
    agg = _ref("mpdta_did_aggte.csv").query("scenario == @SCENARIOS[@control]")
    simple = agg.query("type == 'simple'").iloc[0]
    assert res.headline["estimate"].iloc[0] == pytest.approx(simple.overall_att, abs=1e-10)
    assert res.headline["std_error"].iloc[0] == pytest.approx(simple.overall_se, rel=1e-6)
    dyn = agg.query("type == 'dynamic'").set_index("egt")
    ev = res.event.set_index("rel_period")
    for e, r in dyn.iterrows():
        assert ev.loc[float(e), "estimate"] == pytest.approx(r.att_egt, abs=1e-10)
        assert ev.loc[float(e), "std_error"] == pytest.approx(r.se_egt, rel=1e-6)
    pre = _ref("mpdta_did_pretest.csv").query("scenario == @SCENARIOS[@control]").iloc[0]
    assert res.pretest["statistic"] == pytest.approx(pre.W, rel=1e-6)
    assert res.pretest["p_value"] == pytest.approx(pre.Wpval, abs=1e-5)
    assert res.pretest["df"] == 5


# Sun–Abraham on mpdta, clustered by county (see tests/data/README.md for where these come from)
SA_EVENT = {
    -4: (0.003306356692512408, 0.024555095531863646),
    -3: (0.02502182959755504, 0.018154344410048512),
    -2: (0.02445874497116954, 0.014266792154618242),
    0: (-0.01993181678925932, 0.011857538963453297),
    1: (-0.05095736706519374, 0.016870678384610097),
    2: (-0.13725873888940313, 0.03658947596376605),
    3: (-0.10081136308540405, 0.034504271910207884),
}


def test_sun_abraham_matches_fixest_parity_values(mpdta):
    res = did.sun_abraham(
        mpdta, "lemp", "year", "first.treat", "countyreal", inference=did.Inference(cluster="countyreal")
    )
    ev = res.event.set_index("rel_period")
    for e, (est, se) in SA_EVENT.items():
        assert ev.loc[float(e), "estimate"] == pytest.approx(est, abs=1e-9)
        assert ev.loc[float(e), "std_error"] == pytest.approx(se, rel=1e-6)
    assert res.headline["estimate"].iloc[0] == pytest.approx(-0.03995127515517632, abs=1e-9)
    assert res.headline["std_error"].iloc[0] == pytest.approx(0.011796277441754287, rel=1e-6)
    # post periods coincide with R did's dynamic aggregation (balanced panel, never-treated controls)
    dyn = _ref("mpdta_did_aggte.csv").query("scenario == 'mpdta_nev_dr' and type == 'dynamic'").set_index("egt")
    for e in (0, 1, 2, 3):
        assert ev.loc[float(e), "estimate"] == pytest.approx(dyn.loc[e, "att_egt"], abs=1e-10)


# ---------------------------------------------------------------------------- our visit data
def _toy(seed: int = 1, effect: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five centers, months 2026-01 … 2026-06; A switches 2026-03-01, B 2026-04-15, C/D/E never."""
    rng = np.random.default_rng(seed)
    centers = pd.DataFrame(
        {"center_id": list("ABCDE"), "realtime_since": ["2026-03-01", "2026-04-15", None, None, None]}
    )
    rows = []
    for ci, cid in enumerate("ABCDE"):
        for m in range(1, 7):
            for k in range(12):
                day = 1 + (k * 2) % 28
                arrived = pd.Timestamp(2026, m, day, 10)
                since = centers.loc[ci, "realtime_since"]
                post = since is not None and arrived >= pd.Timestamp(since)
                ltr = 5 + ci * 0.5 + 0.2 * m + (effect * (1 + 0.5 * (m - 3)) if post else 0) + rng.normal(0, 1)
                rows.append(
                    {
                        "center": cid,
                        "month": f"2026-{m:02d}",
                        "arrived_at": arrived,
                        "ltr": ltr,
                        "complained": bool(rng.random() < 0.2),
                    }
                )
    return pd.DataFrame(rows), centers


def test_att_gt_is_the_hand_computed_difference_of_cell_means():
    visits, centers = _toy()
    res = did.rollout_att(visits, centers, "ltr", control_group="never_treated")
    v = visits.assign(arrived_at=pd.to_datetime(visits["arrived_at"]))

    def mean(center_ids, month, since=None):
        s = v.loc[v["center"].isin(center_ids) & (v["month"] == month)]
        if since is not None:
            s = s.loc[s["arrived_at"] >= pd.Timestamp(since)]
        return s["ltr"].mean()

    cells = res.cells.set_index(["group", "time"])
    g_a, g_b = 2026 * 12 + 3, 2026 * 12 + 4
    never = ["C", "D", "E"]
    # A (switch 1 March), month 5 against base February
    hand = (mean(["A"], "2026-05") - mean(["A"], "2026-02")) - (mean(never, "2026-05") - mean(never, "2026-02"))
    assert cells.loc[(g_a, g_a + 2), "estimate"] == pytest.approx(hand, abs=1e-12)
    # B (switch 15 April): its April cell holds only the visits on/after the 15th; base March
    hand_b = (mean(["B"], "2026-04", since="2026-04-15") - mean(["B"], "2026-03")) - (
        mean(never, "2026-04") - mean(never, "2026-03")
    )
    assert cells.loc[(g_b, g_b), "estimate"] == pytest.approx(hand_b, abs=1e-12)
    # a pre period of B: February against January
    pre = (mean(["B"], "2026-02") - mean(["B"], "2026-01")) - (mean(never, "2026-02") - mean(never, "2026-01"))
    assert cells.loc[(g_b, 2026 * 12 + 2), "estimate"] == pytest.approx(pre, abs=1e-12)
    assert "switch month before the switch date left out" in res.note


def test_not_yet_treated_uses_the_later_switcher_before_its_switch():
    visits, centers = _toy()
    nyt = did.rollout_att(visits, centers, "ltr", control_group="not_yet_treated").cells.set_index(["group", "time"])
    nev = did.rollout_att(visits, centers, "ltr", control_group="never_treated").cells.set_index(["group", "time"])
    g_a = 2026 * 12 + 3
    assert nyt.loc[(g_a, g_a), "n_control"] > nev.loc[(g_a, g_a), "n_control"]  # B is a control for A in March
    assert nyt.loc[(g_a, g_a + 3), "n_control"] == nev.loc[(g_a, g_a + 3), "n_control"]  # not in June


def test_record_names_the_estimator_and_inference():
    visits, centers = _toy()
    rec = did.rollout_att(visits, centers, "ltr").record()
    assert rec["estimator"] == "callaway_santanna" and rec["control_group"] == "not_yet_treated"
    assert rec["ci_low"] < rec["estimate"] < rec["ci_high"] and rec["n_clusters"] == 5
    assert "independent" in rec["inference"]


def test_one_center_cannot_fit_and_says_why():
    visits, centers = _toy()
    one = visits.loc[visits["center"] == "A"]
    res = did.rollout_att(one, centers, "ltr")
    assert not res.ok and "one center" in res.note and "switched to real-time updates on 2026-03-01" in res.note
    assert res.record()["estimate"] is None
    never = did.rollout_sun_abraham(visits.loc[visits["center"] == "C"], centers, "ltr")
    assert not never.ok and never.note.startswith("cannot fit: this center never switched")


def test_the_rollout_notes_read_in_chinese_on_a_chinese_page():
    """Every clause the staggered estimators write has its Chinese (models.note_text)."""
    import re

    from cxlib import models

    visits, centers = _toy()
    for res in (
        did.rollout_att(visits, centers, "ltr"),
        did.rollout_att(visits, centers, "ltr", control_group="never_treated"),
        did.rollout_sun_abraham(visits, centers, "ltr"),
        did.rollout_att(visits.loc[visits["center"] == "A"], centers, "ltr"),
    ):
        zh = models.note_text(res.note, lang="zh")
        english = re.findall(
            r"[A-Za-z]{4,}",
            zh.replace("Callaway", "").replace("Sant'Anna", "").replace("Abraham", "").replace("Webb", ""),
        )
        assert not english, (res.note, zh)
    zh = models.note_text(did.rollout_att(visits, centers, "ltr").note, lang="zh")
    assert "以尚未切换的门店为对照" in zh and "工单视为相互独立" in zh


# ---------------------------------------------------------------------------- inference
def test_webb_weights_are_enumerated_for_few_clusters():
    w, full = did.webb_weights(3)
    assert full and w.shape == (216, 3)
    assert np.allclose(w.mean(axis=0), 0) and np.allclose((w**2).mean(axis=0), 1)
    w8, full8 = did.webb_weights(8, draws=99, seed=3)
    assert not full8 and w8.shape == (99, 8)


def test_wild_bootstrap_with_one_cluster_per_unit_pair_is_exact():
    """Three clusters with cluster sums s: the enumerated bootstrap p-value is the exact share of
    Webb sign vectors v with |v·s| ≥ |θ|."""
    IF = np.array([[0.5], [-0.2], [0.1], [-0.4]])
    clusters = np.array(["a", "a", "b", "c"])  # sums 0.3, 0.1, -0.4
    s = np.array([0.3, 0.1, -0.4])
    inf = did._infer(np.array([0.5]), IF, clusters, 0.95)
    w, _ = did.webb_weights(3)
    assert inf.p[0] == pytest.approx(np.mean(np.abs(w @ s) >= 0.5 - 1e-12))
    assert inf.se[0] == pytest.approx(np.sqrt((s**2).sum()))
    assert inf.n_clusters == 3 and "all 216 Webb" in inf.text


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 3), st.floats(0.1, 5))
def test_att_moves_with_the_treated_post_outcomes(shift, scale):
    """Adding c to the outcomes of the switching centers' visits after their switch moves the
    overall ATT by exactly c; rescaling all outcomes rescales it."""
    visits, centers = _toy(seed=2)
    base = did.rollout_att(visits, centers, "ltr", control_group="never_treated").headline["estimate"].iloc[0]
    since = visits["center"].map({"A": pd.Timestamp("2026-03-01"), "B": pd.Timestamp("2026-04-15")})
    post = (pd.to_datetime(visits["arrived_at"]) >= since).fillna(False).to_numpy()
    moved = visits.assign(ltr=visits["ltr"] + shift * post)
    got = did.rollout_att(moved, centers, "ltr", control_group="never_treated").headline["estimate"].iloc[0]
    assert got == pytest.approx(base + shift, abs=1e-9)
    scaled = visits.assign(ltr=visits["ltr"] * scale)
    got2 = did.rollout_att(scaled, centers, "ltr", control_group="never_treated").headline["estimate"].iloc[0]
    assert got2 == pytest.approx(base * scale, rel=1e-9)


def test_randomization_test_enumerates_every_assignment():
    visits, centers = _toy(effect=2.0)
    ri = did.randomization_test(visits, centers, "ltr").set_index("estimator")
    assert (ri["n_assignments"] == 20).all() and ri["enumerated"].all()  # 5 centers, 2 dates: 5·4
    assert ri.loc["callaway_santanna", "p_value"] == pytest.approx(1 / 20)  # the true assignment is the extreme
    tw = models.did_rollout(visits, centers, "ltr").headline["estimate"].iloc[0]
    assert ri.loc["twfe", "estimate"] == pytest.approx(tw, abs=1e-9)


@pytest.mark.parametrize("control", ["not_yet_treated", "never_treated"])
def test_the_cell_sums_give_every_assignments_estimates_as_the_visit_level_estimators(control):
    """The randomisation test's statistics come from center-month sums: under any reassignment of the
    switch dates they equal rollout_att (visit level) and models.did_rollout on re-dated centers."""
    visits, centers = _toy(seed=3)
    dates = ["2026-03-01", "2026-04-15"]
    for a, b in [("C", "E"), ("B", "A"), ("D", "C"), ("E", "B")]:
        moved = centers.assign(
            realtime_since=[dates[0] if c == a else dates[1] if c == b else None for c in centers["center_id"]]
        )
        ri = did.randomization_test(visits, moved, "ltr", control_group=control).set_index("estimator")
        cs = did.rollout_att(visits, moved, "ltr", control_group=control).headline["estimate"].iloc[0]
        tw = models.did_rollout(visits, moved, "ltr").headline["estimate"].iloc[0]
        assert ri.loc["callaway_santanna", "estimate"] == pytest.approx(cs, abs=1e-10)
        assert ri.loc["twfe", "estimate"] == pytest.approx(tw, abs=1e-10)


def test_the_randomisation_interval_inverts_the_test():
    """At the interval's ends the test of "every switched visit gained τ", run directly on the shifted
    outcomes, turns from not rejecting to rejecting; the quoted result carries the interval."""
    visits, centers = _toy(seed=4, effect=2.0)
    ri = did.randomization_test(visits, centers, "ltr", inference=did.Inference(ci=0.9)).set_index("estimator")
    post = models.rollout_visits(
        visits,
        centers,
    )["post"]
    for est in ("callaway_santanna", "twfe"):
        lo, hi = ri.loc[est, ["ci_low", "ci_high"]]
        assert lo < ri.loc[est, "estimate"] < hi

        def p_at(tau: float, est: str = est) -> float:
            shifted = visits.assign(ltr=visits["ltr"] - tau * post)
            return did.randomization_test(shifted, centers, "ltr").set_index("estimator").loc[est, "p_value"]

        for end, outward in ((lo, -1), (hi, 1)):
            assert p_at(end - outward * 1e-6) > 0.1
            assert p_at(end + outward * 1e-3) <= 0.1
    quoted = did.with_randomization(did.rollout_att(visits, centers, "ltr"), ri.reset_index())
    h = quoted.headline.iloc[0]
    assert (h["ci_low"], h["ci_high"]) == (
        ri.loc["callaway_santanna", "ci_low"],
        ri.loc["callaway_santanna", "ci_high"],
    )
    assert h["ci_low_independent"] != h["ci_low"] and quoted.inference.startswith("randomisation interval")
    assert quoted.record()["inference"].startswith("randomisation interval: all 20 assignments")
    assert "随机化区间" in models.note_text(quoted.note, lang="zh")
    assert (
        did.with_randomization(did.rollout_att(visits, centers, "ltr"), None).inference
        == did.rollout_att(visits, centers, "ltr").inference
    )


def test_twfe_weights_and_verdict_on_growing_effects():
    visits, centers = _toy(effect=1.0)
    w = did.twfe_weights(visits, centers, "ltr")
    assert w["n_treated_cells"] == 7  # A: March–June, B: April–June
    assert w["negative_weight_sum"] <= 0
    v = did.verdict(models.did_rollout(visits, centers, "ltr"), did.rollout_att(visits, centers, "ltr"), w)
    assert v["trust"] in (True, False) and v["gap"] == pytest.approx(v["twfe"] - v["robust"])
    assert v["n_clusters"] == 5 and v["estimator"] == "callaway_santanna"


def test_the_verdict_finding_quotes_estimate_interval_n_and_inference():
    from cxlib import findings

    visits, centers = _toy(effect=1.0)
    v = did.verdict(
        models.did_rollout(visits, centers, "ltr"),
        did.rollout_att(visits, centers, "ltr"),
        did.twfe_weights(visits, centers, "ltr"),
    )
    ri = did.randomization_test(visits, centers, "ltr")
    f = findings.twfe_verdict(v, ri, lang="both")
    assert "Callaway–Sant'Anna" in f.en and "95% CI" in f.en and "n = 360" not in f.en
    assert f"n = {v['n']:,}" in f.en and "5 centers" in f.en and "20 assignments" in f.en
    assert "95% 置信区间" in f.zh and "5 家门店" in f.zh and "p = p" not in f.zh
    assert f.facts["trust"] == v["trust"] and f.facts["randomization_assignments"] == 20
    none = findings.twfe_verdict({"trust": None, "note": "cannot fit: one center"}, lang="zh")
    assert none.facts["status"] == "cannot_fit"


def test_the_staggered_simulation_runs_and_twfe_is_biased_down():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sim_staggered.py"
    spec = importlib.util.spec_from_file_location("sim_staggered", path)
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    table = sim.run(reps=3, seed=5, randomization=False)
    assert table["twfe"]["bias"] < 0  # growing effects: early switchers' growth is subtracted
    for k in ("cs_never", "cs_not_yet", "sun_abraham"):
        assert abs(table[k]["bias"]) < abs(table["twfe"]["bias"])
    # one replication with center-month shocks and the randomisation intervals (all 840 assignments)
    shocked = sim.run(reps=1, seed=5, shock=0.5)
    assert set(shocked) == set(sim.ESTIMATORS)
    assert shocked["cs_not_yet_ri"]["bias"] == pytest.approx(shocked["cs_not_yet"]["bias"], abs=1e-9)  # same estimate


def test_sensitivity_bounds_follow_the_largest_pre_switch_departure():
    """Relative magnitudes: the bias bound is M̄ · Δ · Σ w (e + 1) over the ATT's post cells, Δ the
    largest |pre-switch| event-study point; at the breakdown M̄ the interval touches 0."""
    visits, centers = _toy(seed=2, effect=1.0)
    res = did.rollout_att(visits, centers, "ltr")
    sens = did.sensitivity(res, mbar=(0.0, 1.0, 2.0))
    ev = res.event
    delta = ev.loc[ev["rel_period"] < 0, "estimate"].abs().max()
    post = res.cells.loc[res.cells["post"]]
    w = post["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0)
    reach = (w * (post["rel_period"].to_numpy() + 1)).sum()
    h = res.headline.iloc[0]
    for r in sens.itertuples():
        assert r.bias_bound == pytest.approx(r.mbar * delta * reach)
        assert r.ci_low == pytest.approx(h["ci_low"] - r.bias_bound)
        assert r.ci_high == pytest.approx(h["ci_high"] + r.bias_bound)
    assert sens.loc[0, "ci_low"] == pytest.approx(h["ci_low"])
    brk = sens.attrs["breakdown"]
    at = did.sensitivity(res, mbar=(brk - 1e-9, brk + 1e-9))
    assert at["excludes_zero"].tolist() == [True, False]
    # the weights are the overall ATT's: the weighted post cells give the headline estimate
    assert (w * post["estimate"].to_numpy()).sum() == pytest.approx(h["estimate"])
    f = findings.rollout_sensitivity(sens, lang="both")
    assert f"{brk:.2f}" in f.zh and f"{brk:.2f}" in f.en and "n = " in f.en
    one = did.sensitivity(did.rollout_att(visits.loc[visits["center"] == "A"], centers, "ltr"))
    assert one.in_lang("zh") and findings.rollout_sensitivity(one, lang="zh").facts["status"] != "ok"
    with pytest.raises(ValueError):
        did.sensitivity(did.rollout_sun_abraham(visits, centers, "ltr"))


def test_the_confidence_level_is_ci_and_conf_still_works_with_a_warning():
    import inspect

    for name in ("callaway_santanna", "sun_abraham", "rollout_att", "rollout_sun_abraham", "randomization_test"):
        params = inspect.signature(getattr(did, name)).parameters
        assert params["inference"].default.ci == 0.95 and not {"ci", "conf", "seed"} & set(params), name
    visits, centers = _toy()
    new = did.rollout_att(visits, centers, "ltr", inference=did.Inference(ci=0.8)).record()
    with pytest.warns(DeprecationWarning, match=r"rollout_att\(conf=\.\.\.\) is deprecated: use inference=Inference"):
        old = did.rollout_att(visits, centers, "ltr", conf=0.8).record()
    with pytest.warns(DeprecationWarning, match=r"rollout_att\(ci=\.\.\.\) is deprecated: use inference=Inference"):
        assert did.rollout_att(visits, centers, "ltr", ci=0.8).record()["ci_low"] == new["ci_low"]
    assert (old["ci_low"], old["ci_high"]) == (new["ci_low"], new["ci_high"])
    wide = did.rollout_att(visits, centers, "ltr").record()
    assert wide["ci_low"] < new["ci_low"] < new["ci_high"] < wide["ci_high"]


def test_the_event_study_figure_draws_on_the_axes_given():
    from cxlib import plotting

    visits, centers = _toy()
    robust = did.rollout_att(visits, centers, "ltr")
    fig, (left, right) = plotting.subplots(nrows=1, ncols=2, figsize=(12, 4))
    assert did.plot_event_study(robust, models.event_study(visits, centers, "ltr"), lang="en", ax=left) is fig
    assert left.get_legend() is not None and len(left.get_legend().get_texts()) == 2
    assert did.plot_event_study(did.rollout_att(visits.loc[visits["center"] == "A"], centers), ax=right) is fig
    assert right.texts and not right.axison
    alone = did.plot_event_study(robust, lang="en")
    assert len(alone.axes) == 1 and alone.get_size_inches().tolist() == [7.5, 4.2]
