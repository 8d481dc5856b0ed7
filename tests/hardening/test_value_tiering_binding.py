"""Hypothesis over the value, tiering and binding entry points: a typed error or a finite result.

Referral graphs from hostile pairs, direct value from hostile spend and retention inputs, every tiering policy
on hostile value columns and configurations, concentration measures, and the binding report on the bundled
sample folder with one table damaged.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit.binding
import clvkit.tiering
from clvkit.cli import main
from clvkit.valuation import AttributionRule, CompositeValue, DirectValue, ReferralGraph

from ._probe import probe
from .test_cli_fuzz import _judge, _no_partial_files, _run
from .test_public_api import COLUMN, HOSTILE_SCALAR

SETTINGS = settings(max_examples=40, suppress_health_check=list(HealthCheck), deadline=None)
IDS = st.lists(st.one_of(st.sampled_from(["a", "b", "c", "d", ""]), st.integers(0, 4), st.none(), st.just(np.nan)),
               min_size=0, max_size=6)
SAMPLE = Path(clvkit.binding.__file__).resolve().parent.parent / "data" / "b2b_sample"


@SETTINGS
@given(referrer=IDS, referred=IDS, on_cycle=st.sampled_from(["error", "break", "bogus"]), direct=COLUMN,
       levels=HOSTILE_SCALAR, decay=HOSTILE_SCALAR)
def test_referrals_and_composite_value(referrer: list[Any], referred: list[Any], on_cycle: str, direct: Any,
                                       levels: Any, decay: Any) -> None:
    graph = probe("referrals", lambda: ReferralGraph.from_pairs(referrer, referred, on_cycle=on_cycle))  # type: ignore[arg-type]
    if graph is None:
        return
    ids = graph.ids
    probe("referrals", lambda: CompositeValue(direct=direct, indirect=graph).evaluate(None, customer_id=ids))
    probe("referrals", lambda: graph.attribute(direct, customer_id=ids,
                                               rule=AttributionRule(max_levels=levels, decay=decay)))


@SETTINGS
@given(spend=COLUMN, time=st.one_of(st.none(), COLUMN), rate=st.one_of(st.none(), COLUMN), margin=HOSTILE_SCALAR,
       d=HOSTILE_SCALAR, horizon=st.one_of(st.none(), HOSTILE_SCALAR))
def test_direct_value(spend: Any, time: Any, rate: Any, margin: Any, d: Any, horizon: Any) -> None:
    probe("direct value", lambda: DirectValue(spend_per_period=spend, retention_time=time, retention_rate=rate,
                                              margin=margin, discount_rate=d, horizon=horizon).value())


@SETTINGS
@given(name=st.sampled_from(sorted(clvkit.tiering.POLICIES)), values=COLUMN, extra=COLUMN,
       config=st.one_of(st.none(), st.sampled_from(['{"share": 0.1}', '{"share": 2}', "{}", "[1]", '{"x": 1}', "nan",
                                                     "{" * 5000])),
       points=HOSTILE_SCALAR)
def test_tiering_policies_and_concentration(name: str, values: Any, extra: Any, config: Any, points: Any) -> None:
    policy = probe("tiering", lambda: clvkit.tiering.make_policy(name, config))
    if policy is not None:
        columns = {"value": values, "cost": extra, "risk": extra, "recency": extra, "frequency": extra,
                   "monetary": extra, "p_alive": extra}
        probe("tiering", lambda: policy.assign(**columns))
    probe("tiering", lambda: clvkit.tiering.concentration(values, points=points))
    probe("tiering", lambda: clvkit.tiering.lorenz_curve(values, points=points))
    probe("tiering", lambda: clvkit.tiering.gini(values))


@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
@given(table=st.sampled_from(["employees.csv", "contacts.csv", "relationships.csv", "touchpoints.csv",
                              "projects.csv", "project_members.csv", "industry_ties.csv", "customers.csv"]),
       damage=st.sampled_from(["empty", "header only", "garbage", "latin-1", "cut", "wrong numbers", "missing"]),
       as_of=st.one_of(st.none(), st.sampled_from(["2024-12-31", "nonsense", "1900-01-01", "9999-12-31"])))
def test_binding_report_on_a_damaged_folder(table: str, damage: str, as_of: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b2b"
        shutil.copytree(SAMPLE, folder)
        path = folder / table
        text = path.read_bytes()
        broken = {"empty": b"", "header only": text.split(b"\n", 1)[0] + b"\n", "garbage": b"\x00\x01 not a table\n",
                  "latin-1": text.replace(b"\n", "\u00e9\n".encode("latin-1"), 3), "cut": text[: len(text) // 2],
                  "wrong numbers": text.replace(b"0.", b"x."), "missing": None}[damage]
        if broken is None:
            path.unlink()
        else:
            path.write_bytes(broken)
        argv = ["binding", str(folder), "-q"] + ([] if as_of is None else ["--as-of", as_of])
        status, stderr = _run(argv)
        _judge("cli binding", status, stderr)
        _no_partial_files(folder)


def test_main_never_raises_on_unknown_commands() -> None:
    for argv in (["nonsense"], ["tier"], ["score", "--horizon", "nan"], ["--version"], []):
        status, stderr = _run(argv)
        assert "Traceback" not in stderr and status in (0, 2), (argv, status, stderr)
    assert main(["--version"]) == 0


def test_concentration_near_the_float64_maximum_is_not_nan() -> None:
    # Found by the suite: the Gini of [0, 1e308] was NaN (the cumulative sums overflowed). Every measure is
    # scale-free, so the values are rescaled: Gini (n - 1)/n = 0.5 for one customer holding everything of two.
    assert clvkit.tiering.gini([0.0, 1e308]) == 0.5
    assert clvkit.tiering.gini([1e308] * 5) == 0.0
    assert clvkit.tiering.top_share([0.0, 1e308, 1e308], 0.34) == 1.0
