"""The bundled synthetic sample, the directory loader (CSV, gzip, Parquet) and the plain-text report."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from clvkit.binding import (
    B2B_SAMPLE_AS_OF,
    BindingConfig,
    cli_report,
    format_report,
    load_b2b_sample,
    measure_binding,
    read_binding_dir,
)
from clvkit.binding._sample import generate_b2b, write_b2b_sample
from clvkit.errors import InvalidInputError

SAMPLE = Path(str(resources.files("clvkit").joinpath("data").joinpath("b2b_sample")))


def test_sample_is_labelled_synthetic_and_loads() -> None:
    assert "synthetic" in (SAMPLE / "README.md").read_text(encoding="utf-8").lower()
    s = load_b2b_sample()
    assert s.data.as_of == B2B_SAMPLE_AS_OF and len(s.data) == 60
    assert s.values is not None and s.values.shape == (60,) and np.all(s.values > 0)
    assert s.key_customers is not None and s.tiers is not None
    assert s.key_customers.tolist() == (s.tiers == 1).tolist()
    present = s.data.employee_present
    assert not present.all()  # one employee has already left
    left_at = s.data._c.employee_left_at
    assert np.any(np.isfinite(left_at) & (left_at > s.data._c.as_of))  # and one has announced a departure


def test_bundled_files_equal_the_generator_output(tmp_path: Path) -> None:
    write_b2b_sample(tmp_path)
    for path in sorted(tmp_path.glob("*.csv")):
        assert path.read_text(encoding="utf-8") == (SAMPLE / path.name).read_text(encoding="utf-8"), (
            f"{path.name} differs: regenerate with python -m clvkit.binding._sample")


def test_generator_is_deterministic() -> None:
    a, b = generate_b2b(30, 8, 400, seed=5), generate_b2b(30, 8, 400, seed=5)
    for table in a:
        for col in a[table]:
            assert a[table][col].tolist() == b[table][col].tolist(), (table, col)


def _same_measures(a: object, b: object) -> None:
    ca, cb = a.to_columns(), b.to_columns()  # type: ignore[attr-defined]
    for k in ca:
        if ca[k].dtype.kind == "f":
            np.testing.assert_allclose(ca[k], cb[k], err_msg=k)
        else:
            assert ca[k].tolist() == cb[k].tolist(), k


def test_csv_gzip_and_parquet_directories_agree(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    base = measure_binding(load_b2b_sample().data)
    gz, parquet = tmp_path / "gz", tmp_path / "parquet"
    gz.mkdir()
    parquet.mkdir()
    for path in SAMPLE.glob("*.csv"):
        (gz / (path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    tables = generate_b2b(60, 14, 1500)
    for name, cols in tables.items():
        pq.write_table(pa.table(cols), parquet / f"{name}.parquet")
    _same_measures(measure_binding(read_binding_dir(gz, as_of=B2B_SAMPLE_AS_OF).data), base)
    from_parquet = read_binding_dir(parquet, as_of="2024-12-31")
    _same_measures(measure_binding(from_parquet.data), base)
    assert from_parquet.values is not None and from_parquet.values.tolist() == load_b2b_sample().values.tolist()


def test_default_as_of_is_the_latest_touchpoint(tmp_path: Path) -> None:
    for path in SAMPLE.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    data = read_binding_dir(tmp_path).data
    assert data.as_of <= B2B_SAMPLE_AS_OF
    assert measure_binding(data).days_since_last.min() == 0.0


def test_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_binding_dir(tmp_path / "nope")
    (tmp_path / "employees.csv").write_text("employee_id,level\nE1,ACCOUNT_MANAGER\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"lacks contacts\.csv, relationships\.csv, touchpoints\.csv"):
        read_binding_dir(tmp_path)
    (tmp_path / "contacts.csv").write_text("contact_id,customer_id,org_level\nP1,C1,USER\n", encoding="utf-8")
    (tmp_path / "relationships.csv").write_text("employee_id,contact_id,strength,start\nE1,P1,0.5\n",
                                                 encoding="utf-8")
    (tmp_path / "touchpoints.csv").write_text("customer_id,timestamp,employee_id\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="lines \\[2\\]"):
        read_binding_dir(tmp_path, as_of="2024-01-01")
    (tmp_path / "relationships.csv").write_text("employee_id,contact_id,strength,start\nE2,P1,0.5,2023-01-01\n",
                                                 encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no readable touchpoint times"):
        read_binding_dir(tmp_path)
    with pytest.raises(InvalidInputError, match="employee_id='E2'"):
        read_binding_dir(tmp_path, as_of="2024-01-01")


def test_demo_report_text() -> None:
    text = cli_report(lang="en")
    assert text == cli_report(lang="en")  # deterministic
    assert text.startswith("SYNTHETIC SAMPLE DATA")
    for heading in ("clvkit binding report: from the salesperson's customer to the company's customer, as of "
                    "2024-12-31", "Binding score (0-100", "Held by one person", "Key customers, least bound first",
                    "Value at risk by employee", "Key customers by owning team", "Rewards and penalties",
                    "Relationship ladders", "Hand-over simulation: E-004 leaves (announced departure"):
        assert heading in text, heading
    assert all(line == line.rstrip() for line in text.splitlines())


def test_cli_report_options(tmp_path: Path) -> None:
    for path in SAMPLE.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    cfg = tmp_path / "binding.json"
    cfg.write_text(BindingConfig(single_thread_share=0.95).model_dump_json(), encoding="utf-8")
    text = cli_report(tmp_path, as_of="2024-12-31", top=3, config=cfg, handover=["E-001", "E-002"], lang="en")
    assert "one employee holds at least 95%" in text and "Hand-over simulation: E-002 leaves" in text
    assert not text.startswith("SYNTHETIC")
    assert "as of 2024-11-30" in cli_report(as_of="2024-11-30", lang="en")
    cfg.write_text(json.dumps({"window_days": -1}), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="binding configuration"):
        cli_report(config=cfg)


def test_report_without_values_says_what_is_missing() -> None:
    m = measure_binding(load_b2b_sample().data)
    text = format_report(m, top=2, lang="en")
    assert "No per-customer values" in text and "Value at risk" not in text
    assert "Customers, least bound first" in text
