"""Data sets that ship inside clvkit.

- CDNOW sample (``cdnow_sample.txt``): the 1/10 systematic sample of the CDNOW customers who made their
  first purchase in the first quarter of 1997 - 2,357 customers, 6,919 purchase records to 1998-06-30.
  It is the data set of Fader, Hardie & Lee (2005) and most of the literature, as distributed by
  B. Hardie and bundled with lifetimes (MIT). Columns: customer id, date, number of CDs, dollar value.
"""

from __future__ import annotations

import datetime as _dt
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from .batch import CustomerSummary

__all__ = ["CDNOW_CALIBRATION_END", "CDNOW_OBSERVATION_END", "load_cdnow_summary", "load_cdnow_transactions"]

#: End of the 39-week calibration period used by the papers (inclusive day).
CDNOW_CALIBRATION_END = _dt.datetime(1997, 9, 30)
#: End of the 78-week observation period.
CDNOW_OBSERVATION_END = _dt.datetime(1998, 6, 30)


def load_cdnow_transactions() -> dict[str, npt.NDArray[Any]]:
    """The CDNOW sample's purchase records as columns.

    Returns
    -------
    dict
        ``customer_id`` (int64), ``date`` (datetime64[D]), ``cds`` (int64), ``amount`` (float64, dollars),
        each of shape (6919,).

    Examples
    --------
    >>> log = load_cdnow_transactions()
    >>> len(log["date"]), len(set(log["customer_id"].tolist()))
    (6919, 2357)
    """
    text = resources.files("clvkit.data").joinpath("cdnow_sample.txt").read_text(encoding="ascii")
    raw = np.loadtxt(text.splitlines(), dtype=np.float64)
    ymd = raw[:, 2].astype(np.int64)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in ymd.tolist()], dtype="datetime64[D]"
    )
    return {
        "customer_id": raw[:, 1].astype(np.int64),
        "date": dates,
        "cds": raw[:, 3].astype(np.int64),
        "amount": raw[:, 4],
    }


def load_cdnow_summary(*, time_unit: str = "W", holdout: bool = True) -> CustomerSummary:
    """The CDNOW sample summarised as in the papers: calibration to 1997-09-30, time in weeks.

    Frequency counts distinct purchase days; recency and T are in days then converted to ``time_unit``
    (weeks by default: the papers' ``t_x`` and ``T``, e.g. T = 38.86 weeks for a 1 January customer).
    With ``holdout`` the 39-week holdout columns are included.

    Examples
    --------
    >>> s = load_cdnow_summary()
    >>> len(s), int(s.frequency.sum()), round(float(s.T.max()), 2), s.duration_holdout
    (2357, 2457, 38.86, 39.0)
    """
    from ._summarize import summarize

    log = load_cdnow_transactions()
    summary = summarize(
        log,
        customer_id="customer_id",
        datetime="date",
        monetary_value="amount",
        time_unit="D",
        calibration_end=CDNOW_CALIBRATION_END if holdout else None,
        observation_end=CDNOW_OBSERVATION_END if holdout else CDNOW_CALIBRATION_END,
    ) if holdout else summarize(
        {k: v[log["date"] <= np.datetime64("1997-09-30")] for k, v in log.items()},
        customer_id="customer_id",
        datetime="date",
        monetary_value="amount",
        time_unit="D",
        observation_end=CDNOW_CALIBRATION_END,
    )
    return summary.with_time_unit(time_unit)
