"""The ``clvkit`` command line: ``demo``, ``fit`` and ``score``.

- ``clvkit demo`` runs the main job on the CDNOW sample that ships inside the package (no network):
  summary of the log, BG/NBD and Gamma-Gamma fits compared with the published estimates, a holdout check,
  the most valuable customers by CLV, and the models (JSON) and scores (CSV) written to a directory.
- ``clvkit fit LOG --customer-id C --datetime D [--monetary-value M]`` summarizes a transaction log (CSV
  or Parquet) and fits BG/NBD (and Gamma-Gamma when amounts are given); the models are saved as
  versioned JSON together with the summary settings.
- ``clvkit score LOG --models DIR --output scores.csv`` summarizes a log the same way, loads the models
  with :func:`clvkit.load_json` and writes per-customer P(alive), expected purchases, expected spend
  and discounted CLV.

Results go to stdout, progress to stderr. Every :class:`~clvkit.errors.ClvkitError` is reported as one
line on stderr (no traceback) with exit status 2, like a usage error; other I/O failures exit with 1.

CSV is read with the standard library (pandas is not needed); Parquet needs pyarrow (the ``frames``
extra). Times in CSV are ISO 8601 (``2024-03-01``, ``2024-03-01 14:05:00``, ``...+02:00``; times with
a UTC offset are converted to UTC) unless ``--date-format`` gives a :func:`~datetime.datetime.strptime`
format.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as _dt
import json
import math
import operator
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from ._csvio import csv_reader, parse_ids, parse_iso_time, write_csv
from ._texttable import table_lines
from ._timeunits import UNIT_DAYS, unit_days
from ._version import __version__
from .batch import CustomerSummary
from .errors import ClvkitError, InvalidInputError, Problem

__all__ = ["SummarySettings", "build_parser", "main", "read_log"]

FloatArray = npt.NDArray[np.float64]

#: Published CDNOW estimates the demo compares with. BG/NBD: Fader, Hardie & Lee (2005), "Counting your
#: customers the easy way", Marketing Science 24(2), section 5 (time in weeks, 39-week calibration).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
#: Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", note 025, on the same
#: 946 repeat customers of the calibration period.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}

#: Name of the file ``clvkit fit`` writes next to the models, recording how the log was summarized.
SETTINGS_FILE = "summary_settings.json"
SETTINGS_SCHEMA = "clvkit.cli.summary_settings"

_UNIT_NAMES = {"s": "seconds", "min": "minutes", "h": "hours", "D": "days", "W": "weeks", "M": "months",
               "Q": "quarters", "Y": "years"}


# ================================================================================================ output
class _Console:
    """Results to ``out``; progress and warnings to ``err`` (silenced by ``--quiet``)."""

    def __init__(self, out: TextIO, err: TextIO, *, verbose: bool = False, quiet: bool = False) -> None:
        self.out = out
        self.err = err
        self.verbose = verbose and not quiet
        self.quiet = quiet
        self._open_line = False

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        """A progress line on stderr."""
        if not self.quiet:
            self._close_line()
            self.err.write(text + "\n")
            self.err.flush()

    def detail(self, text: str) -> None:
        """A progress line shown only with ``--verbose``."""
        if self.verbose:
            self.note(text)

    def error(self, text: str) -> None:
        self._close_line()
        self.err.write(text + "\n")
        self.err.flush()

    def _close_line(self) -> None:
        if self._open_line:
            self.err.write("\n")
            self._open_line = False

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[Callable[[str], None]]:
        """``what ... done in 0.05 s`` on stderr around a block; the block may add a suffix to the line."""
        suffix: list[str] = []
        if not self.quiet:
            self._close_line()
            self.err.write(f"{what} ...")
            self.err.flush()
            self._open_line = True
        t0 = time.perf_counter()
        try:
            yield suffix.append
        except BaseException:
            if not self.quiet:
                if self._open_line:
                    self.err.write(" failed\n")
                    self._open_line = False
                else:
                    self.err.write(f"{what} failed\n")
            raise
        seconds = time.perf_counter() - t0
        if not self.quiet:
            extra = f" ({', '.join(suffix)})" if suffix else ""
            if self._open_line:
                self.err.write(f" done in {seconds:.2f} s{extra}\n")
            else:  # verbose lines were printed in between
                self.err.write(f"{what} done in {seconds:.2f} s{extra}\n")
            self.err.flush()
            self._open_line = False


def _one_line(exc: BaseException) -> str:
    """An error message on one line: multi-problem messages are joined with '; '."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, rest = lines[0], [line.removeprefix("- ") for line in lines[1:]]
    rest = [item.rstrip(".") for item in rest[:-1]] + rest[-1:]
    return head + (" " + "; ".join(rest) if rest else "")


def _money(x: float) -> str:
    return f"{x:,.2f}"


# ================================================================================================ input
def _date_option(text: str | None, name: str) -> _dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_iso_time(text, None)
    except ValueError:
        raise InvalidInputError(
            f"The '{name}' option must be an ISO 8601 date or time such as 1997-09-30. Got {text!r} instead."
        ) from None


@dataclass
class _Lines:
    """Maps 0-based data rows of a CSV file to file line numbers (blank lines are skipped)."""

    skipped: list[int]  # data-row positions before which a blank line was skipped (sorted)

    def line(self, row: int) -> int:
        return row + 2 + bisect.bisect_right(self.skipped, row)


def _bad_rows(column: str, message: str, bad: Sequence[int], lines: _Lines, fix: str) -> Problem:
    shown = tuple(lines.line(i) for i in bad[:5])
    return Problem(column, message, rows=shown, n_bad=len(bad), fix=fix, row_label="line")


def _parse_times(values: list[str], column: str, date_format: str | None, lines: _Lines,
                 problems: list[Problem]) -> npt.NDArray[Any]:
    # Logs repeat timestamps a lot: parse each distinct string once, then gather by code.
    distinct = {v: k for k, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(distinct.__getitem__, values), dtype=np.intp, count=len(values))
    parsed = np.empty(len(distinct), dtype="datetime64[us]")
    failed = np.zeros(len(distinct), dtype=bool)
    for text, k in distinct.items():
        try:
            parsed[k] = np.datetime64(parse_iso_time(text, date_format), "us")
        except (ValueError, OverflowError):
            parsed[k] = np.datetime64("NaT")
            failed[k] = True
    if failed.any():
        bad = np.flatnonzero(failed[codes]).tolist()
        example = values[bad[0]]
        expected = f"the format {date_format!r}" if date_format else "ISO 8601 (e.g. 2024-03-01 14:05:00)"
        problems.append(_bad_rows(column, f"cannot be read as a date/time in {expected}; got {example!r}",
                                  bad, lines, "Fix the values or pass --date-format, e.g. --date-format %Y%m%d."))
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
        missing = [n for n in names if n not in header]
        if missing:
            raise InvalidInputError(
                [Problem(n, "is not a column of the input", fix=f"Available columns: {header}.") for n in missing],
                context=where,
            )
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
    from ._frames import require

    pq = require("pyarrow.parquet")
    where = f"The input file {path}"
    try:
        available = list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInputError(
            [Problem(n, "is not a column of the input", fix=f"Available columns: {available}.") for n in missing],
            context=where,
        )
    try:
        table = pq.read_table(path, columns=list(names))
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise InvalidInputError(f"{where} cannot be read as Parquet: {exc}") from None
    # pyarrow -> numpy directly (no pandas): timestamps come back as datetime64 (UTC for zoned columns).
    out: dict[str, npt.NDArray[Any]] = {n: np.asarray(table.column(n).to_numpy()) for n in names}
    times = out[datetime_col]
    if times.dtype.kind in "OU" and times.size and isinstance(times[0], str):
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
        :func:`~datetime.datetime.strptime` format of the CSV time column; default ISO 8601.

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


# ================================================================================================ settings
@dataclass(frozen=True)
class SummarySettings:
    """How a log is turned into a summary; ``clvkit fit`` saves them so ``clvkit score`` can reuse them."""

    customer_id: str
    datetime: str
    monetary_value: str | None
    freq: str
    time_unit: str
    date_format: str | None = None

    def to_json(self) -> str:
        doc = {"schema": SETTINGS_SCHEMA, "schema_version": 1, "clvkit_version": __version__,
               "customer_id": self.customer_id, "datetime": self.datetime,
               "monetary_value": self.monetary_value, "freq": self.freq, "time_unit": self.time_unit,
               "date_format": self.date_format}
        return json.dumps(doc, indent=2)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], source: Path) -> SummarySettings:
        try:
            return cls(customer_id=str(doc["customer_id"]), datetime=str(doc["datetime"]),
                       monetary_value=None if doc.get("monetary_value") is None else str(doc["monetary_value"]),
                       freq=str(doc["freq"]), time_unit=str(doc["time_unit"]),
                       date_format=None if doc.get("date_format") is None else str(doc["date_format"]))
        except KeyError as exc:
            raise InvalidInputError(f"The settings file {source} lacks the field {exc}; rewrite it with "
                                    f"'clvkit fit'.") from None


def _summarize(columns: Mapping[str, npt.NDArray[Any]], settings: SummarySettings, *,
               observation_end: _dt.datetime | None, calibration_end: _dt.datetime | None,
               refunds: str) -> CustomerSummary:
    from ._summarize import summarize

    summary = summarize(columns, customer_id=settings.customer_id, datetime=settings.datetime,
                        monetary_value=settings.monetary_value, freq=settings.freq,
                        observation_end=observation_end, calibration_end=calibration_end,
                        refunds=refunds)  # type: ignore[arg-type]
    return summary if summary.time_unit == settings.time_unit else summary.with_time_unit(settings.time_unit)


# ================================================================================================ models
def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _fit_progress(console: _Console) -> Callable[[Any], None]:
    def report(p: Any) -> None:
        params = " ".join(f"{k}={v:.6g}" for k, v in p.params.items())
        console.detail(f"  {p.model} iteration {p.iteration}: log-likelihood {p.log_likelihood:.6f}  {params}")

    return report


def _run_fit(console: _Console, label: str, engine: Any, summary: CustomerSummary, who: str) -> Any:
    with console.step(f"fitting {label} on {who}") as add, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = engine.fit(summary, progress=_fit_progress(console) if console.verbose else None)
        info = model.fit_info
        if info is not None:
            add(f"{info.n_iterations} iterations")
    for w in caught:
        console.note(f"clvkit: warning: {_one_line(Exception(str(w.message)))}")
    return model


def _fit_models(console: _Console, summary: CustomerSummary, with_spend: bool) -> tuple[Any, Any | None]:
    from .valuation import BetaGeo, GammaGamma

    n = len(summary)
    bg = _run_fit(console, "BG/NBD", BetaGeo(), summary, f"{n:,} customers")
    gg = None
    if with_spend:
        repeat = int(np.count_nonzero(summary.frequency > 0))
        gg = _run_fit(console, "Gamma-Gamma", GammaGamma(), summary, f"{repeat:,} repeat customers")
    return bg, gg


def _param_block(console: _Console, title: str, model: Any, published: Mapping[str, float] | None = None,
                 published_ll: float | None = None, source: str = "") -> None:
    params = model.params.model_dump()
    se = model.standard_errors or {}
    headers = ["parameter", "estimate", "std. error"] + (["published"] if published else [])
    rows = []
    for name, value in params.items():
        row = [name, f"{value:.4f}", f"{se[name]:.4f}" if name in se else "n/a"]
        if published:
            row.append(f"{published[name]:g}")
        rows.append(row)
    console.print(title)
    for line in table_lines(headers, rows, indent="  "):
        console.print(line)
    info = model.fit_info
    if info is not None:
        ll = f"  log-likelihood {info.log_likelihood:.2f}"
        if published_ll is not None:
            ll += f" (published {published_ll:g})"
        console.print(ll + f"; {info.n_customers:,.0f} customers, {info.n_iterations} iterations, "
                      f"{'converged' if info.converged else 'NOT converged'}")
    if published:
        rel = {k: abs(params[k] - v) / abs(v) for k, v in published.items()}
        worst = max(rel, key=rel.__getitem__)
        printed_digits = all(
            round(params[k], max(len(f"{v:g}".partition(".")[2]), 0)) == v for k, v in published.items()
        )
        verdict = "equal at the published precision" if printed_digits else "close"
        console.print(f"  vs {source}: {verdict}; largest relative difference {rel[worst]:.2%} ({worst})")


def _model_files(models: Sequence[Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in models:
        path = directory / f"{_snake(m.model_name)}.json"
        path.write_text(m.to_json() + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _load_model_file(path: Path) -> Any:
    from .persistence import load_json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"The model file {path} does not exist.") from None
    try:
        return load_json(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {_one_line(exc)}") from None


def _load_models(model_dir: str | None, model_files: Sequence[str] | None
                 ) -> tuple[Any, Any | None, SummarySettings | None]:
    """The transaction model, the spend model (or None) and the saved summary settings (or None)."""
    from .valuation import SpendModel, TransactionModel

    files: list[Path] = [Path(f) for f in (model_files or [])]
    settings: SummarySettings | None = None
    if model_dir is not None:
        d = Path(model_dir)
        if not d.is_dir():
            raise InvalidInputError(f"The model directory {d} does not exist; write one with 'clvkit fit'.")
        for path in sorted(d.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("schema") == SETTINGS_SCHEMA:
                settings = SummarySettings.from_document(doc, path)
            elif isinstance(doc, dict) and doc.get("schema") == "clvkit.fitted_model":
                files.append(path)
    loaded = [(p, _load_model_file(p)) for p in files]
    transaction = [(p, m) for p, m in loaded if isinstance(m, TransactionModel)]
    spend = [(p, m) for p, m in loaded if isinstance(m, SpendModel)]
    where = f"in {model_dir}" if model_dir else "among the --model files"
    if not transaction:
        raise InvalidInputError(f"No transaction model (e.g. BG/NBD) {where}; fit one with 'clvkit fit'.")
    if len(transaction) > 1 or len(spend) > 1:
        names = [str(p) for p, _ in transaction + spend]
        raise InvalidInputError(f"Several models of one kind {where}: {names}. Pick one transaction model and "
                                f"at most one spend model with --model FILE.")
    return transaction[0][1], (spend[0][1] if spend else None), settings


# ================================================================================================ scoring
@dataclass
class _Scores:
    summary: CustomerSummary
    p_alive: FloatArray | None
    result: Any  # ClvResult
    period_label: str


def _period(text: str, time_unit: str) -> tuple[float | str, str]:
    """``--period``: a unit name, or a number of days; returns what clv() takes and a label."""
    if text in UNIT_DAYS:
        return text, _UNIT_NAMES[text].rstrip("s")
    try:
        days = float(text)
    except ValueError:
        raise InvalidInputError(
            f"The '--period' option must be one of {list(UNIT_DAYS)} or a number of days. Got {text!r} instead."
        ) from None
    step = unit_days(days, name="period", where="--period") / unit_days(time_unit)
    return step, f"{days:g}-day period"


def _score(summary: CustomerSummary, transaction: Any, spend: Any, *, horizon: int, period: str,
           discount_rate: float, margin: float) -> _Scores:
    from .valuation import clv

    if summary.time_unit != transaction.time_unit:
        summary = summary.with_time_unit(transaction.time_unit)
    step, label = _period(period, summary.time_unit)
    result = clv(transaction, spend, summary, horizon=horizon, discount_rate=discount_rate, margin=margin,
                 period=step)
    alive = getattr(transaction, "probability_alive", None)
    p_alive = np.asarray(alive(summary), dtype=np.float64) if callable(alive) else None
    return _Scores(summary, p_alive, result, label)


def _write_scores(path: Path, scores: _Scores) -> None:
    s, res = scores.summary, scores.result
    n = len(s)
    cols: dict[str, list[Any]] = {
        "customer_id": s.customer_id.tolist() if s.customer_id is not None else list(range(n)),
        "frequency": s.frequency.astype(np.int64).tolist(),
        "recency": s.recency.tolist(),
        "T": s.T.tolist(),
    }
    if s.monetary_value is not None:
        cols["monetary_value"] = s.monetary_value.tolist()
    if scores.p_alive is not None:
        cols["p_alive"] = scores.p_alive.tolist()
    cols["expected_purchases"] = res.expected_purchases.tolist()
    cols["expected_spend"] = res.expected_spend.tolist()
    cols["clv"] = res.clv.tolist()
    if s.frequency_holdout is not None:
        cols["frequency_holdout"] = s.frequency_holdout.astype(np.int64).tolist()
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, cols, lineterminator="\n")


def _print_scores(console: _Console, scores: _Scores, top: int) -> None:
    s, res = scores.summary, scores.result
    unit = s.time_unit
    what = (f"{res.horizon} {scores.period_label}s at {res.discount_rate * 100:g}% per {scores.period_label}, "
            f"margin {res.margin:g}")
    if top > 0:
        console.print(f"Top {min(top, len(s))} customers by CLV ({what}):")
        headers = ["customer_id", "frequency", f"recency ({unit})", f"T ({unit})", "P(alive)",
                   "E[purchases]", "E[spend]", "CLV"]
        rows = []
        for i in res.top(top).tolist():
            cid = s.customer_id[i].item() if s.customer_id is not None else i
            rows.append([str(cid), f"{s.frequency[i]:.0f}", f"{s.recency[i]:.2f}", f"{s.T[i]:.2f}",
                         "n/a" if scores.p_alive is None else f"{scores.p_alive[i]:.3f}",
                         f"{res.expected_purchases[i]:.2f}", _money(float(res.expected_spend[i])),
                         _money(float(res.clv[i]))])
        for line in table_lines(headers, rows, indent="  "):
            console.print(line)
        console.print("  (E[purchases]: expected repeat purchases over the horizon; E[spend]: expected spend per "
                      "purchase)")
    console.print(f"Customer equity ({s.total_weight:,.0f} customers, {what}): {_money(res.customer_equity)}")


def _holdout_check(console: _Console, summary: CustomerSummary, transaction: Any) -> None:
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        return
    predicted = float(np.sum(transaction.expected_purchases(summary, summary.duration_holdout)))
    actual = float(np.sum(summary.frequency_holdout))
    unit = _UNIT_NAMES.get(summary.time_unit, summary.time_unit)
    console.print(f"Holdout check ({summary.duration_holdout:g} {unit} after the calibration end):")
    console.print(f"  predicted repeat purchases  {predicted:10,.1f}")
    console.print(f"  actual repeat purchases     {actual:10,.0f}")
    if actual > 0:
        console.print(f"  predicted / actual          {predicted / actual:10.3f}")


# ================================================================================================ commands
def _cmd_demo(args: argparse.Namespace, console: _Console) -> int:
    from .datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions

    with console.step("loading the bundled CDNOW sample"):
        log = load_cdnow_transactions()
    settings = SummarySettings(customer_id="customer_id", datetime="date", monetary_value="amount",
                               freq="D", time_unit="W")
    with console.step("summarizing (daily periods, calibration to 1997-09-30, time in weeks)"):
        summary = _summarize(log, settings, observation_end=CDNOW_OBSERVATION_END,
                             calibration_end=CDNOW_CALIBRATION_END, refunds="error")
    dates = log["date"]
    calib = dates <= np.datetime64(CDNOW_CALIBRATION_END.date())
    first_day = str(dates.min())
    n = len(summary)
    repeat = int(np.count_nonzero(summary.frequency > 0))
    console.print("CDNOW sample (Fader, Hardie & Lee 2005): 1/10 of the customers who first bought in Q1 1997")
    console.print(f"  transactions        {len(dates):,} records, {_money(float(log['amount'].sum()))} dollars")
    console.print(f"  customers           {n:,}")
    console.print(f"  repeat customers    {repeat:,} ({repeat / n:.1%}) with a repeat purchase in calibration")
    console.print(f"  calibration period  {first_day} to {CDNOW_CALIBRATION_END.date()} "
                  f"({int(np.count_nonzero(calib)):,} records; T up to {summary.T.max():.2f} weeks)")
    console.print(f"  holdout period      to {CDNOW_OBSERVATION_END.date()} ({summary.duration_holdout:g} weeks, "
                  f"{int(np.count_nonzero(~calib)):,} records)")
    console.print()
    bg, gg = _fit_models(console, summary, with_spend=True)
    _param_block(console, "BG/NBD (time unit: weeks)", bg, PUBLISHED_BGNBD, PUBLISHED_BGNBD_LL,
                 "Fader, Hardie & Lee (2005)")
    console.print()
    _param_block(console, "Gamma-Gamma (spend per repeat purchase, dollars)", gg, PUBLISHED_GAMMA_GAMMA,
                 None, "Fader & Hardie (2013)")
    console.print()
    _holdout_check(console, summary, bg)
    console.print()
    with console.step("scoring"):
        scores = _score(summary, bg, gg, horizon=args.horizon, period=args.period,
                        discount_rate=args.discount_rate, margin=args.margin)
    console.print(f"Values as of the calibration end ({CDNOW_CALIBRATION_END.date()}):")
    _print_scores(console, scores, args.top)
    console.print()
    from ._cli_more import demo_tiering

    demo_tiering(console, scores.result.clv, summary.customer_id)
    console.print()
    from ._cli_more import demo_referrals

    demo_referrals(console, scores.result, np.asarray(summary.customer_id), args.top, Path(args.output))
    return _write_outputs(console, Path(args.output), [bg, gg], scores, None)


def _write_outputs(console: _Console, directory: Path, models: Sequence[Any], scores: _Scores | None,
                   settings: SummarySettings | None) -> int:
    with console.step(f"writing {directory}"):
        paths = _model_files(models, directory)
        if settings is not None:
            settings_path = directory / SETTINGS_FILE
            settings_path.write_text(settings.to_json() + "\n", encoding="utf-8")
            paths.append(settings_path)
        if scores is not None:
            scores_path = directory / "scores.csv"
            _write_scores(scores_path, scores)
            paths.append(scores_path)
    console.print()
    console.print("Wrote:")
    for p in paths:
        console.print(f"  {p}")
    return 0


def _read_and_summarize(args: argparse.Namespace, console: _Console, settings: SummarySettings) -> CustomerSummary:
    calibration_end = _date_option(args.calibration_end, "--calibration-end")
    observation_end = _date_option(args.observation_end, "--observation-end")
    with console.step(f"reading {args.input}") as add:
        columns = read_log(args.input, customer_id=settings.customer_id, datetime=settings.datetime,
                           monetary_value=settings.monetary_value, fmt=args.format, delimiter=args.delimiter,
                           date_format=settings.date_format)
        add(f"{len(columns[settings.customer_id]):,} rows")
    with console.step(f"summarizing (periods of {settings.freq}, time in {settings.time_unit})") as add:
        summary = _summarize(columns, settings, observation_end=observation_end, calibration_end=calibration_end,
                             refunds=args.refunds)
        add(f"{len(summary):,} customers")
    return summary


def _cmd_fit(args: argparse.Namespace, console: _Console) -> int:
    settings = SummarySettings(customer_id=args.customer_id, datetime=args.datetime,
                               monetary_value=args.monetary_value, freq=args.freq, time_unit=args.time_unit,
                               date_format=args.date_format)
    summary = _read_and_summarize(args, console, settings)
    repeat = int(np.count_nonzero(summary.frequency > 0))
    console.print(f"{len(summary):,} customers, {repeat:,} with repeat purchases; time unit "
                  f"{_UNIT_NAMES[summary.time_unit]}")
    console.print()
    bg, gg = _fit_models(console, summary, with_spend=settings.monetary_value is not None)
    _param_block(console, f"BG/NBD (time unit: {_UNIT_NAMES[summary.time_unit]})", bg)
    if gg is not None:
        console.print()
        _param_block(console, "Gamma-Gamma (spend per repeat purchase)", gg)
    if summary.frequency_holdout is not None:
        console.print()
        _holdout_check(console, summary, bg)
    models = [bg] if gg is None else [bg, gg]
    return _write_outputs(console, Path(args.output), models, None, settings)


def _cmd_score(args: argparse.Namespace, console: _Console) -> int:
    if args.models is None and not args.model:
        raise InvalidInputError("score needs the models: --models DIR (written by 'clvkit fit') or --model FILE.")
    transaction, spend, saved = _load_models(args.models, args.model)
    if args.customer_id is None and saved is None:
        raise InvalidInputError("score needs --customer-id and --datetime (a model directory written by "
                                "'clvkit fit' records them; --model files do not).")
    base = saved or SummarySettings(customer_id="", datetime="", monetary_value=None, freq="D",
                                    time_unit=transaction.time_unit)
    monetary = args.monetary_value if args.monetary_value is not None else base.monetary_value
    if args.spend is not None:
        monetary = args.monetary_value  # a fixed spend per purchase needs no amounts
    settings = SummarySettings(
        customer_id=args.customer_id or base.customer_id,
        datetime=args.datetime or base.datetime,
        monetary_value=monetary,
        freq=args.freq or base.freq,
        time_unit=transaction.time_unit,
        date_format=args.date_format if args.date_format is not None else base.date_format,
    )
    if not settings.datetime:
        raise InvalidInputError("score needs --datetime (the name of the time column).")
    spend_model: Any = args.spend if args.spend is not None else spend
    if spend_model is None:
        raise InvalidInputError("score needs a spend model (fit with --monetary-value, which saves a Gamma-Gamma "
                                "model) or a fixed spend per purchase with --spend AMOUNT.")
    summary = _read_and_summarize(args, console, settings)
    with console.step("scoring") as add:
        scores = _score(summary, transaction, spend_model, horizon=args.horizon, period=args.period,
                        discount_rate=args.discount_rate, margin=args.margin)
        add(f"{len(summary):,} customers")
    output = Path(args.output)
    with console.step(f"writing {output}"):
        _write_scores(output, scores)
    if summary.frequency_holdout is not None:
        _holdout_check(console, scores.summary, transaction)
        console.print()
    _print_scores(console, scores, args.top)
    from ._cli_more import score_composite

    score_composite(console, args, scores, args.top)
    console.print()
    console.print(f"Wrote:\n  {output}")
    return 0


# ================================================================================================ parser
def _parse_number(text: str, kind: type[int] | type[float]) -> Any:
    """``text`` as a whole number or a number, or argparse's usage error."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise argparse.ArgumentTypeError(message)


def _positive_int(text: str) -> int:
    value: int = _parse_number(text, int)
    _check(value >= 1, f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value: int = _parse_number(text, int)
    _check(value >= 0, f"must be at least 0, got {value}")
    return value


def _rate(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(0.0 <= value < 1.0, f"must be in [0, 1), got {value:g} (0.01 means 1% per period)")
    return value


def _fraction(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(0.0 <= value <= 1.0, f"must be in [0, 1], got {value:g}")
    return value


def _amount(text: str) -> float:
    value: float = _parse_number(text, float)
    _check(math.isfinite(value) and value >= 0.0, f"must be finite and >= 0, got {value:g}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``clvkit`` command (exposed for documentation tools and tests)."""
    parser = argparse.ArgumentParser(
        prog="clvkit",
        description="Customer lifetime value from a transaction log (BG/NBD + Gamma-Gamma fits, scores, CLV), "
                    "tiering and binding reports.",
        epilog="Run 'clvkit demo' for the whole job on the bundled CDNOW sample.",
    )
    parser.add_argument("--version", action="version", version=f"clvkit {__version__}")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="also report every optimiser iteration")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")

    value = argparse.ArgumentParser(add_help=False)
    g = value.add_argument_group("valuation")
    g.add_argument("--horizon", type=_positive_int, default=12, help="number of discounting periods (default 12)")
    g.add_argument("--period", default="M",
                   help="length of one period: a unit (s, min, h, D, W, M, Q, Y; M = 30.44 days, the mean "
                        "month) or a number of days, e.g. 30 (default M)")
    g.add_argument("--discount-rate", type=_rate, default=0.01,
                   help="discount rate per period, in [0, 1) (default 0.01: 1%% a month)")
    g.add_argument("--margin", type=_fraction, default=1.0,
                   help="profit margin on spend, in [0, 1] (default 1.0: value in revenue)")
    g.add_argument("--top", type=_non_negative_int, default=10, help="print the N most valuable customers "
                   "(default 10)")

    log_in = argparse.ArgumentParser(add_help=False)
    g = log_in.add_argument_group("input")
    g.add_argument("input", metavar="INPUT", help="transaction log: .csv (.csv.gz, .tsv) or .parquet")
    g.add_argument("--format", choices=("csv", "parquet"), help="input format (default: from the file name)")
    g.add_argument("--delimiter", help="CSV field separator (default ',', tab for .tsv)")
    g.add_argument("--date-format", help="strptime format of the CSV time column, e.g. %%Y%%m%%d "
                   "(default ISO 8601)")
    g.add_argument("--calibration-end", metavar="DATE",
                   help="end of the calibration period (inclusive); later rows form the holdout")
    g.add_argument("--observation-end", metavar="DATE", help="end of the observation (default: last transaction)")
    g.add_argument("--refunds", choices=("error", "drop", "net"), default="error",
                   help="negative amounts: reject (default), drop, or net against the same period")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", parents=[common, value], help="the whole job on the bundled CDNOW sample",
                          description="Summarize the bundled CDNOW sample (calibration to 1997-09-30, weeks), "
                                      "fit BG/NBD and Gamma-Gamma, compare with the published estimates, check "
                                      "the holdout, rank customers by CLV and write models and scores.")
    demo.add_argument("--output", "-o", default="clvkit-demo-output", metavar="DIR",
                      help="directory for the JSON models and scores.csv (default ./clvkit-demo-output)")
    demo.set_defaults(handler=_cmd_demo)

    fit = sub.add_parser("fit", parents=[common, log_in], help="fit BG/NBD (+ Gamma-Gamma) on a transaction log",
                         description="Summarize a transaction log, fit BG/NBD (and Gamma-Gamma when "
                                     "--monetary-value is given) and save the models as JSON.")
    fit.add_argument("--customer-id", required=True, metavar="COL", help="customer id column")
    fit.add_argument("--datetime", required=True, metavar="COL", help="transaction time column")
    fit.add_argument("--monetary-value", metavar="COL", help="amount column (fits Gamma-Gamma too)")
    fit.add_argument("--freq", default="D", choices=list(UNIT_DAYS),
                     help="period in which purchases are counted once (default D)")
    fit.add_argument("--time-unit", default="W", choices=list(UNIT_DAYS),
                     help="time unit of recency, T and the parameters (default W, as the papers)")
    fit.add_argument("--output", "-o", default="clvkit-model", metavar="DIR",
                     help="directory for the JSON models (default ./clvkit-model)")
    fit.set_defaults(handler=_cmd_fit)

    score = sub.add_parser("score", parents=[common, log_in, value], help="score customers with saved models",
                           description="Summarize a transaction log as 'clvkit fit' did and write per-customer "
                                       "P(alive), expected purchases, expected spend and CLV.")
    src = score.add_argument_group("models")
    src.add_argument("--models", metavar="DIR", help="directory written by 'clvkit fit'")
    src.add_argument("--model", action="extend", nargs="+", metavar="FILE",
                     help="JSON model files: a transaction model and optionally a spend model")
    src.add_argument("--spend", type=_amount, metavar="AMOUNT",
                     help="fixed spend per purchase instead of a Gamma-Gamma model")
    score.add_argument("--customer-id", metavar="COL", help="customer id column (default: as saved by fit)")
    score.add_argument("--datetime", metavar="COL", help="transaction time column (default: as saved by fit)")
    score.add_argument("--monetary-value", metavar="COL", help="amount column (default: as saved by fit)")
    score.add_argument("--freq", choices=list(UNIT_DAYS), help="purchase period (default: as saved by fit, else D)")
    score.add_argument("--output", "-o", required=True, metavar="FILE", help="CSV file for the scores")
    score.set_defaults(handler=_cmd_score)

    from ._cli_more import add_referral_options, add_subcommands

    add_referral_options(score, _positive_int, _fraction)

    add_subcommands(sub, common, _non_negative_int)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``clvkit`` command line; return the exit status.

    Parameters
    ----------
    argv:
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 2 for a usage error or any :class:`~clvkit.errors.ClvkitError` (reported as one
        line on stderr); 1 for other I/O failures; 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    clvkit ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    console = _Console(sys.stdout, sys.stderr, verbose=getattr(args, "verbose", False),
                       quiet=getattr(args, "quiet", False))
    handler: Callable[[argparse.Namespace, _Console], int] = args.handler
    try:
        return handler(args, console)
    except ClvkitError as exc:
        console.error(f"clvkit {args.command}: error: {_one_line(exc)}")
        return 2
    except OSError as exc:
        console.error(f"clvkit {args.command}: error: {exc}")
        return 1
    except KeyboardInterrupt:
        console.error("clvkit: interrupted")
        return 130
    finally:
        sys.stdout.flush()
