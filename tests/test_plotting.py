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
    ax.set_title(plotting.title("客户旅程情绪曲线", "Emotion curve", "both"))
    ax.set_xlabel(catalog.label("customer_inquiry", "both"))
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
    plotting.set_theme("paper")
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
    assert plotting.segment_colors(["realtime", "none"], "tier") == {
        "realtime": plotting.TIER_COLORS["realtime"], "none": plotting.TIER_COLORS["none"]}
    assert len(plotting.segment_colors(["SH-JQ", "BJ-WJ"], "center")) == 2


def test_bilingual_text_helpers():
    assert plotting.title("痛点", "Pain points", "zh") == "痛点"
    assert plotting.title("痛点", "Pain points", "en") == "Pain points"
    assert plotting.title("痛点", "Pain points", "both") == "痛点\nPain points"
    assert plotting.text("痛点", "Pain points", "both") == "痛点 Pain points"
    assert plotting.tick_label("waiting", "both") == "等待\nWaiting"
    assert plotting.tick_label("waiting", "en") == "Waiting"
    with pytest.raises(ValueError, match="lang"):
        plotting.title("a", "b", "fr")


def test_caption_is_placed_under_the_axes():
    fig = _chinese_figure()
    texts = [t for t in fig.texts if "Waiting is the low point" in t.get_text()]
    assert len(texts) == 1 and texts[0].get_position()[1] < 0
