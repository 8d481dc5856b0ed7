"""Hardening: every argument that sizes an allocation or a loop is checked against a documented limit first,
and every optimiser path reports progress and stops at a bounded number of likelihood evaluations.

Each test failed before its fix (issue 10: 22 GB for ``lorenz_curve(points=10**9)``, 1.7 TiB for
``clv(horizon=10**12)``, a Nelder-Mead fallback silent for 470 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from clvkit.errors import ConvergenceError
from clvkit.valuation.models import _estimation
from clvkit.valuation.models._estimation import FitProgress, maximize_likelihood

FloatArray = npt.NDArray[np.float64]


def _misleading(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
    """Rosenbrock's valley in log-parameters with the gradient's sign flipped: BFGS fails, Nelder-Mead runs."""
    t = np.log(params)
    ll = -float(np.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2))
    g = np.zeros_like(t)
    g[:-1] += -400.0 * t[:-1] * (t[1:] - t[:-1] ** 2) - 2.0 * (1.0 - t[:-1])
    g[1:] += 200.0 * (t[1:] - t[:-1] ** 2)
    grad = g / params  # d(-ll)/dp: the sign a log-likelihood gradient must not have
    return np.array([ll]), grad[None, :]


def test_the_fallback_reports_progress_and_stops_at_the_evaluation_limit() -> None:
    seen: list[FitProgress] = []
    evaluations = [0]

    def counted(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        evaluations[0] += 1
        return _misleading(params, data)

    max_iter = 20
    with pytest.raises(ConvergenceError) as exc:
        maximize_likelihood(counted, {}, np.ones(1), np.full(6, 3.0), model="toy",
                            param_names=tuple("abcdef"), max_iter=max_iter, progress=seen.append)
    limit = _estimation.EVALUATIONS_PER_ITERATION * max_iter
    assert evaluations[0] <= limit + 1
    assert "evaluations" in str(exc.value) and "penalizer" in str(exc.value)
    # The derivative-free restart reported its iterations too (BFGS alone stops after a handful).
    assert len(seen) > 10
    assert [p.iteration for p in seen] == list(range(1, len(seen) + 1))
