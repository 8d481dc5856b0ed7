"""Gamma-Gompertz/NBD with static covariates against CLVTools 0.12.1 on its apparel data (issue 14).

The declaration under test (``FittedGammaGompertzNBD.covariate_links``) is CLVTools' link,
``alpha_i = alpha exp(-gamma_trans' z_i)`` and ``beta_i = beta exp(-gamma_life' z_i)`` ("trans." = purchase,
"life." = dropout), with ``r``, ``b`` and ``s`` shared by all customers.

Sources of the expected numbers (numbers are facts and cited; no code or prose is taken from either source): the R
package CLVTools 0.12.1 (R 4.6.1) run on its apparel data (600 customers, weekly, estimation split at 104 weeks;
Gender and Channel in both processes) and recorded at full precision in the public repository
``neilmurrayee/clvtools``, folder ``tests/fixtures/``:

- ``ggomnbd_staticcov_fit.json``, ``ggomnbd_staticcov_mle.csv``, ``ggomnbd_staticcov_constrained_fit.json``,
  ``ggomnbd_staticcov_regularized_0_1.json`` (commit 3fed2be9389a01d3aa0fde834a765b18c6f422be);
- ``newcustomer_static_ggomnbd.json`` (commit f0507eeb467ad3b3a1801d091314b9cb7234f00f);
- ``pairs/ggomnbd_staticcov.json`` (commit 0687bfb065073e715e40b80dddef28c39ce6165c): CLVTools' own C++ entry points
  (``ggomnbd_staticcov_LL_ind``, ``_LL_sum``, ``_PAlive``, ``_CET`` over 52 weeks, ``_expectation`` at 52 weeks,
  ``_PMF`` of x = 3 over each customer's T.cal) at two points, "mle" (the estimates of
  ``ggomnbd_staticcov_fit.json``) and "offset" (r, alpha, b, s, beta = 0.8, 8, 0.01, 0.5, 2; life Gender, Channel =
  0.2, -0.25; trans = -0.1, 0.35), on the customers of ``pairs/_prelude_apparel_staticcov.json`` (commit
  e271ad39b85b0bade4e5c480df7106dc1d09f862), in CLVTools' customer order (ids as strings: 1, 10, 100, 101, 102, 103,
  ...). The first six customers are typed in below; they cover the four Gender x Channel groups.

The data are CLVTools' apparel data in ``../shared/data`` with CLVTools' customer table (same-day purchases merged,
time in days / 7; see tests/test_clvtools_apparel.py).

Tolerances: the likelihood function at CLVTools' points is the same formula evaluated by different quadratures of the
dropout integral: 1e-10 relative (measured 3e-14 on the total, ~1e-15 per customer). CET integrates numerically on
both sides; at the fitted point ``b = 3.1e-6`` the integrand is nearly degenerate and the two quadratures agree to
1.5e-7 (the recording repository's own measurement, matched here), so 1e-6; at the offset point 1e-9. Fits: the
likelihood ridge rule of tests/test_clvtools_apparel.py (an estimate may lie ``sqrt(2 |LL gap|)`` standard errors
from the other optimiser's).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

from clvkit import Covariates, CustomerSummary
from clvkit.errors import ConvergenceWarning
from clvkit.valuation import FittedGammaGompertzNBD, GammaGompertzNBD, GammaGompertzNBDParams
from clvkit.valuation.models import _ggomnbd

CALIBRATION_END = "2006-12-31"
NAMES = ("r", "alpha", "b", "s", "beta")
FIT_NOISE = 1e-7

# ------------------------------------------------------------------ reference values (CLVTools 0.12.1)
# ggomnbd_staticcov_fit.json
STATIC = {"r": 1.8368056462924693, "alpha": 92.854427789559637, "b": 0.0000030995944247600156,
          "s": 0.59277971715678002, "beta": 0.00015408250586313081, "dropout.Gender": -0.64238583716461772,
          "dropout.Channel": 0.78920986087314871, "purchase.Gender": 0.28592699395494048,
          "purchase.Channel": 0.62387991647314855}
STATIC_SE = {"r": 0.3451879956995158, "alpha": 16.954274741889556, "b": 0.0016957049267320727,
             "s": 0.26172858970740925, "beta": 0.0016957049267320727, "dropout.Gender": 0.29539256727850483,
             "dropout.Channel": 0.3056623094275695, "purchase.Gender": 0.10415723525103839,
             "purchase.Channel": 0.10496419650150671}
STATIC_LL = -5821.0629598067562
# ggomnbd_staticcov_constrained_fit.json: Gender constrained equal across the processes ("constr.Gender").
EQUAL = {"r": 1.7465219337399147, "alpha": 94.461255475299964, "b": 0.014852425293174841, "s": 0.25627110425022237,
         "beta": 0.66009757742600417, "dropout.Channel": 1.3280534137460722, "purchase.Channel": 0.64364259839435556,
         "purchase.Gender": 0.35913027317643431, "dropout.Gender": 0.35913027317643431}
EQUAL_LL = -5826.2060355912163
# ggomnbd_staticcov_regularized_0_1.json: reg.lambdas 0.1 in both processes. Its "logLik" is the objective CLVTools
# maximises: the mean log-likelihood per customer less 0.1 * (sum of the squared coefficients).
REGULARIZED = {"r": 1.7350691588246083, "alpha": 69.631613228262566, "b": 0.0000081970659193564497,
               "s": 0.55718203438188008, "beta": 0.00034280881448875943, "dropout.Gender": -0.085410916502064935,
               "dropout.Channel": 0.047333123528992639, "purchase.Gender": 0.16882939116223122,
               "purchase.Channel": 0.23815484700934031}
REGULARIZED_OBJECTIVE = -9.7307863689447345
# pairs/ggomnbd_staticcov.json, the "offset" point (its Python side's GGOMNBD_GRID).
OFFSET = {"r": 0.8, "alpha": 8.0, "b": 0.01, "s": 0.5, "beta": 2.0, "dropout.Gender": 0.2, "dropout.Channel": -0.25,
          "purchase.Gender": -0.1, "purchase.Channel": 0.35}

# pairs/ggomnbd_staticcov.json, the first six customers (ids 1, 10, 100, 101, 102, 103) of each array.
PAIR_IDS = (1, 10, 100, 101, 102, 103)
PAIRS = {
    "mle": {
        "LL_sum": -5821.06295980675,
        "LL_ind": (-25.432546091946655, -10.766869685069429, -1.2065143337677195, -6.531053769486996,
                   -1.2065143337677195, -15.19886667529062),
        "PAlive": (0.9478153037075109, 0.9860391160679806, 0.4026309533375639, 0.3733300956588352,
                   0.4026309533375639, 0.9938416068677154),
        "CET": (1.7944112507715757, 1.0547153601734451, 0.20617770054478127, 0.35491970284102975,
                0.20617770054478127, 1.461999682292323),
    },
    "offset": {
        "LL_sum": -6126.409926310736,
        "LL_ind": (-24.63600121700092, -11.480551754447326, -1.7216549598348494, -7.031865666103423,
                   -1.7216549598348494, -15.336164325983217),
        "PAlive": (0.9462419089511411, 0.9811507250946657, 0.5012736658265925, 0.6033091411212619,
                   0.5012736658265925, 0.9957887238236034),
        "CET": (2.707493505362819, 1.137332492705718, 0.16601929413831468, 0.4653200725886893,
                0.16601929413831468, 1.6448148011859869),
    },
}
# The unconditional expectation at 52 weeks and P(X(104) = 3) of a new customer depend on the group only: customers
# 1 (Gender 0, Channel 0), 10 (1, 0), 101 (1, 1) and 103 (0, 1) of the same arrays. PMF@mle holds four distinct values
# that the first customers do not all show, so the mle PMF is checked as the set of the four group values.
GROUP_IDS = (1, 10, 101, 103)
EXPECTATION = {"mle": (0.8173517782141383, 1.1942839890619223, 1.9759328531871494, 1.2827640752963514),
               "offset": (4.849908388912911, 4.3290831241010705, 6.246574396019024, 6.980605103217237)}
PMF3_OFFSET = (0.06830456091353311, 0.0713265108879236, 0.06103155843963881, 0.05752544792757678)
PMF3_MLE_VALUES = (0.08328123647733393, 0.08389524920429237, 0.09624764805553009, 0.10887738528805739)
# ggomnbd_staticcov_mle.csv: alpha.i and beta.i of the four groups (15 printed digits), customers 1, 10, 101, 103.
ALPHA_I = (92.8544277895596, 69.7631532694367, 37.3833741369403, 49.7570945642641)
BETA_I = (0.000154082505863131, 0.000292912534817825, 0.000133041909498822, 6.99848192333041e-05)
# newcustomer_static_ggomnbd.json: the full-data fit's estimates and a prospective customer's expected transactions
# in 52 weeks, counting the first purchase (clvkit's E[X(t)] counts repeat purchases, so CLVTools' = clvkit's + 1, as
# for Pareto/NBD in tests/test_clvtools_apparel.py).
NEW_CUSTOMER = {"r": 1.6935514955149433, "alpha": 85.617580666496636, "b": 0.0000014502349421056784,
                "s": 0.69872204622254741, "beta": 0.000081975401352801566, "dropout.Gender": -0.66427960253553131,
                "dropout.Channel": 0.55470516663683889, "purchase.Gender": 0.29995592633365159,
                "purchase.Channel": 0.55832134141727052}
NEW_CUSTOMER_52 = {"gender0.channel0": 1.8059234763886567, "gender1.channel1": 2.9400936880426842}


# ------------------------------------------------------------------ data and helpers
@pytest.fixture(scope="module")
def apparel(shared_data: Any) -> dict[str, Any]:
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    frame = pd.read_csv(shared_data("apparel_static_cov.csv"))
    summary = summarize(trans[trans.Date <= CALIBRATION_END], customer_id="Id", datetime="Date", time_unit="D",
                        observation_end=CALIBRATION_END).with_time_unit("W")
    return {"summary": summary, "cov": Covariates.static(frame, customer_id="Id", columns=["Gender", "Channel"])}


def _model(theta: dict[str, float]) -> FittedGammaGompertzNBD:
    return FittedGammaGompertzNBD(
        params=GammaGompertzNBDParams(**{n: theta[n] for n in NAMES}), time_unit="W",
        coefficients={p: {c: theta[f"{p}.{c}"] for c in ("Gender", "Channel")} for p in ("purchase", "dropout")})


def _at(summary: CustomerSummary, ids: tuple[int, ...]) -> CustomerSummary:
    pos = {v: i for i, v in enumerate(summary.customer_id.tolist())}
    return summary.take(np.array([pos[i] for i in ids]))


def _loglik_total(summary: CustomerSummary, cov: Any, theta: dict[str, float]) -> float:
    """The kernel of _ggomnbd summed over customers, each at its own parameters by the link written out here."""
    z = cov.align(summary.customer_id)
    alpha_i = theta["alpha"] * np.exp(-z @ [theta["purchase.Gender"], theta["purchase.Channel"]])
    beta_i = theta["beta"] * np.exp(-z @ [theta["dropout.Gender"], theta["dropout.Channel"]])
    ll = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        params = np.array([theta["r"], alpha_i[i], theta["b"], theta["s"], beta_i[i]])
        ll[i] = _ggomnbd.loglik(params, summary.frequency[i:i + 1], summary.recency[i:i + 1], summary.T[i:i + 1])[0][0]
    return float(ll.sum())


def _estimates(fitted: Any) -> dict[str, float]:
    out = dict(fitted.params.model_dump())
    for process, coefs in fitted.coefficients.items():
        out.update({f"{process}.{name}": value for name, value in coefs.items()})
    return out


def _ridge_tol(se: float, ll_gap: float) -> float:
    """How far two maximisers of a flat likelihood may differ in one parameter (tests/test_clvtools_apparel.py)."""
    return 1.5 * se * math.sqrt(2.0 * (abs(ll_gap) + FIT_NOISE))


def _fit(summary: CustomerSummary, cov: Any, **kwargs: Any) -> Any:
    # At the apparel optimum the Gompertz clock stops (b -> 0, the Pareto/NBD ridge: only beta / b is identified), so
    # the observed information is singular and clvkit warns that standard errors are unavailable. CLVTools' reports
    # the same degeneracy its own way: equal standard errors for b and beta (0.0016957049267320727 both).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GammaGompertzNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, **kwargs)


# ------------------------------------------------------------------ the likelihood at CLVTools' points
@pytest.mark.parametrize("point", ["mle", "offset"])
def test_log_likelihood_at_clvtools_points(apparel: dict[str, Any], point: str) -> None:
    theta = STATIC if point == "mle" else OFFSET
    summary, cov = apparel["summary"], apparel["cov"]
    assert _loglik_total(summary, cov, theta) == pytest.approx(PAIRS[point]["LL_sum"], rel=1e-10)
    if point == "mle":
        assert _loglik_total(summary, cov, theta) == pytest.approx(STATIC_LL, rel=1e-10)
    # What the fit optimises: the covariate likelihood object of the engine (groups, link, chain rule).
    engine = GammaGompertzNBD()
    design = engine._design(summary, {"purchase": cov, "dropout": cov, "spend": None}, ())
    likelihood = engine._covariate_likelihood(summary, design)[0]
    labels = design.labels  # free coefficients in the design's order
    values = np.array([theta[n] for n in NAMES] + [theta[label] for label in labels])
    total, _ = likelihood(values, {})
    assert float(total[0]) == pytest.approx(PAIRS[point]["LL_sum"], rel=1e-10)


def test_individual_parameters_are_clvtools_link(apparel: dict[str, Any]) -> None:
    model = _model(STATIC)
    groups = model._param_groups_of(np.array(GROUP_IDS), "test", {"purchase": apparel["cov"],
                                                                   "dropout": apparel["cov"]})
    got = np.empty((len(GROUP_IDS), 5))
    for idx, params in groups:
        got[idx] = params
    np.testing.assert_allclose(got[:, 1], ALPHA_I, rtol=1e-14)
    np.testing.assert_allclose(got[:, 4], BETA_I, rtol=1e-14)
    np.testing.assert_array_equal(got[:, [0, 2, 3]], np.tile([STATIC["r"], STATIC["b"], STATIC["s"]], (4, 1)))


@pytest.mark.parametrize("point", ["mle", "offset"])
def test_per_customer_predictions_at_clvtools_points(apparel: dict[str, Any], point: str) -> None:
    theta = STATIC if point == "mle" else OFFSET
    model, cov = _model(theta), apparel["cov"]
    customers = _at(apparel["summary"], PAIR_IDS)
    kw = {"purchase_covariates": cov, "dropout_covariates": cov}
    want = PAIRS[point]
    ll = np.array([_loglik_total(_at(apparel["summary"], (i,)), cov, theta) for i in PAIR_IDS])
    np.testing.assert_allclose(ll, want["LL_ind"], rtol=1e-10)
    np.testing.assert_allclose(model.probability_alive(customers, **kw), want["PAlive"], rtol=1e-10)
    np.testing.assert_allclose(model.expected_purchases(customers, 52, **kw), want["CET"],
                               rtol=1e-6 if point == "mle" else 1e-9)


@pytest.mark.parametrize("point", ["mle", "offset"])
def test_new_customer_expectation_and_pmf_at_clvtools_points(apparel: dict[str, Any], point: str) -> None:
    theta = STATIC if point == "mle" else OFFSET
    model, cov = _model(theta), apparel["cov"]
    kw = {"purchase_covariates": cov, "dropout_covariates": cov, "customer_id": np.array(GROUP_IDS)}
    np.testing.assert_allclose(model.expected_purchases_new_customer(52, **kw), EXPECTATION[point], rtol=1e-9)
    pmf = model.probability_of_purchases_new_customer(3, 104, **kw)
    if point == "offset":
        np.testing.assert_allclose(pmf, PMF3_OFFSET, rtol=1e-9)
    else:
        np.testing.assert_allclose(np.sort(pmf), PMF3_MLE_VALUES, rtol=1e-9)


def test_new_customer_expected_transactions_of_the_full_data_fit(apparel: dict[str, Any]) -> None:
    model, cov = _model(NEW_CUSTOMER), apparel["cov"]
    # Customer 1 is Gender 0, Channel 0; customer 101 is Gender 1, Channel 1 (apparel_static_cov.csv).
    got = model.expected_purchases_new_customer(52, purchase_covariates=cov, dropout_covariates=cov,
                                                customer_id=np.array([1, 101])) + 1.0
    np.testing.assert_allclose(got, [NEW_CUSTOMER_52["gender0.channel0"], NEW_CUSTOMER_52["gender1.channel1"]],
                               rtol=1e-9)


# ------------------------------------------------------------------ fits
def test_fit_with_gender_and_channel_in_both_processes(apparel: dict[str, Any]) -> None:
    fitted = _fit(apparel["summary"], apparel["cov"])
    gap = fitted.log_likelihood - STATIC_LL
    # clvkit is not below CLVTools' optimum and close to it (measured: 2.7e-4 higher, further along the b -> 0 ridge).
    assert gap > -1e-6, f"clvkit stops {-gap:.2e} below CLVTools' log-likelihood"
    assert gap < 1e-3
    est = _estimates(fitted)
    for name in ("r", "alpha", "s", "purchase.Gender", "purchase.Channel", "dropout.Gender", "dropout.Channel"):
        assert est[name] == pytest.approx(STATIC[name], abs=_ridge_tol(STATIC_SE[name], gap)), name
    # On the ridge only the Pareto/NBD limit's beta / b is identified: the Gompertz clock nearly stops on both sides
    # and the ratios agree (49.7 and 49.5).
    assert est["b"] < 1e-4
    assert est["beta"] / est["b"] == pytest.approx(STATIC["beta"] / STATIC["b"], rel=2e-2)
    assert fitted.fit_info.n_params == 9
    # The fitted model predicts per covariate group: its log-likelihood is the kernel's total at its own estimates.
    assert _loglik_total(apparel["summary"], apparel["cov"], est) == pytest.approx(fitted.log_likelihood, rel=1e-12)


def test_fit_with_gender_equal_across_processes(apparel: dict[str, Any]) -> None:
    fitted = _fit(apparel["summary"], apparel["cov"], equal=["Gender"])
    gap = fitted.log_likelihood - EQUAL_LL
    assert gap > -1e-6, f"clvkit stops {-gap:.2e} below CLVTools' log-likelihood"
    assert gap < 1e-4  # measured: 4.0e-6 higher
    assert fitted.coefficients["purchase"]["Gender"] == fitted.coefficients["dropout"]["Gender"]
    assert fitted.fit_info.n_params == 8
    # Away from the ridge (b = 0.0149) the information is regular: clvkit's standard errors scale the comparison.
    est, se = _estimates(fitted), fitted.standard_errors
    assert se is not None
    for name, value in EQUAL.items():
        assert est[name] == pytest.approx(value, abs=_ridge_tol(se[name], gap)), name


def test_regularized_fit(apparel: dict[str, Any]) -> None:
    summary, cov = apparel["summary"], apparel["cov"]
    n = float(len(summary))

    def objective(theta: dict[str, float]) -> float:
        gamma = np.array([theta[k] for k in theta if "." in k])
        return _loglik_total(summary, cov, theta) / n - 0.1 * float(gamma @ gamma)

    # CLVTools' reported objective is the one written out above, at its estimates.
    assert objective(REGULARIZED) == pytest.approx(REGULARIZED_OBJECTIVE, rel=1e-12)
    fitted = _fit(summary, cov, regularization={"purchase": 0.1, "dropout": 0.1})
    assert fitted.fit_info.regularization == {"purchase": 0.1, "dropout": 0.1}
    est = _estimates(fitted)
    gap = objective(est) - REGULARIZED_OBJECTIVE
    assert gap > -1e-9, f"clvkit stops {-gap:.2e} below CLVTools' penalised objective"
    assert gap < 1e-5  # measured: 1.1e-6 higher (per customer)
    # The penalty only adds curvature, so the penalised ridge is no flatter than the unpenalised one: the unpenalised
    # fit's standard errors bound how far two maximisers may lie apart (the gap is per customer: times n).
    for name in ("r", "alpha", "s", "purchase.Gender", "purchase.Channel", "dropout.Gender", "dropout.Channel"):
        assert est[name] == pytest.approx(REGULARIZED[name], abs=_ridge_tol(STATIC_SE[name], gap * n)), name
    # Shrinkage: every coefficient is smaller in size than in the unpenalised fit.
    for name in ("purchase.Gender", "purchase.Channel", "dropout.Gender", "dropout.Channel"):
        assert abs(est[name]) < abs(STATIC[name])


def test_fit_without_covariate_groups_equals_the_plain_fit(apparel: dict[str, Any]) -> None:
    # A covariate that is zero for everyone leaves no coefficient free: exactly the fit without covariates.
    summary = apparel["summary"]

    class Zero:
        names = ("Z",)

        def align(self, customer_id: Any, /) -> np.ndarray:
            return np.zeros((len(customer_id), 1))

    with_zero = _fit(summary, Zero())
    with warnings.catch_warnings():  # the same ridge as in _fit()
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = GammaGompertzNBD().fit(summary)
    assert with_zero.log_likelihood == plain.log_likelihood
    assert with_zero.coefficients == {"purchase": {"Z": 0.0}, "dropout": {"Z": 0.0}}
