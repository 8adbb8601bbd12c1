"""Personal data in free text: one masking mechanism for everything the workbench writes.

Every free-text value that reaches ``data/processed`` (see *Free-text columns* below), the
quarantine table (raw values and reasons), a report, a log line or an error message goes
through :func:`mask` (or its vectorised form :func:`mask_array`). What is masked:

============  ==============  ===================================================  ====================
category      placeholder     recognised spellings                                 example
============  ==============  ===================================================  ====================
e-mail        ``[邮箱]``      ``name@host.tld``, full-width ``＠``                  ``li.wei@163.com``
ID number     ``[身份证号]``  18 digits (last may be X) with a valid birth date or  ``11010519491231002X``
                              check digit; old 15-digit ids with a valid birth
                              date; with spaces or hyphens between groups
bank card     ``[银行卡号]``  16–19 digits: written in one run or in groups of 4   ``6222 0212 3456 7890``
                              always; any other grouping when the Luhn check holds
mobile        ``[手机号]``    11 digits 1[3-9]…, with +86 / 0086 / 86 in front     ``+86 139-1234-5678``
landline      ``[电话]``      area code 010 / 02x / 0xxx (or +86 without the 0),   ``(021) 6123 4567 转 8``
                              7–8 digits, optional extension (转, 分机, ext, x, #)
plate         ``[车牌号]``    province + letter + 5 characters (4 + 学/港/澳/挂/警/  ``沪A·12345``, ``沪AD12345``
                              领/试/超), new-energy 6 characters; ``·`` ``•`` ``-``
                              or a space after the letter; at least 3 digits
name          ``*`` + title   a common surname (about 400, compound ones too),     ``王先生`` → ``*先生``
                              optionally with a one- or two-character given name,
                              directly before 先生 / 女士 / 小姐
============  ==============  ===================================================  ====================

Numbers are recognised however they are written: full-width (``１３９``), digit by digit with
spaces, with dots, hyphens or dashes of any width, slashes, parentheses around an area code,
tabs or line breaks between the digits, in Chinese numerals (``一三九…``, ``幺``, capital
forms ``壹贰叁…``, ``〇`` / ``○`` for zero). Matching runs on a *normalised view* of the text:
each character NFKC-normalised, decimal digits of any script and Chinese numerals mapped to
ASCII digits, every run of separators collapsed to one space that the number patterns skip
(combining marks and zero-width characters count as separators). The view keeps, for each of
its characters, the span of the original text it came from, so the placeholder replaces
exactly the original characters and the text around a number is kept as written.

Not masked (look-alikes the analysis needs): ids such as ``V000123`` or ``R2000001``, amounts
(``1200.50``), dates (``2026-10-03``, ``2026/10/03``, ``2026年10月3日``; a date written with
separators is never part of a number), times (``09:30``), scores (``9分``), vehicle models
(``ES6``), and runs of digits too short for any category.

Free-text columns (masked by :mod:`cxlib.clean` before they are written): ``surveys.comment``,
``complaints.category``, ``visits.vehicle_model``, ``centers.name_zh`` / ``name_en`` /
``city`` / ``aliases``, and in ``quarantine`` the ``reason`` and every raw value (masked value by
value before the row is encoded as JSON). Id columns (``visit_id``, ``customer_id``, …) are keys,
pseudonymous by the data contract, and are not masked (a masked key would merge customers).

Large columns are cheap: :func:`mask_array` first selects, in Arrow, the values that can hold
personal data at all (a vectorised regular expression over the NFKC-normalised column); only
those go through :func:`mask`.

>>> mask("车牌沪Ａ·１２３４５，电话一三九 一二三四 五六七八，王先生")
'车牌[车牌号]，电话[手机号]，*先生'
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pyarrow is imported when a column is masked, not when an error is printed
    import numpy as np
    import pyarrow as pa

__all__ = [
    "PLACEHOLDERS",
    "mask",
    "find",
    "mask_array",
    "mask_values",
    "MaskingFilter",
    "SURNAMES",
    "COMPOUND_SURNAMES",
    "HONORIFICS",
]

#: placeholder per category (names keep their honorific: 王先生 -> *先生)
PLACEHOLDERS = {
    "email": "[邮箱]",
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "mobile": "[手机号]",
    "landline": "[电话]",
    "plate": "[车牌号]",
    "name": "*",
}

HONORIFICS = ("先生", "女士", "小姐")

# ------------------------------------------------------------------------------------- names
#: common single-character surnames (百家姓 and the most frequent modern ones), without the
#: few that are everyday function words in front of 先生 ("我和先生", "我家先生", "然后先生")
SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于傅皮卞齐康伍余元卜顾孟平"
    "黄穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童"
    "颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪解应宗丁宣贲邓郁单杭洪包诸左石崔"
    "吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰"
    "秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰鄂索咸籍赖卓蔺屠蒙池乔阴"
    "胥苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍璩桑桂濮牛寿边扈燕冀郏浦尚农温庄晏柴瞿阎充慕连茹习宦艾"
    "鱼容向古易慎戈廖庾终暨居衡步耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚简"
    "饶曾毋沙乜养鞠须丰巢关蒯相查荆红游竺权逯盖益桓公岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘佴"
    "伯赏墨哈谯笪年爱阳佟肖覃兰芦麦隋丛苑迟邝原栗谌粟冼楼盘仝练豆朴卿初敬普鹿邸辜亓修赫鲜战玉银宾"
    "揭尉斯檀衣展智奉植尧付"
)
#: compound surnames
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "长孙",
        "慕容",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "闻人",
        "澹台",
        "濮阳",
        "端木",
        "单于",
        "太史",
        "申屠",
        "呼延",
        "南宫",
        "独孤",
        "万俟",
        "百里",
        "东郭",
        "西门",
        "公冶",
        "宗政",
        "赫连",
        "淳于",
        "仲孙",
        "第五",
        "拓跋",
        "司空",
        "左丘",
        "梁丘",
        "子车",
        "亓官",
        "段干",
        "公良",
        "巫马",
        "壤驷",
        "公羊",
        "谷梁",
        "漆雕",
        "乐正",
        "羊舌",
        "微生",
        "宰父",
        "闾丘",
        "东门",
        "南门",
        "司寇",
        "公西",
        "颛孙",
        "鲜于",
        "闻人",
        "夹谷",
        "仉督",
        "即墨",
        "梁丘",
    )
)
# characters that are not a given name between a surname and the honorific ("这位先生",
# "和我先生", "谢谢先生"): pronouns, measure words, particles, common verbs
_NOT_GIVEN = frozenset(
    "我你他她它您咱们的地得了着过和与跟同及或是在位个名这那哪谢好请给对向为被把让叫"
    "有说问找等也都就又还很太家后时老大啊吧呢吗嘛哦呀啦么其各每某此该本贵"
)
_HONORIFIC_RE = re.compile("|".join(HONORIFICS))

# ------------------------------------------------------------------------------ the view
#: Chinese numerals as digits (positional 十/百 are not digits of a number)
NUMERALS = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "壹": "1",
    "贰": "2",
    "叁": "3",
    "肆": "4",
    "伍": "5",
    "陆": "6",
    "柒": "7",
    "捌": "8",
    "玖": "9",
}
# separators skipped inside a number (after NFKC): dots, hyphens and dashes, slashes,
# parentheses; plus every space, line break, control, format (zero-width) and combining mark
_SEP_CHARS = frozenset(".·•・‧∙⋅-‐‑‒–—―−⁃﹣/\\⁄∕()")
_SEP_CATEGORIES = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"))
_HARD = "\x00"  # a boundary no pattern crosses (masked or protected characters, a change of script)
_FULLWIDTH = "０１２３４５６７８９"  # Chinese numerals while the view is built (so that a change of script shows)
_TO_ASCII = str.maketrans(_FULLWIDTH, "0123456789")
_SCRIPT_CHANGE = re.compile("[0-9][０-９]|[０-９][0-9]")


def _is_sep(ch: str) -> bool:
    return ch in _SEP_CHARS or unicodedata.category(ch) in _SEP_CATEGORIES


def _number_char(ch: str) -> str:
    if _is_sep(ch):
        return " "
    if ch in NUMERALS:
        return _FULLWIDTH[int(NUMERALS[ch])]
    d = unicodedata.decimal(ch, None)
    return ch if d is None else str(d)


class _Table(dict):
    """A ``str.translate`` table that works out each character's translation on first use."""

    def __init__(self, numbers: bool) -> None:
        super().__init__()
        self.numbers = numbers

    def __missing__(self, cp: int) -> str:
        norm = unicodedata.normalize("NFKC", chr(cp)) or " "
        value = self[cp] = "".join(map(_number_char, norm)) if self.numbers else norm
        return value


_TABLES = {True: _Table(numbers=True), False: _Table(numbers=False)}


class _View:
    """The normalised view of a text and, per view character, the original span it stands for.

    ``numbers=True``: every separator a space, digits of any script and Chinese numerals as
    ASCII digits, a hard boundary where ASCII digits and Chinese numerals meet ("…5678一下").
    ``numbers=False``: NFKC only (for e-mail addresses and names). Most texts translate one
    character to one character (the view is then a single ``str.translate``); only texts with
    characters that NFKC expands (``㈠``, ``⑽``) or with a change of script need the index map.
    """

    __slots__ = ("chars", "lo", "hi", "_text")

    def __init__(self, text: str, numbers: bool) -> None:
        self.lo: Sequence[int]
        self.hi: Sequence[int]
        table = _TABLES[numbers]
        t = text.translate(table)
        if len(t) == len(text) and not (numbers and _SCRIPT_CHANGE.search(t)):
            self._text = t.translate(_TO_ASCII) if numbers else t
            self.chars, self.lo, self.hi = self._text, range(len(t)), range(1, len(t) + 1)
            return
        chars: list[str] = []
        lo: list[int] = []
        hi: list[int] = []
        prev = ""
        for j, c in enumerate(text):
            for ch in table[ord(c)]:
                if numbers and ch.isdigit() and prev.isdigit() and (ch in _FULLWIDTH) != (prev in _FULLWIDTH):
                    chars.append(_HARD)
                    lo.append(j)
                    hi.append(j)
                prev = ch
                chars.append(ch)
                lo.append(j)
                hi.append(j + 1)
        self._text = "".join(chars).translate(_TO_ASCII) if numbers else "".join(chars)
        self.chars, self.lo, self.hi = self._text, lo, hi

    def text(self, taken: bytearray | bytes | None = None) -> str:
        """The view as a string; view characters of taken original characters become boundaries."""
        if taken is None or not any(taken):
            return self._text
        # a view character stands for whole original characters: its first one decides
        return "".join([_HARD if h > lo and taken[lo] else ch for ch, lo, h in zip(self.chars, self.lo, self.hi)])

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The original span of view characters ``a:b``."""
        return self.lo[a], self.hi[b - 1]


# ------------------------------------------------------------------------------ patterns
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_PLATE_SUFFIX = "学港澳挂警领试超"
_L = "A-HJ-NP-Za-hj-np-z"  # plate letters: no I, no O
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+ *@ *[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# a date written with separators (or 年/月) is never part of a number
_DATE_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?: +|年)(?:0?[1-9]|1[0-2])(?: +|月)(?:0?[1-9]|[12]\d|3[01])日?(?!\d)")
_ID18_RUN_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
_ID18_RE = re.compile(r"(?<!\d)\d(?: *\d){16} *[\dXx](?![\dXx])")
# (a trailing X makes it an ID number; any other grouping takes the whole run or nothing)
_CARD_RE = re.compile(
    r"(?<!\d)(?:(?P<run>\d{16,19})|(?P<groups>\d{4}(?: +\d{4}){3}(?: +\d{1,3})?)(?! +\d{1,3} *[Xx])|"
    r"(?P<any>\d(?: *\d){15,18}+))(?!\d)(?! *[Xx])"
)
_ID15_RE = re.compile(r"(?<!\d)[1-8](?: *\d){14}(?![\dXx])")
_CC = r"(?:(?:\+|0 *0) *8 *6 *|8 *6 *)"  # the country code in front of a number: +86, 0086, 86
_MOBILE_RE = re.compile(rf"(?<!\d){_CC}?1 *[3-9](?: *\d){{9}}(?!\d)")
_LANDLINE_RE = re.compile(
    rf"(?<!\d)(?:{_CC}(?:0 *)?|0 *)(?:1 *0|2 *\d|[3-9] *\d *\d) *\d(?: *\d){{6,7}}"
    r"(?: *(?:转|分机|[Ee][Xx][Tt]|[Xx#]) *\d(?: *\d){0,5})?(?!\d)"
)
_PLATE_RE = re.compile(
    rf"[{_PROVINCES}] *[{_L}] *(?P<tail>[{_L}0-9]{{4,6}})(?P<suffix>[{_PLATE_SUFFIX}])?"
    r"(?![A-Za-z0-9])"
)
_PROVINCE_RE = re.compile(f"[{_PROVINCES}]")
_MIN_DIGITS = 10  # the shortest number masked: a landline 010 1234567
_DIGIT_RE = re.compile("[0-9]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_date(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31 and 1900 <= y <= 2099


def _id18_ok(digits: str) -> bool:
    d = digits.upper()
    check = "10X98765432"[sum(int(c) * w for c, w in zip(d[:17], _ID_WEIGHTS)) % 11]
    return check == d[17] or _valid_date(int(d[6:10]), int(d[10:12]), int(d[12:14]))


def _id15_ok(digits: str) -> bool:
    return _valid_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _card_ok(m: re.Match) -> bool:
    """A run or groups of four are a card; any other grouping must look like one (groups of one
    size, the last one maybe shorter, or the 6-digit bank code and the rest) and pass Luhn."""
    if m.group("any") is None:
        return True
    sizes = [len(g) for g in m.group("any").split()]
    grouped = len(set(sizes[:-1])) <= 1 and sizes[-1] <= sizes[0] or (len(sizes) == 2 and sizes[0] == 6)
    return grouped and _luhn("".join(m.group("any").split()))


def _plate_ok(m: re.Match) -> bool:
    tail = m.group("tail")
    digits = sum(c.isdigit() for c in tail)
    if len(tail) == 4:
        return m.group("suffix") is not None and digits >= 2
    return digits >= 3


#: (category, pattern, check) in the order they are tried on the number view: the longer
#: numbers first, so that no shorter one takes a piece of a longer one
_NUMBER_PATTERNS = (
    ("id_number", _ID18_RUN_RE, lambda m: _id18_ok(m.group())),
    ("bank_card", _CARD_RE, _card_ok),
    ("id_number", _ID18_RE, lambda m: _id18_ok(m.group().replace(" ", ""))),
    ("id_number", _ID15_RE, lambda m: _id15_ok(m.group().replace(" ", ""))),
    ("mobile", _MOBILE_RE, None),
    ("landline", _LANDLINE_RE, None),
    ("plate", _PLATE_RE, _plate_ok),
)


def _name_start(s: str, h: int) -> int | None:
    """Start of the surname (and given name) directly before an honorific at ``h``, or None.

    The longest reading wins (司马小明先生 is one name, not 司马小 + 明先生): a surname, then
    up to two given-name characters. A surname that is also an everyday word (谢 in 谢谢) only
    counts directly before the honorific; a masked word in front of a name ("车主王先生" ->
    "*先生") is the price of never leaving a full name behind.
    """
    for g in (2, 1, 0):  # characters of the given name between surname and honorific
        k = h - g
        if k < 1 or not all("\u4e00" <= c <= "\u9fff" and c not in _NOT_GIVEN for c in s[k:h]):
            continue
        if s[max(k - 2, 0) : k] in COMPOUND_SURNAMES:
            return k - 2
        word = s[k - 1] in _NOT_GIVEN
        if s[k - 1] in SURNAMES and (not word or g == 0 and s[k - 2 : k - 1] != s[k - 1]):
            return k - 1  # (谢谢先生 is thanks, not a Mr Xie)
    return None


def find(text: str) -> list[tuple[int, int, str]]:
    """The personal data in ``text``: sorted ``(start, end, category)`` spans of the original.

    >>> find("电话139 1234 5678，王先生")
    [(2, 15, 'mobile'), (16, 17, 'name')]
    """
    if not text:
        return []
    taken = bytearray(len(text))
    spans: list[tuple[int, int, str]] = []

    def take(a: int, b: int, category: str) -> None:
        spans.append((a, b, category))
        taken[a:b] = b"\x01" * (b - a)

    plain = _View(text, numbers=False)
    s = plain.text()
    if "@" in s:
        for m in _EMAIL_RE.finditer(s):
            take(*plain.span(*m.span()), "email")
    num = _View(text, numbers=True)
    view = num.text(taken)  # the e-mail addresses taken out
    digits = len(_DIGIT_RE.findall(view))
    province = _PROVINCE_RE.search(view) is not None
    if digits >= _MIN_DIGITS or province:
        # work in view positions: a date or a number found is blanked out for the later patterns
        for m in _DATE_RE.finditer(view):
            view = view[: m.start()] + _HARD * (m.end() - m.start()) + view[m.end() :]
        for category, pattern, check in _NUMBER_PATTERNS:
            if not (province if category == "plate" else digits >= _MIN_DIGITS):
                continue
            found = []
            for m in pattern.finditer(view):
                if check is None or check(m):
                    found.append(m.span())
                    a, b = num.span(*m.span())
                    if a and text[a - 1] in "(（" and (")" in text[a:b] or "）" in text[a:b]):
                        a -= 1  # "(021) 6123 4567", "(+86)139…": the opening parenthesis goes too
                    take(a, b, category)
            for va, vb in found:
                view = view[:va] + _HARD * (vb - va) + view[vb:]
    s = plain.text()
    for m in _HONORIFIC_RE.finditer(s):
        k = _name_start(s, m.start())
        if k is not None:
            a, b = plain.span(k, m.start())
            if not any(taken[a:b]):
                take(a, b, "name")
    return sorted(spans)


def mask(text: str) -> str:
    """``text`` with its personal data replaced by placeholders (see the module docstring).

    >>> mask("请联系13912345678或li.wei@163.com，车牌沪AD12345，欧阳女士")
    '请联系[手机号]或[邮箱]，车牌[车牌号]，*女士'
    >>> mask("工单V000123，金额1200.50，2026-10-03 09:30，9分")
    '工单V000123，金额1200.50，2026-10-03 09:30，9分'
    """
    if not isinstance(text, str) or not text:
        return text
    spans = find(text)
    if not spans:
        return text
    out, pos = [], 0
    for a, b, category in spans:
        out.append(text[pos:a])
        out.append(PLACEHOLDERS[category])
        pos = b
    out.append(text[pos:])
    return "".join(out)


# ----------------------------------------------------------------------- vectorised path
# The candidate filter (RE2, on the NFKC-normalised column) must select every value that
# :func:`mask` changes: its character classes are those of the view above.
_RE2_SEP = (
    r"[\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cf}\p{Mn}\p{Me}"
    + "".join("\\" + c if c in "\\-]^[" else c for c in sorted(_SEP_CHARS))
    + "]"
)
_RE2_DIGIT = r"[\p{Nd}" + "".join(NUMERALS) + "]"
# dates written with separators, replaced before the filter looks for runs of digits (a
# subset of what the view protects, so the filter stays a superset of what is masked)
_RE2_DATE = (
    rf"(^|[^\p{{Nd}}])((?:19|20)[0-9]{{2}}(?:{_RE2_SEP}+|年)(?:0?[1-9]|1[0-2])(?:{_RE2_SEP}+|月)"
    rf"(?:0?[1-9]|[12][0-9]|3[01])日?)([^\p{{Nd}}]|$)"
)
_RE2_NEED = (
    rf"@|先生|女士|小姐|[{_PROVINCES}]{_RE2_SEP}*\p{{Latin}}|"
    rf"{_RE2_DIGIT}(?:{_RE2_SEP}*{_RE2_DIGIT}){{9}}"
)


def candidates(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean mask of the values of a string array that may hold personal data (vectorised).

    >>> import pyarrow as pa
    >>> candidates(pa.array(["很好", "电话１３９ 1234 5678", None, "2026-10-03 09:30:00"])).tolist()
    [False, True, False, False]
    """
    import numpy as np
    import pyarrow.compute as pc

    norm = pc.utf8_normalize(arr, form="NFKC")
    norm = pc.replace_substring_regex(norm, _RE2_DATE, r"\1#\3")
    hit = pc.fill_null(pc.match_substring_regex(norm, _RE2_NEED), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def mask_array(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """A string array with :func:`mask` applied to every value, and the mask of changed values.

    Only the candidates (:func:`candidates`) are masked in Python; the rest is left as it is.

    >>> import pyarrow as pa
    >>> out, changed = mask_array(pa.array(["很好", "打13912345678", None]))
    >>> out.to_pylist(), changed.tolist()
    (['很好', '打[手机号]', None], [False, True, False])
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    changed = np.zeros(len(arr), dtype=bool)
    idx = np.flatnonzero(candidates(arr))
    if not len(idx):
        return arr, changed
    old = arr.take(pa.array(idx)).to_pylist()
    # each distinct candidate masked once (an id repeated on many rows of a table, say)
    seen: dict[str, str] = {}
    new = [seen[t] if t in seen else seen.setdefault(t, mask(t)) for t in old]
    diff = np.fromiter((a != b for a, b in zip(old, new)), dtype=bool, count=len(old))
    if not diff.any():
        return arr, changed
    changed[idx[diff]] = True
    import pyarrow.compute as pc

    replacements = pa.array([t for t, d in zip(new, diff) if d], type=arr.type)
    return pc.replace_with_mask(arr, pa.array(changed), replacements), changed


def mask_values(values: Iterable[Any]) -> list[Any]:
    """:func:`mask` applied to the text values of a sequence (other values are kept), vectorised.

    >>> mask_values(["打13912345678", 3, None])
    ['打[手机号]', 3, None]
    """
    import pyarrow as pa

    values = list(values)
    pos = [i for i, v in enumerate(values) if isinstance(v, str)]
    if not pos:
        return values
    out, changed = mask_array(pa.array([values[i] for i in pos], type=pa.string()))
    if changed.any():
        masked = out.to_pylist()
        for k in changed.nonzero()[0].tolist():
            values[pos[k]] = masked[k]
    return values


# ---------------------------------------------------------------------------------- logs
class MaskingFilter(logging.Filter):
    """A logging filter that masks the message (and any exception text) of each record.

    >>> log = logging.getLogger("cxlib.doctest")
    >>> h = logging.StreamHandler(__import__("sys").stdout); h.addFilter(MaskingFilter()); log.addHandler(h)
    >>> log.warning("customer %s called", "13912345678")
    customer [手机号] called
    >>> log.removeHandler(h)
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True
