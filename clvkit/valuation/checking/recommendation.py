"""Which model to use: fit the applicable models on the calibration period, score each on the holdout, choose
by a stated rule and say why (:func:`recommend`).

The models come from the registry (:data:`clvkit.valuation.MODELS`) by name, so a model added there is tried
without a change here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from ..._display import block, number, percent, shorten, table
from ..._frames import require
from ..._texttable import table_lines
from ...batch import CustomerSummary
from ...errors import ConvergenceError, InvalidInputError
from ...i18n import N_, Translator, translator
from .._registry import ModelEntry, resolve_models
from ._common import CountModel, need_count_model, need_holdout
from .holdout import holdout_evaluation

__all__ = ["DEFAULT_TIE_TOLERANCE", "ModelScore", "Recommendation", "format_recommendation", "recommend"]

#: Models whose holdout MAE per customer lies within this fraction of the lowest are tied (clvkit default): a
#: difference that small is within what another holdout year would change, so the tie goes to the model whose
#: holdout total is closer, the number a plan is built on.
DEFAULT_TIE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ModelScore:
    """One model's row of a :class:`Recommendation`.

    Attributes
    ----------
    name, label:
        The registry name (``"pnbd"``) and the printable label (``"Pareto/NBD"``).
    model:
        The fitted class's name (``"FittedParetoNBD"``), or ``""`` when the fit failed.
    converged:
        Whether the fit converged (a model that did not is never chosen).
    n_params, log_likelihood, aic, bic:
        Of the calibration fit (``None`` when the fit failed). The log-likelihoods of BG/BB (a probability of
        discrete counts) and of the continuous-time models (a density of purchase times) are not comparable.
    fit_seconds:
        Wall time of ``fit()``.
    total_predicted, total_actual:
        Expected and actual holdout purchases summed over customers.
    aggregate_error:
        ``total_predicted / total_actual - 1`` (+0.18: 18% too many purchases predicted).
    mae, rmse:
        Mean absolute and root mean squared error per customer of the holdout purchases.
    normalized_mae:
        ``sum |predicted - actual| / sum actual``, the mean absolute error as BTYDplus' vignette normalises it.
    note:
        Why the model was not eligible (``""`` when it was).
    """

    name: str
    label: str
    model: str
    converged: bool
    n_params: int | None
    log_likelihood: float | None
    aic: float | None
    bic: float | None
    fit_seconds: float
    total_predicted: float | None
    total_actual: float
    aggregate_error: float | None
    mae: float | None
    rmse: float | None
    normalized_mae: float | None
    note: str = ""

    @property
    def eligible(self) -> bool:
        """Whether the model took part in the choice (fitted, converged, finite holdout errors)."""
        return self.note == ""


@dataclass(frozen=True)
class Recommendation:
    """The models fitted on the calibration period, their holdout scores, the choice and why.

    Attributes
    ----------
    scores:
        One :class:`ModelScore` per model: the eligible ones in the order of the rule (the chosen first), then
        those left out.
    chosen:
        The registry name of the recommended model.
    reason:
        Why, in plain English (:meth:`explain` gives it in another language).
    rule:
        The decision rule, in plain English.
    models:
        The fitted models by name (read-only; the failed fits are absent). ``best`` is the chosen one.
    tie_tolerance:
        Models whose MAE per customer lies within this fraction of the lowest are tied.
    skipped:
        Models of the registry left out of the default list, with the reason (they do not apply).
    n_customers, duration, time_unit:
        Customers scored, the holdout length and the summary's time unit.
    """

    scores: tuple[ModelScore, ...]
    chosen: str
    reason: str
    rule: str
    models: Mapping[str, CountModel] = field(repr=False)
    tie_tolerance: float
    skipped: tuple[tuple[str, str], ...]
    n_customers: float
    duration: float
    time_unit: str

    @property
    def best(self) -> CountModel:
        """The fitted model recommended."""
        return self.models[self.chosen]

    def score(self, name: str) -> ModelScore:
        """The row of model ``name``; a typed error names the models scored for another name."""
        for row in self.scores:
            if row.name == name:
                return row
        raise InvalidInputError(f"No model {name!r} was scored; the models are {[r.name for r in self.scores]}.")

    def explain(self, lang: str | None = None) -> str:
        """The decision rule and the reason, as sentences in ``lang`` (``"en"``, ``"zh"``; ``None``: the locale's).

        In English this is ``rule`` followed by ``reason``.
        """
        tr = translator(lang)
        return _rule(tr, self.tie_tolerance) + "\n" + _reason(tr, self)

    def to_frame(self, backend: str = "pandas") -> Any:
        """The table, one row per model, as a pandas (index ``name``) or polars DataFrame.

        Raises
        ------
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.
        """
        columns = [c for c in ModelScore.__dataclass_fields__ if c != "name"]
        data = {c: [getattr(row, c) for row in self.scores] for c in columns}
        names = [row.name for row in self.scores]
        if backend == "polars":
            pl = require("polars")
            return pl.DataFrame({"name": names, **data})
        if backend != "pandas":
            raise InvalidInputError(f"The 'backend' parameter of Recommendation.to_frame() must be 'pandas' or "
                                    f"'polars'. Got {backend!r} instead.")
        pd = require("pandas")
        return pd.DataFrame(data, index=pd.Index(names, name="name"))

    def __repr__(self) -> str:
        ranked = ", ".join(f"{row.name!r} MAE {number(row.mae)}" for row in self.scores if row.eligible)
        return shorten(f"Recommendation(chosen {self.chosen!r}; holdout MAE per customer: {ranked})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        header, rows = _table(tr, self)
        return block(tr("Recommended model: {model}", model=_label(self, self.chosen)), table(header, rows),
                     note=self.explain(tr.lang))


def _label(rec: Recommendation, name: str) -> str:
    return rec.score(name).label


# The table's headers; MAE, RMSE, AIC and BIC are explained in the legend (they read the same in Chinese).
_HEADERS = (N_("model"), N_("log-likelihood"), "AIC", "BIC", N_("holdout predicted"), N_("holdout actual"),
            N_("aggregate error"), N_("MAE per customer"), N_("sum |error| / sum actual"), N_("fit seconds"),
            N_("converged"))


def _table(tr: Translator, rec: Recommendation) -> tuple[list[str], list[list[str]]]:
    header = [tr(h) for h in _HEADERS]
    rows = []
    for row in rec.scores:
        mark = " *" if row.name == rec.chosen else ""
        rows.append([
            f"{row.label}{mark}",
            "-" if row.log_likelihood is None else f"{row.log_likelihood:,.2f}",
            "-" if row.aic is None else f"{row.aic:,.1f}",
            "-" if row.bic is None else f"{row.bic:,.1f}",
            "-" if row.total_predicted is None else f"{row.total_predicted:,.1f}",
            f"{row.total_actual:,.0f}",
            "-" if row.aggregate_error is None else f"{row.aggregate_error:+.1%}",
            "-" if row.mae is None else f"{row.mae:.4f}",
            "-" if row.normalized_mae is None else f"{row.normalized_mae:.4f}",
            f"{row.fit_seconds:.2f}",
            tr("yes") if row.converged else tr("no"),
        ])
    return header, rows


def _rule(tr: Translator, tolerance: float) -> str:
    return tr("Rule (clvkit default): among the models that converged, the lowest holdout mean absolute error per "
              "customer wins; models within {tolerance} of it count as tied, and of those the one whose holdout total "
              "is closest to the actual wins (to 0.1% of the actual; then the one with fewer parameters, then the "
              "earlier in the list).", tolerance=percent(tolerance))


def _reason(tr: Translator, rec: Recommendation) -> str:
    eligible = [row for row in rec.scores if row.eligible]
    best = rec.score(rec.chosen)
    assert best.mae is not None and best.aggregate_error is not None  # an eligible row has its numbers
    fields = {"model": best.label, "mae": f"{best.mae:.4f}", "error": f"{best.aggregate_error:+.1%}"}
    lowest = min(eligible, key=lambda r: float(r.mae if r.mae is not None else math.inf))
    tied = [r for r in eligible if _within(r, lowest, rec.tie_tolerance)]
    others = [r for r in eligible if r.name != best.name]
    if not others:
        text = tr("{model} is the only model that could be scored: holdout MAE {mae} purchases per customer, holdout "
                  "total {error} against the actual.", **fields)
    elif len(tied) > 1 and lowest.name == best.name:
        rivals = [r for r in tied if r.name != best.name]
        text = tr("{model} is recommended: it has the lowest holdout MAE per customer ({mae} purchases); within "
                  "{tolerance} of it, and so tied, is {rivals}; of these its holdout total is also the closest to the "
                  "actual ({error}).", tolerance=percent(rec.tie_tolerance),
                  rivals=tr(", ").join(r.label for r in rivals), **fields)
    elif len(tied) > 1 and _closeness(best) == _closeness(lowest) and (best.n_params or 0) < (lowest.n_params or 0):
        assert lowest.mae is not None and lowest.aggregate_error is not None
        text = tr("{model} is recommended: its holdout MAE per customer ({mae}) is within {tolerance} of the lowest "
                  "({lowest}, {lowest_model}), its holdout total is as close to the actual ({error}, against "
                  "{lowest_error}), and it has fewer parameters ({k} against {lowest_k}).",
                  tolerance=percent(rec.tie_tolerance), lowest=f"{lowest.mae:.4f}", lowest_model=lowest.label,
                  lowest_error=f"{lowest.aggregate_error:+.1%}", k=str(best.n_params), lowest_k=str(lowest.n_params),
                  **fields)
    elif len(tied) > 1:
        assert lowest.mae is not None and lowest.aggregate_error is not None
        text = tr("{model} is recommended: its holdout MAE per customer ({mae}) is within {tolerance} of the lowest "
                  "({lowest}, {lowest_model}), and of the models this close its holdout total is closest to the "
                  "actual ({error}, against {lowest_error} for {lowest_model}).", tolerance=percent(rec.tie_tolerance),
                  lowest=f"{lowest.mae:.4f}", lowest_model=lowest.label, lowest_error=f"{lowest.aggregate_error:+.1%}",
                  **fields)
    else:
        runner = eligible[1]
        assert runner.mae is not None and runner.aggregate_error is not None
        text = tr("{model} is recommended: it has the lowest holdout MAE per customer ({mae} purchases, against "
                  "{other} for {runner}); its holdout total is {error} against the actual ({other_error} for "
                  "{runner}).",
                  runner=runner.label, other=f"{runner.mae:.4f}", other_error=f"{runner.aggregate_error:+.1%}",
                  **fields)
    lines = [text]
    for row in rec.scores:
        if row.eligible:
            continue
        if not row.converged:
            lines.append(tr("{model} did not converge and was left out.", model=row.label))
        else:
            lines.append(tr("{model} was left out: its holdout prediction is not a finite number.", model=row.label))
    for name, _why in rec.skipped:
        lines.append(tr("{model} does not apply to these data and was not fitted.", model=name))
    return "\n".join(lines)


def _within(row: ModelScore, lowest: ModelScore, tolerance: float) -> bool:
    assert row.mae is not None and lowest.mae is not None
    return row.mae <= lowest.mae * (1.0 + tolerance) + 1e-15


def recommend(calibration_summary: CustomerSummary, *, models: Sequence[str] | None = None,
              tie_tolerance: float = DEFAULT_TIE_TOLERANCE) -> Recommendation:
    """Fit the applicable models on the calibration period, score them on the holdout, and recommend one.

    Every model is fitted on ``calibration_summary`` (frequency, recency and ``T`` of the calibration period)
    and predicts each customer's purchases over the holdout period (``duration_holdout``), which are compared
    with ``frequency_holdout``. The rule (clvkit's default, stated in the result): among the models that
    converged, the lowest mean absolute error per customer wins; models within ``tie_tolerance`` of it are tied,
    and the tie goes to the one whose holdout total is closest to the actual (smallest
    ``|total predicted / total actual - 1|``, to 0.1%: nested models that predict the same, such as Pareto/NBD and
    Gamma-Gompertz/NBD near ``b = 0``, differ only in rounding noise there), then to the one with fewer parameters,
    then to the earlier in the list.

    Parameters
    ----------
    calibration_summary:
        A summary with holdout columns, from ``clvkit.summarize(..., calibration_end=...)``.
    models:
        Names from :data:`clvkit.valuation.MODELS` (``["bgnbd", "pnbd"]``); default ``None``: every registered
        model that applies to the summary (BG/BB only to whole numbers of opportunities).
    tie_tolerance:
        Relative difference of MAE per customer under which models count as tied (default
        :data:`DEFAULT_TIE_TOLERANCE`, 1%; 0: only equal errors tie).

    Returns
    -------
    Recommendation
        The table (log-likelihood, AIC/BIC, holdout totals and errors, fit seconds, convergence), the chosen model,
        the rule and the reason, and the fitted models by name.

    Raises
    ------
    InvalidInputError
        When the summary has no holdout columns (summarize with ``calibration_end``) or no holdout purchases,
        ``models`` names an unknown model or one that does not apply, or ``tie_tolerance`` is not a number in [0, 1).
    ConvergenceError
        When no model could be fitted.

    Examples
    --------
    >>> import clvkit
    >>> from clvkit.datasets import load_cdnow_summary
    >>> rec = clvkit.valuation.recommend(load_cdnow_summary(), models=["bgnbd", "pnbd"])
    >>> rec.chosen, [row.name for row in rec.scores]
    ('pnbd', ['pnbd', 'bgnbd'])
    >>> round(rec.score("bgnbd").aggregate_error, 3)
    -0.121
    """
    where = "recommend()"
    need_holdout(calibration_summary, where)
    if (isinstance(tie_tolerance, bool) or not isinstance(tie_tolerance, (int, float, np.floating))
            or not 0.0 <= float(tie_tolerance) < 1.0):
        raise InvalidInputError(f"The 'tie_tolerance' parameter of {where} must be a number in [0, 1). "
                                f"Got {tie_tolerance!r} instead.")
    actual = np.asarray(calibration_summary.frequency_holdout, dtype=np.float64)
    if not float(calibration_summary.weights_or_ones() @ actual) > 0:
        raise InvalidInputError(f"{where} compares predicted with actual holdout purchases, and this summary has none "
                                f"in its holdout period. Choose a calibration_end that leaves purchases after it.")
    entries, skipped = resolve_models(models, calibration_summary, where)
    scores: list[ModelScore] = []
    fitted: dict[str, CountModel] = {}
    failures: list[str] = []
    for entry in entries:
        row, model = _score(entry, calibration_summary, where)
        scores.append(row)
        if model is not None:
            fitted[entry.name] = model
        else:
            failures.append(f"{entry.name}: {row.note}")
    eligible = [row for row in scores if row.eligible]
    if not eligible:
        raise ConvergenceError(f"{where}: no model could be fitted and scored ({'; '.join(failures)}). Check the "
                               f"summary's time unit and scale, or fit the models one by one to see why.")
    tolerance = float(tie_tolerance)
    ranked = _rank(eligible, tolerance)
    order = [*ranked, *(row for row in scores if not row.eligible)]
    chosen = ranked[0].name
    rec = Recommendation(scores=tuple(order), chosen=chosen, reason="", rule="",
                         models=MappingProxyType(fitted), tie_tolerance=tolerance,
                         skipped=tuple((entry.label, why) for entry, why in skipped),
                         n_customers=float(calibration_summary.weights_or_ones().sum()),
                         duration=float(calibration_summary.duration_holdout or 0.0),
                         time_unit=calibration_summary.time_unit)
    en = translator("en")
    return replace(rec, reason=_reason(en, rec), rule=_rule(en, tolerance))


def _closeness(row: ModelScore) -> float:
    """How far the holdout total misses the actual, to 0.1% of it: nested models that predict the same (Pareto/NBD
    and Gamma-Gompertz/NBD at ``b -> 0``, BG/NBD and BG/CNBD-k at ``k = 1``) differ only in rounding noise there."""
    return round(abs(float(row.aggregate_error or 0.0)), 3)


def _rank(eligible: list[ModelScore], tolerance: float) -> list[ModelScore]:
    """The eligible rows in the order of the rule: the tied group first (by aggregate error), then by MAE."""
    position = {row.name: i for i, row in enumerate(eligible)}
    lowest = min(eligible, key=lambda r: (float(r.mae or 0.0), position[r.name]))
    tied = [row for row in eligible if _within(row, lowest, tolerance)]
    tied.sort(key=lambda r: (_closeness(r), r.n_params or 0, position[r.name]))
    rest = sorted((row for row in eligible if row not in tied), key=lambda r: (float(r.mae or 0.0), position[r.name]))
    return [*tied, *rest]


def _score(entry: ModelEntry, summary: CustomerSummary, where: str) -> tuple[ModelScore, CountModel | None]:
    """Fit one model and score it on the holdout; a failed fit gives a row with its note and no model."""
    total_actual = float(summary.weights_or_ones() @ np.asarray(summary.frequency_holdout, dtype=np.float64))
    start = time.perf_counter()
    try:
        model = entry.factory().fit(summary)
    except ConvergenceError as exc:
        seconds = time.perf_counter() - start
        return ModelScore(name=entry.name, label=entry.label, model="", converged=False, n_params=None,
                          log_likelihood=None, aic=None, bic=None, fit_seconds=seconds, total_predicted=None,
                          total_actual=total_actual, aggregate_error=None, mae=None, rmse=None,
                          normalized_mae=None, note=f"did not converge: {str(exc).splitlines()[0]}"), None
    seconds = time.perf_counter() - start
    need_count_model(model, where)
    info = model.fit_info
    converged = bool(getattr(info, "converged", False))
    ev = holdout_evaluation(model, summary)
    w = summary.weights_or_ones()
    abs_error = float(w @ np.abs(ev.predicted - ev.actual))
    finite = all(math.isfinite(x) for x in (ev.total_predicted, ev.mae, ev.rmse, abs_error))
    note = "" if converged and finite else ("did not converge" if not converged else
                                             "holdout prediction is not a finite number")
    ll = None if info is None else float(info.log_likelihood)
    k = int(np.asarray(model.param_array()).shape[0])
    n = float(w.sum())

    def kept(value: float) -> float | None:  # a non-finite error is not reported as a number (the row's note says why)
        return value if finite else None

    regularity = getattr(getattr(model, "params", None), "k", None)  # the CNBD-k family: name the k it estimated
    label = entry.label if not isinstance(regularity, int) else f"{entry.label} (k = {regularity})"
    return ModelScore(
        name=entry.name, label=label, model=type(model).__name__, converged=converged, n_params=k,
        log_likelihood=ll,
        aic=None if ll is None else 2.0 * k - 2.0 * ll,
        bic=None if ll is None else k * math.log(n) - 2.0 * ll,
        fit_seconds=seconds, total_predicted=kept(ev.total_predicted), total_actual=ev.total_actual,
        aggregate_error=kept(ev.total_predicted / ev.total_actual - 1.0),
        mae=kept(ev.mae), rmse=kept(ev.rmse), normalized_mae=kept(abs_error / ev.total_actual),
        note=note,
    ), model


def format_recommendation(rec: Recommendation, *, lang: str | None = None) -> str:
    """The table of models, the rule and the reason as text in ``lang`` (``"en"``, ``"zh"``; ``None``: the locale's).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> rec = recommend(load_cdnow_summary(), models=["bgnbd"])
    >>> print(format_recommendation(rec, lang="en").splitlines()[0])
    Recommended model: BG/NBD (holdout of 39 weeks, 2,357 customers)
    """
    tr = translator(lang)
    header, rows = _table(tr, rec)
    units = {"s": N_("seconds"), "min": N_("minutes"), "h": N_("hours"), "D": N_("days"), "W": N_("weeks"),
             "M": N_("months"), "Q": N_("quarters"), "Y": N_("years")}
    unit = rec.time_unit
    lines = [tr("Recommended model: {model} (holdout of {duration} {unit}, {customers} customers)",
                model=_label(rec, rec.chosen), duration=f"{rec.duration:g}", unit=tr(units.get(unit, unit)),
                customers=f"{rec.n_customers:,.0f}"),
             *table_lines(header, rows, align="l" + "r" * (len(header) - 1)),
             tr("* = recommended. Aggregate error = holdout total predicted / actual - 1."),
             tr("MAE = mean absolute error of each customer's holdout purchases; sum |error| / sum actual = the same "
                "errors as a share of all actual purchases (as BTYDplus reports it)."),
             tr("AIC/BIC compare the fits on the calibration period (lower is better)."),
             *([tr("BG/BB's log-likelihood is a probability of counts per period, not comparable with the "
                   "continuous-time models' (nor its AIC/BIC).")] if any(r.name == "bgbb" for r in rec.scores) else []),
             "", rec.explain(lang)]
    return "\n".join(lines)
