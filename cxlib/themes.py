"""What customers write: themes of survey comments and complaint texts, tied to the journey.

The texts are segmented with jieba (a tokenizer of its own with the CX user dictionary
:data:`cxlib.catalog.USER_WORDS`), once per distinct text, and the tokens are cached in the
processed folder (``comment_tokens.parquet``, keyed by the processed data's fingerprint). Each
text is then tagged with the themes of the lexicon :data:`cxlib.catalog.THEMES` (negation
handled: 没人通知 is "no progress information", 通知及时 its opposite), and an unsupervised pass
(TF-IDF + NMF, scikit-learn) proposes themes that the lexicon misses, with their top words, for
an analyst to promote into the lexicon.

    >>> tag(["等了三个小时也没人通知，不知道修到哪一步了", "进度推送很及时，还有照片"]).columns[:3].tolist()
    ['booking_hassle', 'advisor_attitude', 'advisor_professional']
    >>> themes_of("等了三个小时也没人通知，不知道修到哪一步了")
    ['long_wait', 'no_progress_info']
    >>> themes_of("没有乱收费，价格透明"), themes_of("也没有推销")
    (['price_clear'], [])

Tables take the comment frame of :func:`comment_themes` (one row per comment, one yes/no column
per theme): :func:`theme_share` (share of comments with n and Wilson interval, by any column),
:func:`share_cells` (the same as "share (CI)" cells for :func:`cxlib.present.pivot`),
:func:`ltr_gap` (mean LTR of comments with and without a theme, Welch interval),
:func:`top_themes`, :func:`verbatims` (a few representative comments per theme, never one
holding personal data), :func:`plot_theme_map` (the themes under their touchpoints on the
journey). :func:`complaint_themes` does the same for complaint texts.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from cxlib import catalog, privacy
from cxlib.catalog import Lang
from cxlib.errors import DataError, require_columns
from cxlib.results import NotComputed, NotProvided, missing, not_provided, too_few, unavailable
from cxlib.stats import wilson_ci

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CACHE_FILE",
    "SEGMENTATION_VERSION",
    "normalise",
    "segment",
    "cached_tokens",
    "tag",
    "themes_of",
    "explain",
    "comment_themes",
    "complaint_themes",
    "theme_share",
    "coverage",
    "share_cells",
    "ltr_gap",
    "top_themes",
    "verbatims",
    "quotable",
    "propose_themes",
    "plot_theme_map",
    "lexicon_table",
    "finding_themes",
    "finding_ltr_gap",
    "finding_complaints",
    "finding_top_detractor_themes",
    "results_entries",
]

#: The token cache in the processed folder.
CACHE_FILE = "comment_tokens.parquet"
#: Bumped when the segmentation changes (tokenizer settings, normalisation): older caches are rebuilt.
SEGMENTATION_VERSION = 1
#: Between the tokens of a text in the cache (a character no text holds after normalisation).
SEP = "\x1f"
_PUNCT = re.compile(r"^[\s\W_]+$")
_CLAUSE_END = frozenset("，,。.！!？?；;、~～…:：()（）[]【】\"'“”‘’\n\t ")
_ALL_PUNCT = re.compile("^[" + re.escape("".join(sorted(_CLAUSE_END))) + "]+$")
_SCOPE_BREAK = frozenset(("就", "才", "又", "却", "还是", "结果", "然后", "之后", "以后", "后来", "所以"))
_NEG_CHARS = ("不", "没", "无", "未", "别")
#: Tokens left out of the unsupervised pass (function words, the masking placeholders).
STOPWORDS: frozenset[str] = frozenset(
    (
        "的",
        "了",
        "是",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "她",
        "他们",
        "很",
        "也",
        "就",
        "都",
        "还",
        "在",
        "有",
        "和",
        "与",
        "吧",
        "啊",
        "呢",
        "吗",
        "呀",
        "哦",
        "嗯",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "一下",
        "一点",
        "什么",
        "怎么",
        "可以",
        "能",
        "会",
        "要",
        "把",
        "被",
        "给",
        "让",
        "对",
        "说",
        "去",
        "来",
        "到",
        "又",
        "再",
        "才",
        "而且",
        "但是",
        "但",
        "不过",
        "因为",
        "所以",
        "然后",
        "还是",
        "非常",
        "比较",
        "有点",
        "太",
        "真",
        "挺",
        "特别",
        "已经",
        "时候",
        "今天",
        "这次",
        "一次",
        "次",
        "个",
        "车",
        "手机号",
        "车牌号",
        "车牌",
        "身份证号",
        "身份证",
        "银行卡号",
        "银行卡",
        "电话",
        "邮箱",
        "先生",
        "女士",
        "小姐",
    )
)
log = logging.getLogger(__name__)


# ============================================================================ segmentation
def normalise(text: Any) -> str:
    """A text as the lexicon reads it: NFKC (full-width letters and digits as ASCII), lower case,
    runs of white space as one space, the token separator removed; missing as "".

        >>> normalise("  ＡＰＰ 推送　很及时 "), normalise(None)
        ('app 推送 很及时', '')
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    t = unicodedata.normalize("NFKC", str(text)).replace(SEP, " ").lower()
    return re.sub(r"\s+", " ", t).strip()


@functools.lru_cache(maxsize=1)
def _tokenizer():
    """The jieba tokenizer of the workbench: jieba's dictionary plus :data:`catalog.USER_WORDS`,
    its log quiet (jieba reports its dictionary loading on stderr)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in catalog.USER_WORDS:
        tk.add_word(w)
    for seg in catalog.USER_SPLITS:
        tk.suggest_freq(seg, tune=True)
    return tk


def _dictionary_key() -> str:
    """What the tokens depend on: the segmentation version, jieba's version and the user words."""
    import jieba

    text = json.dumps(
        [SEGMENTATION_VERSION, jieba.__version__, list(catalog.USER_WORDS), list(catalog.USER_SPLITS)],
        ensure_ascii=False,
    )
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def segment(texts: Iterable[Any]) -> list[str]:
    """The tokens of each text (normalised first), joined by :data:`SEP`, jieba's precise mode
    with HMM for unknown words: the tokens put together give the normalised text back.

        >>> [t.split(SEP) for t in segment(["没人通知进度"])]
        [['没人', '通知', '进度']]
    """
    tk = _tokenizer()
    return [SEP.join(tk.lcut(t)) if t else "" for t in (normalise(x) for x in texts)]


def _fingerprint(processed_dir: Path) -> str | None:
    try:
        manifest = json.loads((processed_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fp = manifest.get("fingerprint") if isinstance(manifest, dict) else None
    return str(fp) if fp else None


def cached_tokens(
    texts: pd.Series, *, processed_dir: str | os.PathLike[str] | None = None, fingerprint: str | None = None
) -> pd.Series:
    """The tokens of each text (:func:`segment`), read from the cache of the processed folder
    where it has them; the texts it lacks are segmented and added to it.

    The cache (:data:`CACHE_FILE`, one row per distinct normalised text) belongs to the processed
    data with ``fingerprint`` (default: the one of ``processed_dir/manifest.json``) and to this
    segmentation (version, jieba's version, user dictionary): when either differs it is rebuilt.
    It is written atomically (a temporary file in the folder, then renamed), and not at all when
    the folder is read-only or ``processed_dir`` is None.

        >>> cached_tokens(pd.Series(["等了很久"]), processed_dir=None).tolist()
        ['等\\x1f了\\x1f很\\x1f久']
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    norm = pd.Series([normalise(x) for x in texts], index=texts.index, dtype="str")
    codes, uniq = pd.factorize(norm, sort=False)
    uniq = pd.Index(uniq, dtype="str")
    known: dict[str, str] = {}
    path = Path(processed_dir) / CACHE_FILE if processed_dir is not None else None
    fp = fingerprint or (_fingerprint(Path(processed_dir)) if processed_dir is not None else None)
    key = _dictionary_key()
    old = None
    if path is not None and path.is_file() and fp:
        try:
            meta = pq.read_schema(path).metadata or {}
            if meta.get(b"fingerprint", b"").decode() == fp and meta.get(b"segmentation", b"").decode() == key:
                old = pq.read_table(path)
        except (OSError, pa.ArrowException):
            old = None  # a cache that cannot be read is rebuilt
    if old is not None:
        cache = pd.Series(old.column("tokens").to_pylist(), index=old.column("text").to_pylist())
        hit = uniq.isin(cache.index)
        known = dict(zip(uniq[hit], cache.loc[uniq[hit]].tolist()))
    todo = [t for t in uniq if t not in known]
    if todo:
        known.update(zip(todo, segment(todo)))
        if path is not None and fp and os.access(path.parent, os.W_OK):
            allt = (old.column("text").to_pylist() if old is not None else []) + todo
            allk = (old.column("tokens").to_pylist() if old is not None else []) + [known[t] for t in todo]
            table = pa.table({"text": pa.array(allt, pa.string()), "tokens": pa.array(allk, pa.string())})
            table = table.replace_schema_metadata({"fingerprint": fp, "segmentation": key})
            fd, tmp = tempfile.mkstemp(prefix=".comment_tokens.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            try:
                pq.write_table(table, tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    values = np.array([known[t] for t in uniq], dtype=object)
    return pd.Series(values[codes] if len(codes) else [], index=texts.index, dtype="str")


# ================================================================================ tagging
@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[list[re.Pattern | None], list[re.Pattern | None], list[int], re.Pattern]:
    trig = [re.compile("|".join(f"(?:{p})" for p in t.triggers)) if t.triggers else None for t in catalog.THEMES]
    cue = [re.compile("|".join(f"(?:{p})" for p in t.negated)) if t.negated else None for t in catalog.THEMES]
    opp = [catalog.THEME_CODES.index(t.opposite) if t.opposite else -1 for t in catalog.THEMES]
    anything = re.compile("|".join(f"(?:{p})" for t in catalog.THEMES for p in (*t.triggers, *t.negated)))
    return trig, cue, opp, anything


class _Text:
    """One normalised text with its tokens: where each token starts, which clause it is in."""

    __slots__ = ("text", "tokens", "starts", "clause")

    def __init__(self, text: str, tokens: list[str]) -> None:
        self.text = text
        self.tokens = tokens
        self.starts = []
        self.clause = []
        pos, c = 0, 0
        for tok in tokens:
            self.starts.append(pos)
            pos += len(tok)
            end = (
                tok in _CLAUSE_END
                or tok in catalog.CONTRAST_WORDS
                or (len(tok) > 1 and _ALL_PUNCT.match(tok) is not None)
            )
            if end:
                c += 1
            self.clause.append(c)
            if end:
                c += 1

    def token_at(self, pos: int) -> int:
        return max(bisect.bisect_right(self.starts, pos) - 1, 0)

    def negated_before(self, pos: int) -> bool:
        """A negator reaches the match starting at ``pos`` (its own token's start, or up to
        :data:`catalog.NEGATION_WINDOW` tokens before it in the clause)."""
        k = self.token_at(pos)
        prefix = self.tokens[k][: pos - self.starts[k]] if self.tokens else ""
        if prefix and (prefix in catalog.NEGATORS or prefix.endswith(_NEG_CHARS)):
            return True
        for j in range(k - 1, max(k - 1 - catalog.NEGATION_WINDOW, -1), -1):
            if self.clause[j] != self.clause[k] or self.tokens[j] in _SCOPE_BREAK:
                return False
            if self.tokens[j] in catalog.NEGATORS:
                return True
        return False

    def negated_after(self, end: int, final: bool = False) -> bool:
        """A negator of :data:`catalog.POST_NEGATORS` within the three tokens after ``end``;
        with ``final``, only one that ends the clause (送别环节 *也没有*)."""
        k = self.token_at(max(end - 1, 0))
        rest = self.tokens[k][end - self.starts[k] :] if self.tokens else ""
        if rest and rest.startswith(_NEG_CHARS[:2]) and not final:
            return True
        for j in range(k + 1, min(k + 4, len(self.tokens))):
            if self.clause[j] != self.clause[k]:
                return False
            if self.tokens[j] in catalog.POST_NEGATORS and (
                not final or j + 1 == len(self.tokens) or self.clause[j + 1] != self.clause[j]
            ):
                return True
        return False

    def at_token_start(self, pos: int) -> bool:
        k = self.token_at(pos)
        prefix = self.tokens[k][: pos - self.starts[k]] if self.tokens else ""
        return not prefix or prefix in catalog.NEGATORS or prefix.endswith(_NEG_CHARS)


def _matches(text: str, tokens: str) -> list[tuple[int, str, str, bool]]:
    """Every lexicon hit of one normalised text: (theme index, matched text, kind, negated);
    kind is ``trigger`` or ``cue``."""
    trig, cue, _, anything = _patterns()
    if not text or anything.search(text) is None:
        return []
    t = _Text(text, tokens.split(SEP) if tokens else [text])
    out = []
    for i in range(len(catalog.THEMES)):
        tp, cp = trig[i], cue[i]
        if tp is not None:
            for m in tp.finditer(text):
                out.append(
                    (i, m.group(0), "trigger", t.negated_before(m.start()) or t.negated_after(m.end(), final=True))
                )
        if cp is not None:
            for m in cp.finditer(text):
                if t.at_token_start(m.start()):
                    out.append((i, m.group(0), "cue", t.negated_before(m.start()) or t.negated_after(m.end())))
    return out


def _tag_one(text: str, tokens: str) -> np.ndarray:
    _, _, opp, _ = _patterns()
    row = np.zeros(len(catalog.THEMES), dtype=bool)
    for i, _m, kind, neg in _matches(text, tokens):
        if kind == "trigger":
            if not neg:
                row[i] = True
            elif opp[i] >= 0:
                row[opp[i]] = True
        elif neg:
            row[i] = True
    return row


def tag(texts: Sequence[Any] | pd.Series, tokens: pd.Series | None = None) -> pd.DataFrame:
    """One row per text (same index), one yes/no column per theme of the lexicon (catalog order).

    ``tokens`` are the texts' tokens from :func:`cached_tokens` (segmented here when not given).
    Each distinct text is tagged once.

        >>> tag(["休息区很舒服，有咖啡"])[["environment_good", "environment_poor"]].iloc[0].tolist()
        [True, False]
    """
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    toks = tokens if tokens is not None else cached_tokens(s, processed_dir=None)
    norm = [normalise(x) for x in s]
    codes, uniq = pd.factorize(pd.Series(norm, dtype="str"), sort=False)
    first: dict[int, int] = {}
    for i, c in enumerate(codes):
        first.setdefault(c, i)
    tv = toks.tolist()
    texts = uniq.tolist()
    rows = np.zeros((len(texts), len(catalog.THEMES)), dtype=bool)
    for c, text in enumerate(texts):
        rows[c] = _tag_one(text, tv[first[c]])
    out = rows[codes] if len(codes) else np.zeros((0, len(catalog.THEMES)), dtype=bool)
    return pd.DataFrame(out, index=s.index, columns=list(catalog.THEME_CODES))


def themes_of(text: str) -> list[str]:
    """The theme codes of one text, catalog order.

    >>> themes_of("交车的时候一直推销贴膜和延保"), themes_of("通知不及时")
    (['hard_sell'], ['no_progress_info'])
    """
    row = tag([text]).iloc[0]
    return [c for c in catalog.THEME_CODES if bool(row[c])]


def explain(text: str) -> pd.DataFrame:
    """Why a text carries its themes: each lexicon hit with the theme it signals, for an analyst
    checking the lexicon on a comment.

        >>> explain("没有及时通知")[["theme", "match", "kind", "negated", "signals"]].values.tolist()
        [['no_progress_info', '通知', 'cue', True, 'no_progress_info'], ['progress_informed', '及时通知', 'trigger', True, 'no_progress_info']]
    """
    _, _, opp, _ = _patterns()
    norm = normalise(text)
    rows = []
    for i, m, kind, neg in _matches(norm, segment([norm])[0]):
        code = catalog.THEME_CODES[i]
        if kind == "trigger":
            sig = catalog.THEME_CODES[opp[i]] if neg and opp[i] >= 0 else (None if neg else code)
        else:
            sig = code if neg else None
        rows.append((code, m, kind, neg, sig))
    return (
        pd.DataFrame(rows, columns=["theme", "match", "kind", "negated", "signals"])
        .sort_values(["theme", "match"], kind="stable")
        .reset_index(drop=True)
    )


# =========================================================================== comment frames
def _text_column(df: pd.DataFrame, table: str) -> str | None:
    return next((c for c in catalog.TEXT_COLUMNS[table] if c in df.columns), None)


def _frame(df: pd.DataFrame, id_col: str, text_col: str, data: Any, processed_dir: Any) -> pd.DataFrame:
    """The non-empty texts of ``df`` with their visit's segments and one column per theme."""
    keep = df[text_col].notna() & (df[text_col].astype("str").str.strip() != "")
    d = df[keep.to_numpy()].reset_index(drop=True)
    v = data.visits
    seg = [c for c in ("center", "month", "scenario", "tier") if c in v.columns]
    if seg:
        look = v[["visit_id", *seg]].drop_duplicates("visit_id")
        d = d.drop(columns=[c for c in seg if c in d.columns]).merge(look, on="visit_id", how="left", sort=False)
    fp = (getattr(data, "quality", None) or {}).get("fingerprint")
    if processed_dir is not None:
        fp = _fingerprint(Path(processed_dir)) or fp
    toks = cached_tokens(d[text_col], processed_dir=processed_dir, fingerprint=fp)
    hits = tag(d[text_col], toks)
    cols = [
        c
        for c in (id_col, "visit_id", *seg, "channel", "nps_group", "ltr", "submitted_at", "filed_at")
        if c in d.columns
    ]
    out = d[cols].copy()
    out["text"] = d[text_col].astype("str").to_numpy()
    out["tokens"] = toks.to_numpy()
    out["n_themes"] = hits.sum(axis=1).astype("int64").to_numpy()
    for c in catalog.THEME_CODES:
        out[c] = hits[c].to_numpy()
    return out


def comment_themes(
    data: Any, *, processed_dir: str | os.PathLike[str] | None = None, lang: Lang = "both"
) -> pd.DataFrame | NotComputed:
    """One row per survey response with a comment: ``response_id``, ``visit_id``, the visit's
    ``center``, ``month``, ``scenario``, ``tier``, the response's ``nps_group`` and ``ltr``,
    ``text`` (masked by the cleaning step), ``tokens``, ``n_themes`` and one yes/no column per
    theme. ``data`` is :func:`cxlib.clean.load`'s; the tokens are cached in ``processed_dir``.
    A selection without a single comment (a survey export without the comment question, a
    small center-month) gives the :class:`~cxlib.results.NotComputed` note "n = 0 comments".

        >>> comments = comment_themes(data, processed_dir="../data/processed")  # doctest: +SKIP
    """
    s = data.surveys
    col = _text_column(s, "surveys")
    require_columns(s, ["response_id", "visit_id"], "surveys")
    if col is None or not (s[col].notna() & (s[col].astype("str").str.strip() != "")).any():
        return too_few(0, 1, ("评价主题分析", "the theme analysis"), unit=("条评价", "comments"), lang=lang)
    return _frame(s, "response_id", col, data, processed_dir)


def complaint_themes(
    data: Any, *, processed_dir: str | os.PathLike[str] | None = None, lang: Lang = "both"
) -> pd.DataFrame | NotProvided:
    """One row per complaint with a text: ``complaint_id``, ``visit_id``, the visit's segments,
    ``channel``, ``text``, ``n_themes`` and one yes/no column per theme; a "not provided" note
    when the raw folder held no complaints, or complaints without a text column (投诉内容: the
    names of :data:`cxlib.catalog.TEXT_COLUMNS`).

        >>> complaint_themes(data, processed_dir="../data/processed")  # doctest: +SKIP
    """
    note = missing(data, "complaints", lang=lang)
    if note is not None:
        return note
    c = data.complaints
    col = _text_column(c, "complaints")
    if col is None or not c[col].notna().any():
        return not_provided("complaint_text", lang=lang)
    return _frame(c, "complaint_id", col, data, processed_dir)


# ================================================================================== tables
def _themes(themes: Sequence[str] | None) -> list[str]:
    return list(catalog.THEME_CODES) if themes is None else [t for t in catalog.THEME_CODES if t in set(themes)]


def theme_share(
    comments: pd.DataFrame, by: str | None = None, *, themes: Sequence[str] | None = None, ci: float = 0.95
) -> pd.DataFrame:
    """Share of comments that mention each theme, per ``by`` group when given: ``n`` (comments in
    the group), ``hits``, ``theme_share`` and its Wilson interval ``ci_low`` / ``ci_high``, with
    the theme's ``stage`` and ``polarity``; catalog order of the themes.

        >>> c = pd.DataFrame({"nps_group": ["detractor", "detractor", "promoter"],
        ...                   **{t: [False] * 3 for t in catalog.THEME_CODES}})
        >>> c.loc[0, "long_wait"] = True
        >>> r = theme_share(c, by="nps_group", themes=["long_wait"])
        >>> r[["nps_group", "n", "hits", "theme_share"]].values.tolist()
        [['detractor', 2, 1, 0.5], ['promoter', 1, 0, 0.0]]
    """
    codes = _themes(themes)
    require_columns(comments, codes + ([by] if by else []), "comments")
    if by is None:
        groups = [(None, comments)]
    else:
        groups = [(g, sub) for g, sub in comments.groupby(by, observed=True, sort=True, dropna=True)]
    rows = []
    for g, sub in groups:
        n = len(sub)
        for t in codes:
            k = int(sub[t].sum())
            rows.append(
                {
                    **({by: g} if by else {}),
                    "theme": t,
                    "stage": catalog.THEMES_BY_CODE[t].stage,
                    "polarity": catalog.THEMES_BY_CODE[t].polarity,
                    "n": n,
                    "hits": k,
                }
            )
    cols = ([by] if by else []) + ["theme", "stage", "polarity", "n", "hits", "theme_share", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c not in ("theme_share", "ci_low", "ci_high")])
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["n"] = out["n"].astype("int64")
    out["hits"] = out["hits"].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["theme_share"] = np.where(out["n"] > 0, out["hits"] / out["n"].where(out["n"] > 0, 1), np.nan)
    out["ci_low"], out["ci_high"] = wilson_ci(out["hits"].to_numpy(), out["n"].to_numpy(), ci=ci)
    if by and isinstance(comments[by].dtype, pd.CategoricalDtype):
        out[by] = pd.Categorical(out[by], categories=comments[by].cat.categories, ordered=comments[by].cat.ordered)
    return out[cols]


def coverage(comments: pd.DataFrame, by: str | None = None, *, ci: float = 0.95) -> pd.DataFrame:
    """How many comments the lexicon reads: ``n_comments``, ``hits`` (comments with at least one
    theme), their ``theme_share`` with its Wilson interval (per ``by`` group when given).

        >>> coverage(pd.DataFrame({"n_themes": [0, 1, 2, 0]}))[["n_comments", "hits", "theme_share"]].values.tolist()
        [[4.0, 2.0, 0.5]]
    """
    require_columns(comments, ["n_themes"] + ([by] if by else []), "comments")
    groups = [(None, comments)] if by is None else list(comments.groupby(by, observed=True, sort=True))
    rows = [
        {**({by: g} if by else {}), "n_comments": len(sub), "hits": int((sub["n_themes"] > 0).sum())}
        for g, sub in groups
    ]
    out = pd.DataFrame(rows, columns=([by] if by else []) + ["n_comments", "hits"])
    out["n_comments"] = out["n_comments"].astype("int64")
    out["hits"] = out["hits"].astype("int64")
    out["theme_share"] = out["hits"] / out["n_comments"].where(out["n_comments"] > 0)
    out["ci_low"], out["ci_high"] = wilson_ci(out["hits"].to_numpy(), out["n_comments"].to_numpy(), ci=ci)
    return out


def share_cells(shares: pd.DataFrame, *, lang: Lang = "both") -> pd.DataFrame:
    """:func:`theme_share` with the share and its interval written in one text column
    ``theme_share_ci`` ("32.1 (28.0–36.5)"), for :func:`cxlib.present.pivot` (which adds each
    cell's n and flags small ones).

        >>> s = pd.DataFrame({"theme": ["long_wait"], "n": [40], "theme_share": [0.25], "ci_low": [0.14],
        ...                   "ci_high": [0.4]})
        >>> share_cells(s)["theme_share_ci"].tolist()
        ['25.0 (14.0–40.0)']
    """
    from cxlib import present

    out = shares.copy()
    out["theme_share_ci"] = [
        present.MISSING
        if not np.isfinite(v)
        else f"{present.format_value(v, 'share', lang=lang)} "
        f"({present.interval_text(present.format_value(lo, 'share', lang=lang), present.format_value(hi, 'share', lang=lang))})"
        for v, lo, hi in zip(
            out["theme_share"].astype(float), out["ci_low"].astype(float), out["ci_high"].astype(float)
        )
    ]
    return out


def ltr_gap(
    comments: pd.DataFrame, *, themes: Sequence[str] | None = None, ci: float = 0.95, min_n: int = 2
) -> pd.DataFrame:
    """The LTR of customers whose comment mentions each theme against those whose comment does not:
    ``n_with``, ``ltr_with``, ``n_without``, ``ltr_without``, ``ltr_gap`` (with − without) and its
    Welch t interval ``ltr_gap_ci_low`` / ``ltr_gap_ci_high``, ``p_value``; comments without an
    LTR are left out; NaN where a side has fewer than ``min_n`` answers. An association, not an
    effect: a theme travels with the visit that caused it.

        >>> c = pd.DataFrame({"ltr": [2, 3, 4, 9, 10, 8], **{t: [False] * 6 for t in catalog.THEME_CODES}})
        >>> c.loc[:2, "long_wait"] = True
        >>> r = ltr_gap(c, themes=["long_wait"]).iloc[0]
        >>> float(r["ltr_gap"]), int(r["n_with"]), round(float(r["ltr_gap_ci_low"]), 2)
        (-6.0, 3, -8.27)
    """
    codes = _themes(themes)
    require_columns(comments, codes + ["ltr"], "comments")
    c = comments[pd.to_numeric(comments["ltr"], errors="coerce").notna()]
    y = pd.to_numeric(c["ltr"], errors="coerce").astype(float).to_numpy()
    rows = []
    for t in codes:
        m = c[t].to_numpy(dtype=bool)
        a, b = y[m], y[~m]
        na, nb = a.size, b.size
        ma = float(a.mean()) if na else np.nan
        mb = float(b.mean()) if nb else np.nan
        gap = lo = hi = p = np.nan
        if na >= min_n and nb >= min_n:
            va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
            gap = ma - mb
            se = math.sqrt(va + vb)
            if se > 0:
                df = (va + vb) ** 2 / ((va**2) / (na - 1) + (vb**2) / (nb - 1))
                q = float(sps.t.ppf((1 + ci) / 2, df))
                lo, hi = gap - q * se, gap + q * se
                p = float(2 * sps.t.sf(abs(gap) / se, df))
            else:
                lo = hi = gap
                p = 1.0 if gap == 0 else 0.0
        rows.append(
            {
                "theme": t,
                "stage": catalog.THEMES_BY_CODE[t].stage,
                "polarity": catalog.THEMES_BY_CODE[t].polarity,
                "n_with": na,
                "ltr_with": ma,
                "n_without": nb,
                "ltr_without": mb,
                "ltr_gap": gap,
                "ltr_gap_ci_low": max(lo, -10.0) if np.isfinite(lo) else lo,
                "ltr_gap_ci_high": min(hi, 10.0) if np.isfinite(hi) else hi,
                "p_value": p,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "theme",
            "stage",
            "polarity",
            "n_with",
            "ltr_with",
            "n_without",
            "ltr_without",
            "ltr_gap",
            "ltr_gap_ci_low",
            "ltr_gap_ci_high",
            "p_value",
        ],
    )
    return out.astype({"n_with": "int64", "n_without": "int64"})


def top_themes(
    comments: pd.DataFrame | NotComputed,
    *,
    group: str | None = "detractor",
    k: int = 3,
    by: str = "nps_group",
    polarity: str | None = "negative",
) -> pd.DataFrame | NotComputed:
    """The ``k`` themes most often mentioned in the comments of ``group`` (a value of ``by``; None:
    all comments), of ``polarity`` (None: both), most mentioned first (ties in catalog order); rows
    with no mention are left out. Columns as :func:`theme_share`, plus ``rank``. A note given for
    ``comments``, or a group without a comment, gives a :class:`~cxlib.results.NotComputed` note.

        >>> c = pd.DataFrame({"nps_group": ["detractor"] * 3, **{t: [False] * 3 for t in catalog.THEME_CODES}})
        >>> c.loc[:1, "hard_sell"] = True; c.loc[0, "long_wait"] = True
        >>> top_themes(c)["theme"].tolist()
        ['hard_sell', 'long_wait']
    """
    note = unavailable(comments)
    if note is not None:
        return note
    assert isinstance(comments, pd.DataFrame)
    sub = comments if group is None else comments[(comments[by].astype("str") == str(group)).to_numpy()]
    if sub.empty:
        what = (
            catalog.label(str(group), lang="zh") if group is not None else "全部",
            catalog.label(str(group), lang="en").lower() + "s" if group is not None else "all",
        )
        return too_few(
            0, 1, (f"{what[0]}的评价主题", f"the themes of {what[1]}' comments"), unit=("条评价", "comments")
        )
    codes = [t.code for t in catalog.THEMES if polarity is None or t.polarity == polarity]
    s = theme_share(sub, themes=codes)
    if s.empty:
        return s.assign(rank=pd.Series(dtype="int64"))
    s = s[s["hits"] > 0]
    s = (
        s.assign(_o=[catalog.THEME_CODES.index(t) for t in s["theme"]])
        .sort_values(["hits", "_o"], ascending=[False, True], kind="stable")
        .drop(columns="_o")
        .head(k)
        .reset_index(drop=True)
    )
    s.insert(0, "rank", np.arange(1, len(s) + 1, dtype=np.int64))
    return s


_STAFF_NAME = re.compile(
    "(?:(?:[" + "".join(sorted(privacy.SURNAMES)) + "])(?:师傅|经理|顾问|工|总|姐|哥|老师|主管|店长|专员|技师))|"
    "(?:(?:小|老|阿)[" + "".join(sorted(privacy.SURNAMES)) + "])(?![a-z0-9])|"
    "(?:(?:顾问|技师|师傅|经理|店长|专员|客服|销售|前台)["
    + "".join(sorted(privacy.SURNAMES))
    + "][\u4e00-\u9fff]{1,2}(?=[很人对也都说态服帮给真太非，,。!！]))"
)
#: seven digits or more, however separated: no comment with such a number is quoted, personal data or not
_LONG_NUMBER = re.compile(r"\d(?:[\s\-–—.·/()]*\d){6,}")
_PLACEHOLDER = re.compile(
    "|".join(re.escape(p) for p in privacy.PLACEHOLDERS.values() if p != "*") + r"|\*(?:先生|女士|小姐)"
)


def quotable(text: Any) -> bool:
    """Whether a comment may be shown as a verbatim: it has text, nothing for
    :func:`cxlib.privacy.mask` to mask, no placeholder of masked personal data ([手机号], *先生),
    and no name of staff or customer as Chinese writes one (李师傅, 小王, 顾问王伟很…): a comment
    that ever held personal data is not quoted, masked or not; nor one with a number of seven
    digits or more (an order, a card, an id the masking does not know).

        >>> quotable("等了很久没人通知"), quotable("请打我电话[手机号]"), quotable("李师傅态度很差")
        (True, False, False)
        >>> quotable("电话13912345678"), quotable("顾问王伟很耐心"), quotable("顾问很耐心")
        (False, False, True)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return False
    t = str(text)
    if (
        not t.strip()
        or _PLACEHOLDER.search(t)
        or _STAFF_NAME.search(t)
        or _LONG_NUMBER.search(unicodedata.normalize("NFKC", t))
    ):
        return False
    return privacy.mask(t) == t


def verbatims(
    comments: pd.DataFrame, *, n: int = 3, themes: Sequence[str] | None = None, max_len: int = 80
) -> pd.DataFrame:
    """A few representative comments per theme: ``theme``, ``hits`` (comments that mention it) and
    ``verbatims`` (up to ``n`` distinct texts). Only :func:`quotable` comments are shown, at most
    ``max_len`` characters; those about this theme alone come first, then the ones closest to the
    typical length of the theme's comments (ties by text), so the choice is the same on every run.
    Themes without a mention are left out.

        >>> c = pd.DataFrame({"text": ["等太久了", "等太久了，电话[手机号]", "等了三个小时"],
        ...                   **{t: [False] * 3 for t in catalog.THEME_CODES}})
        >>> c["long_wait"] = True; c["n_themes"] = 1
        >>> verbatims(c)[["theme", "hits", "verbatims"]].values.tolist()
        [['long_wait', 3, ['等了三个小时', '等太久了']]]
    """
    codes = _themes(themes)
    require_columns(comments, codes + ["text"], "comments")
    nt = comments["n_themes"] if "n_themes" in comments.columns else comments[codes].sum(axis=1)
    ok: dict[str, bool] = {}  # each distinct text is checked once

    def shown(x: str) -> bool:
        if x not in ok:
            ok[x] = len(x) <= max_len and quotable(x)
        return ok[x]

    texts = comments["text"].astype("str").to_numpy()
    ntv = np.asarray(nt)
    rows = []
    for t in codes:
        idx = np.flatnonzero(comments[t].to_numpy(dtype=bool))
        if not idx.size:
            continue
        first: dict[str, int] = {}
        for i in idx:
            first.setdefault(texts[i], int(ntv[i]))
        cand = [(k, x) for x, k in first.items() if shown(x)]
        typical = float(np.median([len(x) for _, x in cand])) if cand else 0.0
        cand.sort(key=lambda kx: (kx[0], abs(len(kx[1]) - typical), kx[1]))
        rows.append({"theme": t, "hits": int(idx.size), "verbatims": [x for _, x in cand[:n]]})
    return pd.DataFrame(rows, columns=["theme", "hits", "verbatims"]).astype({"hits": "int64"})


# ======================================================================== unsupervised pass
def propose_themes(
    comments: pd.DataFrame,
    *,
    k: int = 6,
    n_words: int = 8,
    untagged_only: bool = True,
    min_df: int = 3,
    seed: int = 0,
    strict: bool = True,
) -> pd.DataFrame | NotComputed:
    """Themes the lexicon misses, proposed by TF-IDF + NMF (scikit-learn) on the tokens of the
    comments that carry no lexicon theme (all comments with ``untagged_only=False``): one row per
    proposed ``topic`` (1…k, most comments first) with its ``top_words``, ``n_comments`` (comments
    whose strongest topic it is) and ``verbatims`` (two :func:`quotable` examples). Tokens of one
    character, punctuation and :data:`STOPWORDS` are left out; a token must occur in ``min_df``
    comments. Deterministic for a given ``seed`` (NNDSVD start). An analyst reads the top words and
    the examples and promotes a real theme into :data:`cxlib.catalog.THEMES`.

    Too few comments or words for ``k`` topics is a :class:`DataError`, or with ``strict=False`` a
    :class:`~cxlib.results.NotComputed` note.

        >>> propose_themes(comments, k=5)  # doctest: +SKIP
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    require_columns(comments, ["tokens", "text", "n_themes"], "comments")
    c = comments[comments["n_themes"].to_numpy() == 0] if untagged_only else comments
    c = c[c["tokens"].astype("str").str.len() > 0]
    need = max(4 * k, 20)
    if len(c) < need:
        note = too_few(
            len(c),
            need,
            ("提出候选主题", "proposing themes"),
            unit=("条未归入主题的评价", "untagged comments") if untagged_only else ("条评价", "comments"),
        )
        if strict:
            raise DataError(note.in_lang("en").text(), column="comment")
        return note

    def analyzer(s: str) -> list[str]:
        return [
            w for w in s.split(SEP) if len(w) > 1 and w not in STOPWORDS and not _PUNCT.match(w) and not w.isdigit()
        ]

    vec = TfidfVectorizer(analyzer=analyzer, min_df=min_df, max_features=5000, sublinear_tf=True)
    try:
        x = vec.fit_transform(c["tokens"].astype("str").tolist())
    except ValueError:  # no word occurs often enough
        x = None
    if x is None or x.shape[1] < k:
        note = too_few(0 if x is None else x.shape[1], k, ("提出候选主题", "proposing themes"), unit=("个词", "words"))
        if strict:
            raise DataError(note.in_lang("en").text(), column="comment")
        return note
    model = NMF(n_components=k, init="nndsvd", random_state=seed, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", ConvergenceWarning
        )  # a proposal, not an estimate: the words are read, not tested
        w = model.fit_transform(x)
    words = np.array(vec.get_feature_names_out())
    dominant = np.where(w.max(axis=1) > 0, w.argmax(axis=1), -1)
    texts = c["text"].astype("str").to_numpy()
    rows = []
    for j in range(k):
        order = np.lexsort((words, -model.components_[j]))
        top = [str(words[i]) for i in order[:n_words] if model.components_[j, i] > 0]
        mine = np.flatnonzero(dominant == j)
        ex = mine[np.argsort(-w[mine, j], kind="stable")]
        examples = list(dict.fromkeys(t for t in texts[ex] if quotable(t) and len(t) <= 80))[:2]
        rows.append({"top_words": top, "n_comments": int(mine.size), "verbatims": examples})
    out = pd.DataFrame(rows, columns=["top_words", "n_comments", "verbatims"])
    out = (
        out.assign(_w=[" ".join(t) for t in out["top_words"]])
        .sort_values(["n_comments", "_w"], ascending=[False, True], kind="stable")
        .drop(columns="_w")
        .reset_index(drop=True)
    )
    out.insert(0, "topic", np.arange(1, len(out) + 1, dtype=np.int64))
    return out.astype({"n_comments": "int64"})


# ================================================================================== figures
def plot_theme_map(shares: pd.DataFrame, *, lang: Lang = "both", min_share: float = 0.0) -> Figure:
    """The themes on the journey map: the stages across the top, each touchpoint under its stage,
    and under them each theme at its touchpoints, a bar as tall as the share of comments that
    mention it (praise above the line in green, pain below in red), with its Wilson interval.
    ``shares`` is :func:`theme_share` without ``by``; themes below ``min_share`` are left out.

        >>> plot_theme_map(theme_share(comments), lang="en")  # doctest: +SKIP
    """

    from cxlib import plotting

    require_columns(shares, ["theme", "theme_share", "ci_low", "ci_high"], "theme shares")
    # the touchpoints in catalog order, each stage spanning its own (the layout of the journey map)
    tx = {t.code: float(i) for i, t in enumerate(catalog.TOUCHPOINTS)}
    spans = {
        st: (
            min(tx[t.code] for t in catalog.TOUCHPOINTS if t.stage == st) - 0.5,
            max(tx[t.code] for t in catalog.TOUCHPOINTS if t.stage == st) + 0.5,
        )
        for st in catalog.STAGE_ORDER
    }
    s = shares[shares["theme_share"].astype(float) >= min_share].copy()
    # each theme at the mean x of its touchpoints, themes sharing a place side by side
    s["_x"] = [float(np.mean([tx[p] for p in catalog.THEMES_BY_CODE[t].touchpoints])) for t in s["theme"]]
    s["_sign"] = [1.0 if catalog.THEMES_BY_CODE[t].polarity == "positive" else -1.0 for t in s["theme"]]
    xs = s["_x"].to_numpy().copy()
    for (_x, _sg), idx in s.groupby(["_x", "_sign"]).groups.items():
        pos = [s.index.get_loc(i) for i in idx]
        for j, p in enumerate(pos):
            xs[p] = _x + (j - (len(pos) - 1) / 2) * 0.42
    s["_x"] = xs
    with plotting.drawing():
        fig = plotting.new_figure(figsize=(13, 8.5))
        top, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 3])
        plotting.stage_bands(top, ax, spans, lang=lang, ymin=0.6, label_y=0.8, shade=0.2)
        for t in catalog.TOUCHPOINTS:
            top.text(
                tx[t.code],
                0.52,
                plotting.tick_label(t.code, lang=lang),
                rotation=90,
                ha="center",
                va="top",
                fontsize="x-small",
                transform=top.get_xaxis_transform(),
            )
        top.set_ylim(0, 1)
        top.set_yticks([])
        top.grid(False)
        top.set_title(
            plotting.title("评价主题在客户旅程上的位置", "What customers write, placed on the journey", lang=lang)
        )
        h = 100 * s["theme_share"].astype(float).to_numpy() * s["_sign"].to_numpy()
        lo = 100 * s["ci_low"].astype(float).to_numpy()
        hi = 100 * s["ci_high"].astype(float).to_numpy()
        colors = ["#1a9850" if g > 0 else "#d7301f" for g in s["_sign"]]
        ax.bar(s["_x"], h, width=0.38, color=colors, alpha=0.85, zorder=3)
        err_lo = np.where(s["_sign"] > 0, np.abs(h) - lo, hi - np.abs(h))
        err_hi = np.where(s["_sign"] > 0, hi - np.abs(h), np.abs(h) - lo)
        ax.errorbar(
            s["_x"],
            h,
            yerr=np.clip(np.vstack([err_lo, err_hi]), 0, None),
            fmt="none",
            ecolor="#444444",
            elinewidth=0.8,
            capsize=2,
            zorder=4,
        )
        for x, y, t in zip(s["_x"], h, s["theme"]):
            name = catalog.value_label("theme", t, lang="zh" if lang == "zh" else "en")
            ax.text(
                x,
                y + (1.0 if y >= 0 else -1.0),
                name,
                rotation=90,
                ha="center",
                va="bottom" if y >= 0 else "top",
                fontsize="x-small",
                zorder=5,
            )
        ax.axhline(0, color="#333333", lw=0.8)
        peak = float(np.nanmax(np.abs(np.concatenate([h, hi, [1.0]])))) if len(h) else 1.0
        ax.set_ylim(-1.9 * peak, 1.9 * peak)
        ax.set_xlim(-0.5, len(catalog.TOUCHPOINTS) - 0.5)
        ax.set_xticks([])
        ax.set_ylabel(plotting.text("提及占比（%）", "Share of comments (%)", lang=lang))
        n = int(shares["n"].max()) if "n" in shares.columns and len(shares) else 0
        plotting.caption(
            fig,
            plotting.text(
                f"n = {n:,} 条评价；误差线为 Wilson 95% 置信区间。",
                f"n = {n:,} comments; error bars: Wilson 95% intervals.",
                lang=lang,
            ),
        )
    return fig


# ================================================================================ display
def lexicon_table(*, lang: Lang = "both", n_words: int = 5) -> pd.DataFrame:
    """The theme lexicon as a table: theme, stage, polarity, touchpoints and its first ``n_words``
    trigger words written out (the triggers that are plain words; patterns are left out), for the
    notebook.

        >>> lexicon_table(lang="en").columns.tolist()
        ['theme', 'stage', 'polarity', 'touchpoints', 'triggers']
        >>> lexicon_table(lang="zh").iloc[0]["triggers"]
        '约不上、约不到、很难约、排不上、排不到'
    """
    plain = re.compile(r"^[^()\[\]?*+|\\{}.^$]+$")
    rows = []
    for t in catalog.THEMES:
        words = [p for p in t.triggers if plain.match(p)][:n_words]
        rows.append(
            (
                t.code,
                t.stage,
                t.polarity,
                "、".join(catalog.label(p, lang=lang) for p in t.touchpoints)
                if lang == "zh"
                else ", ".join(catalog.label(p, lang=lang) for p in t.touchpoints),
                "、".join(words),
            )
        )
    return pd.DataFrame(rows, columns=["theme", "stage", "polarity", "touchpoints", "triggers"]).astype("str")


# ================================================================================ findings
def _name(code: str, lang: str) -> str:
    return catalog.value_label("theme", code, lang=lang)  # type: ignore[arg-type]


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def finding_themes(
    shares: pd.DataFrame | NotProvided | NotComputed,
    *,
    lang: Lang = "both",
    group: str = "detractor",
    by: str = "nps_group",
    k: int = 3,
    key: str = "detractor_themes",
):
    """The finding under the theme shares by NPS group: the ``k`` negative themes most mentioned
    by ``group``, each with its share, Wilson interval and n, and how often promoters mention the
    first one.

        >>> finding_themes(theme_share(comments, by="nps_group"), lang="en")  # doctest: +SKIP
    """
    from cxlib.findings import Finding, from_note

    note = unavailable(shares)
    if note is not None:
        return from_note(key, note, lang=lang)
    assert isinstance(shares, pd.DataFrame)
    s = shares[(shares[by].astype("str") == group) & (shares["polarity"] == "negative") & (shares["hits"] > 0)]
    s = (
        s.assign(_o=[catalog.THEME_CODES.index(t) for t in s["theme"]])
        .sort_values(["hits", "_o"], ascending=[False, True], kind="stable")
        .head(k)
    )
    n = (
        int(shares.loc[shares[by].astype("str") == group, "n"].max())
        if (shares[by].astype("str") == group).any()
        else 0
    )
    gz, ge = catalog.label(group, lang="zh"), catalog.label(group, lang="en").lower()
    if s.empty:
        return Finding(
            key,
            f"{gz}的评价（n = {n:,}）未提到任何负面主题。",
            f"The comments of {ge}s (n = {n:,}) mention no negative theme.",
            lang,
            {"status": "ok" if n >= catalog.MIN_N else "too_few", "n": n, "top": []},
        )
    parts_zh = [
        f"“{_name(t, 'zh')}”{_pct(v)}（95% 置信区间 {_pct(lo)}–{_pct(hi)}）"
        for t, v, lo, hi in zip(s["theme"], s["theme_share"], s["ci_low"], s["ci_high"])
    ]
    parts_en = [
        f"“{_name(t, 'en').lower()}” {_pct(v)} (95% CI {_pct(lo)}–{_pct(hi)})"
        for t, v, lo, hi in zip(s["theme"], s["theme_share"], s["ci_low"], s["ci_high"])
    ]
    first = s["theme"].iloc[0]
    prom = shares[(shares[by].astype("str") == "promoter") & (shares["theme"] == first)]
    pz = pe = ""
    if len(prom) and int(prom["n"].iloc[0]) > 0:
        pv, pn = float(prom["theme_share"].iloc[0]), int(prom["n"].iloc[0])
        plo, phi = float(prom["ci_low"].iloc[0]), float(prom["ci_high"].iloc[0])
        pz = (
            f"；推荐者（n = {pn:,}）中提到“{_name(first, 'zh')}”的占 {_pct(pv)}（95% 置信区间 {_pct(plo)}–{_pct(phi)}）"
        )
        pe = f"; among promoters (n = {pn:,}), {_pct(pv)} do (95% CI {_pct(plo)}–{_pct(phi)})"
    small_zh, small_en = ("（样本小，仅供参考）", " (small sample, read with care)") if n < catalog.MIN_N else ("", "")
    zh = f"{gz}的评价（n = {n:,}）最常提到：" + "、".join(parts_zh) + pz + "。" + small_zh
    en = f"The comments of {ge}s (n = {n:,}) most often mention " + ", ".join(parts_en) + pe + "." + small_en
    top = [
        {"theme": t, "share": float(v), "ci_low": float(lo), "ci_high": float(hi), "hits": int(h)}
        for t, v, lo, hi, h in zip(s["theme"], s["theme_share"], s["ci_low"], s["ci_high"], s["hits"])
    ]
    return Finding(
        key, zh, en, lang, {"status": "ok" if n >= catalog.MIN_N else "too_few", "group": group, "n": n, "top": top}
    )


def finding_top_detractor_themes(
    top: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", key: str = "detractor_themes"
):
    """The summary's sentence on :func:`top_themes` of the detractors (one line).

    >>> finding_top_detractor_themes(top_themes(comments), lang="zh")  # doctest: +SKIP
    """
    from cxlib.findings import Finding, from_note

    note = unavailable(top)
    if note is not None:
        return from_note(key, note, lang=lang)
    assert isinstance(top, pd.DataFrame)
    n = int(top["n"].max()) if len(top) else 0
    if top.empty:
        return Finding(
            key,
            f"贬损者的评价（n = {n:,}）未提到任何负面主题。",
            f"Detractors' comments (n = {n:,}) mention no negative theme.",
            lang,
            {"status": "ok", "top": []},
        )
    zh = (
        "贬损者评价的三大主题："
        + "、".join(f"{_name(t, 'zh')} {_pct(v)}" for t, v in zip(top["theme"], top["theme_share"]))
        + f"（n = {n:,}）。"
    )
    en = (
        "Top themes of detractors' comments: "
        + ", ".join(f"{_name(t, 'en').lower()} {_pct(v)}" for t, v in zip(top["theme"], top["theme_share"]))
        + f" (n = {n:,})."
    )
    return Finding(
        key,
        zh,
        en,
        lang,
        {
            "status": "ok" if n >= catalog.MIN_N else "too_few",
            "n": n,
            "top": [
                {"theme": t, "share": float(v), "ci_low": float(lo), "ci_high": float(hi)}
                for t, v, lo, hi in zip(top["theme"], top["theme_share"], top["ci_low"], top["ci_high"])
            ],
        },
    )


def finding_ltr_gap(
    gap: pd.DataFrame | NotProvided | NotComputed,
    *,
    lang: Lang = "both",
    alpha: float = 0.05,
    key: str = "theme_ltr_gap",
):
    """The finding under the LTR gap: the theme whose mention goes with the lowest LTR (its gap,
    interval and both n), and how many themes differ significantly at ``alpha``.

        >>> finding_ltr_gap(ltr_gap(comments), lang="en")  # doctest: +SKIP
    """
    from cxlib.findings import Finding, from_note

    note = unavailable(gap)
    if note is not None:
        return from_note(key, note, lang=lang)
    assert isinstance(gap, pd.DataFrame)
    g = gap[np.isfinite(gap["ltr_gap"].astype(float)) & (gap["n_with"] >= catalog.MIN_N)]
    if g.empty:
        return Finding(
            key,
            f"没有哪个主题的提及者达到 {catalog.MIN_N} 人，无法比较推荐意愿。",
            f"No theme is mentioned by {catalog.MIN_N} or more customers: the LTR gap is not compared.",
            lang,
            {"status": "too_few"},
        )
    worst = g.sort_values(["ltr_gap", "theme"], kind="stable").iloc[0]
    sig = g[g["p_value"] < alpha]
    n_down, n_up = int((sig["ltr_gap"] < 0).sum()), int((sig["ltr_gap"] > 0).sum())

    def num(x: float) -> str:
        return f"{abs(float(x)):.1f}"

    lo, hi = float(worst["ltr_gap_ci_low"]), float(worst["ltr_gap_ci_high"])
    low = float(worst["ltr_gap"]) < 0
    ci = f"{lo:.1f} ~ {hi:.1f}".replace("-", "−")
    zh = (
        f"提到“{_name(worst['theme'], 'zh')}”的客户平均推荐意愿{'低' if low else '高'} {num(worst['ltr_gap'])} 分"
        f"（95% 置信区间 {ci}，n = {int(worst['n_with']):,} 对 {int(worst['n_without']):,}）；"
        f"{n_down} 个主题的提及者推荐意愿显著更低，{n_up} 个显著更高（p < {alpha}）。这是相关关系，不是因果效应。"
    )
    en = (
        f"Customers who mention “{_name(worst['theme'], 'en').lower()}” give an LTR {num(worst['ltr_gap'])} points "
        f"{'lower' if low else 'higher'} (95% CI {ci}, n = {int(worst['n_with']):,} vs {int(worst['n_without']):,}); "
        f"{n_down} themes go with a significantly lower LTR, {n_up} with a higher one (p < {alpha}). "
        f"An association, not an effect."
    )
    return Finding(
        key,
        zh,
        en,
        lang,
        {
            "status": "ok",
            "theme": worst["theme"],
            "ltr_gap": float(worst["ltr_gap"]),
            "ci_low": lo,
            "ci_high": hi,
            "n_with": int(worst["n_with"]),
            "n_without": int(worst["n_without"]),
            "significant_lower": n_down,
            "significant_higher": n_up,
        },
    )


def finding_complaints(
    by_channel: pd.DataFrame | NotProvided | NotComputed, *, lang: Lang = "both", key: str = "complaint_themes"
):
    """The finding under the complaint themes by channel: per channel its most frequent theme
    with share and n.

        >>> finding_complaints(theme_share(complaints, by="channel"), lang="en")  # doctest: +SKIP
    """
    from cxlib.findings import Finding, from_note

    note = unavailable(by_channel)
    if note is not None:
        return from_note(key, note, lang=lang)
    assert isinstance(by_channel, pd.DataFrame)
    parts_zh, parts_en, facts = [], [], []
    for ch, sub in by_channel.groupby("channel", observed=True, sort=True):
        sub = sub[sub["hits"] > 0]
        if sub.empty:
            continue
        best = (
            sub.assign(_o=[catalog.THEME_CODES.index(t) for t in sub["theme"]])
            .sort_values(["hits", "_o"], ascending=[False, True], kind="stable")
            .iloc[0]
        )
        n = int(best["n"])
        parts_zh.append(
            f"{catalog.label(str(ch), lang='zh')}以“{_name(best['theme'], 'zh')}”最多（{_pct(best['theme_share'])}，n = {n:,}）"
        )
        parts_en.append(
            f"{catalog.label(str(ch), lang='en')}: “{_name(best['theme'], 'en').lower()}” "
            f"({_pct(best['theme_share'])}, n = {n:,})"
        )
        facts.append({"channel": str(ch), "theme": best["theme"], "share": float(best["theme_share"]), "n": n})
    if not facts:
        return Finding(
            key,
            "投诉内容中没有识别出词典里的主题。",
            "No lexicon theme was found in the complaint texts.",
            lang,
            {"status": "ok", "channels": []},
        )
    return Finding(
        key,
        "按投诉渠道：" + "；".join(parts_zh) + "。",
        "By channel, the most frequent complaint theme: " + "; ".join(parts_en) + ".",
        lang,
        {"status": "ok", "channels": facts},
    )


# ================================================================================ results
def results_entries(
    shares_by_group: pd.DataFrame | NotComputed,
    gap: pd.DataFrame | NotComputed,
    complaints_by_channel: Any,
    proposals: Any = None,
) -> dict[str, Any]:
    """What notebook 06 records in ``results.json`` (see ``docs/results.md``): ``themes``
    (per theme and NPS group: n, hits, share and Wilson interval), ``theme_ltr_gap`` (per theme:
    gap, interval, p, both n), ``complaint_themes`` (per channel and theme, or the "not provided"
    marker) and ``theme_proposals`` (top words per proposed topic, or the "not computed" marker); a
    selection without comments records the "not computed" marker under each key.

        >>> results_entries(theme_share(comments, by="nps_group"), ltr_gap(comments), note)  # doctest: +SKIP
    """

    def nested(df: pd.DataFrame, by: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r in df.itertuples(index=False):
            out.setdefault(str(getattr(r, by)), {})[r.theme] = {
                "n": int(r.n),
                "hits": int(r.hits),
                "share": float(r.theme_share),
                "ci_low": float(r.ci_low),
                "ci_high": float(r.ci_high),
            }
        return out

    notes = (NotProvided, NotComputed)
    entries: dict[str, Any] = {
        "themes": shares_by_group if isinstance(shares_by_group, notes) else nested(shares_by_group, "nps_group"),
        "theme_ltr_gap": gap
        if isinstance(gap, notes)
        else {
            r.theme: {
                "gap": r.ltr_gap,
                "ci_low": r.ltr_gap_ci_low,
                "ci_high": r.ltr_gap_ci_high,
                "p_value": r.p_value,
                "n_with": int(r.n_with),
                "n_without": int(r.n_without),
            }
            for r in gap.itertuples(index=False)
        },
    }
    entries["complaint_themes"] = (
        complaints_by_channel
        if isinstance(complaints_by_channel, (NotProvided, NotComputed))
        else nested(complaints_by_channel, "channel")
    )
    if proposals is not None:
        entries["theme_proposals"] = (
            proposals
            if isinstance(proposals, (NotProvided, NotComputed))
            else [
                {"topic": int(r.topic), "top_words": list(r.top_words), "n_comments": int(r.n_comments)}
                for r in proposals.itertuples(index=False)
            ]
        )
    return entries
