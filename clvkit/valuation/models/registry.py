"""The one list of the count models that model selection fits by name (:data:`clvkit.valuation.MODELS`).

A new model slots into ``recommend()``, ``compare()`` with names and ``clvkit fit --model`` by one line here.
"""

from __future__ import annotations

from ...batch import CustomerSummary
from ...errors import InvalidInputError
from .._registry import register_model
from .beta_geo import BetaGeo
from .beta_geo_beta_binom import BetaGeoBetaBinom, check_discrete_summary
from .cnbd import CNBD, BetaGeoCNBD, ModifiedBetaGeoCNBD
from .gamma_gompertz_nbd import GammaGompertzNBD
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


def _timed_purchases(summary: CustomerSummary) -> str | None:
    """The CNBD-k family needs each customer's purchase times (their inter-purchase times enter the likelihood)."""
    if summary.purchase_times is None:
        return ("The CNBD-k models need each customer's purchase times (summary.purchase_times), which "
                "clvkit.summarize keeps for a dated log summarized by 'D', 'W' or a shorter unit; this summary has "
                "none (built from arrays, read from a summary file, or summarized by calendar months).")
    return None


register_model("bgnbd", BetaGeo, label="BG/NBD")
register_model("mbgnbd", ModifiedBetaGeo, label="MBG/NBD")
register_model("pnbd", ParetoNBD, label="Pareto/NBD")
register_model("bgbb", BetaGeoBetaBinom, label="BG/BB", applies=_discrete_opportunities)
register_model("cnbd", CNBD, label="CNBD-k", applies=_timed_purchases)
register_model("bgcnbd", BetaGeoCNBD, label="BG/CNBD-k", applies=_timed_purchases)
register_model("mbgcnbd", ModifiedBetaGeoCNBD, label="MBG/CNBD-k", applies=_timed_purchases)
register_model("ggomnbd", GammaGompertzNBD, label="Gamma-Gompertz/NBD")
