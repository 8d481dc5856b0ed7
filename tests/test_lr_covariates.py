"""Likelihood-ratio tests across covariate specifications (issue 13, scope 4) on the apparel data.

The expected statistic is ``2 (LL_full - LL_restricted)`` from the two fits' own log-likelihoods, the
degrees of freedom are counted from the specifications (the inputs), and the p-value comes from
scipy.stats.chi2, independently of clvkit's chi-square survival function.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from clvkit import Covariates, CustomerSummary
from clvkit.errors import InvalidInputError
from clvkit.valuation import BetaGeo, ModifiedBetaGeo, ParetoNBD, likelihood_ratio_test


@pytest.fixture(scope="module")
def apparel(shared_data: Any) -> tuple[CustomerSummary, Any, Any]:
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    trans = trans[trans.Date <= "2006-12-31"]
    summary = summarize(trans, customer_id="Id", datetime="Date", time_unit="W", observation_end="2006-12-31")
    frame = pd.read_csv(shared_data("apparel_static_cov.csv"))
    cov = Covariates.static(frame, customer_id="Id", columns=["Gender", "Channel"])
    return summary, cov, Covariates.static(frame, customer_id="Id", columns=["Gender"])


@pytest.fixture(scope="module")
def fits(apparel: tuple[CustomerSummary, Any, Any]) -> dict[str, Any]:
    summary, cov, _ = apparel
    return {
        "none": ParetoNBD().fit(summary),
        "both": ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov),
        "equal": ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, equal=["Gender"]),
    }


def _expected(restricted: Any, full: Any, df: int) -> tuple[float, float]:
    stat = 2.0 * (full.fit_info.log_likelihood - restricted.fit_info.log_likelihood)
    return stat, float(stats.chi2.sf(stat, df))


def test_no_covariates_against_gender_and_channel_in_both_processes(fits: dict[str, Any]) -> None:
    res = likelihood_ratio_test(fits["none"], fits["both"])
    assert res.df == 2 * 2  # two covariates in each of two processes
    stat, p = _expected(fits["none"], fits["both"], 4)
    assert stat > 0 and res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)


def test_gender_equal_across_processes_against_free(fits: dict[str, Any]) -> None:
    res = likelihood_ratio_test(fits["equal"], fits["both"])
    assert res.df == 1  # one coefficient for Gender instead of two
    stat, p = _expected(fits["equal"], fits["both"], 1)
    assert res.statistic == pytest.approx(max(stat, 0.0), rel=1e-9, abs=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)
    # The equal-constrained model itself nests the model without covariates: 3 free coefficients.
    assert likelihood_ratio_test(fits["none"], fits["equal"]).df == 3


def test_not_nested_or_other_data_is_refused(apparel: tuple[CustomerSummary, Any, Any],
                                             fits: dict[str, Any]) -> None:
    summary, cov, gender = apparel
    with pytest.raises(InvalidInputError, match="more free parameters"):
        likelihood_ratio_test(fits["both"], fits["none"])
    with pytest.raises(InvalidInputError, match="not nested"):
        likelihood_ratio_test(BetaGeo().fit(summary), fits["both"])
    bg_none = BetaGeo().fit(summary)
    with pytest.raises(InvalidInputError, match="not nested"):
        likelihood_ratio_test(bg_none, ModifiedBetaGeo().fit(summary), df=1)
    gender_purchase = ParetoNBD().fit(summary, purchase_covariates=gender)
    assert likelihood_ratio_test(gender_purchase, fits["both"]).df == 3
    with pytest.raises(InvalidInputError, match="constrains covariate 'Gender'"):
        likelihood_ratio_test(gender_purchase, fits["equal"])  # gamma_d = 0 is not gamma_d = gamma_p
    dropout_only = ParetoNBD().fit(summary, dropout_covariates=cov)
    with pytest.raises(InvalidInputError, match="purchase covariates"):
        likelihood_ratio_test(gender_purchase, dropout_only, df=1)
    half = summary.take(np.arange(summary.customer_id.shape[0] // 2))
    with pytest.raises(InvalidInputError, match="same customers"):
        likelihood_ratio_test(ParetoNBD().fit(half), fits["both"])
