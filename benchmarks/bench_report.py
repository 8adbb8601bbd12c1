"""Benchmark: `cx report` for one center next to the same notebooks' code run as a plain script.

    python benchmarks/bench_report.py [--center SH-JQ] [--period all] [--repeat 3]

In the same run, on the shipped sample:

1. ``cx report`` for one center (papermill, a kernel per notebook, HTML export, manifest);
2. the code cells of the same numbered notebooks, with the same parameters, run by one plain
   Python process. Like the notebook display, the script renders the value of each cell's last
   expression: a figure to PNG, a table to HTML. (1) and (2) run in turn ``--repeat`` times and
   their medians are compared (one run of either varies by ±5% on a shared machine).
   Target: (1) ≤ 1.3 × (2). For reference, also
   each notebook's code as its own script, one process per notebook (each notebook must run
   alone, so this is what running them as scripts costs).
3. the batch of all centers with ``--jobs 1`` and ``--jobs 2``: the second must use both cores
   (CPU time / wall time > 1.2) and finish sooner.

Each command runs in a fresh process; times are wall-clock seconds, CPU is user + system time of
the process and its children (``wait4``). Results go to ``benchmarks/_work/report_results.json``.

The scale benchmark, ``--visits 100000 1000000``, generates each size once (``cx sample --visits N
--seed 7 --layout csv`` into ``benchmarks/_work/raw_N``, cleaned into ``processed_N``; both reused
while ``sample_manifest.json`` matches and the processed fingerprint is current, as
``bench_clean.py`` does, so the two benchmarks share the data) and times, per size:

1. the network report (the numbered notebooks for all centers, all months), run by
   :func:`cxlib.report.run_center` in a fresh process with one warm kernel, as ``cx report`` runs
   it;
2. one center's report for one month (``cx report --center SH-JQ --period <last month>``, the
   whole command: data check, notebooks, HTML, index and league table).

For each: wall time per notebook, the peak memory of the whole process tree (the sum over the
process and all its descendants, the kernel included, of the proportional set size, PSS, so
shared library pages count once; sampled every 0.2 s from ``/proc``) and the slowest cells of
each notebook (papermill records each cell's duration in the executed notebook's metadata). The
targets (:data:`SCALE_TARGETS`) are checked at the largest size; the cost ratio between the
largest and the smallest size is the network report's wall time ratio. Results go to
``benchmarks/_work/report_scale_results.json``; exit code 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
#: the engine of ``cx clean`` for the generated networks (``--engine``)
CLEAN_ENGINE = "pandas"
TARGET_RATIO = 1.3

# run by the plain-script side: execute the cells of a notebook, rendering each cell's last value
RUNNER = r"""
import ast, io, sys, json
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure
import pandas as pd

def run(cells, params):
    env = {}
    for i, src in enumerate(cells):
        if i == params["_index"]:
            src = src + "\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items() if k != "_index")
        tree = ast.parse(src)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {i}>", "exec"), env)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"<cell {i}>", "eval"), env)
            if isinstance(value, Figure):
                value.savefig(io.BytesIO(), format="png")
            elif isinstance(value, pd.DataFrame):
                value.to_html()
            elif value is not None:
                repr(value)

for path, cells, params in json.load(open(sys.argv[1], encoding="utf-8")):
    import os
    os.chdir(os.path.dirname(path))
    run(cells, params)
"""


def timed(cmd: list[str], cwd: Path = ROOT) -> dict[str, float]:
    """Wall and CPU seconds of a command run in a fresh process (with its children)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}


def median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Median wall and CPU seconds of repeated runs, with every run's wall time."""
    return {
        "wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
        "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "runs_wall_s": [r["wall_s"] for r in runs],
    }


def script_input(center: str, period: tuple[str | None, str | None], processed: Path, results: Path) -> list:
    """[(notebook path, code cells, parameters)] for the plain-script run."""
    import nbformat

    from cxlib.notebooks import numbered_notebooks
    from cxlib.report import NOTEBOOK_DIR

    jobs = []
    for nb_path in numbered_notebooks(NOTEBOOK_DIR):
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        index = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
        params = {
            "_index": index,
            "center": center,
            "period_start": period[0],
            "period_end": period[1],
            "processed_dir": str(processed),
            "raw_dir": str(ROOT / "data" / "raw"),
            "results_file": str(results),
        }
        declared = {line.split("=")[0].strip() for line in code[index].source.splitlines() if "=" in line}
        params = {k: v for k, v in params.items() if k == "_index" or k in declared}
        jobs.append((str(nb_path), [c.source for c in code], params))
    return jobs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--center", default="SH-JQ")
    ap.add_argument("--period", default="all")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side for the one-center ratio (median)")
    ap.add_argument(
        "--visits",
        type=int,
        nargs="+",
        default=None,
        help="scale benchmark at these network sizes (e.g. 100000 1000000) instead of the sample",
    )
    ap.add_argument("--seed", type=int, default=7, help="seed of the generated networks (that of bench_clean.py)")
    ap.add_argument("--top", type=int, default=5, help="slowest cells shown per notebook")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds a cell may run in the scale benchmark")
    ap.add_argument(
        "--reports",
        nargs="+",
        choices=("network", "center"),
        default=["network", "center"],
        help="which reports the scale benchmark runs (the targets of the others are not checked)",
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder of the generated networks and their reports (default benchmarks/_work; e.g. a larger disk for 10M)",
    )
    ap.add_argument(
        "--engine",
        choices=("pandas", "duckdb"),
        default="pandas",
        help="engine that cleans a generated network (duckdb for sizes whose reference rules need more memory than the machine has)",
    )
    args = ap.parse_args()
    global WORK, CLEAN_ENGINE
    WORK = (args.work or WORK).resolve()
    CLEAN_ENGINE = args.engine
    sys.path.insert(0, str(ROOT))
    if args.visits:
        return scale_main(sorted(set(args.visits)), args.center, args.seed, args.top, args.timeout, tuple(args.reports))
    from cxlib.report import parse_period

    per = parse_period(args.period)
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-", dir=WORK))
    processed = tmp / "processed"
    cx = [sys.executable, "-m", "cxlib.cli"]
    try:
        timed(cx + ["clean", str(ROOT / "data" / "raw"), str(processed)])
        base = cx + [
            "report",
            "--raw",
            str(ROOT / "data" / "raw"),
            "--processed",
            str(processed),
            "--period",
            args.period,
        ]
        (tmp / "jobs.json").write_text(
            json.dumps(script_input(args.center, (per.start, per.end), processed, tmp / "script-results.json")),
            encoding="utf-8",
        )
        (tmp / "runner.py").write_text(RUNNER, encoding="utf-8")
        reports, scripts = [], []
        for i in range(max(1, args.repeat)):  # in turn, so that both sides see the same machine load
            reports.append(timed(base + ["--out", str(tmp / f"r{i}"), "--center", args.center]))
            scripts.append(timed([sys.executable, str(tmp / "runner.py"), str(tmp / "jobs.json")]))
        report, script = median_run(reports), median_run(scripts)
        # each notebook's code as its own script (as `jupyter nbconvert --to script` would give)
        jobs = json.loads((tmp / "jobs.json").read_text(encoding="utf-8"))
        per_nb = {"wall_s": 0.0, "cpu_s": 0.0}
        for i, job in enumerate(jobs):
            (tmp / f"job{i}.json").write_text(json.dumps([job]), encoding="utf-8")
            t = timed([sys.executable, str(tmp / "runner.py"), str(tmp / f"job{i}.json")])
            per_nb = {k: round(per_nb[k] + t[k], 2) for k in per_nb}
        batch1 = timed(base + ["--out", str(tmp / "b1"), "--center", "all", "--jobs", "1"])
        batch2 = timed(base + ["--out", str(tmp / "b2"), "--center", "all", "--jobs", "2"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = report["wall_s"] / script["wall_s"]
    ratio_per_nb = report["wall_s"] / per_nb["wall_s"]
    out = {
        "center": args.center,
        "period": args.period,
        "cx_report": report,
        "plain_script": script,
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "ratio_met": ratio <= TARGET_RATIO,
        "plain_scripts_per_notebook": per_nb,
        "ratio_per_notebook_scripts": round(ratio_per_nb, 2),
        "batch_jobs1": batch1,
        "batch_jobs2": batch2,
        "batch_speedup": round(batch1["wall_s"] / batch2["wall_s"], 2),
        "batch_jobs2_cores_used": round(batch2["cpu_s"] / batch2["wall_s"], 2),
    }
    (WORK / "report_results.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(
        f"cx report, one center ({args.center}), median of {len(reports)}: {report['wall_s']:.1f} s; "
        f"plain script: {script['wall_s']:.1f} s; "
        f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO}: {'met' if out['ratio_met'] else 'NOT met'})"
    )
    print(f"one plain script per notebook: {per_nb['wall_s']:.1f} s; ratio {ratio_per_nb:.2f}")
    print(
        f"all centers: --jobs 1 {batch1['wall_s']:.1f} s, --jobs 2 {batch2['wall_s']:.1f} s "
        f"(speed-up {out['batch_speedup']:.2f}×, {out['batch_jobs2_cores_used']:.2f} cores busy on average)"
    )
    return 0


# ============================================================================ the scale benchmark
#: Targets at the largest size (seconds, bytes) and for the cost ratio largest / smallest.
SCALE_TARGETS = {
    "network_s": 300.0,
    "cell_s": 60.0,
    "center_month_s": 30.0,
    "peak_bytes": 4 * 1024**3,
    "cost_ratio_per_10x": 10.0,
}
CASES = ROOT / "data" / "raw" / "cases_interventions.yaml"

# the network report as cx report runs it: one warm kernel, the numbered notebooks, HTML pages
NETWORK_RUNNER = r"""
import json, sys
from pathlib import Path
from cxlib import report
raw, processed, out, cases, timeout = sys.argv[1:6]
period = report.parse_period("all")
base = {"raw_dir": raw, "processed_dir": processed, "tz": "Asia/Shanghai", "cases_file": cases}
Path(out).mkdir(parents=True, exist_ok=True)
settings = report.RunSettings(timeout=float(timeout))
run = report.run_center("all", report.PeriodRun(period, Path(out), base, settings))
print(json.dumps({"status": run.status, "failures": run.failures}))
"""


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (its RSS where smaps_rollup is not readable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def run_tree(cmd: list[str], cwd: Path = ROOT, interval: float = 0.2) -> dict[str, Any]:
    """Run ``cmd`` and sample the memory of its whole process tree: wall and CPU seconds, the peak
    of the summed PSS (``peak_bytes``) and the most processes seen at once."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"bytes": 0, "procs": 0, "at": None}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = _tree(proc.pid)
            total = sum(_pss(p) for p in pids)
            if total > peak["bytes"]:
                peak["bytes"], peak["at"] = total, time.time()
            peak["procs"] = max(peak["procs"], len(pids))
            done.wait(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "wall_s": round(wall, 2),
        "peak_bytes": peak["bytes"],
        "max_processes": peak["procs"],
        "peak_at": peak["at"],
        "stdout": out,
    }


def peak_notebook(folder: Path, at: float | None) -> str | None:
    """The notebook of a report folder that was running when the memory peaked (its manifest's
    start and end, to the second), or None."""
    import datetime as dt

    if at is None:
        return None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for rec in manifest["notebooks"]:
        start, end = (dt.datetime.fromisoformat(rec[k]).timestamp() for k in ("start", "end"))
        if start - 1 <= at <= end + 1:
            return rec["notebook"]
    return "after the notebooks" if at > dt.datetime.fromisoformat(manifest["end"]).timestamp() else None


def ensure_network(n: int, seed: int) -> tuple[Path, Path]:
    """Raw and processed folders of an ``n``-visit network, generated and cleaned once and reused."""
    raw, processed = WORK / f"raw_{n}", WORK / f"processed_{n}"
    manifest = raw / "sample_manifest.json"
    meta = json.loads(manifest.read_text()) if manifest.exists() else {}
    cx = [sys.executable, "-m", "cxlib.cli"]
    if not (meta.get("n_visits") == n and meta.get("seed") == seed and meta.get("layout") == "csv"):
        shutil.rmtree(raw, ignore_errors=True)
        print(f"generating {n:,} visits …", flush=True)
        subprocess.run(
            cx + ["sample", "--visits", str(n), "--seed", str(seed), "--layout", "csv", str(raw)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(f"cleaning {n:,} visits (skipped when up to date) …", flush=True)
    subprocess.run(
        cx + ["clean", "--engine", CLEAN_ENGINE, str(raw), str(processed)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return raw, processed


def cell_times(executed: Path, top: int) -> dict[str, Any]:
    """Seconds of each code cell of an executed notebook (papermill's metadata): total and the
    ``top`` slowest as ``[cell id, seconds, first line]``."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    cells = []
    for c in nb.cells:
        d = (c.get("metadata", {}).get("papermill") or {}).get("duration")
        if c.cell_type == "code" and d is not None:
            first = next((ln for ln in c.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
            cells.append([c.get("id", "?"), round(float(d), 2), first[:70]])
    cells.sort(key=lambda r: -r[1])
    return {
        "cells_s": round(sum(r[1] for r in cells), 2),
        "max_cell_s": cells[0][1] if cells else 0.0,
        "slowest": cells[:top],
    }


def notebook_times(folder: Path, top: int) -> dict[str, Any]:
    """Per notebook of a report folder: wall seconds (manifest), status, and its cells' times."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    out = {}
    for rec in manifest["notebooks"]:
        executed = folder / f"{rec['notebook']}.ipynb"
        cells = cell_times(executed, top) if executed.exists() else {"cells_s": 0.0, "max_cell_s": 0.0, "slowest": []}
        out[rec["notebook"]] = {"seconds": rec["seconds"], "status": rec["status"], "error": rec.get("error"), **cells}
    return out


def last_month(processed: Path) -> str:
    import pandas as pd

    months = pd.read_parquet(processed / "visits.parquet", columns=["month"])["month"].astype(str)
    return str(months.max())


def scale_size(
    n: int, center: str, seed: int, top: int, timeout: float, reports: tuple[str, ...] = ("network", "center")
) -> dict[str, Any]:
    raw, processed = ensure_network(n, seed)
    out = WORK / f"reports_{n}"
    shutil.rmtree(out, ignore_errors=True)
    (out / "network").mkdir(parents=True)
    row: dict[str, Any] = {"visits": n}
    if "network" in reports:
        row["network"] = _network_run(raw, processed, out, top, timeout)
    if "center" in reports:
        row["center_month"] = _center_run(raw, processed, out, center, top, timeout)
    return row


def _network_run(raw: Path, processed: Path, out: Path, top: int, timeout: float) -> dict[str, Any]:
    n = processed.name.split("_")[-1]
    (WORK / "network_runner.py").write_text(NETWORK_RUNNER, encoding="utf-8")
    print(f"{int(n):,} visits: network report …", flush=True)
    net = run_tree(
        [
            sys.executable,
            str(WORK / "network_runner.py"),
            str(raw),
            str(processed),
            str(out / "network"),
            str(CASES),
            str(timeout),
        ]
    )
    net_status = json.loads(net.pop("stdout").strip().splitlines()[-1])
    net["status"], net["failures"] = net_status["status"], net_status["failures"]
    net["notebooks"] = notebook_times(out / "network" / "all", top)
    net["peak_notebook"] = peak_notebook(out / "network" / "all", net.pop("peak_at"))
    return net


def _center_run(raw: Path, processed: Path, out: Path, center: str, top: int, timeout: float) -> dict[str, Any]:
    n = int(processed.name.split("_")[-1])
    month = last_month(processed)
    print(f"{n:,} visits: {center} {month} …", flush=True)
    one = run_tree(
        [
            sys.executable,
            "-m",
            "cxlib.cli",
            "report",
            "--raw",
            str(raw),
            "--processed",
            str(processed),
            "--out",
            str(out / "center"),
            "--center",
            center,
            "--period",
            month,
            "--cases-file",
            str(CASES),
            "--timeout",
            str(int(timeout)),
        ]
    )
    one.pop("stdout")
    from cxlib.report import report_folder

    one["notebooks"] = notebook_times(out / "center" / month / report_folder(center), top)
    one["peak_notebook"] = peak_notebook(out / "center" / month / report_folder(center), one.pop("peak_at"))
    one["period"] = month
    return one


def _gb(b: float) -> str:
    return f"{b / 1024**3:.2f} GB"


def print_size(r: dict[str, Any]) -> None:
    for what, label in (("network", "network report"), ("center_month", "one center, one month")):
        if what not in r:
            continue
        run = r[what]
        print(
            f"\n{r['visits']:,} visits, {label}: {run['wall_s']:.1f} s, peak memory of the process tree "
            f"{_gb(run['peak_bytes'])} ({run['max_processes']} processes; during {run.get('peak_notebook')})"
        )
        for nb, t in run["notebooks"].items():
            slow = "; ".join(f"{cid} {s:.1f} s" for cid, s, _ in t["slowest"])
            print(f"  {nb:<28} {t['seconds']:>7.1f} s  {t['status']:<6} slowest cells: {slow}")
        rest = run["wall_s"] - sum(t["seconds"] for t in run["notebooks"].values())
        print(f"  {'outside the notebooks':<28} {rest:>7.1f} s  (checks, kernel, pages, period files)")


def scale_main(
    sizes: list[int], center: str, seed: int, top: int, timeout: float, reports: tuple[str, ...] = ("network", "center")
) -> int:
    """The scale benchmark of the reports over ``sizes`` (see the module's docstring)."""
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        rows.append(scale_size(n, center, seed, top, timeout, reports))
        print_size(rows[-1])
    big, small = rows[-1], rows[0]
    runs = [big[k] for k in ("network", "center_month") if k in big]
    max_cell = max(
        (t["max_cell_s"], f"{nb} {t['slowest'][0][0]}" if t["slowest"] else nb)
        for run in runs
        for nb, t in run["notebooks"].items()
    )
    checks = []
    if "network" in big:
        net = big["network"]
        checks.append(
            (
                f"network report {net['wall_s']:.1f} s",
                net["wall_s"] <= SCALE_TARGETS["network_s"] and net["status"] == "ok",
                f"<= {SCALE_TARGETS['network_s']:.0f} s",
            )
        )
    checks.append(
        (
            f"slowest cell {max_cell[0]:.1f} s ({max_cell[1]})",
            max_cell[0] <= SCALE_TARGETS["cell_s"],
            f"<= {SCALE_TARGETS['cell_s']:.0f} s",
        )
    )
    if "center_month" in big:
        one = big["center_month"]
        checks.append(
            (
                f"one center one month {one['wall_s']:.1f} s",
                one["wall_s"] <= SCALE_TARGETS["center_month_s"],
                f"<= {SCALE_TARGETS['center_month_s']:.0f} s",
            )
        )
    peak = max(run["peak_bytes"] for run in runs)
    checks.append((f"peak memory {_gb(peak)}", peak <= SCALE_TARGETS["peak_bytes"], "<= 4 GB"))
    ratio = None
    if len(rows) > 1 and "network" in big:
        ratio = net["wall_s"] / small["network"]["wall_s"]
        limit = SCALE_TARGETS["cost_ratio_per_10x"] * big["visits"] / small["visits"] / 10
        checks.append(
            (
                f"network cost {big['visits']:,} / {small['visits']:,} visits {ratio:.1f}×",
                ratio <= limit,
                f"<= {limit:.0f}×",
            )
        )
    print(f"\ntargets at {big['visits']:,} visits:")
    for text, ok, target in checks:
        print(f"{'PASS' if ok else 'FAIL'} {text} (target {target})")
    result = {
        "sizes": rows,
        "targets": SCALE_TARGETS,
        "cost_ratio": ratio,
        "checks": [{"measure": t, "met": ok, "target": tg} for t, ok, tg in checks],
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
    }
    (WORK / "report_scale_results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
