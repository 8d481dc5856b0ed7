"""The warehouse route: SQL that summarizes a transaction log inside the database.

:func:`summary_query` writes the SQL that computes :func:`clvkit.summarize`'s per-customer summary inside the
database, and :func:`compressed_query` the SQL that groups it to the distinct ``(frequency, recency, T[,
monetary_value])`` rows with their counts, so that only the counts - a few hundred thousand rows for any
number of customers - leave the database; every count model fits on them (:meth:`CustomerSummary.compress`
gives the same rows in memory). :func:`summarize` and :func:`compressed_summary` check the table, run the
queries on a connection and return a :class:`~clvkit.CustomerSummary`.

The definitions are :func:`clvkit.summarize`'s, to the last period:

- times are floored to periods of ``time_unit`` from their microseconds since 1970-01-01 (UTC for a
  ``TIMESTAMP WITH TIME ZONE`` column, the wall clock for ``TIMESTAMP`` and ``DATE``): seconds, minutes, hours
  and days by floor division, weeks Monday to Sunday (day + 3, floored by 7: 1970-01-01 was a Thursday),
  calendar months, quarters ending in March, June, September and December, and years; a numeric time column
  holds times already counted in ``time_unit`` and is floored to whole periods;
- ``frequency`` = distinct purchase periods - 1, ``recency`` = last purchase period - first,
  ``T`` = period of the observation (calibration) end - first purchase period;
- ``monetary_value`` = mean over the repeat periods of the customer's total spend in the period (the first
  period is excluded; 0 when ``frequency`` is 0);
- with ``calibration_end``: rows after ``observation_end`` are not used, a row is in the holdout when its time
  is after ``calibration_end``, customers whose first purchase is in the holdout are left out, and
  ``frequency_holdout`` (distinct holdout purchase periods), ``monetary_value_holdout`` (mean spend per holdout
  purchase period) and ``duration_holdout`` are added;
- ``refunds``: ``"error"`` (negative amounts are refused - :func:`summarize` counts them first), ``"drop"``
  (negative rows are removed before anything else) or ``"net"`` (customer-period totals are netted and only
  periods of positive net total count).

Two dialects are tested against :func:`clvkit.summarize` on the same data: ``"duckdb"`` end to end (the
queries and :func:`summarize` / :func:`compressed_summary` on DuckDB connections, in memory and in a file) and
``"postgresql"`` (the query text, run by ``psql`` on a throwaway PostgreSQL 15 cluster; :func:`summarize` does
not run it: no PostgreSQL driver is tested). Asking for another dialect (``"spark"``, ``"bigquery"``,
``"snowflake"``) is an :class:`~clvkit.InvalidInputError` naming the tested ones rather than SQL nobody has run.

Table and column names are always quoted as identifiers (a double quote inside a name is doubled; a name
that is empty, not a string or holds a NUL character is refused), never pasted into the SQL as they are.
``observation_end`` and ``calibration_end`` enter the SQL only as integers (microseconds and periods since
1970-01-01) or floats that clvkit computed from the validated values, so no text of the caller reaches the SQL.
The queries do not read or check the data themselves: :func:`summarize` runs :func:`check_query` first and
reports missing values, refunds under ``refunds="error"`` and rows after ``observation_end`` as typed errors,
the way :func:`clvkit.summarize` does.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._aggregate import Aggregate
from ._deprecation import MISSING, renamed_argument
from ._summarize import _REFUND_FIX, _REFUND_OPTIONS, _TIMELINE_UNITS, Refunds, _calibration_problem
from ._summarize import _purchase_times as _summary_purchase_times
from ._timecolumns import Times, as_metadata, period_of, read_param, scalar_key, show_time
from ._timeunits import UNIT_DAYS
from ._validation import raise_if
from .batch import CustomerSummary, PurchaseTimes
from .errors import MAX_ROWS_SHOWN, InvalidInputError, Problem

__all__ = ["DIALECTS", "RUNNABLE_DIALECTS", "TESTED_DIALECTS", "check_query", "compressed_query", "compressed_summary",
           "summarize", "summary_query"]

#: The dialects clvkit writes SQL for: those a test runs end to end.
TESTED_DIALECTS = ("duckdb", "postgresql")
#: The dialects :func:`summarize` and :func:`compressed_summary` run on a connection (checks included); the
#: PostgreSQL queries are tested as text, through ``psql``, for lack of a Python driver in the test environment.
RUNNABLE_DIALECTS = ("duckdb",)
#: The dialects clvkit knows of; the ones not in :data:`TESTED_DIALECTS` are refused with a typed error.
DIALECTS = ("duckdb", "postgresql", "spark", "bigquery", "snowflake")

_US_PER_SECOND = 10**6
_FIXED_US = {"s": _US_PER_SECOND, "min": 60 * _US_PER_SECOND, "h": 3600 * _US_PER_SECOND,
             "D": 86400 * _US_PER_SECOND}
#: Names of the query's own common table expressions; a table of one of these names would be shadowed.
_CTE_NAMES = ("clvkit_rows", "clvkit_periods", "clvkit_first", "clvkit_customers", "clvkit_summary")
_NAIVE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")
_AWARE_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")


# ---------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class _Plan:
    """Everything a query needs, validated: quoted names, the unit, the ends as numbers clvkit computed."""

    dialect: str
    table: str
    customer_id: str
    datetime: str
    monetary_value: str | None
    freq: str
    refunds: str
    numeric: bool  # a numeric time column (times counted in periods)
    times: Times
    obs: Any  # datetime64 / float, as summarize() reads it
    cal: Any
    obs_key: int | float  # microseconds since 1970 (wall clock or UTC), or the number itself
    cal_key: int | float | None
    end_period: int  # period of the calibration end (of observation_end without one)
    obs_period: int

    @property
    def holdout(self) -> bool:
        return self.cal is not None


def _quote(name: Any, parameter: str, problems: list[Problem | None]) -> str:
    """``name`` as a double-quoted SQL identifier, or a problem when it cannot be one."""
    if not isinstance(name, str) or not name or "\x00" in name:
        problems.append(Problem(parameter, f"must be a non-empty name (a string without NUL characters); got {name!r}",
                                fix="Pass the name as it is spelled in the database; clvkit quotes it."))
        return '""'
    return '"' + name.replace('"', '""') + '"'


def _quote_table(table: Any, problems: list[Problem | None]) -> str:
    parts = tuple(table) if isinstance(table, (tuple, list)) else (table,)
    if not parts:
        problems.append(Problem("table", "must name a table; got an empty sequence",
                                fix="Pass 'sales' or a qualified name as a tuple such as ('main', 'sales')."))
        return '""'
    if len(parts) == 1 and isinstance(parts[0], str) and parts[0].lower() in _CTE_NAMES:
        problems.append(Problem("table", f"{parts[0]!r} is the name of one of the query's own steps",
                                fix="Qualify it with its schema, e.g. ('main', '" + parts[0] + "')."))
    return ".".join(_quote(p, "table", problems) for p in parts)


def _end_mode(value: Any) -> tuple[bool, bool]:
    """``(numeric, aware)`` of an end given without a connection to read the column's type from."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return True, False
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            return False, False  # read_param reports it
    if isinstance(value, _dt.datetime):
        return False, value.utcoffset() is not None
    return False, False


def _time_key(value: Any, times: Times) -> int | float:
    """An end as the query compares it: microseconds since 1970-01-01 (floored), or the number itself."""
    if times.numeric:
        return float(value)
    return int(scalar_key(value)) // 1000  # nanoseconds -> microseconds, floored: t > x <=> t > floor(x)


def _plan(dialect: Any, *, table: Any, customer_id: Any, datetime: Any, monetary_value: Any, time_unit: Any,
          freq: Any, observation_end: Any, calibration_end: Any, refunds: Any, where: str,
          mode: tuple[bool, bool] | None = None, problems: list[Problem | None] | None = None) -> _Plan:
    unit = renamed_argument(time_unit, freq, new="time_unit", old="freq", where=where, default="D")
    problems = [] if problems is None else problems
    _check_dialect(dialect, problems)
    if not (isinstance(unit, str) and unit in UNIT_DAYS):
        problems.append(Problem("time_unit", f"must be one of {list(UNIT_DAYS)}; got {unit!r}",
                                fix="Pick the period length to count purchases in."))
    if refunds not in _REFUND_OPTIONS:
        problems.append(Problem("refunds", f"must be one of {list(_REFUND_OPTIONS)}; got {refunds!r}"))
    quoted_table = _quote_table(table, problems)
    quoted = [_quote(name, param, problems) for name, param in
              ((customer_id, "customer_id"), (datetime, "datetime"))]
    amount = None if monetary_value is None else _quote(monetary_value, "monetary_value", problems)
    numeric, aware = _end_mode(observation_end) if mode is None else mode
    times = Times(np.zeros(0, dtype=np.float64 if numeric else "datetime64[us]"), numeric=numeric, aware=aware)
    obs = None
    if observation_end is None:
        problems.append(Problem("observation_end", "is required: the study's end fixes every customer's T",
                                fix="Pass the end of the observation period (a date, datetime or ISO string)."))
    else:
        obs = read_param(observation_end, "observation_end", times, problems)
    cal = None if calibration_end is None else read_param(calibration_end, "calibration_end", times, problems)
    if obs is not None and cal is not None and scalar_key(cal) >= scalar_key(obs):
        problems.append(Problem("calibration_end", f"{show_time(cal, times)} must be before observation_end "
                                f"({show_time(obs, times)})",
                                fix="Pick a calibration end at least one period before observation_end."))
    raise_if(problems, where)
    if obs is None or (calibration_end is not None and cal is None):  # pragma: no cover - reported above
        raise AssertionError("unreachable")
    obs_period = period_of(obs, times, unit)
    end_period = obs_period if cal is None else period_of(cal, times, unit)
    return _Plan(str(dialect), quoted_table, quoted[0], quoted[1], amount, unit, str(refunds), numeric, times, obs, cal,
                 _time_key(obs, times), None if cal is None else _time_key(cal, times), end_period, obs_period)


def _check_dialect(dialect: Any, problems: list[Problem | None]) -> None:
    if dialect in TESTED_DIALECTS:
        return
    if dialect in DIALECTS:
        problems.append(Problem("dialect", f"{dialect!r} is not supported yet: clvkit writes SQL only for the "
                                f"dialects a test runs end to end, {list(TESTED_DIALECTS)}",
                                fix="Load the log into DuckDB (it reads Parquet and CSV files and attaches "
                                    "PostgreSQL), or summarize in memory with clvkit.summarize()."))
    else:
        problems.append(Problem("dialect", f"must be one of {list(TESTED_DIALECTS)}; got {dialect!r}"))


# ---------------------------------------------------------------------------------------------- SQL text
def _floor_div(expr: str, n: int, dialect: str) -> str:
    """``floor(expr / n)`` in exact integer arithmetic (integer division truncates towards zero in both dialects,
    and ``%`` takes the sign of the dividend)."""
    div = "//" if dialect == "duckdb" else "/"
    return f"(({expr}) - ((({expr}) % {n}) + {n}) % {n}) {div} {n}"


def _not_finite(expr: str, dialect: str) -> str:
    """SQL true where a number is NaN or infinite."""
    number = f"CAST({expr} AS DOUBLE PRECISION)"
    if dialect == "duckdb":
        return f"isnan({number}) OR isinf({number})"
    return (f"{number} IN (CAST('NaN' AS DOUBLE PRECISION), CAST('Infinity' AS DOUBLE PRECISION), "
            "CAST('-Infinity' AS DOUBLE PRECISION))")


def _period_sql(plan: _Plan) -> tuple[str, str]:
    """The row's time key (what the ends are compared with) and its period, as SQL expressions."""
    col, dialect = plan.datetime, plan.dialect
    if plan.numeric:
        return f"CAST({col} AS DOUBLE PRECISION)", f"CAST(floor(CAST({col} AS DOUBLE PRECISION)) AS BIGINT)"
    # Microseconds since 1970-01-01: UTC for a time-zone-aware column, the wall clock for TIMESTAMP and DATE
    # (the way summarize() reads aware and naive columns), whatever the session's time zone.
    if dialect == "duckdb":
        us = f"epoch_us({col})"
        wall = f"make_timestamp({us})"
    else:  # EXTRACT(EPOCH ...) is an exact numeric in PostgreSQL >= 14
        us = f"CAST(floor(EXTRACT(EPOCH FROM {col}) * 1000000) AS BIGINT)"
        wall = f"(TIMESTAMP '1970-01-01 00:00:00' + ({us}) * INTERVAL '1 microsecond')"
    freq = plan.freq
    if freq in _FIXED_US:
        return us, _floor_div(us, _FIXED_US[freq], dialect)
    if freq == "W":
        return us, _floor_div(_floor_div(us, _FIXED_US["D"], dialect) + " + 3", 7, dialect)
    # The calendar of the naive wall time: no session time zone applies to it.
    year = f"CAST(EXTRACT(YEAR FROM {wall}) AS BIGINT)"
    months = f"(({year} - 1970) * 12 + CAST(EXTRACT(MONTH FROM {wall}) AS BIGINT) - 1)"
    if freq == "M":
        return us, months
    if freq == "Q":
        return us, _floor_div(months, 3, dialect)
    return us, f"({year} - 1970)"


def _literal(value: int | float) -> str:
    """A number clvkit computed, as SQL (floats round-trip through ``repr``)."""
    if isinstance(value, int):
        return str(value)
    return f"CAST('{float(value)!r}' AS DOUBLE PRECISION)"


def _summary_ctes(plan: _Plan, periods: bool = False) -> str:
    """The common table expressions down to ``clvkit_summary`` (one row per customer).

    With ``periods``, the summary also carries each customer's first purchase period and the list of its
    calibration purchase periods (``clvkit_first_period``, ``clvkit_periods``) for the purchase times.
    """
    key, period = _period_sql(plan)
    amount = ("CAST(NULL AS DOUBLE PRECISION)" if plan.monetary_value is None
              else f"CAST({plan.monetary_value} AS DOUBLE PRECISION)")
    filters = []
    if plan.monetary_value is not None and plan.refunds == "drop":
        filters.append(f"{plan.monetary_value} >= 0")
    if plan.holdout:
        filters.append(f"{key} <= {_literal(plan.obs_key)}")  # rows after the study window are not used
    where = f"\n    WHERE {' AND '.join(filters)}" if filters else ""
    holdout = f"{key} > {_literal(plan.cal_key)}" if plan.cal_key is not None else "FALSE"
    net = plan.monetary_value is not None and plan.refunds == "net"
    having = "\n    HAVING SUM(amount) > 0" if net else ""
    end = _literal(plan.end_period)
    spend = plan.monetary_value is not None
    monetary = (",\n        CASE WHEN c.n_periods > 1 THEN COALESCE(c.spend, 0.0) / (c.n_periods - 1) ELSE 0.0 END "
                "AS monetary_value" if spend else "")
    holdout_cols = ""
    if plan.holdout:
        holdout_cols = ",\n        CAST(c.n_holdout AS DOUBLE PRECISION) AS frequency_holdout"
        if spend:
            holdout_cols += (",\n        CASE WHEN c.n_holdout > 0 THEN c.spend_holdout / c.n_holdout ELSE 0.0 END "
                             "AS monetary_value_holdout")
    aggregate = "list" if plan.dialect == "duckdb" else "array_agg"
    period_list = (f",\n        {aggregate}(p.period ORDER BY p.period) FILTER (WHERE NOT p.in_holdout) AS periods"
                   if periods else "")
    period_cols = (",\n        c.first_period AS clvkit_first_period, c.periods AS clvkit_periods"
                   if periods else "")
    # One pass over the customer-periods after the first period is known (a join, then one group by): a
    # customer's repeat spend is summed over its periods after the first, never as a total minus the first
    # period's spend (that difference would lose the precision of small repeat spends).
    return f"""clvkit_rows AS (
    SELECT {plan.customer_id} AS customer_id, {period} AS period, {holdout} AS in_holdout, {amount} AS amount
    FROM {plan.table}{where}
),
clvkit_periods AS (
    SELECT customer_id, period, in_holdout, SUM(amount) AS total
    FROM clvkit_rows
    GROUP BY customer_id, period, in_holdout{having}
),
clvkit_first AS (
    SELECT customer_id, MIN(period) AS first_period
    FROM clvkit_periods
    WHERE NOT in_holdout
    GROUP BY customer_id
),
clvkit_customers AS (
    SELECT
        p.customer_id,
        MIN(f.first_period) AS first_period,
        MAX(p.period) FILTER (WHERE NOT p.in_holdout) AS last_period,
        COUNT(*) FILTER (WHERE NOT p.in_holdout) AS n_periods,
        SUM(p.total) FILTER (WHERE NOT p.in_holdout AND p.period > f.first_period) AS spend,
        COUNT(*) FILTER (WHERE p.in_holdout) AS n_holdout,
        SUM(p.total) FILTER (WHERE p.in_holdout) AS spend_holdout{period_list}
    FROM clvkit_periods AS p JOIN clvkit_first AS f ON p.customer_id = f.customer_id
    GROUP BY p.customer_id
),
clvkit_summary AS (
    SELECT
        c.customer_id AS customer_id,
        CAST(c.n_periods - 1 AS DOUBLE PRECISION) AS frequency,
        CAST(c.last_period - c.first_period AS DOUBLE PRECISION) AS recency,
        CAST({end} - c.first_period AS DOUBLE PRECISION) AS "T"{monetary}{holdout_cols}{period_cols}
    FROM clvkit_customers AS c
)"""


def _summary_sql(plan: _Plan, periods: bool = False) -> str:
    return f"WITH {_summary_ctes(plan, periods)}\nSELECT * FROM clvkit_summary\nORDER BY customer_id"


def _compressed_sql(plan: _Plan, include_monetary: bool) -> str:
    keys = ["frequency", "recency", '"T"']
    if include_monetary and plan.monetary_value is not None:
        keys.append("monetary_value")
    listed = ", ".join(keys)
    return (f"WITH {_summary_ctes(plan)}\nSELECT {listed}, CAST(COUNT(*) AS DOUBLE PRECISION) AS weight\n"
            f"FROM clvkit_summary\nGROUP BY {listed}\nORDER BY {listed}")


def _check_sql(plan: _Plan) -> str:
    key, _ = _period_sql(plan)
    amount = plan.monetary_value
    time_bad = f"{plan.datetime} IS NULL"
    if plan.numeric:
        time_bad += f" OR {_not_finite(plan.datetime, plan.dialect)}"
    kept = f"NOT ({time_bad})"
    counts = ["COUNT(*) AS n_rows",
              f"COUNT(*) FILTER (WHERE {plan.customer_id} IS NULL) AS null_id",
              f"COUNT(*) FILTER (WHERE {time_bad}) AS bad_time"]
    if amount is not None:
        counts += [f"COUNT(*) FILTER (WHERE {amount} IS NULL) AS null_amount",
                   f"COUNT(*) FILTER (WHERE {_not_finite(amount, plan.dialect)}) AS nonfinite_amount",
                   f"COUNT(*) FILTER (WHERE {amount} < 0) AS negative"]
        if plan.refunds == "drop":
            kept += f" AND NOT ({amount} < 0)"
    counts += [f"MIN({key}) FILTER (WHERE {kept}) AS first_time", f"MAX({key}) FILTER (WHERE {kept}) AS last_time",
               f"COUNT(*) FILTER (WHERE {kept}) AS n_kept"]
    if not plan.holdout:
        counts.append(f"COUNT(*) FILTER (WHERE {kept} AND {key} > {_literal(plan.obs_key)}) AS after_end")
    return "SELECT\n    " + ",\n    ".join(counts) + f"\nFROM {plan.table}"


# ---------------------------------------------------------------------------------------------- public text
def summary_query(dialect: str, *, table: str | Sequence[str], customer_id: str, datetime: str,
                  monetary_value: str | None = None, freq: str = MISSING, observation_end: Any,
                  calibration_end: Any = None, time_unit: str = MISSING, refunds: Refunds = "error") -> str:
    """SQL that computes :func:`clvkit.summarize`'s per-customer summary inside the database.

    Parameters
    ----------
    dialect:
        The SQL dialect: ``"duckdb"`` or ``"postgresql"`` (the tested ones, :data:`TESTED_DIALECTS`).
    table:
        The table (or view) of transactions, one row per transaction: a name, or a qualified name as a
        sequence such as ``("main", "sales")``. Quoted as an identifier.
    customer_id, datetime, monetary_value:
        Column names (quoted): customer ids (any type the database orders), transaction times (``DATE``,
        ``TIMESTAMP``, ``TIMESTAMP WITH TIME ZONE``, or numbers counted in ``time_unit``), and the optional
        amounts.
    freq:
        Deprecated spelling of ``time_unit``.
    observation_end:
        End of the study: a date, datetime (aware for a ``TIMESTAMP WITH TIME ZONE`` column, naive
        otherwise), ``numpy.datetime64`` or ISO string; a number for a numeric time column. Required.
    calibration_end:
        Optional end of the calibration period (inclusive); adds the holdout columns.
    time_unit:
        Period length and the summary's unit (default ``"D"``), as in :func:`clvkit.summarize`.
    refunds:
        ``"error"``, ``"drop"`` or ``"net"``, as in :func:`clvkit.summarize` (the query itself does not
        refuse refunds under ``"error"``: :func:`check_query` counts them).

    Returns
    -------
    str
        One ``SELECT`` with the columns ``customer_id, frequency, recency, T`` and, as given,
        ``monetary_value``, ``frequency_holdout`` and ``monetary_value_holdout``, one row per customer,
        ordered by ``customer_id``. ``duration_holdout`` is a constant: the period of ``observation_end`` minus
        that of ``calibration_end``.

    Raises
    ------
    InvalidInputError
        For a dialect other than ``"duckdb"``, a bad name, unit, refunds policy or end, listing every problem.

    Examples
    --------
    >>> import duckdb
    >>> from clvkit import sql
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (7, DATE '2024-01-01', 10.0), "
    ...                 "(7, DATE '2024-01-15', 20.0), (3, DATE '2024-01-10', 7.0)) AS v(cust, day, amount)")
    >>> q = sql.summary_query("duckdb", table="sales", customer_id="cust", datetime="day",
    ...                       monetary_value="amount", observation_end="2024-01-15")
    >>> con.execute(q).fetchall()
    [(3, 0.0, 0.0, 5.0, 0.0), (7, 1.0, 14.0, 14.0, 20.0)]
    """
    plan = _plan(dialect, table=table, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value,
                 time_unit=time_unit, freq=freq, observation_end=observation_end, calibration_end=calibration_end,
                 refunds=refunds, where="summary_query()")
    return _summary_sql(plan)


def compressed_query(dialect: str, *, table: str | Sequence[str], customer_id: str, datetime: str,
                     monetary_value: str | None = None, freq: str = MISSING, observation_end: Any,
                     calibration_end: Any = None, time_unit: str = MISSING, refunds: Refunds = "error",
                     include_monetary: bool = True) -> str:
    """SQL that groups :func:`summary_query`'s summary to distinct rows with their counts, in the database.

    The arguments are :func:`summary_query`'s; ``include_monetary=False`` groups on ``(frequency, recency,
    T)`` only (what a count model needs: fewer rows), like :meth:`CustomerSummary.compress`.

    Returns
    -------
    str
        One ``SELECT`` with the columns ``frequency, recency, T[, monetary_value], weight`` (the number of
        customers of each distinct row), ordered by the key columns like :meth:`CustomerSummary.compress`.

    Raises
    ------
    InvalidInputError
        As :func:`summary_query`.

    Examples
    --------
    >>> import duckdb
    >>> from clvkit import sql
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (1, DATE '2024-01-01'), (1, DATE '2024-01-08'), "
    ...                 "(2, DATE '2024-01-01'), (2, DATE '2024-01-08'), (3, DATE '2024-01-09')) AS v(cust, day)")
    >>> q = sql.compressed_query("duckdb", table="sales", customer_id="cust", datetime="day",
    ...                          time_unit="W", observation_end="2024-01-14")
    >>> con.execute(q).fetchall()
    [(0.0, 0.0, 0.0, 1.0), (1.0, 1.0, 1.0, 2.0)]
    """
    plan = _plan(dialect, table=table, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value,
                 time_unit=time_unit, freq=freq, observation_end=observation_end, calibration_end=calibration_end,
                 refunds=refunds, where="compressed_query()")
    return _compressed_sql(plan, include_monetary)


def check_query(dialect: str, *, table: str | Sequence[str], customer_id: str, datetime: str,
                monetary_value: str | None = None, freq: str = MISSING, observation_end: Any,
                calibration_end: Any = None, time_unit: str = MISSING, refunds: Refunds = "error") -> str:
    """SQL that counts, in one pass, what :func:`clvkit.summarize` would refuse in the table.

    The arguments are :func:`summary_query`'s. :func:`summarize` runs this query first and raises on what it
    finds; run it yourself before :func:`summary_query` when you use the SQL text on its own.

    Returns
    -------
    str
        One ``SELECT`` of one row: ``n_rows``, ``null_id``, ``bad_time`` (null, or not finite in a numeric
        column), with amounts ``null_amount``, ``nonfinite_amount`` and ``negative``; then the first and last
        time of the rows used (``first_time``, ``last_time``: microseconds since 1970-01-01, or the numbers),
        ``n_kept``, and without ``calibration_end`` ``after_end``, the rows after ``observation_end``.

    Raises
    ------
    InvalidInputError
        As :func:`summary_query`.

    Examples
    --------
    >>> import duckdb
    >>> from clvkit import sql
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (1, DATE '2024-01-01', -5.0)) AS v(c, d, x)")
    >>> q = sql.check_query("duckdb", table="sales", customer_id="c", datetime="d", monetary_value="x",
    ...                     observation_end="2024-01-31")
    >>> dict(zip([d[0] for d in con.execute(q).description], con.fetchone()))["negative"]
    1
    """
    plan = _plan(dialect, table=table, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value,
                 time_unit=time_unit, freq=freq, observation_end=observation_end, calibration_end=calibration_end,
                 refunds=refunds, where="check_query()")
    return _check_sql(plan)


# ---------------------------------------------------------------------------------------------- running
def summarize(connection: Any, *, table: str | Sequence[str], customer_id: str, datetime: str,
              monetary_value: str | None = None, freq: str = MISSING, observation_end: Any,
              calibration_end: Any = None, time_unit: str = MISSING, refunds: Refunds = "error",
              dialect: str | None = None, purchase_times: bool = True) -> CustomerSummary:
    """Summarize a transaction table inside the database: :func:`clvkit.summarize`'s result, computed in SQL.

    Checks the table (columns, their types, missing values, refunds, rows after ``observation_end``, the
    calibration end against the data) with one query, runs :func:`summary_query` and returns the summary. For
    a fit, :func:`compressed_summary` brings back only the distinct rows with their counts.

    Parameters
    ----------
    connection:
        A DuckDB connection (``duckdb.connect()`` or ``duckdb.connect("file.duckdb")``), or a DB-API
        connection of a tested dialect.
    table, customer_id, datetime, monetary_value, freq, observation_end, calibration_end, time_unit, refunds:
        As in :func:`summary_query`.
    dialect:
        The connection's SQL dialect; default: ``"duckdb"`` for a DuckDB connection.
    purchase_times:
        Bring back each customer's calibration purchase periods as the summary's ``purchase_times`` (what the
        CNBD-k family and :func:`clvkit.valuation.regularity` read), where :func:`clvkit.summarize` fills
        them: a datetime column and a unit of fixed length (``"s"``, ``"min"``, ``"h"``, ``"D"``, ``"W"``).
        ``False`` leaves them in the database.

    Returns
    -------
    CustomerSummary
        Equal to :func:`clvkit.summarize` on the same log (float columns up to the order of summation), with
        the same ``time_unit``, ``observation_end``, ``calibration_end``, holdout columns and purchase times,
        sorted by ``customer_id``.

    Raises
    ------
    InvalidInputError
        For a missing table or column, a time column of another type, an end that does not match the column
        (aware against naive, a number against dates), and every data problem :func:`clvkit.summarize`
        refuses, naming the column, the number of rows and the first customers.

    Examples
    --------
    >>> import duckdb
    >>> from clvkit import sql
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (7, DATE '2024-01-01', 10.0), "
    ...                 "(7, DATE '2024-01-01', 5.0), (7, DATE '2024-01-15', 20.0), (3, DATE '2024-01-10', 7.0)) "
    ...                 "AS v(cust, day, amount)")
    >>> s = sql.summarize(con, table="sales", customer_id="cust", datetime="day", monetary_value="amount",
    ...                   observation_end="2024-01-15")
    >>> s.customer_id.tolist(), s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()
    ([3, 7], [0.0, 1.0], [0.0, 14.0], [5.0, 14.0], [0.0, 20.0])
    """
    plan = _checked_plan(connection, dialect, "summarize()", table=table, customer_id=customer_id,
                         datetime=datetime, monetary_value=monetary_value, time_unit=time_unit, freq=freq,
                         observation_end=observation_end, calibration_end=calibration_end, refunds=refunds)
    periods = bool(purchase_times) and not plan.numeric and plan.freq in _TIMELINE_UNITS
    names, columns = _fetch(connection, _summary_sql(plan, periods))
    if not columns["frequency"].shape[0]:
        _raise_empty(plan, "summarize()")
    ids = _id_array(columns["customer_id"])
    order = np.argsort(ids, kind="stable")  # numpy's order of ids, as summarize() sorts them
    pick = {name: columns[name][order] for name in names}
    _check_finite(plan, pick, "summarize()")
    holdout: dict[str, Any] = {}
    if plan.holdout:
        holdout = {"frequency_holdout": pick["frequency_holdout"],
                   "duration_holdout": float(plan.obs_period - plan.end_period)}
        if plan.monetary_value is not None:
            holdout["monetary_value_holdout"] = pick["monetary_value_holdout"]
    summary = CustomerSummary(
        frequency=pick["frequency"], recency=pick["recency"], T=pick["T"],
        monetary_value=pick.get("monetary_value"), customer_id=ids[order], time_unit=plan.freq,
        observation_end=_metadata(plan.obs, plan), calibration_end=_metadata(plan.cal, plan), **holdout)
    if not periods:
        return summary
    times = _purchase_times(pick["clvkit_first_period"], pick["clvkit_periods"], plan.freq)
    return summary if times is None else summary._replace(purchase_times=times)


def compressed_summary(connection: Any, *, table: str | Sequence[str], customer_id: str, datetime: str,
                       monetary_value: str | None = None, freq: str = MISSING, observation_end: Any,
                       calibration_end: Any = None, time_unit: str = MISSING, refunds: Refunds = "error",
                       include_monetary: bool = True, dialect: str | None = None) -> CustomerSummary:
    """The distinct ``(frequency, recency, T[, monetary_value])`` rows with their counts, computed in the database.

    The same checks as :func:`summarize`, then :func:`compressed_query`: only the distinct rows and their
    counts leave the database. The result is what ``summarize(...).compress(include_monetary=...).summary``
    gives in memory - a :class:`~clvkit.CustomerSummary` whose ``weights`` are the counts, without ids or
    holdout columns - and every engine fits on it exactly as on the customers.

    Parameters
    ----------
    connection, table, customer_id, datetime, monetary_value, freq, observation_end, calibration_end, \
time_unit, refunds, dialect:
        As in :func:`summarize`.
    include_monetary:
        Group on ``monetary_value`` too (default, when the amounts are given); ``False`` gives fewer rows
        for count models.

    Returns
    -------
    CustomerSummary
        Weighted distinct rows in lexicographic order of ``(frequency, recency, T[, monetary_value])``.

    Raises
    ------
    InvalidInputError
        As :func:`summarize`.

    Examples
    --------
    >>> import duckdb
    >>> from clvkit import sql
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES (1, DATE '2024-01-01'), (1, DATE '2024-01-08'), "
    ...                 "(2, DATE '2024-01-01'), (2, DATE '2024-01-08'), (3, DATE '2024-01-09')) AS v(cust, day)")
    >>> c = sql.compressed_summary(con, table="sales", customer_id="cust", datetime="day", time_unit="W",
    ...                            observation_end="2024-01-14")
    >>> c.frequency.tolist(), c.T.tolist(), c.weights.tolist(), c.total_weight
    ([0.0, 1.0], [0.0, 1.0], [1.0, 2.0], 3.0)
    """
    plan = _checked_plan(connection, dialect, "compressed_summary()", table=table, customer_id=customer_id,
                         datetime=datetime, monetary_value=monetary_value, time_unit=time_unit, freq=freq,
                         observation_end=observation_end, calibration_end=calibration_end, refunds=refunds)
    with_monetary = bool(include_monetary) and plan.monetary_value is not None
    _, columns = _fetch(connection, _compressed_sql(plan, with_monetary))
    if not columns["frequency"].shape[0]:
        _raise_empty(plan, "compressed_summary()")
    keys = [columns["frequency"], columns["recency"], columns["T"]]
    if with_monetary:
        keys.append(columns["monetary_value"])
    order = np.lexsort(keys[::-1])  # the order of CustomerSummary.compress(), whatever the database's sort
    pick = {name: col[order] for name, col in columns.items()}
    _check_finite(plan, pick, "compressed_summary()")
    return CustomerSummary(
        frequency=pick["frequency"], recency=pick["recency"], T=pick["T"],
        monetary_value=pick["monetary_value"] if with_monetary else None, weights=pick["weight"],
        time_unit=plan.freq, observation_end=_metadata(plan.obs, plan), calibration_end=_metadata(plan.cal, plan))


# ---------------------------------------------------------------------------------------------- steps
def _dialect_of(connection: Any, dialect: str | None) -> str | None:
    if dialect is not None:
        return dialect
    root = type(connection).__module__.split(".")[0].lstrip("_")
    return "duckdb" if root == "duckdb" else None


def _execute(connection: Any, sql: str) -> Any:
    cursor = connection.cursor() if hasattr(connection, "cursor") else connection
    cursor.execute(sql)
    return cursor


def _checked_plan(connection: Any, dialect: str | None, where: str, **arguments: Any) -> _Plan:
    """Validate the arguments against the table's columns and types, then count its data problems."""
    dialect = _dialect_of(connection, dialect)
    if dialect is None:
        raise InvalidInputError([Problem("dialect", f"cannot be told from a {type(connection).__name__} "
                                         "connection", fix=f"Pass dialect=, one of {list(RUNNABLE_DIALECTS)}.")],
                                context=where)
    if dialect in TESTED_DIALECTS and dialect not in RUNNABLE_DIALECTS:
        raise InvalidInputError([Problem("dialect", f"{dialect!r} queries are tested as text, but {where} runs "
                                         f"only on {list(RUNNABLE_DIALECTS)} connections",
                                         fix="Run check_query() and summary_query() or compressed_query() with "
                                             "your driver.")], context=where)
    arguments["time_unit"] = renamed_argument(arguments["time_unit"], arguments["freq"], new="time_unit", old="freq",
                                              where=where, default="D")
    arguments["freq"] = MISSING  # warned once, here
    problems: list[Problem | None] = []
    # A first plan, without reading anything, validates names, unit, refunds and dialect.
    first = _plan(dialect, **arguments, where=where, problems=problems)
    types = _column_types(connection, first, arguments, where)
    mode = _time_mode(types, arguments["datetime"], problems)
    amount_name = arguments["monetary_value"]
    if amount_name is not None and not _is_numeric(types[amount_name]):
        problems.append(Problem(amount_name, f"holds {types[amount_name]}, not numbers",
                                fix="Pass the column of transaction amounts."))
    raise_if(problems, where)
    if mode is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")
    plan = _plan(dialect, **arguments, where=where, mode=mode)
    _check_data(connection, plan, arguments, where)
    return plan


def _column_types(connection: Any, plan: _Plan, arguments: dict[str, Any], where: str) -> dict[str, str]:
    """The table's column types by name; a missing table or column is a typed error."""
    try:
        cursor = _execute(connection, f"SELECT * FROM {plan.table} LIMIT 0")
    except Exception as exc:  # the database's own error type: any failure here means the table cannot be read
        raise InvalidInputError([Problem("table", f"{arguments['table']!r} cannot be read: {exc}",
                                         fix="Check the name; a qualified name is a tuple such as "
                                             "('main', 'sales').")], context=where) from exc
    types = {str(d[0]): str(d[1]).upper() for d in cursor.description}
    # DuckDB matches identifiers, quoted or not, without regard to case (keeping the case it was given).
    folded = {name.lower(): kind for name, kind in types.items()}
    wanted = [(arguments[p], p) for p in ("customer_id", "datetime", "monetary_value") if arguments[p] is not None]
    missing = [Problem(name, f"is not a column of {arguments['table']!r} (the {param} column)",
                       fix=f"Available columns: {list(types)}.") for name, param in wanted
               if name.lower() not in folded]
    raise_if(list(missing), where)
    return {name: folded[name.lower()] for name, _ in wanted}


def _is_numeric(type_name: str) -> bool:
    return type_name in _NUMERIC_TYPES or type_name.startswith("DECIMAL")


def _time_mode(types: dict[str, str], column: str, problems: list[Problem | None]) -> tuple[bool, bool] | None:
    """``(numeric, aware)`` of the time column from its type, or a problem."""
    kind = types[column]
    if kind in _NAIVE_TYPES:
        return False, False
    if kind in _AWARE_TYPES:
        return False, True
    if _is_numeric(kind):
        return True, False
    problems.append(Problem(column, f"holds {kind}; expected DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE or numbers "
                            "counted in time_unit",
                            fix="Cast the column in a view, e.g. CAST(col AS TIMESTAMP) for ISO text."))
    return None


def _check_data(connection: Any, plan: _Plan, arguments: dict[str, Any], where: str) -> None:
    """Raise, like :func:`clvkit.summarize`, on missing values, refunds, late rows and a bad calibration end."""
    cursor = _execute(connection, _check_sql(plan))
    row = cursor.fetchone()
    found = dict(zip([str(d[0]) for d in cursor.description], row, strict=True))
    id_col, time_col, amount_col = (arguments["customer_id"], arguments["datetime"], arguments["monetary_value"])
    problems: list[Problem | None] = []
    if not found["n_rows"]:
        raise InvalidInputError([Problem(time_col, "has no rows: the transaction log is empty",
                                         fix="Pass at least one transaction.")], context=where)

    def rows(condition: str, column: str, message: str, fix: str, count: int, show_ids: bool = True) -> None:
        # A table has no row positions to show: the message counts the rows and names their first customers.
        if count:
            text = f"{message} in {int(count)} row{'s' if count != 1 else ''}"
            if show_ids:
                text += f" (first of customers {', '.join(_first_customers(connection, plan, condition))})"
            problems.append(Problem(column, text, fix=fix))

    rows(f"{plan.customer_id} IS NULL", id_col, "is missing (null customer id)",
         "Drop the rows or fill in the customer.", found["null_id"], show_ids=False)
    time_bad = f"{plan.datetime} IS NULL"
    if plan.numeric:
        time_bad += f" OR {_not_finite(plan.datetime, plan.dialect)}"
    rows(time_bad, time_col, "is missing (null)" + (" or not finite" if plan.numeric else ""),
         "Drop or fill the missing times.", found["bad_time"])
    if plan.monetary_value is not None:
        amount = plan.monetary_value
        rows(f"{amount} IS NULL", amount_col, "is missing (null amount)", "Drop or fill the missing amounts.",
             found["null_amount"])
        rows(_not_finite(amount, plan.dialect), amount_col,
             "is not finite (NaN or inf)", "Drop or fill the missing amounts.", found["nonfinite_amount"])
        if plan.refunds == "error":
            rows(f"{amount} < 0", amount_col, "is a refund (negative amount)", _REFUND_FIX, found["negative"])
        if plan.refunds == "drop" and found["negative"] and not found["n_kept"]:
            problems.append(Problem(amount_col, "has only refunds; nothing is left after refunds='drop'"))
    raise_if(problems, where)
    first, last = _as_time(found["first_time"], plan), _as_time(found["last_time"], plan)
    if not plan.holdout and found["after_end"]:
        key, _ = _period_sql(plan)
        rows(f"{key} > {_literal(plan.obs_key)}", time_col, f"is after observation_end "
             f"({show_time(plan.obs, plan.times)})",
             "Pass a later observation_end, remove those rows, or pass calibration_end to summarize a "
             "calibration period with a holdout.", found["after_end"])
    if plan.cal is not None and first is not None and last is not None:
        problems.append(_calibration_problem(plan.cal, plan.obs, first, last, plan.times, plan.freq))
    raise_if(problems, where)


def _purchase_times(first: npt.NDArray[Any], periods: npt.NDArray[Any], freq: str) -> PurchaseTimes | None:
    """:func:`clvkit.summarize`'s purchase times from each customer's first period and sorted period list.

    The repeat periods become :class:`~clvkit._aggregate.Aggregate`'s and summarize()'s own builder turns
    them into calendar origins and times, so both routes share one definition.
    """
    lists = [np.asarray(p, dtype=np.int64) for p in periods.tolist()]
    first_periods = np.asarray(first, dtype=np.int64)
    n_periods = np.fromiter((p.shape[0] for p in lists), dtype=np.int64, count=len(lists))
    repeats = (np.concatenate([p[1:] - p[0] for p in lists]) if lists else np.zeros(0, dtype=np.int64))
    agg = Aggregate(customers=np.arange(len(lists), dtype=np.int64), first=first_periods,
                    last=first_periods + 0, n_periods=n_periods, spend_repeat=None, n_periods_holdout=None,
                    spend_holdout=None, repeat_periods=repeats.astype(np.float64))
    return _summary_purchase_times(agg, freq)


def _as_time(value: Any, plan: _Plan) -> Any:
    """A time of the check query (microseconds, or a number) as :func:`clvkit.summarize` holds times."""
    if value is None:
        return None
    if plan.numeric:
        return float(value)
    return np.datetime64(int(value), "us")


def _first_customers(connection: Any, plan: _Plan, condition: str) -> list[str]:
    """Ids of the first few offending rows, shown with ``repr``."""
    cursor = _execute(connection, f"SELECT {plan.customer_id} FROM {plan.table} WHERE {condition} "
                                  f"LIMIT {MAX_ROWS_SHOWN}")
    return [repr(r[0]) for r in cursor.fetchall()]


def _fetch(connection: Any, sql: str) -> tuple[list[str], dict[str, npt.NDArray[Any]]]:
    """Run ``sql`` and return its columns by name (numpy arrays; ids as the database gives them)."""
    cursor = _execute(connection, sql)
    names = [str(d[0]) for d in cursor.description]
    fetch_numpy = getattr(cursor, "fetchnumpy", None)
    if callable(fetch_numpy):  # DuckDB: columnar, no Python tuple per row
        raw = fetch_numpy()
        columns = {name: np.ma.getdata(raw[name]) for name in names}
    else:
        rows = cursor.fetchall()
        columns = {}
        for i, name in enumerate(names):
            col = np.empty(len(rows), dtype=object)  # np.array would turn equal-length lists into a 2-D array
            for j, row in enumerate(rows):
                col[j] = row[i]
            columns[name] = col
    out = {}
    for name in names:
        col = columns[name]
        kept_as_is = name in ("customer_id", "clvkit_first_period", "clvkit_periods")
        out[name] = col if kept_as_is else np.asarray(col, dtype=np.float64)
    return names, out


def _id_array(ids: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Ids as summarize() would hold them: integers as int64 when they fit, the rest as they come."""
    if ids.dtype.kind == "O" and ids.size and all(isinstance(v, int) and not isinstance(v, bool) for v in ids.tolist()):
        try:
            return np.asarray(ids.tolist(), dtype=np.int64)
        except OverflowError:
            return ids
    return ids


def _metadata(value: Any, plan: _Plan) -> _dt.datetime | None:
    return None if value is None else as_metadata(value, plan.times, plan.freq)


def _raise_empty(plan: _Plan, where: str) -> None:
    column = plan.monetary_value if plan.refunds == "net" and plan.monetary_value is not None else plan.datetime
    raise InvalidInputError([Problem(column.strip('"').replace('""', '"'),
                                     "leaves no customer with a purchase period in the calibration period",
                                     fix="With refunds='net' only periods of positive net spend count; check "
                                         "the ends and the data.")], context=where)


def _check_finite(plan: _Plan, columns: dict[str, npt.NDArray[Any]], where: str) -> None:
    """Spend sums that overflowed float64 in the database, named like :func:`clvkit.summarize` names them."""
    if plan.monetary_value is None:
        return
    bad = np.zeros(columns["frequency"].shape[0], dtype=bool)
    for name in ("monetary_value", "monetary_value_holdout"):
        if name in columns:
            bad |= ~np.isfinite(columns[name])
    if bad.any():
        raise InvalidInputError([Problem(plan.monetary_value.strip('"').replace('""', '"'),
                                         "sums to more than float64 can hold (overflow to infinity) for a customer",
                                         n_bad=int(bad.sum()), rows=tuple(np.flatnonzero(bad)[:MAX_ROWS_SHOWN]),
                                         fix="Rescale the amounts (e.g. to thousands) before summarizing.")],
                                context=where)
