"""Small raw data sets written on the fly for the io and clean tests, tiny notebooks for the
report runs, and the shipped sample cleaned and reported once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

CENTERS = pd.DataFrame(
    {
        "center_id": ["SH-JQ", "BJ-WJ"],
        "name_zh": ["上海金桥服务中心", "北京望京服务中心"],
        "name_en": ["Shanghai Jinqiao", "Beijing Wangjing"],
        "city": ["上海", "北京"],
        "aliases": ["上海金桥;sh-jq;Jinqiao", "北京望京;Wangjing"],
        "realtime_since": ["2026-10-01", ""],
    }
)

VISITS = pd.DataFrame(
    {
        "visit_id": ["V1", "V2"],
        "customer_id": ["C1", "C2"],
        "center": ["SH-JQ", "BJ-WJ"],
        "scenario": ["maintenance", "repair"],
        "vehicle_model": ["ES6", "ET5"],
        "booked_at": ["2026-10-02T10:00:00", "2026-09-20T10:00:00"],
        "arrived_at": ["2026-10-03T09:00:00", "2026-09-21T09:00:00"],
        "started_at": ["2026-10-03T09:30:00", "2026-09-21T10:00:00"],
        "finished_at": ["2026-10-03T11:30:00", "2026-09-21T12:00:00"],
        "delivered_at": ["2026-10-03T12:00:00", "2026-09-21T12:30:00"],
        "warranty": ["true", "false"],
        "amount_cny": ["480.5", "1200"],
    }
)

# V1: arrival 09:00, start 09:30, finish 11:30, delivery 12:00
EVENTS = pd.DataFrame(
    {
        "visit_id": ["V1", "V1", "V1", "V1", "V1", "V1", "V2", "V2"],
        "ts": [
            "2026-10-03T09:00:00",
            "2026-10-03T10:00:00",
            "2026-10-03T10:10:00",
            "2026-10-03T10:40:00",
            "2026-10-03T11:30:00",
            "2026-10-03T12:05:00",
            "2026-09-21T09:05:00",
            "2026-09-21T12:10:00",
        ],
        "touchpoint": [
            "reception",
            "progress_push",
            "customer_inquiry",
            "advisor_update",
            "ready_notice",
            "farewell",
            "reception",
            "ready_notice",
        ],
        "channel": ["offline", "online", "offline", "offline", "online", "offline", "offline", "online"],
        "photo": ["false", "true", "false", "false", "false", "false", "false", "false"],
    }
)

SURVEYS = pd.DataFrame(
    {
        "response_id": ["R1", "R2"],
        "visit_id": ["V1", "V2"],
        "submitted_at": ["2026-10-04T10:00:00", "2026-09-22T10:00:00"],
        "ltr": ["9", "6"],
        **{
            c: ["8", "5"]
            for c in (
                "score_reminder",
                "score_booking",
                "score_arrival",
                "score_reception",
                "score_waiting",
                "score_notification",
                "score_handover",
                "score_payment",
                "score_departure",
            )
        },
        "anxiety": ["20", "70"],
        "comment": ["很好", "等太久"],
    }
)

COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["K1"],
        "visit_id": ["V2"],
        "filed_at": ["2026-09-22T11:00:00"],
        "channel": ["hotline"],
        "category": ["等待时间"],
    }
)

TABLES = {"centers": CENTERS, "visits": VISITS, "touchpoints": EVENTS, "surveys": SURVEYS, "complaints": COMPLAINTS}


def write_raw(folder: Path, **overrides: pd.DataFrame) -> Path:
    """Write the small canonical data set as UTF-8 CSVs, replacing any table given by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in {**TABLES, **overrides}.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return write_raw(tmp_path / "raw")


def write_notebook(path: Path, body: str) -> None:
    """A notebook with the report's parameters cell (center, period, results file) and ``body``."""
    nb = new_notebook()
    params = new_code_cell('center = "all"\nperiod_start = None\nperiod_end = None\nresults_file = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture()
def tiny_notebooks(tmp_path) -> Path:
    """Two quick notebooks for report runs: the first records an NPS (and fails for BJ-CY)."""
    d = tmp_path / "nbs"
    d.mkdir()
    write_notebook(
        d / "01_first.ipynb",
        "from cxlib import results\n"
        "if center == 'BJ-CY':\n    raise RuntimeError('no data for ' + center)\n"
        "results.record('nps', {'value': 1.0, 'ci_low': 0.0, 'ci_high': 2.0, 'n': 10}, results_file)\n"
        "leak = 'from the first notebook'",
    )
    # notebooks of a center share a warm kernel: the second must not see the first one's variables
    write_notebook(
        d / "02_second.ipynb",
        "assert 'leak' not in globals() and 'results' not in globals()\n"
        "import time, os\ntime.sleep(float(os.environ.get('CX_TEST_SLEEP', '0')))",
    )
    return d


SAMPLE_RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
SAMPLE_PERIOD = "2026-10"


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    """The shipped sample (``data/raw``) cleaned once for the session; tests only read it."""
    from cxlib import clean

    out = tmp_path_factory.mktemp("processed")
    clean.clean(SAMPLE_RAW, out)
    return out


@pytest.fixture(scope="session")
def sample_report(processed, tmp_path_factory) -> Callable[..., Path]:
    """``cx report`` on the shipped sample for the period 2026-10 (cells time out after 600 s),
    with the options given (``"--center", "SH-JQ", "--pdf"``): the period folder. Each set of
    options runs once per session; the tests that ask for the same options share its run.

        def test_x(sample_report):
            period = sample_report("--center", "SZ-NS")
    """
    from cxlib import cli

    runs: dict[tuple[str, ...], Path] = {}

    def run(*options: str) -> Path:
        if options not in runs:
            out = tmp_path_factory.mktemp("reports")
            code = cli.main(
                [
                    "report",
                    "--raw",
                    str(SAMPLE_RAW),
                    "--processed",
                    str(processed),
                    "--out",
                    str(out),
                    "--period",
                    SAMPLE_PERIOD,
                    "--timeout",
                    "600",
                    *options,
                ]
            )
            assert code == 0, (out / SAMPLE_PERIOD / "run.log").read_text()
            runs[options] = out / SAMPLE_PERIOD
        return runs[options]

    return run
