"""Choosing between models: AIC/BIC, the likelihood-ratio test of nested models, and a holdout ranking.

- :func:`information_criteria` - AIC and BIC of one fit;
- :func:`likelihood_ratio_test` - a restricted model against a fuller one it is nested in;
- :func:`compare` - models ranked by their holdout error on one summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from ..._display import block, number, shorten, table
from ...batch import CustomerSummary
from ...errors import InvalidInputError, NotFittedError
from ...i18n import N_, Translator, translator
from ...protocols import EstimatedModel, FitDiagnostics
from .._registry import resolve_models
from ._common import CountModel, need_holdout
from .holdout import holdout_evaluation

__all__ = [
    "InformationCriteria",
    "LikelihoodRatioTest",
    "ModelComparison",
    "compare",
    "information_criteria",
    "likelihood_ratio_test",
]

Criterion = Literal["rmse", "mae", "aggregate"]


@dataclass(frozen=True)
class InformationCriteria:
    """Log-likelihood, parameter count and the AIC/BIC of one fit."""

    log_likelihood: float
    n_params: int
    n_customers: float
    aic: float
    bic: float


def _fit_info(fitted: EstimatedModel | Any, where: str) -> FitDiagnostics:
    info = fitted.fit_info if isinstance(fitted, EstimatedModel) else None
    if not isinstance(info, FitDiagnostics):
        raise NotFittedError(f"{where} needs a fitted model with fit diagnostics; this {type(fitted).__name__} was "
                             f"built from parameters. Fit it with its engine's fit() first.")
    return info


def information_criteria(fitted: EstimatedModel) -> InformationCriteria:
    """AIC ``2k - 2 LL`` and BIC ``k log(n) - 2 LL`` of a fitted model (k parameters, n customers).

    ``k`` is the length of the model's parameter array, so the criteria are defined even when the
    fit has no standard errors.

    Raises
    ------
    NotFittedError
        For a model built from parameters (it has no likelihood).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> ic = information_criteria(BetaGeo().fit(load_cdnow_summary()))
    >>> ic.n_params, round(ic.aic, 1), round(ic.bic, 1)
    (4, 19172.9, 19195.9)
    """
    info = _fit_info(fitted, "information_criteria()")
    k = int(np.asarray(fitted.param_array()).shape[0])
    ll = float(info.log_likelihood)
    return InformationCriteria(
        log_likelihood=ll,
        n_params=k,
        n_customers=float(info.n_customers),
        aic=2.0 * k - 2.0 * ll,
        bic=k * math.log(info.n_customers) - 2.0 * ll,
    )


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Result of :func:`likelihood_ratio_test`: ``statistic = 2 (LL_full - LL_restricted)`` ~ chi2(df)."""

    statistic: float
    df: int
    p_value: float
    log_likelihood_restricted: float
    log_likelihood_full: float


def likelihood_ratio_test(restricted: EstimatedModel, full: EstimatedModel, df: int | None = None
                          ) -> LikelihoodRatioTest:
    """Likelihood-ratio test of a restricted model nested in a fuller one, fitted on the same customers.

    Parameters
    ----------
    restricted, full:
        Fitted models (with ``fit_info``); ``restricted`` must be a special case of ``full``.
    df:
        Degrees of freedom; default: the difference in the number of free parameters, counting covariate
        coefficients (one constrained ``equal`` across processes counts once).

    Returns
    -------
    LikelihoodRatioTest
        A statistic that is slightly negative from optimiser tolerance is reported as 0.

    Raises
    ------
    NotFittedError
        If either model has no fit diagnostics.
    InvalidInputError
        If the models were fitted on different numbers of customers or time units, are not nested (different
        model families, a covariate or a free coefficient of the restricted model missing from the full one,
        the restricted model with more free parameters), ``df < 1``, or either was fitted with a penalty
        (``regularization=`` or ``penalizer=``: its log-likelihood is then not a maximum-likelihood value).

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FitInfo
    >>> def fake(ll):
    ...     info = FitInfo(log_likelihood=ll, n_customers=100, n_rows=100, n_iterations=1, n_evaluations=1,
    ...                    converged=True, gradient_norm=0.0, message="", penalizer=0.0)
    ...     return FittedBetaGeo(params=BetaGeoParams(r=1, alpha=1, a=1, b=1), fit_info=info)
    >>> res = likelihood_ratio_test(fake(-105.0), fake(-100.0), df=1)
    >>> res.statistic, round(res.p_value, 5)
    (10.0, 0.00157)
    """
    where = "likelihood_ratio_test()"
    info_r, info_f = _fit_info(restricted, where), _fit_info(full, where)
    if not math.isclose(info_r.n_customers, info_f.n_customers, rel_tol=1e-12):
        raise InvalidInputError(f"{where} needs both models fitted on the same customers. Got "
                                f"{info_r.n_customers:g} and {info_f.n_customers:g} customers.")
    if restricted.time_unit != full.time_unit:
        raise InvalidInputError(f"{where} needs both models fitted in one time unit (likelihoods of times depend "
                                f"on it). Got {restricted.time_unit!r} and {full.time_unit!r}.")
    penalised = [label for label, info in (("restricted", info_r), ("full", info_f))
                 if getattr(info, "regularization", None) or getattr(info, "penalizer", 0.0)]
    if penalised:
        raise InvalidInputError(f"{where}: the {' and '.join(penalised)} model was fitted with a penalty "
                                f"(regularization= or penalizer=), so its log-likelihood is not a maximum-likelihood "
                                f"value and the chi-square reference does not hold. Compare fits without penalty.")
    k_restricted, k_full = _n_free(restricted), _n_free(full)
    if k_restricted > k_full:
        raise InvalidInputError(f"{where}: the restricted model has more free parameters ({k_restricted}) than the "
                                f"full one ({k_full}), so it cannot be nested in it. Pass the smaller model first.")
    _check_nested(restricted, full, where)
    if df is None:
        df = k_full - k_restricted
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise InvalidInputError(f"The 'df' parameter of {where} must be a whole number >= 1 (the full model needs "
                                f"more parameters than the restricted one). Got {df!r} instead.")
    stat = max(2.0 * (info_f.log_likelihood - info_r.log_likelihood), 0.0)
    return LikelihoodRatioTest(
        statistic=stat,
        df=int(df),
        p_value=float(special.chdtrc(df, stat)),  # chi-square survival function
        log_likelihood_restricted=float(info_r.log_likelihood),
        log_likelihood_full=float(info_f.log_likelihood),
    )


def _covariate_layout(model: Any) -> tuple[dict[str, set[str]], set[str]]:
    """Covariate names per process and the names constrained equal (empty for a model without covariates)."""
    coefficients = getattr(model, "coefficients", None)
    per_process = ({str(p): {str(n) for n in values} for p, values in coefficients.items()}
                   if isinstance(coefficients, Mapping) else {})
    equal = getattr(model, "equal", None)
    return per_process, ({str(e) for e in equal} if isinstance(equal, (list, tuple)) else set())


def _n_free(model: Any) -> int:
    """Free parameters: the model's parameters plus its covariate coefficients, an ``equal`` one counted once."""
    per_process, equal = _covariate_layout(model)
    n_coef = sum(len(names) for names in per_process.values()) - len(equal)
    return int(np.asarray(model.param_array()).shape[0]) + n_coef


def _check_nested(restricted: Any, full: Any, where: str) -> None:
    """Refuse pairs that are not nested in the obvious sense: other families, covariates the full model lacks."""
    family_r, family_f = getattr(restricted, "model_name", None), getattr(full, "model_name", None)
    if family_r and family_f and family_r != family_f:
        raise InvalidInputError(f"{where} compares a model with a special case of itself; got a {family_r!r} and a "
                                f"{family_f!r} model, which are not nested. Compare other families with "
                                f"information_criteria() or compare().")
    cov_r, equal_r = _covariate_layout(restricted)
    cov_f, equal_f = _covariate_layout(full)
    for process, names in cov_r.items():
        missing = sorted(names - cov_f.get(process, set()))
        if missing:
            raise InvalidInputError(f"{where}: the restricted model has {process} covariates {missing} that the full "
                                    f"model does not, so it is not nested in it. Fit the full model with every "
                                    f"covariate of the restricted one.")
    for name in sorted(equal_f):
        in_restricted = any(name in names for names in cov_r.values())
        if in_restricted and name not in equal_r:
            raise InvalidInputError(f"{where}: the full model constrains covariate '{name}' equal across processes "
                                    f"but the restricted model does not, so it is not nested in it. Constrain it in "
                                    f"the restricted model too (equal=['{name}']) or free it in the full model.")


@dataclass(frozen=True)
class ModelComparison:
    """Models ranked by holdout error.

    Attributes
    ----------
    rows:
        One dict per model, best first: ``name, model, n_params, log_likelihood, aic, bic`` (``None``
        for a model without fit diagnostics), ``mae, rmse, total_predicted, total_actual,
        relative_error`` (holdout).
    best:
        Name of the best model under ``criterion``.
    reason:
        One line saying why.
    criterion:
        ``"rmse"``, ``"mae"`` or ``"aggregate"`` (absolute relative error of the holdout total).
    """

    rows: tuple[dict[str, Any], ...]
    best: str
    reason: str
    criterion: str

    def __repr__(self) -> str:
        ranked = ", ".join(f"{row['name']!r} {number(row['rmse'])}" for row in self.rows[:4])
        more = f", +{len(self.rows) - 4} more" if len(self.rows) > 4 else ""
        return shorten(f"ModelComparison(best {self.best!r} by {self.criterion}; holdout RMSE: {ranked}{more})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (the reason below the table is the English one given)."""
        rows = [[str(row["name"]), str(row["model"]), *(row.get(c) for c in _COLUMNS[2:])] for row in self.rows]
        title = tr("ModelComparison (best: {model}, by {criterion})", model=self.best,
                   criterion=tr(_CRITERION_LABELS.get(self.criterion, self.criterion)))
        return block(title, table([tr(_HEADERS[c]) for c in _COLUMNS], rows),
                     note=self.reason if tr.lang == "en" else self._reason(tr))

    def _reason(self, tr: Translator) -> str:
        # The reason in another language, from the ranked rows (the English ``reason`` is kept as it was written).
        best = self.rows[0]
        return tr("{model} ranks first by {criterion}; holdout total {predicted} predicted vs {actual} actual.",
                  model=best["name"], criterion=tr(_CRITERION_LABELS.get(self.criterion, self.criterion)),
                  predicted=f"{best['total_predicted']:,.1f}", actual=f"{best['total_actual']:,.0f}")


_COLUMNS = ("name", "model", "n_params", "log_likelihood", "aic", "bic", "mae", "rmse", "total_predicted",
            "total_actual", "relative_error")
# The table's headers (AIC, BIC, MAE and RMSE are explained in the report's legend; they read the same in Chinese).
_HEADERS = {"name": N_("name"), "model": N_("model"), "n_params": N_("parameters"),
            "log_likelihood": N_("log-likelihood"), "aic": "AIC", "bic": "BIC", "mae": "MAE", "rmse": "RMSE",
            "total_predicted": N_("total predicted"), "total_actual": N_("total actual"),
            "relative_error": N_("relative error")}


_CRITERIA: dict[str, str] = {"rmse": "rmse", "mae": "mae", "aggregate": "abs_relative_error"}
_CRITERION_LABELS: dict[str, str] = {"rmse": N_("holdout RMSE"), "mae": N_("holdout MAE"),
                                     "aggregate": N_("absolute error of the holdout total")}


def compare(
    models: Mapping[str, CountModel] | Sequence[str] | None, summary: CustomerSummary, *,
    criterion: Criterion = "rmse"
) -> ModelComparison:
    """Rank fitted models by their holdout error on one summary.

    Parameters
    ----------
    models:
        Name -> fitted model (all in the summary's time unit); or, as :func:`recommend`'s ``models``, names from
        :data:`clvkit.valuation.MODELS` (``["bgnbd", "pnbd"]``) or ``None`` (every registered model that applies):
        those are fitted on ``summary`` first and named by their registry names.
    summary:
        Calibration summary with holdout columns.
    criterion:
        What ranks the models: per-customer ``"rmse"`` (default), ``"mae"``, or ``"aggregate"`` - the
        absolute relative error of the total holdout purchases (the end point of the tracking plot).
        Ties are broken by RMSE, then by name.

    Returns
    -------
    ModelComparison

    Raises
    ------
    InvalidInputError
        For a bad ``criterion``, an empty ``models``, unknown or inapplicable model names, or a summary without
        holdout columns.
    ConvergenceError
        When a model named cannot be fitted.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> good = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> bad = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> res = compare({"published": good, "perturbed": bad}, load_cdnow_summary())
    >>> res.best, [row["name"] for row in res.rows]
    ('published', ['published', 'perturbed'])

    By name, fitted on the summary:

    >>> compare(["bgnbd", "pnbd"], load_cdnow_summary(), criterion="aggregate").best
    'pnbd'
    """
    where = "compare()"
    if not isinstance(criterion, str) or criterion not in _CRITERIA:
        raise InvalidInputError(f"The 'criterion' parameter of {where} must be one of {list(_CRITERIA)}. "
                                f"Got {criterion!r} instead.")
    if models is None or (isinstance(models, Sequence) and not isinstance(models, (str, bytes))):
        need_holdout(summary, where)
        entries, _ = resolve_models(models, summary, where)
        models = {entry.name: entry.factory().fit(summary) for entry in entries}
    if not isinstance(models, Mapping) or len(models) == 0:
        raise InvalidInputError(f"The 'models' parameter of {where} must be a non-empty mapping of name to fitted "
                                f"model. Got {models!r} instead.")
    need_holdout(summary, where)
    rows: list[dict[str, Any]] = []
    for name, model in models.items():
        ev = holdout_evaluation(model, summary)
        info = model.fit_info if isinstance(model, EstimatedModel) else None
        ic = information_criteria(model) if isinstance(info, FitDiagnostics) else None
        rows.append({
            "name": str(name),
            "model": type(model).__name__,
            "n_params": int(np.asarray(model.param_array()).shape[0]),
            "log_likelihood": None if ic is None else ic.log_likelihood,
            "aic": None if ic is None else ic.aic,
            "bic": None if ic is None else ic.bic,
            "mae": ev.mae,
            "rmse": ev.rmse,
            "total_predicted": ev.total_predicted,
            "total_actual": ev.total_actual,
            "relative_error": ev.relative_error,
            "abs_relative_error": abs(ev.relative_error),
        })
    key = _CRITERIA[criterion]
    rows.sort(key=lambda row: (row[key], row["rmse"], row["name"]))
    best = rows[0]
    label = _CRITERION_LABELS[criterion]
    if len(rows) > 1:
        runner = rows[1]
        reason = (f"{best['name']!r} has the lowest {label} ({_fmt(best, key)} vs {_fmt(runner, key)} for "
                  f"{runner['name']!r}); holdout total {best['total_predicted']:.1f} predicted vs "
                  f"{best['total_actual']:.0f} actual.")
    else:
        reason = (f"{best['name']!r} is the only model ({label} {_fmt(best, key)}); holdout total "
                  f"{best['total_predicted']:.1f} predicted vs {best['total_actual']:.0f} actual.")
    for row in rows:
        del row["abs_relative_error"]
    return ModelComparison(rows=tuple(rows), best=best["name"], reason=reason, criterion=criterion)


def _fmt(row: Mapping[str, Any], key: str) -> str:
    value = float(row[key])
    return f"{100 * value:.2f}%" if key == "abs_relative_error" else f"{value:.4f}"
