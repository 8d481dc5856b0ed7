"""What the commands print: results to stdout, progress and warnings to stderr, errors on one line."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from .._model_folder import one_line
from ..i18n import N_, Translator, translator

__all__ = ["UNIT_NAMES", "Console", "money", "one_line"]

#: Time units as the printed text names them.
UNIT_NAMES = {"s": N_("seconds"), "min": N_("minutes"), "h": N_("hours"), "D": N_("days"), "W": N_("weeks"),
              "M": N_("months"), "Q": N_("quarters"), "Y": N_("years")}


class Console:
    """Results to ``out``; progress and warnings to ``err`` (silenced by ``--quiet``).

    ``lang`` is the language of what the command prints (``None``: the locale's); ``console.tr`` translates.
    """

    def __init__(self, out: TextIO, err: TextIO, *, verbose: bool = False, quiet: bool = False,
                 lang: str | None = "en") -> None:
        self.tr: Translator = translator(lang)
        self.out = out
        self.err = err
        self.verbose = verbose and not quiet
        self.quiet = quiet
        self._open_line = False

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        """A progress line on stderr."""
        if not self.quiet:
            self._close_line()
            self.err.write(text + "\n")
            self.err.flush()

    def detail(self, text: str) -> None:
        """A progress line shown only with ``--verbose``."""
        if self.verbose:
            self.note(text)

    def error(self, text: str) -> None:
        self._close_line()
        self.err.write(text + "\n")
        self.err.flush()

    def _close_line(self) -> None:
        if self._open_line:
            self.err.write("\n")
            self._open_line = False

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[Callable[[str], None]]:
        """``what ... done in 0.05 s`` on stderr around a block; the block may add a suffix to the line."""
        suffix: list[str] = []
        if not self.quiet:
            self._close_line()
            # i18n: a step under way; " done in ..." follows on the same line (Chinese: 正在……完成，用时 0.05 秒)
            self.err.write(self.tr("{what} ...", what=what))
            self.err.flush()
            self._open_line = True
        t0 = time.perf_counter()
        try:
            yield suffix.append
        except BaseException:
            if not self.quiet:
                if self._open_line:
                    self.err.write(self.tr(" failed") + "\n")
                    self._open_line = False
                else:
                    self.err.write(self.tr("{what} failed", what=what) + "\n")
            raise
        seconds = time.perf_counter() - t0
        if not self.quiet:
            took = f"{seconds:.2f}"
            if suffix:  # one message with the details, so each language brackets them its own way
                done = self.tr(" done in {seconds} s ({details})", seconds=took, details=self.tr(", ").join(suffix))
            else:
                done = self.tr(" done in {seconds} s", seconds=took)
            if self._open_line:
                self.err.write(f"{done}\n")
            else:  # verbose lines were printed in between
                self.err.write(f"{what}{done}\n")
            self.err.flush()
            self._open_line = False


def money(x: float) -> str:
    return f"{x:,.2f}"
