"""Language blocks of the notebooks' prose (cxlib.lang) and the report pages that keep the run's language."""

from __future__ import annotations

import html.parser
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import lang, report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))

CELL = """<!-- lang:zh -->
## 情绪曲线

每个旅程节点的平均分，附 95% 置信区间。

<!-- lang:en -->
## The emotion curve

Mean score per journey point, with its 95% confidence interval."""


# ---------------------------------------------------------------------------- pick


def test_pick_keeps_the_blocks_of_one_language():
    assert lang.pick(CELL, lang="zh") == "## 情绪曲线\n\n每个旅程节点的平均分，附 95% 置信区间。"
    assert (
        lang.pick(CELL, lang="en")
        == "## The emotion curve\n\nMean score per journey point, with its 95% confidence interval."
    )


def test_both_is_chinese_first_with_one_merged_heading():
    assert lang.pick(CELL, lang="both") == (
        "## 情绪曲线 The emotion curve\n\n"
        "每个旅程节点的平均分，附 95% 置信区间。\n\n"
        "Mean score per journey point, with its 95% confidence interval."
    )


def test_english_block_first_in_the_cell_still_comes_second():
    cell = "<!-- lang:en -->\nIn English.\n<!-- lang:zh -->\n中文。"
    assert lang.pick(cell, lang="both") == "中文。\n\nIn English."


def test_headings_of_different_levels_or_one_sided_are_not_merged():
    cell = "<!-- lang:zh -->\n## 痛点\n\n说明。\n<!-- lang:en -->\n### Pain points\n\nText."
    assert lang.pick(cell, lang="both") == "## 痛点\n\n说明。\n\n### Pain points\n\nText."
    cell = "<!-- lang:zh -->\n## 痛点\n<!-- lang:en -->\nPain points, ranked."
    assert lang.pick(cell, lang="both") == "## 痛点\n\nPain points, ranked."


def test_shared_section_number_is_written_once():
    cell = "<!-- lang:zh -->\n# 01 · 数据清洗\n<!-- lang:en -->\n# 01 · Cleaning"
    assert lang.pick(cell, lang="both") == "# 01 · 数据清洗 Cleaning"
    cell = "<!-- lang:zh -->\n## 1. 客户价值\n<!-- lang:en -->\n## 1. Customer value"
    assert lang.pick(cell, lang="both") == "## 1. 客户价值 Customer value"
    cell = "<!-- lang:zh -->\n## NPS\n<!-- lang:en -->\n## NPS"
    assert lang.pick(cell, lang="both") == "## NPS"


def test_common_text_before_and_between_blocks_stays_in_place():
    cell = (
        "Intro for all.\n<!-- lang:zh -->\n甲。\n<!-- lang:en -->\nA.\n"
        "<!-- lang:both -->\n| table | for all |\n<!-- lang:en -->\nB.\n<!-- lang:zh -->\n乙。"
    )
    assert lang.pick(cell, lang="zh") == "Intro for all.\n\n甲。\n\n| table | for all |\n\n乙。"
    assert lang.pick(cell, lang="en") == "Intro for all.\n\nA.\n\n| table | for all |\n\nB."
    assert lang.pick(cell, lang="both") == "Intro for all.\n\n甲。\n\nA.\n\n| table | for all |\n\n乙。\n\nB."


def test_cell_without_markers_is_unchanged_and_markers_in_code_are_text():
    plain = "## Plain heading 标题\n\ntext  with  two spaces\n"
    assert lang.pick(plain, lang="zh") == plain
    fenced = "<!-- lang:en -->\nSee:\n\n```\n<!-- lang:zh -->\n```\n<!-- lang:zh -->\n见："
    assert lang.pick(fenced, lang="en") == "See:\n\n```\n<!-- lang:zh -->\n```"
    assert lang.pick(fenced, lang="zh") == "见："


def test_marker_spelling_is_lenient_and_a_bad_language_is_refused():
    assert lang.pick("<!--lang: ZH-->\n中文\n<!--  LANG:en  -->\nEnglish", lang="zh") == "中文"
    with pytest.raises(ValueError, match="lang must be"):
        lang.pick(CELL, lang="fr")


def test_notebook_lang_from_papermill_parameters():
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"parameters": {"lang": "en", "center": "SH-JQ"}}})
    assert lang.notebook_lang(nb) == "en"
    assert lang.notebook_lang(nbformat.v4.new_notebook()) == "both"
    nb.cells = [nbformat.v4.new_markdown_cell(CELL), nbformat.v4.new_code_cell("x = '<!-- lang:zh -->'")]
    lang.pick_cells(nb, "en")
    assert nb.cells[0].source.startswith("## The emotion curve") and "lang:zh" in nb.cells[1].source


# ---------------------------------------------------------------------------- properties

_ZH_WORD = st.text(alphabet="情绪曲线痛点等待通知交车推荐意愿置信区间门店", min_size=1, max_size=6)
_EN_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_COMMON_WORD = st.text(alphabet="0123456789|=+", min_size=1, max_size=5)


def _text(word: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A block: an optional heading, then paragraphs of words (no markers, no code fences)."""
    line = st.lists(word, min_size=1, max_size=6).map(" ".join)
    para = st.lists(line, min_size=1, max_size=3).map("\n".join)
    heading = st.tuples(st.integers(1, 3), line).map(lambda t: "#" * t[0] + " " + t[1])
    body = st.lists(para, min_size=0, max_size=3).map("\n\n".join)
    return st.one_of(
        heading, st.tuples(heading, body).map("\n\n".join), st.lists(para, min_size=1, max_size=3).map("\n\n".join)
    )


_BLOCK = st.one_of(
    st.tuples(st.just("zh"), _text(_ZH_WORD)),
    st.tuples(st.just("en"), _text(_EN_WORD)),
    st.tuples(st.just("both"), _text(_COMMON_WORD)),
)


def _cell(parts: list[tuple[str, str]]) -> str:
    out = []
    for i, (code, text) in enumerate(parts):
        if code != "both" or i > 0:
            out.append(f"<!-- lang:{code} -->")
        out.append(text)
    return "\n".join(out)


def _words(text: str) -> Counter:
    return Counter(w for w in text.split() if not re.fullmatch(r"#+", w))


@settings(max_examples=300, deadline=None)
@given(st.lists(_BLOCK, min_size=1, max_size=6))
def test_both_loses_no_text_and_one_language_keeps_nothing_of_the_other(parts):
    cell = _cell(parts)
    words = {code: _words("\n".join(t for c, t in parts if c == code)) for code in ("zh", "en", "both")}
    both = lang.pick(cell, lang="both")
    assert _words(both) == words["zh"] + words["en"] + words["both"]
    for one, other in (("zh", "en"), ("en", "zh")):
        page = lang.pick(cell, lang=one)
        assert _words(page) == words[one] + words["both"]
        assert not set(_words(page)) & set(words[other])
    for page in (both, lang.pick(cell, lang="zh"), lang.pick(cell, lang="en")):
        assert "<!--" not in page and "lang:" not in page


@settings(max_examples=200, deadline=None)
@given(st.lists(_BLOCK, min_size=1, max_size=6))
def test_chinese_comes_before_english_in_every_run_of_blocks(parts):
    both = lang.pick(_cell(parts), lang="both")
    zh_words = [w for c, t in parts if c == "zh" for w in t.split() if not w.startswith("#")]
    en_words = [w for c, t in parts if c == "en" for w in t.split() if not w.startswith("#")]
    if zh_words and en_words and all(c != "both" for c, _ in parts[1:]):
        assert both.find(zh_words[0]) < both.find(en_words[0])


# ---------------------------------------------------------------------------- the notebooks' prose

#: the openings of the sentences that stated findings before they were computed from the results
#: (cxlib.findings): no markdown cell may bring them back
OLD_FINDINGS = (
    "*How to read it: the points marked as pain points",
    "*Where the tiers part is where transparency",
    '*Points in the "concentrate here" quadrant',
    "*Read the slope, not a single bin",
    "*A month whose interval does not overlap",
    "**The 20000× birthday return rests entirely",
)
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
#: words a Chinese text keeps in Latin letters: abbreviations, model and estimator names
LATIN_TERMS = {"bootstrap", "logit", "Johnson", "Wilson", "Wald", "Rocks", "App"}


def _prose(text: str) -> str:
    """Text without code spans, fenced code or HTML comments."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    return re.sub(r"`[^`]*`", " ", text)


def english_words(text: str) -> list[str]:
    """Latin-letter words of a prose text that are not abbreviations (NPS, LTR, P5, n, …) or kept terms."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*\d*", _prose(text))
    return [
        w for w in words if not (w.isupper() or len(w) <= 2 or re.search(r"\d|[A-Z].*[A-Z]", w) or w in LATIN_TERMS)
    ]


def english_runs(text: str) -> list[str]:
    """Runs of three or more Latin-letter words in a row: an English phrase inside Chinese text."""
    return [
        m.group(0) for m in re.finditer(r"[A-Za-z][A-Za-z'-]*(?:[ ,;:.()/-]+[A-Za-z][A-Za-z'-]*){2,}", _prose(text))
    ]


def looks_chinese(text: str) -> bool:
    """Chinese prose: CJK text with at most a word of Latin letters per 40 CJK characters and no English phrase."""
    n_cjk = len(CJK.findall(_prose(text)))
    return n_cjk > 0 and len(english_words(text)) <= n_cjk / 40 and not english_runs(text)


def test_prose_heuristics_tell_the_languages_apart():
    assert looks_chinese("按（与 8 分的差距）×（对推荐意愿 LTR 的重要性）排序，附 Wilson 置信区间与 `segment`。")
    assert not looks_chinese("按差距排序 ranked by the gap to the target。")
    assert not looks_chinese("Ranked by (gap to a score of 8) × (importance for LTR).")
    assert english_words("NPS 与 LTR、P5、n 和 DiD") == []


def _owned_cells():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                yield f"{path.stem}[{i}]", cell.source


@pytest.mark.parametrize(("where", "source"), list(_owned_cells()), ids=lambda x: x if "[" in str(x) else "")
def test_every_prose_cell_has_a_chinese_and_an_english_block(where, source):
    blocks = lang.blocks(source)
    assert {b.lang for b in blocks} == {"zh", "en"}, f"{where}: a zh and an en block, nothing common"
    zh = "\n\n".join(b.text for b in blocks if b.lang == "zh")
    en = "\n\n".join(b.text for b in blocks if b.lang == "en")
    assert looks_chinese(zh), (where, english_words(zh), english_runs(zh))
    assert not CJK.search(en), (where, CJK.findall(en))
    # headings match: a heading in one language has its counterpart at the same level
    levels = [[len(m) for m in re.findall(r"^(#+) ", t, flags=re.M)] for t in (zh, en)]
    assert levels[0] == levels[1], where
    # a Chinese paragraph is one line: a line break between CJK characters shows as a space on the page
    assert not re.search(rf"{CJK.pattern}\n{CJK.pattern}", zh), where


def test_no_markdown_cell_states_a_finding_by_hand():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                assert not any(p in cell.source for p in OLD_FINDINGS), (path.stem, cell.source[:80])


# ---------------------------------------------------------------------------- the pages


class _MarkdownText(html.parser.HTMLParser):
    """The text of a page's markdown cells (``jp-MarkdownCell`` elements), one string per cell;
    code (``<code>``) left out."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._depth = 0
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "code":
            self._code += 1
        elif tag == "div" and self._depth:
            self._depth += 1
        elif tag == "div" and "jp-MarkdownCell" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._code:
            self._code -= 1
        elif tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and not self._code:
            self.cells[-1] += data


def markdown_texts(page: Path) -> list[str]:
    parser = _MarkdownText()
    parser.feed(page.read_text(encoding="utf-8"))
    return [t.replace("¶", "").strip() for t in parser.cells if t.strip()]


def assert_prose_language(page: Path, page_lang: str) -> None:
    texts = markdown_texts(page)
    assert texts, page
    for text in texts:
        if page_lang == "zh":
            assert looks_chinese(text), (page.name, text[:120], english_words(text), english_runs(text))
        elif page_lang == "en":
            assert not CJK.search(text), (page.name, text[:120])
        else:
            assert CJK.search(text) and len(english_words(text)) >= 1, (page.name, text[:120])


@pytest.mark.parametrize("page_lang", ["zh", "en", "both"])
def test_stored_summary_renders_its_prose_in_one_language(page_lang, tmp_path):
    """The stored (executed) summary notebook, rendered as a page of each language."""
    page = tmp_path / "05_summary.html"
    report.to_html(ROOT / "notebooks" / "05_summary.ipynb", page, lang=page_lang)
    assert_prose_language(page, page_lang)
    text = page.read_text(encoding="utf-8")
    assert "lang:zh" not in text and "lang:en" not in text
    heading = {"zh": ">核心指标<", "en": ">Headline<", "both": ">核心指标 Headline<"}[page_lang]
    assert heading in text


@pytest.mark.slow
def test_report_run_renders_its_pages_in_the_runs_language(tmp_path):
    """`cx report --lang zh|en` on the shipped sample: 01_cleaning (which has no lang parameter of its own)
    comes out as a Chinese or an English page, and its executed copy keeps both blocks."""
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    (notebooks / "01_cleaning.ipynb").write_bytes((ROOT / "notebooks" / "01_cleaning.ipynb").read_bytes())
    processed = tmp_path / "processed"
    for page_lang in ("zh", "en"):
        period_dir, runs = report.run_reports(
            ROOT / "data" / "raw",
            processed,
            tmp_path / f"reports-{page_lang}",
            "2026-10",
            "SH-JQ",
            options={"lang": page_lang, "xlsx": "no"},
            settings=report.RunSettings(notebook_dir=notebooks),
        )
        assert runs[0].status == "ok"
        folder = period_dir / "SH-JQ"
        assert_prose_language(folder / "01_cleaning.html", page_lang)
        executed = nbformat.read(folder / "01_cleaning.ipynb", as_version=4)
        assert all(
            {b.lang for b in lang.blocks(c.source)} == {"zh", "en"} for c in executed.cells if c.cell_type == "markdown"
        )
    # the same page of a plain papermill run, whose parameters name the language
    nb = nbformat.read(folder / "01_cleaning.ipynb", as_version=4)
    nb.metadata.setdefault("papermill", {})["parameters"] = {"lang": "zh"}
    nbformat.write(nb, tmp_path / "01.ipynb")
    report.to_html(tmp_path / "01.ipynb", tmp_path / "01.html")
    assert_prose_language(tmp_path / "01.html", "zh")
