"""The one list of the count models that model selection fits by name (:data:`clvkit.valuation.MODELS`).

A new model slots into ``recommend()``, ``compare()`` with names and ``clvkit fit --model`` by one line here.
"""

from __future__ import annotations

from ...batch import CustomerSummary
from ...errors import InvalidInputError
from .._registry import register_model
from .beta_geo import BetaGeo
from .beta_geo_beta_binom import BetaGeoBetaBinom, check_discrete_summary
from .modified_beta_geo import ModifiedBetaGeo
from .pareto_nbd import ParetoNBD

__all__: list[str] = []  # enters the models into clvkit.valuation.MODELS; exports nothing


def _discrete_opportunities(summary: CustomerSummary) -> str | None:
    """BG/BB applies to summaries of whole opportunities (at most one purchase in each)."""
    try:
        check_discrete_summary(summary, "BG/BB")
    except InvalidInputError:
        return ("BG/BB counts discrete opportunities, at most one purchase in each: recency and T must be whole "
                "numbers and frequency <= recency (summarize with time_unit set to the opportunity, e.g. 'W').")
    return None


register_model("bgnbd", BetaGeo, label="BG/NBD")
register_model("mbgnbd", ModifiedBetaGeo, label="MBG/NBD")
register_model("pnbd", ParetoNBD, label="Pareto/NBD")
register_model("bgbb", BetaGeoBetaBinom, label="BG/BB", applies=_discrete_opportunities)
