"""The message catalogue: complete for what the code asks, compiled, placeholders intact; the language choice."""

from __future__ import annotations

import gettext
import importlib.util
import io
import string
import sys
from pathlib import Path

import pytest

from clvkit import InvalidInputError
from clvkit.i18n import LANGUAGES, check_language, default_language, translator

ROOT = Path(__file__).resolve().parents[1]
babel = pytest.importorskip("babel", reason="checking the catalogue needs Babel (test extra)")
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402


def _tools() -> object:
    spec = importlib.util.spec_from_file_location("clvkit_i18n_tools", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


TOOLS = _tools()
PO = ROOT / "clvkit" / "i18n" / "locale" / "zh" / "LC_MESSAGES" / "clvkit.po"


def _po() -> dict[object, object]:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    return {m.id: m.string for m in catalog if m.id}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_the_code_asks_for_is_translated_and_none_is_stale() -> None:
    asked = {m.id for m in TOOLS.extract() if m.id}  # type: ignore[attr-defined]
    po = _po()
    missing = sorted(str(m) for m in asked - set(po))
    stale = sorted(str(m) for m in set(po) - asked - {"Key customers"})  # the module's doctest uses it
    assert missing == [], f"run 'python tools/i18n.py update', then translate: {missing[:10]}"
    assert stale == [], f"messages no code asks for (run 'python tools/i18n.py update'): {stale[:10]}"
    untranslated = [str(k) for k, v in po.items() if not v or (isinstance(v, tuple) and not all(v))]
    assert untranslated == []


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in _po().items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strs = msgstr if isinstance(msgstr, tuple) else (msgstr,)
        want = set().union(*(_fields(str(i)) for i in ids))
        for s in strs:
            assert _fields(str(s)) <= want and (_fields(str(s)) == want or "n" in want), (msgid, s)


def test_the_compiled_catalogue_is_the_source() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    committed = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))
    # The header ("" key) carries Babel's creation time when the .po has none: compare the messages only.
    messages = [{k: v for k, v in t._catalog.items() if k != ""} for t in (fresh, committed)]  # type: ignore[attr-defined]
    assert messages[0] == messages[1], "run 'python tools/i18n.py compile'"


def test_languages_and_defaults() -> None:
    assert LANGUAGES == ("en", "zh")
    assert translator("zh")("Key customers") == "关键客户"
    assert translator("en")("Key customers") == "Key customers"
    assert translator("en")("{n} rows", n=3) == "3 rows"
    cases = {("LANG", "zh_CN.UTF-8"): "zh", ("LANG", "zh_TW.UTF-8"): "zh", ("LANG", "en_US.UTF-8"): "en",
             ("LC_ALL", "zh_SG"): "zh", ("LANGUAGE", "zh:en"): "zh", ("LANGUAGE", "fr:zh"): "en", ("LANG", "C"): "en"}
    for (name, value), expected in cases.items():
        assert default_language({name: value}) == expected, (name, value)
    assert default_language({}) == "en"
    # LANGUAGE wins over LANG, as in gettext.
    assert default_language({"LANGUAGE": "zh_CN", "LANG": "en_US.UTF-8"}) == "zh"
    for bad in ("fr", "ZH", "", 1, ["zh"]):
        with pytest.raises(InvalidInputError, match="'lang' must be one of"):
            check_language(bad)


def test_no_message_id_is_an_f_string() -> None:
    # Babel skips an f-string message id (it cannot be looked up) and also warns about f-strings passed as
    # placeholder values, which are harmless and which Babel offers no way to silence; this check tells the two
    # apart: the message itself (the first argument, both for plural) must be a plain literal.
    import ast

    found = []
    for path in sorted((ROOT / "clvkit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("tr", "N_", "plural"):
                ids = node.args[:2] if name == "plural" else node.args[:1]
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for a in ids if isinstance(a, ast.JoinedStr)]
    assert not found, found
