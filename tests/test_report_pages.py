"""The summaries a service manager forwards, read as a reader would: the SH-JQ and network
summaries of October in ``zh`` and in ``en``, screenshot in headless Chromium and printed.
Each shows its scope line, labelled headers in its language (Chinese in ``zh``, no snake_case
column names), no index column, the small rows flagged, findings in its language, and prints on
at most two A4 pages."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cxlib import share

pytestmark = pytest.mark.slow

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
PERIOD = "2026-10"
FOLDERS = ("SH-JQ", "all")
CJK = re.compile(r"[\u4e00-\u9fff]")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for the browser test (make test installs it)"
    return path


@pytest.fixture(scope="module", params=["zh", "en"])
def pages(request, sample_report) -> tuple[str, Path]:
    _chromium()
    return request.param, sample_report("--center", "SH-JQ,all", "--lang", request.param, "--pdf", "--jobs", "2")


def _cells(page: str, tag: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", page, flags=re.S)
    ]


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_summary_page_reads_in_its_language(pages, folder):
    lang, period = pages
    page = (period / folder / "05_summary.html").read_text(encoding="utf-8")
    title = html.unescape(re.search(r"<title>(.*?)</title>", page, flags=re.S).group(1))
    # the scope line: center (or network), month, cut-off, n visits and n responses
    if lang == "zh":
        assert ("上海金桥服务中心（SH-JQ）" if folder == "SH-JQ" else "全网络") in title
        assert "2026年10月" in title and "数据截至" in title and "有效问卷" in title
    else:
        assert ("(SH-JQ)" if folder == "SH-JQ" else "network") in title
        assert "October 2026" in title and "data up to" in title and "survey responses" in title
    assert title.split(" · ")[0] in page  # the scope block itself, at the top of the page
    heads = [h for h in _cells(page, "th") if h]
    assert len(heads) > 30
    assert not [h for h in heads if SNAKE.search(h)], "a raw column name as a header"
    if lang == "zh":
        assert sum(bool(CJK.search(h)) for h in heads) / len(heads) > 0.8
    else:
        assert not [h for h in heads if CJK.search(h)]
    # no index column: no row headings, no blank corner cell of a DataFrame
    assert 'class="row_heading' not in page and 'class="blank' not in page
    assert "<th></th>" not in page.replace(" ", "")
    # the small rows (n < 30: the center's accident repairs, its no-update tier) are greyed and marked,
    # with the footnote; the network has none
    small = re.findall(r'<td class="[^"]*\bcx-small\b[^"]*"[^>]*>([^<]*)', page)
    footnote = "样本小，仅供参考" if lang == "zh" else "small sample, read with care"
    if folder == "SH-JQ":
        assert any(c.endswith("⚠") for c in small) and footnote in page
    else:
        assert not small and footnote not in page
    # findings in the page's language only
    findings = _cells(page, "p")
    found = [f for f in findings if "95%" in f and ("NPS" in f)]
    assert found, "no computed finding on the page"
    assert all(bool(CJK.search(f)) == (lang == "zh") for f in found if "n =" in f)


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_summary_prints_on_at_most_two_pages_and_screenshots(pages, folder, tmp_path):
    lang, period = pages
    pdf = period / folder / "05_summary.pdf"
    assert 1 <= share.pdf_page_count(pdf) <= 2, (lang, folder, share.pdf_page_count(pdf))
    text = (
        subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        if shutil.which("pdftotext")
        else ""
    )
    if text:
        assert ("管理层摘要" if lang == "zh" else "Management summary") in text
    shot = tmp_path / f"{folder}-{lang}.png"
    flags = [*share.CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400"]
    subprocess.run(
        [_chromium(), *flags, f"--screenshot={shot}", (period / folder / "05_summary.html").as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
