"""The plan's rule columns into the quarantine ledger (:class:`cxlib.clean.ledger._Audit`), so
that quality counts, the quarantine table and carried extra columns are those of the reference."""

from __future__ import annotations

import duckdb
import numpy as np

from cxlib.clean.ledger import _Audit


def fill(con: duckdb.DuckDBPyConnection, audit: _Audit, table: str, reasons, repairs: dict[str, str]) -> None:
    """Record in ``audit`` the rule ``q`` of every row of ``table`` (ordered by ``r``; NULL:
    kept; ``rule:detail`` for rules whose reason has a detail) with the reason
    ``reasons(rule, detail, rows)`` gives, and the repair columns ``repairs`` (rule -> SQL
    boolean over the table).

    >>> fill(con, audit, "visits_ruled", reasons, {"center_alias": "alias"})  # doctest: +SKIP
    """
    names = list(repairs)
    cols = ", ".join(f"coalesce({repairs[n]}, false) AS c{i}" for i, n in enumerate(names))
    res = con.execute(f"SELECT {cols} FROM {table} ORDER BY r").fetchnumpy() if names else {}
    for i, n in enumerate(names):
        audit.repair(np.asarray(res[f"c{i}"], dtype=bool), n)
    q = con.execute(f"SELECT r, q FROM {table} WHERE q IS NOT NULL ORDER BY r").fetchnumpy()
    rows = np.asarray(q["r"], dtype=np.int64)
    codes = np.asarray(q["q"], dtype=object)
    for code in dict.fromkeys(codes.tolist()):
        sel = rows[codes == code]
        rule, _, detail = code.partition(":")
        mask = np.zeros(audit.n, dtype=bool)
        mask[sel] = True
        why = reasons(rule, detail, sel)
        # one rule per row: the rows of this rule are exactly the ones the audit takes now
        audit.quarantine(mask, rule, (lambda idx, why=why: why) if isinstance(why, np.ndarray) else why)
