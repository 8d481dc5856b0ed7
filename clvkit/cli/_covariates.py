"""Covariates on the command line: ``fit``/``score`` with ``--covariates FILE`` and ``--dynamic-covariates FILE``.

A covariates file is CSV (UTF-8, with or without a byte-order mark; ``.csv.gz``) or Parquet with one row per
customer: the customer id column, named as the log's ``--customer-id``, and the covariate columns. ``fit``
codes it into a :class:`clvkit.CovariateDesign` (numbers as they are, text as indicators of its levels) and
saves the design as :data:`DESIGN_FILE` in the model folder; ``score`` codes its file with that design, so a
level the fit did not see, or a customer without a row, is an error rather than a silent zero.

A time-varying (dynamic) covariates file has one row per customer and period: the id column, a period column
(each row's period start, written as the log's times are: ISO 8601 or ``--date-format``) and the covariate
columns; it is read by :func:`read_dynamic_covariates` into :meth:`clvkit.Covariates.dynamic` and its design
saved as :data:`DYNAMIC_DESIGN_FILE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._csvio import read_rows
from .._texttable import table_lines
from ..batch import CustomerSummary
from ..covariates import CovariateDesign, Covariates
from ..errors import InvalidInputError, Problem
from ._console import Console, one_line
from ._folder import DESIGN_FILE, DYNAMIC_DESIGN_FILE
from ._log import _Lines, _parse_ids, _parse_times

__all__ = ["DESIGN_FILE", "DYNAMIC_DESIGN_FILE", "BoundCovariates", "coefficient_block", "read_covariates",
           "read_dynamic_covariates"]



def _parse_column(name: str, values: list[str], numeric: bool | None, lines: _Lines,
                  problems: list[Problem]) -> npt.NDArray[Any]:
    """One covariate column: float64 when ``numeric`` (``None``: when every cell is a number), else text."""
    empty = [i for i, v in enumerate(values) if v == ""]
    if empty:
        problems.append(Problem(name, "has empty cells", rows=tuple(lines.line(i) for i in empty[:5]),
                                n_bad=len(empty), row_label="line",
                                fix="Give every customer a value (covariates cannot be missing)."))
        return np.array(values, dtype=object)
    parsed: list[float | None] = []
    for v in values:
        try:
            parsed.append(float(v))
        except ValueError:
            parsed.append(None)
    bad = [i for i, p in enumerate(parsed) if p is None]
    if numeric is None:
        if len(bad) == len(values):
            return np.array(values, dtype=object)  # labels: coded as indicators of their levels
        numeric = True
    if not numeric:
        return np.array(values, dtype=object)
    if bad:
        problems.append(Problem(name, f"holds text where numbers are expected (e.g. {values[bad[0]]!r})",
                                rows=tuple(lines.line(i) for i in bad[:5]), n_bad=len(bad), row_label="line",
                                fix="Make the column all numbers, or all labels (a categorical covariate)."))
        return np.array(values, dtype=object)
    return np.array(parsed, dtype=np.float64)


def _missing_column(name: str, period: str | None, available: list[str]) -> Problem:
    hint = "Name the column of each row's period start with --period-column. " if name == period else ""
    return Problem(name, "is not a column of the covariates file", fix=f"{hint}Available columns: {available}.")


def _read_csv(path: Path, customer_id: str, columns: Sequence[str] | None, design: CovariateDesign | None,
              delimiter: str, period: str | None = None, date_format: str | None = None,
              where: str = "The covariates file") -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
    """The id column, the ``period`` column (times, when given) and the covariate columns of a CSV file."""
    where = f"{where} {path}"
    rows = read_rows(path, where=where, delimiter=delimiter)
    keys = [customer_id] if period is None else [customer_id, period]
    if not rows:
        raise InvalidInputError(f"{where} is empty; it needs a header row naming the customer id"
                                f"{', the period' if period is not None else ''} and the covariates.")
    header = [h.strip() for h in rows[0]]
    names = list(columns) if columns is not None else [h for h in header if h not in keys]
    missing = [n for n in [*keys, *names] if n not in header]
    if missing:
        raise InvalidInputError([_missing_column(n, period, header) for n in missing], context=where)
    dup = sorted({h for h in header if header.count(h) > 1} & {*keys, *names})
    if dup:
        raise InvalidInputError(f"{where} has the column {dup[0]!r} more than once; name each column once.")
    if not names:
        raise InvalidInputError(f"{where} has no covariate columns besides {' and '.join(map(repr, keys))}.")
    data = rows[1:]
    blank = [not "".join(r).strip() for r in data]  # no cells, or only whitespace
    skipped = [i for i, b in enumerate(blank) if b]
    body = [r for r, b in zip(data, blank, strict=True) if not b] if skipped else data
    if not body:
        raise InvalidInputError(f"{where} has a header but no data rows.")
    lines = _Lines([i - k for k, i in enumerate(skipped)])
    need = max(header.index(n) for n in [*keys, *names]) + 1
    short = [i for i, r in enumerate(body) if len(r) < need]
    if short:
        raise InvalidInputError([Problem("(row)", f"has fewer than {need} fields",
                                         rows=tuple(lines.line(i) for i in short[:5]), n_bad=len(short),
                                         row_label="line", fix="Check the delimiter and quoting.")], context=where)
    coding = {c.name: c.coding == "numeric" for c in design.columns} if design is not None else {}
    problems: list[Problem] = []
    out: dict[str, npt.NDArray[Any]] = {}

    def cells(name: str) -> list[str]:
        j = header.index(name)
        return [r[j].strip() for r in body]

    out[customer_id] = _parse_ids(cells(customer_id), customer_id, lines, problems)
    if period is not None:
        out[period] = _parse_times(cells(period), period, date_format, lines, problems)
    for n in names:
        out[n] = _parse_column(n, cells(n), coding.get(n), lines, problems)
    if problems:
        raise InvalidInputError(problems, context=where)
    return out, names


def _read_parquet(path: Path, customer_id: str, columns: Sequence[str] | None, period: str | None = None,
                  date_format: str | None = None, where: str = "The covariates file"
                  ) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
    from .._frames import require

    pq = require("pyarrow.parquet")
    where = f"{where} {path}"
    keys = [customer_id] if period is None else [customer_id, period]
    try:
        available = list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    names = list(columns) if columns is not None else [h for h in available if h not in keys]
    missing = [n for n in [*keys, *names] if n not in available]
    if missing:
        raise InvalidInputError([_missing_column(n, period, available) for n in missing], context=where)
    try:
        table = pq.read_table(path, columns=[*keys, *names])
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    out = {n: np.asarray(table.column(n).to_numpy(zero_copy_only=False)) for n in [*keys, *names]}
    if period is not None and out[period].dtype.kind in "OU" and all(isinstance(v, str) for v in out[period]):
        problems: list[Problem] = []  # periods stored as text: read as the log's times are
        out[period] = _parse_times([str(v) for v in out[period].tolist()], period, date_format, _Lines([]), problems)
        if problems:
            raise InvalidInputError(problems, context=where)
    return out, names


def read_covariates(path: str | Path, *, customer_id: str, columns: Sequence[str] | None = None,
                    design: CovariateDesign | None = None, fmt: str | None = None,
                    delimiter: str | None = None) -> Covariates:
    """Static covariates from a CSV or Parquet file, coded anew or with ``design`` (the columns are then its own).

    Raises
    ------
    InvalidInputError
        One message naming the file: a missing column, empty or non-numeric cells, duplicate or missing ids, a
        level ``design`` does not know, constant or collinear columns (a new design).
    """
    p = Path(path)
    if design is not None:
        columns = [c.name for c in design.columns]
    kind = fmt or ("parquet" if p.suffix.lower() in (".parquet", ".pq") else "csv")
    sep = delimiter or ("\t" if p.suffix.lower() == ".tsv" else ",")
    data, names = (_read_parquet(p, customer_id, columns) if kind == "parquet"
                   else _read_csv(p, customer_id, columns, design, sep))
    try:
        return Covariates.static(data, customer_id=customer_id, columns=names, design=design)
    except InvalidInputError as exc:
        raise InvalidInputError(f"The covariates file {p}: {one_line(exc)}") from None


def read_dynamic_covariates(path: str | Path, *, customer_id: str, period: str, columns: Sequence[str] | None = None,
                            design: CovariateDesign | None = None, fmt: str | None = None,
                            delimiter: str | None = None, date_format: str | None = None) -> Covariates:
    """Time-varying covariates from a CSV or Parquet file: one row per customer and period.

    ``period`` is the column of each row's period start, read as the log's times are (ISO 8601, or
    ``date_format`` as ``--date-format`` gives it); the covariates are coded anew, or with ``design`` (then the
    columns are its own). Default columns: every column but the id and the period.

    Raises
    ------
    InvalidInputError
        One message naming the file: a missing column, unreadable periods (with their lines), empty or
        non-numeric cells, a customer with two rows for one period, gaps, periods off the grid, a level ``design``
        does not know, constant or collinear columns (a new design).
    """
    p = Path(path)
    where = "The dynamic covariates file"
    if design is not None:
        columns = [c.name for c in design.columns]
    if columns is not None and period in columns:
        raise InvalidInputError(f"{where} {p}: the period column {period!r} cannot also be a covariate column; "
                                f"name it with --period-column and leave it out of --dynamic-columns.")
    kind = fmt or ("parquet" if p.suffix.lower() in (".parquet", ".pq") else "csv")
    sep = delimiter or ("\t" if ".tsv" in [x.lower() for x in p.suffixes] else ",")
    data, names = (_read_parquet(p, customer_id, columns, period, date_format, where) if kind == "parquet"
                   else _read_csv(p, customer_id, columns, design, sep, period, date_format, where))
    try:
        return Covariates.dynamic(data, customer_id=customer_id, period=period, columns=names, design=design)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where} {p}: {one_line(exc)}") from None


class BoundCovariates:
    """A fitted covariate model with its customers' covariates bound, in the transaction-model role clv() reads.

    ``BoundCovariates(model, covariates)``: the same covariates scale both processes, as ``clvkit fit
    --covariates`` fitted them. ``BoundCovariates(model, purchase=..., dropout=...)``: each process its own (``clvkit
    fit --dynamic-covariates``: time-varying purchase covariates, static dropout covariates or none).
    """

    def __init__(self, model: Any, covariates: Covariates | None = None, *, purchase: Covariates | None = None,
                 dropout: Covariates | None = None) -> None:
        self.model = model
        self.covariates = covariates
        self.purchase = purchase
        self.dropout = dropout

    @property
    def time_unit(self) -> str:
        return str(self.model.time_unit)

    @property
    def time_varying(self) -> bool:
        """Whether the model was fitted with time-varying covariates (then predictions need them over the horizon)."""
        return bool(getattr(self.model, "time_varying", False))

    def _covs(self) -> dict[str, Any]:
        if self.covariates is not None:
            return {f"{p}_covariates": self.covariates for p in self.model.coefficients}
        return {f"{p}_covariates": c for p, c in (("purchase", self.purchase), ("dropout", self.dropout))
                if c is not None}

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> Any:
        return self.model.expected_purchases(summary, t, **self._covs())

    def expected_purchases_path(self, summary: CustomerSummary, ts: Any) -> Any:
        return self.model.expected_purchases_path(summary, ts, **self._covs())

    def weighted_expected_purchases(self, summary: CustomerSummary, ts: Any, weights: Any) -> Any:
        # clv() takes the discounted sum from this when it is there (no horizon x customers path).
        return self.model.weighted_expected_purchases(summary, ts, weights, **self._covs())

    def probability_alive(self, summary: CustomerSummary) -> Any:
        return self.model.probability_alive(summary, **self._covs())


def coefficient_block(console: Console, model: Any) -> None:
    """The covariate coefficients with standard errors, z, p and exp(estimate), as a table (nothing without)."""
    from scipy import special

    coefficients = getattr(model, "coefficients", None)
    if not coefficients:
        return
    tr = console.tr
    se_all = model.standard_errors or {}
    rows = []
    for process, values in coefficients.items():
        for name, value in values.items():
            key = f"{process}.{name}"
            se = se_all.get(key)
            ok = se is not None and se > 0 and math.isfinite(se)
            z = value / se if ok else None
            p = float(2.0 * special.ndtr(-abs(z))) if z is not None else None
            rows.append([key, f"{value:.4f}", f"{se:.4f}" if ok else tr("n/a"), f"{z:.2f}" if z is not None else "",
                         f"{p:.4f}" if p is not None else "", f"{math.exp(value):.4g}"])
    console.print(tr("Covariate coefficients (exp(estimate): the factor per unit of the covariate):"))
    headers = [tr("coefficient"), tr("estimate"), tr("std. error"), "z", tr("p-value"), "exp(estimate)"]
    for line in table_lines(headers, rows, indent="  "):
        console.print(line)
    if model.equal:
        console.print(tr("  constrained equal across processes: {names}", names=", ".join(model.equal)))
