"""The ``clvkit`` program: the argument parser (each command module adds its subcommand) and :func:`main`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from .._version import __version__
from ..errors import ClvkitError
from . import activity, binding, budget, demo, fit, migrate, report, score, serve, tier
from ._args import Parents
from ._console import Console, one_line

__all__ = ["build_parser", "main", "os_error_message"]

#: The subcommands in the order ``clvkit --help`` lists them.
_COMMANDS = (demo, fit, score, tier, migrate, budget, binding, activity, report, serve)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``clvkit`` command (exposed for documentation tools and tests)."""
    parser = argparse.ArgumentParser(
        prog="clvkit",
        description="Customer lifetime value from a transaction log (BG/NBD + Gamma-Gamma fits, scores, CLV), "
                    "tiering and binding reports.",
        epilog="Run 'clvkit demo' for the whole job on the bundled CDNOW sample.",
    )
    parser.add_argument("--version", action="version", version=f"clvkit {__version__}")
    parents = Parents.build()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(sub, parents)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``clvkit`` command line; return the exit status.

    Parameters
    ----------
    argv:
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 2 for a usage error, any :class:`~clvkit.errors.ClvkitError` or an operating-system
        error such as a permission denied or a full disk (each reported as one line on stderr, naming the
        file); 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    clvkit ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    # Commands with --lang print in its language (None: the locale's); the others print English.
    console = Console(sys.stdout, sys.stderr, verbose=getattr(args, "verbose", False),
                      quiet=getattr(args, "quiet", False), lang=getattr(args, "lang", "en"))
    handler: Callable[[argparse.Namespace, Console], int] = args.handler
    nul = [a for a in (sys.argv[1:] if argv is None else argv) if "\x00" in str(a)]
    if nul:  # no path or value can hold one (the OS refuses it with a ValueError deep inside a write)
        console.error(f"clvkit {args.command}: error: an argument contains a NUL byte: {nul[0]!r}. Remove it.")
        return 2
    try:
        return handler(args, console)
    except ClvkitError as exc:
        console.error(f"clvkit {args.command}: error: {one_line(exc)}")
        return 2
    except OSError as exc:  # permission denied, a folder where a file is expected, disk full, ...
        console.error(f"clvkit {args.command}: error: {os_error_message(exc)}")
        return 2
    except KeyboardInterrupt:
        console.error("clvkit: interrupted")
        return 130
    finally:
        sys.stdout.flush()


def os_error_message(exc: OSError) -> str:
    """An operating-system error in words, naming the file: ``Permission denied: out/scores.csv.``"""
    what = exc.strerror or type(exc).__name__
    if exc.filename is None:
        return f"{what}." if exc.strerror else one_line(exc)
    names = f"{os.fsdecode(exc.filename)}" + (f" -> {os.fsdecode(exc.filename2)}" if exc.filename2 else "")
    return f"{what}: {names}."
