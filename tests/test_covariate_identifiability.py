"""Covariates that cannot be identified are typed errors before the fit, not a singular Hessian after it (issue 13).

Within a process the coefficients are identified when ``[1, z]`` has full column rank over the customers fitted
(the ``1`` stands for the process's own scale parameter). A constant non-zero column, a multiple of another
column and a linear combination of others (with a constant) each break that; an all-zero column is left out of
the fit (its coefficient is reported as 0) and breaks nothing.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov

from clvkit import Covariates, CustomerSummary
from clvkit.errors import InvalidInputError
from clvkit.valuation import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from clvkit.valuation.models import _paretonbd


def _summary(n: int = 600, seed: int = 0) -> tuple[CustomerSummary, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(30.0, 80.0, n)
    x, tx = _paretonbd.simulate(np.array([0.8, 8.0, 0.6, 12.0]), T, rng)
    m = np.where(x > 0, rng.gamma(4.0, 5.0, n), 0.0)
    ids = np.arange(n) + 10
    return CustomerSummary(x, tx, T, monetary_value=m, customer_id=ids, time_unit="W"), ids, rng


def _fit_strictly(call: Any) -> Any:
    """Run a fit with every warning an error: the refusal must come as a typed error, not after a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


def test_gamma_gamma_constant_spend_covariate_is_a_typed_error_not_a_warning() -> None:
    summary, ids, rng = _summary()
    cov = _Cov(ids, {"A": rng.integers(0, 2, ids.shape[0]), "K": np.full(ids.shape[0], 3.0)})
    with pytest.raises(InvalidInputError, match=r"spend covariate 'K' is constant .*\(not identifiable\)"):
        _fit_strictly(lambda: GammaGamma().fit(summary, spend_covariates=cov))


def test_gamma_gamma_collinear_spend_covariates_are_a_typed_error() -> None:
    summary, ids, rng = _summary()
    a = rng.integers(0, 2, ids.shape[0]).astype(float)
    cov = _Cov(ids, {"A": a, "twice_A": 2.0 * a})
    with pytest.raises(InvalidInputError, match="'twice_A' is a linear combination of 'A' and a constant"):
        _fit_strictly(lambda: GammaGamma().fit(summary, spend_covariates=cov))


@pytest.mark.parametrize("engine", [ParetoNBD(), BetaGeo(), ModifiedBetaGeo()])
@pytest.mark.parametrize(("process", "kind"), [("purchase", "constant"), ("dropout", "multiple"),
                                               ("purchase", "combination"), ("dropout", "complement")])
def test_count_models_refuse_rank_deficient_designs_naming_the_columns(engine: Any, process: str, kind: str) -> None:
    summary, ids, rng = _summary(seed=1)
    n = ids.shape[0]
    a, b = rng.integers(0, 2, n).astype(float), rng.normal(0.0, 1.0, n)
    bad = {"constant": np.full(n, -1.5), "multiple": -0.5 * b, "combination": 2.0 * a - b + 4.0,
           "complement": 1.0 - a}[kind]
    cov = _Cov(ids, {"A": a, "B": b, "C": bad})
    match = ("'C' is constant" if kind == "constant"
             else f"{process} covariate 'C' is a linear combination of 'A', 'B' and a constant")
    with pytest.raises(InvalidInputError, match=match):
        _fit_strictly(lambda: engine.fit(summary, **{f"{process}_covariates": cov}))


def test_constant_over_the_customers_fitted_is_refused_even_if_it_varies_elsewhere() -> None:
    summary, ids, _ = _summary(seed=2)
    channel = (ids % 2).astype(float)
    cov = _Cov(ids, {"Channel": channel})
    online = summary.take(np.flatnonzero(channel == 1.0))
    with pytest.raises(InvalidInputError, match=r"'Channel' is constant .* for every customer fitted"):
        ParetoNBD().fit(online, purchase_covariates=cov)


def test_identifiable_designs_still_fit_and_zero_columns_are_left_out() -> None:
    summary, ids, rng = _summary(seed=3)
    n = ids.shape[0]
    # Few distinct rows (the fit evaluates the kernel once per distinct covariate row).
    a, b = rng.integers(0, 2, n).astype(float), rng.integers(-1, 3, n).astype(float)
    near = a + 0.5 * b + 0.5 * rng.integers(0, 2, n)  # correlated with A and B, not a combination of them
    cov = _Cov(ids, {"A": a, "B": b, "near": near, "Z1": np.zeros(n), "Z2": np.zeros(n)})
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, equal=("A",))
    assert fitted.coefficients["purchase"]["Z1"] == 0.0 and fitted.coefficients["dropout"]["Z2"] == 0.0
    assert fitted.standard_errors is not None and "purchase.near" in fitted.standard_errors
    # A column that is zero in one process only (constrained equal) is identified by the other.
    half = _Cov(ids, {"A": np.zeros(n), "B": b})
    fitted = ParetoNBD().fit(summary, purchase_covariates=half, dropout_covariates=cov, equal=("A",))
    assert fitted.coefficients["purchase"]["A"] == fitted.coefficients["dropout"]["A"] != 0.0


def test_processes_are_checked_jointly() -> None:
    # In the purchase process C = 2 A, but A is constrained equal and the dropout process identifies it, so
    # gamma_C = (purchase effect of A - gamma_A) / 2 is identified too.
    summary, ids, rng = _summary(n=1500, seed=5)
    a = rng.integers(0, 2, ids.shape[0]).astype(float)
    purchase, dropout = _Cov(ids, {"A": a, "C": 2.0 * a}), _Cov(ids, {"A": a})
    fitted = ParetoNBD().fit(summary, purchase_covariates=purchase, dropout_covariates=dropout, equal=("A",))
    assert fitted.standard_errors is not None and "purchase.C" in fitted.standard_errors
    # Without the constraint the purchase coefficients of A and C cannot be told apart.
    with pytest.raises(InvalidInputError, match="purchase covariate 'C' is a linear combination of 'A' and a constant"):
        ParetoNBD().fit(summary, purchase_covariates=purchase, dropout_covariates=dropout)
    # Constant within each process (1 for purchase, 2 for dropout) and constrained equal: both scales absorb it.
    k1, k2 = _Cov(ids, {"K": np.ones(ids.shape[0])}), _Cov(ids, {"K": np.full(ids.shape[0], 2.0)})
    with pytest.raises(InvalidInputError, match=r"covariate 'K' \(constrained equal across the processes\) is "):
        ParetoNBD().fit(summary, purchase_covariates=k1, dropout_covariates=k2, equal=("K",))


def test_clvkit_covariates_coded_with_a_design_are_checked_over_the_customers_fitted() -> None:
    # Covariates.static refuses a constant column when it makes a design, but not data coded with a given design
    # (one new customer is constant in every column): the fit's own check catches it.
    summary, ids, _ = _summary(seed=4)
    first = Covariates.static({"id": ids, "Channel": np.where(ids % 2 == 0, "shop", "web")}, customer_id="id",
                              columns=["Channel"])
    recoded = Covariates.static({"id": ids, "Channel": np.full(ids.shape[0], "web")}, customer_id="id",
                                columns=["Channel"], design=first.design)
    with pytest.raises(InvalidInputError, match=r"'Channel\[web\]' is constant"):
        BetaGeo().fit(summary, purchase_covariates=recoded)
