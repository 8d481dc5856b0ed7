"""``clvkit demo``: the whole job on the CDNOW sample that ships inside the package (no network).

Summary of the log, BG/NBD and Gamma-Gamma fits compared with the published estimates, a holdout check, the
most valuable customers by CLV, the 5A value tiers and key customers, direct/indirect value over a clearly
labelled *synthetic* referral layer, and the models (JSON) and scores (CSV) written to a directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._csvio import write_csv
from .._texttable import table_lines
from ..batch import CustomerSummary
from ._args import Parents, lang_option
from ._console import Console, money
from ._fitting import fit_models, holdout_check, param_block, summarize_log
from ._folder import DEMO_FILES, SummarySettings, write_folder
from ._output import check_outputs
from ._scoring import _period, print_scores, score_customers, write_scores

__all__ = ["PUBLISHED_BGNBD", "PUBLISHED_BGNBD_LL", "PUBLISHED_GAMMA_GAMMA", "register", "run"]

#: Published CDNOW estimates the demo compares with. BG/NBD: Fader, Hardie & Lee (2005), "Counting your
#: customers the easy way", Marketing Science 24(2), section 5 (time in weeks, 39-week calibration).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
#: Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", note 025, on the same
#: 946 repeat customers of the calibration period.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``demo`` to the subcommands."""
    demo = sub.add_parser("demo", parents=[parents.common, parents.valuation],
                          help="the whole job on the bundled CDNOW sample",
                          description="Summarize the bundled CDNOW sample (calibration to 1997-09-30, weeks), "
                                      "fit BG/NBD and Gamma-Gamma, compare with the published estimates, check "
                                      "the holdout, rank customers by CLV and write models and scores.")
    demo.add_argument("--output", "-o", default="clvkit-demo-output", metavar="DIR",
                      help="directory for the JSON models and scores.csv (default ./clvkit-demo-output)")
    demo.add_argument("--force", action="store_true", help="replace an existing output directory")
    lang_option(demo)
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit demo``; return the exit status."""
    from ..datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions

    output = Path(args.output)
    check_outputs([output], [], force=args.force, folder=True,
                  known=DEMO_FILES)
    _period(args.period, "W")  # a bad --period is refused before the minute of loading and fitting, not after
    tr = console.tr
    with console.step(tr("loading the bundled CDNOW sample")):
        log = load_cdnow_transactions()
    settings = SummarySettings(customer_id="customer_id", datetime="date", monetary_value="amount",
                               freq="D", time_unit="W")
    with console.step(tr("summarizing (daily periods, calibration to 1997-09-30, time in weeks)")):
        summary = summarize_log(log, settings, observation_end=CDNOW_OBSERVATION_END,
                                calibration_end=CDNOW_CALIBRATION_END, refunds="error")
    _print_sample(console, log, summary)
    bg, gg = fit_models(console, summary, with_spend=True)
    param_block(console, tr("BG/NBD purchase model (time unit: weeks)"), bg, PUBLISHED_BGNBD, PUBLISHED_BGNBD_LL,
                tr("Fader, Hardie & Lee (2005)"))
    console.print()
    param_block(console, tr("Gamma-Gamma spend model (spend per repeat purchase, dollars)"), gg, PUBLISHED_GAMMA_GAMMA,
                None, tr("Fader & Hardie (2013)"), legend=True)
    console.print()
    holdout_check(console, summary, bg)
    console.print()
    with console.step(tr("scoring")):
        scores = score_customers(summary, bg, gg, horizon=args.horizon, period=args.period,
                                 discount_rate=args.discount_rate, margin=args.margin)
    console.print(tr("Values as of the calibration end ({date}):", date=CDNOW_CALIBRATION_END.date()))
    print_scores(console, scores, args.top)
    console.print()
    key = _print_tiers(console, scores.result.clv, summary.customer_id)
    console.print()
    composite = _print_referrals(console, scores.result, np.asarray(summary.customer_id), args.top, key)
    status = write_folder(console, output, [bg, gg], None, {
        "scores.csv": lambda path: write_scores(path, scores),
        "composite_synthetic.csv": lambda path: write_csv(path, composite.to_columns()),
    }, known=DEMO_FILES)
    if status == 0:  # said only once it is true: a failed write leaves no file to point at
        console.print(tr("synthetic composite values written to {path}", path=output / "composite_synthetic.csv"))
    return status


def _print_sample(console: Console, log: dict[str, npt.NDArray[Any]], summary: CustomerSummary) -> None:
    from ..datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END

    dates = log["date"]
    calib = dates <= np.datetime64(CDNOW_CALIBRATION_END.date())
    first_day = str(dates.min())
    n = len(summary)
    repeat = int(np.count_nonzero(summary.frequency > 0))
    tr = console.tr
    console.print(tr("CDNOW sample (Fader, Hardie & Lee 2005): 1/10 of the customers who first bought in Q1 1997"))
    rows = [
        [tr("transactions"), tr("{count} records, {amount} dollars", count=f"{len(dates):,}",
                                 amount=money(float(log["amount"].sum())))],
        [tr("customers"), f"{n:,}"],
        [tr("repeat customers"), tr("{count} ({share}) with a repeat purchase in calibration", count=f"{repeat:,}",
                                     share=f"{repeat / n:.1%}")],
        [tr("calibration period"), tr("{start} to {end} ({count} records; T up to {weeks} weeks)", start=first_day,
                                       end=CDNOW_CALIBRATION_END.date(), count=f"{int(np.count_nonzero(calib)):,}",
                                       weeks=f"{summary.T.max():.2f}")],
        [tr("holdout period"), tr("to {end} ({weeks} weeks, {count} records)", end=CDNOW_OBSERVATION_END.date(),
                                   weeks=f"{summary.duration_holdout:g}", count=f"{int(np.count_nonzero(~calib)):,}")],
    ]
    for line in table_lines(["", ""], rows, align="ll", indent="  ", rule=False)[1:]:
        console.print(line)
    console.print(tr("  (calibration: the data the models learn from; holdout: later data kept aside to check them; "
                     "T: a customer's age since the first purchase)"))
    console.print()


def _print_tiers(console: Console, values: npt.NDArray[np.float64], customer_id: npt.NDArray[Any] | None
                 ) -> npt.NDArray[np.bool_]:
    """The 5A value-tier inventory (with each tier's treatment) and the key customers of the demo's CLV values.

    Returns the key-customer flags, for the value table to show next to the key influencers.
    """
    from ..tiering import FiveA, KeyCustomers, format_inventory, inventory
    from ..tiering.treatment import key_customer_provenance

    tr = console.tr
    columns: dict[str, Any] = {"value": values}
    if customer_id is not None:
        columns["customer_id"] = customer_id
    policy = FiveA()
    five_a = policy.assign(columns)
    title = tr("5A value tiers (5A分级分类管理) of the CLV above")
    console.print(format_inventory(inventory(values, five_a), title=title, lang=tr.lang, policy=policy))
    console.print()
    key_policy = KeyCustomers()
    key = key_policy.assign(columns)
    share = float(values[key.codes == 1].sum() / values.sum()) if values.sum() > 0 else 0.0
    console.print(tr("Key customers (top {top} by CLV): {count} customers holding {share} of customer equity; they "
                     "are the A1 and A2 tiers above", top=f"{key_policy.share:.0%}",
                     count=f"{int(np.count_nonzero(key.codes == 1)):,}", share=f"{share:.1%}"))
    console.print(key_customer_provenance(key_policy.share, lang=tr.lang))
    return np.asarray(key.codes == 1)


def _print_referrals(console: Console, direct: Any, customer_id: npt.NDArray[Any], top: int,
                     key_customers: npt.NDArray[np.bool_]) -> Any:
    """Direct, indirect and total value of the top customers over a SYNTHETIC referral layer.

    The CDNOW sample has no referral data; :func:`clvkit.valuation.synthetic_referrals` draws a clearly
    labelled layer so the demo can show the composite value. Returned, for the output folder to write as
    ``composite_synthetic.csv`` (never into ``scores.csv``, which stays real data).
    """
    from ..valuation import CompositeValue, format_value_table, synthetic_referrals

    graph = synthetic_referrals(customer_id, seed=2024)
    composite = CompositeValue(direct=direct, indirect=graph).evaluate(customer_id=customer_id)
    if top > 0:
        console.print(format_value_table(composite, top, lang=console.tr.lang, key_customers=key_customers))
    return composite
