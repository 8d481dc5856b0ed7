"""Static covariates in the one fit template: the design, the grouped likelihood and the chain rule.

A model declares, per process (``purchase`` and ``dropout``; ``spend`` for Gamma-Gamma), which of its
parameters a covariate scales and in which direction (``covariate_links``, e.g. Pareto/NBD:
``{"purchase": ((1, -1.0),), "dropout": ((3, -1.0),)}``, i.e. ``alpha_i = alpha exp(-gamma_p' z_i)`` and
``beta_i = beta exp(-gamma_d' z_i)`` - CLVTools' link, so the coefficients are comparable with its estimates).
Nothing model-specific lives here:

- :func:`build_design` aligns the covariates with the summary's customers, checks them and maps every
  process's columns onto the free coefficients (a covariate named in ``equal`` gets one coefficient for both
  processes);
- customers are grouped by their distinct covariate rows (:func:`group_codes`); within a group every customer has
  the same individual parameters ``log theta_u = log theta + A_u gamma`` (:func:`scale_params`);
- :class:`CovariateLikelihood` is what the fit optimises: the model's own (compressed, analytic-gradient) kernel on
  every group at its parameters, the gradient chained through the link (``d ll / d log theta = sum_u g_u``,
  ``d ll / d gamma = sum_u A_u' g_u`` with ``g_u`` the group's gradient in ``log theta_u``), and the Hessian the
  same way, ``H = sum_u J_u' H_u J_u`` with ``J_u = [I, A_u]``: ``H_u`` by forward differences of the kernel's
  gradient costs one evaluation per model parameter (all groups shifted at once), whatever the number of
  coefficients - not one per parameter and coefficient as differences of the whole gradient would.

An engine whose kernel takes one row of parameters per data row (``row_params``, e.g. Pareto/NBD) is called once
per evaluation on all groups' rows, compressed on distinct ``(group, x, tx, T)``: a continuous covariate with as
many values as customers costs one kernel call on about as many rows as customers, not one call per customer.
Other engines are called once per group (:func:`per_group_kernel`), cheap for categorical covariates. The older
:func:`grouped_loglik` gives the same totals per row of every group (used in tests as a cross-check).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..._rows import unique_rows
from ...errors import InvalidInputError

__all__ = ["PROCESSES", "CoefficientLayout", "CovariateLikelihood", "Links", "RowKernel", "build_design",
           "coefficient_columns", "coefficient_lambdas", "covariate_names", "group_codes", "group_customers",
           "grouped_loglik", "per_group_kernel", "positions_by_group", "scale_params"]

FloatArray = npt.NDArray[np.float64]
#: Per process: ``(parameter position, sign)`` pairs; the parameter is multiplied by ``exp(sign * z' gamma)``.
Links = Mapping[str, tuple[tuple[int, float], ...]]
PROCESSES = ("purchase", "dropout")


@dataclass(frozen=True)
class CoefficientLayout:
    """Which covariates enter which process, and how they map onto the free coefficients.

    ``labels`` names the free coefficients (``"purchase.Gender"``, or ``"Gender"`` for one constrained equal
    across the processes); ``columns[process]`` lists, per covariate of that process, its name and the index
    of its free coefficient (-1 for a covariate that is zero for every customer: its coefficient is fixed
    at 0); ``z[process]`` is the (n, m) matrix with each covariate in its coefficient's column (so
    ``z[process] @ gamma`` is the process's linear predictor).
    """

    labels: tuple[str, ...]
    columns: Mapping[str, tuple[tuple[str, int], ...]]
    z: Mapping[str, FloatArray]
    equal: tuple[str, ...] = ()

    @property
    def n_free(self) -> int:
        return len(self.labels)


def covariate_names(cov: Any, process: str, where: str) -> tuple[str, ...]:
    """The covariates' column names (checked: covariates with ``names`` and ``align()``, no name twice)."""
    if not (hasattr(cov, "names") and callable(getattr(cov, "align", None))):
        raise InvalidInputError(
            f"The '{process}_covariates' parameter of {where} must be covariates with 'names' and 'align()' "
            f"(build them with clvkit.Covariates.static(...)). Got {type(cov).__name__} instead."
        )
    names = tuple(str(n) for n in cov.names)
    if len(set(names)) != len(names):
        raise InvalidInputError(f"{where}: the {process} covariates name a column twice: {list(names)}.")
    return names


def _aligned(cov: Any, ids: npt.NDArray[Any], names: tuple[str, ...], process: str, where: str) -> FloatArray:
    z = np.asarray(cov.align(ids), dtype=np.float64)
    if z.ndim != 2 or z.shape != (ids.shape[0], len(names)):
        raise InvalidInputError(
            f"{where}: the {process} covariates must give one row per customer and one column per name "
            f"(shape ({ids.shape[0]}, {len(names)})). Got shape {z.shape} instead."
        )
    bad = ~np.isfinite(z)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise InvalidInputError(
            f"{where}: the {process} covariate '{names[col]}' is not finite for customer {ids[row]!r}; "
            f"fill or drop the missing values."
        )
    for i in range(len(names)):
        for j in range(i):
            if z[:, i].any() and np.array_equal(z[:, i], z[:, j]):
                raise InvalidInputError(
                    f"{where}: the {process} covariates '{names[j]}' and '{names[i]}' are identical, so their "
                    f"coefficients cannot be told apart (not identifiable). Drop one of them."
                )
    return z


def build_design(ids: npt.NDArray[Any] | None, covariates: Mapping[str, Any], equal: Sequence[str], links: Links,
                 where: str) -> CoefficientLayout | None:
    """The :class:`CoefficientLayout` of ``covariates`` (process -> covariates or ``None``) for the customers
    ``ids`` (the summary's ``customer_id``), or ``None`` without any covariates.

    Raises
    ------
    InvalidInputError
        When the model takes no covariates for a process, the summary has no customer ids, the covariates
        do not align (wrong shape, NaN), name a column twice or hold two identical columns, or ``equal``
        names a covariate that is not in both processes.
    """
    if isinstance(equal, str):
        equal = (equal,)
    given = {p: c for p, c in covariates.items() if c is not None}
    if not given:
        if equal:
            raise InvalidInputError(f"The 'equal' parameter of {where} names {list(equal)} but no covariates "
                                    f"were given. Pass purchase_covariates and dropout_covariates.")
        return None
    for process in given:
        if process not in links:
            raise InvalidInputError(f"{where}: this model takes no {process} covariates.")
    if ids is None:
        raise InvalidInputError(
            f"{where}: covariates are matched to customers by id, but the summary has no customer_id. "
            f"Summarize with clvkit.summarize() or pass customer_id to CustomerSummary(...)."
        )
    names = {p: covariate_names(c, p, where) for p, c in given.items()}
    labels, columns, equal_set = coefficient_columns(names, equal, links, where)
    n = ids.shape[0]
    z: dict[str, FloatArray] = {}
    for process, cov in given.items():
        raw = _aligned(cov, ids, names[process], process, where)
        full = np.zeros((n, len(labels)))
        for (_, index), column in zip(columns[process], raw.T, strict=True):
            full[:, index] = column
        z[process] = full
    # A covariate that is zero for every customer carries no information and its coefficient is not identified:
    # it stays out of the optimisation (index -1, reported as 0), so the fit is exactly the fit without it.
    keep = [j for j in range(len(labels)) if any(bool(m[:, j].any()) for m in z.values())]
    new_index = {old: new for new, old in enumerate(keep)}
    columns = {p: tuple((name, new_index.get(index, -1)) for name, index in cols) for p, cols in columns.items()}
    z = {p: m[:, keep] for p, m in z.items()}
    kept = tuple(labels[j] for j in keep)
    _check_rank(z, kept, where)
    return CoefficientLayout(kept, columns, z, equal_set)


def coefficient_columns(names: Mapping[str, tuple[str, ...]], equal: Sequence[str], links: Links, where: str
                        ) -> tuple[list[str], dict[str, tuple[tuple[str, int], ...]], tuple[str, ...]]:
    """The free coefficients' labels, each process's ``(name, coefficient index)`` columns and the ``equal``
    names, from each process's covariate names (a covariate in ``equal`` gets one coefficient for both)."""
    if isinstance(equal, str):
        equal = (equal,)
    equal_set = tuple(dict.fromkeys(str(e) for e in equal))
    for e in equal_set:
        if not all(e in names.get(p, ()) for p in PROCESSES):
            raise InvalidInputError(
                f"The 'equal' parameter of {where} names '{e}', which must be among both the purchase and the "
                f"dropout covariates. Got purchase {list(names.get('purchase', ()))}, dropout "
                f"{list(names.get('dropout', ()))}."
            )
    labels: list[str] = []
    shared: dict[str, int] = {}
    columns: dict[str, tuple[tuple[str, int], ...]] = {}
    for process in links:  # the model's processes, in its declared order
        cols: list[tuple[str, int]] = []
        for name in names.get(process, ()):
            if name in equal_set:
                if name not in shared:
                    shared[name] = len(labels)
                    labels.append(name)
                cols.append((name, shared[name]))
            else:
                cols.append((name, len(labels)))
                labels.append(f"{process}.{name}")
        columns[process] = tuple(cols)
    return labels, columns, equal_set


def _check_rank(z: Mapping[str, FloatArray], labels: Sequence[str], where: str) -> None:
    """Refuse coefficients that the covariates cannot identify, naming the first such column.

    The log-likelihood depends on the coefficients through each process's linear predictor ``z_p' gamma`` next
    to the process's own scale parameter, so the coefficients are identified exactly when the stacked matrix of
    ``[e_p, z_p]`` over the processes (``e_p`` the indicator of process ``p``, standing for its scale parameter)
    has full column rank - equivalently, when the columns of the ``z_p``, each centred within its process, do. A
    covariate that is constant (non-zero) for every customer fitted moves the scale parameter as the parameter
    itself does; a multiple or a linear combination of others (with a constant) moves the linear predictor as they
    do. Either way the likelihood is flat along a line, the optimum is not unique and the Hessian singular: a typed
    error up front instead of a warning after the fit. Checking the processes jointly accepts a coefficient
    constrained ``equal`` that only the other process identifies.
    """
    m = len(labels)
    if m == 0 or not z:
        return
    stacked = np.vstack([zp - zp.mean(axis=0) for zp in z.values()])
    scale = np.abs(stacked).max(axis=0)

    def described(j: int) -> tuple[str, str]:
        process, _, name = labels[j].rpartition(".")
        return (f"{process} covariate {name!r}", process) if process else (
            f"covariate {labels[j]!r} (constrained equal across the processes)", "")

    for j in range(m):
        if not scale[j] > 0.0:
            what, _ = described(j)
            raise InvalidInputError(
                f"{where}: the {what} is constant (non-zero) for every customer fitted, so its effect cannot be told "
                f"apart from the model's own scale parameter (not identifiable). Drop the column, or fit customers "
                f"for whom it varies."
            )
    cols = stacked / scale  # scaled: the rank does not depend on the columns' units
    tol = 10.0 * max(cols.shape) * np.finfo(np.float64).eps  # numpy's matrix_rank tolerance, times 10
    for j in range(1, m):
        singular = np.linalg.svd(cols[:, :j + 1], compute_uv=False)
        if singular[-1] <= tol * singular[0]:
            what, process = described(j)
            # The earlier columns that share a process with this one (the others cannot be involved).
            shares = [i for i in range(j) if any(zp[:, i].any() and zp[:, j].any() for zp in z.values())]
            names = [labels[i].rpartition(".")[2] if process and labels[i].startswith(process + ".") else labels[i]
                     for i in shares]
            others = ", ".join(repr(name) for name in names)
            raise InvalidInputError(
                f"{where}: the {what} is a linear combination of {others} and a constant over the customers fitted "
                f"(e.g. a multiple of one of them, or every indicator of one categorical variable), so its effect "
                f"cannot be told apart from theirs (not identifiable). Drop it or one of {others}."
            )


def coefficient_lambdas(regularization: Any, layout: CoefficientLayout | None, links: Links, where: str,
                        keywords: Mapping[str, str] | None = None) -> tuple[dict[str, float] | None, FloatArray | None]:
    """The checked ``regularization`` (process -> L2 lambda) and the lambda of every free coefficient.

    A coefficient is penalised with the lambda of each process it enters: a covariate of one process with that
    process's lambda, one constrained ``equal`` across processes with the sum of both lambdas (CLVTools
    penalises the constrained coefficient once per process after duplicating it into both). ``None`` or an
    empty mapping: no regularisation, ``(None, None)``. ``keywords`` names a process's covariate keyword in
    messages where it is not ``<process>_covariates`` (sBG: ``covariates``).

    Raises
    ------
    InvalidInputError
        For a value that is not a mapping, a key that is not one of the model's processes or is a process
        without covariates in this fit, or a lambda that is not a finite number >= 0; the message names the key.
    """
    if regularization is None:
        return None, None
    if not isinstance(regularization, Mapping):
        raise InvalidInputError(
            f"The 'regularization' parameter of {where} must be a dict from process to L2 lambda, e.g. "
            f"{{'purchase': 0.5, 'dropout': 0.5}}. Got {type(regularization).__name__} instead."
        )
    if not regularization:
        return None, None
    processes = list(links)
    # The processes with covariates in this fit (a time-varying fit's layout keeps no z, only the columns).
    given = set() if layout is None else {p for p, cols in layout.columns.items() if cols}
    checked: dict[str, float] = {}
    for key, value in regularization.items():
        if key not in links:
            known = f"this model's processes are {processes}" if processes else "this model takes no covariates"
            raise InvalidInputError(
                f"The 'regularization' parameter of {where} names {key!r}, which is not a covariate process of the "
                f"model ({known})."
            )
        if key not in given:
            keyword = (keywords or {}).get(key, f"{key}_covariates")
            raise InvalidInputError(
                f"The 'regularization' parameter of {where} names {key!r}, but no {keyword} were given: "
                f"there is nothing to regularise in that process. Pass {keyword} or drop the key."
            )
        bad = isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
        lam = math.nan if bad else float(value)
        if not (math.isfinite(lam) and lam >= 0.0):
            raise InvalidInputError(
                f"The 'regularization' parameter of {where} must give a finite lambda >= 0 for {key!r}. "
                f"Got {value!r} instead."
            )
        checked[str(key)] = lam
    assert layout is not None  # every key named a process with covariates
    lambdas = np.zeros(layout.n_free)
    for process, lam in checked.items():
        for _, index in layout.columns[process]:
            if index >= 0:
                lambdas[index] += lam
    return checked, lambdas


def scale_params(params: FloatArray, gamma: FloatArray, z: Mapping[str, FloatArray], links: Links) -> FloatArray:
    """Individual parameters ``theta_i = theta exp(sum sign * z_i' gamma)``: shape ``z``'s rows x len(params).

    ``z`` maps each process to an (n, m) matrix in the design's coefficient columns.
    """
    n = next(iter(z.values())).shape[0] if z else 1
    log_scale = np.zeros((n, params.shape[0]))
    for process, zp in z.items():
        eta = zp @ gamma
        for position, sign in links[process]:
            log_scale[:, position] += sign * eta
    out: FloatArray = params[None, :] * np.exp(log_scale)
    return out


Kernel = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]], tuple[FloatArray, FloatArray]]


def grouped_loglik(kernel: Kernel, groups: Sequence[tuple[Mapping[str, npt.NDArray[Any]], Mapping[str, FloatArray]]],
                   n_params: int, links: Links) -> Kernel:
    """A kernel over ``(params, gamma)`` from the model's kernel over ``params``, on covariate groups.

    ``groups`` holds, per distinct covariate row, the model's compressed data and that row's ``z`` per process
    (each of shape (m,)). The returned kernel ignores its data argument and returns the groups' rows
    concatenated (weights in the same order).
    """

    def loglik(theta: FloatArray, _data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        params, gamma = theta[:n_params], theta[n_params:]
        lls: list[FloatArray] = []
        grads: list[FloatArray] = []
        for data, z in groups:
            zrow = {p: v[None, :] for p, v in z.items()}
            individual = scale_params(params, gamma, zrow, links)[0]
            ll, g = kernel(individual, data)
            full = np.empty((ll.shape[0], theta.shape[0]))
            full[:, :n_params] = g * (individual / params)[None, :]
            full[:, n_params:] = 0.0
            for process, zp in z.items():
                d_eta = sum((sign * g[:, pos] * individual[pos] for pos, sign in links[process]),
                            np.zeros(ll.shape[0]))
                full[:, n_params:] += d_eta[:, None] * zp[None, :]
            lls.append(ll)
            grads.append(full)
        return np.concatenate(lls), np.concatenate(grads)

    return loglik


def group_codes(design: CoefficientLayout) -> tuple[npt.NDArray[np.intp], dict[str, FloatArray]]:
    """Every customer's group (index of its distinct covariate row), shape (n,), and each group's ``z`` per
    process, shape (n_groups, m); groups in lexicographic order of their rows."""
    processes = list(design.z)
    m = design.n_free
    n = next(iter(design.z.values())).shape[0]
    if m == 0:  # every covariate is zero for everyone: one group
        return np.zeros(n, dtype=np.intp), {p: np.zeros((1, 0)) for p in processes}
    columns = [np.ascontiguousarray(design.z[p][:, j]) for p in processes for j in range(m)]
    uniq, _, inverse = unique_rows(columns, np.ones(n))  # one integer sort, not numpy's row-wise unique
    return inverse, {p: np.column_stack([uniq[i * m + j] for j in range(m)]) for i, p in enumerate(processes)}


def group_customers(design: CoefficientLayout) -> tuple[list[npt.NDArray[np.intp]], list[dict[str, FloatArray]]]:
    """Customers' positions per distinct covariate row, and that row's ``z`` per process."""
    inverse, zg = group_codes(design)
    n_groups = next(iter(zg.values())).shape[0]
    members = positions_by_group(inverse, n_groups)
    return members, [{p: z[g].copy() for p, z in zg.items()} for g in range(n_groups)]


RowKernel = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""``group_params (n_groups, k) -> (ll (n_rows,), d ll / d params (n_rows, k))``: the model's kernel on the rows of
every group, each row at its group's parameters (unweighted)."""


class CovariateLikelihood:
    """The log-likelihood of ``(params, gamma)`` on customers in covariate groups, for the one fit routine.

    Group ``u`` has covariate rows ``z[process][u]`` and individual parameters ``theta_u = theta exp(A_u gamma)``
    (:func:`scale_params`); ``kernel`` evaluates the model on every data row at its group's parameters;
    ``row_group`` names each row's group and ``row_weights`` its weight (customers; 1 for the per-group totals of
    a summed engine). Called as a kernel ``(params, data) -> (total ll (1,), total gradient (1, k + m))``
    (``summed``: weighted totals, the data argument unused); :meth:`hessian` gives the Hessian of the total
    log-likelihood in the optimiser's coordinates ``(log params, gamma)``.

    Gradient and Hessian follow from the linear link ``log theta_u = log theta + A_u gamma`` by the chain rule:
    with ``J_u = [I, A_u]`` and ``H_u`` the Hessian of the group's total in ``log theta_u``,
    ``H = sum_u J_u' H_u J_u``. ``H_u`` comes from forward differences of the kernel's analytic gradient, one
    evaluation per model parameter (all groups shifted at once), so its cost does not grow with the number of
    coefficients.
    """

    def __init__(self, kernel: RowKernel, row_group: npt.NDArray[np.intp], row_weights: FloatArray,
                 z: Mapping[str, FloatArray], links: Links, n_params: int) -> None:
        self.kernel, self.row_group, self.row_weights = kernel, row_group, row_weights
        self.z, self.links, self.n_params = z, links, n_params
        self._last: dict[bytes, tuple[FloatArray, FloatArray]] = {}
        n_groups, m = next(iter(z.values())).shape
        #: d log theta_u / d gamma, shape (n_groups, k, m)
        self._link = np.zeros((n_groups, n_params, m))
        for process, zp in z.items():
            for position, sign in links[process]:
                self._link[:, position, :] += sign * zp
        # Rows ordered by group (as the engines' keyed data are) are summed per group by one reduceat.
        self._starts: npt.NDArray[np.intp] | None = None
        if np.all(row_group[1:] >= row_group[:-1]):
            starts = np.searchsorted(row_group, np.arange(n_groups))
            if np.all(np.diff(np.append(starts, row_group.shape[0])) > 0):  # reduceat cannot express empty groups
                self._starts = starts

    def group_params(self, params: FloatArray) -> FloatArray:
        """Every group's individual parameters, shape (n_groups, k), from ``params`` = model params + gamma."""
        return scale_params(params[:self.n_params], params[self.n_params:], self.z, self.links)

    def _evaluate(self, individual: FloatArray) -> tuple[FloatArray, FloatArray]:
        # The routine asks for the Hessian where it has just evaluated the gradient: remember one point.
        key = individual.tobytes()
        if key not in self._last:
            self._last.clear()
            self._last[key] = self.kernel(individual)
        return self._last[key]

    def _by_group(self, values: FloatArray, n_groups: int) -> FloatArray:
        """Weighted sums of the rows' ``values`` (n_rows, j) per group: shape (n_groups, j)."""
        weighted = values * self.row_weights[:, None]
        if self._starts is not None:
            out: FloatArray = np.add.reduceat(weighted, self._starts, axis=0)
            return out
        return np.stack([np.bincount(self.row_group, weights=weighted[:, j], minlength=n_groups)
                         for j in range(values.shape[1])], axis=1)

    def __call__(self, params: FloatArray, _data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        k = self.n_params
        individual = self.group_params(params)
        ll, g = self._evaluate(individual)
        # d ll / d log theta_u per group (theta_u is constant within a group), then the chain rule through
        # log theta_u = log theta + A_u gamma.
        g_log = self._by_group(g, individual.shape[0]) * individual
        grad = np.empty(params.shape[0])
        grad[:k] = g_log.sum(axis=0) / params[:k]  # the routine wants d ll / d params on the natural scale
        grad[k:] = np.einsum("uk,ukm->m", g_log, self._link)
        return np.array([float(self.row_weights @ ll)]), grad[None, :]

    def hessian(self, params: FloatArray) -> tuple[FloatArray, int]:
        """Hessian of the total log-likelihood w.r.t. ``(log params, gamma)`` at ``params`` (natural scale, then
        gamma), and the number of kernel evaluations spent (``k``, one more unless the point was just evaluated)."""
        k = self.n_params
        individual = self.group_params(params)
        n_groups = individual.shape[0]
        evaluations = k + int(individual.tobytes() not in self._last)
        base = self._by_group(self._evaluate(individual)[1], n_groups) * individual
        h_groups = np.empty((n_groups, k, k))
        for j in range(k):
            # The optimiser's step on the log scale (see _estimation._hessian), applied to every group at once.
            step = 1e-6 * max(1.0, abs(math.log(float(params[j]))))
            shifted = individual.copy()
            shifted[:, j] *= math.exp(step)
            g_up = self._by_group(self.kernel(shifted)[1], n_groups) * shifted
            h_groups[:, :, j] = (g_up - base) / step
        a: FloatArray = self._link
        m = a.shape[2]
        hess = np.empty((k + m, k + m))
        hess[:k, :k] = h_groups.sum(axis=0)
        hess[:k, k:] = np.einsum("ujk,ukm->jm", h_groups, a)
        hess[k:, :k] = np.einsum("ukj,ukl->jl", a, h_groups)
        hess[k:, k:] = np.einsum("ukj,ukl,ulm->jm", a, h_groups, a)
        sym: FloatArray = 0.5 * (hess + hess.T)
        return sym, evaluations


def per_group_kernel(kernel: Kernel, groups: Sequence[Mapping[str, npt.NDArray[Any]]]) -> RowKernel:
    """A :data:`RowKernel` calling the model's ``kernel`` once per group (on that group's compressed data) and
    concatenating the rows, for engines whose kernel takes one set of parameters."""

    def rows(group_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        out = [kernel(group_params[u], data) for u, data in enumerate(groups)]
        return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])

    return rows


def positions_by_group(inverse: npt.NDArray[np.intp], n_groups: int) -> list[npt.NDArray[np.intp]]:
    """The positions of each group's members (ascending), from every row's group index."""
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(n_groups + 1))
    return [order[bounds[g]:bounds[g + 1]].astype(np.intp) for g in range(n_groups)]
