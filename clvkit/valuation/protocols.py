"""The valuation roles (re-exported from :mod:`clvkit.protocols`) and the hook that loads an engine from outside clvkit.

The protocols themselves live in :mod:`clvkit.protocols`, one module for every role. This module adds
:func:`engine_values` (run a :class:`ValueEngine` and check its result) and :func:`load_engine` (the command
line's ``--engine module:Class``). Fitted models are components, not value engines: wrap them with
:meth:`DirectValue.from_model <clvkit.valuation.DirectValue.from_model>` to get one.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError
from ..protocols import (
    ContractModel,
    CountModel,
    EstimatedModel,
    IndirectValueSource,
    SpendModel,
    TransactionModel,
    ValueEngine,
)

__all__ = [
    "ContractModel",
    "CountModel",
    "EstimatedModel",
    "IndirectValueSource",
    "SpendModel",
    "TransactionModel",
    "ValueEngine",
    "engine_values",
    "load_engine",
]

FloatArray = npt.NDArray[np.float64]


def engine_values(engine: Any, summary: Any, *, where: str = "engine_values()") -> FloatArray:
    """Run ``engine.value(summary)`` and check the result: finite floats, one per customer.

    Parameters
    ----------
    engine:
        A :class:`ValueEngine`.
    summary:
        The customers, passed through; its ``len()`` (when it has one) fixes the expected length.
    where:
        Name of the caller, for error messages.

    Returns
    -------
    numpy.ndarray of shape (n_customers,), float64

    Raises
    ------
    InvalidInputError
        If ``engine`` has no ``value`` method, or returns the wrong shape or non-finite values.
    """
    if not isinstance(engine, ValueEngine):
        raise InvalidInputError(
            f"{where} needs a value engine: an object with a value(summary) method returning one value per "
            f"customer. Got {type(engine).__name__} instead."
        )
    name = type(engine).__name__
    try:
        values = np.asarray(engine.value(summary), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"{where}: {name}.value() did not return numbers ({exc}).") from None
    n = len(summary) if summary is not None and hasattr(summary, "__len__") else None
    values = values.reshape(1) if values.ndim == 0 and n in (None, 1) else values
    if values.ndim != 1 or (n is not None and values.shape[0] != n):
        expected = f"({n},)" if n is not None else "(n_customers,)"
        raise InvalidInputError(
            f"{where}: {name}.value() must return an array of shape {expected}, one value per customer. "
            f"Got shape {values.shape} instead."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InvalidInputError(
            f"{where}: {name}.value() returned {int(bad.sum())} non-finite values (first at rows {rows}); "
            f"an engine must return finite values."
        )
    return values


def load_engine(spec: str, **kwargs: Any) -> ValueEngine:
    """Import a value engine named ``"package.module:Name"`` (the command line's ``--engine``).

    ``Name`` may be dotted (``module:Outer.Inner``). When it names a class, the class is called with
    ``kwargs`` (none by default) to make the engine; when it names an object, that object is the engine
    (``kwargs`` must then be empty). Nothing in clvkit has to change for a new engine: the module only
    has to be importable (installed, or on ``PYTHONPATH``).

    Parameters
    ----------
    spec:
        ``"module:Name"``.
    **kwargs:
        Passed to the class.

    Returns
    -------
    ValueEngine

    Raises
    ------
    InvalidInputError
        If ``spec`` is malformed, the module or name cannot be found, or the result has no ``value`` method.

    Examples
    --------
    >>> engine = load_engine("clvkit.valuation.direct:DirectValue", spend_per_period=100.0, retention_rate=0.5)
    >>> engine.value(None).tolist()
    [200.0]
    """
    module_name, sep, attr = str(spec).partition(":")
    if not sep or not module_name or not attr:
        raise InvalidInputError(
            f"The engine must be given as 'module:Name' (e.g. 'mypackage.engines:FlatRate'). Got {spec!r} instead."
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(
            f"Cannot import the engine module {module_name!r} ({exc}). Install it or add its folder to PYTHONPATH."
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidInputError(f"The module {module_name!r} has no {attr!r} (from engine {spec!r}).") from None
    if isinstance(obj, type):
        try:
            obj = obj(**kwargs)
        except TypeError as exc:
            raise InvalidInputError(f"Cannot create the engine {spec!r}: {exc}.") from None
    elif kwargs:
        raise InvalidInputError(f"The engine {spec!r} is an object, not a class; it takes no arguments.")
    if not isinstance(obj, ValueEngine):
        raise InvalidInputError(
            f"{spec!r} is not a value engine: it needs a value(summary) method returning one value per customer."
        )
    return obj
