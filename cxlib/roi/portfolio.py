"""The best set of cases within a budget: exact 0/1 knapsack with mutually exclusive groups and
combination cases."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import pandas as pd

from cxlib.errors import DataError, require_columns
from cxlib.roi.cases import is_number


def _conflict_components(ids: list[str], groups: list[set[str]], combos: dict[str, tuple[str, ...]]) -> list[list[str]]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        parent[find(x)] = find(y)

    for g in groups:
        members = [m for m in g if m in parent]
        for m in members[1:]:
            union(members[0], m)
    for c, parts in combos.items():
        members = [m for m in (c, *parts) if m in parent]  # the parts stay linked without the combination
        for m in members[1:]:
            union(members[0], m)
    comps: dict[str, list[str]] = {}
    for i in ids:
        comps.setdefault(find(i), []).append(i)
    return list(comps.values())


def _valid(sel: set[str], groups: list[set[str]], combos: dict[str, tuple[str, ...]]) -> bool:
    for g in groups:
        if len(sel & g) > 1:
            return False
    for c, parts in combos.items():
        if c in sel and sel & set(parts):
            return False  # a combination and one of its parts: double counting
        if set(parts) <= sel:
            return False  # all parts chosen one by one: choose the combination case instead
    return True


def best_portfolio(
    cases_table: pd.DataFrame,
    budget: float,
    *,
    objective: str = "npv",
    exclusive_groups: Iterable[Iterable[str]] | None = None,
    cost: str = "first_year_cost",
    id_col: str = "id",
) -> pd.DataFrame:
    """The set of cases with the highest total ``objective`` whose total ``cost`` fits the budget.

    Exact 0/1 knapsack: cases are split into independent blocks (linked by a mutually
    exclusive group or by a combination), every valid choice within a block is enumerated,
    and blocks are combined by dynamic programming over (cost, value) Pareto states, so real
    costs need no rounding. Constraints: at most one case per ``exclusive_groups`` set (default:
    the ``group`` column, e.g. farewell levels 1–3); a combination case (``combines`` column,
    e.g. A+C) is never chosen with one of its parts, nor are all its parts chosen one by one
    (its effects already count their overlap). Cases whose value is ≤ 0 are never chosen.
    ``objective``: ``"npv"``, ``"satisfaction"`` (NPS points × customers reached) or any numeric
    column. Returns the chosen rows (id, names, cost, value), highest value first;
    ``attrs["total_cost"]`` / ``attrs["total_value"]`` hold the totals.

        >>> from cxlib import paths, roi
        >>> cases = roi.load_cases(paths.SAMPLE_CASES)
        >>> best_portfolio(roi.cases_table(cases), budget=50_000, objective="satisfaction")["id"].tolist()
        ['push_plus_checkins', 'farewell_level1']
    """
    df = cases_table
    require_columns(df, [id_col, objective, cost], "cases")
    if not is_number(budget) or budget < 0:
        raise DataError(f"budget must be a number ≥ 0, got {budget!r}", column="budget")
    ids = [str(i) for i in df[id_col]]
    if len(set(ids)) != len(ids):
        raise DataError("cases table has duplicate ids", column=id_col)
    values = dict(zip(ids, pd.to_numeric(df[objective]).astype(float)))
    costs = dict(zip(ids, pd.to_numeric(df[cost]).astype(float)))
    for i in ids:
        if not math.isfinite(values[i]):
            raise DataError(f"{objective} of case {i!r} is not a finite number", column=objective)
        if not math.isfinite(costs[i]) or costs[i] < 0:
            raise DataError(f"{cost} of case {i!r} must be a finite number ≥ 0", column=cost)
    groups: list[set[str]] = []
    if exclusive_groups is not None:
        groups = [set(map(str, g)) for g in exclusive_groups]
    elif "group" in df.columns:
        by: dict[str, set[str]] = {}
        for i, g in zip(ids, df["group"]):
            if isinstance(g, str) and g:
                by.setdefault(g, set()).add(i)
        groups = list(by.values())
    combos: dict[str, tuple[str, ...]] = {}
    if "combines" in df.columns:
        for i, c in zip(ids, df["combines"]):
            parts = tuple(p for p in (c.split(",") if isinstance(c, str) else (c or ())) if p)
            if parts:
                combos[i] = parts
    cand = [i for i in ids if values[i] > 0]
    tol = 1e-9 * max(1.0, float(budget))
    # states: (cost, value, chosen ids), Pareto-optimal: cost ascending, value strictly ascending
    states: list[tuple[float, float, tuple[str, ...]]] = [(0.0, 0.0, ())]
    for comp in _conflict_components(cand, groups, combos):
        comp = sorted(comp)
        if len(comp) > 20:
            raise DataError(
                f"{len(comp)} cases are linked by exclusive groups / combinations; at most 20", column="group"
            )
        alts = []
        for k in range(len(comp) + 1):
            for sub in itertools.combinations(comp, k):
                if _valid(set(sub), groups, combos):
                    alts.append((sum(costs[s] for s in sub), sum(values[s] for s in sub), sub))
        new = [
            (c0 + c1, v0 + v1, s0 + s1) for (c0, v0, s0) in states for (c1, v1, s1) in alts if c0 + c1 <= budget + tol
        ]
        new.sort(key=lambda t: (t[0], -t[1], len(t[2]), sorted(t[2])))
        states = []
        for st in new:
            if not states or st[1] > states[-1][1] + 1e-12 * max(1.0, abs(st[1])):
                states.append(st)
    best = max(states, key=lambda t: (t[1], -t[0]))
    chosen = set(best[2])
    name_cols = [c for c in ("name_zh", "name_en", "group") if c in df.columns]
    out = df.loc[[i in chosen for i in ids], [id_col, *name_cols]].copy()
    out["cost"] = [costs[i] for i in out[id_col].astype(str)]
    out["value"] = [values[i] for i in out[id_col].astype(str)]
    out["objective"] = objective
    out = out.sort_values(["value", id_col], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs["total_cost"] = float(best[0])
    out.attrs["total_value"] = float(best[1])
    out.attrs["budget"] = float(budget)
    return out
