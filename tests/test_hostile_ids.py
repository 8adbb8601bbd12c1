"""Center ids from the data never become a path or a link: the id rule, the report folders,
collisions of ids, names and aliases, and report runs over hostile ids."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest
from conftest import CENTERS, VISITS, write_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import clean, cli, report, safe
from cxlib.errors import DataError

# ids that are clearly not ids, and the reason each is refused
REFUSED = [
    ("SH\tJQ", "control or invisible character (U+0009)"),
    ("SH\x1bJQ", "control or invisible character (U+001B)"),
    ("SH\u200bJQ", "control or invisible character (U+200B)"),
    ("SH\u2028JQ", "control or invisible character (U+2028)"),
    ("a/b", "path separator"),
    ("..\\x", "path separator"),
    ("ａ／ｂ", "path separator"),  # full-width solidus: '/' once NFKC-normalised
    ("..", "starts with '.'"),
    (".", "starts with '.'"),
    ("．．", "starts with '.'"),
    (".old-SH-JQ", "starts with '.'"),
    (".tmp-x", "starts with '.'"),
    (".lock", "starts with '.'"),
    ("all", "a name the report run uses itself"),
    ("ALL", "a name the report run uses itself"),
    ("ａｌｌ", "a name the report run uses itself"),
    ("index.html", "a name the report run uses itself"),
    ("Run.Log", "a name the report run uses itself"),
    ("SH-JQ,BJ-WJ", "contains ','"),
    ("x" * 65, "longer than 64 characters"),
]
# ids that look odd but are just text: accepted, with a folder of their own
ACCEPTED = [
    "上海-金桥",
    "Store 12",
    "javascript:alert(1)",
    "<img src=x onerror=alert(1)>",
    "a\"b'c",
    "CON",
    "Ab--c",
    "%2e%2e",
    "$x^$",
    "x" * 64,
    "SH_JQ-2",
]
FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


# ------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("cid, why", REFUSED)
def test_refused_ids_name_file_row_and_reason(cid, why):
    with pytest.raises(DataError) as err:
        safe.check_center_id(cid, file="centers.csv", row=4)
    text = str(err.value)
    assert text.startswith("centers.csv, column center_id, row 4: center id ") and why in text
    assert "\n" not in text and "\t" not in text and "\x1b" not in text  # one printable line


@pytest.mark.parametrize("cid", ACCEPTED)
def test_accepted_ids_get_a_safe_folder(cid):
    assert safe.check_center_id(cid) == cid
    folder = safe.center_folder(cid)
    assert FOLDER.fullmatch(folder) and len(folder) <= 64
    assert folder.casefold() not in {"all", "index.html", "run.log", "con", "nul", "aux", "prn"}


def test_plain_ascii_ids_are_their_own_folder_and_others_get_a_hash():
    assert [safe.center_folder(c) for c in ("SH-JQ", "BJ_CY2", "x" * 64)] == ["SH-JQ", "BJ_CY2", "x" * 64]
    assert safe.center_folder("Store 12") == "Store-12--1f2a6eceef"
    assert safe.center_folder("上海-金桥") == "center--e5c90ea8c9"
    assert safe.center_folder("CON").startswith("CON--")  # a Windows device name is never a folder
    assert safe.center_folder("all").startswith("all--")  # the network report's folder stays free
    assert safe.center_folder("Ab--c").startswith("Ab-c--")  # '--' marks derived folders only


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_text_gives_a_folder_that_is_never_a_path(text):
    folder = safe.center_folder(text)
    assert FOLDER.fullmatch(folder), folder
    assert len(folder) <= 64 and folder not in (".", "..") and "/" not in folder
    assert folder == safe.center_folder(text)  # the same id always lands in the same folder


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_different_ids_never_share_a_folder(a, b):
    if a != b:
        assert safe.center_folder(a).casefold() != safe.center_folder(b).casefold()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=30))
def test_a_derived_folder_never_equals_a_plain_id(plain):
    # an id that is its own folder holds no '--'; every derived folder does: the two kinds never meet
    folder = safe.center_folder(plain)
    assert (folder == plain and "--" not in folder) or ("--" in folder and folder != plain)
    assert "--" in safe.center_folder(plain + " ")


def test_center_folders_refuses_ids_that_would_share_a_folder(monkeypatch):
    monkeypatch.setattr(safe, "center_folder", lambda cid: cid.upper())
    with pytest.raises(
        DataError,
        match=r"center ids 'ab' \(centers.csv row 1\) and 'AB' would share the report "
        r"folder 'AB'",
    ) as err:
        safe.center_folders(["ab", "AB"], where=[("centers.csv", 1), ("centers.csv", 2)])
    assert err.value.row == 2


# --------------------------------------------------------------------- through cx clean
def _centers(*rows: dict) -> pd.DataFrame:
    """The two centers of the small raw set, then ``rows`` (each a partial center row)."""
    base = {"name_en": "", "city": "上海", "aliases": "", "realtime_since": ""}
    extra = [{**base, "name_zh": f"门店{i}", **r} for i, r in enumerate(rows)]
    return pd.concat([CENTERS, pd.DataFrame(extra)], ignore_index=True)


def _cx_clean(
    tmp_path: Path, capsys, centers: pd.DataFrame, visits: pd.DataFrame | None = None
) -> tuple[int, str, Path]:
    raw = write_raw(tmp_path / "raw", centers=centers, **({} if visits is None else {"visits": visits}))
    out = tmp_path / "processed"
    code = cli.main(["clean", str(raw), str(out)])
    return code, capsys.readouterr().err, out


@pytest.mark.parametrize(
    "cid, why",
    [
        r
        for r in REFUSED
        if r[0]
        in (
            "SH\x1bJQ",
            "SH\u200bJQ",
            "a/b",
            "ａ／ｂ",
            "..",
            ".old-SH-JQ",
            ".lock",
            "ALL",
            "index.html",
            "SH-JQ,BJ-WJ",
            "x" * 65,
        )
    ],
)
def test_cx_clean_refuses_a_bad_id_in_one_line_naming_the_row(tmp_path, capsys, cid, why):
    code, err, out = _cx_clean(tmp_path, capsys, _centers({"center_id": cid}))
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("cx: error: centers.csv, column center_id, row 3: center id ") and why in err
    assert not out.exists()  # nothing half-written


def test_cx_clean_keeps_odd_but_harmless_ids(tmp_path, capsys):
    odd = ["上海-金桥", "javascript:alert(1)", "<img src=x onerror=alert(1)>", "$x^$"]
    visits = pd.concat([VISITS, VISITS.iloc[[0]].assign(visit_id="V9", center="上海-金桥")], ignore_index=True)
    code, err, out = _cx_clean(tmp_path, capsys, _centers(*({"center_id": c} for c in odd)), visits)
    assert code == 0, err
    data = clean.read_processed(out)
    assert data.centers["center_id"].tolist() == ["SH-JQ", "BJ-WJ", *odd]
    assert data.visits.set_index("visit_id").loc["V9", "center"] == "上海-金桥"


COLLISIONS = [
    # (extra centers, message expected) — the small raw set has SH-JQ (aliases 上海金桥;sh-jq;Jinqiao)
    # and BJ-WJ (北京望京;Wangjing) as rows 1 and 2
    ([{"center_id": "ＳＨ－ＪＱ"}], r"row 3: center ids 'SH-JQ' \(centers.csv row 1\) and 'ＳＨ－ＪＱ' are the same"),
    ([{"center_id": "sh -JQ"}], r"row 3: center ids 'SH-JQ' \(centers.csv row 1\) and 'sh -JQ' are the same"),
    (
        [{"center_id": "SH-PD", "aliases": "Jinqiao"}],
        r"column aliases, row 3: alias 'Jinqiao' of center 'SH-PD' is also the alias of center 'SH-JQ' "
        r"\(centers.csv row 1\)",
    ),
    (
        [{"center_id": "SH-PD", "aliases": "浦东; bj-wj"}],
        r"column aliases, row 3: alias 'bj-wj' of center 'SH-PD' is also the id of center 'BJ-WJ' "
        r"\(centers.csv row 2\)",
    ),
    (
        [{"center_id": "SH-PD", "name_zh": "上海金桥"}],
        r"column aliases, row 1: alias '上海金桥' of center 'SH-JQ' is also the Chinese name of center 'SH-PD' "
        r"\(centers.csv row 3\)",
    ),
    # an alias of an earlier center equal to the id of a later one: caught too, whatever the order
    (
        [{"center_id": "WANGJING"}],
        r"column aliases, row 2: alias 'Wangjing' of center 'BJ-WJ' is also the id of center 'WANGJING' "
        r"\(centers.csv row 3\)",
    ),
]


@pytest.mark.parametrize("extra, message", COLLISIONS)
def test_ids_names_and_aliases_that_collide_are_refused_naming_both_rows(tmp_path, capsys, extra, message):
    code, err, out = _cx_clean(tmp_path, capsys, _centers(*extra))
    assert code == 2 and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not out.exists()


def test_a_centers_own_spellings_may_repeat_its_id(tmp_path, capsys):
    # SH-JQ lists 'sh-jq' among its aliases: the same center, no conflict
    code, err, _ = _cx_clean(tmp_path, capsys, _centers({"center_id": "HZ", "aliases": "hz;Ｈ Ｚ;杭州"}))
    assert code == 0, err


@pytest.mark.slow
def test_cx_processes_end_with_one_error_line_never_a_traceback(tmp_path):
    cx = [sys.executable, "-m", "cxlib.cli"]
    raw = write_raw(tmp_path / "raw", centers=_centers({"center_id": ".old-SH-JQ"}))
    proc = subprocess.run([*cx, "clean", str(raw), str(tmp_path / "processed")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("cx: error: centers.csv, column center_id, row 3: center id '.old-SH-JQ' starts")
    # processed data that did not come through cx clean: cx report --center all refuses it too
    raw = write_raw(tmp_path / "raw2")
    processed = tmp_path / "processed2"
    clean.clean(raw, processed)
    centers = pd.read_parquet(processed / "centers.parquet")
    centers.loc[1, "center_id"] = "../../x"
    centers.to_parquet(processed / "centers.parquet")
    # ... and its manifest made to agree, so that the loader takes it as it is
    manifest = json.loads((processed / "manifest.json").read_text())
    manifest["outputs"]["centers.parquet"] = (processed / "centers.parquet").stat().st_size
    (processed / "manifest.json").write_text(json.dumps(manifest))
    proc = subprocess.run(
        [
            *cx,
            "report",
            "--raw",
            str(raw),
            "--processed",
            str(processed),
            "--out",
            str(tmp_path / "reports"),
            "--center",
            "all",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr == (
        "cx: error: column center: center id '../../x' contains a path separator (/ or \\)\n"
    ), proc.stderr
    assert not (tmp_path / "x").exists() and not list((tmp_path / "reports").rglob("manifest.json"))


# ------------------------------------------------------------------- through cx report
def test_report_checks_every_center_of_all_like_a_single_one():
    known = ["SH-JQ", "上海-金桥"]
    assert report.resolve_centers("all", known) == ["all", "SH-JQ", "上海-金桥"]
    assert report.resolve_centers("上海-金桥", known) == ["上海-金桥"]
    # processed data that did not come through cx clean: refused before anything runs
    for bad in ("../x", ".old-SH-JQ", "a/b", "all"):
        with pytest.raises(DataError, match="column center: center id"):
            report.resolve_centers("all", ["SH-JQ", bad])
        with pytest.raises(DataError, match="column center: center id"):
            report.resolve_centers(bad, ["SH-JQ", bad])


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.cells: list[str] = []
        self._in_td = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]
        self._in_td = tag == "td"

    def handle_data(self, data):
        if self._in_td:
            self.cells.append(data)
            self._in_td = False


HOSTILE_RUN = ["javascript:alert(1)", "<img src=x onerror=alert(1)>", "上海-金桥", "%2e%2e", "CON", "a\"b'c"]


@pytest.mark.slow
def test_report_over_hostile_ids_stays_inside_the_period_folder(tmp_path, capsys, tiny_notebooks):
    code, err, processed = _cx_clean(tmp_path, capsys, _centers(*({"center_id": c} for c in HOSTILE_RUN)))
    assert code == 0, err
    out = tmp_path / "reports"
    period_dir = out / "2026-10"
    # what was there before the run: another folder and a file of the user's
    (period_dir / "keep").mkdir(parents=True)
    (period_dir / "keep" / "notes.txt").write_text("mine")
    (out / "elsewhere.txt").write_text("mine")
    before = {p for p in tmp_path.rglob("*") if "reports" not in p.parts}
    _, runs = report.run_reports(
        tmp_path / "raw", processed, out, "2026-10", "all", settings=report.RunSettings(notebook_dir=tiny_notebooks)
    )
    assert sorted(r.center for r in runs) == sorted(["all", "SH-JQ", "BJ-WJ", *HOSTILE_RUN])
    assert all(r.status == "ok" for r in runs), [r.failures for r in runs]
    # one folder per run, directly in the period folder, none hidden; the user's files untouched
    folders = {p.name for p in period_dir.iterdir() if p.is_dir()}
    assert folders == {"keep", "all", *(safe.center_folder(c) for c in ["SH-JQ", "BJ-WJ", *HOSTILE_RUN])}
    assert (period_dir / "keep" / "notes.txt").read_text() == "mine" and (out / "elsewhere.txt").read_text() == "mine"
    assert {p.name for p in out.iterdir()} == {"2026-10", "elsewhere.txt"}
    assert {p for p in tmp_path.rglob("*") if "reports" not in p.parts} == before  # nothing outside --out
    for r in runs:
        man = json.loads((Path(r.folder) / "manifest.json").read_text(encoding="utf-8"))
        assert man["center"] == r.center and Path(r.folder).parent == period_dir
    # the index: ids shown as text, every link relative, without scheme, inside the period folder
    page = _Page()
    page.feed((period_dir / "index.html").read_text(encoding="utf-8"))
    assert page.tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "p",
        "section",
        "ul",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "b",
        "figure",
        "img",
        "figcaption",
        "div",
        "br",
    }
    assert set(HOSTILE_RUN) <= set(page.cells)
    # per run its two pages and summary.xlsx; alerts.json and quarantine.xlsx of the period
    assert len(page.hrefs) == 3 * len(runs) + 2
    root = period_dir.resolve()
    for href in page.hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not href.startswith(("/", "\\")), href
        target = (period_dir / unquote(parts.path)).resolve()
        assert target.is_relative_to(root) and target.is_file(), href


def test_report_folder_of_the_network_and_of_centers():
    assert report.report_folder("all") == "all"
    assert report.report_folder("SH-JQ") == "SH-JQ"
    assert (
        report.report_folder("javascript:alert(1)")
        == "javascript-alert-1--" + report.report_folder("javascript:alert(1)")[-10:]
    )


def test_centers_derived_from_the_visits_follow_the_id_rule(tmp_path, capsys):
    """Without a centers table the visits' spellings become the ids: the same rule applies,
    and the error names the visits row that spells the id."""
    raw = write_raw(tmp_path / "raw", visits=VISITS.assign(center=["SH-JQ", "../x"]))
    (raw / "centers.csv").unlink()
    rc = cli.main(["clean", str(raw), str(tmp_path / "processed")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0 and err.startswith("cx: error: visits.csv, column center, row 2:")

    raw = write_raw(tmp_path / "raw2", visits=VISITS.assign(center=["SH-JQ", "上海 金桥"]))
    (raw / "centers.csv").unlink()
    assert cli.main(["clean", str(raw), str(tmp_path / "processed2")]) == 0
    centers = pd.read_parquet(tmp_path / "processed2" / "centers.parquet")
    assert sorted(centers["center_id"]) == ["SH-JQ", "上海 金桥"]
