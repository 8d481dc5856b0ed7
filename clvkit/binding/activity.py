"""The battle map (作战地图): where each employee's time went, week by week, from the touchpoints.

The CLV management-system book (text 000) builds a sales "battle map" and a "three checks system" (三查系统) for
the quality of the sales process, and argues for weekly assessment: each employee must complete a set number of
**key actions** every week (周考核), because "where the time goes, the results go". Its table of contents names
these tools without defining them, so the rules below are **clvkit's own defaults**, each configurable in
:class:`ActivityConfig`:

- weeks are the ``weeks`` spans of seven days ending at ``as_of`` (the last one ends at ``as_of``);
- contacts are counted by the five basic functions of customer contact of text 004 (客户关怀 care, 信息传递
  information, 交易推动 moving a deal forward, 服务提供 service, 情报收集 intelligence); a touchpoint that served
  several functions counts once for each;
- customers touched are distinct customers per employee and week, also by tier;
- a key customer is *overdue* when nobody has contacted it within ``contact_interval_days`` (default 30);
- each :class:`KeyAction` is a weekly target (a count of matching touchpoints) checked for every employee and
  week: done, target, met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from .._pydantic import FrozenModel
from ..domain import Channel, TouchpointFunction
from ..errors import InvalidInputError
from ..i18n import Translator, translator
from .data import BindingData

__all__ = ["FUNCTIONS", "MAX_WEEKS", "ActivityConfig", "ActivityReport", "KeyAction", "activity_report", "cli_activity",
           "format_activity"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DAY = 86400.0
_WEEK = 7 * _DAY
#: The five contact functions (text 004), in the order of every per-function column.
FUNCTIONS: tuple[TouchpointFunction, ...] = tuple(TouchpointFunction)
#: Most weeks one report covers (ten years).
MAX_WEEKS = 520


class KeyAction(FrozenModel):
    """One weekly key action: touchpoints matching ``function`` and ``channel`` (and key customers if asked).

    Attributes
    ----------
    name:
        How the report names it.
    function:
        A :class:`~clvkit.domain.TouchpointFunction` name the touchpoint must have served (``None``: any).
    channel:
        A :class:`~clvkit.domain.Channel` the touchpoint must have used (``None``: any).
    key_customers_only:
        Count only touchpoints with key customers.
    per_week:
        The target: matching touchpoints per employee and week.

    Examples
    --------
    >>> KeyAction(name="visits", channel="visit", per_week=2).channel
    <Channel.VISIT: 'visit'>
    """

    name: str = Field(min_length=1, max_length=80)
    function: str | None = None
    channel: Channel | None = None
    key_customers_only: bool = False
    per_week: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _known_function(self) -> KeyAction:
        if self.function is not None and self.function.upper() not in TouchpointFunction.__members__:
            raise ValueError(f"'function' must be one of {list(TouchpointFunction.__members__)} or None; "
                             f"got {self.function!r}.")
        if not self.name.strip():
            raise ValueError("'name' must not be blank.")
        return self

    def bits(self) -> int:
        """The bit of ``function`` (0 for any)."""
        return 0 if self.function is None else int(TouchpointFunction[self.function.upper()].value)


def _default_actions() -> tuple[KeyAction, ...]:
    return (KeyAction(name="customer visits", channel=Channel.VISIT, per_week=2),
            KeyAction(name="contacts moving a deal forward", function="DEAL", per_week=3),
            KeyAction(name="care for key customers", function="CARE", key_customers_only=True, per_week=1))


class ActivityConfig(FrozenModel):
    """Settings of :func:`activity_report`; every number is clvkit's default (the texts give none).

    Attributes
    ----------
    key_actions:
        The weekly key actions checked (default: 2 customer visits, 3 contacts moving a deal forward, 1 care
        contact with a key customer per employee and week).
    contact_interval_days:
        A key customer nobody contacted within this many days is overdue.

    Examples
    --------
    >>> cfg = ActivityConfig()
    >>> [a.per_week for a in cfg.key_actions], cfg.contact_interval_days
    ([2, 3, 1], 30.0)
    >>> ActivityConfig.model_validate_json('{"contact_interval_days": 14, "key_actions": []}').key_actions
    ()
    """

    key_actions: tuple[KeyAction, ...] = Field(default_factory=_default_actions, max_length=20)
    contact_interval_days: float = Field(default=30.0, gt=0.0, le=36500.0, allow_inf_nan=False)


@dataclass(frozen=True, eq=False)
class ActivityReport:
    """Per employee and week: contacts by function, customers touched (by tier), key actions; overdue key customers.

    Arrays are indexed ``[employee, week]`` (and a last axis where stated); weeks run oldest first.

    Attributes
    ----------
    as_of:
        The end of the last week (POSIX seconds, UTC).
    week_end:
        The end of each week (POSIX seconds), shape (n_weeks,); week ``k`` is ``(week_end[k] - 7 days, week_end[k]]``.
    employee_id, team:
        The employees shown: present at ``as_of`` or with a touchpoint in the weeks.
    touchpoints:
        Touchpoints made.
    function_counts:
        Touchpoints per function, last axis in :data:`FUNCTIONS` order.
    customers:
        Distinct customers touched.
    tier_codes:
        The tier codes (sorted), shape (n_tiers,); empty without tiers.
    customers_by_tier:
        Distinct customers touched per tier, last axis in ``tier_codes`` order.
    key_customers_touched:
        Distinct key customers touched.
    actions:
        The key actions checked.
    action_done:
        Matching touchpoints per action, last axis in ``actions`` order.
    key_customers:
        The key-customer mask used, shape (n_customers,).
    overdue:
        Key customers not contacted within ``contact_interval_days``: ``customer_id``, ``days_since_last``
        (``inf`` when never), ``last_employee`` (who contacted them last; ``None`` when never); longest first.
    contact_interval_days:
        The interval used.
    """

    as_of: float
    week_end: FloatArray
    employee_id: npt.NDArray[Any]
    team: npt.NDArray[Any]
    touchpoints: IntArray
    function_counts: IntArray
    customers: IntArray
    tier_codes: IntArray
    customers_by_tier: IntArray
    key_customers_touched: IntArray
    actions: tuple[KeyAction, ...]
    action_done: IntArray
    key_customers: BoolArray
    overdue: dict[str, npt.NDArray[Any]]
    contact_interval_days: float

    @property
    def action_met(self) -> BoolArray:
        """Whether each action's weekly target was met, shape (n_employees, n_weeks, n_actions)."""
        target = np.array([a.per_week for a in self.actions], dtype=np.int64)
        met: BoolArray = self.action_done >= target
        return met

    @property
    def n_weeks(self) -> int:
        """Number of weeks."""
        return int(self.week_end.shape[0])


def _array(value: Any, name: str) -> npt.NDArray[Any]:
    try:
        return np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise InvalidInputError(f"The '{name}' parameter of activity_report() must be a flat array, one entry per "
                                f"customer. Got {value!r}.") from None


def _mask(data: BindingData, key_customers: Any, tiers: Any) -> tuple[BoolArray, IntArray | None]:
    n = data.n_customers
    codes = None
    if tiers is not None:
        arr = _array(tiers, "tiers")
        if arr.shape != (n,) or arr.dtype.kind not in "iu":
            raise InvalidInputError(f"The 'tiers' parameter of activity_report() must be an integer array of shape "
                                    f"({n},), aligned to data.customer_ids. Got dtype {arr.dtype} and shape "
                                    f"{arr.shape} instead.")
        codes = arr.astype(np.int64)
    if key_customers is not None:
        key = _array(key_customers, "key_customers")
        if key.shape != (n,) or key.dtype != bool:
            raise InvalidInputError(f"The 'key_customers' parameter of activity_report() must be a boolean array of "
                                    f"shape ({n},), aligned to data.customer_ids. Got dtype {key.dtype} and shape "
                                    f"{key.shape} instead.")
        return key.copy(), codes
    if codes is not None:
        return codes == (codes.min() if n else 0), codes
    return np.zeros(n, dtype=bool), None


def _distinct(*keys: IntArray, sizes: tuple[int, ...]) -> tuple[IntArray, ...]:
    """The distinct rows of integer columns (each column < its size), as columns."""
    if keys[0].size == 0:
        return tuple(np.zeros(0, dtype=np.int64) for _ in keys)
    flat = np.ravel_multi_index(keys, sizes)
    uniq = np.unique(flat)
    return tuple(np.asarray(a, dtype=np.int64) for a in np.unravel_index(uniq, sizes))


def activity_report(data: BindingData, *, weeks: int = 4, key_customers: Any = None, tiers: Any = None,
                    config: ActivityConfig | None = None) -> ActivityReport:
    """The battle map: per employee and week, what was done with which customers (see the module docstring).

    Parameters
    ----------
    data:
        The touchpoints, employees and customers (a :class:`BindingData`); the weeks end at ``data.as_of``.
    weeks:
        How many weeks of seven days, 1 to 520.
    key_customers:
        Boolean mask of key customers aligned to ``data.customer_ids``; default: the customers of the lowest
        tier code (tier 1 = the top) when ``tiers`` is given, else none.
    tiers:
        Integer tier codes aligned to ``data.customer_ids`` (e.g. the ``tier`` column of customers.csv).
    config:
        The key actions and the contact interval; ``ActivityConfig()`` by default.

    Raises
    ------
    InvalidInputError
        For a ``data`` that is not a BindingData, a bad ``weeks``, masks or tiers of the wrong shape or type.

    Examples
    --------
    Two weeks to Sunday 2024-06-30; E1 visited C1 (a key customer) twice in the last week, once to move the deal:

    >>> emp = {"employee_id": ["E1"], "level": [3]}
    >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "org_level": [3, 3]}
    >>> tp = {"customer_id": ["C1", "C1", "C2"], "employee_id": ["E1"] * 3,
    ...       "timestamp": ["2024-06-25", "2024-06-29", "2024-05-01"], "channel": ["visit", "visit", "phone"],
    ...       "functions": ["CARE", "CARE|DEAL", "INFORMATION"]}
    >>> data = BindingData(employees=emp, contacts=con, relationships=[], touchpoints=tp, as_of="2024-06-30")
    >>> r = activity_report(data, weeks=2, key_customers=np.array([True, False]))
    >>> r.touchpoints.tolist(), r.function_counts[0, 1].tolist()
    ([[0, 2]], [2, 0, 1, 0, 0])
    >>> r.action_done[0, 1].tolist(), r.action_met[0, 1].tolist()  # visits 2/2, deals 1/3, key-customer care 2/1
    ([2, 1, 2], [True, False, True])
    >>> r.overdue["customer_id"].tolist()
    []
    """
    if not isinstance(data, BindingData):
        raise InvalidInputError(f"The 'data' parameter of activity_report() must be a BindingData. "
                                f"Got {type(data).__name__} instead.")
    if isinstance(weeks, (bool, np.bool_)) or not isinstance(weeks, (int, np.integer)) or not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInputError(f"The 'weeks' parameter of activity_report() must be a whole number in "
                                f"[1, {MAX_WEEKS}]. Got {weeks!r} instead.")
    if config is not None and not isinstance(config, ActivityConfig):
        raise InvalidInputError(f"The 'config' parameter of activity_report() must be an ActivityConfig or None. "
                                f"Got {type(config).__name__} instead.")
    cfg = config if config is not None else ActivityConfig()
    n_w = int(weeks)
    key, codes = _mask(data, key_customers, tiers)
    c = data._c
    t = c.as_of
    n_c, n_e = c.n_customers, c.n_employees
    age = t - c.tp_time
    week_from_end = np.floor(age / _WEEK).astype(np.int64)
    inside = (age >= 0) & (week_from_end < n_w)
    active_emp = np.zeros(n_e, dtype=bool)
    active_emp[c.tp_employee[inside]] = True
    shown = np.flatnonzero(c.employee_present() | active_emp)
    row_of = np.full(n_e, -1, dtype=np.int64)
    row_of[shown] = np.arange(shown.shape[0])
    n_r = int(shown.shape[0])

    e = row_of[c.tp_employee[inside]]
    w = n_w - 1 - week_from_end[inside]
    cust = c.tp_customer[inside]
    fn = c.tp_functions[inside]
    ch = c.tp_channel[inside]
    cells = n_r * n_w
    cell = e * n_w + w

    def per_cell(weights: Any) -> IntArray:
        return np.bincount(cell, weights=np.asarray(weights, dtype=np.float64), minlength=cells).astype(
            np.int64).reshape(n_r, n_w)

    touchpoints = per_cell(np.ones(cell.shape[0]))
    functions = np.stack([per_cell((fn & int(f.value)) != 0) for f in FUNCTIONS], axis=2) if n_r else \
        np.zeros((0, n_w, len(FUNCTIONS)), dtype=np.int64)
    de, dw, dc = _distinct(e, w, cust, sizes=(max(n_r, 1), n_w, max(n_c, 1)))
    d_cell = de * n_w + dw
    customers = np.bincount(d_cell, minlength=cells).astype(np.int64).reshape(n_r, n_w)
    key_touched = np.bincount(d_cell, weights=key[dc].astype(np.float64), minlength=cells).astype(
        np.int64).reshape(n_r, n_w)
    tier_codes = np.unique(codes) if codes is not None else np.zeros(0, dtype=np.int64)
    by_tier = np.zeros((n_r, n_w, tier_codes.shape[0]), dtype=np.int64)
    if codes is not None and dc.size:
        np.add.at(by_tier, (de, dw, np.searchsorted(tier_codes, codes[dc])), 1)
    done = np.zeros((n_r, n_w, len(cfg.key_actions)), dtype=np.int64)
    channels = list(Channel)
    for j, action in enumerate(cfg.key_actions):
        match = np.ones(cell.shape[0], dtype=bool)
        if action.bits():
            match &= (fn & action.bits()) != 0
        if action.channel is not None:
            match &= ch == channels.index(action.channel)
        if action.key_customers_only:
            match &= key[cust]
        done[:, :, j] = per_cell(match)
    team_names = np.append(c.team_names.astype(str), "")
    return ActivityReport(
        as_of=t, week_end=t - _WEEK * np.arange(n_w - 1, -1, -1, dtype=np.float64),
        employee_id=c.employee_ids[shown], team=team_names[c.employee_team[shown]], touchpoints=touchpoints,
        function_counts=functions, customers=customers, tier_codes=tier_codes, customers_by_tier=by_tier,
        key_customers_touched=key_touched, actions=tuple(cfg.key_actions), action_done=done, key_customers=key,
        overdue=_overdue(c, key, cfg.contact_interval_days), contact_interval_days=float(cfg.contact_interval_days))


def _overdue(c: Any, key: BoolArray, interval_days: float) -> dict[str, npt.NDArray[Any]]:
    """Key customers nobody contacted within the interval: days since the last touchpoint and by whom."""
    n_c = c.n_customers
    last = np.full(n_c, -np.inf)
    who = np.full(n_c, -1, dtype=np.int64)
    past = c.tp_time <= c.as_of
    if past.any():
        # by customer, then time, then employee: each customer's last row is its latest (same second: largest id)
        order = np.lexsort((c.tp_employee[past], c.tp_time[past], c.tp_customer[past]))
        cust = c.tp_customer[past][order]
        end = np.r_[cust[1:] != cust[:-1], True]
        last[cust[end]] = c.tp_time[past][order][end]
        who[cust[end]] = c.tp_employee[past][order][end]
    days = np.where(np.isfinite(last), (c.as_of - last) / _DAY, math.inf)
    pick = np.flatnonzero(key & (days > interval_days))
    pick = pick[np.lexsort((pick, -days[pick]))]
    names = np.concatenate([c.employee_ids.astype(object), np.array([None], dtype=object)])
    return {"customer_id": c.customer_ids[pick], "days_since_last": days[pick], "last_employee": names[who[pick]]}


# ---------------------------------------------------------------------------------------------- the printed report
def _function_names(tr: Translator) -> list[str]:
    return [tr("care"), tr("information"), tr("deal"), tr("service"), tr("intelligence")]


def _default_action_name(action: KeyAction, tr: Translator) -> str:
    """The name of a key action; clvkit's default actions in the reader's language, others as configured."""
    known = {"customer visits": tr("customer visits"),
             "contacts moving a deal forward": tr("contacts moving a deal forward"),
             "care for key customers": tr("care for key customers")}
    return known.get(action.name, action.name)


def _day(seconds: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc).date().isoformat()


def format_activity(report: ActivityReport, *, lang: str | None = None, top: int = 20,
                    key_source: str | None = None) -> str:
    """The plain-text battle map of an :class:`ActivityReport` (English or Chinese).

    Parameters
    ----------
    report:
        From :func:`activity_report`.
    lang:
        ``"en"`` or ``"zh"``; ``None``: the locale's language.
    top:
        Most employees and overdue customers shown per table.
    key_source:
        A line (in the reader's language) saying where the key customers come from.

    Examples
    --------
    >>> from clvkit.binding import load_b2b_sample
    >>> s = load_b2b_sample()
    >>> r = activity_report(s.data, weeks=2, key_customers=s.key_customers, tiers=s.tiers)
    >>> print(format_activity(r, lang="en").splitlines()[0])
    clvkit activity report (battle map): 2 weeks of 7 days up to 2024-12-31
    """
    from .._texttable import table_lines
    from .report import enumerate_items

    if not isinstance(report, ActivityReport):
        raise InvalidInputError(f"The 'report' parameter of format_activity() must be an ActivityReport. "
                                f"Got {type(report).__name__} instead.")
    tr = translator(lang)
    r = report
    n_w = r.n_weeks
    fnames = _function_names(tr)
    lines = [tr.plural("clvkit activity report (battle map): {n} week of 7 days up to {date}",
                       "clvkit activity report (battle map): {n} weeks of 7 days up to {date}", n_w,
                       date=_day(r.as_of)),
             tr("Weeks end on: {dates} (each covers the 7 days up to and including that day)",
                dates=enumerate_items([_day(t)[5:] for t in r.week_end.tolist()], tr))]
    if key_source:
        lines.append(key_source)
    total = int(r.touchpoints.sum())
    fn_total = r.function_counts.sum(axis=(0, 1)) if r.function_counts.size else np.zeros(len(FUNCTIONS))
    lines += ["", tr("Where the time goes: {total} contacts by {employees} employees; by the five contact functions "
                     "(text 004): {mix}", total=f"{total:,}", employees=len(r.employee_id),
                     mix=enumerate_items([f"{name} {int(x):,}" for name, x in zip(fnames, fn_total.tolist(),
                                                                                   strict=True)], tr)),
              tr("  A contact that served several functions counts once for each.")]
    if len(r.employee_id) == 0:
        return "\n".join([*lines, "", tr("No employees and no contacts in these weeks.")]) + "\n"
    # totals per employee over the weeks
    order = np.lexsort((np.arange(len(r.employee_id)), -r.touchpoints.sum(axis=1)))[:top]
    tiers = [tr("tier {code}", code=int(code)) for code in r.tier_codes.tolist()]
    rows = []
    for i in order.tolist():
        rows.append([str(r.employee_id[i]), str(r.team[i]) or tr("(none)"), str(int(r.touchpoints[i].sum())),
                     *(str(int(x)) for x in r.function_counts[i].sum(axis=0).tolist()),
                     str(int(r.customers[i].sum())),
                     *(str(int(x)) for x in r.customers_by_tier[i].sum(axis=0).tolist()),
                     str(int(r.key_customers_touched[i].sum()))])
    lines += ["", tr("Per employee over the {n} weeks (most contacts first):", n=n_w),
              *table_lines([tr("employee"), tr("team"), tr("contacts"), *fnames, tr("customers"), *tiers,
                            tr("key customers")], rows, indent="  "),
              tr("  care = looking after the customer; information = passing on useful information; deal = moving a "
                 "deal or a repeat purchase forward; service = technical support and service; intelligence = "
                 "recording feedback, changing needs and changes in the customer's organisation"),
              tr("  customers, tiers, key customers: customers touched, added up week by week (a customer touched in "
                 "two weeks counts twice)")]
    if tiers:
        lines.append(tr("  tier 1 is the top tier of the 'tier' column (the most valuable customers)"))
    # per week
    acts = r.actions
    met = r.action_met
    week_heads = [_day(t)[5:] for t in r.week_end.tolist()]
    rows = []
    for i in order.tolist():
        cells = [str(r.employee_id[i])]
        for k in range(n_w):
            cells.append(str(int(r.touchpoints[i, k])))
            if acts:
                cells.append(f"{int(met[i, k].sum())}/{len(acts)}")
        rows.append(cells)
    heads = [tr("employee")]
    for h in week_heads:
        heads.append(tr("{week} contacts", week=h))
        if acts:
            heads.append(tr("{week} actions", week=h))
    lines += ["", tr("Week by week: contacts, and key actions met of those checked:"),
              *table_lines(heads, rows, indent="  ")]
    if acts:
        if acts == ActivityConfig().key_actions:
            lines += ["", tr("Key actions checked against what happened (weekly targets per employee: clvkit "
                             "default, configurable with --config):")]
        else:
            lines += ["", tr("Key actions checked against what happened (weekly targets per employee: your "
                             "configuration):")]
        arows = []
        cells_total = len(r.employee_id) * n_w
        for j, a in enumerate(acts):
            every = int(np.all(met[:, :, j], axis=1).sum())
            hit = int(met[:, :, j].sum())
            arows.append([_default_action_name(a, tr), str(a.per_week), f"{int(r.action_done[:, :, j].sum()):,}",
                          tr("{hit} of {cells} ({share})", hit=hit, cells=cells_total,
                             share=f"{hit / cells_total:.0%}" if cells_total else "-"), str(every)])
        lines += table_lines([tr("key action"), tr("target per week"), tr("done"), tr("employee-weeks on target"),
                              tr("employees on target every week")], arows, indent="  ")
        lines.append(tr("  The book (text 000) asks for weekly key actions (周考核) and names a three-checks system "
                        "(三查系统) for the quality of the sales process without defining the checks; the actions "
                        "and targets here are clvkit's."))
    od = r.overdue
    n_key = int(r.key_customers.sum())
    lines.append("")
    if n_key == 0:
        lines.append(tr("No key customers are marked: pass a 'key_customer' or 'tier' column in customers.csv to "
                        "check who has not been contacted."))
    else:
        fields = {"days": f"{r.contact_interval_days:g}", "count": len(od["customer_id"]), "key": n_key}
        if r.contact_interval_days == ActivityConfig().contact_interval_days:
            lines.append(tr("Key customers nobody contacted in the last {days} days: {count} of {key} (clvkit "
                            "default interval, configurable):", **fields))
        else:
            lines.append(tr("Key customers nobody contacted in the last {days} days: {count} of {key} (your "
                            "interval):", **fields))
        rows = [[str(od["customer_id"][i]),
                 tr("never") if not math.isfinite(float(od["days_since_last"][i])) else
                 f"{od['days_since_last'][i]:.0f}",
                 str(od["last_employee"][i]) if od["last_employee"][i] is not None else "-"]
                for i in range(len(od["customer_id"]))][:top]
        if rows:
            lines += table_lines([tr("customer"), tr("days since contact"), tr("last contacted by")], rows,
                                 indent="  ")
    return "\n".join(lines) + "\n"


def cli_activity(directory: Any = None, *, as_of: Any = None, weeks: int = 4, config: Any = None,
                 lang: str | None = None, top: int = 20) -> str:
    """The text of ``clvkit activity [DIRECTORY]``: read the binding tables, build and print the battle map.

    Parameters
    ----------
    directory:
        A directory of binding tables (:func:`~clvkit.binding.read_binding_dir`); ``None``: the bundled
        synthetic sample.
    as_of:
        The end of the last week; default: the latest touchpoint (the sample: 2024-12-31).
    weeks:
        How many weeks.
    config:
        An :class:`ActivityConfig`, or ``None`` for the defaults.
    lang:
        ``"en"`` or ``"zh"``; ``None``: the locale's language.
    top:
        Most rows per table.

    Examples
    --------
    >>> print(cli_activity(weeks=1, lang="en").splitlines()[2])
    clvkit activity report (battle map): 1 week of 7 days up to 2024-12-31
    """
    from .report import load_dataset

    tr = translator(lang)
    if config is not None and not isinstance(config, ActivityConfig):
        raise InvalidInputError(f"The 'config' parameter of cli_activity() must be an ActivityConfig or None. "
                                f"Got {type(config).__name__} instead.")
    dataset = load_dataset(directory, as_of)
    if dataset.key_customers is not None:
        source = tr("Key customers: the 'key_customer' column of customers.csv ({count}).",
                    count=int(dataset.key_customers.sum()))
    elif dataset.tiers is not None:
        source = tr("Key customers: tier {code} of the 'tier' column of customers.csv.",
                    code=int(dataset.tiers.min()) if dataset.tiers.size else 1)
    else:
        source = None
    report = activity_report(dataset.data, weeks=weeks, key_customers=dataset.key_customers, tiers=dataset.tiers,
                             config=config)
    text = format_activity(report, lang=tr.lang, top=top, key_source=source)
    if directory is None:
        text = tr("SYNTHETIC SAMPLE DATA (clvkit.binding.load_b2b_sample): invented customers and people.") + "\n\n" \
            + text
    return text
