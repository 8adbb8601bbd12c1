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

from cxlib.clean.timestamps import _naive_to_utc, _other_offset, _parse_ts_array, _zone_offset_us
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
    con: duckdb.DuckDBPyConnection,
    distinct_sql: str | None,
    func: Callable[[str], tuple],
    schema: dict[str, pa.DataType],
    *,
    texts: list[str] | None = None,
) -> str:
    """Register a lookup table ``text -> func(text)`` for the distinct non-null texts that
    ``distinct_sql`` (a query of one column ``t``) gives, or for ``texts`` (already distinct,
    from :func:`distinct_values`); returns its name.

    >>> lookup(con, "SELECT DISTINCT cx_trim(photo) AS t FROM raw", lambda t: (1,), {"code": pa.int8()})  # doctest: +SKIP
    'cx_lookup_0'
    """
    if texts is None:
        texts = [t for (t,) in con.execute(f"SELECT t FROM ({distinct_sql}) WHERE t IS NOT NULL").fetchall()]
    values = [func(t) for t in texts]
    cols = {"text": pa.array(texts, pa.string())}
    for i, (name, typ) in enumerate(schema.items()):
        cols[name] = pa.array([v[i] for v in values], typ)
    name = f"cx_lookup_{next(_names)}"
    con.register(name, pa.table(cols))
    return name


#: microseconds in an hour: zone offsets are taken once per distinct hour (:func:`zone_offset`)
HOUR_US = 3_600_000_000


def hour_of(us: str) -> str:
    """SQL of the hour (floor, also before 1970) of microseconds ``us``: the key of
    :func:`zone_offset`.

    >>> hour_of("x").count("3600000000")
    4
    """
    return f"(({us}) - ((({us}) % {HOUR_US}) + {HOUR_US}) % {HOUR_US}) // {HOUR_US}"


def timestamp_parts(text: str, tz: str, prefix: str) -> str:
    """SELECT expressions reading the common shapes of the trimmed timestamp text ``text`` in
    DuckDB, with no time zone work per row: ``{prefix}_l`` (local ISO 8601 to the second or
    minute, as microseconds of the wall-clock time), ``{prefix}_a`` (to the second with a
    '+HH:MM' offset, as UTC microseconds) and ``{prefix}_w`` (that written offset in
    microseconds). :func:`timestamp_lookup` adds the zone (per distinct hour) and the values
    of the other shapes. ``tz`` is not needed here (kept for the callers' symmetry).

    >>> timestamp_parts("ts_t", "Asia/Shanghai", "ts").count(" AS ts_")
    3
    """
    t = text
    # the shape by a regular expression, the value by DuckDB's own timestamp cast (hour 24,
    # which the cast reads as the next day, is refused as strptime refuses it)
    hour_ok = f"substr({t}, 12, 2) < '24'"
    naive = (
        f"CASE WHEN length({t}) = 19 AND regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}:\\d{{2}}') "
        f"AND {hour_ok} THEN try_cast({t} AS TIMESTAMP) "
        f"WHEN length({t}) = 16 AND regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}[ T]\\d{{2}}:\\d{{2}}') "
        f"AND {hour_ok} THEN try_cast({t} AS TIMESTAMP) END"
    )
    aware = (
        f"CASE WHEN length({t}) = 25 AND regexp_full_match({t}, '{AWARE_SHAPE}') AND {hour_ok} "
        f"THEN try_cast({t} AS TIMESTAMPTZ) END"
    )
    # the offset written ('+08:00') in microseconds
    written = (
        f"CASE WHEN {prefix}_a IS NOT NULL THEN (CASE substr({t}, 20, 1) WHEN '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({t}, 21, 2) AS BIGINT) * 60 + CAST(substr({t}, 24, 2) AS BIGINT)) * 60000000 END"
    )
    return f"epoch_us({naive}) AS {prefix}_l, epoch_us({aware}) AS {prefix}_a, {written} AS {prefix}_w"


def _offsets(values: np.ndarray, tz: str, local: bool) -> np.ndarray:
    """The zone's offset (microseconds, wall clock minus UTC) at each of ``values``: wall-clock
    times placed in the zone as the reference reader places them (a time in a gap or twice on
    the clock: the earliest), or UTC instants."""
    if local:
        utc = _naive_to_utc(pa.array(values, pa.timestamp("us")), tz)
        return values - utc
    return _zone_offset_us(values, tz)


def zone_offset(
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    tz: str,
    local: bool,
    ref: str,
    *,
    hours: np.ndarray | None = None,
) -> tuple[str, str]:
    """(LEFT JOINs, SQL) of the zone's offset in microseconds (wall clock minus UTC) at the
    microseconds ``ref`` of a query over ``table`` (``ref`` being ``table.column`` there;
    wall-clock times when ``local``, else UTC instants).

    The offsets are computed once per distinct hour of ``table.column`` by the reference
    readers (:func:`cxlib.clean.timestamps._naive_to_utc`, ``_zone_offset_us``) into a small
    table, instead of once per row; the values of an hour in which the offset changes (or a
    wall-clock hour that does not exist) are computed one by one into a second table. ``hours``:
    the distinct hours (:func:`hour_of`) of the column when already known (:func:`distinct_values`).

    >>> zone_offset(con, "events_text", "ts_l", "Asia/Shanghai", True, "x.ts_l")  # doctest: +SKIP
    """
    if hours is None:
        hours = np.asarray(
            con.execute(f"SELECT DISTINCT {hour_of(column)} AS h FROM {table} WHERE {column} IS NOT NULL").fetchnumpy()[
                "h"
            ],
            dtype=np.int64,
        )
    hours = np.asarray(hours, dtype=np.int64)
    first = hours * HOUR_US
    off = _offsets(first, tz, local)
    stable = off == _offsets(first + HOUR_US - 1, tz, local)
    hname, vname = f"cx_zone_{next(_names)}", f"cx_zone_{next(_names)}"
    con.register(hname, pa.table({"h": pa.array(hours[stable], pa.int64()), "off": pa.array(off[stable], pa.int64())}))
    values = np.zeros(0, dtype=np.int64)
    if not stable.all():
        bad = pa.table({"h": pa.array(hours[~stable], pa.int64())})
        con.register("cx_zone_hours", bad)
        values = np.asarray(
            con.execute(
                f"SELECT DISTINCT {column} AS v FROM {table} WHERE {hour_of(column)} IN (SELECT h FROM cx_zone_hours)"
            ).fetchnumpy()["v"],
            dtype=np.int64,
        )
        con.unregister("cx_zone_hours")
    con.register(
        vname,
        pa.table(
            {
                "v": pa.array(values, pa.int64()),
                "off": pa.array(_offsets(values, tz, local) if len(values) else values, pa.int64()),
            }
        ),
    )
    join = f"LEFT JOIN {hname} ON {hname}.h = {hour_of(ref)} LEFT JOIN {vname} ON {vname}.v = {ref}"
    return join, f"coalesce({hname}.off, {vname}.off)"


@dataclass
class Timestamps:
    """SQL of one timestamp column after :func:`timestamp_lookup`: ``utc`` (microseconds, NULL
    when missing or unreadable), ``rep`` (repaired), ``bad`` (unreadable), ``join`` (the LEFT
    JOINs of the zone tables and of the lookup of rare shapes)."""

    utc: str
    rep: str
    bad: str
    join: str


def timestamp_lookup(
    con: duckdb.DuckDBPyConnection,
    table: str,
    text: str,
    prefix: str,
    tz: str,
    alias: str = "r",
    *,
    distinct: dict | None = None,
) -> Timestamps:
    """Read the values of ``table.text`` that :func:`timestamp_parts` (columns ``prefix_*`` of
    ``table``) did not, per distinct value, with the reference reader
    (:func:`cxlib.clean.timestamps._parse_ts_array`), into a lookup table; return the SQL of
    the column's values for a query over ``table`` (aliased ``alias``), the common shapes
    placed in the zone by the zone tables of :func:`zone_offset`.

    As in the reference reader the whole column decides whether values count as repaired: a
    column that Arrow reads whole as local ISO text has no repairs, one read whole with
    offsets compares each offset with the zone's, and only a mixed column has unreadable values.

    >>> timestamp_lookup(con, "visits_text", "arrived_at", "arrived", "Asia/Shanghai")  # doctest: +SKIP
    """
    if distinct is None:
        n_naive, n_aware = con.execute(f"SELECT count({prefix}_l), count({prefix}_a) FROM {table}").fetchone()
        rare = [
            v
            for (v,) in con.execute(
                f"SELECT DISTINCT {text} FROM {table} WHERE {text} IS NOT NULL AND {prefix}_l IS NULL "
                f"AND {prefix}_a IS NULL"
            ).fetchall()
        ]
        hours: dict[str, np.ndarray | None] = {"l": None, "a": None}
    else:
        n_naive, n_aware = distinct[f"{prefix}__n_l"], distinct[f"{prefix}__n_a"]
        rare = distinct[f"{prefix}__rare"]
        hours = {"l": np.asarray(distinct[f"{prefix}__h_l"]), "a": np.asarray(distinct[f"{prefix}__h_a"])}
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
    a, l = alias, name
    loc, utc_col, wr = f"{a}.{prefix}_l", f"{a}.{prefix}_a", f"{a}.{prefix}_w"
    joins = [f"LEFT JOIN {name} ON {name}.text = {a}.{text}"]
    naive_utc, aware_rep = "NULL", "NULL"
    if n_naive:
        zj, zoff = zone_offset(con, table, f"{prefix}_l", tz, True, loc, hours=hours["l"])
        joins.append(zj)
        naive_utc = f"{loc} - {zoff}"
    if n_aware:
        zj, zoff = zone_offset(con, table, f"{prefix}_a", tz, False, utc_col, hours=hours["a"])
        joins.append(zj)
        aware_rep = f"CASE WHEN {utc_col} IS NOT NULL THEN {wr} <> {zoff} END"
    rep = {
        "naive": "false",
        "aware": f"coalesce({aware_rep}, {l}.rep, false)",
        "mixed": f"coalesce({aware_rep}, CASE WHEN {loc} IS NULL THEN {l}.rep END, false)",
    }[kind]
    return Timestamps(
        utc=f"coalesce({naive_utc}, {utc_col}, {l}.utc)",
        rep=rep,
        bad=f"coalesce({l}.bad, false)" if kind == "mixed" else "false",
        join=" ".join(joins),
    )


def timestamp_sets(text: str, prefix: str) -> dict[str, str]:
    """The expressions :func:`distinct_values` collects for :func:`timestamp_lookup` of one
    timestamp column (``text`` with the columns of :func:`timestamp_parts` ``prefix_*``): the
    rare texts and the hours of both common shapes (their counts come with every pass).

    >>> sorted(timestamp_sets("ts_t", "ts"))
    ['ts__h_a', 'ts__h_l', 'ts__rare']
    """
    return {
        f"{prefix}__rare": f"CASE WHEN {prefix}_l IS NULL AND {prefix}_a IS NULL THEN {text} END",
        f"{prefix}__h_l": hour_of(f"{prefix}_l"),
        f"{prefix}__h_a": hour_of(f"{prefix}_a"),
    }


def distinct_values(
    con: duckdb.DuckDBPyConnection, table: str, exprs: dict[str, str], *, counts: dict[str, str] | None = None
) -> dict:
    """The distinct non-null values of each SQL expression of ``exprs`` over ``table``, and the
    aggregates ``counts`` (name -> SQL such as ``count(ts_l)``) over the whole table, in one
    pass (``GROUP BY GROUPING SETS``): ``{name: [values…]}`` plus ``{count name: value}``. The
    lookups of one large table (codes, spellings, rare timestamp shapes, hours for the zone)
    read it once instead of once each.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', NULL), ('a', 2)) v(x, y)")
    >>> out = distinct_values(con, "t", {"x": "x", "y": "y"}, counts={"n_y": "count(y)"})
    >>> sorted(out["x"]), sorted(out["y"]), out["n_y"]
    (['a', 'b'], [1, 2], 2)
    """
    counts = counts or {}
    names = list(exprs)
    cols = [f"cx__d{i}" for i in range(len(names))]
    inner = ", ".join(f"{e} AS {c}" for e, c in zip(exprs.values(), cols))
    flags = ", ".join(f"GROUPING({c}) AS {c}__g" for c in cols)
    aggs = "".join(f", {sql} AS {quote('cx__n' + str(i))}" for i, sql in enumerate(counts.values()))
    sets = ", ".join([f"({c})" for c in cols] + ["()"])
    rows = con.execute(
        f"SELECT {', '.join(cols)}, {flags} {aggs} FROM (SELECT *, {inner} FROM {table}) "
        f"GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    out: dict = {n: [] for n in names}
    k = len(cols)
    for row in rows:
        grouped = [i for i in range(k) if row[k + i] == 0]
        if not grouped:
            for i, name in enumerate(counts):
                out[name] = row[2 * k + i]
        elif row[grouped[0]] is not None:
            out[names[grouped[0]]].append(row[grouped[0]])
    for name in counts:
        out.setdefault(name, 0)
    return out


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
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    codes: tuple[str, ...],
    mapper: dict[str, str],
    *,
    texts: list[str] | None = None,
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
        con,
        f"SELECT DISTINCT {quote(column)} AS t FROM {table}",
        one,
        {"idx": pa.int16(), "norm": pa.bool_()},
        texts=texts,
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
    con: duckdb.DuckDBPyConnection, table: str, column: str, low: float, high: float, *, percent: bool = False
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
