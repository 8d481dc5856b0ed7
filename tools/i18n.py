"""Maintain clvkit's message catalogue with Babel (from the test extra).

    python tools/i18n.py update    extract the messages the code asks for and merge them into clvkit.po
    python tools/i18n.py compile   compile clvkit.po into clvkit.mo (both committed; the package reads the .mo)

A message is anything passed as the first argument to a translator bound to the name ``tr``: ``tr("...")`` or
``tr.plural("...", "...", n)``, or a text marked ``N_("...")`` to be translated where it is shown (see
KEYWORDS); tests/test_i18n.py checks the catalogue against the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "clvkit" / "i18n" / "locale" / "zh" / "LC_MESSAGES" / "clvkit.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"tr": None, "plural": (1, 2), "N_": None}


def extract() -> Catalog:
    """The messages the code asks for, with their source locations."""
    catalog = Catalog(domain="clvkit", project="clvkit")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / "clvkit", method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("i18n:",),
            strip_comment_tags=True):
        catalog.add(message, None, [(f"clvkit/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def update() -> None:
    template = extract()
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN", domain="clvkit")
    catalog.update(template, no_fuzzy_matching=True)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=120, omit_header=False, ignore_obsolete=True, include_previous=False)


def compile_mo() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN", domain="clvkit")
    with MO.open("wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)


if __name__ == "__main__":
    {"update": update, "compile": compile_mo}[sys.argv[1]]()
