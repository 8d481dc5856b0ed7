"""The exception types raised by clvkit.

Every error clvkit raises on purpose derives from :class:`ClvkitError`. Errors about the caller's
input are :class:`InvalidInputError`, which is also a :class:`ValueError` so that generic handlers keep
working. Data errors carry structured :class:`Problem` records: the column, how many rows fail, the
first failing row positions (or customer ids) and what to do about it, and all problems of one input are
reported together rather than one per call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ClvkitError",
    "ComputationError",
    "ConvergenceError",
    "ConvergenceWarning",
    "InvalidInputError",
    "MissingDependencyError",
    "ModelDomainError",
    "NotFittedError",
    "Problem",
    "describe_json",
]

#: How many offending rows an error message lists before it says "and N more".
MAX_ROWS_SHOWN = 5
#: Longest rendering of one offending value in a message (a huge list is cut, not printed whole).
MAX_VALUE_SHOWN = 80


def describe_json(value: Any) -> str:
    """How ``value`` reads in JSON (``true``, ``"0.5"``, ``null``), cut to :data:`MAX_VALUE_SHOWN` characters.

    For messages about JSON documents, which should show what the file says rather than Python's repr.

    Examples
    --------
    >>> describe_json(True), describe_json("0.5"), describe_json(None)
    ('true', '"0.5"', 'null')
    """
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One failed check on one column of an input.

    Attributes
    ----------
    column:
        Name of the column (or parameter) that fails the check.
    message:
        What is wrong, in words.
    rows:
        Positions (0-based) or ids of the first offending rows; at most :data:`MAX_ROWS_SHOWN`.
    n_bad:
        How many rows fail the check in total (0 for a problem that is not about rows).
    fix:
        What the caller can do about it.
    """

    column: str
    message: str
    rows: tuple[object, ...] = ()
    n_bad: int = 0
    fix: str = ""
    row_label: str = field(default="row", compare=False)

    def __str__(self) -> str:
        text = f"'{self.column}': {self.message}"
        if self.n_bad:
            shown = ", ".join(str(r) for r in self.rows)
            more = self.n_bad - len(self.rows)
            suffix = f" and {more} more" if more > 0 else ""
            plural = "s" if self.n_bad != 1 else ""
            text += f" ({self.n_bad} {self.row_label}{plural} fail; first at {self.row_label} {shown}{suffix})"
        if self.fix:
            text += f". {self.fix}"
        return text


class ClvkitError(Exception):
    """Base class of every error clvkit raises on purpose."""


class InvalidInputError(ClvkitError, ValueError):
    """The caller's input (data, parameter or configuration) is invalid.

    Parameters
    ----------
    problems:
        Either a plain message or the list of :class:`Problem` records found; all of them are
        reported in one message.
    context:
        What was being checked, e.g. ``"CustomerSummary"``; prefixes the message.

    Examples
    --------
    >>> err = InvalidInputError([Problem("recency", "must be <= T", rows=(3,), n_bad=1)], context="data")
    >>> print(err)
    data has 1 problem:
      - 'recency': must be <= T (1 row fail; first at row 3)
    >>> err.problems[0].column
    'recency'
    """

    def __init__(self, problems: str | Sequence[Problem], *, context: str = "") -> None:
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = ()
            message = problems
        else:
            self.problems = tuple(problems)
            n = len(self.problems)
            head = f"{context or 'Input'} has {n} problem{'s' if n != 1 else ''}:"
            message = "\n".join([head, *(f"  - {p}" for p in self.problems)])
        super().__init__(message)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the columns with problems, in the order reported."""
        return tuple(p.column for p in self.problems)


class NotFittedError(ClvkitError, ValueError):
    """A model was used before its parameters were known."""


class ModelDomainError(ClvkitError, ValueError):
    """A quantity is not defined for the fitted parameters (e.g. a mean that is infinite)."""


class ConvergenceError(ClvkitError, RuntimeError):
    """An estimation did not converge; the message says what was tried and what to change."""


class ComputationError(ClvkitError, RuntimeError):
    """A distributed computation (Dask) failed, e.g. workers were lost more often than it retries; nothing partial
    is returned."""


class MissingDependencyError(ClvkitError, ImportError):
    """An optional dependency is needed for this call; the message names the extra to install."""


class ConvergenceWarning(UserWarning):
    """An estimation finished but a diagnostic (gradient, Hessian) looks doubtful."""
