"""What customers are worth: discounted CLV and equity, direct + indirect value (text 002), referral
networks, word of mouth, customer delivered value and the value of a customer not yet seen.

Everything here uses the models only through :mod:`clvkit.valuation.protocols`.
"""

from .clv import ACQUISITION_COST_MULTIPLE, ACQUISITION_COST_MULTIPLE_RANGE, ClvResult, clv, estimate_acquisition_cost
from .composite import (
    CompositeResult,
    CompositeValue,
    EquitySplit,
    format_value_table,
    read_referrals,
    synthetic_referrals,
)
from .delivered_value import CustomerDeliveredValue, DeliveredValueBatch
from .direct import DirectValue, DirectValueResult, discounted_lifetime
from .new_customer import new_customer_value
from .referral import AttributionRule, ReferralAttribution, ReferralGraph
from .word_of_mouth import InfluencerReport, InfluencerRule, WordOfMouth, WordOfMouthPrior, influencers

__all__ = [
    "ACQUISITION_COST_MULTIPLE",
    "ACQUISITION_COST_MULTIPLE_RANGE",
    "AttributionRule",
    "ClvResult",
    "CompositeResult",
    "CompositeValue",
    "CustomerDeliveredValue",
    "DeliveredValueBatch",
    "DirectValue",
    "DirectValueResult",
    "EquitySplit",
    "InfluencerReport",
    "InfluencerRule",
    "ReferralAttribution",
    "ReferralGraph",
    "WordOfMouth",
    "WordOfMouthPrior",
    "clv",
    "discounted_lifetime",
    "estimate_acquisition_cost",
    "format_value_table",
    "influencers",
    "new_customer_value",
    "read_referrals",
    "synthetic_referrals",
]
