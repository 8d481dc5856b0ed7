"""Time units: the names clvkit accepts and their length in days.

A summary counts recency and age ``T`` in one time unit. Units are named like pandas offset aliases;
``"M"`` and ``"Y"`` are the mean Gregorian month and year (30.436875 and 365.2425 days), which is the
convention that keeps ``12 * month == year``. Code that must match lifetimes' 30-day month passes a
number of days instead of a name.
"""

from __future__ import annotations

from .errors import InvalidInputError

__all__ = ["UNIT_DAYS", "check_unit", "unit_days"]

UNIT_DAYS: dict[str, float] = {
    "s": 1.0 / 86400.0,
    "min": 1.0 / 1440.0,
    "h": 1.0 / 24.0,
    "D": 1.0,
    "W": 7.0,
    "M": 365.2425 / 12.0,
    "Q": 365.2425 / 4.0,
    "Y": 365.2425,
}


def check_unit(unit: str, *, name: str = "time_unit", where: str = "") -> str:
    """Return ``unit`` if it is a known unit name, else raise :class:`InvalidInputError`."""
    if unit not in UNIT_DAYS:
        loc = f" of {where}" if where else ""
        raise InvalidInputError(
            f"The '{name}' parameter{loc} must be one of {sorted(UNIT_DAYS, key=UNIT_DAYS.__getitem__)}. "
            f"Got {unit!r} instead."
        )
    return unit


def unit_days(unit: str | float, *, name: str = "time_unit", where: str = "") -> float:
    """Length of ``unit`` in days; a number is taken as a number of days and must be positive."""
    if isinstance(unit, str):
        return UNIT_DAYS[check_unit(unit, name=name, where=where)]
    value = float(unit)
    if not (value > 0.0 and value < float("inf")):
        loc = f" of {where}" if where else ""
        raise InvalidInputError(
            f"The '{name}' parameter{loc} must be a unit name or a positive number of days. Got {unit!r} instead."
        )
    return value
