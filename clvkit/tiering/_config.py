"""The base of every tiering configuration: frozen, no unknown fields, errors as :class:`InvalidInputError`.

Pydantic reports a bad configuration as ``pydantic.ValidationError``. clvkit promises one error type for bad
input, so :class:`FrozenConfig` (a :class:`clvkit._pydantic.FrozenModel`, the base of every clvkit model)
converts every validation failure - on construction, ``model_validate`` and ``model_validate_json`` - into
:class:`~clvkit.errors.InvalidInputError` whose problems name the field by its dotted path
(``"cut.shares"``). Cross-field checks raise :class:`InvalidInputError` themselves inside a validator;
Pydantic wraps it, and the conversion unwraps it so its field names survive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, ClassVar

from pydantic import Field, ValidationError

from .._pydantic import FrozenModel, validation_error
from ..errors import InvalidInputError, Problem

__all__ = ["Finite", "FrozenConfig", "check_increasing", "check_labels", "close_to", "config_error"]

#: A float that refuses NaN and infinities (Pydantic accepts both by default).
Finite = Annotated[float, Field(allow_inf_nan=False)]

#: Tags of the discriminated union of cut rules; Pydantic puts the tag in an error's location
#: (``cut.quantiles.shares``), which names no field the caller wrote, so it is dropped.
_CUT_TAGS = frozenset({"quantiles", "thresholds", "scorecard"})


def _path(loc: Sequence[int | str]) -> str:
    parts = [p for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "cut" and p in _CUT_TAGS)]
    return ".".join(str(p) for p in parts)


def config_error(exc: ValidationError, owner: str) -> InvalidInputError:
    """One :class:`InvalidInputError` listing every problem of a Pydantic ``ValidationError``."""
    return validation_error(exc, owner, context=f"{owner} configuration", path=_path)


class FrozenConfig(FrozenModel):
    """Frozen Pydantic model that refuses unknown fields and raises :class:`InvalidInputError`.

    The conversion is :class:`clvkit._pydantic.FrozenModel`'s, shared by every clvkit model; a tiering
    configuration adds "configuration" to the message head and drops the tags of the cut rules from paths.
    """

    _error_context: ClassVar[str] = "{name} configuration"

    @classmethod
    def _error_path(cls, loc: Sequence[int | str]) -> str:
        return _path(loc)


def check_increasing(values: Sequence[float], field: str, *, strict: bool = True) -> Problem | None:
    """A :class:`Problem` when ``values`` is not (strictly) increasing, else ``None``."""
    for i in range(1, len(values)):
        if values[i] < values[i - 1] or (strict and values[i] == values[i - 1]):
            word = "strictly increasing" if strict else "non-decreasing"
            return Problem(field, f"must be {word}; got {list(values)} (position {i})",
                           fix="Sort the values from the lowest tier to the highest.")
    return None


def check_labels(labels: Sequence[str], n: int, field: str) -> Problem | None:
    """A :class:`Problem` when ``labels`` are not ``n`` distinct non-empty strings, else ``None``."""
    if len(labels) != n:
        return Problem(field, f"must hold {n} labels; got {len(labels)}")
    if len(set(labels)) != n or any(not lab.strip() for lab in labels):
        return Problem(field, f"must be distinct non-empty strings; got {list(labels)}")
    return None


def close_to(total: float, target: float, tol: float = 1e-9) -> bool:
    """Whether ``total`` equals ``target`` up to a relative tolerance (for shares and weights)."""
    return math.isclose(total, target, rel_tol=tol, abs_tol=tol)
