"""Where the time and memory of ``cx clean --engine duckdb`` go, statement by statement.

    python benchmarks/profile_clean.py RAW [--out DIR] [--memory-limit 1GB] [--top 25] [--json FILE]

Runs the cleaning of ``RAW`` (the same function ``cx clean`` calls, ``force=True``) in this
process with the plan's DuckDB connection wrapped: every ``execute`` / ``sql`` / ``register``
is timed, and so is the Python between two statements (the lookups read per distinct value,
the frames of the output batches, the quarantine's JSON), each labelled with the first words
of its SQL or with the function of the plan that ran it. Each step's peak resident memory is
taken from the kernel (``VmHWM``, reset before the step through ``/proc/self/clear_refs``) and
the size of DuckDB's spill folder is sampled after it. Prints the slowest steps and the totals;
``--json`` writes every step.

Statements built by ``con.sql`` are lazy: their time is counted where their rows are read
(the output writers), under the label of the writer.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _hwm_reset() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _dir_bytes(path: Path) -> int:
    total = 0
    if path.exists():
        for p in path.rglob("*"):
            try:
                if p.is_file():
                    total += p.stat().st_size
            except OSError:
                pass
    return total


def _label(sql: str) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    m = re.match(r"(CREATE (OR REPLACE )?(TEMP )?(TABLE|VIEW|MACRO) \S+)", text)
    return m.group(1) if m else text[:90]


def _caller() -> str:
    """The plan's function that made the call (the first frame inside cxlib.clean.plan)."""
    for frame in inspect.stack()[2:]:
        name = frame.filename.replace("\\", "/")
        if "/cxlib/clean/" in name:
            return f"{Path(name).stem}.{frame.function}"
    return "?"


class Profile:
    """The steps of one run: (kind, label, caller, seconds, peak bytes, spill bytes)."""

    def __init__(self, spill: Path, log: Path | None = None) -> None:
        self.steps: list[dict] = []
        self.log = log
        self.spill = spill
        self.mark = time.perf_counter()
        _hwm_reset()

    def step(self, kind: str, label: str, caller: str, seconds: float) -> None:
        self.steps.append(
            {
                "kind": kind,
                "label": label,
                "caller": caller,
                "seconds": round(seconds, 3),
                "peak_rss": _hwm(),
                "spill_bytes": _dir_bytes(self.spill),
            }
        )
        if self.log is not None:  # each step as it ends: a run that fails still shows where
            with open(self.log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(self.steps[-1], ensure_ascii=False) + "\n")
        _hwm_reset()

    def python_gap(self) -> None:
        gap = time.perf_counter() - self.mark
        if gap > 0.05:
            self.step("python", "Python before the next statement", _caller(), gap)

    def timed(self, kind: str, label: str, func, *args, **kwargs):
        self.python_gap()
        caller = _caller()
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            self.step(kind, label, caller, time.perf_counter() - start)
            self.mark = time.perf_counter()


class TimedRelation:
    """A lazy DuckDB relation whose batches, read by the plan's writers, are timed."""

    def __init__(self, rel, profile: Profile, label: str, caller: str) -> None:
        self._rel, self._p, self._label, self._caller = rel, profile, label, caller

    def to_arrow_reader(self, batch_rows: int):
        p = self._p
        reader = p.timed("sql", "start " + self._label, self._rel.to_arrow_reader, batch_rows)

        def batches():
            it = iter(reader)
            while True:
                p.python_gap()
                start = time.perf_counter()
                try:
                    batch = next(it)
                except StopIteration:
                    p.step("sql", "batches of " + self._label, self._caller, time.perf_counter() - start)
                    p.mark = time.perf_counter()
                    return
                p.step("sql", "batches of " + self._label, self._caller, time.perf_counter() - start)
                p.mark = time.perf_counter()
                yield batch

        return batches()

    def __getattr__(self, name):
        return getattr(self._rel, name)


class TimedConnection:
    """A DuckDB connection whose statements are timed by :class:`Profile`."""

    def __init__(self, con, profile: Profile) -> None:
        self._con, self._p = con, profile

    def execute(self, sql, *args, **kwargs):
        return self._p.timed("sql", _label(sql), self._con.execute, sql, *args, **kwargs)

    def sql(self, sql, *args, **kwargs):
        label = "lazy " + _label(sql)
        caller = _caller()
        rel = self._p.timed("sql", label, self._con.sql, sql, *args, **kwargs)
        return TimedRelation(rel, self._p, label, caller)

    def register(self, name, obj):
        return self._p.timed("register", f"register {name}", self._con.register, name, obj)

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="processed folder (default: a temporary one, removed)")
    ap.add_argument(
        "--memory-limit", default=None, help="DuckDB's memory limit for this run (default: the plan's, by the raw size)"
    )
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--log", type=Path, default=None, help="append each step to this file (JSON lines) as it ends")
    args = ap.parse_args(argv)

    from cxlib.clean import build
    from cxlib.clean.plan import db

    limit, connect = db.memory_limit, db.connect
    if args.memory_limit:
        db.memory_limit = lambda raw_bytes: args.memory_limit
    out = args.out or Path(tempfile.mkdtemp(prefix="cx-profile-"))
    holder: dict[str, Profile] = {}

    def timed_connect(work: Path, **kwargs):
        holder["p"] = Profile(work / "spill", args.log)
        return TimedConnection(connect(work, **kwargs), holder["p"])

    db.connect = timed_connect
    start = time.perf_counter()
    try:
        result = build.clean(args.raw, out, force=True, engine="duckdb")
    finally:
        db.memory_limit, db.connect = limit, connect
    wall = time.perf_counter() - start
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    p = holder["p"]
    p.python_gap()
    steps = p.steps
    sql = sum(s["seconds"] for s in steps if s["kind"] != "python")
    py = sum(s["seconds"] for s in steps if s["kind"] == "python")
    peak = max((s["peak_rss"] for s in steps), default=0)
    spill = max((s["spill_bytes"] for s in steps), default=0)
    print(f"{args.raw}: {wall:.1f} s in all (statements {sql:.1f} s, Python between them {py:.1f} s)")
    print(f"peak RSS of a step {peak / 1e9:.2f} GB; largest spill folder {spill / 1e9:.2f} GB")
    print(f"kept/quarantined: {result.quality.get('totals', {})}")
    merged: dict[tuple[str, str, str], dict] = {}
    for s in steps:  # the batches of one output counted together
        m = merged.setdefault((s["caller"], s["kind"], s["label"]), {**s, "seconds": 0.0, "n": 0})
        m["seconds"] += s["seconds"]
        m["n"] += 1
        m["peak_rss"] = max(m["peak_rss"], s["peak_rss"])
        m["spill_bytes"] = max(m["spill_bytes"], s["spill_bytes"])
    print(f"\nslowest {args.top} steps (the batches of one output, and the Python between them, summed):")
    print(f"{'s':>8} {'peak GB':>8} {'spill GB':>8}  caller / statement")
    for s in sorted(merged.values(), key=lambda s: -s["seconds"])[: args.top]:
        print(
            f"{s['seconds']:8.1f} {s['peak_rss'] / 1e9:8.2f} {s['spill_bytes'] / 1e9:8.2f}  "
            f"{s['caller']}: {s['kind']} {s['label'][:100]}" + (f" ({s['n']}×)" if s["n"] > 1 else "")
        )
    by_caller: dict[str, float] = {}
    for s in steps:
        by_caller[s["caller"]] = by_caller.get(s["caller"], 0.0) + s["seconds"]
    print("\nper function of the plan:")
    for name, secs in sorted(by_caller.items(), key=lambda kv: -kv[1]):
        print(f"{secs:8.1f}  {name}")
    if args.json:
        args.json.write_text(
            json.dumps({"raw": str(args.raw), "wall": wall, "peak_rss": peak, "spill": spill, "steps": steps}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
