"""The relational plan executed by Apache Spark (``cx clean --engine spark``).

The plan's modules (:mod:`cxlib.clean.plan.run` and the rules of each table) run unchanged:
they speak to a connection, and :class:`SparkPlan` is one with the part of DuckDB's connection
they use (``execute``, ``sql``, ``register``, ``unregister``, the ``fetch…`` methods and
``to_arrow_reader``). Each statement is transpiled from DuckDB's dialect into Spark SQL by
:mod:`cxlib.clean.plan.dialect`; the statements that change tables are carried out on Spark:

- ``CREATE [TEMP] TABLE t AS SELECT …``: the query, persisted (memory, then the executors'
  disks) and named ``t``; ``CREATE VIEW``: the query named, not computed;
- ``CREATE TABLE t AS SELECT … FROM read_csv(…)`` (a plain UTF-8 CSV file): DuckDB's own CSV
  reader on the driver (the same reader, with the same strictness, as the DuckDB plan's),
  streamed into a Parquet file of the run's folder with DuckDB's row id as the column
  ``rowid``, which Spark reads as the table ``t``;
- the raw tables (``CREATE TABLE t (columns)``, ``ALTER TABLE … ADD COLUMN``, ``INSERT INTO t
  BY NAME SELECT * FROM batch``, ``DELETE``): blocks of raw text are written as Parquet files
  into the run's folder and read by Spark as one table;
- ``register(name, arrow)``: the small lookup tables that Python computes for the rare shapes
  (timestamps in other formats, spellings of codes, masked texts) become Spark tables and are
  joined by the plan as in DuckDB: the per-value Python runs on the driver over the distinct
  rare values only, as in the DuckDB plan, not as a UDF over every row.

Results come back to the driver as Arrow; the kept rows that go to the processed Parquet files
are written by Spark to the run's folder in order and read back batch by batch, so the driver
holds a batch at a time. The run's folder must be one the executors can write (local disk for
``local[*]``, a shared file system on a cluster).

A Spark or Java failure becomes one :class:`cxlib.errors.EngineError` line (:func:`database`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxlib.clean.plan.db import _os_error
from cxlib.errors import EngineError

#: the master when neither ``--spark-master`` nor the params file names one
DEFAULT_MASTER = "local[*]"
#: Spark settings of a run: UTC (the plan's times are UTC microseconds, as in DuckDB), lenient
#: casts (the plan guards its casts by shape), Arrow transfers, no web UI
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.caseSensitive": "false",
}
#: settings of a local master only (one machine: few shuffle partitions, the driver's memory)
LOCAL_SETTINGS = {
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "2g",
    "spark.sql.autoBroadcastJoinThreshold": str(32 << 20),
}
#: SQL settings applied to every session :func:`session` hands out (for small inputs, e.g. the
#: tests: ``{"spark.sql.codegen.wholeStage": "false"}`` saves compiling code per query)
RUNTIME_SETTINGS: dict[str, str] = {}
_ARROW_TO_SPARK = {
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.int64(): "BIGINT",
    pa.int32(): "INT",
    pa.int16(): "SMALLINT",
    pa.int8(): "TINYINT",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
}
_DDL = re.compile(r"^\s*(SET|CREATE\s+MACRO)\b", re.I)


def _java_missing() -> str | None:
    """Why Java cannot be started (None when a ``java`` is found)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return (
        "the spark engine needs Java 17 or later, and none was found: install it (Debian: apt-get install "
        "default-jre-headless) or set JAVA_HOME"
    )


def session(*, master: str = DEFAULT_MASTER):
    """The Spark session of ``master`` (one per process; a session of another master is
    stopped first). Java or pyspark missing, or Spark failing to start, is an :class:`EngineError`.

    >>> session("local[2]").sparkContext.master  # doctest: +SKIP
    'local[2]'
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            "the spark engine needs pyspark: install the project with its spark extra (pip install -e '.[spark]')"
        ) from None
    why = _java_missing()
    if why:
        raise EngineError(why)
    _quiet()
    active = SparkSession.getActiveSession()
    if active is not None:
        if active.sparkContext.master == master:
            for k, v in RUNTIME_SETTINGS.items():
                active.conf.set(k, v)
            return active
        active.stop()
    settings = {**SETTINGS, **(LOCAL_SETTINGS if master.startswith("local") else {})}
    try:
        _gateway(settings)
        b = SparkSession.builder.master(master).appName("cx clean")
        for k, v in settings.items():
            b = b.config(k, v)
        for k, v in RUNTIME_SETTINGS.items():
            b = b.config(k, v)
        spark = b.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    except Exception as exc:  # noqa: BLE001 -- a JVM or master that does not start: one line
        raise EngineError(
            f"Spark could not start with master {master!r}: {_spark_message(exc)} (Spark's log: {log_path()})"
        ) from None


def log_path() -> Path:
    """The file Spark's JVM writes its output and log to (one per process), so that the
    terminal shows cx's own lines only.

    >>> log_path().name.startswith("cx-spark-")
    True
    """
    import tempfile

    return Path(tempfile.gettempdir()) / f"cx-spark-{os.getpid()}.log"


def _gateway(settings: dict[str, str]) -> None:
    """Start Spark's JVM once per process with its output into :func:`log_path` (the settings
    that must be known at its start, such as the driver's memory, given to it)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:
        return
    conf = SparkConf(loadDefaults=False)
    for k, v in settings.items():
        conf.set(k, v)
    log = open(log_path(), "ab")  # noqa: SIM115 -- the JVM writes to it for the life of the process
    SparkContext._gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
    SparkContext._jvm = SparkContext._gateway.jvm


def _quiet() -> None:
    """PySpark's own loggers of failed queries off: their error is reported as one line."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def _spark_message(exc: BaseException) -> str:
    """The first meaningful line of a Spark, Py4J or Java error."""
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            cause = java
            while cause.getCause() is not None:
                cause = cause.getCause()
            text = str(cause.getMessage() or cause.toString())
            return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        except Exception:  # noqa: BLE001 -- the gateway may be gone: fall back on the Python text
            pass
    text = re.sub(r"\s+", " ", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return text[:500]


def _spark_errors() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


class _Result:
    """The result of one statement, read like DuckDB's."""

    def __init__(self, plan: SparkPlan, df=None) -> None:
        self._plan, self._df = plan, df

    def _arrow(self) -> pa.Table:
        if self._df is None:
            return pa.table({})
        return self._df.toArrow()

    def fetchall(self) -> list[tuple]:
        """Every row as a tuple."""
        return [] if self._df is None else [tuple(r) for r in self._df.collect()]

    def fetchone(self) -> tuple | None:
        """The first row (None for no rows)."""
        rows = [] if self._df is None else self._df.take(1)
        return tuple(rows[0]) if rows else None

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """Each column as a NumPy array."""
        t = self._arrow()
        return {c: t[c].to_numpy(zero_copy_only=False) for c in t.column_names}

    def fetch_df(self) -> pd.DataFrame:
        """The result as a pandas frame."""
        return self._arrow().to_pandas()

    def arrow(self) -> pa.Table:
        """The result as an Arrow table."""
        return self._arrow()

    def to_arrow_reader(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """The rows in order, batch by batch: Spark writes them to the run's folder (a global
        sort keeps the order across its files) and the driver reads a batch at a time."""
        folder = self._plan._folder("out")
        self._df.write.mode("overwrite").parquet(str(folder))
        parts = sorted(folder.glob("part-*.parquet"))
        schema = self._df.schema
        seen = False
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=batch_rows):
                seen = True
                yield batch
        if not seen:
            yield pa.RecordBatch.from_pylist([], schema=self._plan._arrow_schema(schema))
        shutil.rmtree(folder, ignore_errors=True)


class SparkPlan:
    """A connection to Spark for the plan, with the part of DuckDB's connection the plan uses.

    >>> con = SparkPlan(session(), Path("/tmp/cx-plan"))  # doctest: +SKIP
    >>> con.execute("SELECT cx_trim('  a ') AS t").fetchone()  # doctest: +SKIP
    ('a',)
    """

    def __init__(self, spark, work: Path) -> None:
        self.spark = spark
        self.work = work
        self._seq = itertools.count()
        self._views: dict[str, Any] = {}
        self._raw: dict[str, dict] = {}
        work.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- helpers
    def _folder(self, kind: str) -> Path:
        return self.work / f"{kind}_{next(self._seq)}"

    @staticmethod
    def _arrow_schema(schema) -> pa.Schema:
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(schema)

    def _columns(self, name: str) -> list[str]:
        self._refresh(name)
        return list(self.spark.table(name).columns)

    def _name(self, node) -> str:
        return node.name if hasattr(node, "name") else str(node)

    def _set(self, name: str, df, persist: bool) -> None:
        self._drop(name)
        if persist:  # computed once, its lineage cut (later queries plan over the stored rows only)
            from pyspark import StorageLevel

            df = df.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
        df.createOrReplaceTempView(name)
        self._views[name] = df if persist else None

    def _drop(self, name: str) -> None:
        df = self._views.pop(name, None)
        if df is not None:
            df.unpersist()
        self.spark.catalog.dropTempView(name)
        raw = self._raw.pop(name, None)
        if raw is not None:
            shutil.rmtree(raw["folder"], ignore_errors=True)

    # ---------------------------------------------------------------- raw tables
    def _refresh(self, name: str) -> None:
        """Name the Parquet files of a raw table as one Spark table (after writes)."""
        raw = self._raw.get(name)
        if raw is None or not raw["dirty"]:
            return
        ddl = ", ".join(f"`{c}` {t}" for c, t in raw["columns"].items())
        if any(raw["folder"].glob("*.parquet")):
            df = self.spark.read.schema(ddl).parquet(str(raw["folder"]))
        else:
            df = self.spark.createDataFrame([], ddl)
        df.createOrReplaceTempView(name)
        raw["dirty"] = False

    def _create_raw(self, name: str, columns: dict[str, str]) -> None:
        self._drop(name)
        folder = self._folder("raw")
        folder.mkdir(parents=True)
        self._raw[name] = {"folder": folder, "columns": columns, "dirty": True, "parts": 0}

    def _insert(self, name: str, source: str) -> None:
        raw = self._raw[name]
        batch = self._arrow_tables.get(source)
        if batch is None:
            raise EngineError(f"the cleaning plan failed on Spark: INSERT from {source!r}, not a registered batch")
        types = {"STRING": pa.string(), "BIGINT": pa.int64(), "INT": pa.int32()}
        cols = {
            c: (batch[c].cast(types[t]) if c in batch.column_names else pa.nulls(batch.num_rows, types[t]))
            for c, t in raw["columns"].items()
        }
        pq.write_table(pa.table(cols), raw["folder"] / f"part-{raw['parts']:06d}.parquet")
        raw["parts"] += 1
        raw["dirty"] = True

    def _read_csv(self, name: str, statement: str) -> None:
        """Carry out a ``CREATE TABLE name AS SELECT … FROM read_csv(…)`` of the plan with DuckDB's
        reader (its error, a :class:`duckdb.Error`, is the plan's sign to read the file with the
        workbench's readers instead) and name the rows, with their ``rowid``, as a raw table."""
        from cxlib.clean.plan import db

        self._drop(name)
        folder = self._folder("raw")
        folder.mkdir(parents=True)
        duck = db.connect(folder / "duckdb")
        try:
            duck.execute(statement)
            columns = [c for (c, *_) in duck.execute(f"DESCRIBE {name}").fetchall()]
            target = folder / "part-000000.parquet"
            duck.execute(f"COPY (SELECT rowid, * FROM {name}) TO {db._sql_text(str(target))} (FORMAT parquet)")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            duck.close()
            shutil.rmtree(folder / "duckdb", ignore_errors=True)
        cols = {"rowid": "BIGINT", **dict.fromkeys(columns, "STRING")}
        self._raw[name] = {"folder": folder, "columns": cols, "dirty": True, "parts": 1}

    def _delete(self, name: str, where: str) -> None:
        self._refresh(name)
        raw = self._raw[name]
        keep = self.spark.sql(f"SELECT * FROM {name} WHERE NOT coalesce({where}, false)")
        folder = self._folder("raw")
        keep.write.parquet(str(folder))
        self.spark.catalog.dropTempView(name)
        shutil.rmtree(raw["folder"], ignore_errors=True)
        raw.update(folder=folder, dirty=True, parts=len(list(folder.glob("*.parquet"))))
        for i, p in enumerate(sorted(folder.glob("part-*.parquet"))):  # keep the parts' order for new writes
            p.rename(folder / f"part-{i:06d}.parquet")

    # ---------------------------------------------------------------- the connection
    _arrow_tables: dict[str, pa.Table]

    def register(self, name: str, table: pa.Table) -> None:
        """A Spark table ``name`` with the rows of the Arrow ``table`` (kept on the driver as
        well, for the raw blocks that are written as Parquet instead)."""
        if not hasattr(self, "_arrow_tables"):
            self._arrow_tables = {}
        self._arrow_tables[name] = table
        if name == "cx_batch":  # a block of raw text: written as Parquet by INSERT
            return
        ddl = ", ".join(f"`{f.name}` {_ARROW_TO_SPARK[f.type]}" for f in table.schema)
        df = self.spark.createDataFrame(table, ddl) if table.num_rows else self.spark.createDataFrame([], ddl)
        self._set(name, df, persist=False)

    def unregister(self, name: str) -> None:
        """Drop a table :meth:`register` made."""
        getattr(self, "_arrow_tables", {}).pop(name, None)
        self._drop(name)

    def sql(self, query: str) -> _Result:
        """A query, computed when read."""
        return self.execute(query)

    def execute(self, statement: str) -> _Result:
        """Carry out one statement of the plan (DuckDB's dialect) on Spark."""
        import sqlglot
        from sqlglot import exp

        from cxlib.clean.plan.dialect import to_spark

        if _DDL.match(statement):  # the DuckDB database's settings and macros: built into the dialect
            return _Result(self)
        tree = sqlglot.parse_one(statement, read="duckdb")
        for t in tree.find_all(exp.Table):
            self._refresh(t.name)
        if isinstance(tree, exp.Create):
            target = tree.this
            if isinstance(target, exp.Schema):  # a raw table: columns given
                types = {"BIGINT": "BIGINT", "INT": "INT", "TEXT": "STRING", "VARCHAR": "STRING"}
                cols = {d.name: types[d.args["kind"].this.name] for d in target.expressions}
                self._create_raw(target.this.name, cols)
                return _Result(self)
            if tree.expression.find(exp.ReadCSV) is not None:
                self._read_csv(target.name, statement)
                return _Result(self)
            query = self.spark.sql(to_spark(tree.expression, self._columns))
            self._set(target.name, query, persist=str(tree.args.get("kind")).upper() == "TABLE")
            return _Result(self)
        if isinstance(tree, exp.Insert):
            src = tree.expression.args.get("from_") or tree.expression.args.get("from")
            self._insert(tree.this.name, src.this.name)
            return _Result(self)
        if isinstance(tree, exp.Alter):
            raw = self._raw[tree.this.name]
            for d in tree.args["actions"]:
                raw["columns"][d.name] = "STRING"
            raw["dirty"] = True
            return _Result(self)
        if isinstance(tree, exp.Delete):
            self._delete(tree.this.name, to_spark(tree.args["where"].this))
            return _Result(self)
        if isinstance(tree, exp.Drop):
            for t in tree.expressions:
                self._drop(t.name)
            return _Result(self)
        return _Result(self, self.spark.sql(to_spark(tree, self._columns)))

    def close(self) -> None:
        """Drop every table of the run (the session stays, for the next run in this process)."""
        for name in list(self._views) + list(self._raw):
            with contextlib.suppress(Exception):
                self._drop(name)
        getattr(self, "_arrow_tables", {}).clear()


@contextlib.contextmanager
def database(work: Path, *, master: str = DEFAULT_MASTER):
    """A :class:`SparkPlan` on ``master`` for one run, its tables and ``work`` removed at the
    end; a Spark or Java error becomes one :class:`EngineError` line (an I/O error: the
    :class:`OSError` the caller reports as such).

    >>> with database(Path("/tmp/cx-plan"), "local[2]") as con:  # doctest: +SKIP
    ...     con.execute("SELECT 1").fetchone()
    (1,)
    """
    spark = session(master=master)
    errors = _spark_errors()
    con = SparkPlan(spark, work)
    try:
        yield con
    except errors as exc:
        err = _os_error(exc, work)
        if err is not None:
            raise err from None
        raise EngineError(f"the cleaning plan failed on Spark: {_spark_message(exc)}") from None
    finally:
        with contextlib.suppress(Exception):
            con.close()
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["DEFAULT_MASTER", "SparkPlan", "database", "session"]
