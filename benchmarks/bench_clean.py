"""Benchmark of ``cx clean`` against DuckDB's own CSV -> Parquet conversion of the same files.

    python benchmarks/bench_clean.py [--sizes 100000 1000000] [--repeat 1] [--work benchmarks/_work]

For each size it generates the raw tables once (``cx sample --layout csv``, not timed), then,
in the same run, times

* ``duckdb``: ``COPY (FROM read_csv(file)) TO file.parquet`` for every raw table, and
* ``cx clean``: reading, cleaning, deriving features and writing Parquet,

each in a fresh process whose peak resident memory is taken from the kernel (``wait4``).
Both write Snappy-compressed Parquet (DuckDB's default, and what ``cx clean`` writes); DuckDB
runs with its default settings (all cores). Generated data is kept in ``--work`` and reused
while its ``sample_manifest.json`` matches the size and seed.
Targets: ``cx clean`` <= 1.5x DuckDB's time; peak memory <= 3x the raw bytes; the time at the
largest size <= 12x the time at 100k visits (for a 10x larger input). Exit code 1 if a target
is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CX = [sys.executable, "-m", "cxlib.cli"]

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
    """Run ``cmd``; return (wall seconds, peak RSS in bytes) of that process tree's main process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024


def ensure_sample(work: Path, n: int, seed: int) -> Path:
    raw = work / f"raw_{n}"
    manifest = raw / "sample_manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if meta.get("n_visits") == n and meta.get("seed") == seed and meta.get("layout") == "csv":
            return raw
    shutil.rmtree(raw, ignore_errors=True)
    print(f"generating {n:,} visits …", flush=True)
    subprocess.run(CX + ["sample", "--visits", str(n), "--seed", str(seed), "--layout", "csv", str(raw)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return raw


def bench_size(work: Path, n: int, seed: int, repeat: int) -> dict:
    raw = ensure_sample(work, n, seed)
    raw_bytes = sum(f.stat().st_size for f in raw.glob("*.csv"))
    events = sum(1 for _ in open(raw / "touchpoints.csv", "rb")) - 1
    best = {"duckdb": (float("inf"), 0), "cx": (float("inf"), 0)}
    for _ in range(repeat):
        out_duck = work / f"duck_{n}"
        shutil.rmtree(out_duck, ignore_errors=True)
        t, m = run_measured([sys.executable, "-c", DUCKDB_SCRIPT, str(raw), str(out_duck)])
        best["duckdb"] = min(best["duckdb"], (t, m))
        out_cx = work / f"processed_{n}"
        shutil.rmtree(out_cx, ignore_errors=True)
        t, m = run_measured(CX + ["clean", "--force", str(raw), str(out_cx)])
        best["cx"] = min(best["cx"], (t, m))
    return {
        "visits": n, "events": events, "raw_mb": raw_bytes / 1e6,
        "duckdb_s": best["duckdb"][0], "duckdb_peak_mb": best["duckdb"][1] / 1e6,
        "cx_s": best["cx"][0], "cx_peak_mb": best["cx"][1] / 1e6,
        "ratio": best["cx"][0] / best["duckdb"][0], "peak_over_raw": best["cx"][1] / raw_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is kept")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    rows = [bench_size(args.work, n, args.seed, args.repeat) for n in args.sizes]
    print(f"\n{'visits':>10} {'events':>11} {'raw MB':>8} {'duckdb s':>9} {'cx s':>7} {'ratio':>6} "
          f"{'cx peak MB':>10} {'peak/raw':>8}")
    for r in rows:
        print(f"{r['visits']:>10,} {r['events']:>11,} {r['raw_mb']:>8.0f} {r['duckdb_s']:>9.1f} {r['cx_s']:>7.1f} "
              f"{r['ratio']:>6.2f} {r['cx_peak_mb']:>10.0f} {r['peak_over_raw']:>8.2f}")
    ok = True
    for r in rows:
        for name, value, limit in (("time vs duckdb", r["ratio"], 1.5), ("peak memory / raw bytes", r["peak_over_raw"], 3.0)):
            passed = value <= limit
            ok &= passed
            print(f"{'PASS' if passed else 'FAIL'} {r['visits']:,} visits: {name} {value:.2f} (target <= {limit})")
    if len(rows) >= 2:
        scale = rows[-1]["cx_s"] / rows[0]["cx_s"]
        passed = scale <= 12.0
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'} scaling {rows[-1]['visits']:,} / {rows[0]['visits']:,} visits: "
              f"{scale:.1f}x time (target <= 12x)")
    if len(rows) >= 2:
        rows[-1]["scaling"] = rows[-1]["cx_s"] / rows[0]["cx_s"]
    (args.work / "results.json").write_text(json.dumps(rows, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
