"""Figure style: CJK font on a fresh machine, palettes, bilingual text."""

from __future__ import annotations

import io
import logging
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib as mpl  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cxlib import catalog, plotting  # noqa: E402


def _chinese_figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([-1, 0, 1], [3, -2, 5])  # negative ticks: the minus sign must render too
    ax.set_title(plotting.title("客户旅程情绪曲线", "Emotion curve", lang="both"))
    ax.set_xlabel(catalog.label("customer_inquiry", lang="both"))
    ax.set_ylabel("焦虑值 Anxiety")
    plotting.caption(fig, "等待是情绪最低点。Waiting is the low point.")
    return fig


def _render(fig: Figure, fmt: str = "png") -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def test_set_theme_registers_bundled_cjk_font():
    plotting.set_theme()
    assert plotting.cjk_font_path().name == "NotoSansSC-Regular.otf"
    assert plotting.register_cjk_font() == "Noto Sans SC"
    fam = list(mpl.rcParams["font.family"])
    assert fam[:2] == ["DejaVu Sans", "Noto Sans SC"] and fam[-1] == "sans-serif"
    assert mpl.rcParams["axes.unicode_minus"] is True
    assert plotting.fonts_ok()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_chinese_labels_render_without_glyph_warnings(fmt, caplog):
    plotting.set_theme()
    with caplog.at_level(logging.INFO, logger="matplotlib.font_manager"), warnings.catch_warnings():
        warnings.simplefilter("error")
        data = _render(_chinese_figure(), fmt)
    assert len(data) > 1000
    # no "findfont: Font family … not found" noise on stderr either
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_seaborn_set_theme_afterwards_drops_the_cjk_font_and_ours_restores_it():
    plotting.set_theme()
    sns.set_theme()  # resets font.family / font.sans-serif: the documented pitfall
    assert not plotting.fonts_ok()
    with pytest.warns(UserWarning, match="Glyph"):
        _render(_chinese_figure())
    plotting.set_theme()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _render(_chinese_figure())


def test_ensure_theme_repairs_fonts_but_keeps_the_style():
    plotting.set_theme(context="paper")
    sns.set_theme(context="talk", style="ticks")
    plotting.ensure_theme()
    assert plotting.fonts_ok()
    assert mpl.rcParams["axes.grid"] is False  # "ticks" style kept
    assert mpl.rcParams["font.size"] == pytest.approx(sns.plotting_context("talk")["font.size"])
    plotting.set_theme()


def test_palettes_follow_catalog_order():
    assert list(plotting.palette("tier")) == list(catalog.TIER_ORDER)
    assert list(plotting.palette("band")) == [b.code for b in catalog.EMOTION_BANDS]
    assert list(plotting.palette("stage")) == list(catalog.STAGE_ORDER)
    assert set(plotting.palette("channel")) == {c.code for c in catalog.CHANNELS}
    assert len(set(plotting.palette("tier").values())) == 4
    with pytest.raises(ValueError, match="unknown palette"):
        plotting.palette("nope")
    assert plotting.segment_colors(["realtime", "none"], column="tier") == {
        "realtime": plotting.TIER_COLORS["realtime"],
        "none": plotting.TIER_COLORS["none"],
    }
    assert len(plotting.segment_colors(["SH-JQ", "BJ-WJ"], column="center")) == 2


def test_bilingual_text_helpers():
    assert plotting.title("痛点", "Pain points", lang="zh") == "痛点"
    assert plotting.title("痛点", "Pain points", lang="en") == "Pain points"
    assert plotting.title("痛点", "Pain points", lang="both") == "痛点\nPain points"
    assert plotting.text("痛点", "Pain points", lang="both") == "痛点 Pain points"
    assert plotting.tick_label("waiting", lang="both") == "等待\nWaiting"
    assert plotting.tick_label("waiting", lang="en") == "Waiting"
    with pytest.raises(ValueError, match="lang"):
        plotting.title("a", "b", lang="fr")


def test_caption_is_placed_under_the_axes():
    fig = _chinese_figure()
    texts = [t for t in fig.texts if "Waiting is the low point" in t.get_text()]
    assert len(texts) == 1 and texts[0].get_position()[1] < 0


def _figure_functions():
    import importlib
    import inspect
    import pkgutil

    import cxlib

    for info in pkgutil.walk_packages(cxlib.__path__, "cxlib."):
        module = importlib.import_module(info.name)
        for name, fn in vars(module).items():
            if name.startswith("plot_") and inspect.isfunction(fn) and fn.__module__ == info.name:
                yield info.name, name, fn


def test_every_figure_function_follows_the_convention():
    """A figure function is called ``plot_*``, is typed ``-> Figure``, takes ``lang`` keyword-only
    with the one default ``both``, and takes ``ax=None`` when it draws one axes."""
    import inspect

    from matplotlib.figure import Figure

    seen = []
    for module, name, fn in _figure_functions():
        sig = inspect.signature(fn)
        assert sig.return_annotation in (Figure, "Figure"), (module, name)
        lang = sig.parameters["lang"]
        assert lang.kind is inspect.Parameter.KEYWORD_ONLY and lang.default == "both", (module, name)
        seen.append(name)
    assert {
        "plot_emotion_curve",
        "plot_journey_map",
        "plot_visit_timeline",
        "plot_nps_trend",
        "plot_tornado",
        "plot_roi_distribution",
        "plot_theme_map",
        "plot_dose_response",
        "plot_coefficients",
        "plot_event_study",
    } <= set(seen)
    assert {m for m, name, _ in _figure_functions() if name == "plot_event_study"} == {"cxlib.models", "cxlib.did"}


def test_a_figure_of_one_axes_draws_on_the_axes_given():
    import pandas as pd

    from cxlib import roi, summary

    fig, (left, right) = plotting.subplots(nrows=1, ncols=2, figsize=(8, 3))
    months = pd.DataFrame(
        {
            "month": ["2026-09", "2026-10"],
            "nps": [10.0, 20.0],
            "ci_low": [0.0, 5.0],
            "ci_high": [20.0, 35.0],
            "n": [80, 90],
        }
    )
    assert summary.plot_nps_trend(months, lang="en", ax=left) is fig
    table = pd.DataFrame(
        {
            "id": ["x"],
            "name_zh": ["例"],
            "name_en": ["Ex"],
            "input": ["reach"],
            "label_zh": ["覆盖"],
            "label_en": ["Reach"],
            "low": [1.0],
            "mode": [2.0],
            "high": [3.0],
            "npv_low": [-1e4],
            "npv_high": [3e4],
            "npv_base": [1e4],
            "swing": [4e4],
        }
    )
    assert roi.plot_tornado(table, lang="en", ax=right) is fig
    assert left.lines and right.patches
    assert len(fig.axes) == 2


def test_the_old_names_of_figure_functions_keep_working():
    from cxlib import journey

    assert journey.journey_map is journey.plot_journey_map
    assert journey.visit_timeline is journey.plot_visit_timeline


def test_the_confidence_level_is_ci_and_level_is_deprecated():
    import pytest

    from cxlib import roi

    entry = {"estimate": 0.3, "ci_low": 0.1, "ci_high": 0.5}
    wide = roi.effect_sampling("ltr_slope_per_update", entry, ci=0.9)
    with pytest.warns(DeprecationWarning, match="ci="):
        assert roi.effect_sampling("ltr_slope_per_update", entry, level=0.9) == wide
    assert wide["sd"] > roi.effect_sampling("ltr_slope_per_update", entry)["sd"]


def test_the_model_figures_draw_on_the_axes_given_and_state_a_note_there():
    import pandas as pd

    from cxlib import models

    fig, (left, middle, right) = plotting.subplots(nrows=1, ncols=3, figsize=(12, 3))
    coefs = pd.DataFrame(
        {"term": ["updates", "photo"], "estimate": [0.3, 0.5], "ci_low": [0.1, 0.2], "ci_high": [0.5, 0.8]}
    ).assign(model="ltr")
    assert models.plot_coefficients(coefs, lang="en", ax=left) is fig
    event = pd.DataFrame(
        {"rel_month": [-2, -1, 0, 1], "estimate": [0.0, 0.1, 0.6, 0.7], "ci_low": [-0.3, -0.2, 0.3, 0.4]}
    ).assign(ci_high=lambda d: d["estimate"] + 0.3)
    assert models.plot_event_study(event, lang="en", ax=middle) is fig
    assert plotting.note_figure("cannot fit: only 3 complete rows", "Model coefficients", ax=right) is fig
    assert len(fig.axes) == 3 and left.get_xlabel() == "Estimate (95% CI)"
    assert [t.get_text() for t in left.get_yticklabels()] == ["updates", "photo"]
    assert len(middle.get_xticklabels()) == 4 and right.texts[0].get_text() == "cannot fit: only 3 complete rows"
    alone = models.plot_coefficients(coefs, lang="en")
    assert alone is not fig and len(alone.axes) == 1 and alone.get_size_inches().tolist() == [7.0, 0.45 * 2 + 1.5]


def test_the_figure_labels_of_nps_models_and_did_come_from_one_table():
    """nps, models and did keep no labels of their own: their figures read cxlib.labels."""
    import inspect

    from cxlib import did, labels, models, nps

    for module in (nps, models, did):
        assert not hasattr(module, "_TEXT") and not hasattr(module, "_text"), module.__name__
        assert "labels.t" in inspect.getsource(module.plot_event_study if module is not nps else nps.plot_dose_response)
    assert labels.text("coef_title", lang="en") == "Model coefficients"
    assert labels.title("rollout_event_title", lang="both").split("\n")[0] == "实时进度上线的事件研究：稳健估计与 TWFE"
    assert all(zh and en and zh != en for zh, en in labels.TEXT.values())
