"""Balances and aging as of any day, from the ledger's history.

An invoice is open on day D when it was issued on or before D and what it still owed at the
end of D (its amount minus the payments and credit notes applied on or before D) is above 0.
Its bucket is its days past due on D. Amounts stay per currency; converting is ``rates``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from relance.domain.analytics.history import InvoiceHistory, MoneyHistory
from relance.domain.customers import aging

BUCKETS = ("not_due", "days_1_to_30", "days_31_to_60", "days_61_to_90", "over_90")
"""Aging buckets, in order: current (not yet due), 1–30, 31–60, 61–90 and over 90 days past due."""


@dataclass(frozen=True)
class Balances:
    """What was owed in one currency at the end of a day.

    ``due`` is the open balance not yet past due, ``overdue`` the rest of the open balance;
    ``credit`` is unapplied payments and credit notes less refunds, so
    ``outstanding = due + overdue - credit`` (the ledger's formula, docs/ledger.md).
    """

    currency: str
    due: int = 0
    overdue: int = 0
    credit: int = 0

    @property
    def open_invoices(self) -> int:
        return self.due + self.overdue

    @property
    def outstanding(self) -> int:
        return self.open_invoices - self.credit


def balances_on(invoices: Iterable[InvoiceHistory], money: Iterable[MoneyHistory], day: date) -> dict[str, Balances]:
    """Per-currency balances at the end of ``day``."""
    due: dict[str, int] = {}
    overdue: dict[str, int] = {}
    credit: dict[str, int] = {}
    for invoice in invoices:
        owed = invoice.outstanding_on(day)
        if owed > 0:
            side = overdue if invoice.due_on < day else due
            side[invoice.currency] = side.get(invoice.currency, 0) + owed
    for record in money:
        if record.on <= day:
            credit[record.currency] = credit.get(record.currency, 0) + record.credit
    return {
        c: Balances(c, due.get(c, 0), overdue.get(c, 0), credit.get(c, 0))
        for c in sorted(set(due) | set(overdue) | set(credit))
    }


def shares(amounts: Sequence[int]) -> list[Decimal]:
    """Each amount's percentage of their sum, to one decimal, adding up to exactly 100.0.

    Largest remainder: every share is rounded down to a tenth of a percent, then the tenths left
    go one each to the largest remainders (on a tie, the earlier amount). All zero: all 0.0.
    """
    if any(a < 0 for a in amounts):
        raise ValueError("shares of negative amounts")
    total = sum(amounts)
    if total == 0:
        return [Decimal("0.0")] * len(amounts)
    exact = [Fraction(a * 1000, total) for a in amounts]
    tenths = [int(e) for e in exact]
    order = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - tenths[i]), i))
    for i in order[: 1000 - sum(tenths)]:
        tenths[i] += 1
    return [Decimal(t).scaleb(-1) for t in tenths]


@dataclass(frozen=True)
class Aging:
    """Open amounts of one currency by bucket (keys of ``BUCKETS``), and their percentages."""

    currency: str
    amounts: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    @property
    def percentages(self) -> dict[str, Decimal]:
        return dict(zip(BUCKETS, shares([self.amounts[b] for b in BUCKETS]), strict=True))


def aging_on(invoices: Iterable[InvoiceHistory], day: date) -> dict[str, Aging]:
    """Per currency, what was open at the end of ``day`` by days past due on ``day``."""
    amounts: dict[str, dict[str, int]] = {}
    for invoice in invoices:
        owed = invoice.outstanding_on(day)
        if owed > 0:
            buckets = amounts.setdefault(invoice.currency, dict.fromkeys(BUCKETS, 0))
            buckets[aging(invoice.due_on, day)] += owed
    return {c: Aging(c, amounts[c]) for c in sorted(amounts)}


def aging_by(
    invoices: Iterable[InvoiceHistory], day: date, key: Callable[[InvoiceHistory], str]
) -> dict[str, dict[str, Aging]]:
    """``aging_on`` broken down by ``key`` (an account manager, a workflow, a rating, a custom field's
    value of the invoice's customer): each group's percentages add up to 100 on their own."""
    groups: dict[str, list[InvoiceHistory]] = {}
    for invoice in invoices:
        groups.setdefault(key(invoice), []).append(invoice)
    return {k: aging for k in sorted(groups) if (aging := aging_on(groups[k], day))}
