"""What customers are worth: discounted CLV and equity, the book's direct + indirect value, referral
networks, word of mouth and customer delivered value.

Everything here uses the models only through :mod:`clvkit.valuation.protocols`.
"""

from .clv import ClvResult, clv
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
from .referral import AttributionRule, ReferralAttribution, ReferralGraph
from .word_of_mouth import InfluencerReport, InfluencerRule, WordOfMouth, WordOfMouthPrior, influencers

__all__ = [
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
    "format_value_table",
    "influencers",
    "read_referrals",
    "synthetic_referrals",
]
