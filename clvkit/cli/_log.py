"""Reading a transaction log: the columns :func:`clvkit.summarize` needs, from CSV or Parquet.

CSV is read with the standard library through :func:`clvkit._csvio.csv_reader` (pandas is not needed; a UTF-8
byte-order mark and ``.gz`` files are fine); Parquet needs pyarrow (the ``frames`` extra). Times in CSV are
ISO 8601 (``2024-03-01``, ``2024-03-01 14:05:00``, ``...+02:00``; times with a UTC offset are converted to
UTC) unless ``--date-format`` gives a :func:`~datetime.datetime.strptime` format, or ``yyyymmdd`` (whole
numbers such as ``19970101``) or ``days`` (days since 1970-01-01). Unreadable values are reported with their
file line numbers, all problems at once.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._csvio import csv_reader, parse_ids, parse_time_and_zone
from .._timecolumns import DAYS_MAX, DAYS_MIN, days_to_dates, yyyymmdd_to_dates
from ..errors import InvalidInputError, Problem

__all__ = ["read_log"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class _Lines:
    """Maps 0-based data rows of a CSV file to file line numbers (blank lines are skipped)."""

    skipped: list[int]  # data-row positions before which a blank line was skipped (sorted)

    def line(self, row: int) -> int:
        return row + 2 + bisect.bisect_right(self.skipped, row)


def _bad_rows(column: str, message: str, bad: Sequence[int], lines: _Lines, fix: str) -> Problem:
    shown = tuple(lines.line(i) for i in bad[:5])
    return Problem(column, message, rows=shown, n_bad=len(bad), fix=fix, row_label="line")


#: ``--date-format`` values that read numbers rather than text.
NUMERIC_DATE_FORMATS = ("days", "yyyymmdd")


def _parse_number_times(values: list[str], column: str, date_format: str, lines: _Lines,
                        problems: list[Problem]) -> npt.NDArray[Any]:
    """Times written as numbers: ``yyyymmdd`` (19970101) or ``days`` since 1970-01-01."""
    distinct = {v: k for k, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(distinct.__getitem__, values), dtype=np.intp, count=len(values))
    numbers = np.full(len(distinct), np.nan)
    text_bad = np.zeros(len(distinct), dtype=bool)
    for text, k in distinct.items():
        try:
            numbers[k] = float(text)
        except ValueError:
            text_bad[k] = True
    if date_format == "yyyymmdd":
        dates, bad = yyyymmdd_to_dates(numbers)
        what = "a YYYYMMDD date (month 01-12, day within the month)"
        fix = "Write each date as a whole number YYYYMMDD, e.g. 19970101."
    else:
        dates, bad = days_to_dates(numbers)
        what = f"a number of days since 1970-01-01 in [{DAYS_MIN}, {DAYS_MAX}]"
        fix = "Write each time as a finite number of days since 1970-01-01, e.g. 10227 for 1998-01-01."
    if bad.any():
        rows = np.flatnonzero(bad[codes]).tolist()
        problems.append(_bad_rows(column, f"cannot be read as {what} (--date-format {date_format}); got "
                                  f"{values[rows[0]]!r}", rows, lines, fix))
    out: npt.NDArray[Any] = dates.astype("datetime64[us]")[codes]
    return out


def _parse_times(values: list[str], column: str, date_format: str | None, lines: _Lines,
                 problems: list[Problem]) -> npt.NDArray[Any]:
    if date_format in NUMERIC_DATE_FORMATS:
        return _parse_number_times(values, column, date_format, lines, problems)
    # Logs repeat timestamps a lot: parse each distinct string once, then gather by code.
    distinct = {v: k for k, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(distinct.__getitem__, values), dtype=np.intp, count=len(values))
    parsed = np.empty(len(distinct), dtype="datetime64[us]")
    failed = np.zeros(len(distinct), dtype=bool)
    aware = np.zeros(len(distinct), dtype=bool)
    for text, k in distinct.items():
        try:
            value, aware[k] = parse_time_and_zone(text, date_format)
            parsed[k] = np.datetime64(value, "us")
        except (ValueError, OverflowError):
            parsed[k] = np.datetime64("NaT")
            failed[k] = True
    # As clvkit.summarize refuses a column of naive and aware datetimes: the naive ones' zone is unknown, so
    # converting only the others to UTC would shift them against each other. Offsets alone are instants.
    readable = np.flatnonzero(~failed[codes])
    if readable.size:
        first_aware = bool(aware[codes[readable[0]]])
        mixed = (~failed & (aware != first_aware))[codes]
        if mixed.any():
            shown = "has a UTC offset" if first_aware else "is naive"
            problems.append(_bad_rows(
                column, f"mixes time zones (the first value {shown}, these lines differ)",
                np.flatnonzero(mixed).tolist(), lines,
                "Give every time a UTC offset (e.g. +00:00), or none; a column mixing aware and naive values is "
                "usually a parsing mistake."))
    if failed.any():
        bad = np.flatnonzero(failed[codes]).tolist()
        example = values[bad[0]]
        expected = f"the format {date_format!r}" if date_format else "ISO 8601 (e.g. 2024-03-01 14:05:00)"
        problems.append(_bad_rows(column, f"cannot be read as a date/time in {expected}; got {example!r}",
                                  bad, lines, "Fix the values or pass --date-format: a strptime format such as "
                                  "%d/%m/%Y, or yyyymmdd or days for numbers."))
    return parsed[codes]


def _parse_amounts(values: list[str], column: str, lines: _Lines, problems: list[Problem]) -> FloatArray:
    try:
        return np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except ValueError:
        pass
    out = np.empty(len(values))
    bad: list[int] = []
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            out[i] = math.nan
            bad.append(i)
    problems.append(_bad_rows(column, f"cannot be read as a number; got {values[bad[0]]!r}", bad, lines,
                              "Use plain decimal numbers (a dot as decimal separator, no currency sign)."))
    return out


def _parse_ids(values: list[str], column: str, lines: _Lines, problems: list[Problem]) -> npt.NDArray[Any]:
    if not all(values):
        empty = [i for i, v in enumerate(values) if not v]
        problems.append(_bad_rows(column, "is empty", empty, lines, "Every transaction needs a customer id."))
    return parse_ids(values)  # int64 ids sort faster than text


def _careful_scan(reader: Iterator[list[str]], idx: Sequence[int]
                  ) -> tuple[list[list[str]], list[int], list[int]]:
    """Row by row: skips blank lines and pads short rows, remembering both for the error report."""
    cols: list[list[str]] = [[] for _ in idx]
    appends = [c.append for c in cols]
    skipped: list[int] = []
    short: list[int] = []
    need = max(idx) + 1
    n_rows = 0
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            skipped.append(n_rows)
            continue
        if len(row) < need:
            short.append(n_rows)
            row = row + [""] * (need - len(row))
        for app, i in zip(appends, idx, strict=True):
            app(row[i].strip())
        n_rows += 1
    return cols, skipped, short


def _fast_scan(reader: Iterator[list[str]], idx: Sequence[int]) -> list[list[str]] | None:
    """All rows through one C-level ``itemgetter`` map; ``None`` at the first blank or short row."""
    getter = operator.itemgetter(*idx)
    try:
        picked = list(map(getter, reader))
    except IndexError:
        return None
    if len(idx) == 1:
        return [[v.strip() for v in picked]]
    if not picked:
        return [[] for _ in idx]
    return [list(map(str.strip, col)) for col in zip(*picked, strict=True)]


def _require_columns(names: Sequence[str], available: list[str], where: str) -> None:
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInputError(
            [Problem(n, "is not a column of the input", fix=f"Available columns: {available}.") for n in missing],
            context=where,
        )


def _read_csv(path: Path, names: Sequence[str], *, datetime_col: str, monetary_col: str | None,
              delimiter: str, date_format: str | None) -> dict[str, npt.NDArray[Any]]:
    where = f"The input file {path}"
    skipped: list[int] = []
    short: list[int] = []
    with csv_reader(path, where=where, delimiter=delimiter, skipinitialspace=True) as reader:
        header = next(reader, None)
        if header is None:
            raise InvalidInputError(f"{where} is empty; it needs a header row naming the columns.")
        header = [h.strip() for h in header]
        _require_columns(names, header, where)
        idx = [header.index(n) for n in names]
        fast = _fast_scan(reader, idx)
    if fast is not None:
        cols = fast
    else:  # a blank or short row: read again, carefully, to report or skip it
        with csv_reader(path, where=where, delimiter=delimiter, skipinitialspace=True) as reader:
            next(reader, None)
            cols, skipped, short = _careful_scan(reader, idx)
    n_rows = len(cols[0])
    need = max(idx) + 1
    lines = _Lines(skipped)
    problems: list[Problem] = []
    if short:
        problems.append(_bad_rows("(row)", f"has fewer than {need} fields", short, lines,
                                  "Check the delimiter (--delimiter) and quoting."))
    if n_rows == 0:
        raise InvalidInputError(f"{where} has a header but no data rows.")
    by_name = dict(zip(names, cols, strict=True))
    out: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        if name == datetime_col:
            out[name] = _parse_times(by_name[name], name, date_format, lines, problems)
        elif name == monetary_col:
            out[name] = _parse_amounts(by_name[name], name, lines, problems)
        else:
            out[name] = _parse_ids(by_name[name], name, lines, problems)
    if problems:
        raise InvalidInputError(problems, context=where)
    return out


def _read_parquet(path: Path, names: Sequence[str], *, datetime_col: str,
                  date_format: str | None) -> dict[str, npt.NDArray[Any]]:
    from .._frames import require

    pq = require("pyarrow.parquet")
    where = f"The input file {path}"
    try:
        available = list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    _require_columns(names, available, where)
    try:
        table = pq.read_table(path, columns=list(names))
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    # pyarrow -> numpy directly (no pandas): timestamps come back as datetime64 (UTC for zoned columns).
    out: dict[str, npt.NDArray[Any]] = {n: np.asarray(table.column(n).to_numpy()) for n in names}
    times = out[datetime_col]
    if date_format in NUMERIC_DATE_FORMATS and times.dtype.kind in "iuf":  # numbers: read as the format says
        problems_n: list[Problem] = []
        out[datetime_col] = _parse_number_times([repr(v) for v in times.tolist()], datetime_col, date_format,
                                                _Lines([]), problems_n)
        if problems_n:
            raise InvalidInputError(problems_n, context=where)
    elif times.dtype.kind in "OU" and times.size and isinstance(times[0], str):
        problems: list[Problem] = []
        out[datetime_col] = _parse_times([str(v) for v in times.tolist()], datetime_col, date_format,
                                         _Lines([]), problems)
        if problems:
            raise InvalidInputError(problems, context=where)
    return out


def _input_format(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def read_log(path: str | Path, *, customer_id: str, datetime: str, monetary_value: str | None = None,
             fmt: str | None = None, delimiter: str | None = None,
             date_format: str | None = None) -> dict[str, npt.NDArray[Any]]:
    """Read the columns of a transaction log file that :func:`clvkit.summarize` needs.

    Parameters
    ----------
    path:
        A CSV file (optionally gzip-compressed, ``.csv.gz``; ``.tsv`` is tab-separated) or a Parquet file
        (``.parquet``/``.pq``; needs pyarrow, the ``frames`` extra).
    customer_id, datetime, monetary_value:
        Column names.
    fmt:
        ``"csv"`` or ``"parquet"``; default from the file name.
    delimiter:
        CSV field separator (default ``","``, or a tab for ``.tsv``).
    date_format:
        :func:`~datetime.datetime.strptime` format of the CSV time column, or ``"yyyymmdd"`` (whole numbers
        such as 19970101) or ``"days"`` (days since 1970-01-01; a fraction is part of a day); default ISO 8601.

    Returns
    -------
    dict
        Column name to numpy array: ids (int64 when every id is a plain whole number, else text),
        ``datetime64[us]`` times (naive; UTC for values that carried an offset) and float64 amounts.

    Raises
    ------
    InvalidInputError
        If the file does not exist or cannot be parsed, or a column is missing; unreadable values are
        reported with their line numbers, all problems at once.
    MissingDependencyError
        For Parquet without pyarrow.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"The input file {p} does not exist (or is not a file).")
    names = list(dict.fromkeys([customer_id, datetime] + ([monetary_value] if monetary_value else [])))
    kind = _input_format(p, fmt)
    if kind == "parquet":
        return _read_parquet(p, names, datetime_col=datetime, date_format=date_format)
    if delimiter is None:
        delimiter = "\t" if ".tsv" in [s.lower() for s in p.suffixes] else ","
    return _read_csv(p, names, datetime_col=datetime, monetary_col=monetary_value, delimiter=delimiter,
                     date_format=date_format)
