"""Reports a service manager can forward: print stylesheet, PDF through headless Chromium, XLSX.

    cx report --period 2026-10 --center SH-JQ --pdf          # 05_summary.pdf and the others
    cx report --period 2026-10 --center SH-JQ --xlsx         # summary.xlsx per center

Every report page carries :data:`PRINT_CSS` (A4, headings kept with what follows, no table or
figure cut across pages, images scaled to the page, no prompts or interactive chrome), so a
page printed from any browser looks like the PDF that :func:`print_pdf` writes with headless
Chromium (off the network, with a fresh profile). :func:`summary_workbook` writes a center's
``results.json`` as an Excel workbook under Chinese headers with English in the second header
row; :func:`quarantine_workbook` writes the processed quarantine table (personal data already
masked by the cleaning step) with one sheet per source file for the data owners.

    >>> excel_sheet_names(["visits_2026-10.csv", "a/b:c?.csv"])
    ['visits_2026-10.csv', 'a_b_c_.csv']
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlib.catalog import label
from cxlib.errors import DataError

if TYPE_CHECKING:  # pandas is imported by the functions that need it: cx report starts without it
    import pandas as pd

#: The print stylesheet embedded in every report page (and the index).
PRINT_CSS = """
@page { size: A4; margin: 12mm 11mm 12mm 11mm; }
@media print {
  html, body { background: #fff !important; }
  body { font-size: 9pt; line-height: 1.3; margin: 0 !important; padding: 0 !important; }
  main, .jp-Notebook { padding: 0 !important; margin: 0 !important; }
  /* no code, prompts or interactive chrome on paper */
  .jp-CodeCell > .jp-Cell-inputWrapper, .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser,
  .jp-InputCollapser, .jp-OutputCollapser, .jp-Toolbar, a.anchor-link, .jp-OutputArea-prompt,
  script, button, nav, .cx-screen-only, .celltag_screen-only { display: none !important; }
  /* a section whose explanation stays on screen: on paper its heading only (the summary's sections) */
  .celltag_print-heading-only p, .celltag_print-heading-only ul { display: none !important; }
  /* a bilingual page prints its findings in Chinese (the English ones stay on screen; print --lang en for them) */
  .cx-finding p[lang="zh-CN"] + p[lang="en"] { display: none !important; }
  .jp-Cell { padding: 0 !important; margin: 0 0 2mm 0 !important; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; padding: 0 !important; }
  /* headings stay with what follows them */
  h1, h2, h3, h4, h5, h6 { break-after: avoid; page-break-after: avoid; break-inside: avoid; margin: 2.5mm 0 1.5mm 0 !important; }
  .jp-MarkdownCell { break-after: avoid; page-break-after: avoid; }
  h1 { font-size: 15pt !important; } h2 { font-size: 12.5pt !important; } h3 { font-size: 11pt !important; }
  /* no table, figure or list cut across pages */
  table, figure, img, svg, pre, li, tr, .jp-RenderedImage, .jp-OutputArea-child {
    break-inside: avoid; page-break-inside: avoid; }
  table { max-width: 100% !important; font-size: 7.5pt !important; border-collapse: collapse; }
  /* a result table, its caption and its small-sample footnote stay on one page; small rows stay grey */
  .cx-table-wrap { break-inside: avoid; page-break-inside: avoid; }
  .cx-table caption { font-size: 8pt; text-align: left; caption-side: top; }
  .jp-RenderedHTMLCommon .cx-table td, .jp-RenderedHTMLCommon .cx-table th { padding: 0.25mm 1.2mm !important; }
  table.cx-table { font-size: 7pt !important; }
  .jp-RenderedHTMLCommon .cx-table td { text-align: left; } .jp-RenderedHTMLCommon .cx-table td.cx-num { text-align: right; }
  .jp-RenderedHTMLCommon .cx-table th { white-space: pre-line; text-align: left; vertical-align: bottom; }
  td.cx-small { color: #7a7a7a !important; background: #f2f2f2 !important; }
  .cx-footnote { font-size: 7pt !important; margin: 0.5mm 0 1mm 0 !important; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.4mm 1.4mm !important; line-height: 1.2; }
  img, svg { max-width: 100% !important; height: auto !important; }
  .jp-RenderedImage img { max-height: 46mm; width: auto; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

#: Chromium flags that keep a print off the network and free of state from earlier runs.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-pdf-header-footer",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
)
#: Seconds a print of one page may take.
PRINT_TIMEOUT = 120


def print_stylesheet() -> str:
    """The ``<style>`` element of :data:`PRINT_CSS`, for a page's ``<head>``.

    >>> print_stylesheet().startswith('<style media="all" id="cx-print">')
    True
    """
    return f'<style media="all" id="cx-print">{PRINT_CSS}</style>'


def add_print_stylesheet(page: str) -> str:
    """``page`` with the print stylesheet at the end of its ``<head>`` (once).

    >>> "@page" in add_print_stylesheet("<html><head></head><body></body></html>")
    True
    """
    if 'id="cx-print"' in page or "</head>" not in page:
        return page
    return page.replace("</head>", print_stylesheet() + "</head>", 1)


def chromium_path() -> str:
    """The headless browser that prints the PDFs: ``$CX_CHROMIUM``, else ``chromium`` or
    ``chromium-browser`` on the PATH; one :class:`DataError` saying how to get it otherwise.

        >>> chromium_path()  # doctest: +SKIP
        '/usr/bin/chromium'
    """
    given = os.environ.get("CX_CHROMIUM")
    if given:
        if shutil.which(given) is None:
            raise DataError(f"CX_CHROMIUM={given!r} is not an executable browser", column="pdf")
        return str(shutil.which(given))
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise DataError(
        "--pdf needs Chromium to print the pages, and none was found: install it (Debian: "
        "apt-get install chromium; or `make browser`) or set CX_CHROMIUM to its path",
        column="pdf",
    )


def print_pdf(pages: Sequence[Path], *, browser: str | None = None, timeout: float = PRINT_TIMEOUT) -> list[Path]:
    """Print each HTML page to a PDF beside it (``05_summary.html`` → ``05_summary.pdf``) with
    headless Chromium, off the network and with a fresh profile; return the PDFs.

    The PDF is written under a temporary name and renamed into place, so a failed print
    leaves no half file; a browser that fails or writes nothing raises a :class:`DataError`
    naming the page.

        >>> print_pdf([Path("reports/2026-10/SH-JQ/05_summary.html")])  # doctest: +SKIP
        [PosixPath('reports/2026-10/SH-JQ/05_summary.pdf')]
    """
    browser = browser or chromium_path()
    out: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="cx-chromium-") as profile:
        for page in pages:
            page = Path(page).resolve()
            dst = page.with_suffix(".pdf")
            tmp = dst.with_name(f".{dst.name}.tmp")
            cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", page.as_uri()]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                tmp.unlink(missing_ok=True)
                raise DataError(f"Chromium did not print the page within {timeout:g} s", file=str(page)) from None
            if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
                tmp.unlink(missing_ok=True)
                last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
                raise DataError(f"Chromium could not print the page (exit {done.returncode}: {last})", file=str(page))
            os.replace(tmp, dst)
            out.append(dst)
    return out


def pdf_page_count(pdf: Path) -> int:
    """Pages of a PDF written by Chromium (its ``/Type /Page`` objects).

    >>> pdf_page_count(Path("reports/2026-10/SH-JQ/05_summary.pdf"))  # doctest: +SKIP
    2
    """
    data = Path(pdf).read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


# ------------------------------------------------------------------ Excel
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def excel_sheet_names(names: Iterable[str]) -> list[str]:
    """Excel-safe, distinct sheet names for ``names``: no ``[]:*?/\\``, no leading or trailing
    apostrophe, at most 31 characters, never empty, never ``History``; a repeated name gets
    ``~2``, ``~3``, … within the 31 characters.

        >>> excel_sheet_names(["x" * 40, "x" * 40, "History", ""])
        ['xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx~2', 'History_', 'sheet']
    """
    out: list[str] = []
    taken: set[str] = set()
    for raw in names:
        name = _SHEET_BAD.sub("_", "".join(ch if ch.isprintable() else "_" for ch in str(raw))).strip().strip("'")
        name = name or "sheet"
        if name.lower() == "history":
            name += "_"
        name = name[:31]
        base, k = name, 1
        while name.lower() in taken:
            k += 1
            tail = f"~{k}"
            name = base[: 31 - len(tail)] + tail
        taken.add(name.lower())
        out.append(name)
    return out


def _cell(value: Any) -> Any:
    """A value as an Excel cell: numbers stay numbers, missing values empty, lists and mappings
    as text (text starting with ``=`` is kept as text by :func:`_write_sheet`, never a formula)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _write_sheet(
    ws,
    title_zh: str,
    title_en: str,
    headers: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    note: str | None = None,
) -> None:
    """A sheet with a title line, a Chinese and an English header row, then the rows."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append([f"{title_zh} {title_en}"])
    ws["A1"].font = Font(bold=True, size=12)
    if note:
        ws.append([note])
    ws.append([zh for zh, _ in headers])
    ws.append([en for _, en in headers])
    head_rows = (ws.max_row - 1, ws.max_row)
    fill = PatternFill("solid", fgColor="E8EEF4")
    for r in head_rows:
        for cell in ws[r]:
            cell.font = Font(bold=r == head_rows[0])
            cell.fill = fill
    ws.freeze_panes = f"A{head_rows[1] + 1}"  # a coordinate: ws.cell() would create the row
    n = 0
    first = head_rows[1] + 1
    for row in rows:
        values = [_cell(v) for v in row]
        ws.append(values)
        # the appended cells by their coordinates: ws.max_row and ws[row] scan every cell of the
        # sheet, which made a sheet of 30,000 quarantined rows take minutes
        for c in range(1, len(values) + 1):
            cell = ws.cell(row=first + n, column=c)
            if cell.data_type == "f":  # data text such as "=HYPERLINK(…)" is shown, never run
                cell.data_type = "s"
        n += 1
    if n == 0:
        ws.append(["无数据 no data"])
    for i, (zh, en) in enumerate(headers, start=1):
        width = max(len(zh) * 2, len(en), 8) + 2
        ws.column_dimensions[get_column_letter(i)].width = min(width, 40)


def _num(x: Any, digits: int = 1) -> float | None:
    return None if not isinstance(x, (int, float)) or isinstance(x, bool) or x != x else round(float(x), digits)


def _marker(entry: Any) -> str | None:
    """The words for a results entry that holds a marker instead of numbers (see
    docs/results.md): not provided (an input missing) or not computed (too little data)."""
    if not isinstance(entry, dict):
        return None
    if entry.get("provided") is False:
        missing = ", ".join(map(str, entry.get("missing") or []))
        return f"未提供 not provided{f' ({missing})' if missing else ''}"
    if entry.get("computed") is False:
        return f"样本不足 too few (n = {entry.get('n')}, need ≥ {entry.get('need')})"
    return None


def _top_pain(pains: Any) -> str | None:
    """The top pain point of a results entry: its label, or the marker's words."""
    if isinstance(pains, dict):
        return _marker(pains) or "–"
    return label(str(pains[0].get("point"))) if pains else None


def summary_workbook(results: dict[str, Any], dst: Path, *, scope_line: str | None = None) -> Path:
    """``summary.xlsx`` of one center's ``results.json``: sheets 核心指标 Headline, 透明度等级 Tiers,
    分群 Segments, 痛点 Pain points and 投资回报 ROI, each under Chinese headers with English in the
    second header row. Entries that were not provided or not computed say so in their sheet.

        >>> summary_workbook(json.loads(Path("results.json").read_text()), Path("summary.xlsx"))  # doctest: +SKIP
        PosixPath('summary.xlsx')
    """
    from openpyxl import Workbook

    scope = results.get("scope") or {}
    where = scope_line or (
        f"{scope.get('center', 'all')} · {scope.get('period_start') or '…'}–{scope.get('period_end') or '…'}"
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "核心指标 Headline"
    nps = results.get("nps") or {}
    rr = results.get("complaint_rate_ratio_per_update") or {}
    slope = results.get("ltr_slope_per_update") or {}
    did = (results.get("did_realtime_effect") or {}).get("ltr") or {}
    pains = results.get("pain_points") or []

    def est(entry: dict, key: str = "estimate", digits: int = 3) -> list[Any]:
        if _marker(entry):
            return [_marker(entry), None, None, None]
        return [
            _num(entry.get(key), digits),
            _num(entry.get("ci_low"), digits),
            _num(entry.get("ci_high"), digits),
            entry.get("n") if key == "value" else entry.get("note"),
        ]

    rows = [
        ["NPS 净推荐值", "分 points", *est(nps, "value", 1)],
        ["每次主动更新的投诉率比 complaint rate ratio per update", "倍 ratio", *est(rr)],
        ["每次主动更新的推荐意愿变化 LTR change per update", "分 points", *est(slope)],
        ["实时进度的效应（双重差分）real-time DiD on LTR", "分 points", *est(did)],
        ["首要痛点 top pain point", "", _top_pain(pains), None, None, None],
    ]
    _write_sheet(
        ws,
        "核心指标",
        "Headline",
        [
            ("指标", "measure"),
            ("单位", "unit"),
            ("数值", "value"),
            ("95% 置信下限", "95% CI low"),
            ("95% 置信上限", "95% CI high"),
            ("样本量 / 说明", "n / note"),
        ],
        rows,
        note=where,
    )

    tiers = results.get("nps_by_tier") or {}
    ws = wb.create_sheet("透明度等级 Tiers")
    if _marker(tiers):
        tier_rows: list[list[Any]] = [[_marker(tiers)]]
    else:
        tier_rows = [
            [
                label(t),
                v.get("n"),
                _num(v.get("nps")),
                _num(v.get("ci_low")),
                _num(v.get("ci_high")),
                _num(v.get("mean_ltr"), 2),
                _num(v.get("complaint_rate"), 4) if not isinstance(v.get("complaint_rate"), dict) else None,
                _num(v.get("mean_anxiety")),
            ]
            for t, v in tiers.items()
            if isinstance(v, dict)
        ]
    _write_sheet(
        ws,
        "透明度等级",
        "Transparency tiers",
        [
            ("等级", "tier"),
            ("样本量", "n"),
            ("NPS（分）", "NPS (points)"),
            ("95% 置信下限", "CI low"),
            ("95% 置信上限", "CI high"),
            ("平均推荐意愿（0–10）", "mean LTR (0-10)"),
            ("投诉率（比例）", "complaint rate (share)"),
            ("平均焦虑（0–100）", "mean anxiety (0-100)"),
        ],
        tier_rows,
        note=where,
    )

    seg = results.get("nps_by_segment") or {}
    ws = wb.create_sheet("分群 Segments")
    seg_rows: list[list[Any]] = (
        [[_marker(seg)]]
        if _marker(seg)
        else [
            [
                label(str(k)),
                v.get("n"),
                _num(v.get("nps")),
                _num(v.get("ci_low")),
                _num(v.get("ci_high")),
                v.get("promoters"),
                v.get("detractors"),
            ]
            for k, v in (seg.get("groups") or {}).items()
            if isinstance(v, dict)
        ]
    )
    _write_sheet(
        ws,
        "分群",
        f"Segments ({seg.get('segment', '–')})",
        [
            ("分群", "segment"),
            ("样本量", "n"),
            ("NPS（分）", "NPS (points)"),
            ("95% 置信下限", "CI low"),
            ("95% 置信上限", "CI high"),
            ("推荐者", "promoters"),
            ("贬损者", "detractors"),
        ],
        seg_rows,
        note=where,
    )

    ws = wb.create_sheet("痛点 Pain points")
    pain_rows: list[list[Any]] = (
        [[_marker(pains)]]
        if isinstance(pains, dict)
        else [
            [
                i,
                label(str(p.get("point"))),
                _num(p.get("mean"), 2),
                _num(p.get("gap"), 2),
                _num(p.get("importance"), 3),
                _num(p.get("priority"), 3),
                _num(p.get("share_very_dissatisfied"), 4),
            ]
            for i, p in enumerate(pains, start=1)
            if isinstance(p, dict)
        ]
    )
    _write_sheet(
        ws,
        "痛点",
        "Pain points",
        [
            ("排名", "rank"),
            ("旅程节点", "journey point"),
            ("平均分（1–10）", "mean score (1-10)"),
            ("差距（分）", "gap (points)"),
            ("重要性", "importance"),
            ("优先级", "priority"),
            ("非常不满意占比", "share very dissatisfied"),
        ],
        pain_rows,
        note=where,
    )

    roi = results.get("roi") or {}
    ws = wb.create_sheet("投资回报 ROI")
    if _marker(roi):
        roi_rows: list[list[Any]] = [[_marker(roi)]]
    else:
        roi_rows = [
            [
                label(str(k)),
                _num(v.get("roi"), 3),
                _num(v.get("p_roi_positive"), 3),
                _num(v.get("npv"), 0),
                _num(v.get("payback_months"), 1),
            ]
            for k, v in roi.items()
            if isinstance(v, dict)
        ]
    _write_sheet(
        ws,
        "投资回报",
        "ROI of the intervention cases",
        [
            ("措施", "case"),
            ("投资回报率（中位数，倍）", "ROI (median, ratio)"),
            ("回报为正的概率", "P(ROI > 0)"),
            ("净现值（元）", "NPV (CNY)"),
            ("回收期（月）", "payback (months)"),
        ],
        roi_rows,
        note=where,
    )
    return _save(wb, dst)


def _save(wb, dst: Path) -> Path:
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.tmp")
    wb.save(tmp)
    os.replace(tmp, dst)
    return dst


#: Columns of the quarantine export, Chinese and English.
QUARANTINE_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("table", "数据表", "table"),
    ("source_file", "源文件", "source file"),
    ("source_row", "源文件行号", "row in file"),
    ("rule", "规则", "rule"),
    ("reason", "原因", "reason"),
    ("raw", "原始内容（已脱敏）", "raw content (masked)"),
)


#: rows of one sheet (Excel's limit); a source file with more quarantined rows gets several sheets
EXCEL_ROWS = 1_048_576


def quarantine_workbook(quarantine: pd.DataFrame | Path, dst: Path, *, sheet_rows: int | None = None) -> Path:
    """``quarantine.xlsx``: the processed quarantine table (personal data already masked by the
    cleaning step), one sheet per source file (Excel-safe names, :func:`excel_sheet_names`),
    rows in file order, under Chinese headers with English in the second header row. With no
    quarantined row the workbook has one sheet saying so.

    A national network quarantines millions of rows: ``quarantine`` may be the path of the
    processed ``quarantine.parquet``, read a batch at a time, and the sheets are streamed as
    SpreadsheetML by :class:`_StreamingWorkbook` (seconds, where openpyxl's cell objects took
    minutes), with the layout of :func:`_write_sheet` (title, header rows, frozen panes, widths).
    A file with more rows than a sheet holds (``sheet_rows``, default Excel's 1,048,576 less the
    title, note and header rows) continues on further sheets (``name~2``, ``name~3``, …), each
    saying which rows of the file it holds.

        >>> quarantine_workbook(Path("data/processed/quarantine.parquet"), Path("q.xlsx"))  # doctest: +SKIP
        PosixPath('q.xlsx')
    """
    import pandas as pd
    import pyarrow.parquet as pq

    names = list(quarantine.columns) if isinstance(quarantine, pd.DataFrame) else pq.read_schema(quarantine).names
    cols = [c for c, _, _ in QUARANTINE_HEADERS if c in names]
    headers = [(zh, en) for c, zh, en in QUARANTINE_HEADERS if c in names]
    limit = sheet_rows or EXCEL_ROWS - 4
    if isinstance(quarantine, pd.DataFrame):
        counts = {str(k): int(v) for k, v in quarantine["source_file"].astype(str).value_counts().items()}
        ordered = dict.fromkeys(counts, True)
    else:
        counts, ordered = _files_in_order(quarantine)
    wb = _StreamingWorkbook(dst)
    if not counts:
        wb.sheet("无隔离行 none", "隔离行", "Quarantined rows", headers, [])
        return wb.save()
    files = sorted(counts)
    parts = {f: -(-counts[f] // limit) for f in files}
    labels = [f for f in files for _ in range(parts[f])]
    sheet_names = iter(excel_sheet_names(labels))
    for file in files:
        rows = _FileRows(quarantine, file, cols, ordered[file])
        for k in range(parts[file]):
            note = f"源文件 source file: {file}"
            if parts[file] > 1:
                lo, hi = k * limit + 1, min((k + 1) * limit, counts[file])
                note += f" · 第 {k + 1}/{parts[file]} 部分，第 {lo:,}–{hi:,} 条 · part {k + 1} of {parts[file]}, rows {lo:,}–{hi:,}"
            wb.sheet(
                next(sheet_names),
                "隔离行",
                f"Quarantined rows of {file}",
                headers,
                [],
                note=note,
                frames=rows.take(limit),
            )
    return wb.save()


class _FileRows:
    """The quarantine rows of one source file by row in the file, handed out ``n`` at a time
    (:meth:`take`): from a frame, or read from the Parquet file one row group at a time (the
    row groups whose statistics cannot hold the file skipped). The quarantine is written by
    table, source file and row, so a file's rows are in order there; a file whose rows are not
    (``ordered`` false: one source file named in two tables) is gathered and sorted."""

    def __init__(self, quarantine: pd.DataFrame | Path, file: str, cols: list[str], ordered: bool) -> None:
        self._frames = self._read(quarantine, file, cols, ordered)
        self._rest: pd.DataFrame | None = None

    @staticmethod
    def _read(quarantine: pd.DataFrame | Path, file: str, cols: list[str], ordered: bool) -> Iterator[pd.DataFrame]:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        if isinstance(quarantine, pd.DataFrame):
            part = quarantine[(quarantine["source_file"].astype(str) == file).to_numpy()]
            if "source_row" in part.columns:
                part = part.sort_values("source_row", kind="stable")
            yield part[cols].reset_index(drop=True)
            return
        from cxlib.clean.layout import may_hold  # the lazy reads' test of a row group's statistics

        pf = pq.ParquetFile(quarantine)
        meta = pf.metadata
        names = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
        want = list(dict.fromkeys([*cols, "source_file", "source_row"]))
        gathered = []
        for g in range(meta.num_row_groups):
            if not may_hold(meta.row_group(g), names, {"source_file": (file, file)}):
                continue
            t = pf.read_row_group(g, columns=want)
            t = t.filter(pc.equal(t["source_file"], pa.scalar(file, t["source_file"].type)))
            if t.num_rows and ordered:
                yield t.select(cols).to_pandas()
            elif t.num_rows:
                gathered.append(t.to_pandas())
        if gathered:
            rows = pd.concat(gathered, ignore_index=True).sort_values("source_row", kind="stable")
            yield rows[cols].reset_index(drop=True)

    def take(self, n: int) -> Iterator[pd.DataFrame]:
        """The next ``n`` rows, in frames (a frame cut at the end leaves its rest for the next take)."""
        left = n
        while left > 0:
            frame, self._rest = self._rest, None
            if frame is None:
                frame = next(self._frames, None)
                if frame is None:
                    return
            if len(frame) > left:
                frame, self._rest = frame.iloc[:left], frame.iloc[left:].reset_index(drop=True)
            left -= len(frame)
            yield frame


def _files_in_order(path: Path) -> tuple[dict[str, int], dict[str, bool]]:
    """Rows per source file of a quarantine Parquet file, and whether each file's rows are
    contiguous and by row (two columns read, not the raw values)."""
    import numpy as np
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["source_file", "source_row"])
    files = t["source_file"].combine_chunks().dictionary_encode()
    codes = files.indices.to_numpy(zero_copy_only=False)
    rows = t["source_row"].to_numpy()
    names = files.dictionary.to_pylist()
    counts = np.bincount(codes, minlength=len(names)) if len(codes) else np.zeros(len(names), dtype=np.int64)
    ordered = {}
    for i, name in enumerate(names):
        at = np.flatnonzero(codes == i)
        ordered[str(name)] = bool((np.diff(rows[at]) >= 0).all())
    return {str(n): int(c) for n, c in zip(names, counts) if c}, ordered


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: Any) -> str:
    text = _XML_BAD.sub("\ufffd", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _rows_xml(frame: pd.DataFrame, first: int) -> str:
    """The rows of ``frame`` as SpreadsheetML ``<row>`` elements from row ``first`` on, built
    column by column with Arrow's string kernels (the cells :meth:`_StreamingWorkbook._row`
    writes: integers as numbers, anything else as inline text, missing values left out)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(frame)
    rnum = pc.cast(pa.array(np.arange(first, first + n, dtype=np.int64)), pa.string())
    parts = [pa.array(['<row r="'] * n), rnum, pa.array(['">'] * n)]
    for i, c in enumerate(frame.columns, start=1):
        col = frame[c]
        ref = _column_letter(i)
        if pd.api.types.is_integer_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            values = pc.cast(pa.array(col, from_pandas=True), pa.string())
            head, tail = f'<c r="{ref}', '"><v>'
            close = "</v></c>"
        else:
            if pd.api.types.is_string_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
                values = pc.cast(pa.array(col, from_pandas=True), pa.string())
            else:
                values = pa.array(
                    col.astype(object)
                    .where(col.notna(), None)
                    .map(lambda v: v if v is None or isinstance(v, str) else str(_cell(v))),
                    type=pa.string(),
                )
            values = pc.replace_substring_regex(values, "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd")
            for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
                values = pc.replace_substring(values, a, b)
            values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)  # as openpyxl: no cell
            head, tail = f'<c r="{ref}', '" t="inlineStr"><is><t xml:space="preserve">'
            close = "</t></is></c>"
        cell = pc.binary_join_element_wise(head, rnum, tail, values, close, "")
        parts.append(pc.fill_null(cell, ""))
    parts.append(pa.array(["</row>"] * n))
    return "".join(pc.binary_join_element_wise(*parts, "").to_pylist())


def _column_letter(i: int) -> str:
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


class _StreamingWorkbook:
    """An ``.xlsx`` written sheet by sheet as SpreadsheetML text into its zip file: numbers as
    numbers, text as inline strings (so text starting with ``=`` is shown, never run as a
    formula), the three styles of :func:`_write_sheet` (title, Chinese and English header rows)."""

    _STYLES = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="12"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="00E8EEF4"/><bgColor indexed="64"/></patternFill></fill>'
        '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )

    def __init__(self, dst: Path) -> None:
        import zipfile

        self.dst = Path(dst)
        self.tmp = self.dst.with_name(f".{self.dst.name}.tmp")
        self.zip = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names: list[str] = []

    @staticmethod
    def _row(r: int, values: Sequence[Any], style: int = 0) -> str:
        import numpy as np

        cells = []
        s = f' s="{style}"' if style else ""
        for c, v in enumerate(values, start=1):
            v = _cell(v)
            if v is not None and not isinstance(v, str) and np.ndim(v) == 0 and v != v:
                v = None  # NaN
            if (v is not None and type(v).__name__ == "NAType") or v == "":
                v = None
            ref = f"{_column_letter(c)}{r}"
            if v is None:
                if style:
                    cells.append(f'<c r="{ref}"{s}/>')
            elif isinstance(v, (bool, np.bool_)):
                cells.append(f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v):
                cells.append(
                    f'<c r="{ref}"{s}><v>{v!r}</v></c>'
                    if isinstance(v, float)
                    else f'<c r="{ref}"{s}><v>{int(v)}</v></c>'
                )
            else:
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_xml_text(v)}</t></is></c>')
        return f'<row r="{r}">{"".join(cells)}</row>'

    def sheet(
        self,
        name: str,
        title_zh: str,
        title_en: str,
        headers: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
        note: str | None = None,
        *,
        frames: Iterable[pd.DataFrame] | None = None,
    ) -> None:
        """One sheet: title line, optional note, the two header rows, then ``rows`` (a frame, or
        an iterable of rows), or the rows of ``frames`` one frame after the other."""
        import pandas as pd

        self.names.append(name)
        head = [self._row(1, [f"{title_zh} {title_en}"], 1)]
        if note:
            head.append(self._row(2, [note]))
        zh_row = len(head) + 1
        head += [self._row(zh_row, [zh for zh, _ in headers], 2), self._row(zh_row + 1, [en for _, en in headers], 3)]
        first = zh_row + 2
        widths = "".join(
            f'<col min="{i}" max="{i}" width="{min(max(len(zh) * 2, len(en), 8) + 2, 40)}" customWidth="1"/>'
            for i, (zh, en) in enumerate(headers, start=1)
        )
        pane = (
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{first - 1}" topLeftCell="A{first}" '
            f'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
        )
        with self.zip.open(f"xl/worksheets/sheet{len(self.names)}.xml", "w", force_zip64=True) as fh:
            fh.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    f'{pane}<sheetFormatPr defaultRowHeight="15"/>'
                    f"{'<cols>' + widths + '</cols>' if widths else ''}<sheetData>{''.join(head)}"
                ).encode()
            )
            n, block = 0, []
            if frames is not None:
                for frame in frames:
                    for start in range(0, len(frame), 50_000):
                        fh.write(_rows_xml(frame.iloc[start : start + 50_000], first + n + start).encode())
                    n += len(frame)
            elif isinstance(rows, pd.DataFrame):
                for start in range(0, len(rows), 50_000):
                    fh.write(_rows_xml(rows.iloc[start : start + 50_000], first + start).encode())
                n = len(rows)
            else:
                for n, row in enumerate(rows, start=1):
                    block.append(self._row(first + n - 1, row))
                    if len(block) >= 5000:
                        fh.write("".join(block).encode())
                        block = []
            if n == 0:
                block.append(self._row(first, ["无数据 no data"]))
            fh.write(("".join(block) + "</sheetData></worksheet>").encode())

    def save(self) -> Path:
        """Write the workbook's parts and put the file in place (atomically)."""
        n = len(self.names)
        sheets = "".join(
            f'<sheet name="{_xml_text(nm)}" sheetId="{i}" r:id="rId{i}"/>' for i, nm in enumerate(self.names, start=1)
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        rels += (
            f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/styles" Target="styles.xml"/>'
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        parts = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>'
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f"<sheets>{sheets}</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                "</Relationships>"
            ),
            "xl/styles.xml": self._STYLES,
        }
        try:
            for name, text in parts.items():
                self.zip.writestr(name, text)
            self.zip.close()
            os.replace(self.tmp, self.dst)
        except BaseException:
            self.zip.close()
            self.tmp.unlink(missing_ok=True)
            raise
        return self.dst
