"""Value engines written outside clvkit (no clvkit import, no base class)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


class SpendMultiple:
    """A rule-of-thumb engine: value = ``multiple`` x mean spend x (repeat purchases + 1).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = SimpleNamespace(frequency=np.array([0.0, 3.0]), monetary_value=np.array([0.0, 20.0]))
    >>> SpendMultiple(multiple=2.0).value(s).tolist()
    [0.0, 160.0]
    """

    def __init__(self, multiple: float = 3.0) -> None:
        self.multiple = float(multiple)

    def value(self, summary: Any) -> npt.NDArray[np.float64]:
        spend = summary.monetary_value if summary.monetary_value is not None else np.zeros(len(summary.frequency))
        out: npt.NDArray[np.float64] = self.multiple * np.asarray(spend) * (np.asarray(summary.frequency) + 1.0)
        return out


#: A ready-made instance (``module:object`` specs load objects as they are).
DEFAULT = SpendMultiple()


class Broken:
    """Returns one value too few: the protocol checks catch it."""

    def value(self, summary: Any) -> npt.NDArray[np.float64]:
        return np.zeros(len(summary.frequency) - 1)
