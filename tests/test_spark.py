"""The relational plan on Apache Spark gives the same processed tables as on DuckDB.

Both engines clean the same raw folder (the shipped sample, and dirty folders that break every
rule); every processed table (the quarantine ledger with file, row, rule and reason among them)
is compared value by value and type by type, and ``quality.json`` as a whole. One local Spark
session (``local[2]``) serves the whole test session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxlib import clean, cli
from cxlib.clean.plan import dialect
from cxlib.errors import DataError
from tests.test_engine import DIRTY_TABLES_RULES, ROOT, assert_same_outputs, dirty_events_raw, dirty_tables_raw

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark():
    """The Spark session of the tests, started once (a test that starts another master
    replaces it; :func:`cxlib.clean.plan.spark.session` starts this one again when asked)."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from cxlib.clean.plan import spark as plan_spark

    # tiny inputs: no code generation per query, one shuffle partition (the results are the same)
    plan_spark.RUNTIME_SETTINGS.update(
        {
            "spark.sql.codegen.wholeStage": "false",
            "spark.sql.shuffle.partitions": "1",
            "spark.sql.adaptive.enabled": "false",
        }
    )
    yield plan_spark.session(master=MASTER)
    plan_spark.RUNTIME_SETTINGS.clear()


def _spark_and_duckdb(raw: Path, out: Path) -> tuple[Path, Path]:
    clean.clean(raw, out / "duckdb", engine="duckdb", force=True)
    clean.clean(raw, out / "spark", engine="spark", spark_master=MASTER, force=True)
    return out / "duckdb", out / "spark"


def _ledger_and_counts(folder: Path) -> tuple[pd.DataFrame, dict]:
    q = pd.read_parquet(folder / "quarantine.parquet")
    quality = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    return q, quality


@pytest.mark.slow
def test_spark_and_duckdb_agree_on_the_shipped_sample(spark, tmp_path):
    duck, sp = _spark_and_duckdb(ROOT / "data" / "raw", tmp_path)
    assert_same_outputs(duck, sp)
    q, quality = _ledger_and_counts(sp)
    for t, entry in quality["tables"].items():
        assert entry["read"] == entry["kept"] + entry["quarantined"], t
    events = quality["tables"]["touchpoints"]
    assert events["quarantined"] > 0 and events["repaired"] > 0
    assert len(q) == sum(e["quarantined"] for e in quality["tables"].values())
    assert q["source_file"].notna().all() and (q["source_row"] > 0).all() and q["reason"].str.len().gt(0).all()


@pytest.mark.slow
def test_spark_and_duckdb_agree_on_dirty_visits_surveys_and_complaints(spark, tmp_path):
    duck, sp = _spark_and_duckdb(dirty_tables_raw(tmp_path / "raw"), tmp_path)
    assert_same_outputs(duck, sp)
    q, _ = _ledger_and_counts(sp)
    assert set(q["rule"]) >= DIRTY_TABLES_RULES
    reasons = dict(zip(zip(q["table"], q["source_row"]), q["reason"]))
    assert reasons[("visits", 2)] == "visit_id V1 appears again (first occurrence kept)"
    assert reasons[("visits", 5)] == "center 'nowhere' matches no center id, name or alias"
    surveys = pd.read_parquet(sp / "surveys.parquet")
    assert "13912345678" not in " ".join(surveys["comment"].dropna())
    visits = pd.read_parquet(sp / "visits.parquet")
    assert "沪A12345" not in " ".join(visits["vehicle_model"].dropna())


@pytest.mark.slow
def test_spark_and_duckdb_agree_on_a_dirty_event_log_and_rare_timestamps(spark, tmp_path):
    from tests.conftest import EVENTS, write_raw

    duck, sp = _spark_and_duckdb(dirty_events_raw(tmp_path / "raw"), tmp_path)
    assert_same_outputs(duck, sp)
    q, _ = _ledger_and_counts(sp)
    rules = q[q["table"] == "touchpoints"].set_index("source_row")["rule"].to_dict()
    assert rules == {
        5: "unknown_touchpoint",
        6: "orphan_visit",
        9: "missing_required",
        11: "duplicate_id",
        10: "duplicate_id",
    }
    assert "13912345678" not in " ".join(pd.read_parquet(sp / "events.parquet")["advisor"])
    # the rare shapes read per distinct value in Python (Excel serials, Chinese dates, other
    # offsets, an impossible date, an unreadable value) next to the common ones read by Spark
    ts = [
        "2026/10/03 09:00",
        "46298.4166667",
        "2026-10-03 10:10:00",
        "2026年10月3日 10:40",
        "not a time",
        " 2026-10-03T12:05:00+09:00 ",
        "",
        "2026-02-30 10:00:00",
    ]
    raw = write_raw(tmp_path / "ts" / "raw", touchpoints=EVENTS.assign(ts=ts))
    duck, sp = _spark_and_duckdb(raw, tmp_path / "ts")
    assert_same_outputs(duck, sp)
    events = json.loads((sp / "quality.json").read_text(encoding="utf-8"))["tables"]["touchpoints"]
    assert events["read"] == 8 == events["kept"] + events["quarantined"] and events["quarantined"] == 3


@pytest.mark.slow
def test_a_bad_master_url_is_one_line_and_writes_nothing(spark, raw_dir, tmp_path, capsys):
    out = tmp_path / "out"
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(out), "--engine", "spark", "--spark-master", "nowhere:1234"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("cx: error: Spark could not start with master 'nowhere:1234': ")
    assert "nowhere:1234" in err
    assert not out.exists()


@pytest.mark.slow
def test_a_spark_error_in_the_plan_is_one_line_and_leaves_the_old_data(spark, raw_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    from cxlib.clean.plan import visits

    def broken(con, raw, centers, tz):  # the first rules of the plan query a table that is not there
        con.execute("SELECT * FROM a_table_that_is_not_there").fetchall()

    monkeypatch.setattr(visits, "clean_visits", broken)
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(out), "--force", "--engine", "spark", "--spark-master", MASTER]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cx: error: the cleaning plan failed on Spark: ")
    assert "a_table_that_is_not_there" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".cx-build")] == []


def test_missing_java_is_one_line(raw_dir, tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(tmp_path / "out"), "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("cx: error: the spark engine needs Java 17 or later, and none was found: ")
    assert not (tmp_path / "out").exists()


def test_missing_pyspark_is_one_line(raw_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    capsys.readouterr()
    assert cli.main(["clean", str(raw_dir), str(tmp_path / "out"), "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "cx: error: the spark engine needs pyspark: install the project with its spark extra "
        "(pip install -e '.[spark]')\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_master_comes_from_the_option_or_the_params_file(tmp_path):
    params = tmp_path / "clean.yaml"
    params.write_text("engine: spark\nspark_master: spark://head:7077\n", encoding="utf-8")
    parse = cli.build_parser().parse_args
    assert cli.clean_options(parse(["clean", "raw", "out", "--params", str(params)])) == {
        "tz": "Asia/Shanghai",
        "engine": "spark",
        "spark_master": "spark://head:7077",
    }
    assert (
        cli.clean_options(parse(["clean", "raw", "out", "--params", str(params), "--spark-master", "local[2]"]))[
            "spark_master"
        ]
        == "local[2]"
    )
    assert cli.clean_options(parse(["clean", "raw", "out"]))["spark_master"] == "local[*]"
    params.write_text("spark_mastr: local[2]\n", encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"clean.yaml: unknown parameter 'spark_mastr' for cx clean; allowed: "
        r"tz, engine, spark_master",
    ):
        cli.clean_options(parse(["clean", "raw", "out", "--params", str(params)]))
    params.write_text("spark_master: 7077\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"clean.yaml: spark_master must be text, got 7077"):
        cli.clean_options(parse(["clean", "raw", "out", "--params", str(params)]))


@pytest.mark.parametrize(
    "duck, spark_sql",
    [
        ("SELECT cx_trim(x) FROM t", "SELECT CASE WHEN (ASCII(SUBSTRING(x, 1, 1)) BETWEEN 33 AND 126 OR "),
        ("SELECT ord(x[1]), ord(x[-1]) FROM t", "SELECT ASCII(SUBSTRING(x, 1, 1)), ASCII(SUBSTRING(x, -1, 1)) FROM t"),
        (
            "SELECT epoch_us(try_cast(t AS TIMESTAMPTZ)), epoch_us(try_cast(t AS TIMESTAMP)) FROM v",
            "SELECT UNIX_MICROS(TRY_CAST(t AS TIMESTAMP)), UNIX_MICROS(TRY_CAST(t AS TIMESTAMP_NTZ)) FROM v",
        ),
        (
            "SELECT coalesce(z.off, 0) FROM v LEFT JOIN cx_zone_1 z ON z.h = ((a) - (((a) % 36) + 36) % 36) // 36",
            "SELECT COALESCE(z.off, 0) FROM v LEFT JOIN cx_zone_1 AS z ON z.h = ((a) - (((a) % 36) + 36) % 36) DIV 36",
        ),
        ("SELECT regexp_full_match(t, '\\d{4}') FROM v", "SELECT t RLIKE '^(?:\\\\d{4})$' FROM v"),
        (
            "SELECT try_strptime(t, '%Y-%m-%d %H:%M:%S%z') FROM v",
            "SELECT TRY_TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ssXXX') FROM v",
        ),
        (
            "SELECT epoch_us(timezone('Asia/Shanghai', try_strptime(t, '%Y-%m-%d %H:%M'))) FROM v",
            "SELECT UNIX_MICROS(TO_UTC_TIMESTAMP(TRY_TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm'), 'Asia/Shanghai')) FROM v",
        ),
        (
            "SELECT strftime(timezone('UTC', CAST(make_timestamp(a) AS TIMESTAMPTZ)), '%Y-%m') FROM v",
            "SELECT DATE_FORMAT(FROM_UTC_TIMESTAMP(CAST(TIMESTAMP_MICROS(a) AS TIMESTAMP), 'UTC'), 'yyyy-MM') FROM v",
        ),
        ("SELECT [4, 5, 6][tp + 1] FROM v", "SELECT ELEMENT_AT(ARRAY(4, 5, 6), tp + 1) FROM v"),
    ],
)
def test_duckdb_statements_are_written_in_spark_sql(duck, spark_sql):
    pytest.importorskip("sqlglot", reason="the spark extra is not installed")
    assert dialect.to_spark(duck).startswith(spark_sql)


def test_excluded_columns_and_unpivots_are_spelled_out():
    pytest.importorskip("sqlglot", reason="the spark extra is not installed")
    cols = {"t": ["r", "q0", "a"]}.__getitem__
    assert (
        dialect.to_spark("SELECT e.* EXCLUDE (q0), 1 AS q FROM t e", cols)
        == "SELECT `e`.`r`, `e`.`a`, 1 AS q FROM t AS e"
    )
    assert dialect.to_spark("SELECT * EXCLUDE (q0) FROM t", cols) == "SELECT `r`, `a` FROM t"
    # over a subquery (or a view: ``columns`` gives its columns as a table's): its named outputs
    assert (
        dialect.to_spark("SELECT * EXCLUDE (vid), 1 AS q FROM (SELECT x.r, x.vid, a + 1 AS u FROM t x)", cols)
        == "SELECT `r`, `u`, 1 AS q FROM (SELECT x.r, x.vid, a + 1 AS u FROM t AS x)"
    )
    out = dialect.to_spark(
        "WITH s AS (SELECT r, a, b FROM x), long AS (UNPIVOT s ON a, b INTO NAME point VALUE score) SELECT * FROM long"
    )
    assert "FROM s UNPIVOT(score FOR point IN (`a`, `b`))" in out.replace("UNPIVOT (", "UNPIVOT(")


#: texts that meet every branch of the plan's trimming, casts and hour keys
_VALUES = [
    "a",
    "  a ",
    "\u3000上海\u3000",
    "上海",
    "\xa0x",
    "x\u2003",
    "~",
    " ",
    "",
    "2026-10-03 09:05:00",
    "2026-10-03T09:05",
    "2026-10-03 09:05:00+08:00",
    "2026-03-29T02:30:00-05:30",
    "2026-02-30 10:00:00",
]


@pytest.mark.slow
def test_the_plans_functions_give_the_same_values_on_spark_and_duckdb(spark, tmp_path):
    """The trimming macro (its fast path by code points), DuckDB's timestamp casts and the hour
    key of the zone tables, run on both engines over the same texts and numbers."""
    import pyarrow as pa

    from cxlib.clean.plan import db
    from cxlib.clean.plan import spark as plan_spark
    from cxlib.clean.plan.values import hour_of

    query = (
        "SELECT i, cx_trim(t) AS trimmed, ord(t[1]) AS first, ord(t[-1]) AS last, "
        "epoch_us(try_cast(cx_trim(t) AS TIMESTAMP)) AS local_us, "
        "epoch_us(try_cast(cx_trim(t) AS TIMESTAMPTZ)) AS utc_us, "
        f"{hour_of('us')} AS hour FROM cx_values ORDER BY i"
    )
    us = [-1, 0, 1, 3_599_999_999, 3_600_000_000, -3_600_000_001, 1_790_000_000_123_456]
    values = pa.table(
        {
            "i": pa.array(range(len(_VALUES)), pa.int64()),
            "t": pa.array(_VALUES, pa.string()),
            "us": pa.array([us[i % len(us)] for i in range(len(_VALUES))], pa.int64()),
        }
    )
    duck = db.connect(tmp_path / "duck")
    duck.register("cx_values", values)
    want = duck.execute(query).fetchall()
    # the session of the tests as it is now (a test of another master may have replaced it)
    con = plan_spark.SparkPlan(plan_spark.session(master=MASTER), tmp_path / "spark")
    con.register("cx_values", values)
    got = [tuple(r) for r in con.execute(query).fetchall()]
    con.close()
    # '' has no first character: DuckDB's ord gives NULL, Spark's ascii 0 (both keep the regular expression)
    assert [r[:2] + r[4:] for r in got] == [r[:2] + r[4:] for r in want]
    assert [r[2:4] for r in got if _VALUES[r[0]]] == [r[2:4] for r in want if _VALUES[r[0]]]
    assert want[2][1] == "上海" and want[1][1] == "a" and want[7][1] is None
    # 09:05 on the wall clock (as UTC microseconds), 09:05 at +08:00 (01:05 UTC), no 30 February
    assert want[9][4] == 1_791_018_300_000_000 and want[11][5] == 1_790_989_500_000_000
    assert want[13][4] is None and want[13][5] is None
