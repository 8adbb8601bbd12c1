"""Lazily read processed data: a subset pushed into the Parquet scan gives, table by table, the
frames the eager reading and ``subset`` give, reads fewer rows, and never mixes two builds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import clean, results, runcache, selection
from cxlib.clean import processed
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
TABLES = processed.OUTPUT_TABLES
SELECTIONS = [
    {"center": "SH-JQ", "period_start": "2026-10", "period_end": "2026-10"},
    {"center": "SH-JQ"},
    {"period_start": "2026-09", "period_end": "2026-09", "scenario": "维修"},
    {"period_start": "2026-07"},
    {"period_end": "2026-05", "scenario": "maintenance"},
    {"period_start": "2030-01"},  # no visit
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    clean.clean(ROOT / "data" / "raw", out)
    return out


#: rows of a row group in the build of :func:`small_groups` (the sample has a few thousand visits)
_GROUP = 400


@pytest.fixture(scope="module")
def small_groups(tmp_path_factory) -> Path:
    """The sample cleaned with row groups of ``_GROUP`` rows (the processed layout's size
    lowered): every table ordered by the visit's center and month, each row group's centers
    and months recorded, so that the scans can skip row groups."""
    from cxlib.clean import layout

    out = tmp_path_factory.mktemp("groups") / "processed"
    before = layout.ROW_GROUP_ROWS
    layout.ROW_GROUP_ROWS = _GROUP
    try:
        clean.clean(ROOT / "data" / "raw", out)
    finally:
        layout.ROW_GROUP_ROWS = before
    return out


@pytest.fixture(scope="module")
def eager(folder) -> processed.ProcessedData:
    return processed.read_processed(folder, lazy=False)


def _same(a: processed.ProcessedData, b: processed.ProcessedData) -> None:
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t), check_exact=True, obj=t)
    assert a.given == b.given and a.quality == b.quality


def test_lazy_reading_reads_no_table_until_used(folder, eager):
    data = clean.load(folder, raw_dir=None)
    assert not any(data.is_read(t) for t in TABLES)
    assert data.given == eager.given
    pd.testing.assert_frame_equal(data.sizes(), eager.sizes())  # from the files' metadata
    assert not any(data.is_read(t) for t in TABLES)
    pd.testing.assert_frame_equal(data.visits, eager.visits, check_exact=True)
    assert data.is_read("visits") and not data.is_read("events")
    _same(data, eager)


@pytest.mark.parametrize("which", ["one row group", f"row groups of {_GROUP}"])
@pytest.mark.parametrize("sel", SELECTIONS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_pushed_down_subset_equals_the_eager_one(folder, small_groups, eager, sel, which):
    src = folder if which == "one row group" else small_groups
    processed.ROWS_SCANNED.clear()
    lazy = processed.read_processed(src).subset(**sel)
    _same(lazy, eager.subset(**sel))


def test_the_scan_reads_fewer_rows(small_groups, eager):
    processed.ROWS_SCANNED.clear()
    lazy = processed.read_processed(small_groups).subset(center="SH-JQ", period_start="2026-10", period_end="2026-10")
    for t in ("visits", "scores", "events", "surveys", "complaints"):
        getattr(lazy, t)
    scanned = dict(processed.ROWS_SCANNED)
    # the visits ordered by center and month skip the other centers' and months' row groups;
    # the other tables are read only where the selected visits' centers and months can be
    assert scanned["visits"] < len(eager.visits) * 0.4
    for t in ("scores", "events", "surveys", "complaints"):
        assert len(getattr(lazy, t)) <= scanned[t] < len(getattr(eager, t)), t
    for t in ("scores", "events"):
        assert scanned[t] < len(getattr(eager, t)) * 0.4, t
    # one center's month holds a few percent of the events
    assert len(lazy.events) < 0.1 * len(eager.events)


def test_nested_subsets_and_tables_read_before(small_groups, eager):
    data = processed.read_processed(small_groups)
    _ = data.visits, data.events  # in memory: the subset filters these, reads the others
    processed.ROWS_SCANNED.clear()
    one = data.subset(center="SH-JQ")
    month = one.subset(period_start="2026-09", period_end="2026-10", scenario="repair")
    _same(month, eager.subset(center="SH-JQ").subset(period_start="2026-09", period_end="2026-10", scenario="repair"))
    assert "events" not in processed.ROWS_SCANNED  # filtered in memory, not read again
    with pytest.raises(DataError, match="unknown center 'BJ-WJ'"):
        one.subset(center="BJ-WJ")  # the subset's centers table holds its center only, as before


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    center=st.sampled_from(["all", "SH-JQ", "BJ-CY", "SZ-NS"]),
    months=st.tuples(
        st.sampled_from([None, "2026-05", "2026-07", "2026-08", "2026-10"]),
        st.sampled_from([None, "2026-06", "2026-08", "2026-10"]),
    ),
    scenario=st.sampled_from(["all", "repair", "保养", "accident"]),
)
def test_any_selection_equals_the_eager_one(small_groups, eager, center, months, scenario):
    known = set(eager.centers["center_id"])
    if center not in known | {"all"}:
        center = "all"
    sel = dict(center=center, period_start=months[0], period_end=months[1], scenario=scenario)
    _same(processed.read_processed(small_groups).subset(**sel), eager.subset(**sel))


def test_visits_of_lazy_data_reads_only_the_visits(small_groups, eager):
    processed.ROWS_SCANNED.clear()
    data = processed.read_processed(small_groups)
    got = selection.visits_of(data, center="SH-JQ", period_start="2026-09", period_end="2026-09")
    pd.testing.assert_frame_equal(
        got, eager.subset(center="SH-JQ", period_start="2026-09", period_end="2026-09").visits, check_exact=True
    )
    assert set(processed.ROWS_SCANNED) <= {"visits", "centers"}
    assert not data.is_read("events")


def test_data_cutoff_from_the_statistics(folder, eager):
    data = processed.read_processed(folder)
    assert results.data_cutoff(data) == results.data_cutoff(eager)
    assert str(results.data_cutoff(data).tz) == str(results.data_cutoff(eager).tz)
    assert not data.is_read("events")  # from the row groups' statistics
    sel = dict(center="SH-JQ", period_start="2026-10", period_end="2026-10")
    assert results.data_cutoff(data.subset(**sel)) == results.data_cutoff(eager.subset(**sel))


def test_a_table_of_a_replaced_build_is_refused(folder, tmp_path):
    copy = tmp_path / "processed"
    shutil.copytree(folder, copy)
    data = processed.read_processed(copy)
    assert len(data.visits)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["fingerprint"] = "another build"
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(DataError, match="changed since they were loaded"):
        _ = data.events


def test_a_report_run_checks_the_raw_data_once(folder, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(clean, "clean", lambda *a, **k: calls.append(a))
    raw = ROOT / "data" / "raw"
    fp = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["fingerprint"]
    monkeypatch.delenv(runcache.ENV, raising=False)
    clean.load(folder, raw_dir=raw)
    assert len(calls) == 1  # outside a run: checked every time
    cache = tmp_path / "cache"
    monkeypatch.setenv(runcache.ENV, str(cache))
    runcache.mark_checked(cache, raw, folder, clean.DEFAULT_TZ, "another fingerprint")
    clean.load(folder, raw_dir=raw)
    assert len(calls) == 2  # the run checked another build
    runcache.mark_checked(cache, raw, folder, clean.DEFAULT_TZ, fp)
    assert runcache.checked_fingerprint(raw, folder, clean.DEFAULT_TZ) == fp
    data = clean.load(folder, raw_dir=raw)
    assert len(calls) == 2 and len(data.visits) > 0  # the run's check stands
    clean.load(folder, raw_dir=raw, tz="Europe/Berlin")
    assert len(calls) == 3  # another time zone is another check


def test_the_quarantine_workbook_is_written_once_per_build(folder, tmp_path, monkeypatch):
    from cxlib import report, share

    written = []
    real = share.quarantine_workbook

    def counting(q, dst):
        written.append(dst)
        return real(q, dst)

    monkeypatch.setattr(share, "quarantine_workbook", counting)
    for period in ("2026-10", "2026-10", "2026-09"):
        per = report.parse_period(period)
        (tmp_path / "r" / per.folder).mkdir(parents=True, exist_ok=True)
        report.write_period_files(tmp_path / "r" / per.folder, per, folder, exports=("xlsx",))
    assert len(written) == 1  # the second run kept it, the other period copied it
    first, other = tmp_path / "r" / "2026-10" / "quarantine.xlsx", tmp_path / "r" / "2026-09" / "quarantine.xlsx"
    assert first.read_bytes() == other.read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    copy = tmp_path / "processed"
    shutil.copytree(folder, copy)
    manifest["fingerprint"] = "another build"
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    report.write_period_files(tmp_path / "r" / "2026-10", report.parse_period("2026-10"), copy, exports=("xlsx",))
    assert len(written) == 2  # another build: written again


def test_a_lazy_read_leaves_the_folder_unlocked(folder, tmp_path):
    from cxlib import folders

    copy = tmp_path / "processed"
    shutil.copytree(folder, copy)
    data = processed.read_processed(copy)
    data.visits, data.sizes(), results.data_cutoff(data), data.subset(center="SH-JQ").events
    # a cleaning run's exclusive lock is free at once
    with folders.FolderLock(copy / folders.LOCK_NAME, "test", wait=0.5) as lock:
        assert lock.writable


def test_processed_tables_are_ordered_by_center_month_and_visit(small_groups):
    from cxlib.clean import layout

    data = processed.read_processed(small_groups, lazy=False)
    v = data.visits
    keys = list(zip(v["center"], v["month"], v["visit_id"]))
    assert keys == sorted(keys) and v["center"].nunique() == 7
    key_of = {k[2]: k for k in keys}
    for t in ("scores", "events", "surveys", "complaints"):
        frame = getattr(data, t)
        of_rows = [key_of[x] for x in frame["visit_id"]]
        assert of_rows == sorted(of_rows), t
        meta = pq.ParquetFile(small_groups / f"{t}.parquet").metadata
        sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        assert sizes[:-1] == [_GROUP] * (len(sizes) - 1) and 0 < sizes[-1] <= _GROUP, t
        recorded = layout.row_group_keys(meta)
        assert len(recorded) == meta.num_row_groups
        start = 0
        for (c_first, m_first, c_last, m_last, low, high), n in zip(recorded, sizes):
            group = of_rows[start : start + n]
            assert (c_first, m_first, c_last, m_last) == (*group[0][:2], *group[-1][:2])
            assert (low, high) == (min(k[1] for k in group), max(k[1] for k in group))
            start += n


@pytest.mark.parametrize("center", ["SH-JQ", "BJ-CY", "CD-GX"])
def test_a_one_center_subset_reads_that_centers_row_groups(small_groups, center):
    eager = processed.read_processed(small_groups, lazy=False)
    processed.ROWS_SCANNED.clear()
    lazy = processed.read_processed(small_groups).subset(center=center)
    _same(lazy, eager.subset(center=center))
    scanned = dict(processed.ROWS_SCANNED)
    for t in ("visits", "scores", "events", "surveys", "complaints"):
        held = len(getattr(lazy, t))
        # that center's rows, and at most the row group at each of its two boundaries
        assert held <= scanned[t] <= held + 2 * _GROUP, (t, held, scanned[t])
        if len(getattr(eager, t)) > 4 * _GROUP:  # a table of a few row groups: well under half of it
            assert scanned[t] < 0.5 * len(getattr(eager, t)), t
    # one month of the center: fewer still
    processed.ROWS_SCANNED.clear()
    month = processed.read_processed(small_groups).subset(center=center, period_start="2026-09", period_end="2026-09")
    _same(month, eager.subset(center=center, period_start="2026-09", period_end="2026-09"))
    for t in ("visits", "events"):
        held = len(getattr(month, t))
        assert held <= processed.ROWS_SCANNED[t] <= held + 2 * _GROUP, t


def test_the_quarantine_examples_are_read_batch_by_batch(folder, eager, small_groups):
    """The examples of lazily read data come from the quarantine read a batch at a time, the
    table never held whole; they equal the examples of the table in memory, also when the rows
    of a (table, rule) are spread over many batches."""
    from cxlib.clean.reporting import quarantine_examples

    want = quarantine_examples(eager.quarantine, n=2)
    data = processed.read_processed(folder)
    pd.testing.assert_frame_equal(quarantine_examples(data, n=2), want)
    assert not data.is_read("quarantine")
    # a subset's quarantine is the whole table's (as the eager subset keeps it)
    sub = data.subset(center="SH-JQ")
    pd.testing.assert_frame_equal(quarantine_examples(sub, n=2), want)

    class Small:
        """The quarantine in batches of 7 rows."""

        def quarantine_batches(self):
            q = eager.quarantine
            return (q.iloc[i : i + 7] for i in range(0, len(q), 7))

    pd.testing.assert_frame_equal(quarantine_examples(Small(), n=2), want)
    pd.testing.assert_frame_equal(quarantine_examples(Small(), n=5), quarantine_examples(eager.quarantine, n=5))
    batches = list(processed.read_processed(small_groups).quarantine_batches(batch_rows=50))
    assert len(batches) > 1 and all(len(b) <= 50 for b in batches)
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), eager.quarantine)


def test_the_scope_of_the_network_counts_its_visits_without_reading_them(folder, eager):
    """The scope line's n visits and n responses of the whole network come from the visits
    file's metadata and its LTR column; equal to the counts of the table in memory."""
    data = processed.read_processed(folder)
    got = results.scope(data)
    assert not data.is_read("visits")
    want = results.scope(eager)
    assert (got.n_visits, got.n_responses) == (want.n_visits, want.n_responses)
    assert got.n_visits == len(eager.visits) and got.n_responses == int(eager.visits["ltr"].notna().sum())
    sub = data.subset(center="SH-JQ")
    assert sub.visit_counts() == (
        len(eager.subset(center="SH-JQ").visits),
        int(eager.subset(center="SH-JQ").visits["ltr"].notna().sum()),
    )
