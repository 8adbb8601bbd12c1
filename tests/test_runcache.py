"""The aggregations a report run shares between its notebooks: computed once, handed back
equal, keyed by data and selection, and only inside a report run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlib import nps, runcache

ROOT = Path(__file__).resolve().parents[1]


class _Data:
    def __init__(self, fp: str | None) -> None:
        self.quality = {"fingerprint": fp}


@pytest.fixture()
def run_cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / ".cx-cache"
    monkeypatch.setenv(runcache.ENV, str(folder))
    return folder


def _visits() -> pd.DataFrame:
    return pd.DataFrame(
        {"month": ["2026-09"] * 40 + ["2026-10"] * 40, "ltr": [10, 9, 3, 7] * 20, "center": ["A", "B"] * 40}
    )


def test_a_later_notebook_gets_the_value_computed_first(run_cache):
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return nps.by_segment(_visits(), "month")

    key = runcache.selection(_Data("fp1"), "all")
    first = runcache.cached("nps_by_segment", compute, by="month", **key)
    again = runcache.cached("nps_by_segment", compute, by="month", **key)
    assert len(calls) == 1 and len(list(run_cache.glob("nps_by_segment-*.pkl"))) == 1
    pd.testing.assert_frame_equal(again, first)
    pd.testing.assert_frame_equal(again, nps.by_segment(_visits(), "month"))


def test_other_data_selection_or_arguments_are_computed_anew(run_cache):
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    base = runcache.selection(_Data("fp1"), "all")
    runcache.cached("x", compute, **base)
    runcache.cached("x", compute, **runcache.selection(_Data("fp2"), "all"))  # other data
    runcache.cached("x", compute, **runcache.selection(_Data("fp1"), "SH-JQ"))  # other center
    runcache.cached("x", compute, **runcache.selection(_Data("fp1"), "all", period_start="2026-10"))  # other period
    runcache.cached("x", compute, by="center", **base)  # other argument
    runcache.cached("y", compute, **base)  # other computation
    assert len(calls) == 6


def test_without_a_run_cache_or_a_fingerprint_it_computes(tmp_path, monkeypatch):
    monkeypatch.delenv(runcache.ENV, raising=False)
    calls = []
    for _ in range(2):
        runcache.cached("x", lambda: calls.append(1), **runcache.selection(_Data("fp"), "all"))
    monkeypatch.setenv(runcache.ENV, str(tmp_path / "c"))
    for _ in range(2):
        runcache.cached("x", lambda: calls.append(1), **runcache.selection(_Data(None), "all"))
    assert len(calls) == 4 and not (tmp_path / "c").exists()


def test_an_unreadable_entry_is_computed_again(run_cache):
    key = runcache.selection(_Data("fp"), "all")
    runcache.cached("x", lambda: 1, **key)
    next(run_cache.glob("x-*.pkl")).write_bytes(b"not a pickle")
    assert runcache.cached("x", lambda: 2, **key) == 2


def test_the_summary_asks_for_what_notebooks_02_and_03_stored():
    """Notebook 05 reads the emotion curve, NPS by segment and month, the tier table and the
    previous-period change under the names and keys notebooks 02 and 03 store them."""
    import nbformat

    def calls(name: str) -> str:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        return "\n".join(c.source for c in nb.cells if c.cell_type == "code")

    earlier, summary = calls("02_emotion_curves") + calls("03_nps_proactive_updates"), calls("05_summary")
    for name in ("emotion_curve", "nps_by_segment", "tier_table", "tier_contrast", "previous_change"):
        assert f'runcache.cached("{name}"' in earlier and f'runcache.cached("{name}"' in summary
    assert (
        summary.count(
            "run_key = runcache.selection(data, center, period_start=period_start, period_end=period_end, scenario=scenario)"
        )
        == 1
    )


# ---------------------------------------------------------------------------- cxlib.selection
@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    from cxlib import clean

    out = tmp_path_factory.mktemp("processed")
    clean.clean(ROOT / "data" / "raw", out)
    return clean.load(out)


def test_select_is_subset_and_the_data_themselves_for_everything(sample_data):
    from cxlib import selection

    assert selection.select(sample_data) is sample_data
    whole = sample_data.subset()
    for t in ("visits", "scores", "events", "surveys", "complaints", "centers"):
        pd.testing.assert_frame_equal(getattr(selection.select(sample_data), t), getattr(whole, t))
    one = selection.select(sample_data, center="SH-JQ", period_start="2026-10", period_end="2026-10")
    ref = sample_data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10")
    for t in ("visits", "scores", "events", "surveys", "complaints", "centers"):
        pd.testing.assert_frame_equal(getattr(one, t), getattr(ref, t))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"center": "SH-JQ"},
        {"period_end": "2026-08"},
        {"center": "BJ-CY", "period_start": "2026-09", "period_end": "2026-10", "scenario": "repair"},
    ],
)
def test_visits_of_a_selection_are_subsets_visits(sample_data, kw):
    from cxlib import selection

    pd.testing.assert_frame_equal(selection.visits_of(sample_data, **kw), sample_data.subset(**kw).visits)


def test_previous_change_is_unchanged_by_filtering_only_the_visits(sample_data):
    from cxlib import selection

    got = nps.previous_change(sample_data, center="SH-JQ", period_start="2026-10", period_end="2026-10")
    now = sample_data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10").visits["ltr"]
    before = sample_data.subset(center="SH-JQ", period_start="2026-09", period_end="2026-09").visits["ltr"]
    ref = nps.nps_test(
        pd.to_numeric(now, errors="coerce").dropna().to_numpy(),
        pd.to_numeric(before, errors="coerce").dropna().to_numpy(),
    )
    for k in ("nps_a", "nps_b", "difference", "ci_low", "ci_high", "p_value", "n_a", "n_b"):
        assert got[k] == pytest.approx(ref[k], rel=1e-12)
    assert got["now"] == "2026-10" and got["before"] == "2026-09"
    assert selection.everything() and not selection.everything(scenario="repair")
