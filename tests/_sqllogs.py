"""Transaction logs for the clvkit.sql tests (DuckDB and PostgreSQL) and the comparisons they share."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

import clvkit

US_PER_DAY = 86_400_000_000
UNITS = ["s", "min", "h", "D", "W", "M", "Q", "Y"]


def generated_log(seed: int, *, n_customers: int = 40, n_rows: int = 400, refunds: bool = False,
                  string_ids: bool = False, start_day: int = -800, span_days: int = 1600) -> dict[str, Any]:
    """A seeded log: times in microseconds (some before 1970), same-period duplicates, amounts in cents."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_rows)
    # Few distinct days, so that customers buy several times in one day/week/month; times of day vary.
    days = start_day + rng.integers(0, span_days // 7, n_rows) * 7 + rng.integers(0, 3, n_rows)
    us = days * US_PER_DAY + rng.integers(0, 86_400, n_rows) * 1_000_000 * (rng.random(n_rows) < 0.7)
    amount = np.round(rng.gamma(2.0, 20.0, n_rows), 2)
    if refunds:
        neg = rng.random(n_rows) < 0.15
        amount[neg] = -np.round(rng.uniform(1.0, 60.0, int(neg.sum())), 2)
    ids: Any = np.array([f"c{c:03d}-é" for c in cust], dtype=object) if string_ids else cust.astype(np.int64)
    return {"cust": ids, "us": us.astype(np.int64), "amount": amount}


def ends_of(log: dict[str, Any], kind: str, holdout: bool) -> dict[str, Any]:
    """Ends inside the data: observation end after the last row (not at midnight), calibration end in the middle."""
    last, first = int(log["us"].max()), int(log["us"].min())
    obs_us = last + 3 * US_PER_DAY + 3_600_000_000
    cal_us = first + (last - first) * 3 // 5 + 1_234_567
    out: dict[str, Any] = {}
    for name, value in (("observation_end", obs_us), ("calibration_end", cal_us if holdout else None)):
        if value is None:
            continue
        if kind == "DOUBLE":
            out[name] = value / float(US_PER_DAY)
        else:
            when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=value)
            out[name] = when.replace(tzinfo=dt.timezone.utc) if kind == "TIMESTAMPTZ" else when
    return out


def assert_compressed_same(got: clvkit.CustomerSummary, want: clvkit.CustomerSummary) -> None:
    for name in ("frequency", "recency", "T", "weights"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert (got.monetary_value is None) == (want.monetary_value is None)
    if want.monetary_value is not None:
        np.testing.assert_allclose(got.monetary_value, want.monetary_value, rtol=1e-12)
    assert got.customer_id is None and got.frequency_holdout is None
    assert (got.time_unit, got.observation_end, got.calibration_end) == (
        want.time_unit, want.observation_end, want.calibration_end)
