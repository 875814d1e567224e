"""Payment rating: how late a customer pays, weighted by amount, as a letter A–D.

An invoice's payment delay is the days from its due date to its payment (negative when
early). The average payment delay is Σ(amount × delay) / Σ amount over paid invoices;
the overdue-aware delay also counts open overdue invoices at their current age, so a
customer sitting on unpaid invoices cannot score well. Brackets are fixed: A ≤ 30 days,
B ≤ 60, C ≤ 90, D beyond; no paid invoice, no rating. See docs/rating.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from relance.domain.base import RelanceModel
from relance.domain.money import Money

BRACKETS = (("A", 30), ("B", 60), ("C", 90))


class RatingBasis(StrEnum):
    PAID = "paid"
    OVERDUE_AWARE = "overdue_aware"


@dataclass(frozen=True)
class RatedInvoice:
    """What rating needs of an invoice. ``weight`` is the amount in minor units."""

    invoice_id: str
    number: str
    amount: Money
    due_at: date
    paid_at: date | None
    open_outstanding: int = 0  # for open invoices: what is still owed


class Contribution(RelanceModel):
    invoice_id: str
    number: str
    delay_days: int
    weight: str  # the amount that weighed, formatted in major units
    share: int  # percent of the score's weighted days


class Rating(RelanceModel):
    average_payment_delay_days: int | None
    overdue_aware_delay_days: int | None
    basis: RatingBasis
    letter: str | None
    drivers: list[Contribution]


def letter_for(delay_days: int | None) -> str | None:
    if delay_days is None:
        return None
    for letter, limit in BRACKETS:
        if delay_days <= limit:
            return letter
    return "D"


def weighted_days(terms: Iterable[tuple[Decimal, int]]) -> int | None:
    """The average of the days, each weighted (amounts in major units), rounded half up; None without
    weight. The rating's average payment delay, and the forecast's (``analytics.forecast``)."""
    total = weighted = Decimal(0)
    for weight, days in terms:
        total += weight
        weighted += weight * days
    if total == 0:
        return None
    return int((weighted / total).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _weighted_days(terms: list[tuple[RatedInvoice, Decimal, int]]) -> int | None:
    return weighted_days((weight, delay) for _, weight, delay in terms)


def rate(
    invoices: Iterable[RatedInvoice], today: date, basis: RatingBasis = RatingBasis.PAID, drivers: bool = True
) -> Rating:
    """The customer's delays, letter, and the invoices that drove the score most (``drivers=False``:
    the letter and delays only, for figures over many customers and days).

    Weights are amounts in major units (exact decimals), so a customer's currencies weigh
    by face value; no exchange rates are applied.
    """
    paid_terms: list[tuple[RatedInvoice, Decimal, int]] = []
    overdue_terms: list[tuple[RatedInvoice, Decimal, int]] = []
    for invoice in invoices:
        if invoice.paid_at is not None:
            delay = (invoice.paid_at - invoice.due_at).days
            paid_terms.append((invoice, invoice.amount.to_decimal(), delay))
        elif invoice.open_outstanding > 0 and invoice.due_at < today:
            owed = Money(amount=invoice.open_outstanding, currency=invoice.amount.currency)
            overdue_terms.append((invoice, owed.to_decimal(), (today - invoice.due_at).days))

    average = _weighted_days(paid_terms)
    overdue_aware = _weighted_days(paid_terms + overdue_terms) if paid_terms else None
    chosen = average if basis == RatingBasis.PAID else overdue_aware
    terms = paid_terms if basis == RatingBasis.PAID else paid_terms + overdue_terms
    return Rating(
        average_payment_delay_days=average,
        overdue_aware_delay_days=overdue_aware,
        basis=basis,
        letter=letter_for(chosen),
        drivers=_drivers(terms) if drivers and chosen is not None else [],
    )


def _drivers(terms: list[tuple[RatedInvoice, Decimal, int]], top: int = 5) -> list[Contribution]:
    """The invoices with the largest weighted delay, with their share of the total."""
    magnitude = sum((abs(weight * delay) for _, weight, delay in terms), Decimal(0))
    ranked = sorted(terms, key=lambda t: abs(t[1] * t[2]), reverse=True)[:top]
    return [
        Contribution(
            invoice_id=invoice.invoice_id,
            number=invoice.number,
            delay_days=delay,
            weight=invoice.amount.format() if invoice.paid_at else f"{weight} {invoice.amount.currency}",
            share=int((abs(weight * delay) * 100 / magnitude).quantize(Decimal(1))) if magnitude else 0,
        )
        for invoice, weight, delay in ranked
    ]


def expected_payment_date(due_at: date, average_delay_days: int | None) -> date:
    """When an open invoice is expected to be paid: due date + the customer's average delay."""
    return due_at + timedelta(days=average_delay_days or 0)
