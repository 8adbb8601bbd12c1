"""Benchmark of ``cx clean`` against DuckDB's own CSV -> Parquet conversion of the same files.

    python benchmarks/bench_clean.py [--sizes 1000000 10000000] [--repeat 1] [--engines duckdb]
                                     [--work benchmarks/_work]

For each size it generates the raw tables once (``cx sample --layout csv``, which streams in
chunks; its time and peak memory are reported too), then, in the same run, times

* ``duckdb``: ``COPY (FROM read_csv(file)) TO file.parquet`` for every raw table, and
* ``cx clean --engine E`` for each engine: reading, cleaning, deriving features, writing Parquet,

each in a fresh process whose peak resident memory (of the process and its children) is
taken from the kernel (``wait4``). Both write Snappy-compressed Parquet; DuckDB runs with its
default settings (all cores). With ``--repeat`` above 1 the median run is reported. Generated
data is kept in ``--work`` and reused while its ``sample_manifest.json`` matches the size and seed.

Targets (issue 14): ``cx clean`` <= 1.5x DuckDB's time at 1M visits; peak memory <= 2 GB at
every size; time at the largest size <= 1.1x per 1x of data (11x for 10x the visits); the
generator's peak memory <= 2 GB. Exit code 1 if a target is missed; ``results.json`` in
``--work`` holds the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CX = [sys.executable, "-m", "cxlib.cli"]
GB = 1e9

DUCKDB_SCRIPT = """
import sys, duckdb
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
con = duckdb.connect()
for f in sorted(src.glob("*.csv")):
    con.execute(f"COPY (FROM read_csv('{f}')) TO '{dst / (f.stem + '.parquet')}' (FORMAT parquet)")
"""


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in bytes of the process and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024


def ensure_sample(work: Path, n: int, seed: int) -> tuple[Path, tuple[float, int] | None]:
    """The raw folder of ``n`` visits, generated when missing: (folder, (seconds, peak bytes) or None)."""
    raw = work / f"raw_{n}"
    manifest = raw / "sample_manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if meta.get("n_visits") == n and meta.get("seed") == seed and meta.get("layout") == "csv":
            gen = meta.get("bench_generation")
            return raw, (gen["seconds"], gen["peak_bytes"]) if gen else None
    shutil.rmtree(raw, ignore_errors=True)
    print(f"generating {n:,} visits …", flush=True)
    gen = run_measured(CX + ["sample", "--visits", str(n), "--seed", str(seed), "--layout", "csv", str(raw)])
    meta = json.loads(manifest.read_text())
    meta["bench_generation"] = {"seconds": gen[0], "peak_bytes": gen[1]}
    manifest.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return raw, gen


def _median(runs: list[tuple[float, int]]) -> tuple[float, int]:
    return statistics.median(r[0] for r in runs), int(statistics.median(r[1] for r in runs))


def bench_size(work: Path, n: int, seed: int, repeat: int, engines: list[str]) -> dict:
    raw, gen = ensure_sample(work, n, seed)
    raw_bytes = sum(f.stat().st_size for f in raw.glob("*.csv"))
    with open(raw / "touchpoints.csv", "rb") as fh:
        events = sum(1 for _ in fh) - 1
    runs: dict[str, list[tuple[float, int]]] = {"baseline": [], **{e: [] for e in engines}}
    for _ in range(repeat):
        out = work / f"duck_{n}"
        shutil.rmtree(out, ignore_errors=True)
        runs["baseline"].append(run_measured([sys.executable, "-c", DUCKDB_SCRIPT, str(raw), str(out)]))
        shutil.rmtree(out, ignore_errors=True)
        for engine in engines:
            out = work / f"processed_{n}_{engine}"
            shutil.rmtree(out, ignore_errors=True)
            runs[engine].append(run_measured(CX + ["clean", "--force", "--engine", engine, str(raw), str(out)]))
            shutil.rmtree(out, ignore_errors=True)
    row = {"visits": n, "events": events, "raw_mb": raw_bytes / 1e6, "repeat": repeat}
    if gen is not None:
        row["generate_s"], row["generate_peak_mb"] = gen[0], gen[1] / 1e6
    for name, r in runs.items():
        t, m = _median(r)
        row[f"{name}_s"], row[f"{name}_peak_mb"] = t, m / 1e6
    for engine in engines:
        row[f"{engine}_ratio"] = row[f"{engine}_s"] / row["baseline_s"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the median is reported")
    ap.add_argument("--engines", nargs="+", default=["duckdb"], help="engines of cx clean to time (duckdb, pandas)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    rows = [bench_size(args.work, n, args.seed, args.repeat, args.engines) for n in args.sizes]
    head = f"\n{'visits':>11} {'events':>12} {'raw MB':>7} {'DuckDB CSV->Parquet s':>21}"
    for e in args.engines:
        head += f" {'cx ' + e + ' s':>12} {'ratio':>6} {'peak MB':>8}"
    print(head + f" {'gen s':>7} {'gen MB':>7}")
    for r in rows:
        line = f"{r['visits']:>11,} {r['events']:>12,} {r['raw_mb']:>7.0f} {r['baseline_s']:>21.1f}"
        for e in args.engines:
            line += f" {r[e + '_s']:>12.1f} {r[e + '_ratio']:>6.2f} {r[e + '_peak_mb']:>8.0f}"
        line += f" {r.get('generate_s', float('nan')):>7.0f} {r.get('generate_peak_mb', float('nan')):>7.0f}"
        print(line)
    ok = True
    main_engine = args.engines[0]

    def check(what: str, value: float, limit: float) -> None:
        nonlocal ok
        passed = value <= limit
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'} {what}: {value:.2f} (target <= {limit})")

    for r in rows:
        if r["visits"] == 1_000_000:
            check(f"{r['visits']:,} visits: time vs duckdb", r[f"{main_engine}_ratio"], 1.5)
        check(f"{r['visits']:,} visits: peak memory GB", r[f"{main_engine}_peak_mb"] / 1e3, 2.0)
        if "generate_peak_mb" in r:
            check(f"{r['visits']:,} visits: generator peak memory GB", r["generate_peak_mb"] / 1e3, 2.0)
    if len(rows) >= 2:
        factor = rows[-1]["visits"] / rows[0]["visits"]
        scale = rows[-1][f"{main_engine}_s"] / rows[0][f"{main_engine}_s"]
        rows[-1]["scaling"] = scale
        check(f"scaling {rows[-1]['visits']:,} / {rows[0]['visits']:,} visits (time ratio)", scale, 1.1 * factor)
    (args.work / "results.json").write_text(json.dumps(rows, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
