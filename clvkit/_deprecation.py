"""Old spellings that keep working for one release, with a :class:`DeprecationWarning` naming the new one."""

from __future__ import annotations

import warnings
from typing import Any

from .errors import InvalidInputError

__all__ = ["MISSING", "renamed_argument"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


#: Default of a renamed argument: tells "not given" from any value.
MISSING: Any = _Missing()


def renamed_argument(new_value: Any, old_value: Any, *, new: str, old: str, where: str, default: Any = MISSING) -> Any:
    """The value of an argument renamed from ``old`` to ``new``: the new one, or the old one with a warning
    (``default`` when neither is given and there is one).

    Raises
    ------
    InvalidInputError
        If both spellings are given, or neither.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_argument(MISSING, 20, new="n_draws", old="n_boot", where="f()")
    20
    >>> str(caught[0].message)
    "f(): the 'n_boot' argument is deprecated and will be removed in clvkit 0.3; use 'n_draws' instead."
    """
    if old_value is MISSING:
        if new_value is MISSING:
            if default is not MISSING:
                return default
            raise InvalidInputError(f"{where} needs the '{new}' argument.")
        return new_value
    if new_value is not MISSING:
        raise InvalidInputError(f"{where}: give '{new}' only ('{old}' is its deprecated spelling), not both.")
    warnings.warn(f"{where}: the '{old}' argument is deprecated and will be removed in clvkit 0.3; use '{new}' "
                  f"instead.", DeprecationWarning, stacklevel=3)
    return old_value
