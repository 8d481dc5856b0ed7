"""clvkit: customer lifetime value, tiering and binding.

The batch core (:class:`CustomerSummary`, :func:`summarize`) turns a transaction log into per-customer
summaries, and :class:`Covariates` holds what is known about the customers; :mod:`clvkit.valuation` fits
probabilistic models and values customers; :mod:`clvkit.tiering` and :mod:`clvkit.binding` turn values into
treatment. Fitted models persist as versioned JSON
(:func:`load_json`).
"""

from ._summarize import summarize, summarize_transactions
from ._version import __version__
from .batch import CompressedSummary, CustomerSummary, PurchaseTimes
from .contracts import ContractSummary
from .covariates import CovariateDesign, Covariates
from .errors import (
    ClvkitError,
    ConvergenceError,
    ConvergenceWarning,
    InvalidInputError,
    MissingDependencyError,
    ModelDomainError,
    NotFittedError,
)
from .persistence import load_json

__all__ = [
    "ClvkitError",
    "CompressedSummary",
    "ContractSummary",
    "ConvergenceError",
    "ConvergenceWarning",
    "CovariateDesign",
    "Covariates",
    "CustomerSummary",
    "InvalidInputError",
    "MissingDependencyError",
    "ModelDomainError",
    "NotFittedError",
    "PurchaseTimes",
    "__version__",
    "load_json",
    "summarize",
    "summarize_transactions",
]
