"""A minimal covariate matrix for the covariate tests: arrays keyed by customer id.

It implements only what the fit needs (``names`` and ``align``), with no ``customer_id`` attribute, so the tests
also show that any object with that protocol works, not only :class:`clvkit.Covariates`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Cov:
    """Covariate columns keyed by customer id; ``names`` may rename the columns (e.g. to repeat a name)."""

    def __init__(self, ids: Any, columns: dict[str, Any], names: tuple[str, ...] | None = None) -> None:
        self._pos = {v: i for i, v in enumerate(np.asarray(ids).tolist())}
        self.names = tuple(columns) if names is None else names
        self._z = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns.values()])

    def align(self, customer_id: Any, /) -> np.ndarray:
        return self._z[[self._pos[v] for v in np.asarray(customer_id).tolist()]]
