"""Static covariates on the CNBD-k family (issue 14): CNBD-k, BG/CNBD-k and MBG/CNBD-k through the one template.

Expected values come from independent computations:

- k = 1: the CNBD-k family is NBD / BG/NBD / MBG/NBD, and the covariate links are those relatives' (CLVTools':
  ``alpha`` scaled by ``exp(-gamma_p' z)``; ``a`` and ``b`` by ``exp(gamma_d' z)``), so the covariate fit with k fixed
  to 1 must be clvkit's BG/NBD or MBG/NBD covariate fit on the same data - another engine with its own closed-form
  kernel (``_bgnbd``, ``_mbgnbd``) where the CNBD-k fit runs the general Erlang-k kernel (``_cnbd``);
- simulation: customers drawn at k = 2 in four covariate groups, each group at its individual parameters by the link
  written out here, recover k and the covariate effects (within four standard errors);
- predictions of a model with covariates equal, customer by customer, those of the model without covariates built at
  that customer's individual parameters (the link written out here).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov

from clvkit import Covariates, CustomerSummary, load_json
from clvkit.errors import ConvergenceWarning, InvalidInputError
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedModifiedBetaGeoCNBD,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
)
from clvkit.valuation.models import _bgnbd, _mbgnbd
from clvkit.valuation.models.cnbd import sum_log_interpurchase_times

GROUPS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))  # (purchase covariate Z1, dropout covariate Z2)
GAMMA_P, GAMMA_D = 0.5, -0.4  # alpha_i = alpha exp(-GAMMA_P z1); a_i, b_i = (a, b) exp(GAMMA_D z2)


def _individual(params: dict[str, float], z1: float, z2: float) -> dict[str, float]:
    """CLVTools' links written out: the purchase covariate scales alpha down, the dropout covariate a and b up."""
    out = dict(params, alpha=params["alpha"] * math.exp(-GAMMA_P * z1))
    if "a" in params:
        out.update(a=params["a"] * math.exp(GAMMA_D * z2), b=params["b"] * math.exp(GAMMA_D * z2))
    return out


def _simulate(fitted_class: Any, params: dict[str, float], n: int, seed: int
              ) -> tuple[CustomerSummary, np.ndarray, _Cov, _Cov]:
    """``n`` customers per covariate group observed 52 weeks, each group drawn at its individual parameters; the
    summary (with ids), every customer's sum of log inter-purchase times and the two covariates."""
    parts = []
    for g, (z1, z2) in enumerate(GROUPS):
        model = fitted_class(params=fitted_class.params_type(**_individual(params, z1, z2)), time_unit="W")
        sim = model.simulate(np.random.default_rng(seed + g).uniform(40.0, 52.0, n), seed=seed + 10 * g + 1)
        parts.append((sim, sum_log_interpurchase_times(sim)))
    ids = np.arange(n * len(GROUPS))
    summary = CustomerSummary(np.concatenate([p[0].frequency for p in parts]),
                              np.concatenate([p[0].recency for p in parts]),
                              np.concatenate([p[0].T for p in parts]), customer_id=ids, time_unit="W")
    z = np.repeat(np.array(GROUPS), n, axis=0)
    return summary, np.concatenate([p[1] for p in parts]), _Cov(ids, {"Z1": z[:, 0]}), _Cov(ids, {"Z2": z[:, 1]})


def _coefficient_vector(fitted: Any) -> np.ndarray:
    return np.array([v for process in sorted(fitted.coefficients) for v in fitted.coefficients[process].values()])


# ------------------------------------------------------------------ k = 1 is BG/NBD's and MBG/NBD's covariate fit
@pytest.mark.parametrize(("family", "relative", "fitted_class"), [
    (BetaGeoCNBD, BetaGeo, FittedBetaGeoCNBD),
    (ModifiedBetaGeoCNBD, ModifiedBetaGeo, FittedModifiedBetaGeoCNBD),
])
def test_k1_covariate_fit_is_the_relatives_covariate_fit(family: Any, relative: Any, fitted_class: Any) -> None:
    truth = {"k": 1, "r": 0.9, "alpha": 4.0, "a": 0.7, "b": 3.0}
    summary, _, cp, cd = _simulate(fitted_class, truth, 1500, seed=21)
    kw = {"purchase_covariates": cp, "dropout_covariates": cd}
    ours = family(k=1).fit(summary, **kw)
    theirs = relative().fit(summary, **kw)
    assert ours.params.k == 1
    assert ours.log_likelihood == pytest.approx(theirs.log_likelihood, abs=1e-6)
    np.testing.assert_allclose(ours.param_array(), theirs.param_array(), rtol=1e-6)
    np.testing.assert_allclose(_coefficient_vector(ours), _coefficient_vector(theirs), rtol=1e-6, atol=1e-6)
    assert ours.fit_info.n_params == theirs.fit_info.n_params == 6
    for name, se in theirs.standard_errors.items():
        assert ours.standard_errors[name] == pytest.approx(se, rel=1e-4), name
    # Same with Z1 in both processes constrained equal, and with regularised coefficients.
    both = _Cov(summary.customer_id, {"Z1": cp.align(summary.customer_id)[:, 0],
                                       "Z2": cd.align(summary.customer_id)[:, 0]})
    for extra in ({"equal": ["Z1"]}, {"regularization": {"purchase": 0.05, "dropout": 0.05}}):
        ours = family(k=1).fit(summary, purchase_covariates=both, dropout_covariates=both, **extra)
        theirs = relative().fit(summary, purchase_covariates=both, dropout_covariates=both, **extra)
        assert ours.log_likelihood == pytest.approx(theirs.log_likelihood, abs=1e-6), extra
        np.testing.assert_allclose(_coefficient_vector(ours), _coefficient_vector(theirs), rtol=1e-6, atol=1e-6)


def test_k1_mbgcnbd_equals_mbgnbd_on_apparel(shared_data: Any) -> None:
    # Real data: CLVTools' apparel customers with Gender and Channel in both processes (tests/test_clvtools_apparel.py
    # builds the same summary).
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    frame = pd.read_csv(shared_data("apparel_static_cov.csv"))
    summary = summarize(trans[trans.Date <= "2006-12-31"], customer_id="Id", datetime="Date", time_unit="D",
                        observation_end="2006-12-31").with_time_unit("W")
    cov = Covariates.static(frame, customer_id="Id", columns=["Gender", "Channel"])
    kw = {"purchase_covariates": cov, "dropout_covariates": cov}
    ours = ModifiedBetaGeoCNBD(k=1).fit(summary, **kw)
    theirs = ModifiedBetaGeo().fit(summary, **kw)
    assert ours.log_likelihood == pytest.approx(theirs.log_likelihood, abs=1e-6)
    np.testing.assert_allclose(ours.param_array(), theirs.param_array(), rtol=1e-6)
    np.testing.assert_allclose(_coefficient_vector(ours), _coefficient_vector(theirs), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ simulation at k = 2
@pytest.mark.parametrize(("engine", "fitted_class", "truth"), [
    (CNBD(), FittedCNBD, {"k": 2, "r": 1.2, "alpha": 3.0}),
    (BetaGeoCNBD(), FittedBetaGeoCNBD, {"k": 2, "r": 1.0, "alpha": 3.0, "a": 0.8, "b": 4.0}),
    (ModifiedBetaGeoCNBD(), FittedModifiedBetaGeoCNBD, {"k": 2, "r": 1.0, "alpha": 3.0, "a": 0.8, "b": 4.0}),
])
def test_simulation_at_k2_recovers_k_and_the_covariate_effects(engine: Any, fitted_class: Any,
                                                               truth: dict[str, float]) -> None:
    summary, litt, cp, cd = _simulate(fitted_class, truth, 2500, seed=5)
    dropout = cd if "a" in truth else None
    fitted = engine.fit(summary, purchase_covariates=cp, dropout_covariates=dropout, litt=litt)
    assert fitted.params.k == 2  # searched over 1..12 jointly with the covariate fit
    se = fitted.standard_errors
    assert abs(fitted.coefficients["purchase"]["Z1"] - GAMMA_P) < 4 * se["purchase.Z1"]
    if dropout is not None:
        assert abs(fitted.coefficients["dropout"]["Z2"] - GAMMA_D) < 4 * se["dropout.Z2"]
    for name in fitted.param_names:
        assert abs(getattr(fitted.params, name) - truth[name]) < 4 * se[name], name
    # The search's optimum is the fit at its k: a fixed-k fit lands on the same point.
    fixed = type(engine)(k=2).fit(summary, purchase_covariates=cp, dropout_covariates=dropout, litt=litt)
    assert fixed.log_likelihood == pytest.approx(fitted.log_likelihood, abs=1e-6)
    np.testing.assert_allclose(_coefficient_vector(fixed), _coefficient_vector(fitted), rtol=1e-5, atol=1e-6)
    # ... and its k maximises the profile: no other k scores higher.
    for k in (1, 3):
        other = type(engine)(k=k).fit(summary, purchase_covariates=cp, dropout_covariates=dropout, litt=litt)
        assert other.log_likelihood < fitted.log_likelihood, k


def test_covariates_improve_on_the_plain_fit_and_count_parameters() -> None:
    truth = {"k": 2, "r": 1.0, "alpha": 3.0, "a": 0.8, "b": 4.0}
    summary, litt, cp, cd = _simulate(FittedModifiedBetaGeoCNBD, truth, 1500, seed=9)
    plain = ModifiedBetaGeoCNBD(k=2).fit(summary, litt=litt)
    with_cov = ModifiedBetaGeoCNBD(k=2).fit(summary, purchase_covariates=cp, dropout_covariates=cd, litt=litt)
    # Nested models: the covariate fit cannot be worse (its coefficients at 0 are the plain fit).
    assert with_cov.log_likelihood > plain.log_likelihood
    assert with_cov.fit_info.n_params == plain.fit_info.n_params + 2
    searched = ModifiedBetaGeoCNBD().fit(summary, purchase_covariates=cp, dropout_covariates=cd, litt=litt)
    assert searched.fit_info.n_params == with_cov.fit_info.n_params + 1  # k counts when it is estimated


# ------------------------------------------------------------------ predictions with covariates
def test_predictions_are_the_plain_models_at_individual_parameters() -> None:
    base = {"r": 1.0, "alpha": 3.0, "a": 0.8, "b": 4.0}
    model = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=3, **base), time_unit="W",
                                      coefficients={"purchase": {"Z1": GAMMA_P}, "dropout": {"Z2": GAMMA_D}})
    ids = np.arange(8)
    z = np.array([GROUPS[i % 4] for i in ids])
    cp, cd = _Cov(ids, {"Z1": z[:, 0]}), _Cov(ids, {"Z2": z[:, 1]})
    summary = CustomerSummary([0, 1, 3, 7, 2, 0, 5, 9], [0.0, 4.0, 20.0, 45.0, 10.0, 0.0, 30.0, 50.0], np.full(8, 52.0),
                              customer_id=ids, time_unit="W")
    kw = {"purchase_covariates": cp, "dropout_covariates": cd}
    alive, expected = model.probability_alive(summary, **kw), model.expected_purchases(summary, 26.0, **kw)
    new = model.expected_purchases_new_customer(52.0, customer_id=ids, **kw)
    pmf = model.probability_of_purchases(summary, 2, 26.0, **kw)
    for i in ids:
        plain = FittedModifiedBetaGeoCNBD(
            params=ModifiedBetaGeoCNBDParams(k=3, **_individual(base, *z[i])), time_unit="W")
        one = summary.take(np.array([i]))
        assert alive[i] == pytest.approx(float(plain.probability_alive(one)[0]), rel=1e-13)
        assert expected[i] == pytest.approx(float(plain.expected_purchases(one, 26.0)[0]), rel=1e-13)
        assert pmf[i] == pytest.approx(float(plain.probability_of_purchases(one, 2, 26.0)[0]), rel=1e-13)
        assert new[i] == pytest.approx(float(plain.expected_purchases_new_customer(52.0)), rel=1e-13)
    with pytest.raises(InvalidInputError, match="covariates"):
        model.probability_alive(summary)  # fitted with covariates: they are needed
    again = load_json(model.to_json())
    assert again == model and isinstance(again, FittedModifiedBetaGeoCNBD)
    np.testing.assert_array_equal(again.probability_alive(summary, **kw), alive)


def test_k1_predictions_with_covariates_equal_the_closed_forms() -> None:
    # At k = 1 the family's kernel delegates to BG/NBD's closed forms; with covariates, per customer, the BG/NBD
    # kernel at the individual parameters.
    base = {"r": 0.8, "alpha": 5.0, "a": 0.6, "b": 2.5}
    model = FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=1, **base), time_unit="W",
                              coefficients={"purchase": {"Z1": GAMMA_P}, "dropout": {"Z2": GAMMA_D}})
    ids = np.arange(4)
    z = np.array(GROUPS)
    summary = CustomerSummary([0, 2, 4, 6], [0.0, 10.0, 30.0, 40.0], np.full(4, 52.0), customer_id=ids, time_unit="W")
    got = model.probability_alive(summary, purchase_covariates=_Cov(ids, {"Z1": z[:, 0]}),
                                  dropout_covariates=_Cov(ids, {"Z2": z[:, 1]}))
    for i in ids:
        p = _individual(base, *z[i])
        want = _bgnbd.probability_alive(np.array([p["r"], p["alpha"], p["a"], p["b"]]), summary.frequency[i:i + 1],
                                        summary.recency[i:i + 1], summary.T[i:i + 1])
        assert got[i] == pytest.approx(float(want[0]), rel=1e-13)
    mbg = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=1, **base), time_unit="W",
                                    coefficients={"purchase": {"Z1": GAMMA_P}})
    new = mbg.expected_purchases_new_customer(39.0, purchase_covariates=_Cov(ids, {"Z1": z[:, 0]}), customer_id=ids)
    for i in ids:
        p = _individual(base, z[i][0], 0.0)
        want = _mbgnbd.expected_purchases_new(np.array([p["r"], p["alpha"], p["a"], p["b"]]), np.array([39.0]))
        assert new[i] == pytest.approx(float(want[0]), rel=1e-13)


def test_cnbd_coefficient_table_reads_the_purchase_rate() -> None:
    pytest.importorskip("pandas")
    truth = {"k": 2, "r": 1.2, "alpha": 3.0}
    summary, litt, cp, _ = _simulate(FittedCNBD, truth, 800, seed=3)
    fitted = CNBD(k=2).fit(summary, purchase_covariates=cp, litt=litt)
    table = fitted.coefficient_table()
    assert list(table.index) == ["purchase.Z1"]
    assert table.loc["purchase.Z1", "estimate"] == fitted.coefficients["purchase"]["Z1"]


# ------------------------------------------------------------------ what still does not apply: typed errors
def test_time_varying_covariates_are_refused_with_the_reason() -> None:
    weeks = np.array(["2005-01-02", "2005-01-09", "2005-01-02", "2005-01-09"], dtype="datetime64[ns]")
    dynamic = Covariates.dynamic({"id": [0, 0, 1, 1], "week": weeks, "season": [0, 1, 1, 0]},
                                 customer_id="id", period="week", columns=["season"])
    summary = CustomerSummary([1, 0], [1.0, 0.0], [2.0, 2.0], customer_id=np.array([0, 1]), time_unit="W")
    for engine in (CNBD(k=2), BetaGeoCNBD(), ModifiedBetaGeoCNBD(k=1)):
        with pytest.raises(InvalidInputError, match=r"static covariates only.*inter-purchase times"):
            engine.fit(summary, purchase_covariates=dynamic, litt=[0.1, 0.0])


def test_covariates_a_model_does_not_take_are_typed_errors() -> None:
    summary, litt, cp, cd = _simulate(FittedCNBD, {"k": 2, "r": 1.2, "alpha": 3.0}, 50, seed=1)
    with pytest.raises(InvalidInputError, match="no dropout covariates"):
        CNBD(k=2).fit(summary, dropout_covariates=cd, litt=litt)  # CNBD-k has no dropout process
    with pytest.raises(InvalidInputError, match="no spend covariates"):
        BetaGeoCNBD(k=2).fit(summary, spend_covariates=cp, litt=litt)
    with pytest.raises(InvalidInputError, match="regularization"):
        CNBD(k=2).fit(summary, purchase_covariates=cp, regularization={"dropout": 0.1}, litt=litt)
    with pytest.raises(InvalidInputError, match="equal"):
        BetaGeoCNBD(k=2).fit(summary, purchase_covariates=cp, dropout_covariates=cd, equal=["Z1"], litt=litt)
    no_ids = CustomerSummary(summary.frequency, summary.recency, summary.T, time_unit="W")
    with pytest.raises(InvalidInputError, match="customer_id"):
        CNBD(k=2).fit(no_ids, purchase_covariates=cp, litt=litt)


def test_all_zero_covariate_is_exactly_the_plain_fit() -> None:
    summary, litt, _, _ = _simulate(FittedBetaGeoCNBD, {"k": 2, "r": 1.0, "alpha": 3.0, "a": 0.8, "b": 4.0}, 300,
                                    seed=2)
    zero = _Cov(summary.customer_id, {"Z": np.zeros(len(summary))})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        plain = BetaGeoCNBD().fit(summary, litt=litt)
        with_zero = BetaGeoCNBD().fit(summary, purchase_covariates=zero, dropout_covariates=zero, litt=litt)
    assert with_zero.log_likelihood == plain.log_likelihood and with_zero.params == plain.params
    assert with_zero.coefficients == {"purchase": {"Z": 0.0}, "dropout": {"Z": 0.0}}

