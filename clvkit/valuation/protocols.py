"""The protocols valuation engines satisfy, and the hook that loads an engine from outside clvkit.

Three roles, each a :class:`typing.Protocol` (structural: an engine never has to inherit from clvkit):

- :class:`ValueEngine` - anything that values customers: ``value(summary) -> array of shape
  (n_customers,)``. :class:`~clvkit.valuation.DirectValue` (book formula, retention rates or a fitted
  model) and :class:`~clvkit.valuation.CompositeValue` satisfy it, and so does any class written outside
  clvkit with that one method; :class:`~clvkit.valuation.CompositeValue` takes any of them as its direct
  part, and the command line loads one with ``--engine module:Class`` through :func:`load_engine`.
- :class:`IndirectValueSource` - what turns direct values into indirect (referral) values:
  :class:`~clvkit.valuation.ReferralGraph` and :class:`~clvkit.valuation.WordOfMouth`.
- :class:`TransactionModel` and :class:`SpendModel` (re-exported from :mod:`clvkit.valuation.clv`) - the
  parts :func:`~clvkit.valuation.clv` composes: every fitted BTYD model is a transaction model, the
  fitted Gamma-Gamma model a spend model. They are components, not value engines: wrap them with
  :meth:`DirectValue.from_model <clvkit.valuation.DirectValue.from_model>` to get one.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..batch import CustomerSummary
from ..errors import InvalidInputError

__all__ = ["IndirectValueSource", "SpendModel", "TransactionModel", "ValueEngine", "engine_values", "load_engine"]

FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class TransactionModel(Protocol):
    """What :func:`clv` needs of a transaction model: expected purchases over a horizon."""

    @property
    def time_unit(self) -> str: ...

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> FloatArray: ...


@runtime_checkable
class SpendModel(Protocol):
    """What :func:`clv` needs of a spend model: expected spend per transaction of each customer."""

    def expected_spend(self, summary: CustomerSummary) -> FloatArray: ...


@runtime_checkable
class ValueEngine(Protocol):
    """Anything that values a batch of customers.

    The one method takes the customers (normally a :class:`~clvkit.CustomerSummary`; an engine may accept
    more, e.g. ``None`` when it holds its own per-customer inputs) and returns one finite value per
    customer, in the summary's row order, as an array of shape (n_customers,). Values are money over the
    customer's (remaining) relationship; whether they are discounted, net of margin or capped at a horizon
    is the engine's documented choice.

    Examples
    --------
    A class written anywhere, with no clvkit base class:

    >>> import numpy as np
    >>> from clvkit import CustomerSummary
    >>> class TenPerPurchase:
    ...     def value(self, summary):
    ...         return 10.0 * (summary.frequency + 1.0)
    >>> isinstance(TenPerPurchase(), ValueEngine)
    True
    >>> s = CustomerSummary(frequency=[0, 3], recency=[0.0, 5.0], T=[8.0, 8.0])
    >>> engine_values(TenPerPurchase(), s).tolist()
    [10.0, 40.0]
    """

    def value(self, summary: Any) -> FloatArray: ...


@runtime_checkable
class IndirectValueSource(Protocol):
    """What :class:`~clvkit.valuation.CompositeValue` needs of an indirect-value source.

    ``indirect_value(direct, customer_id)`` returns, for the customers whose direct values are ``direct``
    (shape (n_customers,), ids ``customer_id`` or ``None``), their indirect values in the same order.
    ``overlaps_direct`` says whether that indirect value is money already counted in the direct value of
    other customers of the same base (true for a referral graph: what a referrer is credited with is the
    referred customers' own value) or money from outside the base (false for a word-of-mouth prior about
    prospects); customer equity counts overlapping value once.
    """

    @property
    def overlaps_direct(self) -> bool: ...

    def indirect_value(self, direct: FloatArray, customer_id: npt.NDArray[Any] | None) -> FloatArray: ...


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
