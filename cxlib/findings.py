"""Findings: the sentences under the charts and tables, written from the results they describe.

Every function takes what a notebook has already computed (a tidy table, a model result, a
"not provided" / "not computed" note) and returns a :class:`Finding`: the sentence in Chinese and
in English, shown as a paragraph in the notebook's ``lang``, with its key facts as data
(direction, significance, n) for ``results.json``. A sentence carries its n and its interval,
follows the direction of the data (if updates raise complaints it says so), says "变化不显著 /
not significant" when a test does not reject, and "样本不足（n = …）" when a group has fewer than
:data:`cxlib.catalog.MIN_N` answers. A section without data gets the note as its finding.

    >>> f = headline({"value": 16.2, "ci_low": 2.4, "ci_high": 29.8, "n": 111}, lang="zh")
    >>> f
    NPS 16（95% 置信区间 2–30，n = 111）
    >>> f.record()["significant"] is None
    True

A notebook records its findings under one key (``findings_02`` … ``findings_05``) with
:func:`records`: ``results.record("findings_02", findings.records(f1, f2, ...), results_file)``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import catalog
from cxlib.catalog import MIN_N, Lang, bilingual
from cxlib.results import NotComputed, NotProvided, jsonable

__all__ = [
    "Finding",
    "ALPHA",
    "records",
    "from_note",
    "headline",
    "nps_trend",
    "emotion_curve",
    "tier_curves",
    "drivers",
    "pain_points",
    "black_hole",
    "peak_end",
    "duration_neglect",
    "tiers",
    "folklore",
    "rollout",
    "rollout_sensitivity",
    "twfe_verdict",
    "update_effects",
    "duration_confounding",
    "roi_cases",
    "claims",
    "tornado",
    "portfolio",
]

#: Two-sided level of every test a finding reports.
ALPHA = 0.05
MINUS = "\u2212"
_Note = (NotProvided, NotComputed)


# ================================================================================ the object
@dataclass(frozen=True)
class Finding:
    """One finding: ``zh`` and ``en`` sentences, shown in ``lang`` ("both": Chinese, then
    English), and ``facts`` (plain values) recorded next to the text.

        >>> f = Finding("x", "最低点：等待", "lowest point: waiting", "both", {"point": "waiting"})
        >>> print(f.text())
        最低点：等待
        lowest point: waiting
        >>> f.record()
        {'zh': '最低点：等待', 'en': 'lowest point: waiting', 'point': 'waiting'}
    """

    key: str
    zh: str
    en: str
    lang: str = "both"
    facts: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        """The sentence in ``lang`` (default: the finding's own)."""
        return bilingual(self.zh, self.en, lang=lang or self.lang, sep="\n")  # type: ignore[arg-type]

    def in_lang(self, lang: str) -> Finding:
        """The same finding shown in another language."""
        return Finding(self.key, self.zh, self.en, lang, dict(self.facts))

    def record(self) -> dict[str, Any]:
        """What ``results.json`` keeps: both sentences and the facts (JSON values)."""
        return {"zh": self.zh, "en": self.en, **jsonable(self.facts)}

    def __getitem__(self, name: str) -> Any:
        return self.facts[name]

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from cxlib.safe import literal_html

        langs = ("zh", "en") if self.lang == "both" else (self.lang,)
        paras = "".join(
            f'<p lang="{"zh-CN" if lg == "zh" else "en"}" style="margin:0.2em 0">'
            f"{html.escape(self.zh if lg == 'zh' else self.en)}</p>"
            for lg in langs
        )
        return literal_html(
            f'<div class="cx-finding" style="border-left:3px solid #3182bd;padding-left:0.6em;'
            f'margin:0.5em 0">{paras}</div>'
        )


def records(*found: Finding) -> dict[str, dict[str, Any]]:
    """The findings of a notebook for ``results.json``, one entry per finding key.

    >>> list(records(Finding("a", "甲", "A"), Finding("b", "乙", "B")))
    ['a', 'b']
    """
    return {f.key: f.record() for f in found}


def from_note(key: str, note: NotProvided | NotComputed, *, lang: Lang = "both", **facts: Any) -> Finding:
    """A section without data: its finding is the note (status ``not_provided`` / ``not_computed``).

    >>> from cxlib.results import not_provided
    >>> from_note("tiers", not_provided("touchpoints"), lang="en")
    not provided: touchpoint log (touchpoints)
    """
    if isinstance(note, NotProvided):
        zh, en = (
            NotProvided(note.missing, "zh", note.detail).text(),
            NotProvided(note.missing, "en", note.detail).text(),
        )
        status = "not_provided"
    else:
        zh, en = note.in_lang("zh").text(), note.in_lang("en").text()
        status = "not_computed"
    return Finding(key, zh, en, lang, {"status": status, **note.record(), **facts})


# ============================================================================== formatting
def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _num(x: Any, digits: int = 0, sign: bool = False) -> str:
    """A number for a sentence: thousands separated, the minus sign a real minus, no "−0"."""
    if not _finite(x):
        return "–"
    v = round(float(x), digits)
    if v == 0:
        v = 0.0
    s = f"{v:+,.{digits}f}" if sign else f"{v:,.{digits}f}"
    return s.replace("-", MINUS)


def _ci(lo: Any, hi: Any, digits: int = 0, lang: str = "en") -> str:
    """An interval: "2–30"; with a negative bound "−12 至 4" / "−12 to 4"."""
    if not (_finite(lo) and _finite(hi)):
        return "–"
    a, b = _num(lo, digits), _num(hi, digits)
    if MINUS in a or MINUS in b:
        return f"{a} 至 {b}" if lang == "zh" else f"{a} to {b}"
    return f"{a}–{b}"


def _pct(x: Any, digits: int = 0) -> str:
    return "–" if not _finite(x) else f"{_num(100 * float(x), digits)}%"


def _pct_ci(lo: Any, hi: Any, digits: int = 0, lang: str = "en") -> str:
    if not (_finite(lo) and _finite(hi)):
        return "–"
    return _ci(100 * float(lo), 100 * float(hi), digits, lang) + "%"


def _p(p: Any) -> str:
    if not _finite(p):
        return "p = –"
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _n(n: Any) -> str:
    return f"n = {int(n):,}"


def _significant(p: Any) -> bool | None:
    return None if not _finite(p) else bool(float(p) < ALPHA)


def _ci_excludes(lo: Any, hi: Any, null: float = 0.0) -> bool | None:
    if not (_finite(lo) and _finite(hi)):
        return None
    return bool(float(lo) > null or float(hi) < null)


def _direction(x: Any, null: float = 0.0) -> str | None:
    if not _finite(x):
        return None
    return "up" if float(x) > null else ("down" if float(x) < null else "flat")


def _small(n: Any) -> tuple[str, str]:
    return f"样本不足（n = {int(n):,}），仅供参考", f"small sample (n = {int(n):,}), read with care"


def _sig_words(sig: bool | None, p: Any, change: bool = False) -> tuple[str, str]:
    if sig is None:
        return "无法检验", "cannot be tested"
    if sig:
        return (f"{'变化' if change else '差异'}显著（{_p(p)}）", f"significant ({_p(p)})")
    return (f"{'变化' if change else '差异'}不显著（{_p(p)}）", f"not significant ({_p(p)})")


def _label(code: Any, lang: str) -> str:
    return catalog.label(str(code), lang=lang)  # type: ignore[arg-type]


def _make(key: str, zh: str, en: str, lang: Lang, **facts: Any) -> Finding:
    return Finding(key, zh, en, lang, facts)


def _welch(m1: float, s1: float, n1: float, m2: float, s2: float, n2: float) -> float:
    """Two-sided p-value of Welch's t test from summaries (NaN when it cannot be computed)."""
    if min(n1, n2) < 2 or not all(_finite(x) for x in (m1, s1, m2, s2)):
        return float("nan")
    v1, v2 = s1**2 / n1, s2**2 / n2
    if v1 + v2 <= 0:
        return 0.0 if m1 != m2 else 1.0
    t = (m1 - m2) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return float(2 * stats.t.sf(abs(t), df))


# ================================================================================= 02
def emotion_curve(
    curve: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", pain_below: float = 6.0
) -> Finding:
    """Best and worst point of the emotion curve (mean, 95% CI, n), whether they differ
    (Welch's t test) and the points whose mean falls below "neutral" (``pain_below``).

        >>> c = pd.DataFrame({"point": ["booking", "waiting"], "n": [300, 310], "mean": [8.4, 5.9],
        ...                   "sd": [1.2, 1.5], "ci_low": [8.26, 5.73], "ci_high": [8.54, 6.07]})
        >>> emotion_curve(c, lang="en").en
        'Highest point: Booking 8.40 (95% CI 8.26–8.54, n = 300); lowest point: Waiting 5.90 (5.73–6.07, n = 310); a gap of 2.50 points, significant (p < 0.001). Below "neutral" (6): Waiting.'
    """
    key = "emotion_curve"
    if isinstance(curve, _Note):
        return from_note(key, curve, lang=lang)
    c = curve[curve["mean"].notna()].reset_index(drop=True)
    if c.empty:
        return _make(key, "没有可用的触点评分。", "No touchpoint score to show.", lang, status="not_computed")
    best, worst = c.loc[c["mean"].idxmax()], c.loc[c["mean"].idxmin()]
    p = _welch(best["mean"], best.get("sd", np.nan), best["n"], worst["mean"], worst.get("sd", np.nan), worst["n"])
    sig = _significant(p)
    gap = float(best["mean"] - worst["mean"])
    below = [str(x) for x in c.loc[c["mean"] < pain_below, "point"]]

    def point(r: pd.Series, lg: str, full: bool) -> str:
        ci = _ci(r["ci_low"], r["ci_high"], 2, lg)
        if lg == "zh":
            return f"{_label(r['point'], 'zh')} {_num(r['mean'], 2)} 分（{'95% 置信区间 ' if full else ''}{ci}，{_n(r['n'])}）"
        return f"{_label(r['point'], 'en')} {_num(r['mean'], 2)} ({'95% CI ' if full else ''}{ci}, {_n(r['n'])})"

    szh, sen = _sig_words(sig, p)
    small = [r for r in (best, worst) if r["n"] < MIN_N]
    zh = f"情绪曲线最高点：{point(best, 'zh', True)}；最低点：{point(worst, 'zh', False)}；相差 {_num(gap, 2)} 分，{szh}。"
    en = (
        f"Highest point: {point(best, 'en', True)}; lowest point: {point(worst, 'en', False)}; a gap of "
        f"{_num(gap, 2)} points, {sen}."
    )
    if below:
        zh += f"低于“一般”（{_num(pain_below)} 分）的触点：{'、'.join(_label(b, 'zh') for b in below)}。"
        en += f' Below "neutral" ({_num(pain_below)}): {", ".join(_label(b, "en") for b in below)}.'
    else:
        zh += f"没有触点的平均分低于“一般”（{_num(pain_below)} 分）。"
        en += f' No point\'s mean falls below "neutral" ({_num(pain_below)}).'
    if small:
        n_min = min(int(r["n"]) for r in small)
        z, e = _small(n_min)
        zh, en = zh + z + "。", en + " " + e[:1].upper() + e[1:] + "."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        best_point=str(best["point"]),
        best_mean=best["mean"],
        best_ci_low=best["ci_low"],
        best_ci_high=best["ci_high"],
        best_n=int(best["n"]),
        worst_point=str(worst["point"]),
        worst_mean=worst["mean"],
        worst_ci_low=worst["ci_low"],
        worst_ci_high=worst["ci_high"],
        worst_n=int(worst["n"]),
        gap=gap,
        p_value=p,
        significant=sig,
        below_neutral=below,
        small_sample=bool(small),
    )


def tier_curves(
    by_tier: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", by: str = "tier", top: int = 2
) -> Finding:
    """Where the curves of the transparency tiers part: the ``top`` points with the largest spread
    between the tier means (tiers with at least :data:`MIN_N` answers at the point), the two tiers
    at the extremes of the first with mean, CI, n and Welch's t test, and the point where they
    part least.

        >>> t = pd.DataFrame({"tier": ["none", "realtime_photo"] * 2, "point": ["booking"] * 2 + ["notification"] * 2,
        ...     "n": [100, 200, 100, 200], "mean": [8.3, 8.4, 5.0, 8.2], "sd": [1.0] * 4,
        ...     "ci_low": [8.1, 8.26, 4.8, 8.06], "ci_high": [8.5, 8.54, 5.2, 8.34]})
        >>> tier_curves(t, lang="en")["parting_points"]
        ['notification', 'booking']
    """
    key = "tier_curves"
    if isinstance(by_tier, _Note):
        return from_note(key, by_tier, lang=lang)
    d = by_tier[(by_tier["n"] >= MIN_N) & by_tier["mean"].notna()].copy()
    d[by] = d[by].astype(str)
    d["point"] = d["point"].astype(str)
    counts = d.groupby("point")[by].nunique()
    usable = counts[counts >= 2].index
    if len(usable) == 0:
        n_tiers = int(by_tier[by].astype(str).nunique())
        zh = (
            f"只有 {n_tiers} 个透明度层级，"
            if n_tiers < 2
            else f"{n_tiers} 个透明度层级中，没有两个层级在同一触点都有至少 {MIN_N} 份回答，"
        ) + "无法比较各层级的曲线。"
        en = (
            f"Only {n_tiers} transparency tier in the data"
            if n_tiers < 2
            else f"No two of the {n_tiers} transparency tiers have at least {MIN_N} answers at the same point"
        ) + ": the tier curves cannot be compared."
        return _make(key, zh, en, lang, status="too_few", n_tiers=n_tiers, parting_points=[])
    rows = []
    for pt in usable:
        g = d[d["point"] == pt]
        hi, lo = g.loc[g["mean"].idxmax()], g.loc[g["mean"].idxmin()]
        rows.append(
            {
                "point": pt,
                "spread": float(hi["mean"] - lo["mean"]),
                "hi": hi,
                "lo": lo,
                "p": _welch(hi["mean"], hi.get("sd", np.nan), hi["n"], lo["mean"], lo.get("sd", np.nan), lo["n"]),
                "_o": catalog.SCORE_POINT_ORDER.index(pt) if pt in catalog.SCORE_POINT_ORDER else 99,
            }
        )
    rows.sort(key=lambda r: (-r["spread"], r["_o"]))
    first, least = rows[0], min(rows, key=lambda r: (r["spread"], r["_o"]))
    parts = rows[:top]
    hi, lo = first["hi"], first["lo"]
    sig = _significant(first["p"])
    szh, sen = _sig_words(sig, first["p"])

    def tier_txt(r: pd.Series, lg: str) -> str:
        ci = _ci(r["ci_low"], r["ci_high"], 2, lg)
        return (
            f"{_label(r[by], 'zh')} {_num(r['mean'], 2)} 分（{ci}，{_n(r['n'])}）"
            if lg == "zh"
            else f"{_label(r[by], 'en')} {_num(r['mean'], 2)} ({ci}, {_n(r['n'])})"
        )

    zh = (
        f"各透明度层级的曲线在{_label(first['point'], 'zh')}分得最开：{tier_txt(hi, 'zh')}对{tier_txt(lo, 'zh')}，"
        f"相差 {_num(first['spread'], 2)} 分，{szh}"
    )
    en = (
        f"The tier curves part most at {_label(first['point'], 'en')}: {tier_txt(hi, 'en')} against "
        f"{tier_txt(lo, 'en')}, a spread of {_num(first['spread'], 2)} points, {sen}"
    )
    if len(parts) > 1:
        zh += "；其次是" + "、".join(f"{_label(r['point'], 'zh')}（相差 {_num(r['spread'], 2)} 分）" for r in parts[1:])
        en += "; next " + ", ".join(f"{_label(r['point'], 'en')} ({_num(r['spread'], 2)})" for r in parts[1:])
    if least["point"] not in [r["point"] for r in parts]:
        zh += f"；最接近的是{_label(least['point'], 'zh')}（相差 {_num(least['spread'], 2)} 分）"
        en += f"; closest at {_label(least['point'], 'en')} ({_num(least['spread'], 2)})"
    zh += f"。只比较在该触点有至少 {MIN_N} 份回答的层级。"
    en += f". Only tiers with at least {MIN_N} answers at a point are compared."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        parting_points=[r["point"] for r in parts],
        spreads=[r["spread"] for r in parts],
        highest_tier=str(hi[by]),
        lowest_tier=str(lo[by]),
        p_value=first["p"],
        significant=sig,
        closest_point=least["point"],
        closest_spread=least["spread"],
    )


def drivers(
    weights: pd.DataFrame | NotProvided | NotComputed,
    ip: pd.DataFrame | NotProvided | NotComputed | None = None,
    *,
    lang: Lang = "both",
) -> Finding:
    """The top driver of LTR (its share of the explained variance, with the bootstrap interval
    when there is one, and n) and the points in the "concentrate here" quadrant of ``ip``.

        >>> w = pd.DataFrame({"predictor": ["waiting", "booking"], "rescaled_pct": [60.0, 40.0], "r2": [0.5, 0.5],
        ...                   "n": [400, 400]})
        >>> drivers(w, lang="en").en
        'The top driver of LTR is Waiting: 60% of the explained variance (R² = 0.50, n = 400).'
    """
    key = "drivers"
    if isinstance(weights, _Note):
        return from_note(key, weights, lang=lang)
    w = weights.sort_values("rescaled_pct", ascending=False, kind="mergesort").reset_index(drop=True)
    top = w.iloc[0]
    has_ci = "rescaled_ci_low" in w.columns and _finite(top.get("rescaled_ci_low"))
    ci_zh = f"95% 置信区间 {_ci(top['rescaled_ci_low'], top['rescaled_ci_high'], 0, 'zh')}%，" if has_ci else ""
    ci_en = f"95% CI {_ci(top['rescaled_ci_low'], top['rescaled_ci_high'], 0, 'en')}%, " if has_ci else ""
    r2, n = top.get("r2", np.nan), int(top["n"])
    zh = (
        f"推荐意愿的首要驱动因素是{_label(top['predictor'], 'zh')}：占已解释方差的 {_num(top['rescaled_pct'])}%"
        f"（{ci_zh}R² = {_num(r2, 2)}，{_n(n)}）。"
    )
    en = (
        f"The top driver of LTR is {_label(top['predictor'], 'en')}: {_num(top['rescaled_pct'])}% of the explained "
        f"variance ({ci_en}R² = {_num(r2, 2)}, {_n(n)})."
    )
    concentrate: list[str] = []
    if isinstance(ip, pd.DataFrame) and "quadrant" in ip.columns:
        concentrate = [str(p) for p in ip.loc[ip["quadrant"] == "concentrate", "point"]]
        if concentrate:
            zh += f"重点改进象限（对推荐意愿重要且得分低于平均）：{'、'.join(_label(p, 'zh') for p in concentrate)}。"
            en += (
                ' In the "concentrate here" quadrant (important for LTR, scored below average): '
                f"{', '.join(_label(p, 'en') for p in concentrate)}."
            )
        else:
            zh += "没有触点落在重点改进象限。"
            en += ' No point falls in the "concentrate here" quadrant.'
    if n < MIN_N:
        z, e = _small(n)
        zh, en = zh + z + "。", en + " " + e[:1].upper() + e[1:] + "."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        top_driver=str(top["predictor"]),
        top_share_pct=top["rescaled_pct"],
        ci_low=top.get("rescaled_ci_low") if has_ci else None,
        ci_high=top.get("rescaled_ci_high") if has_ci else None,
        r2=r2,
        n=n,
        concentrate=concentrate,
    )


def pain_points(
    pains: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", top: int = 3, target: float = 8.0
) -> Finding:
    """The ``top`` pain points (gap to ``target`` × importance), with mean, n and the share of
    very dissatisfied answers; only points that fall short of the target are pain points.

        >>> p = pd.DataFrame({"point": ["waiting", "booking"], "n": [300, 280], "mean": [5.96, 8.4], "gap": [2.04, 0.0],
        ...                   "priority": [0.6, 0.0], "share_very_dissatisfied": [0.12, 0.01]})
        >>> pain_points(p, lang="en").en
        'Top pain point (gap to 8 × importance for LTR): 1. Waiting 5.96 (n = 300, 12% very dissatisfied). Only 1 of 2 points falls short of 8.'
    """
    key = "pain_points"
    if isinstance(pains, _Note):
        return from_note(key, pains, lang=lang)
    short = (
        pains[(pains["gap"] > 0) & pains["priority"].notna()]
        .sort_values("priority", ascending=False, kind="mergesort")
        .head(top)
    )
    if short.empty:
        zh = f"没有触点的平均分低于目标 {_num(target)} 分：本数据中没有痛点（n = {int(pains['n'].max()):,}）。"
        en = f"No point's mean falls short of the target {_num(target)}: no pain point here (n = {int(pains['n'].max()):,})."
        return _make(key, zh, en, lang, status="ok", top=[], means=[])

    def one(i: int, r: pd.Series, lg: str) -> str:
        share = _pct(r.get("share_very_dissatisfied"))
        flag = "" if r["n"] >= MIN_N else ("，样本不足" if lg == "zh" else ", small sample")
        if lg == "zh":
            return f"{i}. {_label(r['point'], 'zh')} {_num(r['mean'], 2)} 分（{_n(r['n'])}，非常不满 {share}{flag}）"
        return f"{i}. {_label(r['point'], 'en')} {_num(r['mean'], 2)} ({_n(r['n'])}, {share} very dissatisfied{flag})"

    k = len(short)
    head_zh = f"{'三' if k == 3 else k}大痛点" if k > 1 else "最大痛点"
    zh = (
        f"{head_zh}（按与 {_num(target)} 分的差距 × 对推荐意愿的重要性排序）："
        + "；".join(one(i + 1, r, "zh") for i, (_, r) in enumerate(short.iterrows()))
        + "。"
    )
    en = (
        (f"Top {k} pain points" if k > 1 else "Top pain point")
        + f" (gap to {_num(target)} × importance for LTR): "
        + "; ".join(one(i + 1, r, "en") for i, (_, r) in enumerate(short.iterrows()))
        + "."
    )
    n_short = int(((pains["gap"] > 0) & pains["priority"].notna()).sum())
    if n_short < top:
        zh += f"只有 {n_short} 个触点（共 {len(pains)} 个）低于 {_num(target)} 分。"
        en += (
            f" Only {n_short} of {len(pains)} points falls short of {_num(target)}."
            if n_short == 1
            else f" Only {n_short} of {len(pains)} points fall short of {_num(target)}."
        )
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        top=[str(p) for p in short["point"]],
        means=[float(m) for m in short["mean"]],
        n=[int(x) for x in short["n"]],
    )


_SILENCE_MEASURES = (
    # key, mean column, low, high, n column, zh, en, digits, percent, black-hole direction
    ("anxiety", "anxiety_mean", "anxiety_ci_low", "anxiety_ci_high", "anxiety_n", "焦虑值", "anxiety", 0, False, +1),
    ("ltr", "ltr_mean", "ltr_ci_low", "ltr_ci_high", "ltr_n", "推荐意愿", "LTR", 1, False, -1),
    (
        "inquiries",
        "inquiry_rate",
        "inquiry_ci_low",
        "inquiry_ci_high",
        "n_visits",
        "询问率",
        "the inquiry rate",
        0,
        True,
        +1,
    ),
)


def _trend(y: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Inverse-variance weighted slope of ``y`` on the order of the bins, and its two-sided p."""
    x = np.arange(len(y), dtype=float)
    w = 1 / se**2
    xm = (w * x).sum() / w.sum()
    ym = (w * y).sum() / w.sum()
    sxx = (w * (x - xm) ** 2).sum()
    b = float((w * (x - xm) * (y - ym)).sum() / sxx)
    z = b * math.sqrt(sxx)
    return b, float(2 * stats.norm.sf(abs(z)))


def black_hole(silence: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both") -> Finding:
    """The slope of anxiety, LTR and the inquiry rate across the silence bins (a test for trend:
    inverse-variance weighted regression of the bin values on the bin order), with the first
    and last bin's value, interval and n, and the verdict on the "information black hole":
    ``supported`` when at least two measures move its way significantly (anxiety and inquiries
    up, LTR down) and none against it, ``contradicted`` when only against, ``mixed``,
    ``not_significant``, or ``too_few`` (fewer than three bins with data).

        >>> s = pd.DataFrame({"silence_bin": ["0–30", "30–60", "60+"], "n_visits": [200, 200, 200],
        ...     "anxiety_mean": [20.0, 40.0, 60.0], "anxiety_ci_low": [18.0, 38.0, 58.0],
        ...     "anxiety_ci_high": [22.0, 42.0, 62.0], "anxiety_n": [150, 150, 150]})
        >>> black_hole(s, lang="en")["anxiety_direction"]
        'up'
    """
    key = "black_hole"
    if isinstance(silence, _Note):
        return from_note(key, silence, lang=lang)
    facts: dict[str, Any] = {"status": "ok"}
    zh_parts, en_parts = [], []
    towards = against = 0
    tested = 0
    for name, col, lo, hi, ncol, zh_name, en_name, dig, pct, bh in _SILENCE_MEASURES:
        if col not in silence.columns:
            continue
        n = pd.to_numeric(silence[ncol] if ncol in silence.columns else silence["n_visits"], errors="coerce")
        d = pd.DataFrame(
            {
                "bin": silence["silence_bin"].astype(str),
                "y": pd.to_numeric(silence[col], errors="coerce"),
                "lo": pd.to_numeric(silence[lo], errors="coerce"),
                "hi": pd.to_numeric(silence[hi], errors="coerce"),
                "n": n,
            }
        )
        total = int(d["n"].fillna(0).sum())
        d = d[d["y"].notna() & d["lo"].notna() & d["hi"].notna() & (d["n"] >= MIN_N)].reset_index(drop=True)
        if pct:
            q = np.full(len(d), float(stats.norm.ppf(0.975)))
        else:
            q = stats.t.ppf(0.975, np.maximum(d["n"].to_numpy(dtype=float) - 1, 1))
        se = (d["hi"] - d["lo"]).to_numpy(dtype=float) / (2 * q)
        se = np.where(se > 0, se, np.nan)
        if pct:  # a share of 0 or 1 has a one-sided Wilson interval: its binomial SE from the bin's n
            floor = 0.5 / d["n"].to_numpy(dtype=float)
            se = np.where(np.isfinite(se), np.maximum(se, floor), floor)
        ok = np.isfinite(se)
        d, se = d[ok].reset_index(drop=True), se[ok]
        if len(d) < 3:
            facts[f"{name}_direction"] = None
            facts[f"{name}_significant"] = None
            facts["n"] = max(int(facts.get("n", 0)), total)
            continue
        tested += 1
        slope, p = _trend(d["y"].to_numpy(dtype=float), se)
        sig = _significant(p)
        direction = _direction(slope)
        first, last = d.iloc[0], d.iloc[-1]

        def val(r: pd.Series, lg: str, pct: bool = pct, dig: int = dig) -> str:
            if pct:
                return (
                    f"{_pct(r['y'])}（{_pct_ci(r['lo'], r['hi'], 0, lg)}，{_n(r['n'])}）"
                    if lg == "zh"
                    else f"{_pct(r['y'])} ({_pct_ci(r['lo'], r['hi'], 0, lg)}, {_n(r['n'])})"
                )
            return (
                f"{_num(r['y'], dig)}（{_ci(r['lo'], r['hi'], dig, lg)}，{_n(r['n'])}）"
                if lg == "zh"
                else f"{_num(r['y'], dig)} ({_ci(r['lo'], r['hi'], dig, lg)}, {_n(r['n'])})"
            )

        verb_zh = {"up": "上升", "down": "下降", "flat": "持平"}[direction or "flat"] if sig else ""
        verb_en = {"up": "rises", "down": "falls", "flat": "stays flat"}[direction or "flat"] if sig else "goes"
        szh, sen = _sig_words(sig, p)
        szh = szh.replace("差异", "")
        zh_parts.append(
            f"{zh_name}{verb_zh}：{first['bin']} 分钟 {val(first, 'zh')} → {last['bin']} 分钟 "
            f"{val(last, 'zh')}，趋势{szh}"
        )
        en_parts.append(
            f"{en_name} {verb_en} from {val(first, 'en')} at {first['bin']} min to {val(last, 'en')} at "
            f"{last['bin']} min, trend {sen}"
        )
        facts.update(
            {
                f"{name}_direction": direction,
                f"{name}_slope_per_bin": slope,
                f"{name}_p_value": p,
                f"{name}_significant": sig,
                f"{name}_first": first["y"],
                f"{name}_last": last["y"],
            }
        )
        if sig:
            if (slope > 0) == (bh > 0):
                towards += 1
            else:
                against += 1
    if tested == 0:
        n_all = int(facts.get("n", 0))
        zh = f"样本不足（n = {n_all:,}）：有至少 {MIN_N} 份回答的沉默时长分段少于 3 个，无法检验趋势。"
        en = f"Too few answers (n = {n_all:,}): fewer than three silence bins hold at least {MIN_N}, so no trend can be tested."
        return _make(key, zh, en, lang, status="too_few", verdict="too_few", n=n_all)
    if towards >= 2 and against == 0:
        verdict = "supported"
        vz, ve = (
            "信息黑洞在本数据中成立：沉默越长，客户越焦虑、越不愿推荐，在合适的时点主动告知进度是对策。",
            "The information black hole is real in these data: the longer the silence, the more anxious and "
            "the less willing to recommend customers are; a progress update at the right moment is the remedy.",
        )
    elif against >= 1 and towards == 0:
        verdict = "contradicted"
        vz, ve = (
            "本数据不支持信息黑洞：显著的趋势与之相反。",
            "These data do not support an information black hole: the significant trends run against it.",
        )
    elif towards == 0 and against == 0:
        verdict = "not_significant"
        vz, ve = (
            "各项趋势均不显著，本数据无法证实信息黑洞。",
            "No trend is significant: these data cannot confirm an information black hole.",
        )
    else:
        verdict = "mixed"
        vz, ve = (
            "各项指标方向不一致，本数据对信息黑洞的证据不一致。",
            "The measures disagree: the evidence for an information black hole is mixed in these data.",
        )
    zh = "随最长沉默时长：" + "；".join(zh_parts) + "。" + vz + f"（只计入至少 {MIN_N} 份回答的分段。）"
    en = "With the longest silence, " + "; ".join(en_parts) + ". " + ve + f" (Bins with at least {MIN_N} answers only.)"
    facts["verdict"] = verdict
    return Finding(key, zh, en, lang, facts)


_PE_NAMES = {
    "peak_end": ("峰终平均", "the peak-end average"),
    "mean": ("平均分", "the plain mean"),
    "worst": ("最差点", "the worst point"),
    "last": ("最后一点", "the last point"),
    "best": ("最好点", "the best point"),
    "worst + last": ("最差点与最后一点", "the worst and last point together"),
    "time_weighted_mean": ("按时长加权的平均分", "the time-weighted mean"),
    "log_visit_minutes": ("到店时长（对数）", "the visit's (log) duration"),
    "peak_end + log_visit_minutes": ("峰终平均加到店时长", "the peak-end average with the visit's duration"),
    "worst + last + log_visit_minutes": (
        "最差点、最后一点加到店时长",
        "the worst and last point with the visit's duration",
    ),
}


def _pe_name(model: str, lang: str) -> str:
    zh, en = _PE_NAMES.get(model, (model, model))
    return zh if lang == "zh" else en


def peak_end(
    models: pd.DataFrame | NotProvided | NotComputed,
    *,
    lang: Lang = "both",
    baseline: str = "mean",
    neglect: pd.DataFrame | NotProvided | NotComputed | None = None,
) -> Finding:
    """Which summary of the journey predicts LTR best out of sample (cross-validated R² with its
    bootstrap interval, n) and whether the difference from the plain mean is significant (its
    paired bootstrap interval excludes 0). With ``neglect`` (:func:`cxlib.peak_end.duration_neglect`)
    the sentence of :func:`duration_neglect` follows, and its facts are kept under
    ``duration_neglect``.

        >>> m = pd.DataFrame({"model": ["peak_end", "mean"], "r2_cv": [0.52, 0.49], "ci_low": [0.48, 0.45],
        ...     "ci_high": [0.56, 0.53], "delta_vs_baseline": [0.03, 0.0], "delta_ci_low": [0.01, 0.0],
        ...     "delta_ci_high": [0.05, 0.0], "n": [800, 800]})
        >>> peak_end(m, lang="en")["significant"]
        True
    """
    key = "peak_end"
    if isinstance(models, _Note):
        return from_note(key, models, lang=lang)
    m = models.sort_values("r2_cv", ascending=False, kind="mergesort").reset_index(drop=True)
    best = m.iloc[0]
    n = int(best["n"])
    other = best if best["model"] != baseline else (m.iloc[1] if len(m) > 1 else best)
    delta, dlo, dhi = other.get("delta_vs_baseline"), other.get("delta_ci_low"), other.get("delta_ci_high")
    sig = _ci_excludes(dlo, dhi)
    szh = "差异显著" if sig else ("差异不显著" if sig is not None else "无法检验")
    sen = "significant" if sig else ("not significant" if sig is not None else "cannot be tested")
    zh = (
        f"预测推荐意愿最好的是{_pe_name(best['model'], 'zh')}（交叉验证 R² = {_num(best['r2_cv'], 2)}，"
        f"95% 置信区间 {_ci(best['ci_low'], best['ci_high'], 2, 'zh')}，{_n(n)}）"
    )
    en = (
        f"{_pe_name(best['model'], 'en')[:1].upper()}{_pe_name(best['model'], 'en')[1:]} predicts LTR best "
        f"(cross-validated R² = {_num(best['r2_cv'], 2)}, 95% CI {_ci(best['ci_low'], best['ci_high'], 2, 'en')}, "
        f"{_n(n)})"
    )
    if other is not best or best["model"] != baseline:
        word_zh = "高" if _finite(delta) and float(delta) >= 0 else "低"
        zh += (
            f"；{_pe_name(other['model'], 'zh')}比{_pe_name(baseline, 'zh')}{word_zh} {_num(abs(float(delta)), 3)}"
            f"（95% 置信区间 {_ci(dlo, dhi, 3, 'zh')}），{szh}。"
        )
        en += (
            f"; {_pe_name(other['model'], 'en')} against {_pe_name(baseline, 'en')}: {_num(delta, 3, sign=True)} "
            f"(95% CI {_ci(dlo, dhi, 3, 'en')}), {sen}."
        )
    else:
        zh += "。"
        en += "."
    extra: dict[str, Any] = {}
    if neglect is not None:
        dn = duration_neglect(neglect, lang=lang)
        zh, en = zh + dn.zh, f"{en} {dn.en}"
        extra["duration_neglect"] = {k: v for k, v in dn.facts.items()}
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        best=str(best["model"]),
        best_r2=best["r2_cv"],
        best_ci_low=best["ci_low"],
        best_ci_high=best["ci_high"],
        n=n,
        compared=str(other["model"]),
        delta_vs_mean=delta,
        delta_ci_low=dlo,
        delta_ci_high=dhi,
        significant=sig,
        **extra,
    )


def duration_neglect(result: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both") -> Finding:
    """Duration neglect as a tested result (from :func:`cxlib.peak_end.duration_neglect`): the
    change in LTR for a visit twice as long once peak and end are known, with its 95% CI, p and
    n, whether duration neglect holds here (the interval covers 0) or not, and the
    cross-validated R² that duration adds.

        >>> r = pd.DataFrame([{"given": "worst + last", "term": "log_visit_minutes", "estimate": 0.02,
        ...     "ci_low": -0.1, "ci_high": 0.14, "p_value": 0.74, "per_doubling": 0.014, "per_doubling_ci_low": -0.07,
        ...     "per_doubling_ci_high": 0.1, "r2_cv_gain": -0.0004, "r2_cv_gain_ci_low": -0.001,
        ...     "r2_cv_gain_ci_high": 0.0003, "n": 800, "neglected": True}])
        >>> duration_neglect(r, lang="en")["holds"]
        True
    """
    key = "duration_neglect"
    if isinstance(result, _Note):
        return from_note(key, result, lang=lang)
    r = result.iloc[0]
    holds = bool(r["neglected"])
    per_log = str(r["term"]).startswith("log_")
    given = _pe_name(str(r["given"]), "zh"), _pe_name(str(r["given"]), "en")
    b, lo, hi = (
        (r["per_doubling"], r["per_doubling_ci_low"], r["per_doubling_ci_high"])
        if per_log
        else (r["estimate"], r["ci_low"], r["ci_high"])
    )
    what_zh = "到店时长每翻一倍" if per_log else "到店时长每增加一分钟"
    what_en = "a visit twice as long" if per_log else "each further minute of the visit"
    stats_zh = f"{_num(b, 2, sign=True)} 分（95% 置信区间 {_ci(lo, hi, 2, 'zh')}，{_p(r['p_value'])}，{_n(r['n'])}）"
    stats_en = f"{_num(b, 2, sign=True)} points (95% CI {_ci(lo, hi, 2, 'en')}, {_p(r['p_value'])}, {_n(r['n'])})"
    gain_zh = (
        f"加入时长后交叉验证 R² 变化 {_num(r['r2_cv_gain'], 3, sign=True)}"
        f"（95% 置信区间 {_ci(r['r2_cv_gain_ci_low'], r['r2_cv_gain_ci_high'], 3, 'zh')}）"
    )
    gain_en = (
        f"adding duration changes the cross-validated R² by {_num(r['r2_cv_gain'], 3, sign=True)} "
        f"(95% CI {_ci(r['r2_cv_gain_ci_low'], r['r2_cv_gain_ci_high'], 3, 'en')})"
    )
    gain_sig = _ci_excludes(r["r2_cv_gain_ci_low"], r["r2_cv_gain_ci_high"])
    gz, ge = (
        ("，增量显著", ", a significant gain")
        if gain_sig
        else (("，增量不显著", ", not a significant gain") if gain_sig is not None else ("", ""))
    )
    gain_zh, gain_en = gain_zh + gz, gain_en + ge
    if holds:
        vz, ve = (
            "区间包含 0：本数据中时长忽视成立（客户评价不取决于到店时长）",
            "the interval covers 0: duration neglect holds here (the rating does not depend on how long the "
            "visit took)",
        )
    else:
        vz = "区间不含 0：本数据中时长忽视不成立，到店越久推荐意愿越" + ("低" if float(b) < 0 else "高")
        ve = (
            "the interval excludes 0: duration neglect does not hold here; longer visits get "
            + ("lower" if float(b) < 0 else "higher")
            + " LTR"
        )
    zh = f"时长忽视检验：已知{given[0]}时，{what_zh}，推荐意愿变化 {stats_zh}，{vz}；{gain_zh}。"
    en = f"Duration neglect, tested: given {given[1]}, {what_en} moves LTR by {stats_en}; {ve}; {gain_en}."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        holds=holds,
        given=str(r["given"]),
        term=str(r["term"]),
        estimate=r["estimate"],
        ci_low=r["ci_low"],
        ci_high=r["ci_high"],
        p_value=r["p_value"],
        per_doubling=r["per_doubling"] if per_log else None,
        r2_cv_gain=r["r2_cv_gain"],
        gain_significant=gain_sig,
        r2_cv_gain_ci_low=r["r2_cv_gain_ci_low"],
        r2_cv_gain_ci_high=r["r2_cv_gain_ci_high"],
        n=int(r["n"]),
    )


# ================================================================================= 03
def headline(
    nps_record: Mapping[str, Any] | NotProvided | NotComputed,
    change: pd.Series | NotComputed | None = None,
    pains: pd.DataFrame | NotProvided | NotComputed | None = None,
    *,
    lang: Lang = "both",
) -> Finding:
    """The headline: NPS with its 95% CI and n (``nps.summary_record``), the change against the
    previous period with its test (``nps.previous_change``) and the biggest pain point.

        >>> ch = pd.Series({"difference": 5.0, "ci_low": -9.0, "ci_high": 19.0, "p_value": 0.48, "n_a": 111,
        ...                 "n_b": 104, "now": "2026-10", "before": "2026-09", "basis": "period"})
        >>> p = pd.DataFrame({"point": ["waiting"], "mean": [5.96], "gap": [2.04], "priority": [0.5], "n": [100]})
        >>> headline({"value": 16.2, "ci_low": 2.4, "ci_high": 29.8, "n": 111}, ch, p, lang="zh").zh
        '本月 NPS 16（95% 置信区间 2–30，n = 111），较上月（2026-09）+5（95% 置信区间 −9 至 19），变化不显著（p = 0.48）；最大痛点：等待（5.96 分）'
    """
    key = "headline"
    if isinstance(nps_record, _Note):
        return from_note(key, nps_record, lang=lang)
    v, lo, hi, n = nps_record["value"], nps_record["ci_low"], nps_record["ci_high"], int(nps_record["n"])
    facts: dict[str, Any] = {
        "status": "ok",
        "nps": v,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "small_sample": n < MIN_N,
        "change": None,
        "change_ci_low": None,
        "change_ci_high": None,
        "change_p_value": None,
        "significant": None,
        "change_direction": None,
        "top_pain": None,
    }
    when_zh = ""
    change_zh = change_en = ""
    if isinstance(change, pd.Series):
        one_now = " – " not in str(change["now"])
        one_before = " – " not in str(change["before"])
        if change.get("basis") == "period":
            when_zh = "本月 " if one_now else "本期 "
            ref_zh, ref_en = (
                ("较上月" if one_before else "较上期"),
                ("against the previous month" if one_before else "against the previous period"),
            )
        else:
            ref_zh = f"最近一月（{change['now']}）较上月"
            ref_en = f"the last month ({change['now']}) against the month before"
        d, dlo, dhi, p = change["difference"], change["ci_low"], change["ci_high"], change["p_value"]
        sig = _significant(p)
        n_min = min(int(change["n_a"]), int(change["n_b"]))
        if n_min < MIN_N:
            szh, sen = (
                f"样本不足（n = {int(change['n_a']):,} / {int(change['n_b']):,}），变化无法判断",
                f"too few answers to judge (n = {int(change['n_a']):,} / {int(change['n_b']):,})",
            )
            sig = None
        else:
            szh, sen = _sig_words(sig, p, change=True)
        change_zh = (
            f"，{ref_zh}（{change['before']}）{_num(d, 0, sign=True)}（95% 置信区间 {_ci(dlo, dhi, 0, 'zh')}），{szh}"
        )
        change_en = f"; {ref_en} ({change['before']}) {_num(d, 0, sign=True)} (95% CI {_ci(dlo, dhi, 0, 'en')}), {sen}"
        facts.update(
            change=d,
            change_ci_low=dlo,
            change_ci_high=dhi,
            change_p_value=p,
            significant=sig,
            change_direction=_direction(d),
            now=str(change["now"]),
            before=str(change["before"]),
            before_n=int(change["n_b"]),
        )
    elif isinstance(change, NotComputed):
        change_zh = f"，无法与上期比较（{change.why[0] if change.why else change.in_lang('zh').text()}）"
        change_en = (
            f"; no comparison with the previous period ({change.why[1] if change.why else change.in_lang('en').text()})"
        )
    zh = f"{when_zh}NPS {_num(v)}（95% 置信区间 {_ci(lo, hi, 0, 'zh')}，{_n(n)}）{change_zh}"
    en = f"NPS {_num(v)} (95% CI {_ci(lo, hi, 0, 'en')}, {_n(n)}){change_en}"
    if n < MIN_N:
        z, e = _small(n)
        zh += "；" + z
        en += "; " + e
    if isinstance(pains, pd.DataFrame):
        short = pains[(pains["gap"] > 0) & pains["priority"].notna()].sort_values(
            "priority", ascending=False, kind="mergesort"
        )
        if len(short):
            t = short.iloc[0]
            zh += f"；最大痛点：{_label(t['point'], 'zh')}（{_num(t['mean'], 2)} 分）"
            en += f"; biggest pain point: {_label(t['point'], 'en')} ({_num(t['mean'], 2)} points)"
            facts.update(top_pain=str(t["point"]), top_pain_mean=t["mean"])
        else:
            zh += "；没有触点低于目标分"
            en += "; no point falls short of the target"
    elif isinstance(pains, _Note):
        zh += f"；痛点：{from_note('x', pains, lang='zh').zh}"
        en += f"; pain points: {from_note('x', pains, lang='en').en}"
    return Finding(key, zh, en, lang, facts)


def nps_trend(by_month: pd.DataFrame, change: pd.Series | NotComputed | None = None, *, lang: Lang = "both") -> Finding:
    """The monthly NPS of the trend chart: the first and the last month (NPS, CI, n) and the
    change between them (z test from the months' standard errors), and the change against the
    previous period when ``change`` is given (as in :func:`headline`).

        >>> m = pd.DataFrame({"month": ["2026-09", "2026-10"], "n": [600, 640], "nps": [-11.0, -7.0],
        ...     "se": [3.9, 3.8], "ci_low": [-18.6, -14.4], "ci_high": [-3.4, 0.4]})
        >>> nps_trend(m, lang="en")["significant"]
        False
    """
    key = "nps_trend"
    t = by_month.sort_values("month").reset_index(drop=True)
    t = t[t["n"] > 0]
    if t.empty:
        return _make(
            key, "没有问卷，无法画出月度趋势。", "No survey answers: no monthly trend.", lang, status="not_computed"
        )
    first, last = t.iloc[0], t.iloc[-1]

    def month(r: pd.Series, lg: str) -> str:
        return (
            f"{r['month']} 为 {_num(r['nps'])}（95% 置信区间 {_ci(r['ci_low'], r['ci_high'], 0, 'zh')}，{_n(r['n'])}）"
            if lg == "zh"
            else f"{_num(r['nps'])} in {r['month']} (95% CI {_ci(r['ci_low'], r['ci_high'], 0, 'en')}, {_n(r['n'])})"
        )

    if len(t) == 1:
        zh = f"本期只有一个月：{month(first, 'zh')}，没有月度趋势可看。"
        en = f"The period holds one month: NPS {month(first, 'en')}; no monthly trend to read."
        facts: dict[str, Any] = {"status": "ok", "months": 1, "significant": None, "direction": None}
    else:
        diff = float(last["nps"] - first["nps"])
        se = math.sqrt(float(first["se"]) ** 2 + float(last["se"]) ** 2) if "se" in t.columns else float("nan")
        p = float(2 * stats.norm.sf(abs(diff) / se)) if _finite(se) and se > 0 else float("nan")
        sig = _significant(p)
        if min(int(first["n"]), int(last["n"])) < MIN_N:
            szh, sen, sig = "样本不足，变化无法判断", "too few answers to judge", None
        else:
            szh, sen = _sig_words(sig, p, change=True)
        zh = f"月度 NPS：{month(first, 'zh')}，{month(last, 'zh')}，相差 {_num(diff, 0, sign=True)}，{szh}。"
        en = f"Monthly NPS: {month(first, 'en')}, {month(last, 'en')}; a change of {_num(diff, 0, sign=True)}, {sen}."
        facts = {
            "status": "ok",
            "months": int(len(t)),
            "first_month": str(first["month"]),
            "last_month": str(last["month"]),
            "difference": diff,
            "p_value": p,
            "significant": sig,
            "direction": _direction(diff),
        }
    if isinstance(change, pd.Series) and change.get("basis") == "period":
        h = headline(
            {
                "value": change["nps_a"] if "nps_a" in change else float("nan"),
                "ci_low": float("nan"),
                "ci_high": float("nan"),
                "n": int(change["n_a"]),
            },
            change,
            lang=lang,
        )
        d = h.facts
        zh += (
            f"与上期（{change['before']}）相比 {_num(d['change'], 0, sign=True)}（95% 置信区间 "
            f"{_ci(d['change_ci_low'], d['change_ci_high'], 0, 'zh')}），"
            + (
                "变化显著。"
                if d["significant"]
                else ("变化不显著。" if d["significant"] is not None else "样本不足，变化无法判断。")
            )
        )
        en += (
            f" Against the previous period ({change['before']}): {_num(d['change'], 0, sign=True)} (95% CI "
            f"{_ci(d['change_ci_low'], d['change_ci_high'], 0, 'en')}), "
            + (
                "significant."
                if d["significant"]
                else ("not significant." if d["significant"] is not None else "too few answers to judge.")
            )
        )
        facts.update(change_vs_previous=d["change"], change_significant=d["significant"])
    return Finding(key, zh, en, lang, facts)


def tiers(
    table: pd.DataFrame | NotProvided | NotComputed,
    contrast: pd.Series | NotProvided | None = None,
    *,
    lang: Lang = "both",
) -> Finding:
    """Do NPS and the complaint rate differ between visits without updates and visits with
    real-time updates and photos? From ``nps.tier_contrast`` (NPS: z test; complaints: z test of two
    proportions), each with both tiers' values, the difference, its CI and n; a tier with fewer than
    :data:`MIN_N` answers (or none) is named instead.

        >>> c = pd.Series({"high": "realtime_photo", "low": "none", "n_high": 700, "n_low": 500, "nps_high": 40.0,
        ...     "nps_low": -70.0, "nps_difference": 110.0, "nps_ci_low": 100.0, "nps_ci_high": 120.0,
        ...     "nps_p_value": 1e-9, "complaint_high": 0.03, "complaint_low": 0.2, "complaint_difference": -0.17,
        ...     "complaint_ci_low": -0.2, "complaint_ci_high": -0.14, "complaint_p_value": 1e-9,
        ...     "complaint_n_high": 1000, "complaint_n_low": 800})
        >>> tiers(None, c, lang="en")["nps_direction"]
        'up'
    """
    key = "tiers"
    if isinstance(table, _Note):
        return from_note(key, table, lang=lang)
    if not isinstance(contrast, pd.Series):
        raise ValueError("tiers() needs the contrast of nps.tier_contrast(visits)")
    c = contrast
    hz, he = _label(c["high"], "zh"), _label(c["high"], "en")
    lz, le = _label(c["low"], "zh"), _label(c["low"], "en")
    facts: dict[str, Any] = {
        "status": "ok",
        "high": c["high"],
        "low": c["low"],
        "n_high": int(c["n_high"]),
        "n_low": int(c["n_low"]),
    }
    few = [(z, e, int(c[f"n_{k}"])) for k, z, e in (("high", hz, he), ("low", lz, le)) if int(c[f"n_{k}"]) < MIN_N]
    if few:
        zh = (
            "、".join(f"{z}只有 {n} 份回答" for z, _, n in few)
            + f"：样本不足（n = {min(n for *_, n in few)}），无法比较{hz}与{lz}的 NPS 和投诉率。"
        )
        en = (
            "; ".join(f"{e} has {n} answers" for _, e, n in few)
            + f": too few (n = {min(n for *_, n in few)}) to compare NPS and complaints between {he} and {le}."
        )
        facts.update(
            status="too_few",
            nps_direction=None,
            nps_significant=None,
            complaint_direction=None,
            complaint_significant=None,
        )
        return Finding(key, zh, en, lang, facts)
    sig = _significant(c["nps_p_value"])
    szh, sen = _sig_words(sig, c["nps_p_value"])
    zh = (
        f"{hz}与{lz}相比：NPS {_num(c['nps_high'])} 对 {_num(c['nps_low'])}，相差 {_num(c['nps_difference'], 0, True)}"
        f"（95% 置信区间 {_ci(c['nps_ci_low'], c['nps_ci_high'], 0, 'zh')}，n = {int(c['n_high']):,} / "
        f"{int(c['n_low']):,}），{szh}"
    )
    en = (
        f"{he} against {le}: NPS {_num(c['nps_high'])} vs {_num(c['nps_low'])}, a difference of "
        f"{_num(c['nps_difference'], 0, True)} (95% CI {_ci(c['nps_ci_low'], c['nps_ci_high'], 0, 'en')}, "
        f"n = {int(c['n_high']):,} / {int(c['n_low']):,}), {sen}"
    )
    facts.update(
        nps_difference=c["nps_difference"],
        nps_ci_low=c["nps_ci_low"],
        nps_ci_high=c["nps_ci_high"],
        nps_p_value=c["nps_p_value"],
        nps_significant=sig,
        nps_direction=_direction(c["nps_difference"]),
    )
    if _finite(c.get("complaint_difference")):
        csig = _significant(c["complaint_p_value"])
        czh, cen = _sig_words(csig, c["complaint_p_value"])
        zh += (
            f"；投诉率 {_pct(c['complaint_high'], 1)} 对 {_pct(c['complaint_low'], 1)}，相差 "
            f"{_num(100 * c['complaint_difference'], 1, True)} 个百分点（95% 置信区间 "
            f"{_ci(100 * c['complaint_ci_low'], 100 * c['complaint_ci_high'], 1, 'zh')}，"
            f"n = {int(c['complaint_n_high']):,} / {int(c['complaint_n_low']):,}），{czh}"
        )
        en += (
            f"; complaint rate {_pct(c['complaint_high'], 1)} vs {_pct(c['complaint_low'], 1)}, "
            f"{_num(100 * c['complaint_difference'], 1, True)} points (95% CI "
            f"{_ci(100 * c['complaint_ci_low'], 100 * c['complaint_ci_high'], 1, 'en')}, "
            f"n = {int(c['complaint_n_high']):,} / {int(c['complaint_n_low']):,}), {cen}"
        )
        facts.update(
            complaint_difference=c["complaint_difference"],
            complaint_p_value=c["complaint_p_value"],
            complaint_significant=csig,
            complaint_direction=_direction(c["complaint_difference"]),
        )
    else:
        zh += "；投诉率：未提供投诉数据"
        en += "; complaint rate: complaints not provided"
        facts.update(complaint_direction=None, complaint_significant=None)
    zh += "。这是层级间的原始差异，层级在维修时长和门店上也不同。"
    en += ". These are raw differences between tiers, which also differ in repair duration and center."
    return Finding(key, zh, en, lang, facts)


def folklore(
    table: pd.DataFrame | NotProvided | NotComputed,
    *,
    lang: Lang = "both",
    low: str = "none",
    high: str = "realtime_photo",
) -> Finding:
    """The folklore "real-time updates with photos lift NPS from 3–5 to 8–9" held against a
    ``nps.tier_table``: its numbers are on the 0–10 LTR scale, so both the mean LTR and the NPS of
    the two tiers are given, and whether the folklore's LTR ranges hold here.

        >>> t = pd.DataFrame({"tier": ["none", "realtime_photo"], "ltr_mean": [4.4, 8.3], "ltr_ci_low": [4.2, 8.2],
        ...                   "ltr_ci_high": [4.6, 8.4], "nps": [-70.0, 40.0], "nps_ci_low": [-74.0, 36.0],
        ...                   "nps_ci_high": [-66.0, 44.0], "n_responses": [500, 700]})
        >>> folklore(t)["holds"]
        True
    """
    key = "folklore"
    if isinstance(table, _Note):
        return from_note(key, table, lang=lang)
    t = table.assign(tier=table["tier"].astype(str)).set_index("tier")
    lead_en = (
        'The folklore "real-time updates with photos lift NPS from 3–5 to 8–9" quotes numbers on the 0–10 '
        "likelihood-to-recommend (LTR) scale; an NPS lives on −100…100 and a mean LTR of 8–9 is no NPS of 8–9."
    )
    lead_zh = (
        "坊间说法“实时更新+照片让 NPS 从 3–5 升到 8–9”引用的是 0–10 分的推荐意愿（LTR）；NPS 的范围是 −100…100，"
        "平均推荐意愿 8–9 并不是 NPS 8–9。"
    )
    missing = [c for c in (low, high) if c not in t.index or not t.loc[c, "n_responses"]]
    if missing:
        en = (
            f"{lead_en} These data have no survey answers for {', '.join(catalog.label(c, lang='en') for c in missing)}, "
            "so the claim cannot be checked here."
        )
        zh = f"{lead_zh}本数据中{'、'.join(catalog.label(c, lang='zh') for c in missing)}没有问卷回答，无法核对这一说法。"
        return _make(key, zh, en, lang, status="too_few", holds=None)
    lo, hi = t.loc[low], t.loc[high]

    def ltr(r: pd.Series, lg: str) -> str:
        ci = f"{r['ltr_ci_low']:.1f}–{r['ltr_ci_high']:.1f}"
        return (
            f"{r['ltr_mean']:.1f}（95% 置信区间 {ci}，n = {int(r['n_responses']):,}）"
            if lg == "zh"
            else f"{r['ltr_mean']:.1f} (95% CI {ci})"
        )

    def npsv(r: pd.Series) -> str:
        return f"{r['nps']:+.0f} ({r['nps_ci_low']:+.0f} to {r['nps_ci_high']:+.0f})"

    def npsz(r: pd.Series) -> str:
        return f"{_num(r['nps'], 0, True)}（{_ci(r['nps_ci_low'], r['nps_ci_high'], 0, 'zh')}）"

    ltr_in = bool(3 <= lo["ltr_mean"] <= 5 and 8 <= hi["ltr_mean"] <= 9)
    verdict = (
        "so on the LTR scale the folklore's range holds"
        if ltr_in
        else "so even on the LTR scale the folklore's ranges do not quite hold"
    )
    en = (
        f"{lead_en} Here mean LTR is {ltr(lo, 'en')} without updates and {ltr(hi, 'en')} with real-time updates and "
        f"photos, {verdict}; the NPS moves from {npsv(lo)} to {npsv(hi)}. These are raw differences between tiers, "
        "which also differ in repair duration and center: the causal share is estimated below."
    )
    zh = (
        f"{lead_zh}本数据中无更新的平均推荐意愿为 {ltr(lo, 'zh')}，实时更新+照片为 {ltr(hi, 'zh')}，"
        f"{'在推荐意愿尺度上这一说法的范围成立' if ltr_in else '即使在推荐意愿尺度上这一说法的范围也不完全成立'}；"
        f"NPS 从 {npsz(lo)} 变为 {npsz(hi)}。这是层级间的原始差异，层级在维修时长和门店上也不同，因果部分见下文的估计。"
    )
    n_min = int(min(lo["n_responses"], hi["n_responses"]))
    if n_min < MIN_N:
        z, e = _small(n_min)
        zh, en = zh + z + "。", en + " " + e[:1].upper() + e[1:] + "."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        holds=ltr_in,
        ltr_low=lo["ltr_mean"],
        ltr_high=hi["ltr_mean"],
        n_low=int(lo["n_responses"]),
        n_high=int(hi["n_responses"]),
    )


def _reason(note: str) -> tuple[str, str]:
    """A model's "cannot fit" reason in Chinese (known phrasings) and English."""
    from cxlib.models import note_text

    en = re.sub(r"^cannot fit: ", "", note.split(" | ")[0]).strip()
    zh = note_text(en, lang="zh")
    if re.search(
        r"[A-Za-z]{4,}", re.sub(r"alpha|Hessian\w*|ConvergenceWarning", "", zh)
    ):  # a phrasing without translation: say so and quote it
        zh = f"原因（英文）：{en}"
    return zh, en


def _model_failed(key: str, what: tuple[str, str], note: str, lang: Lang, **facts: Any) -> Finding:
    zh_r, en_r = _reason(note or "did not converge")
    return Finding(
        key,
        f"无法估计{what[0]}：{zh_r}。",
        f"{what[1][:1].upper()}{what[1][1:]} not estimated: {en_r}.",
        lang,
        {"status": "cannot_fit", "reason": en_r, **facts},
    )


def rollout(did_ltr: Any, did_complained: Any = None, *, lang: Lang = "both") -> Finding:
    """The difference-in-differences estimate of the switch to real-time updates: LTR points and
    percentage points of visits with a complaint, with CI, p, n and the number of centers.

        >>> rollout(ModelResult("did_ltr", pd.DataFrame(), note="cannot fit: no center has data both before and "
        ...         "after its switch to real-time updates"), lang="zh").zh   # doctest: +SKIP
    """
    key = "rollout"
    from cxlib.models import ModelResult

    if isinstance(did_ltr, _Note):
        return from_note(key, did_ltr, lang=lang)
    facts: dict[str, Any] = {"status": "ok"}
    zh_parts, en_parts = [], []
    for name, res, scale, zh_what, en_what, unit_zh, unit_en in (
        ("ltr", did_ltr, 1.0, "推荐意愿", "LTR", "分", "points"),
        (
            "complained",
            did_complained,
            100.0,
            "有投诉的工单占比",
            "the share of visits with a complaint",
            "个百分点",
            "percentage points",
        ),
    ):
        if res is None:
            continue
        if isinstance(res, _Note):
            nz, ne = from_note("x", res, lang="zh").zh, from_note("x", res, lang="en").en
            zh_parts.append(f"{zh_what}：{nz}")
            en_parts.append(f"{en_what}: {ne}")
            facts.update({f"{name}_direction": None, f"{name}_significant": None})
            continue
        assert isinstance(res, ModelResult)
        if not res.ok or res.headline.empty or not _finite(res.headline.iloc[0]["estimate"]):
            zr, er = _reason(res.note)
            zh_parts.append(f"{zh_what}无法估计（{zr}）")
            en_parts.append(f"{en_what} not estimated ({er})")
            facts.update({f"{name}_direction": None, f"{name}_significant": None, f"{name}_reason": er})
            continue
        h = res.headline.iloc[0]
        sig = _significant(h["p_value"])
        szh, sen = _sig_words(sig, h["p_value"])
        d = _direction(h["estimate"])
        vz = {"up": "上升", "down": "下降", "flat": "不变"}[d or "flat"]
        ve = {"up": "rises by", "down": "falls by", "flat": "changes by"}[d or "flat"]
        est, lo, hi = scale * float(h["estimate"]), scale * float(h["ci_low"]), scale * float(h["ci_high"])
        dig = 2 if scale == 1 else 1
        iz, ie = _inference_words(getattr(res, "inference", ""), quoted_only=True)
        zh_parts.append(
            f"{zh_what}{vz} {_num(abs(est), dig)} {unit_zh}（95% 置信区间 {_ci(lo, hi, dig, 'zh')}，"
            f"{_n(res.n)}，{res.n_clusters} 家门店{'，' + iz if iz else ''}），{szh}"
        )
        en_parts.append(
            f"{en_what} {ve} {_num(abs(est), dig)} {unit_en} (95% CI {_ci(lo, hi, dig, 'en')}, {_n(res.n)}, "
            f"{res.n_clusters} centers{', ' + ie if ie else ''}), {sen}"
        )
        facts.update(
            {
                f"{name}_estimate": h["estimate"],
                f"{name}_ci_low": h["ci_low"],
                f"{name}_ci_high": h["ci_high"],
                f"{name}_p_value": h["p_value"],
                f"{name}_significant": sig,
                f"{name}_direction": d,
                "n": int(res.n),
                "n_clusters": res.n_clusters,
            }
        )
    if all(facts.get(f"{k}_direction") is None for k in ("ltr", "complained")) and facts.get("ltr_reason"):
        facts["status"] = "cannot_fit"
    reasons = [facts.get(f"{k}_reason") for k in ("ltr", "complained") if facts.get(f"{k}_direction") is None]
    if len(reasons) == len(zh_parts) and len(set(reasons)) == 1 and reasons[0]:
        zr, er = _reason(reasons[0])
        return Finding(
            key,
            f"上线实时进度的效果（双重差分）无法估计：{zr}。",
            f"The effect of the switch to real-time updates (difference-in-differences) is not estimated: {er}.",
            lang,
            {**facts, "status": "cannot_fit"},
        )
    zh = "上线实时进度后（双重差分）：" + "；".join(zh_parts) + "。"
    en = "After the switch to real-time updates (difference-in-differences), " + "; ".join(en_parts) + "."
    return Finding(key, zh, en, lang, facts)


def _inference_words(inference: Any, quoted_only: bool = False) -> tuple[str, str]:
    """How a rollout interval was made, in a few words (zh, en); with ``quoted_only`` only a
    randomisation interval is named (the other intervals are the usual ones of the table)."""
    text = str(inference or "")
    if text.startswith("randomisation interval"):
        return "随机化区间，不假设工单相互独立", "randomisation interval, no independence assumed"
    if quoted_only:
        return "", ""
    if "independent" in text:
        return "工单视为相互独立", "visits treated as independent"
    return "按门店的野自助法", "wild cluster bootstrap by center"


_ESTIMATOR_NAMES = {
    "callaway_santanna": ("Callaway–Sant'Anna", "Callaway–Sant'Anna"),
    "sun_abraham": ("Sun–Abraham", "Sun–Abraham"),
}
_CONTROL_NAMES = {
    "not_yet_treated": ("以尚未切换的门店为对照", "not-yet-treated controls"),
    "never_treated": ("以从未切换的门店为对照", "never-treated controls"),
}


def rollout_sensitivity(
    table: pd.DataFrame | NotProvided | NotComputed | Any,
    *,
    lang: Lang = "both",
    unit: tuple[str, str] = ("分", "points"),
    digits: int = 2,
) -> Finding:
    """How far parallel trends may fail after the switch before the robust rollout effect stops
    being distinguishable from 0, from :func:`cxlib.did.sensitivity`: the largest pre-switch
    month-to-month departure, the breakdown multiple M̄ and the interval at M̄ = 1, with n.

        >>> rollout_sensitivity(did.sensitivity(did.rollout_att(visits, centers)), lang="en").en  # doctest: +SKIP
    """
    key = "rollout_sensitivity"
    if isinstance(table, _Note):
        return from_note(key, table, lang=lang)
    if not isinstance(table, pd.DataFrame) or table.empty:
        return (
            from_note(key, table, lang=lang)
            if hasattr(table, "in_lang")
            else Finding(
                key,
                "敏感性分析无法计算。",
                "The sensitivity analysis could not be computed.",
                lang,
                {"status": "cannot_fit"},
            )
        )
    a = table.attrs
    delta, brk, n = float(a["delta"]), float(a["breakdown"]), int(a["n"])
    at1 = table.loc[table["mbar"] == 1.0]
    facts: dict[str, Any] = {"status": "ok", "delta": delta, "breakdown": brk, "n": n}
    d_zh = f"切换前相邻月份之间偏离平行趋势最多 {_num(delta, digits)} {unit[0]}"
    d_en = f"before the switch, the month-to-month departure from parallel trends was at most {_num(delta, digits)} {unit[1]}"
    if brk <= 0:
        zh = f"敏感性分析（相对幅度，参照 Rambachan–Roth）：{d_zh}；即使假设切换后完全保持平行趋势，区间也已包含 0（{_n(n)}）。"
        en = (
            f"Sensitivity (relative magnitudes, after Rambachan–Roth): {d_en}; the interval includes 0 even if "
            f"parallel trends hold exactly after the switch ({_n(n)})."
        )
    else:
        one = ""
        one_en = ""
        if len(at1):
            r = at1.iloc[0]
            facts.update({"ci_low_at_1": float(r["ci_low"]), "ci_high_at_1": float(r["ci_high"])})
            one = f"；M̄ = 1 时 95% 区间为 {_ci(r['ci_low'], r['ci_high'], digits, 'zh')}"
            one_en = f"; at M̄ = 1 the 95% interval is {_ci(r['ci_low'], r['ci_high'], digits, 'en')}"
        zh = (
            f"敏感性分析（相对幅度，参照 Rambachan–Roth）：{d_zh}；只要切换后每月偏离的变化不超过它的 "
            f"{_num(brk, 2)} 倍（M̄），效应的 95% 区间仍不含 0{one}（{_n(n)}）。"
        )
        en = (
            f"Sensitivity (relative magnitudes, after Rambachan–Roth): {d_en}; the effect's 95% interval excludes 0 "
            f"as long as the departure changes by no more than {_num(brk, 2)} times that per month after the switch "
            f"(M̄){one_en} ({_n(n)})."
        )
    return Finding(key, zh, en, lang, facts)


def twfe_verdict(
    verdict: Mapping[str, Any] | NotProvided | NotComputed,
    randomization: pd.DataFrame | None = None,
    *,
    lang: Lang = "both",
    unit: tuple[str, str] = ("分", "points"),
    scale: float = 1.0,
    digits: int = 2,
) -> Finding:
    """Whether the two-way fixed-effects (TWFE) estimate of the rollout can be trusted, from
    :func:`cxlib.did.verdict` (and the :func:`cxlib.did.randomization_test` table): the robust
    estimate with its interval, n, centers and the inference quoted, the TWFE estimate and the gap in
    units of the robust half-width, TWFE's negative weights, the pre-trend test and the
    randomisation p-values.

        >>> twfe_verdict({"trust": None, "reasons": ["not estimated"], "note": "cannot fit: one center"},
        ...              lang="en").en
        'Whether TWFE can be trusted is not assessed: one center.'
    """
    key = "twfe_verdict"
    if isinstance(verdict, _Note):
        return from_note(key, verdict, lang=lang)
    if verdict.get("trust") is None:
        zr, er = _reason(str(verdict.get("note") or "not estimated"))
        return Finding(
            key,
            f"未评估双向固定效应估计是否可信：{zr}。",
            f"Whether TWFE can be trusted is not assessed: {er}.",
            lang,
            {"status": "cannot_fit", "trust": None},
        )
    v = verdict
    est_zh, est_en = _ESTIMATOR_NAMES.get(str(v["estimator"]), (str(v["estimator"]),) * 2)
    ctl_zh, ctl_en = _CONTROL_NAMES.get(str(v["control_group"]), (str(v["control_group"]),) * 2)
    r, lo, hi, tw, gap = (scale * float(v[k]) for k in ("robust", "robust_ci_low", "robust_ci_high", "twfe", "gap"))
    half = float(v["gap_in_half_widths"])
    neg = float(v.get("twfe_share_negative") or 0.0)
    pre = v.get("pretrend_p_value")
    ri = None if randomization is None or len(randomization) == 0 else randomization.set_index("estimator")
    ri_zh = ri_en = ""
    if ri is not None:
        k = int(ri["n_assignments"].max())
        ri_zh = (
            f"；在切换日期的全部 {k} 种分配下做随机化检验，稳健估计 {_p(ri.loc['callaway_santanna', 'p_value'])}，"
            f"TWFE {_p(ri.loc['twfe', 'p_value'])}"
        )
        ri_en = (
            f"; a randomisation test over {k} assignments of the switch dates gives "
            f"{_p(ri.loc['callaway_santanna', 'p_value'])} for the robust estimate and "
            f"{_p(ri.loc['twfe', 'p_value'])} for TWFE"
        )
    inf_zh, inf_en = _inference_words(v.get("inference"))
    why_zh = {
        "gap": "两者之差超过稳健区间半宽的一半",
        "negative_weights": "TWFE 对部分已处理门店月给了负权重",
        "pretrends": "上线前的趋势检验拒绝了平行趋势",
    }
    why_en = {
        "gap": "the two differ by more than half the robust interval's half-width",
        "negative_weights": "TWFE puts negative weight on some treated center-months",
        "pretrends": "the pre-trend test rejects parallel trends",
    }
    if v["trust"]:
        head_zh = "双向固定效应（TWFE）估计在这里可以采信"
        head_en = "The two-way fixed-effects (TWFE) estimate can be trusted here"
    else:
        reasons = list(v.get("reasons") or [])
        head_zh = "双向固定效应（TWFE）估计在这里不宜采信（" + "；".join(why_zh[x] for x in reasons) + "）"
        head_en = (
            "The two-way fixed-effects (TWFE) estimate should not be read as the effect here ("
            + "; ".join(why_en[x] for x in reasons)
            + ")"
        )
    pre_zh = f"上线前趋势检验 {_p(pre)}" if pre is not None else "没有上线前的估计可供检验"
    pre_en = f"pre-trend test {_p(pre)}" if pre is not None else "no pre-period estimate to test"
    zh = (
        f"{head_zh}：稳健估计（{est_zh}，{ctl_zh}）为 {_num(r, digits, sign=True)} {unit[0]}（95% 置信区间 "
        f"{_ci(lo, hi, digits, 'zh')}，{_n(v['n'])}，{v['n_clusters']} 家门店，{inf_zh}），TWFE 为 "
        f"{_num(tw, digits, sign=True)} {unit[0]}，相差 {_num(gap, digits, sign=True)}，为稳健区间半宽的 "
        f"{_num(half, 2)} 倍；TWFE 的负权重占权重总量的 {_pct(neg, 1)}；{pre_zh}{ri_zh}。"
    )
    en = (
        f"{head_en}: the robust estimate ({est_en}, {ctl_en}) is {_num(r, digits, sign=True)} {unit[1]} (95% CI "
        f"{_ci(lo, hi, digits, 'en')}, {_n(v['n'])}, {v['n_clusters']} centers, {inf_en}) and TWFE gives "
        f"{_num(tw, digits, sign=True)}, a gap of {_num(gap, digits, sign=True)} or {_num(half, 2)} of the robust "
        f"half-width; TWFE's negative weights carry {_pct(neg, 1)} of its weight; {pre_en}{ri_en}."
    )
    facts = {
        "status": "ok",
        **{
            k: v[k]
            for k in (
                "trust",
                "reasons",
                "twfe",
                "robust",
                "robust_ci_low",
                "robust_ci_high",
                "gap",
                "gap_in_half_widths",
                "pretrend_p_value",
                "n",
                "n_clusters",
                "estimator",
                "control_group",
                "inference",
            )
        },
        "twfe_share_negative": neg,
    }
    if ri is not None:
        facts["randomization_p_value"] = float(ri.loc["callaway_santanna", "p_value"])
        facts["randomization_p_value_twfe"] = float(ri.loc["twfe", "p_value"])
        facts["randomization_assignments"] = int(ri["n_assignments"].max())
    return Finding(key, zh, en, lang, facts)


def update_effects(ltr_model: Any, complaint_model: Any = None, *, lang: Lang = "both") -> Finding:
    """What one more in-progress update is associated with, holding the controls fixed: the OLS
    slope of LTR and the negative-binomial complaint rate ratio, each with CI, n, direction and
    significance, and the claim "each extra update halves complaints" (H0: rate ratio = 0.5).

        >>> from cxlib import results
        >>> print(update_effects(results.not_provided("touchpoints"), lang="en").en)
        not provided: touchpoint log (touchpoints)
    """
    key = "update_effects"
    if isinstance(ltr_model, _Note):
        return from_note(key, ltr_model, lang=lang)
    facts: dict[str, Any] = {
        "status": "ok",
        "ltr_direction": None,
        "ltr_significant": None,
        "complaints_direction": None,
        "complaints_significant": None,
        "halves_claim": None,
    }
    zh_parts, en_parts = [], []
    if not ltr_model.ok or ltr_model.headline.empty:
        zr, er = _reason(ltr_model.note)
        zh_parts.append(f"推荐意愿的模型无法估计（{zr}）")
        en_parts.append(f"the LTR model was not estimated ({er})")
    else:
        h = ltr_model.headline.iloc[0]
        sig = _significant(h["p_value"])
        d = _direction(h["estimate"])
        szh, sen = _sig_words(sig, h["p_value"])
        wz = f"即更新{'提高' if d == 'up' else '降低'}推荐意愿" if sig else "更新与推荐意愿没有显著关系"
        we = (
            f"an update {'raises' if d == 'up' else 'lowers'} LTR"
            if sig
            else "no significant link between updates and LTR"
        )
        zh_parts.append(
            f"推荐意愿 {_num(h['estimate'], 2, True)} 分（95% 置信区间 {_ci(h['ci_low'], h['ci_high'], 2, 'zh')}，"
            f"{_n(ltr_model.n)}），{szh}，{wz}"
        )
        en_parts.append(
            f"LTR {_num(h['estimate'], 2, True)} points (95% CI {_ci(h['ci_low'], h['ci_high'], 2, 'en')}, "
            f"{_n(ltr_model.n)}), {sen}: {we}"
        )
        facts.update(
            ltr_slope=h["estimate"],
            ltr_ci_low=h["ci_low"],
            ltr_ci_high=h["ci_high"],
            ltr_p_value=h["p_value"],
            ltr_significant=sig,
            ltr_direction=d,
            ltr_n=int(ltr_model.n),
        )
    if isinstance(complaint_model, _Note):
        zh_parts.append(f"投诉：{from_note('x', complaint_model, lang='zh').zh}")
        en_parts.append(f"complaints: {from_note('x', complaint_model, lang='en').en}")
    elif complaint_model is not None:
        head = complaint_model.headline
        nb = None if head is None or "rate_ratio" not in head.columns else head.set_index("model")

        def usable(m: str) -> bool:
            return (
                nb is not None and m in nb.index and bool(nb.loc[m, "converged"]) and _finite(nb.loc[m, "rate_ratio"])
            )

        model = "nb2" if usable("nb2") else ("poisson" if usable("poisson") else None)
        if model is None or nb is None:
            zr, er = _reason(complaint_model.note)
            zh_parts.append(f"投诉模型无法估计（{zr}）")
            en_parts.append(f"the complaint model was not estimated ({er})")
        else:
            h = nb.loc[model]
            facts["complaint_model"] = model
            if model == "poisson":
                zh_parts.append("负二项模型未收敛（无过度离散），投诉按泊松模型（门店聚类稳健标准误）")
                en_parts.append(
                    "the negative-binomial model did not converge (no overdispersion), so complaints "
                    "come from the Poisson model with cluster-robust errors"
                )
            rr = float(h["rate_ratio"])
            sig = _significant(h["p_value"])
            d = _direction(rr, 1.0)
            szh, sen = _sig_words(sig, h["p_value"])
            change = abs(rr - 1) * 100
            if sig:
                wz = f"即每次更新使投诉率{'上升' if d == 'up' else '下降'} {_num(change)}%"
                we = f"each update {'raises' if d == 'up' else 'lowers'} the complaint rate by {_num(change)}%"
            else:
                wz, we = "更新与投诉率没有显著关系", "no significant link between updates and complaints"
            h0 = float(h.get("h0_rate_ratio", 0.5))
            p_half = h.get("p_value_h0")
            half_rejected = _significant(p_half)
            if half_rejected is None:
                hz, he, claim = (
                    "“每次更新投诉减半”无法检验",
                    '"each extra update halves complaints" cannot be tested',
                    None,
                )
            elif half_rejected:
                hz = f"“每次更新投诉减半”的说法不成立（率比与 {_num(h0, 1)} 差异显著，{_p(p_half)}）"
                he = (
                    f'the claim "each extra update halves complaints" is rejected (ratio ≠ {_num(h0, 1)}, {_p(p_half)})'
                )
                claim = "rejected"
            else:
                hz = f"“每次更新投诉减半”的说法不能被否定（率比与 {_num(h0, 1)} 差异不显著，{_p(p_half)}）"
                he = (
                    f'the claim "each extra update halves complaints" cannot be rejected (ratio vs {_num(h0, 1)}, '
                    f"{_p(p_half)})"
                )
                claim = "not_rejected"
            zh_parts.append(
                f"投诉率 ×{_num(rr, 2)}（95% 置信区间 {_ci(h['ci_low'], h['ci_high'], 2, 'zh')}，"
                f"{_n(h['n'])}），{szh}，{wz}；{hz}"
            )
            en_parts.append(
                f"complaint rate ×{_num(rr, 2)} (95% CI {_ci(h['ci_low'], h['ci_high'], 2, 'en')}, "
                f"{_n(h['n'])}), {sen}: {we}; {he}"
            )
            facts.update(
                complaint_rate_ratio=rr,
                complaint_ci_low=h["ci_low"],
                complaint_ci_high=h["ci_high"],
                complaint_p_value=h["p_value"],
                complaints_significant=sig,
                complaints_direction=d,
                halves_claim=claim,
                halves_p_value=p_half,
                complaint_n=int(h["n"]),
            )
    fallback = getattr(ltr_model, "fallback", "") or getattr(complaint_model, "fallback", "")
    zh = "每多一次进行中更新（控制其他因素后）：" + "；".join(zh_parts) + "。"
    en = "Per extra in-progress update, holding the controls fixed: " + "; ".join(en_parts) + "."
    if fallback:
        zh += "门店数不足，使用异方差稳健（HC1）标准误，未按门店聚类。"
        en += f" {fallback[:1].upper()}{fallback[1:]}."
        facts["fallback"] = fallback
    return Finding(key, zh, en, lang, facts)


def duration_confounding(result: Any, *, lang: Lang = "both", key: str = "duration_confounding") -> Finding:
    """How far holding repair duration fixed moves the per-update estimates (from the headline of
    ``models.duration_confounding``): naive and adjusted estimate with CI per outcome, and whether
    the naive one under- or overstates the benefit of updates.

        >>> from cxlib import results
        >>> print(duration_confounding(results.not_provided("complaints"), lang="en").en)
        not provided: complaints (complaints)
    """
    if isinstance(result, _Note):
        return from_note(key, result, lang=lang)
    head = result.headline
    facts: dict[str, Any] = {"status": "ok"}
    zh_parts, en_parts = [], []
    for outcome, zh_o, en_o in (("n_complaints", "投诉", "complaints"), ("ltr", "推荐意愿", "LTR")):
        part = head[head["outcome"] == outcome].set_index("estimate_type")
        if not {"naive", "adjusted"} <= set(part.index):
            continue
        nv, ad = part.loc["naive"], part.loc["adjusted"]
        if not (_finite(nv["estimate"]) and _finite(ad["estimate"])):
            zr, er = _reason(str(nv["note"] if not _finite(nv["estimate"]) else ad["note"]))
            zh_parts.append(f"{zh_o}：无法比较（{zr}）")
            en_parts.append(f"{en_o}: no comparison ({er})")
            facts[f"{outcome}_naive"] = None
            continue
        if outcome == "ltr":

            def fmt(r: pd.Series, lg: str) -> str:
                return (
                    f"{_num(r['estimate'], 2, True)}（{_ci(r['ci_low'], r['ci_high'], 2, lg)}）"
                    if lg == "zh"
                    else f"{_num(r['estimate'], 2, True)} ({_ci(r['ci_low'], r['ci_high'], 2, lg)})"
                )
        else:

            def fmt(r: pd.Series, lg: str) -> str:
                return (
                    f"×{_num(r['estimate'], 2)}（{_ci(r['ci_low'], r['ci_high'], 2, lg)}）"
                    if lg == "zh"
                    else f"×{_num(r['estimate'], 2)} ({_ci(r['ci_low'], r['ci_high'], 2, lg)})"
                )

        similar = (ad["ci_low"] <= nv["estimate"] <= ad["ci_high"]) and (
            nv["ci_low"] <= ad["estimate"] <= nv["ci_high"]
        )
        understates = nv["estimate"] > ad["estimate"] if outcome != "ltr" else nv["estimate"] < ad["estimate"]
        if similar:
            vz, ve, how = "估计几乎不变", "the estimate barely moves", "similar"
        else:
            vz = (
                "不控制时长的估计对更新更不利（长时间维修的影响被算到了更新上）"
                if understates
                else "不控制时长的估计对更新更有利"
            )
            ve = (
                "without the control the estimate is less favourable to updates (the harm of long repairs is "
                "charged to them)"
                if understates
                else "without the control the estimate is more favourable to updates"
            )
            how = "understates" if understates else "overstates"
        zh_parts.append(
            f"{zh_o}：不控制维修时长时每次更新 {fmt(nv, 'zh')}，控制后 {fmt(ad, 'zh')}（{_n(ad['n'])}），{vz}"
        )
        en_parts.append(
            f"{en_o}: {fmt(nv, 'en')} per update without the duration control, {fmt(ad, 'en')} with it "
            f"({_n(ad['n'])}); {ve}"
        )
        facts.update(
            {f"{outcome}_naive": nv["estimate"], f"{outcome}_adjusted": ad["estimate"], f"{outcome}_naive_is": how}
        )
    zh = "控制维修时长的影响（95% 置信区间）：" + "；".join(zh_parts) + "。"
    en = "Holding repair duration fixed (95% CI): " + "; ".join(en_parts) + "."
    if getattr(result, "fallback", ""):
        zh += "门店数不足，使用异方差稳健（HC1）标准误。"
        en += f" {result.fallback[:1].upper()}{result.fallback[1:]}."
    return Finding(key, zh, en, lang, facts)


# ================================================================================= 04
def _names(cases: Any) -> dict[str, tuple[str, str]]:
    if isinstance(cases, pd.DataFrame):
        return {str(r["id"]): (str(r["name_zh"]), str(r["name_en"])) for _, r in cases.iterrows()}
    return {c.id: (c.name_zh, c.name_en) for c in (cases or [])}


def _x(x: Any) -> str:
    """A ROI multiple: 6.5, 0.45, 20,000."""
    if not _finite(x):
        return "–"
    return _num(x, 0) if abs(float(x)) >= 100 else _num(x, 2)


def _wan(x: Any) -> str:
    return "–" if not _finite(x) else f"{_num(float(x) / 1e4, 1)}万元"


def _cny(x: Any) -> str:
    """Money in an English sentence: "CNY 2.32 m", "CNY 86k", "CNY 500" (万元 in a Chinese one)."""
    if not _finite(x):
        return "–"
    v = float(x)
    sign, a = ("−" if v < 0 else ""), abs(v)
    if a >= 1e6:
        return f"{sign}CNY {a / 1e6:.2f} m"
    if a >= 1e4:
        return f"{sign}CNY {a / 1e3:,.0f}k"
    return f"{sign}CNY {a:,.0f}"


def roi_cases(
    summary: pd.DataFrame | NotProvided | NotComputed, cases: Any = None, *, lang: Lang = "both", sure: float = 0.95
) -> Finding:
    """Which cases pay: from the Monte Carlo ``roi.roi_summary``, the cases that pay in at least
    ``sure`` of the draws (P(ROI > 0); P(NPV > 0) for a case that costs nothing), the bets, the ones
    that lose in at least ``sure`` of them, and the case with the highest mean NPV with its P5–P95.

        >>> s = pd.DataFrame({"id": ["a", "b"], "n_sims": [1000, 1000], "npv_mean": [5e4, -2e4], "npv_p5": [1e4, -3e4],
        ...     "npv_p95": [9e4, -1e4], "roi_p50": [1.5, -0.6], "p_roi_positive": [0.99, 0.01],
        ...     "p_npv_positive": [0.99, 0.01]})
        >>> roi_cases(s, pd.DataFrame({"id": ["a", "b"], "name_zh": ["甲", "乙"], "name_en": ["A", "B"]}), lang="en")["pays"]
        ['a']
    """
    key = "roi_cases"
    if isinstance(summary, _Note):
        return from_note(key, summary, lang=lang)
    names = _names(cases)
    rows = []
    for _, r in summary.iterrows():
        cost_free = not _finite(r["roi_p50"])
        p = float(r["p_npv_positive"] if cost_free and "p_npv_positive" in summary.columns else r["p_roi_positive"])
        rows.append((str(r["id"]), p, cost_free))
    pays = [(i, p, f) for i, p, f in rows if p >= sure]
    loses = [(i, p, f) for i, p, f in rows if p <= 1 - sure]
    bets = [(i, p, f) for i, p, f in rows if 1 - sure < p < sure]
    n_sims = int(summary["n_sims"].iloc[0]) if "n_sims" in summary.columns and len(summary) else 0

    def lst(items: list, lg: str, with_p: bool = False) -> str:
        """The cases' names (with their P(ROI > 0) for the bets, whose share is the point)."""
        if not items:
            return "无" if lg == "zh" else "none"
        k = 0 if lg == "zh" else 1
        return ("、" if lg == "zh" else ", ").join(
            names.get(i, (i, i))[k] + ((f"（{_pct(p)}）" if lg == "zh" else f" ({_pct(p)})") if with_p else "")
            for i, p, _ in items
        )

    best = summary.loc[summary["npv_mean"].astype(float).idxmax()] if len(summary) else None
    zh = (
        f"{n_sims:,} 次蒙特卡洛模拟（P(ROI>0)；无成本的方案看 P(净现值>0)）：{len(pays)} 个方案几乎肯定回本"
        f"（≥ {_pct(sure)}）：{lst(pays, 'zh')}；{len(bets)} 个结果不确定：{lst(bets, 'zh', True)}；"
        f"{len(loses)} 个几乎肯定亏损（≤ {_pct(1 - sure)}）：{lst(loses, 'zh')}。"
    )
    en = (
        f"Over {n_sims:,} Monte Carlo draws (P(ROI > 0); P(NPV > 0) for a case without cost), {len(pays)} "
        f"case{'s' if len(pays) != 1 else ''} pay in at least {_pct(sure)}: {lst(pays, 'en')}; {len(bets)} "
        f"{'are bets' if len(bets) != 1 else 'is a bet'}: {lst(bets, 'en', True)}; {len(loses)} lose in at least "
        f"{_pct(sure)}: {lst(loses, 'en')}."
    )
    if best is not None:
        bz, be = names.get(str(best["id"]), (best["id"], best["id"]))
        zh += f"平均净现值最高的是{bz}：{_wan(best['npv_mean'])}（P5–P95 {_wan(best['npv_p5'])} 至 {_wan(best['npv_p95'])}）。"
        en += f" Highest mean NPV: {be}, {_cny(best['npv_mean'])} (P5–P95 {_cny(best['npv_p5'])} to {_cny(best['npv_p95'])})."
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        n_sims=n_sims,
        pays=[i for i, *_ in pays],
        bets=[i for i, *_ in bets],
        loses=[i for i, *_ in loses],
        p_positive={i: p for i, p, _ in rows},
        best_npv=None if best is None else str(best["id"]),
    )


def claims(table: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", sure: float = 0.95) -> Finding:
    """Each claimed ROI (``roi.claims_table``) against the model: the claim, the modelled ROI at the
    modes, the Monte Carlo median with P5–P95 and P(ROI > 0), and the verdict: whether the case
    pays (``pays`` / ``uncertain`` / ``does_not_pay``) and whether the claim lies within the
    simulated P5–P95 (``claim_in_range``).

        >>> t = pd.DataFrame({"id": ["birthday_gift"], "name_zh": ["生日礼物"], "name_en": ["Birthday gift"],
        ...     "claimed_roi": [20000.0], "model_roi": [-0.4], "roi_p5": [-0.8], "roi_p50": [-0.4], "roi_p95": [0.1],
        ...     "p_roi_positive": [0.08]})
        >>> claims(t, lang="en")["verdicts"]
        {'birthday_gift': 'uncertain'}
    """
    key = "claims"
    if isinstance(table, _Note):
        return from_note(key, table, lang=lang)
    zh_parts, en_parts, verdicts, in_range = [], [], {}, {}
    for _, r in table.iterrows():
        p = float(r["p_roi_positive"])
        v = "pays" if p >= sure else ("does_not_pay" if p <= 1 - sure else "uncertain")
        inside = bool(float(r["roi_p5"]) <= float(r["claimed_roi"]) <= float(r["roi_p95"]))
        verdicts[str(r["id"])], in_range[str(r["id"])] = v, inside
        vz = {
            "pays": "按模型几乎肯定回本",
            "does_not_pay": "按模型几乎肯定不回本",
            "uncertain": "按模型能否回本不确定",
        }[v]
        ve = {
            "pays": "in the model it almost surely pays",
            "does_not_pay": "in the model it almost surely does not pay",
            "uncertain": "in the model it may or may not pay",
        }[v]
        rz = "声称的回报在模拟的 P5–P95 之内" if inside else "声称的回报远在模拟的 P5–P95 之外"
        re_ = "the claim lies within the simulated P5–P95" if inside else "the claim lies outside the simulated P5–P95"
        zh_parts.append(
            f"{r['name_zh']}：声称 ROI {_x(r['claimed_roi'])} 倍；模型在众数下 {_x(r['model_roi'])} 倍，"
            f"模拟中位数 {_x(r['roi_p50'])} 倍（P5–P95 {_ci(r['roi_p5'], r['roi_p95'], 2, 'zh')}），"
            f"P(ROI>0) = {_pct(p)}：{vz}，{rz}"
        )
        en_parts.append(
            f"{r['name_en']}: claimed ROI {_x(r['claimed_roi'])}×; the model gives {_x(r['model_roi'])}× at "
            f"the modes, median {_x(r['roi_p50'])}× (P5–P95 {_ci(r['roi_p5'], r['roi_p95'], 2, 'en')}), "
            f"P(ROI > 0) = {_pct(p)}: {ve}, and {re_}"
        )
    if not zh_parts:
        return _make(
            key, "没有声称 ROI 的方案。", "No case claims an ROI.", lang, status="ok", verdicts={}, claim_in_range={}
        )
    return _make(
        key,
        "。".join(zh_parts) + "。",
        ". ".join(en_parts) + ".",
        lang,
        status="ok",
        verdicts=verdicts,
        claim_in_range=in_range,
    )


def tornado(table: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", key: str | None = None) -> Finding:
    """The finding of a ``roi.tornado`` table: the NPV at the modes and the input that moves it most
    (``key``: default ``tornado_<case id>``).

        >>> t = pd.DataFrame({"id": ["x"], "name_zh": ["例"], "name_en": ["Ex"], "input": ["reach"], "npv_low": [-1e4],
        ...     "npv_high": [3e4], "npv_base": [1e4], "swing": [4e4]})
        >>> tornado(t, lang="en").en
        'Ex: NPV at the modes CNY 10k; it moves most with Customers reached a year (−CNY 10k to CNY 30k between its low and high).'
    """
    from cxlib.roi import input_label

    if isinstance(table, _Note):
        return from_note(key or "tornado", table, lang=lang)
    key = key or (f"tornado_{table['id'].iloc[0]}" if "id" in table.columns and len(table) else "tornado")
    if table.empty:
        return _make(key, "没有不确定的输入。", "No uncertain inputs.", lang, status="ok", top_input=None)
    r = table.iloc[0]
    zh_n = str(r["name_zh"]) if "name_zh" in table.columns else ""
    en_n = str(r["name_en"]) if "name_en" in table.columns else ""
    lo, hi = sorted((float(r["npv_low"]), float(r["npv_high"])))
    en = (
        f"{en_n}: NPV at the modes {_cny(r['npv_base'])}; it moves most with "
        f"{input_label(str(r['input']), lang='en')} ({_cny(lo)} to {_cny(hi)} between its low and high)."
    )
    zh = (
        f"{zh_n}：众数下净现值 {float(r['npv_base']) / 1e4:.2f}万元；对其影响最大的是"
        f"{input_label(str(r['input']), lang='zh')}（取低值到高值时净现值在 {lo / 1e4:.2f} 至 {hi / 1e4:.2f}万元之间）。"
    )
    return _make(
        key,
        zh,
        en,
        lang,
        status="ok",
        top_input=str(r["input"]),
        npv_base=r["npv_base"],
        npv_low=lo,
        npv_high=hi,
        crosses_zero=bool(lo < 0 < hi),
    )


def portfolio(
    table: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", key: str | None = None
) -> Finding:
    """One sentence on a ``roi.best_portfolio`` result: the chosen cases, total cost and value
    (``key``: default ``portfolio_<objective>``).

        >>> p = pd.DataFrame({"id": ["a"], "name_zh": ["甲"], "name_en": ["A"], "cost": [5e4], "value": [2e5],
        ...     "objective": ["npv"]}); p.attrs.update(total_cost=5e4, total_value=2e5, budget=5e4)
        >>> portfolio(p, lang="en").en
        'Budget CNY 50k: choose A; cost CNY 50k; expected NPV CNY 200k.'
    """
    from cxlib.errors import DataError

    if isinstance(table, _Note):
        return from_note(key or "portfolio", table, lang=lang)
    for k in ("total_cost", "total_value", "budget"):
        if k not in table.attrs:
            raise DataError(f"portfolio lacks attrs[{k!r}]: pass the result of best_portfolio", column=k)
    obj = str(table["objective"].iloc[0]) if len(table) else ""
    at = table.attrs
    names_zh = "、".join(table["name_zh"]) if len(table) else "无"
    names_en = " + ".join(table["name_en"]) if len(table) else "nothing"
    if obj == "satisfaction":
        val_en = f"satisfaction gain {at['total_value']:,.0f} NPS points × customers"
        val_zh = f"满意度提升 {at['total_value']:,.0f}（NPS点 × 客户数）"
    else:
        val_en = f"expected NPV {_cny(at['total_value'])}"
        val_zh = f"预期净现值 {at['total_value'] / 1e4:.2f}万元"
    en = f"Budget {_cny(at['budget'])}: choose {names_en}; cost {_cny(at['total_cost'])}; {val_en}."
    zh = f"预算 {at['budget'] / 1e4:.2f}万元：选择 {names_zh}；投入 {at['total_cost'] / 1e4:.2f}万元；{val_zh}。"
    return _make(
        key or f"portfolio_{obj or 'none'}",
        zh,
        en,
        lang,
        status="ok",
        chosen=[str(i) for i in table.get("id", [])],
        total_cost=at["total_cost"],
        total_value=at["total_value"],
        budget=at["budget"],
        objective=obj,
    )
