"""The HTML page of an executed notebook: code hidden, the run's language, nothing loaded from the
internet, the print stylesheet and the CJK font subset embedded.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlib.catalog import Lang
from cxlib.share import add_print_stylesheet

if TYPE_CHECKING:
    from nbconvert import HTMLExporter


def to_html(executed: Path, dst: Path, *, lang: Lang | None = None) -> None:
    """Render an executed notebook to HTML with the code cells hidden (outputs are escaped).

    The prose is in the run's language: every markdown cell keeps the blocks of ``lang``
    (:func:`cxlib.lang.pick`; Chinese first for "both"); without ``lang``, the ``lang`` the
    notebook was executed with (papermill's parameters), else "both". The executed notebook
    itself keeps every block. The page's ``<title>`` is its scope line (:func:`page_title`), the
    same text as the scope block at its top, in whatever language. The page loads nothing from the internet (:data:`REPORT_TEMPLATE`): no MathJax (the report
    has no math to show, and ``$…$`` in a comment or a name is shown as written), no require.js;
    it carries the print stylesheet (A4, no table cut across pages) and its CJK font.

        >>> to_html(Path("reports/2026-10/SH-JQ/05_summary.ipynb"), Path("05_summary.html"))  # doctest: +SKIP
    """
    import nbformat

    from cxlib.lang import notebook_lang, pick_cells

    nb = nbformat.read(executed, as_version=4)
    pick_cells(nb, lang or notebook_lang(nb))
    title = page_title(nb)
    if title is not None:
        nb.metadata["title"] = title  # the lab template's <title> (escaped by the template)
    body, _ = _exporter().from_notebook_node(nb)
    dst.write_text(embed_cjk_font(add_print_stylesheet(body)), encoding="utf-8")


def page_title(nb: Any) -> str | None:
    """The scope line a notebook showed (:class:`cxlib.results.Scope`, found by the metadata of
    its first output that carries :data:`cxlib.results.SCOPE_METADATA`), or None when it showed none.

        >>> import nbformat
        >>> page_title(nbformat.v4.new_notebook()) is None
        True
    """
    from cxlib.results import SCOPE_METADATA

    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            entry = (out.get("metadata") or {}).get(SCOPE_METADATA)
            if isinstance(entry, dict) and isinstance(entry.get("title"), str):
                return entry["title"]
    return None


#: nbconvert's lab template without anything it would load from the internet: no MathJax (data
#: text is never typeset as math), no require.js, no Mermaid, no widget manager (all from CDNs);
#: the print stylesheet (:data:`cxlib.share.PRINT_CSS`) is added by :func:`to_html`
REPORT_TEMPLATE = (
    "{%- extends 'lab/index.html.j2' -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
)


@functools.cache
def _exporter() -> HTMLExporter:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, raw_template=REPORT_TEMPLATE
    )


def warm_html() -> None:
    """Prepare the HTML export (nbconvert and its templates, the font) ahead of the first page."""
    import nbformat

    _exporter().from_notebook_node(nbformat.v4.new_notebook())
    _cjk_face()


_EMBED_FAMILY = "CX Noto Sans SC"


_CJK_RANGES = "U+2E80-2FDF,U+3000-33FF,U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF,U+FE30-FE4F,U+FF00-FFEF"


@functools.cache
def _cjk_face() -> Any:  # a uharfbuzz Face (the library ships no type information)
    """The bundled CJK font, read once and prepared by HarfBuzz for repeated subsetting."""
    import uharfbuzz as hb

    from cxlib.fonts import cjk_font_path

    return hb.subset_preprocess(hb.Face(hb.Blob.from_file_path(str(cjk_font_path()))))


def embed_cjk_font(page: str) -> str:
    """Make a report page show its Chinese text on any machine, with no system fonts.

    The bundled Noto Sans SC (SIL OFL) is cut down by HarfBuzz's subsetter (milliseconds) to
    the characters the page uses (tens of kilobytes) and embedded as a ``data:`` URI with
    ``@font-face``, limited to CJK code points so that Latin text keeps the reader's own fonts.
    A page without non-ASCII text is returned unchanged.

        >>> "@font-face" in embed_cjk_font("<html><head></head><body>等待</body></html>")
        True
    """
    import base64

    import uharfbuzz as hb

    chars = sorted({ch for ch in page if ord(ch) > 127})
    if not chars or "</head>" not in page:
        return page
    spec = hb.SubsetInput()
    for ch in chars:
        spec.unicode_set.add(ord(ch))
    spec.layout_feature_tag_set.clear()  # no GSUB/GPOS: CJK text needs no shaping here
    subset = hb.subset(_cjk_face(), spec)
    if subset is None:  # pragma: no cover - HarfBuzz returns no face only on a broken font file
        raise RuntimeError("HarfBuzz could not cut the bundled CJK font down to the page's characters")
    data = base64.b64encode(subset.blob.data).decode("ascii")
    # listed first but limited to CJK code points, so Latin text keeps the reader's own font
    style = (
        f'<style>@font-face{{font-family:"{_EMBED_FAMILY}";src:url(data:font/otf;base64,{data}) format("opentype");'
        f"unicode-range:{_CJK_RANGES};}}"
        f'body,table,td,th,p,h1,h2,h3,li,.jp-RenderedHTMLCommon{{font-family:"{_EMBED_FAMILY}",system-ui,'
        f'"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}}</style>'
    )
    return page.replace("</head>", style + "</head>", 1)
