"""The customers slipping over a week: those whose overdue balance grew most.

A customer's overdue on day D is what their invoices past due on D still owed at the end of D
(as in ``receivables.balances_on``). Over the week ending ``last`` (a Sunday for the weekly digest)
a customer slips in a currency when their overdue at the end of ``last`` is above their overdue at
the end of the day before the week began (``last`` − 7 days): new invoices fallen past due, or
nothing paid on those already late. They rank by how much it grew (largest first); on a tie, the
larger fall of their rating over the same days comes first (A → C is a fall of two; no rating on
either day, or a rating that held or rose, is none); then by customer id, so the order is stable.
Amounts in two currencies are never compared without a rate: each currency has its own ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from relance.domain.analytics.history import InvoiceHistory
from relance.domain.analytics.ratings import ratings_on
from relance.domain.rating import RatingBasis

TOP = 5
WEEK = timedelta(days=7)


def overdue_on(invoices: Iterable[InvoiceHistory], day: date) -> dict[tuple[str, str], int]:
    """What each customer's invoices past due on ``day`` still owed at its end, per (customer, currency)."""
    overdue: dict[tuple[str, str], int] = {}
    for invoice in invoices:
        owed = invoice.outstanding_on(day)
        if owed > 0 and invoice.due_on < day:
            key = (invoice.customer_id, invoice.currency)
            overdue[key] = overdue.get(key, 0) + owed
    return overdue


def rating_fall(before: str | None, after: str | None) -> int:
    """How many letters worse ``after`` is than ``before`` (A best, D worst); 0 when either is missing."""
    if before is None or after is None or after <= before:
        return 0
    return ord(after) - ord(before)


@dataclass(frozen=True)
class Slip:
    """One customer's overdue in one currency, at the end of the week before and of this one."""

    customer_id: str
    currency: str
    overdue_before: int
    overdue_after: int
    rating_before: str | None
    rating_after: str | None

    @property
    def growth(self) -> int:
        return self.overdue_after - self.overdue_before

    @property
    def rating_fall(self) -> int:
        return rating_fall(self.rating_before, self.rating_after)


def slipping(
    invoices: Iterable[InvoiceHistory], last: date, basis: RatingBasis = RatingBasis.PAID, top: int = TOP
) -> list[Slip]:
    """The ``top`` customers slipping most in each currency over the 7 days ending ``last``, ordered
    by currency, then rank (growth, then rating fall, then customer id)."""
    listed = list(invoices)
    start = last - WEEK
    before, after = overdue_on(listed, start), overdue_on(listed, last)
    grown = [key for key, amount in after.items() if amount > before.get(key, 0)]
    if not grown:
        return []
    letters_before, letters_after = ratings_on(listed, start, basis), ratings_on(listed, last, basis)
    slips = [
        Slip(
            customer_id=customer,
            currency=currency,
            overdue_before=before.get((customer, currency), 0),
            overdue_after=after[(customer, currency)],
            rating_before=letters_before.get(customer),
            rating_after=letters_after.get(customer),
        )
        for customer, currency in grown
    ]
    slips.sort(key=lambda s: (s.currency, -s.growth, -s.rating_fall, s.customer_id))
    ranked: list[Slip] = []
    for currency in sorted({s.currency for s in slips}):
        ranked += [s for s in slips if s.currency == currency][:top]
    return ranked
