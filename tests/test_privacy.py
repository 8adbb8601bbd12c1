"""Personal data masking: every spelling of every category, look-alikes that must survive,
the vectorised path, and no personal data in anything the cleaning writes, in error lines or
in the report log."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import COMPLAINTS, EVENTS, SURVEYS, VISITS, write_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlib import clean, cli, folders, notebooks, privacy
from cxlib.errors import DataError
from cxlib.report import runlog

# --------------------------------------------------------------------------- examples
MASKED = [
    # mobile numbers
    ("电话13912345678谢谢", "电话[手机号]谢谢"),
    ("电话139.1234.5678谢谢", "电话[手机号]谢谢"),
    ("电话139 - 1234 - 5678谢谢", "电话[手机号]谢谢"),
    ("电话１３９－１２３４－５６７８谢谢", "电话[手机号]谢谢"),
    ("电话１３９１２３４５６７８谢谢", "电话[手机号]谢谢"),
    ("电话1 3 9 1 2 3 4 5 6 7 8谢谢", "电话[手机号]谢谢"),
    ("电话一三九一二三四五六七八谢谢", "电话[手机号]谢谢"),
    ("电话幺三九 幺二三四 五六七八", "电话[手机号]"),
    ("电话壹叁玖壹贰叁肆伍陆柒捌", "电话[手机号]"),
    ("手机139\n1234\n5678好", "手机[手机号]好"),
    ("手机139\u30001234\u30005678好", "手机[手机号]好"),
    ("手机139\u200b1234\u200b5678好", "手机[手机号]好"),
    ("请打+86 139 1234 5678", "请打[手机号]"),
    ("请打0086-13912345678", "请打[手机号]"),
    ("请打(+86)13912345678", "请打[手机号]"),
    ("请打(13912345678)", "请打([手机号])"),
    ("请打8613912345678", "请打[手机号]"),
    ("打13912345678一下", "打[手机号]一下"),
    ("联系13912345678，13800138000", "联系[手机号]，[手机号]"),
    ("退款1200.50 13912345678", "退款1200.50 [手机号]"),
    # ID numbers
    ("身份证11010519491231002X好", "身份证[身份证号]好"),
    ("身份证110105 19491231 002X好", "身份证[身份证号]好"),
    ("身份证110105-19491231-002x好", "身份证[身份证号]好"),
    ("身份证1101 0519 4912 3100 2X好", "身份证[身份证号]好"),
    ("老身份证110105491231002请", "老身份证[身份证号]请"),
    ("老身份证110105 491231 002请", "老身份证[身份证号]请"),
    # plates
    ("车牌沪A12345", "车牌[车牌号]"),
    ("车牌沪A·12345", "车牌[车牌号]"),
    ("车牌沪A•12345", "车牌[车牌号]"),
    ("车牌沪A-12345", "车牌[车牌号]"),
    ("车牌沪A 12345", "车牌[车牌号]"),
    ("车牌沪Ａ１２３４５", "车牌[车牌号]"),
    ("车牌沪AD12345新能源", "车牌[车牌号]新能源"),
    ("车牌沪A12345F的", "车牌[车牌号]的"),
    ("车牌沪A1234学", "车牌[车牌号]"),
    ("粤Z1234港车", "[车牌号]车"),
    ("粤Z1234澳车", "[车牌号]车"),
    ("沪A1234挂", "[车牌号]"),
    ("沪A1234警", "[车牌号]"),
    ("京A·B1234", "[车牌号]"),
    # e-mail, landline, bank card
    ("邮箱li.wei@163.com谢谢", "邮箱[邮箱]谢谢"),
    ("邮箱LI＠QQ.COM", "邮箱[邮箱]"),
    ("邮箱13912345678@139.com", "邮箱[邮箱]"),
    ("座机021-61234567", "座机[电话]"),
    ("座机(021) 6123 4567转 8001", "座机[电话]"),
    ("座机（０２１）６１２３４５６７", "座机[电话]"),
    ("座机010-12345678", "座机[电话]"),
    ("座机0755-2612345", "座机[电话]"),
    ("座机+86 21 6123 4567", "座机[电话]"),
    ("座机021-61234567 ext 12", "座机[电话]"),
    ("卡号6222021234567890123", "卡号[银行卡号]"),
    ("卡号6222 0212 3456 7890", "卡号[银行卡号]"),
    ("卡号6222-0212-3456-7890-123", "卡号[银行卡号]"),
    ("卡号六二二二〇二一二三四五六七八九〇", "卡号[银行卡号]"),
    ("卡号622202 1234567890128", "卡号[银行卡号]"),  # bank code and the rest, Luhn valid
    ("卡号4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "卡号[银行卡号]"),
    # names
    ("王先生很好", "*先生很好"),
    ("欧阳女士很好", "*女士很好"),
    ("谢谢李小姐", "谢谢*小姐"),
    ("张伟先生来取车", "*先生来取车"),
    ("司马小明先生", "*先生"),
    ("王小明先生", "*先生"),
    ("谢谢王先生", "谢谢*先生"),
    ("陆先生和伍女士", "*先生和*女士"),
    # several at once; the text around is kept
    ("顾问很好，我的车沪B·98765，电话 13912345678", "顾问很好，我的车[车牌号]，电话 [手机号]"),
]

KEPT = [
    "工单V000123，问卷R2000001，投诉CP20000001",
    "金额1200.50元，共计12,345.00元",
    "2026-10-03 09:30到店，2026/10/03 12:00交车",
    "2026-10-03 2026-10-05 两天",
    "20261003 20261005 两天",
    "金额1200.50 1234.56 3456.78 88.00",
    "2026/10/03至2026/10/05",
    "2026年10月3日 09:30:00",
    "2026-10-03T09:30:00+08:00",
    "46298.375",
    "评分9分，推荐10分，焦虑80%",
    "评分9 8 7 6 5 4 3 2 1 0 9",
    "ES6很好，新ES8 2023款也不错，ET5T",
    "等了两个小时，一二三名，第一次来",
    "订单号12345678",
    "这位先生，我和先生，我家先生，服务员小姐，一位女士，老先生，各位女士，谢谢先生",
    "沪上服务，京东E卡，新能源车",
    "<script>alert('x')</script> 页面显示测试",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_every_spelling_is_masked_and_the_text_around_kept(text, expected):
    assert privacy.mask(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_not_masked(text):
    assert privacy.mask(text) == text


def test_find_names_categories_and_original_spans():
    text = "电话１３９ 1234 5678，邮箱a.b@x.cn，王先生"
    spans = privacy.find(text)
    assert [(text[a:b], c) for a, b, c in spans] == [
        ("１３９ 1234 5678", "mobile"),
        ("a.b@x.cn", "email"),
        ("王", "name"),
    ]


def test_chars_that_normalise_to_several_keep_the_index_map():
    # ㈠ is "(一)" after NFKC: the view is longer than the text, the mask still lands on it
    assert privacy.mask("电话㈠三九一二三四五六七八好") == "电话[手机号]好"
    assert privacy.mask("⑴3912345678好") == "[手机号]好"


def test_clean_keeps_its_old_name():
    assert clean.mask_pii is privacy.mask


# ------------------------------------------------------------------- property tests
CONTEXT = st.text(alphabet="请联系我的电话号码是车牌身份证卡号邮箱谢谢服务很好等待时间太长了，。！", max_size=8)
_NUMERAL_FOR = {
    "0": "零〇○",
    "1": "一幺壹",
    "2": "二两贰",
    "3": "三叁",
    "4": "四肆",
    "5": "五伍",
    "6": "六陆",
    "7": "七柒",
    "8": "八捌",
    "9": "九玖",
}
_FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")
SPELLINGS = (
    "plain",
    "dots",
    "spaced_hyphens",
    "fullwidth",
    "digit_spaces",
    "numerals",
    "line_breaks",
    "ideographic_space",
    "dashes",
)


def _region(draw) -> str:
    return draw(st.sampled_from(["110105", "310101", "440106", "330106", "510107", "440305", "130102", "650102"]))


@st.composite
def mobiles(draw) -> tuple[str, list[str]]:
    digits = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    prefix = draw(st.sampled_from(["", "", "+86 ", "0086", "86"]))
    return digits, [prefix, digits[:3], digits[3:7], digits[7:]]


@st.composite
def id18s(draw) -> tuple[str, list[str]]:
    birth = draw(st.dates(min_value=pd.Timestamp("1940-01-01").date(), max_value=pd.Timestamp("2010-12-31").date()))
    body = f"{_region(draw)}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    digits = body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return digits, ["", digits[:6], digits[6:14], digits[14:]]


@st.composite
def id15s(draw) -> tuple[str, list[str]]:
    birth = draw(st.dates(min_value=pd.Timestamp("1940-01-01").date(), max_value=pd.Timestamp("1999-12-31").date()))
    digits = f"{_region(draw)}{birth:%y%m%d}{draw(st.integers(0, 999)):03d}"
    return digits, ["", digits[:6], digits[6:12], digits[12:]]


@st.composite
def cards(draw) -> tuple[str, list[str]]:
    n = draw(st.integers(16, 19))
    body = "62" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n - 3, max_size=n - 3)))
    for check in "0123456789":
        if privacy._luhn(body + check):
            break
    digits = body + check
    return digits, [""] + [digits[i : i + 4] for i in range(0, n, 4)]


@st.composite
def landlines(draw) -> tuple[str, list[str]]:
    area = draw(st.sampled_from(["010", "021", "022", "020", "0755", "0571", "028"]))
    size = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("2345678")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=size - 1, max_size=size - 1))
    )
    ext = draw(st.sampled_from(["", "", "转8001", " ext 12"]))
    return area + local + "".join(c for c in ext if c.isdigit()), ["", area, local[:4], local[4:] + ext]


def spell(groups: list[str], style: str, draw) -> str:
    """A number (country code or other prefix first, then its digit groups) in one spelling."""
    prefix, parts = groups[0], [g for g in groups[1:] if g]
    if style == "plain":
        return prefix + "".join(parts)
    if style == "dots":
        return prefix + ".".join(parts)
    if style == "spaced_hyphens":
        return prefix + " - ".join(parts)
    if style == "fullwidth":
        return (prefix + "－".join(parts)).translate(_FULL)
    if style == "digit_spaces":
        return re.sub(r"(?<=\d)(?=\d)", " ", prefix + "".join(parts))
    if style == "numerals":

        def numeral(c: str) -> str:
            return draw(st.sampled_from(_NUMERAL_FOR[c])) if c in _NUMERAL_FOR else c

        return "".join(numeral(c) for c in prefix) + " ".join("".join(numeral(c) for c in p) for p in parts)
    if style == "line_breaks":
        return prefix + draw(st.sampled_from(["\n", "\r\n"])).join(parts)
    if style == "ideographic_space":
        return prefix + "\u3000".join(parts)
    if style == "dashes":
        return prefix + draw(st.sampled_from(["–", "—", "‐", "﹣"])).join(parts)
    raise AssertionError(style)


def digits_left(text: str) -> str:
    """The digits of ``text`` after NFKC, Chinese numerals as digits, separators removed."""
    view = privacy._View(text, numbers=True).text()
    return "".join(c for c in view if c.isdigit())


NUMBERS = st.one_of(mobiles(), id18s(), id15s(), cards(), landlines())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), number=NUMBERS, style=st.sampled_from(SPELLINGS), before=CONTEXT, after=CONTEXT)
def test_generated_numbers_never_survive_in_any_spelling(data, number, style, before, after):
    digits, groups = number
    text = before + spell(groups, style, data.draw) + after
    out = privacy.mask(text)
    assert digits_left(out) == "", (text, out)
    assert out.startswith(before) and out.endswith(after), (text, out)


@settings(max_examples=100, deadline=None)
@given(number=st.one_of(mobiles(), cards(), landlines()), after=st.sampled_from(["一下", "一定回电", "两次"]))
def test_a_number_next_to_a_chinese_numeral_word_is_masked_and_the_word_kept(number, after):
    digits, groups = number
    out = privacy.mask("请打" + "".join(groups) + after)
    assert out.endswith(after) and digits not in out and digits_left(out.removesuffix(after)) == ""


@st.composite
def plates(draw) -> tuple[str, str]:
    prov = draw(st.sampled_from("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"))
    letter = draw(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=5, max_size=5)))
    kind = draw(st.sampled_from(["ordinary", "nev_front", "nev_back", "suffix"]))
    tail = {
        "ordinary": digits,
        "nev_front": draw(st.sampled_from("DF")) + digits,
        "nev_back": digits + draw(st.sampled_from("DF")),
        "suffix": digits[:4] + draw(st.sampled_from("学港澳挂警领试超")),
    }[kind]
    sep = draw(st.sampled_from(["", "·", "•", "-", " ", "－", "・"]))
    text = prov + letter + sep + tail
    if draw(st.booleans()):
        text = unicodedata.normalize("NFKC", text).translate(
            str.maketrans(
                "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789",
                "ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９",
            )
        )
    return text, "".join(c for c in tail if c.isdigit())


@settings(max_examples=200, deadline=None)
@given(plate=plates(), before=CONTEXT, after=CONTEXT)
def test_generated_plates_never_survive(plate, before, after):
    text, digits = plate
    out = privacy.mask(before + text + after)
    assert out == before + "[车牌号]" + after, (text, out)


@st.composite
def emails(draw) -> tuple[str, str, str]:
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    local = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz")) + draw(st.text(alphabet=alnum + "._", max_size=10))
    domain = draw(st.text(alphabet=alnum, min_size=2, max_size=8))
    tld = draw(st.sampled_from(["com", "cn", "com.cn", "net"]))
    at = draw(st.sampled_from(["@", "＠"]))
    text = f"{local}{at}{domain}.{tld}"
    return (text.upper() if draw(st.booleans()) else text), local.rstrip("._"), domain


@settings(max_examples=200, deadline=None)
@given(email=emails(), before=CONTEXT, after=CONTEXT)
def test_generated_emails_never_survive(email, before, after):
    text, local, domain = email
    out = privacy.mask(before + text + after)
    assert out == before + "[邮箱]" + after, (text, out)


SOME_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    parts=st.lists(
        st.one_of(SOME_TEXT, CONTEXT, NUMBERS, plates(), emails(), st.sampled_from(KEPT + [t for t, _ in MASKED])),
        max_size=4,
    ),
)
def test_the_vectorised_path_masks_exactly_what_mask_masks(data, parts):
    texts = []
    for p in parts:
        if isinstance(p, tuple) and isinstance(p[1], list):
            texts.append(spell(p[1], data.draw(st.sampled_from(SPELLINGS)), data.draw))
        else:
            texts.append(p[0] if isinstance(p, tuple) else p)
    values = ["".join(texts), *texts, None]
    out, changed = privacy.mask_array(pa.array(values, type=pa.string()))
    expected = [privacy.mask(v) if v is not None else None for v in values]
    assert out.to_pylist() == expected
    assert changed.tolist() == [e != v for e, v in zip(expected, values)]


def test_the_candidate_filter_knows_every_character_that_normalises_to_a_digit_or_marker():
    # the filter runs on the NFKC-normalised column: every character that NFKC turns into a
    # digit, a numeral, "@", a province or an honorific character must make a value a candidate
    provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
    texts = {}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if len(n) != 1:
            continue
        if n in privacy.NUMERALS or unicodedata.decimal(n, None) is not None:
            texts[c] = c * 10
        elif n == "@":
            texts[c] = f"li{c}x.cn"
        elif n in provinces:
            texts[c] = f"{c}A12345"
        elif n in "先生女士小姐":
            texts[c] = "王" + next(h for h in privacy.HONORIFICS if n in h).replace(n, c)
    assert len(texts) > 600
    hit = privacy.candidates(pa.array(list(texts.values())))
    assert hit.all(), [c for c, h in zip(texts, hit) if not h]


def test_masking_a_large_column_touches_only_candidates():
    values = ["很好", "等太久了", None, "2026-10-03 09:30:00", "打13912345678"] * 2000
    out, changed = privacy.mask_array(pa.array(values))
    assert changed.sum() == 2000 and out.to_pylist()[4] == "打[手机号]" and out.to_pylist()[3] == values[3]
    assert privacy.candidates(pa.array(values)).sum() == 2000


# --------------------------------------------------------------- nothing written leaks
SECRETS = [
    "13912345678",
    "13987654321",
    "13800138000",
    "11010519491231002X",
    "110105491231002",
    "6222021234567890123",
    "6222021234567890",
    "02161234567",
    "li.wei@163.com",
    "王先生",
]


def normalised(text: str) -> str:
    """NFKC, Chinese numerals as digits, separators removed (what a number is matched on)."""
    return privacy._View(text, numbers=True).text().replace(" ", "")


def all_text(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` as text: Parquet cell by cell (and its metadata), the rest as is."""
    out = {}
    for f in sorted(folder.iterdir()):
        blob = f.read_bytes().decode("utf-8", errors="ignore")
        if f.suffix == ".parquet":
            t = pq.read_table(f)
            cells = [str(v) for col in t.columns for v in col.to_pylist()]
            blob += "\n".join(cells) + str(t.schema.metadata)
        out[f.name] = blob
    return out


def assert_no_secret(name: str, text: str) -> None:
    norm = normalised(text)
    for secret in SECRETS:
        assert secret not in text and normalised(secret) not in norm, (name, secret)


def test_nothing_the_cleaning_writes_holds_personal_data(tmp_path):
    surveys = pd.concat(
        [
            SURVEYS,
            pd.DataFrame(
                [
                    {
                        **SURVEYS.iloc[0].to_dict(),
                        "response_id": "R3",
                        "visit_id": "V404",  # orphan: quarantined
                        "comment": "打一三九八七六五四三二一找我，邮箱li.wei@163.com",
                    },
                    {
                        **SURVEYS.iloc[0].to_dict(),
                        "response_id": "R1",  # duplicate id: quarantined
                        "comment": "我的电话是139\n8765\n4321，王先生",
                    },
                ]
            ),
        ],
        ignore_index=True,
    )
    surveys.loc[0, "comment"] = "顾问很好，手机139.1234.5678，车牌沪Ａ·９８７６５"
    surveys.loc[1, "comment"] = "身份证110105 19491231 002X，卡号6222 0212 3456 7890 123"
    complaints = pd.concat(
        [
            COMPLAINTS,
            pd.DataFrame(
                [
                    {
                        **COMPLAINTS.iloc[0].to_dict(),
                        "complaint_id": "K2",
                        "visit_id": "V404",
                        "category": "退款到银行卡6222021234567890",
                    },
                ]
            ),
        ],
        ignore_index=True,
    )
    complaints.loc[0, "category"] = "王先生投诉，座机(021) 6123-4567"
    visits = VISITS.copy()
    visits.loc[1, "vehicle_model"] = "ET5 沪AD12345"
    events = pd.concat(
        [
            EVENTS,
            pd.DataFrame(
                [
                    {**EVENTS.iloc[0].to_dict(), "touchpoint": "call_13800138000"},  # unknown touchpoint: quarantined
                ]
            ),
        ],
        ignore_index=True,
    )
    raw = write_raw(tmp_path / "raw", surveys=surveys, complaints=complaints, visits=visits, touchpoints=events)
    out = tmp_path / "out"
    clean.clean(raw, out)
    data = clean.read_processed(out)

    s = data.surveys.set_index("response_id")["comment"]
    assert s["R1"] == "顾问很好，手机[手机号]，车牌[车牌号]"
    assert s["R2"] == "身份证[身份证号]，卡号[银行卡号]"
    c = data.complaints.set_index("complaint_id")["category"]
    assert c["K1"] == "*先生投诉，座机[电话]"
    assert data.visits.set_index("visit_id").loc["V2", "vehicle_model"] == "ET5 [车牌号]"
    q = data.quarantine.set_index(["table", "source_row"])
    dup = json.loads(q.loc[("surveys", 4), "raw"])
    assert q.loc[("surveys", 4), "rule"] == "duplicate_id" and dup["comment"] == "我的电话是[手机号]，*先生"
    assert json.loads(q.loc[("surveys", 3), "raw"])["comment"] == "打[手机号]找我，邮箱[邮箱]"
    assert json.loads(q.loc[("complaints", 2), "raw"])["category"] == "退款到银行卡[银行卡号]"
    assert q.loc[("touchpoints", 9), "reason"] == "touchpoint 'call_[手机号]' is not in the catalog"
    assert json.loads(q.loc[("touchpoints", 9), "raw"])["touchpoint"] == "call_[手机号]"
    assert data.quality["tables"]["surveys"]["rules"]["pii_masked"]["rows"] == 2
    assert data.quality["tables"]["complaints"]["rules"]["pii_masked"]["rows"] == 1
    assert data.quality["tables"]["visits"]["rules"]["pii_masked"]["rows"] == 1
    # the row accounting is untouched
    for t in data.quality["tables"].values():
        assert t["read"] == t["kept"] + t["quarantined"]

    files = all_text(out)
    assert set(files) == set(clean.OUTPUT_FILES) | {folders.LOCK_NAME}  # the lock file is empty
    for name, text in files.items():
        assert_no_secret(name, text)


def test_error_lines_are_masked(tmp_path, capsys):
    e = DataError("ltr '139 1234 5678' is not a score", file="surveys.csv", column="ltr", row=3)
    assert str(e) == "surveys.csv, column ltr, row 3: ltr '[手机号]' is not a score"
    assert e.args == (str(e),)
    assert cli.main(["clean", str(tmp_path / "客户13912345678"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cx: error: ") and "[手机号]" in err and "13912345678" not in err
    assert (
        notebooks.error_line(RuntimeError("cell failed\nValueError: no visit for 139-1234-5678"))
        == "RuntimeError: ValueError: no visit for [手机号]"
    )


def test_the_report_log_is_masked(tmp_path, capsys):
    log_file = tmp_path / "run.log"
    runlog.setup_logging(log_file, console=True)
    try:
        runlog.log.info("2026-10 SH-JQ 02_emotion_curves ok in %.1f s", 3.25)
        runlog.log.error("2026-10 SH-JQ %s failed: %s", "02_emotion_curves", "KeyError: '王先生 13912345678'")
        try:
            raise ValueError("bad comment 一三九一二三四五六七八")
        except ValueError:
            runlog.log.exception("stopped")
    finally:
        for h in list(runlog.log.handlers):
            h.close()
            runlog.log.removeHandler(h)
    text = log_file.read_text(encoding="utf-8")
    assert "ok in 3.2 s" in text and "failed: KeyError: '*先生 [手机号]'" in text
    assert "ValueError: bad comment [手机号]" in text
    err = capsys.readouterr().err
    assert "cx report: 2026-10 SH-JQ 02_emotion_curves failed: KeyError: '*先生 [手机号]'" in err
    for name, blob in (("run.log", text), ("stderr", err)):
        assert_no_secret(name, blob)


def test_masking_filter_leaves_other_records_alone():
    record = logging.LogRecord("cxlib.report", logging.INFO, __file__, 1, "%d notebooks in %s", (5, "SH-JQ"), None)
    assert privacy.MaskingFilter().filter(record) and record.getMessage() == "5 notebooks in SH-JQ"


@pytest.mark.slow
def test_tracebacks_and_warnings_in_executed_notebooks_are_masked(tmp_path):
    """A cell that fails on a value of the data, or warns about it, quotes the value: the
    executed copy (and so its HTML page) carries it masked."""
    import nbformat
    from conftest import write_notebook
    from papermill.exceptions import PapermillExecutionError

    src = tmp_path / "01_leak.ipynb"
    # the values are put together at run time, as values of the data would be
    write_notebook(
        src,
        "import sys\nphone, plate = '139' + '1234' + '5678', '沪' + 'A12345'\n"
        "print('客户', phone[:3], phone[3:7], phone[7:], '未找到', file=sys.stderr)\n"
        "raise KeyError(plate + ' / ' + phone)",
    )
    dst = tmp_path / "out" / "01_leak.ipynb"
    with pytest.raises(PapermillExecutionError):
        notebooks.run_notebook(src, dst)
    text = dst.read_text(encoding="utf-8")
    assert "[手机号]" in text and "[车牌号]" in text
    for secret in ("13912345678", "139 1234 5678", "沪A12345"):
        assert secret not in text
    outputs = [o for c in nbformat.read(dst, as_version=4).cells for o in c.get("outputs", [])]
    assert any(o["output_type"] == "error" and o["evalue"] == "'[车牌号] / [手机号]'" for o in outputs)
    assert any(o.get("name") == "stderr" and o["text"] == "客户 [手机号] 未找到\n" for o in outputs)


def test_a_value_repeated_on_many_rows_is_masked_on_every_row():
    """Each distinct candidate is masked once and the result put on all its rows."""
    import pyarrow as pa

    from cxlib.privacy import mask_array

    values = ["打13912345678", "ok", "打13912345678", None, "邮件 a@b.cn", "打13912345678"]
    out, changed = mask_array(pa.array(values))
    assert out.to_pylist() == ["打[手机号]", "ok", "打[手机号]", None, "邮件 [邮箱]", "打[手机号]"]
    assert changed.tolist() == [True, False, True, False, True, True]
