"""Reports a manager can forward: print stylesheet, pages that load nothing from the internet,
PDFs printed by headless Chromium, summary and quarantine workbooks; and the run's friction
(a period without data, failures printed once, progress per notebook with --jobs 2)."""

from __future__ import annotations

import dataclasses
import html.parser
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import write_notebook
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import cli, report, share
from cxlib.errors import DataError
from cxlib.notebooks import numbered_notebooks

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
CX = [sys.executable, "-m", "cxlib.cli"]


class _Links(html.parser.HTMLParser):
    """Every src / href attribute and every CSS url(...) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[dict] = []
        self._style = False
        self.css = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [v for k, v in attrs.items() if k in ("src", "href", "xlink:href") and v is not None]
        if tag == "script":
            self.scripts.append(attrs)
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if self._style:
            self.css += data


def assert_offline(page: Path) -> None:
    """The page loads nothing from the internet: links only relative, in-page or data: URIs,
    no script at all, no MathJax."""
    text = page.read_text(encoding="utf-8")
    p = _Links()
    p.feed(text)
    import re

    urls = p.links + re.findall(r"url\(\s*['\"]?([^'\")]+)", p.css)
    for u in urls:
        scheme = urllib.parse.urlsplit(u.strip()).scheme
        assert scheme in ("", "data"), f"{page.name} loads {u[:80]}"
    assert not p.scripts, f"{page.name} has scripts: {p.scripts}"
    assert "mathjax" not in text.lower(), page.name
    assert "@import" not in p.css


# ---------------------------------------------------------------- units
def test_print_stylesheet_is_added_once():
    page = "<html><head><title>x</title></head><body><table></table></body></html>"
    once = share.add_print_stylesheet(page)
    assert share.add_print_stylesheet(once) == once and once.count("@page") == 1
    for rule in (
        "size: A4",
        "break-inside: avoid",
        "break-after: avoid",
        "max-width: 100%",
        ".jp-CodeCell > .jp-Cell-inputWrapper",
        ".jp-InputPrompt",
    ):
        assert rule in once, rule


def test_report_template_has_no_internet_blocks():
    for block in ("html_head_js", "html_head_js_mathjax", "html_head_js_mermaidjs", "jupyter_widgets"):
        assert f"block {block} -%}}{{%- endblock {block}" in report.REPORT_TEMPLATE, block


def test_rendered_page_is_offline_and_keeps_dollars_as_text(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# 标题 Title\n\ncost $5 and $x^$ stay text"),
        new_code_cell(
            "x",
            outputs=[
                new_output(
                    "execute_result",
                    {"text/html": "<table><tr><td>$a$</td></tr></table>", "text/plain": "t"},
                    execution_count=1,
                )
            ],
        ),
    ]
    src = tmp_path / "05_summary.ipynb"
    nbformat.write(nb, src)
    report.to_html(src, tmp_path / "05_summary.html")
    page = tmp_path / "05_summary.html"
    assert_offline(page)
    text = page.read_text(encoding="utf-8")
    assert "$x^$" in text and 'id="cx-print"' in text and "@font-face" in text


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=45), min_size=1, max_size=8))
def test_excel_sheet_names_are_safe_and_distinct(names):
    out = share.excel_sheet_names(names)
    assert len(out) == len(names)
    assert len({n.lower() for n in out}) == len(out)
    for n in out:
        assert 1 <= len(n) <= 31 and not any(ch in n for ch in "[]:*?/\\")
        assert not n.startswith("'") and not n.endswith("'") and n.lower() != "history"
    wb = openpyxl.Workbook()
    for n in out:
        wb.create_sheet(n)  # openpyxl accepts every one of them


RESULTS = {
    "scope": {"center": "SH-JQ", "period_start": "2026-10", "period_end": "2026-10"},
    "nps": {"value": 16.2, "ci_low": 1.5, "ci_high": 30.0, "n": 111, "promoters": 44, "passives": 41, "detractors": 26},
    "complaint_rate_ratio_per_update": {"estimate": 0.81, "ci_low": 0.7, "ci_high": 0.94},
    "nps_by_tier": {
        "none": {
            "n": 7,
            "nps": -100.0,
            "ci_low": -100.0,
            "ci_high": -17.5,
            "mean_ltr": 4.6,
            "complaint_rate": 0.14,
            "mean_anxiety": 69.8,
        },
        "realtime": {
            "n": 55,
            "nps": -16.7,
            "ci_low": -43.3,
            "ci_high": 5.5,
            "mean_ltr": 6.9,
            "complaint_rate": 0.07,
            "mean_anxiety": 30.3,
        },
    },
    "nps_by_segment": {
        "segment": "scenario",
        "groups": {"repair": {"n": 38, "nps": 34.2, "ci_low": 10.1, "ci_high": 53.3, "promoters": 18, "detractors": 5}},
    },
    "pain_points": [
        {
            "point": "waiting",
            "mean": 5.96,
            "gap": 2.04,
            "importance": 0.25,
            "priority": 0.51,
            "share_very_dissatisfied": 0.07,
        },
        {"point": '=HYPERLINK("x")', "mean": 6.0},
    ],
    "roi": {"kids_corner": {"roi": 5.49, "p_roi_positive": 1.0, "npv": 766000, "payback_months": 2.1}},
}


def test_summary_workbook_sheets_and_headers(tmp_path):
    dst = share.summary_workbook(RESULTS, tmp_path / "summary.xlsx")
    wb = openpyxl.load_workbook(dst)
    assert wb.sheetnames == [
        "核心指标 Headline",
        "透明度等级 Tiers",
        "分群 Segments",
        "痛点 Pain points",
        "投资回报 ROI",
    ]
    head = wb["核心指标 Headline"]
    rows = [[c.value for c in r] for r in head.iter_rows()]
    assert rows[2][:3] == ["指标", "单位", "数值"] and rows[3][:3] == ["measure", "unit", "value"]
    assert rows[4][:6] == ["NPS 净推荐值", "分 points", 16.2, 1.5, 30.0, 111]
    assert rows[8][2] == "等待 Waiting"
    tiers = [[c.value for c in r] for r in wb["透明度等级 Tiers"].iter_rows()]
    assert tiers[2][:3] == ["等级", "样本量", "NPS（分）"]
    assert tiers[4][1:3] == [7, -100.0] and tiers[5][1] == 55
    pains = [[c.value for c in r] for r in wb["痛点 Pain points"].iter_rows()]
    assert pains[4][:3] == [1, "等待 Waiting", 5.96]
    # text from the data is never a formula
    cell = wb["痛点 Pain points"].cell(row=6, column=2)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    roi = [[c.value for c in r] for r in wb["投资回报 ROI"].iter_rows()]
    assert roi[4][1:4] == [5.49, 1.0, 766000.0]


def test_summary_workbook_says_not_provided(tmp_path):
    res = {
        "nps_by_tier": {"provided": False, "missing": ["touchpoints"]},
        "roi": {"provided": False, "missing": ["cases"]},
    }
    wb = openpyxl.load_workbook(share.summary_workbook(res, tmp_path / "s.xlsx"))
    assert wb["透明度等级 Tiers"].cell(row=5, column=1).value.startswith("未提供")
    assert wb["投资回报 ROI"].cell(row=5, column=1).value.startswith("未提供")
    assert wb["核心指标 Headline"].cell(row=5, column=3).value is None


def test_quarantine_workbook_one_sheet_per_source_file(processed, tmp_path):
    q = pd.read_parquet(processed / "quarantine.parquet")
    wb = openpyxl.load_workbook(share.quarantine_workbook(q, tmp_path / "quarantine.xlsx"))
    files = sorted(q["source_file"].unique())
    assert wb.sheetnames == share.excel_sheet_names(files)
    total = 0
    for name, file in zip(wb.sheetnames, files, strict=True):
        ws = wb[name]
        assert [c.value for c in ws[3]][:4] == ["数据表", "源文件", "源文件行号", "规则"]
        assert [c.value for c in ws[4]][:3] == ["table", "source file", "row in file"]
        rows = list(ws.iter_rows(min_row=5, values_only=True))
        assert all(r[1] == file for r in rows)
        assert [r[2] for r in rows] == sorted(r[2] for r in rows)
        total += len(rows)
    assert total == len(q)
    empty = openpyxl.load_workbook(share.quarantine_workbook(q.iloc[:0], tmp_path / "none.xlsx"))
    assert empty.sheetnames == ["无隔离行 none"]


def test_pdf_without_chromium_is_one_clear_error_before_anything_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CX_CHROMIUM"}
    env["PATH"] = str(tmp_path)  # no browser here
    done = subprocess.run(
        [
            *CX,
            "report",
            "--raw",
            str(RAW),
            "--processed",
            str(tmp_path / "processed"),
            "--out",
            str(tmp_path / "reports"),
            "--period",
            "2026-10",
            "--center",
            "SH-JQ",
            "--pdf",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cx: error: ") and "needs Chromium" in lines[0], done.stderr
    assert not (tmp_path / "processed").exists() and not (tmp_path / "reports").exists()


def test_pdf_and_xlsx_are_run_options_of_the_params_file(tmp_path):
    from cxlib import options

    f = tmp_path / "run.yaml"
    f.write_text("pdf: yes\nxlsx: off\n", encoding="utf-8")
    assert report.read_params(f) == {"pdf": True, "xlsx": False}
    f.write_text("pdf: sometimes\n", encoding="utf-8")
    with pytest.raises(DataError, match="pdf must be yes or no"):
        report.read_params(f)
    args = cli.build_parser().parse_args(["report", "--pdf", "--xlsx", "no"])
    assert options.check({"pdf": args.pdf, "xlsx": args.xlsx}) == {"pdf": True, "xlsx": False}


# ---------------------------------------------------------------- run friction
def test_period_without_visits_is_refused_naming_the_data_range(processed, tmp_path, capsys):
    code = cli.main(
        [
            "report",
            "--raw",
            str(RAW),
            "--processed",
            str(processed),
            "--out",
            str(tmp_path / "r"),
            "--period",
            "2027-01",
            "--center",
            "SH-JQ",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["cx: error: column period: no visits in 2027-01; the data cover 2026-05-01 – 2026-10-31"]
    assert not (tmp_path / "r" / "2027-01").exists()


def _failing_notebooks(folder: Path) -> Path:
    folder.mkdir()
    write_notebook(folder / "01_first.ipynb", "if center == 'BJ-CY':\n    raise RuntimeError('no data for ' + center)")
    write_notebook(folder / "02_second.ipynb", "print(center)")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_failure_is_printed_once(processed, tmp_path, capsys, monkeypatch, jobs):
    nbs = _failing_notebooks(tmp_path / "nbs")
    real = report.run.run_reports

    def on_failing_notebooks(*a, settings, **k):
        return real(*a, settings=dataclasses.replace(settings, notebook_dir=nbs), **k)

    monkeypatch.setattr(report.run, "run_reports", on_failing_notebooks)
    code = cli.main(
        [
            "report",
            "--raw",
            str(RAW),
            "--processed",
            str(processed),
            "--out",
            str(tmp_path / "r"),
            "--period",
            "2026-10",
            "--center",
            "BJ-CY,SH-JQ",
            "--jobs",
            jobs,
            "--xlsx",
            "no",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    failed = [ln for ln in (captured.err + captured.out).splitlines() if "no data for BJ-CY" in ln]
    assert failed == [
        "cx report: 2026-10 BJ-CY 01_first failed: PapermillExecutionError: RuntimeError: no data for BJ-CY"
    ], captured
    assert "1 failed notebooks" in captured.out
    log = (tmp_path / "r" / "2026-10" / "run.log").read_text(encoding="utf-8")
    assert log.count("01_first failed: PapermillExecutionError") == 1
    assert not (tmp_path / "r" / "2026-10" / "quarantine.xlsx").exists()


def test_make_lab_runs_as_root_and_passes_options_on():
    done = subprocess.run(
        ["make", "-n", "lab", "LAB_ARGS=--port 9999 --no-browser"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = [ln for ln in done.stdout.splitlines() if "jupyter lab" in ln][-1]
    assert line.endswith("--port 9999 --no-browser") and "--notebook-dir=notebooks" in line
    assert ("--allow-root" in line) == (os.getuid() == 0)


# ---------------------------------------------------------------- the real notebooks
CENTER, PERIOD = "SH-JQ", "2026-10"


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for the browser test (make test installs it)"
    return path


@pytest.fixture(scope="module")
def shared_report(sample_report) -> Path:
    _chromium()
    return sample_report("--center", CENTER, "--pdf")


@pytest.mark.slow
def test_summary_pdf_is_at_most_two_a4_pages(shared_report):
    folder = shared_report / CENTER
    pdfs = sorted(p.name for p in folder.glob("*.pdf"))
    assert pdfs == [p.stem + ".pdf" for p in numbered_notebooks(report.NOTEBOOK_DIR)]
    pdf = folder / "05_summary.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert 1 <= share.pdf_page_count(pdf) <= 2
    # A4 portrait: 595 x 842 points
    import re

    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes()))
    assert boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes), boxes
    man = json.loads((folder / "manifest.json").read_text())
    assert man["exports"][:2] == ["summary.xlsx", "05_summary.pdf"] and man["export_errors"] == []


@pytest.mark.slow
def test_every_page_of_the_period_is_offline(shared_report):
    pages = sorted(shared_report.glob("*/*.html")) + [shared_report / "index.html"]
    assert len(pages) == 7  # the pages of notebooks 01–06 and the index
    for page in pages:
        assert_offline(page)


@pytest.mark.slow
def test_workbooks_of_the_run(shared_report):
    wb = openpyxl.load_workbook(shared_report / CENTER / "summary.xlsx")
    assert wb.sheetnames == [
        "核心指标 Headline",
        "透明度等级 Tiers",
        "分群 Segments",
        "痛点 Pain points",
        "投资回报 ROI",
    ]
    res = json.loads((shared_report / CENTER / "results.json").read_text())
    head = wb["核心指标 Headline"]
    assert head.cell(row=5, column=3).value == round(res["nps"]["value"], 1)
    assert head.cell(row=5, column=6).value == res["nps"]["n"]
    q = openpyxl.load_workbook(shared_report / "quarantine.xlsx")
    assert "surveys.xlsx" in q.sheetnames and "touchpoints.parquet" in q.sheetnames


@pytest.mark.slow
def test_screenshots_of_the_index_and_the_summary(shared_report, tmp_path):
    flags = [*share.CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000"]
    for page in (shared_report / "index.html", shared_report / CENTER / "05_summary.html"):
        shot = tmp_path / f"{page.stem}.png"
        subprocess.run(
            [_chromium(), *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True
        )
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    index = (shared_report / "index.html").read_text(encoding="utf-8")
    assert 'href="SH-JQ/05_summary.pdf"' in index and 'href="SH-JQ/summary.xlsx"' in index
    assert 'src="data:image/png;base64,' in index and "门店排名" in index


def test_summary_workbook_writes_the_markers_of_entries_without_numbers(tmp_path):
    """Every table of the workbook takes a 'not provided' or 'too few' marker in place of its
    numbers (results.json of an export without touchpoint scores, log or cases file)."""
    from openpyxl import load_workbook

    not_given = {"provided": False, "missing": ["scores"]}
    results = {
        "nps": {"value": 12.0, "ci_low": 1.0, "ci_high": 23.0, "n": 40},
        "pain_points": not_given,
        "nps_by_tier": {"provided": False, "missing": ["touchpoints"]},
        "nps_by_segment": {"computed": False, "n": 3, "need": 30, "reason": "too few"},
        "roi": {"provided": False, "missing": ["cases"]},
    }
    wb = load_workbook(share.summary_workbook(results, tmp_path / "summary.xlsx"))
    cells = {
        ws.title: [c for row in ws.iter_rows(values_only=True) for c in row if c is not None] for ws in wb.worksheets
    }
    assert "未提供 not provided (scores)" in cells["核心指标 Headline"]
    assert "未提供 not provided (scores)" in cells["痛点 Pain points"]
    assert "未提供 not provided (touchpoints)" in cells["透明度等级 Tiers"]
    assert "样本不足 too few (n = 3, need ≥ 30)" in cells["分群 Segments"]
    assert "未提供 not provided (cases)" in cells["投资回报 ROI"]
    assert 12.0 in cells["核心指标 Headline"]
