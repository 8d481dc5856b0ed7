"""What to do with the customers of each tier: a treatment table (configuration) and plain tier names.

A tier is only useful when it says what the company does for its customers. :class:`TreatmentTable` holds one
:class:`Treatment` per tier - who looks after the customers (owner level), how often they are contacted and
what they receive (benefits) - and :data:`DEFAULT_TREATMENTS` is clvkit's own sensible default for the 5A tiers
and the key customers. The source texts name 5A tiered management (the CLV management-system book, text 000)
and the 20% key customers (张子凡 CRM notes, text 003) but give no treatment table, so every default here is
clvkit's, printed as "clvkit default, configurable" wherever it is shown.

:func:`tier_names` makes the order of the tiers unmistakable in both languages: ``A1`` is the *top* tier
("A1 (top 5%)", "A1（价值最高的 5%）"), whereas Chinese usage often reads more A's as better (5A scenic spots).
The stored tier labels stay ``A1`` ... ``A5``; only the printed names carry the rank.

Examples
--------
>>> names = tier_names(FIVE_A_LABELS, shares=FIVE_A_SHARES, lang="en")
>>> names["A1"], names["A3"], names["A5"]
('A1 (top 5%)', 'A3 (next 30%)', 'A5 (bottom 20%)')
>>> tier_names(FIVE_A_LABELS, shares=FIVE_A_SHARES, lang="zh")["A1"]
'A1（价值最高的 5%）'
>>> DEFAULT_TREATMENTS.lookup(("other", "key"))["key"].owner
'key account manager; an executive sponsor for the largest'
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, model_validator

from .._texttable import table_lines
from ..errors import InvalidInputError, Problem
from ..i18n import N_, translator
from ._config import FrozenConfig
from .value import FIVE_A_LABELS, FIVE_A_SHARES, KEY_CUSTOMER_SHARE

__all__ = ["DEFAULT_TREATMENTS", "KEY_CUSTOMER_SOURCE", "Treatment", "TreatmentTable", "format_treatments",
           "tier_names"]

#: Where the 20% key-customer rule comes from (cited in every report that applies it).
KEY_CUSTOMER_SOURCE = N_("张子凡 CRM notes (text 003): \"20%的大客户可以命名为“关键客户”\"")
#: The provenance of clvkit's own defaults, as printed under a table.
CLVKIT_DEFAULT = N_("clvkit default, configurable")

# The default tier labels of clvkit's policies and the customer kinds, translated where they are printed.
_LABEL_WORDS = (
    N_("key"), N_("other"),  # KeyCustomers
    N_("1 star"), N_("2 stars"), N_("3 stars"), N_("4 stars"), N_("5 stars"),  # StarRating
    N_("routine"), N_("costly"), N_("contested"), N_("strategic"),  # ValueCostMatrix
    N_("maintain"), N_("let_go"), N_("nurture"), N_("rescue"),  # ValueRiskMatrix
    N_("champions"), N_("loyal"), N_("potential"), N_("new"), N_("cannot_lose"), N_("at_risk"),  # RFMSegments
    N_("need_attention"), N_("hibernating"),
    N_("LEAD"), N_("CONVERTED"), N_("RETAINED"), N_("ADVOCATE"),  # LifecycleStage
    N_("member"), N_("silver"), N_("gold"),  # LoyaltyProgram
    N_("consumer"), N_("intermediary"), N_("public_interest"),  # CustomerKind (5A classes)
    N_("FiveA"), N_("KeyCustomers"),  # policy names in report titles
)

_Text = Field(min_length=1, max_length=400)


class Treatment(FrozenConfig):
    """The treatment of one tier.

    Parameters
    ----------
    tier:
        The tier label it applies to (``"A1"``, ``"key"``, a star rating's label ...).
    owner:
        Who looks after these customers (owner level), e.g. "key account manager".
    contact:
        How often and how they are contacted, e.g. "monthly visit".
    benefits:
        What they receive.

    Texts are printed as given; the defaults' English texts are translated (a text of your own in any
    language is shown unchanged).
    """

    tier: str = Field(min_length=1, max_length=100)
    owner: str = _Text
    contact: str = _Text
    benefits: str = _Text


class TreatmentTable(FrozenConfig):
    """One :class:`Treatment` per tier, with its provenance.

    Parameters
    ----------
    treatments:
        The treatments; tier labels must be unique. Tiers without a treatment are printed without one.
    source:
        Where the table comes from, printed under it (default "your configuration"; clvkit's table says
        "clvkit default, configurable").

    Examples
    --------
    >>> table = TreatmentTable(treatments=[Treatment(tier="gold", owner="key account manager",
    ...                                              contact="monthly visit", benefits="priority delivery")])
    >>> table.lookup(("silver", "gold"))["gold"].contact
    'monthly visit'
    >>> sorted(table.lookup(("silver", "gold")))
    ['gold']
    """

    treatments: tuple[Treatment, ...]
    source: str = Field(N_("your configuration"), min_length=1, max_length=400)

    @model_validator(mode="after")
    def _unique(self) -> TreatmentTable:
        tiers = [t.tier for t in self.treatments]
        repeated = sorted({t for t in tiers if tiers.count(t) > 1})
        if repeated:
            raise InvalidInputError([Problem("treatments", f"name the tiers {repeated} more than once",
                                             fix="Give one treatment per tier.")], context="TreatmentTable")
        return self

    def lookup(self, labels: Sequence[str]) -> dict[str, Treatment]:
        """The treatments of the tiers in ``labels`` that have one, by label."""
        by_tier = {t.tier: t for t in self.treatments}
        return {lab: by_tier[lab] for lab in labels if lab in by_tier}


# clvkit's default: service grows with the tier, as in the source texts' 5A and key-customer management; the
# concrete levels and frequencies are clvkit's choice (no text gives them).
DEFAULT_TREATMENTS = TreatmentTable(source=CLVKIT_DEFAULT, treatments=(
    Treatment(tier="A1", owner=N_("key account manager and an executive sponsor"),
              contact=N_("monthly visit; quarterly executive visit"),
              benefits=N_("dedicated service team, priority delivery, annual business review, first access to new "
                          "products")),
    Treatment(tier="A2", owner=N_("key account manager"), contact=N_("monthly call; visit each quarter"),
              benefits=N_("priority service, loyalty rewards, joint planning to grow into A1")),
    Treatment(tier="A3", owner=N_("account manager (shared portfolio)"), contact=N_("call each quarter"),
              benefits=N_("standard service; offers that move them up a tier")),
    Treatment(tier="A4", owner=N_("inside sales and customer service"), contact=N_("call or message twice a year"),
              benefits=N_("standard service; targeted promotions")),
    Treatment(tier="A5", owner=N_("customer service, self-service channels"),
              contact=N_("campaign messages; on request"),
              benefits=N_("standard service at low cost to serve; review whether they are worth serving")),
    Treatment(tier="key", owner=N_("key account manager; an executive sponsor for the largest"),
              contact=N_("at least monthly; executive visit each quarter"),
              benefits=N_("relationship management: priority service, business reviews, contacts at several "
                          "levels")),
    Treatment(tier="other", owner=N_("account manager or customer service"),
              contact=N_("quarterly to twice a year"), benefits=N_("standard service; offers that build value")),
    # StarRating: "five-star customers get five-star treatment" (the CLV management-system book, text 000)
    Treatment(tier="5 stars", owner=N_("key account manager and an executive sponsor"),
              contact=N_("monthly visit; quarterly executive visit"),
              benefits=N_("priority service, named account manager, loyalty rewards, executive sponsor")),
    Treatment(tier="4 stars", owner=N_("key account manager"), contact=N_("monthly call; visit each quarter"),
              benefits=N_("priority service, named account manager, loyalty rewards")),
    Treatment(tier="3 stars", owner=N_("account manager (shared portfolio)"), contact=N_("call each quarter"),
              benefits=N_("priority service, periodic offers")),
    Treatment(tier="2 stars", owner=N_("inside sales and customer service"), contact=N_("call or message twice a year"),
              benefits=N_("standard service, periodic offers")),
    Treatment(tier="1 star", owner=N_("customer service, self-service channels"),
              contact=N_("campaign messages; on request"), benefits=N_("standard service")),
))


def _pct(share: float) -> str:
    return f"{share * 100:.3g}%"


def tier_names(labels: Sequence[str], *, shares: Sequence[float] | None = None, ordered: bool = True,
               lang: str | None = None) -> dict[str, str]:
    """Printed names that carry each tier's rank: ``{"A1": "A1 (top 5%)", ...}``.

    Parameters
    ----------
    labels:
        Tier labels, lowest tier first (a :class:`~clvkit.tiering.TierAssignment`'s order).
    shares:
        Share of the customers in each tier, lowest first (a quantile cut's shares), or ``None`` when the
        tiers are not cut by shares (then the names say highest / lowest).
    ordered:
        ``False`` for tiers without an order (segments, matrix cells): the labels are returned translated.
    lang:
        ``"en"``, ``"zh"`` or ``None`` for the locale's language.

    Examples
    --------
    >>> tier_names(("other", "key"), shares=(0.8, 0.2), lang="en")
    {'other': 'other (bottom 80%)', 'key': 'key (top 20%)'}
    >>> tier_names(("C", "B", "A"), lang="zh")
    {'C': 'C（最低）', 'B': 'B（从高到低第 2 层，共 3 层）', 'A': 'A（最高）'}
    """
    tr = translator(lang)
    n = len(labels)
    if not ordered or n < 2:
        return {lab: tr(lab) for lab in labels}
    out: dict[str, str] = {}
    for k, lab in enumerate(labels):
        rank = n - k  # 1 = the top tier
        name = tr(lab)
        if shares is not None and len(shares) == n:
            share = _pct(shares[k])
            if rank == 1:
                out[lab] = tr("{tier} (top {share})", tier=name, share=share)
            elif rank == n:
                out[lab] = tr("{tier} (bottom {share})", tier=name, share=share)
            else:
                out[lab] = tr("{tier} (next {share})", tier=name, share=share)
        elif rank == 1:
            out[lab] = tr("{tier} (highest)", tier=name)
        elif rank == n:
            out[lab] = tr("{tier} (lowest)", tier=name)
        else:
            out[lab] = tr("{tier} (tier {rank} of {n} from the top)", tier=name, rank=rank, n=n)
    return out


def format_treatments(labels: Sequence[str], table: TreatmentTable | None = None, *,
                      names: dict[str, str] | None = None, ordered: bool = True, lang: str | None = None) -> str:
    """What to do with each tier, as a text table with its provenance ("" when no tier has a treatment).

    Parameters
    ----------
    labels:
        Tier labels, lowest first; shown top tier first when ``ordered``.
    table:
        The treatments (default :data:`DEFAULT_TREATMENTS`).
    names:
        Printed tier names (e.g. from :func:`tier_names`); default the labels.
    lang:
        ``"en"``, ``"zh"`` or ``None`` for the locale's language.

    Examples
    --------
    >>> print(format_treatments(("other", "key"), lang="en"))  # doctest: +NORMALIZE_WHITESPACE
    What to do with each tier
    tier   owner                                                     contact ...
    ...
    Treatments: clvkit default, configurable (TreatmentTable).
    """
    tr = translator(lang)
    table = DEFAULT_TREATMENTS if table is None else table
    found = table.lookup(labels)
    if not found:
        return ""
    order = list(reversed(labels)) if ordered else list(labels)
    shown = names or {}
    rows = [[shown.get(lab, tr(lab)), tr(found[lab].owner), tr(found[lab].contact), tr(found[lab].benefits)]
            for lab in order if lab in found]
    lines = [tr("What to do with each tier"),
             *table_lines([tr("tier"), tr("owner"), tr("contact"), tr("benefits")], rows, align="llll"),
             tr("Treatments: {source} (TreatmentTable).", source=tr(table.source))]
    return "\n".join(lines)


def five_a_provenance(shares: Sequence[float], labels: Sequence[str] = FIVE_A_LABELS, *,
                      lang: str | None = None) -> str:
    """The line under a 5A table: the shares, top tier first, and whether they are clvkit's default."""
    tr = translator(lang)
    text = "/".join(f"{s * 100:.3g}" for s in reversed(shares)) + "%"
    # i18n: a range of tiers, top to bottom (Chinese writes ranges with a full-width tilde)
    span = tr("{first}-{last}", first=labels[-1], last=labels[0])
    if tuple(shares) == FIVE_A_SHARES:
        return tr("Tier shares {shares} ({span}): clvkit default, configurable (the CLV management-system book "
                  "names 5A tiered management but gives no shares, text 000).", shares=text, span=span)
    return tr("Tier shares {shares} ({span}): your configuration.", shares=text, span=span)


def key_customer_provenance(share: float, *, lang: str | None = None) -> str:
    """The line under a key-customer table: the share and where the 20% rule comes from."""
    tr = translator(lang)
    if share == KEY_CUSTOMER_SHARE:
        return tr("Key customers are the top {share} by value: {source}.", share=_pct(share),
                  source=tr(KEY_CUSTOMER_SOURCE))
    return tr("Key customers are the top {share} by value: your configuration (the texts' rule is 20%, {source}).",
              share=_pct(share), source=tr(KEY_CUSTOMER_SOURCE))
