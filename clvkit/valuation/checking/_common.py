"""What the model checks share: result arrays and input checks. Models are used through
:class:`clvkit.protocols.CountModel` (re-exported here) and nothing else."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ...protocols import CountModel

__all__ = [
    "MAX_FREQUENCY_BINS",
    "CountModel",
    "FloatArray",
    "IntArray",
    "check_max_frequency",
    "check_whole",
    "frequency_labels",
    "need_count_model",
    "need_holdout",
    "need_summary",
    "read_only",
    "relative_error",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def read_only(arr: npt.ArrayLike) -> FloatArray:
    """A read-only float64 copy, for the arrays of the frozen results."""
    out = np.array(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


def relative_error(predicted: float, actual: float) -> float:
    """``(predicted - actual) / actual``; +-inf when nothing happened but something was predicted."""
    if actual != 0.0:
        return (predicted - actual) / actual
    return 0.0 if predicted == 0.0 else math.copysign(math.inf, predicted)


def need_summary(summary: CustomerSummary, where: str) -> None:
    """Raise unless ``summary`` is a :class:`~clvkit.CustomerSummary`."""
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")


def need_holdout(summary: CustomerSummary, where: str) -> tuple[FloatArray, float]:
    """The holdout frequency and duration of a non-empty summary; raise when it has no holdout columns."""
    need_summary(summary, where)
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        raise InvalidInputError(
            f"{where} needs a summary with holdout columns ('frequency_holdout', 'duration_holdout'). Build it "
            f"with clvkit.summarize(..., calibration_end=...) or pass frequency_holdout= and duration_holdout= "
            f"to CustomerSummary."
        )
    if len(summary) == 0:
        raise InvalidInputError(f"{where} needs at least one customer. Got an empty summary.")
    return summary.frequency_holdout, summary.duration_holdout


#: Most bins of a frequency histogram (``max_frequency`` + 1): the expected counts are computed bin by bin.
MAX_FREQUENCY_BINS = 10_000


def check_max_frequency(max_frequency: int, where: str) -> int:
    """``max_frequency`` (the first frequency of the last, open bin) as an int in [1, MAX_FREQUENCY_BINS), or raise."""
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
        raise InvalidInputError(f"The 'max_frequency' parameter of {where} must be a whole number >= 1. "
                                f"Got {max_frequency!r} instead.")
    if max_frequency >= MAX_FREQUENCY_BINS:
        raise InvalidInputError(f"The 'max_frequency' parameter of {where} must be below MAX_FREQUENCY_BINS = "
                                f"{MAX_FREQUENCY_BINS:,} (clvkit.valuation.checking). Got {max_frequency!r} instead.")
    return int(max_frequency)


def frequency_labels(max_frequency: int) -> tuple[str, ...]:
    """Bin labels ``"0", "1", ..., f"{max_frequency}+"``."""
    return (*(str(x) for x in range(max_frequency)), f"{max_frequency}+")


def check_whole(value: Any, name: str, where: str, *, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``, or raise in scikit-learn's message form (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InvalidInputError(f"The '{name}' parameter of {where} must be a whole number in [{low}, {high:,}]. "
                                f"Got {value!r} instead.")
    return int(value)


def need_count_model(model: Any, where: str) -> None:
    """Raise unless ``model`` offers the count-model prediction surface."""
    if not isinstance(model, CountModel):
        raise InvalidInputError(f"{where} needs a fitted count model (clvkit.protocols.CountModel: BG/NBD, MBG/NBD, "
                                f"Pareto/NBD, BG/BB or one of your own). Got {type(model).__name__} instead.")
