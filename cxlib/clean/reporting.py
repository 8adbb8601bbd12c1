"""Tables of the quality report for the cleaning notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cxlib import catalog
from cxlib.clean.ledger import _RULE_ORDER

if TYPE_CHECKING:
    from cxlib.clean.processed import ProcessedData


def quality_table(quality: dict, *, lang: catalog.Lang = "both") -> pd.DataFrame:
    """One row per table x rule: action, rows touched, rule description (bilingual by default).

    >>> quality_table(data.quality, lang="en").columns.tolist()  # doctest: +SKIP
    ['table', 'rule', 'action', 'rows', 'description']
    """
    rows = []
    for t, q in quality.get("tables", {}).items():
        for code, r in q.get("rules", {}).items():
            rows.append((t, code, r["action"], int(r["rows"]), catalog.label(code, lang=lang)))
    return pd.DataFrame(rows, columns=["table", "rule", "action", "rows", "description"]).astype(
        {"table": "str", "rule": "str", "action": "str", "description": "str", "rows": "int64"}
    )


def sources_overview(quality: dict) -> pd.DataFrame:
    """Per table: whether it was given (or derived), its files and the extra columns carried
    (processed name and raw header), for the cleaning notebook. Old processed data without
    these keys counts as given.

    >>> sources_overview(data.quality).columns.tolist()  # doctest: +SKIP
    ['table', 'given', 'files', 'extra_columns']
    """
    rows = []
    extras = quality.get("extra_columns", {})
    for t, q in quality.get("tables", {}).items():
        given = "derived from visits" if q.get("derived") else ("yes" if q.get("given", True) else "not provided")
        cols = ", ".join(
            e["name"] if e["name"] == e["header"] else f"{e['name']} ({e['header']})" for e in extras.get(t, [])
        )
        rows.append((t, given, ", ".join(q.get("files", [])), cols))
    return pd.DataFrame(rows, columns=["table", "given", "files", "extra_columns"]).astype("str")


def quality_overview(quality: dict) -> pd.DataFrame:
    """Per table: rows read, kept, repaired and quarantined, plus a total row.

    >>> quality_overview(data.quality).columns.tolist()  # doctest: +SKIP
    ['table', 'read', 'kept', 'repaired', 'quarantined']
    """
    cols = ["read", "kept", "repaired", "quarantined"]
    rows = [(t, *(int(q[c]) for c in cols)) for t, q in quality.get("tables", {}).items()]
    tot = quality.get("totals") or {c: sum(r[i + 1] for r in rows) for i, c in enumerate(cols)}
    rows.append(("total", *(int(tot[c]) for c in cols)))
    return pd.DataFrame(rows, columns=["table", *cols]).astype({"table": "str"})


def quarantine_examples(quarantine: pd.DataFrame | ProcessedData, *, n: int = 2) -> pd.DataFrame:
    """Up to ``n`` example rows per (table, rule), in table order, rule order, file and row.
    ``quarantine`` is the quarantine table, or the processed data whose quarantine is then read
    batch by batch (:meth:`ProcessedData.quarantine_batches`): a national network quarantines
    millions of rows, of which the examples keep a few.

    >>> quarantine_examples(data.quarantine, n=1)[["table", "rule", "source_row"]]  # doctest: +SKIP
    """
    if not isinstance(quarantine, pd.DataFrame):
        kept: pd.DataFrame | None = None
        for batch in quarantine.quarantine_batches():
            # the first n of each (table, rule) of the rows so far are among those of each part
            kept = _examples(batch if kept is None else pd.concat([kept, batch], ignore_index=True), n)
        assert kept is not None
        return kept
    return _examples(quarantine, n)


def _examples(quarantine: pd.DataFrame, n: int) -> pd.DataFrame:
    if quarantine.empty:
        return quarantine.copy().reset_index(drop=True)
    q = quarantine.assign(
        _t=quarantine["table"].map({t: i for i, t in enumerate(catalog.TABLE_ORDER)}).fillna(99),
        _r=quarantine["rule"].map(_RULE_ORDER).fillna(99),
    )
    q = q.sort_values(["_t", "_r", "source_file", "source_row"], kind="stable")
    return q.groupby(["_t", "_r"], sort=False).head(n).drop(columns=["_t", "_r"]).reset_index(drop=True)
