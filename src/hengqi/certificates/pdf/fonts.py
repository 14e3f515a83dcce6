"""A TrueType font that renders Chinese, registered with ReportLab and embedded (subset) in every PDF.

ReportLab embeds TrueType (glyf) fonts only, not CFF-based OpenType such as Noto Sans CJK; WenQuanYi Micro Hei is
TrueType and free (Apache-2.0 / GPLv3 with font exception).  It comes from Debian's ``fonts-wqy-microhei``, which
``scripts/ensure-system-packages.sh`` installs (``make test`` runs it).  ``$HENGQI_CJK_FONT`` names another
TrueType/TTC file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Final

from hengqi.certificates.errors import FontNotFoundError

FONT_ENV: Final = "HENGQI_CJK_FONT"
FONT_NAME: Final = "HengqiCJK"

#: Where Debian (and most Linux distributions) install TrueType CJK fonts, in order of preference.
CANDIDATES: Final = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def find_cjk_font() -> Path:
    """The font file to use; :class:`FontNotFoundError` telling how to install one when there is none."""
    chosen = os.environ.get(FONT_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise FontNotFoundError(FONT_ENV, f"{path} is not a file")
        return path
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontNotFoundError(
        "font",
        "no TrueType font with Chinese glyphs found; install Debian's fonts-wqy-microhei "
        f"(bash scripts/ensure-system-packages.sh) or set {FONT_ENV} to a .ttf/.ttc file",
    )


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK font with ReportLab (once) and return its ReportLab name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    path = find_cjk_font()
    try:
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
        # one face for every style: <b> and <i> in paragraphs must not fall back to a non-embedded font
        pdfmetrics.registerFontFamily(
            FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
        )
    except TTFError as err:
        raise FontNotFoundError(str(path), f"not a TrueType font ReportLab can embed ({err})") from err
    return FONT_NAME
