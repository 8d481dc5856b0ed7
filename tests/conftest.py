"""Shared fixtures: the field's reference data sets, loaded from the oracle package (lifetimes)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from clvkit import CustomerSummary

# CI runs must be reproducible: the same examples every run (locally Hypothesis keeps exploring).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def cdnow_weeks() -> CustomerSummary:
    """CDNOW, 2,357 customers, 39-week calibration, time in weeks, as published with the BG/NBD paper.

    Taken from lifetimes' copy of Hardie's summary file (x, t_x, T, zbar), independent of clvkit's own
    summarize(), so model tests do not depend on it.
    """
    datasets = pytest.importorskip("lifetimes.datasets")
    df = datasets.load_cdnow_summary_data_with_monetary_value()
    return CustomerSummary(
        frequency=df["frequency"].to_numpy(float),
        recency=df["recency"].to_numpy(float),
        T=df["T"].to_numpy(float),
        monetary_value=df["monetary_value"].to_numpy(float),
        customer_id=df.index.to_numpy(),
        time_unit="W",
    )


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)
