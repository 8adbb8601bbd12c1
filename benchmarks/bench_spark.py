"""The portable layer of the Spark engine, measured: the touchpoint log's rules written once in
Ibis and once as the plan's DuckDB SQL transpiled by SQLGlot, each run on DuckDB and on Spark.

    python benchmarks/bench_spark.py --raw benchmarks/_work/raw_1000000 [--master 'local[*]']
                                     [--runs sql:duckdb sql:spark ibis:duckdb ibis:spark] [--repeat 1]
                                     [--head 200000]

Needs the spark extra and Ibis with both backends (``pip install -e '.[spark]'
'ibis-framework[duckdb,pyspark]'``; Ibis is not a dependency of the project: it lost, below).

Each run is a fresh process (its wall time, and the peak resident memory of the process tree,
sampled every 0.2 s from /proc: Python and Spark's JVM together) that

1. reads ``touchpoints.csv`` as text with the engine's own CSV reader (numbering the rows) and
   the visit ids of ``visits.csv`` (every visit counted as kept: the visit rules are not part of
   this measurement);
2. applies the touchpoint rules of the data contract: Unicode trimming, touchpoint codes,
   Chinese names and spellings, channels and photo flags through lookup tables of the distinct
   values (computed in Python by the reference readers), timestamps in the common shapes in the
   engine and the rare ones per distinct value in Python, required values, unknown codes,
   orphans, repeated events;
3. counts rows read, kept and quarantined per rule (all runs must give the same counts).

``sql`` runs :func:`cxlib.clean.plan.touchpoints.rules` itself: on DuckDB as it is, on Spark
through :class:`cxlib.clean.plan.spark.SparkPlan` (the same statements transpiled). ``ibis`` is
the same rules as one Ibis expression (:func:`ibis_rules`). The figures and the reasons for
the choice are in the README (engines). ``--out`` gets the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TZ = "Asia/Shanghai"


# ---------------------------------------------------------------- measuring a child process
def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, dict]:
    """Run ``cmd`` (printing one JSON line); (wall seconds, peak tree RSS, its JSON)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return wall, peak[0], json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- the runs (in the child)
def _load_duckdb(raw: Path):
    from cxlib.clean.plan import db

    con = db.connect(Path(os.environ.get("TMPDIR", "/tmp")) / f"cx-bench-{os.getpid()}")
    con.execute(f"""CREATE TABLE raw_touchpoints AS
        SELECT row_number() OVER () - 1 AS cx__r, * FROM read_csv('{raw / "touchpoints.csv"}', all_varchar = true,
                                                                  header = true)""")
    con.execute(f"""CREATE TABLE cx_visit_ids AS
        SELECT visit_id AS vid, row_number() OVER () - 1 AS pos
        FROM (SELECT DISTINCT cx_trim(visit_id) AS visit_id FROM read_csv('{raw / "visits.csv"}', all_varchar = true,
                                                                        header = true) WHERE visit_id IS NOT NULL)""")
    return con


def _load_spark(raw: Path, master: str):
    from pyspark.sql import functions as F

    from cxlib.clean.plan import spark as plan_spark

    spark = plan_spark.session(master=master)
    ev = (
        spark.read.option("header", True)
        .csv(str(raw / "touchpoints.csv"))
        .withColumn("cx__r", F.monotonically_increasing_id())
    )
    ev.localCheckpoint(eager=True).createOrReplaceTempView("raw_touchpoints")
    vis = spark.read.option("header", True).csv(str(raw / "visits.csv"))
    vis.createOrReplaceTempView("raw_visits_ids")
    con = plan_spark.SparkPlan(spark, Path(os.environ.get("TMPDIR", "/tmp")) / f"cx-bench-{os.getpid()}")
    con.execute("""CREATE TABLE cx_visit_ids AS SELECT visit_id AS vid, row_number() OVER (ORDER BY visit_id) - 1 AS pos
                   FROM (SELECT DISTINCT cx_trim(visit_id) AS visit_id FROM raw_visits_ids WHERE visit_id IS NOT NULL)""")
    return spark, con


def _sql_counts(con) -> dict:
    from cxlib.clean.plan import touchpoints

    touchpoints.rules(con, TZ)
    q = touchpoints.quality(con)
    return {
        "read": q["read"],
        "kept": q["kept"],
        "quarantined": {
            rule: e["rows"] for rule, e in q["rules"].items() if e["action"] == "quarantined" and e["rows"]
        },
    }


def ibis_rules(con, raw, visit_ids):
    """The touchpoint rules as one Ibis expression over ``raw`` (the raw log as text, row
    number ``cx__r``) and ``visit_ids`` (``vid``, ``pos``); the lookup tables of the distinct
    values are computed in Python (the same readers as the plan's) and joined as memtables.
    Returns the ruled table (``q``: the rule, NULL for a kept row)."""
    import ibis
    import numpy as np
    import pyarrow as pa

    from cxlib import catalog
    from cxlib.clean.plan.db import WHITESPACE
    from cxlib.clean.plan.values import _ints
    from cxlib.clean.rules.touchpoints import touchpoint_code
    from cxlib.clean.timestamps import _parse_ts_array
    from cxlib.clean.values import _code_mapper, _norm_key, _parse_bool

    space = "[" + WHITESPACE + "]"

    def trim(c):
        return c.re_replace(f"^{space}+|{space}+$", "").nullif("")

    x = raw.select(
        r=raw.cx__r,
        vid=trim(raw.visit_id),
        ts_t=trim(raw.ts),
        tp_t=trim(raw.touchpoint),
        ch_t=trim(raw.channel),
        ph_t=trim(raw.photo),
    )
    # the common shapes in the engine: local ISO time, and with a +HH:MM offset. Ibis has no
    # portable "local time in a zone" (the zone's rules), so the local shape is read with the
    # zone's fixed offset here, and Ibis's %z is Spark's 'Z' (+HHMM), not +HH:MM: the offset is
    # taken apart by hand to read the same on both backends
    local = x.ts_t.substr(0, 19).replace("T", " ").as_timestamp("%Y-%m-%d %H:%M:%S").epoch_seconds()
    naive_ok = x.ts_t.re_search(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$")
    aware_ok = x.ts_t.re_search(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
    sign = ibis.cases((x.ts_t.substr(19, 1) == "-", -1), else_=1)
    offset = sign * (x.ts_t.substr(20, 2).cast("int64") * 3600 + x.ts_t.substr(23, 2).cast("int64") * 60)
    zone = 8 * 3600  # Asia/Shanghai: no daylight saving since 1991
    utc_common = ibis.cases(
        (naive_ok, (local - zone) * 1_000_000), (aware_ok, (local - offset) * 1_000_000), else_=ibis.null("int64")
    )
    x = x.mutate(utc_c=utc_common)

    def distinct(col):
        return [v for v in con.execute(x.filter(x[col].notnull()).select(col).distinct())[col].tolist()]

    rare = [
        v for v in con.execute(x.filter(x.ts_t.notnull() & x.utc_c.isnull()).select("ts_t").distinct())["ts_t"].tolist()
    ]
    utc, _, _, _ = _parse_ts_array(pa.array(rare, pa.string()), TZ, mixed=True)
    ts_lk = ibis.memtable(pa.table({"text": pa.array(rare, pa.string()), "utc_r": _ints(utc)}))
    tps = distinct("tp_t")
    tp_lk = ibis.memtable(
        pa.table({"text": pa.array(tps, pa.string()), "tp": pa.array([touchpoint_code(t)[0] for t in tps], pa.int16())})
    )
    codes = [c.code for c in catalog.CHANNELS]
    mapper = _code_mapper(catalog.CHANNELS)
    chs = distinct("ch_t")
    ch_lk = ibis.memtable(
        pa.table(
            {
                "text": pa.array(chs, pa.string()),
                "ch": pa.array(
                    [
                        codes.index(c)
                        if c in codes
                        else codes.index(mapper[_norm_key(c)])
                        if _norm_key(c) in mapper
                        else -1
                        for c in chs
                    ],
                    pa.int16(),
                ),
            }
        )
    )
    phs = distinct("ph_t")
    ph_lk = ibis.memtable(
        pa.table(
            {
                "text": pa.array(phs, pa.string()),
                "photo": pa.array([-1 if np.isnan(_parse_bool(p)) else int(_parse_bool(p)) for p in phs], pa.int8()),
            }
        )
    )
    j = (
        x.left_join(ts_lk, x.ts_t == ts_lk.text)
        .drop("text")
        .left_join(tp_lk, x.tp_t == tp_lk.text)
        .drop("text")
        .left_join(ch_lk, x.ch_t == ch_lk.text)
        .drop("text")
        .left_join(ph_lk, x.ph_t == ph_lk.text)
        .drop("text")
        .left_join(visit_ids, x.vid == visit_ids.vid)
    )
    j = j.select(
        r=j.r,
        vid=j.vid,
        tp_t=j.tp_t,
        utc=j.utc_c.coalesce(j.utc_r),
        tp=j.tp.coalesce(-1),
        in_raw=j.vid_right.notnull(),
        vpos=j.pos.coalesce(-1),
    )
    j = j.mutate(
        q0=ibis.cases(
            (j.vid.isnull() | j.utc.isnull() | j.tp_t.isnull(), "missing_required"),
            (j.tp < 0, "unknown_touchpoint"),
            (~j.in_raw, "orphan_visit"),
            (j.vpos < 0, "visit_quarantined"),
            else_=ibis.null("string"),
        )
    )
    kept = j.filter(j.q0.isnull())
    rep = kept.group_by(["vpos", "utc", "tp"]).aggregate(first=kept.r.min(), n=kept.count()).filter(lambda t: t.n > 1)
    d = j.left_join(rep, (j.vpos == rep.vpos) & (j.utc == rep.utc) & (j.tp == rep.tp) & j.q0.isnull())
    return d.select(q=ibis.cases((d.q0.isnull() & d.first.notnull() & (d.r > d.first), "duplicate_id"), else_=d.q0))


def _ibis_counts(con, raw, visit_ids) -> dict:
    ruled = ibis_rules(con, raw, visit_ids)
    by = con.execute(ruled.group_by("q").aggregate(n=ruled.count()))
    counts = {(None if q is None or q != q else str(q)): int(n) for q, n in zip(by["q"], by["n"])}
    read = sum(counts.values())
    kept = counts.pop(None, 0)
    return {"read": read, "kept": kept, "quarantined": dict(sorted(counts.items()))}


def child(layer: str, engine: str, raw: Path, master: str) -> dict:
    """One measured run (in its own process): load, rules, counts, with the phases' times."""
    t0 = time.perf_counter()
    if engine == "duckdb":
        con = _load_duckdb(raw)
        con.execute("SELECT count(*) FROM raw_touchpoints").fetchone()
    else:
        spark, con = _load_spark(raw, master)
    t1 = time.perf_counter()
    if layer == "sql":
        counts = _sql_counts(con)
    else:
        import ibis

        icon = ibis.duckdb.from_connection(con) if engine == "duckdb" else ibis.pyspark.connect(spark)
        counts = _ibis_counts(icon, icon.table("raw_touchpoints"), icon.table("cx_visit_ids"))
    t2 = time.perf_counter()
    counts["quarantined"] = dict(sorted(counts["quarantined"].items()))
    return {"layer": layer, "engine": engine, "load_s": round(t1 - t0, 1), "rules_s": round(t2 - t1, 1), **counts}


def _head(raw: Path, n: int) -> Path:
    """The first ``n`` events and ``n // 10`` visits of ``raw`` as a raw folder of their own."""
    import pandas as pd

    out = ROOT / "benchmarks" / "_work" / f"{raw.name}_head_{n}"
    if not (out / "visits.csv").exists():
        out.mkdir(parents=True, exist_ok=True)
        pd.read_csv(raw / "touchpoints.csv", nrows=n, dtype=str).to_csv(out / "touchpoints.csv", index=False)
        pd.read_csv(raw / "visits.csv", nrows=n // 10, dtype=str).to_csv(out / "visits.csv", index=False)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--raw", type=Path, default=ROOT / "benchmarks" / "_work" / "raw_1000000")
    p.add_argument("--master", default="local[*]")
    p.add_argument("--runs", nargs="+", default=["sql:duckdb", "ibis:duckdb", "sql:spark", "ibis:spark"])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "spark_layers.json")
    p.add_argument(
        "--head",
        type=int,
        default=None,
        metavar="N",
        help="measure the first N events (and N/10 visits) of --raw only, copied to benchmarks/_work",
    )
    p.add_argument("--child", nargs=2, metavar=("LAYER", "ENGINE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.raw.resolve(), args.master)))
        return 0
    if args.head:
        args.raw = _head(args.raw, args.head)
    results = []

    def save(same: bool | None) -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "raw": str(args.raw),
                    "master": args.master,
                    "cores": os.cpu_count(),
                    "same_counts": same,
                    "runs": results,
                },
                indent=2,
            )
            + "\n"
        )

    for run in args.runs:
        layer, engine = run.split(":")
        for i in range(args.repeat):
            try:
                wall, peak, res = run_measured(
                    [
                        sys.executable,
                        __file__,
                        "--raw",
                        str(args.raw.resolve()),
                        "--master",
                        args.master,
                        "--child",
                        layer,
                        engine,
                    ]
                )
            except SystemExit as exc:  # one failed run is reported, the others still measured
                print(f"{layer:5s} on {engine:7s}: {exc}", flush=True)
                results.append({"layer": layer, "engine": engine, "failed": str(exc)[-2000:]})
                save(None)
                continue
            res.update(wall_s=round(wall, 1), peak_gb=round(peak / 1e9, 2), repeat=i)
            print(
                f"{layer:5s} on {engine:7s}: {wall:7.1f} s (load {res['load_s']} s, rules {res['rules_s']} s), "
                f"peak {peak / 1e9:.2f} GB; read {res['read']:,}, kept {res['kept']:,}, {res['quarantined']}",
                flush=True,
            )
            results.append(res)
            save(None)
    done = [r for r in results if "failed" not in r]
    same = len(done) == len(results) and len({json.dumps([r["read"], r["kept"], r["quarantined"]]) for r in done}) == 1
    print("all runs give the same counts" if same else "the runs' counts DIFFER or a run failed")
    save(same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
