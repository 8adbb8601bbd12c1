"""What an intervention is worth: customer value, revenue at risk, ROI cases with their
uncertainty, and the budget portfolio.

The flow of notebook 04:

1. :class:`Assumptions` holds the benchmark figures (retention, repurchase and referral for a
   great vs a bad experience, spend, margin), each with its provenance; override any of them.
2. :func:`load_cases` reads the intervention cases (``data/raw/cases_interventions.yaml``,
   schema in ``docs/roi-cases.md``): every numeric input is a ``{low, mode, high}`` range.
3. :func:`seed_point_roi` reproduces each case's original point claim by its own arithmetic;
   :func:`evaluate` / :func:`cases_table` give NPV, ROI and payback at the modes;
   :func:`simulate` + :func:`roi_summary` propagate the ranges (Monte Carlo);
   :func:`tornado` ranks the inputs by their swing in NPV.
4. :func:`best_portfolio` picks the best set of cases within a budget (exact 0/1 knapsack with
   mutually exclusive groups and combination cases).
5. :func:`update_program_value` carries the effect of proactive progress updates measured in
   notebook 03 (complaint rate ratio, LTR slope) through retention and referrals to money.

Formulas (also in ``docs/roi-cases.md``)
----------------------------------------
* ``lifetime_value = Σ_{t=1..H} spend · margin · retention^(t−1) / (1+r)^t``
* ``revenue_at_risk = ltv + referrals · value_per_referral``
* Cash flows are monthly over ``horizon_years``: the one-off cost at month 0, then each month
  one twelfth of the year's gain minus the year's running cost (``yearly_cost +
  cost_per_customer · reach``). The year-``j`` gain is
  ``margin · yearly_spend · (active_j + reach · spend_gain)`` where the program's extra active
  customers are ``active_j = won · S(j) + kept · S(j−1)``, ``S(k) = Σ_{i<k} r^i`` with ``r`` the
  retention of a customer with a great experience, ``won = extra_customers + reach ·
  referral_gain · new_customers_per_referrer`` (new customers a year) and ``kept = reach ·
  retention_gain`` (customers a year who return the next year instead of leaving).
* ``NPV = Σ_m CF_m / (1+d)^(m/12)``; ``ROI = NPV / PV(costs)``; payback = the month (linear
  within the month) from which the undiscounted cumulative cash flow is ≥ 0 until the end of
  the horizon; 0 if it is never negative, ``inf`` if it is still negative at the end.

Example
-------
>>> from cxlib import roi
>>> roi.revenue_at_risk(15_000, referrals=3, value_per_referral=15_000)
60000.0
>>> from cxlib import paths
>>> cases = roi.load_cases(paths.SAMPLE_CASES)                       # the sample's cases file
>>> roi.best_portfolio(roi.cases_table(cases), budget=50_000)["id"].tolist()
['push_plus_checkins', 'farewell_level1']

The package, one module per step (``from cxlib import roi; roi.X`` works for every public name):

========================  ================================================================
``roi.value``             benchmark assumptions, lifetime value, revenue at risk
``roi.cases``             the cases file: uncertain inputs, :class:`Case`, reading, validation
``roi.valuation``         cash flows, NPV / ROI / payback at the modes, seed claims, tornado
``roi.montecarlo``        the ranges propagated by Monte Carlo, summaries, claims re-examined
``roi.portfolio``         the best set of cases within a budget
``roi.updates``           the value of proactive updates from notebook 03's effects
``roi.volume``            the visit volume a scope's ROI rests on, its note
``roi.tables``            the tables and sentences of notebook 04
``roi.figures``           the figures of notebook 04
``roi.labels``            every bilingual label of the ROI pages
========================  ================================================================
"""

from __future__ import annotations

from cxlib.roi.cases import (
    CASES_FILE,
    COST_FIELDS,
    INPUTS,
    MONETARY_INPUTS,
    Case,
    Distribution,
    JointNormal,
    Quantity,
    cases_path,
    for_center,
    get_case,
    input_label,
    load_cases,
    parse_cases,
)
from cxlib.roi.figures import plot_roi_distribution, plot_tornado
from cxlib.roi.labels import EFFECTS
from cxlib.roi.montecarlo import claims_table, roi_summary, simulate
from cxlib.roi.portfolio import best_portfolio
from cxlib.roi.tables import (
    case_results_table,
    claims_review_table,
    customer_value_table,
    inputs_table,
    portfolio_sentence,
    portfolio_table,
    roi_record,
    seed_claims_table,
    tornado_sentence,
)
from cxlib.roi.updates import (
    EFFECT_CI_LEVEL,
    INDEPENDENCE_NOTE,
    UPDATE_EFFECT_KEYS,
    UpdateProgramme,
    effect_sampling,
    measured_update_effects,
    observed_complaint_rate,
    update_effects_table,
    update_program_record,
    update_program_value,
)
from cxlib.roi.valuation import attribution_note, cases_table, cash_flows, evaluate, seed_point_roi, tornado
from cxlib.roi.value import (
    DEFAULT_DISCOUNT_RATE,
    DEFAULT_HORIZON_YEARS,
    DEFAULT_VISITS_PER_YEAR,
    Assumptions,
    experience_table,
    lifetime_value,
    revenue_at_risk,
)
from cxlib.roi.volume import ScopeNote, VisitVolume, WithNote, scope_assumptions, scope_note, with_note, yearly_visits

__all__ = [
    "Assumptions",
    "CASES_FILE",
    "COST_FIELDS",
    "Case",
    "DEFAULT_DISCOUNT_RATE",
    "DEFAULT_HORIZON_YEARS",
    "DEFAULT_VISITS_PER_YEAR",
    "Distribution",
    "EFFECTS",
    "EFFECT_CI_LEVEL",
    "INDEPENDENCE_NOTE",
    "INPUTS",
    "JointNormal",
    "MONETARY_INPUTS",
    "Quantity",
    "ScopeNote",
    "UPDATE_EFFECT_KEYS",
    "VisitVolume",
    "WithNote",
    "attribution_note",
    "best_portfolio",
    "case_results_table",
    "cases_path",
    "cases_table",
    "cash_flows",
    "claims_review_table",
    "claims_table",
    "customer_value_table",
    "effect_sampling",
    "evaluate",
    "experience_table",
    "for_center",
    "get_case",
    "input_label",
    "inputs_table",
    "lifetime_value",
    "load_cases",
    "measured_update_effects",
    "observed_complaint_rate",
    "parse_cases",
    "plot_roi_distribution",
    "plot_tornado",
    "portfolio_sentence",
    "portfolio_table",
    "revenue_at_risk",
    "roi_record",
    "roi_summary",
    "scope_assumptions",
    "scope_note",
    "seed_claims_table",
    "seed_point_roi",
    "simulate",
    "tornado",
    "tornado_sentence",
    "update_effects_table",
    "update_program_record",
    "UpdateProgramme",
    "update_program_value",
    "with_note",
    "yearly_visits",
]
