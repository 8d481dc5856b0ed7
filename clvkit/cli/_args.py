"""Command-line arguments: the number validators, date options and the option groups several commands share."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._csvio import parse_iso_time
from .._timecolumns import days_to_dates, yyyymmdd_to_dates
from ..errors import InvalidInputError

__all__ = ["Parents", "amount", "date_format", "date_option", "delimiter", "fraction", "lang_option",
           "non_negative_int", "positive_int", "rate"]


# ------------------------------------------------------------------------------------------ numbers
def _parse_number(text: str, kind: type[int] | type[float]) -> Any:
    """``text`` as a whole number or a number, or argparse's usage error."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise argparse.ArgumentTypeError(message)


def positive_int(text: str) -> int:
    value: int = _parse_number(text, int)
    _check(value >= 1, f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value: int = _parse_number(text, int)
    _check(value >= 0, f"must be at least 0, got {value}")
    return value


def rate(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(0.0 <= value < 1.0, f"must be in [0, 1), got {value:g} (0.01 means 1% per period)")
    return value


def fraction(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(0.0 <= value <= 1.0, f"must be in [0, 1], got {value:g}")
    return value


def amount(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(math.isfinite(value) and value >= 0.0, f"must be finite and >= 0, got {value:g}")
    return value


def delimiter(text: str) -> str:
    """``--delimiter``: one character that can separate CSV fields (``\\t`` spelled out means a tab)."""
    value = "\t" if text in ("\\t", "tab", "TAB") else text
    _check(len(value) == 1, f"must be one character, got {text!r} (e.g. ';', or '\\t' for a tab)")
    _check(value not in ('"', "\n", "\r"), f"cannot be {text!r}, which CSV reserves for quoting and line ends")
    return value


def date_format(text: str) -> str:
    """``--date-format``: ``days``, ``yyyymmdd`` or a strptime format (which holds a ``%``)."""
    _check(text in ("days", "yyyymmdd") or "%" in text,
           f"must be 'days', 'yyyymmdd' or a strptime format such as %d/%m/%Y, got {text!r}")
    return text


def date_option(text: str | None, name: str, date_format: str | None = None) -> _dt.datetime | None:
    """A date option's value (``None`` when not given); checked when the command runs, not by argparse.

    ISO 8601, or written as ``--date-format`` says the log's times are (``19980630`` with ``yyyymmdd``,
    ``10407`` with ``days``, ``30/06/1998`` with ``%d/%m/%Y``).
    """
    if text is None:
        return None
    if date_format in ("days", "yyyymmdd"):
        try:
            number = np.array([float(text)])
        except ValueError:
            number = np.array([np.nan])
        dates, bad = (yyyymmdd_to_dates if date_format == "yyyymmdd" else days_to_dates)(number)
        if not bad[0]:
            out: _dt.datetime = dates.astype("datetime64[us]")[0].item()
            return out
    elif date_format is not None:
        try:
            return parse_iso_time(text, date_format)
        except ValueError:
            pass
    try:
        return parse_iso_time(text)
    except ValueError:
        also = f" or in --date-format {date_format}" if date_format else ""
        raise InvalidInputError(
            f"The '{name}' option must be an ISO 8601 date or time such as 1997-09-30{also}. Got {text!r} instead."
        ) from None


# ------------------------------------------------------------------------------------------ shared options
@dataclass(frozen=True)
class Parents:
    """Option groups that several commands share, as argparse parent parsers.

    Attributes
    ----------
    common:
        ``--verbose`` and ``--quiet`` (every command).
    valuation:
        Horizon, period, discount rate, margin and ``--top`` (``demo``, ``score``).
    log:
        The transaction log and how to read and split it (``fit``, ``score``).
    """

    common: argparse.ArgumentParser
    valuation: argparse.ArgumentParser
    log: argparse.ArgumentParser

    @classmethod
    def build(cls) -> Parents:
        return cls(common=_common(), valuation=_valuation(), log=_log())


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="also report every optimiser iteration")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    return common


def _valuation() -> argparse.ArgumentParser:
    value = argparse.ArgumentParser(add_help=False)
    g = value.add_argument_group("valuation")
    g.add_argument("--horizon", type=positive_int, default=12, help="number of discounting periods (default 12)")
    g.add_argument("--period", default="M",
                   help="length of one period: a unit (s, min, h, D, W, M, Q, Y; M = 30.44 days, the mean "
                        "month) or a number of days, e.g. 30 (default M)")
    g.add_argument("--discount-rate", type=rate, default=0.01,
                   help="discount rate per period, in [0, 1) (default 0.01: 1%% a month)")
    g.add_argument("--margin", type=fraction, default=1.0,
                   help="profit margin on spend, in [0, 1] (default 1.0: value in revenue)")
    g.add_argument("--top", type=non_negative_int, default=10, help="print the N most valuable customers "
                   "(default 10)")
    return value


def _log() -> argparse.ArgumentParser:
    log_in = argparse.ArgumentParser(add_help=False)
    g = log_in.add_argument_group("input")
    g.add_argument("input", metavar="INPUT", help="transaction log: .csv (.csv.gz, .tsv) or .parquet")
    g.add_argument("--format", choices=("csv", "parquet"), help="input format (default: from the file name)")
    g.add_argument("--delimiter", type=delimiter, help="CSV field separator, one character (default ',', tab for "
                   ".tsv)")
    g.add_argument("--date-format", metavar="FORMAT", type=date_format,
                   help="how times are written: a strptime format such as %%d/%%m/%%Y, 'yyyymmdd' for whole "
                        "numbers like 19970101, or 'days' for days since 1970-01-01 (default ISO 8601)")
    g.add_argument("--calibration-end", metavar="DATE",
                   help="end of the calibration period (inclusive); later rows form the holdout")
    g.add_argument("--observation-end", metavar="DATE", help="end of the observation (default: last transaction)")
    g.add_argument("--refunds", choices=("error", "drop", "net"), default="error",
                   help="negative amounts: reject (default), drop, or net against the same period")
    return log_in


def lang_option(parser: argparse.ArgumentParser) -> None:
    """``--lang {zh,en}``: the language of the printed report (default: the locale's, see
    :func:`clvkit.i18n.default_language`)."""
    from ..i18n import LANGUAGES

    parser.add_argument("--lang", choices=list(LANGUAGES), default=None,
                        help="language of the report: en (English) or zh (Simplified Chinese); default from the "
                             "locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)")
