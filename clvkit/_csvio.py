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
import errno
import gzip
import io
import os
import re
import secrets
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

from .errors import InvalidInputError

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["FORMULA_PREFIXES", "CsvSource", "atomic_output", "csv_reader", "neutralize_formula", "parse_ids",
           "parse_iso_time", "parse_time_and_zone", "read_rows", "write_csv", "write_csv_to"]

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
    number = 0
    try:
        with _binary(source) as fh:
            for number, line in enumerate(fh, start=1):
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8):]
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return number, exc.start + 1, str(exc.reason)
    except (gzip.BadGzipFile, EOFError, zlib.error):  # a broken .gz: the bad bytes were in its last, cut line
        return number + 1, 0, "undecodable bytes in the last line of a gzip file that ends early"
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
        at = f"at line {line}, byte {byte}" if byte else f"at line {line}"
        raise InvalidInputError(f"{where} is not UTF-8 text ({reason} {at}). Save it as UTF-8 CSV.") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{where} is not valid CSV: {exc}.") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidInputError(f"{where} is not a valid gzip file: {exc}.") from None


def read_rows(source: CsvSource, *, where: str, delimiter: str = ",",
              skipinitialspace: bool = False) -> list[list[str]]:
    """Every row of a CSV file, the header first; see :func:`csv_reader`."""
    with csv_reader(source, where=where, delimiter=delimiter, skipinitialspace=skipinitialspace) as rows:
        return list(rows)


#: First characters that make a spreadsheet read a cell as a formula (OWASP's "CSV injection" list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralize_formula(cell: Any) -> Any:
    """``cell`` with a single quote in front when it is text a spreadsheet would run as a formula.

    OWASP's rule for CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``. Numbers (``int``/``float``) are never changed, nor is text that is a plain
    decimal number such as ``"-2.5"`` (a spreadsheet reads it as that number, not as a formula).

    Examples
    --------
    >>> [neutralize_formula(c) for c in ["=1+1", "@SUM(1)", "-2+3", "-2.5", -2.5, "ok"]]
    ["'=1+1", "'@SUM(1)", "'-2+3", '-2.5', -2.5, 'ok']
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _temporary_sibling(path: Path, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new, empty file next to ``path`` (same folder, so ``os.replace`` is atomic): descriptor and path.

    Created with ``O_EXCL`` and mode 0o666 so the process umask applies, as for a plain ``open``
    (:func:`tempfile.mkstemp` would make it 0o600 and the output would lose its usual permissions).
    """
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           0o666), candidate
        except FileExistsError:  # pragma: no cover - 2**32 names
            continue
    raise FileExistsError(f"no free temporary name next to {path}")  # pragma: no cover


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only when the block ends without an error.

    The bytes go to a temporary file in the same folder, which is flushed, ``fsync``-ed and renamed over
    ``path`` with :func:`os.replace` (atomic on POSIX and Windows). If anything fails - disk full, a
    permission, an exception in the block - the temporary file is removed and ``path`` keeps its old
    content (or stays absent): a reader never sees a half-written file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(path) as fh:
    ...     _ = fh.write(b"first")
    >>> try:
    ...     with atomic_output(path) as fh:
    ...         _ = fh.write(b"half of the sec")
    ...         raise OSError("disk full")
    ... except OSError:
    ...     pass
    >>> path.read_bytes(), sorted(p.name for p in path.parent.iterdir())
    (b'first', ['out.txt'])
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(target))
    try:
        fd, temporary = _temporary_sibling(target)
    except OSError as exc:  # e.g. permission denied: name the output, not the temporary file
        raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(target)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        # A failed write() names no file (disk full, file too large), a failed rename the temporary one:
        # name the output the user asked for.
        if exc.filename is None or exc.filename == os.fspath(temporary):
            raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(target)) from exc
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_directory(target.parent)


def write_csv(path: str | os.PathLike[str], columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]], *,
              lineterminator: str = "\r\n", neutralize_formulas: bool = True) -> None:
    """Write columns of equal length as a UTF-8 CSV file (no byte-order mark), the names as the header.

    The file is replaced atomically (:func:`atomic_output`): after an error the old file, if any, is intact
    and no partial file is left.

    Text cells that a spreadsheet would run as a formula - starting with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return - get a leading single quote (``'=1+1``), OWASP's rule against CSV injection
    (:func:`neutralize_formula`). Numbers are written unchanged, and so is text that is a plain decimal
    number. Pass ``neutralize_formulas=False`` to write every cell as it is.
    """
    with atomic_output(path) as fh:
        write_csv_to(fh, columns, lineterminator=lineterminator, neutralize_formulas=neutralize_formulas)


def write_csv_to(raw: IO[bytes], columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]], *,
                 lineterminator: str = "\r\n", neutralize_formulas: bool = True) -> None:
    """:func:`write_csv` into an open binary file (e.g. one of :func:`atomic_output`), which stays open."""
    values = [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns.values()]
    header: list[Any] = list(columns)
    if neutralize_formulas:
        header = [neutralize_formula(h) for h in header]
        values = [[neutralize_formula(v) for v in col] if any(isinstance(v, str) for v in col) else col
                  for col in values]
    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        writer = csv.writer(fh, lineterminator=lineterminator)
        writer.writerow(header)
        writer.writerows(zip(*values, strict=True))
        fh.flush()
    finally:
        fh.detach()  # leave ``raw`` open for its owner


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


def parse_time_and_zone(text: str, date_format: str | None = None) -> tuple[_dt.datetime, bool]:
    """:func:`parse_iso_time`, and whether the text carried a UTC offset (readers refuse a mix of both)."""
    s = text.strip()
    if date_format is not None:
        value = _dt.datetime.strptime(s, date_format)
    else:
        if s.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read the Z suffix
            s = s[:-1] + "+00:00"
        value = _dt.datetime.fromisoformat(s)
    if value.utcoffset() is not None:
        return value.astimezone(_dt.timezone.utc).replace(tzinfo=None), True
    return value, False


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
    return parse_time_and_zone(text, date_format)[0]
