"""The columnar batch of a contractual (subscription) setting: one row per contract, read-only arrays.

In a contractual setting the firm sees when a customer leaves: every contract renews at the end of each
period until the customer cancels. :class:`ContractSummary` records, for each contract, how many periods
were observed and whether the contract has ended; it is what the shifted-beta-geometric engine
(:class:`clvkit.valuation.ShiftedBetaGeo`) reads. Like :class:`~clvkit.CustomerSummary` it validates
every invariant once, on construction, and reports every problem at once.

Notation follows Fader & Hardie (2007, "How to Project Customer Retention", Journal of Interactive
Marketing 21(1)): the lifetime ``T`` of a contract is the period in which it ends, ``T = 1, 2, ...``
(``T = 1``: the customer does not renew at the end of the first period). After ``t`` periods a contract is
still active when ``T > t``; it has then renewed ``t`` times.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ._display import block, count, describe, key_value_table
from ._rows import unique_rows
from ._timeunits import check_unit
from ._validation import as_float_array, id_problems, raise_if, row_problem
from .errors import InvalidInputError, Problem

__all__ = ["CompressedContracts", "ContractSummary"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CONTEXT = "ContractSummary"


def _readonly(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr.flags.writeable = False
    return arr


class CompressedContracts(NamedTuple):
    """Result of :meth:`ContractSummary.compress`.

    Attributes
    ----------
    summary:
        One row per distinct ``(duration, churned)`` pair, with ``weights`` holding how many original
        contracts (or how much original weight) each row stands for.
    inverse:
        Array of shape (n_contracts,): the ``summary`` row of each original contract, so that
        ``per_row_result[inverse]`` expands a per-unique-row result back to the original contracts.
    """

    summary: ContractSummary
    inverse: npt.NDArray[np.intp]


def _as_bool_array(values: Any, n: int) -> tuple[BoolArray, Problem | None, BoolArray]:
    """``churned`` as booleans, a problem for unreadable input, and the mask of bad rows."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidInputError(
            [Problem("churned", f"must be one-dimensional; got shape {arr.shape}", fix="Pass a flat array.")],
            context=_CONTEXT,
        )
    if arr.dtype == np.bool_:
        return arr, None, np.zeros(arr.shape[0], dtype=bool)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        problem = Problem("churned", f"cannot be read as booleans ({exc})", fix="Pass True/False or 1/0 values.")
        return np.zeros(n, dtype=bool), problem, np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        bad = ~((num == 0.0) | (num == 1.0))
    return num == 1.0, None, bad


class ContractSummary:
    """Contracts of a cohort (or several), one row each, as read-only columns.

    Parameters
    ----------
    duration:
        Array of shape (n_contracts,): number of periods observed, a whole number.

        - For a churned contract (``churned`` true) it is the period in which the contract ended, the
          lifetime ``T = t`` of Fader & Hardie (2007): the customer was active in periods ``1..t`` and did
          not renew at the end of period ``t``. It must be at least 1.
        - For a still-active contract it is the number of periods the contract has survived, which is the
          number of renewals made so far: the contract is known to have ``T > duration``. A contract still
          in its first period has ``duration = 0``; it carries no information for fitting (``S(0) = 1``)
          but can be valued (see :meth:`FittedShiftedBetaGeo.discounted_expected_residual_lifetime
          <clvkit.valuation.FittedShiftedBetaGeo.discounted_expected_residual_lifetime>`).
    churned:
        Array of shape (n_contracts,): ``True`` (or 1) if the contract has ended, ``False`` (or 0) if it is
        still active at the end of observation.
    weights:
        Optional positive weights: how many contracts each row stands for (see :meth:`compress` and
        :meth:`from_survival_counts`).
    customer_id:
        Optional unique ids, one per row.
    time_unit:
        Length of one contract period (``"M"`` for monthly contracts, ``"Y"`` for annual ones, ...). The
        model counts periods; the unit labels them and stops a model fitted on monthly contracts from being
        applied to annual ones.

    Raises
    ------
    InvalidInputError
        Listing every failed check with its column, the count and first positions of bad rows.

    Examples
    --------
    Three contracts: one ended in its first period, one in its third, one has renewed twice and is active.

    >>> c = ContractSummary(duration=[1, 3, 2], churned=[True, True, False], time_unit="Y")
    >>> len(c), c.duration.tolist(), c.churned.tolist()
    (3, [1.0, 3.0, 2.0], [True, True, False])
    >>> ContractSummary(duration=[0, 1.5], churned=[True, 2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: ContractSummary has 3 problems:
      - 'duration': must be a whole number of periods (1 row fail; first at row 1)...
      - 'duration': must be >= 1 for a churned contract (1 row fail; first at row 0)...
      - 'churned': must be boolean: True/False or 1/0 (1 row fail; first at row 1)...
    """

    __slots__ = ("_churned", "_customer_id", "_duration", "_time_unit", "_weights")

    def __init__(
        self,
        duration: Any,
        churned: Any,
        weights: Any = None,
        customer_id: Any = None,
        *,
        time_unit: str = "M",
        _validate: bool = True,
    ) -> None:
        if not isinstance(time_unit, str):  # a list or dict cannot even be looked up among the unit names
            raise InvalidInputError(f"The 'time_unit' parameter of ContractSummary must be a unit name such as 'M'. "
                                    f"Got {time_unit!r} instead.")
        self._time_unit = check_unit(time_unit, where="ContractSummary")
        self._duration = as_float_array(duration, "duration", _CONTEXT)
        self._weights = None if weights is None else as_float_array(weights, "weights", _CONTEXT)
        self._customer_id = None if customer_id is None else np.asarray(customer_id)
        if _validate:
            self._churned = self._check(churned)
        else:
            self._churned = np.asarray(churned, dtype=bool)
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                if value.base is not None or value.flags.writeable:
                    # Own a private copy so that the caller mutating their array cannot change ours.
                    value = value.copy()
                setattr(self, name, _readonly(value))

    # ------------------------------------------------------------------ validation
    def _check(self, churned_in: Any) -> BoolArray:
        n = self._duration.shape[0]
        churned, unreadable, bad_churned = _as_bool_array(churned_in, n)
        shape_problems: list[Problem | None] = []
        for name, arr in (("churned", churned), ("weights", self._weights), ("customer_id", self._customer_id)):
            if arr is not None and (arr.ndim != 1 or arr.shape[0] != n):
                shape_problems.append(
                    Problem(name, f"has shape {arr.shape} but 'duration' has {n} rows",
                            fix="Pass arrays of one length, one entry per contract.")
                )
        raise_if(shape_problems, _CONTEXT)

        ids = self._customer_id
        s = self._duration
        problems: list[Problem | None] = []
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(s)
            problems.append(row_problem(~finite, "duration", "must be finite (no NaN or inf)",
                                        "Drop or fill the missing values.", ids))
            problems.append(row_problem(finite & (s != np.floor(s)), "duration", "must be a whole number of periods",
                                        "Count periods, not fractions of them.", ids))
            problems.append(row_problem(finite & (s < 0), "duration", "must be non-negative",
                                        "Count the periods from the start of the contract.", ids))
            problems.append(
                row_problem(finite & (s >= 0) & (s < 1) & churned & ~bad_churned, "duration",
                            "must be >= 1 for a churned contract",
                            "A contract that ends in its first period has duration 1 (T = 1).", ids)
            )
            problems.append(unreadable)
            problems.append(row_problem(bad_churned, "churned", "must be boolean: True/False or 1/0",
                                        "Mark ended contracts True and active ones False.", ids))
            if self._weights is not None:
                w = self._weights
                problems.append(row_problem(~(np.isfinite(w) & (w > 0)), "weights", "must be finite and > 0",
                                            "Drop rows that stand for no contract.", ids))
        if ids is not None and n > 0:
            problems.extend(id_problems(ids, "customer_id"))
        raise_if(problems, _CONTEXT)
        return churned

    # ------------------------------------------------------------------ read-only attributes
    @property
    def duration(self) -> FloatArray:
        """Periods observed, shape (n_contracts,): ``T`` if churned, renewals made so far if active."""
        return self._duration

    @property
    def churned(self) -> BoolArray:
        """Whether each contract has ended, shape (n_contracts,)."""
        return self._churned

    @property
    def weights(self) -> FloatArray | None:
        """Row weights, or ``None`` (every row stands for one contract)."""
        return self._weights

    @property
    def customer_id(self) -> npt.NDArray[Any] | None:
        """Ids, or ``None``."""
        return self._customer_id

    @property
    def time_unit(self) -> str:
        """Length of one contract period."""
        return self._time_unit

    @property
    def total_weight(self) -> float:
        """Number of contracts the batch stands for (sum of weights)."""
        return float(self._weights.sum()) if self._weights is not None else float(len(self))

    def weights_or_ones(self) -> FloatArray:
        """The weights, or an array of ones when the summary has none."""
        return self._weights if self._weights is not None else np.ones(len(self))

    def __len__(self) -> int:
        return int(self._duration.shape[0])

    def __repr__(self) -> str:
        extra = [name for name in ("weights", "customer_id") if getattr(self, name) is not None]
        return f"ContractSummary(n_contracts={len(self)}, time_unit={self._time_unit!r}, columns=+{extra})"

    def _repr_html_(self) -> str:
        w = self.weights_or_ones()
        churned = float(w[self._churned].sum())
        facts: list[tuple[str, Any]] = [
            ("rows", len(self)), ("contracts (sum of weights)", count(self.total_weight)),
            ("time unit", self._time_unit), ("churned", count(churned)),
            ("active", count(self.total_weight - churned)),
        ]
        return block("ContractSummary", key_value_table(facts), describe([("duration", self._duration)], self._weights),
                     note="Means are weighted by the rows' weights." if self._weights is not None else None)

    # ------------------------------------------------------------------ builders
    def take(self, indices: Any) -> ContractSummary:
        """The contracts at ``indices`` (integer positions or a boolean mask), as a new summary.

        Examples
        --------
        >>> c = ContractSummary(duration=[1, 3, 2], churned=[True, True, False])
        >>> c.take([2, 0]).duration.tolist(), c.take([False, True, False]).churned.tolist()
        ([2.0, 1.0], [True])
        """
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise InvalidInputError(
                    f"A boolean mask for take() must have shape ({len(self)},). Got {idx.shape} instead."
                )
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise InvalidInputError(f"take() needs integer positions or a boolean mask. Got dtype {idx.dtype}.")
        idx = idx.astype(np.intp, copy=False).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise InvalidInputError(f"take() positions must lie in [0, {len(self)}). Got {idx.min()}..{idx.max()}.")
        customer_id = None if self._customer_id is None else self._customer_id[idx]
        if customer_id is not None and np.unique(idx).size != idx.size:
            customer_id = None  # the same contract twice would break id uniqueness
        return ContractSummary(
            self._duration[idx],
            self._churned[idx],
            None if self._weights is None else self._weights[idx],
            customer_id,
            time_unit=self._time_unit,
            _validate=False,
        )

    def compress(self) -> CompressedContracts:
        """Collapse contracts with equal ``(duration, churned)`` into one weighted row.

        The sBG likelihood is a sum over contracts that depends on nothing else, so fitting the compressed
        batch gives the same optimum as fitting the raw rows; a cohort of any size compresses to at most
        ``2 * (max duration + 1)`` rows. Ids are dropped.

        Examples
        --------
        >>> c = ContractSummary(duration=[1, 2, 1, 2], churned=[True, False, True, True])
        >>> z = c.compress()
        >>> z.summary.duration.tolist(), z.summary.churned.tolist(), z.summary.weights.tolist()
        ([1.0, 2.0, 2.0], [True, False, True], [2.0, 1.0, 1.0])
        >>> z.inverse.tolist()
        [0, 1, 0, 2]
        """
        (duration, churned), weights, inverse = unique_rows(
            [self._duration, self._churned.astype(np.float64)], self.weights_or_ones()
        )
        summary = ContractSummary(duration, churned == 1.0, weights, time_unit=self._time_unit, _validate=False)
        return CompressedContracts(summary, inverse)

    # ------------------------------------------------------------------ other constructors
    @classmethod
    def from_survival_counts(cls, alive: Any, *, time_unit: str = "M") -> ContractSummary:
        """The weighted contracts of one cohort from its survival counts.

        Parameters
        ----------
        alive:
            Array of shape (n_periods + 1,): ``alive[0]`` is the cohort size at acquisition and ``alive[t]``
            the number of customers still active after ``t`` periods (after their ``t``-th renewal). It
            must be non-increasing, with ``alive[0] > 0``. Pass counts, not proportions: standard errors
            depend on the cohort size.
        time_unit:
            Length of one period.

        Returns
        -------
        ContractSummary
            ``alive[t-1] - alive[t]`` contracts churned in period ``t`` (``duration = t``) for
            ``t = 1..n_periods``, and ``alive[-1]`` contracts still active after ``n_periods`` periods
            (``duration = n_periods``); rows of zero weight are left out.

        Raises
        ------
        InvalidInputError
            When fewer than two counts are given, or a count is negative, not finite, or larger than the
            one before it (all problems at once).

        Examples
        --------
        The first four years of the "regular" cohort of Fader & Hardie (2007):

        >>> c = ContractSummary.from_survival_counts([1000, 631, 468, 382, 326], time_unit="Y")
        >>> c.duration.tolist(), c.churned.tolist()
        ([1.0, 2.0, 3.0, 4.0, 4.0], [True, True, True, True, False])
        >>> c.weights.tolist()
        [369.0, 163.0, 86.0, 56.0, 326.0]
        """
        where = "ContractSummary.from_survival_counts()"
        counts = as_float_array(alive, "alive", where)
        problems: list[Problem | None] = []
        if counts.shape[0] < 2:
            problems.append(Problem("alive", f"needs at least 2 counts (the cohort size and one period); "
                                    f"got {counts.shape[0]}", fix="Pass alive[0..n_periods]."))
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(counts)
            problems.append(row_problem(~finite, "alive", "must be finite (no NaN or inf)"))
            problems.append(row_problem(finite & (counts < 0), "alive", "must be non-negative"))
            if counts.shape[0] > 0 and finite[0] and counts[0] <= 0:
                problems.append(Problem("alive", f"alive[0] (the cohort size) must be > 0; got {counts[0]!r}"))
            rises = np.zeros(counts.shape[0], dtype=bool)
            rises[1:] = counts[1:] > counts[:-1]
            problems.append(row_problem(rises, "alive", "must be non-increasing (a lost customer cannot come back)",
                                        "Pass the customers of one cohort still active after each period."))
        raise_if(problems, where)
        n_periods = counts.shape[0] - 1
        lost = counts[:-1] - counts[1:]
        duration = np.concatenate([np.arange(1.0, n_periods + 1.0), [float(n_periods)]])
        churned = np.concatenate([np.ones(n_periods, dtype=bool), [False]])
        weights = np.concatenate([lost, counts[-1:]])
        keep = weights > 0
        return cls(duration[keep], churned[keep], weights[keep], time_unit=time_unit)

    def to_columns(self) -> dict[str, npt.NDArray[Any]]:
        """The summary as a mapping of column name to array (present columns only)."""
        out: dict[str, npt.NDArray[Any]] = {}
        for name in ("customer_id", "duration", "churned", "weights"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
