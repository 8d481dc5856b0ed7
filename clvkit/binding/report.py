"""Plain-text binding report for the demo and the ``clvkit binding`` command: :func:`format_report`, :func:`cli_report`.

The text has fixed sections: an overview (scores, customers held by one person or by nobody, coverage of each
level of the customer's organisation), the key customers from the least bound with a legend and the next
action for each, value at risk by employee, each team's key customers, shared versus solo value per employee,
the relationship ladders (closeness check per employee, movement up the ladders) and hand-over simulations.
Sections that need per-customer values are left out (with a note) when there are none. Every line goes
through the translator (``lang="en"`` or ``"zh"``; :mod:`clvkit.i18n`).

Next actions (clvkit's rule, not the texts'): a sub-score below :data:`WEAK_SUB_SCORE` of 100 is weak; the weak
ones are ranked by the points of the binding score they cost (weight x shortfall) and the first
:data:`MAX_ACTIONS` are turned into actions - reach the levels of the customer's organisation not yet reached,
put a second employee on the account, contact more often, tie the customer through its industry, start a
joint project.
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
from ..domain import OrgLevel
from ..errors import InvalidInputError
from ..i18n import Translator, translator
from .config import BindingConfig, ScoreWeights
from .data import BindingData
from .io import BindingDataset, load_b2b_sample, read_binding_dir, read_score_values
from .ladders import LadderConfig, LadderReport, ladder_report
from .measures import LEVELS, SUB_SCORES, BindingMeasures, measure_binding
from .risk import HandoverResult, simulate_handover
from .team import key_customer_mask, team_report

__all__ = ["MAX_ACTIONS", "WEAK_SUB_SCORE", "cli_report", "format_report", "next_actions"]

#: A sub-score (0-100) below this is weak and gets a next action (clvkit's default).
WEAK_SUB_SCORE = 50.0
#: Most next actions shown per customer.
MAX_ACTIONS = 3


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "-"


def enumerate_items(items: Sequence[str], tr: Translator) -> str:
    """``items`` as one enumeration in the reader's language ("a, b, c"; Chinese "a、b、c"), built with the
    translated pattern "{list}, {item}" (as CLDR's list patterns do)."""
    out = ""
    for i, item in enumerate(items):
        out = item if i == 0 else tr("{list}, {item}", list=out, item=item)
    return out


def _level_names(tr: Translator) -> dict[OrgLevel, str]:
    return {OrgLevel.USER: tr("user"), OrgLevel.MANAGER: tr("manager"), OrgLevel.DECISION_MAKER: tr("decision maker"),
            OrgLevel.EXECUTIVE: tr("executive")}


def _level_letters(tr: Translator) -> dict[OrgLevel, str]:
    # i18n: one-letter (one-character) abbreviations of user, manager, decision maker, executive
    return {OrgLevel.USER: tr("U"), OrgLevel.MANAGER: tr("M"), OrgLevel.DECISION_MAKER: tr("D"),
            OrgLevel.EXECUTIVE: tr("E")}


def _overview(m: BindingMeasures, values: np.ndarray[Any, Any] | None, tr: Translator) -> list[str]:
    c = m.data._c
    n = len(m)
    s = m.score
    lines = [
        tr("clvkit binding report: from the salesperson's customer to the company's customer, as of {date}",
           date=m.data.as_of.date().isoformat()),
        tr("Data: customers {customers}, employees {employees} ({present} still with us), contacts of the customers "
           "{contacts}, relationships {relationships}, touchpoints {touchpoints}",
           customers=f"{n:,}", employees=f"{c.n_employees:,}", present=int(m.data.employee_present.sum()),
           contacts=f"{c.contact_ids.shape[0]:,}", relationships=f"{c.rel_employee.shape[0]:,}",
           touchpoints=f"{c.tp_time.shape[0]:,}"),
        "",
    ]
    if n == 0:
        return [*lines, tr("No customers.")]
    single, unheld = m.single_threaded, m.n_employees == 0
    total = float(values.sum()) if values is not None else 0.0
    share = f"{m.config.single_thread_share:.0%}"

    def part(mask: np.ndarray[Any, Any]) -> dict[str, Any]:
        value = float(values[mask].sum()) if values is not None else 0.0
        return {"value": _money(value), "share_of_total": _pct(value, total)}

    n_single, n_unheld = int(single.sum()), int(unheld.sum())
    if values is None:
        single_line = tr.plural("Held by one person (one employee holds at least {share} of the relationship): {n} "
                                "customer", "Held by one person (one employee holds at least {share} of the "
                                "relationship): {n} customers", n_single, share=share)
        unheld_line = tr.plural("Held by nobody (no active relationship, no contact in the window): {n} customer",
                                "Held by nobody (no active relationship, no contact in the window): {n} customers",
                                n_unheld)
    else:
        single_line = tr.plural("Held by one person (one employee holds at least {share} of the relationship): {n} "
                                "customer, value {value} ({share_of_total} of the total)",
                                "Held by one person (one employee holds at least {share} of the relationship): {n} "
                                "customers, value {value} ({share_of_total} of the total)", n_single, share=share,
                                **part(single))
        unheld_line = tr.plural("Held by nobody (no active relationship, no contact in the window): {n} customer, "
                                "value {value} ({share_of_total} of the total)",
                                "Held by nobody (no active relationship, no contact in the window): {n} customers, "
                                "value {value} ({share_of_total} of the total)", n_unheld, **part(unheld))
    names = _level_names(tr)
    lines += [
        tr("Binding score (0-100; higher = tied more firmly to the company): mean {mean}, median {median}, "
           "lowest {low}, highest {high}", mean=f"{s.mean():.1f}", median=f"{np.median(s):.1f}", low=f"{s.min():.1f}",
           high=f"{s.max():.1f}"),
        single_line,
        unheld_line,
        tr("Levels of the customer's organisation reached by an active relationship (in brackets: reached by "
           "someone of ours at a suitable level):"),
        "  " + enumerate_items([
            tr("{level} {reached} ({matched})", level=names[lv], reached=_pct(float(m.covered[:, j].sum()), n),
               matched=_pct(float(m.matched[:, j].sum()), n)) for j, lv in enumerate(LEVELS)], tr),
        tr("Likely successor of the decision maker served: {served} of {known} customers with a known successor",
           served=int(m.successor_covered.sum()), known=int(m.has_successor.sum())),
    ]
    return lines


def next_actions(measures: BindingMeasures, i: int, *, lang: str | None = None) -> list[str]:
    """The next actions for customer ``i`` (a position in ``measures.customer_id``) from its weak sub-scores.

    See the module docstring for the rule (clvkit's own).

    Examples
    --------
    One account manager holds the customer through its decision maker and has never contacted it:

    >>> from clvkit.binding import BindingData, measure_binding
    >>> emp = {"employee_id": ["E1"], "level": ["account_manager"]}
    >>> con = {"contact_id": ["P1"], "customer_id": ["C1"], "org_level": ["decision_maker"]}
    >>> rel = {"employee_id": ["E1"], "contact_id": ["P1"], "strength": [0.8], "start": ["2023-01-01"]}
    >>> m = measure_binding(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[],
    ...                                 as_of="2024-06-30"))
    >>> for action in next_actions(m, 0, lang="en"):
    ...     print(action)
    add contacts at the user, manager, executive level
    contact the customer: no contact on record
    put a second employee on the account
    """
    tr = translator(lang)
    weights = np.asarray(measures.config.weights.as_tuple())
    subs = measures.sub_scores()[i]
    cost = weights * (100.0 - subs)
    order = [k for k in np.lexsort((np.arange(len(SUB_SCORES)), -cost)).tolist()
             if subs[k] < WEAK_SUB_SCORE and weights[k] > 0]
    names = _level_names(tr)
    out: list[str] = []
    for k in order:
        if len(out) == MAX_ACTIONS:
            break
        what = SUB_SCORES[k]
        if what == "hierarchy":
            missing = [names[lv] for j, lv in enumerate(LEVELS) if not measures.covered[i, j]]
            unmatched = [names[lv] for j, lv in enumerate(LEVELS)
                         if measures.covered[i, j] and not measures.matched[i, j]]
            if missing:
                out.append(tr("add contacts at the {levels} level", levels=enumerate_items(missing, tr)))
            elif unmatched:
                out.append(tr("have the {levels} level served by someone of ours senior enough",
                              levels=enumerate_items(unmatched, tr)))
            else:
                out.append(tr("serve the likely successor of the decision maker"))
        elif what == "breadth":
            n_emp = int(measures.n_employees[i])
            out.append(tr("give the account an owner: nobody holds it") if n_emp == 0 else
                       tr("put a second employee on the account") if n_emp == 1 else
                       tr("bring one more employee into the account"))
        elif what == "spread":
            if int(measures.n_employees[i]) <= 1:
                out.append(tr("put a second employee on the account"))
            elif measures.single_threaded[i]:
                out.append(tr("share the account: one employee holds {share} of it",
                              share=f"{measures.top_share[i]:.0%}"))
            else:
                out.append(tr("spread the contact more evenly over the employees"))
        elif what == "presence":
            days = float(measures.days_since_last[i])
            out.append(tr("contact the customer: no contact on record") if not math.isfinite(days) else
                       tr("contact more often and more regularly (last contact {days} days ago)", days=f"{days:.0f}"))
        elif what == "industry":
            out.append(tr("tie the customer through its industry (association, sector solution, standard supplier)"))
        else:
            out.append(tr("start a joint project run by a team"))
        if out[-1] in out[:-1]:  # breadth and spread can ask for the same second employee
            out.pop()
    return out


def _customers(m: BindingMeasures, values: np.ndarray[Any, Any] | None, key: np.ndarray[Any, Any] | None,
               top: int, tr: Translator) -> list[str]:
    pick = np.flatnonzero(key) if key is not None else np.arange(len(m))
    pick = pick[np.lexsort((pick, m.score[pick]))][:top]
    title = tr("Key customers, least bound first:") if key is not None else tr("Customers, least bound first:")
    letters = _level_letters(tr)
    rows = []
    for i in pick.tolist():
        levels = "".join(letters[lv] if m.covered[i, j] else "." for j, lv in enumerate(LEVELS))
        rows.append([
            str(m.customer_id[i]), *([_money(float(values[i]))] if values is not None else []),
            f"{m.score[i]:.1f}", f"{m.hierarchy_score[i]:.0f}", levels, str(int(m.n_employees[i])),
            f"{m.top_share[i]:.0%}", tr("yes") if m.single_threaded[i] else "",
            tr("never") if not math.isfinite(float(m.days_since_last[i])) else f"{m.days_since_last[i]:.0f}",
            str(int(m.touchpoints_recent[i])), "-" if np.isnan(m.gap_cv[i]) else f"{m.gap_cv[i]:.2f}",
            str(int(m.industry_ties[i])), str(int(m.active_projects[i])),
        ])
    days = f"{m.config.frequency_days:.0f}"
    headers = [tr("customer"), *([tr("value")] if values is not None else []), tr("score"), tr("levels score"),
               tr("levels"), tr("employees"), tr("top share"), tr("one person"), tr("days since contact"),
               tr("contacts {days}d", days=days), tr("irregularity"), tr("industry ties"), tr("projects")]
    names = _level_names(tr)
    legend = [
        tr("Legend:"),
        tr("  score: binding score 0-100; levels score: hierarchical binding 0-100 (levels of the customer's "
           "organisation reached, and by someone of ours senior enough)"),
        tr("  levels: {letters} = {names} reached; '.' = not reached",
           letters="/".join(letters[lv] for lv in LEVELS), names=enumerate_items([names[lv] for lv in LEVELS], tr)),
        tr("  employees: our employees holding the customer; top share: the part the first of them holds; one "
           "person: that part is at least {share}", share=f"{m.config.single_thread_share:.0%}"),
        tr("  contacts {days}d: touchpoints in the last {days} days; irregularity: how uneven the gaps between "
           "contact days are (their standard deviation / their mean; 0 = perfectly regular; - = too few contacts)",
           days=days),
        tr("  industry ties: associations, chambers of commerce, sector solutions, standard supplier; projects: joint "
           "projects running"),
    ]
    actions = []
    for i in pick.tolist():
        todo = next_actions(m, i, lang=tr.lang)
        if todo:
            actions.append("  " + tr("{customer}: {actions}", customer=str(m.customer_id[i]),
                                     actions=tr("; ").join(todo)))
    out = [title, *table_lines(headers, rows, indent="  "), *legend]
    if actions:
        out += ["", tr("Next action for each customer above (clvkit's rule: the parts of the binding score below "
                       "{weak} of 100, the costliest first, at most {most}):", weak=f"{WEAK_SUB_SCORE:.0f}",
                       most=MAX_ACTIONS), *actions]
    return out


def _weights_line(m: BindingMeasures, tr: Translator) -> str:
    w = m.config.weights
    parts = {k: f"{getattr(w, k):g}" for k in SUB_SCORES}
    if w == ScoreWeights():
        return tr("Binding weights: clvkit default, configurable (--config): levels {hierarchy}, employees "
                  "{breadth}, spread {spread}, presence {presence}, industry {industry}, projects {project}", **parts)
    return tr("Binding weights: your configuration: levels {hierarchy}, employees {breadth}, spread {spread}, "
              "presence {presence}, industry {industry}, projects {project}", **parts)


def _handover(h: HandoverResult, top: int, tr: Translator) -> list[str]:
    present_left = h.before.data._c.employee_left_at[h.before.data.employee_index([h.employee_id])[0]]
    affected = h.affected
    receivers = sorted(map(str, {r for r in h.moved["receiver"].tolist() if r is not None}))
    fields = {"employee": str(h.employee_id), "moved": len(h.moved["receiver"]),
              "receivers": enumerate_items(receivers, tr) or tr("nobody"), "lost": h.n_lost,
              "affected": int(affected.sum())}
    if math.isfinite(present_left) and present_left > h.before.data._c.as_of:
        date = _dt.datetime.fromtimestamp(present_left, tz=_dt.timezone.utc).date().isoformat()
        head = tr("Hand-over simulation: {employee} leaves (announced departure {date}); {moved} active relationships "
                  "handed to {receivers}, {lost} lost; customers affected: {affected}", date=date, **fields)
    else:
        head = tr("Hand-over simulation: {employee} leaves; {moved} active relationships handed to {receivers}, "
                  "{lost} lost; customers affected: {affected}", **fields)
    lines = [head]
    if h.risk_before is not None and h.risk_after is not None:
        rb, ra = h.risk_before, h.risk_after
        before = dict(zip(rb.employee_id.tolist(), rb.value_at_risk.tolist(), strict=True))
        lines += [
            "  " + tr("value at risk held by {employee}: {value} ({share} of the value exposed); value exposed "
                      "{before} before, {after} after", employee=str(h.employee_id),
                      value=_money(before[h.employee_id]), share=_pct(before[h.employee_id], rb.value_exposed),
                      before=_money(rb.value_exposed), after=_money(ra.value_exposed)),
            "  " + tr("largest value at risk: {e_before} {v_before} ({s_before}) before, {e_after} {v_after} "
                      "({s_after}) after", e_before=str(rb.employee_id[0]),
                      v_before=_money(float(rb.value_at_risk[0])),
                      s_before=_pct(float(rb.value_at_risk[0]), rb.value_exposed), e_after=str(ra.employee_id[0]),
                      v_after=_money(float(ra.value_at_risk[0])),
                      s_after=_pct(float(ra.value_at_risk[0]), ra.value_exposed)),
        ]
    idx = np.flatnonzero(affected)
    idx = idx[np.lexsort((idx, h.score_change[idx]))][:top]
    rows = [[str(h.before.customer_id[i]), f"{h.before.score[i]:.1f}", f"{h.after.score[i]:.1f}",
             f"{h.score_change[i]:+.1f}", str(int(h.before.n_employees[i])), str(int(h.after.n_employees[i])),
             tr("yes") if h.after.single_threaded[i] else ""] for i in idx.tolist()]
    if rows:
        lines += table_lines([tr("customer"), tr("score before"), tr("after"), tr("change"), tr("employees before"),
                              tr("after"), tr("one person after")], rows, indent="  ")
    return lines


_LADDER_NAMES = ("closeness", "grade", "pyramid_stage")


def _ladders(m: BindingMeasures, r: LadderReport, top: int, tr: Translator) -> list[str]:
    c = m.data._c
    recorded = {name: int((getattr(c, f"rel_{name}") > 0).sum()) for name in _LADDER_NAMES}
    lines = [tr("Relationship ladders: closeness passer-by, acquaintance, friend, confidant (text 004); grade loose, "
                "close, die-hard, strategic partner; relationship pyramid basic, cooperative, interdependent "
                "(张子凡 CRM notes, text 003)")]
    if not any(recorded.values()):
        return [*lines, "  " + tr("No ladder rung (closeness, grade, pyramid stage) is recorded on the relationships.")]
    from_rungs = int(np.isnan(c.rel_strength).sum())
    cfg: LadderConfig = m.config.ladders
    default = cfg == LadderConfig()
    lines.append("  " + tr("Relationships with a rung on record: closeness {closeness}, grade {grade}, pyramid stage "
                           "{pyramid_stage}; strength taken from the rungs (no number given): {from_rungs}",
                           from_rungs=from_rungs, **recorded))
    rungs = {**{f"c{j + 1}": f"{v:g}" for j, v in enumerate(cfg.closeness)},
             **{f"g{j + 1}": f"{v:g}" for j, v in enumerate(cfg.grade)},
             **{f"p{j + 1}": f"{v:g}" for j, v in enumerate(cfg.pyramid_stage)}}
    if default:
        lines.append("  " + tr("Strength of a rung: clvkit default, configurable (--config, 'ladders'): closeness "
                               "{c1} / {c2} / {c3} / {c4}, grade {g1} / {g2} / {g3} / {g4}, pyramid {p1} / {p2} / {p3}",
                               **rungs))
    else:
        lines.append("  " + tr("Strength of a rung: your configuration: closeness {c1} / {c2} / {c3} / {c4}, grade "
                               "{g1} / {g2} / {g3} / {g4}, pyramid {p1} / {p2} / {p3}", **rungs))
    if r.has_closeness:
        cl = r.closeness
        t = [f"{x:.0%}" for x in r.target]
        rows = [[str(cl["employee_id"][i]), str(int(cl["contacts"][i])),
                 *(f"{int(cl[k][i])} ({cl['share_' + k][i]:.0%})" for k in ("passer_by", "acquaintance", "friend",
                                                                              "confidant")),
                 f"{cl['distance'][i]:.2f}"] for i in range(len(cl["employee_id"]))][:top]
        lines += ["", tr("Closeness per employee against the rule of thumb (text 004: of 100 people met about 50 "
                         "become acquaintances, 10 friends, 3-5 confidants; clvkit reads it as {p} passers-by, {a} "
                         "acquaintances, {f} friends, {c} confidants), furthest from it first:",
                         p=t[0], a=t[1], f=t[2], c=t[3]),
                  *table_lines([tr("employee"), tr("relationships"), tr("passer-by"), tr("acquaintance"), tr("friend"),
                                tr("confidant"), tr("distance")], rows, indent="  "),
                  "  " + tr("distance: half the sum of the differences between the shares and the rule of thumb (0 = "
                            "exactly the rule, 1 = nothing in common; clvkit's measure)")]
    since = _dt.datetime.fromtimestamp(r.since, tz=_dt.timezone.utc).date().isoformat()
    mv = r.movement
    label = {"closeness": tr("closeness"), "grade": tr("grade"), "pyramid_stage": tr("pyramid stage")}
    lines += ["", tr("Movement up the ladders since {date} (ties on record at both dates, from dated relationship "
                     "records):", date=since)]
    for j, name in enumerate(mv["ladder"].tolist()):
        lines.append("  " + tr("{ladder}: {up} up, {down} down, {same} unchanged, {new} new ties",
                               ladder=label[name], up=int(mv["up"][j]), down=int(mv["down"][j]),
                               same=int(mv["same"][j]), new=int(mv["new"][j])))
    be = r.movement_by_employee
    if len(be["employee_id"]):
        lines.append("  " + tr("Moves by employee, most up first: {list}", list=tr("; ").join(
            tr("{employee} {up} up, {down} down", employee=str(be["employee_id"][i]), up=int(be["up"][i]),
               down=int(be["down"][i])) for i in range(min(len(be["employee_id"]), top)))))
    return lines


def format_report(measures: BindingMeasures, *, values: Any = None, key_customers: Any = None, tiers: Any = None,
                  key_tiers: Collection[int] | None = None, top: int = 10,
                  handovers: Sequence[HandoverResult] = (), lang: str | None = None,
                  notes: Sequence[str] = ()) -> str:
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
    lang:
        ``"en"`` or ``"zh"``; ``None``: the locale's language (:func:`clvkit.i18n.default_language`).
    notes:
        Lines (already in the reader's language) printed after the overview, e.g. where the values come from.

    Examples
    --------
    >>> from clvkit.binding import load_b2b_sample, measure_binding
    >>> s = load_b2b_sample()
    >>> text = format_report(measure_binding(s.data), values=s.values, key_customers=s.key_customers, top=3,
    ...                      lang="en")
    >>> print(text.splitlines()[0])
    clvkit binding report: from the salesperson's customer to the company's customer, as of 2024-12-31
    >>> print(format_report(measure_binding(s.data), top=3, lang="zh").splitlines()[0])
    clvkit 绑定管理报告：从个人的客户到公司的客户，截至 2024-12-31
    """
    tr = translator(lang)
    m = measures
    v = None if values is None else np.asarray(values, dtype=np.float64)
    lines = _overview(m, v, tr)
    if len(m) == 0:
        return "\n".join(lines) + "\n"
    lines += [*notes, _weights_line(m, tr)]
    key = None
    if v is not None or key_customers is not None or tiers is not None:
        key = key_customer_mask(v if v is not None else np.zeros(len(m)), key_customers=key_customers, tiers=tiers,
                                key_tiers=key_tiers)
    lines += ["", *_customers(m, v, key, top, tr)]
    if v is None:
        lines += ["", tr("No per-customer values: value at risk and the team report need them (a 'value' column in "
                         "customers.csv, --values scores.csv, or values=...).")]
    else:
        lines += _value_sections(m, v, key, top, tr)
    lines += ["", *_ladders(m, ladder_report(m.data, m.config), top, tr)]
    for h in handovers:
        lines += ["", *_handover(h, top, tr)]
    return "\n".join(lines) + "\n"


def _value_sections(m: BindingMeasures, v: np.ndarray[Any, Any], key: Any, top: int, tr: Translator) -> list[str]:
    rep = team_report(m, v, key_customers=key)
    r = rep.risk
    none = tr("(none)")
    rows = [[str(e), str(t) if str(t) not in ("", "(none)") else none, _money(x), _pct(x, r.value_exposed), _money(s),
             str(int(h)), str(int(o))]
            for e, t, x, s, h, o in zip(r.employee_id.tolist(), r.team.tolist(), r.value_at_risk.tolist(),
                                         r.sole_value.tolist(), r.customers_held.tolist(),
                                         r.customers_sole.tolist(), strict=True)][:top]
    w = m.config.strength_share_weight
    lines = ["", tr("Value at risk by employee (the value that would be exposed if they left): value exposed "
                    "{exposed}, held by nobody {unheld}", exposed=_money(r.value_exposed),
                    unheld=_money(r.value_unheld)),
             *table_lines([tr("employee"), tr("team"), tr("value at risk"), tr("share"), tr("value held alone"),
                           tr("customers"), tr("held alone")], rows, indent="  "),
             "  " + tr("How much of a customer an employee holds: {w} x their share of the relationship strength + "
                       "{w2} x their share of the recent contacts (clvkit default, configurable)", w=f"{w:g}",
                       w2=f"{1 - w:g}")]
    t = rep.teams
    rows = [[str(t["team"][i]) if str(t["team"][i]) != "(none)" else none, str(int(t["key_customers"][i])),
             _money(float(t["key_value"][i])), f"{t['mean_score'][i]:.1f}", str(int(t["single_threaded"][i])),
             _money(float(t["single_threaded_value"][i])), str(int(t["decision_maker_reached"][i])),
             f"{t['mean_levels_covered'][i]:.1f}", str(int(t["multi_employee"][i]))]
            for i in range(len(t["team"]))]
    lines += ["", tr("Key customers by owning team (the team holding the largest share):"),
              *table_lines([tr("team"), tr("key customers"), tr("key value"), tr("mean score"), tr("one person"),
                            tr("value held by one person"), tr("decision maker reached"), tr("levels reached"),
                            tr("two or more employees")], rows, indent="  "),
              "  " + tr("decision maker reached: a decision maker or an executive of the customer has an active "
                        "relationship with us; levels reached: mean number of the four levels reached")]
    e = rep.employees
    rows = [[str(e["employee_id"][i]), str(e["team"][i]) if str(e["team"][i]) != "(none)" else none,
             "" if e["present"][i] else tr("left"), str(int(e["shared_customers"][i])),
             _money(float(e["shared_value"][i])), str(int(e["solo_customers"][i])), _money(float(e["solo_value"][i]))]
            for i in range(len(e["employee_id"]))][:top]
    lines += ["", tr("Rewards and penalties: value bound together with others against value held alone (best first):"),
              *table_lines([tr("employee"), tr("team"), tr("status"), tr("shared"), tr("shared value"), tr("alone"),
                            tr("value alone")], rows, indent="  ")]
    return lines


def _config(config: BindingConfig | str | Path | None) -> BindingConfig:
    if config is None or isinstance(config, BindingConfig):
        return config or BindingConfig()
    path = Path(config)
    try:
        return BindingConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"The binding configuration {path} cannot be used: {exc}") from None


def _default_leavers(data: BindingData, values: Any, m: BindingMeasures) -> list[Any]:
    c = data._c
    announced = np.flatnonzero(np.isfinite(c.employee_left_at) & (c.employee_left_at > c.as_of))
    if announced.size:
        return [c.employee_ids[i].item() for i in announced[:3]]
    if values is not None and len(m):
        from .risk import value_at_risk

        return [value_at_risk(m, values).employee_id[0].item()]
    return []


def load_dataset(directory: str | Path | None, as_of: Any) -> BindingDataset:
    """The binding tables of ``directory`` (``None``: the bundled sample), as of ``as_of``."""
    if directory is None:
        dataset = load_b2b_sample()
        if as_of is not None:
            dataset = dataset._replace(data=dataset.data.with_as_of(as_of, drop_future=True))
        return dataset
    return read_binding_dir(directory, as_of=as_of)


def cli_report(directory: str | Path | None = None, *, as_of: Any = None, top: int = 10,
               config: BindingConfig | str | Path | None = None, handover: Sequence[str] | None = None,
               lang: str | None = None, values: str | Path | None = None, value_column: str = "clv") -> str:
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
    lang:
        ``"en"`` or ``"zh"``; ``None``: the locale's language.
    values, value_column:
        A ``clvkit score`` CSV and its column to take the customer values from (default ``clv``), instead of
        the ``value`` column of customers.csv; matched by ``customer_id`` (see
        :func:`~clvkit.binding.read_score_values` for the rule on ids that do not match). The key customers are
        then the top 20% by these values.

    Raises
    ------
    InvalidInputError
        For unreadable files, invalid data or settings (one message listing every problem).

    Examples
    --------
    >>> text = cli_report(top=3, lang="en")
    >>> print(text.splitlines()[0])
    SYNTHETIC SAMPLE DATA (clvkit.binding.load_b2b_sample): invented customers and people.
    >>> "Hand-over simulation" in text
    True
    """
    tr = translator(lang)
    dataset = load_dataset(directory, as_of)
    cfg = _config(config)
    m = measure_binding(dataset.data, cfg)
    v, key, notes = dataset.values, dataset.key_customers, []
    if values is not None:
        sv = read_score_values(values, dataset.data, column=value_column)
        v, key = sv.values, None
        notes.append(tr("Customer values: column '{column}' of {file}, matched by customer_id: {matched} customers "
                        "matched; {missing} without a score count 0; {unknown} ids of the file are not in the "
                        "binding data (ignored). Key customers: the top 20% by these values.", column=sv.column,
                        file=Path(values).name, matched=sv.matched, missing=sv.missing, unknown=sv.unknown))
    elif v is not None:
        notes.append(tr("Customer values: the 'value' column of customers.csv."))
    leavers = list(handover) if handover is not None else _default_leavers(dataset.data, v, m)
    sims = [simulate_handover(dataset.data, e, values=v, config=cfg) for e in leavers]
    text = format_report(m, values=v, key_customers=key, top=top, handovers=sims, lang=tr.lang, notes=notes)
    if directory is None:
        text = tr("SYNTHETIC SAMPLE DATA (clvkit.binding.load_b2b_sample): invented customers and people.") + "\n\n" \
            + text
    return text
