"""``POST /binding``: the binding measures of :mod:`clvkit.binding` for the tables of a request.

The request's entity lists become one :class:`clvkit.binding.BindingData` (which checks the references between
the tables and names the first bad row), :func:`clvkit.binding.measure_binding` measures every customer, and
with per-customer values :func:`clvkit.binding.value_at_risk` ranks the employees. The answer is the
:class:`~clvkit.service.schemas.BindingResponse` document, built from the arrays in one pass.
"""

from __future__ import annotations

import math
from typing import Any

from .schemas import BindingRequest

__all__ = ["binding_report"]


def _number(x: float) -> float | None:
    """A finite float, or ``None`` (JSON null) for the library's 'undefined' (NaN) and 'never' (infinite)."""
    return x if math.isfinite(x) else None


def binding_report(req: BindingRequest, max_customers: int) -> dict[str, Any]:
    """The ``POST /binding`` answer of ``req`` (at most ``max_customers`` customers, else a 422)."""
    from ..binding import LEVELS, SUB_SCORES, BindingData, measure_binding, value_at_risk
    from ..binding.report import next_actions
    from ..errors import InvalidInputError, Problem

    data = BindingData.from_entities(req.employees, req.contacts, req.relationships, req.touchpoints,
                                     as_of=req.as_of, industry_ties=req.industry_ties, projects=req.projects,
                                     project_members=req.project_members)
    n = data.n_customers
    if n > max_customers:
        raise InvalidInputError([Problem("contacts", f"name {n:,} customers; the service measures at most "
                                                     f"{max_customers:,} per request",
                                         fix="Split the customers into several requests.")],
                                context="The binding request")
    m = measure_binding(data, req.config)
    ids = [str(c) for c in m.customer_id.tolist()]
    values = None
    doc: dict[str, Any] = {"as_of": data.as_of.isoformat(), "employees": None, "value_exposed": None,
                           "value_unheld": None}
    if req.values is not None:
        unknown = sorted(set(req.values) - set(ids))
        if unknown:
            raise InvalidInputError([Problem(f"values.{unknown[0]}", "is not a customer of the request's contacts",
                                             n_bad=len(unknown), fix="Give values for the customers of 'contacts' "
                                                                     "only.")], context="The binding request")
        risk = value_at_risk(m, dict(req.values))
        values = data.align(dict(req.values)).tolist()
        doc["employees"] = [
            {"employee_id": str(e), "team": str(t) or None, "value_at_risk": v, "sole_value": s,
             "customers_held": h, "customers_sole": o, "mean_score": _number(ms)}
            for e, t, v, s, h, o, ms in zip(risk.employee_id.tolist(), risk.team.tolist(),
                                            risk.value_at_risk.tolist(), risk.sole_value.tolist(),
                                            risk.customers_held.tolist(), risk.customers_sole.tolist(),
                                            risk.mean_score.tolist(), strict=True)]
        doc["value_exposed"], doc["value_unheld"] = float(risk.value_exposed), float(risk.value_unheld)
    levels = [lvl.name.lower() for lvl in LEVELS]
    subs, covered = m.sub_scores().tolist(), m.covered.tolist()
    score, n_emp, top, top_share = m.score.tolist(), m.n_employees.tolist(), m.top_employee.tolist(), \
        m.top_share.tolist()
    hhi, single, since, recent = m.hhi.tolist(), m.single_threaded.tolist(), m.days_since_last.tolist(), \
        m.touchpoints_recent.tolist()
    doc["customers"] = [
        {"customer_id": ids[i], "score": score[i], "sub_scores": dict(zip(SUB_SCORES, subs[i], strict=True)),
         "covered": dict(zip(levels, covered[i], strict=True)), "n_employees": n_emp[i],
         "top_employee": None if top[i] is None else str(top[i]), "top_share": top_share[i], "hhi": hhi[i],
         "single_threaded": single[i], "days_since_last": _number(since[i]), "touchpoints_recent": recent[i],
         "value": None if values is None else values[i], "next_actions": next_actions(m, i, lang=req.lang)}
        for i in range(n)]
    return doc
