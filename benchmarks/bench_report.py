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
TARGET_RATIO = 1.3

# run by the plain-script side: execute the cells of a notebook, rendering each cell's last value
RUNNER = r'''
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
'''


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
    return {"wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
            "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
            "runs_wall_s": [r["wall_s"] for r in runs]}


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
        params = {"_index": index, "center": center, "period_start": period[0], "period_end": period[1],
                  "processed_dir": str(processed), "raw_dir": str(ROOT / "data" / "raw"),
                  "results_file": str(results)}
        declared = {line.split("=")[0].strip() for line in code[index].source.splitlines() if "=" in line}
        params = {k: v for k, v in params.items() if k == "_index" or k in declared}
        jobs.append((str(nb_path), [c.source for c in code], params))
    return jobs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--center", default="SH-JQ")
    ap.add_argument("--period", default="all")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side for the one-center ratio (median)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from cxlib.report import parse_period

    per = parse_period(args.period)
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-", dir=WORK))
    processed = tmp / "processed"
    cx = [sys.executable, "-m", "cxlib.cli"]
    try:
        timed(cx + ["clean", str(ROOT / "data" / "raw"), str(processed)])
        base = cx + ["report", "--raw", str(ROOT / "data" / "raw"), "--processed", str(processed),
                     "--period", args.period]
        (tmp / "jobs.json").write_text(json.dumps(script_input(args.center, (per.start, per.end), processed,
                                                               tmp / "script-results.json")), encoding="utf-8")
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
    out = {"center": args.center, "period": args.period, "cx_report": report, "plain_script": script,
           "ratio": round(ratio, 2), "target_ratio": TARGET_RATIO, "ratio_met": ratio <= TARGET_RATIO,
           "plain_scripts_per_notebook": per_nb, "ratio_per_notebook_scripts": round(ratio_per_nb, 2),
           "batch_jobs1": batch1, "batch_jobs2": batch2,
           "batch_speedup": round(batch1["wall_s"] / batch2["wall_s"], 2),
           "batch_jobs2_cores_used": round(batch2["cpu_s"] / batch2["wall_s"], 2)}
    (WORK / "report_results.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"cx report, one center ({args.center}), median of {len(reports)}: {report['wall_s']:.1f} s; "
          f"plain script: {script['wall_s']:.1f} s; "
          f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO}: {'met' if out['ratio_met'] else 'NOT met'})")
    print(f"one plain script per notebook: {per_nb['wall_s']:.1f} s; ratio {ratio_per_nb:.2f}")
    print(f"all centers: --jobs 1 {batch1['wall_s']:.1f} s, --jobs 2 {batch2['wall_s']:.1f} s "
          f"(speed-up {out['batch_speedup']:.2f}×, {out['batch_jobs2_cores_used']:.2f} cores busy on average)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
