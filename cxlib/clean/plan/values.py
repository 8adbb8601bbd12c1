"""Value readers of the plan: timestamps in SQL for the common shapes, lookup tables (computed
in Python by the reference readers) for the distinct rare shapes and the few spellings of codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlib.clean.timestamps import _naive_to_utc, _other_offset, _parse_ts_array
from cxlib.clean.values import _NAT, _TS_NAIVE, _TS_UTC

#: the shapes DuckDB reads itself: ISO 8601 local time to the second or minute, and to the
#: second with a '+HH:MM' offset; everything else is read per distinct value in Python
AWARE_SHAPE = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}"
_names = count()


def sql_text(text: str) -> str:
    """A SQL string literal.

    >>> sql_text("it's")
    "'it''s'"
    """
    return "'" + str(text).replace("'", "''") + "'"


def lookup(
    con: duckdb.DuckDBPyConnection, distinct_sql: str, func: Callable[[str], tuple], schema: dict[str, pa.DataType]
) -> str:
    """Register a lookup table ``text -> func(text)`` for the distinct non-null texts that
    ``distinct_sql`` (a query of one column ``t``) gives; returns its name.

    >>> lookup(con, "SELECT DISTINCT cx_trim(photo) AS t FROM raw", lambda t: (1,), {"code": pa.int8()})  # doctest: +SKIP
    'cx_lookup_0'
    """
    texts = [t for (t,) in con.execute(f"SELECT t FROM ({distinct_sql}) WHERE t IS NOT NULL").fetchall()]
    values = [func(t) for t in texts]
    cols = {"text": pa.array(texts, pa.string())}
    for i, (name, typ) in enumerate(schema.items()):
        cols[name] = pa.array([v[i] for v in values], typ)
    name = f"cx_lookup_{next(_names)}"
    con.register(name, pa.table(cols))
    return name


def timestamp_parts(text: str, tz: str, prefix: str) -> str:
    """SELECT expressions reading the common shapes of the trimmed timestamp text ``text`` in
    DuckDB: ``{prefix}_n`` (local ISO 8601 to the second or minute, as UTC microseconds),
    ``{prefix}_a`` (with a '+HH:MM' offset) and ``{prefix}_rep`` (that offset is not the
    zone's at that instant). The other values are read by :func:`timestamp_lookup`.

    >>> timestamp_parts("ts_t", "Asia/Shanghai", "ts").count(" AS ts_")
    3
    """
    tzs = sql_text(tz)
    t = text
    naive = (
        f"CASE WHEN length({t}) = 19 AND regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}:\\d{{2}}') "
        f"THEN try_strptime(replace({t}, 'T', ' '), '%Y-%m-%d %H:%M:%S') "
        f"WHEN length({t}) = 16 AND regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}') "
        f"THEN try_strptime(replace({t}, 'T', ' '), '%Y-%m-%d %H:%M') END"
    )
    aware = (
        f"CASE WHEN length({t}) = 25 AND regexp_full_match({t}, '{AWARE_SHAPE}') "
        f"THEN try_strptime(replace({t}, 'T', ' '), '%Y-%m-%d %H:%M:%S%z') END"
    )
    # the offset written ('+08:00') against the zone's offset at that instant, in microseconds
    written = (
        f"(CASE substr({t}, 20, 1) WHEN '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({t}, 21, 2) AS BIGINT) * 60 + CAST(substr({t}, 24, 2) AS BIGINT)) * 60000000"
    )
    a_utc = f"epoch_us({aware})"
    return (
        f"epoch_us(timezone({tzs}, {naive})) AS {prefix}_n, {a_utc} AS {prefix}_a, "
        f"CASE WHEN {prefix}_a IS NOT NULL THEN {written} <> epoch_us(timezone({tzs}, "
        f"CAST(make_timestamp({prefix}_a) AS TIMESTAMPTZ))) - {prefix}_a END AS {prefix}_rep"
    )


@dataclass
class Timestamps:
    """SQL of one timestamp column after :func:`timestamp_lookup`: ``utc`` (microseconds, NULL
    when missing or unreadable), ``rep`` (repaired), ``bad`` (unreadable), ``join`` (the LEFT
    JOIN of the lookup of rare shapes)."""

    utc: str
    rep: str
    bad: str
    join: str


def timestamp_lookup(
    con: duckdb.DuckDBPyConnection, table: str, text: str, prefix: str, tz: str, alias: str = "r"
) -> Timestamps:
    """Read the values of ``table.text`` that :func:`timestamp_parts` (columns ``prefix_*`` of
    ``table``) did not, per distinct value, with the reference reader
    (:func:`cxlib.clean.timestamps._parse_ts_array`), into a lookup table; return the SQL of
    the column's values for a query over ``table`` (aliased ``alias``).

    As in the reference reader the whole column decides whether values count as repaired: a
    column that Arrow reads whole as local ISO text has no repairs, one read whole with
    offsets compares each offset with the zone's, and only a mixed column has unreadable values.

    >>> timestamp_lookup(con, "visits_text", "arrived_at", "arrived", "Asia/Shanghai")  # doctest: +SKIP
    """
    n_naive, n_aware = con.execute(f"SELECT count({prefix}_n), count({prefix}_a) FROM {table}").fetchone()
    rare = [
        v
        for (v,) in con.execute(
            f"SELECT DISTINCT {text} FROM {table} WHERE {text} IS NOT NULL AND {prefix}_n IS NULL "
            f"AND {prefix}_a IS NULL"
        ).fetchall()
    ]
    arr = pa.array(rare, pa.string())
    utc, rep, bad, _ = _parse_ts_array(arr, tz, mixed=True)
    lk = {"text": arr, "utc": _ints(utc), "rep": pa.array(rep), "bad": pa.array(bad)}
    kind = "mixed"
    whole_naive = _cast(arr, _TS_NAIVE) if n_aware == 0 else None
    if whole_naive is not None:
        kind = "naive"
        lk["utc"] = _ints(_naive_to_utc(whole_naive, tz))
    elif n_naive == 0:
        whole_aware = _cast(arr, _TS_UTC)
        if whole_aware is not None:
            kind = "aware"
            vals = pc.fill_null(whole_aware.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
            lk["utc"] = _ints(vals)
            lk["rep"] = pa.array(_other_offset(arr, vals, tz) if len(arr) else np.zeros(0, dtype=bool))
    name = f"cx_ts_{next(_names)}"
    con.register(name, pa.table(lk))
    a, l = alias, f"{name}"
    rep = {
        "naive": "false",
        "aware": f"coalesce({a}.{prefix}_rep, {l}.rep, false)",
        "mixed": f"coalesce({a}.{prefix}_rep, CASE WHEN {a}.{prefix}_n IS NULL THEN {l}.rep END, false)",
    }[kind]
    return Timestamps(
        utc=f"coalesce({a}.{prefix}_n, {a}.{prefix}_a, {l}.utc)",
        rep=rep,
        bad=f"coalesce({l}.bad, false)" if kind == "mixed" else "false",
        join=f"LEFT JOIN {name} ON {name}.text = {a}.{text}",
    )


def _ints(values: np.ndarray | pa.Array) -> pa.Array:
    """int64 microseconds with NULL for the missing marker."""
    arr = (
        values
        if isinstance(values, np.ndarray)
        else pc.fill_null(values.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
    )
    arr = np.asarray(arr, dtype=np.int64)
    return pa.array(arr, pa.int64(), mask=arr == _NAT)


def _cast(arr: pa.Array, target: pa.DataType) -> pa.Array | None:
    try:
        return pc.cast(arr, target)
    except pa.ArrowInvalid:
        return None


def text_table(con: duckdb.DuckDBPyConnection, name: str, raw: str, columns: list[str]) -> None:
    """Create ``name`` from the raw table ``raw`` (see :mod:`cxlib.clean.plan.raw`): row number
    ``r``, and per column its text as read (``c``) and trimmed (``c_t``: Unicode whitespace
    trimmed, empty text NULL).

    >>> text_table(con, "visits_text", "raw_visits", ["visit_id"])  # doctest: +SKIP
    """
    cols = ", ".join(quote(c) for c in columns)
    trimmed = ", ".join(f"cx_trim({quote(c)}) AS {quote(c + '_t')}" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT cx__r AS r, {cols}, {trimmed} FROM {raw}")


def quote(name: str) -> str:
    """A quoted SQL identifier.

    >>> quote('a"b')
    '"a""b"'
    """
    return '"' + name.replace('"', '""') + '"'


def code_lookup(
    con: duckdb.DuckDBPyConnection, table: str, column: str, codes: tuple[str, ...], mapper: dict[str, str]
) -> str:
    """Lookup ``text -> idx, norm`` of the distinct values of ``table.column`` as
    :func:`cxlib.clean.values._map_codes` reads them (index into ``codes`` or -1, normalised).

    >>> code_lookup(con, "visits_text", "scenario_t", SCENARIO_ORDER, mapper)  # doctest: +SKIP
    """
    from cxlib.clean.values import _norm_key

    pos = {c: i for i, c in enumerate(codes)}

    def one(v: str) -> tuple[int, bool]:
        if v in pos:
            return pos[v], False
        c = mapper.get(_norm_key(v))
        return (pos[c], True) if c is not None else (-1, False)

    return lookup(
        con, f"SELECT DISTINCT {quote(column)} AS t FROM {table}", one, {"idx": pa.int16(), "norm": pa.bool_()}
    )


def bool_lookup(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    """Lookup ``text -> code`` (1 true, 0 false, -1 unreadable) of a trimmed boolean column.

    >>> bool_lookup(con, "visits_text", "warranty_t")  # doctest: +SKIP
    """
    from cxlib.clean.values import _parse_bool

    def one(v: str) -> tuple[int]:
        b = _parse_bool(v)
        return (-1 if np.isnan(b) else int(b),)

    return lookup(con, f"SELECT DISTINCT {quote(column)} AS t FROM {table}", one, {"code": pa.int8()})


def mask_lookup(con: duckdb.DuckDBPyConnection, table: str, column: str, expr: str | None = None) -> str:
    """Lookup ``text -> masked`` of the distinct values of a trimmed free-text column (or the SQL
    ``expr`` over ``table``) that :func:`cxlib.privacy.mask_array` changes (the others are
    written as they are).

    >>> mask_lookup(con, "surveys_text", "comment_t")  # doctest: +SKIP
    """
    from cxlib import privacy

    e = expr or quote(column)
    texts = pa.array(
        [t for (t,) in con.execute(f"SELECT DISTINCT {e} AS t FROM {table} WHERE {e} IS NOT NULL").fetchall()],
        pa.string(),
    )
    masked, changed = privacy.mask_array(texts)
    keep = pa.array(changed)
    name = f"cx_mask_{next(_names)}"
    con.register(name, pa.table({"text": texts.filter(keep), "masked": masked.filter(keep)}))
    return name


def float_lookup(
    con: duckdb.DuckDBPyConnection, table: str, column: str, low: float, high: float, percent: bool = False
) -> tuple[str, str, str, str]:
    """(join, value, reformatted, unreadable-or-out-of-range) SQL of a trimmed number column read
    as :func:`cxlib.clean.values._float_column` reads it: plain decimals in DuckDB, the other
    distinct texts (``1,200``, ``¥480``, ``35%``) by the reference reader.

    >>> float_lookup(con, "visits_text", "amount_cny_t", 0.0, float("inf"))  # doctest: +SKIP
    """
    import pandas as pd

    from cxlib.clean.values import _float_column

    t = f"x.{quote(column)}"
    plain = f"regexp_full_match({t}, '-?\\d+(\\.\\d+)?')"
    rare = [
        v
        for (v,) in con.execute(
            f"SELECT DISTINCT {quote(column)} FROM {table} x WHERE {t} IS NOT NULL AND NOT {plain}"
        ).fetchall()
    ]
    num, fixed, bad = _float_column(pd.Series(rare, dtype="str"), low=low, high=high, percent=percent)
    name = f"cx_num_{next(_names)}"
    con.register(
        name,
        pa.table(
            {
                "text": pa.array(rare, pa.string()),
                "num": pa.array(num, pa.float64(), mask=np.isnan(num)),
                "fixed": pa.array(fixed),
                "bad": pa.array(bad),
            }
        ),
    )
    v = f"CAST({t} AS DOUBLE)"
    out = " OR ".join(
        ([f"{v} < {low!r}"] if np.isfinite(low) else []) + ([f"{v} > {high!r}"] if np.isfinite(high) else [])
    )
    out = out or "false"
    join = f"LEFT JOIN {name} ON {name}.text = {t}"
    value = (
        f"CASE WHEN {t} IS NULL THEN NULL WHEN {plain} THEN CASE WHEN {out} THEN NULL ELSE {v} END ELSE {name}.num END"
    )
    refmt = f"CASE WHEN {t} IS NULL OR {plain} THEN false ELSE coalesce({name}.fixed, false) END"
    unread = f"CASE WHEN {t} IS NULL THEN false WHEN {plain} THEN {out} ELSE coalesce({name}.bad, false) END"
    return join, value, refmt, unread
