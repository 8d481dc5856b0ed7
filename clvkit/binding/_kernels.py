"""Binding kernels: pure numpy functions of the coded arrays (no Pydantic, no pandas, no I/O).

Every aggregation is an ``np.bincount`` over customer or pair codes (pairs are sorted by customer, so a
per-customer maximum is one ``np.maximum.reduceat``); touchpoints arrive sorted by (customer, time), so
gaps need no sort. Cost: a few linear passes over the touchpoints and relationships.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ._coded import Coded

__all__ = ["DAY", "Params", "customer_max", "holdings", "measure", "sum_by"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Seconds in a day: times are POSIX seconds, windows are in days.
DAY = 86400.0
N_LEVELS = 4
N_FUNCTIONS = 5


class Params:
    """The numbers of a :class:`~clvkit.binding.BindingConfig`, as plain floats and arrays."""

    def __init__(self, cfg: Any) -> None:
        self.min_strength = float(cfg.min_strength)
        self.window = float(cfg.window_days) * DAY
        self.frequency_window = float(cfg.frequency_days) * DAY
        self.target_touchpoints = float(cfg.target_touchpoints)
        self.half_life_days = float(cfg.recency_half_life_days)
        self.w_strength = float(cfg.strength_share_weight)
        self.single_thread_share = float(cfg.single_thread_share)
        self.target_employees = float(cfg.target_employees)
        self.target_backup = float(cfg.target_backup_strength)
        self.unmatched_credit = float(cfg.unmatched_credit)
        self.tie_weights = np.asarray(cfg.tie_weight_array(), dtype=np.float64)
        self.target_ties = float(cfg.target_industry_ties)
        self.target_projects = float(cfg.target_active_projects)
        self.target_team = float(cfg.target_team_size)
        self.required_rank = np.array((0, *cfg.level_match.ranks()), dtype=np.int64)
        self.level_weights = np.asarray(cfg.level_weights.level_weights(), dtype=np.float64)
        self.successor_weight = float(cfg.level_weights.successor)
        self.score_weights = np.asarray(cfg.weights.as_tuple(), dtype=np.float64)


def sum_by(codes: IntArray, weights: Any, n: int) -> FloatArray:
    """``np.bincount`` with weights, as float64: the sum of ``weights`` per code ``0..n-1``."""
    w = np.asarray(weights, dtype=np.float64)
    out: FloatArray = np.bincount(codes, weights=w, minlength=n).astype(np.float64, copy=False)
    return out


def customer_max(values: FloatArray, pair_customer: IntArray, n_customers: int) -> FloatArray:
    """Per-customer maximum of a per-pair array (0 for customers without pairs); pairs sorted by customer."""
    out = np.zeros(n_customers)
    if values.size:
        starts = np.flatnonzero(np.r_[True, pair_customer[1:] != pair_customer[:-1]])
        out[pair_customer[starts]] = np.maximum.reduceat(values, starts)
    return out


def _shares(per_pair: FloatArray, pc: IntArray, n_c: int) -> tuple[FloatArray, FloatArray]:
    total = sum_by(pc, per_pair, n_c)
    denom = total[pc]
    share = np.divide(per_pair, denom, out=np.zeros_like(per_pair), where=denom > 0)
    return share, total


def _concentration(share: FloatArray, pc: IntArray, n_c: int) -> tuple[FloatArray, FloatArray]:
    """Top share and Herfindahl index per customer (both 0 for a customer nobody holds)."""
    return customer_max(share, pc, n_c), sum_by(pc, share * share, n_c)


def holdings(c: Coded, p: Params) -> dict[str, FloatArray]:
    """Per-pair active strength, recent touchpoints and holding share (the share rule of BindingConfig)."""
    t, n_c, n_p, pc = c.as_of, c.n_customers, c.pair_customer.shape[0], c.pair_customer
    present = c.employee_present()
    rel_ok = present[c.rel_employee] & (c.rel_start <= t) & (c.rel_end > t) & (c.rel_strength > p.min_strength)
    strength = sum_by(c.rel_pair, np.where(rel_ok, c.rel_strength, 0.0), n_p)
    recent = (t - c.tp_time < p.window) & present[c.tp_employee]
    touches = sum_by(c.tp_pair, recent, n_p)
    s_share, s_total = _shares(strength, pc, n_c)
    t_share, t_total = _shares(touches, pc, n_c)
    has_s, has_t = s_total > 0, t_total > 0
    ws = np.where(has_s, np.where(has_t, p.w_strength, 1.0), 0.0)
    wt = np.where(has_t, np.where(has_s, 1.0 - p.w_strength, 1.0), 0.0)
    return {
        "strength": strength, "touches": touches, "strength_share": s_share, "touch_share": t_share,
        "holding": ws[pc] * s_share + wt[pc] * t_share, "rel_active": rel_ok.astype(np.float64),
        "strength_total": s_total, "touch_total": t_total,
    }


def _hierarchy(c: Coded, p: Params, rel_ok: BoolArray) -> dict[str, Any]:
    n_c = c.n_customers
    lvl = c.rel_contact_level.astype(np.int64)
    act = rel_ok & (lvl > 0)
    key = c.rel_customer * N_LEVELS + np.maximum(lvl - 1, 0)
    covered = sum_by(key, act, n_c * N_LEVELS).reshape(n_c, N_LEVELS) > 0
    suits = act & (c.rel_employee_level >= p.required_rank[lvl])
    matched = sum_by(key, suits, n_c * N_LEVELS).reshape(n_c, N_LEVELS) > 0
    succ = act & c.contact_is_successor[c.rel_contact] if c.rel_contact.size else act
    successor_covered = sum_by(c.rel_customer, succ, n_c) > 0
    has_successor = sum_by(c.contact_customer, c.contact_is_successor, n_c) > 0
    credit = np.where(matched, 1.0, np.where(covered, p.unmatched_credit, 0.0))
    total_w = p.level_weights.sum() + p.successor_weight
    score = (credit @ p.level_weights + p.successor_weight * successor_covered) / total_w
    return {"covered": covered, "matched": matched, "successor_covered": successor_covered,
            "has_successor": has_successor, "hierarchy": score}


def _presence(c: Coded, p: Params) -> dict[str, Any]:
    t, n_c = c.as_of, c.n_customers
    cust, time = c.tp_customer, c.tp_time
    counts = np.bincount(cust, minlength=n_c)
    seen = counts > 0
    days_since = np.full(n_c, np.inf)
    if time.size:  # rows are grouped by customer; the max is exact whatever the order within a second
        starts = (np.cumsum(counts) - counts)[seen]
        days_since[seen] = (t - np.maximum.reduceat(time, starts)) / DAY
    age = t - time
    recent = sum_by(cust, age < p.frequency_window, n_c)
    in_window = age < p.window
    window_counts = sum_by(cust, in_window, n_c)
    # regularity: gaps in days between consecutive distinct contact days inside the window
    wc, wd = cust[in_window], np.floor(time[in_window] / DAY)
    first = np.r_[True, (wc[1:] != wc[:-1]) | (wd[1:] != wd[:-1])] if wc.size else np.zeros(0, dtype=bool)
    dc, dd = wc[first], wd[first]
    same = dc[1:] == dc[:-1]
    gc, gap = dc[1:][same], (dd[1:] - dd[:-1])[same]
    n_gaps = np.bincount(gc, minlength=n_c)
    s1 = sum_by(gc, gap, n_c)
    s2 = sum_by(gc, gap * gap, n_c)
    ok = n_gaps >= 2
    cv = np.full(n_c, np.nan)
    mean = s1[ok] / n_gaps[ok]
    cv[ok] = np.sqrt(np.maximum(s2[ok] / n_gaps[ok] - mean * mean, 0.0)) / mean
    functions = np.zeros((n_c, N_FUNCTIONS))
    for bit in range(N_FUNCTIONS):
        functions[:, bit] = sum_by(cust, in_window & ((c.tp_functions >> bit) & 1).astype(bool), n_c)
    recency = np.where(seen, 0.5 ** (np.where(seen, days_since, 0.0) / p.half_life_days), 0.0)
    frequency = np.minimum(1.0, recent / p.target_touchpoints)
    regularity = np.where(ok, 1.0 / (1.0 + np.nan_to_num(cv, nan=0.0)), 0.0)
    return {"days_since_last": days_since, "touchpoints_recent": recent.astype(np.int64),
            "touchpoints_window": window_counts.astype(np.int64), "gap_cv": cv,
            "function_counts": functions.astype(np.int64), "presence": (recency + frequency + regularity) / 3.0}


def _ties_and_projects(c: Coded, p: Params, present: BoolArray) -> dict[str, Any]:
    t, n_c = c.as_of, c.n_customers
    tie_on = (c.tie_start <= t) & (c.tie_end > t)
    tie_w = sum_by(c.tie_customer, tie_on * p.tie_weights[c.tie_kind], n_c)
    started = c.project_start <= t
    running = started & (c.project_end > t)
    n_prj = sum_by(c.project_customer, started, n_c)
    n_active = sum_by(c.project_customer, running, n_c)
    on_team = running[c.member_project] & present[c.member_employee]
    pair_on = sum_by(c.member_pair, on_team, c.pair_customer.shape[0]) > 0
    team = sum_by(c.pair_customer, pair_on, n_c)
    return {
        "industry_ties": sum_by(c.tie_customer, tie_on, n_c).astype(np.int64),
        "industry_tie_weight": tie_w,
        "projects": n_prj.astype(np.int64), "active_projects": n_active.astype(np.int64),
        "team_size": team.astype(np.int64),
        "industry": np.minimum(1.0, tie_w / p.target_ties),
        "project": 0.5 * np.minimum(1.0, n_active / p.target_projects) + 0.5 * np.minimum(1.0, team / p.target_team),
    }


def measure(c: Coded, p: Params) -> dict[str, Any]:
    """Every per-customer binding measure and sub-score (sub-scores in [0, 1]) plus the per-pair holdings."""
    n_c, pc = c.n_customers, c.pair_customer
    h = holdings(c, p)
    out: dict[str, Any] = {"pair_holding": h["holding"]}
    held = (h["strength"] > 0) | (h["touches"] > 0)
    out["n_employees"] = sum_by(pc, held, n_c).astype(np.int64)
    out["top_share"], out["hhi"] = _concentration(h["holding"], pc, n_c)
    out["top_share_strength"], out["hhi_strength"] = _concentration(h["strength_share"], pc, n_c)
    out["top_share_touchpoints"], out["hhi_touchpoints"] = _concentration(h["touch_share"], pc, n_c)
    out["total_strength"] = h["strength_total"]
    out["backup_strength"] = h["strength_total"] - customer_max(h["strength"], pc, n_c)
    is_top = held & (h["holding"] >= out["top_share"][pc]) & (h["holding"] > 0)
    top_pairs = np.flatnonzero(is_top)
    first = top_pairs[np.r_[True, pc[top_pairs][1:] != pc[top_pairs][:-1]]] if top_pairs.size else top_pairs
    out["top_employee"] = np.full(n_c, -1, dtype=np.int64)
    out["top_employee"][pc[first]] = c.pair_employee[first]
    out["single_threaded"] = (out["n_employees"] >= 1) & (out["top_share"] >= p.single_thread_share - 1e-12)
    out.update(_hierarchy(c, p, h["rel_active"] > 0))
    out.update(_presence(c, p))
    out.update(_ties_and_projects(c, p, c.employee_present()))
    hhi_t = out["hhi_touchpoints"]
    n_eff = np.divide(1.0, hhi_t, out=np.ones_like(hhi_t), where=hhi_t > 0)
    out["breadth"] = np.minimum(1.0, out["n_employees"] / p.target_employees)
    out["spread"] = 0.5 * np.minimum(1.0, out["backup_strength"] / p.target_backup) + 0.5 * np.minimum(
        1.0, (n_eff - 1.0) / (p.target_employees - 1.0))
    subs = np.stack([out[k] for k in ("hierarchy", "breadth", "spread", "presence", "industry", "project")], axis=1)
    out["score"] = 100.0 * np.clip(subs @ p.score_weights / p.score_weights.sum(), 0.0, 1.0)
    return out
