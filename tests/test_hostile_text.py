"""Text from the data is shown as written: never typeset by matplotlib's mathtext in a figure,
never by MathJax in a notebook table or a report page."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook, new_output  # noqa: E402

from cxlib import catalog, journey, models, nps, plotting, report, roi, safe, summary, synth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES_FILE = ROOT / "data" / "raw" / "cases_interventions.yaml"
# what mathtext would typeset ($…$, \$) or fail on ($x^$, $$): all must be drawn as written
HOSTILE = [r"$\frac{1}{0}$", "$x^$", "$$", r"\$", r"5$ \alpha $x"]


@pytest.fixture
def drawn(monkeypatch) -> list[tuple[str, object]]:
    """Every line of text the Agg renderer draws, with how it was drawn (False: as plain text)."""
    lines: list[tuple[str, object]] = []
    plain, tex = RendererAgg.draw_text, RendererAgg.draw_tex

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        lines.append((s, ismath))
        return plain(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    def draw_tex(self, gc, x, y, s, prop, angle, *, mtext=None):
        lines.append((s, "TeX"))
        return tex(self, gc, x, y, s, prop, angle, mtext=mtext)

    monkeypatch.setattr(RendererAgg, "draw_text", draw_text)
    monkeypatch.setattr(RendererAgg, "draw_tex", draw_tex)
    return lines


def _render(fig: Figure) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=40)


# ------------------------------------------------------------------ inputs of each figure
def _scores(centers: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [
        {"center": c, "response_id": f"{c}-{k}", "point": p, "score": int(rng.integers(3, 11)), "ltr": 8}
        for c in centers
        for k in range(4)
        for p in catalog.SCORE_POINT_ORDER
    ]
    return pd.DataFrame(rows)


def _visit(visit_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = pd.Timestamp("2026-10-03 09:00", tz="Asia/Shanghai")
    visits = pd.DataFrame(
        {
            "visit_id": [visit_id],
            "arrived_at": [t],
            "started_at": [t + pd.Timedelta("30min")],
            "finished_at": [t + pd.Timedelta("4h")],
            "delivered_at": [t + pd.Timedelta("5h")],
        }
    )
    events = pd.DataFrame(
        {
            "visit_id": [visit_id] * 3,
            "ts": [t, t + pd.Timedelta("1h"), t + pd.Timedelta("2h")],
            "touchpoint": ["reception", "advisor_update", "customer_inquiry"],
            "photo": [False, False, False],
        }
    )
    return events, visits


def _cases(names: list[str]) -> list[roi.Case]:
    cases = roi.load_cases(CASES_FILE)[: len(names)]
    return [dataclasses.replace(c, name_zh=n, name_en=n) for c, n in zip(cases, names)]


def _coefficients(terms: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "term": terms * 2,
            "estimate": [0.5, -0.2, 0.1, 0.3, 0.0][: len(terms)] * 2,
            "ci_low": -1.0,
            "ci_high": 1.0,
            "kind": "effect",
            "model": [HOSTILE[0]] * len(terms) + [HOSTILE[1]] * len(terms),
        }
    )


def _silence() -> pd.DataFrame:
    visits = pd.DataFrame(
        {
            "longest_silence_minutes": [10, 50, 100, 200, 300] * 4,
            "anxiety": range(20),
            "ltr": [9, 8, 7, 6, 5] * 4,
            "n_inquiries": [0, 0, 1, 2, 3] * 4,
        }
    )
    return journey.silence_effects(visits)


def _importance() -> pd.DataFrame:
    pts = list(catalog.SCORE_POINT_ORDER)
    return pd.DataFrame(
        {
            "point": pts,
            "performance": np.linspace(5, 9, len(pts)),
            "importance": np.linspace(0.02, 0.3, len(pts)),
            "quadrant": "keep_up",
            "importance_cut": 0.1,
            "performance_cut": 7.0,
        }
    )


def _caption() -> Figure:
    fig = journey.plot_journey_map(journey.emotion_curve(_scores(["a"]).drop(columns="center")))
    return plotting.caption(fig, f"{HOSTILE[0]} {HOSTILE[1]} {HOSTILE[3]}")


def _timeline() -> Figure:
    events, visits = _visit(HOSTILE[1])
    return journey.plot_visit_timeline(events, visits, HOSTILE[1], lang="en")


def _sims() -> pd.DataFrame:
    return roi.simulate(_cases(HOSTILE), n_sims=50, seed=1)


def _first_case(sims: pd.DataFrame) -> pd.DataFrame:
    return sims[sims["id"] == sims["id"].iloc[0]]


_H = HOSTILE
_NOTE = pd.DataFrame(
    {
        "term": ["x"],
        "estimate": [np.nan],
        "ci_low": np.nan,
        "ci_high": np.nan,
        "note": [f"cannot fit: center {_H[1]} has one visit"],
    }
)
_MONTHS = pd.DataFrame({"month": _H, "nps": [10.0, 20, 15, 5, 0], "ci_low": -10.0, "ci_high": 40.0, "n": 50})
_DOSE = pd.DataFrame(
    {
        "updates": _H,
        "nps": [1.0, 2, 3, 4, 5],
        "nps_ci_low": 0.0,
        "nps_ci_high": 9.0,
        "complaint_rate": 0.1,
        "complaint_ci_low": 0.0,
        "complaint_ci_high": 0.2,
    }
)
_EVENT = pd.DataFrame({"rel_month": [-2, -1, 0, 1], "estimate": [0.1, 0.0, 0.5, 0.6], "ci_low": -0.5, "ci_high": 1.0})

#: every public figure function of the workbench, drawn with hostile text where it shows text
#: from the data: name -> (a function drawing it, the hostile texts it must show as written)
FIGURES = {
    "journey.plot_emotion_curve": (
        lambda: journey.plot_emotion_curve(journey.emotion_curve(_scores(_H), by="center"), by="center"),
        _H,
    ),
    "journey.plot_journey_map + plotting.caption": (_caption, [f"{_H[0]} {_H[1]} {_H[3]}"]),
    "journey.plot_importance_performance": (lambda: journey.plot_importance_performance(_importance()), []),
    "journey.plot_silence": (lambda: journey.plot_silence(_silence()), []),
    "journey.plot_visit_timeline": (_timeline, [_H[1]]),
    "models.plot_coefficients": (lambda: models.plot_coefficients(_coefficients(_H[2:5])), _H),
    "models.plot_coefficients (note)": (lambda: models.plot_coefficients(_NOTE, title=_H[4]), [_H[1], _H[4]]),
    "models.plot_event_study": (lambda: models.plot_event_study(_EVENT, title=_H[0]), [_H[0]]),
    "nps.plot_dose_response": (lambda: nps.plot_dose_response(_DOSE, title=_H[2]), _H),
    "roi.plot_roi_distribution (one case)": (lambda: roi.plot_roi_distribution(_first_case(_sims()), "roi"), [_H[0]]),
    "roi.plot_roi_distribution": (lambda: roi.plot_roi_distribution(_sims(), "npv"), _H),
    "roi.plot_tornado": (lambda: roi.plot_tornado(roi.tornado(_cases(_H)[0])), [_H[0]]),
    "summary.plot_nps_trend": (lambda: summary.plot_nps_trend(_MONTHS, lang="en"), _H),
}


def test_every_public_figure_function_is_covered():
    figure_functions = {
        f"{m.__name__.split('.')[-1]}.{n}"
        for m in (journey, models, nps, roi, summary)
        for n, f in inspect.getmembers(m, inspect.isfunction)
        if f.__module__.startswith(m.__name__) and n.startswith("plot_")
    }
    covered = {name.split(" ")[0] for name in FIGURES}
    assert figure_functions <= covered, figure_functions - covered


@pytest.mark.parametrize("name", FIGURES)
def test_hostile_text_is_drawn_as_written(drawn, name):
    build, texts = FIGURES[name]
    _render(build())
    assert drawn, name
    math = [(s, how) for s, how in drawn if how is not False]
    assert not math, f"{name} typeset {math}"
    for text in texts:
        assert any(text in s for s, _ in drawn), f"{name} does not show {text!r} as written"


# ------------------------------------------------------------------- tables in notebooks
def test_literal_html_marks_only_tables_that_hold_math_delimiters():
    plain = pd.DataFrame({"comment": ["太慢了"]})._repr_html_()
    assert safe.literal_html(plain) == plain  # stored notebook outputs without $ stay as they are
    for text in HOSTILE:
        html = pd.DataFrame({"comment": [text]})._repr_html_()
        marked = safe.literal_html(html)
        assert marked.startswith('<div class="mathjax_ignore tex2jax_ignore">') and html in marked


def test_dataframes_in_a_kernel_are_shown_literally():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert safe.show_tables_literally()
        data, _ = shell.display_formatter.format(pd.DataFrame({"center": [r"$\frac{1}{0}$"]}))
        assert data["text/html"].startswith('<div class="mathjax_ignore tex2jax_ignore">')
        assert r"$\frac{1}{0}$" in data["text/html"] and r"$\frac{1}{0}$" in data["text/plain"]
        data, _ = shell.display_formatter.format(pd.DataFrame({"center": ["SH-JQ"]}))
        assert data["text/html"] == pd.DataFrame({"center": ["SH-JQ"]})._repr_html_()
    finally:
        InteractiveShell.clear_instance()


# -------------------------------------------------------------------------- report pages
def test_report_pages_load_no_mathjax_and_show_dollars_as_written(tmp_path):
    nb = new_notebook()
    cell = new_code_cell("comments")
    table = pd.DataFrame({"comment": HOSTILE})
    cell.outputs = [
        new_output(
            "execute_result",
            data={"text/html": safe.literal_html(table._repr_html_()), "text/plain": repr(table)},
            execution_count=1,
        ),
        new_output("stream", name="stdout", text=f"center {HOSTILE[1]}\n"),
    ]
    nb.cells = [cell]
    src, dst = tmp_path / "nb.ipynb", tmp_path / "nb.html"
    nbformat.write(nb, src)
    report.to_html(src, dst)
    page = dst.read_text(encoding="utf-8")
    assert "mathjax" not in page.replace("mathjax_ignore", "").lower()
    assert "<td>$\\frac{1}{0}$</td>" in page and "<td>$x^$</td>" in page and "center $x^$" in page


# ------------------------------------------------------------- a real notebook, end to end
def _hostile_raw(folder: Path) -> Path:
    """A small sample whose center SH-JQ is renamed to an id holding $…$, with a $…$ center
    name and survey comments full of math delimiters."""
    synth.write_sample(folder, n_visits=400, seed=7, layout="csv")
    new_id = "$x^$ SH-JQ"
    for path in folder.glob("visits*.csv"):
        v = pd.read_csv(path, dtype=str, keep_default_na=False)
        v["center"] = v["center"].replace({"SH-JQ": new_id})
        v.to_csv(path, index=False)
    c = pd.read_csv(folder / "centers.csv", dtype=str, keep_default_na=False)
    c.loc[c["center_id"] == "SH-JQ", ["center_id", "name_zh"]] = [new_id, r"$\frac{1}{0}$ 金桥"]
    c.to_csv(folder / "centers.csv", index=False)
    s = pd.read_csv(folder / "surveys.csv", dtype=str, keep_default_na=False)
    s.loc[s.index[:40], "comment"] = "太慢 $x^$ 与 $$ 和 \\$ 还有 $\\frac{1}{0}$"
    s.to_csv(folder / "surveys.csv", index=False)
    return folder


@pytest.mark.slow
def test_emotion_curves_notebook_runs_with_math_in_ids_names_and_comments(tmp_path):
    raw = _hostile_raw(tmp_path / "raw")
    processed = tmp_path / "processed"
    nb = ROOT / "notebooks" / "02_emotion_curves.ipynb"
    out, results = tmp_path / "02.ipynb", tmp_path / "results.json"
    params = {
        "processed_dir": str(processed),
        "raw_dir": str(raw),
        "n_boot": 20,
        "results_file": str(results),
        "lang": "both",
    }
    code = (
        "import json, sys, papermill as pm; pm.execute_notebook(sys.argv[1], sys.argv[2], "
        "parameters=json.loads(sys.argv[3]), kernel_name='python3', cwd=sys.argv[4], progress_bar=False)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(nb), str(out), json.dumps(params), str(nb.parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    with_math = [t for t in tables if "$" in t]
    assert with_math and all(t.startswith('<div class="mathjax_ignore tex2jax_ignore">') for t in with_math)
    assert any("$x^$ SH-JQ" in t for t in with_math)  # the center id, in the moments scorecard
    assert any("$x^$ 与 $$" in t for t in with_math)  # a comment, among the verbatims
    assert json.loads(results.read_text(encoding="utf-8"))["scope"]["center"] == "all"
