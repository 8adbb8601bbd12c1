"""Small selections and surveys without touchpoint scores: a method the data cannot carry
returns a note that states n and the minimum (``results.NotComputed``), never a number and
never an error on the report's path; the strict default for an analyst stays an error."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import SURVEYS, write_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import catalog, clean, journey, results
from cxlib.drivers import Bootstrap, bootstrap_relative_weights, relative_weights
from cxlib.errors import DataError
from cxlib.estimation import Inference
from cxlib.peak_end import peak_end_models


def long_scores(
    n: int, points: tuple[str, ...] = ("waiting", "notification", "departure"), seed: int = 1
) -> pd.DataFrame:
    """``n`` responses scoring ``points``, LTR related to their mean."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        s = rng.integers(1, 11, len(points))
        ltr = int(np.clip(round(s.mean() + rng.normal(0, 1)), 0, 10))
        rows += [
            {"response_id": f"R{i:03d}", "visit_id": f"V{i:03d}", "point": p, "score": int(v), "ltr": ltr}
            for p, v in zip(points, s)
        ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- the note and its marker
def test_not_computed_says_n_and_the_minimum_in_each_language_and_as_a_marker(tmp_path):
    note = results.too_few(14, 20, ("峰终模型的 10 折交叉验证", "10-fold cross-validation of the peak-end models"))
    assert note.in_lang("en").text() == (
        "n = 14 complete responses: too few for 10-fold cross-validation of the peak-end models, need ≥ 20"
    )
    assert note.in_lang("zh").text() == "样本不足：n = 14 份完整答卷，峰终模型的 10 折交叉验证至少需要 20"
    assert note.text() == f"{note.in_lang('zh').text()} / {note.in_lang('en').text()}"
    assert "cx-not-computed" in note._repr_html_() and bool(note)
    path = tmp_path / "results.json"
    results.record("peak_end", note, path)
    assert json.loads(path.read_text(encoding="utf-8"))["peak_end"] == {
        "computed": False,
        "n": 14,
        "need": 20,
        "reason": "n = 14 complete responses: too few for 10-fold cross-validation of the peak-end models, need ≥ 20",
    }


def test_unavailable_picks_the_first_note_in_the_asked_language():
    nc, np_ = results.too_few(3, 5, ("x", "x")), results.not_provided("scores")
    assert results.unavailable(pd.DataFrame(), None) is None
    assert results.unavailable("table", nc, np_, lang="en") == nc.in_lang("en")
    assert results.unavailable(np_, lang="en").text() == "not provided: touchpoint scores (scores)"


# ---------------------------------------------------------------------- the methods
def test_relative_weights_too_few_rows_a_constant_and_collinear_points():
    wide = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [1.0, 3.0, 2.0], "b": [2.0, 2.0, 5.0]})
    with pytest.raises(DataError, match="complete rows"):
        relative_weights(wide, "y", ["a", "b"])
    note = relative_weights(wide, "y", ["a", "b"], strict=False)
    assert (note.n, note.need) == (3, 4)
    assert note.in_lang("en").text() == (
        "n = 3 complete responses: too few for key drivers (relative weights) of 2 predictors, need ≥ 4"
    )
    const = pd.DataFrame({"y": [5.0] * 6, "a": [1.0, 2, 3, 4, 5, 6]})
    assert relative_weights(const, "y", ["a"], strict=False).in_lang("en").text() == (
        "n = 6 complete responses: key drivers (relative weights) not computed: y is the same in every response"
    )
    twin = pd.DataFrame({"y": [1.0, 3, 2, 5, 4, 6], "a": [1.0, 2, 3, 4, 5, 6]}).assign(b=lambda d: 2 * d["a"])
    assert "collinear" in relative_weights(twin, "y", ["a", "b"], strict=False).in_lang("en").text()
    # bad arguments stay errors on either path
    with pytest.raises(DataError, match="also listed"):
        relative_weights(wide, "y", ["y"], strict=False)
    with pytest.raises(DataError, match="n_boot"):
        bootstrap_relative_weights(wide, "y", ["a"], bootstrap=Bootstrap(n_boot=5), strict=False)


def test_bootstrap_with_too_few_fitted_resamples_is_a_note():
    # five rows, three points: most resamples repeat rows until the correlation matrix is singular
    wide = pd.DataFrame(
        {"y": [1.0, 2, 3, 5, 4], "a": [1.0, 3, 2, 4, 2], "b": [4.0, 1, 2, 2, 5], "c": [2.0, 2, 5, 1, 3]}
    )
    with pytest.raises(DataError, match="resamples"):
        bootstrap_relative_weights(wide, "y", ["a", "b", "c"], bootstrap=Bootstrap(n_boot=200, seed=3))
    note = bootstrap_relative_weights(wide, "y", ["a", "b", "c"], bootstrap=Bootstrap(n_boot=200, seed=3), strict=False)
    assert isinstance(note, results.NotComputed) and note.n == 5
    assert "resamples could be fitted (need half)" in note.in_lang("en").text()


def test_peak_end_models_below_twice_the_folds():
    d = pd.DataFrame({"mean": np.arange(14.0), "ltr": np.arange(14.0) % 11})
    with pytest.raises(DataError, match="too few"):
        peak_end_models(d, models=["mean"])
    note = peak_end_models(d, models=["mean"], strict=False)
    assert (note.n, note.need) == (14, 20)
    assert peak_end_models(d, models=["mean"], folds=5, strict=False, inference=Inference(reps=20))["n"].iloc[0] == 14
    flat = pd.DataFrame({"mean": np.arange(30.0), "ltr": [7.0] * 30})
    assert (
        peak_end_models(flat, models=["mean"], strict=False)
        .in_lang("en")
        .text()
        .endswith("not computed: ltr is the same in every response")
    )
    with pytest.raises(DataError, match="at least 2 folds"):
        peak_end_models(d, models=["mean"], folds=1, strict=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 10_000))
def test_the_report_path_never_raises_and_never_gives_a_number_below_the_minimum(n, seed):
    """Any number of responses: the key drivers, their bootstrap, the pain points and the
    peak-end models of ``strict=False`` are a table when the data carry them, else a note whose
    n is the number of complete responses and below its need."""
    scores = long_scores(n, seed=seed)
    if n == 0:
        scores = scores.reindex(columns=["response_id", "visit_id", "point", "score", "ltr"])
    for out in (
        journey.key_drivers(scores, strict=False),
        journey.key_drivers(scores, n_boot=50, seed=1, strict=False),
        journey.pain_points(scores, strict=False),
    ):
        if isinstance(out, results.NotComputed):
            assert out.n <= n and (out.need is None or out.n < out.need)
        else:
            assert n >= 5 and out["n"].max() <= n
    if n:
        pe = journey.peak_end_models(journey.peak_end_summary(scores), strict=False, n_boot=20)
        if n < 20:
            assert isinstance(pe, results.NotComputed) and (pe.n, pe.need) == (n, 20)
        elif not isinstance(pe, results.NotComputed):
            assert set(pe["n"]) == {n}


def test_pain_points_importance_and_entries_carry_the_note():
    scores = long_scores(4)
    drivers = journey.key_drivers(scores, strict=False)
    assert isinstance(drivers, results.NotComputed) and (drivers.n, drivers.need) == (4, 5)
    assert journey.pain_points(scores, weights=drivers) is drivers
    assert journey.pain_points(scores, strict=False) == drivers
    curve = journey.emotion_curve(scores)
    assert journey.importance_performance(curve, drivers) is drivers
    entries = results.jsonable(journey.results_entries(curve, drivers, results.not_provided("scores")))
    assert entries["emotion_curve"]["waiting"]["n"] == 4
    assert entries["pain_points"]["computed"] is False and entries["pain_points"]["n"] == 4
    assert entries["peak_end"] == {"provided": False, "missing": ["scores"]}


def test_black_hole_and_example_visit_without_repair_ends():
    visits = pd.DataFrame(
        {
            "visit_id": ["A", "B"],
            "longest_silence_minutes": [np.nan, np.nan],
            "ltr": [3, 9],
            "anxiety": [4.0, 2.0],
            "n_inquiries": [1, 0],
        }
    )
    note = journey.silence_effects(visits, strict=False)
    assert note.in_lang("en").text() == (
        "n = 0 visits with a known repair end: too few for the information black hole, need ≥ 1"
    )
    assert journey.silence_effects(visits)["n_visits"].sum() == 0  # the strict default: the empty bins
    with pytest.raises(DataError, match="no visit with a repair"):
        journey.example_visit(visits)
    assert isinstance(journey.example_visit(visits, strict=False), results.NotComputed)
    visits.loc[1, "longest_silence_minutes"] = 95.0
    assert journey.silence_effects(visits, strict=False)["n_visits"].sum() == 1
    assert journey.example_visit(visits, strict=False) == "B"


# ---------------------------------------------------------------------- scores given or not
def test_scores_unavailable_not_provided_or_none_in_the_selection():
    given_none = SimpleNamespace(given={"scores": False}, scores=long_scores(3))
    assert journey.scores_unavailable(given_none, lang="en").text() == "not provided: touchpoint scores (scores)"
    empty = SimpleNamespace(given={"scores": True}, scores=long_scores(3).iloc[:0])
    assert journey.scores_unavailable(empty, lang="en").text() == (
        "n = 0 touchpoint scores: too few for the touchpoint-score analyses, need ≥ 1"
    )
    assert journey.scores_unavailable(SimpleNamespace(given={}, scores=long_scores(3))) is None


def test_the_cleaning_records_which_journey_points_the_surveys_answer(tmp_path):
    only_ltr = SURVEYS.drop(columns=list(catalog.SCORE_COLUMNS))
    raw = write_raw(tmp_path / "raw", surveys=only_ltr)
    clean.clean(raw, tmp_path / "p")
    data = clean.read_processed(tmp_path / "p")
    assert data.quality["tables"]["surveys"]["score_columns"] == []
    assert data.given["scores"] is False and data.subset(center="SH-JQ").given["scores"] is False
    assert len(data.scores) == 0 and data.visits["ltr"].notna().all()

    some = SURVEYS.assign(**{c: None for c in catalog.SCORE_COLUMNS if c != "score_waiting"})
    clean.clean(write_raw(tmp_path / "raw2", surveys=some), tmp_path / "p2")
    data = clean.read_processed(tmp_path / "p2")
    assert data.quality["tables"]["surveys"]["score_columns"] == ["score_waiting"]
    assert data.given["scores"] is True

    # processed data of an older version (no score_columns): the scores table decides
    quality = json.loads((tmp_path / "p" / "quality.json").read_text(encoding="utf-8"))
    del quality["tables"]["surveys"]["score_columns"]
    assert clean.given_tables(quality)["scores"] is True
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "p", old)
    (old / "quality.json").write_text(json.dumps(quality), encoding="utf-8")
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"]["quality.json"] = (old / "quality.json").stat().st_size
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert clean.read_processed(old).given["scores"] is False


def test_the_report_index_shows_a_marker_as_no_pain_point():
    from cxlib import report

    assert (
        report.headline({"pain_points": {"provided": False, "missing": ["scores"]}})["top pain point"]
        == "not provided 未提供"
    )
    assert report.headline({"pain_points": results.too_few(4, 5, ("x", "x")).record()})["top pain point"] == "–"
    assert report.headline({"pain_points": [{"point": "waiting"}]})["top pain point"] == catalog.label("waiting")
