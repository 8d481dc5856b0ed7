"""Customer delivered value (Kotler): what the customer gets minus what it costs them.

Kotler's customer delivered value, cited in text 004 (顾客让渡价值), is the customer's side of the
exchange: **total customer value** (product, service, personnel and image value) minus **total customer
cost** (monetary, time, energy/psychic and physical cost). It can also be read as a ratio, value / cost.
All eight components are in one unit chosen by the caller (money, or scores on one scale); the texts do
not weight them, so neither does clvkit - scale the inputs to weight them.

:class:`CustomerDeliveredValue` is the per-customer entity (frozen, validated, JSON round-trip);
:class:`DeliveredValueBatch` holds many customers as read-only arrays and computes the same quantities
vectorised.

The ratio is ``value / cost``; with no cost it is ``inf`` when there is value, and 1 when both are 0
(nothing given, nothing asked: delivered value 0, so ``delivered_value > 0`` exactly when the ratio is
above 1, in every case).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..._frames import to_columns
from ..._pydantic import FrozenModel
from ..._validation import as_float_array, id_problems, raise_if, row_problem
from ...errors import InvalidInputError, Problem

__all__ = ["COST_COMPONENTS", "VALUE_COMPONENTS", "CustomerDeliveredValue", "DeliveredValueBatch"]

FloatArray = npt.NDArray[np.float64]

#: The four parts of total customer value, in Kotler's order.
VALUE_COMPONENTS = ("product_value", "service_value", "personnel_value", "image_value")
#: The four parts of total customer cost, in Kotler's order.
COST_COMPONENTS = ("monetary_cost", "time_cost", "energy_cost", "physical_cost")
_CONTEXT = "DeliveredValueBatch"
_MAX_TOTAL = float(np.finfo(np.float64).max)


def _ratio(value: Any, cost: Any) -> Any:
    # a finite value over a tiny cost may exceed the largest float: inf is then the correctly rounded ratio
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(cost > 0, value / np.where(cost > 0, cost, 1.0), np.where(value > 0, math.inf, 1.0))


def _component(description: str) -> Any:
    return Field(0.0, ge=0.0, allow_inf_nan=False, description=description)


class CustomerDeliveredValue(FrozenModel):
    """One customer's delivered value: total customer value minus total customer cost (Kotler).

    Every component is finite and >= 0 (default 0), in one unit of the caller's choice.

    Examples
    --------
    >>> cdv = CustomerDeliveredValue(customer_id="C-1", product_value=60, service_value=20, personnel_value=10,
    ...                              image_value=10, monetary_cost=50, time_cost=10, energy_cost=5)
    >>> cdv.total_customer_value, cdv.total_customer_cost, cdv.delivered_value, cdv.delivered_value_ratio
    (100.0, 65.0, 35.0, 1.5384615384615385)
    >>> CustomerDeliveredValue.model_validate_json(cdv.model_dump_json()) == cdv
    True
    """

    customer_id: str | int | None = Field(None, description="Optional id of the customer.")
    product_value: float = _component("Value of the product itself (function, quality, design).")
    service_value: float = _component("Value of the services around it (delivery, installation, support).")
    personnel_value: float = _component("Value of the people the customer deals with (competence, care).")
    image_value: float = _component("Value of the brand and company image to the customer.")
    monetary_cost: float = _component("Money the customer pays (price and other outlays).")
    time_cost: float = _component("Time spent searching, buying, waiting and using.")
    energy_cost: float = _component("Energy and psychic cost: effort, worry, stress.")
    physical_cost: float = _component("Physical effort: travel, carrying, set-up.")

    @model_validator(mode="after")
    def _totals_finite(self) -> CustomerDeliveredValue:
        if not (math.isfinite(self.total_customer_value) and math.isfinite(self.total_customer_cost)):
            raise ValueError(f"the components add up to more than the largest float "
                             f"({_MAX_TOTAL:g}); express them in a larger unit.")
        return self

    @property
    def total_customer_value(self) -> float:
        """Product + service + personnel + image value."""
        return float(sum(getattr(self, c) for c in VALUE_COMPONENTS))

    @property
    def total_customer_cost(self) -> float:
        """Monetary + time + energy + physical cost."""
        return float(sum(getattr(self, c) for c in COST_COMPONENTS))

    @property
    def delivered_value(self) -> float:
        """Total customer value - total customer cost."""
        return self.total_customer_value - self.total_customer_cost

    @property
    def delivered_value_ratio(self) -> float:
        """Total customer value / total customer cost (``inf`` with no cost, 1 when both are 0)."""
        return float(_ratio(self.total_customer_value, self.total_customer_cost))


class DeliveredValueBatch:
    """Delivered value of many customers, vectorised; every column has shape (n_customers,).

    Parameters
    ----------
    product_value, service_value, personnel_value, image_value, monetary_cost, time_cost, energy_cost, physical_cost:
        Arrays (or scalars, broadcast) of finite values >= 0; a component not given is 0.
    customer_id:
        Optional ids.

    Raises
    ------
    InvalidInputError
        Naming every column with negative or non-finite values (and the first customers), or shapes that
        do not match.

    Examples
    --------
    >>> b = DeliveredValueBatch(product_value=[60.0, 30.0], service_value=[40.0, 10.0], monetary_cost=[50.0, 45.0],
    ...                         time_cost=[10.0, 0.0], customer_id=["a", "b"])
    >>> b.delivered_value.tolist(), b.delivered_value_ratio.round(3).tolist()
    ([40.0, -5.0], [1.667, 0.889])
    """

    __slots__ = ("_columns", "customer_id")

    def __init__(self, *, customer_id: Any = None, **components: Any) -> None:
        unknown = sorted(set(components) - set(VALUE_COMPONENTS + COST_COMPONENTS))
        if unknown:
            raise InvalidInputError(f"DeliveredValueBatch: unknown components {unknown}; the components are "
                                    f"{list(VALUE_COMPONENTS + COST_COMPONENTS)}.")
        arrays = {name: as_float_array(v, name, _CONTEXT) for name, v in components.items() if v is not None}
        ids = None if customer_id is None else _ids(customer_id)
        shapes = [a.shape for a in arrays.values()] + ([ids.shape] if ids is not None else [])
        try:
            shape = np.broadcast_shapes(*shapes) if shapes else (0,)
        except ValueError:
            raise InvalidInputError(f"DeliveredValueBatch: the columns have shapes {shapes} that do not match.") \
                from None
        if ids is not None and ids.shape != shape:  # one id per customer, never broadcast
            raise InvalidInputError(f"DeliveredValueBatch: customer_id has shape {ids.shape} but the components "
                                    f"have {shape}; pass one id per customer.")
        if ids is not None:
            raise_if(id_problems(ids, "customer_id"), _CONTEXT)
        problems: list[Problem | None] = [
            row_problem(np.broadcast_to(~(np.isfinite(a) & (a >= 0)), shape), name, "must be finite and >= 0",
                        ids=ids)
            for name, a in arrays.items()
        ]
        raise_if(problems, _CONTEXT)
        cols: dict[str, FloatArray] = {}
        for name in VALUE_COMPONENTS + COST_COMPONENTS:
            col = np.broadcast_to(arrays.get(name, np.zeros(1)), shape).copy()
            col.flags.writeable = False
            cols[name] = col
        with np.errstate(over="ignore"):
            totals = [sum((cols[c] for c in group), np.zeros(shape)) for group in (VALUE_COMPONENTS, COST_COMPONENTS)]
        raise_if([row_problem(~np.isfinite(total), name, f"must add up to at most {_MAX_TOTAL:g}",
                              "Express the components in a larger unit.", ids=ids)
                  for name, total in zip(("total_customer_value", "total_customer_cost"), totals, strict=True)],
                 _CONTEXT)
        self._columns = cols
        self.customer_id = ids

    @classmethod
    def from_entities(cls, items: Iterable[CustomerDeliveredValue]) -> DeliveredValueBatch:
        """Stack :class:`CustomerDeliveredValue` entities (their ids when every one has an id)."""
        try:
            rows = list(items)
        except TypeError:
            raise InvalidInputError(f"DeliveredValueBatch.from_entities() needs an iterable of CustomerDeliveredValue. "
                                    f"Got {type(items).__name__}.") from None
        wrong = [i for i, r in enumerate(rows) if not isinstance(r, CustomerDeliveredValue)]
        if wrong:
            raise InvalidInputError(f"DeliveredValueBatch.from_entities() needs CustomerDeliveredValue entities. Got "
                                    f"{type(rows[wrong[0]]).__name__} at position {wrong[0]} ({len(wrong)} in all).")
        cols = {c: [getattr(r, c) for r in rows] for c in VALUE_COMPONENTS + COST_COMPONENTS}
        ids = [r.customer_id for r in rows]
        return cls(customer_id=None if any(i is None for i in ids) else np.array(ids, dtype=object), **cols)

    @classmethod
    def from_frame(cls, frame: Any, *, customer_id: str | None = None) -> DeliveredValueBatch:
        """From a pandas/polars frame, pyarrow table or mapping with any of the component columns."""
        names = [c for c in VALUE_COMPONENTS + COST_COMPONENTS if c in _column_names(frame)]
        cols = to_columns(frame, names + ([customer_id] if customer_id else []), context=_CONTEXT)
        ids = cols.pop(customer_id) if customer_id else None
        return cls(customer_id=ids, **cols)

    def __len__(self) -> int:
        return int(self._columns[VALUE_COMPONENTS[0]].shape[0])

    def column(self, name: str) -> FloatArray:
        """One component, read-only, shape (n_customers,)."""
        if not isinstance(name, str) or name not in self._columns:
            raise InvalidInputError(f"DeliveredValueBatch has no column {name!r}; columns: {list(self._columns)}.")
        return self._columns[name]

    @property
    def total_customer_value(self) -> FloatArray:
        """Product + service + personnel + image value per customer."""
        out: FloatArray = sum((self._columns[c] for c in VALUE_COMPONENTS), np.zeros(len(self)))
        return out

    @property
    def total_customer_cost(self) -> FloatArray:
        """Monetary + time + energy + physical cost per customer."""
        out: FloatArray = sum((self._columns[c] for c in COST_COMPONENTS), np.zeros(len(self)))
        return out

    @property
    def delivered_value(self) -> FloatArray:
        """Total customer value - total customer cost per customer."""
        return self.total_customer_value - self.total_customer_cost

    @property
    def delivered_value_ratio(self) -> FloatArray:
        """Total customer value / total customer cost (``inf`` with no cost, 1 when both are 0)."""
        out: FloatArray = np.asarray(_ratio(self.total_customer_value, self.total_customer_cost), dtype=np.float64)
        return out

    def entity(self, i: int) -> CustomerDeliveredValue:
        """Row ``i`` as a :class:`CustomerDeliveredValue` (negative ``i`` counts from the end)."""
        n = len(self)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise InvalidInputError(f"The 'i' parameter of DeliveredValueBatch.entity() must be a whole number in "
                                    f"[{-n}, {n}). Got {i!r}.")
        cid: Any = None if self.customer_id is None else self.customer_id[i]
        cid = cid.item() if hasattr(cid, "item") else cid
        return CustomerDeliveredValue(customer_id=cid, **{c: float(v[i]) for c, v in self._columns.items()})


def _ids(customer_id: Any) -> npt.NDArray[Any]:
    try:
        ids = np.asarray(customer_id)
    except (TypeError, ValueError):  # ragged nested lists
        ids = np.zeros((0, 0))
    if ids.ndim != 1 or isinstance(customer_id, (dict, set)):
        raise InvalidInputError(f"DeliveredValueBatch: customer_id must be a one-dimensional array of ids. Got "
                                f"{type(customer_id).__name__} of shape {np.shape(ids)}.")
    return ids


def _column_names(frame: Any) -> list[str]:
    for attr in ("columns", "column_names"):
        names = getattr(frame, attr, None)
        if names is not None:
            return [str(n) for n in names]
    return [str(k) for k in frame.keys()] if hasattr(frame, "keys") else []
