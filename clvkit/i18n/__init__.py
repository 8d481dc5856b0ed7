"""Messages in the reader's language: English and Simplified Chinese, from one gettext catalogue.

Every word a report prints goes through a :class:`Translator`. English text is the message id itself, so the
code reads naturally and English needs no catalogue; Simplified Chinese comes from the gettext catalogue
``clvkit/i18n/locale/zh/LC_MESSAGES/clvkit.po`` (compiled to ``clvkit.mo``, read with the standard library's
:mod:`gettext`). Placeholders are named (``"{count} key customers"``) and filled with :meth:`str.format`
after translation, so a translation may move them; a test checks every translation keeps the same
placeholders and that every message the code asks for is in the catalogue. By convention the translator is
bound to the name ``tr`` (``tr = translator(lang)``; ``tr("Key customers")``, ``tr.plural(...)``): that is
how the catalogue tool finds the messages.

Maintaining the catalogue (needs Babel, from the ``test`` extra)::

    python tools/i18n.py update    # extract the messages of clvkit/ and merge them into clvkit.po
    python tools/i18n.py compile   # clvkit.po -> clvkit.mo (both are committed)

Examples
--------
>>> tr = translator("zh")
>>> tr("Key customers")
'关键客户'
>>> translator("en")("Key customers")
'Key customers'
>>> default_language({"LANG": "zh_CN.UTF-8"}), default_language({"LANG": "de_DE.UTF-8"})
('zh', 'en')
"""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Mapping
from importlib import resources
from typing import Literal

from ..errors import InvalidInputError

__all__ = ["LANGUAGES", "N_", "Language", "Translator", "check_language", "default_language", "translator"]

Language = Literal["en", "zh"]
#: The languages of the reports: English (message ids) and Simplified Chinese.
LANGUAGES: tuple[Language, ...] = ("en", "zh")
DOMAIN = "clvkit"


def N_(message: str, /) -> str:
    """Mark ``message`` for the catalogue without translating it (gettext's ``gettext_noop``).

    For texts kept as data and translated where they are shown, e.g. the default treatment of each tier:
    ``N_("quarterly visit")`` is stored in English, and ``tr(text)`` translates it at print time (a text the
    catalogue does not hold, such as a user's own, prints unchanged).
    """
    return message


def default_language(environ: Mapping[str, str] | None = None) -> Language:
    """The reader's language from the locale: ``"zh"`` when it is Chinese, else ``"en"``.

    Looks at ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` in that order (gettext's order) and
    takes the first that is set; ``zh``, ``zh_CN``, ``zh_SG``, ``zh-Hans`` ... are Chinese.
    """
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            first = value.split(":")[0].strip().lower()
            return "zh" if first.startswith("zh") else "en"
    return "en"


def check_language(lang: object, where: str = "lang") -> Language:
    """``lang`` if it is one of :data:`LANGUAGES` (``None`` means :func:`default_language`), else a typed error."""
    if lang is None:
        return default_language()
    if isinstance(lang, str) and lang in LANGUAGES:
        return lang
    raise InvalidInputError(f"The '{where}' must be one of {list(LANGUAGES)} (or None for the locale's); got {lang!r}.")


@functools.cache
def _catalogue(lang: Language) -> gettext.NullTranslations:
    # functools.cache is thread-safe for this use: at worst two threads parse the same small file once each.
    if lang == "en":
        return gettext.NullTranslations()
    path = resources.files(__name__).joinpath("locale").joinpath(lang).joinpath("LC_MESSAGES").joinpath(f"{DOMAIN}.mo")
    with path.open("rb") as fh:
        return gettext.GNUTranslations(fh)


class Translator:
    """Translates message ids into one language; call it like a function.

    Parameters
    ----------
    lang:
        ``"en"`` or ``"zh"``; ``None`` takes :func:`default_language`.
    """

    __slots__ = ("_cat", "lang")

    def __init__(self, lang: str | None = None) -> None:
        self.lang: Language = check_language(lang)
        self._cat = _catalogue(self.lang)

    def __call__(self, message: str, /, **fields: object) -> str:
        """The translation of ``message`` with ``fields`` filled in (``str.format``)."""
        text = self._cat.gettext(message)
        return text.format(**fields) if fields else text

    def plural(self, singular: str, plural: str, n: int, /, **fields: object) -> str:
        """The form of ``singular``/``plural`` for the count ``n`` (Chinese has one form), filled in."""
        text = self._cat.ngettext(singular, plural, n)
        return text.format(n=n, **fields)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


def translator(lang: str | None = None) -> Translator:
    """A :class:`Translator` for ``lang`` (``"en"``, ``"zh"``, or ``None`` for the locale's language)."""
    return Translator(lang)
