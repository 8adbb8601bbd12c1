"""Scheduled reports: the numbered notebooks run with papermill per period and center.

    cx report --raw data/raw --period 2026-10 --center SH-JQ --out reports --jobs 2
    cx report --period 2026-08..2026-10 --center all
    cx report --params run.yaml
    cx report --period 2026-10 --center all --timeout 1800

Each center's run is written to ``reports/<period>/<folder>/``: the executed notebooks, their
HTML versions with code hidden, ``results.json`` (keys in ``docs/results.md``) and
``manifest.json`` (parameters, raw-data fingerprint, package versions, start, end, duration
and status per notebook), ``summary.xlsx`` (unless ``--xlsx no``) and with ``--pdf`` every page
as PDF (:mod:`cxlib.share`). ``reports/<period>/index.html`` lists every report in the period
folder (earlier runs' too), the network first, with its headline figures, the summary first;
above them the period's alerts, below a league table and funnel plot of the centers against
the network (:mod:`cxlib.league`, from the processed data); ``alerts.json`` holds the alerts,
``quarantine.xlsx`` the quarantined rows and ``reports/<period>/run.log`` the log. The folder
is the center id when the id is a plain ASCII slug (``SH-JQ``), otherwise an ASCII form of it
with a short hash (:func:`cxlib.safe.center_folder`); the network report is ``all``.

Failure semantics: a failing notebook keeps papermill's error cell in its executed copy, the
center is marked failed in its manifest, the other centers go on, and the exit code is 1. A
cell running past ``--timeout`` seconds or a dying kernel fails its notebook the same way (its
copy carries a banner naming the error) and the next notebook gets a new kernel.
Every center is built in a hidden temporary folder and renamed into place when complete, so a
killed run never leaves a report that looks complete. A lock (``fcntl.flock`` on
``<period>/.lock``, released by the OS when its holder dies) refuses a second run on the same
period folder while the first is alive. The workers of a parallel run die with it, even when
it is killed with SIGKILL (``PR_SET_PDEATHSIG`` and a watchdog on the parent), and check that
it lives before they rename a report into place. The reports folder must not be, hold or lie
inside the raw or processed folder (:func:`cxlib.folders.check_report_folders`). Parameters are validated before anything runs:
center ids must exist and pass :func:`cxlib.safe.check_center_id` (for ``--center all`` too),
periods must be ``YYYY-MM`` (or ``YYYY-MM..YYYY-MM``, or ``all``) and hold visits. The pages show data as
text: HTML escaped, links relative and percent-encoded, no MathJax to typeset ``$…$``.

    >>> parse_period("2026-08..2026-10")
    Period(start='2026-08', end='2026-10', folder='2026-08_2026-10')
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import html
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cxlib import options as run_options
from cxlib import safe
from cxlib.catalog import DEFAULT_TZ, label
from cxlib.errors import DataError
from cxlib.folders import FolderLock, check_report_folders
from cxlib.notebooks import WarmKernel, error_line, import_statements, numbered_notebooks, run_notebook
from cxlib.privacy import MaskingFilter
from cxlib.share import add_print_stylesheet

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
SUMMARY_NOTEBOOK = "05_summary"
PACKAGES = ("cxlib", "pandas", "numpy", "pyarrow", "statsmodels", "scipy", "seaborn", "matplotlib",
            "papermill", "nbconvert")
# the options of a run, from the one table of options (command line and params file alike)
RUN_KEYS = frozenset(run_options.BY_NAME)
# parameters handed to the notebooks (each notebook gets the ones its parameters cell declares)
NOTEBOOK_KEYS = run_options.NOTEBOOK_KEYS
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

log = logging.getLogger("cxlib.report")


@dataclass(frozen=True)
class Period:
    """A reporting period of whole months; ``start``/``end`` None means all data."""

    start: str | None
    end: str | None
    folder: str


def parse_period(text: str) -> Period:
    """``2026-10``, ``2026-08..2026-10`` or ``all`` → :class:`Period` (DataError otherwise).

        >>> parse_period("2026-10").folder
        '2026-10'
    """
    text = str(text).strip()
    if text == "all":
        return Period(None, None, "all")
    parts = text.split("..")
    if len(parts) not in (1, 2) or not all(_PERIOD.match(p) for p in parts):
        raise DataError(f"period {text!r} is not YYYY-MM, YYYY-MM..YYYY-MM or 'all'", column="period")
    start, end = parts[0], parts[-1]
    if start > end:
        raise DataError(f"period {text!r} ends before it starts", column="period")
    return Period(start, end, start if start == end else f"{start}_{end}")


def resolve_centers(spec: str | list[str], known: list[str]) -> list[str]:
    """Center ids of a ``--center`` value: ``all``, one id, or ids separated by commas.

    Ids are checked against the centers of the processed data, and every id that will run
    (each center of ``all`` included) by :func:`cxlib.safe.check_center_id`, with a report
    folder of its own (:func:`report_folder`).

        >>> resolve_centers("SH-JQ,BJ-CY", ["BJ-CY", "SH-JQ", "GZ-TH"])
        ['SH-JQ', 'BJ-CY']
    """
    items = _center_items(spec)
    if not items:
        raise DataError("no center given", column="center")
    if items == [safe.NETWORK]:
        ids = sorted(known)
        centers = [safe.NETWORK] + ids
    else:
        bad = [c for c in items if c != safe.NETWORK and c not in known]
        if bad:
            raise DataError(f"unknown center {bad[0]!r}; known centers: {', '.join(sorted(known))} or 'all'",
                            column="center")
        centers = list(dict.fromkeys(items))
        ids = [c for c in centers if c != safe.NETWORK]
    for c in ids:
        safe.check_center_id(c, column="center")
    safe.center_folders(ids)
    return centers


def report_folder(center: str) -> str:
    """The folder of a run inside the period folder: ``all`` for the network report, otherwise
    the center's :func:`cxlib.safe.center_folder` (never ``all``, never starting with ``.``).

        >>> report_folder("all"), report_folder("SH-JQ"), report_folder("上海-金桥")
        ('all', 'SH-JQ', 'center--e5c90ea8c9')
    """
    return safe.NETWORK if center == safe.NETWORK else safe.center_folder(center)


def _center_items(spec: str | list[str]) -> list[str]:
    """The items of a ``--center`` value (a list, or ids separated by commas), trimmed, none empty."""
    items = spec if isinstance(spec, list) else str(spec).split(",")
    return [str(s).strip() for s in items if str(s).strip()]


def _one_center(spec: str | list[str]) -> bool:
    """Whether a ``--center`` value names exactly one center (before the ids are checked)."""
    items = _center_items(spec)
    return len(items) == 1 and items[0] != "all"


def _check_safe(name: str, value: Any) -> None:
    """Refuse parameter values that could escape a folder (used on every string parameter)."""
    if name not in ("raw", "processed", "out", "cases_file", "tz"):  # paths, and tz (an IANA name)
        run_options.refuse_path(name, value)


def read_params(path: Path) -> dict[str, Any]:
    """Run parameters from a YAML file (keys as the command-line options, e.g. ``center: [SH-JQ]``),
    checked against the table of options (:mod:`cxlib.options`): one error line naming the file
    and the option.

        >>> read_params(Path("run.yaml"))  # doctest: +SKIP
        {'period': '2026-10', 'center': ['SH-JQ', 'BJ-CY'], 'jobs': 2}
    """
    return run_options.check(run_options.load_params(Path(path)), file=str(path))


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a report depends on."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ------------------------------------------------------------------ lock
class ReportLock(FolderLock):
    """The lock of a period folder, ``.lock``: an ``flock`` that the OS releases when the run
    holding it dies (the file stays; its pid text is informative only). A second run on the
    same period folder is refused with one error line while the first is alive.

        >>> with ReportLock(Path("reports/2026-10")):  # doctest: +SKIP
        ...     pass
    """

    def __init__(self, folder: Path):
        super().__init__(Path(folder) / ".lock", "report run", wait=0.0)

    def __enter__(self) -> ReportLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        super().__enter__()
        return self


# ------------------------------------------------------------------ one center
@dataclass
class NotebookRun:
    notebook: str
    status: str = "pending"
    start: str | None = None
    end: str | None = None
    seconds: float | None = None
    error: str | None = None


@dataclass
class CenterRun:
    center: str
    period: str
    folder: str
    status: str = "ok"
    notebooks: list[NotebookRun] = field(default_factory=list)
    #: files written beside the notebooks (PDFs, summary.xlsx) and the errors of those that failed
    exports: list[str] = field(default_factory=list)
    export_errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return ([f"{self.center}/{n.notebook}: {n.error}" for n in self.notebooks if n.status == "failed"]
                + [f"{self.center}/{e}" for e in self.export_errors])


def parameters_for(notebook: Path, candidates: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``candidates`` that ``notebook`` declares in its ``parameters`` cell.

        >>> parameters_for(Path("notebooks/01_cleaning.ipynb"), {"raw_dir": "x", "budget": 1})  # doctest: +SKIP
        {'raw_dir': 'x'}
    """
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    return {k: v for k, v in candidates.items() if k in declared}


def to_html(executed: Path, dst: Path, lang: str | None = None) -> None:
    """Render an executed notebook to HTML with the code cells hidden (outputs are escaped).

    The prose is in the run's language: every markdown cell keeps the blocks of ``lang``
    (:func:`cxlib.lang.pick`; Chinese first for "both"); without ``lang``, the ``lang`` the
    notebook was executed with (papermill's parameters), else "both". The executed notebook
    itself keeps every block. The page's ``<title>`` is its scope line (:func:`page_title`), the
    same text as the scope block at its top, in whatever language. The page loads nothing from the internet (:data:`REPORT_TEMPLATE`): no MathJax (the report
    has no math to show, and ``$…$`` in a comment or a name is shown as written), no require.js;
    it carries the print stylesheet (A4, no table cut across pages) and its CJK font.

        >>> to_html(Path("reports/2026-10/SH-JQ/05_summary.ipynb"), Path("05_summary.html"))  # doctest: +SKIP
    """
    import nbformat

    from cxlib.lang import notebook_lang, pick_cells

    nb = nbformat.read(executed, as_version=4)
    pick_cells(nb, lang or notebook_lang(nb))
    title = page_title(nb)
    if title is not None:
        nb.metadata["title"] = title  # the lab template's <title> (escaped by the template)
    body, _ = _exporter().from_notebook_node(nb)
    dst.write_text(embed_cjk_font(add_print_stylesheet(body)), encoding="utf-8")


def page_title(nb: Any) -> str | None:
    """The scope line a notebook showed (:class:`cxlib.results.Scope`, found by the metadata of
    its first output that carries :data:`cxlib.results.SCOPE_METADATA`), or None when it showed none.

        >>> import nbformat
        >>> page_title(nbformat.v4.new_notebook()) is None
        True
    """
    from cxlib.results import SCOPE_METADATA

    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            entry = (out.get("metadata") or {}).get(SCOPE_METADATA)
            if isinstance(entry, dict) and isinstance(entry.get("title"), str):
                return entry["title"]
    return None


#: nbconvert's lab template without anything it would load from the internet: no MathJax (data
#: text is never typeset as math), no require.js, no Mermaid, no widget manager (all from CDNs);
#: the print stylesheet (:data:`cxlib.share.PRINT_CSS`) is added by :func:`to_html`
REPORT_TEMPLATE = ("{%- extends 'lab/index.html.j2' -%}\n"
                   "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
                   "{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}\n"
                   "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
                   "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n")


@functools.cache
def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                        raw_template=REPORT_TEMPLATE)


def _warm_html() -> None:
    """Prepare the HTML export (nbconvert and its templates, the font) ahead of the first page."""
    import nbformat

    _exporter().from_notebook_node(nbformat.v4.new_notebook())
    _cjk_face()


_EMBED_FAMILY = "CX Noto Sans SC"
_CJK_RANGES = "U+2E80-2FDF,U+3000-33FF,U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF,U+FE30-FE4F,U+FF00-FFEF"


@functools.cache
def _cjk_face():
    """The bundled CJK font, read once and prepared by HarfBuzz for repeated subsetting."""
    import uharfbuzz as hb

    from cxlib.fonts import cjk_font_path

    return hb.subset_preprocess(hb.Face(hb.Blob.from_file_path(str(cjk_font_path()))))


def embed_cjk_font(page: str) -> str:
    """Make a report page show its Chinese text on any machine, with no system fonts.

    The bundled Noto Sans SC (SIL OFL) is cut down by HarfBuzz's subsetter (milliseconds) to
    the characters the page uses (tens of kilobytes) and embedded as a ``data:`` URI with
    ``@font-face``, limited to CJK code points so that Latin text keeps the reader's own fonts.
    A page without non-ASCII text is returned unchanged.

        >>> "@font-face" in embed_cjk_font("<html><head></head><body>等待</body></html>")
        True
    """
    import base64

    import uharfbuzz as hb

    chars = sorted({ch for ch in page if ord(ch) > 127})
    if not chars or "</head>" not in page:
        return page
    spec = hb.SubsetInput()
    for ch in chars:
        spec.unicode_set.add(ord(ch))
    spec.layout_feature_tag_set.clear()  # no GSUB/GPOS: CJK text needs no shaping here
    subset = hb.subset(_cjk_face(), spec)
    if subset is None:  # pragma: no cover - HarfBuzz returns no face only on a broken font file
        raise RuntimeError("HarfBuzz could not cut the bundled CJK font down to the page's characters")
    data = base64.b64encode(subset.blob.data).decode("ascii")
    # listed first but limited to CJK code points, so Latin text keeps the reader's own font
    style = (f'<style>@font-face{{font-family:"{_EMBED_FAMILY}";src:url(data:font/otf;base64,{data}) format("opentype");'
             f'unicode-range:{_CJK_RANGES};}}'
             f'body,table,td,th,p,h1,h2,h3,li,.jp-RenderedHTMLCommon{{font-family:"{_EMBED_FAMILY}",system-ui,'
             f'"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}}</style>')
    return page.replace("</head>", style + "</head>", 1)


def warm_kernel(notebook_dir: Path = NOTEBOOK_DIR) -> WarmKernel:
    """A :class:`WarmKernel` for the numbered notebooks that preloads their imports."""
    return WarmKernel(notebook_dir, preload=import_statements(numbered_notebooks(notebook_dir)))


def run_center(center: str, period: Period, base: dict[str, Any], period_dir: Path,
               notebook_dir: Path = NOTEBOOK_DIR, progress: bool = False,
               kernel: WarmKernel | None = None, timeout: float | None = None,
               on_notebook: Callable[..., None] | None = None,
               exports: tuple[str, ...] = ()) -> CenterRun:
    """Run every numbered notebook for one center into ``period_dir/<folder>`` (atomically;
    the folder is :func:`report_folder` of the center).

    The notebooks run in ``kernel`` when given (a started :class:`WarmKernel`, shared by the
    centers of a sequential run), otherwise in a warm kernel of their own. A cell running
    longer than ``timeout`` seconds fails its notebook. ``on_notebook(center, notebook, status,
    error)`` is called after each notebook (for a progress bar and the failure line).
    ``exports`` may hold ``"pdf"`` (every page printed by :func:`cxlib.share.print_pdf`) and
    ``"xlsx"`` (``summary.xlsx`` from ``results.json``, :func:`cxlib.share.summary_workbook`),
    written before the folder is renamed into place; an export that fails fails the center.
    A long step of a notebook (a bootstrap, a large fit) writes its progress to
    ``period_dir/run.log`` (:mod:`cxlib.progress`), not into the executed notebook; aggregations
    the summary shows again are computed once per center's run (:mod:`cxlib.runcache`).

        >>> run_center("SH-JQ", parse_period("2026-10"), {}, Path("reports/2026-10"))  # doctest: +SKIP
    """
    folder = report_folder(center)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{folder}-", dir=period_dir))
    run = CenterRun(center=center, period=period.folder, folder=str(period_dir / folder))
    started = dt.datetime.now().astimezone()
    params = dict(base, center=center, period_start=period.start, period_end=period.end,
                  results_file=str(tmp / "results.json"))
    if base.get("raw_dir") and base.get("processed_dir"):  # checked by this run: the notebooks need not hash it again
        from cxlib import runcache

        runcache.mark_checked(tmp / ".cx-cache", base["raw_dir"], base["processed_dir"],
                              base.get("tz", DEFAULT_TZ), base.get("_fingerprint"))
    try:
        # one warm kernel per center (namespace emptied between notebooks); the HTML of a
        # notebook is rendered while the next one runs
        with contextlib.ExitStack() as stack:
            own_kernel = kernel is None
            if own_kernel:
                kernel = stack.enter_context(warm_kernel(notebook_dir))
            html_pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            # done while the kernel starts or the first notebook runs
            renders = [html_pool.submit(_warm_html)]
            for nb in numbered_notebooks(notebook_dir):
                rec = NotebookRun(nb.stem, start=dt.datetime.now().astimezone().isoformat(timespec="seconds"))
                t0 = time.perf_counter()
                executed = tmp / nb.name
                try:
                    run_notebook(nb, executed, parameters_for(nb, params), progress_bar=progress, kernel=kernel,
                                 timeout=timeout, progress_log=period_dir / "run.log",
                                 progress_label=f"{center} {nb.stem}", run_cache=tmp / ".cx-cache")
                    rec.status = "ok"
                except Exception as exc:  # noqa: BLE001 - recorded in the manifest; the run exits non-zero
                    rec.status, rec.error = "failed", error_line(exc)
                    run.status = "failed"
                    log.error("%s %s %s failed: %s", period.folder, center, nb.stem, rec.error)
                rec.seconds = round(time.perf_counter() - t0, 2)
                rec.end = dt.datetime.now().astimezone().isoformat(timespec="seconds")
                if executed.exists():
                    renders.append(html_pool.submit(to_html, executed, executed.with_suffix(".html"),
                                                   params.get("lang")))
                run.notebooks.append(rec)
                log.info("%s %s %s %s in %.1f s", period.folder, center, nb.name, rec.status, rec.seconds)
                if on_notebook is not None:
                    on_notebook(center, nb.stem, rec.status, rec.error)
            if own_kernel:
                kernel.release()
            shutil.rmtree(tmp / ".cx-cache", ignore_errors=True)  # the run's shared aggregations
            for r in renders:
                r.result()
        _write_exports(run, tmp, exports, period)
        manifest = {
            "center": center, "period": asdict(period), "status": run.status,
            "parameters": {k: v for k, v in params.items() if k != "results_file"},
            "cell_timeout_s": timeout,
            "raw_fingerprint": base.get("_fingerprint"),
            "packages": package_versions(),
            "start": started.isoformat(timespec="seconds"),
            "end": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "notebooks": [asdict(n) for n in run.notebooks],
            "exports": run.exports,
            "export_errors": run.export_errors,
        }
        manifest["parameters"].pop("_fingerprint", None)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if not _parent_alive():
            os._exit(1)  # the run was killed: no report may appear after it
        final = period_dir / folder
        old = period_dir / f".old-{folder}"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return run
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_exports(run: CenterRun, folder: Path, exports: tuple[str, ...], period: Period) -> None:
    """The PDFs and ``summary.xlsx`` of a center's report, written into its (temporary) folder."""
    from cxlib import share

    if "xlsx" in exports and (folder / "results.json").exists():
        try:
            results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
            share.summary_workbook(results, folder / "summary.xlsx")
            run.exports.append("summary.xlsx")
        except (OSError, ValueError) as exc:
            run.export_errors.append(f"summary.xlsx: {error_line(exc)}")
    if "pdf" in exports:
        pages = sorted(folder.glob("*.html"), key=lambda p: (SUMMARY_NOTEBOOK not in p.name, p.name))
        try:
            run.exports += [p.name for p in share.print_pdf(pages)]
        except DataError as exc:
            run.export_errors.append(f"pdf: {exc.message}")
    for e in run.export_errors:
        run.status = "failed"
        log.error("%s %s export failed: %s", period.folder, run.center, e)


_WORKER_KERNELS: dict[str, WarmKernel] = {}
#: the queue through which a worker of a parallel run reports each notebook back (None outside)
_PROGRESS: Any = None
#: pid of the run that started this worker process (None outside a worker)
_PARENT_PID: int | None = None


def _parent_alive() -> bool:
    """Whether the run that started this worker still lives (always True outside a worker)."""
    return _PARENT_PID is None or os.getppid() == _PARENT_PID


def _init_worker(parent: int, progress: Any = None) -> None:
    """Make a worker of a parallel run die with the run, however the run dies (kill -9 too).

    On Linux the kernel sends the worker SIGKILL when the run dies (``PR_SET_PDEATHSIG``); a
    watchdog thread also exits the worker within a fifth of a second once its parent changed
    (any system). The notebooks' kernels end themselves when their worker is gone (ipykernel
    watches its parent), and :func:`run_center` checks the parent before renaming a report
    into place.
    """
    global _PARENT_PID, _PROGRESS
    _PARENT_PID = parent
    _PROGRESS = progress
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog remains
            pass
    if not _parent_alive():  # died before the death signal was set
        os._exit(1)

    def watch() -> None:
        while _parent_alive():
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _worker_kernel(notebook_dir: Path) -> WarmKernel:
    """The warm kernel of a worker process of a parallel run: started for its first center,
    kept for the next ones, shut down when the worker exits."""
    import multiprocessing.util

    key = str(notebook_dir)
    if key not in _WORKER_KERNELS:
        kernel = warm_kernel(notebook_dir).__enter__()
        multiprocessing.util.Finalize(kernel, kernel.__exit__, args=(None, None, None), exitpriority=10)
        _WORKER_KERNELS[key] = kernel
    return _WORKER_KERNELS[key]


def _report_back(center: str, notebook: str, status: str = "ok", error: str | None = None) -> None:
    """Send one finished notebook of a worker back to the run (its progress bar and failure line)."""
    if _PROGRESS is not None:
        _PROGRESS.put((center, notebook, status, error))


def _run_center_job(args: tuple) -> CenterRun:
    center, period, base, period_dir, notebook_dir, log_file, timeout, exports = args
    _setup_logging(Path(log_file), console=False)
    return run_center(center, period, base, Path(period_dir), Path(notebook_dir),
                      kernel=_worker_kernel(Path(notebook_dir)), timeout=timeout, on_notebook=_report_back,
                      exports=exports)


def check_segment_option(processed_dir: Path, segment: Any) -> str:
    """The ``segment`` run option checked against the processed visits' columns (their schema
    only, nothing is loaded) before any notebook runs: one :class:`DataError` listing the
    columns a report can be segmented by otherwise.

        >>> check_segment_option(Path("data/processed"), "vehicle_model")  # doctest: +SKIP
        'vehicle_model'
    """
    import pyarrow.parquet as pq

    from cxlib import clean

    visits = pq.read_schema(Path(processed_dir) / "visits.parquet").empty_table().to_pandas()
    quality = json.loads((Path(processed_dir) / "quality.json").read_text(encoding="utf-8"))
    return clean.check_segment(visits, segment, clean.given_tables(quality))


# ------------------------------------------------------------------ index
def _fmt(x: Any, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}" if isinstance(x, (int, float)) else html.escape(str(x))


def _estimate_ci(entry: dict[str, Any], key: str = "estimate", digits: int = 2) -> str:
    """``value [ci_low, ci_high]`` of a results entry (its ``key``), or a dash when it has none,
    "not provided" when its table was not given."""
    if entry.get("provided") is False:
        return "not provided 未提供"
    if entry.get(key) is None:
        return "–"
    return f"{_fmt(entry[key], digits)} [{_fmt(entry.get('ci_low'), digits)}, {_fmt(entry.get('ci_high'), digits)}]"


def headline(results: dict[str, Any]) -> dict[str, str]:
    """Headline figures of one center's ``results.json`` as display strings.

        >>> headline({"nps": {"value": 12.0, "ci_low": 5.0, "ci_high": 19.0, "n": 300}})["NPS"]
        '12.0 [5.0, 19.0]'
    """
    nps = results.get("nps") or {}
    rr = results.get("complaint_rate_ratio_per_update") or {}
    did = results.get("did_realtime_effect") or {}
    out = {
        "NPS": _estimate_ci(nps, key="value", digits=1),
        "n": _fmt(nps.get("n"), 0) if nps else "–",
        "complaint RR / update": _estimate_ci(rr),
        "real-time DiD (LTR)": _estimate_ci(did.get("ltr") or {}),
    }
    pains = results.get("pain_points") or []
    if isinstance(pains, dict):  # a "not provided" / "not computed" marker, not a ranking
        out["top pain point"] = "not provided 未提供" if pains.get("provided") is False else "–"
    else:
        out["top pain point"] = html.escape(label(str(pains[0].get("point")))) if pains else "–"
    return out


def report_folders(period_dir: Path) -> list[dict[str, Any]]:
    """Every center's report in a period folder, from earlier runs too: its folder, center id,
    manifest and results (empty when unreadable), the network (``all``) first, then by center id.
    Hidden folders (runs in progress, leftovers) are not reports.

        >>> [r["center"] for r in report_folders(Path("reports/2026-10"))]  # doctest: +SKIP
        ['all', 'BJ-CY', 'SH-JQ']
    """
    out = []
    for folder in sorted(p for p in Path(period_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        man_file = folder / "manifest.json"
        if not man_file.is_file():
            continue
        entry: dict[str, Any] = {"folder": folder.name, "manifest": {}, "results": {}}
        for key, name in (("manifest", "manifest.json"), ("results", "results.json")):
            try:
                entry[key] = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
        entry["center"] = str(entry["manifest"].get("center") or folder.name)
        out.append(entry)
    return sorted(out, key=lambda e: (e["center"] != safe.NETWORK, e["center"]))


def _ci_text(value: Any, low: Any, high: Any, digits: int = 0, scale: float = 1, unit: str = "") -> str:
    if value is None or value != value:
        return "–"
    return (f"{value * scale:.{digits}f}{unit} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"
            if low is not None and low == low else f"{value * scale:.{digits}f}{unit}")


def _league_rows(league: Any, have: dict[str, str]) -> str:
    """Rows of the league table (network first); a center with a report links to its summary."""
    rows = []
    flags = {"above": "▲ 高于控制限 above limit", "below": "▼ 低于控制限 below limit", "inside": "", None: ""}
    for r in league.to_dict("records"):
        name = "全网络 network" if r["center"] == safe.NETWORK else r["center"]
        cell = html.escape(name)
        if r["center"] in have:
            cell = f'<a href="{_href(have[r["center"]], SUMMARY_NOTEBOOK + ".html")}">{cell}</a>'
        small = r["n_responses"] < 30
        flag_n = flags.get(r.get("nps_funnel") if r.get("nps_funnel") == r.get("nps_funnel") else None, "")
        flag_c = flags.get(r.get("complaint_funnel") if r.get("complaint_funnel") == r.get("complaint_funnel") else None,
                           "")
        cls = ' class="small"' if small else ""
        rows.append(f"<tr{cls}><td>{cell}</td>"
                    f"<td>{_ci_text(r['nps'], r['nps_ci_low'], r['nps_ci_high'])}</td><td>{r['n_responses']}"
                    f"{' ⚠ n &lt; 30' if small else ''}</td><td>{html.escape(flag_n)}</td>"
                    f"<td>{_ci_text(r['complaint_share'], r['complaint_ci_low'], r['complaint_ci_high'], 1, 100, ' %')}"
                    f"</td><td>{r['complaints_n']}</td><td>{html.escape(flag_c)}</td></tr>")
    return "\n".join(rows)


def write_index(period_dir: Path, runs: list[CenterRun] | None = None, league: Any = None,
                alerts: dict[str, Any] | None = None) -> Path:
    """``index.html`` of a period: the alerts first, then every report in the period folder
    (:func:`report_folders`: this run's and earlier runs', the network first) with its filters,
    headline figures and pages, then the league table of the centers against the network with
    its funnel plot (:mod:`cxlib.league`) when ``league`` is given.

    Links are relative to the period folder, their path segments percent-encoded, and every
    text from the data is HTML-escaped: a center id is only ever shown as text. ``runs`` (this
    run's centers) only mark a center failed whose folder has no manifest yet.

        >>> write_index(Path("reports/2026-10"))  # doctest: +SKIP
        PosixPath('reports/2026-10/index.html')
    """
    period_dir = Path(period_dir)
    entries = report_folders(period_dir)
    listed = {e["folder"] for e in entries}
    for run in runs or []:
        if Path(run.folder).name not in listed:  # a run whose folder has no manifest
            res_file = period_dir / Path(run.folder).name / "results.json"
            res = json.loads(res_file.read_text(encoding="utf-8")) if res_file.is_file() else {}
            entries.append({"folder": Path(run.folder).name, "center": run.center, "results": res,
                            "manifest": {"status": run.status}})
    rows = []
    for e in entries:
        folder = period_dir / e["folder"]
        man = e["manifest"]
        head = headline(e["results"])
        files = [p.name for p in folder.glob("*") if p.suffix in (".html", ".pdf", ".xlsx")] if folder.is_dir() else []
        files.sort(key=lambda n: (SUMMARY_NOTEBOOK not in n, n.endswith(".xlsx"), n))
        link_html = " · ".join(f'<a href="{_href(folder.name, n)}">{html.escape(n)}</a>' for n in files)
        status = "ok" if man.get("status", "ok") == "ok" else '<b class="failed">failed 失败</b>'
        params = man.get("parameters") or {}
        filters = ", ".join(f"{k}={params[k]}" for k in ("scenario", "segment", "lang") if k in params) or "–"
        when = str(man.get("end") or "–")[:16].replace("T", " ")
        name = "全网络 network" if e["center"] == safe.NETWORK else e["center"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in
                    [html.escape(name), status, html.escape(filters), html.escape(when), *head.values(), link_html])
                    + "</tr>")
    cols = ["center 门店", "status 状态", "filters 筛选", "run 运行时间", "NPS [95% CI]", "n",
            "complaint RR / update 投诉率比/次更新", "real-time DiD (LTR) 实时进度效应", "top pain point 首要痛点",
            "reports 报告"]
    alert_html = ""
    if alerts is not None:
        items = alerts.get("alerts") or []
        lis = "".join(f'<li class="{html.escape(a.get("direction", ""))}">{html.escape(a["message"])}</li>'
                      for a in items)
        prev = alerts.get("previous_period")
        against = (f"对比上期 against {html.escape(prev['start'])}"
                   + (f"..{html.escape(prev['end'])}" if prev["end"] != prev["start"] else "")) if prev else ""
        note = f'<p class="note">{html.escape(alerts["note"])}</p>' if alerts.get("note") else ""
        body = f"<ul>{lis}</ul>" if items else "<p>无预警 no alerts</p>"
        alert_html = (f'<section class="alerts"><h2>预警 Alerts ({len(items)})</h2>'
                      f"<p>显著变化（Holm 校正，α = {alerts.get('alpha')}）{against}，或超出 99.8% 漏斗控制限"
                      f"（已计入门店间的过度离散，Spiegelhalter 2005）· "
                      f"significant change (Holm-corrected) or outside the 99.8% funnel limits (allowing for "
                      f"between-center overdispersion, Spiegelhalter 2005) · "
                      f'<a href="alerts.json">alerts.json</a></p>{note}{body}</section>')
    league_html = ""
    if league is not None:
        from cxlib import league as league_mod

        have = {e["center"]: e["folder"] for e in entries
                if (period_dir / e["folder"] / f"{SUMMARY_NOTEBOOK}.html").is_file()}
        league_html = (
            "<h2>门店排名 Centers against the network</h2>"
            "<p>本期全部场景的处理后数据 · processed data of the period, all scenarios; NPS with adjusted-Wald 95% CI, "
            "complaint share with Wilson 95% CI; rows with n &lt; 30 responses greyed.</p>"
            "<table><thead><tr><th>门店 center</th><th>NPS [95% CI]</th><th>回复数 n responses</th>"
            "<th>NPS 漏斗 funnel</th><th>投诉占比 complaint share [95% CI]</th><th>工单数 n visits</th>"
            "<th>投诉漏斗 funnel</th></tr></thead><tbody>" + _league_rows(league, have) + "</tbody></table>"
            f'<figure><img alt="funnel plot 漏斗图" src="{league_mod.funnel_png(league)}">'
            "<figcaption>漏斗图：各门店相对全网络的 NPS 与投诉占比，虚线 95%、点线 99.8% 控制限；门店间差异超出抽样误差时，"
            "控制限按门店间标准差加宽（加性随机效应，Spiegelhalter 2005），红点在 99.8% 控制限之外 · funnel plot: "
            "centers against the network value with 95% (dashed) and 99.8% (dotted) control limits by n, widened by "
            "the between-center SD when the centers differ beyond sampling noise (additive random effects, "
            "Spiegelhalter 2005); red points lie outside the 99.8% limits.</figcaption></figure>"
            + "".join(f'<p class="note">{html.escape(line)}</p>'
                      for line in league_mod.overdispersion_text(league).splitlines()))
    extra = ' · <a href="quarantine.xlsx">quarantine.xlsx 隔离行</a>' if (period_dir / "quarantine.xlsx").exists() else ""
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>客户体验报告 CX reports {html.escape(period_dir.name)}</title>
<style>body{{font-family:"Noto Sans SC","Microsoft YaHei",sans-serif;margin:2em}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:.3em .6em}}td{{white-space:nowrap}}
.failed{{color:#b00}}.alerts{{border:2px solid #c0392b;padding:.2em 1em;margin-bottom:1.5em}}.alerts li.worse{{color:#b00}}
.alerts li.better{{color:#1a6b2f}}tr.small td{{color:#888}}.note{{color:#555}}img{{max-width:100%}}
figcaption{{font-size:.9em;color:#444}}</style>
</head><body><h1>客户体验报告 CX reports — {html.escape(period_dir.name)}</h1>
{alert_html}
<h2>报告 Reports</h2>
<table><thead><tr>{''.join(f'<th>{html.escape(c)}</th>' for c in cols)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>{extra}
{league_html}
</body></html>
"""
    tmp = period_dir / ".index.html.tmp"
    tmp.write_text(embed_cjk_font(add_print_stylesheet(page)), encoding="utf-8")
    os.replace(tmp, period_dir / "index.html")
    return period_dir / "index.html"


def _href(*segments: str) -> str:
    """A relative link from the period folder, each path segment percent-encoded, for an attribute.

        >>> _href("SH-JQ", "05_summary.html"), _href("a b", "x?y.html")
        ('SH-JQ/05_summary.html', 'a%20b/x%3Fy.html')
    """
    return html.escape("/".join(urllib.parse.quote(s, safe="") for s in segments), quote=True)


# ------------------------------------------------------------------ orchestration
def _setup_logging(log_file: Path, console: bool) -> None:
    """The run log (file) and, with ``console``, warnings on stderr; every line personal data masked."""
    log.setLevel(logging.INFO)
    for h in list(log.handlers):
        log.removeHandler(h)
    fh = logging.FileHandler(log_file, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    fh.addFilter(MaskingFilter())
    # a worker's failure, already in the log file, shown on the terminal by the run
    fh.addFilter(lambda record: not getattr(record, "console_only", False))
    log.addHandler(fh)
    if console:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("cx report: %(message)s"))
        sh.setLevel(logging.WARNING)
        sh.addFilter(MaskingFilter())
        log.addHandler(sh)
    log.propagate = False


def run_reports(raw_dir: Path, processed_dir: Path, out_dir: Path, period: str = "all",
                center: str | list[str] = "all", jobs: int = 1, options: dict[str, Any] | None = None,
                notebook_dir: Path = NOTEBOOK_DIR, tz: str = DEFAULT_TZ,
                timeout: float | None = None) -> tuple[Path, list[CenterRun]]:
    """Run the report for a period and centers; return the period folder and each center's run.

        >>> run_reports(Path("data/raw"), Path("data/processed"), Path("reports"), "2026-10", "SH-JQ")  # doctest: +SKIP
    """
    # the same checks as the command line's (a caller may pass values as text or as YAML gives them)
    options = run_options.check(dict(options or {}))
    tz = options.pop("tz", tz)  # one time zone for the cleaning and the notebooks
    exports = tuple(name for name in ("pdf", "xlsx") if options.pop(name, run_options.BY_NAME[name].default))
    if "pdf" in exports:
        from cxlib.share import chromium_path

        chromium_path()  # refused before anything runs when no browser can print
    for k, v in options.items():
        _check_safe(k, v)
    per = parse_period(period)
    # absolute: the notebooks run in their own folder, and papermill moves this process there
    # while a notebook runs (the HTML of the one before is rendered meanwhile)
    check_report_folders(Path(raw_dir), Path(processed_dir), Path(out_dir))
    raw_dir, processed_dir, out_dir = (Path(p).resolve() for p in (raw_dir, processed_dir, out_dir))
    with contextlib.ExitStack() as stack:
        # a sequential run shares one kernel, started while the processed data are checked
        kernel = stack.enter_context(warm_kernel(notebook_dir)) if jobs <= 1 or _one_center(center) else None
        return _run_reports(raw_dir, processed_dir, out_dir, per, center, jobs, options, notebook_dir, tz, kernel,
                            timeout, exports)


def check_period_has_data(processed_dir: Path, period: Period) -> None:
    """Refuse a period without visits before anything runs, naming the dates the data cover.

        >>> check_period_has_data(Path("data/processed"), parse_period("2027-01"))  # doctest: +SKIP
        Traceback (most recent call last):
        cxlib.errors.DataError: column period: no visits in 2027-01; the data cover 2026-05-01 – 2026-10-31
    """
    import pandas as pd

    from cxlib import clean

    if period.start is None:
        return
    with clean.reading(Path(processed_dir)):
        v = pd.read_parquet(Path(processed_dir) / "visits.parquet", columns=["month", "arrived_at"])
    months = v["month"].astype(str)
    if ((months >= period.start) & (months <= period.end)).any():
        return
    shown = period.start if period.start == period.end else f"{period.start}..{period.end}"
    if v.empty:
        raise DataError(f"no visits in {shown}; the processed data hold no visits", column="period")
    first, last = v["arrived_at"].min(), v["arrived_at"].max()
    raise DataError(f"no visits in {shown}; the data cover {first:%Y-%m-%d} – {last:%Y-%m-%d}", column="period")


def _run_reports(raw_dir: Path, processed_dir: Path, out_dir: Path, per: Period, center: str | list[str],
                 jobs: int, options: dict[str, Any], notebook_dir: Path, tz: str,
                 kernel: WarmKernel | None, timeout: float | None,
                 exports: tuple[str, ...] = ()) -> tuple[Path, list[CenterRun]]:
    from cxlib import clean

    result = clean.clean(Path(raw_dir), Path(processed_dir), tz=tz, force=False)
    import pandas as pd

    with clean.reading(Path(processed_dir)):  # no cleaning run swaps files meanwhile
        known = pd.read_parquet(Path(processed_dir) / "centers.parquet", columns=["center_id"])["center_id"].tolist()
    centers = resolve_centers(center, known)
    check_period_has_data(Path(processed_dir), per)
    fingerprint = getattr(result, "fingerprint", None)
    if fingerprint is None:
        manifest = Path(processed_dir) / "manifest.json"
        fingerprint = json.loads(manifest.read_text())["fingerprint"] if manifest.exists() else None
    base: dict[str, Any] = {"raw_dir": str(Path(raw_dir).resolve()), "processed_dir": str(Path(processed_dir).resolve()),
                            "tz": tz, **{k: v for k, v in options.items() if k in NOTEBOOK_KEYS}}
    if base.get("cases_file"):
        # named explicitly: it must exist (without it the notebooks take RAW/cases_interventions.yaml
        # and say so when the raw folder has none)
        base["cases_file"] = str(Path(base["cases_file"]).resolve())
        if not Path(base["cases_file"]).is_file():
            raise DataError("cases file not found", file=base["cases_file"], column="cases_file")
    if "segment" in base:
        check_segment_option(Path(processed_dir), base["segment"])
    period_dir = Path(out_dir) / per.folder
    period_dir.mkdir(parents=True, exist_ok=True)
    with ReportLock(period_dir):
        for leftover in [*period_dir.glob(".tmp-*"), *period_dir.glob(".old-*")]:  # from a killed run
            shutil.rmtree(leftover, ignore_errors=True)
        log_file = period_dir / "run.log"
        _setup_logging(log_file, console=True)
        log.info("report %s for %s (jobs=%d)", per.folder, ", ".join(centers), jobs)
        base["_fingerprint"] = fingerprint
        runs: list[CenterRun] = []
        n_notebooks = len(numbered_notebooks(notebook_dir))
        bar = _progress(len(centers) * n_notebooks, sys.stderr.isatty())

        def step(center: str, notebook: str, status: str = "ok", error: str | None = None) -> None:
            bar.set_postfix_str(f"{center} {notebook}", refresh=False)
            bar.update(1)

        if jobs <= 1 or len(centers) == 1:
            for c in centers:
                runs.append(run_center(c, per, base, period_dir, notebook_dir, kernel=kernel, timeout=timeout,
                                       on_notebook=step, exports=exports))
            if kernel is not None:
                kernel.release()
        else:
            runs += _run_parallel(centers, per, base, period_dir, notebook_dir, log_file, timeout, exports, jobs,
                                  n_notebooks, step)
            _setup_logging(log_file, console=True)
        bar.close()
        runs.sort(key=lambda r: (r.center != "all", r.center))
        write_period_files(period_dir, per, Path(processed_dir), exports)
        log.info("report %s done: %d ok, %d failed", per.folder, sum(r.status == "ok" for r in runs),
                 sum(r.status != "ok" for r in runs))
    return period_dir, runs


def _run_parallel(centers: list[str], per: Period, base: dict[str, Any], period_dir: Path, notebook_dir: Path,
                  log_file: Path, timeout: float | None, exports: tuple[str, ...], jobs: int, n_notebooks: int,
                  step: Callable[..., None]) -> list[CenterRun]:
    """Centers in ``jobs`` worker processes; each worker reports every finished notebook back
    through a queue (progress bar, and a failure line on the terminal as it happens)."""
    import multiprocessing
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, wait

    progress = multiprocessing.get_context().Queue()
    expected = len(centers) * n_notebooks
    seen = 0

    def drain(block_s: float) -> None:
        nonlocal seen
        while seen < expected:
            try:
                center, notebook, status, error = progress.get(timeout=block_s)
            except queue_mod.Empty:
                return
            seen += 1
            if status == "failed":  # the worker logged it to the file; the terminal hears it here, once
                log.error("%s %s %s failed: %s", per.folder, center, notebook, error, extra={"console_only": True})
            step(center, notebook, status, error)

    runs: list[CenterRun] = []
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                 initargs=(os.getpid(), progress)) as pool:
            pending = {pool.submit(_run_center_job, (c, per, base, str(period_dir), str(notebook_dir), str(log_file),
                                                     timeout, exports))
                       for c in centers}
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain(0.01)
                for f in done:
                    run = f.result()
                    runs.append(run)
                    for e in run.export_errors:
                        log.error("%s %s export failed: %s", per.folder, run.center, e, extra={"console_only": True})
        drain(1.0)  # notebooks reported just before their worker returned
    finally:
        progress.close()
        progress.join_thread()
    return runs


def write_period_files(period_dir: Path, period: Period, processed_dir: Path, exports: tuple[str, ...] = ()) -> Path:
    """The files of a period folder beside the centers' reports: ``alerts.json`` and the league
    table (:mod:`cxlib.league`, from the processed data), ``index.html`` over every report in the
    folder, and with ``xlsx`` among ``exports`` ``quarantine.xlsx`` for the data owners (written
    once per processed build: a later run of the same build keeps it, or copies it from another
    period folder of the same output folder).

        >>> write_period_files(Path("reports/2026-10"), parse_period("2026-10"), Path("data/processed"))  # doctest: +SKIP
        PosixPath('reports/2026-10/index.html')
    """
    import pandas as pd

    from cxlib import clean, league, share

    visits = league.period_visits(processed_dir)
    table = league.league_table(visits, period.start, period.end)
    found = league.alerts(visits, period.start, period.end)
    found["league"] = [{k: league._plain(v) for k, v in r.items()} for r in table.to_dict("records")]
    tmp = period_dir / ".alerts.json.tmp"
    tmp.write_text(json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, period_dir / "alerts.json")
    if "xlsx" in exports and not _reuse_quarantine_workbook(period_dir, processed_dir):
        with clean.reading(processed_dir):
            quarantine = pd.read_parquet(processed_dir / "quarantine.parquet")
            build = _build_stamp(processed_dir)
        share.quarantine_workbook(quarantine, period_dir / "quarantine.xlsx")
        if build is not None:
            (period_dir / QUARANTINE_STAMP).write_text(build, encoding="utf-8")
    return write_index(period_dir, league=table, alerts=found)


#: Beside ``quarantine.xlsx``: the build of the processed data it was written from.
QUARANTINE_STAMP = ".quarantine-build"


def _build_stamp(processed_dir: Path) -> str | None:
    """The processed build's identity (its manifest's fingerprint and output sizes), or None."""
    try:
        manifest = json.loads((Path(processed_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not manifest.get("fingerprint"):
        return None
    return json.dumps({"processed": str(Path(processed_dir).resolve()), "fingerprint": manifest["fingerprint"],
                       "outputs": manifest.get("outputs")}, sort_keys=True)


def _reuse_quarantine_workbook(period_dir: Path, processed_dir: Path) -> bool:
    """Whether ``period_dir/quarantine.xlsx`` is (now) the workbook of the current processed build:
    kept when written from it, else copied from another period folder of the same output folder
    that was. The workbook holds every quarantined row of the network (hundreds of thousands at
    a national network's scale, minutes to write), the same for every center and period of a build."""
    build = _build_stamp(processed_dir)
    if build is None:
        return False
    dst = period_dir / "quarantine.xlsx"

    def same(folder: Path) -> bool:
        try:
            return (folder / "quarantine.xlsx").is_file() and (folder / QUARANTINE_STAMP).read_text(
                encoding="utf-8") == build
        except OSError:
            return False

    if same(period_dir):
        return True
    for other in sorted(period_dir.parent.iterdir()) if period_dir.parent.is_dir() else []:
        if other == period_dir or not other.is_dir() or not same(other):
            continue
        tmp = period_dir / ".quarantine.xlsx.tmp"
        try:
            shutil.copyfile(other / "quarantine.xlsx", tmp)
            os.replace(tmp, dst)
            (period_dir / QUARANTINE_STAMP).write_text(build, encoding="utf-8")
            return True
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
    return False


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, text: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, show: bool):
    """A progress bar over the notebooks of a run (on a terminal only: cron logs stay clean)."""
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="report", unit="notebook")


def main(args: argparse.Namespace) -> int:
    """Entry of ``cx report``: exit 0 when every center's report succeeded, 1 otherwise.

    Every option, from the command line and the params file, is checked before anything runs.
    """
    cli = {o.name: getattr(args, o.name) for o in run_options.OPTIONS if getattr(args, o.name, None) is not None}
    opts = run_options.resolve(cli, getattr(args, "params", None))
    raw = Path(opts.pop("raw"))
    processed = Path(opts.pop("processed"))
    out = Path(opts.pop("out"))
    period = opts.pop("period")
    center = opts.pop("center")
    jobs = opts.pop("jobs")
    timeout = opts.pop("timeout")
    tz = opts.pop("tz", DEFAULT_TZ)
    period_dir, runs = run_reports(raw, processed, out, period, center, jobs, opts, tz=tz, timeout=timeout)
    # each failure was printed once on stderr as it happened (the run log keeps it too)
    failures = [f for r in runs for f in r.failures]
    print(f"report written to {period_dir} ({len(runs)} center runs, {len(failures)} failed notebooks); "
          f"index: {period_dir / 'index.html'}")
    return 1 if failures else 0
