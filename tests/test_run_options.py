"""Run options of `cx report`: one table (cxlib.options) for the command line and the params
file, the same one-line errors from both, checked before anything runs; YAML files that are
bombs, binary, huge or not a mapping are refused quickly."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import clean, cli, models, notebooks, options, report
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def no_run(monkeypatch, tmp_path):
    """Work in an empty folder and make any cleaning or notebook run fail the test."""
    monkeypatch.chdir(tmp_path)

    def boom(*a, **k):
        raise AssertionError("a run started although an option was bad")

    monkeypatch.setattr(clean, "clean", boom)
    monkeypatch.setattr(report.run, "run_center", boom)
    return tmp_path


def _cli_error(capsys, *args: str) -> str:
    capsys.readouterr()
    code = cli.main(["report", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("cx: error: ") and "Traceback" not in err, err
    return err.strip()[len("cx: error: ") :]


def _file_error(capsys, folder: Path, text: str) -> str:
    f = folder / "run.yaml"
    f.write_text(text, encoding="utf-8")
    return _cli_error(capsys, "--params", str(f))


# ------------------------------------------------------------------ bad values
BAD = [  # option, value on the command line, the same in YAML, words the error must hold
    ("jobs", "two", "two", "a whole number from 1 to 64"),
    ("jobs", "0", "0", "from 1 to 64"),
    ("jobs", "1.5", "1.5", "a whole number"),
    ("n_sims", "1e9", "1e9", "a whole number from 100 to 200000"),
    ("n_sims", "-5", "-5", "from 100 to 200000"),
    ("n_sims", "2.5", "2.5", "a whole number"),
    ("seed", "x", '"x"', "a whole number from 0 to 4294967295"),
    ("seed", "-1", "-1", "from 0"),
    ("timeout", "0", "0", "a positive number"),
    ("timeout", "-3", "-3", "a positive number"),
    ("timeout", "inf", ".inf", "a positive number"),
    ("timeout", "nan", ".nan", "a positive number"),
    ("timeout", "soon", "soon", "a positive number"),
    ("horizon_years", "0", "0", "from 1 to 30"),
    ("discount_rate", "1.5", "1.5", "a number from 0 to 1"),
    ("budget", "-1", "-1", "a number from 0"),
    ("lang", "fr", "fr", "must be zh, en or both"),
    ("lang", "../zh", "../zh", "must not contain a path"),
    ("scenario", "foo", "foo", "must be all, maintenance, repair or accident"),
    ("scenario", "../../etc", "../../etc", "must not contain a path"),
    ("controls", "ltr", "[ltr]", "must list items of repair_minutes, wait_minutes"),
    ("controls", "repair_minutes,bogus", "[repair_minutes, bogus]", "got 'bogus'"),
    ("period", "2026-13", "2026-13", "must be YYYY-MM, YYYY-MM..YYYY-MM or all"),
    ("period", "2026-10..2026-08", "2026-10..2026-08", "ends before it starts"),
    ("period", "../x", "../x", "must be YYYY-MM"),
    ("tz", "Mars/Olympus", "Mars/Olympus", "must be an IANA time zone"),
    ("tz", "../../etc/passwd", "../../etc/passwd", "must be an IANA time zone"),
    ("cases_file", "no/such/cases.yaml", "no/such/cases.yaml", "must name an existing file"),
]


@pytest.mark.parametrize("name, cli_value, yaml_value, words", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_cli_and_params_file_give_the_same_error(no_run, capsys, name, cli_value, yaml_value, words):
    flag = options.BY_NAME[name].flag
    from_cli = _cli_error(capsys, f"{flag}={cli_value}")
    from_file = _file_error(capsys, no_run, f"{name}: {yaml_value}\n")
    assert from_cli.startswith(f"{flag} must ") or from_cli.startswith(f"{flag} ends "), from_cli
    assert from_file.startswith(f"{no_run / 'run.yaml'}: {name} "), from_file
    assert words in from_cli and words in from_file
    # the same rule, only the option's spelling differs (and how the value was quoted)
    rule = from_cli[len(flag) :].split(", got")[0]
    assert from_file.split(f": {name}", 1)[1].split(", got")[0] == rule
    assert not any(no_run.iterdir()) or [p.name for p in no_run.iterdir()] == ["run.yaml"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("center: yes\n", "a YAML boolean"),
        ("center: [SH-JQ, 5]\n", "must list center ids as text, got 5"),
        ("lang: no\n", "a YAML boolean"),
        ("period: 2026-10-01\n", "a YAML date"),
        ("jobs: true\n", "a YAML boolean"),
        ("controls: 5\n", "must be a list or text with items separated by commas"),
        ("raw: 5\n", "raw must be text"),
        ("out: ''\n", "out must not be empty"),
        ("scenario: [repair]\n", "scenario must be text"),
        ("seed: !!binary aGVsbG8=\n", "seed must be a whole number"),
    ],
)
def test_yaml_types_that_are_not_what_the_option_takes(no_run, capsys, text, words):
    assert words in _file_error(capsys, no_run, text)


def test_every_error_names_the_file_and_option_in_one_line(no_run, capsys):
    err = _file_error(capsys, no_run, "period: 2026-10\njobs: two\n")
    assert err == f"{no_run / 'run.yaml'}: jobs must be a whole number from 1 to 64, got 'two'"
    err = _file_error(capsys, no_run, "perod: 2026-10\n")
    assert err.startswith(f"{no_run / 'run.yaml'}: unknown parameter 'perod'; allowed: raw, processed")


# ------------------------------------------------------------------ good values, normalised
def test_good_values_are_normalised_the_same_from_both_sources(tmp_path):
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases: []\n")
    text = {
        "scenario": "维修",
        "lang": "EN",
        "controls": "repair_minutes, center,repair_minutes",
        "n_sims": "1e4",
        "timeout": "0.5",
        "budget": "50000.0",
        "jobs": "2",
        "seed": "7",
        "discount_rate": "0.05",
        "horizon_years": "5",
        "center": "SH-JQ,BJ-CY",
        "period": "2026-08..2026-10",
        "tz": "Europe/Berlin",
        "cases_file": str(cases),
        "out": "reports",
    }
    want = {
        "scenario": "repair",
        "lang": "en",
        "controls": ["repair_minutes", "center"],
        "n_sims": 10000,
        "timeout": 0.5,
        "budget": 50000,
        "jobs": 2,
        "seed": 7,
        "discount_rate": 0.05,
        "horizon_years": 5,
        "center": "SH-JQ,BJ-CY",
        "period": "2026-08..2026-10",
        "tz": "Europe/Berlin",
        "cases_file": str(cases),
        "out": "reports",
    }
    assert options.check(text) == want
    f = tmp_path / "run.yaml"
    f.write_text(
        "scenario: 维修\nlang: EN\ncontrols: [repair_minutes, center, repair_minutes]\nn_sims: 1.0e4\n"
        "timeout: 0.5\nbudget: 50000.0\njobs: 2\nseed: 7\ndiscount_rate: 0.05\nhorizon_years: 5\n"
        f"center: SH-JQ,BJ-CY\nperiod: 2026-08..2026-10\ntz: Europe/Berlin\ncases_file: {cases}\n"
        "out: reports\n",
        encoding="utf-8",
    )
    assert report.read_params(f) == want
    # checking is idempotent: checked values pass again unchanged
    assert options.check(want) == want


@pytest.mark.parametrize("spelling", ["repair", "维修", "Repair", " REPAIR "])
def test_scenario_by_code_chinese_or_english_name(spelling):
    assert options.check({"scenario": spelling}) == {"scenario": "repair"}
    assert options.check({"scenario": "事故维修"}) == {"scenario": "accident"}
    assert options.check({"scenario": "all"}) == {"scenario": "all"}


def test_null_means_not_given_and_cli_wins_over_the_file(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("jobs: 2\ntimeout:\nlang: zh\nperiod: 2026-10\n", encoding="utf-8")
    got = options.resolve({"jobs": "3"}, params_file=f)
    assert got["jobs"] == 3 and got["timeout"] is None and got["lang"] == "zh" and got["period"] == "2026-10"
    assert got["raw"] == "data/raw" and got["center"] == "all"
    assert "n_sims" not in got  # a notebook option not given keeps the notebooks' default


def test_timeout_half_a_second_is_accepted_as_seconds(no_run, capsys):
    assert options.check({"timeout": "0.5"}) == {"timeout": 0.5}
    assert options.resolve({"timeout": "0.5"})["timeout"] == 0.5
    assert "--timeout must be a positive number" in _cli_error(capsys, "--timeout", "0")
    assert "--timeout must be a positive number" in _cli_error(capsys, "--timeout", "-0.5")


@pytest.mark.slow
def test_timeout_half_a_second_really_limits_a_cell(tmp_path):
    """A fractional limit reaches the kernel client as whole seconds (it takes no fractions)."""

    def nb(path: Path, body: str) -> Path:
        book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(body)])
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(book, path)
        return path

    quick = nb(tmp_path / "quick.ipynb", "import time\ntime.sleep(0.1)\nx = 1")
    notebooks.run_notebook(quick, tmp_path / "quick_out.ipynb", timeout=0.5)
    slow = nb(tmp_path / "slow.ipynb", "import time\ntime.sleep(30)")
    t0 = time.monotonic()
    with pytest.raises(Exception) as info:
        notebooks.run_notebook(slow, tmp_path / "slow_out.ipynb", timeout=0.5)
    assert time.monotonic() - t0 < 20
    assert "timed out" in str(info.value).lower() or "timeout" in type(info.value).__name__.lower()
    assert "This notebook did not finish" in (tmp_path / "slow_out.ipynb").read_text()


def test_run_reports_checks_options_given_in_python(no_run):
    with pytest.raises(options.OptionError, match="--n-sims must be a whole number"):
        report.run_reports(no_run / "raw", no_run / "p", no_run / "o", options={"n_sims": "two"})
    with pytest.raises(DataError, match="lang must not contain a path"):
        report.run_reports(no_run / "raw", no_run / "p", no_run / "o", options={"lang": "../../etc"})
    with pytest.raises(DataError, match="--tz must be an IANA time zone"):
        report.run_reports(no_run / "raw", no_run / "p", no_run / "o", options={"tz": "Mars/Olympus"})


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    name=st.sampled_from([o.name for o in options.OPTIONS]),
    value=st.one_of(
        st.text(max_size=30),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=3),
        st.dates(),
        st.binary(max_size=8),
    ),
)
def test_any_value_is_accepted_or_refused_with_an_option_error(name, value):
    try:
        got = options.check({name: value})
    except options.OptionError as exc:
        assert exc.option == name and "\n" not in str(exc)
        return
    if value is None:
        assert got == {}
    else:
        assert options.check(got) == got  # a checked value passes again


# ------------------------------------------------------------------ the params file itself
def test_alias_bomb_is_refused_at_once(no_run, capsys):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    f = no_run / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"aliases \(\*name\) are not allowed.*line 2") as info:
        options.load_params(f)
    assert time.perf_counter() - t0 < 1.0
    assert str(f) in str(info.value)
    # the same through the command line, in one line
    assert "aliases (*name) are not allowed" in _cli_error(capsys, "--params", str(f))


@pytest.mark.parametrize(
    "content, words",
    [
        (b"jobs: 2\n" + b"# padding\n" * 8000, "larger than 64 KB"),
        (b"jobs: 2\n\x00\x01\x02binary", "binary data"),
        ("lang: 中文\n".encode("gbk"), "not UTF-8 text"),
        (b"- jobs\n- 2\n", "must be a mapping"),
        (b"just text\n", "must be a mapping"),
        (b"jobs: 2\nlang: zh\njobs: 3\n", "jobs is given twice (lines 1 and 3)"),
        (b"{jobs: 2, jobs: 3}\n", "jobs is given twice"),
        (b"center: " + b"[" * 50 + b"x" + b"]" * 50 + b"\n", "nested deeper than 8 levels"),
        (b"jobs: !!python/object/apply:os.system [echo hi]\n", "could not determine a constructor"),
        (b"center: [SH-JQ\n", "cannot read run parameters"),
        (b"? [a, b]\n: 1\n", "a key must be a plain name"),
        (b"<<: {jobs: 2}\njobs: 3\n", "jobs is given twice"),
        (b"1: 2\n", "unknown parameter 1"),
    ],
)
def test_params_files_that_are_not_small_yaml_mappings(no_run, capsys, content, words):
    f = no_run / "run.yaml"
    f.write_bytes(content)
    err = _cli_error(capsys, "--params", str(f))
    assert words in err and str(f) in err


def test_params_file_missing_empty_or_a_folder(no_run, capsys):
    assert "cannot read run parameters" in _cli_error(capsys, "--params", str(no_run / "nope.yaml"))
    assert "cannot read run parameters" in _cli_error(capsys, "--params", str(no_run))
    (no_run / "empty.yaml").write_bytes(b"")
    assert options.load_params(no_run / "empty.yaml") == {}
    (no_run / "bom.yaml").write_bytes("\ufeffjobs: 2\n".encode("utf-8"))
    assert report.read_params(no_run / "bom.yaml") == {"jobs": 2}


def test_bad_params_file_in_a_real_process_prints_one_line(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("a: &a [x, x]\nb: [*a, *a]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "cxlib.cli", "report", "--params", str(f)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"cx: error: {f}: cannot read run parameters: aliases") and proc.stdout == ""
    proc = subprocess.run(
        [sys.executable, "-m", "cxlib.cli", "report", "--jobs", "two", "--bogus"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


# ------------------------------------------------------------------ one table, no drift
def test_command_line_flags_are_the_table_of_options():
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["report"]
    flags = {s for a in sub._actions for s in a.option_strings} - {"-h", "--help", "--params"}
    assert flags == {o.flag for o in options.OPTIONS}
    assert report.RUN_KEYS == set(options.BY_NAME)
    assert report.NOTEBOOK_KEYS == tuple(o.name for o in options.OPTIONS if o.notebook)


def _notebook_parameters() -> dict[str, dict[str, object]]:
    out = {}
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
        tree = ast.parse("".join(cell["source"]))
        out[path.stem] = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}
    return out


def test_notebook_options_match_the_notebooks_parameters_cells():
    params = _notebook_parameters()
    for opt in options.OPTIONS:
        declared = {nb: p[opt.name] for nb, p in params.items() if opt.name in p}
        if not opt.notebook:
            continue
        assert declared, f"no notebook declares {opt.name}"
        for nb, value in declared.items():
            assert value == opt.default, (nb, opt.name, value, opt.default)
            options.check({opt.name: value}) if opt.name != "cases_file" else None


def test_controls_are_columns_of_the_processed_visits():
    data_model = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    visits = data_model.split("## visits.parquet")[1].split("\n## ")[0]
    for col in options.CONTROL_COLUMNS:
        assert f"| {col} |" in visits or f" {col}," in visits or f", {col} |" in visits, col
    assert set(models.DEFAULT_CONTROLS) <= set(options.CONTROL_COLUMNS)


def test_readme_lists_every_option_as_the_table_says():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert options.markdown_table() in readme
    for opt in options.OPTIONS:
        assert f"`{opt.flag}`" in readme


def test_bounds_are_sane():
    assert options.check({"n_sims": 200_000}) == {"n_sims": 200_000}
    with pytest.raises(options.OptionError):
        options.check({"n_sims": 200_001})
    assert options.check({"seed": 2**32 - 1}) == {"seed": 2**32 - 1}
    assert options.check({"timeout": 1e-3}) == {"timeout": 1e-3}
    assert math.ceil(1e-3) == 1  # what the kernel client gets
    assert yaml.safe_load("n_sims: 1e9") == {"n_sims": "1e9"}  # YAML 1.1 reads it as text: still refused


def test_cx_clean_checks_its_time_zone_as_cx_report_does(no_run, capsys):
    capsys.readouterr()
    assert cli.main(["clean", str(no_run / "raw"), str(no_run / "out"), "--tz", "Mars/Olympus"]) == 2
    err = capsys.readouterr().err
    assert err == "cx: error: --tz must be an IANA time zone such as Asia/Shanghai, got 'Mars/Olympus'\n"
    assert _cli_error(capsys, "--tz", "Mars/Olympus") == err.strip()[len("cx: error: ") :]
