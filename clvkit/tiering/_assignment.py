"""What every tiering policy returns (:class:`TierAssignment`) and the protocol policies follow.

Conventions shared by every policy:

* ``codes[i]`` is the tier of customer ``i`` (row position) and ``labels[codes[i]]`` its name. When
  ``ordered`` is true the codes rank the tiers from the lowest (0) to the highest, so "moving up" means
  a larger code; otherwise (segments, matrix cells) the codes only name groups.
* ``reasons[i]`` indexes ``rules``: the rule that put the customer in its tier. Rules are text templates
  whose ``{name}`` fields are filled from ``features`` (the per-customer inputs the rule used), so that
  :meth:`TierAssignment.explain` can say "customer 17: tier A2 because value 1234.5 >= threshold 1000
  (quantile 0.8)".
* ``components`` holds the ordered axes behind a code that is not a ranking itself (the value and cost
  levels of a matrix cell, the R, F and M scores of an RFM segment).
* ``classes`` is a second, independent axis (e.g. the customer kind in 5A management).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import block, number, shorten, table
from .._frames import make_frame
from ..errors import InvalidInputError
from ._kernels import CODE_DTYPE, IntArray

__all__ = ["CODE_DTYPE", "IntArray", "TierAssignment", "readonly"]



def readonly(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A read-only view of ``arr`` (never a copy, never a change to the caller's array)."""
    view: npt.NDArray[Any] = arr.view()
    view.flags.writeable = False
    return view


class _Row(Mapping[str, object]):
    """The features of one customer, as plain Python scalars, for ``str.format_map``."""

    def __init__(self, features: Mapping[str, npt.NDArray[Any]], i: int) -> None:
        self._features = features
        self._i = i

    def __getitem__(self, key: str) -> object:
        value: object = self._features[key][self._i].item()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._features)

    def __len__(self) -> int:
        return len(self._features)


@dataclass(frozen=True, eq=False)
class TierAssignment:
    """The tier of every customer of a batch, with the rule that put each one there.

    Attributes
    ----------
    codes:
        Array of shape (n_customers,), dtype int8: tier code of each customer, in ``range(len(labels))``.
    labels:
        Tier names; ``labels[k]`` names code ``k``. Lowest tier first when ``ordered``.
    reasons:
        Array of shape (n_customers,), dtype int8: index into ``rules`` of the rule applied.
    rules:
        Text templates, one per rule; ``{name}`` fields are filled from ``features``.
    policy:
        Name of the policy that made the assignment (e.g. ``"FiveA"``).
    ordered:
        Whether codes rank the tiers (0 = lowest). False for segments and matrix cells.
    features:
        Per-customer inputs the rules refer to, arrays of shape (n_customers,) (read-only views).
    components:
        Ordered per-axis codes behind a composite code, e.g. ``{"value": ..., "cost": ...}``.
    cuts:
        The cut value of each axis of a matrix policy, e.g. ``{"value": 66.9, "risk": 0.5}``: the line between
        the low (0) and high (1) side of ``components[axis]``. High means ``feature >= cut`` (for a quantile cut the
        customers tied at the cut are all high; see :class:`~clvkit.tiering.AxisCut`; ``-inf`` or ``inf`` when a
        quantile cut puts everyone on one side, e.g. in a batch of one). Empty for other policies.
    classes:
        Optional second axis (type/need), array of shape (n_customers,) of codes into ``class_labels``.
    class_labels:
        Names of the class codes.
    customer_id:
        Optional ids, shape (n_customers,); used to name customers in explanations.

    Examples
    --------
    >>> a = TierAssignment(codes=np.array([0, 1], dtype=np.int8), labels=("low", "high"),
    ...                    reasons=np.array([0, 1], dtype=np.int8),
    ...                    rules=("value {value:g} < 10", "value {value:g} >= 10"), policy="demo",
    ...                    features={"value": np.array([3.0, 12.5])})
    >>> a.explain(1)
    'customer 1: tier high because value 12.5 >= 10'
    >>> a.counts().tolist()
    [1, 1]
    """

    codes: IntArray
    labels: tuple[str, ...]
    reasons: IntArray
    rules: tuple[str, ...]
    policy: str
    ordered: bool = True
    features: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    components: Mapping[str, IntArray] = field(default_factory=dict)
    cuts: Mapping[str, float] = field(default_factory=dict)
    classes: IntArray | None = None
    class_labels: tuple[str, ...] = ()
    customer_id: npt.NDArray[Any] | None = None

    def __post_init__(self) -> None:
        n = self.codes.shape[0]
        arrays: dict[str, npt.NDArray[Any] | None] = {
            "reasons": self.reasons, "classes": self.classes, "customer_id": self.customer_id,
            **{f"features[{k!r}]": v for k, v in self.features.items()},
            **{f"components[{k!r}]": v for k, v in self.components.items()},
        }
        bad = [name for name, arr in arrays.items() if arr is not None and arr.shape[:1] != (n,)]
        if self.codes.ndim != 1 or bad:
            raise InvalidInputError(f"TierAssignment arrays must all have shape ({n},); these do not: {bad}.")
        if len(self.labels) > np.iinfo(CODE_DTYPE).max or len(self.rules) > np.iinfo(CODE_DTYPE).max:
            raise InvalidInputError(f"TierAssignment holds at most {np.iinfo(CODE_DTYPE).max} tiers and rules.")

    # ------------------------------------------------------------------ summaries
    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_tiers(self) -> int:
        """Number of tiers (``len(labels)``)."""
        return len(self.labels)

    def counts(self) -> npt.NDArray[np.intp]:
        """Customers per tier, array of shape (n_tiers,)."""
        return np.bincount(self.codes, minlength=self.n_tiers).astype(np.intp)

    def tier_labels(self) -> npt.NDArray[np.str_]:
        """Tier name of every customer, array of shape (n_customers,) (a new string array)."""
        return np.asarray(self.labels, dtype=np.str_)[self.codes]

    def members(self, tier: str | int) -> npt.NDArray[np.intp]:
        """Row positions of the customers in ``tier`` (a label or a code), ascending."""
        code = self.labels.index(tier) if isinstance(tier, str) else int(tier)
        return np.flatnonzero(self.codes == code)

    def to_columns(self, *, explain: bool = False) -> dict[str, npt.NDArray[Any]]:
        """Per-customer columns for writing a file: ``customer_id`` (when known), ``tier_code``, ``tier``,
        ``class`` (when classes were given), the ordered ``components`` and, with ``explain=True``, the
        rendered ``reason`` of every customer (a Python-level loop: slow for millions of customers).

        Examples
        --------
        >>> from clvkit.tiering import KeyCustomers
        >>> cols = KeyCustomers(share=0.5).assign(value=[3.0, 8.0], customer_id=["a", "b"]).to_columns()
        >>> cols["customer_id"].tolist(), cols["tier"].tolist()
        (['a', 'b'], ['other', 'key'])
        """
        out: dict[str, npt.NDArray[Any]] = {}
        if self.customer_id is not None:
            out["customer_id"] = self.customer_id
        out["tier_code"] = self.codes
        out["tier"] = self.tier_labels()
        if self.classes is not None:
            out["class"] = np.asarray(self.class_labels, dtype=np.str_)[self.classes]
        out.update(self.components)
        if explain:
            out["reason"] = np.array([self.reason(i) for i in range(len(self))], dtype=np.str_)
        return out

    def to_frame(self, backend: str = "pandas", *, explain: bool = False) -> Any:
        """Every per-customer array as a DataFrame keyed by customer id (needs the ``frames`` extra).

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``customer_id``; ``"polars"``: a first ``customer_id`` column. Without
            customer ids the rows are keyed by position, named ``row``.
        explain:
            Add the rendered ``reason`` of every customer (a Python-level loop: slow for millions of
            customers).

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            The columns of :meth:`to_columns` (``tier_code``, ``tier``, ``class`` when classes were given, the
            ordered ``components``, ``reason`` with ``explain=True``), then ``rule`` (the index into ``rules``
            of the rule applied) and every feature as ``feature_<name>``.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Examples
        --------
        >>> from clvkit.tiering import KeyCustomers
        >>> frame = KeyCustomers(share=0.5).assign(value=[3.0, 8.0], customer_id=["a", "b"]).to_frame()
        >>> frame.loc["b", "tier"], float(frame.loc["b", "feature_value"])
        ('key', 8.0)
        """
        cols = self.to_columns(explain=explain)
        key = cols.pop("customer_id", None)
        cols["rule"] = self.reasons
        cols.update({f"feature_{name}": arr for name, arr in self.features.items()})
        return make_frame(cols, key=key, backend=backend, where="TierAssignment.to_frame()")

    def __repr__(self) -> str:
        counts = self.counts()
        tiers = ", ".join(f"{lab} {number(int(c))}" for lab, c in zip(self.labels, counts, strict=True))
        return shorten(f"TierAssignment({self.policy}: {number(len(self))} customers in {self.n_tiers} tiers; "
                       f"{tiers})")

    def _repr_html_(self) -> str:
        counts = self.counts()
        n = max(len(self), 1)
        order = range(self.n_tiers - 1, -1, -1) if self.ordered else range(self.n_tiers)
        rows = [[self.labels[k], int(counts[k]), f"{counts[k] / n:.1%}"] for k in order]
        kind = "highest tier first" if self.ordered else "unordered segments"
        return block(f"TierAssignment ({self.policy}): {len(self):,} customers in {self.n_tiers} tiers ({kind})",
                     table(["tier", "customers", "share"], rows))

    # ------------------------------------------------------------------ explanations
    def _row(self, i: Any, where: str) -> int:
        """``i`` as a row position in ``[0, n)`` (negative positions count from the end), or a typed error."""
        n = len(self)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise InvalidInputError(f"The 'i' parameter of TierAssignment.{where}() must be a row position (an "
                                    f"integer). Got {i!r} instead.")
        if not -n <= int(i) < n:
            raise InvalidInputError(f"The 'i' parameter of TierAssignment.{where}() must be a row position in "
                                    f"[0, {n}) (or [-{n}, 0) from the end). Got {int(i)} instead.")
        return int(i) % n

    def reason(self, i: int) -> str:
        """The rule applied to the customer at row ``i``, with its numbers filled in.

        Raises
        ------
        InvalidInputError
            If ``i`` is not an integer row position in ``[-n, n)``.
        """
        i = self._row(i, "reason")
        return self.rules[int(self.reasons[i])].format_map(_Row(self.features, i))

    def explain(self, i: int) -> str:
        """One sentence: who, which tier (and class) and why, for the customer at row ``i``.

        Raises
        ------
        InvalidInputError
            If ``i`` is not an integer row position in ``[-n, n)``.
        """
        i = self._row(i, "explain")
        who = f"customer {i}"
        if self.customer_id is not None:
            cid = self.customer_id[i]
            who = f"customer {cid.item() if isinstance(cid, np.generic) else cid}"
        text = f"{who}: tier {self.labels[int(self.codes[i])]} because {self.reason(i)}"
        if self.classes is not None:
            text += f"; class {self.class_labels[int(self.classes[i])]}"
        return text
