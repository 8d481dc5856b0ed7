"""Hypothesis over clvkit.valuation.regularity and plot_regularity: hostile settings, gap lengths from 1e-300 to
1e300 and hostile logs; a typed error or a finite result."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, PurchaseTimes, plotting
from clvkit.valuation import regularity

from ._probe import probe
from .test_public_api import HOSTILE_SCALAR

# Mostly ordinary gaps (so that many examples give a result), sometimes extreme ones (which absorb their
# neighbours in the cumulative times: a gap of 0, a typed error).
ORDINARY = st.floats(min_value=0.01, max_value=1e4)
GAP = st.one_of(ORDINARY, ORDINARY, ORDINARY, st.sampled_from([1e-300, 5e-324, 1e-10, 1.0, 7.0, 1e10, 1e300]),
                st.floats(min_value=1e-300, max_value=1e300))


def _summary(gaps: list[list[float]]) -> CustomerSummary:
    times = [np.cumsum(g) for g in gaps]
    offsets = np.concatenate([[0], np.cumsum([len(g) for g in gaps])])
    flat = np.concatenate(times) if offsets[-1] else np.zeros(0)
    recency = [float(t[-1]) if len(t) else 0.0 for t in times]
    pt = PurchaseTimes(origin=np.zeros(len(gaps), dtype="datetime64[ns]"), offsets=offsets, times=flat,
                       period_days=1.0, unit_days=1.0)
    return CustomerSummary([float(len(g)) for g in gaps], recency, [r * 2.0 + 1.0 for r in recency],
                           purchase_times=pt)


@settings(max_examples=80, suppress_health_check=list(HealthCheck), deadline=None)
@given(gaps=st.lists(st.lists(GAP, min_size=0, max_size=5), min_size=0, max_size=6),
       method=st.sampled_from(["mle", "wheat"]), min_intervals=st.integers(2, 4))
def test_regularity_on_hostile_gaps(gaps: list[list[float]], method: str, min_intervals: int) -> None:
    res = probe("regularity", lambda: regularity(_summary(gaps), method=method, min_intervals=min_intervals))
    if res is not None:
        assert res.k >= 0.0 and all(e.std_error >= 0.0 for e in res.estimates)
        assert np.all((res.wheat_statistic > 0.0) & (res.wheat_statistic < 1.0))
        probe("regularity", lambda: plotting.plot_regularity(res, lang="en"))
        plt.close("all")


@settings(max_examples=40, suppress_health_check=list(HealthCheck), deadline=None)
@given(method=st.one_of(st.sampled_from(["mle", "wheat"]), HOSTILE_SCALAR),
       min_intervals=st.one_of(st.integers(0, 6), HOSTILE_SCALAR), lang=st.one_of(st.just("zh"), HOSTILE_SCALAR))
def test_regularity_with_hostile_settings(method: Any, min_intervals: Any, lang: Any) -> None:
    res = probe("regularity", lambda: regularity(_summary([[1.0, 2.0, 4.0], [3.0, 1.0], [2.0, 2.0, 5.0, 1.0]]),
                                                 method=method, min_intervals=min_intervals))
    if res is not None:
        probe("regularity", lambda: res.statement(lang))
        probe("regularity", lambda: res.estimate(method))
        probe("regularity", lambda: res.statistic_density(min_intervals, points=min_intervals))


@settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
@given(cust=st.lists(HOSTILE_SCALAR, min_size=0, max_size=6), when=st.lists(HOSTILE_SCALAR, min_size=0, max_size=6),
       customer_id=st.one_of(st.just("c"), HOSTILE_SCALAR), time_unit=st.one_of(st.sampled_from(["D", "W", "M"]),
                                                                                 HOSTILE_SCALAR))
def test_regularity_on_hostile_logs(cust: list[Any], when: list[Any], customer_id: Any, time_unit: Any) -> None:
    probe("regularity", lambda: regularity({"c": cust, "t": when}, customer_id=customer_id, datetime="t",
                                           time_unit=time_unit))
    probe("regularity", lambda: regularity(cust, customer_id=customer_id, datetime="t"))


def test_regularity_at_extreme_time_scales_is_scale_free() -> None:
    # The same gap pattern at every scale from 1e-300 to 1e300 gives the same k (the estimators are scale-free).
    pattern = [[1.0, 2.0, 4.0], [3.0, 1.0], [2.0, 2.0, 5.0, 1.0]]
    base = regularity(_summary(pattern))
    for scale in (1e-300, 1e-150, 1e150, 1e300):
        res = probe("regularity", lambda s=scale: regularity(_summary([[g * s for g in c] for c in pattern])))
        assert res is not None
        assert abs(res.k / base.k - 1.0) < 1e-9 and abs(res.estimate("wheat").k / base.estimate("wheat").k - 1) < 1e-9
        np.testing.assert_allclose(res.mean_interval / scale, base.mean_interval, rtol=1e-9)
