"""The statement profiler of the cleaning plan (benchmarks/profile_clean.py) on the shipped sample."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _profiler():
    spec = importlib.util.spec_from_file_location("profile_clean", ROOT / "benchmarks" / "profile_clean.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_profiler_times_every_statement_of_a_real_run(tmp_path, capsys):
    from cxlib.clean.plan import db

    prof = _profiler()
    out = tmp_path / "profile.json"
    connect = db.connect
    assert prof.main([str(ROOT / "data" / "raw"), "--out", str(tmp_path / "processed"), "--json", str(out)]) == 0
    assert db.connect is connect  # the plan's own connection again for the other tests
    report = json.loads(out.read_text())
    steps = report["steps"]
    labels = {s["label"] for s in steps}
    # the touchpoint log's rules, its one pass of lookups and its lazy outputs are all there
    assert "CREATE TEMP TABLE events_linked" in labels
    assert any(s["caller"] == "values.distinct_values" for s in steps)
    assert any(s["label"].startswith("batches of lazy SELECT k.vid, e.utc") for s in steps)
    assert all(s["seconds"] >= 0 and s["peak_rss"] > 0 for s in steps)
    assert sum(s["seconds"] for s in steps) <= report["wall"] + 1e-6
    # the run it profiled is a real one: its quality report is the processed folder's
    quality = json.loads((tmp_path / "processed" / "quality.json").read_text(encoding="utf-8"))
    printed = capsys.readouterr().out
    assert f"'read': {quality['totals']['read']}" in printed
    assert "per function of the plan:" in printed
