"""clvkit.valuation.regularity: the Wheat & Morrison (1990) estimator and the maximum-likelihood estimate of the
gamma shape k of inter-purchase times.

Expected values come from hand computation (the Wheat & Morrison statistics of a tiny log, with the statistics
module's sample variance), from scipy.stats (Beta and Dirichlet densities maximised by a bounded scalar search), from
simulated Erlang-k data (seeded) and from the grocery event log recomputed from the raw CSV with plain Python.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from clvkit import CustomerSummary, InvalidInputError, PurchaseTimes, summarize
from clvkit.datasets import load_cdnow_transactions
from clvkit.valuation import RegularityEstimate, RegularityResult, regularity
from clvkit.valuation.checking.regularity import CLUMPY_BELOW, REGULAR_FROM, verdict_of

# Three customers' gaps between purchases (days): (1, 2), (3, 2), (2, 2, 2); a fourth and fifth with too few.
GAPS = [[1.0, 2.0], [3.0, 2.0], [2.0, 2.0, 2.0], [4.0], []]


def _summary_of_gaps(gaps: list[list[float]], *, ids: list[object] | None = None) -> CustomerSummary:
    times = [np.cumsum(g) if g else np.zeros(0) for g in gaps]
    offsets = np.concatenate([[0], np.cumsum([len(g) for g in gaps])])
    flat = np.concatenate(times) if offsets[-1] else np.zeros(0)
    recency = [float(t[-1]) if len(t) else 0.0 for t in times]
    pt = PurchaseTimes(origin=np.full(len(gaps), np.datetime64("2024-01-01", "ns")), offsets=offsets, times=flat,
                       period_days=1.0, unit_days=1.0)
    return CustomerSummary([float(len(g)) for g in gaps], recency, [r + 5.0 for r in recency], customer_id=ids,
                           time_unit="D", purchase_times=pt)


def _simulated(k: float, n: int, seed: int, *, min_gaps: int = 2, max_gaps: int = 10) -> CustomerSummary:
    """Customers with Erlang-k (gamma shape k) gaps, each with its own mean gap (gamma distributed)."""
    rng = np.random.default_rng(seed)
    m = rng.integers(min_gaps, max_gaps + 1, n)
    mean_gap = rng.gamma(2.0, 10.0, n)  # days
    gaps = [list(rng.gamma(k, mean_gap[i] / k, m[i])) for i in range(n)]
    return _summary_of_gaps(gaps)


# ------------------------------------------------------------------------------------------- hand computations
def test_wheat_on_a_tiny_log_equals_the_hand_computation() -> None:
    res = regularity(_summary_of_gaps(GAPS))
    # M = earlier / sum of each used customer's last two gaps: 1/3, 3/5, 2/4.
    m = [1 / 3, 3 / 5, 2 / 4]
    var = statistics.variance(m)  # (n - 1) denominator, as R's var()
    np.testing.assert_allclose(res.wheat_statistic, m, rtol=1e-15)
    wheat = res.estimate("wheat")
    assert wheat.k == pytest.approx((1 - 4 * var) / (8 * var), rel=1e-13)
    assert wheat.k == pytest.approx(6.388, abs=5e-4)  # by hand: V = 0.0181481..., k = 0.9274 / 0.14519
    assert wheat.n_customers == 3 and wheat.n_intervals == 6 and wheat.log_likelihood is None
    # Delta method: sd(V) ~ sqrt((mu4 - sigma^4) / n) with the plain central moments, dk/dV = -1 / (8 V^2).
    mean = sum(m) / 3
    m2, m4 = (sum((x - mean) ** p for x in m) / 3 for p in (2, 4))
    assert wheat.std_error == pytest.approx(math.sqrt((m4 - m2**2) / 3) / (8 * var**2), rel=1e-12)


def test_mle_maximises_the_dirichlet_likelihood_of_the_gap_proportions() -> None:
    res = regularity(_summary_of_gaps(GAPS))
    used = [np.array(g) for g in GAPS if len(g) >= 2]

    def loglik(k: float) -> float:
        return float(sum(stats.dirichlet(np.full(g.shape[0], k)).logpdf(g / g.sum()) for g in used))

    best = optimize.minimize_scalar(lambda k: -loglik(k), bounds=(0.01, 100.0), method="bounded",
                                    options={"xatol": 1e-10})
    mle = res.estimate("mle")
    assert mle.k == pytest.approx(best.x, rel=1e-7)
    assert mle.k == pytest.approx(12.8416, abs=1e-4)
    assert mle.log_likelihood == pytest.approx(loglik(mle.k), rel=1e-12)
    assert mle.n_customers == 3 and mle.n_intervals == 7
    # Standard error: 1 / sqrt(-d2 loglik / dk2), the second derivative by central differences.
    h = 1e-3 * mle.k
    d2 = (loglik(mle.k + h) - 2 * loglik(mle.k) + loglik(mle.k - h)) / h**2
    assert mle.std_error == pytest.approx(1 / math.sqrt(-d2), rel=1e-5)


def test_with_two_gaps_each_the_mle_is_the_beta_k_k_mle_of_the_wheat_statistics() -> None:
    rng = np.random.default_rng(5)
    gaps = [list(rng.gamma(2.0, 3.0, 2)) for _ in range(200)]
    res = regularity(_summary_of_gaps(gaps))
    m = np.array([g[0] / (g[0] + g[1]) for g in gaps])
    best = optimize.minimize_scalar(lambda k: -float(stats.beta(k, k).logpdf(m).sum()), bounds=(0.01, 50.0),
                                    method="bounded", options={"xatol": 1e-10})
    assert res.estimate("mle").k == pytest.approx(best.x, rel=1e-7)


def test_customers_with_too_few_gaps_are_left_out_and_counted() -> None:
    res = regularity(_summary_of_gaps(GAPS, ids=["a", "b", "c", "d", "e"]))
    assert res.n_customers == 5 and res.n_excluded == 2 and res.n_used == 3
    assert res.customer_id is not None and res.customer_id.tolist() == ["a", "b", "c"]
    assert res.intervals.tolist() == [2, 2, 3]
    np.testing.assert_allclose(res.mean_interval, [1.5, 2.5, 2.0])
    strict = regularity(_summary_of_gaps([*GAPS, [1.0, 1.0, 3.0]]), min_intervals=3)
    assert strict.n_used == 2 and strict.n_excluded == 4 and strict.min_intervals == 3


# --------------------------------------------------------------------------------------------------- recovery
@pytest.mark.parametrize("k", [1.0, 2.0, 3.0])
def test_simulated_erlang_k_is_recovered(k: float) -> None:
    res = regularity(_simulated(k, 3000, seed=int(10 * k)))
    mle, wheat = res.estimate("mle"), res.estimate("wheat")
    # Within four standard errors (the estimators' own) and 10% / 15%.
    assert abs(mle.k - k) < 4 * mle.std_error and mle.k == pytest.approx(k, rel=0.10)
    assert abs(wheat.k - k) < 4 * wheat.std_error and wheat.k == pytest.approx(k, rel=0.15)
    assert res.order == round(k)
    assert res.verdict == ("irregular" if k == 1.0 else "regular")


@pytest.mark.parametrize("method", ["mle", "wheat"])
def test_the_standard_error_matches_the_spread_over_replications(method: str) -> None:
    ks, ses = [], []
    for seed in range(40):
        est = regularity(_simulated(2.0, 300, seed=100 + seed)).estimate(method)
        ks.append(est.k)
        ses.append(est.std_error)
    assert float(np.std(ks, ddof=1)) == pytest.approx(float(np.mean(ses)), rel=0.3)
    assert float(np.mean(ks)) == pytest.approx(2.0, abs=3 * float(np.mean(ses)) / math.sqrt(40))


def test_the_mle_is_not_biased_by_estimating_each_customers_rate() -> None:
    # Two gaps per customer: profiling each rate out would give about twice k (Neyman-Scott); conditioning does not.
    res = regularity(_simulated(1.0, 4000, seed=3, min_gaps=2, max_gaps=2))
    assert res.estimate("mle").k == pytest.approx(1.0, abs=4 * res.estimate("mle").std_error)


def test_invariant_to_row_order_time_unit_and_weights() -> None:
    s = _simulated(2.0, 400, seed=11)
    base = regularity(s)
    perm = np.random.default_rng(0).permutation(len(s))
    shuffled = regularity(s.take(perm))
    assert shuffled.k == pytest.approx(base.k, rel=1e-12)
    assert shuffled.estimate("wheat").k == pytest.approx(base.estimate("wheat").k, rel=1e-12)
    weekly = regularity(s.with_time_unit("W"))
    assert weekly.k == pytest.approx(base.k, rel=1e-10) and weekly.time_unit == "W"
    np.testing.assert_allclose(weekly.mean_interval, base.mean_interval / 7.0, rtol=1e-12)
    # Weight 2 on every row = each customer twice.
    doubled = regularity(s.with_weights(np.full(len(s), 2.0)))
    twice = regularity(s.take(np.repeat(np.arange(len(s)), 2)))
    assert doubled.k == pytest.approx(twice.k, rel=1e-10)
    assert doubled.estimate("wheat").k == pytest.approx(twice.estimate("wheat").k, rel=1e-10)
    assert doubled.n_used == twice.n_used == 2 * base.n_used


# ---------------------------------------------------------------------------------------------- from a log
def test_a_log_is_summarized_with_summarize_arguments() -> None:
    log = {"cust": ["x", "x", "x", "y", "y", "y", "y", "z"],
           "when": np.array(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-01", "2024-01-04", "2024-01-06",
                             "2024-02-20", "2024-01-03"], dtype="datetime64[D]")}
    res = regularity(log, customer_id="cust", datetime="when")
    # x: gaps 1, 2; y: gaps 3, 2, 45; z: none.
    assert res.customer_id is not None and res.customer_id.tolist() == ["x", "y"]
    np.testing.assert_allclose(res.wheat_statistic, [1 / 3, 2 / 47])
    same = regularity(summarize(log, customer_id="cust", datetime="when"))
    assert same.k == res.k
    # Only calibration purchases count: y's last purchase is in the holdout.
    cal = regularity(log, customer_id="cust", datetime="when", calibration_end="2024-01-31")
    np.testing.assert_allclose(cal.wheat_statistic, [1 / 3, 3 / 5])


def test_cdnow_purchases_are_poisson_like() -> None:
    res = regularity(load_cdnow_transactions(), customer_id="customer_id", datetime="date")
    assert res.verdict == "irregular" and CLUMPY_BELOW <= res.k < REGULAR_FROM
    assert res.statement("en").startswith("Purchases are irregular, k = ")


def test_grocery_purchases_are_regular_as_btydplus_reports(shared_data: Callable[[str], Path]) -> None:
    with shared_data("grocery_elog.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    days: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        days[row["cust"]].add(int(float(row["date"])))
    # Wheat & Morrison as BTYDplus' estimateRegularity(groceryElog) computes it: distinct days, customers with at
    # least three, M of the last two gaps, R's var(). Recomputed here from the raw file with plain Python.
    m = []
    for ds in days.values():
        d = sorted(ds)
        if len(d) >= 3:
            t1, t2 = d[-2] - d[-3], d[-1] - d[-2]
            m.append(t1 / (t1 + t2))
    var = statistics.variance(m)
    expected_wheat = (1 - 4 * var) / (8 * var)
    log = {"cust": np.array([r["cust"] for r in rows]),
           "date": np.array([int(float(r["date"])) for r in rows]).astype("datetime64[D]")}
    res = regularity(log, customer_id="cust", datetime="date")
    assert res.n_customers == 1525 and res.n_used == len(m)
    assert res.estimate("wheat").k == pytest.approx(expected_wheat, rel=1e-12)
    # BTYDplus' demo (demo/mbg-cnbd-k.R): "Wheat-Morrison estimator detects Erlang-2"; its vignette's
    # MBG/CNBD-k fit on the 2006 calibration picks k = 2 as well. clvkit (all 2006-2007 data): Wheat & Morrison
    # 1.87, maximum likelihood 1.99; calibration year 2006 only: 2.52 and 2.43.
    assert round(res.estimate("wheat").k) == 2 and res.order == 2
    assert res.k == pytest.approx(1.985, abs=0.005) and res.estimate("wheat").k == pytest.approx(1.870, abs=0.005)
    assert res.verdict == "regular"
    cal = regularity(log, customer_id="cust", datetime="date", calibration_end="2006-12-31")
    assert cal.k == pytest.approx(2.434, abs=0.005) and cal.estimate("wheat").k == pytest.approx(2.518, abs=0.005)
    assert cal.order == 2
    assert res.statement("en") == ("Purchases are regular, k = 2.0: prefer the CNBD-k family (MBG/CNBD-k, BG/CNBD-k) "
                                   "with k = 2.")


# ------------------------------------------------------------------------------------------------- verdicts
def test_verdict_thresholds_and_statements() -> None:
    assert (verdict_of(CLUMPY_BELOW - 1e-9), verdict_of(CLUMPY_BELOW), verdict_of(REGULAR_FROM - 1e-9),
            verdict_of(REGULAR_FROM)) == ("clumpy", "irregular", "irregular", "regular")
    clumpy = regularity(_simulated(0.5, 2000, seed=4))
    assert clumpy.verdict == "clumpy" and clumpy.order == 1
    assert clumpy.statement("en").startswith("Purchases are clumpier than a Poisson process, k = 0.")
    assert "小于 1" in clumpy.statement("zh")
    irregular = regularity(_simulated(1.0, 2000, seed=4))
    assert irregular.statement("zh").startswith("购买没有明显规律（k = 0.98，接近 1）")
    regular = regularity(_simulated(3.0, 2000, seed=4))
    assert regular.statement("en").endswith("with k = 3.")
    assert regular.statement("zh").endswith("取 k = 3。")
    # The verdict reads the chosen method's estimate, which comes first.
    by_wheat = regularity(_simulated(3.0, 2000, seed=4), method="wheat")
    assert by_wheat.method == "wheat" and by_wheat.estimates[0].method == "wheat"
    assert by_wheat.k == regular.estimate("wheat").k and by_wheat.estimate("mle").k == regular.k


# -------------------------------------------------------------------------------------------------- display
def test_display_and_frame() -> None:
    res = regularity(_summary_of_gaps(GAPS, ids=["<a>", "b", "c", "d", "e"]))
    text = repr(res)
    assert text.startswith("RegularityResult(k = 12.84 by mle") and "wheat 6.388" in text and "regular" in text
    assert repr(res.estimates[1]).startswith("RegularityEstimate(method='wheat', k=6.388")
    html = res._repr_html_()
    assert html.startswith('<div class="clvkit-display">') and "Regularity of purchase timing" in html
    assert "Wheat &amp; Morrison (last two gaps)" in html and "prefer the CNBD-k family" in html
    assert "购买时间的规律性" in res._html(__import__("clvkit.i18n", fromlist=["translator"]).translator("zh"))
    frame = res.to_frame()
    assert list(frame.columns) == ["intervals", "mean_interval", "wheat_statistic", "weight"]
    assert frame.index.tolist() == ["<a>", "b", "c"] and frame["intervals"].tolist() == [2, 2, 3]
    pl_frame = res.to_frame("polars")
    assert pl_frame.columns[0] == "customer_id" and pl_frame["wheat_statistic"].to_list()[1] == pytest.approx(0.6)
    x, d = res.statistic_density(2.0, points=11)
    np.testing.assert_allclose(d, stats.beta(2.0, 2.0).pdf(x), rtol=1e-12)
    assert isinstance(res, RegularityResult) and isinstance(res.estimates[0], RegularityEstimate)
    with pytest.raises(AttributeError):
        res.method = "wheat"  # type: ignore[misc]
    assert not res.wheat_statistic.flags.writeable and not res.weights.flags.writeable


# ---------------------------------------------------------------------------------------------------- errors
def test_bad_arguments_are_typed_errors() -> None:
    s = _summary_of_gaps(GAPS)
    with pytest.raises(InvalidInputError, match="'method' parameter of regularity"):
        regularity(s, method="cv")
    for bad in (1, True, 2.5, "2"):
        with pytest.raises(InvalidInputError, match="'min_intervals' parameter of regularity"):
            regularity(s, min_intervals=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="for a transaction log only"):
        regularity(s, customer_id="cust")
    with pytest.raises(InvalidInputError, match=r"'method' parameter of RegularityResult\.estimate"):
        regularity(s).estimate("cv")
    with pytest.raises(InvalidInputError, match=r"'k' parameter of RegularityResult\.statistic_density"):
        regularity(s).statistic_density(0.0)
    with pytest.raises(InvalidInputError, match="'lang'"):
        regularity(s).statement("fr")


def test_inputs_without_purchase_times_are_typed_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"has none\. Build it with clvkit\.summarize"):
        regularity(CustomerSummary([2.0, 3.0], [4.0, 5.0], [6.0, 7.0]))
    numeric = {"cust": [1, 1, 1, 2, 2, 2], "day": [19000, 19001, 19003, 19000, 19002, 19005]}
    with pytest.raises(InvalidInputError, match="no purchase times"):
        regularity(numeric, customer_id="cust", datetime="day")
    with pytest.raises(InvalidInputError, match="needs a CustomerSummary, or a transaction log"):
        regularity(numeric)
    with pytest.raises(InvalidInputError, match="needs a CustomerSummary, or a transaction log"):
        regularity([1, 2, 3], customer_id="cust")


def test_too_few_customers_and_unbounded_k_are_typed_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"at least 2 customers with 2 or more .* 1 of 3 have them"):
        regularity(_summary_of_gaps([[1.0, 2.0], [3.0], []]))
    with pytest.raises(InvalidInputError, match=r"at least 2 customers with 4 or more"):
        regularity(_summary_of_gaps(GAPS), min_intervals=4)
    # Equal gaps within every customer: k has no finite estimate.
    with pytest.raises(InvalidInputError, match="unbounded"):
        regularity(_summary_of_gaps([[7.0, 7.0], [3.0, 3.0, 3.0]]))
    # Nearly equal gaps: Wheat & Morrison's k is finite (about 4e6), the likelihood still grows beyond k = 1e4.
    with pytest.raises(InvalidInputError, match="grows without bound"):
        regularity(_summary_of_gaps([[1000.0, 1001.0], [1000.0, 1000.0]]))


def test_wheat_stops_at_zero_when_the_sample_variance_exceeds_a_quarter() -> None:
    # M = 1/8 and 7/8: sample variance 2 * (3/8)^2 = 0.28125 > 1/4, where (1 - 4V) / (8V) = -0.0556 < 0.
    res = regularity(_summary_of_gaps([[1.0, 7.0], [7.0, 1.0]]), method="wheat")
    np.testing.assert_allclose(res.wheat_statistic, [1 / 8, 7 / 8])
    assert res.k == 0.0 and res.verdict == "clumpy" and res.order == 1
    assert res.estimate("mle").k > 0.0
