"""The value of a customer not yet seen: from what is known at sign-up (their covariates) alone.

``value = margin x E[spend per purchase] x DERT``, where DERT is the present value of all the customer's repeat
purchases, ``sum_k E[purchases in period k] / (1 + d)^k`` in the limit of short periods (Fader, Hardie & Lee 2005,
"RFM and CLV"), for a customer just acquired: frequency, recency and age all 0, so the model's conditional
expectations are its prior ones and DERT is ``integral_0^inf exp(-delta t) dE[X(t)]`` with ``delta = log(1 + d)``
and ``E[X(t)]`` the model's ``expected_purchases_new_customer`` (BG/BB, in discrete time:
``sum_k (E[X(k)] - E[X(k-1)]) / (1 + d)^k``). The expected spend of a customer without purchases
is the spend model's population mean at the customer's own scale (Gamma-Gamma: ``p v_i / (q - 1)``).

Only the models' public prediction methods are used (through :mod:`clvkit.valuation.protocols`): the fresh
customers are a :class:`~clvkit.CustomerSummary` of zeros keyed by their ids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..._validation import check_scalar
from ...batch import CustomerSummary
from ...covariates import customer_rows
from ...errors import InvalidInputError
from ..protocols import SpendModel

__all__ = ["new_customer_value"]

FloatArray = npt.NDArray[np.float64]


def new_customer_value(
    transaction_model: Any,
    spend_model: SpendModel | float | Any,
    *,
    discount_rate: float,
    margin: float = 1.0,
    purchase_covariates: Any = None,
    dropout_covariates: Any = None,
    spend_covariates: Any = None,
    customer_id: Any = None,
) -> FloatArray:
    """Expected discounted value of newly acquired customers: ``margin x spend x DERT`` of a fresh customer.

    The residual lifetime value of a customer at the moment of their first purchase (the repeat purchases
    only, the first one already made), infinite horizon: ``sum_k E[purchases in period k] / (1 + d)^k``, in the
    limit of short periods for a continuous-time model (continuous discounting at ``log(1 + d)`` per time unit),
    per transaction opportunity for BG/BB. With covariates, each customer's own parameters (the fit's links):
    what the acquisition of such a customer is worth, before any purchase history.

    Parameters
    ----------
    transaction_model:
        A fitted count model with ``discounted_expected_residual_transactions(summary, discount_rate)``
        (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB).
    spend_model:
        A fitted spend model with ``expected_spend(summary)`` (e.g. ``FittedGammaGamma``: the population mean
        spend, or with spend covariates each customer's ``p v_i / (q - 1)``), or a spend per purchase: a number or
        an array of shape (n_customers,).
    discount_rate:
        ``d``, discrete, per time unit of the transaction model (weekly model, 10% a year:
        ``1.1 ** (1 / 52) - 1``); > 0 for continuous-time models.
    margin:
        Profit margin applied to spend, in [0, 1].
    purchase_covariates, dropout_covariates, spend_covariates:
        The covariates of the customers to value, for models fitted with covariates (e.g.
        ``clvkit.Covariates.static(...)`` of sign-up data, coded with the fit's design).
    customer_id:
        The customers to value, in the order wanted; default: the customers of the first covariates given
        (:class:`clvkit.Covariates`: ascending id). Without covariates and ``customer_id``: one value.

    Returns
    -------
    numpy.ndarray of shape (n_customers,)
        One value per customer (shape (1,) for one customer of a model without covariates).

    Raises
    ------
    InvalidInputError
        For a rate or margin out of range, covariates that a model does not take or lacks, a model without
        ``discounted_expected_residual_transactions``, or a spend that is negative, non-finite or of another
        shape.

    Examples
    --------
    A customer just acquired under the Pareto/NBD fitted to CDNOW (weekly), spending 20 per purchase, 15% a year:

    >>> from clvkit.valuation import FittedParetoNBD, ParetoNBDParams
    >>> m = FittedParetoNBD(params=ParetoNBDParams(r=0.55, alpha=10.58, s=0.61, beta=11.67), time_unit="W")
    >>> d = 1.15 ** (1 / 52) - 1
    >>> new_customer_value(m, 20.0, discount_rate=d).round(2).tolist()
    [78.14]

    The same as 20 x the discounted increments of the new-customer curve, ``delta int exp(-delta t) E[X(t)] dt``:

    >>> from scipy import integrate
    >>> delta = np.log1p(d)
    >>> curve = lambda t: delta * np.exp(-delta * t) * float(m.expected_purchases_new_customer(t))
    >>> round(20.0 * integrate.quad(curve, 0.0, np.inf, limit=500)[0], 2)
    78.14
    """
    where = "new_customer_value()"
    mg = check_scalar(margin, "margin", where, low=0.0, high=1.0)
    dert = getattr(transaction_model, "discounted_expected_residual_transactions", None)
    if not callable(dert) or not isinstance(getattr(transaction_model, "time_unit", None), str):
        raise InvalidInputError(
            f"The 'transaction_model' parameter of {where} must be a fitted count model with "
            f"discounted_expected_residual_transactions() (e.g. FittedParetoNBD). Got "
            f"{type(transaction_model).__name__} instead."
        )
    covariates = {"purchase": purchase_covariates, "dropout": dropout_covariates, "spend": spend_covariates}
    ids = customer_rows(customer_id, covariates, where)
    n = 1 if ids is None else int(ids.shape[0])
    zeros = np.zeros(n)
    fresh = CustomerSummary(zeros, zeros, zeros, monetary_value=zeros, customer_id=ids,
                            time_unit=transaction_model.time_unit)
    count_covariates = {k: v for k, v in (("purchase_covariates", purchase_covariates),
                                          ("dropout_covariates", dropout_covariates)) if v is not None}
    discounted = np.asarray(dert(fresh, discount_rate, **count_covariates), dtype=np.float64)
    spend = _spend(spend_model, fresh, spend_covariates, n, where)
    value: FloatArray = mg * spend * discounted
    if value.shape != (n,) or not np.all(np.isfinite(value)):
        raise InvalidInputError(f"{where} produced values that are not finite; check the models' parameters and the "
                                f"spend input.")
    return value


def _spend(spend_model: Any, fresh: CustomerSummary, spend_covariates: Any, n: int, where: str) -> FloatArray:
    if isinstance(spend_model, SpendModel):
        extra = {} if spend_covariates is None else {"spend_covariates": spend_covariates}
        spend = np.asarray(spend_model.expected_spend(fresh, **extra), dtype=np.float64)
    else:
        if spend_covariates is not None:
            raise InvalidInputError(f"{where}: spend_covariates need a fitted spend model (e.g. FittedGammaGamma), "
                                    f"not a number.")
        try:
            spend = np.broadcast_to(np.asarray(spend_model, dtype=np.float64), (n,)).copy()
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"The 'spend_model' parameter of {where} must be a fitted spend model, a number or an array of "
                f"shape ({n},). Got {type(spend_model).__name__} instead."
            ) from None
    if spend.shape != (n,) or not np.all(np.isfinite(spend)) or np.any(spend < 0):
        raise InvalidInputError(f"The spend per purchase given to {where} must be finite, non-negative and of shape "
                                f"({n},).")
    return spend
