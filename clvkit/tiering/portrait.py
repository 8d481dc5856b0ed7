"""Customer portraits per tier: who the customers of each tier are, by kind, industry, region and tenure.

A tier table says how many customers a tier holds and what they are worth; a portrait says who they are
(客户画像): which kinds of party, industries and regions make up each tier, and how long the customers have been
with the company, each as a share of the tier's customers next to the share among all customers. A manager reads
"A1 is 40% machinery against 20% of all customers" as where the key customers come from, which is where the next
key customers are likely to be found and what the tier's service must know about.

:func:`portraits` counts, for every tier, the customers in each category of each attribute; the attributes come
from a mapping or data frame of columns (the ``industry`` of the bundled B2B sample's ``customers.csv``), or from
:class:`~clvkit.domain.Customer` entities (``kind``, ``industry``, ``region``, ``segment`` and, with ``as_of``,
tenure from ``acquired_at``). Tenure may also come from a :class:`~clvkit.CustomerSummary` (its age ``T``, the
time since the first purchase: the only attribute the CDNOW sample has). Missing entries count as ``"unknown"``
rather than being dropped, so every tier's shares add up to 1. :func:`format_portraits` renders the portraits in
English or Simplified Chinese.

The default tenure bands (under 2 years, 2-3, 3-5, 5 years and more) follow 张子凡 CRM notes (text 003): a new
customer starts recommending the company after about two years, and after 3-5 years is used to the company's
ways and hard to lose. The cut points are clvkit's reading of that text and configurable (``tenure_bands``).
"""

from __future__ import annotations

import datetime as _dt
import enum
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import block, number, shorten, table
from .._frames import frame_kind, make_frame, to_columns
from .._texttable import table_lines
from .._timeunits import UNIT_DAYS
from ..batch import CustomerSummary
from ..errors import InvalidInputError, Problem
from ..i18n import Translator, check_language
from ._assignment import TierAssignment
from .reports import _display_order, policy_name
from .treatment import tier_names

__all__ = ["DEFAULT_TENURE_BANDS", "ENTITY_ATTRIBUTES", "MAX_CATEGORIES_SHOWN", "OTHER", "UNKNOWN", "Portraits",
           "format_portraits", "portraits"]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.intp]

#: Tenure band edges in years: under 2, 2-3, 3-5, 5 and more. From 张子凡 CRM notes (text 003): "两年后会主动将你转介绍
#: 给其他客户" (after two years a customer refers you to others) and "3-5年后 ... 就不容易离开了" (after 3-5 years
#: the customer is hard to lose); the edges are clvkit's reading of those sentences (clvkit default, configurable).
DEFAULT_TENURE_BANDS: tuple[float, ...] = (2.0, 3.0, 5.0)
#: The attributes portrayed from :class:`~clvkit.domain.Customer` entities by default.
ENTITY_ATTRIBUTES: tuple[str, ...] = ("kind", "industry", "region", "segment")
#: The category of a customer whose attribute is missing (None, empty text, NaN) or who has no attribute row.
UNKNOWN = "unknown"
#: The column of :func:`format_portraits` that sums the categories beyond the largest ones.
OTHER = "other"
#: Most categories :func:`format_portraits` shows per attribute by default (the largest among all customers;
#: the rest are summed as "other").
MAX_CATEGORIES_SHOWN = 6
#: Most tenure bands (edges + 1) :func:`portraits` accepts.
MAX_TENURE_BANDS = 20
#: The name of the tenure attribute.
TENURE = "tenure"
_YEAR_DAYS = UNIT_DAYS["Y"]


@dataclass(frozen=True)
class Portraits:
    """Who the customers of each tier are: counts and shares per category of each attribute, per tier.

    Attributes
    ----------
    labels, policy, ordered:
        As in the assignment (tier names, lowest tier first when ``ordered``).
    counts:
        Customers per tier, array of shape (n_tiers,).
    attributes:
        The attributes portrayed, in order (``"tenure"`` last when given).
    categories:
        Attribute -> its categories: tenure bands in order, other attributes by number of customers (largest
        first, then by name), ``"unknown"`` last.
    category_counts:
        Attribute -> customers per (tier, category), array of shape (n_tiers, n_categories).
    shares:
        Attribute -> ``category_counts`` divided by the tier's customers (rows of an empty tier are 0).
    overall:
        Attribute -> share of all customers in each category, shape (n_categories,).
    tenure_bands:
        The tenure band edges in years, when tenure was portrayed, else ``()``.
    """

    labels: tuple[str, ...]
    policy: str
    ordered: bool
    counts: CountArray
    attributes: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]
    category_counts: Mapping[str, CountArray]
    shares: Mapping[str, FloatArray]
    overall: Mapping[str, FloatArray]
    tenure_bands: tuple[float, ...] = ()

    @property
    def n_customers(self) -> int:
        """All customers portrayed."""
        return int(self.counts.sum())

    def _tier(self, tier: str | int, where: str) -> int:
        if isinstance(tier, str) and tier in self.labels:
            return self.labels.index(tier)
        if isinstance(tier, (int, np.integer)) and not isinstance(tier, bool) and 0 <= int(tier) < len(self.labels):
            return int(tier)
        raise InvalidInputError(f"The 'tier' parameter of Portraits.{where}() must be a tier label or code; tiers are "
                                f"{list(self.labels)}. Got {tier!r} instead.")

    def _attribute(self, attribute: str, where: str) -> str:
        if attribute not in self.categories:
            raise InvalidInputError(f"The 'attribute' parameter of Portraits.{where}() must be one of "
                                    f"{list(self.attributes)}. Got {attribute!r} instead.")
        return attribute

    def share(self, tier: str | int, attribute: str, category: str) -> float:
        """Share of the tier's customers in ``category`` of ``attribute`` (0 for an empty tier).

        Raises
        ------
        InvalidInputError
            For an unknown tier, attribute or category.
        """
        k = self._tier(tier, "share")
        cats = self.categories[self._attribute(attribute, "share")]
        if category not in cats:
            raise InvalidInputError(f"The 'category' parameter of Portraits.share() must be one of {list(cats)} for "
                                    f"{attribute!r}. Got {category!r} instead.")
        return float(self.shares[attribute][k, cats.index(category)])

    def top(self, tier: str | int, attribute: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` largest categories of ``attribute`` in ``tier`` with their shares, largest first.

        Categories holding none of the tier's customers are left out; ties keep the order of
        :attr:`categories`.
        """
        t = self._tier(tier, "top")
        cats = self.categories[self._attribute(attribute, "top")]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidInputError(f"The 'k' parameter of Portraits.top() must be a whole number >= 1. Got {k!r} "
                                    f"instead.")
        row = self.shares[attribute][t]
        order = np.argsort(-row, kind="stable")
        return [(cats[j], float(row[j])) for j in order[: int(k)] if self.category_counts[attribute][t, j] > 0]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dictionary per (tier, attribute, category): tier, attribute, category, customers, share of
        the tier, share of all customers - e.g. for JSON or CSV output."""
        out: list[dict[str, Any]] = []
        for k, lab in enumerate(self.labels):
            for attr in self.attributes:
                for j, cat in enumerate(self.categories[attr]):
                    out.append({"tier": lab, "attribute": attr, "category": cat,
                                "customers": int(self.category_counts[attr][k, j]),
                                "share": float(self.shares[attr][k, j]),
                                "overall_share": float(self.overall[attr][j])})
        return out

    def to_frame(self, backend: str = "pandas") -> Any:
        """The portraits as a long DataFrame, one row per (tier, attribute, category) (the ``frames`` extra).

        Columns ``tier``, ``attribute``, ``category``, ``customers``, ``share`` and ``overall_share``, as
        :meth:`to_records`; rows are keyed by position (``row``).

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.
        """
        records = self.to_records()
        names = ("tier", "attribute", "category", "customers", "share", "overall_share")
        cols: dict[str, npt.NDArray[Any]] = {}
        for name in names:
            values = [r[name] for r in records]
            cols[name] = (np.array(values, dtype=np.intp) if name == "customers"
                          else np.array(values, dtype=np.float64) if name in ("share", "overall_share")
                          else np.array(values, dtype=object))
        return make_frame(cols, key=None, backend=backend, where="Portraits.to_frame()")

    def __repr__(self) -> str:
        return shorten(f"Portraits({self.policy}: {number(self.n_customers)} customers in {len(self.labels)} tiers "
                       f"by {', '.join(self.attributes)})")

    def _repr_html_(self) -> str:
        order = _display_order(len(self.labels), self.ordered, self.policy)
        parts = []
        for attr in self.attributes:
            cats = self.categories[attr]
            rows = [[self.labels[k], int(self.counts[k]), *(f"{v:.1%}" for v in self.shares[attr][k])] for k in order]
            rows.append(["all customers", self.n_customers, *(f"{v:.1%}" for v in self.overall[attr])])
            parts.append(table(["tier", "customers", *cats], rows,
                               caption=f"By {attr} (share of the tier's customers)"))
        return block(f"Portraits ({self.policy}): {self.n_customers:,} customers in {len(self.labels)} tiers", *parts)


# ---------------------------------------------------------------------------------------------- reading
def _is_missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, np.floating):
        return bool(np.isnan(v))
    if isinstance(v, str):
        return not v.strip()
    return False


def _category_text(v: object) -> str:
    if isinstance(v, enum.Enum):
        v = v.value
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53:
        v = int(v)  # a code read as a number (2.0) is the category "2"
    return UNKNOWN if _is_missing(v) else str(v).strip()


def _from_entities(items: Sequence[Any], as_of: Any, where: str) -> tuple[dict[str, list[Any]], FloatArray | None]:
    from ..domain import Customer

    bad = [i for i, c in enumerate(items) if not isinstance(c, Customer)]
    if bad:
        raise InvalidInputError(f"The 'attributes' parameter of {where} mixes Customer entities with other items "
                                f"(first at position {bad[0]}: {type(items[bad[0]]).__name__}). Pass only Customer "
                                f"entities, or a mapping of columns.")
    cols: dict[str, list[Any]] = {"customer_id": [c.customer_id for c in items]}
    for name in ENTITY_ATTRIBUTES:
        cols[name] = [getattr(c, name) for c in items]
    if as_of is None:
        return cols, None
    if not isinstance(as_of, _dt.datetime) or as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InvalidInputError(f"The 'as_of' parameter of {where} must be a timezone-aware datetime (the entities' "
                                f"acquired_at are aware). Got {as_of!r} instead.")
    years = np.array([np.nan if c.acquired_at is None else (as_of - c.acquired_at).total_seconds() / 86400.0
                      / _YEAR_DAYS for c in items], dtype=np.float64)
    late = np.flatnonzero(years < 0)
    if late.size:
        first = tuple(items[i].customer_id for i in late[:5])
        raise InvalidInputError([Problem("acquired_at", f"is after as_of {as_of.isoformat()}", rows=first,
                                         n_bad=int(late.size), fix="Pass an as_of after every acquisition.")],
                                context=where)
    return cols, years


def _columns(attributes: Any, columns: Sequence[str] | None, where: str) -> dict[str, npt.NDArray[Any]]:
    kind = frame_kind(attributes)
    if not kind:
        raise InvalidInputError(f"The 'attributes' parameter of {where} must be a mapping or data frame of columns "
                                f"(e.g. industry, region), or a sequence of Customer entities. Got "
                                f"{type(attributes).__name__} instead.")
    if kind == "mapping":
        names = [str(k) for k in attributes]
    elif kind == "pyarrow":
        names = [str(c) for c in attributes.column_names]
    else:
        names = [str(c) for c in attributes.columns]
    wanted = list(columns) if columns is not None else [n for n in names if n != "customer_id"]
    if "customer_id" in names and "customer_id" not in wanted:
        wanted.append("customer_id")
    try:
        raw = to_columns(attributes, wanted, context=f"The 'attributes' of {where}")
    except (ValueError, TypeError) as exc:  # e.g. a column of lists of different lengths
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"The 'attributes' of {where} cannot be read as columns ({exc}). Pass one value per "
                                f"customer in each column.") from None
    out: dict[str, npt.NDArray[Any]] = {}
    problems: list[Problem] = []
    for name, values in raw.items():
        try:
            arr = np.asarray(values.tolist() if isinstance(values, np.ndarray) and values.dtype == object else values)
        except (ValueError, TypeError):
            problems.append(Problem(name, "holds sequences of different lengths", fix="Pass one value per customer."))
            continue
        if arr.ndim != 1:
            problems.append(Problem(name, f"must have shape (n_customers,); got shape {arr.shape}"))
            continue
        if name != "customer_id" and arr.dtype.kind == "f" and not np.all(np.isnan(arr) | (arr == np.floor(arr))):
            problems.append(Problem(name, "holds fractional numbers; a portrait counts categories (industry, region, "
                                          "kind)", fix="Pick category columns with columns=, and pass tenure in years "
                                                       "as tenure=."))
            continue
        out[name] = values if isinstance(values, np.ndarray) and values.ndim == 1 else arr
    if problems:
        raise InvalidInputError(problems, context=where)
    lengths = {k: v.shape[0] for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(f"The 'attributes' columns of {where} have different lengths: {lengths}.")
    return out


def _positions(source_ids: npt.NDArray[Any] | None, n_source: int, assignment: TierAssignment, what: str,
               where: str) -> npt.NDArray[np.intp]:
    """For each assigned customer, the row of ``what`` describing it (-1: none): by id when both have ids."""
    n = len(assignment)
    if source_ids is None or assignment.customer_id is None:
        if n_source != n:
            raise InvalidInputError(
                f"{where} matches the {what} to the assignment by row when either lacks customer ids, so they must "
                f"have the same number of customers; got {n_source} and {n}. Give both customer ids.")
        return np.arange(n, dtype=np.intp)
    keys = [_category_text(v) for v in source_ids.tolist()]
    index: dict[str, int] = {}
    repeated: list[str] = []
    for i, key in enumerate(keys):
        if key in index:
            repeated.append(key)
        index[key] = i
    if repeated:
        raise InvalidInputError([Problem("customer_id", f"repeats ids in the {what}", rows=tuple(repeated[:5]),
                                         n_bad=len(repeated), fix="Give one row per customer.")], context=where)
    return np.array([index.get(_category_text(v), -1) for v in assignment.customer_id.tolist()], dtype=np.intp)


def _check_bands(bands: Any, where: str) -> tuple[float, ...]:
    try:
        edges = tuple(float(b) for b in bands)
    except (TypeError, ValueError):
        edges = ()
    ok = (0 < len(edges) < MAX_TENURE_BANDS and all(math.isfinite(e) and e > 0 for e in edges)
          and all(b > a for a, b in itertools.pairwise(edges))
          and not any(isinstance(b, bool) for b in (bands if isinstance(bands, (list, tuple)) else ())))
    if not ok:
        raise InvalidInputError(f"The 'tenure_bands' parameter of {where} must be 1 to {MAX_TENURE_BANDS - 1} "
                                f"increasing positive numbers of years (the band edges). Got {bands!r} instead.")
    return edges


def _tenure_years(tenure: Any, where: str) -> tuple[FloatArray, npt.NDArray[Any] | None]:
    if isinstance(tenure, CustomerSummary):
        return np.asarray(tenure.T, dtype=np.float64) * UNIT_DAYS[tenure.time_unit] / _YEAR_DAYS, tenure.customer_id
    from .._validation import as_float_array

    years = as_float_array(tenure, "tenure", where)
    bad = np.flatnonzero(np.isinf(years) | (years < 0))
    if bad.size:
        raise InvalidInputError([Problem("tenure", "must be a finite number of years >= 0 (NaN means unknown)",
                                         rows=tuple(int(i) for i in bad[:5]), n_bad=int(bad.size))], context=where)
    return years, None


def _band_labels(edges: Sequence[float]) -> tuple[str, ...]:
    out = [f"under {edges[0]:g} years"]
    out += [f"{a:g}-{b:g} years" for a, b in itertools.pairwise(edges)]
    out.append(f"{edges[-1]:g} years and more")
    return tuple(out)


def portraits(assignment: TierAssignment, attributes: Any = None, *, columns: Sequence[str] | None = None,
              tenure: Any = None, as_of: Any = None,
              tenure_bands: Sequence[float] = DEFAULT_TENURE_BANDS) -> Portraits:
    """Who the customers of each tier are: the share of each tier in every category of every attribute.

    Parameters
    ----------
    assignment:
        The tiers, from any policy.
    attributes:
        The customers' attributes: a mapping of column name to array or a pandas/polars DataFrame or pyarrow
        Table (every column but ``customer_id``, or those named in ``columns``; e.g. the ``customers.csv`` of the
        B2B sample, whose attribute is ``industry``), or a sequence of :class:`~clvkit.domain.Customer` entities
        (``kind``, ``industry``, ``region``, ``segment``). Rows are matched to the assignment by ``customer_id``
        when both have ids (an assigned customer without a row is ``"unknown"``; rows of customers not assigned
        are ignored), otherwise by position. ``None`` for tenure only.
    columns:
        The attribute columns to portray, in order (default: all but ``customer_id``; for entities
        :data:`ENTITY_ATTRIBUTES`).
    tenure:
        Years with the company per customer (array of shape (n_customers,), in the assignment's order; NaN for
        unknown), or a :class:`~clvkit.CustomerSummary`, whose age ``T`` (time since the first purchase) is
        converted to years and matched by its ids. With entities and ``as_of``, tenure comes from
        ``acquired_at`` instead.
    as_of:
        With entities: the timezone-aware date tenure is measured at.
    tenure_bands:
        Band edges in years (default :data:`DEFAULT_TENURE_BANDS`: under 2, 2-3, 3-5, 5 and more - text 003; a
        bound belongs to the band above it).

    Returns
    -------
    Portraits

    Raises
    ------
    InvalidInputError
        For attributes that are not columns or entities, a column of fractional numbers, repeated customer ids,
        row counts that differ when rows are matched by position, a negative or infinite tenure, bad bands, or
        nothing to portray.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> a = KeyCustomers(share=0.5).assign(value=[9.0, 1.0, 7.0, 2.0], customer_id=["a", "b", "c", "d"])
    >>> p = portraits(a, {"customer_id": ["a", "b", "c", "d"], "industry": ["retail", "retail", "mining", None]},
    ...               tenure=[4.0, 0.5, 2.5, 6.0])
    >>> p.categories["industry"], p.shares["industry"][1].tolist()
    (('retail', 'mining', 'unknown'), [0.5, 0.5, 0.0])
    >>> p.top("key", "tenure")
    [('2-3 years', 0.5), ('3-5 years', 0.5)]
    """
    where = "portraits()"
    if not isinstance(assignment, TierAssignment):
        raise InvalidInputError(f"The 'assignment' parameter of {where} must be a TierAssignment (a policy's "
                                f"assign() result). Got {type(assignment).__name__} instead.")
    edges = _check_bands(tenure_bands, where)
    entity_years: FloatArray | None = None
    cols: dict[str, npt.NDArray[Any]] = {}
    if attributes is not None:
        if isinstance(attributes, (list, tuple)) and attributes and not isinstance(attributes[0], (str, bytes)) \
                and frame_kind(attributes) == "":
            raw, entity_years = _from_entities(attributes, as_of, where)
            names = list(columns) if columns is not None else list(ENTITY_ATTRIBUTES)
            unknown = [c for c in names if c not in ENTITY_ATTRIBUTES]
            if unknown:
                raise InvalidInputError(f"The 'columns' parameter of {where} names {unknown}, which Customer entities "
                                        f"do not portray; choose from {list(ENTITY_ATTRIBUTES)}.")
            cols = {"customer_id": np.array(raw["customer_id"], dtype=object),
                    **{c: np.array(raw[c], dtype=object) for c in names}}
        else:
            if as_of is not None:
                raise InvalidInputError(f"The 'as_of' parameter of {where} measures tenure from Customer entities' "
                                        f"acquired_at; with columns, pass tenure in years as tenure=.")
            cols = _columns(attributes, columns, where)
    elif as_of is not None:
        raise InvalidInputError(f"The 'as_of' parameter of {where} measures tenure from Customer entities; pass them "
                                f"as attributes.")
    if entity_years is not None and tenure is not None:
        raise InvalidInputError(f"{where} takes tenure either from the entities' acquired_at (with as_of) or from "
                                f"'tenure', not both.")
    names = [c for c in cols if c != "customer_id"]
    if not names and tenure is None and entity_years is None:
        raise InvalidInputError(f"{where} has nothing to portray: give attribute columns (industry, region, kind) "
                                f"and/or tenure.")
    k = assignment.n_tiers
    codes = assignment.codes.astype(np.intp)
    counts = np.bincount(codes, minlength=k).astype(np.intp)
    categories: dict[str, tuple[str, ...]] = {}
    cat_counts: dict[str, CountArray] = {}
    if names:
        n_rows = next(iter(cols.values())).shape[0]
        pos = _positions(cols.get("customer_id"), n_rows, assignment, "attributes", where)
        for name in names:
            values = cols[name].tolist()
            text = np.array([UNKNOWN if p < 0 else _category_text(values[p]) for p in pos.tolist()], dtype=object)
            found, inverse = np.unique(text.astype(str), return_inverse=True)
            table_ = np.zeros((k, found.shape[0]), dtype=np.intp)
            np.add.at(table_, (codes, inverse), 1)
            totals = table_.sum(axis=0)
            order = sorted(range(found.shape[0]), key=lambda j: (found[j] == UNKNOWN, -totals[j], found[j]))
            categories[name] = tuple(str(found[j]) for j in order)
            cat_counts[name] = table_[:, order]
    years: FloatArray | None = None
    if entity_years is not None:
        years = entity_years[_positions(cols["customer_id"], entity_years.shape[0], assignment, "attributes", where)]
    elif tenure is not None:
        raw_years, ids = _tenure_years(tenure, where)
        pos = _positions(ids, raw_years.shape[0], assignment, "tenure", where)
        years = np.where(pos >= 0, raw_years[np.maximum(pos, 0)], np.nan)
    if years is not None:
        known = ~np.isnan(years)
        band = np.searchsorted(np.asarray(edges), np.where(known, years, 0.0), side="right")
        band = np.where(known, band, len(edges) + 1)
        table_ = np.zeros((k, len(edges) + 2), dtype=np.intp)
        np.add.at(table_, (codes, band), 1)
        labels = _band_labels(edges)
        if table_[:, -1].any():
            categories[TENURE] = (*labels, UNKNOWN)
            cat_counts[TENURE] = table_
        else:
            categories[TENURE] = labels
            cat_counts[TENURE] = table_[:, :-1]
    n = max(int(counts.sum()), 1)
    rows = counts[:, None].astype(np.float64)
    shares = {a: np.divide(c, rows, out=np.zeros(c.shape), where=rows > 0) for a, c in cat_counts.items()}
    overall = {a: c.sum(axis=0) / n for a, c in cat_counts.items()}
    return Portraits(labels=assignment.labels, policy=assignment.policy, ordered=assignment.ordered, counts=counts,
                     attributes=tuple(categories), categories=categories, category_counts=cat_counts, shares=shares,
                     overall=overall, tenure_bands=edges if years is not None else ())


# ---------------------------------------------------------------------------------------------- text
def _enumerate(tr: Translator, items: Sequence[str]) -> str:
    """``a, b, c`` in the reader's language (Chinese lists take 、), through the pattern "{list}, {item}"."""
    out = ""
    for i, item in enumerate(items):
        out = item if i == 0 else tr("{list}, {item}", list=out, item=item)
    return out


def _attribute_name(tr: Translator, name: str) -> str:
    names = {"kind": tr("Customer kind"), "industry": tr("Industry"), "region": tr("Region"),
             "segment": tr("Segment (customer class)"), TENURE: tr("Tenure (years with the company)")}
    return names.get(name, name)


def _category_name(tr: Translator, attribute: str, category: str, edges: Sequence[float]) -> str:
    if category == UNKNOWN:
        return tr("unknown")
    if category == OTHER:
        return tr("others")
    if attribute == TENURE and edges:
        labels = _band_labels(edges)
        if category in labels:
            j = labels.index(category)
            if j == 0:
                return tr("under {years} years", years=f"{edges[0]:g}")
            if j == len(edges):
                return tr("{years} years and more", years=f"{edges[-1]:g}")
            return tr("{low}-{high} years", low=f"{edges[j - 1]:g}", high=f"{edges[j]:g}")
    if attribute == "kind":
        kinds = {"consumer": tr("consumer"), "intermediary": tr("intermediary (dealer or retailer)"),
                 "public_interest": tr("public-interest body")}
        return kinds.get(category, category)
    return category


def format_portraits(p: Portraits, *, lang: str | None = None, max_categories: int = MAX_CATEGORIES_SHOWN) -> str:
    """The portraits as text: per attribute, one row per tier (highest first) with the share of the tier's
    customers in each category, a last row for all customers, and a line on who the top tier's customers are.
    Tier names carry their rank (:func:`~clvkit.tiering.tier_names`).

    Parameters
    ----------
    p:
        From :func:`portraits`.
    lang:
        ``"en"``, ``"zh"`` or ``None`` for the locale's language.
    max_categories:
        Most categories shown per attribute (the largest among all customers; the rest are summed as "other",
        ``"unknown"`` always shown). Tenure bands are always all shown.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> a = KeyCustomers(share=0.5).assign([9.0, 1.0, 7.0, 2.0])
    >>> print(format_portraits(portraits(a, {"industry": ["mining", "retail", "mining", "retail"]}), lang="en"))
    Customer portraits per tier (KeyCustomers): 4 customers. Each row shows how the tier's customers split; the last row shows all customers.
    Industry
    tier            customers  mining  retail
    --------------  ---------  ------  ------
    key (highest)           2  100.0%    0.0%
    other (lowest)          2    0.0%  100.0%
    all customers           4   50.0%   50.0%
    Top tier key: most often mining (100.0% of the tier, 50.0% of all customers).
    """  # noqa: E501
    tr = Translator(check_language(lang, "lang"))
    if isinstance(max_categories, bool) or not isinstance(max_categories, (int, np.integer)) or max_categories < 1:
        raise InvalidInputError(f"The 'max_categories' parameter of format_portraits() must be a whole number >= 1. "
                                f"Got {max_categories!r} instead.")
    lines = [tr("Customer portraits per tier ({policy}): {count} customers. Each row shows how the tier's customers "
                "split; the last row shows all customers.", policy=policy_name(p.policy, lang=tr.lang),
                count=f"{p.n_customers:,}")]
    order = _display_order(len(p.labels), p.ordered, p.policy)
    ranked = tier_names(p.labels, ordered=p.ordered, lang=tr.lang)
    short = tier_names(p.labels, ordered=False, lang=tr.lang)
    for attr in p.attributes:
        cats = list(p.categories[attr])
        counts = p.category_counts[attr]
        if attr != TENURE and len(cats) > max_categories:
            keep = [j for j, c in enumerate(cats) if c != UNKNOWN][: max_categories]
            rest = [j for j in range(len(cats)) if j not in keep and cats[j] != UNKNOWN]
            unknown = [j for j, c in enumerate(cats) if c == UNKNOWN]
            counts = np.column_stack([counts[:, keep], counts[:, rest].sum(axis=1), *(counts[:, unknown].T)])
            cats = [cats[j] for j in keep] + [OTHER] + [UNKNOWN] * len(unknown)
        tier_n = counts.sum(axis=1)
        shares = np.divide(counts, tier_n[:, None], out=np.zeros(counts.shape), where=tier_n[:, None] > 0)
        overall = counts.sum(axis=0) / max(p.n_customers, 1)
        header = [tr("tier"), tr("customers"), *(_category_name(tr, attr, c, p.tenure_bands) for c in cats)]
        rows = [[ranked[p.labels[k]], f"{p.counts[k]:,}", *(f"{v:.1%}" for v in shares[k])] for k in order]
        rows.append([tr("all customers"), f"{p.n_customers:,}", *(f"{v:.1%}" for v in overall)])
        lines += [_attribute_name(tr, attr), *table_lines(header, rows)]
        if p.ordered and p.counts[order[0]] > 0:
            row = p.shares[attr][order[0]]
            tied = [j for j in range(row.shape[0]) if row[j] == row.max()]
            names = [_category_name(tr, attr, p.categories[attr][j], p.tenure_bands) for j in tied]
            if len(tied) == 1:
                lines.append(tr("Top tier {tier}: most often {category} ({share} of the tier, {overall} of all "
                                "customers).", tier=short[p.labels[order[0]]], category=names[0],
                                share=f"{row[tied[0]]:.1%}", overall=f"{p.overall[attr][tied[0]]:.1%}"))
            else:
                lines.append(tr("Top tier {tier}: most often {categories} ({share} of the tier each).",
                                tier=short[p.labels[order[0]]], categories=_enumerate(tr, names),
                                share=f"{row[tied[0]]:.1%}"))
    if p.tenure_bands == DEFAULT_TENURE_BANDS:
        lines.append(tr("Tenure bands: after about two years a customer starts recommending the company, after 3-5 "
                        "years the customer is hard to lose (张子凡 CRM notes, text 003); the band edges are "
                        "clvkit's default, configurable."))
    elif p.tenure_bands:
        lines.append(tr("Tenure bands: edges at {edges} years (set by the caller).",
                        edges=_enumerate(tr, [f"{e:g}" for e in p.tenure_bands])))
    return "\n".join(lines)
