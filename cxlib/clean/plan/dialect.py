"""The plan's SQL (written for DuckDB) as Spark SQL, transpiled with SQLGlot.

SQLGlot reads each statement in the DuckDB dialect and writes it in Spark's; the few DuckDB
functions and shapes it does not carry over are rewritten here on the syntax tree, each in one
place, with the same meaning:

- ``cx_trim(x)`` (the plan's macro, :func:`cxlib.clean.plan.db.connect`): its body
  (:func:`cxlib.clean.plan.db.trim_sql`), with the same Unicode whitespace class (Java's
  regular expressions read it as RE2 does);
- ``ord(x[i])`` (the code point of a text's first, ``i = 1``, or last, ``i = -1``,
  character): ``ascii(substring(x, i, 1))`` (Spark's ``ascii`` gives the code point);
- ``try_cast(x AS TIMESTAMPTZ)`` (ISO 8601 with an offset) and ``try_cast(x AS TIMESTAMP)``
  (a wall-clock time): Spark's ``TIMESTAMP`` (an instant, the session in UTC) and
  ``TIMESTAMP_NTZ``, which read the same shapes;
- ``regexp_full_match(x, p)``: ``x RLIKE '^(?:p)$'``;
- ``try_strptime(x, '%Y-%m-%d %H:%M:%S[%z]')``: ``try_to_timestamp`` with Java's pattern;
- ``timezone(zone, t)``: ``to_utc_timestamp`` for a local time ``t`` (the instant it is in
  ``zone``), ``from_utc_timestamp`` for an instant (its wall clock in ``zone``); the run's
  Spark session is in UTC, as the DuckDB database is;
- ``epoch_us(t)``: ``unix_micros(t)``;
- ``[a, b, c][i]`` (one-based): ``element_at(array(a, b, c), i)``;
- ``t.* EXCLUDE (c)``: the columns of ``t`` but ``c``, listed (``columns`` gives a table's or
  a view's; a subquery's are its named outputs);
- ``UNPIVOT s ON a, b INTO NAME n VALUE v``: ``SELECT * FROM s UNPIVOT (v FOR n IN (a, b))``
  (both leave out NULL values).

>>> to_spark("SELECT regexp_full_match(x, '\\\\d+') FROM t")
"SELECT x RLIKE '^(?:\\\\\\\\d+)$' FROM t"
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp

from cxlib.clean.plan.db import trim_sql

#: DuckDB's strptime codes the plan uses, as Java DateTimeFormatter patterns
_TIME_CODES = (("%Y", "yyyy"), ("%m", "MM"), ("%d", "dd"), ("%H", "HH"), ("%M", "mm"), ("%S", "ss"), ("%z", "XXX"))


def _java_pattern(fmt: str) -> str:
    for code, java in _TIME_CODES:
        fmt = fmt.replace(code, java)
    if "%" in fmt:
        raise ValueError(f"no Spark pattern for the time format {fmt!r}")
    return fmt


def _name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return type(node).__name__.lower()


def _args(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    return [a for a in (node.this, *(node.expressions or [])) if a is not None] if node.args.get("this") else []


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


_TRIM_ARG = "cx__trim_arg"


def _trim(arg: exp.Expression) -> exp.Expression:
    """The body of ``cx_trim`` with ``arg`` in place of its parameter."""
    body = sqlglot.parse_one(trim_sql(_TRIM_ARG), read="duckdb")
    return body.transform(
        lambda n: arg.copy() if isinstance(n, exp.Column) and n.name == _TRIM_ARG and not n.table else n
    )


def _char_at(node: exp.Bracket) -> exp.Expression:
    """``x[i]`` of a text (one character, DuckDB's one-based or negative position) as
    ``substring(x, i, 1)``; SQLGlot keeps the index zero-based (``x[1]`` is 0, ``x[-1]`` is -2)."""
    (index,) = node.expressions
    sign, lit = (-1, index.this) if isinstance(index, exp.Neg) else (1, index)
    if not (isinstance(lit, exp.Literal) and not lit.is_string):
        raise ValueError(f"no Spark SQL for the character at {index.sql()}")
    pos = sign * int(lit.this) + 1
    return _fn("substring", node.this, exp.Literal.number(pos), exp.Literal.number(1))


def _is_instant(node: exp.Expression) -> bool:
    """Whether a time expression is an instant (TIMESTAMPTZ), not a local time."""
    return isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.TIMESTAMPTZ


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name, args = str(node.this).lower(), list(node.expressions)
        if name == "cx_trim":
            return _trim(args[0])
        if name == "ord" and len(args) == 1 and isinstance(args[0], exp.Bracket):
            return _fn("ascii", _char_at(args[0]))
        if name == "try_strptime":
            return _fn("try_to_timestamp", args[0], exp.Literal.string(_java_pattern(args[1].name)))
        if name == "timezone":
            zone, t = args
            return _fn("from_utc_timestamp" if _is_instant(t) else "to_utc_timestamp", t, zone)
        if name == "epoch_us":
            return _fn("unix_micros", args[0])
    if isinstance(node, exp.RegexpFullMatch):
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{node.expression.name})$"))
    if isinstance(node, exp.StrToTime) and node.args.get("safe"):
        return _fn("try_to_timestamp", node.this, exp.Literal.string(_java_pattern(node.args["format"].name)))
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.Array) and len(node.expressions) == 1:
        return _fn("element_at", node.this, node.expressions[0])
    return node


def _tables(select: exp.Select, columns: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """alias (or name) -> column names of the tables, views and subqueries a SELECT reads
    directly (a subquery's: its named outputs)."""
    out: dict[str, list[str]] = {}
    for t in [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or []):
        if t is None:
            continue
        src = t.this
        if isinstance(src, exp.Table):
            out[src.alias_or_name] = columns(src.name)
        elif isinstance(src, exp.Subquery) and isinstance(src.this, exp.Select):
            inner = src.this
            if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star) for e in inner.expressions):
                raise ValueError("no Spark SQL for * EXCLUDE over a subquery that selects *")
            out[src.alias_or_name] = list(inner.named_selects)
    return out


def _is_exclude(e: exp.Expression) -> bool:
    star = e.this if isinstance(e, exp.Column) and isinstance(e.this, exp.Star) else e
    return isinstance(star, exp.Star) and bool(star.args.get("except_", star.args.get("except")))


def _expand_excludes(tree: exp.Expression, columns: Callable[[str], list[str]]) -> None:
    for select in tree.find_all(exp.Select):
        if not any(_is_exclude(e) for e in select.expressions):
            continue
        tables = _tables(select, columns)
        new, changed = [], False
        for e in select.expressions:
            star = e.this if isinstance(e, exp.Column) and isinstance(e.this, exp.Star) else e
            if not isinstance(star, exp.Star) or not star.args.get("except_", star.args.get("except")):
                new.append(e)
                continue
            drop = {c.name for c in star.args.get("except_") or star.args.get("except")}
            qual = e.table if isinstance(e, exp.Column) else next(iter(tables))
            for c in tables[qual]:
                if c not in drop:
                    new.append(exp.column(c, table=qual if isinstance(e, exp.Column) else None, quoted=True))
            changed = True
        if changed:
            select.set("expressions", new)


def _unpivots(tree: exp.Expression) -> None:
    for cte in list(tree.find_all(exp.CTE)):
        p = cte.this
        if not (isinstance(p, exp.Pivot) and p.args.get("unpivot") and p.args.get("into")):
            continue
        into = p.args["into"]
        name, value = into.this.name, into.expressions[0].name
        cols = ", ".join(f"`{c.name}`" for c in p.expressions)
        sub = sqlglot.parse_one(
            f"SELECT * FROM {p.this.sql(dialect='spark')} UNPIVOT ({value} FOR {name} IN ({cols}))", read="spark"
        )
        cte.set("this", sub)


def to_spark(sql: str | exp.Expression, columns: Callable[[str], list[str]] | None = None) -> str:
    """The Spark SQL of a statement of the plan written for DuckDB; ``columns`` gives the
    column names of a table (for ``* EXCLUDE``).

    >>> to_spark("SELECT [1, 2, 3][x + 1] AS d, epoch_us(t) FROM v")
    'SELECT ELEMENT_AT(ARRAY(1, 2, 3), x + 1) AS d, UNIX_MICROS(t) FROM v'
    """
    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql.copy()
    if columns is not None:
        _expand_excludes(tree, columns)
    # a rewritten node's arguments are rewritten in the next pass (a rewrite stops the descent)
    out = tree.sql(dialect="spark")
    for _ in range(8):
        tree = tree.transform(_rewrite)
        again = tree.sql(dialect="spark")
        if again == out:
            break
        out = again
    if "UNPIVOT" in out.upper():
        _unpivots(tree)
        out = tree.sql(dialect="spark")
    return out
