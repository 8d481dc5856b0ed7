"""Composite value: total CLV = direct + indirect, per customer, with the breakdown and customer equity.

Also what the command line shows and reads: :func:`format_value_table` (the top customers' direct,
indirect and total value), :func:`read_referrals` (a referral CSV) and :func:`synthetic_referrals` (a
clearly labelled synthetic referral layer for the bundled CDNOW sample, which has none).

*客户经营* (2021): ``value = direct + indirect``. :class:`CompositeValue` takes the direct part from any
:class:`~clvkit.valuation.protocols.ValueEngine` (the formula engine
:class:`~clvkit.valuation.DirectValue`, a fitted model through ``DirectValue.from_model``, an engine
written outside clvkit), a :class:`~clvkit.valuation.ClvResult` or an array, and the indirect part from
a :class:`~clvkit.valuation.ReferralGraph` or the :class:`~clvkit.valuation.WordOfMouth` prior.

**Customer equity counts money once.** A referrer's indirect value is the referred customers' own
direct value, so adding every customer's ``direct + indirect`` counts referred revenue twice.
:attr:`CompositeResult.equity` keeps the sums apart: ``direct``, ``indirect``, their ``total`` (the
book's per-customer values added up) and the ``overlap`` (indirect value already inside some customer's
direct value); ``customer_equity = total - overlap``. For a referral graph that is the direct sum; for the
word-of-mouth prior, whose buyers are outside the base, it is the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..._csvio import parse_ids, parse_iso_time, read_rows
from ..._texttable import table_lines
from ..._validation import non_number_problem, raise_if
from ...errors import InvalidInputError, Problem
from ...i18n import N_, Translator, translator
from ..protocols import IndirectValueSource, ValueEngine, engine_values
from . import _referral_kernels as k
from .clv import ClvResult
from .direct import DirectValue, DirectValueResult
from .referral import AttributionRule, OnCycle, ReferralAttribution, ReferralGraph, _as_ids
from .word_of_mouth import InfluencerReport, InfluencerRule, influencers

__all__ = [
    "SYNTHETIC_LABEL",
    "CompositeResult",
    "CompositeValue",
    "EquitySplit",
    "format_value_table",
    "read_referrals",
    "synthetic_referrals",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EquitySplit:
    """Sums over the customers; see the module docstring for why ``customer_equity`` drops ``overlap``."""

    direct: float
    indirect: float
    total: float
    overlap: float

    @property
    def customer_equity(self) -> float:
        """The company's value of its customers: ``total - overlap`` (each unit of money once)."""
        return self.total - self.overlap


@dataclass(frozen=True, eq=False)
class CompositeResult:
    """Per-customer direct, indirect and total value.

    Attributes
    ----------
    direct, indirect, total:
        Arrays of shape (n_customers,), ``total = direct + indirect``.
    customer_id:
        Ids, or ``None``.
    indirect_source:
        ``"none"``, ``"referral graph"``, ``"word-of-mouth prior"`` or the source's class name.
    overlaps_direct:
        Whether the indirect value is already inside other customers' direct value.
    attribution:
        The referral attribution (counts, reach, per-level sums) for a graph, else ``None``.
    label:
        Description of the indirect source to show with the numbers (e.g. that it is synthetic or a prior).
    """

    direct: FloatArray
    indirect: FloatArray
    total: FloatArray
    customer_id: npt.NDArray[Any] | None
    indirect_source: str
    overlaps_direct: bool
    attribution: ReferralAttribution | None = None
    label: str = ""

    @property
    def equity(self) -> EquitySplit:
        """Sums of direct, indirect and total value, and the overlap."""
        indirect = float(self.indirect.sum())
        return EquitySplit(direct=float(self.direct.sum()), indirect=indirect, total=float(self.total.sum()),
                           overlap=indirect if self.overlaps_direct else 0.0)

    @property
    def customer_equity(self) -> float:
        """``equity.customer_equity``: each unit of money counted once."""
        return self.equity.customer_equity

    def top(self, k: int = 10, by: Literal["total", "direct", "indirect"] = "total") -> npt.NDArray[np.intp]:
        """Positions of the ``k`` customers with the largest ``by`` value (ties in row order)."""
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise InvalidInputError(f"The 'k' parameter of CompositeResult.top() must be a whole number. Got {k!r}.")
        if by not in ("total", "direct", "indirect"):
            raise InvalidInputError(f"The 'by' parameter of CompositeResult.top() must be 'total', 'direct' or "
                                    f"'indirect'. Got {by!r}.")
        order: npt.NDArray[np.intp] = np.argsort(-getattr(self, by), kind="stable")[: max(int(k), 0)]
        return order

    def to_columns(self, rule: InfluencerRule | None = None) -> dict[str, npt.NDArray[Any]]:
        """Columns for a table or CSV: ids, direct, indirect, total, indirect/direct, referrals and reach (with
        a graph) and the key-influencer flag; each of shape (n_customers,)."""
        rep = self.influencers(rule)
        n = self.direct.shape[0]
        cols: dict[str, npt.NDArray[Any]] = {
            "customer_id": self.customer_id if self.customer_id is not None else np.arange(n),
            "direct_value": self.direct, "indirect_value": self.indirect, "total_value": self.total,
            "indirect_ratio": rep.ratio}
        if self.attribution is not None:
            cols["referrals"] = self.attribution.referrals
            cols["reach"] = self.attribution.reach
        cols["key_influencer"] = rep.is_key
        return cols

    def influencers(self, rule: InfluencerRule | None = None) -> InfluencerReport:
        """Referrers ranked by indirect value and by indirect/direct; key influencers flagged."""
        referrals = self.attribution.referrals if self.attribution is not None else None
        return influencers(self.direct, self.indirect, self.customer_id, referrals=referrals, rule=rule)


@dataclass(frozen=True, eq=False)
class CompositeValue:
    """Total value = direct + indirect for every customer (itself a :class:`ValueEngine` of the total).

    Parameters
    ----------
    direct:
        A value engine (``value(summary)``), a :class:`~clvkit.valuation.ClvResult`, a
        :class:`~clvkit.valuation.DirectValueResult` or an array of shape (n_customers,).
    indirect:
        ``None`` (default: no indirect value), a :class:`~clvkit.valuation.ReferralGraph`, a
        :class:`~clvkit.valuation.WordOfMouth` prior or another :class:`IndirectValueSource`.
    attribution:
        The :class:`~clvkit.valuation.AttributionRule` for a referral graph (default: one level, the
        whole value).

    Examples
    --------
    A made-up example (clvkit's, not from the texts) in the direct + indirect formula of 姚群峰《客户经营》2021
    (text 002): A (1,000 a year for 5 years) referred B (2,000 x 3) and C (500 x 2):

    >>> from clvkit.valuation import DirectValue, ReferralGraph
    >>> dv = DirectValue(spend_per_period=[1000, 2000, 500], retention_time=[5, 3, 2], customer_id=["A", "B", "C"])
    >>> g = ReferralGraph.from_pairs(["A", "A"], ["B", "C"])
    >>> res = CompositeValue(direct=dv, indirect=g).evaluate()
    >>> res.direct.tolist(), res.indirect.tolist(), res.total.tolist()
    ([5000.0, 6000.0, 1000.0], [7000.0, 0.0, 0.0], [12000.0, 6000.0, 1000.0])
    >>> res.equity
    EquitySplit(direct=12000.0, indirect=7000.0, total=19000.0, overlap=7000.0)
    >>> res.customer_equity
    12000.0
    """

    direct: Any
    indirect: Any = None
    attribution: AttributionRule | None = None

    def __post_init__(self) -> None:
        if self.attribution is not None and not isinstance(self.indirect, ReferralGraph):
            raise InvalidInputError("CompositeValue: 'attribution' applies to a ReferralGraph as the indirect part.")
        if self.indirect is not None and not isinstance(self.indirect, IndirectValueSource):
            raise InvalidInputError(f"CompositeValue: 'indirect' must be a ReferralGraph, a WordOfMouth prior or "
                                    f"another source with indirect_value(); got {type(self.indirect).__name__}.")

    def evaluate(self, summary: Any = None, *, customer_id: Any = None) -> CompositeResult:
        """Direct, indirect and total value of each customer.

        Parameters
        ----------
        summary:
            The customers, passed to a direct engine (``None`` for one that holds its own inputs).
        customer_id:
            Ids of the customers (default: the direct part's or the summary's); needed to join a
            referral graph.

        Raises
        ------
        InvalidInputError
            For a direct part of the wrong kind or shape, missing ids with a referral graph, and every
            referral attribution error (negative values, graph customers without a value).
        """
        direct, ids = _direct(self.direct, summary)
        if customer_id is not None:
            ids = np.asarray(customer_id)
        if ids is not None and ids.shape != direct.shape:
            if ids.ndim != 1:
                raise InvalidInputError(f"CompositeValue: customer_id must have shape {direct.shape}, one id per "
                                        f"value. Got shape {ids.shape}.")
            raise InvalidInputError(f"CompositeValue: {ids.shape[0]} customer ids for {direct.shape[0]} values.")
        src = self.indirect
        attribution = None
        if src is None:
            indirect, name, overlaps, label = np.zeros_like(direct), "none", False, ""
        elif isinstance(src, ReferralGraph):
            if ids is None:
                raise InvalidInputError("CompositeValue needs customer ids to join the direct values with the referral "
                                        "graph: pass customer_id= or a summary with customer_id.")
            attribution = src.attribute(direct, ids, self.attribution)
            indirect, name, overlaps, label = attribution.indirect, "referral graph", True, src.label
        else:
            indirect = np.asarray(src.indirect_value(direct, ids), dtype=np.float64)
            if indirect.shape != direct.shape or not np.all(np.isfinite(indirect)):
                raise InvalidInputError(f"CompositeValue: {type(src).__name__}.indirect_value() must return finite "
                                        f"values of shape {direct.shape}.")
            name = "word-of-mouth prior" if type(src).__name__ == "WordOfMouth" else type(src).__name__
            overlaps, label = bool(src.overlaps_direct), str(getattr(src, "label", ""))
        with np.errstate(over="ignore"):
            total = direct + indirect
            sums = np.array([np.abs(direct).sum(), np.abs(indirect).sum(), np.abs(total).sum()])
        if not np.all(np.isfinite(total)) or not np.all(np.isfinite(sums)):
            raise InvalidInputError("CompositeValue: the values are too large to add up as float64 (a total or a "
                                    "sum over the customers overflows); express them in a larger unit.")
        return CompositeResult(direct=direct, indirect=indirect, total=total, customer_id=ids,
                               indirect_source=name, overlaps_direct=overlaps, attribution=attribution, label=label)

    def value(self, summary: Any = None) -> FloatArray:
        """Total value per customer (``evaluate(summary).total``)."""
        return self.evaluate(summary).total


def _direct(direct: Any, summary: Any) -> tuple[FloatArray, npt.NDArray[Any] | None]:
    where = "CompositeValue"
    if isinstance(direct, (ClvResult, DirectValueResult)):
        values = direct.clv if isinstance(direct, ClvResult) else direct.value
        return np.asarray(values, dtype=np.float64), direct.customer_id
    if isinstance(direct, DirectValue):
        res = direct.evaluate(summary)
        return res.value, res.customer_id
    if isinstance(direct, ValueEngine):
        return engine_values(direct, summary, where=where), getattr(summary, "customer_id", None)
    try:
        raw = np.asarray(direct)
        refused = non_number_problem(raw, "direct") is not None  # strings, booleans, complex, datetimes
        values = raw if refused else raw.astype(np.float64)
    except (TypeError, ValueError):
        refused = True
    if refused:
        raise InvalidInputError(f"CompositeValue: 'direct' must be a value engine, a ClvResult, a DirectValueResult "
                                f"or an array of real numbers (no strings, booleans or complex numbers). Got "
                                f"{type(direct).__name__}.") from None
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise InvalidInputError("CompositeValue: the direct values must be a finite one-dimensional array.")
    return values, getattr(summary, "customer_id", None)


# ---------------------------------------------------------------------------------------------- table
# Names of the indirect-value sources, translated where they are printed.
_SOURCE_WORDS = (N_("none"), N_("referral graph"), N_("word-of-mouth prior"))


def _synthetic_label(label: str, tr: Translator) -> str:
    """``label`` in the reader's language when it is :data:`SYNTHETIC_LABEL`'s text, else unchanged."""
    head, _, tail = SYNTHETIC_LABEL.partition("{seed}")
    if label.startswith(head) and label.endswith(tail):
        seed = label[len(head):len(label) - len(tail)]
        if seed.lstrip("-").isdigit():
            return tr(SYNTHETIC_LABEL, seed=seed)
    return label


def influencer_rule_text(rule: InfluencerRule | None = None, *, lang: str | None = None) -> str:
    """The key-influencer rule as a sentence, with its provenance (clvkit's default or your configuration).

    Examples
    --------
    >>> print(influencer_rule_text(InfluencerRule(min_ratio=2.0, top_share=None, min_referrals=3), lang="en"))
    Key influencer (KOL/KOC) = at least 3 referrals and value brought in through referrals at least 2 x the customer's own direct value (InfluencerRule: your configuration).
    """  # noqa: E501
    tr = translator(lang)
    rule = InfluencerRule() if rule is None else rule
    source = tr("clvkit default, configurable") if rule == InfluencerRule() else tr("your configuration")
    ratio = "" if rule.min_ratio is None else f"{rule.min_ratio:g}"
    share = "" if rule.top_share is None else f"{rule.top_share * 100:.3g}%"
    n = rule.min_referrals
    if rule.top_share is None:
        return tr.plural("Key influencer (KOL/KOC) = at least {n} referral and value brought in through referrals at "
                         "least {ratio} x the customer's own direct value (InfluencerRule: {source}).",
                         "Key influencer (KOL/KOC) = at least {n} referrals and value brought in through referrals at "
                         "least {ratio} x the customer's own direct value (InfluencerRule: {source}).",
                         n, ratio=ratio, source=source)
    if rule.min_ratio is None:
        return tr.plural("Key influencer (KOL/KOC) = at least {n} referral and among the top {share} of referrers by "
                         "value brought in through referrals (InfluencerRule: {source}).",
                         "Key influencer (KOL/KOC) = at least {n} referrals and among the top {share} of referrers by "
                         "value brought in through referrals (InfluencerRule: {source}).",
                         n, share=share, source=source)
    return tr.plural("Key influencer (KOL/KOC) = at least {n} referral, value brought in through referrals at least "
                     "{ratio} x the customer's own direct value, and among the top {share} of referrers by it "
                     "(InfluencerRule: {source}).",
                     "Key influencer (KOL/KOC) = at least {n} referrals, value brought in through referrals at least "
                     "{ratio} x the customer's own direct value, and among the top {share} of referrers by it "
                     "(InfluencerRule: {source}).", n, ratio=ratio, share=share, source=source)


def format_value_table(result: CompositeResult, top: int = 10, *, by: Literal["total", "direct", "indirect"] = "total",
                       rule: InfluencerRule | None = None, lang: str | None = None, legend: bool = True,
                       key_customers: Any = None) -> str:
    """The top customers' direct, indirect and total value as a text table, with customer equity.

    The last column flags the key *influencers* (KOL/KOC: customers who bring in much through referrals, by
    ``rule``), which is not the same as a key customer (top 20% by value); the rule is printed under the
    table with a legend of the columns (``legend=False`` leaves both out). ``key_customers`` (booleans, one per
    customer, e.g. ``KeyCustomers().assign(...).codes == 1``) adds a "key customer" column so the two flags
    are not confused. ``lang`` is ``"en"``, ``"zh"`` or ``None`` for the locale's language.

    Examples
    --------
    >>> res = CompositeResult(direct=np.array([5000.0, 6000.0]), indirect=np.array([6000.0, 0.0]),
    ...                       total=np.array([11000.0, 6000.0]), customer_id=np.array(["A", "B"]),
    ...                       indirect_source="referral graph", overlaps_direct=True)
    >>> print(format_value_table(res, 2, lang="en", legend=False))
    Top 2 customers by total value (indirect value from: referral graph)
      customer  direct value  indirect value  total value  indirect / direct  key influencer
      --------  ------------  --------------  -----------  -----------------  --------------
      A             5,000.00        6,000.00    11,000.00               1.20  yes
      B             6,000.00            0.00     6,000.00               0.00
    Customer equity 11,000.00 = direct 11,000.00 (indirect 6,000.00 is referred customers' own value, counted once)
    """
    tr = translator(lang)
    rep = influencers(result.direct, result.indirect, result.customer_id,
                      referrals=None if result.attribution is None else result.attribution.referrals, rule=rule)
    idx = result.top(top, by).tolist()
    counts = None if result.attribution is None else result.attribution.referrals
    key = None if key_customers is None else np.asarray(key_customers, dtype=bool)
    if key is not None and key.shape != result.direct.shape:
        raise InvalidInputError(f"format_value_table(): 'key_customers' needs one flag per customer, shape "
                                f"{result.direct.shape}; got shape {key.shape}.")
    head = [tr("customer"), tr("direct value"), tr("indirect value"), tr("total value"), tr("indirect / direct")] + \
        ([tr("referrals")] if counts is not None else []) + \
        ([tr("key customer (top 20%)")] if key is not None else []) + [tr("key influencer")]
    body = []
    for i in idx:
        cid = str(result.customer_id[i].item() if hasattr(result.customer_id[i], "item") else result.customer_id[i]) \
            if result.customer_id is not None else str(i)
        r = rep.ratio[i]
        body.append([cid, f"{result.direct[i]:,.2f}", f"{result.indirect[i]:,.2f}", f"{result.total[i]:,.2f}",
                     "inf" if math.isinf(r) else f"{r:,.2f}"] + ([f"{counts[i]:,}"] if counts is not None else [])
                    + ([tr("yes") if key[i] else ""] if key is not None else []) + [tr("yes") if rep.is_key[i] else ""])
    lines = [_synthetic_label(result.label, tr)] if result.label else []
    source = tr(result.indirect_source)
    titles = {"total": tr("Top {count} customers by total value (indirect value from: {source})", count=len(idx),
                          source=source),
              "direct": tr("Top {count} customers by direct value (indirect value from: {source})", count=len(idx),
                           source=source),
              "indirect": tr("Top {count} customers by indirect value (indirect value from: {source})",
                             count=len(idx), source=source)}
    lines.append(titles[by])
    # the flags last and left-aligned; the dashed rule under the header like every other table of the reports
    flags = 2 if key is not None else 1
    lines += table_lines(head, body, align="l" + "r" * (len(head) - 1 - flags) + "l" * flags, indent="  ")
    eq = result.equity
    amounts = {"equity": f"{eq.customer_equity:,.2f}", "direct": f"{eq.direct:,.2f}", "indirect": f"{eq.indirect:,.2f}"}
    if result.overlaps_direct:
        lines.append(tr("Customer equity {equity} = direct {direct} (indirect {indirect} is referred customers' own "
                        "value, counted once)", **amounts))
    else:
        lines.append(tr("Customer equity {equity} = direct {direct} + indirect {indirect} (buyers outside the base)",
                        **amounts))
    if legend:
        lines += [tr("Legend:"),
                  tr("  direct value = the customer's own value (CLV: the value of their expected future purchases); "
                     "indirect value = value brought in through the customers they referred"),
                  tr("  key customer = among the top 20% by their own value; key influencer = a customer whose "
                     "referrals bring in much value (KOL/KOC), whatever their own value"),
                  tr("  customer equity = the value of all customers together"),
                  influencer_rule_text(rep.rule, lang=lang)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- command-line inputs
SYNTHETIC_LABEL = N_("SYNTHETIC referral layer (random, seed {seed}): not observed data, for demonstration only")


def synthetic_referrals(customer_ids: Any, seed: int = 0, *, referred_share: float = 0.3,
                        tail: float = 1.5) -> ReferralGraph:
    """A *synthetic* referral graph over real customers, for demonstrations (the CDNOW sample has none).

    Customers are taken to be in acquisition order (as the CDNOW ids are). Each customer after the first
    is referred with probability ``referred_share`` by an earlier customer, chosen in proportion to a
    Pareto(``tail``) "influence" weight, so a few customers refer many and most refer none; the graph has
    no cycle. The referral time is the referred customer's position. :attr:`ReferralGraph.label` says the
    graph is synthetic; show it wherever the results are shown.

    Parameters
    ----------
    customer_ids:
        Unique ids, shape (n_customers,), in acquisition order.
    seed:
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same graph.
    referred_share:
        Probability that a customer was referred, in [0, 1].
    tail:
        Pareto shape of the influence weights (> 0; smaller is more concentrated).

    Examples
    --------
    >>> g = synthetic_referrals(list(range(1, 1001)), seed=7)
    >>> g.label.startswith("SYNTHETIC"), g.n_customers, 250 < g.n_referrals < 350
    (True, 1000, True)
    """
    if not 0.0 <= float(referred_share) <= 1.0 or not float(tail) > 0.0:
        raise InvalidInputError(f"synthetic_referrals() needs referred_share in [0, 1] and tail > 0. Got "
                                f"{referred_share!r} and {tail!r}.")
    problems: list[Problem | None] = []
    ids = _as_ids(customer_ids, "customer_ids", problems)
    raise_if(problems, "synthetic_referrals()")
    parent = k.random_referrals(ids.shape[0], float(referred_share), float(tail), np.random.default_rng(seed))
    child = np.flatnonzero(parent >= 0)
    return ReferralGraph.from_pairs(ids[parent[child]], ids[child], child.astype(np.float64), customer_ids=ids,
                                    label=SYNTHETIC_LABEL.format(seed=seed))


def read_referrals(path: str | Path, *, customer_ids: Any = None, on_cycle: OnCycle = "error",
                   delimiter: str = ",", label: str | None = None) -> ReferralGraph:
    """Read a referral CSV with a header naming ``referrer``, ``referred`` and optionally ``time``.

    Ids in canonical whole-number form (``0``, ``17``; no sign or leading zero) are read as integers, so
    they match the integer ids the command line reads from a transaction log; others stay text. ``time``
    is numbers or ISO 8601 dates/times (with an offset: converted to UTC). Other columns are ignored;
    ``.gz`` files are read compressed.

    Parameters
    ----------
    path:
        The file.
    customer_ids, on_cycle:
        As for :meth:`ReferralGraph.from_pairs`.
    delimiter:
        Field separator.
    label:
        Kept on the graph (default: the file name).

    Raises
    ------
    InvalidInputError
        For a missing column, short rows, bad times or bytes that are not UTF-8 (naming the lines), and every
        graph problem of
        :meth:`ReferralGraph.from_pairs` (rows counted from 0 after the header).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "referrals.csv"
    >>> _ = path.write_text("referrer,referred,time\\n1,2,2024-01-05\\n1,3,2024-02-01\\n")
    >>> g = read_referrals(path, customer_ids=[1, 2, 3, 4])
    >>> g.n_customers, g.n_referrals, g.ids.dtype.name, g.label
    (4, 2, 'int64', 'referrals.csv')
    """
    p = Path(path)
    where = f"Referral file {p.name}"
    rows = read_rows(p, where=where, delimiter=delimiter)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    missing = [c for c in ("referrer", "referred") if c not in header]
    if missing:
        raise InvalidInputError([Problem(c, "is not a column of the file", fix=f"The header is {header}.")
                                 for c in missing], context=where)
    cols = [header.index("referrer"), header.index("referred")] + ([header.index("time")] if "time" in header else [])
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(f.strip() for f in r)]
    short = [line for line, r in body if len(r) <= max(cols)]
    if short:
        raise InvalidInputError([Problem("referred", f"rows have fewer than {max(cols) + 1} fields",
                                         rows=tuple(short[:5]), n_bad=len(short), row_label="line")], context=where)
    values = [[r[c].strip() for _, r in body] for c in cols]
    ids = [parse_ids(v) for v in values[:2]]
    time = _read_times(values[2], [line for line, _ in body], where) if len(cols) == 3 else None
    try:
        return ReferralGraph.from_pairs(ids[0], ids[1], time, customer_ids=customer_ids, on_cycle=on_cycle,
                                        label=p.name if label is None else label)
    except InvalidInputError as exc:
        if not exc.problems:
            raise
        raise InvalidInputError(exc.problems, context=f"{where} (rows counted from 0 after the header)") from None


def _read_times(values: list[str], lines: list[int], where: str) -> npt.NDArray[Any]:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        pass
    out: list[np.datetime64] = []
    bad: list[int] = []
    for v, line in zip(values, lines, strict=True):
        try:
            out.append(np.datetime64(parse_iso_time(v), "us"))
        except ValueError:
            bad.append(line)
    if bad:
        raise InvalidInputError([Problem("time", "is neither a number nor an ISO 8601 date/time", rows=tuple(bad[:5]),
                                         n_bad=len(bad), row_label="line")], context=where)
    return np.array(out, dtype="datetime64[us]")
