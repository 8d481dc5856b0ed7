"""Shared fixtures: the field's reference data sets, loaded from the oracle package (lifetimes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from clvkit import CustomerSummary

# Reports print in the locale's language when none is given (clvkit.i18n.default_language reads LANGUAGE
# first); tests that do not pass a language expect English on every machine, whatever its locale.
os.environ["LANGUAGE"] = "en"

# CI runs must be reproducible: the same examples every run (locally Hypothesis keeps exploring).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Data sets whose licences keep them out of the package (see shared/data/README.md of the workspace): a
# folder ../shared/data beside the project root, or wherever CLVKIT_SHARED_DATA points. Tests that need
# one of the files ask for it with the ``shared_data`` fixture and are skipped, loudly, without it: the
# skip reason names the missing path and where the file comes from, and the report header and the
# terminal summary say whether the folder was found and how many tests it cost.
SHARED_DATA = Path(os.environ.get("CLVKIT_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
SHARED_SKIP = "shared data missing:"
SHARED_SOURCES = {
    "grocery_elog.csv": "the groceryElog data set of the R package BTYDplus as CSV, columns cust and date (days "
                        "since 1970-01-01)",
    "apparel_trans.csv": "the apparel transactions of the R package CLVTools 0.12.1 as CSV",
    "apparel_static_cov.csv": "the apparel static covariates of the R package CLVTools 0.12.1 as CSV",
    "apparel_dyn_cov.csv.gz": "the apparel dynamic covariates of the R package CLVTools 0.12.1 as gzipped CSV",
}


def _shared_path(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        source = SHARED_SOURCES.get(name, "the workspace's shared data")
        pytest.skip(
            f"{SHARED_SKIP} {path} does not exist. Put the workspace's shared/data folder beside the project "
            f"root (expected at {SHARED_DATA}) or set CLVKIT_SHARED_DATA to a folder holding {name}: {source} "
            f"(see shared/data/README.md)."
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Callable[[str], Path]:
    """``shared_data(name)``: the path of a shared data file, or skip the test naming what is missing."""
    return _shared_path


def _shared_users(config: pytest.Config) -> int:
    return int(getattr(config, "_clvkit_shared_users", 0))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config._clvkit_shared_users = sum(  # type: ignore[attr-defined]
        "shared_data" in getattr(item, "fixturenames", ()) for item in items
    )


def pytest_report_header(config: pytest.Config) -> str:
    state = "found" if SHARED_DATA.is_dir() else "MISSING"
    return f"shared data: {state} at {SHARED_DATA}"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    n = len({report.nodeid for report in terminalreporter.stats.get("skipped", [])
             if SHARED_SKIP in str(report.longrepr)})
    skipped = f"{n} test{'' if n == 1 else 's'} skipped"
    if not SHARED_DATA.is_dir():
        terminalreporter.write_line(f"shared data: MISSING at {SHARED_DATA} - {skipped}", yellow=True, bold=True)
    elif n:
        terminalreporter.write_line(f"shared data: {SHARED_DATA} found, but files are missing - {skipped}",
                                    yellow=True, bold=True)
    else:
        users = _shared_users(config)
        terminalreporter.write_line(f"shared data: {SHARED_DATA} found ({users} test{'' if users == 1 else 's'} "
                                    f"use it)")


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


def fit_oracle(fit: Callable[[], Any]) -> Any:
    """Run a lifetimes fit (the test oracle) from a fixed start and without its warnings.

    lifetimes starts its optimiser at a draw of numpy's legacy global generator: the draw is fixed here and
    the generator's state restored afterwards, so the oracle is the same in every run and test order.
    """
    import warnings

    state = np.random.get_state()  # noqa: NPY002 - the legacy generator is the one lifetimes draws from
    np.random.seed(20050101)  # noqa: NPY002
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit()
    finally:
        np.random.set_state(state)  # noqa: NPY002


# --- a real headless Chromium (Debian packages chromium + chromium-driver; .ci/run installs them) ----------
CHROMIUM = Path(os.environ.get("CLVKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CLVKIT_CHROMEDRIVER", "/usr/bin/chromedriver"))
BROWSER_SKIP = "no headless browser:"


@pytest.fixture(scope="session")
def browser() -> Any:
    """A selenium WebDriver on headless Chromium, or skip the test naming what is missing.

    The flags keep Chromium off the network (this machine's network is closed) and out of the sandbox
    (tests run as root in CI); the browser's console log is recorded so tests can assert it is clean.
    """
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.skip(f"{BROWSER_SKIP} {', '.join(missing)} not found. Install the Debian packages chromium and "
                    "chromium-driver (.ci/run does) or set CLVKIT_CHROMIUM / CLVKIT_CHROMEDRIVER.")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip(f"{BROWSER_SKIP} selenium is not installed (it is in the test extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
