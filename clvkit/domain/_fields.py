"""Validated field types shared by the domain entities.

Each type is an ``Annotated`` alias whose validator raises a ``ValueError`` (wrapped by Pydantic into a
``ValidationError``) that names the field, says what is wrong and how to fix it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo, WithJsonSchema

__all__ = ["CurrencyCode", "FiniteFloat", "Identifier", "Label", "NonNegativeFloat", "Timestamp", "UnitInterval"]


def _name(info: ValidationInfo) -> str:
    return info.field_name or "value"


def _check_identifier(value: str, info: ValidationInfo) -> str:
    # The id is kept exactly as given (no stripping): ids are joined by equality elsewhere, and silently
    # stripping could merge two records whose ids differ only by whitespace.
    if not value.strip():
        raise ValueError(
            f"'{_name(info)}' must be a non-empty identifier with at least one non-whitespace character; "
            f"got {value!r}. Pass the record's id."
        )
    return value


def _check_label(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise ValueError(
            f"'{_name(info)}' must not be empty or only whitespace; got {value!r}. Pass None when it is unknown."
        )
    return value


def _check_aware(value: datetime, info: ValidationInfo) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        example = (
            f"datetime({value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}, tzinfo=timezone.utc)"
        )
        raise ValueError(
            f"'{_name(info)}' must be timezone-aware; got the naive datetime {value.isoformat()}. Attach a time "
            f"zone, e.g. {example}, or in JSON write the offset, e.g. '{value.isoformat()}+00:00'."
        )
    if offset % timedelta(minutes=1):
        # ISO 8601 (and so JSON) offsets have minute resolution: such a value could not round-trip.
        # Historical local mean time (e.g. zoneinfo before ~1900) is the usual source.
        raise ValueError(
            f"'{_name(info)}' has the UTC offset {offset}, which is not a whole number of minutes and cannot be "
            f"stored exactly in JSON; got {value.isoformat()}. Convert it first, e.g. value.astimezone(timezone.utc)."
        )
    if value.tzinfo is not None and not isinstance(value.tzinfo, timezone):
        # A zone with daylight saving time (zoneinfo, dateutil, pytz): a wall time in the spring-forward gap
        # does not exist, and Python compares times in a gap or fold as unequal to every other zone's, so
        # the value would not survive a JSON round trip. Refuse the gap; pin everything else to its offset.
        round_trip = value.astimezone(timezone.utc).astimezone(value.tzinfo)
        if round_trip.replace(tzinfo=None, fold=0) != value.replace(tzinfo=None, fold=0):
            raise ValueError(
                f"'{_name(info)}' is {value.replace(tzinfo=None).isoformat()} in {value.tzinfo}, a local time "
                f"that does not exist there (clocks were moved forward). Pass the time with its UTC offset, "
                f"e.g. {round_trip.isoformat()}, or convert it with .astimezone(timezone.utc)."
            )
        value = value.replace(tzinfo=timezone(offset), fold=0)
    return value


def _check_finite(value: float, info: ValidationInfo) -> float:
    if not math.isfinite(value):
        raise ValueError(f"'{_name(info)}' must be a finite number; got {value!r}. Drop or repair the record.")
    return value


def _check_non_negative(value: float, info: ValidationInfo) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{_name(info)}' must be a finite number >= 0; got {value!r}. Pass None when it is unknown.")
    return value


def _check_unit_interval(value: float, info: ValidationInfo) -> float:
    if not 0.0 <= value <= 1.0:  # also false for NaN
        raise ValueError(
            f"'{_name(info)}' must be in [0, 1] (0 = no tie, 1 = strongest); got {value!r}. Rescale it to [0, 1]."
        )
    return value


def _check_currency(value: str, info: ValidationInfo) -> str:
    if len(value) == 3 and value.isascii() and value.isalpha() and value.isupper():
        return value
    upper = value.strip().upper()
    hint = f" Did you mean {upper!r}?" if len(upper) == 3 and upper.isascii() and upper.isalpha() else ""
    raise ValueError(
        f"'{_name(info)}' must be a three-letter upper-case ISO 4217 code such as 'USD' or 'CNY'; got {value!r}.{hint}"
    )


#: A non-empty record id, kept verbatim.
Identifier = Annotated[str, AfterValidator(_check_identifier)]
#: Free text that, when given, is not blank (missing values are ``None``, not ``""``).
Label = Annotated[str, AfterValidator(_check_label)]
#: A timezone-aware datetime with a whole-minute UTC offset; its offset is kept.
Timestamp = Annotated[datetime, AfterValidator(_check_aware)]
#: A float that is neither NaN nor infinite.
FiniteFloat = Annotated[float, AfterValidator(_check_finite)]
#: A finite float >= 0.
NonNegativeFloat = Annotated[
    float, AfterValidator(_check_non_negative), WithJsonSchema({"type": "number", "minimum": 0})
]
#: A float in the closed interval [0, 1].
UnitInterval = Annotated[
    float, AfterValidator(_check_unit_interval), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})
]
#: A three-letter upper-case currency code (format only; the code is not checked against the ISO list).
CurrencyCode = Annotated[
    str, AfterValidator(_check_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})
]
