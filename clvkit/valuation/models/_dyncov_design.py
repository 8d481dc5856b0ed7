"""Time-varying covariates laid onto each customer's clock: the pieces the kernels of ``_dyncov`` read.

A customer's clock starts at the start of the period of its first purchase (``purchase_times.origin``, a
calendar instant) and runs in the summary's time unit. Dynamic covariates (``kind == "dynamic"``: a regular
calendar grid ``periods[0] + j * step`` with ``values[customer, j]``) become, per customer, the intervals of
customer time on which every covariate is constant (runs of equal rows are merged), split at the last
purchase ``tx``. Static covariates are constant over the whole clock. The purchase covariates at the repeat
purchases (``purchase_times.times``) are summed per customer (``S``).

Every purchase period must lie inside one covariate period (the grid's step and offset are whole multiples
of the periods the purchases were counted in), else a purchase's covariate would be ambiguous: a typed error
says how to align them. A customer's covariates must cover its whole calibration clock (and, for prediction,
the horizon): a typed error names the first customer and period missing.

Duck-typed on the covariates (``kind``, ``names``, ``align``, ``customer_grid``, ``periods``, ``step``) and on
the summary's ``purchase_times`` (``origin``, ``offsets``, ``times``, ``period_days``, ``unit_days``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import InvalidInputError
from ._covariates import CoefficientLayout, Links, coefficient_columns, covariate_names
from ._dyncov import Pieces

__all__ = ["DynamicDesign", "build_dynamic_design", "horizon_pieces", "is_dynamic"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_NS_PER_DAY = 86400 * 10**9
#: Instants computed from customer time carry float rounding of a few nanoseconds: comparisons with the grid's
#: boundaries allow a millisecond.
_SLACK_NS = 10**6


def is_dynamic(cov: Any) -> bool:
    return cov is not None and getattr(cov, "kind", "static") == "dynamic"


@dataclass(frozen=True)
class DynamicDesign:
    """The calibration pieces, the purchase covariate sums and the coefficient layout of a time-varying fit."""

    layout: CoefficientLayout
    pieces: Pieces
    S: FloatArray  # (n, m)
    zd_static: FloatArray  # (n, m): dropout rows when the dropout covariates are static (BG/NBD), else zeros
    dropout_varies: bool


def _date(ns: int) -> str:
    return str(np.datetime_as_string(np.datetime64(int(ns), "ns"), unit="D"))


def _show(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class _Clock:
    """Customers' clocks in nanoseconds: origin and unit."""

    def __init__(self, summary: Any, where: str) -> None:
        pt = getattr(summary, "purchase_times", None)
        if pt is None:
            raise InvalidInputError(
                f"{where}: time-varying covariates need each customer's purchase dates, which this summary lacks. "
                f"Summarize the transaction log with clvkit.summarize(...) (dates in the time column, a time unit of "
                f"fixed length such as 'D' or 'W'); a summary built from arrays has no purchase dates."
            )
        self.ids = summary.customer_id
        self.origin = np.asarray(pt.origin).astype("datetime64[ns]").astype(np.int64)
        self.offsets = np.asarray(pt.offsets, dtype=np.int64)
        self.times = np.asarray(pt.times, dtype=np.float64)
        self.unit_ns = float(pt.unit_days) * _NS_PER_DAY
        self.period_ns = round(float(pt.period_days) * _NS_PER_DAY)
        self.T = np.asarray(summary.T, dtype=np.float64)
        self.x = np.asarray(summary.frequency, dtype=np.float64)
        self.tx = np.asarray(summary.recency, dtype=np.float64)
        self.where = where

    def at(self, t: FloatArray, customer: IntArray) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = self.origin[customer] + np.rint(t * self.unit_ns).astype(np.int64)
        return out


class _Grid:
    """One process's dynamic covariates on the customers' clocks."""

    def __init__(self, cov: Any, clock: _Clock, names: tuple[str, ...], process: str) -> None:
        where = clock.where
        values, first, last = cov.customer_grid(clock.ids)
        self.values = np.asarray(values, dtype=np.float64)
        self.first = np.asarray(first, dtype=np.int64)
        self.last = np.asarray(last, dtype=np.int64)
        self.p0 = int(np.asarray(cov.periods[:1]).astype("datetime64[ns]").astype(np.int64)[0])
        self.step = int(np.timedelta64(cov.step, "ns").astype(np.int64))
        self.periods = np.asarray(cov.periods).astype("datetime64[ns]")
        self.names = names
        self.process = process
        period = clock.period_ns
        offsets = (clock.origin - self.p0) % period if period > 0 else np.zeros_like(clock.origin)
        if period <= 0 or self.step % period != 0 or offsets.any():
            bad = int(np.flatnonzero(offsets)[0]) if offsets.any() else 0
            raise InvalidInputError(
                f"{where}: the {process} covariates' periods (every {self.step / _NS_PER_DAY:g} days from "
                f"{_date(self.p0)}) do not align with the periods the summary counted purchases in "
                f"({period / _NS_PER_DAY:g} days; customer {_show(clock.ids[bad])!r}'s first starts "
                f"{_date(int(clock.origin[bad]))}), so a purchase's covariate would be ambiguous. Summarize with "
                f"time_unit='D' (and .with_time_unit(...) for the unit you want), or give covariate periods that "
                f"start on the summary's period boundaries."
            )

    def index(self, when_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = np.floor_divide(when_ns - self.p0, self.step)
        return out

    def check_cover(self, customer: IntArray, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64],
                    clock: _Clock, what: str) -> None:
        """Every customer in ``customer`` has rows for grid indices ``lo..hi``."""
        short = (lo < self.first[customer]) | (hi > self.last[customer])
        if short.any():
            k = int(np.flatnonzero(short)[0])
            c = int(customer[k])
            j = int(lo[k]) if lo[k] < self.first[c] else int(self.last[c]) + 1
            n_bad = int(np.unique(customer[short]).shape[0])
            raise InvalidInputError(
                f"{clock.where}: the {self.process} covariates do not cover {what}: customer "
                f"{_show(clock.ids[c])!r} has no row for the period starting {_date(self.p0 + j * self.step)} "
                f"({n_bad} customer{'s' if n_bad != 1 else ''} short). Give every customer one row per period "
                f"from its first purchase to the end of {what}."
            )


def _names_of(covariates: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    return {p: covariate_names(c, p, where) for p, c in covariates.items() if c is not None}


def _boundaries(clock: _Clock, grids: Sequence[_Grid], start: FloatArray, end: FloatArray,
                extra: FloatArray | None) -> tuple[IntArray, FloatArray]:
    """Sorted unique cut points per customer in ``[start, end]`` (customer time): the ends, ``extra`` and
    every grid boundary strictly inside. Returns (customer of each point, point), grouped by customer."""
    n = start.shape[0]
    cust_parts: list[IntArray] = [np.arange(n), np.arange(n)]
    time_parts: list[FloatArray] = [start, end]
    if extra is not None:
        cust_parts.append(np.arange(n))
        time_parts.append(extra)
    idx = np.arange(n)
    for g in grids:
        lo = g.index(clock.at(start, idx) + _SLACK_NS) + 1
        hi = g.index(clock.at(end, idx) - _SLACK_NS)  # last boundary strictly before end
        count = np.maximum(hi - lo + 1, 0)
        owner = np.repeat(idx, count)
        j = lo[owner] + (np.arange(owner.shape[0]) - np.repeat(np.cumsum(count) - count, count))
        t = (g.p0 + j * g.step - clock.origin[owner]) / clock.unit_ns
        cust_parts.append(owner)
        time_parts.append(np.clip(t, start[owner], end[owner]))
    cust = np.concatenate(cust_parts)
    time = np.concatenate(time_parts)
    order = np.lexsort((time, cust))
    cust, time = cust[order], time[order]
    keep = np.r_[True, (cust[1:] != cust[:-1]) | (time[1:] - time[:-1] > _SLACK_NS / clock.unit_ns)]
    return cust[keep].astype(np.intp), time[keep]


def _rows(process: str, grids: Mapping[str, _Grid], static: Mapping[str, FloatArray], cust: IntArray,
          when_ns: npt.NDArray[np.int64]) -> FloatArray:
    """The covariate rows (the covariates' own columns) of ``process`` for customers ``cust`` at ``when_ns``."""
    if process in grids:
        g = grids[process]
        out: FloatArray = g.values[cust, np.clip(g.index(when_ns), 0, g.values.shape[1] - 1)]
        return out
    return static[process][cust]


def _place(raw: FloatArray, names: tuple[str, ...], cols: Sequence[tuple[str, int]], m: int, process: str,
           where: str) -> FloatArray:
    """Raw covariate columns (in ``names`` order) placed in the layout's coefficient columns."""
    full = np.zeros((raw.shape[0], m))
    absent = [name for name, _ in cols if name not in names]
    if absent:
        raise InvalidInputError(f"{where}: the {process} covariates lack {absent}, which the model was fitted with. "
                                f"Got {list(names)}.")
    for name, index in cols:
        if index >= 0:
            full[:, index] = raw[:, names.index(name)]
    return full


def _purchase_sums(clock: _Clock, grids: Mapping[str, _Grid], static: Mapping[str, FloatArray],
                   names: Mapping[str, tuple[str, ...]], layout: CoefficientLayout) -> FloatArray:
    """Per customer, the sum of the purchase covariate rows at its repeat purchases (layout columns)."""
    n = clock.T.shape[0]
    cols = layout.columns.get("purchase", ())
    S = np.zeros((n, layout.n_free))
    if not cols:
        return S
    counts = np.diff(clock.offsets)
    owner = np.repeat(np.arange(n), counts).astype(np.intp)
    # the middle of each purchase's period: inside one covariate period (the grids are aligned), whatever the rounding
    when = clock.at(clock.times, owner) + clock.period_ns // 2
    if "purchase" in grids:
        g = grids["purchase"]
        j = g.index(when)
        g.check_cover(owner, j, j, clock, "the purchase dates")
    raw = _place(_rows("purchase", grids, static, owner, when), names["purchase"], cols, layout.n_free, "purchase",
                 clock.where)
    for index in range(layout.n_free):
        S[:, index] = np.bincount(owner, weights=raw[:, index], minlength=n)
    return S


def _pieces(clock: _Clock, names: Mapping[str, tuple[str, ...]], grids: Mapping[str, _Grid],
            static: Mapping[str, FloatArray], layout: CoefficientLayout, start: FloatArray, end: FloatArray,
            split: FloatArray | None, what: str) -> Pieces:
    n = start.shape[0]
    idx = np.arange(n)
    for g in grids.values():
        has = end > start
        if has.any():
            c = idx[has]
            g.check_cover(c, g.index(clock.at(start[has], c) + _SLACK_NS), g.index(clock.at(end[has], c) - _SLACK_NS),
                          clock, what)
    cust, t = _boundaries(clock, list(grids.values()), start, end, split)
    same = np.r_[cust[1:] == cust[:-1], False]
    lo_i = np.flatnonzero(same)
    pc, plo, phi = cust[lo_i], t[lo_i], t[lo_i + 1]
    mid_ns = clock.at((plo + phi) / 2.0, pc)
    m = layout.n_free
    z: dict[str, FloatArray] = {}
    for process in ("purchase", "dropout"):
        cols = layout.columns.get(process, ())
        if cols:
            z[process] = _place(_rows(process, grids, static, pc, mid_ns), names[process], cols, m, process,
                                clock.where)
        else:
            z[process] = np.zeros((pc.shape[0], m))
    after = (np.zeros(pc.shape[0], dtype=bool) if split is None
             else plo >= split[pc] - _SLACK_NS / clock.unit_ns)
    # merge runs of equal rows (same customer, same side of tx)
    if pc.shape[0] > 1:
        same_rows = np.all(z["purchase"][1:] == z["purchase"][:-1], axis=1) & np.all(
            z["dropout"][1:] == z["dropout"][:-1], axis=1)
        equal_prev = (pc[1:] == pc[:-1]) & (after[1:] == after[:-1]) & same_rows
        head = np.r_[True, ~equal_prev]
    else:
        head = np.ones(pc.shape[0], dtype=bool)
    heads = np.flatnonzero(head)
    if heads.shape[0] == 0:
        return Pieces(pc, plo, phi - plo, z["purchase"], z["dropout"], after)
    ends = np.r_[heads[1:], pc.shape[0]] - 1
    return Pieces(pc[heads], plo[heads], phi[ends] - plo[heads], z["purchase"][heads], z["dropout"][heads],
                  after[heads])


def build_dynamic_design(summary: Any, covariates: Mapping[str, Any], equal: Sequence[str], links: Links,
                         where: str) -> DynamicDesign:
    """The design of a time-varying fit (module docstring). ``covariates`` maps process -> covariates or None."""
    if summary.customer_id is None:
        raise InvalidInputError(
            f"{where}: covariates are matched to customers by id, but the summary has no customer_id. "
            f"Summarize with clvkit.summarize()."
        )
    given = {p: c for p, c in covariates.items() if c is not None}
    for process in given:
        if process not in links:
            raise InvalidInputError(f"{where}: this model takes no {process} covariates.")
    names = _names_of(given, where)
    layout_labels, columns, equal_set = coefficient_columns(names, equal, links, where)
    clock = _Clock(summary, where)
    n = clock.T.shape[0]
    grids = {p: _Grid(c, clock, names[p], p) for p, c in given.items() if is_dynamic(c)}
    static: dict[str, FloatArray] = {}
    for p, c in given.items():
        if p not in grids:
            z = np.asarray(c.align(clock.ids), dtype=np.float64)
            if z.shape != (n, len(names[p])) or not np.all(np.isfinite(z)):
                raise InvalidInputError(f"{where}: the {p} covariates must give finite values, one row per customer.")
            static[p] = z
    for g in grids.values():
        if not np.all(np.isfinite(g.values[~np.isnan(g.values).all(axis=2)])):
            raise InvalidInputError(f"{where}: the {g.process} covariates hold a value that is not finite.")
    full_layout = CoefficientLayout(tuple(layout_labels), columns, {}, equal_set)
    pieces = _pieces(clock, names, grids, static, full_layout, np.zeros(n), clock.T, clock.tx, "the calibration period")
    m = full_layout.n_free
    S = _purchase_sums(clock, grids, static, names, full_layout)
    zd_static = np.zeros((n, m))
    dcols = columns.get("dropout", ())
    if dcols and "dropout" in static:
        zd_static = _place(static["dropout"], names["dropout"], dcols, m, "dropout", where)
    # a covariate that is zero everywhere is not identified: fixed at 0 (as in the static fit)
    used = np.zeros(m, dtype=bool)
    for arr in (pieces.zp, pieces.zd, S, zd_static):
        if arr.size:
            used |= np.any(arr != 0.0, axis=0)
    keep = np.flatnonzero(used)
    new_index = {int(old): new for new, old in enumerate(keep)}
    columns = {p: tuple((name, new_index.get(index, -1)) for name, index in cols_) for p, cols_ in columns.items()}
    layout = CoefficientLayout(tuple(layout_labels[j] for j in keep), columns, {}, equal_set)
    pieces = pieces._replace(zp=pieces.zp[:, keep], zd=pieces.zd[:, keep])
    _check_distinct(pieces, layout, where)
    return DynamicDesign(layout, pieces, S[:, keep], zd_static[:, keep], "dropout" in grids)


def _check_distinct(pieces: Pieces, layout: CoefficientLayout, where: str) -> None:
    stacked = np.concatenate([pieces.zp, pieces.zd], axis=0)
    for i in range(layout.n_free):
        for j in range(i):
            if np.array_equal(stacked[:, i], stacked[:, j]):
                raise InvalidInputError(
                    f"{where}: the covariates '{layout.labels[j]}' and '{layout.labels[i]}' are identical on every "
                    f"customer's clock, so their coefficients cannot be told apart (not identifiable). Drop one."
                )


def horizon_pieces(summary: Any, covariates: Mapping[str, Any], layout: CoefficientLayout, t: float,
                   where: str) -> tuple[Pieces, Pieces, FloatArray]:
    """Calibration pieces (split at ``tx``), the horizon pieces ``(T, T + t]`` (start measured from ``T``), and
    the purchase covariate sums, for prediction with the covariates of the prediction data."""
    given = {p: c for p, c in covariates.items() if c is not None}
    clock = _Clock(summary, where)
    n = clock.T.shape[0]
    names = _names_of(given, where)
    grids = {p: _Grid(c, clock, names[p], p) for p, c in given.items() if is_dynamic(c)}
    static: dict[str, FloatArray] = {}
    for p, c in given.items():
        if p not in grids:
            static[p] = np.asarray(c.align(clock.ids), dtype=np.float64)
    cal = _pieces(clock, names, grids, static, layout, np.zeros(n), clock.T, clock.tx, "the calibration period")
    hor = _pieces(clock, names, grids, static, layout, clock.T, clock.T + t, None,
                  f"the prediction horizon ({t:g} x '{summary.time_unit}' after each customer's T)")
    hor = hor._replace(start=hor.start - clock.T[hor.customer])
    return cal, hor, _purchase_sums(clock, grids, static, names, layout)
