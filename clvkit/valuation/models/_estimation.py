"""The one maximum-likelihood routine every engine uses.

An engine supplies a kernel ``loglik(params, data) -> (ll, grad)`` that returns, for every row, the
log-likelihood and its gradient with respect to the (positive) model parameters. This module

- optimises on the log scale ``theta = log(params)`` (so positivity holds without bounds) with BFGS and
  the analytic gradient, on whatever rows it is given - callers pass compressed data with weights;
- leaves the last ``n_free`` parameters (covariate coefficients, any real number) on their own scale;
- adds an optional L2 penalty ``penalizer * sum(params**2)`` to the mean negative log-likelihood (the
  same form as lifetimes, so equal penalizers give equal estimates), and optionally one on the coefficients,
  ``sum(lambda_j * gamma_j**2)`` (CLVTools' ``reg.lambdas`` form, see :func:`maximize_likelihood`);
- computes the observed information by forward differences of the analytic gradient at the optimum (or from
  the caller's ``hessian``, e.g. the chain rule of covariate groups), and from it the covariance and standard
  errors (delta method back to the natural scale);
- with a per-row Hessian kernel (``loglik_hessian``, see :data:`LogLikelihoodHessian`) optimises by Newton's
  method from the start instead: one pass over the rows gives the value, gradient and Hessian, each step
  minimises the quadratic model in a trust region (safe where the likelihood is not convex, far from the
  optimum), and the Hessian of the last pass gives the standard errors; BFGS and the Nelder-Mead restart remain
  the fallbacks;
- reports diagnostics and raises :class:`~clvkit.errors.ConvergenceError` when no optimum is found.

It knows nothing of any particular model and never sees Pydantic objects or frames.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..._local_warnings import silenced, warn
from ...errors import ConvergenceError, ConvergenceWarning, InvalidInputError

__all__ = ["EVALUATIONS_PER_ITERATION", "FitProgress", "FitResult", "LogLikelihood", "LogLikelihoodHessian",
           "maximize_likelihood"]

#: Limit on the log-likelihood evaluations of one fit, per allowed iteration: a fit stops with
#: :class:`~clvkit.errors.ConvergenceError` after ``EVALUATIONS_PER_ITERATION * max_iter`` evaluations (5000 at
#: the default ``max_iter=500``), whichever optimiser (BFGS, Newton steps, the Nelder-Mead restart) spends them.
#: Converging fits use tens by BFGS (BG/NBD on CDNOW: 28), fewer by Newton with an analytic Hessian (7); the limit
#: bounds the time of a fit that does not converge.
EVALUATIONS_PER_ITERATION = 10

FloatArray = npt.NDArray[np.float64]
LogLikelihood = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]], tuple[FloatArray, FloatArray]]
"""``(params, data) -> (ll of shape (n,), d ll / d params of shape (n, k))``; with ``summed=True`` the
kernel returns the weighted totals instead: ``(array of shape (1,), array of shape (1, k))``."""
Objective = Callable[[FloatArray], tuple[float, FloatArray]]
LogLikelihoodHessian = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]],
                                tuple[FloatArray, FloatArray, FloatArray]]
"""``(params, data) -> (ll of shape (n,), d ll / d params of shape (n, k), d2 ll / d params2 of shape (n, k, k))``:
a per-row kernel on the same ``(params, data)`` as the :data:`LogLikelihood`, derivatives w.r.t. the natural
parameters, all three from one pass over the rows; with ``summed=True`` the weighted totals, shapes (1,), (1, k) and
(1, k, k)."""


@dataclass(frozen=True)
class FitProgress:
    """What a progress callback receives after each optimiser iteration."""

    model: str
    iteration: int
    log_likelihood: float
    params: dict[str, float]


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`maximize_likelihood` (natural-scale parameters)."""

    params: FloatArray
    log_likelihood: float
    covariance: FloatArray | None
    standard_errors: FloatArray | None
    n_iterations: int
    n_evaluations: int
    converged: bool
    gradient_norm: float
    message: str
    seconds: float


def _natural(theta: FloatArray, n_free: int) -> FloatArray:
    """Natural-scale parameters: ``exp`` of the positive ones, the last ``n_free`` (coefficients) as they are."""
    params = np.array(theta, dtype=np.float64)
    k = params.shape[0] - n_free
    params[:k] = np.exp(params[:k])
    return params


def _jacobian(params: FloatArray, n_free: int) -> FloatArray:
    """``d params / d theta`` (diagonal): the parameter itself on the log scale, 1 for a coefficient."""
    jac = np.array(params, dtype=np.float64)
    if n_free:
        jac[jac.shape[0] - n_free:] = 1.0
    return jac


def _penalty(params: FloatArray, n_free: int) -> float:
    """``sum(params**2)`` over the positive (model) parameters: the penalizer never touches coefficients."""
    positive = params[:params.shape[0] - n_free]
    return float(positive @ positive)


def _coefficient_penalty(params: FloatArray, lambdas: FloatArray | None) -> float:
    """``sum(lambda_j * gamma_j**2)`` over the coefficients (the last ``len(lambdas)`` values of ``params``)."""
    if lambdas is None or lambdas.shape[0] == 0:
        return 0.0
    gamma = params[params.shape[0] - lambdas.shape[0]:]
    return float(lambdas @ (gamma * gamma))


def _objective(
    loglik: LogLikelihood,
    data: Mapping[str, npt.NDArray[Any]],
    weights: FloatArray,
    total_weight: float,
    penalizer: float,
    counter: list[int],
    summed: bool,
    limit: list[float],
    n_free: int = 0,
    lambdas: FloatArray | None = None,
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    last: dict[bytes, tuple[float, FloatArray]] = {}

    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        # The optimiser and the convergence checks ask for the same point more than once: remember one.
        key = np.asarray(theta, dtype=np.float64).tobytes()
        if key in last:
            value, g = last[key]
            return value, g.copy()
        value, g = evaluate(theta)
        last.clear()
        last[key] = (value, g.copy())
        return value, g

    def evaluate(theta: FloatArray) -> tuple[float, FloatArray]:
        if counter[0] >= limit[0]:
            raise _EvaluationLimitError
        counter[0] += 1
        params = _natural(theta, n_free)
        k = params.shape[0] - n_free
        if not np.all(np.isfinite(params)) or np.any(params[:k] <= 0.0):
            return math.inf, np.zeros_like(theta)
        # Overflow at extreme trial points is expected and handled: a non-finite value rejects the point.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, grad = loglik(params, data)
            if summed:
                ll_total, grad_total = float(ll[0]), grad[0]
            else:
                # Not a BLAS dot: a threaded ddot on a busy machine costs milliseconds per call (measured 13 ms for
                # 30k rows with two cores shared, against ~10 us here), more than the kernel itself. numpy's sum is
                # pairwise, so the total is also less noisy than a running dot (flat likelihoods need that).
                ll_total, grad_total = float(np.sum(weights * ll)), np.einsum("i,ij->j", weights, grad)
            jac = _jacobian(params, n_free)
            value = -ll_total / total_weight + penalizer * _penalty(params, n_free)
            g = -grad_total / total_weight * jac
            g[:k] += 2.0 * penalizer * params[:k] * params[:k]
            if lambdas is not None and lambdas.shape[0]:
                # Added to the *mean* negative log-likelihood, as CLVTools does (see maximize_likelihood).
                value += _coefficient_penalty(params, lambdas)
                g[k:] += 2.0 * lambdas * params[k:]
        if not math.isfinite(value) or not np.all(np.isfinite(g)):
            return math.inf, np.zeros_like(theta)
        return value, g

    return fun


_COARSE_GTOL = 1e-4
_NEWTON_STEPS = 6


class _WithHessian:
    """The objective together with its Hessian from the caller's Hessian of the log-likelihood.

    ``loglik_hessian(params) -> (H, evaluations)`` is the Hessian of the total log-likelihood w.r.t. ``theta``;
    the penalty's Hessian is taken by forward differences of ``penalty`` (the objective with a zero kernel, so it
    holds whatever penalty the objective adds), which costs no kernel evaluation.
    """

    def __init__(self, fun: Objective, penalty: Objective,
                 loglik_hessian: Callable[[FloatArray], tuple[FloatArray, int]], total_weight: float, n_free: int,
                 counter: list[int]) -> None:
        self.fun, self.penalty, self.loglik_hessian = fun, penalty, loglik_hessian
        self.total_weight, self.n_free, self.counter = total_weight, n_free, counter

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        return self.fun(theta)

    def hessian(self, theta: FloatArray) -> FloatArray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            h_ll, evaluations = self.loglik_hessian(_natural(theta, self.n_free))
        self.counter[0] += evaluations
        hess: FloatArray = -h_ll / self.total_weight + _hessian(self.penalty, theta, self.penalty(theta)[1])
        return hess


class _NewtonObjective:
    """The objective with its exact Hessian from a per-row Hessian kernel (:data:`LogLikelihoodHessian`).

    ``full(theta)`` runs the Hessian kernel: value, gradient and Hessian of the objective on the optimiser's
    scale from one pass over the rows, counted as one evaluation. Called as a plain objective (by BFGS or
    Nelder-Mead, the fallbacks) it runs the cheaper log-likelihood kernel, also one evaluation, unless the point
    was evaluated already. The last few points are remembered (a line search returns to its start point).
    """

    _KEEP = 4

    def __init__(self, plain: Objective, loglik_hessian: LogLikelihoodHessian, data: Mapping[str, npt.NDArray[Any]],
                 weights: FloatArray, total_weight: float, penalizer: float, counter: list[int], limit: list[float],
                 n_free: int, lambdas: FloatArray | None, summed: bool = False) -> None:
        self.plain, self.kernel, self.data, self.weights = plain, loglik_hessian, data, weights
        self.summed = summed
        self.total_weight, self.penalizer, self.counter, self.limit = total_weight, penalizer, counter, limit
        self.n_free, self.lambdas = n_free, lambdas
        self._seen: dict[bytes, tuple[float, FloatArray, FloatArray | None]] = {}

    def _remember(self, key: bytes, entry: tuple[float, FloatArray, FloatArray | None]) -> None:
        self._seen.pop(key, None)
        self._seen[key] = entry
        while len(self._seen) > self._KEEP:
            del self._seen[next(iter(self._seen))]

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        key = np.asarray(theta, dtype=np.float64).tobytes()
        if key in self._seen:
            value, grad, _ = self._seen[key]
            return value, grad.copy()
        value, grad = self.plain(theta)
        self._remember(key, (value, grad.copy(), None))
        return value, grad

    def hessian(self, theta: FloatArray) -> FloatArray:
        return self.full(theta)[2]

    def full(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        key = np.asarray(theta, dtype=np.float64).tobytes()
        entry = self._seen.get(key)
        if entry is not None and entry[2] is not None:
            return entry[0], entry[1].copy(), entry[2].copy()
        value, grad, hess = self._evaluate(np.asarray(theta, dtype=np.float64))
        self._remember(key, (value, grad.copy(), hess.copy()))
        return value, grad, hess

    def _evaluate(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        if self.counter[0] >= self.limit[0]:
            raise _EvaluationLimitError
        self.counter[0] += 1
        n_all = theta.shape[0]
        failed = (math.inf, np.zeros(n_all), np.full((n_all, n_all), np.nan))
        params = _natural(theta, self.n_free)
        k = n_all - self.n_free
        if not np.all(np.isfinite(params)) or np.any(params[:k] <= 0.0):
            return failed
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, grad, hess = self.kernel(params, self.data)
            if self.summed:  # the kernel's weighted totals, shapes (1,), (1, k), (1, k, k)
                ll_total, g_nat, h_nat = float(ll[0]), -grad[0] / self.total_weight, -hess[0] / self.total_weight
            else:
                w = self.weights
                # einsum, not BLAS: see _objective (a threaded dot on a busy machine costs more than the kernel).
                ll_total = float(np.sum(w * ll))
                g_nat = -np.einsum("i,ij->j", w, grad) / self.total_weight  # of the mean, natural scale
                # Summed with the rows last: fast whether the kernel's array is (n, k, k) or a view of a (k, k, n) one.
                h_nat = -np.einsum("jki,i->jk", np.moveaxis(hess, 0, -1), w) / self.total_weight
            jac = _jacobian(params, self.n_free)
            value = -ll_total / self.total_weight + self.penalizer * _penalty(params, self.n_free)
            g = g_nat * jac
            # theta = log(params): d2/dtheta2 = J H J + diag(J g), the second term from d(params)/d(theta) = params.
            h = h_nat * np.outer(jac, jac)
            h[np.arange(k), np.arange(k)] += g[:k]
            p2 = params[:k] * params[:k]
            g[:k] += 2.0 * self.penalizer * p2
            h[np.arange(k), np.arange(k)] += 4.0 * self.penalizer * p2
            if self.lambdas is not None and self.lambdas.shape[0]:
                value += _coefficient_penalty(params, self.lambdas)
                g[k:] += 2.0 * self.lambdas * params[k:]
                h[np.arange(k, n_all), np.arange(k, n_all)] += 2.0 * self.lambdas
            h = 0.5 * (h + h.T)
        if not math.isfinite(value) or not np.all(np.isfinite(g)):
            return failed
        return value, g, h


def _hessian(
    fun: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray, grad: FloatArray
) -> FloatArray:
    """Forward differences of the analytic gradient (``grad`` is the gradient at ``theta``); symmetrised.

    One gradient evaluation per parameter. The step (1e-6 on the log scale, i.e. a 1e-6 relative
    change of the parameter) balances truncation against the rounding noise of the summed gradient.
    An objective that knows its Hessian (:class:`_WithHessian`) gives it instead.
    """
    if isinstance(fun, (_WithHessian, _NewtonObjective)):
        return fun.hessian(theta)
    k = theta.shape[0]
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-6 * max(1.0, abs(float(theta[j])))
        up = theta.copy()
        up[j] += h
        hess[:, j] = (fun(up)[1] - grad) / h
    sym: FloatArray = 0.5 * (hess + hess.T)
    return sym


def _newton_polish(
    fun: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray, tol: float, grad_tol: float
) -> tuple[FloatArray, float, FloatArray, FloatArray | None, int]:
    """Damped Newton steps from ``theta`` until the gradient is below ``tol``.

    Returns the point, objective, gradient, a Hessian valid at the point (``None`` if none is), and the
    number of steps taken. Stops early (leaving the rest to BFGS) if the Hessian is not positive
    definite or a step cannot decrease the objective; once the gradient is below ``grad_tol`` a step that
    does not decrease the objective means the rounding noise floor is reached, and polishing ends.
    """
    value, grad = fun(theta)
    hess: FloatArray | None = None
    steps = 0
    for _ in range(_NEWTON_STEPS):
        if not math.isfinite(value) or np.max(np.abs(grad)) < tol:
            break
        h = _hessian(fun, theta, grad)
        try:
            if np.min(np.linalg.eigvalsh(h)) <= 0:
                break
            step = -np.linalg.solve(h, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        accepted = False
        near = float(np.max(np.abs(grad))) < grad_tol
        while t >= (1.0 if near else 1e-3):
            cand = theta + t * step
            v2, g2 = fun(cand)
            if math.isfinite(v2) and v2 <= value + 1e-4 * t * float(grad @ step):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            hess = h  # computed at the current point: valid for the standard errors
            break
        steps += 1
        # The Hessian stays valid for the new point when the step was small (used for standard errors).
        hess = h if float(np.max(np.abs(t * step))) < 1e-4 else None
        theta, value, grad = cand, v2, g2
    return theta, value, grad, hess, steps


def maximize_likelihood(
    loglik: LogLikelihood,
    data: Mapping[str, npt.NDArray[Any]],
    weights: FloatArray,
    start: FloatArray,
    *,
    model: str,
    param_names: tuple[str, ...],
    penalizer: float = 0.0,
    tol: float = 1e-9,
    max_iter: int = 500,
    progress: Callable[[FitProgress], None] | None = None,
    summed: bool = False,
    total_weight: float | None = None,
    n_free: int = 0,
    coefficient_lambdas: FloatArray | None = None,
    hessian: Callable[[FloatArray], tuple[FloatArray, int]] | None = None,
    loglik_hessian: LogLikelihoodHessian | None = None,
) -> FitResult:
    """Maximise ``sum(weights * loglik(params, data)[0])`` over positive ``params``.

    Parameters
    ----------
    loglik:
        Pure kernel returning per-row log-likelihood and gradient (see :data:`LogLikelihood`).
    data:
        Arrays of shape (n_rows,) the kernel reads.
    weights:
        Array of shape (n_rows,): how many customers each row stands for.
    start:
        Starting parameters (natural scale, positive), shape (k,).
    model, param_names:
        Used in messages, diagnostics and progress reports.
    penalizer:
        L2 penalty coefficient on the natural-scale parameters (0 = plain maximum likelihood).
    tol:
        Gradient tolerance (infinity norm, on the mean log-likelihood per customer, log-parameter scale).
    max_iter:
        Maximum optimiser iterations per attempt.
    progress:
        Optional callback called after every iteration of every optimiser (BFGS and the Nelder-Mead restart).
    summed:
        The kernel returns weighted totals (sufficient-statistic kernels); ``weights`` is then unused
        except through ``total_weight``.
    total_weight:
        Number of customers; defaults to ``weights.sum()``.
    n_free:
        How many of the last parameters are unconstrained reals (covariate coefficients): optimised on their
        own scale, not touched by ``penalizer``, and their standard errors need no delta method. ``start``
        gives them on that scale.
    coefficient_lambdas:
        Optional L2 penalty of each of the ``n_free`` coefficients, array of shape (n_free,), all >= 0:
        ``sum(lambda_j * gamma_j**2)`` is added to the *mean* negative log-likelihood per customer. That is
        CLVTools' ``reg.lambdas`` form (its ``interlayer_regularization``, R/interlayer_regularization.R in
        github.com/bachmannpatrick/CLVTools: the summed negative log-likelihood divided by the number of
        customers, plus ``lambda_trans * sum(gamma_trans**2) + lambda_life * sum(gamma_life**2)``), so equal
        lambdas give estimates comparable with CLVTools'. The reported log-likelihood is the unpenalised one;
        the standard errors come from the Hessian of the penalised objective (as CLVTools' do).
    hessian:
        Optional ``params -> (H, n)``: the Hessian of the total log-likelihood w.r.t. the optimiser's coordinates
        (log parameters, then the coefficients) at natural-scale ``params``, and the kernel evaluations it took.
        Used wherever a Hessian is needed (BFGS's start, Newton steps, the covariance) instead of forward
        differences of the gradient, one evaluation per parameter.
    loglik_hessian:
        Optional per-row kernel giving the log-likelihood, gradient and Hessian w.r.t. the natural parameters in
        one pass, on the same ``(params, data)`` as ``loglik`` (see :data:`LogLikelihoodHessian`; with ``summed``,
        the weighted totals like ``loglik``'s, shapes (1,), (1, k), (1, k, k); not with ``hessian``). The fit is
        then Newton's method from the start with that Hessian (BFGS and Nelder-Mead only where Newton fails), and
        the Hessian of the last pass gives the standard errors. Each pass of either kernel counts as one evaluation.

    Returns
    -------
    FitResult

    Raises
    ------
    ConvergenceError
        When neither BFGS nor a Nelder-Mead restart reaches a finite optimum with a small gradient; when the
        fit has used ``EVALUATIONS_PER_ITERATION * max_iter`` log-likelihood evaluations (see
        :data:`EVALUATIONS_PER_ITERATION`); or when the log-likelihood is flat at the start (the data cannot
        identify the model, e.g. nobody repeats and every ``T`` is 0).
    """
    t0 = time.perf_counter()
    total_weight = float(weights.sum()) if total_weight is None else float(total_weight)
    counter = [0]
    limit = [float(EVALUATIONS_PER_ITERATION * max_iter)]
    lambdas = None if coefficient_lambdas is None else np.asarray(coefficient_lambdas, dtype=np.float64)
    if lambdas is not None and lambdas.shape != (n_free,):
        raise InvalidInputError(f"{model}: 'coefficient_lambdas' must have shape ({n_free},). "
                                f"Got {lambdas.shape} instead.")
    fun: Objective = _objective(loglik, data, weights, total_weight, penalizer, counter, summed, limit, n_free,
                                lambdas)
    newton: _NewtonObjective | None = None
    if loglik_hessian is not None:
        if hessian is not None:
            raise InvalidInputError(f"{model}: give 'loglik_hessian' or 'hessian', not both.")
        newton = _NewtonObjective(fun, loglik_hessian, data, weights, total_weight, penalizer, counter, limit,
                                  n_free, lambdas, summed)
        fun = newton
    if hessian is not None:
        # The penalties' Hessian by differences of the objective on a zero kernel: whatever penalty it adds.
        penalty = _objective(_zero_kernel, {}, np.ones(1), total_weight, penalizer, [0], True, [math.inf], n_free,
                             lambdas)
        fun = _WithHessian(fun, penalty, hessian, total_weight, n_free, counter)
    theta0 = np.array(start, dtype=np.float64)
    n_pos = theta0.shape[0] - n_free
    theta0[:n_pos] = np.log(theta0[:n_pos])
    _check_start(fun, theta0, model, param_names, n_free)
    callback, report = _progress_callbacks(fun, progress, model, param_names, total_weight, n_free)
    search = _Search(fun, max_iter, callback, report)
    # ``tol`` is the aim; ``grad_tol`` is what counts as converged (see _find_optimum for why they differ).
    grad_tol = max(1e3 * tol, 1e-6)
    edge: _Edge | None = None
    try:
        if newton is not None:
            best_theta, message, nit, hess, edge = _find_optimum_newton(search, newton, theta0, tol, grad_tol, n_pos)
        else:
            best_theta, message, nit, hess = _find_optimum(search, theta0, tol, grad_tol)
    except _EvaluationLimitError:
        raise ConvergenceError(
            f"{model}: the optimiser stopped after {counter[0]} log-likelihood evaluations (the limit, "
            f"{EVALUATIONS_PER_ITERATION} x max_iter={max_iter}) without converging. Try a small penalizer "
            f"(e.g. 1e-3), other initial_params, or check the data for extreme rows; a larger max_iter allows more."
        ) from None
    except _FlatLikelihoodError:
        raise ConvergenceError(
            f"{model}: the data cannot identify the model: the log-likelihood does not change with the "
            f"parameters at the start values (e.g. no customer made a repeat purchase and every customer's "
            f"observation time T is 0). Use a longer observation period or more customers."
        ) from None
    limit[0] = math.inf  # the search is over: the standard errors need k more gradients
    value, grad = fun(best_theta)
    grad_norm = float(np.max(np.abs(grad))) if math.isfinite(value) else math.inf
    params = _natural(best_theta, n_free)
    if not math.isfinite(value) or grad_norm >= grad_tol:
        raise ConvergenceError(
            f"{model}: the optimiser stopped without converging ({message}); "
            f"gradient norm {grad_norm:.3g} at {dict(zip(param_names, params.tolist(), strict=True))}. "
            f"Try other initial_params, a small penalizer (e.g. 1e-3), or check the data for extreme rows."
        )
    ll_total = -(value - penalizer * _penalty(params, n_free) - _coefficient_penalty(params, lambdas)) * total_weight
    if edge is not None:
        # The likelihood is flat along the held direction (curvature ~0 there): the standard errors of the parameters
        # running off are not meaningful, which the warning says. Every fit reports a covariance where the information
        # is positive definite (the engines' contract, tests/test_engine_conformance.py), so it is still computed at
        # the point reached; where it is not, no second warning: this one says why.
        warn(_edge_message(model, param_names, edge), ConvergenceWarning, stacklevel=3)
        with silenced(ConvergenceWarning):
            covariance, standard_errors = _covariance(fun, best_theta, grad, hess, total_weight,
                                                      _jacobian(params, n_free), model)
    else:
        covariance, standard_errors = _covariance(fun, best_theta, grad, hess, total_weight,
                                                  _jacobian(params, n_free), model)
    return FitResult(
        params=params, log_likelihood=float(ll_total), covariance=covariance, standard_errors=standard_errors,
        n_iterations=nit, n_evaluations=counter[0], converged=True, gradient_norm=grad_norm, message=message,
        seconds=time.perf_counter() - t0,
    )


def _edge_message(model: str, param_names: tuple[str, ...], edge: _Edge) -> str:
    """What a fit at the edge of the parameter space tells its user: which parameters run where, in plain words."""
    parts = []
    for d in edge.direction.T:
        lead = float(np.max(np.abs(d)))
        moving = [(param_names[j], "0" if d[j] < 0 else "infinity") for j in range(d.shape[0])
                  if abs(d[j]) >= 0.1 * lead]
        groups = []
        for where in ("0", "infinity"):
            names = [f"'{name}'" for name, w in moving if w == where]
            if names:
                verb = "runs" if len(names) == 1 else "run"
                listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
                groups.append(f"{listed} {verb} to {where}")
        parts.append(("parameter " if len(moving) == 1 else "parameters ") + " while ".join(groups)
                     + (" together" if len(moving) > 1 else ""))
    return (f"{model}: {'; '.join(parts)}: the likelihood is flat in that direction; the estimate is the limit "
            f"(the fit is reported at a far point along it); the standard errors of these parameters are not "
            f"meaningful.")


# ---------------------------------------------------------------------------------------------- steps
def _zero_kernel(params: FloatArray, _data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
    """A summed kernel of log-likelihood 0: the objective on it is the penalty alone."""
    return np.zeros(1), np.zeros((1, params.shape[0]))


def _progress_callbacks(fun: Objective, progress: Callable[[FitProgress], None] | None, model: str,
                        param_names: tuple[str, ...], total_weight: float, n_free: int = 0
                        ) -> tuple[Callable[[FloatArray], None], Callable[[FloatArray, float], None]]:
    """The optimisers' callbacks: they count iterations over all attempts and report each one to ``progress``.

    The first (BFGS) takes the point and looks its value up (the objective remembers the last point); the
    second (Nelder-Mead) is given the value as well.
    """
    iteration = [0]

    def report(xk: FloatArray, value: float) -> None:
        iteration[0] += 1
        if progress is not None:
            progress(
                FitProgress(
                    model=model,
                    iteration=iteration[0],
                    log_likelihood=-value * total_weight,
                    params=dict(zip(param_names, _natural(xk, n_free).tolist(), strict=True)),
                )
            )

    def callback(xk: FloatArray) -> None:
        if progress is None:
            iteration[0] += 1
            return
        report(xk, fun(xk)[0])

    return callback, report


def _check_start(fun: Objective, theta0: FloatArray, model: str, param_names: tuple[str, ...],
                 n_free: int = 0) -> None:
    # With a Hessian kernel the first Newton step needs the full pass at the start anyway: one pass, not two.
    f0 = fun.full(theta0)[0] if isinstance(fun, _NewtonObjective) else fun(theta0)[0]
    if not math.isfinite(f0):
        raise ConvergenceError(
            f"{model}: the log-likelihood is not finite at the start values "
            f"{dict(zip(param_names, _natural(theta0, n_free).tolist(), strict=True))}. Pass other initial_params."
        )


@dataclass(frozen=True)
class _Search:
    """The objective and what every optimiser run of one fit shares (the iteration limit, the callback)."""

    fun: Objective
    max_iter: int
    callback: Callable[[FloatArray], None]
    report: Callable[[FloatArray, float], None]

    def bfgs(self, theta_start: FloatArray, gtol: float) -> Any:
        """One BFGS run from ``theta_start``, seeded with the inverse Hessian there when it can be."""
        # Imported here, not at module level: scipy.optimize costs ~0.3 s of import time that scoring never needs.
        from scipy import optimize

        options: dict[str, Any] = {"gtol": gtol, "maxiter": self.max_iter}
        h_inv = _initial_inverse_hessian(self.fun, theta_start)
        if h_inv is not None:
            options["hess_inv0"] = h_inv
        # Trial points far out overflow (handled: a non-finite value rejects the point); convergence is
        # judged afterwards from the gradient. np.errstate is thread-local; warnings.catch_warnings is not.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return optimize.minimize(
                self.fun, theta_start, jac=True, method="BFGS", callback=self.callback, options=options,
            )

    def nelder_mead(self, theta_start: FloatArray) -> FloatArray:
        """The end point of a derivative-free run from ``theta_start``.

        It reports every iteration to the progress callback (from the simplex's best value, so no extra
        evaluation) and ends at the fit's evaluation limit (the objective raises there).
        """
        from scipy import optimize

        def report(intermediate_result: Any) -> None:  # scipy passes the OptimizeResult by this parameter name
            self.report(np.asarray(intermediate_result.x), float(intermediate_result.fun))

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            nm = optimize.minimize(lambda th: self.fun(th)[0], theta_start, method="Nelder-Mead", callback=report,
                                   options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20 * self.max_iter})
        x: FloatArray = nm.x
        return x


class _EvaluationLimitError(Exception):
    """The fit used its allowed number of log-likelihood evaluations (see :data:`EVALUATIONS_PER_ITERATION`)."""


class _FlatLikelihoodError(Exception):
    """The log-likelihood has zero gradient and zero curvature at the start: the data carry no information."""


def _initial_inverse_hessian(fun: Objective, theta_start: FloatArray) -> FloatArray | None:
    """The positive-definite inverse of the Hessian at ``theta_start`` to seed BFGS with, or ``None``."""
    # Seed BFGS with the inverse of the true Hessian at the start (k gradient evaluations) when it is
    # positive definite: the default identity ignores the scale and the ridges of these likelihoods
    # (e.g. BG/NBD's a-b ridge) and costs many more iterations than it saves.
    # Far from the optimum the Hessian may be indefinite: flip negative eigenvalues and floor small ones
    # (|H|, the usual positive-definite modification), which keeps the curvature scale of each direction.
    start_value, start_grad = fun(theta_start)
    if not math.isfinite(start_value):
        return None
    h0 = _hessian(fun, theta_start, start_grad)
    if not np.any(start_grad) and np.all(h0 == 0.0):
        # Neither slope nor curvature: the likelihood is flat here (e.g. nobody repeats and every T is 0, so
        # every customer's likelihood is 1 whatever the parameters). No optimiser can find an estimate.
        raise _FlatLikelihoodError
    try:
        if not np.all(np.isfinite(h0)):
            return None
        eig, vec = np.linalg.eigh(h0)
        eig = np.maximum(np.abs(eig), 1e-8 * max(float(np.max(np.abs(eig))), 1e-300))
        h_inv: FloatArray = (vec / eig) @ vec.T
        h_inv = 0.5 * (h_inv + h_inv.T)
        if not np.all(np.isfinite(h_inv)):
            return None
        np.linalg.cholesky(h_inv)  # what scipy checks; an ill-conditioned inverse fails here
    except np.linalg.LinAlgError:
        return None
    return h_inv


def _find_optimum(search: _Search, theta0: FloatArray, tol: float,
                  grad_tol: float) -> tuple[FloatArray, str, int, FloatArray | None]:
    """The best point found, the optimiser's message, the iterations and a Hessian valid there (or ``None``)."""
    fun = search.fun
    # BFGS to a coarse optimum, then Newton steps with the Hessian (which the standard errors need
    # anyway): near the optimum Newton converges in one or two steps where BFGS spends many line
    # searches, and on the ridges of e.g. the Gamma-Gamma likelihood it avoids dozens of evaluations.
    res = search.bfgs(theta0, max(tol, _COARSE_GTOL))
    # ``tol`` is the aim; ``grad_tol`` is what counts as converged. Newton may stall between the two at the
    # rounding noise of a sum over millions of customers - then more BFGS line searches only burn
    # evaluations, so BFGS runs again only when Newton did not reach ``grad_tol``.
    theta, value, grad, hess, n_newton = _newton_polish(fun, res.x, tol, grad_tol)
    if not (math.isfinite(value) and np.max(np.abs(grad)) < grad_tol):
        res = search.bfgs(theta, tol)
        theta, hess = res.x, None
    best_theta, best_fun, message, nit = theta, fun(theta)[0], str(res.message), int(res.nit) + n_newton
    if not (math.isfinite(best_fun) and np.max(np.abs(fun(best_theta)[1])) < grad_tol):
        # Restart: a derivative-free pass from the best point so far, then BFGS again.
        res2 = search.bfgs(search.nelder_mead(best_theta if math.isfinite(best_fun) else theta0), tol)
        if math.isfinite(res2.fun) and res2.fun <= best_fun:
            best_theta, message, nit, hess = res2.x, str(res2.message), nit + int(res2.nit), None
    return best_theta, message, nit, hess


#: Newton steps from the start (a per-row Hessian kernel) stay in a trust region of this radius (2-norm on the
#: optimiser's scale, at first; a step of 3 on the log scale is a factor e^3 on a positive parameter): it grows
#: (doubles, up to the maximum) after a step that reached its edge and reduced the objective as the quadratic model
#: predicted, and shrinks after a step that did not. (Compared on the BG/NBD, MBG/NBD and BG/BB fits of CDNOW, the
#: donations, simulated batches and extreme parameters: a start radius of 1 to 4 costs at most one pass more or
#: less; a line search along the bounded Newton step took 1-3 passes more than this trust region.)
_NEWTON_RADIUS = 3.0
_NEWTON_MAX_RADIUS = 32.0
#: Newton stops once the gradient is below this fraction of ``tol``: near the optimum a pass costs little and
#: converges quadratically, so one more step usually takes the gradient from ~tol to ~1e-15 (the BFGS route's
#: final polish often landed there too; stopping at ``tol`` left some fits 1e-7 apart on weak directions).
_NEWTON_AIM = 1e-2


def _trust_region_step(hess: FloatArray, grad: FloatArray, radius: float) -> tuple[FloatArray, float] | None:
    """The minimiser of the quadratic model ``g'p + p'Hp/2`` over ``|p| <= radius`` (2-norm) and its predicted
    decrease, or ``None`` if the Hessian is unusable.

    From the eigendecomposition ``H = V diag(e) V'``: ``p(lam) = -V (V'g / (e + lam))`` with ``lam >= max(0, -min e)``,
    ``lam = 0`` where the Newton step is inside the region, else the ``lam`` with ``|p(lam)| = radius`` (bisection:
    ``|p|`` decreases in ``lam``); in the "hard case" (the gradient has no component along a direction of
    negative or zero curvature) that direction fills the step up to the boundary (Nocedal & Wright, Numerical
    Optimization, 2nd ed., section 4.3).
    """
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad))):
        return None
    try:
        eig, vec = np.linalg.eigh(hess)
    except np.linalg.LinAlgError:
        return None
    top = float(np.max(np.abs(eig)))
    if not top > 0.0:
        return None
    gt = vec.T @ grad

    def step(lam: float) -> FloatArray:
        out: FloatArray = -(vec @ (gt / (eig + lam)))
        return out

    floor = 1e-12 * top
    low = max(0.0, -float(eig[0]))
    if eig[0] > floor:
        p = step(0.0)
        if float(np.linalg.norm(p)) <= radius:
            return p, -float(grad @ p + 0.5 * p @ hess @ p)
    lo = low + floor
    p_lo = step(lo)
    if float(np.linalg.norm(p_lo)) <= radius:
        # Hard case: fill up to the boundary along the eigenvector of the smallest eigenvalue.
        rest = radius * radius - float(p_lo @ p_lo)
        p = p_lo + math.sqrt(max(rest, 0.0)) * vec[:, 0]
    else:
        hi = max(lo * 2.0, float(np.linalg.norm(grad)) / radius + top)
        while float(np.linalg.norm(step(hi))) > radius:
            hi *= 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(np.linalg.norm(step(mid))) > radius:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-12 * hi:
                break
        p = step(hi)
    if not np.all(np.isfinite(p)):
        return None
    return p, -float(grad @ p + 0.5 * p @ hess @ p)


@dataclass(frozen=True)
class _Edge:
    """A direction along which the likelihood flattens as the parameters run off to the edge of their range.

    ``direction`` is a unit vector on the optimiser's scale over the positive (log-scale) parameters; the search took
    a long step along it and optimised the other directions with it held."""

    direction: FloatArray


#: Edge detection (see :func:`_edge_direction`): the last ``_EDGE_STEPS`` accepted steps each moved a log-scale
#: parameter the same way by at least ``_EDGE_MIN_MOVE``, while each lowered the objective by less than
#: ``_EDGE_FLAT`` (relative to ``max(1, |objective|)``; the objective is a mean per customer) and the gradient's
#: component along that direction is below ``_EDGE_FLAT`` too. Then the search jumps ``_EDGE_JUMP`` (log units, the
#: parameter moving most) along the direction and holds it. On Gamma-Gompertz/NBD's b -> 0 ridge (CDNOW, the
#: benchmark's 100k daily customers) Newton's steps along the ridge are 0.4-1 in log b while the objective falls by
#: ~1e-6 relative per step: without the jump the fit walks ~20 more passes to the same limit.
_EDGE_STEPS = 1
_EDGE_MIN_MOVE = 0.2
_EDGE_FLAT = 1e-4
_EDGE_JUMP = 20.0
_EDGE_BOUND = 30.0
#: ... and the curvature along it below this fraction of the Hessian's largest eigenvalue (GGom/NBD on CDNOW: 2e-5
#: along the ridge, 0.08 along log b alone).
_EDGE_CURVATURE = 1e-3


def _complement(held: list[FloatArray], n: int) -> FloatArray | None:
    """An orthonormal basis (columns) of the directions orthogonal to every held one, or ``None`` if none is held."""
    if not held:
        return None
    d = np.stack(held, axis=1)
    q, _ = np.linalg.qr(np.concatenate([d, np.eye(n)], axis=1))
    basis: FloatArray = q[:, len(held):n]
    return basis


def _edge_direction(steps: list[FloatArray], decreases: list[float], value: float, grad: FloatArray,
                    hess: FloatArray, n_pos: int, refused: list[FloatArray]) -> FloatArray | None:
    """The unit direction along which the last accepted steps ran off while the objective flattened, or ``None``."""
    if len(steps) < _EDGE_STEPS:
        return None
    recent = np.stack(steps[-_EDGE_STEPS:])[:, :n_pos]
    flat = _EDGE_FLAT * max(1.0, abs(value))
    if max(decreases[-_EDGE_STEPS:]) >= flat:
        return None
    same_sign = np.all(recent > 0.0, axis=0) | np.all(recent < 0.0, axis=0)
    # Moving: at least _EDGE_MIN_MOVE each step, and a quarter of the largest move (a coordinate adjusting on the side,
    # e.g. s while b and beta run off, is not part of the direction).
    floor = np.maximum(_EDGE_MIN_MOVE, 0.05 * np.max(np.abs(recent), axis=1, keepdims=True))
    moving = same_sign & np.all(np.abs(recent) >= floor, axis=0)
    if not np.any(moving):
        return None
    d = np.zeros(grad.shape[0])
    d[:n_pos] = np.where(moving, recent[-1], 0.0)
    d /= float(np.linalg.norm(d))
    if int(np.count_nonzero(moving)) > 1:
        # Parameters running off together often do so at a fixed ratio (a scale the likelihood depends on only
        # through their ratio in the limit, e.g. Gamma-Gompertz/NBD's beta / b): the Newton steps approach that
        # direction only as fast as the limit is approached, and a long jump along a direction a few percent off
        # would change the ratio. Equal moves on the log scale are preferred when the objective is as flat along
        # them (curvature within a factor 4 of the steps' direction).
        equal = np.zeros_like(d)
        equal[:n_pos] = np.where(moving, np.sign(recent[-1]), 0.0)
        equal /= float(np.linalg.norm(equal))
        if float(equal @ hess @ equal) <= 4.0 * max(float(d @ hess @ d), 0.0) + 1e-15:
            d = equal
    # Flat: the gradient along the direction is negligible and so is the curvature, against the largest of the
    # Hessian (a parameter moving far while coupled to another one, e.g. b alone on the b -> 0 ridge, is curved).
    curvature = float(d @ hess @ d)
    top = float(np.max(np.abs(np.linalg.eigvalsh(hess)))) if np.all(np.isfinite(hess)) else math.inf
    if (abs(float(grad @ d)) >= flat or not curvature <= _EDGE_CURVATURE * top
            or any(abs(float(d @ r)) > 0.999 for r in refused)):
        return None
    return d


def _edge_jump(theta: FloatArray, d: FloatArray) -> FloatArray:
    """The jump along ``d``: ``_EDGE_JUMP`` log units of the coordinate moving most, but no log-parameter beyond
    ``_EDGE_BOUND`` in absolute value (parameters within 1e-13..1e13: kernels lose precision far out, BG/NBD's ``a`` and
    ``b`` at ~1e10)."""
    length = _EDGE_JUMP / float(np.max(np.abs(d)))
    moving = np.abs(d) > 0.0
    room = (_EDGE_BOUND - np.sign(d[moving]) * theta[moving]) / np.abs(d[moving])
    length = min(length, max(float(np.min(room)), 0.0))
    out: FloatArray = length * d
    return out


def _limit_of_the_rest(d: FloatArray, basis: FloatArray, hess: FloatArray, grad: FloatArray,
                       radius: float) -> FloatArray:
    """Where the other directions go as the parameters run off along ``d``: the change to add to the jump.

    Along a ridge to the edge the optimum ``rest`` of the other directions approaches its limit like the running
    parameter ``p = exp(theta_l)`` approaches 0 (``theta_l`` the coordinate moving most; ``1 / p`` for one running to
    infinity): ``rest(u) = rest* + c u + O(u^2)``, a smooth likelihood's first-order term at its limit. As
    ``d rest / d theta_l = -c u`` (up to the direction's sign), ``rest* = rest(u) + d rest / d |theta_l|``: the
    ridge's slope for one unit of ``theta_l``, by the implicit function theorem ``d rest / d tau = -(Z'HZ)^-1 Z'H d``
    along ``d``. With the Newton step to the ridge at the current point, that is the step of the quadratic model on
    the complement ``Z`` for the gradient ``Z'(g + H d / |d_l|)``: exact to first order in ``u``.
    """
    scale = 1.0 / float(np.max(np.abs(d)))
    found = _trust_region_step(basis.T @ hess @ basis, basis.T @ (grad + scale * (hess @ d)), radius)
    return np.zeros_like(d) if found is None else basis @ found[0]


def _newton_search(search: _Search, fun: _NewtonObjective, theta0: FloatArray, tol: float, grad_tol: float,
                   n_pos: int | None = None) -> tuple[FloatArray, str, int, FloatArray | None, bool, _Edge | None]:
    """Newton's method with the exact Hessian in a trust region from ``theta0``, one kernel pass per point tried.

    Returns the last accepted point, a message, the iterations, the Hessian there, whether the search
    converged (gradient below ``_NEWTON_AIM * tol``; or below ``grad_tol`` where a step can no longer improve the
    objective beyond its rounding noise) and the edge it converged at (or ``None``). Each step minimises the
    quadratic model in the region (:func:`_trust_region_step`; where the likelihood is not convex, far from the
    optimum, that is still a descent step to the region's edge); it is taken if the objective decreased by at least
    1e-4 of the predicted decrease, and the region grows or shrinks with the ratio of the two (Nocedal & Wright,
    algorithm 4.1). If the region shrinks to nothing the search gives up and the caller falls back to BFGS from the
    point reached.

    An optimum at the edge of the parameter space (a log-scale parameter running to 0 or infinity while the
    likelihood flattens, e.g. Gamma-Gompertz/NBD's b -> 0, the Pareto/NBD limit) is taken as the limit: once
    :func:`_edge_direction` sees the steps run off along a direction, one step jumps far along it (with the Newton
    step of the other directions) and the search goes on in the other directions only (the reduced Hessian
    ``Z'HZ``), so it still converges quadratically. The jump is kept if the objective where the reduced search
    converges is not worse than before the jump beyond rounding; otherwise the search returns to the point before
    it and does not try that direction again.
    """
    theta = np.array(theta0, dtype=np.float64)
    n_all = theta.shape[0]
    n_pos = n_all if n_pos is None else n_pos
    value, grad, hess = fun.full(theta)
    if not np.any(grad) and float(np.max(np.abs(hess))) < 1e-12:
        # No slope and (to rounding) no curvature: see _initial_inverse_hessian. The exact Hessian of a
        # likelihood that is constant is a sum of terms that cancel, not exactly 0 as differences of 0 are.
        raise _FlatLikelihoodError
    radius = _NEWTON_RADIUS
    iteration = 0
    steps: list[FloatArray] = []
    decreases: list[float] = []
    held: list[FloatArray] = []
    refused: list[FloatArray] = []
    basis: FloatArray | None = None
    # The state before a jump along a held direction: (theta, value, grad, hess, radius, held directions).
    anchor: tuple[FloatArray, float, FloatArray, FloatArray, float, list[FloatArray]] | None = None

    def edge() -> _Edge | None:
        return _Edge(np.stack(held, axis=1)) if held else None

    def revert() -> None:
        nonlocal theta, value, grad, hess, radius, held, basis, anchor, steps, decreases
        assert anchor is not None
        refused.append(held[-1])
        theta, value, grad, hess, radius, held = anchor
        basis, anchor = _complement(held, n_all), None

    while iteration < search.max_iter:
        g_red = grad if basis is None else basis.T @ grad
        h_red = hess if basis is None else basis.T @ hess @ basis
        g_max = float(np.max(np.abs(g_red)))
        done = None
        # At the edge the reported point is one far point on a flat ridge, its distance a convention: the polish
        # below tol that makes interior estimates reproducible to ~1e-12 buys nothing there, so tol itself ends it.
        if g_max < (tol if held else _NEWTON_AIM * tol):
            done = "Newton: the gradient is below tol"
        found = None if done else _trust_region_step(h_red, g_red, radius)
        if done is None and found is None:
            if anchor is not None:
                revert()
                continue
            return theta, "Newton: the Hessian is not usable", iteration, None, False, None
        if done is None:
            assert found is not None
            p_red, predicted = found
            p = p_red if basis is None else basis @ p_red
            length = float(np.linalg.norm(p_red))
            cand = theta + p
            v2, g2, h2 = fun.full(cand)
            near = g_max < grad_tol
            if near:
                # The change of the objective is within its rounding noise (a sum over millions of customers): the
                # gradient decides.
                g2_red = g2 if basis is None else basis.T @ g2
                if math.isfinite(v2) and float(np.max(np.abs(g2_red))) < g_max:
                    theta, value, grad, hess = cand, v2, g2, h2
                    iteration += 1
                    search.callback(theta)
                    continue
                done = "Newton: converged to the rounding noise of the objective"
        if done is not None:
            if anchor is not None and value > anchor[1] + 1e-12 * max(1.0, abs(anchor[1])):
                revert()  # the jump lost more than rounding: not an edge after all
                continue
            if held:
                done = "Newton: converged at the edge of the parameter space"
            return theta, done, iteration, hess, True, edge()
        rho = (value - v2) / predicted if math.isfinite(v2) and predicted > 0.0 else -math.inf
        if rho < 0.25:
            radius = 0.25 * length
        elif rho > 0.75 and length >= 0.99 * radius:
            radius = min(2.0 * radius, _NEWTON_MAX_RADIUS)
        if rho > 1e-4:
            steps.append(p)
            decreases.append(value - v2)
            theta, value, grad, hess = cand, v2, g2, h2
            iteration += 1
            search.callback(theta)
            d = None if anchor is not None else _edge_direction(steps, decreases, value, grad, hess, n_pos, refused)
            if d is not None:
                # Jump far along the direction, with the Newton step of the other directions in the same pass.
                saved = (theta, value, grad, hess, radius, list(held))
                held.append(d)
                basis = _complement(held, n_all)
                assert basis is not None
                jump = _edge_jump(theta, d)
                cand = theta + jump + _limit_of_the_rest(d, basis, hess, grad, radius)
                v3, g3, h3 = fun.full(cand)
                anchor = saved
                # Kept if the objective is not worse beyond the flatness that made it an edge, and the other
                # directions' gradient shrank as the Newton step there promised: a kernel that loses precision far
                # out (BG/NBD at a, b ~ 1e10) can show a spuriously lower value with a noisy, larger gradient.
                g_before = float(np.max(np.abs(basis.T @ grad)))
                if not (math.isfinite(v3) and v3 <= value + _EDGE_FLAT * max(1.0, abs(value))
                        and float(np.max(np.abs(basis.T @ g3))) <= max(g_before, grad_tol)):
                    revert()
                    continue
                theta, value, grad, hess = cand, v3, g3, h3
                steps, decreases = [], []
                iteration += 1
                search.callback(theta)
        elif radius < 1e-10:
            if anchor is not None:
                revert()
                continue
            return theta, "Newton: no step decreases the objective", iteration, None, False, None
    return theta, "Newton: iteration limit reached", search.max_iter, None, False, None


def _find_optimum_newton(search: _Search, fun: _NewtonObjective, theta0: FloatArray, tol: float, grad_tol: float,
                         n_pos: int | None = None) -> tuple[FloatArray, str, int, FloatArray | None, _Edge | None]:
    """Newton from the start; where it fails, the BFGS route (:func:`_find_optimum`) from the point it reached."""
    theta, message, nit, hess, converged, edge = _newton_search(search, fun, theta0, tol, grad_tol, n_pos)
    if converged:
        return theta, message, nit, hess, edge
    best, message, more, hess = _find_optimum(search, theta, tol, grad_tol)
    return best, message, nit + more, hess, None


def _covariance(fun: Objective, theta: FloatArray, grad: FloatArray, hess: FloatArray | None, total_weight: float,
                jac: FloatArray, model: str) -> tuple[FloatArray | None, FloatArray | None]:
    """Covariance and standard errors of the natural-scale parameters (delta method with the diagonal Jacobian
    ``jac = d params / d theta``), or a warning and ``None``."""
    if hess is None:
        hess = _hessian(fun, theta, grad)
    hess = hess * total_weight
    covariance: FloatArray | None = None
    standard_errors: FloatArray | None = None
    try:
        eig = np.linalg.eigvalsh(hess)
        if np.all(eig > 0) and np.all(np.isfinite(eig)):
            cov_theta = np.linalg.inv(hess)
            cov: FloatArray = np.asarray(cov_theta * np.outer(jac, jac), dtype=np.float64)
            covariance = cov
            standard_errors = np.sqrt(np.diag(cov))
    except np.linalg.LinAlgError:
        pass
    if covariance is None:
        warn(
            f"{model}: the observed information matrix is not positive definite at the optimum; standard "
            f"errors are not available (parameters may be weakly identified by these data).",
            ConvergenceWarning,
            stacklevel=4,  # past this step, maximize_likelihood and the engine's _estimate: at its fit()
        )
    return covariance, standard_errors
