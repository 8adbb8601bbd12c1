"""The scope block of every page (center, period, cut-off, n, filters) and the ROI scoped to the
reader (the scope's own yearly visits, per-center case figures)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from cxlib import clean, report, results, roi
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def data(processed) -> clean.ProcessedData:
    return clean.read_processed(processed)


def _latest(d: clean.ProcessedData) -> pd.Timestamp:
    stamps = [d.visits[c].max() for c in ("booked_at", "arrived_at", "started_at", "finished_at", "delivered_at")]
    stamps += [d.events["ts"].max()]
    stamps += [d.surveys[c].max() for c in d.surveys.columns if pd.api.types.is_datetime64_any_dtype(d.surveys[c])]
    stamps += [
        d.complaints[c].max() for c in d.complaints.columns if pd.api.types.is_datetime64_any_dtype(d.complaints[c])
    ]
    return max(s for s in stamps if not pd.isna(s))


def test_scope_of_a_center_month(data):
    sel = data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10", scenario="repair")
    s = results.scope(
        sel,
        center="SH-JQ",
        period_start="2026-10",
        period_end="2026-10",
        scenario="维修",
        segment="vehicle_model",
        lang="zh",
    )
    n_visits = int(
        (
            (data.visits["center"] == "SH-JQ")
            & (data.visits["month"] == "2026-10")
            & (data.visits["scenario"].astype(str) == "repair")
        ).sum()
    )
    n_resp = int(sel.visits["ltr"].notna().sum())
    assert 0 < n_resp < n_visits < int((data.visits["center"] == "SH-JQ").sum())
    assert (s.n_visits, s.n_responses, s.scenario) == (n_visits, n_resp, "repair")
    assert s.cutoff == _latest(sel)
    assert s.title() == (
        f"上海金桥服务中心（SH-JQ） · 2026年10月 · 数据截至 {_latest(sel):%Y-%m-%d %H:%M} · "
        f"工单 {n_visits:,} 张 · 有效问卷 {n_resp:,} 份 · 场景：维修 · 分群：车型"
    )
    en = results.scope(
        sel, center="SH-JQ", period_start="2026-10", period_end="2026-10", scenario="repair", lang="en"
    ).title()
    assert en.startswith("上海金桥服务中心 Shanghai Jinqiao Service Center (SH-JQ) · October 2026 · data up to ")
    assert f"{n_visits:,} visits · {n_resp:,} survey responses · scenario: Repair" in en
    rec = json.loads(json.dumps(results.jsonable(s)))
    assert rec["center"] == "SH-JQ" and rec["n_visits"] == n_visits and rec["title"] == s.title()


def test_scope_of_the_network_over_all_data(data):
    s = results.scope(data, lang="both")
    assert (s.n_visits, s.n_responses) == (len(data.visits), int(data.visits["ltr"].notna().sum()))
    assert s.cutoff == _latest(data)
    zh, en = s.title().split(" / ")
    assert zh.startswith("全网络 · 全部数据 · 数据截至 ") and en.startswith("network · all data · data up to ")
    assert "场景" not in zh and "scenario" not in en
    assert results.period_label("2026-08", "2026-10", lang="both") == "2026-08 – 2026-10"  # the same in both


def test_scope_html_escapes_a_hostile_center_name():
    s = results.Scope(
        "X1",
        "<script>alert(1)</script> $x$ & co",
        "2026-10",
        "2026-10",
        pd.Timestamp("2026-10-31 18:00", tz="Asia/Shanghai"),
        3,
        1,
        lang="both",
    )
    page = s._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp; co" in page
    assert page.startswith('<div class="mathjax_ignore tex2jax_ignore">')  # $…$ never typeset as math
    data, meta = s._repr_mimebundle_()
    assert data["text/plain"] == s.title() == meta[results.SCOPE_METADATA]["title"]
    assert s.title().startswith("<script>alert(1)</script> $x$ & co（X1）")


def test_page_title_comes_from_the_scope_output_and_is_escaped(tmp_path):
    s = results.Scope("X1", "<b>金桥</b>", None, None, None, 0, 0, lang="zh")
    bundle, meta = s._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "page_scope", outputs=[nbformat.v4.new_output("display_data", data=bundle, metadata=meta)]
        )
    ]
    src = tmp_path / "x.ipynb"
    nbformat.write(nb, src)
    assert report.page_title(nbformat.read(src, as_version=4)) == s.title()
    report.to_html(src, tmp_path / "x.html")
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert f"<title>{html.escape(s.title(), quote=False)}</title>" in page


def test_every_numbered_notebook_shows_the_scope_and_applies_scenario():
    for nb_path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert "results.scope(" in code[1], nb_path.name  # right after the parameters
        if nb_path.name.startswith(("02", "03", "04", "05")):
            assert 'scenario = "all"' in code[0], nb_path.name
            assert "scenario=scenario)" in code[1], nb_path.name


def test_subset_accepts_chinese_and_english_scenario_names(data):
    n = {name: len(data.subset(scenario=name).visits) for name in ("repair", "维修", "Repair")}
    assert len(set(n.values())) == 1 and 0 < n["repair"] < len(data.visits)
    with pytest.raises(DataError, match="unknown scenario"):
        data.subset(scenario="洗车")


def _scope_output(executed: Path) -> dict:
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if results.SCOPE_METADATA in (out.get("metadata") or {}):
                return {
                    "title": out["metadata"][results.SCOPE_METADATA]["title"],
                    "html": out["data"]["text/html"],
                    "outputs": nb.cells,
                }
    raise AssertionError(f"no scope block in {executed}")


@pytest.mark.slow
def test_scenario_filter_changes_n_in_notebooks_03_and_05(processed, data, tmp_path):
    import papermill as pm

    sel = data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10", scenario="repair")
    whole = data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10")
    n_visits, n_resp = len(sel.visits), int(sel.visits["ltr"].notna().sum())
    assert n_visits < len(whole.visits)
    params = {
        "center": "SH-JQ",
        "period_start": "2026-10",
        "period_end": "2026-10",
        "scenario": "维修",
        "processed_dir": str(processed),
        "raw_dir": str(RAW),
    }
    res_file = tmp_path / "results.json"
    for name, extra in (("03_nps_proactive_updates", {"results_file": str(res_file)}), ("05_summary", {"n_sims": 200})):
        pm.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(tmp_path / f"{name}.ipynb"),
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            parameters={**params, **extra},
        )
        shown = _scope_output(tmp_path / f"{name}.ipynb")
        assert f"工单 {n_visits:,} 张" in shown["title"] and f"有效问卷 {n_resp:,} 份" in shown["title"], name
        assert "场景：维修" in shown["title"] and "scenario: Repair" in shown["title"]
    recorded = json.loads(res_file.read_text(encoding="utf-8"))
    assert recorded["nps"]["n"] == n_resp and recorded["scope"]["scenario"] == "repair"
    assert recorded["scope"]["n_visits"] == n_visits
    # 05's headline counts the filtered visits too
    nb05 = nbformat.read(tmp_path / "05_summary.ipynb", as_version=4)
    headline = next(
        o["data"]["text/html"]
        for c in nb05.cells
        if c.cell_type == "code" and "summary.headline_table" in c.source
        for o in c.outputs
        if "data" in o
    )
    heads = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th\b[^>]*>(.*?)</th>", headline, flags=re.S)]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td\b[^>]*>(.*?)</td>", headline, flags=re.S)]
    visits_at = next(i for i, h in enumerate(heads) if "服务工单数" in h)  # the summary's one-row headline
    assert cells[visits_at] == f"{n_visits:,}"


# ------------------------------------------------------------------------ ROI scoped to the reader
def test_yearly_visits_of_a_center_against_a_direct_computation(data):
    sel = data.subset(center="SH-JQ", period_start="2026-08", period_end="2026-10").visits
    days = sel["arrived_at"].dt.date
    span = (days.max() - days.min()).days + 1
    v = roi.yearly_visits(sel, "SH-JQ")
    assert (v.n_visits, v.days, v.source) == (len(sel), span, "data")
    assert v.per_year == pytest.approx(len(sel) * 365 / span, abs=0.05)
    assert v.first == days.min().isoformat() and v.last == days.max().isoformat()
    network = roi.yearly_visits(data.visits)
    assert network.per_year > v.per_year and network.n_visits == len(data.visits)
    assert f"{len(sel):,} visits in {span} days" in v.sentence("en")
    empty = roi.yearly_visits(sel.iloc[:0], "SH-JQ")
    assert (empty.source, empty.per_year) == ("default", roi.DEFAULT_VISITS_PER_YEAR)


def test_the_update_program_reaches_the_centers_own_visits(data):
    sel = data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10").visits
    v = roi.yearly_visits(sel, "SH-JQ")
    program = roi.update_program_value(
        rate_ratio_per_update=0.85, ltr_slope_per_update=0.3, programme=roi.UpdateProgramme(visits_per_year=v.per_year)
    )
    default = roi.update_program_value(rate_ratio_per_update=0.85, ltr_slope_per_update=0.3)
    assert program["case"].reach.mode == v.per_year != default["case"].reach.mode
    assert default["case"].reach.mode == roi.DEFAULT_VISITS_PER_YEAR
    # NPV of the program is linear in its reach (costs and gains both scale per reached visit)
    assert program["evaluation"]["npv"] == pytest.approx(default["evaluation"]["npv"] * v.per_year / 6000, rel=1e-9)
    table = roi.scope_assumptions(v, lang="en")
    assert table.iloc[0]["Value"] == f"{v.per_year:,.0f}" and "SH-JQ" in table.iloc[0]["Source"]


def _cases_with_centers(tmp_path: Path, centers: object) -> Path:
    data = yaml.safe_load((RAW / "cases_interventions.yaml").read_text(encoding="utf-8"))
    kids = next(c for c in data["cases"] if c["id"] == "kids_corner")
    kids["centers"] = centers
    out = tmp_path / "cases.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def test_per_center_case_figures_replace_the_network_figures_for_that_center_only(tmp_path):
    path = _cases_with_centers(
        tmp_path,
        {
            "SH-JQ": {
                "reach": {"low": 500, "mode": 800, "high": 1000},
                "effects": {"extra_customers": 40},
                "provenance": "SH-JQ footfall 2026",
            }
        },
    )
    network = roi.load_cases(path)
    center = roi.load_cases(path, center="SH-JQ")
    other = roi.load_cases(path, center="BJ-CY")
    kids = {
        name: roi.get_case(cs, "kids_corner")
        for name, cs in (("network", network), ("center", center), ("other", other))
    }
    assert kids["network"].reach.mode == kids["other"].reach.mode != 800
    assert (kids["center"].reach.mode, kids["center"].center, kids["network"].center) == (800.0, "SH-JQ", None)
    assert kids["center"].effects["extra_customers"].mode == 40
    assert kids["center"].effects["satisfaction_gain"] == kids["network"].effects["satisfaction_gain"]
    assert "SH-JQ footfall 2026" in kids["center"].provenance
    t_net = roi.cases_table(network).set_index("id")
    t_center = roi.cases_table(center).set_index("id")
    assert t_center.loc["kids_corner", "npv"] < t_net.loc["kids_corner", "npv"]
    assert t_center.drop(index="kids_corner")["npv"].equals(t_net.drop(index="kids_corner")["npv"])
    table = roi.scope_assumptions(
        roi.VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31"), cases=center, lang="en"
    )
    assert table.iloc[1]["Value"] == f"1 / {len(center)}" and "Kids' corner" in table.iloc[1]["Source"]


@pytest.mark.parametrize(
    "centers, field",
    [
        ({"SH-JQ": {"reach": -5}}, "centers.SH-JQ.reach"),
        ({"SH-JQ": {"budget": 5}}, "centers.SH-JQ.budget"),
        ({"SH-JQ": {"effects": {"retention_gain": 2}}}, "centers.SH-JQ.effects.retention_gain"),
        ({"SH-JQ": {}}, "centers.SH-JQ"),
        ([1, 2], "centers"),
    ],
)
def test_bad_per_center_figures_name_file_case_and_field(tmp_path, centers, field):
    path = _cases_with_centers(tmp_path, centers)
    with pytest.raises(DataError) as e:
        roi.load_cases(path)
    msg = str(e.value)
    assert str(path) in msg and "'kids_corner'" in msg and f"field {field}" in msg


def test_scope_note_under_the_summary_roi_table(tmp_path, data):
    path = _cases_with_centers(tmp_path, {"SH-JQ": {"reach": 800}})
    cases = roi.load_cases(path, center="SH-JQ")
    sel = data.subset(center="SH-JQ", period_start="2026-10", period_end="2026-10").visits
    v = roi.yearly_visits(sel, "SH-JQ")
    note = roi.scope_note(v, cases=cases, lang="both")
    zh, en = note.text.split(" / ")
    assert f"年到访量 {v.per_year:,.0f}" in zh and f"共 {v.days} 天 {len(sel):,} 次" in zh
    assert f"采用本中心数据的方案 1/{len(cases)}" in zh
    assert en.startswith(f"ROI assumes {v.per_year:,.0f} visits a year (SH-JQ: {len(sel):,} in {v.days} days ")
    network = roi.yearly_visits(data.visits)
    assert roi.scope_note(network, cases=cases, lang="en").text.startswith(
        f"ROI assumes {network.per_year:,.0f} visits a year (network: "
    )
    assert "own figures" not in roi.scope_note(roi.yearly_visits(data.visits), cases=cases, lang="en").text
    shown = roi.with_note(pd.DataFrame({"x": ["<b>"]}), roi.ScopeNote("a <i> note"))._repr_html_()
    assert "&lt;b&gt;" in shown and shown.endswith("a &lt;i&gt; note</p>")
