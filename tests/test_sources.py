"""Every constant taken from the source texts cites its text, and every rule clvkit made up says it is clvkit's.

The texts are cited as /work/shared/seeds/README.md names them ("text 000" ... "text 004", with author and title
where the text gives them); a rule of clvkit's own says "clvkit default". The documentation comment (``#:``) of
each named constant, or the docstring of each named class, is read from the source and must carry one or the
other. The word-of-mouth constants once cited a notes file that does not ship, and a made-up example was called
"the book's worked example": neither may come back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import clvkit

PACKAGE = Path(clvkit.__file__).resolve().parent
CITATION = re.compile(r"text 00[0-4]|clvkit default|clvkit's (?:own |documented )*(?:default|rule|choice|reading)",
                      re.IGNORECASE)

#: (module file, constant) of every constant whose number or names come from a text or are clvkit's choice.
CONSTANTS = [
    ("tiering/value.py", "FIVE_A_SHARES"),
    ("tiering/value.py", "KEY_CUSTOMER_SHARE"),
    ("tiering/value.py", "TAKE_ONE_DROP_NINE_SHARE"),
    ("tiering/concentration.py", "DEFAULT_TOP_SHARES"),
    ("tiering/matrix.py", "VALUE_COST_LABELS"),
    ("tiering/matrix.py", "VALUE_RISK_LABELS"),
    ("tiering/scorecard.py", "STAR_LABELS"),
    ("tiering/scorecard.py", "DEFAULT_BENEFITS"),
    ("tiering/rfm.py", "RFM_QUANTILES"),
    ("tiering/rfm.py", "DEFAULT_RFM_SEGMENTS"),
    ("tiering/portrait.py", "DEFAULT_TENURE_BANDS"),
    ("tiering/_kernels.py", "TIE_RULE"),
    ("valuation/value/word_of_mouth.py", "WORD_OF_MOUTH_SOURCE"),
    ("valuation/value/clv.py", "ACQUISITION_COST_MULTIPLE"),
    ("valuation/value/clv.py", "ACQUISITION_COST_MULTIPLE_RANGE"),
]
#: (module file, class) of configurations whose defaults are clvkit's or a text's.
CLASSES = [
    ("binding/config.py", "ScoreWeights"),
    ("binding/config.py", "BindingConfig"),
    ("domain/enums.py", "RelationshipGrade"),
    ("domain/enums.py", "Closeness"),
]


def _comment_above(path: Path, name: str) -> str:
    """The ``#:`` lines right above the assignment of ``name`` at module level."""
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            i = node.lineno - 2
            block: list[str] = []
            while i >= 0 and lines[i].lstrip().startswith("#:"):
                block.insert(0, lines[i].lstrip()[2:].strip())
                i -= 1
            return " ".join(block)
    raise AssertionError(f"{name} is not assigned at module level in {path}")


@pytest.mark.parametrize(("module", "name"), CONSTANTS)
def test_every_named_constant_cites_its_source(module: str, name: str) -> None:
    comment = _comment_above(PACKAGE / module, name)
    assert comment, f"{module}: {name} has no #: comment"
    assert CITATION.search(comment), f"{module}: the comment of {name} cites no text and says no 'clvkit default': " \
                                     f"{comment!r}"


@pytest.mark.parametrize(("module", "name"), CLASSES)
def test_every_named_class_cites_its_source(module: str, name: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    doc = ast.get_docstring(node) or ""
    module_doc = ast.get_docstring(tree) or ""
    assert CITATION.search(doc) or CITATION.search(module_doc), f"{module}: {name} cites no source"


def test_the_default_treatments_say_they_are_clvkits() -> None:
    from clvkit.tiering import DEFAULT_TREATMENTS

    assert CITATION.search(DEFAULT_TREATMENTS.source)


def test_the_word_of_mouth_source_names_text_003() -> None:
    from clvkit.valuation.value.word_of_mouth import WORD_OF_MOUTH_SOURCE

    assert "text 003" in WORD_OF_MOUTH_SOURCE and "8" in WORD_OF_MOUTH_SOURCE and "25" in WORD_OF_MOUTH_SOURCE


def test_no_citation_of_files_that_do_not_ship_and_no_made_up_worked_example() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"book's worked example", r"domain notes", r"text 00[5-9]"):
            if re.search(pattern, text, flags=re.IGNORECASE):
                offenders.append((path.relative_to(PACKAGE).as_posix(), pattern))
    assert offenders == []
