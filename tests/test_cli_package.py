"""The command line is a package: what it exports and how its commands are laid out.

Who may import it (nobody in clvkit but ``__main__``) is the import contract in pyproject.toml (``lint-imports``).
"""

from __future__ import annotations

from pathlib import Path

import clvkit.cli

CLI = Path(clvkit.cli.__file__).resolve().parent


def test_the_public_names_of_clvkit_cli() -> None:
    assert set(clvkit.cli.__all__) == {"SummarySettings", "build_parser", "main", "read_log"}
    for name in ("PUBLISHED_BGNBD", "PUBLISHED_BGNBD_LL", "PUBLISHED_GAMMA_GAMMA", "SETTINGS_FILE", "SETTINGS_SCHEMA",
                 *clvkit.cli.__all__):
        assert hasattr(clvkit.cli, name), name
    assert clvkit.cli.SETTINGS_SCHEMA == "clvkit.cli.summary_settings"  # written into saved model folders


def test_every_command_registers_its_own_subcommand() -> None:
    parser = clvkit.cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == ["demo", "fit", "score", "tier", "migrate", "budget", "binding", "activity", "report",
                                 "serve"]
    for name in sub.choices:
        assert (CLI / f"{name}.py").is_file()
