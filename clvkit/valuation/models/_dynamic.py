"""Time-varying covariates in the one template: the fit's likelihood and the fitted models' predictions.

``Engine.fit`` hands over here when a process's covariates are dynamic (``Covariates.dynamic``); the
estimation itself is still :func:`._estimation.maximize_likelihood` (BFGS on the log parameters and the
coefficients, the same covariance and :class:`FitInfo`). Supported: Pareto/NBD (purchase and dropout covariates
time-varying) and BG/NBD (purchase covariates time-varying; dropout, which happens at purchases, static).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import InvalidInputError
from . import _bgnbd, _dyncov
from ._covariates import CoefficientLayout, Links, coefficient_columns
from ._dyncov_design import DynamicDesign, build_dynamic_design, horizon_pieces, is_dynamic

__all__ = ["DYNAMIC_MODELS", "any_dynamic", "dynamic_alive", "dynamic_expected", "dynamic_loglik", "fit_design"]

FloatArray = npt.NDArray[np.float64]

#: The models that take time-varying covariates, by the kernel family their fitted class declares.
DYNAMIC_MODELS = ("paretonbd", "bgnbd")


def any_dynamic(covariates: Mapping[str, Any]) -> bool:
    return any(is_dynamic(c) for c in covariates.values())


def fit_design(summary: Any, covariates: Mapping[str, Any], equal: Sequence[str], links: Links, family: str,
               where: str) -> DynamicDesign:
    """The design of a time-varying fit, refusing the models and processes that cannot take it."""
    if family not in DYNAMIC_MODELS:
        raise InvalidInputError(
            f"{where}: time-varying covariates are supported by ParetoNBD and BetaGeo. Fit one of them, or pass "
            f"Covariates.static(...) of the values known per customer."
        )
    design = build_dynamic_design(summary, covariates, equal, links, where)
    if family == "bgnbd" and design.dropout_varies:
        raise InvalidInputError(
            f"{where}: in the BG/NBD model customers drop out only right after a purchase, so a dropout covariate "
            f"cannot vary in time there. Pass the dropout covariates with Covariates.static(...), or fit ParetoNBD, "
            f"whose dropout process runs in time."
        )
    return design


def dynamic_loglik(design: DynamicDesign, family: str, x: FloatArray) -> Any:
    """The kernel ``(theta, data) -> (ll, grad)`` over ``(params, gamma)`` for :func:`maximize_likelihood`."""
    pieces, S = design.pieces, design.S

    def loglik(theta: FloatArray, _data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        if family == "paretonbd":
            return _dyncov.loglik(theta[:4], theta[4:], x, S, pieces)
        return _dyncov.bgnbd_loglik(theta[:4], theta[4:], x, S, pieces, design.zd_static)

    return loglik


def _gamma(coefficients: Mapping[str, Mapping[str, float]], layout: CoefficientLayout) -> FloatArray:
    gamma = np.zeros(layout.n_free)
    for process, cols in layout.columns.items():
        for name, index in cols:
            if index >= 0:
                gamma[index] = coefficients[process][name]
    return gamma


def layout_of(coefficients: Mapping[str, Mapping[str, float]], equal: Sequence[str], links: Links
              ) -> CoefficientLayout:
    """The coefficient layout of a fitted model (each coefficient one free column; an ``equal`` one shared)."""
    names = {process: tuple(coef) for process, coef in coefficients.items() if coef}
    labels, columns, equal_set = coefficient_columns(names, equal, links, "layout_of()")
    return CoefficientLayout(tuple(labels), columns, {}, equal_set)


def _static_dropout_rows(summary: Any, covariates: Mapping[str, Any], layout: CoefficientLayout,
                         where: str) -> FloatArray:
    n = len(summary)
    zd = np.zeros((n, layout.n_free))
    cov = covariates.get("dropout")
    cols = layout.columns.get("dropout", ())
    if cov is None or not cols:
        return zd
    if is_dynamic(cov):
        raw = np.asarray(cov.align(summary.customer_id), dtype=np.float64)  # constant in time, or a typed error
    else:
        raw = np.asarray(cov.align(summary.customer_id), dtype=np.float64)
    names = tuple(str(v) for v in cov.names)
    for name, index in cols:
        if name not in names:
            raise InvalidInputError(f"{where}: the dropout covariates lack '{name}', which the model was fitted with.")
        zd[:, index] = raw[:, names.index(name)]
    return zd


def _prepare(model: Any, summary: Any, covariates: Mapping[str, Any], t: float, where: str
             ) -> tuple[FloatArray, FloatArray, _dyncov.Pieces, _dyncov.Pieces, FloatArray, CoefficientLayout]:
    given = {p: c for p, c in covariates.items() if c is not None}
    needed = [p for p, values in model.coefficients.items() if values]
    missing = [p for p in needed if p not in given]
    if missing:
        raise InvalidInputError(
            f"{where}: this model was fitted with time-varying covariates; pass "
            f"{' and '.join(p + '_covariates' for p in needed)} covering each customer's calibration period"
            f"{' and the prediction horizon' if t > 0 else ''} (matched by the summary's customer_id)."
        )
    layout = layout_of(model.coefficients, model.equal, model.covariate_links)
    cal, hor, S = horizon_pieces(summary, {p: given[p] for p in needed}, layout, t, where)
    return _gamma(model.coefficients, layout), S, cal, hor, np.asarray(summary.frequency, dtype=np.float64), layout


def dynamic_alive(model: Any, family: str, summary: Any, covariates: Mapping[str, Any], where: str) -> FloatArray:
    """P(alive at T) of a model fitted with time-varying covariates."""
    gamma, S, cal, _, x, layout = _prepare(model, summary, covariates, 0.0, where)
    params = model.param_array()
    if family == "paretonbd":
        return np.exp(_dyncov.log_probability_alive(params, gamma, x, S, cal))
    return _bgnbd_by_group(model, summary, covariates, layout, gamma, cal, x, where,
                           lambda p, xg, atx, at, _h: _bgnbd.probability_alive(p, xg, atx, at), None)


def dynamic_expected(model: Any, family: str, summary: Any, t: float, covariates: Mapping[str, Any], where: str,
                     discount: float = 0.0) -> FloatArray:
    """Expected purchases in ``(T, T + t]`` with the horizon's covariates (discounted continuously at ``discount``
    per time unit when given: Pareto/NBD only)."""
    if family != "paretonbd" and discount > 0.0:
        raise InvalidInputError(
            f"{where}: discounting within the horizon is available for ParetoNBD with time-varying covariates; for "
            f"BetaGeo use clvkit.valuation.clv(), which discounts period by period."
        )
    gamma, S, cal, hor, x, layout = _prepare(model, summary, covariates, t, where)
    params = model.param_array()
    if family == "paretonbd":
        return _dyncov.expected_purchases(params, gamma, x, S, cal, hor, discount)
    n = x.shape[0]
    op_h = _dyncov.operational_times(gamma, hor, n)
    return _bgnbd_by_group(model, summary, covariates, layout, gamma, cal, x, where,
                           lambda p, xg, atx, at, h: _bgnbd.expected_purchases(p, xg, atx, at, h), op_h.A)


def _bgnbd_by_group(model: Any, summary: Any, covariates: Mapping[str, Any], layout: CoefficientLayout,
                    gamma: FloatArray, cal: _dyncov.Pieces, x: FloatArray, where: str, call: Any,
                    horizon: FloatArray | None) -> FloatArray:
    """A BG/NBD prediction in operational time, per group of customers with equal dropout parameters."""
    n = x.shape[0]
    op = _dyncov.operational_times(gamma, cal, n)
    before = ~cal.after
    Atx = np.bincount(cal.customer[before], weights=(op.a * cal.length)[before], minlength=n)
    zd = _static_dropout_rows(summary, covariates, layout, where)
    scale = np.exp(zd @ gamma)
    params = model.param_array()
    out = np.empty(n)
    uniq, inverse = np.unique(scale, return_inverse=True)
    h = np.zeros(n) if horizon is None else horizon
    for g, value in enumerate(uniq):
        idx = np.flatnonzero(inverse.reshape(-1) == g)
        p = np.array([params[0], params[1], params[2] * value, params[3] * value])
        out[idx] = call(p, x[idx], Atx[idx], op.A[idx], h[idx])
    return out
