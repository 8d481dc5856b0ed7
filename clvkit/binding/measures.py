"""Per-customer binding measures and the 0-100 binding score: :func:`measure_binding`.

Definitions (clvkit's own; the texts name the binding methods but give no formula). All are taken at
``data.as_of``; *active* relationships, *recent* touchpoints and *present* employees are defined in
:class:`~clvkit.binding.BindingConfig` and :class:`~clvkit.binding.BindingData`.

- **Hierarchical coverage**: ``covered[:, L]`` when an active relationship reaches a contact at org level
  ``L`` (``USER, MANAGER, DECISION_MAKER, EXECUTIVE``); ``matched[:, L]`` when one of them is held by an
  employee at or above the level :class:`~clvkit.binding.LevelMatch` requires for ``L``.
- **Breadth**: ``n_employees``, the present employees with an active relationship or a recent touchpoint.
- **Concentration**: top share and Herfindahl index (``sum of squared shares``, in ``[1/n, 1]``) of the
  holding shares, of relationship strength and of recent touchpoints; ``single_threaded`` when the top
  employee holds at least ``single_thread_share``.
- **Presence**: days since the last touchpoint (``inf`` if never), touchpoints in the last
  ``frequency_days``, and ``gap_cv``, the coefficient of variation (population standard deviation / mean)
  of the gaps in days between consecutive distinct contact days in the window - ``NaN`` (undefined) when
  there are fewer than two gaps.
- **Industry and project ties**: active ties, running projects and the number of present employees on
  their teams.

Sub-scores (0-100): hierarchy, breadth, spread, presence, industry and project, as documented on
:class:`~clvkit.binding.BindingConfig`; ``score`` is their weighted mean. Every sub-score is
non-decreasing in the set of active relationships (spread uses the strength left when the strongest
employee is removed, not a strength Herfindahl index, which would fall when the top employee adds a
tie), so adding a relationship never lowers the score.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import block, describe, key_value_table
from .._frames import make_frame
from ..domain import OrgLevel, TouchpointFunction
from ..errors import InvalidInputError
from ..i18n import N_, Translator, translator
from ._kernels import Params, measure
from .config import BindingConfig
from .data import BindingData
from .ladders import with_strength

__all__ = ["LEVELS", "SUB_SCORES", "BindingMeasures", "measure_binding"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The customer org levels, in the column order of ``covered`` and ``matched``.
LEVELS: tuple[OrgLevel, ...] = tuple(OrgLevel)
#: The sub-scores, in the order of :class:`~clvkit.binding.ScoreWeights`.
SUB_SCORES = ("hierarchy", "breadth", "spread", "presence", "industry", "project")

#: The measures in the notebook display (the column names of ``to_columns``), translated where shown.
_MEASURE_LABELS = {
    "score": N_("score"), "hierarchy_score": N_("hierarchy_score"), "breadth_score": N_("breadth_score"),
    "spread_score": N_("spread_score"), "presence_score": N_("presence_score"), "industry_score": N_("industry_score"),
    "project_score": N_("project_score"), "n_employees": N_("n_employees"), "levels_covered": N_("levels_covered"),
}


@dataclass(frozen=True, eq=False, repr=False)
class BindingMeasures:
    """Binding measures of every customer of a :class:`BindingData`, in ``customer_id`` order.

    Arrays have shape (n_customers,) unless stated and are read-only; see the module docstring for the
    definitions. Build with :func:`measure_binding`.

    Attributes
    ----------
    score:
        Binding score in [0, 100].
    hierarchy_score, breadth_score, spread_score, presence_score, industry_score, project_score:
        The sub-scores in [0, 100].
    covered, matched:
        Boolean arrays of shape (n_customers, 4), columns in :data:`LEVELS` order.
    top_employee, top_employee_code:
        Id of the employee with the largest holding (``None`` for a customer nobody holds; ties go to the
        smallest id), and its position in ``data.employee_ids`` (-1).
    function_counts:
        Recent touchpoints per :class:`~clvkit.domain.TouchpointFunction`, shape (n_customers, 5).
    pair_customer, pair_employee, pair_holding:
        The holdings: customer and employee codes and the holding share of each (customer, employee)
        pair; a held customer's shares sum to 1 (see :meth:`holdings`).
    """

    data: BindingData
    config: BindingConfig
    customer_id: npt.NDArray[Any]
    score: FloatArray
    hierarchy_score: FloatArray
    breadth_score: FloatArray
    spread_score: FloatArray
    presence_score: FloatArray
    industry_score: FloatArray
    project_score: FloatArray
    covered: BoolArray
    matched: BoolArray
    successor_covered: BoolArray
    has_successor: BoolArray
    n_employees: IntArray
    top_employee: npt.NDArray[Any]
    top_employee_code: IntArray
    top_share: FloatArray
    hhi: FloatArray
    top_share_strength: FloatArray
    hhi_strength: FloatArray
    top_share_touchpoints: FloatArray
    hhi_touchpoints: FloatArray
    single_threaded: BoolArray
    total_strength: FloatArray
    backup_strength: FloatArray
    days_since_last: FloatArray
    touchpoints_recent: IntArray
    touchpoints_window: IntArray
    gap_cv: FloatArray
    function_counts: IntArray
    industry_ties: IntArray
    industry_tie_weight: FloatArray
    projects: IntArray
    active_projects: IntArray
    team_size: IntArray
    pair_customer: IntArray
    pair_employee: IntArray
    pair_holding: FloatArray

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __len__(self) -> int:
        return int(self.score.shape[0])

    def __repr__(self) -> str:
        n = len(self)
        mean = f"{float(self.score.mean()):.1f}" if n else "n/a"  # no customers: no mean (not NaN)
        return (f"BindingMeasures(as_of={self.data.as_of.date().isoformat()}, customers={n}, "
                f"mean_score={mean}, single_threaded={int(self.single_threaded.sum())})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (the HTML report shows it in the report's language)."""
        n = len(self)
        facts = key_value_table([(tr("as of"), self.data.as_of.isoformat()), (tr("customers"), n),
                                 (tr("single-threaded customers"), int(self.single_threaded.sum())),
                                 (tr("customers nobody holds"), int((self.top_employee_code < 0).sum()))])
        columns = [("score", self.score), *((f"{k}_score", getattr(self, f"{k}_score")) for k in SUB_SCORES),
                   ("n_employees", self.n_employees), ("levels_covered", self.levels_covered)]
        scores = describe([(tr(_MEASURE_LABELS[name]), values) for name, values in columns],
                          header=(tr("column"), tr("mean"), tr("min"), tr("max")))
        return block(tr("BindingMeasures"), facts, scores)

    def to_frame(self, backend: str = "pandas") -> Any:
        """The per-customer measures (:meth:`to_columns`) as a DataFrame keyed by customer id.

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``customer_id``; ``"polars"``: a first ``customer_id`` column.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Examples
        --------
        >>> from clvkit.binding import load_b2b_sample
        >>> frame = measure_binding(load_b2b_sample().data).to_frame()
        >>> frame.index.name, frame.shape[0], "score" in frame.columns
        ('customer_id', 60, True)
        """
        cols = self.to_columns()
        key = cols.pop("customer_id")
        return make_frame(cols, key=key, backend=backend, where="BindingMeasures.to_frame()")

    @property
    def levels_covered(self) -> IntArray:
        """Number of org levels with an active relationship, shape (n_customers,)."""
        out: IntArray = self.covered.sum(axis=1).astype(np.int64)
        return out

    def sub_scores(self) -> FloatArray:
        """The six sub-scores as an array of shape (n_customers, 6), columns in :data:`SUB_SCORES` order."""
        return np.stack([getattr(self, f"{k}_score") for k in SUB_SCORES], axis=1)

    def holdings(self) -> Any:
        """Holding shares as a ``scipy.sparse.csr_array`` of shape (n_customers, n_employees)."""
        from scipy import sparse

        shape = (len(self), int(self.data.employee_ids.shape[0]))
        return sparse.csr_array((self.pair_holding, (self.pair_customer, self.pair_employee)), shape=shape)

    def to_columns(self) -> dict[str, npt.NDArray[Any]]:
        """One flat array per measure (coverage and functions split into one column per level/function)."""
        out: dict[str, npt.NDArray[Any]] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, np.ndarray) or f.name.startswith("pair_") or f.name.endswith("_code"):
                continue
            if f.name in ("covered", "matched"):
                out.update({f"{f.name}_{lv.name.lower()}": value[:, j] for j, lv in enumerate(LEVELS)})
            elif f.name == "function_counts":
                out.update({f"touchpoints_{(fn.name or '').lower()}": value[:, j]
                            for j, fn in enumerate(TouchpointFunction)})
            else:
                out[f.name] = value
            if f.name == "covered":
                out["levels_covered"] = self.levels_covered
        return out

    def to_pandas(self) -> Any:
        """The measures as a pandas DataFrame indexed by ``customer_id`` (needs the ``frames`` extra)."""
        from .._frames import require

        pd = require("pandas")
        cols = self.to_columns()
        index = pd.Index(cols.pop("customer_id"), name="customer_id")
        return pd.DataFrame(cols, index=index)


def measure_binding(data: BindingData, config: BindingConfig | None = None) -> BindingMeasures:
    """Binding measures and scores of every customer, as of ``data.as_of``.

    Parameters
    ----------
    data:
        The validated batch.
    config:
        Windows, targets, the level-matching rule and the score weights; ``BindingConfig()`` by default.

    Returns
    -------
    BindingMeasures
        One entry per customer, in ``data.customer_ids`` order.

    Examples
    --------
    A customer held by one account manager through its decision maker, contacted monthly:

    >>> import numpy as np
    >>> from clvkit.binding import BindingData, measure_binding
    >>> emp = {"employee_id": ["E1"], "level": ["account_manager"]}
    >>> con = {"contact_id": ["P1"], "customer_id": ["C1"], "org_level": ["decision_maker"]}
    >>> rel = {"employee_id": ["E1"], "contact_id": ["P1"], "strength": [0.9], "start": ["2023-01-01"]}
    >>> days = np.datetime64("2024-06-30") - np.arange(0, 360, 30)
    >>> tp = {"customer_id": ["C1"] * 12, "timestamp": days, "employee_id": ["E1"] * 12}
    >>> m = measure_binding(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=tp,
    ...                                 as_of="2024-06-30"))
    >>> m.covered[0].tolist(), m.matched[0].tolist(), int(m.n_employees[0]), bool(m.single_threaded[0])
    ([False, False, True, False], [False, False, True, False], 1, True)
    >>> float(m.top_share[0]), float(m.hhi[0]), float(m.gap_cv[0]), float(m.days_since_last[0])
    (1.0, 1.0, 0.0, 0.0)
    >>> m.sub_scores()[0].round(2).tolist()  # hierarchy, breadth, spread, presence, industry, project
    [22.22, 33.33, 0.0, 83.33, 0.0, 0.0]
    >>> round(float(m.score[0]), 2)  # 0.30 * 22.22 + 0.15 * 33.33 + 0.20 * 83.33
    28.33
    """
    if not isinstance(data, BindingData):
        hint = ""
        if isinstance(getattr(data, "data", None), BindingData):
            hint = " (pass dataset.data: read_binding_dir() and load_b2b_sample() return a BindingDataset)"
        raise InvalidInputError(f"The 'data' parameter of measure_binding() must be a BindingData. "
                                f"Got {type(data).__name__} instead{hint}.")
    if config is not None and not isinstance(config, BindingConfig):
        raise InvalidInputError(f"The 'config' parameter of measure_binding() must be a BindingConfig or None. "
                                f"Got {type(config).__name__} instead.")
    cfg = config if config is not None else BindingConfig()
    c = with_strength(data._c, cfg.ladders)
    out = measure(c, Params(cfg))
    names = np.concatenate([c.employee_ids.astype(object), np.array([None], dtype=object)])
    top_code = out.pop("top_employee")
    subs = {f"{k}_score": 100.0 * out.pop(k) for k in SUB_SCORES}
    return BindingMeasures(
        data=data, config=cfg, customer_id=c.customer_ids, top_employee=names[top_code],
        top_employee_code=top_code,
        pair_customer=c.pair_customer, pair_employee=c.pair_employee, pair_holding=out.pop("pair_holding"),
        **subs, **out,
    )
