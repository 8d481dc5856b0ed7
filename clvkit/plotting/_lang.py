"""The language of a plot's texts and the font that can draw them.

A plot in Chinese needs a font with CJK glyphs; matplotlib's default (DejaVu Sans) has none and would draw
empty boxes and warn "Glyph ... missing". :func:`plot_language` finds one installed font from :data:`CJK_FONTS`
(the first time a Chinese plot is asked for) and :func:`use_font` gives it to the texts of the plot's own Axes,
one ``Text`` at a time: ``rcParams`` and every other figure are left as they are. With no CJK font installed
a Chinese plot is drawn with English texts, silently (the report's caption under each figure is already in
the reader's language); ``fonts-wqy-microhei`` (Debian, Ubuntu) or Noto Sans CJK SC adds one.
"""

from __future__ import annotations

import functools
from typing import Any

from .._frames import require
from ..i18n import Translator, check_language, translator

__all__ = ["CJK_FONTS", "cjk_font_file", "plot_language", "use_font"]

#: Font families that draw Simplified Chinese, in order of preference (the first installed one is used).
CJK_FONTS: tuple[str, ...] = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                              "Microsoft YaHei", "PingFang SC", "SimHei", "Noto Sans CJK JP", "Source Han Sans")


@functools.cache
def cjk_font_file() -> str | None:
    """The file of the first installed font of :data:`CJK_FONTS`, or ``None`` (looked up once per process).

    matplotlib's font list first; it is cached on disk and misses fonts installed after it was built, so the
    system's font files are read too (their family names) when the list has none.
    """
    fm = require("matplotlib.font_manager")
    files = {entry.name: entry.fname for entry in fm.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in files:
            return str(files[name])
    ft2font = require("matplotlib.ft2font")
    found: dict[str, str] = {}
    for path in sorted(fm.findSystemFonts()):
        try:
            family = ft2font.FT2Font(path).family_name
        except (OSError, RuntimeError, ValueError):  # an unreadable font file is not ours to report
            continue
        if family in CJK_FONTS:
            found.setdefault(family, path)
    return next((found[name] for name in CJK_FONTS if name in found), None)


def plot_language(lang: str | None) -> tuple[Translator, Any]:
    """The translator of a plot's texts and the font for them (``None``: matplotlib's default).

    ``lang`` is checked with :func:`clvkit.i18n.check_language` (``None``: the locale's language). Chinese
    without an installed CJK font falls back to English texts in the default font.
    """
    language = check_language(lang)
    if language == "en":
        return translator("en"), None
    path = cjk_font_file()
    if path is None:
        return translator("en"), None
    return translator(language), require("matplotlib.font_manager").FontProperties(fname=path)


def use_font(font: Any, *axes: Any) -> None:
    """Give ``font`` (keeping each text's size) to every text of ``axes``: title, axis and tick labels,
    legend, annotations. Nothing for ``None``. Tick labels made later copy the font from the first tick."""
    if font is None:
        return
    text_type = require("matplotlib.text").Text
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks()
            axis.get_minor_ticks()
        for text in ax.findobj(text_type):
            properties = font.copy()
            properties.set_size(text.get_fontsize())
            text.set_fontproperties(properties)
