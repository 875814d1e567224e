"""Ratings as of any day, their distribution and their movement from one month end to the next.

A customer's rating on day D is ``relance.domain.rating.rate`` over their invoices issued by D:
paid ones at the day they were fully settled, open ones at what they owed on D.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from relance.domain.analytics.history import InvoiceHistory, Month
from relance.domain.money import Money
from relance.domain.rating import RatedInvoice, RatingBasis, rate

UNRATED = "unrated"
LETTERS = ("A", "B", "C", "D", UNRATED)


def rated_invoice(invoice: InvoiceHistory, day: date) -> RatedInvoice:
    """What rating needs of ``invoice``, as it stood at the end of ``day``."""
    return RatedInvoice(
        invoice_id=invoice.id,
        number=invoice.id,
        amount=Money(amount=invoice.amount, currency=invoice.currency),
        due_at=invoice.due_on,
        paid_at=invoice.paid_on(day),
        open_outstanding=invoice.outstanding_on(day),
    )


def by_customer(invoices: Iterable[InvoiceHistory], day: date) -> dict[str, list[InvoiceHistory]]:
    """The invoices issued by ``day``, per customer."""
    customers: dict[str, list[InvoiceHistory]] = {}
    for invoice in invoices:
        if invoice.issued_on <= day:
            customers.setdefault(invoice.customer_id, []).append(invoice)
    return customers


def ratings_on(
    invoices: Iterable[InvoiceHistory], day: date, basis: RatingBasis = RatingBasis.PAID
) -> dict[str, str | None]:
    """Each customer's letter on ``day`` (None: no invoice paid yet); customers invoiced by then only."""
    return {
        customer: rate([rated_invoice(i, day) for i in listed], day, basis, drivers=False).letter
        for customer, listed in sorted(by_customer(invoices, day).items())
    }


@dataclass(frozen=True)
class RatingFall:
    customer_id: str
    before: str
    after: str


@dataclass(frozen=True)
class RatingMonth:
    """The ratings at the end of ``month``: how many customers per letter (``UNRATED`` for none), how
    many moved from a letter to another since the end of the month before, and who fell."""

    month: Month
    distribution: dict[str, int]
    moves: dict[tuple[str, str], int]
    fell: tuple[RatingFall, ...]


def movement(month: Month, before: Mapping[str, str | None], after: Mapping[str, str | None]) -> RatingMonth:
    """From the letters at two month ends. A customer new in ``after`` is in the distribution, not in
    the moves; a fall is a worse letter (A best, D worst) than a letter they had."""
    distribution = dict.fromkeys(LETTERS, 0)
    moves: dict[tuple[str, str], int] = {}
    fell = []
    for customer, letter in sorted(after.items()):
        now = letter or UNRATED
        distribution[now] += 1
        if customer not in before:
            continue
        then = before[customer] or UNRATED
        if then != now:
            moves[(then, now)] = moves.get((then, now), 0) + 1
        if letter is not None and then != UNRATED and letter > then:
            fell.append(RatingFall(customer, then, letter))
    return RatingMonth(month, distribution, moves, tuple(fell))


def ratings_by_month(
    invoices: Iterable[InvoiceHistory], last: Month, months: int = 12, basis: RatingBasis = RatingBasis.PAID
) -> list[RatingMonth]:
    """``movement`` for each of the ``months`` months ending with ``last``, oldest first."""
    listed = list(invoices)
    result = []
    before = ratings_on(listed, next(iter(last.back(months))).previous().last_day, basis)
    for month in last.back(months):
        after = ratings_on(listed, month.last_day, basis)
        result.append(movement(month, before, after))
        before = after
    return result
