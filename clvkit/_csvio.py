"""CSV files in and out: the one reader behind every CSV input of clvkit, and the one writer.

Transaction logs (``clvkit fit``/``score``), the ``clvkit tier`` input, referral files
(:func:`clvkit.valuation.read_referrals`) and binding folders (:func:`clvkit.binding.read_binding_dir`) are
all opened by :func:`csv_reader`, so every one of them

- reads UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" export starts with one; read as plain
  ``utf-8`` it sticks to the first column name as ``'\\ufeff'``);
- reads gzip-compressed files (a name ending in ``.gz``) as they stream;
- reports bytes that are not UTF-8 as an :class:`~clvkit.errors.InvalidInputError` naming the file and the
  line, and malformed CSV or gzip as one, too (never a raw ``UnicodeDecodeError``).

Also the two rules for cells that the readers share: :func:`parse_ids` (whole-number ids become int64) and
:func:`parse_iso_time`. This module imports nothing of clvkit but :mod:`clvkit.errors`, so any layer may use it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as _dt
import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

from .errors import InvalidInputError

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["CsvSource", "csv_reader", "parse_ids", "parse_iso_time", "read_rows", "write_csv"]

#: A file to read: a path, or a :class:`importlib.abc.Traversable` (files bundled in the package).
CsvSource = Union[str, "os.PathLike[str]", "Traversable"]


def _traversable(source: CsvSource) -> Traversable:
    return Path(source) if isinstance(source, (str, os.PathLike)) else source


@contextlib.contextmanager
def _binary(source: Traversable) -> Iterator[IO[bytes] | gzip.GzipFile]:
    with source.open("rb") as raw:
        if not source.name.endswith(".gz"):
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:  # closes itself, not ``raw``
            yield unzipped


def _first_undecodable(source: Traversable) -> tuple[int, int, str]:
    """Line (from 1), byte within that line (from 1) and reason of the first bytes that are not UTF-8.

    Run only after decoding failed: the text layer decodes in chunks, so its error positions are relative to a
    chunk, not to the file. Splitting at ``\\n`` is safe, as no multi-byte UTF-8 sequence contains that byte.
    """
    with _binary(source) as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start + 1, str(exc.reason)
    return 0, 0, "undecodable bytes"  # pragma: no cover - decoding the same bytes failed before


@contextlib.contextmanager
def csv_reader(source: CsvSource, *, where: str, delimiter: str = ",",
               skipinitialspace: bool = False) -> Iterator[Iterator[list[str]]]:
    """A :func:`csv.reader` over ``source`` (header row included), with the errors of reading it typed.

    Parameters
    ----------
    source:
        The file (``.gz``: gzip-compressed); UTF-8 with or without a byte-order mark.
    where:
        How messages name the file, e.g. ``"The input file log.csv"``.
    delimiter, skipinitialspace:
        As for :func:`csv.reader`.

    Raises
    ------
    InvalidInputError
        For bytes that are not UTF-8 (naming the line), malformed CSV or a broken gzip file, raised while the
        rows are read. ``OSError`` (a missing file, say) passes through.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "excel.csv"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbfcustomer_id,value\\nc1,2.5\\n")  # Excel's "CSV UTF-8"
    >>> with csv_reader(path, where="The file excel.csv") as rows:
    ...     list(rows)
    [['customer_id', 'value'], ['c1', '2.5']]
    >>> _ = path.write_bytes("customer_id,value\\nc\\xe9,2.5\\n".encode("latin-1"))
    >>> with csv_reader(path, where="The file excel.csv") as rows:
    ...     list(rows)
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: The file excel.csv is not UTF-8 text (invalid continuation byte at line 2, byte 2). Save it as UTF-8 CSV.
    """  # noqa: E501
    entry = _traversable(source)
    try:
        with _binary(entry) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            yield csv.reader(text, delimiter=delimiter, skipinitialspace=skipinitialspace)
    except UnicodeDecodeError:
        line, byte, reason = _first_undecodable(entry)
        raise InvalidInputError(f"{where} is not UTF-8 text ({reason} at line {line}, byte {byte}). "
                                f"Save it as UTF-8 CSV.") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{where} is not valid CSV: {exc}.") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidInputError(f"{where} is not a valid gzip file: {exc}.") from None


def read_rows(source: CsvSource, *, where: str, delimiter: str = ",",
              skipinitialspace: bool = False) -> list[list[str]]:
    """Every row of a CSV file, the header first; see :func:`csv_reader`."""
    with csv_reader(source, where=where, delimiter=delimiter, skipinitialspace=skipinitialspace) as rows:
        return list(rows)


def write_csv(path: str | os.PathLike[str], columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]], *,
              lineterminator: str = "\r\n") -> None:
    """Write columns of equal length as a UTF-8 CSV file (no byte-order mark), the names as the header."""
    values = [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns.values()]
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=lineterminator)
        writer.writerow(list(columns))
        writer.writerows(zip(*values, strict=True))


_CANONICAL_INT = re.compile(r"0|[1-9][0-9]{0,17}")


def parse_ids(values: Sequence[str]) -> npt.NDArray[Any]:
    """Ids read from text: int64 when every one is a whole number in canonical form, else text.

    Canonical means ASCII digits, no sign, no leading zero and at most 18 digits, so the integers print back
    exactly as they were read and ids read from different files match; ``"007"`` or ``"C-12"`` stay text.

    Examples
    --------
    >>> parse_ids(["12", "3"]).dtype.name, parse_ids(["12", "007"]).tolist()
    ('int64', ['12', '007'])
    """
    if values and all(map(_CANONICAL_INT.fullmatch, values)):
        return np.fromiter(map(int, values), dtype=np.int64, count=len(values))
    return np.array(values, dtype=str)


def parse_iso_time(text: str, date_format: str | None = None) -> _dt.datetime:
    """One timestamp, ISO 8601 (or :func:`~datetime.datetime.strptime` ``date_format``), as naive UTC.

    Surrounding spaces are ignored and a ``Z`` suffix means UTC; a time with a UTC offset is converted to UTC.

    Raises
    ------
    ValueError
        When ``text`` is not such a time.

    Examples
    --------
    >>> parse_iso_time(" 2024-03-01T14:05:00+02:00 "), parse_iso_time("2024-03-01Z")
    (datetime.datetime(2024, 3, 1, 12, 5), datetime.datetime(2024, 3, 1, 0, 0))
    """
    s = text.strip()
    if date_format is not None:
        value = _dt.datetime.strptime(s, date_format)
    else:
        if s.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read the Z suffix
            s = s[:-1] + "+00:00"
        value = _dt.datetime.fromisoformat(s)
    if value.utcoffset() is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value
