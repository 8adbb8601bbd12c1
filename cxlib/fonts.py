"""The bundled CJK font, without importing matplotlib (report pages embed it too).

>>> cjk_font_path().name
'NotoSansSC-Regular.otf'
"""

from __future__ import annotations

from pathlib import Path


def cjk_font_path() -> Path:
    """Path of the bundled Noto Sans SC font file (SIL OFL), from ``pylopdf_fonts_zh_cn``.

    >>> cjk_font_path().name
    'NotoSansSC-Regular.otf'
    """
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())
