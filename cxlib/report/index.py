"""The period folder's own files: the index page over every report, headline figures, the league
table and the alerts.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

from cxlib import safe
from cxlib.catalog import label
from cxlib.report.center import SUMMARY_NOTEBOOK, CenterRun
from cxlib.report.pages import embed_cjk_font
from cxlib.report.periods import Period
from cxlib.share import add_print_stylesheet


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
    return (
        f"{value * scale:.{digits}f}{unit} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"
        if low is not None and low == low
        else f"{value * scale:.{digits}f}{unit}"
    )


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
        flag_c = flags.get(
            r.get("complaint_funnel") if r.get("complaint_funnel") == r.get("complaint_funnel") else None, ""
        )
        cls = ' class="small"' if small else ""
        rows.append(
            f"<tr{cls}><td>{cell}</td>"
            f"<td>{_ci_text(r['nps'], r['nps_ci_low'], r['nps_ci_high'])}</td><td>{r['n_responses']}"
            f"{' ⚠ n &lt; 30' if small else ''}</td><td>{html.escape(flag_n)}</td>"
            f"<td>{_ci_text(r['complaint_share'], r['complaint_ci_low'], r['complaint_ci_high'], 1, 100, ' %')}"
            f"</td><td>{r['complaints_n']}</td><td>{html.escape(flag_c)}</td></tr>"
        )
    return "\n".join(rows)


def write_index(
    period_dir: Path, runs: list[CenterRun] | None = None, *, league: Any = None, alerts: dict[str, Any] | None = None
) -> Path:
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
            entries.append(
                {
                    "folder": Path(run.folder).name,
                    "center": run.center,
                    "results": res,
                    "manifest": {"status": run.status},
                }
            )
    rows = []
    for e in entries:
        folder = period_dir / e["folder"]
        man = e["manifest"]
        head = headline(e["results"])
        files = [p.name for p in folder.glob("*") if p.suffix in (".html", ".pdf", ".xlsx")] if folder.is_dir() else []
        files.sort(key=lambda n: (SUMMARY_NOTEBOOK not in n, n.endswith(".xlsx"), n))
        link_html = "<br>".join(f'<a href="{_href(folder.name, n)}">{html.escape(n)}</a>' for n in files)
        status = "ok" if man.get("status", "ok") == "ok" else '<b class="failed">failed 失败</b>'
        params = man.get("parameters") or {}
        filters = ", ".join(f"{k}={params[k]}" for k in ("scenario", "segment", "lang") if k in params) or "–"
        when = str(man.get("end") or "–")[:16].replace("T", " ")
        name = "全网络 network" if e["center"] == safe.NETWORK else e["center"]
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in [html.escape(name), status, html.escape(filters), html.escape(when), *head.values()]
            )
            + f'<td class="links">{link_html}</td></tr>'
        )
    cols = [
        "center 门店",
        "status 状态",
        "filters 筛选",
        "run 运行时间",
        "NPS [95% CI]",
        "n",
        "complaint RR / update 投诉率比/次更新",
        "real-time DiD (LTR) 实时进度效应",
        "top pain point 首要痛点",
        "reports 报告",
    ]
    alert_html = ""
    if alerts is not None:
        items = alerts.get("alerts") or []
        lis = "".join(
            f'<li class="{html.escape(a.get("direction", ""))}">{html.escape(a["message"])}</li>' for a in items
        )
        prev = alerts.get("previous_period")
        against = (
            (
                f"对比上期 against {html.escape(prev['start'])}"
                + (f"..{html.escape(prev['end'])}" if prev["end"] != prev["start"] else "")
            )
            if prev
            else ""
        )
        note = f'<p class="note">{html.escape(alerts["note"])}</p>' if alerts.get("note") else ""
        body = f"<ul>{lis}</ul>" if items else "<p>无预警 no alerts</p>"
        alert_html = (
            f'<section class="alerts"><h2>预警 Alerts ({len(items)})</h2>'
            f"<p>显著变化（Holm 校正，α = {alerts.get('alpha')}）{against}，或超出 99.8% 漏斗控制限"
            f"（已计入门店间的过度离散，Spiegelhalter 2005）· "
            f"significant change (Holm-corrected) or outside the 99.8% funnel limits (allowing for "
            f"between-center overdispersion, Spiegelhalter 2005) · "
            f'<a href="alerts.json">alerts.json</a></p>{note}{body}</section>'
        )
    league_html = ""
    if league is not None:
        from cxlib import league as league_mod

        have = {
            e["center"]: e["folder"]
            for e in entries
            if (period_dir / e["folder"] / f"{SUMMARY_NOTEBOOK}.html").is_file()
        }
        league_html = (
            "<h2>门店排名 Centers against the network</h2>"
            "<p>本期全部场景的处理后数据 · processed data of the period, all scenarios; NPS with adjusted-Wald 95% CI, "
            "complaint share with Wilson 95% CI; rows with n &lt; 30 responses greyed.</p>"
            "<div class='wide'><table><thead><tr><th>门店 center</th><th>NPS [95% CI]</th><th>回复数 n responses</th>"
            "<th>NPS 漏斗 funnel</th><th>投诉占比 complaint share [95% CI]</th><th>工单数 n visits</th>"
            "<th>投诉漏斗 funnel</th></tr></thead><tbody>" + _league_rows(league, have) + "</tbody></table></div>"
            f'<figure><img alt="funnel plot 漏斗图" src="{league_mod.funnel_png(league)}">'
            "<figcaption>漏斗图：各门店相对全网络的 NPS 与投诉占比，虚线 95%、点线 99.8% 控制限；门店间差异超出抽样误差时，"
            "控制限按门店间标准差加宽（加性随机效应，Spiegelhalter 2005），红点在 99.8% 控制限之外 · funnel plot: "
            "centers against the network value with 95% (dashed) and 99.8% (dotted) control limits by n, widened by "
            "the between-center SD when the centers differ beyond sampling noise (additive random effects, "
            "Spiegelhalter 2005); red points lie outside the 99.8% limits.</figcaption></figure>"
            + "".join(
                f'<p class="note">{html.escape(line)}</p>'
                for line in league_mod.overdispersion_text(league).splitlines()
            )
        )
    extra = (
        ' · <a href="quarantine.xlsx">quarantine.xlsx 隔离行</a>' if (period_dir / "quarantine.xlsx").exists() else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>客户体验报告 CX reports {html.escape(period_dir.name)}</title>
<style>body{{font-family:"Noto Sans SC","Microsoft YaHei",sans-serif;margin:2em}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:.3em .6em}}td{{white-space:nowrap}}
table.reports td{{white-space:normal}}td.links{{line-height:1.5}}td.links a{{white-space:nowrap}}.wide{{overflow-x:auto;max-width:100%}}
.failed{{color:#b00}}.alerts{{border:2px solid #c0392b;padding:.2em 1em;margin-bottom:1.5em}}.alerts li.worse{{color:#b00}}
.alerts li.better{{color:#1a6b2f}}tr.small td{{color:#888}}.note{{color:#555}}img{{max-width:100%}}
figcaption{{font-size:.9em;color:#444}}</style>
</head><body><h1>客户体验报告 CX reports — {html.escape(period_dir.name)}</h1>
{alert_html}
<h2>报告 Reports</h2>
<div class="wide"><table class="reports"><thead><tr>{"".join(f"<th>{html.escape(c)}</th>" for c in cols)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>{extra}
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


def write_period_files(period_dir: Path, period: Period, processed_dir: Path, *, exports: tuple[str, ...] = ()) -> Path:
    """The files of a period folder beside the centers' reports: ``alerts.json`` and the league
    table (:mod:`cxlib.league`, from the processed data), ``index.html`` over every report in the
    folder, and with ``xlsx`` among ``exports`` ``quarantine.xlsx`` for the data owners (written
    once per processed build: a later run of the same build keeps it, or copies it from another
    period folder of the same output folder).

        >>> write_period_files(Path("reports/2026-10"), parse_period("2026-10"), Path("data/processed"))  # doctest: +SKIP
        PosixPath('reports/2026-10/index.html')
    """

    from cxlib import clean, league, share

    visits = league.period_visits(processed_dir)
    table = league.league_table(visits, period.start, period.end)
    found = league.alerts(visits, period.start, period.end)
    found["league"] = [{k: league._plain(v) for k, v in r.items()} for r in table.to_dict("records")]
    tmp = period_dir / ".alerts.json.tmp"
    tmp.write_text(json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, period_dir / "alerts.json")
    if "xlsx" in exports and not _reuse_quarantine_workbook(period_dir, processed_dir):
        with clean.reading(processed_dir):  # read a row group at a time: millions of rows at network scale
            share.quarantine_workbook(processed_dir / "quarantine.parquet", period_dir / "quarantine.xlsx")
            build = _build_stamp(processed_dir)
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
    return json.dumps(
        {
            "processed": str(Path(processed_dir).resolve()),
            "fingerprint": manifest["fingerprint"],
            "outputs": manifest.get("outputs"),
        },
        sort_keys=True,
    )


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
                encoding="utf-8"
            ) == build
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
