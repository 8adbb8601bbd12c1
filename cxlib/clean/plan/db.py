"""The DuckDB database of one cleaning run, and its errors as one clear line."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

import duckdb

from cxlib.errors import DataError

#: memory DuckDB may use for one cleaning run (it spills to the run's folder beyond that): with
#: the interpreter, pandas and Arrow and one output batch the run stays under 2 GB
MEMORY_LIMIT = "1GB"
#: DuckDB's limit for raw data above :data:`LARGE_RAW_BYTES`: what the interpreter holds grows
#: with the data (the quarantine rows of the small tables, the lookups of distinct values, one
#: batch of wider frames), so DuckDB's share shrinks to keep the run under 2 GB (measured at 10M
#: visits, 13 GB of CSV: 2.2 GB with 1 GB for DuckDB)
LARGE_MEMORY_LIMIT = "768MB"
#: raw data (bytes of the raw files) above which :data:`LARGE_MEMORY_LIMIT` applies
LARGE_RAW_BYTES = 4 * 10**9


def memory_limit(raw_bytes: int) -> str:
    """DuckDB's memory limit for a cleaning run of ``raw_bytes`` of raw files.

    >>> memory_limit(1_300_000_000), memory_limit(13_000_000_000)
    ('1GB', '768MB')
    """
    return LARGE_MEMORY_LIMIT if raw_bytes > LARGE_RAW_BYTES else MEMORY_LIMIT


#: Unicode whitespace trimmed around every value (what Arrow's utf8_trim_whitespace trims)
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: the largest code point in :data:`WHITESPACE`
_LAST_SPACE = max(map(ord, WHITESPACE))


def trim_sql(x: str) -> str:
    """The SQL of ``cx_trim(x)`` (DuckDB's dialect): Unicode whitespace trimmed around ``x``,
    empty text NULL; the regular expression only for the values that start or end with a
    character that may be whitespace (most values start and end with a printable ASCII or a
    CJK character). The macro of :func:`connect` and the Spark dialect's rewrite of the macro
    (:mod:`cxlib.clean.plan.dialect`) are this one text.

    >>> trim_sql("x").startswith("CASE WHEN (ord(x[1]) BETWEEN 33 AND 126")
    True
    """
    space = "[" + WHITESPACE + "]"

    def plain(i: int) -> str:  # the character at i (1: first, -1: last) is no whitespace
        return f"(ord({x}[{i}]) BETWEEN 33 AND 126 OR ord({x}[{i}]) > {_LAST_SPACE})"

    return (
        f"CASE WHEN {plain(1)} AND {plain(-1)} THEN {x} "
        f"ELSE nullif(regexp_replace({x}, {_sql_text(f'^{space}+|{space}+$')}, '', 'g'), '') END"
    )


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(work: Path, *, threads: int | None = None, limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB database in ``work`` (a folder of the run, removed by :func:`database`), with
    the plan's macros: ``cx_trim(x)`` (Unicode whitespace trimmed, empty text null). ``limit``:
    DuckDB's memory limit (default :data:`MEMORY_LIMIT`).

    >>> con = connect(Path(tempfile.mkdtemp()))  # doctest: +SKIP
    >>> con.sql("SELECT cx_trim('  a ')").fetchone()  # doctest: +SKIP
    ('a',)
    """
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:", config={"memory_limit": limit or MEMORY_LIMIT, "temp_directory": str(work / "spill")}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    # every core (DuckDB's default, set explicitly: the limit above holds for all threads together)
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    con.execute(f"CREATE MACRO cx_trim(x) AS {trim_sql('x')}")
    return con


@contextlib.contextmanager
def database(work: Path, *, threads: int | None = None, limit: str | None = None):
    """The run's database, closed and removed at the end; a DuckDB error becomes one
    :class:`DataError` line (an I/O error: the :class:`OSError` the caller reports as such).

    >>> with database(Path("/tmp/cx-plan")) as con:  # doctest: +SKIP
    ...     con.sql("SELECT 1").fetchone()
    (1,)
    """
    con = None
    try:
        con = connect(work, threads=threads, limit=limit)
        yield con
    except duckdb.Error as exc:
        err = _os_error(exc, work)
        if err is not None:
            raise err from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            raise DataError(
                f"the cleaning ran out of memory ({_first_line(exc)}); free memory or disk space "
                "for DuckDB's spill files and run again"
            ) from None
        raise DataError(f"the cleaning plan failed: {_first_line(exc)}") from None
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(work, ignore_errors=True)


#: file-system failures as DuckDB words them, and the error number each is
_OS_ERRORS = (
    ("no space left", errno.ENOSPC),
    ("disk full", errno.ENOSPC),
    ("read-only file system", errno.EROFS),
    ("permission denied", errno.EACCES),
)


def _os_error(exc: BaseException, work: Path) -> OSError | None:
    """The :class:`OSError` a DuckDB error is when it is a file-system failure of the run's
    database (full disk, read-only, permissions), reported like any other write error."""
    text = str(exc).lower()
    for words, code in _OS_ERRORS:
        if words in text:
            return OSError(code, os.strerror(code), str(work / "plan.duckdb"))
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
