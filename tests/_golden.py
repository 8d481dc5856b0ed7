"""Golden files: reports compared exactly with ``tests/golden/<name>.<lang>.txt``.

Regenerate with ``CLVKIT_UPDATE_GOLDEN=1 pytest ...`` and read the new text before committing it: a golden file
freezes what a reader sees.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, text: str) -> None:
    """Assert ``text`` equals the golden file ``name`` (or write it when CLVKIT_UPDATE_GOLDEN is set)."""
    path = GOLDEN / name
    if os.environ.get("CLVKIT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with CLVKIT_UPDATE_GOLDEN=1 and read it before committing"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (CLVKIT_UPDATE_GOLDEN=1 regenerates it)"
