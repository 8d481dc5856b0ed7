"""Every CSV input reads Excel's "CSV UTF-8" export (a UTF-8 byte-order mark) and rejects other encodings cleanly.

The byte-order mark is the three bytes EF BB BF that Excel, and Notepad on Windows, put in front of UTF-8 text.
Read as plain ``utf-8`` they become the character U+FEFF glued to the first column name, so a file starting with
``customer_id`` loses that column and one starting with ``value`` has a column called '\\ufeffvalue'. Each test
writes the same table with and without the mark and expects the same result; bytes that are not UTF-8 (here a
Latin-1 'é') must be one typed error naming the file and the line.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from clvkit import InvalidInputError, load_json
from clvkit.binding import measure_binding, read_binding_dir
from clvkit.cli import main, read_log
from clvkit.datasets import load_cdnow_transactions
from clvkit.valuation import read_referrals

SAMPLE = Path(__file__).resolve().parents[1] / "clvkit" / "data" / "b2b_sample"
BOM = b"\xef\xbb\xbf"


def _write(path: Path, text: str, *, bom: bool) -> Path:
    path.write_bytes((BOM if bom else b"") + text.encode("utf-8"))
    return path


def _values_csv(first: str) -> str:
    # 20 customers valued 1..20; ``first`` is the first column, the one the byte-order mark sticks to.
    other = "value" if first == "customer_id" else "customer_id"
    rows = [{"customer_id": f"c{i:02d}", "value": str(float(i))} for i in range(1, 21)]
    lines = [f"{first},{other}"] + [f"{r[first]},{r[other]}" for r in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ clvkit tier
@pytest.mark.parametrize("first", ["customer_id", "value"])
def test_tier_reads_a_byte_order_mark(first: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = {}
    for bom in (False, True):
        src = _write(tmp_path / f"values_{bom}.csv", _values_csv(first), bom=bom)
        out = tmp_path / f"tiers_{bom}.csv"
        code = main(["tier", str(src), "--policy", "key-customers", "--output", str(out)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        with out.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert rows and "customer_id" in rows[0], list(rows[0]) if rows else rows
        results[bom] = ([(r["customer_id"], r["tier"]) for r in rows], captured.out.replace(str(out), "OUT"))
    assert results[True] == results[False]
    assert ("c20", "key") in results[True][0]


def test_tier_names_the_file_and_line_of_bytes_that_are_not_utf8(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "latin1.csv"
    src.write_bytes("customer_id,value\nc1,1\nc\xe9,2\n".encode("latin-1"))
    assert main(["tier", str(src), "--policy", "key-customers"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(src) in err and "line 3" in err and "UTF-8" in err


# ------------------------------------------------------------------------------------------ fit / score
@pytest.fixture(scope="module")
def small_log() -> str:
    """The first 1,500 CDNOW transactions as CSV text, the customer id first (where a byte-order mark goes)."""
    log = load_cdnow_transactions()
    n = 1500
    lines = ["cust,when,amount"] + [f"{c},{d},{a!r}" for c, d, a in zip(
        log["customer_id"][:n].tolist(), log["date"][:n].astype(str).tolist(), log["amount"][:n].tolist(),
        strict=True)]
    return "\n".join(lines) + "\n"


def test_read_log_reads_a_byte_order_mark(tmp_path: Path, small_log: str) -> None:
    plain = read_log(_write(tmp_path / "plain.csv", small_log, bom=False), customer_id="cust", datetime="when",
                     monetary_value="amount")
    for name in ("bom.csv", "bom.csv.gz"):
        path = _write(tmp_path / name, small_log, bom=True)
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(path.read_bytes()))
        cols = read_log(path, customer_id="cust", datetime="when", monetary_value="amount")
        assert list(cols) == list(plain)
        for k in cols:
            np.testing.assert_array_equal(cols[k], plain[k])


def test_fit_and_score_read_a_byte_order_mark(tmp_path: Path, small_log: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    scores = {}
    for bom in (False, True):
        log = _write(tmp_path / f"log_{bom}.csv", small_log, bom=bom)
        model = tmp_path / f"model_{bom}"
        assert main(["fit", str(log), "--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount",
                     "-q", "--output", str(model)]) == 0, capsys.readouterr().err
        out = tmp_path / f"scores_{bom}.csv"
        assert main(["score", str(log), "--models", str(model), "-q", "--top", "0",
                     "--output", str(out)]) == 0, capsys.readouterr().err
        scores[bom] = out.read_text(encoding="utf-8")
        fitted = load_json((model / "beta_geo.json").read_text(encoding="utf-8"))
        reference = load_json((tmp_path / "model_False" / "beta_geo.json").read_text(encoding="utf-8"))
        np.testing.assert_array_equal(fitted.param_array(), reference.param_array())
    assert scores[True] == scores[False]
    assert scores[True].startswith("customer_id,")


def test_read_log_names_the_file_and_line_of_bytes_that_are_not_utf8(tmp_path: Path, small_log: str) -> None:
    lines = small_log.splitlines(keepends=True)
    lines[1200] = lines[1200].replace(",", ",\xe9", 1)
    path = tmp_path / "latin1.csv"
    path.write_bytes("".join(lines).encode("latin-1"))
    with pytest.raises(InvalidInputError, match=rf"{path.name}.*line 1201\b"):
        read_log(path, customer_id="cust", datetime="when")


# ------------------------------------------------------------------------------------------ read_referrals
def test_read_referrals_reads_a_byte_order_mark(tmp_path: Path) -> None:
    text = "referrer,referred,time\n1,2,2024-01-05\n1,3,2024-01-06\n3,4,2024-02-01\n"
    plain = read_referrals(_write(tmp_path / "plain.csv", text, bom=False), customer_ids=[1, 2, 3, 4])
    with_bom = read_referrals(_write(tmp_path / "bom.csv", text, bom=True), customer_ids=[1, 2, 3, 4])
    for a, b in zip(plain.pairs(), with_bom.pairs(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert with_bom.n_referrals == 3


def test_read_referrals_names_the_file_and_line_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "refs.csv"
    path.write_bytes("referrer,referred\n1,2\n\xe9,3\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"refs\.csv.*line 3\b"):
        read_referrals(path)


# ------------------------------------------------------------------------------------------ binding folder
def test_binding_folder_reads_a_byte_order_mark(tmp_path: Path) -> None:
    for path in SAMPLE.glob("*.csv"):
        (tmp_path / path.name).write_bytes(BOM + path.read_bytes())
    with_bom = read_binding_dir(tmp_path, as_of="2024-12-31")
    plain = read_binding_dir(SAMPLE, as_of="2024-12-31")
    assert repr(with_bom.data) == repr(plain.data)
    np.testing.assert_array_equal(measure_binding(with_bom.data).score, measure_binding(plain.data).score)
    assert with_bom.values is not None and plain.values is not None
    assert with_bom.values.tolist() == plain.values.tolist()


def test_binding_folder_names_the_file_and_line_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    for path in SAMPLE.glob("*.csv"):
        shutil.copy(path, tmp_path / path.name)
    contacts = tmp_path / "contacts.csv"
    lines = contacts.read_bytes().split(b"\n")
    lines[4] = lines[4] + b"\xe9"
    contacts.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidInputError, match=r"contacts\.csv.*line 5\b"):
        read_binding_dir(tmp_path, as_of="2024-12-31")


def test_a_broken_gzip_file_is_one_typed_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = gzip.compress(b"customer_id,value\nc1,1\nc2,2\n")
    src = tmp_path / "values.csv.gz"
    src.write_bytes(whole[: len(whole) // 2])  # cut in the middle, as by an interrupted download
    assert main(["tier", str(src), "--policy", "key-customers"]) == 2
    err = capsys.readouterr().err
    assert "not a valid gzip file" in err and str(src) in err and len(err.strip().splitlines()) == 1
    with pytest.raises(InvalidInputError, match="not a valid gzip file"):
        read_referrals(src)
