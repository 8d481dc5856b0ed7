"""Plain-text binding report for the demo and the ``clvkit binding`` command: :func:`format_report`, :func:`cli_report`.

The text has fixed sections: an overview (scores, single-threaded and unheld customers, coverage of each
org level), the key customers from the least bound, value at risk by employee, each team's key customers,
shared versus solo value per employee, and hand-over simulations. Sections that need per-customer values
are left out (with a note) when there are none.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._texttable import table_lines
from ..errors import InvalidInputError
from .config import BindingConfig
from .data import BindingData
from .io import BindingDataset, load_b2b_sample, read_binding_dir
from .measures import LEVELS, BindingMeasures, measure_binding
from .risk import HandoverResult, simulate_handover
from .team import key_customer_mask, team_report

__all__ = ["cli_report", "format_report"]


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "-"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _days(x: float) -> str:
    return "never" if not math.isfinite(x) else f"{x:.0f}"


def _overview(m: BindingMeasures, values: np.ndarray[Any, Any] | None) -> list[str]:
    c = m.data._c
    n = len(m)
    s = m.score
    lines = [
        f"clvkit binding report - as of {m.data.as_of.date().isoformat()}",
        f"{_count(n, 'customer')}, {_count(c.n_employees, 'employee')} "
        f"({int(m.data.employee_present.sum())} present), {_count(c.contact_ids.shape[0], 'contact')}, "
        f"{_count(c.rel_employee.shape[0], 'relationship')}, {_count(c.tp_time.shape[0], 'touchpoint')}",
        "",
    ]
    if n == 0:
        return [*lines, "No customers."]
    single, unheld = m.single_threaded, m.n_employees == 0
    total = float(values.sum()) if values is not None else 0.0

    def with_value(mask: np.ndarray[Any, Any]) -> str:
        if values is None:
            return ""
        return f", value {_money(float(values[mask].sum()))} ({_pct(float(values[mask].sum()), total)} of total)"

    lines += [
        f"Binding score (0-100): mean {s.mean():.1f}, median {np.median(s):.1f}, min {s.min():.1f}, "
        f"max {s.max():.1f}",
        f"Single-threaded (top employee holds >= {m.config.single_thread_share:.0%}): "
        f"{_count(int(single.sum()), 'customer')}{with_value(single)}",
        f"Held by nobody (no active relationship, no recent touchpoint): {_count(int(unheld.sum()), 'customer')}"
        f"{with_value(unheld)}",
        "Org levels with an active relationship (and matched by a suitable level of ours):",
        "  " + ", ".join(
            f"{lv.name.lower().replace('_', ' ')} {_pct(float(m.covered[:, j].sum()), n)} "
            f"({_pct(float(m.matched[:, j].sum()), n)})" for j, lv in enumerate(LEVELS)),
        f"Successor of the decision maker served: {int(m.successor_covered.sum())} of "
        f"{int(m.has_successor.sum())} customers with a known successor",
    ]
    return lines


def _customers(m: BindingMeasures, values: np.ndarray[Any, Any] | None, key: np.ndarray[Any, Any] | None,
               top: int) -> list[str]:
    pick = np.flatnonzero(key) if key is not None else np.arange(len(m))
    pick = pick[np.lexsort((pick, m.score[pick]))][:top]
    title = "Key customers, least bound first" if key is not None else "Customers, least bound first"
    rows = []
    for i in pick.tolist():
        levels = "".join(lv.name[0] if m.covered[i, j] else "." for j, lv in enumerate(LEVELS))
        rows.append([
            str(m.customer_id[i]), *([_money(float(values[i]))] if values is not None else []),
            f"{m.score[i]:.1f}", f"{m.hierarchy_score[i]:.0f}", levels, str(int(m.n_employees[i])),
            f"{m.top_share[i]:.2f}", "yes" if m.single_threaded[i] else "", _days(float(m.days_since_last[i])),
            str(int(m.touchpoints_recent[i])), "-" if np.isnan(m.gap_cv[i]) else f"{m.gap_cv[i]:.2f}",
            str(int(m.industry_ties[i])), str(int(m.active_projects[i])),
        ])
    headers = ["customer", *(["value"] if values is not None else []), "score", "hier", "levels", "empl",
               "top share", "single", "days since", f"tp {m.config.frequency_days:.0f}d", "gap CV", "ties",
               "projects"]
    return [f"{title} (levels U/M/D/E = user, manager, decision maker, executive covered):",
            *table_lines(headers, rows, indent="  ")]


def _handover(h: HandoverResult, top: int) -> list[str]:
    present_left = h.before.data._c.employee_left_at[h.before.data.employee_index([h.employee_id])[0]]
    note = ""
    if math.isfinite(present_left) and present_left > h.before.data._c.as_of:
        note = f" (announced departure {_dt.datetime.fromtimestamp(present_left, tz=_dt.timezone.utc).date()})"
    affected = h.affected
    receivers = {r for r in h.moved["receiver"].tolist() if r is not None}
    lines = [f"Hand-over simulation: {h.employee_id} leaves{note}; {len(h.moved['receiver'])} active "
             f"relationships handed to {', '.join(sorted(map(str, receivers))) or 'nobody'}, {h.n_lost} lost; "
             f"{_count(int(affected.sum()), 'customer')} affected"]
    if h.risk_before is not None and h.risk_after is not None:
        rb, ra = h.risk_before, h.risk_after
        before = dict(zip(rb.employee_id.tolist(), rb.value_at_risk.tolist(), strict=True))
        lines += [f"  value at risk held by {h.employee_id}: {_money(before[h.employee_id])} "
                  f"({_pct(before[h.employee_id], rb.value_exposed)} of the value exposed); value exposed "
                  f"{_money(rb.value_exposed)} -> {_money(ra.value_exposed)}",
                  f"  largest value at risk: {rb.employee_id[0]} {_money(float(rb.value_at_risk[0]))} "
                  f"({_pct(float(rb.value_at_risk[0]), rb.value_exposed)}) before, {ra.employee_id[0]} "
                  f"{_money(float(ra.value_at_risk[0]))} ({_pct(float(ra.value_at_risk[0]), ra.value_exposed)}) "
                  "after"]
    idx = np.flatnonzero(affected)
    idx = idx[np.lexsort((idx, h.score_change[idx]))][:top]
    rows = [[str(h.before.customer_id[i]), f"{h.before.score[i]:.1f}", f"{h.after.score[i]:.1f}",
             f"{h.score_change[i]:+.1f}", str(int(h.before.n_employees[i])), str(int(h.after.n_employees[i])),
             "yes" if h.after.single_threaded[i] else ""] for i in idx.tolist()]
    if rows:
        lines += table_lines(["customer", "score before", "after", "change", "empl before", "after", "single after"],
                             rows, indent="  ")
    return lines


def format_report(measures: BindingMeasures, *, values: Any = None, key_customers: Any = None, tiers: Any = None,
                  key_tiers: Collection[int] | None = None, top: int = 10,
                  handovers: Sequence[HandoverResult] = ()) -> str:
    """The plain-text binding report (see the module docstring).

    Parameters
    ----------
    measures:
        From :func:`~clvkit.binding.measure_binding`.
    values, key_customers, tiers, key_tiers:
        Per-customer values and the key customers, as for :func:`~clvkit.binding.team_report`; without
        values, the value sections are left out.
    top:
        Rows shown per table.
    handovers:
        Results of :func:`~clvkit.binding.simulate_handover` to show.

    Examples
    --------
    >>> from clvkit.binding import load_b2b_sample, measure_binding
    >>> s = load_b2b_sample()
    >>> text = format_report(measure_binding(s.data), values=s.values, key_customers=s.key_customers, top=3)
    >>> print(text.splitlines()[0])
    clvkit binding report - as of 2024-12-31
    """
    m = measures
    v = None if values is None else np.asarray(values, dtype=np.float64)
    lines = _overview(m, v)
    if len(m) == 0:
        return "\n".join(lines) + "\n"
    key = None
    if v is not None or key_customers is not None or tiers is not None:
        key = key_customer_mask(v if v is not None else np.zeros(len(m)), key_customers=key_customers, tiers=tiers,
                                key_tiers=key_tiers)
    lines += ["", *_customers(m, v, key, top)]
    if v is None:
        lines += ["", "No per-customer values: value at risk and the team report need them (a 'value' column in "
                      "customers.csv, or values=...)."]
    else:
        rep = team_report(m, v, key_customers=key)
        r = rep.risk
        rows = [[str(e), str(t) or "(none)", _money(x), _pct(x, r.value_exposed), _money(s), str(int(h)), str(int(o))]
                for e, t, x, s, h, o in zip(r.employee_id.tolist(), r.team.tolist(), r.value_at_risk.tolist(),
                                             r.sole_value.tolist(), r.customers_held.tolist(),
                                             r.customers_sole.tolist(), strict=True)][:top]
        lines += ["", f"Value at risk by employee: value exposed {_money(r.value_exposed)}, held by nobody "
                      f"{_money(r.value_unheld)}",
                  f"(share rule: holding = {m.config.strength_share_weight:g} x share of relationship strength + "
                  f"{1 - m.config.strength_share_weight:g} x share of recent touchpoints):",
                  *table_lines(["employee", "team", "value at risk", "share", "sole-held value", "customers", "sole"],
                               rows, indent="  ")]
        t = rep.teams
        rows = [[str(t["team"][i]), str(int(t["key_customers"][i])), _money(float(t["key_value"][i])),
                 f"{t['mean_score'][i]:.1f}", str(int(t["single_threaded"][i])),
                 _money(float(t["single_threaded_value"][i])), str(int(t["decision_maker_reached"][i])),
                 f"{t['mean_levels_covered'][i]:.1f}", str(int(t["multi_employee"][i]))]
                for i in range(len(t["team"]))]
        lines += ["", "Key customers by owning team (the team holding the largest share):",
                  *table_lines(["team", "key customers", "key value", "mean score", "single", "single value",
                                "DM reached", "levels", "multi-employee"], rows, indent="  ")]
        e = rep.employees
        rows = [[str(e["employee_id"][i]), str(e["team"][i]), "" if e["present"][i] else "left",
                 str(int(e["shared_customers"][i])), _money(float(e["shared_value"][i])),
                 str(int(e["solo_customers"][i])), _money(float(e["solo_value"][i]))]
                for i in range(len(e["employee_id"]))][:top]
        lines += ["", "Rewards and penalties: value bound together with others vs held alone (best first):",
                  *table_lines(["employee", "team", "status", "shared", "shared value", "alone", "alone value"], rows,
                               indent="  ")]
    for h in handovers:
        lines += ["", *_handover(h, top)]
    return "\n".join(lines) + "\n"


def _config(config: BindingConfig | str | Path | None) -> BindingConfig:
    if config is None or isinstance(config, BindingConfig):
        return config or BindingConfig()
    path = Path(config)
    try:
        return BindingConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"The binding configuration {path} cannot be used: {exc}") from None


def _default_leavers(data: BindingData, dataset: BindingDataset, m: BindingMeasures) -> list[Any]:
    c = data._c
    announced = np.flatnonzero(np.isfinite(c.employee_left_at) & (c.employee_left_at > c.as_of))
    if announced.size:
        return [c.employee_ids[i].item() for i in announced[:3]]
    if dataset.values is not None and len(m):
        from .risk import value_at_risk

        return [value_at_risk(m, dataset.values).employee_id[0].item()]
    return []


def cli_report(directory: str | Path | None = None, *, as_of: Any = None, top: int = 10,
               config: BindingConfig | str | Path | None = None, handover: Sequence[str] | None = None) -> str:
    """The text of ``clvkit binding [DIRECTORY]``: read, measure, report.

    Parameters
    ----------
    directory:
        A directory of binding tables (see :func:`~clvkit.binding.read_binding_dir`); ``None`` for the
        bundled synthetic sample.
    as_of:
        The date described (ISO string, date or datetime); default: the latest touchpoint (the sample:
        2024-12-31).
    top:
        Rows per table.
    config:
        A :class:`BindingConfig` or the path of its JSON.
    handover:
        Employee ids whose hand-over to simulate; default: the employees with an announced departure
        (at most 3), else the one with the largest value at risk.

    Raises
    ------
    InvalidInputError
        For unreadable files, invalid data or settings (one message listing every problem).

    Examples
    --------
    >>> text = cli_report(top=3)
    >>> print(text.splitlines()[0])
    SYNTHETIC SAMPLE DATA (clvkit.binding.load_b2b_sample) - invented customers and people.
    >>> "Hand-over simulation" in text
    True
    """
    if directory is None:
        dataset = load_b2b_sample()
        if as_of is not None:
            dataset = dataset._replace(data=dataset.data.with_as_of(as_of, drop_future=True))
    else:
        dataset = read_binding_dir(directory, as_of=as_of)
    cfg = _config(config)
    m = measure_binding(dataset.data, cfg)
    leavers = list(handover) if handover is not None else _default_leavers(dataset.data, dataset, m)
    sims = [simulate_handover(dataset.data, e, values=dataset.values, config=cfg) for e in leavers]
    text = format_report(m, values=dataset.values, key_customers=dataset.key_customers, top=top, handovers=sims)
    if directory is None:
        text = "SYNTHETIC SAMPLE DATA (clvkit.binding.load_b2b_sample) - invented customers and people.\n\n" + text
    return text
