"""The value of proactive progress updates: notebook 03's measured effects (complaint rate ratio, LTR
slope) carried through retention and referrals to money."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from cxlib.catalog import Lang, bilingual
from cxlib.errors import DataError, require_columns
from cxlib.estimation import Options, former_keywords
from cxlib.roi.cases import Case, JointNormal, Quantity, is_number
from cxlib.roi.labels import UPDATE_SOURCES, pair, text
from cxlib.roi.valuation import evaluate
from cxlib.roi.value import DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_YEARS, DEFAULT_VISITS_PER_YEAR, Assumptions

_UPDATE_DEFAULTS = {
    "complaint_rate_ratio_per_update": {"estimate": 0.85, "ci_low": 0.75, "ci_high": 0.95},
    "ltr_slope_per_update": {"estimate": 0.30, "ci_low": 0.15, "ci_high": 0.45},
}


def _effect_input(arg: Any, key: str, results: Mapping[str, Any]) -> tuple[dict[str, float], str]:
    if arg is not None:
        if is_number(arg):
            return {"estimate": float(arg), "ci_low": float(arg), "ci_high": float(arg)}, "argument"
        src = "argument"
        raw = arg
    elif key in results and results[key] is not None:
        src, raw = "results.json", results[key]
    else:
        return dict(_UPDATE_DEFAULTS[key]), "default"
    if not isinstance(raw, Mapping) or not all(is_number(raw.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        raise DataError(f"{key} needs numeric estimate, ci_low and ci_high, got {raw!r}", column=key)
    out = {k: float(raw[k]) for k in ("estimate", "ci_low", "ci_high")}
    if not out["ci_low"] <= out["estimate"] <= out["ci_high"]:
        raise DataError(f"{key}: need ci_low ≤ estimate ≤ ci_high, got {out}", column=key)
    return out, src


#: the two-sided level of the recorded effect intervals (notebook 03 records 95 % intervals)
EFFECT_CI_LEVEL = 0.95
#: Why the two update effects are drawn independently unless a correlation is given.
INDEPENDENCE_NOTE = (
    "The LTR slope (OLS) and the complaint rate ratio (negative binomial or Poisson) come from "
    "separate models fitted on the same visits; no joint covariance of the two estimates is "
    "recorded, so they are drawn independently (correlation 0)."
)


def effect_sampling(
    key: str, entry: Mapping[str, float], *, ci: float = EFFECT_CI_LEVEL, level: float | None = None
) -> dict[str, Any]:
    """The normal sampling distribution of one measured update effect on its model's scale.

    The complaint rate ratio is normal on the log scale (the model's coefficient), the LTR slope
    in LTR points. ``mean`` is the estimate on that scale; ``sd`` the standard error implied by
    the ``ci`` interval (its confidence level, as ``ci`` everywhere in cxlib; ``level`` is its
    former name, deprecated): ``(g(ci_high) − g(ci_low)) / (2 z)``, ``z`` the normal quantile, so
    the central ``ci`` of the draws is the recorded interval (for a t interval with G − 1 df
    this is the model's SE times t/z: the few-cluster width is kept). A point (``ci_low =
    ci_high``) has ``sd`` 0.

        >>> d = effect_sampling("ltr_slope_per_update", {"estimate": 0.3, "ci_low": 0.1, "ci_high": 0.5})
        >>> d["scale"], round(d["sd"], 4)
        ('LTR points', 0.102)
    """
    if key not in UPDATE_EFFECT_KEYS:
        raise DataError(f"unknown update effect {key!r}: one of {', '.join(UPDATE_EFFECT_KEYS)}", column=key)
    if level is not None:
        warnings.warn("effect_sampling(level=...) is deprecated: use ci=...", DeprecationWarning, stacklevel=2)
        ci = level
    if not 0 < ci < 1:
        raise DataError(f"ci must lie between 0 and 1, got {ci!r}", column="ci")
    est, lo, hi = (float(entry[k]) for k in ("estimate", "ci_low", "ci_high"))
    if key == "complaint_rate_ratio_per_update":
        if lo <= 0:
            raise DataError("complaint rate ratio must be > 0", column=key)
    scale = "log rate ratio" if key == "complaint_rate_ratio_per_update" else "LTR points"
    g: Callable[[float], float] = math.log if key == "complaint_rate_ratio_per_update" else float
    z = NormalDist().inv_cdf(0.5 + ci / 2)
    return {"scale": scale, "mean": g(est), "sd": (g(hi) - g(lo)) / (2 * z)}


@dataclass(frozen=True)
class UpdateProgramme(Options):
    """The programme of proactive updates :func:`update_program_value` values: ``extra_updates``
    more updates per visit, on ``visits_per_year`` visits, at ``cost_per_update`` (CNY) each and
    ``one_off_cost`` once (setting it up).

        >>> UpdateProgramme(visits_per_year=1200).extra_updates
        2.0
    """

    extra_updates: float = 2.0
    visits_per_year: float = DEFAULT_VISITS_PER_YEAR
    cost_per_update: float = 0.5
    one_off_cost: float = 0.0


@former_keywords(programme=UpdateProgramme)
def update_program_value(
    *,
    rate_ratio_per_update: float | Mapping[str, float] | None = None,
    ltr_slope_per_update: float | Mapping[str, float] | None = None,
    results_path: str | os.PathLike[str] | None = None,
    programme: UpdateProgramme = UpdateProgramme(),
    assumptions: Assumptions | None = None,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    correlation: float | None = None,
) -> dict[str, Any]:
    """Money value of sending ``programme.extra_updates`` more proactive updates per visit
    (:class:`UpdateProgramme`: how many, on how many visits a year, at what cost).

    Effects per update come from the argument, else from ``results_path`` (keys
    ``complaint_rate_ratio_per_update`` and ``ltr_slope_per_update``, each
    ``{estimate, ci_low, ci_high}``, recorded by notebook 03; a folder means its ``results.json``),
    else from documented defaults.
    Two channels, kept apart so nothing is counted twice:

    * complaints → retention: ``retention_gain = complaint_rate · (1 − RR^n) ·
      (retention_great − retention_bad)`` (an avoided complaint turns a bad experience into a great one);
    * LTR → referrals: ``referral_gain = slope · n · referral_per_ltr_point``.

    :func:`simulate` draws the two effects from their estimated sampling distribution
    (:func:`effect_sampling`: normal on the log rate ratio and on LTR points, SEs implied by the
    95 % intervals) and carries each draw through the two channels (the case's ``sampling``).
    ``correlation`` is that of the two estimates on these scales, when a joint fit gives it; by
    default they are drawn independently (:data:`INDEPENDENCE_NOTE`). The CI bounds remain the
    ``{low, high}`` of the case's ranges (the estimate its mode) for :func:`tornado` and the
    inputs table. Returns ``{"case", "evaluation", "inputs", "source"}``; ``inputs["sampling"]``
    holds the two normals, the correlation and its note; ``source`` says per key where the
    effect came from (``argument`` / ``results.json`` / ``default``).

        >>> update_program_value(results_path="data/processed/results.json")["source"]   # doctest: +SKIP
    """
    from cxlib import results as _results

    a = assumptions or Assumptions()
    rp = Path(results_path) if results_path else None
    if rp is not None and rp.is_dir():
        rp = rp / "results.json"  # a processed-data folder
    res = _results.read(rp) if rp is not None else {}
    rr, rr_src = _effect_input(rate_ratio_per_update, "complaint_rate_ratio_per_update", res)
    slope, slope_src = _effect_input(ltr_slope_per_update, "ltr_slope_per_update", res)
    if rr["ci_low"] <= 0:
        raise DataError("complaint rate ratio must be > 0", column="complaint_rate_ratio_per_update")
    extra_updates, visits_per_year = programme.extra_updates, programme.visits_per_year
    cost_per_update, one_off_cost = programme.cost_per_update, programme.one_off_cost
    n = float(extra_updates)

    def ret_gain(ratio: float) -> float:
        return a.complaint_rate * (1 - ratio**n) * (a.retention_great - a.retention_bad)

    def ref_gain(s: float) -> float:
        return s * n * a.referral_per_ltr_point

    ret = Quantity(*sorted((ret_gain(rr["ci_high"]), ret_gain(rr["estimate"]), ret_gain(rr["ci_low"]))))
    ref = Quantity(*sorted((ref_gain(slope["ci_low"]), ref_gain(slope["estimate"]), ref_gain(slope["ci_high"]))))
    ref = Quantity(*(min(max(x, -1.0), 1.0) for x in (ref.low, ref.mode, ref.high)))
    d_rr = effect_sampling("complaint_rate_ratio_per_update", rr)
    d_slope = effect_sampling("ltr_slope_per_update", slope)
    if correlation is None:
        rho, rho_note = 0.0, INDEPENDENCE_NOTE
    elif is_number(correlation) and -1 <= float(correlation) <= 1:
        rho, rho_note = float(correlation), "Correlation of the two estimates as given."
    else:
        raise DataError(f"correlation must be a number from -1 to 1, got {correlation!r}", column="correlation")
    cov = rho * d_rr["sd"] * d_slope["sd"]
    sampling = JointNormal(
        names=("log_complaint_rate_ratio_per_update", "ltr_slope_per_update"),
        mean=(d_rr["mean"], d_slope["mean"]),
        cov=((d_rr["sd"] ** 2, cov), (cov, d_slope["sd"] ** 2)),
        inputs={
            "retention_gain": lambda z: (
                a.complaint_rate * (1 - np.exp(n * z[:, 0])) * (a.retention_great - a.retention_bad)
            ),
            "referral_gain": lambda z: np.clip(z[:, 1] * n * a.referral_per_ltr_point, -1.0, 1.0),
        },
        note=rho_note,
    )
    case = Case(
        id="proactive_updates",
        name_zh=pair("proactive_updates")[0],
        name_en=pair("proactive_updates")[1],
        one_off_cost=Quantity.fixed(one_off_cost),
        cost_per_customer=Quantity.fixed(cost_per_update * n),
        reach=Quantity.fixed(visits_per_year),
        effects={"retention_gain": ret, "referral_gain": ref},
        provenance=f"Complaint rate ratio per update from {rr_src}; LTR slope per update from {slope_src}.",
        sampling=sampling,
    )
    ev = evaluate(case, assumptions=a, horizon_years=horizon_years, discount_rate=discount_rate)
    return {
        "case": case,
        "evaluation": ev,
        "inputs": {
            "complaint_rate_ratio_per_update": rr,
            "ltr_slope_per_update": slope,
            "extra_updates": n,
            "retention_gain": ret.mode,
            "referral_gain": ref.mode,
            "sampling": {
                "complaint_rate_ratio_per_update": d_rr,
                "ltr_slope_per_update": d_slope,
                "correlation": rho,
                "note": rho_note,
            },
        },
        "source": {"complaint_rate_ratio_per_update": rr_src, "ltr_slope_per_update": slope_src},
    }


# ============================================================= the reader's visit volume


# --------------------------------------------------------------- measured update effects
UPDATE_EFFECT_KEYS: tuple[str, str] = ("complaint_rate_ratio_per_update", "ltr_slope_per_update")


def _scope(scope: Mapping[str, Any] | None) -> dict[str, str | None] | None:
    if not isinstance(scope, Mapping):
        return None
    out = {k: (None if scope.get(k) is None else str(scope.get(k))) for k in ("center", "period_start", "period_end")}
    out["scenario"] = str(scope.get("scenario") or "all")  # a scope recorded without one covers every scenario
    return out


def _usable_effect(raw: Any) -> dict[str, float] | None:
    if not isinstance(raw, Mapping) or not all(is_number(raw.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        return None
    out = {k: float(raw[k]) for k in ("estimate", "ci_low", "ci_high")}
    return out if out["ci_low"] <= out["estimate"] <= out["ci_high"] else None


def measured_update_effects(
    results_file: str | os.PathLike[str] | Mapping[str, Any] | None,
    scope: Mapping[str, Any],
    visits: pd.DataFrame | None = None,
    *,
    estimator: Any = None,
) -> dict[str, Any]:
    """The complaint rate ratio and the LTR slope per proactive update, and where each came from.

    For each of :data:`UPDATE_EFFECT_KEYS`, in this order:

    1. ``"results.json"``: the value notebook 03 recorded in ``results_file`` (a path or the
       already-read mapping), **only if** the file's ``scope`` (or a ``scope`` stored in the
       entry itself) equals ``scope`` = ``{center, period_start, period_end, scenario}`` (a missing scenario is ``all``);
    2. ``"computed"``: ``estimator(visits)`` (the function notebook 03 uses, returning
       ``{key: {estimate, ci_low, ci_high, …}}``), rounded as ``results.json`` stores numbers so
       that both routes give the same figures;
    3. ``"default"``: the documented defaults (rate ratio 0.85 [0.75, 0.95], slope 0.30 [0.15, 0.45]),
       when the other routes give nothing usable (not recorded, different scope, not fitted).

    Read the results file *before* the notebook records its own scope. Returns
    ``{key: {estimate, ci_low, ci_high}, "source": {key: label}, "note": {key: text}}``; the note
    says why a default was used (the model's own reason, e.g. too few centers), "" otherwise.

        >>> measured_update_effects({}, {"center": "all"})["source"]["ltr_slope_per_update"]
        'default'
    """
    from cxlib import results as _results

    if results_file is None or results_file == "":
        res: Mapping[str, Any] = {}
    elif isinstance(results_file, Mapping):
        res = results_file
    else:
        res = _results.read(results_file)
    want = _scope(scope)
    if want is None:
        raise DataError("scope must be a mapping {center, period_start, period_end}", column="scope")
    file_scope = _scope(res.get("scope"))
    computed: Mapping[str, Any] | None = None
    out: dict[str, Any] = {"source": {}, "note": {}}
    for key in UPDATE_EFFECT_KEYS:
        entry = res.get(key)
        entry_scope = _scope(entry.get("scope")) if isinstance(entry, Mapping) else None
        same = (entry_scope or file_scope) == want
        value = _usable_effect(entry) if same else None
        if value is not None:
            out[key], out["source"][key], out["note"][key] = value, "results.json", ""
            continue
        why = ""
        if same and isinstance(entry, Mapping) and (entry.get("note") or entry.get("reason")):
            why = str(entry.get("note") or entry["reason"])  # a model's note, or why it was not computed
        if estimator is not None and visits is not None:
            if computed is None:
                computed = estimator(visits)
                if not isinstance(computed, Mapping):
                    raise DataError(
                        f"the estimator must return a mapping of {', '.join(UPDATE_EFFECT_KEYS)}", column=key
                    )
            value = _usable_effect(_results.jsonable(computed.get(key)))
            if value is not None:
                out[key], out["source"][key], out["note"][key] = value, "computed", ""
                continue
            c = computed.get(key)
            why = (
                str(c.get("note") or c.get("reason"))
                if isinstance(c, Mapping) and (c.get("note") or c.get("reason"))
                else "no usable estimate"
            )
        elif not why:
            why = "not measured for this scope (no recorded result, no data to compute it from)"
        out[key], out["source"][key] = dict(_UPDATE_DEFAULTS[key]), "default"
        out["note"][key] = why
    return out


def update_effects_table(measured: Mapping[str, Any], *, lang: Lang = "both") -> pd.DataFrame:
    """The update effects of :func:`measured_update_effects` as a table: effect, estimate, CI, the
    sampling distribution the Monte Carlo draws it from (:func:`effect_sampling`), source, note.

        >>> float(update_effects_table(measured_update_effects({}, {"center": "all"}), lang="en").iloc[0]["Estimate"])
        0.85
    """
    rows = []
    for key in UPDATE_EFFECT_KEYS:
        if key not in measured or key not in measured.get("source", {}):
            raise DataError(f"measured effects lack {key!r}: pass the result of measured_update_effects", column=key)
        v, src = measured[key], measured["source"][key]
        zh_s, en_s = UPDATE_SOURCES.get(src, (src, src))
        d = effect_sampling(key, v)
        zh_d, en_d = pair("normal_log_rate_ratio" if d["scale"] == "log rate ratio" else "normal_ltr_points")
        rows.append(
            {
                text("effect", lang=lang, en_first=True): text(key, lang=lang, en_first=True),
                text("estimate", lang=lang, en_first=True): round(v["estimate"], 3),
                text("ci_low", lang=lang, en_first=True): round(v["ci_low"], 3),
                text("ci_high", lang=lang, en_first=True): round(v["ci_high"], 3),
                text("drawn_as", lang=lang, en_first=True): bilingual(
                    f"{zh_d} {d['sd']:.3f}", f"{en_d} {d['sd']:.3f}", lang=lang, sep=" / ", en_first=True
                ),
                text("source", lang=lang, en_first=True): bilingual(zh_s, en_s, lang=lang, sep=" / ", en_first=True),
                text("note", lang=lang, en_first=True): str(measured.get("note", {}).get(key, "")),
            }
        )
    return pd.DataFrame(rows)


def update_program_record(summary: pd.DataFrame, measured: Mapping[str, Any]) -> dict[str, Any]:
    """The ``update_program`` entry of ``results.json``: ``{npv, roi, source}`` (mean NPV, median
    ROI of the program's Monte Carlo; ``source`` one label of :data:`UPDATE_SOURCES` when both
    effects share it, else ``"key: label; key: label"``).

        >>> update_program_record(pd.DataFrame({"id": ["p"], "npv_mean": [1e5], "roi_p50": [3.0]}),
        ...     {"source": {"complaint_rate_ratio_per_update": "default", "ltr_slope_per_update": "default"}})
        {'npv': 100000.0, 'roi': 3.0, 'source': 'default'}
    """
    require_columns(summary, ["npv_mean", "roi_p50"], "summary")
    if len(summary) != 1:
        raise DataError(f"need the summary of one program, got {len(summary)} rows", column="id")
    src = dict(measured.get("source", {}))
    labels = sorted(set(src.values()))
    source = labels[0] if len(labels) == 1 else "; ".join(f"{k}: {src[k]}" for k in UPDATE_EFFECT_KEYS if k in src)

    def num(v: Any) -> float | None:
        v = float(v)
        return v if math.isfinite(v) else None

    r = summary.iloc[0]
    return {"npv": num(r["npv_mean"]), "roi": num(r["roi_p50"]), "source": source}


def observed_complaint_rate(visits: pd.DataFrame, complaints: str = "n_complaints") -> float:
    """Share of visits with at least one complaint (the baseline of the update program's value).

    >>> observed_complaint_rate(pd.DataFrame({"n_complaints": [0, 2, 0, 0]}))
    0.25
    """
    if complaints not in visits.columns:
        raise DataError(f"visits lack column {complaints!r}", column=complaints)
    x = pd.to_numeric(visits[complaints]).dropna()
    if len(x) == 0:
        raise DataError("no visits with a complaint count: cannot compute the complaint rate", column=complaints)
    return float((x > 0).mean())
